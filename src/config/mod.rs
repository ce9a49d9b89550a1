//! The gateway's configuration: the TOML file of docs/configuration.md, decoded into
//! typed, validated values before anything starts.
//!
//! Why it is built this way:
//!
//! * **Every error, with its place, in one pass** (docs/architecture.md,
//!   "Bad input"). A TOML
//!   syntax error stops decoding — nothing after it is reliable — but
//!   everything else is collected: unknown keys (at the key's line), wrong
//!   types, bad values, missing keys (at their table's line) and broken
//!   cross-references (at the line that names the missing thing). The
//!   decoders walk toml's spanned tree by hand (`reader.rs`) instead of using
//!   serde, which stops at the first error and forgets positions.
//! * **Validated types.** What the daemon receives is already checked: a
//!   [`PhoneNumber`] is E.164 or a short code, a [`Carrier`] is an enum by
//!   protocol with only that protocol's options, every reference resolves.
//!   The rest of the daemon never re-validates configuration.
//! * **Secrets stay secret.** `password`, `webhook_secret` and API tokens may
//!   be `"env:NAME"`; they are resolved at load (a missing variable is an
//!   error at its line) and held in [`Secret`], whose `Debug` redacts them.
//! * **Lookups built once.** Numbers, carriers, lines, campaigns and brands
//!   are indexed at load, so the hot path's "which carrier sends for
//!   +15551230001" is one hash lookup.

mod carrier;
mod check;
mod error;
mod line;
mod reader;
mod routing;
mod service;
mod smpp;
mod values;

#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, HashMap};
use std::ffi::OsString;
use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::Duration;

use toml::de::DeTable;

use crate::message_status::{MessageStatus, StatusSet};

pub use carrier::{Carrier, Mm7Carrier, Protocol, SipCarrier, SipTransport};
pub use check::{CheckReport, check_config};
pub use error::{ConfigError, ConfigErrors};
pub use line::{Line, LineMessages, MessageKey, OptOutScope, Queue};
pub use routing::{Brand, BusinessNumber, Campaign, Limits};
pub use service::{CallsConfig, MissingVariable, ServiceConfig, ServiceKind, Template};
pub use smpp::{ErrorClass, ErrorPolicy, SmppCarrier};
pub use values::{
    HttpUrl, InvalidPhoneNumber, Language, NumberKind, PhoneNumber, Secret, SecretSource,
};

use error::{SourceMap, SpannedError};
use reader::{Ctx, KeyPath, Node, TableReader};
use routing::{Names, References};
use values::{
    parse_choice, parse_existing_file, parse_http_url, parse_int, parse_list, parse_listen,
    parse_non_empty_secret, parse_path, parse_positive_duration,
};

/// Default `state_dir`.
pub const DEFAULT_STATE_DIR: &str = "/var/lib/carrier-gateway";
/// Default `[api] listen`.
pub const DEFAULT_API_LISTEN: SocketAddr =
    SocketAddr::new(IpAddr::V4(std::net::Ipv4Addr::LOCALHOST), 8080);
/// Default `[metrics] listen`.
pub const DEFAULT_METRICS_LISTEN: SocketAddr =
    SocketAddr::new(IpAddr::V4(std::net::Ipv4Addr::LOCALHOST), 9090);

/// `[api]`: the HTTP API the core calls.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiConfig {
    /// `IP:PORT` to listen on. Default `"127.0.0.1:8080"`.
    pub listen: SocketAddr,
    /// Accepted bearer tokens; each may be `"env:NAME"`. Default empty, which
    /// is allowed only when `listen` is a loopback address.
    pub tokens: Vec<Secret>,
    /// What a client may cost the server.
    pub limits: HttpLimits,
}

impl Default for ApiConfig {
    fn default() -> Self {
        ApiConfig {
            listen: DEFAULT_API_LISTEN,
            tokens: Vec::new(),
            limits: HttpLimits::default(),
        }
    }
}

/// `[api]` limits on clients (docs/configuration.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HttpLimits {
    /// `header_timeout`: a request's header must be complete this long
    /// after the connection opened or the previous answer was sent.
    pub header_timeout: Duration,
    /// `request_timeout`: a request, body and answer included.
    pub request_timeout: Duration,
    /// `idle_timeout`: a keep-alive connection without a request for this
    /// long is closed (at most `header_timeout`).
    pub idle_timeout: Duration,
    /// `max_connections`: connections served at once; more wait in the
    /// kernel's accept queue.
    pub max_connections: usize,
    /// `drain_timeout`: how long a stop waits for requests in progress.
    pub drain_timeout: Duration,
}

