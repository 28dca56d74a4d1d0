//! Fields of the states that produce a result: `Parameters`/`Arguments`,
//! `ResultSelector`, `ResultPath`, `Retry`, `Catch`, and the Map's tolerated failures.

use super::context::Ctx;
use super::{MAX_DELAY_SECONDS, MAX_SECONDS, R};
use crate::model::{Catcher, NumOrPath, ResultHandling, ResultPathField, Retrier};
use serde_json::{Map, Value};
use std::ops::RangeInclusive;

/// `ToleratedFailurePercentage` (a number from 0 to 100) or its `...Path`.
pub(super) fn tolerated_percentage(c: &Ctx<'_>) -> R<Option<NumOrPath>> {
    const F: &str = "ToleratedFailurePercentage";
    match (c.get(F), c.get("ToleratedFailurePercentagePath")) {
        (Some(_), Some(_)) => Err(c.err(
            F,
            "ToleratedFailurePercentage and ToleratedFailurePercentagePath are mutually exclusive",
        )),
        (Some(v), None) => match (c.expression(F, v)?, v.as_f64()) {
            (Some(e), _) => Ok(Some(NumOrPath::Jsonata(e))),
            (None, Some(p)) if (0.0..=100.0).contains(&p) => Ok(Some(NumOrPath::Literal(p))),
            (None, _) => Err(c.err(F, "must be a number from 0 to 100")),
        },
        (None, Some(_)) => Ok(c
            .path("ToleratedFailurePercentagePath")?
            .map(NumOrPath::Path)),
        (None, None) => Ok(None),
    }
}

/// `Parameters` (JSONata: `Arguments`, when `takes_input`), `ResultSelector`,
/// `ResultPath`, `Retry` and `Catch`.
pub(super) fn io_handling(c: &Ctx<'_>, takes_input: bool) -> R<ResultHandling> {
    let input_field = if c.jsonata() {
        "Arguments"
    } else {
        "Parameters"
    };
    Ok(ResultHandling {
        parameters: if takes_input {
            c.template(input_field)?
        } else {
            None
        },
        result_selector: c.template("ResultSelector")?,
        result_path: c.result_path(c.get("ResultPath"), "ResultPath")?,
        retry: retriers(c)?,
        catch: catchers(c)?,
    })
}

fn error_equals(c: &Ctx<'_>, o: &Map<String, Value>, field: &str) -> R<Vec<String>> {
    let arr = o
        .get("ErrorEquals")
        .and_then(Value::as_array)
        .ok_or_else(|| c.err(&format!("{field}.ErrorEquals"), "missing or not an array"))?;
    let names: Vec<String> = arr
        .iter()
        .map(|e| {
            e.as_str()
                .map(str::to_string)
                .ok_or_else(|| c.err(&format!("{field}.ErrorEquals"), "must contain strings"))
        })
        .collect::<R<_>>()?;
    if names.is_empty() {
        return Err(c.err(&format!("{field}.ErrorEquals"), "must not be empty"));
    }
    if names.iter().any(|n| n == "States.ALL") && names.len() > 1 {
        return Err(c.err(
            &format!("{field}.ErrorEquals"),
            "States.ALL must appear alone",
        ));
    }
    Ok(names)
}

fn retriers(c: &Ctx<'_>) -> R<Vec<Retrier>> {
    let Some(v) = c.get("Retry") else {
        return Ok(Vec::new());
    };
    let arr = v
        .as_array()
        .ok_or_else(|| c.err("Retry", "must be an array"))?;
    let mut out = Vec::new();
    for (i, r) in arr.iter().enumerate() {
        let field = format!("Retry[{i}]");
        let o = r
            .as_object()
            .ok_or_else(|| c.err(&field, "must be an object"))?;
        let int = |k: &str, range: RangeInclusive<u64>, default: u64| -> R<u64> {
            o.get(k).map_or(Ok(default), |v| {
                c.integer(&format!("{field}.{k}"), v, range)
            })
        };
        let interval = int("IntervalSeconds", 1..=MAX_SECONDS, 1)?;
        let max_attempts = int("MaxAttempts", 0..=MAX_SECONDS, 3)?;
        let backoff = match o.get("BackoffRate") {
            None => 2.0,
            Some(v) => v
                .as_f64()
                .filter(|b| *b >= 1.0)
                .ok_or_else(|| c.err(&format!("{field}.BackoffRate"), "must be at least 1.0"))?,
        };
        let max_delay = match o.get("MaxDelaySeconds") {
            None => None,
            Some(_) => Some(int("MaxDelaySeconds", 1..=MAX_DELAY_SECONDS, 0)? as f64),
        };
        let full_jitter = match o.get("JitterStrategy").map(|j| j.as_str()) {
            None | Some(Some("NONE")) => false,
            Some(Some("FULL")) => true,
            _ => return Err(c.err(&format!("{field}.JitterStrategy"), "must be FULL or NONE")),
        };
        out.push(Retrier {
            error_equals: error_equals(c, o, &field)?,
            interval_seconds: interval as f64,
            // At most MAX_SECONDS, so it fits.
            max_attempts: max_attempts as u32,
            backoff_rate: backoff,
            max_delay_seconds: max_delay,
            full_jitter,
        });
    }
    Ok(out)
}

fn catchers(c: &Ctx<'_>) -> R<Vec<Catcher>> {
    let Some(v) = c.get("Catch") else {
        return Ok(Vec::new());
    };
    let arr = v
        .as_array()
        .ok_or_else(|| c.err("Catch", "must be an array"))?;
    let mut out = Vec::new();
    for (i, r) in arr.iter().enumerate() {
        let field = format!("Catch[{i}]");
        let o = r
            .as_object()
            .ok_or_else(|| c.err(&field, "must be an object"))?;
        let next = o
            .get("Next")
            .and_then(Value::as_str)
            .ok_or_else(|| c.err(&format!("{field}.Next"), "missing or not a string"))?
            .to_string();
        out.push(Catcher {
            error_equals: error_equals(c, o, &field)?,
            result_path: c
                .result_path(o.get("ResultPath"), &format!("{field}.ResultPath"))?
                .unwrap_or(ResultPathField::Default),
            next,
            assign: o
                .get("Assign")
                .map(|a| c.template_of(a, &format!("{field}.Assign")))
                .transpose()?,
            output: o
                .get("Output")
                .map(|a| c.template_of(a, &format!("{field}.Output")))
                .transpose()?,
        });
    }
    Ok(out)
}
