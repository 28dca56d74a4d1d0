//! What keeps the endpoint to its own user (issue 22, items 9 to 12): a `Host` that is not the
//! bound address (DNS rebinding) and pages of other sites are refused by every service, each in
//! its own error shape; query-string signatures only for S3; signatures must cover `host` in the
//! local Region; beyond loopback only with `--allow-remote`, and then with a secret key and a
//! console login; a private data directory.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use aws_sdk_s3::presigning::PresigningConfig;
use aws_sdk_s3::primitives::ByteStream;
use imagegen_local::config::{ACCESS_KEY_ID, DEFAULT_REGION, SECRET_ACCESS_KEY};
use imagegen_local::server::sigv4::{self, Placement, Scope, Signature};

use super::harness::{Aws, Served, TempDir, aws_cli, curl, curl_api, eventually, imagegen, sdk_s3};

/// An answer: status and body as text (chunk markers left in).
#[derive(Debug)]
struct Answer {
    status: u16,
    body: String,
}

/// One HTTP/1.1 request to `endpoint` with exactly `headers` (no Host added), read to its end.
fn raw(
    endpoint: &str,
    method: &str,
    target: &str,
    headers: &[(String, String)],
    body: &str,
) -> Answer {
    let address = endpoint.strip_prefix("http://").unwrap();
    let mut stream = TcpStream::connect(address).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    let mut head = format!("{method} {target} HTTP/1.1\r\nConnection: close\r\n");
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str(&format!("Content-Length: {}\r\n\r\n{body}", body.len()));
    stream.write_all(head.as_bytes()).unwrap();
    let mut bytes = Vec::new();
    let _ = stream.read_to_end(&mut bytes);
    let text = String::from_utf8_lossy(&bytes).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .lines()
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status line in {text}"));
    Answer {
        status,
        body: body.to_owned(),
    }
}

/// A request signed here, so that what it signs can be chosen: `signed` names the signed headers
/// (for a query signature, the `X-Amz-*` fields go into the query).
struct Signing<'a> {
    method: &'a str,
    path: &'a str,
    /// Without the signature's own fields.
    query: &'a str,
    /// Besides Host (always sent, the endpoint's) and X-Amz-Date (sent for header signatures).
    headers: &'a [(&'a str, &'a str)],
    body: &'a str,
    /// The payload hash signed (`None`: the body's SHA-256).
    payload: Option<&'a str>,
    service: &'a str,
    region: &'a str,
    signed: &'a [&'a str],
    in_query: bool,
}

impl Signing<'_> {
    fn send(&self, endpoint: &str) -> Answer {
        let host = endpoint.strip_prefix("http://").unwrap();
        let amz_date = chrono::Utc::now().format("%Y%m%dT%H%M%SZ").to_string();
        let scope = Scope {
            access_key: ACCESS_KEY_ID.to_owned(),
            date: amz_date[..8].to_owned(),
            region: self.region.to_owned(),
            service: self.service.to_owned(),
        };
        let mut headers = vec![("host".to_owned(), host.to_owned())];
        if !self.in_query {
            headers.push(("x-amz-date".to_owned(), amz_date.clone()));
        }
        for (n, v) in self.headers {
            headers.push(((*n).to_owned(), (*v).to_owned()));
        }
        let mut query = self.query.to_owned();
        if self.in_query {
            let credential = format!(
                "{ACCESS_KEY_ID}/{}/{}/{}/aws4_request",
                scope.date, scope.region, scope.service
            );
            let fields = format!(
                "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential={}&X-Amz-Date={amz_date}\
                 &X-Amz-Expires=300&X-Amz-SignedHeaders={}",
                sigv4::uri_encode(&credential, false),
                self.signed.join("%3B")
            );
            query = if query.is_empty() {
                fields
            } else {
                format!("{query}&{fields}")
            };
        }
        let body_hash = sigv4::sha256_hex(self.body.as_bytes());
        let payload = self.payload.unwrap_or(&body_hash);
        let signature = Signature {
            scope,
            amz_date: amz_date.clone(),
            signed_headers: self.signed.iter().map(|h| (*h).to_owned()).collect(),
            signature: String::new(),
            placement: if self.in_query {
                Placement::Query {
                    expires_seconds: 300,
                }
            } else {
                Placement::Header
            },
        };
        let request = sigv4::Request {
            method: self.method,
            path: self.path,
            query: (!query.is_empty()).then_some(query.as_str()),
            headers: &headers,
            payload_hash: payload,
        };
        let canonical = sigv4::canonical_request(&request, &signature);
        let signed = sigv4::sign(SECRET_ACCESS_KEY, &signature, &canonical);
        if self.in_query {
            query = format!("{query}&X-Amz-Signature={signed}");
        } else {
            headers.push((
                "authorization".to_owned(),
                format!(
                    "AWS4-HMAC-SHA256 Credential={ACCESS_KEY_ID}/{}, SignedHeaders={}, Signature={signed}",
                    [
                        signature.scope.date.as_str(),
                        self.region,
                        self.service,
                        "aws4_request"
                    ]
                    .join("/"),
                    self.signed.join(";")
                ),
            ));
        }
        let target = if query.is_empty() {
            self.path.to_owned()
        } else {
            format!("{}?{query}", self.path)
        };
        raw(endpoint, self.method, &target, &headers, self.body)
    }
}

