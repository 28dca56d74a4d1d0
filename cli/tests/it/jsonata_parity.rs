//! The JSONata twin of the pipeline definition (`statemachine/image-pipeline.jsonata.asl.json`)
//! against the deployed JSONPath one: each scenario runs through both, on the real handlers and the
//! offline model, and everything a handler, a user or a reader of the history sees must be the same:
//! the status, error and cause, the output, the emails, the S3 objects, the states entered, the
//! handlers' inputs and results, and what `imagegen run` prints.
//!
//! Both runs start their paused clock at the same instant and draw jitter from the same seed, so
//! model slots and waits agree to the millisecond. Only what real time measures is normalised: the
//! handlers' `modelMillis`/`totalMillis` and the email's line of them, the signing time and
//! signature of presigned links, and the Report's per-state times. And one thing JSONata does by design: its numbers are JavaScript
//! doubles, so a `cfgScale` of `7.0` that a JSONPath state passes on as written reaches the handler
//! from a JSONata state as `7` (the same number; the handler reads an `f64` either way, and AWS's
//! JSONata does the same). Handler inputs are compared with whole numbers written as integers;
//! everything else, key order included, byte for byte.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use crate::common::TempDir;
use chrono::{DateTime, Utc};
use imagegen_cli::Report;
use imagegen_core::config::vars;
use imagegen_local::FakeModelBehavior;
use imagegen_local::sfn::{ExecutionRecord, Status};
use imagegen_local_pipeline::{LocalPipeline, PipelineOptions};
use imagegen_statemachine::{EventType, SeededRng, TokioClock};
use serde_json::{Value, json};

const JSONATA: &str = include_str!("../../../statemachine/image-pipeline.jsonata.asl.json");

/// One way through the pipeline.
struct Scenario {
    label: &'static str,
    input: Value,
    behavior: FakeModelBehavior,
    overrides: &'static [(&'static str, &'static str)],
    /// What the JSONPath definition is known to do (so that two identical failures cannot pass).
    status: Status,
    error: Option<&'static str>,
    /// GenerateImage attempts.
    model_calls: usize,
    /// Emails sent.
    emails: usize,
    /// A prompt file put in the bucket first; the input is then S3-style, naming it.
    prompt_file: Option<(&'static str, &'static str)>,
}

impl Scenario {
    fn new(label: &'static str, prompt: &str) -> Self {
        Self {
            label,
            input: json!({"prompt": prompt}),
            behavior: FakeModelBehavior::default(),
            overrides: &[],
            status: Status::Succeeded,
            error: None,
            model_calls: 1,
            emails: 1,
            prompt_file: None,
        }
    }
}

/// Everything compared between the two definitions.
#[derive(Debug, PartialEq)]
struct Observed {
    status: Status,
    error: Option<String>,
    cause: Option<String>,
    output: Option<Value>,
    /// Subject, body and attributes of each email.
    emails: Vec<(Option<String>, String, BTreeMap<String, String>)>,
    /// Every object in the bucket, by key (JSON objects normalised).
    objects: BTreeMap<String, Vec<u8>>,
    entered: Vec<String>,
    /// `(function, input)` of each Lambda call, in order.
    calls: Vec<(String, Value)>,
    /// `(event type, output or error and cause)` of each Lambda call's end.
    results: Vec<(String, Value)>,
    /// What `imagegen run` prints, state times left out, paths relative to the data directory.
    report: Vec<String>,
}

/// The start of both runs' clocks: a whole millisecond, as `PipelineOptions::default` makes it.
fn start() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-03-01T09:00:00.000Z")
        .unwrap()
        .with_timezone(&Utc)
}

