//! An MM7 MMSC simulator (3GPP TS 23.140 clause 8): the carrier end of the
//! gateway's MM7 link, for the gateway's tests, `carrier-gateway demo` and
//! `carrier-gateway sim mmsc` (the command line, README.md). The gateway is
//! the VASP; this is the MMSC.
//!
//! It exists for the same reason as the SMSC simulator: the gateway's MM7
//! promises — a submit is acknowledged with an id that its delivery report
//! names, an MO MMS is stored before it is acknowledged, a refusal is
//! retried or not by its status code — can only be shown against a peer
//! that can be told to misbehave on cue. So, like the MMSCs operators run:
//! - every HTTP POST, on any path, is an MM7 request. A `SubmitReq` gets a
//!   `SubmitRsp` 1000 with a message id `mmsc-000001`, `mmsc-000002`…, and,
//!   when it asked for one, an `MM7_delivery_report.REQ` posted to the VASP
//!   later (`Retrieved`, or `Rejected` for every Nth, `fail_every`);
//! - every Nth submit is refused (`refuse_every`) with HTTP 500 and a SOAP
//!   Fault carrying an `RSErrorRsp` (4006 by default, transient for the
//!   VASP; 2xxx and 4001–4004 are permanent), as real MMSCs refuse;
//! - a body that does not decode gets a Fault with 2007 (message format
//!   corrupt), any other request 4003 (unsupported operation);
//! - scripted and injected mobile-originated MMS (`MM7_deliver.REQ`, text,
//!   images, video, SMIL) are posted to the VASP in order.
//!
//! Reports and MO are posted again until the VASP answers 200 with a
//! success status in the matching response (at most `mo_attempts` times,
//! `mo_retry` apart): that is what lets a test `kill -9` the gateway between
//! the MMSC's post and its answer, and see the MO arrive again after the
//! restart.
//!
//! The SOAP and MIME codecs are the protocol crate's (`carrier_protocol::mm7`,
//! `carrier_protocol::mime`), the gateway's own, used in the other role.
//! Memory is bounded: request bodies by `max_body`, the submits kept for
//! [`MmscSim::submits`] to the last [`MAX_KEPT_SUBMITS`], pending reports to
//! [`MAX_PENDING_REPORTS`] (beyond it a report is dropped and counted), the
//! injected-MO queue to [`MAX_QUEUED_MO`].
//!
//! Parts: `serve` answers the VASP's requests, `outgoing` posts reports and
//! MO, `mo_file` reads the `--mo-file`, `record` writes the `--record`
//! lines, `stats` counts, `media` holds the sample files.

mod args;
mod media;
pub mod mo_file;
mod outgoing;
mod record;
mod serve;
mod stats;

#[cfg(test)]
mod tests;

use std::collections::VecDeque;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use anyhow::Context as _;
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, mpsc};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tracing::{Instrument as _, info, warn};

pub use args::MmscArgs;
pub use media::{content_type_of, sample_jpeg, sample_mp4};
pub use mo_file::{MoFileError, MoMms};
pub use record::{RecordedItem, SubmitRecord};
pub use stats::MmscStats;

use outgoing::VaspClient;
use stats::Stats;

/// How many accepted submits [`MmscSim::submits`] keeps (the newest).
pub const MAX_KEPT_SUBMITS: usize = 10_000;

/// How many delivery reports may wait (for their delay or for the VASP) at
/// once; a report beyond it is dropped, logged and counted
/// ([`MmscStats::reports_dropped`]) rather than stalling the submits.
pub const MAX_PENDING_REPORTS: usize = 10_000;

/// How many injected MO MMS may wait for their turn
/// ([`MmscSim::inject_mo`] refuses more).
pub const MAX_QUEUED_MO: usize = 1_024;

/// The default `max_body`: 20 MiB, a common MMSC limit for one MM7 request.
pub const DEFAULT_MAX_BODY: usize = 20 * 1024 * 1024;

/// What the simulator does. [`MmscSimConfig::new`] gives the defaults.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MmscSimConfig {
    /// Where to listen (port 0 picks a free port; see [`MmscSim::local_addr`]).
    pub listen: SocketAddr,
    /// The VASP's MM7 URL (`http://` or `https://`), where delivery reports
    /// and MO MMS are posted. `None`: neither is sent.
    pub deliver_to: Option<String>,
    /// Delay between accepting a submit and posting its delivery report.
    pub report_delay: Duration,
    /// Post delivery reports (for submits that ask for one). Default true.
    pub reports: bool,
    /// The report of every Nth accepted submit says `Rejected`. `None` or 0:
    /// never.
    pub fail_every: Option<u64>,
    /// Refuse every Nth submit (HTTP 500, a Fault with `refuse_code`).
    /// `None` or 0: never.
    pub refuse_every: Option<u64>,
    /// The `StatusCode` of refusals. Default 4006 (service unavailable).
    pub refuse_code: u16,
    /// MO MMS to post, in order, once the simulator starts.
    pub mo: Vec<MoMms>,
    /// Most attempts to post one MO or one delivery report. Default 120.
    pub mo_attempts: u32,
    /// Wait between two attempts. Default 500 ms.
    pub mo_retry: Duration,
    /// HTTP Basic user and password every request must carry. `None`: any
    /// request is accepted (a Basic user it carries is still recorded).
    pub credentials: Option<(String, String)>,
    /// Append one JSON line per event to this file (see `record`).
    pub record: Option<PathBuf>,
    /// Largest request body read; larger ones get 413. Default 20 MiB.
    pub max_body: usize,
}

