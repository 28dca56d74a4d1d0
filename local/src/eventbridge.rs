//! A local EventBridge rule for Step Functions' "Execution Status Change" events.
//!
//! On AWS, Step Functions sends every change of an execution's status to EventBridge, and a rule
//! whose pattern names the state machine and the statuses invokes its target (here, the
//! notify-backstop function). Locally the Step Functions stand-in hands each status-change event to
//! its rules ([`crate::sfn::SfnService::add_rule`]); a rule matches the same fields the deployed
//! rule's pattern does and awaits its target, so the backstop has run by the time
//! `SfnService::wait` returns. A target that fails (an `Err` with why) gets the event again until
//! it takes it (`sfn/ends.rs`): the backstop's failure email is not lost to a full disk.
//! `imagegen rehearse` gives a rule the template's own `EventPattern` instead ([`Pattern`]).

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use serde_json::Value;

/// The `source` of Step Functions' events.
pub const SOURCE: &str = "aws.states";
/// The `detail-type` of its status-change events.
pub const DETAIL_TYPE: &str = "Step Functions Execution Status Change";

/// What a target made of an event: `Err` with why when it must get it again.
pub type Delivered = Result<(), String>;

type Target = Arc<dyn Fn(Value) -> Pin<Box<dyn Future<Output = Delivered> + Send>> + Send + Sync>;

/// Which events a rule takes.
#[derive(Debug, Clone)]
enum Matcher {
    /// This state machine's changes to one of these statuses (what `imagegen run` wires).
    StatusChange {
        state_machine_arn: String,
        statuses: Vec<String>,
    },
    /// A template's own `EventPattern` (`imagegen rehearse`), checked by [`Pattern::new`].
    Pattern(Value),
}

/// A rule: the status changes its pattern matches go to the target.
#[derive(Clone)]
pub struct StatusChangeRule {
    matcher: Matcher,
    target: Target,
}

impl std::fmt::Debug for StatusChangeRule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StatusChangeRule")
            .field("matcher", &self.matcher)
            .finish_non_exhaustive()
    }
}

impl StatusChangeRule {
    pub fn new<F, Fut>(state_machine_arn: impl Into<String>, statuses: &[&str], target: F) -> Self
    where
        F: Fn(Value) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Delivered> + Send + 'static,
    {
        let matcher = Matcher::StatusChange {
            state_machine_arn: state_machine_arn.into(),
            statuses: statuses.iter().map(|s| (*s).to_owned()).collect(),
        };
        Self::with_matcher(matcher, target)
    }

    /// A rule with an event pattern as EventBridge reads it.
    pub fn with_pattern<F, Fut>(pattern: Pattern, target: F) -> Self
    where
        F: Fn(Value) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Delivered> + Send + 'static,
    {
        Self::with_matcher(Matcher::Pattern(pattern.0), target)
    }

    fn with_matcher<F, Fut>(matcher: Matcher, target: F) -> Self
    where
        F: Fn(Value) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Delivered> + Send + 'static,
    {
        Self {
            matcher,
            target: Arc::new(move |event| Box::pin(target(event))),
        }
    }

    /// Whether `event` matches the rule's pattern.
    pub fn matches(&self, event: &Value) -> bool {
        match &self.matcher {
            Matcher::StatusChange {
                state_machine_arn,
                statuses,
            } => {
                let text = |pointer: &str| event.pointer(pointer).and_then(Value::as_str);
                text("/source") == Some(SOURCE)
                    && text("/detail-type") == Some(DETAIL_TYPE)
                    && text("/detail/stateMachineArn") == Some(state_machine_arn.as_str())
                    && text("/detail/status").is_some_and(|s| statuses.iter().any(|x| x == s))
            }
            Matcher::Pattern(pattern) => pattern_matches(pattern, event),
        }
    }

    /// Invoke the target with `event` if it matches; returns whether it did, or why the target
    /// failed.
    pub async fn deliver(&self, event: &Value) -> Result<bool, String> {
        if !self.matches(event) {
            return Ok(false);
        }
        (self.target)(event.clone()).await?;
        Ok(true)
    }
}

