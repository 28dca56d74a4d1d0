//! End to end: the deployed state machine definition on the local engine, the real handlers, the
//! offline AWS stand-ins. Each test runs on a paused tokio clock (Retry waits are skipped, task
//! timeouts still hold; see the crate docs for why not `VirtualClock`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::sync::Arc;

use clap::Parser;
use imagegen_cli::Report;
use imagegen_cli::args::Cli;
use imagegen_core::config::vars;
use imagegen_local::FakeModelBehavior;
use imagegen_local::sfn::{ExecutionRecord, Status};
use imagegen_local_pipeline::{LocalPipeline, PipelineOptions};
use imagegen_statemachine::{EventType, SeededRng};
use serde_json::{Value, json};

use crate::common::TempDir;

fn pipeline(label: &str, behavior: FakeModelBehavior) -> (TempDir, LocalPipeline) {
    paced(label, behavior, None)
}

/// A pipeline whose model slots are `60 s / quota_rpm` apart (the default quota's when `None`).
fn paced(
    label: &str,
    behavior: FakeModelBehavior,
    quota_rpm: Option<u32>,
) -> (TempDir, LocalPipeline) {
    let dir = TempDir::new(label);
    let overrides = quota_rpm
        .map(|rpm| (vars::MODEL_QUOTA_RPM.to_owned(), rpm.to_string()))
        .into_iter()
        .collect();
    let options = PipelineOptions {
        behavior,
        overrides,
        rng: Arc::new(SeededRng::new(7)),
        ..PipelineOptions::default()
    };
    let pipeline = LocalPipeline::open(&dir.path().join("data"), options).unwrap();
    (dir, pipeline)
}

/// Every execution ends SUCCEEDED or FAILED with exactly one email, whose status attribute says which.
fn assert_one_email(pipeline: &LocalPipeline, record: &ExecutionRecord) {
    assert!(
        matches!(record.status, Status::Succeeded | Status::Failed),
        "{:?}",
        record.status
    );
    let messages = pipeline.aws().list_messages().unwrap();
    assert_eq!(messages.len(), 1, "{messages:#?}");
    assert_eq!(
        messages[0].attributes.get("status").map(String::as_str),
        Some(record.status.as_str())
    );
    let report = Report::new(record, pipeline.aws());
    let eml = report.email.expect("the report names the email");
    assert!(eml.is_file(), "{}", eml.display());
}

fn count(record: &ExecutionRecord, t: EventType, state_input_has: Option<&str>) -> usize {
    record
        .history
        .iter()
        .filter(|e| e.event_type == t)
        .filter(|e| {
            state_input_has.is_none_or(|needle| {
                e.detail()
                    .and_then(|d| d.get("resource"))
                    .and_then(Value::as_str)
                    .is_some_and(|r| r.ends_with(needle))
            })
        })
        .count()
}

fn is_png(path: &Path) -> bool {
    std::fs::read(path).is_ok_and(|b| b.starts_with(b"\x89PNG\r\n\x1a\n"))
}

#[tokio::test(start_paused = true)]
async fn a_prompt_becomes_an_image_thumbnails_and_an_email() {
    let (_dir, pipeline) = pipeline("success", FakeModelBehavior::default());
    let record = pipeline
        .run("ok-1", &json!({"prompt": "a lighthouse at dusk"}))
        .await
        .unwrap();
    assert_eq!(record.status, Status::Succeeded, "{record:#?}");
    assert_eq!(
        record.history.last().unwrap().event_type,
        EventType::ExecutionSucceeded
    );
    let report = Report::new(&record, pipeline.aws());
    assert_eq!(report.images.len(), 1);
    assert!(is_png(&report.images[0]), "{}", report.images[0].display());
    let png = std::fs::read(&report.images[0]).unwrap();
    assert_eq!(&png[16..24], &[0, 0, 4, 0, 0, 0, 4, 0], "1024x1024");
    assert_eq!(report.thumbnails.len(), 3);
    for thumbnail in &report.thumbnails {
        assert!(thumbnail.is_file(), "{}", thumbnail.display());
    }
    assert!(report.manifest.as_ref().unwrap().is_file());
    assert!(report.history_file.is_file());
    let names: Vec<&str> = report.states.iter().map(|s| s.name.as_str()).collect();
    let core = [
        "ValidatePrompt",
        "GenerateImage",
        "GenerateThumbnails",
        "NotifySuccess",
    ];
    let ran: Vec<&str> = names.iter().copied().filter(|n| core.contains(n)).collect();
    assert_eq!(ran, core, "{names:?}");
    assert_one_email(&pipeline, &record);
    let text = report.to_string();
    assert!(
        text.contains("SUCCEEDED") && text.contains("Email:"),
        "{text}"
    );
}

