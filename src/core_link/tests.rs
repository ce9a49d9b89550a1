//! End-to-end tests of the core link over real loopback HTTP: the event log
//! in a real sled database, the dispatcher, the hyper client, and the
//! [`WebhookReceiver`] standing in for the core.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use hyper::StatusCode;
use serde_json::{Value, json};
use sled::Transactional;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use super::*;
use crate::sim::{ReceivedEvent, ReceiverOptions, WebhookReceiver};

const SECRET: &str = "test-secret";
const WAIT: Duration = Duration::from_secs(10);

fn temp_db() -> (tempfile::TempDir, sled::Db) {
    let dir = tempfile::tempdir().unwrap();
    let db = sled::Config::new()
        .path(dir.path().join("db"))
        .open()
        .unwrap();
    (dir, db)
}

async fn sink() -> WebhookReceiver {
    WebhookReceiver::spawn("127.0.0.1:0".parse().unwrap(), ReceiverOptions::new(SECRET))
        .await
        .unwrap()
}

fn config(sink: &WebhookReceiver, batch_max: usize) -> CoreLinkConfig {
    CoreLinkConfig {
        batch_max,
        request_timeout: Duration::from_secs(2),
        backoff_initial: Duration::from_millis(100),
        backoff_max: Duration::from_millis(400),
        ..CoreLinkConfig::new(sink.url(), SECRET)
    }
}

struct Running {
    stop: oneshot::Sender<()>,
    task: JoinHandle<()>,
}

impl Running {
    async fn stop(self) {
        let _ = self.stop.send(());
        self.task.await.unwrap();
    }
}

fn start(config: &CoreLinkConfig, log: &EventLog) -> Running {
    let (stop, stopped) = oneshot::channel::<()>();
    let mut dispatch = config.dispatch();
    dispatch.poll_interval = Duration::from_millis(50);
    let sink = Arc::new(HttpWebhook::new(&config.webhook()).unwrap());
    let task = CoreLink::spawn(dispatch, log.clone(), sink, Arc::new(NoFsync), async move {
        let _ = stopped.await;
    });
    Running { stop, task }
}

/// A test event: `data.key` is its order key, `data.n` its place in that key.
fn event(key: &str, n: usize) -> NewEvent {
    NewEvent::new(
        EventType::SessionStarted,
        key,
        json!({"id": key, "key": key, "n": n, "customer": "+15557654321"}),
    )
}

fn status(message: &str, status: &str) -> NewEvent {
    NewEvent::new(
        EventType::MessageStatus,
        message,
        json!({"id": message, "status": status, "error": null, "carrier_message_ids": []}),
    )
}

