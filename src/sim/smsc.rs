//! An SMPP SMSC simulator: the carrier end of the link, for the gateway's
//! integration tests, its load benchmark, `carrier-gateway demo` and
//! `carrier-gateway sim smsc` (the command line, README.md).
//!
//! It exists because the gateway's promises — nothing accepted is lost,
//! receipts correlate, throttling is retried, unacknowledged messages are
//! resent after a disconnect — can only be shown against a peer that can be
//! told to misbehave on cue. Like SMPPSim, it accepts any bind (or checks
//! configured credentials), answers every `submit_sm` / `data_sm` with a
//! unique message id, sends delivery receipts after a delay, plays scripted
//! mobile-originated messages (and receipts for any id), and on request
//! throttles every Nth submit, reports every Nth message undeliverable,
//! sends receipts ahead of the submit responses they report on, drops
//! connections mid-window, and records every accepted submit to a
//! JSON-lines file. For the ESME's connection settings it records every bind
//! (with its `interface_version`) to another, leaves binds unanswered
//! (`bind_timeout`), and sends a PDU longer than the ESME accepts
//! (`max_pdu_len`).
//!
//! The SMPP rules (bind states, sequence numbers, windows, enquire_link,
//! generic_nack for malformed PDUs) are the protocol crate's sans-IO
//! [`Session`](carrier_protocol::smpp::session::Session) in the SMSC role;
//! this module is only its tokio driver (`conn`) plus the simulator's
//! behaviour. It is also the peer of a >20,000 msg/s benchmark, so the
//! driver batches: one read, every complete PDU, one write, one timer per
//! connection, and receipts held in a per-connection due queue rather than a
//! task or timer each.
//!
//! Receipts belong to an account (system_id), not to a connection: they go
//! to the bind the submit came from when it can receive, otherwise to
//! another receiving bind of the same account, and those still unanswered
//! when a connection dies are delivered again on another or a new bind
//! (`registry`).

mod args;
mod conn;
pub mod mo_file;
mod outgoing;
// pub(crate): the MMSC simulator appends its record lines through the same sink.
pub(crate) mod record;
mod registry;
mod stats;

#[cfg(test)]
mod esme;
#[cfg(test)]
mod tests;

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU8, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use bytes::Bytes;
use carrier_protocol::smpp::{COctetString, MessageState, Npi, Ton};
use carrier_protocol::text::EncodingOptions;
use carrier_protocol::text::choose::LanguageSet;
use tokio::net::TcpListener;
use tokio::sync::{mpsc, watch};
use tokio::task::{JoinHandle, JoinSet};
use tracing::{Instrument as _, info, warn};

pub use args::SmscArgs;
pub use mo_file::{MoFileError, MoScriptEntry, ScriptAction};
pub use outgoing::MoError;
pub use stats::SimStats;

use outgoing::{Address, Outgoing, ReceiptId, ReceiptJob, Scheduled, mo_segments, smpp_address};
use record::RecordSink;
use registry::{ConnCommand, Registry};
use stats::Stats;

/// An ESME account the simulator accepts when credentials are checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    /// The `system_id` of the bind.
    pub system_id: String,
    /// The password; `None` accepts any.
    pub password: Option<String>,
}

