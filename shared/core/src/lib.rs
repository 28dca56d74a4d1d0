//! imagegen's domain, with no AWS SDK and no Lambda runtime in it: what every function, the local
//! stand-ins and the CLI share.
//!
//! - [`types`]: the payloads that flow between states (camelCase JSON).
//! - [`error`]: [`PipelineError`] and [`ErrorName`], the stable Step Functions error names.
//! - [`execution_name`]: names that make a repeated request start nothing new (the doors').
//! - [`fallback`]: the model a request moves to when its model is retired.
//! - [`config`]: reading settings from environment variables with clear errors; [`config::vars`]
//!   names every variable.
//! - [`model`]: Bedrock image model families, their limits, request and response shapes.
//! - [`display`]: text from outside made safe to show (control characters escaped).
//! - [`limits`]: the payload limit and the largest execution input the pipeline takes.
//! - [`keys`]: the S3 key layout and which uploads are prompt files.
//! - [`notify`]: the user's email: the failure wording and the one-email-per-execution record
//!   that notify-user and notify-backstop share.
//! - [`pools`]: the places a model is called (Regions, inference profiles), each with its pace.
//! - [`ports`]: the traits handlers depend on; `imagegen-aws` implements them over the SDK clients.
//! - [`presign`]: how long presigned links work (the email's and the HTTP API's).
//! - [`request`]: the rules every request is held to, by ValidatePrompt and at the front doors,
//!   and the request id.
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

pub mod config;
pub mod display;
pub mod error;
pub mod execution_name;
pub mod fallback;
pub mod keys;
pub mod limits;
pub mod model;
pub mod notify;
pub mod pools;
pub mod ports;
pub mod presign;
pub mod request;
pub mod thumbnail_format;
pub mod types;

pub use error::{ErrorName, PipelineError};
