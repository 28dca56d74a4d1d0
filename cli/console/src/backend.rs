//! What the console runs over: the [`LocalPipeline`] of `imagegen serve`, or the twin of
//! `imagegen rehearse` (implemented beside it, in the command line). The pages read executions,
//! histories and emails from the stand-ins directly (they are the same kind under both); what
//! changes something (start, stop, upload) goes through the backend, which makes the request as
//! its command would have the person's requests made.

use std::future::Future;
use std::sync::Arc;

use imagegen_aws::S3Store;
use imagegen_local::outbox::Outbox;
use imagegen_local::sfn::SfnService;
use imagegen_local_pipeline::pipeline::{LocalPipeline, execution_of};
use serde_json::Value;

/// The pipeline the console shows and drives. Errors are sentences for the page.
pub trait Backend: Send + Sync + 'static {
    /// The local Step Functions: executions, their histories, their ends as they happen.
    fn sfn(&self) -> &Arc<SfnService>;
    /// Where the emails the pipeline sends land.
    fn outbox(&self) -> &Outbox;
    /// The state machine the executions are of.
    fn state_machine_arn(&self) -> &str;
    /// Where a prompt file is uploaded to start the pipeline: the bucket and the key's prefix.
    fn bucket(&self) -> &str;
    fn prompt_prefix(&self) -> &str;
    /// What presigns the links to images and thumbnails (for the endpoint the browser reaches).
    fn store(&self) -> S3Store;
    /// The state machine's definition, as DescribeStateMachine gives it.
    fn definition(&self) -> impl Future<Output = Result<String, String>> + Send;
    /// StartExecution.
    fn start(&self, name: &str, input: &Value) -> impl Future<Output = Result<(), String>> + Send;
    /// StopExecution: the execution ends `ABORTED`.
    fn stop(&self, name: &str, cause: &str) -> impl Future<Output = Result<(), String>> + Send;
    /// Store a prompt file under the prompt prefix, and let its S3 notification start the
    /// pipeline as the backend's S3 does.
    fn upload(
        &self,
        file_name: &str,
        body: Vec<u8>,
    ) -> impl Future<Output = Result<Uploaded, String>> + Send;
}

/// What an upload did, once stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Uploaded {
    /// Its notification was handled before the upload was answered: the execution it started
    /// (or had started before).
    Started(String),
    /// Its notification was handled and started nothing, for this reason.
    Skipped(String),
    /// Its notification is being delivered as S3 delivers one, after the upload is answered:
    /// what it starts appears in the executions list.
    Notified,
}

/// `imagegen serve`: the in-process pipeline; an upload's notification is handed to
/// start-execution before the upload is answered, as `imagegen upload` does.
impl Backend for LocalPipeline {
    fn sfn(&self) -> &Arc<SfnService> {
        self.aws().sfn()
    }

    fn outbox(&self) -> &Outbox {
        self.aws().outbox()
    }

    fn state_machine_arn(&self) -> &str {
        LocalPipeline::state_machine_arn(self)
    }

    fn bucket(&self) -> &str {
        LocalPipeline::bucket(self)
    }

    fn prompt_prefix(&self) -> &str {
        LocalPipeline::prompt_prefix(self)
    }

    fn store(&self) -> S3Store {
        S3Store::new(self.s3_client().clone())
    }

    async fn definition(&self) -> Result<String, String> {
        let described = self
            .sfn_client()
            .describe_state_machine()
            .state_machine_arn(LocalPipeline::state_machine_arn(self))
            .send()
            .await
            .map_err(|e| imagegen_aws::error_text(&e))?;
        Ok(described.definition().to_owned())
    }

    async fn start(&self, name: &str, input: &Value) -> Result<(), String> {
        LocalPipeline::start(self, name, input)
            .await
            .map(|_| ())
            .map_err(|e| e.to_string())
    }

    async fn stop(&self, name: &str, cause: &str) -> Result<(), String> {
        LocalPipeline::stop(self, name, cause)
            .await
            .map_err(|e| e.to_string())
    }

    async fn upload(&self, file_name: &str, body: Vec<u8>) -> Result<Uploaded, String> {
        let event = self
            .put_prompt(file_name, body)
            .await
            .map_err(|e| e.to_string())?;
        let summary = self.deliver(event).await.map_err(|e| e.to_string())?;
        Ok(match execution_of(&summary) {
            Some(name) => Uploaded::Started(name),
            None => Uploaded::Skipped(
                summary
                    .skipped
                    .first()
                    .map_or_else(|| "nothing was started".to_owned(), |s| s.reason.clone()),
            ),
        })
    }
}
