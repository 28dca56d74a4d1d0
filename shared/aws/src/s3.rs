use std::time::Duration;

use aws_sdk_s3::config::http::HttpResponse;
use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_s3::presigning::PresigningConfig;
use aws_sdk_s3::primitives::ByteStream;

use imagegen_core::ports::{ObjectStore, StoreError};

/// [`ObjectStore`] over `aws_sdk_s3::Client`.
#[derive(Debug, Clone)]
pub struct S3Store {
    client: aws_sdk_s3::Client,
}

impl S3Store {
    pub fn new(client: aws_sdk_s3::Client) -> Self {
        Self { client }
    }

    /// PutObject; `only_new` adds `If-None-Match: *`, so an existing key is `AlreadyExists`.
    async fn put_object(
        &self,
        bucket: &str,
        key: &str,
        body: Vec<u8>,
        content_type: &str,
        only_new: bool,
    ) -> Result<(), StoreError> {
        self.client
            .put_object()
            .bucket(bucket)
            .key(key)
            .content_type(content_type)
            .set_if_none_match(only_new.then(|| "*".to_owned()))
            .body(ByteStream::from(body))
            .send()
            .await
            .map_err(|e| {
                // S3 answers 412 PreconditionFailed when the key exists. (A 409
                // ConditionalRequestConflict, a racing write still in flight, is worth a retry and
                // stays an ordinary error.)
                if only_new
                    && (status_of(&e) == Some(412) || e.code() == Some("PreconditionFailed"))
                {
                    StoreError::AlreadyExists {
                        bucket: bucket.to_owned(),
                        key: key.to_owned(),
                    }
                } else {
                    classify(&e, false, bucket, key)
                }
            })?;
        Ok(())
    }
}

fn status_of<E>(err: &SdkError<E, HttpResponse>) -> Option<u16> {
    err.raw_response().map(|r| r.status().as_u16())
}

/// `missing` says whether the operation's own typed error means "no such object".
fn classify<E>(
    err: &SdkError<E, HttpResponse>,
    missing: bool,
    bucket: &str,
    key: &str,
) -> StoreError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let status = status_of(err);
    let code = err.code().unwrap_or_default();
    let not_found = missing || matches!(code, "NoSuchKey" | "NotFound" | "NoSuchVersion");
    if not_found || status == Some(404) {
        StoreError::NotFound {
            bucket: bucket.to_owned(),
            key: key.to_owned(),
        }
    } else if code == "AccessDenied" || status == Some(403) {
        StoreError::AccessDenied {
            bucket: bucket.to_owned(),
            key: key.to_owned(),
            why: crate::error_text(err),
        }
    } else {
        StoreError::Other(format!(
            "S3 refused s3://{bucket}/{key} ({})",
            crate::error_text(err)
        ))
    }
}

impl ObjectStore for S3Store {
    async fn get(
        &self,
        bucket: &str,
        key: &str,
        version_id: Option<&str>,
        max_bytes: u64,
    ) -> Result<Vec<u8>, StoreError> {
        let out = self
            .client
            .get_object()
            .bucket(bucket)
            .key(key)
            .set_version_id(version_id.map(str::to_owned))
            .send()
            .await
            .map_err(|e| {
                let missing = e.as_service_error().is_some_and(|s| s.is_no_such_key());
                classify(&e, missing, bucket, key)
            })?;
        let too_large = |size| StoreError::TooLarge {
            bucket: bucket.to_owned(),
            key: key.to_owned(),
            size,
            limit: max_bytes,
        };
        let declared = out.content_length().and_then(|n| u64::try_from(n).ok());
        if let Some(size) = declared.filter(|&n| n > max_bytes) {
            return Err(too_large(size));
        }
        let mut body = out.body;
        let mut data = Vec::with_capacity(declared.unwrap_or(0).min(max_bytes) as usize);
        while let Some(chunk) = body.next().await {
            let chunk = chunk.map_err(|e| {
                StoreError::Other(format!("reading s3://{bucket}/{key} failed: {e}"))
            })?;
            data.extend_from_slice(&chunk);
            if data.len() as u64 > max_bytes {
                return Err(too_large(data.len() as u64));
            }
        }
        Ok(data)
    }

    async fn put(
        &self,
        bucket: &str,
        key: &str,
        body: Vec<u8>,
        content_type: &str,
    ) -> Result<(), StoreError> {
        self.put_object(bucket, key, body, content_type, false)
            .await
    }

    async fn put_new(
        &self,
        bucket: &str,
        key: &str,
        body: Vec<u8>,
        content_type: &str,
    ) -> Result<(), StoreError> {
        self.put_object(bucket, key, body, content_type, true).await
    }

    async fn delete(&self, bucket: &str, key: &str) -> Result<(), StoreError> {
        self.client
            .delete_object()
            .bucket(bucket)
            .key(key)
            .send()
            .await
            .map_err(|e| classify(&e, false, bucket, key))?;
        Ok(())
    }

