//! Property tests: ValidatePrompt takes any console input and any prompt file (any bytes, any JSON
//! shape) without panicking; what it cannot use is a typed error (`PromptRejected`, or
//! `InvalidEvent` for an event of the wrong shape), never anything else.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use aws_sdk_s3::operation::get_object::GetObjectOutput;
use aws_sdk_s3::primitives::ByteStream;
use aws_smithy_mocks::{RuleMode, mock, mock_client};
use imagegen_aws::S3Store;
use imagegen_core::PipelineError;
use proptest::prelude::*;
use serde_json::{Map, Value, json};
use validate_prompt::{Config, handle};

const NAMES: &[&str] = &[
    "prompt",
    "negativePrompt",
    "width",
    "height",
    "numberOfImages",
    "seed",
    "cfgScale",
    "quality",
    "model",
    "source",
    "bucket",
    "key",
    "versionId",
    "input",
    "executionName",
];

fn arb_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u32>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        prop::sample::select(
            &[
                "standard",
                "premium",
                "amazon.nova-canvas-v1:0",
                "prompts/a.json",
                "a cat",
                ""
            ][..]
        )
        .prop_map(|s| Value::String(s.to_owned())),
        "\\PC{0,40}".prop_map(Value::String),
        ".{0,40}".prop_map(Value::String),
    ];
    let key = prop_oneof![
        3 => prop::sample::select(NAMES).prop_map(str::to_owned),
        1 => ".{0,8}",
    ];
    leaf.prop_recursive(4, 64, 8, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::vec((key.clone(), inner), 0..8)
                .prop_map(|fields| Value::Object(fields.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

fn config() -> Config {
    Config::from_env(&[
        ("OUTPUT_BUCKET", "out"),
        ("ALLOWED_MODEL_IDS", "stability.stable-image-core-v1:1,amazon.nova-canvas-v1:0,amazon.titan-image-generator-v2:0"),
        ("BLOCKLIST", "gore,red panda"),
    ])
    .unwrap()
}

/// A store whose every object holds `body`.
fn store_holding(body: Vec<u8>) -> S3Store {
    let rule = mock!(aws_sdk_s3::Client::get_object).then_output(move || {
        GetObjectOutput::builder()
            .content_length(body.len() as i64)
            .body(ByteStream::from(body.clone()))
            .build()
    });
    S3Store::new(mock_client!(aws_sdk_s3, RuleMode::MatchAny, [&rule]))
}

fn run(store: &S3Store, event: Value) -> Result<(), PipelineError> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async { handle(&config(), store, event).await.map(|_| ()) })
}

fn typed(result: Result<(), PipelineError>, what: &str) {
    if let Err(e) = result {
        assert!(
            matches!(e.name(), "PromptRejected" | "InvalidEvent"),
            "{what}: {} {e}",
            e.name()
        );
        assert!(!e.to_string().is_empty(), "{what}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(192))]

    #[test]
    fn any_console_input_is_a_request_or_a_typed_error(input in arb_json()) {
        let store = store_holding(b"a cat".to_vec());
        typed(run(&store, json!({"input": input.clone(), "executionName": "e"})), &input.to_string());
        typed(run(&store, input.clone()), &input.to_string());
    }

    #[test]
    fn any_prompt_file_is_a_request_or_a_typed_error(
        body in prop_oneof![
            prop::collection::vec(any::<u8>(), 0..300),
            arb_json().prop_map(|v| v.to_string().into_bytes()),
        ],
        json_file in any::<bool>(),
    ) {
        let key = if json_file { "prompts/p.json" } else { "prompts/p.txt" };
        let event = json!({"input": {"source": {"bucket": "in", "key": key}}, "executionName": "e"});
        typed(run(&store_holding(body.clone()), event), &String::from_utf8_lossy(&body));
    }
}
