//! Payload templates: JSONPath's (`key.$` members are paths or intrinsics) and
//! JSONata's (`{% ... %}` strings are expressions, anywhere in the value).

use super::{R, invalid};
use crate::intrinsics::{Call, is_intrinsic};
use crate::jsonata::Expression;
use crate::jsonpath::JsonPath;
use crate::model::Template;
use serde_json::Value;

/// Compiles a `Parameters`-like payload template.
pub fn compile_template(v: &Value, state: &str, field: &str) -> R<Template> {
    match v {
        Value::Object(m) => {
            let mut members = Vec::with_capacity(m.len());
            for (k, x) in m {
                if let Some(base) = k.strip_suffix(".$") {
                    let Value::String(s) = x else {
                        return Err(invalid(
                            Some(state),
                            &format!("{field}.{k}"),
                            "the value of a field ending in '.$' must be a string",
                        ));
                    };
                    let t = if is_intrinsic(s) {
                        Template::Intrinsic {
                            call: Call::parse(s).map_err(|e| {
                                invalid(Some(state), &format!("{field}.{k}"), e.to_string())
                            })?,
                            field: k.clone(),
                        }
                    } else {
                        Template::Path {
                            path: JsonPath::parse(s).map_err(|e| {
                                invalid(Some(state), &format!("{field}.{k}"), e.to_string())
                            })?,
                            field: k.clone(),
                        }
                    };
                    members.push((base.to_string(), t));
                } else {
                    members.push((
                        k.clone(),
                        compile_template(x, state, &format!("{field}.{k}"))?,
                    ));
                }
            }
            Ok(Template::Object(members))
        }
        Value::Array(a) => Ok(Template::Array(
            a.iter()
                .enumerate()
                .map(|(i, x)| compile_template(x, state, &format!("{field}[{i}]")))
                .collect::<R<_>>()?,
        )),
        other => Ok(Template::Literal(other.clone())),
    }
}

/// The expression inside a `{% ... %}` string; any other string is a literal (a
/// leading or trailing space makes it one).
pub(super) fn expression_text(s: &str) -> Option<&str> {
    s.strip_prefix("{%")?.strip_suffix("%}")
}

/// Compiles a JSONata state's field value at `location` (`Output`, `Arguments/Payload`),
/// each string through `expression` (the state's reader, which knows its name and
/// notes a use of the context object). A value without expressions stays one
/// literal, which costs nothing to evaluate.
pub(super) fn compile_jsonata(
    v: &Value,
    location: &str,
    expression: &dyn Fn(&str, &Value) -> R<Option<Expression>>,
) -> R<Template> {
    let t = match v {
        Value::String(_) => match expression(location, v)? {
            Some(expr) => Template::Jsonata {
                expr,
                location: location.to_string(),
            },
            None => Template::Literal(v.clone()),
        },
        Value::Object(m) => Template::Object(
            m.iter()
                .map(|(k, x)| {
                    Ok((
                        k.clone(),
                        compile_jsonata(x, &format!("{location}/{k}"), expression)?,
                    ))
                })
                .collect::<R<_>>()?,
        ),
        Value::Array(a) => Template::Array(
            a.iter()
                .enumerate()
                .map(|(i, x)| compile_jsonata(x, &format!("{location}/{i}"), expression))
                .collect::<R<_>>()?,
        ),
        other => Template::Literal(other.clone()),
    };
    Ok(if is_constant(&t) {
        Template::Literal(v.clone())
    } else {
        t
    })
}

fn is_constant(t: &Template) -> bool {
    match t {
        Template::Literal(_) => true,
        Template::Object(m) => m.iter().all(|(_, x)| is_constant(x)),
        Template::Array(a) => a.iter().all(is_constant),
        Template::Path { .. } | Template::Intrinsic { .. } | Template::Jsonata { .. } => false,
    }
}
