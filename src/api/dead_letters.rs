//! `GET /v1/events/dead` and `POST /v1/events/dead/{id}/requeue`: the
//! events the core kept refusing (`core_link::dead_letters`), for operators
//! to look at and send again once the core is fixed.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::{ApiError, ApiState};

/// Most dead letters listed at once.
const LIST_LIMIT: usize = 1_000;

pub(super) async fn list(State(state): State<Arc<ApiState>>) -> Response {
    match state.dead_letters.list(LIST_LIMIT) {
        Ok(letters) => axum::Json(json!({
            "count": state.dead_letters.count(),
            "dead_letters": letters,
        }))
        .into_response(),
        Err(e) => internal(&e),
    }
}

pub(super) async fn requeue(
    State(state): State<Arc<ApiState>>,
    Path(id): Path<String>,
) -> Response {
    match state.dead_letters.requeue(&id) {
        Ok(true) => (
            StatusCode::ACCEPTED,
            axum::Json(json!({"id": id, "requeued": true})),
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
