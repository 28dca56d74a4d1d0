//! Issue 21: crash consistency. `serve` takes uploads under `prompts/`, StartExecutions and queue
//! messages from several clients at once and is stopped at a random moment, by `kill -9` in one
//! round and Ctrl-C in the next; then it is started again on the same data directory. Every
//! request it acknowledged must have exactly one execution, every execution must end with exactly
//! one email, no record may stay `RUNNING` or be unreadable, and no draft or aside file may be
//! left.
//!
//! The moment is drawn from a seed (`CRASH_SEED`, else the time), printed so a failure can be
//! replayed. `CRASH_ROUNDS` (default 1) pairs of rounds run; each round prints a tally and the test
//! prints the sum:
//!
//! ```text
//! CRASH_ROUNDS=10 cargo test -p imagegen-cli --test it serve::crash -- --nocapture
//! crash: 20 rounds, A acknowledged, A executions, E emails, 0 lost, 0 duplicated, 0 stale
//! ```

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use aws_sdk_sfn::types::ExecutionStatus;

use super::harness::{Served, TempDir, emails, executions, sdk_s3, sdk_sfn};
use super::{MACHINE, RUN};

const BUCKET: &str = "imagegen-local";
const QUEUE: &str = "000000000000/imagegen-prompts";

/// How a round stops `serve`.
#[derive(Debug, Clone, Copy)]
enum Stop {
    Kill9,
    CtrlC,
}

/// What the clients were told: the execution names each acknowledged request must have
/// (uploads and StartExecutions, whose names the test knows), and the acknowledged queue messages
/// by number (their executions' names come from the message ids, `sqs-...`; the number is in the
/// prompt).
#[derive(Debug, Default)]
struct Acknowledged {
    names: BTreeSet<String>,
    upload_prefixes: Vec<String>,
    queued: BTreeSet<usize>,
}

/// The round's tally.
#[derive(Debug, Default, Clone, Copy)]
struct Tally {
    rounds: usize,
    acknowledged: usize,
    executions: usize,
    emails: usize,
    lost: usize,
    duplicated: usize,
    stale: usize,
}

impl std::ops::AddAssign for Tally {
    fn add_assign(&mut self, o: Self) {
        self.rounds += o.rounds;
        self.acknowledged += o.acknowledged;
        self.executions += o.executions;
        self.emails += o.emails;
        self.lost += o.lost;
        self.duplicated += o.duplicated;
        self.stale += o.stale;
    }
}

impl std::fmt::Display for Tally {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "crash: {} rounds, {} acknowledged, {} executions, {} emails, {} lost, {} duplicated, {} stale",
            self.rounds,
            self.acknowledged,
            self.executions,
            self.emails,
            self.lost,
            self.duplicated,
            self.stale
        )
    }
}

/// A small deterministic generator (xorshift): the test needs a reproducible moment, not
/// cryptographic randomness.
fn next(state: &mut u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state
}

/// The prompt of the round's queue message `i`, and back.
fn message_prompt(round: usize, i: usize) -> String {
    format!("{}{i}", message_prompts(round))
}

fn message_number(round: usize, prompt: &str) -> Option<usize> {
    prompt.strip_prefix(&message_prompts(round))?.parse().ok()
}

fn message_prompts(round: usize) -> String {
    format!("a lighthouse, round {round}, message ")
}

fn sdk_sqs(endpoint: &str) -> aws_sdk_sqs::Client {
    aws_sdk_sqs::Client::from_conf(
        aws_sdk_sqs::Config::builder()
            .behavior_version(aws_sdk_sqs::config::BehaviorVersion::latest())
            .region(aws_sdk_sqs::config::Region::new(
                imagegen_local::config::DEFAULT_REGION,
            ))
            .credentials_provider(imagegen_local::config::credentials())
            .endpoint_url(endpoint)
            .build(),
    )
}

