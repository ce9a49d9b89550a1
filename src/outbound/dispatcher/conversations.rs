//! Conversations and the backlog: which message of each business number →
//! customer pair is active, and which messages are in memory at all.
//!
//! Only the head of a conversation is active; the next one starts when the
//! head is accepted by the carrier or finished, so neither a retry nor a
//! restart can reorder a conversation. A head that can no longer be sent is
//! finished and the next one tried.
//!
//! The backlog stays on disk (`store::backlog`). Each number reads its
//! messages in acceptance order, at most [`LOADED_PER_NUMBER`] at a time,
//! and a conversation keeps at most [`LOADED_PER_CONVERSATION`] in memory:
//! past that it is *spilled*, and once the loaded ones are done its later
//! messages are looked for in its number's index, a bounded step at a time. A number whose scan has reached the
//! end of its backlog is *caught up*: newly accepted messages go straight
//! into memory without being read back. So memory is bounded by the
//! numbers and what is in flight, never by the backlog, and a restart reads
//! only what it needs now.

use super::*;
use crate::channel::OptOutRegistry;
use crate::store::backlog::Stage;

/// Messages of one number in memory at most (active or waiting behind
/// their conversation's head).
pub(super) const LOADED_PER_NUMBER: usize = 1024;
/// Messages of one conversation in memory at most.
pub(super) const LOADED_PER_CONVERSATION: usize = 32;
/// Index entries read at a time.
const SCAN_CHUNK: usize = 256;
/// Index entries a spilled conversation searches per step.
const CONVERSATION_SCAN_STEP: usize = 4_096;

/// A conversation's messages in memory.
#[derive(Default)]
pub(super) struct Conversation {
    /// In order; the front one is active.
    queue: VecDeque<Arc<str>>,
    /// The last one read: a spilled conversation reads on after it.
    last: Option<Arc<str>>,
    /// Later messages are on disk only.
    spilled: bool,
    /// While spilled: how far its number's index was searched for its
    /// messages.
    scanned: Option<Arc<str>>,
}

/// A number's reading of its backlog.
pub(super) struct NumberBacklog {
    /// The last message seen by the scan.
    cursor: Option<Arc<str>>,
    /// The scan reached the end: new messages come in directly.
    caught_up: bool,
    /// Its messages in memory.
    loaded: usize,
}

impl Default for NumberBacklog {
    /// A number with nothing on disk.
    fn default() -> Self {
        NumberBacklog {
            cursor: None,
            caught_up: true,
            loaded: 0,
        }
    }
}

impl Dispatcher {
    /// A number with messages on disk, found at start.
    pub(super) fn backlog_found(&mut self, number: &str) {
        let number: Arc<str> = Arc::from(number);
        self.numbers.insert(
            number.clone(),
            NumberBacklog {
                cursor: None,
                caught_up: false,
                loaded: 0,
            },
        );
        self.refill_due.push(number);
    }

    /// Newly accepted messages, already durable, in acceptance order.
    pub(super) fn accepted(&mut self, records: Vec<MessageRecord>) {
        for record in records {
            let id: Arc<str> = Arc::from(record.id.as_str());
            if self.loaded.contains(&id) {
                continue;
            }
            let number = self.number_key(&record.from);
            let backlog = self.numbers.entry(number.clone()).or_default();
            let beyond = backlog.cursor.as_deref().is_none_or(|c| *id > *c);
            let force = if beyond {
                if !backlog.caught_up {
                    // The scan reaches it.
                    continue;
                }
                if backlog.loaded >= LOADED_PER_NUMBER {
                    backlog.caught_up = false;
                    continue;
                }
                backlog.cursor = Some(id.clone());
                false
            } else {
                // Handed over after the scan passed its place (requests
                // racing): taken directly, unless the scan found it and it
                // is done already.
                if !self
                    .store
                    .is_to_send(&record.from, &record.id)
                    .unwrap_or(false)
                {
                    continue;
                }
                true
            };
            let to = record.to.clone();
            self.offer(number, id, to, Some(record), force);
        }
    }

