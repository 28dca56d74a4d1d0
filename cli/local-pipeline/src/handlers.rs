//! The pipeline's functions as in-process task handlers: the real handler code, given adapters
//! over the local SDK clients.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::SystemTime;

use imagegen_aws::{BedrockModel, DynamoModelSlots, S3Store, SnsNotifier};
use imagegen_core::PipelineError;
use imagegen_statemachine::{Registry, TaskError};
use serde::Serialize;
use serde_json::Value;

use crate::error::LocalPipelineError;
use crate::settings::{FUNCTIONS, function_arn};

/// The engine's clock as the handlers' clock port, so that the times a handler computes (a model
/// slot) and the engine's Wait states agree, also on the paused clock of `--fast-retries` and tests.
#[derive(Debug, Clone)]
pub struct EngineClock(pub Arc<dyn imagegen_statemachine::Clock>);

impl imagegen_core::ports::Clock for EngineClock {
    fn now(&self) -> SystemTime {
        SystemTime::from(self.0.now())
    }
}

/// The adapters the handlers talk through, over the local SDK clients.
#[derive(Debug)]
pub struct Adapters {
    pub store: S3Store,
    pub model: BedrockModel,
    pub sns: aws_sdk_sns::Client,
    pub dynamodb: aws_sdk_dynamodb::Client,
    pub clock: EngineClock,
}

/// What the handlers need: each function's settings and the adapters they talk through.
#[derive(Debug)]
pub struct Functions {
    pub validate: validate_prompt::Config,
    pub reserve: reserve_model_slot::Config,
    pub generate: generate_image::Config,
    pub thumbnails: generate_thumbnails::Config,
    pub notify: notify_user::Config,
    pub store: S3Store,
    pub slots: DynamoModelSlots,
    pub clock: EngineClock,
    pub model: BedrockModel,
    pub notifier: SnsNotifier,
}

impl Functions {
    /// Read each function's settings from `env`.
    pub fn new(
        env: &HashMap<String, String>,
        adapters: Adapters,
    ) -> Result<Self, LocalPipelineError> {
        let notify = notify_user::Config::from_env(env)?;
        let reserve = reserve_model_slot::Config::from_env(env)?;
        let notifier = SnsNotifier::new(adapters.sns, notify.topic_arn.clone());
        let slots = DynamoModelSlots::new(adapters.dynamodb, reserve.table.clone());
        Ok(Self {
            validate: validate_prompt::Config::from_env(env)?,
            reserve,
            generate: generate_image::Config::from_env(env)?,
            thumbnails: generate_thumbnails::Config::from_env(env)?,
            notify,
            store: adapters.store,
            slots,
            clock: adapters.clock,
            model: adapters.model,
            notifier,
        })
    }
}

/// A handler result as Step Functions sees it: the JSON output, or the error named as the Lambda
/// function's `errorType` with its message as the cause.
fn to_task<T: Serialize>(result: Result<T, PipelineError>) -> Result<Value, TaskError> {
    match result {
        Ok(value) => serde_json::to_value(value)
            .map_err(|e| TaskError::lambda("Runtime.SerializationError", e.to_string())),
        Err(e) => Err(TaskError::lambda(e.name(), e.to_string())),
    }
}

/// The local ARNs of the pipeline's functions, keyed by the definition's placeholders.
pub fn substitutions(region: &str) -> HashMap<String, String> {
    FUNCTIONS
        .iter()
        .map(|(placeholder, function)| ((*placeholder).to_owned(), function_arn(region, function)))
        .collect()
}

/// A registry binding each function's local ARN to its handler.
pub fn registry(region: &str, functions: Arc<Functions>) -> Registry {
    let arn = |placeholder: &str| {
        let function = FUNCTIONS
            .iter()
            .find(|(p, _)| *p == placeholder)
            .map_or(placeholder, |(_, f)| f);
        function_arn(region, function)
    };
    let mut registry = Registry::new();

    let f = Arc::clone(&functions);
    registry.register(arn("ValidatePromptFunctionArn"), move |input: Value| {
        let f = Arc::clone(&f);
        async move { to_task(validate_prompt::handle(&f.validate, &f.store, input).await) }
    });

    let f = Arc::clone(&functions);
    registry.register(arn("ReserveModelSlotFunctionArn"), move |input: Value| {
        let f = Arc::clone(&f);
        async move {
            to_task(reserve_model_slot::handle(&f.reserve, &f.slots, &f.clock, input).await)
        }
    });

    let f = Arc::clone(&functions);
    registry.register(arn("GenerateImageFunctionArn"), move |input: Value| {
        let f = Arc::clone(&f);
        async move { to_task(generate_image::handle(&f.generate, &f.model, &f.store, input).await) }
    });

    // Resizing is CPU work; it runs inline (as on Lambda, one invocation per execution), which keeps
    // local runs simple and their timings honest.
    let f = Arc::clone(&functions);
    registry.register(arn("GenerateThumbnailsFunctionArn"), move |input: Value| {
        let f = Arc::clone(&f);
        async move { to_task(generate_thumbnails::handle(&f.thumbnails, &f.store, input).await) }
    });

    let f = functions;
    registry.register(arn("NotifyUserFunctionArn"), move |input: Value| {
        let f = Arc::clone(&f);
        async move { to_task(notify_user::handle(&f.notify, &f.store, &f.notifier, input).await) }
    });
    registry
}
