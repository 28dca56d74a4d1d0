//! The failure email: what went wrong, in plain words, from whatever state the run left behind.
//!
//! `state` is the whole state-machine state when the error was caught: `state.error` is
//! `{"Error": name, "Cause": text}`, where for a Lambda error the cause is itself JSON
//! (`{"errorType", "errorMessage", "trace"?}`); `state.request` is there if validation got that far,
//! otherwise the original input (`state.prompt` from the console, `state.source` from an upload).
//! Any of it may be missing or odd: the email still goes out.

use std::fmt::Write as _;

use crate::display::escape_controls_keep_newlines;
use crate::error::{ErrorName, STATES_DATA_LIMIT_EXCEEDED, STATES_TIMEOUT, cause_message};
use crate::ports::Message;
use serde_json::Value;

use super::human::{cap_chars, s3_uri};
use super::subject::{SUBJECT_MAX, ascii_line, truncate_ascii};

pub use crate::error::UNKNOWN_ERROR;
/// Longest message or prompt quoted in the email, in characters.
pub const MAX_QUOTED_CHARS: usize = 2000;

/// What kind of failure, as the user should hear it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `PromptRejected`: the prompt or its options are not acceptable.
    PromptRejected,
    /// `ContentFiltered`: the model's content filter.
    ContentFiltered,
    /// `ModelThrottled` / `ModelUnavailable`, after the retries.
    ModelBusy,
    /// `QueueFull`: the model is booked further ahead than a request may wait; not queued.
    QueueFull,
    /// `BudgetSpent`: the month's budget is spent; the model calls are stopped.
    BudgetSpent,
    /// `ModelRetired`: the model is gone from Bedrock, or from this account.
    ModelRetired,
    /// `ModelError`: the model refused the request or answered something unusable.
    ModelError,
    /// `ImageInvalid`: the generated image could not be read.
    ImageInvalid,
    /// `States.Timeout`.
    Timeout,
    /// `States.DataLimitExceeded`: the run's data went over Step Functions' payload limit.
    TooLarge,
    /// The whole execution ran out of time (`TIMED_OUT`, seen by the backstop).
    RunTimedOut,
    /// The execution was stopped before it ended (`ABORTED`, seen by the backstop).
    Aborted,
    /// Anything else: `States.Runtime`, `StorageError`, `ConfigError`, `Lambda.*`, ...
    Internal,
}

impl Kind {
    pub fn of(error: &str) -> Self {
        if error == STATES_TIMEOUT {
            return Self::Timeout;
        }
        if error == STATES_DATA_LIMIT_EXCEEDED {
            return Self::TooLarge;
        }
        match ErrorName::parse(error) {
            Some(ErrorName::PromptRejected) => Self::PromptRejected,
            Some(ErrorName::ContentFiltered) => Self::ContentFiltered,
            Some(ErrorName::ModelThrottled | ErrorName::ModelUnavailable) => Self::ModelBusy,
            Some(ErrorName::QueueFull) => Self::QueueFull,
            Some(ErrorName::BudgetSpent) => Self::BudgetSpent,
            Some(ErrorName::ModelRetired) => Self::ModelRetired,
            Some(ErrorName::ModelError) => Self::ModelError,
            Some(ErrorName::ImageInvalid) => Self::ImageInvalid,
            _ => Self::Internal,
        }
    }
}

/// How an execution ended outside the state machine's own catches (the backstop knows it from the
/// execution's status).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    /// `TIMED_OUT`: the execution ran out of time.
    TimedOut,
    /// `ABORTED`: the execution was stopped.
    Aborted,
}

/// A failed run, as far as the state tells.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// The error name (`state.error.Error`), or [`UNKNOWN_ERROR`].
    pub error: String,
    /// The error message: a Lambda cause's `errorMessage`, else the cause as given.
    pub message: Option<String>,
    /// The prompt, if the state has it, trimmed (empty: it was blank).
    pub prompt: Option<String>,
    /// The uploaded prompt file, if the run came from one.
    pub prompt_file: Option<String>,
    /// Set when the execution as a whole timed out or was stopped.
    pub ended: Option<Ended>,
    /// The request's warnings (`state.request.warnings`), e.g. a legacy model, which may be why
    /// the model refused it.
    pub warnings: Vec<String>,
}

