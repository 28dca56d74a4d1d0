//! notify-backstop: the email for executions that ended outside the pipeline's catches.
//!
//! Most runs end in NotifySuccess or NotifyFailure, which email the user. A few cannot: a state whose
//! data goes over Step Functions' 256 KiB limit (`States.DataLimitExceeded`, which no `Catch` can
//! handle), an execution that runs out of time as a whole (`TIMED_OUT`), one stopped by a person
//! (`ABORTED`), a `States.Runtime` error. An EventBridge rule on this state machine's "Step
//! Functions Execution Status Change" events for `FAILED`, `TIMED_OUT` and `ABORTED` invokes this
//! function (locally, the Step Functions stand-in delivers the same event to the same handler). It
//! sends the failure email unless the execution's email was sent already: both senders claim
//! `notifications/{executionName}.json` first ([`imagegen_core::notify::one_email`]), so there is never a second.
//!
//! - [`event`]: reading the status-change event.
//! - [`handler`]: the Lambda handler, generic over the [`imagegen_core::ports`] traits.
//! - [`config`]: settings from the environment.
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

pub mod config;
pub mod event;
pub mod handler;

pub use config::Config;
pub use handler::{Outcome, handle};
