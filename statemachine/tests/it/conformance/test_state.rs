//! TestState cases: the request the test sent, and the response AWS recorded.

use super::Outcome;
use super::compare::compare_text;
use super::corpus::{self, bind_lambda};
use imagegen_statemachine::{
    Engine, InspectionLevel, Mock, Registry, SeededRng, StateConfiguration, TestStateRequest,
    TestStateResponse, TokioClock,
};
use serde_json::{Map, Value};
use std::sync::Arc;

/// The request a case describes. The corpus leaves `roleArn` out of its parameters;
/// a recorded `"RoleArn":null` shows the request had none.
fn request(case: &Value) -> TestStateRequest {
    let p = &case["params"];
    let text = |v: &Value| v.as_str().map(str::to_string);
    let mock = match (&p["mock"]["result"], &p["mock"]["errorOutput"]) {
        (Value::String(r), _) => Some(Mock::Result(r.clone())),
        (_, Value::Object(e)) => Some(Mock::ErrorOutput {
            error: e["error"].as_str().unwrap_or("").to_string(),
            cause: e["cause"].as_str().unwrap_or("").to_string(),
        }),
        _ => None,
    };
    let c = &p["stateConfiguration"];
    let no_role = case["expected"].to_string().contains(r#"\"RoleArn\":null"#);
    TestStateRequest {
        definition: case["state"].to_string(),
        state_name: text(&p["stateName"]),
        input: case["input"].as_str().unwrap_or("{}").to_string(),
        inspection_level: serde_json::from_value(p["inspectionLevel"].clone())
            .unwrap_or(InspectionLevel::Info),
        variables: text(&p["variables"]),
        context: text(&p["context"]),
        mock,
        field_validation_mode: serde_json::from_value(p["mock"]["fieldValidationMode"].clone())
            .unwrap_or_default(),
        state_configuration: StateConfiguration {
            retrier_retry_count: c["retrierRetryCount"].as_u64().unwrap_or(0) as u32,
            map_iteration_failure_count: c["mapIterationFailureCount"].as_u64().map(|n| n as u32),
            error_caused_by_state: text(&c["errorCausedByState"]),
        },
        role_arn: (!no_role)
            .then(|| format!("arn:aws:iam::{}:role/TestStateRole", corpus::ACCOUNT)),
    }
}

pub async fn run_case(case: &Value) -> Outcome {
    let mut reg = Registry::new();
    if let Some(l) = case["lambdas"].as_object() {
        for (name, b) in l {
            bind_lambda(&mut reg, name, b.as_str().unwrap_or(""));
        }
    }
    let engine = Engine::new(reg)
        .with_account(corpus::ACCOUNT)
        .with_clock(Arc::new(TokioClock::new()))
        .with_rng(Arc::new(SeededRng::new(7)));
    match engine.test_state(&request(case)).await {
        Ok(r) => compare(case, &r),
        Err(e) => Outcome {
            ok: false,
            why: format!("TestState refused the request: {e}"),
        },
    }
}

/// Compares `actual` with the recorded response.
fn compare(case: &Value, actual: &TestStateResponse) -> Outcome {
    let exp = &case["expected"];
    let masked: Vec<String> = case["masked_tokens"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|t| t.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    let reserialized = |within: &Value, field: &str| {
        within["reserialized_fields"]
            .as_array()
            .is_some_and(|a| a.iter().any(|f| f == field))
            .then_some("reserialized")
    };
    let mut problems = Vec::new();
    let status = serde_json::to_value(actual.status).unwrap_or_default();
    if exp["status"] != status {
        problems.push(format!("status {status} != {}", exp["status"]));
    }
    let texts = [
        ("output", &actual.output),
        ("error", &actual.error),
        ("cause", &actual.cause),
        ("nextState", &actual.next_state),
    ];
    for (field, got) in texts {
        let same = match (exp[field].as_str(), got) {
            (None, None) => true,
            (Some(e), Some(a)) => compare_text(e, a, reserialized(exp, field), &masked),
            _ => false,
        };
        if !same {
            problems.push(format!(
                "{field}\n   expected {}\n   actual   {got:?}",
                exp[field]
            ));
        }
    }
    let inspection = compare_inspection(
        &exp["inspectionData"],
        actual.inspection_data.as_ref(),
        &masked,
    );
    problems.extend(inspection);
    Outcome {
        ok: problems.is_empty(),
        why: problems.join("; "),
    }
}

/// The same keys, the data as text compared like outputs, numbers as numbers.
fn compare_inspection(
    exp: &Value,
    actual: Option<&Map<String, Value>>,
    masked: &[String],
) -> Vec<String> {
    let expected: Map<String, Value> = exp
        .as_object()
        .map(|m| {
            m.iter()
                .filter(|(k, _)| *k != "reserialized_fields")
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect()
        })
        .unwrap_or_default();
    let actual = actual.cloned().unwrap_or_default();
    if exp.is_null() {
        return match actual.is_empty() {
            true => Vec::new(),
            false => vec![format!(
                "unexpected inspection data {}",
                Value::Object(actual)
            )],
        };
    }
    let mut problems = Vec::new();
    let keys =
        |m: &Map<String, Value>| m.keys().cloned().collect::<std::collections::BTreeSet<_>>();
    if keys(&expected) != keys(&actual) {
        problems.push(format!(
            "inspection keys {:?} != {:?}",
            keys(&actual),
            keys(&expected)
        ));
    }
    for (k, e) in &expected {
        let Some(a) = actual.get(k) else { continue };
        let form = exp["reserialized_fields"]
            .as_array()
            .is_some_and(|f| f.iter().any(|x| x == k))
            .then_some("reserialized");
        let same = match (e, a) {
            (Value::String(e), Value::String(a)) => compare_text(e, a, form, masked),
            (Value::Number(e), Value::Number(a)) => e.as_f64() == a.as_f64(),
            _ => e == a,
        };
        if !same {
            problems.push(format!("inspection {k}\n   expected {e}\n   actual   {a}"));
        }
    }
    problems
}
