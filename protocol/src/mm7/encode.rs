//! From an [`Mm7Envelope`] to the XML of the SOAP part, through quick-xml's
//! writer.
//!
//! The output follows TS 23.140's own examples: the SOAP 1.1 envelope under
//! the `env` prefix, the `TransactionID` header in the `mm7` prefix with
//! `env:mustUnderstand="1"`, and the body element in the chosen version's
//! namespace as the default namespace, so its children are in it too.
//! Elements are written in schema order, and every element
//! [`super::required_elements`] names for the message is written.
//!
//! Text is escaped here rather than by the writer, to also keep what XML
//! would otherwise normalize away: a carriage return in text, and tabs and
//! line breaks in attribute values, are written as character references.
//! Characters XML 1.0 cannot carry at all are refused with the element's name.

use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};

use super::error::Mm7EncodeError;
use super::message::{
    CancelReq, DeliverReq, DeliveryReportReq, ErrorRsp, FaultDetail, Mm7Envelope, Mm7Message,
    ReadReplyReq, ReplaceReq, SoapFault, SubmitReq, SubmitRsp,
};
use super::namespace::SOAP_ENVELOPE_NS;
use super::status::Mm7Status;
use super::tree::is_xml_char;
use super::values::{ContentRef, Mm7Address, Recipients, SenderIdentification};

/// Encodes an envelope as the XML of the SOAP part (UTF-8, with an XML
/// declaration).
pub fn encode(envelope: &Mm7Envelope) -> Result<Vec<u8>, Mm7EncodeError> {
    let mut out = XmlOut {
        writer: Writer::new(Vec::with_capacity(1024)),
    };
    let ns = envelope.version.namespace();
    out.event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
    out.start("env:Envelope", &[("xmlns:env", SOAP_ENVELOPE_NS)])?;
    if let Some(id) = &envelope.transaction_id {
        out.start("env:Header", &[])?;
        out.start(
            "mm7:TransactionID",
            &[("xmlns:mm7", ns), ("env:mustUnderstand", "1")],
        )?;
        out.text("TransactionID", id)?;
        out.end("mm7:TransactionID")?;
        out.end("env:Header")?;
    }
    out.start("env:Body", &[])?;
    let version = envelope.mm7_version_text();
    let kind = envelope.message.kind();
    let name = kind.element();
    if let Mm7Message::Fault(fault) = &envelope.message {
        write_fault(&mut out, fault, ns, version)?;
    } else {
        out.start(name, &[("xmlns", ns)])?;
        out.leaf("MM7Version", version)?;
        write_body(&mut out, &envelope.message)?;
        out.end(name)?;
    }
    out.end("env:Body")?;
    out.end("env:Envelope")?;
    Ok(out.writer.into_inner())
}

fn write_body(out: &mut XmlOut, message: &Mm7Message) -> Result<(), Mm7EncodeError> {
    match message {
        Mm7Message::SubmitReq(m) => write_submit_req(out, m),
        Mm7Message::SubmitRsp(m) => write_submit_rsp(out, m),
        Mm7Message::DeliverReq(m) => write_deliver_req(out, m),
        Mm7Message::DeliverRsp(m) => {
            out.status(&m.status)?;
            out.opt_leaf("ServiceCode", m.service_code.as_deref())
        }
        Mm7Message::DeliveryReportReq(m) => write_delivery_report_req(out, m),
        Mm7Message::ReadReplyReq(m) => write_read_reply_req(out, m),
        Mm7Message::CancelReq(m) => write_cancel_req(out, m),
        Mm7Message::ReplaceReq(m) => write_replace_req(out, m),
        Mm7Message::DeliveryReportRsp(m)
        | Mm7Message::ReadReplyRsp(m)
        | Mm7Message::CancelRsp(m)
        | Mm7Message::ReplaceRsp(m) => out.status(&m.status),
        Mm7Message::RsErrorRsp(m) | Mm7Message::VaspErrorRsp(m) => out.status(&m.status),
        // Written by `write_fault`.
        Mm7Message::Fault(_) => Ok(()),
    }
}

