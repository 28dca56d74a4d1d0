//! The pinned assembly's policies enforced at the twin's endpoint: each function role's key, the
//! administrator's key, and the real SDK clients, answered as AWS answers them.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::sync::Arc;

use aws_sdk_dynamodb::error::ProvideErrorMetadata as _;
use aws_sdk_dynamodb::types::AttributeValue;
use aws_smithy_http_client::tls::{self, TlsContext, TrustStore, rustls_provider::CryptoMode};
use imagegen_local::config::AccessKey;
use imagegen_local::server::{self, Access, LocalCa, local_router_with};
use imagegen_local::sqs::QueueSettings;
use imagegen_local::{ClientOptions, FakeModelBehavior, LocalAws};
use imagegen_rehearse::enforce::RoleKey;
use imagegen_rehearse::plan::Function;
use imagegen_rehearse::{
    Assembly, Authorizer, Enforcer, Inventory, Keys, Plan, Stack, StackChoice, Template,
};
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::oneshot;

/// A data directory removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(label: &str) -> Self {
        let path =
            std::env::temp_dir().join(format!("imagegen-rehearse-{label}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        Self(path)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The fixture's twin, served with its policies enforced.
struct Twin {
    _dir: TempDir,
    _stop: oneshot::Sender<()>,
    endpoint: String,
    region: String,
    keys: Keys,
    plan: Plan,
    /// The CA the clients trust (PEM).
    ca_pem: String,
}

impl Twin {
    /// `tls`: whether the clients reach the endpoint over HTTPS, trusting the data directory's
    /// CA (the rehearsal's way), or over plain HTTP on the same port.
    async fn serve(label: &str, tls: bool) -> Self {
        Self::serve_edited(label, tls, |_| {}).await
    }

    /// As [`Self::serve`], the template's copy changed by `edit` first.
    async fn serve_edited(label: &str, tls: bool, edit: impl FnOnce(&mut Value)) -> Self {
        let assembly = Assembly::load(
            &PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/cdk.out"),
            &StackChoice::ThePipeline,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let mut value = assembly.template().value().clone();
        edit(&mut value);
        // The template outlives the test; leaking it keeps the helper simple.
        let template: &'static Template = Box::leak(Box::new(
            Template::from_value(value).unwrap_or_else(|e| panic!("{e}")),
        ));
        let stack =
            Stack::new(template, assembly.stack_options()).unwrap_or_else(|e| panic!("{e}"));
        let inventory = Inventory::take(&stack).unwrap_or_else(|e| panic!("{e}"));
        let plan = Plan::make(&assembly, &stack, &inventory).unwrap_or_else(|e| panic!("{e}"));
        let authorizer = Authorizer::from_stack(&stack).unwrap_or_else(|e| panic!("{e}"));

        let dir = TempDir::new(label);
        let options = ClientOptions {
            region: stack.region().to_owned(),
            retry: aws_smithy_types::retry::RetryConfig::disabled(),
            ..ClientOptions::default()
        };
        let aws = LocalAws::open_with(dir.0.join("data"), options, FakeModelBehavior::default())
            .unwrap_or_else(|e| panic!("{e}"));
        for bucket in &plan.buckets {
            aws.create_bucket(&bucket.name)
                .unwrap_or_else(|e| panic!("{e}"));
        }
        for table in &plan.tables {
            aws.create_table(&table.name, &table.key_schema[0].0);
        }
        for queue in &plan.queues {
            aws.sqs()
                .create_queue(&queue.name, QueueSettings::default())
                .unwrap_or_else(|e| panic!("{e}"));
        }

        let keys = Keys::issue(&plan);
        let access =
            Access::new(keys.callers()).with_authorize(Arc::new(Enforcer::new(authorizer, &stack)));
        let router =
            local_router_with(&aws, None, Arc::new(access)).unwrap_or_else(|e| panic!("{e}"));
        let ca = LocalCa::load_or_create(aws.data_dir()).unwrap_or_else(|e| panic!("{e}"));
        let server_tls = ca.server_tls().unwrap_or_else(|e| panic!("{e}"));
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let endpoint = format!(
            "{}://{}",
            if tls { "https" } else { "http" },
            listener.local_addr().unwrap_or_else(|e| panic!("{e}"))
        );
        let (stop, stopped) = oneshot::channel::<()>();
        tokio::spawn(server::serve(
            listener,
            Arc::new(router),
            Some(server_tls),
            async {
                let _ = stopped.await;
            },
        ));
        Self {
            _dir: dir,
            _stop: stop,
            endpoint,
            region: stack.region().to_owned(),
            keys,
            plan,
            ca_pem: ca.cert_pem().to_owned(),
        }
    }

    /// The function whose logical id starts with `prefix`.
    fn function(&self, prefix: &str) -> &Function {
        self.plan
            .functions
            .iter()
            .find(|f| f.logical_id.starts_with(prefix))
            .unwrap_or_else(|| panic!("no function {prefix}"))
    }

    /// The key of the function whose logical id starts with `prefix`.
    fn role(&self, prefix: &str) -> &RoleKey {
        let function = self.function(prefix);
        self.keys
            .function(&function.arn)
            .unwrap_or_else(|| panic!("no key for {}", function.arn))
    }

    /// What a process with these credentials and `AWS_ENDPOINT_URL` gets.
    fn config(&self, key: &AccessKey, session_token: Option<&str>) -> aws_types::SdkConfig {
        let credentials = aws_credential_types::Credentials::new(
            key.id.clone(),
            key.secret.clone(),
            session_token.map(str::to_owned),
            None,
            "rehearsal",
        );
        aws_types::SdkConfig::builder()
            .behavior_version(aws_sdk_s3::config::BehaviorVersion::latest())
            .region(aws_types::region::Region::new(self.region.clone()))
            .credentials_provider(aws_types::sdk_config::SharedCredentialsProvider::new(
                credentials,
            ))
            .retry_config(aws_smithy_types::retry::RetryConfig::disabled())
            .endpoint_url(&self.endpoint)
            .http_client(
                // The SDK's default HTTP client (rustls on aws-lc-rs), trusting the twin's CA.
                aws_smithy_http_client::Builder::new()
                    .tls_provider(tls::Provider::Rustls(CryptoMode::AwsLc))
                    .tls_context(
                        TlsContext::builder()
                            .with_trust_store(
                                TrustStore::empty().with_pem_certificate(self.ca_pem.as_bytes()),
                            )
                            .build()
                            .unwrap_or_else(|e| panic!("{e}")),
                    )
                    .build_https(),
            )
            .build()
    }

    fn as_role(&self, prefix: &str) -> aws_types::SdkConfig {
        let role = self.role(prefix);
        self.config(&role.key, Some(&role.session_token))
    }

    fn as_administrator(&self) -> aws_types::SdkConfig {
        self.config(&self.keys.administrator, None)
    }

    fn bucket(&self) -> &str {
        &self
            .plan
            .buckets
            .iter()
            .find(|b| b.logical_id.starts_with("StoreBucket"))
            .unwrap_or_else(|| panic!("no store bucket"))
            .name
    }

    fn topic(&self) -> &str {
        &self
            .plan
            .topics
            .iter()
            .find(|t| t.logical_id.starts_with("ResultsTopic"))
            .unwrap_or_else(|| panic!("no results topic"))
            .arn
    }

    fn table(&self) -> &str {
        &self.plan.tables[0].name
    }

    fn prompts_queue(&self) -> &str {
        &self
            .plan
            .queues
            .iter()
            .find(|q| q.logical_id.starts_with("PromptsQueue"))
            .unwrap_or_else(|| panic!("no prompts queue"))
            .url
    }
}

/// The logical id of the template's resource whose id starts with `prefix`.
fn logical_id(template: &Value, prefix: &str) -> String {
    template["Resources"]
        .as_object()
        .and_then(|r| r.keys().find(|id| id.starts_with(prefix)))
        .unwrap_or_else(|| panic!("no resource {prefix}"))
        .clone()
}

async fn send(config: &aws_types::SdkConfig, queue_url: &str) -> Result<(), String> {
    aws_sdk_sqs::Client::new(config)
        .send_message()
        .queue_url(queue_url)
        .message_body("a red kite")
        .send()
        .await
        .map(drop)
        .map_err(|e| format!("{}: {}", e.code().unwrap_or("?"), e.message().unwrap_or("")))
}

async fn put(config: &aws_types::SdkConfig, bucket: &str, key: &str) -> Result<(), String> {
    aws_sdk_s3::Client::new(config)
        .put_object()
        .bucket(bucket)
        .key(key)
        .body(b"x".to_vec().into())
        .send()
        .await
        .map(drop)
        .map_err(|e| format!("{}: {}", e.code().unwrap_or("?"), e.message().unwrap_or("")))
}

async fn publish(config: &aws_types::SdkConfig, topic: &str) -> Result<(), String> {
    aws_sdk_sns::Client::new(config)
        .publish()
        .topic_arn(topic)
        .message("done")
        .send()
        .await
        .map(drop)
        .map_err(|e| format!("{}: {}", e.code().unwrap_or("?"), e.message().unwrap_or("")))
}

async fn update(config: &aws_types::SdkConfig, table: &str) -> Result<(), String> {
    aws_sdk_dynamodb::Client::new(config)
        .update_item()
        .table_name(table)
        .key("modelId", AttributeValue::S("m".into()))
        .update_expression("SET #n = :n")
        .expression_attribute_names("#n", "n")
        .expression_attribute_values(":n", AttributeValue::N("1".into()))
        .send()
        .await
        .map(drop)
        .map_err(|e| format!("{}: {}", e.code().unwrap_or("?"), e.message().unwrap_or("")))
}

fn denied(result: Result<(), String>, code: &str, action: &str) {
    let Err(error) = result else {
        panic!("{action} was allowed")
    };
    assert!(error.starts_with(&format!("{code}: ")), "{error}");
    assert!(
        error.contains(&format!("is not authorized to perform: {action}")),
        "{error}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_function_role_may_do_what_its_policies_grant_and_no_more() {
    let twin = Twin::serve("roles", true).await;
    let generate = twin.as_role("GenerateImageFunction");
    let bucket = twin.bucket().to_owned();

    put(&generate, &bucket, "images/r1/0.png")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let refused = put(&generate, &bucket, "results/r1.json").await;
    denied(refused.clone(), "AccessDenied", "s3:PutObject");
    // Named as AWS names a function's caller: its role's session, named after the function.
    let function = twin.function("GenerateImageFunction");
    let role_name = function.role_arn.rsplit('/').next().unwrap_or_default();
    assert_eq!(
        refused.unwrap_err(),
        format!(
            "AccessDenied: User: arn:aws:sts::000000000000:assumed-role/{role_name}/{} is not \
             authorized to perform: s3:PutObject on resource: arn:aws:s3:::{bucket}/results/r1.json \
             because no identity-based policy allows the s3:PutObject action",
            function.name
        )
    );
    // Without s3:ListBucket a missing key is 403, not 404.
    let missing = aws_sdk_s3::Client::new(&generate)
        .head_object()
        .bucket(&bucket)
        .key("images/none.png")
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        missing.raw_response().map(|r| r.status().as_u16()),
        Some(403)
    );

    denied(
        publish(&generate, twin.topic()).await,
        "AuthorizationError",
        "sns:Publish",
    );
    publish(&twin.as_role("NotifyUserFunction"), twin.topic())
        .await
        .unwrap_or_else(|e| panic!("{e}"));

    denied(
        update(&generate, twin.table()).await,
        "AccessDeniedException",
        "dynamodb:UpdateItem",
    );
    update(&twin.as_role("ReserveModelSlotFunction"), twin.table())
        .await
        .unwrap_or_else(|e| panic!("{e}"));

    // An operation the table does not know is refused for a role, saying so.
    let err = aws_sdk_s3::Client::new(&generate)
        .list_buckets()
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("AccessDenied"));
    assert!(
        err.message()
            .is_some_and(|m| m.contains("does not know the operation s3:ListBuckets")),
        "{err:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_administrator_may_do_anything_no_explicit_deny_forbids() {
    let twin = Twin::serve("administrator", true).await;
    let admin = twin.as_administrator();
    let bucket = twin.bucket().to_owned();
    put(&admin, &bucket, "results/r1.json")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    // Except what an explicit Deny in a resource policy forbids: only the pipeline's functions
    // publish to the results topic.
    let refused = publish(&admin, twin.topic()).await.unwrap_err();
    assert!(refused.starts_with("AuthorizationError: "), "{refused}");
    assert!(
        refused.contains("with an explicit deny in a resource-based policy"),
        "{refused}"
    );
    update(&admin, twin.table())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let s3 = aws_sdk_s3::Client::new(&admin);
    let listed = s3
        .list_objects_v2()
        .bucket(&bucket)
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(listed.key_count(), Some(1));
    // An operation the rehearsal does not know is the administrator's to make.
    s3.list_buckets()
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    // A missing key is 404 to a caller that may list the bucket.
    let missing = s3
        .head_object()
        .bucket(&bucket)
        .key("images/none.png")
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        missing.raw_response().map(|r| r.status().as_u16()),
        Some(404)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_plain_http_the_buckets_tls_only_deny_refuses_everyone() {
    let twin = Twin::serve("plain-http", false).await;
    let bucket = twin.bucket().to_owned();
    denied(
        put(&twin.as_administrator(), &bucket, "results/r1.json").await,
        "AccessDenied",
        "s3:PutObject",
    );
    denied(
        put(
            &twin.as_role("GenerateImageFunction"),
            &bucket,
            "images/r1/0.png",
        )
        .await,
        "AccessDenied",
        "s3:PutObject",
    );
    // DynamoDB has no such policy.
    update(&twin.as_administrator(), twin.table())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
}

/// Where a function's role may use the queue but not its key, SQS refuses as KMS refused it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sending_to_the_encrypted_queue_needs_its_key() {
    let twin = Twin::serve_edited("kms-queue", true, |t| {
        // The queue consumer may send to its queue too, without kms:GenerateDataKey on its key
        // (it has kms:Decrypt only).
        let policy = logical_id(t, "QueueConsumerRoleDefaultPolicy");
        let queue = logical_id(t, "PromptsQueue");
        t["Resources"][policy]["Properties"]["PolicyDocument"]["Statement"]
            .as_array_mut()
            .unwrap()
            .push(json!({"Effect": "Allow", "Action": "sqs:SendMessage",
                         "Resource": {"Fn::GetAtt": [queue, "Arn"]}}));
    })
    .await;
    let refused = send(&twin.as_role("QueueConsumerFunction"), twin.prompts_queue())
        .await
        .unwrap_err();
    assert!(
        refused.starts_with("KMS.AccessDeniedException: "),
        "{refused}"
    );
    assert!(
        refused.contains(
            "is not authorized to perform: kms:GenerateDataKey on resource: arn:aws:kms:us-east-1:"
        ),
        "{refused}"
    );
    // The administrator's grant reaches the key through the key policy's delegation.
    send(&twin.as_administrator(), twin.prompts_queue())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
}

/// Without the key policy's delegation to the account, NotifyUser's own grant on the results
/// topic's key does not count, and SNS refuses as KMS refused it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn publishing_needs_a_key_policy_that_lets_the_role_use_the_key() {
    let twin = Twin::serve_edited("kms-topic", true, |t| {
        let key = logical_id(t, "ResultsKey");
        t["Resources"][key]["Properties"]["KeyPolicy"]["Statement"] = json!([{
            "Effect": "Allow", "Action": "kms:*", "Resource": "*",
            "Principal": {"AWS": "arn:aws:iam::000000000000:role/KeyAdministrator"}
        }]);
    })
    .await;
    let refused = publish(&twin.as_role("NotifyUserFunction"), twin.topic())
        .await
        .unwrap_err();
    assert!(refused.starts_with("KMSAccessDenied: "), "{refused}");
    assert!(
        refused.contains("is not authorized to perform: kms:GenerateDataKey on resource: ")
            && refused.ends_with(
                "because no resource-based policy allows the kms:GenerateDataKey action"
            ),
        "{refused}"
    );
}

