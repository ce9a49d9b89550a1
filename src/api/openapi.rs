//! The OpenAPI 3.1 description of the HTTP API, served at `GET
//! /v1/openapi.json`.
//!
//! Generated with utoipa from the handlers' `#[utoipa::path]` annotations
//! and from the request and response types the handlers really use
//! (`views`, `error::ErrorBody`, the request structs), so a field cannot be
//! renamed on the wire without the document following. The routes and
//! error codes it lists are checked against the router and the handlers by
//! the tests below and by `tests/openapi.rs` (with an OpenAPI validator and
//! schemathesis, installed by `scripts/setup-test-deps.sh`).

use std::sync::{Arc, OnceLock};

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::ApiState;
use super::error::{ERROR_CODES, ErrorBody, ErrorDetail};
use super::views;

/// The document.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "carrier-gateway",
        description = "SMS (SMPP), MMS (MM7) and SIP MESSAGE gateway for a contact center: sending, sessions, opt-outs, IVR calls and operations. Every error is `{\"error\": {\"code\", \"message\"}}`; the codes are listed in docs/api.md.",
        license(name = "Proprietary")
    ),
    paths(
        super::messages::send,
        super::messages::send_batch,
        super::messages::get,
        super::opt_outs,
        super::dead_letters::list,
        super::dead_letters::requeue,
        super::sessions::get,
        super::sessions::transcript,
        super::status::get,
        super::calls::register,
        super::calls::get,
        super::calls::end,
        super::media::upload,
        super::media::download,
        get,
        super::health,
        super::ready,
    ),
    components(schemas(
        ErrorBody,
        ErrorDetail,
        super::messages::SendRequest,
        super::messages::BatchRequest,
        super::calls::CallRequest,
        crate::config::ServiceKind,
        views::Accepted,
        views::BatchItem,
        views::BatchResults,
        views::MessageView,
        views::MessageError,
        views::SessionView,
        views::TranscriptItem,
        views::TranscriptView,
        views::CallView,
        views::OptOutView,
        views::DeadLetterList,
        views::Requeued,
        views::StatusView,
        views::CarrierStatus,
        views::NumberStatus,
        super::media::MediaView,
    )),
    modifiers(&Contract),
    security(("bearer" = [])),
    tags(
        (name = "messages", description = "Sending and message status"),
        (name = "sessions", description = "Conversations and their transcripts"),
        (name = "calls", description = "IVR calls for the call-bound services"),
        (name = "media", description = "MMS media: upload, and download by token or signed link"),
        (name = "opt-outs", description = "STOP / START state"),
        (name = "events", description = "Events the core refused"),
        (name = "operations", description = "Status, health, readiness, this document"),
    )
)]
pub struct ApiDoc;

/// Adds what the annotations cannot say: the bearer scheme, and the error
/// codes as an enum (so a response with an undocumented code breaks the
/// schema).
struct Contract;

impl Modify for Contract {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("Authorization: Bearer TOKEN ([api] tokens)"))
                    .build(),
            ),
        );
        let mut codes: Vec<&str> = ERROR_CODES.iter().map(|(_, code)| *code).collect();
        codes.sort_unstable();
        codes.dedup();
        let code = utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .description(Some("Stable snake_case code (docs/api.md)"))
            .enum_values(Some(codes))
            .build();
        if let Some(utoipa::openapi::RefOr::T(utoipa::openapi::Schema::Object(detail))) =
            components.schemas.get_mut("ErrorDetail")
        {
            detail.properties.insert("code".to_owned(), code.into());
        }
    }
}

/// The document as JSON, built once.
pub fn document() -> &'static str {
    static DOCUMENT: OnceLock<String> = OnceLock::new();
    DOCUMENT.get_or_init(|| ApiDoc::openapi().to_pretty_json().unwrap_or_default())
}

