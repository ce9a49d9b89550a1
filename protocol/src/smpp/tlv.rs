//! Optional parameters (TLVs) of SMPP 3.4 §5.3 and SMPP 5.0 §4.8.
//!
//! A PDU's TLVs are kept raw and in wire order (`Tlvs`), so unknown tags and
//! vendor extensions re-encode byte for byte, and one malformed optional value
//! from a carrier does not make a whole `deliver_sm` undecodable (which would
//! make the carrier redeliver it forever). Typed access is on demand:
//! [`TlvTag`] names every tag of 3.4 and 5.0 with its value kind, and
//! [`Tlv::typed`] validates a value against that kind.

use bytes::{BufMut, Bytes, BytesMut};

use super::CommandStatus;
use super::error::{DecodeError, DecodeErrorKind};
use super::field::{Field, Reader, Spec, Writer};
use super::values::MessageState;

/// The shape of a TLV's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlvKind {
    /// No value (length 0), e.g. `alert_on_message_delivery`.
    Empty,
    /// One-octet integer.
    U8,
    /// Two-octet integer.
    U16,
    /// Four-octet integer.
    U32,
    /// A C-octet string (NUL-terminated) of at most this many octets.
    CString(usize),
    /// Octets, of at most this many.
    Octets(usize),
    /// Exactly this many octets.
    Fixed(usize),
}

macro_rules! tlv_tags {
    ($($variant:ident = $value:literal, $name:literal, $kind:expr;)*) => {
        /// A TLV tag of SMPP 3.4 or 5.0. Unknown tags are kept in `Other`.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum TlvTag {
            $(#[doc = $name] $variant,)*
            /// A tag this crate does not know (vendor tags 0x1400–0x3FFF among them).
            Other(u16),
        }

        impl TlvTag {
            /// Every known tag.
            pub const ALL: &'static [TlvTag] = &[$(TlvTag::$variant,)*];

            /// The value on the wire.
            pub const fn value(self) -> u16 {
                match self {
                    $(TlvTag::$variant => $value,)*
                    TlvTag::Other(v) => v,
                }
            }

            /// The spec's name in snake_case, if known.
            pub const fn name(self) -> Option<&'static str> {
                match self {
                    $(TlvTag::$variant => Some($name),)*
                    TlvTag::Other(_) => None,
                }
            }

            /// The shape of the value; `Octets(65535)` for unknown tags.
            pub const fn kind(self) -> TlvKind {
                match self {
                    $(TlvTag::$variant => $kind,)*
                    TlvTag::Other(_) => TlvKind::Octets(65535),
                }
            }
        }

        impl From<u16> for TlvTag {
            fn from(v: u16) -> Self {
                match v {
                    $($value => TlvTag::$variant,)*
                    other => TlvTag::Other(other),
                }
            }
        }
    };
}

use TlvKind::{CString, Fixed, Octets, U8, U16, U32};

