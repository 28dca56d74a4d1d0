//! ValidatePrompt: turns console input or an uploaded prompt file into a normalised, validated
//! [`ImageRequest`](imagegen_core::types::ImageRequest), or rejects it with `PromptRejected` and a reason
//! a person understands. The rules it holds a request to, which the front doors (the HTTP API, the
//! queue) apply too, and the request id live in [`imagegen_core::request`].
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

mod config;
mod handler;
mod input;

pub use config::Config;
pub use handler::handle;
