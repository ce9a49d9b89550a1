//! The HTTP API of docs/api.md: authentication, routing and shared state.
//! Handlers live in one module per resource.

mod body;
mod calls;
mod claims;
mod dead_letters;
pub mod error;
mod media;
mod messages;
pub mod openapi;
pub mod serve;
mod sessions;
pub mod status;
pub mod views;

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use arc_swap::ArcSwap;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};

pub use error::ApiError;

use crate::outbound::DispatcherHandle;
use crate::outbound::plan::PlanOptions;
use crate::store::Store;
use claims::ClaimsInFlight;

/// A configured business number, as the API needs it.
#[derive(Debug, Clone)]
pub struct NumberRoute {
    /// Its SMS carrier.
    pub carrier: String,
    /// Its line of business, if it has one.
    pub line: Option<String>,
    /// That line's language.
    pub language: Option<String>,
    /// That carrier's encoding options.
    pub plan: PlanOptions,
    /// Its MMS carrier (an MM7 one), if it sends MMS.
    pub mms_carrier: Option<String>,
}

/// What the handlers share.
pub struct ApiState {
    /// The database.
    pub store: Store,
    /// Where accepted messages go.
    pub dispatcher: DispatcherHandle,
    /// Bearer tokens; empty means no authentication (loopback only).
    pub tokens: Vec<String>,
    /// Business numbers (replaced on SIGHUP).
    pub numbers: ArcSwap<HashMap<String, NumberRoute>>,
    /// Validity when the request gives none.
    pub default_validity: Duration,
    /// The carriers, their links and the rest the status view reads (and
    /// readiness: a bind up anywhere).
    pub status: status::StatusSources,
    /// Refuse new messages beyond this many unfinished ones.
    pub max_outbox: usize,
    /// `client_ref`s being written by requests in flight.
    pub claims: Arc<ClaimsInFlight>,
    /// Events the core kept refusing.
    pub dead_letters: crate::core_link::DeadLetters,
    /// Messages that open a session (service `outbound`) go to the inbound
    /// path's task, the one writer of sessions.
    pub openings: tokio::sync::mpsc::Sender<crate::inbound::OutboundOpening>,
    /// Templates, EWT thresholds and the call expiry (replaced on SIGHUP).
    pub services: ArcSwap<crate::services::ServiceSettings>,
    /// The media store and its links.
    pub media: MediaAccess,
}

/// The media store as the API serves it.
pub struct MediaAccess {
    /// The store.
    pub store: crate::media::MediaStore,
    /// Signs and checks media links.
    pub key: crate::media::UrlKey,
    /// How long a link stays valid.
    pub url_ttl: Duration,
    /// The base of links, e.g. `http://127.0.0.1:8080`.
    pub public_url: String,
    /// `[media] public_url` when configured: the base of links sent to
    /// customers (the default listen address would not reach them).
    pub customer_base: Option<String>,
    /// Fetches media URLs.
    pub fetcher: crate::media::fetch::MediaFetcher,
}

/// `?from=` of `GET /v1/opt-outs/{customer}`.
#[derive(serde::Deserialize)]
struct OptOutQuery {
    from: Option<String>,
}

/// `GET /v1/opt-outs/{customer}?from={number}`: whether the customer opted
/// out of that business number (of any, without `from`).
#[utoipa::path(
    get,
    path = "/v1/opt-outs/{customer}",
    operation_id = "get_opt_out",
    tag = "opt-outs",
    params(
        ("customer" = String, Path, description = "E.164"),
        ("from" = Option<String>, Query, description = "The business number; without it, any"),
    ),
    responses(
        (status = 200, description = "The state", body = views::OptOutView),
        (status = 400, description = "`bad_request`: the query cannot be read", body = crate::api::error::ErrorBody),
        (status = 401, description = "`unauthorized`: no valid bearer token", body = crate::api::error::ErrorBody),
        (status = 503, description = "`unavailable`", body = crate::api::error::ErrorBody),
    )
)]
async fn opt_outs(
    State(state): State<Arc<ApiState>>,
    axum::extract::Path(customer): axum::extract::Path<String>,
    axum::extract::Query(query): axum::extract::Query<OptOutQuery>,
) -> Response {
    let registry = crate::channel::OptOutRegistry::new(state.store.opt_outs.clone());
    let opted_out = match &query.from {
        Some(number) => registry.is_opted_out(number, &customer),
        None => registry.is_opted_out_anywhere(&customer),
    };
    match opted_out {
        Ok(opted_out) => axum::Json(views::OptOutView { opted_out }).into_response(),
        Err(e) => ApiError::from(crate::store::StoreError::from(e)).into_response(),
    }
}

/// The router.
pub fn router(state: Arc<ApiState>) -> Router {
    let authed = Router::new()
        .route("/v1/messages", post(messages::send))
        .route("/v1/messages/batch", post(messages::send_batch))
        .route("/v1/messages/{id}", get(messages::get))
        .route("/v1/opt-outs/{customer}", get(opt_outs))
        .route("/v1/events/dead", get(dead_letters::list))
        .route("/v1/events/dead/{id}/requeue", post(dead_letters::requeue))
        .route("/v1/sessions/{id}", get(sessions::get))
        .route("/v1/sessions/{id}/transcript", get(sessions::transcript))
        .route("/v1/status", get(status::get))
        .route("/v1/openapi.json", get(openapi::get))
        .route("/v1/media", post(media::upload))
        .route("/v1/media/{id}", get(media::download))
        .route(
            "/v1/calls/{call_id}",
            get(calls::get).put(calls::register).delete(calls::end),
        )
        // Route layers run only for a matched route and method (so an
        // unknown one is 404/405 first), the last added first: the token,
        // then the content type.
        .route_layer(middleware::from_fn(json_bodies_only))
        .route_layer(middleware::from_fn_with_state(state.clone(), authenticate));
    Router::new()
        .merge(authed)
        .route("/healthz", get(health))
        .route("/readyz", get(ready))
        .fallback(|| async { ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such route") })
        .method_not_allowed_fallback(|| async {
            ApiError::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                "this route does not take that method",
            )
        })
        .layer(axum::extract::DefaultBodyLimit::max(body::MAX_BODY))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            body::read_whole_body,
        ))
        .layer(middleware::from_fn(json_errors))
        .with_state(state)
}

