//! The local pipeline: one data directory, the offline AWS stand-ins, and the state machine
//! registered with the local Step Functions, its tasks bound to the real handlers.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use aws_sdk_sfn::error::DisplayErrorContext;
use aws_smithy_types::retry::RetryConfig;
use imagegen_aws::{BedrockModel, S3Store, SfnStarter};
use imagegen_core::keys::PromptFormat;
use imagegen_local::config::DEFAULT_S3_ENDPOINT;
use imagegen_local::server::CreatedBy;
use imagegen_local::sfn::ExecutionRecord;
use imagegen_local::{ClientOptions, FakeModelBehavior, LocalAws};
use imagegen_statemachine::{Clock, Engine, HistoryEvent, RandomSource, SeededRng, TokioClock};
use serde_json::Value;

use crate::error::CliError;
use crate::handlers::{Functions, registry, substitutions};
use crate::s3event::{self, Upload};
use crate::settings::{STATE_MACHINE_NAME, TOPIC_NAME, function_env};

/// The state machine definition deployed to AWS, embedded so the binary runs from anywhere.
pub const DEFINITION: &str = include_str!("../../statemachine/image-pipeline.asl.json");

/// How to open a [`LocalPipeline`].
#[derive(Debug, Clone)]
pub struct PipelineOptions {
    pub behavior: FakeModelBehavior,
    /// Handler settings that replace the local defaults (same names as the Lambda environment).
    pub overrides: HashMap<String, String>,
    /// The engine's time: real time by default. Tests run on a paused tokio clock (see the crate docs).
    pub clock: Arc<dyn Clock>,
    /// Retry jitter.
    pub rng: Arc<dyn RandomSource>,
    /// The S3 endpoint URLs name (presigned links in emails): where `imagegen serve` listens.
    pub s3_endpoint: String,
}

impl Default for PipelineOptions {
    fn default() -> Self {
        Self {
            behavior: FakeModelBehavior::default(),
            overrides: HashMap::new(),
            clock: Arc::new(TokioClock::new()),
            rng: Arc::new(SeededRng::from_entropy()),
            s3_endpoint: DEFAULT_S3_ENDPOINT.to_owned(),
        }
    }
}

/// The pipeline of one data directory.
#[derive(Debug)]
pub struct LocalPipeline {
    aws: LocalAws,
    bucket: String,
    machine_arn: String,
    sfn: aws_sdk_sfn::Client,
    s3: aws_sdk_s3::Client,
    start_config: start_execution::Config,
}

impl LocalPipeline {
    /// Open (or create) `data_dir` and register the state machine.
    ///
    /// The Bedrock client has SDK retries off, so throttling reaches GenerateImage and the state
    /// machine's `ModelThrottled` Retry does the retrying, as designed (on AWS the SDK's own three
    /// attempts come first; locally they would hide every injected throttle).
    pub fn open(data_dir: &Path, options: PipelineOptions) -> Result<Self, CliError> {
        let client_options = ClientOptions {
            s3_endpoint: options.s3_endpoint.clone(),
            ..ClientOptions::default()
        };
        let aws = LocalAws::open_with(data_dir, client_options, options.behavior)?;
        let region = aws.options().region.clone();
        let machine_arn = aws.sfn().state_machine_arn(STATE_MACHINE_NAME);
        let env = function_env(&aws.topic_arn(TOPIC_NAME), &machine_arn, &options.overrides);
        let functions = {
            let s3 = aws.s3_client()?;
            let bedrock = aws
                .clone()
                .with_retry_config(RetryConfig::disabled())
                .bedrock_client();
            Functions::new(
                &env,
                S3Store::new(s3),
                BedrockModel::new(bedrock),
                aws.sns_client(),
            )?
        };
        let bucket = functions.validate.output_bucket.clone();
        aws.create_bucket(&bucket)?;
        let engine = Engine::new(registry(&region, Arc::new(functions)))
            .with_clock(options.clock)
            .with_rng(options.rng);
        aws.sfn().register_state_machine_source(
            STATE_MACHINE_NAME,
            DEFINITION,
            &substitutions(&region),
            engine.clone(),
        )?;
        // TestState runs a Task against the same functions an execution would call.
        aws.sfn().set_test_state_engine(engine);
        aws.sns().register_topic(&aws.topic_arn(TOPIC_NAME));
        Ok(Self {
            start_config: start_execution::Config::from_env(&env)?,
            sfn: aws.sfn_client(),
            s3: aws.s3_client()?,
            aws,
            bucket,
            machine_arn,
        })
    }

    pub fn aws(&self) -> &LocalAws {
        &self.aws
    }

    /// The bucket prompts are uploaded to and results written to.
    pub fn bucket(&self) -> &str {
        &self.bucket
    }

    /// The local state machine's ARN.
    pub fn state_machine_arn(&self) -> &str {
        &self.machine_arn
    }

    /// A Step Functions client for the local stand-in.
    pub fn sfn_client(&self) -> &aws_sdk_sfn::Client {
        &self.sfn
    }

    /// An S3 client for the local bucket.
    pub fn s3_client(&self) -> &aws_sdk_s3::Client {
        &self.s3
    }

    /// The prefix prompt files are uploaded under (`PROMPT_PREFIX`).
    pub fn prompt_prefix(&self) -> &str {
        &self.start_config.prompt_prefix
    }

