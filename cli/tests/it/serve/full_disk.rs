//! Issue 21 item 2: the truth on a full disk. On a small filesystem of its own (a tmpfs the test
//! mounts), `run` and `serve` run executions while the disk fills: nothing reads `RUNNING` once it
//! has ended (the API, another process), an end that cannot be saved is said (stderr, exit status
//! 3), every execution that started gets its one email once there is room, the records end with
//! their true status (`FAILED`, not `ABORTED`, after a restart), and no draft is left.
//!
//! Mounting needs root (`mount -t tmpfs`): where the test may not mount (GitHub's runners, CI
//! containers, a developer's account), it is skipped with a message saying so.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use imagegen_local::sfn::journal::{self, JOURNAL_FILE};
use imagegen_local::sfn::reserve::RESERVE_FILE;
use serde_json::Value;

use super::harness::{Served, TempDir, bin, imagegen, messages, sdk_sfn};
use super::{MACHINE, RUN};

/// A tmpfs mounted for one test, unmounted when dropped.
struct SmallDisk {
    path: PathBuf,
}

impl SmallDisk {
    /// A tmpfs of `mib` MiB at `path`; `None`, with a message saying why, where it cannot be
    /// mounted.
    fn mount(path: &Path, mib: u32) -> Option<Self> {
        std::fs::create_dir_all(path).unwrap();
        let mounted = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={mib}m"), "tmpfs"])
            .arg(path)
            .output();
        let why = match mounted {
            Ok(out) if out.status.success() => {
                return Some(Self {
                    path: path.to_path_buf(),
                });
            }
            Ok(out) => String::from_utf8_lossy(&out.stderr).trim().to_owned(),
            Err(e) => e.to_string(),
        };
        eprintln!(
            "\n!!! SKIPPED: the full-disk test needs a small filesystem of its own and could not \
             mount a tmpfs ({why}); it runs where `mount -t tmpfs` is allowed (as root) !!!\n"
        );
        None
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.path).status();
    }
}

/// Files that take the disk's free space, as another program filling the disk would.
struct Filler {
    dir: PathBuf,
    small: Vec<PathBuf>,
    count: usize,
}

/// A page of tmpfs: the smallest piece of space a file takes.
const PAGE: usize = 4096;

impl Filler {
    fn new(dir: PathBuf) -> Self {
        std::fs::create_dir_all(&dir).unwrap();
        Self {
            dir,
            small: Vec::new(),
            count: 0,
        }
    }

    /// Take every free byte: large files, then pages, until the file system refuses.
    fn fill(&mut self) {
        for size in [1 << 20, PAGE] {
            loop {
                self.count += 1;
                let path = self.dir.join(format!("fill-{}", self.count));
                let written = std::fs::write(&path, vec![1u8; size]);
                if written.is_err() {
                    // A large file cut short goes, so that pages take the rest (and can be
                    // given back one by one); a page that got nothing is only an entry.
                    if size > PAGE || std::fs::metadata(&path).is_ok_and(|m| m.len() == 0) {
                        let _ = std::fs::remove_file(&path);
                    }
                    break;
                }
                if size == PAGE {
                    self.small.push(path);
                }
            }
        }
    }

    /// Give `pages` pages back.
    fn free_pages(&mut self, pages: usize) {
        for path in self.small.drain(..pages.min(self.small.len())) {
            std::fs::remove_file(path).unwrap();
        }
    }

    /// Give everything back.
    fn clear(&mut self) {
        std::fs::remove_dir_all(&self.dir).unwrap();
        std::fs::create_dir_all(&self.dir).unwrap();
        self.small.clear();
    }
}

/// A thread keeping the disk full (taking back any space freed) until stopped.
struct KeptFull {
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<Filler>>,
}

impl KeptFull {
    fn start(dir: PathBuf) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let stopping = Arc::clone(&stop);
        let thread = std::thread::spawn(move || {
            let mut filler = Filler::new(dir);
            while !stopping.load(Ordering::SeqCst) {
                filler.fill();
                std::thread::sleep(Duration::from_millis(2));
            }
            filler
        });
        // Full before the runs get far.
        std::thread::sleep(Duration::from_millis(300));
        Self {
            stop,
            thread: Some(thread),
        }
    }

    /// Stop, and give all the space back.
    fn release(mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            thread.join().unwrap().clear();
        }
    }
}

/// The emails sent for each execution, with the status each told.
fn emails(data: &Path) -> BTreeMap<String, Vec<String>> {
    let mut sent: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for m in messages(data) {
        if let Some(name) = m.attributes.get("execution") {
            let status = m.attributes.get("status").cloned().unwrap_or_default();
            sent.entry(name.clone()).or_default().push(status);
        }
    }
    sent
}

/// The record on disk of `name`, as a file (not through any process).
fn on_disk(data: &Path, name: &str) -> Value {
    let path = data.join("executions").join(format!("{name}.json"));
    serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap()
}

