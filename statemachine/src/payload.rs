//! Payload templates: JSONPath's `Parameters`, `ItemSelector`, `ResultSelector`,
//! `Assign` (`key.$` members are evaluated) and JSONata's `Arguments`, `Output`,
//! `Assign`, ... (`{% %}` strings are evaluated); everything else is copied.

use crate::intrinsics::Call;
use crate::json::java_hashmap_order;
use crate::jsonata::{Env, FieldError, Limits, States};
use crate::model::Template;
use crate::rng::RandomSource;
use crate::scope::Scope;
use serde_json::{Map, Value};
use std::sync::Arc;

/// What a template can read.
#[derive(Debug, Clone, Copy)]
pub struct Sources<'a> {
    /// JSONPath's documents (`$`, `$$`, variables); JSONata reads its variables here too.
    pub scope: Scope<'a>,
    /// JSONata's `$states` (a JSONata state's fields).
    pub states: Option<States<'a>>,
    /// For `States.MathRandom`, `States.UUID`, `$random()`, `$uuid()`.
    pub rng: &'a Arc<dyn RandomSource>,
}

impl<'a> Sources<'a> {
    /// The JSONata environment of these sources.
    pub fn jsonata(&self) -> Env<'a> {
        Env {
            input: None,
            states: self.states,
            variables: self.scope.variables,
            rng: self.rng,
            limits: Limits::ENGINE,
        }
    }
}

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
        /// The call (it displays as written).
        call: Call,
        /// The failure.
        message: String,
    },
    /// A JSONata expression failed.
    #[error(transparent)]
    Jsonata(#[from] FieldError),
}

/// Evaluates `t` against `src`.
pub fn eval(t: &Template, src: &Sources<'_>) -> Result<Value, PayloadError> {
    match t {
        Template::Literal(v) => Ok(v.clone()),
        Template::Object(members) => {
            // AWS (Java) emits constant members first, in definition order, then
            // the evaluated `key.$` members in java.util.HashMap order.
            let mut m = Map::with_capacity(members.len());
            let mut dynamic = Vec::new();
            for (k, x) in members {
                match x {
                    Template::Path { .. } | Template::Intrinsic { .. } => dynamic.push((k, x)),
                    _ => {
                        m.insert(k.clone(), eval(x, src)?);
                    }
                }
            }
            let order = java_hashmap_order(dynamic.iter().map(|(k, _)| k.as_str()), members.len());
            for i in order {
                let (k, x) = dynamic[i];
                m.insert(k.clone(), eval(x, src)?);
            }
            Ok(Value::Object(m))
        }
        Template::Array(items) => items
            .iter()
            .map(|x| eval(x, src))
            .collect::<Result<Vec<_>, _>>()
            .map(Value::Array),
        Template::Path { path, field } => {
            src.scope
                .eval(path)
                .map_err(|_| PayloadError::PathNotFound {
                    path: path.as_str().to_string(),
                    field: field.clone(),
                    input: src.scope.input.to_string(),
                })
        }
        Template::Intrinsic { call, field } => {
            call.eval(&src.scope, src.rng.as_ref())
                .map_err(|e| PayloadError::Intrinsic {
                    field: field.clone(),
                    call: call.clone(),
                    message: e.0,
                })
        }
        Template::Jsonata { expr, location } => Ok(expr.value(&src.jsonata(), location)?),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::loader::compile_template;
    use crate::rng::SeededRng;
    use serde_json::json;

    #[test]
    fn constants_first_then_java_hashmap_order() {
        let t = compile_template(
            &json!({"original_input.$": "$", "iteration_index.$": "$.i", "from_input_constant.$": "$.c", "constant_value": "x"}),
            "S",
            "ItemSelector",
        )
        .unwrap();
        let input = json!({"i": 1, "c": 2});
        let ctx = json!({});
        let vars = Map::new();
        let scope = Scope {
            input: &input,
            context: &ctx,
            variables: &vars,
        };
        let rng: Arc<dyn RandomSource> = Arc::new(SeededRng::new(1));
        let src = Sources {
            scope,
            states: None,
            rng: &rng,
        };
        let v = eval(&t, &src).unwrap();
        let keys: Vec<&String> = v.as_object().unwrap().keys().collect();
        assert_eq!(
            keys,
            [
                "constant_value",
                "from_input_constant",
                "iteration_index",
                "original_input"
            ]
        );
    }

    #[test]
    fn missing_path_names_the_field() {
        let t = compile_template(&json!({"v.$": "$.nope"}), "S", "Parameters").unwrap();
        let input = json!({});
        let vars = Map::new();
        let scope = Scope {
            input: &input,
            context: &input,
            variables: &vars,
        };
        let rng: Arc<dyn RandomSource> = Arc::new(SeededRng::new(1));
        let src = Sources {
            scope,
            states: None,
            rng: &rng,
        };
        let e = eval(&t, &src).unwrap_err();
        assert_eq!(
            e.to_string(),
            "The JSONPath '$.nope' specified for the field 'v.$' could not be found in the input '{}'"
        );
    }
}
