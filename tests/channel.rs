//! The SMS channel end to end, against the real binary, the simulator's MO
//! injection and a webhook sink that checks signatures: a first text gets
//! consent then the menu, the reply picks the queue, `message.received`
//! carries the session and queue, the transcript lists it all in order;
//! idle timeout and expiry end sessions, also across a `kill -9`; twenty
//! racing first messages produce one consent, across a `kill -9` too.

mod common;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use common::*;
use serde_json::{Value, json};

const CUSTOMER: &str = "+15557654321";
const CONSENT: &str = "Acme: msgs about your requests. Reply STOP to opt out.";
const MENU: &str = "Reply 1 for Billing or 2 for Technical support.";
const TIMEOUT: &str = "This conversation has ended due to inactivity.";
const EXPIRED: &str = "This conversation has reached its time limit.";

/// A `[[lines]]` table (the number's `line` key first) with `queues`
/// (TOML of `[[lines.queues]]` tables) and the given timers.
fn line(idle: &str, expiry: &str, queues: &str) -> String {
    format!(
        r#"line = "support"

[[lines]]
name = "support"
consent_message = "{CONSENT}"
help_message = "Acme: help at acme.example."
stop_message = "You are unsubscribed."
start_message = "You are subscribed again."
menu_prompt = "{MENU}"
idle_timeout = "{idle}"
expiry = "{expiry}"
timeout_message = "{TIMEOUT}"
expiry_message = "{EXPIRED}"
{queues}
"#
    )
}

const MENU_QUEUES: &str = r#"
[[lines.queues]]
name = "billing"
keywords = ["1", "billing"]

[[lines.queues]]
name = "tech"
keywords = ["2", "tech", "support"]
"#;

const ONE_QUEUE: &str = r#"
[[lines.queues]]
name = "general"
"#;

fn write_mo(dir: &Path, entries: &[Value]) -> String {
    let path = dir.join("mo.jsonl");
    std::fs::write(
        &path,
        entries.iter().map(|e| format!("{e}\n")).collect::<String>(),
    )
    .expect("mo file");
    path.display().to_string()
}

