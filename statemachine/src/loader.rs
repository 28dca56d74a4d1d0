//! Loading and validating a definition: `${...}` substitutions, then the
//! typed model. Every error names the state and the field at fault.

use crate::intrinsics::{Call, is_intrinsic};
use crate::jsonpath::JsonPath;
use crate::model::{
    Catcher, Choice, CmpKind, MapState, NumOrPath, Operand, PathField, Relation, ResultHandling,
    ResultPathField, Retrier, Rule, State, StateKind, StateMachine, StrOrPath, TaskState, Template,
    Transition, TypeTest, WaitFor,
};
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::ops::RangeInclusive;

/// Why a definition was rejected.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The text is not JSON.
    #[error("the definition is not valid JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// A `${Name}` placeholder had no value.
    #[error("no value for the definition substitution '${{{key}}}' (at {location})")]
    Substitution {
        /// The placeholder's name.
        key: String,
        /// Where it appears (a JSON pointer).
        location: String,
    },
    /// The definition is structurally invalid.
    #[error("invalid definition: {}field '{field}': {message}", state.as_ref().map(|s| format!("state '{s}', ")).unwrap_or_default())]
    Invalid {
        /// The state at fault (None for top-level fields).
        state: Option<String>,
        /// The field at fault.
        field: String,
        /// What is wrong.
        message: String,
    },
}

type R<T> = Result<T, LoadError>;

/// The largest count of seconds or of retry attempts AWS accepts (`TimeoutSeconds`,
/// `HeartbeatSeconds`, `IntervalSeconds`, `MaxAttempts`, Wait `Seconds`).
const MAX_SECONDS: u64 = 99_999_999;
/// The largest `MaxDelaySeconds` AWS accepts (it must be smaller than 31622401).
const MAX_DELAY_SECONDS: u64 = 31_622_400;
/// The largest `MaxConcurrency`: the Map Run API types it as a 32-bit integer.
const MAX_CONCURRENCY: u64 = i32::MAX as u64;

/// Parses JSON text, applies `substitutions`, and validates.
pub fn load_str(text: &str, substitutions: &HashMap<String, String>) -> R<StateMachine> {
    let mut v: Value = serde_json::from_str(text)?;
    substitute(&mut v, substitutions, &mut String::new())?;
    load_value(&v)
}

/// Replaces `${Name}` in every string of `v`.
pub fn substitute(v: &mut Value, subs: &HashMap<String, String>, loc: &mut String) -> R<()> {
    match v {
        Value::String(s) if s.contains("${") => {
            let mut out = String::new();
            let mut rest = s.as_str();
            while let Some(i) = rest.find("${") {
                out.push_str(&rest[..i]);
                let after = &rest[i + 2..];
                let Some(j) = after.find('}') else {
                    out.push_str(&rest[i..]);
                    rest = "";
                    break;
                };
                let key = &after[..j];
                match subs.get(key) {
                    Some(val) => out.push_str(val),
                    None => {
                        return Err(LoadError::Substitution {
                            key: key.to_string(),
                            location: loc.clone(),
                        });
                    }
                }
                rest = &after[j + 1..];
            }
            out.push_str(rest);
            *s = out;
        }
        Value::Array(a) => {
            for (i, x) in a.iter_mut().enumerate() {
                let len = loc.len();
                loc.push_str(&format!("/{i}"));
                substitute(x, subs, loc)?;
                loc.truncate(len);
            }
        }
        Value::Object(m) => {
            for (k, x) in m.iter_mut() {
                let len = loc.len();
                loc.push('/');
                loc.push_str(k);
                substitute(x, subs, loc)?;
                loc.truncate(len);
            }
        }
        _ => {}
    }
    Ok(())
}

/// Validates an already-parsed definition.
pub fn load_value(v: &Value) -> R<StateMachine> {
    let obj = v
        .as_object()
        .ok_or_else(|| invalid(None, "", "the definition must be a JSON object"))?;
    if let Some(q) = obj.get("QueryLanguage")
        && q != "JSONPath"
    {
        return Err(invalid(None, "QueryLanguage", "only JSONPath is supported"));
    }
    let sm = machine(obj, None)?;
    Ok(sm)
}

fn invalid(state: Option<&str>, field: &str, message: impl Into<String>) -> LoadError {
    LoadError::Invalid {
        state: state.map(str::to_string),
        field: field.to_string(),
        message: message.into(),
    }
}

