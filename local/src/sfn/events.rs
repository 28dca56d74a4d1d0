//! The "Step Functions Execution Status Change" event of an execution, as Step Functions sends it
//! to EventBridge (dates in epoch milliseconds; the input and output as JSON text, left out with
//! `included: false` past 248 KiB).

use serde_json::{Value, json};

use super::record::ExecutionRecord;
use crate::config::ACCOUNT_ID;
use crate::eventbridge::{DETAIL_TYPE, SOURCE};
use crate::ids::new_id;

/// Largest input or output carried in the event.
pub const MAX_EVENT_PAYLOAD_BYTES: usize = 248 * 1024;

fn millis(rfc3339: &str) -> Value {
    ExecutionRecord::epoch_seconds(rfc3339)
        .map_or(Value::Null, |s| json!((s * 1000.0).round() as i64))
}

fn payload(text: Option<&str>) -> (Value, Value) {
    match text {
        Some(t) if t.len() <= MAX_EVENT_PAYLOAD_BYTES => (json!(t), json!({"included": true})),
        Some(_) => (Value::Null, json!({"included": false})),
        None => (Value::Null, Value::Null),
    }
}

/// The event for `record`'s current status.
pub fn status_change(record: &ExecutionRecord, region: &str) -> Value {
    let (input, input_details) = payload(Some(&record.input));
    let (output, output_details) = payload(record.output.as_deref());
    let time = record.stop_date.as_deref().unwrap_or(&record.start_date);
    json!({
        "version": "0",
        "id": new_id(),
        "detail-type": DETAIL_TYPE,
        "source": SOURCE,
        "account": ACCOUNT_ID,
        "time": time,
        "region": region,
        "resources": [record.execution_arn],
        "detail": {
            "executionArn": record.execution_arn,
            "stateMachineArn": record.state_machine_arn,
            "name": record.name,
            "status": record.status.as_str(),
            "startDate": millis(&record.start_date),
            "stopDate": record.stop_date.as_deref().map_or(Value::Null, millis),
            "input": input,
            "output": output,
            "inputDetails": input_details,
            "outputDetails": output_details,
            "error": record.error,
            "cause": record.cause,
        }
    })
}
