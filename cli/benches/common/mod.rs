//! What the benchmarks share: their settings from the environment and their percentiles.

use std::time::Duration;

/// Whether `cargo bench` started this benchmark (it passes `--bench`). `cargo test --benches`, which
/// the test command runs, starts it without: then the benchmark runs the same code once on a tiny
/// workload and writes nothing, so a benchmark that no longer runs fails the tests.
pub fn measuring() -> bool {
    std::env::args().any(|a| a == "--bench")
}

/// The workload setting `name` from the environment, else `full` under `cargo bench` and `quick`
/// under `cargo test --benches`.
pub fn workload(name: &str, full: usize, quick: usize) -> usize {
    env_usize(name, if measuring() { full } else { quick })
}

/// The number in environment variable `name`, or `default` when it is unset or not a number.
pub fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The `p`th percentile (nearest rank) of `sorted`; zero for no samples.
pub fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}
