//! GenerateImage through the real Bedrock and S3 adapters, with both SDK clients mocked.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use aws_sdk_bedrockruntime::operation::invoke_model::{InvokeModelError, InvokeModelOutput};
use aws_sdk_bedrockruntime::primitives::Blob;
use aws_sdk_bedrockruntime::types::error::{
    AccessDeniedException, ModelNotReadyException, ResourceNotFoundException, ThrottlingException,
    ValidationException,
};
use aws_sdk_s3::operation::put_object::{PutObjectError, PutObjectOutput};
use aws_smithy_mocks::{Rule, mock, mock_client};
use base64::Engine as _;
use generate_image::{Config, handle};
use imagegen_aws::{BedrockModel, S3Store};
use imagegen_core::PipelineError;
use serde_json::{Value, json};

/// A minimal PNG: signature and header chunk (the handler reads no further).
fn png(width: u32, height: u32) -> Vec<u8> {
    let mut b = vec![0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a];
    b.extend_from_slice(&13u32.to_be_bytes());
    b.extend_from_slice(b"IHDR");
    b.extend_from_slice(&width.to_be_bytes());
    b.extend_from_slice(&height.to_be_bytes());
    b.extend_from_slice(&[8, 2, 0, 0, 0, 0, 0, 0, 0]);
    b
}

/// A real baseline JPEG.
fn jpeg(width: u32, height: u32) -> Vec<u8> {
    let pixels: Vec<u8> = (0..width * height)
        .flat_map(|i| [(i % 251) as u8, 90, 200])
        .collect();
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 80)
        .encode(&pixels, width, height, image::ExtendedColorType::Rgb8)
        .unwrap();
    out
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn event(model: &str, family: &str, count: u32) -> Value {
    json!({"request": {
        "requestId": "exec-1",
        "prompt": "a lighthouse at dusk",
        "model": {"id": model, "family": family},
        "width": 1024, "height": 1024, "numberOfImages": count, "seed": 42,
        "output": {"bucket": "out", "imagePrefix": "images/exec-1/",
                   "thumbnailPrefix": "thumbnails/exec-1/", "manifestKey": "results/exec-1.json"}
    }})
}

fn nova(count: u32) -> Value {
    event("amazon.nova-canvas-v1:0", "nova", count)
}

fn answer(body: Value) -> Rule {
    let body = body.to_string();
    mock!(aws_sdk_bedrockruntime::Client::invoke_model)
        .match_requests(|r| {
            let sent: Value = serde_json::from_slice(r.body().unwrap().as_ref()).unwrap();
            r.model_id().is_some()
                && (sent.get("taskType").is_some() || sent.get("prompt").is_some())
        })
        .then_output(move || {
            InvokeModelOutput::builder()
                .body(Blob::new(body.clone()))
                .content_type("application/json")
                .build()
                .unwrap()
        })
}

fn fail(error: fn() -> InvokeModelError) -> Rule {
    mock!(aws_sdk_bedrockruntime::Client::invoke_model).then_error(error)
}

fn puts() -> Rule {
    mock!(aws_sdk_s3::Client::put_object)
        .match_requests(|r| r.bucket() == Some("out") && r.content_type() == Some("image/png"))
        .sequence()
        .output(|| PutObjectOutput::builder().build())
        .repeatedly()
        .build()
}

async fn run(model_rule: &Rule, s3_rule: &Rule, event: Value) -> Result<Value, PipelineError> {
    let model = BedrockModel::new(mock_client!(aws_sdk_bedrockruntime, [model_rule]));
    let store = S3Store::new(mock_client!(aws_sdk_s3, [s3_rule]));
    handle(&Config::default(), &model, &store, event)
        .await
        .map(|r| serde_json::to_value(r).unwrap())
}

#[tokio::test]
async fn stores_every_image_and_reports_keys() {
    let model =
        answer(json!({"images": [b64(&png(1024, 1024)), b64(&png(1024, 1024))], "error": null}));
    let s3 = puts();
    let result = run(&model, &s3, nova(2)).await.unwrap();
    assert_eq!(result["modelId"], "amazon.nova-canvas-v1:0");
    assert_eq!(result["images"][0]["key"], "images/exec-1/0.png");
    assert_eq!(result["images"][1]["key"], "images/exec-1/1.png");
    assert_eq!(result["images"][0]["width"], 1024);
    assert_eq!(result["images"][0]["seed"], 42);
    assert_eq!(s3.num_calls(), 2);
    assert!(
        result.to_string().len() < 2048,
        "no image bytes in the payload"
    );
}