/// A function's key is temporary: without its session token, or with another, each service
/// refuses it as AWS refuses an invalid token; the administrator's long-term key needs none.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_roles_key_needs_its_session_token() {
    let twin = Twin::serve("tokens", true).await;
    let generate = twin.role("GenerateImageFunction");
    let bucket = twin.bucket().to_owned();
    let other = &twin.role("NotifyUserFunction").session_token;
    for token in [None, Some(other.as_str())] {
        let config = twin.config(&generate.key, token);
        let refused = put(&config, &bucket, "images/r1/0.png").await.unwrap_err();
        assert_eq!(
            refused,
            "InvalidToken: The provided token is malformed or otherwise invalid."
        );
        let refused = update(&config, twin.table()).await.unwrap_err();
        assert_eq!(
            refused,
            "UnrecognizedClientException: The security token included in the request is invalid."
        );
        let refused = publish(&config, twin.topic()).await.unwrap_err();
        assert_eq!(
            refused,
            "InvalidClientTokenId: The security token included in the request is invalid."
        );
    }
    put(
        &twin.as_role("GenerateImageFunction"),
        &bucket,
        "images/r1/0.png",
    )
    .await
    .unwrap_or_else(|e| panic!("{e}"));
    put(&twin.as_administrator(), &bucket, "results/r1.json")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
}