fn machine(obj: &Map<String, Value>, parent: Option<&str>) -> R<StateMachine> {
    let start_at = obj
        .get("StartAt")
        .and_then(Value::as_str)
        .ok_or_else(|| invalid(parent, "StartAt", "missing or not a string"))?
        .to_string();
    let states_v = obj
        .get("States")
        .and_then(Value::as_object)
        .ok_or_else(|| invalid(parent, "States", "missing or not an object"))?;
    if states_v.is_empty() {
        return Err(invalid(parent, "States", "must contain at least one state"));
    }
    let mut states = HashMap::new();
    for (name, sv) in states_v {
        if name.is_empty() || name.chars().count() > 80 {
            return Err(invalid(
                Some(name),
                "States",
                "state names must be 1 to 80 characters",
            ));
        }
        let so = sv
            .as_object()
            .ok_or_else(|| invalid(Some(name), "", "a state must be a JSON object"))?;
        states.insert(name.clone(), state(name, so)?);
    }
    if !states.contains_key(&start_at) {
        return Err(invalid(
            parent,
            "StartAt",
            format!("no state named '{start_at}'"),
        ));
    }
    let timeout_seconds =
        match obj.get("TimeoutSeconds") {
            None => None,
            Some(t) => Some(t.as_u64().ok_or_else(|| {
                invalid(parent, "TimeoutSeconds", "must be a non-negative integer")
            })?),
        };
    let sm = StateMachine {
        start_at,
        states,
        timeout_seconds,
    };
    check_targets(&sm)?;
    Ok(sm)
}

fn check_targets(sm: &StateMachine) -> R<()> {
    let exists = |s: &State, field: &str, t: &str| -> R<()> {
        if sm.states.contains_key(t) {
            Ok(())
        } else {
            Err(invalid(
                Some(&s.name),
                field,
                format!("no state named '{t}'"),
            ))
        }
    };
    for s in sm.states.values() {
        if let Transition::Next(n) = &s.transition {
            exists(s, "Next", n)?;
        }
        let catchers = match &s.kind {
            StateKind::Task(t) => &t.io.catch,
            StateKind::Parallel { io, .. } => &io.catch,
            StateKind::Map(m) => &m.io.catch,
            _ => &Vec::new(),
        };
        for c in catchers {
            exists(s, "Catch.Next", &c.next)?;
        }
        if let StateKind::Choice { choices, default } = &s.kind {
            for c in choices {
                exists(s, "Choices.Next", &c.next)?;
            }
            if let Some(d) = default {
                exists(s, "Default", d)?;
            }
        }
    }
    Ok(())
}

struct Ctx<'a> {
    name: &'a str,
    obj: &'a Map<String, Value>,
}

impl<'a> Ctx<'a> {
    fn err(&self, field: &str, msg: impl Into<String>) -> LoadError {
        invalid(Some(self.name), field, msg)
    }
    fn get(&self, f: &str) -> Option<&'a Value> {
        self.obj.get(f)
    }
    fn str(&self, f: &str) -> R<Option<String>> {
        match self.get(f) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(self.err(f, "must be a string")),
        }
    }
    fn path(&self, f: &str) -> R<Option<JsonPath>> {
        match self.str(f)? {
            None => Ok(None),
            Some(s) => JsonPath::parse(&s)
                .map(Some)
                .map_err(|e| self.err(f, e.to_string())),
        }
    }
    fn path_field(&self, f: &str) -> R<PathField> {
        match self.get(f) {
            None => Ok(PathField::Default),
            Some(Value::Null) => Ok(PathField::Null),
            Some(Value::String(s)) => JsonPath::parse(s)
                .map(PathField::Path)
                .map_err(|e| self.err(f, e.to_string())),
            Some(_) => Err(self.err(f, "must be a string or null")),
        }
    }
    fn result_path(&self, v: Option<&Value>, f: &str) -> R<Option<ResultPathField>> {
        match v {
            None => Ok(None),
            Some(Value::Null) => Ok(Some(ResultPathField::Null)),
            Some(Value::String(s)) => {
                let p = JsonPath::parse(s).map_err(|e| self.err(f, e.to_string()))?;
                if !p.is_reference() {
                    return Err(self.err(f, format!("'{s}' is not a reference path")));
                }
                Ok(Some(ResultPathField::Path(p)))
            }
            Some(_) => Err(self.err(f, "must be a string or null")),
        }
    }
    fn template(&self, f: &str) -> R<Option<Template>> {
        match self.get(f) {
            None => Ok(None),
            Some(v) => compile_template(v, self.name, f).map(Some),
        }
    }
    /// `f` given as an integer in `range`, or `fpath` given as a path. AWS
    /// refuses a literal outside the range when the state machine is created.
    fn int_or_path(
        &self,
        f: &str,
        fpath: &str,
        range: RangeInclusive<u64>,
    ) -> R<Option<NumOrPath>> {
        match (self.get(f), self.get(fpath)) {
            (Some(_), Some(_)) => {
                Err(self.err(f, format!("{f} and {fpath} are mutually exclusive")))
            }
            (Some(v), None) => Ok(Some(NumOrPath::Literal(self.integer(f, v, range)? as f64))),
            (None, Some(_)) => Ok(self.path(fpath)?.map(NumOrPath::Path)),
            (None, None) => Ok(None),
        }
    }
    /// `v` (the value of `field`) as an integer in `range`.
    fn integer(&self, field: &str, v: &Value, range: RangeInclusive<u64>) -> R<u64> {
        match v.as_f64() {
            Some(n)
                if n.fract() == 0.0 && n >= *range.start() as f64 && n <= *range.end() as f64 =>
            {
                Ok(n as u64)
            }
            _ => Err(self.err(
                field,
                format!(
                    "must be an integer from {} to {}",
                    range.start(),
                    range.end()
                ),
            )),
        }
    }
    fn str_or_path(&self, f: &str, fpath: &str) -> R<Option<StrOrPath>> {
        match (self.get(f), self.get(fpath)) {
            (Some(_), Some(_)) => {
                Err(self.err(f, format!("{f} and {fpath} are mutually exclusive")))
            }
            (Some(_), None) => Ok(self.str(f)?.map(StrOrPath::Literal)),
            (None, Some(_)) => {
                let Some(s) = self.str(fpath)? else {
                    return Ok(None);
                };
                if is_intrinsic(&s) {
                    Call::parse(&s)
                        .map(|c| Some(StrOrPath::Intrinsic(c)))
                        .map_err(|e| self.err(fpath, e.to_string()))
                } else {
                    JsonPath::parse(&s)
                        .map(|p| Some(StrOrPath::Path(p)))
                        .map_err(|e| self.err(fpath, e.to_string()))
                }
            }
            (None, None) => Ok(None),
        }
    }
}

