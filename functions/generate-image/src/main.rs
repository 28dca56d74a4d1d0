//! Lambda entry point: wires the Bedrock runtime and S3 clients and runs the handler.

use generate_image::{Config, handle};
use imagegen_shared::adapters::{BedrockModel, S3Store, load_sdk_config};
use imagegen_shared::config::ProcessEnv;
use lambda_runtime::{Error, LambdaEvent, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    imagegen_shared::telemetry::init();
    let config = Config::from_env(&ProcessEnv)?;
    let sdk = load_sdk_config().await;
    let mut bedrock = aws_sdk_bedrockruntime::config::Builder::from(&sdk);
    if let Some(region) = &config.bedrock_region {
        bedrock = bedrock.region(aws_sdk_bedrockruntime::config::Region::new(region.clone()));
    }
    let model = BedrockModel::new(aws_sdk_bedrockruntime::Client::from_conf(bedrock.build()));
    let store = S3Store::new(aws_sdk_s3::Client::new(&sdk));
    let (config, model, store) = (&config, &model, &store);
    lambda_runtime::run(service_fn(
        move |event: LambdaEvent<serde_json::Value>| async move {
            handle(config, model, store, event.payload).await
        },
    ))
    .await
}
