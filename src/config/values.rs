//! The value types of the configuration and their parsers.
//!
//! Each type here is validated once, at load, so the rest of the daemon never
//! re-checks a phone number, a URL or a listen address: a [`PhoneNumber`] is
//! always valid E.164 or a short code, an [`HttpUrl`] always has a scheme and
//! a host, a [`Secret`] never shows its value in `Debug`. The `parse_*`
//! functions are the decoders' building blocks: they take a [`Node`], report
//! problems at its position and return `None` after reporting.

use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use crate::config::reader::{Ctx, Node};

// ---------------------------------------------------------------------------
// Phone numbers
// ---------------------------------------------------------------------------

/// A business or customer number: E.164 with its `+` (`+15551230001`) or a
/// short code as bare digits (`12345`), the one spelling of numbers in the
/// API, events and config (docs/architecture.md, "Fixed details").
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PhoneNumber {
    text: String,
}

/// What kind of number a [`PhoneNumber`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NumberKind {
    /// `+` then 8 to 15 digits, the first not 0.
    E164,
    /// 3 to 8 digits, no `+`.
    ShortCode,
}

/// Why a string is not a [`PhoneNumber`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "`{0}` is not a valid number: expected E.164 (`+` then 8 to 15 digits, not starting with 0, \
     e.g. \"+15551230001\") or a short code (3 to 8 digits, e.g. \"12345\")"
)]
pub struct InvalidPhoneNumber(String);

impl PhoneNumber {
    /// Parses exactly those forms; no spaces, dashes or brackets.
    pub fn parse(text: &str) -> Result<PhoneNumber, InvalidPhoneNumber> {
        let valid = match text.strip_prefix('+') {
            Some(digits) => {
                (8..=15).contains(&digits.len())
                    && digits.bytes().all(|b| b.is_ascii_digit())
                    && !digits.starts_with('0')
            }
            None => (3..=8).contains(&text.len()) && text.bytes().all(|b| b.is_ascii_digit()),
        };
        if valid {
            Ok(PhoneNumber {
                text: text.to_owned(),
            })
        } else {
            Err(InvalidPhoneNumber(text.to_owned()))
        }
    }

    /// The number as written in the API and events: `+15551230001` or `12345`.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The digits without the `+`, as SMPP and SIP user parts carry them.
    pub fn digits(&self) -> &str {
        self.text.strip_prefix('+').unwrap_or(&self.text)
    }

    pub fn kind(&self) -> NumberKind {
        if self.text.starts_with('+') {
            NumberKind::E164
        } else {
            NumberKind::ShortCode
        }
    }
}

impl fmt::Display for PhoneNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl fmt::Debug for PhoneNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PhoneNumber({})", self.text)
    }
}

// ---------------------------------------------------------------------------
// Secrets
// ---------------------------------------------------------------------------

/// A password, token or key. Written inline or as `"env:NAME"`, in which case
/// the value comes from the environment variable `NAME` at load.
///
/// `Debug` never shows the value (only where it came from) and there is no
/// `Display`, so a secret cannot end up in a log line by accident; call
/// [`Secret::expose`] where the value is really needed.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret {
    value: String,
    source: SecretSource,
}

/// Where a [`Secret`]'s value came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretSource {
    /// Written in the configuration file.
    Inline,
    /// Read from this environment variable.
    Env(String),
}

impl Secret {
    /// The value itself. Do not log it.
    pub fn expose(&self) -> &str {
        &self.value
    }

    pub fn source(&self) -> &SecretSource {
        &self.source
    }

    #[cfg(test)]
    pub(crate) fn inline(value: &str) -> Secret {
        Secret {
            value: value.to_owned(),
            source: SecretSource::Inline,
        }
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.source {
            SecretSource::Inline => f.write_str("Secret(<redacted>)"),
            SecretSource::Env(name) => write!(f, "Secret(env:{name}, <redacted>)"),
        }
    }
}

