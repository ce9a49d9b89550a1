//! The fetcher against a real TLS server on loopback (with the loopback
//! policy and fixed DNS answers standing in for public hosts).

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::IpAddr;

use http_body_util::Full;
use hyper::body::Bytes;
use hyper::service::service_fn;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio_rustls::rustls::{RootCertStore, ServerConfig};

use super::*;

fn jpeg() -> Vec<u8> {
    let mut bytes = vec![0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10, b'J', b'F', b'I', b'F', 0];
    bytes.extend((0..5000u32).map(|i| (i % 253) as u8));
    bytes
}

async fn answer(path: &str) -> hyper::Response<Full<Bytes>> {
    let (status, location, body): (u16, Option<&str>, Vec<u8>) = match path {
        "/photo.jpg" => (200, None, jpeg()),
        "/redirect" => (302, Some("https://internal.test/secret"), Vec::new()),
        "/relative" => (301, Some("/photo.jpg"), Vec::new()),
        "/loop" => (302, Some("/loop"), Vec::new()),
        "/exe" => (200, None, [b"MZ\x90\0".to_vec(), vec![0u8; 100]].concat()),
        "/big" => (200, None, [jpeg(), vec![0u8; 100_000]].concat()),
        "/slow" => {
            tokio::time::sleep(Duration::from_secs(5)).await;
            (200, None, jpeg())
        }
        _ => (404, None, Vec::new()),
    };
    let mut response = hyper::Response::builder().status(status);
    if let Some(location) = location {
        response = response.header("Location", location);
    }
    response
        .header("Content-Type", "image/jpeg")
        .body(Full::new(Bytes::from(body)))
        .expect("response")
}

/// A TLS server for `media.test` on loopback; returns its port and a client
/// config trusting it.
async fn server() -> (u16, Arc<ClientConfig>) {
    let certified = rcgen::generate_simple_self_signed(vec![
        "media.test".to_owned(),
        "internal.test".to_owned(),
    ])
    .expect("certificate");
    let cert = CertificateDer::from(certified.cert.der().to_vec());
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(certified.key_pair.serialize_der()));
    let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
    let server = ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_no_client_auth()
        .with_single_cert(vec![cert.clone()], key)
        .expect("server config");
    let acceptor = TlsAcceptor::from(Arc::new(server));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let port = listener.local_addr().expect("addr").port();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let service = service_fn(
                    |request: hyper::Request<hyper::body::Incoming>| async move {
                        Ok::<_, Infallible>(answer(request.uri().path()).await)
                    },
                );
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(tls), service)
                    .await;
            });
        }
    });
    let mut roots = RootCertStore::empty();
    roots.add(cert).expect("root");
    let client = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    (port, Arc::new(client))
}

fn media_store(max: u64) -> (tempfile::TempDir, MediaStore) {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = sled::Config::new().temporary(true).open().expect("db");
    let store =
        MediaStore::open(dir.path(), db.open_tree("media").expect("tree"), max).expect("store");
    (dir, store)
}

async fn fetcher() -> (u16, MediaFetcher) {
    let (port, tls) = server().await;
    let answers: HashMap<String, IpAddr> = HashMap::from([
        ("media.test".to_owned(), IpAddr::from([127, 0, 0, 1])),
        ("internal.test".to_owned(), IpAddr::from([10, 0, 0, 7])),
    ]);
    let fetcher = MediaFetcher::new(
        vec![
            "media.test".into(),
            "internal.test".into(),
            "127.0.0.1".into(),
        ],
        tls,
        Duration::from_secs(2),
    )
    .for_tests(AddressPolicy::AllowLoopback, answers);
    (port, fetcher)
}

#[tokio::test]
async fn an_allowed_https_url_is_fetched_into_the_store() {
    let (port, fetcher) = fetcher().await;
    let (_dir, store) = media_store(50_000);
    let info = fetcher
        .fetch(&format!("https://media.test:{port}/photo.jpg"), &store)
        .await
        .expect("fetched");
    assert_eq!(info.content_type, "image/jpeg");
    assert_eq!(store.read_range(&info, 0, info.size).expect("read"), jpeg());
    // A relative redirect on the same host is followed.
    let again = fetcher
        .fetch(&format!("https://media.test:{port}/relative"), &store)
        .await
        .expect("fetched");
    assert_eq!(again.id, info.id);
}