/// Send requests through the three doors from three clients until `stop` is set; what was
/// acknowledged (a request whose answer never came is not).
async fn send_until(endpoint: &str, round: usize, stop: Arc<AtomicBool>) -> Acknowledged {
    let s3 = sdk_s3(endpoint);
    let sfn = sdk_sfn(endpoint);
    let sqs = sdk_sqs(endpoint);
    let queue_url = format!("{endpoint}/{QUEUE}");
    let uploads = {
        let stop = Arc::clone(&stop);
        tokio::spawn(async move {
            let mut acknowledged = Vec::new();
            for i in 0.. {
                if stop.load(Ordering::SeqCst) {
                    break;
                }
                let key = format!("prompts/r{round}u{i}.txt");
                let sent = s3
                    .put_object()
                    .bucket(BUCKET)
                    .key(&key)
                    .body(
                        format!("a lighthouse, round {round}, upload {i}")
                            .into_bytes()
                            .into(),
                    )
                    .send()
                    .await;
                if sent.is_ok() {
                    // The S3 door's names start with the file name's slug.
                    acknowledged.push(format!("r{round}u{i}-"));
                }
            }
            acknowledged
        })
    };
    let starts = {
        let stop = Arc::clone(&stop);
        tokio::spawn(async move {
            let mut acknowledged = Vec::new();
            for i in 0.. {
                if stop.load(Ordering::SeqCst) {
                    break;
                }
                let name = format!("r{round}s{i}");
                let sent = sfn
                    .start_execution()
                    .state_machine_arn(MACHINE)
                    .name(&name)
                    .input(format!(
                        r#"{{"prompt":"a lighthouse, round {round}, start {i}"}}"#
                    ))
                    .send()
                    .await;
                if sent.is_ok() {
                    acknowledged.push(name);
                }
            }
            acknowledged
        })
    };
    let queued = tokio::spawn(async move {
        let mut acknowledged = BTreeSet::new();
        for i in 0.. {
            if stop.load(Ordering::SeqCst) {
                break;
            }
            let sent = sqs
                .send_message()
                .queue_url(&queue_url)
                .message_body(format!(r#"{{"prompt":"{}"}}"#, message_prompt(round, i)))
                .send()
                .await;
            if sent.is_ok() {
                acknowledged.insert(i);
            }
        }
        acknowledged
    });
    Acknowledged {
        upload_prefixes: uploads.await.unwrap(),
        names: starts.await.unwrap().into_iter().collect(),
        queued: queued.await.unwrap(),
    }
}

/// Drafts and aside files anywhere in the data directory (a crash may leave them; the next start
/// must clear them).
fn leftovers(data: &Path) -> Vec<String> {
    let mut found = Vec::new();
    let mut dirs = vec![data.to_path_buf()];
    while let Some(d) = dirs.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let entry = entry.unwrap();
            let name = entry.file_name().to_string_lossy().into_owned();
            if entry.file_type().unwrap().is_dir() {
                dirs.push(entry.path());
            } else if name.contains(".draft-") || name.starts_with(".tmp-") {
                found.push(entry.path().display().to_string());
            }
        }
    }
    found
}

/// The tally of what the restarted `serve` at `endpoint` shows now; with `report`, each request
/// lost or duplicated is printed. `messages` keeps the queue message each `sqs-` execution runs
/// (known from its prompt), so each is described once.
async fn count(
    round: usize,
    acknowledged: &Acknowledged,
    endpoint: &str,
    data: &Path,
    messages: &mut BTreeMap<String, usize>,
    report: bool,
) -> Tally {
    let all = executions(endpoint).await;
    let mail = emails(data);
    let mut tally = Tally {
        rounds: 1,
        acknowledged: acknowledged.names.len()
            + acknowledged.upload_prefixes.len()
            + acknowledged.queued.len(),
        executions: all.len(),
        emails: mail.values().sum(),
        stale: all
            .values()
            .filter(|s| **s == ExecutionStatus::Running)
            .count(),
        ..Tally::default()
    };
    let mut lost = |what: String| {
        if report {
            println!("round {round}: {what}");
        }
        tally.lost += 1;
    };
    // Lost: an acknowledged request with no execution, or an execution with no email.
    for name in &acknowledged.names {
        if !all.contains_key(name) {
            lost(format!("the acknowledged start {name} has no execution"));
        }
    }
    for prefix in &acknowledged.upload_prefixes {
        if !all.keys().any(|n| n.starts_with(prefix.as_str())) {
            lost(format!("the acknowledged upload {prefix} has no execution"));
        }
    }
    for name in all.keys().filter(|n| n.starts_with("sqs-")) {
        if !messages.contains_key(name) {
            let input: serde_json::Value =
                serde_json::from_str(describe(endpoint, name).await.input().unwrap_or_default())
                    .unwrap();
            let prompt = input["prompt"].as_str().unwrap_or_default();
            let i = message_number(round, prompt)
                .unwrap_or_else(|| panic!("{name} runs no message of this round: {input}"));
            messages.insert(name.clone(), i);
        }
    }
    let mut by_message = BTreeMap::<usize, Vec<&String>>::new();
    for (name, i) in messages.iter() {
        by_message.entry(*i).or_default().push(name);
    }
    for i in &acknowledged.queued {
        if !by_message.contains_key(i) {
            lost(format!(
                "the acknowledged queue message {i} has no execution"
            ));
        }
    }
    // Executions no acknowledged request asked for are fine (a request whose answer the stop
    // cut off may still have started one), but each still needs exactly one email.
    let mut duplicated = Vec::new();
    for name in all.keys() {
        match mail.get(name).copied().unwrap_or(0) {
            0 if all[name] != ExecutionStatus::Running => {
                lost(format!("{name} ended and was not emailed"))
            }
            0 | 1 => {}
            n => duplicated.push((format!("{name} was emailed"), n - 1)),
        }
    }
    // Duplicated: a request run twice, acknowledged or not (an upload's name starts with its
    // file's slug; a message's prompt has its number), or an email sent twice.
    let mut by_upload = BTreeMap::<&str, usize>::new();
    for name in all.keys() {
        if let Some((slug, _)) = name.split_once('-')
            && slug.starts_with(&format!("r{round}u"))
        {
            *by_upload.entry(slug).or_default() += 1;
        }
    }
    for (slug, n) in by_upload {
        if n > 1 {
            duplicated.push((format!("upload {slug} ran"), n - 1));
        }
    }
    for (i, names) in &by_message {
        if names.len() > 1 {
            duplicated.push((
                format!("queue message {i} ran ({names:?})"),
                names.len() - 1,
            ));
        }
    }
    for (what, extra) in duplicated {
        if report {
            println!("round {round}: {what} {} times", extra + 1);
        }
        tally.duplicated += extra;
    }
    tally
}

