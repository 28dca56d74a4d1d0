#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use std::time::{Duration, Instant};

use aws_sdk_bedrockruntime::operation::invoke_model::InvokeModelError;
use aws_sdk_bedrockruntime::primitives::Blob;
use aws_smithy_types::retry::RetryConfig;
use base64::Engine as _;
use imagegen_aws::BedrockModel;
use imagegen_core::model::{
    ModelFamily, ModelImage, ResponseError, is_content_filter_message, parse_response, request_body,
};
use imagegen_core::pools::Invocation;
use imagegen_core::ports::{ImageModel, InvokeError};
use imagegen_core::types::{ImageRequest, ModelRef, OutputFormat, OutputLocation};
use imagegen_local::{ClientOptions, FakeModelBehavior, LocalAws};
use serde_json::{Value, json};

const TITAN: &str = "amazon.titan-image-generator-v2:0";
const NOVA: &str = "amazon.nova-canvas-v1:0";
const STABILITY: &str = "stability.stable-image-core-v1:1";
const ULTRA: &str = "stability.stable-image-ultra-v1:1";
const SD35: &str = "stability.sd3-5-large-v1:0";

fn request(model: &str, width: u32, height: u32, seed: u64) -> ImageRequest {
    let family = ModelFamily::from_model_id(model).unwrap();
    ImageRequest {
        request_id: "r1".into(),
        prompt: "a lighthouse on a cliff at dusk".into(),
        negative_prompt: Some("blurry".into()),
        model: ModelRef {
            id: model.into(),
            family,
        },
        width,
        height,
        number_of_images: 1,
        seed,
        cfg_scale: (family != ModelFamily::Stability).then_some(6.5),
        quality: None,
        output_format: None,
        source: None,
        output: OutputLocation {
            bucket: "b".into(),
            image_prefix: "images/r1/".into(),
            thumbnail_prefix: "thumbnails/r1/".into(),
            manifest_key: "results/r1.json".into(),
        },
        warnings: Vec::new(),
    }
}

async fn invoke(aws: &LocalAws, model: &str, body: &Value) -> Result<Vec<u8>, InvokeError> {
    invoke_in(aws, None, model, body).await
}

/// InvokeModel through the real adapter, in `region` when given (a pool's call).
async fn invoke_in(
    aws: &LocalAws,
    region: Option<&str>,
    model: &str,
    body: &Value,
) -> Result<Vec<u8>, InvokeError> {
    let call = Invocation {
        model_id: model.to_owned(),
        region: region.map(str::to_owned),
    };
    BedrockModel::new(aws.bedrock_client())
        .invoke(&call, body.to_string().into_bytes())
        .await
}

async fn images(aws: &LocalAws, req: &ImageRequest) -> Vec<ModelImage> {
    let body = invoke(aws, &req.model.id, &request_body(req))
        .await
        .unwrap();
    parse_response(req.model.family, &body).unwrap()
}

fn png_size(bytes: &[u8]) -> (u32, u32) {
    let decoder = png::Decoder::new(std::io::Cursor::new(bytes));
    let reader = decoder.read_info().unwrap();
    let info = reader.info();
    (info.width, info.height)
}

#[tokio::test]
async fn each_family_renders_a_png_of_the_requested_size() {
    let (_dir, aws) = common::local("bedrock-sizes", FakeModelBehavior::default());
    for (model, (w, h), expect) in [
        (TITAN, (1152, 768), (1152, 768)),
        (TITAN, (512, 512), (512, 512)),
        (NOVA, (1280, 720), (1280, 720)),
        (NOVA, (320, 1280), (320, 1280)),
        (STABILITY, (1920, 1080), (1344, 768)),
        (STABILITY, (1024, 1024), (1024, 1024)),
        (STABILITY, (800, 1200), (832, 1216)),
    ] {
        let got = images(&aws, &request(model, w, h, 7)).await;
        assert_eq!(got.len(), 1, "{model}");
        assert_eq!(png_size(&got[0].bytes), expect, "{model} {w}x{h}");
    }
    let stats = aws.model_stats();
    assert_eq!((stats.calls, stats.succeeded, stats.images), (7, 7, 7));
}

/// The size of a JPEG, decoded for real.
fn jpeg_size(bytes: &[u8]) -> (u32, u32) {
    assert_eq!(&bytes[..3], [0xFF, 0xD8, 0xFF], "not a JPEG");
    let decoded = image::load_from_memory_with_format(bytes, image::ImageFormat::Jpeg).unwrap();
    (decoded.width(), decoded.height())
}

