//! Map: runs its item processor once per item of an array (inline, or distributed
//! mode without ItemReader), at most MaxConcurrency at a time, within the tolerated
//! failures; the result is the outputs in item order (then Retry and Catch).

use crate::errors;
use crate::exec::{
    Entered, Exec, Failure, Frame, NON_NEGATIVE_INTEGER, PERCENTAGE, Step, error_details,
    error_output, invalid_path,
};
use crate::history::EventType;
use crate::json::text_of;
use crate::jsonata::FieldError;
use crate::jsonpath::JsonPath;
use crate::model::{MapState, NumOrPath, QueryLanguage, Template};
use crate::payload::Sources;
use crate::retry::RetryState;
use futures::StreamExt;
use serde_json::{Value, json};

/// Map: its input, items and limits, the iterations (or TestState's mock), then
/// the result through ResultSelector ... OutputPath, or Retry and Catch.
pub(super) async fn run(
    exec: &Exec<'_>,
    en: &Entered<'_>,
    m: &MapState,
    input: Value,
    frame: &mut Frame,
) -> Result<Step, Failure> {
    let mut retry = RetryState::new(m.io.retry.len());
    loop {
        let ctx = exec.context(en, None);
        let eff = exec.state_input(en, input.clone(), &ctx, frame)?;
        let src = exec.field_sources(en, &eff, &ctx, frame);
        let max_conc = map_number(
            exec,
            en,
            m.max_concurrency.as_ref(),
            &src,
            "MaxConcurrency",
            true,
        )?;
        let items = map_items(exec, en, m, &src);
        // JSONPath starts the Map before its items are found to be wrong; JSONata
        // fails first (as AWS records them).
        let items = match items {
            Err(f) if en.state.language == QueryLanguage::Jsonata => return Err(f),
            other => other,
        };
        let length = items.as_ref().map(Vec::len).unwrap_or(0);
        exec.emit(frame, EventType::MapStateStarted, json!({"length": length}));
        let src = exec.field_sources(en, &eff, &ctx, frame);
        let mut limits = map_limits(exec, en, m, &src)?;
        limits.concurrency = match max_conc {
            Some(n) if n >= 1.0 => n as usize,
            _ => usize::MAX,
        };
        let items = items?;
        inspect_map(exec, en, &items, max_conc, &limits);
        if m.distributed {
            let arn = map_run_arn(exec, &en.state.name);
            exec.emit(frame, EventType::MapRunStarted, json!({"mapRunArn": arn}));
        }
        let inputs = iteration_inputs(exec, en, m, items, &eff, &ctx, frame)?;
        let outcome = match exec.mocked_map(|failures, total| limits.tolerance(failures, total)) {
            Some(mocked) => mocked,
            None => iterate(exec, en, m, inputs, &limits, frame).await,
        };
        match outcome {
            Ok(result) => return exec.complete(en, &m.io, &input, result, &ctx, frame),
            Err(f) => {
                if exec.retry_wait(&m.io, &mut retry, &f).await {
                    continue;
                }
                exec.emit(frame, EventType::MapStateFailed, json!({}));
                return exec.catch(en, &m.io, f, &input, frame);
            }
        }
    }
}

/// A Map state's limits, resolved for one run.
struct MapLimits {
    /// How many iterations run at once (`usize::MAX`: no limit).
    concurrency: usize,
    tolerated_count: Option<f64>,
    tolerated_percentage: Option<f64>,
}

impl MapLimits {
    /// Whether `failures` of `total` iterations are within the tolerated failures;
    /// None when the Map tolerates none (its first failure fails it).
    fn tolerance(&self, failures: usize, total: usize) -> Option<bool> {
        let set = self.tolerated_count.is_some() || self.tolerated_percentage.is_some();
        set.then(|| self.tolerates(failures, total))
    }

    /// Whether `failures` of `total` iterations are within the tolerated failures.
    fn tolerates(&self, failures: usize, total: usize) -> bool {
        let by_count = self.tolerated_count.is_some_and(|c| failures as f64 <= c);
        let by_pct = self
            .tolerated_percentage
            .is_some_and(|p| total > 0 && (failures as f64 * 100.0 / total as f64) <= p);
        by_count || by_pct
    }
}

/// What the iterations of one Map run produced.
struct Iterations {
    /// Results in item order; a failed iteration contributes its error output.
    outputs: Vec<Value>,
    failures: usize,
    first_failure: Option<Failure>,
}

