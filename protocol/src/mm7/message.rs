//! The MM7 messages: one struct per request and response of TS 23.140
//! clause 8, the SOAP Fault, and the envelope that carries one of them with
//! its `TransactionID`.
//!
//! Fields follow the schema's element names; optional elements are
//! `Option`s. Elements the gateway has no use for (reply charging, DRM,
//! application ids, UA capabilities…) are skipped on input and never
//! written, and so are elements no schema version defines.

use super::namespace::Mm7Version;
use super::status::Mm7Status;
use super::values::{
    ChargedParty, ContentRef, MessageClass, Mm7Address, Mm7Priority, MmStatus, Recipients,
    SenderIdentification,
};

/// One SOAP message of MM7: the header's `TransactionID`, the schema version
/// and the body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mm7Envelope {
    /// The header's `TransactionID` (mustUnderstand), which pairs a
    /// response with its request. Faults may come without one.
    pub transaction_id: Option<String>,
    /// The MM7 schema (namespace) of the body.
    pub version: Mm7Version,
    /// The body's `MM7Version` text. `None` on input when the element was
    /// missing; on output `None` writes [`Mm7Version::version_text`].
    pub mm7_version: Option<String>,
    /// The body.
    pub message: Mm7Message,
}

impl Mm7Envelope {
    /// An envelope in `version`'s namespace with its usual `MM7Version` text.
    pub fn new(
        version: Mm7Version,
        transaction_id: impl Into<String>,
        message: Mm7Message,
    ) -> Self {
        Self {
            transaction_id: Some(transaction_id.into()),
            version,
            mm7_version: Some(version.version_text().to_owned()),
            message,
        }
    }

    /// The `MM7Version` text that is (or would be) written.
    pub fn mm7_version_text(&self) -> &str {
        self.mm7_version
            .as_deref()
            .unwrap_or(self.version.version_text())
    }
}

/// The body of an MM7 SOAP message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mm7Message {
    /// MM7_submit.REQ.
    SubmitReq(SubmitReq),
    /// MM7_submit.RES.
    SubmitRsp(SubmitRsp),
    /// MM7_deliver.REQ.
    DeliverReq(DeliverReq),
    /// MM7_deliver.RES.
    DeliverRsp(DeliverRsp),
    /// MM7_delivery_report.REQ.
    DeliveryReportReq(DeliveryReportReq),
    /// MM7_delivery_report.RES.
    DeliveryReportRsp(DeliveryReportRsp),
    /// MM7_read_reply.REQ.
    ReadReplyReq(ReadReplyReq),
    /// MM7_read_reply.RES.
    ReadReplyRsp(ReadReplyRsp),
    /// MM7_cancel.REQ.
    CancelReq(CancelReq),
    /// MM7_cancel.RES.
    CancelRsp(CancelRsp),
    /// MM7_replace.REQ.
    ReplaceReq(ReplaceReq),
    /// MM7_replace.RES.
    ReplaceRsp(ReplaceRsp),
    /// `RSErrorRsp` directly in the Body. TS 23.140 puts it in a SOAP
    /// Fault's `detail` ([`Mm7Message::Fault`]); some MMSCs send it bare.
    RsErrorRsp(ErrorRsp),
    /// `VASPErrorRsp` directly in the Body (see [`Mm7Message::RsErrorRsp`]).
    VaspErrorRsp(ErrorRsp),
    /// A SOAP Fault, with the MM7 error response from its `detail`.
    Fault(SoapFault),
}

/// Which message a body holds, without its fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Mm7MessageKind {
    /// `SubmitReq`.
    SubmitReq,
    /// `SubmitRsp`.
    SubmitRsp,
    /// `DeliverReq`.
    DeliverReq,
    /// `DeliverRsp`.
    DeliverRsp,
    /// `DeliveryReportReq`.
    DeliveryReportReq,
    /// `DeliveryReportRsp`.
    DeliveryReportRsp,
    /// `ReadReplyReq`.
    ReadReplyReq,
    /// `ReadReplyRsp`.
    ReadReplyRsp,
    /// `CancelReq`.
    CancelReq,
    /// `CancelRsp`.
    CancelRsp,
    /// `ReplaceReq`.
    ReplaceReq,
    /// `ReplaceRsp`.
    ReplaceRsp,
    /// `RSErrorRsp`.
    RsErrorRsp,
    /// `VASPErrorRsp`.
    VaspErrorRsp,
    /// SOAP `Fault`.
    Fault,
}