    /// The shared name of a number (one allocation per number).
    fn number_key(&self, from: &str) -> Arc<str> {
        match self.numbers.get_key_value(from) {
            Some((key, _)) => key.clone(),
            None => Arc::from(from),
        }
    }

    /// Takes a message into memory behind its conversation, unless the
    /// conversation is spilled or full (then it is read later); `force`
    /// takes it regardless (a message the scans have passed).
    fn offer(
        &mut self,
        number: Arc<str>,
        id: Arc<str>,
        to: String,
        record: Option<MessageRecord>,
        force: bool,
    ) {
        let key = (number.to_string(), to);
        let conversation = self.conversations.entry(key.clone()).or_default();
        let after_last = conversation.last.as_deref().is_none_or(|l| *id > *l);
        if force {
            if conversation.spilled && after_last {
                return;
            }
        } else if conversation.spilled {
            return;
        } else if conversation.queue.len() >= LOADED_PER_CONVERSATION {
            conversation.spilled = true;
            conversation.scanned = None;
            return;
        }
        if force && !after_last && conversation.queue.len() > 1 {
            // Handed over late (two requests racing, or a system reply and
            // an agent's answer): it takes its place by id among the
            // waiting ones, so a consent is not sent after the reply it
            // precedes. The head may be on the wire already and stays.
            let at = conversation
                .queue
                .iter()
                .skip(1)
                .position(|q| **q > *id)
                .map_or(conversation.queue.len(), |p| p + 1);
            conversation.queue.insert(at, id.clone());
        } else {
            conversation.queue.push_back(id.clone());
        }
        if after_last {
            conversation.last = Some(id.clone());
        }
        let is_head = conversation.queue.len() == 1;
        self.loaded.insert(id.clone());
        if let Some(backlog) = self.numbers.get_mut(&number) {
            backlog.loaded += 1;
        }
        if is_head {
            self.activate(id, key, record);
        }
    }

    /// Reads more of the numbers' backlogs, a chunk per number and call.
    pub(super) fn refill_numbers(&mut self) {
        if !self.backlog_counted {
            return;
        }
        self.refill_conversations_later();
        for number in std::mem::take(&mut self.refill_due) {
            let Some(backlog) = self.numbers.get(&number) else {
                continue;
            };
            let room = LOADED_PER_NUMBER.saturating_sub(backlog.loaded);
            if backlog.caught_up || room == 0 {
                continue;
            }
            let wanted = room.min(SCAN_CHUNK);
            let entries =
                match self
                    .store
                    .backlog_of_number(&number, backlog.cursor.as_deref(), wanted)
                {
                    Ok(entries) => entries,
                    Err(e) => {
                        warn!(error = %e, %number, "could not read the backlog; trying again");
                        self.refill_later.push(number);
                        continue;
                    }
                };
            let reached_end = entries.len() < wanted;
            for entry in entries {
                let id: Arc<str> = Arc::from(entry.id);
                if let Some(backlog) = self.numbers.get_mut(&number) {
                    backlog.cursor = Some(id.clone());
                }
                if !self.loaded.contains(&id) {
                    self.offer(number.clone(), id, entry.to, None, false);
                }
            }
            if let Some(backlog) = self.numbers.get_mut(&number) {
                backlog.caught_up = reached_end;
                if !reached_end && backlog.loaded < LOADED_PER_NUMBER {
                    self.refill_later.push(number);
                }
            }
        }
        self.refill_due.append(&mut self.refill_later);
    }

