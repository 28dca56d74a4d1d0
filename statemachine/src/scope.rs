//! What a path can see while a state runs: its input, the context object and
//! the variables in scope.

use crate::jsonpath::{JsonPath, PathMiss, Root};
use serde_json::{Map, Value};

/// The documents a JSONPath (or an intrinsic's path argument) can read.
#[derive(Debug, Clone, Copy)]
pub struct Scope<'a> {
    /// `$`.
    pub input: &'a Value,
    /// `$$`.
    pub context: &'a Value,
    /// `$name`.
    pub variables: &'a Map<String, Value>,
}

impl Scope<'_> {
    /// Evaluates `path` against the document its root names.
    pub fn eval(&self, path: &JsonPath) -> Result<Value, PathMiss> {
        match path.root() {
            Root::Input => path.eval(self.input),
            Root::Context => path.eval(self.context),
            Root::Variable(name) => match self.variables.get(name) {
                Some(v) => path.eval(v),
                None => Err(PathMiss {
                    missing_prefix: format!("${name}"),
                    normalized: path.as_str().to_string(),
                }),
            },
        }
    }
}
