//! A misconfigured function still starts the Lambda runtime and answers each invocation with
//! `ConfigError` naming the setting (so the pipeline's Catch sends the failure email), instead of
//! exiting before the runtime starts (which Lambda reports as an init failure).
//!
//! The real `notify-user` binary runs against a small fake of the Lambda Runtime API on loopback.
#![allow(clippy::expect_used)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, mpsc};
use std::time::Duration;

use serde_json::Value;

/// One request as the runtime client sends it.
struct Request {
    method: String,
    path: String,
    body: Vec<u8>,
}

fn read_request(reader: &mut BufReader<TcpStream>) -> Option<Request> {
    let mut line = String::new();
    if reader.read_line(&mut line).ok()? == 0 {
        return None;
    }
    let mut parts = line.split_whitespace();
    let method = parts.next()?.to_owned();
    let path = parts.next()?.to_owned();
    let mut length = 0usize;
    loop {
        let mut header = String::new();
        reader.read_line(&mut header).ok()?;
        let header = header.trim_end();
        if header.is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':')
            && name.eq_ignore_ascii_case("content-length")
        {
            length = value.trim().parse().ok()?;
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    Some(Request { method, path, body })
}

fn respond(stream: &mut TcpStream, status: &str, headers: &[(&str, &str)], body: &[u8]) {
    let mut head = format!("HTTP/1.1 {status}\r\ncontent-length: {}\r\n", body.len());
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    let _ = stream.write_all(head.as_bytes());
    let _ = stream.write_all(body);
}

/// Serves one invocation, then reports what the function answered to it (path and body). Each
/// connection is served on its own thread, as the real Runtime API does: the client may send its
/// answer on a new connection while the one that fetched the invocation is still open.
fn fake_runtime_api(listener: TcpListener, answers: mpsc::Sender<(String, Value)>) {
    let invoked = Arc::new(AtomicBool::new(false));
    for stream in listener.incoming() {
        let Ok(stream) = stream else { return };
        let invoked = Arc::clone(&invoked);
        let answers = answers.clone();
        std::thread::spawn(move || serve_connection(stream, &invoked, &answers));
    }
}

fn serve_connection(
    stream: TcpStream,
    invoked: &AtomicBool,
    answers: &mpsc::Sender<(String, Value)>,
) {
    let mut writer = stream.try_clone().expect("clone the connection");
    let mut reader = BufReader::new(stream);
    while let Some(request) = read_request(&mut reader) {
        if request.method == "GET" && request.path.ends_with("/invocation/next") {
            if invoked.swap(true, Ordering::SeqCst) {
                // Hold the second poll until the test kills the process.
                std::thread::sleep(Duration::from_secs(30));
                return;
            }
            let deadline = "9999999999999";
            respond(
                &mut writer,
                "200 OK",
                &[
                    ("content-type", "application/json"),
                    ("lambda-runtime-aws-request-id", "req-1"),
                    ("lambda-runtime-deadline-ms", deadline),
                    (
                        "lambda-runtime-invoked-function-arn",
                        "arn:aws:lambda:us-east-1:000000000000:function:notify-user",
                    ),
                ],
                br#"{"status":"SUCCEEDED"}"#,
            );
        } else {
            let body = serde_json::from_slice(&request.body).unwrap_or(Value::Null);
            respond(&mut writer, "202 Accepted", &[], b"{}");
            let _ = answers.send((request.path, body));
        }
    }
}

#[test]
fn a_missing_setting_answers_every_invocation_with_config_error() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
    let address = listener.local_addr().expect("address").to_string();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || fake_runtime_api(listener, tx));

    let mut child = Command::new(env!("CARGO_BIN_EXE_notify-user"))
        .env_clear()
        .env("AWS_LAMBDA_RUNTIME_API", &address)
        .env("AWS_LAMBDA_FUNCTION_NAME", "notify-user")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("AWS_REGION", "us-east-1")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start notify-user");
    let answer = rx.recv_timeout(Duration::from_secs(60));
    let _ = child.kill();
    let _ = child.wait();

    let (path, body) = answer.expect("the function answered the invocation");
    assert_eq!(path, "/2018-06-01/runtime/invocation/req-1/error");
    assert_eq!(body["errorType"], "ConfigError", "{body}");
    let message = body["errorMessage"].as_str().unwrap_or_default();
    assert!(message.contains("TOPIC_ARN is not set"), "{message}");
}
