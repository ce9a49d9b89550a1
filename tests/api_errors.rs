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
