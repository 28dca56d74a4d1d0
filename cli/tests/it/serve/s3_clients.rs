//! Everyday S3 clients against `serve`'s S3, as a user would run them: s3cmd and rclone (Debian's
//! packages) and the AWS CLI (v1, PyPI), each with its own defaults, on a bucket of their own; and
//! uploads under `prompts/` from each of them, which start one execution per upload, as on AWS.
//!
//! A client that is not on PATH fails its test under CI (`CI` set, as `.ci/run` sets it) and is
//! skipped with a loud message otherwise; `bash scripts/install-tools.sh s3cmd|rclone|aws-cli`
//! installs them (`scripts/test.sh` does). The 200 MB files live in each test's temporary
//! directory, removed at its end.

use std::collections::BTreeMap;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant, SystemTime};

use imagegen_local::config::{ACCESS_KEY_ID, SECRET_ACCESS_KEY};
use serde_json::Value;

use super::harness::{Aws, Served, TempDir, aws_cli, sdk_s3};
use super::{RUN, list_executions};

/// 200 MiB and one more: rclone's default `upload_cutoff` is 200 MiB, so this is its multipart
/// upload with the default 5 MiB chunks (41 parts).
const BIG: u64 = 201 << 20;

/// `name` on PATH. Missing: a failure under CI (a missing install step must not pass unnoticed),
/// a loud skip on a developer's machine.
fn tool(name: &str, install: &str) -> Option<PathBuf> {
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join(name))
            .find(|p| p.is_file())
    });
    if found.is_none() {
        let hint = format!(
            "`{name}` is not on PATH: `bash scripts/install-tools.sh {install}` installs it \
             (scripts/test.sh does)"
        );
        let ci = std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false");
        assert!(!ci, "{hint}; under CI every S3 client test must run");
        eprintln!("\n!!! SKIPPED (CI is unset): {hint} !!!\n");
    }
    found
}

/// Runs `command`; panics with what it printed unless it exits 0. Returns stdout and stderr.
fn ok(command: &mut Command) -> String {
    let out = command.output().unwrap();
    assert!(
        out.status.success(),
        "{command:?} failed ({}):\n{}",
        out.status,
        printed(&out)
    );
    printed(&out)
}

fn printed(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn write(path: &Path, contents: &str) {
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, contents).unwrap();
}

/// `size` pseudo-random bytes (xorshift64*, seeded) in a new file.
fn random_file(path: &Path, size: u64, seed: u64) {
    let mut out = fs::File::create(path).unwrap();
    let mut chunk = vec![0u8; 1 << 20];
    let mut state = seed | 1;
    let mut left = size;
    while left > 0 {
        for word in chunk.chunks_exact_mut(8) {
            state ^= state >> 12;
            state ^= state << 25;
            state ^= state >> 27;
            word.copy_from_slice(&state.wrapping_mul(0x2545_F491_4F6C_DD1D).to_le_bytes());
        }
        let n = left.min(chunk.len() as u64) as usize;
        out.write_all(&chunk[..n]).unwrap();
        left -= n as u64;
    }
}

/// The MD5 of a file, by coreutils' `md5sum` (fast; the suite's files are up to 201 MiB).
fn md5(path: &Path) -> String {
    let out = ok(Command::new("md5sum").arg(path));
    out.split_whitespace().next().unwrap().to_owned()
}

/// The files under `dir`, by path relative to it, with their contents.
fn tree(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    fn walk(root: &Path, dir: &Path, found: &mut BTreeMap<String, Vec<u8>>) {
        for entry in fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(root, &path, found);
            } else {
                let name = path.strip_prefix(root).unwrap().to_string_lossy();
                found.insert(name.replace('\\', "/"), fs::read(&path).unwrap());
            }
        }
    }
    let mut found = BTreeMap::new();
    walk(dir, dir, &mut found);
    found
}

/// s3cmd with a configuration file of its own: the endpoint for `host_base` and `host_bucket`
/// (so path-style requests), no TLS, the local key.
struct S3cmd {
    bin: PathBuf,
    config: PathBuf,
}

