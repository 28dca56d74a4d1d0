//! How far an execution got, state by state, read from its history events one at a time: what
//! colours the graph (the page's first drawing and each server-sent event use the same fold), and
//! the history table's rows.

use std::collections::BTreeMap;

use imagegen_core::error::cause_message;
use imagegen_statemachine::{EventType, HistoryEvent};
use serde::Serialize;

use imagegen_local_pipeline::results::{detail_str, millis_between};

/// What a state of the graph shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum StateStatus {
    Running,
    Succeeded,
    /// It failed, and its Catch sent the execution on (or it failed and is being retried).
    Caught,
    Failed,
    Aborted,
}

impl StateStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Running => "running",
            Self::Succeeded => "succeeded",
            Self::Caught => "caught",
            Self::Failed => "failed",
            Self::Aborted => "aborted",
        }
    }
}

/// One state's new status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Change {
    pub state: String,
    pub status: StateStatus,
}

/// The fold.
#[derive(Debug, Clone, Default)]
pub struct Progress {
    statuses: BTreeMap<String, StateStatus>,
    /// The state entered last and not yet left.
    open: Option<String>,
    /// Whether the open state's last attempt failed (a Retry or a Catch comes next).
    open_failed: bool,
}

impl Progress {
    /// The fold over a whole history.
    pub fn of(history: &[HistoryEvent]) -> Self {
        let mut progress = Self::default();
        for event in history {
            progress.apply(event);
        }
        progress
    }

    /// Each state's status so far (states not entered yet are absent).
    pub fn statuses(&self) -> &BTreeMap<String, StateStatus> {
        &self.statuses
    }

    /// Take one event; returns the states whose status it changed.
    pub fn apply(&mut self, event: &HistoryEvent) -> Vec<Change> {
        let kind = event.event_type.as_str();
        let mut changes = Vec::new();
        let mut set = |statuses: &mut BTreeMap<String, StateStatus>, state: &str, status| {
            if statuses.get(state) != Some(&status) {
                statuses.insert(state.to_owned(), status);
                changes.push(Change {
                    state: state.to_owned(),
                    status,
                });
            }
        };
        if kind.ends_with("StateEntered") {
            let Some(name) = detail_str(event, "name") else {
                return changes;
            };
            // A Fail state has failed the moment it is entered.
            let status = if event.event_type == EventType::FailStateEntered {
                StateStatus::Failed
            } else {
                StateStatus::Running
            };
            set(&mut self.statuses, name, status);
            self.open = Some(name.to_owned());
            self.open_failed = false;
        } else if kind.ends_with("StateExited") {
            if let Some(name) = detail_str(event, "name") {
                let status = if self.open_failed {
                    StateStatus::Caught
                } else {
                    StateStatus::Succeeded
                };
                set(&mut self.statuses, name, status);
            }
            self.open = None;
            self.open_failed = false;
        } else if kind.ends_with("Scheduled") {
            if let Some(open) = self.open.clone() {
                set(&mut self.statuses, &open, StateStatus::Running);
            }
            self.open_failed = false;
        } else if !kind.starts_with("Execution")
            && (kind.ends_with("Failed") || kind.ends_with("TimedOut"))
        {
            // A task attempt failed: Retry or Catch decides next; until then it shows caught.
            if let Some(open) = self.open.clone() {
                set(&mut self.statuses, &open, StateStatus::Caught);
            }
            self.open_failed = true;
        } else if kind.starts_with("Execution") && kind != "ExecutionStarted" {
            let status = match event.event_type {
                EventType::ExecutionSucceeded => StateStatus::Succeeded,
                EventType::ExecutionAborted => StateStatus::Aborted,
                _ => StateStatus::Failed,
            };
            if let Some(open) = self.open.take()
                && self.statuses.get(&open) != Some(&StateStatus::Failed)
            {
                set(&mut self.statuses, &open, status);
            }
        }
        changes
    }
}

