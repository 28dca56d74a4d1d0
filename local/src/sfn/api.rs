//! The awsJson1_0 face of the stand-in: `POST /` with `X-Amz-Target: AWSStepFunctions.<Operation>`,
//! JSON in and out, errors as `{"__type", "message"}` plus `x-amzn-errortype`, timestamps as epoch
//! seconds.

use imagegen_statemachine::HistoryEvent;
use serde_json::{Map, Value, json};

use super::record::ExecutionRecord;
use crate::ids::new_id;
use crate::transport::LocalResponse;

const CONTENT_TYPE: &str = "application/x-amz-json-1.0";
const TARGET_PREFIX: &str = "AWSStepFunctions.";

/// A Step Functions error: its type (the SDK's typed error) and message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub status: u16,
    pub error_type: &'static str,
    pub message: String,
}

impl ApiError {
    pub fn new(error_type: &'static str, message: impl Into<String>) -> Self {
        Self {
            status: 400,
            error_type,
            message: message.into(),
        }
    }

    pub fn internal(message: impl Into<String>) -> Self {
        Self {
            status: 500,
            error_type: "InternalServerError",
            message: message.into(),
        }
    }

    pub fn response(&self) -> LocalResponse {
        LocalResponse::new(
            self.status,
            CONTENT_TYPE,
            json!({"__type": format!("com.amazonaws.states#{}", self.error_type), "message": self.message})
                .to_string(),
        )
        .with_header("x-amzn-errortype", self.error_type)
        .with_header("x-amzn-requestid", new_id())
    }
}

/// A successful JSON response.
pub fn ok(body: &Value) -> LocalResponse {
    LocalResponse::new(200, CONTENT_TYPE, body.to_string())
        .with_header("x-amzn-requestid", new_id())
}

/// The operation named by `X-Amz-Target`.
pub fn operation(target: Option<&str>) -> Option<&str> {
    target?.strip_prefix(TARGET_PREFIX)
}

/// The request body as a JSON object.
pub fn body(bytes: &[u8]) -> Result<Map<String, Value>, ApiError> {
    if bytes.is_empty() {
        return Ok(Map::new());
    }
    match serde_json::from_slice(bytes) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err(ApiError::new(
            "SerializationException",
            "the request body is not a JSON object",
        )),
    }
}

/// A string member.
pub fn string<'a>(body: &'a Map<String, Value>, name: &str) -> Option<&'a str> {
    body.get(name).and_then(Value::as_str)
}

/// A required string member.
pub fn required<'a>(body: &'a Map<String, Value>, name: &str) -> Result<&'a str, ApiError> {
    string(body, name).ok_or_else(|| {
        ApiError::new(
            "ValidationException",
            format!("1 validation error detected: Value null at '{name}' failed to satisfy constraint: Member must not be null"),
        )
    })
}

/// `maxResults` (0 or absent: `default`), and the offset encoded in `nextToken`.
pub fn page(body: &Map<String, Value>, default: usize) -> Result<(usize, usize), ApiError> {
    let max = match body.get("maxResults").and_then(Value::as_u64) {
        None | Some(0) => default,
        Some(n) if n <= 1000 => n as usize,
        Some(n) => {
            return Err(ApiError::new(
                "ValidationException",
                format!(
                    "1 validation error detected: Value '{n}' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to 1000"
                ),
            ));
        }
    };
    let offset = match string(body, "nextToken") {
        None => 0,
        Some(token) => token
            .strip_prefix("local-")
            .and_then(|n| n.parse().ok())
            .ok_or_else(|| ApiError::new("InvalidToken", format!("Invalid token: {token}")))?,
    };
    Ok((max, offset))
}

/// The `nextToken` for the page after `offset + taken` of `total` items.
pub fn next_token(offset: usize, taken: usize, total: usize) -> Option<String> {
    (offset + taken < total).then(|| format!("local-{}", offset + taken))
}

pub(super) fn epoch(rfc3339: &str) -> Value {
    ExecutionRecord::epoch_seconds(rfc3339).map_or(Value::Null, |s| json!(s))
}

/// A ListExecutions item.
pub fn list_item(record: &ExecutionRecord) -> Value {
    let mut item = json!({
        "executionArn": record.execution_arn,
        "stateMachineArn": record.state_machine_arn,
        "name": record.name,
        "status": record.status.as_str(),
        "startDate": epoch(&record.start_date),
    });
    if let (Some(stop), Value::Object(map)) = (&record.stop_date, &mut item) {
        map.insert("stopDate".to_owned(), epoch(stop));
    }
    item
}

/// DescribeExecution's answer: the list item plus input, output and failure.
pub fn describe(record: &ExecutionRecord) -> Value {
    let mut out = list_item(record);
    let fields = [
        ("input", Some(Value::String(record.input.clone()))),
        ("inputDetails", Some(json!({"included": true}))),
        ("redriveCount", Some(json!(0))),
        ("redriveStatus", Some(json!("NOT_REDRIVABLE"))),
        ("output", record.output.clone().map(Value::String)),
        (
            "outputDetails",
            record.output.as_ref().map(|_| json!({"included": true})),
        ),
        ("error", record.error.clone().map(Value::String)),
        ("cause", record.cause.clone().map(Value::String)),
    ];
    if let Value::Object(map) = &mut out {
        for (name, value) in fields {
            if let Some(value) = value {
                map.insert(name.to_owned(), value);
            }
        }
    }
    out
}

/// A history event on the wire: the engine's event with an epoch-seconds timestamp.
pub fn history_event(event: &HistoryEvent) -> Value {
    let mut value = serde_json::to_value(event).unwrap_or(Value::Null);
    if let Value::Object(map) = &mut value {
        map.insert("timestamp".to_owned(), epoch(&event.timestamp));
    }
    value
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages() {
        let b = body(br#"{"maxResults": 2, "nextToken": "local-4"}"#).unwrap();
        assert_eq!(page(&b, 100).unwrap(), (2, 4));
        assert_eq!(page(&Map::new(), 100).unwrap(), (100, 0));
        let bad = body(br#"{"nextToken": "x"}"#).unwrap();
        assert_eq!(page(&bad, 100).unwrap_err().error_type, "InvalidToken");
        assert_eq!(next_token(4, 2, 10).as_deref(), Some("local-6"));
        assert_eq!(next_token(8, 2, 10), None);
        assert_eq!(
            operation(Some("AWSStepFunctions.StartExecution")),
            Some("StartExecution")
        );
        assert!(body(b"[1]").is_err());
    }
}
