//! Retry and Catch rules: which error names match, and retry delays.

use crate::errors;
use crate::model::Retrier;
use crate::rng::RandomSource;
use std::time::Duration;

/// Whether `error` is matched by an `ErrorEquals` list. `States.Runtime` is
/// never matched; `States.ALL` matches everything else; `States.TaskFailed`
/// matches everything but timeouts.
pub fn error_matches(error_equals: &[String], error: &str) -> bool {
    if error == errors::RUNTIME {
        return false;
    }
    error_equals.iter().any(|n| {
        n == error
            || n == errors::ALL
            || (n == errors::TASK_FAILED
                && error != errors::TIMEOUT
                && error != errors::HEARTBEAT_TIMEOUT)
    })
}

/// The retry attempts used so far, one counter per retrier.
#[derive(Debug, Clone, Default)]
pub struct RetryState {
    attempts: Vec<u32>,
    /// Total retries performed (`$$.State.RetryCount`).
    pub total: u32,
}

impl RetryState {
    /// A fresh state for `n` retriers.
    pub fn new(n: usize) -> Self {
        RetryState {
            attempts: vec![0; n],
            total: 0,
        }
    }

    /// Consumes an attempt if the first retrier matching `error` has one left,
    /// returning the delay before the next attempt.
    pub fn next_delay(
        &mut self,
        retriers: &[Retrier],
        error: &str,
        rng: &dyn RandomSource,
    ) -> Option<Duration> {
        let idx = retriers
            .iter()
            .position(|r| error_matches(&r.error_equals, error))?;
        let r = &retriers[idx];
        let n = *self.attempts.get(idx)?;
        if n >= r.max_attempts {
            return None;
        }
        self.attempts[idx] = n + 1;
        self.total += 1;
        Some(delay(r, n, rng))
    }
}

/// The delay before retry number `n` (0-based) of retrier `r`.
pub fn delay(r: &Retrier, n: u32, rng: &dyn RandomSource) -> Duration {
    let mut d = r.interval_seconds * r.backoff_rate.powi(n.min(1000) as i32);
    if let Some(max) = r.max_delay_seconds {
        d = d.min(max);
    }
    if r.full_jitter {
        d *= rng.next_f64();
    }
    // A huge BackoffRate overflows to infinity: that is the longest delay, not none
    // (0 x infinity, from full jitter, is NaN: no delay).
    let d = if d.is_nan() { 0.0 } else { d.clamp(0.0, 1e9) };
    Duration::from_secs_f64(d)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::rng::{FixedRng, SeededRng};

    fn retrier(names: &[&str], max: u32) -> Retrier {
        Retrier {
            error_equals: names.iter().map(|s| s.to_string()).collect(),
            interval_seconds: 2.0,
            max_attempts: max,
            backoff_rate: 2.0,
            max_delay_seconds: None,
            full_jitter: false,
        }
    }

    #[test]
    fn matching_rules() {
        let all = vec!["States.ALL".to_string()];
        assert!(error_matches(&all, "Custom"));
        assert!(error_matches(&all, errors::TIMEOUT));
        assert!(error_matches(&all, errors::DATA_LIMIT_EXCEEDED));
        assert!(!error_matches(&all, errors::RUNTIME));
        let tf = vec!["States.TaskFailed".to_string()];
        assert!(error_matches(&tf, "Custom"));
        assert!(!error_matches(&tf, errors::TIMEOUT));
        assert!(!error_matches(
            &["States.Runtime".to_string()],
            errors::RUNTIME
        ));
    }

    #[test]
    fn backoff_max_attempts_and_caps() {
        let rs = vec![retrier(&["A"], 3)];
        let mut st = RetryState::new(1);
        let rng = SeededRng::new(1);
        let d: Vec<_> = (0..4).map(|_| st.next_delay(&rs, "A", &rng)).collect();
        assert_eq!(d[0], Some(Duration::from_secs(2)));
        assert_eq!(d[1], Some(Duration::from_secs(4)));
        assert_eq!(d[2], Some(Duration::from_secs(8)));
        assert_eq!(d[3], None);
        assert_eq!(st.total, 3);
        assert_eq!(RetryState::new(1).next_delay(&rs, "B", &rng), None);
        let zero = vec![retrier(&["A"], 0)];
        assert_eq!(RetryState::new(1).next_delay(&zero, "A", &rng), None);
        let mut capped = retrier(&["A"], 5);
        capped.max_delay_seconds = Some(3.0);
        assert_eq!(delay(&capped, 4, &rng), Duration::from_secs(3));
        capped.full_jitter = true;
        assert_eq!(
            delay(&capped, 4, &FixedRng::new(vec![0.5])),
            Duration::from_secs_f64(1.5)
        );
        let mut steep = retrier(&["A"], 5);
        steep.backoff_rate = 1e300;
        assert_eq!(delay(&steep, 2, &rng), Duration::from_secs(1_000_000_000));
    }
}
