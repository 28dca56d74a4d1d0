//! The local pipeline: one data directory, the offline AWS stand-ins, and the state machine
//! registered with the local Step Functions, its tasks bound to the real handlers.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use aws_smithy_types::retry::RetryConfig;
use chrono::Timelike as _;
use imagegen_aws::dynamodb::PARTITION_KEY;
use imagegen_aws::{
    BedrockModel, S3Store, SfnDescriber, SfnStarter, SnsNotifier, error_text as sdk_error_text,
};
use imagegen_core::keys::PromptFormat;
use imagegen_local::config::{AccessKey, DEFAULT_S3_ENDPOINT};
use imagegen_local::eventbridge::StatusChangeRule;
use imagegen_local::notifications::S3Notification;
use imagegen_local::server::CreatedBy;
use imagegen_local::sfn::ExecutionRecord;
use imagegen_local::{ClientOptions, FakeModelBehavior, LocalAws};
use imagegen_statemachine::{Clock, Engine, HistoryEvent, RandomSource, SeededRng, TokioClock};
use serde_json::Value;

use crate::definition::{self, DefinitionError};
use crate::error::LocalPipelineError;
use crate::handlers::{Adapters, EngineClock, Functions, registry, substitutions};
use crate::settings::{SLOT_TABLE, STATE_MACHINE_NAME, TOPIC_NAME, function_env};
use imagegen_local::s3::event::{self as s3event, Upload};

/// The state machine definition deployed to AWS, embedded so the binary runs from anywhere.
pub const DEFINITION: &str = include_str!("../../../statemachine/image-pipeline.asl.json");

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
    /// Another state-machine definition instead of the deployed one (`--definition FILE`, or a
    /// test trying machine-level behaviour such as a whole-execution `TimeoutSeconds`): JSONPath
    /// or JSONata, its Tasks naming the functions with the same `${...}` placeholders.
    pub definition: Option<String>,
    /// The S3 endpoint URLs name (presigned links in emails): where `imagegen serve` listens.
    pub s3_endpoint: String,
    /// The key the stand-ins accept and the pipeline's own clients sign with (presigned links
    /// included): the published one, unless `imagegen serve --allow-remote` made a secret one.
    pub key: AccessKey,
}

