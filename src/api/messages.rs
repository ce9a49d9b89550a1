//! `POST /v1/messages`, `POST /v1/messages/batch`, `GET /v1/messages/{id}`.
//!
//! A send is validated completely (JSON, numbers, sender, text, length)
//! before anything is written, then written to the outbox and answered
//! `202` only after the group commit has fsync'd it. A batch is one write
//! and one sync for all of its valid messages.

use std::sync::Arc;
use std::time::Duration;

use crate::config::{NumberKind, PhoneNumber};
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::claims::ClaimGuard;
use super::views::{Accepted, BatchItem, BatchResults, MessageView};
use super::{ApiError, ApiState};
use crate::channel::transcript::transcript_key;
use crate::channel::{
    Author, Direction, OptOutRegistry, SessionOrigin, SessionTrees, TranscriptEntry,
};
use crate::config::Language;
use crate::inbound::{OpeningRefusal, OutboundOpening};
use crate::outbound::plan;
use crate::services::{
    Call, CallRegistry, RenderRefusal, ServiceAsk, ServiceRefusal, SessionUse, check_request,
    render, service_of, variables_as_text,
};
use crate::store::outbox::MessageRecord;

/// The request body of a send (docs/api.md). Every field of the contract is
/// accepted; media (MMS) is refused explicitly until it is built.
#[derive(Debug, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct SendRequest {
    /// The business number (E.164 or a short code).
    #[schema(
        example = "+15551230001",
        pattern = r"^(\+[1-9][0-9]{7,14}|[0-9]{3,8})$"
    )]
    from: String,
    /// The customer (E.164).
    #[schema(example = "+15557654321", pattern = r"^\+[1-9][0-9]{7,14}$")]
    to: String,
    /// The text (or give `template`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    text: Option<String>,
    /// Media: `{"id": "med_…"}` from `POST /v1/media`, or `{"url":
    /// "https://…"}` of a host in `[media] fetch_hosts` (at most 10). Until
    /// MMS (MM7) is available they go as links in the SMS (`fallback:
    /// "sms_link"`), which needs `[media] public_url`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Vec<Object>>)]
    media: Option<Vec<Value>>,
    /// The open session to write in (service `channel`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    session_id: Option<String>,
    /// `channel`, `outbound`, `session_less`, `wait_time`, `in_call`,
    /// `deflection`, `app_launch`; default `channel` with `session_id`,
    /// else `session_less`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<crate::config::ServiceKind>)]
    service: Option<String>,
    /// A `[templates.NAME]` to render instead of `text`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    template: Option<String>,
    /// The template's variables (strings, numbers or booleans).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    variables: Option<serde_json::Map<String, Value>>,
    /// A language tag (`es`, `pt-BR`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    language: Option<String>,
    /// The registered IVR call (call-bound services).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    call_id: Option<String>,
    /// The caller's expected wait (services with `min_ewt`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    ewt_seconds: Option<u64>,
    /// The queue of a session the message opens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    queue: Option<String>,
    /// How long to keep trying (humantime, e.g. `24h`; at most 7 days).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(example = "24h")]
    validity: Option<String>,
    /// An idempotency key (at most 256 bytes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    client_ref: Option<String>,
}

/// The body of `POST /v1/messages/batch`. Each message is checked on its
/// own, so one bad message does not refuse the others.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct BatchRequest {
    /// The messages, each a `SendRequest` as for `POST /v1/messages`;
    /// each is checked on its own and refused in its own result.
    #[schema(value_type = Vec<Object>)]
    messages: Vec<Value>,
}

/// Longest `client_ref`, in bytes.
const MAX_CLIENT_REF: usize = 256;

/// Largest request (its fields as stored for idempotency), in bytes. Every
/// stored record stays far below sled's blob threshold (about 128 KiB):
/// larger values go to blob files that sled never fsyncs, so they would not
/// be durable when the 202 goes out.
const MAX_STORED_REQUEST: usize = 16 * 1024;

/// A validated request, ready to be written.
struct Prepared {
    record: MessageRecord,
    /// The request as canonical JSON, for idempotency comparisons.
    canonical: String,
    /// Where it goes besides the outbox.
    placement: Placement,
}

