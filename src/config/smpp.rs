//! The options of an SMPP carrier (`protocol = "smpp"`).
//!
//! DESIGN §4.2 names the keys every carrier needs (`host`, `port`, `tls`,
//! `system_id`, `password`, `binds`, `window`); real SMSCs differ in far more
//! than that — address TON/NPI, how GSM 7-bit text is laid out, how long
//! messages are concatenated, how message ids are written, which error codes
//! mean "try again". Each such difference is an optional key here with a
//! default that fits most carriers, documented on its field; these doc
//! comments are the source of `docs/configuration.md`.

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::path::PathBuf;
use std::time::Duration;

use crate::config::reader::{Ctx, Node, TableReader};
use crate::config::values::{
    NumberKind, PhoneNumber, Secret, parse_bool, parse_bounded_string, parse_choice,
    parse_existing_file, parse_host, parse_int, parse_list, parse_port, parse_positive_duration,
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

/// Default `max_pdu_len`: a 64 KiB `message_payload` plus headers, the same
/// as the protocol crate's framer default.
pub const DEFAULT_MAX_PDU_LEN: u32 = 64 * 1024 + 1024;

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
    /// SMPP version to bind with: `"3.4"` or `"5.0"`. Default `"3.4"`.
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
    /// How long a bind may take before the connection is dropped and retried.
    /// Default `"10s"`.
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
    pub source_ton: Option<u8>,
    /// `source_addr_npi` for every sender (0–255 or a name such as `"isdn"`).
    /// Default: automatic — 1 (ISDN/E.164) for E.164 numbers, 0 (unknown) for
    /// short codes.
    pub source_npi: Option<u8>,
    /// `dest_addr_ton` for every recipient. Default: automatic, as for
    /// `source_ton`.
    pub dest_ton: Option<u8>,
    /// `dest_addr_npi` for every recipient. Default: automatic, as for
    /// `source_npi`.
    pub dest_npi: Option<u8>,
    /// Send GSM 7-bit text (data_coding 0) packed 8 septets into 7 octets.
    /// Default `false`: one septet per octet, the SMPP default (DESIGN §4.6).
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
    pub message_id_format: MessageIdFormats,
    /// Largest PDU accepted from the SMSC, in octets (1024–16777216); a
    /// larger `command_length` closes the connection. Default 66560.
    pub max_pdu_len: u32,
    /// Per-carrier overrides of which `command_status` values are retried
    /// (`transient`) and which fail a message (`permanent`). Values are
    /// names (`"ESME_RTHROTTLED"`), hex strings (`"0x00000058"`), decimal
    /// strings or integers. Default: no overrides.
    pub error_policy: ErrorPolicy,
}

/// Type of number and numbering plan of an SMPP address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TonNpi {
    /// Type of number (SMPP 3.4 §5.2.5).
    pub ton: u8,
    /// Numbering plan indicator (SMPP 3.4 §5.2.6).
    pub npi: u8,
}

/// TON 1 (international), NPI 1 (ISDN/E.164): DESIGN §4.6's default for E.164.
pub const E164_TON_NPI: TonNpi = TonNpi { ton: 1, npi: 1 };
/// TON 3 (network specific), NPI 0 (unknown): what most SMSCs expect for short
/// codes.
pub const SHORT_CODE_TON_NPI: TonNpi = TonNpi { ton: 3, npi: 0 };

fn automatic_ton_npi(number: &PhoneNumber) -> TonNpi {
    match number.kind() {
        NumberKind::E164 => E164_TON_NPI,
        NumberKind::ShortCode => SHORT_CODE_TON_NPI,
    }
}

impl SmppCarrier {
    /// TON/NPI to send `number` with as `source_addr`.
    pub fn source_ton_npi(&self, number: &PhoneNumber) -> TonNpi {
        let auto = automatic_ton_npi(number);
        TonNpi {
            ton: self.source_ton.unwrap_or(auto.ton),
            npi: self.source_npi.unwrap_or(auto.npi),
        }
    }

    /// TON/NPI to send `number` with as `destination_addr`.
    pub fn dest_ton_npi(&self, number: &PhoneNumber) -> TonNpi {
        let auto = automatic_ton_npi(number);
        TonNpi {
            ton: self.dest_ton.unwrap_or(auto.ton),
            npi: self.dest_npi.unwrap_or(auto.npi),
        }
    }
}

/// `interface_version` of the bind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum InterfaceVersion {
    /// SMPP 3.4 (0x34).
    #[default]
    V34,
    /// SMPP 5.0 (0x50).
    V50,
}

impl InterfaceVersion {
    /// The octet sent in the bind.
    pub fn value(self) -> u8 {
        match self {
            InterfaceVersion::V34 => 0x34,
            InterfaceVersion::V50 => 0x50,
        }
    }
}