/// What the simulator does. [`SmscSimConfig::new`] gives the defaults.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmscSimConfig {
    /// Where to listen (port 0 picks a free port; see [`SmscSim::local_addr`]).
    pub listen: SocketAddr,
    /// National shift tables MO texts may use (none by default).
    pub mo_languages: LanguageSet,
    /// Delay between accepting a submit that asks for a receipt and sending
    /// the receipt. `None`: no receipts; `Some(ZERO)`: at once (written in
    /// the same batch as the `submit_sm_resp`, after it). Default `Some(ZERO)`.
    pub dlr_delay: Option<Duration>,
    /// MO messages to play after the first receiving bind (see [`mo_file`]).
    pub mo_file: Option<PathBuf>,
    /// Answer every Nth submit (counted across all connections) with
    /// `ESME_RTHROTTLED`, and do not accept it. `None` or 0: never.
    pub throttle_every: Option<u64>,
    /// Answer `ESME_RTHROTTLED` to submits beyond this many per second on
    /// one connection (a sliding one-second window), as carriers throttle:
    /// by rate. `None`: no limit.
    pub max_rate: Option<u32>,
    /// Write the receipt of an accepted submit (at once, whatever
    /// `dlr_delay` says) before that submit's response, on the same
    /// connection when it can receive: the ESME sees a receipt for an id it
    /// has not been told yet. Default false.
    pub receipt_first: bool,
    /// The receipt of every Nth accepted submit (counted across all
    /// connections; a submit that asks for no receipt still counts) reports `stat:UNDELIV err:001` (message_state
    /// 5) instead of `DELIVRD`. `None` or 0: never.
    pub fail_every: Option<u64>,
    /// The response to every Nth accepted submit (counted across all
    /// connections) carries an empty `message_id`. `None` or 0: never.
    pub empty_message_id_every: Option<u64>,
    /// The response to every Nth accepted submit carries the id of the
    /// accepted submit before it (its own receipt still names its own id).
    /// `None` or 0: never.
    pub repeat_message_id_every: Option<u64>,
    /// Close a connection abruptly (no unbind) when it sends its Nth submit,
    /// leaving that submit unanswered; the responses to the earlier ones are
    /// written first. Counts restart on every connection. `None` or 0: never.
    pub drop_after: Option<u64>,
    /// Append one JSON line per accepted submit to this file: `message_id`,
    /// `command`, `system_id`, `source_addr`, `destination_addr`,
    /// `data_coding`, `esm_class`, `registered_delivery`,
    /// `short_message_hex` (the `message_payload` when `short_message` is
    /// empty), `sar` and `udh_concat` (`[ref, total, seq]` or null), `conn`,
    /// `at_ms`. A line is written before its submit's response.
    pub record: Option<PathBuf>,
    /// Append one JSON line per bind request to this file: `command`
    /// (`"bind_transceiver"` …), `system_id`, `interface_version` (the
    /// octet, e.g. 80 for 5.0), `outcome` (`"accepted"`, `"rejected"` or
    /// `"stalled"`), `conn`, `at_ms`. Written when the bind is decided.
    pub record_binds: Option<PathBuf>,
    /// Never answer a bind: the connection stays open, unbound, until the
    /// ESME gives up (its bind timeout) or the session's own 10 s
    /// session-init timer closes it. For testing an ESME's bind timeout.
    /// Default false.
    pub stall_binds: bool,
    /// After accepting a bind, send one `deliver_sm` of exactly this many
    /// octets (a `message_payload` fills it), to test that the ESME closes
    /// a connection whose peer sends a PDU above its maximum. The ESME's
    /// response, if any, is ignored. `None`: never.
    pub oversize_pdu: Option<usize>,
    /// Accounts that may bind; empty accepts any system_id and password.
    pub accounts: Vec<Account>,
    /// The most sessions bound at once; binds beyond it are refused with
    /// `ESME_RBINDFAIL`, as carriers cap binds per account. `None`: no cap.
    pub max_connections: Option<usize>,
    /// The `system_id` in our bind responses (at most 15 characters).
    pub system_id: String,
    /// Outstanding `deliver_sm` per bind. Default 256: enough for receipts
    /// at benchmark rates over loopback; lower it to test a gateway's
    /// behaviour against a strict SMSC.
    pub window: usize,
}

impl SmscSimConfig {
    /// The defaults, listening on `listen`: receipts at once, no MO script,
    /// no faults, no recording, any credentials.
    pub fn new(listen: SocketAddr) -> SmscSimConfig {
        SmscSimConfig {
            listen,
            dlr_delay: Some(Duration::ZERO),
            mo_file: None,
            throttle_every: None,
            max_rate: None,
            receipt_first: false,
            fail_every: None,
            empty_message_id_every: None,
            repeat_message_id_every: None,
            drop_after: None,
            record: None,
            record_binds: None,
            stall_binds: false,
            oversize_pdu: None,
            accounts: Vec::new(),
            max_connections: None,
            system_id: "SMSCSIM".to_owned(),
            window: 256,
            mo_languages: LanguageSet::EMPTY,
        }
    }
}

