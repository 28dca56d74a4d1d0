//! JSONata expressions (the `{% ... %}` strings of JSONata states), evaluated with
//! jsonata-core: the reserved `$states` variable, workflow variables, AWS's own
//! functions, and results and errors in the terms Step Functions reports them.

mod convert;
mod functions;

use crate::rng::RandomSource;
use jsonata_core::ast::AstNode;
use jsonata_core::evaluator::{Context, Evaluator, EvaluatorError, EvaluatorOptions};
use jsonata_core::value::JValue;
use serde_json::{Map, Value};
use std::sync::Arc;
use std::time::Duration;

/// One JSONata expression, parsed when the definition loads.
#[derive(Debug, Clone)]
pub struct Expression {
    source: String,
    ast: Arc<AstNode>,
    /// The `$names` it mentions; only these are bound when it runs.
    names: Vec<String>,
    reads_context: bool,
}

/// Why an expression could not be parsed or evaluated: JSONata's code and message
/// (`T1006: Attempted to invoke a non-function`), as Step Functions quotes them.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct JsonataError {
    /// The message, led by its JSONata error code where it has one.
    pub message: String,
}

impl JsonataError {
    /// The JSONata error code (`T1006`, `S0201`, ...), if the message has one.
    pub fn code(&self) -> Option<&str> {
        is_code(self.message.as_bytes()).then(|| &self.message[..5])
    }
}

/// Whether `b` starts with a JSONata error code and its colon (`T1006:`).
fn is_code(b: &[u8]) -> bool {
    b.len() >= 6
        && b[0].is_ascii_uppercase()
        && b[1..5].iter().all(u8::is_ascii_digit)
        && b[5] == b':'
}

/// `message` from its JSONata error code on: jsonata-core puts a description of its
/// own before the code of some parse errors (`Invalid syntax: S0201: ...`).
fn from_code(message: &str) -> &str {
    (0..message.len())
        .find(|&i| message.is_char_boundary(i) && is_code(&message.as_bytes()[i..]))
        .map_or(message, |i| &message[i..])
}

/// Why a state's JSONata field failed, worded as Step Functions words it (the cause of
/// `States.QueryEvaluationError`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FieldError {
    /// The expression produced nothing.
    #[error(
        "The JSONata expression '{expr}' specified for the field '{location}' returned nothing (undefined)."
    )]
    Nothing {
        /// The expression as written.
        expr: String,
        /// The field (`Output/result`).
        location: String,
    },
    /// The expression produced a function.
    #[error(
        "The JSONata expression '{expr}' specified for the field '{location}' returned an unsupported result type."
    )]
    Unsupported {
        /// The expression as written.
        expr: String,
        /// The field.
        location: String,
    },
    /// The expression failed.
    #[error(
        "The JSONata expression '{expr}' specified for the field '{location}' threw an error during evaluation. {error}"
    )]
    Failed {
        /// The expression as written.
        expr: String,
        /// The field.
        location: String,
        /// JSONata's error.
        error: JsonataError,
    },
    /// The expression produced a value of the wrong type for the field.
    #[error(
        "The JSONata expression '{expr}' specified for the field '{location}' returned an unexpected result type. Expected '{expected}', but was '{actual}' for value: {value}"
    )]
    Type {
        /// The expression as written.
        expr: String,
        /// The field.
        location: String,
        /// What the field takes (`array`, `integer`, ...).
        expected: &'static str,
        /// The JSON type of the result.
        actual: &'static str,
        /// The result, as compact JSON.
        value: String,
    },
}

impl FieldError {
    /// The field that failed (`Output/result`).
    pub fn location(&self) -> &str {
        match self {
            FieldError::Nothing { location, .. }
            | FieldError::Unsupported { location, .. }
            | FieldError::Failed { location, .. }
            | FieldError::Type { location, .. } => location,
        }
    }

    /// The error for a result of the wrong type (`expected` names what the field takes).
    pub fn wrong_type(
        expr: &Expression,
        location: &str,
        expected: &'static str,
        value: &Value,
    ) -> Self {
        FieldError::Type {
            expr: expr.source.clone(),
            location: location.to_string(),
            expected,
            actual: json_type(value),
            value: value.to_string(),
        }
    }
}

/// The JSON type of `v`, as JSONata's `$type` names it.
pub fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// What an expression produced.
#[derive(Debug, Clone, PartialEq)]
pub enum Evaluated {
    /// A JSON value.
    Value(Value),
    /// Nothing (`undefined`).
    Nothing,
    /// A function or a regular expression, which no state field can hold.
    Unsupported,
}

