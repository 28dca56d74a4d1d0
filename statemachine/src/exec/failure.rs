//! How a state fails: a [`Failure`] (error name and cause) and the forms Step
//! Functions shows it in.

use crate::errors;
use crate::jsonpath::{JsonPath, PathMiss};
use serde_json::{Map, Value};

/// A failure inside an execution: an error name and an optional cause.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Failure {
    pub error: String,
    pub cause: Option<String>,
    /// Set for a JSONata evaluation failure until the failing state records its
    /// `EvaluationFailed` event.
    pub unrecorded: Option<Evaluation>,
}

/// Where a JSONata evaluation failed, for its `EvaluationFailed` event.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Evaluation {
    /// The field (`Output/result`); none when no expression was at fault.
    pub location: Option<String>,
    /// The event follows the state's `StateEntered` (a Wait whose timestamp is
    /// wrong); otherwise it takes that event's `previousEventId`, as AWS records it.
    pub follows_entered: bool,
}

impl Failure {
    pub(crate) fn new(error: &str, cause: impl Into<String>) -> Self {
        Failure {
            error: error.to_string(),
            cause: Some(cause.into()),
            unrecorded: None,
        }
    }
    pub(crate) fn runtime(state: &str, entered_id: u64, msg: impl std::fmt::Display) -> Self {
        Failure::new(
            errors::RUNTIME,
            format!(
                "An error occurred while executing the state '{state}' (entered at the event id #{entered_id}). {msg}"
            ),
        )
    }
    pub(crate) fn is_runtime(&self) -> bool {
        self.error == errors::RUNTIME
    }
}

/// The message for a path that selected nothing in InputPath/OutputPath style.
pub(crate) fn invalid_path(path: &JsonPath, miss: &PathMiss) -> String {
    if miss.missing_prefix == miss.normalized {
        format!(
            "Invalid path '{path}' : No results for path: {}",
            miss.normalized
        )
    } else {
        format!(
            "Invalid path '{path}' : Missing property in path {}",
            miss.missing_prefix
        )
    }
}

/// The `error`/`cause` details of a failure event.
pub(crate) fn error_details(f: &Failure) -> Map<String, Value> {
    let mut d = Map::new();
    d.insert("error".into(), Value::String(f.error.clone()));
    if let Some(c) = &f.cause {
        d.insert("cause".into(), Value::String(c.clone()));
    }
    d
}

/// Builds the `{"Error","Cause"}` object a Catch passes on.
pub(crate) fn error_output(f: &Failure) -> Value {
    let mut m = Map::new();
    m.insert("Error".into(), Value::String(f.error.clone()));
    if let Some(c) = &f.cause {
        m.insert("Cause".into(), Value::String(c.clone()));
    }
    Value::Object(m)
}
