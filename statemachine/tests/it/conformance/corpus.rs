//! The corpus on disk: case files, definitions (JSON5 template plus mutations) and
//! the fake Lambda functions the cases describe.

use imagegen_statemachine::{Registry, TaskError};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};

/// The account the corpus was recorded under (its ARNs name it; the engine names the offline
/// twin's unless told this one).
pub const ACCOUNT: &str = "111111111111";

pub fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("conformance/asl")
}

pub fn apply_mutations(doc: &mut Value, mutations: &[Value]) -> Result<(), String> {
    for m in mutations {
        if let Some(path) = m.get("set").and_then(Value::as_array) {
            let value = m.get("value").cloned().unwrap_or(Value::Null);
            if path.is_empty() {
                *doc = value;
                continue;
            }
            let (last, init) = path.split_last().ok_or("empty path")?;
            match (last, parent(doc, init)?) {
                (Value::String(k), Value::Object(o)) => {
                    o.insert(k.clone(), value);
                }
                (Value::Number(n), Value::Array(a)) => {
                    let i = n.as_u64().ok_or("bad index")? as usize;
                    if i < a.len() {
                        a[i] = value;
                    } else {
                        a.push(value);
                    }
                }
                _ => return Err("cannot set".into()),
            }
        } else if let Some(path) = m.get("delete").and_then(Value::as_array) {
            let (last, init) = path.split_last().ok_or("empty path")?;
            if let (Value::String(k), Value::Object(o)) = (last, parent(doc, init)?) {
                o.shift_remove(k);
            }
        }
    }
    Ok(())
}

/// The value at `path` (keys and indices) inside `doc`: the parent a mutation changes.
fn parent<'a>(doc: &'a mut Value, path: &[Value]) -> Result<&'a mut Value, String> {
    let mut cur = doc;
    for p in path {
        cur = match p {
            Value::String(k) => cur.get_mut(k.as_str()).ok_or(format!("no key {k}"))?,
            Value::Number(n) => cur
                .get_mut(n.as_u64().ok_or("bad index")? as usize)
                .ok_or(format!("no index {n}"))?,
            _ => return Err("bad path element".into()),
        };
    }
    Ok(cur)
}

/// Python's `str()` of a decoded JSON value.
fn py_str(v: &Value) -> String {
    match v {
        Value::Null => "None".into(),
        Value::Bool(true) => "True".into(),
        Value::Bool(false) => "False".into(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => format!("'{s}'"),
        Value::Array(a) => format!("[{}]", a.iter().map(py_str).collect::<Vec<_>>().join(", ")),
        Value::Object(m) => format!(
            "{{{}}}",
            m.iter()
                .map(|(k, v)| format!("'{k}': {}", py_str(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

pub fn bind_lambda(reg: &mut Registry, name: &str, behaviour: &str) {
    let b = behaviour.to_string();
    let (kind, rest) = b.split_once(':').unwrap_or((b.as_str(), ""));
    let rest = rest.to_string();
    match kind {
        "identity" => {
            reg.register(name, |v: Value| async move { Ok(v) });
        }
        "return" => {
            let v: Value = serde_json::from_str(&rest).unwrap_or(Value::String(rest.clone()));
            reg.register(name, move |_: Value| {
                let v = v.clone();
                async move { Ok(v) }
            });
        }
        "raise" => {
            let (ty, msg) = rest.split_once(':').unwrap_or((rest.as_str(), ""));
            let (ty, msg) = (ty.to_string(), msg.to_string());
            reg.register(name, move |_: Value| {
                let cause = json!({"errorMessage": msg, "errorType": ty, "requestId": "00000000-0000-0000-0000-000000000000", "stackTrace": []});
                let e = TaskError::new(ty.clone(), cause.to_string());
                async move { Err(e) }
            });
        }
        "raw" => {
            let v: Value = serde_json::from_str(&rest).unwrap_or(Value::String(rest.clone()));
            reg.register(name, move |_: Value| {
                let v = v.clone();
                async move { Ok(v) }
            });
        }
        "raw_repeat" => {
            let (c, n) = rest.split_once(':').unwrap_or(("a", "0"));
            let s = c.repeat(n.parse().unwrap_or(0));
            reg.register(name, move |_: Value| {
                let v = Value::String(s.clone());
                async move { Ok(v) }
            });
        }
        "python_format" => {
            reg.register(name, |v: Value| async move {
                Ok(Value::String(format!("input-event-{}", py_str(&v))))
            });
        }
        "sleep_identity" => {
            let secs: u64 = rest.parse().unwrap_or(0);
            reg.register(name, move |v: Value| async move {
                tokio::time::sleep(std::time::Duration::from_secs(secs)).await;
                Ok(v)
            });
        }
        other => panic!("unknown lambda behaviour {other}"),
    }
}

pub fn relative_input(case: &Value, input: &str) -> String {
    if case.get("time_relative").and_then(Value::as_bool) != Some(true) {
        return input.to_string();
    }
    let id = case["id"].as_str().unwrap_or("");
    let days: i64 = id
        .rsplit_once('[')
        .and_then(|(_, p)| p.trim_end_matches(']').parse().ok())
        .unwrap_or(0);
    let Some(pos) = input.find(|c: char| c.is_ascii_digit()) else {
        return input.to_string();
    };
    let when = chrono::Utc::now() + chrono::Duration::days(days);
    let stamp = when.format("%Y-%m-%dT%H:%M:%S").to_string();
    format!("{}{}{}", &input[..pos], stamp, &input[pos + 19..])
}

pub fn definition(case: &Value, dir: &Path) -> Result<Value, String> {
    let tpl_path = dir
        .join("templates")
        .join(case["template"].as_str().unwrap_or(""));
    let text = std::fs::read_to_string(&tpl_path)
        .map_err(|e| format!("template {}: {e}", tpl_path.display()))?;
    let mut def: Value = json5::from_str(&text).map_err(|e| format!("json5: {e}"))?;
    apply_mutations(
        &mut def,
        case["mutations"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or(&[]),
    )
    .map_err(|e| format!("mutations: {e}"))?;
    Ok(def)
}
