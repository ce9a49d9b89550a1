//! SIP MESSAGE end to end (issue 18): the real gateway against `sipp`
//! (Debian's sip-tester, installed by `scripts/setup-test-deps.sh`), an
//! independent SIP implementation, with the scenarios of `tests/sipp/`:
//!
//! - MESSAGEs to the gateway over UDP and TCP reach the core once each,
//!   also when a request is retransmitted;
//! - 1,000 texts over UDP and over TCP each arrive exactly once at a sipp
//!   trunk answering 200;
//! - a trunk's digest challenge is answered; a 503 is retried;
//! - `kill -9` between receiving a MESSAGE and answering it loses nothing.

mod common;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use common::*;
use serde_json::Value;

fn scenario(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/sipp")
        .join(name)
        .display()
        .to_string()
}

/// A config whose number [`FROM`] sends through the SIP trunk `trunk` at
/// `trunk_port`, listening on `listen` with `transport`.
fn sip_config(
    dir: &Path,
    sink: SocketAddr,
    trunk_port: u16,
    listen: u16,
    transport: &str,
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
name = "trunk"
protocol = "sip"
host = "127.0.0.1"
port = {trunk_port}
transport = "{transport}"
listen = "127.0.0.1:{listen}"
domain = "sip.example.net"
{extra}
[[numbers]]
number = "{FROM}"
carrier = "trunk"
"#,
        state = dir.join("state").display(),
        metrics_port = free_port(),
    );
    let path = dir.join("gateway.toml");
    std::fs::write(&path, config).expect("write the config");
    (path, format!("http://127.0.0.1:{api_port}"))
}

/// Runs sipp; `args` after the common ones (`-nostdin`, a global timeout).
fn sipp(args: &[&str]) -> Child {
    Command::new("sipp")
        .args(["-nostdin", "-timeout", "120s", "-timeout_error"])
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("run sipp (scripts/setup-test-deps.sh installs sip-tester)")
}

