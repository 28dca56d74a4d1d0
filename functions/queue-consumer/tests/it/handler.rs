//! The queue consumer through the real `SfnStarter` adapter, with Step Functions answered by
//! `aws-smithy-mocks` as the service answers (a name in use is `ExecutionAlreadyExists`). Events
//! are SQS events as Lambda's event source mapping delivers them.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use aws_sdk_sfn::operation::start_execution::{StartExecutionError, StartExecutionOutput};
use aws_sdk_sfn::primitives::DateTime;
use aws_sdk_sfn::types::error::{ExecutionAlreadyExists, ExecutionLimitExceeded};
use aws_smithy_mocks::{MockResponse, Rule, RuleMode, mock, mock_client};
use imagegen_aws::SfnStarter;
use queue_consumer::{Config, handle};
use serde_json::{Value, json};

const MACHINE: &str = "arn:aws:states:us-east-1:123456789012:stateMachine:Pipeline";
const EXECUTIONS: &str = "arn:aws:states:us-east-1:123456789012:execution:Pipeline";
const QUEUE: &str = "arn:aws:sqs:us-east-1:123456789012:imagegen-prompts";

fn config() -> Config {
    Config::from_env(&[("STATE_MACHINE_ARN", MACHINE), ("BLOCKLIST", "gore")]).unwrap()
}

/// Executions by name, with their input.
type Executions = Arc<Mutex<BTreeMap<String, Value>>>;

/// Step Functions: a new name starts, a known one is `ExecutionAlreadyExists`; a name listed in
/// `throttled` is refused with `ExecutionLimitExceeded`.
fn step_functions(throttled: &'static [&'static str]) -> (Rule, Executions) {
    let executions: Executions = Arc::default();
    let known = executions.clone();
    let rule = mock!(aws_sdk_sfn::Client::start_execution).then_compute_response(move |req| {
        let name = req.name().unwrap().to_owned();
        let input: Value = serde_json::from_str(req.input().unwrap()).unwrap();
        if input["prompt"]
            .as_str()
            .is_some_and(|p| throttled.contains(&p))
        {
            return MockResponse::Error(StartExecutionError::ExecutionLimitExceeded(
                ExecutionLimitExceeded::builder()
                    .message("Maximum number of running executions reached")
                    .build(),
            ));
        }
        let mut known = known.lock().unwrap();
        if known.contains_key(&name) {
            return MockResponse::Error(StartExecutionError::ExecutionAlreadyExists(
                ExecutionAlreadyExists::builder().message("exists").build(),
            ));
        }
        known.insert(name.clone(), input);
        MockResponse::Output(
            StartExecutionOutput::builder()
                .execution_arn(format!("{EXECUTIONS}:{name}"))
                .start_date(DateTime::from_secs(1_795_000_000))
                .build()
                .unwrap(),
        )
    });
    (rule, executions)
}

fn starter(rule: &Rule) -> SfnStarter {
    SfnStarter::new(
        mock_client!(aws_sdk_sfn, RuleMode::MatchAny, [rule]),
        MACHINE,
    )
}

/// An SQS record as Lambda delivers it.
fn record(id: &str, body: &str) -> Value {
    json!({
        "messageId": id,
        "receiptHandle": format!("AQEB{id}"),
        "body": body,
        "attributes": {
            "ApproximateReceiveCount": "1",
            "SentTimestamp": "1795953600000",
            "SenderId": "AIDAIENQZJOLO23YVJ4VO",
            "ApproximateFirstReceiveTimestamp": "1795953600001"
        },
        "messageAttributes": {},
        "md5OfBody": "e4e68fb7bd0e697a0ae8f1bb342846b3",
        "eventSource": "aws:sqs",
        "eventSourceARN": QUEUE,
        "awsRegion": "us-east-1"
    })
}

fn failures(response: &aws_lambda_events::event::sqs::SqsBatchResponse) -> Vec<String> {
    let value = serde_json::to_value(response).unwrap();
    value["batchItemFailures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["itemIdentifier"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn a_batch_of_ten_with_two_bad_messages_starts_eight_and_reports_two() {
    let (rule, executions) = step_functions(&[]);
    let mut records: Vec<Value> = (0..10)
        .map(|i| {
            record(
                &format!("msg-{i}"),
                &json!({"prompt": format!("a lighthouse, take {i}")}).to_string(),
            )
        })
        .collect();
    records[3] = record("msg-3", "not json at all");
    records[7] = record("msg-7", r#"{"prompt": "lots of gore", "width": 1000}"#);
    let response = handle(&config(), &starter(&rule), json!({"Records": records}))
        .await
        .unwrap();
    assert_eq!(failures(&response), ["msg-3", "msg-7"]);
    let executions = executions.lock().unwrap();
    assert_eq!(executions.len(), 8, "{executions:#?}");
    assert!(executions.keys().all(|n| n.starts_with("sqs-")));
    assert!(
        executions
            .values()
            .any(|i| *i == json!({"prompt": "a lighthouse, take 9"}))
    );
    assert_eq!(rule.num_calls(), 8, "bad messages start nothing");
}

#[tokio::test]
async fn a_message_delivered_twice_starts_one_execution() {
    let (rule, executions) = step_functions(&[]);
    let starter = starter(&rule);
    let event = json!({"Records": [record("msg-1", r#"{"prompt": "a castle"}"#)]});
    for _ in 0..2 {
        let response = handle(&config(), &starter, event.clone()).await.unwrap();
        assert!(failures(&response).is_empty(), "{response:?}");
    }
    assert_eq!(rule.num_calls(), 2);
    assert_eq!(executions.lock().unwrap().len(), 1);
    // The same text sent again is another message: another execution.
    let again = json!({"Records": [record("msg-2", r#"{"prompt": "a castle"}"#)]});
    handle(&config(), &starter, again).await.unwrap();
    assert_eq!(executions.lock().unwrap().len(), 2);
}

#[tokio::test]
async fn a_start_that_fails_is_reported_and_the_others_still_start() {
    let (rule, executions) = step_functions(&["busy"]);
    let event = json!({"Records": [
        record("m1", r#"{"prompt": "busy"}"#),
        record("m2", r#"{"prompt": "a lighthouse"}"#),
    ]});
    let response = handle(&config(), &starter(&rule), event).await.unwrap();
    assert_eq!(failures(&response), ["m1"]);
    assert_eq!(executions.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn an_event_that_is_not_from_sqs_is_an_error() {
    let (rule, _) = step_functions(&[]);
    for event in [
        json!([1, 2]),
        json!({"Records": "no"}),
        json!({"Records": [{"body": "{}"}]}),
    ] {
        let err = handle(&config(), &starter(&rule), event.clone())
            .await
            .unwrap_err();
        assert_eq!(err.name(), "InvalidEvent", "{event}: {err}");
    }
    assert_eq!(rule.num_calls(), 0);
}
