//! The inbound path's task: stores what links hand over, reassembles,
//! writes `message.received`, and lets links acknowledge carriers after the
//! group commit. See the module documentation of `inbound` for the order of
//! things and why.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use carrier_protocol::reassembly::{self, Expired, ExpiryReason, Insert, Part, Reassembler};
use serde_json::{Value, json};
use sled::Transactional;
use sled::transaction::ConflictableTransactionError;
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;
use tracing::{debug, error, info, warn};

use super::guard::{self, RetransmissionGuard, fingerprint, recent_key};
use super::record::{InboxRecord, StoredPart};
use super::text::{self, Content};
pub use session_opening::{OpeningAnswer, OpeningRefusal, OutboundOpening};
use session_step::{Arrival, SessionView};

mod session_opening;
mod session_step;
use crate::channel::SystemKind;
use crate::channel::turn::line_text;
use crate::channel::{
    ChannelTx, ChannelWrite, ConsentRegistry, Keyword, OptOutRegistry, OptOutState, SessionTrees,
    match_keyword,
};
use crate::config::{Line, MessageKey};
use crate::core_link::{EventLog, EventType, NewEvent, PreparedEvent};
use crate::outbound::DispatcherHandle;
use crate::outbound::plan::PlanOptions;
use crate::store::outbox::MessageRecord;
use crate::store::outbox::{message_id, now_ms, rfc3339};
use crate::store::{Store, StoreError};
use crate::transport::{InboundDelivery, InboundSms};

/// What the inbound path knows of a business number.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NumberInfo {
    /// Its line of business.
    pub line: Option<String>,
    /// The line's language.
    pub language: Option<String>,
    /// How it answers compliance keywords, when it has a line.
    pub replies: Option<KeywordReplies>,
    /// The line's sessions, menu and system messages (`None`: the number
    /// has no line, and its messages open no session).
    pub sessions: Option<Arc<Line>>,
    /// The numbers a STOP or START to this one changes, itself first
    /// (every number of its brand with `opt_out_scope = "brand"`; empty
    /// means itself).
    pub opt_out_numbers: Vec<String>,
}

/// The replies of a business number's line to STOP, START and HELP, and
/// how they are sent.
#[derive(Debug, Clone, PartialEq)]
pub struct KeywordReplies {
    /// The number's SMS carrier.
    pub carrier: String,
    /// How that carrier encodes text.
    pub plan: PlanOptions,
    /// `stop_message`.
    pub stop: String,
    /// `start_message`.
    pub start: String,
    /// `help_message`.
    pub help: String,
}

/// The inbound path's settings.
#[derive(Debug, Clone, PartialEq)]
pub struct InboundSettings {
    /// Business numbers, by number.
    pub numbers: HashMap<String, NumberInfo>,
    /// How long the parts of a message wait for the rest.
    pub reassembly_timeout: Duration,
    /// Validity of system replies.
    pub reply_validity: Duration,
    /// Where the core fetches media: `message.received` lists each item as
    /// `{base}/v1/media/{id}` (bearer auth, like the rest of the API).
    pub media_url_base: String,
}

impl Default for InboundSettings {
    fn default() -> Self {
        InboundSettings {
            numbers: HashMap::new(),
            reassembly_timeout: reassembly::Config::default().timeout,
            reply_validity: Duration::from_secs(24 * 3600),
            media_url_base: "http://127.0.0.1:8080".to_owned(),
        }
    }
}

/// Which message a part belongs to: the carrier and both addresses (the
/// reference is the reassembler's).
type Conversation = (Arc<str>, String, String);

/// A part held until its message completes.
struct HeldPart {
    /// Its key in `inbox_parts` (`None` for the part that completes its
    /// message, which is never stored on its own).
    key: Option<[u8; 8]>,
    sms: InboundSms,
}

/// The parts of one message held so far, by sequence number.
type HeldParts = HashMap<(Conversation, u16, u8), Vec<HeldPart>>;

/// One atomic write of the inbound path.
#[derive(Default)]
struct Write<'a> {
    add_part: Option<([u8; 8], Vec<u8>)>,
    remove_parts: Vec<[u8; 8]>,
    message: Option<(&'a PreparedEvent, Vec<u8>)>,
    /// More events after the message's (`optout.changed`).
    events: Vec<&'a PreparedEvent>,
    /// The opt-out registry's new entries.
    opt_outs: Vec<(Vec<u8>, Vec<u8>)>,
    /// System replies, written to the outbox.
    replies: Vec<StoredReply>,
    /// Sessions, transcripts and consent.
    channel: ChannelWrite,
    recent: Option<[u8; 16]>,
    /// A call that ends with this write (a deflection), with its record.
    end_call: Option<crate::services::Call>,
}

/// A system reply as a [`Write`] stores it: its outbox record and, in the
/// same transaction, its outbox index key (`store::backlog`).
struct StoredReply {
    id: String,
    value: Vec<u8>,
    index_keys: [(Vec<u8>, Vec<u8>); 1],
}

