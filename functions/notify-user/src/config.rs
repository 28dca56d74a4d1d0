//! Settings from the environment.

use std::time::Duration;

use imagegen_core::config::{ConfigError, Env, required, vars};

/// notify-user's settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// `TOPIC_ARN` (required): the SNS topic the emails go to.
    pub topic_arn: String,
    /// `OUTPUT_BUCKET` (required): the only bucket whose objects the emails link to and the manifest
    /// is written in (the event's buckets and keys are checked against it), and where the
    /// one-email-per-execution records are kept (`notifications/{executionName}.json`, see
    /// [`imagegen_core::notify::one_email`]).
    pub output_bucket: String,
    /// `PRESIGN_EXPIRY_SECONDS` (default 3600, 60..=43200): how long the emailed links work (see
    /// [`imagegen_core::presign`] for why so short). The email says when they expire.
    pub presign_expiry: Duration,
}

impl Config {
    pub fn from_env(env: &impl Env) -> Result<Self, ConfigError> {
        Ok(Self {
            topic_arn: required(env, vars::TOPIC_ARN)?,
            output_bucket: required(env, vars::OUTPUT_BUCKET)?,
            presign_expiry: imagegen_core::presign::presign_expiry(env)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_required_values() {
        let config =
            Config::from_env(&[("TOPIC_ARN", "arn:topic"), ("OUTPUT_BUCKET", "out")]).unwrap();
        assert_eq!(config.topic_arn, "arn:topic");
        assert_eq!(config.output_bucket, "out");
        let err = Config::from_env(&[("TOPIC_ARN", "arn:topic")]).unwrap_err();
        assert!(err.0.contains("OUTPUT_BUCKET is not set"), "{err}");
        assert_eq!(config.presign_expiry, Duration::from_secs(3600));
        let err = Config::from_env(&[("PRESIGN_EXPIRY_SECONDS", "600")]).unwrap_err();
        assert!(err.0.contains("TOPIC_ARN is not set"), "{err}");
        let err = Config::from_env(&[("TOPIC_ARN", "t")]).unwrap_err();
        assert!(err.0.contains("OUTPUT_BUCKET is not set"), "{err}");
    }

    #[test]
    fn expiry_is_validated() {
        let ok = Config::from_env(&[
            ("TOPIC_ARN", "t"),
            ("OUTPUT_BUCKET", "b"),
            ("PRESIGN_EXPIRY_SECONDS", "43200"),
        ]);
        assert_eq!(ok.unwrap().presign_expiry, Duration::from_secs(43_200));
        let ok = Config::from_env(&[
            ("TOPIC_ARN", "t"),
            ("OUTPUT_BUCKET", "b"),
            ("PRESIGN_EXPIRY_SECONDS", "60"),
        ]);
        assert!(ok.is_ok());
        for bad in ["59", "43201", "604800", "0"] {
            let err = Config::from_env(&[
                ("TOPIC_ARN", "t"),
                ("OUTPUT_BUCKET", "b"),
                ("PRESIGN_EXPIRY_SECONDS", bad),
            ])
            .unwrap_err();
            assert!(
                err.0.contains("out of range: expected 60 to 43200"),
                "{err}"
            );
        }
        for bad in ["1h", "-5", "3600.5"] {
            let err = Config::from_env(&[
                ("TOPIC_ARN", "t"),
                ("OUTPUT_BUCKET", "b"),
                ("PRESIGN_EXPIRY_SECONDS", bad),
            ])
            .unwrap_err();
            assert!(err.0.contains("PRESIGN_EXPIRY_SECONDS"), "{err}");
        }
    }
}
