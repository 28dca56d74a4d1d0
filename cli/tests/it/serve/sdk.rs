//! The Rust SDK clients against the endpoint: S3 (listing, multipart upload, presigned GET), Step
//! Functions and SNS subscriptions, and the email that goes to the subscriber.

use std::time::Duration;

use aws_sdk_s3::presigning::PresigningConfig;
use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart};
use aws_sdk_sfn::types::ExecutionStatus;

use super::harness::{Served, TempDir, http_get, messages, sdk_s3, sdk_sfn, sdk_sns};
use super::{MACHINE, RUN};

const TOPIC: &str = "arn:aws:sns:us-east-1:000000000000:imagegen-notifications";

#[tokio::test]
async fn the_rust_sdk_clients_drive_the_pipeline_through_the_endpoint() {
    let dir = TempDir::new("sdk");
    let served = Served::start(&dir.path().join("data"), &[], &[]);
    let s3 = sdk_s3(&served.endpoint);
    let sfn = sdk_sfn(&served.endpoint);
    let sns = sdk_sns(&served.endpoint);

    // SNS: the pipeline's topic exists; an email subscription is kept and listed.
    let topics = sns.list_topics().send().await.unwrap();
    let arns: Vec<&str> = topics
        .topics()
        .iter()
        .filter_map(|t| t.topic_arn())
        .collect();
    assert_eq!(arns, [TOPIC]);
    let subscribed = sns
        .subscribe()
        .topic_arn(TOPIC)
        .protocol("email")
        .endpoint("ada@example.com")
        .send()
        .await
        .unwrap();
    let subscription = subscribed.subscription_arn().unwrap().to_owned();
    assert!(subscription.starts_with(TOPIC), "{subscription}");
    let listed = sns.list_subscriptions().send().await.unwrap();
    assert_eq!(listed.subscriptions().len(), 1);
    assert_eq!(
        listed.subscriptions()[0].endpoint(),
        Some("ada@example.com")
    );
    let refused = sns
        .subscribe()
        .topic_arn(TOPIC)
        .protocol("sms")
        .endpoint("+15555550100")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(refused.is_invalid_parameter_exception(), "{refused:?}");
    let unknown = sns
        .subscribe()
        .topic_arn("arn:aws:sns:us-east-1:000000000000:nope")
        .protocol("email")
        .endpoint("ada@example.com")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(unknown.is_not_found_exception(), "{unknown:?}");

    // S3: the bucket is listed; a prompt uploaded in one multipart part starts an execution
    // (ObjectCreated:CompleteMultipartUpload).
    let buckets = s3.list_buckets().send().await.unwrap();
    assert!(
        buckets
            .buckets()
            .iter()
            .any(|b| b.name() == Some("imagegen-local"))
    );
    let key = "prompts/multi part.json";
    let upload = s3
        .create_multipart_upload()
        .bucket("imagegen-local")
        .key(key)
        .send()
        .await
        .unwrap();
    let upload_id = upload.upload_id().unwrap();
    let part = s3
        .upload_part()
        .bucket("imagegen-local")
        .key(key)
        .upload_id(upload_id)
        .part_number(1)
        .body(br#"{"prompt": "a harbour at dawn", "seed": 7}"#.to_vec().into())
        .send()
        .await
        .unwrap();
    s3.complete_multipart_upload()
        .bucket("imagegen-local")
        .key(key)
        .upload_id(upload_id)
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
        .await
        .unwrap();
    let arn = wait_until(RUN, || async {
        let listed = sfn
            .list_executions()
            .state_machine_arn(MACHINE)
            .send()
            .await
            .unwrap();
        listed
            .executions()
            .iter()
            .find(|e| e.status() == &ExecutionStatus::Succeeded)
            .map(|e| e.execution_arn().to_owned())
    })
    .await;
    let described = sfn
        .describe_execution()
        .execution_arn(&arn)
        .send()
        .await
        .unwrap();
    assert!(
        described.input().unwrap().contains("multi part.json"),
        "{described:?}"
    );

    // The email went to the subscriber.
    let mail = messages(&served.data);
    assert_eq!(mail.len(), 1);
    assert_eq!(mail[0].recipients, ["ada@example.com"]);
    let eml = std::fs::read_to_string(served.data.join("outbox").join(&mail[0].eml_file)).unwrap();
    assert!(eml.contains("To: ada@example.com\r\n"), "{eml}");

    // A presigned GET made by the SDK for this endpoint opens.
    let listed = s3
        .list_objects_v2()
        .bucket("imagegen-local")
        .prefix("images/")
        .send()
        .await
        .unwrap();
    let image = listed.contents()[0].key().unwrap().to_owned();
    let presigned = s3
        .get_object()
        .bucket("imagegen-local")
        .key(&image)
        .presigned(PresigningConfig::expires_in(Duration::from_secs(300)).unwrap())
        .await
        .unwrap();
    let (status, body) = http_get(presigned.uri());
    assert_eq!(status, 200);
    assert!(body.starts_with(b"\x89PNG"));

    sns.unsubscribe()
        .subscription_arn(&subscription)
        .send()
        .await
        .unwrap();
    assert!(
        sns.list_subscriptions()
            .send()
            .await
            .unwrap()
            .subscriptions()
            .is_empty()
    );
}

/// Poll `check` every 100 ms until it returns `Some`, for at most `timeout`.
async fn wait_until<T, F: std::future::Future<Output = Option<T>>>(
    timeout: Duration,
    mut check: impl FnMut() -> F,
) -> T {
    let deadline = std::time::Instant::now() + timeout;
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(std::time::Instant::now() < deadline, "timed out");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
