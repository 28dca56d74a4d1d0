//! The HTTP API's handler through the real adapters (`SfnStarter`, `SfnDescriber`, `S3Store`), with
//! the SDK clients answered by `aws-smithy-mocks`: a small Step Functions that keeps executions by
//! name as the service does, and an S3 with the manifests in it. Events are API Gateway REST proxy
//! events (`tests/fixtures/post-generate-image.json` is shaped after the one AWS documents).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_sdk_s3::operation::get_object::{GetObjectError, GetObjectOutput};
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::error::NoSuchKey;
use aws_sdk_sfn::operation::describe_execution::{DescribeExecutionError, DescribeExecutionOutput};
use aws_sdk_sfn::operation::start_execution::{StartExecutionError, StartExecutionOutput};
use aws_sdk_sfn::primitives::DateTime;
use aws_sdk_sfn::types::ExecutionStatus;
use aws_sdk_sfn::types::error::{ExecutionAlreadyExists, ExecutionDoesNotExist};
use aws_smithy_mocks::{MockResponse, Rule, RuleMode, mock, mock_client};
use http_api::bodies::{Phase, Started, Status};
use http_api::{Config, Ports, handle};
use imagegen_aws::{S3Store, SfnDescriber, SfnStarter};
use lambda_http::http::{HeaderMap, StatusCode};
use serde_json::{Value, json};

const MACHINE: &str = "arn:aws:states:us-east-1:123456789012:stateMachine:Pipeline";
const EXECUTIONS: &str = "arn:aws:states:us-east-1:123456789012:execution:Pipeline";
const BUCKET: &str = "out-bucket";
const ALICE: &str = "arn:aws:iam::123456789012:user/alice";
/// Two people signed in through IAM Identity Center with one permission set: one role, two sessions.
const SSO_ALICE: &str = "arn:aws:sts::123456789012:assumed-role/AWSReservedSSO_Developers_0123456789abcdef/alice@example.com";
const SSO_BOB: &str = "arn:aws:sts::123456789012:assumed-role/AWSReservedSSO_Developers_0123456789abcdef/bob@example.com";

fn config() -> Config {
    Config::from_env(&[
        ("STATE_MACHINE_ARN", MACHINE),
        ("OUTPUT_BUCKET", BUCKET),
        ("BLOCKLIST", "gore"),
    ])
    .unwrap()
}

#[derive(Debug, Clone)]
struct Execution {
    input: String,
    status: &'static str,
    error: Option<String>,
    cause: Option<String>,
}

type Executions = Arc<Mutex<BTreeMap<String, Execution>>>;

/// Step Functions and S3 as the handler sees them through the SDK.
struct World {
    executions: Executions,
    objects: Arc<Mutex<HashMap<String, Vec<u8>>>>,
    start: Rule,
    describe: Rule,
    get: Rule,
}