/// State shared by the accept loop, the connections and the handle.
#[derive(Debug)]
pub(crate) struct Shared {
    pub config: SmscSimConfig,
    /// `config.system_id`, validated.
    pub smsc_system_id: COctetString,
    pub stats: Stats,
    pub registry: Mutex<Registry>,
    pub record: Option<RecordSink>,
    /// Where bind requests are recorded (`record_binds`).
    pub bind_record: Option<RecordSink>,
    /// Submits counted for `throttle_every`.
    pub throttle_count: AtomicU64,
    /// Receipts counted for `fail_every`.
    pub fail_count: AtomicU64,
    /// Accepted submits counted for the message-id knobs.
    pub id_count: AtomicU64,
    /// Concatenation reference of the next multi-part MO message.
    pub mo_reference: AtomicU8,
    /// Becomes true at the first bind that can receive (starts the MO script).
    pub receiver_bound: watch::Sender<bool>,
    pub next_conn: AtomicU64,
}

impl Shared {
    pub(crate) fn registry(&self) -> MutexGuard<'_, Registry> {
        // A panic elsewhere while holding the lock leaves consistent data
        // (every method completes its update before returning).
        self.registry.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Queues an MO message for any receiving bind, its parts
    /// `part_delay` apart; returns its segments.
    fn inject_mo(
        &self,
        from: &str,
        to: &str,
        text: &str,
        part_delay: Duration,
    ) -> Result<usize, MoError> {
        let reference = self.mo_reference.fetch_add(1, Ordering::Relaxed);
        let options = EncodingOptions {
            languages: self.config.mo_languages,
            ..EncodingOptions::default()
        };
        let parts = mo_segments(from, to, text, reference, &options)?;
        let count = parts.len();
        let now = Instant::now();
        let items = parts
            .into_iter()
            .zip(0u32..)
            .map(|(sm, i)| Scheduled {
                due: now + part_delay * i,
                item: Outgoing::Mo(Box::new(sm)),
            })
            .collect();
        self.registry().route_mo(items);
        Ok(count)
    }
}

impl Shared {
    /// Queues a delivery receipt for `id` (any id, ours or not) for any
    /// receiving bind, as an MO message would go.
    fn inject_receipt(
        &self,
        id: &str,
        state: MessageState,
        from: Option<&str>,
        to: Option<&str>,
    ) -> Result<(), MoError> {
        if id.is_empty() || id.len() > mo_file::MAX_RECEIPT_ID || id.contains('\0') {
            return Err(MoError::InvalidReceiptId(id.to_owned()));
        }
        let address = |number: Option<&str>| match number {
            Some(number) => smpp_address(number),
            None => Ok(Address {
                ton: Ton::Unknown,
                npi: Npi::Unknown,
                addr: COctetString::default(),
            }),
        };
        let job = ReceiptJob {
            message_id: ReceiptId::Given(Bytes::copy_from_slice(id.as_bytes())),
            source: address(from)?,
            dest: address(to)?,
            submitted_unix: outgoing::unix_now().0,
            text: String::new(),
            state,
        };
        self.registry().route_mo(vec![Scheduled {
            due: Instant::now(),
            item: Outgoing::Receipt(job),
        }]);
        Ok(())
    }
}

/// Sizes `oversize_pdu` may take: from an empty `deliver_sm` with a
/// `message_payload` to the largest one TLV can carry (its length is 16
/// bits).
pub const OVERSIZE_PDU_RANGE: std::ops::RangeInclusive<usize> = 64..=65_535;

