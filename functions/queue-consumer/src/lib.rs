//! queue-consumer: the queue's front door. SQS batches (console JSON per message) become one
//! execution each, held first to ValidatePrompt's rules; the messages that could not start are
//! reported as batch item failures ([`handler`]).
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

pub mod config;
pub mod handler;

pub use config::Config;
pub use handler::{Outcome, consume_all, handle, response};

/// Messages per invocation (the event source mapping's batch size), as the system this project
/// grew from read them.
pub const BATCH_SIZE: usize = 10;
/// Deliveries of a message before SQS moves it to the dead-letter queue (the redrive policy's
/// `maxReceiveCount`), by default: a message that failed for a passing reason (throttling) gets two
/// more tries; one that can never start (a bad request) reaches the dead-letter queue, and its
/// alarm, within three visibility timeouts.
pub const DEFAULT_MAX_RECEIVE_COUNT: u32 = 3;
/// Accepted `maxReceiveCount` values (SQS's own range).
pub const MAX_RECEIVE_COUNT_RANGE: std::ops::RangeInclusive<u32> = 1..=1000;