/// Every error is the JSON error object, including those axum answers on
/// its own (an oversized body's 413 is plain text there).
async fn json_errors(request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    let status = response.status();
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !(status.is_client_error() || status.is_server_error()) || is_json {
        return response;
    }
    let (code, message) = match status {
        StatusCode::PAYLOAD_TOO_LARGE => ("body_too_large", "the request body is too large"),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => (
            "unsupported_media_type",
            "the body must be application/json",
        ),
        StatusCode::NOT_FOUND => ("not_found", "no such route"),
        StatusCode::METHOD_NOT_ALLOWED => {
            ("method_not_allowed", "this route does not take that method")
        }
        StatusCode::REQUEST_TIMEOUT => ("request_timeout", "the request took too long"),
        s if s.is_server_error() => ("internal_error", "the gateway failed to answer"),
        _ => {
            // Any other client error axum answers on its own (a path or
            // query it cannot read): `bad_request`, with its status.
            let mut e = ApiError::new(
                StatusCode::BAD_REQUEST,
                "bad_request",
                "the request cannot be processed",
            );
            e.status = status;
            return e.into_response();
        }
    };
    ApiError::new(status, code, message).into_response()
}

/// A `POST` or `PUT` must carry JSON (`Content-Type: application/json`): a browser
/// page cannot send one across origins without a CORS preflight, which this
/// API never grants, so a page on the same host cannot send SMS through a
/// token-less loopback API with a plain form post.
async fn json_bodies_only(request: Request, next: Next) -> Response {
    // Media uploads carry the media's own type, which is never one a page
    // can post across origins without a preflight (text/plain, forms):
    // the media store refuses anything but media.
    if request.uri().path() == "/v1/media" {
        return next.run(request).await;
    }
    if matches!(
        *request.method(),
        axum::http::Method::POST | axum::http::Method::PUT
    ) {
        let json = request
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("application/json"));
        if !json {
            return ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "send the body as JSON with Content-Type: application/json",
            )
            .into_response();
        }
    }
    next.run(request).await
}

async fn authenticate(
    State(state): State<Arc<ApiState>>,
    request: Request,
    next: Next,
) -> Response {
    if is_authorized(&state, &request) {
        next.run(request).await
    } else {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "a valid bearer token is required (Authorization: Bearer TOKEN)",
        )
        .into_response()
    }
}

/// Whether a request may use the authenticated routes: no tokens are
/// configured (loopback only), it carries a valid bearer token, or it is a
/// valid signed media link.
pub(super) fn is_authorized(state: &ApiState, request: &Request) -> bool {
    if state.tokens.is_empty() || signed_media_link(state, request) {
        return true;
    }
    request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(bearer_token)
        .is_some_and(|token| {
            state
                .tokens
                .iter()
                .any(|t| constant_time_eq(t.as_bytes(), token.as_bytes()))
        })
}

/// A `GET /v1/media/{id}` whose query is a valid, unexpired signature for
/// that id (a link handed to the core in `message.received`).
fn signed_media_link(state: &ApiState, request: &Request) -> bool {
    if !matches!(
        *request.method(),
        axum::http::Method::GET | axum::http::Method::HEAD
    ) {
        return false;
    }
    let Some(id) = request.uri().path().strip_prefix("/v1/media/") else {
        return false;
    };
    let Some(query) = request.uri().query() else {
        return false;
    };
    let now = crate::store::outbox::now_ms() / 1000;
    state.media.key.verify(id, query, now)
}

/// The token of an `Authorization: Bearer TOKEN` header; the scheme is
/// case-insensitive (RFC 7235).
fn bearer_token(value: &str) -> Option<&str> {
    let (scheme, token) = value.trim().split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}

/// Compares without an early exit, so response timing does not reveal how
/// much of a token matched.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The process is up.
#[utoipa::path(
    get,
    path = "/healthz",
    operation_id = "healthz",
    tag = "operations",
    security(()),
    responses((status = 200, description = "Up", body = String, content_type = "text/plain"))
)]
async fn health() -> &'static str {
    "ok"
}

/// Ready to send: the store is open and a carrier connection is up.
#[utoipa::path(
    get,
    path = "/readyz",
    operation_id = "readyz",
    tag = "operations",
    security(()),
    responses(
        (status = 200, description = "The store is open and a carrier connection is up", body = String, content_type = "text/plain"),
        (status = 503, description = "`not_ready`", body = crate::api::error::ErrorBody),
    )
)]
async fn ready(State(state): State<Arc<ApiState>>) -> Response {
    let up: usize = state
        .status
        .carriers
        .iter()
        .map(|c| c.gauges.bound.load(Ordering::Relaxed))
        .sum();
    if up > 0 {
        (StatusCode::OK, "ready").into_response()
    } else {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "not_ready",
            "no carrier connection is up",
        )
        .into_response()
    }
}
