//! Segments out and responses back: lanes take turns, the limiter admits
//! each segment, the carrier's queue takes it; accepted segments move their
//! message towards `submitted`, transient failures back off.

use super::super::receipts::Expectation;
use super::*;
use crate::channel::OptOutRegistry;
use crate::transport::{MmsPart, SmsPart, TextPart, WorkContent};

impl Dispatcher {
    /// Hands ready segments to their carriers' queues, lane by lane, one
    /// segment per turn, until every lane is idle or parked.
    pub(super) fn pump(&mut self) {
        if self.accepted_total - self.synced_upto >= MAX_UNSYNCED_ACCEPTED {
            // The disk is behind: wait for the group commit under way.
            return;
        }
        self.refill_numbers();
        let (now, wall) = (self.now.mono, self.now.wall_ms);
        let routes = &self.routes;
        self.lanes
            .wake_carriers(|carrier| routes.get(carrier).is_some_and(CarrierRoute::has_room));
        while let Some(number) = self.lanes.next_runnable() {
            self.serve_lane(number, now, wall);
        }
    }

    /// One turn of a lane: sends at most one segment, then ends the turn,
    /// or parks the lane on what stops it.
    pub(super) fn serve_lane(&mut self, number: Arc<str>, now: Instant, wall: u64) {
        loop {
            let Some(id) = self.lanes.front(&number).cloned() else {
                self.lanes.end_turn(number);
                return;
            };
            let Some(active) = self.active.get_mut(&id) else {
                self.lanes.pop_front(&number);
                continue;
            };
            if active.backoff.is_some() || active.to_send.is_empty() {
                // Its retry timer (or its last response) puts it back.
                active.in_lane = false;
                self.lanes.pop_front(&number);
                continue;
            }
            if active.record.expires_at <= wall {
                active.in_lane = false;
                self.lanes.pop_front(&number);
                if active.outstanding == 0 {
                    self.expire(&id);
                }
                continue;
            }
            let Some(route) = self.routes.get(&active.record.carrier) else {
                active.in_lane = false;
                self.lanes.pop_front(&number);
                continue;
            };
            if !route.has_room() {
                let carrier = active.record.carrier.clone();
                self.lanes.park_on_carrier(number, &carrier);
                return;
            }
            // The STOP confirmation is exempt from daily caps (DESIGN
            // §4.6): a customer who opted out is owed it even on a day the
            // number has used up.
            let daily = if active.daily_reserved || active.record.system.as_deref() == Some("stop")
            {
                0
            } else {
                active.to_send.len() as u32
            };
            match self.limiter.admit(&number, now, wall, daily) {
                Admission::Go => {}
                Admission::Wait {
                    until,
                    entity,
                    limit,
                } => {
                    // A daily cap holds back new messages only: one that
                    // already has its segments reserved (a retry, say)
                    // behind it in the lane goes first.
                    let active_messages = &self.active;
                    if limit == LimitKind::PerDay
                        && self.lanes.promote(&number, |m| {
                            active_messages.get(m).is_some_and(|a| {
                                a.daily_reserved && a.backoff.is_none() && !a.to_send.is_empty()
                            })
                        })
                    {
                        continue;
                    }
                    if self
                        .lanes
                        .park_on_entity(number, entity, Some(limit), Some(until))
                    {
                        crate::metrics::limit_hold(self.limiter.key(entity));
                    }
                    return;
                }
                Admission::Lease { entity, lease } => {
                    self.persist_lease(entity, lease);
                    self.lanes.park_on_entity(number, entity, None, None);
                    return;
                }
                Admission::LeasePending { entity } => {
                    self.lanes.park_on_entity(number, entity, None, None);
                    return;
                }
                Admission::Never { entity } => {
                    let detail = format!(
                        "the message has more segments than {} may send in a day",
                        self.limiter.key(entity)
                    );
                    active.in_lane = false;
                    self.lanes.pop_front(&number);
                    if active.outstanding == 0
                        && let Some(record) = self.deactivate(&id)
                    {
                        self.finish(
                            record,
                            MessageStatus::Failed,
                            Some(error("over_daily_cap", &detail)),
                        );
                    }
                    continue;
                }
            }
            // A STOP may have come while the message waited for its turn
            // (a cap, a retry): nothing of it has gone yet, so it goes not.
            let untouched = !active.attempt_started
                && active.outstanding == 0
                && active
                    .record
                    .segments
                    .iter()
                    .all(|s| s.carrier_id.is_none());
            if untouched
                && !matches!(active.record.system.as_deref(), Some("stop" | "help"))
                && OptOutRegistry::new(self.store.opt_outs.clone())
                    .is_opted_out(&active.record.from, &active.record.to)
                    .unwrap_or(false)
            {
                active.in_lane = false;
                self.lanes.pop_front(&number);
                if let Some(record) = self.deactivate(&id) {
                    self.finish(
                        record,
                        MessageStatus::Rejected,
                        Some(error(
                            "opted_out",
                            "the customer opted out of this number before the message was sent",
                        )),
                    );
                }
                continue;
            }
            active.daily_reserved = true;
            let Some(segment) = active.to_send.pop_front() else {
                continue;
            };
            let content = match &active.parts {
                Planned::Sms(segments) => {
                    let Some(user_data) = segments.parts.get(usize::from(segment)) else {
                        continue;
                    };
                    WorkContent::Sms(SmsPart {
                        from: Arc::from(active.record.from.as_str()),
                        to: Arc::from(active.record.to.as_str()),
                        encoding: segments.encoding,
                        data_coding: segments.data_coding,
                        concatenation: segments.concatenation,
                        segment: user_data.clone(),
                        receipts: active.record.receipts,
                    })
                }
                Planned::Text(parts) => {
                    let Some(text) = parts.get(usize::from(segment)) else {
                        continue;
                    };
                    WorkContent::Text(TextPart {
                        from: Arc::from(active.record.from.as_str()),
                        to: Arc::from(active.record.to.as_str()),
                        text: text.clone(),
                    })
                }
                Planned::Mms { text, media } => WorkContent::Mms(MmsPart {
                    from: Arc::from(active.record.from.as_str()),
                    to: Arc::from(active.record.to.as_str()),
                    text: text.clone(),
                    media: media.clone(),
                    receipts: active.record.receipts,
                }),
            };
            let job = LinkWork {
                message_id: id.clone(),
                part: segment,
                content,
            };
            if route.jobs.try_send(job).is_err() {
                // Only the dispatcher fills the queue, and it had room; the
                // carrier must be gone. Keep the segment for later.
                active.to_send.push_front(segment);
                let carrier = active.record.carrier.clone();
                self.lanes.park_on_carrier(number, &carrier);
                return;
            }
            active.outstanding += 1;
            self.lanes.record_sent(&number, wall);
            if !active.attempt_started {
                active.attempt_started = true;
                active.record.attempts += 1;
                active.record.status = MessageStatus::Sending;
                active.record.updated_at = wall;
                // A first attempt is answered within milliseconds, so its
                // "sending" is not written (one write per message less); a
                // retry is, so operators see what is stuck and how often it
                // was tried. Neither is fsync'd: after a crash the replay
                // resends queued and sending messages alike.
                if active.record.attempts > 1
                    && let Err(e) = self.store.put_message_from(&active.record, Stage::ToSend)
                {
                    warn!(error = %e, "could not record sending status");
                }
            }
            if active.to_send.is_empty() {
                active.in_lane = false;
                self.lanes.pop_front(&number);
            }
            self.lanes.end_turn(number);
            return;
        }
    }

