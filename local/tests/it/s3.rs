#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use std::time::Duration;

use imagegen_aws::S3Store;
use imagegen_core::ports::{ObjectStore, StoreError};
use imagegen_local::FakeModelBehavior;

const BUCKET: &str = "imagegen-local";

#[tokio::test]
async fn put_get_through_the_sdk_lands_on_disk() {
    let (_dir, aws) = common::local("s3-put-get", FakeModelBehavior::default());
    let bucket_dir = aws.create_bucket(BUCKET).unwrap();
    let store = S3Store::new(aws.s3_client());

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
    // The data file holds the object's bytes as uploaded, inside the bucket's directory.
    let path =
        imagegen_local::s3::object_path(&aws.data_dir().s3_root(), BUCKET, "prompts/a b/ünï.txt");
    assert!(path.starts_with(&bucket_dir), "{}", path.display());
    assert!(
        path.to_string_lossy().ends_with(".txt"),
        "{}",
        path.display()
    );
    assert_eq!(std::fs::read(&path).unwrap(), b"a lighthouse");
    store
        .put(BUCKET, "prompts/other.txt", b"other".to_vec(), "text/plain")
        .await
        .unwrap();

    // The raw client sees the content type and can list.
    let s3 = aws.s3_client();
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
    assert_eq!(keys, ["prompts/a b/ünï.txt", "prompts/other.txt"]);
}

#[tokio::test]
async fn missing_and_too_large() {
    let (_dir, aws) = common::local("s3-missing", FakeModelBehavior::default());
    aws.create_bucket(BUCKET).unwrap();
    let store = S3Store::new(aws.s3_client());

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
    let s3 = aws.s3_client();
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
    let store = S3Store::new(aws.s3_client());
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
    let store = S3Store::new(aws.s3_client());
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

/// Issue item 5: a key of about 155 bytes or more was an S3 InternalError locally; S3 takes 1,024.
/// Keys that cannot be file names (`..`, empty segments, very long segments) are kept too, always
/// inside the bucket's directory.
#[tokio::test]
async fn every_key_s3_takes_is_stored_and_listed() {
    let (_dir, aws) = common::local("s3-long-keys", FakeModelBehavior::default());
    let bucket_dir = aws.create_bucket(BUCKET).unwrap();
    let store = S3Store::new(aws.s3_client());
    let keys = [
        format!("prompts/{}.txt", "a".repeat(150)),
        format!("prompts/{}.txt", "b".repeat(1012)),
        format!("prompts/{}", "é".repeat(508)),
        "prompts/../../escape.txt".to_owned(),
        "prompts//double.txt".to_owned(),
        "prompts/./dot.txt".to_owned(),
    ];
    for key in &keys {
        assert!(key.len() <= 1024);
        store
            .put(BUCKET, key, key.as_bytes().to_vec(), "text/plain")
            .await
            .unwrap_or_else(|e| panic!("{key}: {e}"));
        assert_eq!(
            store.get(BUCKET, key, None, 4096).await.unwrap(),
            key.as_bytes()
        );
        let path = imagegen_local::s3::object_path(&aws.data_dir().s3_root(), BUCKET, key);
        assert!(path.starts_with(&bucket_dir), "{}", path.display());
        assert_eq!(std::fs::read(&path).unwrap(), key.as_bytes());
    }
    assert!(!aws.data_dir().s3_root().join("escape.txt").exists());
    let listed = aws
        .s3_client()
        .list_objects_v2()
        .bucket(BUCKET)
        .prefix("prompts/")
        .send()
        .await
        .unwrap();
    let mut got: Vec<&str> = listed.contents().iter().filter_map(|o| o.key()).collect();
    got.sort_unstable();
    let mut want: Vec<&str> = keys.iter().map(String::as_str).collect();
    want.sort_unstable();
    assert_eq!(got, want);
    for key in &keys {
        store.delete(BUCKET, key).await.unwrap();
        assert!(matches!(
            store.get(BUCKET, key, None, 4096).await,
            Err(StoreError::NotFound { .. })
        ));
    }
}

/// `If-None-Match: *` is atomic: of many writers racing to create one key, exactly one wins (and
/// none fails: separate clients share the data directory's one store).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn conditional_writes_have_one_winner() {
    let (_dir, aws) = common::local("s3-conditional", FakeModelBehavior::default());
    aws.create_bucket(BUCKET).unwrap();
    for round in 0..10 {
        let key = format!("notifications/run-{round}.json");
        let writers: Vec<_> = (0..8)
            .map(|i| {
                // Separate clients, as separate senders in one process have.
                let store = S3Store::new(aws.s3_client());
                let key = key.clone();
                tokio::spawn(async move {
                    match store
                        .put_new(
                            BUCKET,
                            &key,
                            format!("{i}").into_bytes(),
                            "application/json",
                        )
                        .await
                    {
                        Ok(()) => true,
                        Err(StoreError::AlreadyExists { .. }) => false,
                        Err(e) => panic!("{e}"),
                    }
                })
            })
            .collect();
        let mut wins = 0;
        for writer in writers {
            if writer.await.unwrap() {
                wins += 1;
            }
        }
        assert_eq!(wins, 1, "round {round}");
    }
}

