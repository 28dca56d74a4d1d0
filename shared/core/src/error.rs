//! The pipeline's typed errors. Each error's name is the `errorType` Step Functions sees, so
//! `Retry`/`Catch` in the state machine match these names, locally and on AWS.
//!
//! [`ErrorName`] is the one home of the names: [`PipelineError::name`], the failure email's wording,
//! the CLI and the CDK's facts file all read them from here.

use serde_json::Value;

/// Declares each error once: its name ([`ErrorName`]), its [`PipelineError`] variant and what it
/// means (the doc comment, kept as data for the documentation's table of errors).
macro_rules! errors {
    ($($(#[doc = $doc:literal])* $name:ident),* $(,)?) => {
        /// The stable error names, as Step Functions sees them.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum ErrorName {
            $($(#[doc = $doc])* $name,)*
        }

        impl ErrorName {
            /// Every name, in a fixed order.
            pub const ALL: [Self; [$(stringify!($name)),*].len()] = [$(Self::$name),*];

            /// The name as text (the Lambda `errorType`).
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Self::$name => stringify!($name),)*
                }
            }

            /// What the error means, as one line of prose (its doc comment).
            pub fn meaning(self) -> String {
                let doc = match self {
                    $(Self::$name => concat!($($doc, "\n"),*),)*
                };
                crate::config::one_line(doc)
            }
        }

        /// An error that ends (or retries) a pipeline step. The message is written for a person.
        #[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
        pub enum PipelineError {
            $($(#[doc = $doc])* #[error("{0}")] $name(String),)*
        }

        impl PipelineError {
            /// Which error this is.
            pub fn kind(&self) -> ErrorName {
                match self {
                    $(Self::$name(_) => ErrorName::$name,)*
                }
            }
        }
    };
}

errors! {
    /// The prompt or its options are not acceptable (never retried).
    PromptRejected,
    /// The model's content filter blocked the prompt or the image (never retried).
    ContentFiltered,
    /// The model is throttling us (GenerateImage goes back to ReserveModelSlot for a later slot, with
    /// backoff, a few times).
    ModelThrottled,
    /// The model is not available right now: 5xx, not ready, timed out (GenerateImage goes back to
    /// ReserveModelSlot for a later slot, with backoff, a few times).
    ModelUnavailable,
    /// The model's schedule is booked further ahead than the longest wait allowed
    /// (`MAX_SLOT_WAIT_MINUTES`): the request is refused at once, not queued (never retried).
    QueueFull,
    /// The month's budget for the model is spent: AWS Budgets' action denied the model calls
    /// (`bedrock:InvokeModel`) until someone lifts it (never retried: waiting does not lift it).
    BudgetSpent,
    /// The model is past its end of life on Bedrock, or no longer available to this account; the
    /// message names it and the current models (never retried: a retired model does not come back;
    /// with `FALLBACK_MODEL_IDS`, ReserveModelSlot moves the request to the next fallback model).
    ModelRetired,
    /// The model refused the request or answered something we cannot use (not retried).
    ModelError,
    /// An object that should be an image is not one we can read.
    ImageInvalid,
    /// Reading or writing S3, or the model-slot table, failed.
    StorageError,
    /// IAM or a resource policy refused a request the function made (never retried: a permission
    /// does not appear by waiting); the message names the action and the resource.
    AccessDenied,
    /// Publishing the notification failed.
    NotifyError,
    /// Starting an execution failed.
    StartExecutionError,
    /// The function is misconfigured (a missing or malformed environment variable).
    ConfigError,
    /// The event given to the function does not have the expected shape.
    InvalidEvent,
}

impl ErrorName {
    /// The name an error text stands for, if it is one of ours.
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|n| n.as_str() == text)
    }
}

impl std::fmt::Display for ErrorName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Step Functions' own name for a task that ran out of time (`TimeoutSeconds`).
pub const STATES_TIMEOUT: &str = "States.Timeout";

/// The error named in a failure email for an execution that was stopped (`ABORTED`) without an
/// error of its own (named like the history event).
pub const EXECUTION_ABORTED: &str = "ExecutionAborted";

