//! The settings every request is held to, wherever it arrives.

use crate::config::{self, ConfigError, Env, vars};
use crate::model::{DEFAULT_MODEL_ID, ModelFamily};

/// The largest prompt file read from S3.
pub const DEFAULT_MAX_PROMPT_FILE_BYTES: u64 = 16 * 1024;
/// Accepted `MAX_PROMPT_FILE_BYTES`: a byte to a mebibyte (a prompt is at most 10,000 characters).
pub const MAX_PROMPT_FILE_BYTES_RANGE: std::ops::RangeInclusive<u64> = 1..=1024 * 1024;

/// What every request must satisfy, wherever it arrives: ValidatePrompt applies these rules, and so
/// do the front doors (the HTTP API, the queue) before they start anything ([`super::check`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Rules {
    /// `DEFAULT_MODEL_ID`
    pub default_model_id: String,
    /// `ALLOWED_MODEL_IDS`: the models a request may name (default: the default model).
    pub allowed_model_ids: Vec<String>,
    /// `MAX_PROMPT_FILE_BYTES`: the largest console JSON document taken, as a prompt file read from
    /// S3 or as a request's body at a front door.
    pub max_prompt_file_bytes: u64,
    /// `BLOCKLIST`: comma-separated terms (case-insensitive, whole words) that reject a prompt.
    pub blocklist: Vec<String>,
}

impl Rules {
    pub fn from_env(env: &impl Env) -> Result<Self, ConfigError> {
        let default_model_id = config::optional(env, vars::DEFAULT_MODEL_ID)
            .unwrap_or_else(|| DEFAULT_MODEL_ID.to_owned());
        let allowed_model_ids = config::list_or(env, vars::ALLOWED_MODEL_IDS, &[&default_model_id]);
        for id in std::iter::once(&default_model_id).chain(&allowed_model_ids) {
            if ModelFamily::from_model_id(id).is_none() {
                return Err(ConfigError(format!(
                    "model {id:?} is not a supported image model (amazon.titan-image-generator-*, amazon.nova-canvas-*, stability.*)"
                )));
            }
        }
        if !allowed_model_ids.contains(&default_model_id) {
            return Err(ConfigError(format!(
                "{} {default_model_id:?} is not in {}",
                vars::DEFAULT_MODEL_ID,
                vars::ALLOWED_MODEL_IDS
            )));
        }
        let max_prompt_file_bytes = config::parsed_or(
            env,
            vars::MAX_PROMPT_FILE_BYTES,
            DEFAULT_MAX_PROMPT_FILE_BYTES,
        )?;
        if !MAX_PROMPT_FILE_BYTES_RANGE.contains(&max_prompt_file_bytes) {
            return Err(ConfigError(format!(
                "{} must be between {} and {}, got {max_prompt_file_bytes}",
                vars::MAX_PROMPT_FILE_BYTES,
                MAX_PROMPT_FILE_BYTES_RANGE.start(),
                MAX_PROMPT_FILE_BYTES_RANGE.end()
            )));
        }
        let blocklist = config::list_or(env, vars::BLOCKLIST, &[])
            .into_iter()
            .map(|t| t.to_lowercase())
            .collect();
        Ok(Self {
            default_model_id,
            allowed_model_ids,
            max_prompt_file_bytes,
            blocklist,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults() {
        let r = Rules::from_env(&[("OUTPUT_BUCKET", "b")]).unwrap();
        assert_eq!(r.default_model_id, DEFAULT_MODEL_ID);
        assert_eq!(r.allowed_model_ids, [DEFAULT_MODEL_ID]);
        assert_eq!(r.max_prompt_file_bytes, 16384);
        assert!(r.blocklist.is_empty());
    }

    #[test]
    fn errors_name_the_setting() {
        let bad_model = [("DEFAULT_MODEL_ID", "openai.dalle")];
        assert!(
            Rules::from_env(&bad_model)
                .unwrap_err()
                .0
                .contains("openai.dalle")
        );
        let not_allowed = [
            ("DEFAULT_MODEL_ID", "amazon.nova-canvas-v1:0"),
            ("ALLOWED_MODEL_IDS", "stability.sd3-5-large-v1:0"),
        ];
        assert!(
            Rules::from_env(&not_allowed)
                .unwrap_err()
                .0
                .contains("ALLOWED_MODEL_IDS")
        );
        let big = [("MAX_PROMPT_FILE_BYTES", "0")];
        assert!(Rules::from_env(&big).is_err());
    }

    #[test]
    fn blocklist_is_lowercased() {
        let r = Rules::from_env(&[("BLOCKLIST", "Gore, NSFW")]).unwrap();
        assert_eq!(r.blocklist, ["gore", "nsfw"]);
    }
}
