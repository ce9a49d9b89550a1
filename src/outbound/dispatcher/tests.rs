//! The dispatcher on simulated time: no tokio runtime, no sleeps. A harness
//! feeds it commands and link events, moves its clock from deadline to
//! deadline ([`Dispatcher::poll_timeout`]), carries out its effects at once
//! (a group commit that always succeeds), and reads what it handed to the
//! carrier's queue. The store is a real sled database in a temporary
//! directory (what a restart replays is what was written).

use std::num::NonZeroU32;
use std::sync::Mutex;

use carrier_protocol::receipt::{MessageIdMapping, Receipt};

use super::*;
use crate::config::Limits;
use crate::transport::{StatusClass, WorkContent};

const FROM: &str = "+15550000001";
const CARRIER: &str = "acme";

/// Status events as the dispatcher stages them.
#[derive(Default)]
struct Recorded(Mutex<Vec<(String, MessageStatus)>>);

impl StatusEvents for Recorded {
    fn message_status(&self, record: &MessageRecord) -> Result<(), StoreError> {
        if let Ok(mut events) = self.0.lock() {
            events.push((record.id.clone(), record.status));
        }
        Ok(())
    }
}

struct Harness {
    dir: tempfile::TempDir,
    store: Store,
    machine: Dispatcher,
    jobs: async_channel::Receiver<LinkWork>,
    jobs_tx: async_channel::Sender<LinkWork>,
    bound: Arc<AtomicUsize>,
    limits: std::collections::HashMap<String, NumberLimits>,
    now: Now,
    next_id: u64,
}

fn start_time() -> Now {
    Now {
        mono: Instant::now(),
        // 2026-12-04 10:00 UTC: far from a day boundary.
        wall_ms: 1_796_378_400_000,
    }
}

fn limited(own: Limits) -> std::collections::HashMap<String, NumberLimits> {
    std::collections::HashMap::from([(
        FROM.to_owned(),
        NumberLimits {
            own,
            campaign: None,
            brand: None,
        },
    )])
}

fn cap(n: u32) -> Option<NonZeroU32> {
    NonZeroU32::new(n)
}

impl Harness {
    fn new(limits: std::collections::HashMap<String, NumberLimits>) -> Harness {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = Store::open(dir.path()).expect("store");
        let (jobs_tx, jobs) = async_channel::bounded(1024);
        let bound = Arc::new(AtomicUsize::new(1));
        let now = start_time();
        let machine = Self::machine(&store, &jobs_tx, &bound, &limits, now);
        Harness {
            dir,
            store,
            machine,
            jobs,
            jobs_tx,
            bound,
            limits,
            now,
            next_id: 1,
        }
    }

    fn machine(
        store: &Store,
        jobs: &async_channel::Sender<LinkWork>,
        bound: &Arc<AtomicUsize>,
        limits: &std::collections::HashMap<String, NumberLimits>,
        now: Now,
    ) -> Dispatcher {
        let route = CarrierRoute {
            jobs: jobs.clone(),
            text_max: None,
            plan: PlanOptions::default(),
            id_mapping: MessageIdMapping::AUTO,
            receipt_wait: Duration::from_secs(3),
            bound: bound.clone(),
        };
        Dispatcher::new(
            store.clone(),
            std::collections::HashMap::from([(CARRIER.to_owned(), route)]),
            limits,
            Arc::new(Recorded::default()),
            now,
        )
    }

    /// The gateway stops (cleanly or not: nothing more is written) and
    /// starts again on the same store, `after` later.
    fn restart(&mut self, after: Duration) {
        self.now = self.now.advanced(after);
        while self.jobs.try_recv().is_ok() {}
        self.machine = Self::machine(
            &self.store,
            &self.jobs_tx,
            &self.bound,
            &self.limits,
            self.now,
        );
        self.machine.replay().expect("replay");
        self.step();
    }

    /// A message as the API accepts it: written, then handed over.
    fn send(&mut self, to: &str, text: &str, validity: Duration) -> String {
        self.send_system(to, text, validity, None)
    }