    pub(super) fn on_accepted(&mut self, id: Arc<str>, segment: u16, carrier_id: String) {
        let Some(active) = self.active.get_mut(&id) else {
            return;
        };
        active.outstanding = active.outstanding.saturating_sub(1);
        active.failures = 0;
        self.accepted_total += 1;
        let carrier = active.record.carrier.clone();
        let forget_at = active.record.expires_at.saturating_add(RECEIPT_GRACE_MS);
        if let Some(state) = active.record.segments.get_mut(usize::from(segment)) {
            state.carrier_id = Some(carrier_id.clone());
        }
        let key = self
            .routes
            .get(&carrier)
            .filter(|_| !carrier_id.is_empty())
            .and_then(|route| route.id_mapping.submit_key(&carrier_id).ok());
        match key {
            None => {
                warn!(%id, segment, %carrier, carrier_id, "the carrier's id cannot be matched to a receipt");
                crate::metrics::carrier_id_unusable(&carrier, "unusable");
                self.mark_no_receipt(&id, segment);
            }
            Some(key) => match self
                .receipts
                .expect(&carrier, key, id.clone(), segment, forget_at)
            {
                Expectation::Waiting => {}
                // Its receipt overtook this response.
                Expectation::Early(outcome) => self.apply_receipt(id.clone(), segment, outcome),
                Expectation::Collision {
                    message_id: other,
                    segment: other_segment,
                } => {
                    warn!(%id, %other, %carrier, carrier_id, "the carrier gave one id to two parts: neither is matched to receipts");
                    crate::metrics::carrier_id_unusable(&carrier, "duplicate");
                    self.mark_no_receipt(&id, segment);
                    self.mark_no_receipt(&other, other_segment);
                }
            },
        }
        if self
            .active
            .get(&id)
            .is_some_and(|a| a.outstanding == 0 && !a.to_send.is_empty())
        {
            // Left its lane while segments were out (e.g. it expired).
            self.queue_in_lane(&id);
        }
        self.check_all_accepted(&id);
        // A message that stays active (parts still to send or to retry)
        // records the part the carrier took, so the next group commit
        // covers it: a crash then resends only what was not accepted, and
        // the bound on accepted-but-unsynced parts always gets a commit to
        // wait for (without one, multi-part messages under throttling
        // reached the bound and stopped the dispatcher for good).
        if let Some(active) = self.active.get_mut(&id) {
            self.unsynced = true;
            if let Err(e) = self.store.put_message_from(&active.record, Stage::ToSend) {
                warn!(error = %e, id = %active.record.id, "could not record an accepted part");
            }
        }
    }

