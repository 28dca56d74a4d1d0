//! Choice: the first rule that matches names the next state, else `Default`.
//! JSONPath rules (comparisons, type tests, And/Or/Not) are evaluated here;
//! JSONata's `Condition` is an expression.

use crate::errors;
use crate::exec::{Entered, Exec, Failure, Frame, Step};
use crate::jsonata::FieldError;
use crate::jsonpath::JsonPath;
use crate::model::{
    Choice, ChoiceTest, CmpKind, Operand, QueryLanguage, Relation, Rule, Template, TypeTest,
};
use crate::payload::Sources;
use crate::scope::Scope;
use crate::timestamp;
use serde_json::{Map, Value};
use std::cmp::Ordering;

/// Choice: the first matching rule's `Next`, else `Default`. JSONPath assigns the
/// state's and the rule's `Assign`; JSONata takes the matching rule's `Output` and
/// `Assign`, or the state's when the `Default` is taken.
pub(super) fn run(
    exec: &Exec<'_>,
    en: &Entered<'_>,
    choices: &[Choice],
    default: Option<&str>,
    input: Value,
    frame: &mut Frame,
) -> Result<Step, Failure> {
    let ctx = exec.context(en, None);
    let eff = exec.state_input(en, input, &ctx, frame)?;
    let mut chosen = None;
    for c in choices {
        if choice_matches(
            exec,
            en,
            &c.test,
            &exec.field_sources(en, &eff, &ctx, frame),
        )? {
            chosen = Some(c);
            break;
        }
    }
    let next = match (chosen, default) {
        (Some(c), _) => c.next.as_str(),
        (None, Some(d)) => d,
        (None, None) => {
            return Err(Failure::new(
                errors::NO_CHOICE_MATCHED,
                format!(
                    "No Choice rule matched the input of state '{}' and there is no Default.",
                    en.state.name
                ),
            ));
        }
    };
    let output = match en.state.language {
        QueryLanguage::JsonPath => {
            let src = exec.sources(&eff, &ctx, None, frame);
            let mut assigned = exec.eval_assign(en, en.state.assign.as_ref(), &src)?;
            let rule_assign = chosen.and_then(|c| c.assign.as_ref());
            if let Some(extra) = exec.eval_assign(en, rule_assign, &src)? {
                assigned.get_or_insert_with(Map::new).extend(extra);
            }
            let out = exec.output_path(en, eff, &ctx, frame)?;
            Exec::apply_assign(frame, assigned);
            out
        }
        QueryLanguage::Jsonata => {
            let fields = match chosen {
                Some(c) => (c.output.as_ref(), c.assign.as_ref()),
                None => (en.state.output.as_ref(), en.state.assign.as_ref()),
            };
            exec.end_jsonata(en, fields, exec.states(&eff, &ctx), &eff, frame)?
        }
    };
    Ok(Step {
        output,
        next: Some(next.to_string()),
    })
}

/// Whether a Choice rule matches: a JSONPath rule, or a JSONata Condition.
fn choice_matches(
    exec: &Exec<'_>,
    en: &Entered<'_>,
    test: &ChoiceTest,
    src: &Sources<'_>,
) -> Result<bool, Failure> {
    match test {
        ChoiceTest::Rule(rule) => matches(rule, &src.scope).map_err(|e| en.runtime(e)),
        ChoiceTest::Condition(t) => match exec.eval_template(en, t, src)? {
            Value::Bool(b) => Ok(b),
            other => {
                let Template::Jsonata { expr, location } = t else {
                    return Err(en.runtime("a Condition must be a boolean"));
                };
                let e = FieldError::wrong_type(expr, location, "boolean", &other);
                Err(en.query(Some(location), e))
            }
        },
    }
}

/// A rule that could not be evaluated (an operand path selected nothing).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("Invalid path '{path}' : No results for path: {normalized}")]
pub struct ChoiceError {
    /// The path as written.
    pub path: String,
    /// Its normalised form.
    pub normalized: String,
}

