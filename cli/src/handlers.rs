//! The four pipeline functions as in-process task handlers: the real handler code, given adapters
//! over the local SDK clients.

use std::collections::HashMap;
use std::sync::Arc;

use imagegen_aws::{BedrockModel, S3Store, SnsNotifier};
use imagegen_core::PipelineError;
use imagegen_statemachine::{Registry, TaskError};
use serde::Serialize;
use serde_json::Value;

use crate::error::CliError;
use crate::settings::{FUNCTIONS, function_arn};

/// What the handlers need: each function's settings and the adapters they talk through.
#[derive(Debug)]
pub struct Functions {
    pub validate: validate_prompt::Config,
    pub generate: generate_image::Config,
    pub thumbnails: generate_thumbnails::Config,
    pub notify: notify_user::Config,
    pub store: S3Store,
    pub model: BedrockModel,
    pub notifier: SnsNotifier,
}

impl Functions {
    /// Read each function's settings from `env`.
    pub fn new(
        env: &HashMap<String, String>,
        store: S3Store,
        model: BedrockModel,
        sns: aws_sdk_sns::Client,
    ) -> Result<Self, CliError> {
        let notify = notify_user::Config::from_env(env)?;
        let notifier = SnsNotifier::new(sns, notify.topic_arn.clone());
        Ok(Self {
            validate: validate_prompt::Config::from_env(env)?,
            generate: generate_image::Config::from_env(env)?,
            thumbnails: generate_thumbnails::Config::from_env(env)?,
            notify,
            store,
            model,
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
    let arn = |i: usize| function_arn(region, FUNCTIONS[i].1);
    let mut registry = Registry::new();

    let f = Arc::clone(&functions);
    registry.register(arn(0), move |input: Value| {
        let f = Arc::clone(&f);
        async move { to_task(validate_prompt::handle(&f.validate, &f.store, input).await) }
    });

    let f = Arc::clone(&functions);
    registry.register(arn(1), move |input: Value| {
        let f = Arc::clone(&f);
        async move { to_task(generate_image::handle(&f.generate, &f.model, &f.store, input).await) }
    });

    // Resizing is CPU work; it runs inline (as on Lambda, one invocation per execution), which keeps
    // local runs simple and their timings honest.
    let f = Arc::clone(&functions);
    registry.register(arn(2), move |input: Value| {
        let f = Arc::clone(&f);
        async move { to_task(generate_thumbnails::handle(&f.thumbnails, &f.store, input).await) }
    });

    let f = functions;
    registry.register(arn(3), move |input: Value| {
        let f = Arc::clone(&f);
        async move { to_task(notify_user::handle(&f.notify, &f.store, &f.notifier, input).await) }
    });
    registry
}