#[tokio::test]
async fn the_current_stability_models_render_png_and_jpeg() {
    let (_dir, aws) = common::local("bedrock-stability-models", FakeModelBehavior::default());
    for model in [STABILITY, ULTRA, SD35] {
        let png = images(&aws, &request(model, 1920, 1080, 7)).await;
        assert_eq!(png_size(&png[0].bytes), (1344, 768), "{model}");
        let mut jpeg_request = request(model, 640, 1536, 7);
        jpeg_request.output_format = Some(OutputFormat::Jpeg);
        let body = request_body(&jpeg_request);
        assert_eq!(body["output_format"], "jpeg");
        let jpeg = images(&aws, &jpeg_request).await;
        assert_eq!(jpeg_size(&jpeg[0].bytes), (640, 1536), "{model}");
        assert_eq!(jpeg[0].seed, Some(7));
        // The same scene in either format: deterministic.
        assert_eq!(images(&aws, &jpeg_request).await[0].bytes, jpeg[0].bytes);
    }
    // A filtered JPEG request carries a black JPEG, as the real response carries an image.
    let filtered = FakeModelBehavior {
        filter_terms: vec!["gore".into()],
        ..FakeModelBehavior::default()
    };
    aws.model().set_behavior(filtered);
    let mut gory = request(ULTRA, 1024, 1024, 1);
    gory.prompt = "gore".into();
    gory.output_format = Some(OutputFormat::Jpeg);
    let body = invoke(&aws, ULTRA, &request_body(&gory)).await.unwrap();
    let raw: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(raw["finish_reasons"], json!(["Filter reason: prompt"]));
    let blank = base64::engine::general_purpose::STANDARD
        .decode(raw["images"][0].as_str().unwrap())
        .unwrap();
    assert_eq!(jpeg_size(&blank), (1024, 1024));
}

#[tokio::test]
async fn each_stability_model_refuses_what_its_page_does_not_document() {
    let (_dir, aws) = common::local("bedrock-stability-refusals", FakeModelBehavior::default());
    let cases = [
        (
            STABILITY,
            json!({"prompt": "a", "output_format": "webp"}),
            "#/output_format: webp is not a valid enum value",
        ),
        (
            ULTRA,
            json!({"prompt": "a", "output_format": "webp"}),
            "#/output_format: webp is not a valid enum value",
        ),
        (
            STABILITY,
            json!({"prompt": "a", "mode": "text-to-image"}),
            "extraneous key [mode]",
        ),
        (
            ULTRA,
            json!({"prompt": "a", "mode": "image-to-image"}),
            "#/mode: image-to-image is not a valid enum value",
        ),
        (
            SD35,
            json!({"prompt": "a", "mode": "image-to-image", "image": "aGk=", "strength": 0.5}),
            "not supported by the offline image model",
        ),
        (
            SD35,
            json!({"prompt": "a", "cfg_scale": 5}),
            "extraneous key [cfg_scale]",
        ),
        (
            SD35,
            json!({"prompt": "a", "seed": 4_294_967_295_u64}),
            "#/seed: 4294967295 is not less or equal to 4294967294",
        ),
        (
            ULTRA,
            json!({"prompt": "a", "negative_prompt": "n".repeat(10_001)}),
            "#/negative_prompt: expected maxLength: 10000, actual: 10001",
        ),
        (
            "stability.sd3-large-v1:0",
            json!({"prompt": "a"}),
            "model identifier is invalid",
        ),
    ];
    for (model, body, expect) in &cases {
        match invoke(&aws, model, body).await {
            Err(InvokeError::Refused(message)) => {
                assert!(message.contains(expect), "{model} {body}: {message}");
            }
            other => panic!("{model} {body}: {other:?}"),
        }
    }
    assert_eq!(aws.model_stats().invalid, cases.len() as u64);
    // What the pages do document is answered.
    for (model, body) in [
        (
            ULTRA,
            json!({"prompt": "a", "mode": "text-to-image", "output_format": "jpeg"}),
        ),
        (
            SD35,
            json!({"prompt": "a", "mode": "text-to-image", "output_format": "webp"}),
        ),
        (
            STABILITY,
            json!({"prompt": "a", "negative_prompt": "", "aspect_ratio": "9:21"}),
        ),
    ] {
        assert!(invoke(&aws, model, &body).await.is_ok(), "{model} {body}");
    }
}

