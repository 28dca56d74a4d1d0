//! The TestState API on the engine: one state, mocked work, inspection data, retry and
//! catch outcomes, and the requests it refuses.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use imagegen_statemachine::{
    Engine, FieldValidationMode, InspectionLevel, Mock, Registry, SeededRng, StateConfiguration,
    TestStateError, TestStateRequest, TestStateStatus,
};
use serde_json::{Value, json};
use std::sync::Arc;

fn engine() -> Engine {
    let reg = Registry::new().with("shout", |v: Value| async move {
        Ok(json!(v["word"].as_str().unwrap_or("").to_uppercase()))
    });
    Engine::new(reg).with_rng(Arc::new(SeededRng::new(1)))
}

fn request(state: Value, input: &str) -> TestStateRequest {
    TestStateRequest {
        definition: state.to_string(),
        input: input.to_string(),
        inspection_level: InspectionLevel::Debug,
        ..Default::default()
    }
}

#[tokio::test]
async fn runs_a_task_and_shows_each_step() {
    let state = json!({"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:111111111111:function:shout",
        "InputPath": "$.in", "ResultPath": "$.out", "Next": "Later"});
    let r = engine()
        .test_state(&request(state, r#"{"in": {"word": "hi"}}"#))
        .await
        .unwrap();
    assert_eq!(r.status, TestStateStatus::Succeeded);
    assert_eq!(r.next_state.as_deref(), Some("Later"));
    assert_eq!(
        r.output.as_deref(),
        Some(r#"{"in":{"word":"hi"},"out":"HI"}"#)
    );
    let data = r.inspection_data.unwrap();
    assert_eq!(
        data["input"], r#"{"in": {"word": "hi"}}"#,
        "the input as written"
    );
    assert_eq!(data["afterInputPath"], r#"{"word": "hi"}"#);
    assert_eq!(data["result"], r#""HI""#);
    assert_eq!(
        data["afterResultPath"],
        r#"{"in":{"word":"hi"},"out":"HI"}"#
    );
}

#[tokio::test]
async fn mocked_errors_are_retriable_then_caught() {
    let state = json!({"Type": "Task", "QueryLanguage": "JSONata", "Resource": "arn:aws:states:::lambda:invoke",
        "Arguments": {"FunctionName": "f"},
        "Retry": [{"ErrorEquals": ["Boom"], "IntervalSeconds": 2, "MaxAttempts": 2, "BackoffRate": 3}],
        "Catch": [{"ErrorEquals": ["States.ALL"], "Output": "{% $states.errorOutput.Error %}", "Next": "Handle"}],
        "End": true});
    let mut req = request(state, "{}");
    req.mock = Some(Mock::ErrorOutput {
        error: "Boom".into(),
        cause: "it broke".into(),
    });
    req.state_configuration = StateConfiguration {
        retrier_retry_count: 1,
        ..Default::default()
    };
    let r = engine().test_state(&req).await.unwrap();
    assert_eq!(r.status, TestStateStatus::Retriable);
    assert_eq!(
        r.inspection_data.unwrap()["errorDetails"],
        json!({"retryIndex": 0, "retryBackoffIntervalSeconds": 6})
    );
    req.state_configuration.retrier_retry_count = 2;
    let r = engine().test_state(&req).await.unwrap();
    assert_eq!(r.status, TestStateStatus::CaughtError);
    assert_eq!(r.output.as_deref(), Some(r#""Boom""#));
    assert_eq!(r.next_state.as_deref(), Some("Handle"));
    assert_eq!(
        (r.error.as_deref(), r.cause.as_deref()),
        (Some("Boom"), Some("it broke"))
    );
}

#[tokio::test]
async fn a_map_fails_when_mocked_failures_exceed_its_tolerance() {
    let state = json!({"Type": "Map", "ItemsPath": "$.items", "ToleratedFailureCount": 1, "End": true,
        "ItemProcessor": {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}});
    let mut req = request(state, r#"{"items": [1, 2, 3]}"#);
    req.mock = Some(Mock::Result("[1, 2, 3]".into()));
    req.state_configuration.map_iteration_failure_count = Some(1);
    let r = engine().test_state(&req).await.unwrap();
    assert_eq!(r.status, TestStateStatus::Succeeded);
    assert_eq!(
        r.output.as_deref(),
        Some("[1, 2, 3]"),
        "the mock as written"
    );
    req.state_configuration.map_iteration_failure_count = Some(2);
    let r = engine().test_state(&req).await.unwrap();
    assert_eq!(r.status, TestStateStatus::Failed);
    assert_eq!(
        r.error.as_deref(),
        Some("States.ExceedToleratedFailureThreshold")
    );
    assert_eq!(
        r.inspection_data.unwrap()["toleratedFailureCount"],
        json!(1)
    );
}

#[tokio::test]
async fn tests_a_named_state_inside_a_machine_with_variables() {
    let machine = json!({"StartAt": "A", "States": {
        "A": {"Type": "Pass", "Next": "B"},
        "B": {"Type": "Parallel", "End": true, "Branches": [{"StartAt": "Inner", "States": {
            "Inner": {"Type": "Pass", "QueryLanguage": "JSONata", "Output": "{% $greeting & ' ' & $states.input %}", "End": true}}}]}}});
    let mut req = request(machine, r#""cat""#);
    req.state_name = Some("Inner".into());
    req.variables = Some(r#"{"greeting": "hello"}"#.into());
    let r = engine().test_state(&req).await.unwrap();
    assert_eq!(r.output.as_deref(), Some(r#""hello cat""#));
    assert_eq!(
        r.inspection_data.unwrap()["variables"],
        json!({"greeting": "hello"})
    );
}

#[tokio::test]
async fn refuses_bad_requests() {
    let pass = json!({"Type": "Pass", "End": true});
    let mut req = request(pass.clone(), "{}");
    req.state_name = Some("Nope".into());
    req.definition = json!({"StartAt": "A", "States": {"A": pass}}).to_string();
    assert!(matches!(
        engine().test_state(&req).await,
        Err(TestStateError::NoSuchState(_))
    ));
    let req = request(pass, "not json");
    assert!(matches!(
        engine().test_state(&req).await,
        Err(TestStateError::Json { field: "input", .. })
    ));
    let invoke = json!({"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
        "Parameters": {"FunctionName": "f"}, "End": true});
    let mut req = request(invoke, "{}");
    req.mock = Some(Mock::Result(r#"{"StatusCode": "200"}"#.into()));
    let e = engine().test_state(&req).await.unwrap_err();
    assert_eq!(
        e.to_string(),
        "the mocked result does not match the Lambda Invoke response: 'StatusCode' must be a number"
    );
    req.field_validation_mode = FieldValidationMode::None;
    assert_eq!(
        engine().test_state(&req).await.unwrap().status,
        TestStateStatus::Succeeded
    );
}
