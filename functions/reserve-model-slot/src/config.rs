use imagegen_core::config::{self, ConfigError, Env, vars};

/// The quota assumed when none is configured: low enough for a new account (see the README for how to
/// find yours). Too low only makes bursts slower; too high makes Bedrock throttle, and each throttled
/// attempt costs a new slot.
pub const DEFAULT_QUOTA_RPM: u32 = 10;
/// Accepted `MODEL_QUOTA_RPM`: slots are whole milliseconds apart, so 60,000 a minute at most; no
/// image model comes close.
pub const QUOTA_RPM_RANGE: std::ops::RangeInclusive<u32> = 1..=60_000;

/// ReserveModelSlot's settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// `MODEL_SLOT_TABLE`: the DynamoDB table holding each model's schedule.
    pub table: String,
    /// `MODEL_QUOTA_RPM`: InvokeModel requests per minute the account may send each model.
    pub quota_rpm: u32,
}

impl Config {
    pub fn from_env(env: &impl Env) -> Result<Self, ConfigError> {
        let table = config::required(env, vars::MODEL_SLOT_TABLE)?;
        let quota_rpm = config::parsed_or(env, vars::MODEL_QUOTA_RPM, DEFAULT_QUOTA_RPM)?;
        if !QUOTA_RPM_RANGE.contains(&quota_rpm) {
            return Err(ConfigError(format!(
                "{} must be between {} and {} requests per minute, got {quota_rpm}",
                vars::MODEL_QUOTA_RPM,
                QUOTA_RPM_RANGE.start(),
                QUOTA_RPM_RANGE.end()
            )));
        }
        Ok(Self { table, quota_rpm })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_required_and_quota_has_a_default_and_a_range() {
        let c = Config::from_env(&[("MODEL_SLOT_TABLE", "slots")]).unwrap();
        assert_eq!(c.quota_rpm, DEFAULT_QUOTA_RPM);
        let c =
            Config::from_env(&[("MODEL_SLOT_TABLE", "slots"), ("MODEL_QUOTA_RPM", "60")]).unwrap();
        assert_eq!(c.quota_rpm, 60);
        assert!(
            Config::from_env(&[("MODEL_QUOTA_RPM", "60")])
                .unwrap_err()
                .0
                .contains("MODEL_SLOT_TABLE")
        );
        for bad in ["0", "60001", "ten"] {
            let err = Config::from_env(&[("MODEL_SLOT_TABLE", "t"), ("MODEL_QUOTA_RPM", bad)])
                .unwrap_err();
            assert!(err.0.contains("MODEL_QUOTA_RPM"), "{err}");
        }
    }
}
