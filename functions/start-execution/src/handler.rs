//! The Lambda handler.

use imagegen_core::PipelineError;
use imagegen_core::ports::{ExecutionStarter, StartOutcome};
use imagegen_core::types::{S3Input, S3Source};
use serde_json::Value;

use crate::config::Config;
use crate::event::{self, ObjectCreated, Record};
use crate::name::execution_name;
use crate::summary::{Duplicate, Failed, Skipped, Started, Summary};
use imagegen_core::keys::prompt_file;

/// Start one execution per prompt upload in `event`.
///
/// Every good record is attempted even when others are bad or fail to start; if any failed, the
/// result is a `StartExecutionError` listing them (see [`Summary::into_result`] for why). An event
/// without a recognisable shape is `InvalidEvent`.
pub async fn handle<S: ExecutionStarter>(
    config: &Config,
    starter: &S,
    event: Value,
) -> Result<Summary, PipelineError> {
    let records = event::parse(&event).inspect_err(|e| {
        tracing::error!(error = %e, "unrecognised event");
    })?;
    let mut summary = Summary::default();
    for record in records {
        match record {
            Record::Created(object) => start_one(config, starter, object, &mut summary).await,
            Record::Ignored { key, reason } => {
                tracing::info!(%key, %reason, "skipped");
                summary.skipped.push(Skipped { key, reason });
            }
            Record::Bad { key, reason } => {
                tracing::error!(%key, %reason, "bad record");
                summary.failed.push(Failed { key, reason });
            }
        }
    }
    tracing::info!(
        started = summary.started.len(),
        duplicates = summary.duplicates.len(),
        skipped = summary.skipped.len(),
        failed = summary.failed.len(),
        "done"
    );
    summary.into_result()
}

async fn start_one<S: ExecutionStarter>(
    config: &Config,
    starter: &S,
    object: ObjectCreated,
    summary: &mut Summary,
) {
    if let Err(reason) = prompt_file(&object.key, &config.prompt_prefix) {
        tracing::info!(key = %object.key, %reason, "skipped");
        summary.skipped.push(Skipped {
            key: object.key,
            reason,
        });
        return;
    }
    let name = execution_name(&object);
    let ObjectCreated {
        bucket,
        key,
        version_id,
        etag,
        ..
    } = object;
    let input = S3Input {
        source: S3Source {
            bucket,
            key: key.clone(),
            version_id,
            etag,
        },
    };
    let input = match serde_json::to_string(&input) {
        Ok(input) => input,
        Err(e) => {
            summary.failed.push(Failed {
                key,
                reason: format!("could not write the execution input: {e}"),
            });
            return;
        }
    };
    // The input names the file, never its contents, so it is small; checked all the same, as at
    // every front door (see imagegen_core::limits).
    if let Err(e) = imagegen_core::limits::check_execution_input(&input) {
        summary.failed.push(Failed {
            key,
            reason: e.to_string(),
        });
        return;
    }
    match starter.start(&name, &input).await {
        Ok(StartOutcome::Started { execution_arn }) => {
            tracing::info!(%key, execution_name = %name, %execution_arn, "started");
            summary.started.push(Started {
                key,
                execution_name: name,
                execution_arn,
            });
        }
        Ok(StartOutcome::AlreadyExists) => {
            tracing::info!(%key, execution_name = %name, "already started (duplicate delivery)");
            summary.duplicates.push(Duplicate {
                key,
                execution_name: name,
            });
        }
        Err(reason) => {
            tracing::error!(%key, execution_name = %name, %reason, "start failed");
            summary.failed.push(Failed { key, reason });
        }
    }
}
