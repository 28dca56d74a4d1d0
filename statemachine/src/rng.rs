//! Injectable randomness for retry jitter, `States.MathRandom` and `States.UUID`.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

/// A source of random numbers. Implementations must be thread-safe.
pub trait RandomSource: Send + Sync + std::fmt::Debug {
    /// The next 64 random bits.
    fn next_u64(&self) -> u64;

    /// A float uniformly in `[0, 1)`.
    fn next_f64(&self) -> f64 {
        unit_f64(self.next_u64())
    }

    /// A random (version 4) UUID: execution names, request ids, `States.UUID`.
    fn uuid(&self) -> String {
        let mut b = [0u8; 16];
        b[..8].copy_from_slice(&self.next_u64().to_le_bytes());
        b[8..].copy_from_slice(&self.next_u64().to_le_bytes());
        uuid::Builder::from_random_bytes(b).into_uuid().to_string()
    }
}

/// SplitMix64: small, fast, deterministic for a given seed.
#[derive(Debug)]
pub struct SeededRng {
    state: AtomicU64,
}

impl SeededRng {
    /// A generator starting from `seed`.
    pub fn new(seed: u64) -> Self {
        SeededRng {
            state: AtomicU64::new(seed),
        }
    }

    /// A generator seeded from the system clock and process id.
    pub fn from_entropy() -> Self {
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0);
        Self::new(t ^ ((std::process::id() as u64) << 32))
    }
}

/// 64 random bits as a float uniformly in `[0, 1)` (the top 53 bits).
pub fn unit_f64(bits: u64) -> f64 {
    (bits >> 11) as f64 / (1u64 << 53) as f64
}

/// One SplitMix64 step from `x`.
pub fn splitmix(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl RandomSource for SeededRng {
    fn next_u64(&self) -> u64 {
        let s = self
            .state
            .fetch_add(0x9E37_79B9_7F4A_7C15, Ordering::Relaxed);
        splitmix(s)
    }
}

/// A source that replays fixed values (for tests); repeats the last one.
#[derive(Debug)]
pub struct FixedRng {
    values: Mutex<Vec<f64>>,
}

impl FixedRng {
    /// Yields `values` (each in `[0, 1)`) in order.
    pub fn new(values: Vec<f64>) -> Self {
        let mut v = values;
        v.reverse();
        FixedRng {
            values: Mutex::new(v),
        }
    }
}

impl RandomSource for FixedRng {
    fn next_u64(&self) -> u64 {
        (self.next_f64() * (1u64 << 53) as f64) as u64
    }
    fn next_f64(&self) -> f64 {
        let Ok(mut v) = self.values.lock() else {
            return 0.0;
        };
        if v.len() > 1 {
            v.pop().unwrap_or(0.0)
        } else {
            v.last().copied().unwrap_or(0.0)
        }
    }
}
