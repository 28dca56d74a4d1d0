//! Loading and validating a definition: `${...}` substitutions, then the typed model.
//! Every error names the state and the field at fault. A state's fields are read in
//! its query language: JSONPath (paths, `.$` keys, intrinsics) or JSONata (`{% %}`).

mod choice;
mod context;
mod handling;
mod states;
mod templates;

// The payload tests build templates as the loader does.
#[cfg(test)]
pub(crate) use templates::compile_template;

use crate::model::{QueryLanguage, State, StateKind, StateMachine, Transition};
use serde_json::{Map, Value};
use std::collections::HashMap;

/// Why a definition was rejected.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The text is not JSON.
    #[error("the definition is not valid JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// A `${Name}` placeholder had no value.
    #[error("no value for the definition substitution '${{{key}}}' (at {location})")]
    Substitution {
        /// The placeholder's name.
        key: String,
        /// Where it appears (a JSON pointer).
        location: String,
    },
    /// The definition is structurally invalid.
    #[error("invalid definition: {}field '{field}': {message}", state.as_ref().map(|s| format!("state '{s}', ")).unwrap_or_default())]
    Invalid {
        /// The state at fault (None for top-level fields).
        state: Option<String>,
        /// The field at fault.
        field: String,
        /// What is wrong.
        message: String,
    },
}

type R<T> = Result<T, LoadError>;

/// The largest count of seconds or of retry attempts AWS accepts (`TimeoutSeconds`,
/// `HeartbeatSeconds`, `IntervalSeconds`, `MaxAttempts`, Wait `Seconds`).
const MAX_SECONDS: u64 = 99_999_999;
/// The largest `MaxDelaySeconds` AWS accepts (it must be smaller than 31622401).
const MAX_DELAY_SECONDS: u64 = 31_622_400;
/// The largest `MaxConcurrency`: the Map Run API types it as a 32-bit integer.
const MAX_CONCURRENCY: u64 = i32::MAX as u64;

impl StateMachine {
    /// Loads a definition from JSON text with `${Name}` substitutions ([`load_str`]).
    pub fn from_json(text: &str, substitutions: &HashMap<String, String>) -> R<Self> {
        load_str(text, substitutions)
    }
}

/// Parses JSON text, applies `substitutions`, and validates.
pub fn load_str(text: &str, substitutions: &HashMap<String, String>) -> R<StateMachine> {
    let mut v: Value = serde_json::from_str(text)?;
    substitute(&mut v, substitutions, &mut String::new())?;
    load_value(&v)
}

/// Replaces `${Name}` in every string of `v`.
pub fn substitute(v: &mut Value, subs: &HashMap<String, String>, loc: &mut String) -> R<()> {
    match v {
        Value::String(s) if s.contains("${") => {
            let mut out = String::new();
            let mut rest = s.as_str();
            while let Some(i) = rest.find("${") {
                out.push_str(&rest[..i]);
                let after = &rest[i + 2..];
                let Some(j) = after.find('}') else {
                    out.push_str(&rest[i..]);
                    rest = "";
                    break;
                };
                let key = &after[..j];
                match subs.get(key) {
                    Some(val) => out.push_str(val),
                    None => {
                        return Err(LoadError::Substitution {
                            key: key.to_string(),
                            location: loc.clone(),
                        });
                    }
                }
                rest = &after[j + 1..];
            }
            out.push_str(rest);
            *s = out;
        }
        Value::Array(a) => {
            for (i, x) in a.iter_mut().enumerate() {
                let len = loc.len();
                loc.push_str(&format!("/{i}"));
                substitute(x, subs, loc)?;
                loc.truncate(len);
            }
        }
        Value::Object(m) => {
            for (k, x) in m.iter_mut() {
                let len = loc.len();
                loc.push('/');
                loc.push_str(k);
                substitute(x, subs, loc)?;
                loc.truncate(len);
            }
        }
        _ => {}
    }
    Ok(())
}

/// Validates an already-parsed definition.
pub fn load_value(v: &Value) -> R<StateMachine> {
    let obj = v
        .as_object()
        .ok_or_else(|| invalid(None, "", "the definition must be a JSON object"))?;
    let language = query_language(obj.get("QueryLanguage"), None, "QueryLanguage")?;
    machine(obj, None, language)
}

