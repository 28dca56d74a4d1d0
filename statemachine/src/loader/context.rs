//! `Ctx`: one state's JSON object while it loads, with readers for its fields that
//! name the state and field in every error.

use super::templates::{compile_jsonata, compile_template, expression_text};
use super::{LoadError, R, invalid};
use crate::intrinsics::{Call, is_intrinsic};
use crate::jsonata::Expression;
use crate::jsonpath::JsonPath;
use crate::model::{NumOrPath, PathField, QueryLanguage, ResultPathField, StrOrPath, Template};
use serde_json::{Map, Value};
use std::cell::Cell;
use std::ops::RangeInclusive;

/// Fields any state may have, whatever its type.
const COMMON: &[&str] = &["Type", "Comment", "QueryLanguage"];

pub(super) struct Ctx<'a> {
    pub name: &'a str,
    pub obj: &'a Map<String, Value>,
    pub language: QueryLanguage,
    /// Set when a JSONata expression of the state may read `$states.context`.
    pub reads_context: Cell<bool>,
}

impl<'a> Ctx<'a> {
    pub fn err(&self, field: &str, msg: impl Into<String>) -> LoadError {
        invalid(Some(self.name), field, msg)
    }
    pub fn get(&self, f: &str) -> Option<&'a Value> {
        self.obj.get(f)
    }
    pub fn jsonata(&self) -> bool {
        self.language == QueryLanguage::Jsonata
    }

    /// Refuses any field but `COMMON` and `fields`.
    pub fn allowed(&self, fields: &[&str]) -> R<()> {
        for k in self.obj.keys() {
            if !COMMON.contains(&k.as_str()) && !fields.contains(&k.as_str()) {
                let which = match self.language {
                    QueryLanguage::JsonPath => "this state type",
                    QueryLanguage::Jsonata => "this state type in JSONata",
                };
                return Err(self.err(k, format!("field '{k}' is not supported by {which}")));
            }
        }
        Ok(())
    }

    pub fn str(&self, f: &str) -> R<Option<String>> {
        match self.get(f) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(self.err(f, "must be a string")),
        }
    }
    pub fn path(&self, f: &str) -> R<Option<JsonPath>> {
        match self.str(f)? {
            None => Ok(None),
            Some(s) => JsonPath::parse(&s)
                .map(Some)
                .map_err(|e| self.err(f, e.to_string())),
        }
    }
    pub fn path_field(&self, f: &str) -> R<PathField> {
        match self.get(f) {
            None => Ok(PathField::Default),
            Some(Value::Null) => Ok(PathField::Null),
            Some(Value::String(s)) => JsonPath::parse(s)
                .map(PathField::Path)
                .map_err(|e| self.err(f, e.to_string())),
            Some(_) => Err(self.err(f, "must be a string or null")),
        }
    }
    pub fn result_path(&self, v: Option<&Value>, f: &str) -> R<Option<ResultPathField>> {
        match v {
            None => Ok(None),
            Some(Value::Null) => Ok(Some(ResultPathField::Null)),
            Some(Value::String(s)) => {
                let p = JsonPath::parse(s).map_err(|e| self.err(f, e.to_string()))?;
                if !p.is_reference() {
                    return Err(self.err(f, format!("'{s}' is not a reference path")));
                }
                Ok(Some(ResultPathField::Path(p)))
            }
            Some(_) => Err(self.err(f, "must be a string or null")),
        }
    }

    /// Field `f` as a template in the state's language.
    pub fn template(&self, f: &str) -> R<Option<Template>> {
        self.get(f).map(|v| self.template_of(v, f)).transpose()
    }

    /// `v` (at `location`) as a template in the state's language.
    pub fn template_of(&self, v: &Value, location: &str) -> R<Template> {
        match self.language {
            QueryLanguage::JsonPath => compile_template(v, self.name, location),
            QueryLanguage::Jsonata => {
                compile_jsonata(v, location, &|field, x| self.expression(field, x))
            }
        }
    }

    /// `v` (the value of `field`) as a JSONata expression, when the state is JSONata
    /// and `v` is a `{% ... %}` string.
    pub fn expression(&self, field: &str, v: &Value) -> R<Option<Expression>> {
        let Some(text) = v
            .as_str()
            .and_then(expression_text)
            .filter(|_| self.jsonata())
        else {
            return Ok(None);
        };
        let e = Expression::parse(text).map_err(|e| {
            self.err(
                field,
                format!("the JSONata expression '{}' is not valid: {e}", text.trim()),
            )
        })?;
        if e.reads_context() {
            self.reads_context.set(true);
        }
        Ok(Some(e))
    }

    /// `f` given as an integer in `range` (or, in JSONata, an expression), or `fpath`
    /// given as a path. AWS refuses a literal outside the range when the state
    /// machine is created.
    pub fn int_or_path(
        &self,
        f: &str,
        fpath: &str,
        range: RangeInclusive<u64>,
    ) -> R<Option<NumOrPath>> {
        match (self.get(f), self.get(fpath)) {
            (Some(_), Some(_)) => {
                Err(self.err(f, format!("{f} and {fpath} are mutually exclusive")))
            }
            (Some(v), None) => match self.expression(f, v)? {
                Some(e) => Ok(Some(NumOrPath::Jsonata(e))),
                None => Ok(Some(NumOrPath::Literal(self.integer(f, v, range)? as f64))),
            },
            (None, Some(_)) => Ok(self.path(fpath)?.map(NumOrPath::Path)),
            (None, None) => Ok(None),
        }
    }

    /// `v` (the value of `field`) as an integer in `range`.
    pub fn integer(&self, field: &str, v: &Value, range: RangeInclusive<u64>) -> R<u64> {
        match v.as_f64() {
            Some(n)
                if n.fract() == 0.0 && n >= *range.start() as f64 && n <= *range.end() as f64 =>
            {
                Ok(n as u64)
            }
            _ => Err(self.err(
                field,
                format!(
                    "must be an integer from {} to {}",
                    range.start(),
                    range.end()
                ),
            )),
        }
    }

    /// `f` as a string (or, in JSONata, an expression), or `fpath` as a path or intrinsic.
    pub fn str_or_path(&self, f: &str, fpath: &str) -> R<Option<StrOrPath>> {
        match (self.get(f), self.get(fpath)) {
            (Some(_), Some(_)) => {
                Err(self.err(f, format!("{f} and {fpath} are mutually exclusive")))
            }
            (Some(v), None) => match self.expression(f, v)? {
                Some(e) => Ok(Some(StrOrPath::Jsonata(e))),
                None => Ok(self.str(f)?.map(StrOrPath::Literal)),
            },
            (None, Some(_)) => {
                let Some(s) = self.str(fpath)? else {
                    return Ok(None);
                };
                if is_intrinsic(&s) {
                    Call::parse(&s)
                        .map(|c| Some(StrOrPath::Intrinsic(c)))
                        .map_err(|e| self.err(fpath, e.to_string()))
                } else {
                    JsonPath::parse(&s)
                        .map(|p| Some(StrOrPath::Path(p)))
                        .map_err(|e| self.err(fpath, e.to_string()))
                }
            }
            (None, None) => Ok(None),
        }
    }
}
