//! What the pipeline's functions returned in one execution, read from its history by function.
//!
//! The Lambda events of a history name the function they call, whatever the definition does with
//! the result: the deployed JSONPath definition keeps everything in one growing state
//! (`$.request`, `$.generation`, ...), its JSONata twin in variables, and a user's own definition
//! (`imagegen run --definition`) however it likes. Reading the functions' own results is the one
//! way that holds for all of them. A Lambda ARN resource records `LambdaFunction*` events; the
//! `arn:aws:states:::lambda:invoke` integration records `Task*` events whose result wraps the
//! function's in `Payload`.
//!
//! From them: what an execution made ([`Made`]: images, thumbnails, manifest, warnings), for the
//! summary of `imagegen run` and the console's execution page; and the history helpers both use
//! ([`email_for`], [`millis_between`], [`detail_str`]).

use std::collections::HashMap;

use imagegen_core::types::{StoredImage, StoredThumbnail};
use imagegen_local::OutboxMessage;
use imagegen_local::sfn::ExecutionRecord;
use imagegen_statemachine::lambda_name;
use imagegen_statemachine::{EventType, HistoryEvent};
use serde_json::Value;

use crate::settings::{
    GENERATE_IMAGE, GENERATE_THUMBNAILS, NOTIFY_USER, RESERVE_MODEL_SLOT, VALIDATE_PROMPT,
};

/// The last result of each of the pipeline's functions in one execution.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Results {
    /// validate-prompt's: the request (`ImageRequest`).
    pub request: Option<Value>,
    /// reserve-model-slot's: the last slot.
    pub model_slot: Option<Value>,
    /// generate-image's: the stored images.
    pub generation: Option<Value>,
    /// generate-thumbnails'.
    pub thumbnails: Option<Value>,
    /// notify-user's: the email sent (success or failure).
    pub notification: Option<Value>,
}

impl Results {
    /// Read `history` (in event order).
    pub fn of(history: &[HistoryEvent]) -> Self {
        // Scheduled and Started events by id, with the function they call: a Succeeded event
        // follows its Started one, which follows its Scheduled one.
        let mut calls: HashMap<u64, String> = HashMap::new();
        let mut results = Self::default();
        for event in history {
            match event.event_type {
                EventType::LambdaFunctionScheduled | EventType::TaskScheduled => {
                    if let Some(function) = called_function(event) {
                        calls.insert(event.id, function);
                    }
                }
                EventType::LambdaFunctionStarted | EventType::TaskStarted => {
                    if let Some(function) = calls.get(&event.previous_event_id).cloned() {
                        calls.insert(event.id, function);
                    }
                }
                EventType::LambdaFunctionSucceeded | EventType::TaskSucceeded => {
                    let Some(function) = calls.get(&event.previous_event_id) else {
                        continue;
                    };
                    if let Some(output) = output(event) {
                        results.set(function, output);
                    }
                }
                _ => {}
            }
        }
        results
    }

    fn set(&mut self, function: &str, output: Value) {
        let slot = match function {
            VALIDATE_PROMPT => &mut self.request,
            RESERVE_MODEL_SLOT => &mut self.model_slot,
            GENERATE_IMAGE => &mut self.generation,
            GENERATE_THUMBNAILS => &mut self.thumbnails,
            NOTIFY_USER => &mut self.notification,
            _ => return,
        };
        *slot = Some(output);
    }
}

/// The function a Scheduled event calls: its Lambda resource, or `lambda:invoke`'s `FunctionName`.
fn called_function(event: &HistoryEvent) -> Option<String> {
    let detail = event.detail()?;
    let name = match event.event_type {
        EventType::LambdaFunctionScheduled => detail.get("resource")?.as_str()?.to_owned(),
        _ if is_lambda_invoke(detail) => {
            let parameters: Value =
                serde_json::from_str(detail.get("parameters")?.as_str()?).ok()?;
            parameters.get("FunctionName")?.as_str()?.to_owned()
        }
        _ => return None,
    };
    Some(lambda_name(&name).to_owned())
}

/// A Succeeded event's result: the function's own (unwrapped from `lambda:invoke`'s `Payload`).
fn output(event: &HistoryEvent) -> Option<Value> {
    let detail = event.detail()?;
    let output: Value = serde_json::from_str(detail.get("output")?.as_str()?).ok()?;
    match event.event_type {
        EventType::TaskSucceeded if is_lambda_invoke(detail) => output.get("Payload").cloned(),
        EventType::TaskSucceeded => None,
        _ => Some(output),
    }
}

fn is_lambda_invoke(detail: &Value) -> bool {
    detail.get("resourceType").and_then(Value::as_str) == Some("lambda")
        && detail.get("resource").and_then(Value::as_str) == Some("invoke")
}

/// What an execution made, read from its history: the objects in `bucket` and the request's
/// warnings.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Made {
    pub bucket: String,
    pub images: Vec<StoredImage>,
    pub thumbnails: Vec<StoredThumbnail>,
    /// The result manifest's key, once the execution succeeded.
    pub manifest: Option<String>,
    /// The request's warnings (a legacy model, ...), as ValidatePrompt wrote them.
    pub warnings: Vec<String>,
}

