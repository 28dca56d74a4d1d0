//! The result manifest, `results/{requestId}.json`: what was asked for and everything that was made.

use imagegen_core::PipelineError;
use imagegen_core::ports::{ObjectStore, StoreError};
use imagegen_core::types::{
    GenerationResult, ImageRequest, Manifest, OutputLocation, ThumbnailsResult,
};
use serde_json::Value;

use imagegen_core::notify::human::s3_uri;

/// The manifest's content type.
pub const CONTENT_TYPE: &str = "application/json";
/// The largest existing manifest read back to see whose it is (a manifest is a few kilobytes).
pub const MAX_EXISTING_BYTES: u64 = 1024 * 1024;

/// The manifest of a successful run.
pub fn build(
    execution_name: &str,
    request: &ImageRequest,
    generation: &GenerationResult,
    thumbnails: &ThumbnailsResult,
) -> Manifest {
    Manifest {
        execution_name: execution_name.to_owned(),
        request: request.clone(),
        model_id: Some(generation.model_id.clone()),
        fallback_from: generation.fallback_from.clone(),
        pool: generation.pool.clone(),
        images: generation.images.clone(),
        thumbnails: thumbnails.thumbnails.clone(),
        model_millis: generation.model_millis,
    }
}

/// Pretty JSON (people open it in the console).
pub fn to_json(manifest: &Manifest) -> Result<Vec<u8>, PipelineError> {
    serde_json::to_vec_pretty(manifest)
        .map_err(|e| PipelineError::StorageError(format!("could not serialise the manifest: {e}")))
}

/// Write the manifest of `execution_name`'s run, never over another run's.
///
/// The write is create-only (S3 refuses it when the key exists). An existing manifest that this
/// execution wrote is accepted: that is a retry after a failed publish, or a redrive. Anyone else's
/// stays as it was and the run fails with `StorageError`, so no two runs share one manifest.
pub async fn write_new<S: ObjectStore>(
    store: &S,
    output: &OutputLocation,
    manifest: &Manifest,
) -> Result<(), PipelineError> {
    let (bucket, key) = (&output.bucket, &output.manifest_key);
    let failed = |e: StoreError| {
        PipelineError::StorageError(format!(
            "could not write the result manifest {}: {e}",
            s3_uri(bucket, key)
        ))
    };
    match store
        .put_new(bucket, key, to_json(manifest)?, CONTENT_TYPE)
        .await
    {
        Ok(()) => Ok(()),
        Err(StoreError::AlreadyExists { .. }) => {
            let existing = store
                .get(bucket, key, None, MAX_EXISTING_BYTES)
                .await
                .map_err(failed)?;
            let owner = serde_json::from_slice::<Value>(&existing)
                .ok()
                .and_then(|v| v.get("executionName")?.as_str().map(str::to_owned));
            match owner {
                Some(owner) if owner == manifest.execution_name => Ok(()),
                owner => Err(PipelineError::StorageError(format!(
                    "the result manifest {} already exists and belongs to {}; it was not overwritten",
                    s3_uri(bucket, key),
                    owner.map_or_else(
                        || "no execution that can be told".to_owned(),
                        |o| format!("execution {o}")
                    )
                ))),
            }
        }
        Err(e) => Err(failed(e)),
    }
}
