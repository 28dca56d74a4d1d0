//! The user's email about a run, whoever sends it: notify-user at the end of every execution, and
//! notify-backstop for executions that ended outside the pipeline's catches. Both word a failure
//! the same way and both claim the one email per execution the same way, so the rules live here.
//!
//! - [`event`]: reading notify-user's event (`SUCCEEDED` / `FAILED`, see [`crate::types::NotifyEvent`]).
//! - [`failure_email`]: the failure email, from whatever state the run left.
//! - [`one_email`]: one email per execution, whoever sends it (`notifications/{name}.json`).
//! - [`subject`]: SNS-safe subjects (ASCII, one line, at most 100 characters).
//! - [`human`]: text for people: durations, sizes, S3 URIs, plurals.

pub mod event;
pub mod failure_email;
pub mod human;
pub mod one_email;
pub mod subject;
