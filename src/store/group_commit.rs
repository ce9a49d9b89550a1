//! Group commit: many writers, one `flush` + `fdatasync` per group.
//!
//! A writer does its sled writes, then awaits [`GroupCommit::sync`]. One
//! thread loops: it takes every waiter queued so far, flushes sled (its
//! buffers reach the file, ending in `sync_file_range`), calls `fdatasync`
//! on sled's data file (the step sled omits), and wakes the whole group.
//! Writers that arrive during a sync form the next group, so under load a
//! group holds hundreds of writers and the fsync cost (~180 µs here) is
//! shared; when idle a lone writer waits for one sync. Under concurrent
//! load a group waits [`COALESCE`] for company before it syncs.

use std::fs::File;
use std::path::Path;
use std::sync::Arc;

use tokio::sync::{mpsc, oneshot};

use super::StoreError;

type Waiter = oneshot::Sender<Result<(), Arc<std::io::Error>>>;

/// The process's exit status after a failed fsync (EX_IOERR): systemd's
/// `Restart=on-failure` starts it again, and the start recovers from what
/// is on disk.
pub const EXIT_STORE_FAILED: i32 = 74;

/// How long a sync waits for more writers when the last group had company
/// (under concurrent load; a lone writer on an idle gateway never waits).
/// Every sync costs more than its `fdatasync`: sled's flush hands the
/// buffer to its IO pool with a `notify_all` that wakes all seven of its
/// threads. Under one message per request (64 clients) the wait halves the
/// syncs and took the CPU per message from 162 to 134 µs (median of five
/// alternating runs each, `benches/README.md`), for a quarter of a
/// millisecond more per acknowledgement.
const COALESCE: std::time::Duration = std::time::Duration::from_micros(250);

/// The group-commit loop: takes every waiter queued so far, syncs once, and
/// answers the whole group. A failed sync is answered with the error (so
/// nothing it covered is acknowledged) and then ends the loop through
/// `on_failure`: after a failed `fdatasync` the kernel may have dropped
/// dirty pages and marked them clean, so a later sync could "succeed"
/// without the data — carrying on is unsafe.
fn serve(
    mut queue: mpsc::UnboundedReceiver<Waiter>,
    mut sync: impl FnMut() -> std::io::Result<()>,
    on_failure: impl FnOnce(&std::io::Error),
) {
    let mut group = Vec::new();
    let mut last_group = 0;
    while let Some(first) = queue.blocking_recv() {
        group.push(first);
        if last_group > 1 {
            std::thread::sleep(COALESCE);
        }
        while let Ok(more) = queue.try_recv() {
            group.push(more);
        }
        let result = sync().map_err(Arc::new);
        crate::metrics::group_commit(group.len());
        last_group = group.len();
        for waiter in group.drain(..) {
            let _ = waiter.send(result.clone());
        }
        if let Err(e) = result {
            on_failure(&e);
            return;
        }
    }
}

/// Handle to the group-commit thread.
#[derive(Clone)]
pub struct GroupCommit {
    requests: mpsc::UnboundedSender<Waiter>,
}

impl GroupCommit {
    pub(super) fn start(db: sled::Db, db_dir: &Path) -> Result<GroupCommit, StoreError> {
        let data_path = db_dir.join("db");
        let data = File::open(&data_path).map_err(|source| StoreError::Io {
            path: data_path.clone(),
            source,
        })?;
        // The directory entry of a freshly created database must be durable
        // too, or a power cut could lose the whole file.
        if let Ok(dir) = File::open(db_dir) {
            let _ = dir.sync_all();
        }
        let (requests, queue) = mpsc::unbounded_channel::<Waiter>();
        std::thread::Builder::new()
            .name("group-commit".into())
            .spawn(move || {
                let sync = || {
                    db.flush()
                        .map_err(|e| std::io::Error::other(e.to_string()))
                        .and_then(|_| data.sync_data())
                };
                serve(queue, sync, |e| {
                    tracing::error!(
                        error = %e,
                        "fdatasync failed: the kernel may have dropped what it did not write, so \
                         nothing more is trusted to this process; exiting for a restart and recovery"
                    );
                    std::process::exit(EXIT_STORE_FAILED);
                });
            })
            .map_err(|source| StoreError::Io {
                path: data_path,
                source,
            })?;
        Ok(GroupCommit { requests })
    }

    /// Resolves when every write made before this call is on disk.
    pub async fn sync(&self) -> Result<(), StoreError> {
        let (tx, rx) = oneshot::channel();
        self.requests.send(tx).map_err(|_| StoreError::Closed)?;
        match rx.await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(StoreError::Io {
                path: "db".into(),
                source: std::io::Error::new(e.kind(), e.to_string()),
            }),
            Err(_) => Err(StoreError::Closed),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    #[test]
    fn a_failed_sync_is_reported_to_its_group_and_ends_the_loop() {
        let (requests, queue) = mpsc::unbounded_channel::<Waiter>();
        let syncs = Arc::new(AtomicUsize::new(0));
        let failures = Arc::new(AtomicUsize::new(0));
        let (s, f) = (syncs.clone(), failures.clone());
        let thread = std::thread::spawn(move || {
            serve(
                queue,
                || {
                    // The first sync works, the second fails.
                    if s.fetch_add(1, Ordering::SeqCst) == 0 {
                        Ok(())
                    } else {
                        Err(std::io::Error::other("EIO"))
                    }
                },
                |_| {
                    f.fetch_add(1, Ordering::SeqCst);
                },
            )
        });
        let ask = || {
            let (tx, rx) = oneshot::channel();
            requests.send(tx).map(|_| rx)
        };
        let first = ask().expect("queued");
        assert!(first.blocking_recv().expect("answered").is_ok());
        let second = ask().expect("queued");
        assert!(second.blocking_recv().expect("answered").is_err());
        thread.join().expect("the loop ended");
        assert_eq!(failures.load(Ordering::SeqCst), 1);
        // Nobody is answered after a failure: a later sync cannot be trusted.
        let third = ask();
        assert!(third.is_err() || third.is_ok_and(|rx| rx.blocking_recv().is_err()));
        assert_eq!(syncs.load(Ordering::SeqCst), 2);
    }
}
