//! The CLI's typed errors: each says what went wrong in words a person can act on.

use std::path::PathBuf;

use crate::definition::DefinitionError;

/// Why a command could not do its job (a pipeline that ran and failed is not an error: see
/// [`crate::report::Report`]).
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// The data directory could not be opened (missing permissions, foreign or corrupt).
    #[error("data directory: {0}")]
    Local(#[from] imagegen_local::LocalError),
    /// Another process writes to the data directory (it holds the writer lock).
    #[error(
        "data directory: {0}. Stop it first, or give this command another --data-dir (while \
         `imagegen serve` runs, send it work through its endpoint, e.g. with the AWS CLI)."
    )]
    InUse(imagegen_local::LocalError),
    /// `imagegen serve` could not listen on its address.
    #[error("cannot listen on {address}: {source}")]
    Listen {
        address: std::net::SocketAddr,
        #[source]
        source: std::io::Error,
    },
    /// A handler's settings are invalid (an environment variable override).
    #[error("{0}")]
    Config(#[from] imagegen_core::config::ConfigError),
    /// The state machine definition cannot run the local pipeline (the embedded one: a build
    /// problem; [`crate::PipelineOptions::definition`]'s: see [`DefinitionError`]).
    #[error("the state machine definition {0}")]
    Definition(#[from] DefinitionError),
    /// `--definition`'s file cannot run the local pipeline.
    #[error("the definition {} {problem}", path.display())]
    DefinitionFile {
        path: PathBuf,
        problem: DefinitionError,
    },
    /// A file given on the command line could not be read.
    #[error("reading {path}: {source}")]
    ReadFile {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A result file could not be written.
    #[error("writing {path}: {source}")]
    WriteFile {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// Command-line input that cannot be used.
    #[error("{0}")]
    Usage(String),
    /// A call to a (local or real) AWS service failed.
    #[error("{service}: {detail}")]
    Aws {
        service: &'static str,
        detail: String,
    },
    /// No execution of that name.
    #[error("no execution named {0:?} (see `imagegen executions`)")]
    NoSuchExecution(String),
    /// The uploaded file did not start an execution.
    #[error("the upload did not start an execution: {0}")]
    NotStarted(String),
}

impl CliError {
    pub(crate) fn aws(service: &'static str, error: impl std::fmt::Display) -> Self {
        Self::Aws {
            service,
            detail: error.to_string(),
        }
    }
}
