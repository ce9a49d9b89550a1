//! SMPP 3.4 and 5.0: the PDU model, its decoder and encoder, and the framer.
//!
//! The model keeps every numeric field typed (named values plus an `Other`
//! escape, so a carrier's private value survives a round trip) and every string
//! or octet field as a [`bytes::Bytes`] slice of the frame it came from: decoding
//! a `submit_sm` copies no message body, and re-encoding gives back the bytes
//! that were read, unknown TLVs included.

mod command_id;
mod command_status;
mod decode;
mod encode;
mod error;
mod field;
mod frame;
mod multi;
mod octets;
pub mod pdu;
pub mod session;
mod tlv;
mod values;

#[cfg(feature = "codec")]
pub mod codec;
#[cfg(feature = "json")]
pub mod json;
#[cfg(feature = "json")]
pub use json::JsonError;

pub use command_id::CommandId;
pub use command_status::CommandStatus;
pub use error::{DecodeError, DecodeErrorKind};
pub use frame::{DEFAULT_MAX_PDU_LEN, FrameCheck, Framer, HEADER_LEN, check_frame};
pub use octets::{COctetString, OctetStringError, ShortMessage};
pub use pdu::{Body, Pdu};
pub use tlv::{Tlv, TlvError, TlvKind, TlvTag, TlvValue, Tlvs};
pub use values::{
    Alphabet, DataCoding, EsmClass, InterfaceVersion, MessageState, MessageType, MessagingMode,
    Npi, PriorityFlag, RegisteredDelivery, SmscReceipt, Ton,
};

#[cfg(test)]
mod interop;
#[cfg(test)]
mod tests;
