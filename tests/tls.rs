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
