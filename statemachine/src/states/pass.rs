//! Pass: JSONPath `Parameters`, `Result` and `ResultPath`; JSONata only has the
//! common `Output` and `Assign`.

use crate::exec::{Entered, Exec, Failure, Frame, Step};
use crate::model::{QueryLanguage, ResultHandling};
use serde_json::Value;

/// Pass: JSONPath `Parameters`, `Result` and `ResultPath`; JSONata only has the
/// common Output and Assign.
pub(super) fn run(
    exec: &Exec<'_>,
    en: &Entered<'_>,
    result: Option<&Value>,
    io: &ResultHandling,
    input: Value,
    frame: &mut Frame,
) -> Result<Step, Failure> {
    let ctx = exec.context(en, None);
    let output = match en.state.language {
        QueryLanguage::JsonPath => {
            let res = match result {
                // TestState shows a Pass with a Result without its input steps.
                Some(r) => {
                    exec.inspect("result", r);
                    r.clone()
                }
                None => {
                    let eff = exec.input_path(en, &input, &ctx, frame)?;
                    exec.inspect("afterInputPath", &eff);
                    let eff = match &io.parameters {
                        Some(t) => exec.template(en, t, &eff, &ctx, frame)?,
                        None => eff,
                    };
                    exec.inspect("afterParameters", &eff);
                    eff
                }
            };
            exec.finish(en, io.result_path.as_ref(), &input, res, &ctx, frame)?
        }
        QueryLanguage::Jsonata => exec.end_plain(en, input, &ctx, frame)?,
    };
    Ok(Step {
        output,
        next: Exec::next_of(en.state),
    })
}
