//! Lambda entry point: wires the S3, SNS and Step Functions clients and runs the handler.

use imagegen_aws::{S3Store, SfnDescriber, SnsNotifier, load_sdk_config};
use imagegen_core::config::ProcessEnv;
use notify_backstop::{Config, handle};

#[tokio::main]
async fn main() -> Result<(), imagegen_lambda::Error> {
    imagegen_lambda::run(
        async || {
            let config = Config::from_env(&ProcessEnv)?;
            let sdk = load_sdk_config().await;
            let store = S3Store::new(aws_sdk_s3::Client::new(&sdk));
            let notifier =
                SnsNotifier::new(aws_sdk_sns::Client::new(&sdk), config.topic_arn.clone());
            let describer = SfnDescriber::new(aws_sdk_sfn::Client::new(&sdk));
            Ok((config, store, notifier, describer))
        },
        async |(config, store, notifier, describer), event| {
            handle(config, store, notifier, describer, event).await
        },
    )
    .await
}