impl Mm7MessageKind {
    /// Every kind.
    pub const ALL: [Mm7MessageKind; 15] = [
        Self::SubmitReq,
        Self::SubmitRsp,
        Self::DeliverReq,
        Self::DeliverRsp,
        Self::DeliveryReportReq,
        Self::DeliveryReportRsp,
        Self::ReadReplyReq,
        Self::ReadReplyRsp,
        Self::CancelReq,
        Self::CancelRsp,
        Self::ReplaceReq,
        Self::ReplaceRsp,
        Self::RsErrorRsp,
        Self::VaspErrorRsp,
        Self::Fault,
    ];

    /// The body element's local name.
    pub fn element(self) -> &'static str {
        match self {
            Self::SubmitReq => "SubmitReq",
            Self::SubmitRsp => "SubmitRsp",
            Self::DeliverReq => "DeliverReq",
            Self::DeliverRsp => "DeliverRsp",
            Self::DeliveryReportReq => "DeliveryReportReq",
            Self::DeliveryReportRsp => "DeliveryReportRsp",
            Self::ReadReplyReq => "ReadReplyReq",
            Self::ReadReplyRsp => "ReadReplyRsp",
            Self::CancelReq => "CancelReq",
            Self::CancelRsp => "CancelRsp",
            Self::ReplaceReq => "ReplaceReq",
            Self::ReplaceRsp => "ReplaceRsp",
            Self::RsErrorRsp => "RSErrorRsp",
            Self::VaspErrorRsp => "VASPErrorRsp",
            Self::Fault => "Fault",
        }
    }

    /// The kind for a body element's local name.
    pub fn from_element(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.element() == name)
    }
}

/// The elements TS 23.140 (clause 8 tables, and the schema's `minOccurs`)
/// requires in each message's body element, in document order, as paths
/// below it (`Status/StatusCode`). The encoder always writes these; the tests
/// check every encoded message against this list.
pub fn required_elements(kind: Mm7MessageKind) -> &'static [&'static str] {
    match kind {
        Mm7MessageKind::SubmitReq => &["MM7Version", "SenderIdentification", "Recipients"],
        Mm7MessageKind::SubmitRsp => &["MM7Version", "Status", "Status/StatusCode", "MessageID"],
        Mm7MessageKind::DeliverReq => &["MM7Version", "Sender"],
        Mm7MessageKind::DeliveryReportReq => &[
            "MM7Version",
            "MessageID",
            "Recipient",
            "Sender",
            "Date",
            "MMStatus",
        ],
        Mm7MessageKind::ReadReplyReq => &[
            "MM7Version",
            "MessageID",
            "Recipient",
            "Sender",
            "TimeStamp",
            "MMStatus",
        ],
        Mm7MessageKind::CancelReq | Mm7MessageKind::ReplaceReq => &["MM7Version", "MessageID"],
        Mm7MessageKind::DeliverRsp
        | Mm7MessageKind::DeliveryReportRsp
        | Mm7MessageKind::ReadReplyRsp
        | Mm7MessageKind::CancelRsp
        | Mm7MessageKind::ReplaceRsp
        | Mm7MessageKind::RsErrorRsp
        | Mm7MessageKind::VaspErrorRsp => &["MM7Version", "Status", "Status/StatusCode"],
        Mm7MessageKind::Fault => &["faultcode", "faultstring"],
    }
}

impl Mm7Message {
    /// Which message this is.
    pub fn kind(&self) -> Mm7MessageKind {
        match self {
            Self::SubmitReq(_) => Mm7MessageKind::SubmitReq,
            Self::SubmitRsp(_) => Mm7MessageKind::SubmitRsp,
            Self::DeliverReq(_) => Mm7MessageKind::DeliverReq,
            Self::DeliverRsp(_) => Mm7MessageKind::DeliverRsp,
            Self::DeliveryReportReq(_) => Mm7MessageKind::DeliveryReportReq,
            Self::DeliveryReportRsp(_) => Mm7MessageKind::DeliveryReportRsp,
            Self::ReadReplyReq(_) => Mm7MessageKind::ReadReplyReq,
            Self::ReadReplyRsp(_) => Mm7MessageKind::ReadReplyRsp,
            Self::CancelReq(_) => Mm7MessageKind::CancelReq,
            Self::CancelRsp(_) => Mm7MessageKind::CancelRsp,
            Self::ReplaceReq(_) => Mm7MessageKind::ReplaceReq,
            Self::ReplaceRsp(_) => Mm7MessageKind::ReplaceRsp,
            Self::RsErrorRsp(_) => Mm7MessageKind::RsErrorRsp,
            Self::VaspErrorRsp(_) => Mm7MessageKind::VaspErrorRsp,
            Self::Fault(_) => Mm7MessageKind::Fault,
        }
    }

