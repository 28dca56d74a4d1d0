//! Failure injection for the offline model, so every failure path of the pipeline runs locally.

use std::time::Duration;

use crate::error::LocalError;

/// What the offline model does besides drawing. Counts mean "the next N calls" and run down as
/// calls use them up. Failures are checked in this order: throttle, unavailable, (request
/// validation), content filter, timeout, corrupt.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FakeModelBehavior {
    /// Answer the next N calls with `ThrottlingException` (HTTP 429).
    pub throttle: u32,
    /// Answer the next N calls with `ServiceUnavailableException` (HTTP 503).
    pub unavailable: u32,
    /// Answer the next N valid calls with `ModelTimeoutException` (HTTP 408).
    pub timeout: u32,
    /// Return bytes that are not a PNG in the next N successful responses.
    pub corrupt: u32,
    /// Prompts containing any of these terms (case-insensitive) are blocked by the content filter.
    pub filter_terms: Vec<String>,
    /// Time each call takes before it answers.
    pub latency: Duration,
}

/// Environment variables read by [`FakeModelBehavior::from_env`].
pub const ENV_THROTTLE: &str = "IMAGEGEN_FAKE_THROTTLE";
pub const ENV_UNAVAILABLE: &str = "IMAGEGEN_FAKE_UNAVAILABLE";
pub const ENV_TIMEOUT: &str = "IMAGEGEN_FAKE_TIMEOUT";
pub const ENV_CORRUPT: &str = "IMAGEGEN_FAKE_CORRUPT";
pub const ENV_FILTER_TERMS: &str = "IMAGEGEN_FAKE_FILTER_TERMS";
pub const ENV_LATENCY_MS: &str = "IMAGEGEN_FAKE_LATENCY_MS";

impl FakeModelBehavior {
    /// Read the behaviour from `IMAGEGEN_FAKE_*` environment variables (unset means none).
    pub fn from_env() -> Result<Self, LocalError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Read the behaviour from any variable lookup (for tests and config files).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, LocalError> {
        let count = |name: &'static str| -> Result<u32, LocalError> {
            match lookup(name) {
                None => Ok(0),
                Some(value) if value.trim().is_empty() => Ok(0),
                Some(value) => value.trim().parse().map_err(|e| LocalError::InvalidEnv {
                    name,
                    value,
                    detail: format!("expected a count of calls ({e})"),
                }),
            }
        };
        let filter_terms = lookup(ENV_FILTER_TERMS)
            .map(|v| {
                v.split(',')
                    .map(|t| t.trim().to_owned())
                    .filter(|t| !t.is_empty())
                    .collect()
            })
            .unwrap_or_default();
        Ok(Self {
            throttle: count(ENV_THROTTLE)?,
            unavailable: count(ENV_UNAVAILABLE)?,
            timeout: count(ENV_TIMEOUT)?,
            corrupt: count(ENV_CORRUPT)?,
            filter_terms,
            latency: Duration::from_millis(u64::from(count(ENV_LATENCY_MS)?)),
        })
    }

    /// The first filter term found in `text`, if any. A blank term blocks nothing (every text
    /// "contains" the empty string).
    pub fn blocked_term(&self, text: &str) -> Option<&str> {
        let text = text.to_lowercase();
        self.filter_terms
            .iter()
            .map(String::as_str)
            .filter(|term| !term.trim().is_empty())
            .find(|term| text.contains(&term.trim().to_lowercase()))
    }
}

/// What the offline model has done since it started (or since the last reset).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FakeModelStats {
    /// Every InvokeModel call that reached the model.
    pub calls: u64,
    /// Calls answered with images (corrupt ones included).
    pub succeeded: u64,
    /// Images rendered.
    pub images: u64,
    pub throttled: u64,
    pub unavailable: u64,
    pub timed_out: u64,
    /// Calls refused with `ValidationException` for a malformed request or an unknown model.
    pub invalid: u64,
    /// Calls stopped by the content filter.
    pub filtered: u64,
    /// Responses that carried a corrupt image.
    pub corrupted: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_counts_terms_and_latency() {
        let b = FakeModelBehavior::from_lookup(|name| match name {
            ENV_THROTTLE => Some("2".into()),
            ENV_FILTER_TERMS => Some("gore, Violence,,".into()),
            ENV_LATENCY_MS => Some("5".into()),
            _ => None,
        })
        .unwrap();
        assert_eq!(b.throttle, 2);
        assert_eq!(b.timeout, 0);
        assert_eq!(b.filter_terms, ["gore", "Violence"]);
        assert_eq!(b.latency, Duration::from_millis(5));
        assert_eq!(b.blocked_term("Some VIOLENCE here"), Some("Violence"));
        assert_eq!(b.blocked_term("a calm sea"), None);
    }

    #[test]
    fn a_blank_term_blocks_nothing() {
        let b = FakeModelBehavior {
            filter_terms: vec![String::new(), "  ".into()],
            ..FakeModelBehavior::default()
        };
        assert_eq!(b.blocked_term("a cat"), None);
    }

    #[test]
    fn bad_count_is_an_error() {
        let err =
            FakeModelBehavior::from_lookup(|name| (name == ENV_TIMEOUT).then(|| "lots".to_owned()))
                .unwrap_err();
        assert!(err.to_string().contains(ENV_TIMEOUT), "{err}");
    }
}
