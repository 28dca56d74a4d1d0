//! Types, errors, configuration and AWS service adapters shared by every imagegen function.
//!
//! - [`types`]: the payloads that flow between states (camelCase JSON).
//! - [`error`]: [`PipelineError`], whose variant names are the stable Step Functions error names.
//! - [`config`]: reading settings from environment variables with clear errors.
//! - [`model`]: Bedrock image model families, their limits, request and response shapes.
//! - [`keys`]: the S3 key layout.
//! - [`ports`]: the traits handlers depend on; [`adapters`] implements them over the official SDK clients.
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

pub mod adapters;
pub mod config;
pub mod error;
pub mod keys;
pub mod model;
pub mod ports;
pub mod telemetry;
pub mod types;

pub use error::PipelineError;
