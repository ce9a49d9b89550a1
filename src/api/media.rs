//! `POST /v1/media` and `GET /v1/media/{id}` (DESIGN §4.3): uploads are
//! streamed to the media store (never held whole in memory), checked
//! against their bytes, made durable, and answered `201` after the group
//! commit; downloads are served with bearer auth or a signed, expiring
//! link, with `Range` for video players.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use http_body_util::BodyExt;
use serde::Serialize;
use utoipa::ToSchema;

use super::{ApiError, ApiState};
use crate::media::{MediaError, MediaInfo};

/// `201` of an upload.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MediaView {
    /// `med_…`.
    pub id: String,
    /// What the bytes are.
    #[schema(example = "image/jpeg")]
    pub content_type: String,
    /// Bytes.
    pub size: u64,
    /// Hex SHA-256 of the bytes.
    pub sha256: String,
    /// A signed link that fetches it without a token until `[media]
    /// url_ttl` from now.
    pub url: String,
}

impl MediaView {
    fn of(state: &ApiState, info: &MediaInfo) -> MediaView {
        MediaView {
            id: info.id.clone(),
            content_type: info.content_type.clone(),
            size: info.size,
            sha256: info.sha256.clone(),
            url: signed_link(state, &info.id, crate::store::outbox::now_ms() / 1000),
        }
    }
}

fn media_error(e: MediaError) -> ApiError {
    match e {
        MediaError::TooLarge(limit) => ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "media_too_large",
            format!("the media is larger than the limit of {limit} bytes ([media] max_bytes)"),
        ),
        MediaError::Empty => ApiError::new(
            StatusCode::BAD_REQUEST,
            "empty_media",
            "the body is empty: send the media's bytes",
        ),
        e @ (MediaError::NotAllowed(_) | MediaError::Mismatch { .. }) => ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "media_type_not_allowed",
            e.to_string(),
        ),
        MediaError::Io(e) => {
            tracing::error!(error = %e, "media store");
            ApiError::unavailable("the media store is unavailable; retry later")
        }
        MediaError::Store(e) => ApiError::from(e),
    }
}

/// Stores the body as a media item.
#[utoipa::path(
    post,
    path = "/v1/media",
    operation_id = "upload_media",
    tag = "media",
    request_body(
        content = Vec<u8>,
        content_type = "application/octet-stream",
        description = "The raw bytes, with the media's Content-Type (image/*, video/*, audio/*, text/vcard, application/pdf); checked against the bytes"
    ),
    responses(
        (status = 201, description = "Stored and fsync'd", body = MediaView),
        (status = 400, description = "`empty_media`, `bad_request` (the body could not be read)", body = crate::api::error::ErrorBody),
        (status = 401, description = "`unauthorized`: no valid bearer token", body = crate::api::error::ErrorBody),
        (status = 413, description = "`media_too_large` ([media] max_bytes)", body = crate::api::error::ErrorBody),
        (status = 415, description = "`media_type_not_allowed`: the bytes are not an allowed media type, or not the declared one", body = crate::api::error::ErrorBody),
        (status = 503, description = "`unavailable`", body = crate::api::error::ErrorBody,
            headers(("Retry-After" = u32, description = "seconds"))),
    )
)]
pub(super) async fn upload(State(state): State<Arc<ApiState>>, request: Request) -> Response {
    match store_upload(&state, request).await {
        Ok(info) => (
            StatusCode::CREATED,
            axum::Json(MediaView::of(&state, &info)),
        )
            .into_response(),
        Err(e) => e.into_response(),
    }
}

