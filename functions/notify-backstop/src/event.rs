//! Reading EventBridge's "Step Functions Execution Status Change" event:
//!
//! ```json
//! {"detail-type": "Step Functions Execution Status Change", "source": "aws.states",
//!  "detail": {"executionArn", "stateMachineArn", "name", "status", "startDate", "stopDate",
//!             "input", "inputDetails": {"included": true}, "output", "error", "cause"}}
//! ```
//!
//! `input` is left out (`inputDetails.included: false`) when it is too large for the event; `error`
//! and `cause` only come with some failures. Fields are looked up one by one, so an odd value reads as
//! absent and the email still goes out; only an event that is not a status change at all is
//! `InvalidEvent`.

use imagegen_core::PipelineError;
use imagegen_core::types::json_kind;
use serde_json::Value;

/// The detail-type of the events this function handles.
pub const DETAIL_TYPE: &str = "Step Functions Execution Status Change";
/// Their source.
pub const SOURCE: &str = "aws.states";

/// One execution's change of status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusChange {
    pub execution_arn: String,
    pub name: String,
    /// `RUNNING`, `SUCCEEDED`, `FAILED`, `TIMED_OUT`, `ABORTED`, ...
    pub status: String,
    /// The execution input (JSON text) when the event carries it.
    pub input: Option<String>,
    pub error: Option<String>,
    pub cause: Option<String>,
}

/// Read the event.
pub fn parse(event: &Value) -> Result<StatusChange, PipelineError> {
    let invalid = |why: String| {
        PipelineError::InvalidEvent(format!(
            "expected a \"{DETAIL_TYPE}\" event from {SOURCE}: {why}"
        ))
    };
    if !event.is_object() {
        return Err(invalid(format!("the event is {}", json_kind(event))));
    }
    let detail_type = text(event, "/detail-type");
    if detail_type != Some(DETAIL_TYPE) || text(event, "/source") != Some(SOURCE) {
        return Err(invalid(format!(
            "its detail-type is {} and its source {}",
            quoted(detail_type),
            quoted(text(event, "/source"))
        )));
    }
    let Some(execution_arn) = text(event, "/detail/executionArn").filter(|a| !a.is_empty()) else {
        return Err(invalid("it has no detail.executionArn".to_owned()));
    };
    let Some(status) = text(event, "/detail/status").filter(|s| !s.is_empty()) else {
        return Err(invalid("it has no detail.status".to_owned()));
    };
    let name = text(event, "/detail/name")
        .filter(|n| !n.is_empty())
        .or_else(|| execution_arn.rsplit(':').next())
        .unwrap_or_default();
    let included = event
        .pointer("/detail/inputDetails/included")
        .and_then(Value::as_bool)
        .unwrap_or(true);
    Ok(StatusChange {
        execution_arn: execution_arn.to_owned(),
        name: name.to_owned(),
        status: status.to_owned(),
        input: text(event, "/detail/input")
            .filter(|_| included)
            .map(str::to_owned),
        error: owned(text(event, "/detail/error")),
        cause: owned(text(event, "/detail/cause")),
    })
}

fn text<'a>(value: &'a Value, pointer: &str) -> Option<&'a str> {
    value.pointer(pointer).and_then(Value::as_str)
}

fn owned(value: Option<&str>) -> Option<String> {
    value
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_owned)
}

fn quoted(value: Option<&str>) -> String {
    value.map_or_else(
        || "missing".to_owned(),
        |v| format!("{:?}", v.chars().take(80).collect::<String>()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn event(detail: Value) -> Value {
        json!({"version": "0", "detail-type": DETAIL_TYPE, "source": SOURCE, "detail": detail})
    }

    #[test]
    fn a_failed_execution() {
        let change = parse(&event(json!({
            "executionArn": "arn:aws:states:us-east-1:1:execution:pipe:run-1",
            "name": "run-1", "status": "FAILED", "input": "{\"prompt\":\"a cat\"}",
            "inputDetails": {"included": true}, "error": "States.DataLimitExceeded", "cause": "too big"
        })))
        .unwrap();
        assert_eq!(change.name, "run-1");
        assert_eq!(change.status, "FAILED");
        assert_eq!(change.input.as_deref(), Some("{\"prompt\":\"a cat\"}"));
        assert_eq!(change.error.as_deref(), Some("States.DataLimitExceeded"));
    }

    #[test]
    fn a_left_out_input_and_a_missing_name() {
        let change = parse(&event(json!({
            "executionArn": "arn:aws:states:us-east-1:1:execution:pipe:run-2",
            "status": "ABORTED", "input": null, "inputDetails": {"included": false},
            "error": null, "cause": 7
        })))
        .unwrap();
        assert_eq!(change.name, "run-2");
        assert_eq!(
            (change.input, change.error, change.cause),
            (None, None, None)
        );
    }

    #[test]
    fn other_events_are_invalid() {
        for bad in [
            json!(null),
            json!([]),
            json!({}),
            json!({"detail-type": "Object Created", "source": "aws.s3", "detail": {}}),
            event(json!({"status": "FAILED"})),
            event(json!({"executionArn": "arn:x"})),
            event(json!("FAILED")),
        ] {
            assert_eq!(parse(&bad).unwrap_err().name(), "InvalidEvent", "{bad}");
        }
    }
}
