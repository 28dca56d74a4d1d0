//! `imagegen`: the image pipeline on one machine, and the deployed one, from the command line.
//!
//! The work lives in libraries: [`imagegen_local_pipeline`] wires the pipeline on one machine
//! (`LocalPipeline`: the deployed definition on the local engine, the real handlers, the offline
//! AWS stand-ins, the front doors), [`imagegen_console`] is the web console of `imagegen serve`, and
//! [`imagegen_deployed_client`] reaches the deployed pipeline. This crate is the command line over
//! them.
//!
//! - [`args`], [`input`], [`commands`]: the command line (`main.rs` only parses and runs).
//! - [`report`], [`progress`], [`views`]: what people see.
//! - [`burst`]: `imagegen burst`, many uploads at once against a model with a quota.
//! - [`serve`]: `imagegen serve`, the local pipeline's stand-ins, its front doors and the console
//!   on one loopback endpoint for AWS clients and browsers.
//! - [`rehearse`]: `imagegen rehearse`, the twin built from the cloud assembly `cdk synth` wrote
//!   ([`imagegen_rehearse`]), each function its own process.
//! - [`interrupt`]: Ctrl-C and SIGTERM, for the commands that stop in order.
//! - [`unrecorded`]: ends a full disk had no room for, told on stderr and in the exit status.
//! - [`aws`]: what `imagegen aws post|get` print of the deployed HTTP API's answers (`aws start`
//!   is [`commands::aws_start`]).
//! - [`models`]: `imagegen models` and `imagegen aws models`, where each model is in its lifecycle.
//! - [`CliError`]: why a command could not do its job.
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

pub mod args;
pub mod aws;
pub mod burst;
pub mod commands;
pub mod error;
pub mod input;
pub mod interrupt;
pub mod models;
pub mod progress;
pub mod rehearse;
pub mod report;
pub mod serve;
pub mod unrecorded;
pub mod views;

pub use error::CliError;
pub use report::Report;
