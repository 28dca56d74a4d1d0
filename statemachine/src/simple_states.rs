//! The states without a task, in both query languages: Pass, Choice, Wait, Succeed
//! and Fail. JSONPath reads them through InputPath/OutputPath and paths; JSONata
//! through `$states.input`, `Output` and expressions.

use crate::choice;
use crate::engine::{Exec, Failure, Frame};
use crate::errors;
use crate::interpreter::{Entered, Step, invalid_path};
use crate::json::text_of;
use crate::jsonata::FieldError;
use crate::model::{
    Choice, ChoiceTest, QueryLanguage, ResultHandling, StrOrPath, Template, WaitFor,
};
use crate::payload::Sources;
use crate::timestamp;
use serde_json::{Map, Value};
use std::time::Duration;

/// The longest Wait AWS carries out (seconds).
const LONGEST_WAIT: f64 = i32::MAX as f64;

impl Exec<'_> {
    /// The input a state's fields read: JSONPath's InputPath applied, JSONata's raw input.
    pub(crate) fn state_input(
        &self,
        en: &Entered<'_>,
        input: Value,
        ctx: &Value,
        frame: &Frame,
    ) -> Result<Value, Failure> {
        match en.state.language {
            QueryLanguage::JsonPath => {
                let eff = self.input_path(en, &input, ctx, frame)?;
                self.inspect("afterInputPath", &eff);
                Ok(eff)
            }
            QueryLanguage::Jsonata => Ok(input),
        }
    }

    /// What a state's fields see: JSONPath `$` is `eff`; JSONata `$states.input` is.
    pub(crate) fn field_sources<'a>(
        &'a self,
        en: &Entered<'_>,
        eff: &'a Value,
        ctx: &'a Value,
        frame: &'a Frame,
    ) -> Sources<'a> {
        let states = (en.state.language == QueryLanguage::Jsonata).then(|| self.states(eff, ctx));
        self.sources(eff, ctx, states, frame)
    }

    /// How a state without a result ends. JSONPath: Assign, then OutputPath, on the
    /// effective input. JSONata: Assign and Output (default: the input).
    fn end_plain(
        &self,
        en: &Entered<'_>,
        eff: Value,
        ctx: &Value,
        frame: &mut Frame,
    ) -> Result<Value, Failure> {
        match en.state.language {
            QueryLanguage::JsonPath => {
                let src = self.sources(&eff, ctx, None, frame);
                let assigned = self.eval_assign(en, en.state.assign.as_ref(), &src)?;
                let out = self.output_path(en, eff, ctx, frame)?;
                Self::apply_assign(frame, assigned);
                Ok(out)
            }
            QueryLanguage::Jsonata => {
                let fields = (en.state.output.as_ref(), en.state.assign.as_ref());
                self.end_jsonata(en, fields, self.states(&eff, ctx), &eff, frame)
            }
        }
    }

    /// Pass: JSONPath `Parameters`, `Result` and `ResultPath`; JSONata only has the
    /// common Output and Assign.
    pub(crate) fn run_pass(
        &self,
        en: &Entered<'_>,
        result: Option<&Value>,
        io: &ResultHandling,
        input: Value,
        frame: &mut Frame,
    ) -> Result<Step, Failure> {
        let ctx = self.context(en, None);
        let output = match en.state.language {
            QueryLanguage::JsonPath => {
                let res = match result {
                    // TestState shows a Pass with a Result without its input steps.
                    Some(r) => {
                        self.inspect("result", r);
                        r.clone()
                    }
                    None => {
                        let eff = self.input_path(en, &input, &ctx, frame)?;
                        self.inspect("afterInputPath", &eff);
                        let eff = match &io.parameters {
                            Some(t) => self.template(en, t, &eff, &ctx, frame)?,
                            None => eff,
                        };
                        self.inspect("afterParameters", &eff);
                        eff
                    }
                };
                self.finish(en, io.result_path.as_ref(), &input, res, &ctx, frame)?
            }
            QueryLanguage::Jsonata => self.end_plain(en, input, &ctx, frame)?,
        };
        Ok(Step {
            output,
            next: Self::next_of(en.state),
        })
    }

    pub(crate) fn run_succeed(
        &self,
        en: &Entered<'_>,
        input: Value,
        frame: &mut Frame,
    ) -> Result<Step, Failure> {
        let ctx = self.context(en, None);
        let eff = self.state_input(en, input, &ctx, frame)?;
        let output = self.end_plain(en, eff, &ctx, frame)?;
        Ok(Step { output, next: None })
    }

    /// Whether a Choice rule matches: a JSONPath rule, or a JSONata Condition.
    fn choice_matches(
        &self,
        en: &Entered<'_>,
        test: &ChoiceTest,
        src: &Sources<'_>,
    ) -> Result<bool, Failure> {
        match test {
            ChoiceTest::Rule(rule) => choice::matches(rule, &src.scope).map_err(|e| en.runtime(e)),
            ChoiceTest::Condition(t) => match self.eval_template(en, t, src)? {
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

    /// Choice: the first matching rule's `Next`, else `Default`. JSONPath assigns the
    /// state's and the rule's `Assign`; JSONata takes the matching rule's `Output` and
    /// `Assign`, or the state's when the `Default` is taken.
    pub(crate) fn run_choice(
        &self,
        en: &Entered<'_>,
        choices: &[Choice],
        default: Option<&str>,
        input: Value,
        frame: &mut Frame,
    ) -> Result<Step, Failure> {
        let ctx = self.context(en, None);
        let eff = self.state_input(en, input, &ctx, frame)?;
        let mut chosen = None;
        for c in choices {
            if self.choice_matches(en, &c.test, &self.field_sources(en, &eff, &ctx, frame))? {
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
                let src = self.sources(&eff, &ctx, None, frame);
                let mut assigned = self.eval_assign(en, en.state.assign.as_ref(), &src)?;
                let rule_assign = chosen.and_then(|c| c.assign.as_ref());
                if let Some(extra) = self.eval_assign(en, rule_assign, &src)? {
                    assigned.get_or_insert_with(Map::new).extend(extra);
                }
                let out = self.output_path(en, eff, &ctx, frame)?;
                Self::apply_assign(frame, assigned);
                out
            }
            QueryLanguage::Jsonata => {
                let fields = match chosen {
                    Some(c) => (c.output.as_ref(), c.assign.as_ref()),
                    None => (en.state.output.as_ref(), en.state.assign.as_ref()),
                };
                self.end_jsonata(en, fields, self.states(&eff, &ctx), &eff, frame)?
            }
        };
        Ok(Step {
            output,
            next: Some(next.to_string()),
        })
    }

    pub(crate) async fn run_wait(
        &self,
        en: &Entered<'_>,
        w: &WaitFor,
        input: Value,
        frame: &mut Frame,
    ) -> Result<Step, Failure> {
        let ctx = self.context(en, None);
        let eff = self.state_input(en, input, &ctx, frame)?;
        let secs = self.wait_seconds(en, w, &self.field_sources(en, &eff, &ctx, frame))?;
        if secs > LONGEST_WAIT {
            return Err(en.runtime("Wait state delay is too long."));
        }
        if secs > 0.0 {
            self.engine
                .clock
                .sleep(Duration::from_secs_f64(secs.min(LONGEST_WAIT)))
                .await;
        }
        let output = self.end_plain(en, eff, &ctx, frame)?;
        Ok(Step {
            output,
            next: Self::next_of(en.state),
        })
    }

    /// How long a Wait waits, from now.
    fn wait_seconds(
        &self,
        en: &Entered<'_>,
        w: &WaitFor,
        src: &Sources<'_>,
    ) -> Result<f64, Failure> {
        let until = |ts: chrono::DateTime<chrono::Utc>| {
            (ts - self.engine.clock.now()).num_milliseconds() as f64 / 1000.0
        };
        match w {
            WaitFor::Seconds(s) => Ok(*s),
            WaitFor::SecondsPath(p) => {
                let v = src
                    .scope
                    .eval(p)
                    .map_err(|m| en.runtime(invalid_path(p, &m)))?;
                let Some(n) = v.as_i64() else {
                    return Err(en.runtime(format!(
                        "The SecondsPath parameter cannot be parsed as a long value: {p} == {v}"
                    )));
                };
                if n < 0 {
                    return Err(en.runtime(format!(
                        "The SecondsPath parameter references a negative value: {p} == {n}"
                    )));
                }
                Ok(n as f64)
            }
            WaitFor::SecondsExpr(expr) => {
                let v = expr
                    .value(&src.jsonata(), "Seconds")
                    .map_err(|e| en.query(Some("Seconds"), e))?;
                match v.as_u64() {
                    Some(n) => Ok(n as f64),
                    None => {
                        let e = FieldError::wrong_type(expr, "Seconds", "non-negative integer", &v);
                        Err(en.query(Some("Seconds"), e))
                    }
                }
            }
            WaitFor::Timestamp(t) => {
                let ts = timestamp::parse(t)
                    .ok_or_else(|| en.runtime(format!("Invalid timestamp '{t}'")))?;
                Ok(until(ts))
            }
            WaitFor::TimestampPath(p) => {
                let v = src
                    .scope
                    .eval(p)
                    .map_err(|m| en.runtime(invalid_path(p, &m)))?;
                let ts = v.as_str().and_then(timestamp::parse).ok_or_else(|| {
                    en.runtime(format!(
                        "The TimestampPath parameter does not reference a valid ISO-8601 extended offset date-time format string: {p} == {}",
                        text_of(&v)
                    ))
                })?;
                Ok(until(ts))
            }
            WaitFor::TimestampExpr(expr) => {
                let v = expr
                    .value(&src.jsonata(), "Timestamp")
                    .map_err(|e| en.query(Some("Timestamp"), e))?;
                let ts = v.as_str().and_then(timestamp::parse).ok_or_else(|| {
                    en.query_after_entered(
                        "Timestamp",
                        format!(
                            "The Timestamp field cannot be parsed as an ISO-8601 extended offset date-time format string: {}",
                            text_of(&v)
                        ),
                    )
                })?;
                Ok(until(ts))
            }
        }
    }

    /// Fail: its error and cause, literal, from a path or intrinsic (JSONPath) or an
    /// expression (JSONata).
    pub(crate) fn run_fail(
        &self,
        en: &Entered<'_>,
        error: &Option<StrOrPath>,
        cause: &Option<StrOrPath>,
        input: Value,
        frame: &Frame,
    ) -> Failure {
        let ctx = self.context(en, None);
        if en.state.language == QueryLanguage::JsonPath {
            self.inspect("afterInputPath", &input);
        }
        let src = self.field_sources(en, &input, &ctx, frame);
        let eval = |sp: &Option<StrOrPath>, field: &str, path_field: &str| {
            self.fail_field(en, sp.as_ref(), &src, field, path_field)
        };
        let error = match eval(error, "Error", "ErrorPath") {
            Ok(e) => e,
            Err(f) => return f,
        };
        let cause = match eval(cause, "Cause", "CausePath") {
            Ok(c) => c,
            Err(f) => return f,
        };
        Failure {
            error: error.unwrap_or_default(),
            cause,
            unrecorded: None,
        }
    }

    fn fail_field(
        &self,
        en: &Entered<'_>,
        sp: Option<&StrOrPath>,
        src: &Sources<'_>,
        field: &str,
        path_field: &str,
    ) -> Result<Option<String>, Failure> {
        let v = match sp {
            None => return Ok(None),
            Some(StrOrPath::Literal(s)) => return Ok(Some(s.clone())),
            Some(StrOrPath::Path(p)) => src.scope.eval(p).map_err(|_| {
                en.runtime(format!(
                    "The JSONPath '{p}' specified for the field '{path_field}' could not be found in the input '{}'",
                    src.scope.input
                ))
            })?,
            Some(StrOrPath::Intrinsic(c)) => c
                .eval(&src.scope, src.rng.as_ref())
                .map_err(|e| en.runtime(e))?,
            Some(StrOrPath::Jsonata(expr)) => expr
                .value(&src.jsonata(), field)
                .map_err(|e| en.query(Some(field), e))?,
        };
        Ok(Some(text_of(&v)))
    }
}
