//! Delivery receipts end to end: receipts that overtake their submit
//! response, receipts for ids the gateway never sent, and multi-part
//! messages whose segments are receipted separately (issue 5).

mod common;

use std::time::Duration;

use common::*;
use serde_json::Value;

/// A text that needs three GSM segments (153 characters each with UDH).
fn three_parts(tag: &str) -> String {
    format!("{tag} {}", "x".repeat(153 * 2 + 20))
}

fn status_events(events: &Events, id: &str) -> Vec<String> {
    events
        .all()
        .iter()
        .filter(|e| e["type"] == "message.status" && e["data"]["id"] == id)
        .filter_map(|e| e["data"]["status"].as_str().map(str::to_owned))
        .collect()
}

/// Shortens the carrier's response timeout (a receipt waits twice that for
/// the response it may have overtaken).
fn short_response_timeout(config: &std::path::Path) {
    let text = std::fs::read_to_string(config).expect("config");
    let text = text.replace("window = 64\n", "window = 64\nresponse_timeout = \"1s\"\n");
    std::fs::write(config, text).expect("rewrite the config");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn receipts_that_overtake_their_response_still_deliver() {
    let dir = tempfile::tempdir().expect("temp dir");
    let sim = start_sim(dir.path(), &["--receipt-first"]);
    let (sink, events) = start_sink().await;
    let (config, api) = write_config(dir.path(), sim.addr, sink, "");
    let _gateway = Gateway::start(&config, &api);

    let mut ids = send_batches(&api, 50, 25, "early").await;
    ids.push(send_one(&api, FROM, "+16660000001", &three_parts("long")).await);
    wait_for_status(&api, &ids, "delivered", Duration::from_secs(30)).await;
    let long = get_message(&api, ids.last().expect("long")).await;
    assert_eq!(long["segments"], 3);
    assert_eq!(
        long["carrier_message_ids"]
            .as_array()
            .map(Vec::len)
            .unwrap_or(0),
        3
    );
    let body = metrics_text(&config).await;
    assert_eq!(
        metric_sum(&body, "carrier_gateway_receipts_unmatched_total", &[]),
        0.0,
        "every early receipt found its segment"
    );
    // Exactly one delivered event per message.
    for id in &ids[..5] {
        let delivered = status_events(&events, id)
            .iter()
            .filter(|s| *s == "delivered")
            .count();
        assert!(delivered <= 1, "{id}: {delivered} delivered events");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_receipt_for_an_unknown_id_is_acknowledged_counted_and_harmless() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mo = dir.path().join("mo.jsonl");
    std::fs::write(
        &mo,
        "{\"receipt_for\": \"feedface01\", \"stat\": \"DELIVRD\", \"delay_ms\": 200}\n",
    )
    .expect("write the MO file");
    let mo_arg = mo.display().to_string();
    let sim = start_sim(dir.path(), &["--mo-file", &mo_arg]);
    let (sink, _events) = start_sink().await;
    let (config, api) = write_config(dir.path(), sim.addr, sink, "");
    short_response_timeout(&config);
    let _gateway = Gateway::start(&config, &api);

    // It waits 3 s (2 × response_timeout + 1 s) for a response with its
    // id, then is counted.
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let body = metrics_text(&config).await;
        let unmatched = metric_sum(
            &body,
            "carrier_gateway_receipts_unmatched_total",
            &["carrier=\"acme\""],
        );
        if unmatched == 1.0 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the unmatched receipt was not counted: {unmatched}"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    // Sending goes on as before.
    let id = send_one(&api, FROM, "+16660000002", "after the stray receipt").await;
    wait_for_status(&api, &[id], "delivered", Duration::from_secs(10)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_multipart_message_is_delivered_when_every_part_is_and_failed_when_one_fails() {
    let dir = tempfile::tempdir().expect("temp dir");
    // The 3rd, 6th, … accepted submit gets an UNDELIV receipt.
    let sim = start_sim(dir.path(), &["--fail-every", "3", "--dlr-delay", "50"]);
    let (sink, events) = start_sink().await;
    let (config, api) = write_config(dir.path(), sim.addr, sink, "");
    let _gateway = Gateway::start(&config, &api);

    // Submits 1–3: the third part fails, so the message fails, even though
    // two parts were delivered.
    let failing = send_one(&api, FROM, "+16660000003", &three_parts("fails")).await;
    wait_for_status(
        &api,
        std::slice::from_ref(&failing),
        "failed",
        Duration::from_secs(20),
    )
    .await;
    let body: Value = get_message(&api, &failing).await;
    assert_eq!(body["error"]["code"], "carrier_undelivered", "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("UNDELIV")),
        "{body}"
    );
    // Submits 4–5: both parts delivered, so the message is.
    let text = format!("two {}", "y".repeat(170));
    let two = send_one(&api, FROM, "+16660000004", &text).await;
    wait_for_status(
        &api,
        std::slice::from_ref(&two),
        "delivered",
        Duration::from_secs(20),
    )
    .await;
    assert_eq!(get_message(&api, &two).await["segments"], 2);
    // Neither was reported delivered before its last receipt: no event
    // says delivered for the failed one.
    wait_until(Duration::from_secs(10), "the failed event", || {
        status_events(&events, &failing).contains(&"failed".to_owned())
    })
    .await;
    assert!(!status_events(&events, &failing).contains(&"delivered".to_owned()));
    assert_eq!(sim_records(&sim).len(), 5, "each part submitted once");
}

/// Send `n` messages in one batch and let the receipts come back.
async fn send_and_settle(api: &str, config: &std::path::Path, n: usize) -> (Vec<String>, String) {
    let client = client();
    let messages: Vec<serde_json::Value> = (0..n)
        .map(|i| serde_json::json!({"from": FROM, "to": format!("+1555765{i:04}"), "text": format!("id test {i}")}))
        .collect();
    let ids = post_batch(&client, api, messages).await;
    assert_eq!(ids.len(), n);
    // Every message leaves the outbox depth: delivered, or submitted with
    // receipts that can never be matched.
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let body = metrics_text(config).await;
        let depth = metric_sum(&body, "carrier_gateway_outbox_depth", &[]);
        if depth == 0.0 && body.contains("carrier_gateway_outbox_depth") {
            return (ids, body);
        }
        assert!(
            std::time::Instant::now() < deadline,
            "outbox depth stuck at {depth}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// An empty message id in a submit_sm_resp used to leave its message
/// `submitted` for good, counted in the depth and replayed at every start.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_empty_carrier_id_leaves_the_depth_and_is_counted() {
    let dir = tempfile::tempdir().expect("temp dir");
    let sim = start_sim(
        dir.path(),
        &["--empty-message-id-every", "4", "--dlr-delay", "300"],
    );
    let (sink, _events) = start_sink().await;
    let (config, api) = write_config(dir.path(), sim.addr, sink, "");
    let _gateway = Gateway::start(&config, &api);
    let (ids, body) = send_and_settle(&api, &config, 20).await;
    let unusable = metric_sum(
        &body,
        "carrier_gateway_carrier_id_unusable_total",
        &["reason=\"unusable\""],
    );
    assert_eq!(unusable, 5.0, "{body}");
    let mut delivered = 0;
    for id in &ids {
        let status = get_message(&api, id).await["status"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        assert!(
            status == "delivered" || status == "submitted",
            "{id}: {status}"
        );
        delivered += usize::from(status == "delivered");
    }
    assert_eq!(delivered, 15);
}

/// A carrier id given to two waiting segments used to overwrite the first
/// one's receipt entry, so the receipt meant for one message was applied to
/// the other. Now neither is matched, and the collision is counted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_repeated_carrier_id_is_never_mis_correlated() {
    let dir = tempfile::tempdir().expect("temp dir");
    let sim = start_sim(
        dir.path(),
        &["--repeat-message-id-every", "5", "--dlr-delay", "500"],
    );
    let (sink, _events) = start_sink().await;
    let (config, api) = write_config(dir.path(), sim.addr, sink, "");
    let text = std::fs::read_to_string(&config).expect("config");
    std::fs::write(&config, text.replacen("binds = 2", "binds = 1", 1)).expect("config");
    let _gateway = Gateway::start(&config, &api);
    let (ids, body) = send_and_settle(&api, &config, 20).await;
    let duplicates = metric_sum(
        &body,
        "carrier_gateway_carrier_id_unusable_total",
        &["reason=\"duplicate\""],
    );
    assert_eq!(duplicates, 4.0, "{body}");
    let mut submitted = Vec::new();
    for id in &ids {
        let message = get_message(&api, id).await;
        match message["status"].as_str() {
            Some("delivered") => {}
            Some("submitted") => submitted.push(message["carrier_message_ids"][0].clone()),
            other => panic!("{id}: {other:?}"),
        }
    }
    // The four pairs that share an id: eight messages, none delivered by
    // another's receipt.
    assert_eq!(submitted.len(), 8, "{submitted:?}");
}