/// How a validated message is written.
enum Placement {
    /// No session (`session_less`, or a call-bound service whose customer
    /// has no open session): the outbox only.
    Alone,
    /// In an open session (`channel`, or the call's): the outbox and this
    /// transcript entry, in one transaction; the session's queue.
    InSession(Vec<u8>, Vec<u8>, Option<String>),
    /// `outbound` and `deflection`: through the inbound path's task, which
    /// owns sessions.
    Opening {
        queue: Option<String>,
        language: Option<String>,
        origin: SessionOrigin,
        call: Option<Call>,
    },
}

/// `422 service_rule` (or `below_ewt_threshold`) from the matrix.
fn service_refusal(refusal: ServiceRefusal) -> ApiError {
    let message = refusal.to_string();
    match refusal {
        ServiceRefusal::Rule(_) => rule_refusal(message),
        ServiceRefusal::BelowEwt { .. } => ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "below_ewt_threshold",
            message,
        ),
    }
}

fn rule_refusal(message: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "service_rule", message)
}

/// The longest MMS text, in bytes (the text part of an MMS has no segment
/// limit, but a message is not a document).
const MAX_MMS_TEXT: usize = 5000;

/// Most media items in one message.
const MAX_MEDIA: usize = 10;

/// The request's `media`, each stored: an `id` of `POST /v1/media` is
/// looked up, an `https` `url` of an allowed host fetched into the media
/// store (`media::fetch`). The request's items are replaced by their ids,
/// so a repeated request (`client_ref`) compares equal.
async fn resolve_media(
    state: &ApiState,
    value: &mut Value,
) -> Result<Vec<crate::media::MediaInfo>, ApiError> {
    let Some(items) = value.get_mut("media").and_then(Value::as_array_mut) else {
        return Ok(Vec::new());
    };
    if items.len() > MAX_MEDIA {
        return Err(ApiError::invalid_json(format!(
            "`media` has {} items; at most {MAX_MEDIA} are allowed",
            items.len()
        )));
    }
    let unavailable = |message: String| {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "media_unavailable",
            message,
        )
    };
    let mut media = Vec::with_capacity(items.len());
    for item in items.iter_mut() {
        let info = match (
            item.get("id").and_then(Value::as_str),
            item.get("url").and_then(Value::as_str),
        ) {
            (Some(id), None) => {
                let info = state.media.store.get(id)?.ok_or_else(|| {
                    ApiError::new(
                        StatusCode::NOT_FOUND,
                        "unknown_media",
                        format!("no media {id:?}: store it first with POST /v1/media"),
                    )
                })?;
                // Retention counts from the last use.
                state.media.store.touch(id)?;
                info
            }
            (None, Some(url)) => {
                state
                    .media
                    .fetcher
                    .fetch(url, &state.media.store)
                    .await
                    .map_err(|e| match e {
                        // Our store failing is not the client's fault.
                        crate::media::fetch::FetchError::Media(
                            crate::media::MediaError::Io(_) | crate::media::MediaError::Store(_),
                        ) => ApiError::unavailable("the media store is unavailable; retry later"),
                        e => unavailable(format!("media {url:?} cannot be used: {e}")),
                    })?
            }
            _ => {
                return Err(ApiError::invalid_json(
                    "each `media` item is {\"id\": \"med_…\"} or {\"url\": \"https://…\"}",
                ));
            }
        };
        *item = json!({"id": info.id});
        media.push(info);
    }
    Ok(media)
}

/// Validates a send and counts a refusal by service and code.
fn prepare(
    state: &ApiState,
    value: Value,
    media: &[crate::media::MediaInfo],
    canonical: Option<String>,
) -> Result<Prepared, ApiError> {
    let mut service = "";
    let prepared = prepare_send(state, value, media, canonical, &mut service);
    if let Err(e) = &prepared {
        crate::metrics::api_refused(service, e.code);
    }
    prepared
}

