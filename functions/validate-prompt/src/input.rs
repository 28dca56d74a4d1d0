//! Reading the execution input: console JSON, a bare string, or an S3 prompt file.

use imagegen_core::PipelineError;
use imagegen_core::keys::{PROMPT_FILE_RULE, PromptFormat};
use imagegen_core::ports::{ObjectStore, StoreError};
use imagegen_core::request::options_from_value;
use imagegen_core::types::{PromptOptions, S3Source};
use serde_json::Value;

use crate::config::Config;

/// Where the prompt came from, once read.
#[derive(Debug, Clone, PartialEq)]
pub struct PromptInput {
    pub options: PromptOptions,
    pub source: Option<S3Source>,
}

fn rejected(reason: impl Into<String>) -> PipelineError {
    PipelineError::PromptRejected(reason.into())
}

/// Read the prompt from the execution input, fetching the S3 object when the input names one: only
/// a prompt file in the configured bucket, under the prompt prefix (anyone who can start an execution
/// writes the input, and this function's role must not become their way to read other objects).
pub async fn read(
    input: Value,
    store: &impl ObjectStore,
    config: &Config,
) -> Result<PromptInput, PipelineError> {
    let source =
        match input.get("source") {
            Some(source) => Some(serde_json::from_value::<S3Source>(source.clone()).map_err(
                |e| rejected(format!("the input's `source` is not an S3 location: {e}")),
            )?),
            None => None,
        };
    let Some(source) = source else {
        return Ok(PromptInput {
            options: options_from_value(input, "the execution input")?,
            source: None,
        });
    };
    if source.bucket != config.output_bucket || !source.key.starts_with(&config.prompt_prefix) {
        return Err(rejected(format!(
            "prompt files are read only from s3://{}/{}; the input names s3://{}/{}",
            config.output_bucket, config.prompt_prefix, source.bucket, source.key
        )));
    }
    let Some(format) = PromptFormat::of(&source.key) else {
        return Err(rejected(format!(
            "prompt files must end in {PROMPT_FILE_RULE}; got {:?}",
            source.key
        )));
    };
    let bytes = store
        .get(
            &source.bucket,
            &source.key,
            source.version_id.as_deref(),
            config.rules.max_prompt_file_bytes,
        )
        .await
        .map_err(|e| match e {
            StoreError::TooLarge { size, limit, .. } => rejected(format!(
                "the prompt file {:?} is {size} bytes; the limit is {limit} bytes",
                source.key
            )),
            StoreError::NotFound { .. } => rejected(format!(
                "the prompt file s3://{}/{} does not exist (deleted before it was read?)",
                source.bucket, source.key
            )),
            other => other.into_pipeline("reading the prompt file"),
        })?;
    let text = String::from_utf8(bytes).map_err(|e| {
        rejected(format!(
            "the prompt file {:?} is not UTF-8 text (invalid byte at offset {})",
            source.key,
            e.utf8_error().valid_up_to()
        ))
    })?;
    let options = if format == PromptFormat::Json {
        let value: Value = serde_json::from_str(&text).map_err(|e| {
            rejected(format!(
                "the prompt file {:?} is not valid JSON: {e}",
                source.key
            ))
        })?;
        options_from_value(value, &format!("the prompt file {:?}", source.key))?
    } else {
        PromptOptions {
            prompt: text,
            ..PromptOptions::default()
        }
    };
    Ok(PromptInput {
        options,
        source: Some(source),
    })
}