fn write_submit_req(out: &mut XmlOut, m: &SubmitReq) -> Result<(), Mm7EncodeError> {
    if m.recipients.is_empty() {
        return Err(Mm7EncodeError::MissingElement {
            message: "SubmitReq",
            element: "Recipients",
        });
    }
    out.sender_identification(&m.sender_identification)?;
    out.recipients(&m.recipients)?;
    out.opt_leaf("ServiceCode", m.service_code.as_deref())?;
    out.opt_leaf("LinkedID", m.linked_id.as_deref())?;
    out.opt_leaf("MessageClass", m.message_class.as_ref().map(|v| v.as_str()))?;
    out.opt_leaf("TimeStamp", m.time_stamp.as_deref())?;
    out.opt_leaf("EarliestDeliveryTime", m.earliest_delivery_time.as_deref())?;
    out.opt_leaf("ExpiryDate", m.expiry_date.as_deref())?;
    out.opt_bool("DeliveryReport", m.delivery_report)?;
    out.opt_bool("ReadReply", m.read_reply)?;
    out.opt_leaf("Priority", m.priority.as_ref().map(|v| v.as_str()))?;
    out.opt_leaf("Subject", m.subject.as_deref())?;
    out.opt_leaf("ChargedParty", m.charged_party.as_ref().map(|v| v.as_str()))?;
    out.opt_leaf("ChargedPartyID", m.charged_party_id.as_deref())?;
    out.opt_bool("DistributionIndicator", m.distribution_indicator)?;
    out.content(m.content.as_ref())
}

fn write_submit_rsp(out: &mut XmlOut, m: &SubmitRsp) -> Result<(), Mm7EncodeError> {
    out.status(&m.status)?;
    match &m.message_id {
        Some(id) => out.leaf("MessageID", id),
        None if m.status.code.is_success() => Err(Mm7EncodeError::MissingElement {
            message: "SubmitRsp",
            element: "MessageID",
        }),
        None => Ok(()),
    }
}

fn write_deliver_req(out: &mut XmlOut, m: &DeliverReq) -> Result<(), Mm7EncodeError> {
    out.opt_leaf("MMSRelayServerID", m.mms_relay_server_id.as_deref())?;
    out.opt_leaf("LinkedID", m.linked_id.as_deref())?;
    out.address("Sender", &m.sender)?;
    if let Some(r) = &m.recipients {
        out.recipients(r)?;
    }
    out.opt_leaf("TimeStamp", m.time_stamp.as_deref())?;
    out.opt_leaf("ReplyChargingID", m.reply_charging_id.as_deref())?;
    out.opt_leaf("Priority", m.priority.as_ref().map(|v| v.as_str()))?;
    out.opt_leaf("Subject", m.subject.as_deref())?;
    out.content(m.content.as_ref())
}

fn write_delivery_report_req(
    out: &mut XmlOut,
    m: &DeliveryReportReq,
) -> Result<(), Mm7EncodeError> {
    out.opt_leaf("MMSRelayServerID", m.mms_relay_server_id.as_deref())?;
    out.leaf("MessageID", &m.message_id)?;
    out.address("Recipient", &m.recipient)?;
    out.address("Sender", &m.sender)?;
    out.leaf("Date", &m.date)?;
    out.leaf("MMStatus", m.mm_status.as_str())?;
    out.opt_leaf("StatusText", m.status_text.as_deref())
}

fn write_read_reply_req(out: &mut XmlOut, m: &ReadReplyReq) -> Result<(), Mm7EncodeError> {
    out.opt_leaf("MMSRelayServerID", m.mms_relay_server_id.as_deref())?;
    out.leaf("MessageID", &m.message_id)?;
    out.address("Recipient", &m.recipient)?;
    out.address("Sender", &m.sender)?;
    out.leaf("TimeStamp", &m.time_stamp)?;
    out.leaf("MMStatus", m.mm_status.as_str())?;
    out.opt_leaf("StatusText", m.status_text.as_deref())
}

