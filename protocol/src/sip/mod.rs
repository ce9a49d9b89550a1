//! SIP (RFC 3261) as SIP trunks carry SMS: `MESSAGE` requests (RFC 3428)
//! and their responses, sans-IO.
//!
//! Why here: many contact centers buy numbers from SIP trunk providers
//! that deliver texts as SIP MESSAGE rather than SMPP. The parser takes
//! hostile input from the network, so it is strict where RFC 4475 §3.1.2
//! says a message must be refused, lenient where §3.1.1 says an odd but
//! valid one must be accepted, and never panics; the RFC's torture
//! messages are its test vectors (`protocol/tests/sip_vectors/`).
//!
//! - [`message`]: start line, header fields, body, stream framing, writer.
//! - [`typed`]: `From`/`To`/`Contact`, `Via`, `CSeq`, URI and date checks.
//! - [`digest`]: digest authentication (MD5, SHA-256, `qop=auth`).
//! - [`rp`]: `application/vnd.3gpp.sms` bodies: RP-DATA and its TPDU.
//! - [`transaction`]: non-INVITE client and server transactions (timers E, F, J, K).

pub mod digest;
#[cfg(feature = "mm7")]
pub mod imdn;
pub mod message;
pub mod rp;
pub mod transaction;
pub mod typed;

pub use message::{HeaderField, SipMessage, SmsBody, StartLine, frame_len};
pub use typed::{CSeq, NameAddr, Via};

/// Why a SIP message is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SipError {
    /// No empty line ends the header section.
    #[error("the message ends inside its header section")]
    Truncated,
    /// The header section is not UTF-8.
    #[error("the header section is not UTF-8")]
    NotUtf8,
    /// Header section over the limit.
    #[error("the header section is over 64 KiB or 256 fields")]
    HeadersTooLarge,
    /// A body over the limit.
    #[error("the body is over 1 MiB")]
    BodyTooLarge,
    /// A start line that is neither a request line nor a status line.
    #[error("bad start line {0:?}")]
    BadStartLine(String),
    /// Not SIP/2.0.
    #[error("unsupported SIP version {0:?}")]
    UnsupportedVersion(String),
    /// A status code outside 100–699 or not three digits.
    #[error("bad status code {0:?}")]
    BadStatusCode(String),
    /// A malformed Request-URI.
    #[error("bad Request-URI {0}")]
    BadUri(String),
    /// A malformed header field.
    #[error("bad header field {0}")]
    BadHeader(String),
    /// A missing, repeated, negative, oversized or unsatisfied
    /// `Content-Length`.
    #[error("bad Content-Length: {0}")]
    BadContentLength(String),
    /// A stream message without `Content-Length`.
    #[error("a message on a stream transport must carry Content-Length")]
    NoContentLength,
    /// The request line's method differs from `CSeq`'s.
    #[error("the request is {line} but its CSeq says {cseq}")]
    CSeqMismatch {
        /// The request line's method.
        line: String,
        /// `CSeq`'s method.
        cseq: String,
    },
    /// A required header field is missing.
    #[error("the {0} header field is missing")]
    Missing(&'static str),
    /// A body this gateway cannot read as a text message.
    #[error("the body cannot be read as a text message: {0}")]
    BadBody(String),
}