impl Default for HttpLimits {
    fn default() -> Self {
        HttpLimits {
            header_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(30),
            idle_timeout: Duration::from_secs(10),
            max_connections: 4096,
            drain_timeout: Duration::from_secs(3),
        }
    }
}

/// `[metrics]`: the Prometheus endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetricsConfig {
    /// `IP:PORT` serving `GET /metrics`. Default `"127.0.0.1:9090"`.
    pub listen: SocketAddr,
}

impl Default for MetricsConfig {
    fn default() -> Self {
        MetricsConfig {
            listen: DEFAULT_METRICS_LISTEN,
        }
    }
}

/// `[core]`: the link to the contact-center core. The table is required.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CoreConfig {
    /// Where events are POSTed. Required.
    pub webhook_url: HttpUrl,
    /// HMAC-SHA256 key signing each POST; may be `"env:NAME"`. Required,
    /// non-empty.
    pub webhook_secret: Secret,
    /// Most events per POST (1–10000). Default 1: one event per POST, in the
    /// unbatched form of the events in docs/api.md.
    pub batch_max: NonZeroU32,
    /// Which `message.status` transitions are sent. Default: all.
    pub status_events: StatusSet,
    /// CA certificates (PEM) an `https://` webhook's certificate is
    /// verified against, instead of the system's roots.
    pub tls_ca_file: Option<PathBuf>,
    /// Refusals of one event (while the core accepts others) before it is
    /// parked as a dead letter. Default 10.
    pub max_attempts: u32,
    /// How long one event may keep being refused before it is parked.
    /// Default 1 h.
    pub max_age: std::time::Duration,
}

/// `[store]`: how long finished messages are kept, and how many unfinished
/// ones the API takes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreConfig {
    /// Final outbox records (with their `client_ref` keys) are removed this
    /// long after their last change. Default `"7d"`.
    pub retention: std::time::Duration,
    /// `queued` and `sending` messages (not `submitted` ones waiting for
    /// receipts) beyond which the API answers `503 outbox_full`. Default
    /// 1,000,000; 1 to 100,000,000.
    pub max_outbox: u64,
}

impl Default for StoreConfig {
    fn default() -> Self {
        StoreConfig {
            retention: std::time::Duration::from_secs(7 * 24 * 3600),
            max_outbox: 1_000_000,
        }
    }
}

/// `[media]`: the media store (MMS images, video, …).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaConfig {
    /// Largest media item, bytes. Default 5 MiB (5,242,880); 1 KiB to
    /// 100 MiB.
    pub max_bytes: u64,
    /// Media are removed this long after they were stored. Default `"30d"`.
    pub retention: std::time::Duration,
    /// How long a signed media link stays valid. Default `"24h"`.
    pub url_ttl: std::time::Duration,
    /// The base of media links handed to the core, e.g.
    /// `https://gw.example.net`. Default `http://` and `[api] listen`.
    pub public_url: Option<HttpUrl>,
    /// Hosts whose `https` media URLs the API fetches. Default none.
    pub fetch_hosts: Vec<String>,
    /// Longest fetch of a media URL. Default `"20s"`.
    pub fetch_timeout: std::time::Duration,
    /// What becomes of an MMS the MMSC refuses for good: `"sms_link"` (the
    /// default: an SMS with links to its media, when `public_url` is set)
    /// or `"none"` (it fails).
    pub mms_fallback: MmsFallbackKind,
}

/// `[media] mms_fallback`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MmsFallbackKind {
    /// An SMS with links to the media.
    SmsLink,
    /// None: the message fails.
    None,
}

const MMS_FALLBACKS: &[(&str, MmsFallbackKind)] = &[
    ("sms_link", MmsFallbackKind::SmsLink),
    ("none", MmsFallbackKind::None),
];

impl Default for MediaConfig {
    fn default() -> Self {
        MediaConfig {
            max_bytes: 5 * 1024 * 1024,
            retention: std::time::Duration::from_secs(30 * 24 * 3600),
            url_ttl: std::time::Duration::from_secs(24 * 3600),
            public_url: None,
            fetch_hosts: Vec::new(),
            fetch_timeout: std::time::Duration::from_secs(20),
            mms_fallback: MmsFallbackKind::SmsLink,
        }
    }
}

