//! What several operations share between s3s's types and the store's: the owner, key and header
//! rules, user metadata, checksums sent and computed.

use std::collections::BTreeMap;

use base64::Engine as _;
use s3s::dto::{ChecksumMode, ChecksumType, Owner, StreamingBlob, Timestamp};
use s3s::{S3Error, S3ErrorCode, S3Result};

use super::s3;
use crate::s3::store::record::{Checksums, ObjectMeta};
use crate::s3::store::{Staged, StoreError, Wanted};

/// The owner every bucket and object has locally (S3's documentation's example canonical id).
pub(super) const OWNER_ID: &str =
    "75aa57f09aa0c8caeab4f8c24e99d10f8e7faeebf76c078efc7c6caea54ba06a";

pub(super) const OWNER_NAME: &str = "imagegen-local";

pub(super) fn owner() -> Owner {
    Owner {
        id: Some(OWNER_ID.to_owned()),
        display_name: Some(OWNER_NAME.to_owned()),
    }
}

pub(super) fn check_key(key: &str) -> S3Result<()> {
    if key.is_empty() || key.len() > 1024 {
        return Err(S3Error::with_message(
            S3ErrorCode::KeyTooLongError,
            "Your key is too long (S3 keys are 1 to 1,024 bytes of UTF-8).",
        ));
    }
    Ok(())
}

/// The `Content-Type` S3 stores for an object written without one.
pub(super) const DEFAULT_CONTENT_TYPE: &str = "binary/octet-stream";

/// The headers S3 stores from a request that writes an object (PutObject, CreateMultipartUpload,
/// CopyObject with `REPLACE`): as sent, with [`stored_encoding`] and [`DEFAULT_CONTENT_TYPE`]. A
/// macro because the three inputs are different s3s types with the same field names; it moves those
/// fields out of `$input`, leaving the rest of it usable.
macro_rules! stored_headers {
    ($input:expr) => {
        crate::s3::store::record::Headers {
            content_type: $input
                .content_type
                .or_else(|| Some(super::wire::DEFAULT_CONTENT_TYPE.to_owned())),
            content_encoding: super::wire::stored_encoding($input.content_encoding),
            content_disposition: $input.content_disposition,
            content_language: $input.content_language,
            cache_control: $input.cache_control,
            expires: $input.expires,
            website_redirect_location: $input.website_redirect_location,
        }
    };
}
pub(super) use stored_headers;

/// The checksums a request that carries data (PutObject, UploadPart, CompleteMultipartUpload) sent
/// in its headers. A macro for the same reason as [`stored_headers`].
macro_rules! checksums_in_headers {
    ($input:expr) => {
        crate::s3::store::record::Checksums {
            crc32: $input.checksum_crc32,
            crc32c: $input.checksum_crc32c,
            crc64nvme: $input.checksum_crc64nvme,
            sha1: $input.checksum_sha1,
            sha256: $input.checksum_sha256,
        }
    };
}
pub(super) use checksums_in_headers;

/// `Content-Encoding` without `aws-chunked`, which only says how the body travelled.
pub(super) fn stored_encoding(encoding: Option<String>) -> Option<String> {
    let kept: Vec<&str> = encoding
        .as_deref()?
        .split(',')
        .map(str::trim)
        .filter(|e| !e.is_empty() && !e.eq_ignore_ascii_case("aws-chunked"))
        .collect();
    (!kept.is_empty()).then(|| kept.join(", "))
}

pub(super) fn metadata_of(m: Option<s3s::dto::Metadata>) -> BTreeMap<String, String> {
    m.map(|m| {
        m.into_iter()
            .map(|(k, v)| (k.to_ascii_lowercase(), v))
            .collect()
    })
    .unwrap_or_default()
}

pub(super) fn metadata_dto(m: &BTreeMap<String, String>) -> Option<s3s::dto::Metadata> {
    (!m.is_empty()).then(|| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
}

/// The checksum type shown beside checksums `c` of an object whose record says `kind`
/// (full-object unless the record says composite).
pub(super) fn checksum_type(meta: &ObjectMeta, c: &Checksums) -> Option<ChecksumType> {
    (!c.is_empty()).then(|| {
        ChecksumType::from(
            meta.checksum_type
                .clone()
                .unwrap_or_else(|| ChecksumType::FULL_OBJECT.to_owned()),
        )
    })
}

/// The checksums a request sent, in headers or (streaming uploads) trailers.
pub(super) fn sent_checksums(
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
pub(super) fn verify(
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

pub(super) fn wanted(sent: &Checksums, algorithm: Option<&str>) -> S3Result<Wanted> {
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
pub(super) fn wants_checksums(mode: Option<&ChecksumMode>) -> bool {
    mode.is_some_and(|m| m.as_str() == ChecksumMode::ENABLED)
}

pub(super) fn now() -> Timestamp {
    Timestamp::from(std::time::SystemTime::now())
}

/// The body of a request that sent none.
pub(super) fn empty_body() -> StreamingBlob {
    StreamingBlob::wrap(futures::stream::empty::<Result<bytes::Bytes, std::io::Error>>())
}

/// `staged`, if it is what the client said it sent: every checksum it sent (trailers, which
/// arrive after the body, read again now) and its Content-MD5. Otherwise the data is thrown away
/// and the answer is S3's `BadDigest`.
pub(super) fn verify_arrived(
    sent: Checksums,
    trailers: Option<s3s::TrailingHeaders>,
    content_md5: Option<&str>,
    staged: Staged,
) -> S3Result<Staged> {
    let sent = sent_checksums(sent, trailers)?;
    match verify(&sent, &staged.checksums, content_md5, &staged.md5) {
        Ok(()) => Ok(staged),
        Err(e) => {
            staged.discard();
            Err(s3(e))
        }
    }
}