#[tokio::test]
async fn a_create_only_put_never_replaces_an_object() {
    // The manifest relies on it: the store honours `If-None-Match: *` as S3 does.
    let (_dir, aws) = common::local("s3-put-new", FakeModelBehavior::default());
    aws.create_bucket(BUCKET).unwrap();
    let store = S3Store::new(aws.s3_client());
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

// ---- S3's semantics, through the real SDK client (issue 27) ----

use aws_sdk_s3::error::ProvideErrorMetadata;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{
    ChecksumAlgorithm, ChecksumMode, CompletedMultipartUpload, CompletedPart, Delete,
    MetadataDirective, ObjectIdentifier,
};

const MIB: usize = 1024 * 1024;

/// The S3 error code of a failed call.
fn code<E: ProvideErrorMetadata>(e: &E) -> String {
    e.code().unwrap_or("<none>").to_owned()
}

async fn put(s3: &aws_sdk_s3::Client, bucket: &str, key: &str, body: &[u8]) {
    s3.put_object()
        .bucket(bucket)
        .key(key)
        .body(ByteStream::from(body.to_vec()))
        .send()
        .await
        .unwrap_or_else(|e| panic!("put {key}: {e:?}"));
}

async fn get(s3: &aws_sdk_s3::Client, bucket: &str, key: &str) -> Vec<u8> {
    s3.get_object()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .unwrap_or_else(|e| panic!("get {key}: {e:?}"))
        .body
        .collect()
        .await
        .unwrap()
        .to_vec()
}

/// The data-loss bug: `aws s3 rb` of a non-empty bucket deleted it and every object in it.
#[tokio::test]
async fn deleting_a_non_empty_bucket_is_refused_and_keeps_every_object() {
    let (_dir, aws) = common::local("s3-rb", FakeModelBehavior::default());
    let s3 = aws.s3_client();
    s3.create_bucket().bucket("keep").send().await.unwrap();
    for key in ["a.txt", "dir/b.txt", "dir/"] {
        put(&s3, "keep", key, key.as_bytes()).await;
    }
    let err = s3.delete_bucket().bucket("keep").send().await.unwrap_err();
    assert_eq!(code(&err), "BucketNotEmpty");
    for key in ["a.txt", "dir/b.txt", "dir/"] {
        assert_eq!(get(&s3, "keep", key).await, key.as_bytes());
    }
    // An unfinished multipart upload goes with its bucket, as on S3 (cleanup tools rely on it).
    s3.create_bucket().bucket("uploading").send().await.unwrap();
    s3.create_multipart_upload()
        .bucket("uploading")
        .key("big")
        .send()
        .await
        .unwrap();
    s3.delete_bucket().bucket("uploading").send().await.unwrap();
    let err = s3
        .head_bucket()
        .bucket("uploading")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.raw_response().map(|r| r.status().as_u16()), Some(404));
    // An older data directory's object (imported when the bucket is first used) keeps its bucket.
    s3.create_bucket().bucket("older").send().await.unwrap();
    let legacy = aws.data_dir().s3_root().join("older").join("prompts");
    std::fs::create_dir_all(&legacy).unwrap();
    std::fs::write(legacy.join("a.txt"), "kept").unwrap();
    let err = s3.delete_bucket().bucket("older").send().await.unwrap_err();
    assert_eq!(code(&err), "BucketNotEmpty");
    assert_eq!(get(&s3, "older", "prompts/a.txt").await, b"kept");
    // A file the store cannot take as an object (a name that is not UTF-8) keeps it too.
    s3.create_bucket().bucket("odd").send().await.unwrap();
    let odd = aws.data_dir().s3_root().join("odd");
    let name = <std::ffi::OsStr as std::os::unix::ffi::OsStrExt>::from_bytes(b"not-utf8-\xff");
    std::fs::write(odd.join(name), "kept").unwrap();
    let err = s3.delete_bucket().bucket("odd").send().await.unwrap_err();
    assert_eq!(code(&err), "BucketNotEmpty");
    assert_eq!(std::fs::read(odd.join(name)).unwrap(), b"kept");
    // Creating a bucket you own in us-east-1 answers 200.
    s3.create_bucket().bucket("keep").send().await.unwrap();
    let names: Vec<String> = s3
        .list_buckets()
        .send()
        .await
        .unwrap()
        .buckets()
        .iter()
        .filter_map(|b| b.name().map(str::to_owned))
        .collect();
    assert_eq!(names, ["keep", "odd", "older"]);
    s3.get_bucket_location()
        .bucket("keep")
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn object_operations_on_a_missing_bucket_are_no_such_bucket() {
    let (_dir, aws) = common::local("s3-nobucket", FakeModelBehavior::default());
    let s3 = aws.s3_client();
    let err = s3
        .put_object()
        .bucket("nope-bucket")
        .key("k")
        .body(ByteStream::from_static(b"x"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "NoSuchBucket");
    assert!(!aws.data_dir().s3_root().join("nope-bucket").exists());
    let err = s3
        .get_object()
        .bucket("nope-bucket")
        .key("k")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "NoSuchBucket");
    aws.create_bucket(BUCKET).unwrap();
    let err = s3
        .get_object()
        .bucket(BUCKET)
        .key("k")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "NoSuchKey");
    // Deleting a missing key succeeds (204).
    s3.delete_object()
        .bucket(BUCKET)
        .key("k")
        .send()
        .await
        .unwrap();
}

