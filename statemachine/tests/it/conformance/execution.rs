//! Execution and invalid-definition cases.

use super::Outcome;
use super::compare::compare_text;
use super::corpus::{self, bind_lambda, definition, relative_input};
use imagegen_statemachine::{
    Engine, ExecutionOptions, ExecutionStatus, Registry, SeededRng, StateMachine, TokioClock,
    load_value,
};
use serde_json::Value;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// `invalid_definition` cases: loading must fail (AWS's message is not compared).
pub fn check_rejected(case: &Value, dir: &Path) -> Outcome {
    match definition(case, dir) {
        Err(e) => Outcome { ok: false, why: e },
        Ok(def) => match load_value(&def) {
            Err(_) => Outcome {
                ok: true,
                why: String::new(),
            },
            Ok(_) => Outcome {
                ok: false,
                why: format!(
                    "accepted a definition AWS rejects: {}",
                    case["expected"]["message"]
                ),
            },
        },
    }
}

pub async fn run_case(case: &Value, dir: &Path) -> Outcome {
    let fail = |why: String| Outcome { ok: false, why };
    let def = match definition(case, dir) {
        Ok(d) => d,
        Err(e) => return fail(e),
    };
    let sm: StateMachine = match load_value(&def) {
        Ok(sm) => sm,
        Err(e) => return fail(format!("load: {e}")),
    };
    let mut reg = Registry::new();
    if let Some(l) = case["lambdas"].as_object() {
        for (name, b) in l {
            bind_lambda(&mut reg, name, b.as_str().unwrap_or(""));
        }
    }
    let input_text = relative_input(case, case["input"].as_str().unwrap_or("{}"));
    let input: Value = serde_json::from_str(&input_text).unwrap_or(Value::Null);
    let engine = Engine::new(reg)
        .with_account(corpus::ACCOUNT)
        .with_clock(Arc::new(TokioClock::new()))
        .with_rng(Arc::new(SeededRng::new(7)));
    let exec = engine
        .execute(
            &sm,
            input,
            ExecutionOptions {
                name: Some("exec-1".into()),
                state_machine_name: "sm".into(),
                ..Default::default()
            },
        )
        .await;
    let exp = &case["expected"];
    let masked: Vec<String> = case["masked_tokens"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|t| t.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    let status = match exec.status {
        ExecutionStatus::Succeeded => "SUCCEEDED",
        ExecutionStatus::Failed => "FAILED",
        ExecutionStatus::TimedOut => "TIMED_OUT",
    };
    let mut problems = Vec::new();
    if exp["status"] != status {
        problems.push(format!(
            "status {status} != {} (error {:?} cause {:?})",
            exp["status"], exec.error, exec.cause
        ));
    }
    if status == "SUCCEEDED"
        && let Some(e) = exp["output"].as_str()
    {
        let a = exec
            .output
            .as_ref()
            .map(|o| o.to_string())
            .unwrap_or_default();
        if !compare_text(e, &a, exp["output_form"].as_str(), &masked) {
            problems.push(format!("output\n   expected {e}\n   actual   {a}"));
        }
    }
    if status == "FAILED" && exp["status"] == "FAILED" {
        let e = exp["error"].as_str();
        if e != exec.error.as_deref() {
            problems.push(format!("error {:?} != {:?}", exec.error, e));
        }
        let ec = exp["cause"].as_str().unwrap_or("");
        let ac = exec.cause.clone().unwrap_or_default();
        if !compare_text(ec, &ac, exp["cause_form"].as_str(), &masked) {
            problems.push(format!("cause\n   expected {ec}\n   actual   {ac}"));
        }
    }
    if let Some(types) = exp["event_types"].as_array() {
        let mut e: Vec<String> = types
            .iter()
            .filter_map(|t| t.as_str().map(str::to_string))
            .collect();
        let mut a: Vec<String> = exec
            .history
            .iter()
            .map(|h| h.event_type.as_str().to_string())
            .collect();
        if exp["event_order"] == "multiset" {
            e.sort();
            a.sort();
        }
        if e != a {
            problems.push(format!(
                "events\n   expected {}\n   actual   {}",
                e.join(","),
                a.join(",")
            ));
        }
    }
    if let Some(p) = detail_shape_mismatch(case, dir, &exec.history) {
        problems.push(p);
    }
    Outcome {
        ok: problems.is_empty(),
        why: problems.join("; "),
    }
}

/// Parsed snapshot files, shared by the cases that come from them.
fn snapshot(path: &Path) -> Option<std::sync::Arc<Value>> {
    use std::sync::{Arc, Mutex, OnceLock};
    static CACHE: OnceLock<Mutex<HashMap<PathBuf, Arc<Value>>>> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    if let Some(v) = cache.lock().ok()?.get(path) {
        return Some(v.clone());
    }
    let text = std::fs::read_to_string(path).ok()?;
    let v: Arc<Value> = Arc::new(serde_json::from_str(&text).ok()?);
    cache.lock().ok()?.insert(path.to_path_buf(), v.clone());
    Some(v)
}

/// Compares, event by event, the details member and its keys with the AWS
/// recording (when the event sequence is ordered and identical).
fn detail_shape_mismatch(
    case: &Value,
    dir: &Path,
    history: &[imagegen_statemachine::HistoryEvent],
) -> Option<String> {
    let exp = &case["expected"];
    if exp["event_order"] == "multiset" || exp["event_types"].is_null() {
        return None;
    }
    let src = &case["source"];
    let snap = snapshot(&dir.join(src["snapshot"].as_str()?))?;
    let events = snap[src["test"].as_str()?]["recorded-content"][src["key"].as_str()?]["events"]
        .as_array()?;
    if events.len() != history.len() {
        return None;
    }
    let mut after_map_run = false;
    for (rec, mine) in events.iter().zip(history) {
        // The previousEventId of the exit after a distributed Map run varies
        // between AWS recordings (the run completes asynchronously).
        let check_prev = !(after_map_run && mine.event_type.as_str() == "MapStateExited");
        after_map_run = mine.event_type.as_str().starts_with("MapRun")
            || (after_map_run && mine.event_type.as_str() == "MapStateSucceeded");
        let shape = |v: &Value| -> Vec<String> {
            let mut keys = Vec::new();
            if let Some(o) = v.as_object() {
                for (k, d) in o {
                    if k.ends_with("EventDetails") {
                        let mut inner: Vec<String> = d
                            .as_object()
                            .map(|m| m.keys().map(|x| format!("{k}.{x}")).collect())
                            .unwrap_or_default();
                        inner.sort();
                        keys.push(k.clone());
                        keys.extend(inner);
                    }
                }
            }
            keys
        };
        let mine_v = serde_json::to_value(mine).ok()?;
        let (a, b) = (shape(rec), shape(&mine_v));
        // AWS adds timeoutInSeconds/heartbeatInSeconds to TaskScheduled on its own.
        let strip = |v: Vec<String>| -> Vec<String> {
            v.into_iter()
                .filter(|k| {
                    !k.ends_with(".timeoutInSeconds") && !k.ends_with(".heartbeatInSeconds")
                })
                .collect()
        };
        if strip(a.clone()) != strip(b.clone())
            || rec["id"] != mine_v["id"]
            || (check_prev && rec["previousEventId"] != mine_v["previousEventId"])
        {
            return Some(format!(
                "event #{} {} shape\n   expected {:?} (prev {})\n   actual   {:?} (prev {})",
                mine.id, mine.event_type, a, rec["previousEventId"], b, mine_v["previousEventId"]
            ));
        }
    }
    None
}