    async fn presign_get(
        &self,
        bucket: &str,
        key: &str,
        expires_in: Duration,
    ) -> Result<String, StoreError> {
        let config = PresigningConfig::expires_in(expires_in)
            .map_err(|e| StoreError::Other(format!("presigning config: {e}")))?;
        let request = self
            .client
            .get_object()
            .bucket(bucket)
            .key(key)
            .presigned(config)
            .await
            .map_err(|e| classify(&e, false, bucket, key))?;
        Ok(request.uri().to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_s3::operation::get_object::{GetObjectError, GetObjectOutput};
    use aws_sdk_s3::operation::put_object::PutObjectOutput;
    use aws_sdk_s3::types::error::NoSuchKey;
    use aws_smithy_mocks::{RuleMode, mock, mock_client};
    use aws_smithy_runtime_api::http::StatusCode;
    use aws_smithy_types::body::SdkBody;

    #[tokio::test]
    async fn get_reads_the_body() {
        let rule = mock!(aws_sdk_s3::Client::get_object)
            .match_requests(|r| r.bucket() == Some("b") && r.key() == Some("k"))
            .then_output(|| {
                GetObjectOutput::builder()
                    .content_length(5)
                    .body(ByteStream::from_static(b"hello"))
                    .build()
            });
        let store = S3Store::new(mock_client!(aws_sdk_s3, [&rule]));
        assert_eq!(store.get("b", "k", None, 10).await.unwrap(), b"hello");
    }

    #[tokio::test]
    async fn get_refuses_a_large_object_from_its_declared_length() {
        let rule = mock!(aws_sdk_s3::Client::get_object).then_output(|| {
            GetObjectOutput::builder()
                .content_length(1_000_000)
                .body(ByteStream::from_static(b"x"))
                .build()
        });
        let store = S3Store::new(mock_client!(aws_sdk_s3, [&rule]));
        assert!(matches!(
            store.get("b", "k", None, 10).await,
            Err(StoreError::TooLarge {
                size: 1_000_000,
                limit: 10,
                ..
            })
        ));
    }

    #[tokio::test]
    async fn get_refuses_a_large_body_without_a_length() {
        let rule = mock!(aws_sdk_s3::Client::get_object).then_output(|| {
            GetObjectOutput::builder()
                .body(ByteStream::from_static(b"0123456789abc"))
                .build()
        });
        let store = S3Store::new(mock_client!(aws_sdk_s3, [&rule]));
        assert!(matches!(
            store.get("b", "k", None, 10).await,
            Err(StoreError::TooLarge { .. })
        ));
    }

    #[tokio::test]
    async fn missing_object_is_not_found() {
        let rule = mock!(aws_sdk_s3::Client::get_object)
            .then_error(|| GetObjectError::NoSuchKey(NoSuchKey::builder().build()));
        let store = S3Store::new(mock_client!(aws_sdk_s3, [&rule]));
        assert_eq!(
            store.get("b", "k", None, 10).await,
            Err(StoreError::NotFound {
                bucket: "b".into(),
                key: "k".into()
            })
        );
    }

    /// Issue item 8: an S3 error without a message put `ServiceError(ServiceError { ... SdkBody ...`
    /// into the failure email.
    #[tokio::test]
    async fn errors_without_a_message_are_still_a_sentence() {
        let rule = mock!(aws_sdk_s3::Client::get_object).then_http_response(|| {
            aws_smithy_runtime_api::http::Response::new(
                aws_smithy_runtime_api::http::StatusCode::try_from(500).unwrap(),
                aws_smithy_types::body::SdkBody::from("<Error><Code>InternalError</Code></Error>"),
            )
        });
        let store = S3Store::new(mock_client!(aws_sdk_s3, [&rule]));
        let err = store.get("b", "k", None, 10).await.unwrap_err().to_string();
        assert_eq!(err, "S3 refused s3://b/k (InternalError)");
    }

    #[tokio::test]
    async fn put_new_sends_if_none_match_and_reports_an_existing_key() {
        let created = mock!(aws_sdk_s3::Client::put_object)
            .match_requests(|r| r.if_none_match() == Some("*") && r.key() == Some("new"))
            .then_output(|| PutObjectOutput::builder().build());
        let exists = mock!(aws_sdk_s3::Client::put_object)
            .match_requests(|r| r.if_none_match() == Some("*") && r.key() == Some("old"))
            .then_http_response(|| {
                HttpResponse::new(
                    StatusCode::try_from(412).unwrap(),
                    SdkBody::from(
                        "<Error><Code>PreconditionFailed</Code><Message>At least one of the \
                         pre-conditions you specified did not hold</Message></Error>",
                    ),
                )
            });
        let store = S3Store::new(mock_client!(
            aws_sdk_s3,
            RuleMode::MatchAny,
            [&created, &exists]
        ));
        assert_eq!(store.put_new("b", "new", vec![1], "x/y").await, Ok(()));
        assert_eq!(
            store.put_new("b", "old", vec![1], "x/y").await,
            Err(StoreError::AlreadyExists {
                bucket: "b".into(),
                key: "old".into()
            })
        );
        assert_eq!((created.num_calls(), exists.num_calls()), (1, 1));
    }

    #[tokio::test]
    async fn a_conflicting_write_in_flight_is_not_already_exists() {
        let conflict = mock!(aws_sdk_s3::Client::put_object).then_http_response(|| {
            HttpResponse::new(
                StatusCode::try_from(409).unwrap(),
                SdkBody::from(
                    "<Error><Code>ConditionalRequestConflict</Code><Message>retry</Message></Error>",
                ),
            )
        });
        let store = S3Store::new(mock_client!(aws_sdk_s3, [&conflict]));
        let err = store.put_new("b", "k", vec![1], "x/y").await.unwrap_err();
        assert!(matches!(err, StoreError::Other(_)), "{err}");
    }

    #[tokio::test]
    async fn presigned_url_has_the_expiry() {
        let conf = aws_sdk_s3::Config::builder()
            .behavior_version(aws_sdk_s3::config::BehaviorVersion::latest())
            .region(aws_sdk_s3::config::Region::new("us-east-1"))
            .credentials_provider(aws_sdk_s3::config::Credentials::for_tests())
            .build();
        let store = S3Store::new(aws_sdk_s3::Client::from_conf(conf));
        let url = store
            .presign_get("bucket", "images/r/0.png", Duration::from_secs(3600))
            .await
            .unwrap();
        assert!(url.contains("images/r/0.png"), "{url}");
        assert!(url.contains("X-Amz-Expires=3600"), "{url}");
    }
}
