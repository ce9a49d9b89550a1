//! `carrier-gateway status` against a running daemon with traffic: the
//! figures it shows are the ones `/metrics` shows (issue 20, DESIGN §4.7).

mod common;

use std::process::Command;
use std::time::Duration;

use common::*;
use serde_json::{Value, json};

const OTHER: &str = "+15551230002";

fn run_status(config: &std::path::Path, json: bool) -> (Option<i32>, String, String) {
    let mut command = Command::new(BIN);
    command.args(["status", "--config"]).arg(config);
    if json {
        command.arg("--json");
    }
    let out = command.output().expect("run carrier-gateway status");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn number<'a>(status: &'a Value, number: &str) -> &'a Value {
    status["numbers"]
        .as_array()
        .and_then(|n| n.iter().find(|n| n["number"] == number))
        .unwrap_or_else(|| panic!("{number} missing from {status}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_shows_what_the_metrics_show() {
    let dir = tempfile::tempdir().expect("temp dir");
    // Three customers write in; the core is down, so their messages stay
    // in the inbox and every event in the webhook backlog.
    let mo_file = dir.path().join("mo.jsonl");
    let mo: String = (0..3)
        .map(|k| {
            format!(
                "{}\n",
                json!({"from": format!("+1777000000{k}"), "to": FROM, "text": "hi"})
            )
        })
        .collect();
    std::fs::write(&mo_file, mo).expect("write the MO file");
    let sim = start_sim(dir.path(), &["--mo-file", &mo_file.display().to_string()]);
    let core_down = std::net::SocketAddr::from(([127, 0, 0, 1], free_port()));
    let extra = format!(
        "campaign = \"C1\"\n\n[[numbers]]\nnumber = \"{OTHER}\"\ncarrier = \"acme\"\n\n\
         [[brands]]\nid = \"B1\"\n\n[[campaigns]]\nid = \"C1\"\nbrand = \"B1\"\nper_minute = 20\n"
    );
    let (config, api) = write_config(dir.path(), sim.addr, core_down, &extra);
    let text = std::fs::read_to_string(&config).expect("config");
    std::fs::write(
        &config,
        text.replace("window = 64\n", "window = 64\nthroughput = 100\n"),
    )
    .expect("write the config");
    let _gateway = Gateway::start(&config, &api);

    // FROM's campaign sends 20 a minute: 10 of its 30 wait; OTHER has no cap.
    for k in 0..30 {
        send_one(&api, FROM, &format!("+1666{k:07}"), &format!("a {k}")).await;
    }
    for k in 0..5 {
        send_one(&api, OTHER, &format!("+1666{k:07}"), &format!("b {k}")).await;
    }
    let delivered = |body: &str, number: &str| {
        metric_sum(
            body,
            "carrier_gateway_messages_total",
            &[&format!("number=\"{number}\""), "status=\"delivered\""],
        )
    };
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let body = metrics_text(&config).await;
        let settled = delivered(&body, FROM) == 20.0
            && delivered(&body, OTHER) == 5.0
            && metric_sum(&body, "carrier_gateway_inbox_depth", &[]) == 3.0
            // The core link counts its backlog as it polls (every second
            // while the core is down).
            && metric_sum(&body, "carrier_gateway_webhook_backlog", &[]) == 53.0;
        if settled {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "traffic did not settle:\n{body}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    let (code, out, err) = run_status(&config, true);
    assert_eq!(code, Some(0), "{err}");
    let status: Value = serde_json::from_str(&out).expect("status --json prints JSON");
    let metrics = metrics_text(&config).await;

    assert_eq!(status["version"], env!("CARGO_PKG_VERSION"));
    assert!(status["uptime_s"].as_u64().is_some(), "{status}");
    let acme = &status["carriers"][0];
    assert_eq!(acme["name"], "acme");
    assert_eq!(acme["protocol"], "smpp");
    assert_eq!(acme["links"], 2);
    assert_eq!(
        acme["links_up"].as_f64(),
        Some(metric_sum(
            &metrics,
            "carrier_gateway_binds_up",
            &["carrier=\"acme\""]
        ))
    );
    assert_eq!(acme["links_up"], 2);
    assert_eq!(
        acme["rate"].as_f64(),
        Some(metric_sum(
            &metrics,
            "carrier_gateway_bind_rate_limit",
            &["carrier=\"acme\""]
        ))
    );
    assert_eq!(acme["rate"].as_f64(), Some(200.0));
    // Every submit was answered.
    assert_eq!(acme["window_in_use"], 0);

    let from = number(&status, FROM);
    assert_eq!(from["carrier"], "acme");
    assert_eq!(from["queued"], 10);
    assert_eq!(from["held_by"], "per_minute");
    assert_eq!(from["held_by_limit"], "campaign:C1");
    assert_eq!(
        from["sent_last_minute"].as_f64(),
        Some(delivered(&metrics, FROM))
    );
    let other = number(&status, OTHER);
    assert_eq!(other["queued"], 0);
    assert_eq!(other["held_by"], Value::Null);
    assert_eq!(
        other["sent_last_minute"].as_f64(),
        Some(delivered(&metrics, OTHER))
    );

    for (key, metric) in [
        ("outbox_depth", "carrier_gateway_outbox_depth"),
        ("inbox_depth", "carrier_gateway_inbox_depth"),
        ("webhook_backlog", "carrier_gateway_webhook_backlog"),
        ("dead_letters", "carrier_gateway_webhook_dead_letters"),
    ] {
        assert_eq!(
            status[key].as_f64(),
            Some(metric_sum(&metrics, metric, &[])),
            "{key}: {status}\n{metrics}"
        );
    }
    assert_eq!(status["outbox_depth"], 10);
    assert_eq!(status["inbox_depth"], 3);
    // `submitted` and `delivered` of 25 messages and the 3 received, none
    // acknowledged.
    assert_eq!(status["webhook_backlog"], 25 * 2 + 3);

    // The table shows the same figures.
    let (code, table, err) = run_status(&config, false);
    assert_eq!(code, Some(0), "{err}");
    assert!(table.contains("outbox 10  inbox 3"), "{table}");
    assert!(
        table
            .lines()
            .any(|l| l.starts_with("acme") && l.contains("2/2") && l.contains("200.0")),
        "{table}"
    );
    assert!(
        table.lines().any(|l| l.starts_with(FROM)
            && l.contains(" 10 ")
            && l.contains(" 20  per_minute (campaign:C1)")),
        "{table}"
    );
}

#[tokio::test]
async fn status_needs_the_token_and_says_why_without_a_daemon() {
    let dir = tempfile::tempdir().expect("temp dir");
    let sim = start_sim(dir.path(), &[]);
    let (sink, _events) = start_sink().await;
    let (config, api) = write_config(dir.path(), sim.addr, sink, "");
    let gateway = Gateway::start(&config, &api);
    let answer = client()
        .get(format!("{api}/v1/status"))
        .send()
        .await
        .expect("GET /v1/status");
    assert_eq!(answer.status(), 401);
    drop(gateway);
    let (code, _, err) = run_status(&config, false);
    assert_eq!(code, Some(1));
    assert!(err.contains("is the daemon running"), "{err}");
}