fn decode_media(mut table: TableReader<'_, '_>, cx: &mut Ctx<'_, '_>) -> Option<MediaConfig> {
    let defaults = MediaConfig::default();
    let max_bytes = table.or_default(cx, "max_bytes", defaults.max_bytes, |node, cx| {
        parse_int(1024, 100 * 1024 * 1024)(node, cx)
    });
    let retention_node = table.take("retention");
    let retention = match &retention_node {
        Some(node) => parse_positive_duration(node, cx),
        None => Some(defaults.retention),
    };
    let url_ttl = table.or_default(cx, "url_ttl", defaults.url_ttl, parse_positive_duration);
    // A link sent with a message may be used until the message's validity
    // (at most 7 days) plus url_ttl: the bytes must outlive it.
    let needed = url_ttl.map(|ttl| ttl + std::time::Duration::from_secs(7 * 24 * 3600));
    if let (Some(node), Some(kept), Some(needed)) = (&retention_node, retention, needed)
        && kept < needed
    {
        node.error(
            cx,
            format!(
                "must be at least url_ttl plus the longest validity (7 days), {}: links \
                 sent in messages would outlive their media",
                humantime::format_duration(needed)
            ),
        );
    }
    let retention = retention.filter(|kept| needed.is_none_or(|n| *kept >= n));
    let public_url = table.optional(cx, "public_url", parse_http_url);
    let fetch_hosts = table.or_default(cx, "fetch_hosts", Vec::new(), |node, cx| {
        values::parse_list(node, cx, |item, cx| {
            let host = item.string(cx)?.trim().to_ascii_lowercase();
            let valid = !host.is_empty()
                && host
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-');
            if valid {
                Some(host)
            } else {
                item.error(cx, "is not a host name (letters, digits, `.` and `-`)");
                None
            }
        })
    });
    let fetch_timeout = table.or_default(
        cx,
        "fetch_timeout",
        defaults.fetch_timeout,
        parse_positive_duration,
    );
    let mms_fallback = table.or_default(
        cx,
        "mms_fallback",
        defaults.mms_fallback,
        values::parse_choice("MMS fallback", MMS_FALLBACKS),
    );
    table.finish(cx);
    Some(MediaConfig {
        max_bytes: max_bytes?,
        retention: retention?,
        url_ttl: url_ttl?,
        public_url: public_url?,
        fetch_hosts: fetch_hosts?,
        fetch_timeout: fetch_timeout?,
        mms_fallback: mms_fallback?,
    })
}

/// The whole configuration, validated. Built only by [`Config::load`] and
/// friends, so its indexes always agree with its lists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    state_dir: PathBuf,
    store: StoreConfig,
    api: ApiConfig,
    metrics: MetricsConfig,
    core: CoreConfig,
    carriers: Vec<Carrier>,
    brands: Vec<Brand>,
    campaigns: Vec<Campaign>,
    numbers: Vec<BusinessNumber>,
    lines: Vec<Line>,
    templates: BTreeMap<String, Template>,
    services: BTreeMap<ServiceKind, ServiceConfig>,
    calls: CallsConfig,
    media: MediaConfig,
    index: Index,
}

/// Name → position in the lists above.
#[derive(Clone, PartialEq, Eq, Default)]
struct Index {
    numbers: HashMap<String, usize>,
    carriers: HashMap<String, usize>,
    lines: HashMap<String, usize>,
    campaigns: HashMap<String, usize>,
    brands: HashMap<String, usize>,
}

impl std::fmt::Debug for Index {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Index { .. }")
    }
}

fn index_by<T>(items: &[T], key: impl Fn(&T) -> &str) -> HashMap<String, usize> {
    items
        .iter()
        .enumerate()
        .map(|(i, item)| (key(item).to_owned(), i))
        .collect()
}

impl Config {
    /// Reads and validates the file at `path`, resolving `env:` secrets from
    /// the process environment. On failure, every error found.
    pub fn load(path: impl AsRef<Path>) -> Result<Config, ConfigErrors> {
        let path = path.as_ref();
        match std::fs::read_to_string(path) {
            Ok(text) => Config::from_str(&text, path),
            Err(error) => Err(ConfigErrors::whole_file(
                path,
                format!("cannot read the configuration file: {error}"),
            )),
        }
    }

    /// Validates configuration `text`; `path` only names the file in errors.
    /// `env:` secrets come from the process environment.
    pub fn from_str(text: &str, path: impl AsRef<Path>) -> Result<Config, ConfigErrors> {
        Config::from_str_with_env(text, path, |name| std::env::var_os(name))
    }