/// Compiles a `Parameters`-like payload template.
pub fn compile_template(v: &Value, state: &str, field: &str) -> R<Template> {
    match v {
        Value::Object(m) => {
            let mut members = Vec::with_capacity(m.len());
            for (k, x) in m {
                if let Some(base) = k.strip_suffix(".$") {
                    let Value::String(s) = x else {
                        return Err(invalid(
                            Some(state),
                            &format!("{field}.{k}"),
                            "the value of a field ending in '.$' must be a string",
                        ));
                    };
                    let t = if is_intrinsic(s) {
                        Template::Intrinsic {
                            call: Call::parse(s).map_err(|e| {
                                invalid(Some(state), &format!("{field}.{k}"), e.to_string())
                            })?,
                            field: k.clone(),
                        }
                    } else {
                        Template::Path {
                            path: JsonPath::parse(s).map_err(|e| {
                                invalid(Some(state), &format!("{field}.{k}"), e.to_string())
                            })?,
                            field: k.clone(),
                        }
                    };
                    members.push((base.to_string(), t));
                } else {
                    members.push((
                        k.clone(),
                        compile_template(x, state, &format!("{field}.{k}"))?,
                    ));
                }
            }
            Ok(Template::Object(members))
        }
        Value::Array(a) => Ok(Template::Array(
            a.iter()
                .enumerate()
                .map(|(i, x)| compile_template(x, state, &format!("{field}[{i}]")))
                .collect::<R<_>>()?,
        )),
        other => Ok(Template::Literal(other.clone())),
    }
}

const COMMON: &[&str] = &["Type", "Comment", "QueryLanguage"];

fn allowed(c: &Ctx<'_>, fields: &[&str]) -> R<()> {
    for k in c.obj.keys() {
        if !COMMON.contains(&k.as_str()) && !fields.contains(&k.as_str()) {
            return Err(c.err(
                k,
                format!("field '{k}' is not supported by this state type"),
            ));
        }
    }
    Ok(())
}

fn state(name: &str, obj: &Map<String, Value>) -> R<State> {
    let c = Ctx { name, obj };
    let ty = c.str("Type")?.ok_or_else(|| c.err("Type", "missing"))?;
    let transition = transition(&c, &ty)?;
    let kind = match ty.as_str() {
        "Pass" => pass_state(&c)?,
        "Task" => task_state(&c)?,
        "Choice" => choice_state(&c)?,
        "Wait" => wait_state(&c)?,
        "Succeed" => {
            allowed(&c, &["InputPath", "OutputPath"])?;
            StateKind::Succeed
        }
        "Fail" => {
            allowed(&c, &["Error", "ErrorPath", "Cause", "CausePath"])?;
            StateKind::Fail {
                error: c.str_or_path("Error", "ErrorPath")?,
                cause: c.str_or_path("Cause", "CausePath")?,
            }
        }
        "Parallel" => parallel_state(&c)?,
        "Map" => map_state(&c)?,
        other => return Err(c.err("Type", format!("unknown state type '{other}'"))),
    };
    // A Fail state has neither field (`allowed` refused them), so both stay at their default.
    Ok(State {
        name: name.to_string(),
        input_path: c.path_field("InputPath")?,
        output_path: c.path_field("OutputPath")?,
        transition,
        assign: c.template("Assign")?,
        kind,
        uses_context: Value::Object(obj.clone()).to_string().contains("$$"),
    })
}

/// `Next` / `End`; Succeed, Fail and Choice end (or branch) on their own and may have neither.
fn transition(c: &Ctx<'_>, ty: &str) -> R<Transition> {
    if matches!(ty, "Succeed" | "Fail" | "Choice") {
        if c.get("Next").is_some() || c.get("End").is_some() {
            return Err(c.err("Next", format!("a {ty} state cannot have Next or End")));
        }
        return Ok(Transition::End);
    }
    match (c.str("Next")?, c.get("End")) {
        (Some(_), Some(_)) => Err(c.err("Next", "Next and End are mutually exclusive")),
        (Some(n), None) => Ok(Transition::Next(n)),
        (None, Some(Value::Bool(true))) => Ok(Transition::End),
        (None, Some(_)) => Err(c.err("End", "must be true")),
        (None, None) => Err(c.err("Next", "a state needs either Next or End")),
    }
}

