//! Logging for a Lambda: JSON lines to stdout (CloudWatch), filtered by the runtime's conventions.
//!
//! - `AWS_LAMBDA_LOG_LEVEL` (set by Lambda's advanced logging controls: `TRACE`, `DEBUG`, `INFO`,
//!   `WARN`, `ERROR`, `FATAL`) is the level for everything; `INFO` when absent.
//! - `RUST_LOG`, when set, adds per-target directives (`hyper=warn,generate_image=trace`): each
//!   keeps its own level, and targets it does not name stay at the level above unless it also gives
//!   a bare level (`debug`, or `warn,generate_image=trace`). Parsed by `tracing-subscriber`'s
//!   `Targets`, which needs no regex engine in every binary.
//!
//! A value that cannot be parsed is reported once, as a warning, and the default applies.

use std::str::FromStr;

use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

/// The filter for these variable values, and a warning to log when one of them was not usable.
pub fn filter_from(
    lambda_log_level: Option<&str>,
    rust_log: Option<&str>,
) -> (Targets, Option<String>) {
    let mut warning = None;
    let level = match lambda_log_level.map(str::trim).filter(|v| !v.is_empty()) {
        None => LevelFilter::INFO,
        Some(value) => lambda_level(value).unwrap_or_else(|| {
            warning = Some(format!(
                "AWS_LAMBDA_LOG_LEVEL={value:?} is not a Lambda log level; using INFO"
            ));
            LevelFilter::INFO
        }),
    };
    let default = Targets::new().with_default(level);
    let Some(directives) = rust_log.map(str::trim).filter(|v| !v.is_empty()) else {
        return (default, warning);
    };
    match Targets::from_str(directives) {
        // A bare level in RUST_LOG is its default; otherwise the Lambda level is.
        Ok(targets) if targets.default_level().is_some() => (targets, warning),
        Ok(targets) => (targets.with_default(level), warning),
        Err(e) => (
            default,
            Some(format!(
                "RUST_LOG={directives:?} is not a list of target=level directives ({e}); using {level}"
            )),
        ),
    }
}

/// Lambda's level names (any case); `FATAL` has no tracing level of its own and means errors only.
fn lambda_level(value: &str) -> Option<LevelFilter> {
    match value.to_ascii_uppercase().as_str() {
        "TRACE" => Some(LevelFilter::TRACE),
        "DEBUG" => Some(LevelFilter::DEBUG),
        "INFO" => Some(LevelFilter::INFO),
        "WARN" => Some(LevelFilter::WARN),
        "ERROR" | "FATAL" => Some(LevelFilter::ERROR),
        _ => None,
    }
}

/// Install the JSON subscriber once, from the process environment. Later calls do nothing.
pub fn init() {
    let lambda = std::env::var("AWS_LAMBDA_LOG_LEVEL").ok();
    let rust_log = std::env::var("RUST_LOG").ok();
    let (filter, warning) = filter_from(lambda.as_deref(), rust_log.as_deref());
    let format = tracing_subscriber::fmt::layer()
        .json()
        .with_target(false)
        .with_current_span(false)
        .without_time();
    if tracing_subscriber::registry()
        .with(format)
        .with(filter)
        .try_init()
        .is_ok()
        && let Some(warning) = warning
    {
        tracing::warn!("{warning}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tracing::Level;

    fn enabled(filter: &Targets, target: &str, level: Level) -> bool {
        filter.would_enable(target, &level)
    }

    #[test]
    fn the_lambda_level_applies_to_everything() {
        let (f, warning) = filter_from(Some("DEBUG"), None);
        assert!(enabled(&f, "generate_image::handler", Level::DEBUG));
        assert!(!enabled(&f, "hyper", Level::TRACE));
        assert_eq!(warning, None);
        let (f, _) = filter_from(Some("fatal"), None);
        assert!(enabled(&f, "x", Level::ERROR));
        assert!(!enabled(&f, "x", Level::WARN));
    }

    #[test]
    fn info_when_nothing_is_set() {
        let (f, warning) = filter_from(None, Some("  "));
        assert!(enabled(&f, "x", Level::INFO));
        assert!(!enabled(&f, "x", Level::DEBUG));
        assert_eq!(warning, None);
    }

    #[test]
    fn rust_log_directives_keep_their_own_levels() {
        let (f, _) = filter_from(Some("INFO"), Some("hyper=warn,imagegen=trace"));
        assert!(enabled(&f, "imagegen", Level::TRACE));
        assert!(!enabled(&f, "hyper", Level::INFO));
        assert!(enabled(&f, "hyper", Level::WARN));
        // Targets RUST_LOG does not name stay at the Lambda level, not at the most verbose one.
        assert!(enabled(&f, "validate_prompt", Level::INFO));
        assert!(!enabled(&f, "validate_prompt", Level::DEBUG));
        assert!(!enabled(&f, "aws_smithy_runtime", Level::TRACE));
    }

    #[test]
    fn a_bare_level_in_rust_log_is_its_default() {
        let (f, _) = filter_from(Some("ERROR"), Some("warn,generate_image=debug"));
        assert!(enabled(&f, "other", Level::WARN));
        assert!(enabled(&f, "generate_image::handler", Level::DEBUG));
        let (f, _) = filter_from(None, Some("debug"));
        assert!(enabled(&f, "anything", Level::DEBUG));
    }

    #[test]
    fn unusable_values_warn_and_fall_back() {
        let (f, warning) = filter_from(Some("LOUD"), None);
        assert!(enabled(&f, "x", Level::INFO));
        assert!(warning.unwrap().contains("AWS_LAMBDA_LOG_LEVEL=\"LOUD\""));
        let (f, warning) = filter_from(Some("WARN"), Some("a=b=c"));
        assert!(enabled(&f, "x", Level::WARN));
        assert!(!enabled(&f, "x", Level::INFO));
        assert!(warning.unwrap().contains("RUST_LOG=\"a=b=c\""));
    }
}
