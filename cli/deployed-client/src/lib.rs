//! The DEPLOYED pipeline, from a workstation (`imagegen aws start|post|get`): run its state machine
//! and bring the results home, and call its HTTP API.
//!
//! - [`api`]: requests to the HTTP API, signed (SigV4, service `execute-api`) with the caller's AWS
//!   credentials.
//! - [`start_and_follow`] (`follow.rs`): StartExecution, then DescribeExecution polling and
//!   GetExecutionHistory for progress.
//! - [`download_results`] (`download.rs`): the result manifest (`results/{requestId}.json`), images
//!   and thumbnails, from S3.
//! - [`DeployedClientError`]: why a call could not be made or its answer used.
//!
//! Credentials and region come from the usual AWS configuration chain; which state machine and
//! which API the caller says (`imagegen` takes them from its flags or environment).
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

pub mod api;
mod download;
mod error;
mod follow;

pub use download::download_results;
pub use error::DeployedClientError;
pub use follow::{Followed, start_and_follow};
