//! The header fields the gateway reads, typed (RFC 3261 §20, §25):
//! `From`/`To`/`Contact` (name-addr or addr-spec, with their tag and
//! parameters), `Via` (sent-protocol, sent-by, branch, received, rport),
//! `CSeq`, and the URI and `Date` syntax checks they rely on.

use super::SipError;

/// A parameter list: `;name=value` pairs (a bare `;name` has no value).
pub type Params = Vec<(String, Option<String>)>;

/// A `token` character (RFC 3261 §25.1).
pub(crate) fn is_token_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || b"-.!%*_+`'~".contains(&c)
}

/// Checks the characters of a URI's part after its scheme: visible ASCII
/// that RFC 3986 / RFC 3261 allow, with `%` always starting an escape.
pub fn check_uri_token(text: &str) -> Result<(), String> {
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b == b'%' {
            let hex = bytes.get(i + 1..i + 3).ok_or("a truncated % escape")?;
            if !hex.iter().all(u8::is_ascii_hexdigit) {
                return Err("a % that is not an escape".to_owned());
            }
            i += 3;
            continue;
        }
        let allowed = b.is_ascii_alphanumeric() || b"-_.!~*'();/?:@&=+$,[]#".contains(&b);
        if !allowed {
            return Err(format!("the character {:?}", b as char));
        }
        i += 1;
    }
    Ok(())
}

/// Parses `;a=b;c` parameters; every name a token, every value a token,
/// a host, or a quoted string. Whitespace around `;` and `=` is allowed.
pub fn parse_params(text: &str) -> Result<Params, SipError> {
    let mut params = Params::new();
    let text = text.trim();
    if text.is_empty() {
        return Ok(params);
    }
    let Some(rest) = text.strip_prefix(';') else {
        return Err(SipError::BadHeader(format!(
            "expected ;parameters in {text:?}"
        )));
    };
    for raw in split_outside_quotes(rest, ';') {
        let raw = raw.trim();
        let bad = || SipError::BadHeader(format!("bad parameter {raw:?}"));
        if raw.is_empty() {
            return Err(bad());
        }
        let (name, value) = match raw.split_once('=') {
            Some((n, v)) => (n.trim(), Some(v.trim())),
            None => (raw, None),
        };
        if name.is_empty() || !name.bytes().all(is_token_char) {
            return Err(bad());
        }
        let value = match value {
            None => None,
            Some(v) if v.starts_with('"') => Some(unquote(v).ok_or_else(bad)?),
            Some(v) => {
                let ok =
                    !v.is_empty() && v.bytes().all(|b| is_token_char(b) || b":[]".contains(&b));
                if !ok {
                    return Err(bad());
                }
                Some(v.to_owned())
            }
        };
        params.push((name.to_owned(), value));
    }
    Ok(params)
}

/// The offsets of `ch` outside quoted strings (with `\\` escapes), and
/// whether `text` ends inside one.
fn outside_quotes(text: &str, ch: char) -> (Vec<usize>, bool) {
    let mut found = Vec::new();
    let mut quoted = false;
    let mut escaped = false;
    for (i, c) in text.char_indices() {
        if quoted {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                quoted = false;
            }
        } else if c == '"' {
            quoted = true;
        } else if c == ch {
            found.push(i);
        }
    }
    (found, quoted)
}

/// Splits at `sep` (one byte) outside quoted strings.
fn split_outside_quotes(text: &str, sep: char) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    for i in outside_quotes(text, sep).0 {
        out.push(&text[start..i]);
        start = i + sep.len_utf8();
    }
    out.push(&text[start..]);
    out
}

/// The content of a whole quoted string (`"…"`, with `\` escapes), or
/// `None` if `text` is not exactly one.
fn unquote(text: &str) -> Option<String> {
    let inner = text.strip_prefix('"')?;
    let mut out = String::new();
    let mut chars = inner.chars();
    loop {
        match chars.next()? {
            '\\' => {
                let c = chars.next()?;
                if c == '\r' || c == '\n' {
                    return None;
                }
                out.push(c);
            }
            '"' => break,
            c => out.push(c),
        }
    }
    chars.as_str().is_empty().then_some(out)
}

/// `From`, `To` or `Contact`: a URI with an optional display name, and the
/// header's parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameAddr {
    /// The display name (unquoted), if any.
    pub display_name: Option<String>,
    /// The URI.
    pub uri: String,
    /// The header parameters (`tag`, `expires`, …).
    pub params: Params,
}

