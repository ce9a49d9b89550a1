//! The JSON form of PDUs, for `carrier-gateway pdu decode|encode` (the command line, README.md).
//!
//! One object per PDU: `command` (the spec's name), `command_status`,
//! `sequence_number`, then the mandatory fields under their spec names in wire
//! order, then `tlvs` (always present, `[]` when none). Integers are numbers;
//! octet strings (`short_message`, TLV values) are lowercase hex; C-octet
//! strings are strings, mapping each octet to the code point of the same
//! value (ISO-8859-1), so that every octet sequence — ASCII, as the spec
//! wants, or not — survives `decode` then `encode` unchanged. Missing fields
//! take their zero value; unknown fields are an error, so a typo is not
//! silently ignored.

use serde_json::{Map, Value, json};

use super::field::Spec;
use super::multi::{DestAddress, DestAddresses, UnsuccessSme, UnsuccessSmes};
use super::octets::{COctetString, ShortMessage};
use super::pdu::{Body, Pdu};
use super::tlv::{Tlv, TlvTag, Tlvs};
use super::values::{
    DataCoding, EsmClass, InterfaceVersion, MessageState, Npi, PriorityFlag, RegisteredDelivery,
    Ton,
};
use super::{CommandId, CommandStatus};

/// Why a JSON document is not a PDU.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct JsonError(String);

fn err(field: &str, what: impl std::fmt::Display) -> JsonError {
    JsonError(format!("field `{field}`: {what}"))
}

/// A field's JSON form.
pub(crate) trait JsonField: Sized {
    fn to_json(&self, name: &str, obj: &mut Map<String, Value>);
    fn from_json(obj: &Map<String, Value>, spec: &Spec) -> Result<Self, JsonError>;
}

fn get_uint(obj: &Map<String, Value>, name: &str, max: u64) -> Result<u64, JsonError> {
    match obj.get(name) {
        None | Some(Value::Null) => Ok(0),
        Some(v) => match v.as_u64() {
            Some(n) if n <= max => Ok(n),
            _ => Err(err(name, format!("expected an integer from 0 to {max}"))),
        },
    }
}

impl JsonField for u8 {
    fn to_json(&self, name: &str, obj: &mut Map<String, Value>) {
        obj.insert(name.to_owned(), json!(*self));
    }
    fn from_json(obj: &Map<String, Value>, spec: &Spec) -> Result<Self, JsonError> {
        get_uint(obj, spec.name, 0xFF).map(|n| n as u8)
    }
}

macro_rules! octet_json {
    ($($ty:ty),*) => {$(
        impl JsonField for $ty {
            fn to_json(&self, name: &str, obj: &mut Map<String, Value>) {
                obj.insert(name.to_owned(), json!(u8::from(*self)));
            }
            fn from_json(obj: &Map<String, Value>, spec: &Spec) -> Result<Self, JsonError> {
                get_uint(obj, spec.name, 0xFF).map(|n| <$ty>::from(n as u8))
            }
        }
    )*};
}

octet_json!(
    Ton,
    Npi,
    EsmClass,
    RegisteredDelivery,
    DataCoding,
    PriorityFlag,
    InterfaceVersion,
    MessageState
);

fn latin1_string(bytes: &[u8]) -> String {
    bytes.iter().map(|&b| char::from(b)).collect()
}

fn c_string_from(v: Option<&Value>, name: &str, max: usize) -> Result<COctetString, JsonError> {
    let s = match v {
        None | Some(Value::Null) => return Ok(COctetString::empty()),
        Some(Value::String(s)) => s,
        Some(_) => return Err(err(name, "expected a string")),
    };
    let mut bytes = Vec::with_capacity(s.len());
    for c in s.chars() {
        match u8::try_from(u32::from(c)) {
            Ok(b) => bytes.push(b),
            Err(_) => {
                return Err(err(
                    name,
                    format!(
                        "character {c:?} is not an octet (C-octet strings take U+0000..U+00FF)"
                    ),
                ));
            }
        }
    }
    if bytes.len() + 1 > max {
        return Err(err(
            name,
            format!("longer than {} octets", max.saturating_sub(1)),
        ));
    }
    COctetString::new(bytes).map_err(|e| err(name, e))
}

impl JsonField for COctetString {
    fn to_json(&self, name: &str, obj: &mut Map<String, Value>) {
        obj.insert(
            name.to_owned(),
            Value::String(latin1_string(self.as_bytes())),
        );
    }
    fn from_json(obj: &Map<String, Value>, spec: &Spec) -> Result<Self, JsonError> {
        c_string_from(obj.get(spec.name), spec.name, spec.max)
    }
}

fn hex_from(v: Option<&Value>, name: &str) -> Result<Vec<u8>, JsonError> {
    match v {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::String(s)) => crate::hex::decode(s).map_err(|e| err(name, e)),
        Some(_) => Err(err(name, "expected a hex string")),
    }
}

