//! The CLI's typed errors: each says what went wrong in words a person can act on.

use imagegen_deployed_client::DeployedClientError;
use imagegen_local_pipeline::LocalPipelineError;

/// Why a command could not do its job (a pipeline that ran and failed is not an error: see
/// [`crate::report::Report`]).
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// The local pipeline could not do what the command asked (its data directory, settings,
    /// definition, a file, an execution).
    #[error(transparent)]
    Pipeline(#[from] LocalPipelineError),
    /// The deployed pipeline could not be reached, or what it gave back could not be used.
    #[error(transparent)]
    Deployed(#[from] DeployedClientError),
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
    /// Command-line input that cannot be used.
    #[error("{0}")]
    Usage(String),
}

/// The data directory's errors are the local pipeline's ([`LocalPipelineError::Local`]).
impl From<imagegen_local::LocalError> for CliError {
    fn from(error: imagegen_local::LocalError) -> Self {
        Self::Pipeline(error.into())
    }
}