async fn wait_until(mut condition: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + WAIT;
    while !condition() {
        assert!(tokio::time::Instant::now() < deadline, "timed out");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Checks that, taking each event id's first acceptance, every key's events
/// arrived in `n` order, and returns the first-acceptance order of ids.
fn assert_order_per_key(events: &[ReceivedEvent]) -> Vec<String> {
    let mut seen = HashSet::new();
    let mut last: HashMap<String, u64> = HashMap::new();
    let mut order = Vec::new();
    for event in events {
        if !seen.insert(event.id.clone()) {
            continue;
        }
        order.push(event.id.clone());
        let (Some(key), Some(n)) = (event.data["key"].as_str(), event.data["n"].as_u64()) else {
            continue;
        };
        if let Some(previous) = last.insert(key.to_owned(), n) {
            assert!(previous < n, "key {key}: {n} after {previous}");
        }
    }
    order
}

#[tokio::test]
async fn delivers_signed_events_with_stable_ids() {
    let sink = sink().await;
    let (_dir, db) = temp_db();
    let log = EventLog::open(db.open_tree("events").unwrap(), StatusFilter::all()).unwrap();
    let config = config(&sink, 1);
    let running = start(&config, &log);

    let mut appended = Vec::new();
    for n in 0..20 {
        appended.push(
            log.append(event(&format!("s{}", n % 3), n))
                .unwrap()
                .unwrap(),
        );
    }
    appended.push(log.append(status("m1", "delivered")).unwrap().unwrap());
    assert!(sink.wait_for_events(21, WAIT).await);
    wait_until(|| log.count_on_disk() == 0).await;
    assert_eq!(log.backlog(), 0);

    let requests = sink.requests();
    assert_eq!(requests.len(), 21, "one POST per event with batch_max = 1");
    for request in &requests {
        assert_eq!(request.status, 200);
        assert_eq!(request.content_type.as_deref(), Some("application/json"));
        let signature = request.signature.as_deref().unwrap();
        assert!(signature.starts_with("sha256="));
        assert_eq!(signature, sign(SECRET.as_bytes(), &request.body));
        // The single-event form: the event object itself.
        let body: Value = serde_json::from_slice(&request.body).unwrap();
        assert!(body.get("events").is_none());
        assert_eq!(
            body.as_object().unwrap().keys().collect::<Vec<_>>(),
            ["id", "type", "created_at", "data"]
        );
    }
    let events = sink.events();
    let ids: HashSet<&str> = events.iter().map(|e| e.id.as_str()).collect();
    let expected: HashSet<&str> = appended.iter().map(|a| a.id.as_str()).collect();
    assert_eq!(ids, expected);
    assert_order_per_key(&events);
    let delivered = events
        .iter()
        .find(|e| e.event_type == "message.status")
        .unwrap();
    assert_eq!(delivered.data["status"], "delivered");
    assert!(delivered.created_at.ends_with('Z') && delivered.created_at.len() == 24);
    running.stop().await;
}

#[tokio::test]
async fn failed_requests_are_retried_with_identical_bytes() {
    let sink = sink().await;
    sink.fail_next(3, StatusCode::INTERNAL_SERVER_ERROR);
    let (_dir, db) = temp_db();
    let log = EventLog::open(db.open_tree("events").unwrap(), StatusFilter::all()).unwrap();
    for n in 0..6 {
        log.append(event(&format!("k{}", n % 2), n)).unwrap();
    }
    let running = start(&config(&sink, 1), &log);
    assert!(sink.wait_for_events(6, WAIT).await);
    wait_until(|| log.count_on_disk() == 0).await;

    let requests = sink.requests();
    let failed: Vec<_> = requests.iter().filter(|r| r.status == 500).collect();
    assert_eq!(failed.len(), 3);
    for failure in failed {
        let retried = requests
            .iter()
            .find(|r| r.status == 200 && r.body == failure.body)
            .expect("the failed body was later accepted unchanged");
        assert_eq!(retried.signature, failure.signature);
    }
    let events = sink.events();
    assert_eq!(events.len(), 6, "nothing lost, nothing doubled");
    assert_order_per_key(&events);
    running.stop().await;
}

#[tokio::test]
async fn a_refused_key_waits_while_other_keys_proceed() {
    let sink = sink().await;
    // The core refuses the "poison" session's events three times.
    let refusals = Arc::new(AtomicUsize::new(0));
    let counter = refusals.clone();
    sink.set_responder(Some(Arc::new(move |body: &[u8]| {
        let poisoned = body.windows(8).any(|w| w == b"\"poison\"");
        (poisoned && counter.fetch_add(1, Ordering::SeqCst) < 3)
            .then_some(StatusCode::UNPROCESSABLE_ENTITY)
    })));
    let (_dir, db) = temp_db();
    let log = EventLog::open(db.open_tree("events").unwrap(), StatusFilter::all()).unwrap();
    for n in 0..5 {
        log.append(event("poison", n)).unwrap();
        for key in ["a", "b", "c"] {
            log.append(event(key, n)).unwrap();
        }
    }
    let running = start(&config(&sink, 1), &log);
    assert!(sink.wait_for_events(20, WAIT).await);
    assert!(refusals.load(Ordering::SeqCst) >= 3);

    let events = sink.events();
    let order = assert_order_per_key(&events);
    assert_eq!(order.len(), 20);
    // The poison key's first acceptance came after every other event: its
    // backoff (≥ 50 ms, then ≥ 100 ms, …) did not hold the others back.
    let first_poison = events
        .iter()
        .position(|e| e.data["key"] == "poison")
        .unwrap();
    assert_eq!(
        first_poison,
        15,
        "{:?}",
        events
            .iter()
            .map(|e| e.data["key"].clone())
            .collect::<Vec<_>>()
    );
    running.stop().await;
}

#[tokio::test]
async fn core_outage_pauses_the_link_then_everything_arrives_in_order() {
    let sink = sink().await;
    sink.set_available(false);
    let (_dir, db) = temp_db();
    let log = EventLog::open(db.open_tree("events").unwrap(), StatusFilter::all()).unwrap();
    let running = start(&config(&sink, 1), &log);
    for n in 0..40 {
        log.append(event(&format!("s{}", n % 8), n)).unwrap();
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    // Backoff 100 ms doubling to 400 ms, one probe at a time: a handful of
    // attempts in 1.5 s, not 40 events × retries.
    let attempts = sink.refused_connections();
    assert!(
        (1..=20).contains(&attempts),
        "{attempts} attempts during the outage"
    );
    assert_eq!(sink.accepted(), 0);
    assert_eq!(log.backlog(), 40);

    sink.set_available(true);
    assert!(sink.wait_for_events(40, WAIT).await);
    let events = sink.events();
    assert_eq!(assert_order_per_key(&events).len(), 40);
    wait_until(|| log.backlog() == 0).await;
    running.stop().await;
}

#[tokio::test]
async fn slow_answers_time_out_and_are_retried() {
    let sink = sink().await;
    sink.set_delay(Duration::from_millis(600));
    let (_dir, db) = temp_db();
    let log = EventLog::open(db.open_tree("events").unwrap(), StatusFilter::all()).unwrap();
    let config = CoreLinkConfig {
        request_timeout: Duration::from_millis(200),
        ..config(&sink, 1)
    };
    let running = start(&config, &log);
    let id = log.append(event("k", 0)).unwrap().unwrap().id;
    tokio::time::sleep(Duration::from_millis(500)).await;
    sink.set_delay(Duration::ZERO);
    wait_until(|| log.count_on_disk() == 0).await;
    // The core may have processed the timed-out request too: a duplicate
    // with the same id, which is what the id is for.
    let events = sink.events();
    assert!(!events.is_empty());
    assert!(events.iter().all(|e| e.id == id));
    running.stop().await;
}

#[tokio::test]
async fn restart_resends_undelivered_events_with_the_same_bytes() {
    let sink = sink().await;
    sink.set_available(false);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db");
    let config = config(&sink, 1);

    let (ids, stored) = {
        let db = sled::Config::new().path(&path).open().unwrap();
        let log = EventLog::open(db.open_tree("events").unwrap(), StatusFilter::all()).unwrap();
        let running = start(&config, &log);
        let mut ids = Vec::new();
        for n in 0..10 {
            ids.push(
                log.append(event(&format!("s{}", n % 3), n))
                    .unwrap()
                    .unwrap()
                    .id,
            );
        }
        // The core is down until after the "crash".
        tokio::time::sleep(Duration::from_millis(200)).await;
        running.stop().await;
        let mut stored = HashMap::new();
        for item in db.open_tree("events").unwrap().iter() {
            let (_, value) = item.unwrap();
            let json = &value[4 + usize::from(u16::from_be_bytes([value[2], value[3]]))..];
            let parsed: Value = serde_json::from_slice(json).unwrap();
            stored.insert(parsed["id"].as_str().unwrap().to_owned(), json.to_vec());
        }
        db.flush().unwrap();
        (ids, stored)
    };
    assert_eq!(stored.len(), 10);
    assert_eq!(sink.accepted(), 0);

    sink.set_available(true);
    let db = sled::Config::new().path(&path).open().unwrap();
    let log = EventLog::open(db.open_tree("events").unwrap(), StatusFilter::all()).unwrap();
    assert_eq!(log.backlog(), 10);
    let running = start(&config, &log);
    assert!(sink.wait_for_events(10, WAIT).await);
    let events = sink.events();
    assert_eq!(
        events.iter().map(|e| e.id.clone()).collect::<HashSet<_>>(),
        ids.iter().cloned().collect()
    );
    assert_order_per_key(&events);
    for request in sink.requests() {
        let body: Value = serde_json::from_slice(&request.body).unwrap();
        let id = body["id"].as_str().unwrap();
        assert_eq!(
            stored[id],
            request.body.to_vec(),
            "byte-identical after restart"
        );
    }
    // New events continue the sequence with new ids.
    let next = log.append(event("s0", 10)).unwrap().unwrap();
    assert!(!ids.contains(&next.id));
    assert!(sink.wait_for_events(11, WAIT).await);
    wait_until(|| log.count_on_disk() == 0).await;
    running.stop().await;
    drop(log);
    db.flush().unwrap();
    drop(db);

    // Delivered and acknowledged: a second restart sends nothing again.
    let db = sled::Config::new().path(&path).open().unwrap();
    let log = EventLog::open(db.open_tree("events").unwrap(), StatusFilter::all()).unwrap();
    assert_eq!(log.count_on_disk(), 0);
    let running = start(&config, &log);
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(sink.accepted(), 11);
    running.stop().await;
}

#[tokio::test]
async fn batches_carry_an_events_array_signed_over_the_whole_body() {
    let sink = sink().await;
    let (_dir, db) = temp_db();
    let log = EventLog::open(db.open_tree("events").unwrap(), StatusFilter::all()).unwrap();
    for n in 0..25 {
        log.append(event(&format!("s{}", n % 4), n)).unwrap();
    }
    let running = start(&config(&sink, 10), &log);
    assert!(sink.wait_for_events(25, WAIT).await);
    let requests = sink.requests();
    assert!(requests.len() >= 3, "25 events in batches of at most 10");
    for request in &requests {
        assert_eq!(request.status, 200);
        assert!(verify(
            SECRET.as_bytes(),
            &request.body,
            request.signature.as_deref().unwrap()
        ));
        let body: Value = serde_json::from_slice(&request.body).unwrap();
        let batch = body["events"].as_array().unwrap();
        assert!((1..=10).contains(&batch.len()));
        for event in batch {
            assert!(event["id"].as_str().unwrap().starts_with("evt_"));
            assert_eq!(event["type"], "session.started");
        }
        assert_eq!(body.as_object().unwrap().len(), 1);
    }
    // All 25 were waiting, so the first batch is full.
    let first: Value = serde_json::from_slice(&requests[0].body).unwrap();
    assert_eq!(first["events"].as_array().unwrap().len(), 10);
    assert_eq!(assert_order_per_key(&sink.events()).len(), 25);
    running.stop().await;
}

#[tokio::test]
async fn status_events_filter_keeps_unlisted_transitions_out_of_the_log() {
    let sink = sink().await;
    let (_dir, db) = temp_db();
    let config = CoreLinkConfig {
        status_events: Some(vec!["delivered".into(), "failed".into()]),
        ..config(&sink, 1)
    };
    let log = EventLog::open(
        db.open_tree("events").unwrap(),
        config.status_filter().unwrap(),
    )
    .unwrap();
    for s in ["queued", "sending", "submitted", "delivered"] {
        log.append(status("m1", s)).unwrap();
    }
    assert!(log.append(status("m2", "submitted")).unwrap().is_none());
    log.append(status("m2", "failed")).unwrap();
    log.append(event("s1", 0)).unwrap();
    assert_eq!(log.count_on_disk(), 3);
    let running = start(&config, &log);
    assert!(sink.wait_for_events(3, WAIT).await);
    tokio::time::sleep(Duration::from_millis(100)).await;
    let mut got: Vec<String> = sink
        .events()
        .iter()
        .map(|e| {
            format!(
                "{}:{}",
                e.event_type,
                e.data["status"].as_str().unwrap_or("-")
            )
        })
        .collect();
    got.sort();
    assert_eq!(
        got,
        [
            "message.status:delivered",
            "message.status:failed",
            "session.started:-"
        ]
    );
    running.stop().await;
}

#[tokio::test]
async fn events_written_in_a_transaction_with_other_state_are_delivered() {
    let sink = sink().await;
    let (_dir, db) = temp_db();
    let outbox = db.open_tree("outbox").unwrap();
    let events = db.open_tree("events").unwrap();
    let log = EventLog::open(events.clone(), StatusFilter::all()).unwrap();
    let running = start(&config(&sink, 1), &log);

    let prepared = log.prepare(status("m7", "delivered")).unwrap().unwrap();
    let id = prepared.id().to_owned();
    let committed: sled::transaction::TransactionResult<(), ()> =
        (&outbox, &events).transaction(|(outbox, events)| {
            outbox.insert("m7", "delivered")?;
            prepared.write_to_tx(events)?;
            Ok(())
        });
    committed.unwrap();
    prepared.commit();
    let mut batch = sled::Batch::default();
    let second = log.prepare(status("m7", "expired")).unwrap().unwrap();
    second.write_to_batch(&mut batch);
    events.apply_batch(batch).unwrap();
    drop(second);

    assert!(sink.wait_for_events(2, WAIT).await);
    let received = sink.events();
    assert_eq!(received[0].id, id);
    assert_eq!(received[1].data["status"], "expired");
    running.stop().await;
}

#[tokio::test]
async fn a_wrong_secret_is_refused_and_nothing_is_lost() {
    let sink = sink().await;
    let (_dir, db) = temp_db();
    let log = EventLog::open(db.open_tree("events").unwrap(), StatusFilter::all()).unwrap();
    let wrong = CoreLinkConfig {
        webhook_secret: WebhookSecret::from("not-the-secret"),
        ..config(&sink, 1)
    };
    log.append(event("k", 0)).unwrap();
    let running = start(&wrong, &log);
    tokio::time::sleep(Duration::from_millis(600)).await;
    running.stop().await;
    let requests = sink.requests();
    assert!(
        !requests.is_empty() && requests.len() <= 8,
        "{} requests",
        requests.len()
    );
    assert!(requests.iter().all(|r| r.status == 401));
    assert_eq!(log.count_on_disk(), 1);

    let running = start(&config(&sink, 1), &log);
    assert!(sink.wait_for_events(1, WAIT).await);
    running.stop().await;
}

#[tokio::test]
async fn many_keys_with_random_failures_keep_order_and_lose_nothing() {
    let sink = sink().await;
    // Every third request fails: a mix of link-wide (503) and per-event (500).
    let seen = Arc::new(AtomicUsize::new(0));
    let counter = seen.clone();
    sink.set_responder(Some(Arc::new(move |_: &[u8]| {
        match counter.fetch_add(1, Ordering::SeqCst) % 6 {
            2 => Some(StatusCode::SERVICE_UNAVAILABLE),
            5 => Some(StatusCode::INTERNAL_SERVER_ERROR),
            _ => None,
        }
    })));
    let (_dir, db) = temp_db();
    let log = EventLog::open(db.open_tree("events").unwrap(), StatusFilter::all()).unwrap();
    let config = CoreLinkConfig {
        backoff_initial: Duration::from_millis(5),
        backoff_max: Duration::from_millis(20),
        ..config(&sink, 7)
    };
    let running = start(&config, &log);
    let producer = {
        let log = log.clone();
        tokio::spawn(async move {
            for n in 0..600 {
                log.append(event(&format!("s{}", n % 13), n)).unwrap();
                if n % 50 == 0 {
                    tokio::task::yield_now().await;
                }
            }
        })
    };
    producer.await.unwrap();
    wait_until(|| log.count_on_disk() == 0).await;
    let events = sink.events();
    assert_eq!(events.len(), 600, "a 2xx is final, so no duplicates here");
    assert_eq!(assert_order_per_key(&events).len(), 600);
    assert!(sink.requests().iter().any(|r| r.status == 503));
    running.stop().await;
}

#[tokio::test]
async fn config_is_validated() {
    let ok = CoreLinkConfig::new("http://127.0.0.1:8081/events", "s");
    assert!(ok.validate().is_ok());
    let bad = [
        CoreLinkConfig {
            batch_max: 0,
            ..ok.clone()
        },
        CoreLinkConfig {
            max_in_flight: 0,
            ..ok.clone()
        },
        CoreLinkConfig {
            request_timeout: Duration::ZERO,
            ..ok.clone()
        },
        CoreLinkConfig {
            backoff_initial: Duration::from_secs(120),
            ..ok.clone()
        },
        CoreLinkConfig {
            status_events: Some(vec!["sent".into()]),
            ..ok.clone()
        },
        CoreLinkConfig {
            tls_ca_file: Some("/nonexistent/ca.pem".into()),
            ..CoreLinkConfig::new("https://core.example/events", "s")
        },
        CoreLinkConfig::new("core.example/events", "s"),
    ];
    for config in bad {
        assert!(config.validate().is_err(), "{config:?}");
    }
    assert!(
        CoreLinkConfig::new("https://core.example/events", "s")
            .validate()
            .is_ok()
    );
    assert!(!format!("{ok:?}").contains("\"s\""));
    let d = ok.dispatch();
    assert_eq!((d.batch_max, d.max_in_flight), (1, 4));
    assert!(!ok.webhook().batched);
    assert!(
        CoreLinkConfig {
            batch_max: 100,
            ..ok
        }
        .webhook()
        .batched
    );
}

/// A durability point the test opens and breaks at will.
#[derive(Default)]
struct Gate {
    open: std::sync::atomic::AtomicBool,
    failures_left: AtomicUsize,
    calls: AtomicUsize,
    opened: tokio::sync::Notify,
}

impl Durability for Gate {
    fn sync(&self) -> BoxFuture<'_, std::io::Result<()>> {
        Box::pin(async move {
            self.calls.fetch_add(1, Ordering::SeqCst);
            loop {
                let opened = self.opened.notified();
                if self.open.load(Ordering::SeqCst) {
                    break;
                }
                opened.await;
            }
            let failing = self
                .failures_left
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                .is_ok();
            if failing {
                Err(std::io::Error::other("disk on fire"))
            } else {
                Ok(())
            }
        })
    }
}

#[tokio::test]
async fn events_leave_only_after_a_sync_covering_them() {
    let sink = sink().await;
    let (_dir, db) = temp_db();
    let log = EventLog::open(db.open_tree("events").unwrap(), StatusFilter::all()).unwrap();
    let gate = Arc::new(Gate {
        failures_left: AtomicUsize::new(1),
        ..Gate::default()
    });
    let config = config(&sink, 1);
    let (stop, stopped) = oneshot::channel::<()>();
    let webhook = Arc::new(HttpWebhook::new(&config.webhook()).unwrap());
    let task = CoreLink::spawn(
        config.dispatch(),
        log.clone(),
        webhook,
        gate.clone(),
        async move {
            let _ = stopped.await;
        },
    );
    for n in 0..3 {
        log.append(event("k", n)).unwrap();
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(gate.calls.load(Ordering::SeqCst) >= 1);
    assert_eq!(
        sink.requests_seen(),
        0,
        "nothing is sent before it is durable"
    );

    // The first sync fails: the events wait (about a second) for another.
    gate.open.store(true, Ordering::SeqCst);
    gate.opened.notify_waiters();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(sink.requests_seen(), 0, "a failed sync does not count");
    assert!(sink.wait_for_events(3, WAIT).await);
    assert!(gate.calls.load(Ordering::SeqCst) >= 2);
    assert_order_per_key(&sink.events());
    let _ = stop.send(());
    task.await.unwrap();
}

#[tokio::test]
async fn an_event_written_after_its_handle_was_dropped_is_still_delivered() {
    let sink = sink().await;
    let (_dir, db) = temp_db();
    let tree = db.open_tree("events").unwrap();
    let log = EventLog::open(tree.clone(), StatusFilter::all()).unwrap();
    let running = start(&config(&sink, 1), &log);

    // Misuse: the handle is dropped before the batch is applied.
    let mut batch = sled::Batch::default();
    let early = log.prepare(event("k", 0)).unwrap().unwrap();
    let early_id = early.id().to_owned();
    early.write_to_batch(&mut batch);
    drop(early);
    log.append(event("other", 0)).unwrap();
    assert!(sink.wait_for_events(1, WAIT).await);
    tree.apply_batch(batch).unwrap();
    // Found by the periodic gap check (every 30 polls of 50 ms here).
    assert!(sink.wait_for_events(2, WAIT).await);
    assert_eq!(sink.events()[1].id, early_id);
    wait_until(|| log.count_on_disk() == 0).await;
    running.stop().await;
}

/// A TLS front for `upstream` with a self-signed certificate for
/// `localhost`; returns its port and the certificate's PEM (the CA file).
async fn tls_front(upstream: std::net::SocketAddr) -> (u16, String) {
    use tokio_rustls::rustls::ServerConfig;
    use tokio_rustls::rustls::pki_types::pem::PemObject;
    use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};

    let certified = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let cert_pem = certified.cert.pem();
    let certs = vec![CertificateDer::from_pem_slice(cert_pem.as_bytes()).unwrap()];
    let key = PrivateKeyDer::from_pem_slice(certified.key_pair.serialize_pem().as_bytes()).unwrap();
    let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
    let config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let Ok(mut plain) = tokio::net::TcpStream::connect(upstream).await else {
                    return;
                };
                let _ = tokio::io::copy_bidirectional(&mut tls, &mut plain).await;
            });
        }
    });
    (port, cert_pem)
}

