//! Settings from the environment.

use std::time::Duration;

use imagegen_core::config::{ConfigError, Env, parsed_or, required, vars};

/// Default lifetime of the links in the success email, in seconds.
pub const DEFAULT_PRESIGN_EXPIRY_SECONDS: u64 = 3600;
/// Accepted `PRESIGN_EXPIRY_SECONDS`: one minute to twelve hours.
pub const PRESIGN_EXPIRY_SECONDS_RANGE: std::ops::RangeInclusive<u64> = 60..=43_200;

/// notify-user's settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// `TOPIC_ARN` (required): the SNS topic the emails go to.
    pub topic_arn: String,
    /// `OUTPUT_BUCKET` (required): the only bucket whose objects the emails link to and the manifest
    /// is written in (the event's buckets and keys are checked against it), and where the
    /// one-email-per-execution records are kept (`notifications/{executionName}.json`, see
    /// [`crate::once`]).
    pub output_bucket: String,
    /// `PRESIGN_EXPIRY_SECONDS` (default 3600, 60..=43200): how long the emailed links work.
    ///
    /// A presigned URL is signed with the credentials of whoever signs it: here, the Lambda role's
    /// temporary session credentials. The URL stops working at its own expiry or when that session's
    /// credentials expire, whichever comes first, and a Lambda session lasts hours, not the 7 days
    /// SigV4 would allow. A modest default (one hour) therefore holds as promised; the cap of 12 hours
    /// keeps the promise from outgrowing the session. The email says when the links expire, and the
    /// `s3://` URIs next to them keep working for the account's users.
    pub presign_expiry: Duration,
}

impl Config {
    pub fn from_env(env: &impl Env) -> Result<Self, ConfigError> {
        let seconds = parsed_or(
            env,
            vars::PRESIGN_EXPIRY_SECONDS,
            DEFAULT_PRESIGN_EXPIRY_SECONDS,
        )?;
        if !PRESIGN_EXPIRY_SECONDS_RANGE.contains(&seconds) {
            return Err(ConfigError(format!(
                "{}={seconds} is out of range: expected {} to {} seconds \
                 (links signed with the function's temporary credentials stop working when those expire)",
                vars::PRESIGN_EXPIRY_SECONDS,
                PRESIGN_EXPIRY_SECONDS_RANGE.start(),
                PRESIGN_EXPIRY_SECONDS_RANGE.end()
            )));
        }
        Ok(Self {
            topic_arn: required(env, vars::TOPIC_ARN)?,
            output_bucket: required(env, vars::OUTPUT_BUCKET)?,
            presign_expiry: Duration::from_secs(seconds),
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