#[tokio::test]
async fn stability_reports_its_seed() {
    let model =
        answer(json!({"images": [b64(&png(1344, 768))], "seeds": [99], "finish_reasons": [null]}));
    let s3 = puts();
    let result = run(
        &model,
        &s3,
        event("stability.stable-image-core-v1:1", "stability", 1),
    )
    .await
    .unwrap();
    assert_eq!(result["images"][0]["seed"], 99);
    assert_eq!(result["images"][0]["width"], 1344);
}

fn stability_jpeg_event() -> Value {
    let mut event = event("stability.stable-image-ultra-v1:1", "stability", 1);
    event["request"]["outputFormat"] = json!("jpeg");
    event
}

/// Answers only a request that asks for JPEG.
fn answer_jpeg_request(body: Value) -> Rule {
    let body = body.to_string();
    mock!(aws_sdk_bedrockruntime::Client::invoke_model)
        .match_requests(|r| {
            let sent: Value = serde_json::from_slice(r.body().unwrap().as_ref()).unwrap();
            sent["output_format"] == "jpeg"
        })
        .then_output(move || {
            InvokeModelOutput::builder()
                .body(Blob::new(body.clone()))
                .content_type("application/json")
                .build()
                .unwrap()
        })
}

#[tokio::test]
async fn a_jpeg_request_stores_a_checked_jpg() {
    let model = answer_jpeg_request(
        json!({"images": [b64(&jpeg(96, 64))], "seeds": [5], "finish_reasons": [null]}),
    );
    let s3 = mock!(aws_sdk_s3::Client::put_object)
        .match_requests(|r| {
            r.key() == Some("images/exec-1/0.jpg") && r.content_type() == Some("image/jpeg")
        })
        .then_output(|| PutObjectOutput::builder().build());
    let result = run(&model, &s3, stability_jpeg_event()).await.unwrap();
    assert_eq!(result["images"][0]["key"], "images/exec-1/0.jpg");
    assert_eq!(
        (
            &result["images"][0]["width"],
            &result["images"][0]["height"]
        ),
        (&json!(96), &json!(64))
    );
    assert_eq!((model.num_calls(), s3.num_calls()), (1, 1));
}

#[tokio::test]
async fn a_png_where_a_jpeg_was_asked_for_is_image_invalid() {
    let model =
        answer_jpeg_request(json!({"images": [b64(&png(64, 64))], "finish_reasons": [null]}));
    let s3 = puts();
    let err = run(&model, &s3, stability_jpeg_event()).await.unwrap_err();
    assert_eq!(err.name(), "ImageInvalid");
    assert!(
        err.to_string()
            .contains("returned image 0 that is not a JPEG (starts with [89 50 4e 47"),
        "{err}"
    );
    assert_eq!(s3.num_calls(), 0);
    // And the other way round: a JPEG where PNG is the default.
    let model = answer(json!({"images": [b64(&jpeg(8, 8))]}));
    let err = run(&model, &puts(), nova(1)).await.unwrap_err();
    assert!(
        err.to_string().contains("not a PNG (starts with [ff d8"),
        "{err}"
    );
}

#[tokio::test]
async fn throttling_is_model_throttled() {
    let model = fail(|| {
        InvokeModelError::ThrottlingException(
            ThrottlingException::builder()
                .message("Too many requests")
                .build(),
        )
    });
    let s3 = puts();
    let err = run(&model, &s3, nova(1)).await.unwrap_err();
    assert_eq!(err.name(), "ModelThrottled");
    assert_eq!(s3.num_calls(), 0);
}