fn prepare_send(
    state: &ApiState,
    value: Value,
    media_items: &[crate::media::MediaInfo],
    canonical: Option<String>,
    service_label: &mut &'static str,
) -> Result<Prepared, ApiError> {
    let request: SendRequest = serde_json::from_value(value)
        .map_err(|e| ApiError::invalid_json(format!("not a valid message: {e}")))?;
    let kind = service_of(request.service.as_deref(), request.session_id.as_deref())
        .map_err(service_refusal)?;
    *service_label = kind.as_str();
    if PhoneNumber::parse(&request.from).is_err() {
        return Err(ApiError::invalid_number(format!(
            "`from` {:?} is neither an E.164 number (+ and 8 to 15 digits) nor a short code",
            request.from
        )));
    }
    if PhoneNumber::parse(&request.to).map(|n| n.kind()) != Ok(NumberKind::E164) {
        return Err(ApiError::invalid_number(format!(
            "`to` {:?} is not an E.164 number (+ and 8 to 15 digits)",
            request.to
        )));
    }
    if let Some(language) = &request.language
        && Language::parse(language).is_none()
    {
        return Err(ApiError::invalid_json(format!(
            "`language` {language:?} is not a language tag (e.g. \"es\" or \"pt-BR\")"
        )));
    }
    let numbers = state.numbers.load_full();
    let Some(route) = numbers.get(&request.from) else {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "unknown_number",
            format!("{} is not a configured business number", request.from),
        ));
    };
    if OptOutRegistry::new(state.store.opt_outs.clone())
        .is_opted_out(&request.from, &request.to)
        .map_err(crate::store::StoreError::from)?
    {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "opted_out",
            format!(
                "{} opted out of messages from {} (they can text START to opt back in)",
                request.to, request.from
            ),
        ));
    }
    let media = !media_items.is_empty();
    // Media go as an MMS through the number's MMS carrier; a number without
    // one sends them as links in an SMS, which the customer's phone must be
    // able to open.
    let mms_carrier = route.mms_carrier.as_ref().filter(|_| media);
    if media && mms_carrier.is_none() && state.media.customer_base.is_none() {
        return Err(rule_refusal(format!(
            "{} has no mms_carrier, so media go as links in an SMS, and \
             [media] public_url is not set, so no link would reach the customer",
            request.from
        )));
    }
    let text_given = request.text.as_deref().is_some_and(|t| !t.is_empty());
    if !text_given && request.template.is_none() && !media {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "empty_message",
            "`text` (or `template`) is required and may not be empty",
        ));
    }
    let services = state.services.load();
    if kind.has_ewt_threshold()
        && let Some(ewt) = request.ewt_seconds
    {
        crate::metrics::ewt_seen(kind.as_str(), ewt);
    }
    let ask = ServiceAsk {
        text: text_given,
        template: request.template.as_deref(),
        media,
        session_id: request.session_id.as_deref(),
        call_id: request.call_id.as_deref(),
        ewt_seconds: request.ewt_seconds,
        queue: request.queue.as_deref(),
    };
    let rule =
        check_request(kind, &ask, services.min_ewt.get(&kind).copied()).map_err(service_refusal)?;
    let now = crate::store::outbox::now_ms();
    let call = if rule.needs_call {
        let id = request.call_id.as_deref().unwrap_or_default();
        let call = CallRegistry::new(state.store.calls.clone())
            .get(id, now)?
            .ok_or_else(|| super::calls::unknown_call(id))?;
        if call.number != request.from || call.customer != request.to {
            return Err(rule_refusal(format!(
                "call {id:?} is {} calling {}: send `from` the call's number `to` its caller",
                call.customer, call.number
            )));
        }
        Some(call)
    } else {
        None
    };
    let session = match rule.session {
        SessionUse::Given => {
            let id = request.session_id.as_deref().unwrap_or_default();
            Some(super::sessions::joinable(
                state,
                id,
                &request.from,
                &request.to,
            )?)
        }
        SessionUse::Call => SessionTrees::new(&state.store)
            .open_for(&request.from, &request.to)?
            .filter(|s| s.is_open() && s.due(now).is_none()),
        SessionUse::Opens | SessionUse::OpensChannel | SessionUse::None => None,
    };
    let (text, language) = match request.template.as_deref() {
        Some(name) => {
            let template = services
                .templates
                .get(name)
                .ok_or_else(|| RenderRefusal::Unknown(name.to_owned()))
                .map_err(|e| rule_refusal(e.to_string()))?;
            let variables = variables_as_text(request.variables.as_ref())
                .map_err(|e| rule_refusal(e.to_string()))?;
            let preferred = [
                request.language.as_deref(),
                session.as_ref().map(|s| s.language.as_str()),
                route.language.as_deref(),
            ];
            let rendered = render(template, &preferred, &variables)
                .map_err(|e| rule_refusal(e.to_string()))?;
            (rendered.text, Some(rendered.language))
        }
        None => (
            request.text.clone().unwrap_or_default(),
            request.language.clone(),
        ),
    };
    let validity = match &request.validity {
        Some(v) => humantime::parse_duration(v)
            .map_err(|e| ApiError::invalid_json(format!("`validity` {v:?}: {e}")))?,
        None => state.default_validity,
    };
    let validity = validity.min(Duration::from_secs(7 * 24 * 3600));
    let text = match (&state.media.customer_base, media) {
        (Some(base), true) if mms_carrier.is_none() => {
            let now = crate::store::outbox::now_ms() / 1000;
            let links: Vec<String> = media_items
                .iter()
                .map(|m| super::media::link_at(state, base, &m.id, now, validity))
                .collect();
            if text.is_empty() {
                links.join("\n")
            } else {
                format!("{text}\n{}", links.join("\n"))
            }
        }
        _ => text,
    };
    // An MMS carries its text whole, in one part: no SMS encoding applies.
    let (encoding, segments) = match mms_carrier {
        Some(_) if text.len() > MAX_MMS_TEXT => {
            return Err(ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "message_too_long",
                format!(
                    "the MMS text is {} bytes long; at most {MAX_MMS_TEXT} are sent",
                    text.len()
                ),
            ));
        }
        Some(_) => ("binary", 1),
        None => {
            let plan = plan::choose_encoding(&text, &route.plan).map_err(|e| {
                ApiError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "message_too_long",
                    e.to_string(),
                )
            })?;
            (plan.encoding().as_str(), plan.segments())
        }
    };
    if let Some(client_ref) = &request.client_ref
        && client_ref.len() > MAX_CLIENT_REF
    {
        return Err(ApiError::invalid_json(format!(
            "`client_ref` is {} bytes long; at most {MAX_CLIENT_REF} are allowed",
            client_ref.len()
        )));
    }
    let canonical =
        canonical.unwrap_or_else(|| serde_json::to_string(&request).unwrap_or_default());
    if canonical.len() > MAX_STORED_REQUEST {
        return Err(ApiError::invalid_json(format!(
            "the message's fields take {} bytes; at most {MAX_STORED_REQUEST} are stored",
            canonical.len()
        )));
    }
    let n = state.store.generate_id()?;
    let mut record = MessageRecord::queued(
        n,
        request.from,
        request.to,
        text,
        encoding,
        segments,
        mms_carrier.unwrap_or(&route.carrier).clone(),
        validity.as_millis() as u64,
    );
    record.client_ref = request.client_ref;
    record.service = Some(kind);
    record.call_id = call.as_ref().map(|c| c.call_id.clone());
    record.language = language;
    if media {
        record.media = media_items.iter().map(|m| m.id.clone()).collect();
        if mms_carrier.is_none() {
            record.fallback = Some("sms_link".to_owned());
        }
    }
    let placement = match (rule.session, session) {
        (SessionUse::Opens, _) => Placement::Opening {
            queue: request.queue,
            language: request.language,
            origin: SessionOrigin::Outbound,
            call: None,
        },
        (SessionUse::OpensChannel, _) => Placement::Opening {
            queue: request.queue,
            language: request.language,
            origin: SessionOrigin::Deflection,
            call,
        },
        (_, Some(session)) => {
            let entry = TranscriptEntry {
                direction: Direction::Out,
                author: Author::Agent,
                kind: None,
                text: Some(record.text.clone()),
                message_id: Some(record.id.clone()),
                at: record.created_at,
                media: record.media.clone(),
            };
            let value = serde_json::to_vec(&entry).map_err(|e| {
                ApiError::from(crate::store::StoreError::Corrupt {
                    tree: "transcripts",
                    detail: e.to_string(),
                })
            })?;
            Placement::InSession(
                transcript_key(&session.id, state.store.generate_id()?),
                value,
                session.queue,
            )
        }
        (_, None) => Placement::Alone,
    };
    Ok(Prepared {
        record,
        canonical,
        placement,
    })
}

