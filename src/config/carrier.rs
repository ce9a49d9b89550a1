//! Carriers: one `[[carriers]]` entry per SMSC account, MMSC or SIP trunk.
//!
//! A carrier is an enum by `protocol` because the three share nothing but a
//! name: an SMPP bind, an MM7 VASP endpoint and a SIP trunk have different
//! keys, and a key of one protocol on another (`url` on an SMPP carrier) is a
//! mistake worth stopping for. The decoder reads `protocol` first and then
//! only that protocol's keys, so anything else is reported as an unknown key
//! at its line — with a note naming the protocol it belongs to.

use std::net::SocketAddr;
use std::time::Duration;

use crate::config::Listeners;
use crate::config::reader::{Ctx, KeyPath, TableReader};
use crate::config::smpp::{self, SMPP_KEYS, SmppCarrier};
use crate::config::values::{
    HttpUrl, Secret, parse_choice, parse_existing_file, parse_host, parse_http_url, parse_listen,
    parse_name, parse_non_empty, parse_port, parse_positive_duration, parse_secret,
};

/// The wire protocol of a carrier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Protocol {
    /// SMPP 3.4 / 5.0 to an SMSC: SMS.
    Smpp,
    /// MM7 (SOAP over HTTP) to an MMSC: MMS.
    Mm7,
    /// SIP MESSAGE over a trunk: SMS.
    Sip,
}

const PROTOCOLS: &[(&str, Protocol)] = &[
    ("smpp", Protocol::Smpp),
    ("mm7", Protocol::Mm7),
    ("sip", Protocol::Sip),
];

impl Protocol {
    /// The configuration name: `"smpp"`, `"mm7"` or `"sip"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Smpp => "smpp",
            Protocol::Mm7 => "mm7",
            Protocol::Sip => "sip",
        }
    }

    /// Whether a number may use this protocol as its SMS route.
    pub fn carries_sms(self) -> bool {
        matches!(self, Protocol::Smpp | Protocol::Sip)
    }

    fn keys(self) -> &'static [&'static str] {
        match self {
            Protocol::Smpp => SMPP_KEYS,
            Protocol::Mm7 => MM7_KEYS,
            Protocol::Sip => SIP_KEYS,
        }
    }
}

/// One `[[carriers]]` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Carrier {
    /// `protocol = "smpp"`.
    Smpp(SmppCarrier),
    /// `protocol = "mm7"`.
    Mm7(Mm7Carrier),
    /// `protocol = "sip"`.
    Sip(SipCarrier),
}

impl Carrier {
    /// The carrier's unique name.
    pub fn name(&self) -> &str {
        match self {
            Carrier::Smpp(c) => &c.name,
            Carrier::Mm7(c) => &c.name,
            Carrier::Sip(c) => &c.name,
        }
    }

    pub fn protocol(&self) -> Protocol {
        match self {
            Carrier::Smpp(_) => Protocol::Smpp,
            Carrier::Mm7(_) => Protocol::Mm7,
            Carrier::Sip(_) => Protocol::Sip,
        }
    }
}

const MM7_KEYS: &[&str] = &[
    "url",
    "vasp_id",
    "vas_id",
    "listen",
    "username",
    "password",
    "response_timeout",
];

/// An MMSC reached over MM7; the gateway is the VASP.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mm7Carrier {
    /// Unique carrier name, referenced by `[[numbers]] mms_carrier`.
    pub name: String,
    /// The MMSC's MM7 endpoint (`http://` or `https://`). Required.
    pub url: HttpUrl,
    /// Our VASPID in `SenderIdentification`. Required.
    pub vasp_id: String,
    /// Our VASID in `SenderIdentification`. Optional; default: not sent.
    pub vas_id: Option<String>,
    /// Where the MMSC posts `MM7_deliver` and delivery reports (any path).
    /// Required.
    pub listen: SocketAddr,
    /// HTTP Basic user for requests to the MMSC. Optional; with `password`.
    pub username: Option<String>,
    /// HTTP Basic password; may be `"env:NAME"`. Optional; with `username`.
    pub password: Option<Secret>,
    /// How long to wait for the MMSC's answer to a request. Default `"30s"`.
    pub response_timeout: Duration,
}

const SIP_KEYS: &[&str] = &[
    "host",
    "port",
    "transport",
    "listen",
    "domain",
    "username",
    "password",
    "transient_codes",
    "inbound_auth",
    "tls_ca_file",
    "tls_cert_file",
    "tls_key_file",
];

/// Final SIP responses after which a message is tried again, by default.
pub const SIP_TRANSIENT_CODES: [u16; 5] = [408, 480, 486, 500, 503];

