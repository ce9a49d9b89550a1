//! What went wrong reading or writing an MM7 SOAP message.
//!
//! Decode errors say what was wrong in terms of the message (which element,
//! which value), so a log line is enough to answer the peer with a 2007
//! "Message format corrupt" and to find the defect in a capture. They never
//! quote more than a short excerpt of the input.

/// Why an MM7 SOAP message could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Mm7DecodeError {
    /// The input is larger than the decoder accepts.
    #[error("the SOAP part is {len} octets, more than the {max} accepted")]
    TooLarge {
        /// The input's length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// The input is not UTF-8 (the only encoding read).
    #[error("the SOAP part is not UTF-8 (declared encoding: {declared})")]
    NotUtf8 {
        /// The XML declaration's `encoding`, or `none`.
        declared: String,
    },
    /// The XML is not well-formed.
    #[error("malformed XML at octet {position}: {message}")]
    Xml {
        /// Where the reader stopped.
        position: u64,
        /// The reader's explanation.
        message: String,
    },
    /// The input ended inside an element.
    #[error("the XML ends inside <{0}>")]
    Truncated(String),
    /// There is no element at all.
    #[error("no XML element in the input")]
    Empty,
    /// A document type declaration: SOAP forbids them, and they are how
    /// entity-expansion attacks start.
    #[error("a DOCTYPE is not allowed in a SOAP message")]
    Doctype,
    /// An entity reference other than the five XML predefines or a
    /// character reference.
    #[error("unknown entity &{0};")]
    UnknownEntity(String),
    /// A character XML 1.0 does not allow (e.g. a control character, or one
    /// given as a character reference).
    #[error("character U+{0:04X} is not allowed in XML")]
    InvalidChar(u32),
    /// Elements nest deeper than the limit.
    #[error("elements nest more than {0} deep")]
    TooDeep(usize),
    /// More elements than the limit.
    #[error("more than {0} elements")]
    TooManyElements(usize),
    /// An element uses a namespace prefix that was never declared.
    #[error("undeclared namespace prefix `{0}`")]
    UnboundPrefix(String),
    /// The root element is not a SOAP 1.1 `Envelope`.
    #[error("the root element is <{0}>, not a SOAP 1.1 Envelope")]
    NotSoapEnvelope(String),
    /// The envelope has no `Body`, or an empty one.
    #[error("the SOAP envelope has no body element")]
    MissingBody,
    /// The body element is not an MM7 message.
    #[error("<{0}> is not an MM7 message")]
    UnknownMessage(String),
    /// The body element is in a namespace that is no MM7 schema.
    #[error("namespace `{0}` is not an MM7 schema namespace")]
    UnknownNamespace(String),
    /// No MM7 namespace on the body element nor on the `TransactionID`.
    #[error("the message is in no MM7 namespace")]
    MissingNamespace,
    /// A required element is missing.
    #[error("<{message}> has no <{element}>")]
    MissingElement {
        /// The message (or block) it belongs in.
        message: &'static str,
        /// The element.
        element: &'static str,
    },
    /// An element's text is not a valid value for it.
    #[error("<{element}> has the invalid value {value:?}")]
    InvalidValue {
        /// The element (or `element@attribute`).
        element: &'static str,
        /// The text found (at most 64 characters of it).
        value: String,
    },
    /// A SOAP Fault that carries no MM7 namespace anywhere: a plain SOAP
    /// stack's answer, e.g. to a request it could not parse.
    #[error("SOAP Fault {code}: {string}")]
    PlainFault {
        /// `faultcode`.
        code: String,
        /// `faultstring`.
        string: String,
    },
}

/// Why an MM7 message could not be written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Mm7EncodeError {
    /// A required element has no value.
    #[error("<{message}> needs <{element}>")]
    MissingElement {
        /// The message.
        message: &'static str,
        /// The element.
        element: &'static str,
    },
    /// A value holds a character XML 1.0 cannot carry, even escaped.
    #[error("<{element}> holds U+{code:04X}, which XML cannot carry")]
    InvalidChar {
        /// The element (or `element@attribute`).
        element: &'static str,
        /// The character.
        code: u32,
    },
    /// An address of the Rel-5 text form anywhere but `SenderAddress`.
    #[error("<{0}> needs a Number, RFC2822Address or ShortCode address")]
    UntypedAddress(&'static str),
    /// The writer failed (it writes to memory, so this is not expected).
    #[error("XML writer: {0}")]
    Writer(String),
}

/// At most 64 characters of `value`, for error messages.
pub(super) fn excerpt(value: &str) -> String {
    value.chars().take(64).collect()
}
