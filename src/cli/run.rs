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
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
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
