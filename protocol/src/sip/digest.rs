//! HTTP digest authentication as SIP uses it (RFC 3261 §22.4, RFC 2617,
//! RFC 7616 with SHA-256 for SIP per RFC 8760): reads a `WWW-Authenticate`
//! or `Proxy-Authenticate` challenge and computes the `Authorization`
//! answer, `qop=auth` when the server offers it.
//!
//! Why: SIP trunks answer a MESSAGE from an unknown peer with 401 or 407;
//! the link retries it once with these credentials.

use md5::Md5;
use sha2::{Digest, Sha256};

use super::SipError;

/// The hash of a challenge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DigestAlgorithm {
    /// `MD5` (the default when none is named).
    Md5,
    /// `SHA-256`.
    Sha256,
}

impl DigestAlgorithm {
    fn name(self) -> &'static str {
        match self {
            DigestAlgorithm::Md5 => "MD5",
            DigestAlgorithm::Sha256 => "SHA-256",
        }
    }

    fn hash(self, input: &str) -> String {
        let bytes: Vec<u8> = match self {
            DigestAlgorithm::Md5 => Md5::digest(input.as_bytes()).to_vec(),
            DigestAlgorithm::Sha256 => Sha256::digest(input.as_bytes()).to_vec(),
        };
        crate::hex::encode(&bytes)
    }
}

/// A parsed `Digest` challenge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DigestChallenge {
    /// `realm`.
    pub realm: String,
    /// `nonce`.
    pub nonce: String,
    /// `opaque`, echoed back.
    pub opaque: Option<String>,
    /// `algorithm`.
    pub algorithm: DigestAlgorithm,
    /// `qop` offers `auth`.
    pub qop_auth: bool,
    /// `stale=true`: the nonce expired, the credentials were right.
    pub stale: bool,
}

/// Splits `a=b, c="d,e"` into pairs (quotes removed, escapes undone).
fn auth_params(text: &str) -> Result<Vec<(String, String)>, SipError> {
    let bad = || SipError::BadHeader(format!("bad digest parameters {text:?}"));
    let mut out = Vec::new();
    let mut rest = text.trim();
    while !rest.is_empty() {
        let (name, after) = rest.split_once('=').ok_or_else(bad)?;
        let name = name.trim().to_ascii_lowercase();
        let after = after.trim_start();
        let (value, remaining) = if let Some(quoted) = after.strip_prefix('"') {
            let mut value = String::new();
            let mut chars = quoted.char_indices();
            let mut end = None;
            while let Some((i, c)) = chars.next() {
                match c {
                    '\\' => value.push(chars.next().ok_or_else(bad)?.1),
                    '"' => {
                        end = Some(i + 1);
                        break;
                    }
                    c => value.push(c),
                }
            }
            (value, &quoted[end.ok_or_else(bad)?..])
        } else {
            let end = after.find(',').unwrap_or(after.len());
            (after[..end].trim().to_owned(), &after[end..])
        };
        out.push((name, value));
        rest = remaining.trim_start();
        rest = rest.strip_prefix(',').unwrap_or(rest).trim_start();
    }
    Ok(out)
}

/// The parameters and algorithm of a `Digest` challenge or credentials.
fn digest_params(
    value: &str,
    what: &str,
) -> Result<(Vec<(String, String)>, DigestAlgorithm), SipError> {
    let bad = |why: &str| SipError::BadHeader(format!("{what} {value:?}: {why}"));
    let (scheme, params) = value
        .split_once([' ', '\t'])
        .ok_or_else(|| bad("no parameters"))?;
    if !scheme.eq_ignore_ascii_case("Digest") {
        return Err(bad("not Digest"));
    }
    let params = auth_params(params)?;
    let algorithm = match params
        .iter()
        .find(|(n, _)| n == "algorithm")
        .map(|(_, v)| v)
    {
        None => DigestAlgorithm::Md5,
        Some(a) if a.eq_ignore_ascii_case("MD5") => DigestAlgorithm::Md5,
        Some(a) if a.eq_ignore_ascii_case("SHA-256") => DigestAlgorithm::Sha256,
        Some(_) => return Err(bad("an unsupported algorithm")),
    };
    Ok((params, algorithm))
}

