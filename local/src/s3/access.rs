//! S3's part of the endpoint's authorisation: s3s calls [`Guard::check`] on every request once
//! its signature is checked, before the operation runs; the guard reads the request's facts (the
//! operation s3s parsed, its bucket and key, a copy's source, a listing's prefix, whether a read
//! key exists, whether it came over TLS) and asks the [`Access`] hook.

use std::sync::Arc;

use percent_encoding::percent_decode_str;
use s3s::access::{S3Access, S3AccessContext};
use s3s::path::S3Path;
use s3s::{S3Result, s3_error};

use super::store::Store;
use crate::server::authorize::{Access, Params, RequestFacts, S3Facts, SecureTransport};
use crate::server::protocol::S3_INVALID_TOKEN;
use crate::server::sigv4::query_pairs;

/// The hook's S3 face, with the store to tell whether a key exists.
#[derive(Debug)]
pub(super) struct Guard {
    access: Arc<Access>,
    store: Arc<Store>,
}

impl Guard {
    pub(super) fn new(access: Arc<Access>, store: Arc<Store>) -> Self {
        Self { access, store }
    }

    fn facts(&self, cx: &mut S3AccessContext<'_>) -> RequestFacts {
        // Put there by the accept loop, and kept by s3s in the request's extensions.
        let secure_transport = SecureTransport::of(cx.extensions_mut());
        let operation = cx.s3_op().name().to_owned();
        let (bucket, key) = match cx.s3_path() {
            S3Path::Root => (None, None),
            S3Path::Bucket { bucket } => (Some(bucket.to_string()), None),
            S3Path::Object { bucket, key } => (Some(bucket.to_string()), Some(key.to_string())),
        };
        let copy_source = cx
            .headers()
            .get("x-amz-copy-source")
            .and_then(|v| v.to_str().ok())
            .and_then(copy_source);
        let prefix = query_pairs(cx.uri().query().unwrap_or(""))
            .into_iter()
            .find(|(k, _)| k == "prefix")
            .map(|(_, v)| v);
        // Only a read needs it: S3 answers a missing key 403 to a caller that may not list.
        let object_exists = match (operation.as_str(), &bucket, &key) {
            ("GetObject" | "HeadObject", Some(bucket), Some(key)) => Some(
                self.store
                    .bucket(bucket)
                    .is_ok_and(|b| b.get(key).is_some()),
            ),
            _ => None,
        };
        RequestFacts {
            service: "s3".to_owned(),
            operation,
            params: Params::S3(S3Facts {
                bucket,
                key,
                copy_source,
                prefix,
                object_exists,
            }),
            secure_transport,
            region: None,
        }
    }
}

#[async_trait::async_trait]
impl S3Access for Guard {
    async fn check(&self, cx: &mut S3AccessContext<'_>) -> S3Result<()> {
        let Some(key_id) = cx.credentials().map(|c| c.access_key.clone()) else {
            // s3s's own default: an anonymous request is refused.
            return Err(s3_error!(AccessDenied, "Signature is required"));
        };
        // In a header, or in a presigned URL's query (`X-Amz-Security-Token`).
        let token = cx
            .headers()
            .get("x-amz-security-token")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
            .or_else(|| {
                query_pairs(cx.uri().query().unwrap_or(""))
                    .into_iter()
                    .find(|(k, _)| k == "X-Amz-Security-Token")
                    .map(|(_, v)| v)
            });
        if !self.access.callers.token_matches(&key_id, token.as_deref()) {
            return Err(s3_error!(InvalidToken, "{S3_INVALID_TOKEN}"));
        }
        if self.access.authorize.is_none() {
            return Ok(());
        }
        let facts = self.facts(cx);
        self.access.check(&key_id, &facts).map_err(|denied| {
            tracing::debug!(%denied, "local S3: request denied");
            s3_error!(AccessDenied, "{}", denied.message)
        })
    }
}

/// `x-amz-copy-source`: `[/]BUCKET/KEY[?versionId=...]`, percent-encoded.
fn copy_source(header: &str) -> Option<(String, String)> {
    let path = header.split('?').next().unwrap_or_default();
    let decoded = percent_decode_str(path).decode_utf8_lossy();
    let (bucket, key) = decoded.trim_start_matches('/').split_once('/')?;
    (!bucket.is_empty() && !key.is_empty()).then(|| (bucket.to_owned(), key.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_copy_source_is_bucket_and_decoded_key() {
        assert_eq!(
            copy_source("/b/images/a%20b.png?versionId=1"),
            Some(("b".into(), "images/a b.png".into()))
        );
        assert_eq!(copy_source("b/k"), Some(("b".into(), "k".into())));
        assert_eq!(copy_source("/b"), None);
    }
}
