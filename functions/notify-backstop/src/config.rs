//! Settings from the environment (the same variables notify-user reads for the same facts).

use imagegen_core::config::{ConfigError, Env, required, vars};

/// notify-backstop's settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// `TOPIC_ARN` (required): the SNS topic the emails go to.
    pub topic_arn: String,
    /// `OUTPUT_BUCKET` (required): where the one-email-per-execution records are kept.
    pub bucket: String,
}

impl Config {
    pub fn from_env(env: &impl Env) -> Result<Self, ConfigError> {
        Ok(Self {
            topic_arn: required(env, vars::TOPIC_ARN)?,
            bucket: required(env, vars::OUTPUT_BUCKET)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_settings_are_required() {
        let config = Config::from_env(&[("TOPIC_ARN", "arn:t"), ("OUTPUT_BUCKET", "b")]).unwrap();
        assert_eq!(
            (config.topic_arn.as_str(), config.bucket.as_str()),
            ("arn:t", "b")
        );
        let err = Config::from_env(&[("TOPIC_ARN", "arn:t")]).unwrap_err();
        assert!(err.0.contains("OUTPUT_BUCKET"), "{err}");
    }
}