/// The reserved `$states` variable of a JSONata state.
#[derive(Debug, Clone, Copy)]
pub struct States<'a> {
    /// `$states.input`: the state's input.
    pub input: &'a Value,
    /// `$states.context`: the context object (when the state reads it).
    pub context: Option<&'a Value>,
    /// `$states.result`: a Task, Map or Parallel result (in `Output` and `Assign`).
    pub result: Option<&'a Value>,
    /// `$states.errorOutput`: the error a Catch caught (in its `Output` and `Assign`).
    pub error_output: Option<&'a Value>,
}

impl States<'_> {
    /// As a JSONata object, in AWS's key order.
    fn to_jsonata(self) -> JValue {
        let parts = [
            ("input", Some(self.input)),
            ("context", self.context),
            ("result", self.result),
            ("errorOutput", self.error_output),
        ];
        JValue::object(
            parts
                .into_iter()
                .filter_map(|(name, part)| part.map(|v| (name.to_string(), convert::to_jsonata(v))))
                .collect(),
        )
    }
}

/// Bounds on one evaluation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Wall-clock time (JSONata error D1012 when exceeded).
    pub time: Option<Duration>,
    /// Nesting depth of evaluation (D1011 when exceeded).
    pub depth: Option<usize>,
}

impl Limits {
    /// What the engine allows a state field's expression. Evaluation is synchronous:
    /// an expression that never ends would block its execution, and the thread under
    /// it, for good, so it fails after 10 seconds instead.
    pub const ENGINE: Limits = Limits {
        time: Some(Duration::from_secs(10)),
        depth: None,
    };
}

/// What an expression can read.
#[derive(Debug, Clone, Copy)]
pub struct Env<'a> {
    /// The context value `$` (state fields have none).
    pub input: Option<&'a Value>,
    /// `$states`, in a state.
    pub states: Option<States<'a>>,
    /// Variables by name, without the `$`.
    pub variables: &'a Map<String, Value>,
    /// The source of `$random()` and `$uuid()`.
    pub rng: &'a Arc<dyn RandomSource>,
    /// Bounds on the evaluation.
    pub limits: Limits,
}

impl Expression {
    /// Parses `source` (the text between `{%` and `%}`).
    pub fn parse(source: &str) -> Result<Expression, JsonataError> {
        let source = source.trim();
        let ast = jsonata_core::parser::parse(source).map_err(|e| JsonataError {
            message: from_code(&e.to_string()).to_string(),
        })?;
        let names = mentioned_names(source);
        let reads_context = reads_context(source);
        Ok(Expression {
            source: source.to_string(),
            ast: Arc::new(ast),
            names,
            reads_context,
        })
    }

    /// Whether it may read `$states.context` (so the engine builds the context object).
    pub fn reads_context(&self) -> bool {
        self.reads_context
    }

    /// The JSON value of the expression in a state's field at `location`; nothing, a
    /// function or a JSONata error is a `FieldError`.
    pub fn value(&self, env: &Env<'_>, location: &str) -> Result<Value, FieldError> {
        let at = || (self.source.clone(), location.to_string());
        match self.evaluate(env) {
            Ok(Evaluated::Value(v)) => Ok(v),
            Ok(Evaluated::Nothing) => {
                let (expr, location) = at();
                Err(FieldError::Nothing { expr, location })
            }
            Ok(Evaluated::Unsupported) => {
                let (expr, location) = at();
                Err(FieldError::Unsupported { expr, location })
            }
            Err(error) => {
                let (expr, location) = at();
                Err(FieldError::Failed {
                    expr,
                    location,
                    error,
                })
            }
        }
    }

    /// Evaluates the expression.
    pub fn evaluate(&self, env: &Env<'_>) -> Result<Evaluated, JsonataError> {
        let mut ctx = Context::new();
        for name in &self.names {
            if name == "states" {
                if let Some(s) = env.states {
                    ctx.bind(name.clone(), s.to_jsonata());
                }
            } else if let Some(v) = env.variables.get(name) {
                ctx.bind(name.clone(), convert::to_jsonata(v));
            }
        }
        let options = EvaluatorOptions {
            timeout_ms: env.limits.time.map(|t| t.as_millis() as u64),
            max_stack_depth: env.limits.depth,
            ..Default::default()
        };
        let mut ev = Evaluator::with_options(ctx, options);
        functions::register(&mut ev, env.rng, &self.names).map_err(error)?;
        let input = env.input.map_or(JValue::Undefined, convert::to_jsonata);
        // A panic in the evaluator is a failed evaluation, not a crashed engine.
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            ev.evaluate(&self.ast, &input)
        }))
        .map_err(|_| JsonataError {
            message: "the JSONata evaluator failed unexpectedly".to_string(),
        })?
        .map_err(error)?;
        Ok(match convert::from_jsonata(&result) {
            Ok(v) => Evaluated::Value(v),
            Err(convert::NotJson::Undefined) => Evaluated::Nothing,
            Err(convert::NotJson::Function) => Evaluated::Unsupported,
        })
    }
}

