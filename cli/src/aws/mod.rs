//! `imagegen aws`: the DEPLOYED pipeline. `start` runs the state machine and brings its results
//! home; `post` and `get` call its HTTP API.
//!
//! - [`api`]: requests to the HTTP API, signed with the caller's AWS credentials; [`calls`]: the
//!   `post` and `get` commands.
//! - [`follow`]: StartExecution, then DescribeExecution polling and GetExecutionHistory for progress.
//! - [`download`]: the result manifest (`results/{requestId}.json`), images and thumbnails, from S3.
//!
//! The state machine ARN comes from `--state-machine-arn` or `IMAGEGEN_STATE_MACHINE_ARN` (the
//! `StateMachineArn` output of the `Imagegen` stack); credentials and region from the usual AWS
//! configuration chain.

pub mod api;
pub mod calls;
pub mod download;
pub mod follow;

pub use download::download_results;
pub use follow::{Followed, start_and_follow};
