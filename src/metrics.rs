//! Prometheus metrics (docs/metrics.md): every name starts with
//! `carrier_gateway_`. The exporter serves them on `[metrics] listen`; the
//! rest of the daemon records through the `metrics` facade with the helpers
//! here, so names and labels are spelled in one place.

use std::net::SocketAddr;

use metrics::{counter, gauge, histogram};
use metrics_exporter_prometheus::PrometheusBuilder;

use crate::store::outbox::MessageRecord;
use crate::transport::LinkStatus;

/// Starts the HTTP listener for `GET /metrics`.
pub fn install(listen: SocketAddr) -> anyhow::Result<()> {
    PrometheusBuilder::new()
        .with_http_listener(listen)
        .set_buckets_for_metric(
            metrics_exporter_prometheus::Matcher::Full(
                "carrier_gateway_session_duration_seconds".into(),
            ),
            &[
                30.0, 60.0, 300.0, 600.0, 1800.0, 3600.0, 7200.0, 14400.0, 43200.0, 86400.0,
            ],
        )?
        .set_buckets_for_metric(
            metrics_exporter_prometheus::Matcher::Full("carrier_gateway_ewt_seconds".into()),
            &[30.0, 60.0, 120.0, 300.0, 600.0, 900.0, 1800.0, 3600.0],
        )?
        .set_buckets_for_metric(
            metrics_exporter_prometheus::Matcher::Suffix("_seconds".into()),
            &[
                0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
            ],
        )?
        .install()?;
    Ok(())
}

/// Where an outbound message comes from, for the accepted counter's
/// labels: its number's line, its session's queue, and its service
/// (`channel`, `outbound`, `session_less`, or `system` for the channel's
/// own replies: consent, menu, keyword replies, timeouts).
#[derive(Debug, Clone, Copy, Default)]
pub struct MtOrigin<'a> {
    /// The number's line, if it has one.
    pub line: Option<&'a str>,
    /// The session's queue, if the message is in a session that has one.
    pub queue: Option<&'a str>,
    /// The service.
    pub service: &'static str,
}

/// An outbound message accepted (by the API, or written by the channel).
pub fn accepted(from: &str, segments: usize, origin: MtOrigin<'_>) {
    counter!(
        "carrier_gateway_messages_accepted_total",
        "direction" => "mt",
        "number" => from.to_owned(),
        "line" => origin.line.unwrap_or_default().to_owned(),
        "queue" => origin.queue.unwrap_or_default().to_owned(),
        "service" => origin.service
    )
    .increment(1);
    counter!("carrier_gateway_segments_accepted_total", "direction" => "mt")
        .increment(segments as u64);
}

/// A message reached a final status.
pub fn message_final(record: &MessageRecord) {
    counter!(
        "carrier_gateway_messages_total",
        "direction" => "mt",
        "number" => record.from.clone(),
        "carrier" => record.carrier.clone(),
        "status" => record.status.as_str(),
        "service" => record.service_label()
    )
    .increment(1);
}

/// The API refused a send (`carrier_gateway_api_refusals_total{service,
/// code}`; `service` is the one the request named or defaulted to, empty
/// when the request was not readable that far).
pub fn api_refused(service: &'static str, code: &'static str) {
    counter!("carrier_gateway_api_refusals_total", "service" => service, "code" => code)
        .increment(1);
}

/// An expected wait given with a request to a service with an EWT
/// threshold (`carrier_gateway_ewt_seconds{service}`, accepted or not).
pub fn ewt_seen(service: &'static str, ewt_seconds: u64) {
    histogram!("carrier_gateway_ewt_seconds", "service" => service).record(ewt_seconds as f64);
}

/// IVR calls registered (`new`: not registered before) or ended
/// (`carrier_gateway_calls_total{change}`: `registered`, `ended`,
/// `deflected`, `expired`).
pub fn call_changed(change: &'static str, count: usize) {
    counter!("carrier_gateway_calls_total", "change" => change).increment(count as u64);
}

/// A segment will be retried.
pub fn retry(carrier: &str, status: &LinkStatus) {
    counter!("carrier_gateway_retries_total", "carrier" => carrier.to_owned(), "reason" => status.reason)
        .increment(1);
    if status.reason == "throttled" {
        counter!("carrier_gateway_throttles_total", "carrier" => carrier.to_owned()).increment(1);
    }
}

/// A carrier's id that cannot be matched to receipts: `unusable` (empty or
/// not in the configured format) or `duplicate` (given to two parts).
pub fn carrier_id_unusable(carrier: &str, reason: &'static str) {
    counter!("carrier_gateway_carrier_id_unusable_total", "carrier" => carrier.to_owned(), "reason" => reason)
        .increment(1);
}

/// Final outbox records removed by retention.
pub fn retention_removed(records: usize) {
    counter!("carrier_gateway_retention_removed_total").increment(records as u64);
}

/// A receipt marked as such but unreadable was acknowledged and dropped.
pub fn receipt_unreadable(carrier: &str) {
    counter!("carrier_gateway_receipts_unreadable_total", "carrier" => carrier.to_owned())
        .increment(1);
}

/// An inbound message (all its parts) was stored and its event written,
/// with its number's line and its session's queue (empty when none).
pub fn inbound_received(
    number: &str,
    carrier: &str,
    complete: bool,
    line: Option<&str>,
    queue: Option<&str>,
) {
    counter!(
        "carrier_gateway_messages_received_total",
        "direction" => "mo",
        "number" => number.to_owned(),
        "carrier" => carrier.to_owned(),
        "complete" => if complete { "true" } else { "false" },
        "line" => line.unwrap_or_default().to_owned(),
        "queue" => queue.unwrap_or_default().to_owned()
    )
    .increment(1);
}