/// The next message id: unique for the life of the process, across
/// simulators and connections, and — because the counter starts at the
/// start time in seconds shifted left by 20 bits — practically unique
/// across restarts too (a run would have to average more than a million
/// submits a second to reach the next run's first id).
pub(crate) fn next_message_id() -> u64 {
    static NEXT: OnceLock<AtomicU64> = OnceLock::new();
    NEXT.get_or_init(|| AtomicU64::new(outgoing::unix_now().0 << 20))
        .fetch_add(1, Ordering::Relaxed)
}

/// A running simulator. Dropping it stops everything at once (no unbind);
/// [`SmscSim::shutdown`] unbinds first.
#[derive(Debug)]
pub struct SmscSim {
    shared: Arc<Shared>,
    local_addr: SocketAddr,
    shutdown: watch::Sender<bool>,
    server: Option<JoinHandle<()>>,
    script: Option<JoinHandle<()>>,
}

/// Starts a simulator: binds the listener, validates and loads the MO file,
/// opens the record file, and spawns the accept loop on the current tokio
/// runtime.
///
/// # Errors
/// The listener cannot be bound, the record file cannot be opened, the MO
/// file is unreadable or invalid (`InvalidData`, naming the line), or the
/// configured `system_id` is not a valid C-octet string of at most 15
/// characters (`InvalidInput`).
pub async fn spawn(config: SmscSimConfig) -> io::Result<SmscSim> {
    let smsc_system_id = COctetString::try_from(config.system_id.as_str())
        .ok()
        .filter(|s| s.len() <= 15)
        .ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "system_id {:?} must be at most 15 characters without NUL",
                    config.system_id
                ),
            )
        })?;
    let script = match &config.mo_file {
        Some(path) => mo_file::load(path)
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e.to_string()))?,
        None => Vec::new(),
    };
    let record = match &config.record {
        Some(path) => Some(RecordSink::open(path).map_err(|e| {
            io::Error::new(
                e.kind(),
                format!("cannot open record file {}: {e}", path.display()),
            )
        })?),
        None => None,
    };
    let bind_record = match &config.record_binds {
        Some(path) => Some(RecordSink::open(path).map_err(|e| {
            io::Error::new(
                e.kind(),
                format!("cannot open bind record file {}: {e}", path.display()),
            )
        })?),
        None => None,
    };
    if let Some(len) = config.oversize_pdu
        && !OVERSIZE_PDU_RANGE.contains(&len)
    {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "oversize_pdu {len} must be {} to {} octets",
                OVERSIZE_PDU_RANGE.start(),
                OVERSIZE_PDU_RANGE.end()
            ),
        ));
    }
    let listener = TcpListener::bind(config.listen).await?;
    let local_addr = listener.local_addr()?;
    let (receiver_bound, _) = watch::channel(false);
    let shared = Arc::new(Shared {
        config,
        smsc_system_id,
        stats: Stats::default(),
        registry: Mutex::new(Registry::default()),
        record,
        bind_record,
        throttle_count: AtomicU64::new(0),
        fail_count: AtomicU64::new(0),
        id_count: AtomicU64::new(0),
        mo_reference: AtomicU8::new(1),
        receiver_bound,
        next_conn: AtomicU64::new(1),
    });
    let (shutdown, shutdown_rx) = watch::channel(false);
    let server = tokio::spawn(
        serve(listener, Arc::clone(&shared), shutdown_rx)
            .instrument(tracing::info_span!("smsc_sim", listen = %local_addr)),
    );
    let script = (!script.is_empty()).then(|| {
        tokio::spawn(
            play_script(Arc::clone(&shared), script)
                .instrument(tracing::info_span!("smsc_sim_mo_script")),
        )
    });
    info!(listen = %local_addr, "SMSC simulator listening");
    Ok(SmscSim {
        shared,
        local_addr,
        shutdown,
        server: Some(server),
        script,
    })
}

impl SmscSim {
    /// The address the simulator listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The counters now.
    pub fn stats(&self) -> SimStats {
        self.shared.stats.snapshot()
    }

    /// Receipts and MO segments waiting for a receiving bind (none is bound
    /// for their account). Items already handed to a connection are not
    /// counted.
    pub fn parked(&self) -> usize {
        self.shared.registry().parked_len()
    }

