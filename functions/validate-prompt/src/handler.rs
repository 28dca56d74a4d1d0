//! The handler: read, validate, and attach the request id, seed and output keys.

use imagegen_core::PipelineError;
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
    let read = input::read(event.input, store, config).await?;
    let valid = rules::validate(read.options, &config.rules)
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

/// Longest readable part of a request id.
const READABLE_MAX: usize = 80;
/// Hex digits of the execution name's hash in a request id (64 bits).
const NAME_HASH_HEX: usize = 16;

/// The request id, which names every output key (`images/{id}/...`, `results/{id}.json`).
///
/// With an execution name: its key-safe characters (`[A-Za-z0-9_-]`, so people recognise their run)
/// then `-` and a hash of the name exactly as given. The readable part alone would let two names that
/// differ only in dropped characters (`run.1`, `run1`) share an id, and so each other's images and
/// manifest; the hash of the raw name keeps every name's id its own. Step Functions keeps names unique
/// per state machine (for 90 days), so ids are unique too. Without a name (a direct invocation): a
/// hash of the input.
pub fn request_id(execution_name: Option<&str>, input: &Value) -> String {
    match execution_name.filter(|n| !n.trim().is_empty()) {
        Some(name) => {
            let readable: String = name
                .chars()
                .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_'))
                .take(READABLE_MAX)
                .collect();
            let readable = if readable.is_empty() {
                "exec"
            } else {
                &readable
            };
            let digest = hex::encode(Sha256::digest(name.as_bytes()));
            format!("{readable}-{}", &digest[..NAME_HASH_HEX])
        }
        None => {
            let digest = Sha256::digest(input.to_string().as_bytes());
            format!("req-{}", &hex::encode(digest)[..24])
        }
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
    use imagegen_core::keys;
    use serde_json::json;

    #[test]
    fn request_ids_keep_the_readable_name_and_add_its_hash() {
        let id = request_id(Some("exec-1_a"), &json!({}));
        let (readable, hash) = id.rsplit_once('-').unwrap();
        assert_eq!(readable, "exec-1_a");
        assert_eq!(hash.len(), NAME_HASH_HEX);
        assert!(hash.chars().all(|c| c.is_ascii_hexdigit()), "{id}");
        assert!(request_id(Some("a b/c"), &json!({})).starts_with("abc-"));
        assert!(request_id(Some("日本"), &json!({})).starts_with("exec-"));
        // The same name always gives the same id (a redriven execution finds its own outputs).
        assert_eq!(id, request_id(Some("exec-1_a"), &json!({"other": "input"})));
    }

    #[test]
    fn names_that_differ_only_in_dropped_characters_get_different_ids() {
        let long = "x".repeat(80);
        let groups: [Vec<String>; 4] = [
            [
                "run.1", "run1", "run:1", "run 1", "run/1", "r.u.n.1", "run1.",
            ]
            .map(String::from)
            .into(),
            ["日本", "中国", "exec"].map(String::from).into(),
            ["a", "a.", ".a", "a..", "a\u{0}"].map(String::from).into(),
            // Past the readable part's length, only the hash tells them apart.
            vec![long.clone(), format!("{long}y"), format!("{long}z")],
        ];
        for names in groups {
            let ids: std::collections::HashSet<String> = names
                .iter()
                .map(|n| request_id(Some(n), &json!({})))
                .collect();
            assert_eq!(ids.len(), names.len(), "{names:?} -> {ids:?}");
        }
    }

    #[test]
    fn request_ids_are_key_safe() {
        for name in ["run.1", "../../etc", "a/b", "日本", "x".repeat(80).as_str()] {
            let id = request_id(Some(name), &json!({}));
            assert!(keys::is_request_id(&id), "{name:?} -> {id:?}");
        }
    }

    #[test]
    fn without_a_name_the_id_hashes_the_input() {
        let a = request_id(None, &json!({"prompt": "x"}));
        assert!(a.starts_with("req-") && a.len() == 28, "{a}");
        assert_eq!(a, request_id(Some("  "), &json!({"prompt": "x"})));
        assert_ne!(a, request_id(None, &json!({"prompt": "y"})));
        assert!(keys::is_request_id(&a));
    }

    #[test]
    fn derived_seeds_are_stable_and_in_range() {
        assert_eq!(derived_seed("r", 10), derived_seed("r", 10));
        for id in ["a", "b", "c", "d"] {
            assert!(derived_seed(id, 858_993_459) <= 858_993_459);
        }
    }
}