    /// Like [`Config::from_str`], with `env` standing in for the process
    /// environment (for tests and for callers that sandbox it).
    pub fn from_str_with_env(
        text: &str,
        path: impl AsRef<Path>,
        env: impl Fn(&str) -> Option<OsString>,
    ) -> Result<Config, ConfigErrors> {
        let path = path.as_ref();
        let source = SourceMap::new(text);
        let locate = |errors: Vec<SpannedError>| {
            let errors = errors.into_iter().map(|e| source.locate(path, e)).collect();
            ConfigErrors::new(errors).unwrap_or_else(|| {
                ConfigErrors::whole_file(path, "the configuration is invalid".to_owned())
            })
        };

        let (root, syntax_errors) = DeTable::parse_recoverable(text);
        if !syntax_errors.is_empty() {
            return Err(locate(syntax_error_report(&source, syntax_errors)));
        }

        let mut cx = Ctx::new(&source, &env);
        let config = decode(&root, &mut cx);
        match config {
            Some(config) if !cx.has_errors() => Ok(config),
            _ => {
                let mut errors = cx.into_errors();
                if errors.is_empty() {
                    // A decoder gave up without saying why; never pass that
                    // off as success.
                    errors.push(SpannedError {
                        span: 0..0,
                        key_path: String::new(),
                        message: "the configuration is invalid".to_owned(),
                    });
                }
                Err(locate(errors))
            }
        }
    }

    /// `state_dir`: sled databases and media. Default
    /// `"/var/lib/carrier-gateway"`.
    pub fn state_dir(&self) -> &Path {
        &self.state_dir
    }

    /// `[store]`.
    pub fn store(&self) -> &StoreConfig {
        &self.store
    }

    pub fn api(&self) -> &ApiConfig {
        &self.api
    }

    pub fn metrics(&self) -> &MetricsConfig {
        &self.metrics
    }

    pub fn core(&self) -> &CoreConfig {
        &self.core
    }

    /// The carriers, in file order.
    pub fn carriers(&self) -> &[Carrier] {
        &self.carriers
    }

    pub fn brands(&self) -> &[Brand] {
        &self.brands
    }

    pub fn campaigns(&self) -> &[Campaign] {
        &self.campaigns
    }

    /// The business numbers, in file order.
    pub fn numbers(&self) -> &[BusinessNumber] {
        &self.numbers
    }

    pub fn lines(&self) -> &[Line] {
        &self.lines
    }

    /// The templates by name.
    pub fn templates(&self) -> &BTreeMap<String, Template> {
        &self.templates
    }

    /// The services that have a `[services.<name>]` table.
    pub fn services(&self) -> &BTreeMap<ServiceKind, ServiceConfig> {
        &self.services
    }

    /// `[media]`.
    pub fn media(&self) -> &MediaConfig {
        &self.media
    }

    /// `[calls]`.
    pub fn calls(&self) -> CallsConfig {
        self.calls
    }

    /// The business number written `number` (`+15551230001` or `12345`).
    pub fn number(&self, number: &str) -> Option<&BusinessNumber> {
        self.index
            .numbers
            .get(number)
            .and_then(|&i| self.numbers.get(i))
    }

    pub fn carrier(&self, name: &str) -> Option<&Carrier> {
        self.index
            .carriers
            .get(name)
            .and_then(|&i| self.carriers.get(i))
    }

    pub fn line(&self, name: &str) -> Option<&Line> {
        self.index.lines.get(name).and_then(|&i| self.lines.get(i))
    }

    pub fn campaign(&self, id: &str) -> Option<&Campaign> {
        self.index
            .campaigns
            .get(id)
            .and_then(|&i| self.campaigns.get(i))
    }

    pub fn brand(&self, id: &str) -> Option<&Brand> {
        self.index.brands.get(id).and_then(|&i| self.brands.get(i))
    }

    pub fn template(&self, name: &str) -> Option<&Template> {
        self.templates.get(name)
    }

    /// A service's settings (the defaults when it has no table).
    pub fn service(&self, kind: ServiceKind) -> ServiceConfig {
        self.services.get(&kind).copied().unwrap_or_default()
    }

    /// The carrier that sends `number`'s SMS (an SMPP or SIP carrier).
    pub fn sms_carrier_of(&self, number: &BusinessNumber) -> Option<&Carrier> {
        self.carrier(&number.carrier)
    }