fn accepted_body(record: &MessageRecord) -> Accepted {
    Accepted::from(record)
}

/// The request as sent, in canonical form, when it has a `client_ref`
/// (`None` otherwise, or when it is not a message at all: `prepare` then
/// says why).
fn canonical_request(value: &Value) -> Option<String> {
    // Only idempotency compares requests: without a client_ref, no extra
    // parse on the hot path (`prepare` then serialises what it parsed).
    value.get("client_ref")?;
    serde_json::from_value::<SendRequest>(value.clone())
        .ok()
        .and_then(|request| serde_json::to_string(&request).ok())
}

/// The message a `client_ref` was first used for, when this request is the
/// same as that one; `409 duplicate_client_ref` when it is another.
fn repeated(
    state: &ApiState,
    value: &Value,
    canonical: Option<&str>,
) -> Result<Option<MessageRecord>, ApiError> {
    let (Some(key), Some(canonical)) = (value.get("client_ref").and_then(Value::as_str), canonical)
    else {
        return Ok(None);
    };
    let Some(existing) = state
        .store
        .client_refs
        .get(key.as_bytes())
        .map_err(crate::store::StoreError::from)?
    else {
        return Ok(None);
    };
    let existing: Value = serde_json::from_slice(&existing).unwrap_or(Value::Null);
    let Some(record) = state
        .store
        .get_message(existing["id"].as_str().unwrap_or_default())?
    else {
        // A claim without its message is free (see `claim`).
        return Ok(None);
    };
    if existing["request"].as_str() == Some(canonical) {
        Ok(Some(record))
    } else {
        Err(ApiError::new(
            StatusCode::CONFLICT,
            "duplicate_client_ref",
            format!("client_ref {key:?} was used before with a different request"),
        ))
    }
}