/// Loads one state on its own (the TestState API): the states it names in `Next`,
/// `Default` or a Catch need not exist.
pub fn load_state(name: &str, v: &Value) -> R<State> {
    let obj = v
        .as_object()
        .ok_or_else(|| invalid(Some(name), "", "a state must be a JSON object"))?;
    states::state(name, obj, QueryLanguage::default())
}

/// A `QueryLanguage` field (`default` when absent).
fn query_language(v: Option<&Value>, state: Option<&str>, field: &str) -> R<QueryLanguage> {
    match v.map(Value::as_str) {
        None => Ok(QueryLanguage::default()),
        Some(Some("JSONPath")) => Ok(QueryLanguage::JsonPath),
        Some(Some("JSONata")) => Ok(QueryLanguage::Jsonata),
        Some(_) => Err(invalid(state, field, "must be JSONPath or JSONata")),
    }
}

fn invalid(state: Option<&str>, field: &str, message: impl Into<String>) -> LoadError {
    LoadError::Invalid {
        state: state.map(str::to_string),
        field: field.to_string(),
        message: message.into(),
    }
}

/// A state machine, a Parallel branch or a Map's item processor; its states default to
/// the machine-wide `language`.
fn machine(
    obj: &Map<String, Value>,
    parent: Option<&str>,
    language: QueryLanguage,
) -> R<StateMachine> {
    let start_at = obj
        .get("StartAt")
        .and_then(Value::as_str)
        .ok_or_else(|| invalid(parent, "StartAt", "missing or not a string"))?
        .to_string();
    let states_v = obj
        .get("States")
        .and_then(Value::as_object)
        .ok_or_else(|| invalid(parent, "States", "missing or not an object"))?;
    if states_v.is_empty() {
        return Err(invalid(parent, "States", "must contain at least one state"));
    }
    let mut states = HashMap::new();
    for (name, sv) in states_v {
        if name.is_empty() || name.chars().count() > 80 {
            return Err(invalid(
                Some(name),
                "States",
                "state names must be 1 to 80 characters",
            ));
        }
        let so = sv
            .as_object()
            .ok_or_else(|| invalid(Some(name), "", "a state must be a JSON object"))?;
        states.insert(name.clone(), states::state(name, so, language)?);
    }
    if !states.contains_key(&start_at) {
        return Err(invalid(
            parent,
            "StartAt",
            format!("no state named '{start_at}'"),
        ));
    }
    let timeout_seconds =
        match obj.get("TimeoutSeconds") {
            None => None,
            Some(t) => Some(t.as_u64().ok_or_else(|| {
                invalid(parent, "TimeoutSeconds", "must be a non-negative integer")
            })?),
        };
    let sm = StateMachine {
        start_at,
        states,
        timeout_seconds,
    };
    check_targets(&sm)?;
    Ok(sm)
}

