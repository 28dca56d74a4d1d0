//! The pipeline's typed errors. Each variant's name is the `errorType` Step Functions sees, so
//! `Retry`/`Catch` in the state machine match these names, locally and on AWS.

use lambda_runtime::Diagnostic;

/// An error that ends (or retries) a pipeline step. The message is written for a person.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PipelineError {
    /// The prompt or its options are not acceptable (never retried).
    #[error("{0}")]
    PromptRejected(String),
    /// The model's content filter blocked the prompt or the image (never retried).
    #[error("{0}")]
    ContentFiltered(String),
    /// The model is throttling us (retried with backoff and jitter).
    #[error("{0}")]
    ModelThrottled(String),
    /// The model is not available right now: 5xx, not ready, timed out (retried).
    #[error("{0}")]
    ModelUnavailable(String),
    /// The model refused the request or answered something we cannot use (not retried).
    #[error("{0}")]
    ModelError(String),
    /// An object that should be an image is not one we can read.
    #[error("{0}")]
    ImageInvalid(String),
    /// Reading or writing S3 failed.
    #[error("{0}")]
    StorageError(String),
    /// Publishing the notification failed.
    #[error("{0}")]
    NotifyError(String),
    /// Starting an execution failed.
    #[error("{0}")]
    StartExecutionError(String),
    /// The function is misconfigured (a missing or malformed environment variable).
    #[error("{0}")]
    ConfigError(String),
    /// The event given to the function does not have the expected shape.
    #[error("{0}")]
    InvalidEvent(String),
}

impl PipelineError {
    /// Every error name, as Step Functions sees it.
    pub const NAMES: [&'static str; 11] = [
        "PromptRejected",
        "ContentFiltered",
        "ModelThrottled",
        "ModelUnavailable",
        "ModelError",
        "ImageInvalid",
        "StorageError",
        "NotifyError",
        "StartExecutionError",
        "ConfigError",
        "InvalidEvent",
    ];

    /// The stable error name (the Lambda `errorType`).
    pub fn name(&self) -> &'static str {
        match self {
            Self::PromptRejected(_) => "PromptRejected",
            Self::ContentFiltered(_) => "ContentFiltered",
            Self::ModelThrottled(_) => "ModelThrottled",
            Self::ModelUnavailable(_) => "ModelUnavailable",
            Self::ModelError(_) => "ModelError",
            Self::ImageInvalid(_) => "ImageInvalid",
            Self::StorageError(_) => "StorageError",
            Self::NotifyError(_) => "NotifyError",
            Self::StartExecutionError(_) => "StartExecutionError",
            Self::ConfigError(_) => "ConfigError",
            Self::InvalidEvent(_) => "InvalidEvent",
        }
    }

    /// The message, for a person.
    pub fn message(&self) -> String {
        self.to_string()
    }
}

impl From<PipelineError> for Diagnostic {
    fn from(error: PipelineError) -> Self {
        Diagnostic {
            error_type: error.name().to_owned(),
            error_message: error.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diagnostic_carries_the_stable_name_and_message() {
        let d: Diagnostic = PipelineError::ModelThrottled("slow down".into()).into();
        assert_eq!(d.error_type, "ModelThrottled");
        assert_eq!(d.error_message, "slow down");
    }

    #[test]
    fn names_are_unique_and_match_variants() {
        let all = [
            PipelineError::PromptRejected(String::new()),
            PipelineError::ContentFiltered(String::new()),
            PipelineError::ModelThrottled(String::new()),
            PipelineError::ModelUnavailable(String::new()),
            PipelineError::ModelError(String::new()),
            PipelineError::ImageInvalid(String::new()),
            PipelineError::StorageError(String::new()),
            PipelineError::NotifyError(String::new()),
            PipelineError::StartExecutionError(String::new()),
            PipelineError::ConfigError(String::new()),
            PipelineError::InvalidEvent(String::new()),
        ];
        let names: Vec<_> = all.iter().map(PipelineError::name).collect();
        assert_eq!(names, PipelineError::NAMES);
        let mut sorted = names.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), names.len());
    }
}
