//! Retention of ended sessions: an ended session and its transcript are
//! removed `[store] retention` after it ended, like final outbox records,
//! so the `sessions` and `transcripts` trees stay flat under steady
//! traffic instead of holding every conversation forever.
//!
//! Session ids grow with time (the store's id generator), so a pass reads
//! `sessions` from the start and stops at the first session that started
//! less than `retention` ago. Open sessions, and ones ended more recently,
//! are stepped over. Nothing writes an ended session again, so removing one
//! needs no transaction with the inbound path; a removal lost in a crash is
//! done again by the next pass.

use super::session::Session;
use crate::store::{Store, StoreError};

/// Most sessions looked at in one step (then the pass yields).
const STEP: usize = 1_000;

/// Removes the sessions ended at or before `cutoff` (Unix milliseconds),
/// with their transcripts; returns how many.
pub async fn retire_ended_sessions(store: &Store, cutoff: u64) -> Result<usize, StoreError> {
    let mut removed = 0;
    let mut from: Option<sled::IVec> = None;
    loop {
        let range = match &from {
            Some(key) => store.sessions.range::<&[u8], _>((
                std::ops::Bound::Excluded(key.as_ref()),
                std::ops::Bound::Unbounded,
            )),
            None => store.sessions.range::<&[u8], _>(..),
        };
        let mut last = None;
        let mut reached_new = false;
        let mut retired = Vec::new();
        for item in range.take(STEP) {
            let (key, value) = item?;
            last = Some(key.clone());
            let Ok(session) = serde_json::from_slice::<Session>(&value) else {
                continue;
            };
            if session.started_at > cutoff {
                reached_new = true;
                break;
            }
            if session.ended_at.is_some_and(|at| at <= cutoff) {
                retired.push(session.id);
            }
        }
        for id in &retired {
            let mut batch = sled::Batch::default();
            for item in store
                .transcripts
                .scan_prefix(super::transcript::transcript_prefix(id))
            {
                let (key, _) = item?;
                batch.remove(key);
            }
            store.transcripts.apply_batch(batch)?;
            store.sessions.remove(id.as_bytes())?;
            removed += 1;
        }
        match last {
            Some(key) if !reached_new => from = Some(key),
            _ => return Ok(removed),
        }
        tokio::task::yield_now().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::channel::session::{EndReason, SessionOrigin, SessionStart, session_id};
    use crate::channel::transcript::{Author, Direction, TranscriptEntry, transcript_key};

    fn session(n: u64, started: u64, ended: Option<u64>) -> Session {
        let mut s = Session::open(
            SessionStart {
                id: session_id(n),
                customer: format!("+1555765432{n}"),
                number: "+15551230001".into(),
                line: "support".into(),
                queue: None,
                language: "en".into(),
                origin: SessionOrigin::Inbound,
                idle_timeout_ms: 1_000,
                expiry_ms: 10_000,
            },
            started,
        );
        if let Some(at) = ended {
            s.end(EndReason::IdleTimeout, at);
        }
        s
    }

    #[tokio::test]
    async fn old_ended_sessions_and_their_transcripts_go_the_rest_stays() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(dir.path()).expect("store");
        let sessions = [
            session(1, 100, Some(200)),
            session(2, 150, None),
            session(3, 300, Some(5_000)),
            session(4, 9_000, Some(9_500)),
        ];
        for s in &sessions {
            store
                .sessions
                .insert(s.id.as_bytes(), serde_json::to_vec(s).expect("json"))
                .expect("insert");
            let entry = TranscriptEntry {
                direction: Direction::In,
                author: Author::Customer,
                kind: None,
                text: Some("hi".into()),
                message_id: None,
                at: s.started_at,
                media: Vec::new(),
            };
            store
                .transcripts
                .insert(
                    transcript_key(&s.id, s.started_at),
                    serde_json::to_vec(&entry).expect("json"),
                )
                .expect("insert");
        }
        let removed = retire_ended_sessions(&store, 1_000).await.expect("pass");
        assert_eq!(removed, 1);
        let left: Vec<String> = store
            .sessions
            .iter()
            .map(|kv| String::from_utf8_lossy(&kv.expect("kv").0).into_owned())
            .collect();
        assert_eq!(left, [session_id(2), session_id(3), session_id(4)]);
        assert_eq!(store.transcripts.len(), 3);
    }
}