/// The corruption bug: a deleted object's checksum came back on the object re-created by a
/// multipart upload, and clients that validate it failed.
#[tokio::test]
async fn a_recreated_object_never_serves_the_old_checksum() {
    let (_dir, aws) = common::local("s3-stale-checksum", FakeModelBehavior::default());
    aws.create_bucket(BUCKET).unwrap();
    let s3 = aws.s3_client();
    let key = "copies/o2.txt";
    let old = s3
        .put_object()
        .bucket(BUCKET)
        .key(key)
        .body(ByteStream::from_static(b"the old object"))
        .checksum_algorithm(ChecksumAlgorithm::Crc32)
        .send()
        .await
        .unwrap();
    let old_crc = old.checksum_crc32().unwrap().to_owned();
    s3.delete_object()
        .bucket(BUCKET)
        .key(key)
        .send()
        .await
        .unwrap();

    let data: Vec<u8> = (0..6 * MIB + 17).map(|i| (i % 253) as u8).collect();
    let upload = s3
        .create_multipart_upload()
        .bucket(BUCKET)
        .key(key)
        .send()
        .await
        .unwrap();
    let id = upload.upload_id().unwrap();
    let mut parts = Vec::new();
    for (n, chunk) in data.chunks(5 * MIB).enumerate() {
        let n = i32::try_from(n + 1).unwrap();
        let part = s3
            .upload_part()
            .bucket(BUCKET)
            .key(key)
            .upload_id(id)
            .part_number(n)
            .body(ByteStream::from(chunk.to_vec()))
            .send()
            .await
            .unwrap();
        parts.push(
            CompletedPart::builder()
                .part_number(n)
                .e_tag(part.e_tag().unwrap())
                .build(),
        );
    }
    let done = s3
        .complete_multipart_upload()
        .bucket(BUCKET)
        .key(key)
        .upload_id(id)
        .multipart_upload(
            CompletedMultipartUpload::builder()
                .set_parts(Some(parts))
                .build(),
        )
        .send()
        .await
        .unwrap();
    assert!(
        done.e_tag().unwrap().ends_with("-2\""),
        "{:?}",
        done.e_tag()
    );
    let head = s3
        .head_object()
        .bucket(BUCKET)
        .key(key)
        .checksum_mode(ChecksumMode::Enabled)
        .send()
        .await
        .unwrap();
    assert_ne!(head.checksum_crc32(), Some(old_crc.as_str()));
    assert_eq!(head.content_length(), Some(data.len() as i64));
    // The SDK validates any full-object checksum the answer carries.
    let got = s3
        .get_object()
        .bucket(BUCKET)
        .key(key)
        .checksum_mode(ChecksumMode::Enabled)
        .send()
        .await
        .unwrap()
        .body
        .collect()
        .await
        .unwrap()
        .to_vec();
    assert!(got == data);
}