impl Failure {
    pub fn from_state(state: &Value) -> Self {
        let error = text_at(state, &["/error/Error", "/Error"])
            .unwrap_or(UNKNOWN_ERROR)
            .to_owned();
        let message = text_at(state, &["/error/Cause", "/Cause"]).map(cause_message);
        // The first prompt found, also a blank one: a prompt that was read and was blank is told
        // as such, not as one the run never got to.
        let prompt = ["/request/prompt", "/input/prompt", "/prompt", "/input"]
            .iter()
            .find_map(|p| state.pointer(p).and_then(Value::as_str))
            .map(|p| p.trim().to_owned());
        let prompt_file = ["/request/source", "/input/source", "/source"]
            .iter()
            .find_map(|p| {
                let source = state.pointer(p)?;
                let bucket = source.get("bucket")?.as_str()?;
                let key = source.get("key")?.as_str()?;
                Some(s3_uri(bucket, key))
            });
        let warnings = state
            .pointer("/request/warnings")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .map(|w| cap_chars(w, MAX_QUOTED_CHARS))
            .collect();
        Self {
            error,
            message,
            prompt,
            prompt_file,
            ended: None,
            warnings,
        }
    }

    pub fn kind(&self) -> Kind {
        match self.ended {
            Some(Ended::Aborted) => Kind::Aborted,
            Some(Ended::TimedOut) => Kind::RunTimedOut,
            None => Kind::of(&self.error),
        }
    }

    /// `imagegen: could not make your image (PromptRejected)`.
    pub fn subject(&self) -> String {
        const HEAD: &str = "imagegen: could not make your image";
        let name = ascii_line(&self.error);
        let room = SUBJECT_MAX.saturating_sub(HEAD.len() + 3);
        if name.is_empty() {
            return HEAD.to_owned();
        }
        format!("{HEAD} ({})", truncate_ascii(&name, room))
    }

    /// The email text. Control characters from outside (a prompt, a file name, an error message)
    /// are shown escaped: see [`crate::display`].
    pub fn body(&self, execution_name: &str) -> String {
        escape_controls_keep_newlines(&self.raw_body(execution_name)).into_owned()
    }

    fn raw_body(&self, execution_name: &str) -> String {
        let message = self
            .message
            .as_deref()
            .map(|m| cap_chars(m, MAX_QUOTED_CHARS));
        let (headline, detail, next) = self.explain(execution_name, message.as_deref());
        let mut out = String::from("We could not make your image.\n\n");
        let _ = writeln!(out, "{headline}");
        if let Some(detail) = detail {
            let _ = writeln!(out, "{detail}");
        }
        for warning in &self.warnings {
            let _ = writeln!(out, "\nNote: {warning}");
        }
        out.push('\n');
        match self.prompt.as_deref() {
            Some("") => out.push_str("Prompt: (blank: nothing to draw)\n"),
            Some(prompt) => {
                let _ = writeln!(out, "Prompt: {}", cap_chars(prompt, MAX_QUOTED_CHARS));
            }
            None => {}
        }
        if let Some(file) = &self.prompt_file {
            let _ = writeln!(out, "Prompt file: {file}");
        }
        if self.prompt.is_none() && self.prompt_file.is_none() {
            out.push_str("Prompt: (not known: the run stopped before the prompt was read)\n");
        }
        let _ = writeln!(out, "Execution: {execution_name}");
        let _ = writeln!(out, "Error: {}", self.error);
        let _ = writeln!(out, "\nWhat to do next: {next}");
        out
    }