/// This document.
#[utoipa::path(
    get,
    path = "/v1/openapi.json",
    operation_id = "get_openapi",
    tag = "operations",
    responses(
        (status = 200, description = "The OpenAPI 3.1 description of this API", body = Object, content_type = "application/json"),
        (status = 401, description = "`unauthorized`", body = ErrorBody),
    )
)]
pub(super) async fn get(State(_state): State<Arc<ApiState>>) -> Response {
    ([(header::CONTENT_TYPE, "application/json")], document()).into_response()
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use serde_json::Value;

    use super::*;

    fn doc() -> Value {
        serde_json::from_str(document()).expect("the document is JSON")
    }

    /// `(method, path)` of every `.route(...)` in `api/mod.rs`: what the
    /// router serves.
    fn routed() -> BTreeSet<(String, String)> {
        let source = include_str!("mod.rs");
        let mut out = BTreeSet::new();
        for chunk in source.split(".route(").skip(1) {
            let Some(path) = chunk.split('"').nth(1) else {
                continue;
            };
            // The method routers up to the end of this `.route(…)`.
            let mut depth = 1;
            let mut end = chunk.len();
            for (i, c) in chunk.char_indices() {
                match c {
                    '(' => depth += 1,
                    ')' => {
                        depth -= 1;
                        if depth == 0 {
                            end = i;
                            break;
                        }
                    }
                    _ => {}
                }
            }
            let methods = &chunk[..end];
            for method in ["get", "post", "put", "delete", "patch"] {
                let called = methods.contains(&format!(" {method}("))
                    || methods.contains(&format!("({method}("))
                    || methods.contains(&format!(".{method}("));
                if called {
                    out.insert((method.to_owned(), path.to_owned()));
                }
            }
        }
        out
    }

    #[test]
    fn it_is_openapi_3_1_and_lists_every_route_the_router_serves() {
        let doc = doc();
        assert_eq!(doc["openapi"], "3.1.0");
        let mut documented = BTreeSet::new();
        for (path, item) in doc["paths"].as_object().expect("paths") {
            for method in item.as_object().expect("path item").keys() {
                documented.insert((method.clone(), path.clone()));
            }
        }
        let routed = routed();
        assert!(routed.len() >= 15, "{routed:?}");
        assert_eq!(routed, documented, "router vs document");
    }

    /// `(status, code)` of every error the API's sources can answer:
    /// each `StatusCode::X` followed by a string literal.
    fn error_sites() -> BTreeSet<(u16, String)> {
        let sources = [
            include_str!("mod.rs"),
            include_str!("messages.rs"),
            include_str!("calls.rs"),
            include_str!("sessions.rs"),
            include_str!("dead_letters.rs"),
            include_str!("status.rs"),
            include_str!("error.rs"),
            include_str!("serve.rs"),
            include_str!("body.rs"),
            include_str!("media.rs"),
        ];
        let mut out = BTreeSet::new();
        for source in sources {
            for chunk in source.split("StatusCode::").skip(1) {
                let name: String = chunk
                    .chars()
                    .take_while(|c| c.is_ascii_uppercase() || *c == '_')
                    .collect();
                let rest = chunk[name.len()..].trim_start_matches(|c: char| {
                    c.is_whitespace() || matches!(c, ',' | '=' | '>' | '(')
                });
                let Some(literal) = rest.strip_prefix('"') else {
                    continue;
                };
                let code: String = literal.chars().take_while(|c| *c != '"').collect();
                let status = match name.as_str() {
                    // A success with a text body (`ready`).
                    "OK" | "CREATED" | "ACCEPTED" | "NO_CONTENT" => continue,
                    "BAD_REQUEST" => 400,
                    "UNAUTHORIZED" => 401,
                    "FORBIDDEN" => 403,
                    "NOT_FOUND" => 404,
                    "METHOD_NOT_ALLOWED" => 405,
                    "REQUEST_TIMEOUT" => 408,
                    "CONFLICT" => 409,
                    "PAYLOAD_TOO_LARGE" => 413,
                    "UNSUPPORTED_MEDIA_TYPE" => 415,
                    "RANGE_NOT_SATISFIABLE" => 416,
                    "UNPROCESSABLE_ENTITY" => 422,
                    "INTERNAL_SERVER_ERROR" => 500,
                    "SERVICE_UNAVAILABLE" => 503,
                    other => panic!("status {other} of {code:?} is not mapped here"),
                };
                out.insert((status, code));
            }
        }
        out
    }

    #[test]
    fn every_error_the_handlers_answer_is_listed_and_documented() {
        let listed: BTreeSet<(u16, String)> = ERROR_CODES
            .iter()
            .map(|(status, code)| (*status, (*code).to_owned()))
            .collect();
        let sites = error_sites();
        assert!(sites.len() >= 20, "{sites:?}");
        let unlisted: Vec<_> = sites.difference(&listed).collect();
        assert!(
            unlisted.is_empty(),
            "answered but not in ERROR_CODES: {unlisted:?}"
        );
        let unused: Vec<_> = listed.difference(&sites).collect();
        assert!(
            unused.is_empty(),
            "in ERROR_CODES but never answered: {unused:?}"
        );
        // Each code is in the schema, and each status is a documented
        // response of some operation whose description names the code
        // (405 and 408 can come from any route).
        let doc = doc();
        let enum_codes = &doc["components"]["schemas"]["ErrorDetail"]["properties"]["code"]["enum"];
        let mut described: BTreeSet<(u16, String)> = BTreeSet::new();
        for item in doc["paths"].as_object().expect("paths").values() {
            for operation in item.as_object().expect("path item").values() {
                for (status, response) in operation["responses"].as_object().expect("responses") {
                    let description = response["description"].as_str().unwrap_or_default();
                    for (s, code) in &listed {
                        if status == &s.to_string() && description.contains(&format!("`{code}`")) {
                            described.insert((*s, code.clone()));
                        }
                    }
                }
            }
        }
        for (status, code) in &listed {
            assert!(
                enum_codes
                    .as_array()
                    .is_some_and(|e| e.iter().any(|c| c == code.as_str())),
                "{code} not in the ErrorDetail enum"
            );
            // Any route can answer these (the router's fallbacks and the
            // server's timeouts).
            if matches!(
                (*status, code.as_str()),
                (404, "not_found") | (405, _) | (408, _)
            ) {
                continue;
            }
            assert!(
                described.contains(&(*status, code.clone())),
                "{status} {code} is documented on no operation"
            );
        }
    }
}
