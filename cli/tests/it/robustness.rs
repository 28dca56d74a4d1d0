//! Every execution ends, and each has exactly one email, whatever was thrown at it (issue 16):
//! executions started with each kind of bad input, through the same definition, handlers, local
//! stand-ins and backstop rule as `imagegen run`, on a paused tokio clock.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::Duration;

use imagegen_cli::Report;
use imagegen_local::FakeModelBehavior;
use imagegen_local::sfn::{ExecutionRecord, Status};
use imagegen_local_pipeline::pipeline::DEFINITION;
use imagegen_local_pipeline::{LocalPipeline, PipelineOptions};
use imagegen_statemachine::SeededRng;
use serde_json::{Value, json};

use crate::common::TempDir;

fn open(dir: &TempDir, behavior: FakeModelBehavior, definition: Option<String>) -> LocalPipeline {
    let options = PipelineOptions {
        behavior,
        rng: Arc::new(SeededRng::new(11)),
        definition,
        ..PipelineOptions::default()
    };
    LocalPipeline::open(&dir.path().join("data"), options).unwrap()
}

/// The execution ended, it has exactly one email, and that email reads as sentences.
fn assert_ended_with_one_email(pipeline: &LocalPipeline, record: &ExecutionRecord) -> String {
    assert_ne!(record.status, Status::Running, "{record:#?}");
    let emails: Vec<_> = pipeline
        .aws()
        .list_messages()
        .unwrap()
        .into_iter()
        .filter(|m| m.attributes.get("execution") == Some(&record.name))
        .collect();
    assert_eq!(emails.len(), 1, "{}: {emails:#?}", record.name);
    let body = &emails[0].body;
    for debug in ['{', '}'] {
        assert!(
            !body.contains(debug),
            "{}: debug output in\n{body}",
            record.name
        );
    }
    for dump in ["SdkBody", "ServiceError", "Some("] {
        assert!(!body.contains(dump), "{}: {dump} in\n{body}", record.name);
    }
    let report = Report::new(record, pipeline.aws());
    assert!(report.email.is_some_and(|e| e.is_file()), "{}", record.name);
    body.clone()
}

#[tokio::test(start_paused = true)]
async fn every_kind_of_bad_input_ends_with_exactly_one_email() {
    let dir = TempDir::new("robust-inputs");
    let pipeline = open(&dir, FakeModelBehavior::default(), None);
    let mut ended = Vec::new();

    // Oversized: refused at the front door with a sentence, nothing started...
    let big = json!({"prompt": "a lighthouse", "pad": "x".repeat(200 * 1024)});
    let err = pipeline.run("big-front-door", &big).await.unwrap_err();
    assert!(
        err.to_string().contains("the pipeline takes at most"),
        "{err}"
    );
    assert!(
        pipeline
            .aws()
            .sfn()
            .execution("big-front-door")
            .unwrap()
            .is_none()
    );
    // ...and started behind it (the console accepts up to 256 KiB): the first state's wrapping
    // goes over the payload limit, no Catch can handle that, and the backstop sends the email.
    let just_under = json!({"prompt": "a lighthouse", "pad": "x".repeat(256 * 1024 - 60)});
    let text = just_under.to_string();
    assert!(text.len() <= 256 * 1024);
    pipeline
        .sfn_client()
        .start_execution()
        .state_machine_arn(pipeline.state_machine_arn())
        .name("big-console")
        .input(text)
        .send()
        .await
        .unwrap();
    let record = pipeline.wait("big-console").await.unwrap();
    assert_eq!(record.status, Status::Failed);
    assert_eq!(record.error.as_deref(), Some("States.DataLimitExceeded"));
    let body = assert_ended_with_one_email(&pipeline, &record);
    assert!(body.contains("too large for the pipeline"), "{body}");
    assert!(body.contains("Prompt: a lighthouse"), "{body}");
    ended.push(record);

    // Over StartExecution's own limit: refused as AWS does.
    let err = pipeline
        .sfn_client()
        .start_execution()
        .state_machine_arn(pipeline.state_machine_arn())
        .name("too-big")
        .input(json!({"prompt": "x".repeat(300 * 1024)}).to_string())
        .send()
        .await
        .unwrap_err();
    assert!(err.as_service_error().unwrap().is_invalid_execution_input());

    // Control characters in the prompt: rejected, and the email shows them escaped.
    let record = pipeline
        .run(
            "controls",
            &json!({"prompt": "a cat\u{0}\u{1b}[31m in red\u{7}"}),
        )
        .await
        .unwrap();
    assert_eq!(record.error.as_deref(), Some("PromptRejected"));
    let body = assert_ended_with_one_email(&pipeline, &record);
    assert!(
        !body.chars().any(|c| c.is_control() && c != '\n'),
        "{body:?}"
    );
    ended.push(record);

    for record in &ended {
        assert_ne!(record.status, Status::Running);
    }
}