/// jsonata-core's error, worded as the reference implementation (jsonata-js 2.0.6,
/// which AWS runs) words it: from the code on, and without the function name that
/// jsonata-core adds to T1006/T1007.
fn error(e: EvaluatorError) -> JsonataError {
    let message = from_code(e.message());
    let message = match message.get(..5) {
        Some("T1006" | "T1007") => message
            .split_once(": $")
            .map_or(message, |(m, _)| m)
            .to_string(),
        _ => message.to_string(),
    };
    JsonataError { message }
}

/// The variable names (`$name`) in `source`; a name in a string literal is harmless
/// (it is bound for nothing).
fn mentioned_names(source: &str) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    let mut rest = source;
    while let Some(i) = rest.find('$') {
        let after = &rest[i + 1..];
        let end = after
            .find(|c: char| !(c.is_alphanumeric() || c == '_'))
            .unwrap_or(after.len());
        let name = &after[..end];
        if !name.is_empty() && !names.iter().any(|n| n == name) {
            names.push(name.to_string());
        }
        rest = &after[end..];
    }
    names
}

/// Whether `source` may read `$states.context`: it mentions `$states` other than as
/// `$states.input`, `$states.result` or `$states.errorOutput`.
fn reads_context(source: &str) -> bool {
    const PLAIN: [&str; 3] = [".input", ".result", ".errorOutput"];
    source.match_indices("$states").any(|(i, m)| {
        let after = &source[i + m.len()..];
        !PLAIN.iter().any(|p| {
            after
                .strip_prefix(p)
                .is_some_and(|tail| !tail.starts_with(|c: char| c.is_alphanumeric() || c == '_'))
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::SeededRng;
    use serde_json::json;

    fn eval(expr: &str, vars: Value) -> Result<Evaluated, JsonataError> {
        let rng: Arc<dyn RandomSource> = Arc::new(SeededRng::new(3));
        let input = json!({"items": [1, 2, 3]});
        let vars = vars.as_object().cloned().unwrap_or_default();
        Expression::parse(expr)?.evaluate(&Env {
            input: None,
            states: Some(States {
                input: &input,
                context: None,
                result: None,
                error_output: None,
            }),
            variables: &vars,
            rng: &rng,
            limits: Limits::ENGINE,
        })
    }

    #[test]
    fn states_variables_and_results() {
        assert_eq!(
            eval("$sum($states.input.items) + $one", json!({"one": 1})),
            Ok(Evaluated::Value(json!(7)))
        );
        assert_eq!(eval("$nope", json!({})), Ok(Evaluated::Nothing));
        assert_eq!(
            eval("function($x){$x}", json!({})),
            Ok(Evaluated::Unsupported)
        );
        assert_eq!(
            eval("$randomSeeded(1)", json!({})).unwrap_err().message,
            "T1006: Attempted to invoke a non-function"
        );
        assert_eq!(eval("1 +", json!({})).unwrap_err().code(), Some("S0207"));
    }

    #[test]
    fn aws_functions() {
        let v = |e: &str| match eval(e, json!({})) {
            Ok(Evaluated::Value(v)) => v,
            other => panic!("{e}: {other:?}"),
        };
        assert_eq!(v("$partition([1, 2, 3], 2)"), json!([[1, 2], [3]]));
        assert_eq!(v("$partition([0], 1)"), json!([[0]]));
        assert_eq!(v("$range(0, 9, 3)"), json!([0, 3, 6, 9]));
        assert_eq!(v("$range(1, 9, 9)"), json!(1));
        assert_eq!(
            v("$hash('input data', 'MD5')"),
            json!("812f45842bc6d66ee14572ce20db8e86")
        );
        assert_eq!(v("$parse('{\"a\": [1]}')"), json!({"a": [1]}));
        assert_eq!(v("$length($uuid())"), json!(36));
        assert_eq!(v("$random(7) = $random(7)"), json!(true));
        assert_eq!(v("$random() < 1"), json!(true));
        assert!(eval("$eval('1')", json!({})).is_err());
    }

    #[test]
    fn names_and_context_use() {
        assert_eq!(mentioned_names("$a + $b.c + $a + $$.x"), ["a", "b"]);
        assert!(!reads_context("$states.input.x + $states.result"));
        assert!(reads_context("$states.context.Execution.Id"));
        assert!(reads_context("$states"));
        assert!(reads_context("$states.inputs"));
    }
}
