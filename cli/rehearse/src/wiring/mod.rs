//! The wiring checked before anything runs: for each connection the plan makes between services,
//! the permission AWS checks when it is used. A bucket notification needs a Lambda permission
//! admitting S3 for that bucket (S3 validates it when the notification is configured, unless
//! `SkipDestinationValidation`); a rule's target, one admitting EventBridge for that rule; a queue
//! mapping, the function's role reading the queue (and decrypting it); the state machine, its role
//! invoking each function its definition names; an API route, a permission admitting API Gateway.
//! Each gap is a finding: a sentence naming the connection and what is missing.

use crate::iam::{Authorizer, IamError, Principal};
use crate::operations::Operation;
use crate::plan::Plan;

/// One connection that would fail when used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// The logical id of the resource that makes the connection.
    pub logical_id: String,
    pub sentence: String,
}

impl std::fmt::Display for Finding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.logical_id, self.sentence)
    }
}

/// Every gap in the plan's wiring, in plan order (empty when all connections are allowed).
pub fn check(plan: &Plan, iam: &Authorizer, region: &str) -> Result<Vec<Finding>, IamError> {
    let mut findings = Vec::new();
    let mut gap = |logical_id: &str, sentence: String| {
        findings.push(Finding {
            logical_id: logical_id.into(),
            sentence,
        });
    };
    let invoke = |arn: &str| Operation::On {
        operation: "lambda:Invoke",
        arn: function_arn(plan, arn),
    };
    let service = |name: &str, source: &str| Principal::Service {
        name: name.into(),
        source_arn: Some(source.into()),
    };
    let denied = |principal: &Principal, op: &Operation| -> Result<Option<String>, IamError> {
        Ok(iam
            .authorize(principal, &op.requirements(), true)?
            .map(|d| d.message))
    };

    for n in &plan.notifications {
        let s3 = service("s3.amazonaws.com", &format!("arn:aws:s3:::{}", n.bucket));
        if let Some(why) = denied(&s3, &invoke(&n.function_arn))? {
            gap(
                &n.bucket,
                format!(
                    "S3 cannot invoke {} for the bucket's notifications: {why}",
                    n.function_arn
                ),
            );
        }
    }
    for r in &plan.rules {
        let events = service("events.amazonaws.com", &r.arn);
        for t in r.targets.iter().filter(|t| t.arn.contains(":function:")) {
            if let Some(why) = denied(&events, &invoke(&t.arn))? {
                gap(
                    &r.logical_id,
                    format!("EventBridge cannot invoke target {}: {why}", t.id),
                );
            }
        }
    }
    for m in &plan.mappings {
        let arn = function_arn(plan, &m.function);
        let Some(function) = plan.function(&arn) else {
            gap(
                &m.logical_id,
                format!("its function {} is not one the rehearsal runs", m.function),
            );
            continue;
        };
        // Lambda's poller uses the function's role; AWS's name for its session is not known here.
        let role = Principal::Role {
            arn: function.role_arn.clone(),
            session: None,
        };
        let needs: Vec<Operation> = [
            "sqs:ReceiveMessage",
            "sqs:DeleteMessage",
            "sqs:GetQueueAttributes",
        ]
        .into_iter()
        .map(|operation| Operation::On {
            operation,
            arn: m.queue_arn.clone(),
        })
        .flat_map(|op| {
            // The poller reads in-process, not through the endpoint: its decrypting is checked here.
            let key_use = iam
                .encryption_key(&m.queue_arn)
                .map(|key| op.key_use(key, region))
                .unwrap_or_default();
            std::iter::once(op).chain(key_use)
        })
        .collect();
        for op in &needs {
            if let Some(why) = denied(&role, op)? {
                gap(
                    &m.logical_id,
                    format!("the queue mapping cannot poll {}: {why}", m.queue_arn),
                );
            }
        }
    }
    for machine in &plan.state_machines {
        let role = Principal::state_machine_role(&machine.role_arn);
        for (name, arn) in &machine.substitutions {
            if !arn.contains(":function:") {
                continue;
            }
            if let Some(why) = denied(&role, &invoke(arn))? {
                gap(
                    &machine.logical_id,
                    format!("the state machine cannot invoke ${{{name}}}: {why}"),
                );
            }
        }
    }
    for route in &plan.routes {
        let source = format!(
            "arn:aws:execute-api:{region}:{}:{}/{}/{}{}",
            imagegen_statemachine::ACCOUNT_ID,
            route.api_id,
            route.stage,
            route.method,
            route.path
        );
        let apigateway = service("apigateway.amazonaws.com", &source);
        if let Some(why) = denied(&apigateway, &invoke(&route.function_arn))? {
            gap(
                &route.api_id,
                format!(
                    "API Gateway cannot invoke the function of {} {}: {why}",
                    route.method, route.path
                ),
            );
        }
    }
    Ok(findings)
}

/// A function named by name or ARN, as its ARN in the plan.
fn function_arn(plan: &Plan, name_or_arn: &str) -> String {
    plan.functions
        .iter()
        .find(|f| f.arn == name_or_arn || f.name == name_or_arn)
        .map_or_else(|| name_or_arn.to_owned(), |f| f.arn.clone())
}
