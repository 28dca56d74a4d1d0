//! One email per execution, whoever sends it.
//!
//! Two senders may write about the same execution: notify-user (NotifySuccess / NotifyFailure in
//! the state machine, retried on errors) and notify-backstop (for executions that ended without an
//! email: `States.DataLimitExceeded`, a machine-level time-out, an abort). Both first create
//! `notifications/{executionName}.json` with S3's `If-None-Match: *`, which exactly one writer
//! wins, and only the winner publishes. The record is the same on AWS and locally.
//!
//! A failed publish deletes the record again, so a retry (or the backstop) can still send; after a
//! publish the record is rewritten with the message id. What this cannot rule out: a process that
//! dies between creating the record and publishing leaves a record and no email. That window is one
//! SNS call; the other choice (publish, then record) would send a second email whenever the record
//! write fails, and "never a second one" is the promise.

use crate::PipelineError;
use crate::keys::notification_key;
use crate::ports::{Message, Notifier, ObjectStore, StoreError};
use serde::Serialize;

use super::event::UNKNOWN_EXECUTION;

const CONTENT_TYPE: &str = "application/json";

/// Who sends, for the record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sender {
    NotifyUser,
    Backstop,
}

impl Sender {
    fn as_str(self) -> &'static str {
        match self {
            Self::NotifyUser => "notify-user",
            Self::Backstop => "notify-backstop",
        }
    }
}

/// What [`Ledger::send_once`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sent {
    /// This call published the email.
    New { message_id: String },
    /// The execution's email was claimed before (by an earlier attempt or the other sender).
    Already,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Record<'a> {
    execution_name: &'a str,
    sent_by: &'a str,
    subject: &'a str,
    status: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    message_id: Option<&'a str>,
}

/// Where the records of one deployment are kept.
#[derive(Debug, Clone, Copy)]
pub struct Ledger<'a, S> {
    pub store: &'a S,
    pub bucket: &'a str,
    pub sender: Sender,
}

impl<S: ObjectStore> Ledger<'_, S> {
    /// Publish `message` for `execution_name` unless its email was claimed already.
    ///
    /// An execution without a usable name (a malformed failure event) cannot be told apart from
    /// others, so its email is sent unclaimed: silence would be worse.
    pub async fn send_once<N: Notifier>(
        &self,
        notifier: &N,
        execution_name: &str,
        status: &str,
        message: &Message,
    ) -> Result<Sent, PipelineError> {
        if execution_name.trim().is_empty() || execution_name == UNKNOWN_EXECUTION {
            let message_id = publish(notifier, message).await?;
            return Ok(Sent::New { message_id });
        }
        let key = notification_key(execution_name);
        let record = |message_id: Option<&str>| {
            serde_json::to_vec(&Record {
                execution_name,
                sent_by: self.sender.as_str(),
                subject: &message.subject,
                status,
                message_id,
            })
            .unwrap_or_default()
        };
        match self
            .store
            .put_new(self.bucket, &key, record(None), CONTENT_TYPE)
            .await
        {
            Ok(()) => {}
            Err(StoreError::AlreadyExists { .. }) => {
                tracing::info!(%execution_name, %key, "the email for this execution was sent already");
                return Ok(Sent::Already);
            }
            Err(e) => {
                return Err(PipelineError::StorageError(format!(
                    "could not record that the email for execution {execution_name} is being sent: {e}"
                )));
            }
        }
        let message_id = match publish(notifier, message).await {
            Ok(id) => id,
            Err(e) => {
                // Give the claim back so that a retry or the backstop can send.
                if let Err(release) = self.store.delete(self.bucket, &key).await {
                    tracing::error!(%key, error = %release, "could not release the notification claim");
                }
                return Err(e);
            }
        };
        let rewrite = self
            .store
            .put(self.bucket, &key, record(Some(&message_id)), CONTENT_TYPE)
            .await;
        if let Err(e) = rewrite {
            // The email is out and the claim stands; only the message id is missing from it.
            tracing::warn!(%key, error = %e, "could not add the message id to the notification record");
        }
        Ok(Sent::New { message_id })
    }
}

async fn publish<N: Notifier>(notifier: &N, message: &Message) -> Result<String, PipelineError> {
    notifier.publish(message).await.map_err(|e| {
        tracing::error!(error = %e, "publish failed");
        PipelineError::NotifyError(e)
    })
}
