//! Names of the core link's Prometheus metrics (docs/metrics.md), in one place so
//! dashboards and alerts have a single list to follow.

/// Counter: webhook attempts (POSTs), by `outcome` = `ok` | `http_error` | `network_error`.
pub const DELIVERIES: &str = "carrier_gateway_webhook_deliveries_total";
/// Counter: events acknowledged by the core.
pub const EVENTS_DELIVERED: &str = "carrier_gateway_webhook_events_delivered_total";
/// Gauge: events appended and not yet acknowledged.
pub const BACKLOG: &str = "carrier_gateway_webhook_backlog";
/// Gauge: attempts in flight.
pub const IN_FLIGHT: &str = "carrier_gateway_webhook_in_flight";
/// Histogram: duration of one attempt, in seconds.
pub const REQUEST_DURATION: &str = "carrier_gateway_webhook_request_duration_seconds";

/// Gauge: events parked as dead letters.
pub const DEAD_LETTERS: &str = "carrier_gateway_webhook_dead_letters";
/// Counter: events parked as dead letters.
pub const DEAD_LETTERED: &str = "carrier_gateway_webhook_dead_lettered_total";

/// Registers help texts with the installed recorder (call once at startup).
pub fn describe() {
    metrics::describe_counter!(
        DELIVERIES,
        "Webhook deliveries (one POST each) by outcome: ok, http_error, network_error"
    );
    metrics::describe_counter!(EVENTS_DELIVERED, "Events acknowledged by the core");
    metrics::describe_gauge!(
        BACKLOG,
        "Events waiting for the core's acknowledgement (on disk or in flight)"
    );
    metrics::describe_gauge!(IN_FLIGHT, "Webhook deliveries in flight");
    metrics::describe_gauge!(
        DEAD_LETTERS,
        "Events the core kept refusing, parked (GET /v1/events/dead)"
    );
    metrics::describe_counter!(DEAD_LETTERED, "Events parked as dead letters");
    metrics::describe_histogram!(
        REQUEST_DURATION,
        metrics::Unit::Seconds,
        "Duration of one webhook delivery attempt"
    );
}
