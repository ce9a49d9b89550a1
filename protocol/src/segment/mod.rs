//! Turning an encoded text into the SMS parts to submit: User Data Header handling and
//! splitting.
//!
//! The module is the boundary between text (which knows characters, tables and capacities) and
//! SMPP (which knows PDUs): it produces, per part, the exact `short_message` octets, whether
//! `esm_class` needs UDHI, and the SAR values when a carrier wants TLVs instead of a UDH.
//! Reassembly of inbound parts lives elsewhere; this module only offers the UDH parser it needs.

pub mod split;
pub mod udh;

pub use split::{
    ESM_CLASS_UDHI, Gsm7Form, MAX_PAYLOAD_OCTETS, MAX_SEGMENTS, Sar, Segment, Segments, SplitError,
    SplitOptions, split, split_text,
};
pub use udh::{Concat, InformationElement, Udh, UdhEncodeError, UdhError, parse_udh};