#[tokio::test]
async fn same_input_same_bytes_other_seed_other_bytes() {
    let (_dir, aws) = common::local("bedrock-determinism", FakeModelBehavior::default());
    for model in [TITAN, NOVA, STABILITY] {
        let a = images(&aws, &request(model, 512, 512, 11)).await;
        let b = images(&aws, &request(model, 512, 512, 11)).await;
        let c = images(&aws, &request(model, 512, 512, 12)).await;
        assert_eq!(a[0].bytes, b[0].bytes, "{model}");
        assert_ne!(a[0].bytes, c[0].bytes, "{model}");
    }
    // Stability reports the seed it used.
    let s = images(&aws, &request(STABILITY, 1024, 1024, 99)).await;
    assert_eq!(s[0].seed, Some(99));
}

#[tokio::test]
async fn several_images_differ() {
    let (_dir, aws) = common::local("bedrock-several", FakeModelBehavior::default());
    let mut req = request(NOVA, 512, 512, 3);
    req.number_of_images = 3;
    let got = images(&aws, &req).await;
    assert_eq!(got.len(), 3);
    assert_ne!(got[0].bytes, got[1].bytes);
    assert_ne!(got[1].bytes, got[2].bytes);
    assert_eq!(aws.model_stats().images, 3);
}

#[tokio::test]
async fn malformed_requests_are_refused_like_bedrock() {
    let (_dir, aws) = common::local("bedrock-malformed", FakeModelBehavior::default());
    let text_image = |params: Value, config: Value| json!({"taskType": "TEXT_IMAGE", "textToImageParams": params, "imageGenerationConfig": config});
    let cases = [
        (
            TITAN,
            text_image(json!({"text": "a"}), json!({"width": 1000, "height": 1000})),
            "1000x1000",
        ),
        (
            TITAN,
            text_image(json!({"text": "x".repeat(513)}), json!({})),
            "maxLength: 512",
        ),
        (
            TITAN,
            text_image(json!({"text": "a"}), json!({"seed": 2_147_483_647_u64})),
            "seed",
        ),
        (
            NOVA,
            text_image(json!({}), json!({})),
            "required key [text] not found",
        ),
        (
            NOVA,
            text_image(json!({"text": "a", "negativeText": ""}), json!({})),
            "minLength: 1",
        ),
        (
            NOVA,
            text_image(json!({"text": "a"}), json!({"numberOfImages": 6})),
            "numberOfImages",
        ),
        (
            NOVA,
            text_image(json!({"text": "a"}), json!({"cfgScale": 11.0})),
            "cfgScale",
        ),
        (
            NOVA,
            text_image(json!({"text": "a"}), json!({"seed": 858_993_460_u64})),
            "seed",
        ),
        (
            NOVA,
            text_image(json!({"text": "a"}), json!({"width": 1000})),
            "multiple of 16",
        ),
        (
            NOVA,
            text_image(json!({"text": "a"}), json!({"sed": 1})),
            "extraneous key [sed]",
        ),
        (
            NOVA,
            json!({"textToImageParams": {"text": "a"}}),
            "required key [taskType]",
        ),
        (
            NOVA,
            json!({"taskType": "TEXT_IMAGE"}),
            "required key [textToImageParams]",
        ),
        (
            STABILITY,
            json!({"prompt": "a", "width": 512}),
            "extraneous key [width]",
        ),
        (STABILITY, json!({"prompt": ""}), "minLength: 1"),
        (
            STABILITY,
            json!({"prompt": "a", "aspect_ratio": "7:5"}),
            "not a valid enum value",
        ),
        (
            STABILITY,
            json!({"prompt": "a", "seed": 4_294_967_295_u64}),
            "seed",
        ),
        (
            STABILITY,
            json!({"negative_prompt": "a"}),
            "required key [prompt]",
        ),
        (
            "amazon.titan-text-express-v1",
            json!({}),
            "model identifier is invalid",
        ),
    ];
    for (model, body, expect) in cases {
        match invoke(&aws, model, &body).await {
            Err(InvokeError::Refused(message)) => {
                assert!(message.contains(expect), "{model} {body}: {message}");
                assert!(!is_content_filter_message(&message), "{message}");
            }
            other => panic!("{model} {body}: {other:?}"),
        }
    }
    assert_eq!(aws.model_stats().invalid, 18);

    // Not JSON at all.
    let call = Invocation {
        model_id: NOVA.into(),
        region: None,
    };
    let got = BedrockModel::new(aws.bedrock_client())
        .invoke(&call, b"{not json".to_vec())
        .await;
    assert!(matches!(got, Err(InvokeError::Refused(m)) if m.contains("Malformed input request")));
}