    /// The MMSC that sends `number`'s MMS, if it has one.
    pub fn mms_carrier_of(&self, number: &BusinessNumber) -> Option<&Mm7Carrier> {
        match self.carrier(number.mms_carrier.as_deref()?)? {
            Carrier::Mm7(mm7) => Some(mm7),
            _ => None,
        }
    }

    /// `number`'s line of business.
    pub fn line_of(&self, number: &BusinessNumber) -> Option<&Line> {
        self.line(number.line.as_deref()?)
    }

    /// `number`'s 10DLC campaign.
    pub fn campaign_of(&self, number: &BusinessNumber) -> Option<&Campaign> {
        self.campaign(number.campaign.as_deref()?)
    }

    /// The brand of `number`'s campaign.
    pub fn brand_of(&self, number: &BusinessNumber) -> Option<&Brand> {
        self.brand(&self.campaign_of(number)?.brand)
    }

    /// One line for `check-config`: how much the file configures.
    pub fn summary(&self) -> String {
        let count =
            |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
        let by_protocol: Vec<String> = [Protocol::Smpp, Protocol::Mm7, Protocol::Sip]
            .into_iter()
            .filter_map(|p| {
                let n = self.carriers.iter().filter(|c| c.protocol() == p).count();
                (n > 0).then(|| format!("{n} {}", p.as_str()))
            })
            .collect();
        let mut carriers = count(self.carriers.len(), "carrier", "carriers");
        if !by_protocol.is_empty() {
            carriers.push_str(&format!(" ({})", by_protocol.join(", ")));
        }
        [
            carriers,
            count(self.numbers.len(), "number", "numbers"),
            count(self.lines.len(), "line", "lines"),
            count(self.campaigns.len(), "campaign", "campaigns"),
            count(self.brands.len(), "brand", "brands"),
            count(self.templates.len(), "template", "templates"),
            count(self.services.len(), "service", "services"),
        ]
        .join(", ")
    }
}

/// Turns the parser's errors into ours. Recovery after a real syntax error
/// produces follow-on errors, so only the first one is kept — together with
/// the "duplicate key" errors before it, which are reliable.
fn syntax_error_report(
    source: &SourceMap<'_>,
    mut errors: Vec<toml::de::Error>,
) -> Vec<SpannedError> {
    errors.sort_by_key(|e| e.span().map_or(0, |s| s.start));
    let mut report = Vec::new();
    for error in errors {
        let span = error.span().unwrap_or(0..0);
        let duplicate = error.message().starts_with("duplicate key");
        let message = match source.snippet(span.clone()) {
            Some(key) if duplicate && !key.is_empty() => format!("duplicate key `{key}`"),
            _ => format!("invalid TOML: {}", error.message()),
        };
        report.push(SpannedError {
            span,
            key_path: String::new(),
            message,
        });
        if !duplicate {
            break;
        }
    }
    report
}

/// Addresses the daemon will listen on, to catch two listeners on one port
/// before the second fails to bind at startup.
#[derive(Default)]
pub(crate) struct Listeners {
    claimed: Vec<Listener>,
}

struct Listener {
    addr: SocketAddr,
    udp: bool,
    /// The key's value, or `None` for a default.
    span: Option<Range<usize>>,
    path: String,
}

impl Listeners {
    /// Claims `addr` (`udp` or TCP) for the key at `path`, whose value is
    /// `node` (`None` when the default applies). Reports a clash at `node`,
    /// or records nothing more when the clashing key is a default.
    pub fn claim(
        &mut self,
        cx: &mut Ctx<'_, '_>,
        node: Option<&Node<'_, '_>>,
        path: &KeyPath,
        addr: SocketAddr,
        udp: bool,
    ) {
        let clash = self.claimed.iter().find(|other| {
            other.udp == udp
                && other.addr.port() == addr.port()
                && (other.addr.ip() == addr.ip()
                    || other.addr.ip().is_unspecified()
                    || addr.ip().is_unspecified())
        });
        match (clash, node) {
            (Some(other), Some(node)) => {
                let whose = match &other.span {
                    Some(span) => format!("`{}` on line {}", other.path, cx.line_of(span)),
                    None => format!("the default of `{}`", other.path),
                };
                node.error(
                    cx,
                    format!("`{addr}` clashes with `{}` of {whose}", other.addr),
                );
                return;
            }
            (Some(other), None) => {
                // A default collides with an explicit address: report it at
                // the explicit one, the only place with a line.
                if let Some(span) = other.span.clone() {
                    let other_path = other.path.clone();
                    let message = format!(
                        "`{}` clashes with `{addr}`, the default of `{path}`; set `{path}`",
                        other.addr
                    );
                    cx.error_at_path(span, &other_path, message);
                }
                return;
            }
            (None, _) => {}
        }
        self.claimed.push(Listener {
            addr,
            udp,
            span: node.map(Node::span),
            path: path.to_string(),
        });
    }
}

