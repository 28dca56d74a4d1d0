//! Step Functions' payload limit, and the largest execution input the pipeline takes.
//!
//! Every state's input and output is limited to 256 KiB. An execution input that passes
//! StartExecution (itself limited to 256 KiB) can still break the run later: the first state wraps it
//! (`{"input": ...}`), ValidatePrompt adds the validated request (the prompt again), and the later
//! states add their results. Past the limit a state fails with `States.DataLimitExceeded`, which no
//! `Catch` can handle, on AWS as locally. So every front door that starts executions calls
//! [`check_execution_input`], which refuses an input over [`MAX_EXECUTION_INPUT_BYTES`] before
//! anything starts. Four do: the start-execution, http-api and queue-consumer functions, and the
//! command line's local pipeline (`LocalPipeline::start`, behind `imagegen run` and the console's
//! Start execution). The limit is half the payload limit, which leaves the other half for what the
//! states add (a valid request is far smaller: a prompt is at most 10,000 characters).

/// Step Functions' limit on a state's payload and on StartExecution's input, in bytes (UTF-8).
pub const PAYLOAD_LIMIT_BYTES: usize = 256 * 1024;

/// The largest execution input the pipeline accepts, in bytes (UTF-8 JSON text).
pub const MAX_EXECUTION_INPUT_BYTES: usize = PAYLOAD_LIMIT_BYTES / 2;

/// An execution input too large for the pipeline.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "the execution input is {size} bytes; the pipeline takes at most {limit} bytes (Step Functions \
     allows {payload} bytes per state, and the states add to the input as they run): shorten the \
     prompt or leave out what it does not need"
)]
pub struct InputTooLarge {
    pub size: usize,
    pub limit: usize,
    pub payload: usize,
}

/// `Ok` when the execution input `json` (as sent to StartExecution) is small enough.
pub fn check_execution_input(json: &str) -> Result<(), InputTooLarge> {
    if json.len() > MAX_EXECUTION_INPUT_BYTES {
        return Err(InputTooLarge {
            size: json.len(),
            limit: MAX_EXECUTION_INPUT_BYTES,
            payload: PAYLOAD_LIMIT_BYTES,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inputs_over_half_the_payload_limit_are_refused() {
        assert!(check_execution_input(&"x".repeat(MAX_EXECUTION_INPUT_BYTES)).is_ok());
        let err = check_execution_input(&"x".repeat(MAX_EXECUTION_INPUT_BYTES + 1)).unwrap_err();
        assert_eq!(err.size, 131_073);
        let text = err.to_string();
        assert!(
            text.starts_with("the execution input is 131073 bytes"),
            "{text}"
        );
        assert!(text.contains("at most 131072 bytes"), "{text}");
    }
}
