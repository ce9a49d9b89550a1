//! Sessions the gateway opens (services `outbound` and `deflection`): the
//! API hands the validated message to the inbound path's task, which owns
//! sessions, and gets the session id back once the group commit made it
//! durable. A deflection also ends its IVR call, in the same transaction.
//!
//! Why through this task rather than a write of the API's own: the task is
//! the only writer of sessions and consent records, so a customer's first
//! message and an agent's opening message racing for the same pair are
//! decided one after the other, and consent still goes out exactly once.

use tokio::sync::oneshot;

use super::session_step::encoding_failed;
use super::{InboundPath, StoredReply, Write};
use crate::channel::session::session_id;
use crate::channel::turn::{OpeningFacts, plan_opening};
use crate::channel::{
    Author, ChannelWrite, ConsentRecord, Direction, SessionOrigin, SystemKind, TranscriptEntry,
};
use crate::core_link::EventType;
use crate::store::StoreError;
use crate::store::outbox::{MessageRecord, now_ms};

/// Why a session could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum OpeningRefusal {
    /// The sender has no line, so no sessions.
    #[error("{0} has no line of business, so it has no sessions; send it session_less")]
    NoLine(String),
    /// `queue` is not one of the line's.
    #[error("the line {line:?} has no queue {queue:?}")]
    UnknownQueue {
        /// The line.
        line: String,
        /// The queue asked for.
        queue: String,
    },
    /// The deflected call ended (or expired) before its turn came.
    #[error("no registered call {0:?} (ended or expired meanwhile)")]
    UnknownCall(String),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What the task answers: the session's id, once durable.
pub type OpeningAnswer = Result<String, OpeningRefusal>;

/// The API's request: send `record` in a session opened towards its
/// customer.
pub struct OutboundOpening {
    /// The agent's message, validated and with its id.
    pub record: MessageRecord,
    /// `queue` of the request.
    pub queue: Option<String>,
    /// `language` of the request.
    pub language: Option<String>,
    /// `Outbound`, or `Deflection` of `call`, which ends.
    pub origin: SessionOrigin,
    /// The call a deflection moves to SMS.
    pub call: Option<crate::services::Call>,
    /// Where the answer goes (after the group commit).
    pub answer: oneshot::Sender<OpeningAnswer>,
}

/// What the request asks of the session it opens.
struct Asked<'a> {
    queue: Option<&'a str>,
    language: Option<&'a str>,
    origin: SessionOrigin,
    call: Option<crate::services::Call>,
}

impl InboundPath {
    /// Writes an opening; its answer waits for the next group commit.
    pub(super) fn on_opening(&mut self, opening: OutboundOpening) {
        let OutboundOpening {
            record,
            queue,
            language,
            origin,
            call,
            answer,
        } = opening;
        let asked = Asked {
            queue: queue.as_deref(),
            language: language.as_deref(),
            origin,
            call,
        };
        match self.open_outbound(record, asked) {
            Ok(id) => self.openings.push((answer, id)),
            Err(e) => {
                let _ = answer.send(Err(e));
            }
        }
    }

