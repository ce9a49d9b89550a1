//! MM7 (3GPP TS 23.140 clause 8, SOAP): the XML of the SOAP part of the
//! messages between the gateway, acting as a VASP, and a carrier's MMSC.
//!
//! Sans-IO like the rest of the crate: [`decode`] takes the SOAP part's
//! bytes and returns an [`Mm7Envelope`]; [`encode`] does the reverse. The
//! multipart/related packaging that carries this part beside the media parts
//! is not here (see the `mime` module); content is referred to by its `href`
//! (`cid:…`), as the SOAP part does.
//!
//! The XML itself is read and written by quick-xml's event API, not by hand:
//! escaping, namespaces and entities are where hand-written XML goes wrong.
//! On top of it:
//! - [`namespace`]: which MM7 schema (REL-5-MM7-1-0 … REL-6-MM7-1-4) a
//!   message is in, and the SOAP 1.1 envelope namespace;
//! - `tree`: the bounded reader (size, depth and element caps; no DTDs);
//! - `decode` / `encode`: the messages from and to XML;
//! - [`message`]: one struct per request and response, the SOAP Fault, and
//!   [`required_elements`];
//! - `status`: status codes and what each means for a retry;
//! - `values`: addresses, recipients, content references, enumerations.

pub mod body;
mod decode;
mod encode;
mod error;
pub mod message;
pub mod namespace;
mod status;
pub(crate) mod tree;
mod values;

pub use decode::decode;
pub use encode::encode;
pub use error::{Mm7DecodeError, Mm7EncodeError};
pub use message::{
    CancelReq, CancelRsp, DeliverReq, DeliverRsp, DeliveryReportReq, DeliveryReportRsp, ErrorRsp,
    FaultDetail, Mm7Envelope, Mm7Message, Mm7MessageKind, ReadReplyReq, ReadReplyRsp, ReplaceReq,
    ReplaceRsp, SoapFault, StatusRsp, SubmitReq, SubmitRsp, required_elements,
};
pub use namespace::{Mm7Version, SOAP_ENVELOPE_NS};
pub use status::{Mm7Status, Mm7StatusCode, StatusClass};
pub use tree::{MAX_DEPTH, MAX_ELEMENTS, MAX_INPUT};
pub use values::{
    ChargedParty, ContentRef, MessageClass, Mm7Address, Mm7AddressKind, Mm7Priority, MmStatus,
    Recipients, SenderIdentification,
};

#[cfg(test)]
mod tests;
