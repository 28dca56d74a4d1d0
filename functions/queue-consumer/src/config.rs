//! Settings from the environment.

use imagegen_core::config::{ConfigError, Env, required, vars};
use imagegen_core::request::Rules;

/// The queue consumer's settings.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// `STATE_MACHINE_ARN` (required): the pipeline each message starts.
    pub state_machine_arn: String,
    /// ValidatePrompt's rules (`DEFAULT_MODEL_ID`, `ALLOWED_MODEL_IDS`, `BLOCKLIST`, and
    /// `MAX_PROMPT_FILE_BYTES`, which caps a message's body as it caps a prompt file).
    pub rules: Rules,
}

impl Config {
    pub fn from_env(env: &impl Env) -> Result<Self, ConfigError> {
        Ok(Self {
            state_machine_arn: required(env, vars::STATE_MACHINE_ARN)?,
            rules: Rules::from_env(env)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_state_machine_is_required_and_the_rules_are_validate_prompts() {
        let err = Config::from_env(&[("BLOCKLIST", "x")]).unwrap_err();
        assert!(err.0.contains("STATE_MACHINE_ARN"), "{err}");
        let config =
            Config::from_env(&[("STATE_MACHINE_ARN", "arn:sm"), ("BLOCKLIST", "Gore")]).unwrap();
        assert_eq!(config.rules.blocklist, ["gore"]);
    }
}
