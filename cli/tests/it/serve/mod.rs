//! `imagegen serve` end to end: the real binary on a free loopback port, driven by unmodified AWS
//! clients (the AWS CLI, the Rust SDK clients, a bare HTTP GET for presigned links). Time here is
//! real: the server is another process, so the tests poll with deadlines.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod api_and_queue;
mod console;
mod crash;
mod durable;
mod full_disk;
mod harness;
mod refusals;
mod rehearse;
mod rehearse_console;
mod rehearse_mutations;
mod s3_clients;
mod sdk;
mod security;
mod stop;

use std::time::Duration;

use harness::{Aws, Served, TempDir, aws_cli, eventually, http_get, imagegen, messages};
use serde_json::Value;

/// How long one pipeline run may take in a debug build on a busy machine.
pub(crate) const RUN: Duration = Duration::from_secs(120);

const MACHINE: &str = "arn:aws:states:us-east-1:000000000000:stateMachine:imagegen-pipeline";

/// `aws stepfunctions list-executions` of the pipeline, with `more` arguments.
fn list_executions(aws: &Aws, more: &[&str]) -> Value {
    let mut args = vec![
        "stepfunctions",
        "list-executions",
        "--state-machine-arn",
        MACHINE,
    ];
    args.extend_from_slice(more);
    aws.json(&args)
}

/// The pipeline's execution with `status`, once `list-executions` shows one.
fn wait_for_status(aws: &Aws, status: &str) -> Value {
    eventually(RUN, &format!("an execution {status}"), || {
        let listed = list_executions(aws, &[]);
        listed["executions"]
            .as_array()
            .and_then(|all| all.iter().find(|e| e["status"] == status).cloned())
    })
}

#[test]
fn an_s3_upload_runs_the_pipeline_and_the_email_links_open() {
    let Some(cli) = aws_cli() else { return };
    let dir = TempDir::new("cp");
    let served = Served::start(&dir.path().join("data"), &[], &[]);
    let aws = Aws::new(cli, &served.endpoint);
    let prompt = dir.path().join("my prompt.txt");
    std::fs::write(&prompt, "a lighthouse at dusk").unwrap();

    aws.ok(&[
        "s3",
        "cp",
        prompt.to_str().unwrap(),
        "s3://imagegen-local/prompts/",
    ]);
    let execution = wait_for_status(&aws, "SUCCEEDED");
    let name = execution["name"].as_str().unwrap();

    // `imagegen executions` (another process, reading while serve runs) agrees.
    let listed = imagegen(&served.data, &["executions"]);
    assert!(listed.status.success());
    let table = String::from_utf8_lossy(&listed.stdout);
    assert!(
        table
            .lines()
            .any(|l| l.contains(name) && l.contains("SUCCEEDED")),
        "{table}"
    );
    assert!(table.contains("(file) prompts/my prompt.txt"), "{table}");

    // The email, and its presigned link to the image: 200 with the PNG's bytes.
    let mail = messages(&served.data);
    assert_eq!(mail.len(), 1, "{mail:#?}");
    assert_eq!(mail[0].attributes["status"], "SUCCEEDED");
    let link = mail[0]
        .body
        .split_whitespace()
        .find(|w| w.starts_with(&served.endpoint) && w.contains("/images/"))
        .unwrap_or_else(|| panic!("no image link to {} in\n{}", served.endpoint, mail[0].body));
    let (status, body) = http_get(link);
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    assert!(body.starts_with(b"\x89PNG\r\n\x1a\n"));
    let key = link
        .strip_prefix(&format!("{}/imagegen-local/", served.endpoint))
        .unwrap()
        .split('?')
        .next()
        .unwrap();
    let on_disk = std::fs::read(imagegen_local::s3::object_path(
        &served.data.join("s3"),
        "imagegen-local",
        key,
    ))
    .unwrap();
    assert_eq!(body, on_disk);
    // A link whose signature was tampered with is refused.
    let at = link.find("X-Amz-Signature=").unwrap() + "X-Amz-Signature=".len();
    let flipped = if link.as_bytes()[at] == b'0' {
        "1"
    } else {
        "0"
    };
    let tampered = format!("{}{flipped}{}", &link[..at], &link[at + 1..]);
    let (status, body) = http_get(&tampered);
    assert_eq!(status, 403);
    assert!(String::from_utf8_lossy(&body).contains("SignatureDoesNotMatch"));

    // The served process logged the delivery and the run.
    let printed = served.printed();
    assert!(printed.contains("ObjectCreated:Put"), "{printed}");
    assert!(
        printed.contains(&format!("✓ {name}  SUCCEEDED")),
        "{printed}"
    );
}

