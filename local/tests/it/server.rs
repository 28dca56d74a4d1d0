//! The loopback endpoint in process: the real SDK clients over TCP, each service found by its
//! signature's scope, bad signatures refused with each service's own typed error, S3's
//! object-created hook, and a clean stop.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::{Arc, Mutex};

use crate::common::local;
use aws_sdk_s3::config::Credentials;
use imagegen_local::FakeModelBehavior;
use imagegen_local::config::DEFAULT_REGION;
use imagegen_local::server::{self, CreatedBy, ObjectCreated, local_router};
use tokio::net::TcpListener;

fn s3(endpoint: &str, credentials: Credentials) -> aws_sdk_s3::Client {
    aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::Config::builder()
            .behavior_version(aws_sdk_s3::config::BehaviorVersion::latest())
            .region(aws_sdk_s3::config::Region::new(DEFAULT_REGION))
            .credentials_provider(credentials)
            .endpoint_url(endpoint)
            .force_path_style(true)
            .build(),
    )
}

fn sfn(endpoint: &str, credentials: Credentials) -> aws_sdk_sfn::Client {
    aws_sdk_sfn::Client::from_conf(
        aws_sdk_sfn::Config::builder()
            .behavior_version(aws_sdk_sfn::config::BehaviorVersion::latest())
            .region(aws_sdk_sfn::config::Region::new(DEFAULT_REGION))
            .credentials_provider(credentials)
            .endpoint_url(endpoint)
            .build(),
    )
}

fn sns(endpoint: &str, credentials: Credentials) -> aws_sdk_sns::Client {
    aws_sdk_sns::Client::from_conf(
        aws_sdk_sns::Config::builder()
            .behavior_version(aws_sdk_sns::config::BehaviorVersion::latest())
            .region(aws_sdk_sns::config::Region::new(DEFAULT_REGION))
            .credentials_provider(credentials)
            .endpoint_url(endpoint)
            .build(),
    )
}

/// Issue 21 item 1: an upload is acknowledged only once its notification is kept; when the hook
/// cannot keep it, the client is told to try again rather than told it succeeded.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upload_whose_notification_cannot_be_recorded_is_not_acknowledged() {
    let (_dir, aws) = local("server-unrecorded", FakeModelBehavior::default());
    aws.create_bucket("b-1").unwrap();
    let router = local_router(
        &aws,
        Some(Arc::new(|_: ObjectCreated| -> server::Recording {
            Box::pin(async { Err(server::NotRecorded("the disk is full".into())) })
        })),
    )
    .unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let serving = tokio::spawn(server::serve(listener, Arc::new(router), None, async {
        let _ = stopped.await;
    }));
    let err = s3(&endpoint, imagegen_local::config::credentials())
        .put_object()
        .bucket("b-1")
        .key("prompts/a.txt")
        .body(b"x".to_vec().into())
        .send()
        .await
        .unwrap_err();
    let raw = err.raw_response().map(|r| r.status().as_u16());
    assert_eq!(raw, Some(500), "{err:?}");
    assert_eq!(
        err.as_service_error().and_then(|e| e.meta().code()),
        Some("InternalError")
    );
    stop.send(()).unwrap();
    serving.await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sdk_clients_reach_each_service_and_wrong_secrets_are_refused() {
    let (_dir, aws) = local("server", FakeModelBehavior::default());
    aws.create_bucket("b-1").unwrap();
    aws.sns().register_topic(&aws.topic_arn("t"));
    let created = Arc::new(Mutex::new(Vec::<ObjectCreated>::new()));
    let seen = Arc::clone(&created);
    let router = local_router(
        &aws,
        Some(Arc::new(move |c: ObjectCreated| -> server::Recording {
            seen.lock().unwrap().push(c);
            Box::pin(async { Ok(()) })
        })),
    )
    .unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let serving = tokio::spawn(server::serve(listener, Arc::new(router), None, async {
        let _ = stopped.await;
    }));

    let good = imagegen_local::config::credentials();
    let bad = Credentials::new(
        imagegen_local::config::ACCESS_KEY_ID,
        "wrong",
        None,
        None,
        "test",
    );
    let unknown = Credentials::new("AKIDUNKNOWN", "x", None, None, "test");

    // S3: a put is stored and heard of; a part upload is not an object creation.
    s3(&endpoint, good.clone())
        .put_object()
        .bucket("b-1")
        .key("dir/a b.txt")
        .body(b"hello".to_vec().into())
        .send()
        .await
        .unwrap();
    assert_eq!(
        std::fs::read(imagegen_local::s3::object_path(
            &aws.data_dir().s3_root(),
            "b-1",
            "dir/a b.txt"
        ))
        .unwrap(),
        b"hello"
    );
    assert_eq!(
        *created.lock().unwrap(),
        [ObjectCreated {
            bucket: "b-1".into(),
            key: "dir/a b.txt".into(),
            created_by: CreatedBy::Put
        }]
    );
    let err = s3(&endpoint, bad.clone())
        .list_buckets()
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert_eq!(err.meta().code(), Some("SignatureDoesNotMatch"));
    let err = s3(&endpoint, unknown.clone())
        .list_buckets()
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert_eq!(err.meta().code(), Some("InvalidAccessKeyId"));

    // Step Functions and SNS, found by the scope's service name on the same `/`.
    let machines = sfn(&endpoint, good.clone())
        .list_state_machines()
        .send()
        .await
        .unwrap();
    assert!(machines.state_machines().is_empty());
    let err = sfn(&endpoint, bad.clone())
        .list_state_machines()
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert_eq!(err.meta().code(), Some("InvalidSignatureException"));
    let err = sfn(&endpoint, unknown.clone())
        .list_state_machines()
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert_eq!(err.meta().code(), Some("UnrecognizedClientException"));
    let topics = sns(&endpoint, good).list_topics().send().await.unwrap();
    assert_eq!(topics.topics().len(), 1);
    let err = sns(&endpoint, bad)
        .list_topics()
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert_eq!(err.meta().code(), Some("SignatureDoesNotMatch"));
    let err = sns(&endpoint, unknown)
        .list_topics()
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert_eq!(err.meta().code(), Some("InvalidClientTokenId"));

    stop.send(()).unwrap();
    serving.await.unwrap();
    assert!(
        tokio::net::TcpStream::connect(endpoint.trim_start_matches("http://"))
            .await
            .is_err(),
        "still listening after the stop"
    );
}