    fn open_outbound(
        &mut self,
        record: MessageRecord,
        asked: Asked<'_>,
    ) -> Result<String, OpeningRefusal> {
        let Asked {
            queue,
            language,
            origin,
            call,
        } = asked;
        let (number, customer) = (record.from.clone(), record.to.clone());
        let info = self
            .settings
            .numbers
            .get(&number)
            .cloned()
            .unwrap_or_default();
        let (Some(line), Some(replies)) = (&info.sessions, &info.replies) else {
            return Err(OpeningRefusal::NoLine(number));
        };
        if let Some(queue) = queue
            && line.queue(queue).is_none()
        {
            return Err(OpeningRefusal::UnknownQueue {
                line: line.name.clone(),
                queue: queue.to_owned(),
            });
        }
        let now = now_ms();
        // The task decides openings one at a time, so two deflections of
        // one call cannot both pass: the second finds it gone.
        // The call as it is now (registered again meanwhile: its newer
        // record), still between this customer and number; the write
        // removes exactly this record or nothing.
        let call = match call {
            Some(asked) => {
                let registry = crate::services::CallRegistry::new(self.store.calls.clone());
                match registry.get(&asked.call_id, now)? {
                    Some(current)
                        if current.customer == asked.customer && current.number == asked.number =>
                    {
                        Some(current)
                    }
                    _ => return Err(OpeningRefusal::UnknownCall(asked.call_id)),
                }
            }
            None => None,
        };
        let open = self.sessions.open_for(&number, &customer)?;
        let before = open.clone();
        let consented = self.consents.is_recorded(&number, &customer)?;
        let fresh = session_id(self.store.generate_id()?);
        let plan = plan_opening(
            OpeningFacts {
                customer: &customer,
                number: &number,
                line,
                open,
                consented,
                queue,
                language,
                origin,
                call_id: call.as_ref().map(|c| c.call_id.as_str()),
                now,
            },
            || fresh,
        );
        let order_key = format!("{number}|{customer}");
        let mut channel = ChannelWrite::default();
        let mut events = Vec::new();
        if let Some(ended) = &plan.ended {
            channel
                .save_session(before.as_ref(), ended)
                .map_err(encoding_failed)?;
            events.extend(self.session_event(EventType::SessionEnded, ended, &order_key)?);
        }
        let session = &plan.session;
        if plan.new {
            channel
                .save_session(None, session)
                .map_err(encoding_failed)?;
            events.extend(self.session_event(EventType::SessionStarted, session, &order_key)?);
        }
        let mut records = Vec::new();
        if let Some(consent) = &plan.consent
            && let Some(message) = self.system_message(
                &number,
                &customer,
                replies,
                consent.kind.as_str(),
                &consent.text,
            )?
        {
            self.transcribe_reply(&mut channel, &session.id, &message)?;
            let consent = ConsentRecord {
                message_id: message.id.clone(),
                session_id: Some(session.id.clone()),
                at: now,
            };
            channel
                .record_consent(&number, &customer, &consent)
                .map_err(encoding_failed)?;
            records.push(message);
        }
        let entry = TranscriptEntry {
            direction: Direction::Out,
            author: Author::Agent,
            kind: None,
            text: Some(record.text.clone()),
            message_id: Some(record.id.clone()),
            at: record.created_at,
            media: Vec::new(),
        };
        channel
            .add_transcript(&session.id, self.store.generate_id()?, &entry)
            .map_err(encoding_failed)?;
        records.push(record);
        if let Some(menu) = &plan.menu
            && let Some(message) =
                self.system_message(&number, &customer, replies, menu.kind.as_str(), &menu.text)?
        {
            self.transcribe_reply(&mut channel, &session.id, &message)?;
            records.push(message);
        }
        let outbox = StoredReply::all(&records)?;
        let call_id = call.as_ref().map(|c| c.call_id.clone());
        let applied = self.apply(Write {
            events: events.iter().collect(),
            replies: outbox,
            channel,
            end_call: call,
            ..Write::default()
        });
        if let (Err(StoreError::Corrupt { detail, .. }), Some(call_id)) = (&applied, call_id)
            && detail == "aborted"
        {
            // The call changed between the check and the write (registered
            // again, or ended): the transaction wrote nothing.
            tracing::warn!(call = %call_id, "the deflected call changed meanwhile; refused");
            return Err(OpeningRefusal::UnknownCall(call_id));
        }
        applied?;
        drop(events);
        if let Some(ended) = &plan.ended
            && let Some(reason) = ended.end_reason
        {
            crate::metrics::session_ended(&ended.line, reason.as_str(), ended.duration_ms());
        }
        if plan.new {
            crate::metrics::session_started(&session.line, origin.as_str());
        }
        if origin == SessionOrigin::Deflection {
            crate::metrics::call_changed("deflected", 1);
        }
        for record in records {
            if record.system.as_deref() == Some(SystemKind::Consent.as_str()) {
                crate::metrics::consent_sent(&record.from);
            }
            let origin = crate::metrics::MtOrigin {
                line: Some(&session.line),
                queue: session.queue.as_deref(),
                service: record.service_label(),
            };
            crate::metrics::accepted(&record.from, record.segments.len(), origin);
            self.replies.push(record);
        }
        Ok(session.id.clone())
    }
}