#[tokio::test]
async fn errors_are_typed_by_the_sdk() {
    let behavior = FakeModelBehavior {
        throttle: 1,
        unavailable: 1,
        timeout: 1,
        ..FakeModelBehavior::default()
    };
    let (_dir, aws) = common::local("bedrock-typed", behavior);
    let client = aws.bedrock_client();
    let body = request_body(&request(NOVA, 512, 512, 1)).to_string();
    let mut kinds = Vec::new();
    for _ in 0..4 {
        let result = client
            .invoke_model()
            .model_id(NOVA)
            .content_type("application/json")
            .body(Blob::new(body.clone()))
            .send()
            .await;
        kinds.push(match result {
            Ok(out) => {
                assert_eq!(out.content_type(), "application/json");
                "ok"
            }
            Err(e) => {
                let status = e.raw_response().map(|r| r.status().as_u16());
                match e.into_service_error() {
                    InvokeModelError::ThrottlingException(_) => {
                        assert_eq!(status, Some(429));
                        "throttling"
                    }
                    InvokeModelError::ServiceUnavailableException(_) => {
                        assert_eq!(status, Some(503));
                        "unavailable"
                    }
                    InvokeModelError::ModelTimeoutException(_) => {
                        assert_eq!(status, Some(408));
                        "timeout"
                    }
                    other => panic!("{other:?}"),
                }
            }
        });
    }
    assert_eq!(kinds, ["throttling", "unavailable", "timeout", "ok"]);
}

#[tokio::test]
async fn throttle_n_then_succeed() {
    let behavior = FakeModelBehavior {
        throttle: 2,
        ..FakeModelBehavior::default()
    };
    let (_dir, aws) = common::local("bedrock-throttle", behavior);
    let req = request(TITAN, 512, 512, 1);
    for _ in 0..2 {
        let got = invoke(&aws, TITAN, &request_body(&req)).await;
        assert!(matches!(got, Err(InvokeError::Throttled(_))), "{got:?}");
    }
    assert!(invoke(&aws, TITAN, &request_body(&req)).await.is_ok());
    let stats = aws.model_stats();
    assert_eq!((stats.calls, stats.throttled, stats.succeeded), (3, 2, 1));
    assert_eq!(aws.model().behavior().throttle, 0);
}

#[tokio::test]
async fn the_sdk_retries_throttling_on_its_own() {
    let dir = common::TempDir::new("bedrock-sdk-retry");
    let options = ClientOptions {
        retry: RetryConfig::standard()
            .with_max_attempts(3)
            .with_initial_backoff(Duration::from_millis(1)),
        ..ClientOptions::default()
    };
    let behavior = FakeModelBehavior {
        throttle: 2,
        ..FakeModelBehavior::default()
    };
    let aws = LocalAws::open_with(dir.path(), options, behavior).unwrap();
    let req = request(TITAN, 512, 512, 1);
    assert!(invoke(&aws, TITAN, &request_body(&req)).await.is_ok());
    assert_eq!(aws.model_stats().calls, 3);
}

#[tokio::test]
async fn content_filter_for_each_family() {
    let behavior = FakeModelBehavior {
        filter_terms: vec!["gore".into(), "violence".into()],
        ..FakeModelBehavior::default()
    };
    let (_dir, aws) = common::local("bedrock-filter", behavior);
    for model in [TITAN, NOVA] {
        let mut req = request(model, 512, 512, 1);
        req.prompt = "Scenes of VIOLENCE".into();
        match invoke(&aws, model, &request_body(&req)).await {
            Err(InvokeError::Refused(m)) => {
                assert_eq!(m, "This request has been blocked by our content filters.");
                assert!(is_content_filter_message(&m));
            }
            other => panic!("{model}: {other:?}"),
        }
    }
    let mut req = request(STABILITY, 1024, 1024, 1);
    req.prompt = "some gore".into();
    let body = invoke(&aws, STABILITY, &request_body(&req)).await.unwrap();
    let raw: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(raw["finish_reasons"], json!(["Filter reason: prompt"]));
    assert!(matches!(
        parse_response(ModelFamily::Stability, &body),
        Err(ResponseError::Filtered(r)) if r == "Filter reason: prompt"
    ));
    assert_eq!(aws.model_stats().filtered, 3);
    // Unfiltered prompts still pass.
    assert!(
        invoke(&aws, NOVA, &request_body(&request(NOVA, 512, 512, 1)))
            .await
            .is_ok()
    );
}

