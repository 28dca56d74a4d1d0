//! ReserveModelSlot: gives each execution its own time to call the image model, on a schedule shared
//! by every execution (one DynamoDB item per model), so that any burst reaches Bedrock at the account's
//! quota instead of being throttled. The state machine then waits for the slot (a Wait state, which
//! costs nothing while it waits) before GenerateImage.
//!
//! - [`schedule`]: slot spacing from the quota, the backoff after a failed attempt, the attempt limit.
//! - [`handle`]: one reservation, or the give-up error once the attempts are spent.
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

mod config;
mod handler;
pub mod schedule;

pub use config::{
    Config, DEFAULT_MAX_SLOT_WAIT_MINUTES, DEFAULT_QUOTA_RPM, MAX_SLOT_WAIT_MINUTES_RANGE,
    QUOTA_RPM_RANGE,
};
pub use handler::handle;
