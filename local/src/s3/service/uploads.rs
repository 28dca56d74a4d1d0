//! Multipart uploads: Create, UploadPart, UploadPartCopy, ListParts, ListMultipartUploads, Abort
//! and Complete (its checksums, and the answer to a retried completion).

use std::sync::Arc;

use s3s::dto::{
    AbortMultipartUploadInput, AbortMultipartUploadOutput, ChecksumType, CommonPrefix,
    CompleteMultipartUploadInput, CompleteMultipartUploadOutput, CopyPartResult,
    CreateMultipartUploadInput, CreateMultipartUploadOutput, ListMultipartUploadsInput,
    ListMultipartUploadsOutput, ListPartsInput, ListPartsOutput, MultipartUpload, Part as PartDto,
    UploadPartCopyInput, UploadPartCopyOutput, UploadPartInput, UploadPartOutput,
};
use s3s::{S3Error, S3ErrorCode, S3Request, S3Response, S3Result};

use super::copy::{copy_range, copy_source};
use super::list::is_url;
use super::wire::{
    check_key, checksum_type, checksums_in_headers, empty_body, metadata_of, now, owner,
    sent_checksums, stored_headers, verify_arrived, wanted,
};
use super::{LocalS3, s3};
use crate::s3::store::conditions::{Conditions, etag};
use crate::s3::store::listing::{self, Query, url_encode};
use crate::s3::store::multipart;
use crate::s3::store::record::{Checksums, Multipart, ObjectMeta, PartInfo};
use crate::s3::store::{FileStream, StoreError, Wanted};

/// What CompleteMultipartUpload answers for the object `meta` it made.
pub(super) fn completion(bucket: &str, meta: &ObjectMeta) -> CompleteMultipartUploadOutput {
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
pub(super) fn repeated_completion(
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
pub(super) fn check_whole(sent: &Checksums, object: &Checksums) -> Result<(), StoreError> {
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
pub(super) fn check_checksum_type(algorithm: Option<&str>, kind: Option<&str>) -> S3Result<()> {
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

pub(super) async fn create_multipart_upload(
    this: &LocalS3,
    req: S3Request<CreateMultipartUploadInput>,
) -> S3Result<S3Response<CreateMultipartUploadOutput>> {
    let input = req.input;
    check_key(&input.key)?;
    let bucket = this.store.bucket(&input.bucket).map_err(s3)?;
    let algorithm = input
        .checksum_algorithm
        .as_ref()
        .map(|a| a.as_str().to_owned());
    if let Some(a) = &algorithm {
        wanted(&Checksums::default(), Some(a))?;
    }
    let kind = input.checksum_type.as_ref().map(|t| t.as_str().to_owned());
    check_checksum_type(algorithm.as_deref(), kind.as_deref())?;
    let headers = stored_headers!(input);
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

pub(super) async fn upload_part(
    this: &LocalS3,
    req: S3Request<UploadPartInput>,
) -> S3Result<S3Response<UploadPartOutput>> {
    let input = req.input;
    let bucket = this.store.bucket(&input.bucket).map_err(s3)?;
    let sent = sent_checksums(checksums_in_headers!(input), req.trailing_headers.clone())?;
    let mut want = wanted(&sent, input.checksum_algorithm.as_ref().map(|a| a.as_str()))?;
    // Every part carries the upload's checksum, sent or not: the object's checksum (composite
    // or full) and a `partNumber` read are made from it.
    let upload = multipart::get(&bucket, &input.key, &input.upload_id).map_err(s3)?;
    if let Some(a) = &upload.checksum_algorithm {
        want.add(a);
    }
    let body = input.body.unwrap_or_else(empty_body);
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
    let staged = verify_arrived(
        sent,
        req.trailing_headers,
        input.content_md5.as_deref(),
        staged,
    )?;
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

pub(super) async fn upload_part_copy(
    this: &LocalS3,
    req: S3Request<UploadPartCopyInput>,
) -> S3Result<S3Response<UploadPartCopyOutput>> {
    let input = req.input;
    let source_conditions = Conditions {
        if_match: input.copy_source_if_match,
        if_none_match: input.copy_source_if_none_match,
        if_modified_since: input.copy_source_if_modified_since,
        if_unmodified_since: input.copy_source_if_unmodified_since,
    };
    let (source, file) = copy_source(&this.store, &input.copy_source, &source_conditions)?;
    let bucket = this.store.bucket(&input.bucket).map_err(s3)?;
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

pub(super) async fn list_parts(
    this: &LocalS3,
    req: S3Request<ListPartsInput>,
) -> S3Result<S3Response<ListPartsOutput>> {
    let input = req.input;
    let bucket = this.store.bucket(&input.bucket).map_err(s3)?;
    let (upload, parts) = multipart::parts(&bucket, &input.key, &input.upload_id).map_err(s3)?;
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

pub(super) async fn list_multipart_uploads(
    this: &LocalS3,
    req: S3Request<ListMultipartUploadsInput>,
) -> S3Result<S3Response<ListMultipartUploadsOutput>> {
    let input = req.input;
    let bucket = this.store.bucket(&input.bucket).map_err(s3)?;
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

pub(super) async fn abort_multipart_upload(
    this: &LocalS3,
    req: S3Request<AbortMultipartUploadInput>,
) -> S3Result<S3Response<AbortMultipartUploadOutput>> {
    let input = req.input;
    let bucket = this.store.bucket(&input.bucket).map_err(s3)?;
    multipart::abort(&bucket, &input.key, &input.upload_id)
        .await
        .map_err(s3)?;
    Ok(S3Response::new(AbortMultipartUploadOutput::default()))
}

pub(super) async fn complete_multipart_upload(
    this: &LocalS3,
    req: S3Request<CompleteMultipartUploadInput>,
) -> S3Result<S3Response<CompleteMultipartUploadOutput>> {
    let input = req.input;
    let bucket = this.store.bucket(&input.bucket).map_err(s3)?;
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
    let sent = checksums_in_headers!(input);
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
        |(path, size)| match std::fs::File::open(&path).and_then(|f| FileStream::new(f, 0, size)) {
            Ok(stream) => futures::future::Either::Left(stream),
            Err(e) => futures::future::Either::Right(futures::stream::once(
                futures::future::ready(Err(e)),
            )),
        },
    ));
    let staged = match this.store.stage(&bucket, &input.key, body, want).await {
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
    let meta = match this.store.commit(&bucket, staged, meta, &conditions).await {
        Ok(meta) => meta,
        Err(e) => {
            claim.release();
            return Err(s3(e));
        }
    };
    claim.finish();
    Ok(S3Response::new(completion(&input.bucket, &meta)))
}
