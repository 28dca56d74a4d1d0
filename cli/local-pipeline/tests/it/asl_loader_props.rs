//! Property tests of the ASL loader (`imagegen_statemachine::StateMachine::from_json`, the public
//! API the local pipeline loads its definition with): any bytes and any JSON shape near a real definition load
//! or are refused with a typed `LoadError` that says why in words, and never panic. Kept here, not
//! in `statemachine/tests`, while that crate is being changed by another hand.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;

use imagegen_local_pipeline::handlers::substitutions;
use imagegen_local_pipeline::pipeline::DEFINITION;
use imagegen_statemachine::StateMachine;
use proptest::prelude::*;
use serde_json::{Map, Value};

const NAMES: &[&str] = &[
    "StartAt",
    "States",
    "Type",
    "Next",
    "End",
    "Resource",
    "Parameters",
    "ResultPath",
    "InputPath",
    "OutputPath",
    "Retry",
    "Catch",
    "ErrorEquals",
    "IntervalSeconds",
    "MaxAttempts",
    "BackoffRate",
    "TimeoutSeconds",
    "Choices",
    "Default",
    "Variable",
    "StringEquals",
    "Branches",
    "Iterator",
    "ItemProcessor",
    "ItemsPath",
    "MaxConcurrency",
    "Seconds",
    "Comment",
    "Error",
    "Cause",
    "ErrorPath",
    "CausePath",
    "QueryLanguage",
    "Arguments",
    "Output",
    "Assign",
    "input.$",
    "executionName.$",
];
const TEXTS: &[&str] = &[
    "Task",
    "Pass",
    "Choice",
    "Wait",
    "Succeed",
    "Fail",
    "Parallel",
    "Map",
    "$",
    "$.input",
    "$$.Execution.Name",
    "States.ALL",
    "States.Format('{}', $.x)",
    "JSONata",
    "JSONPath",
    "ReceiveInput",
    "ValidatePrompt",
    "arn:aws:lambda:us-east-1:000000000000:function:f",
    "${ValidatePromptFunctionArn}",
    "",
    "$[",
    "{% $x %}",
];

fn arb_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        (-10.0f64..1e6).prop_map(Value::from),
        prop::sample::select(TEXTS).prop_map(|s| Value::String(s.to_owned())),
        ".{0,16}".prop_map(Value::String),
    ];
    let key = prop_oneof![
        4 => prop::sample::select(NAMES).prop_map(str::to_owned),
        1 => ".{0,8}",
    ];
    leaf.prop_recursive(6, 128, 6, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::vec((key.clone(), inner), 0..7)
                .prop_map(|fields| Value::Object(fields.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

/// Every place in `value`, as a JSON pointer.
fn pointers(value: &Value, at: String, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                let here = format!("{at}/{}", k.replace('~', "~0").replace('/', "~1"));
                out.push(here.clone());
                pointers(v, here, out);
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                let here = format!("{at}/{i}");
                out.push(here.clone());
                pointers(v, here, out);
            }
        }
        _ => {}
    }
}

/// The deployed definition with one place replaced by anything, or removed.
fn damaged_definition() -> impl Strategy<Value = String> {
    let real: Value = serde_json::from_str(DEFINITION).unwrap();
    let mut places = Vec::new();
    pointers(&real, String::new(), &mut places);
    (prop::sample::select(places), prop::option::of(arb_json())).prop_map(
        move |(pointer, value)| {
            let mut damaged = real.clone();
            match value {
                Some(value) => {
                    if let Some(slot) = damaged.pointer_mut(&pointer) {
                        *slot = value;
                    }
                }
                None => {
                    let (parent, last) = pointer.rsplit_once('/').unwrap();
                    if let Some(Value::Object(map)) = damaged.pointer_mut(parent) {
                        map.remove(&last.replace("~1", "/").replace("~0", "~"));
                    }
                }
            }
            damaged.to_string()
        },
    )
}

fn check(text: &str) {
    let subs = substitutions("us-east-1");
    for substitutions in [&subs, &HashMap::new()] {
        if let Err(e) = StateMachine::from_json(text, substitutions) {
            let words = e.to_string();
            assert!(!words.trim().is_empty(), "{text}");
        }
    }
}

#[test]
fn the_deployed_definition_loads() {
    StateMachine::from_json(DEFINITION, &substitutions("us-east-1")).unwrap();
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn any_bytes_load_or_are_refused(bytes in prop::collection::vec(any::<u8>(), 0..600)) {
        check(&String::from_utf8_lossy(&bytes));
    }

    #[test]
    fn any_json_shape_loads_or_is_refused(definition in arb_json()) {
        check(&definition.to_string());
        let wrapped = serde_json::json!({"StartAt": "A", "States": {"A": definition}});
        check(&wrapped.to_string());
    }

    #[test]
    fn a_damaged_definition_loads_or_is_refused(text in damaged_definition()) {
        check(&text);
    }
}