async fn store_upload(state: &ApiState, request: Request) -> Result<MediaInfo, ApiError> {
    let declared = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let mut body = request.into_body();
    // A declared type is required: a web page can post a body without one
    // across origins, never with a media type (that needs a preflight).
    let Some(declared) = declared else {
        super::body::drain(&mut body).await;
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "media_type_not_allowed",
            "give the media's Content-Type (image/jpeg, video/mp4, …)",
        ));
    };
    let store = state.media.store.clone();
    let mut writer = store.writer(Some(&declared)).map_err(media_error)?;
    let mut refused = None;
    while let Some(frame) = body.frame().await {
        let Ok(frame) = frame else {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "bad_request",
                "the request body could not be read",
            ));
        };
        let Ok(data) = frame.into_data() else {
            continue;
        };
        if let Err(e) = writer.write(&data) {
            refused = Some(e);
            super::body::drain(&mut body).await;
            break;
        }
    }
    if let Some(e) = refused {
        return Err(media_error(e));
    }
    let info = tokio::task::spawn_blocking(move || writer.commit())
        .await
        .map_err(|_| ApiError::unavailable("the media store failed; retry"))?
        .map_err(media_error)?;
    state.store.group_commit().sync().await?;
    Ok(info)
}

/// A byte range of a file of `size` bytes, from a `Range` header: one
/// `bytes=` range (the first, if several); `Err` when unsatisfiable.
fn requested_range(headers: &HeaderMap, size: u64) -> Result<Option<(u64, u64)>, ()> {
    let Some(value) = headers.get(header::RANGE).and_then(|v| v.to_str().ok()) else {
        return Ok(None);
    };
    let Some(spec) = value.trim().strip_prefix("bytes=") else {
        return Ok(None);
    };
    let first = spec.split(',').next().unwrap_or_default().trim();
    let Some((start, end)) = first.split_once('-') else {
        return Ok(None);
    };
    let (start, end) = match (start.trim(), end.trim()) {
        ("", "") => return Ok(None),
        ("", suffix) => {
            let n: u64 = suffix.parse().map_err(|_| ())?;
            if n == 0 {
                return Err(());
            }
            (size.saturating_sub(n), size.saturating_sub(1))
        }
        (start, "") => (start.parse().map_err(|_| ())?, size.saturating_sub(1)),
        (start, end) => {
            let start: u64 = start.parse().map_err(|_| ())?;
            let end: u64 = end.parse().map_err(|_| ())?;
            (start, end.min(size.saturating_sub(1)))
        }
    };
    if start >= size || end < start {
        return Err(());
    }
    Ok(Some((start, end)))
}

/// The bytes of a media item.
#[utoipa::path(
    get,
    path = "/v1/media/{id}",
    operation_id = "get_media",
    tag = "media",
    params(
        ("id" = String, Path, description = "`med_…`"),
        ("expires" = Option<u64>, Query, description = "A signed link's expiry (Unix seconds); with `signature`, replaces the bearer token"),
        ("signature" = Option<String>, Query, description = "A signed link's HMAC"),
    ),
    responses(
        (status = 200, description = "The bytes, with their stored Content-Type", body = Vec<u8>, content_type = "*/*"),
        (status = 206, description = "The requested range", body = Vec<u8>, content_type = "*/*"),
        (status = 401, description = "`unauthorized`: no valid bearer token or signed link", body = crate::api::error::ErrorBody),
        (status = 404, description = "`unknown_media`", body = crate::api::error::ErrorBody),
        (status = 416, description = "`range_not_satisfiable`", body = crate::api::error::ErrorBody),
        (status = 503, description = "`unavailable`", body = crate::api::error::ErrorBody),
    )
)]
pub(super) async fn download(
    State(state): State<Arc<ApiState>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    match serve(&state, &id, &headers).await {
        Ok(response) => response,
        Err(e) => e.into_response(),
    }
}