tlv_tags! {
    DestAddrSubunit = 0x0005, "dest_addr_subunit", U8;
    DestNetworkType = 0x0006, "dest_network_type", U8;
    DestBearerType = 0x0007, "dest_bearer_type", U8;
    DestTelematicsId = 0x0008, "dest_telematics_id", U16;
    SourceAddrSubunit = 0x000D, "source_addr_subunit", U8;
    SourceNetworkType = 0x000E, "source_network_type", U8;
    SourceBearerType = 0x000F, "source_bearer_type", U8;
    SourceTelematicsId = 0x0010, "source_telematics_id", U8;
    QosTimeToLive = 0x0017, "qos_time_to_live", U32;
    PayloadType = 0x0019, "payload_type", U8;
    AdditionalStatusInfoText = 0x001D, "additional_status_info_text", CString(256);
    ReceiptedMessageId = 0x001E, "receipted_message_id", CString(65);
    MsMsgWaitFacilities = 0x0030, "ms_msg_wait_facilities", U8;
    PrivacyIndicator = 0x0201, "privacy_indicator", U8;
    SourceSubaddress = 0x0202, "source_subaddress", Octets(23);
    DestSubaddress = 0x0203, "dest_subaddress", Octets(23);
    UserMessageReference = 0x0204, "user_message_reference", U16;
    UserResponseCode = 0x0205, "user_response_code", U8;
    SourcePort = 0x020A, "source_port", U16;
    DestinationPort = 0x020B, "destination_port", U16;
    SarMsgRefNum = 0x020C, "sar_msg_ref_num", U16;
    LanguageIndicator = 0x020D, "language_indicator", U8;
    SarTotalSegments = 0x020E, "sar_total_segments", U8;
    SarSegmentSeqnum = 0x020F, "sar_segment_seqnum", U8;
    ScInterfaceVersion = 0x0210, "sc_interface_version", U8;
    CallbackNumPresInd = 0x0302, "callback_num_pres_ind", U8;
    CallbackNumAtag = 0x0303, "callback_num_atag", Octets(65);
    NumberOfMessages = 0x0304, "number_of_messages", U8;
    CallbackNum = 0x0381, "callback_num", Octets(19);
    DpfResult = 0x0420, "dpf_result", U8;
    SetDpf = 0x0421, "set_dpf", U8;
    MsAvailabilityStatus = 0x0422, "ms_availability_status", U8;
    NetworkErrorCode = 0x0423, "network_error_code", Fixed(3);
    MessagePayload = 0x0424, "message_payload", Octets(65535);
    DeliveryFailureReason = 0x0425, "delivery_failure_reason", U8;
    MoreMessagesToSend = 0x0426, "more_messages_to_send", U8;
    MessageState = 0x0427, "message_state", U8;
    CongestionState = 0x0428, "congestion_state", U8;
    UssdServiceOp = 0x0501, "ussd_service_op", U8;
    BroadcastChannelIndicator = 0x0600, "broadcast_channel_indicator", U8;
    BroadcastContentType = 0x0601, "broadcast_content_type", Fixed(3);
    BroadcastContentTypeInfo = 0x0602, "broadcast_content_type_info", Octets(255);
    BroadcastMessageClass = 0x0603, "broadcast_message_class", U8;
    BroadcastRepNum = 0x0604, "broadcast_rep_num", U16;
    BroadcastFrequencyInterval = 0x0605, "broadcast_frequency_interval", Fixed(3);
    BroadcastAreaIdentifier = 0x0606, "broadcast_area_identifier", Octets(100);
    BroadcastErrorStatus = 0x0607, "broadcast_error_status", U32;
    BroadcastAreaSuccess = 0x0608, "broadcast_area_success", U8;
    BroadcastEndTime = 0x0609, "broadcast_end_time", CString(17);
    BroadcastServiceGroup = 0x060A, "broadcast_service_group", Octets(255);
    BillingIdentification = 0x060B, "billing_identification", Octets(1024);
    SourceNetworkId = 0x060D, "source_network_id", CString(65);
    DestNetworkId = 0x060E, "dest_network_id", CString(65);
    SourceNodeId = 0x060F, "source_node_id", Fixed(6);
    DestNodeId = 0x0610, "dest_node_id", Fixed(6);
    DestAddrNpResolution = 0x0611, "dest_addr_np_resolution", U8;
    DestAddrNpInformation = 0x0612, "dest_addr_np_information", Fixed(10);
    DestAddrNpCountry = 0x0613, "dest_addr_np_country", Octets(5);
    DisplayTime = 0x1201, "display_time", U8;
    SmsSignal = 0x1203, "sms_signal", U16;
    MsValidity = 0x1204, "ms_validity", Octets(4);
    AlertOnMessageDelivery = 0x130C, "alert_on_message_delivery", Octets(1);
    ItsReplyType = 0x1380, "its_reply_type", U8;
    ItsSessionInfo = 0x1383, "its_session_info", Fixed(2);
}

/// Why a TLV value does not fit its tag.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TlvError {
    /// The value is longer than 65535 octets.
    #[error("a TLV value is at most 65535 octets, got {0}")]
    TooLong(usize),
    /// The value's length does not fit the tag's kind.
    #[error("{tag}: value of {len} octets does not fit {kind:?}")]
    BadLength {
        /// The tag's name or number.
        tag: String,
        /// The length found.
        len: usize,
        /// What the tag takes.
        kind: TlvKind,
    },
    /// A C-octet string value without its NUL (or with one inside).
    #[error("{0}: C-octet string value must end with its only NUL")]
    BadCString(String),
}

/// A TLV's value interpreted according to its tag's kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TlvValue {
    /// No value.
    Empty,
    /// One octet.
    U8(u8),
    /// Two octets.
    U16(u16),
    /// Four octets.
    U32(u32),
    /// A C-octet string, without NUL.
    CString(Bytes),
    /// Octets.
    Octets(Bytes),
}

/// One optional parameter, as on the wire.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Tlv {
    tag: TlvTag,
    value: Bytes,
}