fn write_cancel_req(out: &mut XmlOut, m: &CancelReq) -> Result<(), Mm7EncodeError> {
    if let Some(s) = &m.sender_identification {
        out.sender_identification(s)?;
    }
    out.leaf("MessageID", &m.message_id)
}

fn write_replace_req(out: &mut XmlOut, m: &ReplaceReq) -> Result<(), Mm7EncodeError> {
    if let Some(s) = &m.sender_identification {
        out.sender_identification(s)?;
    }
    out.leaf("MessageID", &m.message_id)?;
    out.opt_leaf("ServiceCode", m.service_code.as_deref())?;
    out.opt_leaf("TimeStamp", m.time_stamp.as_deref())?;
    out.opt_bool("ReadReply", m.read_reply)?;
    out.opt_leaf("EarliestDeliveryTime", m.earliest_delivery_time.as_deref())?;
    out.opt_bool("DistributionIndicator", m.distribution_indicator)?;
    out.content(m.content.as_ref())
}

/// A SOAP 1.1 Fault; the MM7 error response goes in `detail`.
fn write_fault(
    out: &mut XmlOut,
    fault: &SoapFault,
    ns: &str,
    version: &str,
) -> Result<(), Mm7EncodeError> {
    out.start("env:Fault", &[])?;
    out.leaf("faultcode", &fault.code)?;
    out.leaf("faultstring", &fault.string)?;
    out.opt_leaf("faultactor", fault.actor.as_deref())?;
    if let Some(detail) = &fault.detail {
        let (name, ErrorRsp { status }) = match detail {
            FaultDetail::RsError(e) => ("RSErrorRsp", e),
            FaultDetail::VaspError(e) => ("VASPErrorRsp", e),
        };
        out.start("detail", &[])?;
        out.start(name, &[("xmlns", ns)])?;
        out.leaf("MM7Version", version)?;
        out.status(status)?;
        out.end(name)?;
        out.end("detail")?;
    }
    out.end("env:Fault")
}

/// The writer with MM7's element helpers.
struct XmlOut {
    writer: Writer<Vec<u8>>,
}

impl XmlOut {
    fn event(&mut self, event: Event<'_>) -> Result<(), Mm7EncodeError> {
        self.writer
            .write_event(event)
            .map_err(|e| Mm7EncodeError::Writer(e.to_string()))
    }