#[tokio::test]
async fn multipart_uploads_follow_s3s_rules() {
    let (dir, aws) = common::local("s3-multipart", FakeModelBehavior::default());
    aws.create_bucket(BUCKET).unwrap();
    let s3 = aws.s3_client();
    let key = "big/object.bin";
    let upload = s3
        .create_multipart_upload()
        .bucket(BUCKET)
        .key(key)
        .checksum_algorithm(ChecksumAlgorithm::Crc32)
        .send()
        .await
        .unwrap();
    let id = upload.upload_id().unwrap().to_owned();
    let small = s3
        .upload_part()
        .bucket(BUCKET)
        .key(key)
        .upload_id(&id)
        .part_number(1)
        .body(ByteStream::from_static(b"too small"))
        .send()
        .await
        .unwrap();
    let last = s3
        .upload_part()
        .bucket(BUCKET)
        .key(key)
        .upload_id(&id)
        .part_number(2)
        .body(ByteStream::from_static(b"end"))
        .send()
        .await
        .unwrap();
    let complete = |parts: Vec<(i32, &str)>| {
        let s3 = s3.clone();
        let id = id.clone();
        let parts: Vec<CompletedPart> = parts
            .into_iter()
            .map(|(n, e)| CompletedPart::builder().part_number(n).e_tag(e).build())
            .collect();
        async move {
            s3.complete_multipart_upload()
                .bucket(BUCKET)
                .key(key)
                .upload_id(id)
                .multipart_upload(
                    CompletedMultipartUpload::builder()
                        .set_parts(Some(parts))
                        .build(),
                )
                .send()
                .await
        }
    };
    let (e1, e2) = (small.e_tag().unwrap(), last.e_tag().unwrap());
    let err = complete(vec![(2, e2), (1, e1)]).await.unwrap_err();
    assert_eq!(code(&err), "InvalidPartOrder");
    let err = complete(vec![(1, e2), (2, e2)]).await.unwrap_err();
    assert_eq!(code(&err), "InvalidPart");
    let err = complete(vec![(1, e1), (2, e2)]).await.unwrap_err();
    assert_eq!(code(&err), "EntityTooSmall");

    // Uploads survive a restart: listed, their parts listed, completable.
    let options = aws.options().clone();
    drop(aws);
    let aws = imagegen_local::LocalAws::open_with(
        dir.path().join("data"),
        options,
        FakeModelBehavior::default(),
    )
    .unwrap();
    let s3 = aws.s3_client();
    let listed = s3
        .list_multipart_uploads()
        .bucket(BUCKET)
        .send()
        .await
        .unwrap();
    assert_eq!(listed.uploads().len(), 1);
    assert_eq!(listed.uploads()[0].upload_id(), Some(id.as_str()));
    let parts = s3
        .list_parts()
        .bucket(BUCKET)
        .key(key)
        .upload_id(&id)
        .send()
        .await
        .unwrap();
    assert_eq!(parts.parts().len(), 2);
    let big: Vec<u8> = vec![7; 5 * MIB];
    let first = s3
        .upload_part()
        .bucket(BUCKET)
        .key(key)
        .upload_id(&id)
        .part_number(1)
        .body(ByteStream::from(big.clone()))
        .send()
        .await
        .unwrap();
    let first_etag = first.e_tag().unwrap().to_owned();
    let complete = |s3: aws_sdk_s3::Client, id: String, parts: Vec<(i32, String)>| async move {
        let parts: Vec<CompletedPart> = parts
            .into_iter()
            .map(|(n, e)| CompletedPart::builder().part_number(n).e_tag(e).build())
            .collect();
        s3.complete_multipart_upload()
            .bucket(BUCKET)
            .key(key)
            .upload_id(id)
            .multipart_upload(
                CompletedMultipartUpload::builder()
                    .set_parts(Some(parts))
                    .build(),
            )
            .send()
            .await
    };
    let parts = vec![(1, first_etag), (2, e2.to_owned())];
    complete(s3.clone(), id.clone(), parts.clone())
        .await
        .unwrap();
    let mut want = big.clone();
    want.extend_from_slice(b"end");
    assert!(get(&s3, BUCKET, key).await == want);
    // Completing again (a retry whose first answer was lost) answers as the first time while
    // the object it made is there (`server::s3_front_door_answers_as_s3_does`: not once the key
    // holds another object); an unknown upload: NoSuchUpload (404).
    let again = complete(s3.clone(), id.clone(), parts.clone())
        .await
        .unwrap();
    assert!(again.e_tag().unwrap().ends_with("-2\""), "{again:?}");
    let err = complete(s3.clone(), "no-such-upload".into(), parts)
        .await
        .unwrap_err();
    assert_eq!(code(&err), "NoSuchUpload");
    assert_eq!(err.raw_response().map(|r| r.status().as_u16()), Some(404));
    assert!(
        s3.list_multipart_uploads()
            .bucket(BUCKET)
            .send()
            .await
            .unwrap()
            .uploads()
            .is_empty()
    );

    // UploadPartCopy: a range of an existing object as a part.
    let copy = s3
        .create_multipart_upload()
        .bucket(BUCKET)
        .key("copy.bin")
        .send()
        .await
        .unwrap();
    let copy_id = copy.upload_id().unwrap().to_owned();
    let mut copied = Vec::new();
    for (n, range) in [
        (1, format!("bytes=0-{}", 5 * MIB - 1)),
        (2, format!("bytes={}-{}", 5 * MIB, want.len() - 1)),
    ] {
        let part = s3
            .upload_part_copy()
            .bucket(BUCKET)
            .key("copy.bin")
            .upload_id(&copy_id)
            .part_number(n)
            .copy_source(format!("{BUCKET}/{key}"))
            .copy_source_range(range)
            .send()
            .await
            .unwrap();
        copied.push((
            n,
            part.copy_part_result().unwrap().e_tag().unwrap().to_owned(),
        ));
    }
    let parts: Vec<CompletedPart> = copied
        .into_iter()
        .map(|(n, e)| CompletedPart::builder().part_number(n).e_tag(e).build())
        .collect();
    s3.complete_multipart_upload()
        .bucket(BUCKET)
        .key("copy.bin")
        .upload_id(&copy_id)
        .multipart_upload(
            CompletedMultipartUpload::builder()
                .set_parts(Some(parts))
                .build(),
        )
        .send()
        .await
        .unwrap();
    assert!(get(&s3, BUCKET, "copy.bin").await == want);
}

/// Keys are not paths.
#[tokio::test]
async fn an_object_and_a_folder_of_the_same_name_coexist() {
    let (_dir, aws) = common::local("s3-keys", FakeModelBehavior::default());
    aws.create_bucket(BUCKET).unwrap();
    let s3 = aws.s3_client();
    let keys = ["foo/bar", "foo/bar/xyzzy", "foo/bar/", "a/", "a"];
    for key in keys {
        put(&s3, BUCKET, key, key.as_bytes()).await;
    }
    for key in keys {
        assert_eq!(get(&s3, BUCKET, key).await, key.as_bytes());
    }
    let listed = s3
        .list_objects_v2()
        .bucket(BUCKET)
        .prefix("foo/")
        .delimiter("/")
        .send()
        .await
        .unwrap();
    let objects: Vec<&str> = listed.contents().iter().filter_map(|o| o.key()).collect();
    let prefixes: Vec<&str> = listed
        .common_prefixes()
        .iter()
        .filter_map(|p| p.prefix())
        .collect();
    assert_eq!(objects, ["foo/bar"]);
    assert_eq!(prefixes, ["foo/bar/"]);
    s3.delete_object()
        .bucket(BUCKET)
        .key("foo/bar")
        .send()
        .await
        .unwrap();
    assert_eq!(get(&s3, BUCKET, "foo/bar/xyzzy").await, b"foo/bar/xyzzy");
}