#[tokio::test(start_paused = true)]
async fn model_failures_end_with_exactly_one_email() {
    let cases: [(&str, FakeModelBehavior, &str); 2] = [
        (
            "corrupt",
            FakeModelBehavior {
                corrupt: 1,
                ..FakeModelBehavior::default()
            },
            "ImageInvalid",
        ),
        (
            "throttled-out",
            FakeModelBehavior {
                throttle: 100,
                ..FakeModelBehavior::default()
            },
            "ModelThrottled",
        ),
    ];
    for (name, behavior, error) in cases {
        let dir = TempDir::new(name);
        let pipeline = open(&dir, behavior, None);
        let record = pipeline
            .run(name, &json!({"prompt": "a lighthouse at dusk"}))
            .await
            .unwrap();
        assert_eq!(record.status, Status::Failed, "{name}");
        assert_eq!(record.error.as_deref(), Some(error), "{name}");
        assert_ended_with_one_email(&pipeline, &record);
    }
}

/// A whole-execution `TimeoutSeconds` (no Catch sees it): the backstop emails.
#[tokio::test(start_paused = true)]
async fn a_timed_out_execution_gets_the_backstop_email() {
    let dir = TempDir::new("robust-timeout");
    let mut definition: Value = serde_json::from_str(DEFINITION).unwrap();
    definition["TimeoutSeconds"] = json!(60);
    let slow = FakeModelBehavior {
        latency: Duration::from_secs(120),
        ..FakeModelBehavior::default()
    };
    let pipeline = open(&dir, slow, Some(definition.to_string()));
    let record = pipeline
        .run("timed-out", &json!({"prompt": "a lighthouse at dusk"}))
        .await
        .unwrap();
    assert_eq!(record.status, Status::TimedOut, "{record:#?}");
    let body = assert_ended_with_one_email(&pipeline, &record);
    assert!(
        body.contains("took longer than the pipeline allows"),
        "{body}"
    );
    assert!(body.contains("Prompt: a lighthouse at dusk"), "{body}");
}

/// Stopped by a person (StopExecution), and left running by a process that ended: both ABORTED,
/// both emailed once.
#[tokio::test(start_paused = true)]
async fn aborted_executions_get_the_backstop_email() {
    let dir = TempDir::new("robust-abort");
    let slow = FakeModelBehavior {
        latency: Duration::from_secs(100),
        ..FakeModelBehavior::default()
    };
    let pipeline = open(&dir, slow, None);
    pipeline
        .start("stopped", &json!({"prompt": "a lighthouse at dusk"}))
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_secs(5)).await;
    pipeline.stop("stopped", "changed my mind").await.unwrap();
    let record = pipeline.wait("stopped").await.unwrap();
    assert_eq!(record.status, Status::Aborted, "{record:#?}");
    let body = assert_ended_with_one_email(&pipeline, &record);
    assert!(
        body.contains("The run was stopped before it finished"),
        "{body}"
    );
    assert!(body.contains("changed my mind"), "{body}");

    // A record left RUNNING by a process that died (its owner lock is free).
    let executions = pipeline.aws().data_dir().executions_dir();
    let orphan = json!({
        "name": "orphan", "executionArn": pipeline.aws().sfn().execution_arn("imagegen-pipeline", "orphan"),
        "stateMachineArn": pipeline.state_machine_arn(), "status": "RUNNING",
        "input": "{\"prompt\":\"a harbour\"}", "startDate": "2024-01-01T00:00:00.000Z",
        "owner": "00000000-0000-4000-8000-000000000000"
    });
    std::fs::write(executions.join("orphan.json"), orphan.to_string()).unwrap();
    let settled = pipeline.recover().await.unwrap();
    assert_eq!(settled.len(), 1);
    let record = pipeline.aws().sfn().execution("orphan").unwrap().unwrap();
    assert_eq!(record.status, Status::Aborted);
    assert!(record.stop_date.is_some());
    let body = assert_ended_with_one_email(&pipeline, &record);
    assert!(body.contains("Prompt: a harbour"), "{body}");
    // Settled once: a second recovery finds nothing, sends nothing.
    assert!(pipeline.recover().await.unwrap().is_empty());
    assert_ended_with_one_email(&pipeline, &record);
}