impl Tlv {
    /// A TLV with raw value octets (at most 65535).
    pub fn new(tag: impl Into<TlvTag>, value: impl Into<Bytes>) -> Result<Tlv, TlvError> {
        let value = value.into();
        if value.len() > usize::from(u16::MAX) {
            return Err(TlvError::TooLong(value.len()));
        }
        Ok(Tlv {
            tag: tag.into(),
            value,
        })
    }

    /// A one-octet TLV.
    pub fn u8(tag: TlvTag, v: u8) -> Tlv {
        Tlv {
            tag,
            value: Bytes::copy_from_slice(&[v]),
        }
    }

    /// A two-octet TLV.
    pub fn u16(tag: TlvTag, v: u16) -> Tlv {
        Tlv {
            tag,
            value: Bytes::copy_from_slice(&v.to_be_bytes()),
        }
    }

    /// A four-octet TLV.
    pub fn u32(tag: TlvTag, v: u32) -> Tlv {
        Tlv {
            tag,
            value: Bytes::copy_from_slice(&v.to_be_bytes()),
        }
    }

    /// A C-octet string TLV (the NUL is added).
    pub fn c_string(tag: TlvTag, s: &[u8]) -> Result<Tlv, TlvError> {
        if s.contains(&0) {
            return Err(TlvError::BadCString(tag_label(tag)));
        }
        let mut v = BytesMut::with_capacity(s.len() + 1);
        v.put_slice(s);
        v.put_u8(0);
        Tlv::new(tag, v.freeze())
    }

    /// The tag.
    pub fn tag(&self) -> TlvTag {
        self.tag
    }

    /// The raw value octets.
    pub fn value(&self) -> &Bytes {
        &self.value
    }

    /// The value checked against the tag's kind.
    pub fn typed(&self) -> Result<TlvValue, TlvError> {
        let v = &self.value;
        let bad = || TlvError::BadLength {
            tag: tag_label(self.tag),
            len: v.len(),
            kind: self.tag.kind(),
        };
        Ok(match self.tag.kind() {
            TlvKind::Empty if v.is_empty() => TlvValue::Empty,
            TlvKind::U8 => match v.as_ref() {
                [a] => TlvValue::U8(*a),
                _ => return Err(bad()),
            },
            TlvKind::U16 => match v.as_ref() {
                [a, b] => TlvValue::U16(u16::from_be_bytes([*a, *b])),
                _ => return Err(bad()),
            },
            TlvKind::U32 => match v.as_ref() {
                [a, b, c, d] => TlvValue::U32(u32::from_be_bytes([*a, *b, *c, *d])),
                _ => return Err(bad()),
            },
            TlvKind::CString(max) => match v.split_last() {
                Some((0, text)) if v.len() <= max && !text.contains(&0) => {
                    TlvValue::CString(v.slice(..text.len()))
                }
                _ if v.len() > max => return Err(bad()),
                _ => return Err(TlvError::BadCString(tag_label(self.tag))),
            },
            TlvKind::Octets(max) if v.len() <= max => TlvValue::Octets(v.clone()),
            TlvKind::Fixed(n) if v.len() == n => TlvValue::Octets(v.clone()),
            _ => return Err(bad()),
        })
    }
}

fn tag_label(tag: TlvTag) -> String {
    match tag.name() {
        Some(n) => n.to_owned(),
        None => format!("tag 0x{:04x}", tag.value()),
    }
}

/// A PDU's optional parameters, in wire order.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct Tlvs(pub Vec<Tlv>);

impl Tlvs {
    /// No TLVs.
    pub const fn new() -> Tlvs {
        Tlvs(Vec::new())
    }

    /// Appends a TLV.
    pub fn push(&mut self, tlv: Tlv) {
        self.0.push(tlv);
    }

    /// The first TLV with this tag.
    pub fn get(&self, tag: TlvTag) -> Option<&Tlv> {
        self.0.iter().find(|t| t.tag == tag)
    }

    /// Iterates in wire order.
    pub fn iter(&self) -> std::slice::Iter<'_, Tlv> {
        self.0.iter()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    fn typed(&self, tag: TlvTag) -> Option<TlvValue> {
        self.get(tag).and_then(|t| t.typed().ok())
    }

    fn u8_of(&self, tag: TlvTag) -> Option<u8> {
        match self.typed(tag) {
            Some(TlvValue::U8(v)) => Some(v),
            _ => None,
        }
    }

    fn u16_of(&self, tag: TlvTag) -> Option<u16> {
        match self.typed(tag) {
            Some(TlvValue::U16(v)) => Some(v),
            _ => None,
        }
    }

    /// `message_payload` (0x0424): the whole message when short_message is empty.
    pub fn message_payload(&self) -> Option<&Bytes> {
        self.get(TlvTag::MessagePayload).map(|t| &t.value)
    }