fn is_loopback(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.is_loopback(),
        IpAddr::V6(v6) => {
            v6.is_loopback() || v6.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback())
        }
    }
}

/// Reads a `listen` key with a default and claims the address.
fn listen_with_default(
    table: &mut TableReader<'_, '_>,
    cx: &mut Ctx<'_, '_>,
    listeners: &mut Listeners,
    default: SocketAddr,
) -> (Option<SocketAddr>, Option<Range<usize>>) {
    let path = table.path().key("listen");
    match table.take("listen") {
        Some(node) => {
            let addr = parse_listen(&node, cx);
            if let Some(addr) = addr {
                listeners.claim(cx, Some(&node), &path, addr, false);
            }
            (addr, Some(node.span()))
        }
        None => {
            listeners.claim(cx, None, &path, default, false);
            (Some(default), None)
        }
    }
}

fn decode_api(
    table: Option<TableReader<'_, '_>>,
    cx: &mut Ctx<'_, '_>,
    listeners: &mut Listeners,
) -> Option<ApiConfig> {
    let Some(mut table) = table else {
        let path = KeyPath::default().key("api").key("listen");
        listeners.claim(cx, None, &path, DEFAULT_API_LISTEN, false);
        return Some(ApiConfig::default());
    };
    let (listen, listen_span) = listen_with_default(&mut table, cx, listeners, DEFAULT_API_LISTEN);
    let tokens_node = table.take("tokens");
    let tokens = match &tokens_node {
        Some(node) => parse_list(node, cx, parse_non_empty_secret),
        None => Some(Vec::new()),
    };
    if let (Some(listen), Some(tokens)) = (listen, &tokens)
        && tokens.is_empty()
        && !is_loopback(listen.ip())
    {
        let message = format!(
            "an empty token list is allowed only when `listen` is a loopback address, \
             and it is `{listen}`; add bearer tokens"
        );
        match (&tokens_node, listen_span) {
            (Some(node), _) => node.error(cx, message),
            (None, Some(span)) => cx.error(span, &table.path().key("tokens"), message),
            (None, None) => table.missing(cx, "tokens", message),
        }
    }
    let limits = decode_http_limits(&mut table, cx);
    table.finish(cx);
    Some(ApiConfig {
        listen: listen?,
        tokens: tokens?,
        limits: limits?,
    })
}

fn decode_http_limits(table: &mut TableReader<'_, '_>, cx: &mut Ctx<'_, '_>) -> Option<HttpLimits> {
    let defaults = HttpLimits::default();
    let header_timeout = table.or_default(
        cx,
        "header_timeout",
        defaults.header_timeout,
        parse_positive_duration,
    );
    let request_timeout = table.or_default(
        cx,
        "request_timeout",
        defaults.request_timeout,
        parse_positive_duration,
    );
    let idle_node = table.take("idle_timeout");
    let idle_timeout = match &idle_node {
        Some(node) => parse_positive_duration(node, cx),
        None => header_timeout.map(|h| h.min(defaults.idle_timeout)),
    };
    if let (Some(node), Some(idle), Some(header)) = (&idle_node, idle_timeout, header_timeout)
        && idle > header
    {
        node.error(
            cx,
            format!(
                "must be at most `header_timeout` ({}): an idle connection is closed by then \
                 anyway, as the wait for the next request's header",
                humantime::format_duration(header)
            ),
        );
    }
    let max_connections = table.or_default(
        cx,
        "max_connections",
        defaults.max_connections,
        parse_int(1, 1_000_000),
    );
    let drain_timeout = table.or_default(
        cx,
        "drain_timeout",
        defaults.drain_timeout,
        parse_positive_duration,
    );
    let idle_timeout = idle_timeout.filter(|&i| header_timeout.is_none_or(|h| i <= h));
    Some(HttpLimits {
        header_timeout: header_timeout?,
        request_timeout: request_timeout?,
        idle_timeout: idle_timeout?,
        max_connections: max_connections?,
        drain_timeout: drain_timeout?,
    })
}