async fn describe(
    endpoint: &str,
    name: &str,
) -> aws_sdk_sfn::operation::describe_execution::DescribeExecutionOutput {
    sdk_sfn(endpoint)
        .describe_execution()
        .execution_arn(format!(
            "arn:aws:states:us-east-1:000000000000:execution:imagegen-pipeline:{name}"
        ))
        .send()
        .await
        .unwrap_or_else(|e| panic!("{name} cannot be described: {e:?}"))
}

/// One round: send, stop `serve` after `after`, start it again, wait for every execution to end
/// and be emailed, and count.
async fn round(round: usize, stop: Stop, after: Duration) -> Tally {
    let dir = TempDir::new(&format!("crash-{round}"));
    let data = dir.path().join("data");
    let mut served = Served::start(&data, &[], &[]);
    let stopping = Arc::new(AtomicBool::new(false));
    let sender = {
        let (endpoint, stopping) = (served.endpoint.clone(), Arc::clone(&stopping));
        tokio::spawn(async move { send_until(&endpoint, round, stopping).await })
    };
    tokio::time::sleep(after).await;
    match stop {
        Stop::Kill9 => served.kill(),
        Stop::CtrlC => {
            served.interrupt(Duration::from_secs(60));
        }
    }
    stopping.store(true, Ordering::SeqCst);
    let acknowledged = sender.await.unwrap();
    drop(served);
    // What the stop cut off may leave drafts and aside files; the next start must remove them.
    let stop_left = leftovers(&data);

    let restarted = Served::start(&data, &[], &[]);
    // Wait until every acknowledged request has an ended execution with its email. (A message a
    // consumer had received when `serve` was killed comes back when its visibility timeout ends.)
    let deadline = Instant::now() + RUN * 2;
    let mut messages = BTreeMap::new();
    let mut tally;
    loop {
        tally = count(
            round,
            &acknowledged,
            &restarted.endpoint,
            &data,
            &mut messages,
            false,
        )
        .await;
        if (tally.lost, tally.stale) == (0, 0) || Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let tally = count(
        round,
        &acknowledged,
        &restarted.endpoint,
        &data,
        &mut messages,
        true,
    )
    .await;
    // Every record is readable through the API.
    for name in executions(&restarted.endpoint).await.keys() {
        describe(&restarted.endpoint, name).await;
    }
    // The store removes what a stop left when it next loads the bucket. A Ctrl-C lets the running
    // executions end, so the restart may have had nothing to run and no reason to load it yet:
    // one listing loads it.
    sdk_s3(&restarted.endpoint)
        .list_objects_v2()
        .bucket(BUCKET)
        .max_keys(1)
        .send()
        .await
        .unwrap_or_else(|e| panic!("the bucket cannot be listed after the restart: {e:?}"));
    // Only what the stop left counts: the restarted `serve` may have a write of its own under way
    // (its aside file is then there for a moment, and goes with the write).
    let left: Vec<&String> = stop_left
        .iter()
        .filter(|path| Path::new(path).exists())
        .collect();
    println!(
        "round {round} ({stop:?} after {after:?}): {tally}; left by the stop {stop_left:?}, \
         still there {left:?}; under way now {:?}",
        leftovers(&data)
    );
    assert!(
        left.is_empty(),
        "round {round}: drafts or aside files the stop left were not removed by the restart: {left:?}"
    );
    tally
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn whatever_serve_acknowledged_before_a_crash_runs_once_and_emails_once() {
    let seed = std::env::var("CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
                | 1
        });
    let rounds: usize = std::env::var("CRASH_ROUNDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1);
    println!("crash: seed {seed} (CRASH_SEED={seed} replays it)");
    let mut state = seed;
    let mut total = Tally::default();
    for pair in 0..rounds {
        for (i, stop) in [Stop::Kill9, Stop::CtrlC].into_iter().enumerate() {
            let after = Duration::from_millis(200 + next(&mut state) % 1500);
            total += round(pair * 2 + i, stop, after).await;
        }
    }
    println!("{total}");
    assert!(
        total.acknowledged > 0,
        "no request was acknowledged: {total}"
    );
    assert_eq!(
        (total.lost, total.duplicated, total.stale),
        (0, 0, 0),
        "{total}"
    );
}
