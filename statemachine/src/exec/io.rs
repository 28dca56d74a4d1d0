//! A state's input and output, what both query languages share: the sources a
//! template reads, templates and `Assign` evaluated, a state's input (JSONPath's
//! InputPath and Parameters, JSONata's Arguments), and how a state ends (its result
//! through ResultSelector ... OutputPath, or JSONata's Output).

use super::{Entered, Exec, Failure, Frame, Step};
use crate::errors;
use crate::jsonata::States;
use crate::model::{QueryLanguage, ResultHandling, State, StateKind, Template, Transition};
use crate::payload::{self, PayloadError, Sources};
use crate::scope::Scope;
use serde_json::{Map, Value};

impl Exec<'_> {
    pub fn scope<'a>(&self, input: &'a Value, ctx: &'a Value, frame: &'a Frame) -> Scope<'a> {
        Scope {
            input,
            context: ctx,
            variables: &frame.vars,
        }
    }

    /// `$states` of a JSONata state with raw input `input` (the context object when
    /// the state reads it).
    pub fn states<'a>(&self, input: &'a Value, ctx: &'a Value) -> States<'a> {
        States {
            input,
            context: (!ctx.is_null()).then_some(ctx),
            result: None,
            error_output: None,
        }
    }

    /// What a template sees: for JSONPath, `input` as `$`; for JSONata, `states`.
    pub fn sources<'a>(
        &'a self,
        input: &'a Value,
        ctx: &'a Value,
        states: Option<States<'a>>,
        frame: &'a Frame,
    ) -> Sources<'a> {
        Sources {
            scope: self.scope(input, ctx, frame),
            states,
            rng: &self.services.rng,
        }
    }

    /// Evaluates a template, with failures as Step Functions reports them.
    pub fn eval_template(
        &self,
        en: &Entered<'_>,
        t: &Template,
        src: &Sources<'_>,
    ) -> Result<Value, Failure> {
        payload::eval(t, src).map_err(|e| self.payload_failure(en, e))
    }

    /// A JSONPath template evaluated against `input` (as `$`).
    pub fn template(
        &self,
        en: &Entered<'_>,
        t: &Template,
        input: &Value,
        ctx: &Value,
        frame: &Frame,
    ) -> Result<Value, Failure> {
        self.eval_template(en, t, &self.sources(input, ctx, None, frame))
    }

    fn payload_failure(&self, en: &Entered<'_>, e: PayloadError) -> Failure {
        match e {
            PayloadError::Intrinsic { .. } => Failure::new(
                errors::INTRINSIC_FAILURE,
                en.runtime(e).cause.unwrap_or_default(),
            ),
            PayloadError::Jsonata(f) => {
                let location = f.location().to_string();
                en.query(Some(&location), f)
            }
            other => en.runtime(other),
        }
    }

    /// `Assign` evaluated (not yet applied).
    pub fn eval_assign(
        &self,
        en: &Entered<'_>,
        assign: Option<&Template>,
        src: &Sources<'_>,
    ) -> Result<Option<Map<String, Value>>, Failure> {
        let Some(t) = assign else {
            return Ok(None);
        };
        match self.eval_template(en, t, src)? {
            Value::Object(m) => Ok(Some(m)),
            _ => Err(en.runtime("Assign must be an object")),
        }
    }

    pub fn apply_assign(frame: &mut Frame, vars: Option<Map<String, Value>>) {
        if let Some(m) = vars {
            for (k, v) in &m {
                frame.vars.insert(k.clone(), v.clone());
            }
            frame.assigned = Some(m);
        }
    }

    /// How Task, Map and Parallel end on success. JSONPath: `ResultSelector`, then
    /// `Assign` / `ResultPath` / `OutputPath`. JSONata: `Assign` and `Output` with
    /// `$states.result` (the output is the result when there is no `Output`).
    pub fn complete(
        &self,
        en: &Entered<'_>,
        io: &ResultHandling,
        raw_input: &Value,
        result: Value,
        ctx: &Value,
        frame: &mut Frame,
    ) -> Result<Step, Failure> {
        let output = match en.state.language {
            QueryLanguage::JsonPath => {
                let result = match &io.result_selector {
                    Some(s) => self.template(en, s, &result, ctx, frame)?,
                    None => result,
                };
                self.finish(en, io.result_path.as_ref(), raw_input, result, ctx, frame)?
            }
            QueryLanguage::Jsonata => {
                let states = States {
                    result: Some(&result),
                    ..self.states(raw_input, ctx)
                };
                let fields = (en.state.output.as_ref(), en.state.assign.as_ref());
                self.end_jsonata(en, fields, states, &result, frame)?
            }
        };
        Ok(Step {
            output,
            next: Self::next_of(en.state),
        })
    }

    pub fn next_of(state: &State) -> Option<String> {
        match &state.transition {
            Transition::Next(n) => Some(n.clone()),
            Transition::End => None,
        }
    }

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
    pub(crate) fn end_plain(
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

    /// A Task's or Parallel's input. JSONPath: InputPath, then `Parameters`. JSONata:
    /// `Arguments` (with `$states.input`), or the state input without it.
    pub(crate) fn effective_input(
        &self,
        en: &Entered<'_>,
        parameters: Option<&Template>,
        input: &Value,
        ctx: &Value,
        frame: &Frame,
    ) -> Result<Value, Failure> {
        // TestState shows a Task's steps here, not a Parallel's (as AWS does).
        let shown = matches!(en.state.kind, StateKind::Task(_));
        let inspect = |key: &str, v: &Value| {
            if shown {
                self.inspect(key, v);
            }
        };
        match en.state.language {
            QueryLanguage::JsonPath => {
                let eff = self.input_path(en, input, ctx, frame)?;
                inspect("afterInputPath", &eff);
                let eff = match parameters {
                    Some(t) => self.template(en, t, &eff, ctx, frame)?,
                    None => eff,
                };
                inspect("afterParameters", &eff);
                Ok(eff)
            }
            QueryLanguage::Jsonata => {
                let eff = match parameters {
                    Some(t) => {
                        let src = self.sources(input, ctx, Some(self.states(input, ctx)), frame);
                        self.eval_template(en, t, &src)?
                    }
                    None => input.clone(),
                };
                inspect("afterArguments", &eff);
                Ok(eff)
            }
        }
    }
}