/// Whether `name` is a portable environment variable name.
fn is_env_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// A secret: a string, or `"env:NAME"` resolved from the environment. Error
/// messages name the variable but never show a value.
pub(crate) fn parse_secret(node: &Node<'_, '_>, cx: &mut Ctx<'_, '_>) -> Option<Secret> {
    let text = node.string(cx)?;
    let Some(name) = text.strip_prefix("env:") else {
        return Some(Secret {
            value: text.to_owned(),
            source: SecretSource::Inline,
        });
    };
    if !is_env_name(name) {
        node.error(
            cx,
            format!(
                "`env:{name}` does not name an environment variable \
                 (letters, digits and `_`, not starting with a digit)"
            ),
        );
        return None;
    }
    match cx.env(name) {
        None => {
            node.error(cx, format!("environment variable `{name}` is not set"));
            None
        }
        Some(value) => match value.into_string() {
            Ok(value) => Some(Secret {
                value,
                source: SecretSource::Env(name.to_owned()),
            }),
            Err(_) => {
                node.error(
                    cx,
                    format!("environment variable `{name}` is not valid UTF-8"),
                );
                None
            }
        },
    }
}

/// A secret that must not be empty (API tokens, the webhook key).
pub(crate) fn parse_non_empty_secret(node: &Node<'_, '_>, cx: &mut Ctx<'_, '_>) -> Option<Secret> {
    let secret = parse_secret(node, cx)?;
    if secret.value.is_empty() {
        let message = match &secret.source {
            SecretSource::Inline => "must not be empty".to_owned(),
            SecretSource::Env(name) => format!("environment variable `{name}` is empty"),
        };
        node.error(cx, message);
        return None;
    }
    Some(secret)
}

// ---------------------------------------------------------------------------
// Languages
// ---------------------------------------------------------------------------

/// A language tag such as `en`, `es` or `pt-BR`, kept in lower case (`pt-br`)
/// so that tags compare regardless of how they were written; parse API input
/// with [`Language::parse`] before comparing.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Language(String);

impl Language {
    /// Accepts BCP 47-shaped tags: a 2–3 letter primary language, then
    /// `-`-separated subtags of 1–8 letters or digits.
    pub fn parse(text: &str) -> Option<Language> {
        let mut parts = text.split('-');
        let primary = parts.next()?;
        let primary_ok =
            (2..=3).contains(&primary.len()) && primary.bytes().all(|b| b.is_ascii_alphabetic());
        let rest_ok = parts
            .all(|p| (1..=8).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_alphanumeric()));
        (primary_ok && rest_ok).then(|| Language(text.to_ascii_lowercase()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `en`, the default language of a line.
    pub fn english() -> Language {
        Language("en".to_owned())
    }
}

impl fmt::Display for Language {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

pub(crate) fn language_from_str(text: &str, report: impl FnOnce(String)) -> Option<Language> {
    let language = Language::parse(text);
    if language.is_none() {
        report(format!(
            "`{text}` is not a language tag (expected e.g. \"en\", \"es\" or \"pt-BR\")"
        ));
    }
    language
}

pub(crate) fn parse_language(node: &Node<'_, '_>, cx: &mut Ctx<'_, '_>) -> Option<Language> {
    let text = node.string(cx)?;
    language_from_str(text, |message| node.error(cx, message))
}

// ---------------------------------------------------------------------------
// URLs
// ---------------------------------------------------------------------------

/// An absolute `http` or `https` URL with a host, checked at load so that a
/// typo in the webhook or MMSC address stops the daemon before it starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpUrl {
    text: String,
    https: bool,
    host: String,
    port: u16,
}

impl HttpUrl {
    /// Parses `http[s]://host[:port][/path][?query]`. User info (`user@`) and
    /// fragments are refused: credentials belong in secrets, and a fragment is
    /// never sent to a server.
    pub fn parse(text: &str) -> Result<HttpUrl, String> {
        let lower = text.to_ascii_lowercase();
        let (https, rest) = if lower.starts_with("https://") {
            (true, text.get(8..).unwrap_or_default())
        } else if lower.starts_with("http://") {
            (false, text.get(7..).unwrap_or_default())
        } else {
            return Err("must start with http:// or https://".to_owned());
        };
        if text.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err("must not contain spaces or control characters".to_owned());
        }
        if text.contains('#') {
            return Err("must not contain a fragment (`#…`)".to_owned());
        }
        let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
        let authority = rest.get(..authority_end).unwrap_or_default();
        if authority.contains('@') {
            return Err(
                "must not contain credentials (`user@`); use the secret keys instead".to_owned(),
            );
        }
        let (host, port) = if let Some(bracketed) = authority.strip_prefix('[') {
            let Some((host, after)) = bracketed.split_once(']') else {
                return Err("has an unclosed `[` in its host".to_owned());
            };
            if host.parse::<std::net::Ipv6Addr>().is_err() {
                return Err(format!("`[{host}]` is not an IPv6 address"));
            }
            match after {
                "" => (format!("[{host}]"), None),
                _ => match after.strip_prefix(':') {
                    Some(port) => (format!("[{host}]"), Some(port)),
                    None => return Err("has text after its IPv6 host".to_owned()),
                },
            }
        } else {
            match authority.split_once(':') {
                Some((host, port)) => (host.to_owned(), Some(port)),
                None => (authority.to_owned(), None),
            }
        };
        if host.is_empty() {
            return Err("has no host".to_owned());
        }
        if !host.starts_with('[')
            && !host
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.' || c == '_')
        {
            return Err(format!("`{host}` is not a valid host name"));
        }
        let port = match port {
            None => {
                if https {
                    443
                } else {
                    80
                }
            }
            Some(port) => match port.parse::<u16>() {
                Ok(0) | Err(_) => return Err(format!("`{port}` is not a valid port (1–65535)")),
                Ok(port) => port,
            },
        };
        Ok(HttpUrl {
            text: text.to_owned(),
            https,
            host,
            port,
        })
    }

    /// The URL as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    pub fn is_https(&self) -> bool {
        self.https
    }

