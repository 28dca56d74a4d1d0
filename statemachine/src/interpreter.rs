//! The interpreter core: state transitions, the input/output pipeline
//! (InputPath, Parameters, ResultSelector, ResultPath, OutputPath, Assign) and
//! the simple states (Pass, Choice, Wait, Succeed, Fail).

use crate::choice;
use crate::clock::BoxFuture;
use crate::engine::{Exec, Failure, Frame, PAYLOAD_LIMIT};
use crate::history::EventType;
use crate::jsonpath::{JsonPath, PathMiss};
use crate::model::{
    Choice, PathField, ResultHandling, ResultPathField, State, StateKind, StateMachine, StrOrPath,
    Template, Transition, WaitFor,
};
use crate::payload::{self, PayloadError};
use crate::retry::errors;
use crate::scope::Scope;
use crate::timestamp;
use serde_json::{Map, Value, json};
use std::time::Duration;

/// What a state decided: its output and the next state (None = end).
pub(crate) struct Step {
    pub output: Value,
    pub next: Option<String>,
}

/// Everything a state's handler needs to know about where it runs.
pub(crate) struct Entered<'s> {
    pub state: &'s State,
    pub id: u64,
    pub time: String,
}

impl Entered<'_> {
    pub fn runtime(&self, msg: impl std::fmt::Display) -> Failure {
        Failure::runtime(&self.state.name, self.id, msg)
    }
}

/// The message for a path that selected nothing in InputPath/OutputPath style.
pub(crate) fn invalid_path(path: &JsonPath, miss: &PathMiss) -> String {
    if miss.missing_prefix == miss.normalized {
        format!(
            "Invalid path '{path}' : No results for path: {}",
            miss.normalized
        )
    } else {
        format!(
            "Invalid path '{path}' : Missing property in path {}",
            miss.missing_prefix
        )
    }
}

