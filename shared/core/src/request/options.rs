//! Console JSON (an object like `{"prompt": ...}` or a bare string) read into prompt options.

use serde_json::Value;

use crate::PipelineError;
use crate::types::{PromptOptions, json_kind};

fn rejected(reason: impl Into<String>) -> PipelineError {
    PipelineError::PromptRejected(reason.into())
}

/// Parse prompt options from console-style JSON.
pub fn options_from_value(value: Value, origin: &str) -> Result<PromptOptions, PipelineError> {
    match value {
        Value::String(prompt) => Ok(PromptOptions {
            prompt,
            ..PromptOptions::default()
        }),
        Value::Object(_) => serde_json::from_value(value)
            .map_err(|e| rejected(format!("{origin} is not valid prompt input: {e}"))),
        other => Err(rejected(format!(
            "{origin} must be a JSON object like {{\"prompt\": \"a lighthouse at dusk\"}}, not {}",
            json_kind(&other)
        ))),
    }
}
