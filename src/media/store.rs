//! The media store: images, video and other media of MMS, under
//! `state_dir/media`, content-addressed (by SHA-256), each written to a
//! temporary file, checked (size, magic numbers), fsync'd and renamed into
//! place, its directory fsync'd, and its record put in the `media` tree —
//! so that when the upload is answered (after the group commit), the bytes
//! and the record survive a crash, and a refused or interrupted upload
//! leaves nothing behind.

use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::sniff::{SNIFF_BYTES, declared_matches, sniff};
use crate::store::StoreError;
use crate::store::outbox::now_ms;

/// A stored media item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MediaInfo {
    /// `med_` and the first 32 hex digits of its SHA-256.
    pub id: String,
    /// What its bytes are (not what was declared).
    pub content_type: String,
    /// Bytes.
    pub size: u64,
    /// Lowercase hex SHA-256 of the bytes.
    pub sha256: String,
    /// When it was stored, Unix milliseconds.
    pub created_at: u64,
    /// When a message last used it, Unix milliseconds (0: never).
    #[serde(default)]
    pub last_used: u64,
}

/// Why media is refused.
#[derive(Debug, thiserror::Error)]
pub enum MediaError {
    /// Over the size limit.
    #[error("the media is larger than the limit of {0} bytes")]
    TooLarge(u64),
    /// No bytes.
    #[error("the media is empty")]
    Empty,
    /// Not an allowed type, by its bytes.
    #[error(
        "the bytes are not an allowed media type (images, video, audio, vCard, PDF){}",
        .0.as_deref().map(|d| format!(", whatever the declared {d}")).unwrap_or_default()
    )]
    NotAllowed(Option<String>),
    /// Declared as one kind, but the bytes are another.
    #[error("declared as {declared} but the bytes are {actual}")]
    Mismatch {
        /// The declared type.
        declared: String,
        /// What the bytes are.
        actual: &'static str,
    },
    /// The file system failed.
    #[error("the media store failed: {0}")]
    Io(#[from] io::Error),
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The store.
#[derive(Clone)]
pub struct MediaStore {
    root: PathBuf,
    tree: sled::Tree,
    max_bytes: u64,
    /// Serialises putting a file in place with its record against removing
    /// them (retention), so an item stored again while retention removes
    /// its older copy is never left without its bytes or its record.
    placing: std::sync::Arc<std::sync::Mutex<()>>,
}

fn id_of(sha256: &str) -> String {
    format!("med_{}", &sha256[..32])
}

impl MediaStore {
    /// The store under `state_dir/media`, its records in `tree`; media over
    /// `max_bytes` are refused. Leftover temporary files (of uploads cut
    /// by a crash) are removed.
    pub fn open(state_dir: &Path, tree: sled::Tree, max_bytes: u64) -> io::Result<MediaStore> {
        let root = state_dir.join("media");
        let tmp = root.join("tmp");
        fs::create_dir_all(&tmp)?;
        for entry in fs::read_dir(&tmp)? {
            let _ = fs::remove_file(entry?.path());
        }
        // Every shard directory exists, durably, before any file goes in:
        // a file renamed into a new directory whose own entry is not on
        // disk yet could vanish with it after the upload was answered.
        for shard in 0..=255u8 {
            fs::create_dir_all(root.join(format!("{shard:02x}")))?;
        }
        File::open(&root)?.sync_all()?;
        File::open(state_dir)?.sync_all()?;
        Ok(MediaStore {
            root,
            tree,
            max_bytes,
            placing: Default::default(),
        })
    }

    /// The size limit.
    pub fn max_bytes(&self) -> u64 {
        self.max_bytes
    }

    /// Starts storing a media item declared as `declared`.
    pub fn writer(&self, declared: Option<&str>) -> Result<MediaWriter, MediaError> {
        let name = format!("{:016x}-{}", rand::random::<u64>(), std::process::id());
        let tmp = self.root.join("tmp").join(name);
        let file = File::create(&tmp)?;
        Ok(MediaWriter {
            store: self.clone(),
            file: Some(file),
            tmp,
            hasher: Sha256::new(),
            size: 0,
            head: Vec::with_capacity(SNIFF_BYTES),
            declared: declared.map(str::to_owned),
        })
    }

    /// Stores `bytes` at once.
    pub fn put(&self, declared: Option<&str>, bytes: &[u8]) -> Result<MediaInfo, MediaError> {
        let mut writer = self.writer(declared)?;
        writer.write(bytes)?;
        writer.commit()
    }

    /// Whether `bytes` declared as `declared` would be stored: the same
    /// rules as [`MediaWriter::commit`] (size, allowed kind by the bytes,
    /// declared type matching them), without writing anything. Lets a
    /// message of several items be refused as a whole before any is kept.
    pub fn check(&self, declared: Option<&str>, bytes: &[u8]) -> Result<&'static str, MediaError> {
        if bytes.is_empty() {
            return Err(MediaError::Empty);
        }
        if bytes.len() as u64 > self.max_bytes {
            return Err(MediaError::TooLarge(self.max_bytes));
        }
        let head = &bytes[..bytes.len().min(SNIFF_BYTES)];
        let Some(actual) = sniff(head) else {
            return Err(MediaError::NotAllowed(declared.map(str::to_owned)));
        };
        if !declared_matches(declared, actual) {
            return Err(MediaError::Mismatch {
                declared: declared.unwrap_or_default().to_owned(),
                actual,
            });
        }
        Ok(actual)
    }

    /// The record of `id`.
    pub fn get(&self, id: &str) -> Result<Option<MediaInfo>, StoreError> {
        let Some(value) = self.tree.get(id.as_bytes())? else {
            return Ok(None);
        };
        serde_json::from_slice(&value)
            .map(Some)
            .map_err(|e| StoreError::Corrupt {
                tree: "media",
                detail: e.to_string(),
            })
    }

    /// Where the bytes of `sha256` live.
    pub fn path_of(&self, sha256: &str) -> PathBuf {
        self.root.join(&sha256[..2]).join(sha256)
    }

    /// Reads `len` bytes of `info` from `offset` (tests and small reads;
    /// the API streams with [`MediaStore::open_at`]).
    pub fn read_range(&self, info: &MediaInfo, offset: u64, len: u64) -> io::Result<Vec<u8>> {
        use std::io::Read;
        let mut out = Vec::new();
        self.open_at(info, offset)?
            .take(len)
            .read_to_end(&mut out)?;
        Ok(out)
    }

    /// The file of `info`, positioned at `offset`.
    pub fn open_at(&self, info: &MediaInfo, offset: u64) -> io::Result<File> {
        use std::io::{Seek, SeekFrom};
        let mut file = File::open(self.path_of(&info.sha256))?;
        file.seek(SeekFrom::Start(offset))?;
        Ok(file)
    }

    /// Records that `id` was used now (sent in a message), so retention
    /// counts from its last use rather than from its upload.
    pub fn touch(&self, id: &str) -> Result<(), StoreError> {
        let _placing = self.placing.lock().unwrap_or_else(|e| e.into_inner());
        let Some(mut info) = self.get(id)? else {
            return Ok(());
        };
        info.last_used = now_ms();
        let value = serde_json::to_vec(&info).map_err(|e| StoreError::Corrupt {
            tree: "media",
            detail: e.to_string(),
        })?;
        self.tree.insert(id.as_bytes(), value)?;
        Ok(())
    }

    /// Removes the media stored before `cutoff` (Unix milliseconds): the
    /// record first, then the file, so a crash in between leaves at worst
    /// an unreferenced file, never a record without its bytes. Returns how
    /// many were removed.
    pub fn remove_older_than(&self, cutoff: u64) -> Result<usize, StoreError> {
        let mut old = Vec::new();
        for item in self.tree.iter() {
            let (_, value) = item?;
            if let Ok(info) = serde_json::from_slice::<MediaInfo>(&value)
                && info.created_at.max(info.last_used) < cutoff
            {
                old.push(value);
            }
        }
        let mut removed = 0;
        for value in old {
            let Ok(info) = serde_json::from_slice::<MediaInfo>(&value) else {
                continue;
            };
            let _placing = self.placing.lock().unwrap_or_else(|e| e.into_inner());
            // Only if unchanged since it was read: stored again or used
            // meanwhile, it stays.
            let swapped =
                self.tree
                    .compare_and_swap(info.id.as_bytes(), Some(&value), None::<&[u8]>)?;
            if swapped.is_ok() {
                let _ = fs::remove_file(self.path_of(&info.sha256));
                removed += 1;
            }
        }
        Ok(removed)
    }
}

