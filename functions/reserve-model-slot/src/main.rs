//! Lambda entry point: wires the DynamoDB client and the system clock and runs the handler.

use imagegen_aws::{DynamoModelSlots, load_sdk_config};
use imagegen_core::config::ProcessEnv;
use imagegen_core::ports::SystemClock;
use reserve_model_slot::{Config, handle};

#[tokio::main]
async fn main() -> Result<(), imagegen_lambda::Error> {
    imagegen_lambda::run(
        async || {
            let config = Config::from_env(&ProcessEnv)?;
            let client = aws_sdk_dynamodb::Client::new(&load_sdk_config().await);
            let slots = DynamoModelSlots::new(client, config.table.clone());
            Ok((config, slots))
        },
        async |(config, slots), event| handle(config, slots, &SystemClock, event).await,
    )
    .await
}