/// A SIP trunk that carries SMS as SIP MESSAGE requests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SipCarrier {
    /// Unique carrier name, referenced by `[[numbers]] carrier`.
    pub name: String,
    /// The trunk's host name or IP address. Required.
    pub host: String,
    /// The trunk's port. Default 5060, or 5061 with `transport = "tls"`.
    pub port: u16,
    /// `"udp"`, `"tcp"` or `"tls"`, used both ways. Default `"udp"`.
    pub transport: SipTransport,
    /// Where we receive MESSAGE requests, with the same transport. Required.
    pub listen: SocketAddr,
    /// The domain of `sip:+E164@domain` URIs. Required.
    pub domain: String,
    /// Digest user name. Optional; with `password`.
    pub username: Option<String>,
    /// Digest password; may be `"env:NAME"`. Optional; with `username`.
    pub password: Option<Secret>,
    /// Final response codes (300–699) after which a message is tried
    /// again; the others fail it. Default 408, 480, 486, 500, 503.
    pub transient_codes: Vec<u16>,
    /// Challenge the trunk's requests with digest authentication, checked
    /// against `username` and `password` (realm `domain`). Default false:
    /// most trunks are recognised by their address instead.
    pub inbound_auth: bool,
    /// `transport = "tls"`: PEM CA certificates the trunk's certificate is
    /// checked against (default: the system's roots).
    pub tls_ca_file: Option<std::path::PathBuf>,
    /// `transport = "tls"`: our certificate chain (PEM), which the trunk's
    /// connections to `listen` are served with. Required with TLS.
    pub tls_cert_file: Option<std::path::PathBuf>,
    /// `transport = "tls"`: its private key (PEM). Required with TLS.
    pub tls_key_file: Option<std::path::PathBuf>,
}

/// SIP transport.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum SipTransport {
    /// `"udp"`.
    #[default]
    Udp,
    /// `"tcp"`.
    Tcp,
    /// `"tls"` (SIP over TLS on TCP).
    Tls,
}

const SIP_TRANSPORTS: &[(&str, SipTransport)] = &[
    ("udp", SipTransport::Udp),
    ("tcp", SipTransport::Tcp),
    ("tls", SipTransport::Tls),
];

/// What the rest of the configuration needs to know about a carrier while it
/// is being decoded: its protocol (when it could be read) and where its name
/// is.
pub(crate) struct CarrierEntry {
    pub protocol: Option<Protocol>,
    /// The `name` value.
    pub span: std::ops::Range<usize>,
    pub path: KeyPath,
}

/// Reads a required `listen` key and claims the address.
fn listen(
    table: &mut TableReader<'_, '_>,
    cx: &mut Ctx<'_, '_>,
    listeners: &mut Listeners,
    udp: bool,
) -> Option<SocketAddr> {
    let path = table.path().key("listen");
    table.required(cx, "listen", |node, cx| {
        let addr = parse_listen(node, cx)?;
        listeners.claim(cx, Some(node), &path, addr, udp);
        Some(addr)
    })
}

/// Reads `username` and `password`, which go together.
fn credentials(
    table: &mut TableReader<'_, '_>,
    cx: &mut Ctx<'_, '_>,
) -> (Option<Option<String>>, Option<Option<Secret>>) {
    let username_node = table.take("username");
    let password_node = table.take("password");
    let username = match &username_node {
        Some(node) => parse_non_empty(node, cx).map(Some),
        None => Some(None),
    };
    let password = match &password_node {
        Some(node) => parse_secret(node, cx).map(Some),
        None => Some(None),
    };
    match (&username_node, &password_node) {
        (Some(node), None) => node.error(cx, "is set without `password`"),
        (None, Some(node)) => node.error(cx, "is set without `username`"),
        _ => {}
    }
    (username, password)
}

fn decode_mm7(
    name: Option<String>,
    table: &mut TableReader<'_, '_>,
    cx: &mut Ctx<'_, '_>,
    listeners: &mut Listeners,
) -> Option<Mm7Carrier> {
    let url = table.required(cx, "url", parse_http_url);
    let vasp_id = table.required(cx, "vasp_id", parse_non_empty);
    let vas_id = table.optional(cx, "vas_id", parse_non_empty);
    let listen = listen(table, cx, listeners, false);
    let (username, password) = credentials(table, cx);
    let response_timeout = table.or_default(
        cx,
        "response_timeout",
        Duration::from_secs(30),
        parse_positive_duration,
    );
    Some(Mm7Carrier {
        name: name?,
        url: url?,
        vasp_id: vasp_id?,
        vas_id: vas_id?,
        listen: listen?,
        username: username?,
        password: password?,
        response_timeout: response_timeout?,
    })
}

