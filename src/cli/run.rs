//! `carrier-gateway run --config FILE`: the daemon in the foreground.
//!
//! Logs go to stderr (journald adds timestamps, so ours are compact) with a
//! `RUST_LOG`-style filter, default `info`. SIGTERM and SIGINT stop intake,
//! unbind cleanly, flush and exit 0; SIGHUP reloads
//! numbers and limits from the same file without dropping binds. Under systemd (`Type=notify`) it sends
//! READY=1 once the API listens, WATCHDOG=1 keep-alives when `WatchdogSec=`
//! is set, and STOPPING=1 when the drain begins (`crate::systemd`).

use std::path::Path;

use super::CliError;
use crate::config::Config;
use crate::daemon::{self, Settings};

/// Sets up logging once per process.
pub fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    use std::io::IsTerminal;
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr)
        .with_target(false)
        .try_init();
}

/// The daemon's tokio worker threads when `TOKIO_WORKER_THREADS` does not
/// say (tokio reads it itself then): half the CPUs, at least one. A message
/// is a few small steps on several tasks (the request, the hand-over, the
/// dispatcher, the link, the webhook); with a worker per CPU those steps
/// hop between threads, and the wake-ups cost more than the steps. The
/// other half is left to sled's IO threads, the group commit, the blocking
/// pool and the kernel's network work. On the 2-CPU benchmark machine one
/// worker instead of two took one message per request from 127 to 107 µs
/// of CPU per message and the batch API from 70 to 62, and delivered 2 %
/// and 7 % more (13 alternating rounds, `benches/README.md`).
pub fn default_worker_threads(cpus: usize) -> usize {
    (cpus / 2).max(1)
}

/// Loads the configuration or explains every error (exit 2).
pub fn load(path: &Path) -> Result<Config, CliError> {
    Config::load(path).map_err(|errors| {
        let lines: Vec<String> = errors.iter().map(|e| e.to_string()).collect();
        CliError::BadInput(format!(
            "{} configuration error(s):\n{}",
            lines.len(),
            lines.join("\n")
        ))
    })
}

/// Runs the daemon until SIGTERM or SIGINT; SIGHUP reloads the file.
pub fn run(path: &Path) -> Result<(), CliError> {
    init_logging();
    let config = load(path)?;
    let settings = Settings::from_config(&config);
    let mut builder = tokio::runtime::Builder::new_multi_thread();
    if std::env::var_os("TOKIO_WORKER_THREADS").is_none() {
        let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
        builder.worker_threads(default_worker_threads(cpus));
    }
    let runtime = builder.enable_all().build()?;
    let api_listen = settings.api_listen;
    let (reload_tx, reload_rx) = tokio::sync::mpsc::channel(4);
    let path = path.to_owned();
    let reload = move || match load(&path) {
        Ok(config) => {
            crate::systemd::notify_reloading();
            let _ = reload_tx.try_send(Settings::from_config(&config));
            crate::systemd::notify_ready("configuration reloaded");
        }
        Err(e) => tracing::error!(
            "SIGHUP: the configuration was not reloaded, the running one stays in force: {e}"
        ),
    };
    runtime
        .block_on(daemon::run(
            settings,
            shutdown_signal(reload),
            reload_rx,
            move || {
                // Called on the runtime: the watchdog task runs on its workers,
                // so a wedged runtime stops the keep-alives.
                crate::systemd::notify_ready(&format!("API listening on {api_listen}"));
                crate::systemd::spawn_watchdog();
            },
        ))
        .map_err(CliError::Failed)
}

/// Resolves on SIGTERM or SIGINT; calls `on_hangup` for each SIGHUP
/// (`systemctl reload`).
pub async fn shutdown_signal(mut on_hangup: impl FnMut() + Send) {
    use tokio::signal::unix::{SignalKind, signal};
    let term = signal(SignalKind::terminate());
    let int = signal(SignalKind::interrupt());
    let hup = signal(SignalKind::hangup());
    match (term, int, hup) {
        (Ok(mut term), Ok(mut int), Ok(mut hup)) => loop {
            tokio::select! {
                _ = term.recv() => {
                    tracing::info!("SIGTERM: stopping");
                    break;
                }
                _ = int.recv() => {
                    tracing::info!("SIGINT: stopping");
                    break;
                }
                _ = hup.recv() => {
                    tracing::info!("SIGHUP: reloading the configuration");
                    on_hangup();
                }
            }
        },
        _ => {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::default_worker_threads;

    #[test]
    fn the_runtime_gets_half_the_cpus_and_at_least_one_worker() {
        assert_eq!(default_worker_threads(1), 1);
        assert_eq!(default_worker_threads(2), 1);
        assert_eq!(default_worker_threads(3), 1);
        assert_eq!(default_worker_threads(8), 4);
        assert_eq!(default_worker_threads(64), 32);
    }
}
