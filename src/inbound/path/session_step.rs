//! The inbound path's side of sessions: what a customer message does to
//! its session (through the sans-IO [`plan_turn`]), and the one timer that
//! ends sessions whose deadline passed.
//!
//! Both write through [`InboundPath::apply`], so a session change, its
//! `session.started` / `session.ended`, its transcript entries, the system
//! messages it queues and the consent record are one sled transaction with
//! the inbound message, covered by the group commit that precedes the
//! carrier's acknowledgement. The timer is this task's own: it sleeps until
//! the first key of the `session_deadlines` index, which survives restarts
//! with everything else.

use std::time::Duration;

use tokio::time::Instant;
use tracing::{debug, error, info};

use super::{InboundPath, KeywordReplies, NumberInfo, StoredReply, Write, corrupt};
use crate::channel::session::session_id;
use crate::channel::turn::{QueueChoice, ending_reply};
use crate::channel::{
    Author, ChannelWrite, ConsentRecord, Direction, EndReason, Keyword, Session, SessionOrigin,
    SystemKind, TranscriptEntry, TurnFacts, plan_turn,
};
use crate::core_link::{EventType, NewEvent, PreparedEvent};
use crate::outbound::plan;
use crate::store::StoreError;
use crate::store::outbox::{MessageRecord, now_ms};
use crate::transport::InboundSms;

/// How many due sessions one wake-up ends; the rest follow at once, after
/// the inbound messages that arrived meanwhile.
const ENDINGS_PER_WAKE: usize = 256;

/// The session a message joined, as `message.received` reports it.
pub(super) struct SessionView {
    pub id: String,
    pub queue: Option<String>,
    pub language: String,
    pub new: bool,
}

impl SessionView {
    fn of(session: &Session, new: bool) -> SessionView {
        SessionView {
            id: session.id.clone(),
            queue: session.queue.clone(),
            language: session.language.clone(),
            new,
        }
    }
}

/// What a message did to its session.
#[derive(Default)]
pub(super) struct SessionTurn {
    /// The session it belongs to (none for a number without a line, or a
    /// keyword outside a session).
    pub view: Option<SessionView>,
    /// `session.ended` (of a session found past its deadline) and
    /// `session.started`, to be written before `message.received`.
    pub events: Vec<PreparedEvent>,
    /// The session a STOP closed: its `session.ended` comes after the
    /// STOP's `message.received`.
    pub closing: Option<Session>,
    /// For the metrics once written: the line, whether a session opened,
    /// the reason one ended, the queue chosen and whether by the reply.
    counts: Option<(String, bool, Option<EndedFor>, Option<QueueChoice>)>,
}

/// Why a session ended, and after how long (milliseconds).
type EndedFor = (EndReason, u64);

impl SessionTurn {
    /// Counts what the turn did (after its write applied).
    pub(super) fn count(&self) {
        let Some((line, started, ended, choice)) = &self.counts else {
            return;
        };
        if let Some((reason, duration_ms)) = ended {
            crate::metrics::session_ended(line, reason.as_str(), *duration_ms);
        }
        if *started {
            crate::metrics::session_started(line, SessionOrigin::Inbound.as_str());
        }
        if let Some(choice) = choice {
            crate::metrics::queue_chosen(line, &choice.queue, choice.matched);
        }
    }
}

/// The message being decided.
pub(super) struct Arrival<'a> {
    pub sms: &'a InboundSms,
    pub message_id: &'a str,
    pub text: Option<&'a str>,
    pub keyword: Option<Keyword>,
    pub order_key: &'a str,
    /// The customer's registered IVR call, if any.
    pub call_id: Option<&'a str>,
}

pub(super) fn encoding_failed(e: serde_json::Error) -> StoreError {
    corrupt(e.to_string())
}

