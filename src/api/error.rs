//! The API's error shape, `{"error": {"code", "message"}}`, and the one place
//! where failures of every layer are mapped to HTTP statuses and codes
//! (docs/api.md).

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

/// Every error code the API answers, with its status (docs/api.md). The
/// OpenAPI document's `ErrorDetail.code` enum is this list, and a test
/// checks it against every error the handlers' sources can answer.
pub const ERROR_CODES: &[(u16, &str)] = &[
    (400, "invalid_json"),
    (400, "invalid_number"),
    (400, "empty_message"),
    (400, "invalid_call_id"),
    (400, "empty_media"),
    (400, "bad_request"),
    (401, "unauthorized"),
    (403, "opted_out"),
    (404, "unknown_number"),
    (404, "unknown_session"),
    (404, "unknown_call"),
    (404, "unknown_message"),
    (404, "unknown_event"),
    (404, "unknown_media"),
    (404, "not_found"),
    (405, "method_not_allowed"),
    (408, "request_timeout"),
    (409, "duplicate_client_ref"),
    (413, "message_too_long"),
    (413, "body_too_large"),
    (413, "media_too_large"),
    (415, "unsupported_media_type"),
    (415, "media_type_not_allowed"),
    (416, "range_not_satisfiable"),
    (422, "service_rule"),
    (422, "below_ewt_threshold"),
    (422, "media_unavailable"),
    (500, "internal_error"),
    (503, "outbox_full"),
    (503, "unavailable"),
    (503, "not_ready"),
];

/// An API error: status, stable snake_case code, human sentence.
#[derive(Debug, Clone)]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// Stable code (`invalid_number`, …).
    pub code: &'static str,
    /// For humans.
    pub message: String,
    /// Seconds for `Retry-After`.
    pub retry_after: Option<u32>,
    /// For `416`: the resource's size, for `Content-Range: bytes */SIZE`.
    pub content_range: Option<u64>,
}

impl ApiError {
    /// An error.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
            retry_after: None,
            content_range: None,
        }
    }

    /// `400 invalid_json`.
    pub fn invalid_json(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_json", message)
    }

    /// `400 invalid_number`.
    pub fn invalid_number(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_number", message)
    }

    /// `503`: the store failed.
    pub fn unavailable(message: impl Into<String>) -> Self {
        let mut e = Self::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", message);
        e.retry_after = Some(1);
        e
    }

    /// The JSON body.
    pub fn body(&self) -> serde_json::Value {
        serde_json::to_value(self.error_body()).unwrap_or_default()
    }

    /// The body as its type.
    pub fn error_body(&self) -> ErrorBody {
        ErrorBody {
            error: ErrorDetail {
                code: self.code.to_owned(),
                message: self.message.clone(),
            },
        }
    }
}

/// Every error's body: `{"error": {"code", "message"}}`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ErrorBody {
    /// The error.
    pub error: ErrorDetail,
}

/// The code and sentence of an error.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable snake_case code (`docs/api.md` lists them with their
    /// statuses).
    #[schema(example = "invalid_number")]
    pub code: String,
    /// A human sentence.
    pub message: String,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (self.status, axum::Json(self.error_body())).into_response();
        if let Some(seconds) = self.retry_after
            && let Ok(value) = HeaderValue::from_str(&seconds.to_string())
        {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
        if let Some(size) = self.content_range
            && let Ok(value) = HeaderValue::from_str(&format!("bytes */{size}"))
        {
            response.headers_mut().insert(header::CONTENT_RANGE, value);
        }
        response
    }
}

impl From<crate::store::StoreError> for ApiError {
    fn from(e: crate::store::StoreError) -> Self {
        tracing::error!(error = %e, "store failure in the API");
        ApiError::unavailable("the message store is unavailable; retry later")
    }
}
