//! A local EventBridge rule for Step Functions' "Execution Status Change" events.
//!
//! On AWS, Step Functions sends every change of an execution's status to EventBridge, and a rule
//! whose pattern names the state machine and the statuses invokes its target (here, the
//! notify-backstop function). Locally the Step Functions stand-in hands each status-change event to
//! its rules ([`crate::sfn::SfnService::add_rule`]); a rule matches the same fields the deployed
//! rule's pattern does and awaits its target, so the backstop has run by the time
//! `SfnService::wait` returns.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use serde_json::Value;

/// The `source` of Step Functions' events.
pub const SOURCE: &str = "aws.states";
/// The `detail-type` of its status-change events.
pub const DETAIL_TYPE: &str = "Step Functions Execution Status Change";

type Target = Arc<dyn Fn(Value) -> Pin<Box<dyn Future<Output = ()> + Send>> + Send + Sync>;

/// A rule: this state machine's status changes to one of `statuses` go to the target.
#[derive(Clone)]
pub struct StatusChangeRule {
    state_machine_arn: String,
    statuses: Vec<String>,
    target: Target,
}

impl std::fmt::Debug for StatusChangeRule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StatusChangeRule")
            .field("state_machine_arn", &self.state_machine_arn)
            .field("statuses", &self.statuses)
            .finish_non_exhaustive()
    }
}

impl StatusChangeRule {
    pub fn new<F, Fut>(state_machine_arn: impl Into<String>, statuses: &[&str], target: F) -> Self
    where
        F: Fn(Value) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        Self {
            state_machine_arn: state_machine_arn.into(),
            statuses: statuses.iter().map(|s| (*s).to_owned()).collect(),
            target: Arc::new(move |event| Box::pin(target(event))),
        }
    }

    /// Whether `event` matches the rule's pattern: source, detail-type, state machine, status.
    pub fn matches(&self, event: &Value) -> bool {
        let text = |pointer: &str| event.pointer(pointer).and_then(Value::as_str);
        text("/source") == Some(SOURCE)
            && text("/detail-type") == Some(DETAIL_TYPE)
            && text("/detail/stateMachineArn") == Some(self.state_machine_arn.as_str())
            && text("/detail/status").is_some_and(|s| self.statuses.iter().any(|x| x == s))
    }

    /// Invoke the target with `event` if it matches; returns whether it did.
    pub async fn deliver(&self, event: &Value) -> bool {
        if !self.matches(event) {
            return false;
        }
        (self.target)(event.clone()).await;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[tokio::test]
    async fn only_matching_events_reach_the_target() {
        let hits = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&hits);
        let rule = StatusChangeRule::new("arn:sm", &["FAILED", "ABORTED"], move |_| {
            let counter = Arc::clone(&counter);
            async move {
                counter.fetch_add(1, Ordering::SeqCst);
            }
        });
        let event = |machine: &str, status: &str| {
            json!({"source": SOURCE, "detail-type": DETAIL_TYPE,
                   "detail": {"stateMachineArn": machine, "status": status}})
        };
        assert!(rule.deliver(&event("arn:sm", "FAILED")).await);
        assert!(!rule.deliver(&event("arn:sm", "SUCCEEDED")).await);
        assert!(!rule.deliver(&event("arn:other", "FAILED")).await);
        assert!(!rule.deliver(&json!({"detail": {}})).await);
        assert_eq!(hits.load(Ordering::SeqCst), 1);
    }
}
