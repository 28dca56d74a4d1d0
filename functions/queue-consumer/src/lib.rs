//! queue-consumer: the queue's front door. SQS batches (console JSON per message) become one
//! execution each, held first to ValidatePrompt's rules; the messages that could not start are
//! reported as batch item failures ([`handler`]).
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

pub mod config;
pub mod handler;

pub use config::Config;
pub use handler::handle;
