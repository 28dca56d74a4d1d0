//! `Conditions`: `Fn::Equals`, `Fn::And`, `Fn::Or`, `Fn::Not` and `Condition`, each evaluated once
//! when the stack is made (a condition may name another; a cycle is an error).

use super::{Stack, TemplateError, intrinsics};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

pub(super) fn evaluate_all(stack: &Stack<'_>) -> Result<BTreeMap<String, bool>, TemplateError> {
    let declared = stack.template.section("Conditions");
    let mut done = BTreeMap::new();
    for name in declared.keys() {
        let mut visiting = BTreeSet::new();
        named(stack, name, &mut done, &mut visiting)
            .map_err(|e| e.in_section(format!("Conditions.{name}")))?;
    }
    Ok(done)
}

fn named(
    stack: &Stack<'_>,
    name: &str,
    done: &mut BTreeMap<String, bool>,
    visiting: &mut BTreeSet<String>,
) -> Result<bool, TemplateError> {
    if let Some(value) = done.get(name) {
        return Ok(*value);
    }
    let body = stack
        .template
        .section("Conditions")
        .get(name)
        .ok_or_else(|| TemplateError::UnknownCondition { name: name.into() })?;
    if !visiting.insert(name.to_owned()) {
        return Err(TemplateError::CircularCondition { name: name.into() });
    }
    let value = condition(stack, body, done, visiting)?;
    visiting.remove(name);
    done.insert(name.to_owned(), value);
    Ok(value)
}

fn condition(
    stack: &Stack<'_>,
    body: &Value,
    done: &mut BTreeMap<String, bool>,
    visiting: &mut BTreeSet<String>,
) -> Result<bool, TemplateError> {
    let malformed = |function, why: &str| TemplateError::Malformed {
        function,
        why: why.into(),
    };
    let Some((function, args)) = body
        .as_object()
        .filter(|o| o.len() == 1)
        .and_then(|o| o.iter().next())
    else {
        return match body {
            // A literal, as `Fn::If`'s condition can be after `Condition` resolution.
            Value::Bool(b) => Ok(*b),
            Value::String(s) if s == "true" || s == "false" => Ok(s == "true"),
            _ => Err(malformed(
                "Conditions",
                "a condition is one condition function",
            )),
        };
    };
    match function.as_str() {
        "Condition" => {
            let name = args
                .as_str()
                .ok_or_else(|| malformed("Condition", "it takes a condition's name"))?;
            named(stack, name, done, visiting)
        }
        "Fn::Equals" => {
            let [a, b] = args
                .as_array()
                .and_then(|a| <&[Value; 2]>::try_from(a.as_slice()).ok())
                .ok_or_else(|| malformed("Fn::Equals", "it takes two values"))?;
            let a = stack.resolve(a)?;
            let b = stack.resolve(b)?;
            Ok(intrinsics::to_text(&a) == intrinsics::to_text(&b))
        }
        "Fn::Not" => {
            let [inner] = args
                .as_array()
                .and_then(|a| <&[Value; 1]>::try_from(a.as_slice()).ok())
                .ok_or_else(|| malformed("Fn::Not", "it takes a list of one condition"))?;
            Ok(!condition(stack, inner, done, visiting)?)
        }
        "Fn::And" | "Fn::Or" => {
            let name: &'static str = if function == "Fn::And" {
                "Fn::And"
            } else {
                "Fn::Or"
            };
            let items = args
                .as_array()
                .filter(|a| (2..=10).contains(&a.len()))
                .ok_or_else(|| malformed(name, "it takes a list of 2 to 10 conditions"))?;
            let mut values = Vec::with_capacity(items.len());
            for item in items {
                values.push(condition(stack, item, done, visiting)?);
            }
            Ok(if name == "Fn::And" {
                values.iter().all(|v| *v)
            } else {
                values.iter().any(|v| *v)
            })
        }
        other => Err(TemplateError::UnknownFunction {
            function: other.into(),
        }),
    }
}