/// One row of the history table: id, type, state, milliseconds since the start, detail.
pub fn history_row(event: &HistoryEvent, started: &str) -> [String; 5] {
    let state = detail_str(event, "name").unwrap_or_default().to_owned();
    let detail = match (detail_str(event, "error"), detail_str(event, "cause")) {
        (Some(error), Some(cause)) => format!("{error}: {}", cause_message(cause)),
        (Some(error), None) => error.to_owned(),
        (None, Some(cause)) => cause_message(cause),
        (None, None) => detail_str(event, "resource")
            .map(|r| r.rsplit(':').next().unwrap_or(r).to_owned())
            .unwrap_or_default(),
    };
    [
        event.id.to_string(),
        event.event_type.as_str().to_owned(),
        state,
        millis_between(started, &event.timestamp).to_string(),
        detail,
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn event(id: u64, kind: &str, detail: Value) -> HistoryEvent {
        let mut value = json!({"id": id, "previousEventId": 0, "timestamp": "2026-12-01T21:02:06.778Z", "type": kind});
        if !detail.is_null() {
            value["someEventDetails"] = detail;
        }
        serde_json::from_value(value).unwrap()
    }

    fn statuses(history: &[HistoryEvent]) -> Vec<(String, &'static str)> {
        Progress::of(history)
            .statuses()
            .iter()
            .map(|(k, v)| (k.clone(), v.as_str()))
            .collect()
    }

    #[test]
    fn a_caught_failure_colours_the_task_caught_and_the_fail_state_failed() {
        let history = [
            event(1, "ExecutionStarted", Value::Null),
            event(2, "TaskStateEntered", json!({"name": "ValidatePrompt"})),
            event(3, "LambdaFunctionScheduled", json!({})),
            event(
                4,
                "LambdaFunctionFailed",
                json!({"error": "PromptRejected", "cause": "{\"errorMessage\":\"empty\"}"}),
            ),
            event(5, "TaskStateExited", json!({"name": "ValidatePrompt"})),
            event(6, "TaskStateEntered", json!({"name": "NotifyFailure"})),
            event(7, "LambdaFunctionScheduled", json!({})),
            event(8, "LambdaFunctionSucceeded", json!({})),
            event(9, "TaskStateExited", json!({"name": "NotifyFailure"})),
            event(10, "FailStateEntered", json!({"name": "PipelineFailed"})),
            event(11, "ExecutionFailed", json!({"error": "PromptRejected"})),
        ];
        assert_eq!(
            statuses(&history),
            [
                ("NotifyFailure".to_owned(), "succeeded"),
                ("PipelineFailed".to_owned(), "failed"),
                ("ValidatePrompt".to_owned(), "caught"),
            ]
        );
        assert_eq!(
            history_row(&history[3], "2026-12-01T21:02:06.778Z"),
            [
                "4",
                "LambdaFunctionFailed",
                "",
                "0",
                "PromptRejected: empty"
            ]
            .map(str::to_owned)
        );
    }

    #[test]
    fn a_retry_runs_again_and_each_event_says_what_changed() {
        let mut progress = Progress::default();
        let mut changes = |e: HistoryEvent| {
            progress
                .apply(&e)
                .into_iter()
                .map(|c| format!("{} {}", c.state, c.status.as_str()))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            changes(event(1, "ExecutionStarted", Value::Null)),
            Vec::<String>::new()
        );
        assert_eq!(
            changes(event(
                2,
                "TaskStateEntered",
                json!({"name": "GenerateImage"})
            )),
            ["GenerateImage running"]
        );
        assert_eq!(
            changes(event(3, "LambdaFunctionScheduled", json!({}))),
            Vec::<String>::new()
        );
        assert_eq!(
            changes(event(
                4,
                "LambdaFunctionFailed",
                json!({"error": "ModelThrottled"})
            )),
            ["GenerateImage caught"]
        );
        assert_eq!(
            changes(event(5, "LambdaFunctionScheduled", json!({}))),
            ["GenerateImage running"]
        );
        assert_eq!(
            changes(event(
                6,
                "TaskStateExited",
                json!({"name": "GenerateImage"})
            )),
            ["GenerateImage succeeded"]
        );
        assert_eq!(
            changes(event(
                7,
                "TaskStateEntered",
                json!({"name": "GenerateThumbnails"})
            )),
            ["GenerateThumbnails running"]
        );
        assert_eq!(
            changes(event(8, "ExecutionAborted", json!({}))),
            ["GenerateThumbnails aborted"]
        );
    }
}
