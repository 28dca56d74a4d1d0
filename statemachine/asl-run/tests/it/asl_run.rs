//! The `asl-run` binary end to end.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::Value;
use std::process::Command;

fn asl_run(args: &[&str]) -> (i32, Value, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_asl-run"))
        .args(args)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    let v = serde_json::from_str(&stdout).unwrap_or(Value::Null);
    (
        out.status.code().unwrap_or(-1),
        v,
        String::from_utf8_lossy(&out.stderr).to_string(),
    )
}

const A: &str = "arn:aws:lambda:us-east-1:111111111111:function";

fn pipeline_args(extra: &[String]) -> Vec<String> {
    let mut v =
        vec![concat!(env!("CARGO_MANIFEST_DIR"), "/../image-pipeline.asl.json").to_string()];
    for f in [
        "ValidatePrompt",
        "ReserveModelSlot",
        "GenerateImage",
        "GenerateThumbnails",
        "NotifyUser",
    ] {
        v.push("--subst".into());
        v.push(format!("{f}FunctionArn={A}:{f}"));
    }
    v.extend(extra.iter().cloned());
    v
}

#[test]
fn runs_the_pipeline_with_bound_lambdas() {
    let extra = vec![
        "--input".to_string(),
        r#"{"prompt":"a cat"}"#.to_string(),
        "--lambda".to_string(),
        format!("{A}:ValidatePrompt=echo"),
        "--lambda".to_string(),
        // A slot in the past: WaitForModelSlot goes straight on.
        "ReserveModelSlot=return:{\"at\":\"2020-01-01T00:00:00Z\",\"attempt\":1}".to_string(),
        "--lambda".to_string(),
        format!("{A}:GenerateImage=return:{{\"images\":[\"k\"]}}"),
        "--lambda".to_string(),
        "GenerateThumbnails=echo".to_string(),
        "--lambda".to_string(),
        "NotifyUser=return:{\"sent\":true}".to_string(),
    ];
    let args = pipeline_args(&extra);
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let (code, out, err) = asl_run(&refs);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out["status"], "SUCCEEDED");
    assert_eq!(out["output"], serde_json::json!({"sent": true}));
    assert_eq!(out["history"][0]["type"], "ExecutionStarted");
}

#[test]
fn reports_failures_and_usage_errors() {
    let extra = vec![
        "--lambda".to_string(),
        "ValidatePrompt=fail:PromptRejected:too short".to_string(),
        "--lambda".to_string(),
        "NotifyUser=echo".to_string(),
    ];
    let args = pipeline_args(&extra);
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let (code, out, _) = asl_run(&refs);
    assert_eq!(code, 1);
    assert_eq!(out["error"], "PromptRejected");
    assert_eq!(out["cause"], "too short");
    let (code, _, err) = asl_run(&[concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../image-pipeline.asl.json"
    )]);
    assert_eq!(code, 2);
    assert!(err.contains("ValidatePromptFunctionArn"), "{err}");
    let (code, _, err) = asl_run(&["/nonexistent.json"]);
    assert_eq!(code, 2);
    assert!(err.contains("cannot read"));
}

/// A behaviour the engine cannot carry out is a usage error, not a panic.
#[test]
fn refuses_a_sleep_too_long_to_represent() {
    let extra = vec![
        "--lambda".to_string(),
        "ValidatePrompt=sleep:1e20".to_string(),
    ];
    let args = pipeline_args(&extra);
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let (code, _, err) = asl_run(&refs);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("sleep:1e20") && err.contains("seconds"),
        "{err}"
    );
}

#[test]
fn runs_jsonata_definitions() {
    let def = std::env::temp_dir().join(format!("asl-run-jsonata-{}.json", std::process::id()));
    std::fs::write(
        &def,
        r#"{"QueryLanguage": "JSONata", "StartAt": "Hi", "States": {"Hi": {"Type": "Task",
            "Resource": "arn:aws:lambda:us-east-1:111111111111:function:greet",
            "Arguments": {"who": "{% $states.input.name %}"},
            "Output": "{% 'hello ' & $states.result.who %}", "End": true}}}"#,
    )
    .unwrap();
    let (code, out, err) = asl_run(&[
        def.to_str().unwrap(),
        "--input",
        r#"{"name": "cat"}"#,
        "--lambda",
        "greet=echo",
        "--no-history",
    ]);
    let _ = std::fs::remove_file(&def);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out["output"], "hello cat");
}