async fn run(dir: &Path, definition: Option<&str>, scenario: &Scenario) -> Observed {
    let behavior = FakeModelBehavior {
        max_image_side: Some(64),
        ..scenario.behavior.clone()
    };
    let mut overrides: std::collections::HashMap<String, String> = scenario
        .overrides
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    // Slots 1 s apart, so the backoff, not the spacing, sets the waits.
    overrides.insert(vars::MODEL_QUOTA_RPM.to_owned(), "60".to_owned());
    let options = PipelineOptions {
        behavior,
        overrides,
        clock: Arc::new(TokioClock::starting_at(start())),
        rng: Arc::new(SeededRng::new(11)),
        definition: definition.map(str::to_owned),
        ..PipelineOptions::default()
    };
    let pipeline = LocalPipeline::open(dir, options).unwrap();
    let name = format!("parity-{}", scenario.label);
    let input = match scenario.prompt_file {
        Some((file, body)) => {
            pipeline.put_prompt(file, body.into()).await.unwrap();
            let key = format!("{}{file}", pipeline.prompt_prefix());
            json!({"source": {"bucket": pipeline.bucket(), "key": key}})
        }
        None => scenario.input.clone(),
    };
    let record = pipeline.run(&name, &input).await.unwrap();
    observe(&pipeline, &record)
}

fn observe(pipeline: &LocalPipeline, record: &ExecutionRecord) -> Observed {
    let aws = pipeline.aws();
    let emails = aws
        .list_messages()
        .unwrap()
        .into_iter()
        .map(|m| (m.subject, unsign(&m.body), m.attributes))
        .collect();
    let mut objects = BTreeMap::new();
    let bucket = aws.data_dir().s3_root().join(pipeline.bucket());
    collect(&bucket, &mut objects);
    let entered = record
        .history
        .iter()
        .filter(|e| e.event_type.as_str().ends_with("StateEntered"))
        .filter_map(|e| e.detail()?.get("name")?.as_str().map(str::to_owned))
        .collect();
    let function = |e: &imagegen_statemachine::HistoryEvent| {
        let resource = e.detail()?.get("resource")?.as_str()?;
        Some(resource.rsplit(':').next()?.to_owned())
    };
    let calls = record
        .history
        .iter()
        .filter(|e| e.event_type == EventType::LambdaFunctionScheduled)
        .map(|e| {
            let input = e
                .detail()
                .and_then(|d| d.get("input"))
                .and_then(Value::as_str);
            let mut input = json_text(input.unwrap());
            whole_numbers_as_integers(&mut input);
            (function(e).unwrap(), input)
        })
        .collect();
    let results = record
        .history
        .iter()
        .filter(|e| {
            matches!(
                e.event_type,
                EventType::LambdaFunctionSucceeded
                    | EventType::LambdaFunctionFailed
                    | EventType::LambdaFunctionTimedOut
            )
        })
        .map(|e| {
            let mut detail = e.detail().cloned().unwrap_or(Value::Null);
            if let Some(output) = detail.get("output").and_then(Value::as_str) {
                detail["output"] = json_text(output);
            }
            (e.event_type.as_str().to_owned(), detail)
        })
        .collect();
    let root = aws.data_dir().root().to_path_buf();
    let report = Report::new(record, aws)
        .to_string()
        .lines()
        .filter(|l| !l.ends_with(" ms") && !l.contains(" ms  ("))
        .map(|l| {
            let l = l.replace(
                &std::path::absolute(&root).unwrap().display().to_string(),
                "<data>",
            );
            // The email's file is named by the wall clock and a random id.
            let l = blank(&l, "<data>/outbox/", char::is_whitespace);
            let l = ungenerate(&l);
            l.split("  in ").next().unwrap().to_owned()
        })
        .collect();
    Observed {
        status: record.status,
        error: record.error.clone(),
        cause: record.cause.clone(),
        output: record.output.as_deref().map(json_text),
        emails,
        objects,
        entered,
        calls,
        results,
        report,
    }
}

/// JSON text as a value, normalised (see [`normalise`]).
fn json_text(text: &str) -> Value {
    let mut value: Value = serde_json::from_str(text).unwrap();
    normalise(&mut value);
    value
}