fn read(scope: &Scope<'_>, p: &JsonPath) -> Option<Value> {
    scope.eval(p).ok()
}

fn need(scope: &Scope<'_>, p: &JsonPath) -> Result<Value, ChoiceError> {
    scope.eval(p).map_err(|m| ChoiceError {
        path: p.as_str().to_string(),
        normalized: m.normalized,
    })
}

/// Evaluates a rule.
pub fn matches(rule: &Rule, scope: &Scope<'_>) -> Result<bool, ChoiceError> {
    match rule {
        Rule::And(rs) => {
            for r in rs {
                if !matches(r, scope)? {
                    return Ok(false);
                }
            }
            Ok(true)
        }
        Rule::Or(rs) => {
            for r in rs {
                if matches(r, scope)? {
                    return Ok(true);
                }
            }
            Ok(false)
        }
        Rule::Not(r) => Ok(!matches(r, scope)?),
        Rule::Test {
            variable,
            test,
            expected,
        } => {
            let v = read(scope, variable);
            let actual = match (test, &v) {
                (TypeTest::Present, v) => v.is_some(),
                (_, None) => false,
                (TypeTest::Null, Some(v)) => v.is_null(),
                (TypeTest::Numeric, Some(v)) => v.is_number(),
                (TypeTest::String, Some(v)) => v.is_string(),
                (TypeTest::Boolean, Some(v)) => v.is_boolean(),
                (TypeTest::Timestamp, Some(v)) => v.as_str().and_then(timestamp::parse).is_some(),
            };
            Ok(actual == *expected)
        }
        Rule::Matches { variable, pattern } => {
            let v = need(scope, variable)?;
            Ok(v.as_str().is_some_and(|s| string_matches(s, pattern)))
        }
        Rule::Compare {
            variable,
            kind,
            relation,
            operand,
        } => {
            let v = need(scope, variable)?;
            let rhs = match operand {
                Operand::Literal(x) => x.clone(),
                Operand::Path(p) => need(scope, p)?,
            };
            Ok(compare(&v, *kind, &rhs).is_some_and(|o| holds(*relation, o)))
        }
    }
}

fn holds(r: Relation, o: Ordering) -> bool {
    match r {
        Relation::Eq => o == Ordering::Equal,
        Relation::Lt => o == Ordering::Less,
        Relation::Gt => o == Ordering::Greater,
        Relation::Le => o != Ordering::Greater,
        Relation::Ge => o != Ordering::Less,
    }
}

fn compare(a: &Value, kind: CmpKind, b: &Value) -> Option<Ordering> {
    match kind {
        CmpKind::String => Some(a.as_str()?.cmp(b.as_str()?)),
        CmpKind::Numeric => {
            let (x, y) = (a.as_number()?, b.as_number()?);
            if let (Some(x), Some(y)) = (x.as_i64(), y.as_i64()) {
                return Some(x.cmp(&y));
            }
            x.as_f64()?.partial_cmp(&y.as_f64()?)
        }
        CmpKind::Boolean => (a.as_bool()? == b.as_bool()?)
            .then_some(Ordering::Equal)
            .or(Some(Ordering::Less)),
        CmpKind::Timestamp => {
            let x = timestamp::parse(a.as_str()?)?;
            let y = timestamp::parse(b.as_str()?)?;
            Some(x.cmp(&y))
        }
    }
}

