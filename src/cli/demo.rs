//! `carrier-gateway demo`: the gateway against its embedded SMSC simulator,
//! with a console webhook sink, on a built-in configuration — the first
//! thing a newcomer runs. It sends one sample message itself so the flow
//! (accepted → submitted → delivered) shows without typing anything, prints
//! the curl command to send more, and runs until Ctrl-C (or, with `--once`,
//! until the sample is delivered: what the tests use).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::Duration;

use carrier_protocol::smpp::{DEFAULT_MAX_PDU_LEN, InterfaceVersion};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::CliError;
use crate::core_link::CoreLinkSettings;
use crate::daemon::{self, Settings};
use crate::outbound::plan::PlanOptions;
use crate::sim::smsc::{SmscSimConfig, spawn};
use crate::sim::{ReceiverOptions, WebhookReceiver};
use crate::transport::smpp::{SmppLinkConfig, StatusTable};

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

    let api = pick(8080);
    let carrier = SmppLinkConfig {
        name: "demo-smsc".into(),
        host: "127.0.0.1".into(),
        port: sim.local_addr().port(),
        tls: false,
        tls_ca_file: None,
        system_id: "demo".into(),
        password: "demo".into(),
        system_type: String::new(),
        interface_version: InterfaceVersion::V34,
        bind_timeout: Duration::from_secs(10),
        max_pdu_len: DEFAULT_MAX_PDU_LEN,
        binds: 2,
        window: 64,
        enquire_link_interval: Duration::from_secs(30),
        response_timeout: Duration::from_secs(10),
        reconnect_delay: Duration::from_millis(200),
        reconnect_max_delay: Duration::from_secs(5),
        id_mapping: Default::default(),
        status_table: StatusTable::default(),
        throughput: None,
        addressing: Default::default(),
    };
    let settings = Settings {
        state_dir: state_dir.clone(),
        api_listen: api,
        metrics_listen: Some(pick(9090)),
        tokens: vec![TOKEN.into()],
        http_limits: Default::default(),
        smpp: vec![carrier],
        plans: HashMap::from([("demo-smsc".to_owned(), PlanOptions::default())]),
        numbers: HashMap::from([(NUMBER.to_owned(), "demo-smsc".to_owned())]),
        limits: HashMap::new(),
        default_validity: crate::settings::DEFAULT_VALIDITY,
        retention: Duration::from_secs(7 * 24 * 3600),
        max_outbox: 1_000_000,
        core: CoreLinkSettings {
            webhook_url: format!("http://{}/events", sink.addr()),
            webhook_secret: SECRET.into(),
            batch_max: 1,
            status_events: crate::message_status::MessageStatus::ALL
                .iter()
                .map(|s| s.as_str().to_owned())
                .collect(),
            tls_ca_file: None,
            max_attempts: 10,
            max_age: Duration::from_secs(3600),
        },
        inbound: crate::inbound::InboundSettings::default(),
        services: Default::default(),
    };
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
        "\ncarrier-gateway demo\n  API            http://{api}  (token {TOKEN})\n  SMSC simulator {}  (receipts after 500 ms)\n  webhook sink   http://{}/events  (events are printed below)\n\nSend a message:\n  curl -s -H 'Authorization: Bearer {TOKEN}' -H 'Content-Type: application/json' \\\n    -d '{{\"from\": \"{NUMBER}\", \"to\": \"+15557654321\", \"text\": \"Hello from the demo\"}}' \\\n    http://{api}/v1/messages\nThen: curl -s -H 'Authorization: Bearer {TOKEN}' http://{api}/v1/messages/ID\n\nSending a sample message now:",
        sim.local_addr(),
        sink.addr(),
    );
    let body = format!(
        r#"{{"from": "{NUMBER}", "to": "{CUSTOMER}", "text": "Hello from the carrier-gateway demo"}}"#
    );
    let answer = post(api, "/v1/messages", &body).await?;
    println!("  POST /v1/messages -> {answer}");
    let seen = |what: &dyn Fn(&crate::sim::ReceivedEvent) -> bool| sink.events().iter().any(what);
    wait_for(
        || seen(&|e| e.event_type == "message.status" && e.data["status"] == "delivered"),
        "the sample message was not delivered within 30 s",
    )
    .await?;
    // The customer answers at length, with an emoji: the simulator sends it
    // as a concatenated UCS-2 MO, and the core gets one message.received.
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
    if once {
        println!("sample message delivered and reply received; stopping (--once)");
        let _ = done_tx.send(());
    } else {
        println!("(Ctrl-C to stop)\n");
    }
    gateway.await??;
    let stats = sim.shutdown().await;
    println!("simulator: {stats}");
    let _ = std::fs::remove_dir_all(&state_dir);
    Ok(())
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

/// A minimal HTTP/1.1 POST, to exercise the real API without a client crate.
async fn post(addr: SocketAddr, path: &str, body: &str) -> anyhow::Result<String> {
    let mut stream = tokio::net::TcpStream::connect(addr).await?;
    let request = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {TOKEN}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
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