/// The times real time measures set to 0, and SNS message ids (random) replaced.
fn normalise(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for (key, v) in map.iter_mut() {
                match key.as_str() {
                    "modelMillis" | "totalMillis" => *v = json!(0),
                    "messageId" => *v = json!("<message id>"),
                    _ => normalise(v),
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(normalise),
        _ => {}
    }
}

/// `7.0` as `7`: how JSONata writes a whole number, whatever the JSON it came from.
fn whole_numbers_as_integers(value: &mut Value) {
    match value {
        Value::Number(n) if n.is_f64() => {
            let f = n.as_f64().unwrap();
            if f.fract() == 0.0 && f.abs() < 2f64.powi(53) {
                *value = json!(f as i64);
            }
        }
        Value::Object(map) => map.values_mut().for_each(whole_numbers_as_integers),
        Value::Array(items) => items.iter_mut().for_each(whole_numbers_as_integers),
        _ => {}
    }
}

/// What the wall clock sets in an email: the time each step took, presigned links' signing time
/// and signature, and when they expire.
fn unsign(body: &str) -> String {
    let query_value = |c: char| c == '&' || c.is_whitespace();
    let body = blank(body, "\nTime: ", |c| c == '\n');
    let body = blank(&body, "X-Amz-Date=", query_value);
    let body = blank(&body, "X-Amz-Signature=", query_value);
    blank(&body, "expire in 1 hour (at ", |c| c == ')')
}

/// `line` with each object data file's generation (`<hash>.<16 hex>.<ext>`, new on every write)
/// replaced: the same key in two runs is a different file.
fn ungenerate(line: &str) -> String {
    line.split('.')
        .map(|part| {
            if part.len() == 16 && part.bytes().all(|b| b.is_ascii_hexdigit()) {
                "<generation>"
            } else {
                part
            }
        })
        .collect::<Vec<_>>()
        .join(".")
}

/// `text` with what follows each `marker`, up to a character `end` accepts, replaced.
fn blank(text: &str, marker: &str, end: impl Fn(char) -> bool) -> String {
    let mut parts = text.split(marker);
    let mut out = parts.next().unwrap_or_default().to_owned();
    for part in parts {
        out.push_str(marker);
        out.push_str("<wall clock>");
        out.push_str(&part[part.find(&end).unwrap_or(part.len())..]);
    }
    out
}

fn collect(bucket: &Path, objects: &mut BTreeMap<String, Vec<u8>>) {
    for (key, path) in imagegen_local::s3::objects_in(bucket) {
        let bytes = std::fs::read(&path).unwrap();
        let bytes = match serde_json::from_slice::<Value>(&bytes) {
            Ok(mut value) => {
                normalise(&mut value);
                serde_json::to_vec(&value).unwrap()
            }
            Err(_) => bytes,
        };
        objects.insert(key, bytes);
    }
}

/// Run `scenario` through both definitions and compare everything.
async fn assert_parity(scenario: Scenario) {
    let dir = TempDir::new(&format!("parity-{}", scenario.label));
    let jsonpath = run(&dir.path().join("jsonpath"), None, &scenario).await;
    let jsonata = run(&dir.path().join("jsonata"), Some(JSONATA), &scenario).await;
    assert_eq!(jsonpath.status, scenario.status, "{jsonpath:#?}");
    assert_eq!(jsonpath.error.as_deref(), scenario.error, "{jsonpath:#?}");
    let model_calls = jsonpath
        .calls
        .iter()
        .filter(|(f, _)| f == "imagegen-generate-image")
        .count();
    assert_eq!(model_calls, scenario.model_calls, "{jsonpath:#?}");
    assert_eq!(jsonpath.emails.len(), scenario.emails, "{jsonpath:#?}");
    // Field by field first, for a readable failure.
    assert_eq!(jsonata.status, jsonpath.status);
    assert_eq!(jsonata.error, jsonpath.error);
    assert_eq!(jsonata.cause, jsonpath.cause);
    assert_eq!(jsonata.entered, jsonpath.entered);
    for (a, b) in jsonata.calls.iter().zip(&jsonpath.calls) {
        assert_eq!(a, b, "a handler's input");
        // Byte for byte, key order included.
        assert_eq!(a.1.to_string(), b.1.to_string());
    }
    assert_eq!(jsonata.calls.len(), jsonpath.calls.len());
    assert_eq!(jsonata.results, jsonpath.results);
    assert_eq!(jsonata.output, jsonpath.output);
    assert_eq!(jsonata.emails, jsonpath.emails);
    assert_eq!(
        jsonata.objects.keys().collect::<Vec<_>>(),
        jsonpath.objects.keys().collect::<Vec<_>>()
    );
    assert_eq!(jsonata.objects, jsonpath.objects);
    assert_eq!(jsonata.report, jsonpath.report);
    assert_eq!(jsonata, jsonpath);
}

#[test]
fn the_twin_is_written_in_jsonata() {
    let definition: Value = serde_json::from_str(JSONATA).unwrap();
    assert_eq!(definition["QueryLanguage"], "JSONata");
    let deployed: Value =
        serde_json::from_str(imagegen_local_pipeline::pipeline::DEFINITION).unwrap();
    let names = |d: &Value| {
        d["States"]
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect::<Vec<_>>()
    };
    assert_eq!(names(&definition), names(&deployed));
    // The same Retry on every state.
    for (name, state) in deployed["States"].as_object().unwrap() {
        assert_eq!(
            definition["States"][name]["Retry"], state["Retry"],
            "{name}"
        );
        assert_eq!(
            definition["States"][name]["TimeoutSeconds"], state["TimeoutSeconds"],
            "{name}"
        );
    }
}

#[tokio::test(start_paused = true)]
async fn success() {
    assert_parity(Scenario::new("success", "a lighthouse at dusk")).await;
}

#[tokio::test(start_paused = true)]
async fn an_uploaded_prompt_file() {
    assert_parity(Scenario {
        prompt_file: Some((
            "harbour.json",
            // A legacy model (a warning in the request) and a float that must stay `7.0`.
            r#"{"prompt": "a harbour at dawn", "model": "amazon.nova-canvas-v1:0", "seed": 42,
                "cfgScale": 7.0, "width": 512, "height": 512}"#,
        )),
        ..Scenario::new("upload", "unused")
    })
    .await;
}