impl DigestChallenge {
    /// Parses a `WWW-Authenticate` / `Proxy-Authenticate` value.
    pub fn parse(value: &str) -> Result<DigestChallenge, SipError> {
        let value = value.trim();
        let bad = |why: &str| SipError::BadHeader(format!("challenge {value:?}: {why}"));
        let (params, algorithm) = digest_params(value, "challenge")?;
        let get = |name: &str| {
            params
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.clone())
        };
        let qop = get("qop");
        let qop_auth = qop
            .as_deref()
            .is_some_and(|q| q.split(',').any(|o| o.trim().eq_ignore_ascii_case("auth")));
        if qop.is_some() && !qop_auth {
            return Err(bad("qop without auth (auth-int is not supported)"));
        }
        Ok(DigestChallenge {
            realm: get("realm").ok_or_else(|| bad("no realm"))?,
            nonce: get("nonce").ok_or_else(|| bad("no nonce"))?,
            opaque: get("opaque"),
            algorithm,
            qop_auth,
            stale: get("stale").is_some_and(|s| s.eq_ignore_ascii_case("true")),
        })
    }

    /// The `response` for `method` and `uri` (the Request-URI).
    pub fn response(
        &self,
        username: &str,
        password: &str,
        method: &str,
        uri: &str,
        cnonce: &str,
        nc: u32,
    ) -> String {
        let ha1 = self
            .algorithm
            .hash(&format!("{username}:{}:{password}", self.realm));
        let ha2 = self.algorithm.hash(&format!("{method}:{uri}"));
        if self.qop_auth {
            self.algorithm.hash(&format!(
                "{ha1}:{}:{nc:08x}:{cnonce}:auth:{ha2}",
                self.nonce
            ))
        } else {
            self.algorithm.hash(&format!("{ha1}:{}:{ha2}", self.nonce))
        }
    }

    /// The `Authorization` (or `Proxy-Authorization`) header value.
    pub fn authorization(
        &self,
        username: &str,
        password: &str,
        method: &str,
        uri: &str,
        cnonce: &str,
        nc: u32,
    ) -> String {
        let quote = |s: &str| s.replace('\\', "\\\\").replace('"', "\\\"");
        let response = self.response(username, password, method, uri, cnonce, nc);
        let mut value = format!(
            "Digest username=\"{}\", realm=\"{}\", nonce=\"{}\", uri=\"{}\", response=\"{response}\", algorithm={}",
            quote(username),
            quote(&self.realm),
            quote(&self.nonce),
            quote(uri),
            self.algorithm.name()
        );
        if self.qop_auth {
            value.push_str(&format!(
                ", qop=auth, nc={nc:08x}, cnonce=\"{}\"",
                quote(cnonce)
            ));
        }
        if let Some(opaque) = &self.opaque {
            value.push_str(&format!(", opaque=\"{}\"", quote(opaque)));
        }
        value
    }
}

/// The credentials of an `Authorization` (or `Proxy-Authorization`)
/// header: what a server checks against the challenge it gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DigestCredentials {
    /// `username`.
    pub username: String,
    /// `realm`.
    pub realm: String,
    /// `nonce`, the challenge's.
    pub nonce: String,
    /// `uri`, the Request-URI the response covers.
    pub uri: String,
    /// `response`.
    pub response: String,
    /// `algorithm`.
    pub algorithm: DigestAlgorithm,
    /// `qop=auth` with its `cnonce` and `nc`.
    pub qop_auth: Option<(String, u32)>,
}