impl World {
    fn new() -> Self {
        let executions: Executions = Arc::default();
        let known = executions.clone();
        // StartExecution as on a Standard state machine: a new name starts; a name in use while it
        // runs with the same input answers that execution again; any other use of a name is
        // ExecutionAlreadyExists.
        let start = mock!(aws_sdk_sfn::Client::start_execution).then_compute_response(move |req| {
            assert_eq!(req.state_machine_arn(), Some(MACHINE));
            let name = req.name().unwrap().to_owned();
            let input = req.input().unwrap().to_owned();
            let mut known = known.lock().unwrap();
            let running_same = known
                .get(&name)
                .map(|e| e.status == "RUNNING" && e.input == input);
            match running_same {
                Some(false) => {
                    return MockResponse::Error(StartExecutionError::ExecutionAlreadyExists(
                        ExecutionAlreadyExists::builder()
                            .message(format!("Execution Already Exists: '{EXECUTIONS}:{name}'"))
                            .build(),
                    ));
                }
                Some(true) => {}
                None => {
                    known.insert(
                        name.clone(),
                        Execution {
                            input,
                            status: "RUNNING",
                            error: None,
                            cause: None,
                        },
                    );
                }
            }
            MockResponse::Output(
                StartExecutionOutput::builder()
                    .execution_arn(format!("{EXECUTIONS}:{name}"))
                    .start_date(DateTime::from_secs(1_795_000_000))
                    .build()
                    .unwrap(),
            )
        });
        let known = executions.clone();
        let describe =
            mock!(aws_sdk_sfn::Client::describe_execution).then_compute_response(move |req| {
                let arn = req.execution_arn().unwrap();
                let name = arn.strip_prefix(&format!("{EXECUTIONS}:")).unwrap_or("?");
                let Some(found) = known.lock().unwrap().get(name).cloned() else {
                    return MockResponse::Error(DescribeExecutionError::ExecutionDoesNotExist(
                        ExecutionDoesNotExist::builder()
                            .message(format!("Execution Does Not Exist: '{arn}'"))
                            .build(),
                    ));
                };
                MockResponse::Output(
                    DescribeExecutionOutput::builder()
                        .execution_arn(arn)
                        .state_machine_arn(MACHINE)
                        .status(ExecutionStatus::from(found.status))
                        .start_date(DateTime::from_secs(1_795_000_000))
                        .input(found.input)
                        .set_error(found.error)
                        .set_cause(found.cause)
                        .build()
                        .unwrap(),
                )
            });
        let objects: Arc<Mutex<HashMap<String, Vec<u8>>>> = Arc::default();
        let stored = objects.clone();
        // GetObject reads the manifest; presigning also runs through it (up to signing).
        let get = mock!(aws_sdk_s3::Client::get_object).then_compute_response(move |req| {
            assert_eq!(req.bucket(), Some(BUCKET));
            let key = req.key().unwrap();
            if !key.starts_with("results/") {
                return MockResponse::Output(GetObjectOutput::builder().build());
            }
            match stored.lock().unwrap().get(key) {
                Some(bytes) => MockResponse::Output(
                    GetObjectOutput::builder()
                        .content_length(bytes.len() as i64)
                        .body(ByteStream::from(bytes.clone()))
                        .build(),
                ),
                None => MockResponse::Error(GetObjectError::NoSuchKey(
                    NoSuchKey::builder()
                        .message("The specified key does not exist.")
                        .build(),
                )),
            }
        });
        Self {
            executions,
            objects,
            start,
            describe,
            get,
        }
    }

    fn ports(&self) -> Ports<SfnStarter, SfnDescriber, S3Store> {
        let sfn = mock_client!(
            aws_sdk_sfn,
            RuleMode::MatchAny,
            [&self.start, &self.describe]
        );
        Ports {
            starter: SfnStarter::new(sfn.clone(), MACHINE),
            describer: SfnDescriber::new(sfn),
            store: S3Store::new(mock_client!(aws_sdk_s3, RuleMode::MatchAny, [&self.get])),
        }
    }

    fn execution_names(&self) -> Vec<String> {
        self.executions.lock().unwrap().keys().cloned().collect()
    }

    fn end(&self, name: &str, status: &'static str, error: Option<&str>, cause: Option<&str>) {
        let mut executions = self.executions.lock().unwrap();
        let execution = executions.get_mut(name).unwrap();
        execution.status = status;
        execution.error = error.map(str::to_owned);
        execution.cause = cause.map(str::to_owned);
    }

    async fn send(&self, call: &Call) -> Answer {
        self.send_to(&self.ports(), call).await
    }

    /// Send `call` to the handler with other ports (clients whose calls fail, say).
    async fn send_to(
        &self,
        ports: &Ports<SfnStarter, SfnDescriber, S3Store>,
        call: &Call,
    ) -> Answer {
        let request = lambda_http::request::from_str(&call.event.to_string()).unwrap();
        let response = handle(&config(), ports, request).await;
        let status = response.status();
        let headers = response.headers().clone();
        let body = serde_json::from_slice(response.body().as_ref()).unwrap();
        Answer {
            status,
            headers,
            body,
        }
    }
}

#[derive(Debug)]
struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: Value,
}

