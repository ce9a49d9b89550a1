//! Every HTTP error is the JSON error object, whoever answers it (our
//! handlers or the framework), and the `Bearer` scheme is case-insensitive.

mod common;

use common::*;
use serde_json::Value;

async fn error_of(response: reqwest::Response) -> (u16, String, Value) {
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    (status, content_type, body)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_are_json_and_bearer_is_case_insensitive() {
    let dir = tempfile::tempdir().expect("temp dir");
    let sim = start_sim(dir.path(), &[]);
    let (sink, _events) = start_sink().await;
    let (config, api) = write_config(dir.path(), sim.addr, sink, "");
    let _gateway = Gateway::start(&config, &api);
    let client = client();

    let cases = [
        (
            client.get(format!("{api}/nowhere")).bearer_auth(TOKEN),
            404,
            "not_found",
        ),
        (
            client
                .delete(format!("{api}/v1/messages"))
                .bearer_auth(TOKEN),
            405,
            "method_not_allowed",
        ),
        (
            client
                .post(format!("{api}/v1/messages"))
                .bearer_auth(TOKEN)
                .header("content-type", "application/json")
                .body(vec![b' '; 3 * 1024 * 1024]),
            413,
            "body_too_large",
        ),
        (
            client
                .post(format!("{api}/v1/messages"))
                .bearer_auth(TOKEN)
                .header("content-type", "text/plain")
                .body(format!(
                    r#"{{"from": "{FROM}", "to": "+15557654321", "text": "hi"}}"#
                )),
            415,
            "unsupported_media_type",
        ),
    ];
    for (request, status, code) in cases {
        let (got, content_type, body) = error_of(request.send().await.expect("send")).await;
        assert_eq!(got, status, "{body}");
        assert!(
            content_type.starts_with("application/json"),
            "{status}: {content_type}"
        );
        assert_eq!(body["error"]["code"], code, "{body}");
        assert!(
            body["error"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty())
        );
    }

    let lower = client
        .post(format!("{api}/v1/messages"))
        .header("authorization", format!("bearer {TOKEN}"))
        .json(&serde_json::json!({"from": FROM, "to": "+15557654321", "text": "hi"}))
        .send()
        .await
        .expect("send");
    assert_eq!(lower.status().as_u16(), 202);
    let wrong = client
        .get(format!("{api}/v1/messages/msg_0"))
        .header("authorization", format!("Basic {TOKEN}"))
        .send()
        .await
        .expect("send");
    assert_eq!(wrong.status().as_u16(), 401);
}

/// A client that sends half a request header and waits neither holds up a
/// SIGTERM drain nor keeps its connection: it is closed after the header
/// read timeout (10 s).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_half_sent_header_is_dropped_and_does_not_hold_up_a_stop() {
    use std::time::{Duration, Instant};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let dir = tempfile::tempdir().expect("temp dir");
    let sim = start_sim(dir.path(), &[]);
    let (sink, _events) = start_sink().await;
    let (config, api) = write_config(dir.path(), sim.addr, sink, "");
    let mut gateway = Gateway::start(&config, &api);
    let addr = api.trim_start_matches("http://").to_owned();

    // Closed by the server after the header timeout.
    let mut slow = tokio::net::TcpStream::connect(&addr)
        .await
        .expect("connect");
    slow.write_all(b"POST /v1/messages HTTP/1.1\r\nHost: x\r\n")
        .await
        .expect("write");
    let started = Instant::now();
    let mut buf = [0u8; 1024];
    let read = tokio::time::timeout(Duration::from_secs(20), slow.read(&mut buf))
        .await
        .expect("closed within 20 s");
    assert!(matches!(read, Ok(0) | Err(_)) || read.as_ref().is_ok_and(|&n| n > 0));
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_secs(9) && waited < Duration::from_secs(15),
        "{waited:?}"
    );

    // And a stop does not wait for such a client.
    let mut stuck = tokio::net::TcpStream::connect(&addr)
        .await
        .expect("connect");
    stuck
        .write_all(b"POST /v1/messages HTTP/1.1\r\nHost: x\r\n")
        .await
        .expect("write");
    let started = Instant::now();
    let status = gateway
        .process
        .as_mut()
        .and_then(|p| p.terminate())
        .expect("stopped");
    assert!(status.success(), "{status:?}");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "the stop waited {:?} for a half-sent header",
        started.elapsed()
    );
}
