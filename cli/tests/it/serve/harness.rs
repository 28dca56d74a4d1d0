//! Running the real `imagegen serve` binary on a free loopback port, and the clients that talk to it:
//! the AWS CLI (found on PATH), the Rust SDK clients, and a bare HTTP/1.1 GET.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::{Arc, Mutex, OnceLock, mpsc};
use std::time::{Duration, Instant};

use imagegen_local::config::{ACCESS_KEY_ID, DEFAULT_REGION, SECRET_ACCESS_KEY};
use serde_json::Value;

/// The `imagegen` binary these tests run: a link to the one cargo built for them, taken once, so a
/// rebuild of the target directory while the tests run (another checkout sharing it) cannot swap
/// the binary under them. The link is named after the build (its size and time), so test processes
/// of other checkouts, which link their own builds, never rename theirs over it; links of builds
/// over a day old are removed.
pub fn bin() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        let built = PathBuf::from(env!("CARGO_BIN_EXE_imagegen"));
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
        let Ok(meta) = std::fs::metadata(&built) else {
            return built;
        };
        let stamp = meta
            .modified()
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_nanos());
        let prefix = "serve-tests-imagegen-";
        let name = format!("{prefix}{}-{stamp}", meta.len());
        for old in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let stale = old
                .metadata()
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| t.elapsed().ok())
                .is_some_and(|age| age > Duration::from_secs(24 * 3600));
            if stale && old.file_name().to_string_lossy().starts_with(prefix) {
                let _ = std::fs::remove_file(old.path());
            }
        }
        let staged = dir.join(format!("{name}.{}", std::process::id()));
        let kept = dir.join(name);
        let linked = std::fs::hard_link(&built, &staged)
            .or_else(|_| std::fs::copy(&built, &staged).map(|_| ()))
            .and_then(|()| std::fs::rename(&staged, &kept));
        match linked {
            Ok(()) => kept,
            Err(_) => built,
        }
    })
}

pub use crate::common::TempDir;

/// A running `imagegen serve`.
pub struct Served {
    child: Child,
    pub endpoint: String,
    pub data: PathBuf,
    /// Everything it printed so far.
    pub stdout: Arc<Mutex<Vec<String>>>,
    pub stderr: Arc<Mutex<Vec<String>>>,
}

impl Served {
    /// `imagegen [global...] serve --listen 127.0.0.1:0 [serve_args...]` on `data`, once it prints
    /// its `Listening on URL` line.
    pub fn start(data: &Path, global: &[&str], serve_args: &[&str]) -> Self {
        Self::start_on(data, "127.0.0.1:0", global, serve_args)
    }

    /// The same, listening on `listen`.
    pub fn start_on(data: &Path, listen: &str, global: &[&str], serve_args: &[&str]) -> Self {
        let mut args = vec!["serve", "--listen", listen];
        args.extend_from_slice(serve_args);
        Self::command(data, global, &args)
    }

