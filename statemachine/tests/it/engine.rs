//! Behaviour tests for the engine: each state type, the path pipeline, retry
//! and catch, timeouts, payload limits, history and the registry API.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::{TimeZone, Utc};
use imagegen_statemachine::{
    Clock, Engine, EventType, Execution, ExecutionOptions, ExecutionStatus, FixedRng, HistoryEvent,
    Registry, SeededRng, StateMachine, TaskError, TokioClock, VirtualClock, load_str,
};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const FN_ARN: &str = "arn:aws:lambda:us-east-1:111111111111:function:";

fn sm(def: Value) -> StateMachine {
    load_str(&def.to_string(), &HashMap::new()).unwrap()
}

fn clock() -> Arc<VirtualClock> {
    Arc::new(VirtualClock::new(
        Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap(),
    ))
}

async fn run_with(reg: Registry, def: Value, input: Value) -> (Execution, Arc<VirtualClock>) {
    let c = clock();
    let engine = Engine::new(reg)
        .with_clock(c.clone())
        .with_rng(Arc::new(SeededRng::new(1)));
    let exec = engine
        .execute(
            &sm(def),
            input,
            ExecutionOptions {
                name: Some("exec".into()),
                ..Default::default()
            },
        )
        .await;
    (exec, c)
}

async fn run(def: Value, input: Value) -> Execution {
    run_with(Registry::new(), def, input).await.0
}

fn one(state: Value) -> Value {
    json!({"StartAt": "S", "States": {"S": state}})
}

fn types(e: &Execution) -> Vec<&'static str> {
    e.history.iter().map(|h| h.event_type.as_str()).collect()
}

#[tokio::test]
async fn pass_pipeline_input_parameters_result_output() {
    let e = run(
        one(
            json!({"Type": "Pass", "InputPath": "$.a", "Parameters": {"x.$": "$.b", "k": 1},
                   "ResultPath": "$.r", "OutputPath": "$.r", "End": true}),
        ),
        json!({"a": {"b": 7}}),
    )
    .await;
    assert_eq!(e.status, ExecutionStatus::Succeeded);
    assert_eq!(e.output, Some(json!({"k": 1, "x": 7})));
    assert_eq!(
        types(&e),
        [
            "ExecutionStarted",
            "PassStateEntered",
            "PassStateExited",
            "ExecutionSucceeded"
        ]
    );
}

#[tokio::test]
async fn null_paths_and_result() {
    let e = run(
        one(json!({"Type": "Pass", "Result": {"r": 1}, "ResultPath": null, "End": true})),
        json!({"in": 1}),
    )
    .await;
    assert_eq!(e.output, Some(json!({"in": 1})));
    let e = run(
        one(json!({"Type": "Pass", "InputPath": null, "End": true})),
        json!({"in": 1}),
    )
    .await;
    assert_eq!(e.output, Some(json!({})));
    let e = run(
        one(json!({"Type": "Pass", "OutputPath": null, "End": true})),
        json!({"in": 1}),
    )
    .await;
    assert_eq!(e.output, Some(json!({})));
}

#[tokio::test]
async fn context_object_and_intrinsics_in_parameters() {
    let e = run(
        one(json!({"Type": "Pass", "Parameters": {
            "name.$": "$$.Execution.Name", "state.$": "$$.State.Name",
            "msg.$": "States.Format('hi {}', $.who)", "n.$": "States.ArrayLength($.list)"}, "End": true})),
        json!({"who": "bob", "list": [1, 2]}),
    )
    .await;
    let out = e.output.clone().unwrap();
    assert_eq!(out["name"], "exec");
    assert_eq!(out["state"], "S");
    assert_eq!(out["msg"], "hi bob");
    assert_eq!(out["n"], 2);
}

