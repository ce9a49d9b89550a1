//! Wiring: opens the store, starts carrier transports, the dispatcher, the
//! core link, the metrics exporter and the API, and stops them in order.
//!
//! Shutdown (SIGTERM, or the caller's future): the API stops taking
//! requests, transports unbind (in-flight submits get their responses or
//! come back as retries, all on disk already), the dispatcher drains, and
//! the store is flushed and fsync'd one last time.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::Duration;

use arc_swap::ArcSwap;
use tokio::sync::{mpsc, watch};
use tracing::info;

use crate::api::{self, ApiState, NumberRoute};
use crate::core_link::Companion;
use crate::inbound::{InboundPath, InboundSettings};
use crate::outbound::dispatcher::{CarrierRoute, DispatcherTask, StatusEvents};
use crate::outbound::limits::NumberLimits;
use crate::outbound::plan::PlanOptions;
use crate::store::Store;
use crate::transport::LinkOutputs;
use crate::transport::mm7::{Mm7LinkConfig, Mm7Transport};
use crate::transport::sip::{SipLinkConfig, SipLinkTransport};
use crate::transport::smpp::{SmppLinkConfig, SmppTransport};
use carrier_protocol::receipt::{IdFormat, MessageIdMapping};

/// Everything the daemon needs, resolved from the configuration file (or
/// built in, for the demo).
#[derive(Debug, Clone)]
pub struct Settings {
    /// Where the database lives.
    pub state_dir: PathBuf,
    /// API listen address.
    pub api_listen: SocketAddr,
    /// Metrics listen address (`None`: no exporter, e.g. in tests).
    pub metrics_listen: Option<SocketAddr>,
    /// Bearer tokens.
    pub tokens: Vec<String>,
    /// The API's limits on clients.
    pub http_limits: crate::config::HttpLimits,
    /// SMPP carriers.
    pub smpp: Vec<SmppLinkConfig>,
    /// MM7 carriers (MMSCs).
    pub mm7: Vec<Mm7LinkConfig>,
    /// SIP trunks.
    pub sip: Vec<SipLinkConfig>,
    /// Encoding options per carrier name.
    pub plans: HashMap<String, PlanOptions>,
    /// Business number → carrier name.
    pub numbers: HashMap<String, String>,
    /// Business number → its MMS carrier's name, for those that have one.
    pub mms_numbers: HashMap<String, String>,
    /// Business number → the limits it is subject to.
    pub limits: HashMap<String, NumberLimits>,
    /// Default validity of outbound messages.
    pub default_validity: Duration,
    /// `[store] retention`: final records are removed this long after
    /// their last change.
    pub retention: Duration,
    /// `[store] max_outbox`: queued and sending messages before `503`.
    pub max_outbox: usize,
    /// The core's webhook.
    pub core: crate::core_link::CoreLinkSettings,
    /// What the inbound path knows of numbers, and its timeouts.
    pub inbound: InboundSettings,
    /// Templates, EWT thresholds and the call expiry.
    pub services: crate::services::ServiceSettings,
    /// `[media]`.
    pub media: crate::config::MediaConfig,
}

/// The API's view of the business numbers.
fn number_routes(settings: &Settings) -> HashMap<String, NumberRoute> {
    settings
        .numbers
        .iter()
        .map(|(number, carrier)| {
            (
                number.clone(),
                NumberRoute {
                    carrier: carrier.clone(),
                    line: settings
                        .inbound
                        .numbers
                        .get(number)
                        .and_then(|info| info.line.clone()),
                    language: settings
                        .inbound
                        .numbers
                        .get(number)
                        .and_then(|info| info.language.clone()),
                    plan: settings.plans.get(carrier).cloned().unwrap_or_default(),
                    mms_carrier: settings.mms_numbers.get(number).cloned(),
                },
            )
        })
        .collect()
}

