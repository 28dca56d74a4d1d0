//! Choice rules: JSONPath comparisons (`Variable` with an operator), And/Or/Not, and
//! JSONata's `Condition`.

use super::R;
use super::context::Ctx;
use crate::jsonpath::JsonPath;
use crate::model::{ChoiceTest, CmpKind, Operand, Relation, Rule, TypeTest};
use serde_json::{Map, Value};

const RELATIONS: [(&str, Relation); 5] = [
    ("Equals", Relation::Eq),
    ("LessThanEquals", Relation::Le),
    ("GreaterThanEquals", Relation::Ge),
    ("LessThan", Relation::Lt),
    ("GreaterThan", Relation::Gt),
];

/// A JSONata rule: its `Condition`, `true`, `false` or an expression.
pub(super) fn condition(c: &Ctx<'_>, o: &Map<String, Value>, field: &str) -> R<ChoiceTest> {
    let f = format!("{field}.Condition");
    let v = o.get("Condition").ok_or_else(|| c.err(&f, "missing"))?;
    if !v.is_boolean() && c.expression(&f, v)?.is_none() {
        return Err(c.err(
            &f,
            "must be true, false or a JSONata expression ({% ... %})",
        ));
    }
    Ok(ChoiceTest::Condition(c.template_of(v, "Condition")?))
}

/// A JSONPath rule: And, Or, Not, or a comparison of `Variable`.
pub(super) fn rule(c: &Ctx<'_>, o: &Map<String, Value>, field: &str) -> R<Rule> {
    let sub_rules = |k: &str| -> R<Vec<Rule>> {
        let arr = o
            .get(k)
            .and_then(Value::as_array)
            .ok_or_else(|| c.err(&format!("{field}.{k}"), "must be an array"))?;
        arr.iter()
            .enumerate()
            .map(|(i, r)| {
                let f = format!("{field}.{k}[{i}]");
                let ro = r
                    .as_object()
                    .ok_or_else(|| c.err(&f, "must be an object"))?;
                rule(c, ro, &f)
            })
            .collect()
    };
    if o.contains_key("And") {
        return Ok(Rule::And(sub_rules("And")?));
    }
    if o.contains_key("Or") {
        return Ok(Rule::Or(sub_rules("Or")?));
    }
    if let Some(n) = o.get("Not") {
        let f = format!("{field}.Not");
        let no = n
            .as_object()
            .ok_or_else(|| c.err(&f, "must be an object"))?;
        return Ok(Rule::Not(Box::new(rule(c, no, &f)?)));
    }
    let variable = o
        .get("Variable")
        .and_then(Value::as_str)
        .ok_or_else(|| c.err(&format!("{field}.Variable"), "missing or not a string"))?;
    let variable = JsonPath::parse(variable)
        .map_err(|e| c.err(&format!("{field}.Variable"), e.to_string()))?;
    match o
        .iter()
        .find(|(k, _)| !matches!(k.as_str(), "Variable" | "Next" | "Comment" | "Assign"))
    {
        Some((k, v)) => operator(c, variable, k, v, &format!("{field}.{k}")),
        None => Err(c.err(field, "no comparison operator")),
    }
}

const TYPE_TESTS: [(&str, TypeTest); 6] = [
    ("IsNull", TypeTest::Null),
    ("IsPresent", TypeTest::Present),
    ("IsNumeric", TypeTest::Numeric),
    ("IsString", TypeTest::String),
    ("IsBoolean", TypeTest::Boolean),
    ("IsTimestamp", TypeTest::Timestamp),
];

/// One comparison of `variable`: operator `k` with operand `v` (at field `f`).
fn operator(c: &Ctx<'_>, variable: JsonPath, k: &str, v: &Value, f: &str) -> R<Rule> {
    if let Some((_, test)) = TYPE_TESTS.iter().find(|(n, _)| *n == k) {
        let expected = v.as_bool().ok_or_else(|| c.err(f, "must be a boolean"))?;
        return Ok(Rule::Test {
            variable,
            test: *test,
            expected,
        });
    }
    if k == "StringMatches" {
        let pattern = v.as_str().ok_or_else(|| c.err(f, "must be a string"))?;
        return Ok(Rule::Matches {
            variable,
            pattern: pattern.to_string(),
        });
    }
    let unknown = || c.err(f, format!("unknown comparison operator '{k}'"));
    let (kind, rest) = if let Some(r) = k.strip_prefix("String") {
        (CmpKind::String, r)
    } else if let Some(r) = k.strip_prefix("Numeric") {
        (CmpKind::Numeric, r)
    } else if let Some(r) = k.strip_prefix("Timestamp") {
        (CmpKind::Timestamp, r)
    } else if let Some(r) = k.strip_prefix("Boolean") {
        (CmpKind::Boolean, r)
    } else {
        return Err(unknown());
    };
    let (rest, is_path) = match rest.strip_suffix("Path") {
        Some(r) => (r, true),
        None => (rest, false),
    };
    let Some((_, relation)) = RELATIONS.iter().find(|(n, _)| *n == rest) else {
        return Err(unknown());
    };
    if kind == CmpKind::Boolean && *relation != Relation::Eq {
        return Err(unknown());
    }
    let operand = if is_path {
        let s = v
            .as_str()
            .ok_or_else(|| c.err(f, "must be a path string"))?;
        Operand::Path(JsonPath::parse(s).map_err(|e| c.err(f, e.to_string()))?)
    } else {
        let ok = match kind {
            CmpKind::String => v.is_string(),
            CmpKind::Numeric => v.is_number(),
            CmpKind::Boolean => v.is_boolean(),
            CmpKind::Timestamp => v
                .as_str()
                .is_some_and(|s| crate::timestamp::parse(s).is_some()),
        };
        if !ok {
            return Err(c.err(f, format!("the value of {k} has the wrong type")));
        }
        Operand::Literal(v.clone())
    };
    Ok(Rule::Compare {
        variable,
        kind,
        relation: *relation,
        operand,
    })
}
