//! Harness for the integration tests: the real `carrier-gateway` binary
//! against the real SMSC simulator (`carrier-gateway sim smsc`, a separate
//! process, so the gateway can be killed without taking the carrier down)
//! and a webhook sink in the test process.

#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

pub const BIN: &str = env!("CARGO_BIN_EXE_carrier-gateway");
pub const TOKEN: &str = "test-token";
pub const SECRET: &str = "test-secret";
pub const FROM: &str = "+15551230001";

/// Where [`free_port`] looks: below Linux's ephemeral range (32768 and up),
/// so that no outgoing connection of a test running alongside can take the
/// port between the moment it is chosen and the moment a process binds it.
/// A port chosen by binding port 0 came from the ephemeral range, and once
/// in a CI run a gateway's own reconnects took its API port that way.
const TEST_PORTS: std::ops::Range<u16> = 20_000..32_000;

/// A loopback port free for TCP and UDP, never handed out twice in one test
/// process (the tests of a binary run in parallel threads). The starting
/// point depends on the process id, so test binaries run side by side start
/// far apart.
pub fn free_port() -> u16 {
    use std::sync::atomic::{AtomicU32, Ordering};
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let span = u32::from(TEST_PORTS.end - TEST_PORTS.start);
    let start = (std::process::id().wrapping_mul(997)) % span;
    for _ in 0..span {
        let offset = (start + NEXT.fetch_add(1, Ordering::Relaxed)) % span;
        let port = TEST_PORTS.start + u16::try_from(offset).expect("offset below the span");
        let tcp = TcpListener::bind(("127.0.0.1", port));
        let udp = std::net::UdpSocket::bind(("127.0.0.1", port));
        if tcp.is_ok() && udp.is_ok() {
            return port;
        }
    }
    panic!("no free port in {TEST_PORTS:?}");
}

/// Kills the child when dropped, so a failing test leaves no process behind.
pub struct Process {
    pub child: Child,
    pub name: &'static str,
}

impl Process {
    pub fn kill9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    pub fn terminate(&mut self) -> Option<std::process::ExitStatus> {
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        self.kill9();
        None
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        self.kill9();
    }
}

/// The SMSC simulator as a process.
pub struct Sim {
    pub process: Process,
    pub addr: SocketAddr,
    pub record: PathBuf,
}

pub fn start_sim(dir: &Path, extra: &[&str]) -> Sim {
    let port = free_port();
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse().expect("address");
    start_sim_on(dir, addr, extra)
}

/// The simulator on a given address (a carrier that comes back).
pub fn start_sim_on(dir: &Path, addr: SocketAddr, extra: &[&str]) -> Sim {
    let record = dir.join("sim-record.jsonl");
    let mut args = vec![
        "sim".to_owned(),
        "smsc".to_owned(),
        "--listen".to_owned(),
        addr.to_string(),
        "--record".to_owned(),
        record.display().to_string(),
    ];
    args.extend(extra.iter().map(|s| s.to_string()));
    let child = Command::new(BIN)
        .args(&args)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start the simulator");
    wait_for_port(addr);
    Sim {
        process: Process { child, name: "sim" },
        addr,
        record,
    }
}

pub fn wait_for_port(addr: SocketAddr) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        if std::net::TcpStream::connect(addr).is_ok() {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("nothing listens on {addr}");
}

/// Lines of the simulator's record file: one per accepted submit_sm.
pub fn sim_records(sim: &Sim) -> Vec<Value> {
    let Ok(file) = std::fs::File::open(&sim.record) else {
        return Vec::new();
    };
    BufReader::new(file)
        .lines()
        .map_while(Result::ok)
        .filter_map(|l| serde_json::from_str(&l).ok())
        .collect()
}

/// Events received by the webhook sink.
#[derive(Clone, Default)]
pub struct Events(pub Arc<Mutex<Vec<Value>>>);

impl Events {
    pub fn all(&self) -> Vec<Value> {
        self.0.lock().map(|v| v.clone()).unwrap_or_default()
    }
}