#[test]
fn a_console_start_runs_and_every_view_agrees() {
    let Some(cli) = aws_cli() else { return };
    let dir = TempDir::new("start");
    let served = Served::start(&dir.path().join("data"), &[], &[]);
    let aws = Aws::new(cli, &served.endpoint);

    let machines = aws.json(&["stepfunctions", "list-state-machines"]);
    assert_eq!(machines["stateMachines"][0]["stateMachineArn"], MACHINE);
    let described = aws.json(&[
        "stepfunctions",
        "describe-state-machine",
        "--state-machine-arn",
        MACHINE,
    ]);
    let definition: Value =
        serde_json::from_str(described["definition"].as_str().unwrap()).unwrap();
    assert_eq!(definition["StartAt"], "ReceiveInput");
    assert!(!described["definition"].as_str().unwrap().contains("${"));

    let started = aws.json(&[
        "stepfunctions",
        "start-execution",
        "--state-machine-arn",
        MACHINE,
        "--name",
        "console-1",
        "--input",
        r#"{"prompt":"a lighthouse at dusk","width":1024,"height":1024,"seed":42}"#,
    ]);
    let arn = started["executionArn"].as_str().unwrap().to_owned();
    let described = eventually(RUN, "console-1 to end", || {
        let d = aws.json(&[
            "stepfunctions",
            "describe-execution",
            "--execution-arn",
            &arn,
        ]);
        (d["status"] != "RUNNING").then_some(d)
    });
    assert_eq!(described["status"], "SUCCEEDED", "{described:#}");
    let output: Value = serde_json::from_str(described["output"].as_str().unwrap()).unwrap();
    assert!(
        output["manifestKey"]
            .as_str()
            .unwrap()
            .starts_with("results/")
    );

    // History: the CLI's pages put together, reversed, and `imagegen history --json` agree.
    let history = aws.json(&[
        "stepfunctions",
        "get-execution-history",
        "--execution-arn",
        &arn,
    ]);
    let events = history["events"].as_array().unwrap();
    let page = aws.json(&[
        "stepfunctions",
        "get-execution-history",
        "--execution-arn",
        &arn,
        "--max-results",
        "3",
        "--no-paginate",
    ]);
    assert_eq!(page["events"].as_array().unwrap().len(), 3);
    assert!(page["nextToken"].is_string(), "{page:#}");
    let reversed = aws.json(&[
        "stepfunctions",
        "get-execution-history",
        "--execution-arn",
        &arn,
        "--reverse-order",
    ]);
    assert_eq!(reversed["events"][0]["type"], "ExecutionSucceeded");
    assert_eq!(reversed["events"].as_array().unwrap().len(), events.len());
    let ours = imagegen(&served.data, &["history", "console-1", "--json"]);
    assert!(ours.status.success());
    let ours: Value = serde_json::from_slice(&ours.stdout).unwrap();
    let types = |list: &Value| -> Vec<String> {
        list.as_array()
            .unwrap()
            .iter()
            .map(|e| e["type"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(types(&history["events"]), types(&ours["events"]));
    assert_eq!(events[0]["type"], "ExecutionStarted");

    // ListExecutions: status filter and paging.
    let succeeded = list_executions(&aws, &["--status-filter", "SUCCEEDED"]);
    assert_eq!(succeeded["executions"][0]["executionArn"], arn.as_str());
    let failed = list_executions(&aws, &["--status-filter", "FAILED"]);
    assert_eq!(failed["executions"].as_array().unwrap().len(), 0);
    let executions = imagegen(&served.data, &["executions"]);
    let table = String::from_utf8_lossy(&executions.stdout);
    assert!(
        table
            .lines()
            .any(|l| l.starts_with("console-1") && l.contains("SUCCEEDED")),
        "{table}"
    );

    // The same name again is refused as on AWS; stopping an ended execution changes nothing.
    let again = aws.error(&[
        "stepfunctions",
        "start-execution",
        "--state-machine-arn",
        MACHINE,
        "--name",
        "console-1",
        "--input",
        "{}",
    ]);
    assert!(again.contains("ExecutionAlreadyExists"), "{again}");
    aws.json(&["stepfunctions", "stop-execution", "--execution-arn", &arn]);
    let still = aws.json(&[
        "stepfunctions",
        "describe-execution",
        "--execution-arn",
        &arn,
    ]);
    assert_eq!(still["status"], "SUCCEEDED");
}

#[test]
fn test_state_runs_one_state_through_the_aws_cli() {
    let Some(cli) = aws_cli() else { return };
    let dir = TempDir::new("test-state");
    let served = Served::start(&dir.path().join("data"), &[], &[]);
    let aws = Aws::new(cli, &served.endpoint);

    let pass = aws.json(&[
        "stepfunctions",
        "test-state",
        "--definition",
        r#"{"Type":"Pass","Parameters":{"greeting.$":"States.Format('hello {}', $.name)"},"Next":"After"}"#,
        "--input",
        r#"{"name":"world"}"#,
        "--inspection-level",
        "DEBUG",
    ]);
    assert_eq!(pass["status"], "SUCCEEDED", "{pass:#}");
    assert_eq!(pass["nextState"], "After");
    let output: Value = serde_json::from_str(pass["output"].as_str().unwrap()).unwrap();
    assert_eq!(output["greeting"], "hello world");
    assert!(
        pass["inspectionData"]["afterParameters"].is_string(),
        "{pass:#}"
    );

    // A Task of the pipeline, mocked to fail with a retriable error: RETRIABLE, as the
    // definition's Retry says.
    let task = aws.json(&[
        "stepfunctions",
        "test-state",
        "--definition",
        r#"{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:000000000000:function:imagegen-generate-image","Retry":[{"ErrorEquals":["ModelThrottled"],"MaxAttempts":3}],"End":true}"#,
        "--input",
        "{}",
        "--mock",
        r#"{"errorOutput":{"error":"ModelThrottled","cause":"slow down"}}"#,
    ]);
    assert_eq!(task["status"], "RETRIABLE", "{task:#}");
    assert_eq!(task["error"], "ModelThrottled");

    let bad = aws.error(&[
        "stepfunctions",
        "test-state",
        "--definition",
        r#"{"Type":"Nope"}"#,
    ]);
    assert!(bad.contains("InvalidDefinition"), "{bad}");
}
