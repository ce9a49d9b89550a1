//! The API's server loop: hyper's HTTP/1 connections with the limits a
//! daemon facing misbehaving clients needs, which `axum::serve` does not
//! set (it runs hyper without a timer, so hyper's header timeout is off).
//!
//! - **Header read timeout** (10 s): a connection that holds a half-sent
//!   request header is closed, instead of delaying a SIGTERM drain until
//!   systemd's SIGKILL (which may send twice what was in flight).
//! - **Request timeout** (30 s, the body included): a slow body gets `408
//!   request_timeout`.
//! - **Connection limit** (4,096): past it, new connections wait in the
//!   kernel's accept queue instead of exhausting file descriptors.
//! - **Graceful shutdown**: on the shutdown signal the listener closes,
//!   idle connections close, and requests in progress get [`DRAIN`] (3 s)
//!   to finish; a stalled client is not waited for beyond that.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::Request;
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

use super::ApiError;

/// How long a client may take to send a request's header.
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a request may take, its body included.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// Connections served at once.
pub const MAX_CONNECTIONS: usize = 4096;
/// How long a stop waits for the requests in progress. Sends are answered
/// in milliseconds (one group commit); what is still open after this is a
/// client that stalls (a half-sent header or body), which must not hold up
/// the drain of the carrier links behind it.
pub const DRAIN: Duration = Duration::from_secs(3);

/// Gives a request at most [`REQUEST_TIMEOUT`], then answers `408`.
pub(super) async fn request_timeout(request: Request, next: Next) -> Response {
    match tokio::time::timeout(REQUEST_TIMEOUT, next.run(request)).await {
        Ok(response) => response,
        Err(_) => ApiError::new(
            StatusCode::REQUEST_TIMEOUT,
            "request_timeout",
            "the request was not received and answered in time",
        )
        .into_response(),
    }
}

/// Serves `app` on `listener` until `shutdown` resolves, then lets the
/// requests in progress finish.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    shutdown: impl Future<Output = ()> + Send,
) -> std::io::Result<()> {
    let graceful = GracefulShutdown::new();
    let permits = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    let mut shutdown = std::pin::pin!(shutdown);
    let mut builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_READ_TIMEOUT)
        .keep_alive(true);
    // Connections borrow their builder and outlive this loop's turns: one
    // builder for the life of the process.
    let builder: &'static _ = Box::leak(Box::new(builder.http1_only()));
    loop {
        let permit = tokio::select! {
            permit = permits.clone().acquire_owned() => match permit {
                Ok(permit) => permit,
                Err(_) => break,
            },
            () = &mut shutdown => break,
        };
        let (stream, _peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of descriptors, or a connection reset before it
                    // was accepted: wait a moment rather than spin.
                    tracing::warn!(error = %e, "API accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let service = TowerToHyperService::new(app.clone());
        let connection = builder.serve_connection_with_upgrades(TokioIo::new(stream), service);
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!(error = %e, "API connection ended with an error");
            }
            drop(permit);
        });
    }
    drop(listener);
    if tokio::time::timeout(DRAIN, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!(
            "API connections still open {} s into the stop (stalled clients); closing them",
            DRAIN.as_secs()
        );
    }
    Ok(())
}