impl Answer {
    fn started(&self) -> Started {
        assert_eq!(self.status, StatusCode::ACCEPTED, "{self:?}");
        serde_json::from_value(self.body.clone()).unwrap()
    }

    fn status(&self) -> Status {
        assert_eq!(self.status, StatusCode::OK, "{self:?}");
        serde_json::from_value(self.body.clone()).unwrap()
    }

    fn problems(&self) -> Vec<String> {
        assert_eq!(self.status, StatusCode::BAD_REQUEST, "{self:?}");
        serde_json::from_value(self.body["problems"].clone()).unwrap()
    }
}

/// An API Gateway REST proxy event.
#[derive(Debug, Clone)]
struct Call {
    event: Value,
}

impl Call {
    fn post(body: &str) -> Self {
        let path = format!(
            "{}/tests/fixtures/post-generate-image.json",
            env!("CARGO_MANIFEST_DIR")
        );
        let mut event: Value =
            serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        event["body"] = json!(body);
        Self { event }
    }

    fn get(request_id: &str) -> Self {
        let mut call = Self::post("");
        let e = &mut call.event;
        e["resource"] = json!("/images/{requestId}");
        e["path"] = json!(format!("/images/{request_id}"));
        e["httpMethod"] = json!("GET");
        e["body"] = Value::Null;
        e["pathParameters"] = json!({"requestId": request_id});
        e["requestContext"]["resourcePath"] = json!("/images/{requestId}");
        e["requestContext"]["httpMethod"] = json!("GET");
        e["requestContext"]["path"] = json!(format!("/prod/images/{request_id}"));
        call
    }

    fn wait(mut self, seconds: &str) -> Self {
        self.event["queryStringParameters"] = json!({"wait": seconds});
        self
    }

    fn header(mut self, name: &str, value: &str) -> Self {
        self.event["headers"][name] = json!(value);
        self
    }

    fn caller(mut self, arn: &str) -> Self {
        self.event["requestContext"]["identity"]["userArn"] = json!(arn);
        self
    }

    fn api_request_id(mut self, id: &str) -> Self {
        self.event["requestContext"]["requestId"] = json!(id);
        self
    }

    /// As API Gateway would send it with no authorization on the method.
    fn anonymous(mut self) -> Self {
        let identity = &mut self.event["requestContext"]["identity"];
        for field in ["caller", "accessKey", "userArn", "user", "accountId"] {
            identity[field] = Value::Null;
        }
        self
    }
}

#[tokio::test]
async fn a_good_request_is_accepted_and_starts_its_execution() {
    let world = World::new();
    let answer = world
        .send(&Call::post(
            r#"{"prompt": "a lighthouse at dusk", "seed": 7}"#,
        ))
        .await;
    let started = answer.started();
    assert!(started.execution_name.starts_with("api-"), "{started:?}");
    // The answer names the execution, not its ARN (the account and the state machine).
    assert!(answer.body.get("executionArn").is_none(), "{answer:?}");
    assert!(started.request_id.starts_with(&started.execution_name));
    let status_url = format!(
        "https://a1b2c3d4e5.execute-api.us-east-1.amazonaws.com/prod/images/{}",
        started.request_id
    );
    assert_eq!(started.status_url, status_url);
    assert_eq!(answer.headers["location"], status_url.as_str());
    assert_eq!(started.model, imagegen_core::model::DEFAULT_MODEL_ID);

    let executions = world.executions.lock().unwrap();
    assert_eq!(executions.len(), 1);
    let input: Value = serde_json::from_str(&executions[&started.execution_name].input).unwrap();
    assert_eq!(input, json!({"prompt": "a lighthouse at dusk", "seed": 7}));
}

