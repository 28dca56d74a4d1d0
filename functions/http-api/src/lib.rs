//! The HTTP API behind API Gateway (IAM-authorised, a REST API proxying to this function):
//!
//! - `POST /generate-image` ([`post`]): console JSON, held to ValidatePrompt's rules before
//!   anything starts: `400` with every problem listed, `413` over the size limit, otherwise the
//!   execution starts and the answer is `202` with the request id, the execution's name and a
//!   status URL. An `Idempotency-Key` header makes a retried POST start nothing new.
//! - `GET /images/{requestId}` ([`status`]): running, succeeded (with presigned links and sizes
//!   of the images and thumbnails, from the manifest) or failed (with the error and the reason);
//!   `?wait=N` holds the answer up to N seconds for the end.
//!
//! Both are scoped by the caller ([`caller`]): keys are the caller's own, and a request is told
//! only to the caller who started it ([`owner`]). A failure of the API itself ([`failure`]) is
//! logged with its detail and answered with a sentence and a correlation id.
//!
//! [`handler::handle`] is generic over the ports (Step Functions and S3), so tests drive it with
//! mocked SDK clients through the real adapters, and `imagegen serve` calls it with the local ones
//! from an API Gateway proxy event it builds.
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

pub mod bodies;
pub mod caller;
pub mod config;
pub mod failure;
pub mod handler;
pub mod ids;
pub mod owner;
pub mod post;
pub mod responses;
pub mod routes;
pub mod status;

pub use config::Config;
pub use handler::{Ports, handle};
