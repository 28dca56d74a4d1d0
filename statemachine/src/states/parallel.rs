//! Parallel: runs its branches at once on the same input; the result is their
//! outputs in order, or the first branch failure (then Retry and Catch).

use crate::exec::{Entered, Exec, Failure, Frame, Step};
use crate::history::EventType;
use crate::model::{ResultHandling, StateMachine};
use crate::retry::RetryState;
use serde_json::{Value, json};

/// Parallel: its input (Parameters or Arguments), the branches (or TestState's mock),
/// then the result through ResultSelector ... OutputPath, or Retry and Catch.
pub(super) async fn run(
    exec: &Exec<'_>,
    en: &Entered<'_>,
    branches: &[StateMachine],
    io: &ResultHandling,
    input: Value,
    frame: &mut Frame,
) -> Result<Step, Failure> {
    let mut retry = RetryState::new(io.retry.len());
    loop {
        let ctx = exec.context(en, None);
        let eff = exec.effective_input(en, io.parameters.as_ref(), &input, &ctx, frame)?;
        exec.emit(frame, EventType::ParallelStateStarted, json!({}));
        let outcome = match exec.mocked() {
            Some(mocked) => mocked,
            None => run_branches(exec, branches, &eff, frame).await,
        };
        match outcome {
            Ok(result) => return exec.complete(en, io, &input, result, &ctx, frame),
            Err(f) => {
                if exec.retry_wait(io, &mut retry, &f).await {
                    continue;
                }
                exec.emit(frame, EventType::ParallelStateFailed, json!({}));
                return exec.catch(en, io, f, &input, frame);
            }
        }
    }
}

/// Runs the branches on `input` at once: their outputs in order, or the first
/// branch failure.
async fn run_branches(
    exec: &Exec<'_>,
    branches: &[StateMachine],
    input: &Value,
    frame: &mut Frame,
) -> Result<Value, Failure> {
    let parent_prev = frame.prev;
    let mut frames: Vec<Frame> = branches
        .iter()
        .map(|_| Frame {
            prev: parent_prev,
            vars: frame.vars.clone(),
            record: frame.record,
            assigned: None,
        })
        .collect();
    let runs = branches
        .iter()
        .zip(frames.iter_mut())
        .map(|(b, f)| super::run_machine(exec, b, input.clone(), f));
    let results = futures::future::join_all(runs).await;
    frame.prev = exec.last_id().max(frame.prev);
    let mut outputs = Vec::with_capacity(results.len());
    for r in results {
        outputs.push(r?);
    }
    Ok(Value::Array(outputs))
}