#[tokio::test]
async fn timeout_and_unavailable_are_unavailable() {
    let behavior = FakeModelBehavior {
        timeout: 1,
        unavailable: 1,
        ..FakeModelBehavior::default()
    };
    let (_dir, aws) = common::local("bedrock-timeout", behavior);
    let body = request_body(&request(NOVA, 512, 512, 1));
    let first = invoke(&aws, NOVA, &body).await;
    assert!(
        matches!(first, Err(InvokeError::Unavailable(ref m)) if m.contains("unable to process")),
        "{first:?}"
    );
    let second = invoke(&aws, NOVA, &body).await;
    assert!(
        matches!(second, Err(InvokeError::Unavailable(ref m)) if m.contains("timed out")),
        "{second:?}"
    );
    assert!(invoke(&aws, NOVA, &body).await.is_ok());
    let stats = aws.model_stats();
    assert_eq!((stats.timed_out, stats.unavailable), (1, 1));
}

/// Told a model is retired, the offline model answers as Bedrock does for one past its end of
/// life: HTTP 404 `ResourceNotFoundException` with Bedrock's words, for the model and its
/// inference profiles, every time; the other models still draw.
#[tokio::test]
async fn a_retired_model_is_refused_as_bedrock_refuses_it() {
    let behavior = FakeModelBehavior {
        retired: vec![STABILITY.into()],
        ..FakeModelBehavior::default()
    };
    let (_dir, aws) = common::local("bedrock-retired", behavior);
    let body = request_body(&request(STABILITY, 1024, 1024, 1));
    let raw = aws
        .bedrock_client()
        .invoke_model()
        .model_id(STABILITY)
        .body(Blob::new(body.to_string()))
        .send()
        .await
        .unwrap_err();
    assert_eq!(raw.raw_response().map(|r| r.status().as_u16()), Some(404));
    let service = raw.into_service_error();
    assert!(
        matches!(service, InvokeModelError::ResourceNotFoundException(_)),
        "{service:?}"
    );
    assert_eq!(
        aws_sdk_bedrockruntime::error::ProvideErrorMetadata::message(&service),
        Some(imagegen_local::bedrock::END_OF_LIFE_MESSAGE)
    );
    for model in [STABILITY, "us.stability.stable-image-core-v1:1"] {
        let got = invoke(&aws, model, &body).await;
        assert_eq!(
            got,
            Err(InvokeError::Retired(
                imagegen_local::bedrock::END_OF_LIFE_MESSAGE.into()
            ))
        );
    }
    assert!(
        invoke(&aws, ULTRA, &request_body(&request(ULTRA, 1024, 1024, 1)))
            .await
            .is_ok()
    );
    let stats = aws.model_stats();
    assert_eq!((stats.retired, stats.succeeded), (3, 1));
}

#[tokio::test]
async fn corrupt_images_are_not_pngs() {
    let (_dir, aws) = common::local("bedrock-corrupt", FakeModelBehavior::default());
    aws.model().update_behavior(|b| b.corrupt = 1);
    let req = request(TITAN, 512, 512, 1);
    let bad = images(&aws, &req).await;
    assert!(
        png::Decoder::new(std::io::Cursor::new(&bad[0].bytes))
            .read_info()
            .is_err()
    );
    let good = images(&aws, &req).await;
    assert_eq!(png_size(&good[0].bytes), (512, 512));
    assert_eq!(aws.model_stats().corrupted, 1);
}

#[tokio::test]
async fn latency_is_applied() {
    let behavior = FakeModelBehavior {
        latency: Duration::from_millis(50),
        ..FakeModelBehavior::default()
    };
    let (_dir, aws) = common::local("bedrock-latency", behavior);
    let started = Instant::now();
    images(&aws, &request(NOVA, 320, 320, 1)).await;
    assert!(started.elapsed() >= Duration::from_millis(50));
}