    /// An MMS (a message with media and no fallback): handed over whole.
    fn send_mms(&mut self, to: &str, text: &str, media: &[&str]) -> (String, Option<LinkWork>) {
        let n = self.next_id;
        self.next_id += 1;
        let mut record = MessageRecord::queued(
            n,
            FROM.into(),
            to.into(),
            text.into(),
            "binary",
            1,
            CARRIER.into(),
            HOUR.as_millis() as u64,
        );
        record.created_at = self.now.wall_ms;
        record.expires_at = self.now.wall_ms + HOUR.as_millis() as u64;
        record.media = media.iter().map(|m| m.to_string()).collect();
        self.store.put_message(&record).expect("write");
        let id = record.id.clone();
        self.machine.set_now(self.now);
        self.machine.handle_command(Command::Accepted(vec![record]));
        self.step();
        (id, self.jobs.try_recv().ok())
    }

    /// A message, or a system reply of the channel (`system`).
    fn send_system(
        &mut self,
        to: &str,
        text: &str,
        validity: Duration,
        system: Option<&str>,
    ) -> String {
        let n = self.next_id;
        self.next_id += 1;
        let mut record = MessageRecord::queued(
            n,
            FROM.into(),
            to.into(),
            text.into(),
            "gsm7",
            1,
            CARRIER.into(),
            validity.as_millis() as u64,
        );
        record.created_at = self.now.wall_ms;
        record.updated_at = self.now.wall_ms;
        record.expires_at = self.now.wall_ms + validity.as_millis() as u64;
        record.system = system.map(str::to_owned);
        self.store.put_message(&record).expect("write");
        let id = record.id.clone();
        self.machine.set_now(self.now);
        self.machine.handle_command(Command::Accepted(vec![record]));
        self.step();
        id
    }

    fn step(&mut self) {
        self.machine.set_now(self.now);
        for _ in 0..10 {
            self.machine.step();
            let effects = self.machine.take_effects();
            if effects.is_empty() {
                return;
            }
            for effect in effects {
                match effect {
                    Effect::Sync { upto } => self.machine.synced(upto),
                    Effect::AckAfterSync(acks) => {
                        for ack in acks {
                            let _ = ack.send(());
                        }
                    }
                    Effect::LeaseSync(outcome) => self.machine.on_lease(outcome),
                    Effect::CountBacklog { below } => {
                        let counted = self.store.count_to_send(&below).expect("count");
                        self.machine.backlog_counted(counted);
                    }
                }
            }
        }
    }

    /// Moves the clock to `by` later, through every deadline on the way.
    fn advance(&mut self, by: Duration) {
        let target = self.now.mono + by;
        while let Some(at) = self.machine.poll_timeout() {
            if at > target {
                break;
            }
            let at = at.max(self.now.mono);
            self.now = self.now.advanced(at - self.now.mono);
            self.machine.set_now(self.now);
            self.machine.on_timeout();
            self.step();
        }
        self.now = self.now.advanced(target - self.now.mono);
        self.machine.set_now(self.now);
        self.machine.on_timeout();
        self.step();
    }

    /// What was handed to the carrier's queue since the last call.
    fn handed(&mut self) -> Vec<(String, u16, String)> {
        let mut out = Vec::new();
        while let Ok(work) = self.jobs.try_recv() {
            let to = match &work.content {
                WorkContent::Sms(sms) => sms.to.to_string(),
                WorkContent::Mms(mms) => mms.to.to_string(),
                WorkContent::Text(text) => text.to.to_string(),
            };
            out.push((work.message_id.to_string(), work.part, to));
        }
        out
    }

    fn event(&mut self, event: LinkEvent) {
        self.machine.set_now(self.now);
        self.machine.handle_link_event(event);
        self.step();
    }

    fn accept(&mut self, id: &str, carrier_id: &str) {
        self.event(LinkEvent::Accepted {
            message_id: Arc::from(id),
            part: 0,
            carrier_id: carrier_id.into(),
        });
    }

    fn fail(&mut self, id: &str, class: StatusClass) {
        self.event(LinkEvent::Failed {
            message_id: Arc::from(id),
            part: 0,
            status: LinkStatus {
                class,
                raw: Some(0x58),
                message: "try later".into(),
                reason: "transient_status",
            },
        });
    }

