//! `GET /v1/openapi.json` against the running daemon: the document is
//! valid OpenAPI 3.1 (openapi-spec-validator), every operation it lists is
//! served (no 404 `not_found` or 405 from the router), and schemathesis,
//! driven by the document, finds no 5xx, no undocumented status, content
//! type or header, no body that breaks its schema, no operation that
//! answers without a token and no undeclared method that is not a 405.
//!
//! (That the router serves nothing the document leaves out, and that every
//! error code the handlers can answer is documented, is checked in
//! `src/api/openapi.rs`.)
//!
//! The Python tools are installed, pinned, by `scripts/setup-test-deps.sh`
//! (run by `.ci/run`) into `$CARRIER_GATEWAY_TEST_TOOLS/venv` (default
//! `~/.cache/carrier-gateway-test-tools/venv`). Without them the test
//! fails, saying so; it does not skip.

mod common;

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use common::*;
use serde_json::{Value, json};

fn tool(name: &str) -> PathBuf {
    let root = std::env::var_os("CARRIER_GATEWAY_TEST_TOOLS")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var_os("HOME").unwrap_or_default())
                .join(".cache/carrier-gateway-test-tools")
        });
    let path = root.join("venv/bin").join(name);
    assert!(
        path.exists(),
        "{} is needed by this test and is missing: run scripts/setup-test-deps.sh",
        path.display()
    );
    path
}

const LINE: &str = r#"line = "support"

[[lines]]
name = "support"
consent_message = "Acme: msgs about your requests. Reply STOP to opt out."
help_message = "Acme: help at acme.example."
stop_message = "You are unsubscribed."
start_message = "You are subscribed again."
menu_prompt = "Reply 1 for Billing or 2 for Technical support."

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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_document_is_valid_served_whole_and_survives_schemathesis() {
    let validator = tool("openapi-spec-validator");
    let schemathesis = tool("schemathesis");
    let dir = tempfile::tempdir().expect("temp dir");
    let sim = start_sim(dir.path(), &[]);
    let (sink, _events) = start_sink().await;
    let (config, api) = write_config(dir.path(), sim.addr, sink, LINE);
    let _gateway = Gateway::start(&config, &api);
    // Ready (a bind up), so /readyz answers 200 like in production.
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let ready = client().get(format!("{api}/readyz")).send().await;
        if ready.is_ok_and(|r| r.status().is_success()) {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "no bind within 20 s");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    let unauthorized = client()
        .get(format!("{api}/v1/openapi.json"))
        .send()
        .await
        .expect("GET");
    assert_eq!(unauthorized.status().as_u16(), 401);
    let response = client()
        .get(format!("{api}/v1/openapi.json"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .expect("GET");
    assert_eq!(response.status().as_u16(), 200);
    let text = response.text().await.expect("body");
    let doc: Value = serde_json::from_str(&text).expect("JSON");
    assert_eq!(doc["openapi"], "3.1.0");
    let path = dir.path().join("openapi.json");
    std::fs::write(&path, &text).expect("write the document");

    let validated = Command::new(&validator)
        .arg(&path)
        .output()
        .expect("run openapi-spec-validator");
    assert!(
        validated.status.success(),
        "not valid OpenAPI: {}{}",
        String::from_utf8_lossy(&validated.stdout),
        String::from_utf8_lossy(&validated.stderr)
    );

    // Every documented operation is served.
    let mut operations = 0;
    for (route, item) in doc["paths"].as_object().expect("paths") {
        let concrete = route
            .replace("{id}", "x1")
            .replace("{call_id}", "call-1")
            .replace("{customer}", "+15557654321");
        for method in item.as_object().expect("path item").keys() {
            operations += 1;
            let method =
                reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).expect("method");
            let mut request = client()
                .request(method.clone(), format!("{api}{concrete}"))
                .bearer_auth(TOKEN);
            if method == reqwest::Method::POST || method == reqwest::Method::PUT {
                request = request.json(&json!({}));
            }
            let response = request.send().await.expect("request");
            let status = response.status().as_u16();
            let body: Value = response.json().await.unwrap_or(Value::Null);
            assert!(
                !(status == 404 && body["error"]["code"] == "not_found") && status != 405,
                "{method} {route} is documented but not served: {status} {body}"
            );
        }
    }
    assert!(operations >= 15, "{operations} operations");

    let run = Command::new(&schemathesis)
        .args(["run"])
        .arg(&path)
        .args([
            "--url",
            &api,
            "--header",
            &format!("Authorization: Bearer {TOKEN}"),
            "--checks",
            "not_a_server_error,status_code_conformance,content_type_conformance,\
             response_schema_conformance,response_headers_conformance,\
             missing_required_header,unsupported_method",
            "--max-examples",
            "60",
            "--generation-deterministic",
            "--request-timeout",
            "10",
        ])
        .env("SCHEMATHESIS_HOOKS", "")
        .env("NO_COLOR", "1")
        .current_dir(dir.path())
        .output()
        .expect("run schemathesis");
    let report = String::from_utf8_lossy(&run.stdout);
    assert!(
        run.status.success(),
        "schemathesis found failures:\n{report}\n{}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert!(
        report.contains(&format!("Tested: {operations}")),
        "{report}"
    );
}
