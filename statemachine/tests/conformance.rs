//! Conformance runner over the AWS-recorded ASL corpus in `conformance/asl`
//! (a copy kept in this crate, see `conformance/NOTICE`). Runs every execution
//! case, JSONPath and JSONata (Lambda-only or no Lambdas), compares status, output /
//! error / cause and the history event types, and fails on any failure that
//! is not listed in `conformance/asl-known-gaps.txt` (or on a listed gap that now
//! passes).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use imagegen_statemachine::{
    Engine, ExecutionOptions, ExecutionStatus, Registry, SeededRng, StateMachine, TaskError,
    TokioClock, load_value,
};
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("conformance/asl")
}

fn apply_mutations(doc: &mut Value, mutations: &[Value]) -> Result<(), String> {
    for m in mutations {
        if let Some(path) = m.get("set").and_then(Value::as_array) {
            let value = m.get("value").cloned().unwrap_or(Value::Null);
            if path.is_empty() {
                *doc = value;
                continue;
            }
            let (last, init) = path.split_last().ok_or("empty path")?;
            let mut cur = &mut *doc;
            for p in init {
                cur = match p {
                    Value::String(k) => cur.get_mut(k.as_str()).ok_or(format!("no key {k}"))?,
                    Value::Number(n) => cur
                        .get_mut(n.as_u64().ok_or("bad index")? as usize)
                        .ok_or(format!("no index {n}"))?,
                    _ => return Err("bad path element".into()),
                };
            }
            match (last, cur) {
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
            let mut cur = &mut *doc;
            for p in init {
                cur = match p {
                    Value::String(k) => cur.get_mut(k.as_str()).ok_or(format!("no key {k}"))?,
                    Value::Number(n) => cur
                        .get_mut(n.as_u64().ok_or("bad index")? as usize)
                        .ok_or(format!("no index {n}"))?,
                    _ => return Err("bad path element".into()),
                };
            }
            if let (Value::String(k), Value::Object(o)) = (last, cur) {
                o.shift_remove(k);
            }
        }
    }
    Ok(())
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

fn bind_lambda(reg: &mut Registry, name: &str, behaviour: &str) {
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

/// Glob match where each token in `tokens` matches any substring.
fn glob(expected: &str, actual: &str, tokens: &[String]) -> bool {
    let mut toks: Vec<&String> = tokens.iter().filter(|t| !t.is_empty()).collect();
    toks.sort_by_key(|t| std::cmp::Reverse(t.len()));
    let mut pieces = vec![String::new()];
    let mut rest = expected;
    'outer: while !rest.is_empty() {
        for t in &toks {
            if let Some(r) = rest.strip_prefix(t.as_str()) {
                pieces.push(String::new());
                rest = r;
                continue 'outer;
            }
        }
        let c = rest.chars().next().unwrap_or_default();
        if let Some(l) = pieces.last_mut() {
            l.push(c);
        }
        rest = &rest[c.len_utf8()..];
    }
    wildcard_match(&pieces, actual)
}

fn wildcard_match(pieces: &[String], s: &str) -> bool {
    if pieces.len() == 1 {
        return pieces[0] == s;
    }
    let first = &pieces[0];
    let last = &pieces[pieces.len() - 1];
    if !s.starts_with(first.as_str())
        || s.len() < first.len() + last.len()
        || !s.ends_with(last.as_str())
    {
        return false;
    }
    let mut pos = first.len();
    let end = s.len() - last.len();
    for p in &pieces[1..pieces.len() - 1] {
        match s[pos..end].find(p.as_str()) {
            Some(i) => pos += i + p.len(),
            None => return false,
        }
    }
    true
}

/// Drops Lambda runtime details (request ids, stack traces, SDK metadata).
fn normalize(v: &mut Value) {
    match v {
        Value::Object(m) => {
            m.shift_remove("SdkHttpMetadata");
            m.shift_remove("SdkResponseMetadata");
            if m.contains_key("errorType") {
                m.shift_remove("requestId");
                m.shift_remove("stackTrace");
            }
            m.values_mut().for_each(normalize);
        }
        Value::Array(a) => a.iter_mut().for_each(normalize),
        Value::String(s) if s.starts_with('{') => {
            if let Ok(mut inner) = serde_json::from_str::<Value>(s) {
                normalize(&mut inner);
                *s = inner.to_string();
            }
        }
        _ => {}
    }
}

fn normalized_text(s: &str) -> String {
    match serde_json::from_str::<Value>(s) {
        Ok(mut v) => {
            normalize(&mut v);
            v.to_string()
        }
        Err(_) => s.to_string(),
    }
}

fn compact(v: &Value) -> String {
    serde_json::to_string(v).unwrap_or_default()
}

fn compare_text(expected: &str, actual: &str, form: Option<&str>, masked: &[String]) -> bool {
    if masked.is_empty() {
        if form == Some("reserialized") {
            let a: Result<Value, _> = serde_json::from_str(actual);
            let e: Result<Value, _> = serde_json::from_str(expected);
            return match (a, e) {
                // Compact text comparison keeps key order significant.
                (Ok(a), Ok(e)) => compact(&a) == compact(&e),
                _ => expected == actual,
            };
        }
        return expected == actual;
    }
    let e = normalized_text(expected);
    let a = normalized_text(actual);
    if glob(&e, &a, masked) {
        return true;
    }
    // A token standing for a whole JSON string value may match any scalar.
    let quoted: Vec<String> = masked.iter().map(|t| format!("\"{t}\"")).collect();
    let mut all = masked.to_vec();
    all.extend(quoted);
    glob(&e, &a, &all)
}

fn relative_input(case: &Value, input: &str) -> String {
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

fn definition(case: &Value, dir: &Path) -> Result<Value, String> {
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

/// `invalid_definition` cases: loading must fail (AWS's message is not compared).
fn check_rejected(case: &Value, dir: &Path) -> Outcome {
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

struct Outcome {
    ok: bool,
    why: String,
}

async fn run_case(case: &Value, dir: &Path) -> Outcome {
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

#[derive(Default)]
struct Tally {
    passed: usize,
    failed: usize,
    gaps: usize,
    skipped: usize,
}

#[test]
fn conformance() {
    let dir = corpus_dir();
    assert!(
        dir.join("README.md").exists(),
        "conformance corpus not found at {}",
        dir.display()
    );
    let gaps_text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("conformance/asl-known-gaps.txt"),
    )
    .unwrap_or_default();
    let mut gaps: HashMap<String, String> = HashMap::new();
    for line in gaps_text.lines() {
        let line = line.trim_end();
        if line.is_empty() || line.starts_with("//") {
            continue;
        }
        let (id, reason) = line.split_once(" # ").unwrap_or((line, ""));
        assert!(
            !reason.trim().is_empty(),
            "known gap without a reason: {id}"
        );
        gaps.insert(id.trim().to_string(), reason.to_string());
    }
    let filter = std::env::var("ASL_CASE").ok();
    let verbose = std::env::var("ASL_VERBOSE").is_ok();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .unwrap();
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir.join("cases"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    let mut areas: BTreeMap<String, Tally> = BTreeMap::new();
    let mut unexpected = Vec::new();
    let mut stale = Vec::new();
    let mut seen_gaps = Vec::new();
    let mut applicable = 0usize;
    for f in files {
        let cases: Vec<Value> =
            serde_json::from_str(&std::fs::read_to_string(&f).unwrap()).unwrap();
        for case in cases {
            let area = case["area"].as_str().unwrap_or("?").to_string();
            let tally = areas.entry(area.clone()).or_default();
            let id = case["id"].as_str().unwrap_or("").to_string();
            let kind = case["kind"].as_str().unwrap_or("");
            if kind != "execution" && kind != "invalid_definition" {
                tally.skipped += 1;
                continue;
            }
            if let Some(fl) = &filter
                && !id.contains(fl.as_str())
            {
                continue;
            }
            applicable += 1;
            let out = if kind == "invalid_definition" {
                check_rejected(&case, &dir)
            } else {
                rt.block_on(run_case(&case, &dir))
            };
            let is_gap = gaps.contains_key(&id);
            if is_gap {
                seen_gaps.push(id.clone());
            }
            match (out.ok, is_gap) {
                (true, false) => tally.passed += 1,
                (true, true) => {
                    tally.passed += 1;
                    stale.push(id.clone());
                }
                (false, true) => {
                    tally.gaps += 1;
                    if verbose {
                        eprintln!("GAP  {id}: {}", out.why);
                    }
                }
                (false, false) => {
                    tally.failed += 1;
                    eprintln!("FAIL {id}: {}", out.why);
                    unexpected.push(id.clone());
                }
            }
        }
    }
    // Written straight to stdout so the summary shows even when the test
    // harness captures output.
    let mut report = String::new();
    let mut total = Tally::default();
    for (area, t) in &areas {
        report.push_str(&format!(
            "{area}: {} passed, {} failed, {} known gaps, {} skipped (TestState cases)\n",
            t.passed, t.failed, t.gaps, t.skipped
        ));
        total.passed += t.passed;
        total.failed += t.failed;
        total.gaps += t.gaps;
        total.skipped += t.skipped;
    }
    report.push_str(&format!(
        "conformance total: {applicable} applicable cases (executions and invalid definitions, JSONPath and JSONata), {} known gaps, {} TestState cases skipped\n",
        total.gaps, total.skipped
    ));
    // "failed" counts unexpected failures; known gaps are reported separately.
    report.push_str(&format!(
        "{} passed, {} failed\n",
        total.passed, total.failed
    ));
    {
        use std::io::Write;
        let mut out = std::io::stdout().lock();
        let _ = out.write_all(report.as_bytes());
        let _ = out.flush();
    }
    if filter.is_some() {
        return;
    }
    let missing: Vec<&String> = gaps.keys().filter(|g| !seen_gaps.contains(g)).collect();
    assert!(
        missing.is_empty(),
        "known gaps not in the corpus: {missing:?}"
    );
    assert!(
        stale.is_empty(),
        "known gaps that now pass (remove them): {stale:#?}"
    );
    assert!(
        gaps.len() * 20 < applicable,
        "known gaps ({}) must stay under 5% of the {applicable} applicable cases",
        gaps.len()
    );
    assert!(
        unexpected.is_empty(),
        "{} unexpected failures: {unexpected:#?}",
        unexpected.len()
    );
}
