//! Succeed: ends the execution (or branch, or iteration) with its input, after
//! InputPath/OutputPath or JSONata's `Output`.

use crate::exec::{Entered, Exec, Failure, Frame, Step};
use serde_json::Value;

/// Succeed: the output is the (processed) input; there is no next state.
pub(super) fn run(
    exec: &Exec<'_>,
    en: &Entered<'_>,
    input: Value,
    frame: &mut Frame,
) -> Result<Step, Failure> {
    let ctx = exec.context(en, None);
    let eff = exec.state_input(en, input, &ctx, frame)?;
    let output = exec.end_plain(en, eff, &ctx, frame)?;
    Ok(Step { output, next: None })
}
