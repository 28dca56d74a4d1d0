//! Bad definitions and inputs give errors, never panics: a small
//! deterministic stand-in for the fuzz target (`fuzz/`), run in CI. JSONPath and
//! JSONata definitions both.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use imagegen_statemachine::Scope;
use imagegen_statemachine::intrinsics::Call;
use imagegen_statemachine::jsonpath::JsonPath;
use imagegen_statemachine::{Engine, ExecutionOptions, Registry, load_str};
use imagegen_statemachine::{RandomSource, SeededRng};
use serde_json::{Map, Value, json};
use std::collections::HashMap;

fn mutate(text: &str, rng: &SeededRng) -> String {
    let mut bytes: Vec<u8> = text.as_bytes().to_vec();
    for _ in 0..1 + rng.next_u64() % 4 {
        if bytes.is_empty() {
            break;
        }
        let i = (rng.next_u64() % bytes.len() as u64) as usize;
        match rng.next_u64() % 4 {
            0 => bytes.truncate(i),
            1 => bytes[i] = b"{}[]\",:$.*?@()'0-9aZ\\ "[(rng.next_u64() % 22) as usize],
            2 => {
                bytes.remove(i);
            }
            _ => bytes.insert(i, b"$.[]()'\"-1e9"[(rng.next_u64() % 12) as usize]),
        }
    }
    String::from_utf8_lossy(&bytes).to_string()
}

#[test]
fn mutated_definitions_never_panic() {
    let base = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/image-pipeline.asl.json"
    ))
    .unwrap();
    let extra = json!({"StartAt": "M", "States": {
        "M": {"Type": "Map", "ItemsPath": "$.a", "MaxConcurrency": 2, "ItemSelector": {"v.$": "$$.Map.Item.Value"},
              "ItemProcessor": {"StartAt": "C", "States": {
                  "C": {"Type": "Choice", "Choices": [{"Variable": "$.v", "NumericGreaterThan": 1, "Next": "W"}], "Default": "P"},
                  "W": {"Type": "Wait", "SecondsPath": "$.v", "Next": "P"},
                  "P": {"Type": "Pass", "Parameters": {"x.$": "States.Format('{}', $.v)"}, "End": true}}},
              "Next": "Par"},
        "Par": {"Type": "Parallel", "Branches": [{"StartAt": "F", "States": {"F": {"Type": "Fail", "ErrorPath": "$[0].x"}}}],
                "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "S"}], "End": true},
        "S": {"Type": "Succeed"}}})
    .to_string();
    let jsonata = json!({"QueryLanguage": "JSONata", "StartAt": "M", "States": {
        "M": {"Type": "Map", "Items": "{% $states.input.a %}", "MaxConcurrency": "{% 2 %}",
              "ItemSelector": {"v": "{% $states.context.Map.Item.Value %}"},
              "ItemProcessor": {"StartAt": "C", "States": {
                  "C": {"Type": "Choice", "Choices": [{"Condition": "{% $states.input.v > 1 %}", "Next": "W"}], "Default": "P"},
                  "W": {"Type": "Wait", "Seconds": "{% $states.input.v %}", "Next": "P"},
                  "P": {"Type": "Pass", "Output": {"x": "{% $string($states.input.v) & $uuid() %}"}, "Assign": {"r": "{% $range(0, 3, 1) %}"}, "End": true}}},
              "Next": "Par"},
        "Par": {"Type": "Parallel", "Arguments": "{% $states.input %}", "Branches": [{"StartAt": "F", "States": {
                  "F": {"Type": "Fail", "Error": "{% $states.input[0].x %}", "Cause": "{% $partition($states.input, 1) %}"}}}],
                "Catch": [{"ErrorEquals": ["States.ALL"], "Output": "{% $states.errorOutput %}", "Next": "S"}], "End": true},
        "S": {"Type": "Succeed", "Output": "{% $hash($string($states.input), 'SHA-256') %}"}}})
    .to_string();
    assert!(
        load_str(&jsonata, &HashMap::new()).is_ok(),
        "the JSONata base loads"
    );
    let rng = SeededRng::new(42);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .unwrap();
    let engine = Engine::new(Registry::new())
        .with_clock(std::sync::Arc::new(imagegen_statemachine::TokioClock::new()));
    let mut loaded = 0;
    for i in 0..3000 {
        let src = [&base, &extra, &jsonata][i % 3];
        let text = mutate(src, &rng);
        if let Ok(sm) = load_str(&text, &HashMap::new()) {
            loaded += 1;
            let input = json!({"a": [0, 2, "x", null], "v": 1});
            let _ = rt.block_on(engine.execute(&sm, input, ExecutionOptions::default()));
        }
    }
    assert!(loaded > 0);
}

#[test]
fn arbitrary_paths_and_intrinsics_never_panic() {
    let doc = json!({"a": [1, {"b": "x"}, [2, 3]], "s": "a,b", "n": 1.5, "o": {"k": null}});
    let ctx = json!({"Execution": {"Name": "e"}});
    let vars = Map::new();
    let scope = Scope {
        input: &doc,
        context: &ctx,
        variables: &vars,
    };
    let rng = SeededRng::new(7);
    let seeds = [
        "$.a[1].b",
        "$..b",
        "$.a[?(@.b == 'x')]",
        "$.a[-1:][0]",
        "$['o']['k']",
        "States.Format('{} {}', $.s, $.n)",
        "States.ArrayRange(1, 9223372036854775807, 1)",
        "States.ArrayRange(9223372036854775806, 9223372036854775807, 5)",
        "States.MathRandom(-9223372036854775808, 9223372036854775807)",
        "States.MathAdd(9223372036854775807, 9223372036854775807)",
        "States.ArrayPartition($.a, 0)",
        "States.StringSplit($.s, ',')",
        "States.Base64Decode('!!!')",
        "States.JsonMerge($.o, $.o, false)",
        "States.Hash($.n, 'SHA-1')",
    ];
    for s in seeds {
        for _ in 0..300 {
            let t = mutate(s, &rng);
            if let Ok(p) = JsonPath::parse(&t) {
                let _ = scope.eval(&p);
                let _ = p.assign(doc.clone(), Value::Null);
            }
            if let Ok(c) = Call::parse(&t) {
                let _ = c.eval(&scope, &rng);
            }
        }
    }
}