/// How an MMS the MMSC refuses goes instead: as an SMS with links, when
/// `[media] mms_fallback` says so and links can reach the customer
/// (`[media] public_url`).
fn mms_fallback(settings: &Settings) -> Option<crate::outbound::dispatcher::MmsFallback> {
    if settings.media.mms_fallback != crate::config::MmsFallbackKind::SmsLink {
        return None;
    }
    let base = settings.media.public_url.as_ref()?;
    Some(crate::outbound::dispatcher::MmsFallback {
        sms_carriers: settings.numbers.clone(),
        key: crate::media::UrlKey::derive(settings.core.webhook_secret.as_bytes()),
        base: base.as_str().trim_end_matches('/').to_owned(),
        url_ttl: settings.media.url_ttl,
    })
}

/// Applies reloaded settings (SIGHUP): business numbers and limits take
/// effect at once, binds stay up. What needs new connections or sockets
/// (carriers, listen addresses, the state directory) is reported and left
/// for a restart.
async fn apply_reloads(
    mut current: Settings,
    mut reloads: mpsc::Receiver<Settings>,
    api: Arc<ApiState>,
) {
    while let Some(next) = reloads.recv().await {
        let mut needs_restart = Vec::new();
        if next.smpp != current.smpp
            || next.mm7 != current.mm7
            || next.sip != current.sip
            || next.plans != current.plans
        {
            needs_restart.push("carriers");
        }
        if next.api_listen != current.api_listen || next.metrics_listen != current.metrics_listen {
            needs_restart.push("listen addresses");
        }
        if next.state_dir != current.state_dir {
            needs_restart.push("state_dir");
        }
        if next.retention != current.retention || next.max_outbox != current.max_outbox {
            needs_restart.push("[store]");
        }
        if next.tokens != current.tokens {
            needs_restart.push("API tokens");
        }
        if next.http_limits != current.http_limits {
            needs_restart.push("[api] limits");
        }
        if next.core != current.core {
            needs_restart.push("the core link");
        }
        // A number moved to a carrier that is not connected (a new one)
        // keeps its old route until a restart.
        let old = api.numbers.load_full();
        let routes: HashMap<String, NumberRoute> = number_routes(&next)
            .into_iter()
            .filter_map(|(number, mut route)| {
                // An MMS route to an MMSC that is not connected (a new
                // one) is not taken until a restart either.
                if let Some(mms) = &route.mms_carrier
                    && !current.mm7.iter().any(|c| &*c.name == mms)
                {
                    tracing::warn!(%number, carrier = %mms, "the number's MMS carrier is new: it takes effect at the next restart");
                    route.mms_carrier = old.get(&number).and_then(|r| r.mms_carrier.clone());
                }
                if current.plans.contains_key(&route.carrier) {
                    Some((number, route))
                } else {
                    let kept = old.get(&number).cloned();
                    if kept.is_none() {
                        tracing::warn!(%number, carrier = %route.carrier, "the number's carrier is new: it takes effect at the next restart");
                    }
                    kept.map(|route| (number, route))
                }
            })
            .collect();
        // Limits first: the dispatcher takes commands in order, so once the
        // new limits are queued, no message of a new number (accepted only
        // after the numbers below go live) can reach it before them.
        api.dispatcher.reload_limits(next.limits.clone()).await;
        // Routes too: a moved number's queued messages follow it.
        let sms_routes: HashMap<String, String> = routes
            .iter()
            .map(|(number, route)| (number.clone(), route.carrier.clone()))
            .collect();
        api.dispatcher.reload_routes(sms_routes).await;
        api.numbers.store(Arc::new(routes));
        api.services.store(Arc::new(next.services.clone()));
        info!(
            numbers = next.numbers.len(),
            "configuration reloaded: numbers, limits, templates and services applied"
        );
        if !needs_restart.is_empty() {
            tracing::warn!(
                changed = %needs_restart.join(", "),
                "these changes take effect at the next restart"
            );
        }
        current.numbers = next.numbers;
        current.mms_numbers = next.mms_numbers;
        current.limits = next.limits;
    }
}

