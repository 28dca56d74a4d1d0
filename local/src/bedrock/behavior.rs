//! Failure injection for the offline model, so every failure path of the pipeline runs locally.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::error::LocalError;

/// What the offline model does besides drawing. Counts mean "the next N calls" and run down as
/// calls use them up. Failures are checked in this order: retired, quota, throttle, unavailable,
/// (request validation), content filter, timeout, corrupt.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FakeModelBehavior {
    /// Answer the next N calls with `ThrottlingException` (HTTP 429).
    pub throttle: u32,
    /// Answer the next N calls to one pool (a Region or an inference profile id, see
    /// [`pool_of`]) with `ThrottlingException`, the other pools answering as usual.
    pub pool_throttle: BTreeMap<String, u32>,
    /// Answer the next N calls with `ServiceUnavailableException` (HTTP 503).
    pub unavailable: u32,
    /// Answer the next N valid calls with `ModelTimeoutException` (HTTP 408).
    pub timeout: u32,
    /// Return corrupt images (neither PNG nor JPEG) in the next N successful responses.
    pub corrupt: u32,
    /// Prompts containing any of these terms (case-insensitive) are blocked by the content filter.
    pub filter_terms: Vec<String>,
    /// Time each call takes before it answers.
    pub latency: Duration,
    /// The account's InvokeModel quota in requests per minute per model and pool (see
    /// [`super::quota`]); `None`: unlimited.
    pub quota_rpm: Option<u32>,
    /// Pools with a quota of their own, by pool name ([`pool_of`]); the others have `quota_rpm`.
    pub pool_quota_rpm: BTreeMap<String, u32>,
    /// Draw images no larger than this on their longest side, keeping the aspect ratio. Bedrock
    /// draws the size asked for; load runs ask for small pictures so that a thousand executions
    /// render in seconds.
    pub max_image_side: Option<u32>,
    /// Models past their end of life: every call naming one (or an inference profile of one) is
    /// answered as Bedrock answers a retired model (see [`super::END_OF_LIFE_MESSAGE`]).
    pub retired: Vec<String>,
}

