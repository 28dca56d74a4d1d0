//! An execution through `imagegen rehearse` beside the same execution through `imagegen serve`, and
//! each one's start-up time: `serve` (the twin built from the CLI's settings, the handlers in its
//! own process), `rehearse --native` (the twin built from a cloud assembly, each function a process
//! of its own host build behind a local Lambda Runtime API) and `rehearse` with the assembly's arm64
//! bootstraps (under `qemu-aarch64` on x86_64).
//!
//! `cargo bench -p imagegen-cli --bench rehearse` (release profile) starts each in turn on a free
//! loopback port, times it from spawning the process to its `Listening on` line, then runs one
//! execution (the function processes start on their first invocation: shown apart, as the cold
//! one) and `REHEARSE_EXECUTIONS` (default 20) more, one after another, each StartExecution then
//! DescribeExecution every 5 ms until it ends, through `aws-sdk-sfn` (over HTTPS trusting the
//! rehearsal's CA). Every execution must end SUCCEEDED. It prints one summary line per mode and
//! writes a table to `bench/extra/rehearse.md`.
//!
//! The functions' host builds are found next to the `imagegen` cargo built (`cargo build --release
//! --workspace --bins` first; `bench/run.sh` does). The rehearsals run `IMAGEGEN_ASSEMBLY`, else
//! `cdk/cdk.out` when it holds the functions' code (`scripts/test.sh` or `cdk synth` writes it), else
//! the pinned fixture (`--native` only; the qemu row is then not measured).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use aws_sdk_sfn::config::retry::RetryConfig;
use aws_sdk_sfn::error::DisplayErrorContext;
use aws_sdk_sfn::types::ExecutionStatus;
use imagegen_core::config::vars;
use serde_json::Value;

mod common;

use common::{measuring, percentile, workload};

/// How often an execution's status is asked for: the resolution of its end-to-end time.
const POLL: Duration = Duration::from_millis(5);
/// How long a start may take to print its banner, and an execution to end, before the run fails.
const START_TIMEOUT: Duration = Duration::from_secs(120);
const EXECUTION_TIMEOUT: Duration = Duration::from_secs(300);
/// What the qemu row says when there is no assembly with the functions' code.
const NO_ASSEMBLY: &str =
    "not measured: no synthesized assembly (scripts/test.sh or cdk synth writes one)";

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

/// One mode's figures.
struct Measured {
    startup: Duration,
    /// The first execution, which starts the function processes.
    cold: Duration,
    /// The executions after it, sorted.
    latencies: Vec<Duration>,
}

impl Measured {
    fn p50(&self) -> Duration {
        percentile(&self.latencies, 50.0)
    }

    fn p99(&self) -> Duration {
        percentile(&self.latencies, 99.0)
    }
}

/// A row of the table: a mode and its figures, or why it was not measured.
struct Row {
    mode: String,
    figures: Result<Measured, String>,
}

fn main() {
    let executions = workload("REHEARSE_EXECUTIONS", 20, 2).max(1);
    let kept = Scratch::new();
    let scratch = kept.0.as_path();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();

    let synthesized = synthesized_assembly();
    let assembly = synthesized.clone().unwrap_or_else(fixture);
    // A copy whose ReserveModelSlot paces at the fastest quota it accepts, as serve is told below.
    let paced = paced_copy(&assembly, &scratch.join("cdk.out"));
    let built = Path::new(env!("CARGO_BIN_EXE_imagegen")).parent().unwrap();

    let serve = Row {
        mode: "imagegen serve".to_owned(),
        figures: Ok(measure(
            &runtime,
            &scratch.join("serve"),
            &["serve"],
            executions,
        )),
    };
    let native = Row {
        mode: "imagegen rehearse --native".to_owned(),
        figures: Ok(measure(
            &runtime,
            &scratch.join("native"),
            &[
                "rehearse",
                "--assembly",
                paced.to_str().unwrap(),
                "--native",
                built.to_str().unwrap(),
            ],
            executions,
        )),
    };
    let bootstraps = Row {
        mode: bootstraps_mode(),
        figures: match (&synthesized, bootstraps_runnable()) {
            (None, _) => Err(NO_ASSEMBLY.to_owned()),
            (Some(_), Err(why)) => Err(why),
            (Some(_), Ok(())) => Ok(measure(
                &runtime,
                &scratch.join("bootstraps"),
                &["rehearse", "--assembly", paced.to_str().unwrap()],
                executions,
            )),
        },
    };
    let rows = [serve, native, bootstraps];
    let serve_p50 = rows[0].figures.as_ref().map(Measured::p50).unwrap();
    for row in &rows {
        println!("{}", summary(row, serve_p50, executions));
    }
    let table = table(&rows, serve_p50, &assembly, synthesized.is_some());
    println!("\n{table}");
    if !measuring() {
        return; // a check that it runs, not a measurement
    }
    let out = Path::new(env!("CARGO_MANIFEST_DIR")).join("../bench/extra/rehearse.md");
    match std::fs::write(&out, &table) {
        Ok(()) => println!("written to {}", out.display()),
        Err(e) => eprintln!("could not write {}: {e}", out.display()),
    }
}

