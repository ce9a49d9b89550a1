//! What went wrong decoding a PDU, where, and what the peer should be told.
//!
//! A decode error always names the field and the byte offset within the PDU,
//! so a log line is enough to find the bad octet in a capture, and it carries
//! the `command_status` a `generic_nack` (or an error response) should use.

use super::{CommandId, CommandStatus};

/// The kind of defect found.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeErrorKind {
    /// `command_length` is below the 16-octet header.
    #[error("command_length {0} is shorter than the 16-octet header")]
    LengthBelowHeader(u32),
    /// `command_length` exceeds the configured maximum.
    #[error("command_length {length} exceeds the maximum of {max}")]
    LengthAboveMaximum {
        /// The claimed length.
        length: u32,
        /// The configured maximum.
        max: usize,
    },
    /// The body ended before a mandatory field did.
    #[error("the PDU ends inside this field")]
    Truncated,
    /// A C-octet string has no NUL within its maximum length.
    #[error("no NUL terminator within {max} octets")]
    Unterminated {
        /// The field's maximum length, NUL included.
        max: usize,
    },
    /// An octet string is longer than the field allows.
    #[error("{len} octets, more than the {max} allowed")]
    TooLong {
        /// The length found.
        len: usize,
        /// The maximum.
        max: usize,
    },
    /// The command id is unknown.
    #[error("unknown command_id 0x{0:08x}")]
    UnknownCommandId(u32),
    /// Octets follow the last field of a PDU that takes no TLVs.
    #[error("{0} unexpected octets after the last field")]
    TrailingOctets(usize),
    /// A TLV's header or value runs past the end of the PDU.
    #[error("TLV 0x{tag:04x} claims {len} octets but {available} remain")]
    TlvOverrun {
        /// The tag.
        tag: u16,
        /// The claimed value length.
        len: u16,
        /// What was left.
        available: usize,
    },
    /// A value outside the field's allowed set.
    #[error("invalid value {0}")]
    InvalidValue(u32),
}

/// A PDU that could not be decoded: where, why, and the status to answer with.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}: field `{field}` at offset {offset}: {kind}", command_label(*.command_id))]
pub struct DecodeError {
    /// The defect.
    pub kind: DecodeErrorKind,
    /// The field being read (`"command_length"`, `"source_addr"`, `"tlvs"` …).
    pub field: &'static str,
    /// Offset of the field within the PDU (the header starts at 0).
    pub offset: usize,
    /// The status a peer should get in its `generic_nack` or error response.
    pub status: CommandStatus,
    /// The PDU's command id, once the header was read.
    pub command_id: Option<CommandId>,
    /// The PDU's sequence number, once the header was read.
    pub sequence_number: Option<u32>,
}

fn command_label(id: Option<CommandId>) -> String {
    match id {
        Some(id) => id.to_string(),
        None => "PDU".to_owned(),
    }
}

impl DecodeError {
    pub(crate) fn new(
        kind: DecodeErrorKind,
        field: &'static str,
        offset: usize,
        status: CommandStatus,
    ) -> Self {
        DecodeError {
            kind,
            field,
            offset,
            status,
            command_id: None,
            sequence_number: None,
        }
    }

    /// Whether the byte stream can no longer be framed after this error, so the
    /// connection must be closed rather than answered with a `generic_nack`.
    pub fn is_fatal_to_connection(&self) -> bool {
        matches!(
            self.kind,
            DecodeErrorKind::LengthBelowHeader(_) | DecodeErrorKind::LengthAboveMaximum { .. }
        )
    }
}