    /// (headline, detail, what to do next).
    fn explain(
        &self,
        execution_name: &str,
        message: Option<&str>,
    ) -> (String, Option<String>, &'static str) {
        let details = message.map(|m| format!("Details: {m}"));
        match self.kind() {
            Kind::PromptRejected => (
                format!(
                    "Your prompt was rejected: {}",
                    message.unwrap_or("no reason was given.")
                ),
                None,
                "Change the prompt or its options as described above and submit it again.",
            ),
            Kind::ContentFiltered => (
                "The model's content filter blocked this prompt (or the image made from it)."
                    .to_owned(),
                message.map(|m| format!("The model said: {m}")),
                "Rephrase the prompt, leaving out what the filter may object to, and submit it \
                 again. The same prompt will be blocked again.",
            ),
            Kind::ModelBusy => (
                "The image model was unavailable (busy or down) even after retries.".to_owned(),
                details,
                "Nothing is wrong with your prompt: submit it again in a few minutes.",
            ),
            Kind::QueueFull => (
                "The queue for the image model is full: your request was not queued.".to_owned(),
                details,
                "Nothing is wrong with your prompt: submit it again later, when the queue is \
                 shorter (the details say how far ahead the model is booked).",
            ),
            Kind::BudgetSpent => (
                "The monthly budget for image generation is spent: no more images are made until \
                 it is lifted."
                    .to_owned(),
                details,
                "Nothing is wrong with your prompt, and submitting it again now fails the same way. \
                 Ask whoever runs imagegen to raise the budget or lift the stop (cdk/DEPLOY.md, \
                 \"When the budget is spent\"), then submit it again.",
            ),
            // GenerateImage's message names the model and the current ones.
            Kind::ModelRetired => (
                "The image model has been retired: Bedrock no longer serves it (past its end of \
                 life, or no longer available to this account)."
                    .to_owned(),
                details,
                "Nothing is wrong with your prompt: submit it again with one of the current models \
                 named above. If you did not choose a model, the pipeline's default one was \
                 retired: forward this email to whoever runs imagegen, so that they make a \
                 current model the default.",
            ),
            Kind::ModelError => (
                "The image model refused the request or returned something that could not be used."
                    .to_owned(),
                details,
                "Check the model and options you chose, if any, and submit the prompt again. \
                 If it keeps happening, forward this email to whoever runs imagegen: the \
                 execution name lets them find the logs.",
            ),
            Kind::ImageInvalid => (
                "The generated image could not be read, so no thumbnails or links could be made."
                    .to_owned(),
                details,
                "Submit the prompt again. If it keeps happening, forward this email to whoever \
                 runs imagegen: the execution name lets them find the logs.",
            ),
            Kind::Timeout => (
                "A step took too long and was stopped before it finished.".to_owned(),
                details,
                "Submit the prompt again in a few minutes. If it keeps happening, forward this \
                 email to whoever runs imagegen: the execution name lets them find the logs.",
            ),
            Kind::TooLarge => (
                "The request was too large for the pipeline: Step Functions allows 256 KiB of data \
                 per step, and this run went over it."
                    .to_owned(),
                details,
                "Shorten the prompt or the input (leave out anything it does not need) and submit \
                 it again.",
            ),
            Kind::RunTimedOut => (
                "The run took longer than the pipeline allows and was stopped before it finished."
                    .to_owned(),
                details,
                "Submit the prompt again in a few minutes. If it keeps happening, forward this \
                 email to whoever runs imagegen: the execution name lets them find the logs.",
            ),
            Kind::Aborted => (
                "The run was stopped before it finished, so no image was made.".to_owned(),
                details,
                "If you did not stop it yourself, submit the prompt again. If it keeps happening, \
                 forward this email to whoever runs imagegen: the execution name lets them find \
                 the logs.",
            ),
            Kind::Internal => (
                format!("An internal error stopped the pipeline (execution {execution_name})."),
                Some(format!(
                    "Error: {}{}",
                    self.error,
                    message.map(|m| format!(": {m}")).unwrap_or_default()
                )),
                "This is not a problem with your prompt. Forward this email to whoever runs \
                 imagegen: the execution name and the error let them find the cause in the logs. \
                 You can also submit the prompt again later.",
            ),
        }
    }

    pub fn message(&self, execution_name: &str) -> Message {
        Message {
            subject: self.subject(),
            body: self.body(execution_name),
            attributes: vec![
                ("status".to_owned(), "FAILED".to_owned()),
                ("error".to_owned(), self.attribute_name()),
                ("execution".to_owned(), execution_attribute(execution_name)),
            ],
        }
    }

    /// The error name as a message attribute (never empty).
    pub fn attribute_name(&self) -> String {
        let name = ascii_line(&self.error);
        if name.is_empty() {
            UNKNOWN_ERROR.to_owned()
        } else {
            name
        }
    }
}

/// The execution name as a message attribute: the name itself, so that no two executions share
/// one (folding it to ASCII made `a\u{200b}b` and `a\u{202e}b` both `ab`). Step Functions names
/// hold no control characters; anything a String attribute cannot carry (outside XML's
/// characters, as SNS and SQS take them) is dropped all the same, and SNS refuses empty values.
pub fn execution_attribute(execution_name: &str) -> String {
    let name: String = execution_name
        .chars()
        .filter(
            |c| matches!(*c as u32, 0x9 | 0xA | 0xD | 0x20..=0xD7FF | 0xE000..=0xFFFD | 0x10000..),
        )
        .collect();
    if name.trim().is_empty() {
        super::event::UNKNOWN_EXECUTION.to_owned()
    } else {
        name
    }
}