impl StoredReply {
    fn all(records: &[MessageRecord]) -> Result<Vec<StoredReply>, StoreError> {
        records
            .iter()
            .map(|record| {
                Ok(StoredReply {
                    id: record.id.clone(),
                    value: crate::store::outbox::encode(record)?,
                    index_keys: Store::new_message_index_keys(record),
                })
            })
            .collect()
    }
}

/// The inbound path's task state.
pub struct InboundPath {
    store: Store,
    log: EventLog,
    settings: InboundSettings,
    deliveries: mpsc::Receiver<InboundDelivery>,
    reassembler: Reassembler<Conversation>,
    held: HeldParts,
    guard: RetransmissionGuard,
    /// Carrier acknowledgements waiting for the next group commit.
    acks: Vec<oneshot::Sender<()>>,
    /// Inbox records (messages whose event the core has not acknowledged);
    /// the event log decrements it as it retires them.
    depth: Arc<AtomicU64>,
    /// Where system replies go once durable (`None`: not sent, in tests).
    dispatcher: Option<DispatcherHandle>,
    /// Replies written since the last group commit.
    replies: Vec<MessageRecord>,
    registry: OptOutRegistry,
    consents: ConsentRegistry,
    sessions: SessionTrees,
    /// No session timer before this instant (after a store error).
    sessions_paused_until: Option<Instant>,
    /// Sessions the API asks to open (`None`: no API, or it is gone).
    opening_requests: Option<mpsc::Receiver<OutboundOpening>>,
    /// Openings written since the last group commit, with their answers.
    openings: Vec<(oneshot::Sender<OpeningAnswer>, String)>,
    last_prune: Instant,
}

/// How often fingerprints older than the resend window are removed.
const PRUNE_EVERY: Duration = Duration::from_secs(60);

impl InboundPath {
    /// The task, with what the last run left: parts waiting for the rest of
    /// their message are reloaded, and what it stored in its last minutes
    /// becomes the retransmission guard's suspects.
    pub fn new(
        store: Store,
        log: EventLog,
        depth: Arc<AtomicU64>,
        settings: InboundSettings,
        deliveries: mpsc::Receiver<InboundDelivery>,
        dispatcher: Option<DispatcherHandle>,
    ) -> Result<InboundPath, StoreError> {
        let guard = RetransmissionGuard::load(&store.inbox_recent, now_ms())?;
        if guard.suspects() > 0 {
            info!(
                suspects = guard.suspects(),
                "inbound messages stored just before an unclean stop: a carrier's resend of one is acknowledged, not processed again"
            );
        }
        let registry = OptOutRegistry::new(store.opt_outs.clone());
        let consents = ConsentRegistry::new(store.consents.clone());
        let sessions = SessionTrees::new(&store);
        crate::metrics::sessions_open(sessions.open_count());
        let mut path = InboundPath {
            reassembler: Reassembler::new(reassembly::Config {
                timeout: settings.reassembly_timeout,
                ..reassembly::Config::default()
            }),
            store,
            log,
            settings,
            deliveries,
            held: HashMap::new(),
            guard,
            acks: Vec::new(),
            depth,
            dispatcher,
            replies: Vec::new(),
            registry,
            consents,
            sessions,
            sessions_paused_until: None,
            opening_requests: None,
            openings: Vec::new(),
            last_prune: Instant::now(),
        };
        path.restore_parts()?;
        path.forward_legacy()?;
        Ok(path)
    }

    /// Takes the API's requests to open sessions (service `outbound`).
    pub fn with_openings(mut self, requests: mpsc::Receiver<OutboundOpening>) -> InboundPath {
        self.opening_requests = Some(requests);
        self
    }

    /// Forwards inbound PDUs that versions before the inbound path stored
    /// and never read, then removes them.
    fn forward_legacy(&mut self) -> Result<(), StoreError> {
        let mut forwarded = 0;
        for item in self.store.legacy_inbox.iter() {
            let (key, value) = item?;
            let legacy: Option<(String, u64, String)> =
                serde_json::from_slice::<Value>(&value).ok().and_then(|v| {
                    Some((
                        v.get("carrier")?.as_str()?.to_owned(),
                        v.get("received_at")?.as_u64()?,
                        v.get("pdu")?.as_str()?.to_owned(),
                    ))
                });
            let sms = legacy.as_ref().and_then(|(_, at, pdu)| {
                let bytes = carrier_protocol::hex::decode(pdu).ok()?;
                let pdu = carrier_protocol::smpp::Pdu::decode(&bytes::Bytes::from(bytes)).ok()?;
                crate::transport::smpp::inbound::normalize(&pdu.body, *at)
            });
            match (legacy, sms) {
                (Some((carrier, _, _)), Some(sms)) => {
                    self.insert_part(
                        Arc::from(carrier.as_str()),
                        sms,
                        None,
                        std::time::Instant::now(),
                        None,
                    )?;
                    self.store.legacy_inbox.remove(key)?;
                    forwarded += 1;
                }
                _ => {
                    error!(key = ?key, "unreadable inbound record of an earlier version left in the `inbox` tree")
                }
            }
        }
        if forwarded > 0 {
            info!(
                forwarded,
                "inbound messages stored by an earlier version forwarded"
            );
        }
        Ok(())
    }

