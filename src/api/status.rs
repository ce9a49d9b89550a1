//! `GET /v1/status`: the live view an operator reads instead of raw
//! metrics (what Kannel's status page and Jasmin's `jcli` give): each
//! carrier's links, each business number's queue and what holds it back,
//! and the depths of the outbox, the inbox and the webhook backlog.
//!
//! It reads what the parts already keep: the links' gauges, the
//! dispatcher's lanes (asked over its command channel), and the outbox
//! index for the per-number queues (one pass over the queued keys, off the
//! runtime's threads).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use super::views::{CarrierStatus, NumberStatus, StatusView};
use axum::extract::State;
use axum::response::{IntoResponse, Response};

use super::{ApiError, ApiState};
use crate::outbound::dispatcher::NumberActivity;
use crate::transport::gauges::CarrierGauges;

/// A carrier as the status view shows it.
pub struct CarrierView {
    /// Its `[[carriers]] name`.
    pub name: String,
    /// `smpp`, `mm7` or `sip`.
    pub protocol: &'static str,
    /// Its links' live figures.
    pub gauges: Arc<CarrierGauges>,
}

/// What the status view reads besides the rest of [`ApiState`].
pub struct StatusSources {
    /// When the daemon started.
    pub started: Instant,
    /// Every carrier.
    pub carriers: Vec<CarrierView>,
    /// Inbound messages not yet acknowledged by the core.
    pub inbox_depth: Arc<AtomicU64>,
    /// The core link's event log (its backlog).
    pub events: crate::core_link::EventLog,
}

/// `GET /v1/status`.
#[utoipa::path(
    get,
    path = "/v1/status",
    operation_id = "get_status",
    tag = "operations",
    responses(
        (status = 200, description = "The live view", body = StatusView),
        (status = 401, description = "`unauthorized`: no valid bearer token", body = crate::api::error::ErrorBody),
        (status = 503, description = "`unavailable`", body = crate::api::error::ErrorBody),
    )
)]
pub async fn get(State(state): State<Arc<ApiState>>) -> Response {
    let store = state.store.clone();
    let queued = match tokio::task::spawn_blocking(move || store.to_send_per_number()).await {
        Ok(Ok(queued)) => queued,
        Ok(Err(e)) => return ApiError::from(e).into_response(),
        Err(e) => {
            return ApiError::unavailable(format!("counting the queues failed: {e}"))
                .into_response();
        }
    };
    let activity = state.dispatcher.activity().await.unwrap_or_default();
    let sources = &state.status;
    let carriers: Vec<CarrierStatus> = sources
        .carriers
        .iter()
        .map(|carrier| {
            let links = carrier.gauges.snapshot();
            CarrierStatus {
                name: carrier.name.clone(),
                protocol: carrier.protocol.to_owned(),
                links_up: links.links_up,
                links: links.links,
                window_in_use: links.window_in_use,
                rate: links.rate,
            }
        })
        .collect();
    let routes = state.numbers.load();
    let mut numbers: BTreeMap<&str, NumberRow> = BTreeMap::new();
    for (number, route) in routes.iter() {
        numbers.entry(number).or_default().carrier = Some(&route.carrier);
    }
    for (number, count) in &queued {
        numbers.entry(number).or_default().queued = *count;
    }
    for lane in &activity {
        numbers.entry(&lane.number).or_default().activity = Some(lane);
    }
    let numbers: Vec<NumberStatus> = numbers
        .into_iter()
        .map(|(number, row)| NumberStatus {
            number: number.to_owned(),
            carrier: row.carrier.unwrap_or_default().to_owned(),
            queued: row.queued,
            held_by: row.activity.and_then(|a| a.held_by).map(str::to_owned),
            held_by_limit: row.activity.and_then(|a| a.held_by_limit.clone()),
            sent_last_minute: row.activity.map_or(0, |a| u64::from(a.sent_last_minute)),
        })
        .collect();
    axum::Json(StatusView {
        version: env!("CARGO_PKG_VERSION").to_owned(),
        uptime_s: sources.started.elapsed().as_secs(),
        carriers,
        numbers,
        outbox_depth: state.dispatcher.depth() as u64,
        inbox_depth: sources.inbox_depth.load(Ordering::Relaxed),
        webhook_backlog: sources.events.backlog(),
        dead_letters: state.dead_letters.count() as u64,
    })
    .into_response()
}

/// One business number's row.
#[derive(Default)]
struct NumberRow<'a> {
    carrier: Option<&'a str>,
    queued: u64,
    activity: Option<&'a NumberActivity>,
}
