//! Every SMPP 3.4 and 5.0 PDU, declared once as a list of typed fields.
//!
//! The `pdu_body!` declarations below are the single source of truth for the
//! field order of each PDU: the macro derives the decoder, the encoder, the
//! encoded size and the JSON form from them. Field names are the spec's, so
//! they are also the JSON keys of `carrier-gateway pdu`.
//!
//! `deliver_sm` has exactly `submit_sm`'s layout (SMPP 3.4 §4.6.1), and
//! `deliver_sm_resp` that of `submit_sm_resp`, so they share the types.

use super::error::DecodeError;
use super::field::{Field, Reader, Spec, Writer};
use super::octets::{COctetString, ShortMessage};
use super::tlv::Tlvs;
use super::values::{
    DataCoding, EsmClass, InterfaceVersion, MessageState, Npi, PriorityFlag, RegisteredDelivery,
    Ton,
};
use super::{CommandId, CommandStatus};

pub use super::multi::{DestAddress, DestAddresses, UnsuccessSme, UnsuccessSmes};

use CommandStatus as S;

/// Declares a PDU body: the struct, and its decode/encode/size/JSON functions.
/// A field may name a [`Spec`] (`=> Spec::cstr(21, …)`) for its maximum size
/// and the status a malformed value earns.
macro_rules! pdu_body {
    // A body whose encoder is hand-written (the hot submit_sm/deliver_sm).
    (custom_encode $(#[$meta:meta])* $name:ident {
        $($(#[$fmeta:meta])* $field:ident : $ty:ty $(=> $spec:expr)?,)*
    }) => {
        pdu_body!(@common $(#[$meta])* $name { $($(#[$fmeta])* $field : $ty $(=> $spec)?,)* });
    };
    ($(#[$meta:meta])* $name:ident {
        $($(#[$fmeta:meta])* $field:ident : $ty:ty $(=> $spec:expr)?,)*
    }) => {
        pdu_body!(@common $(#[$meta])* $name { $($(#[$fmeta])* $field : $ty $(=> $spec)?,)* });

        impl $name {
            #[inline]
            pub(crate) fn encode_fields(&self, w: &mut Writer<'_>) {
                $(Field::encode(&self.$field, w);)*
            }

            #[inline]
            pub(crate) fn fields_len(&self) -> usize {
                0 $(+ Field::encoded_len(&self.$field))*
            }
        }
    };
    (@common $(#[$meta:meta])* $name:ident {
        $($(#[$fmeta:meta])* $field:ident : $ty:ty $(=> $spec:expr)?,)*
    }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Default)]
        pub struct $name {
            $($(#[$fmeta])* pub $field: $ty,)*
        }

        impl $name {
            #[inline(always)]
            pub(crate) fn decode_fields(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
                Ok($name {
                    $($field: <$ty as Field>::decode(r, &pdu_body!(@spec $field $($spec)?))?,)*
                })
            }

            #[cfg(feature = "json")]
            pub(crate) fn to_json(&self, obj: &mut serde_json::Map<String, serde_json::Value>) {
                $(super::json::JsonField::to_json(&self.$field, stringify!($field), obj);)*
            }

            #[cfg(feature = "json")]
            pub(crate) fn from_json(
                obj: &serde_json::Map<String, serde_json::Value>,
            ) -> Result<Self, super::json::JsonError> {
                Ok($name {
                    $($field: super::json::JsonField::from_json(
                        obj,
                        &pdu_body!(@spec $field $($spec)?),
                    )?,)*
                })
            }
        }
    };
    (@spec $field:ident) => { Spec::plain().named(stringify!($field)) };
    (@spec $field:ident $spec:expr) => { $spec.named(stringify!($field)) };
}

const SERVICE_TYPE: Spec = Spec::cstr(6, S::InvalidServiceType);
const SOURCE_ADDR: Spec = Spec::cstr(21, S::InvalidSourceAddress);
const DESTINATION_ADDR: Spec = Spec::cstr(21, S::InvalidDestinationAddress);
const LONG_SOURCE_ADDR: Spec = Spec::cstr(65, S::InvalidSourceAddress);
const LONG_DESTINATION_ADDR: Spec = Spec::cstr(65, S::InvalidDestinationAddress);
const SCHEDULE: Spec = Spec::cstr(17, S::InvalidScheduledDeliveryTime);
const VALIDITY: Spec = Spec::cstr(17, S::InvalidValidityPeriod);
const MESSAGE_ID: Spec = Spec::cstr(65, S::InvalidMessageId);
const SYSTEM_ID: Spec = Spec::cstr(16, S::InvalidSystemId);
const PASSWORD: Spec = Spec::cstr(9, S::InvalidPassword);
const SHORT_MESSAGE: Spec = Spec::cstr(255, S::InvalidMessageLength);
const TLVS: Spec = Spec::cstr(usize::MAX, S::InvalidTlvStream);

pdu_body! {
    /// bind_transmitter, bind_receiver, bind_transceiver (SMPP 3.4 §4.1).
    Bind {
        system_id: COctetString => SYSTEM_ID,
        password: COctetString => PASSWORD,
        system_type: COctetString => Spec::cstr(13, S::InvalidSystemType),
        interface_version: InterfaceVersion,
        addr_ton: Ton,
        addr_npi: Npi,
        address_range: COctetString => Spec::cstr(41, S::BindFailed),
    }
}

pdu_body! {
    /// The three bind responses (SMPP 3.4 §4.1.2); `sc_interface_version` TLV.
    BindResp {
        system_id: COctetString => SYSTEM_ID,
        tlvs: Tlvs => TLVS,
    }
}

pdu_body! {
    /// outbind (SMPP 3.4 §4.1.7): the SMSC asks the ESME to bind.
    Outbind {
        system_id: COctetString => SYSTEM_ID,
        password: COctetString => PASSWORD,
    }
}

pdu_body! {
    custom_encode
    /// submit_sm (SMPP 3.4 §4.4.1) and deliver_sm (§4.6.1).
    SubmitSm {
        service_type: COctetString => SERVICE_TYPE,
        source_addr_ton: Ton,
        source_addr_npi: Npi,
        source_addr: COctetString => SOURCE_ADDR,
        dest_addr_ton: Ton,
        dest_addr_npi: Npi,
        destination_addr: COctetString => DESTINATION_ADDR,
        esm_class: EsmClass,
        protocol_id: u8,
        priority_flag: PriorityFlag,
        schedule_delivery_time: COctetString => SCHEDULE,
        validity_period: COctetString => VALIDITY,
        registered_delivery: RegisteredDelivery,
        replace_if_present_flag: u8,
        data_coding: DataCoding,
        sm_default_msg_id: u8,
        short_message: ShortMessage => SHORT_MESSAGE,
        tlvs: Tlvs => TLVS,
    }
}

impl SubmitSm {
    /// Octets after the header. Same order as the declaration above; the
    /// one-octet fields are counted together.
    #[inline]
    pub(crate) fn fields_len(&self) -> usize {
        12 + self.service_type.encoded_len()
            + self.source_addr.encoded_len()
            + self.destination_addr.encoded_len()
            + self.schedule_delivery_time.encoded_len()
            + self.validity_period.encoded_len()
            + self.short_message.len()
            + self.tlvs.encoded_len()
    }

    /// Hand-written because this is the gateway's hot path: runs of
    /// one-octet fields are written as single fixed-size stores. The field
    /// order is the declaration's; the round-trip property tests hold the two
    /// in agreement.
    #[inline]
    pub(crate) fn encode_fields(&self, w: &mut Writer<'_>) {
        self.service_type.encode(w);
        w.array([self.source_addr_ton.value(), self.source_addr_npi.value()]);
        self.source_addr.encode(w);
        w.array([self.dest_addr_ton.value(), self.dest_addr_npi.value()]);
        self.destination_addr.encode(w);
        w.array([
            self.esm_class.0,
            self.protocol_id,
            self.priority_flag.value(),
        ]);
        self.schedule_delivery_time.encode(w);
        self.validity_period.encode(w);
        // ShortMessage::new guarantees at most 255 octets.
        w.array([
            self.registered_delivery.0,
            self.replace_if_present_flag,
            self.data_coding.value(),
            self.sm_default_msg_id,
            self.short_message.len() as u8,
        ]);
        w.slice(self.short_message.as_bytes());
        self.tlvs.encode(w);
    }
}

/// deliver_sm has submit_sm's layout.
pub type DeliverSm = SubmitSm;

pdu_body! {
    /// submit_sm_resp and deliver_sm_resp (message_id NULL for the latter).
    SubmitSmResp {
        message_id: COctetString => MESSAGE_ID,
        tlvs: Tlvs => TLVS,
    }
}

/// deliver_sm_resp has submit_sm_resp's layout.
pub type DeliverSmResp = SubmitSmResp;

pdu_body! {
    /// submit_multi (SMPP 3.4 §4.5.1).
    SubmitMulti {
        service_type: COctetString => SERVICE_TYPE,
        source_addr_ton: Ton,
        source_addr_npi: Npi,
        source_addr: COctetString => SOURCE_ADDR,
        dest_address: DestAddresses => Spec::cstr(254, S::InvalidNumberOfDestinations),
        esm_class: EsmClass,
        protocol_id: u8,
        priority_flag: PriorityFlag,
        schedule_delivery_time: COctetString => SCHEDULE,
        validity_period: COctetString => VALIDITY,
        registered_delivery: RegisteredDelivery,
        replace_if_present_flag: u8,
        data_coding: DataCoding,
        sm_default_msg_id: u8,
        short_message: ShortMessage => SHORT_MESSAGE,
        tlvs: Tlvs => TLVS,
    }
}

pdu_body! {
    /// submit_multi_resp (SMPP 3.4 §4.5.2).
    SubmitMultiResp {
        message_id: COctetString => MESSAGE_ID,
        unsuccess_sme: UnsuccessSmes => Spec::cstr(255, S::InvalidNumberOfDestinations),
        tlvs: Tlvs => TLVS,
    }
}

pdu_body! {
    /// data_sm (SMPP 3.4 §4.7.1), both directions.
    DataSm {
        service_type: COctetString => SERVICE_TYPE,
        source_addr_ton: Ton,
        source_addr_npi: Npi,
        source_addr: COctetString => LONG_SOURCE_ADDR,
        dest_addr_ton: Ton,
        dest_addr_npi: Npi,
        destination_addr: COctetString => LONG_DESTINATION_ADDR,
        esm_class: EsmClass,
        registered_delivery: RegisteredDelivery,
        data_coding: DataCoding,
        tlvs: Tlvs => TLVS,
    }
}

pdu_body! {
    /// data_sm_resp (SMPP 3.4 §4.7.2).
    DataSmResp {
        message_id: COctetString => MESSAGE_ID,
        tlvs: Tlvs => TLVS,
    }
}

pdu_body! {
    /// query_sm (SMPP 3.4 §4.8.1).
    QuerySm {
        message_id: COctetString => MESSAGE_ID,
        source_addr_ton: Ton,
        source_addr_npi: Npi,
        source_addr: COctetString => SOURCE_ADDR,
    }
}

pdu_body! {
    /// query_sm_resp (SMPP 3.4 §4.8.2).
    QuerySmResp {
        message_id: COctetString => MESSAGE_ID,
        final_date: COctetString => Spec::cstr(17, S::QueryFailed),
        message_state: MessageState,
        error_code: u8,
    }
}

pdu_body! {
    /// cancel_sm (SMPP 3.4 §4.9.1).
    CancelSm {
        service_type: COctetString => SERVICE_TYPE,
        message_id: COctetString => MESSAGE_ID,
        source_addr_ton: Ton,
        source_addr_npi: Npi,
        source_addr: COctetString => SOURCE_ADDR,
        dest_addr_ton: Ton,
        dest_addr_npi: Npi,
        destination_addr: COctetString => DESTINATION_ADDR,
    }
}

pdu_body! {
    /// replace_sm (SMPP 3.4 §4.10.1; SMPP 5.0 adds the message_payload TLV).
    ReplaceSm {
        message_id: COctetString => MESSAGE_ID,
        source_addr_ton: Ton,
        source_addr_npi: Npi,
        source_addr: COctetString => SOURCE_ADDR,
        schedule_delivery_time: COctetString => SCHEDULE,
        validity_period: COctetString => VALIDITY,
        registered_delivery: RegisteredDelivery,
        sm_default_msg_id: u8,
        short_message: ShortMessage => SHORT_MESSAGE,
        tlvs: Tlvs => TLVS,
    }
}

pdu_body! {
    /// alert_notification (SMPP 3.4 §4.12.1).
    AlertNotification {
        source_addr_ton: Ton,
        source_addr_npi: Npi,
        source_addr: COctetString => LONG_SOURCE_ADDR,
        esme_addr_ton: Ton,
        esme_addr_npi: Npi,
        esme_addr: COctetString => LONG_DESTINATION_ADDR,
        tlvs: Tlvs => TLVS,
    }
}

pdu_body! {
    /// broadcast_sm (SMPP 5.0 §4.4.1); its area and content TLVs are mandatory
    /// by the spec but carried in `tlvs`.
    BroadcastSm {
        service_type: COctetString => SERVICE_TYPE,
        source_addr_ton: Ton,
        source_addr_npi: Npi,
        source_addr: COctetString => SOURCE_ADDR,
        message_id: COctetString => MESSAGE_ID,
        priority_flag: PriorityFlag,
        schedule_delivery_time: COctetString => SCHEDULE,
        validity_period: COctetString => VALIDITY,
        replace_if_present_flag: u8,
        data_coding: DataCoding,
        sm_default_msg_id: u8,
        tlvs: Tlvs => TLVS,
    }
}

pdu_body! {
    /// broadcast_sm_resp (SMPP 5.0 §4.4.2).
    BroadcastSmResp {
        message_id: COctetString => MESSAGE_ID,
        tlvs: Tlvs => TLVS,
    }
}

pdu_body! {
    /// query_broadcast_sm (SMPP 5.0 §4.6.1).
    QueryBroadcastSm {
        message_id: COctetString => MESSAGE_ID,
        source_addr_ton: Ton,
        source_addr_npi: Npi,
        source_addr: COctetString => SOURCE_ADDR,
        tlvs: Tlvs => TLVS,
    }
}

pdu_body! {
    /// query_broadcast_sm_resp (SMPP 5.0 §4.6.2).
    QueryBroadcastSmResp {
        message_id: COctetString => MESSAGE_ID,
        tlvs: Tlvs => TLVS,
    }
}

pdu_body! {
    /// cancel_broadcast_sm (SMPP 5.0 §4.6.3).
    CancelBroadcastSm {
        service_type: COctetString => SERVICE_TYPE,
        message_id: COctetString => MESSAGE_ID,
        source_addr_ton: Ton,
        source_addr_npi: Npi,
        source_addr: COctetString => SOURCE_ADDR,
        tlvs: Tlvs => TLVS,
    }
}

/// Declares the `Body` enum and its dispatch over command ids. A variant with a
/// type carries that body; one without has an empty body.
macro_rules! bodies {
    ($($variant:ident $(($ty:ty))?,)*) => {
        /// The body of a PDU; the variant determines the command_id.
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub enum Body {
            $(#[allow(missing_docs)] $variant $(($ty))?,)*
        }

        impl Body {
            /// The command id this body is sent with.
            pub const fn command_id(&self) -> CommandId {
                match self {
                    $(Body::$variant { .. } => CommandId::$variant,)*
                }
            }

            /// Decodes the fields of `id`'s body; `None` for an unknown id.
            #[inline]
            pub(crate) fn decode_for(
                id: CommandId,
                r: &mut Reader<'_>,
            ) -> Option<Result<Body, DecodeError>> {
                Some(match id {
                    $(CommandId::$variant => bodies!(@decode r $variant $($ty)?),)*
                    CommandId::Other(_) => return None,
                })
            }

            /// The empty (all-default) body of a known command id, used for
            /// error responses that carry no body.
            pub fn empty_for(id: CommandId) -> Option<Body> {
                Some(match id {
                    $(CommandId::$variant => Body::$variant $((<$ty>::default()))?,)*
                    CommandId::Other(_) => return None,
                })
            }

            #[inline]
            pub(crate) fn encode_fields(&self, w: &mut Writer<'_>) {
                match self {
                    $(bodies!(@pat $variant b $($ty)?) => bodies!(@encode b w $($ty)?),)*
                }
            }

            #[inline]
            pub(crate) fn fields_len(&self) -> usize {
                match self {
                    $(bodies!(@pat $variant b $($ty)?) => bodies!(@len b $($ty)?),)*
                }
            }

            #[cfg(feature = "json")]
            pub(crate) fn to_json(&self, obj: &mut serde_json::Map<String, serde_json::Value>) {
                match self {
                    $(bodies!(@pat $variant b $($ty)?) => bodies!(@to_json b obj $($ty)?),)*
                }
            }

            #[cfg(feature = "json")]
            pub(crate) fn from_json(
                id: CommandId,
                obj: &serde_json::Map<String, serde_json::Value>,
            ) -> Option<Result<Body, super::json::JsonError>> {
                Some(match id {
                    $(CommandId::$variant => bodies!(@from_json obj $variant $($ty)?),)*
                    CommandId::Other(_) => return None,
                })
            }
        }
    };
    (@decode $r:ident $variant:ident $ty:ty) => { <$ty>::decode_fields($r).map(Body::$variant) };
    (@decode $r:ident $variant:ident) => { Ok(Body::$variant) };
    (@pat $variant:ident $b:ident $ty:ty) => { Body::$variant($b) };
    (@pat $variant:ident $b:ident) => { Body::$variant };
    (@encode $b:ident $w:ident $ty:ty) => { $b.encode_fields($w) };
    (@encode $b:ident $w:ident) => { () };
    (@len $b:ident $ty:ty) => { $b.fields_len() };
    (@len $b:ident) => { 0 };
    (@to_json $b:ident $obj:ident $ty:ty) => { $b.to_json($obj) };
    (@to_json $b:ident $obj:ident) => { () };
    (@from_json $obj:ident $variant:ident $ty:ty) => { <$ty>::from_json($obj).map(Body::$variant) };
    (@from_json $obj:ident $variant:ident) => { Ok(Body::$variant) };
}

bodies! {
    GenericNack,
    BindReceiver(Bind),
    BindReceiverResp(BindResp),
    BindTransmitter(Bind),
    BindTransmitterResp(BindResp),
    QuerySm(QuerySm),
    QuerySmResp(QuerySmResp),
    SubmitSm(SubmitSm),
    SubmitSmResp(SubmitSmResp),
    DeliverSm(DeliverSm),
    DeliverSmResp(DeliverSmResp),
    Unbind,
    UnbindResp,
    ReplaceSm(ReplaceSm),
    ReplaceSmResp,
    CancelSm(CancelSm),
    CancelSmResp,
    BindTransceiver(Bind),
    BindTransceiverResp(BindResp),
    Outbind(Outbind),
    EnquireLink,
    EnquireLinkResp,
    SubmitMulti(SubmitMulti),
    SubmitMultiResp(SubmitMultiResp),
    AlertNotification(AlertNotification),
    DataSm(DataSm),
    DataSmResp(DataSmResp),
    BroadcastSm(BroadcastSm),
    BroadcastSmResp(BroadcastSmResp),
    QueryBroadcastSm(QueryBroadcastSm),
    QueryBroadcastSmResp(QueryBroadcastSmResp),
    CancelBroadcastSm(CancelBroadcastSm),
    CancelBroadcastSmResp,
}

/// One SMPP PDU: header values and body. `command_length` is derived when
/// encoding, `command_id` from the body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pdu {
    /// `command_status`: `Ok` on requests.
    pub command_status: CommandStatus,
    /// `sequence_number`, which pairs a response with its request.
    pub sequence_number: u32,
    /// The command and its fields.
    pub body: Body,
}

impl Pdu {
    /// A request (status `Ok`).
    pub fn request(sequence_number: u32, body: Body) -> Pdu {
        Pdu {
            command_status: CommandStatus::Ok,
            sequence_number,
            body,
        }
    }

    /// A response with the given status.
    pub fn response(sequence_number: u32, command_status: CommandStatus, body: Body) -> Pdu {
        Pdu {
            command_status,
            sequence_number,
            body,
        }
    }

    /// A `generic_nack` for a PDU that could not be decoded.
    pub fn generic_nack(sequence_number: u32, command_status: CommandStatus) -> Pdu {
        Pdu::response(sequence_number, command_status, Body::GenericNack)
    }

    /// The command id.
    pub const fn command_id(&self) -> CommandId {
        self.body.command_id()
    }

    /// Whether an error response omits its body (SMPP 3.4 §4: "the body is not
    /// returned" when command_status is non-zero). The encoder omits an
    /// all-default body of such a response, and the decoder accepts both forms.
    pub(crate) fn omits_body(&self) -> bool {
        !self.command_status.is_ok()
            && self.command_id().is_response()
            && Body::empty_for(self.command_id()).as_ref() == Some(&self.body)
    }
}
