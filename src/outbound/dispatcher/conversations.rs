//! Conversations: which message of each business number → customer pair is
//! active. Only the head of a conversation is; the next one starts when the
//! head is accepted by the carrier or finished, so neither a retry nor a
//! restart can reorder a conversation. A head that can no longer be sent is
//! finished and the next one tried.

use super::*;
use crate::channel::OptOutRegistry;

impl Dispatcher {
    pub(super) fn enqueue(&mut self, records: Vec<MessageRecord>) {
        for record in records {
            let id: Arc<str> = Arc::from(record.id.as_str());
            if self.active.contains_key(&id) || self.waiting.contains_key(&id) {
                warn!(%id, "a message was handed over twice; sending it once");
                continue;
            }
            let key = (record.from.clone(), record.to.clone());
            let queue = self.conversations.entry(key).or_default();
            queue.push_back(id.clone());
            let is_head = queue.len() == 1;
            self.waiting.insert(id.clone(), record);
            if is_head {
                self.activate(id);
            }
        }
    }

    /// Makes a conversation's head message active. A head that cannot be
    /// sent (expired, unknown carrier, text that cannot be encoded) is
    /// finished and the next one tried, in a loop (not recursion: a long
    /// conversation of such messages must not exhaust the stack).
    pub(super) fn activate(&mut self, first: Arc<str>) {
        let mut next = Some(first);
        while let Some(id) = next.take() {
            let Some(record) = self.waiting.remove(&id) else {
                return;
            };
            match self.prepare(record) {
                Ok((record, segments)) => {
                    self.start(id, record, segments);
                    return;
                }
                Err((record, status, err)) => {
                    let key = (record.from.clone(), record.to.clone());
                    self.finish(record, status, Some(err));
                    next = self.pop_conversation_head(&key, &id);
                }
            }
        }
    }

    /// Plans a message's segments, or says why it cannot be sent.
    #[allow(clippy::result_large_err)]
    pub(super) fn prepare(
        &self,
        record: MessageRecord,
    ) -> Result<(MessageRecord, Segments), (MessageRecord, MessageStatus, ErrorInfo)> {
        if record.expires_at <= now_ms() {
            return Err((record, MessageStatus::Expired, expired_error()));
        }
        // A STOP that came after the message was accepted: it is not sent.
        // The channel's own STOP confirmation and HELP replies still go.
        let exempt = matches!(record.system.as_deref(), Some("stop" | "help"));
        if !exempt
            && OptOutRegistry::new(self.store.opt_outs.clone())
                .is_opted_out(&record.from, &record.to)
                .unwrap_or(false)
        {
            let err = error(
                "opted_out",
                "the customer opted out of this number before the message was sent",
            );
            return Err((record, MessageStatus::Rejected, err));
        }
        let Some(route) = self.routes.get(&record.carrier) else {
            let err = error(
                "unknown_carrier",
                &format!("the carrier {:?} is not configured", record.carrier),
            );
            return Err((record, MessageStatus::Failed, err));
        };
        match plan::segments(
            &record.text,
            &record.encoding,
            record.reference,
            &route.plan,
        ) {
            Ok(segments) => Ok((record, segments)),
            Err(e) => {
                let err = error("invalid_text", &e.to_string());
                Err((record, MessageStatus::Rejected, err))
            }
        }
    }

    /// Makes a planned message active: its unsent segments go to its
    /// number's lane; segments accepted before a restart expect their
    /// receipts again.
    pub(super) fn start(&mut self, id: Arc<str>, mut record: MessageRecord, segments: Segments) {
        if record.segments.len() != segments.parts.len() {
            record.segments = vec![Default::default(); segments.parts.len()];
        }
        let to_send: VecDeque<u16> = record
            .segments
            .iter()
            .enumerate()
            .filter(|(_, s)| s.carrier_id.is_none())
            .map(|(i, _)| i as u16)
            .collect();
        let early = self.expect_receipts(&id, &record);
        self.active.insert(
            id.clone(),
            Active {
                record,
                segments,
                to_send,
                outstanding: 0,
                failures: 0,
                backoff: None,
                attempt_started: false,
                daily_reserved: false,
                in_lane: false,
            },
        );
        for (segment, outcome) in early {
            self.apply_receipt(id.clone(), segment, outcome);
        }
        self.queue_in_lane(&id);
        self.check_all_accepted(&id);
    }

    /// Puts an active message with segments to send in its number's lane
    /// (once).
    pub(super) fn queue_in_lane(&mut self, id: &Arc<str>) {
        if let Some(active) = self.active.get_mut(id)
            && !active.in_lane
            && active.backoff.is_none()
            && !active.to_send.is_empty()
        {
            active.in_lane = true;
            self.lanes.push(&active.record.from, id.clone());
        }
    }

    /// Removes `id` from the head of its conversation; returns the next
    /// head, if any.
    pub(super) fn pop_conversation_head(
        &mut self,
        key: &ConversationKey,
        id: &Arc<str>,
    ) -> Option<Arc<str>> {
        let queue = self.conversations.get_mut(key)?;
        if queue.front() == Some(id) {
            queue.pop_front();
        } else {
            queue.retain(|q| q != id);
        }
        let next = queue.front().cloned();
        if next.is_none() {
            self.conversations.remove(key);
        }
        next
    }

    /// Removes an active message and starts the next one of its conversation.
    pub(super) fn deactivate(&mut self, id: &Arc<str>) -> Option<MessageRecord> {
        let active = self.active.remove(id)?;
        let key = (active.record.from.clone(), active.record.to.clone());
        if let Some(next) = self.pop_conversation_head(&key, id) {
            self.activate(next);
        }
        Some(active.record)
    }

    /// Ends an active message whose validity is over.
    pub(super) fn expire(&mut self, id: &Arc<str>) {
        if let Some(record) = self.deactivate(id) {
            self.finish(record, MessageStatus::Expired, Some(expired_error()));
        }
    }
}
