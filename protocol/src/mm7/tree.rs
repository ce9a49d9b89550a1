//! The bounded XML reader: the SOAP part's text into a small element tree,
//! through quick-xml's namespace-aware event reader.
//!
//! A tree (rather than decoding straight off the event stream) lets the
//! message decoder look elements up by local name, so a peer's element order,
//! prefixes and whitespace do not matter and unknown elements cost nothing.
//! The price is bounded up front: at most [`MAX_INPUT`] octets,
//! [`MAX_DEPTH`] levels and [`MAX_ELEMENTS`] elements, built with an explicit
//! stack (no recursion), so hostile input costs at most linear work in a
//! bounded input. An MM7 SOAP part is a few kilobytes; the content travels in
//! the other MIME parts.
//!
//! Only what MM7 needs is kept: each element's namespace URI, local name,
//! attributes by local name (namespace declarations dropped) and its own text
//! (entities and character references resolved, XML 1.0 line ends
//! normalized). DTDs are refused, and so is any character XML 1.0 does not
//! allow, so everything decoded can be encoded again.

use quick_xml::NsReader;
use quick_xml::XmlVersion;
use quick_xml::events::{BytesStart, Event};
use quick_xml::name::ResolveResult;

use super::error::{Mm7DecodeError, excerpt};

/// The largest SOAP part read, in octets.
pub const MAX_INPUT: usize = 512 * 1024;
/// The deepest element nesting read (the envelope is level 1; MM7's deepest
/// path, Envelope/Body/Fault/detail/RSErrorRsp/Status/StatusCode, is 7).
pub const MAX_DEPTH: usize = 32;
/// The most elements read.
pub const MAX_ELEMENTS: usize = 4096;

/// One element of the tree.
#[derive(Debug, Default)]
pub(crate) struct XmlElement {
    /// The namespace URI the element's name resolved to (`None`: unqualified).
    pub ns: Option<String>,
    /// The local name.
    pub name: String,
    /// Attributes by local name, values normalized.
    pub attrs: Vec<(String, String)>,
    /// The element's own text (not its children's), untrimmed.
    pub text: String,
    /// Child elements, in document order.
    pub children: Vec<XmlElement>,
}

impl XmlElement {
    /// The first child with this local name.
    pub fn child(&self, name: &str) -> Option<&XmlElement> {
        self.children.iter().find(|c| c.name == name)
    }

    /// Every child with this local name.
    pub fn children_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a XmlElement> {
        self.children.iter().filter(move |c| c.name == name)
    }

    /// The first child element, whatever its name.
    pub fn first_child(&self) -> Option<&XmlElement> {
        self.children.first()
    }

    /// An attribute's value by local name.
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The element's text without surrounding whitespace.
    pub fn value(&self) -> &str {
        self.text.trim_matches(is_xml_space)
    }

    /// The text of the element and all its descendants, in document order,
    /// trimmed (for `Details`, whose schema type is "any content").
    pub fn deep_text(&self) -> String {
        let mut out = String::new();
        let mut stack = vec![self];
        while let Some(e) = stack.pop() {
            out.push_str(&e.text);
            stack.extend(e.children.iter().rev());
        }
        out.trim_matches(is_xml_space).to_owned()
    }
}

/// The XML white space characters.
pub(super) fn is_xml_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r')
}

/// Whether XML 1.0 allows the character in a document.
pub(super) fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

fn check_chars(text: &str) -> Result<(), Mm7DecodeError> {
    match text.chars().find(|c| !is_xml_char(*c)) {
        Some(c) => Err(Mm7DecodeError::InvalidChar(u32::from(c))),
        None => Ok(()),
    }
}

/// Reads the SOAP part into a tree and returns its root element.
pub(crate) fn parse(input: &[u8]) -> Result<XmlElement, Mm7DecodeError> {
    if input.len() > MAX_INPUT {
        return Err(Mm7DecodeError::TooLarge {
            len: input.len(),
            max: MAX_INPUT,
        });
    }
    let input = input.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(input);
    let text = std::str::from_utf8(input).map_err(|_| Mm7DecodeError::NotUtf8 {
        declared: declared_encoding(input),
    })?;
    let mut reader = NsReader::from_str(text);
    let mut stack: Vec<XmlElement> = Vec::new();
    let mut root: Option<XmlElement> = None;
    let mut elements = 0usize;
    loop {
        let (resolved, event) = match reader.read_resolved_event() {
            Ok((resolved, event)) => (resolved_ns(resolved)?, event),
            Err(e) => {
                return Err(Mm7DecodeError::Xml {
                    position: reader.error_position(),
                    message: excerpt(&e.to_string()),
                });
            }
        };
        match event {
            Event::Start(start) => {
                let element = open(&start, resolved, &stack, root.is_some(), &mut elements)?;
                stack.push(element);
            }
            Event::Empty(start) => {
                let element = open(&start, resolved, &stack, root.is_some(), &mut elements)?;
                close(element, &mut stack, &mut root);
            }
            Event::End(_) => {
                // quick-xml checks that end names match their start.
                if let Some(element) = stack.pop() {
                    close(element, &mut stack, &mut root);
                }
            }
            Event::Text(t) => {
                let content = t.xml10_content();
                push_text(&mut stack, &content)?;
            }
            Event::CData(c) => {
                let content = c.xml10_content();
                push_text(&mut stack, &content)?;
            }
            Event::GeneralRef(r) => {
                let c = match r.resolve_char_ref() {
                    Ok(Some(c)) => c,
                    Ok(None) => predefined_entity(&r)
                        .ok_or_else(|| Mm7DecodeError::UnknownEntity(excerpt(&r)))?,
                    Err(e) => {
                        return Err(Mm7DecodeError::Xml {
                            position: reader.buffer_position(),
                            message: excerpt(&e.to_string()),
                        });
                    }
                };
                if !is_xml_char(c) {
                    return Err(Mm7DecodeError::InvalidChar(u32::from(c)));
                }
                let mut buf = [0u8; 4];
                push_text(&mut stack, c.encode_utf8(&mut buf))?;
            }
            Event::DocType(_) => return Err(Mm7DecodeError::Doctype),
            Event::Comment(_) | Event::PI(_) | Event::Decl(_) => {}
            Event::Eof => {
                if let Some(open) = stack.last() {
                    return Err(Mm7DecodeError::Truncated(excerpt(&open.name)));
                }
                return root.ok_or(Mm7DecodeError::Empty);
            }
        }
    }
}

