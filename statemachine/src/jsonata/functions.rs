//! The functions AWS Step Functions adds to JSONata: `$partition`, `$range`, `$hash`,
//! `$random`, `$uuid` and `$parse`. They share their behaviour with the `States.*`
//! intrinsics that do the same job. `$eval` is withdrawn, as on AWS.

use super::convert::{from_jsonata, to_jsonata};
use crate::intrinsics::{IntrinsicError, array_partition, array_range, hash, string_to_json};
use crate::rng::{RandomSource, splitmix, unit_f64};
use jsonata_core::evaluator::{Evaluator, EvaluatorError};
use jsonata_core::value::JValue;
use serde_json::Value;
use std::sync::Arc;

/// Arguments as JSON; `undefined` reads as null, so the function reports the type it needed.
fn json_args(name: &str, args: &[JValue]) -> Result<Vec<Value>, EvaluatorError> {
    args.iter()
        .map(|a| match from_jsonata(a) {
            Ok(v) => Ok(v),
            Err(super::convert::NotJson::Undefined) => Ok(Value::Null),
            Err(super::convert::NotJson::Function) => Err(EvaluatorError::TypeError(format!(
                "{name}: a function is not a valid argument"
            ))),
        })
        .collect()
}

fn failed(e: IntrinsicError) -> EvaluatorError {
    EvaluatorError::EvaluationError(e.0)
}

/// Calls a JSON-to-JSON function on JSONata arguments.
fn via_json(
    name: &'static str,
    f: fn(&str, &[Value]) -> Result<Value, IntrinsicError>,
) -> impl Fn(&[JValue]) -> Result<JValue, EvaluatorError> {
    move |args: &[JValue]| {
        let args = json_args(name, args)?;
        f(name, &args).map(|v| to_jsonata(&v)).map_err(failed)
    }
}

/// Adds AWS's functions to `ev`, those of them an expression names (`names`, without the `$`: one
/// it does not name it cannot reach); `$random` and `$uuid` draw from `rng`.
pub(crate) fn register(
    ev: &mut Evaluator,
    rng: &Arc<dyn RandomSource>,
    names: &[String],
) -> Result<(), EvaluatorError> {
    let named = |name: &str| names.iter().any(|n| n == name);
    if named("partition") {
        ev.register_fn("partition", via_json("$partition", array_partition))?;
    }
    // AWS returns the range as a sequence: a range of one number is that number.
    if named("range") {
        ev.register_fn("range", move |args: &[JValue]| {
            let args = json_args("$range", args)?;
            match array_range("$range", &args).map_err(failed)? {
                Value::Array(items) => Ok(JValue::sequence(items.iter().map(to_jsonata).collect())),
                other => Ok(to_jsonata(&other)),
            }
        })?;
    }
    if named("hash") {
        ev.register_fn("hash", |args: &[JValue]| {
            let args = json_args("$hash", args)?;
            let [data, algorithm] = args.as_slice() else {
                return Err(EvaluatorError::EvaluationError(format!(
                    "$hash expects 2 arguments but got {}",
                    args.len()
                )));
            };
            let data = crate::json::text_of(data);
            let algorithm = algorithm.as_str().unwrap_or_default();
            hash("$hash", &data, algorithm)
                .map(|v| to_jsonata(&v))
                .map_err(failed)
        })?;
    }
    if named("parse") {
        ev.register_fn("parse", via_json("$parse", string_to_json))?;
    }
    if named("uuid") {
        let uuid_rng = Arc::clone(rng);
        ev.register_fn("uuid", move |_: &[JValue]| {
            Ok(JValue::string(uuid_rng.uuid()))
        })?;
    }
    if named("random") {
        let random_rng = Arc::clone(rng);
        // `$random()` is a built-in; AWS's takes an optional seed.
        ev.register_fn_override("random", move |args: &[JValue]| {
            let bits = match args.first().and_then(JValue::as_f64) {
                Some(seed) => splitmix(seed as i64 as u64),
                None => random_rng.next_u64(),
            };
            Ok(JValue::Number(unit_f64(bits)))
        })?;
    }
    if named("eval") {
        ev.register_fn_override("eval", |_: &[JValue]| {
            Err(EvaluatorError::ReferenceError(
                "T1006: Attempted to invoke a non-function".to_string(),
            ))
        })?;
    }
    Ok(())
}
