//! The handler end to end through the real `S3Store` and `SnsNotifier` adapters, with both clients
//! answered by `aws-smithy-mocks`. Presigning runs for real (test credentials, no HTTP call).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use std::collections::HashSet;

use aws_sdk_s3::operation::delete_object::DeleteObjectOutput;
use aws_sdk_s3::operation::get_object::GetObjectOutput;
use aws_sdk_s3::operation::put_object::{PutObjectError, PutObjectOutput};
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_sns::operation::publish::{PublishError, PublishInput, PublishOutput};
use aws_sdk_sns::types::error::NotFoundException;
use aws_smithy_mocks::{MockResponse, Rule, RuleMode, mock, mock_client};
use aws_smithy_runtime_api::http::{Response as HttpResponse, StatusCode};
use aws_smithy_types::body::SdkBody;
use imagegen_aws::{S3Store, SnsNotifier};
use imagegen_core::PipelineError;
use imagegen_core::types::{Manifest, NotificationResult, NotifyEvent};
use notify_user::{Config, handle_at};
use serde_json::{Value, json};

const TOPIC: &str = "arn:aws:sns:eu-west-1:111122223333:imagegen-results";
const BUCKET: &str = "imagegen-store-111122223333";
/// 2026-11-23T15:00:00Z
const NOW_SECS: u64 = 1_795_446_000;

fn fixture(name: &str) -> Value {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

fn config(expiry_secs: u64) -> Config {
    Config {
        topic_arn: TOPIC.into(),
        output_bucket: BUCKET.into(),
        presign_expiry: Duration::from_secs(expiry_secs),
    }
}

fn now() -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(NOW_SECS)
}

/// What reached the services, in order.
#[derive(Debug, Clone, PartialEq)]
enum Call {
    Put {
        bucket: String,
        key: String,
        content_type: String,
        if_none_match: Option<String>,
        body: Vec<u8>,
    },
    /// A PutObject with `If-None-Match: *` (the one-email claim); `created` is what S3 answered.
    Claim {
        key: String,
        created: bool,
    },
    Delete {
        key: String,
    },
    Publish(PublishInput),
}

type Calls = Arc<Mutex<Vec<Call>>>;

struct Services {
    calls: Calls,
    put: Rule,
    delete: Rule,
    presign: Rule,
    publish: Rule,
}

impl Services {
    fn new() -> Self {
        let calls: Calls = Arc::default();
        // The bucket's objects, for the conditional write to answer as S3 does.
        let objects: Arc<Mutex<HashSet<String>>> = Arc::default();
        let log = calls.clone();
        let stored = Arc::clone(&objects);
        let put = mock!(aws_sdk_s3::Client::put_object).then_compute_response(move |req| {
            let key = req.key().unwrap_or_default().to_owned();
            let conditional = req.if_none_match() == Some("*");
            // S3 refuses a conditional write over an existing key (412); others replace it.
            let created = stored.lock().unwrap().insert(key.clone()) || !conditional;
            if conditional && key.starts_with("notifications/") {
                log.lock().unwrap().push(Call::Claim { key, created });
            } else {
                log.lock().unwrap().push(Call::Put {
                    bucket: req.bucket().unwrap_or_default().to_owned(),
                    key,
                    content_type: req.content_type().unwrap_or_default().to_owned(),
                    if_none_match: req.if_none_match().map(str::to_owned),
                    body: req.body().bytes().unwrap_or_default().to_vec(),
                });
            }
            if !created {
                return MockResponse::Http(HttpResponse::new(
                    StatusCode::try_from(412).unwrap(),
                    SdkBody::from("<Error><Code>PreconditionFailed</Code></Error>"),
                ));
            }
            MockResponse::Output(PutObjectOutput::builder().build())
        });
        let log = calls.clone();
        let delete = mock!(aws_sdk_s3::Client::delete_object).then_compute_output(move |req| {
            let key = req.key().unwrap_or_default().to_owned();
            objects.lock().unwrap().remove(&key);
            log.lock().unwrap().push(Call::Delete { key });
            DeleteObjectOutput::builder().build()
        });
        // Presigning runs the request pipeline up to signing, so the mock sees a GetObject it must match.
        let presign = mock!(aws_sdk_s3::Client::get_object)
            .then_output(|| GetObjectOutput::builder().build());
        let log = calls.clone();
        let publish = mock!(aws_sdk_sns::Client::publish).then_compute_output(move |req| {
            log.lock().unwrap().push(Call::Publish(req.clone()));
            PublishOutput::builder().message_id("msg-0001").build()
        });
        Self {
            calls,
            put,
            delete,
            presign,
            publish,
        }
    }

