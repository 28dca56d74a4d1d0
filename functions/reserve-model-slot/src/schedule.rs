//! The rules of the model-slot schedule.

use std::time::Duration;

/// GenerateImage attempts per execution, each in a slot of its own; then the failure email.
pub const MAX_ATTEMPTS: u32 = 8;
/// The first backoff after a failed attempt; it doubles with each further failure.
pub const FIRST_BACKOFF: Duration = Duration::from_secs(2);
/// The longest backoff.
pub const MAX_BACKOFF: Duration = Duration::from_secs(60);

/// How far apart slots are for `quota_rpm` requests per minute: 60 s / quota, rounded up to the
/// millisecond so that no minute ever holds more than the quota.
pub fn interval_ms(quota_rpm: u32) -> i64 {
    let quota = i64::from(quota_rpm.max(1));
    (60_000 + quota - 1) / quota
}

/// The earliest a new slot may be after `attempts` slots were used: at once for the first; after a
/// failed attempt 2 s, 4 s, 8 s, ... up to 60 s. In a burst the schedule is further ahead than this
/// anyway; on a quiet schedule it keeps a throttled or failing model from being asked again at once
/// (a throttle means someone else is using the quota too).
pub fn backoff(attempts: u32) -> Duration {
    match attempts {
        0 => Duration::ZERO,
        n => FIRST_BACKOFF
            .saturating_mul(1 << (n - 1).min(16))
            .min(MAX_BACKOFF),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intervals_never_allow_more_than_the_quota() {
        assert_eq!(interval_ms(10), 6_000);
        assert_eq!(interval_ms(20), 3_000);
        assert_eq!(interval_ms(60), 1_000);
        assert_eq!(interval_ms(7), 8_572);
        for quota in 1..=2_000 {
            assert!(interval_ms(quota) * i64::from(quota) >= 60_000, "{quota}");
        }
        assert_eq!(interval_ms(0), 60_000, "a zero quota is read as one");
    }

    #[test]
    fn backoff_doubles_up_to_a_minute() {
        let secs: Vec<u64> = (0..10).map(|n| backoff(n).as_secs()).collect();
        assert_eq!(secs, [0, 2, 4, 8, 16, 32, 60, 60, 60, 60]);
        assert_eq!(backoff(u32::MAX), MAX_BACKOFF);
    }
}