    /// `imagegen [global...] COMMAND...` on `data` (`serve` or `rehearse`, listening on a free
    /// loopback port), once it prints its `Listening on URL` line.
    pub fn command(data: &Path, global: &[&str], command: &[&str]) -> Self {
        let mut child = Command::new(bin())
            .arg("--data-dir")
            .arg(data)
            .args(global)
            .args(command)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("imagegen starts");
        let stdout = Arc::new(Mutex::new(Vec::new()));
        let stderr = Arc::new(Mutex::new(Vec::new()));
        let (tx, rx) = mpsc::channel();
        let lines = Arc::clone(&stdout);
        let out = child.stdout.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                if let Some(url) = line.strip_prefix("Listening on ") {
                    let _ = tx.send(url.trim().to_owned());
                }
                lines.lock().unwrap().push(line);
            }
        });
        let lines = Arc::clone(&stderr);
        let err = child.stderr.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(err).lines().map_while(Result::ok) {
                lines.lock().unwrap().push(line);
            }
        });
        let endpoint = match rx.recv_timeout(Duration::from_secs(60)) {
            Ok(url) => url,
            Err(_) => {
                let _ = child.kill();
                panic!(
                    "imagegen {} printed no `Listening on` line; stdout:\n{}\nstderr:\n{}",
                    command.first().unwrap_or(&""),
                    stdout.lock().unwrap().join("\n"),
                    stderr.lock().unwrap().join("\n")
                );
            }
        };
        Self {
            child,
            endpoint,
            data: data.to_path_buf(),
            stdout,
            stderr,
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Ctrl-C (SIGINT, sent with `kill`), then its exit status.
    pub fn interrupt(&mut self, timeout: Duration) -> ExitStatus {
        let sent = Command::new("kill")
            .args(["-INT", &self.pid().to_string()])
            .status()
            .unwrap();
        assert!(sent.success());
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "imagegen serve did not stop within {timeout:?} of Ctrl-C; stderr:\n{}",
                self.stderr.lock().unwrap().join("\n")
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// `kill -9`: the process ends at once, with no chance to tidy up; waits for it.
    pub fn kill(&mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    pub fn printed(&self) -> String {
        self.stdout.lock().unwrap().join("\n")
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// `imagegen --data-dir data args...`, run to its end.
pub fn imagegen(data: &Path, args: &[&str]) -> Output {
    Command::new(bin())
        .arg("--data-dir")
        .arg(data)
        .args(args)
        .output()
        .unwrap()
}

/// The AWS CLI on PATH. Missing, the tests fail (CI must run them), unless
/// `IMAGEGEN_ALLOW_MISSING_TOOLS=1`, when they are skipped with a loud message.
pub fn aws_cli() -> Option<PathBuf> {
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join("aws"))
            .find(|p| p.is_file())
    });
    if found.is_none() {
        let hint = "the AWS CLI (`aws`) is not on PATH: `bash scripts/install-tools.sh aws-cli` \
                    installs it (scripts/test.sh does)";
        if std::env::var("IMAGEGEN_ALLOW_MISSING_TOOLS").as_deref() == Ok("1") {
            eprintln!("\n!!! SKIPPED: {hint} !!!\n");
        } else {
            panic!("{hint}; set IMAGEGEN_ALLOW_MISSING_TOOLS=1 to skip these tests");
        }
    }
    found
}

/// The AWS CLI against `endpoint`, with the local credentials (or `key`/`secret` given) and no
/// configuration files of the machine's user.
#[derive(Clone)]
pub struct Aws {
    pub cli: PathBuf,
    pub endpoint: String,
    pub key: String,
    pub secret: String,
    /// `AWS_CA_BUNDLE`: the CA an HTTPS endpoint's certificate is signed by.
    pub ca_bundle: Option<PathBuf>,
}

impl Aws {
    pub fn new(cli: PathBuf, endpoint: &str) -> Self {
        Self {
            cli,
            endpoint: endpoint.to_owned(),
            key: ACCESS_KEY_ID.to_owned(),
            secret: SECRET_ACCESS_KEY.to_owned(),
            ca_bundle: None,
        }
    }

    pub fn with_credentials(&self, key: &str, secret: &str) -> Self {
        Self {
            key: key.to_owned(),
            secret: secret.to_owned(),
            ..self.clone()
        }
    }

    /// Trust the CA in `bundle` (an `https://` endpoint's).
    pub fn with_ca_bundle(&self, bundle: &Path) -> Self {
        Self {
            ca_bundle: Some(bundle.to_path_buf()),
            ..self.clone()
        }
    }

    /// Run `aws --endpoint-url E --output json args...`.
    pub fn run(&self, args: &[&str]) -> Output {
        let mut command = Command::new(&self.cli);
        if let Some(bundle) = &self.ca_bundle {
            command.env("AWS_CA_BUNDLE", bundle);
        } else {
            command.env_remove("AWS_CA_BUNDLE");
        }
        command
            .args(["--endpoint-url", &self.endpoint, "--output", "json"])
            .args(args)
            .env("AWS_ACCESS_KEY_ID", &self.key)
            .env("AWS_SECRET_ACCESS_KEY", &self.secret)
            .env("AWS_DEFAULT_REGION", DEFAULT_REGION)
            .env("AWS_DISABLE_HOST_PREFIX_INJECTION", "true")
            .env("AWS_CONFIG_FILE", "/nonexistent/imagegen-test-config")
            .env(
                "AWS_SHARED_CREDENTIALS_FILE",
                "/nonexistent/imagegen-test-credentials",
            )
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("AWS_MAX_ATTEMPTS", "1")
            .env_remove("AWS_PROFILE")
            .env_remove("AWS_SESSION_TOKEN")
            .output()
            .unwrap()
    }

    /// Run and parse the JSON answer; panics with stderr when the command fails.
    pub fn json(&self, args: &[&str]) -> Value {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "aws {args:?} failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8_lossy(&out.stdout);
        if text.trim().is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("aws {args:?}: {e}: {text}"))
        }
    }

    /// Run a command that must succeed (whatever it prints); returns its stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "aws {args:?} failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Run a command that must fail; returns its stderr.
    pub fn error(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            !out.status.success(),
            "aws {args:?} should have failed:\n{}",
            String::from_utf8_lossy(&out.stdout)
        );
        String::from_utf8_lossy(&out.stderr).into_owned()
    }
}