    fn failing_put() -> Self {
        Self {
            put: mock!(aws_sdk_s3::Client::put_object).then_error(|| {
                PutObjectError::generic(
                    aws_sdk_s3::error::ErrorMetadata::builder()
                        .code("AccessDenied")
                        .message("Access Denied")
                        .build(),
                )
            }),
            ..Self::new()
        }
    }

    fn failing_publish() -> Self {
        Self {
            publish: mock!(aws_sdk_sns::Client::publish).then_error(|| {
                PublishError::NotFoundException(
                    NotFoundException::builder()
                        .message("Topic does not exist")
                        .build(),
                )
            }),
            ..Self::new()
        }
    }

    fn store(&self) -> S3Store {
        S3Store::new(mock_client!(
            aws_sdk_s3,
            RuleMode::MatchAny,
            [&self.put, &self.delete, &self.presign]
        ))
    }

    fn notifier(&self) -> SnsNotifier {
        SnsNotifier::new(
            mock_client!(aws_sdk_sns, RuleMode::MatchAny, [&self.publish]),
            TOPIC,
        )
    }

    async fn run(
        &self,
        config: &Config,
        event: Value,
    ) -> Result<NotificationResult, PipelineError> {
        handle_at(config, &self.store(), &self.notifier(), event, now()).await
    }

    /// What reached the services, the notification ledger left out.
    fn calls(&self) -> Vec<Call> {
        self.all_calls()
            .into_iter()
            .filter(|c| match c {
                Call::Put { key, .. } => !key.starts_with("notifications/"),
                Call::Claim { .. } | Call::Delete { .. } => false,
                Call::Publish(_) => true,
            })
            .collect()
    }

    fn all_calls(&self) -> Vec<Call> {
        self.calls.lock().unwrap().clone()
    }

    fn published(&self) -> PublishInput {
        let published: Vec<PublishInput> = self
            .calls()
            .into_iter()
            .filter_map(|c| match c {
                Call::Publish(p) => Some(p),
                _ => None,
            })
            .collect();
        assert_eq!(published.len(), 1, "{published:?}");
        published.into_iter().next().unwrap()
    }
}

fn attribute<'a>(input: &'a PublishInput, name: &str) -> Option<&'a str> {
    input
        .message_attributes()
        .and_then(|a| a.get(name))
        .and_then(|v| v.string_value())
}

fn sns_safe(subject: &str) {
    assert!(subject.len() <= 100, "{} chars: {subject}", subject.len());
    assert!(
        subject.chars().all(|c| c.is_ascii_graphic() || c == ' '),
        "{subject}"
    );
    assert!(!subject.starts_with(char::is_whitespace), "{subject}");
}

