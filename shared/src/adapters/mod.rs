//! The ports implemented over the official AWS SDK clients. Tests drive these with `aws-smithy-mocks`;
//! local mode gives the same clients an in-process transport or a loopback endpoint.

mod bedrock;
mod s3;
mod sfn;
mod sns;

pub use bedrock::BedrockModel;
pub use s3::S3Store;
pub use sfn::SfnStarter;
pub use sns::SnsNotifier;

/// Shared SDK configuration from the environment (region, credentials, endpoint overrides).
pub async fn load_sdk_config() -> aws_config::SdkConfig {
    aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await
}
