//! The SMS services end to end, against the real binary and the simulator:
//! the capability matrix walked row by row (every service against free
//! text, a template, no call, an unknown call, an EWT below and at the
//! threshold, and an opted-out customer), deflection from the IVR into a
//! new channel session, `call_id` on a caller's texts during a call, and
//! templates rendered in English, Spanish and Turkish with their segment
//! counts.

mod common;

use std::path::Path;
use std::time::Duration;

use common::*;
use serde_json::{Value, json};

const CONSENT: &str = "Acme: msgs about your requests. Reply STOP to opt out.";
const MENU: &str = "Reply 1 for Billing or 2 for Technical support.";

/// The number's line (with a menu), templates and EWT thresholds.
fn services_config(templates: &str) -> String {
    format!(
        r#"line = "support"

[[lines]]
name = "support"
consent_message = "{CONSENT}"
help_message = "Acme: help at acme.example."
stop_message = "You are unsubscribed."
start_message = "You are subscribed again."
menu_prompt = "{MENU}"
idle_timeout = "30m"
expiry = "24h"

[[lines.queues]]
name = "billing"
keywords = ["1", "billing"]

[[lines.queues]]
name = "tech"
keywords = ["2", "tech"]

{templates}

[services.wait_time]
min_ewt = "2m"

[services.deflection]
min_ewt = "5m"
"#
    )
}

const TEMPLATES: &str = r#"
[templates.notice]
en = "Hi {{name}}, about {{ewt_minutes}} min to go."
es = "Hola {{name}}, quedan unos {{ewt_minutes}} min."

[templates.deflect]
en = "You chose to continue by text. An agent will answer here."
"#;

async fn request(method: reqwest::Method, url: String, body: Option<Value>) -> (u16, Value) {
    let mut request = client().request(method, url).bearer_auth(TOKEN);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.expect("request");
    let status = response.status().as_u16();
    let text = response.text().await.expect("body");
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

async fn send(api: &str, body: Value) -> (u16, Value) {
    request(
        reqwest::Method::POST,
        format!("{api}/v1/messages"),
        Some(body),
    )
    .await
}

async fn put_call(api: &str, call_id: &str, customer: &str) -> u16 {
    let (status, body) = request(
        reqwest::Method::PUT,
        format!("{api}/v1/calls/{call_id}"),
        Some(json!({"customer": customer, "number": FROM})),
    )
    .await;
    assert!(status == 200 || status == 201, "PUT call: {status} {body}");
    status
}

/// Texts the simulator accepted for `to`, in order.
fn texts_to(record: &Path, to: &str) -> Vec<String> {
    let digits = to.trim_start_matches('+');
    std::fs::read_to_string(record)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|r| r["destination_addr"] == digits)
        .map(|r| record_text(&r))
        .collect()
}

/// The GSM text of a simulator record, decoded with the national language
/// tables its UDH names (none: the default alphabet).
fn national_text(record: &Value) -> String {
    let hex = record["short_message_hex"].as_str().unwrap_or_default();
    let bytes = carrier_protocol::hex::decode(hex).unwrap_or_default();
    let udhi = record["esm_class"].as_u64().unwrap_or_default() & 0x40 != 0;
    let (tables, text) = if udhi {
        let (udh, rest) = carrier_protocol::segment::parse_udh(&bytes).expect("a UDH");
        (udh.gsm7_tables(), rest.to_vec())
    } else {
        (carrier_protocol::text::gsm7::Tables::DEFAULT, bytes)
    };
    carrier_protocol::text::gsm7::decode_unpacked(&text, tables).expect("GSM 7-bit")
}

/// Events of one type, each event id once.
fn events_of(events: &Events, kind: &str) -> Vec<Value> {
    let mut seen = std::collections::HashSet::new();
    events
        .all()
        .into_iter()
        .filter(|e| e["type"] == kind)
        .filter(|e| seen.insert(e["id"].as_str().unwrap_or_default().to_owned()))
        .collect()
}

const SERVICES: [&str; 7] = [
    "channel",
    "outbound",
    "session_less",
    "wait_time",
    "in_call",
    "deflection",
    "app_launch",
];

