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
