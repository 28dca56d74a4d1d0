//! What a hostile but realistic user tried (issue 16), through the `imagegen` command line: every
//! case ends in a clear sentence, never a debug dump, a silent failure or a read outside the data
//! directory.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use clap::Parser;
use imagegen_cli::args::Cli;
use serde_json::json;

use crate::common::TempDir;

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

/// Issue item 7: raw control and escape characters from prompts and file names reached the
/// terminal (`run`, `executions`, `upload`). They are shown escaped.
#[tokio::test]
async fn control_characters_never_reach_the_terminal() {
    let dir = TempDir::new("hostile-controls");
    let data = dir.path().join("data");
    let raw = |text: &str| {
        text.chars()
            .any(|c| c != '\n' && imagegen_core::display::needs_escape(c))
    };

    let (code, out) = imagegen(&data, &["run", "a cat\u{1b}[2J\u{7}\u{202e}"]).await;
    assert_eq!(code, Ok(1), "{out}");
    assert!(!raw(&out), "{out:?}");
    assert!(out.contains("PromptRejected"), "{out}");

    let file = dir.path().join("evil\u{1b}[31m.txt");
    std::fs::write(&file, "a lighthouse\u{0} at dusk").unwrap();
    let (code, out) = imagegen(&data, &["upload", file.to_str().unwrap()]).await;
    assert_eq!(code, Ok(1), "{out}");
    assert!(!raw(&out), "{out:?}");
    assert!(out.contains("evil\\x1b[31m.txt"), "{out}");

    let (code, out) = imagegen(&data, &["executions"]).await;
    assert_eq!(code, Ok(0));
    assert!(!raw(&out), "{out:?}");
    assert!(out.contains("a cat\\x1b[2J\\x07\\u202e"), "{out}");
}

/// Issue item 5: an upload whose key was about 155 bytes or longer got an S3 InternalError (a debug
/// dump) and left the prompt behind with no execution.
#[tokio::test]
async fn an_upload_with_a_long_name_runs() {
    let dir = TempDir::new("hostile-long-key");
    let data = dir.path().join("data");
    let file = dir
        .path()
        .join(format!("{}.txt", "a-lighthouse-".repeat(18)));
    assert!(file.file_name().unwrap().len() > 200);
    std::fs::write(&file, "a lighthouse at dusk").unwrap();
    let (code, out) = imagegen(&data, &["--fast-retries", "upload", file.to_str().unwrap()]).await;
    assert_eq!(code, Ok(0), "{out}");
    assert!(out.contains("SUCCEEDED"), "{out}");
    assert!(
        !out.contains("InternalError") && !out.contains("{"),
        "{out}"
    );
}