/// Environment variables read by [`FakeModelBehavior::from_env`].
pub const ENV_THROTTLE: &str = "IMAGEGEN_FAKE_THROTTLE";
pub const ENV_UNAVAILABLE: &str = "IMAGEGEN_FAKE_UNAVAILABLE";
pub const ENV_TIMEOUT: &str = "IMAGEGEN_FAKE_TIMEOUT";
pub const ENV_CORRUPT: &str = "IMAGEGEN_FAKE_CORRUPT";
pub const ENV_FILTER_TERMS: &str = "IMAGEGEN_FAKE_FILTER_TERMS";
pub const ENV_LATENCY_MS: &str = "IMAGEGEN_FAKE_LATENCY_MS";
pub const ENV_QUOTA_RPM: &str = "IMAGEGEN_FAKE_QUOTA_RPM";
pub const ENV_MAX_IMAGE_SIDE: &str = "IMAGEGEN_FAKE_MAX_IMAGE_SIDE";
pub const ENV_RETIRED: &str = "IMAGEGEN_FAKE_RETIRED";

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
        let positive = |name: &'static str, what: &str| -> Result<Option<u32>, LocalError> {
            match lookup(name) {
                None => Ok(None),
                Some(value) if value.trim().is_empty() => Ok(None),
                Some(value) => match value.trim().parse::<u32>() {
                    Ok(n) if n > 0 => Ok(Some(n)),
                    _ => Err(LocalError::InvalidEnv {
                        name,
                        value,
                        detail: format!("expected {what}, at least 1"),
                    }),
                },
            }
        };
        let list = |name: &'static str| -> Vec<String> {
            lookup(name)
                .map(|v| {
                    v.split(',')
                        .map(|t| t.trim().to_owned())
                        .filter(|t| !t.is_empty())
                        .collect()
                })
                .unwrap_or_default()
        };
        let filter_terms = list(ENV_FILTER_TERMS);
        let (throttle, pool_throttle) = per_pool(ENV_THROTTLE, lookup(ENV_THROTTLE), 0)?;
        let (quota_rpm, pool_quota_rpm) = per_pool(ENV_QUOTA_RPM, lookup(ENV_QUOTA_RPM), 1)?;
        Ok(Self {
            throttle: throttle.unwrap_or(0),
            pool_throttle,
            unavailable: count(ENV_UNAVAILABLE)?,
            timeout: count(ENV_TIMEOUT)?,
            corrupt: count(ENV_CORRUPT)?,
            filter_terms,
            latency: Duration::from_millis(u64::from(count(ENV_LATENCY_MS)?)),
            quota_rpm,
            pool_quota_rpm,
            max_image_side: positive(ENV_MAX_IMAGE_SIDE, "a number of pixels")?,
            retired: list(ENV_RETIRED),
        })
    }

    /// The quota of a pool ([`pool_of`]): its own, else the one every pool has.
    pub fn quota_of(&self, pool: &str) -> Option<u32> {
        self.pool_quota_rpm.get(pool).copied().or(self.quota_rpm)
    }

    /// Whether the model is told retired: `model_id` itself or, for an inference profile
    /// (`us.stability...`), the model it routes to, since Bedrock retires the model under both.
    pub fn is_retired(&self, model_id: &str) -> bool {
        let model = imagegen_core::model::base_id(model_id);
        self.retired
            .iter()
            .any(|r| imagegen_core::model::base_id(r) == model)
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

/// The pool a call is in: the inference profile it names, or the Region it was signed for. The
/// quota, the injected throttles and the arrival counts are kept per pool and model, as Bedrock
/// keeps its quotas per model in each Region and separately for cross-Region inference.
pub fn pool_of(region: &str, model_id: &str) -> String {
    if imagegen_core::model::profile_geography(model_id).is_some() {
        model_id.to_owned()
    } else {
        region.to_owned()
    }
}

/// A setting given for every pool, for some, or both: `20`, `us-west-2=20,us-east-1=30`, or
/// `20,us-west-2=5` (a bare number is every pool's, `NAME=N` one pool's). Numbers are at least `min`.
pub fn per_pool(
    name: &'static str,
    value: Option<String>,
    min: u32,
) -> Result<(Option<u32>, BTreeMap<String, u32>), LocalError> {
    let mut every = None;
    let mut pools = BTreeMap::new();
    let Some(value) = value else {
        return Ok((every, pools));
    };
    let bad = |detail: String| LocalError::InvalidEnv {
        name,
        value: value.clone(),
        detail,
    };
    for item in value.split(',').map(str::trim).filter(|i| !i.is_empty()) {
        let (pool, number) = match item.split_once('=') {
            Some((pool, n)) => (Some(pool.trim()), n.trim()),
            None => (None, item),
        };
        let n: u32 = number
            .parse()
            .ok()
            .filter(|n| *n >= min)
            .ok_or_else(|| bad(format!("{item:?}: expected N or POOL=N, N at least {min}")))?;
        match pool {
            Some("") => return Err(bad(format!("{item:?}: the pool's name is missing"))),
            Some(pool) => {
                pools.insert(pool.to_owned(), n);
            }
            None => every = Some(n),
        }
    }
    Ok((every, pools))
}

/// What the offline model has done since it started (or since the last reset).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FakeModelStats {
    /// Every InvokeModel call that reached the model.
    pub calls: u64,
    /// Calls answered with images (corrupt ones included).
    pub succeeded: u64,
    /// Images rendered.
    pub images: u64,
    /// Calls answered with `ThrottlingException`: over the quota, or injected.
    pub throttled: u64,
    /// Of those, the calls over the quota.
    pub over_quota: u64,
    pub unavailable: u64,
    pub timed_out: u64,
    /// Calls refused with `ValidationException` for a malformed request or an unknown model.
    pub invalid: u64,
    /// Calls refused with `ResourceNotFoundException` for a model told retired.
    pub retired: u64,
    /// Calls stopped by the content filter.
    pub filtered: u64,
    /// Responses that carried a corrupt image.
    pub corrupted: u64,
    /// When each call arrived, on the model's clock, per model and pool: `MODEL@REGION`, or the
    /// inference profile's id alone ([`pool_of`]).
    pub arrivals: BTreeMap<String, Vec<DateTime<Utc>>>,
}

impl FakeModelStats {
    /// The most calls one model received in one pool within any 60 seconds.
    pub fn max_calls_per_minute(&self) -> usize {
        self.busiest_minutes().into_values().max().unwrap_or(0)
    }

    /// For each model and pool (as [`Self::arrivals`] keys them), the most calls within any 60
    /// seconds (a window `[t, t + 60 s)`).
    pub fn busiest_minutes(&self) -> BTreeMap<String, usize> {
        let minute = chrono::Duration::seconds(60);
        self.arrivals
            .iter()
            .map(|(key, times)| {
                let mut sorted = times.clone();
                sorted.sort_unstable();
                let mut start = 0;
                let mut best = 0;
                for end in 0..sorted.len() {
                    while sorted[end] - sorted[start] >= minute {
                        start += 1;
                    }
                    best = best.max(end + 1 - start);
                }
                (key.clone(), best)
            })
            .collect()
    }

