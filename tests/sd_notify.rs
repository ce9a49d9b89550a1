//! The sd_notify protocol as systemd sees it (`Type=notify`, `WatchdogSec=`),
//! without systemd: the test listens on a Unix datagram socket, starts the
//! real binary with `NOTIFY_SOCKET` pointing at it and `WATCHDOG_USEC` set,
//! and reads what the daemon sends: READY=1 once the API listens, STATUS
//! lines with the binds, WATCHDOG=1 keep-alives at half the timeout, and
//! STOPPING=1 on SIGTERM, followed by a clean exit 0 (and SIGHUP in between
//! does not end it).

mod common;

use std::os::unix::net::UnixDatagram;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::*;

/// Every notification line received, with the time it arrived.
fn listen(socket: UnixDatagram) -> mpsc::Receiver<(Instant, String)> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut buf = vec![0u8; 4096];
        while let Ok(n) = socket.recv(&mut buf) {
            let at = Instant::now();
            for line in String::from_utf8_lossy(&buf[..n]).lines() {
                if tx.send((at, line.to_owned())).is_err() {
                    return;
                }
            }
        }
    });
    rx
}

/// Waits for a line satisfying `want`; returns it and what came before.
fn wait_for(
    rx: &mpsc::Receiver<(Instant, String)>,
    seen: &mut Vec<String>,
    timeout: Duration,
    what: &str,
    want: impl Fn(&str) -> bool,
) -> Instant {
    let deadline = Instant::now() + timeout;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok((at, line)) => {
                let hit = want(&line);
                seen.push(line);
                if hit {
                    return at;
                }
            }
            Err(_) => panic!("no {what} within {timeout:?}; received so far: {seen:?}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ready_watchdog_status_and_stopping_over_notify_socket() {
    let dir = tempfile::tempdir().expect("temp dir");
    let sim = start_sim(dir.path(), &[]);
    let (sink, _events) = start_sink().await;
    let (config, _api) = write_config(dir.path(), sim.addr, sink, "");

    let socket_path = dir.path().join("notify.sock");
    let socket = UnixDatagram::bind(&socket_path).expect("bind the notify socket");
    let rx = listen(socket);

    // WATCHDOG_PID is left unset: sd_notify's check compares it with the
    // daemon's own pid, which we only learn after spawning.
    let child = Command::new(BIN)
        .args(["run", "--config"])
        .arg(&config)
        .env("RUST_LOG", "warn")
        .env("NOTIFY_SOCKET", &socket_path)
        .env("WATCHDOG_USEC", "2000000")
        .env_remove("WATCHDOG_PID")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start the gateway");
    let mut gateway = Process {
        child,
        name: "gateway",
    };

    let mut seen = Vec::new();
    let ready = wait_for(&rx, &mut seen, Duration::from_secs(20), "READY=1", |l| {
        l == "READY=1"
    });
    // A watchdog timeout of 2 s means keep-alives every 1 s.
    let ping = wait_for(&rx, &mut seen, Duration::from_secs(3), "WATCHDOG=1", |l| {
        l == "WATCHDOG=1"
    });
    assert!(ping >= ready, "a keep-alive came before READY=1: {seen:?}");
    wait_for(
        &rx,
        &mut seen,
        Duration::from_secs(3),
        "a second WATCHDOG=1",
        |l| l == "WATCHDOG=1",
    );
    // Both binds to the simulator come up and the status line says so
    // (perhaps already, between the keep-alives).
    if !seen.iter().any(|l| l == "STATUS=binds up: 2/2") {
        wait_for(
            &rx,
            &mut seen,
            Duration::from_secs(15),
            "STATUS=binds up: 2/2",
            |l| l == "STATUS=binds up: 2/2",
        );
    }
    assert!(
        !seen.iter().any(|l| l == "STOPPING=1"),
        "STOPPING=1 before SIGTERM: {seen:?}"
    );

    // `systemctl reload` (SIGHUP) reloads the file: RELOADING=1 with the
    // monotonic time, then READY=1 again, and the process goes on.
    let pid = gateway.child.id().to_string();
    Command::new("kill")
        .args(["-HUP", &pid])
        .status()
        .expect("kill -HUP");
    wait_for(&rx, &mut seen, Duration::from_secs(3), "RELOADING=1", |l| {
        l == "RELOADING=1"
    });
    wait_for(
        &rx,
        &mut seen,
        Duration::from_secs(3),
        "READY=1 after the reload",
        |l| l == "READY=1",
    );
    let reloading = seen.iter().position(|l| l == "RELOADING=1");
    assert!(
        reloading.is_some_and(|i| seen
            .get(i + 1)
            .is_some_and(|l| l.starts_with("MONOTONIC_USEC="))),
        "RELOADING=1 without MONOTONIC_USEC: {seen:?}"
    );
    wait_for(
        &rx,
        &mut seen,
        Duration::from_secs(3),
        "WATCHDOG=1 after SIGHUP",
        |l| l == "WATCHDOG=1",
    );
    assert!(
        gateway.child.try_wait().expect("try_wait").is_none(),
        "SIGHUP ended the gateway"
    );

    let status = gateway
        .terminate()
        .expect("the gateway exits after SIGTERM");
    wait_for(&rx, &mut seen, Duration::from_secs(1), "STOPPING=1", |l| {
        l == "STOPPING=1"
    });
    assert_eq!(
        status.code(),
        Some(0),
        "exit status after SIGTERM: {status:?}"
    );
    assert_eq!(
        seen.iter().filter(|l| *l == "READY=1").count(),
        2,
        "READY=1 at start and after the reload only: {seen:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_watchdog_pings_when_watchdog_pid_is_another_process() {
    let dir = tempfile::tempdir().expect("temp dir");
    let sim = start_sim(dir.path(), &[]);
    let (sink, _events) = start_sink().await;
    let (config, _api) = write_config(dir.path(), sim.addr, sink, "");

    let socket_path = dir.path().join("notify.sock");
    let socket = UnixDatagram::bind(&socket_path).expect("bind the notify socket");
    let rx = listen(socket);

    // The watchdog is meant for another process (pid 1 is never us).
    let child = Command::new(BIN)
        .args(["run", "--config"])
        .arg(&config)
        .env("RUST_LOG", "warn")
        .env("NOTIFY_SOCKET", &socket_path)
        .env("WATCHDOG_USEC", "400000")
        .env("WATCHDOG_PID", "1")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start the gateway");
    let mut gateway = Process {
        child,
        name: "gateway",
    };

    let mut seen = Vec::new();
    wait_for(&rx, &mut seen, Duration::from_secs(20), "READY=1", |l| {
        l == "READY=1"
    });
    // Five would-be intervals (200 ms each) without a keep-alive.
    std::thread::sleep(Duration::from_secs(1));
    seen.extend(rx.try_iter().map(|(_, l)| l));
    assert!(
        !seen.iter().any(|l| l == "WATCHDOG=1"),
        "WATCHDOG=1 sent although WATCHDOG_PID is not ours: {seen:?}"
    );
    let status = gateway
        .terminate()
        .expect("the gateway exits after SIGTERM");
    assert_eq!(status.code(), Some(0));
}
