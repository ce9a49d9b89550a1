//! Retention: final outbox records, with their `client_ref` keys, are
//! removed `[store] retention` after their last change (and ended sessions
//! with their transcripts, see `channel::session_retention`; and expired
//! IVR calls, see `services::calls`), so disk use stays
//! flat under steady traffic and `GET /v1/messages/{id}` answers for as
//! long as operators want to look back.
//!
//! Records are keyed by id in acceptance order, so the oldest come first: a
//! pass reads from the start and stops at the first record accepted less
//! than `retention` ago — everything after it is newer. A record that is
//! not final yet (a message still waiting for receipts) is stepped over
//! and looked at again next pass. Removals go in small batches with a
//! yield between them, so a large backlog of old records never stalls the
//! sending path; they need no fsync (a removal lost in a crash is done
//! again by the next pass).

use std::time::Duration;

use super::outbox::now_ms;
use super::{Store, StoreError};

/// Most removals in one batch.
const BATCH: usize = 1_000;

/// What one pass did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Pass {
    /// Records removed.
    pub removed: usize,
}

/// Removes the final records whose last change is older than `retention`
/// at `now_ms` (Unix milliseconds).
pub async fn pass(store: &Store, retention: Duration, now_ms: u64) -> Result<Pass, StoreError> {
    let cutoff = now_ms.saturating_sub(retention.as_millis() as u64);
    let mut done = Pass::default();
    let mut from: Option<sled::IVec> = None;
    loop {
        let mut records = Vec::new();
        let mut refs = Vec::new();
        let mut last = None;
        let mut reached_new = false;
        let range = match &from {
            Some(key) => store.outbox.range::<&[u8], _>((
                std::ops::Bound::Excluded(key.as_ref()),
                std::ops::Bound::Unbounded,
            )),
            None => store.outbox.range::<&[u8], _>(..),
        };
        for item in range.take(BATCH) {
            let (key, value) = item?;
            last = Some(key.clone());
            let Ok(record) = super::outbox::decode(&value) else {
                continue;
            };
            if record.created_at > cutoff {
                reached_new = true;
                break;
            }
            if record.status.is_final() && record.updated_at <= cutoff {
                records.push(key);
                if let Some(client_ref) = record.client_ref {
                    refs.push(client_ref);
                }
            }
        }
        if !records.is_empty() {
            let mut batch = sled::Batch::default();
            for key in &records {
                batch.remove(key);
            }
            store.outbox.apply_batch(batch)?;
            let mut batch = sled::Batch::default();
            for key in &refs {
                batch.remove(key.as_bytes());
            }
            store.client_refs.apply_batch(batch)?;
            done.removed += records.len();
            crate::metrics::retention_removed(records.len());
        }
        match last {
            Some(key) if !reached_new => from = Some(key),
            _ => return Ok(done),
        }
        tokio::task::yield_now().await;
    }
}

/// Runs passes until `stop` flips: every tenth of the retention period,
/// between one second and one minute.
pub async fn run(
    store: Store,
    retention: Duration,
    media: Option<(crate::media::MediaStore, Duration)>,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    let every = (retention / 10).clamp(Duration::from_secs(1), Duration::from_secs(60));
    loop {
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = stop.changed() => return,
        }
        let cutoff = now_ms().saturating_sub(retention.as_millis() as u64);
        match crate::channel::session_retention::retire_ended_sessions(&store, cutoff).await {
            Ok(removed) if removed > 0 => {
                tracing::debug!(removed, "retention: ended sessions removed");
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "session retention failed; tried again later"),
        }
        // Calls never ended with DELETE: already ignored once expired, and
        // removed here so the tree does not grow.
        match crate::services::CallRegistry::new(store.calls.clone()).remove_expired(now_ms()) {
            Ok(removed) if removed > 0 => {
                tracing::info!(
                    removed,
                    "expired IVR calls removed (never ended with DELETE)"
                );
                crate::metrics::call_changed("expired", removed);
            }
            Ok(_) => {}
            Err(e) => {
                tracing::warn!(error = %e, "removing expired calls failed; tried again later")
            }
        }
        if let Some((media, keep)) = &media {
            let cutoff = now_ms().saturating_sub(keep.as_millis() as u64);
            match media.remove_older_than(cutoff) {
                Ok(removed) if removed > 0 => {
                    tracing::info!(removed, "retention: media removed ([media] retention)");
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "media retention failed; tried again later"),
            }
        }
        match pass(&store, retention, now_ms()).await {
            Ok(done) if done.removed > 0 => {
                tracing::debug!(removed = done.removed, "retention: final records removed");
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "retention pass failed; tried again later"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message_status::MessageStatus;
    use crate::store::outbox::{self, MessageRecord};

    fn record(n: u64, status: MessageStatus, at: u64, client_ref: Option<&str>) -> MessageRecord {
        MessageRecord {
            id: super::super::outbox::message_id(n),
            from: "+15551230001".into(),
            to: "+15557654321".into(),
            text: "hi".into(),
            encoding: "gsm7".into(),
            carrier: "acme".into(),
            reference: 0,
            status,
            attempts: 1,
            segments: Vec::new(),
            error: None,
            created_at: at,
            updated_at: at,
            expires_at: at + 1000,
            client_ref: client_ref.map(str::to_owned),
            receipts: true,
            receipt_timed_out: false,
            system: None,
            service: None,
            call_id: None,
            language: None,
            media: Vec::new(),
            fallback: None,
        }
    }

    #[tokio::test]
    async fn old_final_records_and_their_keys_go_the_rest_stays() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(dir.path()).expect("store");
        let retention = Duration::from_secs(60);
        let now = 10_000_000;
        let old = now - 120_000;
        let records = [
            record(1, MessageStatus::Delivered, old, Some("ref-1")),
            record(2, MessageStatus::Submitted, old, None),
            record(3, MessageStatus::Failed, old, None),
            record(4, MessageStatus::Delivered, now - 1_000, Some("ref-4")),
        ];
        for r in &records {
            store.put_message(r).expect("put");
            if let Some(key) = &r.client_ref {
                store
                    .client_refs
                    .insert(key.as_bytes(), &b"{}"[..])
                    .expect("ref");
            }
        }
        let done = pass(&store, retention, now).await.expect("pass");
        assert_eq!(done.removed, 2);
        let left: Vec<String> = store
            .outbox
            .iter()
            .map(|kv| outbox::decode(&kv.expect("kv").1).expect("record").id)
            .collect();
        assert_eq!(left, [records[1].id.clone(), records[3].id.clone()]);
        assert!(store.client_refs.get("ref-1").expect("get").is_none());
        assert!(store.client_refs.get("ref-4").expect("get").is_some());
    }
}
