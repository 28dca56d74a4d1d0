//! A model that goes away (issue 23, item 3): `imagegen --fake-retired MODEL run` ends FAILED with
//! the `ModelRetired` email, `imagegen models` shows the lifecycle offline, and `imagegen aws
//! models` asks a mocked Bedrock (GetFoundationModel).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use aws_sdk_bedrock::operation::get_foundation_model::{
    GetFoundationModelError, GetFoundationModelOutput,
};
use aws_sdk_bedrock::types::error::ResourceNotFoundException;
use aws_sdk_bedrock::types::{
    FoundationModelDetails, FoundationModelLifecycle, FoundationModelLifecycleStatus,
};
use aws_smithy_mocks::{RuleMode, mock, mock_client};
use aws_smithy_types::DateTime;
use clap::Parser;
use imagegen_cli::args::{AwsModelsArgs, Cli};
use imagegen_statemachine::EventType;

use crate::common::TempDir;

const CORE: &str = "stability.stable-image-core-v1:1";

/// Run `imagegen --data-dir <data> ARGS...`; (exit code, output).
async fn imagegen(data: &std::path::Path, args: &[&str]) -> (u8, String) {
    let mut argv = vec!["imagegen", "--data-dir", data.to_str().unwrap()];
    argv.extend_from_slice(args);
    let cli = Cli::try_parse_from(argv).unwrap();
    let mut out = Vec::new();
    let code = imagegen_cli::commands::execute(&cli, &mut out)
        .await
        .unwrap();
    (code, String::from_utf8(out).unwrap())
}

/// The acceptance line: the default model told retired, the run ends FAILED (GenerateImage tried
/// once: a retired model is never retried) with one email naming the model and the current ones.
#[tokio::test(start_paused = true)]
async fn a_retired_model_ends_failed_with_the_model_retired_email() {
    let dir = TempDir::new("retired-run");
    let data = dir.path().join("data");
    let (code, out) = imagegen(
        &data,
        &["--fake-retired", CORE, "run", "a lighthouse at dusk"],
    )
    .await;
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("FAILED"), "{out}");
    assert!(out.contains("ModelRetired"), "{out}");

    let aws = imagegen_local::LocalAws::open(&data).unwrap();
    let messages = aws.list_messages().unwrap();
    assert_eq!(messages.len(), 1, "{messages:#?}");
    let email = &messages[0];
    assert_eq!(
        email.attributes.get("error").map(String::as_str),
        Some("ModelRetired")
    );
    assert_eq!(
        email.subject.as_deref(),
        Some("imagegen: could not make your image (ModelRetired)")
    );
    let body = &email.body;
    assert!(
        body.contains("The image model has been retired: Bedrock no longer serves it"),
        "{body}"
    );
    assert!(
        body.contains(&format!(
            "{CORE} (Stable Image Core 1.1) has been retired on Bedrock: This model version has \
             reached the end of its life."
        )),
        "{body}"
    );
    assert!(
        body.contains(
            "Current models: stability.stable-image-ultra-v1:1 (Stable Image Ultra 1.1), \
             stability.sd3-5-large-v1:0 (Stable Diffusion 3.5 Large)."
        ),
        "{body}"
    );
    // GenerateImage was called once: a retired model is never retried.
    let record = &aws.sfn().executions().unwrap().records[0];
    let generate_calls = record
        .history
        .iter()
        .filter(|e| e.event_type == EventType::LambdaFunctionScheduled)
        .filter(|e| {
            e.detail()
                .and_then(|d| d.get("resource"))
                .and_then(|r| r.as_str())
                .is_some_and(|r| r.ends_with("imagegen-generate-image"))
        })
        .count();
    assert_eq!(generate_calls, 1, "never retried");

    // Another model still runs.
    let (code, out) = imagegen(
        &data,
        &[
            "--fake-retired",
            CORE,
            "run",
            "a harbour",
            "--model",
            "stability.stable-image-ultra-v1:1",
        ],
    )
    .await;
    assert_eq!(code, 0, "{out}");
}