/// One media item being written.
pub struct MediaWriter {
    store: MediaStore,
    file: Option<File>,
    tmp: PathBuf,
    hasher: Sha256,
    size: u64,
    head: Vec<u8>,
    declared: Option<String>,
}

impl MediaWriter {
    /// Appends `chunk`; refuses once the total crosses the limit.
    pub fn write(&mut self, chunk: &[u8]) -> Result<(), MediaError> {
        self.size += chunk.len() as u64;
        if self.size > self.store.max_bytes {
            return Err(MediaError::TooLarge(self.store.max_bytes));
        }
        if self.head.len() < SNIFF_BYTES {
            let take = (SNIFF_BYTES - self.head.len()).min(chunk.len());
            self.head.extend_from_slice(&chunk[..take]);
            // Refuse what is not media as early as its first bytes show.
            if self.head.len() == SNIFF_BYTES && sniff(&self.head).is_none() {
                return Err(MediaError::NotAllowed(self.declared.clone()));
            }
        }
        self.hasher.update(chunk);
        if let Some(file) = self.file.as_mut() {
            file.write_all(chunk)?;
        }
        Ok(())
    }

    /// Checks the item, makes it durable in place and records it (the
    /// record is durable with the next group commit).
    pub fn commit(mut self) -> Result<MediaInfo, MediaError> {
        let tmp = self.tmp.clone();
        let committed = self.place();
        if committed.is_err() {
            // Refused, or failed half-way: no temporary file stays.
            let _ = fs::remove_file(&tmp);
        }
        committed
    }