impl DigestCredentials {
    /// Parses an `Authorization` value.
    pub fn parse(value: &str) -> Result<DigestCredentials, SipError> {
        let value = value.trim();
        let bad = |why: &str| SipError::BadHeader(format!("credentials {value:?}: {why}"));
        let (params, algorithm) = digest_params(value, "credentials")?;
        let get = |name: &str| {
            params
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.clone())
        };
        let qop_auth = match get("qop") {
            Some(q) if q.eq_ignore_ascii_case("auth") => {
                let cnonce = get("cnonce").ok_or_else(|| bad("qop without cnonce"))?;
                let nc = get("nc")
                    .and_then(|nc| u32::from_str_radix(&nc, 16).ok())
                    .ok_or_else(|| bad("qop without a hex nc"))?;
                Some((cnonce, nc))
            }
            Some(_) => return Err(bad("a qop other than auth")),
            None => None,
        };
        Ok(DigestCredentials {
            username: get("username").ok_or_else(|| bad("no username"))?,
            realm: get("realm").ok_or_else(|| bad("no realm"))?,
            nonce: get("nonce").ok_or_else(|| bad("no nonce"))?,
            uri: get("uri").ok_or_else(|| bad("no uri"))?,
            response: get("response").ok_or_else(|| bad("no response"))?,
            algorithm,
            qop_auth,
        })
    }

    /// Whether the response is right for `password` and `method`.
    /// Compared in constant time.
    pub fn verify(&self, password: &str, method: &str) -> bool {
        let challenge = DigestChallenge {
            realm: self.realm.clone(),
            nonce: self.nonce.clone(),
            opaque: None,
            algorithm: self.algorithm,
            qop_auth: self.qop_auth.is_some(),
            stale: false,
        };
        let (cnonce, nc) = self.qop_auth.clone().unwrap_or_else(|| (String::new(), 0));
        let expected = challenge.response(&self.username, password, method, &self.uri, &cnonce, nc);
        let given = self.response.to_ascii_lowercase();
        expected.len() == given.len()
            && expected
                .bytes()
                .zip(given.bytes())
                .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_parse_back_and_verify() {
        for (offer, algorithm) in [
            ("qop=\"auth\", algorithm=MD5", DigestAlgorithm::Md5),
            ("algorithm=SHA-256", DigestAlgorithm::Sha256),
        ] {
            let challenge = DigestChallenge::parse(&format!(
                "Digest realm=\"sip.example.net\", nonce=\"n0nce\", {offer}"
            ))
            .expect("challenge");
            let header =
                challenge.authorization("gw", "s3cret", "MESSAGE", "sip:+1@x", "c0ffee", 1);
            let credentials = DigestCredentials::parse(&header).expect("credentials");
            assert_eq!(credentials.username, "gw");
            assert_eq!(credentials.nonce, "n0nce");
            assert_eq!(credentials.algorithm, algorithm);
            assert!(credentials.verify("s3cret", "MESSAGE"));
            assert!(!credentials.verify("wrong", "MESSAGE"));
            assert!(!credentials.verify("s3cret", "INVITE"));
        }
        assert!(DigestCredentials::parse("Basic Z3c6czNjcmV0").is_err());
        assert!(DigestCredentials::parse("Digest username=\"gw\"").is_err());
    }

    /// RFC 2617 §3.5.
    #[test]
    fn rfc2617_example() {
        let challenge = DigestChallenge::parse(
            "Digest realm=\"testrealm@host.com\", qop=\"auth,auth-int\", \
             nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\", opaque=\"5ccc069c403ebaf9f0171e9517f40e41\"",
        )
        .expect("challenge");
        assert_eq!(challenge.algorithm, DigestAlgorithm::Md5);
        assert!(challenge.qop_auth);
        let response = challenge.response(
            "Mufasa",
            "Circle Of Life",
            "GET",
            "/dir/index.html",
            "0a4f113b",
            1,
        );
        assert_eq!(response, "6629fae49393a05397450978507c4ef1");
    }

    /// RFC 7616 §3.9.1, MD5 and SHA-256.
    #[test]
    fn rfc7616_examples() {
        for (algorithm, expected) in [
            ("MD5", "8ca523f5e9506fed4657c9700eebdbec"),
            (
                "SHA-256",
                "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1",
            ),
        ] {
            let challenge = DigestChallenge::parse(&format!(
                "Digest realm=\"http-auth@example.org\", qop=\"auth, auth-int\", algorithm={algorithm}, \
                 nonce=\"7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v\", \
                 opaque=\"FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS\""
            ))
            .expect("challenge");
            let cnonce = "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ";
            assert_eq!(
                challenge.response(
                    "Mufasa",
                    "Circle of Life",
                    "GET",
                    "/dir/index.html",
                    cnonce,
                    1
                ),
                expected,
                "{algorithm}"
            );
            let header = challenge.authorization(
                "Mufasa",
                "Circle of Life",
                "GET",
                "/dir/index.html",
                cnonce,
                1,
            );
            assert!(
                header.contains(&format!("response=\"{expected}\"")),
                "{header}"
            );
            assert!(
                header.contains("nc=00000001") && header.contains("opaque=\"FQhe"),
                "{header}"
            );
        }
    }

    #[test]
    fn bad_challenges_are_refused() {
        for bad in [
            "Basic realm=\"x\"",
            "Digest nonce=\"n\"",
            "Digest realm=\"r\", nonce=\"n\", algorithm=SHA-512-256",
            "Digest realm=\"r\", nonce=\"n\", qop=\"auth-int\"",
            "Digest realm=\"unterminated",
        ] {
            assert!(DigestChallenge::parse(bad).is_err(), "{bad}");
        }
    }
}
