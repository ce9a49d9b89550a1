//! The point after which an event may leave the gateway.
//!
//! Sending an event before it is on disk would be allowed by at-least-once,
//! but it lets the core see a fact that a crash can take back: an MO whose
//! inbox write was not yet fsync'd is re-delivered by the carrier after the
//! restart, and becomes a *second* `message.received` with a *new* event id,
//! a duplicate the core cannot recognise. So the core link sends only events
//! it has seen made durable: after reading new events from the log it awaits
//! [`Durability::sync`] once for all of them (the daemon's group commit shares
//! that fsync with every other writer), then sends.
//!
//! Removing acknowledged events is *not* synced: losing a removal in a crash
//! only re-sends an event the core already has, with the same id.
//!
//! The trait is object-safe (boxed future) so the core link does not become
//! generic over the daemon's store.

use std::future::Future;
use std::pin::Pin;

/// A boxed, sendable future (object-safe async trait methods).
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Makes writes already done to the database durable.
pub trait Durability: Send + Sync + 'static {
    /// Resolves once every write made before the call is on disk (fsync'd).
    /// An error means it is not, and the caller must not rely on it.
    fn sync(&self) -> BoxFuture<'_, std::io::Result<()>>;
}

/// Treats every write as durable at once: for tests and benchmarks that do
/// not measure the disk, never for the daemon.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoFsync;

impl Durability for NoFsync {
    fn sync(&self) -> BoxFuture<'_, std::io::Result<()>> {
        Box::pin(std::future::ready(Ok(())))
    }
}
