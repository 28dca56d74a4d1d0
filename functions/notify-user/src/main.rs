//! Lambda entry point: wires the S3 and SNS clients and runs the handler.

use imagegen_shared::adapters::{S3Store, SnsNotifier, load_sdk_config};
use imagegen_shared::config::ProcessEnv;
use lambda_runtime::{Error, LambdaEvent, service_fn};
use notify_user::{Config, handle};

#[tokio::main]
async fn main() -> Result<(), Error> {
    imagegen_shared::telemetry::init();
    let config = Config::from_env(&ProcessEnv)?;
    let sdk = load_sdk_config().await;
    let store = S3Store::new(aws_sdk_s3::Client::new(&sdk));
    let notifier = SnsNotifier::new(aws_sdk_sns::Client::new(&sdk), config.topic_arn.clone());
    let (config, store, notifier) = (&config, &store, &notifier);
    lambda_runtime::run(service_fn(
        move |event: LambdaEvent<serde_json::Value>| async move {
            handle(config, store, notifier, event.payload).await
        },
    ))
    .await
}