    /// The host, with brackets for an IPv6 address.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The port, or the scheme's default (80, 443).
    pub fn port(&self) -> u16 {
        self.port
    }
}

impl fmt::Display for HttpUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

pub(crate) fn parse_http_url(node: &Node<'_, '_>, cx: &mut Ctx<'_, '_>) -> Option<HttpUrl> {
    let text = node.string(cx)?;
    match HttpUrl::parse(text) {
        Ok(url) => Some(url),
        Err(why) => {
            node.error(cx, format!("`{text}` is not a valid URL: {why}"));
            None
        }
    }
}

// ---------------------------------------------------------------------------
// Scalars
// ---------------------------------------------------------------------------

pub(crate) fn parse_non_empty(node: &Node<'_, '_>, cx: &mut Ctx<'_, '_>) -> Option<String> {
    let text = node.string(cx)?;
    if text.trim().is_empty() {
        node.error(cx, "must not be empty");
        return None;
    }
    Some(text.to_owned())
}

/// A string of at most `max` octets (SMPP C-octet string fields).
pub(crate) fn parse_bounded_string(
    max: usize,
) -> impl FnOnce(&Node<'_, '_>, &mut Ctx<'_, '_>) -> Option<String> {
    move |node, cx| {
        let text = node.string(cx)?;
        if text.len() > max {
            node.error(
                cx,
                format!("is {} octets long; SMPP allows at most {max}", text.len()),
            );
            return None;
        }
        if !text.is_ascii() {
            node.error(cx, "must be ASCII");
            return None;
        }
        Some(text.to_owned())
    }
}

/// A name that other sections refer to and that appears in metrics labels and
/// logs: 1–64 letters, digits, `_`, `-` or `.`.
pub(crate) fn parse_name(node: &Node<'_, '_>, cx: &mut Ctx<'_, '_>) -> Option<String> {
    let text = node.string(cx)?;
    if name_is_valid(text) {
        Some(text.to_owned())
    } else {
        node.error(
            cx,
            format!("`{text}` is not a valid name: use 1 to 64 letters, digits, `_`, `-` or `.`"),
        );
        None
    }
}

pub(crate) fn name_is_valid(text: &str) -> bool {
    (1..=64).contains(&text.len())
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
}

pub(crate) fn parse_bool(node: &Node<'_, '_>, cx: &mut Ctx<'_, '_>) -> Option<bool> {
    node.boolean(cx)
}

/// An integer in `min..=max`, converted to `T`.
pub(crate) fn parse_int<T: TryFrom<i128>>(
    min: i128,
    max: i128,
) -> impl FnOnce(&Node<'_, '_>, &mut Ctx<'_, '_>) -> Option<T> {
    move |node, cx| {
        let value = node.integer(cx)?;
        if value < min {
            node.error(cx, format!("must be at least {min}, not {value}"));
            return None;
        }
        if value > max {
            node.error(cx, format!("must be at most {max}, not {value}"));
            return None;
        }
        match T::try_from(value) {
            Ok(v) => Some(v),
            Err(_) => {
                node.error(cx, "integer is out of range");
                None
            }
        }
    }
}

/// A positive rate or count limit.
pub(crate) fn parse_positive_u32(
    node: &Node<'_, '_>,
    cx: &mut Ctx<'_, '_>,
) -> Option<std::num::NonZeroU32> {
    let value: u32 = parse_int(1, i128::from(u32::MAX))(node, cx)?;
    std::num::NonZeroU32::new(value)
}

