//! What the twin must build, read from the resolved template: buckets, topics and subscriptions,
//! tables, the state machine (definition and substitutions), the functions (environment, timeout,
//! memory, concurrency, role, code, asynchronous retries), the queues, and the wiring between
//! services (bucket notifications, queue mappings, EventBridge rules, the REST API's routes). Each
//! is a plain struct with the template's defaults filled in, so the command that runs a rehearsal
//! never reads template JSON itself.

mod api;
mod environment;
mod events;
mod functions;
mod queues;
mod stores;

use crate::assembly::{Assembly, AssemblyError};
use crate::inventory::Inventory;
use crate::template::{Stack, TemplateError};
use serde_json::{Map, Value};

pub use api::Route;
pub use environment::{Launch, RESERVED};
pub use events::{AsyncInvoke, BucketNotification, QueueMapping, Rule, RuleTarget};
pub use functions::Function;
pub use queues::Queue;
pub use stores::{Bucket, StateMachine, Table, Topic};

/// The rehearsal's plan of one stack.
#[derive(Debug, Clone)]
pub struct Plan {
    pub buckets: Vec<Bucket>,
    pub topics: Vec<Topic>,
    pub tables: Vec<Table>,
    pub state_machines: Vec<StateMachine>,
    pub functions: Vec<Function>,
    pub async_invokes: Vec<AsyncInvoke>,
    pub queues: Vec<Queue>,
    pub notifications: Vec<BucketNotification>,
    pub mappings: Vec<QueueMapping>,
    pub rules: Vec<Rule>,
    pub routes: Vec<Route>,
}

/// Why a plan cannot be made: one sentence.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    #[error(transparent)]
    Template(#[from] TemplateError),
    #[error(transparent)]
    Assembly(#[from] AssemblyError),
    #[error("{logical_id}: {why}")]
    Resource { logical_id: String, why: String },
}

impl Plan {
    /// Reads every rehearsed resource the plan needs. Functions the inventory does not rehearse
    /// (the CDK's custom-resource provider) are left out.
    pub fn make(
        assembly: &Assembly,
        stack: &Stack<'_>,
        inventory: &Inventory,
    ) -> Result<Self, PlanError> {
        let rehearsed: Vec<&str> = inventory
            .rehearsed()
            .map(|e| e.logical_id.as_str())
            .collect();
        Ok(Self {
            buckets: stores::buckets(stack)?,
            topics: stores::topics(stack)?,
            tables: stores::tables(stack)?,
            state_machines: stores::state_machines(assembly, stack)?,
            functions: functions::read(assembly, stack, &rehearsed)?,
            async_invokes: events::async_invokes(stack)?,
            queues: queues::read(stack)?,
            notifications: events::notifications(stack)?,
            mappings: events::mappings(stack)?,
            rules: events::rules(stack)?,
            routes: api::routes(stack)?,
        })
    }

    /// The function with this ARN.
    pub fn function(&self, arn: &str) -> Option<&Function> {
        self.functions.iter().find(|f| f.arn == arn)
    }
}

fn text(p: &Map<String, Value>, key: &str) -> Option<String> {
    p.get(key).and_then(Value::as_str).map(str::to_owned)
}

/// A number property, written as a number or a string (`"Timeout": "30"` is valid CloudFormation).
fn number(p: &Map<String, Value>, key: &str) -> Option<u64> {
    match p.get(key)? {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

fn attribute(
    stack: &Stack<'_>,
    logical_id: &str,
    attribute: &str,
) -> Result<String, TemplateError> {
    Ok(stack
        .attribute(logical_id, attribute)?
        .as_str()
        .unwrap_or_default()
        .to_owned())
}

#[cfg(test)]
mod tests;