    /// A final receipt for `carrier_id`; returns whether it was
    /// acknowledged (after the change it caused was written).
    fn receipt(&mut self, carrier_id: &str, stat: &str) -> bool {
        let text = format!(
            "id:{carrier_id} sub:001 dlvrd:001 submit date:2612041000 done date:2612041000 stat:{stat} err:000 text:"
        );
        let receipt = Receipt::parse(text.as_bytes())
            .expect("receipt")
            .into_owned();
        let (ack, acked) = oneshot::channel();
        self.event(LinkEvent::Report {
            carrier: Arc::from(CARRIER),
            receipt,
            ack,
        });
        let mut acked = acked;
        acked.try_recv().is_ok()
    }

    fn record(&self, id: &str) -> MessageRecord {
        self.store.get_message(id).expect("read").expect("stored")
    }

    fn status(&self, id: &str) -> MessageStatus {
        self.record(id).status
    }
}

fn ids(handed: &[(String, u16, String)]) -> Vec<&str> {
    handed.iter().map(|(id, _, _)| id.as_str()).collect()
}

const HOUR: Duration = Duration::from_secs(3600);

#[test]
fn a_conversation_is_sent_in_order_and_others_do_not_wait_for_it() {
    let mut h = Harness::new(Default::default());
    let a1 = h.send("+15551110001", "a1", HOUR);
    let a2 = h.send("+15551110001", "a2", HOUR);
    let b1 = h.send("+15551110002", "b1", HOUR);
    // Only the head of each conversation goes.
    assert_eq!(ids(&h.handed()), [&a1, &b1]);
    // A transient failure of the head holds its conversation back, not
    // the other one.
    h.fail(&a1, StatusClass::Transient);
    h.accept(&b1, "100");
    assert!(h.handed().is_empty());
    h.advance(Duration::from_secs(2));
    assert_eq!(ids(&h.handed()), [&a1]);
    h.accept(&a1, "101");
    assert_eq!(ids(&h.handed()), [&a2]);
    h.accept(&a2, "102");
    for id in [&a1, &a2, &b1] {
        assert_eq!(h.status(id), MessageStatus::Submitted);
    }
}

#[test]
fn transient_failures_are_retried_with_growing_backoff_until_the_validity_ends() {
    let mut h = Harness::new(Default::default());
    let id = h.send("+15551110001", "retry me", Duration::from_secs(120));
    let start = h.now.mono;
    let mut sent_at = Vec::new();
    for _ in 0..1_000 {
        let handed = h.handed();
        if handed.is_empty() {
            if h.status(&id).is_final() {
                break;
            }
            h.advance(Duration::from_millis(250));
            continue;
        }
        sent_at.push(h.now.mono - start);
        h.fail(&id, StatusClass::Transient);
    }
    assert_eq!(h.status(&id), MessageStatus::Expired);
    assert_eq!(
        h.record(&id).error.map(|e| e.code).as_deref(),
        Some("expired")
    );
    // Backoff from 200 ms doubling to 60 s (with jitter): some tries early,
    // far fewer than one every 250 ms, and the gaps grow.
    assert!((4..=15).contains(&sent_at.len()), "{sent_at:?}");
    let gaps: Vec<Duration> = sent_at.windows(2).map(|w| w[1] - w[0]).collect();
    assert!(gaps.last() > gaps.first(), "{gaps:?}");
    assert!(h.now.mono - start < Duration::from_secs(200));
}

#[test]
fn a_message_that_cannot_leave_expires_at_the_end_of_its_validity() {
    let mut h = Harness::new(Default::default());
    h.bound.store(0, Ordering::Relaxed);
    let id = h.send("+15551110001", "no bind", Duration::from_secs(30));
    h.advance(Duration::from_secs(29));
    assert!(h.handed().is_empty());
    assert_eq!(h.status(&id), MessageStatus::Queued);
    h.advance(Duration::from_secs(2));
    assert_eq!(h.status(&id), MessageStatus::Expired);
    assert_eq!(h.machine.depth.load(Ordering::Relaxed), 0);
}

