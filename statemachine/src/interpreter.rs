//! The interpreter core: state transitions, the events around each state, the
//! context object, and what JSONPath and JSONata states share (templates, how a state
//! that produced a result ends, Catch). `simple_states` runs each state type, `jsonata_io`
//! holds what JSONata states read and write differently, and `pipeline` a state's input and
//! output processing.

use crate::clock::BoxFuture;
use crate::engine::{Evaluation, Exec, Failure, Frame, PAYLOAD_LIMIT};
use crate::errors;
use crate::history::EventType;
use crate::jsonata::States;
use crate::jsonpath::{JsonPath, PathMiss};
use crate::model::{
    Catcher, QueryLanguage, ResultHandling, State, StateKind, StateMachine, Template, Transition,
};
use crate::payload::{self, PayloadError, Sources};
use crate::scope::Scope;
use crate::task::error_output;
use crate::timestamp;
use serde_json::{Map, Value, json};

/// What a state decided: its output and the next state (None = end).
pub(crate) struct Step {
    pub output: Value,
    pub next: Option<String>,
}

/// Everything a state's handler needs to know about where it runs.
pub(crate) struct Entered<'s> {
    pub state: &'s State,
    pub id: u64,
    /// The `previousEventId` of the `StateEntered` event.
    pub prev: u64,
    pub time: String,
    /// Run by the TestState API, which records no history: causes name no event.
    pub tested: bool,
}

