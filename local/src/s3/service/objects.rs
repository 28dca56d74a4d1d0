//! One object at a time: GetObject and HeadObject (ranges, `partNumber`, conditions, `response-*`
//! header overrides), GetObjectAttributes, PutObject, DeleteObject, DeleteObjects.

use s3s::dto::{
    ChecksumType, DeleteObjectInput, DeleteObjectOutput, DeleteObjectsInput, DeleteObjectsOutput,
    DeletedObject, ETagCondition, Error as ErrorDto, GetObjectAttributesInput,
    GetObjectAttributesOutput, GetObjectAttributesParts, GetObjectInput, GetObjectOutput,
    HeadObjectInput, HeadObjectOutput, PutObjectInput, PutObjectOutput, StreamingBlob,
};
use s3s::{S3Error, S3ErrorCode, S3Request, S3Response, S3Result};

use super::wire::{
    check_key, checksum_type, checksums_in_headers, empty_body, metadata_dto, metadata_of, now,
    sent_checksums, stored_headers, verify_arrived, wanted, wants_checksums,
};
use super::{LocalS3, s3};
use crate::s3::store::conditions::{Conditions, Current, Verdict, etag};
use crate::s3::store::record::{Checksums, ObjectMeta};
use crate::s3::store::{FileStream, StoreError};