/// The email cannot be sent: NotifySuccess fails with everything made (the failure state then
/// holds every result), and NotifyFailure fails too.
#[tokio::test(start_paused = true)]
async fn an_email_that_cannot_be_sent() {
    assert_parity(Scenario {
        // SNS refuses to publish to a malformed topic ARN.
        overrides: &[(vars::TOPIC_ARN, "not-a-topic")],
        status: Status::Failed,
        error: Some("NotifyError"),
        emails: 0,
        ..Scenario::new("no-email", "a lighthouse at dusk")
    })
    .await;
}

#[tokio::test(start_paused = true)]
async fn a_blank_prompt_is_rejected() {
    assert_parity(Scenario {
        status: Status::Failed,
        error: Some("PromptRejected"),
        model_calls: 0,
        ..Scenario::new("blank", "   ")
    })
    .await;
}

#[tokio::test(start_paused = true)]
async fn a_blocked_prompt_is_rejected() {
    assert_parity(Scenario {
        overrides: &[(vars::BLOCKLIST, "volcano")],
        status: Status::Failed,
        error: Some("PromptRejected"),
        model_calls: 0,
        ..Scenario::new("blocked", "a volcano at night")
    })
    .await;
}

#[tokio::test(start_paused = true)]
async fn throttled_twice_then_an_image() {
    assert_parity(Scenario {
        behavior: FakeModelBehavior {
            throttle: 2,
            ..FakeModelBehavior::default()
        },
        model_calls: 3,
        ..Scenario::new("throttled", "a lighthouse at dusk")
    })
    .await;
}

#[tokio::test(start_paused = true)]
async fn throttled_past_the_limit_is_a_failure_email() {
    assert_parity(Scenario {
        behavior: FakeModelBehavior {
            throttle: 100,
            ..FakeModelBehavior::default()
        },
        status: Status::Failed,
        error: Some("ModelThrottled"),
        model_calls: 8,
        ..Scenario::new("throttled-out", "a lighthouse at dusk")
    })
    .await;
}

#[tokio::test(start_paused = true)]
async fn a_filtered_prompt_is_a_failure_email() {
    assert_parity(Scenario {
        behavior: FakeModelBehavior {
            filter_terms: vec!["volcano".into()],
            ..FakeModelBehavior::default()
        },
        status: Status::Failed,
        error: Some("ContentFiltered"),
        ..Scenario::new("filtered", "a volcano at night")
    })
    .await;
}

#[tokio::test(start_paused = true)]
async fn a_corrupt_image_is_a_failure_email() {
    assert_parity(Scenario {
        behavior: FakeModelBehavior {
            corrupt: 1,
            ..FakeModelBehavior::default()
        },
        status: Status::Failed,
        error: Some("ImageInvalid"),
        ..Scenario::new("corrupt", "a lighthouse at dusk")
    })
    .await;
}