/// Every draft or aside file under `dir` (a write that failed and left its file behind).
fn drafts(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        if path.is_dir() {
            found.extend(drafts(&path));
        } else if name.contains(".draft-") || name.starts_with(".tmp-") {
            found.push(path);
        }
    }
    found
}

/// Once there is room, the end every execution reached: one email each, telling the status the
/// API and the record on disk tell, nothing left in the journal, no draft.
fn each_recorded_and_emailed_once(data: &Path, ended: &BTreeMap<String, String>) {
    let deadline = Instant::now() + RUN;
    loop {
        let sent = emails(data);
        if ended.keys().all(|name| sent.contains_key(name)) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "not every execution was emailed once there was room: {sent:?} of {ended:?}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    // Give a second email, if one were coming, the time to come.
    std::thread::sleep(Duration::from_secs(2));
    let sent = emails(data);
    for (name, status) in ended {
        assert_eq!(sent.get(name), Some(&vec![status.clone()]), "{name}");
        assert_eq!(on_disk(data, name)["status"], status.as_str(), "{name}");
    }
    assert!(
        journal::read_open_ends(&data.join("executions")).is_empty(),
        "ends left in the journal"
    );
    assert_eq!(drafts(data), Vec::<PathBuf>::new());
}

/// The deployed definition, except that a `StorageError` of GenerateImage fails the run at once
/// (the deployed one goes back for a model slot, up to eight times over three minutes: too long for
/// a test in real time).
fn failing_fast_definition() -> String {
    let mut definition: Value =
        serde_json::from_str(imagegen_local_pipeline::pipeline::DEFINITION).unwrap();
    let catches = definition["States"]["GenerateImage"]["Catch"]
        .as_array_mut()
        .unwrap();
    for catch in catches {
        if let Some(errors) = catch["ErrorEquals"].as_array_mut() {
            errors.retain(|e| e != "StorageError");
        }
    }
    definition.to_string()
}

/// StartExecution of `count` executions named `{prefix}-{i}`.
async fn start(sfn: &aws_sdk_sfn::Client, prefix: &str, count: usize) -> Vec<String> {
    let mut names = Vec::new();
    for i in 0..count {
        let name = format!("{prefix}-{i}");
        sfn.start_execution()
            .state_machine_arn(MACHINE)
            .name(&name)
            .input(format!(
                r#"{{"prompt":"a lighthouse, take {i}","seed":{i}}}"#
            ))
            .send()
            .await
            .expect("started while there is room");
        names.push(name);
    }
    names
}

/// Wait until no execution of `names` reads `RUNNING` in DescribeExecution; returns each one's
/// status, checked against ListExecutions.
async fn ended(sfn: &aws_sdk_sfn::Client, names: &[String]) -> BTreeMap<String, String> {
    let deadline = Instant::now() + RUN;
    loop {
        let mut statuses = BTreeMap::new();
        for name in names {
            let arn = format!(
                "{}:{name}",
                MACHINE.replace(":stateMachine:", ":execution:")
            );
            let described = sfn
                .describe_execution()
                .execution_arn(arn)
                .send()
                .await
                .expect("DescribeExecution answers");
            statuses.insert(name.clone(), described.status().as_str().to_owned());
        }
        if statuses.values().all(|s| s != "RUNNING") {
            let listed = sfn
                .list_executions()
                .state_machine_arn(MACHINE)
                .max_results(1000)
                .send()
                .await
                .unwrap();
            for e in listed.executions() {
                if let Some(status) = statuses.get(e.name()) {
                    assert_eq!(e.status().as_str(), status, "{}", e.name());
                }
            }
            return statuses;
        }
        assert!(Instant::now() < deadline, "still RUNNING: {statuses:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// `imagegen executions` (another process, reading the directory) shows each with `status`.
fn listed_by_another_process(data: &Path, ended: &BTreeMap<String, String>) {
    let listed = imagegen(data, &["executions"]);
    assert!(listed.status.success());
    let table = String::from_utf8_lossy(&listed.stdout);
    for (name, status) in ended {
        assert!(
            table
                .lines()
                .any(|l| l.starts_with(name.as_str()) && l.contains(status.as_str())),
            "{name} {status}:\n{table}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_tells_the_truth_on_a_full_disk_and_emails_every_run_once_there_is_room() {
    let dir = TempDir::new("full-serve");
    let Some(disk) = SmallDisk::mount(&dir.path().join("disk"), 48) else {
        return;
    };
    let data = disk.path.join("data");
    let definition = dir.path().join("definition.json");
    std::fs::write(&definition, failing_fast_definition()).unwrap();
    let global = ["--fake-latency-ms", "1500", "--fake-max-image-side", "32"];
    let serve_args = [
        "--definition",
        definition.to_str().unwrap(),
        "--grace-seconds",
        "0",
    ];
    let served = Served::start(&data, &global, &serve_args);
    let sfn = sdk_sfn(&served.endpoint);

    // Round 1: the disk fills while the runs wait for the model; room comes back while serving.
    let names = start(&sfn, "full-a", 4).await;
    let full = KeptFull::start(disk.path.join("filler"));
    let statuses = ended(&sfn, &names).await;
    assert!(
        statuses.values().any(|s| s == "FAILED"),
        "the full disk failed no run: {statuses:?}"
    );
    listed_by_another_process(&data, &statuses);
    full.release();
    each_recorded_and_emailed_once(&data, &statuses);

    // Round 2: the reserve is used up and the disk kept full; `serve` is stopped before there is
    // room: it says what it could not write and exits 3; the next `serve` finishes the job.
    let _ = std::fs::remove_file(data.join("executions").join(RESERVE_FILE));
    let names = start(&sfn, "full-b", 3).await;
    let full = KeptFull::start(disk.path.join("filler"));
    let statuses = ended(&sfn, &names).await;
    let mut served = served;
    let code = served.interrupt(RUN);
    let stderr = served.stderr.lock().unwrap().join("\n");
    let unwritten = stderr.contains("the next imagegen command on this directory finishes it");
    assert_eq!(code.code(), Some(if unwritten { 3 } else { 0 }), "{stderr}");
    for name in &names {
        if let Some(line) = stderr
            .lines()
            .find(|l| l.contains(&format!("execution {name} ended")))
        {
            assert!(
                line.contains(&format!("ended {}", statuses[name])),
                "{line}"
            );
        }
    }
    listed_by_another_process(&data, &statuses);
    full.release();
    let restarted = Served::start(&data, &global, &serve_args);
    each_recorded_and_emailed_once(&data, &statuses);
    assert!(
        !statuses.values().any(|s| s == "ABORTED"),
        "an end that was known read ABORTED after the restart: {statuses:?}"
    );
    drop(restarted);
    assert!(data.join("executions").join(JOURNAL_FILE).exists());
}

/// `imagegen [flags] run PROMPT` on `data`; its output and the execution's name.
fn run(data: &Path, flags: &[&str], prompt: &str) -> (Output, String) {
    let out = Command::new(bin())
        .arg("--data-dir")
        .arg(data)
        .args(flags)
        .args(["run", prompt])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let name = stdout
        .lines()
        .find_map(|l| l.strip_prefix("Execution "))
        .unwrap_or_else(|| {
            panic!(
                "no execution started:\n{stdout}\n{}",
                String::from_utf8_lossy(&out.stderr)
            )
        })
        .trim()
        .to_owned();
    (out, name)
}

#[test]
fn run_tells_the_truth_on_a_full_disk_and_the_next_command_records_the_rest() {
    let dir = TempDir::new("full-run");
    let Some(disk) = SmallDisk::mount(&dir.path().join("disk"), 32) else {
        return;
    };
    let data = disk.path.join("data");
    let flags = ["--fast-retries", "--fake-max-image-side", "32"];
    // With room: the data directory is set up (and the room for ends set aside).
    let (first, _) = run(&data, &flags, "a lighthouse at dusk");
    assert_eq!(first.status.code(), Some(0), "{first:?}");

    let mut filler = Filler::new(disk.path.join("filler"));
    let mut ended = BTreeMap::new();
    // Room for the start of a run and not for its images: it fails, and its end is saved and
    // emailed with the reserve's room.
    filler.fill();
    filler.free_pages(4);
    let (out, name) = run(&data, &flags, "a full disk, take 1");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stdout.contains(&format!("{name}  FAILED")),
        "{stdout}\n{stderr}\n{:?}",
        out.status
    );
    assert!(!stdout.contains("RUNNING"), "{stdout}");
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{stderr}");
    ended.insert(name, "FAILED".to_owned());

    // The reserve is spent and the disk full again: the end cannot be saved nor emailed now. The
    // run says so and exits 3; another process reads the journalled end, not RUNNING.
    filler.fill();
    filler.free_pages(4);
    let (out, name) = run(&data, &flags, "a full disk, take 2");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stdout.contains(&format!("{name}  FAILED")) && !stdout.contains("RUNNING"),
        "{stdout}"
    );
    assert_eq!(out.status.code(), Some(3), "{stdout}\n{stderr}");
    assert!(
        stderr.contains(&format!("execution {name} ended FAILED, but"))
            && stderr.contains(JOURNAL_FILE),
        "{stderr}"
    );
    ended.insert(name.clone(), "FAILED".to_owned());
    listed_by_another_process(&data, &ended);

    // Room again: the next command records the end (FAILED, not ABORTED) and sends the email.
    filler.clear();
    let (out, _) = run(&data, &flags, "room again");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains(&format!("execution {name} was left RUNNING on disk"))
            && stderr.contains("now recorded FAILED"),
        "{stderr}"
    );
    each_recorded_and_emailed_once(&data, &ended);
    let status = on_disk(&data, &name);
    assert_eq!(status["status"], "FAILED");
    assert!(
        status["history"].as_array().is_some_and(|h| !h.is_empty()),
        "the journalled end kept its history"
    );
}
