//! Group commit: many writers, one `flush` + `fdatasync` per group.
//!
//! A writer does its sled writes, then awaits [`GroupCommit::sync`]. One
//! thread loops: it takes every waiter queued so far, flushes sled (its
//! buffers reach the file, ending in `sync_file_range`), calls `fdatasync`
//! on sled's data file (the step sled omits), and wakes the whole group.
//! Writers that arrive during a sync form the next group, so under load a
//! group holds hundreds of writers and the fsync cost (~180 µs here) is
//! shared; when idle a lone writer waits for one sync.

use std::fs::File;
use std::path::Path;
use std::sync::Arc;

use tokio::sync::{mpsc, oneshot};

use super::StoreError;

type Waiter = oneshot::Sender<Result<(), Arc<std::io::Error>>>;

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
        let (requests, mut queue) = mpsc::unbounded_channel::<Waiter>();
        std::thread::Builder::new()
            .name("group-commit".into())
            .spawn(move || {
                let mut group = Vec::new();
                while let Some(first) = queue.blocking_recv() {
                    group.push(first);
                    while let Ok(more) = queue.try_recv() {
                        group.push(more);
                    }
                    let result = db
                        .flush()
                        .map_err(|e| std::io::Error::other(e.to_string()))
                        .and_then(|_| data.sync_data())
                        .map_err(Arc::new);
                    if let Err(e) = &result {
                        tracing::error!(error = %e, "group commit failed; the writers are told");
                    }
                    crate::metrics::group_commit(group.len());
                    for waiter in group.drain(..) {
                        let _ = waiter.send(result.clone());
                    }
                }
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