    /// `receipted_message_id` (0x001E) without its NUL; tolerates a missing NUL.
    pub fn receipted_message_id(&self) -> Option<Bytes> {
        let v = self.get(TlvTag::ReceiptedMessageId)?.value();
        let end = v.iter().position(|&b| b == 0).unwrap_or(v.len());
        Some(v.slice(..end))
    }

    /// `message_state` (0x0427).
    pub fn message_state(&self) -> Option<MessageState> {
        self.u8_of(TlvTag::MessageState).map(MessageState::from)
    }

    /// `network_error_code` (0x0423): network type and a two-octet error code.
    pub fn network_error_code(&self) -> Option<[u8; 3]> {
        match self.get(TlvTag::NetworkErrorCode)?.value().as_ref() {
            [a, b, c] => Some([*a, *b, *c]),
            _ => None,
        }
    }

    /// SAR parameters: (`sar_msg_ref_num`, `sar_total_segments`, `sar_segment_seqnum`),
    /// when all three are present and well-formed.
    pub fn sar(&self) -> Option<(u16, u8, u8)> {
        Some((
            self.u16_of(TlvTag::SarMsgRefNum)?,
            self.u8_of(TlvTag::SarTotalSegments)?,
            self.u8_of(TlvTag::SarSegmentSeqnum)?,
        ))
    }

    /// `sc_interface_version` (0x0210) of a bind response.
    pub fn sc_interface_version(&self) -> Option<u8> {
        self.u8_of(TlvTag::ScInterfaceVersion)
    }

    /// `congestion_state` (0x0428, SMPP 5.0): 0–100, the peer's load.
    pub fn congestion_state(&self) -> Option<u8> {
        self.u8_of(TlvTag::CongestionState)
    }
}

impl Field for Tlvs {
    /// TLVs run to the end of the PDU.
    fn decode(r: &mut Reader<'_>, spec: &Spec) -> Result<Self, DecodeError> {
        let mut tlvs = Vec::new();
        let stream = Spec {
            status: CommandStatus::InvalidTlvStream,
            ..*spec
        };
        while r.remaining() > 0 {
            if r.remaining() < 4 {
                return Err(r.error(
                    DecodeErrorKind::TlvOverrun {
                        tag: 0,
                        len: 0,
                        available: r.remaining(),
                    },
                    &stream,
                ));
            }
            let tag = r.u16(&stream)?;
            let len = r.u16(&stream)?;
            if usize::from(len) > r.remaining() {
                return Err(r.error(
                    DecodeErrorKind::TlvOverrun {
                        tag,
                        len,
                        available: r.remaining(),
                    },
                    &stream,
                ));
            }
            let value = r.take(usize::from(len), &stream)?;
            tlvs.push(Tlv {
                tag: TlvTag::from(tag),
                value,
            });
        }
        Ok(Tlvs(tlvs))
    }

    fn encode(&self, w: &mut Writer<'_>) {
        for tlv in &self.0 {
            w.u16(tlv.tag.value());
            // Tlv::new guarantees the length fits in u16.
            w.u16(tlv.value.len() as u16);
            w.slice(&tlv.value);
        }
    }

    fn encoded_len(&self) -> usize {
        self.0.iter().map(|t| 4 + t.value.len()).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_round_trip_and_have_names() {
        for &tag in TlvTag::ALL {
            assert_eq!(TlvTag::from(tag.value()), tag);
            assert!(tag.name().is_some());
        }
        assert_eq!(TlvTag::from(0x1400), TlvTag::Other(0x1400));
    }

    #[test]
    fn typed_values_are_checked() {
        assert_eq!(
            Tlv::u16(TlvTag::SarMsgRefNum, 0x1234).typed(),
            Ok(TlvValue::U16(0x1234))
        );
        let bad = Tlv::new(TlvTag::SarMsgRefNum, vec![1u8]).expect("short value");
        assert!(bad.typed().is_err());
        let id = Tlv::c_string(TlvTag::ReceiptedMessageId, b"abc").expect("no NUL");
        assert_eq!(
            id.typed(),
            Ok(TlvValue::CString(Bytes::from_static(b"abc")))
        );
        let unterminated = Tlv::new(TlvTag::ReceiptedMessageId, &b"abc"[..]).expect("raw");
        assert!(unterminated.typed().is_err());
        let tlvs = Tlvs(vec![unterminated]);
        assert_eq!(tlvs.receipted_message_id().as_deref(), Some(&b"abc"[..]));
    }
}