/// The benchmark's own temporary directory (data directories, the paced assembly), removed when
/// dropped, also when a check panics.
struct Scratch(PathBuf);

impl Scratch {
    fn new() -> Self {
        let dir =
            std::env::temp_dir().join(format!("imagegen-rehearse-bench-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The pinned assembly `cli/rehearse`'s tests read: its functions have no code, so `--native` only.
fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("rehearse/tests/fixtures/cdk.out")
}

/// `IMAGEGEN_ASSEMBLY` (which must hold the functions' code), else `cdk/cdk.out` if it does.
fn synthesized_assembly() -> Option<PathBuf> {
    if let Some(named) = std::env::var_os("IMAGEGEN_ASSEMBLY") {
        let named = PathBuf::from(named);
        if let Err(missing) = code_present(&named) {
            panic!(
                "IMAGEGEN_ASSEMBLY names {}, whose asset {missing} is missing: synthesize it with \
                 the functions built (scripts/build-lambdas.sh, then cdk synth)",
                named.display()
            );
        }
        return Some(named);
    }
    let default = Path::new(env!("CARGO_MANIFEST_DIR")).join("../cdk/cdk.out");
    code_present(&default).is_ok().then_some(default)
}

/// Whether every asset the assembly's asset manifests stage (the functions' zips, the state
/// machine's definition) is in it; else the first one missing.
fn code_present(assembly: &Path) -> Result<(), String> {
    let entries =
        std::fs::read_dir(assembly).map_err(|e| format!("{} ({e})", assembly.display()))?;
    let mut zips = 0;
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if !name.ends_with(".assets.json") {
            continue;
        }
        let manifest: Value =
            serde_json::from_str(&std::fs::read_to_string(entry.path()).unwrap_or_default())
                .map_err(|e| format!("{name} ({e})"))?;
        let files = manifest["files"].as_object().into_iter().flatten();
        for (_, asset) in files {
            let Some(source) = asset["source"]["path"].as_str() else {
                continue;
            };
            if !assembly.join(source).exists() {
                return Err(source.to_owned());
            }
            zips += usize::from(source.ends_with(".zip") || asset["source"]["packaging"] == "zip");
        }
    }
    if zips == 0 {
        return Err("of any function".to_owned());
    }
    Ok(())
}

/// A copy of `assembly` in `into` (its files linked, its templates rewritten) in which every
/// function that reads `MODEL_QUOTA_RPM` is given the fastest quota ReserveModelSlot accepts: slots
/// 1 ms apart, so a sequence of executions measures the twin rather than the quota's pace (the
/// template's 10 a minute would space them 6 s apart).
fn paced_copy(assembly: &Path, into: &Path) -> PathBuf {
    let fastest = Value::from(reserve_model_slot::QUOTA_RPM_RANGE.end().to_string());
    std::fs::create_dir_all(into).unwrap();
    let mut paced = 0;
    for entry in std::fs::read_dir(assembly).unwrap().flatten() {
        let name = entry.file_name();
        let source = std::path::absolute(entry.path()).unwrap();
        if !name.to_string_lossy().ends_with(".template.json") {
            std::os::unix::fs::symlink(&source, into.join(&name)).unwrap();
            continue;
        }
        let mut template: Value =
            serde_json::from_str(&std::fs::read_to_string(&source).unwrap()).unwrap();
        let resources = template["Resources"].as_object_mut().into_iter().flatten();
        // `pointer_mut`, not `[...]`: indexing a missing key would add it to every resource.
        let quota = format!(
            "/Properties/Environment/Variables/{}",
            vars::MODEL_QUOTA_RPM
        );
        for (_, resource) in resources {
            if let Some(value) = resource.pointer_mut(&quota) {
                *value = fastest.clone();
                paced += 1;
            }
        }
        std::fs::write(into.join(&name), template.to_string()).unwrap();
    }
    assert!(
        paced > 0,
        "no function of {} reads {}: the executions would not be paced as serve's are",
        assembly.display(),
        vars::MODEL_QUOTA_RPM
    );
    into.to_path_buf()
}

/// What runs the assembly's bootstraps here.
fn bootstraps_mode() -> String {
    if std::env::consts::ARCH == "aarch64" {
        "imagegen rehearse (arm64 bootstraps)".to_owned()
    } else {
        "imagegen rehearse (arm64 bootstraps under qemu-aarch64)".to_owned()
    }
}

/// Whether this host can run the arm64 bootstraps: itself, or with `qemu-aarch64` on PATH.
fn bootstraps_runnable() -> Result<(), String> {
    if std::env::consts::ARCH == "aarch64" || qemu_version().is_some() {
        return Ok(());
    }
    Err(
        "not measured: qemu-aarch64 is not on PATH (scripts/install-tools.sh qemu installs it)"
            .to_owned(),
    )
}

/// `qemu-aarch64 --version`'s first line, if it runs.
fn qemu_version() -> Option<String> {
    let out = Command::new("qemu-aarch64")
        .arg("--version")
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    out.status
        .success()
        .then(|| text.lines().next().unwrap_or_default().trim().to_owned())
}

/// Start `imagegen --data-dir data COMMAND...` on a free loopback port, time its start, run one
/// execution and then `count` more, and stop it.
fn measure(
    runtime: &tokio::runtime::Runtime,
    data: &Path,
    command: &[&str],
    count: usize,
) -> Measured {
    let started = Started::start(data, command);
    let endpoint = &started.endpoint;
    let (cold, latencies) = runtime.block_on(async {
        let sfn = endpoint.client();
        let cold = execution(&sfn, &endpoint.machine, 0, &started).await;
        let mut latencies = Vec::with_capacity(count);
        for i in 1..=count {
            latencies.push(execution(&sfn, &endpoint.machine, i, &started).await);
        }
        (cold, latencies)
    });
    let startup = started.startup;
    drop(started);
    let mut latencies = latencies;
    latencies.sort();
    Measured {
        startup,
        cold,
        latencies,
    }
}

/// What the banner says to reach the endpoint with.
struct Endpoint {
    url: String,
    region: String,
    key_id: String,
    secret: String,
    machine: String,
    /// The rehearsal's CA (PEM), for `https://`.
    ca_pem: Option<String>,
}

impl Endpoint {
    /// The endpoint's values among the banner's `lines`, once all are there.
    fn from_banner(lines: &[String]) -> Option<Self> {
        let value = |prefix: &str| {
            lines
                .iter()
                .find_map(|l| l.trim().strip_prefix(prefix))
                .map(|v| v.split_whitespace().next().unwrap_or_default().to_owned())
        };
        let url = value("Listening on ")?;
        let ca_pem = if url.starts_with("https://") {
            let bundle = value("export AWS_CA_BUNDLE=")?;
            Some(std::fs::read_to_string(&bundle).unwrap_or_else(|e| {
                panic!("the banner's AWS_CA_BUNDLE {bundle} cannot be read ({e})")
            }))
        } else {
            None
        };
        Some(Self {
            url,
            region: value("export AWS_DEFAULT_REGION=")?,
            key_id: value("export AWS_ACCESS_KEY_ID=")?,
            secret: value("export AWS_SECRET_ACCESS_KEY=")?,
            // serve prints `State machine:  ARN`; rehearse prints the stack's outputs.
            machine: value("State machine:").or_else(|| value("Imagegen.StateMachineArn = "))?,
            ca_pem,
        })
    }

    /// `aws-sdk-sfn` with the banner's credentials (no retries), trusting the CA over HTTPS.
    fn client(&self) -> aws_sdk_sfn::Client {
        let mut config = aws_sdk_sfn::Config::builder()
            .behavior_version(aws_sdk_sfn::config::BehaviorVersion::latest())
            .region(aws_sdk_sfn::config::Region::new(self.region.clone()))
            .credentials_provider(aws_sdk_sfn::config::Credentials::new(
                &self.key_id,
                &self.secret,
                None,
                None,
                "banner",
            ))
            .retry_config(RetryConfig::disabled())
            .endpoint_url(&self.url);
        if let Some(pem) = &self.ca_pem {
            config = config
                .http_client(imagegen_local::server::tls::https_client_trusting(pem).unwrap());
        }
        aws_sdk_sfn::Client::from_conf(config.build())
    }
}

/// A running `imagegen serve` or `rehearse`, stopped with Ctrl-C (SIGINT) when dropped, also when
/// a check panics, so no server (nor a function process of a rehearsal) outlives the benchmark.
struct Started {
    child: Child,
    label: String,
    /// From spawning the process to its `Listening on` line.
    startup: Duration,
    endpoint: Endpoint,
    stderr: std::sync::Arc<std::sync::Mutex<String>>,
}

impl Started {
    fn start(data: &Path, command: &[&str]) -> Self {
        let label = format!("imagegen {}", command[0]);
        let spawned = Instant::now();
        let mut child = Command::new(env!("CARGO_BIN_EXE_imagegen"))
            .arg("--data-dir")
            .arg(data)
            .args(command)
            .args(["--listen", "127.0.0.1:0", "--grace-seconds", "1"])
            // serve's ReserveModelSlot reads its pace from here; a rehearsal's from the template.
            .env(
                vars::MODEL_QUOTA_RPM,
                reserve_model_slot::QUOTA_RPM_RANGE.end().to_string(),
            )
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("{label} cannot be started ({e})"));
        // Read both outputs as they come, so the server never blocks on a full pipe.
        let (lines, banner) = mpsc::channel();
        let out = child.stdout.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                let _ = lines.send((line, Instant::now()));
            }
        });
        let stderr = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
        let mut err = child.stderr.take().unwrap();
        let kept = std::sync::Arc::clone(&stderr);
        std::thread::spawn(move || {
            let mut buffer = [0; 4096];
            while let Ok(n @ 1..) = err.read(&mut buffer) {
                kept.lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&buffer[..n]));
            }
        });
        let mut started = Self {
            child,
            label,
            startup: Duration::ZERO,
            endpoint: Endpoint {
                url: String::new(),
                region: String::new(),
                key_id: String::new(),
                secret: String::new(),
                machine: String::new(),
                ca_pem: None,
            },
            stderr,
        };
        let mut printed = Vec::new();
        let mut listening = None;
        let endpoint = loop {
            if let Some(endpoint) = Endpoint::from_banner(&printed) {
                break endpoint;
            }
            match banner.recv_timeout(START_TIMEOUT) {
                Ok((line, at)) => {
                    if line.starts_with("Listening on ") {
                        listening = Some(at - spawned);
                    }
                    printed.push(line);
                }
                Err(_) => started.fail("printed no complete banner", &printed.join("\n")),
            }
        };
        started.startup = listening.unwrap();
        started.endpoint = endpoint;
        started
    }

    /// Panic with what the server printed, and how to build the functions if they were missing.
    fn fail(&mut self, what: &str, stdout: &str) -> ! {
        let _ = self.child.kill();
        let _ = self.child.wait();
        std::thread::sleep(Duration::from_millis(100));
        let stderr = self.stderr.lock().unwrap().clone();
        let hint = if stderr.contains("is not built") {
            let (release, who) = if measuring() {
                (" --release", "bench/run.sh does")
            } else {
                ("", "`cargo test --workspace` builds them too")
            };
            format!(
                "\nThe functions' host builds must be next to {}: build them with `cargo build{release} \
                 --workspace --bins` ({who}).",
                env!("CARGO_BIN_EXE_imagegen")
            )
        } else {
            String::new()
        };
        panic!(
            "{} {what}.{hint}\nstdout:\n{stdout}\nstderr:\n{stderr}",
            self.label
        );
    }
}

