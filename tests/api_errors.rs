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

/// A client whose body is too large, or who is refused before its body is
/// read (401, 415), still gets the JSON answer: the server reads the body
/// it refuses (up to a bound) before it answers and closes, so the close
/// does not reset the connection under the client's feet while it is still
/// sending, which would lose the answer (seen as `IncompleteMessage`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_body_is_read_before_the_answer() {
    use std::time::Duration;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let dir = tempfile::tempdir().expect("temp dir");
    let sim = start_sim(dir.path(), &[]);
    let (sink, _events) = start_sink().await;
    let (config, api) = write_config(dir.path(), sim.addr, sink, "");
    let _gateway = Gateway::start(&config, &api);
    let addr = api.trim_start_matches("http://").to_owned();

    // Without a valid token the body is read and dropped, never kept:
    // even an oversized one is answered 401, not 413.
    let cases: [(usize, &str, &str, &str); 4] = [
        (3 * 1024 * 1024, "application/json", TOKEN, "413"),
        (64 * 1024, "text/plain", TOKEN, "415"),
        (64 * 1024, "application/json", "wrong", "401"),
        (3 * 1024 * 1024, "application/json", "wrong", "401"),
    ];
    for (size, content_type, token, status) in cases {
        let mut stream = tokio::net::TcpStream::connect(&addr)
            .await
            .expect("connect");
        let head = format!(
            "POST /v1/messages HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n\
             Content-Type: {content_type}\r\nContent-Length: {size}\r\n\r\n"
        );
        stream.write_all(head.as_bytes()).await.expect("head");
        // Half the body, a pause long enough for a server that answers
        // early to answer and close, then the rest.
        let body = vec![b' '; size];
        stream
            .write_all(&body[..size / 2])
            .await
            .expect("first half");
        tokio::time::sleep(Duration::from_millis(300)).await;
        stream
            .write_all(&body[size / 2..])
            .await
            .unwrap_or_else(|e| panic!("{status}: the rest of the body: {e}"));
        let mut answer = Vec::new();
        let read = tokio::time::timeout(Duration::from_secs(10), async {
            let mut buf = [0u8; 4096];
            loop {
                match stream.read(&mut buf).await {
                    Ok(0) => return Ok(()),
                    Ok(n) => {
                        answer.extend_from_slice(&buf[..n]);
                        if answer.windows(4).any(|w| w == b"\r\n\r\n") && answer.ends_with(b"}") {
                            return Ok(());
                        }
                    }
                    Err(e) => return Err(e),
                }
            }
        })
        .await
        .expect("answered within 10 s");
        let answer = String::from_utf8_lossy(&answer);
        assert!(read.is_ok(), "{status}: {read:?} after {answer:?}");
        assert!(
            answer.starts_with(&format!("HTTP/1.1 {status}")),
            "{status}: {answer}"
        );
        assert!(answer.contains("\"error\""), "{status}: {answer}");
    }
}
