//! Delivery receipts applied to messages: a message is delivered when all
//! its segments are, failed (or expired) as soon as one is.

use super::*;
use crate::outbound::receipts::Expectation;

impl Dispatcher {
    /// A submitted message's receipts did not come within its validity and
    /// the grace after it: it stays `submitted` (the carrier took it; no one
    /// said more), but leaves the outbox depth and is not replayed again.
    pub(super) fn receipt_never_came(&mut self, id: &Arc<str>) {
        if self.active.contains_key(id) {
            return;
        }
        let Ok(Some(mut record)) = self.store.get_message(id) else {
            return;
        };
        if record.status != MessageStatus::Submitted || record.receipt_timed_out {
            return;
        }
        warn!(%id, carrier = %record.carrier, "no delivery receipt came within the message's validity");
        crate::metrics::receipt_missing(&record.carrier);
        record.receipt_timed_out = true;
        record.updated_at = self.now.wall_ms;
        self.unsynced = true;
        if let Err(e) = self
            .store
            .put_message_from(&record, Stage::AwaitingReceipts)
        {
            warn!(error = %e, %id, "could not record the end of the receipt wait");
        }
        self.leave_depth(MessageStatus::Submitted);
    }

    pub(super) fn on_receipt(&mut self, carrier: &str, receipt: Receipt<'static>) {
        let Some(route) = self.routes.get(carrier) else {
            return;
        };
        let Ok(key) = route.id_mapping.receipt_key(&receipt) else {
            warn!(%carrier, "receipt without a usable id");
            crate::metrics::unmatched_receipt(carrier);
            return;
        };
        let Some(outcome) = Outcome::of(&receipt) else {
            return;
        };
        let wait = route.receipt_wait;
        if let Some((id, segment, outcome)) =
            self.receipts
                .arrived(carrier, key, outcome, wait, self.now.mono, self.now.wall_ms)
        {
            self.apply_receipt(id, segment, outcome);
        }
    }

    /// A segment's final receipt: the message is delivered when all its
    /// segments are, and failed (or expired) as soon as one is.
    pub(super) fn apply_receipt(&mut self, id: Arc<str>, segment: u16, outcome: Outcome) {
        // The message is either still active (other segments pending) or
        // retired to the store.
        let mut record = match self.active.get(&id) {
            Some(active) => active.record.clone(),
            None => match self.store.get_message(&id) {
                Ok(Some(record)) => record,
                _ => return,
            },
        };
        if record.status.is_final() {
            return;
        }
        let from = Stage::of(&record);
        if let Some(state) = record.segments.get_mut(usize::from(segment)) {
            state.done = true;
        }
        let in_active = self.active.contains_key(&id);
        match outcome.state {
            OutcomeState::Expired | OutcomeState::Failed => {
                let status = if outcome.state == OutcomeState::Expired {
                    MessageStatus::Expired
                } else {
                    MessageStatus::Failed
                };
                if in_active {
                    self.deactivate(&id);
                }
                self.finish(
                    record,
                    status,
                    Some(error("carrier_undelivered", &outcome.detail)),
                );
            }
            OutcomeState::Delivered => {
                if record.segments.iter().all(|s| s.done) && !in_active {
                    self.finish(record, MessageStatus::Delivered, None);
                } else if let Some(active) = self.active.get_mut(&id) {
                    // Written before the receipt is acknowledged (the ack
                    // waits for a group commit after this write): a receipt
                    // the carrier will not send again must not be lost.
                    active.record.segments = record.segments;
                    self.unsynced = true;
                    if let Err(e) = self.store.put_message_from(&active.record, Stage::ToSend) {
                        warn!(error = %e, %id, "could not record a part's receipt");
                    }
                } else {
                    self.stop_waiting_if_unmatchable(&mut record);
                    self.persist(&mut record, from);
                }
            }
        }
    }

    /// After a restart: the receipts of a submitted message's segments are
    /// expected again.
    pub(super) fn index_submitted(&mut self, record: &MessageRecord) {
        let id: Arc<str> = Arc::from(record.id.as_str());
        for (segment, outcome) in self.expect_receipts(&id, record) {
            self.apply_receipt(id.clone(), segment, outcome);
        }
    }

    /// The segments of `record` that the carrier accepted (in an earlier
    /// run) and that have no receipt yet expect one again; returns the
    /// outcomes of receipts that are already here.
    pub(super) fn expect_receipts(
        &mut self,
        id: &Arc<str>,
        record: &MessageRecord,
    ) -> Vec<(u16, Outcome)> {
        let Some(route) = self.routes.get(&record.carrier) else {
            return Vec::new();
        };
        let forget_at = record.expires_at.saturating_add(RECEIPT_GRACE_MS);
        let mut early = Vec::new();
        let mut collided = Vec::new();
        for (i, state) in record.segments.iter().enumerate() {
            if let (Some(carrier_id), false, false) =
                (&state.carrier_id, state.done, state.no_receipt)
                && let Ok(key) = route.id_mapping.submit_key(carrier_id)
            {
                match self
                    .receipts
                    .expect(&record.carrier, key, id.clone(), i as u16, forget_at)
                {
                    Expectation::Waiting => {}
                    Expectation::Early(outcome) => early.push((i as u16, outcome)),
                    Expectation::Collision {
                        message_id,
                        segment,
                    } => {
                        crate::metrics::carrier_id_unusable(&record.carrier, "duplicate");
                        collided.push((message_id, segment));
                        collided.push((id.clone(), i as u16));
                    }
                }
            }
        }
        early
    }
}