#[test]
fn per_second_per_minute_and_daily_caps_hold() {
    // Two a second.
    let mut h = Harness::new(limited(Limits {
        per_second: cap(2),
        per_minute: None,
        per_day: None,
    }));
    for i in 0..6 {
        h.send(&format!("+1555111{i:04}"), "s", HOUR);
    }
    assert_eq!(h.handed().len(), 2);
    h.advance(Duration::from_millis(500));
    assert!(h.handed().is_empty());
    h.advance(Duration::from_millis(600));
    assert_eq!(h.handed().len(), 2);
    h.advance(Duration::from_secs(1));
    assert_eq!(h.handed().len(), 2);

    // Three a minute.
    let mut h = Harness::new(limited(Limits {
        per_second: None,
        per_minute: cap(3),
        per_day: None,
    }));
    for i in 0..5 {
        h.send(&format!("+1555111{i:04}"), "m", HOUR);
    }
    assert_eq!(h.handed().len(), 3);
    h.advance(Duration::from_secs(59));
    assert!(h.handed().is_empty());
    h.advance(Duration::from_secs(2));
    assert_eq!(h.handed().len(), 2);

    // Two a day: the third waits for the next day (and expires first).
    let mut h = Harness::new(limited(Limits {
        per_second: None,
        per_minute: None,
        per_day: cap(2),
    }));
    let sent: Vec<String> = (0..3)
        .map(|i| h.send(&format!("+1555111{i:04}"), "d", HOUR))
        .collect();
    assert_eq!(h.handed().len(), 2);
    h.advance(Duration::from_secs(1800));
    assert!(h.handed().is_empty());
    h.advance(Duration::from_secs(1801));
    assert_eq!(h.status(&sent[2]), MessageStatus::Expired);
}

#[test]
fn a_receipt_that_overtakes_its_response_still_delivers() {
    let mut h = Harness::new(Default::default());
    let id = h.send("+15551110001", "fast", HOUR);
    assert_eq!(h.handed().len(), 1);
    // The receipt comes first: kept (durably) and acknowledged.
    assert!(h.receipt("7001", "DELIVRD"));
    assert_eq!(h.status(&id), MessageStatus::Queued);
    h.accept(&id, "7001");
    assert_eq!(h.status(&id), MessageStatus::Delivered);
}

#[test]
fn receipts_that_never_come_stop_being_waited_for_after_the_validity() {
    let mut h = Harness::new(Default::default());
    let id = h.send("+15551110001", "silent carrier", Duration::from_secs(600));
    h.handed();
    h.accept(&id, "7002");
    assert_eq!(h.status(&id), MessageStatus::Submitted);
    assert_eq!(h.machine.depth.load(Ordering::Relaxed), 1);
    // Validity, the hour of grace, and a sweep.
    h.advance(Duration::from_secs(600) + HOUR + Duration::from_secs(61));
    let record = h.record(&id);
    assert_eq!(record.status, MessageStatus::Submitted);
    assert!(record.receipt_timed_out);
    assert_eq!(h.machine.depth.load(Ordering::Relaxed), 0);
    // A late receipt is harmless.
    assert!(h.receipt("7002", "DELIVRD"));
}

#[test]
fn a_restart_replays_what_was_unfinished_once_and_in_order() {
    let mut h = Harness::new(Default::default());
    let a1 = h.send("+15551110001", "a1", HOUR);
    let a2 = h.send("+15551110001", "a2", HOUR);
    let a3 = h.send("+15551110001", "a3", HOUR);
    let b1 = h.send("+15551110002", "b1", HOUR);
    assert_eq!(ids(&h.handed()), [&a1, &b1]);
    h.accept(&a1, "8001");
    assert_eq!(ids(&h.handed()), [&a2]);
    // a2 and b1 are out when the gateway stops, unanswered.
    h.restart(Duration::from_secs(5));
    // a1 waits for its receipt; a2 and b1 go again, a3 after a2.
    assert_eq!(ids(&h.handed()), [&a2, &b1]);
    h.accept(&a2, "8002");
    assert_eq!(ids(&h.handed()), [&a3]);
    assert!(h.receipt("8001", "DELIVRD"));
    assert_eq!(h.status(&a1), MessageStatus::Delivered);
    assert!(h.dir.path().exists());
}

