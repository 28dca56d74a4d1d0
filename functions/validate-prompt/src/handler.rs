//! The handler: read, validate, and attach the request id, seed and output keys.

use imagegen_core::PipelineError;
use imagegen_core::keys;
use imagegen_core::ports::ObjectStore;
use imagegen_core::types::{ImageRequest, OutputLocation, ValidateEvent};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::config::Config;
use crate::{input, rules};

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
    let read = input::read(event.input, store, config.max_prompt_file_bytes).await?;
    let valid = rules::validate(read.options, config)
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
        output: OutputLocation {
            bucket: config.output_bucket.clone(),
            image_prefix: keys::image_prefix(&request_id),
            thumbnail_prefix: keys::thumbnail_prefix(&request_id),
            manifest_key: keys::manifest_key(&request_id),
        },
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

/// The request id: the execution name (already unique per state machine) made key-safe, or a hash of
/// the input when there is no name.
pub fn request_id(execution_name: Option<&str>, input: &Value) -> String {
    let safe: String = execution_name
        .unwrap_or_default()
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_'))
        .take(80)
        .collect();
    if safe.is_empty() {
        let digest = Sha256::digest(input.to_string().as_bytes());
        format!("req-{}", &hex::encode(digest)[..24])
    } else {
        safe
    }
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
    use serde_json::json;

    #[test]
    fn request_ids() {
        assert_eq!(request_id(Some("exec-1_a"), &json!({})), "exec-1_a");
        assert_eq!(request_id(Some("a b/c"), &json!({})), "abc");
        let a = request_id(None, &json!({"prompt": "x"}));
        assert!(a.starts_with("req-") && a.len() == 28, "{a}");
        assert_eq!(a, request_id(Some("  "), &json!({"prompt": "x"})));
        assert_ne!(a, request_id(None, &json!({"prompt": "y"})));
    }

    #[test]
    fn derived_seeds_are_stable_and_in_range() {
        assert_eq!(derived_seed("r", 10), derived_seed("r", 10));
        for id in ["a", "b", "c", "d"] {
            assert!(derived_seed(id, 858_993_459) <= 858_993_459);
        }
    }
}
