//! systemd integration (`Type=notify`): READY, RELOADING, STOPPING, STATUS and watchdog
//! keep-alives over the `sd_notify` protocol (a datagram to the Unix socket
//! named by `NOTIFY_SOCKET`).
//!
//! Every function here is a no-op when `NOTIFY_SOCKET` is unset (a terminal,
//! the tests, the demo), and a failed send is logged, never fatal: a
//! notification is advice to the service manager, not part of the work.
//!
//! The watchdog keep-alive is a task on the daemon's own runtime, so a
//! runtime whose workers are all wedged stops pinging and systemd restarts
//! the service (`WatchdogSec=`, `Restart=on-failure`).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use sd_notify::NotifyState;

/// Whether a service manager listens (`NOTIFY_SOCKET` is set).
pub fn enabled() -> bool {
    std::env::var_os("NOTIFY_SOCKET").is_some()
}

fn send(states: &[NotifyState]) {
    if let Err(error) = sd_notify::notify(states) {
        tracing::warn!(%error, "sd_notify failed");
    }
}

/// `READY=1` (with a `STATUS=` line): startup is complete.
pub fn notify_ready(status: &str) {
    send(&[NotifyState::Ready, NotifyState::Status(status)]);
}

/// `STOPPING=1`: shutdown has begun (the drain may take a while).
pub fn notify_stopping() {
    send(&[
        NotifyState::Stopping,
        NotifyState::Status("stopping: draining and unbinding carriers"),
    ]);
}

/// `RELOADING=1` with the monotonic time (SIGHUP): a reload has begun;
/// [`notify_ready`] ends it.
pub fn notify_reloading() {
    if !enabled() {
        return;
    }
    match NotifyState::monotonic_usec_now() {
        Ok(now) => send(&[NotifyState::Reloading, now]),
        Err(_) => send(&[NotifyState::Reloading]),
    }
}

/// A `STATUS=` line, shown by `systemctl status`.
pub fn notify_status(status: &str) {
    send(&[NotifyState::Status(status)]);
}

/// The keep-alive interval systemd asks for: half of `WATCHDOG_USEC`, when
/// the watchdog is enabled for this process (`WATCHDOG_PID` unset or ours).
pub fn watchdog_interval() -> Option<Duration> {
    sd_notify::watchdog_enabled()
        .filter(|timeout| !timeout.is_zero())
        .map(|timeout| timeout / 2)
}

/// Starts the `WATCHDOG=1` keep-alive task on the current tokio runtime, if
/// the environment asks for one. Must be called from within the runtime.
pub fn spawn_watchdog() -> Option<tokio::task::JoinHandle<()>> {
    if !enabled() {
        return None;
    }
    let interval = watchdog_interval()?;
    tracing::info!(?interval, "systemd watchdog enabled");
    Some(tokio::spawn(async move {
        let mut ticks = tokio::time::interval(interval);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            send(&[NotifyState::Watchdog]);
        }
    }))
}

/// Keeps `STATUS=binds up: N/M` current while the daemon runs (checked every
/// second, sent when it changes). Must be called from within the runtime.
pub fn spawn_status(
    binds_up: Vec<Arc<AtomicUsize>>,
    binds_total: usize,
) -> Option<tokio::task::JoinHandle<()>> {
    if !enabled() {
        return None;
    }
    Some(tokio::spawn(async move {
        let mut last = None;
        let mut ticks = tokio::time::interval(Duration::from_secs(1));
        loop {
            ticks.tick().await;
            let up: usize = binds_up.iter().map(|b| b.load(Ordering::Relaxed)).sum();
            if last != Some(up) {
                notify_status(&format!("binds up: {up}/{binds_total}"));
                last = Some(up);
            }
        }
    }))
}