    /// Reloads stored parts into the reassembler, as if they had arrived
    /// when they did.
    fn restore_parts(&mut self) -> Result<(), StoreError> {
        let now = Instant::now();
        let wall = now_ms();
        let mut restored = 0;
        for item in self.store.inbox_parts.iter() {
            let (key, value) = item?;
            let Some(key) = <[u8; 8]>::try_from(key.as_ref()).ok() else {
                continue;
            };
            let part = serde_json::from_slice::<StoredPart>(&value)
                .ok()
                .and_then(|p| p.to_sms().map(|sms| (p.carrier, sms)));
            let Some((carrier, sms)) = part else {
                error!(key = ?key, "corrupt inbound part skipped");
                continue;
            };
            let age = Duration::from_millis(wall.saturating_sub(sms.received_at));
            let arrived = now.checked_sub(age).unwrap_or(now);
            self.insert_part(
                Arc::from(carrier.as_str()),
                sms,
                Some(key),
                arrived.into_std(),
                None,
            )?;
            restored += 1;
        }
        if restored > 0 {
            info!(
                parts = restored,
                "parts of concatenated inbound messages reloaded"
            );
        }
        self.report_depth();
        Ok(())
    }

    /// Runs until every link is gone, then leaves what is pending on disk
    /// for the next start.
    pub async fn run(mut self) {
        loop {
            let reassembly = self.reassembler.poll_timeout().map(Instant::from_std);
            let deadline = [reassembly, self.next_session_wake()]
                .into_iter()
                .flatten()
                .min()
                .unwrap_or_else(|| Instant::now() + Duration::from_secs(3600));
            tokio::select! {
                delivery = self.deliveries.recv() => match delivery {
                    Some(delivery) => {
                        self.on_delivery(delivery);
                        while let Ok(more) = self.deliveries.try_recv() {
                            self.on_delivery(more);
                        }
                    }
                    None => break,
                },
                opening = next_opening(&mut self.opening_requests) => match opening {
                    Some(opening) => self.on_opening(opening),
                    None => self.opening_requests = None,
                },
                _ = tokio::time::sleep_until(deadline) => {
                    self.on_timeout();
                    self.end_due_sessions();
                }
            }
            self.acknowledge();
            if self.last_prune.elapsed() >= PRUNE_EVERY {
                self.last_prune = Instant::now();
                let cutoff = now_ms().saturating_sub(guard::RESEND_WINDOW.as_millis() as u64);
                if let Err(e) = guard::prune(&self.store.inbox_recent, cutoff) {
                    warn!(error = %e, "could not prune inbound fingerprints");
                }
            }
        }
        // Every link unbound after answering what it had: nothing stored is
        // unacknowledged, so the next start has no resend to expect.
        if let Err(e) = self.store.inbox_recent.clear() {
            warn!(error = %e, "could not clear inbound fingerprints");
        }
        self.acknowledge();
    }

    /// Acknowledges to the links what the writes so far made durable, after
    /// one group commit for all of them.
    fn acknowledge(&mut self) {
        if self.acks.is_empty() && self.replies.is_empty() && self.openings.is_empty() {
            return;
        }
        let acks = std::mem::take(&mut self.acks);
        let openings = std::mem::take(&mut self.openings);
        let replies = std::mem::take(&mut self.replies);
        let dispatcher = self.dispatcher.clone();
        let commit = self.store.group_commit().clone();
        tokio::spawn(async move {
            match commit.sync().await {
                Ok(()) => {
                    for ack in acks {
                        let _ = ack.send(());
                    }
                    for (answer, session) in openings {
                        let _ = answer.send(Ok(session));
                    }
                    if let Some(dispatcher) = dispatcher
                        && !replies.is_empty()
                    {
                        dispatcher.accepted(replies).await;
                    }
                }
                Err(e) => {
                    error!(error = %e, "group commit failed; inbound messages left unacknowledged for the carrier to resend");
                }
            }
        });
    }

