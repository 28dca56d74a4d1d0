//! Logging setup for a Lambda: JSON lines to stdout (CloudWatch).
//!
//! The level comes from `RUST_LOG` (or `AWS_LAMBDA_LOG_LEVEL`): `error`, `warn`, `info` (default),
//! `debug` or `trace`. Per-module filters are not supported: they would pull a regex engine into every
//! binary for little use in a Lambda.

use tracing_subscriber::filter::LevelFilter;

/// The level named by a `RUST_LOG`-style value; `target=level` pairs contribute their level, the most
/// verbose wins; an unknown value falls back to `info`.
pub fn level_from(value: Option<&str>) -> LevelFilter {
    value
        .unwrap_or_default()
        .split(',')
        .filter_map(|part| {
            let level = part.rsplit('=').next().unwrap_or(part).trim();
            // tracing parses "" as ERROR; an empty item means nothing here.
            (!level.is_empty())
                .then(|| level.parse::<LevelFilter>().ok())
                .flatten()
        })
        .max()
        .unwrap_or(LevelFilter::INFO)
}

/// Install the tracing subscriber once. Safe to call more than once (later calls do nothing).
pub fn init() {
    let value = std::env::var("RUST_LOG")
        .or_else(|_| std::env::var("AWS_LAMBDA_LOG_LEVEL"))
        .ok();
    let _ = tracing_subscriber::fmt()
        .json()
        .with_max_level(level_from(value.as_deref()))
        .with_target(false)
        .with_current_span(false)
        .without_time()
        .try_init();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels() {
        assert_eq!(level_from(None), LevelFilter::INFO);
        assert_eq!(level_from(Some("debug")), LevelFilter::DEBUG);
        assert_eq!(level_from(Some("WARN")), LevelFilter::WARN);
        assert_eq!(
            level_from(Some("hyper=warn,imagegen=trace")),
            LevelFilter::TRACE
        );
        assert_eq!(level_from(Some("nonsense")), LevelFilter::INFO);
        assert_eq!(level_from(Some("off")), LevelFilter::OFF);
    }
}