/// A carrier resent an inbound part we had already stored (its
/// acknowledgement was lost in a crash): acknowledged, not processed again.
pub fn inbound_retransmission(carrier: &str) {
    counter!("carrier_gateway_inbound_retransmissions_total", "carrier" => carrier.to_owned())
        .increment(1);
}

/// The gauge of inbound messages whose `message.received` the core has not
/// acknowledged yet (the core link lowers it as it retires them).
pub const INBOX_DEPTH: &str = "carrier_gateway_inbox_depth";

/// Inbound messages whose `message.received` the core has not acknowledged
/// yet, and parts waiting for the rest of their message.
pub fn inbox_depth(messages: usize, parts: usize) {
    gauge!(INBOX_DEPTH).set(messages as f64);
    gauge!("carrier_gateway_inbound_parts_pending").set(parts as f64);
}

/// A limit (`number:…`, `campaign:…`, `brand:…`) reached its cap and
/// started holding segments back.
pub fn limit_hold(limit: &str) {
    counter!("carrier_gateway_limit_holds_total", "limit" => limit.to_owned()).increment(1);
}

/// A submitted message's receipts never came (within its validity and an
/// hour after).
pub fn receipt_missing(carrier: &str) {
    counter!("carrier_gateway_receipts_missing_total", "carrier" => carrier.to_owned())
        .increment(1);
}

/// A receipt matched no message.
pub fn unmatched_receipt(carrier: &str) {
    counter!("carrier_gateway_receipts_unmatched_total", "carrier" => carrier.to_owned())
        .increment(1);
}

/// A bind of `carrier` came up or went down (`carrier_gateway_binds_up`).
pub fn bind_state_changed(carrier: &str, up: bool) {
    let gauge = gauge!("carrier_gateway_binds_up", "carrier" => carrier.to_owned());
    if up {
        gauge.increment(1.0);
    } else {
        gauge.decrement(1.0);
    }
}

/// The adaptive send-rate limit of one SMPP bind (msg/s; `None`, shown
/// as 0, when the bind is not paced).
pub fn bind_rate_limit(carrier: &str, bind: usize, limit: Option<f64>) {
    gauge!("carrier_gateway_bind_rate_limit", "carrier" => carrier.to_owned(), "bind" => bind.to_string())
        .set(limit.unwrap_or(0.0));
}

/// A bind lowered its send rate after carrier throttling.
pub fn bind_rate_decrease(carrier: &str) {
    counter!("carrier_gateway_bind_rate_decreases_total", "carrier" => carrier.to_owned())
        .increment(1);
}

/// Time from submit to response.
pub fn submit_latency(carrier: &str, seconds: f64) {
    histogram!("carrier_gateway_submit_response_seconds", "carrier" => carrier.to_owned())
        .record(seconds);
}

/// Messages accepted and not yet final.
pub fn outbox_depth(depth: usize) {
    gauge!("carrier_gateway_outbox_depth").set(depth as f64);
}

/// One group commit (flush + fdatasync) that served `waiters` writers.
pub fn group_commit(waiters: usize) {
    counter!("carrier_gateway_store_syncs_total").increment(1);
    counter!("carrier_gateway_store_sync_waiters_total").increment(waiters as u64);
}

/// A session opened.
pub fn session_started(line: &str, origin: &'static str) {
    counter!("carrier_gateway_sessions_started_total", "line" => line.to_owned(), "origin" => origin)
        .increment(1);
    gauge!("carrier_gateway_sessions_open").increment(1.0);
}

/// A session ended, `duration_ms` after it started
/// (`carrier_gateway_session_duration_seconds{line, reason}`: its sum over
/// its count is the mean session duration).
pub fn session_ended(line: &str, reason: &'static str, duration_ms: u64) {
    counter!("carrier_gateway_sessions_ended_total", "line" => line.to_owned(), "reason" => reason)
        .increment(1);
    histogram!(
        "carrier_gateway_session_duration_seconds",
        "line" => line.to_owned(),
        "reason" => reason
    )
    .record(duration_ms as f64 / 1000.0);
    gauge!("carrier_gateway_sessions_open").decrement(1.0);
}

/// Open sessions, counted once at start (the pair index's length, a scan);
/// sessions opening and ending move it after that.
pub fn sessions_open(open: usize) {
    gauge!("carrier_gateway_sessions_open").set(open as f64);
}

/// A customer's keyword changed their opt-out state for `number`
/// (`carrier_gateway_opt_outs_total{number, keyword, change}`, `change` is
/// `opt_out` or `opt_in`).
pub fn opt_out_changed(number: &str, keyword: &'static str, opted_out: bool) {
    counter!(
        "carrier_gateway_opt_outs_total",
        "number" => number.to_owned(),
        "keyword" => keyword,
        "change" => if opted_out { "opt_out" } else { "opt_in" }
    )
    .increment(1);
}

/// A consent message queued (once per customer and business number).
pub fn consent_sent(number: &str) {
    counter!("carrier_gateway_consent_sent_total", "number" => number.to_owned()).increment(1);
}

/// A session got its queue from the menu: `matched` by the reply, or the
/// line's first queue after the prompt's repeats (`default`).
pub fn queue_chosen(line: &str, queue: &str, matched: bool) {
    counter!(
        "carrier_gateway_queue_choices_total",
        "line" => line.to_owned(),
        "queue" => queue.to_owned(),
        "by" => if matched { "reply" } else { "default" }
    )
    .increment(1);
}
