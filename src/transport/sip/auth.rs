//! Digest authentication of the trunk's requests (RFC 3261 §22.2): a
//! request without valid credentials is challenged with a `401` carrying a
//! fresh nonce; one whose credentials answer a nonce we gave, for our
//! realm and user, with the right response, is let through. Nonces live a
//! few minutes, and only so many are kept (the oldest go first), so a
//! flood of unauthenticated requests costs bounded memory.

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

use carrier_protocol::sip::digest::DigestCredentials;
use carrier_protocol::sip::message::{HeaderField, SipMessage, StartLine};

/// How long a nonce may be answered.
const NONCE_LIFETIME: Duration = Duration::from_secs(300);
/// Nonces kept at most.
const MAX_NONCES: usize = 4096;

/// What to do with a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Its credentials are good.
    Pass,
    /// Answer `401` with this `WWW-Authenticate` header.
    Challenge(HeaderField),
}

/// The nonces given out, and the credentials they are checked against.
pub struct Authenticator {
    realm: String,
    username: String,
    password: String,
    issued: HashMap<String, Instant>,
    order: VecDeque<String>,
}

impl Authenticator {
    /// Checks requests against `username` and `password` in `realm`.
    pub fn new(realm: &str, username: &str, password: &str) -> Authenticator {
        Authenticator {
            realm: realm.to_owned(),
            username: username.to_owned(),
            password: password.to_owned(),
            issued: HashMap::new(),
            order: VecDeque::new(),
        }
    }

    /// Whether `request` may pass, at `now`.
    pub fn check(&mut self, request: &SipMessage, now: Instant) -> Verdict {
        let StartLine::Request { method, .. } = &request.start else {
            return self.challenge(now);
        };
        let good = request
            .values("Authorization")
            .filter_map(|v| DigestCredentials::parse(&v).ok())
            .any(|c| {
                c.username == self.username
                    && c.realm == self.realm
                    && self
                        .issued
                        .get(&c.nonce)
                        .is_some_and(|at| now.duration_since(*at) < NONCE_LIFETIME)
                    && c.verify(&self.password, method)
            });
        if good {
            Verdict::Pass
        } else {
            self.challenge(now)
        }
    }

    fn challenge(&mut self, now: Instant) -> Verdict {
        let nonce = format!("{:032x}", rand::random::<u128>());
        while self.order.len() >= MAX_NONCES {
            if let Some(old) = self.order.pop_front() {
                self.issued.remove(&old);
            }
        }
        self.issued.insert(nonce.clone(), now);
        self.order.push_back(nonce.clone());
        Verdict::Challenge(HeaderField {
            name: "WWW-Authenticate".to_owned(),
            value: format!(
                "Digest realm=\"{}\", nonce=\"{nonce}\", qop=\"auth\", algorithm=MD5",
                self.realm
            ),
        })
    }
}

#[cfg(test)]
mod tests {
    use carrier_protocol::sip::digest::DigestChallenge;

    use super::*;

    fn request(authorization: Option<String>) -> SipMessage {
        let mut text = String::from(
            "MESSAGE sip:+15551230001@gw SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\n\
             From: <sip:+15557654321@t>;tag=1\r\nTo: <sip:+15551230001@gw>\r\n\
             Call-ID: c\r\nCSeq: 1 MESSAGE\r\nMax-Forwards: 70\r\n",
        );
        if let Some(a) = authorization {
            text.push_str(&format!("Authorization: {a}\r\n"));
        }
        text.push_str("Content-Length: 0\r\n\r\n");
        SipMessage::parse(text.as_bytes()).expect("request")
    }

    #[test]
    fn a_challenge_is_answered_with_the_right_credentials_only() {
        let mut auth = Authenticator::new("sip.example.net", "trunk", "pw");
        let now = Instant::now();
        let Verdict::Challenge(header) = auth.check(&request(None), now) else {
            panic!("challenged");
        };
        let challenge = DigestChallenge::parse(&header.value).expect("a challenge");
        let answer = |user: &str, password: &str| {
            challenge.authorization(user, password, "MESSAGE", "sip:+15551230001@gw", "cn", 1)
        };
        assert_eq!(
            auth.check(&request(Some(answer("trunk", "pw"))), now),
            Verdict::Pass
        );
        assert!(matches!(
            auth.check(&request(Some(answer("trunk", "nope"))), now),
            Verdict::Challenge(_)
        ));
        assert!(matches!(
            auth.check(&request(Some(answer("other", "pw"))), now),
            Verdict::Challenge(_)
        ));
        // A nonce past its lifetime is challenged again.
        assert!(matches!(
            auth.check(
                &request(Some(answer("trunk", "pw"))),
                now + NONCE_LIFETIME + Duration::from_secs(1)
            ),
            Verdict::Challenge(_)
        ));
    }
}
