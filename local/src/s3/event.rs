//! The S3 "object created" notification S3 sends for an upload, so local uploads reach the
//! start-execution handler in the same shape as on AWS.

use crate::server::CreatedBy;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde_json::{Value, json};

/// What S3 leaves alone when it URL-encodes a key for a notification (a space becomes `+`).
const KEY_SET: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~')
    .remove(b'*')
    .remove(b'/')
    .remove(b' ');

/// A key as S3 writes it in event notifications: URL-encoded, spaces as `+`.
pub fn encode_key(key: &str) -> String {
    utf8_percent_encode(key, KEY_SET)
        .to_string()
        .replace(' ', "+")
}

/// What the notification says about the object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upload<'a> {
    pub region: &'a str,
    pub bucket: &'a str,
    pub key: &'a str,
    pub size: u64,
    /// The ETag without quotes.
    pub etag: &'a str,
    /// S3's per-PUT ordering token (hex).
    pub sequencer: &'a str,
    /// RFC 3339.
    pub event_time: &'a str,
    /// PutObject, CopyObject or CompleteMultipartUpload.
    pub created_by: CreatedBy,
}

/// An `ObjectCreated:*` event notification for an unversioned bucket (no `versionId`).
pub fn object_created(upload: &Upload<'_>) -> Value {
    json!({"Records": [{
        "eventVersion": "2.1",
        "eventSource": "aws:s3",
        "awsRegion": upload.region,
        "eventTime": upload.event_time,
        "eventName": upload.created_by.event_name(),
        "userIdentity": {"principalId": "AWS:IMAGEGENLOCAL"},
        "requestParameters": {"sourceIPAddress": "127.0.0.1"},
        "responseElements": {
            "x-amz-request-id": "IMAGEGENLOCAL0001",
            "x-amz-id-2": "imagegen/local/upload"
        },
        "s3": {
            "s3SchemaVersion": "1.0",
            "configurationId": "imagegen-prompts",
            "bucket": {
                "name": upload.bucket,
                "ownerIdentity": {"principalId": "IMAGEGENLOCAL"},
                "arn": format!("arn:aws:s3:::{}", upload.bucket)
            },
            "object": {
                "key": encode_key(upload.key),
                "size": upload.size,
                "eTag": upload.etag,
                "sequencer": upload.sequencer
            }
        }
    }]})
}

/// A sequencer for a PUT now: hex, growing with time, as S3's are.
pub fn sequencer() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!("{nanos:018X}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_encoded_like_s3() {
        assert_eq!(
            encode_key("prompts/my first prompt, v2.txt"),
            "prompts/my+first+prompt%2C+v2.txt"
        );
        assert_eq!(
            encode_key("prompts/café+x.txt"),
            "prompts/caf%C3%A9%2Bx.txt"
        );
    }

    #[test]
    fn event_shape() {
        let e = object_created(&Upload {
            region: "us-east-1",
            bucket: "b",
            key: "prompts/a b.txt",
            size: 3,
            etag: "abc",
            sequencer: "01",
            event_time: "2024-01-01T00:00:00.000Z",
            created_by: CreatedBy::CompleteMultipartUpload,
        });
        assert_eq!(e["Records"][0]["s3"]["object"]["key"], "prompts/a+b.txt");
        assert_eq!(
            e["Records"][0]["eventName"],
            "ObjectCreated:CompleteMultipartUpload"
        );
        assert!(e["Records"][0]["s3"]["object"].get("versionId").is_none());
    }
}