/// The fields every state that moves on with `Next`/`End` may have.
const FLOW_FIELDS: [&str; 5] = ["InputPath", "OutputPath", "Next", "End", "Assign"];

/// `FLOW_FIELDS` and the state type's own fields.
fn allowed_with_flow(c: &Ctx<'_>, own: &[&str]) -> R<()> {
    allowed(c, &[&FLOW_FIELDS[..], own].concat())
}

fn pass_state(c: &Ctx<'_>) -> R<StateKind> {
    allowed_with_flow(c, &["Result", "ResultPath", "Parameters"])?;
    Ok(StateKind::Pass {
        result: c.get("Result").cloned(),
        io: ResultHandling {
            parameters: c.template("Parameters")?,
            result_path: c.result_path(c.get("ResultPath"), "ResultPath")?,
            ..Default::default()
        },
    })
}

fn task_state(c: &Ctx<'_>) -> R<StateKind> {
    allowed_with_flow(
        c,
        &[
            "Resource",
            "Parameters",
            "ResultSelector",
            "ResultPath",
            "Retry",
            "Catch",
            "TimeoutSeconds",
            "TimeoutSecondsPath",
            "HeartbeatSeconds",
            "HeartbeatSecondsPath",
            "Credentials",
        ],
    )?;
    let resource = c
        .str("Resource")?
        .ok_or_else(|| c.err("Resource", "missing"))?;
    let timeout = c.int_or_path("TimeoutSeconds", "TimeoutSecondsPath", 1..=MAX_SECONDS)?;
    let heartbeat = c.int_or_path("HeartbeatSeconds", "HeartbeatSecondsPath", 1..=MAX_SECONDS)?;
    if let (Some(NumOrPath::Literal(h)), Some(NumOrPath::Literal(t))) = (&heartbeat, &timeout)
        && h >= t
    {
        return Err(c.err("HeartbeatSeconds", "must be smaller than TimeoutSeconds"));
    }
    Ok(StateKind::Task(Box::new(TaskState {
        resource,
        io: io_handling(c, "Parameters")?,
        timeout,
        heartbeat,
    })))
}

fn choice_state(c: &Ctx<'_>) -> R<StateKind> {
    allowed(
        c,
        &["InputPath", "OutputPath", "Choices", "Default", "Assign"],
    )?;
    let arr = c
        .get("Choices")
        .and_then(Value::as_array)
        .ok_or_else(|| c.err("Choices", "missing or not an array"))?;
    if arr.is_empty() {
        return Err(c.err("Choices", "must not be empty"));
    }
    let mut choices = Vec::new();
    for (i, r) in arr.iter().enumerate() {
        let field = format!("Choices[{i}]");
        let ro = r
            .as_object()
            .ok_or_else(|| c.err(&field, "must be an object"))?;
        let next = ro
            .get("Next")
            .and_then(Value::as_str)
            .ok_or_else(|| c.err(&format!("{field}.Next"), "missing"))?
            .to_string();
        let assign = match ro.get("Assign") {
            Some(a) => Some(compile_template(a, c.name, &format!("{field}.Assign"))?),
            None => None,
        };
        choices.push(Choice {
            rule: rule(c, ro, &field)?,
            next,
            assign,
        });
    }
    Ok(StateKind::Choice {
        choices,
        default: c.str("Default")?,
    })
}

fn wait_state(c: &Ctx<'_>) -> R<StateKind> {
    const HOW: [&str; 4] = ["Seconds", "SecondsPath", "Timestamp", "TimestampPath"];
    allowed_with_flow(c, &HOW)?;
    let given: Vec<&str> = HOW.into_iter().filter(|f| c.get(f).is_some()).collect();
    if given.len() != 1 {
        return Err(c.err(
            "Seconds",
            "exactly one of Seconds, SecondsPath, Timestamp, TimestampPath is required",
        ));
    }
    Ok(StateKind::Wait(match given[0] {
        "Seconds" => {
            let v = c.get("Seconds").unwrap_or(&Value::Null);
            WaitFor::Seconds(c.integer("Seconds", v, 0..=MAX_SECONDS)? as f64)
        }
        "SecondsPath" => WaitFor::SecondsPath(
            c.path("SecondsPath")?
                .ok_or_else(|| c.err("SecondsPath", "missing"))?,
        ),
        "Timestamp" => {
            let t = c.str("Timestamp")?.unwrap_or_default();
            if crate::timestamp::parse(&t).is_none() {
                return Err(c.err("Timestamp", format!("'{t}' is not an ISO-8601 timestamp")));
            }
            WaitFor::Timestamp(t)
        }
        _ => WaitFor::TimestampPath(
            c.path("TimestampPath")?
                .ok_or_else(|| c.err("TimestampPath", "missing"))?,
        ),
    }))
}

