//! The local S3's store: buckets are directories under the S3 root, each object one record (see
//! [`record`] for where its files are and why a crash never mixes two versions), each bucket's
//! keys in an in-memory [`index`], multipart uploads in [`multipart`].
//!
//! ```text
//! <s3-root>/<bucket>/objects/<h[..2]>/<h>.json           the object's record (h: hex SHA-256 of the key)
//! <s3-root>/<bucket>/objects/<h[..2]>/<h>.<gen>[.<ext>]  its data, as uploaded
//! <s3-root>/<bucket>/uploads/<upload-id>/                a multipart upload in progress
//! ```
//!
//! [`crate::s3::object_path`] finds an object's data file from its key.

pub mod conditions;
pub mod index;
mod legacy;
pub mod listing;
pub mod multipart;
pub mod record;
mod stream;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock, Weak};

use futures::{Stream, StreamExt};
use s3s::checksum::ChecksumHasher;
use s3s::dto::Timestamp;
use sha2::Digest as _;

use conditions::{Conditions, Current, Verdict};
use index::Index;
use record::{ObjectMeta, Slot};

pub use stream::FileStream;

/// Why an operation on the store failed, named as S3 names it where S3 has a name.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("The specified bucket does not exist.")]
    NoSuchBucket,
    #[error("The specified key does not exist.")]
    NoSuchKey,
    #[error("The bucket you tried to delete is not empty.")]
    BucketNotEmpty,
    #[error("Your previous request to create the named bucket succeeded and you already own it.")]
    BucketAlreadyOwnedByYou,
    #[error("The specified bucket is not valid: {0}")]
    InvalidBucketName(String),
    #[error("At least one of the pre-conditions you specified did not hold.")]
    PreconditionFailed,
    #[error("Not Modified")]
    NotModified,
    #[error("The specified multipart upload does not exist.")]
    NoSuchUpload,
    #[error(
        "One or more of the specified parts could not be found, or its entity tag did not match."
    )]
    InvalidPart,
    #[error("The list of parts was not in ascending order.")]
    InvalidPartOrder,
    #[error(
        "Your proposed upload is smaller than the minimum allowed size (5 MiB for every part but the last)."
    )]
    EntityTooSmall,
    #[error("{0}")]
    BadDigest(String),
    #[error("{0}")]
    InvalidArgument(String),
    #[error("{0}")]
    InvalidRequest(String),
    #[error("the request body could not be read: {0}")]
    Body(String),
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
}

impl StoreError {
    pub fn io(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> Self {
        let context = context.into();
        move |source| Self::Io { context, source }
    }
}

pub type StoreResult<T> = Result<T, StoreError>;

/// One bucket: its directory, its index, and the lock writers of its keys take to commit.
#[derive(Debug)]
pub struct Bucket {
    pub name: String,
    pub dir: PathBuf,
    index: RwLock<Index>,
    /// Held while a record is replaced and the index changed, so a check of the current object
    /// (a condition, the old data file to remove) and the commit are one step.
    writer: tokio::sync::Mutex<()>,
}

impl Bucket {
    fn read(&self) -> std::sync::RwLockReadGuard<'_, Index> {
        self.index
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Index> {
        self.index
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The current object of `key`.
    pub fn get(&self, key: &str) -> Option<Arc<ObjectMeta>> {
        self.read().get(key).cloned()
    }

    /// A page of the bucket's keys.
    pub fn page(&self, query: &listing::Query) -> listing::Page<Arc<ObjectMeta>> {
        self.read().page(query)
    }

    pub fn object_count(&self) -> usize {
        self.read().len()
    }

    /// The current object of `key` with its data file open: once open, the data stays readable
    /// even if a writer replaces the object meanwhile (the index lock keeps the writer from
    /// removing the file between the lookup and the open).
    pub fn open(&self, key: &str) -> StoreResult<(Arc<ObjectMeta>, std::fs::File)> {
        let index = self.read();
        let meta = index.get(key).cloned().ok_or(StoreError::NoSuchKey)?;
        let path = Slot::new(&self.dir, key).data(&meta.data);
        let file = std::fs::File::open(&path).map_err(StoreError::io(format!(
            "opening the data of {key:?} ({})",
            path.display()
        )))?;
        Ok((meta, file))
    }

    fn uploads_dir(&self) -> PathBuf {
        self.dir.join(multipart::UPLOADS_DIR)
    }
}

/// Whether a bucket's directory holds anything but the store's own `objects/` and `uploads/`.
fn has_foreign_entries(bucket_dir: &Path) -> bool {
    std::fs::read_dir(bucket_dir)
        .into_iter()
        .flatten()
        .flatten()
        .any(|e| {
            let name = e.file_name();
            name != record::OBJECTS_DIR && name != multipart::UPLOADS_DIR
        })
}

/// Data written aside, not yet an object.
#[derive(Debug)]
pub struct Staged {
    aside: PathBuf,
    pub size: u64,
    pub md5: [u8; 16],
    pub checksums: record::Checksums,
}

impl Staged {
    /// Throw the data away (an error before the commit).
    pub fn discard(self) {
        drop(self);
    }
}

/// Data never committed goes with its `Staged`: also when the request that staged it is
/// dropped half way (its client went away, `serve` stopped). After a commit the aside name is
/// gone (renamed), so this removes nothing.
impl Drop for Staged {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.aside);
    }
}