    fn place(&mut self) -> Result<MediaInfo, MediaError> {
        if self.size == 0 {
            return Err(MediaError::Empty);
        }
        let Some(actual) = sniff(&self.head) else {
            return Err(MediaError::NotAllowed(self.declared.clone()));
        };
        if !declared_matches(self.declared.as_deref(), actual) {
            return Err(MediaError::Mismatch {
                declared: self.declared.clone().unwrap_or_default(),
                actual,
            });
        }
        let Some(file) = self.file.take() else {
            return Err(MediaError::Io(io::Error::other("the media file is gone")));
        };
        file.sync_all()?;
        drop(file);
        let sha256 = carrier_protocol::hex::encode(&self.hasher.clone().finalize());
        let path = self.store.path_of(&sha256);
        let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
        let _placing = self.store.placing.lock().unwrap_or_else(|e| e.into_inner());
        fs::create_dir_all(&dir)?;
        fs::rename(&self.tmp, &path)?;
        File::open(&dir)?.sync_all()?;
        let info = MediaInfo {
            id: id_of(&sha256),
            content_type: actual.to_owned(),
            size: self.size,
            sha256,
            created_at: now_ms(),
            last_used: 0,
        };
        let value = serde_json::to_vec(&info).map_err(|e| StoreError::Corrupt {
            tree: "media",
            detail: e.to_string(),
        })?;
        self.store
            .tree
            .insert(info.id.as_bytes(), value)
            .map_err(StoreError::from)?;
        Ok(info)
    }
}

impl Drop for MediaWriter {
    fn drop(&mut self) {
        // Not committed (refused, or the upload was cut): nothing stays.
        if self.file.take().is_some() {
            let _ = fs::remove_file(&self.tmp);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store(max: u64) -> (tempfile::TempDir, MediaStore) {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = sled::Config::new().temporary(true).open().expect("db");
        let store =
            MediaStore::open(dir.path(), db.open_tree("media").expect("tree"), max).expect("store");
        (dir, store)
    }

    fn jpeg(n: usize) -> Vec<u8> {
        let mut bytes = vec![0xFF, 0xD8, 0xFF, 0xE0];
        bytes.extend((0..n).map(|i| (i % 251) as u8));
        bytes
    }

    fn leftovers(dir: &Path) -> usize {
        fs::read_dir(dir.join("media/tmp")).expect("tmp").count()
    }

    #[test]
    fn media_are_stored_by_content_and_read_back() {
        let (dir, store) = store(1 << 20);
        let bytes = jpeg(10_000);
        let mut writer = store.writer(Some("image/jpeg")).expect("writer");
        for chunk in bytes.chunks(777) {
            writer.write(chunk).expect("write");
        }
        let info = writer.commit().expect("commit");
        assert_eq!(info.content_type, "image/jpeg");
        assert_eq!(info.size, bytes.len() as u64);
        assert!(info.id.starts_with("med_") && info.id.len() == 36);
        assert_eq!(store.get(&info.id).expect("get"), Some(info.clone()));
        assert_eq!(store.read_range(&info, 0, info.size).expect("read"), bytes);
        assert_eq!(
            store.read_range(&info, 100, 10).expect("range"),
            bytes[100..110]
        );
        // The same bytes again: the same id.
        let again = store.put(None, &bytes).expect("again");
        assert_eq!(again.id, info.id);
        assert_eq!(leftovers(dir.path()), 0);
    }

    #[test]
    fn refused_media_leave_nothing_behind() {
        let (dir, store) = store(1000);
        // Over the limit.
        let mut writer = store.writer(Some("image/jpeg")).expect("writer");
        assert!(matches!(
            writer.write(&jpeg(2000)),
            Err(MediaError::TooLarge(1000))
        ));
        drop(writer);
        // An executable declared as a JPEG.
        let mut exe = b"MZ\x90\x00".to_vec();
        exe.extend([0u8; 200]);
        assert!(matches!(
            store.put(Some("image/jpeg"), &exe),
            Err(MediaError::NotAllowed(_))
        ));
        // A video declared as an image.
        let mp4 = b"\0\0\0\x18ftypmp42\0\0\0\0mp42isom".to_vec();
        assert!(matches!(
            store.put(Some("image/png"), &mp4),
            Err(MediaError::Mismatch { .. })
        ));
        assert!(matches!(store.put(None, b""), Err(MediaError::Empty)));
        assert_eq!(leftovers(dir.path()), 0);
        assert!(store.tree.is_empty());
    }

    #[test]
    fn retention_removes_record_and_file() {
        let (_dir, store) = store(1 << 20);
        let info = store.put(None, &jpeg(100)).expect("put");
        assert_eq!(store.remove_older_than(info.created_at).expect("keep"), 0);
        assert_eq!(
            store
                .remove_older_than(info.created_at + 1)
                .expect("remove"),
            1
        );
        assert_eq!(store.get(&info.id).expect("get"), None);
        assert!(!store.path_of(&info.sha256).exists());
    }
}
