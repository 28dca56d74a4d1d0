//! Property tests: the HTTP API answers any request body, idempotency key and request id with an
//! answer of its own (a 4xx that says why, or a start), never a panic or a 5xx, and its answers are
//! JSON. Step Functions and S3 are the real adapters over `aws-smithy-mocks`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use aws_sdk_sfn::operation::describe_execution::DescribeExecutionError;
use aws_sdk_sfn::operation::start_execution::StartExecutionOutput;
use aws_sdk_sfn::primitives::DateTime;
use aws_sdk_sfn::types::error::ExecutionDoesNotExist;
use aws_smithy_mocks::{MockResponse, RuleMode, mock, mock_client};
use http_api::{Config, Ports, handle};
use imagegen_aws::{S3Store, SfnDescriber, SfnStarter};
use proptest::prelude::*;
use serde_json::{Value, json};

const MACHINE: &str = "arn:aws:states:us-east-1:123456789012:stateMachine:Pipeline";

fn config() -> Config {
    Config::from_env(&[
        ("STATE_MACHINE_ARN", MACHINE),
        ("OUTPUT_BUCKET", "out-bucket"),
        ("BLOCKLIST", "gore"),
    ])
    .unwrap()
}

/// Every start succeeds; no execution is ever found (so every GET is about an unknown request).
fn ports() -> Ports<SfnStarter, SfnDescriber, S3Store> {
    let start = mock!(aws_sdk_sfn::Client::start_execution).then_output(|| {
        StartExecutionOutput::builder()
            .execution_arn("arn:aws:states:us-east-1:123456789012:execution:Pipeline:x")
            .start_date(DateTime::from_secs(1_795_000_000))
            .build()
            .unwrap()
    });
    let describe = mock!(aws_sdk_sfn::Client::describe_execution).then_compute_response(|_| {
        MockResponse::Error(DescribeExecutionError::ExecutionDoesNotExist(
            ExecutionDoesNotExist::builder()
                .message("Execution Does Not Exist")
                .build(),
        ))
    });
    let get = mock!(aws_sdk_s3::Client::get_object)
        .then_output(|| aws_sdk_s3::operation::get_object::GetObjectOutput::builder().build());
    let sfn = mock_client!(aws_sdk_sfn, RuleMode::MatchAny, [&start, &describe]);
    Ports {
        starter: SfnStarter::new(sfn.clone(), MACHINE),
        describer: SfnDescriber::new(sfn),
        store: S3Store::new(mock_client!(aws_sdk_s3, RuleMode::MatchAny, [&get])),
    }
}

fn fixture() -> Value {
    let path = format!(
        "{}/tests/fixtures/post-generate-image.json",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// The status and body of the answer to `event`; the body must be JSON.
fn answer(event: &Value) -> (u16, Value) {
    let request = lambda_http::request::from_str(&event.to_string()).unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let response = runtime.block_on(handle(&config(), &ports(), request));
    let body = serde_json::from_slice(response.body().as_ref())
        .unwrap_or_else(|e| panic!("not JSON ({e}): {:?}", response.body()));
    (response.status().as_u16(), body)
}

/// Console JSON with fields of any type, or not JSON at all.
fn arb_body() -> impl Strategy<Value = String> {
    let field = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        ".{0,30}".prop_map(Value::String),
        Just(json!([1, "a"])),
        Just(json!({"nested": true})),
    ];
    let name = prop::sample::select(
        &[
            "prompt",
            "negativePrompt",
            "width",
            "height",
            "seed",
            "numberOfImages",
            "cfgScale",
            "model",
            "quality",
            "outputFormat",
            "other",
        ][..],
    );
    prop_oneof![
        prop::collection::btree_map(name, field, 0..6).prop_map(|m| Value::Object(
            m.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
        )
        .to_string()),
        ".{0,200}",
        prop::collection::vec(any::<u8>(), 0..200)
            .prop_map(|b| String::from_utf8_lossy(&b).into_owned()),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(160))]

    #[test]
    // A header value is visible ASCII (API Gateway delivers no other), so the key is too.
    fn any_post_gets_an_answer_of_its_own(body in arb_body(), key in proptest::option::of("[!-~]([ -~]{0,78}[!-~])?")) {
        let mut event = fixture();
        event["body"] = json!(body);
        if let Some(key) = &key {
            event["headers"]["Idempotency-Key"] = json!(key);
        }
        let (status, answer) = answer(&event);
        prop_assert!(matches!(status, 202 | 400 | 409 | 413), "{status} {answer}");
        if status != 202 {
            prop_assert!(answer.to_string().len() > 2, "{status} says nothing");
        }
    }

    #[test]
    fn any_request_id_gets_an_answer_of_its_own(id in ".{0,120}", wait in proptest::option::of(".{0,6}")) {
        let mut event = fixture();
        event["resource"] = json!("/images/{requestId}");
        event["path"] = json!(format!("/images/{id}"));
        event["httpMethod"] = json!("GET");
        event["body"] = Value::Null;
        event["pathParameters"] = json!({"requestId": id});
        event["requestContext"]["resourcePath"] = json!("/images/{requestId}");
        event["requestContext"]["httpMethod"] = json!("GET");
        if let Some(wait) = &wait {
            event["queryStringParameters"] = json!({"wait": wait});
        }
        let (status, answer) = answer(&event);
        prop_assert!(matches!(status, 400 | 404), "{status} {answer}");
    }
}
