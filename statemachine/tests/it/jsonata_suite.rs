//! The JSONata reference suite (version 2.0.6, the JSONata AWS runs; `conformance/jsonata`)
//! run through the engine's JSONata evaluator (jsonata-core with AWS's functions).
//! Every case must pass unless `conformance/jsonata-known-gaps.txt` lists it with a
//! reason; a listed case that passes fails the test, and the gaps must stay under 2%.
//! `JSONATA_CASE=<substring>` runs a subset.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use imagegen_statemachine::jsonata::{Env, Evaluated, Expression, JsonataError, Limits};
use imagegen_statemachine::{RandomSource, SeededRng};
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

fn suite_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("conformance/jsonata")
}

struct Case {
    id: String,
    expr: String,
    data: Option<Value>,
    bindings: Map<String, Value>,
    limits: Limits,
    /// The case limits time or depth: the reference runner then guards it itself.
    timeboxed: bool,
    expect: Expect,
}

#[derive(Debug)]
enum Expect {
    Result(Value),
    Undefined,
    Code(String),
}

/// Rust strings cannot hold a lone UTF-16 surrogate, which two cases write as a
/// `\uD800` escape: it reads as U+FFFD instead (and those cases are known gaps).
fn without_lone_surrogates(text: &str) -> String {
    let hex = |i: usize| {
        text.get(i..i + 4)
            .and_then(|h| u32::from_str_radix(h, 16).ok())
    };
    let b = text.as_bytes();
    let (mut out, mut i, mut copied) = (String::with_capacity(text.len()), 0, 0);
    while i < b.len() {
        if b[i] != b'\\' {
            i += 1;
            continue;
        }
        let unit = (b.get(i + 1) == Some(&b'u')).then(|| hex(i + 2)).flatten();
        let Some(u) = unit else {
            i += 2;
            continue;
        };
        let low_follows = b.get(i + 6) == Some(&b'\\')
            && b.get(i + 7) == Some(&b'u')
            && hex(i + 8).is_some_and(|l| (0xDC00..=0xDFFF).contains(&l));
        match u {
            0xD800..=0xDBFF if low_follows => i += 12,
            0xD800..=0xDFFF => {
                out.push_str(&text[copied..i]);
                out.push_str("\\uFFFD");
                i += 6;
                copied = i;
            }
            _ => i += 6,
        }
    }
    out.push_str(&text[copied..]);
    out
}

fn load_cases(dir: &Path) -> Vec<Case> {
    let mut groups: Vec<PathBuf> = std::fs::read_dir(dir.join("groups"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    groups.sort();
    let mut cases = Vec::new();
    for group in groups {
        let mut files: Vec<PathBuf> = std::fs::read_dir(&group)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "json"))
            .collect();
        files.sort();
        for file in files {
            let text = without_lone_surrogates(&std::fs::read_to_string(&file).unwrap());
            let list = match serde_json::from_str(&text).unwrap() {
                Value::Array(a) => a,
                one => vec![one],
            };
            let many = list.len() > 1;
            for (i, c) in list.into_iter().enumerate() {
                let mut id = format!(
                    "{}/{}",
                    group.file_name().unwrap().to_string_lossy(),
                    file.file_stem().unwrap().to_string_lossy()
                );
                if many {
                    id.push_str(&format!("[{i}]"));
                }
                cases.push(case(dir, &group, id, &c));
            }
        }
    }
    cases
}

fn case(dir: &Path, group: &Path, id: String, c: &Value) -> Case {
    let expr = match c["expr"].as_str() {
        Some(e) => e.to_string(),
        None => std::fs::read_to_string(group.join(c["expr-file"].as_str().unwrap())).unwrap(),
    };
    let data = match (c.get("data"), c["dataset"].as_str()) {
        (Some(d), _) => Some(d.clone()),
        (None, Some(name)) => Some(
            serde_json::from_str(
                &std::fs::read_to_string(dir.join("datasets").join(format!("{name}.json")))
                    .unwrap(),
            )
            .unwrap(),
        ),
        (None, None) => None,
    };
    let expect = if let Some(r) = c.get("result") {
        Expect::Result(r.clone())
    } else if c["undefinedResult"] == true {
        Expect::Undefined
    } else {
        let code = c["code"].as_str().or(c["error"]["code"].as_str());
        Expect::Code(
            code.unwrap_or_else(|| panic!("{id}: no expected outcome"))
                .to_string(),
        )
    };
    let time = c["timelimit"].as_u64().map(Duration::from_millis);
    let depth = c["depth"].as_u64().map(|d| d as usize);
    Case {
        id,
        expr,
        data,
        bindings: c["bindings"].as_object().cloned().unwrap_or_default(),
        limits: Limits {
            time: time.or(Limits::ENGINE.time),
            depth,
        },
        timeboxed: time.is_some() || depth.is_some(),
        expect,
    }
}

