//! CopyObject, and the copy source and range rules UploadPartCopy shares.

use std::sync::Arc;

use s3s::dto::{
    ChecksumType, CopyObjectInput, CopyObjectOutput, CopyObjectResult, CopySource,
    MetadataDirective,
};
use s3s::{S3Error, S3ErrorCode, S3Request, S3Response, S3Result};

use super::objects::read_verdict;
use super::wire::{check_key, checksum_type, metadata_of, now, stored_headers};
use super::{LocalS3, s3};
use crate::s3::store::conditions::{Conditions, etag};
use crate::s3::store::record::ObjectMeta;
use crate::s3::store::{FileStream, Store, StoreError, Wanted};

/// `bytes=first-last` of an object of `size` bytes (UploadPartCopy's source range).
pub(super) fn copy_range(range: Option<&str>, size: u64) -> S3Result<(u64, u64)> {
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
pub(super) fn copy_source(
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

pub(super) async fn copy_object(
    this: &LocalS3,
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
    let (source, file) = copy_source(&this.store, &input.copy_source, &source_conditions)?;
    let bucket = this.store.bucket(&input.bucket).map_err(s3)?;
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
        (stored_headers!(input), metadata_of(input.metadata))
    } else {
        (source.headers.clone(), source.metadata.clone())
    };
    let mut want = Wanted::of(&source.checksums);
    if let Some(a) = &input.checksum_algorithm {
        want.add(a.as_str());
    }
    let body = FileStream::new(file, 0, source.size)
        .map_err(|e| s3(StoreError::io("reading a copy's source")(e)))?;
    let staged = this
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
    let meta = this
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