const LIST_MACHINES: Signing<'static> = Signing {
    method: "POST",
    path: "/",
    query: "",
    headers: &[
        ("content-type", "application/x-amz-json-1.0"),
        ("x-amz-target", "AWSStepFunctions.ListStateMachines"),
    ],
    body: "{}",
    payload: None,
    service: "states",
    region: DEFAULT_REGION,
    signed: &["content-type", "host", "x-amz-date", "x-amz-target"],
    in_query: false,
};

const EMPTY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

const LIST_BUCKET: Signing<'static> = Signing {
    method: "GET",
    path: "/imagegen-local/",
    query: "list-type=2",
    headers: &[("x-amz-content-sha256", EMPTY_SHA256)],
    body: "",
    payload: Some(EMPTY_SHA256),
    service: "s3",
    region: DEFAULT_REGION,
    signed: &["host", "x-amz-content-sha256", "x-amz-date"],
    in_query: false,
};

fn json_type(answer: &Answer) -> String {
    serde_json::from_str::<serde_json::Value>(&answer.body).unwrap_or_default()["__type"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

#[test]
fn a_foreign_host_or_another_sites_page_is_refused_by_every_service() {
    let Some(curl) = curl() else { return };
    let dir = TempDir::new("gate");
    let served = Served::start(&dir.path().join("data"), &[], &[]);
    let endpoint = served.endpoint.as_str();
    let port = endpoint.rsplit(':').next().unwrap();
    let rebound = format!("Host: attacker.example:{port}");
    let user = format!("{ACCESS_KEY_ID}:{SECRET_ACCESS_KEY}");
    let signed = |service: &str, extra: &[&str], url: &str| {
        let mut args = vec![
            "-s".to_owned(),
            "-i".to_owned(),
            "--aws-sigv4".to_owned(),
            format!("aws:amz:{DEFAULT_REGION}:{service}"),
            "--user".to_owned(),
            user.clone(),
        ];
        args.extend(extra.iter().map(|a| (*a).to_owned()));
        args.push(url.to_owned());
        let out = std::process::Command::new(&curl)
            .args(&args)
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).replace("\r\n", "\n")
    };
    let status = |text: &str| -> u16 {
        text.lines()
            .next()
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("no status line in {text}"))
    };
    let sfn = |extra: &[&str]| {
        let mut all = vec![
            "-H",
            "Content-Type: application/x-amz-json-1.0",
            "-H",
            "X-Amz-Target: AWSStepFunctions.ListStateMachines",
            "-d",
            "{}",
        ];
        all.extend_from_slice(extra);
        signed("states", &all, &format!("{endpoint}/"))
    };
    let sns = |extra: &[&str]| {
        let mut all = vec!["-d", "Action=ListTopics&Version=2010-03-31"];
        all.extend_from_slice(extra);
        signed("sns", &all, &format!("{endpoint}/"))
    };
    let s3 = |extra: &[&str]| {
        signed(
            "s3",
            extra,
            &format!("{endpoint}/imagegen-local/?list-type=2"),
        )
    };
    let api = |extra: &[&str]| {
        signed(
            "execute-api",
            extra,
            &format!("{endpoint}/images/r-unknown"),
        )
    };

    // The same requests addressed to the endpoint itself are answered.
    assert_eq!(status(&sfn(&[])), 200, "{}", sfn(&[]));
    assert_eq!(status(&sns(&[])), 200, "{}", sns(&[]));
    assert_eq!(status(&api(&[])), 404, "{}", api(&[]));

    // Addressed to a name that could have been rebound to this machine: each protocol's refusal.
    let foreign = ["-H", rebound.as_str()];
    let answer = sfn(&foreign);
    assert_eq!(status(&answer), 403, "{answer}");
    assert!(
        answer.contains("AccessDeniedException") && answer.contains("DNS rebinding"),
        "{answer}"
    );
    let answer = sns(&foreign);
    assert_eq!(status(&answer), 403, "{answer}");
    assert!(answer.contains("<Code>AccessDenied</Code>"), "{answer}");
    let answer = s3(&foreign);
    assert_eq!(status(&answer), 403, "{answer}");
    assert!(answer.contains("<Code>AccessDenied</Code>"), "{answer}");
    assert!(answer.contains("DNS rebinding"), "{answer}");
    let answer = api(&foreign);
    assert_eq!(status(&answer), 403, "{answer}");
    assert!(
        answer
            .to_ascii_lowercase()
            .contains("x-amzn-errortype: forbiddenexception"),
        "{answer}"
    );
    let console = curl_api(
        &curl,
        None,
        &["-H", &rebound],
        &format!("{endpoint}/console/"),
    );
    assert_eq!(console.status, 403, "{console:?}");
    assert!(console.body.contains("DNS rebinding"), "{console:?}");
    // localhost names loopback, so it is this server too.
    let local = format!("Host: localhost:{port}");
    assert_eq!(status(&sfn(&["-H", &local])), 200);

    // Sent by a page of another site: refused even with a good signature.
    let answer = sfn(&["-H", "Origin: http://attacker.example"]);
    assert_eq!(status(&answer), 403, "{answer}");
    assert!(answer.contains("another site"), "{answer}");
    let answer = s3(&[
        "-H",
        "Sec-Fetch-Site: cross-site",
        "-H",
        "Sec-Fetch-Mode: no-cors",
    ]);
    assert_eq!(status(&answer), 403, "{answer}");
    let answer = sns(&["-H", "Origin: null"]);
    assert_eq!(status(&answer), 403, "{answer}");
    // The console's own pages say same-origin.
    let ours = format!("Origin: {endpoint}");
    assert_eq!(
        status(&sfn(&["-H", &ours, "-H", "Sec-Fetch-Site: same-origin"])),
        200
    );
}

