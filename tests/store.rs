//! `[store]` end to end: retention removes final records (and their
//! `client_ref` keys) under steady traffic, and `max_outbox` bounds what is
//! queued or sending, not what waits for receipts.

mod common;

use std::time::{Duration, Instant};

use common::*;
use serde_json::json;

async fn status_code(api: &str, id: &str) -> u16 {
    client()
        .get(format!("{api}/v1/messages/{id}"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .expect("GET")
        .status()
        .as_u16()
}

/// Several retention windows' worth of messages with a 2 s retention:
/// every message ends final, and those older than the window are gone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retention_removes_final_records_under_steady_traffic() {
    let dir = tempfile::tempdir().expect("temp dir");
    let sim = start_sim(dir.path(), &[]);
    let (sink, _events) = start_sink().await;
    let (config, api) = write_config(dir.path(), sim.addr, sink, "[store]\nretention = \"2s\"\n");
    let _gateway = Gateway::start(&config, &api);
    let client = client();
    let mut rounds = Vec::new();
    let started = Instant::now();
    // Eight rounds over about 8 s: four retention windows.
    for round in 0..8 {
        let messages: Vec<_> = (0..200)
            .map(|i| json!({"from": FROM, "to": "+15557654321", "text": format!("r{round} m{i}"), "client_ref": format!("r{round}-{i}")}))
            .collect();
        let ids = post_batch(&client, &api, messages).await;
        wait_for_status(
            &api,
            &ids[ids.len() - 1..],
            "delivered",
            Duration::from_secs(10),
        )
        .await;
        rounds.push(ids);
        tokio::time::sleep(Duration::from_millis(1000)).await;
    }
    // Let the last window pass, and a pass or two run.
    tokio::time::sleep(Duration::from_millis(4500)).await;
    for ids in &rounds {
        for id in ids.iter().step_by(50) {
            assert_eq!(
                status_code(&api, id).await,
                404,
                "{id} kept past its retention"
            );
        }
    }
    let body = metrics_text(&config).await;
    let removed = metric_sum(&body, "carrier_gateway_retention_removed_total", &[]);
    assert_eq!(removed, 1600.0, "every record removed once\n{body}");
    let delivered = metric_sum(
        &body,
        "carrier_gateway_messages_total",
        &["status=\"delivered\""],
    );
    assert_eq!(delivered, 1600.0, "every message final");
    // Their client_ref keys went with them: the same key is new again.
    let again = post_message(
        &api,
        json!({"from": FROM, "to": "+15557654321", "text": "a new message", "client_ref": "r0-0"}),
    )
    .await;
    assert_eq!(again["status"], "queued", "{again}");
    assert_ne!(again["id"], rounds[0][0].as_str(), "not the removed record");
    eprintln!("soak: {:?} for 1,600 messages", started.elapsed());
}

/// `max_outbox` counts queued and sending messages: a carrier that sends
/// no receipts does not fill it, a carrier that is down does.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn max_outbox_counts_what_is_queued_not_what_waits_for_receipts() {
    let dir = tempfile::tempdir().expect("temp dir");
    let sim = start_sim(dir.path(), &["--no-receipts"]);
    let (sink, _events) = start_sink().await;
    let (config, api) = write_config(dir.path(), sim.addr, sink, "[store]\nmax_outbox = 5\n");
    let mut gateway = Gateway::start(&config, &api);
    let mut ids = Vec::new();
    for i in 0..12 {
        ids.push(send_one(&api, FROM, "+15557654321", &format!("no receipt {i}")).await);
        wait_for_status(
            &api,
            &ids[ids.len() - 1..],
            "submitted",
            Duration::from_secs(10),
        )
        .await;
    }
    assert_eq!(ids.len(), 12, "submitted messages leave room");

    // The carrier goes away: what cannot be sent fills the outbox.
    drop(sim);
    gateway.kill9();
    gateway.restart();
    let mut codes = Vec::new();
    for i in 0..7 {
        let response = client()
            .post(format!("{api}/v1/messages"))
            .bearer_auth(TOKEN)
            .json(&json!({"from": FROM, "to": "+15557654321", "text": format!("queued {i}")}))
            .send()
            .await
            .expect("POST");
        codes.push(response.status().as_u16());
        if response.status().as_u16() == 503 {
            assert!(response.headers().contains_key("retry-after"));
            let body: serde_json::Value = response.json().await.expect("json");
            assert_eq!(body["error"]["code"], "outbox_full");
        }
    }
    assert_eq!(codes, [202, 202, 202, 202, 202, 503, 503], "{codes:?}");
}