/// A TCP/UDP port, 1–65535.
pub(crate) fn parse_port(node: &Node<'_, '_>, cx: &mut Ctx<'_, '_>) -> Option<u16> {
    parse_int(1, 65_535)(node, cx)
}

/// A filesystem path; not checked for existence.
pub(crate) fn parse_path(node: &Node<'_, '_>, cx: &mut Ctx<'_, '_>) -> Option<PathBuf> {
    parse_non_empty(node, cx).map(PathBuf::from)
}

/// A path to a file that must exist when the configuration is loaded.
pub(crate) fn parse_existing_file(node: &Node<'_, '_>, cx: &mut Ctx<'_, '_>) -> Option<PathBuf> {
    let path = parse_path(node, cx)?;
    if path.is_file() {
        Some(path)
    } else {
        node.error(
            cx,
            format!("`{}` does not exist or is not a file", path.display()),
        );
        None
    }
}

/// A listen address `IP:PORT` with a non-zero port.
pub(crate) fn parse_listen(node: &Node<'_, '_>, cx: &mut Ctx<'_, '_>) -> Option<SocketAddr> {
    let text = node.string(cx)?;
    match text.parse::<SocketAddr>() {
        Ok(addr) if addr.port() == 0 => {
            node.error(cx, format!("`{text}` has port 0; give a fixed port"));
            None
        }
        Ok(addr) => Some(addr),
        Err(_) => {
            node.error(
                cx,
                format!(
                    "`{text}` is not an IP:PORT address (e.g. \"127.0.0.1:8080\" or \"[::1]:8080\")"
                ),
            );
            None
        }
    }
}

/// A host name or IP address to connect to.
pub(crate) fn parse_host(node: &Node<'_, '_>, cx: &mut Ctx<'_, '_>) -> Option<String> {
    let text = node.string(cx)?;
    let valid = !text.is_empty()
        && text.len() <= 253
        && (text.parse::<std::net::IpAddr>().is_ok()
            || text
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_')));
    if valid {
        Some(text.to_owned())
    } else {
        node.error(
            cx,
            format!("`{text}` is not a host name or IP address (no port or scheme here)"),
        );
        None
    }
}

/// A humantime duration such as `"30s"`, `"5m"` or `"1h 30m"`.
pub(crate) fn parse_duration(node: &Node<'_, '_>, cx: &mut Ctx<'_, '_>) -> Option<Duration> {
    let Some(text) = node.as_str() else {
        node.wrong_type(
            cx,
            "a duration string such as \"30s\", \"5m\" or \"1h 30m\"",
        );
        return None;
    };
    match humantime::parse_duration(text) {
        Ok(duration) => Some(duration),
        Err(why) => {
            node.error(
                cx,
                format!(
                    "`{text}` is not a duration ({why}); write e.g. \"30s\", \"5m\" or \"1h 30m\""
                ),
            );
            None
        }
    }
}

/// A duration that must be longer than zero.
pub(crate) fn parse_positive_duration(
    node: &Node<'_, '_>,
    cx: &mut Ctx<'_, '_>,
) -> Option<Duration> {
    let duration = parse_duration(node, cx)?;
    if duration.is_zero() {
        node.error(cx, "must be longer than zero");
        return None;
    }
    Some(duration)
}

/// An array whose elements are each parsed by `item`; every bad element is
/// reported.
pub(crate) fn parse_list<'a, 'i, T>(
    node: &Node<'a, 'i>,
    cx: &mut Ctx<'_, '_>,
    mut item: impl FnMut(&Node<'a, 'i>, &mut Ctx<'_, '_>) -> Option<T>,
) -> Option<Vec<T>> {
    let items = node.array(cx)?;
    let mut values = Vec::with_capacity(items.len());
    let mut ok = true;
    for element in &items {
        match item(element, cx) {
            Some(v) => values.push(v),
            None => ok = false,
        }
    }
    ok.then_some(values)
}

/// A value from a fixed set of names, each mapped to a `T`. `what` names the
/// kind of value in the error message.
pub(crate) fn parse_choice<T: Copy>(
    what: &'static str,
    choices: &'static [(&'static str, T)],
) -> impl Fn(&Node<'_, '_>, &mut Ctx<'_, '_>) -> Option<T> {
    move |node, cx| {
        let text = node.string(cx)?;
        if let Some((_, value)) = choices.iter().find(|(name, _)| *name == text) {
            return Some(*value);
        }
        let names: Vec<String> = choices
            .iter()
            .map(|(name, _)| format!("\"{name}\""))
            .collect();
        node.error(
            cx,
            format!(
                "`{text}` is not a valid {what}; expected one of {}",
                names.join(", ")
            ),
        );
        None
    }
}

