//! Settings from environment variables. A missing or malformed value is a [`ConfigError`] that names
//! the variable and says what was expected. [`vars`] names every variable a function reads.

use std::str::FromStr;

/// A setting that is missing or malformed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("configuration: {0}")]
pub struct ConfigError(pub String);

impl From<ConfigError> for crate::PipelineError {
    fn from(e: ConfigError) -> Self {
        crate::PipelineError::ConfigError(e.to_string())
    }
}

/// A variable and what its doc comment says about it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Variable {
    pub name: &'static str,
    /// The doc comment's text, line by line as written.
    pub doc: &'static str,
}

impl Variable {
    /// The doc comment as one line of prose.
    pub fn meaning(&self) -> String {
        one_line(self.doc)
    }
}

/// A doc comment's text (lines with their leading space) as one line of prose.
pub(crate) fn one_line(doc: &str) -> String {
    doc.lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Declares each variable name once, as a constant, and [`vars::ALL`] and [`vars::DOCUMENTED`] from
/// the same list, so the documentation tables are generated from the doc comments written here.
macro_rules! variables {
    ($($(#[doc = $doc:literal])* $name:ident),* $(,)?) => {
        $($(#[doc = $doc])* pub const $name: &str = stringify!($name);)*
        /// Every variable a pipeline function reads.
        pub const ALL: &[&str] = &[$($name),*];
        /// Every variable with its doc comment, in the same order as [`ALL`].
        pub const DOCUMENTED: &[super::Variable] =
            &[$(super::Variable { name: $name, doc: concat!($($doc, "\n"),*) }),*];
    };
}

/// The environment variables the functions read (the CDK app sets them; the CLI lets each be
/// overridden from its own environment).
pub mod vars {
    variables! {
        /// start-execution, http-api and queue-consumer: the state machine to start (required).
        STATE_MACHINE_ARN,
        /// start-execution: only keys under it are prompt files; validate-prompt reads prompt files
        /// only from under it.
        PROMPT_PREFIX,
        /// validate-prompt: where images, thumbnails and manifests go, and the only bucket prompt
        /// files are read from; notify-user: the only bucket it links to and writes in; notify-user
        /// and notify-backstop: where the one-email-per-execution records are kept; http-api: where
        /// the manifests it reads and the outputs it links to are (required).
        OUTPUT_BUCKET,
        /// validate-prompt (and the doors, http-api and queue-consumer, which hold requests to its
        /// rules): the model when a request names none.
        DEFAULT_MODEL_ID,
        /// validate-prompt and the doors: comma-separated models a request may name.
        ALLOWED_MODEL_IDS,
        /// validate-prompt: prompt files larger than this are refused before reading; the doors:
        /// the largest request body or message.
        MAX_PROMPT_FILE_BYTES,
        /// validate-prompt and the doors: comma-separated terms that reject a prompt.
        BLOCKLIST,
        /// generate-image: where to call Bedrock.
        BEDROCK_REGION,
        /// reserve-model-slot: the DynamoDB table that schedules model requests (required).
        MODEL_SLOT_TABLE,
        /// reserve-model-slot: InvokeModel requests per minute the account may make to each model.
        MODEL_QUOTA_RPM,
        /// reserve-model-slot: the places each model is called, each with its own schedule and pace,
        /// as comma-separated `NAME=RPM` items, a name being a Region or a cross-Region inference
        /// profile id (generate-image calls the pool its slot names).
        MODEL_POOLS,
        /// reserve-model-slot: comma-separated models to use, in this order, when Bedrock answers
        /// that the request's model (or the fallback before) is retired (`ModelRetired`); none: the
        /// request fails with the retired model's email.
        FALLBACK_MODEL_IDS,
        /// reserve-model-slot: the longest a request may wait for its model slot, in minutes; a
        /// request that would wait longer is refused at once (`QueueFull`).
        MAX_SLOT_WAIT_MINUTES,
        /// generate-thumbnails: longest sides, in pixels.
        THUMBNAIL_SIZES,
        /// generate-thumbnails: comma-separated formats, each size made in each: `jpeg`, `png`,
        /// `webp` (lossy) or `avif`.
        THUMBNAIL_FORMATS,
        /// generate-thumbnails: one format, as `THUMBNAIL_FORMATS` takes them (set one of the two).
        THUMBNAIL_FORMAT,
        /// generate-thumbnails: a number is JPEG's quality; `webp:75,avif:55` sets others (1-100).
        THUMBNAIL_QUALITY,
        /// generate-thumbnails: larger image objects are refused before reading.
        MAX_SOURCE_BYTES,
        /// generate-thumbnails: larger images are refused from their header.
        MAX_SOURCE_PIXELS,
        /// notify-user and notify-backstop: the SNS topic the emails go to (required).
        TOPIC_ARN,
        /// notify-user and http-api: lifetime of the presigned links they hand out.
        PRESIGN_EXPIRY_SECONDS,
    }
}

/// Where settings are read from: the process environment, or a map in tests.
pub trait Env {
    fn var(&self, name: &str) -> Option<String>;
}

/// The process environment.
#[derive(Debug, Clone, Copy, Default)]
pub struct ProcessEnv;

impl Env for ProcessEnv {
    fn var(&self, name: &str) -> Option<String> {
        std::env::var(name).ok()
    }
}

impl Env for std::collections::HashMap<String, String> {
    fn var(&self, name: &str) -> Option<String> {
        self.get(name).cloned()
    }
}

impl<const N: usize> Env for [(&str, &str); N] {
    fn var(&self, name: &str) -> Option<String> {
        self.iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| (*v).to_owned())
    }
}

/// A value that must be present and not blank.
pub fn required(env: &impl Env, name: &str) -> Result<String, ConfigError> {
    match env.var(name) {
        Some(v) if !v.trim().is_empty() => Ok(v.trim().to_owned()),
        Some(_) => Err(ConfigError(format!("{name} is set but empty"))),
        None => Err(ConfigError(format!("{name} is not set"))),
    }
}

/// An optional value; blank counts as absent.
pub fn optional(env: &impl Env, name: &str) -> Option<String> {
    env.var(name)
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
}

/// A parsed value with a default when absent.
pub fn parsed_or<T>(env: &impl Env, name: &str, default: T) -> Result<T, ConfigError>
where
    T: FromStr,
    T::Err: std::fmt::Display,
{
    match optional(env, name) {
        None => Ok(default),
        Some(raw) => raw
            .parse()
            .map_err(|e| ConfigError(format!("{name}={raw:?} is not valid: {e}"))),
    }
}

/// A comma-separated list (blank items dropped), or the default when absent.
pub fn list_or(env: &impl Env, name: &str, default: &[&str]) -> Vec<String> {
    match optional(env, name) {
        None => default.iter().map(|s| (*s).to_owned()).collect(),
        Some(raw) => raw
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn required_names_the_missing_variable() {
        let env = [("A", "x")];
        assert_eq!(required(&env, "A").unwrap(), "x");
        assert_eq!(
            required(&env, "TOPIC_ARN").unwrap_err().to_string(),
            "configuration: TOPIC_ARN is not set"
        );
        let blank = [("TOPIC_ARN", "  ")];
        assert!(
            required(&blank, "TOPIC_ARN")
                .unwrap_err()
                .0
                .contains("empty")
        );
    }

    #[test]
    fn parsed_values_report_the_bad_input() {
        let env = [("N", "12x")];
        let err = parsed_or::<u32>(&env, "N", 1).unwrap_err();
        assert!(err.0.contains("N=\"12x\""), "{err}");
        assert_eq!(parsed_or::<u32>(&env, "M", 7).unwrap(), 7);
        assert_eq!(parsed_or::<u32>(&[("N", " 9 ")], "N", 1).unwrap(), 9);
    }

    #[test]
    fn every_variable_keeps_its_doc_comment() {
        assert_eq!(vars::DOCUMENTED.len(), vars::ALL.len());
        for (var, name) in vars::DOCUMENTED.iter().zip(vars::ALL) {
            assert_eq!(var.name, *name);
            assert!(var.meaning().ends_with('.'), "{name}: {:?}", var.meaning());
        }
        let topic = vars::DOCUMENTED.iter().find(|v| v.name == vars::TOPIC_ARN);
        assert_eq!(
            topic.map(Variable::meaning).as_deref(),
            Some("notify-user and notify-backstop: the SNS topic the emails go to (required).")
        );
    }

    #[test]
    fn lists_split_on_commas() {
        let env = [("L", " a, b ,,c ")];
        assert_eq!(list_or(&env, "L", &[]), ["a", "b", "c"]);
        assert_eq!(list_or(&env, "X", &["d"]), ["d"]);
    }
}
