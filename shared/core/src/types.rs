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

use crate::keys;
use crate::model::ModelFamily;

/// The example of console input: what the deployed stack prints as `ConsoleInputExample` (to paste
/// into the Step Functions console's Start execution box) and what the local console's box is
/// prefilled with.
pub const CONSOLE_INPUT_EXAMPLE: &str =
    r#"{"prompt":"a lighthouse at dusk","width":1024,"height":1024,"seed":42}"#;

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
    /// The format of the generated images, for models that let a request choose it (Stability).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_format: Option<OutputFormat>,
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

/// The format a model returns its images in. Titan and Nova always return PNG; Stability models
/// take `output_format`. PNG is the default everywhere.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OutputFormat {
    #[default]
    Png,
    Jpeg,
}

impl OutputFormat {
    /// Every format, PNG (the default) first.
    pub const ALL: [Self; 2] = [Self::Png, Self::Jpeg];

    /// The value in console input and in Stability's `output_format`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Png => "png",
            Self::Jpeg => "jpeg",
        }
    }

    /// The extension of a stored image, without the dot.
    pub fn extension(self) -> &'static str {
        match self {
            Self::Png => "png",
            Self::Jpeg => "jpg",
        }
    }

    /// The `Content-Type` a stored image is written with.
    pub fn content_type(self) -> &'static str {
        match self {
            Self::Png => "image/png",
            Self::Jpeg => "image/jpeg",
        }
    }

    /// The name for people ("PNG").
    pub fn label(self) -> &'static str {
        match self {
            Self::Png => "PNG",
            Self::Jpeg => "JPEG",
        }
    }
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

impl OutputLocation {
    /// Where the outputs of request `request_id` go in `bucket` (the layout of [`crate::keys`]).
    pub fn for_request(bucket: &str, request_id: &str) -> Self {
        Self {
            bucket: bucket.to_owned(),
            image_prefix: keys::image_prefix(request_id),
            thumbnail_prefix: keys::thumbnail_prefix(request_id),
            manifest_key: keys::manifest_key(request_id),
        }
    }
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
    /// Stability's `output_format`; `None` for families that always return PNG.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_format: Option<OutputFormat>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<S3Source>,
    pub output: OutputLocation,
    /// What the user should know that did not stop the request (a legacy model, ...), each a
    /// sentence ending in a full stop; the emails repeat them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

impl ImageRequest {
    /// The format the model returns the images in.
    pub fn image_format(&self) -> OutputFormat {
        self.output_format.unwrap_or_default()
    }
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
    /// The pool the current slot is in (a Region or an inference profile id, as `MODEL_POOLS`
    /// names it); absent for the function's own Bedrock Region. GenerateImage calls that pool.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pool: Option<String>,
    /// The model the current slot is for when it is not the request's: a fallback
    /// (`FALLBACK_MODEL_IDS`) after Bedrock answered that the request's model is retired.
    /// GenerateImage calls it instead.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<ModelRef>,
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
    /// `$.modelSlot`: the slot this attempt is in, and so the pool to call. Absent (a definition
    /// from before pools): the function's own Bedrock Region.
    #[serde(default)]
    pub slot: Option<SlotState>,
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
    /// The pool the model was called in (as the slot named it); absent for the function's own
    /// Bedrock Region.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pool: Option<String>,
    /// The model the request named, when Bedrock had retired it and `model_id`, a fallback, made
    /// the images.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fallback_from: Option<String>,
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
    /// The execution's email had been sent before (by an earlier attempt or the backstop), so
    /// nothing was published and `message_id` is empty.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub already_sent: bool,
}

/// The manifest written to `results/{requestId}.json` on success.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Manifest {
    pub execution_name: String,
    pub request: ImageRequest,
    /// The model that made the images (absent in manifests from before it was written).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model_id: Option<String>,
    /// The model the request named, when Bedrock had retired it and a fallback made the images.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fallback_from: Option<String>,
    /// The model pool the images came from (a Region or an inference profile id; absent: the
    /// function's own Bedrock Region).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pool: Option<String>,
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
    fn the_console_example_is_console_input() {
        let example: PromptOptions = serde_json::from_str(CONSOLE_INPUT_EXAMPLE).unwrap();
        assert_eq!(example.prompt, "a lighthouse at dusk");
        assert_eq!((example.width, example.height), (Some(1024), Some(1024)));
    }

    #[test]
    fn prompt_options_reject_unknown_fields_by_name() {
        let err = serde_json::from_value::<PromptOptions>(json!({"prompt": "x", "sed": 1}))
            .unwrap_err()
            .to_string();
        assert!(err.contains("unknown field `sed`"), "{err}");
    }

    #[test]
    fn output_formats_in_console_input() {
        let o: PromptOptions =
            serde_json::from_value(json!({"prompt": "x", "outputFormat": "jpeg"})).unwrap();
        assert_eq!(o.output_format, Some(OutputFormat::Jpeg));
        let err =
            serde_json::from_value::<PromptOptions>(json!({"prompt": "x", "outputFormat": "gif"}))
                .unwrap_err()
                .to_string();
        assert!(err.contains("unknown variant `gif`"), "{err}");
        for format in OutputFormat::ALL {
            assert_eq!(json!(format), json!(format.as_str()));
        }
        assert_eq!(OutputFormat::default(), OutputFormat::Png);
        assert_eq!(
            (
                OutputFormat::Jpeg.extension(),
                OutputFormat::Jpeg.content_type()
            ),
            ("jpg", "image/jpeg")
        );
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
