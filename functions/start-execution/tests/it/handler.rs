//! The handler end to end through the real `SfnStarter` adapter, with the Step Functions client
//! answered by `aws-smithy-mocks`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::{Arc, Mutex};

use aws_sdk_sfn::operation::start_execution::{StartExecutionError, StartExecutionOutput};
use aws_sdk_sfn::primitives::DateTime;
use aws_sdk_sfn::types::error::{ExecutionAlreadyExists, StateMachineDoesNotExist};
use aws_smithy_mocks::{MockResponse, Rule, RuleMode, mock, mock_client};
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::http::StatusCode;
use aws_smithy_types::body::SdkBody;
use imagegen_aws::SfnStarter;
use imagegen_core::PipelineError;
use serde_json::{Value, json};
use start_execution::{Config, Summary, handle};

const STATE_MACHINE: &str = "arn:aws:states:eu-west-1:111122223333:stateMachine:imagegen";
const EXECUTIONS: &str = "arn:aws:states:eu-west-1:111122223333:execution:imagegen";

fn config() -> Config {
    Config {
        state_machine_arn: STATE_MACHINE.into(),
        prompt_prefix: "prompts/".into(),
    }
}

fn fixture(name: &str) -> Value {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

/// What StartExecution was called with: (state machine, name, input).
type Calls = Arc<Mutex<Vec<(String, String, Value)>>>;

/// A small Step Functions: a new name starts an execution, a known one is `ExecutionAlreadyExists`.
fn fake_step_functions() -> (Rule, Calls) {
    let calls: Calls = Arc::default();
    let seen = calls.clone();
    let rule = mock!(aws_sdk_sfn::Client::start_execution).then_compute_response(move |req| {
        let name = req.name().unwrap_or_default().to_owned();
        let input = serde_json::from_str(req.input().unwrap_or("null")).unwrap();
        let mut seen = seen.lock().unwrap();
        let exists = seen.iter().any(|(_, n, _)| *n == name);
        seen.push((
            req.state_machine_arn().unwrap_or_default().to_owned(),
            name.clone(),
            input,
        ));
        if exists {
            MockResponse::Error(StartExecutionError::ExecutionAlreadyExists(
                ExecutionAlreadyExists::builder()
                    .message(format!("Execution Already Exists: '{EXECUTIONS}:{name}'"))
                    .build(),
            ))
        } else {
            MockResponse::Output(
                StartExecutionOutput::builder()
                    .execution_arn(format!("{EXECUTIONS}:{name}"))
                    .start_date(DateTime::from_secs(1_795_000_000))
                    .build()
                    .unwrap(),
            )
        }
    });
    (rule, calls)
}

fn starter(rule: &Rule) -> SfnStarter {
    SfnStarter::new(
        mock_client!(aws_sdk_sfn, RuleMode::MatchAny, [rule]),
        STATE_MACHINE,
    )
}

async fn run(event: Value) -> (Result<Summary, PipelineError>, Vec<(String, String, Value)>) {
    let (rule, calls) = fake_step_functions();
    let result = handle(&config(), &starter(&rule), event).await;
    let calls = calls.lock().unwrap().clone();
    (result, calls)
}

fn assert_valid_name(name: &str) {
    assert!(name.len() <= 80, "{name}");
    assert!(
        name.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'),
        "{name}"
    );
}

#[tokio::test]
async fn an_s3_put_starts_one_execution_with_the_source_as_input() {
    let (result, calls) = run(fixture("s3-put.json")).await;
    let summary = result.unwrap();
    assert_eq!(calls.len(), 1);
    let (state_machine, name, input) = &calls[0];
    assert_eq!(state_machine, STATE_MACHINE);
    assert!(name.starts_with("lighthouse-"), "{name}");
    assert_valid_name(name);
    assert_eq!(
        *input,
        json!({"source": {
            "bucket": "imagegen-store-111122223333",
            "key": "prompts/lighthouse.txt",
            "versionId": "096fKKXTRTtl3on89fVO.nfljtsv6qko",
            "etag": "d41d8cd98f00b204e9800998ecf8427e"
        }})
    );
    assert_eq!(
        serde_json::to_value(&summary).unwrap(),
        json!({
            "started": [{
                "key": "prompts/lighthouse.txt",
                "executionName": name,
                "executionArn": format!("{EXECUTIONS}:{name}")
            }],
            "duplicates": [], "skipped": [], "failed": []
        })
    );
}

#[tokio::test]
async fn url_encoded_keys_are_decoded() {
    let (result, calls) = run(fixture("s3-encoded-key.json")).await;
    let summary = result.unwrap();
    assert_eq!(summary.started.len(), 1);
    assert_eq!(summary.started[0].key, "prompts/my first prompt, v2.txt");
    let (_, name, input) = &calls[0];
    assert_eq!(input["source"]["key"], "prompts/my first prompt, v2.txt");
    assert!(input["source"].get("versionId").is_none(), "{input}");
    assert!(name.starts_with("my-first-prompt-v2-"), "{name}");
    assert_valid_name(name);
}

#[tokio::test]
async fn unicode_keys_are_decoded_and_names_stay_ascii() {
    let (result, calls) = run(fixture("s3-unicode-key.json")).await;
    assert_eq!(result.unwrap().started.len(), 1);
    let (_, name, input) = &calls[0];
    assert_eq!(input["source"]["key"], "prompts/café ☕.txt");
    assert!(name.starts_with("caf-"), "{name}");
    assert_valid_name(name);
}

#[tokio::test]
async fn eventbridge_object_created_keys_are_used_as_they_are() {
    let (result, calls) = run(fixture("eventbridge-object-created.json")).await;
    let summary = result.unwrap();
    assert_eq!(summary.started.len(), 1, "{summary:?}");
    let (_, name, input) = &calls[0];
    assert_eq!(
        *input,
        json!({"source": {
            "bucket": "imagegen-store-111122223333",
            "key": "prompts/night sky+stars 2026-11-23T15:04:05.json",
            "versionId": "IYV3p45BT0ac8hjHg1houSdS1a.Mro8e",
            "etag": "b1946ac92492d2347c6235b4d2611184"
        }})
    );
    assert_valid_name(name);
}

#[tokio::test]
async fn a_redelivered_event_is_a_duplicate_not_a_second_execution() {
    let (rule, calls) = fake_step_functions();
    let starter = starter(&rule);
    let first = handle(&config(), &starter, fixture("s3-put.json"))
        .await
        .unwrap();
    let second = handle(&config(), &starter, fixture("s3-put.json"))
        .await
        .unwrap();
    assert_eq!(first.started.len(), 1);
    assert!(second.started.is_empty());
    assert_eq!(second.duplicates.len(), 1);
    assert_eq!(
        second.duplicates[0].execution_name,
        first.started[0].execution_name
    );
    assert_eq!(second.duplicates[0].key, "prompts/lighthouse.txt");
    let calls = calls.lock().unwrap();
    assert_eq!(calls.len(), 2);
    assert_eq!(calls[0], calls[1], "the same name and input both times");
}

#[tokio::test]
async fn a_new_version_of_the_same_key_starts_a_new_execution() {
    let (rule, _) = fake_step_functions();
    let starter = starter(&rule);
    let mut event = fixture("s3-put.json");
    let first = handle(&config(), &starter, event.clone()).await.unwrap();
    event["Records"][0]["s3"]["object"]["versionId"] = json!("a-newer-version");
    event["Records"][0]["s3"]["object"]["sequencer"] = json!("0055AED6DCD90281F0");
    let second = handle(&config(), &starter, event).await.unwrap();
    assert_eq!(second.started.len(), 1);
    assert_ne!(
        first.started[0].execution_name,
        second.started[0].execution_name
    );
}

#[tokio::test]
async fn keys_that_are_not_prompt_files_are_skipped() {
    let (result, calls) = run(fixture("s3-non-prompt-keys.json")).await;
    let summary = result.unwrap();
    assert!(calls.is_empty());
    let skipped: Vec<(&str, &str)> = summary
        .skipped
        .iter()
        .map(|s| (s.key.as_str(), s.reason.as_str()))
        .collect();
    assert_eq!(
        skipped,
        [
            ("images/x.png", "not under prompts/"),
            ("prompts/readme.md", "not a .txt or .json prompt file"),
            ("other/a.txt", "not under prompts/"),
        ]
    );
    assert!(summary.failed.is_empty() && summary.started.is_empty());
}

#[tokio::test]
async fn events_other_than_object_created_are_skipped() {
    let mut event = fixture("s3-put.json");
    event["Records"][0]["eventName"] = json!("ObjectRemoved:Delete");
    let (result, calls) = run(event).await;
    let summary = result.unwrap();
    assert!(calls.is_empty());
    assert_eq!(summary.skipped.len(), 1);
    assert!(summary.skipped[0].reason.contains("ObjectRemoved:Delete"));
}

#[tokio::test]
async fn a_batch_with_bad_records_starts_the_good_ones_and_names_the_bad() {
    let (result, calls) = run(fixture("s3-batch-with-bad-records.json")).await;
    let started: Vec<&str> = calls
        .iter()
        .map(|(_, _, input)| input["source"]["key"].as_str().unwrap())
        .collect();
    assert_eq!(started, ["prompts/first.txt", "prompts/second one.JSON"]);
    let err = result.unwrap_err();
    assert_eq!(err.name(), "StartExecutionError");
    let message = err.to_string();
    assert!(
        message.starts_with("2 record(s) could not be started"),
        "{message}"
    );
    assert!(message.contains("2 started"), "{message}");
    assert!(
        message.contains("prompts/broken%ZZname.txt: the key has an invalid %-escape"),
        "{message}"
    );
    assert!(
        message.contains("Records[2]: the record has no s3.object.key"),
        "{message}"
    );
    assert_eq!(err.name(), "StartExecutionError");
}

fn throttled() -> HttpResponse {
    HttpResponse::new(
        StatusCode::try_from(400).unwrap(),
        SdkBody::from(r#"{"__type":"ThrottlingException","message":"Rate exceeded"}"#),
    )
}

#[tokio::test]
async fn a_throttled_start_is_an_error_naming_the_key() {
    let rule = mock!(aws_sdk_sfn::Client::start_execution).then_http_response(throttled);
    let client = mock_client!(aws_sdk_sfn, RuleMode::MatchAny, [&rule], |c| c
        .retry_config(aws_sdk_sfn::config::retry::RetryConfig::disabled()));
    let starter = SfnStarter::new(client, STATE_MACHINE);
    let err = handle(&config(), &starter, fixture("s3-put.json"))
        .await
        .unwrap_err();
    assert_eq!(err.name(), "StartExecutionError");
    let message = err.to_string();
    assert!(
        message.contains("prompts/lighthouse.txt: StartExecution failed"),
        "{message}"
    );
    assert!(message.contains("Rate exceeded"), "{message}");
    assert_eq!(rule.num_calls(), 1);
}

#[tokio::test]
async fn a_missing_state_machine_fails_every_record() {
    let rule = mock!(aws_sdk_sfn::Client::start_execution).then_error(|| {
        StartExecutionError::StateMachineDoesNotExist(
            StateMachineDoesNotExist::builder()
                .message("State Machine Does Not Exist")
                .build(),
        )
    });
    let client = mock_client!(aws_sdk_sfn, RuleMode::MatchAny, [&rule]);
    let starter = SfnStarter::new(client, STATE_MACHINE);
    let err = handle(
        &config(),
        &starter,
        fixture("s3-batch-with-bad-records.json"),
    )
    .await
    .unwrap_err();
    let message = err.to_string();
    assert!(
        message.starts_with("4 record(s) could not be started"),
        "{message}"
    );
    assert!(
        message.contains("State Machine Does Not Exist"),
        "{message}"
    );
    assert_eq!(rule.num_calls(), 2, "both good records were still tried");
}

#[tokio::test]
async fn malformed_events_are_invalid_event_errors() {
    for event in [
        json!("prompts/a.txt"),
        json!([1, 2]),
        json!(null),
        json!({}),
        json!({"Records": "nope"}),
        json!({"detail": {"object": {"key": "prompts/a.txt"}}}),
    ] {
        let (result, calls) = run(event.clone()).await;
        let err = result.unwrap_err();
        assert_eq!(err.name(), "InvalidEvent", "{event}: {err}");
        assert!(calls.is_empty());
    }
}

#[tokio::test]
async fn an_sqs_wrapped_notification_is_unwrapped() {
    let body = fixture("s3-put.json").to_string();
    let event = json!({"Records": [{"eventSource": "aws:sqs", "messageId": "m-1", "body": body}]});
    let (result, calls) = run(event).await;
    assert_eq!(result.unwrap().started.len(), 1);
    assert_eq!(calls[0].2["source"]["key"], "prompts/lighthouse.txt");
}

/// The front door's size check: an input the pipeline could not carry starts nothing.
#[tokio::test]
async fn an_input_too_large_for_the_pipeline_starts_nothing() {
    let key = format!("prompts/{}.txt", "a".repeat(140 * 1024));
    let event = json!({"detail-type": "Object Created", "source": "aws.s3",
        "detail": {"bucket": {"name": "b"}, "object": {"key": key, "etag": "e"}}});
    let (result, calls) = run(event).await;
    assert!(calls.is_empty(), "nothing started");
    let err = result.unwrap_err().to_string();
    assert!(
        err.contains("the pipeline takes at most 131072 bytes"),
        "{err}"
    );
}