    /// The response status, for responses, error responses and faults that
    /// carry one.
    pub fn status(&self) -> Option<&Mm7Status> {
        match self {
            Self::SubmitRsp(m) => Some(&m.status),
            Self::DeliverRsp(m) => Some(&m.status),
            Self::DeliveryReportRsp(m)
            | Self::ReadReplyRsp(m)
            | Self::CancelRsp(m)
            | Self::ReplaceRsp(m) => Some(&m.status),
            Self::RsErrorRsp(m) | Self::VaspErrorRsp(m) => Some(&m.status),
            Self::Fault(f) => f.detail.as_ref().map(|d| &d.error().status),
            _ => None,
        }
    }
}

/// MM7_submit.REQ: the VASP sends a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubmitReq {
    /// `SenderIdentification`.
    pub sender_identification: SenderIdentification,
    /// `Recipients`.
    pub recipients: Recipients,
    /// `ServiceCode`.
    pub service_code: Option<String>,
    /// `LinkedID`: the MO message this one answers.
    pub linked_id: Option<String>,
    /// `MessageClass`.
    pub message_class: Option<MessageClass>,
    /// `TimeStamp`.
    pub time_stamp: Option<String>,
    /// `EarliestDeliveryTime`.
    pub earliest_delivery_time: Option<String>,
    /// `ExpiryDate` (a date-time or an ISO 8601 duration).
    pub expiry_date: Option<String>,
    /// `DeliveryReport`: whether delivery reports are wanted.
    pub delivery_report: Option<bool>,
    /// `ReadReply`.
    pub read_reply: Option<bool>,
    /// `Priority`.
    pub priority: Option<Mm7Priority>,
    /// `Subject`.
    pub subject: Option<String>,
    /// `ChargedParty`.
    pub charged_party: Option<ChargedParty>,
    /// `ChargedPartyID`.
    pub charged_party_id: Option<String>,
    /// `DistributionIndicator`.
    pub distribution_indicator: Option<bool>,
    /// `Content`.
    pub content: Option<ContentRef>,
}

impl SubmitReq {
    /// A submit with only its required elements.
    pub fn new(sender_identification: SenderIdentification, recipients: Recipients) -> Self {
        Self {
            sender_identification,
            recipients,
            service_code: None,
            linked_id: None,
            message_class: None,
            time_stamp: None,
            earliest_delivery_time: None,
            expiry_date: None,
            delivery_report: None,
            read_reply: None,
            priority: None,
            subject: None,
            charged_party: None,
            charged_party_id: None,
            distribution_indicator: None,
            content: None,
        }
    }
}

/// MM7_submit.RES.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubmitRsp {
    /// `Status`.
    pub status: Mm7Status,
    /// `MessageID`: the MMSC's id for the message, which delivery reports
    /// name. Required by TS 23.140 on success; MMSCs omit it on failures.
    pub message_id: Option<String>,
}

/// MM7_deliver.REQ: the MMSC delivers a subscriber's message to the VASP.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliverReq {
    /// `MMSRelayServerID`.
    pub mms_relay_server_id: Option<String>,
    /// `LinkedID`: quote it in a `SubmitReq` that answers this message.
    pub linked_id: Option<String>,
    /// `Sender`.
    pub sender: Mm7Address,
    /// `Recipients`.
    pub recipients: Option<Recipients>,
    /// `TimeStamp`.
    pub time_stamp: Option<String>,
    /// `ReplyChargingID`.
    pub reply_charging_id: Option<String>,
    /// `Priority`.
    pub priority: Option<Mm7Priority>,
    /// `Subject`.
    pub subject: Option<String>,
    /// `Content`.
    pub content: Option<ContentRef>,
}

impl DeliverReq {
    /// A deliver with only its required elements.
    pub fn new(sender: Mm7Address) -> Self {
        Self {
            mms_relay_server_id: None,
            linked_id: None,
            sender,
            recipients: None,
            time_stamp: None,
            reply_charging_id: None,
            priority: None,
            subject: None,
            content: None,
        }
    }
}

