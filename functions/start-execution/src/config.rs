//! Settings from the environment.

use imagegen_core::config::{ConfigError, Env, optional, required, vars};
use imagegen_core::keys;

/// start-execution's settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// `STATE_MACHINE_ARN` (required): the pipeline to start.
    pub state_machine_arn: String,
    /// `PROMPT_PREFIX` (default `prompts/`): only keys under it are prompt files. Used as given (no `/`
    /// is added), so it must match the prefix of the bucket notification.
    pub prompt_prefix: String,
}

impl Config {
    pub fn from_env(env: &impl Env) -> Result<Self, ConfigError> {
        Ok(Self {
            state_machine_arn: required(env, vars::STATE_MACHINE_ARN)?,
            prompt_prefix: optional(env, vars::PROMPT_PREFIX)
                .unwrap_or_else(|| keys::PROMPT_PREFIX.to_owned()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_machine_arn_is_required() {
        let err = Config::from_env(&[("PROMPT_PREFIX", "p/")]).unwrap_err();
        assert!(err.0.contains("STATE_MACHINE_ARN"), "{err}");
        let err = Config::from_env(&[("STATE_MACHINE_ARN", " ")]).unwrap_err();
        assert!(
            err.0.contains("STATE_MACHINE_ARN is set but empty"),
            "{err}"
        );
    }

    #[test]
    fn prompt_prefix_defaults_to_prompts() {
        let config = Config::from_env(&[("STATE_MACHINE_ARN", "arn:sm")]).unwrap();
        assert_eq!(config.state_machine_arn, "arn:sm");
        assert_eq!(config.prompt_prefix, "prompts/");
        let config =
            Config::from_env(&[("STATE_MACHINE_ARN", "arn:sm"), ("PROMPT_PREFIX", "in/")]).unwrap();
        assert_eq!(config.prompt_prefix, "in/");
    }
}