/// An aside file being written, removed unless [`Writing::done`] hands it on: a write cut off
/// (an error, or its future dropped) leaves nothing behind.
struct Writing(Option<PathBuf>);

impl Writing {
    fn done(mut self) -> PathBuf {
        self.0.take().unwrap_or_default()
    }
}

impl Drop for Writing {
    fn drop(&mut self) {
        if let Some(path) = self.0.take() {
            let _ = std::fs::remove_file(path);
        }
    }
}

/// Which checksums to compute while writing: the ones the client sent or asked for.
#[derive(Debug, Clone, Copy, Default)]
pub struct Wanted {
    pub crc32: bool,
    pub crc32c: bool,
    pub crc64nvme: bool,
    pub sha1: bool,
    pub sha256: bool,
}

impl Wanted {
    pub fn of(c: &record::Checksums) -> Self {
        Self {
            crc32: c.crc32.is_some(),
            crc32c: c.crc32c.is_some(),
            crc64nvme: c.crc64nvme.is_some(),
            sha1: c.sha1.is_some(),
            sha256: c.sha256.is_some(),
        }
    }

    /// Add the algorithm named `name` (`CRC32`, …); false if it is not one S3 knows.
    pub fn add(&mut self, name: &str) -> bool {
        match name {
            "CRC32" => self.crc32 = true,
            "CRC32C" => self.crc32c = true,
            "CRC64NVME" => self.crc64nvme = true,
            "SHA1" => self.sha1 = true,
            "SHA256" => self.sha256 = true,
            _ => return false,
        }
        true
    }

    fn hasher(self) -> ChecksumHasher {
        let mut h = ChecksumHasher::default();
        if self.crc32 {
            h.crc32 = Some(Default::default());
        }
        if self.crc32c {
            h.crc32c = Some(Default::default());
        }
        if self.crc64nvme {
            h.crc64nvme = Some(Default::default());
        }
        if self.sha1 {
            h.sha1 = Some(Default::default());
        }
        if self.sha256 {
            h.sha256 = Some(Default::default());
        }
        h
    }
}

/// The store over one S3 root.
#[derive(Debug)]
pub struct Store {
    root: PathBuf,
    buckets: Mutex<HashMap<String, Arc<Bucket>>>,
}

/// The file locked around conditional writes, in the S3 root: against a second `imagegen`
/// process writing into the same directory (the data directory's writer lock normally prevents
/// one, and this keeps `If-None-Match: *` atomic even then).
const CONDITIONAL_LOCK: &str = ".imagegen-conditional.lock";

/// Stores by root, so every service over one directory in a process shares one index.
static STORES: Mutex<Vec<(PathBuf, Weak<Store>)>> = Mutex::new(Vec::new());

