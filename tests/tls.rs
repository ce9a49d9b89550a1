//! SMPP over TLS: the gateway verifies the SMSC's certificate against the
//! configured CA file and delivers through the encrypted link. The SMSC is
//! the simulator behind a rustls terminating proxy with a self-signed
//! certificate for `localhost`.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::*;
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};

async fn tls_proxy(
    dir: &std::path::Path,
    upstream: std::net::SocketAddr,
) -> (u16, std::path::PathBuf) {
    let certified = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()])
        .expect("self-signed certificate");
    let cert_pem = certified.cert.pem();
    let key_pem = certified.key_pair.serialize_pem();
    let ca_file = dir.join("smsc-ca.pem");
    std::fs::write(&ca_file, &cert_pem).expect("write CA file");
    let certs = vec![CertificateDer::from_pem_slice(cert_pem.as_bytes()).expect("cert")];
    let key = PrivateKeyDer::from_pem_slice(key_pem.as_bytes()).expect("key");
    let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
    let config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .expect("server config");
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let port = listener.local_addr().expect("address").port();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let Ok(mut plain) = tokio::net::TcpStream::connect(upstream).await else {
                    return;
                };
                let _ = tokio::io::copy_bidirectional(&mut tls, &mut plain).await;
            });
        }
    });
    (port, ca_file)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_go_through_a_verified_tls_link() {
    let dir = tempfile::tempdir().expect("temp dir");
    let sim = start_sim(dir.path(), &["--dlr-delay", "10"]);
    let (sink, events) = start_sink().await;
    let (tls_port, ca_file) = tls_proxy(dir.path(), sim.addr).await;
    let extra = format!(
        "\n[[carriers]]\nname = \"secure\"\nprotocol = \"smpp\"\nhost = \"localhost\"\nport = {tls_port}\ntls = true\ntls_ca_file = \"{}\"\nsystem_id = \"gw\"\npassword = \"x\"\n\n[[numbers]]\nnumber = \"+15551230009\"\ncarrier = \"secure\"\n",
        ca_file.display()
    );
    let (config, api) = write_config(dir.path(), sim.addr, sink, &extra);
    let _gateway = Gateway::start(&config, &api);
    let client = client();
    let mut ids = Vec::new();
    for i in 0..50 {
        let body: serde_json::Value = client
            .post(format!("{api}/v1/messages"))
            .bearer_auth(TOKEN)
            .json(&serde_json::json!({"from": "+15551230009", "to": format!("+1777{i:07}"), "text": format!("tls {i}")}))
            .send()
            .await
            .expect("POST")
            .json()
            .await
            .expect("JSON");
        ids.push(body["id"].as_str().expect("accepted").to_owned());
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let delivered = events
            .all()
            .iter()
            .filter(|e| e["data"]["status"] == "delivered")
            .filter(|e| ids.iter().any(|id| e["data"]["id"] == id.as_str()))
            .count();
        if delivered == ids.len() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{delivered} of {} delivered over TLS",
            ids.len()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// An SMSC that accepts TCP and never says a word of TLS: each attempt is
/// dropped at `bind_timeout`, logged with the peer, and retried.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tls_handshake_that_never_completes_times_out_and_is_retried() {
    use tokio::io::AsyncReadExt;

    let dir = tempfile::tempdir().expect("temp dir");
    let sim = start_sim(dir.path(), &[]);
    let (sink, _events) = start_sink().await;
    let mute = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let mute_port = mute.local_addr().expect("addr").port();
    let extra = format!(
        "\n[[carriers]]\nname = \"mute\"\nprotocol = \"smpp\"\nhost = \"127.0.0.1\"\nport = {mute_port}\n\
         tls = true\nsystem_id = \"gw\"\npassword = \"x\"\nbinds = 1\nbind_timeout = \"1s\"\n\
         reconnect_delay = \"200ms\"\nreconnect_max_delay = \"400ms\"\n\n\
         [[numbers]]\nnumber = \"+15551230009\"\ncarrier = \"mute\"\n"
    );
    let (config, _api) = write_config(dir.path(), sim.addr, sink, &extra);
    let log = dir.path().join("gateway.log");
    let mut gateway = std::process::Command::new(BIN)
        .args(["run", "--config"])
        .arg(&config)
        .env("RUST_LOG", "warn")
        .stderr(std::fs::File::create(&log).expect("log file"))
        .spawn()
        .expect("start the gateway");

    // Two attempts in a row: each held open by the gateway for about
    // `bind_timeout`, then dropped.
    for attempt in 0..2 {
        let (mut conn, _) = tokio::time::timeout(Duration::from_secs(10), mute.accept())
            .await
            .unwrap_or_else(|_| panic!("attempt {attempt} never came"))
            .expect("accept");
        let opened = Instant::now();
        let mut hello = Vec::new();
        let dropped = tokio::time::timeout(Duration::from_secs(10), async {
            let mut buf = [0u8; 1024];
            loop {
                match conn.read(&mut buf).await {
                    Ok(0) | Err(_) => return,
                    Ok(n) => hello.extend_from_slice(&buf[..n]),
                }
            }
        })
        .await;
        assert!(dropped.is_ok(), "attempt {attempt}: never dropped");
        let held = opened.elapsed();
        assert!(
            held >= Duration::from_millis(800) && held < Duration::from_millis(2500),
            "attempt {attempt}: held {held:?} with bind_timeout 1 s"
        );
        // It was a TLS ClientHello (a handshake record), not SMPP.
        assert_eq!(hello.first(), Some(&0x16), "attempt {attempt}");
    }
    let _ = gateway.kill();
    let _ = gateway.wait();
    let log = std::fs::read_to_string(&log).expect("log");
    let timeout_line =
        format!("TLS handshake with 127.0.0.1:{mute_port} took longer than bind_timeout (1s)");
    assert!(log.contains(&timeout_line), "{log}");
}
