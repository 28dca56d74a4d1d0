//! The front doors under `serve`: the HTTP API through curl's SigV4 signing (as API Gateway's IAM
//! authorization checks it), and the queue through the AWS CLI's SQS commands.

use std::time::Duration;

use serde_json::Value;

use super::harness::{
    Aws, Served, TempDir, aws_cli, curl, curl_api, eventually, http_get, messages,
};
use super::{RUN, list_executions, wait_for_status};

const QUEUE: &str = "000000000000/imagegen-prompts";

#[test]
fn a_signed_post_then_a_waiting_get_returns_the_links() {
    let (Some(curl), Some(cli)) = (curl(), aws_cli()) else {
        return;
    };
    let dir = TempDir::new("api");
    let served = Served::start(&dir.path().join("data"), &[], &[]);
    let aws = Aws::new(cli, &served.endpoint);
    let signed = Some((aws.key.as_str(), aws.secret.as_str()));
    let post = |key: &str, body: &str| {
        curl_api(
            &curl,
            signed,
            &["-H", &format!("Idempotency-Key: {key}"), "-d", body],
            &format!("{}/generate-image", served.endpoint),
        )
    };

    let accepted = post("first-try", r#"{"prompt":"a lighthouse at dusk","seed":7}"#);
    assert_eq!(accepted.status, 202, "{accepted:?}");
    let started = accepted.json();
    let status_url = started["statusUrl"].as_str().unwrap().to_owned();
    let request_id = started["requestId"].as_str().unwrap();
    assert_eq!(
        status_url,
        format!("{}/images/{request_id}", served.endpoint)
    );
    assert_eq!(accepted.header("location"), Some(status_url.as_str()));

    // The same key again: the same request, nothing new started.
    let again = post("first-try", r#"{"prompt":"a lighthouse at dusk","seed":7}"#);
    assert_eq!(again.status, 202, "{again:?}");
    assert!(started["executionName"].is_string(), "{started:#}");
    assert_eq!(again.json()["executionName"], started["executionName"]);

    let waited = curl_api(&curl, signed, &[], &format!("{status_url}?wait=20"));
    assert_eq!(waited.status, 200, "{waited:?}");
    let status = waited.json();
    assert_eq!(status["status"], "succeeded", "{status:#}");
    let image = &status["images"][0];
    assert_eq!(
        (image["width"].as_u64(), image["height"].as_u64()),
        (Some(1024), Some(1024))
    );
    let (code, png) = http_get(image["url"].as_str().unwrap());
    assert_eq!(code, 200);
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"));
    assert_eq!(png.len() as u64, image["bytes"].as_u64().unwrap());
    let thumbnail = &image["thumbnails"][0];
    let (code, jpeg) = http_get(thumbnail["url"].as_str().unwrap());
    assert_eq!(code, 200);
    assert_eq!(jpeg.len() as u64, thumbnail["bytes"].as_u64().unwrap());

    let listed = list_executions(&aws, &[]);
    assert_eq!(
        listed["executions"].as_array().unwrap().len(),
        1,
        "{listed:#}"
    );

    // A bad request is refused with every problem, and starts nothing.
    let refused = post("second", r#"{"prompt":"","width":1000}"#);
    assert_eq!(refused.status, 400, "{refused:?}");
    assert_eq!(
        refused.json()["problems"].as_array().unwrap().len(),
        2,
        "{refused:?}"
    );
    let listed = list_executions(&aws, &[]);
    assert_eq!(listed["executions"].as_array().unwrap().len(), 1);
}

#[test]
fn unsigned_and_badly_signed_requests_are_refused_as_api_gateway_refuses_them() {
    let Some(curl) = curl() else { return };
    let dir = TempDir::new("api-refused");
    let served = Served::start(&dir.path().join("data"), &[], &[]);
    let url = format!("{}/generate-image", served.endpoint);
    let body = ["-d", r#"{"prompt":"a lighthouse"}"#];

    let unsigned = curl_api(&curl, None, &body, &url);
    assert_eq!(unsigned.status, 403, "{unsigned:?}");
    assert_eq!(unsigned.json()["message"], "Missing Authentication Token");
    assert_eq!(
        unsigned.header("x-amzn-errortype"),
        Some("MissingAuthenticationTokenException")
    );
    let unsigned_get = curl_api(
        &curl,
        None,
        &[],
        &format!("{}/images/anything", served.endpoint),
    );
    assert_eq!(unsigned_get.status, 403, "{unsigned_get:?}");

    let key = imagegen_local::config::ACCESS_KEY_ID;
    let wrong = curl_api(&curl, Some((key, "not-the-secret")), &body, &url);
    assert_eq!(wrong.status, 403, "{wrong:?}");
    assert_eq!(
        wrong.header("x-amzn-errortype"),
        Some("InvalidSignatureException")
    );

    // Signed, but a route the API does not have.
    let secret = imagegen_local::config::SECRET_ACCESS_KEY;
    let other = curl_api(
        &curl,
        Some((key, secret)),
        &[],
        &format!("{}/generate-image/x", served.endpoint),
    );
    assert_eq!(other.status, 403, "{other:?}");
    assert!(
        served.printed().lines().all(|l| !l.contains("started")),
        "{}",
        served.printed()
    );
}

#[test]
fn a_queued_message_runs_the_pipeline_and_a_bad_one_is_reported() {
    let Some(cli) = aws_cli() else { return };
    let dir = TempDir::new("sqs");
    let served = Served::start(&dir.path().join("data"), &[], &[]);
    let aws = Aws::new(cli, &served.endpoint);
    let url = aws.json(&["sqs", "get-queue-url", "--queue-name", "imagegen-prompts"])["QueueUrl"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(url, format!("{}/{QUEUE}", served.endpoint));

    let sent = aws.json(&[
        "sqs",
        "send-message",
        "--queue-url",
        &url,
        "--message-body",
        r#"{"prompt":"a lighthouse at dusk"}"#,
    ]);
    assert!(sent["MessageId"].is_string(), "{sent:#}");
    assert_eq!(
        sent["MD5OfMessageBody"], "e95ebb63d8934ce5fac35450f8795f33",
        "{sent:#}"
    );
    let bad = aws.json(&[
        "sqs",
        "send-message",
        "--queue-url",
        &url,
        "--message-body",
        "not json",
    ]);

    let execution = wait_for_status(&aws, "SUCCEEDED");
    let name = execution["name"].as_str().unwrap();
    assert!(name.starts_with("sqs-"), "{execution:#}");
    // Its request is not the HTTP API's to tell, even to the same signer: 404, as for no request.
    if let Some(curl) = curl() {
        let id = http_api::ids::request_id(name);
        let signed = Some((aws.key.as_str(), aws.secret.as_str()));
        let answer = curl_api(
            &curl,
            signed,
            &[],
            &format!("{}/images/{id}", served.endpoint),
        );
        assert_eq!(answer.status, 404, "{answer:?}");
    }
    let mail = eventually(RUN, "its email", || {
        let mail = messages(&served.data);
        (!mail.is_empty()).then_some(mail)
    });
    assert_eq!(mail.len(), 1, "{mail:#?}");
    assert_eq!(mail[0].attributes["status"], "SUCCEEDED");
    assert!(
        mail[0].body.contains("a lighthouse at dusk"),
        "{}",
        mail[0].body
    );

    // The bad message was reported, not deleted: in flight until its visibility timeout ends.
    let bad_id = bad["MessageId"].as_str().unwrap().to_owned();
    eventually(Duration::from_secs(30), "the bad message's report", || {
        served
            .stderr
            .lock()
            .unwrap()
            .iter()
            .any(|l| l.contains(&bad_id) && l.contains("not valid JSON"))
            .then_some(())
    });
    let attributes = aws.json(&[
        "sqs",
        "get-queue-attributes",
        "--queue-url",
        &url,
        "--attribute-names",
        "All",
    ])["Attributes"]
        .clone();
    assert_eq!(
        attributes["ApproximateNumberOfMessagesNotVisible"], "1",
        "{attributes:#}"
    );
    assert_eq!(
        attributes["ApproximateNumberOfMessages"], "0",
        "{attributes:#}"
    );
    let redrive: Value =
        serde_json::from_str(attributes["RedrivePolicy"].as_str().unwrap()).unwrap();
    assert_eq!(redrive["maxReceiveCount"], 3);
    assert!(
        redrive["deadLetterTargetArn"]
            .as_str()
            .unwrap()
            .ends_with(":imagegen-prompts-dlq")
    );
}

/// `imagegen aws ARGS` with these credentials and no configuration files of the machine's user.
fn imagegen_aws(args: &[&str], key: &str, secret: &str) -> std::process::Output {
    std::process::Command::new(super::harness::bin())
        .arg("aws")
        .args(args)
        .env("AWS_ACCESS_KEY_ID", key)
        .env("AWS_SECRET_ACCESS_KEY", secret)
        .env("AWS_REGION", imagegen_local::config::DEFAULT_REGION)
        .env("AWS_CONFIG_FILE", "/nonexistent/imagegen-test-config")
        .env(
            "AWS_SHARED_CREDENTIALS_FILE",
            "/nonexistent/imagegen-test-credentials",
        )
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_SESSION_TOKEN")
        .env_remove("IMAGEGEN_API_URL")
        .output()
        .unwrap()
}

#[test]
fn imagegen_aws_post_and_get_sign_their_requests() {
    let dir = TempDir::new("aws-post");
    let served = Served::start(&dir.path().join("data"), &[], &[]);
    let key = imagegen_local::config::ACCESS_KEY_ID;
    let secret = imagegen_local::config::SECRET_ACCESS_KEY;
    let posted = imagegen_aws(
        &[
            "post",
            "a lighthouse at dusk",
            "--seed",
            "7",
            "--api-url",
            &served.endpoint,
            "--idempotency-key",
            "cli-1",
            "--wait",
            "60",
        ],
        key,
        secret,
    );
    let printed = String::from_utf8_lossy(&posted.stdout);
    assert!(
        posted.status.success(),
        "{printed}\n{}",
        String::from_utf8_lossy(&posted.stderr)
    );
    // The 202 answer, then the final status with the links.
    let (first, last) = printed.split_once("}\n{").unwrap();
    let started: Value = serde_json::from_str(&format!("{first}}}")).unwrap();
    let done: Value = serde_json::from_str(&format!("{{{last}")).unwrap();
    assert_eq!(done["status"], "succeeded", "{printed}");
    assert!(
        done["images"][0]["url"]
            .as_str()
            .unwrap()
            .starts_with(&served.endpoint)
    );

    let request_id = started["requestId"].as_str().unwrap();
    let got = imagegen_aws(
        &["get", request_id, "--api-url", &served.endpoint],
        key,
        secret,
    );
    assert!(
        got.status.success(),
        "{}",
        String::from_utf8_lossy(&got.stderr)
    );
    let got: Value = serde_json::from_slice(&got.stdout).unwrap();
    assert_eq!(got["requestId"], started["requestId"]);

    let refused = imagegen_aws(
        &["get", request_id, "--api-url", &served.endpoint],
        key,
        "wrong",
    );
    assert_eq!(refused.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&refused.stdout).starts_with("HTTP 403"));
}

/// `aws sqs change-message-visibility` for the message `message` received from `queue`.
fn change_visibility<'a>(queue: &'a str, message: &'a Value, seconds: &'a str) -> [&'a str; 8] {
    [
        "sqs",
        "change-message-visibility",
        "--queue-url",
        queue,
        "--receipt-handle",
        message["ReceiptHandle"].as_str().unwrap(),
        "--visibility-timeout",
        seconds,
    ]
}

#[test]
fn the_aws_cli_speaks_sqs_to_the_dead_letter_queue() {
    // The dead-letter queue has no consumer, so what is sent stays for the CLI to receive.
    let Some(cli) = aws_cli() else { return };
    let dir = TempDir::new("sqs-cli");
    let served = Served::start(&dir.path().join("data"), &[], &[]);
    let aws = Aws::new(cli, &served.endpoint);
    let listed = aws.json(&["sqs", "list-queues"]);
    let urls: Vec<&str> = listed["QueueUrls"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u.as_str().unwrap())
        .collect();
    let dlq = format!("{}/000000000000/imagegen-prompts-dlq", served.endpoint);
    assert!(urls.contains(&dlq.as_str()), "{listed:#}");

    let batch = aws.json(&[
        "sqs",
        "send-message-batch",
        "--queue-url",
        &dlq,
        "--entries",
        r#"[{"Id":"a","MessageBody":"first"},{"Id":"b","MessageBody":"second"}]"#,
    ]);
    assert_eq!(
        batch["Successful"].as_array().unwrap().len(),
        2,
        "{batch:#}"
    );
    let duplicate_ids = aws.error(&[
        "sqs",
        "send-message-batch",
        "--queue-url",
        &dlq,
        "--entries",
        r#"[{"Id":"a","MessageBody":"x"},{"Id":"a","MessageBody":"y"}]"#,
    ]);
    assert!(
        duplicate_ids.contains("BatchEntryIdsNotDistinct"),
        "{duplicate_ids}"
    );

    let receive = || {
        aws.json(&[
            "sqs",
            "receive-message",
            "--queue-url",
            &dlq,
            "--max-number-of-messages",
            "10",
            "--attribute-names",
            "ApproximateReceiveCount",
            "--wait-time-seconds",
            "1",
        ])
    };
    let received = receive();
    let messages = received["Messages"].as_array().unwrap();
    let bodies: Vec<&str> = messages
        .iter()
        .map(|m| m["Body"].as_str().unwrap())
        .collect();
    assert_eq!(bodies, ["first", "second"]);
    assert_eq!(messages[0]["Attributes"]["ApproximateReceiveCount"], "1");
    let handle = |m: &Value| m["ReceiptHandle"].as_str().unwrap().to_owned();

    // Released at once, the first comes back with a new handle and a second receive.
    aws.ok(&change_visibility(&dlq, &messages[0], "0"));
    let again = receive();
    let again = again["Messages"].as_array().unwrap();
    assert_eq!(again.len(), 1, "{again:#?}");
    assert_eq!(again[0]["Body"], "first");
    assert_eq!(again[0]["Attributes"]["ApproximateReceiveCount"], "2");
    // The old handle names no message in flight any more.
    let stale = aws.error(&change_visibility(&dlq, &messages[0], "10"));
    assert!(stale.contains("MessageNotInflight"), "{stale}");

    // One batch deletes both; a handle the queue never made fails on its own.
    let entries = serde_json::json!([
        {"Id": "first", "ReceiptHandle": handle(&again[0])},
        {"Id": "second", "ReceiptHandle": handle(&messages[1])},
        {"Id": "bogus", "ReceiptHandle": "not-a-handle"},
    ]);
    let deleted = aws.json(&[
        "sqs",
        "delete-message-batch",
        "--queue-url",
        &dlq,
        "--entries",
        &entries.to_string(),
    ]);
    let ids = |list: &str| -> Vec<String> {
        deleted[list]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["Id"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(ids("Successful"), ["first", "second"], "{deleted:#}");
    assert_eq!(ids("Failed"), ["bogus"], "{deleted:#}");
    assert_eq!(deleted["Failed"][0]["Code"], "ReceiptHandleIsInvalid");
    let attributes = aws.json(&[
        "sqs",
        "get-queue-attributes",
        "--queue-url",
        &dlq,
        "--attribute-names",
        "ApproximateNumberOfMessages",
        "ApproximateNumberOfMessagesNotVisible",
    ]);
    assert_eq!(attributes["Attributes"]["ApproximateNumberOfMessages"], "0");
    assert_eq!(
        attributes["Attributes"]["ApproximateNumberOfMessagesNotVisible"],
        "0"
    );

    let missing = aws.error(&[
        "sqs",
        "send-message",
        "--queue-url",
        &format!("{}/000000000000/no-such-queue", served.endpoint),
        "--message-body",
        "x",
    ]);
    assert!(
        missing.contains("NonExistentQueue") || missing.contains("QueueDoesNotExist"),
        "{missing}"
    );
}
