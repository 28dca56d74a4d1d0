//! The account's InvokeModel quota as the offline model enforces it: a token bucket per model, on the
//! engine's clock. It holds up to one minute's worth of requests (`rpm` tokens, full at the start)
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
    level: i128,
    at: DateTime<Utc>,
}

/// Requests per minute per model.
#[derive(Debug, Clone)]
pub struct Quota {
    rpm: u32,
    buckets: HashMap<String, Bucket>,
}

impl Quota {
    pub fn new(rpm: u32) -> Self {
        Self {
            rpm: rpm.max(1),
            buckets: HashMap::new(),
        }
    }

    /// The quota in requests per minute.
    pub fn rpm(&self) -> u32 {
        self.rpm
    }

    /// Take a token for a request to `model` at `now`; false when there is none.
    pub fn try_take(&mut self, model: &str, now: DateTime<Utc>) -> bool {
        let rate = i128::from(self.rpm);
        let capacity = rate * UNIT;
        let bucket = self
            .buckets
            .entry(model.to_owned())
            .or_insert_with(|| Bucket {
                level: capacity,
                at: now,
            });
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
        let mut q = Quota::new(20);
        let granted = (0..25).filter(|_| q.try_take("m", at(0))).count();
        assert_eq!(granted, 20, "the bucket starts full");
        assert!(!q.try_take("m", at(2_999)), "one token every 3 s");
        assert!(q.try_take("m", at(3_000)));
        assert!(!q.try_take("m", at(3_000)));
        assert!(
            q.try_take("other", at(3_000)),
            "each model has its own bucket"
        );
    }

    #[test]
    fn exact_pacing_never_runs_dry() {
        let mut q = Quota::new(7);
        for _ in 0..7 {
            assert!(q.try_take("m", at(0)));
        }
        // 60 s / 7 = 8571.43 ms: paced at 8572 ms, every request finds its token.
        for i in 1..=100 {
            assert!(q.try_take("m", at(i * 8_572)), "request {i}");
        }
        assert!(!q.try_take("m", at(100 * 8_572 + 1)));
    }
}