impl S3cmd {
    fn new(bin: PathBuf, endpoint: &str, dir: &Path) -> Self {
        let host = endpoint.strip_prefix("http://").unwrap();
        let config = dir.join("s3cmd.cfg");
        fs::write(
            &config,
            format!(
                "[default]\naccess_key = {ACCESS_KEY_ID}\nsecret_key = {SECRET_ACCESS_KEY}\n\
                 host_base = {host}\nhost_bucket = {host}\nuse_https = False\n\
                 bucket_location = us-east-1\nsignature_v2 = False\nprogress_meter = False\n"
            ),
        )
        .unwrap();
        Self { bin, config }
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(&self.bin);
        command.arg("-c").arg(&self.config).args(args);
        command
    }

    fn ok(&self, args: &[&str]) -> String {
        ok(&mut self.command(args))
    }
}

/// rclone with an `s3` remote `twin:` for `provider = Other` and nothing else but the endpoint
/// and the key, given in environment variables (no configuration file of the user's).
struct Rclone {
    bin: PathBuf,
    endpoint: String,
    config: PathBuf,
}

impl Rclone {
    fn new(bin: PathBuf, endpoint: &str, dir: &Path) -> Self {
        Self {
            bin,
            endpoint: endpoint.to_owned(),
            config: dir.join("rclone.conf"),
        }
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(&self.bin);
        command
            .args(args)
            // Fail fast: a retry would only repeat the same answer.
            .args(["--retries", "1", "--low-level-retries", "2"])
            .env("RCLONE_CONFIG", &self.config)
            .env("RCLONE_CONFIG_TWIN_TYPE", "s3")
            .env("RCLONE_CONFIG_TWIN_PROVIDER", "Other")
            .env("RCLONE_CONFIG_TWIN_ENDPOINT", &self.endpoint)
            .env("RCLONE_CONFIG_TWIN_ACCESS_KEY_ID", ACCESS_KEY_ID)
            .env("RCLONE_CONFIG_TWIN_SECRET_ACCESS_KEY", SECRET_ACCESS_KEY)
            // The AWS SDK inside rclone 1.60 loads this bundle into rclone's own HTTP transport,
            // which it cannot do (`LoadCustomCABundleError`); the endpoint is plain HTTP anyway.
            .env_remove("AWS_CA_BUNDLE");
        command
    }

    fn ok(&self, args: &[&str]) -> String {
        ok(&mut self.command(args))
    }
}

/// `rclone ls`'s lines as (path, size), sorted.
fn rclone_listed(listing: &str) -> Vec<(String, u64)> {
    let mut listed: Vec<(String, u64)> = listing
        .lines()
        .filter_map(|l| {
            let (size, name) = l.trim().split_once(' ')?;
            Some((name.to_owned(), size.parse().ok()?))
        })
        .collect();
    listed.sort();
    listed
}

/// How many parts the object was uploaded in, from its ETag (a multipart upload's is the MD5 of
/// the parts' MD5s, `-` and the part count); `None` for a single PUT.
fn multipart_parts(endpoint: &str, bucket: &str, key: &str) -> Option<u32> {
    let s3 = sdk_s3(endpoint);
    let head = tokio::runtime::Runtime::new()
        .unwrap()
        .block_on(s3.head_object().bucket(bucket).key(key).send())
        .unwrap();
    let etag = head.e_tag().unwrap().trim_matches('"');
    etag.split_once('-').map(|(_, n)| n.parse().unwrap())
}