/// Send `head` and `body` as one raw HTTP/1.1 request to `endpoint`; the status and the whole
/// answer. For what an SDK will not send: a chunked body without a length, an expired link.
async fn raw(endpoint: &str, head: &str, body: &[u8]) -> (u16, String) {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let address = endpoint.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
    let mut request = format!("{head}Host: {address}\r\nConnection: close\r\n\r\n").into_bytes();
    request.extend_from_slice(body);
    stream.write_all(&request).await.unwrap();
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await.unwrap();
    let answer = String::from_utf8_lossy(&answer).into_owned();
    let status = answer[9..12].parse().unwrap();
    (status, answer)
}

/// Issue 27: what S3 answers at its front door, seen by real clients over TCP: a retried
/// CompleteMultipartUpload answers as the first did and notifies once; an error's body names the
/// request id its header carries; an expired presigned link is 403; a chunked body without a
/// length is taken.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s3_front_door_answers_as_s3_does() {
    use aws_sdk_s3::presigning::PresigningConfig;
    use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart};
    let (_dir, aws) = local("server-s3-door", FakeModelBehavior::default());
    aws.create_bucket("b-1").unwrap();
    let created = Arc::new(Mutex::new(Vec::<ObjectCreated>::new()));
    let seen = Arc::clone(&created);
    let router = local_router(
        &aws,
        Some(Arc::new(move |o: ObjectCreated| -> server::Recording {
            seen.lock().unwrap().push(o);
            Box::pin(async { Ok(()) })
        })),
    )
    .unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let serving = tokio::spawn(server::serve(listener, Arc::new(router), None, async {
        let _ = stopped.await;
    }));
    let client = s3(&endpoint, imagegen_local::config::credentials());

    // A retried completion: the same answer, one notification.
    let key = "prompts/multi.txt";
    let upload = client
        .create_multipart_upload()
        .bucket("b-1")
        .key(key)
        .send()
        .await
        .unwrap();
    let id = upload.upload_id().unwrap();
    let part = client
        .upload_part()
        .bucket("b-1")
        .key(key)
        .upload_id(id)
        .part_number(1)
        .body(b"a lighthouse".to_vec().into())
        .send()
        .await
        .unwrap();
    let complete = || {
        client
            .complete_multipart_upload()
            .bucket("b-1")
            .key(key)
            .upload_id(id)
            .multipart_upload(
                CompletedMultipartUpload::builder()
                    .parts(
                        CompletedPart::builder()
                            .part_number(1)
                            .e_tag(part.e_tag().unwrap())
                            .build(),
                    )
                    .build(),
            )
            .send()
    };
    let first = complete().await.unwrap();
    let again = complete().await.unwrap();
    assert_eq!(first.e_tag(), again.e_tag());
    assert!(first.e_tag().unwrap().ends_with("-1\""), "{first:?}");
    let notified: Vec<CreatedBy> = created
        .lock()
        .unwrap()
        .iter()
        .map(|o| o.created_by)
        .collect();
    assert_eq!(notified, [CreatedBy::CompleteMultipartUpload]);
    // Once the key holds another object, the upload is gone for good.
    client
        .put_object()
        .bucket("b-1")
        .key(key)
        .body(b"replaced".to_vec().into())
        .send()
        .await
        .unwrap();
    let err = complete().await.unwrap_err();
    assert_eq!(
        err.as_service_error().and_then(|e| e.meta().code()),
        Some("NoSuchUpload")
    );
    let err = client
        .complete_multipart_upload()
        .bucket("b-1")
        .key(key)
        .upload_id("not-an-upload")
        .multipart_upload(
            CompletedMultipartUpload::builder()
                .parts(CompletedPart::builder().part_number(1).e_tag("x").build())
                .build(),
        )
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        err.as_service_error().and_then(|e| e.meta().code()),
        Some("NoSuchUpload")
    );

    // An error's RequestId is its x-amz-request-id.
    let err = client
        .get_object()
        .bucket("b-1")
        .key("missing")
        .send()
        .await
        .unwrap_err();
    let response = err.raw_response().unwrap();
    let header = response
        .headers()
        .get("x-amz-request-id")
        .unwrap()
        .to_owned();
    let body = String::from_utf8_lossy(response.body().bytes().unwrap()).into_owned();
    assert!(
        body.contains(&format!("<RequestId>{header}</RequestId>")),
        "{header} in {body}"
    );

    // A key that is not UTF-8 once decoded: S3's 400 InvalidURI.
    let (status, answer) = raw(&endpoint, "GET /b-1/%AE%8A- HTTP/1.1\r\n", b"").await;
    assert_eq!(status, 400, "{answer}");
    assert!(answer.contains("<Code>InvalidURI</Code>"), "{answer}");

    // A presigned PUT past its expiry: 403 AccessDenied, nothing stored.
    let long_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
    let expired = client
        .put_object()
        .bucket("b-1")
        .key("late.txt")
        .presigned(
            PresigningConfig::builder()
                .start_time(long_ago)
                .expires_in(std::time::Duration::from_secs(60))
                .build()
                .unwrap(),
        )
        .await
        .unwrap();
    let path = expired.uri().trim_start_matches(&endpoint).to_owned();
    let (status, answer) = raw(
        &endpoint,
        &format!("PUT {path} HTTP/1.1\r\nContent-Length: 3\r\n"),
        b"foo",
    )
    .await;
    assert_eq!(status, 403, "{answer}");
    assert!(answer.contains("<Code>AccessDenied</Code>"), "{answer}");

    // A chunked body without Content-Length, through a valid presigned PUT: stored whole.
    let link = client
        .put_object()
        .bucket("b-1")
        .key("chunked.txt")
        .presigned(PresigningConfig::expires_in(std::time::Duration::from_secs(60)).unwrap())
        .await
        .unwrap();
    let path = link.uri().trim_start_matches(&endpoint).to_owned();
    let (status, answer) = raw(
        &endpoint,
        &format!("PUT {path} HTTP/1.1\r\nTransfer-Encoding: chunked\r\n"),
        b"3\r\nbar\r\n4\r\n baz\r\n0\r\n\r\n",
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    let stored = client
        .get_object()
        .bucket("b-1")
        .key("chunked.txt")
        .send()
        .await
        .unwrap();
    assert_eq!(
        &stored.body.collect().await.unwrap().into_bytes()[..],
        b"bar baz"
    );

    stop.send(()).unwrap();
    serving.await.unwrap();
}
