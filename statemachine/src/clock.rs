//! Injectable time: real (tokio) time, or a virtual clock for tests.

use chrono::{DateTime, Utc};
use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;
use std::time::Duration;

/// A boxed, sendable future.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Where the engine gets the time and how it waits (Wait states, retry delays,
/// task timeouts).
pub trait Clock: Send + Sync + std::fmt::Debug {
    /// The current wall-clock time.
    fn now(&self) -> DateTime<Utc>;
    /// Completes after `d` has passed on this clock.
    fn sleep(&self, d: Duration) -> BoxFuture<'static, ()>;
}

/// Real time through tokio. Under a paused tokio runtime
/// (`#[tokio::test(start_paused = true)]`) time auto-advances, so waits are
/// instant yet ordered, which is what task timeouts need in tests.
#[derive(Debug)]
pub struct TokioClock {
    start_instant: tokio::time::Instant,
    start_wall: DateTime<Utc>,
}

impl TokioClock {
    /// A clock anchored at the current wall time.
    pub fn new() -> Self {
        Self::starting_at(Utc::now())
    }

    /// A clock that reads `start` now and moves with tokio's time.
    pub fn starting_at(start: DateTime<Utc>) -> Self {
        TokioClock {
            start_instant: tokio::time::Instant::now(),
            start_wall: start,
        }
    }
}

impl Default for TokioClock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock for TokioClock {
    fn now(&self) -> DateTime<Utc> {
        let elapsed = self.start_instant.elapsed();
        self.start_wall + chrono::Duration::from_std(elapsed).unwrap_or_default()
    }
    fn sleep(&self, d: Duration) -> BoxFuture<'static, ()> {
        Box::pin(tokio::time::sleep(d))
    }
}

/// A virtual clock: `sleep` advances the time at once and records the delay.
/// Use it to test Wait and Retry without sleeping.
#[derive(Debug)]
pub struct VirtualClock {
    now: Mutex<DateTime<Utc>>,
    sleeps: Mutex<Vec<Duration>>,
}

impl VirtualClock {
    /// A clock reading `start`.
    pub fn new(start: DateTime<Utc>) -> Self {
        VirtualClock {
            now: Mutex::new(start),
            sleeps: Mutex::new(Vec::new()),
        }
    }

    /// Every delay slept so far, in order.
    pub fn sleeps(&self) -> Vec<Duration> {
        self.sleeps.lock().map(|s| s.clone()).unwrap_or_default()
    }
}

impl Clock for VirtualClock {
    fn now(&self) -> DateTime<Utc> {
        self.now.lock().map(|n| *n).unwrap_or_else(|_| Utc::now())
    }
    fn sleep(&self, d: Duration) -> BoxFuture<'static, ()> {
        if let Ok(mut n) = self.now.lock() {
            *n += chrono::Duration::from_std(d).unwrap_or_default();
        }
        if let Ok(mut s) = self.sleeps.lock() {
            s.push(d);
        }
        Box::pin(std::future::ready(()))
    }
}
