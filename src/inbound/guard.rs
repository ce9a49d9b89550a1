//! Recognising a carrier's resend of a message we already stored.
//!
//! The carrier is acknowledged after the fsync. A crash between the two
//! leaves a message stored (and its event on its way to the core) that the
//! carrier will send again after the reconnect: without care, a second
//! `message.received` with a new event id, a duplicate the core cannot
//! recognise.
//!
//! So every stored arrival also leaves a fingerprint in the `inbox_recent`
//! tree (the carrier, both addresses, the concatenation data and the user
//! data, hashed), keyed by its arrival time so old ones are cheap to prune.
//! At start, the fingerprints of the last [`RESEND_WINDOW`] before the
//! crash become suspects: the first arrival matching one is acknowledged
//! and not processed again. Each suspect matches once, and only arrivals
//! stored by the previous process count, so a customer who genuinely sends
//! the same text twice while the gateway runs is never swallowed. A clean
//! stop acknowledges everything before it unbinds and clears the tree, so
//! after it there are no suspects at all.

use std::collections::HashMap;
use std::time::Duration;

use sha2::{Digest, Sha256};

use crate::transport::InboundSms;

/// How far back before a crash a carrier's resend is recognised.
pub const RESEND_WINDOW: Duration = Duration::from_secs(300);

/// Fingerprints of arrivals stored by the previous process shortly before
/// it stopped.
#[derive(Debug, Default)]
pub struct RetransmissionGuard {
    suspects: HashMap<[u8; 8], u32>,
}

impl RetransmissionGuard {
    /// Loads the suspects from `recent` (fingerprints of the last
    /// [`RESEND_WINDOW`] before `now_ms`) and removes everything older.
    pub fn load(recent: &sled::Tree, now_ms: u64) -> sled::Result<RetransmissionGuard> {
        let cutoff = now_ms.saturating_sub(RESEND_WINDOW.as_millis() as u64);
        prune(recent, cutoff)?;
        let mut suspects = HashMap::new();
        for item in recent.iter() {
            let (key, _) = item?;
            if let Some(fp) = key.get(8..16).and_then(|f| <[u8; 8]>::try_from(f).ok()) {
                *suspects.entry(fp).or_insert(0) += 1;
            }
        }
        Ok(RetransmissionGuard { suspects })
    }

    /// How many arrivals of the previous process may still be resent.
    pub fn suspects(&self) -> usize {
        self.suspects.values().map(|&n| n as usize).sum()
    }

    /// Whether this arrival is a resend of one the previous process stored
    /// (each stored arrival excuses one resend).
    pub fn is_resend(&mut self, fingerprint: &[u8; 8]) -> bool {
        match self.suspects.get_mut(fingerprint) {
            Some(n) => {
                *n -= 1;
                if *n == 0 {
                    self.suspects.remove(fingerprint);
                }
                true
            }
            None => false,
        }
    }
}

/// The key of an arrival's fingerprint in `inbox_recent`.
pub fn recent_key(received_at_ms: u64, fingerprint: &[u8; 8]) -> [u8; 16] {
    let mut key = [0u8; 16];
    key[..8].copy_from_slice(&received_at_ms.to_be_bytes());
    key[8..].copy_from_slice(fingerprint);
    key
}

/// Removes fingerprints older than `cutoff_ms`.
pub fn prune(recent: &sled::Tree, cutoff_ms: u64) -> sled::Result<usize> {
    let mut removed = 0;
    for item in recent.range(..cutoff_ms.to_be_bytes()) {
        let (key, _) = item?;
        recent.remove(key)?;
        removed += 1;
    }
    Ok(removed)
}

/// What identifies an arrival across a resend.
pub fn fingerprint(carrier: &str, sms: &InboundSms) -> [u8; 8] {
    let mut hash = Sha256::new();
    for field in [carrier.as_bytes(), sms.from.as_bytes(), sms.to.as_bytes()] {
        hash.update((field.len() as u32).to_be_bytes());
        hash.update(field);
    }
    hash.update([sms.encoding.data_coding()]);
    if let Some(c) = sms.concat {
        hash.update(c.reference.to_be_bytes());
        hash.update([c.total, c.seq]);
    }
    hash.update(&sms.user_data);
    // An MMS is told apart by its media too (and by the MMSC's id for it,
    // which the carrier resends with it).
    for media in &sms.media {
        hash.update(media.sha256.as_bytes());
    }
    for id in &sms.carrier_ids {
        hash.update((id.len() as u32).to_be_bytes());
        hash.update(id.as_bytes());
    }
    let digest = hash.finalize();
    let mut fp = [0u8; 8];
    fp.copy_from_slice(&digest[..8]);
    fp
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;
    use carrier_protocol::text::Encoding;

    use super::*;

    fn sms(text: &'static str) -> InboundSms {
        InboundSms {
            from: "+15557654321".into(),
            to: "+15551230001".into(),
            encoding: Encoding::Gsm7,
            national: (None, None),
            user_data: Bytes::from_static(text.as_bytes()),
            concat: None,
            carrier_ids: Vec::new(),
            received_at: 0,
            media: Vec::new(),
        }
    }

    #[test]
    fn only_recent_arrivals_of_the_previous_process_are_suspects() {
        let db = sled::Config::new().temporary(true).open().expect("db");
        let tree = db.open_tree("recent").expect("tree");
        let yes = fingerprint("acme", &sms("yes"));
        let old = fingerprint("acme", &sms("old"));
        let now = 10_000_000;
        tree.insert(recent_key(now - 1_000, &yes), &[])
            .expect("insert");
        tree.insert(recent_key(now - 2_000, &yes), &[])
            .expect("insert");
        tree.insert(recent_key(now - 400_000, &old), &[])
            .expect("insert");
        let mut guard = RetransmissionGuard::load(&tree, now).expect("load");
        assert_eq!(guard.suspects(), 2);
        assert_eq!(tree.len(), 2, "the old fingerprint is pruned");
        assert!(!guard.is_resend(&old));
        // Two stored copies excuse two resends, not a third message.
        assert!(guard.is_resend(&yes));
        assert!(guard.is_resend(&yes));
        assert!(!guard.is_resend(&yes));
    }

    #[test]
    fn fingerprints_tell_addresses_and_parts_apart() {
        let a = sms("hi");
        let mut b = sms("hi");
        b.from = "+15550000000".into();
        assert_ne!(fingerprint("acme", &a), fingerprint("acme", &b));
        assert_ne!(fingerprint("acme", &a), fingerprint("other", &a));
        assert_eq!(fingerprint("acme", &a), fingerprint("acme", &sms("hi")));
    }
}
