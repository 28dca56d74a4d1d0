//! The loopback endpoint as a rehearsal uses it: every service a function calls reachable with
//! the SDK's `endpoint_url` (DynamoDB and the Bedrock runtime too, S3 path-style on its own for an
//! IP address), signatures from several keys each naming a caller, and an authorisation hook
//! whose denials each service answers in its own shape.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::{Arc, Mutex};

use aws_sdk_dynamodb::error::ProvideErrorMetadata as _;
use aws_sdk_dynamodb::types::AttributeValue;
use aws_smithy_types::retry::RetryConfig;
use aws_types::region::Region;
use imagegen_local::config::{AccessKey, DEFAULT_REGION};
use imagegen_local::server::{
    self, Access, Authorize, Caller, Callers, Denied, Params, RequestFacts, local_router,
    local_router_with,
};
use imagegen_local::{FakeModelBehavior, LocalAws};
use tokio::net::TcpListener;
use tokio::sync::oneshot;

use crate::common::local;

const TABLE: &str = "slots";
const MODEL: &str = "stability.stable-image-core-v1:1";

/// A served router; the server stops when this is dropped.
struct Served {
    endpoint: String,
    _stop: oneshot::Sender<()>,
}

async fn serve(router: server::Router) -> Served {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(server::serve(listener, Arc::new(router), None, async {
        let _ = stopped.await;
    }));
    Served {
        endpoint,
        _stop: stop,
    }
}

/// The shared settings every client gets from `AWS_ENDPOINT_URL` and the function's credentials.
fn sdk_config(endpoint: &str, key: &AccessKey) -> aws_types::SdkConfig {
    aws_types::SdkConfig::builder()
        .behavior_version(aws_sdk_s3::config::BehaviorVersion::latest())
        .region(Region::new(DEFAULT_REGION))
        .credentials_provider(aws_types::sdk_config::SharedCredentialsProvider::new(
            key.credentials(),
        ))
        .retry_config(RetryConfig::disabled())
        .endpoint_url(endpoint)
        .build()
}

