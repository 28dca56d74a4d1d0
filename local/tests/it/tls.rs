//! The endpoint over HTTPS, with the data directory's own CA: the SDK and curl trust it when told
//! to (and only then), plain HTTP is still answered on the same port, and the authorisation hook
//! sees `aws:SecureTransport` true exactly for requests that came over TLS.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::{Arc, Mutex};

use aws_smithy_types::retry::RetryConfig;
use aws_types::region::Region;
use imagegen_local::FakeModelBehavior;
use imagegen_local::config::{AccessKey, DEFAULT_REGION};
use imagegen_local::server::{
    self, Access, Authorize, Caller, Callers, Denied, LocalCa, RequestFacts, ServerTls,
    local_router_with,
};
use tokio::net::TcpListener;
use tokio::sync::oneshot;

use crate::common::local;

/// Allows everything, and keeps each request's operation and whether it came over TLS.
#[derive(Debug, Default)]
struct Recording {
    asked: Mutex<Vec<(String, bool)>>,
}

impl Authorize for Recording {
    fn authorize(&self, _: &Caller, request: &RequestFacts) -> Result<(), Denied> {
        self.asked
            .lock()
            .unwrap()
            .push((request.operation.clone(), request.secure_transport));
        Ok(())
    }
}

impl Recording {
    fn take(&self) -> Vec<(String, bool)> {
        std::mem::take(&mut *self.asked.lock().unwrap())
    }
}

/// A served router on 127.0.0.1; the server stops when this is dropped.
struct Served {
    port: u16,
    _stop: oneshot::Sender<()>,
}

async fn serve(router: server::Router, tls: Option<ServerTls>) -> Served {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(server::serve(listener, Arc::new(router), tls, async {
        let _ = stopped.await;
    }));
    Served { port, _stop: stop }
}

fn key() -> AccessKey {
    AccessKey {
        id: "AKIATLS".into(),
        secret: "tls/secret".into(),
    }
}

/// A function's settings at `endpoint`; over HTTPS, with an HTTP client that trusts `ca_pem` only.
fn sdk_config(endpoint: &str, ca_pem: Option<&str>) -> aws_types::SdkConfig {
    let mut config = aws_types::SdkConfig::builder()
        .behavior_version(aws_sdk_s3::config::BehaviorVersion::latest())
        .region(Region::new(DEFAULT_REGION))
        .credentials_provider(aws_types::sdk_config::SharedCredentialsProvider::new(
            key().credentials(),
        ))
        .retry_config(RetryConfig::disabled())
        .endpoint_url(endpoint);
    if let Some(pem) = ca_pem {
        config =
            config.http_client(imagegen_local::server::tls::https_client_trusting(pem).unwrap());
    }
    config.build()
}