#[tokio::test]
async fn query_signatures_are_taken_for_s3_only() {
    let dir = TempDir::new("presigned");
    let served = Served::start(&dir.path().join("data"), &[], &[]);
    let endpoint = served.endpoint.as_str();

    // Step Functions signed in the query (what a cross-site `fetch(url, {mode: 'no-cors'})` could
    // send): refused in the JSON protocol's shape, and nothing is listed.
    let presigned = Signing {
        signed: &["host"],
        in_query: true,
        ..LIST_MACHINES
    };
    let answer = presigned.send(endpoint);
    assert_eq!(answer.status, 400, "{answer:?}");
    assert_eq!(
        json_type(&answer),
        "IncompleteSignatureException",
        "{answer:?}"
    );
    assert!(answer.body.contains("S3 only"), "{answer:?}");
    // The same request signed in its header is answered.
    let header = Signing {
        signed: &["host", "x-amz-date"],
        ..LIST_MACHINES
    };
    assert_eq!(header.send(endpoint).status, 200);
    // SNS's query protocol too.
    let sns = Signing {
        headers: &[("content-type", "application/x-www-form-urlencoded")],
        body: "Action=ListTopics&Version=2010-03-31",
        service: "sns",
        signed: &["host"],
        in_query: true,
        ..LIST_MACHINES
    };
    let answer = sns.send(endpoint);
    assert_eq!(answer.status, 400, "{answer:?}");
    assert!(
        answer.body.contains("<Code>IncompleteSignature</Code>"),
        "{answer:?}"
    );

    // A presigned S3 GET made by the SDK opens, as a browser tab opens it (a top-level navigation
    // says Sec-Fetch-Site: none, or cross-site when clicked in another site's page).
    let s3 = sdk_s3(endpoint);
    s3.put_object()
        .bucket("imagegen-local")
        .key("notes/a.txt")
        .body(ByteStream::from_static(b"hello"))
        .send()
        .await
        .unwrap();
    let link = s3
        .get_object()
        .bucket("imagegen-local")
        .key("notes/a.txt")
        .presigned(PresigningConfig::expires_in(Duration::from_secs(300)).unwrap())
        .await
        .unwrap();
    let uri = link.uri().to_owned();
    let target = &uri[endpoint.len()..];
    let host = endpoint.strip_prefix("http://").unwrap();
    for site in ["none", "cross-site"] {
        let tab = [
            ("Host".to_owned(), host.to_owned()),
            ("Sec-Fetch-Site".to_owned(), site.to_owned()),
            ("Sec-Fetch-Mode".to_owned(), "navigate".to_owned()),
            ("Sec-Fetch-Dest".to_owned(), "document".to_owned()),
        ];
        let answer = raw(endpoint, "GET", target, &tab, "");
        assert_eq!(answer.status, 200, "{site}: {answer:?}");
        assert!(answer.body.contains("hello"), "{answer:?}");
    }
    // The link read by another site's script is not.
    let fetched = [
        ("Host".to_owned(), host.to_owned()),
        ("Origin".to_owned(), "http://attacker.example".to_owned()),
        ("Sec-Fetch-Site".to_owned(), "cross-site".to_owned()),
        ("Sec-Fetch-Mode".to_owned(), "cors".to_owned()),
    ];
    assert_eq!(raw(endpoint, "GET", target, &fetched, "").status, 403);
}