    fn on_delivery(&mut self, delivery: InboundDelivery) {
        let InboundDelivery { carrier, sms, ack } = delivery;
        let fp = fingerprint(&carrier, &sms);
        if self.guard.is_resend(&fp) {
            debug!(from = %sms.from, to = %sms.to, "a carrier resent what was stored before the restart");
            crate::metrics::inbound_retransmission(&carrier);
            self.acks.push(ack);
            return;
        }
        let recent = recent_key(sms.received_at, &fp);
        let result = match sms.concat {
            None => self.emit_with(&carrier, &[&sms], false, Vec::new(), Some(recent)),
            Some(_) => {
                self.insert_part(carrier, sms, None, Instant::now().into_std(), Some(recent))
            }
        };
        match result {
            // Acknowledged after the next group commit.
            Ok(()) => self.acks.push(ack),
            Err(e) => {
                // Dropping `ack` refuses the message: the carrier resends it.
                error!(error = %e, "could not store an inbound message; refused for the carrier to resend");
            }
        }
        self.report_depth();
    }

    /// Gives a part to the reassembler and writes what follows, in one
    /// transaction with the arrival's fingerprint (`recent`): the part
    /// itself while it waits (unless `stored` says it is on disk already),
    /// or the whole message and its event when it completes one.
    fn insert_part(
        &mut self,
        carrier: Arc<str>,
        sms: InboundSms,
        stored: Option<[u8; 8]>,
        arrived: std::time::Instant,
        recent: Option<[u8; 16]>,
    ) -> Result<(), StoreError> {
        let Some(concat) = sms.concat else {
            return self.emit_with(&carrier, &[&sms], false, Vec::new(), recent);
        };
        let conversation: Conversation = (carrier.clone(), sms.from.clone(), sms.to.clone());
        let part = Part {
            key: conversation.clone(),
            reference: concat.reference,
            total: concat.total,
            seq: concat.seq,
            payload: sms.user_data.clone(),
        };
        let outcome = match self.reassembler.insert(part, arrived) {
            Ok(outcome) => outcome,
            Err(e) => {
                // Concatenation data that makes no sense: the part is a
                // message of its own rather than lost.
                warn!(error = %e, "inbound part with impossible concatenation data, forwarded alone");
                let mut alone = sms;
                alone.concat = None;
                return self.emit_with(
                    &carrier,
                    &[&alone],
                    false,
                    stored.into_iter().collect(),
                    recent,
                );
            }
        };
        let ident = (conversation, concat.reference, concat.total);
        match outcome {
            Insert::Duplicate => self.apply(Write {
                remove_parts: stored.into_iter().collect(),
                recent,
                ..Write::default()
            })?,
            Insert::Pending | Insert::Evicted => {
                let key = match stored {
                    Some(key) => key,
                    None => {
                        let key = self.store.generate_id()?.to_be_bytes();
                        let value = serde_json::to_vec(&StoredPart::new(&carrier, &sms, concat))
                            .map_err(|e| corrupt(e.to_string()))?;
                        self.apply(Write {
                            add_part: Some((key, value)),
                            recent,
                            ..Write::default()
                        })?;
                        key
                    }
                };
                self.held.entry(ident).or_default().push(HeldPart {
                    key: Some(key),
                    sms,
                });
            }
            Insert::Complete(_) => {
                let mut parts = self.held.remove(&ident).unwrap_or_default();
                parts.push(HeldPart { key: stored, sms });
                parts.sort_by_key(|p| p.sms.concat.map_or(0, |c| c.seq));
                parts.dedup_by_key(|p| p.sms.concat.map_or(0, |c| c.seq));
                let remove: Vec<[u8; 8]> = parts.iter().filter_map(|p| p.key).collect();
                let smses: Vec<&InboundSms> = parts.iter().map(|p| &p.sms).collect();
                self.emit_with(&carrier, &smses, false, remove, recent)?;
            }
        }
        self.drain_expired()
    }

    fn on_timeout(&mut self) {
        let now = Instant::now().into_std();
        let expired: Vec<Expired<Conversation>> = self.reassembler.handle_timeout(now).collect();
        for expired in expired {
            if let Err(e) = self.forward_expired(expired) {
                error!(error = %e, "could not forward an incomplete inbound message; kept for the next start");
            }
        }
        self.report_depth();
    }

    /// Forwards messages whose parts stopped waiting for a memory bound.
    fn drain_expired(&mut self) -> Result<(), StoreError> {
        while let Some(expired) = self.reassembler.poll_expired() {
            self.forward_expired(expired)?;
        }
        Ok(())
    }

    /// Forwards a message whose parts stopped waiting (timeout or memory
    /// bound), with what did arrive.
    fn forward_expired(&mut self, expired: Expired<Conversation>) -> Result<(), StoreError> {
        let ident = (expired.key.clone(), expired.reference, expired.total);
        let mut parts = self.held.remove(&ident).unwrap_or_default();
        if parts.is_empty() || expired.reason == ExpiryReason::Flushed {
            return Ok(());
        }
        parts.sort_by_key(|p| p.sms.concat.map_or(0, |c| c.seq));
        let missing: Vec<u8> = expired.missing().collect();
        info!(
            from = %expired.key.1,
            to = %expired.key.2,
            reason = ?expired.reason,
            ?missing,
            "inbound message forwarded without all its parts"
        );
        let remove = parts.iter().filter_map(|p| p.key).collect();
        let smses: Vec<&InboundSms> = parts.iter().map(|p| &p.sms).collect();
        self.emit_with(&expired.key.0, &smses, true, remove, None)
    }

