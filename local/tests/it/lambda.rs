//! The local Lambda service with real processes: small bash "bootstraps" that talk to the Runtime
//! API with curl, as a custom runtime does. Each shows one thing Lambda does: warm reuse, the
//! environment, function errors, timeouts, crashes, init errors, bad entrypoints, unknown request
//! ids, the response limit, a response that is not JSON, the concurrency limit, a reserved
//! concurrency of 0 and shutdown.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use imagegen_local::lambda::{FunctionSpec, InvokeError, LocalFunction, LogSink};
use serde_json::{Value, json};

use crate::common::TempDir;

/// Shared by every test bootstrap: `next` waits for an invocation and sets `id`, `deadline`,
/// `arn` and `event`; `respond JSON` answers it.
const PREAMBLE: &str = r#"#!/bin/bash
set -u
api="http://$AWS_LAMBDA_RUNTIME_API/2018-06-01/runtime"
headers="$(mktemp)"
header() { grep -i "^$1:" "$headers" | cut -d' ' -f2 | tr -d '\r'; }
next() {
  event=$(curl -sS -D "$headers" "$api/invocation/next")
  id=$(header lambda-runtime-aws-request-id)
  deadline=$(header lambda-runtime-deadline-ms)
  arn=$(header lambda-runtime-invoked-function-arn)
}
respond() {
  curl -sS -o /dev/null -X POST --data-binary "$1" "$api/invocation/$id/response"
}
"#;

/// Answers every invocation with its pid, the event and the ARN header, logging as it goes.
const ECHO: &str = r#"
echo "cold start $$" >&2
while true; do
  next
  echo "handling $id"
  respond "{\"pid\":$$,\"event\":$event,\"arn\":\"$arn\"}"
done
"#;

/// A function in `dir` running `body` (after [`PREAMBLE`]) under bash, logging to
/// `dir/logs/<name>.log`.
fn function(
    dir: &TempDir,
    name: &str,
    body: &str,
    timeout: Duration,
    max_concurrency: Option<usize>,
) -> (LocalFunction, PathBuf) {
    let task = dir.path().join(name);
    std::fs::create_dir_all(&task).unwrap();
    let script = task.join("bootstrap.sh");
    std::fs::write(&script, format!("{PREAMBLE}{body}")).unwrap();
    let log = dir.path().join("logs").join(format!("{name}.log"));
    // bash runs the script (program + args, the shape of a qemu launch), so no freshly written
    // file is exec'd: that can fail with ETXTBSY while another test thread forks.
    let spec = FunctionSpec {
        name: name.to_owned(),
        arn: format!("arn:aws:lambda:us-east-1:123456789012:function:{name}"),
        program: PathBuf::from("/bin/bash"),
        args: vec![script.display().to_string()],
        working_dir: task,
        env: BTreeMap::from([
            ("PATH".to_owned(), "/usr/bin:/bin".to_owned()),
            ("AWS_LAMBDA_FUNCTION_NAME".to_owned(), name.to_owned()),
            ("MARKER".to_owned(), "from the spec".to_owned()),
        ]),
        timeout,
        max_concurrency,
    };
    (LocalFunction::new(spec, LogSink::File(log.clone())), log)
}

const SHORT: Duration = Duration::from_secs(1);
const LONG: Duration = Duration::from_secs(10);

fn pid(answer: &Value) -> u64 {
    answer["pid"].as_u64().unwrap()
}

fn read_log(log: &Path) -> String {
    std::fs::read_to_string(log).unwrap_or_default()
}