    /// For each pool (a Region, or an inference profile's id), its busiest model's most calls
    /// within any 60 seconds: what a pool's quota limits.
    pub fn busiest_minutes_by_pool(&self) -> BTreeMap<String, usize> {
        let mut by_pool = BTreeMap::new();
        for (key, busiest) in self.busiest_minutes() {
            let pool = key.rsplit_once('@').map_or(key.as_str(), |(_, pool)| pool);
            let entry = by_pool.entry(pool.to_owned()).or_insert(0);
            *entry = busiest.max(*entry);
        }
        by_pool
    }
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
    fn reads_the_retired_models_and_matches_their_profiles() {
        let b = FakeModelBehavior::from_lookup(|name| {
            (name == ENV_RETIRED)
                .then(|| " stability.stable-image-core-v1:1 ,, amazon.nova-canvas-v1:0".into())
        })
        .unwrap();
        assert_eq!(
            b.retired,
            [
                "stability.stable-image-core-v1:1",
                "amazon.nova-canvas-v1:0"
            ]
        );
        assert!(b.is_retired("stability.stable-image-core-v1:1"));
        assert!(b.is_retired("us.stability.stable-image-core-v1:1"));
        assert!(b.is_retired("eu.amazon.nova-canvas-v1:0"));
        assert!(!b.is_retired("stability.stable-image-ultra-v1:1"));
        assert!(!FakeModelBehavior::default().is_retired("amazon.nova-canvas-v1:0"));
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
    fn quotas_and_throttles_are_read_for_every_pool_or_one() {
        let b = FakeModelBehavior::from_lookup(|name| match name {
            ENV_QUOTA_RPM => Some("us-west-2=20, us.stability.stable-image-core-v1:1=30".into()),
            ENV_THROTTLE => Some("3,us-east-1=50".into()),
            _ => None,
        })
        .unwrap();
        assert_eq!(b.quota_rpm, None);
        assert_eq!(b.quota_of("us-west-2"), Some(20));
        assert_eq!(b.quota_of("us.stability.stable-image-core-v1:1"), Some(30));
        assert_eq!(
            b.quota_of("us-east-2"),
            None,
            "unlimited where none is given"
        );
        assert_eq!((b.throttle, b.pool_throttle["us-east-1"]), (3, 50));
        for bad in ["us-west-2=0", "=5", "us-west-2=many"] {
            let err =
                FakeModelBehavior::from_lookup(|name| (name == ENV_QUOTA_RPM).then(|| bad.into()))
                    .unwrap_err();
            assert!(err.to_string().contains(ENV_QUOTA_RPM), "{bad}: {err}");
        }
        assert_eq!(
            pool_of("us-west-2", "stability.sd3-5-large-v1:0"),
            "us-west-2"
        );
        assert_eq!(
            pool_of("us-west-2", "us.stability.sd3-5-large-v1:0"),
            "us.stability.sd3-5-large-v1:0"
        );
    }

    #[test]
    fn reads_the_quota_and_the_image_side() {
        let b = FakeModelBehavior::from_lookup(|name| match name {
            ENV_QUOTA_RPM => Some("20".into()),
            ENV_MAX_IMAGE_SIDE => Some(" 64 ".into()),
            _ => None,
        })
        .unwrap();
        assert_eq!((b.quota_rpm, b.max_image_side), (Some(20), Some(64)));
        for bad in ["0", "-1", "fast"] {
            let err =
                FakeModelBehavior::from_lookup(|name| (name == ENV_QUOTA_RPM).then(|| bad.into()))
                    .unwrap_err();
            assert!(err.to_string().contains(ENV_QUOTA_RPM), "{err}");
        }
    }

    #[test]
    fn the_busiest_minute_is_counted_in_a_sliding_window() {
        let at = |s: i64| DateTime::<Utc>::from_timestamp(1_700_000_000 + s, 0).unwrap();
        let mut stats = FakeModelStats::default();
        assert_eq!(stats.max_calls_per_minute(), 0);
        // Every 3 s for 3 minutes: 20 in any 60 s, 21 only in a closed window, which is not counted.
        stats
            .arrivals
            .insert("a".into(), (0..60).map(|i| at(i * 3)).collect());
        assert_eq!(stats.max_calls_per_minute(), 20);
        // Another model's burst of 5 within a second is its own.
        stats
            .arrivals
            .insert("b".into(), (0..5).map(|_| at(100)).collect());
        assert_eq!(stats.max_calls_per_minute(), 20);
        stats.arrivals.get_mut("a").unwrap().push(at(61));
        assert_eq!(stats.max_calls_per_minute(), 21);
    }

    #[test]
    fn each_pool_s_busiest_minute_is_its_busiest_model_s() {
        let at = |s: i64| DateTime::<Utc>::from_timestamp(1_700_000_000 + s, 0).unwrap();
        let mut stats = FakeModelStats::default();
        let calls = |n: i64| (0..n).map(at).collect::<Vec<_>>();
        stats.arrivals.insert("m1@us-east-1".into(), calls(4));
        stats.arrivals.insert("m2@us-east-1".into(), calls(7));
        stats.arrivals.insert("m1@us-west-2".into(), calls(2));
        // A profile pool is keyed by the profile's id alone.
        stats
            .arrivals
            .insert("us.stability.stable-image-core-v1:1".into(), calls(3));
        let pools: Vec<(String, usize)> = stats.busiest_minutes_by_pool().into_iter().collect();
        assert_eq!(
            pools,
            [
                ("us-east-1".to_owned(), 7),
                ("us-west-2".to_owned(), 2),
                ("us.stability.stable-image-core-v1:1".to_owned(), 3),
            ]
        );
    }

    #[test]
    fn bad_count_is_an_error() {
        let err =
            FakeModelBehavior::from_lookup(|name| (name == ENV_TIMEOUT).then(|| "lots".to_owned()))
                .unwrap_err();
        assert!(err.to_string().contains(ENV_TIMEOUT), "{err}");
    }
}
