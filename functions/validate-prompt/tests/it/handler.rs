//! ValidatePrompt end to end through the real S3 adapter, with the S3 client mocked.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::{Arc, Mutex};

use aws_sdk_s3::operation::get_object::{GetObjectError, GetObjectOutput};
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::error::NoSuchKey;
use aws_smithy_mocks::{Rule, RuleMode, mock, mock_client};
use imagegen_aws::S3Store;
use imagegen_core::PipelineError;
use imagegen_core::model::ModelFamily;
use serde_json::{Value, json};
use validate_prompt::{Config, handle};

fn config() -> Config {
    Config::from_env(&[
        ("OUTPUT_BUCKET", "out-bucket"),
        (
            "ALLOWED_MODEL_IDS",
            "stability.stable-image-core-v1:1,amazon.nova-canvas-v1:0,stability.stable-image-ultra-v1:1",
        ),
        ("BLOCKLIST", "gore"),
    ])
    .unwrap()
}

fn object(key: &'static str, body: &'static [u8]) -> Rule {
    mock!(aws_sdk_s3::Client::get_object)
        .match_requests(move |r| r.bucket() == Some("out-bucket") && r.key() == Some(key))
        .then_output(move || {
            GetObjectOutput::builder()
                .content_length(body.len() as i64)
                .body(ByteStream::from_static(body))
                .build()
        })
}

fn store(rules: &[&Rule]) -> S3Store {
    S3Store::new(mock_client!(aws_sdk_s3, RuleMode::MatchAny, rules))
}

fn no_s3() -> S3Store {
    let never = mock!(aws_sdk_s3::Client::get_object)
        .then_error(|| GetObjectError::NoSuchKey(NoSuchKey::builder().build()));
    store(&[&never])
}

fn s3_event(key: &str) -> Value {
    s3_event_in("out-bucket", key)
}

fn s3_event_in(bucket: &str, key: &str) -> Value {
    json!({"input": {"source": {"bucket": bucket, "key": key}}, "executionName": "exec-1"})
}

#[tokio::test]
async fn console_input_becomes_a_request() {
    let event = json!({
        "input": {"prompt": "  a lighthouse\n at dusk ", "model": "amazon.nova-canvas-v1:0",
                  "width": 1280, "height": 720, "seed": 42, "numberOfImages": 2},
        "executionName": "exec-42"
    });
    let request = handle(&config(), &no_s3(), event).await.unwrap();
    let id = &request.request_id;
    assert!(
        id.starts_with("exec-42-") && id.len() == "exec-42-".len() + 16,
        "{id}"
    );
    assert_eq!(request.prompt, "a lighthouse at dusk");
    assert_eq!(request.model.family, ModelFamily::Nova);
    assert_eq!(
        (request.width, request.height, request.seed),
        (1280, 720, 42)
    );
    assert_eq!(request.output.bucket, "out-bucket");
    assert_eq!(request.output.image_prefix, format!("images/{id}/"));
    assert_eq!(request.output.thumbnail_prefix, format!("thumbnails/{id}/"));
    assert_eq!(request.output.manifest_key, format!("results/{id}.json"));
    let json = serde_json::to_value(&request).unwrap();
    assert_eq!(json["numberOfImages"], 2);
    assert_eq!(json["model"]["family"], "nova");
}

/// Log lines written while `f` runs (the test runtime is single-threaded, so the default
/// subscriber set here sees the handler's events).
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn a_legacy_model_runs_with_a_warning_in_the_request_and_the_log() {
    let logs = Captured::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_max_level(tracing::Level::WARN)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    let event = json!({"input": {"prompt": "a fox", "model": "amazon.nova-canvas-v1:0"},
                       "executionName": "exec-7"});
    let request = handle(&config(), &no_s3(), event).await.unwrap();
    let json = serde_json::to_value(&request).unwrap();
    let warnings = json["warnings"].as_array().unwrap();
    assert_eq!(warnings.len(), 1, "{json}");
    let warning = warnings[0].as_str().unwrap();
    assert!(
        warning.starts_with("amazon.nova-canvas-v1:0 (Amazon Nova Canvas) is a legacy model: it reached end of life on Bedrock in September 2026"),
        "{warning}"
    );
    assert!(
        warning.ends_with(
            "current models here: stability.stable-image-core-v1:1, stability.stable-image-ultra-v1:1."
        ),
        "{warning}"
    );
    let logged = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    assert!(logged.contains("WARN"), "{logged}");
    assert!(
        logged.contains("request accepted with a warning"),
        "{logged}"
    );
    assert!(
        logged.contains("end of life on Bedrock in September 2026"),
        "{logged}"
    );

    let current = handle(
        &config(),
        &no_s3(),
        json!({"input": {"prompt": "a fox"}, "executionName": "exec-8"}),
    )
    .await
    .unwrap();
    assert!(current.warnings.is_empty());
    assert!(
        serde_json::to_value(&current)
            .unwrap()
            .get("warnings")
            .is_none()
    );
}

#[tokio::test]
async fn output_format_reaches_the_request() {
    let event = json!({"input": {"prompt": "a fox", "model": "stability.stable-image-ultra-v1:1",
                                 "outputFormat": "jpeg"}, "executionName": "e"});
    let request = handle(&config(), &no_s3(), event).await.unwrap();
    assert_eq!(
        serde_json::to_value(&request).unwrap()["outputFormat"],
        "jpeg"
    );
    let reason = rejection(
        &no_s3(),
        json!({"input": {"prompt": "", "model": "amazon.nova-canvas-v1:0", "outputFormat": "jpeg"}}),
    )
    .await;
    assert!(
        reason.contains("the prompt is empty")
            && reason.contains("Amazon Nova Canvas models do not take outputFormat"),
        "{reason}"
    );
    let reason = rejection(
        &no_s3(),
        json!({"input": {"prompt": "x", "outputFormat": "webp"}}),
    )
    .await;
    assert!(reason.contains("unknown variant `webp`"), "{reason}");
}

