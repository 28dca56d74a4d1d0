//! The handler: read, validate, and attach the request id, seed and output keys.

use imagegen_core::PipelineError;
use imagegen_core::ports::ObjectStore;
use imagegen_core::request::{request_id, validate};
use imagegen_core::types::{ImageRequest, OutputLocation, ValidateEvent};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::config::Config;
use crate::input;

/// Validate one request. The event is `{"input": <execution input>, "executionName": "..."}` as the state
/// machine sends it; a bare execution input (a direct invocation) is accepted too.
pub async fn handle(
    config: &Config,
    store: &impl ObjectStore,
    event: Value,
) -> Result<ImageRequest, PipelineError> {
    let event = match event {
        Value::Object(ref map) if map.contains_key("input") => serde_json::from_value(event)
            .map_err(|e| {
                PipelineError::InvalidEvent(format!("unexpected ValidatePrompt event: {e}"))
            })?,
        other => ValidateEvent {
            input: other,
            execution_name: None,
        },
    };
    let request_id = request_id(event.execution_name.as_deref(), &event.input);
    let read = input::read(event.input, store, config).await?;
    let valid = validate(read.options, &config.rules)
        // The reasons alone: the failure email says "Your prompt was rejected: ..." itself.
        .map_err(|r| PipelineError::PromptRejected(format!("{r}.")))?;
    let seed = valid
        .seed
        .unwrap_or_else(|| derived_seed(&request_id, valid.model.family.limits().max_seed));
    tracing::info!(request_id, model = valid.model.id, seed, "prompt accepted");
    for warning in &valid.warnings {
        tracing::warn!(
            request_id,
            model = valid.model.id,
            warning,
            "request accepted with a warning"
        );
    }
    Ok(ImageRequest {
        output: OutputLocation::for_request(&config.output_bucket, &request_id),
        request_id,
        prompt: valid.prompt,
        negative_prompt: valid.negative_prompt,
        model: valid.model,
        width: valid.width,
        height: valid.height,
        number_of_images: valid.number_of_images,
        seed,
        cfg_scale: valid.cfg_scale,
        quality: valid.quality,
        output_format: valid.output_format,
        source: read.source,
        warnings: valid.warnings,
    })
}

/// A seed derived from the request id, so a re-run of the same execution draws the same image.
fn derived_seed(request_id: &str, max_seed: u64) -> u64 {
    let digest = Sha256::digest(request_id.as_bytes());
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    u64::from_be_bytes(first) % (max_seed + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derived_seeds_are_stable_and_in_range() {
        assert_eq!(derived_seed("r", 10), derived_seed("r", 10));
        for id in ["a", "b", "c", "d"] {
            assert!(derived_seed(id, 858_993_459) <= 858_993_459);
        }
    }
}