/// A webhook sink: accepts every signed POST and records the events.
pub async fn start_sink() -> (SocketAddr, Events) {
    use axum::body::Bytes;
    use axum::http::{HeaderMap, StatusCode};
    use axum::routing::post;

    let events = Events::default();
    let recorded = events.clone();
    let app = axum::Router::new().route(
        "/events",
        post(move |headers: HeaderMap, body: Bytes| {
            let recorded = recorded.clone();
            async move {
                let signature = headers
                    .get("x-gateway-signature")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default()
                    .to_owned();
                if !carrier_gateway::core_link::verify(SECRET.as_bytes(), &body, &signature) {
                    return StatusCode::UNAUTHORIZED;
                }
                let Ok(value) = serde_json::from_slice::<Value>(&body) else {
                    return StatusCode::BAD_REQUEST;
                };
                let mut list = recorded.0.lock().expect("lock");
                match value.get("events").and_then(Value::as_array) {
                    Some(batch) => list.extend(batch.iter().cloned()),
                    None => list.push(value),
                }
                StatusCode::OK
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind the sink");
    let addr = listener.local_addr().expect("sink address");
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (addr, events)
}

/// The gateway as a process with its config file and state directory.
pub struct Gateway {
    pub process: Option<Process>,
    pub api: String,
    pub config: PathBuf,
}

/// Writes a config for one SMPP carrier `acme` at `sim` and the number
/// [`FROM`]; `extra` is appended (more carriers, numbers).
pub fn write_config(
    dir: &Path,
    sim: SocketAddr,
    sink: SocketAddr,
    extra: &str,
) -> (PathBuf, String) {
    let api_port = free_port();
    let config = format!(
        r#"state_dir = "{state}"

[api]
listen = "127.0.0.1:{api_port}"
tokens = ["{TOKEN}"]

[metrics]
listen = "127.0.0.1:{metrics_port}"

[core]
webhook_url = "http://{sink}/events"
webhook_secret = "{SECRET}"
batch_max = 100

[[carriers]]
name = "acme"
protocol = "smpp"
host = "127.0.0.1"
port = {sim_port}
system_id = "gw"
password = "secret"
binds = 2
window = 64

[[numbers]]
number = "{FROM}"
carrier = "acme"
{extra}
"#,
        state = dir.join("state").display(),
        metrics_port = free_port(),
        sim_port = sim.port(),
    );
    let path = dir.join("gateway.toml");
    std::fs::write(&path, config).expect("write the config");
    (path, format!("http://127.0.0.1:{api_port}"))
}

impl Gateway {
    pub fn start(config: &Path, api: &str) -> Gateway {
        let mut gateway = Gateway {
            process: None,
            api: api.to_owned(),
            config: config.to_owned(),
        };
        gateway.restart();
        gateway
    }

    pub fn restart(&mut self) {
        let child = Command::new(BIN)
            .args(["run", "--config"])
            .arg(&self.config)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start the gateway");
        self.process = Some(Process {
            child,
            name: "gateway",
        });
        let addr: SocketAddr = self
            .api
            .trim_start_matches("http://")
            .parse()
            .expect("API address");
        wait_for_port(addr);
    }

    pub fn kill9(&mut self) {
        if let Some(mut p) = self.process.take() {
            p.kill9();
        }
    }
}

pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .pool_max_idle_per_host(16)
        .build()
        .expect("HTTP client")
}

/// Polls `GET /v1/messages/{id}` until every id has `status`, or panics.
pub async fn wait_for_status(api: &str, ids: &[String], status: &str, timeout: Duration) {
    let client = client();
    let deadline = Instant::now() + timeout;
    let mut pending: Vec<&String> = ids.iter().collect();
    while !pending.is_empty() {
        assert!(
            Instant::now() < deadline,
            "{} messages not {status} after {timeout:?}, e.g. {}",
            pending.len(),
            pending[0]
        );
        let mut still = Vec::new();
        for id in pending {
            let body: Value = client
                .get(format!("{api}/v1/messages/{id}"))
                .bearer_auth(TOKEN)
                .send()
                .await
                .expect("GET")
                .json()
                .await
                .expect("JSON");
            if body["status"] != status {
                still.push(id);
            }
        }
        pending = still;
        if !pending.is_empty() {
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

/// Sends `n` messages to distinct customers in batches; returns the ids.
pub async fn send_batches(api: &str, n: usize, batch: usize, text: &str) -> Vec<String> {
    let client = client();
    let mut ids = Vec::with_capacity(n);
    let mut i = 0;
    while i < n {
        let count = batch.min(n - i);
        let messages: Vec<Value> = (i..i + count)
            .map(|k| {
                serde_json::json!({
                    "from": FROM,
                    "to": format!("+1555{:07}", k),
                    "text": format!("{text} {k}"),
                })
            })
            .collect();
        ids.extend(post_batch(&client, api, messages).await);
        i += count;
    }
    ids
}

/// Waits until `check` holds, or panics naming `what`.
pub async fn wait_until(timeout: Duration, what: &str, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !check() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Texts of the submits the simulator accepted, with counts. Segments are
/// single here: each text is one submit.
pub fn accepted_texts(sim: &Sim) -> std::collections::HashMap<String, usize> {
    let mut counts = std::collections::HashMap::new();
    for record in sim_records(sim) {
        *counts.entry(record_text(&record)).or_insert(0) += 1;
    }
    counts
}

/// The GSM text of one simulator record.
pub fn record_text(record: &Value) -> String {
    let hex = record["short_message_hex"].as_str().unwrap_or_default();
    let bytes = carrier_protocol::hex::decode(hex).unwrap_or_default();
    carrier_protocol::text::gsm7::decode_unpacked(
        &bytes,
        carrier_protocol::text::gsm7::Tables::DEFAULT,
    )
    .unwrap_or_default()
}

/// `POST /v1/messages/batch` of `messages`, every one of which must be
/// accepted; returns their ids in order.
pub async fn post_batch(client: &reqwest::Client, api: &str, messages: Vec<Value>) -> Vec<String> {
    let response: Value = client
        .post(format!("{api}/v1/messages/batch"))
        .bearer_auth(TOKEN)
        .json(&serde_json::json!({ "messages": messages }))
        .send()
        .await
        .expect("POST batch")
        .json()
        .await
        .expect("JSON");
    response["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|result| result["id"].as_str().expect("accepted").to_owned())
        .collect()
}

/// `POST /v1/messages` with `body`; returns the response's JSON.
pub async fn post_message(api: &str, body: Value) -> Value {
    client()
        .post(format!("{api}/v1/messages"))
        .bearer_auth(TOKEN)
        .json(&body)
        .send()
        .await
        .expect("POST")
        .json()
        .await
        .expect("JSON")
}

/// Sends one message; returns its id.
pub async fn send_one(api: &str, from: &str, to: &str, text: &str) -> String {
    let response = post_message(
        api,
        serde_json::json!({ "from": from, "to": to, "text": text }),
    )
    .await;
    response["id"]
        .as_str()
        .unwrap_or_else(|| panic!("not accepted: {response}"))
        .to_owned()
}

/// `GET /v1/messages/{id}`.
pub async fn get_message(api: &str, id: &str) -> Value {
    client()
        .get(format!("{api}/v1/messages/{id}"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .expect("GET")
        .json()
        .await
        .expect("JSON")
}

/// The gateway's `/metrics` text (the listen address is read back from
/// the config file).
pub async fn metrics_text(config: &Path) -> String {
    let text = std::fs::read_to_string(config).expect("config");
    let listen = text
        .split("[metrics]")
        .nth(1)
        .and_then(|rest| rest.split('"').nth(1))
        .expect("metrics listen")
        .to_owned();
    client()
        .get(format!("http://{listen}/metrics"))
        .send()
        .await
        .expect("GET /metrics")
        .text()
        .await
        .expect("text")
}

/// The sum of a metric's samples whose line contains every `labels` part.
pub fn metric_sum(body: &str, name: &str, labels: &[&str]) -> f64 {
    body.lines()
        .filter(|l| {
            l.starts_with(name)
                && l[name.len()..].starts_with(['{', ' '])
                && labels.iter().all(|p| l.contains(p))
        })
        .filter_map(|l| l.rsplit(' ').next())
        .filter_map(|v| v.parse::<f64>().ok())
        .sum()
}