/// `https://` webhooks: verified against `tls_ca_file`, signed as over
/// http; without the CA the core's certificate is refused and nothing is
/// sent in clear.
#[tokio::test]
async fn https_webhooks_verify_the_core_against_the_ca_file() {
    let sink = sink().await;
    let (port, ca_pem) = tls_front(sink.addr()).await;
    let (dir, db) = temp_db();
    let ca_file = dir.path().join("core-ca.pem");
    std::fs::write(&ca_file, ca_pem).unwrap();
    let https = format!("https://localhost:{port}/events");

    // The system's roots do not know the test CA: refused, retried.
    let log = EventLog::open(db.open_tree("untrusted").unwrap(), StatusFilter::all()).unwrap();
    let untrusted = CoreLinkConfig {
        webhook_url: https.clone(),
        ..config(&sink, 1)
    };
    let running = start(&untrusted, &log);
    log.append(event("k", 0)).unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(sink.accepted(), 0);
    assert_eq!(log.count_on_disk(), 1);
    running.stop().await;

    let log = EventLog::open(db.open_tree("trusted").unwrap(), StatusFilter::all()).unwrap();
    let trusted = CoreLinkConfig {
        webhook_url: https,
        tls_ca_file: Some(ca_file),
        ..config(&sink, 10)
    };
    let running = start(&trusted, &log);
    for n in 0..5 {
        log.append(event("k", n)).unwrap();
    }
    wait_until(|| log.count_on_disk() == 0).await;
    assert_eq!(sink.accepted(), 5);
    assert_order_per_key(&sink.events());
    running.stop().await;
}