#[tokio::test]
async fn success_writes_the_manifest_then_emails_every_link() {
    let services = Services::new();
    let event = fixture("succeeded.json");
    let result = services.run(&config(3600), event.clone()).await.unwrap();

    // The manifest first, then the email.
    let calls = services.calls();
    assert_eq!(calls.len(), 2, "{calls:?}");
    let Call::Put {
        bucket,
        key,
        content_type,
        if_none_match,
        body,
    } = &calls[0]
    else {
        panic!("the manifest comes first: {calls:?}");
    };
    assert_eq!(bucket, BUCKET);
    assert_eq!(key, "results/r-7f3a9c2e41d04b6b.json");
    assert_eq!(content_type, "application/json");
    // Create-only: S3 refuses the write if a manifest is there already.
    assert_eq!(if_none_match.as_deref(), Some("*"));
    let manifest: Manifest = serde_json::from_slice(body).unwrap();
    let NotifyEvent::Succeeded {
        execution_name,
        request,
        generation,
        thumbnails,
    } = serde_json::from_value(event).unwrap()
    else {
        panic!("fixture is a success");
    };
    assert_eq!(manifest.execution_name, execution_name);
    assert_eq!(manifest.request, *request);
    assert_eq!(manifest.images, generation.images);
    assert_eq!(manifest.thumbnails, thumbnails.thumbnails);
    assert_eq!(manifest.model_millis, 8234);
    assert!(matches!(&calls[1], Call::Publish(_)));

    let published = services.published();
    assert_eq!(published.topic_arn(), Some(TOPIC));
    let subject = published.subject().unwrap();
    sns_safe(subject);
    assert!(
        subject.starts_with("imagegen: your 2 images are ready - \"a lighthouse at dusk"),
        "{subject}"
    );
    assert!(subject.ends_with("...\""), "{subject}");
    assert_eq!(attribute(&published, "status"), Some("SUCCEEDED"));
    assert_eq!(attribute(&published, "error"), None);

    let body = published.message().unwrap();
    for expected in [
        "Your 2 images are ready.",
        "Prompt: a lighthouse at dusk, waves crashing on black rocks, oil painting",
        "Negative prompt: people, text",
        "Model: amazon.nova-canvas-v1:0 (Amazon Nova Canvas)",
        "Seed: 42",
        "Size: 1024x1024",
        "Count: 2",
        "Time: 8.2 s in the model, 9.0 s for the image step, 1.1 s for the thumbnails",
        "Image 1 of 2: 1024x1024, seed 42, 1.5 MB",
        "Image 2 of 2: 1024x1024, seed 43, 1.5 MB",
        "Thumbnail 256 px (256x256 jpeg, 15 KB):",
        "Manifest: s3://imagegen-store-111122223333/results/r-7f3a9c2e41d04b6b.json",
        "Execution: lighthouse-3f1c0a9be2d54c7f8a6e1d2c3b4a5968",
        "Request id: r-7f3a9c2e41d04b6b",
        "The https links expire in 1 hour (at 2026-11-23T16:00:00Z).",
        "use the s3:// addresses",
    ] {
        assert!(body.contains(expected), "missing {expected:?} in:\n{body}");
    }
    let keys = generation
        .images
        .iter()
        .map(|i| i.key.clone())
        .chain(thumbnails.thumbnails.iter().map(|t| t.key.clone()));
    for key in keys {
        assert!(
            body.contains(&format!("S3:   s3://{BUCKET}/{key}")),
            "no s3 URI for {key}:\n{body}"
        );
        let link = body
            .lines()
            .map(str::trim)
            .find(|l| l.starts_with("Link: https://") && l.contains(&key))
            .unwrap_or_else(|| panic!("no link for {key}:\n{body}"));
        assert!(link.contains("X-Amz-Expires=3600"), "{link}");
        assert!(link.contains("X-Amz-Signature="), "{link}");
    }
    // Thumbnails are listed under their own image.
    let image_2 = body.find("Image 2 of 2").unwrap();
    let thumb_1 = body
        .find("thumbnails/r-7f3a9c2e41d04b6b/1-256.jpg")
        .unwrap();
    let thumb_0 = body
        .find("thumbnails/r-7f3a9c2e41d04b6b/0-512.jpg")
        .unwrap();
    assert!(thumb_0 < image_2 && image_2 < thumb_1);
    assert_eq!(services.presign.num_calls(), 6);

    assert_eq!(
        result,
        NotificationResult {
            status: "SUCCEEDED".into(),
            message_id: "msg-0001".into(),
            subject: subject.to_owned(),
            manifest_key: Some("results/r-7f3a9c2e41d04b6b.json".into()),
            already_sent: false,
        }
    );
}