const INTERFACE_VERSIONS: &[(&str, InterfaceVersion)] = &[
    ("3.4", InterfaceVersion::V34),
    ("5.0", InterfaceVersion::V50),
];

/// A GSM 03.38 national language (3GPP TS 23.038 §6.2.1.2), by the names the
/// protocol crate uses; each is configured by its lower-case name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[allow(missing_docs)] // The variant names are the documentation.
pub enum NationalLanguage {
    Turkish,
    Spanish,
    Portuguese,
    Bengali,
    Gujarati,
    Hindi,
    Kannada,
    Malayalam,
    Oriya,
    Punjabi,
    Tamil,
    Telugu,
    Urdu,
}

const NATIONAL_LANGUAGES: &[(&str, NationalLanguage)] = &[
    ("turkish", NationalLanguage::Turkish),
    ("spanish", NationalLanguage::Spanish),
    ("portuguese", NationalLanguage::Portuguese),
    ("bengali", NationalLanguage::Bengali),
    ("gujarati", NationalLanguage::Gujarati),
    ("hindi", NationalLanguage::Hindi),
    ("kannada", NationalLanguage::Kannada),
    ("malayalam", NationalLanguage::Malayalam),
    ("oriya", NationalLanguage::Oriya),
    ("punjabi", NationalLanguage::Punjabi),
    ("tamil", NationalLanguage::Tamil),
    ("telugu", NationalLanguage::Telugu),
    ("urdu", NationalLanguage::Urdu),
];

impl NationalLanguage {
    /// The configuration name, e.g. `"turkish"`.
    pub fn as_str(self) -> &'static str {
        NATIONAL_LANGUAGES
            .iter()
            .find(|(_, l)| *l == self)
            .map_or("", |(name, _)| name)
    }
}

/// How a long message is split into parts for this carrier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Concatenation {
    /// User Data Header with an 8-bit reference (IEI 0x00).
    #[default]
    Udh8,
    /// User Data Header with a 16-bit reference (IEI 0x08).
    Udh16,
    /// `sar_msg_ref_num` / `sar_total_segments` / `sar_segment_seqnum` TLVs.
    Sar,
    /// The whole text in one `message_payload` TLV; the SMSC splits.
    Payload,
}

const CONCATENATIONS: &[(&str, Concatenation)] = &[
    ("udh8", Concatenation::Udh8),
    ("udh16", Concatenation::Udh16),
    ("sar", Concatenation::Sar),
    ("payload", Concatenation::Payload),
];

/// How a carrier writes a message id in one place; mirrors the protocol
/// crate's `IdFormat`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum MessageIdFormat {
    /// Opaque, compared case-insensitively after trimming.
    #[default]
    Verbatim,
    /// Opaque and case-sensitive.
    Exact,
    /// A decimal number (leading zeros do not matter).
    Decimal,
    /// A hexadecimal number (leading zeros and case do not matter).
    Hex,
    /// Guessed per id; configure the real formats once known.
    Auto,
}

const MESSAGE_ID_FORMATS: &[(&str, MessageIdFormat)] = &[
    ("verbatim", MessageIdFormat::Verbatim),
    ("exact", MessageIdFormat::Exact),
    ("decimal", MessageIdFormat::Decimal),
    ("hex", MessageIdFormat::Hex),
    ("auto", MessageIdFormat::Auto),
];

/// The id format of each place a carrier writes a message id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct MessageIdFormats {
    /// `submit_sm_resp.message_id`.
    pub submit: MessageIdFormat,
    /// The `id:` field of a delivery receipt's text.
    pub receipt: MessageIdFormat,
    /// The `receipted_message_id` TLV; defaults to `submit`'s format, since
    /// SMPP defines it as the id returned by `submit_sm_resp`.
    pub receipted_message_id: MessageIdFormat,
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
    overrides: HashMap<u32, ErrorClass>,
}

impl ErrorPolicy {
    /// The configured class of `command_status`, or `None` when the carrier
    /// keeps the gateway's default for it.
    pub fn classify(&self, command_status: u32) -> Option<ErrorClass> {
        self.overrides.get(&command_status).copied()
    }

    /// Whether no status is overridden.
    pub fn is_empty(&self) -> bool {
        self.overrides.is_empty()
    }
}