fn parallel_state(c: &Ctx<'_>) -> R<StateKind> {
    allowed_with_flow(
        c,
        &[
            "Branches",
            "Parameters",
            "ResultSelector",
            "ResultPath",
            "Retry",
            "Catch",
        ],
    )?;
    let arr = c
        .get("Branches")
        .and_then(Value::as_array)
        .ok_or_else(|| c.err("Branches", "missing or not an array"))?;
    let mut branches = Vec::new();
    for b in arr {
        let bo = b
            .as_object()
            .ok_or_else(|| c.err("Branches", "a branch must be an object"))?;
        branches.push(machine(bo, Some(c.name))?);
    }
    Ok(StateKind::Parallel {
        branches,
        io: io_handling(c, "Parameters")?,
    })
}

fn map_state(c: &Ctx<'_>) -> R<StateKind> {
    allowed_with_flow(
        c,
        &[
            "Iterator",
            "ItemProcessor",
            "ItemsPath",
            "ItemSelector",
            "Parameters",
            "MaxConcurrency",
            "MaxConcurrencyPath",
            "ResultSelector",
            "ResultPath",
            "Retry",
            "Catch",
            "ToleratedFailureCount",
            "ToleratedFailureCountPath",
            "ToleratedFailurePercentage",
            "ToleratedFailurePercentagePath",
            "Label",
            "ItemBatcher",
            "ItemReader",
            "ResultWriter",
        ],
    )?;
    for unsupported in ["ItemReader", "ResultWriter", "ItemBatcher"] {
        if c.get(unsupported).is_some() {
            return Err(c.err(unsupported, "is not supported by the local engine"));
        }
    }
    let (pfield, pv) = match (c.get("ItemProcessor"), c.get("Iterator")) {
        (Some(p), None) => ("ItemProcessor", p),
        (None, Some(p)) => ("Iterator", p),
        _ => {
            return Err(c.err(
                "ItemProcessor",
                "exactly one of ItemProcessor or Iterator is required",
            ));
        }
    };
    let po = pv
        .as_object()
        .ok_or_else(|| c.err(pfield, "must be an object"))?;
    let distributed = po
        .get("ProcessorConfig")
        .and_then(|p| p.get("Mode"))
        .and_then(Value::as_str)
        == Some("DISTRIBUTED");
    if c.get("ItemSelector").is_some() && c.get("Parameters").is_some() {
        return Err(c.err(
            "ItemSelector",
            "ItemSelector and Parameters are mutually exclusive",
        ));
    }
    let sel_field = if c.get("ItemSelector").is_some() {
        "ItemSelector"
    } else {
        "Parameters"
    };
    Ok(StateKind::Map(Box::new(MapState {
        processor: Box::new(machine(po, Some(c.name))?),
        distributed,
        items_path: c.path("ItemsPath")?,
        item_selector: c.template(sel_field)?,
        max_concurrency: c.int_or_path(
            "MaxConcurrency",
            "MaxConcurrencyPath",
            0..=MAX_CONCURRENCY,
        )?,
        tolerated_failure_count: c.int_or_path(
            "ToleratedFailureCount",
            "ToleratedFailureCountPath",
            0..=u64::MAX,
        )?,
        tolerated_failure_percentage: tolerated_percentage(c)?,
        io: io_handling(c, "")?,
    })))
}

/// `ToleratedFailurePercentage` (a number from 0 to 100) or its `...Path`.
fn tolerated_percentage(c: &Ctx<'_>) -> R<Option<NumOrPath>> {
    const F: &str = "ToleratedFailurePercentage";
    match (c.get(F), c.get("ToleratedFailurePercentagePath")) {
        (Some(_), Some(_)) => Err(c.err(
            F,
            "ToleratedFailurePercentage and ToleratedFailurePercentagePath are mutually exclusive",
        )),
        (Some(v), None) => match v.as_f64() {
            Some(p) if (0.0..=100.0).contains(&p) => Ok(Some(NumOrPath::Literal(p))),
            _ => Err(c.err(F, "must be a number from 0 to 100")),
        },
        (None, Some(_)) => Ok(c
            .path("ToleratedFailurePercentagePath")?
            .map(NumOrPath::Path)),
        (None, None) => Ok(None),
    }
}

fn io_handling(c: &Ctx<'_>, params_field: &str) -> R<ResultHandling> {
    Ok(ResultHandling {
        parameters: if params_field.is_empty() {
            None
        } else {
            c.template(params_field)?
        },
        result_selector: c.template("ResultSelector")?,
        result_path: c.result_path(c.get("ResultPath"), "ResultPath")?,
        retry: retriers(c)?,
        catch: catchers(c)?,
    })
}

