//! `X-Gateway-Signature: sha256=<hex>`: HMAC-SHA256 over the raw body.
//!
//! docs/api.md fixes the header and the algorithm. The signature is computed
//! over the exact bytes on the wire (a single event, or a whole
//! `{"events": [...]}` batch), so a receiver must verify before parsing. The
//! secret is wrapped so that it never shows up in a `Debug` print of a config.

use std::sync::Arc;

use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// The signature header's name.
pub const SIGNATURE_HEADER: &str = "x-gateway-signature";

/// The shared secret of `[core] webhook_secret`.
#[derive(Clone)]
pub struct WebhookSecret(Arc<[u8]>);

impl WebhookSecret {
    /// Wraps the secret's bytes.
    pub fn new(secret: impl AsRef<[u8]>) -> WebhookSecret {
        WebhookSecret(Arc::from(secret.as_ref()))
    }

    /// The raw bytes (to hand to a signer).
    pub fn expose(&self) -> &[u8] {
        &self.0
    }
}

impl std::fmt::Debug for WebhookSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WebhookSecret(<redacted>)")
    }
}

impl From<&str> for WebhookSecret {
    fn from(secret: &str) -> Self {
        WebhookSecret::new(secret)
    }
}

impl From<String> for WebhookSecret {
    fn from(secret: String) -> Self {
        WebhookSecret::new(secret)
    }
}

/// A keyed HMAC, built once and cloned per body (the key schedule is done once).
#[derive(Clone)]
pub(crate) struct Signer {
    mac: HmacSha256,
}

impl Signer {
    pub(crate) fn new(secret: &WebhookSecret) -> Signer {
        Signer {
            mac: keyed(secret.expose()),
        }
    }

    /// The header value for `body`.
    pub(crate) fn sign(&self, body: &[u8]) -> String {
        let mut mac = self.mac.clone();
        mac.update(body);
        header_value(&mac.finalize().into_bytes())
    }
}

fn keyed(secret: &[u8]) -> HmacSha256 {
    match HmacSha256::new_from_slice(secret) {
        Ok(mac) => mac,
        // HMAC hashes long keys and pads short ones: every length is valid.
        Err(_) => unreachable!("HMAC accepts keys of any length"),
    }
}

fn header_value(digest: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(7 + digest.len() * 2);
    out.push_str("sha256=");
    for byte in digest {
        out.push(char::from(HEX[usize::from(byte >> 4)]));
        out.push(char::from(HEX[usize::from(byte & 0x0f)]));
    }
    out
}

/// `sha256=<lowercase hex HMAC-SHA256(secret, body)>`.
pub fn sign(secret: &[u8], body: &[u8]) -> String {
    let mut mac = keyed(secret);
    mac.update(body);
    header_value(&mac.finalize().into_bytes())
}

/// Checks a signature header value against `body`, in constant time. Accepts
/// upper- or lowercase hex; anything malformed is simply not valid.
pub fn verify(secret: &[u8], body: &[u8], header: &str) -> bool {
    let Some(hex) = header.trim().strip_prefix("sha256=") else {
        return false;
    };
    let Some(expected) = decode_hex(hex) else {
        return false;
    };
    let mut mac = keyed(secret);
    mac.update(body);
    mac.verify_slice(&expected).is_ok()
}

fn decode_hex(hex: &str) -> Option<Vec<u8>> {
    fn nibble(c: u8) -> Option<u8> {
        match c {
            b'0'..=b'9' => Some(c - b'0'),
            b'a'..=b'f' => Some(c - b'a' + 10),
            b'A'..=b'F' => Some(c - b'A' + 10),
            _ => None,
        }
    }
    let bytes = hex.as_bytes();
    if !bytes.len().is_multiple_of(2) {
        return None;
    }
    bytes
        .chunks_exact(2)
        .map(|pair| Some((nibble(pair[0])? << 4) | nibble(pair[1])?))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_rfc4231_test_case_2() {
        // RFC 4231 §4.3: key "Jefe", data "what do ya want for nothing?".
        let sig = sign(b"Jefe", b"what do ya want for nothing?");
        assert_eq!(
            sig,
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        assert!(verify(b"Jefe", b"what do ya want for nothing?", &sig));
        assert!(verify(
            b"Jefe",
            b"what do ya want for nothing?",
            &sig.to_uppercase().replace("SHA256=", "sha256=")
        ));
        assert_eq!(
            Signer::new(&WebhookSecret::from("Jefe")).sign(b"what do ya want for nothing?"),
            sig
        );
    }

    #[test]
    fn rejects_wrong_or_malformed_signatures() {
        let sig = sign(b"secret", b"body");
        assert!(!verify(b"other", b"body", &sig));
        assert!(!verify(b"secret", b"body!", &sig));
        assert!(!verify(b"secret", b"body", &sig[7..]));
        assert!(!verify(b"secret", b"body", "sha256="));
        assert!(!verify(b"secret", b"body", "sha256=abc"));
        assert!(!verify(b"secret", b"body", "sha256=zz"));
        assert!(!verify(b"secret", b"body", &sig[..sig.len() - 2]));
        assert!(!verify(b"secret", b"body", "sha1=00"));
    }

    #[test]
    fn secret_is_redacted_in_debug() {
        let secret = WebhookSecret::from("hunter2");
        assert!(!format!("{secret:?}").contains("hunter2"));
    }
}
