//! Signed, expiring media URLs: `…/v1/media/{id}?expires=UNIX&signature=HEX`
//! with an HMAC-SHA256 of the id and the expiry, so the core (or an agent's
//! browser) can fetch a customer's photo without the API token, and only
//! until the link expires.
//!
//! The key is derived from `[core] webhook_secret` (an HMAC of a fixed
//! label), so it is never the webhook key itself and needs no setting of
//! its own; changing the webhook secret invalidates the links.

use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// Bytes of the HMAC a link carries.
const SIGNATURE_BYTES: usize = 16;

/// The key media URLs are signed with.
#[derive(Clone)]
pub struct UrlKey([u8; 32]);

impl std::fmt::Debug for UrlKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("UrlKey(..)")
    }
}

impl UrlKey {
    /// The key derived from the webhook secret.
    pub fn derive(webhook_secret: &[u8]) -> UrlKey {
        let mut mac = HmacSha256::new_from_slice(webhook_secret)
            .unwrap_or_else(|_| HmacSha256::new_from_slice(&[0]).expect("HMAC takes any key"));
        mac.update(b"carrier-gateway media URL key v1");
        UrlKey(mac.finalize().into_bytes().into())
    }

    fn mac(&self, id: &str, expires: u64) -> HmacSha256 {
        let mut mac = HmacSha256::new_from_slice(&self.0).expect("HMAC takes a 32-byte key");
        mac.update(id.as_bytes());
        mac.update(b"\n");
        mac.update(expires.to_string().as_bytes());
        mac
    }

    /// The query string (`expires=…&signature=…`) of a link to `id` valid
    /// until `expires` (Unix seconds).
    pub fn sign(&self, id: &str, expires: u64) -> String {
        // The first 128 bits of the HMAC: plenty against forgery, and a
        // link short enough to fit one SMS with a line of text.
        let mac = self.mac(id, expires).finalize().into_bytes();
        let signature = carrier_protocol::hex::encode(&mac[..SIGNATURE_BYTES]);
        format!("expires={expires}&signature={signature}")
    }

    /// Whether `query` signs `id` and has not expired at `now` (Unix
    /// seconds). Compared in constant time.
    pub fn verify(&self, id: &str, query: &str, now: u64) -> bool {
        let mut expires = None;
        let mut signature = None;
        for pair in query.split('&') {
            match pair.split_once('=') {
                Some(("expires", v)) => expires = v.parse::<u64>().ok(),
                Some(("signature", v)) => signature = Some(v),
                _ => {}
            }
        }
        let (Some(expires), Some(signature)) = (expires, signature) else {
            return false;
        };
        if expires <= now || signature.len() != 2 * SIGNATURE_BYTES {
            return false;
        }
        let Ok(bytes) = carrier_protocol::hex::decode(signature) else {
            return false;
        };
        if bytes.len() != SIGNATURE_BYTES {
            return false;
        }
        self.mac(id, expires).verify_truncated_left(&bytes).is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_verify_until_they_expire_and_only_for_their_id() {
        let key = UrlKey::derive(b"secret");
        let query = key.sign("med_1", 1_000);
        assert!(key.verify("med_1", &query, 999));
        assert!(!key.verify("med_1", &query, 1_000), "expired");
        assert!(!key.verify("med_2", &query, 999), "another id");
        assert!(
            !UrlKey::derive(b"other").verify("med_1", &query, 999),
            "another key"
        );
        let forged = query.replace("expires=1000", "expires=9999");
        assert!(!key.verify("med_1", &forged, 999), "a longer life");
        assert!(!key.verify("med_1", "expires=1000", 999));
        assert!(!key.verify("med_1", "signature=zz&expires=1000", 999));
    }
}
