//! From the SOAP part's XML to an [`Mm7Envelope`].
//!
//! Liberal in what it accepts: elements are found by local name in any
//! order and any prefix, unknown elements are skipped, booleans may be
//! `true`/`True`/`1`, `SenderAddress` and `Sender` may be typed or plain text,
//! and error responses may carry `StatusCode` without a `Status` around it.
//! What a message cannot do without (its `Status`, the delivery report's
//! `MessageID`…) is an error naming the element. The encoder is stricter:
//! it writes what TS 23.140 requires.

use super::error::{Mm7DecodeError, excerpt};
use super::message::{
    CancelReq, DeliverReq, DeliverRsp, DeliveryReportReq, ErrorRsp, FaultDetail, Mm7Envelope,
    Mm7Message, Mm7MessageKind, ReadReplyReq, ReplaceReq, SoapFault, StatusRsp, SubmitReq,
    SubmitRsp,
};
use super::namespace::{Mm7Version, is_soap_envelope};
use super::status::{Mm7Status, Mm7StatusCode};
use super::tree::{self, XmlElement};
use super::values::{
    ChargedParty, ContentRef, MessageClass, Mm7Address, Mm7AddressKind, Mm7Priority, MmStatus,
    Recipients, SenderIdentification,
};

/// Decodes the XML of an MM7 SOAP part.
///
/// Never panics; work is bounded by [`tree::MAX_INPUT`],
/// [`tree::MAX_DEPTH`] and [`tree::MAX_ELEMENTS`].
pub fn decode(input: &[u8]) -> Result<Mm7Envelope, Mm7DecodeError> {
    let root = tree::parse(input)?;
    if root.name != "Envelope" || !root.ns.as_deref().is_some_and(is_soap_envelope) {
        return Err(Mm7DecodeError::NotSoapEnvelope(excerpt(&root.name)));
    }
    let transaction = root.child("Header").and_then(|h| h.child("TransactionID"));
    let transaction_id = transaction.map(|t| t.value().to_owned());
    let header_version = transaction
        .and_then(|t| t.ns.as_deref())
        .and_then(Mm7Version::from_namespace);
    let body = root
        .child("Body")
        .and_then(XmlElement::first_child)
        .ok_or(Mm7DecodeError::MissingBody)?;

    if body.name == "Fault" && body.ns.as_deref().is_none_or(is_soap_envelope) {
        return decode_fault(body, transaction_id, header_version);
    }
    let kind = Mm7MessageKind::from_element(&body.name)
        .ok_or_else(|| Mm7DecodeError::UnknownMessage(excerpt(&body.name)))?;
    let version = match body.ns.as_deref() {
        Some(uri) => Mm7Version::from_namespace(uri)
            .ok_or_else(|| Mm7DecodeError::UnknownNamespace(excerpt(uri)))?,
        None => header_version.ok_or(Mm7DecodeError::MissingNamespace)?,
    };
    let message = decode_message(kind, body)?;
    Ok(Mm7Envelope {
        transaction_id,
        version,
        mm7_version: text(body, "MM7Version"),
        message,
    })
}

