//! A schema walker over toml's spanned document tree that collects every error.
//!
//! Why not `#[derive(Deserialize)]`: serde stops at the first error, and after
//! deserializing the spans are gone, so the semantic checks (an unknown
//! carrier named by a number, a duplicate name) could not say where they are.
//! Instead the decoders in the sibling modules read [`toml::de::DeTable`] —
//! the parser's own tree, where every key and value keeps its byte span — with
//! the small vocabulary here: a [`TableReader`] hands out the keys a decoder
//! asks for, remembers them, and reports every other key as unknown at the
//! key's own position; a [`Node`] is one value with its span and key path and
//! reports type errors at the value. Nothing stops at an error: a failed value
//! becomes `None`, the decoder goes on reading the remaining keys, and only the
//! final assembly of a struct gives up. One pass therefore yields every
//! unknown key, type error, bad value and broken reference at once.

use std::collections::HashSet;
use std::ffi::OsString;
use std::fmt;
use std::ops::Range;

use toml::Spanned;
use toml::de::{DeTable, DeValue};

use crate::config::error::{SourceMap, SpannedError};

/// Where a value sits in the document, for messages: `carriers[1].window`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct KeyPath {
    segments: Vec<Segment>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Key(String),
    Index(usize),
}

impl KeyPath {
    /// The path of `key` inside this table.
    pub fn key(&self, key: &str) -> KeyPath {
        let mut segments = self.segments.clone();
        segments.push(Segment::Key(key.to_owned()));
        KeyPath { segments }
    }

    /// The path of element `index` of this array.
    pub fn index(&self, index: usize) -> KeyPath {
        let mut segments = self.segments.clone();
        segments.push(Segment::Index(index));
        KeyPath { segments }
    }
}

impl fmt::Display for KeyPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, segment) in self.segments.iter().enumerate() {
            match segment {
                Segment::Index(index) => write!(f, "[{index}]")?,
                Segment::Key(key) => {
                    if i > 0 {
                        f.write_str(".")?;
                    }
                    let bare = !key.is_empty()
                        && key
                            .chars()
                            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
                    if bare {
                        f.write_str(key)?;
                    } else {
                        write!(f, "{key:?}")?;
                    }
                }
            }
        }
        Ok(())
    }
}

/// How secrets written as `env:NAME` are looked up.
pub(crate) type EnvLookup<'e> = &'e dyn Fn(&str) -> Option<OsString>;

/// The state of one decoding pass: the errors found so far, the source (to
/// name the line of an earlier definition) and the environment.
pub(crate) struct Ctx<'s, 'e> {
    errors: Vec<SpannedError>,
    source: &'s SourceMap<'s>,
    env: EnvLookup<'e>,
}

impl<'s, 'e> Ctx<'s, 'e> {
    pub fn new(source: &'s SourceMap<'s>, env: EnvLookup<'e>) -> Self {
        Ctx {
            errors: Vec::new(),
            source,
            env,
        }
    }

    /// Records an error at `span` about the key at `path`.
    pub fn error(&mut self, span: Range<usize>, path: &KeyPath, message: impl Into<String>) {
        self.errors.push(SpannedError {
            span,
            key_path: path.to_string(),
            message: message.into(),
        });
    }

    /// Records an error whose key path is already rendered.
    pub fn error_at_path(
        &mut self,
        span: Range<usize>,
        key_path: &str,
        message: impl Into<String>,
    ) {
        self.errors.push(SpannedError {
            span,
            key_path: key_path.to_owned(),
            message: message.into(),
        });
    }

    /// The 1-based line a span starts on, to point at an earlier definition.
    pub fn line_of(&self, span: &Range<usize>) -> usize {
        self.source.position(span.start).0
    }

    pub fn env(&self, name: &str) -> Option<OsString> {
        (self.env)(name)
    }

    pub fn has_errors(&self) -> bool {
        !self.errors.is_empty()
    }

    pub fn into_errors(self) -> Vec<SpannedError> {
        self.errors
    }
}

/// One value of the document with its span and key path.
#[derive(Clone)]
pub(crate) struct Node<'a, 'i> {
    value: &'a DeValue<'i>,
    span: Range<usize>,
    path: KeyPath,
}