/// Outcome of claiming a client_ref.
enum Claim {
    /// New: write the message.
    New(Prepared),
    /// Same key and body as before: answer with the first result.
    Repeat(MessageRecord),
}

fn claim(state: &ApiState, prepared: Prepared, guard: &mut ClaimGuard) -> Result<Claim, ApiError> {
    let Some(key) = prepared.record.client_ref.clone() else {
        return Ok(Claim::New(prepared));
    };
    let being_processed = || {
        ApiError::new(
            StatusCode::CONFLICT,
            "duplicate_client_ref",
            format!("client_ref {key:?} is being processed; retry"),
        )
    };
    if !guard.hold(&key) {
        return Err(being_processed());
    }
    let value = json!({"id": prepared.record.id, "request": prepared.canonical}).to_string();
    let refs = &state.store.client_refs;
    let mut expected = None;
    // At most two rounds: a free claim found in the first is taken over in
    // the second, unless something else changed it meanwhile.
    for _ in 0..2 {
        let swapped = refs
            .compare_and_swap(key.as_bytes(), expected.as_deref(), Some(value.as_bytes()))
            .map_err(crate::store::StoreError::from)?;
        let current = match swapped {
            Ok(()) => return Ok(Claim::New(prepared)),
            Err(e) => e.current,
        };
        let existing: Value = current
            .as_deref()
            .and_then(|v| serde_json::from_slice(v).ok())
            .unwrap_or(Value::Null);
        let id = existing["id"].as_str().unwrap_or_default();
        match state.store.get_message(id)? {
            Some(record) if existing["request"].as_str() == Some(prepared.canonical.as_str()) => {
                return Ok(Claim::Repeat(record));
            }
            Some(_) => {
                return Err(ApiError::new(
                    StatusCode::CONFLICT,
                    "duplicate_client_ref",
                    format!("client_ref {key:?} was used before with a different request"),
                ));
            }
            // No message and no request of ours holding it: the claim of a
            // write that failed or of a process that died. It is free.
            None => expected = current.map(|v| v.to_vec()),
        }
    }
    Err(being_processed())
}

/// `503 outbox_full` when `max_outbox` messages are queued or sending
/// (carriers down or far slower than intake): back-pressure instead of an
/// unbounded backlog. Messages waiting only for receipts do not count.
fn check_room(state: &ApiState) -> Result<(), ApiError> {
    if state.dispatcher.in_progress() >= state.max_outbox {
        let mut e = ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "outbox_full",
            format!(
                "{} messages are waiting to be sent; retry later",
                state.max_outbox
            ),
        );
        e.retry_after = Some(5);
        return Err(e);
    }
    Ok(())
}

fn parse_body(body: &Bytes) -> Result<Value, ApiError> {
    serde_json::from_slice(body).map_err(|e| ApiError::invalid_json(format!("invalid JSON: {e}")))
}

