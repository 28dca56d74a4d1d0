#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use imagegen_aws::S3Store;
use imagegen_core::ports::{ObjectStore, StoreError};
use imagegen_local::FakeModelBehavior;

const BUCKET: &str = "imagegen-local";

#[tokio::test]
async fn put_get_through_the_sdk_lands_on_disk() {
    let (_dir, aws) = common::local("s3-put-get", FakeModelBehavior::default());
    let bucket_dir = aws.create_bucket(BUCKET).unwrap();
    let store = S3Store::new(aws.s3_client().unwrap());

    store
        .put(
            BUCKET,
            "prompts/a b/ünï.txt",
            b"a lighthouse".to_vec(),
            "text/plain",
        )
        .await
        .unwrap();
    assert_eq!(
        store
            .get(BUCKET, "prompts/a b/ünï.txt", None, 1024)
            .await
            .unwrap(),
        b"a lighthouse"
    );
    assert_eq!(
        std::fs::read(bucket_dir.join("prompts/a b/ünï.txt")).unwrap(),
        b"a lighthouse"
    );

    // A file dropped into the bucket directory is an object.
    std::fs::create_dir_all(bucket_dir.join("prompts")).unwrap();
    std::fs::write(bucket_dir.join("prompts/dropped.txt"), b"dropped").unwrap();
    assert_eq!(
        store
            .get(BUCKET, "prompts/dropped.txt", None, 1024)
            .await
            .unwrap(),
        b"dropped"
    );

    // The raw client sees the content type and can list.
    let s3 = aws.s3_client().unwrap();
    let head = s3
        .head_object()
        .bucket(BUCKET)
        .key("prompts/a b/ünï.txt")
        .send()
        .await
        .unwrap();
    assert_eq!(head.content_type(), Some("text/plain"));
    assert_eq!(head.content_length(), Some(12));
    let listed = s3
        .list_objects_v2()
        .bucket(BUCKET)
        .prefix("prompts/")
        .send()
        .await
        .unwrap();
    let mut keys: Vec<_> = listed.contents().iter().filter_map(|o| o.key()).collect();
    keys.sort_unstable();
    assert_eq!(keys, ["prompts/a b/ünï.txt", "prompts/dropped.txt"]);
}

#[tokio::test]
async fn missing_and_too_large() {
    let (_dir, aws) = common::local("s3-missing", FakeModelBehavior::default());
    aws.create_bucket(BUCKET).unwrap();
    let store = S3Store::new(aws.s3_client().unwrap());

    assert_eq!(
        store.get(BUCKET, "nope.txt", None, 10).await,
        Err(StoreError::NotFound {
            bucket: BUCKET.into(),
            key: "nope.txt".into()
        })
    );
    store
        .put(BUCKET, "big.txt", vec![b'x'; 100], "text/plain")
        .await
        .unwrap();
    assert!(matches!(
        store.get(BUCKET, "big.txt", None, 10).await,
        Err(StoreError::TooLarge {
            size: 100,
            limit: 10,
            ..
        })
    ));
    // A bucket that does not exist is an error, not a panic.
    assert!(store.get("no-such-bucket", "k", None, 10).await.is_err());
}

#[tokio::test]
async fn create_bucket_through_the_sdk_and_by_name() {
    let (_dir, aws) = common::local("s3-buckets", FakeModelBehavior::default());
    let s3 = aws.s3_client().unwrap();
    s3.create_bucket()
        .bucket("made-by-sdk")
        .send()
        .await
        .unwrap();
    assert!(aws.data_dir().s3_root().join("made-by-sdk").is_dir());
    // Idempotent by name; invalid names refused.
    aws.create_bucket("made-by-sdk").unwrap();
    assert!(aws.create_bucket("Bad_Name").is_err());
    assert!(aws.create_bucket("ab").is_err());
    assert!(aws.create_bucket("../escape").is_err());
}

#[tokio::test]
async fn presigned_url() {
    let (_dir, aws) = common::local("s3-presign", FakeModelBehavior::default());
    aws.create_bucket(BUCKET).unwrap();
    let store = S3Store::new(aws.s3_client().unwrap());
    let url = store
        .presign_get(BUCKET, "images/r/0.png", Duration::from_secs(3600))
        .await
        .unwrap();
    assert!(
        url.starts_with(&format!("http://localhost:4566/{BUCKET}/images/r/0.png?")),
        "{url}"
    );
    assert!(url.contains("X-Amz-Expires=3600"), "{url}");
    assert!(url.contains("X-Amz-Signature="), "{url}");
}

#[tokio::test]
async fn large_objects_round_trip() {
    let (_dir, aws) = common::local("s3-large", FakeModelBehavior::default());
    aws.create_bucket(BUCKET).unwrap();
    let store = S3Store::new(aws.s3_client().unwrap());
    let data: Vec<u8> = (0..6 * 1024 * 1024u32).map(|i| (i % 251) as u8).collect();
    store
        .put(BUCKET, "images/r/0.png", data.clone(), "image/png")
        .await
        .unwrap();
    let back = store
        .get(BUCKET, "images/r/0.png", None, 16 * 1024 * 1024)
        .await
        .unwrap();
    assert!(back == data, "round trip changed {} bytes", data.len());
}

#[tokio::test]
async fn a_create_only_put_never_replaces_an_object() {
    // The manifest relies on it: s3s-fs honours `If-None-Match: *` as S3 does.
    let (_dir, aws) = common::local("s3-put-new", FakeModelBehavior::default());
    aws.create_bucket(BUCKET).unwrap();
    let store = S3Store::new(aws.s3_client().unwrap());
    let key = "results/r1.json";
    store
        .put_new(BUCKET, key, b"first".to_vec(), "application/json")
        .await
        .unwrap();
    assert_eq!(
        store
            .put_new(BUCKET, key, b"second".to_vec(), "application/json")
            .await,
        Err(StoreError::AlreadyExists {
            bucket: BUCKET.into(),
            key: key.into()
        })
    );
    assert_eq!(store.get(BUCKET, key, None, 100).await.unwrap(), b"first");
}
