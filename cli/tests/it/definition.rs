//! `--definition FILE`: the pipeline run with a user's own state-machine definition against the
//! real handlers, and a definition that cannot run refused in one sentence, before anything starts.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};

use clap::Parser;
use imagegen_cli::args::Cli;
use imagegen_local::sfn::Status;
use serde_json::{Value, json};

use crate::common::TempDir;

const JSONATA: &str = "../statemachine/image-pipeline.jsonata.asl.json";

/// `imagegen --data-dir <data> --fast-retries ARGS...` in-process: (exit code or error, output).
async fn imagegen(data: &Path, args: &[&str]) -> (Result<u8, String>, String) {
    let mut argv = vec![
        "imagegen",
        "--data-dir",
        data.to_str().unwrap(),
        "--fast-retries",
        "--fake-max-image-side",
        "64",
    ];
    argv.extend_from_slice(args);
    let cli = Cli::try_parse_from(argv).unwrap();
    let mut out = Vec::new();
    let result = imagegen_cli::commands::execute(&cli, &mut out)
        .await
        .map_err(|e| e.to_string());
    (result, String::from_utf8(out).unwrap())
}

fn jsonata_twin() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(JSONATA)
}

/// The execution `imagegen run` named in its first line.
fn execution(data: &Path, out: &str) -> imagegen_local::sfn::ExecutionRecord {
    let name = out
        .lines()
        .find_map(|l| l.strip_prefix("Execution "))
        .unwrap();
    let aws = imagegen_local::LocalAws::open(data).unwrap();
    aws.sfn().execution(name).unwrap().unwrap()
}

#[tokio::test(start_paused = true)]
async fn run_with_the_jsonata_twin_makes_an_image_and_says_where() {
    let dir = TempDir::new("definition-run");
    let data = dir.path().join("data");
    let twin = jsonata_twin();
    let (code, out) = imagegen(
        &data,
        &[
            "run",
            "a lighthouse at dusk",
            "--definition",
            twin.to_str().unwrap(),
        ],
    )
    .await;
    assert_eq!(code, Ok(0), "{out}");
    for line in ["SUCCEEDED", "Images:", "Thumbnails:", "Manifest:", "Email:"] {
        assert!(out.contains(line), "{line} missing from:\n{out}");
    }
    // The JSONata states ran: their outputs are the functions' results, not one growing state.
    let record = execution(&data, &out);
    let validated = record
        .history
        .iter()
        .find(|e| e.event_type.as_str() == "TaskStateExited")
        .and_then(|e| e.detail()?.get("output")?.as_str())
        .map(|o| serde_json::from_str::<Value>(o).unwrap())
        .unwrap();
    assert!(
        validated.get("requestId").is_some() && validated.get("input").is_none(),
        "{validated}"
    );
}

/// What Workflow Studio writes: the Lambda Invoke integration, `FunctionName` and `Payload`.
#[tokio::test(start_paused = true)]
async fn a_definition_of_ones_own_runs_against_the_real_handlers() {
    let dir = TempDir::new("definition-own");
    let data = dir.path().join("data");
    let file = dir.path().join("validate-only.asl.json");
    let definition = json!({
        "QueryLanguage": "JSONata",
        "StartAt": "Validate",
        "States": {"Validate": {
            "Type": "Task",
            "Resource": "arn:aws:states:::lambda:invoke",
            "Arguments": {
                "FunctionName": "${ValidatePromptFunctionArn}",
                "Payload": {
                    "input": "{% $states.input %}",
                    "executionName": "{% $states.context.Execution.Name %}"
                }
            },
            "Output": "{% $states.result.Payload %}",
            "End": true
        }}
    });
    std::fs::write(&file, definition.to_string()).unwrap();
    let file = file.to_str().unwrap();

    let (code, out) = imagegen(&data, &["run", "a harbour", "--definition", file]).await;
    assert_eq!(code, Ok(0), "{out}");
    let record = execution(&data, &out);
    let output: Value = serde_json::from_str(record.output.as_deref().unwrap()).unwrap();
    assert_eq!(output["prompt"], "a harbour", "{output}");
    assert_eq!(output["output"]["bucket"], "imagegen-local", "{output}");

    // The real validate-prompt rejects a blank prompt; this definition has no Catch.
    let (code, out) = imagegen(&data, &["run", "  ", "--definition", file]).await;
    assert_eq!(code, Ok(1), "{out}");
    let record = execution(&data, &out);
    assert_eq!(record.status, Status::Failed);
    assert_eq!(record.error.as_deref(), Some("PromptRejected"));
}

