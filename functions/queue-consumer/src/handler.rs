//! The handler: one execution per message, and the messages that failed reported by id.
//!
//! Lambda's event source mapping (with `ReportBatchItemFailures`) deletes the messages not reported
//! and lets the reported ones come back after their visibility timeout, until the queue's
//! `maxReceiveCount` moves them to the dead-letter queue, whose alarm tells the operators. So one bad
//! message neither blocks the others nor makes them run twice, and it ends in the dead-letter queue,
//! not in silence. Its reasons are logged at every delivery.
//!
//! The execution's name comes from the queue and the message id ([`door_name`]): a redelivered
//! message (after a timeout, or a failure reported after its start) computes the same name, and
//! Step Functions starts nothing new for it.

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent, SqsMessage};
use imagegen_core::PipelineError;
use imagegen_core::execution_name::door_name;
use imagegen_core::limits;
use imagegen_core::ports::{ExecutionStarter, StartOutcome};
use imagegen_core::request;
use serde_json::Value;

use crate::config::Config;

/// The execution names' word for this door.
pub const DOOR: &str = "sqs";

/// What became of one message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Started {
        execution_name: String,
    },
    /// Started by an earlier delivery of the same message.
    AlreadyStarted {
        execution_name: String,
    },
    /// Reported as a failure: it comes back, and after `maxReceiveCount` deliveries goes to the
    /// dead-letter queue.
    Failed {
        reason: String,
    },
}

/// Start an execution for each message of an SQS event; the response names the messages that
/// failed. Only an event that is not an SQS event at all is an error (the whole batch comes back).
pub async fn handle<St: ExecutionStarter>(
    config: &Config,
    starter: &St,
    event: Value,
) -> Result<SqsBatchResponse, PipelineError> {
    Ok(response(&consume_all(config, starter, event).await?))
}

/// The batch response for these outcomes: the messages that failed, by id.
pub fn response(outcomes: &[(String, Outcome)]) -> SqsBatchResponse {
    let mut response = SqsBatchResponse::default();
    for (id, outcome) in outcomes {
        if matches!(outcome, Outcome::Failed { .. }) {
            response.add_failure(id.clone());
        }
    }
    response
}

/// What became of each message of an SQS event (by message id), each logged.
pub async fn consume_all<St: ExecutionStarter>(
    config: &Config,
    starter: &St,
    event: Value,
) -> Result<Vec<(String, Outcome)>, PipelineError> {
    let event: SqsEvent = serde_json::from_value(event)
        .map_err(|e| PipelineError::InvalidEvent(format!("not an SQS event: {e}")))?;
    let mut outcomes = Vec::with_capacity(event.records.len());
    for message in &event.records {
        let Some(id) = message.message_id.as_deref().filter(|id| !id.is_empty()) else {
            // Without an id it cannot be reported alone: the whole batch comes back instead.
            return Err(PipelineError::InvalidEvent(
                "a record of the SQS event has no messageId".to_owned(),
            ));
        };
        let outcome = consume(config, starter, id, message).await;
        match &outcome {
            Outcome::Started { execution_name } => {
                tracing::info!(message_id = id, execution_name, "execution started");
            }
            Outcome::AlreadyStarted { execution_name } => {
                tracing::info!(
                    message_id = id,
                    execution_name,
                    "delivered again; nothing new started"
                );
            }
            Outcome::Failed { reason } => {
                tracing::warn!(
                    message_id = id,
                    reason,
                    "message not started; reported as a batch item failure"
                );
            }
        }
        outcomes.push((id.to_owned(), outcome));
    }
    Ok(outcomes)
}

/// One message.
pub async fn consume<St: ExecutionStarter>(
    config: &Config,
    starter: &St,
    id: &str,
    message: &SqsMessage,
) -> Outcome {
    let body = message.body.as_deref().unwrap_or_default();
    let accepted = match request::check(body.as_bytes(), &config.rules) {
        Ok(accepted) => accepted,
        Err(refused) => {
            return Outcome::Failed {
                reason: format!("the message is not an acceptable request: {refused}"),
            };
        }
    };
    let input = accepted.input.to_string();
    if let Err(e) = limits::check_execution_input(&input) {
        return Outcome::Failed {
            reason: e.to_string(),
        };
    }
    let queue = message.event_source_arn.as_deref().unwrap_or_default();
    let execution_name = door_name(DOOR, &[queue, id]);
    match starter.start(&execution_name, &input).await {
        Ok(StartOutcome::Started { .. }) => Outcome::Started { execution_name },
        Ok(StartOutcome::AlreadyExists) => Outcome::AlreadyStarted { execution_name },
        Err(reason) => Outcome::Failed { reason },
    }
}