/// The first non-blank string at any of `pointers`.
fn text_at<'a>(value: &'a Value, pointers: &[&str]) -> Option<&'a str> {
    pointers.iter().find_map(|p| {
        value
            .pointer(p)
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|s| !s.is_empty())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn lambda_error(name: &str, message: &str) -> Value {
        json!({
            "Error": name,
            "Cause": json!({"errorType": name, "errorMessage": message, "trace": ["a", "b"]}).to_string()
        })
    }

    fn body_for(error: Value) -> (Failure, String) {
        let failure = Failure::from_state(&json!({"prompt": "a cat", "error": error}));
        let body = failure.body("exec-1");
        (failure, body)
    }

    #[test]
    fn each_kind_has_its_own_words() {
        let cases = [
            (
                "PromptRejected",
                "prompt is empty",
                "Your prompt was rejected: prompt is empty",
            ),
            (
                "ContentFiltered",
                "blocked by our content filters",
                "The model's content filter blocked this prompt",
            ),
            (
                "ModelThrottled",
                "slow down",
                "The image model was unavailable (busy or down) even after retries.",
            ),
            (
                "ModelUnavailable",
                "503",
                "The image model was unavailable (busy or down) even after retries.",
            ),
            (
                "ModelError",
                "AccessDeniedException",
                "The image model refused the request",
            ),
            (
                "QueueFull",
                "booked 2 h ahead",
                "The queue for the image model is full: your request was not queued.",
            ),
            (
                "BudgetSpent",
                "the monthly budget for image generation is spent",
                "The monthly budget for image generation is spent: no more images are made until \
                 it is lifted.",
            ),
            (
                "ModelRetired",
                "amazon.titan-image-generator-v2:0 has been retired on Bedrock; current models: \
                 stability.stable-image-core-v1:1",
                "The image model has been retired: Bedrock no longer serves it",
            ),
            (
                "ImageInvalid",
                "not a PNG",
                "The generated image could not be read",
            ),
            (
                "StorageError",
                "access denied",
                "An internal error stopped the pipeline (execution exec-1).",
            ),
            (
                "ConfigError",
                "MODEL_ID is not set",
                "An internal error stopped the pipeline (execution exec-1).",
            ),
            (
                "Lambda.ServiceException",
                "Rate exceeded",
                "An internal error stopped the pipeline (execution exec-1).",
            ),
        ];
        for (name, message, words) in cases {
            let (failure, body) = body_for(lambda_error(name, message));
            assert!(body.contains(words), "{name}: {body}");
            assert!(body.contains(message), "{name}: {body}");
            assert!(body.contains("Prompt: a cat"), "{name}: {body}");
            assert!(body.contains("Execution: exec-1"), "{name}: {body}");
            assert!(body.contains(&format!("Error: {name}")), "{name}: {body}");
            assert!(body.contains("What to do next: "), "{name}: {body}");
            assert!(
                !body.contains("errorType"),
                "the JSON cause is unpacked: {body}"
            );
            assert!(!body.contains("trace"), "{body}");
            assert_eq!(
                failure.subject(),
                format!("imagegen: could not make your image ({name})")
            );
        }
    }

    #[test]
    fn internal_errors_name_the_error_and_message() {
        let (_, body) = body_for(lambda_error("StorageError", "PutObject denied"));
        assert!(
            body.contains("Error: StorageError: PutObject denied"),
            "{body}"
        );
        assert!(body.contains("not a problem with your prompt"), "{body}");
    }

    #[test]
    fn timeouts_have_no_cause() {
        let (failure, body) = body_for(json!({"Error": "States.Timeout"}));
        assert_eq!(failure.kind(), Kind::Timeout);
        assert_eq!(failure.message, None);
        assert!(body.contains("A step took too long"), "{body}");
        assert!(!body.contains("Details:"), "{body}");
    }

    #[test]
    fn odd_causes_fall_back_to_the_raw_text() {
        let cases = [
            (
                json!({"Error": "States.Runtime", "Cause": "The JSONPath '$.x' could not be found"}),
                Some("The JSONPath '$.x' could not be found"),
            ),
            (
                json!({"Error": "X", "Cause": "{\"errorType\": \"X\"}"}),
                Some("{\"errorType\": \"X\"}"),
            ),
            (
                json!({"Error": "X", "Cause": "{\"errorMessage\": \"  \"}"}),
                Some("{\"errorMessage\": \"  \"}"),
            ),
            (json!({"Error": "X", "Cause": "[1, 2"}), Some("[1, 2")),
            (json!({"Error": "X", "Cause": "   "}), None),
            (json!({"Error": "X", "Cause": 42}), None),
        ];
        for (error, expected) in cases {
            let failure = Failure::from_state(&json!({"error": error}));
            assert_eq!(failure.message.as_deref(), expected, "{error}");
        }
    }

    #[test]
    fn a_missing_error_or_state_still_makes_a_sensible_message() {
        for state in [
            json!(null),
            json!({}),
            json!("weird"),
            json!({"error": "oops"}),
            json!({"error": {}}),
        ] {
            let failure = Failure::from_state(&state);
            assert_eq!(failure.error, UNKNOWN_ERROR, "{state}");
            let body = failure.body("e-9");
            assert!(
                body.contains("An internal error stopped the pipeline (execution e-9)."),
                "{body}"
            );
            assert!(body.contains("Prompt: (not known"), "{body}");
            assert_eq!(
                failure.subject(),
                "imagegen: could not make your image (UnknownError)"
            );
            let message = failure.message("e-9");
            assert_eq!(
                message.attributes,
                [
                    ("status".to_owned(), "FAILED".to_owned()),
                    ("error".to_owned(), UNKNOWN_ERROR.to_owned()),
                    ("execution".to_owned(), "e-9".to_owned()),
                ]
            );
        }
    }

    #[test]
    fn the_prompt_comes_from_the_wrapped_execution_input() {
        // The state machine wraps the execution input as `$.input` before validating it.
        let console = Failure::from_state(&json!({"input": {"prompt": "a cat"}, "error": {}}));
        assert_eq!(console.prompt.as_deref(), Some("a cat"));
        let bare = Failure::from_state(&json!({"input": "a dog", "error": {}}));
        assert_eq!(bare.prompt.as_deref(), Some("a dog"));
        let upload = Failure::from_state(
            &json!({"input": {"source": {"bucket": "b", "key": "prompts/a.txt"}}, "error": {}}),
        );
        assert_eq!(upload.prompt_file.as_deref(), Some("s3://b/prompts/a.txt"));
    }

    #[test]
    fn the_prompt_comes_from_the_request_then_the_input() {
        let state = json!({
            "prompt": "raw console prompt",
            "request": {"prompt": "normalised prompt", "source": {"bucket": "b", "key": "prompts/a.txt"}},
            "error": {"Error": "ModelError"}
        });
        let failure = Failure::from_state(&state);
        assert_eq!(failure.prompt.as_deref(), Some("normalised prompt"));
        assert_eq!(failure.prompt_file.as_deref(), Some("s3://b/prompts/a.txt"));
        let upload =
            Failure::from_state(&json!({"source": {"bucket": "b", "key": "prompts/x y.txt"}}));
        assert_eq!(upload.prompt, None);
        let body = upload.body("e");
        assert!(
            body.contains("Prompt file: s3://b/prompts/x y.txt"),
            "{body}"
        );
        assert!(!body.contains("not known"), "{body}");
    }

    #[test]
    fn the_execution_attribute_is_the_name_itself() {
        assert_ne!(
            execution_attribute("a\u{200b}b"),
            execution_attribute("a\u{202e}b")
        );
        assert_eq!(execution_attribute("東京-1"), "東京-1");
        assert_eq!(execution_attribute("a\u{0}b\u{fffe}"), "ab");
        assert_eq!(
            execution_attribute(" "),
            super::super::event::UNKNOWN_EXECUTION
        );
    }

    #[test]
    fn a_blank_prompt_is_told_as_blank_not_as_unknown() {
        let state = json!({"input": {"prompt": "   "}, "error": {"Error": "PromptRejected", "Cause": "{\"errorMessage\": \"the prompt is empty\"}"}});
        let failure = Failure::from_state(&state);
        assert_eq!(failure.prompt.as_deref(), Some(""));
        let body = failure.body("e");
        assert!(body.contains("Prompt: (blank: nothing to draw)"), "{body}");
        assert!(!body.contains("not known"), "{body}");
        let unknown = Failure::from_state(&json!({"error": {"Error": "States.Timeout"}})).body("e");
        assert!(unknown.contains("not known"), "{unknown}");
    }

    #[test]
    fn the_request_warnings_are_repeated() {
        let state = json!({
            "request": {"prompt": "a fox", "warnings": [
                "amazon.titan-image-generator-v2:0 (Amazon Titan Image Generator v2) is a legacy model.",
                7
            ]},
            "error": lambda_error("ModelError", "amazon.titan-image-generator-v2:0 refused the request: access denied")
        });
        let (failure, body) = body_for_state(&state);
        assert_eq!(failure.warnings.len(), 1, "only strings are taken");
        assert!(
            body.contains(
                "access denied\n\nNote: amazon.titan-image-generator-v2:0 (Amazon Titan Image Generator v2) is a legacy model.\n\nPrompt: a fox"
            ),
            "{body}"
        );
        let (quiet, body) = body_for_state(&json!({"request": {"prompt": "a fox"}, "error": {}}));
        assert!(quiet.warnings.is_empty());
        assert!(!body.contains("Note:"), "{body}");
    }

    fn body_for_state(state: &Value) -> (Failure, String) {
        let failure = Failure::from_state(state);
        let body = failure.body("e");
        (failure, body)
    }

    #[test]
    fn rejected_without_a_reason() {
        let failure = Failure::from_state(&json!({"error": {"Error": "PromptRejected"}}));
        assert!(
            failure
                .body("e")
                .contains("Your prompt was rejected: no reason was given.")
        );
    }

    #[test]
    fn subjects_stay_within_sns_limits_for_odd_error_names() {
        let long = "Custom.".repeat(30) + "ErrorWith\nNewline—and unicode ☕";
        let failure = Failure::from_state(&json!({"error": {"Error": long}}));
        let subject = failure.subject();
        assert!(subject.len() <= SUBJECT_MAX, "{subject}");
        assert!(
            subject.chars().all(|c| c.is_ascii_graphic() || c == ' '),
            "{subject}"
        );
        assert!(subject.starts_with("imagegen: could not make your image (Custom."));
        assert!(subject.ends_with("...)"), "{subject}");
        let attribute = failure.attribute_name();
        assert!(attribute.is_ascii() && !attribute.contains('\n'));
    }

    #[test]
    fn runs_that_ended_outside_the_catches_have_their_own_words() {
        let too_large = Failure::from_state(&json!({"error": {
            "Error": "States.DataLimitExceeded",
            "Cause": "The state/task returned a result with a size exceeding the maximum number of bytes service limit."
        }}));
        assert_eq!(too_large.kind(), Kind::TooLarge);
        assert!(too_large.body("e").contains("too large for the pipeline"));
        let mut timed_out = Failure::from_state(&json!({"error": {"Error": "States.Timeout"}}));
        timed_out.ended = Some(Ended::TimedOut);
        assert!(
            timed_out
                .body("e")
                .contains("took longer than the pipeline allows")
        );
        let mut aborted = Failure::from_state(&json!({"error": {"Error": "UserStopped"}}));
        aborted.ended = Some(Ended::Aborted);
        let body = aborted.body("e");
        assert!(
            body.contains("The run was stopped before it finished"),
            "{body}"
        );
        assert!(body.contains("Error: UserStopped"), "{body}");
    }

    #[test]
    fn control_characters_are_shown_escaped() {
        let state = json!({
            "input": {"prompt": "a cat\u{0}\u{1b}[31m\u{7}", "source": {"bucket": "b", "key": "prompts/x\u{1b}]0;t\u{7}.txt"}},
            "error": {"Error": "PromptRejected", "Cause": "bad\u{202e}cause\r"}
        });
        let body = Failure::from_state(&state).body("e\u{1b}1");
        assert!(
            !body
                .chars()
                .any(|c| c != '\n' && crate::display::needs_escape(c)),
            "{body:?}"
        );
        assert!(body.contains("Prompt: a cat\\0\\x1b[31m\\x07"), "{body}");
        assert!(body.contains("prompts/x\\x1b]0;t\\x07.txt"), "{body}");
        assert!(body.contains("bad\\u202ecause"), "{body}");
    }

    #[test]
    fn long_messages_are_capped() {
        let (_, body) = body_for(lambda_error("StorageError", &"é".repeat(5000)));
        assert!(body.chars().count() < 3000, "{}", body.len());
        assert!(body.contains('…'));
    }
}
