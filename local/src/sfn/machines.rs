//! `ListStateMachines` and `DescribeStateMachine`: the machines registered with the stand-in, all
//! Standard workflows.

use std::sync::PoisonError;

use serde_json::{Map, Value, json};

use super::api::{self, ApiError};
use super::names;
use super::{Machine, SfnService};

/// The role local machines claim to run as (nothing checks it locally).
pub fn local_role_arn() -> String {
    imagegen_statemachine::role_arn("imagegen-local")
}

fn list_item(arn: &str, machine: &Machine) -> Value {
    json!({
        "stateMachineArn": arn,
        "name": machine.name,
        "type": "STANDARD",
        "creationDate": api::epoch(&machine.created),
    })
}

impl SfnService {
    pub(super) fn list_state_machines(&self, body: &Map<String, Value>) -> Result<Value, ApiError> {
        let (max, offset) = api::page(body, 100)?;
        let machines = self.machines.read().unwrap_or_else(PoisonError::into_inner);
        let mut all: Vec<(&String, &std::sync::Arc<Machine>)> = machines.iter().collect();
        all.sort_by(|a, b| a.1.name.cmp(&b.1.name));
        let items: Vec<Value> = all
            .iter()
            .skip(offset)
            .take(max)
            .map(|(arn, m)| list_item(arn, m))
            .collect();
        let mut out = json!({"stateMachines": items});
        if let (Some(token), Value::Object(map)) =
            (api::next_token(offset, items.len(), all.len()), &mut out)
        {
            map.insert("nextToken".to_owned(), Value::String(token));
        }
        Ok(out)
    }

    pub(super) fn describe_state_machine(
        &self,
        body: &Map<String, Value>,
    ) -> Result<Value, ApiError> {
        let arn = api::required(body, "stateMachineArn")?;
        if names::parse_state_machine_arn(arn).is_none() {
            return Err(ApiError::new("InvalidArn", format!("Invalid Arn: '{arn}'")));
        }
        let machine = self.machine(arn).ok_or_else(|| {
            ApiError::new(
                "StateMachineDoesNotExist",
                format!("State Machine Does Not Exist: '{arn}'"),
            )
        })?;
        let mut out = list_item(arn, &machine);
        if let Value::Object(map) = &mut out {
            for (key, value) in [
                ("status", json!("ACTIVE")),
                (
                    "definition",
                    json!(machine.definition_text.clone().unwrap_or_default()),
                ),
                ("roleArn", json!(local_role_arn())),
                (
                    "loggingConfiguration",
                    json!({"level": "OFF", "includeExecutionData": false}),
                ),
                ("tracingConfiguration", json!({"enabled": false})),
            ] {
                map.insert(key.to_owned(), value);
            }
        }
        Ok(out)
    }
}