/// A Map number field (`MaxConcurrency`, `ToleratedFailureCount` take an
/// integer, `ToleratedFailurePercentage` any number): literal, from its `...Path`,
/// or a JSONata expression.
fn map_number(
    exec: &Exec<'_>,
    en: &Entered<'_>,
    np: Option<&NumOrPath>,
    src: &Sources<'_>,
    field: &str,
    integer: bool,
) -> Result<Option<f64>, Failure> {
    match np {
        None => Ok(None),
        Some(NumOrPath::Literal(n)) => Ok(Some(*n)),
        Some(NumOrPath::Jsonata(e)) => {
            let takes = if integer {
                NON_NEGATIVE_INTEGER
            } else {
                PERCENTAGE
            };
            exec.jsonata_number(en, e, src, field, takes).map(Some)
        }
        Some(NumOrPath::Path(p)) => {
            let field = format!("{field}Path");
            let v = src
                .scope
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
                    text_of(&v),
                    if integer { "integer" } else { "float" }
                ))
            })
        }
    }
}

fn map_limits(
    exec: &Exec<'_>,
    en: &Entered<'_>,
    m: &MapState,
    src: &Sources<'_>,
) -> Result<MapLimits, Failure> {
    let tolerated_count = map_number(
        exec,
        en,
        m.tolerated_failure_count.as_ref(),
        src,
        "ToleratedFailureCount",
        true,
    )?;
    if tolerated_count.is_some_and(|c| c < 0.0) {
        return Err(en.runtime("ToleratedFailureCount cannot be negative."));
    }
    let tolerated_percentage = map_number(
        exec,
        en,
        m.tolerated_failure_percentage.as_ref(),
        src,
        "ToleratedFailurePercentage",
        false,
    )?;
    if tolerated_percentage.is_some_and(|p| !(0.0..=100.0).contains(&p)) {
        return Err(en.runtime("ToleratedFailurePercentage must be between 0 and 100."));
    }
    Ok(MapLimits {
        concurrency: usize::MAX,
        tolerated_count,
        tolerated_percentage,
    })
}

/// The items, which must be an array: JSONata's `Items` or its input; JSONPath's
/// `ItemsPath` (default `$`).
fn map_items(
    exec: &Exec<'_>,
    en: &Entered<'_>,
    m: &MapState,
    src: &Sources<'_>,
) -> Result<Vec<Value>, Failure> {
    if en.state.language == QueryLanguage::Jsonata {
        return jsonata_items(exec, en, m, src);
    }
    let items_path = m.items_path.clone().unwrap_or_else(JsonPath::identity);
    match src
        .scope
        .eval(&items_path)
        .map_err(|mi| en.runtime(invalid_path(&items_path, &mi)))?
    {
        Value::Array(a) => Ok(a),
        // AWS names a context path with one `$` here.
        _ => {
            let shown = items_path.as_str();
            let shown = shown
                .strip_prefix('$')
                .filter(|p| p.starts_with('$'))
                .unwrap_or(shown);
            Err(en.runtime(format!("Reference path \"{shown}\" must point to array.")))
        }
    }
}

fn jsonata_items(
    exec: &Exec<'_>,
    en: &Entered<'_>,
    m: &MapState,
    src: &Sources<'_>,
) -> Result<Vec<Value>, Failure> {
    let (v, t) = match &m.items {
        Some(t) => (exec.eval_template(en, t, src)?, t),
        None => {
            return match src.scope.input {
                Value::Array(a) => Ok(a.clone()),
                other => Err(en.query(
                    None,
                    format!("Map state input must be an array but was: {other}"),
                )),
            };
        }
    };
    match (v, t) {
        (Value::Array(a), _) => Ok(a),
        (other, Template::Jsonata { expr, location }) => Err(en.query(
            Some(location),
            FieldError::wrong_type(expr, location, "array", &other),
        )),
        (other, _) => Err(en.query(
            Some("Items"),
            format!("Items must be an array but was: {other}"),
        )),
    }
}

/// Each iteration's input: the item, or `ItemSelector` evaluated with the
/// context's `Map.Item` (`$$.Map.Item`, `$states.context.Map.Item`).
fn iteration_inputs(
    exec: &Exec<'_>,
    en: &Entered<'_>,
    m: &MapState,
    items: Vec<Value>,
    eff: &Value,
    ctx: &Value,
    frame: &Frame,
) -> Result<Vec<Value>, Failure> {
    let Some(sel) = &m.item_selector else {
        return Ok(items);
    };
    let mut inputs = Vec::with_capacity(items.len());
    for (i, item) in items.into_iter().enumerate() {
        let mut ictx = ctx.clone();
        if let Value::Object(o) = &mut ictx {
            o.insert("Map".into(), json!({"Item": {"Index": i, "Value": item}}));
        }
        let src = exec.field_sources(en, eff, &ictx, frame);
        inputs.push(exec.eval_template(en, sel, &src)?);
    }
    Ok(inputs)
}

