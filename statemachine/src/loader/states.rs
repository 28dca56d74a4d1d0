//! One function per state type; each reads the fields of the state's query language.

use super::choice::{condition, rule};
use super::context::Ctx;
use super::handling::{io_handling, tolerated_percentage};
use super::{MAX_CONCURRENCY, MAX_SECONDS, R, machine, query_language};
use crate::model::{
    Choice, ChoiceTest, MapState, NumOrPath, PathField, QueryLanguage, ResultHandling, State,
    StateKind, TaskState, Transition, WaitFor,
};
use serde_json::{Map, Value};
use std::cell::Cell;

/// A state, in its own `QueryLanguage` or else the machine's (`default`).
pub(super) fn state(name: &str, obj: &Map<String, Value>, default: QueryLanguage) -> R<State> {
    let language = match obj.get("QueryLanguage") {
        None => default,
        v => query_language(v, Some(name), "QueryLanguage")?,
    };
    if default == QueryLanguage::Jsonata && language == QueryLanguage::JsonPath {
        return Err(super::invalid(
            Some(name),
            "QueryLanguage",
            "a state cannot use JSONPath when the state machine's QueryLanguage is JSONata",
        ));
    }
    let c = Ctx {
        name,
        obj,
        language,
        reads_context: Cell::new(false),
    };
    let ty = c.str("Type")?.ok_or_else(|| c.err("Type", "missing"))?;
    let transition = transition(&c, &ty)?;
    let kind = match ty.as_str() {
        "Pass" => pass_state(&c)?,
        "Task" => task_state(&c)?,
        "Choice" => choice_state(&c)?,
        "Wait" => wait_state(&c)?,
        "Succeed" => {
            c.allowed(if c.jsonata() {
                &["Output"]
            } else {
                &["InputPath", "OutputPath"]
            })?;
            StateKind::Succeed
        }
        "Fail" => {
            c.allowed(if c.jsonata() {
                &["Error", "Cause"]
            } else {
                &["Error", "ErrorPath", "Cause", "CausePath"]
            })?;
            StateKind::Fail {
                error: c.str_or_path("Error", "ErrorPath")?,
                cause: c.str_or_path("Cause", "CausePath")?,
            }
        }
        "Parallel" => parallel_state(&c)?,
        "Map" => map_state(&c)?,
        other => return Err(c.err("Type", format!("unknown state type '{other}'"))),
    };
    // Fields a state type does not have were refused above, so they stay at their default.
    let (input_path, output_path) = if c.jsonata() {
        (PathField::Default, PathField::Default)
    } else {
        (c.path_field("InputPath")?, c.path_field("OutputPath")?)
    };
    let assign = c.template("Assign")?;
    let output = c.template("Output")?;
    let mentions_context = Value::Object(obj.clone()).to_string().contains("$$");
    Ok(State {
        name: name.to_string(),
        language,
        input_path,
        output_path,
        transition,
        assign,
        output,
        kind,
        uses_context: mentions_context || c.reads_context.get(),
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
const JSONPATH_FLOW: [&str; 5] = ["InputPath", "OutputPath", "Next", "End", "Assign"];
const JSONATA_FLOW: [&str; 4] = ["Output", "Next", "End", "Assign"];

/// Refuses any field but the flow fields of the state's language and `own`, the state
/// type's own fields in JSONPath (`jsonpath`) or JSONata (`jsonata`).
fn allowed_with_flow(c: &Ctx<'_>, jsonpath: &[&str], jsonata: &[&str]) -> R<()> {
    if c.jsonata() {
        c.allowed(&[&JSONATA_FLOW[..], jsonata].concat())
    } else {
        c.allowed(&[&JSONPATH_FLOW[..], jsonpath].concat())
    }
}

fn pass_state(c: &Ctx<'_>) -> R<StateKind> {
    allowed_with_flow(c, &["Result", "ResultPath", "Parameters"], &[])?;
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
        &[
            "Resource",
            "Arguments",
            "Retry",
            "Catch",
            "TimeoutSeconds",
            "HeartbeatSeconds",
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
        io: io_handling(c, true)?,
        timeout,
        heartbeat,
    })))
}