fn image_body() -> Vec<u8> {
    serde_json::json!({"prompt": "a lighthouse on a cliff at dusk", "output_format": "png"})
        .to_string()
        .into_bytes()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dynamodb_bedrock_and_path_style_s3_are_served() {
    let (_dir, aws) = local("endpoint-services", FakeModelBehavior::default());
    aws.create_table(TABLE, "pk");
    aws.create_bucket("b-1").unwrap();
    let served = serve(local_router(&aws, None).unwrap()).await;
    let config = sdk_config(&served.endpoint, &aws.options().key);

    let dynamodb = aws_sdk_dynamodb::Client::new(&config);
    dynamodb
        .update_item()
        .table_name(TABLE)
        .key("pk", AttributeValue::S("m".into()))
        .update_expression("SET #n = :n")
        .expression_attribute_names("#n", "n")
        .expression_attribute_values(":n", AttributeValue::N("7".into()))
        .send()
        .await
        .unwrap();
    let item = dynamodb
        .get_item()
        .table_name(TABLE)
        .key("pk", AttributeValue::S("m".into()))
        .send()
        .await
        .unwrap();
    assert_eq!(item.item().unwrap()["n"], AttributeValue::N("7".into()));

    let bedrock = aws_sdk_bedrockruntime::Client::new(&config);
    let out = bedrock
        .invoke_model()
        .model_id(MODEL)
        .content_type("application/json")
        .body(image_body().into())
        .send()
        .await
        .unwrap();
    let answer: serde_json::Value = serde_json::from_slice(out.body().as_ref()).unwrap();
    assert!(answer["images"][0].is_string(), "{answer}");
    assert_eq!(aws.model_stats().succeeded, 1);

    // No force_path_style: the SDK's endpoint rules address an IP endpoint path-style.
    let s3 = aws_sdk_s3::Client::new(&config);
    s3.put_object()
        .bucket("b-1")
        .key("prompts/a.txt")
        .body(b"hello".to_vec().into())
        .send()
        .await
        .unwrap();
    let got = s3
        .get_object()
        .bucket("b-1")
        .key("prompts/a.txt")
        .send()
        .await
        .unwrap();
    assert_eq!(got.body.collect().await.unwrap().to_vec(), b"hello");
}

/// Allows `alice` everything and `bob` nothing, and keeps what it was asked.
#[derive(Debug, Default)]
struct OnlyAlice {
    asked: Mutex<Vec<(String, RequestFacts)>>,
}

impl Authorize for OnlyAlice {
    fn authorize(&self, caller: &Caller, request: &RequestFacts) -> Result<(), Denied> {
        self.asked
            .lock()
            .unwrap()
            .push((caller.name.clone(), request.clone()));
        if caller.name == "alice" {
            Ok(())
        } else {
            Err(Denied::new(format!(
                "{} may not {}",
                caller.name, request.operation
            )))
        }
    }
}

fn key(id: &str) -> AccessKey {
    AccessKey {
        id: id.into(),
        secret: format!("{id}/secret"),
    }
}

async fn guarded(aws: &LocalAws, hook: Arc<OnlyAlice>) -> Served {
    let callers = Callers::new()
        .with(key("AKIAALICE"), Caller::new("alice"))
        .with(key("AKIABOB"), Caller::new("bob"));
    let access = Access::new(callers).with_authorize(hook);
    serve(local_router_with(aws, None, Arc::new(access)).unwrap()).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_callers_requests_go_to_the_hook_and_denials_take_each_services_shape() {
    let (_dir, aws) = local("endpoint-callers", FakeModelBehavior::default());
    aws.create_table(TABLE, "pk");
    aws.create_bucket("b-1").unwrap();
    let hook = Arc::new(OnlyAlice::default());
    let served = guarded(&aws, Arc::clone(&hook)).await;
    let alice = sdk_config(&served.endpoint, &key("AKIAALICE"));
    let bob = sdk_config(&served.endpoint, &key("AKIABOB"));

    let put = |config: &aws_types::SdkConfig| {
        aws_sdk_s3::Client::new(config)
            .put_object()
            .bucket("b-1")
            .key("images/a.png")
            .body(b"x".to_vec().into())
            .send()
    };
    put(&alice).await.unwrap();
    let err = put(&bob).await.unwrap_err();
    assert_eq!(err.raw_response().unwrap().status().as_u16(), 403);
    assert_eq!(err.code(), Some("AccessDenied"));
    assert_eq!(err.message(), Some("bob may not PutObject"));

    let publish = |config: &aws_types::SdkConfig| {
        aws_sdk_sns::Client::new(config)
            .publish()
            .topic_arn(aws.topic_arn("t"))
            .message("m")
            .send()
    };
    publish(&alice).await.unwrap();
    let err = publish(&bob).await.unwrap_err();
    assert_eq!(err.raw_response().unwrap().status().as_u16(), 403);
    assert_eq!(err.code(), Some("AuthorizationError"));

    let get = |config: &aws_types::SdkConfig| {
        aws_sdk_dynamodb::Client::new(config)
            .get_item()
            .table_name(TABLE)
            .key("pk", AttributeValue::S("m".into()))
            .send()
    };
    get(&alice).await.unwrap();
    let err = get(&bob).await.unwrap_err();
    assert_eq!(err.raw_response().unwrap().status().as_u16(), 400);
    assert_eq!(err.code(), Some("AccessDeniedException"));

    let err = aws_sdk_sfn::Client::new(&bob)
        .list_state_machines()
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("AccessDeniedException"));

    let err = aws_sdk_bedrockruntime::Client::new(&bob)
        .invoke_model()
        .model_id(MODEL)
        .body(image_body().into())
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.raw_response().unwrap().status().as_u16(), 403);
    assert!(err.as_service_error().unwrap().is_access_denied_exception());
    assert_eq!(aws.model_stats().calls, 0, "a denied call never runs");

    let asked = hook.asked.lock().unwrap().clone();
    let facts = |caller: &str, operation: &str| {
        asked
            .iter()
            .find(|(c, f)| c == caller && f.operation == operation)
            .map(|(_, f)| f.clone())
            .unwrap_or_else(|| panic!("{caller} {operation}: {asked:?}"))
    };
    let Params::S3(s3) = facts("alice", "PutObject").params else {
        panic!()
    };
    assert_eq!(
        (s3.bucket.as_deref(), s3.key.as_deref()),
        (Some("b-1"), Some("images/a.png"))
    );
    let Params::Json(body) = facts("bob", "GetItem").params else {
        panic!()
    };
    assert_eq!(body["TableName"], TABLE);
    assert_eq!(facts("bob", "InvokeModel").service, "bedrock");
    assert_eq!(
        facts("bob", "InvokeModel").params,
        Params::Model {
            model_id: MODEL.into()
        }
    );
    assert!(asked.iter().all(|(_, f)| !f.secure_transport));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_that_is_no_callers_is_refused_and_a_read_says_whether_the_key_exists() {
    let (_dir, aws) = local("endpoint-unknown-key", FakeModelBehavior::default());
    aws.create_bucket("b-1").unwrap();
    let hook = Arc::new(OnlyAlice::default());
    let served = guarded(&aws, Arc::clone(&hook)).await;
    let stranger = sdk_config(&served.endpoint, &key("AKIASTRANGER"));
    let err = aws_sdk_s3::Client::new(&stranger)
        .head_bucket()
        .bucket("b-1")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.raw_response().unwrap().status().as_u16(), 403);
    let err = aws_sdk_sns::Client::new(&stranger)
        .publish()
        .topic_arn(aws.topic_arn("t"))
        .message("m")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("InvalidClientTokenId"));
    // The published key is not one of this endpoint's callers.
    let err = aws_sdk_sns::Client::new(&sdk_config(&served.endpoint, &AccessKey::published()))
        .publish()
        .topic_arn(aws.topic_arn("t"))
        .message("m")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("InvalidClientTokenId"));
    assert!(hook.asked.lock().unwrap().is_empty());

    let alice = aws_sdk_s3::Client::new(&sdk_config(&served.endpoint, &key("AKIAALICE")));
    alice
        .put_object()
        .bucket("b-1")
        .key("here")
        .body(b"x".to_vec().into())
        .send()
        .await
        .unwrap();
    alice
        .head_object()
        .bucket("b-1")
        .key("here")
        .send()
        .await
        .unwrap();
    let _ = alice.get_object().bucket("b-1").key("gone").send().await;
    let exists = |key: &str| {
        hook.asked
            .lock()
            .unwrap()
            .iter()
            .find_map(|(_, f)| match &f.params {
                Params::S3(s3) if s3.key.as_deref() == Some(key) && f.operation != "PutObject" => {
                    Some(s3.object_exists)
                }
                _ => None,
            })
    };
    assert_eq!(exists("here"), Some(Some(true)));
    assert_eq!(exists("gone"), Some(Some(false)));
}