impl MmscSimConfig {
    /// The defaults, listening on `listen`: no VASP to post to, reports at
    /// once when there is one, no faults, no MO, no credentials, no record.
    pub fn new(listen: SocketAddr) -> MmscSimConfig {
        MmscSimConfig {
            listen,
            deliver_to: None,
            report_delay: Duration::ZERO,
            reports: true,
            fail_every: None,
            refuse_every: None,
            refuse_code: 4006,
            mo: Vec::new(),
            mo_attempts: 120,
            mo_retry: Duration::from_millis(500),
            credentials: None,
            record: None,
            max_body: DEFAULT_MAX_BODY,
        }
    }
}

/// Why [`MmscSim::inject_mo`] did not queue a message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InjectError {
    /// No `deliver_to`: MO MMS go nowhere.
    #[error("the simulator has no VASP URL (deliver_to) to post MO MMS to")]
    NoVasp,
    /// [`MAX_QUEUED_MO`] messages are already waiting.
    #[error("{MAX_QUEUED_MO} MO MMS are already queued")]
    QueueFull,
    /// The simulator is shutting down.
    #[error("the simulator is stopping")]
    Stopped,
}

/// State shared by the server, the posting tasks and the handle.
#[derive(Debug)]
pub(crate) struct Shared {
    pub config: MmscSimConfig,
    pub stats: Stats,
    pub record: Option<record::RecordSink>,
    /// The newest accepted submits, at most [`MAX_KEPT_SUBMITS`].
    submits: Mutex<VecDeque<SubmitRecord>>,
    /// Decoded submits, counted for `refuse_every`.
    pub submits_seen: AtomicU64,
    /// Accepted submits: the message id counter, also for `fail_every`.
    pub submits_accepted: AtomicU64,
    /// Our own requests' `TransactionID` counter.
    pub transactions: AtomicU64,
    /// The VASP, when `deliver_to` is set.
    pub vasp: Option<VaspClient>,
    /// Permits for waiting reports ([`MAX_PENDING_REPORTS`]).
    pub pending_reports: Arc<Semaphore>,
    /// Cancelled at shutdown: stops the server and every posting task.
    pub cancel: CancellationToken,
}

impl Shared {
    fn submits(&self) -> MutexGuard<'_, VecDeque<SubmitRecord>> {
        // Every update completes under the lock; a poisoned one is whole.
        self.submits.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Keeps `submit` for [`MmscSim::submits`], forgetting the oldest
    /// beyond [`MAX_KEPT_SUBMITS`].
    pub(crate) fn keep_submit(&self, submit: SubmitRecord) {
        let mut submits = self.submits();
        if submits.len() == MAX_KEPT_SUBMITS {
            submits.pop_front();
        }
        submits.push_back(submit);
    }

    /// The next `TransactionID` of a request we send.
    pub(crate) fn next_transaction_id(&self) -> String {
        let n = self.transactions.fetch_add(1, Ordering::Relaxed) + 1;
        format!("mmsc-tx-{n:06}")
    }
}

/// A running simulator. Dropping it stops everything at once;
/// [`MmscSim::shutdown`] does the same and returns the final counters.
#[derive(Debug)]
pub struct MmscSim {
    shared: Arc<Shared>,
    local_addr: SocketAddr,
    server: Option<JoinHandle<()>>,
    mo_player: Option<JoinHandle<()>>,
    mo_queue: Option<mpsc::Sender<(u64, MoMms)>>,
    /// The `line` of the next injected MO (after the configured ones).
    next_line: AtomicU64,
}