#[test]
fn keys_written_just_before_their_record_are_not_taken_for_stale() {
    let mut h = Harness::new(Default::default());
    h.bound.store(0, Ordering::Relaxed);
    let a = h.send("+15551110001", "a", HOUR);
    // A restart whose backlog scan meets the index keys of B, written by a
    // request of this run that has not written B's record yet.
    h.machine = Harness::machine(&h.store, &h.jobs_tx, &h.bound, &h.limits, h.now);
    h.machine.replay().expect("replay");
    let n = h.store.generate_id().expect("id") + 1;
    let mut b = MessageRecord::queued(
        n,
        FROM.into(),
        "+15551110002".into(),
        "b".into(),
        "gsm7",
        1,
        CARRIER.into(),
        HOUR.as_millis() as u64,
    );
    b.expires_at = h.now.wall_ms + HOUR.as_millis() as u64;
    h.store.index_new_message(&b).expect("keys");
    h.step();
    assert!(h.store.is_to_send(FROM, &b.id).expect("read"));
    // Then the record, and the hand-over: B is sent, once.
    h.store.put_message(&b).expect("write");
    h.machine.handle_command(Command::Accepted(vec![b.clone()]));
    h.bound.store(1, Ordering::Relaxed);
    h.advance(Duration::from_millis(50));
    let handed = h.handed();
    assert_eq!(
        ids(&handed).iter().filter(|id| **id == b.id).count(),
        1,
        "{handed:?}"
    );
    assert_eq!(
        ids(&handed).iter().filter(|id| **id == a).count(),
        1,
        "{handed:?}"
    );
}

#[test]
fn the_stop_confirmation_jumps_the_queue_and_the_daily_cap() {
    let mut h = Harness::new(limited(Limits {
        per_second: cap(1),
        per_minute: None,
        per_day: cap(2),
    }));
    let sent: Vec<String> = (0..4)
        .map(|i| h.send(&format!("+1555111{i:04}"), "marketing", HOUR))
        .collect();
    assert_eq!(ids(&h.handed()), [&sent[0]]);
    let stop = h.send_system("+15559990000", "You are unsubscribed", HOUR, Some("stop"));
    // Next second: the STOP confirmation goes before the waiting messages.
    h.advance(Duration::from_millis(1_100));
    assert_eq!(ids(&h.handed()), [&stop]);
    h.advance(Duration::from_millis(1_100));
    assert_eq!(ids(&h.handed()), [&sent[1]]);
    // The daily cap (2) is now used up; a second STOP still goes.
    let stop2 = h.send_system("+15559990001", "You are unsubscribed", HOUR, Some("stop"));
    h.advance(Duration::from_millis(1_100));
    assert_eq!(ids(&h.handed()), [&stop2]);
    h.advance(Duration::from_secs(10));
    assert!(h.handed().is_empty());
}

#[test]
fn a_message_handed_over_late_takes_its_place_by_id() {
    let mut h = Harness::new(Default::default());
    let records: Vec<MessageRecord> = (1..=3)
        .map(|n| {
            let mut r = MessageRecord::queued(
                n,
                FROM.into(),
                "+15551110001".into(),
                format!("m{n}"),
                "gsm7",
                1,
                CARRIER.into(),
                HOUR.as_millis() as u64,
            );
            r.expires_at = h.now.wall_ms + HOUR.as_millis() as u64;
            h.store.put_message(&r).expect("write");
            r
        })
        .collect();
    // 1 and 3 are handed over first (2's request is slower), then 2.
    h.machine.handle_command(Command::Accepted(vec![
        records[0].clone(),
        records[2].clone(),
    ]));
    h.step();
    h.machine
        .handle_command(Command::Accepted(vec![records[1].clone()]));
    h.step();
    let mut order = Vec::new();
    for _ in 0..3 {
        let handed = h.handed();
        assert_eq!(handed.len(), 1, "{handed:?}");
        order.push(handed[0].0.clone());
        h.accept(&handed[0].0, &format!("c{}", order.len()));
    }
    let expected: Vec<String> = records.iter().map(|r| r.id.clone()).collect();
    assert_eq!(order, expected);
}

#[test]
fn an_mms_goes_whole_with_its_media_and_ends_with_its_report() {
    let mut h = Harness::new(Default::default());
    // Longer than one SMS segment: an MMS is not split.
    let text = "a diagram of the router's back panel, ".repeat(6);
    let (id, work) = h.send_mms("+15551110001", &text, &["med_a", "med_b"]);
    let work = work.expect("handed to the carrier");
    assert_eq!(work.part, 0);
    match &work.content {
        WorkContent::Mms(mms) => {
            assert_eq!(&*mms.text, text.as_str());
            assert_eq!(&*mms.media, ["med_a".to_owned(), "med_b".to_owned()]);
            assert_eq!(&*mms.to, "+15551110001");
        }
        other => panic!("not an MMS: {other:?}"),
    }
    assert!(h.handed().is_empty(), "one part only");
    h.accept(&id, "mmsc-000001");
    assert_eq!(h.status(&id), MessageStatus::Submitted);
    assert_eq!(
        h.record(&id).segments[0].carrier_id.as_deref(),
        Some("mmsc-000001")
    );
    assert!(h.receipt("mmsc-000001", "DELIVRD"));
    assert_eq!(h.status(&id), MessageStatus::Delivered);
}

