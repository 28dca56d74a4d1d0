//! The states: how an execution goes from state to state ([`run_machine`]), the
//! events around each state ([`run_state`]), and one file per state type with what
//! that state does:
//!
//! | State    | File          |
//! |----------|---------------|
//! | Pass     | `pass.rs`     |
//! | Task     | `task.rs`     |
//! | Choice   | `choice.rs`   |
//! | Wait     | `wait.rs`     |
//! | Succeed  | `succeed.rs`  |
//! | Fail     | `fail.rs`     |
//! | Parallel | `parallel.rs` |
//! | Map      | `map.rs`      |
//!
//! `model::StateKind` is the enum that lists them; [`run_kind`] dispatches on it.

mod choice;
mod fail;
mod map;
mod parallel;
mod pass;
mod succeed;
mod task;
mod wait;

pub(crate) use task::LAMBDA_INVOKE;

use crate::clock::BoxFuture;
use crate::errors;
use crate::exec::{Entered, Exec, Failure, Frame, Step};
use crate::history::EventType;
use crate::model::{State, StateKind, StateMachine};
use crate::timestamp;
use serde_json::{Map, Value, json};

/// Runs `sm` (the whole machine, a Parallel branch or a Map processor) from its
/// `StartAt` to an end: its output, or the failure that ended it. Counts transitions
/// against the history limit.
pub(crate) fn run_machine<'a>(
    exec: &'a Exec<'_>,
    sm: &'a StateMachine,
    input: Value,
    frame: &'a mut Frame,
) -> BoxFuture<'a, Result<Value, Failure>> {
    Box::pin(async move {
        let mut current = sm.start_at.as_str();
        let mut input = input;
        loop {
            let n = exec
                .transitions
                .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            if n >= exec.services.history_limit || exec.last_id() >= exec.services.history_limit {
                return Err(Failure::new(
                    errors::RUNTIME,
                    format!(
                        "The execution reached the limit of {} history events or state transitions.",
                        exec.services.history_limit
                    ),
                ));
            }
            let Some(state) = sm.states.get(current) else {
                return Err(Failure::new(
                    errors::RUNTIME,
                    format!("no state named '{current}'"),
                ));
            };
            let step = run_state(exec, state, input, frame).await?;
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

/// Runs one state between its `...StateEntered` and `...StateExited` events: what it
/// decided, or its failure (a JSONata evaluation failure recorded first).
pub(crate) async fn run_state(
    exec: &Exec<'_>,
    state: &State,
    input: Value,
    frame: &mut Frame,
) -> Result<Step, Failure> {
    let ty = state.kind.type_name();
    let entered_t =
        EventType::from_name(&format!("{ty}StateEntered")).unwrap_or(EventType::PassStateEntered);
    let prev = frame.prev;
    let id = exec.emit(
        frame,
        entered_t,
        json!({"name": state.name, "input": input.to_string(), "inputDetails": {"truncated": false}}),
    );
    let en = Entered {
        state,
        id,
        prev,
        time: timestamp::format(exec.services.clock.now()),
        tested: exec.test.is_some(),
    };
    let step = match run_kind(exec, &en, input, frame).await {
        Ok(step) => step,
        Err(mut f) => {
            record_evaluation_failure(exec, &en, &mut f, frame);
            return Err(f);
        }
    };
    exec.check_size(&en, &step.output)?;
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
    exec.emit(frame, exited_t, details);
    Ok(step)
}

/// Runs the state's own work, by type.
async fn run_kind(
    exec: &Exec<'_>,
    en: &Entered<'_>,
    input: Value,
    frame: &mut Frame,
) -> Result<Step, Failure> {
    Ok(match &en.state.kind {
        StateKind::Pass { result, io } => pass::run(exec, en, result.as_ref(), io, input, frame)?,
        StateKind::Choice { choices, default } => {
            choice::run(exec, en, choices, default.as_deref(), input, frame)?
        }
        StateKind::Wait(w) => wait::run(exec, en, w, input, frame).await?,
        StateKind::Succeed => succeed::run(exec, en, input, frame)?,
        StateKind::Fail { error, cause } => {
            return Err(fail::run(exec, en, error, cause, input, frame));
        }
        StateKind::Task(t) => task::run(exec, en, t, input, frame).await?,
        StateKind::Parallel { branches, io } => {
            parallel::run(exec, en, branches, io, input, frame).await?
        }
        StateKind::Map(m) => map::run(exec, en, m, input, frame).await?,
    })
}

/// Records `EvaluationFailed` for a JSONata evaluation failure of this state (once:
/// the enclosing states see it recorded). A Map or Parallel state then fails, as
/// AWS records it.
fn record_evaluation_failure(
    exec: &Exec<'_>,
    en: &Entered<'_>,
    f: &mut Failure,
    frame: &mut Frame,
) {
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
    exec.emit_after(frame, prev, EventType::EvaluationFailed, Value::Object(d));
    match en.state.kind {
        StateKind::Map(_) => {
            exec.emit(frame, EventType::MapStateFailed, json!({}));
        }
        StateKind::Parallel { .. } => {
            exec.emit(frame, EventType::ParallelStateFailed, json!({}));
        }
        _ => {}
    }
}
