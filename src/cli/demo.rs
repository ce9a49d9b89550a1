//! `carrier-gateway demo`: the gateway against its embedded SMSC and MMSC
//! simulators, with a console webhook sink, on a built-in configuration —
//! the first thing a newcomer runs. It walks through the product without
//! typing anything: a sample message (accepted → submitted → delivered);
//! the customer's long reply, which opens a session with consent and the
//! menu; their menu choice; a wait-time text to a caller in the IVR; the
//! customer's MMS with a photo and a video (over MM7), whose media the core
//! fetches; and the agent's MMS back with a diagram. It prints the curl
//! command to send more, and runs until Ctrl-C (or, with `--once`, until
//! all of that is done: what the tests use).

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::CliError;
use crate::daemon::{self, Settings};
use crate::sim::mmsc::mo_file::media_item;
use crate::sim::mmsc::{MmscSimConfig, MoMms, sample_jpeg, sample_mp4};
use crate::sim::smsc::{SmscSimConfig, spawn};
use crate::sim::{ReceiverOptions, WebhookReceiver};

const TOKEN: &str = "demo-token";
const SECRET: &str = "demo-secret";
const NUMBER: &str = "+15551230001";
/// The demo's customer.
const CUSTOMER: &str = "+15557654321";

/// Runs the demo.
pub fn run(once: bool) -> Result<(), CliError> {
    super::run::init_logging();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(demo(once)).map_err(CliError::Failed)
}

/// `preferred` if free, else any free loopback port.
fn pick(preferred: u16) -> SocketAddr {
    let try_bind =
        |port| std::net::TcpListener::bind(("127.0.0.1", port)).and_then(|l| l.local_addr());
    try_bind(preferred)
        .or_else(|_| try_bind(0))
        .unwrap_or_else(|_| SocketAddr::from(([127, 0, 0, 1], preferred)))
}

