//! `GET /images/{requestId}`: where a request is (DescribeExecution), and once it succeeded, its
//! images and thumbnails with presigned links and sizes (from its manifest,
//! `results/{requestId}.json`). `?wait=N` (N <= [`MAX_WAIT_SECONDS`]) holds the answer until the
//! execution ends or N seconds pass, polling every [`POLL`]: API Gateway gives an integration
//! 29 seconds, so 25 leaves room for the rest.
//!
//! Only the caller who started a request is told about it ([`owner`]); to anyone else, and for the
//! requests of the other doors, the answer is the 404 of an id that was never started.

use std::time::Duration;

use imagegen_core::error::{cause_message, default_error_of_status};
use imagegen_core::keys;
use imagegen_core::ports::{
    DescribeError, DescribedExecution, ExecutionDescriber, ObjectStore, StoreError,
};
use imagegen_core::types::Manifest;
use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, RequestExt, Response};
use tokio::time::Instant;

use crate::bodies::{ImageLinks, Phase, Status, ThumbnailLink};
use crate::config::Config;
use crate::failure::Failure;
use crate::{ids, owner, responses, routes};

/// The longest `?wait` taken, in seconds.
pub const MAX_WAIT_SECONDS: u64 = 25;
/// How often a waiting answer asks Step Functions again.
pub const POLL: Duration = Duration::from_secs(1);
/// The largest manifest read (a manifest is a few kilobytes).
pub const MAX_MANIFEST_BYTES: u64 = 1024 * 1024;

/// Step Functions statuses of an execution that has not ended.
const UNFINISHED: [&str; 2] = ["RUNNING", "PENDING_REDRIVE"];

/// Answer a GET from `caller`.
pub async fn status<D: ExecutionDescriber, S: ObjectStore>(
    config: &Config,
    describer: &D,
    store: &S,
    caller: &str,
    request: &Request,
) -> Response<Body> {
    let params = request.path_parameters();
    let request_id = params.first(routes::REQUEST_ID).unwrap_or_default();
    let wait = match wait_of(request) {
        Ok(wait) => wait,
        Err(problem) => return responses::message(StatusCode::BAD_REQUEST, problem),
    };
    let not_found = || {
        responses::message(
            StatusCode::NOT_FOUND,
            format!(
                "There is no request {}.",
                imagegen_core::display::escape_controls(request_id)
            ),
        )
    };
    // Another caller's request is answered as one never started: before Step Functions is asked,
    // so neither the answer nor its timing tells the two apart.
    let Some(arn) = ids::execution_name(request_id)
        .filter(|name| owner::started_by(name, caller))
        .map(|name| config.state_machine_arn.execution(name))
    else {
        return not_found();
    };
    let described = match described_by(describer, &arn, wait).await {
        Ok(described) => described,
        Err(DescribeError::NotFound(_)) => return not_found(),
        Err(DescribeError::Other(e)) => return Failure::NotDescribed(e).answer(request),
    };
    let mut answer = Status {
        request_id: request_id.to_owned(),
        status: Phase::Running,
        execution_status: described.status.clone(),
        error: None,
        reason: None,
        images: Vec::new(),
        links_expire_in_seconds: None,
        message: None,
    };
    match described.status.as_str() {
        s if UNFINISHED.contains(&s) => {}
        "SUCCEEDED" => {
            answer.status = Phase::Succeeded;
            if let Err(failure) = add_links(config, store, &mut answer).await {
                return failure.answer(request);
            }
        }
        other => {
            let (error, reason) = failure(other, &described);
            answer.status = Phase::Failed;
            answer.error = Some(error);
            answer.reason = Some(reason);
        }
    }
    responses::json(StatusCode::OK, &answer)
}

/// `?wait=N`: 0 (the default) to [`MAX_WAIT_SECONDS`] whole seconds.
fn wait_of(request: &Request) -> Result<Duration, String> {
    let params = request.query_string_parameters();
    let Some(text) = params.first("wait") else {
        return Ok(Duration::ZERO);
    };
    match text.trim().parse::<u64>() {
        Ok(n) if n <= MAX_WAIT_SECONDS => Ok(Duration::from_secs(n)),
        _ => Err(format!(
            "wait must be a whole number of seconds from 0 to {MAX_WAIT_SECONDS}, got {}.",
            imagegen_core::display::escape_controls(text)
        )),
    }
}

/// DescribeExecution, again every [`POLL`] while the execution runs, for at most `wait`.
async fn described_by<D: ExecutionDescriber>(
    describer: &D,
    arn: &str,
    wait: Duration,
) -> Result<DescribedExecution, DescribeError> {
    let deadline = Instant::now() + wait;
    loop {
        let described = describer.describe(arn).await?;
        let now = Instant::now();
        if !UNFINISHED.contains(&described.status.as_str()) || now >= deadline {
            return Ok(described);
        }
        tokio::time::sleep(POLL.min(deadline - now)).await;
    }
}

/// The error name and the reason of an execution that ended without success.
fn failure(status: &str, described: &DescribedExecution) -> (String, String) {
    let default_reason = match status {
        "TIMED_OUT" => "the execution ran out of time",
        "ABORTED" => "the execution was stopped before it ended",
        _ => "the execution failed without saying why",
    };
    let error = described
        .error
        .clone()
        .filter(|e| !e.trim().is_empty())
        .unwrap_or_else(|| default_error_of_status(status).to_owned());
    let reason = described
        .cause
        .as_deref()
        .map(cause_message)
        .filter(|c| !c.is_empty())
        .unwrap_or_else(|| default_reason.to_owned());
    (error, reason)
}

/// The images and thumbnails of the manifest, with presigned links.
async fn add_links<S: ObjectStore>(
    config: &Config,
    store: &S,
    answer: &mut Status,
) -> Result<(), Failure> {
    let key = keys::manifest_key(&answer.request_id);
    let bucket = &config.output_bucket;
    let manifest = match store.get(bucket, &key, None, MAX_MANIFEST_BYTES).await {
        Ok(bytes) => {
            serde_json::from_slice::<Manifest>(&bytes).map_err(|e| Failure::ManifestInvalid {
                key: key.clone(),
                detail: e.to_string(),
            })?
        }
        Err(StoreError::NotFound { .. }) => {
            tracing::warn!(%key, "a request succeeded and its manifest is gone");
            answer.message = Some(
                "The images were made, but their list is gone: the results have expired or were removed."
                    .to_owned(),
            );
            return Ok(());
        }
        Err(e) => return Err(Failure::ManifestUnreadable(e.to_string())),
    };
    let expiry = config.presign_expiry;
    let link = async |key: &str| {
        store
            .presign_get(bucket, key, expiry)
            .await
            .map_err(|e| Failure::LinkNotMade {
                key: key.to_owned(),
                detail: e.to_string(),
            })
    };
    for image in &manifest.images {
        let mut thumbnails = Vec::new();
        for thumbnail in manifest
            .thumbnails
            .iter()
            .filter(|t| t.source_key == image.key)
        {
            thumbnails.push(ThumbnailLink {
                url: link(&thumbnail.key).await?,
                key: thumbnail.key.clone(),
                size: thumbnail.size,
                width: thumbnail.width,
                height: thumbnail.height,
                bytes: thumbnail.bytes,
                format: thumbnail.format.clone(),
            });
        }
        answer.images.push(ImageLinks {
            url: link(&image.key).await?,
            key: image.key.clone(),
            width: image.width,
            height: image.height,
            bytes: image.bytes,
            thumbnails,
        });
    }
    answer.links_expire_in_seconds = Some(expiry.as_secs());
    Ok(())
}
