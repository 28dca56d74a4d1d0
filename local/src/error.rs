//! The crate's typed errors.

use std::path::PathBuf;

/// Why a local stand-in could not be set up or used.
#[derive(Debug, thiserror::Error)]
pub enum LocalError {
    /// A filesystem operation on the data directory failed.
    #[error("{action} {path}: {source}")]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The data directory path exists but is not a directory.
    #[error("{0} is not a directory")]
    NotADirectory(PathBuf),
    /// A non-empty directory without the imagegen marker file: refusing to write into it.
    #[error(
        "{path} is not an imagegen data directory (it is not empty and has no {marker}); \
         pick an empty or new directory"
    )]
    ForeignDataDir { path: PathBuf, marker: &'static str },
    /// The marker file exists but cannot be read as one.
    #[error("{path} is corrupt: {detail}")]
    CorruptMarker { path: PathBuf, detail: String },
    /// The data directory was written by an incompatible version of imagegen.
    #[error("{path} has data format version {found}; this build understands version {supported}")]
    UnsupportedVersion {
        path: PathBuf,
        found: u64,
        supported: u64,
    },
    /// A bucket name S3 would refuse.
    #[error("invalid bucket name {name:?}: {reason}")]
    InvalidBucketName { name: String, reason: &'static str },
    /// The outbox log has a line that is not a message record.
    #[error("{path} line {line}: {detail}")]
    CorruptOutbox {
        path: PathBuf,
        line: usize,
        detail: String,
    },
    /// The S3 stand-in could not start.
    #[error("local S3 at {path}: {detail}")]
    S3Setup { path: PathBuf, detail: String },
    /// A name Step Functions would refuse, so it names no execution (and no file).
    #[error("{name} is not an execution name: {reason}")]
    InvalidExecutionName { name: String, reason: String },
    /// A file under `<data-dir>/executions/` that is not an execution record.
    #[error("{path} is corrupt: {detail}")]
    CorruptExecution { path: PathBuf, detail: String },
    /// Another process is writing to the data directory (it holds the writer lock).
    #[error(
        "{path} is in use by {holder}: one imagegen process at a time may write to a data \
         directory"
    )]
    DataDirInUse { path: PathBuf, holder: String },
    /// A file under `<data-dir>/sqs/` that is not a queue.
    #[error("{path} is corrupt: {detail}")]
    CorruptQueue { path: PathBuf, detail: String },
    /// A name SQS would refuse for a queue.
    #[error("{0:?} is not a queue name (1 to 80 letters, digits, - and _)")]
    InvalidQueueName(String),
    /// A fake-model environment variable has a value that cannot be used.
    #[error("environment variable {name}={value:?}: {detail}")]
    InvalidEnv {
        name: &'static str,
        value: String,
        detail: String,
    },
}

impl LocalError {
    pub(crate) fn io(
        action: &'static str,
        path: impl Into<PathBuf>,
    ) -> impl FnOnce(std::io::Error) -> Self {
        let path = path.into();
        move |source| Self::Io {
            action,
            path,
            source,
        }
    }
}