fn error_equals(c: &Ctx<'_>, o: &Map<String, Value>, field: &str) -> R<Vec<String>> {
    let arr = o
        .get("ErrorEquals")
        .and_then(Value::as_array)
        .ok_or_else(|| c.err(&format!("{field}.ErrorEquals"), "missing or not an array"))?;
    let names: Vec<String> = arr
        .iter()
        .map(|e| {
            e.as_str()
                .map(str::to_string)
                .ok_or_else(|| c.err(&format!("{field}.ErrorEquals"), "must contain strings"))
        })
        .collect::<R<_>>()?;
    if names.is_empty() {
        return Err(c.err(&format!("{field}.ErrorEquals"), "must not be empty"));
    }
    if names.iter().any(|n| n == "States.ALL") && names.len() > 1 {
        return Err(c.err(
            &format!("{field}.ErrorEquals"),
            "States.ALL must appear alone",
        ));
    }
    Ok(names)
}

fn retriers(c: &Ctx<'_>) -> R<Vec<Retrier>> {
    let Some(v) = c.get("Retry") else {
        return Ok(Vec::new());
    };
    let arr = v
        .as_array()
        .ok_or_else(|| c.err("Retry", "must be an array"))?;
    let mut out = Vec::new();
    for (i, r) in arr.iter().enumerate() {
        let field = format!("Retry[{i}]");
        let o = r
            .as_object()
            .ok_or_else(|| c.err(&field, "must be an object"))?;
        let int = |k: &str, range: RangeInclusive<u64>, default: u64| -> R<u64> {
            o.get(k).map_or(Ok(default), |v| {
                c.integer(&format!("{field}.{k}"), v, range)
            })
        };
        let interval = int("IntervalSeconds", 1..=MAX_SECONDS, 1)?;
        let max_attempts = int("MaxAttempts", 0..=MAX_SECONDS, 3)?;
        let backoff = match o.get("BackoffRate") {
            None => 2.0,
            Some(v) => v
                .as_f64()
                .filter(|b| *b >= 1.0)
                .ok_or_else(|| c.err(&format!("{field}.BackoffRate"), "must be at least 1.0"))?,
        };
        let max_delay = match o.get("MaxDelaySeconds") {
            None => None,
            Some(_) => Some(int("MaxDelaySeconds", 1..=MAX_DELAY_SECONDS, 0)? as f64),
        };
        let full_jitter = match o.get("JitterStrategy").map(|j| j.as_str()) {
            None | Some(Some("NONE")) => false,
            Some(Some("FULL")) => true,
            _ => return Err(c.err(&format!("{field}.JitterStrategy"), "must be FULL or NONE")),
        };
        out.push(Retrier {
            error_equals: error_equals(c, o, &field)?,
            interval_seconds: interval as f64,
            // At most MAX_SECONDS, so it fits.
            max_attempts: max_attempts as u32,
            backoff_rate: backoff,
            max_delay_seconds: max_delay,
            full_jitter,
        });
    }
    Ok(out)
}

fn catchers(c: &Ctx<'_>) -> R<Vec<Catcher>> {
    let Some(v) = c.get("Catch") else {
        return Ok(Vec::new());
    };
    let arr = v
        .as_array()
        .ok_or_else(|| c.err("Catch", "must be an array"))?;
    let mut out = Vec::new();
    for (i, r) in arr.iter().enumerate() {
        let field = format!("Catch[{i}]");
        let o = r
            .as_object()
            .ok_or_else(|| c.err(&field, "must be an object"))?;
        let next = o
            .get("Next")
            .and_then(Value::as_str)
            .ok_or_else(|| c.err(&format!("{field}.Next"), "missing or not a string"))?
            .to_string();
        out.push(Catcher {
            error_equals: error_equals(c, o, &field)?,
            result_path: c
                .result_path(o.get("ResultPath"), &format!("{field}.ResultPath"))?
                .unwrap_or(ResultPathField::Default),
            next,
            assign: match o.get("Assign") {
                Some(a) => Some(compile_template(a, c.name, &format!("{field}.Assign"))?),
                None => None,
            },
        });
    }
    Ok(out)
}

const RELATIONS: [(&str, Relation); 5] = [
    ("Equals", Relation::Eq),
    ("LessThanEquals", Relation::Le),
    ("GreaterThanEquals", Relation::Ge),
    ("LessThan", Relation::Lt),
    ("GreaterThan", Relation::Gt),
];

fn rule(c: &Ctx<'_>, o: &Map<String, Value>, field: &str) -> R<Rule> {
    let sub_rules = |k: &str| -> R<Vec<Rule>> {
        let arr = o
            .get(k)
            .and_then(Value::as_array)
            .ok_or_else(|| c.err(&format!("{field}.{k}"), "must be an array"))?;
        arr.iter()
            .enumerate()
            .map(|(i, r)| {
                let f = format!("{field}.{k}[{i}]");
                let ro = r
                    .as_object()
                    .ok_or_else(|| c.err(&f, "must be an object"))?;
                rule(c, ro, &f)
            })
            .collect()
    };
    if o.contains_key("And") {
        return Ok(Rule::And(sub_rules("And")?));
    }
    if o.contains_key("Or") {
        return Ok(Rule::Or(sub_rules("Or")?));
    }
    if let Some(n) = o.get("Not") {
        let f = format!("{field}.Not");
        let no = n
            .as_object()
            .ok_or_else(|| c.err(&f, "must be an object"))?;
        return Ok(Rule::Not(Box::new(rule(c, no, &f)?)));
    }
    let variable = o
        .get("Variable")
        .and_then(Value::as_str)
        .ok_or_else(|| c.err(&format!("{field}.Variable"), "missing or not a string"))?;
    let variable = JsonPath::parse(variable)
        .map_err(|e| c.err(&format!("{field}.Variable"), e.to_string()))?;
    match o
        .iter()
        .find(|(k, _)| !matches!(k.as_str(), "Variable" | "Next" | "Comment" | "Assign"))
    {
        Some((k, v)) => operator(c, variable, k, v, &format!("{field}.{k}")),
        None => Err(c.err(field, "no comparison operator")),
    }
}