impl Entered<'_> {
    pub fn runtime(&self, msg: impl std::fmt::Display) -> Failure {
        if self.tested {
            Failure::new(errors::RUNTIME, msg.to_string())
        } else {
            Failure::runtime(&self.state.name, self.id, msg)
        }
    }

    /// A JSONata evaluation failure (`States.QueryEvaluationError`) at `location`.
    pub fn query(&self, location: Option<&str>, msg: impl std::fmt::Display) -> Failure {
        self.query_failure(location, msg, false)
    }

    /// A query failure recorded after the state's `StateEntered` event (a Wait's timestamp).
    pub fn query_after_entered(&self, location: &str, msg: impl std::fmt::Display) -> Failure {
        self.query_failure(Some(location), msg, true)
    }

    fn query_failure(
        &self,
        location: Option<&str>,
        msg: impl std::fmt::Display,
        follows_entered: bool,
    ) -> Failure {
        let mut f = self.runtime(msg);
        f.error = errors::QUERY_EVALUATION_ERROR.to_string();
        f.unrecorded = Some(Evaluation {
            location: location.map(str::to_string),
            follows_entered,
        });
        f
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
        if let Some(t) = &self.test {
            return t.context.clone();
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

    pub(crate) async fn run_state(
        &self,
        state: &State,
        input: Value,
        frame: &mut Frame,
    ) -> Result<Step, Failure> {
        let ty = state.kind.type_name();
        let entered_t = EventType::from_name(&format!("{ty}StateEntered"))
            .unwrap_or(EventType::PassStateEntered);
        let prev = frame.prev;
        let id = self.emit(
            frame,
            entered_t,
            json!({"name": state.name, "input": input.to_string(), "inputDetails": {"truncated": false}}),
        );
        let en = Entered {
            state,
            id,
            prev,
            time: timestamp::format(self.engine.clock.now()),
            tested: self.test.is_some(),
        };
        let step = match self.run_kind(&en, input, frame).await {
            Ok(step) => step,
            Err(mut f) => {
                self.record_evaluation_failure(&en, &mut f, frame);
                return Err(f);
            }
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

    /// Runs the state's own work, by type.
    async fn run_kind(
        &self,
        en: &Entered<'_>,
        input: Value,
        frame: &mut Frame,
    ) -> Result<Step, Failure> {
        Ok(match &en.state.kind {
            StateKind::Pass { result, io } => {
                self.run_pass(en, result.as_ref(), io, input, frame)?
            }
            StateKind::Choice { choices, default } => {
                self.run_choice(en, choices, default.as_deref(), input, frame)?
            }
            StateKind::Wait(w) => self.run_wait(en, w, input, frame).await?,
            StateKind::Succeed => self.run_succeed(en, input, frame)?,
            StateKind::Fail { error, cause } => {
                return Err(self.run_fail(en, error, cause, input, frame));
            }
            StateKind::Task(t) => self.run_task(en, t, input, frame).await?,
            StateKind::Parallel { branches, io } => {
                self.run_parallel(en, branches, io, input, frame).await?
            }
            StateKind::Map(m) => self.run_map(en, m, input, frame).await?,
        })
    }

    /// Records `EvaluationFailed` for a JSONata evaluation failure of this state (once:
    /// the enclosing states see it recorded). A Map or Parallel state then fails, as
    /// AWS records it.
    fn record_evaluation_failure(&self, en: &Entered<'_>, f: &mut Failure, frame: &mut Frame) {
        let Some(at) = f.unrecorded.take() else {
            return;
        };
        let mut d = Map::new();
        if let Some(c) = &f.cause {
            d.insert("cause".into(), Value::String(c.clone()));
        }
        d.insert("error".into(), Value::String(f.error.clone()));
        if let Some(l) = at.location {
            d.insert("location".into(), Value::String(l));
        }
        d.insert("state".into(), Value::String(en.state.name.clone()));
        let prev = if at.follows_entered {
            frame.prev
        } else {
            en.prev
        };
        self.emit_after(frame, prev, EventType::EvaluationFailed, Value::Object(d));
        match en.state.kind {
            StateKind::Map(_) => {
                self.emit(frame, EventType::MapStateFailed, json!({}));
            }
            StateKind::Parallel { .. } => {
                self.emit(frame, EventType::ParallelStateFailed, json!({}));
            }
            _ => {}
        }
    }

    /// Records TestState inspection data (nothing outside TestState).
    pub fn inspect(&self, key: &str, value: &Value) {
        if let Some(t) = &self.test {
            t.inspect(key, value.clone());
        }
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
            rng: &self.engine.rng,
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

    /// Applies the first matching catcher, or gives the failure back. JSONPath puts
    /// the error output at the catcher's `ResultPath`; JSONata's output is the
    /// catcher's `Output` (default: the error output) with `$states.errorOutput`.
    pub(crate) fn catch(
        &self,
        en: &Entered<'_>,
        io: &ResultHandling,
        f: Failure,
        raw_input: &Value,
        frame: &mut Frame,
    ) -> Result<Step, Failure> {
        if f.is_runtime() || self.test.as_ref().is_some_and(|t| t.retriable()) {
            return Err(f);
        }
        let Some((i, c)) = io
            .catch
            .iter()
            .enumerate()
            .find(|(_, c)| crate::retry::error_matches(&c.error_equals, &f.error))
        else {
            return Err(f);
        };
        if let Some(t) = &self.test {
            t.error_detail("catchIndex", Value::from(i));
            t.set_caught(&f);
        }
        let err_out = error_output(&f);
        let ctx = self.context(en, None);
        let output = match en.state.language {
            QueryLanguage::JsonPath => {
                self.catch_jsonpath(en, c, raw_input, err_out, &ctx, frame)?
            }
            QueryLanguage::Jsonata => {
                let states = States {
                    error_output: Some(&err_out),
                    ..self.states(raw_input, &ctx)
                };
                let fields = (c.output.as_ref(), c.assign.as_ref());
                self.end_jsonata(en, fields, states, &err_out, frame)?
            }
        };
        Ok(Step {
            output,
            next: Some(c.next.clone()),
        })
    }

    fn catch_jsonpath(
        &self,
        en: &Entered<'_>,
        c: &Catcher,
        raw_input: &Value,
        err_out: Value,
        ctx: &Value,
        frame: &mut Frame,
    ) -> Result<Value, Failure> {
        let src = self.sources(&err_out, ctx, None, frame);
        let assigned = self.eval_assign(en, c.assign.as_ref(), &src)?;
        let out = self.result_path(en, Some(&c.result_path), raw_input, err_out)?;
        Self::apply_assign(frame, assigned);
        Ok(out)
    }

    pub fn next_of(state: &State) -> Option<String> {
        match &state.transition {
            Transition::Next(n) => Some(n.clone()),
            Transition::End => None,
        }
    }
}