impl Default for PipelineOptions {
    fn default() -> Self {
        // Started on a whole millisecond: Wait states count their delay in whole milliseconds, so a
        // clock with a fraction would end every wait (a model slot's included) up to 1 ms early.
        let now = chrono::Utc::now();
        let start = now
            .with_nanosecond(now.timestamp_subsec_millis() * 1_000_000)
            .unwrap_or(now);
        Self {
            behavior: FakeModelBehavior::default(),
            overrides: HashMap::new(),
            clock: Arc::new(TokioClock::starting_at(start)),
            rng: Arc::new(SeededRng::from_entropy()),
            definition: None,
            s3_endpoint: DEFAULT_S3_ENDPOINT.to_owned(),
            key: AccessKey::published(),
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
    clock: Arc<dyn Clock>,
    /// The environment every local function sees (the Lambda environment, locally).
    env: HashMap<String, String>,
}

impl LocalPipeline {
    /// Open (or create) `data_dir` and register the state machine.
    ///
    /// The Bedrock client has SDK retries off, as generate-image's on AWS: throttling reaches
    /// GenerateImage, whose Catch goes back for a new model slot (SDK retries would be requests
    /// outside the slots). The offline model and the model-slot handler read the engine's clock.
    pub fn open(data_dir: &Path, options: PipelineOptions) -> Result<Self, LocalPipelineError> {
        let client_options = ClientOptions {
            s3_endpoint: options.s3_endpoint.clone(),
            key: options.key.clone(),
            ..ClientOptions::default()
        };
        // Before the data directory is touched: a definition that cannot run changes nothing.
        let text = options.definition.as_deref().unwrap_or(DEFINITION);
        definition::check(text, &client_options.region)?;
        let aws = LocalAws::open_with(data_dir, client_options, options.behavior)?;
        aws.model().set_clock(Arc::clone(&options.clock));
        aws.create_table(SLOT_TABLE, PARTITION_KEY);
        let region = aws.options().region.clone();
        let machine_arn = aws.sfn().state_machine_arn(STATE_MACHINE_NAME);
        let env = function_env(&aws.topic_arn(TOPIC_NAME), &machine_arn, &options.overrides);
        let functions = {
            let bedrock = aws
                .clone()
                .with_retry_config(RetryConfig::disabled())
                .bedrock_client();
            let adapters = Adapters {
                store: S3Store::new(aws.s3_client()),
                model: BedrockModel::new(bedrock),
                sns: aws.sns_client(),
                dynamodb: aws.dynamodb_client(),
                clock: EngineClock(Arc::clone(&options.clock)),
            };
            Functions::new(&env, adapters)?
        };
        let bucket = functions.validate.output_bucket.clone();
        aws.create_bucket(&bucket)?;
        let engine = Engine::new(registry(&region, Arc::new(functions)))
            .with_clock(Arc::clone(&options.clock))
            .with_rng(options.rng);
        aws.sfn()
            .register_state_machine_source(
                STATE_MACHINE_NAME,
                text,
                &substitutions(&region),
                engine.clone(),
            )
            .map_err(DefinitionError::from)?;
        // TestState runs a Task against the same functions an execution would call.
        aws.sfn().set_test_state_engine(engine);
        aws.sns().register_topic(&aws.topic_arn(TOPIC_NAME));
        aws.sfn().add_rule(backstop_rule(&aws, &env, &machine_arn)?);
        crate::api_and_queue::create_queues(&aws)?;
        Ok(Self {
            start_config: start_execution::Config::from_env(&env)?,
            env,
            sfn: aws.sfn_client(),
            s3: aws.s3_client(),
            aws,
            bucket,
            machine_arn,
            clock: options.clock,
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

    /// The environment the local functions see: the defaults of [`crate::settings`] and the
    /// overrides given.
    pub fn function_env(&self) -> &HashMap<String, String> {
        &self.env
    }

    /// The topic the emails go to.
    pub fn topic_arn(&self) -> String {
        self.aws.topic_arn(TOPIC_NAME)
    }

    /// See every history event as it is recorded: (execution name, event).
    pub fn on_event(&self, listener: impl Fn(&str, &HistoryEvent) + Send + Sync + 'static) {
        self.aws.sfn().set_listener(listener);
    }

    /// StartExecution (through the SDK client); returns the execution ARN. An input too large for
    /// the pipeline is refused before anything starts ([`imagegen_core::limits`]).
    pub async fn start(&self, name: &str, input: &Value) -> Result<String, LocalPipelineError> {
        let text = input.to_string();
        imagegen_core::limits::check_execution_input(&text)
            .map_err(|e| LocalPipelineError::Input(e.to_string()))?;
        let out = self
            .sfn
            .start_execution()
            .state_machine_arn(&self.machine_arn)
            .name(name)
            .input(text)
            .send()
            .await
            .map_err(|e| LocalPipelineError::aws("Step Functions", sdk_error_text(&e)))?;
        Ok(out.execution_arn().to_owned())
    }

    /// StopExecution (through the SDK client): the execution ends `ABORTED`, and the backstop
    /// emails its user.
    pub async fn stop(&self, name: &str, cause: &str) -> Result<(), LocalPipelineError> {
        let arn = self.aws.sfn().execution_arn(STATE_MACHINE_NAME, name);
        self.sfn
            .stop_execution()
            .execution_arn(arn)
            .cause(cause)
            .send()
            .await
            .map_err(|e| LocalPipelineError::aws("Step Functions", sdk_error_text(&e)))?;
        Ok(())
    }

    /// Settle executions left running by `imagegen` processes that have ended: each gets the end
    /// its process journalled but could not save (a full disk), else `ABORTED`, and its user the
    /// failure email (see `SfnService::recover`). Each is named on stderr.
    pub async fn recover(&self) -> Result<Vec<ExecutionRecord>, LocalPipelineError> {
        let settled = self.aws.sfn().recover().await?;
        for record in &settled {
            eprintln!(
                "imagegen: execution {} was left RUNNING on disk by an imagegen process that ended; it is now recorded {}",
                imagegen_core::display::escape_controls(&record.name),
                record.status
            );
        }
        Ok(settled)
    }

    /// Wait for an execution to end.
    pub async fn wait(&self, name: &str) -> Result<ExecutionRecord, LocalPipelineError> {
        self.aws
            .sfn()
            .wait(name)
            .await?
            .ok_or_else(|| LocalPipelineError::NoSuchExecution(name.to_owned()))
    }

    /// Start an execution and wait for its end.
    pub async fn run(
        &self,
        name: &str,
        input: &Value,
    ) -> Result<ExecutionRecord, LocalPipelineError> {
        self.start(name, input).await?;
        self.wait(name).await
    }

    /// Put a prompt file under `prompts/` and return the S3 notification for it.
    pub async fn put_prompt(
        &self,
        file_name: &str,
        body: Vec<u8>,
    ) -> Result<Value, LocalPipelineError> {
        let key = format!("{}{file_name}", self.start_config.prompt_prefix);
        let size = body.len() as u64;
        // Stored as S3 would store an upload of that file; a key that is not a prompt file is put
        // all the same, and start-execution says why it starts nothing.
        let content_type = PromptFormat::upload_content_type(file_name);
        let out = self
            .s3
            .put_object()
            .bucket(&self.bucket)
            .key(&key)
            .content_type(content_type)
            .body(body.into())
            .send()
            .await
            .map_err(|e| LocalPipelineError::aws("S3", sdk_error_text(&e)))?;
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

    /// The S3 event for a recorded notification; `None` when the object is gone (deleted before
    /// its notification was delivered).
    pub async fn notification(
        &self,
        recorded: &S3Notification,
    ) -> Result<Option<Value>, LocalPipelineError> {
        recorded
            .event(&self.s3, &self.aws.options().region)
            .await
            .map_err(|e| LocalPipelineError::aws("S3", sdk_error_text(&e)))
    }

    /// Deliver an S3 notification to the start-execution handler (with an `SfnStarter` over the
    /// local Step Functions client), as S3 invokes the function on AWS.
    pub async fn deliver(
        &self,
        event: Value,
    ) -> Result<start_execution::Summary, LocalPipelineError> {
        let starter = SfnStarter::new(self.sfn.clone(), self.machine_arn.clone());
        start_execution::handle(&self.start_config, &starter, event)
            .await
            .map_err(|e| LocalPipelineError::NotStarted(format!("{}: {e}", e.name())))
    }

    /// The engine's clock.
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }

    /// Upload a prompt file, deliver its notification, and wait for the execution it started.
    pub async fn upload(&self, path: &Path) -> Result<ExecutionRecord, LocalPipelineError> {
        let file_name = path
            .file_name()
            .and_then(|n| n.to_str())
            .ok_or_else(|| {
                LocalPipelineError::Input(format!("{} has no usable file name", path.display()))
            })?
            .to_owned();
        let body = std::fs::read(path).map_err(|source| LocalPipelineError::ReadFile {
            path: path.to_path_buf(),
            source,
        })?;
        let event = self.put_prompt(&file_name, body).await?;
        let summary = self.deliver(event).await?;
        match execution_of(&summary) {
            Some(name) => self.wait(&name).await,
            None => Err(LocalPipelineError::NotStarted(
                summary
                    .skipped
                    .first()
                    .map(|s| format!("{} was skipped: {}", s.key, s.reason))
                    .unwrap_or_else(|| "the event had no prompt upload".to_owned()),
            )),
        }
    }
}

/// The local EventBridge rule of the deployed stack: this state machine's executions that end
/// `FAILED`, `TIMED_OUT` or `ABORTED` go to the notify-backstop handler, through the local S3, SNS and
/// Step Functions clients. A handler error goes back to the rule, which delivers the event again
/// until the email is out (as Lambda retries an asynchronous invocation).
fn backstop_rule(
    aws: &LocalAws,
    env: &HashMap<String, String>,
    machine_arn: &str,
) -> Result<StatusChangeRule, LocalPipelineError> {
    let config = notify_backstop::Config::from_env(env)?;
    let store = S3Store::new(aws.s3_client());
    let notifier = SnsNotifier::new(aws.sns_client(), config.topic_arn.clone());
    let describer = SfnDescriber::new(aws.sfn_client());
    let backstop = Arc::new((config, store, notifier, describer));
    Ok(StatusChangeRule::new(
        machine_arn,
        &notify_backstop::handler::STATUSES,
        move |event| {
            let backstop = Arc::clone(&backstop);
            async move {
                let (config, store, notifier, describer) = &*backstop;
                match notify_backstop::handle(config, store, notifier, describer, event).await {
                    Ok(outcome) => {
                        tracing::debug!(?outcome, "backstop");
                        Ok(())
                    }
                    // The local EventBridge gives it the event again (a full disk, say).
                    Err(e) => Err(format!("the backstop could not send its email: {e}")),
                }
            }
        },
    ))
}

/// The execution a delivered notification started, or had started before (its first record).
pub fn execution_of(summary: &start_execution::Summary) -> Option<String> {
    summary
        .started
        .first()
        .map(|s| s.execution_name.clone())
        .or_else(|| summary.duplicates.first().map(|d| d.execution_name.clone()))
}