const TYPE_TESTS: [(&str, TypeTest); 6] = [
    ("IsNull", TypeTest::Null),
    ("IsPresent", TypeTest::Present),
    ("IsNumeric", TypeTest::Numeric),
    ("IsString", TypeTest::String),
    ("IsBoolean", TypeTest::Boolean),
    ("IsTimestamp", TypeTest::Timestamp),
];

/// One comparison of `variable`: operator `k` with operand `v` (at field `f`).
fn operator(c: &Ctx<'_>, variable: JsonPath, k: &str, v: &Value, f: &str) -> R<Rule> {
    if let Some((_, test)) = TYPE_TESTS.iter().find(|(n, _)| *n == k) {
        let expected = v.as_bool().ok_or_else(|| c.err(f, "must be a boolean"))?;
        return Ok(Rule::Test {
            variable,
            test: *test,
            expected,
        });
    }
    if k == "StringMatches" {
        let pattern = v.as_str().ok_or_else(|| c.err(f, "must be a string"))?;
        return Ok(Rule::Matches {
            variable,
            pattern: pattern.to_string(),
        });
    }
    let unknown = || c.err(f, format!("unknown comparison operator '{k}'"));
    let (kind, rest) = if let Some(r) = k.strip_prefix("String") {
        (CmpKind::String, r)
    } else if let Some(r) = k.strip_prefix("Numeric") {
        (CmpKind::Numeric, r)
    } else if let Some(r) = k.strip_prefix("Timestamp") {
        (CmpKind::Timestamp, r)
    } else if let Some(r) = k.strip_prefix("Boolean") {
        (CmpKind::Boolean, r)
    } else {
        return Err(unknown());
    };
    let (rest, is_path) = match rest.strip_suffix("Path") {
        Some(r) => (r, true),
        None => (rest, false),
    };
    let Some((_, relation)) = RELATIONS.iter().find(|(n, _)| *n == rest) else {
        return Err(unknown());
    };
    if kind == CmpKind::Boolean && *relation != Relation::Eq {
        return Err(unknown());
    }
    let operand = if is_path {
        let s = v
            .as_str()
            .ok_or_else(|| c.err(f, "must be a path string"))?;
        Operand::Path(JsonPath::parse(s).map_err(|e| c.err(f, e.to_string()))?)
    } else {
        let ok = match kind {
            CmpKind::String => v.is_string(),
            CmpKind::Numeric => v.is_number(),
            CmpKind::Boolean => v.is_boolean(),
            CmpKind::Timestamp => v
                .as_str()
                .is_some_and(|s| crate::timestamp::parse(s).is_some()),
        };
        if !ok {
            return Err(c.err(f, format!("the value of {k} has the wrong type")));
        }
        Operand::Literal(v.clone())
    };
    Ok(Rule::Compare {
        variable,
        kind,
        relation: *relation,
        operand,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn load(s: &str) -> R<StateMachine> {
        load_str(s, &HashMap::new())
    }

    #[test]
    fn loads_minimal() {
        let sm = load(r#"{"StartAt":"A","States":{"A":{"Type":"Pass","End":true}}}"#).unwrap();
        assert_eq!(sm.start_at, "A");
    }

    #[test]
    fn errors_name_state_and_field() {
        let e = load(r#"{"StartAt":"A","States":{"A":{"Type":"Pass","Next":"B"}}}"#).unwrap_err();
        let msg = e.to_string();
        assert!(
            msg.contains("state 'A'") && msg.contains("field 'Next'"),
            "{msg}"
        );
        let e = load(r#"{"StartAt":"A","States":{"A":{"Type":"Task","End":true}}}"#).unwrap_err();
        assert!(e.to_string().contains("field 'Resource'"));
        let e = load(
            r#"{"StartAt":"A","States":{"A":{"Type":"Pass","End":true,"ResultPath":"$.a[*]"}}}"#,
        )
        .unwrap_err();
        assert!(e.to_string().contains("ResultPath"));
        let e = load(r#"{"StartAt":"A","States":{"A":{"Type":"Bogus","End":true}}}"#).unwrap_err();
        assert!(e.to_string().contains("unknown state type"));
        assert!(load("not json").is_err());
        assert!(load("[]").is_err());
    }

    #[test]
    fn substitutions() {
        let mut subs = HashMap::new();
        subs.insert(
            "Fn".to_string(),
            "arn:aws:lambda:us-east-1:1:function:f".to_string(),
        );
        let sm = load_str(
            r#"{"StartAt":"A","States":{"A":{"Type":"Task","Resource":"${Fn}","End":true}}}"#,
            &subs,
        )
        .unwrap();
        let StateKind::Task(t) = &sm.states["A"].kind else {
            panic!()
        };
        assert_eq!(t.resource, "arn:aws:lambda:us-east-1:1:function:f");
        let e =
            load(r#"{"StartAt":"A","States":{"A":{"Type":"Task","Resource":"${Fn}","End":true}}}"#)
                .unwrap_err();
        assert!(matches!(e, LoadError::Substitution { .. }));
    }

    /// Every value AWS refuses when the state machine is created is refused at
    /// load, with the state and the field named.
    #[test]
    fn refuses_what_aws_refuses_at_load() {
        let task = |extra: Value| {
            let mut t = serde_json::json!({"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:1:function:f", "End": true});
            for (k, v) in extra.as_object().unwrap() {
                t[k] = v.clone();
            }
            serde_json::json!({"StartAt": "T", "States": {"T": t}}).to_string()
        };
        let retry = |r: Value| {
            let mut r = r;
            r["ErrorEquals"] = serde_json::json!(["States.ALL"]);
            task(serde_json::json!({"Retry": [r]}))
        };
        let map = |extra: Value| {
            let mut m = serde_json::json!({"Type": "Map", "End": true,
                "ItemProcessor": {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}});
            for (k, v) in extra.as_object().unwrap() {
                m[k] = v.clone();
            }
            serde_json::json!({"StartAt": "M", "States": {"M": m}}).to_string()
        };
        let wait = |secs: Value| {
            serde_json::json!({"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": secs, "End": true}}})
                .to_string()
        };
        let refused = [
            (
                retry(serde_json::json!({"IntervalSeconds": 1e20})),
                "Retry[0].IntervalSeconds",
            ),
            (
                retry(serde_json::json!({"IntervalSeconds": 0})),
                "Retry[0].IntervalSeconds",
            ),
            (
                retry(serde_json::json!({"IntervalSeconds": 100_000_000})),
                "Retry[0].IntervalSeconds",
            ),
            (
                retry(serde_json::json!({"MaxAttempts": 1e300})),
                "Retry[0].MaxAttempts",
            ),
            (
                retry(serde_json::json!({"MaxAttempts": -1})),
                "Retry[0].MaxAttempts",
            ),
            (
                retry(serde_json::json!({"MaxAttempts": 99.5})),
                "Retry[0].MaxAttempts",
            ),
            (
                retry(serde_json::json!({"BackoffRate": 0.5})),
                "Retry[0].BackoffRate",
            ),
            (
                retry(serde_json::json!({"MaxDelaySeconds": 0})),
                "Retry[0].MaxDelaySeconds",
            ),
            (
                retry(serde_json::json!({"MaxDelaySeconds": 3.5})),
                "Retry[0].MaxDelaySeconds",
            ),
            (
                retry(serde_json::json!({"MaxDelaySeconds": 31_622_401})),
                "Retry[0].MaxDelaySeconds",
            ),
            (
                task(serde_json::json!({"TimeoutSeconds": 100_000_000})),
                "TimeoutSeconds",
            ),
            (
                task(serde_json::json!({"HeartbeatSeconds": 0})),
                "HeartbeatSeconds",
            ),
            (
                task(serde_json::json!({"HeartbeatSeconds": 1.5})),
                "HeartbeatSeconds",
            ),
            (
                map(serde_json::json!({"MaxConcurrency": -1})),
                "MaxConcurrency",
            ),
            (
                map(serde_json::json!({"MaxConcurrency": 1.5})),
                "MaxConcurrency",
            ),
            (
                map(serde_json::json!({"ToleratedFailureCount": -1})),
                "ToleratedFailureCount",
            ),
            (
                map(serde_json::json!({"ToleratedFailurePercentage": 101})),
                "ToleratedFailurePercentage",
            ),
            (wait(serde_json::json!(1e20)), "Seconds"),
            (wait(serde_json::json!(1.5)), "Seconds"),
        ];
        for (def, field) in refused {
            let e = load(&def).expect_err(&def).to_string();
            assert!(e.contains(&format!("field '{field}'")), "{def}: {e}");
        }
        let accepted = [
            retry(
                serde_json::json!({"IntervalSeconds": 99_999_999, "MaxAttempts": 0, "BackoffRate": 1, "MaxDelaySeconds": 31_622_400}),
            ),
            task(serde_json::json!({"TimeoutSeconds": 99_999_999, "HeartbeatSeconds": 1})),
            map(
                serde_json::json!({"MaxConcurrency": 0, "ToleratedFailureCount": 0, "ToleratedFailurePercentage": 100}),
            ),
            wait(serde_json::json!(0)),
        ];
        for def in accepted {
            assert!(load(&def).is_ok(), "{def}");
        }
    }
}