    /// A start tag with attributes (values escaped here).
    fn start(
        &mut self,
        name: &'static str,
        attrs: &[(&'static str, &str)],
    ) -> Result<(), Mm7EncodeError> {
        let mut content = String::from(name);
        for (key, value) in attrs {
            content.push(' ');
            content.push_str(key);
            content.push_str("=\"");
            escape_into(&mut content, value, true, key)?;
            content.push('"');
        }
        self.event(Event::Start(BytesStart::from_content(content, name.len())))
    }

    fn end(&mut self, name: &'static str) -> Result<(), Mm7EncodeError> {
        self.event(Event::End(BytesEnd::new(name)))
    }

    /// Escaped text; `element` names the value in errors.
    fn text(&mut self, element: &'static str, value: &str) -> Result<(), Mm7EncodeError> {
        if value.is_empty() {
            return Ok(());
        }
        let mut escaped = String::with_capacity(value.len());
        escape_into(&mut escaped, value, false, element)?;
        self.event(Event::Text(BytesText::from_escaped(escaped)))
    }

    fn leaf(&mut self, name: &'static str, value: &str) -> Result<(), Mm7EncodeError> {
        self.start(name, &[])?;
        self.text(name, value)?;
        self.end(name)
    }

    fn opt_leaf(&mut self, name: &'static str, value: Option<&str>) -> Result<(), Mm7EncodeError> {
        match value {
            Some(v) => self.leaf(name, v),
            None => Ok(()),
        }
    }

    fn opt_bool(&mut self, name: &'static str, value: Option<bool>) -> Result<(), Mm7EncodeError> {
        self.opt_leaf(name, value.map(bool_text))
    }

    fn status(&mut self, status: &Mm7Status) -> Result<(), Mm7EncodeError> {
        self.start("Status", &[])?;
        self.leaf("StatusCode", &status.code.as_u16().to_string())?;
        self.opt_leaf("StatusText", status.text.as_deref())?;
        self.opt_leaf("Details", status.details.as_deref())?;
        self.end("Status")
    }

    /// An address element: the typed child, or the Rel-5 plain text.
    fn address(&mut self, name: &'static str, address: &Mm7Address) -> Result<(), Mm7EncodeError> {
        self.start(name, &[])?;
        match address.kind.element() {
            Some(_) => self.typed_address(name, address)?,
            None if address.value.is_empty() => {
                return Err(Mm7EncodeError::MissingElement {
                    message: name,
                    element: "Number",
                });
            }
            None => self.text(name, &address.value)?,
        }
        self.end(name)
    }

    fn typed_address(
        &mut self,
        within: &'static str,
        address: &Mm7Address,
    ) -> Result<(), Mm7EncodeError> {
        let element = address
            .kind
            .element()
            .ok_or(Mm7EncodeError::UntypedAddress(within))?;
        match address.display_only {
            Some(d) => self.start(element, &[("displayOnly", bool_text(d))])?,
            None => self.start(element, &[])?,
        }
        self.text(element, &address.value)?;
        self.end(element)
    }

    fn recipients(&mut self, recipients: &Recipients) -> Result<(), Mm7EncodeError> {
        self.start("Recipients", &[])?;
        for (name, list) in [
            ("To", &recipients.to),
            ("Cc", &recipients.cc),
            ("Bcc", &recipients.bcc),
        ] {
            if list.is_empty() {
                continue;
            }
            self.start(name, &[])?;
            for address in list {
                self.typed_address(name, address)?;
            }
            self.end(name)?;
        }
        self.end("Recipients")
    }

    fn sender_identification(&mut self, s: &SenderIdentification) -> Result<(), Mm7EncodeError> {
        self.start("SenderIdentification", &[])?;
        self.opt_leaf("VASPID", s.vasp_id.as_deref())?;
        self.opt_leaf("VASID", s.vas_id.as_deref())?;
        if let Some(address) = &s.sender_address {
            self.address("SenderAddress", address)?;
        }
        self.end("SenderIdentification")
    }

    fn content(&mut self, content: Option<&ContentRef>) -> Result<(), Mm7EncodeError> {
        let Some(c) = content else {
            return Ok(());
        };
        match c.allow_adaptations {
            Some(a) => self.start(
                "Content",
                &[("href", &c.href), ("allowAdaptations", bool_text(a))],
            )?,
            None => self.start("Content", &[("href", &c.href)])?,
        }
        self.end("Content")
    }
}

fn bool_text(value: bool) -> &'static str {
    if value { "true" } else { "false" }
}

/// Escapes `value` into `out` for element text or (`attribute`) an
/// attribute value in double quotes.
fn escape_into(
    out: &mut String,
    value: &str,
    attribute: bool,
    element: &'static str,
) -> Result<(), Mm7EncodeError> {
    for c in value.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' if attribute => out.push_str("&quot;"),
            '\r' => out.push_str("&#13;"),
            '\n' if attribute => out.push_str("&#10;"),
            '\t' if attribute => out.push_str("&#9;"),
            c if !is_xml_char(c) => {
                return Err(Mm7EncodeError::InvalidChar {
                    element,
                    code: u32::from(c),
                });
            }
            c => out.push(c),
        }
    }
    Ok(())
}
