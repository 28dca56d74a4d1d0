//! Start an execution of a deployed state machine and follow it to its end.

use std::io::Write;
use std::time::Duration;

use aws_sdk_sfn::types::{ExecutionStatus, HistoryEvent, HistoryEventType};
use serde_json::Value;

use crate::error::DeployedClientError;
use imagegen_core::error::cause_message;

/// How a followed execution ended.
#[derive(Debug, Clone)]
pub struct Followed {
    pub execution_arn: String,
    pub status: ExecutionStatus,
    pub output: Option<String>,
    pub error: Option<String>,
    pub cause: Option<String>,
    pub events: Vec<HistoryEvent>,
}

impl Followed {
    pub fn succeeded(&self) -> bool {
        self.status == ExecutionStatus::Succeeded
    }

    /// The JSON outputs of every state that finished, merged (later states win).
    pub fn state_outputs(&self) -> serde_json::Map<String, Value> {
        let mut merged = serde_json::Map::new();
        for event in &self.events {
            let output = event
                .state_exited_event_details()
                .and_then(|d| d.output())
                .and_then(|o| serde_json::from_str::<Value>(o).ok());
            if let Some(Value::Object(map)) = output {
                merged.extend(map);
            }
        }
        merged
    }
}

fn sfn_error<E>(
    e: aws_sdk_sfn::error::SdkError<E, aws_sdk_sfn::config::http::HttpResponse>,
) -> DeployedClientError
where
    E: aws_sdk_sfn::error::ProvideErrorMetadata + std::error::Error + 'static,
{
    DeployedClientError::aws("Step Functions", imagegen_aws::error_text(&e))
}

/// One progress line for an event, if it deserves one.
pub fn progress_line(event: &HistoryEvent) -> Option<String> {
    let kind = event.r#type().as_str();
    if let Some(d) = event.state_entered_event_details() {
        return Some(format!("▶ {}", d.name()));
    }
    if let Some(d) = event.state_exited_event_details() {
        return Some(format!("✓ {}", d.name()));
    }
    let failure = |error: Option<&str>, cause: Option<&str>| {
        format!(
            "  ✗ {}: {}",
            error.unwrap_or("error"),
            cause.map(cause_message).unwrap_or_default()
        )
    };
    if let Some(d) = event.lambda_function_failed_event_details() {
        return Some(failure(d.error(), d.cause()));
    }
    if let Some(d) = event.task_failed_event_details() {
        return Some(failure(d.error(), d.cause()));
    }
    match event.r#type() {
        HistoryEventType::LambdaFunctionTimedOut => Some("  ✗ States.Timeout".to_owned()),
        HistoryEventType::ExecutionFailed => Some(format!("✗ execution failed ({kind})")),
        _ => None,
    }
}

async fn history(
    sfn: &aws_sdk_sfn::Client,
    arn: &str,
) -> Result<Vec<HistoryEvent>, DeployedClientError> {
    let mut events = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let page = sfn
            .get_execution_history()
            .execution_arn(arn)
            .max_results(1000)
            .set_next_token(token.take())
            .send()
            .await
            .map_err(sfn_error)?;
        events.extend(page.events().iter().cloned());
        match page.next_token() {
            Some(next) if !next.is_empty() => token = Some(next.to_owned()),
            _ => return Ok(events),
        }
    }
}

/// StartExecution, then poll every `poll` until it ends, printing each new state to `out`.
pub async fn start_and_follow(
    sfn: &aws_sdk_sfn::Client,
    state_machine_arn: &str,
    name: &str,
    input: &Value,
    poll: Duration,
    out: &mut (dyn Write + Send),
) -> Result<Followed, DeployedClientError> {
    let started = sfn
        .start_execution()
        .state_machine_arn(state_machine_arn)
        .name(name)
        .input(input.to_string())
        .send()
        .await
        .map_err(sfn_error)?;
    let arn = started.execution_arn().to_owned();
    writeln!(out, "Execution {arn}").ok();
    let mut printed = 0;
    loop {
        // Describe first: once it says the run ended, the history fetched next is complete.
        let described = sfn
            .describe_execution()
            .execution_arn(&arn)
            .send()
            .await
            .map_err(sfn_error)?;
        let events = history(sfn, &arn).await?;
        for event in events.iter().skip(printed) {
            if let Some(line) = progress_line(event) {
                writeln!(out, "{line}").ok();
            }
        }
        printed = events.len();
        if *described.status() != ExecutionStatus::Running {
            return Ok(Followed {
                execution_arn: arn,
                status: described.status().clone(),
                output: described.output().map(str::to_owned),
                error: described.error().map(str::to_owned),
                cause: described.cause().map(str::to_owned),
                events,
            });
        }
        tokio::time::sleep(poll).await;
    }
}