    /// Once every segment of an active message was accepted, it leaves the
    /// conversation's head: delivered if no receipt is to come (none asked
    /// for, or all overtook their responses), else submitted.
    pub(super) fn check_all_accepted(&mut self, id: &Arc<str>) {
        let all_accepted = self.active.get(id).is_some_and(|active| {
            active.outstanding == 0
                && active.to_send.is_empty()
                && active
                    .record
                    .segments
                    .iter()
                    .all(|s| s.carrier_id.is_some())
        });
        if all_accepted && let Some(mut record) = self.deactivate(id) {
            let all_receipted = record.segments.iter().all(|s| s.done);
            if !record.receipts || all_receipted {
                self.finish(record, MessageStatus::Delivered, None);
            } else {
                record.status = MessageStatus::Submitted;
                self.submitted.fetch_add(1, Ordering::Relaxed);
                self.stop_waiting_if_unmatchable(&mut record);
                self.persist(&mut record, Stage::ToSend);
            }
        }
    }

    /// A part whose receipt cannot be matched: it is not waited for.
    pub(super) fn mark_no_receipt(&mut self, id: &Arc<str>, segment: u16) {
        if let Some(active) = self.active.get_mut(id) {
            if let Some(state) = active.record.segments.get_mut(usize::from(segment)) {
                state.no_receipt = true;
            }
            return;
        }
        let Ok(Some(mut record)) = self.store.get_message(id) else {
            return;
        };
        if record.status.is_final() {
            return;
        }
        let from = Stage::of(&record);
        if let Some(state) = record.segments.get_mut(usize::from(segment)) {
            state.no_receipt = true;
        }
        self.stop_waiting_if_unmatchable(&mut record);
        self.unsynced = true;
        if let Err(e) = self.store.put_message_from(&record, from) {
            warn!(error = %e, %id, "could not record an unmatchable part");
        }
    }

    /// A submitted message whose missing receipts can never be matched
    /// stays `submitted` (the carrier took it; nobody can say more), but
    /// leaves the outbox depth and the replay, like one whose receipts
    /// never came.
    pub(super) fn stop_waiting_if_unmatchable(&mut self, record: &mut MessageRecord) {
        if record.status == MessageStatus::Submitted
            && !record.receipt_timed_out
            && record.segments.iter().all(|s| s.done || s.no_receipt)
        {
            record.receipt_timed_out = true;
            self.leave_depth(MessageStatus::Submitted);
        }
    }

    pub(super) fn on_retry(&mut self, id: Arc<str>, segment: u16, status: LinkStatus) {
        let Some(active) = self.active.get_mut(&id) else {
            return;
        };
        active.outstanding = active.outstanding.saturating_sub(1);
        active.to_send.push_back(segment);
        active.failures += 1;
        crate::metrics::retry(&active.record.carrier, &status);
        if active.backoff.is_none() {
            let delay = crate::backoff::backoff_delay(RETRY_BASE, RETRY_MAX, active.failures + 1);
            let at = self.now.mono + delay;
            active.backoff = Some(at);
            self.retries.push(Reverse((at, id)));
        }
    }
}
