//! The S3 service the local client talks to: s3s-fs, with every object key first given the name it
//! is stored under ([`super::keymap`]), listings showing the real keys, and conditional writes
//! (`If-None-Match: *`) made atomic.
//!
//! s3s-fs checks `If-None-Match: *` and then writes, two steps another writer can slip between. Here
//! a conditional PutObject holds a lock for both: an async mutex within this process, and an
//! exclusive file lock (`<s3 root>/.imagegen-conditional.lock`) against other `imagegen` processes.
//! Exactly one of several writers racing to create the same key succeeds, as on S3.

use std::path::{Path, PathBuf};

use s3s::dto::{
    AbortMultipartUploadInput, AbortMultipartUploadOutput, CompleteMultipartUploadInput,
    CompleteMultipartUploadOutput, CopyObjectInput, CopyObjectOutput, CopySource,
    CreateBucketInput, CreateBucketOutput, CreateMultipartUploadInput, CreateMultipartUploadOutput,
    DeleteBucketInput, DeleteBucketOutput, DeleteObjectInput, DeleteObjectOutput,
    GetBucketLocationInput, GetBucketLocationOutput, GetObjectInput, GetObjectOutput,
    HeadBucketInput, HeadBucketOutput, HeadObjectInput, HeadObjectOutput, ListBucketsInput,
    ListBucketsOutput, ListObjectsV2Input, ListObjectsV2Output, Object, PutObjectInput,
    PutObjectOutput, UploadPartInput, UploadPartOutput,
};
use s3s::{S3, S3Request, S3Response, S3Result, s3_error};
use tokio::sync::Mutex;

use super::keymap::{RESERVED_PREFIX, key_file, stored_key};

/// The file locked around conditional writes, in the S3 root.
const CONDITIONAL_LOCK: &str = ".imagegen-conditional.lock";

/// s3s-fs over `root`, with the key mapping and atomic conditional writes.
pub struct LocalS3 {
    inner: s3s_fs::FileSystem,
    root: PathBuf,
    conditional: Mutex<()>,
}

impl std::fmt::Debug for LocalS3 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalS3")
            .field("root", &self.root)
            .finish_non_exhaustive()
    }
}

impl LocalS3 {
    pub fn new(inner: s3s_fs::FileSystem, root: &Path) -> Self {
        Self {
            inner,
            root: root.to_path_buf(),
            conditional: Mutex::new(()),
        }
    }

    /// Write the real key beside an object stored under another name.
    fn remember_key(&self, bucket: &str, key: &str) -> S3Result<()> {
        let Some(file) = key_file(bucket, key) else {
            return Ok(());
        };
        let path = self.root.join(bucket).join(file);
        let written = path
            .parent()
            .map_or(Ok(()), std::fs::create_dir_all)
            .and_then(|()| std::fs::write(&path, key));
        written.map_err(|e| s3_error!(InternalError, "could not record a long key: {e}"))
    }

    /// The objects stored under other names whose real keys start with `prefix`.
    fn renamed_objects(&self, bucket: &str, prefix: &str) -> Vec<Object> {
        let dir = self.root.join(bucket).join(RESERVED_PREFIX);
        let Ok(entries) = std::fs::read_dir(&dir) else {
            return Vec::new();
        };
        let mut objects = Vec::new();
        for entry in entries.flatten() {
            let path = entry.path();
            if path.extension().is_none_or(|e| e != "key") {
                continue;
            }
            let (Ok(key), Ok(meta)) = (
                std::fs::read_to_string(&path),
                std::fs::metadata(path.with_extension("")),
            ) else {
                continue;
            };
            if !key.starts_with(prefix) {
                continue;
            }
            objects.push(Object {
                key: Some(key),
                size: i64::try_from(meta.len()).ok(),
                last_modified: meta.modified().ok().map(Into::into),
                ..Object::default()
            });
        }
        objects
    }
}

/// Exclusive use of the conditional-write lock file until dropped.
struct FileLock {
    _file: std::fs::File,
}

async fn lock_file(path: PathBuf) -> S3Result<FileLock> {
    let locked = tokio::task::spawn_blocking(move || {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)?;
        file.lock()?;
        Ok::<_, std::io::Error>(FileLock { _file: file })
    })
    .await;
    match locked {
        Ok(Ok(lock)) => Ok(lock),
        Ok(Err(e)) => Err(s3_error!(
            InternalError,
            "could not lock for a conditional write: {e}"
        )),
        Err(e) => Err(s3_error!(
            InternalError,
            "could not lock for a conditional write: {e}"
        )),
    }
}

#[async_trait::async_trait]
impl S3 for LocalS3 {
    async fn create_bucket(
        &self,
        req: S3Request<CreateBucketInput>,
    ) -> S3Result<S3Response<CreateBucketOutput>> {
        self.inner.create_bucket(req).await
    }

    async fn delete_bucket(
        &self,
        req: S3Request<DeleteBucketInput>,
    ) -> S3Result<S3Response<DeleteBucketOutput>> {
        self.inner.delete_bucket(req).await
    }

    async fn head_bucket(
        &self,
        req: S3Request<HeadBucketInput>,
    ) -> S3Result<S3Response<HeadBucketOutput>> {
        self.inner.head_bucket(req).await
    }

