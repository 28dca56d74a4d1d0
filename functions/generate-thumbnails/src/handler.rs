//! The handler: for each generated image, read it, make the thumbnails, store them.

use std::time::Instant;

use imagegen_core::PipelineError;
use imagegen_core::keys;
use imagegen_core::ports::{ObjectStore, StoreError};
use imagegen_core::types::{StoredThumbnail, ThumbnailsEvent, ThumbnailsResult};
use serde_json::Value;

use crate::config::Config;
use crate::thumbnail::{ThumbnailError, make_thumbnails_with_limit};

/// Make and store thumbnails for every image of the request.
pub async fn handle(
    config: &Config,
    store: &impl ObjectStore,
    event: Value,
) -> Result<ThumbnailsResult, PipelineError> {
    let started = Instant::now();
    let ThumbnailsEvent { request, images } = serde_json::from_value(event).map_err(|e| {
        PipelineError::InvalidEvent(format!("unexpected GenerateThumbnails event: {e}"))
    })?;
    let spec = &config.spec;
    let mut thumbnails = Vec::with_capacity(images.len() * spec.sizes.len() * spec.formats.len());
    for (index, image) in images.iter().enumerate() {
        let uri = format!("s3://{}/{}", image.bucket, image.key);
        let source = store
            .get(&image.bucket, &image.key, None, config.max_source_bytes)
            .await
            .map_err(|e| match e {
                StoreError::NotFound { .. } | StoreError::TooLarge { .. } => {
                    PipelineError::ImageInvalid(e.to_string())
                }
                other => other.into_pipeline(&format!("reading {uri}")),
            })?;
        let (_, made) = make_thumbnails_with_limit(&source, spec, config.max_source_pixels)
            .map_err(|e| match e {
                ThumbnailError::InvalidSpec(_) => PipelineError::ConfigError(e.to_string()),
                _ => PipelineError::ImageInvalid(format!("{uri}: {e}")),
            })?;
        for thumb in made {
            let key = keys::thumbnail_key(
                &request.request_id,
                index,
                thumb.size,
                thumb.format.extension(),
            );
            let bytes = thumb.bytes.len() as u64;
            store
                .put(
                    &request.output.bucket,
                    &key,
                    thumb.bytes,
                    thumb.format.content_type(),
                )
                .await
                .map_err(|e| e.into_pipeline(&format!("storing {key}")))?;
            thumbnails.push(StoredThumbnail {
                source_key: image.key.clone(),
                key,
                size: thumb.size,
                width: thumb.width,
                height: thumb.height,
                format: thumb.format.to_string(),
                bytes,
            });
        }
    }
    tracing::info!(
        request_id = request.request_id,
        thumbnails = thumbnails.len(),
        "thumbnails stored"
    );
    Ok(ThumbnailsResult {
        thumbnails,
        total_millis: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
    })
}
