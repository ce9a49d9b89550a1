//! The options of an SMPP carrier (`protocol = "smpp"`).
//!
//! docs/configuration.md names the keys every carrier needs (`host`, `port`, `tls`,
//! `system_id`, `password`, `binds`, `window`); real SMSCs differ in far more
//! than that — address TON/NPI, how GSM 7-bit text is laid out, how long
//! messages are concatenated, how message ids are written, which error codes
//! mean "try again". Each such difference is an optional key here with a
//! default that fits most carriers, documented on its field; these doc
//! comments are the source of `docs/configuration.md`.
//!
//! The values are the protocol crate's own types (`Ton`, `Npi`,
//! `InterfaceVersion`, `CommandStatus`, `NationalLanguage`, `Concatenation`,
//! `IdFormat`), parsed by the names that crate gives them: one concept, one
//! type, so nothing translates between a config copy and the wire type, and a
//! value the protocol crate learns is configurable at once.

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::path::PathBuf;
use std::time::Duration;

use carrier_protocol::receipt::{IdFormat, MessageIdMapping};
use carrier_protocol::smpp::{CommandStatus, DEFAULT_MAX_PDU_LEN, InterfaceVersion, Npi, Ton};
use carrier_protocol::text::NationalLanguage;
use carrier_protocol::text::choose::Concatenation;

use crate::config::reader::{Ctx, Node, TableReader};
use crate::config::values::{
    NumberKind, PhoneNumber, Secret, parse_bool, parse_bounded_string, parse_existing_file,
    parse_host, parse_int, parse_list, parse_named, parse_port, parse_positive_duration,
    parse_positive_u32, parse_secret,
};

/// Every key an SMPP carrier accepts, besides `name` and `protocol`.
pub(crate) const SMPP_KEYS: &[&str] = &[
    "host",
    "port",
    "tls",
    "tls_ca_file",
    "system_id",
    "password",
    "system_type",
    "interface_version",
    "binds",
    "window",
    "throughput",
    "enquire_link_interval",
    "response_timeout",
    "bind_timeout",
    "reconnect_delay",
    "reconnect_max_delay",
    "source_ton",
    "source_npi",
    "dest_ton",
    "dest_npi",
    "gsm7_packed",
    "allow_latin1",
    "national_languages",
    "concatenation",
    "message_id_format",
    "max_pdu_len",
    "error_policy",
];

/// The bounds of `max_pdu_len`: below 1 KiB a long submit_sm or a
/// deliver_sm with TLVs no longer fits; above 16 MiB a hostile peer could make
/// a bind buffer that much.
const MAX_PDU_LEN_RANGE: (i128, i128) = (1024, 16 * 1024 * 1024);

/// The interface versions a bind may announce. 3.3 binds would lose every
/// TLV (SAR, message_payload, receipted_message_id) the gateway relies on.
const BINDABLE_VERSIONS: &[InterfaceVersion] = &[InterfaceVersion::V34, InterfaceVersion::V50];

/// National languages a carrier may list: every table but the default
/// alphabet, which is always allowed.
const NATIONAL_LANGUAGES: &[NationalLanguage] = NationalLanguage::ALL.as_slice().split_at(1).1;