impl Exec<'_> {
    pub fn run_machine<'a>(
        &'a self,
        sm: &'a StateMachine,
        input: Value,
        frame: &'a mut Frame,
    ) -> BoxFuture<'a, Result<Value, Failure>> {
        Box::pin(async move {
            let mut current = sm.start_at.as_str();
            let mut input = input;
            loop {
                let n = self
                    .transitions
                    .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                if n >= self.engine.history_limit || self.last_id() >= self.engine.history_limit {
                    return Err(Failure::new(
                        errors::RUNTIME,
                        format!(
                            "The execution reached the limit of {} history events or state transitions.",
                            self.engine.history_limit
                        ),
                    ));
                }
                let Some(state) = sm.states.get(current) else {
                    return Err(Failure::new(
                        errors::RUNTIME,
                        format!("no state named '{current}'"),
                    ));
                };
                let step = self.run_state(state, input, frame).await?;
                match step.next {
                    Some(n) => {
                        let Some((k, _)) = sm.states.get_key_value(n.as_str()) else {
                            return Err(Failure::new(
                                errors::RUNTIME,
                                format!("no state named '{n}'"),
                            ));
                        };
                        current = k.as_str();
                        input = step.output;
                    }
                    None => return Ok(step.output),
                }
            }
        })
    }

    /// The context object for a state.
    pub fn context(&self, en: &Entered<'_>, retry_count: Option<u32>) -> Value {
        if !en.state.uses_context {
            return Value::Null;
        }
        let mut st = Map::new();
        st.insert("Name".into(), Value::String(en.state.name.clone()));
        st.insert("EnteredTime".into(), Value::String(en.time.clone()));
        if let Some(r) = retry_count {
            st.insert("RetryCount".into(), Value::from(r));
        }
        json!({
            "Execution": self.execution,
            "StateMachine": self.state_machine,
            "State": st,
        })
    }

    async fn run_state(
        &self,
        state: &State,
        input: Value,
        frame: &mut Frame,
    ) -> Result<Step, Failure> {
        let ty = state.kind.type_name();
        let entered_t = EventType::from_name(&format!("{ty}StateEntered"))
            .unwrap_or(EventType::PassStateEntered);
        let id = self.emit(
            frame,
            entered_t,
            json!({"name": state.name, "input": input.to_string(), "inputDetails": {"truncated": false}}),
        );
        let en = Entered {
            state,
            id,
            time: timestamp::format(self.engine.clock.now()),
        };
        let step = match &state.kind {
            StateKind::Pass { result, io } => {
                self.run_pass(&en, result.as_ref(), io, input, frame)?
            }
            StateKind::Choice { choices, default } => {
                self.run_choice(&en, choices, default.as_deref(), input, frame)?
            }
            StateKind::Wait(w) => self.run_wait(&en, w, input, frame).await?,
            StateKind::Succeed => {
                let ctx = self.context(&en, None);
                let eff = self.input_path(&en, &input, &ctx, frame)?;
                let out = self.output_path(&en, eff, &ctx, frame)?;
                Step {
                    output: out,
                    next: None,
                }
            }
            StateKind::Fail { error, cause } => {
                return Err(self.run_fail(&en, error, cause, input, frame));
            }
            StateKind::Task(t) => self.run_task(&en, t, input, frame).await?,
            StateKind::Parallel { branches, io } => {
                self.run_parallel(&en, branches, io, input, frame).await?
            }
            StateKind::Map(m) => self.run_map(&en, m, input, frame).await?,
        };
        self.check_size(&en, &step.output)?;
        let exited_t =
            EventType::from_name(&format!("{ty}StateExited")).unwrap_or(EventType::PassStateExited);
        let mut details = json!({"name": state.name, "output": step.output.to_string(), "outputDetails": {"truncated": false}});
        if let (Some(assigned), Value::Object(d)) = (
            frame.assigned.take().filter(|a| !a.is_empty()),
            &mut details,
        ) {
            let vars: Map<String, Value> = assigned
                .into_iter()
                .map(|(k, v)| (k, Value::String(v.to_string())))
                .collect();
            d.insert("assignedVariables".into(), Value::Object(vars));
            d.insert(
                "assignedVariablesDetails".into(),
                json!({"truncated": false}),
            );
        }
        self.emit(frame, exited_t, details);
        Ok(step)
    }

    pub fn check_size(&self, en: &Entered<'_>, v: &Value) -> Result<(), Failure> {
        if v.to_string().len() > PAYLOAD_LIMIT {
            return Err(Failure::new(
                errors::DATA_LIMIT_EXCEEDED,
                format!(
                    "The state/task '{}' returned a result with a size exceeding the maximum number of bytes service limit.",
                    en.state.name
                ),
            ));
        }
        Ok(())
    }

    pub fn scope<'a>(&self, input: &'a Value, ctx: &'a Value, frame: &'a Frame) -> Scope<'a> {
        Scope {
            input,
            context: ctx,
            variables: &frame.vars,
        }
    }

    pub fn input_path(
        &self,
        en: &Entered<'_>,
        input: &Value,
        ctx: &Value,
        frame: &Frame,
    ) -> Result<Value, Failure> {
        match &en.state.input_path {
            PathField::Default => Ok(input.clone()),
            PathField::Null => Ok(json!({})),
            PathField::Path(p) => self
                .scope(input, ctx, frame)
                .eval(p)
                .map_err(|m| en.runtime(invalid_path(p, &m))),
        }
    }

    pub fn output_path(
        &self,
        en: &Entered<'_>,
        v: Value,
        ctx: &Value,
        frame: &Frame,
    ) -> Result<Value, Failure> {
        match &en.state.output_path {
            PathField::Default => Ok(v),
            PathField::Null => Ok(json!({})),
            PathField::Path(p) => self
                .scope(&v, ctx, frame)
                .eval(p)
                .map_err(|m| en.runtime(invalid_path(p, &m))),
        }
    }

    pub fn template(
        &self,
        en: &Entered<'_>,
        t: &Template,
        input: &Value,
        ctx: &Value,
        frame: &Frame,
    ) -> Result<Value, Failure> {
        payload::eval(t, &self.scope(input, ctx, frame), self.engine.rng.as_ref()).map_err(|e| {
            match e {
                PayloadError::Intrinsic { .. } => Failure::new(
                    errors::INTRINSIC_FAILURE,
                    en.runtime(e).cause.unwrap_or_default(),
                ),
                other => en.runtime(other),
            }
        })
    }

    pub fn result_path(
        &self,
        en: &Entered<'_>,
        rp: Option<&ResultPathField>,
        raw_input: &Value,
        result: Value,
    ) -> Result<Value, Failure> {
        match rp {
            None | Some(ResultPathField::Default) => Ok(result),
            Some(ResultPathField::Null) => Ok(raw_input.clone()),
            Some(ResultPathField::Path(p)) => p.assign(raw_input.clone(), result).map_err(|m| {
                en.runtime(format!(
                    "Invalid path '{p}' : Missing property in path {}",
                    m.missing_prefix
                ))
            }),
        }
    }

    /// Evaluates `Assign` against `input` (not yet applied).
    pub fn eval_assign(
        &self,
        en: &Entered<'_>,
        assign: Option<&Template>,
        input: &Value,
        ctx: &Value,
        frame: &Frame,
    ) -> Result<Option<Map<String, Value>>, Failure> {
        let Some(t) = assign else {
            return Ok(None);
        };
        match self.template(en, t, input, ctx, frame)? {
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

    /// The common tail: Assign (against the result), ResultPath, OutputPath.
    pub fn finish(
        &self,
        en: &Entered<'_>,
        rp: Option<&ResultPathField>,
        raw_input: &Value,
        result: Value,
        ctx: &Value,
        frame: &mut Frame,
    ) -> Result<Value, Failure> {
        let assigned = self.eval_assign(en, en.state.assign.as_ref(), &result, ctx, frame)?;
        let combined = self.result_path(en, rp, raw_input, result)?;
        let out = self.output_path(en, combined, ctx, frame)?;
        Self::apply_assign(frame, assigned);
        Ok(out)
    }

    /// How Task, Map and Parallel end on success: `ResultSelector`, then `Assign` / `ResultPath` /
    /// `OutputPath`, then the state's transition.
    pub fn complete(
        &self,
        en: &Entered<'_>,
        io: &ResultHandling,
        raw_input: &Value,
        result: Value,
        ctx: &Value,
        frame: &mut Frame,
    ) -> Result<Step, Failure> {
        let result = match &io.result_selector {
            Some(s) => self.template(en, s, &result, ctx, frame)?,
            None => result,
        };
        let output = self.finish(en, io.result_path.as_ref(), raw_input, result, ctx, frame)?;
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

    fn run_pass(
        &self,
        en: &Entered<'_>,
        result: Option<&Value>,
        io: &ResultHandling,
        input: Value,
        frame: &mut Frame,
    ) -> Result<Step, Failure> {
        let ctx = self.context(en, None);
        let eff = self.input_path(en, &input, &ctx, frame)?;
        let eff = match &io.parameters {
            Some(t) => self.template(en, t, &eff, &ctx, frame)?,
            None => eff,
        };
        let res = result.cloned().unwrap_or(eff);
        let out = self.finish(en, io.result_path.as_ref(), &input, res, &ctx, frame)?;
        Ok(Step {
            output: out,
            next: Self::next_of(en.state),
        })
    }

    fn run_choice(
        &self,
        en: &Entered<'_>,
        choices: &[Choice],
        default: Option<&str>,
        input: Value,
        frame: &mut Frame,
    ) -> Result<Step, Failure> {
        let ctx = self.context(en, None);
        let eff = self.input_path(en, &input, &ctx, frame)?;
        let mut chosen: Option<(&str, Option<&Template>)> = None;
        for c in choices {
            let hit = choice::matches(&c.rule, &self.scope(&eff, &ctx, frame))
                .map_err(|e| en.runtime(e))?;
            if hit {
                chosen = Some((c.next.as_str(), c.assign.as_ref()));
                break;
            }
        }
        let (next, rule_assign) = match (chosen, default) {
            (Some(c), _) => c,
            (None, Some(d)) => (d, None),
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
        let mut assigned = self.eval_assign(en, en.state.assign.as_ref(), &eff, &ctx, frame)?;
        if let Some(extra) = self.eval_assign(en, rule_assign, &eff, &ctx, frame)? {
            assigned.get_or_insert_with(Map::new).extend(extra);
        }
        let out = self.output_path(en, eff, &ctx, frame)?;
        Self::apply_assign(frame, assigned);
        Ok(Step {
            output: out,
            next: Some(next.to_string()),
        })
    }

    async fn run_wait(
        &self,
        en: &Entered<'_>,
        w: &WaitFor,
        input: Value,
        frame: &mut Frame,
    ) -> Result<Step, Failure> {
        let ctx = self.context(en, None);
        let eff = self.input_path(en, &input, &ctx, frame)?;
        let now = self.engine.clock.now();
        let max = i32::MAX as f64;
        let secs: f64 = match w {
            WaitFor::Seconds(s) => *s,
            WaitFor::SecondsPath(p) => {
                let v = self
                    .scope(&eff, &ctx, frame)
                    .eval(p)
                    .map_err(|m| en.runtime(invalid_path(p, &m)))?;
                let n = match v.as_i64() {
                    Some(n) => n,
                    None => {
                        return Err(en.runtime(format!(
                            "The SecondsPath parameter cannot be parsed as a long value: {p} == {v}"
                        )));
                    }
                };
                if n < 0 {
                    return Err(en.runtime(format!(
                        "The SecondsPath parameter references a negative value: {p} == {n}"
                    )));
                }
                n as f64
            }
            WaitFor::Timestamp(t) => {
                let ts = timestamp::parse(t)
                    .ok_or_else(|| en.runtime(format!("Invalid timestamp '{t}'")))?;
                (ts - now).num_milliseconds() as f64 / 1000.0
            }
            WaitFor::TimestampPath(p) => {
                let v = self
                    .scope(&eff, &ctx, frame)
                    .eval(p)
                    .map_err(|m| en.runtime(invalid_path(p, &m)))?;
                let text = v
                    .as_str()
                    .map(str::to_string)
                    .unwrap_or_else(|| v.to_string());
                let ts = v.as_str().and_then(timestamp::parse).ok_or_else(|| {
                    en.runtime(format!(
                        "The TimestampPath parameter does not reference a valid ISO-8601 extended offset date-time format string: {p} == {text}"
                    ))
                })?;
                (ts - now).num_milliseconds() as f64 / 1000.0
            }
        };
        if secs > max {
            return Err(en.runtime("Wait state delay is too long."));
        }
        if secs > 0.0 {
            self.engine
                .clock
                .sleep(Duration::from_secs_f64(secs.min(max)))
                .await;
        }
        let assigned = self.eval_assign(en, en.state.assign.as_ref(), &eff, &ctx, frame)?;
        let out = self.output_path(en, eff, &ctx, frame)?;
        Self::apply_assign(frame, assigned);
        Ok(Step {
            output: out,
            next: Self::next_of(en.state),
        })
    }

    fn run_fail(
        &self,
        en: &Entered<'_>,
        error: &Option<StrOrPath>,
        cause: &Option<StrOrPath>,
        input: Value,
        frame: &Frame,
    ) -> Failure {
        let ctx = self.context(en, None);
        let eval = |sp: &Option<StrOrPath>, field: &str| -> Result<Option<String>, Failure> {
            match sp {
                None => Ok(None),
                Some(StrOrPath::Literal(s)) => Ok(Some(s.clone())),
                Some(StrOrPath::Path(p)) => {
                    let v = self.scope(&input, &ctx, frame).eval(p).map_err(|_| {
                        en.runtime(format!(
                            "The JSONPath '{p}' specified for the field '{field}' could not be found in the input '{input}'"
                        ))
                    })?;
                    Ok(Some(
                        v.as_str()
                            .map(str::to_string)
                            .unwrap_or_else(|| v.to_string()),
                    ))
                }
                Some(StrOrPath::Intrinsic(c)) => {
                    let v = c
                        .eval(&self.scope(&input, &ctx, frame), self.engine.rng.as_ref())
                        .map_err(|e| en.runtime(e))?;
                    Ok(Some(
                        v.as_str()
                            .map(str::to_string)
                            .unwrap_or_else(|| v.to_string()),
                    ))
                }
            }
        };
        let error = match eval(error, "ErrorPath") {
            Ok(e) => e,
            Err(f) => return f,
        };
        let cause = match eval(cause, "CausePath") {
            Ok(c) => c,
            Err(f) => return f,
        };
        Failure {
            error: error.unwrap_or_default(),
            cause,
        }
    }
}
