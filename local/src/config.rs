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
/// The access key the local clients sign with (the S3 stand-in checks signatures made with it).
pub const ACCESS_KEY_ID: &str = "IMAGEGENLOCALKEY";
/// The secret key that goes with [`ACCESS_KEY_ID`].
pub const SECRET_ACCESS_KEY: &str = "imagegen-local-secret-access-key";
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
}

impl Default for ClientOptions {
    fn default() -> Self {
        Self {
            region: DEFAULT_REGION.to_owned(),
            retry: RetryConfig::standard(),
            s3_endpoint: DEFAULT_S3_ENDPOINT.to_owned(),
        }
    }
}

/// The static credentials local clients use.
pub fn credentials() -> aws_sdk_s3::config::Credentials {
    aws_sdk_s3::config::Credentials::new(
        ACCESS_KEY_ID,
        SECRET_ACCESS_KEY,
        None,
        None,
        "imagegen-local",
    )
}

/// Stalled-stream protection for local clients: off. On AWS it catches a network that stopped
/// delivering; here bodies come from the same process, and the only "stall" is a body not polled for
/// a while (by the SDK's real-time measure) because the single-threaded runtime of `--fast-retries`
/// is busy with other executions, as in a burst of a thousand, where it failed prompt reads.
pub fn stalled_stream_protection() -> StalledStreamProtectionConfig {
    StalledStreamProtectionConfig::disabled()
}

/// What every in-process client shares: the region, the local credentials, the retry policy and
/// stalled-stream protection of `options`, with `http` (the stand-in that answers) as the transport.
/// Each service's client is made from it (`aws_sdk_x::Client::new(&config)`).
pub fn sdk_config(options: &ClientOptions, http: impl HttpClient + 'static) -> SdkConfig {
    SdkConfig::builder()
        .behavior_version(
            aws_smithy_runtime_api::client::behavior_version::BehaviorVersion::latest(),
        )
        .region(Region::new(options.region.clone()))
        .credentials_provider(SharedCredentialsProvider::new(credentials()))
        .retry_config(options.retry.clone())
        .stalled_stream_protection(stalled_stream_protection())
        .http_client(http)
        .build()
}