fn decode_metrics(
    table: Option<TableReader<'_, '_>>,
    cx: &mut Ctx<'_, '_>,
    listeners: &mut Listeners,
) -> Option<MetricsConfig> {
    let Some(mut table) = table else {
        let path = KeyPath::default().key("metrics").key("listen");
        listeners.claim(cx, None, &path, DEFAULT_METRICS_LISTEN, false);
        return Some(MetricsConfig::default());
    };
    let (listen, _) = listen_with_default(&mut table, cx, listeners, DEFAULT_METRICS_LISTEN);
    table.finish(cx);
    Some(MetricsConfig { listen: listen? })
}

/// The statuses by name, for `status_events`.
const STATUS_NAMES: &[(&str, MessageStatus)] = &{
    let mut names = [("", MessageStatus::Queued); 7];
    let mut i = 0;
    while i < names.len() {
        names[i] = (MessageStatus::ALL[i].as_str(), MessageStatus::ALL[i]);
        i += 1;
    }
    names
};

fn parse_status_events(node: &Node<'_, '_>, cx: &mut Ctx<'_, '_>) -> Option<StatusSet> {
    let status = parse_choice("message status", STATUS_NAMES);
    Some(parse_list(node, cx, &status)?.into_iter().collect())
}

fn decode_store(mut table: TableReader<'_, '_>, cx: &mut Ctx<'_, '_>) -> Option<StoreConfig> {
    let defaults = StoreConfig::default();
    let retention = table.or_default(cx, "retention", defaults.retention, parse_positive_duration);
    let max_outbox = table.or_default(cx, "max_outbox", defaults.max_outbox, |node, cx| {
        parse_int(1, 100_000_000)(node, cx)
    });
    table.finish(cx);
    Some(StoreConfig {
        retention: retention?,
        max_outbox: max_outbox?,
    })
}

fn decode_core(mut table: TableReader<'_, '_>, cx: &mut Ctx<'_, '_>) -> Option<CoreConfig> {
    let webhook_url = table.required(cx, "webhook_url", parse_http_url);
    let webhook_secret = table.required(cx, "webhook_secret", parse_non_empty_secret);
    let batch_max = table.or_default(cx, "batch_max", NonZeroU32::MIN, |node, cx| {
        let n: u32 = parse_int(1, 10_000)(node, cx)?;
        NonZeroU32::new(n)
    });
    let status_events =
        table.or_default(cx, "status_events", StatusSet::all(), parse_status_events);
    let max_attempts = table.or_default(cx, "max_attempts", 10, parse_int(1, 1_000_000));
    let max_age = table.or_default(
        cx,
        "max_age",
        std::time::Duration::from_secs(3600),
        parse_positive_duration,
    );
    let tls_ca_node = table.take("tls_ca_file");
    let tls_ca_file = match &tls_ca_node {
        Some(node) => parse_existing_file(node, cx).map(Some),
        None => Some(None),
    };
    if let (Some(node), Some(url)) = (&tls_ca_node, &webhook_url)
        && !url.is_https()
    {
        node.error(cx, "is set but `webhook_url` is not https://");
    }
    table.finish(cx);
    Some(CoreConfig {
        webhook_url: webhook_url?,
        webhook_secret: webhook_secret?,
        batch_max: batch_max?,
        status_events: status_events?,
        tls_ca_file: tls_ca_file?,
        max_attempts: max_attempts?,
        max_age: max_age?,
    })
}

/// Pushes `item` onto `list`, or poisons the list when the item failed.
fn collect<T>(list: &mut Option<Vec<T>>, item: Option<T>) {
    match (item, list.as_mut()) {
        (Some(item), Some(items)) => items.push(item),
        _ => *list = None,
    }
}

