//! The S3 operations, on [`super::store`]: each turns s3s's input into a store call and the
//! store's answer into s3s's output. Operations not here answer S3's `NotImplemented` (the
//! `s3s::S3` trait's default), never a wrong success.

use std::collections::BTreeMap;
use std::sync::Arc;

use base64::Engine as _;
use s3s::dto::{
    AbortMultipartUploadInput, AbortMultipartUploadOutput, Bucket as BucketDto, ChecksumMode,
    ChecksumType, CommonPrefix, CompleteMultipartUploadInput, CompleteMultipartUploadOutput,
    CopyObjectInput, CopyObjectOutput, CopyObjectResult, CopyPartResult, CopySource,
    CreateBucketInput, CreateBucketOutput, CreateMultipartUploadInput, CreateMultipartUploadOutput,
    DeleteBucketInput, DeleteBucketOutput, DeleteObjectInput, DeleteObjectOutput,
    DeleteObjectsInput, DeleteObjectsOutput, DeletedObject, ETagCondition, EncodingType,
    Error as ErrorDto, GetBucketLocationInput, GetBucketLocationOutput, GetObjectAttributesInput,
    GetObjectAttributesOutput, GetObjectAttributesParts, GetObjectInput, GetObjectOutput,
    HeadBucketInput, HeadBucketOutput, HeadObjectInput, HeadObjectOutput, ListBucketsInput,
    ListBucketsOutput, ListMultipartUploadsInput, ListMultipartUploadsOutput,
    ListObjectVersionsInput, ListObjectVersionsOutput, ListObjectsInput, ListObjectsOutput,
    ListObjectsV2Input, ListObjectsV2Output, ListPartsInput, ListPartsOutput, MetadataDirective,
    MultipartUpload, Object, ObjectVersion, Owner, Part as PartDto, PutObjectInput,
    PutObjectOutput, StreamingBlob, Timestamp, UploadPartCopyInput, UploadPartCopyOutput,
    UploadPartInput, UploadPartOutput,
};
use s3s::{S3, S3Error, S3ErrorCode, S3Request, S3Response, S3Result};

use super::store::conditions::{Conditions, Current, Verdict, etag};
use super::store::listing::{self, Query, url_encode};
use super::store::multipart;
use super::store::record::{Checksums, Headers, Multipart, ObjectMeta, PartInfo};
use super::store::{FileStream, Store, StoreError, Wanted};

/// The owner every bucket and object has locally (S3's documentation's example canonical id).
const OWNER_ID: &str = "75aa57f09aa0c8caeab4f8c24e99d10f8e7faeebf76c078efc7c6caea54ba06a";
const OWNER_NAME: &str = "imagegen-local";

fn owner() -> Owner {
    Owner {
        id: Some(OWNER_ID.to_owned()),
        display_name: Some(OWNER_NAME.to_owned()),
    }
}

/// Our store behind s3s.
#[derive(Debug)]
pub struct LocalS3 {
    store: Arc<Store>,
}

impl LocalS3 {
    pub fn new(store: Arc<Store>) -> Self {
        Self { store }
    }
}

/// A store error as S3 says it.
fn s3(e: StoreError) -> S3Error {
    let code = match &e {
        StoreError::NoSuchBucket => S3ErrorCode::NoSuchBucket,
        StoreError::NoSuchKey => S3ErrorCode::NoSuchKey,
        StoreError::BucketNotEmpty => S3ErrorCode::BucketNotEmpty,
        StoreError::BucketAlreadyOwnedByYou => S3ErrorCode::BucketAlreadyOwnedByYou,
        StoreError::InvalidBucketName(_) => S3ErrorCode::InvalidBucketName,
        StoreError::PreconditionFailed => S3ErrorCode::PreconditionFailed,
        StoreError::NotModified => S3ErrorCode::NotModified,
        StoreError::NoSuchUpload => S3ErrorCode::NoSuchUpload,
        StoreError::InvalidPart => S3ErrorCode::InvalidPart,
        StoreError::InvalidPartOrder => S3ErrorCode::InvalidPartOrder,
        StoreError::EntityTooSmall => S3ErrorCode::EntityTooSmall,
        StoreError::BadDigest(_) => S3ErrorCode::BadDigest,
        StoreError::InvalidArgument(_) => S3ErrorCode::InvalidArgument,
        StoreError::InvalidRequest(_) => S3ErrorCode::InvalidRequest,
        StoreError::Body(_) => S3ErrorCode::IncompleteBody,
        StoreError::Io { .. } => {
            tracing::error!(error = %e, "local S3: a file operation failed");
            S3ErrorCode::InternalError
        }
    };
    S3Error::with_message(code, e.to_string())
}

fn check_key(key: &str) -> S3Result<()> {
    if key.is_empty() || key.len() > 1024 {
        return Err(S3Error::with_message(
            S3ErrorCode::KeyTooLongError,
            "Your key is too long (S3 keys are 1 to 1,024 bytes of UTF-8).",
        ));
    }
    Ok(())
}

/// `Content-Encoding` without `aws-chunked`, which only says how the body travelled.
fn stored_encoding(encoding: Option<String>) -> Option<String> {
    let kept: Vec<&str> = encoding
        .as_deref()?
        .split(',')
        .map(str::trim)
        .filter(|e| !e.is_empty() && !e.eq_ignore_ascii_case("aws-chunked"))
        .collect();
    (!kept.is_empty()).then(|| kept.join(", "))
}

fn metadata_of(m: Option<s3s::dto::Metadata>) -> BTreeMap<String, String> {
    m.map(|m| {
        m.into_iter()
            .map(|(k, v)| (k.to_ascii_lowercase(), v))
            .collect()
    })
    .unwrap_or_default()
}

