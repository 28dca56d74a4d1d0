//! What every local client shares: region, credentials, retry policy and endpoints.

use aws_smithy_runtime_api::client::http::HttpClient;
use aws_smithy_runtime_api::client::stalled_stream_protection::StalledStreamProtectionConfig;
use aws_smithy_types::retry::RetryConfig;
use aws_types::SdkConfig;
use aws_types::region::Region;
use aws_types::sdk_config::SharedCredentialsProvider;

/// The account id in local ARNs: the engine's, so a definition's context object (`$$.Execution.Id`)
/// names the ARNs these stand-ins answer with.
pub use imagegen_statemachine::ACCOUNT_ID;
/// The published access key: the one local clients sign with, and the only one the stand-ins
/// accept, unless [`ClientOptions::key`] names another (`imagegen serve --allow-remote`).
pub const ACCESS_KEY_ID: &str = "IMAGEGENLOCALKEY";
/// The secret key that goes with [`ACCESS_KEY_ID`].
pub const SECRET_ACCESS_KEY: &str = "imagegen-local-secret-access-key";

/// The one access key a set of stand-ins accepts, and that its in-process clients sign with.
#[derive(Clone, PartialEq, Eq)]
pub struct AccessKey {
    pub id: String,
    pub secret: String,
}

impl AccessKey {
    /// [`ACCESS_KEY_ID`] and [`SECRET_ACCESS_KEY`]: fine for a process that never listens, or
    /// listens on loopback only.
    pub fn published() -> Self {
        Self {
            id: ACCESS_KEY_ID.to_owned(),
            secret: SECRET_ACCESS_KEY.to_owned(),
        }
    }

    /// The secret of `id`, if `id` is this key's.
    pub fn secret_of(&self, id: &str) -> Option<String> {
        (id == self.id).then(|| self.secret.clone())
    }

    /// The key as SDK credentials.
    pub fn credentials(&self) -> aws_sdk_s3::config::Credentials {
        aws_sdk_s3::config::Credentials::new(
            self.id.clone(),
            self.secret.clone(),
            None,
            None,
            "imagegen-local",
        )
    }
}

impl Default for AccessKey {
    fn default() -> Self {
        Self::published()
    }
}

/// The secret stays out of logs and `{:?}` output.
impl std::fmt::Debug for AccessKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccessKey")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}
/// The region local clients claim to be in (the engine's default Region).
pub use imagegen_statemachine::REGION as DEFAULT_REGION;
/// The endpoint S3 URLs (presigned ones included) name. Nothing listens there unless the
/// local runner serves the bucket on it.
pub const DEFAULT_S3_ENDPOINT: &str = "http://localhost:4566";

/// How the local SDK clients are configured.
#[derive(Debug, Clone)]
pub struct ClientOptions {
    pub region: String,
    /// The SDK retry policy; the default is the SDK's standard mode, as on AWS, so throttling is
    /// retried by the client before the handler sees it. Tests often want [`RetryConfig::disabled`].
    pub retry: RetryConfig,
    /// The endpoint URL given to the S3 client (path-style addressing).
    pub s3_endpoint: String,
    /// The key the clients sign with and the services accept.
    pub key: AccessKey,
}

impl Default for ClientOptions {
    fn default() -> Self {
        Self {
            region: DEFAULT_REGION.to_owned(),
            retry: RetryConfig::standard(),
            s3_endpoint: DEFAULT_S3_ENDPOINT.to_owned(),
            key: AccessKey::published(),
        }
    }
}

/// The published key's credentials (see [`AccessKey::published`]).
pub fn credentials() -> aws_sdk_s3::config::Credentials {
    AccessKey::published().credentials()
}

/// Stalled-stream protection for local clients: off. On AWS it catches a network that stopped
/// delivering; here bodies come from the same process, and the only "stall" is a body not polled for
/// a while (by the SDK's real-time measure) because the single-threaded runtime of `--fast-retries`
/// is busy with other executions, as in a burst of a thousand, where it failed prompt reads.
pub fn stalled_stream_protection() -> StalledStreamProtectionConfig {
    StalledStreamProtectionConfig::disabled()
}

/// What every in-process client shares: the region, the key of `options`, the retry policy and
/// stalled-stream protection of `options`, with `http` (the stand-in that answers) as the transport.
/// Each service's client is made from it (`aws_sdk_x::Client::new(&config)`).
pub fn sdk_config(options: &ClientOptions, http: impl HttpClient + 'static) -> SdkConfig {
    SdkConfig::builder()
        .behavior_version(
            aws_smithy_runtime_api::client::behavior_version::BehaviorVersion::latest(),
        )
        .region(Region::new(options.region.clone()))
        .credentials_provider(SharedCredentialsProvider::new(options.key.credentials()))
        .retry_config(options.retry.clone())
        .stalled_stream_protection(stalled_stream_protection())
        .http_client(http)
        .build()
}
