//! Conformance runner over the AWS-recorded ASL corpus in `conformance/asl` (a copy kept
//! in this crate, see `conformance/NOTICE`). Runs every case: executions and invalid
//! definitions, JSONPath and JSONata (Lambda-only or no Lambdas), and TestState cases.
//! Executions compare status, output / error / cause, the history event types and the
//! recorded event detail shapes; TestState cases compare status, output, error, cause,
//! next state and inspection data. The test fails on any failure that is not listed in
//! `conformance/asl-known-gaps.txt`, on a listed gap that now passes, and when the gaps
//! reach 5% of the JSONPath, the JSONata or the TestState cases.
//! `ASL_CASE=<substring>` runs a subset; `ASL_VERBOSE=1` shows why the gaps fail.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod compare;
mod corpus;
mod execution;
mod test_state;

use corpus::corpus_dir;
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

#[derive(Debug)]
pub struct Outcome {
    pub ok: bool,
    pub why: String,
}

#[derive(Default)]
struct Tally {
    passed: usize,
    failed: usize,
    gaps: usize,
}

impl Tally {
    fn total(&self) -> usize {
        self.passed + self.failed + self.gaps
    }
}

/// The known gaps: case id to reason.
fn known_gaps() -> HashMap<String, String> {
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("conformance/asl-known-gaps.txt"),
    )
    .unwrap();
    let mut gaps = HashMap::new();
    for line in text.lines() {
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
    gaps
}

fn all_cases(dir: &Path) -> Vec<Value> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir.join("cases"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    files
        .iter()
        .flat_map(|f| {
            serde_json::from_str::<Vec<Value>>(&std::fs::read_to_string(f).unwrap()).unwrap()
        })
        .collect()
}

/// The groups a case counts in, for the 5% gap budget and the report.
fn groups(case: &Value) -> Vec<&'static str> {
    let mut g = vec![if case["query_language"] == "JSONata" {
        "JSONata"
    } else {
        "JSONPath"
    }];
    if case["kind"] == "test_state" {
        g.push("TestState");
    }
    g
}

fn run(case: &Value, dir: &Path, rt: &tokio::runtime::Runtime) -> Outcome {
    match case["kind"].as_str().unwrap_or("") {
        "invalid_definition" => execution::check_rejected(case, dir),
        "test_state" => rt.block_on(test_state::run_case(case)),
        _ => rt.block_on(execution::run_case(case, dir)),
    }
}

/// Writes straight to stdout, so the summary shows even when the harness captures output.
fn print(report: &str) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(report.as_bytes());
    let _ = out.flush();
}

#[test]
fn conformance() {
    let dir = corpus_dir();
    assert!(
        dir.join("README.md").exists(),
        "conformance corpus not found at {}",
        dir.display()
    );
    let gaps = known_gaps();
    let filter = std::env::var("ASL_CASE").ok();
    let verbose = std::env::var("ASL_VERBOSE").is_ok();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .unwrap();
    let mut areas: BTreeMap<String, Tally> = BTreeMap::new();
    let mut by_group: BTreeMap<&str, Tally> = BTreeMap::new();
    let (mut unexpected, mut stale, mut seen_gaps) = (Vec::new(), Vec::new(), Vec::new());
    for case in all_cases(&dir) {
        let id = case["id"].as_str().unwrap_or("").to_string();
        if filter.as_ref().is_some_and(|f| !id.contains(f.as_str())) {
            continue;
        }
        let out = run(&case, &dir, &rt);
        let gap = gaps.get(&id);
        if gap.is_some() {
            seen_gaps.push(id.clone());
        }
        let area = case["area"].as_str().unwrap_or("?").to_string();
        let mut count = |f: fn(&mut Tally)| {
            f(areas.entry(area.clone()).or_default());
            for g in groups(&case) {
                f(by_group.entry(g).or_default());
            }
        };
        match (out.ok, gap) {
            (true, None) => count(|t| t.passed += 1),
            (true, Some(_)) => {
                count(|t| t.passed += 1);
                stale.push(id);
            }
            (false, Some(reason)) => {
                count(|t| t.gaps += 1);
                if verbose {
                    eprintln!("GAP  {id}: {reason}\n     {}", out.why);
                }
            }
            (false, None) => {
                count(|t| t.failed += 1);
                eprintln!("FAIL {id}: {}", out.why);
                unexpected.push(id);
            }
        }
    }
    let line = |name: &str, t: &Tally| {
        format!(
            "{name}: {} cases, {} passed, {} failed, {} known gaps\n",
            t.total(),
            t.passed,
            t.failed,
            t.gaps
        )
    };
    let mut report: String = areas.iter().map(|(a, t)| line(a, t)).collect();
    report.extend(by_group.iter().map(|(g, t)| line(&format!("{g} cases"), t)));
    let passed: usize = areas.values().map(|t| t.passed).sum();
    // "failed" counts unexpected failures; known gaps are reported apart.
    report.push_str(&format!("{passed} passed, {} failed\n", unexpected.len()));
    print(&report);
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
    for (g, t) in &by_group {
        assert!(
            t.gaps * 20 < t.total(),
            "known gaps of the {g} cases ({}) must stay under 5% of {}",
            t.gaps,
            t.total()
        );
    }
    assert!(
        unexpected.is_empty(),
        "{} unexpected failures: {unexpected:#?}",
        unexpected.len()
    );
}