/// An SMPP carrier: `binds` transceiver connections to one SMSC account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmppCarrier {
    /// Unique carrier name, referenced by `[[numbers]] carrier`.
    pub name: String,
    /// SMSC host name or IP address. Required.
    pub host: String,
    /// SMSC TCP port (1–65535). Required.
    pub port: u16,
    /// Connect with TLS. Default `false`.
    pub tls: bool,
    /// PEM file of CA certificates to verify the SMSC's TLS certificate with,
    /// instead of the system's roots. Only with `tls = true`; the file must
    /// exist at load. Default: the system roots.
    pub tls_ca_file: Option<PathBuf>,
    /// `system_id` of the bind (at most 15 ASCII characters). Required.
    pub system_id: String,
    /// `password` of the bind (at most 8 ASCII characters, per SMPP; may be
    /// empty). Required; may be `"env:NAME"`.
    pub password: Secret,
    /// `system_type` of the bind (at most 12 ASCII characters). Default `""`.
    pub system_type: String,
    /// SMPP version to bind with (the bind's `interface_version`): `"3.4"`
    /// or `"5.0"`. Default `"3.4"`.
    pub interface_version: InterfaceVersion,
    /// Number of transceiver connections (1–64). Default 1.
    pub binds: u32,
    /// Outstanding requests per bind (1–65535). Default 64.
    pub window: u32,
    /// Most `submit_sm` per second on each bind, for carriers that throttle
    /// per connection. Optional; default: no per-bind cap (the number,
    /// campaign and brand limits still apply).
    pub throughput: Option<NonZeroU32>,
    /// Send `enquire_link` after this long without traffic. Default `"30s"`.
    pub enquire_link_interval: Duration,
    /// How long to wait for the response to a request. Default `"10s"`.
    pub response_timeout: Duration,
    /// How long connecting may take — TCP connect, TLS handshake and the
    /// bind's response together — before the connection is dropped and
    /// retried with the reconnect backoff. Default `"10s"`.
    pub bind_timeout: Duration,
    /// First delay before reconnecting a lost bind; doubles on each failure
    /// (with jitter) up to `reconnect_max_delay`. Default `"1s"`.
    pub reconnect_delay: Duration,
    /// Longest delay between reconnection attempts; at least
    /// `reconnect_delay`. Default `"60s"`.
    pub reconnect_max_delay: Duration,
    /// `source_addr_ton` for every sender (0–255 or a name such as
    /// `"international"`). Default: automatic — 1 (international) for E.164
    /// numbers, 3 (network specific) for short codes.
    pub source_ton: Option<Ton>,
    /// `source_addr_npi` for every sender (0–255 or a name such as `"isdn"`).
    /// Default: automatic — 1 (ISDN/E.164) for E.164 numbers, 0 (unknown) for
    /// short codes.
    pub source_npi: Option<Npi>,
    /// `dest_addr_ton` for every recipient. Default: automatic, as for
    /// `source_ton`.
    pub dest_ton: Option<Ton>,
    /// `dest_addr_npi` for every recipient. Default: automatic, as for
    /// `source_npi`.
    pub dest_npi: Option<Npi>,
    /// Send GSM 7-bit text (data_coding 0) packed 8 septets into 7 octets.
    /// Default `false`: one septet per octet, the SMPP default
    /// (docs/architecture.md, "Fixed details").
    pub gsm7_packed: bool,
    /// Allow Latin-1 (data_coding 3) for text that fits it but not GSM 7-bit,
    /// which saves octets over UCS-2. Default `false`: many carriers mangle
    /// data_coding 3.
    pub allow_latin1: bool,
    /// GSM 03.38 national language shift tables the carrier and handsets
    /// accept, e.g. `["turkish", "spanish"]`. Default: none (the default
    /// alphabet only).
    pub national_languages: Vec<NationalLanguage>,
    /// How long messages are split: `"udh8"` (8-bit reference UDH), `"udh16"`
    /// (16-bit reference UDH), `"sar"` (SAR TLVs) or `"payload"` (one
    /// `message_payload` TLV; the SMSC splits). Default `"udh8"`.
    pub concatenation: Concatenation,
    /// How the carrier writes message ids: a string applying to all places,
    /// or a table `{ submit = …, receipt = …, receipted_message_id = … }`
    /// with each of `"verbatim"`, `"exact"`, `"decimal"`, `"hex"` or
    /// `"auto"`. Default `"verbatim"`; `receipted_message_id` defaults to the
    /// `submit` format.
    pub message_id_format: MessageIdMapping,
    /// Largest PDU accepted from the SMSC, in octets (1024–16777216); a
    /// larger `command_length` closes the connection. Default 66560.
    pub max_pdu_len: usize,
    /// Per-carrier overrides of which `command_status` values are retried
    /// (`transient`) and which fail a message (`permanent`). Values are
    /// names (`"ESME_RTHROTTLED"`), hex strings (`"0x00000058"`), decimal
    /// strings or integers. Default: no overrides.
    pub error_policy: ErrorPolicy,
}

fn automatic_ton_npi(number: &PhoneNumber) -> (Ton, Npi) {
    match number.kind() {
        // docs/architecture.md, "Fixed details": international / ISDN (E.164).
        NumberKind::E164 => (Ton::International, Npi::Isdn),
        // What most SMSCs expect for short codes.
        NumberKind::ShortCode => (Ton::NetworkSpecific, Npi::Unknown),
    }
}