#[tokio::test]
async fn models_offline_lists_the_lifecycle_and_what_the_fake_was_told() {
    let dir = TempDir::new("models-offline");
    let data = dir.path().join("data");
    let (code, out) = imagegen(&data, &["models"]).await;
    assert_eq!(code, 0, "{out}");
    for line in [
        "stability.stable-image-core-v1:1   Stable Image Core 1.1: active (the default)",
        "stability.stable-image-ultra-v1:1  Stable Image Ultra 1.1: active",
        "amazon.nova-canvas-v1:0            Amazon Nova Canvas: legacy: end of life on Bedrock September 2026",
        "amazon.titan-image-generator-v2:0  Amazon Titan Image Generator v2: legacy: end of life on Bedrock June 2026",
    ] {
        assert!(out.contains(line), "{line:?} missing from:\n{out}");
    }
    assert!(!out.contains("--fake-retired"), "{out}");
    assert!(!data.exists(), "listing models touches no data directory");

    let (code, out) = imagegen(&data, &["--fake-retired", CORE, "models"]).await;
    assert_eq!(code, 1, "an allowed model is retired: {out}");
    assert!(
        out.contains(
            "stability.stable-image-core-v1:1   Stable Image Core 1.1: active; retired offline \
             (--fake-retired): answered as Bedrock answers a model past its end of life (the default)"
        ),
        "{out}"
    );
}

fn lifecycle_of(id: &'static str, lifecycle: FoundationModelLifecycle) -> aws_smithy_mocks::Rule {
    mock!(aws_sdk_bedrock::Client::get_foundation_model)
        .match_requests(move |r| r.model_identifier() == Some(id))
        .then_output(move || {
            GetFoundationModelOutput::builder()
                .model_details(
                    FoundationModelDetails::builder()
                        .model_arn(format!("arn:aws:bedrock:us-west-2::foundation-model/{id}"))
                        .model_id(id)
                        .model_lifecycle(lifecycle.clone())
                        .build()
                        .unwrap(),
                )
                .build()
        })
}

/// A rule answering `id` as ACTIVE (once).
fn active(id: &'static str) -> aws_smithy_mocks::Rule {
    lifecycle_of(
        id,
        FoundationModelLifecycle::builder()
            .status(FoundationModelLifecycleStatus::Active)
            .build()
            .unwrap(),
    )
}

/// `imagegen aws models` asks GetFoundationModel for each model (a profile's model for a profile
/// id) and prints the status and dates Bedrock gives, or Bedrock's words when it does not describe
/// the model.
#[tokio::test]
async fn aws_models_prints_bedrocks_lifecycle_for_each_model() {
    let day = |y: i64| DateTime::from_secs(y);
    let core = active(CORE);
    // 2026-03-31, 2026-06-30 and 2026-09-30, midnight UTC.
    let legacy = lifecycle_of(
        "amazon.nova-canvas-v1:0",
        FoundationModelLifecycle::builder()
            .status(FoundationModelLifecycleStatus::Legacy)
            .legacy_time(day(1_774_915_200))
            .public_extended_access_time(day(1_782_777_600))
            .end_of_life_time(day(1_790_726_400))
            .build()
            .unwrap(),
    );
    let gone = mock!(aws_sdk_bedrock::Client::get_foundation_model)
        .match_requests(|r| r.model_identifier() == Some("amazon.titan-image-generator-v2:0"))
        .then_error(|| {
            GetFoundationModelError::ResourceNotFoundException(
                ResourceNotFoundException::builder()
                    .message("The model amazon.titan-image-generator-v2:0 is not found.")
                    .build(),
            )
        });
    let client = mock_client!(aws_sdk_bedrock, RuleMode::MatchAny, [&core, &legacy, &gone]);
    let args = AwsModelsArgs {
        models: vec![
            "us.stability.stable-image-core-v1:1".into(),
            "amazon.nova-canvas-v1:0".into(),
            "amazon.titan-image-generator-v2:0".into(),
        ],
        pools: None,
    };
    let mut out = Vec::new();
    let code = imagegen_cli::models::deployed(&client, &args, &mut out)
        .await
        .unwrap();
    let out = String::from_utf8(out).unwrap();
    assert_eq!(code, 1, "one model is not offered: {out}");
    for line in [
        "us.stability.stable-image-core-v1:1  ACTIVE (the model stability.stable-image-core-v1:1)",
        "amazon.nova-canvas-v1:0              LEGACY, legacy since 2026-03-31, public extended \
         access from 2026-06-30, end of life 2026-09-30",
        "amazon.titan-image-generator-v2:0    not offered: retired, or not in this Region \
         (ResourceNotFoundException: The model amazon.titan-image-generator-v2:0 is not found.)",
    ] {
        assert!(out.contains(line), "{line:?} missing from:\n{out}");
    }
    assert_eq!(
        (core.num_calls(), legacy.num_calls(), gone.num_calls()),
        (1, 1, 1)
    );

    // Every model active: exit code 0.
    let client = mock_client!(aws_sdk_bedrock, [&active(CORE)]);
    let args = AwsModelsArgs {
        models: vec![CORE.into()],
        pools: None,
    };
    let mut out = Vec::new();
    let code = imagegen_cli::models::deployed(&client, &args, &mut out)
        .await
        .unwrap();
    assert_eq!(code, 0, "{}", String::from_utf8_lossy(&out));
}