async fn put_and_get(config: &aws_types::SdkConfig, key: &str) {
    let s3 = aws_sdk_s3::Client::new(config);
    s3.put_object()
        .bucket("b-1")
        .key(key)
        .body(b"over the wire".to_vec().into())
        .send()
        .await
        .unwrap();
    let got = s3.get_object().bucket("b-1").key(key).send().await.unwrap();
    assert_eq!(got.body.collect().await.unwrap().to_vec(), b"over the wire");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_port_answers_https_and_plain_http_and_the_hook_sees_which() {
    let (_dir, aws) = local("tls-both", FakeModelBehavior::default());
    aws.create_bucket("b-1").unwrap();
    let hook = Arc::new(Recording::default());
    let access = Access::new(Callers::new().with(key(), Caller::new("function")))
        .with_authorize(Arc::clone(&hook) as Arc<dyn Authorize>);
    let router = local_router_with(&aws, None, Arc::new(access)).unwrap();
    let ca = LocalCa::load_or_create(aws.data_dir()).unwrap();
    let served = serve(router, Some(ca.server_tls().unwrap())).await;

    // S3 (s3s's guard) and a query service (the router's own check), over TLS.
    let https = sdk_config(
        &format!("https://127.0.0.1:{}", served.port),
        Some(ca.cert_pem()),
    );
    put_and_get(&https, "tls.txt").await;
    aws_sdk_sns::Client::new(&https)
        .list_topics()
        .send()
        .await
        .unwrap();
    assert_eq!(
        hook.take(),
        [
            ("PutObject".to_owned(), true),
            ("GetObject".to_owned(), true),
            ("ListTopics".to_owned(), true),
        ]
    );

    // The same port, plain HTTP.
    let http = sdk_config(&format!("http://127.0.0.1:{}", served.port), None);
    put_and_get(&http, "plain.txt").await;
    aws_sdk_sns::Client::new(&http)
        .list_topics()
        .send()
        .await
        .unwrap();
    assert_eq!(
        hook.take(),
        [
            ("PutObject".to_owned(), false),
            ("GetObject".to_owned(), false),
            ("ListTopics".to_owned(), false),
        ]
    );

    // A client that does not trust the CA (the system's roots only) gets no answer.
    let untrusting = aws_types::SdkConfig::builder()
        .behavior_version(aws_sdk_s3::config::BehaviorVersion::latest())
        .region(Region::new(DEFAULT_REGION))
        .credentials_provider(aws_types::sdk_config::SharedCredentialsProvider::new(
            key().credentials(),
        ))
        .retry_config(RetryConfig::disabled())
        .endpoint_url(format!("https://127.0.0.1:{}", served.port))
        .build();
    let refused = aws_sdk_s3::Client::new(&untrusting)
        .list_buckets()
        .send()
        .await
        .unwrap_err();
    assert!(refused.raw_response().is_none(), "{refused:?}");
    assert!(hook.take().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_tls_config_a_handshake_is_not_answered() {
    let (_dir, aws) = local("tls-none", FakeModelBehavior::default());
    aws.create_bucket("b-1").unwrap();
    let access = Access::new(Callers::new().with(key(), Caller::new("function")));
    let router = local_router_with(&aws, None, Arc::new(access)).unwrap();
    let served = serve(router, None).await;
    let ca = LocalCa::load_or_create(aws.data_dir()).unwrap();
    let https = sdk_config(
        &format!("https://127.0.0.1:{}", served.port),
        Some(ca.cert_pem()),
    );
    let err = aws_sdk_s3::Client::new(&https)
        .list_buckets()
        .send()
        .await
        .unwrap_err();
    assert!(err.raw_response().is_none(), "{err:?}");
    put_and_get(
        &sdk_config(&format!("http://127.0.0.1:{}", served.port), None),
        "plain.txt",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_ca_is_made_once_per_data_directory_and_curl_trusts_it_only_when_told() {
    let (_dir, aws) = local("tls-ca", FakeModelBehavior::default());
    let first = LocalCa::load_or_create(aws.data_dir()).unwrap();
    let cert = std::fs::read(first.cert_path()).unwrap();
    let key_path = aws.data_dir().tls_dir().join(server::tls::CA_KEY_FILE);
    let key_bytes = std::fs::read(&key_path).unwrap();
    assert_eq!(first.cert_path(), aws.data_dir().tls_dir().join("ca.pem"));
    assert!(first.cert_pem().starts_with("-----BEGIN CERTIFICATE-----"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&key_path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "{mode:o}");
    }

    // A second start on the same directory: the same CA, and a server certificate it signed.
    let second = LocalCa::load_or_create(aws.data_dir()).unwrap();
    assert_eq!(std::fs::read(second.cert_path()).unwrap(), cert);
    assert_eq!(std::fs::read(&key_path).unwrap(), key_bytes);
    let router = local_router_with(
        &aws,
        None,
        Arc::new(Access::new(
            Callers::new().with(key(), Caller::new("function")),
        )),
    )
    .unwrap();
    let served = serve(router, Some(second.server_tls().unwrap())).await;

    let url = format!("https://127.0.0.1:{}/", served.port);
    let curl = |ca: Option<&std::path::Path>| {
        let mut command = std::process::Command::new("curl");
        command
            .args([
                "--silent",
                "--output",
                "/dev/null",
                "--write-out",
                "%{http_code}",
            ])
            // Only what this test says is trusted.
            .env_remove("CURL_CA_BUNDLE")
            .env_remove("SSL_CERT_FILE")
            .env_remove("SSL_CERT_DIR");
        if let Some(ca) = ca {
            command.arg("--cacert").arg(ca);
        }
        command.arg(&url).output().unwrap()
    };
    let trusted = curl(Some(first.cert_path()));
    assert!(trusted.status.success(), "{trusted:?}");
    // An unsigned request is S3's to refuse: the TLS part went through.
    assert_eq!(String::from_utf8_lossy(&trusted.stdout), "403");
    let untrusted = curl(None);
    // 60: the peer's certificate cannot be verified with the known CAs.
    assert_eq!(untrusted.status.code(), Some(60), "{untrusted:?}");
}

/// Set only in the process [`the_sdks_default_client_trusts_the_ca_through_client_environment`]
/// starts: the endpoint to call with the SDK's default HTTP client.
const CHILD_ENDPOINT: &str = "IMAGEGEN_TLS_TEST_ENDPOINT";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sdks_default_client_trusts_the_ca_through_client_environment() {
    let (_dir, aws) = local("tls-env", FakeModelBehavior::default());
    aws.create_bucket("b-1").unwrap();
    let access = Access::new(Callers::new().with(key(), Caller::new("function")));
    let router = local_router_with(&aws, None, Arc::new(access)).unwrap();
    let ca = LocalCa::load_or_create(aws.data_dir()).unwrap();
    let served = serve(router, Some(ca.server_tls().unwrap())).await;
    // The SDK loads its roots once per process, so each try is a process of its own: this test
    // binary again, running only the helper below, as a function's unmodified client would.
    let run = |environment: Vec<(&'static str, String)>| {
        let mut command = std::process::Command::new(std::env::current_exe().unwrap());
        command
            .args(["--exact", "tls::sdk_default_client_in_a_process_of_its_own"])
            .args(["--ignored", "--nocapture", "--test-threads=1"])
            .env(CHILD_ENDPOINT, format!("https://127.0.0.1:{}", served.port))
            .env_remove("SSL_CERT_FILE")
            .env_remove("SSL_CERT_DIR")
            .env_remove("AWS_CA_BUNDLE")
            .envs(environment);
        let output = tokio::task::block_in_place(|| command.output().unwrap());
        (
            output.status.success(),
            String::from_utf8_lossy(&output.stdout).into_owned(),
        )
    };
    let environment = server::tls::client_environment(ca.cert_path());
    let (trusted, out) = run(environment.clone());
    assert!(trusted, "{out}");
    assert!(out.contains("1 passed"), "{out}");
    // AWS_CA_BUNDLE alone is the AWS CLI's: the Rust SDK does not read it.
    let bundle_only = environment
        .iter()
        .filter(|(name, _)| *name == "AWS_CA_BUNDLE")
        .cloned()
        .collect();
    let (trusted, out) = run(bundle_only);
    assert!(!trusted, "{out}");
}

/// Run by the test above in a process of its own (ignored otherwise): a put with the SDK's
/// default HTTP client, whatever roots the environment gives it.
#[tokio::test]
#[ignore = "a helper process of the_sdks_default_client_trusts_the_ca_through_client_environment"]
async fn sdk_default_client_in_a_process_of_its_own() {
    let endpoint = std::env::var(CHILD_ENDPOINT).expect("started by the test above");
    let config = sdk_config(&endpoint, None);
    put_and_get(&config, "default-client.txt").await;
}
