//! The Step Functions stand-in through the real `aws_sdk_sfn::Client`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use crate::common::{TempDir, local};
use aws_sdk_sfn::types::{ExecutionStatus, HistoryEventType};
use imagegen_local::{FakeModelBehavior, LocalAws};
use imagegen_statemachine::{Engine, Registry, StateMachine, TaskError};
use serde_json::{Value, json};
use tokio::sync::Semaphore;

const DEF: &str = r#"{"StartAt":"Work","States":{"Work":{"Type":"Task",
  "Resource":"arn:aws:lambda:us-east-1:000000000000:function:work","End":true}}}"#;

/// Registers a machine whose task echoes its input, fails on `{"fail": true}`, and waits for a permit
/// from `gate` first.
fn register(aws: &LocalAws, gate: Arc<Semaphore>) -> String {
    let sm = StateMachine::from_json(DEF, &Default::default()).unwrap();
    let mut registry = Registry::new();
    registry.register("work", move |input: Value| {
        let gate = Arc::clone(&gate);
        async move {
            gate.acquire().await.unwrap().forget();
            if input["fail"] == json!(true) {
                return Err(TaskError::lambda("Boom", "asked to fail"));
            }
            Ok(json!({"echo": input}))
        }
    });
    aws.sfn()
        .register_state_machine("pipe", sm, Engine::new(registry))
}