/// Once AWS Budgets has attached the budget-spent Deny to the role, Bedrock answers AccessDenied
/// naming the policy (AWS's message for an explicit deny in a same-account identity-based policy).
#[tokio::test]
async fn the_budget_actions_deny_is_budget_spent_with_nothing_stored() {
    let model = fail(|| {
        InvokeModelError::AccessDeniedException(
            AccessDeniedException::builder()
                .message(
                    "User: arn:aws:sts::123456789012:assumed-role/Imagegen-GenerateImageRole-AB12/\
                     Imagegen-GenerateImageFunction-CD34 is not authorized to perform: \
                     bedrock:InvokeModel on resource: arn:aws:bedrock:us-west-2::foundation-model/\
                     amazon.nova-canvas-v1:0 with an explicit deny in an identity-based policy: \
                     arn:aws:iam::123456789012:policy/imagegen-budget-spent/\
                     Imagegen-CostGuardsBudgetSpentPolicy-1A2B3C",
                )
                .build(),
        )
    });
    let s3 = puts();
    let err = run(&model, &s3, nova(1)).await.unwrap_err();
    assert_eq!(err.name(), "BudgetSpent");
    assert!(err.to_string().contains("monthly budget"), "{err}");
    // The caller's role and account stay out of what the email quotes.
    assert!(!err.to_string().contains("123456789012"), "{err}");
    assert_eq!(s3.num_calls(), 0);

    // Any other denial stays what it was: a model error naming the refusal.
    let other = fail(|| {
        InvokeModelError::AccessDeniedException(
            AccessDeniedException::builder()
                .message(
                    "User: arn:aws:sts::123456789012:assumed-role/r/f is not authorized to \
                     perform: bedrock:InvokeModel on resource: m because no identity-based \
                     policy allows the bedrock:InvokeModel action",
                )
                .build(),
        )
    });
    assert_eq!(
        run(&other, &puts(), nova(1)).await.unwrap_err().name(),
        "ModelError"
    );
}

/// A model past its end of life: Bedrock's 404 becomes `ModelRetired` naming the model and the
/// current ones, and nothing is stored.
#[tokio::test]
async fn a_retired_model_is_model_retired_with_nothing_stored() {
    let model = fail(|| {
        InvokeModelError::ResourceNotFoundException(
            ResourceNotFoundException::builder()
                .message(
                    "This model version has reached the end of its life. Please refer to the AWS \
                     documentation for more details.",
                )
                .build(),
        )
    });
    let s3 = puts();
    let err = run(&model, &s3, nova(1)).await.unwrap_err();
    assert_eq!(err.name(), "ModelRetired");
    let message = err.to_string();
    assert!(
        message.starts_with("amazon.nova-canvas-v1:0 (Amazon Nova Canvas) has been retired"),
        "{message}"
    );
    assert!(
        message.contains("Current models: stability.stable-image-core-v1:1"),
        "{message}"
    );
    assert_eq!(s3.num_calls(), 0);
}

#[tokio::test]
async fn not_ready_is_model_unavailable() {
    let model = fail(|| {
        InvokeModelError::ModelNotReadyException(
            ModelNotReadyException::builder()
                .message("warming up")
                .build(),
        )
    });
    assert_eq!(
        run(&model, &puts(), nova(1)).await.unwrap_err().name(),
        "ModelUnavailable"
    );
}

#[tokio::test]
async fn content_filter_in_a_validation_exception() {
    let model = fail(|| {
        InvokeModelError::ValidationException(
            ValidationException::builder()
                .message("This request has been blocked by our content filters.")
                .build(),
        )
    });
    let err = run(&model, &puts(), nova(1)).await.unwrap_err();
    assert_eq!(err.name(), "ContentFiltered");
    assert!(err.to_string().contains("content filters"));
}

#[tokio::test]
async fn other_validation_errors_are_model_errors() {
    let model = fail(|| {
        InvokeModelError::ValidationException(
            ValidationException::builder()
                .message("width must be a multiple of 16")
                .build(),
        )
    });
    assert_eq!(
        run(&model, &puts(), nova(1)).await.unwrap_err().name(),
        "ModelError"
    );
}

#[tokio::test]
async fn content_filter_in_the_error_field() {
    let model = answer(
        json!({"images": [], "error": "This request has been blocked by our content filters."}),
    );
    assert_eq!(
        run(&model, &puts(), nova(1)).await.unwrap_err().name(),
        "ContentFiltered"
    );
}

#[tokio::test]
async fn content_filter_in_stability_finish_reasons() {
    let model = answer(
        json!({"images": [b64(&png(8, 8))], "seeds": [1], "finish_reasons": ["Filter reason: prompt"]}),
    );
    let s3 = puts();
    let err = run(
        &model,
        &s3,
        event("stability.sd3-5-large-v1:0", "stability", 1),
    )
    .await
    .unwrap_err();
    assert_eq!(err.name(), "ContentFiltered");
    assert_eq!(s3.num_calls(), 0, "a filtered image is not stored");
}