async fn demo(once: bool) -> anyhow::Result<()> {
    let state_dir =
        std::env::temp_dir().join(format!("carrier-gateway-demo-{}", std::process::id()));
    let mut sim_config = SmscSimConfig::new(SocketAddr::from(([127, 0, 0, 1], 0)));
    sim_config.dlr_delay = Some(Duration::from_millis(500));
    let sim = spawn(sim_config).await?;
    let mut sink_options = ReceiverOptions::new(SECRET);
    sink_options.print = true;
    sink_options.record = true;
    let sink = WebhookReceiver::spawn(SocketAddr::from(([127, 0, 0, 1], 0)), sink_options).await?;
    // The MMSC posts MO MMS and delivery reports to the gateway's MM7
    // listener.
    let mm7_listen = pick(7071);
    let mut mmsc_config = MmscSimConfig::new(SocketAddr::from(([127, 0, 0, 1], 0)));
    mmsc_config.deliver_to = Some(format!("http://{mm7_listen}/mm7"));
    mmsc_config.report_delay = Duration::from_millis(500);
    let mmsc = crate::sim::mmsc::spawn(mmsc_config).await?;

    let api = pick(8080);
    let config_text = demo_config(&DemoAddresses {
        state_dir: &state_dir,
        api,
        metrics: pick(9090),
        sink: sink.addr(),
        sim: sim.local_addr(),
        mmsc: mmsc.local_addr(),
        mm7_listen,
    });
    let config = crate::config::Config::from_str(&config_text, "demo.toml")
        .map_err(|e| anyhow::anyhow!("the demo's built-in configuration is invalid: {e}"))?;
    let settings = Settings::from_config(&config);
    let (done_tx, done_rx) = tokio::sync::oneshot::channel::<()>();
    let shutdown = async move {
        tokio::select! {
            _ = super::run::shutdown_signal(|| {
                tracing::info!("SIGHUP: the demo's configuration is built in; nothing to reload")
            }) => {}
            _ = done_rx => {}
        }
    };
    let (ready_tx, ready_rx) = tokio::sync::oneshot::channel::<()>();
    let gateway = tokio::spawn(daemon::run(
        settings,
        shutdown,
        tokio::sync::mpsc::channel(1).1,
        move || {
            let _ = ready_tx.send(());
        },
    ));
    let _ = ready_rx.await;
    println!(
        "\ncarrier-gateway demo\n  API            http://{api}  (token {TOKEN})\n  SMSC simulator {}  (receipts after 500 ms)\n  MMSC simulator {}  (MM7; delivery reports after 500 ms)\n  webhook sink   http://{}/events  (events are printed below)\n\nSend a message:\n  curl -s -H 'Authorization: Bearer {TOKEN}' -H 'Content-Type: application/json' \\\n    -d '{{\"from\": \"{NUMBER}\", \"to\": \"+15557654321\", \"text\": \"Hello from the demo\"}}' \\\n    http://{api}/v1/messages\nThen: curl -s -H 'Authorization: Bearer {TOKEN}' http://{api}/v1/messages/ID\n\nSending a sample message now:",
        sim.local_addr(),
        mmsc.local_addr(),
        sink.addr(),
    );
    let body = format!(
        r#"{{"from": "{NUMBER}", "to": "{CUSTOMER}", "text": "Hello from the carrier-gateway demo"}}"#
    );
    let answer = send(api, "POST", "/v1/messages", &body).await?;
    println!("  POST /v1/messages -> {answer}");
    let seen = |what: &dyn Fn(&crate::sim::ReceivedEvent) -> bool| sink.events().iter().any(what);
    wait_for(
        || seen(&|e| e.event_type == "message.status" && e.data["status"] == "delivered"),
        "the sample message was not delivered within 30 s",
    )
    .await?;
    // The customer answers at length, with an emoji: the simulator sends it
    // as a concatenated UCS-2 MO, and the core gets one message.received.
    // It is their first text to the number's line, so it opens a session:
    // the consent terms go out once, then the menu.
    let reply = "Thanks! The parcel still shows as pending on my side, and the shop says it \
                 left days ago. Could you send the tracking link? 📦";
    println!("\nThe customer replies (a long MO, sent in parts by the simulator):");
    sim.inject_mo(CUSTOMER, NUMBER, reply)
        .map_err(|e| anyhow::anyhow!("cannot inject the reply: {e}"))?;
    wait_for(
        || seen(&|e| e.event_type == "message.received"),
        "the customer's reply did not reach the core within 30 s",
    )
    .await?;
    println!("\nIt opened a session: the line sends its consent terms, then its menu.");
    let delivered = || {
        sink.events()
            .iter()
            .filter(|e| e.event_type == "message.status" && e.data["status"] == "delivered")
            .count()
    };
    wait_for(
        || delivered() >= 3,
        "the consent and menu messages were not delivered within 30 s",
    )
    .await?;
    println!("\nThe customer picks the menu's option 2 (Technical support):");
    sim.inject_mo(CUSTOMER, NUMBER, "2")
        .map_err(|e| anyhow::anyhow!("cannot inject the menu choice: {e}"))?;
    wait_for(
        || seen(&|e| e.event_type == "message.received" && e.data["session"]["queue"] == "tech"),
        "the menu choice did not reach the core within 30 s",
    )
    .await?;
    if let Some(session) = sink
        .events()
        .iter()
        .find(|e| e.event_type == "session.started")
        .and_then(|e| e.data["id"].as_str().map(str::to_owned))
    {
        let answer = send(
            api,
            "GET",
            &format!("/v1/sessions/{session}/transcript"),
            "",
        )
        .await?;
        let json = answer.find('{').map_or("", |start| &answer[start..]);
        if let Ok(transcript) = serde_json::from_str::<serde_json::Value>(json) {
            println!("\nThe session's transcript (GET /v1/sessions/{session}/transcript):");
            for m in transcript["messages"].as_array().into_iter().flatten() {
                let kind = m["kind"]
                    .as_str()
                    .map(|k| format!(" ({k})"))
                    .unwrap_or_default();
                println!(
                    "  {:<3} {:<8}{:<14} {}",
                    m["direction"].as_str().unwrap_or_default(),
                    m["author"].as_str().unwrap_or_default(),
                    kind,
                    m["text"].as_str().unwrap_or_default()
                );
            }
        }
    }
    // A caller waiting in the IVR gets a wait-time text from a template.
    println!("\nA caller waits in the IVR: the call is registered, and a wait-time text goes out:");
    let caller = "+15557650100";
    let answer = send(
        api,
        "PUT",
        "/v1/calls/demo-call-1",
        &format!(r#"{{"customer": "{caller}", "number": "{NUMBER}"}}"#),
    )
    .await?;
    println!("  PUT /v1/calls/demo-call-1 -> {answer}");
    let body = format!(
        r#"{{"from": "{NUMBER}", "to": "{caller}", "service": "wait_time", "template": "wait_time", "variables": {{"ewt_minutes": 7}}, "call_id": "demo-call-1", "ewt_seconds": 420}}"#
    );
    let answer = send(api, "POST", "/v1/messages", &body).await?;
    println!("  POST /v1/messages (wait_time) -> {answer}");
    wait_for(
        || delivered() >= 4,
        "the wait-time text was not delivered within 30 s",
    )
    .await?;
    // The customer sends a photo and a short video of the device (an MO
    // MMS over MM7): the core gets one message.received listing the media,
    // each with a URL it fetches with its token.
    println!("\nThe customer sends a photo and a video of the broken device (an MMS over MM7):");
    let mut mo = MoMms::new(CUSTOMER, NUMBER);
    mo.text = Some("This is what the screen does".to_owned());
    mo.media = vec![
        media_item("screen.jpg", sample_jpeg().to_vec()),
        media_item("screen.mp4", sample_mp4().to_vec()),
    ];
    mmsc.inject_mo(mo)
        .map_err(|e| anyhow::anyhow!("cannot inject the MMS: {e}"))?;
    let with_media = || {
        sink.events().into_iter().find(|e| {
            e.event_type == "message.received"
                && e.data["media"].as_array().is_some_and(|m| !m.is_empty())
        })
    };
    wait_for(
        || with_media().is_some(),
        "the customer's MMS did not reach the core within 30 s",
    )
    .await?;
    if let Some(event) = with_media() {
        for item in event.data["media"].as_array().into_iter().flatten() {
            let url = item["url"].as_str().unwrap_or_default();
            let path = url.find("/v1/").map_or(url, |i| &url[i..]);
            let (status, bytes) = fetch(api, path).await?;
            println!(
                "  {} {} bytes -> GET {path}: {status}, {bytes} bytes",
                item["content_type"].as_str().unwrap_or_default(),
                item["size"],
            );
        }
    }
    // The agent answers with a diagram: stored with POST /v1/media, sent as
    // an MMS, delivered through the MMSC's delivery report.
    println!("\nThe agent answers with a diagram (an MMS back):");
    let answer = upload(api, "image/jpeg", sample_jpeg()).await?;
    println!("  POST /v1/media -> {answer}");
    let media_id = answer
        .find("\"id\":\"")
        .map(|i| &answer[i + 6..])
        .and_then(|rest| rest.split('"').next())
        .unwrap_or_default()
        .to_owned();
    let body = format!(
        r#"{{"from": "{NUMBER}", "to": "{CUSTOMER}", "text": "Hold the power button for 10 s, as in this diagram.", "media": [{{"id": "{media_id}"}}]}}"#
    );
    let answer = send(api, "POST", "/v1/messages", &body).await?;
    println!("  POST /v1/messages (with media) -> {answer}");
    wait_for(
        || delivered() >= 5,
        "the agent's MMS was not delivered within 30 s",
    )
    .await?;
    if let Some(submit) = mmsc.submits().last() {
        println!(
            "  the MMSC took {} ({} parts: {}), delivery report Retrieved",
            submit.message_id,
            submit.items.len(),
            submit
                .items
                .iter()
                .map(|i| i.content_type.split(';').next().unwrap_or_default())
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    if once {
        println!(
            "\nsample delivered, reply received with consent and menu, queue chosen, \
             wait-time text delivered, MMS received with its media and MMS sent; \
             stopping (--once)"
        );
        let _ = done_tx.send(());
    } else {
        println!("(Ctrl-C to stop)\n");
    }
    gateway.await??;
    let stats = sim.shutdown().await;
    println!("SMSC simulator: {stats}");
    let stats = mmsc.shutdown().await;
    println!("MMSC simulator: {stats}");
    let _ = std::fs::remove_dir_all(&state_dir);
    Ok(())
}

/// Where the demo's pieces listen.
struct DemoAddresses<'a> {
    state_dir: &'a std::path::Path,
    api: SocketAddr,
    metrics: SocketAddr,
    sink: SocketAddr,
    sim: SocketAddr,
    mmsc: SocketAddr,
    mm7_listen: SocketAddr,
}

/// The demo's configuration: a real configuration file's text, so the demo
/// runs what an operator would run (a line with consent, a menu with two
/// queues, a wait-time template and its EWT threshold).
fn demo_config(at: &DemoAddresses<'_>) -> String {
    format!(
        r#"state_dir = "{state}"

[api]
listen = "{api}"
tokens = ["{TOKEN}"]

[metrics]
listen = "{metrics}"

[core]
webhook_url = "http://{sink}/events"
webhook_secret = "{SECRET}"

[[carriers]]
name = "demo-smsc"
protocol = "smpp"
host = "127.0.0.1"
port = {sim_port}
system_id = "demo"
password = "demo"
binds = 2
window = 64

[[carriers]]
name = "demo-mmsc"
protocol = "mm7"
url = "http://{mmsc}/mm7"
vasp_id = "demo"
vas_id = "support"
listen = "{mm7_listen}"

[[numbers]]
number = "{NUMBER}"
carrier = "demo-smsc"
mms_carrier = "demo-mmsc"
line = "support"

[[lines]]
name = "support"
language = "en"
consent_message = "Acme Support: msgs about your requests. Msg&data rates may apply. Reply STOP to opt out, HELP for help."
help_message = "Acme Support: help at acme.example or 1-800-555-0100. Reply STOP to opt out."
stop_message = "You are unsubscribed from Acme Support. Reply START to resubscribe."
start_message = "You are subscribed to Acme Support again. Reply STOP to opt out."
menu_prompt = "Reply 1 for Billing or 2 for Technical support."
idle_timeout = "30m"
expiry = "24h"
timeout_message = "This conversation has ended due to inactivity. Text us anytime to start again."

[[lines.queues]]
name = "billing"
keywords = ["1", "billing"]

[[lines.queues]]
name = "tech"
keywords = ["2", "tech", "support"]

[templates.wait_time]
en = "Thanks for waiting. Your wait is about {{{{ewt_minutes}}}} min. Reply here with the reason for your call."

[services.wait_time]
min_ewt = "2m"
"#,
        state = at.state_dir.display(),
        api = at.api,
        metrics = at.metrics,
        sink = at.sink,
        sim_port = at.sim.port(),
        mmsc = at.mmsc,
        mm7_listen = at.mm7_listen,
    )
}

/// Waits (at most 30 s) until `done` says so.
async fn wait_for(done: impl Fn() -> bool, timeout_message: &str) -> anyhow::Result<()> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while !done() {
        if tokio::time::Instant::now() > deadline {
            anyhow::bail!("{timeout_message}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Ok(())
}

/// `POST /v1/media` with raw bytes.
async fn upload(addr: SocketAddr, content_type: &str, bytes: &[u8]) -> anyhow::Result<String> {
    let mut stream = tokio::net::TcpStream::connect(addr).await?;
    let head = format!(
        "POST /v1/media HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {TOKEN}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        bytes.len()
    );
    stream.write_all(head.as_bytes()).await?;
    stream.write_all(bytes).await?;
    let mut response = String::new();
    stream.read_to_string(&mut response).await?;
    let status = response.lines().next().unwrap_or_default().to_owned();
    let json = response.split("\r\n\r\n").nth(1).unwrap_or_default().trim();
    Ok(format!("{status} {json}"))
}

/// `GET path` with the token: the status line and the body's length.
async fn fetch(addr: SocketAddr, path: &str) -> anyhow::Result<(String, usize)> {
    let mut stream = tokio::net::TcpStream::connect(addr).await?;
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {TOKEN}\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).await?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await?;
    let split = response
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or(response.len());
    let head = String::from_utf8_lossy(&response[..split]);
    let status = head.lines().next().unwrap_or_default().to_owned();
    Ok((status, response.len().saturating_sub(split + 4)))
}

/// A minimal HTTP/1.1 request with a JSON body, to exercise the real API
/// without a client crate.
async fn send(addr: SocketAddr, method: &str, path: &str, body: &str) -> anyhow::Result<String> {
    let mut stream = tokio::net::TcpStream::connect(addr).await?;
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {TOKEN}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await?;
    let mut response = String::new();
    stream.read_to_string(&mut response).await?;
    let status = response.lines().next().unwrap_or_default().to_owned();
    let json = response
        .split("\r\n\r\n")
        .nth(1)
        .unwrap_or_default()
        .trim()
        .to_owned();
    Ok(format!("{status} {json}"))
}
