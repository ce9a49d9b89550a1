//! The Grafana dashboard (`docs/grafana/carrier-gateway.json`) is built on
//! metric names the daemon really exports: after traffic that touches every
//! panel (sends, a customer's conversation with consent, menu, queue choice
//! and idle timeout, a STOP, an IVR call with a wait-time text and a refused
//! one, a per-second cap, a throttling carrier), every name the dashboard
//! uses appears in `/metrics`. And every panel's PromQL is in the operator
//! guide, `docs/monitoring.md`.

mod common;

use std::collections::BTreeSet;
use std::time::Duration;

use common::*;
use serde_json::{Value, json};

const DASHBOARD: &str = include_str!("../docs/grafana/carrier-gateway.json");
const GUIDE: &str = include_str!("../docs/monitoring.md");

/// Every PromQL expression of the dashboard: panel targets and template
/// variable queries.
fn expressions(dashboard: &Value) -> Vec<String> {
    let mut out = Vec::new();
    for panel in dashboard["panels"].as_array().expect("panels") {
        for target in panel["targets"].as_array().into_iter().flatten() {
            out.push(target["expr"].as_str().expect("expr").to_owned());
        }
    }
    for variable in dashboard["templating"]["list"]
        .as_array()
        .expect("templating")
    {
        if let Some(query) = variable["definition"].as_str() {
            out.push(query.to_owned());
        }
    }
    out
}

/// The `carrier_gateway_…` names an expression uses.
fn metric_names(expr: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    let mut rest = expr;
    while let Some(start) = rest.find("carrier_gateway_") {
        let tail = &rest[start..];
        let end = tail
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(tail.len());
        names.insert(tail[..end].to_owned());
        rest = &tail[end..];
    }
    names
}

#[test]
fn every_panel_is_explained_in_the_operator_guide() {
    let dashboard: Value = serde_json::from_str(DASHBOARD).expect("the dashboard is JSON");
    let panels: Vec<&Value> = dashboard["panels"]
        .as_array()
        .expect("panels")
        .iter()
        .filter(|p| p["type"] != "row")
        .collect();
    assert!(panels.len() >= 15, "{} panels", panels.len());
    for panel in panels {
        let title = panel["title"].as_str().expect("title");
        assert!(
            GUIDE.contains(&format!("### {title}")),
            "{title} not in the guide"
        );
        for target in panel["targets"].as_array().expect("targets") {
            let expr = target["expr"].as_str().expect("expr");
            assert!(GUIDE.contains(expr), "{title}: {expr} not in the guide");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboard_uses_only_metrics_the_daemon_exports() {
    let dashboard: Value = serde_json::from_str(DASHBOARD).expect("the dashboard is JSON");
    let used: BTreeSet<String> = expressions(&dashboard)
        .iter()
        .flat_map(|e| metric_names(e))
        .collect();
    assert!(used.len() >= 20, "{used:?}");

    let dir = tempfile::tempdir().expect("temp dir");
    let customer = "+15557654321";
    let mo = [
        json!({"from": customer, "to": FROM, "text": "Hello", "delay_ms": 500}),
        json!({"from": customer, "to": FROM, "text": "2", "delay_ms": 1500}),
        json!({"from": "+15557650000", "to": FROM, "text": "STOP", "delay_ms": 100}),
    ];
    let mo_file = dir.path().join("mo.jsonl");
    std::fs::write(
        &mo_file,
        mo.iter().map(|e| format!("{e}\n")).collect::<String>(),
    )
    .expect("MO file");
    let sim = start_sim(
        dir.path(),
        &[
            "--mo-file",
            &mo_file.display().to_string(),
            "--throttle-every",
            "4",
        ],
    );
    let (sink, events) = start_sink().await;
    let extra = r#"line = "support"

[[numbers]]
number = "+15551230002"
carrier = "acme"
per_second = 1
line = "support"

[[lines]]
name = "support"
consent_message = "Acme: msgs about your requests. Reply STOP to opt out."
help_message = "Acme: help at acme.example."
stop_message = "You are unsubscribed."
start_message = "You are subscribed again."
menu_prompt = "Reply 1 for Billing or 2 for Technical support."
idle_timeout = "3s"
expiry = "24h"
timeout_message = "This conversation has ended."

[[lines.queues]]
name = "billing"
keywords = ["1"]

[[lines.queues]]
name = "tech"
keywords = ["2"]

[templates.wait_time]
en = "Your wait is about {{ewt_minutes}} min."

[services.wait_time]
min_ewt = "2m"
"#;
    let (config, api) = write_config(dir.path(), sim.addr, sink, extra);
    let _gateway = Gateway::start(&config, &api);

    // Sends, one of them held by a per-second cap, one refused.
    let mut ids = Vec::new();
    for k in 0..3 {
        ids.push(send_one(&api, "+15551230002", "+15557650001", &format!("capped {k}")).await);
    }
    for k in 0..10 {
        ids.push(send_one(&api, FROM, &format!("+1555765100{k}"), "notice").await);
    }
    let put = client()
        .put(format!("{api}/v1/calls/call-1"))
        .bearer_auth(TOKEN)
        .json(&json!({"customer": "+15557652000", "number": FROM}))
        .send()
        .await
        .expect("PUT");
    assert_eq!(put.status().as_u16(), 201);
    for ewt in [600, 30] {
        let answer = post_message(
            &api,
            json!({"from": FROM, "to": "+15557652000", "service": "wait_time",
                   "template": "wait_time", "variables": {"ewt_minutes": ewt / 60},
                   "call_id": "call-1", "ewt_seconds": ewt}),
        )
        .await;
        if let Some(id) = answer["id"].as_str() {
            ids.push(id.to_owned());
        }
    }
    wait_for_status(&api, &ids, "delivered", Duration::from_secs(30)).await;
    // The conversation: consent, menu, queue choice, then the idle timeout.
    wait_until(Duration::from_secs(30), "the session's end", || {
        events.all().iter().any(|e| e["type"] == "session.ended")
    })
    .await;
    // A webhook delivery after the last event (the exporter has the
    // outcome counter once a POST happened).
    tokio::time::sleep(Duration::from_millis(500)).await;

    let metrics = metrics_text(&config).await;
    let exported: BTreeSet<&str> = metrics
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.split(['{', ' ']).next())
        .collect();
    let missing: Vec<&String> = used
        .iter()
        .filter(|name| !exported.contains(name.as_str()))
        .collect();
    assert!(
        missing.is_empty(),
        "the dashboard uses metrics the daemon does not export: {missing:?}\n{metrics}"
    );
}