impl SmppCarrier {
    /// TON/NPI to send `number` with as `source_addr`: the configured
    /// `source_ton` / `source_npi`, else automatic (1/1 for E.164, 3/0 for
    /// short codes).
    pub fn source_ton_npi(&self, number: &PhoneNumber) -> (Ton, Npi) {
        let (ton, npi) = automatic_ton_npi(number);
        (
            self.source_ton.unwrap_or(ton),
            self.source_npi.unwrap_or(npi),
        )
    }

    /// TON/NPI to send `number` with as `destination_addr`, as
    /// [`SmppCarrier::source_ton_npi`] with `dest_ton` / `dest_npi`.
    pub fn dest_ton_npi(&self, number: &PhoneNumber) -> (Ton, Npi) {
        let (ton, npi) = automatic_ton_npi(number);
        (self.dest_ton.unwrap_or(ton), self.dest_npi.unwrap_or(npi))
    }
}

/// Whether a failed request is worth retrying.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorClass {
    /// Retry with backoff until the message's validity ends.
    Transient,
    /// Fail the message with the carrier's code.
    Permanent,
}

/// A carrier's overrides of the default classification of `command_status`
/// values.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ErrorPolicy {
    overrides: HashMap<CommandStatus, ErrorClass>,
}

impl ErrorPolicy {
    /// The configured class of `command_status`, or `None` when the carrier
    /// keeps the gateway's default for it.
    pub fn classify(&self, command_status: CommandStatus) -> Option<ErrorClass> {
        // Through the wire value: `Other(0x58)` is `Throttled` too.
        self.overrides
            .get(&CommandStatus::from(command_status.value()))
            .copied()
    }

    /// Whether no status is overridden.
    pub fn is_empty(&self) -> bool {
        self.overrides.is_empty()
    }
}

/// A TON or NPI: an integer 0–255 or one of the protocol crate's names.
fn parse_address_code<T: Copy + From<u8> + 'static>(
    what: &'static str,
    named: &'static [T],
    name: fn(T) -> Option<&'static str>,
) -> impl FnOnce(&Node<'_, '_>, &mut Ctx<'_, '_>) -> Option<T> {
    move |node, cx| {
        if node.as_str().is_some() {
            parse_named(what, named, name)(node, cx)
        } else if node.as_integer().is_some() {
            parse_int::<u8>(0, 255)(node, cx).map(T::from)
        } else {
            node.wrong_type(cx, &format!("a {what} number (0–255) or name"));
            None
        }
    }
}

/// One `command_status`: an integer, `"0x…"`, a decimal string or an ESME_ name.
fn parse_command_status(node: &Node<'_, '_>, cx: &mut Ctx<'_, '_>) -> Option<CommandStatus> {
    let value = if let Some(text) = node.as_str() {
        let trimmed = text.trim();
        let parsed = if let Some(hex) = trimmed
            .strip_prefix("0x")
            .or_else(|| trimmed.strip_prefix("0X"))
        {
            u32::from_str_radix(hex, 16).ok()
        } else if trimmed.bytes().all(|b| b.is_ascii_digit()) && !trimmed.is_empty() {
            trimmed.parse::<u32>().ok()
        } else {
            CommandStatus::from_name(trimmed).map(CommandStatus::value)
        };
        match parsed {
            Some(v) => v,
            None => {
                node.error(
                    cx,
                    format!(
                        "`{text}` is not a command_status: write a name such as \
                         \"ESME_RTHROTTLED\", a hex value such as \"0x00000058\" or a number"
                    ),
                );
                return None;
            }
        }
    } else if node.as_integer().is_some() {
        parse_int(0, i128::from(u32::MAX))(node, cx)?
    } else {
        node.wrong_type(cx, "a command_status (name, hex string or integer)");
        return None;
    };
    if value == 0 {
        node.error(cx, "ESME_ROK (0) is success and cannot be classified");
        return None;
    }
    Some(CommandStatus::from(value))
}

