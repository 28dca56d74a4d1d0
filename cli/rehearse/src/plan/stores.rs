//! The resources that hold state: buckets, topics with their subscriptions, tables, and the state
//! machine with its definition and substitutions.

use super::{PlanError, attribute, text};
use crate::assembly::Assembly;
use crate::template::Stack;
use serde_json::Value;
use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bucket {
    pub logical_id: String,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Topic {
    pub logical_id: String,
    pub name: String,
    pub arn: String,
    /// (protocol, endpoint) of each subscription the stack creates.
    pub subscriptions: Vec<(String, String)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    pub logical_id: String,
    pub name: String,
    pub arn: String,
    /// (attribute name, `HASH` or `RANGE`).
    pub key_schema: Vec<(String, String)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateMachine {
    pub logical_id: String,
    pub name: String,
    pub arn: String,
    pub role_arn: String,
    /// `STANDARD` or `EXPRESS`.
    pub kind: String,
    /// The definition as written, `${Name}` placeholders and all.
    pub definition: String,
    /// `DefinitionSubstitutions`, resolved.
    pub substitutions: BTreeMap<String, String>,
}

pub(super) fn buckets(stack: &Stack<'_>) -> Result<Vec<Bucket>, PlanError> {
    stack
        .created()
        .filter(|r| r.kind == "AWS::S3::Bucket")
        .map(|r| {
            Ok(Bucket {
                logical_id: r.logical_id.into(),
                name: stack.physical_name(r.logical_id)?,
            })
        })
        .collect()
}

pub(super) fn topics(stack: &Stack<'_>) -> Result<Vec<Topic>, PlanError> {
    let mut topics = Vec::new();
    for r in stack.created().filter(|r| r.kind == "AWS::SNS::Topic") {
        topics.push(Topic {
            logical_id: r.logical_id.into(),
            name: stack.physical_name(r.logical_id)?,
            arn: attribute(stack, r.logical_id, "TopicArn")?,
            subscriptions: Vec::new(),
        });
    }
    for r in stack
        .created()
        .filter(|r| r.kind == "AWS::SNS::Subscription")
    {
        let p = stack.properties(r.logical_id)?;
        let topic_arn = text(&p, "TopicArn").unwrap_or_default();
        let topic = topics
            .iter_mut()
            .find(|t| t.arn == topic_arn)
            .ok_or_else(|| PlanError::Resource {
                logical_id: r.logical_id.into(),
                why: format!("it subscribes to {topic_arn}, which is not a topic of the stack"),
            })?;
        topic.subscriptions.push((
            text(&p, "Protocol").unwrap_or_default(),
            text(&p, "Endpoint").unwrap_or_default(),
        ));
    }
    Ok(topics)
}

pub(super) fn tables(stack: &Stack<'_>) -> Result<Vec<Table>, PlanError> {
    let mut out = Vec::new();
    for r in stack.created().filter(|r| r.kind == "AWS::DynamoDB::Table") {
        let p = stack.properties(r.logical_id)?;
        out.push(Table {
            logical_id: r.logical_id.into(),
            name: stack.physical_name(r.logical_id)?,
            arn: attribute(stack, r.logical_id, "Arn")?,
            key_schema: p
                .get("KeySchema")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(Value::as_object)
                .map(|k| {
                    (
                        text(k, "AttributeName").unwrap_or_default(),
                        text(k, "KeyType").unwrap_or_default(),
                    )
                })
                .collect(),
        });
    }
    Ok(out)
}

pub(super) fn state_machines(
    assembly: &Assembly,
    stack: &Stack<'_>,
) -> Result<Vec<StateMachine>, PlanError> {
    let mut out = Vec::new();
    for r in stack
        .created()
        .filter(|r| r.kind == "AWS::StepFunctions::StateMachine")
    {
        let id = r.logical_id;
        let p = stack.properties(id)?;
        let substitutions = p
            .get("DefinitionSubstitutions")
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
        out.push(StateMachine {
            logical_id: id.into(),
            name: stack.physical_name(id)?,
            arn: attribute(stack, id, "Arn")?,
            role_arn: text(&p, "RoleArn").unwrap_or_default(),
            kind: text(&p, "StateMachineType").unwrap_or_else(|| "STANDARD".into()),
            definition: assembly.definition(stack, id)?,
            substitutions,
        });
    }
    Ok(out)
}