#[tokio::test]
async fn bare_string_input_is_a_prompt() {
    let request = handle(
        &config(),
        &no_s3(),
        json!({"input": "a cat", "executionName": "e"}),
    )
    .await
    .unwrap();
    assert_eq!(request.prompt, "a cat");
    assert_eq!(request.model.id, "stability.stable-image-core-v1:1");
}

#[tokio::test]
async fn text_prompt_file() {
    let rule = object("prompts/cat.txt", "\u{feff}a cat\non a mat\n".as_bytes());
    let request = handle(&config(), &store(&[&rule]), s3_event("prompts/cat.txt"))
        .await
        .unwrap();
    assert_eq!(request.prompt, "a cat on a mat");
    assert_eq!(request.source.unwrap().key, "prompts/cat.txt");
    assert_eq!(rule.num_calls(), 1);
}

#[tokio::test]
async fn json_prompt_file_with_options() {
    let rule = object(
        "prompts/dog.json",
        br#"{"prompt": "a dog", "model": "amazon.nova-canvas-v1:0", "seed": 7, "width": 512, "height": 512}"#,
    );
    let request = handle(&config(), &store(&[&rule]), s3_event("prompts/dog.json"))
        .await
        .unwrap();
    assert_eq!(
        (request.prompt.as_str(), request.seed, request.width),
        ("a dog", 7, 512)
    );
}

async fn rejection(store: &S3Store, event: Value) -> String {
    match handle(&config(), store, event).await {
        Err(PipelineError::PromptRejected(reason)) => reason,
        other => panic!("expected PromptRejected, got {other:?}"),
    }
}

#[tokio::test]
async fn bad_files_are_rejected_with_reasons() {
    let rules = [
        object("prompts/bad.json", b"{not json"),
        object("prompts/latin1.txt", b"caf\xe9"),
        object(
            "prompts/unknown.json",
            br#"{"prompt": "x", "colour": "red"}"#,
        ),
        object("prompts/blank.txt", b"   \n  "),
    ];
    let refs: Vec<&Rule> = rules.iter().collect();
    let store = store(&refs);
    assert!(
        rejection(&store, s3_event("prompts/bad.json"))
            .await
            .contains("not valid JSON")
    );
    assert!(
        rejection(&store, s3_event("prompts/latin1.txt"))
            .await
            .contains("not UTF-8")
    );
    assert!(
        rejection(&store, s3_event("prompts/unknown.json"))
            .await
            .contains("unknown field `colour`")
    );
    assert!(
        rejection(&store, s3_event("prompts/blank.txt"))
            .await
            .contains("prompt is empty")
    );
    assert!(
        rejection(&store, s3_event("prompts/x.png"))
            .await
            .contains(".txt or .json")
    );
}

#[tokio::test]
async fn only_prompt_files_in_the_configured_bucket_and_prefix_are_read() {
    // Anything else would make this function's role a way to read other objects.
    let any = mock!(aws_sdk_s3::Client::get_object).then_output(|| {
        GetObjectOutput::builder()
            .content_length(5)
            .body(ByteStream::from_static(b"a cat"))
            .build()
    });
    let store = store(&[&any]);
    for (bucket, key) in [
        ("someone-elses-bucket", "prompts/cat.txt"),
        ("out-bucket", "results/r1.json"),
        ("out-bucket", "images/r1/prompt.txt"),
        ("out-bucket", "prompt.txt"),
        ("out-bucket-2", "prompts/cat.txt"),
    ] {
        let reason = rejection(&store, s3_event_in(bucket, key)).await;
        assert_eq!(
            reason,
            format!(
                "prompt files are read only from s3://out-bucket/prompts/; \
                 the input names s3://{bucket}/{key}"
            )
        );
    }
    assert_eq!(any.num_calls(), 0, "nothing was read");
    handle(&config(), &store, s3_event("prompts/cat.txt"))
        .await
        .unwrap();
    assert_eq!(any.num_calls(), 1);
}

#[tokio::test]
async fn oversized_file_is_refused_before_reading() {
    let rule = mock!(aws_sdk_s3::Client::get_object).then_output(|| {
        GetObjectOutput::builder()
            .content_length(10 * 1024 * 1024)
            .body(ByteStream::from_static(b"tiny"))
            .build()
    });
    let reason = rejection(&store(&[&rule]), s3_event("prompts/huge.txt")).await;
    assert!(
        reason.contains("10485760 bytes; the limit is 16384"),
        "{reason}"
    );
}

#[tokio::test]
async fn missing_file_is_rejected() {
    let reason = rejection(&no_s3(), s3_event("prompts/gone.txt")).await;
    assert!(reason.contains("does not exist"), "{reason}");
}

#[tokio::test]
async fn malformed_inputs_never_panic() {
    for input in [
        json!(null),
        json!(42),
        json!([1]),
        json!({"prompt": 5}),
        json!({"source": "x"}),
    ] {
        let reason = rejection(&no_s3(), json!({"input": input, "executionName": "e"})).await;
        assert!(!reason.is_empty());
    }
    let err = handle(
        &config(),
        &no_s3(),
        json!({"input": {}, "executionName": 5}),
    )
    .await
    .unwrap_err();
    assert_eq!(err.name(), "InvalidEvent");
}

#[tokio::test]
async fn blocklisted_prompt() {
    let reason = rejection(&no_s3(), json!({"input": {"prompt": "Gore everywhere"}})).await;
    assert!(
        reason.starts_with("the prompt contains the blocked term"),
        "{reason}"
    );
}