    /// The topic the emails go to.
    pub fn topic_arn(&self) -> String {
        self.aws.topic_arn(TOPIC_NAME)
    }

    /// See every history event as it is recorded: (execution name, event).
    pub fn on_event(&self, listener: impl Fn(&str, &HistoryEvent) + Send + Sync + 'static) {
        self.aws.sfn().set_listener(listener);
    }

    /// StartExecution (through the SDK client); returns the execution ARN.
    pub async fn start(&self, name: &str, input: &Value) -> Result<String, CliError> {
        let out = self
            .sfn
            .start_execution()
            .state_machine_arn(&self.machine_arn)
            .name(name)
            .input(input.to_string())
            .send()
            .await
            .map_err(|e| CliError::aws("Step Functions", DisplayErrorContext(&e)))?;
        Ok(out.execution_arn().to_owned())
    }

    /// Wait for an execution to end.
    pub async fn wait(&self, name: &str) -> Result<ExecutionRecord, CliError> {
        self.aws
            .sfn()
            .wait(name)
            .await?
            .ok_or_else(|| CliError::NoSuchExecution(name.to_owned()))
    }

    /// Start an execution and wait for its end.
    pub async fn run(&self, name: &str, input: &Value) -> Result<ExecutionRecord, CliError> {
        self.start(name, input).await?;
        self.wait(name).await
    }

    /// Put a prompt file under `prompts/` and return the S3 notification for it.
    pub async fn put_prompt(&self, file_name: &str, body: Vec<u8>) -> Result<Value, CliError> {
        let key = format!("{}{file_name}", self.start_config.prompt_prefix);
        let size = body.len() as u64;
        // Stored as S3 would store an upload of that file; a key that is not a prompt file is put
        // all the same, and start-execution says why it starts nothing.
        let content_type = PromptFormat::of(file_name)
            .map_or("application/octet-stream", PromptFormat::content_type);
        let out = self
            .s3
            .put_object()
            .bucket(&self.bucket)
            .key(&key)
            .content_type(content_type)
            .body(body.into())
            .send()
            .await
            .map_err(|e| CliError::aws("S3", DisplayErrorContext(&e)))?;
        let etag = out.e_tag().unwrap_or_default().trim_matches('"').to_owned();
        let event_time = imagegen_local::sfn::record::now_rfc3339();
        Ok(s3event::object_created(&Upload {
            region: &self.aws.options().region,
            bucket: &self.bucket,
            key: &key,
            size,
            etag: &etag,
            sequencer: &s3event::sequencer(),
            event_time: &event_time,
            created_by: CreatedBy::Put,
        }))
    }

    /// The S3 notification for an object that has just been created in `bucket` (its size and ETag
    /// read back with HeadObject).
    pub async fn notification(
        &self,
        bucket: &str,
        key: &str,
        created_by: CreatedBy,
    ) -> Result<Value, CliError> {
        let head = self
            .s3
            .head_object()
            .bucket(bucket)
            .key(key)
            .send()
            .await
            .map_err(|e| CliError::aws("S3", DisplayErrorContext(&e)))?;
        let etag = head
            .e_tag()
            .unwrap_or_default()
            .trim_matches('"')
            .to_owned();
        let event_time = imagegen_local::sfn::record::now_rfc3339();
        Ok(s3event::object_created(&Upload {
            region: &self.aws.options().region,
            bucket,
            key,
            size: head.content_length().unwrap_or_default().max(0) as u64,
            etag: &etag,
            sequencer: &s3event::sequencer(),
            event_time: &event_time,
            created_by,
        }))
    }

    /// Deliver an S3 notification to the start-execution handler (with an `SfnStarter` over the
    /// local Step Functions client), as S3 invokes the function on AWS.
    pub async fn deliver(&self, event: Value) -> Result<start_execution::Summary, CliError> {
        let starter = SfnStarter::new(self.sfn.clone(), self.machine_arn.clone());
        start_execution::handle(&self.start_config, &starter, event)
            .await
            .map_err(|e| CliError::NotStarted(format!("{}: {e}", e.name())))
    }

    /// Upload a prompt file, deliver its notification, and wait for the execution it started.
    pub async fn upload(&self, path: &Path) -> Result<ExecutionRecord, CliError> {
        let file_name = path
            .file_name()
            .and_then(|n| n.to_str())
            .ok_or_else(|| CliError::Usage(format!("{} has no usable file name", path.display())))?
            .to_owned();
        let body = std::fs::read(path).map_err(|source| CliError::ReadFile {
            path: path.to_path_buf(),
            source,
        })?;
        let event = self.put_prompt(&file_name, body).await?;
        let summary = self.deliver(event).await?;
        let name = summary
            .started
            .first()
            .map(|s| s.execution_name.clone())
            .or_else(|| summary.duplicates.first().map(|d| d.execution_name.clone()));
        match name {
            Some(name) => self.wait(&name).await,
            None => Err(CliError::NotStarted(
                summary
                    .skipped
                    .first()
                    .map(|s| format!("{} was skipped: {}", s.key, s.reason))
                    .unwrap_or_else(|| "the event had no prompt upload".to_owned()),
            )),
        }
    }
}