#[test]
fn renders_1024_square_quickly() {
    let started = Instant::now();
    let png = imagegen_local::bedrock::render::render_png("a calm harbour", 5, 1024, 1024).unwrap();
    let elapsed = started.elapsed();
    assert_eq!(png_size(&png), (1024, 1024));
    // Generous for a shared, unoptimised debug build; release takes a few tens of milliseconds.
    assert!(elapsed < Duration::from_secs(2), "{elapsed:?}");
    eprintln!("1024x1024 render+encode: {elapsed:?}, {} bytes", png.len());
}

#[tokio::test]
async fn the_quota_throttles_past_its_rate_on_the_given_clock() {
    let behavior = FakeModelBehavior {
        quota_rpm: Some(20),
        max_image_side: Some(32),
        ..FakeModelBehavior::default()
    };
    let (_dir, aws) = common::local("bedrock-quota", behavior);
    let clock = std::sync::Arc::new(imagegen_statemachine::VirtualClock::new(
        chrono::DateTime::from_timestamp(1_700_000_000, 0).unwrap(),
    ));
    aws.model().set_clock(clock.clone());
    let req = request(STABILITY, 1024, 1024, 1);
    for _ in 0..20 {
        let png = invoke(&aws, STABILITY, &request_body(&req)).await.unwrap();
        let image = &parse_response(ModelFamily::Stability, &png).unwrap()[0];
        assert_eq!(png_size(&image.bytes), (32, 32), "drawn small, square kept");
    }
    let over = invoke(&aws, STABILITY, &request_body(&req)).await;
    assert!(matches!(over, Err(InvokeError::Throttled(_))), "{over:?}");
    imagegen_statemachine::Clock::sleep(clock.as_ref(), Duration::from_millis(2_999)).await;
    assert!(invoke(&aws, STABILITY, &request_body(&req)).await.is_err());
    imagegen_statemachine::Clock::sleep(clock.as_ref(), Duration::from_millis(1)).await;
    assert!(invoke(&aws, STABILITY, &request_body(&req)).await.is_ok());
    let stats = aws.model_stats();
    assert_eq!(
        (
            stats.calls,
            stats.succeeded,
            stats.throttled,
            stats.over_quota
        ),
        (23, 21, 2, 2)
    );
    assert_eq!(stats.arrivals[&format!("{STABILITY}@us-east-1")].len(), 23);
    assert_eq!(stats.max_calls_per_minute(), 23);
}

#[tokio::test]
async fn each_pool_has_its_own_quota_and_its_own_throttles() {
    let profile = format!("us.{STABILITY}");
    let behavior = FakeModelBehavior {
        pool_quota_rpm: [("us-west-2".to_owned(), 2), (profile.clone(), 3)].into(),
        pool_throttle: [("us-east-2".to_owned(), 1)].into(),
        max_image_side: Some(16),
        ..FakeModelBehavior::default()
    };
    let (_dir, aws) = common::local("bedrock-pools", behavior);
    let clock = std::sync::Arc::new(imagegen_statemachine::VirtualClock::new(
        chrono::DateTime::from_timestamp(1_700_000_000, 0).unwrap(),
    ));
    aws.model().set_clock(clock.clone());
    let body = request_body(&request(STABILITY, 1024, 1024, 1));
    let outcomes = async |region: Option<&str>, model: &str, n: usize| {
        let mut ok = 0;
        for _ in 0..n {
            ok += usize::from(invoke_in(&aws, region, model, &body).await.is_ok());
        }
        ok
    };
    // The Region the SDK signs for picks the pool: us-west-2 takes 2 a minute.
    assert_eq!(outcomes(Some("us-west-2"), STABILITY, 4).await, 2);
    // The profile has its own 3, whichever Region calls it.
    assert_eq!(outcomes(None, &profile, 4).await, 3);
    // A Region without a quota of its own is not limited, and its injected throttle is its own.
    assert_eq!(outcomes(Some("us-east-2"), STABILITY, 4).await, 3);
    assert_eq!(outcomes(Some("eu-west-1"), STABILITY, 4).await, 4);
    let busiest = aws.model_stats().busiest_minutes();
    assert_eq!(busiest[&format!("{STABILITY}@us-west-2")], 4);
    assert_eq!(busiest[&profile], 4);
    assert_eq!(aws.model_stats().over_quota, 3);
}