/// Names of SMPP 3.4 and 5.0 `command_status` values, for `error_policy`.
const COMMAND_STATUS_NAMES: &[(&str, u32)] = &[
    ("ESME_ROK", 0x0000_0000),
    ("ESME_RINVMSGLEN", 0x0000_0001),
    ("ESME_RINVCMDLEN", 0x0000_0002),
    ("ESME_RINVCMDID", 0x0000_0003),
    ("ESME_RINVBNDSTS", 0x0000_0004),
    ("ESME_RALYBND", 0x0000_0005),
    ("ESME_RINVPRTFLG", 0x0000_0006),
    ("ESME_RINVREGDLVFLG", 0x0000_0007),
    ("ESME_RSYSERR", 0x0000_0008),
    ("ESME_RINVSRCADR", 0x0000_000A),
    ("ESME_RINVDSTADR", 0x0000_000B),
    ("ESME_RINVMSGID", 0x0000_000C),
    ("ESME_RBINDFAIL", 0x0000_000D),
    ("ESME_RINVPASWD", 0x0000_000E),
    ("ESME_RINVSYSID", 0x0000_000F),
    ("ESME_RCANCELFAIL", 0x0000_0011),
    ("ESME_RREPLACEFAIL", 0x0000_0013),
    ("ESME_RMSGQFUL", 0x0000_0014),
    ("ESME_RINVSERTYP", 0x0000_0015),
    ("ESME_RINVNUMDESTS", 0x0000_0033),
    ("ESME_RINVDLNAME", 0x0000_0034),
    ("ESME_RINVDESTFLAG", 0x0000_0040),
    ("ESME_RINVSUBREP", 0x0000_0042),
    ("ESME_RINVESMCLASS", 0x0000_0043),
    ("ESME_RCNTSUBDL", 0x0000_0044),
    ("ESME_RSUBMITFAIL", 0x0000_0045),
    ("ESME_RINVSRCTON", 0x0000_0048),
    ("ESME_RINVSRCNPI", 0x0000_0049),
    ("ESME_RINVDSTTON", 0x0000_0050),
    ("ESME_RINVDSTNPI", 0x0000_0051),
    ("ESME_RINVSYSTYP", 0x0000_0053),
    ("ESME_RINVREPFLAG", 0x0000_0054),
    ("ESME_RINVNUMMSGS", 0x0000_0055),
    ("ESME_RTHROTTLED", 0x0000_0058),
    ("ESME_RINVSCHED", 0x0000_0061),
    ("ESME_RINVEXPIRY", 0x0000_0062),
    ("ESME_RINVDFTMSGID", 0x0000_0063),
    ("ESME_RX_T_APPN", 0x0000_0064),
    ("ESME_RX_P_APPN", 0x0000_0065),
    ("ESME_RX_R_APPN", 0x0000_0066),
    ("ESME_RQUERYFAIL", 0x0000_0067),
    ("ESME_RINVTLVSTREAM", 0x0000_00C0),
    ("ESME_RTLVNOTALLWD", 0x0000_00C1),
    ("ESME_RINVTLVLEN", 0x0000_00C2),
    ("ESME_RMISSINGTLV", 0x0000_00C3),
    ("ESME_RINVTLVVAL", 0x0000_00C4),
    ("ESME_RDELIVERYFAILURE", 0x0000_00FE),
    ("ESME_RUNKNOWNERR", 0x0000_00FF),
    ("ESME_RSERTYPUNAUTH", 0x0000_0100),
    ("ESME_RPROHIBITED", 0x0000_0101),
    ("ESME_RSERTYPUNAVAIL", 0x0000_0102),
    ("ESME_RSERTYPDENIED", 0x0000_0103),
    ("ESME_RINVDCS", 0x0000_0104),
    ("ESME_RINVSRCADDRSUBUNIT", 0x0000_0105),
    ("ESME_RINVDSTADDRSUBUNIT", 0x0000_0106),
    ("ESME_RINVBCASTFREQINT", 0x0000_0107),
    ("ESME_RINVBCASTALIAS_NAME", 0x0000_0108),
    ("ESME_RINVBCASTAREAFMT", 0x0000_0109),
    ("ESME_RINVNUMBCAST_AREAS", 0x0000_010A),
    ("ESME_RINVBCASTCNTTYPE", 0x0000_010B),
    ("ESME_RINVBCASTMSGCLASS", 0x0000_010C),
    ("ESME_RBCASTFAIL", 0x0000_010D),
    ("ESME_RBCASTQUERYFAIL", 0x0000_010E),
    ("ESME_RBCASTCANCELFAIL", 0x0000_010F),
    ("ESME_RINVBCAST_REP", 0x0000_0110),
    ("ESME_RINVBCASTSRVGRP", 0x0000_0111),
    ("ESME_RINVBCASTCHANIND", 0x0000_0112),
];

/// TON names accepted besides numbers.
const TON_NAMES: &[(&str, u8)] = &[
    ("unknown", 0),
    ("international", 1),
    ("national", 2),
    ("network_specific", 3),
    ("subscriber_number", 4),
    ("alphanumeric", 5),
    ("abbreviated", 6),
];