/// The namespace of an element's name; an undeclared prefix is an error.
fn resolved_ns(resolved: ResolveResult<'_>) -> Result<Option<String>, Mm7DecodeError> {
    match resolved {
        ResolveResult::Bound(ns) => Ok(Some(ns.0.to_owned())),
        ResolveResult::Unbound => Ok(None),
        ResolveResult::Unknown(prefix) => Err(Mm7DecodeError::UnboundPrefix(excerpt(&prefix))),
    }
}

/// A new element for a start (or empty-element) tag, within the limits.
fn open(
    start: &BytesStart<'_>,
    ns: Option<String>,
    stack: &[XmlElement],
    root_done: bool,
    elements: &mut usize,
) -> Result<XmlElement, Mm7DecodeError> {
    if root_done && stack.is_empty() {
        return Err(Mm7DecodeError::Xml {
            position: 0,
            message: "an element after the root element".to_owned(),
        });
    }
    if stack.len() >= MAX_DEPTH {
        return Err(Mm7DecodeError::TooDeep(MAX_DEPTH));
    }
    *elements += 1;
    if *elements > MAX_ELEMENTS {
        return Err(Mm7DecodeError::TooManyElements(MAX_ELEMENTS));
    }
    let mut attrs = Vec::new();
    for attr in start.attributes() {
        let attr = attr.map_err(|e| Mm7DecodeError::Xml {
            position: 0,
            message: excerpt(&e.to_string()),
        })?;
        let key = attr.key;
        if key.0 == "xmlns" || key.0.starts_with("xmlns:") {
            continue;
        }
        let value = attr
            .normalized_value(XmlVersion::Implicit1_0)
            .map_err(|e| Mm7DecodeError::Xml {
                position: 0,
                message: excerpt(&e.to_string()),
            })?;
        check_chars(&value)?;
        attrs.push((key.local_name().into_inner().to_owned(), value.into_owned()));
    }
    Ok(XmlElement {
        ns,
        name: start.local_name().into_inner().to_owned(),
        attrs,
        text: String::new(),
        children: Vec::new(),
    })
}

/// Attaches a finished element to its parent, or makes it the root.
fn close(element: XmlElement, stack: &mut [XmlElement], root: &mut Option<XmlElement>) {
    match stack.last_mut() {
        Some(parent) => parent.children.push(element),
        None => *root = Some(element),
    }
}

/// Adds text to the open element; outside the root only white space may be.
fn push_text(stack: &mut [XmlElement], text: &str) -> Result<(), Mm7DecodeError> {
    check_chars(text)?;
    match stack.last_mut() {
        Some(open) => {
            open.text.push_str(text);
            Ok(())
        }
        None if text.chars().all(is_xml_space) => Ok(()),
        None => Err(Mm7DecodeError::Xml {
            position: 0,
            message: "text outside the root element".to_owned(),
        }),
    }
}

fn predefined_entity(name: &str) -> Option<char> {
    match name {
        "amp" => Some('&'),
        "lt" => Some('<'),
        "gt" => Some('>'),
        "quot" => Some('"'),
        "apos" => Some('\''),
        _ => None,
    }
}

/// The `encoding` of an XML declaration at the start of the input, for the
/// error message when the input is not UTF-8.
fn declared_encoding(input: &[u8]) -> String {
    let head = &input[..input.len().min(200)];
    let head = String::from_utf8_lossy(head);
    head.split_once("encoding=")
        .and_then(|(_, rest)| {
            let quote = rest.chars().next().filter(|q| *q == '"' || *q == '\'')?;
            rest[1..].split(quote).next().map(excerpt)
        })
        .unwrap_or_else(|| "none".to_owned())
}
