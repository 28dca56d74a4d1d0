//! notify-user: the last step of every execution. On success it writes the result manifest and emails
//! links to what was made; on failure it emails what went wrong, in plain words. What it shares with
//! notify-backstop (reading the event, the failure email, one email per execution, subjects) lives
//! in [`imagegen_core::notify`].
//!
//! - [`success`]: the success email.
//! - [`checks`]: every bucket and key the success event names must be this request's output.
//! - [`manifest`]: the `results/{requestId}.json` manifest, written once.
//! - [`handler`]: the Lambda handler, generic over the [`imagegen_core::ports`] traits.
//! - [`config`]: settings from the environment.
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

pub mod checks;
pub mod config;
pub mod handler;
pub mod manifest;
pub mod success;

pub use config::Config;
pub use handler::{handle, handle_at};