/// MM7_deliver.RES.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliverRsp {
    /// `Status`.
    pub status: Mm7Status,
    /// `ServiceCode`.
    pub service_code: Option<String>,
}

/// MM7_delivery_report.REQ: the MMSC reports what became of a submitted
/// message for one recipient.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryReportReq {
    /// `MMSRelayServerID`.
    pub mms_relay_server_id: Option<String>,
    /// `MessageID`: the id from the `SubmitRsp`.
    pub message_id: String,
    /// `Recipient`.
    pub recipient: Mm7Address,
    /// `Sender`.
    pub sender: Mm7Address,
    /// `Date`.
    pub date: String,
    /// `MMStatus`.
    pub mm_status: MmStatus,
    /// `StatusText`.
    pub status_text: Option<String>,
}

/// MM7_read_reply.REQ: the MMSC reports that a recipient read (or deleted)
/// a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadReplyReq {
    /// `MMSRelayServerID`.
    pub mms_relay_server_id: Option<String>,
    /// `MessageID`.
    pub message_id: String,
    /// `Recipient`.
    pub recipient: Mm7Address,
    /// `Sender`.
    pub sender: Mm7Address,
    /// `TimeStamp`.
    pub time_stamp: String,
    /// `MMStatus`.
    pub mm_status: MmStatus,
    /// `StatusText`.
    pub status_text: Option<String>,
}

/// A response that carries only its `Status`: MM7_delivery_report.RES,
/// MM7_read_reply.RES, MM7_cancel.RES and MM7_replace.RES.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusRsp {
    /// `Status`.
    pub status: Mm7Status,
}

/// MM7_delivery_report.RES.
pub type DeliveryReportRsp = StatusRsp;
/// MM7_read_reply.RES.
pub type ReadReplyRsp = StatusRsp;
/// MM7_cancel.RES.
pub type CancelRsp = StatusRsp;
/// MM7_replace.RES.
pub type ReplaceRsp = StatusRsp;

/// MM7_cancel.REQ: the VASP withdraws a message not yet delivered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CancelReq {
    /// `SenderIdentification`.
    pub sender_identification: Option<SenderIdentification>,
    /// `MessageID`: the message to cancel.
    pub message_id: String,
}

/// MM7_replace.REQ: the VASP replaces a message not yet delivered. The
/// message to replace is named by `MessageID` (TS 23.140 has no separate
/// replace id).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplaceReq {
    /// `SenderIdentification`.
    pub sender_identification: Option<SenderIdentification>,
    /// `MessageID`: the message to replace.
    pub message_id: String,
    /// `ServiceCode`.
    pub service_code: Option<String>,
    /// `TimeStamp`.
    pub time_stamp: Option<String>,
    /// `ReadReply`.
    pub read_reply: Option<bool>,
    /// `EarliestDeliveryTime`.
    pub earliest_delivery_time: Option<String>,
    /// `DistributionIndicator`.
    pub distribution_indicator: Option<bool>,
    /// `Content`.
    pub content: Option<ContentRef>,
}

/// `RSErrorRsp` (from the MMSC) or `VASPErrorRsp` (from the VASP): a request
/// refused as a whole.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorRsp {
    /// `Status`. Some MMSCs put `StatusCode` and `StatusText` directly in
    /// the error element; they are read into this too.
    pub status: Mm7Status,
}

/// A SOAP 1.1 Fault.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SoapFault {
    /// `faultcode`, as sent (a QName such as `env:Client`).
    pub code: String,
    /// `faultstring`.
    pub string: String,
    /// `faultactor`.
    pub actor: Option<String>,
    /// The MM7 error response in `detail`, when there is one.
    pub detail: Option<FaultDetail>,
}

impl SoapFault {
    /// `faultcode` without its prefix: `Client`, `Server`,
    /// `MustUnderstand`, `VersionMismatch`.
    pub fn code_local_name(&self) -> &str {
        self.code.rsplit(':').next().unwrap_or(&self.code)
    }
}

/// The MM7 error response inside a Fault's `detail`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FaultDetail {
    /// `RSErrorRsp`: the MMSC refused the VASP's request.
    RsError(ErrorRsp),
    /// `VASPErrorRsp`: the VASP refused the MMSC's request.
    VaspError(ErrorRsp),
}

impl FaultDetail {
    /// The error response, whichever side sent it.
    pub fn error(&self) -> &ErrorRsp {
        match self {
            Self::RsError(e) | Self::VaspError(e) => e,
        }
    }
}
