//! ValidatePrompt: turns console input or an uploaded prompt file into a normalised, validated
//! [`ImageRequest`](imagegen_core::types::ImageRequest), or rejects it with `PromptRejected` and a reason
//! a person understands.
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

mod config;
mod fold;
mod handler;
mod input;
mod rules;
mod text;

pub use config::{Config, DEFAULT_MAX_PROMPT_FILE_BYTES, MAX_PROMPT_FILE_BYTES_RANGE};
pub use handler::handle;
pub use rules::Rejections;
