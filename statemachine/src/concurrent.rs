//! Parallel and Map states.

use crate::engine::{Exec, Failure, Frame};
use crate::history::EventType;
use crate::interpreter::{Entered, Step, invalid_path};
use crate::jsonpath::JsonPath;
use crate::model::*;
use crate::retry::{RetryState, errors};
use futures::StreamExt;
use serde_json::{Value, json};

fn describe(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

impl Exec<'_> {
    pub(crate) async fn run_parallel(
        &self,
        en: &Entered<'_>,
        branches: &[StateMachine],
        io: &ResultHandling,
        input: Value,
        frame: &mut Frame,
    ) -> Result<Step, Failure> {
        let mut retry = RetryState::new(io.retry.len());
        loop {
            let ctx = self.context(en, None);
            let eff = self.input_path(en, &input, &ctx, frame)?;
            let eff = match &io.parameters {
                Some(p) => self.template(en, p, &eff, &ctx, frame)?,
                None => eff,
            };
            self.emit(frame, EventType::ParallelStateStarted, json!({}));
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
                .map(|(b, f)| self.run_machine(b, eff.clone(), f));
            let results = futures::future::join_all(runs).await;
            frame.prev = self.last_id().max(frame.prev);
            let mut outputs = Vec::with_capacity(results.len());
            let mut failure = None;
            for r in results {
                match r {
                    Ok(v) => outputs.push(v),
                    Err(f) => {
                        if failure.is_none() {
                            failure = Some(f);
                        }
                    }
                }
            }
            match failure {
                None => {
                    return self.complete(en, io, &input, Value::Array(outputs), &ctx, frame);
                }
                Some(f) => {
                    if self.retry_wait(io, &mut retry, &f).await {
                        continue;
                    }
                    self.emit(frame, EventType::ParallelStateFailed, json!({}));
                    return self.catch(en, io, f, &input, frame);
                }
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn map_number(
        &self,
        en: &Entered<'_>,
        np: Option<&NumOrPath>,
        eff: &Value,
        ctx: &Value,
        frame: &Frame,
        field: &str,
        integer: bool,
    ) -> Result<Option<f64>, Failure> {
        match np {
            None => Ok(None),
            Some(NumOrPath::Literal(n)) => Ok(Some(*n)),
            Some(NumOrPath::Path(p)) => {
                let v = self
                    .scope(eff, ctx, frame)
                    .eval(p)
                    .map_err(|m| en.runtime(invalid_path(p, &m)))?;
                let num = match &v {
                    Value::String(s) => s.trim().parse::<f64>().ok(),
                    other => other.as_f64(),
                };
                let parsed = if integer {
                    num.filter(|n| n.fract() == 0.0)
                } else {
                    num
                };
                parsed.map(Some).ok_or_else(|| {
                    en.runtime(format!(
                        "The {field} field refers to value \"{}\" which is not a valid {}: {p}",
                        describe(&v),
                        if integer { "integer" } else { "float" }
                    ))
                })
            }
        }
    }

    pub(crate) async fn run_map(
        &self,
        en: &Entered<'_>,
        m: &MapState,
        input: Value,
        frame: &mut Frame,
    ) -> Result<Step, Failure> {
        let mut retry = RetryState::new(m.io.retry.len());
        loop {
            let ctx = self.context(en, None);
            let eff = self.input_path(en, &input, &ctx, frame)?;
            let max_conc = self.map_number(
                en,
                m.max_concurrency.as_ref(),
                &eff,
                &ctx,
                frame,
                "MaxConcurrencyPath",
                true,
            )?;
            let items_path = m.items_path.clone().unwrap_or_else(JsonPath::identity);
            let items = self
                .scope(&eff, &ctx, frame)
                .eval(&items_path)
                .map_err(|mi| en.runtime(invalid_path(&items_path, &mi)))
                .and_then(|items| match items {
                    Value::Array(a) => Ok(a),
                    other => Err(en.runtime(format!(
                        "Invalid path '{items_path}': the value is not a JSON array: {other}"
                    ))),
                });
            let length = items.as_ref().map(Vec::len).unwrap_or(0);
            self.emit(frame, EventType::MapStateStarted, json!({"length": length}));
            let tol_count = self.map_number(
                en,
                m.tolerated_failure_count.as_ref(),
                &eff,
                &ctx,
                frame,
                "ToleratedFailureCountPath",
                true,
            )?;
            if tol_count.is_some_and(|c| c < 0.0) {
                return Err(en.runtime("ToleratedFailureCount cannot be negative."));
            }
            let tol_pct = self.map_number(
                en,
                m.tolerated_failure_percentage.as_ref(),
                &eff,
                &ctx,
                frame,
                "ToleratedFailurePercentagePath",
                false,
            )?;
            if tol_pct.is_some_and(|p| !(0.0..=100.0).contains(&p)) {
                return Err(en.runtime("ToleratedFailurePercentage must be between 0 and 100."));
            }
            let items = items?;
            let map_run_arn = format!(
                "{}/{}:{}",
                self.state_machine["Id"].as_str().unwrap_or("").replacen(
                    ":stateMachine:",
                    ":mapRun:",
                    1
                ),
                en.state.name,
                self.execution["Name"].as_str().unwrap_or("")
            );
            if m.distributed {
                self.emit(
                    frame,
                    EventType::MapRunStarted,
                    json!({"mapRunArn": map_run_arn}),
                );
            }
            let conc = match max_conc {
                Some(n) if n >= 1.0 => n as usize,
                _ => usize::MAX,
            };
            let record = frame.record && !m.distributed;
            // Build each iteration's input first (ItemSelector sees $$.Map.Item).
            let mut inputs = Vec::with_capacity(items.len());
            for (i, item) in items.iter().enumerate() {
                let v = match &m.item_selector {
                    Some(sel) => {
                        let mut ictx = ctx.clone();
                        if let Value::Object(o) = &mut ictx {
                            o.insert("Map".into(), json!({"Item": {"Index": i, "Value": item}}));
                        }
                        self.template(en, sel, &eff, &ictx, frame)?
                    }
                    None => item.clone(),
                };
                inputs.push(v);
            }
            let name = en.state.name.clone();
            let total = inputs.len();
            let vars = frame.vars.clone();
            let parent_prev = frame.prev;
            let runs = inputs.into_iter().enumerate().map(|(i, v)| {
                let name = name.clone();
                let vars = vars.clone();
                async move {
                    let mut f = Frame {
                        prev: if record {
                            self.last_advancing_id()
                        } else {
                            parent_prev
                        },
                        vars,
                        record,
                        assigned: None,
                    };
                    self.emit(
                        &mut f,
                        EventType::MapIterationStarted,
                        json!({"name": name, "index": i}),
                    );
                    let r = self.run_machine(&m.processor, v, &mut f).await;
                    match &r {
                        Ok(_) => self.emit(
                            &mut f,
                            EventType::MapIterationSucceeded,
                            json!({"name": name, "index": i}),
                        ),
                        Err(_) => self.emit(
                            &mut f,
                            EventType::MapIterationFailed,
                            json!({"name": name, "index": i}),
                        ),
                    };
                    r
                }
            });
            let mut stream = futures::stream::iter(runs).buffered(conc.min(total.max(1)));
            let mut outputs = Vec::with_capacity(total);
            let mut failures = 0usize;
            let mut first_failure: Option<Failure> = None;
            let tolerated = |failures: usize| -> bool {
                let by_count = tol_count.is_some_and(|c| failures as f64 <= c);
                let by_pct = tol_pct
                    .is_some_and(|p| total > 0 && (failures as f64 * 100.0 / total as f64) <= p);
                by_count || by_pct
            };
            while let Some(r) = stream.next().await {
                match r {
                    Ok(v) => outputs.push(v),
                    Err(f) => {
                        failures += 1;
                        let is_rt = f.is_runtime();
                        outputs.push(crate::task::error_output(&f));
                        if first_failure.is_none() {
                            first_failure = Some(f);
                        }
                        if is_rt || !tolerated(failures) {
                            break;
                        }
                    }
                }
            }
            drop(stream);
            if record {
                // Success chains from the last iteration result, failure from
                // the last state event (as AWS records it).
                frame.prev = if first_failure.is_none() {
                    self.last_id()
                } else {
                    self.last_advancing_id()
                };
            }
            let failed = first_failure.filter(|f| f.is_runtime() || !tolerated(failures));
            match failed {
                None => {
                    if m.distributed {
                        self.emit(frame, EventType::MapRunSucceeded, json!({}));
                        frame.prev = self.last_id();
                    }
                    self.emit(frame, EventType::MapStateSucceeded, json!({}));
                    return self.complete(en, &m.io, &input, Value::Array(outputs), &ctx, frame);
                }
                Some(f) => {
                    let f = if m.distributed && (tol_count.is_some() || tol_pct.is_some()) {
                        Failure::new(
                            errors::EXCEED_TOLERATED_FAILURE_THRESHOLD,
                            "The specified tolerated failure threshold was exceeded",
                        )
                    } else {
                        f
                    };
                    if m.distributed {
                        self.emit(frame, EventType::MapRunFailed, {
                            let mut d = serde_json::Map::new();
                            d.insert("error".into(), Value::String(f.error.clone()));
                            if let Some(c) = &f.cause {
                                d.insert("cause".into(), Value::String(c.clone()));
                            }
                            Value::Object(d)
                        });
                    }
                    if self.retry_wait(&m.io, &mut retry, &f).await {
                        continue;
                    }
                    self.emit(frame, EventType::MapStateFailed, json!({}));
                    return self.catch(en, &m.io, f, &input, frame);
                }
            }
        }
    }
}
