//! Dead letters against the real daemon: the core refuses every event of
//! one message and accepts the rest. That message's events are parked after
//! `[core] max_attempts` refusals, the other messages' events keep flowing,
//! `carrier-gateway events dead` lists what was parked, and `events
//! requeue` sends it again once the core accepts it.

mod common;

use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use carrier_gateway::sim::{ReceiverOptions, WebhookReceiver};
use common::*;
use hyper::StatusCode;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_event_is_parked_listed_and_requeued() {
    let dir = tempfile::tempdir().expect("temp dir");
    let sim = start_sim(dir.path(), &[]);
    let core = WebhookReceiver::spawn(
        "127.0.0.1:0".parse().expect("addr"),
        ReceiverOptions::new(SECRET),
    )
    .await
    .expect("receiver");
    let (config, api) = write_config(dir.path(), sim.addr, core.addr(), "");
    let text = std::fs::read_to_string(&config).expect("config");
    std::fs::write(
        &config,
        text.replace("batch_max = 100", "batch_max = 100\nmax_attempts = 2"),
    )
    .expect("config");
    let _gateway = Gateway::start(&config, &api);

    let poison = send_one(&api, FROM, "+15550009999", "refused by the core").await;
    let fixed = Arc::new(AtomicBool::new(false));
    let (is_fixed, poison_id) = (fixed.clone(), poison.clone());
    core.set_responder(Some(Arc::new(move |body: &[u8]| {
        let refused = !is_fixed.load(Ordering::SeqCst)
            && std::str::from_utf8(body).is_ok_and(|b| b.contains(&poison_id));
        refused.then_some(StatusCode::UNPROCESSABLE_ENTITY)
    })));
    // Other traffic keeps flowing while the poison is refused.
    let mut others = Vec::new();
    for i in 0..15 {
        others.push(send_one(&api, FROM, &format!("+1555000{i:04}"), "fine").await);
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    wait_for_status(&api, &others, "delivered", Duration::from_secs(30)).await;
    wait_until(
        Duration::from_secs(30),
        "the others' delivered events",
        || {
            let events = core.events();
            others.iter().all(|id| {
                events
                    .iter()
                    .any(|e| e.data["id"] == id.as_str() && e.data["status"] == "delivered")
            })
        },
    )
    .await;

    // Parked: listed by the CLI, in its JSON and its table.
    let mut listed = serde_json::Value::Null;
    for _ in 0..100 {
        let out = Command::new(BIN)
            .args(["events", "dead", "--json", "--config"])
            .arg(&config)
            .output()
            .expect("events dead");
        assert!(out.status.success(), "{out:?}");
        listed = serde_json::from_slice(&out.stdout).expect("JSON");
        if listed["count"].as_u64().unwrap_or(0) >= 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let letters = listed["dead_letters"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(!letters.is_empty(), "{listed}");
    for letter in &letters {
        assert_eq!(letter["order_key"], poison.as_str(), "{letter}");
        assert_eq!(letter["attempts"], 2, "{letter}");
        assert!(letter["error"].as_str().is_some_and(|e| e.contains("422")));
    }
    let table = Command::new(BIN)
        .args(["events", "dead", "--config"])
        .arg(&config)
        .output()
        .expect("events dead");
    let table = String::from_utf8_lossy(&table.stdout);
    let first = letters[0]["id"].as_str().expect("id").to_owned();
    assert!(table.contains(&first), "{table}");

    // Fixed: re-queued through the CLI, delivered with the same id.
    fixed.store(true, Ordering::SeqCst);
    let requeued = Command::new(BIN)
        .args(["events", "requeue", "--config"])
        .arg(&config)
        .arg(&first)
        .output()
        .expect("events requeue");
    assert!(requeued.status.success(), "{requeued:?}");
    wait_until(Duration::from_secs(20), "the requeued event", || {
        core.events().iter().any(|e| e.id == first)
    })
    .await;
    let again = Command::new(BIN)
        .args(["events", "requeue", "--config"])
        .arg(&config)
        .arg(&first)
        .output()
        .expect("events requeue");
    assert_eq!(again.status.code(), Some(2), "{again:?}");
}
