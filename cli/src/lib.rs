//! `imagegen`: the image pipeline on one machine.
//!
//! The CLI runs the same state-machine definition that is deployed
//! (`statemachine/image-pipeline.asl.json`, embedded) on the local ASL engine, behind the local Step
//! Functions stand-in; its tasks call the real handler functions, whose adapters talk to the offline
//! S3, Bedrock, SNS and DynamoDB through the real SDK clients ([`imagegen_local`]).
//!
//! - [`pipeline`]: [`LocalPipeline`] opens a data directory and registers the state machine; `run`,
//!   `upload` (S3 notification to the real start-execution handler), `wait`.
//! - [`handlers`]: the five functions bound to their local ARNs.
//! - [`definition`]: the definition run (the deployed one, or `--definition FILE`), checked before
//!   anything starts.
//! - [`settings`]: local defaults for the handlers' settings (overridable by the same variables).
//! - [`s3event`]: the S3 notification an upload produces.
//! - [`report`], [`progress`], [`views`]: what people see; [`results`]: what each function returned
//!   in an execution, whatever the definition.
//! - [`args`], [`input`], [`commands`]: the command line.
//! - [`burst`]: `imagegen burst`, many uploads at once against a model with a quota.
//! - [`aws`]: `imagegen aws start`, the deployed pipeline (StartExecution, polling, downloads).
//! - [`serve`]: `imagegen serve`, the same stand-ins on a loopback endpoint for AWS clients, with S3
//!   notifications delivered to the start-execution handler.
//! - [`doors`]: the HTTP API and the queue under `serve`, wired to their handlers as on AWS.
//!
//! Time: real runs use tokio time. Retry waits (2 s and more, with jitter) are real too; with
//! `--fast-retries` (and in the tests) the engine runs on a paused tokio clock, which jumps over waits
//! whenever nothing can run. A `VirtualClock` would not do here: task timeouts race the handler
//! against the clock, and a virtual sleep ends at once, so every task with `TimeoutSeconds` that
//! awaits real I/O (S3 files) would time out.
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

pub mod args;
pub mod aws;
pub mod burst;
pub mod commands;
pub mod definition;
pub mod doors;
pub mod error;
pub mod handlers;
pub mod input;
pub mod pipeline;
pub mod progress;
pub mod report;
pub mod results;
pub mod s3event;
pub mod serve;
pub mod settings;
pub mod views;

pub use error::CliError;
pub use pipeline::{LocalPipeline, PipelineOptions};
pub use report::Report;
