//! Payload templates (`Parameters`, `ItemSelector`, `ResultSelector`,
//! `Assign`): `key.$` members are evaluated, everything else is copied.

use crate::model::Template;
use crate::rng::RandomSource;
use crate::scope::Scope;
use serde_json::{Map, Value};

/// Why a template could not be evaluated.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PayloadError {
    /// A `key.$` path selected nothing.
    #[error(
        "The JSONPath '{path}' specified for the field '{field}' could not be found in the input '{input}'"
    )]
    PathNotFound {
        /// The path.
        path: String,
        /// The field (`key.$`).
        field: String,
        /// The input, as compact JSON.
        input: String,
    },
    /// An intrinsic function failed.
    #[error("The function '{call}' for the field '{field}' failed: {message}")]
    Intrinsic {
        /// The field (`key.$`).
        field: String,
        /// The call, as written.
        call: String,
        /// The failure.
        message: String,
    },
}

/// Evaluates `t` against `scope`.
pub fn eval(
    t: &Template,
    scope: &Scope<'_>,
    rng: &dyn RandomSource,
) -> Result<Value, PayloadError> {
    match t {
        Template::Literal(v) => Ok(v.clone()),
        Template::Object(members) => {
            let mut m = Map::with_capacity(members.len());
            for (k, x) in members {
                m.insert(k.clone(), eval(x, scope, rng)?);
            }
            Ok(Value::Object(m))
        }
        Template::Array(items) => items
            .iter()
            .map(|x| eval(x, scope, rng))
            .collect::<Result<Vec<_>, _>>()
            .map(Value::Array),
        Template::Path { path, field } => {
            scope.eval(path).map_err(|_| PayloadError::PathNotFound {
                path: path.as_str().to_string(),
                field: field.clone(),
                input: scope.input.to_string(),
            })
        }
        Template::Intrinsic { call, field } => {
            call.eval(scope, rng).map_err(|e| PayloadError::Intrinsic {
                field: field.clone(),
                call: format!("{call:?}"),
                message: e.0,
            })
        }
    }
}
