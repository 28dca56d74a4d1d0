//! ListObjects (v1), ListObjectsV2 and ListObjectVersions over the store's listing pages, with
//! their continuation tokens, markers and URL encoding.

use std::sync::Arc;

use base64::Engine as _;
use s3s::dto::{
    CommonPrefix, EncodingType, ListObjectVersionsInput, ListObjectVersionsOutput,
    ListObjectsInput, ListObjectsOutput, ListObjectsV2Input, ListObjectsV2Output, Object,
    ObjectVersion,
};
use s3s::{S3Error, S3ErrorCode, S3Request, S3Response, S3Result};

use super::wire::owner;
use super::{LocalS3, s3};
use crate::s3::store::conditions::etag;
use crate::s3::store::listing::{self, Query, url_encode};
use crate::s3::store::record::ObjectMeta;

/// A continuation token: the key (or common prefix) a page ended with, opaque to the client.
pub(super) fn token(last: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(last)
}

pub(super) fn untoken(token: &str) -> S3Result<String> {
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

pub(super) fn is_url(e: Option<&EncodingType>) -> bool {
    e.is_some_and(|e| e.as_str() == EncodingType::URL)
}

pub(super) fn object_dto(meta: &ObjectMeta, key: String, fetch_owner: bool) -> Object {
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

pub(super) fn prefixes_dto(
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

pub(super) async fn list_objects(
    this: &LocalS3,
    req: S3Request<ListObjectsInput>,
) -> S3Result<S3Response<ListObjectsOutput>> {
    let input = req.input;
    let bucket = this.store.bucket(&input.bucket).map_err(s3)?;
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

pub(super) async fn list_objects_v2(
    this: &LocalS3,
    req: S3Request<ListObjectsV2Input>,
) -> S3Result<S3Response<ListObjectsV2Output>> {
    let input = req.input;
    let bucket = this.store.bucket(&input.bucket).map_err(s3)?;
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

pub(super) async fn list_object_versions(
    this: &LocalS3,
    req: S3Request<ListObjectVersionsInput>,
) -> S3Result<S3Response<ListObjectVersionsOutput>> {
    let input = req.input;
    let bucket = this.store.bucket(&input.bucket).map_err(s3)?;
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