/// What TestState shows of a Map: its items (JSONPath) and its limits.
fn inspect_map(
    exec: &Exec<'_>,
    en: &Entered<'_>,
    items: &[Value],
    max_concurrency: Option<f64>,
    limits: &MapLimits,
) {
    if exec.test.is_none() {
        return;
    }
    if en.state.language == QueryLanguage::JsonPath {
        exec.inspect("afterItemsPath", &Value::Array(items.to_vec()));
    }
    let number = |n: f64| serde_json::Number::from_f64(n).map_or(Value::Null, Value::Number);
    let integer = |n: f64| Value::from(n as u64);
    exec.inspect("maxConcurrency", &integer(max_concurrency.unwrap_or(0.0)));
    if let Some(c) = limits.tolerated_count {
        exec.inspect("toleratedFailureCount", &integer(c));
    }
    if let Some(p) = limits.tolerated_percentage {
        exec.inspect("toleratedFailurePercentage", &number(p));
    }
}

/// Runs the iterations and decides how the Map ends: the results, or the failure
/// (in a distributed Map with tolerated failures, the threshold's).
async fn iterate(
    exec: &Exec<'_>,
    en: &Entered<'_>,
    m: &MapState,
    inputs: Vec<Value>,
    limits: &MapLimits,
    frame: &mut Frame,
) -> Result<Value, Failure> {
    let total = inputs.len();
    let done = run_iterations(exec, en, m, inputs, limits, frame).await;
    if frame.record && !m.distributed {
        // Success chains from the last iteration result, failure from
        // the last state event (as AWS records it).
        frame.prev = if done.first_failure.is_none() {
            exec.last_id()
        } else {
            exec.last_advancing_id()
        };
    }
    let failed = done
        .first_failure
        .filter(|f| f.is_runtime() || !limits.tolerates(done.failures, total));
    let Some(f) = failed else {
        if m.distributed {
            exec.emit(frame, EventType::MapRunSucceeded, json!({}));
            frame.prev = exec.last_id();
        }
        exec.emit(frame, EventType::MapStateSucceeded, json!({}));
        return Ok(Value::Array(done.outputs));
    };
    let tolerance = limits.tolerated_count.is_some() || limits.tolerated_percentage.is_some();
    let f = if m.distributed && tolerance {
        Failure::new(
            errors::EXCEED_TOLERATED_FAILURE_THRESHOLD,
            "The specified tolerated failure threshold was exceeded",
        )
    } else {
        f
    };
    if m.distributed {
        exec.emit(
            frame,
            EventType::MapRunFailed,
            Value::Object(error_details(&f)),
        );
    }
    Err(f)
}

/// Runs the iterations, at most `limits.concurrency` at a time, until one
/// fails beyond the tolerated failures (or with `States.Runtime`).
async fn run_iterations(
    exec: &Exec<'_>,
    en: &Entered<'_>,
    m: &MapState,
    inputs: Vec<Value>,
    limits: &MapLimits,
    frame: &Frame,
) -> Iterations {
    let record = frame.record && !m.distributed;
    let name = en.state.name.as_str();
    let total = inputs.len();
    let parent_prev = frame.prev;
    let runs = inputs.into_iter().enumerate().map(|(i, v)| {
        let vars = frame.vars.clone();
        async move {
            let mut f = Frame {
                prev: if record {
                    exec.last_advancing_id()
                } else {
                    parent_prev
                },
                vars,
                record,
                assigned: None,
            };
            let details = json!({"name": name, "index": i});
            exec.emit(&mut f, EventType::MapIterationStarted, details.clone());
            let r = super::run_machine(exec, &m.processor, v, &mut f).await;
            let ended = match &r {
                Ok(_) => EventType::MapIterationSucceeded,
                Err(_) => EventType::MapIterationFailed,
            };
            exec.emit(&mut f, ended, details);
            r
        }
    });
    let mut stream = futures::stream::iter(runs).buffered(limits.concurrency.min(total.max(1)));
    let mut done = Iterations {
        outputs: Vec::with_capacity(total),
        failures: 0,
        first_failure: None,
    };
    while let Some(r) = stream.next().await {
        match r {
            Ok(v) => done.outputs.push(v),
            Err(f) => {
                done.failures += 1;
                let is_rt = f.is_runtime();
                done.outputs.push(error_output(&f));
                done.first_failure.get_or_insert(f);
                if is_rt || !limits.tolerates(done.failures, total) {
                    break;
                }
            }
        }
    }
    done
}

/// The map run ARN of a distributed Map state.
fn map_run_arn(exec: &Exec<'_>, state: &str) -> String {
    format!(
        "{}/{}:{}",
        exec.state_machine["Id"]
            .as_str()
            .unwrap_or("")
            .replacen(":stateMachine:", ":mapRun:", 1),
        state,
        exec.execution["Name"].as_str().unwrap_or("")
    )
}
