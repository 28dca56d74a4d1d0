//! `imagegen rehearse` end to end: the fixture's cloud assembly (what `cdk synth` wrote) rehearsed
//! with `--native` (host builds of the functions, which `cargo test --workspace` has built next to
//! `imagegen`), each function its own process behind the local Lambda Runtime API, driven by the
//! AWS CLI as a person would drive the deployed stack.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use super::RUN;
use super::harness::{
    Aws, Served, TempDir, aws_cli, curl, curl_api, eventually, imagegen, messages,
};
use serde_json::Value;

/// The assembly `cli/rehearse`'s tests read (see its README for how it was made).
pub(super) fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("rehearse/tests/fixtures/cdk.out")
}

/// `imagegen rehearse` of `assembly` on `data`, with `more` arguments.
pub(super) fn rehearse(data: &Path, assembly: &Path, more: &[&str]) -> Served {
    let mut args = vec![
        "rehearse",
        "--listen",
        "127.0.0.1:0",
        "--assembly",
        assembly.to_str().unwrap(),
    ];
    args.extend_from_slice(more);
    Served::command(data, &[], &args)
}

/// The twin's CA certificate, which the AWS CLI must trust (the banner's `AWS_CA_BUNDLE`).
pub(super) fn ca_bundle(served: &Served) -> PathBuf {
    eventually(RUN, "the CA bundle", || {
        served.printed().lines().find_map(|l| {
            let value = l.trim().strip_prefix("export AWS_CA_BUNDLE=")?;
            Some(PathBuf::from(value.split_whitespace().next()?))
        })
    })
}

/// An output of the stack as the banner prints it (`Imagegen.BucketName = ...`).
pub(super) fn output(served: &Served, name: &str) -> String {
    let prefix = format!("Imagegen.{name} = ");
    // The banner's lines may still be arriving after `Listening on`.
    eventually(RUN, &format!("the {name} output"), || {
        served
            .printed()
            .lines()
            .find_map(|l| l.strip_prefix(&prefix).map(str::to_owned))
    })
}

/// The executions of `machine` once one has ended with `status` and `count` exist in all.
pub(super) fn ended(aws: &Aws, machine: &str, status: &str, count: usize) -> Vec<Value> {
    eventually(RUN, &format!("{count} execution(s), one {status}"), || {
        let listed = aws.json(&[
            "stepfunctions",
            "list-executions",
            "--state-machine-arn",
            machine,
        ]);
        let all = listed["executions"].as_array()?.clone();
        (all.len() == count
            && all.iter().all(|e| e["status"] != "RUNNING")
            && all.iter().any(|e| e["status"] == status))
        .then_some(all)
    })
}

/// Every link of a success email to the endpoint (presigned by NotifyUser's role, over HTTPS)
/// opens: 200 with an image's bytes. There is at least the image and one thumbnail.
fn links_open(curl: &Path, served: &Served, body: &str) {
    let links: Vec<&str> = body
        .split_whitespace()
        .filter(|w| w.starts_with(&served.endpoint))
        .collect();
    assert!(links.len() >= 2, "fewer than two links in\n{body}");
    let bundle = ca_bundle(served);
    for link in links {
        let out = std::process::Command::new(curl)
            .args(["-s", "--max-time", "30", "--cacert"])
            .arg(&bundle)
            .args(["-w", "\n%{http_code}", link])
            .output()
            .unwrap();
        let (bytes, status) = out
            .stdout
            .split_at(out.stdout.iter().rposition(|b| *b == b'\n').unwrap());
        assert_eq!(
            &status[1..],
            b"200",
            "{link}: {}",
            String::from_utf8_lossy(bytes)
        );
        let image = [&b"\x89PNG"[..], b"\xff\xd8\xff", b"RIFF"]
            .iter()
            .any(|magic| bytes.starts_with(magic));
        assert!(
            image,
            "{link} is not an image: {:?}",
            &bytes[..bytes.len().min(64)]
        );
    }
}

