//! `GET /v1/events/dead` and `POST /v1/events/dead/{id}/requeue`: the
//! events the core kept refusing (`core_link::dead_letters`), for operators
//! to look at and send again once the core is fixed.

use std::sync::Arc;

use super::views::{DeadLetterList, Requeued};
use super::{ApiError, ApiState};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

/// Most dead letters listed at once.
const LIST_LIMIT: usize = 1_000;

/// The events the core kept refusing (the first 1,000).
#[utoipa::path(
    get,
    path = "/v1/events/dead",
    operation_id = "list_dead_letters",
    tag = "events",
    responses(
        (status = 200, description = "Dead letters", body = DeadLetterList),
        (status = 401, description = "`unauthorized`: no valid bearer token", body = crate::api::error::ErrorBody),
        (status = 500, description = "`internal_error`", body = crate::api::error::ErrorBody),
    )
)]
pub(super) async fn list(State(state): State<Arc<ApiState>>) -> Response {
    match state.dead_letters.list(LIST_LIMIT) {
        Ok(letters) => axum::Json(DeadLetterList {
            count: state.dead_letters.count() as u64,
            dead_letters: letters,
        })
        .into_response(),
        Err(e) => internal(&e),
    }
}

/// Sends a dead letter to the core again.
#[utoipa::path(
    post,
    path = "/v1/events/dead/{id}/requeue",
    operation_id = "requeue_dead_letter",
    tag = "events",
    params(("id" = String, Path, description = "`evt_…`")),
    request_body(
        content = Object,
        content_type = "application/json",
        description = "`{}`: the body is not read, but must be JSON (a web page cannot post JSON across origins)"
    ),
    responses(
        (status = 202, description = "Requeued", body = Requeued),
        (status = 401, description = "`unauthorized`: no valid bearer token", body = crate::api::error::ErrorBody),
        (status = 404, description = "`unknown_event`", body = crate::api::error::ErrorBody),
        (status = 415, description = "`unsupported_media_type`", body = crate::api::error::ErrorBody),
        (status = 500, description = "`internal_error`", body = crate::api::error::ErrorBody),
    )
)]
pub(super) async fn requeue(
    State(state): State<Arc<ApiState>>,
    Path(id): Path<String>,
) -> Response {
    match state.dead_letters.requeue(&id) {
        Ok(true) => (
            StatusCode::ACCEPTED,
            axum::Json(Requeued { id, requeued: true }),
        )
            .into_response(),
        Ok(false) => ApiError::new(
            StatusCode::NOT_FOUND,
            "unknown_event",
            format!("no dead letter {id:?}"),
        )
        .into_response(),
        Err(e) => internal(&e),
    }
}

fn internal(error: &crate::core_link::EventLogError) -> Response {
    tracing::error!(%error, "dead letters");
    ApiError::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        "internal_error",
        "the dead letters could not be read",
    )
    .into_response()
}