impl InboundPath {
    /// Decides what `arrival` does to its session, adding the writes to
    /// `channel` and the system messages to send (in order) to `records`.
    ///
    /// A keyword (STOP, START, HELP) joins the open session's transcript
    /// and leaves the session as it is; any other message continues the
    /// open session, or opens one, with consent and the menu as the line
    /// says.
    pub(super) fn session_turn(
        &self,
        arrival: &Arrival<'_>,
        info: &NumberInfo,
        channel: &mut ChannelWrite,
        records: &mut Vec<MessageRecord>,
    ) -> Result<SessionTurn, StoreError> {
        let (Some(line), Some(replies)) = (&info.sessions, &info.replies) else {
            return Ok(SessionTurn::default());
        };
        let sms = arrival.sms;
        let (number, customer) = (sms.to.as_str(), sms.from.as_str());
        let now = now_ms();
        let open = self.sessions.open_for(number, customer)?;
        let customer_entry = TranscriptEntry {
            direction: Direction::In,
            author: Author::Customer,
            kind: None,
            text: arrival.text.map(str::to_owned),
            message_id: Some(arrival.message_id.to_owned()),
            at: sms.received_at,
            media: sms.media.iter().map(|m| m.id.clone()).collect(),
        };
        if let Some(keyword) = arrival.keyword {
            let Some(session) = open.filter(|s| s.due(now).is_none()) else {
                return Ok(SessionTurn::default());
            };
            channel
                .add_transcript(&session.id, self.store.generate_id()?, &customer_entry)
                .map_err(encoding_failed)?;
            // STOP closes the conversation: nothing more may be sent in it.
            let closing = if keyword == Keyword::Stop {
                let mut closed = session.clone();
                closed.end(EndReason::Closed, now);
                channel
                    .save_session(Some(&session), &closed)
                    .map_err(encoding_failed)?;
                Some(closed)
            } else {
                None
            };
            return Ok(SessionTurn {
                view: Some(SessionView::of(&session, false)),
                counts: closing.as_ref().map(|closed| {
                    let ended = (EndReason::Closed, closed.duration_ms());
                    (line.name.clone(), false, Some(ended), None)
                }),
                closing,
                ..SessionTurn::default()
            });
        }
        let opted_out = self.registry.is_opted_out(number, customer)?;
        let consented = self.consents.is_recorded(number, customer)?;
        let fresh = session_id(self.store.generate_id()?);
        let before = open.clone();
        let mut plan = plan_turn(
            TurnFacts {
                customer,
                number,
                line,
                open,
                consented,
                opted_out,
                text: arrival.text.unwrap_or_default(),
                now,
            },
            || fresh,
        );
        if plan.new {
            plan.session.call_id = arrival.call_id.map(str::to_owned);
        }
        let mut events = Vec::new();
        if let Some(ended) = &plan.ended {
            // Its deadline passed while nothing ended it (the gateway was
            // down): it ends now, without the timeout message, since the
            // customer is writing again.
            channel
                .save_session(before.as_ref(), ended)
                .map_err(encoding_failed)?;
            events.extend(self.session_event(EventType::SessionEnded, ended, arrival.order_key)?);
        }
        let session = &plan.session;
        let prior = if plan.new { None } else { before.as_ref() };
        channel
            .save_session(prior, session)
            .map_err(encoding_failed)?;
        if plan.new {
            events.extend(self.session_event(
                EventType::SessionStarted,
                session,
                arrival.order_key,
            )?);
        }
        channel
            .add_transcript(&session.id, self.store.generate_id()?, &customer_entry)
            .map_err(encoding_failed)?;
        if let Some(choice) = &plan.choice {
            let entry = TranscriptEntry {
                direction: Direction::In,
                author: Author::System,
                kind: Some("queue_choice".to_owned()),
                text: Some(choice.queue.clone()),
                message_id: None,
                at: now,
                media: Vec::new(),
            };
            channel
                .add_transcript(&session.id, self.store.generate_id()?, &entry)
                .map_err(encoding_failed)?;
        }
        for reply in &plan.replies {
            let Some(record) =
                self.system_message(number, customer, replies, reply.kind.as_str(), &reply.text)?
            else {
                continue;
            };
            self.transcribe_reply(channel, &session.id, &record)?;
            if reply.kind == SystemKind::Consent {
                let consent = ConsentRecord {
                    message_id: record.id.clone(),
                    session_id: Some(session.id.clone()),
                    at: now,
                };
                channel
                    .record_consent(number, customer, &consent)
                    .map_err(encoding_failed)?;
            }
            records.push(record);
        }
        Ok(SessionTurn {
            view: Some(SessionView::of(session, plan.new)),
            events,
            closing: None,
            counts: Some((
                line.name.clone(),
                plan.new,
                plan.ended
                    .as_ref()
                    .and_then(|s| Some((s.end_reason?, s.duration_ms()))),
                plan.choice.clone(),
            )),
        })
    }

    /// Adds a system message queued in session `session_id` to its
    /// transcript.
    pub(super) fn transcribe_reply(
        &self,
        channel: &mut ChannelWrite,
        session_id: &str,
        record: &MessageRecord,
    ) -> Result<(), StoreError> {
        let entry = TranscriptEntry {
            direction: Direction::Out,
            author: Author::System,
            kind: record.system.clone(),
            text: Some(record.text.clone()),
            message_id: Some(record.id.clone()),
            at: record.created_at,
            media: Vec::new(),
        };
        channel
            .add_transcript(session_id, self.store.generate_id()?, &entry)
            .map_err(encoding_failed)
    }