    async fn get_bucket_location(
        &self,
        req: S3Request<GetBucketLocationInput>,
    ) -> S3Result<S3Response<GetBucketLocationOutput>> {
        self.inner.get_bucket_location(req).await
    }

    async fn list_buckets(
        &self,
        req: S3Request<ListBucketsInput>,
    ) -> S3Result<S3Response<ListBucketsOutput>> {
        self.inner.list_buckets(req).await
    }

    async fn get_object(
        &self,
        mut req: S3Request<GetObjectInput>,
    ) -> S3Result<S3Response<GetObjectOutput>> {
        req.input.key = stored_key(&req.input.bucket, &req.input.key);
        self.inner.get_object(req).await
    }

    async fn head_object(
        &self,
        mut req: S3Request<HeadObjectInput>,
    ) -> S3Result<S3Response<HeadObjectOutput>> {
        req.input.key = stored_key(&req.input.bucket, &req.input.key);
        self.inner.head_object(req).await
    }

    async fn put_object(
        &self,
        mut req: S3Request<PutObjectInput>,
    ) -> S3Result<S3Response<PutObjectOutput>> {
        let (bucket, key) = (req.input.bucket.clone(), req.input.key.clone());
        req.input.key = stored_key(&bucket, &key);
        if req.input.if_none_match.is_none() {
            let out = self.inner.put_object(req).await?;
            self.remember_key(&bucket, &key)?;
            return Ok(out);
        }
        let _here = self.conditional.lock().await;
        let _everywhere = lock_file(self.root.join(CONDITIONAL_LOCK)).await?;
        let out = self.inner.put_object(req).await?;
        self.remember_key(&bucket, &key)?;
        Ok(out)
    }

    async fn delete_object(
        &self,
        mut req: S3Request<DeleteObjectInput>,
    ) -> S3Result<S3Response<DeleteObjectOutput>> {
        let (bucket, key) = (req.input.bucket.clone(), req.input.key.clone());
        req.input.key = stored_key(&bucket, &key);
        let out = self.inner.delete_object(req).await?;
        if let Some(file) = key_file(&bucket, &key) {
            let _ = std::fs::remove_file(self.root.join(&bucket).join(file));
        }
        Ok(out)
    }

    async fn copy_object(
        &self,
        mut req: S3Request<CopyObjectInput>,
    ) -> S3Result<S3Response<CopyObjectOutput>> {
        if let CopySource::Bucket { bucket, key, .. } = &mut req.input.copy_source {
            *key = stored_key(bucket, key).into_boxed_str();
        }
        let (bucket, key) = (req.input.bucket.clone(), req.input.key.clone());
        req.input.key = stored_key(&bucket, &key);
        let out = self.inner.copy_object(req).await?;
        self.remember_key(&bucket, &key)?;
        Ok(out)
    }

    async fn list_objects_v2(
        &self,
        req: S3Request<ListObjectsV2Input>,
    ) -> S3Result<S3Response<ListObjectsV2Output>> {
        let bucket = req.input.bucket.clone();
        let prefix = req.input.prefix.clone().unwrap_or_default();
        let mut out = self.inner.list_objects_v2(req).await?;
        let contents = out.output.contents.get_or_insert_with(Vec::new);
        contents.retain(|o| {
            !o.key
                .as_deref()
                .is_some_and(|k| k.starts_with(RESERVED_PREFIX))
        });
        contents.extend(self.renamed_objects(&bucket, &prefix));
        contents.sort_by(|a, b| a.key.cmp(&b.key));
        out.output.key_count = i32::try_from(contents.len()).ok();
        if let Some(prefixes) = &mut out.output.common_prefixes {
            prefixes.retain(|p| p.prefix.as_deref() != Some(RESERVED_PREFIX));
        }
        Ok(out)
    }

    async fn create_multipart_upload(
        &self,
        mut req: S3Request<CreateMultipartUploadInput>,
    ) -> S3Result<S3Response<CreateMultipartUploadOutput>> {
        let (bucket, key) = (req.input.bucket.clone(), req.input.key.clone());
        req.input.key = stored_key(&bucket, &key);
        let mut out = self.inner.create_multipart_upload(req).await?;
        out.output.key = Some(key);
        Ok(out)
    }

    async fn upload_part(
        &self,
        mut req: S3Request<UploadPartInput>,
    ) -> S3Result<S3Response<UploadPartOutput>> {
        req.input.key = stored_key(&req.input.bucket, &req.input.key);
        self.inner.upload_part(req).await
    }

    async fn complete_multipart_upload(
        &self,
        mut req: S3Request<CompleteMultipartUploadInput>,
    ) -> S3Result<S3Response<CompleteMultipartUploadOutput>> {
        let (bucket, key) = (req.input.bucket.clone(), req.input.key.clone());
        req.input.key = stored_key(&bucket, &key);
        let mut out = self.inner.complete_multipart_upload(req).await?;
        self.remember_key(&bucket, &key)?;
        out.output.key = Some(key);
        Ok(out)
    }

    async fn abort_multipart_upload(
        &self,
        mut req: S3Request<AbortMultipartUploadInput>,
    ) -> S3Result<S3Response<AbortMultipartUploadOutput>> {
        req.input.key = stored_key(&req.input.bucket, &req.input.key);
        self.inner.abort_multipart_upload(req).await
    }
}
