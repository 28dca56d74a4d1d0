//! Task resources: the caller binds resource ARNs (or Lambda function names)
//! to in-process async handlers.

use crate::arn::{lambda_arn, lambda_name};
use crate::clock::BoxFuture;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;

/// A failed task: `error` is the Step Functions error name, `cause` its cause.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{error}: {}", cause.as_deref().unwrap_or(""))]
pub struct TaskError {
    /// The error name (a Lambda function's `errorType`).
    pub error: String,
    /// The cause.
    pub cause: Option<String>,
}

impl TaskError {
    /// An error with a name and a cause.
    pub fn new(error: impl Into<String>, cause: impl Into<String>) -> Self {
        TaskError {
            error: error.into(),
            cause: Some(cause.into()),
        }
    }

    /// An unhandled Lambda error as Step Functions reports it: the error is
    /// `error_type`, the cause is `{"errorMessage":..,"errorType":..}`.
    pub fn lambda(error_type: impl Into<String>, message: impl Into<String>) -> Self {
        let error_type = error_type.into();
        let cause = json!({"errorMessage": message.into(), "errorType": error_type}).to_string();
        TaskError {
            error: error_type,
            cause: Some(cause),
        }
    }
}

/// An in-process task implementation. Takes the task's effective input
/// (after InputPath and Parameters; for `lambda:invoke`, the `Payload`).
pub trait TaskHandler: Send + Sync {
    /// Runs the task.
    fn call(&self, input: Value) -> BoxFuture<'static, Result<Value, TaskError>>;
}

impl<F, Fut> TaskHandler for F
where
    F: Fn(Value) -> Fut + Send + Sync,
    Fut: Future<Output = Result<Value, TaskError>> + Send + 'static,
{
    fn call(&self, input: Value) -> BoxFuture<'static, Result<Value, TaskError>> {
        Box::pin(self(input))
    }
}

/// Resource ARN (or Lambda function name) to handler.
#[derive(Clone, Default)]
pub struct Registry {
    handlers: HashMap<String, Arc<dyn TaskHandler>>,
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut keys: Vec<&String> = self.handlers.keys().collect();
        keys.sort();
        f.debug_struct("Registry")
            .field("resources", &keys)
            .finish()
    }
}

impl Registry {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    /// Binds `resource` (an ARN, or a bare Lambda function name) to `handler`.
    pub fn register(
        &mut self,
        resource: impl Into<String>,
        handler: impl TaskHandler + 'static,
    ) -> &mut Self {
        self.handlers.insert(resource.into(), Arc::new(handler));
        self
    }

    /// Builder-style [`Registry::register`].
    pub fn with(
        mut self,
        resource: impl Into<String>,
        handler: impl TaskHandler + 'static,
    ) -> Self {
        self.register(resource, handler);
        self
    }

    /// Finds the handler of a resource: exact match first, then (for Lambda
    /// ARNs and names) the unqualified ARN and the bare function name.
    pub fn resolve(&self, resource: &str) -> Option<Arc<dyn TaskHandler>> {
        if let Some(h) = self.handlers.get(resource) {
            return Some(h.clone());
        }
        let arn = lambda_arn(resource);
        if let Some(h) = self.handlers.get(&arn) {
            return Some(h.clone());
        }
        self.handlers.get(lambda_name(resource)).cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arns_and_names_resolve_to_the_same_handler() {
        assert_eq!(
            lambda_arn("f"),
            "arn:aws:lambda:us-east-1:000000000000:function:f"
        );
        assert_eq!(
            lambda_arn("arn:aws:lambda:us-east-1:000000000000:function:f:$LATEST"),
            "arn:aws:lambda:us-east-1:000000000000:function:f"
        );
        assert_eq!(lambda_name("arn:aws:lambda:us-east-1:1:function:g"), "g");
        let reg = Registry::new().with("f", |v: Value| async move { Ok(v) });
        assert!(reg.resolve("f").is_some());
        assert!(
            reg.resolve("arn:aws:lambda:us-east-1:000000000000:function:f")
                .is_some()
        );
        assert!(
            reg.resolve("arn:aws:lambda:us-east-1:000000000000:function:f:live")
                .is_some()
        );
        assert!(reg.resolve("g").is_none());
    }

    #[test]
    fn lambda_errors_look_like_step_functions_reports_them() {
        let e = TaskError::lambda("ImageInvalid", "not a PNG");
        assert_eq!(e.error, "ImageInvalid");
        assert_eq!(
            e.cause.as_deref(),
            Some(r#"{"errorMessage":"not a PNG","errorType":"ImageInvalid"}"#)
        );
    }
}