async fn serve(state: &ApiState, id: &str, headers: &HeaderMap) -> Result<Response, ApiError> {
    let store = state.media.store.clone();
    let Some(info) = store.get(id)? else {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "unknown_media",
            format!("no media {id:?} (never stored, or past [media] retention)"),
        ));
    };
    let range = requested_range(headers, info.size).map_err(|()| {
        let mut e = ApiError::new(
            StatusCode::RANGE_NOT_SATISFIABLE,
            "range_not_satisfiable",
            format!("the media has {} bytes", info.size),
        );
        e.content_range = Some(info.size);
        e
    })?;
    let (start, end) = range.unwrap_or((0, info.size.saturating_sub(1)));
    let len = end - start + 1;
    let read_info = info.clone();
    let file = tokio::task::spawn_blocking(move || store.open_at(&read_info, start))
        .await
        .map_err(|_| ApiError::unavailable("the media store failed; retry"))?
        .map_err(|e| {
            tracing::error!(error = %e, media = %info.id, "reading media");
            ApiError::unavailable("the media store is unavailable; retry later")
        })?;
    // Streamed in small reads: a download holds a buffer, not the file.
    use tokio::io::AsyncReadExt;
    let stream = tokio_util::io::ReaderStream::new(tokio::fs::File::from_std(file).take(len));
    let mut response = Response::new(Body::from_stream(stream));
    *response.status_mut() = if range.is_some() {
        StatusCode::PARTIAL_CONTENT
    } else {
        StatusCode::OK
    };
    let set = |response: &mut Response, name, value: String| {
        if let Ok(value) = HeaderValue::from_str(&value) {
            response.headers_mut().insert(name, value);
        }
    };
    set(
        &mut response,
        header::CONTENT_TYPE,
        info.content_type.clone(),
    );
    set(&mut response, header::CONTENT_LENGTH, len.to_string());
    set(&mut response, header::ACCEPT_RANGES, "bytes".to_owned());
    set(&mut response, header::ETAG, format!("\"{}\"", info.sha256));
    set(
        &mut response,
        header::CACHE_CONTROL,
        "private, max-age=86400, immutable".to_owned(),
    );
    set(
        &mut response,
        header::X_CONTENT_TYPE_OPTIONS,
        "nosniff".to_owned(),
    );
    set(
        &mut response,
        header::CONTENT_DISPOSITION,
        "inline".to_owned(),
    );
    if range.is_some() {
        set(
            &mut response,
            header::CONTENT_RANGE,
            format!("bytes {start}-{end}/{}", info.size),
        );
    }
    Ok(response)
}

/// A signed link to `id` valid for `[media] url_ttl` from `now` (Unix
/// seconds).
pub fn signed_link(state: &ApiState, id: &str, now: u64) -> String {
    link_at(
        state,
        &state.media.public_url,
        id,
        now,
        std::time::Duration::ZERO,
    )
}

/// A link under `base`, valid `[media] url_ttl` after `now` plus `extra`
/// (a message's validity: the link must still open when it is delivered).
pub fn link_at(
    state: &ApiState,
    base: &str,
    id: &str,
    now: u64,
    extra: std::time::Duration,
) -> String {
    let expires = now + extra.as_secs() + state.media.url_ttl.as_secs();
    format!("{base}/v1/media/{id}?{}", state.media.key.sign(id, expires))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn range(value: &str, size: u64) -> Result<Option<(u64, u64)>, ()> {
        let mut headers = HeaderMap::new();
        headers.insert(header::RANGE, HeaderValue::from_str(value).expect("header"));
        requested_range(&headers, size)
    }

    #[test]
    fn ranges() {
        assert_eq!(range("bytes=0-99", 1000), Ok(Some((0, 99))));
        assert_eq!(range("bytes=900-", 1000), Ok(Some((900, 999))));
        assert_eq!(range("bytes=-100", 1000), Ok(Some((900, 999))));
        assert_eq!(range("bytes=990-5000", 1000), Ok(Some((990, 999))));
        assert_eq!(range("bytes=0-0,5-9", 1000), Ok(Some((0, 0))));
        assert_eq!(range("bytes=1000-", 1000), Err(()));
        assert_eq!(range("bytes=5-1", 1000), Err(()));
        assert_eq!(range("bytes=-0", 1000), Err(()));
        assert_eq!(range("items=0-1", 1000), Ok(None));
        assert_eq!(range("bytes=x-1", 1000), Err(()));
    }
}