#[tokio::test]
async fn start_describe_history_list() {
    let (_dir, aws) = local("sfn-basic", FakeModelBehavior::default());
    let gate = Arc::new(Semaphore::new(100));
    let machine = register(&aws, gate);
    let client = aws.sfn_client();

    let started = client
        .start_execution()
        .state_machine_arn(&machine)
        .name("ok-1")
        .input(r#"{"x":1}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(
        started.execution_arn(),
        "arn:aws:states:us-east-1:000000000000:execution:pipe:ok-1"
    );
    aws.sfn().wait("ok-1").await.unwrap().unwrap();
    let described = client
        .describe_execution()
        .execution_arn(started.execution_arn())
        .send()
        .await
        .unwrap();
    assert_eq!(described.status(), &ExecutionStatus::Succeeded);
    assert_eq!(described.name(), Some("ok-1"));
    assert!(described.stop_date().is_some());
    let output: Value = serde_json::from_str(described.output().unwrap()).unwrap();
    assert_eq!(output, json!({"echo": {"x": 1}}));

    let history = client
        .get_execution_history()
        .execution_arn(started.execution_arn())
        .max_results(2)
        .send()
        .await
        .unwrap();
    assert_eq!(history.events().len(), 2);
    assert_eq!(
        history.events()[0].r#type(),
        &HistoryEventType::ExecutionStarted
    );
    let rest = client
        .get_execution_history()
        .execution_arn(started.execution_arn())
        .next_token(history.next_token().unwrap())
        .send()
        .await
        .unwrap();
    assert!(rest.next_token().is_none());
    let last = rest.events().last().unwrap();
    assert_eq!(last.r#type(), &HistoryEventType::ExecutionSucceeded);
    assert!(last.timestamp().secs() > 1_700_000_000);

    client
        .start_execution()
        .state_machine_arn(&machine)
        .name("bad-1")
        .input(r#"{"fail":true}"#)
        .send()
        .await
        .unwrap();
    let failed = aws.sfn().wait("bad-1").await.unwrap().unwrap();
    assert_eq!(failed.error.as_deref(), Some("Boom"));
    let described = client
        .describe_execution()
        .execution_arn(&failed.execution_arn)
        .send()
        .await
        .unwrap();
    assert_eq!(described.status(), &ExecutionStatus::Failed);
    assert_eq!(described.error(), Some("Boom"));

    let list = client
        .list_executions()
        .state_machine_arn(&machine)
        .send()
        .await
        .unwrap();
    let mut names: Vec<&str> = list.executions().iter().map(|e| e.name()).collect();
    names.sort_unstable();
    assert_eq!(names, ["bad-1", "ok-1"]);
    let failed_only = client
        .list_executions()
        .state_machine_arn(&machine)
        .status_filter(ExecutionStatus::Failed)
        .send()
        .await
        .unwrap();
    assert_eq!(failed_only.executions().len(), 1);

    // Executions persist in the data directory.
    let reopened = LocalAws::open(aws.data_dir().root()).unwrap();
    let record = reopened.sfn().execution("ok-1").unwrap().unwrap();
    assert_eq!(record.status, imagegen_local::sfn::Status::Succeeded);
    assert!(record.history.len() >= 5);
    assert!(aws.data_dir().executions_dir().join("ok-1.json").is_file());
}

#[tokio::test]
async fn names_are_unique_and_starts_idempotent_while_running() {
    let (_dir, aws) = local("sfn-names", FakeModelBehavior::default());
    let gate = Arc::new(Semaphore::new(0));
    let machine = register(&aws, Arc::clone(&gate));
    let client = aws.sfn_client();
    let start = |name: &'static str, input: &'static str| {
        client
            .start_execution()
            .state_machine_arn(&machine)
            .name(name)
            .input(input)
            .send()
    };
    let first = start("same", r#"{"a":1}"#).await.unwrap();
    // Running, same input: the same execution.
    let again = start("same", r#"{"a":1}"#).await.unwrap();
    assert_eq!(first.execution_arn(), again.execution_arn());
    // Running, other input: refused.
    let err = start("same", r#"{"a":2}"#).await.unwrap_err();
    assert!(
        err.as_service_error()
            .unwrap()
            .is_execution_already_exists()
    );
    let running = client
        .describe_execution()
        .execution_arn(first.execution_arn())
        .send()
        .await
        .unwrap();
    assert_eq!(running.status(), &ExecutionStatus::Running);
    gate.add_permits(1);
    aws.sfn().wait("same").await.unwrap().unwrap();
    // Ended: any start with that name is refused.
    let err = start("same", r#"{"a":1}"#).await.unwrap_err();
    assert!(
        err.as_service_error()
            .unwrap()
            .is_execution_already_exists()
    );
    assert_eq!(aws.sfn().executions().unwrap().records.len(), 1);

    let err = start("no spaces", "{}").await.unwrap_err();
    assert!(err.as_service_error().unwrap().is_invalid_name(), "{err:?}");
    let err = start("x", "not json").await.unwrap_err();
    assert!(err.as_service_error().unwrap().is_invalid_execution_input());
    let err = client
        .start_execution()
        .state_machine_arn("arn:aws:states:us-east-1:000000000000:stateMachine:nope")
        .send()
        .await
        .unwrap_err();
    assert!(
        err.as_service_error()
            .unwrap()
            .is_state_machine_does_not_exist()
    );
    let err = client
        .describe_execution()
        .execution_arn("arn:aws:states:us-east-1:000000000000:execution:pipe:missing")
        .send()
        .await
        .unwrap_err();
    assert!(
        err.as_service_error()
            .unwrap()
            .is_execution_does_not_exist()
    );
    let err = client
        .describe_execution()
        .execution_arn("nope")
        .send()
        .await
        .unwrap_err();
    assert!(err.as_service_error().unwrap().is_invalid_arn());
}

#[test]
fn stale_and_corrupt_execution_files() {
    let dir = TempDir::new("sfn-files");
    let aws = LocalAws::open(dir.path()).unwrap();
    let executions = aws.data_dir().executions_dir();
    let stale = json!({
        "name": "old", "executionArn": "arn:aws:states:us-east-1:000000000000:execution:pipe:old",
        "stateMachineArn": "arn:aws:states:us-east-1:000000000000:stateMachine:pipe",
        "status": "RUNNING", "input": "{}", "startDate": "2024-01-01T00:00:00.000Z"
    });
    std::fs::write(executions.join("old.json"), stale.to_string()).unwrap();
    let record = aws.sfn().execution("old").unwrap().unwrap();
    assert_eq!(record.status, imagegen_local::sfn::Status::Aborted);
    // A corrupt file, a foreign one and a copy under another name are named; the good one is shown.
    std::fs::write(executions.join("bad.json"), "{not json").unwrap();
    std::fs::write(executions.join("foreign.json"), r#"{"hello": "world"}"#).unwrap();
    std::fs::write(executions.join("copy.json"), stale.to_string()).unwrap();
    std::fs::create_dir(executions.join("dir.json")).unwrap();
    std::fs::write(executions.join("notes.txt"), "not json, not named .json").unwrap();
    let listing = aws.sfn().executions().unwrap();
    let names: Vec<&str> = listing.records.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, ["old"]);
    let bad: Vec<String> = listing
        .unreadable
        .iter()
        .map(|u| {
            let file = u.path.file_name().unwrap().to_string_lossy().into_owned();
            format!("{file}: {}", u.reason)
        })
        .collect();
    assert_eq!(bad.len(), 4, "{bad:#?}");
    assert!(
        bad[0].starts_with("bad.json: it is not an execution record"),
        "{bad:#?}"
    );
    assert!(
        bad[1].starts_with("copy.json: it holds execution old, not copy"),
        "{bad:#?}"
    );
    assert!(bad[2].starts_with("dir.json: cannot be read"), "{bad:#?}");
    assert!(
        bad[3].starts_with("foreign.json: it is not an execution record"),
        "{bad:#?}"
    );
    // Listing through the API shows the good ones too.
    let err = aws.sfn().execution("copy").unwrap_err().to_string();
    assert!(
        err.contains("copy.json") && err.contains("holds execution old"),
        "{err}"
    );
}

/// Issue item 2: a second process listing the data directory reported another process's running
/// execution as ABORTED (it later became SUCCEEDED). Two stand-ins over one directory here, each
/// with its own owner lock, behave as two processes do (the locks are per open file).
#[tokio::test]
async fn a_live_execution_of_another_process_is_running_not_aborted() {
    let (_dir, runner) = local("sfn-live", FakeModelBehavior::default());
    let gate = Arc::new(Semaphore::new(0));
    let machine = register(&runner, Arc::clone(&gate));
    runner
        .sfn_client()
        .start_execution()
        .state_machine_arn(&machine)
        .name("live-1")
        .input("{}")
        .send()
        .await
        .unwrap();

    let other = LocalAws::open(runner.data_dir().root()).unwrap();
    let seen = other.sfn().execution("live-1").unwrap().unwrap();
    assert_eq!(seen.status, imagegen_local::sfn::Status::Running);
    let listed = other.sfn().executions().unwrap().records;
    assert_eq!(listed[0].status, imagegen_local::sfn::Status::Running);

    gate.add_permits(1);
    runner.sfn().wait("live-1").await.unwrap().unwrap();
    let seen = other.sfn().execution("live-1").unwrap().unwrap();
    assert_eq!(seen.status, imagegen_local::sfn::Status::Succeeded);
}

/// A record whose owner lock is free (its process ended) is ABORTED; one whose lock is held is not.
#[test]
fn running_records_are_aborted_only_when_their_owner_is_gone() {
    let dir = TempDir::new("sfn-owner");
    let aws = LocalAws::open(dir.path()).unwrap();
    let executions = aws.data_dir().executions_dir();
    let held = imagegen_local::sfn::owner::Owner::acquire(&executions).unwrap();
    let gone = imagegen_local::sfn::owner::Owner::acquire(&executions).unwrap();
    let gone_id = gone.id().to_owned();
    drop(gone);
    for (name, owner) in [("held", held.id().to_owned()), ("gone", gone_id)] {
        let record = json!({
            "name": name, "executionArn": format!("arn:aws:states:us-east-1:000000000000:execution:pipe:{name}"),
            "stateMachineArn": "arn:aws:states:us-east-1:000000000000:stateMachine:pipe",
            "status": "RUNNING", "input": "{}", "startDate": "2024-01-01T00:00:00.000Z",
            "owner": owner
        });
        std::fs::write(executions.join(format!("{name}.json")), record.to_string()).unwrap();
    }
    let status = |name| aws.sfn().execution(name).unwrap().unwrap().status;
    assert_eq!(status("held"), imagegen_local::sfn::Status::Running);
    assert_eq!(status("gone"), imagegen_local::sfn::Status::Aborted);
    drop(held);
    assert_eq!(status("held"), imagegen_local::sfn::Status::Aborted);
}

#[tokio::test]
async fn stop_execution_aborts_and_the_record_stays_stopped() {
    let (_dir, aws) = local("sfn-stop", FakeModelBehavior::default());
    // No permits: the task waits until released, so the execution is surely running.
    let gate = Arc::new(Semaphore::new(0));
    let machine = register(&aws, Arc::clone(&gate));
    let client = aws.sfn_client();
    let arn = client
        .start_execution()
        .state_machine_arn(&machine)
        .name("to-stop")
        .send()
        .await
        .unwrap()
        .execution_arn()
        .to_owned();
    let stopped = client
        .stop_execution()
        .execution_arn(&arn)
        .error("Operator.Stop")
        .cause("enough")
        .send()
        .await
        .unwrap();
    assert!(stopped.stop_date().secs() > 0);
    // The task may now finish: the stopped record must not be overwritten by its end.
    gate.add_permits(10);
    let record = aws.sfn().wait("to-stop").await.unwrap().unwrap();
    assert_eq!(record.status, imagegen_local::sfn::Status::Aborted);
    let stored = aws.sfn().store().load("to-stop").unwrap().unwrap();
    assert_eq!(stored.status, imagegen_local::sfn::Status::Aborted);
    assert_eq!(stored.error.as_deref(), Some("Operator.Stop"));
    let last = stored.history.last().unwrap();
    assert_eq!(last.event_type.as_str(), "ExecutionAborted");
    assert_eq!(last.detail().unwrap()["cause"], json!("enough"), "{last:?}");
    let described = client
        .describe_execution()
        .execution_arn(&arn)
        .send()
        .await
        .unwrap();
    assert_eq!(described.status(), &ExecutionStatus::Aborted);
    let history = client
        .get_execution_history()
        .execution_arn(&arn)
        .send()
        .await
        .unwrap();
    assert_eq!(
        history.events().last().unwrap().r#type(),
        &HistoryEventType::ExecutionAborted
    );
}

#[tokio::test]
async fn shutdown_lets_running_executions_end_then_aborts_the_rest() {
    let (_dir, aws) = local("sfn-shutdown", FakeModelBehavior::default());
    let gate = Arc::new(Semaphore::new(0));
    let machine = register(&aws, Arc::clone(&gate));
    let client = aws.sfn_client();
    for name in ["quick", "stuck"] {
        client
            .start_execution()
            .state_machine_arn(&machine)
            .name(name)
            .send()
            .await
            .unwrap();
    }
    // One permit: one execution ends within the grace period, the other never would.
    gate.add_permits(1);
    let report = aws
        .sfn()
        .shutdown(
            tokio::time::sleep(std::time::Duration::from_millis(500)),
            "stopped for the test",
        )
        .await;
    assert_eq!(report.finished.len(), 1, "{report:?}");
    assert_eq!(report.aborted.len(), 1, "{report:?}");
    let aborted = aws.sfn().store().load(&report.aborted[0]).unwrap().unwrap();
    assert_eq!(aborted.status, imagegen_local::sfn::Status::Aborted);
    assert_eq!(aborted.cause.as_deref(), Some("stopped for the test"));
    let finished = aws
        .sfn()
        .store()
        .load(&report.finished[0])
        .unwrap()
        .unwrap();
    assert_eq!(finished.status, imagegen_local::sfn::Status::Succeeded);
    // No new executions once shutdown began.
    let refused = client
        .start_execution()
        .state_machine_arn(&machine)
        .name("late")
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        refused.raw_response().map(|r| r.status().as_u16()),
        Some(503)
    );
}

#[tokio::test]
async fn machines_are_listed_and_described_with_their_definition() {
    let (_dir, aws) = local("sfn-machines", FakeModelBehavior::default());
    let subs = [(
        "Fn".to_owned(),
        "arn:aws:lambda:us-east-1:000000000000:function:work".to_owned(),
    )]
    .into();
    let text =
        r#"{"StartAt":"Work","States":{"Work":{"Type":"Task","Resource":"${Fn}","End":true}}}"#;
    let arn = aws
        .sfn()
        .register_state_machine_source("sourced", text, &subs, Engine::new(Registry::new()))
        .unwrap();
    let client = aws.sfn_client();
    let listed = client.list_state_machines().send().await.unwrap();
    assert_eq!(listed.state_machines().len(), 1);
    assert_eq!(listed.state_machines()[0].name(), "sourced");
    let described = client
        .describe_state_machine()
        .state_machine_arn(&arn)
        .send()
        .await
        .unwrap();
    assert!(
        described.definition().contains("function:work"),
        "{described:?}"
    );
    assert!(!described.definition().contains("${Fn}"));
    let missing = client
        .describe_state_machine()
        .state_machine_arn("arn:aws:states:us-east-1:000000000000:stateMachine:nope")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(missing.is_state_machine_does_not_exist(), "{missing:?}");
}

/// A definition's context object names the ARNs the API answers with: one account and Region for
/// the engine and the stand-ins (`imagegen run` and `imagegen serve` both start executions here).
#[tokio::test]
async fn the_context_object_names_the_arns_the_api_answers() {
    let (_dir, aws) = local("sfn-context", FakeModelBehavior::default());
    let def = r#"{"StartAt":"Show","States":{"Show":{"Type":"Pass","End":true,"Parameters":{
      "executionId.$":"$$.Execution.Id","stateMachineId.$":"$$.StateMachine.Id",
      "stateMachineName.$":"$$.StateMachine.Name","roleArn.$":"$$.Execution.RoleArn"}}}}"#;
    let sm = StateMachine::from_json(def, &Default::default()).unwrap();
    let machine = aws
        .sfn()
        .register_state_machine("context", sm, Engine::new(Registry::new()));
    let client = aws.sfn_client();
    let started = client
        .start_execution()
        .state_machine_arn(&machine)
        .name("ctx-1")
        .send()
        .await
        .unwrap();
    aws.sfn().wait("ctx-1").await.unwrap().unwrap();
    let described = client
        .describe_execution()
        .execution_arn(started.execution_arn())
        .send()
        .await
        .unwrap();
    let machine_described = client
        .describe_state_machine()
        .state_machine_arn(&machine)
        .send()
        .await
        .unwrap();
    let seen: Value = serde_json::from_str(described.output().unwrap()).unwrap();
    assert_eq!(seen["executionId"], json!(described.execution_arn()));
    assert_eq!(seen["executionId"], json!(started.execution_arn()));
    assert_eq!(seen["stateMachineId"], json!(described.state_machine_arn()));
    assert_eq!(seen["stateMachineId"], json!(machine));
    assert_eq!(seen["stateMachineName"], json!(machine_described.name()));
    assert_eq!(seen["roleArn"], json!(machine_described.role_arn()));
    assert!(
        machine.contains(&format!(":{}:", imagegen_local::config::ACCOUNT_ID)),
        "{machine}"
    );
}

/// Issue 21 item 2: on a full disk an execution's end could not be saved, and it read `RUNNING`
/// forever, with no email. Here the save fails (a directory where the record goes, as a full disk
/// refuses the new file) and the rule's target fails twice (the email the disk had no room for):
/// the API tells the true end meanwhile, the end is journalled, and once the disk takes it the
/// record is saved and the status change delivered exactly once, with nothing left over.
#[tokio::test]
async fn an_end_that_cannot_be_saved_is_told_true_then_saved_and_delivered_once() {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use imagegen_local::eventbridge::StatusChangeRule;
    use imagegen_local::sfn::Status;
    use imagegen_local::sfn::journal::{self, JOURNAL_FILE};

    let (_dir, aws) = local("sfn-full", FakeModelBehavior::default());
    let gate = Arc::new(Semaphore::new(0));
    let machine = register(&aws, Arc::clone(&gate));
    let (tries, taken) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let (t, k) = (Arc::clone(&tries), Arc::clone(&taken));
    aws.sfn()
        .add_rule(StatusChangeRule::new(&machine, &["FAILED"], move |_| {
            let attempt = t.fetch_add(1, Ordering::SeqCst);
            let k = Arc::clone(&k);
            async move {
                if attempt < 2 {
                    return Err("No space left on device".to_owned());
                }
                k.fetch_add(1, Ordering::SeqCst);
                Ok(())
            }
        }));
    let client = aws.sfn_client();
    let arn = client
        .start_execution()
        .state_machine_arn(&machine)
        .name("full-1")
        .input(r#"{"fail":true}"#)
        .send()
        .await
        .unwrap()
        .execution_arn()
        .to_owned();
    let executions = aws.data_dir().executions_dir();
    let record = executions.join("full-1.json");
    std::fs::remove_file(&record).unwrap();
    std::fs::create_dir_all(record.join("blocker")).unwrap();

    gate.add_permits(1);
    let ended = aws.sfn().wait("full-1").await.unwrap().unwrap();
    assert_eq!(ended.status, Status::Failed);
    let described = client
        .describe_execution()
        .execution_arn(&arn)
        .send()
        .await
        .unwrap();
    assert_eq!(
        described.status(),
        &ExecutionStatus::Failed,
        "a stale state"
    );
    assert_eq!(described.error(), Some("Boom"));
    let listed = client
        .list_executions()
        .state_machine_arn(&machine)
        .send()
        .await
        .unwrap();
    assert_eq!(listed.executions()[0].status(), &ExecutionStatus::Failed);
    let pending = aws.sfn().pending_ends();
    assert_eq!(pending.len(), 1, "{pending:?}");
    assert!(!pending[0].saved && pending[0].journalled);
    // Another process sees the journalled end, not RUNNING.
    let open = journal::read_open_ends(&executions);
    assert_eq!(open["full-1"].status, Status::Failed);

    // Room again: the retries save and deliver.
    std::fs::remove_dir_all(&record).unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !aws.sfn().pending_ends().is_empty() {
        assert!(std::time::Instant::now() < deadline, "still pending");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let saved: Value = serde_json::from_slice(&std::fs::read(&record).unwrap()).unwrap();
    assert_eq!(saved["status"], "FAILED");
    assert_eq!(saved["error"], "Boom");
    assert_eq!(taken.load(Ordering::SeqCst), 1, "delivered once");
    assert!(journal::read_open_ends(&executions).is_empty());
    let drafts: Vec<String> = std::fs::read_dir(&executions)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".draft-"))
        .collect();
    assert!(drafts.is_empty(), "{drafts:?}");
    assert!(executions.join(JOURNAL_FILE).exists());
}

/// Issue 21 item 7: with `--fast-retries` (a paused clock that jumps over waits) the history is on
/// the engine's clock and the records' stop date was the wall clock's: 999 of 1,000 records ended
/// before their last event. The end is the last event, on the same clock.
#[tokio::test(start_paused = true)]
async fn the_stop_date_is_on_the_clock_of_the_history() {
    use imagegen_statemachine::TokioClock;

    let (_dir, aws) = local("sfn-clock", FakeModelBehavior::default());
    let sm = StateMachine::from_json(
        r#"{"StartAt":"Later","States":{"Later":{"Type":"Wait","Seconds":3600,"End":true}}}"#,
        &Default::default(),
    )
    .unwrap();
    let engine = Engine::new(Registry::new())
        .with_clock(Arc::new(TokioClock::starting_at(chrono::Utc::now())));
    let machine = aws.sfn().register_state_machine("pipe", sm, engine);
    aws.sfn_client()
        .start_execution()
        .state_machine_arn(&machine)
        .name("later-1")
        .input("{}")
        .send()
        .await
        .unwrap();
    let ended = aws.sfn().wait("later-1").await.unwrap().unwrap();
    let last = ended.history.last().unwrap();
    assert_eq!(ended.stop_date.as_deref(), Some(last.timestamp.as_str()));
    let described = aws
        .sfn_client()
        .describe_execution()
        .execution_arn(&ended.execution_arn)
        .send()
        .await
        .unwrap();
    let stop = described.stop_date().unwrap().to_millis().unwrap();
    let start = described.start_date().to_millis().unwrap();
    assert!(stop - start >= 3_600_000, "{start} .. {stop}");
}