#[tokio::test(start_paused = true)]
async fn upload_takes_a_definition_too() {
    let dir = TempDir::new("definition-upload");
    let data = dir.path().join("data");
    let prompt = dir.path().join("harbour.txt");
    std::fs::write(&prompt, "a harbour at dawn").unwrap();
    let twin = jsonata_twin();
    let (code, out) = imagegen(
        &data,
        &[
            "upload",
            prompt.to_str().unwrap(),
            "--definition",
            twin.to_str().unwrap(),
        ],
    )
    .await;
    assert_eq!(code, Ok(0), "{out}");
    assert!(
        out.contains("SUCCEEDED") && out.contains("Images:"),
        "{out}"
    );
}

/// Definitions that cannot run, and the sentence each gets.
fn bad_definitions(dir: &Path) -> Vec<(PathBuf, String)> {
    let write = |name: &str, text: &str| {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        path
    };
    let deployed: Value = serde_json::from_str(imagegen_local_pipeline::pipeline::DEFINITION)
        .expect("the deployed definition");
    let mut placeholder = deployed.clone();
    placeholder["States"]["GenerateImage"]["Resource"] = json!("${ImageFunctionArn}");
    let mut dangling = deployed.clone();
    dangling["States"]["GenerateImage"]["Next"] = json!("MakeThumbnails");
    let mut exported = deployed;
    let deployed_arn = "arn:aws:lambda:eu-west-1:123456789012:function:Imagegen-GenerateImage-X1";
    exported["States"]["GenerateImage"]["Resource"] = json!(deployed_arn);

    let missing = dir.join("missing.asl.json");
    let not_json = write("notes.asl.json", "StartAt: ReceiveInput");
    let placeholder = write("placeholder.asl.json", &placeholder.to_string());
    let dangling = write("dangling.asl.json", &dangling.to_string());
    let exported = write("exported.asl.json", &exported.to_string());
    let named = |path: &Path| format!("the definition {}", path.display());
    vec![
        (
            missing.clone(),
            format!(
                "{} cannot be read: No such file or directory",
                named(&missing)
            ),
        ),
        (
            not_json.clone(),
            format!(
                "{} is not JSON: expected value at line 1 column 1",
                named(&not_json)
            ),
        ),
        (
            placeholder.clone(),
            format!(
                "{} uses the placeholder ${{ImageFunctionArn}} (at /States/GenerateImage/Resource), \
                 which the local pipeline does not fill; it fills ${{ValidatePromptFunctionArn}}, ",
                named(&placeholder)
            ),
        ),
        (
            dangling.clone(),
            format!(
                "{} is not a valid state machine: state 'GenerateImage', field 'Next': no state \
                 named 'MakeThumbnails'",
                named(&dangling)
            ),
        ),
        (
            exported.clone(),
            format!(
                "{} calls {deployed_arn} in state 'GenerateImage', but that is not one of the \
                 pipeline's functions: name them with the placeholders \
                 ${{ValidatePromptFunctionArn}}",
                named(&exported)
            ),
        ),
    ]
}

#[tokio::test]
async fn a_definition_that_cannot_run_is_one_sentence_and_starts_nothing() {
    let dir = TempDir::new("definition-bad");
    for (file, sentence) in bad_definitions(dir.path()) {
        let data = dir.path().join("data");
        let file = file.to_str().unwrap();
        for args in [
            &["run", "a cat", "--definition", file][..],
            &["upload", file, "--definition", file],
            &["burst", "--count", "1", "--definition", file],
        ] {
            let (result, out) = imagegen(&data, args).await;
            let err = result.unwrap_err();
            assert!(
                err.starts_with(&sentence),
                "{args:?}:\n{err}\nnot:\n{sentence}"
            );
            assert!(!err.contains('\n') && !err.contains("{ "), "{err}");
            assert!(out.is_empty(), "{out}");
            assert!(!data.exists(), "nothing is started: {args:?}");
        }
        // serve refuses it before it listens (and without --fast-retries, which serve refuses).
        let data_arg = data.to_str().unwrap();
        let argv = [
            "imagegen",
            "--data-dir",
            data_arg,
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--definition",
            file,
        ];
        let cli = Cli::try_parse_from(argv).unwrap();
        let err = imagegen_cli::commands::execute(&cli, &mut Vec::new())
            .await
            .unwrap_err()
            .to_string();
        assert!(err.starts_with(&sentence), "serve:\n{err}");
        assert!(!data.exists(), "nothing is started: serve");
    }
}

/// Through the binary: the sentence on stderr, exit status 2 (usage), nothing on stdout.
#[test]
fn the_binary_exits_2_with_the_sentence() {
    let dir = TempDir::new("definition-binary");
    let data = dir.path().join("data");
    let (file, sentence) = bad_definitions(dir.path()).remove(1);
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_imagegen"))
        .args(["--data-dir", data.to_str().unwrap(), "run", "a cat"])
        .arg("--definition")
        .arg(&file)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert_eq!(stderr.trim_end(), format!("imagegen: {sentence}"));
    assert!(out.stdout.is_empty());
    assert!(!data.exists());
}