/// Sends one message: `202` once it is durable.
#[utoipa::path(
    post,
    path = "/v1/messages",
    operation_id = "send_message",
    tag = "messages",
    request_body = SendRequest,
    responses(
        (status = 202, description = "Accepted and fsync'd", body = Accepted),
        (status = 400, description = "`invalid_json` (not JSON, unknown field, wrong type, bad `validity` or `language`), `invalid_number`, `empty_message`", body = crate::api::error::ErrorBody),
        (status = 401, description = "`unauthorized`: no valid bearer token", body = crate::api::error::ErrorBody),
        (status = 403, description = "`opted_out`: the customer opted out of this number", body = crate::api::error::ErrorBody),
        (status = 404, description = "`unknown_number` (sender not configured), `unknown_session`, `unknown_call`, `unknown_media`", body = crate::api::error::ErrorBody),
        (status = 409, description = "`duplicate_client_ref`: same key, different request", body = crate::api::error::ErrorBody),
        (status = 413, description = "`message_too_long` (more than 10 segments), `body_too_large`", body = crate::api::error::ErrorBody),
        (status = 415, description = "`unsupported_media_type`: not application/json", body = crate::api::error::ErrorBody),
        (status = 422, description = "`service_rule` (the service's rule, named), `below_ewt_threshold`, `media_unavailable` (a media URL that is not https, not of an allowed host, at an internal address, or that could not be fetched or stored)", body = crate::api::error::ErrorBody),
        (status = 503, description = "`outbox_full` or `unavailable`, with `Retry-After`", body = crate::api::error::ErrorBody,
            headers(("Retry-After" = u32, description = "seconds"))),
    )
)]
pub(super) async fn send(State(state): State<Arc<ApiState>>, body: Bytes) -> Response {
    match send_one(&state, &body).await {
        Ok(response) => response,
        Err(e) => e.into_response(),
    }
}

async fn send_one(state: &Arc<ApiState>, body: &Bytes) -> Result<Response, ApiError> {
    check_room(state)?;
    let mut value = parse_body(body)?;
    // Idempotency compares the request as sent (with its media URLs), and
    // a repeat is answered before anything is fetched again.
    let canonical = canonical_request(&value);
    if let Some(record) = repeated(state, &value, canonical.as_deref())? {
        return Ok((StatusCode::ACCEPTED, axum::Json(accepted_body(&record))).into_response());
    }
    let media = resolve_media(state, &mut value).await.inspect_err(|e| {
        crate::metrics::api_refused("", e.code);
    })?;
    let prepared = prepare(state, value, &media, canonical)?;
    let mut guard = state.claims.guard();
    let (record, placement) = match claim(state, prepared, &mut guard)? {
        Claim::Repeat(record) => {
            return Ok((StatusCode::ACCEPTED, axum::Json(accepted_body(&record))).into_response());
        }
        Claim::New(prepared) => (prepared.record, prepared.placement),
    };
    match placement {
        Placement::InSession(key, entry, queue) => {
            write_in_session(state, &record, &(key, entry))?;
            commit_and_hand_over(state, vec![(record.clone(), Some(queue))]).await?;
            return Ok((StatusCode::ACCEPTED, axum::Json(accepted_body(&record))).into_response());
        }
        Placement::Alone => state.store.put_message(&record)?,
        Placement::Opening {
            queue,
            language,
            origin,
            call,
        } => {
            let response = accepted_body(&record);
            open_session(state, record, queue, language, origin, call).await?;
            return Ok((StatusCode::ACCEPTED, axum::Json(response)).into_response());
        }
    }
    let response = accepted_body(&record);
    commit_and_hand_over(state, vec![(record, None)]).await?;
    Ok((StatusCode::ACCEPTED, axum::Json(response)).into_response())
}

/// Sends a message that opens a session through the inbound path's task,
/// which writes it with the session, its `session.started` and consent
/// when due, and hands it to the dispatcher; answers once durable.
async fn open_session(
    state: &ApiState,
    record: MessageRecord,
    queue: Option<String>,
    language: Option<String>,
    origin: SessionOrigin,
    call: Option<Call>,
) -> Result<(), ApiError> {
    let gone = || ApiError::unavailable("the gateway is stopping; retry");
    let (answer, answered) = tokio::sync::oneshot::channel();
    let opening = OutboundOpening {
        record,
        queue,
        language,
        origin,
        call,
        answer,
    };
    state.openings.send(opening).await.map_err(|_| gone())?;
    match answered.await.map_err(|_| gone())? {
        Ok(_session) => Ok(()),
        Err(OpeningRefusal::Store(e)) => Err(e.into()),
        Err(OpeningRefusal::UnknownCall(id)) => Err(super::calls::unknown_call(&id)),
        Err(refusal) => Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "service_rule",
            refusal.to_string(),
        )),
    }
}

