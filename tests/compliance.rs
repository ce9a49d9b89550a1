//! STOP, START and HELP end to end: a customer's keyword (an MO from the
//! simulator) changes the opt-out registry in the same transaction as the
//! message, the core hears `optout.changed`, the line's reply goes out, the
//! API refuses to send to an opted-out customer, and a message queued
//! before the STOP is never sent.

mod common;

use std::process::{Command, Stdio};
use std::time::Duration;

use common::*;
use serde_json::{Value, json};

const CUSTOMER: &str = "+15557654321";
const STOP_REPLY: &str = "You are unsubscribed from Acme. Reply START to resubscribe.";
const START_REPLY: &str = "You are subscribed to Acme again. Reply STOP to opt out.";
const HELP_REPLY: &str = "Acme: help at acme.example. Reply STOP to opt out.";

async fn opted_out(api: &str) -> bool {
    let body: Value = client()
        .get(format!(
            "{api}/v1/opt-outs/{CUSTOMER}?from={}",
            urlencode(FROM)
        ))
        .bearer_auth(TOKEN)
        .send()
        .await
        .expect("GET")
        .json()
        .await
        .expect("json");
    body["opted_out"].as_bool().expect("opted_out")
}

fn urlencode(number: &str) -> String {
    number.replace('+', "%2B")
}

fn events_of(events: &Events, kind: &str) -> Vec<Value> {
    events
        .all()
        .into_iter()
        .filter(|e| e["type"] == kind)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stop_help_start_from_a_customer() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mo = dir.path().join("mo.jsonl");
    let lines = [
        json!({"from": CUSTOMER, "to": FROM, "text": " Stop ", "delay_ms": 1500}),
        json!({"from": CUSTOMER, "to": FROM, "text": "help", "delay_ms": 4000}),
        json!({"from": CUSTOMER, "to": FROM, "text": "START", "delay_ms": 3000}),
    ];
    std::fs::write(
        &mo,
        lines.iter().map(|l| format!("{l}\n")).collect::<String>(),
    )
    .expect("mo");
    // The carrier the MOs come from.
    let sim = start_sim(dir.path(), &["--mo-file", &mo.display().to_string()]);
    // The business number's SMS route: nothing listens there yet, so what
    // is sent to the customer waits in the outbox.
    let later_port = free_port();
    let (sink, events) = start_sink().await;
    let extra = format!(
        r#"line = "support"

[[carriers]]
name = "later"
protocol = "smpp"
host = "127.0.0.1"
port = {later_port}
system_id = "gw"
password = "secret"
reconnect_delay = "200ms"
reconnect_max_delay = "500ms"

[[lines]]
name = "support"
consent_message = "Acme: msgs about your requests. Reply STOP to opt out."
help_message = "{HELP_REPLY}"
stop_message = "{STOP_REPLY}"
start_message = "{START_REPLY}"
"#
    );
    let (config, api) = write_config(dir.path(), sim.addr, sink, &extra);
    let text = std::fs::read_to_string(&config).expect("config");
    let text = text.replacen(
        &format!("number = \"{FROM}\"\ncarrier = \"acme\""),
        &format!("number = \"{FROM}\"\ncarrier = \"later\""),
        1,
    );
    std::fs::write(&config, text).expect("config");
    let _gateway = Gateway::start(&config, &api);

    // Queued before the STOP (its carrier is not up).
    let queued = send_one(&api, FROM, CUSTOMER, "Your order shipped").await;

    // STOP: the core hears it, the registry says so, the API refuses.
    wait_until(Duration::from_secs(20), "optout.changed", || {
        !events_of(&events, "optout.changed").is_empty()
    })
    .await;
    let change = &events_of(&events, "optout.changed")[0]["data"];
    assert_eq!(
        change,
        &json!({"customer": CUSTOMER, "number": FROM, "opted_out": true, "keyword": "STOP"})
    );
    let received = events_of(&events, "message.received");
    assert_eq!(received[0]["data"]["keyword"], "STOP", "{received:?}");
    assert!(opted_out(&api).await);
    let refused = post_message(&api, json!({"from": FROM, "to": CUSTOMER, "text": "Sale!"})).await;
    assert_eq!(refused["error"]["code"], "opted_out", "{refused}");

    // The carrier comes up: the queued message is rejected, not sent; the
    // STOP confirmation goes.
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
    wait_for_status(
        &api,
        std::slice::from_ref(&queued),
        "rejected",
        Duration::from_secs(20),
    )
    .await;
    let message = get_message(&api, &queued).await;
    assert_eq!(message["error"]["code"], "opted_out", "{message}");
    let texts = || -> Vec<String> {
        std::fs::read_to_string(&record)
            .unwrap_or_default()
            .lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .map(|r| record_text(&r))
            .collect()
    };
    wait_until(Duration::from_secs(20), "the STOP confirmation", || {
        texts().iter().any(|t| t == STOP_REPLY)
    })
    .await;

    // HELP is answered while opted out, and changes nothing.
    wait_until(Duration::from_secs(20), "the HELP reply", || {
        texts().iter().any(|t| t == HELP_REPLY)
    })
    .await;
    assert!(opted_out(&api).await);
    assert_eq!(events_of(&events, "optout.changed").len(), 1);

    // START: back in, confirmed, and messages go again.
    wait_until(Duration::from_secs(20), "opted back in", || {
        events_of(&events, "optout.changed").len() == 2
    })
    .await;
    assert_eq!(
        events_of(&events, "optout.changed")[1]["data"]["opted_out"],
        false
    );
    assert!(!opted_out(&api).await);
    wait_until(Duration::from_secs(20), "the START confirmation", || {
        texts().iter().any(|t| t == START_REPLY)
    })
    .await;
    let again = post_message(
        &api,
        json!({"from": FROM, "to": CUSTOMER, "text": "Welcome back"}),
    )
    .await;
    assert_eq!(again["status"], "queued", "{again}");
    assert!(
        !texts().iter().any(|t| t == "Your order shipped"),
        "the message queued before the STOP was sent"
    );
    // Counted by keyword and change (HELP changes nothing).
    let metrics = metrics_text(&config).await;
    let count = |keyword: &str, change: &str| {
        metric_sum(
            &metrics,
            "carrier_gateway_opt_outs_total",
            &[
                &format!("number=\"{FROM}\""),
                &format!("keyword=\"{keyword}\""),
                &format!("change=\"{change}\""),
            ],
        )
    };
    assert_eq!(count("STOP", "opt_out"), 1.0, "{metrics}");
    assert_eq!(count("START", "opt_in"), 1.0, "{metrics}");
}

