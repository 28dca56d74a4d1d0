//! The queues: SQS's defaults are a 30-second visibility timeout and four days' retention.

use super::{PlanError, attribute, number};
use crate::template::Stack;
use serde_json::Value;

/// One queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Queue {
    pub logical_id: String,
    pub name: String,
    pub arn: String,
    pub url: String,
    pub visibility_timeout_seconds: u64,
    pub retention_seconds: u64,
    pub delay_seconds: u64,
    /// The dead-letter queue's ARN and the receive count that moves a message there.
    pub redrive: Option<(String, u64)>,
}

pub(super) fn read(stack: &Stack<'_>) -> Result<Vec<Queue>, PlanError> {
    let mut out = Vec::new();
    for r in stack.created().filter(|r| r.kind == "AWS::SQS::Queue") {
        let id = r.logical_id;
        let p = stack.properties(id)?;
        let redrive = match p.get("RedrivePolicy") {
            None => None,
            Some(policy) => {
                // Written as an object, or as its JSON text.
                let policy = match policy {
                    Value::String(s) => serde_json::from_str(s).unwrap_or(Value::Null),
                    other => other.clone(),
                };
                let target = policy.get("deadLetterTargetArn").and_then(Value::as_str);
                let count = policy.get("maxReceiveCount").and_then(|c| match c {
                    Value::Number(n) => n.as_u64(),
                    Value::String(s) => s.parse().ok(),
                    _ => None,
                });
                match (target, count) {
                    (Some(t), Some(c)) => Some((t.to_owned(), c)),
                    _ => {
                        return Err(PlanError::Resource {
                            logical_id: id.into(),
                            why: "its RedrivePolicy needs deadLetterTargetArn and maxReceiveCount"
                                .into(),
                        });
                    }
                }
            }
        };
        out.push(Queue {
            logical_id: id.into(),
            name: stack.physical_name(id)?,
            arn: attribute(stack, id, "Arn")?,
            url: attribute(stack, id, "QueueUrl")?,
            visibility_timeout_seconds: number(&p, "VisibilityTimeout").unwrap_or(30),
            retention_seconds: number(&p, "MessageRetentionPeriod").unwrap_or(345_600),
            delay_seconds: number(&p, "DelaySeconds").unwrap_or(0),
            redrive,
        });
    }
    Ok(out)
}