/// The log once it has a line containing `needle` (the pumps write while the test goes on).
async fn log_with(log: &Path, needle: &str) -> String {
    for _ in 0..50 {
        let text = read_log(log);
        if text.contains(needle) {
            return text;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    read_log(log)
}

fn is_running(pid: u64) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
}

#[tokio::test]
async fn a_warm_process_answers_the_next_invocation_and_its_output_is_logged() {
    let dir = TempDir::new("lambda-warm");
    let (f, log) = function(&dir, "echo-fn", ECHO, LONG, None);

    let first = f.invoke(json!({"n": 1})).await.unwrap();
    let second = f.invoke(json!({"n": 2})).await.unwrap();

    assert_eq!(first["event"], json!({"n": 1}));
    assert_eq!(second["event"], json!({"n": 2}));
    assert_eq!(
        first["arn"],
        "arn:aws:lambda:us-east-1:123456789012:function:echo-fn"
    );
    assert_eq!(pid(&first), pid(&second), "the second invocation ran warm");

    let text = log_with(&log, "handling").await;
    let cold: Vec<&str> = text.lines().filter(|l| l.contains("cold start")).collect();
    assert_eq!(cold.len(), 1, "one process started: {text}");
    assert!(
        cold[0].starts_with("echo-fn ")
            && cold[0].ends_with(&format!(": cold start {}", pid(&first))),
        "stderr lines carry the function's name: {text}"
    );
    assert!(text.contains("echo-fn "), "stdout is logged too: {text}");
    f.shutdown().await;
}

#[tokio::test]
async fn the_environment_is_the_spec_plus_the_two_per_process_variables() {
    let dir = TempDir::new("lambda-env");
    let body = r#"
next
vars=$(env | sed 's/\\/\\\\/g; s/"/\\"/g; s/$/\\n/' | tr -d '\n')
respond "{\"deadline\":$deadline,\"env\":\"$vars\"}"
"#;
    let (f, _) = function(&dir, "env-fn", body, SHORT, None);
    let before = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();

    let answer = f.invoke(json!({})).await.unwrap();

    let env: BTreeMap<&str, &str> = answer["env"]
        .as_str()
        .unwrap()
        .lines()
        .filter_map(|l| l.split_once('='))
        .collect();
    assert_eq!(env["MARKER"], "from the spec");
    assert_eq!(env["PATH"], "/usr/bin:/bin");
    assert_eq!(env["AWS_LAMBDA_FUNCTION_NAME"], "env-fn");
    assert_eq!(env["PWD"], dir.path().join("env-fn").display().to_string());
    let api = env["AWS_LAMBDA_RUNTIME_API"];
    assert!(
        api.starts_with("127.0.0.1:") && api.len() > "127.0.0.1:".len(),
        "{api}"
    );
    let stream = env["AWS_LAMBDA_LOG_STREAM_NAME"];
    let (day, hex) = stream.split_once("/[$LATEST]").unwrap();
    assert_eq!(day.len(), "2026/12/06".len(), "{stream}");
    assert_eq!(day.matches('/').count(), 2, "{stream}");
    assert!(
        hex.len() == 32 && hex.chars().all(|c| c.is_ascii_hexdigit()),
        "{stream}"
    );

    // Nothing of this test process's environment: only the spec, the two variables and what
    // bash itself exports.
    let allowed: BTreeSet<&str> = [
        "MARKER",
        "PATH",
        "AWS_LAMBDA_FUNCTION_NAME",
        "AWS_LAMBDA_RUNTIME_API",
        "AWS_LAMBDA_LOG_STREAM_NAME",
        "PWD",
        "SHLVL",
        "_",
    ]
    .into();
    let extra: Vec<&&str> = env.keys().filter(|k| !allowed.contains(**k)).collect();
    assert!(extra.is_empty(), "inherited variables: {extra:?}");

    let deadline = answer["deadline"].as_u64().unwrap();
    let after = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
    assert!(
        deadline >= (before + SHORT).as_millis() as u64
            && deadline <= (after + SHORT).as_millis() as u64,
        "the deadline is the timeout from when the invocation was taken: {deadline}"
    );
    f.shutdown().await;
}

#[tokio::test]
async fn a_function_error_is_returned_and_the_process_stays_warm() {
    let dir = TempDir::new("lambda-error");
    let body = r#"
while true; do
  next
  curl -sS -o /dev/null -X POST -H 'Lambda-Runtime-Function-Error-Type: Unhandled' \
    --data-binary "{\"errorType\":\"PromptRejected\",\"errorMessage\":\"pid $$\"}" \
    "$api/invocation/$id/error"
done
"#;
    let (f, _) = function(&dir, "error-fn", body, SHORT, None);

    let first = f.invoke(json!({})).await.unwrap_err();
    let second = f.invoke(json!({})).await.unwrap_err();

    assert_eq!(first.error_type, "PromptRejected");
    assert!(first.message.starts_with("pid "), "{first}");
    assert_eq!(first, second, "the same process answered both");
    f.shutdown().await;
}

#[tokio::test]
async fn a_timeout_kills_the_process_and_the_next_invocation_starts_a_new_one() {
    let dir = TempDir::new("lambda-timeout");
    let body = r#"
trap 'echo "got SIGTERM" >&2; exit 0' TERM
while true; do
  next
  if [ "$event" = '"sleep"' ]; then sleep 5; fi
  respond "{\"pid\":$$}"
done
"#;
    let (f, log) = function(&dir, "slow-fn", body, SHORT, None);

    let before = pid(&f.invoke(json!("fast")).await.unwrap());
    let started = Instant::now();
    let error = f.invoke(json!("sleep")).await.unwrap_err();
    let took = started.elapsed();
    let after = pid(&f.invoke(json!("fast")).await.unwrap());

    assert_eq!(error.error_type, "Sandbox.Timedout");
    assert!(
        error
            .message
            .ends_with("Error: Task timed out after 1.00 seconds"),
        "{error}"
    );
    assert!(
        took >= SHORT && took < Duration::from_secs(3),
        "timed out after {took:?}"
    );
    assert!(
        !is_running(before),
        "the timed-out process {before} was killed"
    );
    assert_ne!(before, after, "a new process took the next invocation");
    // Killed as Lambda kills at a timeout, without the SIGTERM a shutdown sends first.
    assert!(
        !read_log(&log).contains("got SIGTERM"),
        "{}",
        read_log(&log)
    );
    f.shutdown().await;
}

#[tokio::test]
async fn a_process_that_exits_mid_invocation_is_a_runtime_exit_error() {
    let dir = TempDir::new("lambda-exit");
    let (f, log) = function(
        &dir,
        "crash-fn",
        "next\necho giving up >&2\nexit 3\n",
        LONG,
        None,
    );

    let started = Instant::now();
    let error = f.invoke(json!({})).await.unwrap_err();

    assert_eq!(error.error_type, "Runtime.ExitError");
    assert!(error.message.starts_with("RequestId: "), "{error}");
    assert!(
        error
            .message
            .ends_with("Error: Runtime exited with error: exit status 3"),
        "{error}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "noticed at once"
    );
    assert!(log_with(&log, "giving up").await.contains("crash-fn "));
}

#[tokio::test]
async fn an_init_error_fails_the_invocation_with_the_reported_type() {
    let dir = TempDir::new("lambda-init");
    let typed = r#"
curl -sS -o /dev/null -X POST \
  --data-binary '{"errorType":"Runtime.ConfigError","errorMessage":"BUCKET is not set"}' \
  "$api/init/error"
sleep 5
"#;
    let untyped = r#"
curl -sS -o /dev/null -X POST --data-binary '{"errorMessage":"no model"}' "$api/init/error"
sleep 5
"#;
    let (typed, _) = function(&dir, "init-typed", typed, LONG, None);
    let (untyped, _) = function(&dir, "init-untyped", untyped, LONG, None);

    let started = Instant::now();
    let first = typed.invoke(json!({})).await.unwrap_err();
    let second = untyped.invoke(json!({})).await.unwrap_err();

    assert_eq!(
        first,
        InvokeError::new("Runtime.ConfigError", "BUCKET is not set")
    );
    assert_eq!(second, InvokeError::new("Runtime.InitError", "no model"));
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "the processes were not waited for"
    );
}