/// rclone sends `delimiter=` on every recursive listing: S3 takes it as no delimiter.
#[tokio::test]
async fn an_empty_delimiter_is_no_delimiter() {
    let (_dir, aws) = common::local("s3-empty-delim", FakeModelBehavior::default());
    aws.create_bucket(BUCKET).unwrap();
    let s3 = aws.s3_client();
    for key in ["p/apple", "p/banana/split", "p/cherry"] {
        put(&s3, BUCKET, key, b"x").await;
    }
    let listed = s3
        .list_objects_v2()
        .bucket(BUCKET)
        .prefix("p/")
        .delimiter("")
        .send()
        .await
        .unwrap();
    let keys: Vec<&str> = listed.contents().iter().filter_map(|o| o.key()).collect();
    assert_eq!(keys, ["p/apple", "p/banana/split", "p/cherry"]);
    assert!(listed.common_prefixes().is_empty());
}

/// ListObjects v1 (s3cmd, rclone's default for `provider = Other`), with marker paging.
#[tokio::test]
async fn list_objects_v1_pages_with_markers() {
    let (_dir, aws) = common::local("s3-v1", FakeModelBehavior::default());
    aws.create_bucket(BUCKET).unwrap();
    let s3 = aws.s3_client();
    let keys = ["a", "b/1", "b/2", "c", "d é"];
    for key in keys {
        put(&s3, BUCKET, key, b"x").await;
    }
    let mut seen = Vec::new();
    let mut marker: Option<String> = None;
    loop {
        let page = s3
            .list_objects()
            .bucket(BUCKET)
            .max_keys(2)
            .set_marker(marker.clone())
            .send()
            .await
            .unwrap();
        // No delimiter: no NextMarker; the client continues from the last key.
        assert_eq!(page.next_marker(), None);
        seen.extend(
            page.contents()
                .iter()
                .filter_map(|o| o.key().map(str::to_owned)),
        );
        if !page.is_truncated().unwrap_or(false) {
            break;
        }
        marker = seen.last().cloned();
    }
    assert_eq!(seen, keys);
    let page = s3
        .list_objects()
        .bucket(BUCKET)
        .delimiter("/")
        .max_keys(2)
        .send()
        .await
        .unwrap();
    assert_eq!(page.is_truncated(), Some(true));
    assert_eq!(page.next_marker(), Some("b/"));
    let rest = s3
        .list_objects()
        .bucket(BUCKET)
        .delimiter("/")
        .marker("b/")
        .send()
        .await
        .unwrap();
    let rest: Vec<&str> = rest.contents().iter().filter_map(|o| o.key()).collect();
    assert_eq!(rest, ["c", "d é"]);

    // V2: opaque continuation tokens, start-after, and common prefixes counting toward max-keys.
    let mut seen = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let page = s3
            .list_objects_v2()
            .bucket(BUCKET)
            .delimiter("/")
            .max_keys(1)
            .set_continuation_token(token.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(page.key_count(), Some(1));
        seen.extend(
            page.contents()
                .iter()
                .filter_map(|o| o.key().map(str::to_owned)),
        );
        seen.extend(
            page.common_prefixes()
                .iter()
                .filter_map(|p| p.prefix().map(str::to_owned)),
        );
        token = page.next_continuation_token().map(str::to_owned);
        if token.is_none() {
            break;
        }
    }
    assert_eq!(seen, ["a", "b/", "c", "d é"]);
    let after = s3
        .list_objects_v2()
        .bucket(BUCKET)
        .start_after("b/1")
        .send()
        .await
        .unwrap();
    let after: Vec<&str> = after.contents().iter().filter_map(|o| o.key()).collect();
    assert_eq!(after, ["b/2", "c", "d é"]);

    // ListObjectVersions of an unversioned bucket, and a batch delete with a missing key.
    let versions = s3
        .list_object_versions()
        .bucket(BUCKET)
        .send()
        .await
        .unwrap();
    assert_eq!(versions.versions().len(), keys.len());
    assert!(
        versions
            .versions()
            .iter()
            .all(|v| v.version_id() == Some("null") && v.is_latest() == Some(true))
    );
    let ids: Vec<ObjectIdentifier> = ["a", "b/1", "missing"]
        .into_iter()
        .map(|k| ObjectIdentifier::builder().key(k).build().unwrap())
        .collect();
    let deleted = s3
        .delete_objects()
        .bucket(BUCKET)
        .delete(Delete::builder().set_objects(Some(ids)).build().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.deleted().len(), 3);
    assert!(deleted.errors().is_empty());
    let left = s3.list_objects_v2().bucket(BUCKET).send().await.unwrap();
    let left: Vec<&str> = left.contents().iter().filter_map(|o| o.key()).collect();
    assert_eq!(left, ["b/2", "c", "d é"]);
}

fn status<E>(
    e: &aws_sdk_s3::error::SdkError<E, aws_sdk_s3::config::http::HttpResponse>,
) -> Option<u16> {
    e.raw_response().map(|r| r.status().as_u16())
}

