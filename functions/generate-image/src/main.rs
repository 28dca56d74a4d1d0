//! Lambda entry point: wires the Bedrock runtime and S3 clients and runs the handler.

use generate_image::{Config, handle};
use imagegen_aws::{BedrockModel, S3Store, load_sdk_config};
use imagegen_core::config::ProcessEnv;

#[tokio::main]
async fn main() -> Result<(), imagegen_lambda::Error> {
    imagegen_lambda::run(
        async || {
            let config = Config::from_env(&ProcessEnv)?;
            let sdk = load_sdk_config().await;
            // One attempt per invocation: every InvokeModel must sit in a model slot reserved by
            // ReserveModelSlot. The SDK's own retries would be requests outside the slots, so a
            // throttle goes back to the state machine, which reserves a new slot.
            let mut bedrock = aws_sdk_bedrockruntime::config::Builder::from(&sdk)
                .retry_config(aws_sdk_bedrockruntime::config::retry::RetryConfig::disabled());
            if let Some(region) = &config.bedrock_region {
                bedrock =
                    bedrock.region(aws_sdk_bedrockruntime::config::Region::new(region.clone()));
            }
            let model =
                BedrockModel::new(aws_sdk_bedrockruntime::Client::from_conf(bedrock.build()));
            let store = S3Store::new(aws_sdk_s3::Client::new(&sdk));
            Ok((config, model, store))
        },
        async |(config, model, store), event| handle(config, model, store, event).await,
    )
    .await
}
