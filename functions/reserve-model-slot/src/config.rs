use imagegen_core::config::{self, ConfigError, Env, vars};
use imagegen_core::model::ModelFamily;
use imagegen_core::pools::{self, Pool};

/// The quota assumed when none is configured: low enough for a new account (see the README for how to
/// find yours). Too low only makes bursts slower; too high makes Bedrock throttle, and each throttled
/// attempt costs a new slot.
pub const DEFAULT_QUOTA_RPM: u32 = 10;
/// Accepted `MODEL_QUOTA_RPM`: slots are whole milliseconds apart, so 60,000 a minute at most; no
/// image model comes close.
pub const QUOTA_RPM_RANGE: std::ops::RangeInclusive<u32> = 1..=60_000;
/// The longest wait for a slot when none is configured: a day. A burst of up to a day's quota is
/// worked off at the model's pace; a request that would wait longer is refused at once (`QueueFull`)
/// instead of waiting days for an answer.
pub const DEFAULT_MAX_SLOT_WAIT_MINUTES: u32 = 24 * 60;
/// Accepted `MAX_SLOT_WAIT_MINUTES`: at least the longest backoff (a minute), at most a Step
/// Functions Standard execution's year.
pub const MAX_SLOT_WAIT_MINUTES_RANGE: std::ops::RangeInclusive<u32> = 1..=365 * 24 * 60;

/// ReserveModelSlot's settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// `MODEL_SLOT_TABLE`: the DynamoDB table holding each model's schedule.
    pub table: String,
    /// `MODEL_QUOTA_RPM`: InvokeModel requests per minute the account may send each model.
    pub quota_rpm: u32,
    /// `MAX_SLOT_WAIT_MINUTES`: the longest a request may wait for its slot.
    pub max_wait_minutes: u32,
    /// `MODEL_POOLS`: where each model is called and at what pace (home at `quota_rpm` when unset).
    pub pools: Vec<Pool>,
    /// `FALLBACK_MODEL_IDS`: the models a request moves to, in order, when its model is retired.
    pub fallbacks: Vec<String>,
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
        let max_wait_minutes = config::parsed_or(
            env,
            vars::MAX_SLOT_WAIT_MINUTES,
            DEFAULT_MAX_SLOT_WAIT_MINUTES,
        )?;
        if !MAX_SLOT_WAIT_MINUTES_RANGE.contains(&max_wait_minutes) {
            return Err(ConfigError(format!(
                "{} must be between {} and {} minutes, got {max_wait_minutes}",
                vars::MAX_SLOT_WAIT_MINUTES,
                MAX_SLOT_WAIT_MINUTES_RANGE.start(),
                MAX_SLOT_WAIT_MINUTES_RANGE.end()
            )));
        }
        let pools = pools::parse(
            config::optional(env, vars::MODEL_POOLS).as_deref(),
            quota_rpm,
        )
        .map_err(|e| ConfigError(format!("{}: {e}", vars::MODEL_POOLS)))?;
        let fallbacks = config::list_or(env, vars::FALLBACK_MODEL_IDS, &[]);
        if let Some(unknown) = fallbacks
            .iter()
            .find(|id| ModelFamily::from_model_id(id).is_none())
        {
            return Err(ConfigError(format!(
                "{}: {unknown:?} is not a model of a supported family (Titan, Nova Canvas, Stability)",
                vars::FALLBACK_MODEL_IDS
            )));
        }
        Ok(Self {
            table,
            quota_rpm,
            max_wait_minutes,
            pools,
            fallbacks,
        })
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
        assert_eq!(c.max_wait_minutes, DEFAULT_MAX_SLOT_WAIT_MINUTES);
        let c = Config::from_env(&[("MODEL_SLOT_TABLE", "t"), ("MAX_SLOT_WAIT_MINUTES", "90")])
            .unwrap();
        assert_eq!(c.max_wait_minutes, 90);
        for bad in ["0", "525601", "soon"] {
            let err =
                Config::from_env(&[("MODEL_SLOT_TABLE", "t"), ("MAX_SLOT_WAIT_MINUTES", bad)])
                    .unwrap_err();
            assert!(err.0.contains("MAX_SLOT_WAIT_MINUTES"), "{err}");
        }
        let c = Config::from_env(&[
            ("MODEL_SLOT_TABLE", "t"),
            ("MODEL_QUOTA_RPM", "15"),
            ("MODEL_POOLS", "us-west-2=20,us-east-1"),
        ])
        .unwrap();
        assert_eq!(
            c.pools.iter().map(|p| p.rpm).collect::<Vec<_>>(),
            [20, 15],
            "a pool without a pace takes MODEL_QUOTA_RPM"
        );
        let err =
            Config::from_env(&[("MODEL_SLOT_TABLE", "t"), ("MODEL_POOLS", "mars=5")]).unwrap_err();
        assert!(err.0.starts_with("MODEL_POOLS: "), "{err}");
        let c = Config::from_env(&[
            ("MODEL_SLOT_TABLE", "t"),
            (
                "FALLBACK_MODEL_IDS",
                "stability.stable-image-ultra-v1:1, stability.sd3-5-large-v1:0",
            ),
        ])
        .unwrap();
        assert_eq!(
            c.fallbacks,
            [
                "stability.stable-image-ultra-v1:1",
                "stability.sd3-5-large-v1:0"
            ]
        );
        let err = Config::from_env(&[
            ("MODEL_SLOT_TABLE", "t"),
            ("FALLBACK_MODEL_IDS", "gpt-image"),
        ])
        .unwrap_err();
        assert!(err.0.contains("FALLBACK_MODEL_IDS"), "{err}");
        for bad in ["0", "60001", "ten"] {
            let err = Config::from_env(&[("MODEL_SLOT_TABLE", "t"), ("MODEL_QUOTA_RPM", bad)])
                .unwrap_err();
            assert!(err.0.contains("MODEL_QUOTA_RPM"), "{err}");
        }
    }
}
