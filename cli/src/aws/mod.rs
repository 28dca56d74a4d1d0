//! `imagegen aws start`: run the DEPLOYED state machine and bring its results home.
//!
//! - [`follow`]: StartExecution, then DescribeExecution polling and GetExecutionHistory for progress.
//! - [`download`]: the result manifest (`results/{requestId}.json`), images and thumbnails, from S3.
//!
//! The state machine ARN comes from `--state-machine-arn` or `IMAGEGEN_STATE_MACHINE_ARN` (the
//! `StateMachineArn` output of the `Imagegen` stack); credentials and region from the usual AWS
//! configuration chain.

pub mod download;
pub mod follow;

pub use download::download_results;
pub use follow::{Followed, start_and_follow};
