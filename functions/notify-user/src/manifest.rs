//! The result manifest, `results/{requestId}.json`: what was asked for and everything that was made.

use imagegen_core::PipelineError;
use imagegen_core::types::{GenerationResult, ImageRequest, Manifest, ThumbnailsResult};

/// The manifest's content type.
pub const CONTENT_TYPE: &str = "application/json";

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
