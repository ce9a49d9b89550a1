//! The inbound path end to end: the simulator's MO messages (a separate
//! process) reach a real HTTP receiver that checks every signature, as
//! `message.received` with every field of the contract, through core
//! outages and `kill -9` of the gateway, with nothing lost and duplicates
//! carrying the same event id.

mod common;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use common::*;
use serde_json::{Value, json};

const CUSTOMER: &str = "+15557654321";
const OTHER: &str = "+15557650000";

/// A core that checks signatures and can be switched off (503).
#[derive(Clone)]
struct Core {
    addr: SocketAddr,
    events: Events,
    up: Arc<AtomicBool>,
}

impl Core {
    fn received(&self) -> Vec<Value> {
        self.events
            .all()
            .into_iter()
            .filter(|e| e["type"] == "message.received")
            .collect()
    }
}

async fn start_core(up: bool) -> Core {
    use axum::body::Bytes;
    use axum::http::{HeaderMap, StatusCode};
    use axum::routing::post;

    let events = Events::default();
    let up = Arc::new(AtomicBool::new(up));
    let (recorded, is_up) = (events.clone(), up.clone());
    let app = axum::Router::new().route(
        "/events",
        post(move |headers: HeaderMap, body: Bytes| {
            let (recorded, is_up) = (recorded.clone(), is_up.clone());
            async move {
                if !is_up.load(Ordering::SeqCst) {
                    return StatusCode::SERVICE_UNAVAILABLE;
                }
                let signature = headers
                    .get("x-gateway-signature")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default()
                    .to_owned();
                assert!(
                    carrier_gateway::core_link::verify(SECRET.as_bytes(), &body, &signature),
                    "every event is signed"
                );
                let value: Value = serde_json::from_slice(&body).expect("JSON body");
                let mut list = recorded.0.lock().expect("lock");
                match value.get("events").and_then(Value::as_array) {
                    Some(batch) => list.extend(batch.iter().cloned()),
                    None => list.push(value),
                }
                StatusCode::OK
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind the core");
    let addr = listener.local_addr().expect("core address");
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Core { addr, events, up }
}

/// A line of business for [`FROM`], so `message.received` has a line and a
/// language.
const LINE: &str = r#"line = "support"

[[lines]]
name = "support"
language = "en"
consent_message = "Acme: msgs about your requests. Reply STOP to opt out, HELP for help."
help_message = "Acme: help at acme.example. Reply STOP to opt out."
stop_message = "You are unsubscribed from Acme. Reply START to resubscribe."
start_message = "You are subscribed to Acme again. Reply STOP to opt out."
"#;

fn write_mo_file(dir: &Path, entries: &[Value]) -> String {
    let path = dir.join("mo.jsonl");
    let text: String = entries.iter().map(|e| format!("{e}\n")).collect();
    std::fs::write(&path, text).expect("write the MO file");
    path.display().to_string()
}

fn mo(from: &str, text: &str) -> Value {
    json!({"from": from, "to": FROM, "text": text})
}

async fn received_count(config: &Path) -> f64 {
    metric_sum(
        &metrics_text(config).await,
        "carrier_gateway_messages_received_total",
        &[],
    )
}

/// Texts of `message.received` per customer, in arrival order, keeping the
/// first copy of each event id.
fn texts_by_customer(events: &[Value]) -> HashMap<String, Vec<String>> {
    let mut seen = std::collections::HashSet::new();
    let mut by = HashMap::<String, Vec<String>>::new();
    for e in events {
        if seen.insert(e["id"].as_str().unwrap_or_default().to_owned()) {
            by.entry(e["data"]["from"].as_str().unwrap_or_default().to_owned())
                .or_default()
                .push(e["data"]["text"].as_str().unwrap_or_default().to_owned());
        }
    }
    by
}

#[tokio::test]
async fn mo_reaches_the_core_with_every_field_in_every_script() {
    let dir = tempfile::tempdir().expect("tempdir");
    let long_emoji = format!(
        "Hello 😀 {} — the router still blinks red 🚨 after the reset.",
        "my order number is 12345 and ".repeat(4)
    );
    let texts = [
        "Price: 5€ [promo] {x} ~ ^ \\ |".to_owned(),
        long_emoji.clone(),
        "Merhaba, şikayetim var: ğüşıöç İĞ".to_owned(),
        "नमस्ते, मेरा ऑर्डर कहाँ है?".to_owned(),
        "你好，我的订单在哪里？".to_owned(),
    ];
    let entries: Vec<Value> = texts.iter().map(|t| mo(CUSTOMER, t)).collect();
    let mo_file = write_mo_file(dir.path(), &entries);
    let sim = start_sim(dir.path(), &["--mo-file", &mo_file]);
    let core = start_core(true).await;
    let (config, api) = write_config(dir.path(), sim.addr, core.addr, LINE);
    let _gateway = Gateway::start(&config, &api);

    wait_until(Duration::from_secs(30), "every MO reaches the core", || {
        core.received().len() >= texts.len()
    })
    .await;
    let received = core.received();
    assert_eq!(received.len(), texts.len(), "{received:#?}");
    for (event, text) in received.iter().zip(&texts) {
        assert!(
            event["id"]
                .as_str()
                .is_some_and(|id| id.starts_with("evt_"))
        );
        assert!(event["created_at"].as_str().is_some());
        let data = &event["data"];
        assert_eq!(data["text"], text.as_str(), "{data}");
        assert!(data["id"].as_str().is_some_and(|id| id.starts_with("msg_")));
        assert_eq!(data["from"], CUSTOMER);
        assert_eq!(data["to"], FROM);
        assert_eq!(data["carrier"], "acme");
        assert_eq!(data["media"], json!([]));
        assert_eq!(data["language"], "en");
        assert_eq!(data["keyword"], Value::Null);
        assert_eq!(data["call_id"], Value::Null);
        assert_eq!(data["incomplete"], false);
        assert!(
            data["received_at"]
                .as_str()
                .is_some_and(|t| t.ends_with('Z') && t.contains('T'))
        );
        let session = &data["session"];
        for key in ["id", "line", "queue", "new"] {
            assert!(session.get(key).is_some(), "session.{key} in {data}");
        }
        assert_eq!(session["line"], "support");
    }
    let gsm = &received[0]["data"];
    assert_eq!(
        (gsm["encoding"].as_str(), gsm["segments"].as_u64()),
        (Some("gsm7"), Some(1))
    );
    let emoji = &received[1]["data"];
    assert_eq!(emoji["encoding"], "ucs2");
    assert_eq!(
        emoji["segments"],
        3,
        "a 3-part UCS-2 text: {}",
        long_emoji.chars().count()
    );
    for event in &received[2..] {
        assert_eq!(event["data"]["encoding"], "ucs2");
    }
}

#[tokio::test]
async fn a_dead_core_holds_back_no_acknowledgement_and_order_holds_when_it_returns() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut entries = Vec::new();
    for i in 0..20 {
        let from = if i % 2 == 0 { CUSTOMER } else { OTHER };
        entries.push(mo(from, &format!("message {i:02} from {from}")));
    }
    let mo_file = write_mo_file(dir.path(), &entries);
    let sim = start_sim(dir.path(), &["--mo-file", &mo_file]);
    let core = start_core(false).await;
    let (config, api) = write_config(dir.path(), sim.addr, core.addr, LINE);
    let _gateway = Gateway::start(&config, &api);

    // Every message is stored (and so acknowledged) while the core is down.
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while received_count(&config).await < 20.0 {
        assert!(
            std::time::Instant::now() < deadline,
            "MO stored while the core is down"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(core.received().is_empty());
    core.up.store(true, Ordering::SeqCst);
    wait_until(
        Duration::from_secs(60),
        "the backlog reaches the core",
        || {
            texts_by_customer(&core.received())
                .values()
                .map(Vec::len)
                .sum::<usize>()
                >= 20
        },
    )
    .await;
    let by = texts_by_customer(&core.received());
    for (customer, texts) in by {
        let mut sorted = texts.clone();
        sorted.sort();
        assert_eq!(texts, sorted, "in order for {customer}");
        assert_eq!(texts.len(), 10);
    }
    // Acknowledged by the core: the inbox is empty again.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let depth = metric_sum(
            &metrics_text(&config).await,
            "carrier_gateway_inbox_depth",
            &[],
        );
        if depth == 0.0 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "inbox retired, depth {depth}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Every text the script sent arrived; copies of one message share their
/// event id.
fn assert_each_once_by_event_id(events: &[Value], texts: &[String]) {
    let mut ids_by_text = HashMap::<String, std::collections::HashSet<String>>::new();
    for e in events {
        ids_by_text
            .entry(e["data"]["text"].as_str().unwrap_or_default().to_owned())
            .or_default()
            .insert(e["id"].as_str().unwrap_or_default().to_owned());
    }
    for text in texts {
        let ids = ids_by_text
            .get(text)
            .unwrap_or_else(|| panic!("{text:?} lost"));
        assert_eq!(
            ids.len(),
            1,
            "{text:?} arrived as different events: {ids:?}"
        );
    }
    assert_eq!(ids_by_text.len(), texts.len(), "no text that was not sent");
}

#[tokio::test]
async fn kill9_between_receipt_and_webhook_loses_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let texts: Vec<String> = (0..50)
        .map(|i| format!("before the crash {i:02}"))
        .collect();
    let entries: Vec<Value> = texts.iter().map(|t| mo(CUSTOMER, t)).collect();
    let mo_file = write_mo_file(dir.path(), &entries);
    let sim = start_sim(dir.path(), &["--mo-file", &mo_file]);
    let core = start_core(false).await;
    let (config, api) = write_config(dir.path(), sim.addr, core.addr, LINE);
    let mut gateway = Gateway::start(&config, &api);

    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while received_count(&config).await < 50.0 {
        assert!(std::time::Instant::now() < deadline, "MO stored");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    gateway.kill9();
    core.up.store(true, Ordering::SeqCst);
    gateway.restart();
    wait_until(
        Duration::from_secs(60),
        "every MO after the restart",
        || {
            texts_by_customer(&core.received())
                .values()
                .map(Vec::len)
                .sum::<usize>()
                >= 50
        },
    )
    .await;
    // Let resends and retries settle, then check.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let received = core.received();
    assert_each_once_by_event_id(&received, &texts);
    let by = texts_by_customer(&received);
    assert_eq!(by[CUSTOMER], texts, "in order");
}

#[tokio::test]
async fn kill9_between_two_parts_of_a_long_mo_loses_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let text = "Part of a long message that the customer typed about a broken router. ".repeat(6);
    let mut entry = mo(CUSTOMER, &text);
    entry["part_delay_ms"] = json!(4000);
    let mo_file = write_mo_file(dir.path(), &[entry]);
    let sim = start_sim(dir.path(), &["--mo-file", &mo_file]);
    let core = start_core(true).await;
    let (config, api) = write_config(dir.path(), sim.addr, core.addr, LINE);
    let mut gateway = Gateway::start(&config, &api);

    // The first part is stored; the others are 4 s apart.
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let pending = metric_sum(
            &metrics_text(&config).await,
            "carrier_gateway_inbound_parts_pending",
            &[],
        );
        if pending >= 1.0 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the first part arrives"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    gateway.kill9();
    gateway.restart();
    wait_until(Duration::from_secs(60), "the whole message", || {
        !core.received().is_empty()
    })
    .await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let received = core.received();
    assert_each_once_by_event_id(&received, std::slice::from_ref(&text));
    let data = &received[0]["data"];
    assert_eq!(data["incomplete"], false);
    assert!(data["segments"].as_u64().is_some_and(|n| n >= 3), "{data}");
}