/// The acceptance line's second half: with `FALLBACK_MODEL_IDS`, the request moves to the next
/// model, SUCCEEDED, and the manifest and the email say which model made the images and which was
/// retired.
#[tokio::test(start_paused = true)]
async fn with_a_fallback_a_retired_model_s_request_succeeds_on_the_next_model() {
    const ULTRA: &str = "stability.stable-image-ultra-v1:1";
    let dir = TempDir::new("retired-fallback");
    let options = imagegen_local_pipeline::PipelineOptions {
        behavior: imagegen_local::FakeModelBehavior {
            retired: vec![CORE.to_owned()],
            max_image_side: Some(64),
            ..imagegen_local::FakeModelBehavior::default()
        },
        overrides: [(
            imagegen_core::config::vars::FALLBACK_MODEL_IDS.to_owned(),
            ULTRA.to_owned(),
        )]
        .into(),
        ..imagegen_local_pipeline::PipelineOptions::default()
    };
    let pipeline =
        imagegen_local_pipeline::LocalPipeline::open(&dir.path().join("data"), options).unwrap();
    let record = pipeline
        .run(
            "fallback-1",
            &serde_json::json!({"prompt": "a lighthouse at dusk"}),
        )
        .await
        .unwrap();
    assert_eq!(
        record.status,
        imagegen_local::sfn::Status::Succeeded,
        "{record:#?}"
    );
    let report = imagegen_cli::report::Report::new(&record, pipeline.aws());
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(report.manifest.unwrap()).unwrap()).unwrap();
    assert_eq!(manifest["modelId"], ULTRA, "{manifest:#}");
    assert_eq!(manifest["fallbackFrom"], CORE, "{manifest:#}");
    assert_eq!(
        manifest["request"]["model"]["id"], CORE,
        "what was asked for"
    );
    let messages = pipeline.aws().list_messages().unwrap();
    assert_eq!(messages.len(), 1);
    assert!(
        messages[0].body.contains(&format!(
            "Model: {ULTRA} (Stability AI), a fallback (FALLBACK_MODEL_IDS): Bedrock has retired {CORE}, the model asked for"
        )),
        "{}",
        messages[0].body
    );
    // Two model calls: the retired one, then the fallback.
    let stats = pipeline.aws().model_stats();
    assert_eq!((stats.calls, stats.succeeded), (2, 1));
}

#[tokio::test]
async fn aws_models_looks_each_model_up_in_each_region_pool() {
    let core = active(CORE);
    let client = mock_client!(aws_sdk_bedrock, RuleMode::MatchAny, [&core]);
    let args = AwsModelsArgs {
        models: vec![CORE.into()],
        pools: Some("us-east-1=20,us-east-2=20,us.stability.stable-image-core-v1:1=20".into()),
    };
    let mut out = Vec::new();
    let code = imagegen_cli::models::deployed(&client, &args, &mut out)
        .await
        .unwrap();
    let out = String::from_utf8(out).unwrap();
    assert_eq!(code, 0, "{out}");
    for line in [
        format!("{CORE}               ACTIVE"),
        format!("{CORE} in us-east-1  ACTIVE"),
        format!("{CORE} in us-east-2  ACTIVE"),
    ] {
        assert!(out.contains(&line), "{line:?} missing from:\n{out}");
    }
    assert_eq!(
        core.num_calls(),
        3,
        "the configured Region (for the profile) and two pools"
    );
}