    /// Closes every current connection abruptly (no unbind), as a network
    /// failure would; returns how many were told. Their unacknowledged
    /// receipts and MO segments are delivered again on other or new binds.
    /// The closing happens in the connection tasks, shortly after this
    /// returns; watch [`SimStats::active_connections`].
    pub fn drop_connections(&self) -> usize {
        self.shared.registry().broadcast(|| ConnCommand::Drop)
    }

    /// Sends a mobile-originated message `from` a customer `to` a business
    /// number over a bound receiver or transceiver of any account (the same
    /// one for every message of a conversation while the binds stay, so
    /// they arrive in order), as one `deliver_sm` or, when long, several with a
    /// concatenation UDH; GSM 03.38 when the text allows it, UCS-2
    /// otherwise. Addresses are given as in the API (`+E.164` or a short
    /// code) and sent as docs/architecture.md ("Fixed details") says. With
    /// no receiving bind the
    /// message waits for one, as an SMSC stores and forwards. Returns the
    /// number of segments.
    ///
    /// # Errors
    /// An address that SMPP cannot carry, or a text longer than 255 segments.
    pub fn inject_mo(&self, from: &str, to: &str, text: &str) -> Result<usize, MoError> {
        self.shared.inject_mo(from, to, text, Duration::ZERO)
    }

    /// Sends a delivery receipt for any message `id` (one the simulator
    /// never issued included) with `state`, from `from` to `to` (empty
    /// addresses when `None`), over a receiving bind of any account, as
    /// [`SmscSim::inject_mo`] does.
    ///
    /// # Errors
    /// An id that is empty, longer than 64 octets or holds a NUL; an
    /// address that SMPP cannot carry.
    pub fn inject_receipt(
        &self,
        id: &str,
        state: MessageState,
        from: Option<&str>,
        to: Option<&str>,
    ) -> Result<(), MoError> {
        self.shared.inject_receipt(id, state, from, to)
    }

    /// Waits until `done` holds for the counters, checking every few
    /// milliseconds, for at most `timeout`. Returns the matching snapshot,
    /// or the last one seen as the error. For tests and benchmarks.
    pub async fn wait_for(
        &self,
        timeout: Duration,
        done: impl Fn(&SimStats) -> bool,
    ) -> Result<SimStats, SimStats> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let stats = self.stats();
            if done(&stats) {
                return Ok(stats);
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(stats);
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    }

    /// Stops gracefully: stops accepting, unbinds every bound ESME (waiting
    /// for its `unbind_resp` up to the session's unbind timeout, 5 s), then
    /// closes what is left. Returns the final counters.
    pub async fn shutdown(mut self) -> SimStats {
        if let Some(script) = self.script.take() {
            script.abort();
        }
        self.shutdown.send_replace(true);
        if let Some(server) = self.server.take()
            && let Err(error) = server.await
            && error.is_panic()
        {
            warn!(%error, "the SMSC simulator's accept loop panicked");
        }
        let stats = self.stats();
        info!(%stats, "SMSC simulator stopped");
        stats
    }
}

impl Drop for SmscSim {
    fn drop(&mut self) {
        // Aborting the accept loop drops its JoinSet, which aborts every
        // connection task.
        if let Some(server) = self.server.take() {
            server.abort();
        }
        if let Some(script) = self.script.take() {
            script.abort();
        }
    }
}

/// How long a graceful shutdown waits for connections after asking them to
/// unbind: the session's unbind timeout (5 s) plus a margin.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(7);