pub(super) fn read_verdict(c: &Conditions, meta: &ObjectMeta) -> Result<(), StoreError> {
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
pub(super) fn check_read(c: &Conditions, meta: &ObjectMeta) -> S3Result<()> {
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
pub(super) fn part_of(meta: &ObjectMeta, number: i32) -> S3Result<(u64, u64, Checksums, bool)> {
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

pub(super) fn both_part_and_range() -> S3Error {
    S3Error::with_message(
        S3ErrorCode::InvalidRequest,
        "Cannot specify both Range header and partNumber query parameter",
    )
}

/// The conditions of a GetObject or HeadObject input (both name them alike).
macro_rules! read_conditions {
    ($input:expr) => {
        Conditions {
            if_match: $input.if_match,
            if_none_match: $input.if_none_match,
            if_modified_since: $input.if_modified_since,
            if_unmodified_since: $input.if_unmodified_since,
        }
    };
}

/// The headers a GetObject or HeadObject answers with: each one stored with the object, unless the
/// request's `response-*` parameter replaces it (both operations take the same six).
macro_rules! shown_headers {
    ($input:expr, $stored:expr) => {
        ShownHeaders {
            content_type: $input
                .response_content_type
                .or_else(|| $stored.content_type.clone()),
            content_encoding: $input
                .response_content_encoding
                .or_else(|| $stored.content_encoding.clone()),
            content_disposition: $input
                .response_content_disposition
                .or_else(|| $stored.content_disposition.clone()),
            content_language: $input
                .response_content_language
                .or_else(|| $stored.content_language.clone()),
            cache_control: $input
                .response_cache_control
                .or_else(|| $stored.cache_control.clone()),
            expires: $input.response_expires.or_else(|| $stored.expires.clone()),
        }
    };
}

struct ShownHeaders {
    content_type: Option<s3s::dto::ContentType>,
    content_encoding: Option<s3s::dto::ContentEncoding>,
    content_disposition: Option<s3s::dto::ContentDisposition>,
    content_language: Option<s3s::dto::ContentLanguage>,
    cache_control: Option<s3s::dto::CacheControl>,
    expires: Option<s3s::dto::Expires>,
}

/// The part of `meta` a GetObject or HeadObject asks for, once the request's conditions hold:
/// (first byte, length, the part's checksums, whether it is a part of a multipart object), or
/// `None` for the whole object.
fn checked_read(
    meta: &ObjectMeta,
    conditions: &Conditions,
    part_number: Option<i32>,
) -> S3Result<Option<(u64, u64, Checksums, bool)>> {
    check_read(conditions, meta)?;
    part_number.map(|n| part_of(meta, n)).transpose()
}

pub(super) async fn get_object(
    this: &LocalS3,
    req: S3Request<GetObjectInput>,
) -> S3Result<S3Response<GetObjectOutput>> {
    let input = req.input;
    if input.part_number.is_some() && input.range.is_some() {
        return Err(both_part_and_range());
    }
    let bucket = this.store.bucket(&input.bucket).map_err(s3)?;
    let (meta, file) = bucket.open(&input.key).map_err(s3)?;
    let part = checked_read(&meta, &read_conditions!(input), input.part_number)?;
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
    let ShownHeaders {
        content_type,
        content_encoding,
        content_disposition,
        content_language,
        cache_control,
        expires,
    } = shown_headers!(input, meta.headers);
    let output = GetObjectOutput {
        body: Some(StreamingBlob::wrap(body)),
        content_length: i64::try_from(length).ok(),
        content_range,
        accept_ranges: Some("bytes".to_owned()),
        last_modified: Some(meta.last_modified.clone()),
        e_tag: Some(etag(&meta.etag)),
        metadata: metadata_dto(&meta.metadata),
        content_type,
        content_encoding,
        content_disposition,
        content_language,
        cache_control,
        expires,
        website_redirect_location: meta.headers.website_redirect_location.clone(),
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

pub(super) async fn head_object(
    this: &LocalS3,
    req: S3Request<HeadObjectInput>,
) -> S3Result<S3Response<HeadObjectOutput>> {
    let input = req.input;
    if input.part_number.is_some() && input.range.is_some() {
        return Err(both_part_and_range());
    }
    let bucket = this.store.bucket(&input.bucket).map_err(s3)?;
    let meta = bucket
        .get(&input.key)
        .ok_or_else(|| s3(StoreError::NoSuchKey))?;
    let part = checked_read(&meta, &read_conditions!(input), input.part_number)?;
    let (length, checksums) = match part {
        Some((_, length, part_checksums, _)) => (length, part_checksums),
        None => (meta.size, meta.checksums.clone()),
    };
    let checksums = if wants_checksums(input.checksum_mode.as_ref()) {
        checksums
    } else {
        Checksums::default()
    };
    let ShownHeaders {
        content_type,
        content_encoding,
        content_disposition,
        content_language,
        cache_control,
        expires,
    } = shown_headers!(input, meta.headers);
    Ok(S3Response::new(HeadObjectOutput {
        content_length: i64::try_from(length).ok(),
        accept_ranges: Some("bytes".to_owned()),
        last_modified: Some(meta.last_modified.clone()),
        e_tag: Some(etag(&meta.etag)),
        metadata: metadata_dto(&meta.metadata),
        content_type,
        content_encoding,
        content_disposition,
        content_language,
        cache_control,
        expires,
        website_redirect_location: meta.headers.website_redirect_location.clone(),
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

pub(super) async fn get_object_attributes(
    this: &LocalS3,
    req: S3Request<GetObjectAttributesInput>,
) -> S3Result<S3Response<GetObjectAttributesOutput>> {
    let input = req.input;
    let bucket = this.store.bucket(&input.bucket).map_err(s3)?;
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

pub(super) async fn put_object(
    this: &LocalS3,
    req: S3Request<PutObjectInput>,
) -> S3Result<S3Response<PutObjectOutput>> {
    let input = req.input;
    check_key(&input.key)?;
    let bucket = this.store.bucket(&input.bucket).map_err(s3)?;
    let sent = sent_checksums(checksums_in_headers!(input), req.trailing_headers.clone())?;
    let want = wanted(&sent, input.checksum_algorithm.as_ref().map(|a| a.as_str()))?;
    let body = input.body.unwrap_or_else(empty_body);
    let staged = this
        .store
        .stage(&bucket, &input.key, body, want)
        .await
        .map_err(s3)?;
    let staged = verify_arrived(
        sent,
        req.trailing_headers,
        input.content_md5.as_deref(),
        staged,
    )?;
    let headers = stored_headers!(input);
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
    let meta = this
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

pub(super) async fn delete_object(
    this: &LocalS3,
    req: S3Request<DeleteObjectInput>,
) -> S3Result<S3Response<DeleteObjectOutput>> {
    let input = req.input;
    let bucket = this.store.bucket(&input.bucket).map_err(s3)?;
    let conditions = Conditions {
        if_match: input.if_match,
        ..Conditions::default()
    };
    this.store
        .delete(&bucket, &input.key, &conditions)
        .await
        .map_err(s3)?;
    Ok(S3Response::new(DeleteObjectOutput::default()))
}

pub(super) async fn delete_objects(
    this: &LocalS3,
    req: S3Request<DeleteObjectsInput>,
) -> S3Result<S3Response<DeleteObjectsOutput>> {
    let input = req.input;
    let bucket = this.store.bucket(&input.bucket).map_err(s3)?;
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
        match this.store.delete(&bucket, &object.key, &conditions).await {
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
