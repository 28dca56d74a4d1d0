//! The web console over plain HTTP (the browser test, `cli/tests/console/`, drives it in
//! Chromium): what it refuses (other hosts, POSTs without the token or from another origin), that
//! user text comes back escaped, the event stream of an execution, and that open streams end
//! cleanly when serve stops.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use super::harness::{Served, TempDir};

/// An answer: status, headers (names lower case), body (chunked bodies put together), and for a
/// chunked body whether it ended with its last chunk (rather than a dropped connection).
struct Answer {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
    complete: bool,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// One HTTP/1.1 request to `endpoint` (`Connection: close`), read to its end.
fn http(endpoint: &str, method: &str, path: &str, headers: &[(&str, &str)], body: &str) -> Answer {
    let host = endpoint.strip_prefix("http://").unwrap();
    let mut stream = TcpStream::connect(host).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    let mut head = format!("{method} {path} HTTP/1.1\r\nConnection: close\r\n");
    if !headers.iter().any(|(n, _)| n.eq_ignore_ascii_case("host")) {
        head.push_str(&format!("Host: {host}\r\n"));
    }
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str(&format!("Content-Length: {}\r\n\r\n{body}", body.len()));
    stream.write_all(head.as_bytes()).unwrap();
    let mut raw = Vec::new();
    let _ = stream.read_to_end(&mut raw);
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .unwrap();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let rest = &raw[split + 4..];
    let chunked = headers
        .iter()
        .any(|(n, v)| n == "transfer-encoding" && v.contains("chunked"));
    let (body, complete) = if chunked {
        dechunk(rest)
    } else {
        (rest.to_vec(), true)
    };
    Answer {
        status,
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
        complete,
    }
}

/// The chunks put together, and whether the last (empty) chunk came.
fn dechunk(mut body: &[u8]) -> (Vec<u8>, bool) {
    let mut out = Vec::new();
    loop {
        let Some(line_end) = body.windows(2).position(|w| w == b"\r\n") else {
            return (out, false);
        };
        let size_text = String::from_utf8_lossy(&body[..line_end]).into_owned();
        let Ok(size) = usize::from_str_radix(size_text.split(';').next().unwrap().trim(), 16)
        else {
            return (out, false);
        };
        body = &body[line_end + 2..];
        if size == 0 {
            return (out, true);
        }
        if body.len() < size + 2 {
            out.extend_from_slice(&body[..body.len().min(size)]);
            return (out, false);
        }
        out.extend_from_slice(&body[..size]);
        body = &body[size + 2..];
    }
}

/// A form body, percent-encoded.
pub(super) fn form(fields: &[(&str, &str)]) -> String {
    fields
        .iter()
        .map(|(n, v)| {
            format!(
                "{n}={}",
                percent_encoding::utf8_percent_encode(v, percent_encoding::NON_ALPHANUMERIC)
            )
        })
        .collect::<Vec<_>>()
        .join("&")
}

/// The token the console's pages carry.
fn token(endpoint: &str) -> String {
    let page = http(endpoint, "GET", "/console/start", &[], "");
    assert_eq!(page.status, 200);
    let at = page.body.find(r#"name="csrf-token" content=""#).unwrap() + 27;
    page.body[at..at + page.body[at..].find('"').unwrap()].to_owned()
}

fn execution_exists(served: &Served, name: &str) -> bool {
    served
        .data
        .join("executions")
        .join(format!("{name}.json"))
        .exists()
}

/// A forged start: execution name, request headers, extra form fields, why it is refused.
type Forged<'a> = (
    &'a str,
    Vec<(&'a str, &'a str)>,
    Vec<(&'a str, &'a str)>,
    &'a str,
);

const HOSTILE: &str = "<img src=x onerror=alert(1)>";
const SHOWN: &str = "&lt;img src=x onerror=alert(1)&gt;";

#[test]
fn the_console_refuses_forged_posts_and_strange_hosts() {
    let dir = TempDir::new("console-refusals");
    let served = Served::start(&dir.path().join("data"), &[], &[]);
    let endpoint = served.endpoint.as_str();
    let origin = endpoint;
    let token = token(endpoint);

    let list = http(endpoint, "GET", "/console/", &[], "");
    assert_eq!(list.status, 200);
    assert!(
        list.header("content-type")
            .unwrap()
            .starts_with("text/html")
    );
    let policy = list.header("content-security-policy").unwrap();
    assert!(policy.contains("script-src 'self'"), "{policy}");
    assert!(policy.contains("frame-ancestors 'none'"), "{policy}");

    // A name that could have been rebound to this machine (DNS rebinding): refused.
    let rebound = http(
        endpoint,
        "GET",
        "/console/",
        &[("Host", "evil.example:4566")],
        "",
    );
    assert_eq!(rebound.status, 403);
    assert!(rebound.body.contains("DNS rebinding"), "{}", rebound.body);

    let start = |headers: &[(&str, &str)], fields: &[(&str, &str)]| {
        let mut all = vec![("Content-Type", "application/x-www-form-urlencoded")];
        all.extend_from_slice(headers);
        http(endpoint, "POST", "/console/start", &all, &form(fields))
    };
    let input = r#"{"prompt":"a lighthouse at dusk"}"#;
    let cases: [Forged; 4] = [
        (
            "forged-1",
            vec![("Origin", origin)],
            vec![],
            "no console token",
        ),
        (
            "forged-2",
            vec![("Origin", origin)],
            vec![("csrf", "0123456789abcdef0123456789abcdef")],
            "not this server&#39;s",
        ),
        (
            "forged-3",
            vec![
                ("Origin", "http://evil.example"),
                ("Sec-Fetch-Site", "cross-site"),
            ],
            vec![("csrf", &token)],
            "another site",
        ),
        (
            "forged-4",
            // Refused by the endpoint's gate, before the console sees it.
            vec![("Origin", "null")],
            vec![("csrf", &token)],
            "another site",
        ),
    ];
    for (name, headers, extra, why) in cases {
        let mut fields = vec![("name", name), ("input", input)];
        fields.extend(extra);
        let answer = start(&headers, &fields);
        assert_eq!(answer.status, 403, "{name}: {}", answer.body);
        assert!(
            answer.body.contains(why),
            "{name}: {why} not in {}",
            answer.body
        );
        assert!(!execution_exists(&served, name), "{name} was started");
    }
    // A GET cannot change anything.
    let get = http(
        endpoint,
        "GET",
        &format!("/console/start?csrf={token}&name=by-get&input=%7B%7D"),
        &[],
        "",
    );
    assert_eq!(get.status, 200);
    assert!(!execution_exists(&served, "by-get"));
    // The upload needs the token too.
    let upload = http(
        endpoint,
        "POST",
        "/console/upload?name=x.txt",
        &[("Origin", origin)],
        "a cat",
    );
    assert_eq!(upload.status, 403, "{}", upload.body);
    assert!(
        !imagegen_local::s3::object_path(
            &served.data.join("s3"),
            "imagegen-local",
            "prompts/x.txt"
        )
        .exists()
    );

    // Not JSON: refused here too (the page's script is only a convenience), the text kept.
    let broken = start(
        &[("Origin", origin)],
        &[
            ("csrf", &token),
            ("name", "broken"),
            ("input", "{\"prompt\": <b>"),
        ],
    );
    assert_eq!(broken.status, 400);
    assert!(
        broken.body.contains("The input is not JSON"),
        "{}",
        broken.body
    );
    assert!(
        broken.body.contains("{&quot;prompt&quot;: &lt;b&gt;"),
        "{}",
        broken.body
    );
    assert!(!execution_exists(&served, "broken"));

    // The same request from the console's own page is taken.
    let ours = start(
        &[("Origin", origin), ("Sec-Fetch-Site", "same-origin")],
        &[("csrf", &token), ("name", "ours"), ("input", input)],
    );
    assert_eq!(ours.status, 303, "{}", ours.body);
    assert_eq!(ours.header("location"), Some("/console/executions/ours"));
    assert!(execution_exists(&served, "ours"));
}

#[test]
fn a_running_execution_is_stopped_from_its_page() {
    let dir = TempDir::new("console-stop-button");
    // Every model call takes a minute: the execution is surely running when it is stopped.
    let served = Served::start(
        &dir.path().join("data"),
        &["--fake-latency-ms", "60000"],
        &[],
    );
    let endpoint = served.endpoint.as_str();
    let token = token(endpoint);
    let post = |path: &str, fields: &[(&str, &str)]| {
        http(
            endpoint,
            "POST",
            path,
            &[
                ("Content-Type", "application/x-www-form-urlencoded"),
                ("Origin", endpoint),
            ],
            &form(fields),
        )
    };
    let started = post(
        "/console/start",
        &[
            ("csrf", &token),
            ("name", "slow"),
            ("input", r#"{"prompt":"a cat"}"#),
        ],
    );
    assert_eq!(started.status, 303, "{}", started.body);
    let page = http(endpoint, "GET", "/console/executions/slow", &[], "");
    assert!(page.body.contains("Stop execution"), "{}", page.body);
    assert!(page.body.contains(r#"data-live="true""#), "{}", page.body);

    let forged = post("/console/executions/slow/stop", &[]);
    assert_eq!(forged.status, 403);
    let stopped = post("/console/executions/slow/stop", &[("csrf", &token)]);
    assert_eq!(stopped.status, 303, "{}", stopped.body);
    let page = http(endpoint, "GET", "/console/executions/slow", &[], "");
    assert!(page.body.contains("ABORTED"), "{}", page.body);
    assert!(
        page.body.contains("stopped from the imagegen console"),
        "{}",
        page.body
    );
    assert!(!page.body.contains("Stop execution"), "{}", page.body);
}

#[test]
fn prompts_come_back_escaped_and_the_event_stream_tells_the_run() {
    let dir = TempDir::new("console-escape");
    let served = Served::start(&dir.path().join("data"), &[], &[]);
    let endpoint = served.endpoint.as_str();
    let token = token(endpoint);
    let input = serde_json::json!({ "prompt": HOSTILE }).to_string();
    let started = http(
        endpoint,
        "POST",
        "/console/start",
        &[
            ("Content-Type", "application/x-www-form-urlencoded"),
            ("Origin", endpoint),
        ],
        &form(&[("csrf", &token), ("name", "hostile"), ("input", &input)]),
    );
    assert_eq!(started.status, 303, "{}", started.body);

    // The stream from the start: every history event, then the end; then it closes.
    let stream = http(
        endpoint,
        "GET",
        "/console/executions/hostile/events",
        &[],
        "",
    );
    assert_eq!(stream.status, 200);
    assert!(
        stream
            .header("content-type")
            .unwrap()
            .starts_with("text/event-stream")
    );
    assert!(stream.complete, "{}", stream.body);
    assert!(stream.body.starts_with("retry: "), "{}", stream.body);
    assert!(
        stream.body.contains("id: 1\nevent: history\n"),
        "{}",
        stream.body
    );
    assert!(
        stream
            .body
            .contains(r#""changes":[{"state":"NotifySuccess","status":"succeeded"}]"#),
        "{}",
        stream.body
    );
    assert!(
        stream
            .body
            .ends_with("id: end\nevent: ended\ndata: {\"status\":\"SUCCEEDED\"}\n\n"),
        "{}",
        stream.body
    );
    // Resumed after the last event it had (as a reconnecting EventSource asks): only the end.
    let last = stream
        .body
        .lines()
        .filter_map(|l| l.strip_prefix("id: "))
        .rfind(|id| *id != "end")
        .unwrap();
    let resumed = http(
        endpoint,
        "GET",
        "/console/executions/hostile/events",
        &[("Last-Event-ID", last)],
        "",
    );
    assert!(!resumed.body.contains("event: history"), "{}", resumed.body);
    assert!(resumed.body.contains("event: ended"), "{}", resumed.body);

    for path in [
        "/console/executions/hostile",
        "/console/",
        "/console/outbox",
    ] {
        let page = http(endpoint, "GET", path, &[], "");
        assert_eq!(page.status, 200, "{path}");
        assert!(page.body.contains(SHOWN), "{path}: {}", page.body);
        assert!(!page.body.contains("<img src=x"), "{path}: {}", page.body);
    }
}

#[test]
fn open_event_streams_end_cleanly_when_serve_stops() {
    let dir = TempDir::new("console-stop");
    let mut served = Served::start(&dir.path().join("data"), &[], &[]);
    let host = served.endpoint.strip_prefix("http://").unwrap().to_owned();
    // The list's stream never ends by itself.
    let mut stream = TcpStream::connect(&host).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    write!(
        stream,
        "GET /console/events HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut raw = Vec::new();
    let mut buffer = [0u8; 4096];
    while !String::from_utf8_lossy(&raw).contains("retry: ") {
        let n = stream.read(&mut buffer).unwrap();
        assert!(n > 0, "the stream closed at once");
        raw.extend_from_slice(&buffer[..n]);
    }
    let status = served.interrupt(Duration::from_secs(30));
    assert!(status.success(), "{status:?}");
    let _ = stream.read_to_end(&mut raw);
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let (body, complete) = dechunk(&raw[split + 4..]);
    assert!(String::from_utf8_lossy(&body).starts_with("retry: "));
    // Ended with its last chunk, not cut off when the server gave up waiting for it.
    assert!(
        complete,
        "the stream was cut off: {:?}",
        String::from_utf8_lossy(&raw)
    );
}
