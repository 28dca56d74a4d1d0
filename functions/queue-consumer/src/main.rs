//! Lambda entry point: wires the Step Functions client and runs the handler.

use imagegen_aws::{SfnStarter, load_sdk_config};
use imagegen_core::config::ProcessEnv;
use queue_consumer::{Config, handle};

#[tokio::main]
async fn main() -> Result<(), imagegen_lambda::Error> {
    imagegen_lambda::run(
        async || {
            let config = Config::from_env(&ProcessEnv)?;
            let starter = SfnStarter::new(
                aws_sdk_sfn::Client::new(&load_sdk_config().await),
                config.state_machine_arn.clone(),
            );
            Ok((config, starter))
        },
        async |(config, starter), event| handle(config, starter, event).await,
    )
    .await
}
