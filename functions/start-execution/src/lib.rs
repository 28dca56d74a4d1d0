//! start-execution: turns S3 "object created" notifications for prompt files into Step Functions
//! executions of the image pipeline.
//!
//! - [`event`]: reads the event (an S3 notification, an EventBridge "Object Created" event, or either
//!   wrapped in SQS/SNS) into one [`event::Record`] per object, so one bad record cannot sink the batch.
//! - [`key`]: decodes the URL-encoded keys of S3 notifications and decides which keys are prompt files.
//! - [`name`]: the deterministic execution name that makes a re-delivered event start nothing new
//!   (hashed like the front doors' names, [`imagegen_core::execution_name`]).
//! - [`summary`]: what was started, what was a duplicate, skipped or failed.
//! - [`handler`]: the Lambda handler, generic over [`imagegen_core::ports::ExecutionStarter`].
//! - [`config`]: settings from the environment.
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

pub mod config;
pub mod event;
pub mod handler;
pub mod key;
pub mod name;
pub mod summary;

pub use config::Config;
pub use handler::handle;
pub use summary::Summary;