fn choice_state(c: &Ctx<'_>) -> R<StateKind> {
    if c.jsonata() {
        c.allowed(&["Choices", "Default", "Output", "Assign"])?;
    } else {
        c.allowed(&["InputPath", "OutputPath", "Choices", "Default", "Assign"])?;
    }
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
        let member = |k: &str| {
            ro.get(k)
                .map(|v| c.template_of(v, &format!("{field}.{k}")))
                .transpose()
        };
        choices.push(Choice {
            test: if c.jsonata() {
                condition(c, ro, &field)?
            } else {
                ChoiceTest::Rule(rule(c, ro, &field)?)
            },
            next,
            assign: member("Assign")?,
            output: member("Output")?,
        });
    }
    Ok(StateKind::Choice {
        choices,
        default: c.str("Default")?,
    })
}

fn wait_state(c: &Ctx<'_>) -> R<StateKind> {
    const HOW: [&str; 4] = ["Seconds", "SecondsPath", "Timestamp", "TimestampPath"];
    allowed_with_flow(c, &HOW, &["Seconds", "Timestamp"])?;
    let given: Vec<&str> = HOW.into_iter().filter(|f| c.get(f).is_some()).collect();
    if given.len() != 1 {
        let which = if c.jsonata() {
            "exactly one of Seconds or Timestamp is required"
        } else {
            "exactly one of Seconds, SecondsPath, Timestamp, TimestampPath is required"
        };
        return Err(c.err("Seconds", which));
    }
    let v = c.get(given[0]).unwrap_or(&Value::Null);
    Ok(StateKind::Wait(match given[0] {
        "Seconds" => match c.expression("Seconds", v)? {
            Some(e) => WaitFor::SecondsExpr(e),
            None => WaitFor::Seconds(c.integer("Seconds", v, 0..=MAX_SECONDS)? as f64),
        },
        "SecondsPath" => WaitFor::SecondsPath(
            c.path("SecondsPath")?
                .ok_or_else(|| c.err("SecondsPath", "missing"))?,
        ),
        "Timestamp" => match c.expression("Timestamp", v)? {
            Some(e) => WaitFor::TimestampExpr(e),
            None => {
                let t = c.str("Timestamp")?.unwrap_or_default();
                if crate::timestamp::parse(&t).is_none() {
                    return Err(c.err("Timestamp", format!("'{t}' is not an ISO-8601 timestamp")));
                }
                WaitFor::Timestamp(t)
            }
        },
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
        &["Branches", "Arguments", "Retry", "Catch"],
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
        branches.push(machine(bo, Some(c.name), c.language)?);
    }
    Ok(StateKind::Parallel {
        branches,
        io: io_handling(c, true)?,
    })
}

/// Map fields JSONPath and JSONata share.
const MAP_FIELDS: [&str; 10] = [
    "Iterator",
    "ItemProcessor",
    "ItemSelector",
    "MaxConcurrency",
    "Retry",
    "Catch",
    "Label",
    "ItemBatcher",
    "ItemReader",
    "ResultWriter",
];

fn map_state(c: &Ctx<'_>) -> R<StateKind> {
    allowed_with_flow(
        c,
        &[
            &MAP_FIELDS[..],
            &[
                "ItemsPath",
                "Parameters",
                "MaxConcurrencyPath",
                "ResultSelector",
                "ResultPath",
                "ToleratedFailureCount",
                "ToleratedFailureCountPath",
                "ToleratedFailurePercentage",
                "ToleratedFailurePercentagePath",
            ],
        ]
        .concat(),
        &[
            &MAP_FIELDS[..],
            &[
                "Items",
                "ToleratedFailureCount",
                "ToleratedFailurePercentage",
            ],
        ]
        .concat(),
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
    if let Some(items) = c.get("Items")
        && !items.is_array()
        && c.expression("Items", items)?.is_none()
    {
        return Err(c.err(
            "Items",
            "must be an array or a JSONata expression ({% ... %})",
        ));
    }
    let sel_field = if c.get("ItemSelector").is_some() {
        "ItemSelector"
    } else {
        "Parameters"
    };
    Ok(StateKind::Map(Box::new(MapState {
        processor: Box::new(machine(po, Some(c.name), c.language)?),
        distributed,
        items_path: c.path("ItemsPath")?,
        items: c.template("Items")?,
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
        io: io_handling(c, false)?,
    })))
}
