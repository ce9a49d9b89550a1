//! `GET /v1/sessions/{id}` and `GET /v1/sessions/{id}/transcript`
//! (DESIGN §4.3, §4.6), and the session check of a send with `session_id`.
//!
//! Sessions are opened, continued and ended by the inbound path (which
//! owns their timers); the API reads them, and adds agent messages to a
//! session's transcript in the transaction that queues them.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use super::views::{SessionView, TranscriptItem, TranscriptView};
use super::{ApiError, ApiState};
use crate::channel::transcript::read_transcript;
use crate::channel::{Session, SessionTrees};

/// `404 unknown_session`.
pub(super) fn unknown_session(id: &str) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "unknown_session",
        format!("no session {id:?}"),
    )
}

fn find(state: &ApiState, id: &str) -> Result<Session, ApiError> {
    SessionTrees::new(&state.store)
        .get(id)?
        .ok_or_else(|| unknown_session(id))
}

/// The open session an agent message with `session_id` joins: it must be
/// open (an ended or unknown one is `404 unknown_session`) and between the
/// message's `from` and `to`.
pub(super) fn joinable(
    state: &ApiState,
    id: &str,
    from: &str,
    to: &str,
) -> Result<Session, ApiError> {
    let session = find(state, id)?;
    if !session.is_open() {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "unknown_session",
            format!("session {id:?} has ended; a new message from the customer opens a new one"),
        ));
    }
    if session.number != from || session.customer != to {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "service_rule",
            format!(
                "session {id:?} is between {} and {}; send `from` the business number `to` the customer",
                session.number, session.customer
            ),
        ));
    }
    Ok(session)
}

/// A session, open or ended.
#[utoipa::path(
    get,
    path = "/v1/sessions/{id}",
    operation_id = "get_session",
    tag = "sessions",
    params(("id" = String, Path, description = "`ses_…`")),
    responses(
        (status = 200, description = "The session", body = SessionView),
        (status = 401, description = "`unauthorized`: no valid bearer token", body = crate::api::error::ErrorBody),
        (status = 404, description = "`unknown_session`", body = crate::api::error::ErrorBody),
        (status = 503, description = "`unavailable`", body = crate::api::error::ErrorBody),
    )
)]
pub(super) async fn get(State(state): State<Arc<ApiState>>, Path(id): Path<String>) -> Response {
    match find(&state, &id) {
        Ok(session) => (StatusCode::OK, axum::Json(SessionView::from(&session))).into_response(),
        Err(e) => e.into_response(),
    }
}

/// Every message of a session, in order.
#[utoipa::path(
    get,
    path = "/v1/sessions/{id}/transcript",
    operation_id = "get_transcript",
    tag = "sessions",
    params(("id" = String, Path, description = "`ses_…`")),
    responses(
        (status = 200, description = "The transcript", body = TranscriptView),
        (status = 401, description = "`unauthorized`: no valid bearer token", body = crate::api::error::ErrorBody),
        (status = 404, description = "`unknown_session`", body = crate::api::error::ErrorBody),
        (status = 503, description = "`unavailable`", body = crate::api::error::ErrorBody),
    )
)]
pub(super) async fn transcript(
    State(state): State<Arc<ApiState>>,
    Path(id): Path<String>,
) -> Response {
    let listed = find(&state, &id)
        .and_then(|_| read_transcript(&state.store.transcripts, &id).map_err(ApiError::from));
    match listed {
        Ok(entries) => {
            let view = TranscriptView {
                session_id: id,
                messages: entries.iter().map(TranscriptItem::from).collect(),
            };
            (StatusCode::OK, axum::Json(view)).into_response()
        }
        Err(e) => e.into_response(),
    }
}
