//! Fail: ends with its error and cause, literal, from a path or intrinsic (JSONPath)
//! or from an expression (JSONata).

use crate::exec::{Entered, Exec, Failure, Frame};
use crate::json::text_of;
use crate::model::{QueryLanguage, StrOrPath};
use crate::payload::Sources;
use serde_json::Value;

/// Fail: its error and cause, literal, from a path or intrinsic (JSONPath) or an
/// expression (JSONata).
pub(super) fn run(
    exec: &Exec<'_>,
    en: &Entered<'_>,
    error: &Option<StrOrPath>,
    cause: &Option<StrOrPath>,
    input: Value,
    frame: &Frame,
) -> Failure {
    let ctx = exec.context(en, None);
    if en.state.language == QueryLanguage::JsonPath {
        exec.inspect("afterInputPath", &input);
    }
    let src = exec.field_sources(en, &input, &ctx, frame);
    let eval = |sp: &Option<StrOrPath>, field: &str, path_field: &str| {
        fail_field(en, sp.as_ref(), &src, field, path_field)
    };
    let error = match eval(error, "Error", "ErrorPath") {
        Ok(e) => e,
        Err(f) => return f,
    };
    let cause = match eval(cause, "Cause", "CausePath") {
        Ok(c) => c,
        Err(f) => return f,
    };
    Failure {
        error: error.unwrap_or_default(),
        cause,
        unrecorded: None,
    }
}

fn fail_field(
    en: &Entered<'_>,
    sp: Option<&StrOrPath>,
    src: &Sources<'_>,
    field: &str,
    path_field: &str,
) -> Result<Option<String>, Failure> {
    let v = match sp {
        None => return Ok(None),
        Some(StrOrPath::Literal(s)) => return Ok(Some(s.clone())),
        Some(StrOrPath::Path(p)) => src.scope.eval(p).map_err(|_| {
            en.runtime(format!(
                "The JSONPath '{p}' specified for the field '{path_field}' could not be found in the input '{}'",
                src.scope.input
            ))
        })?,
        Some(StrOrPath::Intrinsic(c)) => c
            .eval(&src.scope, src.rng.as_ref())
            .map_err(|e| en.runtime(e))?,
        Some(StrOrPath::Jsonata(expr)) => expr
            .value(&src.jsonata(), field)
            .map_err(|e| en.query(Some(field), e))?,
    };
    Ok(Some(text_of(&v)))
}
