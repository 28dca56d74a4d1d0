//! Invocations as the Lambda service makes them for its callers. A caller is authorised first, as
//! Lambda does: a role (the state machine's) by its identity policies, a service (S3, EventBridge,
//! API Gateway) by the function's resource policy (`AWS::Lambda::Permission`) with the source's
//! ARN and account. Synchronous invocations answer the function's result or error; asynchronous
//! ones (S3 notifications, EventBridge targets) are retried as the function's
//! `EventInvokeConfig` says (Lambda's defaults otherwise: two retries, one and two minutes apart),
//! and a failure that is never taken is logged, as Lambda logs it on AWS, never dropped in silence.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use imagegen_local::lambda::{InvokeError, LocalFunction};
use serde_json::Value;

use crate::iam::{Authorizer, Principal};
use crate::operations::Operation;
use crate::plan::Plan;

/// Lambda's waits between the attempts of an asynchronous invocation (Lambda developer guide,
/// "Error handling and automatic retries": about one minute, then two).
const ASYNC_RETRY_DELAYS: [Duration; 2] = [Duration::from_secs(60), Duration::from_secs(120)];

/// How a function is retried when invoked asynchronously.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AsyncSettings {
    pub maximum_retry_attempts: u64,
}

impl Default for AsyncSettings {
    /// Lambda's: two retries.
    fn default() -> Self {
        Self {
            maximum_retry_attempts: 2,
        }
    }
}

/// The functions' processes, by ARN, and who may invoke them.
#[derive(Debug)]
pub struct Invoker {
    functions: BTreeMap<String, Arc<LocalFunction>>,
    /// A function's name, for callers that name it so (a queue mapping's `FunctionName`).
    names: BTreeMap<String, String>,
    retries: BTreeMap<String, AsyncSettings>,
    iam: Authorizer,
}

/// What became of an asynchronous invocation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivered {
    /// The function ran and returned.
    Ran,
    /// Lambda refused the caller, or every attempt failed: logged, as Lambda would.
    Failed(String),
}

impl Invoker {
    pub fn new(
        plan: &Plan,
        functions: BTreeMap<String, Arc<LocalFunction>>,
        iam: Authorizer,
    ) -> Self {
        let names = plan
            .functions
            .iter()
            .map(|f| (f.name.clone(), f.arn.clone()))
            .collect();
        let retries = plan
            .async_invokes
            .iter()
            .filter_map(|a| {
                let function = super::function_by(plan, &a.function)?;
                Some((
                    function.arn.clone(),
                    AsyncSettings {
                        maximum_retry_attempts: a.maximum_retry_attempts,
                    },
                ))
            })
            .collect();
        Self {
            functions,
            names,
            retries,
            iam,
        }
    }

    fn function(&self, name_or_arn: &str) -> Result<&Arc<LocalFunction>, InvokeError> {
        let arn = self
            .names
            .get(name_or_arn)
            .map_or(name_or_arn, String::as_str);
        self.functions.get(arn).ok_or_else(|| InvokeError {
            error_type: "ResourceNotFoundException".to_owned(),
            message: format!("Function not found: {name_or_arn}"),
        })
    }

    fn denied(&self, principal: &Principal, function: &str) -> Result<(), InvokeError> {
        let arn = self.function(function)?.spec().arn.clone();
        let op = Operation::On {
            operation: "lambda:Invoke",
            arn,
        };
        match self.iam.authorize(principal, &op.requirements(), true) {
            Ok(None) => Ok(()),
            Ok(Some(denial)) => Err(InvokeError {
                error_type: "AccessDeniedException".to_owned(),
                message: denial.message,
            }),
            Err(e) => Err(InvokeError {
                error_type: "AccessDeniedException".to_owned(),
                message: e.to_string(),
            }),
        }
    }

    /// A synchronous invocation by a role of the stack (the state machine's): its identity
    /// policies must allow `lambda:InvokeFunction`. Step Functions names Lambda's refusals
    /// `Lambda.<exception>`, which the definition's Retry and Catch see.
    pub async fn invoke_as_role(
        &self,
        role_arn: &str,
        function: &str,
        payload: Value,
    ) -> Result<Value, InvokeError> {
        let role = Principal::state_machine_role(role_arn);
        self.denied(&role, function).map_err(|e| InvokeError {
            error_type: format!("Lambda.{}", e.error_type),
            message: e.message,
        })?;
        self.function(function)?.invoke(payload).await
    }

    /// A synchronous invocation by a service (API Gateway, the queue mapping's poller acting for
    /// the queue) for `source_arn`, admitted by the function's resource policy.
    pub async fn invoke_as_service(
        &self,
        service: &str,
        source_arn: &str,
        function: &str,
        payload: Value,
    ) -> Result<Value, InvokeError> {
        self.denied(&service_principal(service, source_arn), function)?;
        self.function(function)?.invoke(payload).await
    }

    /// A synchronous invocation the function's own configuration makes (a queue mapping polls
    /// with the function's role, which the plan's wiring checked): no resource policy applies.
    pub async fn invoke(&self, function: &str, payload: Value) -> Result<Value, InvokeError> {
        self.function(function)?.invoke(payload).await
    }

    /// An asynchronous invocation by `service` for `source_arn` (`what` names it in the log):
    /// admitted by the function's resource policy, then tried as Lambda tries events.
    pub async fn invoke_event(
        &self,
        service: &str,
        source_arn: &str,
        what: &str,
        function: &str,
        payload: Value,
    ) -> Delivered {
        if let Err(e) = self.denied(&service_principal(service, source_arn), function) {
            let why = format!("{service} could not invoke {function} for {what}: {e}");
            eprintln!("! {why}");
            return Delivered::Failed(why);
        }
        let Ok(process) = self.function(function) else {
            let why = format!("{what}: the function {function} is not in the stack");
            eprintln!("! {why}");
            return Delivered::Failed(why);
        };
        let settings = self
            .retries
            .get(&process.spec().arn)
            .copied()
            .unwrap_or_default();
        let mut last = String::new();
        for attempt in 0..=settings.maximum_retry_attempts {
            if attempt > 0 {
                let delay = ASYNC_RETRY_DELAYS
                    .get(usize::try_from(attempt - 1).unwrap_or(usize::MAX))
                    .copied()
                    .unwrap_or(ASYNC_RETRY_DELAYS[1]);
                tokio::time::sleep(delay).await;
            }
            match process.invoke(payload.clone()).await {
                Ok(_) => return Delivered::Ran,
                Err(e) => {
                    eprintln!(
                        "! {function} failed on {what} (attempt {} of {}): {e}",
                        attempt + 1,
                        settings.maximum_retry_attempts + 1
                    );
                    last = e.to_string();
                }
            }
        }
        Delivered::Failed(format!("{function} failed on {what}: {last}"))
    }

    /// Stop every process.
    pub async fn shutdown(&self) {
        for function in self.functions.values() {
            function.shutdown().await;
        }
    }
}

fn service_principal(service: &str, source_arn: &str) -> Principal {
    Principal::Service {
        name: service.to_owned(),
        source_arn: Some(source_arn.to_owned()),
    }
}
