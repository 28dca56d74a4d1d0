//! What the endpoint refuses, and how: wrong keys and signatures with each protocol's own error
//! code, keys that would leave the bucket's directory, bodies over the limits, unsigned requests.

use std::io::{Read, Write};
use std::net::TcpStream;

use super::MACHINE;
use super::harness::{Aws, Served, TempDir, aws_cli, sdk_s3, sdk_sfn};

#[test]
fn wrong_credentials_get_each_services_error() {
    let Some(cli) = aws_cli() else { return };
    let dir = TempDir::new("refused");
    let served = Served::start(&dir.path().join("data"), &[], &[]);
    let aws = Aws::new(cli, &served.endpoint);
    let wrong_secret = aws.with_credentials(&aws.key, "not-the-secret");
    let wrong_key = aws.with_credentials("AKIDNOTLOCAL", &aws.secret);
    let cases: [(&Aws, &[&str], &str); 6] = [
        (
            &wrong_secret,
            &["s3", "ls", "s3://imagegen-local/"],
            "SignatureDoesNotMatch",
        ),
        (
            &wrong_key,
            &["s3", "ls", "s3://imagegen-local/"],
            "InvalidAccessKeyId",
        ),
        (
            &wrong_secret,
            &["stepfunctions", "list-state-machines"],
            "InvalidSignatureException",
        ),
        (
            &wrong_key,
            &["stepfunctions", "list-state-machines"],
            "UnrecognizedClientException",
        ),
        (
            &wrong_secret,
            &["sns", "list-topics"],
            "SignatureDoesNotMatch",
        ),
        (&wrong_key, &["sns", "list-topics"], "InvalidClientTokenId"),
    ];
    for (client, args, code) in cases {
        let stderr = client.error(args);
        assert!(
            stderr.contains(code),
            "aws {args:?}: expected {code} in\n{stderr}"
        );
    }
    // Nothing was started or stored by the refused requests; the right key still works.
    let listed = aws.json(&["s3", "ls", "s3://imagegen-local/", "--recursive"]);
    assert!(listed.is_null(), "{listed}");
}

#[tokio::test]
async fn hostile_keys_stay_inside_and_oversized_bodies_are_refused_with_aws_errors() {
    let dir = TempDir::new("hostile");
    let data = dir.path().join("data");
    let served = Served::start(&data, &[], &[]);
    let s3 = sdk_s3(&served.endpoint);
    // Keys that would be paths out of place on a file system are only keys to S3: they are
    // stored (inside the bucket's directory) and read back, never written elsewhere.
    for key in [
        "../../outside.txt",
        "prompts/../../../outside.txt",
        "a/./b.txt",
    ] {
        s3.put_object()
            .bucket("imagegen-local")
            .key(key)
            .body(b"x".to_vec().into())
            .send()
            .await
            .unwrap_or_else(|e| panic!("{key}: {e:?}"));
        let got = s3
            .get_object()
            .bucket("imagegen-local")
            .key(key)
            .send()
            .await
            .unwrap_or_else(|e| panic!("{key}: {e:?}"));
        assert_eq!(
            got.body.collect().await.unwrap().into_bytes().as_ref(),
            b"x"
        );
    }
    assert!(!dir.path().join("outside.txt").exists());
    assert!(!data.join("outside.txt").exists());

    // Step Functions input over 256 KiB: InvalidExecutionInput, as the service says.
    let sfn = sdk_sfn(&served.endpoint);
    let big = format!("{{\"prompt\": \"{}\"}}", "x".repeat(300 * 1024));
    let err = sfn
        .start_execution()
        .state_machine_arn(MACHINE)
        .input(big)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_invalid_execution_input(), "{err:?}");

    // A JSON body over the endpoint's 1 MiB: 413 before it is read, in the JSON error shape.
    let (status, body) = raw_post(
        &served.endpoint,
        &[
            ("X-Amz-Target", "AWSStepFunctions.StartExecution"),
            ("Content-Type", "application/x-amz-json-1.0"),
            (
                "Authorization",
                "AWS4-HMAC-SHA256 Credential=IMAGEGENLOCALKEY/20240101/us-east-1/states/aws4_request, SignedHeaders=host, Signature=00",
            ),
        ],
        2 << 20,
    );
    assert_eq!(status, 413, "{body}");
    assert!(body.contains("RequestEntityTooLarge"), "{body}");

    // Unsigned: refused in the protocol the request speaks.
    let (status, body) = raw_post(
        &served.endpoint,
        &[
            ("X-Amz-Target", "AWSStepFunctions.ListStateMachines"),
            ("Content-Type", "application/x-amz-json-1.0"),
        ],
        2,
    );
    assert_eq!(status, 400, "{body}");
    assert!(
        body.contains("MissingAuthenticationTokenException"),
        "{body}"
    );
    let (status, body) = super::harness::http_get(&format!("{}/imagegen-local/", served.endpoint));
    assert_eq!(status, 403);
    assert!(String::from_utf8_lossy(&body).contains("AccessDenied"));
}

/// POST `/` with `headers` and `Content-Length: length` (a body of spaces in braces); (status,
/// response text).
fn raw_post(endpoint: &str, headers: &[(&str, &str)], length: usize) -> (u16, String) {
    let host = endpoint.strip_prefix("http://").unwrap();
    let mut stream = TcpStream::connect(host).unwrap();
    let mut head = format!(
        "POST / HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\nContent-Length: {length}\r\n"
    );
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).unwrap();
    // A body over the limit is never sent: the server answers from Content-Length alone (and a
    // client still writing when it closes could lose the answer to a reset).
    if length <= 64 * 1024 {
        let mut body = vec![b' '; length];
        if length >= 2 {
            body[0] = b'{';
            body[length - 1] = b'}';
        }
        stream.write_all(&body).unwrap();
    }
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(30)))
        .unwrap();
    let mut response = Vec::new();
    let _ = stream.read_to_end(&mut response);
    let text = String::from_utf8_lossy(&response).into_owned();
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, text)
}