    /// The seam for the channel logic: a whole inbound message, decoded,
    /// becomes its inbox record and its `message.received` (consent,
    /// keywords, menus and sessions will decide here what else happens).
    fn emit_with(
        &mut self,
        carrier: &str,
        parts: &[&InboundSms],
        incomplete: bool,
        remove_parts: Vec<[u8; 8]>,
        recent: Option<[u8; 16]>,
    ) -> Result<(), StoreError> {
        let Some(first) = parts.first() else {
            return Ok(());
        };
        let content = if incomplete {
            text::decode_incomplete(parts)
        } else {
            text::decode_complete(parts)
        };
        let id = message_id(self.store.generate_id()?);
        let segments = first.concat.map_or(1, |c| {
            if incomplete {
                c.total
            } else {
                parts.len() as u8
            }
        });
        let info = self
            .settings
            .numbers
            .get(&first.to)
            .cloned()
            .unwrap_or_default();
        let keyword = if incomplete {
            None
        } else {
            let line = info.sessions.as_deref().map(|line| &line.keywords);
            content
                .text
                .as_deref()
                .and_then(|text| match_keyword(text, line))
        };
        // Order per conversation: the customer and the business number.
        let order_key = format!("{}|{}", first.to, first.from);
        let mut channel = ChannelWrite::default();
        let mut records = Vec::new();
        // A text from a caller whose IVR call is registered carries the
        // call, so the agent on the phone sees it.
        let call = crate::services::CallRegistry::new(self.store.calls.clone())
            .active_for(&first.to, &first.from, now_ms())?
            .map(|call| call.call_id);
        let turn = self.session_turn(
            &Arrival {
                sms: first,
                message_id: &id,
                text: content.text.as_deref(),
                keyword,
                order_key: &order_key,
                call_id: call.as_deref(),
            },
            &info,
            &mut channel,
            &mut records,
        )?;
        let data = received_event(
            &id,
            carrier,
            first,
            &content,
            (segments, incomplete),
            &info,
            keyword,
            turn.view.as_ref(),
            call.as_deref(),
            &self.settings.media_url_base,
        );
        let prepared = self
            .log
            .prepare(NewEvent::new(
                EventType::MessageReceived,
                order_key.clone(),
                data,
            ))
            .map_err(|e| corrupt(e.to_string()))?;
        let Some(prepared) = prepared else {
            return Ok(());
        };
        let compliance = match keyword {
            Some(keyword) => self.compliance(
                keyword,
                first,
                &info,
                &order_key,
                turn.view.as_ref().map(|v| v.language.as_str()),
            )?,
            None => Compliance::default(),
        };
        if let Some(reply) = compliance.reply {
            if let Some(view) = &turn.view {
                self.transcribe_reply(&mut channel, &view.id, &reply)?;
            }
            records.push(reply);
        }
        let record = InboxRecord {
            id,
            event_id: prepared.id().to_owned(),
            carrier: carrier.to_owned(),
            from: first.from.clone(),
            to: first.to.clone(),
            text: content.text.clone(),
            encoding: content.encoding.as_str().to_owned(),
            segments,
            incomplete,
            received_at: first.received_at,
            media: first.media.iter().map(|m| m.id.clone()).collect(),
        };
        let value = serde_json::to_vec(&record).map_err(|e| corrupt(e.to_string()))?;
        let replies = StoredReply::all(&records)?;
        let closed = match &turn.closing {
            Some(session) => self.session_event(EventType::SessionEnded, session, &order_key)?,
            None => None,
        };
        let mut events: Vec<&PreparedEvent> = turn.events.iter().collect();
        events.extend(compliance.events.iter());
        events.extend(closed.iter());
        self.apply(Write {
            remove_parts,
            message: Some((&prepared, value)),
            events,
            opt_outs: compliance.opt_outs.clone(),
            replies,
            channel,
            recent,
            ..Write::default()
        })?;
        debug!(id = %record.id, event = %record.event_id, seq = prepared.seq(), "inbound message stored");
        drop(prepared);
        turn.count();
        drop(turn.events);
        drop(compliance.events);
        drop(closed);
        for (number, keyword, opted_out) in &compliance.changed {
            crate::metrics::opt_out_changed(number, keyword, *opted_out);
        }
        for reply in records {
            if reply.system.as_deref() == Some(SystemKind::Consent.as_str()) {
                crate::metrics::consent_sent(&reply.from);
            }
            let origin = crate::metrics::MtOrigin {
                line: info.line.as_deref(),
                queue: turn.view.as_ref().and_then(|v| v.queue.as_deref()),
                service: "system",
            };
            crate::metrics::accepted(&reply.from, reply.segments.len(), origin);
            self.replies.push(reply);
        }
        self.depth.fetch_add(1, Ordering::Relaxed);
        crate::metrics::inbound_received(
            &record.to,
            carrier,
            !incomplete,
            info.line.as_deref(),
            turn.view.as_ref().and_then(|v| v.queue.as_deref()),
        );
        Ok(())
    }