/// One email per execution: a retry of the same event (or the other sender) finds the record.
#[tokio::test]
async fn an_execution_is_emailed_once_however_often_it_is_notified() {
    let services = Services::new();
    let first = services
        .run(&config(3600), fixture("failed-timeout.json"))
        .await
        .unwrap();
    assert_eq!(first.message_id, "msg-0001");
    let again = services
        .run(&config(3600), fixture("failed-timeout.json"))
        .await
        .unwrap();
    assert!(again.already_sent, "{again:?}");
    assert_eq!(again.message_id, "");
    assert_eq!(services.publish.num_calls(), 1);
    let ledger: Vec<Call> = services
        .all_calls()
        .into_iter()
        .filter(|c| !matches!(c, Call::Publish(_)))
        .collect();
    assert!(
        matches!(&ledger[..], [
            Call::Claim { key: k1, created: true },
            Call::Put { key: k2, body, .. },
            Call::Claim { key: k3, created: false },
        ] if k1 == "notifications/e-timeout.json" && k2 == k1 && k3 == k1
            && String::from_utf8_lossy(body).contains("\"messageId\":\"msg-0001\"")),
        "{ledger:#?}"
    );
    // A success email claims the same record: a failure email after it is not sent.
    let mut success = fixture("succeeded.json");
    success["executionName"] = json!("e-timeout");
    let late = services.run(&config(3600), success).await.unwrap();
    assert!(late.already_sent);
    assert_eq!(services.publish.num_calls(), 1);
}

/// A publish that fails gives the claim back, so the state machine's retry can still send.
#[tokio::test]
async fn a_failed_publish_releases_the_claim() {
    let services = Services::failing_publish();
    services
        .run(&config(3600), fixture("failed-timeout.json"))
        .await
        .unwrap_err();
    let ledger: Vec<Call> = services
        .all_calls()
        .into_iter()
        .filter(|c| !matches!(c, Call::Publish(_)))
        .collect();
    assert!(
        matches!(&ledger[..], [Call::Claim { created: true, .. }, Call::Delete { key }] if key == "notifications/e-timeout.json"),
        "{ledger:#?}"
    );
}

#[tokio::test]
async fn a_long_unicode_prompt_makes_a_short_ascii_subject() {
    let services = Services::new();
    let mut event = fixture("succeeded.json");
    let prompt =
        "Ein Leuchtturm in der Dämmerung — «très» belle, 東京の夜景 🌅\nmit Wellen, ".repeat(20);
    event["request"]["prompt"] = json!(prompt);
    event["generation"]["images"] = json!([event["generation"]["images"][0]]);
    let result = services.run(&config(3600), event).await.unwrap();
    let published = services.published();
    let subject = published.subject().unwrap();
    sns_safe(subject);
    assert_eq!(result.subject, subject);
    assert!(
        subject.starts_with(
            "imagegen: your image is ready - \"Ein Leuchtturm in der Dammerung - \"tres\" belle"
        ),
        "{subject}"
    );
    // The body keeps the prompt as written.
    assert!(published.message().unwrap().contains(&prompt));
    assert!(
        published
            .message()
            .unwrap()
            .contains("Count: 1 (asked for 2)")
    );
}

