//! Reading notify-user's event.

use crate::PipelineError;
use crate::types::NotifyEvent;
use serde_json::Value;

/// The execution name used when a failure event does not carry one.
pub const UNKNOWN_EXECUTION: &str = "(unknown execution)";

/// Read the event. A `FAILED` event is read leniently (a missing or odd `executionName` or `state`
/// still gives a failure to report), because the failure email is the user's only news of the run.
/// Anything else must be a well-formed `SUCCEEDED` event, or it is `InvalidEvent`.
pub fn parse(event: Value) -> Result<NotifyEvent, PipelineError> {
    if event.get("status").and_then(Value::as_str) == Some("FAILED") {
        let execution_name = event
            .get("executionName")
            .and_then(Value::as_str)
            .filter(|n| !n.trim().is_empty())
            .unwrap_or(UNKNOWN_EXECUTION)
            .to_owned();
        let state = event.get("state").cloned().unwrap_or(Value::Null);
        return Ok(NotifyEvent::Failed {
            execution_name,
            state,
        });
    }
    serde_json::from_value(event).map_err(|e| {
        PipelineError::InvalidEvent(format!(
            "expected {{\"status\": \"SUCCEEDED\", \"executionName\", \"request\", \"generation\", \
             \"thumbnails\"}} or {{\"status\": \"FAILED\", \"executionName\", \"state\"}}: {e}"
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn failed_events_are_read_leniently() {
        let ev = parse(json!({"status": "FAILED"})).unwrap();
        assert_eq!(
            ev,
            NotifyEvent::Failed {
                execution_name: UNKNOWN_EXECUTION.into(),
                state: Value::Null
            }
        );
        let ev = parse(json!({"status": "FAILED", "executionName": "e", "state": 7})).unwrap();
        assert!(
            matches!(ev, NotifyEvent::Failed { execution_name, state } if execution_name == "e" && state == json!(7))
        );
    }

    #[test]
    fn other_events_must_be_well_formed() {
        for bad in [
            json!(null),
            json!([]),
            json!({}),
            json!({"status": "SUCCEEDED", "executionName": "e"}),
            json!({"status": "RUNNING"}),
        ] {
            let err = parse(bad.clone()).unwrap_err();
            assert_eq!(err.name(), "InvalidEvent", "{bad}");
        }
    }
}
