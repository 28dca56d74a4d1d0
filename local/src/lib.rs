//! Offline stand-ins for the AWS services imagegen uses, reached through the real SDK clients.
//!
//! Handlers talk to AWS only through `aws_sdk_*` clients. Local mode hands them clients whose HTTP
//! transport stays in this process; the requests are still serialised, signed and parsed by the SDK,
//! so the handler code (and its error handling) is the same code that runs on AWS.
//!
//! - S3 ([`s3`]): buckets are directories under `<data-dir>/s3/`, served by our store behind s3s.
//! - Bedrock runtime ([`bedrock`]): an offline image model for the Titan, Nova and Stability request
//!   shapes, with injectable failures ([`FakeModelBehavior`]) and counters ([`FakeModelStats`]).
//! - SNS ([`sns`]): `Publish` writes `.eml` files and `messages.jsonl` to `<data-dir>/outbox/`
//!   ([`outbox`]).
//! - Step Functions ([`sfn`]): executions run on the local ASL engine, kept in `<data-dir>/executions/`.
//! - SQS ([`sqs`]): queues kept in `<data-dir>/sqs/`, with visibility timeouts and dead-letter
//!   redrive, and an event source mapping that feeds a function in batches.
//! - API Gateway ([`apigateway`]): a REST API's routes handed to a function as proxy events.
//! - EventBridge ([`eventbridge`]): a rule that hands Step Functions' status-change events to a
//!   target (the backstop that emails executions which ended without an email).
//! - DynamoDB ([`dynamodb`]): conditional `UpdateItem` and `GetItem` on in-memory tables (the
//!   model-slot schedule).
//! - S3 event notifications ([`notifications`]): kept in `<data-dir>/notifications/` from before
//!   an upload is answered until they are delivered, so delivery is at least once across crashes.
//! - Lambda ([`lambda`]): a function run as its real `bootstrap` process behind a local Lambda
//!   Runtime API, with cold starts, warm reuse, a concurrency limit and timeouts
//!   (`imagegen rehearse`).
//! - [`LocalAws`] ties them to one data directory ([`datadir`]); one process at a time writes to it
//!   ([`lock`]).
//! - [`server`]: the same stand-ins on one loopback HTTP endpoint, for other processes (routed by the
//!   SigV4 scope's service, signatures checked, AWS's error shapes).
//!
//! A new stand-in implements [`transport::LocalService`] and is handed to its
//! SDK client with [`transport::InProcessClient`], as [`bedrock::transport`], [`sns`], [`sfn`] and
//! [`dynamodb`] do.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use imagegen_local::LocalAws;
//!
//! let aws = LocalAws::open("/tmp/imagegen-data")?;
//! aws.create_bucket("imagegen-local")?;
//! let s3 = aws.s3_client();
//! s3.put_object().bucket("imagegen-local").key("prompts/a.txt")
//!     .body(b"a lighthouse at dusk".to_vec().into()).send().await?;
//! let bedrock = aws.bedrock_client(); // InvokeModel answered by the offline model
//! let sns = aws.sns_client();         // Publish lands in <data-dir>/outbox/
//! # let _ = (bedrock, sns);
//! # Ok(()) }
//! ```
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

pub mod apigateway;
pub mod bedrock;
pub mod config;
pub mod datadir;
pub mod dynamodb;
pub mod error;
pub mod eventbridge;
mod files;
mod ids;
pub mod lambda;
mod local;
pub mod lock;
pub mod notifications;
pub mod outbox;
pub mod s3;
pub mod server;
pub mod sfn;
pub mod sns;
pub mod sqs;
pub mod transport;

pub use bedrock::{FakeModel, FakeModelBehavior, FakeModelStats, ModelError};
pub use config::ClientOptions;
pub use datadir::DataDir;
pub use error::LocalError;
pub use local::LocalAws;
pub use lock::WriterLock;
pub use outbox::{Outbox, OutboxMessage};
pub use s3::s3_client;
