//! The image pipeline wired on one machine: the same state-machine definition that is deployed
//! (`statemachine/image-pipeline.asl.json`, embedded) on the local ASL engine, behind the local Step
//! Functions stand-in; its tasks call the real handler functions, whose adapters talk to the offline
//! S3, Bedrock, SNS, SQS and DynamoDB through the real SDK clients ([`imagegen_local`]). The
//! `imagegen` command line (`imagegen-cli`) and the web console (`imagegen-console`) drive it.
//!
//! - [`pipeline`]: [`LocalPipeline`] opens a data directory and registers the state machine; `run`,
//!   `start`, `stop`, `upload` (S3 notification to the real start-execution handler), `wait`.
//! - [`handlers`]: the five functions bound to their local ARNs.
//! - [`definition`]: the definition run (the deployed one, or another file), checked before
//!   anything starts.
//! - [`settings`]: local defaults for the handlers' settings (overridable by the same variables).
//! - [`bucket_notifications`]: the bucket's notification configuration under `imagegen serve`,
//!   delivering the S3 event of each upload ([`imagegen_local::s3::event`]) to start-execution.
//! - [`api_and_queue`]: the HTTP API and the SQS queue (the front doors), wired to their handlers
//!   as on AWS.
//! - [`input`]: the console-style execution input, built from fields, named and shown shortened.
//! - [`results`]: what each function returned in an execution, whatever the definition, and what
//!   the execution made.
//! - [`LocalPipelineError`]: why it could not do what it was asked.
//!
//! Time: real runs use tokio time. Retry waits (2 s and more, with jitter) are real too; with
//! `--fast-retries` (and in the tests) the engine runs on a paused tokio clock, which jumps over waits
//! whenever nothing can run. A `VirtualClock` would not do here: task timeouts race the handler
//! against the clock, and a virtual sleep ends at once, so every task with `TimeoutSeconds` that
//! awaits real I/O (S3 files) would time out.
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

pub mod api_and_queue;
pub mod bucket_notifications;
pub mod definition;
mod error;
pub mod handlers;
pub mod input;
pub mod pipeline;
pub mod results;
pub mod settings;

pub use error::LocalPipelineError;
pub use pipeline::{LocalPipeline, PipelineOptions};