impl Store {
    /// The store over `root`, shared with every other user of the same directory in this process.
    pub fn shared(root: &Path) -> std::io::Result<Arc<Self>> {
        std::fs::create_dir_all(root)?;
        let canonical = root.canonicalize()?;
        let mut stores = STORES
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        stores.retain(|(_, w)| w.strong_count() > 0);
        if let Some(store) = stores
            .iter()
            .find(|(p, _)| *p == canonical)
            .and_then(|(_, w)| w.upgrade())
        {
            return Ok(store);
        }
        let store = Arc::new(Self {
            root: canonical.clone(),
            buckets: Mutex::new(HashMap::new()),
        });
        stores.push((canonical, Arc::downgrade(&store)));
        Ok(store)
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    fn buckets(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<Bucket>>> {
        self.buckets
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The bucket `name`, loading its index the first time (removing what interrupted writes
    /// left behind).
    pub fn bucket(&self, name: &str) -> StoreResult<Arc<Bucket>> {
        let dir = self.root.join(name);
        if crate::s3::validate_bucket_name(name).is_err() || !dir.is_dir() {
            self.buckets().remove(name);
            return Err(StoreError::NoSuchBucket);
        }
        let mut buckets = self.buckets();
        if let Some(bucket) = buckets.get(name) {
            return Ok(Arc::clone(bucket));
        }
        // Before the records are read: what it imports is then loaded like any other object.
        legacy::import(&dir);
        let records =
            record::load_dir(&dir).map_err(StoreError::io(format!("loading bucket {name}")))?;
        multipart::recover(&dir.join(multipart::UPLOADS_DIR));
        let bucket = Arc::new(Bucket {
            name: name.to_owned(),
            dir,
            index: RwLock::new(Index::from_records(records)),
            writer: tokio::sync::Mutex::new(()),
        });
        buckets.insert(name.to_owned(), Arc::clone(&bucket));
        Ok(bucket)
    }

    /// Create bucket `name`; `Ok(false)` if it already exists (ours: us-east-1 answers 200).
    pub fn create_bucket(&self, name: &str) -> StoreResult<bool> {
        crate::s3::validate_bucket_name(name)
            .map_err(|e| StoreError::InvalidBucketName(e.to_string()))?;
        let dir = self.root.join(name);
        match std::fs::create_dir(&dir) {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(false),
            Err(e) => Err(StoreError::io(format!("creating bucket {name}"))(e)),
        }
    }

    /// Delete bucket `name`: only when it has no object. Multipart uploads still in progress go
    /// with it, as on S3 (whose DeleteBucket discards them; cleanup tools and the Ceph suite rely
    /// on it). Anything else in the bucket's directory (files of an older data directory's layout,
    /// a file a person put there) is never deleted: the bucket is then `BucketNotEmpty`.
    pub async fn delete_bucket(&self, name: &str) -> StoreResult<()> {
        let bucket = self.bucket(name)?;
        let _writer = bucket.writer.lock().await;
        if !bucket.read().is_empty() || has_foreign_entries(&bucket.dir) {
            return Err(StoreError::BucketNotEmpty);
        }
        self.buckets().remove(name);
        let io = |what: &str| StoreError::io(format!("deleting bucket {name} ({what})"));
        for owned in [record::OBJECTS_DIR, multipart::UPLOADS_DIR] {
            match std::fs::remove_dir_all(bucket.dir.join(owned)) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(io(owned)(e)),
                _ => {}
            }
        }
        // Not remove_dir_all: whatever appeared meanwhile stays, and the bucket with it.
        std::fs::remove_dir(&bucket.dir).map_err(|e| match e.kind() {
            std::io::ErrorKind::DirectoryNotEmpty => StoreError::BucketNotEmpty,
            _ => io("its directory")(e),
        })
    }

    /// Every bucket, by name, with its creation time.
    pub fn list_buckets(&self) -> StoreResult<Vec<(String, Timestamp)>> {
        let mut out = Vec::new();
        let entries = std::fs::read_dir(&self.root).map_err(StoreError::io("listing buckets"))?;
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let Ok(meta) = entry.metadata() else { continue };
            if !meta.is_dir() || crate::s3::validate_bucket_name(&name).is_err() {
                continue;
            }
            let created = meta
                .created()
                .or_else(|_| meta.modified())
                .map_or_else(|_| Timestamp::default(), Timestamp::from);
            out.push((name, created));
        }
        out.sort();
        Ok(out)
    }

    /// Write `body` aside in the slot of `key`, computing its MD5 and the `wanted` checksums.
    pub async fn stage<S, E>(
        &self,
        bucket: &Bucket,
        key: &str,
        body: S,
        wanted: Wanted,
    ) -> StoreResult<Staged>
    where
        S: Stream<Item = Result<bytes::Bytes, E>> + Unpin,
        E: std::fmt::Display,
    {
        stage_in(&Slot::new(&bucket.dir, key).dir, body, wanted).await
    }

    /// Make the staged data the object `meta.key` (with `meta`'s headers and metadata), if
    /// `conditions` hold for the current object; `meta.data` is set here.
    pub async fn commit(
        &self,
        bucket: &Arc<Bucket>,
        staged: Staged,
        mut meta: ObjectMeta,
        conditions: &Conditions,
    ) -> StoreResult<Arc<ObjectMeta>> {
        let _writer = bucket.writer.lock().await;
        let _everywhere = if conditions.is_empty() {
            None
        } else {
            match lock_file(self.root.join(CONDITIONAL_LOCK)).await {
                Ok(lock) => Some(lock),
                Err(e) => {
                    staged.discard();
                    return Err(e);
                }
            }
        };
        let old = bucket.get(&meta.key);
        let current = old.as_deref().map(|o| Current {
            etag: &o.etag,
            last_modified: &o.last_modified,
        });
        let refused = match conditions.for_write(current) {
            Verdict::Proceed => None,
            Verdict::NoSuchKey => Some(StoreError::NoSuchKey),
            Verdict::NotModified | Verdict::PreconditionFailed => {
                Some(StoreError::PreconditionFailed)
            }
        };
        if let Some(refused) = refused {
            staged.discard();
            return Err(refused);
        }
        let slot = Slot::new(&bucket.dir, &meta.key);
        meta.data = slot.new_data_name(&meta.key);
        let meta = Arc::new(meta);
        let (to_commit, slot2) = (Arc::clone(&meta), slot.clone());
        let aside = staged.aside.clone();
        let committed = tokio::task::spawn_blocking(move || {
            std::fs::rename(&aside, slot2.data(&to_commit.data))?;
            record::write_record(&slot2, &to_commit)
        })
        .await
        .map_err(|e| StoreError::Io {
            context: "committing an object".into(),
            source: std::io::Error::other(e.to_string()),
        })?;
        if let Err(e) = committed {
            staged.discard();
            let _ = std::fs::remove_file(slot.data(&meta.data));
            return Err(StoreError::io(format!(
                "writing the record of {:?}",
                meta.key
            ))(e));
        }
        bucket.write().insert(Arc::clone(&meta));
        if let Some(old) = old
            && old.data != meta.data
        {
            let _ = std::fs::remove_file(slot.data(&old.data));
        }
        Ok(meta)
    }

    /// Delete `key` (data and record together); `Ok(false)` if there was none (still a success
    /// for S3).
    pub async fn delete(
        &self,
        bucket: &Arc<Bucket>,
        key: &str,
        conditions: &Conditions,
    ) -> StoreResult<bool> {
        let _writer = bucket.writer.lock().await;
        let Some(old) = bucket.get(key) else {
            if conditions.if_match.is_some() {
                return Err(StoreError::PreconditionFailed);
            }
            return Ok(false);
        };
        let current = Current {
            etag: &old.etag,
            last_modified: &old.last_modified,
        };
        if conditions.for_write(Some(current)) != Verdict::Proceed {
            return Err(StoreError::PreconditionFailed);
        }
        let slot = Slot::new(&bucket.dir, key);
        // The record goes first: that is the commit; the data without it is a leftover the next
        // load removes.
        match std::fs::remove_file(slot.record()) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(StoreError::io(format!("deleting {key:?}"))(e)),
        }
        bucket.write().remove(key);
        let _ = std::fs::remove_file(slot.data(&old.data));
        Ok(true)
    }
}

/// Write `body` to a new aside file in `dir`, hashing as it goes, and fsync it.
pub async fn stage_in<S, E>(dir: &Path, mut body: S, wanted: Wanted) -> StoreResult<Staged>
where
    S: Stream<Item = Result<bytes::Bytes, E>> + Unpin,
    E: std::fmt::Display,
{
    use tokio::io::AsyncWriteExt as _;
    let aside =
        record::aside_path(dir).map_err(StoreError::io("preparing an object's directory"))?;
    let writing = Writing(Some(aside.clone()));
    let mut file = tokio::fs::File::create(&aside)
        .await
        .map_err(StoreError::io("creating an object's file"))?;
    let mut md5 = md5::Md5::new();
    let mut hasher = wanted.hasher();
    let mut size = 0u64;
    let result: StoreResult<()> = async {
        while let Some(chunk) = body.next().await {
            let chunk = chunk.map_err(|e| StoreError::Body(e.to_string()))?;
            md5.update(&chunk);
            hasher.update(&chunk);
            size += chunk.len() as u64;
            file.write_all(&chunk)
                .await
                .map_err(StoreError::io("writing an object's data"))?;
        }
        file.flush()
            .await
            .map_err(StoreError::io("writing an object's data"))?;
        file.sync_data()
            .await
            .map_err(StoreError::io("syncing an object's data"))
    }
    .await;
    drop(file);
    result?;
    Ok(Staged {
        aside: writing.done(),
        size,
        md5: md5.finalize().into(),
        checksums: record::Checksums::from_dto(hasher.finalize()),
    })
}

/// Exclusive use of the conditional-write lock file until dropped.
#[derive(Debug)]
struct FileLock {
    _file: std::fs::File,
}

async fn lock_file(path: PathBuf) -> StoreResult<FileLock> {
    let locked = tokio::task::spawn_blocking(move || {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)?;
        file.lock()?;
        Ok::<_, std::io::Error>(FileLock { _file: file })
    })
    .await
    .map_err(|e| std::io::Error::other(e.to_string()))
    .and_then(|r| r);
    locked.map_err(StoreError::io("locking for a conditional write"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::new_id;

    fn asides(dir: &Path) -> Vec<String> {
        std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with(record::ASIDE_PREFIX))
            .collect()
    }

    /// A request cut off half way (its client went away, `serve` stopped on Ctrl-C) drops the
    /// write's future: the aside file goes with it, as does staged data never committed.
    #[tokio::test]
    async fn a_write_cut_off_or_never_committed_leaves_no_aside_file() {
        let dir = std::env::temp_dir().join(format!("imagegen-stage-{}", new_id()));
        std::fs::create_dir_all(&dir).unwrap();
        let first = futures::stream::iter([Ok::<_, std::io::Error>(bytes::Bytes::from_static(
            b"half a body",
        ))]);
        let body = first.chain(futures::stream::pending());
        let cut = tokio::time::timeout(
            std::time::Duration::from_millis(100),
            stage_in(&dir, Box::pin(body), Wanted::default()),
        )
        .await;
        assert!(cut.is_err(), "the body never ends, so the write is cut off");
        assert_eq!(asides(&dir), Vec::<String>::new());

        let whole = futures::stream::iter([Ok::<_, std::io::Error>(bytes::Bytes::from_static(
            b"a whole body",
        ))]);
        let staged = stage_in(&dir, whole, Wanted::default()).await.unwrap();
        assert_eq!(asides(&dir).len(), 1);
        drop(staged);
        assert_eq!(asides(&dir), Vec::<String>::new());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