#[tokio::test]
async fn bad_path_is_a_runtime_error() {
    let e = run(
        one(json!({"Type": "Pass", "InputPath": "$.missing", "End": true})),
        json!({}),
    )
    .await;
    assert_eq!(e.status, ExecutionStatus::Failed);
    assert_eq!(e.error.as_deref(), Some("States.Runtime"));
    assert!(
        e.cause
            .unwrap()
            .contains("No results for path: $['missing']")
    );
    let e = run(
        one(json!({"Type": "Pass", "Parameters": {"v.$": "$.nope"}, "End": true})),
        json!({}),
    )
    .await;
    assert!(
        e.cause
            .unwrap()
            .contains("specified for the field 'v.$' could not be found")
    );
    assert_eq!(
        types(
            &run(
                one(json!({"Type": "Pass", "InputPath": "$.x", "End": true})),
                json!({})
            )
            .await
        ),
        ["ExecutionStarted", "PassStateEntered", "ExecutionFailed"]
    );
}

#[tokio::test]
async fn wrong_type_in_intrinsic_fails() {
    let e = run(
        one(json!({"Type": "Pass", "Parameters": {"n.$": "States.ArrayLength($.s)"}, "End": true})),
        json!({"s": "not an array"}),
    )
    .await;
    assert_eq!(e.status, ExecutionStatus::Failed);
    assert_eq!(e.error.as_deref(), Some("States.IntrinsicFailure"));
    // The cause shows the call as written, nested calls included.
    let e = run(
        one(json!({"Type": "Pass", "Parameters": {"n.$": "States.ArrayLength(States.Array($.s))", "m.$": "States.MathAdd(States.ArrayLength($.s), 1)"}, "End": true})),
        json!({"s": "not an array"}),
    )
    .await;
    assert_eq!(
        e.cause.as_deref(),
        Some(
            "An error occurred while executing the state 'S' (entered at the event id #2). The function 'States.MathAdd(States.ArrayLength($.s), 1)' for the field 'm.$' failed: States.ArrayLength: expected an array, got \"not an array\""
        )
    );
}

#[tokio::test]
async fn choice_routes_and_no_match_fails() {
    let def = json!({"StartAt": "C", "States": {
        "C": {"Type": "Choice", "Choices": [
            {"Variable": "$.n", "NumericGreaterThan": 10, "Next": "Big"},
            {"And": [{"Variable": "$.s", "IsPresent": true}, {"Variable": "$.s", "StringMatches": "a*"}], "Next": "A"}
        ]},
        "Big": {"Type": "Pass", "Result": "big", "End": true},
        "A": {"Type": "Pass", "Result": "a", "End": true}}});
    assert_eq!(
        run(def.clone(), json!({"n": 11})).await.output,
        Some(json!("big"))
    );
    assert_eq!(
        run(def.clone(), json!({"n": 1, "s": "abc"})).await.output,
        Some(json!("a"))
    );
    let e = run(def, json!({"n": 1})).await;
    assert_eq!(e.error.as_deref(), Some("States.NoChoiceMatched"));
    assert_eq!(
        types(&e),
        ["ExecutionStarted", "ChoiceStateEntered", "ExecutionFailed"]
    );
}

#[tokio::test]
async fn wait_uses_the_clock() {
    let def = json!({"StartAt": "W", "States": {
        "W": {"Type": "Wait", "Seconds": 5, "Next": "P"},
        "P": {"Type": "Wait", "SecondsPath": "$.s", "Next": "T"},
        "T": {"Type": "Wait", "Timestamp": "2024-01-01T00:01:00Z", "Next": "TP"},
        "TP": {"Type": "Wait", "TimestampPath": "$.t", "End": true}}});
    let (e, c) = run_with(
        Registry::new(),
        def,
        json!({"s": 10, "t": "2024-01-01T00:02:00Z"}),
    )
    .await;
    assert_eq!(e.status, ExecutionStatus::Succeeded);
    assert_eq!(
        c.sleeps(),
        [
            Duration::from_secs(5),
            Duration::from_secs(10),
            Duration::from_secs(45),
            Duration::from_secs(60)
        ]
    );
    let bad = one(json!({"Type": "Wait", "SecondsPath": "$.s", "End": true}));
    let e = run(bad.clone(), json!({"s": -1})).await;
    assert!(e.cause.unwrap().contains("references a negative value"));
    let e = run(bad, json!({"s": "x"})).await;
    assert!(
        e.cause
            .unwrap()
            .contains("cannot be parsed as a long value")
    );
    let e = run(
        one(json!({"Type": "Wait", "TimestampPath": "$.t", "End": true})),
        json!({"t": "nope"}),
    )
    .await;
    assert!(e.cause.unwrap().contains("ISO-8601"));
}