/// An event pattern of exact values (EventBridge's "match values"): each field names either an
/// object (a pattern for that object in the event) or an array of values, one of which the event's
/// field must equal (or, for an array field, contain). Content filters (`prefix`, `anything-but`,
/// `numeric`, `exists`, ...) are refused by [`Pattern::new`] rather than read as never matching:
/// a rehearsal must not drop events the deployed rule would take.
#[derive(Debug, Clone, PartialEq)]
pub struct Pattern(Value);

impl Pattern {
    /// The pattern, or a sentence naming what this stand-in does not match.
    pub fn new(pattern: Value) -> Result<Self, String> {
        fn check(value: &Value, path: &str) -> Result<(), String> {
            match value {
                Value::Object(fields) => fields
                    .iter()
                    .try_for_each(|(k, v)| check(v, &format!("{path}/{k}"))),
                Value::Array(values) => match values.iter().find(|v| v.is_object() || v.is_array())
                {
                    Some(filter) => Err(format!(
                        "the event pattern's {path} uses the content filter {filter}, which the \
                         rehearsal does not match"
                    )),
                    None => Ok(()),
                },
                other => Err(format!(
                    "the event pattern's {path} is {other}, not an array of values or an object"
                )),
            }
        }
        if !pattern.is_object() {
            return Err("the event pattern is not a JSON object".to_owned());
        }
        check(&pattern, "")?;
        Ok(Self(pattern))
    }
}

fn pattern_matches(pattern: &Value, event: &Value) -> bool {
    match pattern {
        Value::Object(fields) => fields.iter().all(|(key, wanted)| {
            event
                .get(key)
                .is_some_and(|value| pattern_matches(wanted, value))
        }),
        Value::Array(allowed) => match event {
            Value::Array(values) => values.iter().any(|v| allowed.contains(v)),
            value => allowed.contains(value),
        },
        _ => false,
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
                Ok(())
            }
        });
        let event = |machine: &str, status: &str| {
            json!({"source": SOURCE, "detail-type": DETAIL_TYPE,
                   "detail": {"stateMachineArn": machine, "status": status}})
        };
        assert_eq!(rule.deliver(&event("arn:sm", "FAILED")).await, Ok(true));
        assert_eq!(rule.deliver(&event("arn:sm", "SUCCEEDED")).await, Ok(false));
        assert_eq!(rule.deliver(&event("arn:other", "FAILED")).await, Ok(false));
        assert_eq!(rule.deliver(&json!({"detail": {}})).await, Ok(false));
        assert_eq!(hits.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn a_template_pattern_matches_values_and_nested_objects() {
        let pattern = Pattern::new(json!({
            "source": [SOURCE],
            "detail": {"status": ["FAILED", "ABORTED"], "stateMachineArn": ["arn:sm"]}
        }))
        .unwrap();
        let rule = StatusChangeRule::with_pattern(pattern, |_| async { Ok(()) });
        let event = |status: &str| {
            json!({"source": SOURCE, "detail-type": DETAIL_TYPE,
                   "detail": {"stateMachineArn": "arn:sm", "status": status}})
        };
        assert!(rule.matches(&event("FAILED")));
        assert!(!rule.matches(&event("SUCCEEDED")));
        assert!(!rule.matches(&json!({"source": SOURCE})));
        let tags = StatusChangeRule::with_pattern(
            Pattern::new(json!({"resources": ["arn:a"]})).unwrap(),
            |_| async { Ok(()) },
        );
        assert!(tags.matches(&json!({"resources": ["arn:b", "arn:a"]})));
        assert!(!tags.matches(&json!({"resources": ["arn:b"]})));
    }

    #[test]
    fn content_filters_are_refused_not_ignored() {
        let refused = Pattern::new(json!({"detail": {"status": [{"prefix": "FAIL"}]}}));
        assert!(refused.unwrap_err().contains("/detail/status"));
        assert!(Pattern::new(json!({"source": "aws.states"})).is_err());
        assert!(Pattern::new(json!(["aws.states"])).is_err());
    }
}