fn parse_error_policy(node: &Node<'_, '_>, cx: &mut Ctx<'_, '_>) -> Option<ErrorPolicy> {
    let mut table = node.table(cx)?;
    let mut overrides: HashMap<CommandStatus, (ErrorClass, std::ops::Range<usize>)> =
        HashMap::new();
    let mut ok = true;
    for (key, class) in [
        ("transient", ErrorClass::Transient),
        ("permanent", ErrorClass::Permanent),
    ] {
        let Some(list) = table.take(key) else {
            continue;
        };
        let Some(items) = list.array(cx) else {
            ok = false;
            continue;
        };
        for item in items {
            let Some(status) = parse_command_status(&item, cx) else {
                ok = false;
                continue;
            };
            if let Some((_, first)) = overrides.get(&status) {
                let line = cx.line_of(first);
                item.error(
                    cx,
                    format!(
                        "command_status 0x{:08x} is already classified on line {line}",
                        status.value()
                    ),
                );
                ok = false;
                continue;
            }
            overrides.insert(status, (class, item.span()));
        }
    }
    table.finish(cx);
    ok.then(|| ErrorPolicy {
        overrides: overrides
            .into_iter()
            .map(|(status, (class, _))| (status, class))
            .collect(),
    })
}

fn parse_message_id_formats(node: &Node<'_, '_>, cx: &mut Ctx<'_, '_>) -> Option<MessageIdMapping> {
    let format = parse_named("message id format", &IdFormat::ALL, |f| Some(f.as_str()));
    if node.as_str().is_some() {
        let f = format(node, cx)?;
        return Some(MessageIdMapping {
            submit: f,
            receipt: f,
            receipted_message_id: f,
        });
    }
    let mut table = node.table(cx)?;
    let submit = table.or_default(cx, "submit", IdFormat::Verbatim, &format);
    let receipt = table.or_default(cx, "receipt", IdFormat::Verbatim, &format);
    let tlv = table.optional(cx, "receipted_message_id", &format);
    table.finish(cx);
    let submit = submit?;
    Some(MessageIdMapping {
        submit,
        receipt: receipt?,
        // SMPP defines the TLV as the id submit_sm_resp returned.
        receipted_message_id: tlv?.unwrap_or(submit),
    })
}

fn parse_national_languages(
    node: &Node<'_, '_>,
    cx: &mut Ctx<'_, '_>,
) -> Option<Vec<NationalLanguage>> {
    let one = parse_named("national language", NATIONAL_LANGUAGES, |l| {
        Some(l.as_str())
    });
    let mut seen: Vec<NationalLanguage> = Vec::new();
    parse_list(node, cx, |item, cx| {
        let language = one(item, cx)?;
        if seen.contains(&language) {
            item.error(cx, format!("`{}` is listed twice", language.as_str()));
            return None;
        }
        seen.push(language);
        Some(language)
    })
}

