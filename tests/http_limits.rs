//! The API against hostile and careless clients, on the real binary: a
//! thousand idle half-open connections, a slowloris trickle, idle
//! keep-alive connections; each limit set through `[api]` (issue 20).

mod common;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::*;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// A config for the simulator with `limits` added to `[api]`.
fn config_with(
    dir: &Path,
    sim: &Sim,
    sink: std::net::SocketAddr,
    limits: &str,
) -> (PathBuf, String) {
    let (config, api) = write_config(dir, sim.addr, sink, "");
    let text = std::fs::read_to_string(&config).expect("config");
    let tokens = format!("tokens = [\"{TOKEN}\"]\n");
    std::fs::write(
        &config,
        text.replace(&tokens, &format!("{tokens}{limits}\n")),
    )
    .expect("write the config");
    (config, api)
}

/// Waits until the server closes `stream` (end of stream or reset); how
/// long that took from `since`.
async fn closed_after(stream: &mut TcpStream, since: Instant, within: Duration) -> Duration {
    let mut buf = [0u8; 1024];
    tokio::time::timeout(within, async {
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                // An answer (a 408, say) before the close is fine.
                Ok(_) => continue,
            }
        }
    })
    .await
    .unwrap_or_else(|_| panic!("still open after {within:?}"));
    since.elapsed()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_idle_half_open_connections_hold_up_neither_clients_nor_a_stop() {
    let dir = tempfile::tempdir().expect("temp dir");
    let sim = start_sim(dir.path(), &[]);
    let (sink, _events) = start_sink().await;
    // Timeouts longer than the test: the connections stay while it runs.
    let (config, api) = config_with(
        dir.path(),
        &sim,
        sink,
        "header_timeout = \"60s\"\nidle_timeout = \"60s\"\ndrain_timeout = \"2s\"",
    );
    let mut gateway = Gateway::start(&config, &api);
    let addr = api.trim_start_matches("http://").to_owned();

    let mut idle = Vec::with_capacity(1000);
    for k in 0..1000 {
        let mut stream = TcpStream::connect(&addr).await.expect("connect");
        if k % 2 == 0 {
            // Half a header, never finished.
            stream
                .write_all(b"POST /v1/messages HTTP/1.1\r\nHost: localhost\r\nContent-Ty")
                .await
                .expect("write");
        }
        idle.push(stream);
    }

    // Other clients are answered meanwhile, promptly.
    let client = client();
    for k in 0..20 {
        let started = Instant::now();
        let answer = client
            .post(format!("{api}/v1/messages"))
            .bearer_auth(TOKEN)
            .json(&json!({"from": FROM, "to": format!("+1666000{k:04}"), "text": "hi"}))
            .send()
            .await
            .expect("send");
        assert_eq!(answer.status(), 202);
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "a send took {:?} beside 1,000 idle connections",
            started.elapsed()
        );
    }
    let health = client
        .get(format!("{api}/healthz"))
        .send()
        .await
        .expect("healthz");
    assert_eq!(health.status(), 200);

    // A stop waits for them no longer than `drain_timeout`.
    let started = Instant::now();
    let status = gateway
        .process
        .as_mut()
        .and_then(|p| p.terminate())
        .expect("stopped");
    let took = started.elapsed();
    assert!(status.success(), "{status:?}");
    assert!(
        took < Duration::from_secs(5),
        "the stop took {took:?} with 1,000 idle connections (drain_timeout 2 s)"
    );
    drop(idle);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slowloris_client_is_cut_at_the_header_timeout() {
    let dir = tempfile::tempdir().expect("temp dir");
    let sim = start_sim(dir.path(), &[]);
    let (sink, _events) = start_sink().await;
    let (config, api) = config_with(
        dir.path(),
        &sim,
        sink,
        "header_timeout = \"3s\"\nidle_timeout = \"3s\"",
    );
    let _gateway = Gateway::start(&config, &api);
    let addr = api.trim_start_matches("http://").to_owned();

    let started = Instant::now();
    let mut slow = TcpStream::connect(&addr).await.expect("connect");
    slow.write_all(b"POST /v1/messages HTTP/1.1\r\nHost: localhost\r\nX-Slow: ")
        .await
        .expect("write");
    // A byte every 200 ms: each one would reset a per-read timeout; the
    // header timeout counts the whole header.
    let trickle = async {
        loop {
            tokio::time::sleep(Duration::from_millis(200)).await;
            if slow.write_all(b"a").await.is_err() {
                return started.elapsed();
            }
            let mut probe = [0u8; 64];
            let probe = tokio::time::timeout(Duration::from_millis(1), slow.read(&mut probe)).await;
            if let Ok(Ok(0) | Err(_)) = probe {
                return started.elapsed();
            }
        }
    };
    let cut = tokio::time::timeout(Duration::from_secs(15), trickle)
        .await
        .expect("the trickle was cut within 15 s");
    assert!(
        cut >= Duration::from_millis(2900) && cut < Duration::from_secs(6),
        "cut after {cut:?} with header_timeout 3 s"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_keep_alive_connection_is_closed_at_the_idle_timeout() {
    let dir = tempfile::tempdir().expect("temp dir");
    let sim = start_sim(dir.path(), &[]);
    let (sink, _events) = start_sink().await;
    let (config, api) = config_with(
        dir.path(),
        &sim,
        sink,
        "header_timeout = \"8s\"\nidle_timeout = \"1s\"",
    );
    let _gateway = Gateway::start(&config, &api);
    let addr = api.trim_start_matches("http://").to_owned();

    // Silent from the start.
    let mut silent = TcpStream::connect(&addr).await.expect("connect");
    let waited = closed_after(&mut silent, Instant::now(), Duration::from_secs(6)).await;
    assert!(
        waited >= Duration::from_millis(900) && waited < Duration::from_secs(4),
        "{waited:?}"
    );

    // Silent after an answer, and the answer was whole.
    let mut kept = TcpStream::connect(&addr).await.expect("connect");
    kept.write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .await
        .expect("write");
    let mut answer = [0u8; 512];
    let n = kept.read(&mut answer).await.expect("answer");
    assert!(answer[..n].starts_with(b"HTTP/1.1 200"));
    let waited = closed_after(&mut kept, Instant::now(), Duration::from_secs(6)).await;
    assert!(
        waited >= Duration::from_millis(900) && waited < Duration::from_secs(4),
        "{waited:?}"
    );
}

#[test]
fn an_idle_timeout_longer_than_the_header_timeout_is_refused() {
    let dir = tempfile::tempdir().expect("temp dir");
    let sim_addr = std::net::SocketAddr::from(([127, 0, 0, 1], free_port()));
    let (config, _) = write_config(dir.path(), sim_addr, sim_addr, "");
    let text = std::fs::read_to_string(&config).expect("config");
    let tokens = format!("tokens = [\"{TOKEN}\"]\n");
    std::fs::write(
        &config,
        text.replace(
            &tokens,
            &format!(
                "{tokens}header_timeout = \"5s\"\nidle_timeout = \"1m\"\nmax_connections = 0\n"
            ),
        ),
    )
    .expect("write");
    let out = std::process::Command::new(BIN)
        .args(["check-config", "--config"])
        .arg(&config)
        .output()
        .expect("check-config");
    assert_eq!(out.status.code(), Some(2));
    let errors = String::from_utf8_lossy(&out.stderr);
    assert!(errors.contains("api.idle_timeout"), "{errors}");
    assert!(errors.contains("at most `header_timeout` (5s)"), "{errors}");
    assert!(errors.contains("api.max_connections"), "{errors}");
}
