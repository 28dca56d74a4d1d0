//! Retry and Catch: what a Task, Parallel or Map state does with a failure.

use super::{Entered, Exec, Failure, Frame, Step, error_output};
use crate::jsonata::States;
use crate::model::{Catcher, QueryLanguage, ResultHandling};
use crate::retry::{RetryState, error_matches};
use serde_json::Value;

impl Exec<'_> {
    /// Handles a failure with Retry (returns Ok(None) to retry) and Catch.
    pub(crate) async fn retry_or_catch(
        &self,
        en: &Entered<'_>,
        io: &ResultHandling,
        retry: &mut RetryState,
        f: Failure,
        raw_input: &Value,
        frame: &mut Frame,
    ) -> Result<Option<Step>, Failure> {
        if self.retry_wait(io, retry, &f).await {
            return Ok(None);
        }
        self.catch(en, io, f, raw_input, frame).map(Some)
    }

    /// Sleeps and returns true when a retrier takes `f`.
    pub(crate) async fn retry_wait(
        &self,
        io: &ResultHandling,
        retry: &mut RetryState,
        f: &Failure,
    ) -> bool {
        if f.is_runtime() {
            return false;
        }
        if let Some(t) = &self.test {
            t.retry(&io.retry, &f.error, self.services.rng.as_ref());
            return false;
        }
        match retry.next_delay(&io.retry, &f.error, self.services.rng.as_ref()) {
            Some(d) => {
                if !d.is_zero() {
                    self.services.clock.sleep(d).await;
                }
                true
            }
            None => false,
        }
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
            .find(|(_, c)| error_matches(&c.error_equals, &f.error))
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
}