/// `StringMatches`: `*` matches any run of characters; `\*` and `\\` escape.
pub fn string_matches(s: &str, pattern: &str) -> bool {
    #[derive(Debug, PartialEq)]
    enum Tok {
        Star,
        Ch(char),
    }
    let mut toks = Vec::new();
    let mut it = pattern.chars();
    while let Some(c) = it.next() {
        match c {
            '\\' => match it.next() {
                Some(n) => toks.push(Tok::Ch(n)),
                None => toks.push(Tok::Ch('\\')),
            },
            '*' => toks.push(Tok::Star),
            c => toks.push(Tok::Ch(c)),
        }
    }
    let chars: Vec<char> = s.chars().collect();
    // Classic wildcard matching with backtracking over the last star.
    let (mut i, mut j) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while i < chars.len() {
        if j < toks.len() && toks[j] == Tok::Ch(chars[i]) {
            i += 1;
            j += 1;
        } else if j < toks.len() && toks[j] == Tok::Star {
            star = Some((j, i));
            j += 1;
        } else if let Some((sj, si)) = star {
            j = sj + 1;
            i = si + 1;
            star = Some((sj, si + 1));
        } else {
            return false;
        }
    }
    while j < toks.len() && toks[j] == Tok::Star {
        j += 1;
    }
    j == toks.len()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::loader::load_str;
    use crate::model::{ChoiceTest, StateKind};
    use serde_json::{Map, json};
    use std::collections::HashMap;

    fn rule(r: Value) -> Rule {
        let mut r = r;
        r["Next"] = json!("B");
        let def = json!({"StartAt":"A","States":{"A":{"Type":"Choice","Choices":[r]},"B":{"Type":"Succeed"}}});
        let sm = load_str(&def.to_string(), &HashMap::new()).unwrap();
        let StateKind::Choice { choices, .. } = &sm.states["A"].kind else {
            panic!()
        };
        let ChoiceTest::Rule(rule) = &choices[0].test else {
            panic!()
        };
        rule.clone()
    }

    fn eval(r: Value, input: Value) -> Result<bool, ChoiceError> {
        let vars = Map::new();
        let ctx = json!({});
        matches(
            &rule(r),
            &Scope {
                input: &input,
                context: &ctx,
                variables: &vars,
            },
        )
    }

    #[test]
    fn operators() {
        let i = json!({"n": 5, "s": "abc", "b": true, "t": "2020-01-01T00:00:00Z", "m": 5.0});
        assert!(eval(json!({"Variable":"$.n","NumericEquals":5}), i.clone()).unwrap());
        assert!(eval(json!({"Variable":"$.n","NumericLessThan":6}), i.clone()).unwrap());
        assert!(
            eval(
                json!({"Variable":"$.n","NumericGreaterThanEqualsPath":"$.m"}),
                i.clone()
            )
            .unwrap()
        );
        assert!(eval(json!({"Variable":"$.s","StringEquals":"abc"}), i.clone()).unwrap());
        assert!(
            eval(
                json!({"Variable":"$.s","StringGreaterThan":"abb"}),
                i.clone()
            )
            .unwrap()
        );
        assert!(eval(json!({"Variable":"$.s","StringMatches":"a*"}), i.clone()).unwrap());
        assert!(eval(json!({"Variable":"$.b","BooleanEquals":true}), i.clone()).unwrap());
        assert!(
            eval(
                json!({"Variable":"$.t","TimestampLessThan":"2021-01-01T00:00:00Z"}),
                i.clone()
            )
            .unwrap()
        );
        assert!(eval(json!({"Variable":"$.t","IsTimestamp":true}), i.clone()).unwrap());
        assert!(eval(json!({"Variable":"$.x","IsPresent":false}), i.clone()).unwrap());
        assert!(!eval(json!({"Variable":"$.s","NumericEquals":1}), i.clone()).unwrap());
        assert!(eval(json!({"Not":{"Variable":"$.n","IsNull":true}}), i.clone()).unwrap());
        assert!(eval(json!({"And":[{"Variable":"$.n","IsNumeric":true},{"Or":[{"Variable":"$.s","IsString":false},{"Variable":"$.b","IsBoolean":true}]}]}), i.clone()).unwrap());
        assert!(eval(json!({"Variable":"$.missing","NumericEquals":1}), i).is_err());
    }

    #[test]
    fn wildcards() {
        assert!(string_matches("log-2020.txt", "log-*.txt"));
        assert!(string_matches("a*b", "a\\*b"));
        assert!(!string_matches("axb", "a\\*b"));
        assert!(string_matches("", "*"));
        assert!(!string_matches("abc", "*d"));
    }
}
