//! The Lambda handler.

use imagegen_core::PipelineError;
use imagegen_core::error::default_error_of_status;
use imagegen_core::limits::PAYLOAD_LIMIT_BYTES;
use imagegen_core::notify::failure_email::{Ended, Failure};
use imagegen_core::notify::one_email::{Ledger, Sender, Sent};
use imagegen_core::ports::{ExecutionDescriber, Notifier, ObjectStore};
use serde::Serialize;
use serde_json::{Value, json};

use crate::config::Config;
use crate::event::{self, StatusChange};

/// The statuses that may have ended an execution without an email.
pub const STATUSES: [&str; 3] = ["FAILED", "TIMED_OUT", "ABORTED"];

/// What the handler did (its result, for the logs).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "camelCase")]
pub enum Outcome {
    /// This invocation sent the failure email.
    #[serde(rename_all = "camelCase")]
    Sent {
        execution_name: String,
        message_id: String,
    },
    /// The execution's email had been sent (by NotifySuccess, NotifyFailure or an earlier delivery).
    #[serde(rename_all = "camelCase")]
    AlreadySent { execution_name: String },
    /// Not a status that ends without an email (the rule should not have sent it).
    #[serde(rename_all = "camelCase")]
    Ignored {
        execution_name: String,
        status: String,
    },
}

/// Send the failure email for an execution that ended `FAILED`, `TIMED_OUT` or `ABORTED`, unless
/// its email was sent already.
///
/// The status, error and cause come from the event; when the event leaves out the input (too
/// large) or the error, DescribeExecution is asked. A failed DescribeExecution still sends the email
/// with what is known: the email is the user's only news. The input is read only while it is within
/// Step Functions' payload limit, whatever the event says about its size.
pub async fn handle<S: ObjectStore, N: Notifier, D: ExecutionDescriber>(
    config: &Config,
    store: &S,
    notifier: &N,
    describer: &D,
    event: Value,
) -> Result<Outcome, PipelineError> {
    let mut change = event::parse(&event)?;
    if !STATUSES.contains(&change.status.as_str()) {
        return Ok(Outcome::Ignored {
            execution_name: change.name,
            status: change.status,
        });
    }
    if change.input.is_none() || change.error.is_none() {
        complete(&mut change, describer).await;
    }
    let failure = failure_of(&change);
    tracing::info!(
        execution_name = %change.name,
        status = %change.status,
        error = %failure.error,
        "execution ended outside the pipeline's catches; sending its failure email unless sent"
    );
    let message = failure.message(&change.name);
    let ledger = Ledger {
        store,
        bucket: &config.bucket,
        sender: Sender::Backstop,
    };
    match ledger
        .send_once(notifier, &change.name, &change.status, &message)
        .await?
    {
        Sent::New { message_id } => Ok(Outcome::Sent {
            execution_name: change.name,
            message_id,
        }),
        Sent::Already => Ok(Outcome::AlreadySent {
            execution_name: change.name,
        }),
    }
}

/// Fill in what the event left out from DescribeExecution.
async fn complete<D: ExecutionDescriber>(change: &mut StatusChange, describer: &D) {
    match describer.describe(&change.execution_arn).await {
        Ok(described) => {
            change.input = change.input.take().or(described.input);
            change.error = change.error.take().or(described.error);
            change.cause = change.cause.take().or(described.cause);
        }
        Err(e) => {
            tracing::warn!(execution_arn = %change.execution_arn, error = %e, "DescribeExecution failed; the email says what the event says");
        }
    }
}

/// The failure as the email tells it, from the status, error, cause and input.
pub fn failure_of(change: &StatusChange) -> Failure {
    let default_error = default_error_of_status(&change.status);
    let ended = match change.status.as_str() {
        "TIMED_OUT" => Some(Ended::TimedOut),
        "ABORTED" => Some(Ended::Aborted),
        _ => None,
    };
    let input = change
        .input
        .as_deref()
        .filter(|i| i.len() <= PAYLOAD_LIMIT_BYTES)
        .and_then(|i| serde_json::from_str::<Value>(i).ok())
        .unwrap_or(Value::Null);
    let state = json!({
        "input": input,
        "error": {
            "Error": change.error.as_deref().unwrap_or(default_error),
            "Cause": change.cause,
        }
    });
    let mut failure = Failure::from_state(&state);
    failure.ended = ended;
    failure
}
