//! Property tests: the queue consumer takes any message bodies and any event shape without
//! panicking. Of an SQS event, each message is started or reported by its id (never lost, never
//! both); anything that is not an SQS event is a typed error (`InvalidEvent`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use aws_sdk_sfn::operation::start_execution::StartExecutionOutput;
use aws_sdk_sfn::primitives::DateTime;
use aws_smithy_mocks::{Rule, RuleMode, mock, mock_client};
use imagegen_aws::SfnStarter;
use proptest::prelude::*;
use queue_consumer::{Config, handle};
use serde_json::{Value, json};

const MACHINE: &str = "arn:aws:states:us-east-1:123456789012:stateMachine:Pipeline";

fn start_rule() -> Rule {
    mock!(aws_sdk_sfn::Client::start_execution).then_output(|| {
        StartExecutionOutput::builder()
            .execution_arn("arn:aws:states:us-east-1:123456789012:execution:Pipeline:x")
            .start_date(DateTime::from_secs(1_795_000_000))
            .build()
            .unwrap()
    })
}

fn run(event: Value) -> (Result<Value, String>, usize) {
    let config =
        Config::from_env(&[("STATE_MACHINE_ARN", MACHINE), ("BLOCKLIST", "gore")]).unwrap();
    let rule = start_rule();
    let starter = SfnStarter::new(
        mock_client!(aws_sdk_sfn, RuleMode::MatchAny, [&rule]),
        MACHINE,
    );
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let result = runtime.block_on(handle(&config, &starter, event));
    let result = result
        .map(|r| serde_json::to_value(r).unwrap())
        .map_err(|e| {
            assert_eq!(e.name(), "InvalidEvent", "{e}");
            assert!(!e.to_string().is_empty());
            e.to_string()
        });
    (result, rule.num_calls())
}

fn arb_body() -> impl Strategy<Value = String> {
    prop_oneof![
        ".{0,120}",
        prop::collection::vec(any::<u8>(), 0..120)
            .prop_map(|b| String::from_utf8_lossy(&b).into_owned()),
        (".{0,40}", any::<i64>(), proptest::option::of(".{0,20}")).prop_map(
            |(prompt, n, model)| {
                json!({"prompt": prompt, "width": n, "seed": n, "model": model}).to_string()
            }
        ),
        Just(json!({"prompt": "a lighthouse at dusk"}).to_string()),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn every_message_is_started_or_reported(bodies in prop::collection::vec(arb_body(), 1..10)) {
        let records: Vec<Value> = bodies.iter().enumerate().map(|(i, body)| json!({
            "messageId": format!("m-{i}"),
            "receiptHandle": format!("r-{i}"),
            "body": body,
            "attributes": {"ApproximateReceiveCount": "1"},
            "messageAttributes": {},
            "eventSource": "aws:sqs",
            "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:imagegen-prompts",
            "awsRegion": "us-east-1"
        })).collect();
        let (result, started) = run(json!({"Records": records}));
        let response = result.unwrap();
        let failed: Vec<&str> = response["batchItemFailures"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["itemIdentifier"].as_str().unwrap())
            .collect();
        prop_assert!(failed.iter().all(|id| id.starts_with("m-")), "{failed:?}");
        prop_assert_eq!(failed.len() + started, bodies.len(), "{:?}", failed);
    }

    #[test]
    fn anything_else_is_a_typed_error_or_an_answer(event in prop_oneof![
        Just(Value::Null),
        ".{0,40}".prop_map(Value::String),
        Just(json!({"Records": "no"})),
        Just(json!({"Records": [{"messageId": 7}]})),
        Just(json!({"Records": [{"body": "x"}]})),
        Just(json!([1, 2])),
    ]) {
        // Either the whole event is refused with InvalidEvent (checked in run) or answered.
        let _ = run(event);
    }
}