/// Events of one type, each event id once (the core link may resend).
fn events_of(events: &Events, kind: &str) -> Vec<Value> {
    let mut seen = std::collections::HashSet::new();
    events
        .all()
        .into_iter()
        .filter(|e| e["type"] == kind)
        .filter(|e| seen.insert(e["id"].as_str().unwrap_or_default().to_owned()))
        .collect()
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

async fn get_json(api: &str, path: &str) -> (u16, Value) {
    let response = client()
        .get(format!("{api}{path}"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .expect("GET");
    let status = response.status().as_u16();
    (status, response.json().await.expect("JSON"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn first_text_gets_consent_then_the_menu_and_2_picks_tech() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mo = write_mo(
        dir.path(),
        &[
            json!({"from": CUSTOMER, "to": FROM, "text": "My router is broken", "delay_ms": 500}),
            json!({"from": CUSTOMER, "to": FROM, "text": " 2 ", "delay_ms": 2500}),
        ],
    );
    let sim = start_sim(dir.path(), &["--mo-file", &mo]);
    let (sink, events) = start_sink().await;
    let (config, api) = write_config(dir.path(), sim.addr, sink, &line("30m", "24h", MENU_QUEUES));
    let _gateway = Gateway::start(&config, &api);

    wait_until(Duration::from_secs(30), "both messages", || {
        events_of(&events, "message.received").len() >= 2
    })
    .await;
    let received = events_of(&events, "message.received");
    let first = &received[0]["data"];
    let second = &received[1]["data"];
    let session_id = first["session"]["id"]
        .as_str()
        .expect("the first message opened a session")
        .to_owned();
    assert_eq!(first["session"]["new"], true, "{first}");
    assert_eq!(first["session"]["queue"], Value::Null, "{first}");
    assert_eq!(first["session"]["line"], "support");
    assert_eq!(second["session"]["id"], session_id.as_str(), "{second}");
    assert_eq!(second["session"]["new"], false);
    assert_eq!(second["session"]["queue"], "tech", "{second}");
    assert_eq!(second["language"], "en");

    // session.started comes before the message that opened it.
    let all = events.all();
    let started_at = all
        .iter()
        .position(|e| e["type"] == "session.started")
        .expect("session.started");
    let received_at = all
        .iter()
        .position(|e| e["type"] == "message.received")
        .expect("message.received");
    assert!(started_at < received_at, "{all:?}");
    let started = &all[started_at]["data"];
    assert_eq!(started["id"], session_id.as_str());
    assert_eq!(started["origin"], "inbound");
    assert_eq!(started["customer"], CUSTOMER);
    assert_eq!(started["number"], FROM);

    // Consent, then the menu, once each, and nothing else.
    wait_until(Duration::from_secs(20), "consent and menu sent", || {
        texts_to(&sim.record, CUSTOMER).len() >= 2
    })
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(texts_to(&sim.record, CUSTOMER), [CONSENT, MENU]);

    let (status, session) = get_json(&api, &format!("/v1/sessions/{session_id}")).await;
    assert_eq!(status, 200, "{session}");
    assert_eq!(session["queue"], "tech");
    assert_eq!(session["state"], "open");
    assert_eq!(session["origin"], "inbound");
    assert_eq!(session["customer"], CUSTOMER);
    assert_eq!(session["number"], FROM);
    assert_eq!(session["language"], "en");
    assert_eq!(session["end_reason"], Value::Null);

    // An agent's reply joins the session.
    let reply = post_message(
        &api,
        json!({"from": FROM, "to": CUSTOMER, "text": "Let us reset it.", "session_id": session_id}),
    )
    .await;
    assert_eq!(reply["status"], "queued", "{reply}");

    let (status, transcript) =
        get_json(&api, &format!("/v1/sessions/{session_id}/transcript")).await;
    assert_eq!(status, 200, "{transcript}");
    assert_eq!(transcript["session_id"], session_id.as_str());
    let lines: Vec<(String, String, String)> = transcript["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .map(|m| {
            assert!(m["at"].as_str().is_some_and(|t| t.ends_with('Z')), "{m}");
            (
                m["direction"].as_str().unwrap_or_default().to_owned(),
                m["author"].as_str().unwrap_or_default().to_owned(),
                m["text"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    let expected: Vec<(String, String, String)> = [
        ("in", "customer", "My router is broken"),
        ("out", "system", CONSENT),
        ("out", "system", MENU),
        ("in", "customer", " 2 "),
        ("in", "system", "tech"),
        ("out", "agent", "Let us reset it."),
    ]
    .iter()
    .map(|(d, a, t)| (d.to_string(), a.to_string(), t.to_string()))
    .collect();
    assert_eq!(lines, expected, "{transcript}");

    // Outbound messages counted by line, queue and service: the consent
    // and the menu (before a queue was chosen), the agent's reply in tech.
    let metrics = metrics_text(&config).await;
    let accepted =
        |labels: &[&str]| metric_sum(&metrics, "carrier_gateway_messages_accepted_total", labels);
    assert_eq!(
        accepted(&["line=\"support\"", "queue=\"\"", "service=\"system\""]),
        2.0,
        "{metrics}"
    );
    assert_eq!(
        accepted(&["line=\"support\"", "queue=\"tech\"", "service=\"channel\""]),
        1.0,
        "{metrics}"
    );

    // Unknown sessions and a channel message without one are refused.
    let unknown = post_message(
        &api,
        json!({"from": FROM, "to": CUSTOMER, "text": "hi", "session_id": "ses_nope"}),
    )
    .await;
    assert_eq!(unknown["error"]["code"], "unknown_session", "{unknown}");
    let (status, body) = get_json(&api, "/v1/sessions/ses_nope").await;
    assert_eq!(
        (status, &body["error"]["code"]),
        (404, &json!("unknown_session"))
    );
    let no_session = post_message(
        &api,
        json!({"from": FROM, "to": CUSTOMER, "text": "hi", "service": "channel"}),
    )
    .await;
    assert_eq!(no_session["error"]["code"], "service_rule", "{no_session}");
}

/// Sessions that ended, each once.
fn ended_sessions(events: &Events) -> Vec<Value> {
    events_of(events, "session.ended")
        .into_iter()
        .map(|e| e["data"].clone())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_timeout_fires_across_a_kill_9() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mo = write_mo(
        dir.path(),
        &[json!({"from": CUSTOMER, "to": FROM, "text": "hello", "delay_ms": 300})],
    );
    let sim = start_sim(dir.path(), &["--mo-file", &mo]);
    let (sink, events) = start_sink().await;
    let (config, api) = write_config(dir.path(), sim.addr, sink, &line("3s", "1h", ONE_QUEUE));
    let mut gateway = Gateway::start(&config, &api);

    wait_until(Duration::from_secs(20), "the session", || {
        !events_of(&events, "session.started").is_empty()
    })
    .await;
    let started = events_of(&events, "session.started")[0]["data"].clone();
    let id = started["id"].as_str().expect("id").to_owned();
    assert_eq!(
        started["queue"], "general",
        "one queue: no menu, that queue"
    );
    // Down across the idle deadline: the timer is in sled, not in memory.
    gateway.kill9();
    tokio::time::sleep(Duration::from_secs(4)).await;
    assert!(ended_sessions(&events).is_empty());
    gateway.restart();

    wait_until(Duration::from_secs(20), "the session ended", || {
        !ended_sessions(&events).is_empty()
    })
    .await;
    let ended = ended_sessions(&events);
    assert_eq!(ended.len(), 1, "{ended:?}");
    assert_eq!(ended[0]["id"], id.as_str());
    assert_eq!(ended[0]["reason"], "idle_timeout", "{ended:?}");
    assert_eq!(ended[0]["origin"], "inbound");
    wait_until(Duration::from_secs(20), "the timeout message", || {
        texts_to(&sim.record, CUSTOMER).iter().any(|t| t == TIMEOUT)
    })
    .await;
    // Consent went out before it; no menu (one queue). A submit in flight
    // at the kill may reach the carrier twice (at-least-once), so repeats
    // of one message are folded.
    let mut sent = texts_to(&sim.record, CUSTOMER);
    sent.dedup();
    assert_eq!(sent, [CONSENT, TIMEOUT]);
    let (_, session) = get_json(&api, &format!("/v1/sessions/{id}")).await;
    assert_eq!(session["state"], "ended", "{session}");
    assert_eq!(session["end_reason"], "idle_timeout");
    assert!(session["ended_at"].is_string(), "{session}");
    let (_, transcript) = get_json(&api, &format!("/v1/sessions/{id}/transcript")).await;
    let kinds: Vec<Value> = transcript["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .map(|m| json!([m["author"], m["kind"]]))
        .collect();
    assert_eq!(
        kinds,
        [
            json!(["customer", null]),
            json!(["system", "consent"]),
            json!(["system", "timeout"])
        ],
        "{transcript}"
    );
    // An agent cannot write into an ended session.
    let late = post_message(
        &api,
        json!({"from": FROM, "to": CUSTOMER, "text": "Still there?", "session_id": id}),
    )
    .await;
    assert_eq!(late["error"]["code"], "unknown_session", "{late}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expiry_ends_an_active_session() {
    let dir = tempfile::tempdir().expect("temp dir");
    // A message every second keeps the 3 s idle timeout away; the 4 s
    // expiry ends the session regardless.
    let entries: Vec<Value> = (0..6)
        .map(|i| json!({"from": CUSTOMER, "to": FROM, "text": format!("still here {i}"), "delay_ms": if i == 0 { 300 } else { 1000 }}))
        .collect();
    let mo = write_mo(dir.path(), &entries);
    let sim = start_sim(dir.path(), &["--mo-file", &mo]);
    let (sink, events) = start_sink().await;
    let (config, api) = write_config(dir.path(), sim.addr, sink, &line("3s", "4s", ONE_QUEUE));
    let _gateway = Gateway::start(&config, &api);

    wait_until(Duration::from_secs(30), "the session expired", || {
        !ended_sessions(&events).is_empty()
    })
    .await;
    let ended = ended_sessions(&events)[0].clone();
    assert_eq!(ended["reason"], "expired", "{ended}");
    let id = ended["id"].as_str().expect("id");
    let (_, session) = get_json(&api, &format!("/v1/sessions/{id}")).await;
    assert_eq!(session["end_reason"], "expired", "{session}");
    let at = |field: &str| {
        humantime::parse_rfc3339(session[field].as_str().expect("time")).expect("rfc3339")
    };
    let lasted = at("ended_at")
        .duration_since(at("started_at"))
        .expect("ends after it starts");
    assert!(lasted >= Duration::from_secs(4), "{session}");
    // Late by at most the timer's wake-up on a loaded machine.
    assert!(lasted < Duration::from_secs(8), "{session}");
    wait_until(Duration::from_secs(20), "the expiry message", || {
        texts_to(&sim.record, CUSTOMER).iter().any(|t| t == EXPIRED)
    })
    .await;
    // The next message opens a new session, without a second consent.
    wait_until(Duration::from_secs(20), "a second session", || {
        events_of(&events, "session.started").len() >= 2
    })
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let sent = texts_to(&sim.record, CUSTOMER);
    assert_eq!(sent.iter().filter(|t| *t == CONSENT).count(), 1, "{sent:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_racing_first_messages_across_a_kill_9_get_one_consent() {
    let dir = tempfile::tempdir().expect("temp dir");
    let texts: Vec<String> = (0..20).map(|i| format!("first contact {i:02}")).collect();
    let entries: Vec<Value> = texts
        .iter()
        .map(|t| json!({"from": CUSTOMER, "to": FROM, "text": t, "delay_ms": 0}))
        .collect();
    let mo = write_mo(dir.path(), &entries);
    let sim = start_sim(dir.path(), &["--mo-file", &mo]);
    let (sink, events) = start_sink().await;
    // Replies go through a carrier that is not up yet, so nothing is in
    // flight at the kill and the count below is of what was queued.
    let later_port = free_port();
    let extra = format!(
        "{}\n[[carriers]]\nname = \"later\"\nprotocol = \"smpp\"\nhost = \"127.0.0.1\"\nport = {later_port}\nsystem_id = \"gw\"\npassword = \"secret\"\nreconnect_delay = \"200ms\"\nreconnect_max_delay = \"500ms\"\n",
        line("30m", "24h", ONE_QUEUE)
    );
    let (config, api) = write_config(dir.path(), sim.addr, sink, &extra);
    let text = std::fs::read_to_string(&config).expect("config");
    let text = text.replacen(
        &format!("number = \"{FROM}\"\ncarrier = \"acme\""),
        &format!("number = \"{FROM}\"\ncarrier = \"later\""),
        1,
    );
    std::fs::write(&config, text).expect("config");
    let mut gateway = Gateway::start(&config, &api);

    wait_until(Duration::from_secs(30), "some first messages", || {
        events_of(&events, "message.received").len() >= 5
    })
    .await;
    gateway.kill9();
    gateway.restart();
    let received_texts = || {
        let mut seen: Vec<String> = events_of(&events, "message.received")
            .iter()
            .filter_map(|e| e["data"]["text"].as_str().map(str::to_owned))
            .collect();
        seen.sort();
        seen.dedup();
        seen
    };
    wait_until(Duration::from_secs(60), "all twenty messages", || {
        received_texts().len() == 20
    })
    .await;
    let sessions: std::collections::HashSet<String> = events_of(&events, "message.received")
        .iter()
        .filter_map(|e| e["data"]["session"]["id"].as_str().map(str::to_owned))
        .collect();
    assert_eq!(
        sessions.len(),
        1,
        "one session for one customer: {sessions:?}"
    );

    let record = dir.path().join("later-record.jsonl");
    let later = Command::new(BIN)
        .args([
            "sim",
            "smsc",
            "--listen",
            &format!("127.0.0.1:{later_port}"),
            "--record",
        ])
        .arg(&record)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .spawn()
        .expect("start the second simulator");
    let _later = Process {
        child: later,
        name: "sim",
    };
    wait_until(Duration::from_secs(30), "the consent message", || {
        !texts_to(&record, CUSTOMER).is_empty()
    })
    .await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(
        texts_to(&record, CUSTOMER),
        [CONSENT],
        "exactly one consent"
    );
    let session = sessions.iter().next().expect("session");
    let (_, transcript) = get_json(&api, &format!("/v1/sessions/{session}/transcript")).await;
    let consents = transcript["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .filter(|m| m["kind"] == "consent")
        .count();
    assert_eq!(consents, 1, "{transcript}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_spanish_queue_switches_the_system_messages_to_spanish() {
    const AYUDA: &str = "Acme: ayuda en acme.example.";
    let dir = tempfile::tempdir().expect("temp dir");
    let mo = write_mo(
        dir.path(),
        &[
            json!({"from": CUSTOMER, "to": FROM, "text": "hola", "delay_ms": 300}),
            json!({"from": CUSTOMER, "to": FROM, "text": "Espanol", "delay_ms": 1500}),
            json!({"from": CUSTOMER, "to": FROM, "text": "help", "delay_ms": 1500}),
            json!({"from": CUSTOMER, "to": FROM, "text": "alto", "delay_ms": 1500}),
            json!({"from": CUSTOMER, "to": FROM, "text": "stop", "delay_ms": 500}),
        ],
    );
    let sim = start_sim(dir.path(), &["--mo-file", &mo]);
    let (sink, events) = start_sink().await;
    let queues = format!(
        r#"{MENU_QUEUES}
[[lines.queues]]
name = "soporte"
keywords = ["3", "español"]
language = "es"

[lines.messages.es]
help_message = "{AYUDA}"
"#
    );
    let (config, api) = write_config(dir.path(), sim.addr, sink, &line("30m", "24h", &queues));
    let _gateway = Gateway::start(&config, &api);

    wait_until(Duration::from_secs(30), "three messages", || {
        events_of(&events, "message.received").len() >= 3
    })
    .await;
    let received = events_of(&events, "message.received");
    assert_eq!(received[0]["data"]["language"], "en");
    assert_eq!(received[1]["data"]["session"]["queue"], "soporte");
    assert_eq!(received[1]["data"]["language"], "es");
    assert_eq!(received[2]["data"]["keyword"], "HELP");
    assert_eq!(
        received[2]["data"]["session"]["id"],
        received[0]["data"]["session"]["id"]
    );
    wait_until(Duration::from_secs(20), "the Spanish HELP reply", || {
        texts_to(&sim.record, CUSTOMER).len() >= 3
    })
    .await;
    let id = received[0]["data"]["session"]["id"].as_str().expect("id");
    // "alto" is no keyword here: it stays in the session. STOP closes it.
    wait_until(
        Duration::from_secs(20),
        "the session closed by STOP",
        || !ended_sessions(&events).is_empty(),
    )
    .await;
    let ended = ended_sessions(&events);
    assert_eq!(ended[0]["id"], id, "{ended:?}");
    assert_eq!(ended[0]["reason"], "closed", "{ended:?}");
    let received = events_of(&events, "message.received");
    assert_eq!(received[3]["data"]["session"]["id"], id);
    assert_eq!(received[4]["data"]["keyword"], "STOP");
    assert_eq!(received[4]["data"]["session"]["id"], id);
    wait_until(Duration::from_secs(20), "the STOP confirmation", || {
        texts_to(&sim.record, CUSTOMER).len() >= 4
    })
    .await;
    assert_eq!(
        texts_to(&sim.record, CUSTOMER),
        [CONSENT, MENU, AYUDA, "You are unsubscribed."]
    );
    let (_, session) = get_json(&api, &format!("/v1/sessions/{id}")).await;
    assert_eq!(session["language"], "es", "{session}");
    assert_eq!(session["queue"], "soporte");
    assert_eq!(session["state"], "ended");
    assert_eq!(session["end_reason"], "closed");
    let (_, transcript) = get_json(&api, &format!("/v1/sessions/{id}/transcript")).await;
    let last = transcript["messages"]
        .as_array()
        .and_then(|m| m.last())
        .cloned()
        .unwrap_or_default();
    assert_eq!(last["kind"], "stop", "{transcript}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_outbound_message_opens_a_session_with_consent_first() {
    let dir = tempfile::tempdir().expect("temp dir");
    // The customer answers a few seconds after the gateway wrote first.
    let mo = write_mo(
        dir.path(),
        &[json!({"from": CUSTOMER, "to": FROM, "text": "Yes, go ahead", "delay_ms": 4000})],
    );
    let sim = start_sim(dir.path(), &["--mo-file", &mo]);
    let (sink, events) = start_sink().await;
    let (config, api) = write_config(dir.path(), sim.addr, sink, &line("30m", "24h", MENU_QUEUES));
    let _gateway = Gateway::start(&config, &api);

    let unknown_queue = post_message(
        &api,
        json!({"from": FROM, "to": CUSTOMER, "text": "x", "service": "outbound", "queue": "sales"}),
    )
    .await;
    assert_eq!(
        unknown_queue["error"]["code"], "service_rule",
        "{unknown_queue}"
    );
    let first = post_message(
        &api,
        json!({"from": FROM, "to": CUSTOMER, "text": "Your technician is on the way.", "service": "outbound", "queue": "tech"}),
    )
    .await;
    assert_eq!(first["status"], "queued", "{first}");
    let second = post_message(
        &api,
        json!({"from": FROM, "to": CUSTOMER, "text": "Reply here with questions.", "service": "outbound"}),
    )
    .await;
    assert_eq!(second["status"], "queued", "{second}");

    wait_until(Duration::from_secs(20), "session.started", || {
        !events_of(&events, "session.started").is_empty()
    })
    .await;
    let started = events_of(&events, "session.started");
    assert_eq!(started.len(), 1, "the second message joined: {started:?}");
    let data = &started[0]["data"];
    assert_eq!(data["origin"], "outbound");
    assert_eq!(data["queue"], "tech");
    let id = data["id"].as_str().expect("id").to_owned();

    wait_until(Duration::from_secs(20), "the three messages", || {
        texts_to(&sim.record, CUSTOMER).len() >= 3
    })
    .await;
    assert_eq!(
        texts_to(&sim.record, CUSTOMER),
        [
            CONSENT,
            "Your technician is on the way.",
            "Reply here with questions."
        ]
    );
    // The customer's answer comes back into the session, without a menu.
    wait_until(Duration::from_secs(20), "the answer", || {
        !events_of(&events, "message.received").is_empty()
    })
    .await;
    let answer = &events_of(&events, "message.received")[0]["data"];
    assert_eq!(answer["session"]["id"], id.as_str(), "{answer}");
    assert_eq!(answer["session"]["new"], false);
    assert_eq!(answer["session"]["queue"], "tech");
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        texts_to(&sim.record, CUSTOMER).len(),
        3,
        "no menu, no second consent"
    );
    let (_, session) = get_json(&api, &format!("/v1/sessions/{id}")).await;
    assert_eq!(session["origin"], "outbound", "{session}");
    let (_, transcript) = get_json(&api, &format!("/v1/sessions/{id}/transcript")).await;
    let authors: Vec<&str> = transcript["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .map(|m| m["author"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(
        authors,
        ["system", "agent", "agent", "customer"],
        "{transcript}"
    );
}
