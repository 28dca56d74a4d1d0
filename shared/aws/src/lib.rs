//! imagegen's ports ([`imagegen_core::ports`]) implemented over the official AWS SDK clients, one
//! feature per service (`s3`, `sfn`, `sns`, `bedrock`, `dynamodb`), so each function compiles only the SDKs it
//! calls. SDK errors are classified here, once, into the port's error types; handlers never see an SDK
//! error. Tests drive these with `aws-smithy-mocks`; local mode gives the same clients an in-process
//! transport or a loopback endpoint.
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

#[cfg(feature = "bedrock")]
mod bedrock;
#[cfg(feature = "dynamodb")]
pub mod dynamodb;
mod error;
#[cfg(feature = "s3")]
mod s3;
#[cfg(feature = "sfn")]
mod sfn;
#[cfg(feature = "sns")]
mod sns;

#[cfg(feature = "bedrock")]
pub use bedrock::{BUDGET_SPENT_POLICY_PATH, BedrockModel};
#[cfg(feature = "dynamodb")]
pub use dynamodb::DynamoModelSlots;
pub use error::error_text;
#[cfg(feature = "s3")]
pub use s3::S3Store;
#[cfg(feature = "sfn")]
pub use sfn::{SfnDescriber, SfnStarter};
#[cfg(feature = "sns")]
pub use sns::SnsNotifier;

/// Shared SDK configuration from the environment (region, credentials, endpoint overrides).
pub async fn load_sdk_config() -> aws_config::SdkConfig {
    aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await
}