#[tokio::test]
async fn malformed_responses_are_model_errors() {
    for body in [
        json!({}),
        json!({"images": "x"}),
        json!({"images": ["%%%"]}),
        json!([1, 2]),
    ] {
        let model = answer(body);
        assert_eq!(
            run(&model, &puts(), nova(1)).await.unwrap_err().name(),
            "ModelError"
        );
    }
}

#[tokio::test]
async fn a_non_png_is_image_invalid() {
    let model = answer(json!({"images": [b64(b"\xff\xd8\xff\xe0not a png")]}));
    let s3 = puts();
    let err = run(&model, &s3, nova(1)).await.unwrap_err();
    assert_eq!(err.name(), "ImageInvalid");
    assert_eq!(s3.num_calls(), 0);
}

#[tokio::test]
async fn a_failed_write_is_a_storage_error() {
    let model = answer(json!({"images": [b64(&png(4, 4))]}));
    let s3 = mock!(aws_sdk_s3::Client::put_object).then_error(|| PutObjectError::unhandled("boom"));
    assert_eq!(
        run(&model, &s3, nova(1)).await.unwrap_err().name(),
        "StorageError"
    );
}

#[tokio::test]
async fn malformed_events_are_invalid_events() {
    let model = answer(json!({"images": []}));
    for bad in [json!(null), json!({}), json!({"request": {"prompt": 1}})] {
        assert_eq!(
            run(&model, &puts(), bad).await.unwrap_err().name(),
            "InvalidEvent"
        );
    }
}

/// A Stability model answering one image, only to a call of `model_id`.
fn stability_answers_for(model_id: &'static str) -> Rule {
    mock!(aws_sdk_bedrockruntime::Client::invoke_model)
        .match_requests(move |r| r.model_id() == Some(model_id))
        .then_output(|| {
            InvokeModelOutput::builder()
                .body(Blob::new(
                    json!({"images": [b64(&png(1024, 1024))], "seeds": [7], "finish_reasons": [null]})
                        .to_string(),
                ))
                .content_type("application/json")
                .build()
                .unwrap()
        })
}

#[tokio::test]
async fn a_slot_in_a_profile_pool_calls_the_profile_and_says_which_pool() {
    let profile = "us.stability.stable-image-core-v1:1";
    let model = stability_answers_for(profile);
    let s3 = puts();
    let mut event = event("stability.stable-image-core-v1:1", "stability", 1);
    event["slot"] = json!({"attempt": 1, "at": "2026-01-02T03:04:05.000Z", "pool": profile});
    let result = run(&model, &s3, event).await.unwrap();
    assert_eq!(model.num_calls(), 1, "the profile was called");
    assert_eq!(result["modelId"], "stability.stable-image-core-v1:1");
    assert_eq!(result["pool"], profile);
}

#[tokio::test]
async fn a_throttled_pool_is_named_and_an_unknown_pool_is_refused() {
    let throttled = fail(|| {
        InvokeModelError::ThrottlingException(
            ThrottlingException::builder()
                .message("Too many requests")
                .build(),
        )
    });
    let s3 = puts();
    let mut in_west = nova(1);
    in_west["slot"] = json!({"attempt": 1, "pool": "us-west-2"});
    let err = run(&throttled, &s3, in_west).await.unwrap_err();
    assert_eq!(err.name(), "ModelThrottled");
    assert!(err.to_string().contains("(pool us-west-2)"), "{err}");

    let untouched = fail(|| unreachable!("no call for a pool that is not one"));
    let mut nowhere = nova(1);
    nowhere["slot"] = json!({"attempt": 1, "pool": "mars-north-1x"});
    let err = run(&untouched, &s3, nowhere).await.unwrap_err();
    assert_eq!(err.name(), "InvalidEvent");
    assert_eq!(untouched.num_calls(), 0);
}

#[tokio::test]
async fn a_slot_for_a_fallback_model_calls_it_and_says_which_model_was_retired() {
    let ultra = "stability.stable-image-ultra-v1:1";
    let model = stability_answers_for(ultra);
    let s3 = puts();
    let mut event = event("stability.stable-image-core-v1:1", "stability", 1);
    event["slot"] = json!({"attempt": 1, "model": {"id": ultra, "family": "stability"}});
    let result = run(&model, &s3, event).await.unwrap();
    assert_eq!(model.num_calls(), 1, "the fallback was called");
    assert_eq!(result["modelId"], ultra);
    assert_eq!(result["fallbackFrom"], "stability.stable-image-core-v1:1");
    assert_eq!(result["images"][0]["key"], "images/exec-1/0.png");
}
