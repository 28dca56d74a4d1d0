//! JSONPath's input/output pipeline: InputPath, ResultPath, OutputPath and the tail
//! every JSONPath state with a result shares (Assign, ResultPath, OutputPath).

use super::{Entered, Exec, Failure, Frame, invalid_path};
use crate::model::{PathField, ResultPathField};
use serde_json::{Value, json};

impl Exec<'_> {
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
        self.inspect("afterResultSelector", &result);
        let src = self.sources(&result, ctx, None, frame);
        let assigned = self.eval_assign(en, en.state.assign.as_ref(), &src)?;
        let combined = self.result_path(en, rp, raw_input, result)?;
        self.inspect("afterResultPath", &combined);
        let out = self.output_path(en, combined, ctx, frame)?;
        Self::apply_assign(frame, assigned);
        Ok(out)
    }
}