/// Waits for sipp to end; true when every call succeeded.
fn sipp_succeeded(mut child: Child, within: Duration) -> bool {
    let deadline = Instant::now() + within;
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            return status.success();
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            return false;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn received_texts(events: &Events) -> Vec<String> {
    events
        .all()
        .into_iter()
        .filter(|e| e["type"] == "message.received")
        // sipp ends its bodies with a line break.
        .map(|e| {
            e["data"]["text"]
                .as_str()
                .unwrap_or_default()
                .trim_end()
                .to_owned()
        })
        .collect()
}

fn counts(texts: &[String]) -> HashMap<String, usize> {
    let mut counts = HashMap::new();
    for text in texts {
        *counts.entry(text.clone()).or_insert(0) += 1;
    }
    counts
}

async fn inbound_once(transport: &str, sipp_transport: &str) {
    let dir = tempfile::tempdir().expect("temp dir");
    let (sink, events) = start_sink().await;
    let listen = free_port();
    let (config, api) = sip_config(dir.path(), sink, free_port(), listen, transport, "");
    let _gateway = Gateway::start(&config, &api);
    let target = format!("127.0.0.1:{listen}");
    let uac = sipp(&[
        &target,
        "-sf",
        &scenario("uac_message.xml"),
        "-m",
        "20",
        "-r",
        "50",
        "-t",
        sipp_transport,
        "-i",
        "127.0.0.1",
    ]);
    assert!(
        sipp_succeeded(uac, Duration::from_secs(60)),
        "every MESSAGE answered 200 ({transport})"
    );
    // The same request twice: answered twice, passed on once.
    let twice = sipp(&[
        &target,
        "-sf",
        &scenario("uac_retransmit.xml"),
        "-nr",
        "-m",
        "3",
        "-t",
        sipp_transport,
        "-i",
        "127.0.0.1",
    ]);
    assert!(
        sipp_succeeded(twice, Duration::from_secs(60)),
        "retransmissions answered from their transaction ({transport})"
    );
    wait_until(Duration::from_secs(30), "23 texts at the core", || {
        received_texts(&events).len() >= 23
    })
    .await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let texts = received_texts(&events);
    let counts = counts(&texts);
    for n in 1..=20 {
        assert_eq!(
            counts.get(&format!("Hello over SIP {n}")),
            Some(&1),
            "{transport}: {texts:?}"
        );
    }
    for n in 1..=3 {
        assert_eq!(
            counts.get(&format!("Sent twice {n}")),
            Some(&1),
            "{transport}: {texts:?}"
        );
    }
    assert_eq!(texts.len(), 23, "{transport}: {texts:?}");
    let first = events
        .all()
        .into_iter()
        .find(|e| e["type"] == "message.received")
        .expect("an event");
    assert_eq!(first["data"]["to"], FROM);
    assert_eq!(first["data"]["carrier"], "trunk");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_from_the_trunk_reach_the_core_once_over_udp_and_tcp() {
    inbound_once("udp", "u1").await;
    inbound_once("tcp", "t1").await;
}

async fn outbound_exactly_once(transport: &str, sipp_transport: &str, n: usize) {
    let dir = tempfile::tempdir().expect("temp dir");
    let (sink, _events) = start_sink().await;
    let trunk = free_port();
    let trace = dir.path().join("sipp-messages.log");
    let trunk_port = trunk.to_string();
    let count = n.to_string();
    let uas = sipp(&[
        "-sf",
        &scenario("uas_200.xml"),
        "-i",
        "127.0.0.1",
        "-p",
        &trunk_port,
        "-t",
        sipp_transport,
        "-m",
        &count,
        "-trace_msg",
        "-message_file",
        &trace.display().to_string(),
    ]);
    std::thread::sleep(Duration::from_millis(300));
    let listen = free_port();
    let (config, api) = sip_config(dir.path(), sink, trunk, listen, transport, "");
    let _gateway = Gateway::start(&config, &api);
    let ids = send_batches(&api, n, 100, "over the trunk").await;
    wait_for_status(&api, &ids, "submitted", Duration::from_secs(120)).await;
    assert!(
        sipp_succeeded(uas, Duration::from_secs(30)),
        "the trunk answered {n} MESSAGEs ({transport})"
    );
    // Each text arrived in exactly one request (a retransmission would
    // repeat its Call-ID; a duplicate would not).
    let log = std::fs::read_to_string(&trace).expect("sipp's message log");
    let mut bodies = HashMap::new();
    for line in log.lines() {
        if let Some(rest) = line.trim().strip_prefix("over the trunk ") {
            *bodies.entry(rest.to_owned()).or_insert(0) += 1;
        }
    }
    assert_eq!(bodies.len(), n, "{transport}: every text arrived");
    let repeated: Vec<_> = bodies.iter().filter(|(_, c)| **c > 1).collect();
    assert!(repeated.is_empty(), "{transport}: repeated {repeated:?}");
    let message = get_message(&api, &ids[0]).await;
    assert_eq!(
        message["carrier_message_ids"].as_array().map(Vec::len),
        Some(1)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_texts_over_udp_and_over_tcp_arrive_exactly_once() {
    outbound_exactly_once("udp", "u1", 1000).await;
    outbound_exactly_once("tcp", "t1", 1000).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_challenge_is_answered_and_a_503_is_retried() {
    // The trunk challenges with 401: the gateway answers with digest
    // credentials (checked by sipp) and the text is taken.
    let dir = tempfile::tempdir().expect("temp dir");
    let (sink, _events) = start_sink().await;
    let trunk = free_port();
    let trunk_port = trunk.to_string();
    let uas = sipp(&[
        "-sf",
        &scenario("uas_digest.xml"),
        "-i",
        "127.0.0.1",
        "-p",
        &trunk_port,
        "-t",
        "u1",
        "-m",
        "1",
    ]);
    std::thread::sleep(Duration::from_millis(300));
    let (config, api) = sip_config(
        dir.path(),
        sink,
        trunk,
        free_port(),
        "udp",
        "username = \"gw\"\npassword = \"s3cret\"\n",
    );
    let mut gateway = Gateway::start(&config, &api);
    let id = send_one(&api, FROM, "+15557654321", "behind a challenge").await;
    wait_for_status(
        &api,
        std::slice::from_ref(&id),
        "submitted",
        Duration::from_secs(30),
    )
    .await;
    assert!(sipp_succeeded(uas, Duration::from_secs(10)));
    gateway.kill9();

    // A 503, then a trunk that takes it: the text goes again.
    let dir = tempfile::tempdir().expect("temp dir");
    let trunk = free_port();
    let trunk_port = trunk.to_string();
    let refusing = sipp(&[
        "-sf",
        &scenario("uas_503.xml"),
        "-i",
        "127.0.0.1",
        "-p",
        &trunk_port,
        "-t",
        "u1",
        "-m",
        "1",
    ]);
    std::thread::sleep(Duration::from_millis(300));
    let (config, api) = sip_config(dir.path(), sink, trunk, free_port(), "udp", "");
    let _gateway = Gateway::start(&config, &api);
    let id = send_one(&api, FROM, "+15557654321", "after a 503").await;
    assert!(
        sipp_succeeded(refusing, Duration::from_secs(30)),
        "the 503 was sent"
    );
    let taking = sipp(&[
        "-sf",
        &scenario("uas_200.xml"),
        "-i",
        "127.0.0.1",
        "-p",
        &trunk_port,
        "-t",
        "u1",
        "-m",
        "1",
    ]);
    wait_for_status(
        &api,
        std::slice::from_ref(&id),
        "submitted",
        Duration::from_secs(60),
    )
    .await;
    assert!(sipp_succeeded(taking, Duration::from_secs(10)));
    let message = get_message(&api, &id).await;
    assert!(message["attempts"].as_u64() >= Some(2), "{message}");
}

/// A UDP relay between sipp and the gateway. While `hold` is set it
/// forwards requests but drops the gateway's answers; `answered` says one
/// came.
fn start_udp_proxy(target: SocketAddr, hold: Arc<AtomicBool>, answered: Arc<AtomicBool>) -> u16 {
    let front = std::net::UdpSocket::bind("127.0.0.1:0").expect("bind the proxy");
    let back = std::net::UdpSocket::bind("127.0.0.1:0").expect("bind the proxy");
    let port = front.local_addr().expect("address").port();
    front
        .set_read_timeout(Some(Duration::from_millis(50)))
        .expect("timeout");
    back.set_read_timeout(Some(Duration::from_millis(50)))
        .expect("timeout");
    let client: Arc<std::sync::Mutex<Option<SocketAddr>>> = Arc::default();
    let (front2, back2) = (
        front.try_clone().expect("clone"),
        back.try_clone().expect("clone"),
    );
    let client2 = client.clone();
    std::thread::spawn(move || {
        let mut buffer = [0u8; 65_535];
        let deadline = Instant::now() + Duration::from_secs(180);
        while Instant::now() < deadline {
            if let Ok((n, from)) = front2.recv_from(&mut buffer) {
                *client2.lock().expect("lock") = Some(from);
                let _ = back2.send_to(&buffer[..n], target);
            }
        }
    });
    std::thread::spawn(move || {
        let mut buffer = [0u8; 65_535];
        let deadline = Instant::now() + Duration::from_secs(180);
        while Instant::now() < deadline {
            if let Ok((n, _)) = back.recv_from(&mut buffer) {
                let final_answer = buffer[..n].starts_with(b"SIP/2.0 200");
                if hold.load(Ordering::SeqCst) {
                    if final_answer {
                        answered.store(true, Ordering::SeqCst);
                    }
                    continue;
                }
                if let Some(client) = *client.lock().expect("lock") {
                    let _ = front.send_to(&buffer[..n], client);
                }
            }
        }
    });
    port
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill9_between_receiving_and_answering_a_message_loses_nothing() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (sink, events) = start_sink().await;
    let listen = free_port();
    let (config, api) = sip_config(dir.path(), sink, free_port(), listen, "udp", "");
    let mut gateway = Gateway::start(&config, &api);
    let hold = Arc::new(AtomicBool::new(true));
    let answered = Arc::new(AtomicBool::new(false));
    let proxy = start_udp_proxy(
        format!("127.0.0.1:{listen}").parse().expect("address"),
        hold.clone(),
        answered.clone(),
    );
    // sipp retransmits its MESSAGE (Timer E) until it hears a final answer.
    let uac = sipp(&[
        &format!("127.0.0.1:{proxy}"),
        "-sf",
        &scenario("uac_message.xml"),
        "-m",
        "1",
        "-t",
        "u1",
        "-i",
        "127.0.0.1",
        "-max_non_invite_retrans",
        "30",
    ]);
    // The gateway stored the text and answered 200; sipp never heard it.
    wait_until(Duration::from_secs(30), "the gateway's 200", || {
        answered.load(Ordering::SeqCst)
    })
    .await;
    gateway.kill9();
    hold.store(false, Ordering::SeqCst);
    gateway.restart();
    assert!(
        sipp_succeeded(uac, Duration::from_secs(60)),
        "a retransmission reached the restarted gateway and was answered"
    );
    wait_until(Duration::from_secs(30), "the text at the core", || {
        !received_texts(&events).is_empty()
    })
    .await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let all: Vec<Value> = events
        .all()
        .into_iter()
        .filter(|e| e["type"] == "message.received")
        .collect();
    let ids: std::collections::HashSet<&str> =
        all.iter().filter_map(|e| e["id"].as_str()).collect();
    assert_eq!(ids.len(), 1, "once, duplicates by event id only: {all:?}");
    assert_eq!(
        all[0]["data"]["text"].as_str().map(str::trim_end),
        Some("Hello over SIP 1")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_text_over_udp_goes_in_requests_of_at_most_1300_bytes() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (sink, _events) = start_sink().await;
    let trunk = free_port();
    let trace = dir.path().join("sipp-messages.log");
    let trunk_port = trunk.to_string();
    let uas = sipp(&[
        "-sf",
        &scenario("uas_200.xml"),
        "-i",
        "127.0.0.1",
        "-p",
        &trunk_port,
        "-t",
        "u1",
        "-m",
        "2",
        "-trace_msg",
        "-message_file",
        &trace.display().to_string(),
    ]);
    std::thread::sleep(Duration::from_millis(300));
    let (config, api) = sip_config(dir.path(), sink, trunk, free_port(), "udp", "");
    let _gateway = Gateway::start(&config, &api);
    // 1,400 bytes of text (nine SMS segments), with multi-byte
    // characters: two MESSAGEs.
    let text: String = (0..140).map(|i| format!("word{:03}é ", i)).collect();
    assert!(text.len() > 1300);
    let id = send_one(&api, FROM, "+15557654321", &text).await;
    wait_for_status(
        &api,
        std::slice::from_ref(&id),
        "submitted",
        Duration::from_secs(30),
    )
    .await;
    assert!(sipp_succeeded(uas, Duration::from_secs(10)), "two requests");
    let log = std::fs::read_to_string(&trace).expect("sipp's message log");
    for size in log.split("UDP message received [").skip(1) {
        let size: usize = size
            .split_once(']')
            .and_then(|(n, _)| n.trim().parse().ok())
            .expect("a size");
        assert!(size <= 1300, "a request of {size} bytes went over UDP");
    }
    // Each body is one line of the log (sipp may glue it to the line
    // before it).
    let bodies: Vec<&str> = log
        .lines()
        .filter_map(|line| line.find("word").map(|at| &line[at..]))
        .filter(|body| body.starts_with("word"))
        .map(|body| body.trim_end_matches(['\r', '\n']))
        .collect();
    assert_eq!(bodies.len(), 2, "{bodies:?}");
    assert_eq!(bodies.concat(), text);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_number_moved_from_smpp_to_sip_by_sighup_takes_its_queued_messages() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (sink, _events) = start_sink().await;
    let trunk = free_port();
    let trunk_port = trunk.to_string();
    // The SMPP carrier's SMSC is down: nothing listens on its port.
    let smpp = format!(
        "\n[[carriers]]\nname = \"acme\"\nprotocol = \"smpp\"\nhost = \"127.0.0.1\"\nport = {}\nsystem_id = \"gw\"\npassword = \"secret\"\n",
        free_port()
    );
    let (config, api) = sip_config(dir.path(), sink, trunk, free_port(), "udp", &smpp);
    let on_sip = std::fs::read_to_string(&config).expect("config");
    let on_smpp = on_sip.replace(
        &format!("number = \"{FROM}\"\ncarrier = \"trunk\""),
        &format!("number = \"{FROM}\"\ncarrier = \"acme\""),
    );
    assert_ne!(on_sip, on_smpp);
    std::fs::write(&config, &on_smpp).expect("write");
    let gateway = Gateway::start(&config, &api);
    let ids = send_batches(&api, 20, 20, "moved").await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    for id in &ids {
        assert_eq!(get_message(&api, id).await["status"], "queued");
    }
    let uas = sipp(&[
        "-sf",
        &scenario("uas_200.xml"),
        "-i",
        "127.0.0.1",
        "-p",
        &trunk_port,
        "-t",
        "u1",
        "-m",
        "20",
    ]);
    std::thread::sleep(Duration::from_millis(300));
    std::fs::write(&config, &on_sip).expect("write");
    let pid = gateway
        .process
        .as_ref()
        .expect("running")
        .child
        .id()
        .to_string();
    let _ = Command::new("kill").args(["-HUP", &pid]).status();
    wait_for_status(&api, &ids, "submitted", Duration::from_secs(60)).await;
    assert!(
        sipp_succeeded(uas, Duration::from_secs(10)),
        "all 20 over SIP"
    );
    for id in &ids {
        assert_eq!(get_message(&api, id).await["carrier"], "trunk");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_inbound_auth_the_trunks_messages_pass_a_digest_challenge() {
    for (transport, sipp_transport) in [("udp", "u1"), ("tcp", "t1")] {
        let dir = tempfile::tempdir().expect("temp dir");
        let (sink, events) = start_sink().await;
        let listen = free_port();
        let (config, api) = sip_config(
            dir.path(),
            sink,
            free_port(),
            listen,
            transport,
            "username = \"trunk\"\npassword = \"pw\"\ninbound_auth = true\n",
        );
        let _gateway = Gateway::start(&config, &api);
        let target = format!("127.0.0.1:{listen}");
        // Without credentials: challenged, never passed on (sipp expects a
        // 200 and fails).
        let plain = sipp(&[
            &target,
            "-sf",
            &scenario("uac_message.xml"),
            "-m",
            "1",
            "-t",
            sipp_transport,
            "-i",
            "127.0.0.1",
            "-recv_timeout",
            "3s",
        ]);
        assert!(
            !sipp_succeeded(plain, Duration::from_secs(30)),
            "{transport}"
        );
        // With them: through the challenge.
        let authenticated = sipp(&[
            &target,
            "-sf",
            &scenario("uac_auth.xml"),
            "-m",
            "5",
            "-t",
            sipp_transport,
            "-i",
            "127.0.0.1",
        ]);
        assert!(
            sipp_succeeded(authenticated, Duration::from_secs(30)),
            "{transport}: answered 200 after the challenge"
        );
        wait_until(Duration::from_secs(10), "5 texts", || {
            received_texts(&events).len() >= 5
        })
        .await;
        tokio::time::sleep(Duration::from_millis(500)).await;
        let texts = received_texts(&events);
        assert_eq!(
            texts.len(),
            5,
            "{transport}: only the authenticated: {texts:?}"
        );
        assert!(texts.iter().all(|t| t.starts_with("Authenticated")));
    }
}

/// A self-signed certificate for 127.0.0.1 and localhost: `(cert, key)`
/// PEM files in `dir`.
fn certificate(dir: &Path) -> (PathBuf, PathBuf) {
    let certified =
        rcgen::generate_simple_self_signed(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])
            .expect("self-signed certificate");
    let cert = dir.join("cert.pem");
    let key = dir.join("key.pem");
    std::fs::write(&cert, certified.cert.pem()).expect("write the certificate");
    std::fs::write(&key, certified.key_pair.serialize_pem()).expect("write the key");
    (cert, key)
}

/// socat relaying between TLS (OpenSSL) and plain TCP, as a process.
fn socat(from: &str, to: &str) -> Process {
    let child = Command::new("socat")
        .args([from, to])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("run socat (scripts/setup-test-deps.sh installs it)");
    Process {
        child,
        name: "socat",
    }
}

/// Debian's sipp has no TLS, so OpenSSL's TLS (through socat) stands in
/// front of it: an independent TLS implementation on the trunk's side,
/// sipp behind it over TCP.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_tls_texts_go_both_ways() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (cert, key) = certificate(dir.path());
    let (sink, events) = start_sink().await;
    let (cert_arg, key_arg) = (cert.display().to_string(), key.display().to_string());
    // The trunk: TLS on `trunk`, sipp over TCP behind it.
    let trunk = free_port();
    let behind = free_port();
    let behind_port = behind.to_string();
    let uas = sipp(&[
        "-sf",
        &scenario("uas_200.xml"),
        "-i",
        "127.0.0.1",
        "-p",
        &behind_port,
        "-t",
        "t1",
        "-m",
        "50",
    ]);
    let _trunk_tls = socat(
        &format!(
            "OPENSSL-LISTEN:{trunk},bind=127.0.0.1,reuseaddr,fork,cert={cert_arg},key={key_arg},verify=0"
        ),
        &format!("TCP:127.0.0.1:{behind}"),
    );
    wait_for_port(format!("127.0.0.1:{trunk}").parse().expect("address"));
    let listen = free_port();
    let tls = format!(
        "tls_ca_file = \"{cert_arg}\"\ntls_cert_file = \"{cert_arg}\"\ntls_key_file = \"{key_arg}\"\n"
    );
    let (config, api) = sip_config(dir.path(), sink, trunk, listen, "tls", &tls);
    let _gateway = Gateway::start(&config, &api);
    let ids = send_batches(&api, 50, 50, "over TLS").await;
    wait_for_status(&api, &ids, "submitted", Duration::from_secs(60)).await;
    assert!(sipp_succeeded(uas, Duration::from_secs(10)), "50 over TLS");

    // The trunk's texts, over its own TLS connection to the gateway (the
    // gateway's certificate checked by OpenSSL).
    let front = free_port();
    let _uac_tls = socat(
        &format!("TCP-LISTEN:{front},bind=127.0.0.1,reuseaddr,fork"),
        &format!("OPENSSL:127.0.0.1:{listen},cafile={cert_arg},verify=1"),
    );
    wait_for_port(format!("127.0.0.1:{front}").parse().expect("address"));
    let uac = sipp(&[
        &format!("127.0.0.1:{front}"),
        "-sf",
        &scenario("uac_message.xml"),
        "-m",
        "10",
        "-t",
        "t1",
        "-i",
        "127.0.0.1",
    ]);
    assert!(
        sipp_succeeded(uac, Duration::from_secs(60)),
        "10 to the gateway over TLS"
    );
    wait_until(Duration::from_secs(10), "10 texts", || {
        received_texts(&events).len() >= 10
    })
    .await;
    assert_eq!(received_texts(&events).len(), 10);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_imdn_from_the_trunk_makes_the_message_delivered() {
    for (transport, sipp_transport) in [("udp", "u1"), ("tcp", "t1")] {
        let dir = tempfile::tempdir().expect("temp dir");
        let (sink, _events) = start_sink().await;
        let trunk = free_port();
        let trunk_port = trunk.to_string();
        let uas = sipp(&[
            "-sf",
            &scenario("uas_imdn.xml"),
            "-i",
            "127.0.0.1",
            "-p",
            &trunk_port,
            "-t",
            sipp_transport,
            "-m",
            "3",
        ]);
        std::thread::sleep(Duration::from_millis(300));
        let listen = free_port();
        let (config, api) = sip_config(dir.path(), sink, trunk, listen, transport, "");
        let _gateway = Gateway::start(&config, &api);
        let ids = send_batches(&api, 3, 3, "reported").await;
        wait_for_status(&api, &ids, "delivered", Duration::from_secs(30)).await;
        assert!(
            sipp_succeeded(uas, Duration::from_secs(10)),
            "{transport}: every IMDN answered 200"
        );
    }
}