#[tokio::test]
async fn succeed_and_fail_states() {
    let e = run(
        one(json!({"Type": "Succeed", "OutputPath": "$.a"})),
        json!({"a": 1}),
    )
    .await;
    assert_eq!(e.output, Some(json!(1)));
    let e = run(
        one(json!({"Type": "Fail", "Error": "E", "Cause": "C"})),
        json!({}),
    )
    .await;
    assert_eq!(
        (e.error.as_deref(), e.cause.as_deref()),
        (Some("E"), Some("C"))
    );
    assert_eq!(
        types(&e),
        ["ExecutionStarted", "FailStateEntered", "ExecutionFailed"]
    );
    let e = run(
        one(json!({"Type": "Fail", "ErrorPath": "$.e", "CausePath": "States.Format('c={}', $.c)"})),
        json!({"e": "Boom", "c": 3}),
    )
    .await;
    assert_eq!(
        (e.error.as_deref(), e.cause.as_deref()),
        (Some("Boom"), Some("c=3"))
    );
    let e = run(
        one(json!({"Type": "Fail", "ErrorPath": "$.nope"})),
        json!({}),
    )
    .await;
    assert_eq!(e.error.as_deref(), Some("States.Runtime"));
}

#[tokio::test]
async fn parallel_and_map() {
    let e = run(
        one(json!({"Type": "Parallel", "End": true, "Branches": [
            {"StartAt": "A", "States": {"A": {"Type": "Pass", "Result": 1, "End": true}}},
            {"StartAt": "B", "States": {"B": {"Type": "Pass", "InputPath": "$.x", "End": true}}}]})),
        json!({"x": 2}),
    )
    .await;
    assert_eq!(e.output, Some(json!([1, 2])));
    assert!(types(&e).contains(&"ParallelStateStarted"));
    let e = run(
        one(
            json!({"Type": "Map", "ItemsPath": "$.items", "MaxConcurrency": 2,
            "ItemSelector": {"i.$": "$$.Map.Item.Index", "v.$": "$$.Map.Item.Value", "k.$": "$.k"},
            "ItemProcessor": {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}},
            "End": true}),
        ),
        json!({"items": ["a", "b"], "k": 0}),
    )
    .await;
    assert_eq!(
        e.output,
        Some(json!([{"i": 0, "v": "a", "k": 0}, {"i": 1, "v": "b", "k": 0}]))
    );
    assert_eq!(
        types(&e)
            .iter()
            .filter(|t| **t == "MapIterationStarted")
            .count(),
        2
    );
    let e = run(
        one(json!({"Type": "Map", "ItemsPath": "$.items",
            "Iterator": {"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "X"}}},
            "Catch": [{"ErrorEquals": ["X"], "ResultPath": "$.err", "Next": "Done"}], "Next": "Done"}))
            .as_object()
            .map(|o| {
                let mut o = o.clone();
                o["States"]["Done"] = json!({"Type": "Succeed"});
                Value::Object(o)
            })
            .unwrap(),
        json!({"items": [1]}),
    )
    .await;
    assert_eq!(e.output, Some(json!({"items": [1], "err": {"Error": "X"}})));
}

fn counting_failer(fails: usize, error: &'static str) -> (Registry, Arc<AtomicUsize>) {
    let calls = Arc::new(AtomicUsize::new(0));
    let c = calls.clone();
    let reg = Registry::new().with("f", move |v: Value| {
        let n = c.fetch_add(1, Ordering::SeqCst);
        async move {
            if n < fails {
                Err(TaskError::lambda(error, "boom"))
            } else {
                Ok(v)
            }
        }
    });
    (reg, calls)
}

