//! Lambda entry point: wires the Step Functions and S3 clients and answers API Gateway's requests.

use http_api::{Config, Ports, handle};
use imagegen_aws::{S3Store, SfnDescriber, SfnStarter, load_sdk_config};
use imagegen_core::config::ProcessEnv;

#[tokio::main]
async fn main() -> Result<(), imagegen_lambda::Error> {
    imagegen_lambda::http::run(
        async || {
            let config = Config::from_env(&ProcessEnv)?;
            let sdk = load_sdk_config().await;
            let sfn = aws_sdk_sfn::Client::new(&sdk);
            let ports = Ports {
                starter: SfnStarter::new(sfn.clone(), config.state_machine_arn.as_str()),
                describer: SfnDescriber::new(sfn),
                store: S3Store::new(aws_sdk_s3::Client::new(&sdk)),
            };
            Ok((config, ports))
        },
        |state, request| async move {
            let (config, ports) = &*state;
            handle(config, ports, request).await
        },
    )
    .await
}