fn check_targets(sm: &StateMachine) -> R<()> {
    let exists = |s: &State, field: &str, t: &str| -> R<()> {
        if sm.states.contains_key(t) {
            Ok(())
        } else {
            Err(invalid(
                Some(&s.name),
                field,
                format!("no state named '{t}'"),
            ))
        }
    };
    for s in sm.states.values() {
        if let Transition::Next(n) = &s.transition {
            exists(s, "Next", n)?;
        }
        let catchers = match &s.kind {
            StateKind::Task(t) => &t.io.catch,
            StateKind::Parallel { io, .. } => &io.catch,
            StateKind::Map(m) => &m.io.catch,
            _ => &Vec::new(),
        };
        for c in catchers {
            exists(s, "Catch.Next", &c.next)?;
        }
        if let StateKind::Choice { choices, default } = &s.kind {
            for c in choices {
                exists(s, "Choices.Next", &c.next)?;
            }
            if let Some(d) = default {
                exists(s, "Default", d)?;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn load(s: &str) -> R<StateMachine> {
        load_str(s, &HashMap::new())
    }

    #[test]
    fn loads_minimal() {
        let sm = load(r#"{"StartAt":"A","States":{"A":{"Type":"Pass","End":true}}}"#).unwrap();
        assert_eq!(sm.start_at, "A");
    }

    #[test]
    fn errors_name_state_and_field() {
        let e = load(r#"{"StartAt":"A","States":{"A":{"Type":"Pass","Next":"B"}}}"#).unwrap_err();
        let msg = e.to_string();
        assert!(
            msg.contains("state 'A'") && msg.contains("field 'Next'"),
            "{msg}"
        );
        let e = load(r#"{"StartAt":"A","States":{"A":{"Type":"Task","End":true}}}"#).unwrap_err();
        assert!(e.to_string().contains("field 'Resource'"));
        let e = load(
            r#"{"StartAt":"A","States":{"A":{"Type":"Pass","End":true,"ResultPath":"$.a[*]"}}}"#,
        )
        .unwrap_err();
        assert!(e.to_string().contains("ResultPath"));
        let e = load(r#"{"StartAt":"A","States":{"A":{"Type":"Bogus","End":true}}}"#).unwrap_err();
        assert!(e.to_string().contains("unknown state type"));
        assert!(load("not json").is_err());
        assert!(load("[]").is_err());
    }

    #[test]
    fn substitutions() {
        let mut subs = HashMap::new();
        subs.insert(
            "Fn".to_string(),
            "arn:aws:lambda:us-east-1:1:function:f".to_string(),
        );
        let sm = load_str(
            r#"{"StartAt":"A","States":{"A":{"Type":"Task","Resource":"${Fn}","End":true}}}"#,
            &subs,
        )
        .unwrap();
        let StateKind::Task(t) = &sm.states["A"].kind else {
            panic!()
        };
        assert_eq!(t.resource, "arn:aws:lambda:us-east-1:1:function:f");
        let e =
            load(r#"{"StartAt":"A","States":{"A":{"Type":"Task","Resource":"${Fn}","End":true}}}"#)
                .unwrap_err();
        assert!(matches!(e, LoadError::Substitution { .. }));
    }

    /// Every value AWS refuses when the state machine is created is refused at
    /// load, with the state and the field named.
    #[test]
    fn refuses_what_aws_refuses_at_load() {
        let task = |extra: Value| {
            let mut t = serde_json::json!({"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:1:function:f", "End": true});
            for (k, v) in extra.as_object().unwrap() {
                t[k] = v.clone();
            }
            serde_json::json!({"StartAt": "T", "States": {"T": t}}).to_string()
        };
        let retry = |r: Value| {
            let mut r = r;
            r["ErrorEquals"] = serde_json::json!(["States.ALL"]);
            task(serde_json::json!({"Retry": [r]}))
        };
        let map = |extra: Value| {
            let mut m = serde_json::json!({"Type": "Map", "End": true,
                "ItemProcessor": {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}});
            for (k, v) in extra.as_object().unwrap() {
                m[k] = v.clone();
            }
            serde_json::json!({"StartAt": "M", "States": {"M": m}}).to_string()
        };
        let wait = |secs: Value| {
            serde_json::json!({"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": secs, "End": true}}})
                .to_string()
        };
        let refused = [
            (
                retry(serde_json::json!({"IntervalSeconds": 1e20})),
                "Retry[0].IntervalSeconds",
            ),
            (
                retry(serde_json::json!({"IntervalSeconds": 0})),
                "Retry[0].IntervalSeconds",
            ),
            (
                retry(serde_json::json!({"IntervalSeconds": 100_000_000})),
                "Retry[0].IntervalSeconds",
            ),
            (
                retry(serde_json::json!({"MaxAttempts": 1e300})),
                "Retry[0].MaxAttempts",
            ),
            (
                retry(serde_json::json!({"MaxAttempts": -1})),
                "Retry[0].MaxAttempts",
            ),
            (
                retry(serde_json::json!({"MaxAttempts": 99.5})),
                "Retry[0].MaxAttempts",
            ),
            (
                retry(serde_json::json!({"BackoffRate": 0.5})),
                "Retry[0].BackoffRate",
            ),
            (
                retry(serde_json::json!({"MaxDelaySeconds": 0})),
                "Retry[0].MaxDelaySeconds",
            ),
            (
                retry(serde_json::json!({"MaxDelaySeconds": 3.5})),
                "Retry[0].MaxDelaySeconds",
            ),
            (
                retry(serde_json::json!({"MaxDelaySeconds": 31_622_401})),
                "Retry[0].MaxDelaySeconds",
            ),
            (
                task(serde_json::json!({"TimeoutSeconds": 100_000_000})),
                "TimeoutSeconds",
            ),
            (
                task(serde_json::json!({"HeartbeatSeconds": 0})),
                "HeartbeatSeconds",
            ),
            (
                task(serde_json::json!({"HeartbeatSeconds": 1.5})),
                "HeartbeatSeconds",
            ),
            (
                map(serde_json::json!({"MaxConcurrency": -1})),
                "MaxConcurrency",
            ),
            (
                map(serde_json::json!({"MaxConcurrency": 1.5})),
                "MaxConcurrency",
            ),
            (
                map(serde_json::json!({"ToleratedFailureCount": -1})),
                "ToleratedFailureCount",
            ),
            (
                map(serde_json::json!({"ToleratedFailurePercentage": 101})),
                "ToleratedFailurePercentage",
            ),
            (wait(serde_json::json!(1e20)), "Seconds"),
            (wait(serde_json::json!(1.5)), "Seconds"),
        ];
        for (def, field) in refused {
            let e = load(&def).expect_err(&def).to_string();
            assert!(e.contains(&format!("field '{field}'")), "{def}: {e}");
        }
        let accepted = [
            retry(
                serde_json::json!({"IntervalSeconds": 99_999_999, "MaxAttempts": 0, "BackoffRate": 1, "MaxDelaySeconds": 31_622_400}),
            ),
            task(serde_json::json!({"TimeoutSeconds": 99_999_999, "HeartbeatSeconds": 1})),
            map(
                serde_json::json!({"MaxConcurrency": 0, "ToleratedFailureCount": 0, "ToleratedFailurePercentage": 100}),
            ),
            wait(serde_json::json!(0)),
        ];
        for def in accepted {
            assert!(load(&def).is_ok(), "{def}");
        }
    }

    /// JSONata states take JSONata's fields only, expressions must parse, and a
    /// JSONata machine's states cannot switch back to JSONPath.
    #[test]
    fn jsonata_definitions_are_checked() {
        let one = |ql: &str, state: Value| {
            serde_json::json!({"QueryLanguage": ql, "StartAt": "A", "States": {"A": state}})
                .to_string()
        };
        let refused = [
            (
                one(
                    "JSONata",
                    serde_json::json!({"Type": "Pass", "Parameters": {}, "End": true}),
                ),
                "field 'Parameters'",
            ),
            (
                one(
                    "JSONata",
                    serde_json::json!({"Type": "Pass", "Output": "{% 1 + %}", "End": true}),
                ),
                "S0207",
            ),
            (
                one(
                    "JSONata",
                    serde_json::json!({"Type": "Pass", "QueryLanguage": "JSONPath", "End": true}),
                ),
                "field 'QueryLanguage'",
            ),
            (
                one(
                    "JSONata",
                    serde_json::json!({"Type": "Map", "Items": 3, "End": true,
                    "ItemProcessor": {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}}),
                ),
                "field 'Items'",
            ),
            (
                one(
                    "JSONata",
                    serde_json::json!({"Type": "Choice", "Choices": [{"Condition": "yes", "Next": "A"}]}),
                ),
                "Condition",
            ),
            (
                one(
                    "JSONPath",
                    serde_json::json!({"Type": "Pass", "Output": {}, "End": true}),
                ),
                "field 'Output'",
            ),
            (
                one("SQL", serde_json::json!({"Type": "Pass", "End": true})),
                "QueryLanguage",
            ),
        ];
        for (def, needle) in refused {
            let e = load(&def).expect_err(&def).to_string();
            assert!(e.contains(needle), "{def}: {e}");
        }
        let mixed = serde_json::json!({"StartAt": "A", "States": {
            "A": {"Type": "Pass", "QueryLanguage": "JSONata", "Output": "{% $states.input %}", "Next": "B"},
            "B": {"Type": "Pass", "End": true}}});
        let sm = load(&mixed.to_string()).unwrap();
        assert_eq!(
            sm.states["A"].language,
            crate::model::QueryLanguage::Jsonata
        );
        assert_eq!(
            sm.states["B"].language,
            crate::model::QueryLanguage::JsonPath
        );
    }
}