/// Starts a simulator: checks the configuration, opens the record file,
/// binds the listener, and spawns the server and the MO player on the
/// current tokio runtime.
///
/// # Errors
/// An invalid `deliver_to` URL or `refuse_code` (`InvalidInput`), a record
/// file that cannot be opened, a listener that cannot be bound.
pub async fn spawn(mut config: MmscSimConfig) -> io::Result<MmscSim> {
    if !(2000..=4999).contains(&config.refuse_code) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "refuse_code {} is not an MM7 error code (2000 to 4999)",
                config.refuse_code
            ),
        ));
    }
    let vasp = match &config.deliver_to {
        Some(url) => Some(VaspClient::new(url)?),
        None => None,
    };
    let record = match &config.record {
        Some(path) => Some(record::RecordSink::open(path).map_err(|e| {
            io::Error::new(
                e.kind(),
                format!("cannot open record file {}: {e}", path.display()),
            )
        })?),
        None => None,
    };
    let listener = TcpListener::bind(config.listen).await?;
    let local_addr = listener.local_addr()?;
    let scripted = std::mem::take(&mut config.mo);
    if vasp.is_none() && !scripted.is_empty() {
        warn!(
            messages = scripted.len(),
            "no deliver_to: the MO MMS will not be sent"
        );
    }
    let scripted_count = scripted.len() as u64;
    let shared = Arc::new(Shared {
        config,
        stats: Stats::default(),
        record,
        submits: Mutex::new(VecDeque::new()),
        submits_seen: AtomicU64::new(0),
        submits_accepted: AtomicU64::new(0),
        transactions: AtomicU64::new(0),
        vasp,
        pending_reports: Arc::new(Semaphore::new(MAX_PENDING_REPORTS)),
        cancel: CancellationToken::new(),
    });
    let server = tokio::spawn(
        serve::serve(listener, Arc::clone(&shared))
            .instrument(tracing::info_span!("mmsc_sim", listen = %local_addr)),
    );
    let (mo_player, mo_queue) = if shared.vasp.is_some() {
        let (tx, rx) = mpsc::channel(MAX_QUEUED_MO);
        let player = tokio::spawn(
            outgoing::play_mo(Arc::clone(&shared), scripted, rx)
                .instrument(tracing::info_span!("mmsc_sim_mo")),
        );
        (Some(player), Some(tx))
    } else {
        (None, None)
    };
    info!(listen = %local_addr, "MMSC simulator listening");
    Ok(MmscSim {
        shared,
        local_addr,
        server: Some(server),
        mo_player,
        mo_queue,
        next_line: AtomicU64::new(scripted_count),
    })
}

impl MmscSim {
    /// The address the simulator listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The counters now.
    pub fn stats(&self) -> MmscStats {
        self.shared.stats.snapshot()
    }

    /// The accepted submits, oldest first (the last [`MAX_KEPT_SUBMITS`]).
    pub fn submits(&self) -> Vec<SubmitRecord> {
        self.shared.submits().iter().cloned().collect()
    }

    /// Queues a mobile-originated MMS, posted after the configured ones and
    /// those injected before it, `mo.delay` after the previous one was
    /// acknowledged or given up. Returns its `line` in the record
    /// (`mo_acked`, `mo_gave_up`): the configured MO are 0, 1…, injected
    /// ones follow. Items without a Content-ID get one.
    ///
    /// # Errors
    /// No `deliver_to`, [`MAX_QUEUED_MO`] already waiting, or stopping.
    pub fn inject_mo(&self, mo: MoMms) -> Result<u64, InjectError> {
        let queue = self.mo_queue.as_ref().ok_or(InjectError::NoVasp)?;
        let permit = queue.try_reserve().map_err(|e| match e {
            mpsc::error::TrySendError::Full(()) => InjectError::QueueFull,
            mpsc::error::TrySendError::Closed(()) => InjectError::Stopped,
        })?;
        let line = self.next_line.fetch_add(1, Ordering::Relaxed);
        permit.send((line, mo));
        Ok(line)
    }

    /// Waits until `done` holds for the counters, checking every few
    /// milliseconds, for at most `timeout`. Returns the matching snapshot,
    /// or the last one seen as the error. For tests and `demo`.
    pub async fn wait_for(
        &self,
        timeout: Duration,
        done: impl Fn(&MmscStats) -> bool,
    ) -> Result<MmscStats, MmscStats> {
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

    /// Stops: closes the listener and every connection, abandons reports
    /// and MO not yet acknowledged. Returns the final counters.
    pub async fn shutdown(mut self) -> MmscStats {
        self.shared.cancel.cancel();
        self.mo_queue = None;
        if let Some(player) = self.mo_player.take()
            && let Err(error) = player.await
            && error.is_panic()
        {
            warn!(%error, "the MMSC simulator's MO player panicked");
        }
        if let Some(server) = self.server.take()
            && let Err(error) = server.await
            && error.is_panic()
        {
            warn!(%error, "the MMSC simulator's server panicked");
        }
        let stats = self.stats();
        info!(%stats, "MMSC simulator stopped");
        stats
    }
}

impl Drop for MmscSim {
    fn drop(&mut self) {
        self.shared.cancel.cancel();
        if let Some(server) = self.server.take() {
            server.abort();
        }
        if let Some(player) = self.mo_player.take() {
            player.abort();
        }
    }
}

/// How often [`run_cli`] logs the counters (when they changed).
const STATS_INTERVAL: Duration = Duration::from_secs(5);

/// `carrier-gateway sim mmsc`: runs a simulator until `shutdown_signal`
/// completes (pass [`crate::sim::smsc::termination_signal`] for
/// SIGINT/SIGTERM), then stops. Prints `listening on ADDR` on stdout at
/// start, logs the counters every 5 s when they changed, and prints
/// `summary: …` on stdout at the end.
///
/// # Errors
/// The simulator cannot start (see [`spawn`]).
pub async fn run_cli(
    config: MmscSimConfig,
    shutdown_signal: impl Future<Output = ()>,
) -> anyhow::Result<MmscStats> {
    let listen = config.listen;
    let sim = spawn(config)
        .await
        .with_context(|| format!("cannot start the MMSC simulator on {listen}"))?;
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
                    info!(stats = %now, "MMSC simulator");
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
