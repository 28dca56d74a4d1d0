//! How JSONata states write their data: `Output` and `Assign` (evaluated with `$states`; the variables change after
//! both are evaluated, so neither sees the other's assignments), and numbers given as
//! expressions (`TimeoutSeconds`, `MaxConcurrency`, ...).

use super::{Entered, Exec, Failure, Frame};
use crate::jsonata::{Expression, FieldError, States};
use crate::model::Template;
use crate::payload::Sources;
use serde_json::Value;

impl Exec<'_> {
    /// How a JSONata state ends: `fields` (its `Output` and `Assign`) evaluated with
    /// `states`; without an `Output` the output is `default`.
    pub(crate) fn end_jsonata(
        &self,
        en: &Entered<'_>,
        (output, assign): (Option<&Template>, Option<&Template>),
        states: States<'_>,
        default: &Value,
        frame: &mut Frame,
    ) -> Result<Value, Failure> {
        let no_context = Value::Null;
        let ctx = states.context.unwrap_or(&no_context);
        let src = self.sources(states.input, ctx, Some(states), frame);
        let assigned = self.eval_assign(en, assign, &src)?;
        let out = match output {
            Some(t) => self.eval_template(en, t, &src)?,
            None => default.clone(),
        };
        Self::apply_assign(frame, assigned);
        Ok(out)
    }

    /// A number field given as an expression: the number, or a query failure naming
    /// what the field takes (`expected`, as in `non-negative integer`) when `valid`
    /// refuses it.
    pub(crate) fn jsonata_number(
        &self,
        en: &Entered<'_>,
        expr: &Expression,
        src: &Sources<'_>,
        field: &str,
        (expected, valid): (&'static str, fn(f64) -> bool),
    ) -> Result<f64, Failure> {
        let v = expr
            .value(&src.jsonata(), field)
            .map_err(|e| en.query(Some(field), e))?;
        match v.as_f64() {
            Some(n) if valid(n) => Ok(n),
            _ => Err(en.query(
                Some(field),
                FieldError::wrong_type(expr, field, expected, &v),
            )),
        }
    }
}

/// What an integer field takes (`MaxConcurrency`, `ToleratedFailureCount`, Wait `Seconds`).
pub(crate) const NON_NEGATIVE_INTEGER: (&str, fn(f64) -> bool) =
    ("non-negative integer", |n| n >= 0.0 && n.fract() == 0.0);
/// What `TimeoutSeconds` and `HeartbeatSeconds` take.
pub(crate) const POSITIVE_INTEGER: (&str, fn(f64) -> bool) =
    ("positive integer", |n| n >= 1.0 && n.fract() == 0.0);
/// What `ToleratedFailurePercentage` takes.
pub(crate) const PERCENTAGE: (&str, fn(f64) -> bool) =
    ("number from 0 to 100", |n| (0.0..=100.0).contains(&n));