#[tokio::test]
async fn retry_backoff_max_delay_and_success() {
    let (reg, calls) = counting_failer(3, "Flaky");
    let def = one(
        json!({"Type": "Task", "Resource": format!("{FN_ARN}f"), "End": true,
        "Retry": [{"ErrorEquals": ["Flaky"], "IntervalSeconds": 1, "MaxAttempts": 3, "BackoffRate": 3, "MaxDelaySeconds": 5}]}),
    );
    let (e, c) = run_with(reg, def, json!({"ok": true})).await;
    assert_eq!(e.status, ExecutionStatus::Succeeded);
    assert_eq!(calls.load(Ordering::SeqCst), 4);
    assert_eq!(
        c.sleeps(),
        [
            Duration::from_secs(1),
            Duration::from_secs(3),
            Duration::from_secs(5)
        ]
    );
    assert_eq!(
        types(&e)
            .iter()
            .filter(|t| **t == "LambdaFunctionFailed")
            .count(),
        3
    );
}

#[tokio::test]
async fn retry_max_attempts_zero_and_jitter() {
    let (reg, calls) = counting_failer(9, "Flaky");
    let def = one(
        json!({"Type": "Task", "Resource": format!("{FN_ARN}f"), "End": true,
        "Retry": [{"ErrorEquals": ["States.ALL"], "MaxAttempts": 0}]}),
    );
    let (e, _) = run_with(reg, def, json!({})).await;
    assert_eq!(e.error.as_deref(), Some("Flaky"));
    assert_eq!(calls.load(Ordering::SeqCst), 1);

    let (reg, _) = counting_failer(1, "Flaky");
    let c = clock();
    let engine = Engine::new(reg)
        .with_clock(c.clone())
        .with_rng(Arc::new(FixedRng::new(vec![0.25])));
    let def = one(
        json!({"Type": "Task", "Resource": format!("{FN_ARN}f"), "End": true,
        "Retry": [{"ErrorEquals": ["Flaky"], "IntervalSeconds": 4, "JitterStrategy": "FULL"}]}),
    );
    let e = engine
        .execute(&sm(def), json!({}), ExecutionOptions::default())
        .await;
    assert_eq!(e.status, ExecutionStatus::Succeeded);
    assert_eq!(c.sleeps(), [Duration::from_secs(1)]);
}

#[tokio::test]
async fn catch_lambda_error_with_result_path() {
    let (reg, _) = counting_failer(9, "ImageInvalid");
    let def = json!({"StartAt": "T", "States": {
        "T": {"Type": "Task", "Resource": format!("{FN_ARN}f"), "Next": "Ok",
              "Catch": [{"ErrorEquals": ["States.TaskFailed"], "ResultPath": "$.error", "Next": "Handler"}]},
        "Ok": {"Type": "Succeed"},
        "Handler": {"Type": "Pass", "End": true}}});
    let (e, _) = run_with(reg, def, json!({"in": 1})).await;
    let out = e.output.clone().unwrap();
    assert_eq!(out["in"], 1);
    assert_eq!(out["error"]["Error"], "ImageInvalid");
    let cause: Value = serde_json::from_str(out["error"]["Cause"].as_str().unwrap()).unwrap();
    assert_eq!(
        cause,
        json!({"errorMessage": "boom", "errorType": "ImageInvalid"})
    );
    assert_eq!(
        types(&e),
        [
            "ExecutionStarted",
            "TaskStateEntered",
            "LambdaFunctionScheduled",
            "LambdaFunctionStarted",
            "LambdaFunctionFailed",
            "TaskStateExited",
            "PassStateEntered",
            "PassStateExited",
            "ExecutionSucceeded"
        ]
    );
}