#[tokio::test]
async fn a_program_that_cannot_start_is_an_invalid_entrypoint_naming_it() {
    let dir = TempDir::new("lambda-entrypoint");
    let not_executable = dir.path().join("bootstrap");
    std::fs::write(&not_executable, "#!/bin/sh\n").unwrap();
    for program in [dir.path().join("missing-bootstrap"), not_executable] {
        let spec = FunctionSpec {
            name: "bad-fn".to_owned(),
            arn: "arn:aws:lambda:us-east-1:123456789012:function:bad-fn".to_owned(),
            program: program.clone(),
            args: Vec::new(),
            working_dir: dir.path().to_owned(),
            env: BTreeMap::new(),
            timeout: SHORT,
            max_concurrency: None,
        };
        let f = LocalFunction::new(spec, LogSink::TracingOnly);

        let error = f.invoke(json!({})).await.unwrap_err();

        assert_eq!(error.error_type, "Runtime.InvalidEntrypoint");
        assert!(
            error.message.contains(&program.display().to_string()),
            "{error}"
        );
    }
}

#[tokio::test]
async fn an_answer_for_an_unknown_request_id_is_refused_with_400() {
    let dir = TempDir::new("lambda-unknown-id");
    let body = r#"
next
code=$(curl -sS -o /dev/null -w '%{http_code}' -X POST --data-binary '{}' \
  "$api/invocation/not-$id/response")
respond "{\"status\":$code}"
"#;
    let (f, _) = function(&dir, "unknown-id-fn", body, LONG, None);

    let answer = f.invoke(json!({})).await.unwrap();

    assert_eq!(answer, json!({"status": 400}));
}