impl NameAddr {
    /// Parses `name-addr / addr-spec` followed by parameters.
    pub fn parse(value: &str) -> Result<NameAddr, SipError> {
        let value = value.trim();
        let bad = |why: &str| SipError::BadHeader(format!("{value:?}: {why}"));
        // The first `<` outside a quoted display name.
        let (opens, unterminated) = outside_quotes(value, '<');
        let open = opens.first().copied();
        if open.is_none() && unterminated {
            return Err(bad("an unterminated quoted string"));
        }
        match open {
            Some(open) => {
                let display = value[..open].trim();
                let display_name = if display.is_empty() {
                    None
                } else if display.starts_with('"') {
                    Some(unquote(display).ok_or_else(|| bad("a malformed quoted display name"))?)
                } else {
                    // *(token LWS): tokens separated by whitespace only.
                    if !display
                        .split([' ', '\t'])
                        .filter(|t| !t.is_empty())
                        .all(|t| t.bytes().all(is_token_char))
                    {
                        return Err(bad(
                            "a display name with non-token characters must be quoted",
                        ));
                    }
                    Some(display.split_whitespace().collect::<Vec<_>>().join(" "))
                };
                let after = &value[open + 1..];
                let close = after.find('>').ok_or_else(|| bad("a < without >"))?;
                let uri = &after[..close];
                if uri.starts_with([' ', '\t']) || uri.ends_with([' ', '\t']) {
                    return Err(bad("whitespace inside <>"));
                }
                check_addr_uri(uri).map_err(|why| bad(&why))?;
                Ok(NameAddr {
                    display_name,
                    uri: uri.to_owned(),
                    params: parse_params(&after[close + 1..])?,
                })
            }
            None => {
                // addr-spec: its parameters are the header's, so the URI
                // itself may not hold `;`, `?` or `,` (RFC 3261 §20).
                let (uri, params) = match value.find(';') {
                    Some(i) => (&value[..i], &value[i..]),
                    None => (value, ""),
                };
                let uri = uri.trim();
                if uri.contains(['?', ',', ' ', '\t', '"']) {
                    return Err(bad("a URI with ?, comma or spaces must be enclosed in <>"));
                }
                check_addr_uri(uri).map_err(|why| bad(&why))?;
                Ok(NameAddr {
                    display_name: None,
                    uri: uri.to_owned(),
                    params: parse_params(params)?,
                })
            }
        }
    }

    /// The `tag` parameter.
    pub fn tag(&self) -> Option<&str> {
        param(&self.params, "tag")
    }

    /// The URI's user part (`+15551230001` of `sip:+15551230001@host`).
    pub fn user(&self) -> Option<&str> {
        let rest = self.uri.split_once(':')?.1;
        let (user, _) = rest.split_once('@')?;
        Some(user.split([';', ':']).next().unwrap_or(user))
    }
}

/// An absolute URI inside a name-addr.
fn check_addr_uri(uri: &str) -> Result<(), String> {
    let (scheme, rest) = uri.split_once(':').ok_or("no scheme")?;
    if scheme.is_empty()
        || !scheme.as_bytes()[0].is_ascii_alphabetic()
        || !scheme
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+-.".contains(&b))
    {
        return Err("a bad scheme".to_owned());
    }
    if rest.is_empty() {
        return Err("nothing after the scheme".to_owned());
    }
    check_uri_token(rest)
}

/// The value of parameter `name` (case-insensitive).
pub fn param<'p>(params: &'p Params, name: &str) -> Option<&'p str> {
    params
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .and_then(|(_, v)| v.as_deref())
}

/// One `Via` value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Via {
    /// `UDP`, `TCP`, `TLS`, … (uppercase).
    pub transport: String,
    /// `host[:port]`.
    pub host: String,
    /// The port, if given.
    pub port: Option<u16>,
    /// Parameters (`branch`, `received`, `rport`, …).
    pub params: Params,
}

impl Via {
    /// Parses `SIP / 2.0 / UDP host:port;params` (LWS allowed around `/`).
    pub fn parse(value: &str) -> Result<Via, SipError> {
        let bad = |why: &str| SipError::BadHeader(format!("Via {value:?}: {why}"));
        let mut rest = value.trim();
        let mut parts = Vec::new();
        for i in 0..3 {
            let end = if i < 2 {
                rest.find('/').ok_or_else(|| bad("no sent-protocol"))?
            } else {
                rest.find([' ', '\t']).ok_or_else(|| bad("no sent-by"))?
            };
            let part = rest[..end].trim();
            if part.is_empty() || !part.bytes().all(is_token_char) {
                return Err(bad("a bad sent-protocol"));
            }
            parts.push(part);
            rest = if i < 2 {
                rest[end + 1..].trim_start()
            } else {
                rest[end..].trim_start()
            };
        }
        if !parts[0].eq_ignore_ascii_case("SIP") || parts[1] != "2.0" {
            return Err(SipError::UnsupportedVersion(format!(
                "{}/{}",
                parts[0], parts[1]
            )));
        }
        let (sent_by, params) = match rest.find(';') {
            Some(i) => (rest[..i].trim(), &rest[i..]),
            None => (rest.trim(), ""),
        };
        let (host, port) = split_host_port(sent_by).ok_or_else(|| bad("a bad sent-by"))?;
        Ok(Via {
            transport: parts[2].to_ascii_uppercase(),
            host,
            port,
            params: parse_params(params)?,
        })
    }

    /// The `branch` parameter.
    pub fn branch(&self) -> Option<&str> {
        param(&self.params, "branch")
    }
}