    /// A system message of the line to `customer`, queued like any other
    /// (its encoding chosen for the number's carrier); `None`, with a
    /// warning, when the carrier cannot carry it.
    pub(super) fn system_message(
        &self,
        number: &str,
        customer: &str,
        replies: &KeywordReplies,
        kind: &str,
        text: &str,
    ) -> Result<Option<MessageRecord>, StoreError> {
        match plan::choose_encoding(text, &replies.plan) {
            Ok(chosen) => {
                let mut record = MessageRecord::queued(
                    self.store.generate_id()?,
                    number.to_owned(),
                    customer.to_owned(),
                    text.to_owned(),
                    chosen.encoding().as_str(),
                    chosen.segments(),
                    replies.carrier.clone(),
                    self.settings.reply_validity.as_millis() as u64,
                );
                record.system = Some(kind.to_owned());
                Ok(Some(record))
            }
            Err(e) => {
                tracing::warn!(error = %e, %number, kind, "the line's system message cannot be sent");
                Ok(None)
            }
        }
    }

    pub(super) fn session_event(
        &self,
        kind: EventType,
        session: &Session,
        order_key: &str,
    ) -> Result<Option<PreparedEvent>, StoreError> {
        self.log
            .prepare(NewEvent::new(kind, order_key, session.event_data()))
            .map_err(|e| corrupt(e.to_string()))
    }

    /// When the earliest session deadline falls.
    pub(super) fn next_session_wake(&self) -> Option<Instant> {
        let now = Instant::now();
        if let Some(paused) = self.sessions_paused_until
            && paused > now
        {
            return Some(paused);
        }
        match self.sessions.next_deadline() {
            Ok(deadline) => {
                deadline.map(|d| now + Duration::from_millis(d.saturating_sub(now_ms())))
            }
            Err(e) => {
                error!(error = %e, "could not read the session deadlines");
                Some(now + SESSION_RETRY)
            }
        }
    }

    /// Ends the sessions whose deadline passed; on a store error, tries
    /// again a second later rather than spinning.
    pub(super) fn end_due_sessions(&mut self) {
        if let Err(e) = self.try_end_due_sessions() {
            error!(error = %e, "could not end due sessions; retrying");
            self.sessions_paused_until = Some(Instant::now() + SESSION_RETRY);
        }
    }

    fn try_end_due_sessions(&mut self) -> Result<(), StoreError> {
        let now = now_ms();
        let due = self.sessions.due(now, ENDINGS_PER_WAKE)?;
        if due.is_empty() {
            return Ok(());
        }
        for (deadline, id) in due {
            let mut channel = ChannelWrite::default();
            let current = self
                .sessions
                .get(&id)?
                .filter(|s| s.is_open() && s.deadline() == deadline);
            let Some((before, reason)) = current.and_then(|s| s.due(now).map(|r| (s, r))) else {
                // An index entry its session no longer has: removed.
                debug!(session = %id, "stale session deadline removed");
                channel.drop_deadline(deadline, &id);
                self.apply(Write {
                    channel,
                    ..Write::default()
                })?;
                continue;
            };
            let mut after = before.clone();
            after.end(reason, now);
            channel
                .save_session(Some(&before), &after)
                .map_err(encoding_failed)?;
            let order_key = format!("{}|{}", after.number, after.customer);
            let event = self.session_event(EventType::SessionEnded, &after, &order_key)?;
            let info = self
                .settings
                .numbers
                .get(&after.number)
                .cloned()
                .unwrap_or_default();
            let opted_out = self.registry.is_opted_out(&after.number, &after.customer)?;
            let mut records = Vec::new();
            if let (Some(replies), Some(reply)) = (
                &info.replies,
                ending_reply(info.sessions.as_deref(), &after, opted_out),
            ) && let Some(record) = self.system_message(
                &after.number,
                &after.customer,
                replies,
                reply.kind.as_str(),
                &reply.text,
            )? {
                self.transcribe_reply(&mut channel, &after.id, &record)?;
                records.push(record);
            }
            let outbox = StoredReply::all(&records)?;
            self.apply(Write {
                events: event.iter().collect(),
                replies: outbox,
                channel,
                ..Write::default()
            })?;
            info!(session = %after.id, reason = reason.as_str(), "session ended");
            crate::metrics::session_ended(&after.line, reason.as_str(), after.duration_ms());
            for record in records {
                let origin = crate::metrics::MtOrigin {
                    line: Some(&after.line),
                    queue: after.queue.as_deref(),
                    service: "system",
                };
                crate::metrics::accepted(&record.from, record.segments.len(), origin);
                self.replies.push(record);
            }
        }
        Ok(())
    }
}

/// How long the session timer waits after a store error.
const SESSION_RETRY: Duration = Duration::from_secs(1);
