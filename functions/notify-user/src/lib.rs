//! notify-user: the last step of every execution. On success it writes the result manifest and emails
//! links to what was made; on failure it emails what went wrong, in plain words.
//!
//! - [`event`]: reading the event (`SUCCEEDED` / `FAILED`, see [`imagegen_core::types::NotifyEvent`]).
//! - [`success`]: the success email; [`failure`]: the failure email, from whatever state the run left.
//! - [`subject`]: SNS-safe subjects (ASCII, one line, at most 100 characters).
//! - [`text`]: small formatting helpers (durations, sizes, S3 URIs).
//! - [`checks`]: every bucket and key the success event names must be this request's output.
//! - [`once`]: one email per execution, shared with notify-backstop (`notifications/{name}.json`).
//! - [`manifest`]: the `results/{requestId}.json` manifest, written once.
//! - [`handler`]: the Lambda handler, generic over the [`imagegen_core::ports`] traits.
//! - [`config`]: settings from the environment.
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

pub mod checks;
pub mod config;
pub mod event;
pub mod failure;
pub mod handler;
pub mod manifest;
pub mod once;
pub mod subject;
pub mod success;
pub mod text;

pub use config::Config;
pub use handler::{handle, handle_at};
