//! Why a call to the deployed pipeline could not be made or used: each error says what went wrong
//! in words a person can act on.

use std::path::PathBuf;

/// Why the deployed pipeline could not be reached, or what it gave back could not be used (an
/// execution that ran and failed is not an error: see [`crate::Followed`]).
#[derive(Debug, thiserror::Error)]
pub enum DeployedClientError {
    /// What it was given or got back cannot be used: no credentials, a URL without a host, an
    /// execution's output without a manifest.
    #[error("{0}")]
    Unusable(String),
    /// A call to AWS failed.
    #[error("{service}: {detail}")]
    Aws {
        service: &'static str,
        detail: String,
    },
    /// A result file could not be written.
    #[error("writing {path}: {source}")]
    WriteFile {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl DeployedClientError {
    /// A failed call to `service`.
    pub fn aws(service: &'static str, error: impl std::fmt::Display) -> Self {
        Self::Aws {
            service,
            detail: error.to_string(),
        }
    }
}
