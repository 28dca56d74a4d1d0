//! The functions: what Lambda would run and with what (CloudFormation's defaults: a 3-second
//! timeout, 128 MB).

use super::environment::RESERVED;
use super::{PlanError, attribute, number, text};
use crate::assembly::{Assembly, CodeAsset};
use crate::template::Stack;
use serde_json::Value;
use std::collections::BTreeMap;

/// One function as Lambda would run it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Function {
    pub logical_id: String,
    pub name: String,
    pub arn: String,
    pub role_arn: String,
    pub handler: String,
    pub runtime: String,
    /// `arm64` or `x86_64` (Lambda's default).
    pub architecture: String,
    pub timeout_seconds: u64,
    pub memory_mb: u64,
    pub reserved_concurrency: Option<u64>,
    /// The template's variables, exactly.
    pub environment: BTreeMap<String, String>,
    /// The asset that holds its `bootstrap`.
    pub code: CodeAsset,
    /// `LoggingConfig`: its log group, `Text` or `JSON`, and the application log level.
    pub log_group: Option<String>,
    pub log_format: Option<String>,
    pub log_level: Option<String>,
}

pub(super) fn read(
    assembly: &Assembly,
    stack: &Stack<'_>,
    rehearsed: &[&str],
) -> Result<Vec<Function>, PlanError> {
    let mut out = Vec::new();
    for r in stack
        .created()
        .filter(|r| r.kind == "AWS::Lambda::Function")
    {
        if !rehearsed.contains(&r.logical_id) {
            continue;
        }
        let id = r.logical_id;
        let p = stack.properties(id)?;
        let environment = p
            .get("Environment")
            .and_then(|e| e.get("Variables"))
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
            .map(|(k, v)| {
                let v = match v {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                (k.clone(), v)
            })
            .collect();
        let reserved: Vec<&str> = RESERVED
            .iter()
            .copied()
            .filter(|name| environment_has(&p, name))
            .collect();
        if !reserved.is_empty() {
            return Err(PlanError::Resource {
                logical_id: id.into(),
                why: format!(
                    "its environment sets {}, which Lambda reserves (the deploy would fail)",
                    reserved.join(", ")
                ),
            });
        }
        let logging = p.get("LoggingConfig").and_then(Value::as_object);
        let log = |key: &str| logging.and_then(|l| text(l, key));
        out.push(Function {
            logical_id: id.into(),
            name: stack.physical_name(id)?,
            arn: attribute(stack, id, "Arn")?,
            role_arn: text(&p, "Role").unwrap_or_default(),
            handler: text(&p, "Handler").unwrap_or_default(),
            runtime: text(&p, "Runtime").unwrap_or_default(),
            architecture: p
                .get("Architectures")
                .and_then(|a| a.get(0))
                .and_then(Value::as_str)
                .unwrap_or("x86_64")
                .to_owned(),
            timeout_seconds: number(&p, "Timeout").unwrap_or(3),
            memory_mb: number(&p, "MemorySize").unwrap_or(128),
            reserved_concurrency: number(&p, "ReservedConcurrentExecutions"),
            environment,
            code: assembly.function_code(stack, id)?,
            log_group: log("LogGroup"),
            log_level: log("LogFormat")
                .filter(|f| f == "JSON")
                .and_then(|_| log("ApplicationLogLevel")),
            log_format: log("LogFormat"),
        });
    }
    Ok(out)
}

fn environment_has(p: &serde_json::Map<String, Value>, name: &str) -> bool {
    p.get("Environment")
        .and_then(|e| e.get("Variables"))
        .and_then(Value::as_object)
        .is_some_and(|v| v.contains_key(name))
}