    /// Applies one write atomically across the inbound trees and the event
    /// log.
    fn apply(&self, write: Write<'_>) -> Result<(), StoreError> {
        let store = &self.store;
        (
            &store.inbox_parts,
            &store.inbox,
            &store.events,
            &store.inbox_recent,
            &store.opt_outs,
            &store.outbox,
            &store.outbox_index,
            &store.sessions,
            &store.session_pairs,
            &store.session_deadlines,
            &store.transcripts,
            &store.consents,
            &store.calls,
        )
            .transaction(
                |(
                    parts,
                    inbox,
                    events,
                    recent,
                    opt_outs,
                    outbox,
                    index,
                    sessions,
                    pairs,
                    deadlines,
                    transcripts,
                    consents,
                    calls,
                )| {
                    if let Some((key, value)) = &write.add_part {
                        parts.insert(&key[..], value.as_slice())?;
                    }
                    for key in &write.remove_parts {
                        parts.remove(&key[..])?;
                    }
                    if let Some((event, value)) = &write.message {
                        inbox.insert(&event.seq().to_be_bytes()[..], value.as_slice())?;
                        event.write_to_tx(events)?;
                    }
                    for event in &write.events {
                        event.write_to_tx(events)?;
                    }
                    for (key, value) in &write.opt_outs {
                        opt_outs.insert(key.as_slice(), value.as_slice())?;
                    }
                    // System replies are new outbound messages: their
                    // index keys first, as for every new record.
                    for reply in &write.replies {
                        for (key, value) in &reply.index_keys {
                            index.insert(key.as_slice(), value.as_slice())?;
                        }
                    }
                    for reply in &write.replies {
                        outbox.insert(reply.id.as_bytes(), reply.value.as_slice())?;
                    }
                    write.channel.apply(&ChannelTx {
                        sessions,
                        pairs,
                        deadlines,
                        transcripts,
                        consents,
                    })?;
                    if let Some(key) = &write.recent {
                        recent.insert(&key[..], &[][..])?;
                    }
                    if let Some(call) = &write.end_call {
                        // Only the call the API checked: one registered
                        // again (or ended) since is left alone, and the
                        // whole opening is refused.
                        if !crate::services::CallRegistry::is_unchanged(calls, call)? {
                            return Err(ConflictableTransactionError::Abort(()));
                        }
                        crate::services::CallRegistry::remove_in(calls, &call.call_id, Some(call))?;
                    }
                    Ok::<(), ConflictableTransactionError<()>>(())
                },
            )
            .map_err(|e| match e {
                sled::transaction::TransactionError::Storage(e) => StoreError::Sled(e),
                sled::transaction::TransactionError::Abort(()) => corrupt("aborted".into()),
            })
    }

    /// What a compliance keyword changes: the registry (STOP, START), an
    /// `optout.changed` event when the state changes, and the line's reply
    /// (STOP's is the one final message an opted-out customer gets; HELP is
    /// answered opted out or not).
    fn compliance(
        &self,
        keyword: Keyword,
        sms: &InboundSms,
        info: &NumberInfo,
        order_key: &str,
        language: Option<&str>,
    ) -> Result<Compliance, StoreError> {
        let (number, customer) = (sms.to.as_str(), sms.from.as_str());
        let mut out = Compliance::default();
        let opted_out = match keyword {
            Keyword::Stop => Some(true),
            Keyword::Start => Some(false),
            Keyword::Help => None,
        };
        if let Some(opted_out) = opted_out {
            let state = OptOutState {
                opted_out,
                keyword: keyword.as_str().to_owned(),
                at: now_ms(),
            };
            let value = serde_json::to_vec(&state).map_err(|e| corrupt(e.to_string()))?;
            // The number itself, and with a brand-wide scope every other
            // number of its brand, each with its own event when its state
            // changes (in that number's conversation with the customer).
            let own = [number.to_owned()];
            let targets = if info.opt_out_numbers.is_empty() {
                &own[..]
            } else {
                &info.opt_out_numbers[..]
            };
            for target in targets {
                let was_out = self.registry.is_opted_out(target, customer)?;
                out.opt_outs
                    .push((OptOutRegistry::key(target, customer), value.clone()));
                if opted_out == was_out {
                    continue;
                }
                info!(number = %target, %customer, keyword = keyword.as_str(), opted_out, "opt-out changed");
                out.changed
                    .push((target.clone(), keyword.as_str(), opted_out));
                let data = serde_json::json!({
                    "customer": customer,
                    "number": target,
                    "opted_out": opted_out,
                    "keyword": keyword.as_str(),
                });
                let key = if target == number {
                    order_key.to_owned()
                } else {
                    format!("{target}|{customer}")
                };
                if let Some(event) = self
                    .log
                    .prepare(NewEvent::new(EventType::OptoutChanged, key, data))
                    .map_err(|e| corrupt(e.to_string()))?
                {
                    out.events.push(event);
                }
            }
        }
        if let Some(replies) = &info.replies {
            let (key, base) = match keyword {
                Keyword::Stop => (MessageKey::Stop, &replies.stop),
                Keyword::Start => (MessageKey::Start, &replies.start),
                Keyword::Help => (MessageKey::Help, &replies.help),
            };
            // In the session's language when the message joined a session.
            let text = match (&info.sessions, language) {
                (Some(line), Some(language)) => line_text(line, key, language),
                _ => None,
            }
            .unwrap_or_else(|| base.clone());
            let kind = keyword.as_str().to_ascii_lowercase();
            out.reply = self.system_message(number, customer, replies, &kind, &text)?;
        }
        Ok(out)
    }