#[test]
fn signatures_must_cover_host_and_name_the_local_region() {
    let dir = TempDir::new("scope");
    let data = dir.path().join("data");
    let served = Served::start(&data, &[], &[]);
    let endpoint = served.endpoint.as_str();

    // Controls: the hand-made signatures are good ones.
    assert_eq!(LIST_MACHINES.send(endpoint).status, 200);
    let listed = LIST_BUCKET.send(endpoint);
    assert_eq!(listed.status, 200, "{listed:?}");

    let hostless = Signing {
        signed: &["content-type", "x-amz-date", "x-amz-target"],
        ..LIST_MACHINES
    };
    let answer = hostless.send(endpoint);
    assert_eq!(answer.status, 400, "{answer:?}");
    assert_eq!(json_type(&answer), "IncompleteSignatureException");
    assert!(answer.body.contains("include host"), "{answer:?}");
    let hostless = Signing {
        signed: &["x-amz-content-sha256", "x-amz-date"],
        ..LIST_BUCKET
    };
    let answer = hostless.send(endpoint);
    assert_eq!(answer.status, 400, "{answer:?}");
    assert!(
        answer
            .body
            .contains("<Code>AuthorizationHeaderMalformed</Code>"),
        "{answer:?}"
    );

    let elsewhere = Signing {
        region: "eu-west-1",
        ..LIST_MACHINES
    };
    let answer = elsewhere.send(endpoint);
    assert_eq!(answer.status, 400, "{answer:?}");
    assert!(answer.body.contains("'eu-west-1'"), "{answer:?}");
    let elsewhere = Signing {
        region: "eu-west-1",
        ..LIST_BUCKET
    };
    let answer = elsewhere.send(endpoint);
    assert_eq!(answer.status, 400, "{answer:?}");
    assert!(answer.body.contains("eu-west-1"), "{answer:?}");

    // Made by serve, the data directory is its owner's only.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&data).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o700, "{mode:o}");
    }
}

