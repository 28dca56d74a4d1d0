//! The handler: build the family's request, invoke, check each image is in the format asked for and
//! store it.

use std::time::Instant;

use imagegen_core::PipelineError;
use imagegen_core::keys;
use imagegen_core::model;
use imagegen_core::pools::Place;
use imagegen_core::ports::{ImageModel, ObjectStore};
use imagegen_core::types::{GenerateEvent, GenerationResult, StoredImage};
use serde_json::Value;

use crate::config::Config;
use crate::errors;
use crate::image::image_info;

/// Generate the request's images and store them under `images/{requestId}/`.
pub async fn handle(
    _config: &Config,
    image_model: &impl ImageModel,
    store: &impl ObjectStore,
    event: Value,
) -> Result<GenerationResult, PipelineError> {
    let started = Instant::now();
    let GenerateEvent { mut request, slot } = serde_json::from_value(event)
        .map_err(|e| PipelineError::InvalidEvent(format!("unexpected GenerateImage event: {e}")))?;
    let (pool, fallback) = slot.map_or((None, None), |s| (s.pool, s.model));
    // A fallback (the request's model is retired): the same request, to that model.
    let fallback_from = fallback
        .filter(|m| *m != request.model)
        .map(|m| std::mem::replace(&mut request.model, m).id);
    let model_id = request.model.id.as_str();
    let place = match &pool {
        Some(name) => Place::parse(name).map_err(|e| {
            PipelineError::InvalidEvent(format!("the slot's pool is not one to call: {e}"))
        })?,
        None => Place::Home,
    };
    let body = serde_json::to_vec(&model::request_body(&request))
        .map_err(|e| PipelineError::ModelError(format!("could not encode the request: {e}")))?;

    let call = Instant::now();
    let response = image_model
        .invoke(&place.invocation(model_id), body)
        .await
        .map_err(|e| errors::from_invoke(&called(model_id, &place), e))?;
    let model_millis = millis(call);
    let images = model::parse_response(request.model.family, &response)
        .map_err(|e| errors::from_response(model_id, e))?;

    let format = request.image_format();
    let mut stored = Vec::with_capacity(images.len());
    for (index, image) in images.into_iter().enumerate() {
        let info = image_info(format, &image.bytes).map_err(|why| {
            PipelineError::ImageInvalid(format!("{model_id} returned image {index} that is {why}"))
        })?;
        let key = keys::image_key(&request.request_id, index, format);
        let bytes = image.bytes.len() as u64;
        store
            .put(
                &request.output.bucket,
                &key,
                image.bytes,
                format.content_type(),
            )
            .await
            .map_err(|e| e.into_pipeline(&format!("storing {key}")))?;
        stored.push(StoredImage {
            bucket: request.output.bucket.clone(),
            key,
            width: info.width,
            height: info.height,
            bytes,
            seed: image.seed.unwrap_or(request.seed),
        });
    }
    tracing::info!(
        request_id = request.request_id,
        model = model_id,
        images = stored.len(),
        model_millis,
        "images stored"
    );
    Ok(GenerationResult {
        model_id: model_id.to_owned(),
        pool,
        fallback_from,
        images: stored,
        model_millis,
        total_millis: millis(started),
    })
}

/// The model as errors name it: with its pool when it is not the function's own Region.
fn called(model_id: &str, place: &Place) -> String {
    match place.name() {
        Some(pool) => format!("{model_id} (pool {pool})"),
        None => model_id.to_owned(),
    }
}

fn millis(since: Instant) -> u64 {
    u64::try_from(since.elapsed().as_millis()).unwrap_or(u64::MAX)
}