fn decode_sip(
    name: Option<String>,
    table: &mut TableReader<'_, '_>,
    cx: &mut Ctx<'_, '_>,
    listeners: &mut Listeners,
) -> Option<SipCarrier> {
    let host = table.required(cx, "host", parse_host);
    let port = table.optional(cx, "port", parse_port);
    let transport = table.or_default(
        cx,
        "transport",
        SipTransport::Udp,
        parse_choice("SIP transport", SIP_TRANSPORTS),
    );
    // UDP listeners only clash with UDP ones; TCP and TLS share TCP ports.
    let udp = transport == Some(SipTransport::Udp);
    let listen = listen(table, cx, listeners, udp);
    let domain = table.required(cx, "domain", parse_host);
    let (username, password) = credentials(table, cx);
    let transient_codes = table.or_default(
        cx,
        "transient_codes",
        SIP_TRANSIENT_CODES.to_vec(),
        |node, cx| {
            super::values::parse_list(node, cx, |item, cx| {
                super::values::parse_int::<u16>(300, 699)(item, cx)
            })
        },
    );
    let inbound_auth_node = table.take("inbound_auth");
    let inbound_auth = match &inbound_auth_node {
        Some(node) => node.boolean(cx),
        None => Some(false),
    };
    if let (Some(node), Some(true), Some(None)) = (&inbound_auth_node, inbound_auth, &username) {
        node.error(
            cx,
            "needs `username` and `password`, which the trunk's requests are checked against",
        );
    }
    let mut tls_file = |key: &'static str, required: bool| {
        let node = table.take(key);
        match (&node, transport) {
            (Some(node), Some(SipTransport::Tls)) => parse_existing_file(node, cx).map(Some),
            (Some(node), Some(_)) => {
                node.error(cx, "is set but `transport` is not \"tls\"");
                None
            }
            (None, Some(SipTransport::Tls)) if required => {
                table.missing(
                    cx,
                    key,
                    format!("missing required key `{key}` (with transport = \"tls\")"),
                );
                None
            }
            _ => Some(None),
        }
    };
    let tls_ca_file = tls_file("tls_ca_file", false);
    let tls_cert_file = tls_file("tls_cert_file", true);
    let tls_key_file = tls_file("tls_key_file", true);
    let transport = transport?;
    let default_port = if transport == SipTransport::Tls {
        5061
    } else {
        5060
    };
    Some(SipCarrier {
        name: name?,
        host: host?,
        port: port?.unwrap_or(default_port),
        transport,
        listen: listen?,
        domain: domain?,
        username: username?,
        password: password?,
        transient_codes: transient_codes?,
        inbound_auth: inbound_auth?,
        tls_ca_file: tls_ca_file?,
        tls_cert_file: tls_cert_file?,
        tls_key_file: tls_key_file?,
    })
}

/// Decodes one `[[carriers]]` table. Returns the carrier if it is valid and,
/// separately, what references to it need (even when the carrier itself has
/// errors, so that numbers naming it do not pile up "unknown carrier" errors).
pub(crate) fn decode(
    mut table: TableReader<'_, '_>,
    cx: &mut Ctx<'_, '_>,
    listeners: &mut Listeners,
) -> (Option<Carrier>, Option<(String, CarrierEntry)>) {
    let name_node = table.take("name");
    let name = match &name_node {
        Some(node) => parse_name(node, cx),
        None => {
            table.missing(cx, "name", "missing required key `name`");
            None
        }
    };
    let protocol = table.required(cx, "protocol", parse_choice("protocol", PROTOCOLS));
    let entry = match (&name, &name_node) {
        (Some(name), Some(node)) => Some((
            name.clone(),
            CarrierEntry {
                protocol,
                span: node.span(),
                path: node.path().clone(),
            },
        )),
        _ => None,
    };
    let Some(protocol) = protocol else {
        // Without a protocol no key can be judged; say nothing more.
        return (None, entry);
    };
    let carrier = match protocol {
        Protocol::Smpp => smpp::decode(name, &mut table, cx).map(Carrier::Smpp),
        Protocol::Mm7 => decode_mm7(name, &mut table, cx, listeners).map(Carrier::Mm7),
        Protocol::Sip => decode_sip(name, &mut table, cx, listeners).map(Carrier::Sip),
    };
    table.finish_with_hint(cx, |key| {
        let owners: Vec<&str> = PROTOCOLS
            .iter()
            .filter(|(_, p)| *p != protocol && p.keys().contains(&key))
            .map(|(name, _)| *name)
            .collect();
        (!owners.is_empty()).then(|| {
            format!(
                "not an option of {} carriers (it belongs to {} carriers)",
                protocol.as_str(),
                owners.join(" and ")
            )
        })
    });
    (carrier, entry)
}