impl Drop for Started {
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_some() {
            return; // ended already (and reaped: its process id may be another's now)
        }
        let _ = Command::new("kill")
            .args(["-INT", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(30);
        while self.child.try_wait().ok().flatten().is_none() {
            if Instant::now() > deadline {
                eprintln!("{} did not stop within 30 s of Ctrl-C; killed", self.label);
                let _ = self.child.kill();
                let _ = self.child.wait();
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

/// One execution with a valid prompt, from StartExecution to DescribeExecution saying it ended;
/// it must have SUCCEEDED.
async fn execution(
    sfn: &aws_sdk_sfn::Client,
    machine: &str,
    seed: usize,
    server: &Started,
) -> Duration {
    let label = &server.label;
    let started = Instant::now();
    let arn = sfn
        .start_execution()
        .state_machine_arn(machine)
        .input(format!(
            r#"{{"prompt": "a lighthouse at dusk", "seed": {seed}}}"#
        ))
        .send()
        .await
        .unwrap_or_else(|e| panic!("{label}: StartExecution failed: {}", DisplayErrorContext(e)))
        .execution_arn()
        .to_owned();
    loop {
        let described = sfn
            .describe_execution()
            .execution_arn(&arn)
            .send()
            .await
            .unwrap_or_else(|e| {
                panic!(
                    "{label}: DescribeExecution failed: {}",
                    DisplayErrorContext(e)
                )
            });
        match described.status() {
            ExecutionStatus::Running => {}
            ExecutionStatus::Succeeded => return started.elapsed(),
            other => panic!(
                "{label}: execution {arn} ended {other}, not SUCCEEDED: {} {}\nstderr:\n{}",
                described.error().unwrap_or_default(),
                described.cause().unwrap_or_default(),
                server.stderr.lock().unwrap()
            ),
        }
        assert!(
            started.elapsed() < EXECUTION_TIMEOUT,
            "{label}: execution {arn} still RUNNING after {EXECUTION_TIMEOUT:?}"
        );
        tokio::time::sleep(POLL).await;
    }
}

/// How this row's p50 compares with serve's.
fn ratio(measured: &Measured, serve_p50: Duration) -> String {
    format!(
        "{:.1}x",
        measured.p50().as_secs_f64() / serve_p50.as_secs_f64().max(f64::EPSILON)
    )
}

/// The line printed for a row.
fn summary(row: &Row, serve_p50: Duration, count: usize) -> String {
    match &row.figures {
        Ok(m) => format!(
            "rehearse bench: {}: start-up {}, first execution {}, {count} executions p50 {} p99 {} \
             (p50 = {} serve)",
            row.mode,
            ms(m.startup),
            ms(m.cold),
            ms(m.p50()),
            ms(m.p99()),
            ratio(m, serve_p50)
        ),
        Err(why) => format!("rehearse bench: {}: {why}", row.mode),
    }
}

/// The Markdown table `bench/extra/rehearse.md` holds.
fn table(rows: &[Row], serve_p50: Duration, assembly: &Path, synthesized: bool) -> String {
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let build = if measuring() { "Release" } else { "Debug" };
    let assembly = if synthesized {
        format!(
            "the synthesized assembly {} (arm64 zips)",
            assembly.display()
        )
    } else {
        "the pinned fixture cli/rehearse/tests/fixtures/cdk.out (no function code)".to_owned()
    };
    let qemu = qemu_version().map_or_else(String::new, |v| format!(" {v}."));
    // The machine is shared: its load when the table is made says how much the figures may vary.
    let load = std::fs::read_to_string("/proc/loadavg").map_or_else(
        |_| String::new(),
        |l| {
            format!(
                " Load average {} at the end.",
                l.split_whitespace().next().unwrap_or("?")
            )
        },
    );
    let mut out = format!(
        "### imagegen rehearse beside imagegen serve (one execution end to end)\n\n\
         {build} build, {cores} CPU(s) ({}); server, function processes and client share them.{load}{qemu} \
         An execution: StartExecution with a valid prompt (console-style input), then \
         DescribeExecution every {} ms until it ends, through `aws-sdk-sfn` (HTTPS trusting the \
         rehearsal's CA), one at a time; every one SUCCEEDED: ValidatePrompt, ReserveModelSlot, \
         GenerateImage (offline model, 1024x1024 PNG), GenerateThumbnails, NotifyUser (email). \
         ReserveModelSlot paces at the fastest quota it accepts ({} = {} a minute, slots 1 ms apart; \
         serve through its environment, the rehearsals through a copy of the template), so the \
         figures are the twin's, not the quota's wait. Start-up: from spawning the process to its \
         `Listening on` line. The function processes of a rehearsal start on their first \
         invocation, so the first execution (cold) is shown apart and not counted in p50/p99. The \
         rehearsals run {assembly}.\n\n\
         | mode | start-up | first execution | executions | p50 | p99 | p50 vs serve |\n\
         | --- | --- | --- | --- | --- | --- | --- |\n",
        std::env::consts::ARCH,
        POLL.as_millis(),
        vars::MODEL_QUOTA_RPM,
        reserve_model_slot::QUOTA_RPM_RANGE.end(),
    );
    for row in rows {
        let line = match &row.figures {
            Ok(m) => format!(
                "| {} | {} | {} | {} | {} | {} | {} |\n",
                row.mode,
                ms(m.startup),
                ms(m.cold),
                m.latencies.len(),
                ms(m.p50()),
                ms(m.p99()),
                ratio(m, serve_p50)
            ),
            Err(why) => format!("| {} | {why} | | | | | |\n", row.mode),
        };
        out.push_str(&line);
    }
    out
}