impl JsonField for ShortMessage {
    fn to_json(&self, name: &str, obj: &mut Map<String, Value>) {
        obj.insert("sm_length".to_owned(), json!(self.len()));
        obj.insert(
            name.to_owned(),
            Value::String(crate::hex::encode(self.as_bytes())),
        );
    }
    fn from_json(obj: &Map<String, Value>, spec: &Spec) -> Result<Self, JsonError> {
        let bytes = hex_from(obj.get(spec.name), spec.name)?;
        if let Some(len) = obj.get("sm_length").filter(|v| !v.is_null())
            && len.as_u64() != Some(bytes.len() as u64)
        {
            return Err(err(
                "sm_length",
                format!("does not match short_message ({} octets)", bytes.len()),
            ));
        }
        ShortMessage::new(bytes).map_err(|e| err(spec.name, e))
    }
}

impl JsonField for Tlvs {
    fn to_json(&self, name: &str, obj: &mut Map<String, Value>) {
        let list = self
            .iter()
            .map(|t| {
                json!({
                    "tag": t.tag().value(),
                    "name": t.tag().name(),
                    "value": crate::hex::encode(t.value()),
                })
            })
            .collect();
        obj.insert(name.to_owned(), Value::Array(list));
    }
    fn from_json(obj: &Map<String, Value>, spec: &Spec) -> Result<Self, JsonError> {
        let list = match obj.get(spec.name) {
            None | Some(Value::Null) => return Ok(Tlvs::new()),
            Some(Value::Array(list)) => list,
            Some(_) => return Err(err(spec.name, "expected a list")),
        };
        let mut tlvs = Tlvs::new();
        for (i, item) in list.iter().enumerate() {
            let field = format!("tlvs[{i}]");
            let Some(entry) = item.as_object() else {
                return Err(err(&field, "expected an object with tag and value"));
            };
            let tag = match (entry.get("tag"), entry.get("name")) {
                (Some(t), _) if !t.is_null() => match t.as_u64().map(u16::try_from) {
                    Some(Ok(t)) => TlvTag::from(t),
                    _ => return Err(err(&field, "tag must be an integer from 0 to 65535")),
                },
                (_, Some(Value::String(n))) => TlvTag::ALL
                    .iter()
                    .copied()
                    .find(|t| t.name() == Some(n.as_str()))
                    .ok_or_else(|| err(&field, format!("unknown TLV name {n:?}")))?,
                _ => return Err(err(&field, "needs a tag (number) or a name")),
            };
            let value = hex_from(entry.get("value"), &field)?;
            tlvs.push(Tlv::new(tag, value).map_err(|e| err(&field, e))?);
        }
        Ok(tlvs)
    }
}

fn sub_object<'a>(item: &'a Value, field: &str) -> Result<&'a Map<String, Value>, JsonError> {
    item.as_object()
        .ok_or_else(|| err(field, "expected an object"))
}

fn list_of<'a>(obj: &'a Map<String, Value>, name: &str) -> Result<&'a [Value], JsonError> {
    match obj.get(name) {
        None | Some(Value::Null) => Ok(&[]),
        Some(Value::Array(list)) if list.len() <= 255 => Ok(list),
        Some(_) => Err(err(name, "expected a list of at most 255 entries")),
    }
}

fn count_matches(obj: &Map<String, Value>, name: &str, len: usize) -> Result<(), JsonError> {
    match obj.get(name).filter(|v| !v.is_null()) {
        Some(v) if v.as_u64() != Some(len as u64) => Err(err(
            name,
            format!("does not match the list's {len} entries"),
        )),
        _ => Ok(()),
    }
}

impl JsonField for DestAddresses {
    fn to_json(&self, name: &str, obj: &mut Map<String, Value>) {
        obj.insert("number_of_dests".to_owned(), json!(self.0.len()));
        let list = self
            .0
            .iter()
            .map(|d| match d {
                DestAddress::SmeAddress {
                    dest_addr_ton,
                    dest_addr_npi,
                    destination_addr,
                } => json!({
                    "dest_flag": 1,
                    "dest_addr_ton": dest_addr_ton.value(),
                    "dest_addr_npi": dest_addr_npi.value(),
                    "destination_addr": latin1_string(destination_addr.as_bytes()),
                }),
                DestAddress::DistributionList { dl_name } => json!({
                    "dest_flag": 2,
                    "dl_name": latin1_string(dl_name.as_bytes()),
                }),
            })
            .collect();
        obj.insert(name.to_owned(), Value::Array(list));
    }
    fn from_json(obj: &Map<String, Value>, spec: &Spec) -> Result<Self, JsonError> {
        let list = list_of(obj, spec.name)?;
        count_matches(obj, "number_of_dests", list.len())?;
        let mut out = Vec::with_capacity(list.len());
        for item in list {
            let entry = sub_object(item, spec.name)?;
            out.push(match get_uint(entry, "dest_flag", 0xFF)? {
                1 => DestAddress::SmeAddress {
                    dest_addr_ton: Ton::from(get_uint(entry, "dest_addr_ton", 0xFF)? as u8),
                    dest_addr_npi: Npi::from(get_uint(entry, "dest_addr_npi", 0xFF)? as u8),
                    destination_addr: c_string_from(
                        entry.get("destination_addr"),
                        "destination_addr",
                        21,
                    )?,
                },
                2 => DestAddress::DistributionList {
                    dl_name: c_string_from(entry.get("dl_name"), "dl_name", 21)?,
                },
                _ => {
                    return Err(err(
                        "dest_flag",
                        "must be 1 (SME address) or 2 (distribution list)",
                    ));
                }
            });
        }
        Ok(DestAddresses(out))
    }
}