/// A poison event (the core refuses it every time, and accepts the rest)
/// is parked after `max_attempts` refusals: the events after it in its key
/// go on, in order, and other keys never stop. Re-queued once the core is
/// fixed, it is delivered with the same id. A core that refuses everything
/// parks nothing.
#[tokio::test]
async fn a_poison_event_is_parked_and_can_be_requeued() {
    let sink = sink().await;
    let fixed = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let is_fixed = fixed.clone();
    sink.set_responder(Some(Arc::new(move |body: &[u8]| {
        let poisoned = body
            .windows(9)
            .any(|w| w == b"\"n\":1000," || w == b"\"n\":1000}");
        (poisoned && !is_fixed.load(Ordering::SeqCst)).then_some(StatusCode::UNPROCESSABLE_ENTITY)
    })));
    let (_dir, db) = temp_db();
    let log = EventLog::open(db.open_tree("events").unwrap(), StatusFilter::all())
        .unwrap()
        .with_dead_letters(db.open_tree("dead_events").unwrap());
    let dead = DeadLetters::new(log.clone());
    let mut dispatch = CoreLinkConfig {
        backoff_initial: Duration::from_millis(10),
        backoff_max: Duration::from_millis(40),
        ..config(&sink, 10)
    }
    .dispatch();
    dispatch.poll_interval = Duration::from_millis(20);
    dispatch.max_attempts = 3;
    let (stop, stopped) = oneshot::channel::<()>();
    let task = CoreLink::spawn(
        dispatch,
        log.clone(),
        Arc::new(HttpWebhook::new(&config(&sink, 10).webhook()).unwrap()),
        Arc::new(NoFsync),
        async move {
            let _ = stopped.await;
        },
    );

    // The poison is the first event of key "p"; "p" has four more after it,
    // and other keys keep producing while it is refused.
    let poison = log.append(event("p", 1000)).unwrap().unwrap();
    for n in 0..4 {
        log.append(event("p", n)).unwrap();
    }
    for round in 0..20 {
        log.append(event(&format!("k{}", round % 4), round))
            .unwrap();
        tokio::time::sleep(Duration::from_millis(15)).await;
    }
    wait_until(|| log.count_on_disk() == 0).await;
    let parked = dead.list(10).unwrap();
    assert_eq!(parked.len(), 1, "{parked:?}, {} parked", dead.count());
    assert_eq!(parked[0].id, poison.id);
    assert_eq!(parked[0].order_key, "p");
    assert_eq!(parked[0].attempts, 3);
    assert!(parked[0].error.contains("422"), "{}", parked[0].error);
    // Everything else arrived, in order per key, the poison's key included.
    let received = sink.events();
    assert_order_per_key(&received);
    assert_eq!(received.iter().filter(|e| e.data["key"] == "p").count(), 4);

    // The core is fixed: the requeued event arrives, same id.
    fixed.store(true, Ordering::SeqCst);
    assert!(!dead.requeue("evt_unknown").unwrap());
    assert!(dead.requeue(&poison.id).unwrap());
    assert_eq!(dead.count(), 0);
    wait_until(|| sink.events().iter().any(|e| e.id == poison.id)).await;
    let _ = stop.send(());
    task.await.unwrap();
}

