//! The account's InvokeModel quota as the offline model enforces it: a token bucket per model and
//! pool, each with its own pace, on the engine's clock. It holds up to one minute's worth of requests (`rpm` tokens, full at the start)
//! and refills at `rpm` tokens a minute; a request that finds no token is answered with
//! `ThrottlingException`, as Bedrock answers a request over the quota.
//!
//! Arithmetic is exact: a token is 60·10⁹ units and every nanosecond adds `rpm` units, so a request
//! paced at exactly 60 s / rpm always finds its token.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

/// Units in one token: nanoseconds in a minute.
const UNIT: i128 = 60_000_000_000;

#[derive(Debug, Clone)]
struct Bucket {
    rpm: u32,
    level: i128,
    at: DateTime<Utc>,
}

/// Requests per minute per model and pool.
#[derive(Debug, Clone, Default)]
pub struct Quota {
    buckets: HashMap<String, Bucket>,
}

impl Quota {
    pub fn new() -> Self {
        Self::default()
    }

    /// Take a token for a request to `key` (a model in a pool) at `now`, its quota being `rpm`
    /// requests a minute; false when there is none. A bucket whose quota changed starts again full.
    pub fn try_take(&mut self, key: &str, rpm: u32, now: DateTime<Utc>) -> bool {
        let rpm = rpm.max(1);
        let rate = i128::from(rpm);
        let capacity = rate * UNIT;
        let fresh = || Bucket {
            rpm,
            level: capacity,
            at: now,
        };
        let bucket = self.buckets.entry(key.to_owned()).or_insert_with(fresh);
        if bucket.rpm != rpm {
            *bucket = fresh();
        }
        let elapsed = (now - bucket.at)
            .num_nanoseconds()
            .unwrap_or(i64::MAX)
            .max(0);
        bucket.level = (bucket.level + i128::from(elapsed) * rate).min(capacity);
        bucket.at = bucket.at.max(now);
        if bucket.level >= UNIT {
            bucket.level -= UNIT;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(ms: i64) -> DateTime<Utc> {
        DateTime::<Utc>::from_timestamp_millis(1_700_000_000_000 + ms).unwrap()
    }

    #[test]
    fn a_full_minute_at_once_then_the_rate() {
        let mut q = Quota::new();
        let granted = (0..25).filter(|_| q.try_take("m", 20, at(0))).count();
        assert_eq!(granted, 20, "the bucket starts full");
        assert!(!q.try_take("m", 20, at(2_999)), "one token every 3 s");
        assert!(q.try_take("m", 20, at(3_000)));
        assert!(!q.try_take("m", 20, at(3_000)));
        assert!(
            q.try_take("other", 20, at(3_000)),
            "each model and pool has its own bucket"
        );
        let slow = (0..5).filter(|_| q.try_take("slow", 2, at(0))).count();
        assert_eq!(slow, 2, "each at its own pace");
    }

    #[test]
    fn exact_pacing_never_runs_dry() {
        let mut q = Quota::new();
        for _ in 0..7 {
            assert!(q.try_take("m", 7, at(0)));
        }
        // 60 s / 7 = 8571.43 ms: paced at 8572 ms, every request finds its token.
        for i in 1..=100 {
            assert!(q.try_take("m", 7, at(i * 8_572)), "request {i}");
        }
        assert!(!q.try_take("m", 7, at(100 * 8_572 + 1)));
    }
}
