//! Lambda entry point: wires the S3 client and runs the handler.

use generate_thumbnails::{Config, handle};
use imagegen_shared::adapters::{S3Store, load_sdk_config};
use imagegen_shared::config::ProcessEnv;
use lambda_runtime::{Error, LambdaEvent, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    imagegen_shared::telemetry::init();
    let config = Config::from_env(&ProcessEnv)?;
    let store = S3Store::new(aws_sdk_s3::Client::new(&load_sdk_config().await));
    let (config, store) = (&config, &store);
    lambda_runtime::run(service_fn(
        move |event: LambdaEvent<serde_json::Value>| async move {
            handle(config, store, event.payload).await
        },
    ))
    .await
}