#[tokio::test]
async fn a_core_that_refuses_everything_parks_nothing() {
    let sink = sink().await;
    sink.set_responder(Some(Arc::new(|_: &[u8]| {
        Some(StatusCode::UNPROCESSABLE_ENTITY)
    })));
    let (_dir, db) = temp_db();
    let log = EventLog::open(db.open_tree("events").unwrap(), StatusFilter::all())
        .unwrap()
        .with_dead_letters(db.open_tree("dead_events").unwrap());
    let mut dispatch = CoreLinkConfig {
        backoff_initial: Duration::from_millis(5),
        backoff_max: Duration::from_millis(10),
        ..config(&sink, 10)
    }
    .dispatch();
    dispatch.poll_interval = Duration::from_millis(20);
    dispatch.max_attempts = 2;
    let (stop, stopped) = oneshot::channel::<()>();
    let task = CoreLink::spawn(
        dispatch,
        log.clone(),
        Arc::new(HttpWebhook::new(&config(&sink, 10).webhook()).unwrap()),
        Arc::new(NoFsync),
        async move {
            let _ = stopped.await;
        },
    );
    for n in 0..5 {
        log.append(event(&format!("k{n}"), n)).unwrap();
    }
    wait_until(|| sink.requests_seen() >= 20).await;
    assert_eq!(DeadLetters::new(log.clone()).count(), 0);
    assert_eq!(log.count_on_disk(), 5);
    let _ = stop.send(());
    task.await.unwrap();
}