/// "a string", "an integer", … for type errors.
fn type_name(value: &DeValue<'_>) -> &'static str {
    match value {
        DeValue::String(_) => "a string",
        DeValue::Integer(_) => "an integer",
        DeValue::Float(_) => "a float",
        DeValue::Boolean(_) => "a boolean",
        DeValue::Datetime(_) => "a date-time",
        DeValue::Array(_) => "an array",
        DeValue::Table(_) => "a table",
    }
}

impl<'a, 'i> Node<'a, 'i> {
    pub fn new(value: &'a Spanned<DeValue<'i>>, path: KeyPath) -> Self {
        Node {
            value: value.get_ref(),
            span: value.span(),
            path,
        }
    }

    pub fn path(&self) -> &KeyPath {
        &self.path
    }

    pub fn span(&self) -> Range<usize> {
        self.span.clone()
    }

    /// Records an error about this value, at the value.
    pub fn error(&self, cx: &mut Ctx<'_, '_>, message: impl Into<String>) {
        cx.error(self.span(), &self.path, message);
    }

    /// Records "expected X, found Y".
    pub fn wrong_type(&self, cx: &mut Ctx<'_, '_>, expected: &str) {
        self.error(
            cx,
            format!("expected {expected}, found {}", type_name(self.value)),
        );
    }

    pub fn string(&self, cx: &mut Ctx<'_, '_>) -> Option<&'a str> {
        match self.value {
            DeValue::String(s) => Some(s.as_ref()),
            _ => {
                self.wrong_type(cx, "a string");
                None
            }
        }
    }

    /// An integer of any size TOML allows, for the caller to range-check.
    pub fn integer(&self, cx: &mut Ctx<'_, '_>) -> Option<i128> {
        match self.value {
            DeValue::Integer(i) => match i128::from_str_radix(i.as_str(), i.radix()) {
                Ok(v) => Some(v),
                Err(_) => {
                    self.error(cx, "integer is out of range");
                    None
                }
            },
            _ => {
                self.wrong_type(cx, "an integer");
                None
            }
        }
    }

    /// The integer if this value is one, without reporting anything otherwise.
    pub fn as_integer(&self) -> Option<i128> {
        match self.value {
            DeValue::Integer(i) => i128::from_str_radix(i.as_str(), i.radix()).ok(),
            _ => None,
        }
    }

    /// The string if this value is one, without reporting anything otherwise.
    pub fn as_str(&self) -> Option<&'a str> {
        match self.value {
            DeValue::String(s) => Some(s.as_ref()),
            _ => None,
        }
    }

    pub fn boolean(&self, cx: &mut Ctx<'_, '_>) -> Option<bool> {
        match self.value {
            DeValue::Boolean(b) => Some(*b),
            _ => {
                self.wrong_type(cx, "a boolean (true or false)");
                None
            }
        }
    }

    pub fn table(&self, cx: &mut Ctx<'_, '_>) -> Option<TableReader<'a, 'i>> {
        match self.value {
            DeValue::Table(table) => Some(TableReader {
                table,
                span: self.span(),
                path: self.path.clone(),
                used: HashSet::new(),
                known: Vec::new(),
            }),
            _ => {
                self.wrong_type(cx, "a table");
                None
            }
        }
    }

    /// The elements of an array, each with its `[i]` path.
    pub fn array(&self, cx: &mut Ctx<'_, '_>) -> Option<Vec<Node<'a, 'i>>> {
        match self.value {
            DeValue::Array(items) => Some(
                items
                    .iter()
                    .enumerate()
                    .map(|(i, item)| Node::new(item, self.path.index(i)))
                    .collect(),
            ),
            _ => {
                self.wrong_type(cx, "an array");
                None
            }
        }
    }

    /// An array of tables (`[[carriers]]` sections or an inline array of
    /// inline tables). Elements that are not tables are reported and skipped.
    pub fn table_array(&self, cx: &mut Ctx<'_, '_>, header: &str) -> Vec<TableReader<'a, 'i>> {
        let DeValue::Array(items) = self.value else {
            self.wrong_type(cx, &format!("an array of tables (`[[{header}]]` sections)"));
            return Vec::new();
        };
        items
            .iter()
            .enumerate()
            .filter_map(|(i, item)| Node::new(item, self.path.index(i)).table(cx))
            .collect()
    }
}

/// A table being decoded: hands out the keys asked for and reports the rest.
pub(crate) struct TableReader<'a, 'i> {
    table: &'a DeTable<'i>,
    span: Range<usize>,
    path: KeyPath,
    /// Keys already handed out.
    used: HashSet<&'a str>,
    /// Every key asked for, present or not: the table's schema, for "did you
    /// mean" hints.
    known: Vec<&'static str>,
}

impl<'a, 'i> TableReader<'a, 'i> {
    /// The document's root table.
    pub fn root(root: &'a Spanned<DeTable<'i>>) -> Self {
        TableReader {
            table: root.get_ref(),
            span: root.span(),
            path: KeyPath::default(),
            used: HashSet::new(),
            known: Vec::new(),
        }
    }

    pub fn path(&self) -> &KeyPath {
        &self.path
    }

    /// The table's span: its `[header]`, or the `{ … }` of an inline table.
    pub fn span(&self) -> Range<usize> {
        self.span.clone()
    }

    /// The value of `key`, if present; marks it as used.
    pub fn take(&mut self, key: &'static str) -> Option<Node<'a, 'i>> {
        if !self.known.contains(&key) {
            self.known.push(key);
        }
        let (k, v) = self.table.get_key_value(key)?;
        self.used.insert(k.get_ref().as_ref());
        Some(Node::new(v, self.path.key(key)))
    }