#[tokio::test]
async fn runtime_errors_are_not_caught() {
    let reg = Registry::new().with("f", |_: Value| async { Ok(json!("str")) });
    let def = json!({"StartAt": "T", "States": {
        "T": {"Type": "Task", "Resource": format!("{FN_ARN}f"), "OutputPath": "$.a.b", "End": true,
              "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "H"}]},
        "H": {"Type": "Pass", "End": true}}});
    let (e, _) = run_with(reg, def, json!({})).await;
    assert_eq!(e.error.as_deref(), Some("States.Runtime"));
}

#[tokio::test(start_paused = true)]
async fn task_timeout_and_heartbeat() {
    let reg = Registry::new().with("slow", |v: Value| async move {
        tokio::time::sleep(Duration::from_secs(60)).await;
        Ok(v)
    });
    let engine = Engine::new(reg).with_clock(Arc::new(TokioClock::new()));
    let def = one(
        json!({"Type": "Task", "Resource": format!("{FN_ARN}slow"), "TimeoutSeconds": 5, "End": true}),
    );
    let e = engine
        .execute(&sm(def), json!({}), ExecutionOptions::default())
        .await;
    assert_eq!(e.error.as_deref(), Some("States.Timeout"));
    assert!(types(&e).contains(&"LambdaFunctionTimedOut"));
    let def = one(
        json!({"Type": "Task", "Resource": format!("{FN_ARN}slow"), "HeartbeatSeconds": 2, "End": true}),
    );
    let e = engine
        .execute(&sm(def), json!({}), ExecutionOptions::default())
        .await;
    assert_eq!(e.error.as_deref(), Some("States.HeartbeatTimeout"));
    let def = one(
        json!({"Type": "Task", "Resource": format!("{FN_ARN}slow"), "TimeoutSeconds": 120, "End": true}),
    );
    let e = engine
        .execute(&sm(def), json!({"x": 1}), ExecutionOptions::default())
        .await;
    assert_eq!(e.output, Some(json!({"x": 1})));
}

#[tokio::test]
async fn payload_too_large() {
    let reg = Registry::new().with("big", |_: Value| async {
        Ok(Value::String("a".repeat(300_000)))
    });
    let def = one(json!({"Type": "Task", "Resource": format!("{FN_ARN}big"), "End": true}));
    let (e, _) = run_with(reg, def, json!({})).await;
    assert_eq!(e.error.as_deref(), Some("States.DataLimitExceeded"));
    let e = run(
        one(json!({"Type": "Pass", "End": true})),
        Value::String("b".repeat(300_000)),
    )
    .await;
    assert_eq!(e.error.as_deref(), Some("States.DataLimitExceeded"));
}

#[tokio::test]
async fn lambda_invoke_wraps_the_payload() {
    let reg = Registry::new().with("echo", |v: Value| async move { Ok(json!({"got": v})) });
    let def = one(
        json!({"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
        "Parameters": {"FunctionName": format!("{FN_ARN}echo"), "Payload.$": "$"}, "End": true}),
    );
    let (e, _) = run_with(reg, def, json!({"a": 1})).await;
    let out = e.output.clone().unwrap();
    let keys: Vec<&String> = out.as_object().unwrap().keys().collect();
    assert_eq!(
        keys,
        [
            "ExecutedVersion",
            "Payload",
            "SdkHttpMetadata",
            "SdkResponseMetadata",
            "StatusCode"
        ]
    );
    assert_eq!(out["Payload"], json!({"got": {"a": 1}}));
    assert_eq!(out["StatusCode"], 200);
    assert!(types(&e).contains(&"TaskSucceeded"));
}

#[tokio::test]
async fn missing_function_is_resource_not_found() {
    let def = one(json!({"Type": "Task", "Resource": format!("{FN_ARN}nope"), "End": true}));
    let e = run(def, json!({})).await;
    assert_eq!(e.error.as_deref(), Some("Lambda.ResourceNotFoundException"));
}

#[tokio::test]
async fn history_ids_observer_and_serialization() {
    let seen: Arc<Mutex<Vec<HistoryEvent>>> = Arc::default();
    let s = seen.clone();
    let engine = Engine::new(Registry::new())
        .with_clock(clock())
        .with_observer(move |e| s.lock().unwrap().push(e.clone()));
    let def = json!({"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "B"}, "B": {"Type": "Pass", "End": true}}});
    let e = engine
        .execute(&sm(def), json!({"x": 1}), ExecutionOptions::default())
        .await;
    assert_eq!(*seen.lock().unwrap(), e.history);
    for (i, ev) in e.history.iter().enumerate() {
        assert_eq!(ev.id, i as u64 + 1);
    }
    assert_eq!(e.history[3].previous_event_id, 3);
    let text = serde_json::to_string(&e.history[1]).unwrap();
    assert!(text.contains(r#""type":"PassStateEntered""#), "{text}");
    assert!(
        text.contains(r#""stateEnteredEventDetails":{"name":"A""#),
        "{text}"
    );
    let back: HistoryEvent = serde_json::from_str(&text).unwrap();
    assert_eq!(back.event_type, EventType::PassStateEntered);
    assert_eq!(
        e.history.last().unwrap().event_type,
        EventType::ExecutionSucceeded
    );
}

#[tokio::test]
async fn event_channel_observer() {
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let engine = Engine::new(Registry::new()).with_event_channel(tx);
    let _ = engine
        .execute(
            &sm(one(json!({"Type": "Pass", "End": true}))),
            json!({}),
            ExecutionOptions::default(),
        )
        .await;
    let mut n = 0;
    while rx.try_recv().is_ok() {
        n += 1;
    }
    assert_eq!(n, 4);
}

#[tokio::test]
async fn variables_assign_and_reference() {
    let def = json!({"StartAt": "A", "States": {
        "A": {"Type": "Pass", "Assign": {"x.$": "$.v", "c": 1}, "Next": "B"},
        "B": {"Type": "Pass", "Parameters": {"x.$": "$x", "c.$": "$c"}, "End": true}}});
    assert_eq!(
        run(def, json!({"v": 5})).await.output,
        Some(json!({"x": 5, "c": 1}))
    );
}

#[tokio::test]
async fn image_pipeline_definition_runs_with_fake_lambdas() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/image-pipeline.asl.json"
    ))
    .unwrap();
    let mut subs = HashMap::new();
    for name in [
        "ValidatePrompt",
        "ReserveModelSlot",
        "GenerateImage",
        "GenerateThumbnails",
        "NotifyUser",
    ] {
        subs.insert(format!("{name}FunctionArn"), format!("{FN_ARN}{name}"));
    }
    let def = StateMachine::from_json(&text, &subs).unwrap();
    let reg = Registry::new()
        .with("ValidatePrompt", |v: Value| async move {
            Ok(json!({"prompt": v["input"]["prompt"], "executionName": v["executionName"]}))
        })
        .with("ReserveModelSlot", |_: Value| async {
            Ok(json!({"at": "2020-01-01T00:00:00Z", "attempt": 1}))
        })
        .with("GenerateImage", |_: Value| async {
            Ok(json!({"images": ["k1"]}))
        })
        .with("GenerateThumbnails", |_: Value| async {
            Ok(json!({"thumbnails": ["t1"]}))
        })
        .with("NotifyUser", |v: Value| async move {
            Ok(json!({"notified": v["status"]}))
        });
    let engine = Engine::new(reg).with_clock(clock());
    let e = engine
        .execute(
            &def,
            json!({"prompt": "a cat"}),
            ExecutionOptions {
                name: Some("run-1".into()),
                ..Default::default()
            },
        )
        .await;
    assert_eq!(e.status, ExecutionStatus::Succeeded, "{e:?}");
    assert_eq!(e.output, Some(json!({"notified": "SUCCEEDED"})));

    // A failing generation is caught, reported, and ends in PipelineFailed with the original error.
    let reg = Registry::new()
        .with("ValidatePrompt", |_: Value| async { Ok(json!({})) })
        .with("ReserveModelSlot", |_: Value| async {
            Ok(json!({"at": "2020-01-01T00:00:00Z", "attempt": 1}))
        })
        .with("GenerateImage", |_: Value| async {
            Err(TaskError::lambda("ContentFiltered", "blocked"))
        })
        .with("GenerateThumbnails", |_: Value| async { Ok(json!({})) })
        .with("NotifyUser", |_: Value| async { Ok(json!({})) });
    let e = Engine::new(reg)
        .with_clock(clock())
        .execute(&def, json!({}), ExecutionOptions::default())
        .await;
    assert_eq!(e.status, ExecutionStatus::Failed);
    assert_eq!(e.error.as_deref(), Some("ContentFiltered"));
    assert!(e.cause.unwrap().contains("blocked"));
    assert_eq!(
        e.history.last().unwrap().event_type,
        EventType::ExecutionFailed
    );
    assert!(
        e.history
            .iter()
            .any(|h| h.event_type == EventType::FailStateEntered)
    );
}

#[tokio::test]
async fn clock_trait_is_object_safe() {
    let c: Arc<dyn Clock> = clock();
    c.sleep(Duration::from_secs(1)).await;
    assert_eq!(c.now(), Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 1).unwrap());
}

#[tokio::test]
async fn retry_count_in_context_and_result_selector() {
    let calls = Arc::new(AtomicUsize::new(0));
    let c = calls.clone();
    let reg = Registry::new().with("f", move |v: Value| {
        let n = c.fetch_add(1, Ordering::SeqCst);
        async move {
            if n < 2 {
                Err(TaskError::new("Again", "not yet"))
            } else {
                Ok(json!({"seen": v, "extra": 1}))
            }
        }
    });
    let def = one(
        json!({"Type": "Task", "Resource": format!("{FN_ARN}f"), "End": true,
        "Parameters": {"retry.$": "$$.State.RetryCount"},
        "ResultSelector": {"retry.$": "$.seen.retry"},
        "ResultPath": "$.r",
        "Retry": [{"ErrorEquals": ["Again"], "IntervalSeconds": 1, "MaxAttempts": 5}]}),
    );
    let (e, _) = run_with(reg, def, json!({"in": true})).await;
    assert_eq!(e.output, Some(json!({"in": true, "r": {"retry": 2}})));
}

#[tokio::test(start_paused = true)]
async fn execution_timeout_with_tokio_time() {
    let def = json!({"StartAt": "W", "TimeoutSeconds": 1, "States": {"W": {"Type": "Wait", "Seconds": 5, "End": true}}});
    let engine = Engine::new(Registry::new()).with_clock(Arc::new(TokioClock::new()));
    let e = engine
        .execute(&sm(def), json!({}), ExecutionOptions::default())
        .await;
    assert_eq!(e.status, ExecutionStatus::TimedOut);
    assert_eq!(
        e.history.last().unwrap().event_type,
        EventType::ExecutionTimedOut
    );
}

#[tokio::test]
async fn filter_paths_and_indefinite_results() {
    let e = run(
        one(json!({"Type": "Pass", "Parameters": {
            "low.$": "$.items[?(@.x < 2)].x", "all.$": "$.items[*].x", "first.$": "$.items[0].x"}, "End": true})),
        json!({"items": [{"x": 1}, {"x": 3}]}),
    )
    .await;
    assert_eq!(
        e.output,
        Some(json!({"low": [1], "all": [1, 3], "first": 1}))
    );
}

#[tokio::test]
async fn executions_can_be_spawned() {
    fn assert_send<T: Send>(t: T) -> T {
        t
    }
    let engine = Arc::new(Engine::new(Registry::new()));
    let machine = Arc::new(sm(one(json!({"Type": "Pass", "End": true}))));
    let handle = tokio::spawn(assert_send(async move {
        engine
            .execute(&machine, json!({"a": 1}), ExecutionOptions::default())
            .await
    }));
    assert_eq!(handle.await.unwrap().output, Some(json!({"a": 1})));
}

#[tokio::test]
async fn runaway_loops_hit_the_history_limit() {
    let def = json!({"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "A"}}});
    let engine = Engine::new(Registry::new())
        .with_clock(clock())
        .with_history_limit(100);
    let e = engine
        .execute(&sm(def), json!({}), ExecutionOptions::default())
        .await;
    assert_eq!(e.status, ExecutionStatus::Failed);
    assert_eq!(e.error.as_deref(), Some("States.Runtime"));
    assert!(e.history.len() <= 102);
}

/// JSONata states: Arguments, Output and Assign with `$states`, variables shared with
/// JSONPath states, and AWS's functions.
#[tokio::test]
async fn jsonata_dataflow_and_variables() {
    let reg = Registry::new().with("double", |v: Value| async move {
        Ok(json!({"n": v["n"].as_i64().unwrap_or(0) * 2}))
    });
    let def = json!({"StartAt": "Path", "States": {
        "Path": {"Type": "Pass", "Assign": {"base.$": "$.n"}, "Next": "Ata"},
        "Ata": {"Type": "Task", "QueryLanguage": "JSONata", "Resource": format!("{FN_ARN}double"),
                "Arguments": {"n": "{% $base + 1 %}"},
                "Assign": {"seen": "{% $states.result.n %}", "base": "{% $base * 100 %}"},
                "Output": {"got": "{% $states.result.n %}", "base_before": "{% $base %}", "r": "{% $range(1, 3, 2) %}"},
                "Next": "Back"},
        "Back": {"Type": "Pass", "Parameters": {"seen.$": "$seen", "base.$": "$base", "got.$": "$.got"}, "End": true}}});
    let (e, _) = run_with(reg, def, json!({"n": 4})).await;
    assert_eq!(e.status, ExecutionStatus::Succeeded, "{:?}", e.cause);
    assert_eq!(e.output, Some(json!({"seen": 10, "base": 400, "got": 10})));
    let exited = &e.history[e.history.len() - 4];
    assert_eq!(exited.event_type, EventType::TaskStateExited);
    assert_eq!(
        exited.detail().unwrap()["output"],
        json!(r#"{"got":10,"base_before":4,"r":[1,3]}"#)
    );
}

/// A JSONata field that fails is `States.QueryEvaluationError`, recorded as an
/// `EvaluationFailed` event that names the field, and chained as AWS chains it.
#[tokio::test]
async fn jsonata_evaluation_failures() {
    let e = run(
        json!({"QueryLanguage": "JSONata", "StartAt": "S", "States": {
            "S": {"Type": "Pass", "Next": "C"},
            "C": {"Type": "Choice", "Choices": [{"Condition": "{% $states.input.n %}", "Next": "S"}], "Default": "S"}}}),
        json!({"n": 3}),
    )
    .await;
    assert_eq!(e.error.as_deref(), Some("States.QueryEvaluationError"));
    assert_eq!(
        e.cause.as_deref(),
        Some(
            "An error occurred while executing the state 'C' (entered at the event id #4). The JSONata expression '$states.input.n' specified for the field 'Condition' returned an unexpected result type. Expected 'boolean', but was 'number' for value: 3"
        )
    );
    let failed = &e.history[4];
    assert_eq!(failed.event_type, EventType::EvaluationFailed);
    assert_eq!(
        failed.previous_event_id, 3,
        "chained from before ChoiceStateEntered"
    );
    assert_eq!(failed.detail().unwrap()["location"], "Condition");
    assert_eq!(failed.detail().unwrap()["state"], "C");
    assert_eq!(
        types(&e)[5..],
        ["ExecutionFailed"],
        "nothing runs after the failed evaluation"
    );
}

/// `local` runs executions on spawned tasks, so a loaded machine, the engine and the
/// futures they give must be `Send`. JSONata's evaluator is not (it shares values
/// through `Rc`), so it must never be held across an `.await`; this fails to compile
/// if it is.
#[test]
fn executions_can_run_on_spawned_tasks() {
    fn send<T: Send>(_: &T) {}
    fn send_sync<T: Send + Sync>() {}
    send_sync::<StateMachine>();
    send_sync::<Engine>();
    let engine = Engine::new(Registry::new());
    let machine = sm(
        json!({"QueryLanguage": "JSONata", "StartAt": "P", "States": {
        "P": {"Type": "Pass", "Output": "{% $states.input %}", "End": true}}}),
    );
    send(&engine.execute(&machine, json!({}), ExecutionOptions::default()));
    send(&engine.test_state(&imagegen_statemachine::TestStateRequest::default()));
}
