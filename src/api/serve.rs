//! The API's server loop: hyper's HTTP/1 connections with the limits a
//! daemon facing misbehaving clients needs, which `axum::serve` does not
//! set (it runs hyper without a timer, so hyper's header timeout is off).
//! Each is an `[api]` key ([`HttpLimits`], docs/configuration.md):
//!
//! - **`header_timeout`** (10 s): a connection that holds a half-sent
//!   request header is closed, instead of delaying a SIGTERM drain until
//!   systemd's SIGKILL (which may send twice what was in flight). hyper
//!   counts it from the end of the previous answer, so it also bounds how
//!   long an idle keep-alive connection stays open.
//! - **`idle_timeout`** (10 s, at most `header_timeout`): a connection on
//!   which no byte arrives for this long after it opened or after its last
//!   answer is closed ([`IdleCut`]).
//! - **`request_timeout`** (30 s, the body included): a slow body gets `408
//!   request_timeout`.
//! - **`max_connections`** (4,096): past it, new connections wait in the
//!   kernel's accept queue instead of exhausting file descriptors.
//! - **`drain_timeout`** (3 s): on the shutdown signal the listener closes,
//!   idle connections close, and requests in progress get this long to
//!   finish; a stalled client is not waited for beyond that.

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
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

use super::ApiError;
use crate::config::HttpLimits;

/// Gives a request at most `limit`, then answers `408`.
async fn request_timeout(limit: Duration, request: Request, next: Next) -> Response {
    match tokio::time::timeout(limit, next.run(request)).await {
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
    limits: HttpLimits,
    shutdown: impl Future<Output = ()> + Send,
) -> std::io::Result<()> {
    // Outermost: the body's read counts (its 408 is already the JSON error).
    let app = app.layer(axum::middleware::from_fn(move |request, next| {
        request_timeout(limits.request_timeout, request, next)
    }));
    let graceful = GracefulShutdown::new();
    let permits = Arc::new(Semaphore::new(limits.max_connections));
    let mut shutdown = std::pin::pin!(shutdown);
    let mut builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout)
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
        let connection = builder.serve_connection_with_upgrades(
            TokioIo::new(IdleCut::new(stream, limits.idle_timeout)),
            service,
        );
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!(error = %e, "API connection ended with an error");
            }
            drop(permit);
        });
    }
    drop(listener);
    if tokio::time::timeout(limits.drain_timeout, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!(
            "API connections still open {} into the stop (stalled clients); closing them",
            humantime::format_duration(limits.drain_timeout)
        );
    }
    Ok(())
}

/// A connection that ends (as a clean end of stream) when no byte arrives
/// for `idle` after it opened or after it last sent something: the wait
/// for a keep-alive connection's next request, bounded. Once a request's
/// first byte came, hyper's header timeout and the request timeout take
/// over until the answer goes out.
struct IdleCut<T> {
    inner: T,
    idle: Duration,
    /// Armed while waiting for the first byte of a request.
    deadline: Option<Pin<Box<tokio::time::Sleep>>>,
}

impl<T> IdleCut<T> {
    fn new(inner: T, idle: Duration) -> IdleCut<T> {
        IdleCut {
            inner,
            idle,
            deadline: Some(Box::pin(tokio::time::sleep(idle))),
        }
    }

    /// An answer went out: the wait for the next request starts.
    fn rearm(&mut self) {
        let at = tokio::time::Instant::now() + self.idle;
        match &mut self.deadline {
            Some(deadline) => deadline.as_mut().reset(at),
            None => self.deadline = Some(Box::pin(tokio::time::sleep_until(at))),
        }
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for IdleCut<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        match Pin::new(&mut self.inner).poll_read(cx, buf) {
            Poll::Ready(Ok(())) => {
                if buf.filled().len() > before {
                    self.deadline = None;
                }
                Poll::Ready(Ok(()))
            }
            Poll::Pending => {
                // Idle too long: end of stream, which hyper takes for the
                // client closing a connection between requests.
                let idle_over = self
                    .deadline
                    .as_mut()
                    .is_some_and(|deadline| deadline.as_mut().poll(cx).is_ready());
                if idle_over {
                    Poll::Ready(Ok(()))
                } else {
                    Poll::Pending
                }
            }
            other => other,
        }
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for IdleCut<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let written = Pin::new(&mut self.inner).poll_write(cx, data);
        if matches!(written, Poll::Ready(Ok(n)) if n > 0) {
            self.rearm();
        }
        written
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        let written = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        if matches!(written, Poll::Ready(Ok(n)) if n > 0) {
            self.rearm();
        }
        written
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}
