//! How long presigned links work (`PRESIGN_EXPIRY_SECONDS`): the links in the success email
//! (notify-user) and in the HTTP API's status answers (`GET /images/{requestId}`).
//!
//! A presigned URL is signed with the credentials of whoever signs it: on Lambda, the function
//! role's temporary session credentials. The URL stops working at its own expiry or when that
//! session's credentials expire, whichever comes first, and a Lambda session lasts hours, not the
//! 7 days SigV4 would allow. A modest default (one hour) therefore holds as promised; the cap of 12
//! hours keeps the promise from outgrowing the session. Whoever hands out links says when they
//! expire, and the `s3://` URIs next to them keep working for the account's users.

use std::time::Duration;

use crate::config::{ConfigError, Env, parsed_or, vars};

/// Default lifetime of presigned links, in seconds.
pub const DEFAULT_PRESIGN_EXPIRY_SECONDS: u64 = 3600;
/// Accepted `PRESIGN_EXPIRY_SECONDS`: one minute to twelve hours.
pub const PRESIGN_EXPIRY_SECONDS_RANGE: std::ops::RangeInclusive<u64> = 60..=43_200;

/// `PRESIGN_EXPIRY_SECONDS` (default 3600, 60..=43200).
pub fn presign_expiry(env: &impl Env) -> Result<Duration, ConfigError> {
    let seconds = parsed_or(
        env,
        vars::PRESIGN_EXPIRY_SECONDS,
        DEFAULT_PRESIGN_EXPIRY_SECONDS,
    )?;
    if !PRESIGN_EXPIRY_SECONDS_RANGE.contains(&seconds) {
        return Err(ConfigError(format!(
            "{}={seconds} is out of range: expected {} to {} seconds \
             (links signed with the function's temporary credentials stop working when those expire)",
            vars::PRESIGN_EXPIRY_SECONDS,
            PRESIGN_EXPIRY_SECONDS_RANGE.start(),
            PRESIGN_EXPIRY_SECONDS_RANGE.end()
        )));
    }
    Ok(Duration::from_secs(seconds))
}
