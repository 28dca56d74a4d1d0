//! Settings from the environment.

use std::time::Duration;

use imagegen_core::config::{ConfigError, Env, required, vars};
use imagegen_core::request::Rules;

use crate::ids::StateMachineArn;

/// The HTTP API's settings.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// `STATE_MACHINE_ARN` (required): the pipeline a request starts, and whose executions the
    /// status answers describe.
    pub state_machine_arn: StateMachineArn,
    /// `OUTPUT_BUCKET` (required): where the manifests, images and thumbnails are.
    pub output_bucket: String,
    /// ValidatePrompt's rules (`DEFAULT_MODEL_ID`, `ALLOWED_MODEL_IDS`, `BLOCKLIST`, and
    /// `MAX_PROMPT_FILE_BYTES`, which caps a request's body as it caps a prompt file).
    pub rules: Rules,
    /// `PRESIGN_EXPIRY_SECONDS`: how long the status answer's links work.
    pub presign_expiry: Duration,
}

impl Config {
    pub fn from_env(env: &impl Env) -> Result<Self, ConfigError> {
        let arn = required(env, vars::STATE_MACHINE_ARN)?;
        // Status answers name executions of this state machine from their ids.
        let state_machine_arn = StateMachineArn::parse(&arn).ok_or_else(|| {
            ConfigError(format!(
                "{}={arn:?} is not a state machine ARN (arn:aws:states:REGION:ACCOUNT:stateMachine:NAME)",
                vars::STATE_MACHINE_ARN
            ))
        })?;
        Ok(Self {
            state_machine_arn,
            output_bucket: required(env, vars::OUTPUT_BUCKET)?,
            rules: Rules::from_env(env)?,
            presign_expiry: imagegen_core::presign::presign_expiry(env)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn required_settings_and_shared_rules() {
        let err = Config::from_env(&[("OUTPUT_BUCKET", "b")]).unwrap_err();
        assert!(err.0.contains("STATE_MACHINE_ARN"), "{err}");
        let err = Config::from_env(&[("STATE_MACHINE_ARN", "arn:sm"), ("OUTPUT_BUCKET", "b")])
            .unwrap_err();
        assert!(err.0.contains("not a state machine ARN"), "{err}");
        let config = Config::from_env(&[
            (
                "STATE_MACHINE_ARN",
                "arn:aws:states:us-east-1:1:stateMachine:P",
            ),
            ("OUTPUT_BUCKET", "b"),
            ("BLOCKLIST", "Gore"),
            ("MAX_PROMPT_FILE_BYTES", "2048"),
        ])
        .unwrap();
        assert_eq!(config.rules.blocklist, ["gore"]);
        assert_eq!(config.rules.max_prompt_file_bytes, 2048);
        assert_eq!(config.presign_expiry, Duration::from_secs(3600));
    }
}