#[tokio::test(start_paused = true)]
async fn stable_image_ultra_in_jpeg_makes_a_jpg_with_thumbnails() {
    let (_dir, pipeline) = pipeline("ultra-jpeg", FakeModelBehavior::default());
    let input = json!({"prompt": "a lighthouse at dusk", "model": "stability.stable-image-ultra-v1:1",
                       "outputFormat": "jpeg", "width": 1344, "height": 768});
    let record = pipeline.run("ultra-jpeg-1", &input).await.unwrap();
    assert_eq!(record.status, Status::Succeeded, "{record:#?}");
    let report = Report::new(&record, pipeline.aws());
    assert_eq!(report.images.len(), 1);
    let image = &report.images[0];
    assert_eq!(image.extension().and_then(|e| e.to_str()), Some("jpg"));
    assert!(
        std::fs::read(image)
            .unwrap()
            .starts_with(&[0xFF, 0xD8, 0xFF]),
        "{}",
        image.display()
    );
    assert_eq!(report.thumbnails.len(), 3);
    for thumbnail in &report.thumbnails {
        assert!(thumbnail.is_file(), "{}", thumbnail.display());
    }
    assert_one_email(&pipeline, &record);
    let body = &pipeline.aws().list_messages().unwrap()[0].body;
    assert!(body.contains("Format: JPEG\n"), "{body}");
    assert!(
        !body.contains("Note:"),
        "a current model has no warning: {body}"
    );
    assert!(report.warnings.is_empty());
}