#[tokio::test]
async fn jpeg_images_and_a_legacy_warning_reach_the_manifest_and_the_email() {
    let services = Services::new();
    let mut event = fixture("succeeded.json");
    let warning = "amazon.nova-canvas-v1:0 (Amazon Nova Canvas) is a legacy model: it reached end of \
                   life on Bedrock in September 2026 and works only for accounts with extended access.";
    event["request"]["warnings"] = json!([warning]);
    event["request"]["model"] = json!({"id": "stability.sd3-5-large-v1:0", "family": "stability"});
    event["request"]["outputFormat"] = json!("jpeg");
    for (i, image) in event["generation"]["images"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .enumerate()
    {
        image["key"] = json!(format!("images/r-7f3a9c2e41d04b6b/{i}.jpg"));
    }
    for thumbnail in event["thumbnails"]["thumbnails"].as_array_mut().unwrap() {
        let source = thumbnail["sourceKey"]
            .as_str()
            .unwrap()
            .replace(".png", ".jpg");
        thumbnail["sourceKey"] = json!(source);
    }
    services.run(&config(3600), event).await.unwrap();

    let Call::Put { body, .. } = &services.calls()[0] else {
        panic!("the manifest comes first");
    };
    let manifest: Manifest = serde_json::from_slice(body).unwrap();
    assert_eq!(manifest.request.warnings, [warning]);
    assert_eq!(manifest.images[1].key, "images/r-7f3a9c2e41d04b6b/1.jpg");

    let body = services.published().message().unwrap().to_owned();
    assert!(
        body.starts_with(&format!(
            "Your 2 images are ready.\n\nNote: {warning}\n\nPrompt: "
        )),
        "{body}"
    );
    assert!(body.contains("Format: JPEG\n"), "{body}");
    for i in 0..2 {
        let key = format!("images/r-7f3a9c2e41d04b6b/{i}.jpg");
        assert!(
            body.contains(&format!("S3:   s3://{BUCKET}/{key}")),
            "{body}"
        );
        assert!(
            body.lines()
                .any(|l| l.trim().starts_with("Link: https://") && l.contains(&key)),
            "no link for {key}:\n{body}"
        );
    }
    // Thumbnails still sit under the image they were made from.
    let image_2 = body.find("Image 2 of 2").unwrap();
    let thumb_0 = body
        .find("thumbnails/r-7f3a9c2e41d04b6b/0-512.jpg")
        .unwrap();
    assert!(thumb_0 < image_2, "{body}");
    assert!(!body.contains("Other thumbnails"), "{body}");
}

#[tokio::test]
async fn the_configured_expiry_is_used_and_stated() {
    let services = Services::new();
    services
        .run(&config(43_200), fixture("succeeded.json"))
        .await
        .unwrap();
    let body = services.published().message().unwrap().to_owned();
    assert!(body.contains("X-Amz-Expires=43200"), "{body}");
    assert!(
        body.contains("The https links expire in 12 hours (at 2026-11-24T03:00:00Z)."),
        "{body}"
    );
}

#[tokio::test]
async fn a_failed_manifest_write_is_a_storage_error_and_sends_nothing() {
    let services = Services::failing_put();
    let err = services
        .run(&config(3600), fixture("succeeded.json"))
        .await
        .unwrap_err();
    assert_eq!(err.name(), "StorageError");
    assert!(
        err.to_string().contains(
            "could not write the result manifest s3://imagegen-store-111122223333/results/r-7f3a9c2e41d04b6b.json"
        ),
        "{err}"
    );
    assert_eq!(services.publish.num_calls(), 0);
    assert_eq!(err.name(), "StorageError");
}

/// S3's answer to a create-only write over an existing key.
fn precondition_failed() -> HttpResponse {
    HttpResponse::new(
        412.try_into().unwrap(),
        SdkBody::from(
            "<Error><Code>PreconditionFailed</Code><Message>At least one of the pre-conditions \
             you specified did not hold</Message></Error>",
        ),
    )
}

/// Services where `results/...json` exists already, written by `owner`: the manifest's GetObject
/// and its (refused) create-only PutObject; every other write succeeds.
struct ExistingManifest {
    services: Services,
    read: Rule,
    put: Rule,
}

fn with_existing_manifest(owner: &str) -> ExistingManifest {
    let mut existing = fixture("succeeded.json");
    existing["executionName"] = json!(owner);
    let body = serde_json::to_vec(&json!({
        "executionName": owner,
        "request": existing["request"],
        "images": [],
        "thumbnails": [],
        "modelMillis": 1
    }))
    .unwrap();
    const MANIFEST: &str = "results/r-7f3a9c2e41d04b6b.json";
    let read = mock!(aws_sdk_s3::Client::get_object)
        .match_requests(|r| r.key() == Some(MANIFEST))
        .then_output(move || {
            GetObjectOutput::builder()
                .content_length(body.len() as i64)
                .body(ByteStream::from(body.clone()))
                .build()
        });
    let put = mock!(aws_sdk_s3::Client::put_object)
        .match_requests(|r| r.key() == Some(MANIFEST))
        .then_http_response(precondition_failed);
    ExistingManifest {
        services: Services::new(),
        read,
        put,
    }
}

async fn run_with(
    existing: &ExistingManifest,
    event: Value,
) -> Result<NotificationResult, PipelineError> {
    let services = &existing.services;
    let store = S3Store::new(mock_client!(
        aws_sdk_s3,
        RuleMode::MatchAny,
        [
            &existing.read,
            &existing.put,
            &services.put,
            &services.presign
        ]
    ));
    handle_at(&config(3600), &store, &services.notifier(), event, now()).await
}

#[tokio::test]
async fn a_retry_finds_its_own_manifest_and_still_emails() {
    let event = fixture("succeeded.json");
    let own = event["executionName"].as_str().unwrap();
    let existing = with_existing_manifest(own);
    let result = run_with(&existing, event.clone()).await.unwrap();
    assert_eq!(result.status, "SUCCEEDED");
    assert_eq!(
        (existing.put.num_calls(), existing.read.num_calls()),
        (1, 1)
    );
    assert_eq!(existing.services.publish.num_calls(), 1);
}

#[tokio::test]
async fn another_runs_manifest_is_never_overwritten() {
    let existing = with_existing_manifest("someone-else-0001");
    let err = run_with(&existing, fixture("succeeded.json"))
        .await
        .unwrap_err();
    assert_eq!(err.name(), "StorageError");
    assert_eq!(
        err.to_string(),
        "the result manifest s3://imagegen-store-111122223333/results/r-7f3a9c2e41d04b6b.json \
         already exists and belongs to execution someone-else-0001; it was not overwritten"
    );
    assert_eq!(
        existing.put.num_calls(),
        1,
        "one create-only attempt, no overwrite"
    );
    assert_eq!(existing.services.publish.num_calls(), 0);
}

#[tokio::test]
async fn objects_outside_the_requests_outputs_are_neither_linked_nor_written() {
    let mut foreign_image = fixture("succeeded.json");
    foreign_image["generation"]["images"][1]["bucket"] = json!("someone-elses-bucket");
    let mut foreign_thumbnail = fixture("succeeded.json");
    foreign_thumbnail["thumbnails"]["thumbnails"][0]["key"] = json!("prompts/private.txt");
    let mut foreign_manifest = fixture("succeeded.json");
    foreign_manifest["request"]["output"]["manifestKey"] = json!("prompts/evil.json");
    let mut escaping_id = fixture("succeeded.json");
    escaping_id["request"]["requestId"] = json!("../prompts");
    let cases = [
        (
            foreign_image,
            "the image s3://someone-elses-bucket/images/r-7f3a9c2e41d04b6b/1.png is not under \
             s3://imagegen-store-111122223333/images/r-7f3a9c2e41d04b6b/",
        ),
        (
            foreign_thumbnail,
            "the thumbnail key prompts/private.txt is not under thumbnails/r-7f3a9c2e41d04b6b/",
        ),
        (foreign_manifest, "the output location is s3://"),
        (escaping_id, "cannot name output keys"),
    ];
    for (event, expected) in cases {
        let services = Services::new();
        let err = services.run(&config(3600), event).await.unwrap_err();
        assert_eq!(err.name(), "InvalidEvent", "{err}");
        assert!(err.to_string().contains(expected), "{err}");
        assert!(services.calls().is_empty(), "nothing written or published");
        assert_eq!(services.presign.num_calls(), 0, "nothing presigned");
    }
}

#[tokio::test]
async fn a_failed_publish_is_a_notify_error() {
    for fixture_name in ["succeeded.json", "failed-timeout.json"] {
        let services = Services::failing_publish();
        let err = services
            .run(&config(3600), fixture(fixture_name))
            .await
            .unwrap_err();
        assert_eq!(err.name(), "NotifyError", "{fixture_name}");
        assert!(err.to_string().contains("Topic does not exist"), "{err}");
        assert_eq!(services.publish.num_calls(), 1);
    }
}

#[tokio::test]
async fn failures_are_explained_in_plain_words() {
    let cases = [
        (
            "failed-prompt-rejected-console.json",
            "PromptRejected",
            vec![
                "Your prompt was rejected: width 999 is not allowed for Amazon Nova Canvas",
                "Prompt: a cat",
                "Execution: console-run-1",
            ],
        ),
        (
            "failed-content-filtered.json",
            "ContentFiltered",
            vec![
                "The model's content filter blocked this prompt",
                "The model said: This request has been blocked by our content filters.",
                "Prompt: a lighthouse at dusk",
                "Prompt file: s3://imagegen-store-111122223333/prompts/lighthouse.txt",
            ],
        ),
        (
            "failed-throttled.json",
            "ModelThrottled",
            vec![
                "The image model was unavailable (busy or down) even after retries.",
                "Details: Bedrock throttled InvokeModel",
                "submit it again in a few minutes",
            ],
        ),
        (
            "failed-timeout.json",
            "States.Timeout",
            vec!["A step took too long", "Execution: e-timeout"],
        ),
        (
            "failed-runtime-s3-upload.json",
            "States.Runtime",
            vec![
                "An internal error stopped the pipeline (execution night-sky-00aa).",
                "Error: States.Runtime: An error occurred while executing the state 'GenerateImage'",
                "Prompt file: s3://imagegen-store-111122223333/prompts/night sky.txt",
            ],
        ),
    ];
    for (name, error, expected) in cases {
        let services = Services::new();
        let result = services.run(&config(3600), fixture(name)).await.unwrap();
        let published = services.published();
        let subject = published.subject().unwrap();
        sns_safe(subject);
        assert_eq!(
            subject,
            format!("imagegen: could not make your image ({error})")
        );
        assert_eq!(attribute(&published, "status"), Some("FAILED"));
        assert_eq!(attribute(&published, "error"), Some(error));
        let body = published.message().unwrap();
        for text in expected {
            assert!(body.contains(text), "{name}: missing {text:?} in:\n{body}");
        }
        assert!(body.contains("What to do next: "), "{body}");
        assert_eq!(result.status, "FAILED");
        assert_eq!(result.manifest_key, None);
        assert_eq!(result.message_id, "msg-0001");
        assert!(
            services
                .calls()
                .iter()
                .all(|c| matches!(c, Call::Publish(_))),
            "no manifest on failure"
        );
    }
}

#[tokio::test]
async fn a_weird_failure_state_still_sends_an_email() {
    for event in [
        json!({"status": "FAILED", "executionName": "e-1", "state": {}}),
        json!({"status": "FAILED", "executionName": "e-1", "state": {"error": {"Error": "Lambda.Unknown", "Cause": "The cause could not be determined"}}}),
        json!({"status": "FAILED", "executionName": "e-1", "state": {"error": {"Error": "X", "Cause": "{not json"}}}),
        json!({"status": "FAILED"}),
    ] {
        let services = Services::new();
        let result = services.run(&config(3600), event.clone()).await.unwrap();
        let published = services.published();
        sns_safe(published.subject().unwrap());
        assert!(
            published
                .message()
                .unwrap()
                .contains("An internal error stopped the pipeline"),
            "{event}"
        );
        assert_eq!(result.status, "FAILED");
    }
}

#[tokio::test]
async fn a_malformed_event_is_invalid_and_touches_nothing() {
    for event in [
        json!(null),
        json!("SUCCEEDED"),
        json!({"status": "SUCCEEDED", "executionName": "e"}),
        json!({"executionName": "e"}),
    ] {
        let services = Services::new();
        let err = services
            .run(&config(3600), event.clone())
            .await
            .unwrap_err();
        assert_eq!(err.name(), "InvalidEvent", "{event}");
        assert!(services.calls().is_empty());
    }
}
