//! `imagegen aws start` against mocked Step Functions and S3 clients.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};

use aws_sdk_s3::operation::get_object::GetObjectOutput;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_sfn::operation::describe_execution::DescribeExecutionOutput;
use aws_sdk_sfn::operation::get_execution_history::GetExecutionHistoryOutput;
use aws_sdk_sfn::operation::start_execution::StartExecutionOutput;
use aws_sdk_sfn::types::{
    ExecutionStatus, HistoryEvent, HistoryEventType, LambdaFunctionFailedEventDetails,
    StateEnteredEventDetails, StateExitedEventDetails,
};
use aws_smithy_mocks::{RuleMode, mock, mock_client};
use aws_smithy_types::DateTime;
use imagegen_cli::args::{AwsStartArgs, RunArgs};
use serde_json::json;

const ARN: &str = "arn:aws:states:eu-west-1:123456789012:execution:Pipeline:run-x";

fn event(id: i64, t: HistoryEventType) -> aws_sdk_sfn::types::builders::HistoryEventBuilder {
    HistoryEvent::builder()
        .id(id)
        .timestamp(DateTime::from_secs(1_700_000_000 + id))
        .r#type(t)
}

fn history() -> Vec<HistoryEvent> {
    let request = json!({"request": {"requestId": "r1", "output": {"bucket": "out-bucket"}}});
    vec![
        event(1, HistoryEventType::ExecutionStarted)
            .build()
            .unwrap(),
        event(2, HistoryEventType::TaskStateEntered)
            .state_entered_event_details(
                StateEnteredEventDetails::builder()
                    .name("ValidatePrompt")
                    .build()
                    .unwrap(),
            )
            .build()
            .unwrap(),
        event(3, HistoryEventType::TaskStateExited)
            .state_exited_event_details(
                StateExitedEventDetails::builder()
                    .name("ValidatePrompt")
                    .output(request.to_string())
                    .build()
                    .unwrap(),
            )
            .build()
            .unwrap(),
        event(4, HistoryEventType::LambdaFunctionFailed)
            .lambda_function_failed_event_details(
                LambdaFunctionFailedEventDetails::builder()
                    .error("ModelThrottled")
                    .cause(r#"{"errorMessage":"slow down","errorType":"ModelThrottled"}"#)
                    .build(),
            )
            .build()
            .unwrap(),
        event(5, HistoryEventType::ExecutionSucceeded)
            .build()
            .unwrap(),
    ]
}

fn args(out: PathBuf) -> AwsStartArgs {
    AwsStartArgs {
        run: RunArgs {
            prompt: Some("a lighthouse at dusk".into()),
            ..RunArgs::default()
        },
        state_machine_arn: "arn:aws:states:eu-west-1:123456789012:stateMachine:Pipeline".into(),
        out,
        poll_ms: 1,
    }
}

fn sfn_client(status: ExecutionStatus) -> aws_sdk_sfn::Client {
    let start = mock!(aws_sdk_sfn::Client::start_execution)
        .match_requests(|r| {
            r.input()
                .is_some_and(|i| i.contains("a lighthouse at dusk"))
        })
        .then_output(|| {
            StartExecutionOutput::builder()
                .execution_arn(ARN)
                .start_date(DateTime::from_secs(1_700_000_000))
                .build()
                .unwrap()
        });
    let describe = mock!(aws_sdk_sfn::Client::describe_execution)
        .sequence()
        .output(|| {
            DescribeExecutionOutput::builder()
                .execution_arn(ARN)
                .state_machine_arn("sm")
                .status(ExecutionStatus::Running)
                .start_date(DateTime::from_secs(1_700_000_000))
                .build()
                .unwrap()
        })
        .times(1)
        .output(move || {
            let mut b = DescribeExecutionOutput::builder()
                .execution_arn(ARN)
                .state_machine_arn("sm")
                .status(status.clone())
                .start_date(DateTime::from_secs(1_700_000_000));
            b = if status == ExecutionStatus::Succeeded {
                b.output(json!({"status": "SUCCEEDED", "messageId": "m", "subject": "s", "manifestKey": "results/r1.json"}).to_string())
            } else {
                b.error("ContentFiltered")
                    .cause(r#"{"errorMessage":"blocked by the content filter","errorType":"ContentFiltered"}"#)
            };
            b.build().unwrap()
        })
        .repeatedly()
        .build();
    let history = mock!(aws_sdk_sfn::Client::get_execution_history)
        .match_requests(|r| r.execution_arn() == Some(ARN))
        .then_output(|| {
            GetExecutionHistoryOutput::builder()
                .set_events(Some(history()))
                .build()
                .unwrap()
        });
    mock_client!(
        aws_sdk_sfn,
        RuleMode::MatchAny,
        [&start, &describe, &history]
    )
}

fn s3_client() -> aws_sdk_s3::Client {
    let manifest = mock!(aws_sdk_s3::Client::get_object)
        .match_requests(|r| r.bucket() == Some("out-bucket") && r.key() == Some("results/r1.json"))
        .then_output(|| {
            let manifest = json!({
                "executionName": "run-x",
                "images": [{"bucket": "out-bucket", "key": "images/r1/0.png"}],
                "thumbnails": [{"key": "thumbnails/r1/0-128.jpg"}, {"key": "thumbnails/r1/0-256.jpg"}]
            });
            GetObjectOutput::builder()
                .body(ByteStream::from(manifest.to_string().into_bytes()))
                .build()
        });
    let objects = mock!(aws_sdk_s3::Client::get_object)
        .match_requests(|r| r.key().is_some_and(|k| !k.starts_with("results/")))
        .then_output(|| {
            GetObjectOutput::builder()
                .body(ByteStream::from_static(b"bytes"))
                .build()
        });
    mock_client!(aws_sdk_s3, RuleMode::MatchAny, [&manifest, &objects])
}

fn temp(label: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("imagegen-aws-{label}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// `imagegen aws start` against the mocks for an execution ending in `status`:
/// its exit code and what it printed.
async fn run_aws_start(status: ExecutionStatus, out_dir: &Path) -> (u8, String) {
    let mut out = Vec::new();
    let code = imagegen_cli::commands::aws_start(
        &sfn_client(status),
        &s3_client(),
        &args(out_dir.to_path_buf()),
        &mut out,
    )
    .await
    .unwrap();
    (code, String::from_utf8(out).unwrap())
}

#[tokio::test]
async fn follows_a_deployed_execution_and_downloads_its_results() {
    let out_dir = temp("ok");
    let (code, text) = run_aws_start(ExecutionStatus::Succeeded, &out_dir).await;
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("▶ ValidatePrompt"), "{text}");
    assert!(text.contains("✗ ModelThrottled: slow down"), "{text}");
    assert_eq!(
        text.matches("▶ ValidatePrompt").count(),
        1,
        "events are printed once across polls: {text}"
    );
    let run_dir = std::fs::read_dir(&out_dir)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    assert!(run_dir.join("manifest.json").is_file());
    assert_eq!(
        std::fs::read(run_dir.join("images/0.png")).unwrap(),
        b"bytes"
    );
    assert!(run_dir.join("thumbnails/0-128.jpg").is_file());
    assert!(run_dir.join("thumbnails/0-256.jpg").is_file());
    let _ = std::fs::remove_dir_all(&out_dir);
}

#[tokio::test]
async fn a_failed_deployed_execution_exits_1_with_the_reason() {
    let out_dir = temp("failed");
    let (code, text) = run_aws_start(ExecutionStatus::Failed, &out_dir).await;
    assert_eq!(code, 1, "{text}");
    assert!(text.contains("Error:       ContentFiltered"), "{text}");
    assert!(text.contains("blocked by the content filter"), "{text}");
    assert!(!out_dir.exists(), "nothing downloaded");
}