/// Poll `check` every 100 ms until it returns `Some`, for at most `timeout`.
pub fn eventually<T>(timeout: Duration, what: &str, mut check: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(value) = check() {
            return value;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A bare HTTP/1.1 GET of an `http://host:port/...` URL: (status, body).
pub fn http_get(url: &str) -> (u16, Vec<u8>) {
    let rest = url.strip_prefix("http://").expect("an http URL");
    let (host, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let mut stream = TcpStream::connect(host).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\nUser-Agent: imagegen-test\r\n\r\n"
    )
    .unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).unwrap();
    let split = response
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a header block");
    let head = String::from_utf8_lossy(&response[..split]).into_owned();
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap();
    let body = response[split + 4..].to_vec();
    let chunked = head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked");
    (status, if chunked { dechunk(&body) } else { body })
}

fn dechunk(mut body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let line_end = body.windows(2).position(|w| w == b"\r\n").unwrap();
        let size = usize::from_str_radix(
            String::from_utf8_lossy(&body[..line_end])
                .split(';')
                .next()
                .unwrap()
                .trim(),
            16,
        )
        .unwrap();
        body = &body[line_end + 2..];
        if size == 0 {
            return out;
        }
        out.extend_from_slice(&body[..size]);
        body = &body[size + 2..];
    }
}

/// The SDK configuration for the local endpoint (static local credentials, path-style S3).
pub fn sdk_s3(endpoint: &str) -> aws_sdk_s3::Client {
    let config = aws_sdk_s3::Config::builder()
        .behavior_version(aws_sdk_s3::config::BehaviorVersion::latest())
        .region(aws_sdk_s3::config::Region::new(DEFAULT_REGION))
        .credentials_provider(imagegen_local::config::credentials())
        .endpoint_url(endpoint)
        .force_path_style(true)
        .build();
    aws_sdk_s3::Client::from_conf(config)
}

pub fn sdk_sfn(endpoint: &str) -> aws_sdk_sfn::Client {
    let config = aws_sdk_sfn::Config::builder()
        .behavior_version(aws_sdk_sfn::config::BehaviorVersion::latest())
        .region(aws_sdk_sfn::config::Region::new(DEFAULT_REGION))
        .credentials_provider(imagegen_local::config::credentials())
        .endpoint_url(endpoint)
        .build();
    aws_sdk_sfn::Client::from_conf(config)
}