/// Writes an agent's message (with its outbox index keys) and its
/// session's transcript entry in one transaction.
fn write_in_session(
    state: &ApiState,
    record: &MessageRecord,
    (key, entry): &(Vec<u8>, Vec<u8>),
) -> Result<(), crate::store::StoreError> {
    use sled::Transactional;
    let value = crate::store::outbox::encode(record)?;
    let index_keys = crate::store::Store::new_message_index_keys(record);
    (
        &state.store.outbox,
        &state.store.outbox_index,
        &state.store.transcripts,
    )
        .transaction(|(outbox, index, transcripts)| {
            for (key, value) in &index_keys {
                index.insert(key.as_slice(), value.as_slice())?;
            }
            outbox.insert(record.id.as_bytes(), value.as_slice())?;
            transcripts.insert(key.as_slice(), entry.as_slice())?;
            Ok::<(), sled::transaction::ConflictableTransactionError<()>>(())
        })
        .map_err(|e| match e {
            sled::transaction::TransactionError::Storage(e) => crate::store::StoreError::Sled(e),
            sled::transaction::TransactionError::Abort(()) => crate::store::StoreError::Corrupt {
                tree: "outbox",
                detail: "aborted".to_owned(),
            },
        })
}

/// Waits for the group commit that makes `records` durable, then hands them
/// to the dispatcher, in a task of its own: a client that goes away during
/// the commit cancels its request, and must not leave messages written but
/// never sent (until the next restart's replay).
/// Each record comes with its session's queue when it was sent in a session
/// (`channel`; the inner `None`: a session without a queue), for the
/// accepted counter.
async fn commit_and_hand_over(
    state: &Arc<ApiState>,
    records: Vec<(MessageRecord, Option<Option<String>>)>,
) -> Result<(), crate::store::StoreError> {
    let state = state.clone();
    let task = tokio::spawn(async move {
        state.store.group_commit().sync().await?;
        let numbers = state.numbers.load();
        let mut handed = Vec::with_capacity(records.len());
        for (record, session) in records {
            let origin = crate::metrics::MtOrigin {
                line: numbers.get(&record.from).and_then(|n| n.line.as_deref()),
                queue: session.as_ref().and_then(|q| q.as_deref()),
                service: record.service_label(),
            };
            crate::metrics::accepted(&record.from, record.segments.len(), origin);
            handed.push(record);
        }
        state.dispatcher.accepted(handed).await;
        Ok(())
    });
    task.await.unwrap_or(Err(crate::store::StoreError::Closed))
}

