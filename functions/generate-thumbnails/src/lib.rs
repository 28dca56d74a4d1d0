//! GenerateThumbnails: reads each generated image from S3 and stores thumbnails at the configured
//! longest-side sizes. The pure image work lives in [`thumbnail`]; [`handle`] does the S3 round trips.
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

mod config;
mod handler;
pub mod thumbnail;

pub use config::Config;
pub use handler::handle;
