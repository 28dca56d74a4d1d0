//! GenerateImage: one Bedrock InvokeModel call for a validated request, in the model slot the execution
//! waited for; the images (PNG, or JPEG when the request asks a Stability model for it) are checked
//! and go to S3, and only their keys travel on. Throttling becomes `ModelThrottled` (the state
//! machine reserves a new slot), a content filter `ContentFiltered` (never retried), the rest
//! `ModelUnavailable` or `ModelError`. `main.rs` turns the SDK's own retries off: they would be
//! requests outside the slots.
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

mod config;
mod errors;
mod handler;
mod image;
mod jpeg;
mod png;

pub use config::Config;
pub use handler::handle;
pub use image::{ImageInfo, image_info};
