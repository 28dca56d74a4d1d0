//! Lambda entry point: wires the S3 client and runs the handler.

use imagegen_aws::{S3Store, load_sdk_config};
use imagegen_core::config::ProcessEnv;
use validate_prompt::{Config, handle};

#[tokio::main]
async fn main() -> Result<(), imagegen_lambda::Error> {
    imagegen_lambda::run(
        async || {
            let config = Config::from_env(&ProcessEnv)?;
            let store = S3Store::new(aws_sdk_s3::Client::new(&load_sdk_config().await));
            Ok((config, store))
        },
        async |(config, store), event| handle(config, store, event).await,
    )
    .await
}