/// The keys `aws s3api list-objects` (ListObjects v1) returns for `args`.
fn listed_keys(aws: &Aws, args: &[&str]) -> Vec<String> {
    let mut all = vec!["s3api", "list-objects"];
    all.extend_from_slice(args);
    let listed = aws.json(&all);
    listed["Contents"]
        .as_array()
        .map(|c| {
            c.iter()
                .map(|o| o["Key"].as_str().unwrap().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn s3cmd_lists_puts_gets_syncs_both_ways_and_deletes_recursively() {
    let Some(bin) = tool("s3cmd", "s3cmd") else {
        return;
    };
    let dir = TempDir::new("s3cmd");
    let served = Served::start(&dir.path().join("data"), &[], &[]);
    let s3cmd = S3cmd::new(bin, &served.endpoint, dir.path());

    s3cmd.ok(&["mb", "s3://s3cmd-test"]);
    let listed = s3cmd.ok(&["ls"]);
    assert!(listed.contains("s3://s3cmd-test"), "{listed}");

    // put, ls, get.
    let hello = dir.path().join("hello.txt");
    write(&hello, "hello from s3cmd\n");
    s3cmd.ok(&["put", hello.to_str().unwrap(), "s3://s3cmd-test/hello.txt"]);
    let listed = s3cmd.ok(&["ls", "s3://s3cmd-test/"]);
    assert!(listed.contains("s3://s3cmd-test/hello.txt"), "{listed}");
    let got = dir.path().join("got.txt");
    s3cmd.ok(&["get", "s3://s3cmd-test/hello.txt", got.to_str().unwrap()]);
    assert_eq!(fs::read(&got).unwrap(), b"hello from s3cmd\n");

    // sync up; a second sync sends only what changed.
    let up = dir.path().join("up");
    write(&up.join("a.txt"), "a");
    write(&up.join("nested/b.txt"), "bb");
    write(&up.join("nested/deeper/c.txt"), "ccc");
    let up_arg = format!("{}/", up.display());
    s3cmd.ok(&["sync", &up_arg, "s3://s3cmd-test/tree/"]);
    let listed = s3cmd.ok(&["ls", "--recursive", "s3://s3cmd-test/tree/"]);
    for key in [
        "tree/a.txt",
        "tree/nested/b.txt",
        "tree/nested/deeper/c.txt",
    ] {
        assert!(
            listed.contains(&format!("s3://s3cmd-test/{key}")),
            "{listed}"
        );
    }
    write(&up.join("nested/d.txt"), "dddd");
    let synced = s3cmd.ok(&["sync", &up_arg, "s3://s3cmd-test/tree/"]);
    assert!(synced.contains("d.txt"), "{synced}");
    assert!(
        !synced.contains("a.txt") && !synced.contains("c.txt"),
        "unchanged files sent again:\n{synced}"
    );

    // sync down: the same tree.
    let down = dir.path().join("down");
    fs::create_dir_all(&down).unwrap();
    s3cmd.ok(&[
        "sync",
        "s3://s3cmd-test/tree/",
        &format!("{}/", down.display()),
    ]);
    assert_eq!(tree(&down), tree(&up));

    // A multipart put (three parts of at most 5 MB) and its get: the same MD5.
    let big = dir.path().join("big.bin");
    random_file(&big, 12_000_000, 27);
    s3cmd.ok(&[
        "put",
        "--multipart-chunk-size-mb=5",
        big.to_str().unwrap(),
        "s3://s3cmd-test/big.bin",
    ]);
    assert_eq!(
        multipart_parts(&served.endpoint, "s3cmd-test", "big.bin"),
        Some(3)
    );
    let big_back = dir.path().join("big.back");
    s3cmd.ok(&["get", "s3://s3cmd-test/big.bin", big_back.to_str().unwrap()]);
    assert_eq!(md5(&big_back), md5(&big));

    // del --recursive removes the tree and nothing else.
    s3cmd.ok(&["del", "--recursive", "--force", "s3://s3cmd-test/tree/"]);
    let listed = s3cmd.ok(&["ls", "--recursive", "s3://s3cmd-test/"]);
    assert!(!listed.contains("tree/"), "{listed}");
    assert!(listed.contains("s3://s3cmd-test/hello.txt"), "{listed}");
    assert!(listed.contains("s3://s3cmd-test/big.bin"), "{listed}");
}

#[test]
fn rclone_with_its_defaults_lists_copies_syncs_checks_and_deletes() {
    let Some(bin) = tool("rclone", "rclone") else {
        return;
    };
    let dir = TempDir::new("rclone");
    let served = Served::start(&dir.path().join("data"), &[], &[]);
    let rclone = Rclone::new(bin, &served.endpoint, dir.path());

    rclone.ok(&["mkdir", "twin:rclone-test"]);
    let src = dir.path().join("src");
    write(&src.join("a.txt"), "a");
    write(&src.join("b.tmp"), "bb");
    write(&src.join("nested/c.txt"), "ccc");
    write(&src.join("nested/d.tmp"), "dddd");
    let src_arg = src.to_str().unwrap();
    rclone.ok(&["copy", src_arg, "twin:rclone-test/tree"]);
    let listed = rclone_listed(&rclone.ok(&["ls", "twin:rclone-test/tree"]));
    assert_eq!(
        listed,
        [
            ("a.txt".to_owned(), 1),
            ("b.tmp".to_owned(), 2),
            ("nested/c.txt".to_owned(), 3),
            ("nested/d.tmp".to_owned(), 4),
        ]
    );

    // sync: what is gone locally goes, what is new comes, the rest is not sent again.
    fs::remove_file(src.join("a.txt")).unwrap();
    write(&src.join("nested/e.txt"), "eeeee");
    let synced = rclone.ok(&["sync", "-v", src_arg, "twin:rclone-test/tree"]);
    assert!(
        !synced.contains("c.txt: Copied"),
        "an unchanged file was sent again:\n{synced}"
    );
    let listed = rclone_listed(&rclone.ok(&["ls", "twin:rclone-test/tree"]));
    assert_eq!(
        listed,
        [
            ("b.tmp".to_owned(), 2),
            ("nested/c.txt".to_owned(), 3),
            ("nested/d.tmp".to_owned(), 4),
            ("nested/e.txt".to_owned(), 5),
        ]
    );
    let checked = rclone.ok(&["check", src_arg, "twin:rclone-test/tree"]);
    assert!(checked.contains("0 differences found"), "{checked}");

    // delete --include removes exactly what matches.
    rclone.ok(&["delete", "twin:rclone-test/tree", "--include", "*.tmp"]);
    let listed = rclone_listed(&rclone.ok(&["ls", "twin:rclone-test"]));
    assert_eq!(
        listed,
        [
            ("tree/nested/c.txt".to_owned(), 3),
            ("tree/nested/e.txt".to_owned(), 5),
        ]
    );
}

#[test]
fn rclone_moves_200_mb_up_in_multipart_and_back_whole() {
    let Some(bin) = tool("rclone", "rclone") else {
        return;
    };
    let dir = TempDir::new("rclone-big");
    let served = Served::start(&dir.path().join("data"), &[], &[]);
    let rclone = Rclone::new(bin, &served.endpoint, dir.path());
    let big = dir.path().join("big.bin");
    random_file(&big, BIG, 200);
    let sum = md5(&big);

    rclone.ok(&["mkdir", "twin:rclone-big"]);
    rclone.ok(&["copyto", big.to_str().unwrap(), "twin:rclone-big/big.bin"]);
    let listed = rclone_listed(&rclone.ok(&["ls", "twin:rclone-big"]));
    assert_eq!(listed, [("big.bin".to_owned(), BIG)]);
    assert_eq!(
        multipart_parts(&served.endpoint, "rclone-big", "big.bin"),
        Some(41)
    );
    // Size and MD5 (rclone keeps a multipart upload's MD5 in its metadata).
    let checked = rclone.ok(&["check", big.to_str().unwrap(), "twin:rclone-big"]);
    assert!(checked.contains("0 differences found"), "{checked}");
    let back = dir.path().join("back.bin");
    rclone.ok(&["copyto", "twin:rclone-big/big.bin", back.to_str().unwrap()]);
    assert_eq!(md5(&back), sum);
}

#[test]
fn aws_cli_sync_delete_list_objects_v1_and_rb_refused_while_not_empty() {
    let Some(cli) = aws_cli() else { return };
    let dir = TempDir::new("aws-sync");
    let served = Served::start(&dir.path().join("data"), &[], &[]);
    let aws = Aws::new(cli, &served.endpoint);

    aws.ok(&["s3", "mb", "s3://cli-test"]);
    let src = dir.path().join("src");
    write(&src.join("a.txt"), "a");
    write(&src.join("b.txt"), "bb");
    write(&src.join("nested/c.txt"), "ccc");
    let src_arg = src.to_str().unwrap();
    aws.ok(&["s3", "sync", src_arg, "s3://cli-test/"]);
    fs::remove_file(src.join("b.txt")).unwrap();
    let synced = aws.ok(&["s3", "sync", "--delete", src_arg, "s3://cli-test/"]);
    assert!(synced.contains("delete: s3://cli-test/b.txt"), "{synced}");
    assert!(!synced.contains("upload:"), "{synced}");

    // ListObjects (v1): all, by prefix, with a delimiter.
    assert_eq!(
        listed_keys(&aws, &["--bucket", "cli-test"]),
        ["a.txt", "nested/c.txt"]
    );
    assert_eq!(
        listed_keys(&aws, &["--bucket", "cli-test", "--prefix", "nested/"]),
        ["nested/c.txt"]
    );
    let grouped = aws.json(&[
        "s3api",
        "list-objects",
        "--bucket",
        "cli-test",
        "--delimiter",
        "/",
    ]);
    assert_eq!(
        grouped["CommonPrefixes"][0]["Prefix"], "nested/",
        "{grouped:#}"
    );
    assert_eq!(
        grouped["Contents"].as_array().unwrap().len(),
        1,
        "{grouped:#}"
    );

    // rb without --force: BucketNotEmpty, and every object is still there.
    let refused = aws.error(&["s3", "rb", "s3://cli-test"]);
    assert!(refused.contains("BucketNotEmpty"), "{refused}");
    assert_eq!(
        listed_keys(&aws, &["--bucket", "cli-test"]),
        ["a.txt", "nested/c.txt"]
    );
    for (key, body) in [("a.txt", "a"), ("nested/c.txt", "ccc")] {
        let out = dir.path().join("out");
        aws.ok(&[
            "s3",
            "cp",
            &format!("s3://cli-test/{key}"),
            out.to_str().unwrap(),
        ]);
        assert_eq!(fs::read_to_string(&out).unwrap(), body);
    }
    // With --force it empties the bucket, then removes it.
    aws.ok(&["s3", "rb", "--force", "s3://cli-test"]);
    let buckets = aws.json(&["s3api", "list-buckets"]);
    assert!(
        !buckets["Buckets"]
            .as_array()
            .unwrap()
            .iter()
            .any(|b| b["Name"] == "cli-test"),
        "{buckets:#}"
    );
}

#[test]
fn aws_cli_copies_200_mb_from_s3_to_s3_by_upload_part_copy() {
    let Some(cli) = aws_cli() else { return };
    let dir = TempDir::new("aws-big");
    let served = Served::start(&dir.path().join("data"), &[], &[]);
    let aws = Aws::new(cli, &served.endpoint);
    let big = dir.path().join("big.bin");
    random_file(&big, BIG, 8);
    let sum = md5(&big);

    aws.ok(&["s3", "mb", "s3://cli-big"]);
    aws.ok(&["s3", "cp", big.to_str().unwrap(), "s3://cli-big/big"]);
    fs::remove_file(&big).unwrap();
    // Above the CLI's 8 MB threshold: CreateMultipartUpload, UploadPartCopy per 8 MB, Complete.
    aws.ok(&["s3", "cp", "s3://cli-big/big", "s3://cli-big/copy"]);
    for key in ["big", "copy"] {
        let head = aws.json(&["s3api", "head-object", "--bucket", "cli-big", "--key", key]);
        assert_eq!(head["ContentLength"], BIG, "{head:#}");
    }
    let back = dir.path().join("copy.bin");
    aws.ok(&["s3", "cp", "s3://cli-big/copy", back.to_str().unwrap()]);
    assert_eq!(md5(&back), sum);
}

/// The executions whose name is `slug` (the file name without its extension), `-` and a hash.
fn runs_of(executions: &Value, slug: &str) -> Vec<Value> {
    executions["executions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| {
            e["name"]
                .as_str()
                .is_some_and(|n| n.strip_prefix(slug).is_some_and(|r| r.starts_with('-')))
        })
        .cloned()
        .collect()
}

#[test]
fn uploads_under_prompts_start_one_execution_each_whichever_client_uploads() {
    let (Some(cli), Some(s3cmd), Some(rclone)) =
        (aws_cli(), tool("s3cmd", "s3cmd"), tool("rclone", "rclone"))
    else {
        return;
    };
    let dir = TempDir::new("prompt-clients");
    let served = Served::start(&dir.path().join("data"), &[], &[]);
    let aws = Aws::new(cli, &served.endpoint);
    let s3cmd = S3cmd::new(s3cmd, &served.endpoint, dir.path());
    let rclone = Rclone::new(rclone, &served.endpoint, dir.path());

    // s3cmd put: ObjectCreated:Put.
    let file = dir.path().join("from-s3cmd.txt");
    write(&file, "a lighthouse at dusk");
    s3cmd.ok(&[
        "put",
        file.to_str().unwrap(),
        "s3://imagegen-local/prompts/from-s3cmd.txt",
    ]);

    // rclone, told to upload even a small file in parts: ObjectCreated:CompleteMultipartUpload.
    let file = dir.path().join("in-parts.txt");
    write(&file, "a harbour at dawn");
    rclone.ok(&[
        "copyto",
        "--s3-upload-cutoff",
        "0",
        file.to_str().unwrap(),
        "twin:imagegen-local/prompts/in-parts.txt",
    ]);

    // A copy from elsewhere in the bucket: ObjectCreated:Copy (the draft itself starts nothing).
    let file = dir.path().join("copied.txt");
    write(&file, "a red fox in snow");
    aws.ok(&[
        "s3",
        "cp",
        file.to_str().unwrap(),
        "s3://imagegen-local/drafts/copied.txt",
    ]);
    aws.ok(&[
        "s3",
        "cp",
        "s3://imagegen-local/drafts/copied.txt",
        "s3://imagegen-local/prompts/copied.txt",
    ]);

    // rclone again, the same bytes with another modification time: rclone only refreshes the
    // time, by a CopyObject of the object onto itself (metadata REPLACE). On AWS that is an
    // ObjectCreated:Copy like any other, with a new sequencer, so it starts a second run of the
    // same prompt; the twin does the same.
    let file = dir.path().join("refreshed.txt");
    write(&file, "a castle on a hill");
    rclone.ok(&[
        "copyto",
        file.to_str().unwrap(),
        "twin:imagegen-local/prompts/refreshed.txt",
    ]);
    fs::File::options()
        .write(true)
        .open(&file)
        .unwrap()
        .set_modified(SystemTime::UNIX_EPOCH + Duration::from_secs(1_600_000_000))
        .unwrap();
    let refreshed = rclone.ok(&[
        "copyto",
        "-v",
        file.to_str().unwrap(),
        "twin:imagegen-local/prompts/refreshed.txt",
    ]);
    assert!(
        refreshed.contains("Updated modification time in destination"),
        "rclone did not refresh the time in place:\n{refreshed}"
    );

    let expected = [
        ("from-s3cmd", 1),
        ("in-parts", 1),
        ("copied", 1),
        ("refreshed", 2),
    ];
    let total: usize = expected.iter().map(|(_, n)| n).sum();
    let done = |executions: &Value| {
        let all = executions["executions"].as_array().unwrap();
        all.len() >= total && all.iter().all(|e| e["status"] != "RUNNING")
    };
    let deadline = Instant::now() + RUN * 2;
    while !done(&list_executions(&aws, &[])) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(500));
    }
    // A moment more: a duplicate delivery would show up now.
    std::thread::sleep(Duration::from_secs(3));
    let executions = list_executions(&aws, &[]);
    for (slug, n) in expected {
        let runs = runs_of(&executions, slug);
        assert_eq!(runs.len(), n, "{slug}: {executions:#}");
        for run in runs {
            assert_eq!(run["status"], "SUCCEEDED", "{run:#}");
        }
    }
    assert_eq!(
        executions["executions"].as_array().unwrap().len(),
        total,
        "{executions:#}"
    );
    let printed = served.printed();
    for event in [
        "ObjectCreated:Put",
        "ObjectCreated:CompleteMultipartUpload",
        "ObjectCreated:Copy",
    ] {
        assert!(printed.contains(event), "no {event} in\n{printed}");
    }
}