impl Made {
    /// What `record` made so far (a failed execution may have made images but no manifest).
    ///
    /// Read from the functions' results, not the states' outputs: a JSONata definition (or a
    /// user's own) keeps them in variables.
    pub fn of(record: &ExecutionRecord) -> Self {
        let results = Results::of(&record.history);
        let request = results.request.as_ref();
        let bucket = request
            .and_then(|r| r.pointer("/output/bucket"))
            .and_then(Value::as_str)
            .unwrap_or(crate::settings::BUCKET)
            .to_owned();
        let warnings = request
            .and_then(|r| r.get("warnings"))
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect();
        Self {
            bucket,
            images: items(results.generation.as_ref(), "/images"),
            thumbnails: items(results.thumbnails.as_ref(), "/thumbnails"),
            manifest: results
                .notification
                .as_ref()
                .and_then(|n| n.get("manifestKey"))
                .and_then(Value::as_str)
                .map(str::to_owned),
            warnings,
        }
    }
}

/// The items of the array at `pointer` that read as `T`.
fn items<T: serde::de::DeserializeOwned>(value: Option<&Value>, pointer: &str) -> Vec<T> {
    value
        .and_then(|v| v.pointer(pointer))
        .and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .filter_map(|i| serde_json::from_value(i.clone()).ok())
                .collect()
        })
        .unwrap_or_default()
}

/// The email sent for execution `name`, whoever sent it (notify-user or the backstop): each carries
/// the execution's name as a message attribute. The latest, if there were several.
pub fn email_for<'a>(messages: &'a [OutboxMessage], name: &str) -> Option<&'a OutboxMessage> {
    messages
        .iter()
        .rev()
        .find(|m| m.attributes.get("execution").map(String::as_str) == Some(name))
}

/// Milliseconds from RFC 3339 time `a` to `b` (0 when either cannot be read).
pub fn millis_between(a: &str, b: &str) -> i64 {
    match (
        chrono::DateTime::parse_from_rfc3339(a),
        chrono::DateTime::parse_from_rfc3339(b),
    ) {
        (Ok(a), Ok(b)) => (b - a).num_milliseconds(),
        _ => 0,
    }
}

/// The text field `field` of `event`'s details.
pub fn detail_str<'a>(event: &'a HistoryEvent, field: &str) -> Option<&'a str> {
    event
        .detail()
        .and_then(|d| d.get(field))
        .and_then(Value::as_str)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Map, json};

    fn event(id: u64, previous: u64, event_type: EventType, detail: Value) -> HistoryEvent {
        let mut details = Map::new();
        if !detail.is_null() {
            details.insert(
                imagegen_statemachine::details_key(event_type).to_owned(),
                detail,
            );
        }
        HistoryEvent {
            id,
            previous_event_id: previous,
            timestamp: "2026-03-01T09:00:00.000Z".to_owned(),
            event_type,
            details,
        }
    }

    fn arn(function: &str) -> String {
        format!("arn:aws:lambda:us-east-1:000000000000:function:{function}")
    }

    #[test]
    fn results_are_found_by_function_whatever_the_states_do_with_them() {
        let history = [
            event(
                1,
                0,
                EventType::LambdaFunctionScheduled,
                json!({"resource": arn(VALIDATE_PROMPT), "input": "{}"}),
            ),
            event(2, 1, EventType::LambdaFunctionStarted, Value::Null),
            event(
                3,
                2,
                EventType::LambdaFunctionSucceeded,
                json!({"output": r#"{"requestId": "r1"}"#}),
            ),
            // A lambda:invoke call, its result wrapped in the Invoke response.
            event(
                4,
                3,
                EventType::TaskScheduled,
                json!({"resourceType": "lambda", "resource": "invoke",
                       "parameters": json!({"FunctionName": arn(GENERATE_IMAGE), "Payload": {}}).to_string()}),
            ),
            event(5, 4, EventType::TaskStarted, Value::Null),
            event(
                6,
                5,
                EventType::TaskSucceeded,
                json!({"resourceType": "lambda", "resource": "invoke",
                       "output": r#"{"StatusCode": 200, "Payload": {"images": [{"key": "k"}]}}"#}),
            ),
            // A call that failed leaves the earlier result alone.
            event(
                7,
                6,
                EventType::LambdaFunctionScheduled,
                json!({"resource": NOTIFY_USER, "input": "{}"}),
            ),
            event(8, 7, EventType::LambdaFunctionStarted, Value::Null),
            event(
                9,
                8,
                EventType::LambdaFunctionFailed,
                json!({"error": "NotifyError"}),
            ),
        ];
        let results = Results::of(&history);
        assert_eq!(results.request, Some(json!({"requestId": "r1"})));
        assert_eq!(results.generation, Some(json!({"images": [{"key": "k"}]})));
        assert_eq!(results.thumbnails, None);
        assert_eq!(results.notification, None);
    }

    #[test]
    fn the_last_success_of_a_function_counts() {
        let slot = |id: u64, attempt: u32| {
            [
                event(
                    id,
                    id - 1,
                    EventType::LambdaFunctionScheduled,
                    json!({"resource": arn(RESERVE_MODEL_SLOT)}),
                ),
                event(id + 1, id, EventType::LambdaFunctionStarted, Value::Null),
                event(
                    id + 2,
                    id + 1,
                    EventType::LambdaFunctionSucceeded,
                    json!({"output": json!({"attempt": attempt}).to_string()}),
                ),
            ]
        };
        let history: Vec<HistoryEvent> = slot(1, 1).into_iter().chain(slot(4, 2)).collect();
        assert_eq!(
            Results::of(&history).model_slot,
            Some(json!({"attempt": 2}))
        );
    }
}