#[test]
fn listening_beyond_loopback_needs_allow_remote() {
    let dir = TempDir::new("remote-refused");
    let data = dir.path().join("data");
    let out = imagegen(&data, &["serve", "--listen", "0.0.0.0:0"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("--allow-remote") && stderr.trim().ends_with('.'),
        "{stderr}"
    );
    assert!(
        !data.exists(),
        "nothing is made before the address is refused"
    );
}

#[tokio::test]
async fn beyond_loopback_a_secret_key_and_a_console_login_replace_the_published_key() {
    let Some(cli) = aws_cli() else { return };
    let Some(curl) = curl() else { return };
    let dir = TempDir::new("remote");
    let data = dir.path().join("data");
    let served = Served::start_on(&data, "0.0.0.0:0", &[], &["--allow-remote"]);
    let endpoint = served.endpoint.clone();
    // The banner is printed whole before the first request is taken; the harness has its first line.
    let printed = eventually(Duration::from_secs(30), "the banner's credentials", || {
        let printed = served.printed();
        printed.contains("Ctrl-C stops").then_some(printed)
    });
    let value = |prefix: &str| {
        printed
            .lines()
            .find_map(|l| l.trim().strip_prefix(prefix))
            .unwrap_or_else(|| panic!("no {prefix} in\n{printed}"))
            .split_whitespace()
            .next()
            .unwrap()
            .to_owned()
    };
    let (key, secret) = (
        value("export AWS_ACCESS_KEY_ID="),
        value("export AWS_SECRET_ACCESS_KEY="),
    );
    assert_ne!(key, ACCESS_KEY_ID);
    assert_ne!(secret, SECRET_ACCESS_KEY);

    // The published key is refused by every service; the printed one works.
    let published = Aws::new(cli, &endpoint);
    let error = published.error(&["s3", "ls", "s3://imagegen-local/"]);
    assert!(error.contains("InvalidAccessKeyId"), "{error}");
    let error = published.error(&["stepfunctions", "list-state-machines"]);
    assert!(error.contains("UnrecognizedClientException"), "{error}");
    let error = published.error(&["sns", "list-topics"]);
    assert!(error.contains("InvalidClientTokenId"), "{error}");
    let aws = published.with_credentials(&key, &secret);
    let machines = aws.json(&["stepfunctions", "list-state-machines"]);
    assert_eq!(machines["stateMachines"].as_array().unwrap().len(), 1);
    aws.ok(&["s3", "ls", "s3://imagegen-local/"]);
    let api = format!("{endpoint}/images/r-unknown");
    assert_eq!(
        curl_api(&curl, Some((ACCESS_KEY_ID, SECRET_ACCESS_KEY)), &[], &api).status,
        403
    );
    assert_eq!(
        curl_api(&curl, Some((&key, &secret)), &[], &api).status,
        404
    );

    // The SDK with the published key is refused too.
    let s3 = sdk_s3(&endpoint);
    assert!(s3.list_buckets().send().await.is_err(), "the published key");

    // The console asks for its login: the printed URL carries it and trades it for a cookie.
    let console = value("Console:");
    assert!(console.contains("?login="), "{console}");
    let bare = curl_api(&curl, None, &[], &format!("{endpoint}/console/"));
    assert_eq!(bare.status, 401, "{bare:?}");
    let login = curl_api(&curl, None, &[], &console);
    assert_eq!(login.status, 303, "{login:?}");
    assert_eq!(login.header("location"), Some("/console/"));
    let cookie = login.header("set-cookie").unwrap();
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    let pair = cookie.split(';').next().unwrap();
    let page = curl_api(
        &curl,
        None,
        &["-H", &format!("Cookie: {pair}")],
        &format!("{endpoint}/console/"),
    );
    assert_eq!(page.status, 200, "{page:?}");
    let wrong = curl_api(
        &curl,
        None,
        &["-H", "Cookie: imagegen-console-login=guess"],
        &format!("{endpoint}/console/"),
    );
    assert_eq!(wrong.status, 401);

    // The key is kept in the data directory, readable by its owner only, and is the same at the
    // next start.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let file = data.join("serve-remote-key.json");
        let mode = std::fs::metadata(&file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "{mode:o}");
        let kept = std::fs::read_to_string(&file).unwrap();
        assert!(kept.contains(&secret));
    }
}