/// Decodes the protocol-specific keys of an SMPP carrier; `name` and
/// `protocol` have been taken already.
pub(crate) fn decode(
    name: Option<String>,
    table: &mut TableReader<'_, '_>,
    cx: &mut Ctx<'_, '_>,
) -> Option<SmppCarrier> {
    let host = table.required(cx, "host", parse_host);
    let port = table.required(cx, "port", parse_port);
    let tls = table.or_default(cx, "tls", false, parse_bool);
    let tls_ca_node = table.take("tls_ca_file");
    let tls_ca_file = match &tls_ca_node {
        Some(node) => parse_existing_file(node, cx).map(Some),
        None => Some(None),
    };
    if let (Some(node), Some(false)) = (&tls_ca_node, tls) {
        node.error(cx, "is set but `tls` is false");
    }
    let system_id = table.required(cx, "system_id", parse_bounded_string(15));
    let password = table.required(cx, "password", |node, cx| {
        let secret = parse_secret(node, cx)?;
        // Checked here rather than with parse_bounded_string so that the
        // message cannot show any part of the value.
        if secret.expose().len() > 8 {
            node.error(cx, "is longer than the 8 characters SMPP allows");
            return None;
        }
        Some(secret)
    });
    let system_type = table.or_default(cx, "system_type", String::new(), parse_bounded_string(12));
    let interface_version = table.or_default(
        cx,
        "interface_version",
        InterfaceVersion::V34,
        parse_named(
            "interface_version",
            BINDABLE_VERSIONS,
            InterfaceVersion::name,
        ),
    );
    let binds = table.or_default(cx, "binds", 1, parse_int(1, 64));
    let window = table.or_default(cx, "window", 64, parse_int(1, 65_535));
    let throughput = table.optional(cx, "throughput", parse_positive_u32);
    let enquire_link_interval = table.or_default(
        cx,
        "enquire_link_interval",
        Duration::from_secs(30),
        parse_positive_duration,
    );
    let response_timeout = table.or_default(
        cx,
        "response_timeout",
        Duration::from_secs(10),
        parse_positive_duration,
    );
    let bind_timeout = table.or_default(
        cx,
        "bind_timeout",
        Duration::from_secs(10),
        parse_positive_duration,
    );
    let reconnect_delay = table.or_default(
        cx,
        "reconnect_delay",
        Duration::from_secs(1),
        parse_positive_duration,
    );
    let max_delay_node = table.take("reconnect_max_delay");
    let reconnect_max_delay = match &max_delay_node {
        Some(node) => parse_positive_duration(node, cx),
        None => Some(Duration::from_secs(60)),
    };
    if let (Some(initial), Some(max)) = (reconnect_delay, reconnect_max_delay)
        && max < initial
    {
        let message = format!(
            "({}) is shorter than `reconnect_delay` ({})",
            humantime::format_duration(max),
            humantime::format_duration(initial)
        );
        match &max_delay_node {
            Some(node) => node.error(cx, message),
            // The default 60s is shorter than a configured reconnect_delay.
            None => table.missing(
                cx,
                "reconnect_max_delay",
                format!("the default {message}; set `reconnect_max_delay`"),
            ),
        }
    }
    let ton = || parse_address_code("TON", Ton::NAMED, Ton::name);
    let npi = || parse_address_code("NPI", Npi::NAMED, Npi::name);
    let source_ton = table.optional(cx, "source_ton", ton());
    let source_npi = table.optional(cx, "source_npi", npi());
    let dest_ton = table.optional(cx, "dest_ton", ton());
    let dest_npi = table.optional(cx, "dest_npi", npi());
    let gsm7_packed = table.or_default(cx, "gsm7_packed", false, parse_bool);
    let allow_latin1 = table.or_default(cx, "allow_latin1", false, parse_bool);
    let national_languages = table.or_default(
        cx,
        "national_languages",
        Vec::new(),
        parse_national_languages,
    );
    let concatenation = table.or_default(
        cx,
        "concatenation",
        Concatenation::Udh8,
        parse_named("concatenation", &Concatenation::ALL, |c| Some(c.as_str())),
    );
    let message_id_format = table.or_default(
        cx,
        "message_id_format",
        MessageIdMapping::default(),
        parse_message_id_formats,
    );
    let max_pdu_len = table.or_default(
        cx,
        "max_pdu_len",
        DEFAULT_MAX_PDU_LEN,
        parse_int(MAX_PDU_LEN_RANGE.0, MAX_PDU_LEN_RANGE.1),
    );
    let error_policy = table.or_default(
        cx,
        "error_policy",
        ErrorPolicy::default(),
        parse_error_policy,
    );

    Some(SmppCarrier {
        name: name?,
        host: host?,
        port: port?,
        tls: tls?,
        tls_ca_file: tls_ca_file?,
        system_id: system_id?,
        password: password?,
        system_type: system_type?,
        interface_version: interface_version?,
        binds: binds?,
        window: window?,
        throughput: throughput?,
        enquire_link_interval: enquire_link_interval?,
        response_timeout: response_timeout?,
        bind_timeout: bind_timeout?,
        reconnect_delay: reconnect_delay?,
        reconnect_max_delay: reconnect_max_delay?,
        source_ton: source_ton?,
        source_npi: source_npi?,
        dest_ton: dest_ton?,
        dest_npi: dest_npi?,
        gsm7_packed: gsm7_packed?,
        allow_latin1: allow_latin1?,
        national_languages: national_languages?,
        concatenation: concatenation?,
        message_id_format: message_id_format?,
        max_pdu_len: max_pdu_len?,
        error_policy: error_policy?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn automatic_addressing() {
        let e164 = PhoneNumber::parse("+15551230001").expect("valid");
        let short = PhoneNumber::parse("12345").expect("valid");
        assert_eq!(automatic_ton_npi(&e164), (Ton::International, Npi::Isdn));
        assert_eq!(
            automatic_ton_npi(&short),
            (Ton::NetworkSpecific, Npi::Unknown)
        );
        assert!(!NATIONAL_LANGUAGES.contains(&NationalLanguage::Default));
        assert_eq!(NATIONAL_LANGUAGES.len(), NationalLanguage::ALL.len() - 1);
    }
}
