//! Wait: for `Seconds`, until a `Timestamp`, either from a path (JSONPath) or an
//! expression (JSONata), on the engine's clock.

use crate::exec::{Entered, Exec, Failure, Frame, Step, invalid_path};
use crate::json::text_of;
use crate::jsonata::FieldError;
use crate::model::WaitFor;
use crate::payload::Sources;
use crate::timestamp;
use serde_json::Value;
use std::time::Duration;

/// The longest Wait AWS carries out (seconds).
const LONGEST_WAIT: f64 = i32::MAX as f64;

/// Wait: sleeps on the engine's clock, then ends like a Pass without a result.
pub(super) async fn run(
    exec: &Exec<'_>,
    en: &Entered<'_>,
    w: &WaitFor,
    input: Value,
    frame: &mut Frame,
) -> Result<Step, Failure> {
    let ctx = exec.context(en, None);
    let eff = exec.state_input(en, input, &ctx, frame)?;
    let secs = wait_seconds(exec, en, w, &exec.field_sources(en, &eff, &ctx, frame))?;
    if secs > LONGEST_WAIT {
        return Err(en.runtime("Wait state delay is too long."));
    }
    if secs > 0.0 {
        exec.services
            .clock
            .sleep(Duration::from_secs_f64(secs.min(LONGEST_WAIT)))
            .await;
    }
    let output = exec.end_plain(en, eff, &ctx, frame)?;
    Ok(Step {
        output,
        next: Exec::next_of(en.state),
    })
}

/// How long a Wait waits, from now.
fn wait_seconds(
    exec: &Exec<'_>,
    en: &Entered<'_>,
    w: &WaitFor,
    src: &Sources<'_>,
) -> Result<f64, Failure> {
    let until = |ts: chrono::DateTime<chrono::Utc>| {
        (ts - exec.services.clock.now()).num_milliseconds() as f64 / 1000.0
    };
    match w {
        WaitFor::Seconds(s) => Ok(*s),
        WaitFor::SecondsPath(p) => {
            let v = src
                .scope
                .eval(p)
                .map_err(|m| en.runtime(invalid_path(p, &m)))?;
            let Some(n) = v.as_i64() else {
                return Err(en.runtime(format!(
                    "The SecondsPath parameter cannot be parsed as a long value: {p} == {v}"
                )));
            };
            if n < 0 {
                return Err(en.runtime(format!(
                    "The SecondsPath parameter references a negative value: {p} == {n}"
                )));
            }
            Ok(n as f64)
        }
        WaitFor::SecondsExpr(expr) => {
            let v = expr
                .value(&src.jsonata(), "Seconds")
                .map_err(|e| en.query(Some("Seconds"), e))?;
            match v.as_u64() {
                Some(n) => Ok(n as f64),
                None => {
                    let e = FieldError::wrong_type(expr, "Seconds", "non-negative integer", &v);
                    Err(en.query(Some("Seconds"), e))
                }
            }
        }
        WaitFor::Timestamp(t) => {
            let ts = timestamp::parse(t)
                .ok_or_else(|| en.runtime(format!("Invalid timestamp '{t}'")))?;
            Ok(until(ts))
        }
        WaitFor::TimestampPath(p) => {
            let v = src
                .scope
                .eval(p)
                .map_err(|m| en.runtime(invalid_path(p, &m)))?;
            let ts = v.as_str().and_then(timestamp::parse).ok_or_else(|| {
                en.runtime(format!(
                    "The TimestampPath parameter does not reference a valid ISO-8601 extended offset date-time format string: {p} == {}",
                    text_of(&v)
                ))
            })?;
            Ok(until(ts))
        }
        WaitFor::TimestampExpr(expr) => {
            let v = expr
                .value(&src.jsonata(), "Timestamp")
                .map_err(|e| en.query(Some("Timestamp"), e))?;
            let ts = v.as_str().and_then(timestamp::parse).ok_or_else(|| {
                en.query_after_entered(
                    "Timestamp",
                    format!(
                        "The Timestamp field cannot be parsed as an ISO-8601 extended offset date-time format string: {}",
                        text_of(&v)
                    ),
                )
            })?;
            Ok(until(ts))
        }
    }
}