impl JsonField for UnsuccessSmes {
    fn to_json(&self, name: &str, obj: &mut Map<String, Value>) {
        obj.insert("no_unsuccess".to_owned(), json!(self.0.len()));
        let list = self
            .0
            .iter()
            .map(|s| {
                json!({
                    "dest_addr_ton": s.dest_addr_ton.value(),
                    "dest_addr_npi": s.dest_addr_npi.value(),
                    "destination_addr": latin1_string(s.destination_addr.as_bytes()),
                    "error_status_code": s.error_status_code.value(),
                })
            })
            .collect();
        obj.insert(name.to_owned(), Value::Array(list));
    }
    fn from_json(obj: &Map<String, Value>, spec: &Spec) -> Result<Self, JsonError> {
        let list = list_of(obj, spec.name)?;
        count_matches(obj, "no_unsuccess", list.len())?;
        let mut out = Vec::with_capacity(list.len());
        for item in list {
            let entry = sub_object(item, spec.name)?;
            out.push(UnsuccessSme {
                dest_addr_ton: Ton::from(get_uint(entry, "dest_addr_ton", 0xFF)? as u8),
                dest_addr_npi: Npi::from(get_uint(entry, "dest_addr_npi", 0xFF)? as u8),
                destination_addr: c_string_from(
                    entry.get("destination_addr"),
                    "destination_addr",
                    21,
                )?,
                error_status_code: CommandStatus::from(get_uint(
                    entry,
                    "error_status_code",
                    u64::from(u32::MAX),
                )? as u32),
            });
        }
        Ok(UnsuccessSmes(out))
    }
}

/// The JSON form of a PDU.
pub fn to_json(pdu: &Pdu) -> Value {
    let mut obj = Map::new();
    let id = pdu.command_id();
    obj.insert(
        "command".to_owned(),
        match id.name() {
            Some(name) => Value::String(name.to_owned()),
            None => json!(id.value()),
        },
    );
    obj.insert(
        "command_status".to_owned(),
        json!(pdu.command_status.value()),
    );
    obj.insert("sequence_number".to_owned(), json!(pdu.sequence_number));
    pdu.body.to_json(&mut obj);
    obj.entry("tlvs")
        .or_insert_with(|| Value::Array(Vec::new()));
    Value::Object(obj)
}

/// A PDU from its JSON form.
pub fn from_json(value: &Value) -> Result<Pdu, JsonError> {
    let obj = value
        .as_object()
        .ok_or_else(|| JsonError("a PDU is a JSON object".to_owned()))?;
    let id = match obj.get("command") {
        Some(Value::String(name)) => CommandId::from_name(name)
            .ok_or_else(|| err("command", format!("unknown command {name:?}")))?,
        _ => {
            return Err(err(
                "command",
                "required: the command's name, e.g. \"submit_sm\"",
            ));
        }
    };
    let command_status =
        CommandStatus::from(get_uint(obj, "command_status", u64::from(u32::MAX))? as u32);
    // Required: a PDU without one cannot be matched to its response, and a
    // silent 0 would make a crafted test PDU look valid.
    if !obj.get("sequence_number").is_some_and(Value::is_u64) {
        return Err(err(
            "sequence_number",
            "required: an integer from 0 to 4294967295",
        ));
    }
    let sequence_number = get_uint(obj, "sequence_number", u64::from(u32::MAX))? as u32;
    let body = match Body::from_json(id, obj) {
        Some(body) => body?,
        None => return Err(err("command", "unknown command")),
    };
    let pdu = Pdu {
        command_status,
        sequence_number,
        body,
    };
    // Every key must be one the PDU's JSON form has: catches typos.
    let known = to_json(&pdu);
    if let Some(known) = known.as_object() {
        if let Some(extra) = obj
            .keys()
            .find(|k| !known.contains_key(*k) && *k != "command_length")
        {
            return Err(err(extra, format!("not a field of {id}")));
        }
        if !matches!(obj.get("tlvs"), None | Some(Value::Null))
            && known.get("tlvs") == Some(&Value::Array(Vec::new()))
            && obj.get("tlvs") != known.get("tlvs")
        {
            return Err(err("tlvs", format!("{id} takes no TLVs")));
        }
    }
    Ok(pdu)
}