/// NPI names accepted besides numbers.
const NPI_NAMES: &[(&str, u8)] = &[
    ("unknown", 0),
    ("isdn", 1),
    ("data", 3),
    ("telex", 4),
    ("land_mobile", 6),
    ("national", 8),
    ("private", 9),
    ("ermes", 10),
    ("internet", 14),
    ("wap_client_id", 18),
];

/// A TON or NPI: an integer 0–255 or one of `names`.
fn parse_address_code(
    what: &'static str,
    names: &'static [(&'static str, u8)],
) -> impl FnOnce(&Node<'_, '_>, &mut Ctx<'_, '_>) -> Option<u8> {
    move |node, cx| {
        if node.as_str().is_some() {
            parse_choice(what, names)(node, cx)
        } else if node.as_integer().is_some() {
            parse_int(0, 255)(node, cx)
        } else {
            node.wrong_type(cx, &format!("a {what} number (0–255) or name"));
            None
        }
    }
}

/// One `command_status`: an integer, `"0x…"`, a decimal string or an ESME_ name.
fn parse_command_status(node: &Node<'_, '_>, cx: &mut Ctx<'_, '_>) -> Option<u32> {
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
            COMMAND_STATUS_NAMES
                .iter()
                .find(|(name, _)| name.eq_ignore_ascii_case(trimmed))
                .map(|(_, v)| *v)
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
    Some(value)
}

fn parse_error_policy(node: &Node<'_, '_>, cx: &mut Ctx<'_, '_>) -> Option<ErrorPolicy> {
    let mut table = node.table(cx)?;
    let mut overrides: HashMap<u32, (ErrorClass, std::ops::Range<usize>)> = HashMap::new();
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
                    format!("command_status 0x{status:08x} is already classified on line {line}"),
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

fn parse_message_id_formats(node: &Node<'_, '_>, cx: &mut Ctx<'_, '_>) -> Option<MessageIdFormats> {
    let format = parse_choice("message id format", MESSAGE_ID_FORMATS);
    if node.as_str().is_some() {
        let f = format(node, cx)?;
        return Some(MessageIdFormats {
            submit: f,
            receipt: f,
            receipted_message_id: f,
        });
    }
    let mut table = node.table(cx)?;
    let submit = table.or_default(cx, "submit", MessageIdFormat::Verbatim, &format);
    let receipt = table.or_default(cx, "receipt", MessageIdFormat::Verbatim, &format);
    let tlv = table.optional(cx, "receipted_message_id", &format);
    table.finish(cx);
    let submit = submit?;
    Some(MessageIdFormats {
        submit,
        receipt: receipt?,
        receipted_message_id: tlv?.unwrap_or(submit),
    })
}

fn parse_national_languages(
    node: &Node<'_, '_>,
    cx: &mut Ctx<'_, '_>,
) -> Option<Vec<NationalLanguage>> {
    let one = parse_choice("national language", NATIONAL_LANGUAGES);
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
        parse_choice("interface_version", INTERFACE_VERSIONS),
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
    let source_ton = table.optional(cx, "source_ton", parse_address_code("TON", TON_NAMES));
    let source_npi = table.optional(cx, "source_npi", parse_address_code("NPI", NPI_NAMES));
    let dest_ton = table.optional(cx, "dest_ton", parse_address_code("TON", TON_NAMES));
    let dest_npi = table.optional(cx, "dest_npi", parse_address_code("NPI", NPI_NAMES));
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
        parse_choice("concatenation", CONCATENATIONS),
    );
    let message_id_format = table.or_default(
        cx,
        "message_id_format",
        MessageIdFormats::default(),
        parse_message_id_formats,
    );
    let max_pdu_len = table.or_default(
        cx,
        "max_pdu_len",
        DEFAULT_MAX_PDU_LEN,
        parse_int(1024, 16 * 1024 * 1024),
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
    fn command_status_names_are_unique() {
        let mut values: Vec<u32> = COMMAND_STATUS_NAMES.iter().map(|(_, v)| *v).collect();
        values.sort_unstable();
        values.dedup();
        assert_eq!(values.len(), COMMAND_STATUS_NAMES.len());
    }

    #[test]
    fn automatic_addressing() {
        let e164 = PhoneNumber::parse("+15551230001").expect("valid");
        let short = PhoneNumber::parse("12345").expect("valid");
        assert_eq!(automatic_ton_npi(&e164), TonNpi { ton: 1, npi: 1 });
        assert_eq!(automatic_ton_npi(&short), TonNpi { ton: 3, npi: 0 });
        assert_eq!(NationalLanguage::Urdu.as_str(), "urdu");
        assert_eq!(InterfaceVersion::V50.value(), 0x50);
    }
}