/// `host[:port]`, with IPv6 references in brackets.
fn split_host_port(text: &str) -> Option<(String, Option<u16>)> {
    let (host, port) = if let Some(v6) = text.strip_prefix('[') {
        let end = v6.find(']')?;
        let host = &text[..end + 2];
        let rest = &v6[end + 1..];
        (host, rest.strip_prefix(':'))
    } else {
        match text.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (text, None),
        }
    };
    let host = host.trim();
    let valid = !host.is_empty()
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-.[]:".contains(&b));
    if !valid {
        return None;
    }
    let port = match port {
        Some(p) => Some(p.trim().parse::<u16>().ok()?),
        None => None,
    };
    Some((host.to_owned(), port))
}

/// `CSeq: 314159 MESSAGE`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CSeq {
    /// Below 2^31 (RFC 3261 §8.1.1.5).
    pub seq: u32,
    /// The method.
    pub method: String,
}

impl CSeq {
    /// Parses a `CSeq` value.
    pub fn parse(value: &str) -> Result<CSeq, SipError> {
        let bad = || SipError::BadHeader(format!("CSeq: {value}"));
        let mut parts = value.split_whitespace();
        let (Some(seq), Some(method), None) = (parts.next(), parts.next(), parts.next()) else {
            return Err(bad());
        };
        if !seq.bytes().all(|b| b.is_ascii_digit()) || !method.bytes().all(is_token_char) {
            return Err(bad());
        }
        let seq: u32 = seq.parse().map_err(|_| bad())?;
        if seq >= 1 << 31 {
            return Err(bad());
        }
        Ok(CSeq {
            seq,
            method: method.to_owned(),
        })
    }
}

/// `Date` (RFC 3261 §20.17): an RFC 1123 date in GMT, e.g.
/// `Sat, 13 Nov 2010 23:29:00 GMT`.
pub fn check_date(value: &str) -> Result<(), SipError> {
    let bad = || SipError::BadHeader(format!("Date: {value}"));
    let parts: Vec<&str> = value.split_whitespace().collect();
    let [day, date, month, year, time, zone] = parts.as_slice() else {
        return Err(bad());
    };
    let days = ["Mon,", "Tue,", "Wed,", "Thu,", "Fri,", "Sat,", "Sun,"];
    let months = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let digits = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_digit());
    let time_ok = time.split(':').count() == 3 && time.split(':').all(|t| digits(t, 2));
    if days.contains(day)
        && digits(date, 2)
        && months.contains(month)
        && digits(year, 4)
        && time_ok
        && *zone == "GMT"
    {
        Ok(())
    } else {
        Err(bad())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn name_addrs() {
        let a =
            NameAddr::parse("\"J Rosenberg \\\\\\\"\"  <sip:jdrosen@example.com> ; tag = 98asjd8")
                .expect("valid");
        assert_eq!(a.display_name.as_deref(), Some("J Rosenberg \\\""));
        assert_eq!(a.tag(), Some("98asjd8"));
        let b = NameAddr::parse("sip:+15551230001@trunk.example.net;tag=x").expect("addr-spec");
        assert_eq!(b.user(), Some("+15551230001"));
        assert_eq!(b.tag(), Some("x"));
        let c = NameAddr::parse("caller<sip:caller@example.com>;tag=1").expect("no LWS before <");
        assert_eq!(c.display_name.as_deref(), Some("caller"));
        for bad in [
            "\"Watson, Thomas\" < sip:t.watson@example.org >",
            "Bell, Alexander <sip:a.g.bell@example.com>;tag=43",
            "\"Mr J. User <sip:j.user@example.com>",
            "sip:user@example.com?Route=%3Csip:sip.example.com%3E",
            "<sip:user@example.com>;;tag=1",
        ] {
            assert!(NameAddr::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn vias() {
        let via =
            Via::parse("SIP  /   2.0 /UDP    192.0.2.2;rport;branch=390skdjuw").expect("valid");
        assert_eq!(via.transport, "UDP");
        assert_eq!(via.host, "192.0.2.2");
        assert_eq!(via.branch(), Some("390skdjuw"));
        let v6 = Via::parse("SIP/2.0/TLS [2001:db8::9:1]:5061;branch=z9hG4bKas").expect("v6");
        assert_eq!((v6.host.as_str(), v6.port), ("[2001:db8::9:1]", Some(5061)));
        assert!(Via::parse("SIP/2.0/UDP 192.0.2.15;;,;,,").is_err());
        assert!(Via::parse("SIP/7.0/UDP c.example.com;branch=z9hG4bKkdjuw").is_err());
    }

    #[test]
    fn cseq_and_dates() {
        assert_eq!(CSeq::parse("0009 INVITE").expect("valid").seq, 9);
        assert!(CSeq::parse("36893488147419103232 REGISTER").is_err());
        assert!(CSeq::parse("2147483648 MESSAGE").is_err());
        assert!(check_date("Sat, 13 Nov 2010 23:29:00 GMT").is_ok());
        assert!(check_date("Fri, 01 Jan 2010 16:00:00 EST").is_err());
    }
}