const CASES: [&str; 7] = [
    "free_text",
    "template",
    "no_call",
    "unknown_call",
    "ewt_below",
    "ewt_at",
    "opted_out",
];

/// The contract's answer for a service and a case: status and error code.
fn expected(service: &str, case: &str) -> (u16, Option<&'static str>) {
    let needs_call = matches!(
        service,
        "wait_time" | "in_call" | "deflection" | "app_launch"
    );
    let template_only = matches!(service, "wait_time" | "deflection" | "app_launch");
    let ewt = matches!(service, "wait_time" | "deflection");
    match case {
        "opted_out" => (403, Some("opted_out")),
        "free_text" if template_only => (422, Some("service_rule")),
        "no_call" if needs_call => (422, Some("service_rule")),
        "unknown_call" if needs_call => (404, Some("unknown_call")),
        "ewt_below" if ewt => (422, Some("below_ewt_threshold")),
        _ => (202, None),
    }
}

fn min_ewt(service: &str) -> u64 {
    match service {
        "wait_time" => 120,
        "deflection" => 300,
        _ => 300,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_service_follows_the_capability_matrix() {
    let dir = tempfile::tempdir().expect("temp dir");
    let opted = "+15557009999";
    let mo_file = dir.path().join("mo.jsonl");
    std::fs::write(
        &mo_file,
        format!("{}\n", json!({"from": opted, "to": FROM, "text": "STOP"})),
    )
    .expect("MO file");
    let sim = start_sim(dir.path(), &["--mo-file", &mo_file.display().to_string()]);
    let (sink, events) = start_sink().await;
    let (config, api) = write_config(dir.path(), sim.addr, sink, &services_config(TEMPLATES));
    let _gateway = Gateway::start(&config, &api);
    wait_until(Duration::from_secs(30), "the STOP", || {
        !events_of(&events, "optout.changed").is_empty()
    })
    .await;
    put_call(&api, "opted-call", opted).await;

    let customer = |i: usize| format!("+155570000{i:02}");
    // The channel row writes in a session the gateway opened.
    let channel_customer = customer(0);
    let (status, opened) = send(
        &api,
        json!({"from": FROM, "to": channel_customer, "text": "Hello", "service": "outbound"}),
    )
    .await;
    assert_eq!(status, 202, "{opened}");
    let opened_id = opened["id"].as_str().expect("id").to_owned();
    let session_id = wait_for_session(&events, &channel_customer).await;
    wait_for_status(&api, &[opened_id], "delivered", Duration::from_secs(20)).await;

    let mut accepted: Vec<(String, String, String, Option<String>)> = Vec::new();
    let mut n = 0;
    for (i, service) in SERVICES.iter().enumerate() {
        let to = customer(i);
        let call_id = format!("call-{service}");
        for case in CASES {
            n += 1;
            let needs_call = matches!(
                *service,
                "wait_time" | "in_call" | "deflection" | "app_launch"
            );
            if needs_call {
                // An accepted deflection ends its call: register it again.
                put_call(&api, &call_id, &to).await;
            }
            let name = format!("{service}-{n}");
            let mut body = json!({
                "from": FROM,
                "to": to,
                "service": service,
                "template": "notice",
                "variables": {"name": name, "ewt_minutes": "5"},
                "call_id": call_id,
                "ewt_seconds": 600,
            });
            if *service == "channel" {
                body["session_id"] = json!(session_id);
            }
            let rendered = format!("Hi {name}, about 5 min to go.");
            let mut expect_text = rendered.clone();
            let mut language = Some("en".to_owned());
            match case {
                "free_text" => {
                    let map = body.as_object_mut().expect("object");
                    map.remove("template");
                    map.remove("variables");
                    expect_text = format!("Free text {name}");
                    body["text"] = json!(expect_text);
                    language = None;
                }
                "template" => {}
                "no_call" => {
                    body.as_object_mut().expect("object").remove("call_id");
                }
                "unknown_call" => body["call_id"] = json!("no-such-call"),
                "ewt_below" => body["ewt_seconds"] = json!(min_ewt(service) - 1),
                "ewt_at" => body["ewt_seconds"] = json!(min_ewt(service)),
                "opted_out" => {
                    body["to"] = json!(opted);
                    body["call_id"] = json!("opted-call");
                }
                other => unreachable!("{other}"),
            }
            let (status, answer) = send(&api, body.clone()).await;
            let (want_status, want_code) = expected(service, case);
            assert_eq!(status, want_status, "{service} / {case}: {body} → {answer}");
            match want_code {
                Some(code) => {
                    assert_eq!(
                        answer["error"]["code"], code,
                        "{service} / {case}: {answer}"
                    );
                    assert!(
                        answer["error"]["message"]
                            .as_str()
                            .is_some_and(|m| !m.is_empty()),
                        "{answer}"
                    );
                }
                None => {
                    assert_eq!(answer["status"], "queued", "{service} / {case}: {answer}");
                    assert_eq!(answer["segments"], 1, "{service} / {case}: {answer}");
                    assert_eq!(answer["encoding"], "gsm7", "{service} / {case}: {answer}");
                    let id = answer["id"].as_str().expect("id").to_owned();
                    let call = needs_call.then(|| call_id.clone());
                    accepted.push((id, to.clone(), expect_text, language.clone()));
                    let message = get_message(&api, accepted.last().map_or("", |a| &a.0)).await;
                    assert_eq!(message["service"], *service, "{message}");
                    assert_eq!(message["call_id"], json!(call), "{message}");
                    assert_eq!(message["language"], json!(language), "{message}");
                }
            }
        }
    }
    // Every accepted message reached the carrier with its rendered text.
    let ids: Vec<String> = accepted.iter().map(|a| a.0.clone()).collect();
    wait_for_status(&api, &ids, "delivered", Duration::from_secs(30)).await;
    for (id, to, text, _) in &accepted {
        let texts = texts_to(&sim.record, to);
        assert!(
            texts.iter().filter(|t| *t == text).count() == 1,
            "{id} to {to}: {text:?} not sent exactly once: {texts:?}"
        );
    }
    // Nothing at all reached the opted-out customer but the STOP reply.
    assert_eq!(texts_to(&sim.record, opted), ["You are unsubscribed."]);

    // Refusals and EWT values are counted.
    let metrics = metrics_text(&config).await;
    assert!(
        metric_sum(
            &metrics,
            "carrier_gateway_api_refusals_total",
            &["service=\"wait_time\"", "code=\"below_ewt_threshold\""]
        ) >= 1.0,
        "{metrics}"
    );
    assert!(
        metric_sum(
            &metrics,
            "carrier_gateway_ewt_seconds_count",
            &["service=\"deflection\""]
        ) >= 6.0,
        "{metrics}"
    );
    assert!(
        metric_sum(
            &metrics,
            "carrier_gateway_messages_total",
            &["service=\"wait_time\"", "status=\"delivered\""]
        ) >= 1.0,
        "{metrics}"
    );
}

/// The id of the session opened with `customer`, from `session.started`.
async fn wait_for_session(events: &Events, customer: &str) -> String {
    let mut id = None;
    wait_until(Duration::from_secs(20), "session.started", || {
        id = events_of(events, "session.started")
            .iter()
            .rev()
            .find(|e| e["data"]["customer"] == customer)
            .and_then(|e| e["data"]["id"].as_str().map(str::to_owned));
        id.is_some()
    })
    .await;
    id.unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deflected_caller_continues_in_a_new_channel_session() {
    let dir = tempfile::tempdir().expect("temp dir");
    let customer = "+15557654321";
    let mo_file = dir.path().join("mo.jsonl");
    // The caller's answer to the menu, once the deflection went out.
    std::fs::write(
        &mo_file,
        format!(
            "{}\n",
            json!({"from": customer, "to": FROM, "text": "2", "delay_ms": 4000})
        ),
    )
    .expect("MO file");
    let sim = start_sim(dir.path(), &["--mo-file", &mo_file.display().to_string()]);
    let (sink, events) = start_sink().await;
    let (config, api) = write_config(dir.path(), sim.addr, sink, &services_config(TEMPLATES));
    let _gateway = Gateway::start(&config, &api);

    assert_eq!(put_call(&api, "ivr-42", customer).await, 201);
    assert_eq!(
        put_call(&api, "ivr-42", customer).await,
        200,
        "registered again"
    );
    let (status, call) =
        request(reqwest::Method::GET, format!("{api}/v1/calls/ivr-42"), None).await;
    assert_eq!(status, 200, "{call}");
    assert_eq!(call["customer"], customer);

    let deflect = |ewt: u64| {
        json!({"from": FROM, "to": customer, "service": "deflection", "template": "deflect",
               "call_id": "ivr-42", "ewt_seconds": ewt})
    };
    let (status, below) = send(&api, deflect(299)).await;
    assert_eq!(status, 422, "{below}");
    assert_eq!(below["error"]["code"], "below_ewt_threshold");
    let (status, accepted) = send(&api, deflect(420)).await;
    assert_eq!(status, 202, "{accepted}");

    // The call is gone: deflection ended it.
    let (status, gone) =
        request(reqwest::Method::GET, format!("{api}/v1/calls/ivr-42"), None).await;
    assert_eq!(status, 404, "{gone}");
    assert_eq!(gone["error"]["code"], "unknown_call");
    let (status, again) = send(&api, deflect(420)).await;
    assert_eq!(
        (status, &again["error"]["code"]),
        (404, &json!("unknown_call")),
        "{again}"
    );
    let (status, _) = request(
        reqwest::Method::DELETE,
        format!("{api}/v1/calls/ivr-42"),
        None,
    )
    .await;
    assert_eq!(status, 404);

    // A new channel session: consent, the deflection text, the menu.
    let session_id = wait_for_session(&events, customer).await;
    let started = events_of(&events, "session.started");
    assert_eq!(started.len(), 1, "{started:?}");
    assert_eq!(started[0]["data"]["origin"], "deflection", "{started:?}");
    let deflected = "You chose to continue by text. An agent will answer here.";
    wait_until(Duration::from_secs(20), "consent, text and menu", || {
        texts_to(&sim.record, customer).len() >= 3
    })
    .await;
    assert_eq!(texts_to(&sim.record, customer), [CONSENT, deflected, MENU]);

    // The caller's "2" lands in that session and picks `tech`.
    wait_until(Duration::from_secs(30), "the caller's reply", || {
        !events_of(&events, "message.received").is_empty()
    })
    .await;
    let received = &events_of(&events, "message.received")[0]["data"];
    assert_eq!(received["session"]["id"], session_id.as_str(), "{received}");
    assert_eq!(received["session"]["new"], false, "{received}");
    assert_eq!(received["session"]["queue"], "tech", "{received}");
    assert_eq!(
        received["call_id"],
        Value::Null,
        "the call ended: {received}"
    );

    let (status, session) = request(
        reqwest::Method::GET,
        format!("{api}/v1/sessions/{session_id}"),
        None,
    )
    .await;
    assert_eq!(status, 200, "{session}");
    assert_eq!(session["origin"], "deflection");
    assert_eq!(session["call_id"], "ivr-42");
    assert_eq!(session["queue"], "tech");
    let (_, transcript) = request(
        reqwest::Method::GET,
        format!("{api}/v1/sessions/{session_id}/transcript"),
        None,
    )
    .await;
    let texts: Vec<&str> = transcript["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .filter_map(|m| m["text"].as_str())
        .collect();
    assert_eq!(
        texts,
        [CONSENT, deflected, MENU, "2", "tech"],
        "{transcript}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn texts_during_a_call_carry_its_id_and_not_after() {
    let dir = tempfile::tempdir().expect("temp dir");
    let customer = "+15557654321";
    let mo_file = dir.path().join("mo.jsonl");
    std::fs::write(
        &mo_file,
        format!(
            "{}\n{}\n",
            json!({"from": customer, "to": FROM, "text": "Here is my account number", "delay_ms": 3000}),
            json!({"from": customer, "to": FROM, "text": "Thanks, bye", "delay_ms": 5000}),
        ),
    )
    .expect("MO file");
    let sim = start_sim(dir.path(), &["--mo-file", &mo_file.display().to_string()]);
    let (sink, events) = start_sink().await;
    let (config, api) = write_config(dir.path(), sim.addr, sink, &services_config(TEMPLATES));
    let _gateway = Gateway::start(&config, &api);
    put_call(&api, "pbx-7", customer).await;

    // An in-call link from the agent on the phone.
    let (status, link) = send(
        &api,
        json!({"from": FROM, "to": customer, "service": "in_call", "call_id": "pbx-7",
               "text": "The form: https://acme.example/f/7"}),
    )
    .await;
    assert_eq!(status, 202, "{link}");

    wait_until(Duration::from_secs(30), "the text during the call", || {
        !events_of(&events, "message.received").is_empty()
    })
    .await;
    let during = events_of(&events, "message.received")[0]["data"].clone();
    assert_eq!(during["call_id"], "pbx-7", "{during}");
    let (status, _) = request(
        reqwest::Method::DELETE,
        format!("{api}/v1/calls/pbx-7"),
        None,
    )
    .await;
    assert_eq!(status, 204);
    let (status, refused) = send(
        &api,
        json!({"from": FROM, "to": customer, "service": "in_call", "call_id": "pbx-7", "text": "x"}),
    )
    .await;
    assert_eq!(
        (status, &refused["error"]["code"]),
        (404, &json!("unknown_call"))
    );

    wait_until(Duration::from_secs(30), "the text after the call", || {
        events_of(&events, "message.received").len() >= 2
    })
    .await;
    let after = events_of(&events, "message.received")[1]["data"].clone();
    assert_eq!(after["text"], "Thanks, bye");
    assert_eq!(after["call_id"], Value::Null, "{after}");
    // The session the first text opened during the call records it.
    let session_id = during["session"]["id"].as_str().expect("a session");
    let (_, session) = request(
        reqwest::Method::GET,
        format!("{api}/v1/sessions/{session_id}"),
        None,
    )
    .await;
    assert_eq!(session["call_id"], "pbx-7", "{session}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn templates_render_in_english_spanish_and_turkish_with_their_segments() {
    let dir = tempfile::tempdir().expect("temp dir");
    let sim = start_sim(dir.path(), &[]);
    let (sink, _events) = start_sink().await;
    let templates = r#"
[templates.wait_time]
en = "Thanks for waiting. Your wait is about {{ewt_minutes}} min. Reply here with the reason for your call."
es = "Gracias por esperar. Su espera es de unos {{ewt_minutes}} min. ¿Cuál es el motivo de su llamada? Responda aquí y le atenderemos."
tr = "Beklediğiniz için teşekkürler. Tahmini bekleme süreniz {{ewt_minutes}} dakika. Lütfen aramanızın nedenini buraya yazın, size hemen dönüş yapacağız."
"#;
    let (config, api) = write_config(dir.path(), sim.addr, sink, &services_config(templates));
    let text = std::fs::read_to_string(&config).expect("config");
    std::fs::write(
        &config,
        text.replace(
            "window = 64\n",
            "window = 64\nnational_languages = [\"turkish\", \"spanish\"]\n",
        ),
    )
    .expect("config");
    let _gateway = Gateway::start(&config, &api);

    let cases = [
        (
            "en",
            "+15557650001",
            "Thanks for waiting. Your wait is about 7 min. Reply here with the reason for your call.",
            1,
        ),
        (
            "es",
            "+15557650002",
            "Gracias por esperar. Su espera es de unos 7 min. ¿Cuál es el motivo de su llamada? Responda aquí y le atenderemos.",
            1,
        ),
        (
            "tr",
            "+15557650003",
            "Beklediğiniz için teşekkürler. Tahmini bekleme süreniz 7 dakika. Lütfen aramanızın nedenini buraya yazın, size hemen dönüş yapacağız.",
            1,
        ),
    ];
    let mut ids = Vec::new();
    for (language, customer, rendered, segments) in cases {
        let call_id = format!("call-{language}");
        put_call(&api, &call_id, customer).await;
        let (status, accepted) = send(
            &api,
            json!({"from": FROM, "to": customer, "service": "wait_time", "template": "wait_time",
                   "language": language, "variables": {"ewt_minutes": 7},
                   "call_id": call_id, "ewt_seconds": 420}),
        )
        .await;
        assert_eq!(status, 202, "{language}: {accepted}");
        assert_eq!(accepted["encoding"], "gsm7", "{language}: {accepted}");
        assert_eq!(accepted["segments"], segments, "{language}: {accepted}");
        let id = accepted["id"].as_str().expect("id").to_owned();
        let message = get_message(&api, &id).await;
        assert_eq!(message["language"], language, "{message}");
        ids.push((id, customer, rendered, segments));
    }
    // A missing variable is refused, naming it; nothing is sent.
    put_call(&api, "call-missing", "+15557650004").await;
    let (status, refused) = send(
        &api,
        json!({"from": FROM, "to": "+15557650004", "service": "wait_time", "template": "wait_time",
               "call_id": "call-missing", "ewt_seconds": 420}),
    )
    .await;
    assert_eq!(status, 422, "{refused}");
    assert_eq!(refused["error"]["code"], "service_rule");
    assert!(
        refused["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("ewt_minutes")),
        "{refused}"
    );
    // A variable is a slot, not a message of its own.
    let (status, long) = send(
        &api,
        json!({"from": FROM, "to": "+15557650004", "service": "wait_time", "template": "wait_time",
               "variables": {"ewt_minutes": "x".repeat(121)},
               "call_id": "call-missing", "ewt_seconds": 420}),
    )
    .await;
    assert_eq!(
        (status, &long["error"]["code"]),
        (422, &json!("service_rule")),
        "{long}"
    );
    // An unknown template too.
    let (status, unknown) = send(
        &api,
        json!({"from": FROM, "to": "+15557650004", "service": "session_less", "template": "nope"}),
    )
    .await;
    assert_eq!(
        (status, &unknown["error"]["code"]),
        (422, &json!("service_rule")),
        "{unknown}"
    );

    let all: Vec<String> = ids.iter().map(|i| i.0.clone()).collect();
    wait_for_status(&api, &all, "delivered", Duration::from_secs(30)).await;
    let records = sim_records(&sim);
    for (id, customer, rendered, segments) in &ids {
        let digits = customer.trim_start_matches('+');
        let submits: Vec<&Value> = records
            .iter()
            .filter(|r| r["destination_addr"] == digits)
            .collect();
        assert_eq!(submits.len(), *segments, "{id}: {submits:?}");
        assert!(submits.iter().all(|r| r["data_coding"] == 0), "{submits:?}");
        assert_eq!(national_text(submits[0]), *rendered, "{id}");
    }
    assert!(texts_to(&sim.record, "+15557650004").is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_survive_a_kill_9_and_expire_when_never_ended() {
    let dir = tempfile::tempdir().expect("temp dir");
    let sim = start_sim(dir.path(), &[]);
    let (sink, _events) = start_sink().await;
    let extra = format!(
        "{}\n[calls]\nexpire_after = \"4s\"\n",
        services_config(TEMPLATES)
    );
    let (config, api) = write_config(dir.path(), sim.addr, sink, &extra);
    let mut gateway = Gateway::start(&config, &api);
    let customer = "+15557654321";
    let registered = std::time::Instant::now();
    assert_eq!(put_call(&api, "durable-1", customer).await, 201);
    // Acknowledged means on disk: a kill -9 right after loses nothing.
    gateway.kill9();
    gateway.restart();
    let url = format!("{api}/v1/calls/durable-1");
    let (status, call) = request(reqwest::Method::GET, url.clone(), None).await;
    assert_eq!(status, 200, "{call}");
    assert_eq!(call["customer"], customer);
    let wait_time = json!({"from": FROM, "to": customer, "service": "wait_time",
        "template": "notice", "variables": {"name": "x", "ewt_minutes": 3},
        "call_id": "durable-1", "ewt_seconds": 180});
    let (status, accepted) = send(&api, wait_time.clone()).await;
    assert_eq!(status, 202, "{accepted}");
    // Never ended: forgotten `expire_after` after its registration.
    let expiry = registered + Duration::from_millis(4_300);
    tokio::time::sleep(expiry.saturating_duration_since(std::time::Instant::now())).await;
    let (status, gone) = request(reqwest::Method::GET, url, None).await;
    assert_eq!(
        (status, &gone["error"]["code"]),
        (404, &json!("unknown_call")),
        "{gone}"
    );
    let (status, refused) = send(&api, wait_time).await;
    assert_eq!(
        (status, &refused["error"]["code"]),
        (404, &json!("unknown_call"))
    );
}