fn decode_message(kind: Mm7MessageKind, e: &XmlElement) -> Result<Mm7Message, Mm7DecodeError> {
    let name = kind.element();
    Ok(match kind {
        Mm7MessageKind::SubmitReq => Mm7Message::SubmitReq(SubmitReq {
            sender_identification: e
                .child("SenderIdentification")
                .map(sender_identification)
                .transpose()?
                .unwrap_or_default(),
            recipients: e
                .child("Recipients")
                .map(recipients)
                .transpose()?
                .unwrap_or_default(),
            service_code: text(e, "ServiceCode"),
            linked_id: text(e, "LinkedID"),
            message_class: text(e, "MessageClass").map(|t| MessageClass::from_text(&t)),
            time_stamp: text(e, "TimeStamp"),
            earliest_delivery_time: text(e, "EarliestDeliveryTime"),
            expiry_date: text(e, "ExpiryDate"),
            delivery_report: boolean(e, "DeliveryReport")?,
            read_reply: boolean(e, "ReadReply")?,
            priority: text(e, "Priority").map(|t| Mm7Priority::from_text(&t)),
            subject: text(e, "Subject"),
            charged_party: text(e, "ChargedParty").map(|t| ChargedParty::from_text(&t)),
            charged_party_id: text(e, "ChargedPartyID"),
            distribution_indicator: boolean(e, "DistributionIndicator")?,
            content: content(e)?,
        }),
        Mm7MessageKind::SubmitRsp => Mm7Message::SubmitRsp(SubmitRsp {
            status: status(e, name)?,
            message_id: text(e, "MessageID"),
        }),
        Mm7MessageKind::DeliverReq => Mm7Message::DeliverReq(DeliverReq {
            mms_relay_server_id: text(e, "MMSRelayServerID"),
            linked_id: text(e, "LinkedID"),
            sender: required_address(e, name, "Sender")?,
            recipients: e.child("Recipients").map(recipients).transpose()?,
            time_stamp: text(e, "TimeStamp"),
            reply_charging_id: text(e, "ReplyChargingID"),
            priority: text(e, "Priority").map(|t| Mm7Priority::from_text(&t)),
            subject: text(e, "Subject"),
            content: content(e)?,
        }),
        Mm7MessageKind::DeliverRsp => Mm7Message::DeliverRsp(DeliverRsp {
            status: status(e, name)?,
            service_code: text(e, "ServiceCode"),
        }),
        Mm7MessageKind::DeliveryReportReq => Mm7Message::DeliveryReportReq(DeliveryReportReq {
            mms_relay_server_id: text(e, "MMSRelayServerID"),
            message_id: required_text(e, name, "MessageID")?,
            recipient: required_address(e, name, "Recipient")?,
            sender: required_address(e, name, "Sender")?,
            date: required_text(e, name, "Date")?,
            mm_status: MmStatus::from_text(&required_text(e, name, "MMStatus")?),
            status_text: text(e, "StatusText"),
        }),
        Mm7MessageKind::ReadReplyReq => Mm7Message::ReadReplyReq(ReadReplyReq {
            mms_relay_server_id: text(e, "MMSRelayServerID"),
            message_id: required_text(e, name, "MessageID")?,
            recipient: required_address(e, name, "Recipient")?,
            sender: required_address(e, name, "Sender")?,
            time_stamp: required_text(e, name, "TimeStamp")?,
            mm_status: MmStatus::from_text(&required_text(e, name, "MMStatus")?),
            status_text: text(e, "StatusText"),
        }),
        Mm7MessageKind::CancelReq => Mm7Message::CancelReq(CancelReq {
            sender_identification: e
                .child("SenderIdentification")
                .map(sender_identification)
                .transpose()?,
            message_id: required_text(e, name, "MessageID")?,
        }),
        Mm7MessageKind::ReplaceReq => Mm7Message::ReplaceReq(ReplaceReq {
            sender_identification: e
                .child("SenderIdentification")
                .map(sender_identification)
                .transpose()?,
            message_id: required_text(e, name, "MessageID")?,
            service_code: text(e, "ServiceCode"),
            time_stamp: text(e, "TimeStamp"),
            read_reply: boolean(e, "ReadReply")?,
            earliest_delivery_time: text(e, "EarliestDeliveryTime"),
            distribution_indicator: boolean(e, "DistributionIndicator")?,
            content: content(e)?,
        }),
        Mm7MessageKind::DeliveryReportRsp => Mm7Message::DeliveryReportRsp(status_rsp(e, name)?),
        Mm7MessageKind::ReadReplyRsp => Mm7Message::ReadReplyRsp(status_rsp(e, name)?),
        Mm7MessageKind::CancelRsp => Mm7Message::CancelRsp(status_rsp(e, name)?),
        Mm7MessageKind::ReplaceRsp => Mm7Message::ReplaceRsp(status_rsp(e, name)?),
        Mm7MessageKind::RsErrorRsp => Mm7Message::RsErrorRsp(error_rsp(e, name)?),
        Mm7MessageKind::VaspErrorRsp => Mm7Message::VaspErrorRsp(error_rsp(e, name)?),
        Mm7MessageKind::Fault => {
            // A `Fault` outside the SOAP namespace (e.g. in an MM7 one) is
            // no SOAP Fault.
            return Err(Mm7DecodeError::UnknownMessage("Fault".to_owned()));
        }
    })
}