#[tokio::test]
async fn conditional_requests_and_ranges() {
    let (_dir, aws) = common::local("s3-conditions", FakeModelBehavior::default());
    aws.create_bucket(BUCKET).unwrap();
    let s3 = aws.s3_client();
    put(&s3, BUCKET, "k", b"0123456789").await;
    let etag = s3
        .head_object()
        .bucket(BUCKET)
        .key("k")
        .send()
        .await
        .unwrap()
        .e_tag()
        .unwrap()
        .to_owned();
    let err = s3
        .get_object()
        .bucket(BUCKET)
        .key("k")
        .if_match("\"nope\"")
        .send()
        .await
        .unwrap_err();
    assert_eq!(status(&err), Some(412));
    let err = s3
        .get_object()
        .bucket(BUCKET)
        .key("k")
        .if_none_match(&etag)
        .send()
        .await
        .unwrap_err();
    assert_eq!(status(&err), Some(304));
    // A 304 carries the ETag (and Last-Modified), so a cache can refresh what it holds.
    let headers = err.raw_response().unwrap().headers();
    assert_eq!(headers.get("etag"), Some(etag.as_str()));
    assert!(headers.get("last-modified").is_some());
    // A conditional write to a key with no object: nothing to match, 404.
    let err = s3
        .put_object()
        .bucket(BUCKET)
        .key("no-such-key")
        .if_match(&etag)
        .body(ByteStream::from_static(b"x"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "NoSuchKey");
    s3.get_object()
        .bucket(BUCKET)
        .key("k")
        .if_match(&etag)
        .send()
        .await
        .unwrap();
    let err = s3
        .put_object()
        .bucket(BUCKET)
        .key("k")
        .if_match("\"nope\"")
        .body(ByteStream::from_static(b"x"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "PreconditionFailed");
    let err = s3
        .delete_object()
        .bucket(BUCKET)
        .key("k")
        .if_match("\"nope\"")
        .send()
        .await
        .unwrap_err();
    assert_eq!(status(&err), Some(412));
    let err = s3
        .copy_object()
        .bucket(BUCKET)
        .key("k2")
        .copy_source(format!("{BUCKET}/k"))
        .copy_source_if_match("\"nope\"")
        .send()
        .await
        .unwrap_err();
    assert_eq!(status(&err), Some(412));

    let range = |r: &'static str| {
        let s3 = s3.clone();
        async move {
            s3.get_object()
                .bucket(BUCKET)
                .key("k")
                .range(r)
                .send()
                .await
        }
    };
    let body = range("bytes=-3")
        .await
        .unwrap()
        .body
        .collect()
        .await
        .unwrap()
        .to_vec();
    assert_eq!(body, b"789");
    let body = range("bytes=7-")
        .await
        .unwrap()
        .body
        .collect()
        .await
        .unwrap()
        .to_vec();
    assert_eq!(body, b"789");
    let body = range("bytes=2-4")
        .await
        .unwrap()
        .body
        .collect()
        .await
        .unwrap()
        .to_vec();
    assert_eq!(body, b"234");
    let err = range("bytes=20-30").await.unwrap_err();
    assert_eq!(code(&err), "InvalidRange");

    // Copy onto itself needs a change; REPLACE replaces the metadata.
    let err = s3
        .copy_object()
        .bucket(BUCKET)
        .key("k")
        .copy_source(format!("{BUCKET}/k"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "InvalidRequest");
    s3.copy_object()
        .bucket(BUCKET)
        .key("k")
        .copy_source(format!("{BUCKET}/k"))
        .metadata_directive(MetadataDirective::Replace)
        .content_type("text/plain")
        .metadata("note", "refreshed")
        .send()
        .await
        .unwrap();
    let head = s3
        .head_object()
        .bucket(BUCKET)
        .key("k")
        .send()
        .await
        .unwrap();
    assert_eq!(head.content_type(), Some("text/plain"));
    assert_eq!(
        head.metadata()
            .and_then(|m| m.get("note"))
            .map(String::as_str),
        Some("refreshed")
    );
    assert_eq!(get(&s3, BUCKET, "k").await, b"0123456789");
    let attributes = s3
        .get_object_attributes()
        .bucket(BUCKET)
        .key("k")
        .object_attributes(aws_sdk_s3::types::ObjectAttributes::ObjectSize)
        .object_attributes(aws_sdk_s3::types::ObjectAttributes::Etag)
        .send()
        .await
        .unwrap();
    assert_eq!(attributes.object_size(), Some(10));
    assert!(attributes.e_tag().is_some());
}

/// A PUT killed mid-write (kill -9) leaves an aside file, or a new data file no record names
/// yet, or an old data file a new record no longer names: after a restart the old object or the
/// new one is served whole, and the leftovers are gone.
#[tokio::test]
async fn an_interrupted_write_leaves_the_old_object_or_the_new_one() {
    let (dir, aws) = common::local("s3-crash", FakeModelBehavior::default());
    aws.create_bucket(BUCKET).unwrap();
    let s3 = aws.s3_client();
    let root = aws.data_dir().s3_root();
    put(&s3, BUCKET, "old.txt", b"the old object, whole").await;
    put(&s3, BUCKET, "new.txt", b"first version").await;
    let first = imagegen_local::s3::object_path(&root, BUCKET, "new.txt");
    let first_bytes = std::fs::read(&first).unwrap();
    put(&s3, BUCKET, "new.txt", b"second version, whole").await;
    let old_data = imagegen_local::s3::object_path(&root, BUCKET, "old.txt");
    let slot = old_data.parent().unwrap().to_path_buf();
    let stem = old_data
        .file_name()
        .unwrap()
        .to_string_lossy()
        .split('.')
        .next()
        .unwrap()
        .to_owned();
    // Killed while writing the data aside, while writing the record aside, and after the data
    // was renamed into place but before the record was.
    let leftovers = [
        slot.join(".tmp-crash-data"),
        slot.join(".tmp-crash-record"),
        slot.join(format!("{stem}.0123456789abcdef.txt")),
    ];
    std::fs::write(&leftovers[0], b"the new obj").unwrap();
    std::fs::write(&leftovers[1], b"{\"key\":\"old.txt\",\"si").unwrap();
    std::fs::write(&leftovers[2], b"the new object, whole").unwrap();
    // Killed after the new record of new.txt was committed, before its old data was removed.
    let stale = first.with_file_name(format!(
        "{}.fedcba9876543210.txt",
        first
            .file_name()
            .unwrap()
            .to_string_lossy()
            .split('.')
            .next()
            .unwrap()
    ));
    std::fs::write(&stale, &first_bytes).unwrap();

    let options = aws.options().clone();
    drop(s3);
    drop(aws);
    let aws = imagegen_local::LocalAws::open_with(
        dir.path().join("data"),
        options,
        FakeModelBehavior::default(),
    )
    .unwrap();
    let s3 = aws.s3_client();
    assert_eq!(get(&s3, BUCKET, "old.txt").await, b"the old object, whole");
    assert_eq!(get(&s3, BUCKET, "new.txt").await, b"second version, whole");
    for leftover in leftovers.iter().chain([&stale]) {
        assert!(!leftover.exists(), "{} was left", leftover.display());
    }
    let listed = s3.list_objects_v2().bucket(BUCKET).send().await.unwrap();
    let keys: Vec<&str> = listed.contents().iter().filter_map(|o| o.key()).collect();
    assert_eq!(keys, ["new.txt", "old.txt"]);
}

/// An upgrade loses nothing from view: objects the `s3s-fs` store of an older imagegen left at
/// `<bucket>/<key>` are imported when the bucket is first used, and listed and read as before.
#[tokio::test]
async fn objects_of_an_older_data_directory_are_imported_on_first_use() {
    let (_dir, aws) = common::local("s3-legacy", FakeModelBehavior::default());
    let s3 = aws.s3_client();
    let bucket = aws.data_dir().s3_root().join("from-older");
    std::fs::create_dir_all(bucket.join("images/r-1")).unwrap();
    std::fs::write(bucket.join("images/r-1/0.png"), b"old png").unwrap();
    std::fs::write(bucket.join("prompt.txt"), b"a lighthouse").unwrap();
    let listed = s3
        .list_objects_v2()
        .bucket("from-older")
        .send()
        .await
        .unwrap();
    let keys: Vec<&str> = listed.contents().iter().filter_map(|o| o.key()).collect();
    assert_eq!(keys, ["images/r-1/0.png", "prompt.txt"]);
    assert_eq!(get(&s3, "from-older", "images/r-1/0.png").await, b"old png");
    assert!(
        !bucket.join("images").exists(),
        "the old layout's files are gone"
    );
}

/// GetObject and HeadObject by `partNumber`, and a multipart upload's composite SHA-256: each
/// part read back whole with its own checksum, the object's checksum the checksum of the parts'
/// checksums with the part count, a wrong one sent at completion refused, and a single-part
/// object's only part is itself.
#[tokio::test]
async fn parts_are_read_by_number_with_their_checksums() {
    let (_dir, aws) = common::local("s3-part-number", FakeModelBehavior::default());
    aws.create_bucket(BUCKET).unwrap();
    let s3 = aws.s3_client();
    let key = "parts.bin";
    let upload = s3
        .create_multipart_upload()
        .bucket(BUCKET)
        .key(key)
        .checksum_algorithm(ChecksumAlgorithm::Sha256)
        .send()
        .await
        .unwrap();
    assert_eq!(
        upload.checksum_type(),
        Some(&aws_sdk_s3::types::ChecksumType::Composite)
    );
    let id = upload.upload_id().unwrap();
    let first = vec![b'A'; 5 * 1024 * 1024];
    let mut parts = Vec::new();
    for (n, body) in [(1, first.clone()), (2, b"the end".to_vec())] {
        let part = s3
            .upload_part()
            .bucket(BUCKET)
            .key(key)
            .upload_id(id)
            .part_number(n)
            .body(ByteStream::from(body))
            .send()
            .await
            .unwrap();
        assert!(
            part.checksum_sha256().is_some(),
            "part {n} has the upload's checksum"
        );
        parts.push(
            CompletedPart::builder()
                .part_number(n)
                .e_tag(part.e_tag().unwrap())
                .checksum_sha256(part.checksum_sha256().unwrap())
                .build(),
        );
    }
    let complete = |whole: &str| {
        s3.complete_multipart_upload()
            .bucket(BUCKET)
            .key(key)
            .upload_id(id)
            .checksum_sha256(whole.to_owned())
            .multipart_upload(
                CompletedMultipartUpload::builder()
                    .set_parts(Some(parts.clone()))
                    .build(),
            )
            .send()
    };
    let err = complete("bad").await.unwrap_err();
    assert_eq!(code(&err), "BadDigest");
    let sha = |bytes: &[u8]| {
        use sha2::Digest as _;
        sha2::Sha256::digest(bytes).to_vec()
    };
    let b64 = |bytes: &[u8]| {
        use base64::Engine as _;
        base64::engine::general_purpose::STANDARD.encode(bytes)
    };
    let composite = format!("{}-2", b64(&sha(&[sha(&first), sha(b"the end")].concat())));
    let done = complete(&composite).await.unwrap();
    assert_eq!(done.checksum_sha256(), Some(composite.as_str()));
    assert_eq!(
        done.checksum_type(),
        Some(&aws_sdk_s3::types::ChecksumType::Composite)
    );

    let part = |n: i32| {
        s3.get_object()
            .bucket(BUCKET)
            .key(key)
            .part_number(n)
            .checksum_mode(aws_sdk_s3::types::ChecksumMode::Enabled)
            .send()
    };
    let second = part(2).await.unwrap();
    assert_eq!(second.parts_count(), Some(2));
    assert_eq!(
        second.content_range(),
        Some("bytes 5242880-5242886/5242887")
    );
    assert_eq!(
        second.checksum_sha256(),
        Some(b64(&sha(b"the end")).as_str())
    );
    assert_eq!(
        &second.body.collect().await.unwrap().into_bytes()[..],
        b"the end"
    );
    assert_eq!(
        part(1)
            .await
            .unwrap()
            .body
            .collect()
            .await
            .unwrap()
            .into_bytes()
            .len(),
        first.len()
    );
    assert_eq!(code(&part(3).await.unwrap_err()), "InvalidPart");
    let head = s3
        .head_object()
        .bucket(BUCKET)
        .key(key)
        .part_number(2)
        .send()
        .await
        .unwrap();
    assert_eq!(head.content_length(), Some(7));
    let whole = s3
        .head_object()
        .bucket(BUCKET)
        .key(key)
        .checksum_mode(aws_sdk_s3::types::ChecksumMode::Enabled)
        .send()
        .await
        .unwrap();
    assert_eq!(whole.checksum_sha256(), Some(composite.as_str()));

    put(&s3, BUCKET, "single", b"body").await;
    let only = s3
        .get_object()
        .bucket(BUCKET)
        .key("single")
        .part_number(1)
        .send()
        .await
        .unwrap();
    assert_eq!(
        &only.body.collect().await.unwrap().into_bytes()[..],
        b"body"
    );
    let err = s3
        .get_object()
        .bucket(BUCKET)
        .key("single")
        .part_number(2)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "InvalidPart");
}

/// GetObject and HeadObject answer with the headers stored with the object, each replaced by the
/// request's `response-*` parameter when it gives one (S3 takes the same six on both).
#[tokio::test]
async fn get_and_head_take_the_response_header_overrides() {
    let (_dir, aws) = common::local("s3-response-headers", FakeModelBehavior::default());
    let s3 = aws.s3_client();
    s3.create_bucket().bucket("headers").send().await.unwrap();
    s3.put_object()
        .bucket("headers")
        .key("a.txt")
        .body(ByteStream::from_static(b"a"))
        .content_type("text/plain")
        .cache_control("max-age=60")
        .content_language("en")
        .send()
        .await
        .unwrap();
    let head = s3
        .head_object()
        .bucket("headers")
        .key("a.txt")
        .send()
        .await
        .unwrap();
    assert_eq!(
        (
            head.content_type(),
            head.cache_control(),
            head.content_language()
        ),
        (Some("text/plain"), Some("max-age=60"), Some("en"))
    );
    assert_eq!(head.content_disposition(), None);
    let head = s3
        .head_object()
        .bucket("headers")
        .key("a.txt")
        .response_content_type("application/octet-stream")
        .response_content_disposition("attachment; filename=\"b.txt\"")
        .response_cache_control("no-cache")
        .response_content_encoding("identity")
        .send()
        .await
        .unwrap();
    let get = s3
        .get_object()
        .bucket("headers")
        .key("a.txt")
        .response_content_type("application/octet-stream")
        .response_content_disposition("attachment; filename=\"b.txt\"")
        .response_cache_control("no-cache")
        .response_content_encoding("identity")
        .send()
        .await
        .unwrap();
    for shown in [
        (
            head.content_type(),
            head.content_disposition(),
            head.cache_control(),
            head.content_encoding(),
            head.content_language(),
        ),
        (
            get.content_type(),
            get.content_disposition(),
            get.cache_control(),
            get.content_encoding(),
            get.content_language(),
        ),
    ] {
        assert_eq!(
            shown,
            (
                Some("application/octet-stream"),
                Some("attachment; filename=\"b.txt\""),
                Some("no-cache"),
                Some("identity"),
                // Not overridden: as stored.
                Some("en"),
            )
        );
    }
}
