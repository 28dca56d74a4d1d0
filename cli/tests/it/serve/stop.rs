//! One writer per data directory, and Ctrl-C in the middle of an execution.

use std::time::Duration;

use aws_sdk_sfn::types::ExecutionStatus;
use imagegen_local::sfn::{ExecutionStore, Status};

use super::MACHINE;
use super::harness::{Served, TempDir, imagegen, messages, sdk_sfn};

#[test]
fn a_second_writer_is_refused_while_serve_runs_and_readers_still_read() {
    let dir = TempDir::new("lock");
    let data = dir.path().join("data");
    let served = Served::start(&data, &[], &[]);

    let second = imagegen(&data, &["serve", "--listen", "127.0.0.1:0"]);
    assert_eq!(second.status.code(), Some(2));
    let message = String::from_utf8_lossy(&second.stderr);
    assert!(
        message.contains("is in use by `imagegen serve`"),
        "{message}"
    );
    assert!(
        message.contains(&format!("pid {}", served.pid())),
        "{message}"
    );
    assert!(message.contains(&served.endpoint), "{message}");

    let run = imagegen(&data, &["run", "a lighthouse"]);
    assert_eq!(run.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&run.stderr).contains("in use by"));

    let executions = imagegen(&data, &["executions"]);
    assert!(executions.status.success(), "{executions:?}");
}

#[tokio::test]
async fn ctrl_c_during_an_execution_leaves_a_data_directory_the_next_commands_read() {
    let dir = TempDir::new("ctrl-c");
    let data = dir.path().join("data");
    // Every model call takes a minute: the execution is surely running when Ctrl-C comes.
    let mut served = Served::start(
        &data,
        &["--fake-latency-ms", "60000"],
        &["--grace-seconds", "1"],
    );
    let sfn = sdk_sfn(&served.endpoint);
    let arn = sfn
        .start_execution()
        .state_machine_arn(MACHINE)
        .name("interrupted")
        .input(r#"{"prompt": "a lighthouse at dusk"}"#)
        .send()
        .await
        .unwrap()
        .execution_arn()
        .to_owned();
    // Wait until it is inside GenerateImage (the slow model call).
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        let history = sfn
            .get_execution_history()
            .execution_arn(&arn)
            .send()
            .await
            .unwrap();
        let in_model = history.events().iter().any(|e| {
            e.state_entered_event_details()
                .is_some_and(|d| d.name() == "GenerateImage")
        });
        if in_model {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "never reached GenerateImage"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let described = sfn
        .describe_execution()
        .execution_arn(&arn)
        .send()
        .await
        .unwrap();
    assert_eq!(described.status(), &ExecutionStatus::Running);

    let status = served.interrupt(Duration::from_secs(30));
    assert!(status.success(), "{status:?}\n{}", served.printed());
    let printed = served.printed();
    assert!(
        printed.contains("interrupted  ABORTED (recorded)"),
        "{printed}"
    );

    // The record on disk is whole and final.
    let record = ExecutionStore::open(data.join("executions"))
        .unwrap()
        .load("interrupted")
        .unwrap()
        .unwrap();
    assert_eq!(record.status, Status::Aborted);
    assert_eq!(record.error.as_deref(), Some("States.Aborted"));
    assert_eq!(
        record.history.last().map(|e| e.event_type.as_str()),
        Some("ExecutionAborted")
    );
    // Its user got the failure email (the backstop, as for a StopExecution on AWS), once.
    let mail: Vec<_> = messages(&data)
        .into_iter()
        .filter(|m| m.attributes.get("execution").map(String::as_str) == Some("interrupted"))
        .collect();
    assert_eq!(mail.len(), 1, "{mail:?}");
    assert_eq!(
        mail[0].attributes.get("status").map(String::as_str),
        Some("FAILED"),
        "{mail:?}"
    );
    let executions = imagegen(&data, &["executions"]);
    assert!(executions.status.success(), "{executions:?}");
    let table = String::from_utf8_lossy(&executions.stdout);
    assert!(
        table
            .lines()
            .any(|l| l.starts_with("interrupted") && l.contains("ABORTED")),
        "{table}"
    );
    assert!(!table.contains("Not shown"), "{table}");
    let history = imagegen(&data, &["history", "interrupted"]);
    assert!(history.status.success());
    assert!(String::from_utf8_lossy(&history.stdout).contains("ExecutionAborted"));

    // The next serve opens the same directory and answers for the aborted execution.
    let next = Served::start(&data, &[], &[]);
    let again = sdk_sfn(&next.endpoint)
        .describe_execution()
        .execution_arn(&arn)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), &ExecutionStatus::Aborted);
}

/// Issue 21 item 5: Ctrl-C during `imagegen run` exited 130 at once, leaving the record RUNNING
/// with an empty history and no email. Now the run is recorded ABORTED and its user emailed first.
#[test]
fn ctrl_c_during_run_records_aborted_and_emails_then_exits_130() {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};

    let dir = TempDir::new("run-ctrl-c");
    let data = dir.path().join("data");
    let mut child = Command::new(super::harness::bin())
        .arg("--data-dir")
        .arg(&data)
        .args(["--fake-latency-ms", "60000", "run", "a lighthouse at dusk"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let name = lines
        .by_ref()
        .map_while(Result::ok)
        .find_map(|l| l.strip_prefix("Execution ").map(str::to_owned))
        .expect("run names its execution");
    // Wait until it is inside GenerateImage (the slow model call), as its progress says: the
    // record on disk is not rewritten at every event.
    assert!(
        lines
            .by_ref()
            .map_while(Result::ok)
            .any(|l| l.contains("GenerateImage")),
        "the run never reached GenerateImage"
    );
    let sent = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130), "{rest:?}");
    assert!(
        rest.iter()
            .any(|l| l == &format!("{name}  ABORTED (recorded)")),
        "{rest:?}"
    );

    let record = ExecutionStore::open(data.join("executions"))
        .unwrap()
        .load(&name)
        .unwrap()
        .unwrap();
    assert_eq!(record.status, Status::Aborted);
    assert_eq!(
        record.history.last().map(|e| e.event_type.as_str()),
        Some("ExecutionAborted")
    );
    let mail: Vec<_> = messages(&data)
        .into_iter()
        .filter(|m| m.attributes.get("execution") == Some(&name))
        .collect();
    assert_eq!(mail.len(), 1, "{mail:?}");
    assert_eq!(
        mail[0].attributes.get("status").map(String::as_str),
        Some("FAILED")
    );
    // The next command finds nothing to recover: the run was settled before the exit.
    let next = imagegen(&data, &["executions"]);
    assert!(next.status.success());
    assert!(
        !String::from_utf8_lossy(&next.stderr).contains("left running"),
        "{next:?}"
    );
}