#[tokio::test]
async fn a_bad_request_lists_every_problem_and_starts_nothing() {
    let world = World::new();
    let answer = world
        .send(
            &Call::post(r#"{"prompt": "lots of gore", "width": 1000, "numberOfImages": 9}"#)
                .header("Idempotency-Key", "has spaces"),
        )
        .await;
    let problems = answer.problems();
    assert_eq!(
        answer.body["message"],
        format!("The request was not accepted: {} problems.", problems.len())
    );
    for expected in [
        "Idempotency-Key",
        "blocked term \"gore\"",
        "give both width and height",
        "numberOfImages",
    ] {
        assert!(
            problems.iter().any(|p| p.contains(expected)),
            "{expected} missing from {problems:#?}"
        );
    }
    for body in [
        "",
        "not json",
        "[1, 2]",
        r#"{"prompt": "x", "colour": "red"}"#,
    ] {
        let answer = world.send(&Call::post(body)).await;
        assert_eq!(answer.problems().len(), 1, "{body}: {answer:?}");
    }
    let huge = format!(r#"{{"prompt": "{}"}}"#, "a".repeat(20_000));
    let answer = world.send(&Call::post(&huge)).await;
    assert_eq!(answer.status, StatusCode::PAYLOAD_TOO_LARGE, "{answer:?}");
    assert!(
        answer.body["message"]
            .as_str()
            .unwrap()
            .contains("at most 16384 bytes"),
        "{answer:?}"
    );
    assert_eq!(world.start.num_calls(), 0, "nothing was started");
}

#[tokio::test]
async fn the_same_idempotency_key_twice_starts_one_execution() {
    let world = World::new();
    let body = r#"{"prompt": "a lighthouse at dusk"}"#;
    let call = Call::post(body)
        .caller(ALICE)
        .header("Idempotency-Key", "order-42");
    let first = world
        .send(&call.clone().api_request_id("req-1"))
        .await
        .started();
    // A retry (another API Gateway request id) while the first runs, and again once it ended.
    let again = world.send(&call.clone().api_request_id("req-2")).await;
    assert_eq!(again.started(), first);
    world.end(&first.execution_name, "SUCCEEDED", None, None);
    let replayed = world.send(&call.clone().api_request_id("req-3")).await;
    assert_eq!(replayed.started(), first);
    assert_eq!(replayed.headers["idempotent-replayed"], "true");
    assert_eq!(
        world.execution_names(),
        std::slice::from_ref(&first.execution_name)
    );

    // The key for another request is refused; another caller's same key is their own.
    let conflict = world
        .send(&Call::post(r#"{"prompt": "a castle"}"#).header("Idempotency-Key", "order-42"))
        .await;
    assert_eq!(conflict.status, StatusCode::CONFLICT, "{conflict:?}");
    assert!(
        conflict.body["message"]
            .as_str()
            .unwrap()
            .contains("order-42"),
        "{conflict:?}"
    );
    let bob = world
        .send(&call.clone().caller("arn:aws:iam::123456789012:user/bob"))
        .await
        .started();
    assert_ne!(bob.execution_name, first.execution_name);
    assert_eq!(world.execution_names().len(), 2);

    // A role is one caller across its sessions (each AWS CLI process names a new one).
    let role = |session: &str| {
        call.clone().caller(&format!(
            "arn:aws:sts::123456789012:assumed-role/Batch/{session}"
        ))
    };
    let batch = world.send(&role("botocore-session-1")).await.started();
    let retried = world.send(&role("botocore-session-2")).await.started();
    assert_eq!(retried, batch);
    assert_eq!(world.execution_names().len(), 3);
}

#[tokio::test]
async fn without_a_key_each_request_is_its_own() {
    let world = World::new();
    let call = Call::post(r#"{"prompt": "a lighthouse at dusk"}"#);
    let a = world
        .send(&call.clone().api_request_id("req-a"))
        .await
        .started();
    let b = world
        .send(&call.clone().api_request_id("req-b"))
        .await
        .started();
    assert_ne!(a.execution_name, b.execution_name);
    assert_eq!(world.execution_names().len(), 2);
}

#[tokio::test]
async fn status_while_running_after_success_and_after_failure() {
    let world = World::new();
    let ok = world
        .send(&Call::post(r#"{"prompt": "a lighthouse"}"#).api_request_id("r1"))
        .await
        .started();
    let running = world.send(&Call::get(&ok.request_id)).await.status();
    assert_eq!(running.status, Phase::Running);
    assert_eq!(running.execution_status, "RUNNING");
    assert!(running.images.is_empty() && running.error.is_none());

    world.objects.lock().unwrap().insert(
        format!("results/{}.json", ok.request_id),
        manifest(&ok.execution_name, &ok.request_id),
    );
    world.end(&ok.execution_name, "SUCCEEDED", None, None);
    let done = world.send(&Call::get(&ok.request_id)).await.status();
    assert_eq!(done.status, Phase::Succeeded);
    assert_eq!(done.links_expire_in_seconds, Some(3600));
    assert_eq!(done.images.len(), 1);
    let image = &done.images[0];
    assert_eq!(image.key, format!("images/{}/0.png", ok.request_id));
    assert_eq!(
        (image.width, image.height, image.bytes),
        (1024, 1024, 123_456)
    );
    assert!(
        image.url.contains(&image.key) && image.url.contains("X-Amz-Signature="),
        "{image:?}"
    );
    assert!(image.url.contains("X-Amz-Expires=3600"), "{image:?}");
    let sizes: Vec<u32> = image.thumbnails.iter().map(|t| t.size).collect();
    assert_eq!(sizes, [128, 256]);
    assert!(image.thumbnails.iter().all(|t| t.url.contains(&t.key)));

    let bad = world
        .send(&Call::post(r#"{"prompt": "a ship"}"#).api_request_id("r2"))
        .await
        .started();
    world.end(
        &bad.execution_name,
        "FAILED",
        Some("ContentFiltered"),
        Some(r#"{"errorType":"ContentFiltered","errorMessage":"the prompt was blocked by the model's content filter"}"#),
    );
    let failed = world.send(&Call::get(&bad.request_id)).await.status();
    assert_eq!(failed.status, Phase::Failed);
    assert_eq!(failed.error.as_deref(), Some("ContentFiltered"));
    assert_eq!(
        failed.reason.as_deref(),
        Some("the prompt was blocked by the model's content filter")
    );

    let late = world
        .send(&Call::post(r#"{"prompt": "a tree"}"#).api_request_id("r3"))
        .await
        .started();
    world.end(&late.execution_name, "TIMED_OUT", None, None);
    let timed_out = world.send(&Call::get(&late.request_id)).await.status();
    assert_eq!(timed_out.status, Phase::Failed);
    assert_eq!(timed_out.execution_status, "TIMED_OUT");
    assert_eq!(timed_out.error.as_deref(), Some("ExecutionTimedOut"));
}

#[tokio::test]
async fn a_success_whose_results_expired_says_so() {
    let world = World::new();
    let ok = world
        .send(&Call::post(r#"{"prompt": "a lighthouse"}"#))
        .await
        .started();
    world.end(&ok.execution_name, "SUCCEEDED", None, None);
    let done = world.send(&Call::get(&ok.request_id)).await.status();
    assert_eq!(done.status, Phase::Succeeded);
    assert!(done.images.is_empty());
    assert!(done.message.unwrap().contains("expired"));
}

#[tokio::test(start_paused = true)]
async fn wait_holds_the_answer_until_the_end_or_the_time_given() {
    let world = World::new();
    let ok = world
        .send(&Call::post(r#"{"prompt": "a lighthouse"}"#))
        .await
        .started();
    world.objects.lock().unwrap().insert(
        format!("results/{}.json", ok.request_id),
        manifest(&ok.execution_name, &ok.request_id),
    );
    // Ends 3.5 s from now; a 20 s wait answers at the first poll after that.
    let executions = world.executions.clone();
    let name = ok.execution_name.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(3500)).await;
        executions.lock().unwrap().get_mut(&name).unwrap().status = "SUCCEEDED";
    });
    let begun = tokio::time::Instant::now();
    let done = world
        .send(&Call::get(&ok.request_id).wait("20"))
        .await
        .status();
    assert_eq!(done.status, Phase::Succeeded);
    assert_eq!(begun.elapsed(), Duration::from_secs(4));

    // Still running when the time is up: the running answer, after exactly that long.
    let slow = world
        .send(&Call::post(r#"{"prompt": "a castle"}"#).api_request_id("r2"))
        .await
        .started();
    let begun = tokio::time::Instant::now();
    let running = world
        .send(&Call::get(&slow.request_id).wait("5"))
        .await
        .status();
    assert_eq!(running.status, Phase::Running);
    assert_eq!(begun.elapsed(), Duration::from_secs(5));

    for bad in ["26", "-1", "soon"] {
        let answer = world.send(&Call::get(&slow.request_id).wait(bad)).await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{bad}: {answer:?}");
    }
}

#[tokio::test]
async fn unknown_requests_are_not_found() {
    let world = World::new();
    // Well formed, the caller's own, never started: DescribeExecution says ExecutionDoesNotExist.
    let name = http_api::owner::execution_name(ALICE, &["request", "never-sent"]);
    let id = http_api::ids::request_id(&name);
    let answer = world.send(&Call::get(&id)).await;
    assert_eq!(answer.status, StatusCode::NOT_FOUND, "{answer:?}");
    assert_eq!(world.describe.num_calls(), 1);
    // Not an id of ours at all: not even asked.
    let answer = world.send(&Call::get("not-an-id")).await;
    assert_eq!(answer.status, StatusCode::NOT_FOUND, "{answer:?}");
    assert_eq!(world.describe.num_calls(), 1);
}

#[tokio::test]
async fn unauthenticated_requests_and_other_routes_are_refused() {
    let world = World::new();
    let answer = world
        .send(&Call::post(r#"{"prompt": "a lighthouse"}"#).anonymous())
        .await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN, "{answer:?}");
    assert_eq!(answer.body["message"], "Missing Authentication Token");
    assert_eq!(world.start.num_calls(), 0);
    let answer = world.send(&Call::get("x").anonymous()).await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN, "{answer:?}");

    let mut other = Call::post("{}");
    other.event["requestContext"]["resourcePath"] = json!("/admin");
    other.event["resource"] = json!("/admin");
    let answer = world.send(&other).await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN, "{answer:?}");
    let mut wrong_method = Call::post(r#"{"prompt": "a lighthouse"}"#);
    wrong_method.event["httpMethod"] = json!("PUT");
    let answer = world.send(&wrong_method).await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN, "{answer:?}");
    assert_eq!(world.start.num_calls(), 0);
}

/// A manifest as notify-user writes it: one image and two thumbnails.
fn manifest(execution_name: &str, request_id: &str) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "executionName": execution_name,
        "request": {
            "requestId": request_id,
            "prompt": "a lighthouse",
            "model": {"id": "stability.stable-image-core-v1:1", "family": "stability"},
            "width": 1024, "height": 1024, "numberOfImages": 1, "seed": 7,
            "output": {
                "bucket": BUCKET,
                "imagePrefix": format!("images/{request_id}/"),
                "thumbnailPrefix": format!("thumbnails/{request_id}/"),
                "manifestKey": format!("results/{request_id}.json")
            }
        },
        "images": [{"bucket": BUCKET, "key": format!("images/{request_id}/0.png"),
                    "width": 1024, "height": 1024, "bytes": 123_456, "seed": 7}],
        "thumbnails": [
            {"sourceKey": format!("images/{request_id}/0.png"), "key": format!("thumbnails/{request_id}/0-128.jpg"),
             "size": 128, "width": 128, "height": 128, "format": "jpeg", "bytes": 4000},
            {"sourceKey": format!("images/{request_id}/0.png"), "key": format!("thumbnails/{request_id}/0-256.jpg"),
             "size": 256, "width": 256, "height": 256, "format": "jpeg", "bytes": 9000}
        ],
        "modelMillis": 900
    }))
    .unwrap()
}

/// The message of a 404 with the id it names taken out, to compare two 404s.
fn not_found_shape(answer: &Answer, request_id: &str) -> (StatusCode, String) {
    assert_eq!(answer.status, StatusCode::NOT_FOUND, "{answer:?}");
    let message = answer.body["message"].as_str().unwrap();
    (answer.status, message.replace(request_id, "ID"))
}

#[tokio::test]
async fn another_callers_request_is_not_found() {
    let world = World::new();
    let alice = world
        .send(
            &Call::post(r#"{"prompt": "a portrait of my neighbour"}"#)
                .caller(SSO_ALICE)
                .api_request_id("r1"),
        )
        .await
        .started();
    world.end(
        &alice.execution_name,
        "FAILED",
        Some("PromptRejected"),
        Some(r#"{"errorType":"PromptRejected","errorMessage":"the prompt \"a portrait of my neighbour\" names a person"}"#),
    );
    let own = world
        .send(&Call::get(&alice.request_id).caller(SSO_ALICE))
        .await;
    assert_eq!(own.status().status, Phase::Failed);

    // Anyone else gets the answer for an id that was never started.
    let never = http_api::ids::request_id("api-00000000000000000000000000000000");
    for other in [SSO_BOB, "arn:aws:iam::123456789012:user/mallory"] {
        let theirs = world
            .send(&Call::get(&alice.request_id).caller(other))
            .await;
        let unknown = world.send(&Call::get(&never).caller(other)).await;
        assert_eq!(
            not_found_shape(&theirs, &alice.request_id),
            not_found_shape(&unknown, &never),
            "{other}"
        );
        assert!(!theirs.body.to_string().contains("neighbour"), "{theirs:?}");
    }

    // A request another door started (here the queue) is read through Step Functions, not the API.
    let queued = imagegen_core::execution_name::door_name("sqs", &["imagegen-prompts", "m-1"]);
    world.executions.lock().unwrap().insert(
        queued.clone(),
        Execution {
            input: r#"{"prompt": "a castle"}"#.to_owned(),
            status: "RUNNING",
            error: None,
            cause: None,
        },
    );
    let id = http_api::ids::request_id(&queued);
    let answer = world.send(&Call::get(&id).caller(SSO_ALICE)).await;
    assert_eq!(answer.status, StatusCode::NOT_FOUND, "{answer:?}");
}

#[tokio::test]
async fn people_of_one_permission_set_have_idempotency_keys_of_their_own() {
    let world = World::new();
    let post = |caller: &str, body: &str| {
        Call::post(body)
            .caller(caller)
            .header("Idempotency-Key", "order-1")
    };
    let alice = world
        .send(&post(SSO_ALICE, r#"{"prompt": "a lighthouse"}"#))
        .await
        .started();
    // Bob's key is his own: his request starts, and nothing of Alice's is named to him.
    let bob = world
        .send(&post(SSO_BOB, r#"{"prompt": "a castle"}"#))
        .await;
    assert!(
        !bob.body.to_string().contains(&alice.execution_name),
        "{bob:?}"
    );
    let bob = bob.started();
    assert_ne!(bob.execution_name, alice.execution_name);
    assert_eq!(world.execution_names().len(), 2);

    // Alice's own key reused for another request: 409, naming no execution.
    let conflict = world
        .send(&post(SSO_ALICE, r#"{"prompt": "a tree"}"#))
        .await;
    assert_eq!(conflict.status, StatusCode::CONFLICT, "{conflict:?}");
    let message = conflict.body["message"].as_str().unwrap();
    assert!(message.contains("order-1"), "{message}");
    assert!(
        !message.contains(&alice.execution_name) && !message.contains("api-"),
        "{message}"
    );

    // Where the session's name changes with every process (an ECS task's id, an EC2 instance's id,
    // the AWS CLI's own), the role is still one caller: a retry from a new process starts nothing.
    for sessions in [
        [
            "0123456789abcdef0123456789abcdef",
            "fedcba9876543210fedcba9876543210",
        ],
        ["i-0123456789abcdef0", "i-0fedcba9876543210"],
        ["aws-sdk-rust-1795953600", "aws-sdk-rust-1795953999"],
    ] {
        let call = |session: &str| {
            post(
                &format!("arn:aws:sts::123456789012:assumed-role/Worker/{session}"),
                r#"{"prompt": "a boat"}"#,
            )
            .header("Idempotency-Key", &format!("batch-{}", sessions[0]))
        };
        let first = world.send(&call(sessions[0])).await.started();
        let retried = world.send(&call(sessions[1])).await.started();
        assert_eq!(retried, first, "{sessions:?}");
    }
}

/// An SDK error as AWS words a denial: it names the role and the account.
fn denied() -> aws_smithy_types::error::ErrorMetadata {
    aws_smithy_types::error::ErrorMetadata::builder()
        .code("AccessDeniedException")
        .message("User: arn:aws:sts::123456789012:assumed-role/Imagegen-HttpApiRole-X/Imagegen-HttpApi is not authorized to perform: states:StartExecution on resource: arn:aws:states:us-east-1:123456789012:stateMachine:Pipeline")
        .build()
}

/// What no answer may tell a caller: ARNs, the account, the bucket, SDK and serde wording.
fn assert_plain(answer: &Answer, correlation_id: &str) {
    let text = answer.body.to_string();
    for secret in [
        "arn:",
        "123456789012",
        BUCKET,
        "AccessDenied",
        "StartExecution",
        "DescribeExecution",
        "expected",
        "s3://",
    ] {
        assert!(!text.contains(secret), "{secret} in {text}");
    }
    assert_eq!(answer.body["correlationId"], correlation_id, "{answer:?}");
    assert!(
        answer.body["message"].as_str().unwrap().ends_with('.'),
        "{answer:?}"
    );
}

#[tokio::test]
async fn failures_answer_a_plain_message_and_a_correlation_id() {
    let world = World::new();
    let start = mock!(aws_sdk_sfn::Client::start_execution)
        .then_error(|| StartExecutionError::generic(denied()));
    let describe = mock!(aws_sdk_sfn::Client::describe_execution)
        .then_error(|| DescribeExecutionError::generic(denied()));
    let sfn = mock_client!(aws_sdk_sfn, RuleMode::MatchAny, [&start, &describe]);
    let failing = Ports {
        starter: SfnStarter::new(sfn.clone(), MACHINE),
        describer: SfnDescriber::new(sfn),
        store: S3Store::new(mock_client!(aws_sdk_s3, RuleMode::MatchAny, [&world.get])),
    };
    let call = Call::post(r#"{"prompt": "a lighthouse"}"#).api_request_id("corr-1");
    let answer = world.send_to(&failing, &call).await;
    assert_eq!(answer.status, StatusCode::SERVICE_UNAVAILABLE, "{answer:?}");
    assert_plain(&answer, "corr-1");

    // The request exists, but Step Functions cannot be asked about it.
    let ok = world
        .send(&Call::post(r#"{"prompt": "a lighthouse"}"#).api_request_id("r1"))
        .await;
    assert!(!ok.body.to_string().contains("arn:"), "{ok:?}");
    let ok = ok.started();
    let answer = world
        .send_to(
            &failing,
            &Call::get(&ok.request_id).api_request_id("corr-2"),
        )
        .await;
    assert_eq!(answer.status, StatusCode::SERVICE_UNAVAILABLE, "{answer:?}");
    assert_plain(&answer, "corr-2");

    // A manifest that is not one; then one that is gone.
    world.end(&ok.execution_name, "SUCCEEDED", None, None);
    world.objects.lock().unwrap().insert(
        format!("results/{}.json", ok.request_id),
        b"{not json".to_vec(),
    );
    let answer = world
        .send(&Call::get(&ok.request_id).api_request_id("corr-3"))
        .await;
    assert_eq!(
        answer.status,
        StatusCode::INTERNAL_SERVER_ERROR,
        "{answer:?}"
    );
    assert_plain(&answer, "corr-3");
    world.objects.lock().unwrap().clear();
    let gone = world.send(&Call::get(&ok.request_id)).await;
    assert_eq!(gone.status().status, Phase::Succeeded);
    let text = gone.body.to_string();
    assert!(!text.contains("arn:") && !text.contains(BUCKET), "{text}");
}