/// Runs the daemon until `shutdown` resolves. Calls `ready` once the API
/// listens (systemd READY=1); sends systemd STOPPING=1 (a no-op without
/// `NOTIFY_SOCKET`) when the drain begins, and keeps `STATUS=binds up: N/M`
/// current in between.
pub async fn run(
    settings: Settings,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    reloads: mpsc::Receiver<Settings>,
    ready: impl FnOnce() + Send,
) -> anyhow::Result<()> {
    let started = std::time::Instant::now();
    let store = Store::open(&settings.state_dir)?;
    if let Some(listen) = settings.metrics_listen {
        crate::metrics::install(listen)?;
    }
    let (stop_tx, stop_rx) = watch::channel(false);
    let (events_tx, events_rx) = mpsc::channel(16 * 1024);
    let (inbound_tx, inbound_rx) = mpsc::channel(4 * 1024);
    let (openings_tx, openings_rx) = mpsc::channel(1024);
    let outputs = LinkOutputs {
        events: events_tx,
        inbound: inbound_tx,
    };

    let media = crate::media::MediaStore::open(
        &settings.state_dir,
        store.media.clone(),
        settings.media.max_bytes,
    )?;
    let mut routes = HashMap::new();
    let mut carriers = Vec::new();
    let mut transport_tasks = Vec::new();
    for carrier in &settings.smpp {
        let (transport, tasks): (SmppTransport, _) =
            SmppTransport::spawn(carrier.clone(), outputs.clone(), stop_rx.clone());
        carriers.push(crate::api::status::CarrierView {
            name: carrier.name.to_string(),
            protocol: "smpp",
            gauges: transport.gauges.clone(),
        });
        transport_tasks.extend(tasks);
        routes.insert(
            carrier.name.to_string(),
            CarrierRoute {
                jobs: transport.jobs,
                text_max: None,
                plan: settings
                    .plans
                    .get(&*carrier.name)
                    .cloned()
                    .unwrap_or_default(),
                id_mapping: carrier.id_mapping,
                receipt_wait: crate::outbound::receipts::receipt_wait(carrier.response_timeout),
                bound: transport.gauges.bound.clone(),
            },
        );
    }
    for carrier in &settings.mm7 {
        let (transport, tasks) = Mm7Transport::spawn(
            carrier.clone(),
            media.clone(),
            outputs.clone(),
            stop_rx.clone(),
        )
        .await?;
        carriers.push(crate::api::status::CarrierView {
            name: carrier.name.to_string(),
            protocol: "mm7",
            gauges: transport.gauges.clone(),
        });
        transport_tasks.extend(tasks);
        routes.insert(
            carrier.name.to_string(),
            CarrierRoute {
                jobs: transport.jobs,
                text_max: None,
                plan: PlanOptions::default(),
                // MMSC message ids are opaque: compared exactly.
                id_mapping: MessageIdMapping::new(IdFormat::Exact, IdFormat::Exact),
                receipt_wait: crate::outbound::receipts::receipt_wait(carrier.response_timeout),
                bound: transport.gauges.bound.clone(),
            },
        );
    }
    for carrier in &settings.sip {
        let (transport, tasks) =
            SipLinkTransport::spawn(carrier.clone(), outputs.clone(), stop_rx.clone()).await?;
        carriers.push(crate::api::status::CarrierView {
            name: carrier.name.to_string(),
            protocol: "sip",
            gauges: transport.gauges.clone(),
        });
        transport_tasks.extend(tasks);
        routes.insert(
            carrier.name.to_string(),
            CarrierRoute {
                jobs: transport.jobs,
                text_max: Some(carrier.text_max()),
                plan: PlanOptions::default(),
                // Call-IDs, compared exactly (for IMDNs).
                id_mapping: MessageIdMapping::new(IdFormat::Exact, IdFormat::Exact),
                // Timer F: 64 × T1.
                receipt_wait: crate::outbound::receipts::receipt_wait(Duration::from_secs(32)),
                bound: transport.gauges.bound.clone(),
            },
        );
    }
    drop(outputs);

    // The inbox lives as long as its events: the core link retires a record
    // when the core acknowledges its `message.received`.
    let inbox_depth = Arc::new(AtomicU64::new(store.inbox.len() as u64));
    let inbox = Companion {
        tree: store.inbox.clone(),
        live: inbox_depth.clone(),
        gauge: Some(crate::metrics::INBOX_DEPTH),
    };
    let core_link = crate::core_link::start(&store, &settings.core, vec![inbox], stop_rx.clone())?;
    let status_events: Arc<dyn StatusEvents> = core_link.status_events();
    let (mut dispatcher, handle) = DispatcherTask::new(
        store.clone(),
        routes,
        &settings.limits,
        status_events,
        events_rx,
    );
    dispatcher.set_mms_fallback(mms_fallback(&settings));
    dispatcher.set_sms_routes(settings.numbers.clone());
    dispatcher.replay()?;
    let dispatcher_task = tokio::spawn(dispatcher.run());
    // After the replay: the inbound path's system replies (STOP, HELP) are
    // handed to the dispatcher as new messages, never replayed as well.
    let inbound = InboundPath::new(
        store.clone(),
        core_link.log().clone(),
        inbox_depth.clone(),
        settings.inbound.clone(),
        inbound_rx,
        Some(handle.clone()),
    )?
    .with_openings(openings_rx);
    let inbound_task = tokio::spawn(inbound.run());
    let retention_task = tokio::spawn(crate::store::retention::run(
        store.clone(),
        settings.retention,
        Some((media.clone(), settings.media.retention)),
        stop_rx.clone(),
    ));

    let numbers = ArcSwap::from_pointee(number_routes(&settings));
    let binds_total: usize = settings.smpp.iter().map(|c| c.binds).sum();
    let status_binds = carriers.iter().map(|c| c.gauges.bound.clone()).collect();
    let state = Arc::new(ApiState {
        store: store.clone(),
        dispatcher: handle,
        tokens: settings.tokens.clone(),
        numbers,
        default_validity: settings.default_validity,
        status: crate::api::status::StatusSources {
            started,
            carriers,
            inbox_depth,
            events: core_link.log().clone(),
        },
        max_outbox: settings.max_outbox,
        claims: Default::default(),
        dead_letters: core_link.dead_letters(),
        openings: openings_tx,
        services: ArcSwap::from_pointee(settings.services.clone()),
        media: crate::api::MediaAccess {
            store: media,
            key: crate::media::UrlKey::derive(settings.core.webhook_secret.as_bytes()),
            url_ttl: settings.media.url_ttl,
            public_url: settings
                .media
                .public_url
                .as_ref()
                .map(|u| u.as_str().trim_end_matches('/').to_owned())
                .unwrap_or_else(|| format!("http://{}", settings.api_listen)),
            customer_base: settings
                .media
                .public_url
                .as_ref()
                .map(|u| u.as_str().trim_end_matches('/').to_owned()),
            fetcher: crate::media::fetch::MediaFetcher::new(
                settings.media.fetch_hosts.clone(),
                crate::tls::client_config(None).map_err(|e| anyhow::anyhow!("TLS roots: {e}"))?,
                settings.media.fetch_timeout,
            ),
        },
    });
    let reload_task = tokio::spawn(apply_reloads(settings.clone(), reloads, state.clone()));
    let listener = tokio::net::TcpListener::bind(settings.api_listen).await?;
    info!(listen = %settings.api_listen, "API listening");
    ready();
    let status_task = crate::systemd::spawn_status(status_binds, binds_total);
    // STOPPING=1 as soon as shutdown begins, before the API's own drain.
    let shutdown = async move {
        shutdown.await;
        if let Some(task) = status_task {
            task.abort();
        }
        crate::systemd::notify_stopping();
    };
    api::serve::serve(listener, api::router(state), settings.http_limits, shutdown).await?;
    reload_task.abort();

    info!("stopping: unbinding carriers");
    let _ = stop_tx.send(true);
    let drain = async {
        for task in transport_tasks {
            let _ = task.await;
        }
    };
    if tokio::time::timeout(Duration::from_secs(15), drain)
        .await
        .is_err()
    {
        tracing::warn!("carriers did not unbind within 15 s; stopping anyway");
    }
    let _ = tokio::time::timeout(Duration::from_secs(5), dispatcher_task).await;
    let _ = tokio::time::timeout(Duration::from_secs(5), inbound_task).await;
    retention_task.abort();
    core_link.stop().await;
    store.group_commit().sync().await?;
    info!("stopped");
    Ok(())
}