    /// Makes a conversation's head message active, reading it from disk if
    /// it is not at hand. A head that cannot be sent (expired, unknown
    /// carrier, text that cannot be encoded) is finished and the next one
    /// tried, in a loop (not recursion: a long conversation of such
    /// messages must not exhaust the stack).
    pub(super) fn activate(
        &mut self,
        first: Arc<str>,
        key: ConversationKey,
        record: Option<MessageRecord>,
    ) {
        let mut next = Some((first, record));
        while let Some((id, record)) = next.take() {
            let record = match record {
                Some(record) => Some(record),
                None => self.store.get_message(&id).unwrap_or_else(|e| {
                    warn!(error = %e, %id, "could not read a queued message");
                    None
                }),
            };
            let stale = match &record {
                Some(record) => Stage::of(record) != Stage::ToSend,
                // Keys without a record: a request of this run writes its
                // keys just before its record, so the record is on its way
                // and its hand-over loads it; from an earlier run, a crash
                // came between the two writes (no 202 was given).
                None => *id < *self.run_boundary,
            };
            if stale {
                // The index named a message that moved on: its keys go, and
                // so does its count.
                if let Err(e) = self.store.drop_stale_to_send(&key.0, &id) {
                    warn!(error = %e, %id, "could not drop a stale index entry");
                }
                self.leave_depth(MessageStatus::Queued);
            }
            let Some(record) = record.filter(|_| !stale) else {
                next = self.unload(&key, &id).map(|id| (id, None));
                continue;
            };
            match self.prepare(record) {
                Ok((record, segments)) => {
                    self.start(id, record, segments);
                    return;
                }
                Err((record, status, err)) => {
                    self.finish(record, status, Some(err));
                    next = self.unload(&key, &id).map(|id| (id, None));
                }
            }
        }
    }

