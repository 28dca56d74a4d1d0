//! ValidatePrompt: turns console input or an uploaded prompt file into a normalised, validated
//! [`ImageRequest`](imagegen_core::types::ImageRequest), or rejects it with `PromptRejected` and a reason
//! a person understands. The front doors (the HTTP API, the queue) hold a request to the same
//! [`Rules`] before they start anything ([`request`]), and name its outputs with the same
//! [`request_id`].
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

mod config;
mod fold;
mod handler;
mod input;
pub mod request;
mod rules;
mod text;

pub use config::{Config, DEFAULT_MAX_PROMPT_FILE_BYTES, MAX_PROMPT_FILE_BYTES_RANGE, Rules};
pub use handler::{handle, request_id};
pub use rules::Rejections;