/// A line's own words (`stop_keywords = ["ARRET", "ALTO"]`) opt out like
/// STOP, accents and case aside; the standard words still work beside them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_line_s_own_stop_word_opts_out() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mo = dir.path().join("mo.jsonl");
    std::fs::write(
        &mo,
        format!(
            "{}\n",
            json!({"from": CUSTOMER, "to": FROM, "text": " Arrêt ", "delay_ms": 200})
        ),
    )
    .expect("mo");
    let sim = start_sim(dir.path(), &["--mo-file", &mo.display().to_string()]);
    let (sink, events) = start_sink().await;
    let extra = format!(
        r#"line = "support"

[[lines]]
name = "support"
language = "fr"
stop_keywords = ["ARRET", "ALTO"]
consent_message = "Acme : messages sur vos demandes. ARRET pour ne plus en recevoir."
help_message = "{HELP_REPLY}"
stop_message = "{STOP_REPLY}"
start_message = "{START_REPLY}"
"#
    );
    let (config, api) = write_config(dir.path(), sim.addr, sink, &extra);
    let _gateway = Gateway::start(&config, &api);

    wait_until(Duration::from_secs(20), "optout.changed", || {
        !events_of(&events, "optout.changed").is_empty()
    })
    .await;
    let change = &events_of(&events, "optout.changed")[0]["data"];
    assert_eq!(
        change,
        &json!({"customer": CUSTOMER, "number": FROM, "opted_out": true, "keyword": "STOP"})
    );
    assert!(opted_out(&api).await);
    wait_until(Duration::from_secs(20), "the STOP confirmation", || {
        sim_records(&sim)
            .iter()
            .any(|r| record_text(r) == STOP_REPLY)
    })
    .await;
}

/// `opt_out_scope = "brand"`: a STOP to one number opts the customer out
/// of every number of its brand (one `optout.changed` each), and of no
/// other brand's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_brand_wide_stop_covers_every_number_of_the_brand() {
    const SISTER: &str = "+15551230002";
    const OTHER_BRAND: &str = "+15551230003";
    let dir = tempfile::tempdir().expect("temp dir");
    let mo = dir.path().join("mo.jsonl");
    std::fs::write(
        &mo,
        format!(
            "{}\n",
            json!({"from": CUSTOMER, "to": FROM, "text": "STOP", "delay_ms": 200})
        ),
    )
    .expect("mo");
    let sim = start_sim(dir.path(), &["--mo-file", &mo.display().to_string()]);
    let (sink, events) = start_sink().await;
    let extra = format!(
        r#"line = "support"
campaign = "C1"

[[numbers]]
number = "{SISTER}"
carrier = "acme"
line = "support"
campaign = "C1"

[[numbers]]
number = "{OTHER_BRAND}"
carrier = "acme"
line = "support"
campaign = "C2"

[[brands]]
id = "B1"

[[brands]]
id = "B2"

[[campaigns]]
id = "C1"
brand = "B1"

[[campaigns]]
id = "C2"
brand = "B2"

[[lines]]
name = "support"
opt_out_scope = "brand"
consent_message = "Acme: msgs about your requests. Reply STOP to opt out."
help_message = "{HELP_REPLY}"
stop_message = "{STOP_REPLY}"
start_message = "{START_REPLY}"
"#
    );
    let (config, api) = write_config(dir.path(), sim.addr, sink, &extra);
    let _gateway = Gateway::start(&config, &api);

    wait_until(Duration::from_secs(20), "two optout.changed", || {
        events_of(&events, "optout.changed").len() >= 2
    })
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mut changed: Vec<String> = events_of(&events, "optout.changed")
        .iter()
        .map(|e| {
            assert_eq!(e["data"]["opted_out"], true, "{e}");
            assert_eq!(e["data"]["keyword"], "STOP", "{e}");
            e["data"]["number"].as_str().unwrap_or_default().to_owned()
        })
        .collect();
    changed.sort();
    assert_eq!(changed, [FROM, SISTER]);
    for (number, refused) in [(FROM, true), (SISTER, true), (OTHER_BRAND, false)] {
        let answer = post_message(
            &api,
            json!({"from": number, "to": CUSTOMER, "text": "Sale!", "service": "session_less"}),
        )
        .await;
        if refused {
            assert_eq!(answer["error"]["code"], "opted_out", "{number}: {answer}");
        } else {
            assert_eq!(answer["status"], "queued", "{number}: {answer}");
        }
    }
}