/// The error named for an execution that ran out of time (`TIMED_OUT`) without an error of its own.
pub const EXECUTION_TIMED_OUT: &str = "ExecutionTimedOut";

/// The error named for a failure that carries no error name at all.
pub const UNKNOWN_ERROR: &str = "UnknownError";

/// The error to name for an execution that ended with `status` (`FAILED`, `TIMED_OUT`, `ABORTED`)
/// when neither its history nor its state gives one.
pub fn default_error_of_status(status: &str) -> &'static str {
    match status {
        "TIMED_OUT" => EXECUTION_TIMED_OUT,
        "ABORTED" => EXECUTION_ABORTED,
        _ => UNKNOWN_ERROR,
    }
}

/// Step Functions' own name for a state whose data went over the payload limit (no `Catch` can
/// handle it: the execution fails at once).
pub const STATES_DATA_LIMIT_EXCEEDED: &str = "States.DataLimitExceeded";

impl PipelineError {
    /// The stable error name (the Lambda `errorType`).
    pub fn name(&self) -> &'static str {
        self.kind().as_str()
    }
}

/// The words of an error's cause as Step Functions records it. For a Lambda error the cause is
/// itself JSON (`{"errorType", "errorMessage", "trace"?}`), and a person wants the `errorMessage`;
/// any other cause is shown as given. Surrounding white space is dropped either way.
pub fn cause_message(cause: &str) -> String {
    let from_lambda = serde_json::from_str::<Value>(cause).ok().and_then(|v| {
        v.get("errorMessage")
            .and_then(Value::as_str)
            .map(|m| m.trim().to_owned())
    });
    match from_lambda {
        Some(message) if !message.is_empty() => message,
        _ => cause.trim().to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_ended_execution_without_an_error_is_named_by_its_status() {
        assert_eq!(default_error_of_status("TIMED_OUT"), EXECUTION_TIMED_OUT);
        assert_eq!(default_error_of_status("ABORTED"), EXECUTION_ABORTED);
        assert_eq!(default_error_of_status("FAILED"), UNKNOWN_ERROR);
    }

    #[test]
    fn names_round_trip_and_are_unique() {
        for name in ErrorName::ALL {
            assert_eq!(ErrorName::parse(name.as_str()), Some(name));
        }
        let mut texts: Vec<_> = ErrorName::ALL.iter().map(|n| n.as_str()).collect();
        texts.sort_unstable();
        texts.dedup();
        assert_eq!(texts.len(), ErrorName::ALL.len());
        assert_eq!(ErrorName::parse("States.Timeout"), None);
    }

    #[test]
    fn each_error_keeps_its_doc_comment_as_its_meaning() {
        assert_eq!(
            ErrorName::ModelThrottled.meaning(),
            "The model is throttling us (GenerateImage goes back to ReserveModelSlot for a later \
             slot, with backoff, a few times)."
        );
        assert!(ErrorName::ALL.iter().all(|n| n.meaning().ends_with('.')));
    }

    #[test]
    fn each_error_has_its_name() {
        assert_eq!(
            PipelineError::ModelThrottled("slow down".into()).name(),
            "ModelThrottled"
        );
        assert_eq!(
            PipelineError::InvalidEvent(String::new()).kind(),
            ErrorName::InvalidEvent
        );
    }

    #[test]
    fn a_retired_model_has_its_own_name() {
        let retired = PipelineError::ModelRetired("m is retired".into());
        assert_eq!(retired.name(), "ModelRetired");
        assert_eq!(
            ErrorName::parse("ModelRetired"),
            Some(ErrorName::ModelRetired)
        );
        assert!(ErrorName::ModelRetired.meaning().contains("never retried"));
    }

    #[test]
    fn lambda_causes_give_their_message() {
        assert_eq!(
            cause_message(r#"{"errorMessage":" too dark ","errorType":"ImageInvalid"}"#),
            "too dark"
        );
        assert_eq!(
            cause_message(r#"{"errorMessage":"  "}"#),
            r#"{"errorMessage":"  "}"#
        );
        assert_eq!(cause_message("  plain words "), "plain words");
        assert_eq!(cause_message("[1,2]"), "[1,2]");
    }
}
