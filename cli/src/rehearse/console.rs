//! The console under `imagegen rehearse`: the pages of `imagegen serve`'s console over the twin.
//!
//! What the console changes (a start, a stop, an upload) it asks of the twin's own endpoint, over
//! HTTPS and signed with the administrator's key, as the person at the console would with the AWS
//! CLI: each request is authorised from the template's policies as theirs is (an explicit Deny of
//! a resource policy applies), and an upload takes the path every upload takes in the rehearsal:
//! S3's route records the notification the template configures and delivers it, after answering,
//! to the function the template names. The pages themselves are not AWS requests: the endpoint
//! serves them unsigned, guarded as under `serve` (`imagegen_console`'s guard).

use std::sync::Arc;

use imagegen_aws::S3Store;
use imagegen_console::{Backend, Uploaded};
use imagegen_core::keys::PromptFormat;
use imagegen_local::ClientOptions;
use imagegen_local::LocalAws;
use imagegen_local::config::sdk_config;
use imagegen_local::outbox::Outbox;
use imagegen_local::server::CreatedBy;
use imagegen_local::sfn::SfnService;
use imagegen_rehearse::twin::{Notifications, Twin};
use serde_json::Value;

use crate::error::CliError;

/// The twin as the console sees it.
#[derive(Debug)]
pub struct Rehearsal {
    aws: LocalAws,
    notifications: Arc<Notifications>,
    machine_name: String,
    machine_arn: String,
    bucket: String,
    prefix: String,
    /// The administrator's clients of the twin's endpoint (HTTPS, trusting the twin's CA).
    s3: aws_sdk_s3::Client,
    sfn: aws_sdk_sfn::Client,
}

impl Rehearsal {
    /// The console's view of `twin`, reached at `endpoint` (`https://...`).
    pub fn new(twin: &Twin, endpoint: &str) -> Result<Self, CliError> {
        // `imagegen rehearse` refuses a stack without one; the pipeline's stack has one.
        let machine = twin.plan().state_machines.first().ok_or_else(|| {
            CliError::Usage("the stack has no state machine for the console to show".to_owned())
        })?;
        // Where an upload starts the pipeline: the bucket and prefix of the template's first
        // notification (the pipeline's: `prompts/` of the store bucket, by suffix).
        let (bucket, prefix) = twin.plan().notifications.first().map_or_else(
            || (String::new(), String::new()),
            |n| (n.bucket.clone(), n.prefix.clone().unwrap_or_default()),
        );
        let http = twin
            .ca()
            .https_client()
            .map_err(|e| CliError::Usage(e.to_string()))?;
        let options = ClientOptions {
            key: twin.administrator().clone(),
            s3_endpoint: endpoint.to_owned(),
            ..twin.aws().options().clone()
        };
        let shared = sdk_config(&options, http);
        let s3 = aws_sdk_s3::Client::from_conf(
            aws_sdk_s3::config::Builder::from(&shared)
                .endpoint_url(endpoint)
                .force_path_style(true)
                .build(),
        );
        let sfn = aws_sdk_sfn::Client::from_conf(
            aws_sdk_sfn::config::Builder::from(&shared)
                .endpoint_url(endpoint)
                .build(),
        );
        Ok(Self {
            aws: twin.aws().clone(),
            notifications: Arc::clone(twin.notifications()),
            machine_name: machine.name.clone(),
            machine_arn: machine.arn.clone(),
            bucket,
            prefix,
            s3,
            sfn,
        })
    }
}

impl Backend for Rehearsal {
    fn sfn(&self) -> &Arc<SfnService> {
        self.aws.sfn()
    }

    fn outbox(&self) -> &Outbox {
        self.aws.outbox()
    }

    fn state_machine_arn(&self) -> &str {
        &self.machine_arn
    }

    fn bucket(&self) -> &str {
        &self.bucket
    }

    fn prompt_prefix(&self) -> &str {
        &self.prefix
    }

    fn store(&self) -> S3Store {
        S3Store::new(self.s3.clone())
    }

    async fn definition(&self) -> Result<String, String> {
        let described = self
            .sfn
            .describe_state_machine()
            .state_machine_arn(&self.machine_arn)
            .send()
            .await
            .map_err(|e| imagegen_aws::error_text(&e))?;
        Ok(described.definition().to_owned())
    }

    async fn start(&self, name: &str, input: &Value) -> Result<(), String> {
        self.sfn
            .start_execution()
            .state_machine_arn(&self.machine_arn)
            .name(name)
            .input(input.to_string())
            .send()
            .await
            .map(|_| ())
            .map_err(|e| imagegen_aws::error_text(&e))
    }

    async fn stop(&self, name: &str, cause: &str) -> Result<(), String> {
        self.sfn
            .stop_execution()
            .execution_arn(self.aws.sfn().execution_arn(&self.machine_name, name))
            .cause(cause)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| imagegen_aws::error_text(&e))
    }

    async fn upload(&self, file_name: &str, body: Vec<u8>) -> Result<Uploaded, String> {
        let key = format!("{}{file_name}", self.prefix);
        // Typed as `imagegen serve`'s console stores a prompt file.
        let content_type = PromptFormat::upload_content_type(file_name);
        self.s3
            .put_object()
            .bucket(&self.bucket)
            .key(&key)
            .content_type(content_type)
            .body(body.into())
            .send()
            .await
            .map_err(|e| imagegen_aws::error_text(&e))?;
        // Asked after the upload only to say so: S3's route decided on the same configuration.
        if self
            .notifications
            .targets(&self.bucket, &key, CreatedBy::Put)
            .is_empty()
        {
            return Ok(Uploaded::Skipped(
                "no notification of the template takes that key (its prefix and suffix)".to_owned(),
            ));
        }
        Ok(Uploaded::Notified)
    }
}