#[tokio::test]
async fn what_must_not_be_fetched_is_refused() {
    let (port, fetcher) = fetcher().await;
    let (_dir, store) = media_store(50_000);
    let fetch = |path: &str| {
        let url = if path.contains("://") {
            path.to_owned()
        } else {
            format!("https://media.test:{port}{path}")
        };
        let fetcher = fetcher.clone();
        let store = store.clone();
        async move { fetcher.fetch(&url, &store).await }
    };
    assert!(matches!(
        fetch(&format!("http://media.test:{port}/photo.jpg")).await,
        Err(FetchError::NotHttps(_))
    ));
    assert!(matches!(
        fetch("https://elsewhere.test/photo.jpg").await,
        Err(FetchError::HostNotAllowed(_))
    ));
    assert!(matches!(
        fetch(&format!("https://user@media.test:{port}/photo.jpg")).await,
        Err(FetchError::NotHttps(_))
    ));
    // A host that redirects to an internal one.
    assert!(matches!(
        fetch("/redirect").await,
        Err(FetchError::PrivateAddress(host, _)) if host == "internal.test"
    ));
    assert!(matches!(
        fetch("/loop").await,
        Err(FetchError::TooManyRedirects(_))
    ));
    assert!(matches!(
        fetch("/exe").await,
        Err(FetchError::Media(MediaError::NotAllowed(_)))
    ));
    assert!(matches!(
        fetch("/big").await,
        Err(FetchError::Media(MediaError::TooLarge(50_000)))
    ));
    assert!(matches!(fetch("/slow").await, Err(FetchError::Timeout(_))));
    assert!(matches!(
        fetch("/missing").await,
        Err(FetchError::Status(_, 404))
    ));
    // Production policy: loopback itself is refused, by name or literal.
    let strict = MediaFetcher {
        policy: AddressPolicy::PublicOnly,
        ..fetcher.clone()
    };
    let refused = strict
        .fetch(&format!("https://media.test:{port}/photo.jpg"), &store)
        .await;
    assert!(matches!(refused, Err(FetchError::PrivateAddress(_, ip)) if ip.is_loopback()));
    let strict = MediaFetcher {
        resolved: None,
        ..strict
    };
    let refused = strict
        .fetch(&format!("https://127.0.0.1:{port}/photo.jpg"), &store)
        .await;
    assert!(
        matches!(refused, Err(FetchError::PrivateAddress(_, _))),
        "{refused:?}"
    );
    assert_eq!(
        std::fs::read_dir(_dir.path().join("media/tmp"))
            .expect("tmp")
            .count(),
        0
    );
}

#[test]
fn only_public_addresses_are_public() {
    let private = [
        "0.0.0.0",
        "10.1.2.3",
        "127.0.0.1",
        "100.64.0.1",
        "169.254.169.254",
        "172.16.0.1",
        "172.31.255.255",
        "192.0.0.8",
        "192.0.2.1",
        "192.168.1.1",
        "198.18.0.1",
        "198.51.100.2",
        "203.0.113.9",
        "224.0.0.1",
        "255.255.255.255",
        "::",
        "::1",
        "fc00::1",
        "fd12::1",
        "fe80::1",
        "ff02::1",
        "2001:db8::1",
        "::ffff:127.0.0.1",
        "::ffff:10.0.0.1",
        "64:ff9b::a00:1",
        "2002:c0a8:101::1",
        "2001::1",
    ];
    for ip in private {
        assert!(!is_public(ip.parse().expect(ip)), "{ip} is not public");
    }
    for ip in [
        "8.8.8.8",
        "1.1.1.1",
        "93.184.216.34",
        "2606:4700:4700::1111",
        "::ffff:8.8.8.8",
        "64:ff9b::808:808",
    ] {
        assert!(is_public(ip.parse().expect(ip)), "{ip} is public");
    }
}

#[test]
fn locations_resolve_against_the_current_url() {
    let target = parse_target("https://media.test:8443/a/b/photo.jpg?x=1").expect("valid");
    assert_eq!(
        resolve_location(&target, "c.jpg"),
        "https://media.test:8443/a/b/c.jpg"
    );
    assert_eq!(
        resolve_location(&target, "/d.jpg"),
        "https://media.test:8443/d.jpg"
    );
    assert_eq!(
        resolve_location(&target, "//other.test/e.jpg"),
        "https://other.test/e.jpg"
    );
    assert_eq!(
        resolve_location(&target, "http://x.test/f"),
        "http://x.test/f"
    );
}