/// The accept loop; owns every connection task.
async fn serve(listener: TcpListener, shared: Arc<Shared>, mut shutdown: watch::Receiver<bool>) {
    let mut tasks = JoinSet::new();
    loop {
        tokio::select! {
            () = async {
                // Err: the handle is gone, which stops us as well.
                let _ = shutdown.wait_for(|stop| *stop).await;
            } => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    let id = shared.next_conn.fetch_add(1, Ordering::Relaxed);
                    let (tx, rx) = mpsc::unbounded_channel();
                    shared.registry().add(id, tx);
                    stats::bump(&shared.stats.active_connections);
                    let span = tracing::info_span!(
                        "smpp_conn",
                        conn = id,
                        %peer,
                        system_id = tracing::field::Empty,
                    );
                    tasks.spawn(
                        conn::serve_connection(Arc::clone(&shared), stream, peer, id, rx)
                            .instrument(span),
                    );
                }
                Err(error) => {
                    // EMFILE and friends: back off instead of spinning.
                    warn!(%error, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
            Some(joined) = tasks.join_next(), if !tasks.is_empty() => {
                if let Err(error) = joined && error.is_panic() {
                    warn!(%error, "a connection task panicked");
                }
            }
        }
    }
    drop(listener);
    let told = shared.registry().broadcast(|| ConnCommand::Unbind);
    info!(connections = told, "shutting down: unbinding");
    let drained = tokio::time::timeout(SHUTDOWN_GRACE, async {
        while tasks.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        warn!(
            remaining = tasks.len(),
            "connections did not close in time; closing them"
        );
        tasks.shutdown().await;
    }
}

/// Plays the MO script once the first receiving bind is up.
async fn play_script(shared: Arc<Shared>, script: Vec<MoScriptEntry>) {
    let mut bound = shared.receiver_bound.subscribe();
    if bound.wait_for(|b| *b).await.is_err() {
        return;
    }
    info!(messages = script.len(), "playing the MO script");
    for entry in script {
        if !entry.delay.is_zero() {
            tokio::time::sleep(entry.delay).await;
        }
        let result = match &entry.action {
            ScriptAction::Mo {
                from,
                to,
                text,
                part_delay,
            } => shared.inject_mo(from, to, text, *part_delay).map(drop),
            ScriptAction::Receipt {
                id,
                state,
                from,
                to,
            } => shared.inject_receipt(id, *state, from.as_deref(), to.as_deref()),
        };
        if let Err(error) = result {
            // Validated at load; only reachable if the rules change.
            warn!(%error, "MO script entry skipped");
        }
    }
}

/// Waits for SIGINT or SIGTERM, for [`run_cli`]'s shutdown signal.
///
/// # Errors
/// The signal handlers cannot be installed.
pub async fn termination_signal() -> io::Result<()> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
    tokio::select! {
        _ = term.recv() => {}
        _ = int.recv() => {}
    }
    Ok(())
}

/// How often [`run_cli`] logs the counters (when they changed).
const STATS_INTERVAL: Duration = Duration::from_secs(5);

/// `carrier-gateway sim smsc`: runs a simulator until `shutdown_signal`
/// completes (pass [`termination_signal`] for SIGINT/SIGTERM), then unbinds
/// and stops. Prints `listening on ADDR` on stdout at start (so a script
/// that passed port 0 learns the port), logs the counters every 5 s when
/// they changed, and prints a final summary on stdout.
///
/// # Errors
/// The simulator cannot start (see [`spawn`]).
pub async fn run_cli(
    config: SmscSimConfig,
    shutdown_signal: impl Future<Output = ()>,
) -> anyhow::Result<SimStats> {
    let listen = config.listen;
    let sim = spawn(config)
        .await
        .with_context(|| format!("cannot start the SMSC simulator on {listen}"))?;
    println!("listening on {}", sim.local_addr());
    let mut ticker = tokio::time::interval(STATS_INTERVAL);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    ticker.tick().await;
    let mut last = sim.stats();
    tokio::pin!(shutdown_signal);
    loop {
        tokio::select! {
            () = &mut shutdown_signal => break,
            _ = ticker.tick() => {
                let now = sim.stats();
                if now != last {
                    info!(stats = %now, parked = sim.parked(), "SMSC simulator");
                    last = now;
                }
            }
        }
    }
    info!("signal received; shutting down");
    let stats = sim.shutdown().await;
    println!("summary: {stats}");
    Ok(stats)
}