#[test]
fn an_mms_refused_for_good_goes_as_an_sms_with_links() {
    let mut h = Harness::new(Default::default());
    h.machine.set_mms_fallback(Some(MmsFallback {
        sms_carriers: std::collections::HashMap::from([(FROM.to_owned(), CARRIER.to_owned())]),
        key: crate::media::UrlKey::derive(b"secret"),
        base: "https://gw.example.net".into(),
        url_ttl: HOUR,
    }));
    let (id, work) = h.send_mms("+15551110001", "Your diagram", &["med_a"]);
    assert!(work.is_some());
    h.fail(&id, StatusClass::Permanent);
    // The same message, as an SMS with a signed link to its medium.
    let handed = h.handed();
    assert_eq!(ids(&handed), [&id]);
    let record = h.record(&id);
    assert_eq!(record.fallback.as_deref(), Some("sms_link"));
    assert!(
        record
            .text
            .starts_with("Your diagram\nhttps://gw.example.net/v1/media/med_a?expires="),
        "{}",
        record.text
    );
    // Handed over again: a second attempt.
    assert_eq!(record.status, MessageStatus::Sending);
    assert_eq!(record.attempts, 2);
    h.accept(&id, "200");
    assert_eq!(h.status(&id), MessageStatus::Submitted);

    // Without a fallback, the refusal fails the MMS.
    h.machine.set_mms_fallback(None);
    let (other, _) = h.send_mms("+15551110002", "x", &["med_b"]);
    h.fail(&other, StatusClass::Permanent);
    assert_eq!(h.status(&other), MessageStatus::Failed);
}

#[test]
fn queued_messages_follow_their_number_to_its_new_carrier() {
    let mut h = Harness::new(Default::default());
    // The number's carrier is down: its messages wait.
    h.bound.store(0, Ordering::Relaxed);
    let first = h.send("+15551110001", "first", HOUR);
    let second = h.send("+15551110001", "second", HOUR);
    let other = h.send("+15551110002", "other", HOUR);
    assert!(h.handed().is_empty());
    // A SIP trunk (text parts) that is up.
    let (trunk_tx, trunk) = async_channel::bounded(64);
    h.machine.routes.insert(
        "trunk".to_owned(),
        CarrierRoute {
            jobs: trunk_tx,
            text_max: Some(800),
            plan: PlanOptions::default(),
            id_mapping: MessageIdMapping::AUTO,
            receipt_wait: Duration::from_secs(3),
            bound: Arc::new(AtomicUsize::new(1)),
        },
    );
    // SIGHUP moves the number.
    h.machine.set_now(h.now);
    h.machine
        .handle_command(Command::ReloadRoutes(std::collections::HashMap::from([(
            FROM.to_owned(),
            "trunk".to_owned(),
        )])));
    h.step();
    let handed: Vec<LinkWork> = std::iter::from_fn(|| trunk.try_recv().ok()).collect();
    let ids: Vec<&str> = handed.iter().map(|w| &*w.message_id).collect();
    // The heads of both conversations, as text for the trunk.
    assert_eq!(ids, [first.as_str(), other.as_str()]);
    assert!(matches!(&handed[0].content, WorkContent::Text(t) if &*t.text == "first"));
    assert_eq!(h.record(&first).carrier, "trunk");
    h.accept(&first, "call-1");
    let next: Vec<LinkWork> = std::iter::from_fn(|| trunk.try_recv().ok()).collect();
    assert_eq!(next.len(), 1);
    assert_eq!(&*next[0].message_id, second.as_str());
    assert!(h.handed().is_empty(), "nothing went to the old carrier");
    // A message accepted later (still written for the old carrier by an
    // API that had not seen the reload) follows too.
    let late = h.send("+15551110003", "late", HOUR);
    let late_work: Vec<LinkWork> = std::iter::from_fn(|| trunk.try_recv().ok()).collect();
    assert_eq!(late_work.len(), 1, "{late}");
}