/// A SOAP Fault; its MM7 version comes from the `detail`'s error response,
/// else from the header's `TransactionID`.
fn decode_fault(
    fault: &XmlElement,
    transaction_id: Option<String>,
    header_version: Option<Mm7Version>,
) -> Result<Mm7Envelope, Mm7DecodeError> {
    let code = required_text(fault, "Fault", "faultcode")?;
    let string = text(fault, "faultstring").unwrap_or_default();
    let detail_error = fault.child("detail").and_then(|d| {
        d.children
            .iter()
            .find(|c| c.name == "RSErrorRsp" || c.name == "VASPErrorRsp")
    });
    let mut version = header_version;
    let mut mm7_version = None;
    let mut detail = None;
    if let Some(e) = detail_error {
        if let Some(uri) = e.ns.as_deref() {
            version = Some(
                Mm7Version::from_namespace(uri)
                    .ok_or_else(|| Mm7DecodeError::UnknownNamespace(excerpt(uri)))?,
            );
        }
        mm7_version = text(e, "MM7Version");
        let error = error_rsp(e, "detail")?;
        detail = Some(if e.name == "RSErrorRsp" {
            FaultDetail::RsError(error)
        } else {
            FaultDetail::VaspError(error)
        });
    }
    let Some(version) = version else {
        return Err(Mm7DecodeError::PlainFault {
            code: excerpt(&code),
            string: excerpt(&string),
        });
    };
    Ok(Mm7Envelope {
        transaction_id,
        version,
        mm7_version,
        message: Mm7Message::Fault(SoapFault {
            code,
            string,
            actor: text(fault, "faultactor"),
            detail,
        }),
    })
}

/// A child's trimmed text, if the child is there.
fn text(e: &XmlElement, name: &str) -> Option<String> {
    e.child(name).map(|c| c.value().to_owned())
}

fn required_text(
    e: &XmlElement,
    message: &'static str,
    element: &'static str,
) -> Result<String, Mm7DecodeError> {
    text(e, element).ok_or(Mm7DecodeError::MissingElement { message, element })
}

/// `xs:boolean`, forgiving ASCII case (`True` is common).
fn parse_bool(value: &str, element: &'static str) -> Result<bool, Mm7DecodeError> {
    if value.eq_ignore_ascii_case("true") || value == "1" {
        Ok(true)
    } else if value.eq_ignore_ascii_case("false") || value == "0" {
        Ok(false)
    } else {
        Err(Mm7DecodeError::InvalidValue {
            element,
            value: excerpt(value),
        })
    }
}

fn boolean(e: &XmlElement, element: &'static str) -> Result<Option<bool>, Mm7DecodeError> {
    e.child(element)
        .map(|c| parse_bool(c.value(), element))
        .transpose()
}

fn status_rsp(e: &XmlElement, message: &'static str) -> Result<StatusRsp, Mm7DecodeError> {
    Ok(StatusRsp {
        status: status(e, message)?,
    })
}

/// The `Status` block of a response.
fn status(e: &XmlElement, message: &'static str) -> Result<Mm7Status, Mm7DecodeError> {
    let block = e.child("Status").ok_or(Mm7DecodeError::MissingElement {
        message,
        element: "Status",
    })?;
    status_fields(block, "Status")
}