    fn report_depth(&self) {
        crate::metrics::inbox_depth(
            self.depth.load(Ordering::Relaxed) as usize,
            self.reassembler.pending_messages(),
        );
    }
}

/// What a compliance keyword adds to the write of its message.
#[derive(Default)]
struct Compliance {
    /// `optout.changed`, one per number whose state changed.
    events: Vec<PreparedEvent>,
    /// The registry's new entries.
    opt_outs: Vec<(Vec<u8>, Vec<u8>)>,
    /// The line's reply.
    reply: Option<MessageRecord>,
    /// Each number whose state changed, with the keyword and its new state
    /// (counted once the write is done).
    changed: Vec<(String, &'static str, bool)>,
}

/// The next request to open a session; never, without a requester.
async fn next_opening(
    requests: &mut Option<mpsc::Receiver<OutboundOpening>>,
) -> Option<OutboundOpening> {
    match requests {
        Some(requests) => requests.recv().await,
        None => std::future::pending().await,
    }
}

fn corrupt(detail: String) -> StoreError {
    StoreError::Corrupt {
        tree: "inbox",
        detail,
    }
}

/// The `data` of `message.received`: the session and its queue and
/// language when the message joined one.
#[allow(clippy::too_many_arguments)]
fn received_event(
    id: &str,
    carrier: &str,
    first: &InboundSms,
    content: &Content,
    (segments, incomplete): (u8, bool),
    info: &NumberInfo,
    keyword: Option<Keyword>,
    session: Option<&SessionView>,
    call_id: Option<&str>,
    media_url_base: &str,
) -> Value {
    let media: Vec<Value> = first
        .media
        .iter()
        .map(|m| {
            json!({
                "id": m.id,
                "content_type": m.content_type,
                "size": m.size,
                "url": format!("{media_url_base}/v1/media/{}", m.id),
            })
        })
        .collect();
    let mut data = json!({
        "id": id,
        "from": first.from,
        "to": first.to,
        "text": content.text,
        "encoding": content.encoding.as_str(),
        "segments": segments,
        "media": media,
        "carrier": carrier,
        "received_at": rfc3339(first.received_at),
        "language": session.map(|s| s.language.as_str()).or(info.language.as_deref()),
        "keyword": keyword.map(Keyword::as_str),
        "call_id": call_id,
        "session": {
            "id": session.map(|s| s.id.as_str()),
            "line": info.line,
            "queue": session.and_then(|s| s.queue.as_deref()),
            "new": session.is_some_and(|s| s.new),
        },
        "incomplete": incomplete,
    });
    if let (Some(hex), Some(map)) = (&content.user_data_hex, data.as_object_mut()) {
        map.insert("user_data_hex".into(), Value::String(hex.clone()));
    }
    data
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;
    use carrier_protocol::text::Encoding;
    use serde_json::Value;

    use super::*;
    use crate::core_link::StatusFilter;
    use crate::transport::InboundConcat;

    struct Harness {
        _dir: tempfile::TempDir,
        store: Store,
        log: EventLog,
        depth: Arc<AtomicU64>,
    }

    impl Harness {
        fn new() -> Harness {
            let dir = tempfile::tempdir().expect("tempdir");
            let store = Store::open(dir.path()).expect("store");
            let log = EventLog::open(store.events.clone(), StatusFilter::all()).expect("log");
            Harness {
                _dir: dir,
                store,
                log,
                depth: Arc::new(AtomicU64::new(0)),
            }
        }

        /// Starts the inbound path over the same store (a restart).
        fn start(
            &self,
            timeout: Duration,
        ) -> (mpsc::Sender<InboundDelivery>, tokio::task::JoinHandle<()>) {
            let (tx, rx) = mpsc::channel(16);
            let settings = InboundSettings {
                reassembly_timeout: timeout,
                ..InboundSettings::default()
            };
            let path = InboundPath::new(
                self.store.clone(),
                self.log.clone(),
                self.depth.clone(),
                settings,
                rx,
                None,
            )
            .expect("inbound path");
            (tx, tokio::spawn(path.run()))
        }

        /// The `data` of every `message.received` in the log.
        fn received(&self) -> Vec<Value> {
            let mut out = Vec::new();
            let _ = self.log.read(0, usize::MAX, |_, kind, _, json| {
                if kind == EventType::MessageReceived {
                    let event: Value = serde_json::from_slice(json).expect("json");
                    out.push(event["data"].clone());
                }
            });
            out
        }
    }

    fn part(text: &'static [u8], seq: u8, total: u8) -> InboundSms {
        InboundSms {
            from: "+15557654321".into(),
            to: "+15551230001".into(),
            encoding: Encoding::Gsm7,
            national: (None, None),
            user_data: Bytes::from_static(text),
            concat: Some(InboundConcat {
                reference: 7,
                total,
                seq,
            }),
            carrier_ids: Vec::new(),
            received_at: now_ms(),
            media: Vec::new(),
        }
    }

    async fn deliver(tx: &mpsc::Sender<InboundDelivery>, sms: InboundSms) {
        let (ack, acked) = oneshot::channel();
        tx.send(InboundDelivery {
            carrier: Arc::from("acme"),
            sms,
            ack,
        })
        .await
        .expect("send");
        tokio::time::timeout(Duration::from_secs(5), acked)
            .await
            .expect("acknowledged in time")
            .expect("acknowledged, not refused");
    }

    #[tokio::test]
    async fn parts_survive_a_restart_and_complete_once() {
        let h = Harness::new();
        let (tx, task) = h.start(Duration::from_secs(60));
        deliver(&tx, part(b"Hello, ", 1, 2)).await;
        // A duplicate of the first part changes nothing.
        deliver(&tx, part(b"Hello, ", 1, 2)).await;
        drop(tx);
        task.await.expect("stopped");
        assert!(h.received().is_empty());
        assert_eq!(h.store.inbox_parts.len(), 1);

        let (tx, task) = h.start(Duration::from_secs(60));
        deliver(&tx, part(b"world", 2, 2)).await;
        drop(tx);
        task.await.expect("stopped");
        let received = h.received();
        assert_eq!(received.len(), 1, "{received:?}");
        assert_eq!(received[0]["text"], "Hello, world");
        assert_eq!(received[0]["segments"], 2);
        assert_eq!(received[0]["incomplete"], false);
        assert_eq!(
            h.store.inbox_parts.len(),
            0,
            "parts retired with the message"
        );
        assert_eq!(h.store.inbox.len(), 1);
        assert_eq!(h.depth.load(Ordering::Relaxed), 1);
    }

    #[tokio::test]
    async fn a_message_missing_parts_is_forwarded_incomplete_after_the_timeout() {
        let h = Harness::new();
        let (tx, task) = h.start(Duration::from_millis(200));
        deliver(&tx, part(b"first ", 1, 3)).await;
        deliver(&tx, part(b"third", 3, 3)).await;
        tokio::time::sleep(Duration::from_millis(600)).await;
        drop(tx);
        task.await.expect("stopped");
        let received = h.received();
        assert_eq!(received.len(), 1, "{received:?}");
        assert_eq!(received[0]["text"], "first third");
        assert_eq!(received[0]["incomplete"], true);
        assert_eq!(received[0]["segments"], 3);
        assert_eq!(h.store.inbox_parts.len(), 0);
    }

    #[tokio::test]
    async fn a_resend_after_an_unclean_stop_is_not_processed_twice() {
        let h = Harness::new();
        let single = || InboundSms {
            concat: None,
            ..part(b"STOP", 1, 1)
        };
        let (tx, task) = h.start(Duration::from_secs(60));
        deliver(&tx, single()).await;
        // An unclean stop: the task is gone without its clean end.
        task.abort();
        let _ = task.await;
        drop(tx);
        assert_eq!(h.received().len(), 1);

        let (tx, task) = h.start(Duration::from_secs(60));
        // The carrier resends it (its acknowledgement was lost) ...
        deliver(&tx, single()).await;
        assert_eq!(
            h.received().len(),
            1,
            "the resend is acknowledged, not processed"
        );
        // ... and a genuine second STOP later is processed.
        deliver(&tx, single()).await;
        drop(tx);
        task.await.expect("stopped");
        assert_eq!(h.received().len(), 2);
        // A clean stop leaves no suspects: the same text again is new.
        let (tx, task) = h.start(Duration::from_secs(60));
        deliver(&tx, single()).await;
        drop(tx);
        task.await.expect("stopped");
        assert_eq!(h.received().len(), 3);
    }
}