/// The model pools GenerateImage called in the executions of `machine` (its results' `pool`; none
/// for the Bedrock Region of a stack without pools), read from the execution histories.
fn pools_called(aws: &Aws, machine: &str) -> BTreeSet<String> {
    let listed = aws.json(&[
        "stepfunctions",
        "list-executions",
        "--state-machine-arn",
        machine,
    ]);
    let mut pools = BTreeSet::new();
    for execution in listed["executions"].as_array().unwrap() {
        let arn = execution["executionArn"].as_str().unwrap();
        let history = aws.json(&[
            "stepfunctions",
            "get-execution-history",
            "--execution-arn",
            arn,
        ]);
        for event in history["events"].as_array().unwrap() {
            let outputs = event
                .as_object()
                .unwrap()
                .values()
                .filter_map(|details| details.get("output")?.as_str());
            for output in outputs {
                let Ok(result) = serde_json::from_str::<Value>(output) else {
                    continue;
                };
                if result.get("modelId").is_some()
                    && let Some(pool) = result.get("pool").and_then(Value::as_str)
                {
                    pools.insert(pool.to_owned());
                }
            }
        }
    }
    pools
}

/// An upload, a console-style StartExecution, a queued message and a signed POST to the HTTP API
/// each end SUCCEEDED with one email; a blank prompt ends in the failure email; each function ran
/// as its own process. Returns the model pools the executions called (none without the AWS CLI).
fn runs_the_pipeline(dir: &TempDir, served: &Served) -> Option<BTreeSet<String>> {
    let cli = aws_cli()?;
    let data = &served.data;
    let bucket = output(served, "BucketName");
    let machine = output(served, "StateMachineArn");
    // What is rehearsed and what is not, before it listens (read once the banner's outputs, its
    // last lines, are in: the harness reads the output as it arrives).
    let printed = served.printed();
    assert!(
        printed.contains("1 AWS::StepFunctions::StateMachine"),
        "{printed}"
    );
    assert!(
        printed.contains("not rehearsed: CDKMetadata (AWS::CDK::Metadata)"),
        "{printed}"
    );
    assert_eq!(output(served, "ApiUrl"), format!("{}/", served.endpoint));
    let aws = Aws::new(cli, &served.endpoint).with_ca_bundle(&ca_bundle(served));

    let prompt = dir.path().join("lighthouse.txt");
    std::fs::write(&prompt, "a lighthouse at dusk").unwrap();
    aws.ok(&[
        "s3",
        "cp",
        prompt.to_str().unwrap(),
        &format!("s3://{bucket}/prompts/"),
    ]);
    let first = ended(&aws, &machine, "SUCCEEDED", 1);
    assert_eq!(first[0]["status"], "SUCCEEDED", "{first:#?}");

    aws.ok(&[
        "stepfunctions",
        "start-execution",
        "--state-machine-arn",
        &machine,
        "--input",
        r#"{"prompt":"a cat on a windowsill","seed":7}"#,
    ]);
    let both = ended(&aws, &machine, "SUCCEEDED", 2);
    assert!(both.iter().all(|e| e["status"] == "SUCCEEDED"), "{both:#?}");
    let mail = eventually(RUN, "two emails", || {
        let mail = messages(data);
        (mail.len() >= 2).then_some(mail)
    });
    assert_eq!(mail.len(), 2, "{mail:#?}");

    // The queue: one message, one execution (the queue consumer's role starts it).
    let queue = output(served, "PromptQueueUrl");
    aws.ok(&[
        "sqs",
        "send-message",
        "--queue-url",
        &queue,
        "--message-body",
        r#"{"prompt":"a fox in the snow"}"#,
    ]);
    ended(&aws, &machine, "SUCCEEDED", 3);

    // The HTTP API: a signed POST, then a GET that waits for the result.
    if let Some(curl) = curl() {
        let bundle = ca_bundle(served);
        let cacert = ["--cacert", bundle.to_str().unwrap()];
        let signed = Some((aws.key.as_str(), aws.secret.as_str()));
        let mut args = cacert.to_vec();
        args.extend([
            "-H",
            "Idempotency-Key: rehearsal",
            "-d",
            r#"{"prompt":"a heron"}"#,
        ]);
        let url = format!("{}/generate-image", served.endpoint);
        let accepted = curl_api(&curl, signed, &args, &url);
        assert_eq!(accepted.status, 202, "{accepted:?}");
        let status_url = accepted.json()["statusUrl"].as_str().unwrap().to_owned();
        let waited = curl_api(&curl, signed, &cacert, &format!("{status_url}?wait=20"));
        assert_eq!(waited.status, 200, "{waited:?}");
        assert_eq!(waited.json()["status"], "succeeded", "{waited:?}");
    }
    let done = ended(&aws, &machine, "SUCCEEDED", 4);
    assert!(done.iter().all(|e| e["status"] == "SUCCEEDED"), "{done:#?}");
    let mail = eventually(RUN, "four emails", || {
        let mail = messages(data);
        (mail.len() >= 4).then_some(mail)
    });
    assert_eq!(mail.len(), 4, "{mail:#?}");
    if let Some(curl) = curl() {
        for m in &mail {
            links_open(&curl, served, &m.body);
        }
    }

    // Each function ran as its own process, logging to its own file.
    let logs: Vec<String> = std::fs::read_dir(data.join("logs"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        logs.iter().any(|l| l.contains("ValidatePrompt")),
        "{logs:?}"
    );
    assert!(logs.iter().any(|l| l.contains("GenerateImage")), "{logs:?}");

    // A blank prompt ends in the failure email.
    let blank = dir.path().join("blank.txt");
    std::fs::write(&blank, "   ").unwrap();
    aws.ok(&[
        "s3",
        "cp",
        blank.to_str().unwrap(),
        &format!("s3://{bucket}/prompts/"),
    ]);
    let all = ended(&aws, &machine, "FAILED", 5);
    assert_eq!(
        all.iter().filter(|e| e["status"] == "FAILED").count(),
        1,
        "{all:#?}"
    );
    eventually(RUN, "the failure email", || {
        (messages(data).len() == 5).then_some(())
    });
    Some(pools_called(&aws, &machine))
}

#[test]
fn the_fixture_s_pipeline_runs_with_host_builds_of_its_functions() {
    let dir = TempDir::new("rehearse");
    // The functions' host builds are next to the `imagegen` that cargo built (the harness runs a
    // copy of it from elsewhere).
    let built = Path::new(env!("CARGO_BIN_EXE_imagegen")).parent().unwrap();
    let served = rehearse(
        &dir.path().join("data"),
        &fixture(),
        &["--native", built.to_str().unwrap()],
    );
    // The fixture's two pools (its README): the model in us-east-1, and the inference profile
    // called from the Bedrock Region; each execution took the earliest slot across them, so both
    // were called, each allowed by GenerateImage's role as the template grants it.
    if let Some(pools) = runs_the_pipeline(&dir, &served) {
        assert_eq!(
            pools,
            BTreeSet::from([
                "us-east-1".to_owned(),
                "us.stability.stable-image-core-v1:1".to_owned()
            ])
        );
    }
}

/// The assembly the test command synthesizes (`IMAGEGEN_ASSEMBLY`, with the arm64 zips of
/// `scripts/build-lambdas.sh` as the functions' code), each function its deployed bootstrap, under
/// qemu-user on x86_64. `scripts/test.sh` runs it after the synth.
#[test]
#[ignore = "needs a synthesized assembly with the arm64 bootstraps: scripts/test.sh runs it after `cdk synth`"]
fn the_synthesized_assembly_runs_its_deployed_bootstraps() {
    let assembly = std::env::var_os("IMAGEGEN_ASSEMBLY")
        .map(PathBuf::from)
        .expect("IMAGEGEN_ASSEMBLY names the assembly to rehearse (cdk/cdk.out)");
    let dir = TempDir::new("rehearse-arm64");
    let served = rehearse(&dir.path().join("data"), &assembly, &[]);
    // The test command's synth has no pools: every call in the Bedrock Region.
    if let Some(pools) = runs_the_pipeline(&dir, &served) {
        assert!(pools.is_empty(), "{pools:?}");
    }
}

#[test]
fn a_missing_assembly_is_one_sentence_and_exit_status_2() {
    let dir = TempDir::new("rehearse-missing");
    let out = imagegen(
        &dir.path().join("data"),
        &[
            "rehearse",
            "--listen",
            "127.0.0.1:0",
            "--assembly",
            "/nonexistent/cdk.out",
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("/nonexistent/cdk.out"), "{stderr}");
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
}