/// `StatusCode`, `StatusText` and `Details` of a block.
fn status_fields(block: &XmlElement, message: &'static str) -> Result<Mm7Status, Mm7DecodeError> {
    let code_text = required_text(block, message, "StatusCode")?;
    let code = code_text
        .parse::<u16>()
        .map_err(|_| Mm7DecodeError::InvalidValue {
            element: "StatusCode",
            value: excerpt(&code_text),
        })?;
    Ok(Mm7Status {
        code: Mm7StatusCode::from_u16(code),
        text: text(block, "StatusText"),
        details: block.child("Details").map(XmlElement::deep_text),
    })
}

/// `RSErrorRsp`/`VASPErrorRsp`: a `Status` block, or its fields directly.
fn error_rsp(e: &XmlElement, message: &'static str) -> Result<ErrorRsp, Mm7DecodeError> {
    let status = match e.child("Status") {
        Some(block) => status_fields(block, "Status")?,
        None if e.child("StatusCode").is_some() => status_fields(e, message)?,
        None => {
            return Err(Mm7DecodeError::MissingElement {
                message,
                element: "Status",
            });
        }
    };
    Ok(ErrorRsp { status })
}

/// An address element: its first `Number`, `RFC2822Address` or `ShortCode`
/// child, else its own text (the Rel-5 `SenderAddress` form).
fn address(e: &XmlElement) -> Result<Option<Mm7Address>, Mm7DecodeError> {
    if let Some((kind, child)) = e
        .children
        .iter()
        .find_map(|c| Mm7AddressKind::from_element(&c.name).map(|k| (k, c)))
    {
        return typed_address(kind, child).map(Some);
    }
    let value = e.value();
    Ok((!value.is_empty()).then(|| Mm7Address {
        kind: Mm7AddressKind::Plain,
        value: value.to_owned(),
        display_only: None,
    }))
}

fn typed_address(kind: Mm7AddressKind, e: &XmlElement) -> Result<Mm7Address, Mm7DecodeError> {
    Ok(Mm7Address {
        kind,
        value: e.value().to_owned(),
        display_only: e
            .attr("displayOnly")
            .map(|v| parse_bool(v.trim_matches(tree::is_xml_space), "displayOnly"))
            .transpose()?,
    })
}

fn required_address(
    e: &XmlElement,
    message: &'static str,
    element: &'static str,
) -> Result<Mm7Address, Mm7DecodeError> {
    e.child(element)
        .map(address)
        .transpose()?
        .flatten()
        .ok_or(Mm7DecodeError::MissingElement { message, element })
}

fn recipients(e: &XmlElement) -> Result<Recipients, Mm7DecodeError> {
    let list = |name: &str| -> Result<Vec<Mm7Address>, Mm7DecodeError> {
        let mut out = Vec::new();
        for group in e.children_named(name) {
            for child in &group.children {
                if let Some(kind) = Mm7AddressKind::from_element(&child.name) {
                    out.push(typed_address(kind, child)?);
                }
            }
        }
        Ok(out)
    };
    Ok(Recipients {
        to: list("To")?,
        cc: list("Cc")?,
        bcc: list("Bcc")?,
    })
}

fn sender_identification(e: &XmlElement) -> Result<SenderIdentification, Mm7DecodeError> {
    Ok(SenderIdentification {
        vasp_id: text(e, "VASPID"),
        vas_id: text(e, "VASID"),
        sender_address: e.child("SenderAddress").map(address).transpose()?.flatten(),
    })
}

fn content(e: &XmlElement) -> Result<Option<ContentRef>, Mm7DecodeError> {
    let Some(c) = e.child("Content") else {
        return Ok(None);
    };
    let href = c.attr("href").ok_or(Mm7DecodeError::MissingElement {
        message: "Content",
        element: "@href",
    })?;
    Ok(Some(ContentRef {
        href: href.trim_matches(tree::is_xml_space).to_owned(),
        allow_adaptations: c
            .attr("allowAdaptations")
            .map(|v| parse_bool(v.trim_matches(tree::is_xml_space), "allowAdaptations"))
            .transpose()?,
    }))
}
