//! Execution history: AWS's event types, ids and details.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

macro_rules! event_types {
    ($($name:ident),* $(,)?) => {
        /// A history event type, named as in the Step Functions API.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[allow(missing_docs)]
        pub enum EventType { $($name),* }

        impl EventType {
            /// The API name (`TaskStateEntered`, ...).
            pub fn as_str(&self) -> &'static str {
                match self { $(EventType::$name => stringify!($name)),* }
            }

            /// Looks up an API name.
            pub fn from_name(s: &str) -> Option<Self> {
                match s { $(stringify!($name) => Some(EventType::$name),)* _ => None }
            }
        }
    };
}

event_types!(
    ExecutionStarted,
    ExecutionSucceeded,
    ExecutionFailed,
    ExecutionTimedOut,
    ExecutionAborted,
    PassStateEntered,
    PassStateExited,
    TaskStateEntered,
    TaskStateExited,
    ChoiceStateEntered,
    ChoiceStateExited,
    WaitStateEntered,
    WaitStateExited,
    SucceedStateEntered,
    SucceedStateExited,
    FailStateEntered,
    ParallelStateEntered,
    ParallelStateStarted,
    ParallelStateSucceeded,
    ParallelStateFailed,
    ParallelStateExited,
    MapStateEntered,
    MapStateStarted,
    MapStateSucceeded,
    MapStateFailed,
    MapStateExited,
    MapIterationStarted,
    MapIterationSucceeded,
    MapIterationFailed,
    MapRunStarted,
    MapRunSucceeded,
    MapRunFailed,
    TaskScheduled,
    TaskStarted,
    TaskSucceeded,
    TaskFailed,
    TaskTimedOut,
    LambdaFunctionScheduled,
    LambdaFunctionStarted,
    LambdaFunctionSucceeded,
    LambdaFunctionFailed,
    LambdaFunctionTimedOut,
    EvaluationFailed,
);

impl std::fmt::Display for EventType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One history event, serialised like `GetExecutionHistory`'s events:
/// `{"id","previousEventId","timestamp","type","<kind>EventDetails":{...}}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HistoryEvent {
    /// 1-based event id.
    pub id: u64,
    /// The id of the event this one follows (0 for none).
    #[serde(rename = "previousEventId")]
    pub previous_event_id: u64,
    /// ISO-8601 time.
    pub timestamp: String,
    /// The event type.
    #[serde(rename = "type")]
    pub event_type: EventType,
    /// The details member(s), e.g. `stateEnteredEventDetails`.
    #[serde(flatten)]
    pub details: Map<String, Value>,
}

impl HistoryEvent {
    /// The details object (the first details member), if any.
    pub fn detail(&self) -> Option<&Value> {
        self.details.values().next()
    }
}

/// The name of the details member for an event type.
pub fn details_key(t: EventType) -> &'static str {
    match t {
        EventType::ExecutionStarted => "executionStartedEventDetails",
        EventType::ExecutionSucceeded => "executionSucceededEventDetails",
        EventType::ExecutionFailed => "executionFailedEventDetails",
        EventType::ExecutionTimedOut => "executionTimedOutEventDetails",
        EventType::ExecutionAborted => "executionAbortedEventDetails",
        EventType::PassStateEntered
        | EventType::TaskStateEntered
        | EventType::ChoiceStateEntered
        | EventType::WaitStateEntered
        | EventType::SucceedStateEntered
        | EventType::FailStateEntered
        | EventType::ParallelStateEntered
        | EventType::MapStateEntered => "stateEnteredEventDetails",
        EventType::PassStateExited
        | EventType::TaskStateExited
        | EventType::ChoiceStateExited
        | EventType::WaitStateExited
        | EventType::SucceedStateExited
        | EventType::ParallelStateExited
        | EventType::MapStateExited => "stateExitedEventDetails",
        EventType::MapStateStarted => "mapStateStartedEventDetails",
        EventType::MapIterationStarted => "mapIterationStartedEventDetails",
        EventType::MapIterationSucceeded => "mapIterationSucceededEventDetails",
        EventType::MapIterationFailed => "mapIterationFailedEventDetails",
        EventType::MapRunStarted => "mapRunStartedEventDetails",
        EventType::MapRunFailed => "mapRunFailedEventDetails",
        EventType::TaskScheduled => "taskScheduledEventDetails",
        EventType::TaskStarted => "taskStartedEventDetails",
        EventType::TaskSucceeded => "taskSucceededEventDetails",
        EventType::TaskFailed => "taskFailedEventDetails",
        EventType::TaskTimedOut => "taskTimedOutEventDetails",
        EventType::LambdaFunctionScheduled => "lambdaFunctionScheduledEventDetails",
        EventType::LambdaFunctionSucceeded => "lambdaFunctionSucceededEventDetails",
        EventType::LambdaFunctionFailed => "lambdaFunctionFailedEventDetails",
        EventType::LambdaFunctionTimedOut => "lambdaFunctionTimedOutEventDetails",
        EventType::EvaluationFailed => "evaluationFailedEventDetails",
        EventType::ParallelStateStarted
        | EventType::ParallelStateSucceeded
        | EventType::ParallelStateFailed
        | EventType::MapStateSucceeded
        | EventType::MapStateFailed
        | EventType::MapRunSucceeded
        | EventType::LambdaFunctionStarted => "",
    }
}

/// Whether the next event of the same thread names this one as its
/// `previousEventId`. AWS does not chain through iteration results or
/// `MapStateSucceeded`.
pub fn advances_cursor(t: EventType) -> bool {
    !matches!(
        t,
        EventType::MapIterationSucceeded
            | EventType::MapIterationFailed
            | EventType::MapStateSucceeded
            | EventType::MapRunSucceeded
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn names_round_trip_and_details_keys() {
        for t in [
            EventType::TaskStateEntered,
            EventType::LambdaFunctionTimedOut,
            EventType::MapRunStarted,
        ] {
            assert_eq!(EventType::from_name(t.as_str()), Some(t));
        }
        assert_eq!(EventType::from_name("Nope"), None);
        assert_eq!(
            details_key(EventType::WaitStateExited),
            "stateExitedEventDetails"
        );
        assert_eq!(details_key(EventType::LambdaFunctionStarted), "");
        assert!(!advances_cursor(EventType::MapIterationSucceeded));
        assert!(advances_cursor(EventType::TaskScheduled));
    }

    #[test]
    fn serializes_like_get_execution_history() {
        let mut details = Map::new();
        details.insert(
            "taskFailedEventDetails".into(),
            json!({"error": "E", "cause": "C"}),
        );
        let e = HistoryEvent {
            id: 5,
            previous_event_id: 4,
            timestamp: "2024-01-01T00:00:00.000Z".into(),
            event_type: EventType::TaskFailed,
            details,
        };
        let v = serde_json::to_value(&e).unwrap();
        assert_eq!(
            v,
            json!({"id": 5, "previousEventId": 4, "timestamp": "2024-01-01T00:00:00.000Z", "type": "TaskFailed",
                   "taskFailedEventDetails": {"error": "E", "cause": "C"}})
        );
        assert_eq!(e.detail(), Some(&json!({"error": "E", "cause": "C"})));
    }
}