#[tokio::test]
async fn a_response_over_six_megabytes_is_response_size_too_large() {
    let dir = TempDir::new("lambda-too-large");
    let body = r#"
next
{ printf '"'; head -c 7000000 /dev/zero | tr '\0' 'a'; printf '"'; } > big.json
curl -sS -o /dev/null -X POST --data-binary @big.json "$api/invocation/$id/response"
sleep 5
"#;
    let (f, _) = function(&dir, "big-fn", body, LONG, None);

    let error = f.invoke(json!({})).await.unwrap_err();

    assert_eq!(error.error_type, "Function.ResponseSizeTooLarge");
    assert!(error.message.contains("6291556 bytes"), "{error}");
    f.shutdown().await;
}

#[tokio::test]
async fn a_response_that_is_not_json_is_an_error_and_the_process_stays_warm() {
    let dir = TempDir::new("lambda-not-json");
    let body = r#"
while true; do
  next
  if [ "$event" = '"text"' ]; then respond "plain text"; else respond "{\"pid\":$$}"; fi
done
"#;
    let (f, _) = function(&dir, "text-fn", body, LONG, None);

    let before = pid(&f.invoke(json!("json")).await.unwrap());
    let error = f.invoke(json!("text")).await.unwrap_err();
    let after = pid(&f.invoke(json!("json")).await.unwrap());

    assert_eq!(error.error_type, "InvalidResponsePayload");
    assert!(error.message.contains("not JSON"), "{error}");
    assert_eq!(before, after, "the process is still the warm one");
    f.shutdown().await;
}

#[tokio::test]
async fn invocations_past_the_concurrency_limit_wait_for_a_free_process() {
    let dir = TempDir::new("lambda-concurrency");
    let body = r#"
echo "cold start $$" >&2
while true; do next; sleep 0.3; respond "{\"pid\":$$}"; done
"#;
    let (f, log) = function(&dir, "burst-fn", body, LONG, Some(2));

    let started = Instant::now();
    let (a, b, c, d) = tokio::join!(
        f.invoke(json!(1)),
        f.invoke(json!(2)),
        f.invoke(json!(3)),
        f.invoke(json!(4))
    );
    let took = started.elapsed();

    let pids: BTreeSet<u64> = [a, b, c, d]
        .iter()
        .map(|r| pid(r.as_ref().unwrap()))
        .collect();
    assert_eq!(pids.len(), 2, "two processes served all four: {pids:?}");
    assert!(
        took >= Duration::from_millis(600),
        "four 300 ms invocations two at a time take two rounds: {took:?}"
    );
    let text = read_log(&log);
    assert_eq!(text.matches("cold start").count(), 2, "{text}");
    f.shutdown().await;
}

#[tokio::test]
async fn a_reserved_concurrency_of_zero_throttles_every_invocation() {
    let dir = TempDir::new("lambda-zero");
    let (f, log) = function(&dir, "zero-fn", ECHO, LONG, Some(0));

    let error = f.invoke(json!({})).await.unwrap_err();

    assert_eq!(error.error_type, "TooManyRequestsException");
    assert!(
        error
            .message
            .contains("reserved concurrency of function zero-fn is 0"),
        "{error}"
    );
    assert_eq!(read_log(&log), "", "no process was started");
}

#[tokio::test]
async fn shutdown_stops_busy_processes_with_sigterm_and_refuses_later_invocations() {
    let dir = TempDir::new("lambda-shutdown");
    let body = r#"
trap 'echo "got SIGTERM" >&2; exit 0' TERM
echo "started $$" >&2
while true; do next; sleep 30 & wait $!; respond '{}'; done
"#;
    let (f, log) = function(&dir, "busy-fn", body, LONG, None);
    let busy = tokio::spawn({
        let f = f.clone();
        async move { f.invoke(json!({})).await }
    });
    let text = log_with(&log, "started").await;
    let pid: u64 = text
        .lines()
        .find_map(|l| l.split("started ").nth(1))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;

    let started = Instant::now();
    f.shutdown().await;

    assert!(
        started.elapsed() < Duration::from_secs(2),
        "stopped within the grace"
    );
    let error = busy.await.unwrap().unwrap_err();
    assert_eq!(error.error_type, "ServiceException");
    assert!(!is_running(pid), "process {pid} is gone");
    assert!(log_with(&log, "got SIGTERM").await.contains("got SIGTERM"));
    let later = f.invoke(json!({})).await.unwrap_err();
    assert_eq!(later.error_type, "ServiceException");
}