fn run(case: &Case, rng: &Arc<dyn RandomSource>) -> Result<Evaluated, JsonataError> {
    Expression::parse(&case.expr)?.evaluate(&Env {
        input: case.data.as_ref(),
        states: None,
        variables: &case.bindings,
        rng,
        limits: case.limits,
    })
}

/// JSON equality with numbers compared as numbers (`2` equals `2.0`) to 15 significant
/// digits: the suite records some results at that precision (`90.57` for the double sum
/// of 68.9 and 21.67, which is 90.57000000000001).
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            let (x, y) = (
                x.as_f64().unwrap_or(f64::NAN),
                y.as_f64().unwrap_or(f64::NAN),
            );
            x == y || (x - y).abs() <= 1e-15 * x.abs().max(y.abs())
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same(a, b))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w)))
        }
        _ => a == b,
    }
}

/// Why the outcome is not what the case expects (None: it is).
fn judge(case: &Case, outcome: &Result<Evaluated, JsonataError>) -> Option<String> {
    let code = |e: &JsonataError| -> String {
        let code = e.code().unwrap_or("");
        // The reference runner guards a time- or depth-limited case with its own
        // timebox, which raises U1001 for both; jsonata-core's own limits raise
        // D1012 (time) and D1011 (depth), as jsonata-js 2.2 does.
        if case.timeboxed && matches!(code, "D1011" | "D1012") {
            "U1001".to_string()
        } else {
            code.to_string()
        }
    };
    match (&case.expect, outcome) {
        (Expect::Result(r), Ok(Evaluated::Value(v))) if same(r, v) => None,
        (Expect::Undefined, Ok(Evaluated::Nothing)) => None,
        (Expect::Code(c), Err(e)) if *c == code(e) => None,
        (expect, got) => Some(format!("expected {expect:?}, got {got:?}")),
    }
}

fn known_gaps() -> BTreeMap<String, String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("conformance/jsonata-known-gaps.txt");
    let mut gaps = BTreeMap::new();
    for line in std::fs::read_to_string(path).unwrap().lines() {
        let line = line.trim_end();
        if line.is_empty() || line.starts_with("//") {
            continue;
        }
        let (id, reason) = line.split_once(" # ").unwrap_or((line, ""));
        assert!(
            !reason.trim().is_empty(),
            "known gap without a reason: {id}"
        );
        gaps.insert(id.trim().to_string(), reason.trim().to_string());
    }
    gaps
}

#[test]
fn jsonata_reference_suite() {
    let cases = load_cases(&suite_dir());
    let gaps = known_gaps();
    let filter = std::env::var("JSONATA_CASE").ok();
    let rng: Arc<dyn RandomSource> = Arc::new(SeededRng::new(11));
    let (mut passed, mut failed, mut run_count) = (0, Vec::new(), 0);
    let mut stale = Vec::new();
    let mut report = String::new();
    for case in &cases {
        if filter
            .as_ref()
            .is_some_and(|f| !case.id.contains(f.as_str()))
        {
            continue;
        }
        run_count += 1;
        let why = judge(case, &run(case, &rng));
        match (why, gaps.get(&case.id)) {
            (None, None) => passed += 1,
            (None, Some(_)) => {
                passed += 1;
                stale.push(case.id.clone());
            }
            (Some(_), Some(reason)) => report.push_str(&format!("GAP  {}: {reason}\n", case.id)),
            (Some(why), None) => {
                report.push_str(&format!(
                    "FAIL {}: {} :: {why}\n",
                    case.id,
                    case.expr.trim()
                ));
                failed.push(case.id.clone());
            }
        }
    }
    let gap_count = run_count - passed - failed.len();
    report.push_str(&format!(
        "JSONata {run_count} cases: {passed} passed, {} failed, {gap_count} known gaps ({:.1}% pass)\n",
        failed.len(),
        100.0 * passed as f64 / run_count.max(1) as f64
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
    assert_eq!(cases.len(), 1625, "the suite has 1,625 cases");
    let missing: Vec<&String> = gaps
        .keys()
        .filter(|g| !cases.iter().any(|c| &c.id == *g))
        .collect();
    assert!(
        missing.is_empty(),
        "known gaps not in the suite: {missing:?}"
    );
    assert!(
        stale.is_empty(),
        "known gaps that now pass (remove them): {stale:?}"
    );
    assert!(
        gaps.len() * 50 < cases.len(),
        "known gaps must stay under 2% of the suite"
    );
    assert!(
        failed.is_empty(),
        "{} unexpected failures: {failed:?}",
        failed.len()
    );
}
