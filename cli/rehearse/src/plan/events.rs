//! The wiring that starts functions: S3 notifications (the CDK's `Custom::S3BucketNotifications`),
//! SQS event source mappings, and EventBridge rules.

use super::{PlanError, attribute, number, text};
use crate::template::Stack;
use serde_json::Value;

/// One `LambdaFunctionConfigurations` entry of a bucket's notifications.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BucketNotification {
    pub bucket: String,
    /// `s3:ObjectCreated:*`, ...
    pub events: Vec<String>,
    pub prefix: Option<String>,
    pub suffix: Option<String>,
    pub function_arn: String,
}

/// An SQS event source mapping (Lambda's defaults: batches of 10, no batching window).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueMapping {
    pub logical_id: String,
    pub queue_arn: String,
    /// The function's name or ARN, as the template gives it.
    pub function: String,
    pub batch_size: u64,
    pub batching_window_seconds: u64,
    pub report_batch_item_failures: bool,
    pub maximum_concurrency: Option<u64>,
    pub enabled: bool,
}

/// How Lambda retries an asynchronous invocation (S3's and EventBridge's) and where a failed
/// event goes (Lambda's defaults: 2 retries, 6 hours).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AsyncInvoke {
    pub logical_id: String,
    /// The function's name or ARN, as the template gives it.
    pub function: String,
    pub maximum_retry_attempts: u64,
    pub maximum_event_age_seconds: u64,
    /// The `OnFailure` destination's ARN (a queue, topic, function or bus).
    pub on_failure: Option<String>,
}

/// An EventBridge rule on the default bus.
#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    pub logical_id: String,
    pub name: String,
    pub arn: String,
    pub pattern: Value,
    pub enabled: bool,
    pub targets: Vec<RuleTarget>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RuleTarget {
    pub id: String,
    pub arn: String,
    /// A constant `Input` (JSON text), replacing the event.
    pub input: Option<String>,
    pub input_path: Option<String>,
    pub maximum_retry_attempts: Option<u64>,
    pub maximum_event_age_seconds: Option<u64>,
}

pub(super) fn notifications(stack: &Stack<'_>) -> Result<Vec<BucketNotification>, PlanError> {
    let mut out = Vec::new();
    for r in stack
        .created()
        .filter(|r| r.kind == "Custom::S3BucketNotifications")
    {
        let p = stack.properties(r.logical_id)?;
        let bucket = text(&p, "BucketName").unwrap_or_default();
        let configurations = p
            .get("NotificationConfiguration")
            .and_then(|c| c.get("LambdaFunctionConfigurations"))
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        for c in configurations {
            let rule = |name: &str| {
                c.pointer("/Filter/Key/FilterRules")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .find(|r| {
                        r.get("Name")
                            .and_then(Value::as_str)
                            .is_some_and(|n| n.eq_ignore_ascii_case(name))
                    })
                    .and_then(|r| r.get("Value"))
                    .and_then(Value::as_str)
                    .map(str::to_owned)
            };
            out.push(BucketNotification {
                bucket: bucket.clone(),
                events: c
                    .get("Events")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect(),
                prefix: rule("prefix"),
                suffix: rule("suffix"),
                function_arn: c
                    .get("LambdaFunctionArn")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned(),
            });
        }
    }
    Ok(out)
}

pub(super) fn mappings(stack: &Stack<'_>) -> Result<Vec<QueueMapping>, PlanError> {
    let mut out = Vec::new();
    for r in stack
        .created()
        .filter(|r| r.kind == "AWS::Lambda::EventSourceMapping")
    {
        let p = stack.properties(r.logical_id)?;
        out.push(QueueMapping {
            logical_id: r.logical_id.into(),
            queue_arn: text(&p, "EventSourceArn").unwrap_or_default(),
            function: text(&p, "FunctionName").unwrap_or_default(),
            batch_size: number(&p, "BatchSize").unwrap_or(10),
            batching_window_seconds: number(&p, "MaximumBatchingWindowInSeconds").unwrap_or(0),
            report_batch_item_failures: p
                .get("FunctionResponseTypes")
                .and_then(Value::as_array)
                .is_some_and(|t| t.iter().any(|t| t == "ReportBatchItemFailures")),
            maximum_concurrency: p
                .get("ScalingConfig")
                .and_then(Value::as_object)
                .and_then(|s| number(s, "MaximumConcurrency")),
            enabled: p.get("Enabled").and_then(Value::as_bool).unwrap_or(true),
        });
    }
    Ok(out)
}

pub(super) fn rules(stack: &Stack<'_>) -> Result<Vec<Rule>, PlanError> {
    let mut out = Vec::new();
    for r in stack.created().filter(|r| r.kind == "AWS::Events::Rule") {
        let id = r.logical_id;
        let p = stack.properties(id)?;
        let targets = p
            .get("Targets")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_object)
            .map(|t| {
                let retry = t.get("RetryPolicy").and_then(Value::as_object);
                RuleTarget {
                    id: text(t, "Id").unwrap_or_default(),
                    arn: text(t, "Arn").unwrap_or_default(),
                    input: text(t, "Input"),
                    input_path: text(t, "InputPath"),
                    maximum_retry_attempts: retry.and_then(|r| number(r, "MaximumRetryAttempts")),
                    maximum_event_age_seconds: retry
                        .and_then(|r| number(r, "MaximumEventAgeInSeconds")),
                }
            })
            .collect();
        out.push(Rule {
            logical_id: id.into(),
            name: stack.physical_name(id)?,
            arn: attribute(stack, id, "Arn")?,
            pattern: p.get("EventPattern").cloned().unwrap_or(Value::Null),
            enabled: text(&p, "State").is_none_or(|s| s == "ENABLED"),
            targets,
        });
    }
    Ok(out)
}

pub(super) fn async_invokes(stack: &Stack<'_>) -> Result<Vec<AsyncInvoke>, PlanError> {
    let mut out = Vec::new();
    for r in stack
        .created()
        .filter(|r| r.kind == "AWS::Lambda::EventInvokeConfig")
    {
        let p = stack.properties(r.logical_id)?;
        out.push(AsyncInvoke {
            logical_id: r.logical_id.into(),
            function: text(&p, "FunctionName").unwrap_or_default(),
            maximum_retry_attempts: number(&p, "MaximumRetryAttempts").unwrap_or(2),
            maximum_event_age_seconds: number(&p, "MaximumEventAgeInSeconds").unwrap_or(21_600),
            on_failure: p
                .get("DestinationConfig")
                .and_then(|d| d.pointer("/OnFailure/Destination"))
                .and_then(Value::as_str)
                .map(str::to_owned),
        });
    }
    Ok(out)
}