/// Sends up to many messages in one write and one fsync; one result per
/// input, in order.
#[utoipa::path(
    post,
    path = "/v1/messages/batch",
    operation_id = "send_batch",
    tag = "messages",
    request_body = BatchRequest,
    responses(
        (status = 200, description = "One result per message, accepted or refused", body = BatchResults),
        (status = 400, description = "`invalid_json`: not `{\"messages\": [...]}`", body = crate::api::error::ErrorBody),
        (status = 401, description = "`unauthorized`: no valid bearer token", body = crate::api::error::ErrorBody),
        (status = 413, description = "`body_too_large`", body = crate::api::error::ErrorBody),
        (status = 415, description = "`unsupported_media_type`", body = crate::api::error::ErrorBody),
        (status = 503, description = "`outbox_full` or `unavailable`, with `Retry-After`", body = crate::api::error::ErrorBody,
            headers(("Retry-After" = u32, description = "seconds"))),
    )
)]
pub(super) async fn send_batch(State(state): State<Arc<ApiState>>, body: Bytes) -> Response {
    if let Err(e) = check_room(&state) {
        return e.into_response();
    }
    let value = match parse_body(&body) {
        Ok(v) => v,
        Err(e) => return e.into_response(),
    };
    let items = match serde_json::from_value::<BatchRequest>(value) {
        Ok(batch) => batch.messages,
        Err(e) => {
            return ApiError::invalid_json(format!("expected {{\"messages\": [ ... ]}}: {e}"))
                .into_response();
        }
    };
    let mut results: Vec<BatchItem> = Vec::with_capacity(items.len());
    let mut batch_refs: std::collections::HashMap<String, (String, BatchItem)> =
        std::collections::HashMap::new();
    let mut records = Vec::new();
    let mut batch = sled::Batch::default();
    let mut transcripts = sled::Batch::default();
    let mut in_sessions = false;
    let mut guard = state.claims.guard();
    for item in items {
        let mut item = item;
        let canonical = canonical_request(&item);
        let key = item
            .get("client_ref")
            .and_then(Value::as_str)
            .map(str::to_owned);
        // The same client_ref twice in one batch: the first's result.
        if let Some((first, result)) = key.as_ref().and_then(|k| batch_refs.get(k)) {
            results.push(if Some(first) == canonical.as_ref() {
                result.clone()
            } else {
                BatchItem::Refused(
                    ApiError::new(
                        StatusCode::CONFLICT,
                        "duplicate_client_ref",
                        "the same client_ref is used twice in this batch with different requests",
                    )
                    .error_body(),
                )
            });
            continue;
        }
        let results_before = results.len();
        let outcome = match repeated(&state, &item, canonical.as_deref()) {
            Ok(Some(record)) => Ok(Claim::Repeat(record)),
            Err(e) => Err(e),
            Ok(None) => match resolve_media(&state, &mut item).await {
                Ok(media) => prepare(&state, item, &media, canonical.clone()),
                Err(e) => {
                    crate::metrics::api_refused("", e.code);
                    Err(e)
                }
            }
            .and_then(|p| claim(&state, p, &mut guard)),
        };
        match outcome {
            Ok(Claim::New(Prepared {
                record,
                placement:
                    Placement::Opening {
                        queue,
                        language,
                        origin,
                        call,
                    },
                ..
            })) => {
                let response = accepted_body(&record);
                match open_session(&state, record, queue, language, origin, call).await {
                    Ok(()) => results.push(BatchItem::Accepted(response)),
                    Err(e) => results.push(BatchItem::Refused(e.error_body())),
                }
            }
            Ok(Claim::New(prepared)) => {
                if let Err(e) = state.store.stage_message(&mut batch, &prepared.record) {
                    results.push(BatchItem::Refused(ApiError::from(e).error_body()));
                    continue;
                }
                let mut queue = None;
                if let Placement::InSession(key, entry, session_queue) = prepared.placement {
                    transcripts.insert(key, entry);
                    in_sessions = true;
                    queue = Some(session_queue);
                }
                results.push(BatchItem::Accepted(accepted_body(&prepared.record)));
                records.push((prepared.record, queue));
            }
            Ok(Claim::Repeat(record)) => results.push(BatchItem::Accepted(accepted_body(&record))),
            Err(e) => results.push(BatchItem::Refused(e.error_body())),
        }
        if let (Some(key), Some(canonical), Some(result)) =
            (key, canonical, results.get(results_before))
        {
            batch_refs.insert(key, (canonical, result.clone()));
        }
    }
    if !records.is_empty() {
        // Transcript entries first: a crash between the two writes leaves
        // an entry for a message never acknowledged, never the reverse.
        let written = if in_sessions {
            state.store.transcripts.apply_batch(transcripts)
        } else {
            Ok(())
        }
        .and_then(|()| state.store.outbox.apply_batch(batch))
        .map_err(crate::store::StoreError::from);
        if let Err(e) = written {
            return ApiError::from(e).into_response();
        }
        if let Err(e) = commit_and_hand_over(&state, records).await {
            return ApiError::from(e).into_response();
        }
    }
    (StatusCode::OK, axum::Json(BatchResults { results })).into_response()
}

/// A message and where it stands.
#[utoipa::path(
    get,
    path = "/v1/messages/{id}",
    operation_id = "get_message",
    tag = "messages",
    params(("id" = String, Path, description = "`msg_…`")),
    responses(
        (status = 200, description = "The message", body = MessageView),
        (status = 401, description = "`unauthorized`: no valid bearer token", body = crate::api::error::ErrorBody),
        (status = 404, description = "`unknown_message`", body = crate::api::error::ErrorBody),
        (status = 503, description = "`unavailable`", body = crate::api::error::ErrorBody),
    )
)]
pub(super) async fn get(State(state): State<Arc<ApiState>>, Path(id): Path<String>) -> Response {
    match state.store.get_message(&id) {
        Ok(Some(record)) => {
            (StatusCode::OK, axum::Json(MessageView::from(&record))).into_response()
        }
        Ok(None) => ApiError::new(
            StatusCode::NOT_FOUND,
            "unknown_message",
            format!("no message {id:?}"),
        )
        .into_response(),
        Err(e) => ApiError::from(e).into_response(),
    }
}