/// A value of a protocol type, written as its name: one of `choices`, each
/// named by `name` (the protocol crate's own names, so the configuration
/// keeps no copy of its vocabulary). `what` names the kind of value in the
/// error message.
pub(crate) fn parse_named<T: Copy + 'static>(
    what: &'static str,
    choices: &'static [T],
    name: fn(T) -> Option<&'static str>,
) -> impl Fn(&Node<'_, '_>, &mut Ctx<'_, '_>) -> Option<T> {
    move |node, cx| {
        let text = node.string(cx)?;
        if let Some(value) = choices.iter().copied().find(|c| name(*c) == Some(text)) {
            return Some(value);
        }
        let names: Vec<String> = choices
            .iter()
            .filter_map(|c| name(*c))
            .map(|n| format!("\"{n}\""))
            .collect();
        node.error(
            cx,
            format!(
                "`{text}` is not a valid {what}; expected one of {}",
                names.join(", ")
            ),
        );
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phone_numbers() {
        for good in [
            "+15551230001",
            "+44207946000",
            "+123456789012345",
            "12345",
            "123",
            "12345678",
        ] {
            assert!(PhoneNumber::parse(good).is_ok(), "{good}");
        }
        for bad in [
            "15551230001x",
            "+1234567",
            "+1234567890123456",
            "+05551230001",
            "+1 555 123 0001",
            "+1555123000a",
            "12",
            "123456789",
            "",
            "+",
        ] {
            assert!(PhoneNumber::parse(bad).is_err(), "{bad}");
        }
        let n = PhoneNumber::parse("+15551230001").expect("valid");
        assert_eq!(n.digits(), "15551230001");
        assert_eq!(n.kind(), NumberKind::E164);
        let s = PhoneNumber::parse("12345").expect("valid");
        assert_eq!(s.digits(), "12345");
        assert_eq!(s.kind(), NumberKind::ShortCode);
        assert_eq!(s.to_string(), "12345");
    }

    #[test]
    fn urls() {
        let url = HttpUrl::parse("http://127.0.0.1:8081/events").expect("valid");
        assert_eq!(url.host(), "127.0.0.1");
        assert_eq!(url.port(), 8081);
        assert!(!url.is_https());
        let url = HttpUrl::parse("HTTPS://core.example.com/hooks?x=1").expect("valid");
        assert_eq!(url.port(), 443);
        assert!(url.is_https());
        let url = HttpUrl::parse("http://[::1]:7070/mm7").expect("valid");
        assert_eq!(url.host(), "[::1]");
        assert_eq!(url.port(), 7070);
        for bad in [
            "ftp://x",
            "127.0.0.1:8081/events",
            "http://",
            "http:///path",
            "http://host:0/",
            "http://host:99999/",
            "http://host:abc/",
            "http://user:pw@host/",
            "http://ho st/",
            "http://host/#frag",
            "http://[::1/",
            "http://[zz]/",
            "http://[::1]x/",
        ] {
            assert!(HttpUrl::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn languages() {
        assert_eq!(Language::parse("en").map(|l| l.0), Some("en".to_owned()));
        assert_eq!(
            Language::parse("pt-BR").map(|l| l.0),
            Some("pt-br".to_owned())
        );
        assert_eq!(
            Language::parse("zh-Hant-TW").map(|l| l.0),
            Some("zh-hant-tw".to_owned())
        );
        for bad in ["", "e", "english", "en_US", "en-", "en-toolongsubtag", "1n"] {
            assert!(Language::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn secrets_never_show_their_value() {
        let secret = Secret::inline("hunter2");
        assert_eq!(format!("{secret:?}"), "Secret(<redacted>)");
        let secret = Secret {
            value: "hunter2".into(),
            source: SecretSource::Env("SMPP_PASSWORD".into()),
        };
        assert_eq!(
            format!("{secret:?}"),
            "Secret(env:SMPP_PASSWORD, <redacted>)"
        );
        assert_eq!(secret.expose(), "hunter2");
    }

    #[test]
    fn env_names() {
        assert!(is_env_name("SMPP_PASSWORD"));
        assert!(is_env_name("_x1"));
        assert!(!is_env_name("1X"));
        assert!(!is_env_name(""));
        assert!(!is_env_name("A-B"));
    }
}