#[tokio::test(start_paused = true)]
async fn a_legacy_model_still_runs_and_the_email_says_it_is_legacy() {
    let (_dir, pipeline) = pipeline("legacy", FakeModelBehavior::default());
    let input = json!({"prompt": "a lighthouse at dusk", "model": "amazon.titan-image-generator-v2:0",
                       "width": 512, "height": 512});
    let record = pipeline.run("legacy-1", &input).await.unwrap();
    assert_eq!(record.status, Status::Succeeded, "{record:#?}");
    assert_one_email(&pipeline, &record);
    let body = &pipeline.aws().list_messages().unwrap()[0].body;
    let warning = "amazon.titan-image-generator-v2:0 (Amazon Titan Image Generator v2) is a legacy \
                   model: it reached end of life on Bedrock in June 2026";
    assert!(
        body.starts_with(&format!("Your image is ready.\n\nNote: {warning}")),
        "{body}"
    );
    // The command's own summary says it too.
    let report = Report::new(&record, pipeline.aws());
    assert_eq!(report.warnings.len(), 1);
    let summary = report.to_string();
    assert!(
        summary.contains(&format!("Note:        {warning}")),
        "{summary}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_rejected_prompt_fails_with_an_email_and_no_image() {
    let (_dir, pipeline) = pipeline("rejected", FakeModelBehavior::default());
    let record = pipeline
        .run("rejected-1", &json!({"prompt": "   "}))
        .await
        .unwrap();
    assert_eq!(record.status, Status::Failed);
    assert_eq!(record.error.as_deref(), Some("PromptRejected"));
    assert_eq!(pipeline.aws().model_stats().calls, 0);
    let bucket = pipeline.aws().data_dir().s3_root().join(pipeline.bucket());
    assert!(
        !imagegen_local::s3::objects_in(&bucket)
            .iter()
            .any(|(key, _)| key.starts_with("images/")),
        "no image is written"
    );
    let report = Report::new(&record, pipeline.aws());
    assert!(report.reason.unwrap().contains("prompt is empty"));
    assert_one_email(&pipeline, &record);
    // Issue item 8: the email said "rejected" twice.
    let body = &pipeline.aws().list_messages().unwrap()[0].body;
    assert!(
        body.contains("Your prompt was rejected: the prompt is empty"),
        "{body}"
    );
    assert_eq!(body.matches("was rejected").count(), 1, "{body}");
}

#[tokio::test(start_paused = true)]
async fn a_filtered_prompt_is_not_retried() {
    let behavior = FakeModelBehavior {
        filter_terms: vec!["volcano".into()],
        ..FakeModelBehavior::default()
    };
    let (_dir, pipeline) = pipeline("filtered", behavior);
    let record = pipeline
        .run("filtered-1", &json!({"prompt": "a volcano at night"}))
        .await
        .unwrap();
    assert_eq!(record.status, Status::Failed);
    assert_eq!(
        record.error.as_deref(),
        Some("ContentFiltered"),
        "{record:#?}"
    );
    assert_eq!(
        count(
            &record,
            EventType::LambdaFunctionScheduled,
            Some("imagegen-generate-image")
        ),
        1,
        "ContentFiltered is never retried"
    );
    assert_eq!(pipeline.aws().model_stats().filtered, 1);
    assert_one_email(&pipeline, &record);
}

/// When each call to a function was scheduled, in milliseconds from the first.
fn scheduled_millis(record: &ExecutionRecord, function: &str) -> Vec<i64> {
    let times: Vec<chrono::DateTime<chrono::FixedOffset>> = record
        .history
        .iter()
        .filter(|e| e.event_type == EventType::LambdaFunctionScheduled)
        .filter(|e| {
            e.detail()
                .and_then(|d| d.get("resource"))
                .and_then(Value::as_str)
                .is_some_and(|r| r.ends_with(function))
        })
        .map(|e| chrono::DateTime::parse_from_rfc3339(&e.timestamp).unwrap())
        .collect();
    times
        .iter()
        .map(|t| (*t - times[0]).num_milliseconds())
        .collect()
}

#[tokio::test(start_paused = true)]
async fn throttling_takes_a_new_model_slot_after_a_backoff() {
    let behavior = FakeModelBehavior {
        throttle: 2,
        ..FakeModelBehavior::default()
    };
    // Slots 1 s apart, so the backoff, not the spacing, sets the waits.
    let (_dir, pipeline) = paced("throttled", behavior, Some(60));
    let record = pipeline
        .run("throttled-1", &json!({"prompt": "a lighthouse at dusk"}))
        .await
        .unwrap();
    assert_eq!(record.status, Status::Succeeded, "{record:#?}");
    let failures: Vec<&str> = record
        .history
        .iter()
        .filter(|e| e.event_type == EventType::LambdaFunctionFailed)
        .filter_map(|e| e.detail()?.get("error")?.as_str())
        .collect();
    assert_eq!(failures, ["ModelThrottled", "ModelThrottled"]);
    // Every model call has a slot of its own; no immediate retry.
    let generate = scheduled_millis(&record, "imagegen-generate-image");
    assert_eq!(generate.len(), 3);
    assert_eq!(
        count(
            &record,
            EventType::LambdaFunctionScheduled,
            Some("imagegen-reserve-model-slot")
        ),
        3
    );
    // The slots after the failures are 2 s and then 4 s away.
    assert!(generate[1] >= 2_000 && generate[1] < 3_000, "{generate:?}");
    assert!(
        generate[2] - generate[1] >= 4_000 && generate[2] - generate[1] < 5_000,
        "{generate:?}"
    );
    assert_eq!(pipeline.aws().model_stats().throttled, 2);
    let report = Report::new(&record, pipeline.aws());
    let entered: Vec<&str> = report
        .states
        .iter()
        .map(|s| s.name.as_str())
        .filter(|n| n.contains("Model") || *n == "GenerateImage")
        .collect();
    assert_eq!(
        entered,
        ["ReserveModelSlot", "WaitForModelSlot", "GenerateImage"].repeat(3)
    );
    assert_one_email(&pipeline, &record);
}

#[tokio::test(start_paused = true)]
async fn a_model_that_stays_busy_gets_eight_slots_then_a_failure_email() {
    let behavior = FakeModelBehavior {
        unavailable: 100,
        ..FakeModelBehavior::default()
    };
    let (_dir, pipeline) = paced("busy", behavior, Some(60));
    let record = pipeline
        .run("busy-1", &json!({"prompt": "a lighthouse at dusk"}))
        .await
        .unwrap();
    assert_eq!(record.status, Status::Failed, "{record:#?}");
    assert_eq!(record.error.as_deref(), Some("ModelUnavailable"));
    let report = Report::new(&record, pipeline.aws());
    let reason = report.reason.clone().unwrap();
    assert!(reason.contains("after 8 attempts"), "{reason}");
    assert_eq!(pipeline.aws().model_stats().calls, 8);
    let generate = scheduled_millis(&record, "imagegen-generate-image");
    let gaps: Vec<i64> = generate.windows(2).map(|w| (w[1] - w[0]) / 1_000).collect();
    assert_eq!(gaps, [2, 4, 8, 16, 32, 60, 60], "backoff between the slots");
    assert_one_email(&pipeline, &record);
}

#[tokio::test(start_paused = true)]
async fn a_new_slot_is_the_later_of_the_backoff_and_the_schedule() {
    let behavior = FakeModelBehavior {
        unavailable: 3,
        ..FakeModelBehavior::default()
    };
    // 6 rpm: slots 10 s apart, longer than the first backoffs (2 s, 4 s, 8 s).
    let (_dir, pipeline) = paced("spaced", behavior, Some(6));
    let record = pipeline
        .run("spaced-1", &json!({"prompt": "a lighthouse at dusk"}))
        .await
        .unwrap();
    assert_eq!(record.status, Status::Succeeded, "{record:#?}");
    let generate = scheduled_millis(&record, "imagegen-generate-image");
    assert_eq!(generate, [0, 10_000, 20_000, 30_000]);
    assert_one_email(&pipeline, &record);
}

#[tokio::test(start_paused = true)]
async fn a_corrupt_image_is_image_invalid() {
    let behavior = FakeModelBehavior {
        corrupt: 1,
        ..FakeModelBehavior::default()
    };
    let (_dir, pipeline) = pipeline("corrupt", behavior);
    let record = pipeline
        .run("corrupt-1", &json!({"prompt": "a lighthouse at dusk"}))
        .await
        .unwrap();
    assert_eq!(record.status, Status::Failed);
    assert_eq!(record.error.as_deref(), Some("ImageInvalid"), "{record:#?}");
    assert_one_email(&pipeline, &record);
}

#[tokio::test(start_paused = true)]
async fn the_same_upload_event_twice_starts_one_execution() {
    let (_dir, pipeline) = pipeline("upload-twice", FakeModelBehavior::default());
    let event = pipeline
        .put_prompt("my lighthouse.txt", b"a lighthouse at dusk".to_vec())
        .await
        .unwrap();
    assert_eq!(
        event["Records"][0]["s3"]["object"]["key"],
        "prompts/my+lighthouse.txt"
    );
    let event_again = event.clone();
    let first = pipeline.deliver(event.clone()).await.unwrap();
    let second = pipeline.deliver(event).await.unwrap();
    assert_eq!(first.started.len(), 1);
    let name = first.started[0].execution_name.clone();
    // Still running: the same execution comes back; finished: a duplicate. Never a second one.
    let again: Vec<&str> = second
        .started
        .iter()
        .map(|s| s.execution_name.as_str())
        .chain(second.duplicates.iter().map(|d| d.execution_name.as_str()))
        .collect();
    assert_eq!(again, [name.as_str()]);
    let record = pipeline.wait(&name).await.unwrap();
    assert_eq!(record.status, Status::Succeeded, "{record:#?}");
    // Delivered again after it ended: a duplicate.
    let third = pipeline.deliver(event_again).await.unwrap();
    assert_eq!(third.duplicates.len(), 1, "{third:?}");
    assert_eq!(pipeline.aws().sfn().executions().unwrap().records.len(), 1);
    assert_one_email(&pipeline, &record);
}

#[tokio::test(start_paused = true)]
async fn upload_runs_a_prompt_file() {
    let (dir, pipeline) = pipeline("upload-file", FakeModelBehavior::default());
    let file = dir.path().join("harbour.json");
    std::fs::write(&file, r#"{"prompt": "a harbour at dawn", "seed": 42}"#).unwrap();
    let record = pipeline.upload(&file).await.unwrap();
    assert_eq!(record.status, Status::Succeeded, "{record:#?}");
    assert!(record.name.starts_with("harbour-"), "{}", record.name);
    let uploaded = imagegen_local::s3::object_path(
        &pipeline.aws().data_dir().s3_root(),
        pipeline.bucket(),
        "prompts/harbour.json",
    );
    assert!(uploaded.is_file());
    assert_one_email(&pipeline, &record);
}

#[tokio::test]
async fn a_corrupt_or_foreign_data_dir_is_a_clear_error() {
    let dir = TempDir::new("bad-data");
    let corrupt = dir.path().join("corrupt");
    std::fs::create_dir_all(&corrupt).unwrap();
    std::fs::write(corrupt.join("imagegen-data.json"), "{garbage").unwrap();
    let err = LocalPipeline::open(&corrupt, PipelineOptions::default()).unwrap_err();
    assert!(err.to_string().contains("is corrupt"), "{err}");

    let foreign = dir.path().join("foreign");
    std::fs::create_dir_all(&foreign).unwrap();
    std::fs::write(foreign.join("notes.txt"), "mine").unwrap();
    let cli = Cli::try_parse_from([
        "imagegen",
        "--data-dir",
        foreign.to_str().unwrap(),
        "executions",
    ])
    .unwrap();
    let mut out = Vec::new();
    let err = imagegen_cli::commands::execute(&cli, &mut out)
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("not an imagegen data directory"),
        "{err}"
    );
    assert_eq!(
        std::fs::read_dir(&foreign).unwrap().count(),
        1,
        "nothing written"
    );
}