pub fn sdk_sns(endpoint: &str) -> aws_sdk_sns::Client {
    let config = aws_sdk_sns::Config::builder()
        .behavior_version(aws_sdk_sns::config::BehaviorVersion::latest())
        .region(aws_sdk_sns::config::Region::new(DEFAULT_REGION))
        .credentials_provider(imagegen_local::config::credentials())
        .endpoint_url(endpoint)
        .build();
    aws_sdk_sns::Client::from_conf(config)
}

/// The pipeline's executions by name, with their status (every page).
pub async fn executions(
    endpoint: &str,
) -> std::collections::BTreeMap<String, aws_sdk_sfn::types::ExecutionStatus> {
    let sfn = sdk_sfn(endpoint);
    let mut all = std::collections::BTreeMap::new();
    let mut token = None;
    loop {
        let page = sfn
            .list_executions()
            .state_machine_arn(super::MACHINE)
            .set_next_token(token)
            .send()
            .await
            .unwrap();
        for e in page.executions() {
            all.insert(e.name().to_owned(), e.status().clone());
        }
        token = page.next_token().map(str::to_owned);
        if token.is_none() {
            return all;
        }
    }
}

/// The emails sent for each execution name.
pub fn emails(data: &Path) -> std::collections::BTreeMap<String, usize> {
    let mut count = std::collections::BTreeMap::new();
    for m in messages(data) {
        if let Some(name) = m.attributes.get("execution") {
            *count.entry(name.clone()).or_default() += 1;
        }
    }
    count
}

/// The outbox's messages (read the way `imagegen` reads them).
pub fn messages(data: &Path) -> Vec<imagegen_local::OutboxMessage> {
    imagegen_local::Outbox::new(data.join("outbox"))
        .list()
        .unwrap()
}

/// curl on PATH, if it signs requests (`--aws-sigv4`, curl 7.75 and later). Missing, the tests fail
/// unless `IMAGEGEN_ALLOW_MISSING_TOOLS=1`, when they are skipped with a loud message.
pub fn curl() -> Option<PathBuf> {
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join("curl"))
            .find(|p| p.is_file())
    });
    let signs = found.as_ref().is_some_and(|curl| {
        Command::new(curl)
            .args(["--help", "all"])
            .output()
            .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains("--aws-sigv4"))
    });
    if !signs {
        let hint = "curl with --aws-sigv4 (7.75 or later) is not on PATH: `bash scripts/install-tools.sh curl` installs it (scripts/test.sh does)";
        if std::env::var("IMAGEGEN_ALLOW_MISSING_TOOLS").as_deref() == Ok("1") {
            eprintln!("\n!!! SKIPPED: {hint} !!!\n");
            return None;
        }
        panic!("{hint}; set IMAGEGEN_ALLOW_MISSING_TOOLS=1 to skip these tests");
    }
    found
}

/// An answer curl got: status, headers (names lower case) and body.
#[derive(Debug)]
pub struct Curled {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Curled {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {self:?}"))
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// `curl -i [--aws-sigv4 aws:amz:REGION:execute-api --user KEY:SECRET] args... url`, signed with
/// `credentials` when given.
pub fn curl_api(
    curl: &Path,
    credentials: Option<(&str, &str)>,
    args: &[&str],
    url: &str,
) -> Curled {
    let mut command = Command::new(curl);
    command.args(["-s", "-i", "--max-time", "60"]);
    if let Some((key, secret)) = credentials {
        command
            .arg("--aws-sigv4")
            .arg(format!("aws:amz:{DEFAULT_REGION}:execute-api"))
            .arg("--user")
            .arg(format!("{key}:{secret}"));
    }
    let out = command.args(args).arg(url).output().unwrap();
    assert!(
        out.status.success(),
        "curl failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout).replace("\r\n", "\n");
    let (head, body) = text.split_once("\n\n").unwrap_or((&text, ""));
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status line in {text}"));
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    Curled {
        status,
        headers,
        body: body.to_owned(),
    }
}
