//! The operator commands' way into a running daemon: its own HTTP API, at
//! the `[api] listen` address of the config file, with the first of its
//! tokens. The commands hold no state of their own, so they never disagree
//! with what the daemon does.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::Path;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::header::{AUTHORIZATION, CONTENT_TYPE};
use hyper::{Method, Request};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde_json::Value;

use super::CliError;

/// Longest answer read.
const MAX_ANSWER: usize = 16 * 1024 * 1024;

/// The daemon's API, as the config file describes it.
pub struct ApiClient {
    base: String,
    token: Option<String>,
}

impl ApiClient {
    /// From the config file at `path`.
    pub fn from_config(path: &Path) -> Result<ApiClient, CliError> {
        let config = super::run::load(path)?;
        let api = config.api();
        Ok(ApiClient {
            base: format!("http://{}", reachable(api.listen)),
            token: api.tokens.first().map(|t| t.expose().to_owned()),
        })
    }

    /// `GET path`: the status and the JSON answer.
    pub fn get(&self, path: &str) -> Result<(u16, Value), CliError> {
        self.call(Method::GET, path, None)
    }

    /// `POST path` with a JSON body.
    pub fn post(&self, path: &str, body: &Value) -> Result<(u16, Value), CliError> {
        self.call(Method::POST, path, Some(body.to_string()))
    }

    fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<String>,
    ) -> Result<(u16, Value), CliError> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let url = format!("{}{path}", self.base);
        runtime.block_on(async {
            let client = Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
            let mut request = Request::builder().method(method).uri(&url);
            if let Some(token) = &self.token {
                request = request.header(AUTHORIZATION, format!("Bearer {token}"));
            }
            if body.is_some() {
                request = request.header(CONTENT_TYPE, "application/json");
            }
            let request = request
                .body(Full::new(Bytes::from(body.unwrap_or_default())))
                .map_err(|e| CliError::Failed(e.into()))?;
            let exchange = async {
                let response = client.request(request).await.map_err(|e| {
                    CliError::Failed(anyhow::anyhow!(
                        "{url}: {e} (is the daemon running with this config?)"
                    ))
                })?;
                let status = response.status().as_u16();
                let bytes = Limited::new(response.into_body(), MAX_ANSWER)
                    .collect()
                    .await
                    .map_err(|e| CliError::Failed(anyhow::anyhow!("{url}: {e}")))?
                    .to_bytes();
                let value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
                Ok::<_, CliError>((status, value))
            };
            tokio::time::timeout(Duration::from_secs(10), exchange)
                .await
                .map_err(|_| CliError::Failed(anyhow::anyhow!("{url}: no answer within 10 s")))?
        })
    }
}

/// A listen address one can connect to (the wildcard means this host).
fn reachable(listen: SocketAddr) -> SocketAddr {
    match listen.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => {
            SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), listen.port())
        }
        IpAddr::V6(ip) if ip.is_unspecified() => {
            SocketAddr::new(IpAddr::V6(Ipv6Addr::LOCALHOST), listen.port())
        }
        _ => listen,
    }
}

/// The error object's message of an API answer, or the status.
pub fn error_text(status: u16, body: &Value) -> String {
    body["error"]["message"].as_str().map_or_else(
        || format!("HTTP {status}"),
        |m| format!("HTTP {status}: {m}"),
    )
}
