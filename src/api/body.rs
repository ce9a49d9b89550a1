//! Request bodies are read whole before anything answers.
//!
//! A server that answers early (`401`, `413`, `415`) and closes while the
//! client is still sending leaves unread bytes in its socket; the kernel
//! then resets the connection, and the reset can reach the client before
//! it has read the answer: it sees a broken connection, not the error. So
//! the body is read (up to [`MAX_BODY`] kept) before routing, and a body
//! over the limit is read and dropped up to [`MAX_DRAINED`] before its
//! `413`. Only a body declared larger than that is refused unread.

use axum::body::Body;
use axum::extract::Request;
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use bytes::BytesMut;
use http_body_util::BodyExt;

use std::sync::Arc;

use axum::extract::State;

use super::{ApiError, ApiState};

/// The largest request body accepted.
pub const MAX_BODY: usize = 2 * 1024 * 1024;
/// The most a refused body is read before the answer.
const MAX_DRAINED: u64 = 16 * 1024 * 1024;

/// Reads the body, then passes the request on with it in memory.
pub(super) async fn read_whole_body(
    State(state): State<Arc<ApiState>>,
    request: Request,
    next: Next,
) -> Response {
    // A request without credentials is answered 401 (or 404) without its
    // body ever being kept: it is read and dropped, so an anonymous client
    // cannot make the server hold 2 MiB per connection.
    if !super::is_authorized(&state, &request) {
        let (parts, mut body) = request.into_parts();
        let declared = parts
            .headers
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok());
        if declared.is_none_or(|n| n <= MAX_DRAINED) {
            drain(&mut body).await;
        }
        return next.run(Request::from_parts(parts, Body::empty())).await;
    }
    // Media uploads are streamed to the media store by their handler,
    // which reads (and drains) the body itself.
    if request.method() == axum::http::Method::POST && request.uri().path() == "/v1/media" {
        return next.run(request).await;
    }
    let (parts, body) = request.into_parts();
    let declared = parts
        .headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    let expects_continue = parts
        .headers
        .get(header::EXPECT)
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"100-continue"));
    let mut over = declared.is_some_and(|n| n > MAX_BODY as u64);
    if over && (expects_continue || declared.is_some_and(|n| n > MAX_DRAINED)) {
        // The client waits for a go-ahead, or the body is too large to be
        // worth reading: answer now.
        return too_large();
    }
    let mut kept = BytesMut::new();
    let mut read: u64 = 0;
    let mut body = body;
    while let Some(frame) = body.frame().await {
        let Ok(frame) = frame else {
            return ApiError::new(
                StatusCode::BAD_REQUEST,
                "bad_request",
                "the request body could not be read",
            )
            .into_response();
        };
        let Ok(data) = frame.into_data() else {
            continue;
        };
        read += data.len() as u64;
        if read > MAX_BODY as u64 {
            over = true;
        }
        if over {
            if read > MAX_DRAINED {
                break;
            }
            continue;
        }
        kept.extend_from_slice(&data);
    }
    if over {
        return too_large();
    }
    next.run(Request::from_parts(parts, Body::from(kept.freeze())))
        .await
}

/// Reads and drops what is left of a body that will not be used (up to
/// [`MAX_DRAINED`]), so the client reads the answer rather than a reset.
pub(super) async fn drain(body: &mut Body) {
    let mut drained: u64 = 0;
    while let Some(Ok(frame)) = body.frame().await {
        if let Ok(data) = frame.into_data() {
            drained += data.len() as u64;
            if drained > MAX_DRAINED {
                break;
            }
        }
    }
}

fn too_large() -> Response {
    let mut response = ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "body_too_large",
        format!("the request body is larger than {MAX_BODY} bytes"),
    )
    .into_response();
    response.headers_mut().insert(
        header::CONNECTION,
        header::HeaderValue::from_static("close"),
    );
    response
}