    /// Records that a required key is missing, at the table's position.
    pub fn missing(&self, cx: &mut Ctx<'_, '_>, key: &str, message: impl Into<String>) {
        cx.error(self.span(), &self.path.key(key), message);
    }

    /// A key that must be present, parsed by `parse`.
    pub fn required<T>(
        &mut self,
        cx: &mut Ctx<'_, '_>,
        key: &'static str,
        parse: impl FnOnce(&Node<'a, 'i>, &mut Ctx<'_, '_>) -> Option<T>,
    ) -> Option<T> {
        match self.take(key) {
            Some(node) => parse(&node, cx),
            None => {
                self.missing(cx, key, format!("missing required key `{key}`"));
                None
            }
        }
    }

    /// A key that may be absent: `Some(None)` when absent, `None` when present
    /// but invalid (already reported).
    pub fn optional<T>(
        &mut self,
        cx: &mut Ctx<'_, '_>,
        key: &'static str,
        parse: impl FnOnce(&Node<'a, 'i>, &mut Ctx<'_, '_>) -> Option<T>,
    ) -> Option<Option<T>> {
        match self.take(key) {
            Some(node) => parse(&node, cx).map(Some),
            None => Some(None),
        }
    }

    /// A key with a default value: `None` only when present but invalid.
    pub fn or_default<T>(
        &mut self,
        cx: &mut Ctx<'_, '_>,
        key: &'static str,
        default: T,
        parse: impl FnOnce(&Node<'a, 'i>, &mut Ctx<'_, '_>) -> Option<T>,
    ) -> Option<T> {
        self.optional(cx, key, parse).map(|v| v.unwrap_or(default))
    }

    /// Every key not handed out yet, in document order, marked as used: for
    /// tables whose keys are names (`[templates]`, `[lines.messages]`).
    pub fn rest(&mut self) -> Vec<(&'a str, Range<usize>, Node<'a, 'i>)> {
        let mut entries: Vec<_> = self
            .table
            .iter()
            .filter(|(k, _)| !self.used.contains(k.get_ref().as_ref()))
            .map(|(k, v)| {
                let key: &'a str = k.get_ref().as_ref();
                (key, k.span(), Node::new(v, self.path.key(key)))
            })
            .collect();
        entries.sort_by_key(|(_, span, _)| span.start);
        for (key, _, _) in &entries {
            self.used.insert(key);
        }
        entries
    }

    /// Reports every key that was not handed out as unknown, at the key.
    pub fn finish(self, cx: &mut Ctx<'_, '_>) {
        self.finish_with_hint(cx, |_| None);
    }

    /// Like [`finish`](Self::finish), with `hint` adding a sentence about a
    /// particular unknown key (for example the protocol it belongs to).
    pub fn finish_with_hint(self, cx: &mut Ctx<'_, '_>, hint: impl Fn(&str) -> Option<String>) {
        for (key, value) in self.table.iter() {
            let name: &str = key.get_ref().as_ref();
            if self.used.contains(name) {
                continue;
            }
            let mut message = format!("unknown key `{name}`");
            if let Some(hint) = hint(name) {
                message.push_str(": ");
                message.push_str(&hint);
            } else if let Some(close) = closest(name, &self.known) {
                message.push_str(&format!("; did you mean `{close}`?"));
            }
            // A key of a dotted or header form (`a.b = 1`, `[a.b]`) may have an
            // empty key span in odd documents; fall back to the value's.
            let span = if key.span().is_empty() {
                value.span()
            } else {
                key.span()
            };
            cx.error(span, &self.path.key(name), message);
        }
    }
}

/// The known key closest to `name` by edit distance, if close enough to be a
/// typo.
fn closest<'k>(name: &str, known: &[&'k str]) -> Option<&'k str> {
    let limit = match name.chars().count() {
        0..=3 => 1,
        4..=8 => 2,
        _ => 3,
    };
    known
        .iter()
        .map(|k| (edit_distance(name, k), *k))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k)
}

/// Levenshtein distance over characters.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    let mut current = vec![0; b.len() + 1];
    for (i, ca) in a.chars().enumerate() {
        current[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(ca != *cb);
            current[j + 1] = substitution.min(previous[j + 1] + 1).min(current[j] + 1);
        }
        std::mem::swap(&mut previous, &mut current);
    }
    previous[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_paths_render_like_toml() {
        let path = KeyPath::default().key("carriers").index(1).key("window");
        assert_eq!(path.to_string(), "carriers[1].window");
        let path = KeyPath::default().key("templates").key("a.b").key("en");
        assert_eq!(path.to_string(), "templates.\"a.b\".en");
        assert_eq!(KeyPath::default().to_string(), "");
    }

    #[test]
    fn edit_distance_and_suggestions() {
        assert_eq!(edit_distance("window", "window"), 0);
        assert_eq!(edit_distance("windw", "window"), 1);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(closest("windw", &["binds", "window"]), Some("window"));
        assert_eq!(closest("url", &["binds", "window"]), None);
    }
}
