//! `PUT`, `GET` and `DELETE /v1/calls/{call_id}`: the IVR calls the
//! call-bound services need (`services::calls`). A registration and an end
//! are answered after the group commit, like a send.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::views::CallView;
use super::{ApiError, ApiState};
use crate::config::{NumberKind, PhoneNumber};
use crate::services::calls::call_id_is_valid;
use crate::services::{Call, CallRegistry};
use crate::store::outbox::now_ms;

/// The body of `PUT /v1/calls/{call_id}`.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct CallRequest {
    /// The caller (E.164).
    #[schema(example = "+15557654321", pattern = r"^\+[1-9][0-9]{7,14}$")]
    customer: String,
    /// The business number the call is about.
    #[schema(
        example = "+15551230001",
        pattern = r"^(\+[1-9][0-9]{7,14}|[0-9]{3,8})$"
    )]
    number: String,
}

/// `404 unknown_call`.
pub(super) fn unknown_call(call_id: &str) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "unknown_call",
        format!("no registered call {call_id:?} (never registered, ended, or expired)"),
    )
}

fn check_id(call_id: &str) -> Result<(), ApiError> {
    if call_id_is_valid(call_id) {
        Ok(())
    } else {
        Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_call_id",
            "a call id is 1 to 128 letters, digits or . _ : @ -",
        ))
    }
}

fn registry(state: &ApiState) -> CallRegistry {
    CallRegistry::new(state.store.calls.clone())
}

/// `PUT /v1/calls/{call_id}`: registers the call (again), `201` when new,
/// `200` when it was registered already (its expiry starts over).
#[utoipa::path(
    put,
    path = "/v1/calls/{call_id}",
    operation_id = "register_call",
    tag = "calls",
    params(("call_id" = String, Path, description = "The contact center's id of the call", pattern = r"^[A-Za-z0-9._:@-]{1,128}$")),
    request_body = CallRequest,
    responses(
        (status = 200, description = "Registered again; its expiry starts over", body = CallView),
        (status = 201, description = "Registered", body = CallView),
        (status = 400, description = "`invalid_call_id`, `invalid_json`, `invalid_number`", body = crate::api::error::ErrorBody),
        (status = 401, description = "`unauthorized`: no valid bearer token", body = crate::api::error::ErrorBody),
        (status = 404, description = "`unknown_number`: not a configured business number", body = crate::api::error::ErrorBody),
        (status = 415, description = "`unsupported_media_type`", body = crate::api::error::ErrorBody),
        (status = 503, description = "`unavailable`", body = crate::api::error::ErrorBody),
    )
)]
pub(super) async fn register(
    State(state): State<Arc<ApiState>>,
    Path(call_id): Path<String>,
    body: Bytes,
) -> Response {
    match register_call(&state, &call_id, &body).await {
        Ok(response) => response,
        Err(e) => e.into_response(),
    }
}

async fn register_call(
    state: &ApiState,
    call_id: &str,
    body: &Bytes,
) -> Result<Response, ApiError> {
    check_id(call_id)?;
    let request: CallRequest = serde_json::from_slice(body).map_err(|e| {
        ApiError::invalid_json(format!(
            "expected {{\"customer\": \"+1…\", \"number\": \"+1…\"}}: {e}"
        ))
    })?;
    if PhoneNumber::parse(&request.customer).map(|n| n.kind()) != Ok(NumberKind::E164) {
        return Err(ApiError::invalid_number(format!(
            "`customer` {:?} is not an E.164 number (+ and 8 to 15 digits)",
            request.customer
        )));
    }
    if !state.numbers.load().contains_key(&request.number) {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "unknown_number",
            format!("{} is not a configured business number", request.number),
        ));
    }
    let now = now_ms();
    let expiry = state.services.load().call_expiry;
    let call = Call {
        call_id: call_id.to_owned(),
        customer: request.customer,
        number: request.number,
        registered_at: now,
        expires_at: now.saturating_add(expiry.as_millis() as u64),
    };
    let registered = registry(state).register(&call)?;
    state.store.group_commit().sync().await?;
    crate::metrics::call_changed("registered", 1);
    if let Some(replaced) = &registered.replaced {
        tracing::info!(call = %call_id, %replaced, "a new call of the same customer and number ended the older one");
        crate::metrics::call_changed("ended", 1);
    }
    let status = if registered.new {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, axum::Json(CallView::from(&call))).into_response())
}

/// `GET /v1/calls/{call_id}`: the call while it is registered.
#[utoipa::path(
    get,
    path = "/v1/calls/{call_id}",
    operation_id = "get_call",
    tag = "calls",
    params(("call_id" = String, Path, description = "The call's id", pattern = r"^[A-Za-z0-9._:@-]{1,128}$")),
    responses(
        (status = 200, description = "The call, while registered", body = CallView),
        (status = 400, description = "`invalid_call_id`", body = crate::api::error::ErrorBody),
        (status = 401, description = "`unauthorized`: no valid bearer token", body = crate::api::error::ErrorBody),
        (status = 404, description = "`unknown_call`: never registered, ended, deflected or expired", body = crate::api::error::ErrorBody),
        (status = 503, description = "`unavailable`", body = crate::api::error::ErrorBody),
    )
)]
pub(super) async fn get(
    State(state): State<Arc<ApiState>>,
    Path(call_id): Path<String>,
) -> Response {
    let found = check_id(&call_id).and_then(|()| {
        registry(&state)
            .get(&call_id, now_ms())
            .map_err(ApiError::from)
    });
    match found {
        Ok(Some(call)) => (StatusCode::OK, axum::Json(CallView::from(&call))).into_response(),
        Ok(None) => unknown_call(&call_id).into_response(),
        Err(e) => e.into_response(),
    }
}

/// `DELETE /v1/calls/{call_id}`: ends the call (`204`), or `404
/// unknown_call`.
#[utoipa::path(
    delete,
    path = "/v1/calls/{call_id}",
    operation_id = "end_call",
    tag = "calls",
    params(("call_id" = String, Path, description = "The call's id", pattern = r"^[A-Za-z0-9._:@-]{1,128}$")),
    responses(
        (status = 204, description = "Ended"),
        (status = 400, description = "`invalid_call_id`", body = crate::api::error::ErrorBody),
        (status = 401, description = "`unauthorized`: no valid bearer token", body = crate::api::error::ErrorBody),
        (status = 404, description = "`unknown_call`", body = crate::api::error::ErrorBody),
        (status = 503, description = "`unavailable`", body = crate::api::error::ErrorBody),
    )
)]
pub(super) async fn end(
    State(state): State<Arc<ApiState>>,
    Path(call_id): Path<String>,
) -> Response {
    match end_call(&state, &call_id).await {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => e.into_response(),
    }
}

async fn end_call(state: &ApiState, call_id: &str) -> Result<(), ApiError> {
    check_id(call_id)?;
    let Some(_call) = registry(state).end(call_id, now_ms())? else {
        return Err(unknown_call(call_id));
    };
    state.store.group_commit().sync().await?;
    crate::metrics::call_changed("ended", 1);
    Ok(())
}
