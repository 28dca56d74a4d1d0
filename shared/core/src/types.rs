//! The payloads that flow between states. All JSON is camelCase; none carries image bytes, only S3 keys.
//!
//! ```text
//! execution input ─ValidatePrompt─> $.request  (ImageRequest)
//!                 ─ReserveModelSlot─> $.modelSlot (SlotState), then WaitForModelSlot
//!                 ─GenerateImage──> $.generation (GenerationResult)
//!                 ─GenerateThumbnails─> $.thumbnails (ThumbnailsResult)
//!                 ─NotifySuccess / NotifyFailure─> NotificationResult
//! ```

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::model::ModelFamily;

/// Console (or `.json` prompt file) input: the prompt and its options.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PromptOptions {
    /// What to draw.
    pub prompt: String,
    /// What to keep out of the image.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub negative_prompt: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub width: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub height: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub number_of_images: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cfg_scale: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quality: Option<Quality>,
    /// A Bedrock model id; defaults to the configured model.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
}

/// Titan / Nova quality setting.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Quality {
    #[default]
    Standard,
    Premium,
}

/// An S3 object that holds a prompt (from an upload event).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct S3Source {
    pub bucket: String,
    pub key: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub etag: Option<String>,
}

/// The execution input for an uploaded prompt file (what `start-execution` sends).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct S3Input {
    pub source: S3Source,
}

/// What ValidatePrompt receives: the execution input as given, and the execution's name.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ValidateEvent {
    pub input: Value,
    #[serde(default)]
    pub execution_name: Option<String>,
}

/// A model id and its family.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ModelRef {
    pub id: String,
    pub family: ModelFamily,
}

/// Where a request's outputs go.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OutputLocation {
    pub bucket: String,
    pub image_prefix: String,
    pub thumbnail_prefix: String,
    pub manifest_key: String,
}

/// A validated, normalised request (ValidatePrompt's output, `$.request`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImageRequest {
    pub request_id: String,
    pub prompt: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub negative_prompt: Option<String>,
    pub model: ModelRef,
    pub width: u32,
    pub height: u32,
    pub number_of_images: u32,
    pub seed: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cfg_scale: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quality: Option<Quality>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<S3Source>,
    pub output: OutputLocation,
}

/// `$.modelSlot`: ReserveModelSlot's input (as `previous`) and output. ReceiveInput starts it at
/// `{"attempt": 0}`; each reservation counts one more attempt and sets `at`; a GenerateImage failure
/// that asks for a new slot writes its error to `lastError` (its Catch's ResultPath).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SlotState {
    /// Slots reserved so far: one per GenerateImage attempt.
    pub attempt: u32,
    /// When the current slot starts (RFC 3339, milliseconds): WaitForModelSlot waits until then.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<String>,
    /// How long the execution waits for it, in milliseconds (for people reading the history).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wait_millis: Option<u64>,
    /// Why the previous slot's GenerateImage attempt failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<StepError>,
}

/// ReserveModelSlot's input. The whole `$.request` is passed (a path into it that did not resolve
/// would be `States.Runtime`, which no Catch handles); only its model is read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SlotEvent {
    pub request: RequestModel,
    /// `$.modelSlot` as it stands.
    pub previous: SlotState,
}

/// The model of a request: whose schedule a slot is on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RequestModel {
    pub model: ModelRef,
}

/// GenerateImage's input.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GenerateEvent {
    pub request: ImageRequest,
}

/// One stored image.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StoredImage {
    pub bucket: String,
    pub key: String,
    pub width: u32,
    pub height: u32,
    pub bytes: u64,
    pub seed: u64,
}

/// GenerateImage's output (`$.generation`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GenerationResult {
    pub model_id: String,
    pub images: Vec<StoredImage>,
    /// Time spent in the model call, in milliseconds.
    pub model_millis: u64,
    /// Time spent in the whole step, in milliseconds.
    pub total_millis: u64,
}

/// GenerateThumbnails' input.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ThumbnailsEvent {
    pub request: ImageRequest,
    pub images: Vec<StoredImage>,
}

/// One stored thumbnail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StoredThumbnail {
    pub source_key: String,
    pub key: String,
    /// The requested longest side.
    pub size: u32,
    pub width: u32,
    pub height: u32,
    pub format: String,
    pub bytes: u64,
}

/// GenerateThumbnails' output (`$.thumbnails`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ThumbnailsResult {
    pub thumbnails: Vec<StoredThumbnail>,
    pub total_millis: u64,
}

/// An error as Step Functions puts it at a Catch's ResultPath.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepError {
    #[serde(rename = "Error")]
    pub error: String,
    #[serde(rename = "Cause", default)]
    pub cause: Option<String>,
}

/// NotifyUser's input: a success with everything made, or a failure with the state at the time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "status")]
pub enum NotifyEvent {
    #[serde(rename = "SUCCEEDED", rename_all = "camelCase")]
    Succeeded {
        execution_name: String,
        request: Box<ImageRequest>,
        generation: GenerationResult,
        thumbnails: ThumbnailsResult,
    },
    /// `state` is the whole state-machine state when the error was caught: it has `error`
    /// (a [`StepError`]) and, depending on how far the run got, the input and `request`.
    #[serde(rename = "FAILED", rename_all = "camelCase")]
    Failed {
        execution_name: String,
        state: Value,
    },
}

/// NotifyUser's output.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NotificationResult {
    pub status: String,
    pub message_id: String,
    pub subject: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manifest_key: Option<String>,
}

/// The manifest written to `results/{requestId}.json` on success.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Manifest {
    pub execution_name: String,
    pub request: ImageRequest,
    pub images: Vec<StoredImage>,
    pub thumbnails: Vec<StoredThumbnail>,
    pub model_millis: u64,
}

/// What kind of JSON value this is, for error messages ("an object", "a string", ...).
pub fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn prompt_options_reject_unknown_fields_by_name() {
        let err = serde_json::from_value::<PromptOptions>(json!({"prompt": "x", "sed": 1}))
            .unwrap_err()
            .to_string();
        assert!(err.contains("unknown field `sed`"), "{err}");
    }

    #[test]
    fn notify_event_is_tagged_by_status() {
        let ev: NotifyEvent = serde_json::from_value(json!({
            "status": "FAILED",
            "executionName": "e1",
            "state": {"error": {"Error": "PromptRejected", "Cause": "{}"}}
        }))
        .unwrap();
        assert!(
            matches!(ev, NotifyEvent::Failed { ref execution_name, .. } if execution_name == "e1")
        );
    }

    #[test]
    fn step_error_uses_step_functions_field_names() {
        let e: StepError = serde_json::from_value(json!({"Error": "X", "Cause": "y"})).unwrap();
        assert_eq!(e.error, "X");
        assert_eq!(e.cause.as_deref(), Some("y"));
    }
}
