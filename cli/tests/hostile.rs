//! What a hostile but realistic user tried (issue 16), through the `imagegen` command line: every
//! case ends in a clear sentence, never a debug dump, a silent failure or a read outside the data
//! directory.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use clap::Parser;
use imagegen_cli::args::Cli;
use serde_json::json;

use common::TempDir;

/// Run `imagegen --data-dir <data> ARGS...`; (exit code or error text, output).
async fn imagegen(data: &std::path::Path, args: &[&str]) -> (Result<u8, String>, String) {
    let mut argv = vec!["imagegen", "--data-dir", data.to_str().unwrap()];
    argv.extend_from_slice(args);
    let cli = Cli::try_parse_from(argv).unwrap();
    let mut out = Vec::new();
    let result = imagegen_cli::commands::execute(&cli, &mut out)
        .await
        .map_err(|e| e.to_string());
    (result, String::from_utf8(out).unwrap())
}

/// Issue item 3: a corrupt or foreign file in `executions/` used to fail the whole listing.
#[tokio::test]
async fn one_bad_execution_file_does_not_hide_the_others() {
    let dir = TempDir::new("hostile-listing");
    let data = dir.path().join("data");
    imagegen_local::DataDir::open(&data).unwrap();
    let executions = data.join("executions");
    let good = json!({
        "name": "good-1", "executionArn": "arn:aws:states:us-east-1:000000000000:execution:imagegen-pipeline:good-1",
        "stateMachineArn": "arn:aws:states:us-east-1:000000000000:stateMachine:imagegen-pipeline",
        "status": "SUCCEEDED", "input": "{\"prompt\":\"a lighthouse\"}",
        "startDate": "2024-01-01T00:00:00.000Z", "stopDate": "2024-01-01T00:00:05.000Z"
    });
    std::fs::write(executions.join("good-1.json"), good.to_string()).unwrap();
    std::fs::write(executions.join("broken.json"), "{\"name\": \"bro").unwrap();
    std::fs::write(executions.join("foreign.json"), "[1, 2, 3]").unwrap();

    let (code, out) = imagegen(&data, &["executions"]).await;
    assert_eq!(code, Ok(0), "{out}");
    assert!(
        out.contains("good-1") && out.contains("a lighthouse"),
        "{out}"
    );
    assert!(out.contains("Not shown: 2 files"), "{out}");
    assert!(
        out.contains("broken.json: it is not an execution record"),
        "{out}"
    );
    assert!(
        out.contains("foreign.json: it is not an execution record"),
        "{out}"
    );
}

/// Issue item 6: `imagegen history ../../../x` read a file outside the data directory.
#[tokio::test]
async fn execution_names_never_escape_the_data_directory() {
    let dir = TempDir::new("hostile-names");
    let data = dir.path().join("data");
    imagegen_local::DataDir::open(&data).unwrap();
    // A record-shaped file outside the executions directory, where `../` would lead.
    let outside = json!({
        "name": "x", "executionArn": "arn:aws:states:us-east-1:000000000000:execution:p:x",
        "stateMachineArn": "arn:aws:states:us-east-1:000000000000:stateMachine:p",
        "status": "SUCCEEDED", "input": "{}", "startDate": "2024-01-01T00:00:00.000Z"
    });
    std::fs::write(dir.path().join("x.json"), outside.to_string()).unwrap();
    std::fs::write(data.join("x.json"), outside.to_string()).unwrap();
    for name in ["../../x", "../x", "/etc/passwd", "a/../../x"] {
        let (result, out) = imagegen(&data, &["history", name]).await;
        let err = result.unwrap_err();
        assert!(err.contains("is not an execution name"), "{name}: {err}");
        assert!(out.is_empty(), "{name}: {out}");
    }
}