    /// Plans a message's segments, or says why it cannot be sent.
    #[allow(clippy::result_large_err)]
    pub(super) fn prepare(
        &self,
        record: MessageRecord,
    ) -> Result<(MessageRecord, Planned), (MessageRecord, MessageStatus, ErrorInfo)> {
        if record.expires_at <= self.now.wall_ms {
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
        let mut record = record;
        self.follow_route(&mut record);
        let Some(route) = self.routes.get(&record.carrier) else {
            let err = error(
                "unknown_carrier",
                &format!("the carrier {:?} is not configured", record.carrier),
            );
            return Err((record, MessageStatus::Failed, err));
        };
        if record.is_mms() {
            let planned = Planned::Mms {
                text: Arc::from(record.text.as_str()),
                media: Arc::from(record.media.clone()),
            };
            return Ok((record, planned));
        }
        if let Some(max) = route.text_max {
            let parts = plan::text_parts(&record.text, max);
            return Ok((record, Planned::Text(parts)));
        }
        match plan::segments(
            &record.text,
            &record.encoding,
            record.reference,
            &route.plan,
        ) {
            Ok(segments) => Ok((record, Planned::Sms(segments))),
            Err(e) => {
                let err = error("invalid_text", &e.to_string());
                Err((record, MessageStatus::Rejected, err))
            }
        }
    }

    /// Makes a planned message active: its unsent segments go to its
    /// number's lane; segments accepted before a restart expect their
    /// receipts again.
    pub(super) fn start(&mut self, id: Arc<str>, mut record: MessageRecord, parts: Planned) {
        if record.segments.len() != parts.len() {
            record.segments = vec![Default::default(); parts.len()];
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
                parts,
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
            // The STOP confirmation is the one message the customer is
            // still owed: it goes before whatever the number has waiting.
            if active.record.system.as_deref() == Some("stop") {
                self.lanes.push_first(&active.record.from, id.clone());
            } else {
                self.lanes.push(&active.record.from, id.clone());
            }
        }
    }

    /// Takes `id` out of memory and out of its conversation; returns the
    /// conversation's next message, if any, reading on from disk when the
    /// conversation was spilled.
    pub(super) fn unload(&mut self, key: &ConversationKey, id: &Arc<str>) -> Option<Arc<str>> {
        if self.loaded.remove(id)
            && let Some(backlog) = self.numbers.get_mut(key.0.as_str())
        {
            backlog.loaded = backlog.loaded.saturating_sub(1);
            if !backlog.caught_up && backlog.loaded == LOADED_PER_NUMBER / 2 {
                let number = self.number_key(&key.0);
                self.refill_due.push(number);
            }
        }
        let conversation = self.conversations.get_mut(key)?;
        if conversation.queue.front() == Some(id) {
            conversation.queue.pop_front();
        } else {
            conversation.queue.retain(|q| q != id);
        }
        if conversation.queue.is_empty() && conversation.spilled {
            self.refill_conversation(key);
        }
        let conversation = self.conversations.get(key)?;
        let next = conversation.queue.front().cloned();
        if next.is_none() && !conversation.spilled {
            self.conversations.remove(key);
        }
        next
    }

    /// Reads a spilled conversation's next messages from its number's
    /// index, at most [`CONVERSATION_SCAN_STEP`] entries per call; one that
    /// found nothing yet goes on in the next pump.
    fn refill_conversation(&mut self, key: &ConversationKey) {
        let Some(conversation) = self.conversations.get(key) else {
            return;
        };
        let mut after = conversation
            .scanned
            .clone()
            .or_else(|| conversation.last.clone());
        let mut found: Vec<Arc<str>> = Vec::new();
        let mut scanned = 0;
        let mut reached_end = false;
        'scan: while scanned < CONVERSATION_SCAN_STEP {
            let entries = match self
                .store
                .backlog_of_number(&key.0, after.as_deref(), SCAN_CHUNK)
            {
                Ok(entries) => entries,
                Err(e) => {
                    warn!(error = %e, "could not read a conversation's backlog; trying again");
                    self.conversations_later.push(key.clone());
                    return;
                }
            };
            let short = entries.len() < SCAN_CHUNK;
            let count = entries.len();
            for (i, entry) in entries.into_iter().enumerate() {
                scanned += 1;
                let id: Arc<str> = Arc::from(entry.id);
                after = Some(id.clone());
                if entry.to == key.1 && !self.loaded.contains(&id) {
                    found.push(id);
                    if found.len() == LOADED_PER_CONVERSATION {
                        reached_end = short && i + 1 == count;
                        break 'scan;
                    }
                }
            }
            if short {
                reached_end = true;
                break;
            }
        }
        let taken = found.len();
        if let Some(conversation) = self.conversations.get_mut(key) {
            conversation.scanned = after;
            conversation.spilled = !reached_end;
            for id in found {
                conversation.last = Some(id.clone());
                self.loaded.insert(id.clone());
                conversation.queue.push_back(id);
            }
            if taken == 0 && conversation.spilled {
                self.conversations_later.push(key.clone());
            }
        }
        if let Some(backlog) = self.numbers.get_mut(key.0.as_str()) {
            backlog.loaded += taken;
        }
    }

    /// Goes on with the spilled conversations whose last step found
    /// nothing (their messages are sparse in a large backlog).
    fn refill_conversations_later(&mut self) {
        for key in std::mem::take(&mut self.conversations_later) {
            let waiting = self
                .conversations
                .get(&key)
                .is_some_and(|c| c.spilled && c.queue.is_empty());
            if !waiting {
                continue;
            }
            self.refill_conversation(&key);
            let front = self
                .conversations
                .get(&key)
                .and_then(|c| c.queue.front().cloned());
            match front {
                Some(id) => self.activate(id, key, None),
                None => {
                    if self.conversations.get(&key).is_some_and(|c| !c.spilled) {
                        self.conversations.remove(&key);
                    }
                }
            }
        }
    }

    /// Removes an active message and starts the next one of its conversation.
    pub(super) fn deactivate(&mut self, id: &Arc<str>) -> Option<MessageRecord> {
        let active = self.active.remove(id)?;
        let key = (active.record.from.clone(), active.record.to.clone());
        if let Some(next) = self.unload(&key, id) {
            self.activate(next, key, None);
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
