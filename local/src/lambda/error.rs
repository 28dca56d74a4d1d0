//! How an invocation fails, named as the Lambda service names it, so the callers (the local Step
//! Functions `Retry`/`Catch`, API Gateway's 502) see the error types they would see on AWS.

use std::process::ExitStatus;
use std::time::Duration;

/// An invocation that did not produce a response: the function's own error (posted to
/// `invocation/{id}/error` or `init/error`) or the service's (timeout, crash, throttle).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{error_type}: {message}")]
pub struct InvokeError {
    /// `Sandbox.Timedout`, `Runtime.ExitError`, the function's own `errorType`, ...
    pub error_type: String,
    /// A sentence for a person (Lambda's own wording where it has one).
    pub message: String,
}

impl InvokeError {
    pub fn new(error_type: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            error_type: error_type.into(),
            message: message.into(),
        }
    }

    /// The deadline passed; the process was killed (Lambda's wording and type).
    pub(super) fn timed_out(request_id: &str, timeout: Duration) -> Self {
        Self::new(
            "Sandbox.Timedout",
            format!(
                "RequestId: {request_id} Error: Task timed out after {:.2} seconds",
                timeout.as_secs_f64()
            ),
        )
    }

    /// The process exited (or was killed by a signal) before it answered.
    pub(super) fn exited(request_id: &str, status: ExitStatus) -> Self {
        let reason = match (status.code(), signal_name(status)) {
            // Lambda's words when the runtime exits cleanly in the middle of an invocation.
            (Some(0), _) => "Runtime exited without providing a reason".to_owned(),
            (Some(code), _) => format!("Runtime exited with error: exit status {code}"),
            (None, Some(signal)) => format!("Runtime exited with error: signal: {signal}"),
            (None, None) => format!("Runtime exited with error: {status}"),
        };
        Self::new(
            "Runtime.ExitError",
            format!("RequestId: {request_id} Error: {reason}"),
        )
    }

    /// The process could not be started at all (Lambda's type for a bad `bootstrap`).
    pub(super) fn invalid_entrypoint(request_id: &str, detail: &str) -> Self {
        Self::new(
            "Runtime.InvalidEntrypoint",
            format!("RequestId: {request_id} Error: {detail}"),
        )
    }

    /// The runtime reported `init/error`; its own type when it gave one.
    pub(super) fn init_failed(error_type: Option<String>, message: String) -> Self {
        Self::new(
            error_type.unwrap_or_else(|| "Runtime.InitError".to_owned()),
            message,
        )
    }

    /// The response was over the synchronous invocation limit.
    pub(super) fn response_too_large(limit: usize) -> Self {
        Self::new(
            "Function.ResponseSizeTooLarge",
            format!("Response payload size exceeded maximum allowed payload size ({limit} bytes)."),
        )
    }

    /// The twin's own: `invoke` hands callers a JSON value, and this response is not one (Lambda
    /// itself passes any bytes through; every caller in this pipeline parses them as JSON).
    pub(super) fn invalid_response(error: &serde_json::Error) -> Self {
        Self::new(
            "InvalidResponsePayload",
            format!("The function's response is not JSON: {error}."),
        )
    }

    /// A reserved concurrency of 0 stops every invocation, as on AWS.
    pub(super) fn throttled(function: &str) -> Self {
        Self::new(
            "TooManyRequestsException",
            format!(
                "Rate Exceeded: the reserved concurrency of function {function} is 0, so it is \
                 never invoked."
            ),
        )
    }

    /// The service is stopping (Ctrl-C); what Lambda answers for a failure of its own.
    pub(super) fn shutting_down(function: &str) -> Self {
        Self::new(
            "ServiceException",
            format!("The local Lambda service is shutting down; function {function} was stopped."),
        )
    }

    /// Something on this side failed (the log file, the Runtime API's socket).
    pub(super) fn service(message: String) -> Self {
        Self::new("ServiceException", message)
    }
}

/// The signal that ended the process, in Go's words (Lambda's messages come from Go's
/// `exec.ExitError`: `signal: killed`).
fn signal_name(status: ExitStatus) -> Option<String> {
    use std::os::unix::process::ExitStatusExt;
    let signal = status.signal()?;
    let name = match signal {
        6 => "aborted",
        9 => "killed",
        11 => "segmentation fault",
        15 => "terminated",
        other => return Some(format!("signal {other}")),
    };
    Some(name.to_owned())
}
