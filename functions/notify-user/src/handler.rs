//! The Lambda handler.

use std::time::{Duration, SystemTime};

use aws_smithy_types::DateTime;
use aws_smithy_types::date_time::Format;
use imagegen_core::PipelineError;
use imagegen_core::ports::{Notifier, ObjectStore};
use imagegen_core::types::{
    GenerationResult, ImageRequest, NotificationResult, NotifyEvent, ThumbnailsResult,
};
use serde_json::Value;

use imagegen_core::notify::event;
use imagegen_core::notify::failure_email::Failure;
use imagegen_core::notify::human::s3_uri;
use imagegen_core::notify::one_email::{Ledger, Sender, Sent};

use crate::config::Config;
use crate::success::{Link, SuccessEmail};
use crate::{checks, manifest};

/// Notify the user of a finished run (see [`handle_at`]).
pub async fn handle<S: ObjectStore, N: Notifier>(
    config: &Config,
    store: &S,
    notifier: &N,
    event: Value,
) -> Result<NotificationResult, PipelineError> {
    handle_at(config, store, notifier, event, SystemTime::now()).await
}

/// Notify the user, with `now` as the time the links are signed.
///
/// `SUCCEEDED`: check that every object the event names is this request's output in the configured
/// bucket (else `InvalidEvent`), write the manifest unless another run's is there (a failure is
/// `StorageError`), presign a link to each image and thumbnail, publish. `FAILED`: publish an
/// explanation. Either way the email is sent at most once per execution
/// ([`imagegen_core::notify::one_email`]): a retry, or a failure email after a success email was
/// sent, finds the execution's notification record and sends nothing. A failed publish is `NotifyError`; both errors are retried by the state
/// machine (the retry finds its own manifest and goes on).
pub async fn handle_at<S: ObjectStore, N: Notifier>(
    config: &Config,
    store: &S,
    notifier: &N,
    event: Value,
    now: SystemTime,
) -> Result<NotificationResult, PipelineError> {
    match event::parse(event)? {
        NotifyEvent::Succeeded {
            execution_name,
            request,
            generation,
            thumbnails,
        } => {
            let run = Succeeded {
                execution_name: &execution_name,
                request: &request,
                generation: &generation,
                thumbnails: &thumbnails,
            };
            run.notify(config, store, notifier, now).await
        }
        NotifyEvent::Failed {
            execution_name,
            state,
        } => {
            let failure = Failure::from_state(&state);
            tracing::info!(
                execution_name = %execution_name,
                error = %failure.error,
                "notifying failure"
            );
            let message = failure.message(&execution_name);
            let sent = ledger(config, store)
                .send_once(notifier, &execution_name, "FAILED", &message)
                .await?;
            Ok(result("FAILED", sent, message.subject, None))
        }
    }
}

struct Succeeded<'a> {
    execution_name: &'a str,
    request: &'a ImageRequest,
    generation: &'a GenerationResult,
    thumbnails: &'a ThumbnailsResult,
}

impl Succeeded<'_> {
    async fn notify<S: ObjectStore, N: Notifier>(
        &self,
        config: &Config,
        store: &S,
        notifier: &N,
        now: SystemTime,
    ) -> Result<NotificationResult, PipelineError> {
        checks::outputs(
            &config.output_bucket,
            self.request,
            self.generation,
            self.thumbnails,
        )?;
        let output = &self.request.output;
        let manifest = manifest::build(
            self.execution_name,
            self.request,
            self.generation,
            self.thumbnails,
        );
        manifest::write_new(store, output, &manifest).await?;

        let expiry = config.presign_expiry;
        let mut image_links = Vec::with_capacity(self.generation.images.len());
        for image in &self.generation.images {
            image_links.push(link(store, &image.bucket, &image.key, expiry).await);
        }
        let mut thumbnail_links = Vec::with_capacity(self.thumbnails.thumbnails.len());
        for thumbnail in &self.thumbnails.thumbnails {
            thumbnail_links.push(link(store, &output.bucket, &thumbnail.key, expiry).await);
        }
        let email = SuccessEmail {
            execution_name: self.execution_name,
            request: self.request,
            generation: self.generation,
            thumbnails: self.thumbnails,
            image_links,
            thumbnail_links,
            expiry,
            expires_at: rfc3339(now + expiry),
        };
        let message = email.message();
        tracing::info!(
            execution_name = %self.execution_name,
            images = self.generation.images.len(),
            thumbnails = self.thumbnails.thumbnails.len(),
            manifest_key = %output.manifest_key,
            "notifying success"
        );
        let sent = ledger(config, store)
            .send_once(notifier, self.execution_name, "SUCCEEDED", &message)
            .await?;
        Ok(result(
            "SUCCEEDED",
            sent,
            message.subject,
            Some(output.manifest_key.clone()),
        ))
    }
}

/// A presigned link; a signing problem leaves the `s3://` URI alone rather than failing the email.
async fn link<S: ObjectStore>(store: &S, bucket: &str, key: &str, expiry: Duration) -> Link {
    let url = store.presign_get(bucket, key, expiry).await.map_err(|e| {
        tracing::warn!(%bucket, %key, error = %e, "could not presign a link");
        e.to_string()
    });
    Link {
        url,
        s3_uri: s3_uri(bucket, key),
    }
}

fn ledger<'a, S: ObjectStore>(config: &'a Config, store: &'a S) -> Ledger<'a, S> {
    Ledger {
        store,
        bucket: &config.output_bucket,
        sender: Sender::NotifyUser,
    }
}

fn result(
    status: &str,
    sent: Sent,
    subject: String,
    manifest_key: Option<String>,
) -> NotificationResult {
    let (message_id, already_sent) = match sent {
        Sent::New { message_id } => (message_id, false),
        Sent::Already => (String::new(), true),
    };
    NotificationResult {
        status: status.to_owned(),
        message_id,
        subject,
        manifest_key,
        already_sent,
    }
}

fn rfc3339(at: SystemTime) -> Option<String> {
    DateTime::from(at).fmt(Format::DateTime).ok()
}