fn metadata_dto(m: &BTreeMap<String, String>) -> Option<s3s::dto::Metadata> {
    (!m.is_empty()).then(|| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
}

/// The checksum type shown beside checksums `c` of an object whose record says `kind`
/// (full-object unless the record says composite).
fn checksum_type(meta: &ObjectMeta, c: &Checksums) -> Option<ChecksumType> {
    (!c.is_empty()).then(|| {
        ChecksumType::from(
            meta.checksum_type
                .clone()
                .unwrap_or_else(|| ChecksumType::FULL_OBJECT.to_owned()),
        )
    })
}

/// The checksums a request sent, in headers or (streaming uploads) trailers.
fn sent_checksums(
    headers: Checksums,
    trailers: Option<s3s::TrailingHeaders>,
) -> S3Result<Checksums> {
    let mut sent = headers;
    if let Some(trailers) = trailers.and_then(|t| t.take()) {
        let get = |name: &str| -> S3Result<Option<String>> {
            trailers
                .get(name)
                .map(|v| {
                    v.to_str().map(str::to_owned).map_err(|_| {
                        S3Error::with_message(S3ErrorCode::InvalidArgument, "bad checksum trailer")
                    })
                })
                .transpose()
        };
        let pairs: [(&str, &mut Option<String>); 5] = [
            ("x-amz-checksum-crc32", &mut sent.crc32),
            ("x-amz-checksum-crc32c", &mut sent.crc32c),
            ("x-amz-checksum-crc64nvme", &mut sent.crc64nvme),
            ("x-amz-checksum-sha1", &mut sent.sha1),
            ("x-amz-checksum-sha256", &mut sent.sha256),
        ];
        for (name, slot) in pairs {
            if let Some(value) = get(name)? {
                *slot = Some(value);
            }
        }
    }
    Ok(sent)
}

/// Every checksum the client sent must equal what the data has.
fn verify(
    sent: &Checksums,
    computed: &Checksums,
    content_md5: Option<&str>,
    md5: &[u8; 16],
) -> Result<(), StoreError> {
    if let Some(content_md5) = content_md5 {
        let given = base64::engine::general_purpose::STANDARD
            .decode(content_md5)
            .map_err(|_| StoreError::InvalidArgument("Content-MD5 is not base64".into()))?;
        if given != md5 {
            return Err(StoreError::BadDigest(
                "The Content-MD5 you specified did not match what we received.".into(),
            ));
        }
    }
    let pairs = [
        ("CRC32", &sent.crc32, &computed.crc32),
        ("CRC32C", &sent.crc32c, &computed.crc32c),
        ("CRC64NVME", &sent.crc64nvme, &computed.crc64nvme),
        ("SHA1", &sent.sha1, &computed.sha1),
        ("SHA256", &sent.sha256, &computed.sha256),
    ];
    for (name, sent, computed) in pairs {
        if sent.is_some() && sent != computed {
            return Err(StoreError::BadDigest(format!(
                "The {name} you specified did not match the calculated checksum."
            )));
        }
    }
    Ok(())
}

fn wanted(sent: &Checksums, algorithm: Option<&str>) -> S3Result<Wanted> {
    let mut w = Wanted::of(sent);
    if let Some(a) = algorithm
        && !w.add(a)
    {
        return Err(S3Error::with_message(
            S3ErrorCode::InvalidRequest,
            "Unsupported checksum algorithm",
        ));
    }
    Ok(w)
}

/// S3 returns checksums only when asked (`x-amz-checksum-mode: ENABLED`).
fn wants_checksums(mode: Option<&ChecksumMode>) -> bool {
    mode.is_some_and(|m| m.as_str() == ChecksumMode::ENABLED)
}

fn now() -> Timestamp {
    Timestamp::from(std::time::SystemTime::now())
}

fn read_verdict(c: &Conditions, meta: &ObjectMeta) -> Result<(), StoreError> {
    match c.for_read(Current {
        etag: &meta.etag,
        last_modified: &meta.last_modified,
    }) {
        Verdict::Proceed => Ok(()),
        Verdict::NotModified => Err(StoreError::NotModified),
        Verdict::PreconditionFailed => Err(StoreError::PreconditionFailed),
        Verdict::NoSuchKey => Err(StoreError::NoSuchKey),
    }
}

/// The conditions of a GET or HEAD, answered as S3 does: a 304 carries the object's `ETag` and
/// `Last-Modified` (RFC 7232: so a cache can refresh what it holds).
fn check_read(c: &Conditions, meta: &ObjectMeta) -> S3Result<()> {
    match read_verdict(c, meta) {
        Err(StoreError::NotModified) => {
            let mut e = s3(StoreError::NotModified);
            let mut headers = http::HeaderMap::new();
            if let Ok(v) = http::HeaderValue::from_str(&format!("\"{}\"", meta.etag)) {
                headers.insert(http::header::ETAG, v);
            }
            let mut date = Vec::new();
            if meta
                .last_modified
                .format(s3s::dto::TimestampFormat::HttpDate, &mut date)
                .is_ok()
                && let Ok(v) = http::HeaderValue::from_bytes(&date)
            {
                headers.insert(http::header::LAST_MODIFIED, v);
            }
            e.set_headers(headers);
            Err(e)
        }
        other => other.map_err(s3),
    }
}

/// The bytes GetObject or HeadObject `partNumber` names: (first byte, length, the part's
/// checksums, whether it is a part of a multipart object). A single-part object has one part,
/// itself, as on S3.
fn part_of(meta: &ObjectMeta, number: i32) -> S3Result<(u64, u64, Checksums, bool)> {
    let not_there = || {
        S3Error::with_message(
            S3ErrorCode::InvalidPart,
            "The requested partnumber is not satisfiable.",
        )
    };
    match (&meta.multipart, meta.parts) {
        (Some(m), _) => {
            let (start, part) = m.part(number).ok_or_else(not_there)?;
            Ok((start, part.size, part.checksums.clone(), true))
        }
        (None, Some(_)) => Err(S3Error::with_message(
            S3ErrorCode::NotImplemented,
            "This object was completed by an older version of the local S3, which did not keep \
             its parts' sizes: upload it again to read it by part.",
        )),
        (None, None) if number == 1 => Ok((0, meta.size, meta.checksums.clone(), false)),
        (None, None) => Err(not_there()),
    }
}

fn both_part_and_range() -> S3Error {
    S3Error::with_message(
        S3ErrorCode::InvalidRequest,
        "Cannot specify both Range header and partNumber query parameter",
    )
}

/// A continuation token: the key (or common prefix) a page ended with, opaque to the client.
fn token(last: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(last)
}

fn untoken(token: &str) -> S3Result<String> {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(token)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or_else(|| {
            S3Error::with_message(
                S3ErrorCode::InvalidArgument,
                "The continuation token provided is incorrect",
            )
        })
}

fn is_url(e: Option<&EncodingType>) -> bool {
    e.is_some_and(|e| e.as_str() == EncodingType::URL)
}

/// `bytes=first-last` of an object of `size` bytes (UploadPartCopy's source range).
fn copy_range(range: Option<&str>, size: u64) -> S3Result<(u64, u64)> {
    let Some(range) = range else {
        return Ok((0, size));
    };
    let invalid = || {
        S3Error::with_message(
            S3ErrorCode::InvalidArgument,
            "The x-amz-copy-source-range value must be of the form bytes=first-last where first and last are the zero-based offsets of the first and last bytes to copy",
        )
    };
    let (first, last) = range
        .strip_prefix("bytes=")
        .and_then(|r| r.split_once('-'))
        .ok_or_else(invalid)?;
    let first: u64 = first.trim().parse().map_err(|_| invalid())?;
    let last: u64 = last.trim().parse().map_err(|_| invalid())?;
    if first > last || last >= size {
        return Err(S3Error::with_message(
            S3ErrorCode::InvalidRange,
            "The requested range is not satisfiable",
        ));
    }
    Ok((first, last - first + 1))
}

/// The source of a copy: its record and open data file, after its `x-amz-copy-source-if-*`.
fn copy_source(
    store: &Store,
    source: &CopySource,
    conditions: &Conditions,
) -> S3Result<(Arc<ObjectMeta>, std::fs::File)> {
    let CopySource::Bucket { bucket, key, .. } = source else {
        return Err(S3Error::with_message(
            S3ErrorCode::NotImplemented,
            "Copying from an access point is not implemented locally.",
        ));
    };
    let bucket = store.bucket(bucket).map_err(s3)?;
    let (meta, file) = bucket.open(key).map_err(s3)?;
    // A copy's source conditions answer 412 either way, as S3 does.
    if read_verdict(conditions, &meta).is_err() {
        return Err(s3(StoreError::PreconditionFailed));
    }
    Ok((meta, file))
}

fn object_dto(meta: &ObjectMeta, key: String, fetch_owner: bool) -> Object {
    Object {
        key: Some(key),
        size: i64::try_from(meta.size).ok(),
        e_tag: Some(etag(&meta.etag)),
        last_modified: Some(meta.last_modified.clone()),
        storage_class: Some(s3s::dto::ObjectStorageClass::from("STANDARD".to_owned())),
        owner: fetch_owner.then(owner),
        ..Object::default()
    }
}

fn prefixes_dto(
    page: &listing::Page<Arc<ObjectMeta>>,
    enc: &dyn Fn(&str) -> String,
) -> Option<Vec<CommonPrefix>> {
    let prefixes: Vec<CommonPrefix> = page
        .common_prefixes()
        .map(|p| CommonPrefix {
            prefix: Some(enc(p)),
        })
        .collect();
    (!prefixes.is_empty()).then_some(prefixes)
}

#[async_trait::async_trait]
impl S3 for LocalS3 {
    async fn create_bucket(
        &self,
        req: S3Request<CreateBucketInput>,
    ) -> S3Result<S3Response<CreateBucketOutput>> {
        let created = self.store.create_bucket(&req.input.bucket).map_err(s3)?;
        // us-east-1 answers 200 to a create of a bucket you own, for historical reasons; every
        // other region BucketAlreadyOwnedByYou.
        if !created && crate::config::DEFAULT_REGION != "us-east-1" {
            return Err(s3(StoreError::BucketAlreadyOwnedByYou));
        }
        Ok(S3Response::new(CreateBucketOutput {
            location: Some(format!("/{}", req.input.bucket)),
        }))
    }

    async fn delete_bucket(
        &self,
        req: S3Request<DeleteBucketInput>,
    ) -> S3Result<S3Response<DeleteBucketOutput>> {
        self.store
            .delete_bucket(&req.input.bucket)
            .await
            .map_err(s3)?;
        Ok(S3Response::new(DeleteBucketOutput::default()))
    }

    async fn head_bucket(
        &self,
        req: S3Request<HeadBucketInput>,
    ) -> S3Result<S3Response<HeadBucketOutput>> {
        self.store.bucket(&req.input.bucket).map_err(s3)?;
        Ok(S3Response::new(HeadBucketOutput {
            bucket_region: Some(crate::config::DEFAULT_REGION.to_owned()),
            ..HeadBucketOutput::default()
        }))
    }

    async fn get_bucket_location(
        &self,
        req: S3Request<GetBucketLocationInput>,
    ) -> S3Result<S3Response<GetBucketLocationOutput>> {
        self.store.bucket(&req.input.bucket).map_err(s3)?;
        // us-east-1 is the empty location constraint.
        let location = (crate::config::DEFAULT_REGION != "us-east-1").then(|| {
            s3s::dto::BucketLocationConstraint::from(crate::config::DEFAULT_REGION.to_owned())
        });
        Ok(S3Response::new(GetBucketLocationOutput {
            location_constraint: location,
        }))
    }

    async fn list_buckets(
        &self,
        _req: S3Request<ListBucketsInput>,
    ) -> S3Result<S3Response<ListBucketsOutput>> {
        let buckets = self
            .store
            .list_buckets()
            .map_err(s3)?
            .into_iter()
            .map(|(name, created)| BucketDto {
                name: Some(name),
                creation_date: Some(created),
                bucket_region: Some(crate::config::DEFAULT_REGION.to_owned()),
            })
            .collect();
        Ok(S3Response::new(ListBucketsOutput {
            buckets: Some(buckets),
            owner: Some(owner()),
            ..ListBucketsOutput::default()
        }))
    }

    async fn get_object(
        &self,
        req: S3Request<GetObjectInput>,
    ) -> S3Result<S3Response<GetObjectOutput>> {
        let input = req.input;
        if input.part_number.is_some() && input.range.is_some() {
            return Err(both_part_and_range());
        }
        let bucket = self.store.bucket(&input.bucket).map_err(s3)?;
        let (meta, file) = bucket.open(&input.key).map_err(s3)?;
        let conditions = Conditions {
            if_match: input.if_match,
            if_none_match: input.if_none_match,
            if_modified_since: input.if_modified_since,
            if_unmodified_since: input.if_unmodified_since,
        };
        check_read(&conditions, &meta)?;
        let part = input.part_number.map(|n| part_of(&meta, n)).transpose()?;
        let (start, length, content_range) = match (&input.range, &part) {
            (None, None) => (0, meta.size, None),
            (None, Some((start, length, _, is_part))) => {
                let range = is_part.then(|| {
                    format!(
                        "bytes {start}-{}/{}",
                        (start + length).saturating_sub(1),
                        meta.size
                    )
                });
                (*start, *length, range)
            }
            (Some(range), _) => {
                let r = range.check(meta.size).map_err(|_| {
                    S3Error::with_message(
                        S3ErrorCode::InvalidRange,
                        "The requested range is not satisfiable",
                    )
                })?;
                let range = format!("bytes {}-{}/{}", r.start, r.end - 1, meta.size);
                (r.start, r.end - r.start, Some(range))
            }
        };
        let body = FileStream::new(file, start, length)
            .map_err(|e| s3(StoreError::io("reading an object")(e)))?;
        // For the whole object, or a part (its own checksum): a range's bytes would not match.
        let checksums = match (wants_checksums(input.checksum_mode.as_ref()), part) {
            (false, _) => Checksums::default(),
            (true, Some((_, _, part_checksums, _))) => part_checksums,
            (true, None) if content_range.is_none() => meta.checksums.clone(),
            (true, None) => Checksums::default(),
        };
        let h = &meta.headers;
        let output = GetObjectOutput {
            body: Some(StreamingBlob::wrap(body)),
            content_length: i64::try_from(length).ok(),
            content_range,
            accept_ranges: Some("bytes".to_owned()),
            last_modified: Some(meta.last_modified.clone()),
            e_tag: Some(etag(&meta.etag)),
            metadata: metadata_dto(&meta.metadata),
            content_type: input
                .response_content_type
                .or_else(|| h.content_type.clone()),
            content_encoding: input
                .response_content_encoding
                .or_else(|| h.content_encoding.clone()),
            content_disposition: input
                .response_content_disposition
                .or_else(|| h.content_disposition.clone()),
            content_language: input
                .response_content_language
                .or_else(|| h.content_language.clone()),
            cache_control: input
                .response_cache_control
                .or_else(|| h.cache_control.clone()),
            expires: input.response_expires.or_else(|| h.expires.clone()),
            website_redirect_location: h.website_redirect_location.clone(),
            parts_count: meta.parts.and_then(|p| i32::try_from(p).ok()),
            checksum_type: checksum_type(&meta, &checksums),
            checksum_crc32: checksums.crc32,
            checksum_crc32c: checksums.crc32c,
            checksum_crc64nvme: checksums.crc64nvme,
            checksum_sha1: checksums.sha1,
            checksum_sha256: checksums.sha256,
            ..GetObjectOutput::default()
        };
        Ok(S3Response::new(output))
    }

    async fn head_object(
        &self,
        req: S3Request<HeadObjectInput>,
    ) -> S3Result<S3Response<HeadObjectOutput>> {
        let input = req.input;
        if input.part_number.is_some() && input.range.is_some() {
            return Err(both_part_and_range());
        }
        let bucket = self.store.bucket(&input.bucket).map_err(s3)?;
        let meta = bucket
            .get(&input.key)
            .ok_or_else(|| s3(StoreError::NoSuchKey))?;
        let conditions = Conditions {
            if_match: input.if_match,
            if_none_match: input.if_none_match,
            if_modified_since: input.if_modified_since,
            if_unmodified_since: input.if_unmodified_since,
        };
        check_read(&conditions, &meta)?;
        let part = input.part_number.map(|n| part_of(&meta, n)).transpose()?;
        let (length, checksums) = match part {
            Some((_, length, part_checksums, _)) => (length, part_checksums),
            None => (meta.size, meta.checksums.clone()),
        };
        let checksums = if wants_checksums(input.checksum_mode.as_ref()) {
            checksums
        } else {
            Checksums::default()
        };
        let h = &meta.headers;
        Ok(S3Response::new(HeadObjectOutput {
            content_length: i64::try_from(length).ok(),
            accept_ranges: Some("bytes".to_owned()),
            last_modified: Some(meta.last_modified.clone()),
            e_tag: Some(etag(&meta.etag)),
            metadata: metadata_dto(&meta.metadata),
            content_type: input
                .response_content_type
                .or_else(|| h.content_type.clone()),
            content_encoding: h.content_encoding.clone(),
            content_disposition: h.content_disposition.clone(),
            content_language: h.content_language.clone(),
            cache_control: h.cache_control.clone(),
            expires: h.expires.clone(),
            website_redirect_location: h.website_redirect_location.clone(),
            parts_count: meta.parts.and_then(|p| i32::try_from(p).ok()),
            checksum_type: checksum_type(&meta, &checksums),
            checksum_crc32: checksums.crc32,
            checksum_crc32c: checksums.crc32c,
            checksum_crc64nvme: checksums.crc64nvme,
            checksum_sha1: checksums.sha1,
            checksum_sha256: checksums.sha256,
            ..HeadObjectOutput::default()
        }))
    }

    async fn get_object_attributes(
        &self,
        req: S3Request<GetObjectAttributesInput>,
    ) -> S3Result<S3Response<GetObjectAttributesOutput>> {
        let input = req.input;
        let bucket = self.store.bucket(&input.bucket).map_err(s3)?;
        let meta = bucket
            .get(&input.key)
            .ok_or_else(|| s3(StoreError::NoSuchKey))?;
        let wants = |name: &str| input.object_attributes.iter().any(|a| a.as_str() == name);
        use s3s::dto::ObjectAttributes as A;
        let c = &meta.checksums;
        Ok(S3Response::new(GetObjectAttributesOutput {
            e_tag: wants(A::ETAG).then(|| etag(&meta.etag)),
            last_modified: Some(meta.last_modified.clone()),
            object_size: wants(A::OBJECT_SIZE)
                .then(|| i64::try_from(meta.size).ok())
                .flatten(),
            storage_class: wants(A::STORAGE_CLASS)
                .then(|| s3s::dto::StorageClass::from("STANDARD".to_owned())),
            checksum: (wants(A::CHECKSUM) && !c.is_empty()).then(|| s3s::dto::Checksum {
                checksum_crc32: c.crc32.clone(),
                checksum_crc32c: c.crc32c.clone(),
                checksum_crc64nvme: c.crc64nvme.clone(),
                checksum_sha1: c.sha1.clone(),
                checksum_sha256: c.sha256.clone(),
                checksum_type: checksum_type(&meta, c),
            }),
            // The part count only: a completed object does not keep its parts' sizes here.
            object_parts: (wants(A::OBJECT_PARTS) && meta.parts.is_some()).then(|| {
                GetObjectAttributesParts {
                    total_parts_count: meta.parts.and_then(|p| i32::try_from(p).ok()),
                    ..GetObjectAttributesParts::default()
                }
            }),
            ..GetObjectAttributesOutput::default()
        }))
    }

    async fn put_object(
        &self,
        req: S3Request<PutObjectInput>,
    ) -> S3Result<S3Response<PutObjectOutput>> {
        let input = req.input;
        check_key(&input.key)?;
        let bucket = self.store.bucket(&input.bucket).map_err(s3)?;
        let sent = sent_checksums(
            Checksums {
                crc32: input.checksum_crc32,
                crc32c: input.checksum_crc32c,
                crc64nvme: input.checksum_crc64nvme,
                sha1: input.checksum_sha1,
                sha256: input.checksum_sha256,
            },
            req.trailing_headers.clone(),
        )?;
        let want = wanted(&sent, input.checksum_algorithm.as_ref().map(|a| a.as_str()))?;
        let body = input.body.unwrap_or_else(|| {
            StreamingBlob::wrap(futures::stream::empty::<Result<bytes::Bytes, std::io::Error>>())
        });
        let staged = self
            .store
            .stage(&bucket, &input.key, body, want)
            .await
            .map_err(s3)?;
        // Trailers arrive after the body: read them again now.
        let sent = sent_checksums(sent, req.trailing_headers)?;
        if let Err(e) = verify(
            &sent,
            &staged.checksums,
            input.content_md5.as_deref(),
            &staged.md5,
        ) {
            staged.discard();
            return Err(s3(e));
        }
        let mut headers = Headers {
            content_type: input.content_type,
            content_encoding: stored_encoding(input.content_encoding),
            content_disposition: input.content_disposition,
            content_language: input.content_language,
            cache_control: input.cache_control,
            expires: input.expires,
            website_redirect_location: input.website_redirect_location,
        };
        if headers.content_type.is_none() {
            headers.content_type = Some("binary/octet-stream".to_owned());
        }
        let checksums = staged.checksums.clone();
        let meta = ObjectMeta {
            key: input.key,
            size: staged.size,
            etag: hex::encode(staged.md5),
            last_modified: now(),
            headers,
            metadata: metadata_of(input.metadata),
            checksum_type: (!checksums.is_empty()).then(|| ChecksumType::FULL_OBJECT.to_owned()),
            checksums,
            parts: None,
            multipart: None,
            data: String::new(),
        };
        let conditions = Conditions {
            if_match: input.if_match,
            if_none_match: input.if_none_match,
            ..Conditions::default()
        };
        let meta = self
            .store
            .commit(&bucket, staged, meta, &conditions)
            .await
            .map_err(s3)?;
        let c = meta.checksums.clone();
        Ok(S3Response::new(PutObjectOutput {
            e_tag: Some(etag(&meta.etag)),
            size: i64::try_from(meta.size).ok(),
            checksum_type: checksum_type(&meta, &c),
            checksum_crc32: c.crc32,
            checksum_crc32c: c.crc32c,
            checksum_crc64nvme: c.crc64nvme,
            checksum_sha1: c.sha1,
            checksum_sha256: c.sha256,
            ..PutObjectOutput::default()
        }))
    }

    async fn delete_object(
        &self,
        req: S3Request<DeleteObjectInput>,
    ) -> S3Result<S3Response<DeleteObjectOutput>> {
        let input = req.input;
        let bucket = self.store.bucket(&input.bucket).map_err(s3)?;
        let conditions = Conditions {
            if_match: input.if_match,
            ..Conditions::default()
        };
        self.store
            .delete(&bucket, &input.key, &conditions)
            .await
            .map_err(s3)?;
        Ok(S3Response::new(DeleteObjectOutput::default()))
    }

    async fn delete_objects(
        &self,
        req: S3Request<DeleteObjectsInput>,
    ) -> S3Result<S3Response<DeleteObjectsOutput>> {
        let input = req.input;
        let bucket = self.store.bucket(&input.bucket).map_err(s3)?;
        if input.delete.objects.len() > 1000 {
            return Err(S3Error::with_message(
                S3ErrorCode::MalformedXML,
                "A DeleteObjects request names at most 1,000 keys.",
            ));
        }
        let quiet = input.delete.quiet.unwrap_or(false);
        let mut deleted = Vec::new();
        let mut errors = Vec::new();
        for object in input.delete.objects {
            let conditions = Conditions {
                if_match: object.e_tag.clone().map(ETagCondition::ETag),
                ..Conditions::default()
            };
            match self.store.delete(&bucket, &object.key, &conditions).await {
                Ok(_) => {
                    if !quiet {
                        deleted.push(DeletedObject {
                            key: Some(object.key),
                            ..DeletedObject::default()
                        });
                    }
                }
                Err(e) => {
                    let e = s3(e);
                    errors.push(ErrorDto {
                        code: Some(e.code().as_str().to_owned()),
                        message: e.message().map(str::to_owned),
                        key: Some(object.key),
                        version_id: None,
                    });
                }
            }
        }
        Ok(S3Response::new(DeleteObjectsOutput {
            deleted: Some(deleted),
            errors: (!errors.is_empty()).then_some(errors),
            ..DeleteObjectsOutput::default()
        }))
    }

    async fn copy_object(
        &self,
        req: S3Request<CopyObjectInput>,
    ) -> S3Result<S3Response<CopyObjectOutput>> {
        let input = req.input;
        check_key(&input.key)?;
        let source_conditions = Conditions {
            if_match: input.copy_source_if_match,
            if_none_match: input.copy_source_if_none_match,
            if_modified_since: input.copy_source_if_modified_since,
            if_unmodified_since: input.copy_source_if_unmodified_since,
        };
        let (source, file) = copy_source(&self.store, &input.copy_source, &source_conditions)?;
        let bucket = self.store.bucket(&input.bucket).map_err(s3)?;
        let replace = input
            .metadata_directive
            .as_ref()
            .is_some_and(|d| d.as_str() == MetadataDirective::REPLACE);
        let onto_itself = matches!(&input.copy_source, CopySource::Bucket { bucket: b, key: k, .. }
            if **b == *input.bucket && **k == *input.key);
        if onto_itself
            && !replace
            && input.storage_class.is_none()
            && input.website_redirect_location.is_none()
            && input.server_side_encryption.is_none()
        {
            return Err(S3Error::with_message(
                S3ErrorCode::InvalidRequest,
                "This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes.",
            ));
        }
        let (headers, metadata) = if replace {
            (
                Headers {
                    content_type: input
                        .content_type
                        .or_else(|| Some("binary/octet-stream".to_owned())),
                    content_encoding: stored_encoding(input.content_encoding),
                    content_disposition: input.content_disposition,
                    content_language: input.content_language,
                    cache_control: input.cache_control,
                    expires: input.expires,
                    website_redirect_location: input.website_redirect_location,
                },
                metadata_of(input.metadata),
            )
        } else {
            (source.headers.clone(), source.metadata.clone())
        };
        let mut want = Wanted::of(&source.checksums);
        if let Some(a) = &input.checksum_algorithm {
            want.add(a.as_str());
        }
        let body = FileStream::new(file, 0, source.size)
            .map_err(|e| s3(StoreError::io("reading a copy's source")(e)))?;
        let staged = self
            .store
            .stage(&bucket, &input.key, body, want)
            .await
            .map_err(s3)?;
        let checksums = staged.checksums.clone();
        let meta = ObjectMeta {
            key: input.key,
            size: staged.size,
            etag: hex::encode(staged.md5),
            last_modified: now(),
            headers,
            metadata,
            checksum_type: (!checksums.is_empty()).then(|| ChecksumType::FULL_OBJECT.to_owned()),
            checksums,
            parts: None,
            multipart: None,
            data: String::new(),
        };
        let meta = self
            .store
            .commit(&bucket, staged, meta, &Conditions::default())
            .await
            .map_err(s3)?;
        let c = meta.checksums.clone();
        Ok(S3Response::new(CopyObjectOutput {
            copy_object_result: Some(CopyObjectResult {
                e_tag: Some(etag(&meta.etag)),
                last_modified: Some(meta.last_modified.clone()),
                checksum_type: checksum_type(&meta, &c),
                checksum_crc32: c.crc32,
                checksum_crc32c: c.crc32c,
                checksum_crc64nvme: c.crc64nvme,
                checksum_sha1: c.sha1,
                checksum_sha256: c.sha256,
            }),
            ..CopyObjectOutput::default()
        }))
    }

    async fn list_objects(
        &self,
        req: S3Request<ListObjectsInput>,
    ) -> S3Result<S3Response<ListObjectsOutput>> {
        let input = req.input;
        let bucket = self.store.bucket(&input.bucket).map_err(s3)?;
        let query = Query::new(
            input.prefix.clone(),
            input.delimiter.clone(),
            input.marker.clone(),
            input.max_keys,
        );
        let page = bucket.page(&query);
        let url = is_url(input.encoding_type.as_ref());
        let enc = |s: &str| if url { url_encode(s) } else { s.to_owned() };
        let contents = page
            .entries
            .iter()
            .filter_map(|e| match e {
                listing::Entry::Item(meta) => Some(object_dto(meta, enc(&meta.key), true)),
                listing::Entry::CommonPrefix(_) => None,
            })
            .collect();
        // NextMarker only with a delimiter; without one the client continues from the last key.
        let next_marker = (page.truncated && query.delimiter.is_some())
            .then(|| page.last.as_deref().map(enc))
            .flatten();
        Ok(S3Response::new(ListObjectsOutput {
            name: Some(input.bucket),
            // As sent, even with EncodingType=url: in a v1 listing S3 encodes the keys, common
            // prefixes, Delimiter, Marker and NextMarker, which is what SDKs decode (botocore
            // decodes no v1 Prefix, so an encoded one would come back changed).
            prefix: Some(query.prefix.clone()),
            marker: Some(input.marker.as_deref().map(enc).unwrap_or_default()),
            max_keys: input.max_keys.or(Some(1000)),
            is_truncated: Some(page.truncated),
            common_prefixes: prefixes_dto(&page, &enc),
            contents: Some(contents),
            delimiter: query.delimiter.as_deref().map(enc),
            next_marker,
            encoding_type: input.encoding_type,
            ..ListObjectsOutput::default()
        }))
    }

    async fn list_objects_v2(
        &self,
        req: S3Request<ListObjectsV2Input>,
    ) -> S3Result<S3Response<ListObjectsV2Output>> {
        let input = req.input;
        let bucket = self.store.bucket(&input.bucket).map_err(s3)?;
        let after = match &input.continuation_token {
            Some(t) => Some(untoken(t)?),
            None => input.start_after.clone(),
        };
        let query = Query::new(
            input.prefix.clone(),
            input.delimiter.clone(),
            after,
            input.max_keys,
        );
        let page = bucket.page(&query);
        let url = is_url(input.encoding_type.as_ref());
        let enc = |s: &str| if url { url_encode(s) } else { s.to_owned() };
        let fetch_owner = input.fetch_owner.unwrap_or(false);
        let contents: Vec<Object> = page
            .entries
            .iter()
            .filter_map(|e| match e {
                listing::Entry::Item(meta) => Some(object_dto(meta, enc(&meta.key), fetch_owner)),
                listing::Entry::CommonPrefix(_) => None,
            })
            .collect();
        let next = page
            .truncated
            .then(|| page.last.as_deref().map(token))
            .flatten();
        Ok(S3Response::new(ListObjectsV2Output {
            name: Some(input.bucket),
            prefix: Some(enc(&query.prefix)),
            max_keys: input.max_keys.or(Some(1000)),
            key_count: i32::try_from(page.entries.len()).ok(),
            continuation_token: input.continuation_token,
            is_truncated: Some(page.truncated),
            next_continuation_token: next,
            common_prefixes: prefixes_dto(&page, &enc),
            contents: Some(contents),
            delimiter: query.delimiter.as_deref().map(enc),
            start_after: input.start_after.as_deref().map(enc),
            encoding_type: input.encoding_type,
            ..ListObjectsV2Output::default()
        }))
    }

    async fn list_object_versions(
        &self,
        req: S3Request<ListObjectVersionsInput>,
    ) -> S3Result<S3Response<ListObjectVersionsOutput>> {
        let input = req.input;
        let bucket = self.store.bucket(&input.bucket).map_err(s3)?;
        let query = Query::new(
            input.prefix.clone(),
            input.delimiter.clone(),
            input.key_marker.clone(),
            input.max_keys,
        );
        let page = bucket.page(&query);
        let url = is_url(input.encoding_type.as_ref());
        let enc = |s: &str| if url { url_encode(s) } else { s.to_owned() };
        // A bucket that was never versioned: each object is its one version, "null", the latest.
        let versions: Vec<ObjectVersion> = page
            .items()
            .map(|meta| ObjectVersion {
                key: Some(enc(&meta.key)),
                version_id: Some("null".to_owned()),
                is_latest: Some(true),
                size: i64::try_from(meta.size).ok(),
                e_tag: Some(etag(&meta.etag)),
                last_modified: Some(meta.last_modified.clone()),
                owner: Some(owner()),
                storage_class: Some(s3s::dto::ObjectVersionStorageClass::from(
                    "STANDARD".to_owned(),
                )),
                ..ObjectVersion::default()
            })
            .collect();
        let next = page
            .truncated
            .then(|| page.last.as_deref().map(enc))
            .flatten();
        Ok(S3Response::new(ListObjectVersionsOutput {
            name: Some(input.bucket),
            prefix: Some(enc(&query.prefix)),
            key_marker: Some(input.key_marker.as_deref().map(enc).unwrap_or_default()),
            version_id_marker: input.version_id_marker,
            max_keys: input.max_keys.or(Some(1000)),
            is_truncated: Some(page.truncated),
            next_version_id_marker: next.as_ref().map(|_| "null".to_owned()),
            next_key_marker: next,
            common_prefixes: prefixes_dto(&page, &enc),
            versions: Some(versions),
            delimiter: query.delimiter.as_deref().map(enc),
            encoding_type: input.encoding_type,
            ..ListObjectVersionsOutput::default()
        }))
    }

    async fn create_multipart_upload(
        &self,
        req: S3Request<CreateMultipartUploadInput>,
    ) -> S3Result<S3Response<CreateMultipartUploadOutput>> {
        let input = req.input;
        check_key(&input.key)?;
        let bucket = self.store.bucket(&input.bucket).map_err(s3)?;
        let algorithm = input
            .checksum_algorithm
            .as_ref()
            .map(|a| a.as_str().to_owned());
        if let Some(a) = &algorithm {
            wanted(&Checksums::default(), Some(a))?;
        }
        let kind = input.checksum_type.as_ref().map(|t| t.as_str().to_owned());
        check_checksum_type(algorithm.as_deref(), kind.as_deref())?;
        let headers = Headers {
            content_type: input
                .content_type
                .or_else(|| Some("binary/octet-stream".to_owned())),
            content_encoding: stored_encoding(input.content_encoding),
            content_disposition: input.content_disposition,
            content_language: input.content_language,
            cache_control: input.cache_control,
            expires: input.expires,
            website_redirect_location: input.website_redirect_location,
        };
        let upload = multipart::create(
            &bucket,
            &input.key,
            headers,
            metadata_of(input.metadata),
            algorithm,
            kind,
        )
        .map_err(s3)?;
        Ok(S3Response::new(CreateMultipartUploadOutput {
            bucket: Some(input.bucket),
            key: Some(input.key),
            checksum_type: upload
                .checksum_type()
                .map(|t| ChecksumType::from(t.to_owned())),
            upload_id: Some(upload.id),
            checksum_algorithm: input.checksum_algorithm,
            ..CreateMultipartUploadOutput::default()
        }))
    }

    async fn upload_part(
        &self,
        req: S3Request<UploadPartInput>,
    ) -> S3Result<S3Response<UploadPartOutput>> {
        let input = req.input;
        let bucket = self.store.bucket(&input.bucket).map_err(s3)?;
        let sent = sent_checksums(
            Checksums {
                crc32: input.checksum_crc32,
                crc32c: input.checksum_crc32c,
                crc64nvme: input.checksum_crc64nvme,
                sha1: input.checksum_sha1,
                sha256: input.checksum_sha256,
            },
            req.trailing_headers.clone(),
        )?;
        let mut want = wanted(&sent, input.checksum_algorithm.as_ref().map(|a| a.as_str()))?;
        // Every part carries the upload's checksum, sent or not: the object's checksum (composite
        // or full) and a `partNumber` read are made from it.
        let upload = multipart::get(&bucket, &input.key, &input.upload_id).map_err(s3)?;
        if let Some(a) = &upload.checksum_algorithm {
            want.add(a);
        }
        let body = input.body.unwrap_or_else(|| {
            StreamingBlob::wrap(futures::stream::empty::<Result<bytes::Bytes, std::io::Error>>())
        });
        let (part, staged) = multipart::upload_part(
            &bucket,
            &input.key,
            &input.upload_id,
            input.part_number,
            body,
            want,
        )
        .await
        .map_err(s3)?;
        let sent = sent_checksums(sent, req.trailing_headers)?;
        if let Err(e) = verify(
            &sent,
            &staged.checksums,
            input.content_md5.as_deref(),
            &staged.md5,
        ) {
            staged.discard();
            return Err(s3(e));
        }
        multipart::commit_part(&bucket, &input.upload_id, &part, staged)
            .await
            .map_err(s3)?;
        let c = part.checksums;
        Ok(S3Response::new(UploadPartOutput {
            e_tag: Some(etag(&part.etag)),
            checksum_crc32: c.crc32,
            checksum_crc32c: c.crc32c,
            checksum_crc64nvme: c.crc64nvme,
            checksum_sha1: c.sha1,
            checksum_sha256: c.sha256,
            ..UploadPartOutput::default()
        }))
    }

    async fn upload_part_copy(
        &self,
        req: S3Request<UploadPartCopyInput>,
    ) -> S3Result<S3Response<UploadPartCopyOutput>> {
        let input = req.input;
        let source_conditions = Conditions {
            if_match: input.copy_source_if_match,
            if_none_match: input.copy_source_if_none_match,
            if_modified_since: input.copy_source_if_modified_since,
            if_unmodified_since: input.copy_source_if_unmodified_since,
        };
        let (source, file) = copy_source(&self.store, &input.copy_source, &source_conditions)?;
        let bucket = self.store.bucket(&input.bucket).map_err(s3)?;
        let (start, length) = copy_range(input.copy_source_range.as_deref(), source.size)?;
        let body = FileStream::new(file, start, length)
            .map_err(|e| s3(StoreError::io("reading a copy's source")(e)))?;
        let (part, staged) = multipart::upload_part(
            &bucket,
            &input.key,
            &input.upload_id,
            input.part_number,
            body,
            Wanted::default(),
        )
        .await
        .map_err(s3)?;
        multipart::commit_part(&bucket, &input.upload_id, &part, staged)
            .await
            .map_err(s3)?;
        Ok(S3Response::new(UploadPartCopyOutput {
            copy_part_result: Some(CopyPartResult {
                e_tag: Some(etag(&part.etag)),
                last_modified: Some(part.last_modified),
                ..CopyPartResult::default()
            }),
            ..UploadPartCopyOutput::default()
        }))
    }

    async fn list_parts(
        &self,
        req: S3Request<ListPartsInput>,
    ) -> S3Result<S3Response<ListPartsOutput>> {
        let input = req.input;
        let bucket = self.store.bucket(&input.bucket).map_err(s3)?;
        let (upload, parts) =
            multipart::parts(&bucket, &input.key, &input.upload_id).map_err(s3)?;
        let max = usize::try_from(input.max_parts.unwrap_or(1000).clamp(0, 1000)).unwrap_or(1000);
        let marker = input.part_number_marker.unwrap_or(0);
        let mut selected: Vec<&multipart::Part> =
            parts.values().filter(|p| p.number > marker).collect();
        let truncated = selected.len() > max;
        selected.truncate(max);
        let next = truncated
            .then(|| selected.last().map(|p| p.number))
            .flatten();
        let parts = selected
            .into_iter()
            .map(|p| PartDto {
                part_number: Some(p.number),
                size: i64::try_from(p.size).ok(),
                e_tag: Some(etag(&p.etag)),
                last_modified: Some(p.last_modified.clone()),
                checksum_crc32: p.checksums.crc32.clone(),
                checksum_crc32c: p.checksums.crc32c.clone(),
                checksum_crc64nvme: p.checksums.crc64nvme.clone(),
                checksum_sha1: p.checksums.sha1.clone(),
                checksum_sha256: p.checksums.sha256.clone(),
            })
            .collect();
        Ok(S3Response::new(ListPartsOutput {
            bucket: Some(input.bucket),
            key: Some(upload.key),
            upload_id: Some(upload.id),
            max_parts: Some(i32::try_from(max).unwrap_or(1000)),
            part_number_marker: input.part_number_marker,
            next_part_number_marker: next,
            is_truncated: Some(truncated),
            parts: Some(parts),
            owner: Some(owner()),
            checksum_algorithm: upload
                .checksum_algorithm
                .map(s3s::dto::ChecksumAlgorithm::from),
            ..ListPartsOutput::default()
        }))
    }

    async fn list_multipart_uploads(
        &self,
        req: S3Request<ListMultipartUploadsInput>,
    ) -> S3Result<S3Response<ListMultipartUploadsOutput>> {
        let input = req.input;
        let bucket = self.store.bucket(&input.bucket).map_err(s3)?;
        let uploads = multipart::list(&bucket);
        let query = Query::new(
            input.prefix.clone(),
            input.delimiter.clone(),
            input.key_marker.clone(),
            input.max_uploads,
        );
        let page = listing::page(uploads.iter().map(|u| (u.key.as_str(), u)), &query);
        let url = is_url(input.encoding_type.as_ref());
        let enc = |s: &str| if url { url_encode(s) } else { s.to_owned() };
        let list: Vec<MultipartUpload> = page
            .items()
            .map(|u| MultipartUpload {
                key: Some(enc(&u.key)),
                upload_id: Some(u.id.clone()),
                initiated: Some(u.initiated.clone()),
                owner: Some(owner()),
                checksum_algorithm: u
                    .checksum_algorithm
                    .clone()
                    .map(s3s::dto::ChecksumAlgorithm::from),
                ..MultipartUpload::default()
            })
            .collect();
        let prefixes: Vec<CommonPrefix> = page
            .common_prefixes()
            .map(|p| CommonPrefix {
                prefix: Some(enc(p)),
            })
            .collect();
        let last_upload = page.items().last().map(|u| u.id.clone());
        Ok(S3Response::new(ListMultipartUploadsOutput {
            bucket: Some(input.bucket),
            prefix: Some(enc(&query.prefix)),
            delimiter: query.delimiter.as_deref().map(enc),
            key_marker: input.key_marker.as_deref().map(enc),
            upload_id_marker: input.upload_id_marker,
            max_uploads: input.max_uploads.or(Some(1000)),
            is_truncated: Some(page.truncated),
            next_key_marker: page
                .truncated
                .then(|| page.last.as_deref().map(enc))
                .flatten(),
            next_upload_id_marker: page.truncated.then_some(last_upload).flatten(),
            uploads: Some(list),
            common_prefixes: (!prefixes.is_empty()).then_some(prefixes),
            encoding_type: input.encoding_type,
            ..ListMultipartUploadsOutput::default()
        }))
    }

    async fn abort_multipart_upload(
        &self,
        req: S3Request<AbortMultipartUploadInput>,
    ) -> S3Result<S3Response<AbortMultipartUploadOutput>> {
        let input = req.input;
        let bucket = self.store.bucket(&input.bucket).map_err(s3)?;
        multipart::abort(&bucket, &input.key, &input.upload_id)
            .await
            .map_err(s3)?;
        Ok(S3Response::new(AbortMultipartUploadOutput::default()))
    }

    async fn complete_multipart_upload(
        &self,
        req: S3Request<CompleteMultipartUploadInput>,
    ) -> S3Result<S3Response<CompleteMultipartUploadOutput>> {
        let input = req.input;
        let bucket = self.store.bucket(&input.bucket).map_err(s3)?;
        let named: Vec<(i32, Option<String>)> = input
            .multipart_upload
            .and_then(|m| m.parts)
            .unwrap_or_default()
            .into_iter()
            .map(|p| {
                (
                    p.part_number.unwrap_or(0),
                    p.e_tag.map(|e| e.value().to_owned()),
                )
            })
            .collect();
        let sent = Checksums {
            crc32: input.checksum_crc32,
            crc32c: input.checksum_crc32c,
            crc64nvme: input.checksum_crc64nvme,
            sha1: input.checksum_sha1,
            sha256: input.checksum_sha256,
        };
        let claim = match multipart::claim(&bucket, &input.key, &input.upload_id).await {
            Ok(claim) => claim,
            Err(StoreError::NoSuchUpload) => {
                return repeated_completion(&bucket, &input.bucket, &input.key, &input.upload_id);
            }
            Err(e) => return Err(s3(e)),
        };
        let parts = match multipart::check_parts(&claim.parts, &named) {
            Ok(parts) => parts,
            Err(e) => {
                claim.release();
                return Err(s3(e));
            }
        };
        let etag_value = multipart::multipart_etag(&parts);
        // The object's checksum, for the algorithm the upload asked for: composite (of the parts'
        // checksums) or over the whole object's bytes as they are joined. Never carried over
        // from anything else, so never stale.
        let algorithm = claim.upload.checksum_algorithm.clone();
        let kind = claim.upload.checksum_type().map(str::to_owned);
        let mut want = Wanted::default();
        let mut composite = None;
        if let Some(a) = algorithm.as_deref() {
            if kind.as_deref() == Some(multipart::COMPOSITE) {
                match multipart::composite_checksum(a, &parts) {
                    Some(c) => composite = Some(Checksums::only(a, c)),
                    None => {
                        claim.release();
                        return Err(s3(StoreError::InvalidRequest(format!(
                            "A part of this upload has no {a} checksum."
                        ))));
                    }
                }
            } else {
                want.add(a);
            }
        }
        let multipart_record = Multipart {
            upload_id: claim.upload.id.clone(),
            parts: parts
                .iter()
                .map(|p| PartInfo {
                    size: p.size,
                    checksums: algorithm
                        .as_deref()
                        .and_then(|a| Some(Checksums::only(a, p.checksums.get(a)?.clone())))
                        .unwrap_or_default(),
                })
                .collect(),
        };
        let files: Vec<(std::path::PathBuf, u64)> =
            parts.iter().map(|p| (claim.part_path(p), p.size)).collect();
        let part_count = u32::try_from(parts.len()).unwrap_or(u32::MAX);
        let body = Box::pin(futures::StreamExt::flat_map(
            futures::stream::iter(files),
            |(path, size)| match std::fs::File::open(&path)
                .and_then(|f| FileStream::new(f, 0, size))
            {
                Ok(stream) => futures::future::Either::Left(stream),
                Err(e) => futures::future::Either::Right(futures::stream::once(
                    futures::future::ready(Err(e)),
                )),
            },
        ));
        let staged = match self.store.stage(&bucket, &input.key, body, want).await {
            Ok(staged) => staged,
            Err(e) => {
                claim.release();
                return Err(s3(e));
            }
        };
        let checksums = composite.unwrap_or_else(|| staged.checksums.clone());
        if let Err(e) = check_whole(&sent, &checksums) {
            staged.discard();
            claim.release();
            return Err(s3(e));
        }
        let meta = ObjectMeta {
            key: input.key.clone(),
            size: staged.size,
            etag: etag_value,
            last_modified: now(),
            headers: claim.upload.headers.clone(),
            metadata: claim.upload.metadata.clone(),
            checksum_type: kind.filter(|_| !checksums.is_empty()),
            checksums,
            parts: Some(part_count),
            multipart: Some(multipart_record),
            data: String::new(),
        };
        let conditions = Conditions {
            if_match: input.if_match,
            if_none_match: input.if_none_match,
            ..Conditions::default()
        };
        let meta = match self.store.commit(&bucket, staged, meta, &conditions).await {
            Ok(meta) => meta,
            Err(e) => {
                claim.release();
                return Err(s3(e));
            }
        };
        claim.finish();
        Ok(S3Response::new(completion(&input.bucket, &meta)))
    }
}

/// What CompleteMultipartUpload answers for the object `meta` it made.
fn completion(bucket: &str, meta: &ObjectMeta) -> CompleteMultipartUploadOutput {
    let c = meta.checksums.clone();
    CompleteMultipartUploadOutput {
        bucket: Some(bucket.to_owned()),
        key: Some(meta.key.clone()),
        location: Some(format!("/{bucket}/{}", meta.key)),
        e_tag: Some(etag(&meta.etag)),
        checksum_type: checksum_type(meta, &c),
        checksum_crc32: c.crc32,
        checksum_crc32c: c.crc32c,
        checksum_crc64nvme: c.crc64nvme,
        checksum_sha1: c.sha1,
        checksum_sha256: c.sha256,
        ..CompleteMultipartUploadOutput::default()
    }
}

/// A CompleteMultipartUpload of an upload that is no longer there: if it made the key's current
/// object, the completion is being retried (its answer was lost) and S3 answers it as the first
/// time. The answer is marked [`REPEATED_COMPLETION`] so no second "object created"
/// notification goes out for an object that was not created again.
fn repeated_completion(
    bucket: &Arc<crate::s3::store::Bucket>,
    bucket_name: &str,
    key: &str,
    upload_id: &str,
) -> S3Result<S3Response<CompleteMultipartUploadOutput>> {
    let made_it = bucket.get(key).filter(|meta| {
        meta.multipart
            .as_ref()
            .is_some_and(|m| m.upload_id == upload_id)
    });
    let Some(meta) = made_it else {
        return Err(s3(StoreError::NoSuchUpload));
    };
    let mut response = S3Response::new(completion(bucket_name, &meta));
    response
        .headers
        .insert(REPEATED_COMPLETION, http::HeaderValue::from_static("true"));
    Ok(response)
}

/// The header (never sent to the client: the S3 route takes it off) that marks an answer to a
/// retried CompleteMultipartUpload.
pub const REPEATED_COMPLETION: &str = "x-imagegen-repeated-completion";

/// The checksum a CompleteMultipartUpload sent for the whole object must be the object's
/// (a composite one with or without its `-<parts>` suffix).
fn check_whole(sent: &Checksums, object: &Checksums) -> Result<(), StoreError> {
    for name in ["CRC32", "CRC32C", "CRC64NVME", "SHA1", "SHA256"] {
        let (Some(sent), Some(ours)) = (sent.get(name), object.get(name)) else {
            continue;
        };
        let bare = ours.split_once('-').map_or(ours.as_str(), |(b, _)| b);
        if sent != ours && sent != bare {
            return Err(StoreError::BadDigest(format!(
                "The {name} you specified did not match the calculated checksum."
            )));
        }
    }
    Ok(())
}

/// S3's rules for a multipart upload's checksum type: SHA checksums can only be composite,
/// CRC-64/NVME only full-object, and a type needs an algorithm.
fn check_checksum_type(algorithm: Option<&str>, kind: Option<&str>) -> S3Result<()> {
    let refused = match (algorithm, kind) {
        (_, None) => None,
        (None, Some(_)) => Some("The x-amz-checksum-type header needs x-amz-checksum-algorithm."),
        (Some(a), Some(multipart::FULL_OBJECT)) if a.starts_with("SHA") => {
            Some("The FULL_OBJECT checksum type cannot be used with the SHA algorithms.")
        }
        (Some("CRC64NVME"), Some(multipart::COMPOSITE)) => {
            Some("The COMPOSITE checksum type cannot be used with CRC64NVME.")
        }
        (Some(_), Some(multipart::FULL_OBJECT | multipart::COMPOSITE)) => None,
        (Some(_), Some(_)) => Some("The checksum type must be COMPOSITE or FULL_OBJECT."),
    };
    match refused {
        Some(message) => Err(S3Error::with_message(S3ErrorCode::InvalidRequest, message)),
        None => Ok(()),
    }
}