/// Decodes the whole document. `None` when anything failed; the reasons are
/// in `cx`.
fn decode(root: &toml::Spanned<DeTable<'_>>, cx: &mut Ctx<'_, '_>) -> Option<Config> {
    let mut table = TableReader::root(root);
    let mut listeners = Listeners::default();

    let state_dir = table.or_default(
        cx,
        "state_dir",
        PathBuf::from(DEFAULT_STATE_DIR),
        parse_path,
    );

    // An `[api]` or `[metrics]` that is not a table has been reported; the
    // defaults then apply to nothing, so `None` is right.
    let api = match table.take("api") {
        Some(node) => node
            .table(cx)
            .and_then(|t| decode_api(Some(t), cx, &mut listeners)),
        None => decode_api(None, cx, &mut listeners),
    };
    let metrics = match table.take("metrics") {
        Some(node) => node
            .table(cx)
            .and_then(|t| decode_metrics(Some(t), cx, &mut listeners)),
        None => decode_metrics(None, cx, &mut listeners),
    };

    let store = match table.take("store") {
        Some(node) => node.table(cx).and_then(|t| decode_store(t, cx)),
        None => Some(StoreConfig::default()),
    };

    let core = match table.take("core") {
        Some(node) => node.table(cx).and_then(|t| decode_core(t, cx)),
        None => {
            table.missing(
                cx,
                "core",
                "missing required table `[core]` (with `webhook_url` and `webhook_secret`)",
            );
            None
        }
    };

    // Carriers first: numbers refer to them.
    let mut carriers = Some(Vec::new());
    let mut carrier_entries: HashMap<String, carrier::CarrierEntry> = HashMap::new();
    if let Some(node) = table.take("carriers") {
        for carrier_table in node.table_array(cx, "carriers") {
            let (carrier, entry) = carrier::decode(carrier_table, cx, &mut listeners);
            let mut carrier = carrier;
            if let Some((name, entry)) = entry {
                if let Some(first) = carrier_entries.get(&name) {
                    let line = cx.line_of(&first.span);
                    cx.error(
                        entry.span.clone(),
                        &entry.path,
                        format!("duplicate carrier name `{name}` (first defined on line {line})"),
                    );
                    carrier = None;
                } else {
                    carrier_entries.insert(name, entry);
                }
            }
            collect(&mut carriers, carrier);
        }
    }

    let mut brand_names = Names::default();
    let mut brands = Some(Vec::new());
    if let Some(node) = table.take("brands") {
        for brand_table in node.table_array(cx, "brands") {
            let brand = routing::decode_brand(brand_table, cx, &mut brand_names);
            collect(&mut brands, brand);
        }
    }

    let mut campaign_names = Names::default();
    let mut campaigns = Some(Vec::new());
    if let Some(node) = table.take("campaigns") {
        for campaign_table in node.table_array(cx, "campaigns") {
            let campaign =
                routing::decode_campaign(campaign_table, cx, &mut campaign_names, &brand_names);
            collect(&mut campaigns, campaign);
        }
    }

    let mut line_names = Names::default();
    let mut lines = Some(Vec::new());
    if let Some(node) = table.take("lines") {
        for line_table in node.table_array(cx, "lines") {
            let line = line::decode(line_table, cx, &mut line_names);
            collect(&mut lines, line);
        }
    }

    let mut number_names = Names::default();
    let mut numbers = Some(Vec::new());
    if let Some(node) = table.take("numbers") {
        let refs = References {
            carriers: &carrier_entries,
            campaigns: &campaign_names,
            lines: &line_names,
        };
        for number_table in node.table_array(cx, "numbers") {
            let number = routing::decode_number(number_table, cx, &mut number_names, &refs);
            collect(&mut numbers, number);
        }
    }

    let templates = table.or_default(cx, "templates", BTreeMap::new(), service::decode_templates);
    let services = table.or_default(cx, "services", BTreeMap::new(), service::decode_services);
    let media = match table.take("media") {
        Some(node) => node.table(cx).and_then(|t| decode_media(t, cx)),
        None => Some(MediaConfig::default()),
    };
    let calls = match table.take("calls") {
        Some(node) => node.table(cx).and_then(|t| service::decode_calls(t, cx)),
        None => Some(CallsConfig::default()),
    };
    table.finish(cx);

    let carriers = carriers?;
    let brands = brands?;
    let campaigns = campaigns?;
    let numbers = numbers?;
    let lines = lines?;
    let index = Index {
        numbers: index_by(&numbers, |n| n.number.as_str()),
        carriers: index_by(&carriers, Carrier::name),
        lines: index_by(&lines, |l| l.name.as_str()),
        campaigns: index_by(&campaigns, |c| c.id.as_str()),
        brands: index_by(&brands, |b| b.id.as_str()),
    };
    Some(Config {
        state_dir: state_dir?,
        store: store?,
        api: api?,
        metrics: metrics?,
        core: core?,
        carriers,
        brands,
        campaigns,
        numbers,
        lines,
        templates: templates?,
        services: services?,
        calls: calls?,
        media: media?,
        index,
    })
}
