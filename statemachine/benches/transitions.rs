//! State transitions per second (criterion reports them as `elem/s`): a Pass/Choice
//! loop in JSONPath and the same loop in JSONata, and the image pipeline with no-op
//! Lambda handlers.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use imagegen_statemachine::{Engine, ExecutionOptions, Registry, StateMachine, VirtualClock};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::hint::black_box;
use std::sync::Arc;

const LOOPS: u64 = 200;
const FN: &str = "arn:aws:lambda:us-east-1:111111111111:function:";

fn runtime() -> tokio::runtime::Runtime {
    match tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => panic!("tokio runtime: {e}"),
    }
}

fn load(text: &str, subs: &HashMap<String, String>) -> StateMachine {
    match StateMachine::from_json(text, subs) {
        Ok(sm) => sm,
        Err(e) => panic!("definition: {e}"),
    }
}

/// Entered states per execution (one transition each).
fn transitions(
    engine: &Engine,
    rt: &tokio::runtime::Runtime,
    sm: &StateMachine,
    input: &Value,
) -> u64 {
    let exec = rt.block_on(engine.execute(sm, input.clone(), ExecutionOptions::default()));
    assert!(
        exec.output.is_some(),
        "benchmark execution failed: {:?} {:?}",
        exec.error,
        exec.cause
    );
    exec.history
        .iter()
        .filter(|e| e.event_type.as_str().ends_with("StateEntered"))
        .count() as u64
}

/// Runs `def` on an empty input as the benchmark group `name`.
fn loop_bench(c: &mut Criterion, name: &str, def: &Value) {
    let sm = load(&def.to_string(), &HashMap::new());
    let engine = Engine::new(Registry::new());
    let rt = runtime();
    let input = json!({});
    let n = transitions(&engine, &rt, &sm, &input);
    let mut g = c.benchmark_group(name);
    g.throughput(Throughput::Elements(n));
    g.bench_function("transitions", |b| {
        b.iter(|| {
            rt.block_on(engine.execute(&sm, black_box(input.clone()), ExecutionOptions::default()))
        })
    });
    g.finish();
}

fn pass_choice(c: &mut Criterion) {
    let def = json!({
        "StartAt": "Init",
        "States": {
            "Init": {"Type": "Pass", "Result": {"i": 0, "acc": []}, "Next": "Check"},
            "Check": {"Type": "Choice", "Choices": [
                {"And": [{"Variable": "$.i", "IsNumeric": true}, {"Variable": "$.i", "NumericLessThan": LOOPS}], "Next": "Step"}
            ], "Default": "Done"},
            "Step": {"Type": "Pass", "Parameters": {"i.$": "States.MathAdd($.i, 1)", "acc.$": "$.acc"}, "Next": "Tag"},
            "Tag": {"Type": "Pass", "Result": "tick", "ResultPath": "$.last", "Next": "Check"},
            "Done": {"Type": "Succeed", "OutputPath": "$.i"}
        }
    });
    loop_bench(c, "pass_choice_loop", &def);
}

/// The same loop in JSONata: the same states doing the same work through expressions.
fn pass_choice_jsonata(c: &mut Criterion) {
    let def = json!({
        "QueryLanguage": "JSONata",
        "StartAt": "Init",
        "States": {
            "Init": {"Type": "Pass", "Output": {"i": 0, "acc": []}, "Next": "Check"},
            "Check": {"Type": "Choice", "Choices": [
                {"Condition": format!("{{% $type($states.input.i) = 'number' and $states.input.i < {LOOPS} %}}"), "Next": "Step"}
            ], "Default": "Done"},
            "Step": {"Type": "Pass", "Output": {"i": "{% $states.input.i + 1 %}", "acc": "{% $states.input.acc %}"}, "Next": "Tag"},
            "Tag": {"Type": "Pass", "Output": "{% $merge([$states.input, {'last': 'tick'}]) %}", "Next": "Check"},
            "Done": {"Type": "Succeed", "Output": "{% $states.input.i %}"}
        }
    });
    loop_bench(c, "pass_choice_loop_jsonata", &def);
}

/// A substitution for every `${NameFunctionArn}` the definition names: the ARN of the
/// function `Name`. Read from the definition, so a new function cannot be left out; any
/// other kind of substitution stops the benchmark, which would not know what to supply.
fn function_arns(text: &str) -> HashMap<String, String> {
    let mut subs = HashMap::new();
    for (_, rest) in text.match_indices("${").map(|(i, _)| text.split_at(i + 2)) {
        let Some(end) = rest.find('}') else {
            panic!("image-pipeline.asl.json: an unclosed ${{ substitution");
        };
        let key = &rest[..end];
        let Some(function) = key.strip_suffix("FunctionArn") else {
            panic!("image-pipeline.asl.json names the substitution ${{{key}}}, not a function ARN");
        };
        subs.insert(key.to_string(), format!("{FN}{function}"));
    }
    subs
}

fn image_pipeline(c: &mut Criterion) {
    let text = match std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/image-pipeline.asl.json"
    )) {
        Ok(t) => t,
        Err(e) => panic!("image-pipeline.asl.json: {e}"),
    };
    let sm = load(&text, &function_arns(&text));
    let reg = Registry::new()
        .with("ValidatePrompt", |_: Value| async {
            Ok(json!({"requestId": "r-1", "prompt": "a cat", "sizes": [256, 512], "email": "u@example.com"}))
        })
        // A slot in the past: the Wait for it does not wait.
        .with("ReserveModelSlot", |_: Value| async {
            Ok(json!({"attempt": 1, "at": "2020-01-01T00:00:00Z"}))
        })
        .with("GenerateImage", |_: Value| async {
            Ok(json!({"images": [{"key": "gen/r-1/0.png"}, {"key": "gen/r-1/1.png"}], "model": "titan"}))
        })
        .with("GenerateThumbnails", |_: Value| async {
            Ok(json!({"thumbnails": [{"key": "thumb/r-1/0-256.jpg"}, {"key": "thumb/r-1/0-512.jpg"}]}))
        })
        .with("NotifyUser", |_: Value| async { Ok(json!({"manifestKey": "manifests/r-1.json", "notified": true})) });
    let clock = Arc::new(VirtualClock::new(chrono::Utc::now()));
    let engine = Engine::new(reg).with_clock(clock);
    let rt = runtime();
    let input = json!({"prompt": "a cat", "email": "u@example.com"});
    let n = transitions(&engine, &rt, &sm, &input);
    let mut g = c.benchmark_group("image_pipeline_noop_tasks");
    g.throughput(Throughput::Elements(n));
    g.bench_function("transitions", |b| {
        b.iter(|| {
            rt.block_on(engine.execute(&sm, black_box(input.clone()), ExecutionOptions::default()))
        })
    });
    g.finish();
}

criterion_group!(benches, pass_choice, pass_choice_jsonata, image_pipeline);
criterion_main!(benches);
