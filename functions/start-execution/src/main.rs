//! Lambda entry point: wires the Step Functions client and runs the handler.

use imagegen_shared::adapters::{SfnStarter, load_sdk_config};
use imagegen_shared::config::ProcessEnv;
use lambda_runtime::{Error, LambdaEvent, service_fn};
use start_execution::{Config, handle};

#[tokio::main]
async fn main() -> Result<(), Error> {
    imagegen_shared::telemetry::init();
    let config = Config::from_env(&ProcessEnv)?;
    let sdk = load_sdk_config().await;
    let starter = SfnStarter::new(
        aws_sdk_sfn::Client::new(&sdk),
        config.state_machine_arn.clone(),
    );
    let (config, starter) = (&config, &starter);
    lambda_runtime::run(service_fn(
        move |event: LambdaEvent<serde_json::Value>| async move {
            handle(config, starter, event.payload).await
        },
    ))
    .await
}
