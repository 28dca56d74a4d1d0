//! Why the local pipeline could not do what it was asked: each error says what went wrong in words
//! a person can act on.

use std::path::PathBuf;

use crate::definition::DefinitionError;

/// Why the local pipeline could not do its job (an execution that ran and failed is not an error:
/// its record says how it ended).
#[derive(Debug, thiserror::Error)]
pub enum LocalPipelineError {
    /// The data directory could not be opened (missing permissions, foreign or corrupt).
    #[error("data directory: {0}")]
    Local(#[from] imagegen_local::LocalError),
    /// A handler's settings are invalid (an environment variable override).
    #[error("{0}")]
    Config(#[from] imagegen_core::config::ConfigError),
    /// The state machine definition cannot run the local pipeline (the embedded one: a build
    /// problem; [`crate::PipelineOptions::definition`]'s: see [`DefinitionError`]).
    #[error("the state machine definition {0}")]
    Definition(#[from] DefinitionError),
    /// A definition file (`--definition`) cannot run the local pipeline.
    #[error("the definition {} {problem}", path.display())]
    DefinitionFile {
        path: PathBuf,
        problem: DefinitionError,
    },
    /// A file could not be read.
    #[error("reading {path}: {source}")]
    ReadFile {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// Input that cannot be used: an execution input too large, a file without a usable name, the
    /// fields of a console input.
    #[error("{0}")]
    Input(String),
    /// A call to a local AWS stand-in failed.
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

impl LocalPipelineError {
    pub(crate) fn aws(service: &'static str, error: impl std::fmt::Display) -> Self {
        Self::Aws {
            service,
            detail: error.to_string(),
        }
    }
}
