//! What the success event may point at.
//!
//! The event is the previous steps' output, and this function's role may presign links to, and write,
//! objects under the output prefixes. So before it signs or writes anything it checks every bucket and
//! key the event names against the configured bucket and the request's own keys: a forged or mistaken
//! payload cannot turn the email into a link to someone else's objects.

use imagegen_core::PipelineError;
use imagegen_core::keys;
use imagegen_core::types::{GenerationResult, ImageRequest, OutputLocation, ThumbnailsResult};

use imagegen_core::notify::human::s3_uri;

/// `Ok` when every object the success event names belongs to this request in `bucket`; otherwise
/// `InvalidEvent` listing every problem.
pub fn outputs(
    bucket: &str,
    request: &ImageRequest,
    generation: &GenerationResult,
    thumbnails: &ThumbnailsResult,
) -> Result<(), PipelineError> {
    let id = &request.request_id;
    if !keys::is_request_id(id) {
        return Err(PipelineError::InvalidEvent(format!(
            "the request id {id:?} cannot name output keys (expected 1 to {} letters, digits, '-' or '_')",
            keys::REQUEST_ID_MAX
        )));
    }
    let expected = OutputLocation::for_request(bucket, id);
    let mut problems = Vec::new();
    if request.output != expected {
        problems.push(format!(
            "the output location is s3://{}/ with {}, {} and {}, but this request's is s3://{}/ with {}, {} and {}",
            request.output.bucket,
            request.output.image_prefix,
            request.output.thumbnail_prefix,
            request.output.manifest_key,
            expected.bucket,
            expected.image_prefix,
            expected.thumbnail_prefix,
            expected.manifest_key,
        ));
    }
    for image in &generation.images {
        if image.bucket != bucket || !image.key.starts_with(&expected.image_prefix) {
            problems.push(format!(
                "the image {} is not under {}",
                s3_uri(&image.bucket, &image.key),
                s3_uri(bucket, &expected.image_prefix)
            ));
        }
    }
    for thumbnail in &thumbnails.thumbnails {
        if !thumbnail.key.starts_with(&expected.thumbnail_prefix) {
            problems.push(format!(
                "the thumbnail key {} is not under {}",
                thumbnail.key, expected.thumbnail_prefix
            ));
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(PipelineError::InvalidEvent(format!(
            "the success event names objects that are not this request's outputs, so nothing was \
             written or linked: {}",
            problems.join("; ")
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use imagegen_core::model::ModelFamily;
    use imagegen_core::types::{ModelRef, StoredImage, StoredThumbnail};

    const BUCKET: &str = "out";

    fn request(id: &str) -> ImageRequest {
        ImageRequest {
            request_id: id.into(),
            prompt: "p".into(),
            negative_prompt: None,
            model: ModelRef {
                id: "amazon.nova-canvas-v1:0".into(),
                family: ModelFamily::Nova,
            },
            width: 64,
            height: 64,
            number_of_images: 1,
            seed: 1,
            cfg_scale: None,
            quality: None,
            output_format: None,
            source: None,
            output: OutputLocation::for_request(BUCKET, id),
            warnings: Vec::new(),
        }
    }

    fn image(bucket: &str, key: &str) -> StoredImage {
        StoredImage {
            bucket: bucket.into(),
            key: key.into(),
            width: 64,
            height: 64,
            bytes: 1,
            seed: 1,
        }
    }

    fn generation(images: Vec<StoredImage>) -> GenerationResult {
        GenerationResult {
            model_id: "m".into(),
            pool: None,
            fallback_from: None,
            images,
            model_millis: 1,
            total_millis: 1,
        }
    }

    fn thumbnails(keys: &[&str]) -> ThumbnailsResult {
        ThumbnailsResult {
            thumbnails: keys
                .iter()
                .map(|k| StoredThumbnail {
                    source_key: "images/r1/0.png".into(),
                    key: (*k).into(),
                    size: 32,
                    width: 32,
                    height: 32,
                    format: "jpeg".into(),
                    bytes: 1,
                })
                .collect(),
            total_millis: 1,
        }
    }

    fn problem(
        request: &ImageRequest,
        generation: &GenerationResult,
        thumbnails: &ThumbnailsResult,
    ) -> String {
        match outputs(BUCKET, request, generation, thumbnails) {
            Err(PipelineError::InvalidEvent(message)) => message,
            other => panic!("expected InvalidEvent, got {other:?}"),
        }
    }

    #[test]
    fn the_requests_own_outputs_pass() {
        let ok = outputs(
            BUCKET,
            &request("r1"),
            &generation(vec![image(BUCKET, "images/r1/0.png")]),
            &thumbnails(&["thumbnails/r1/0-32.jpg"]),
        );
        assert_eq!(ok, Ok(()));
    }

    #[test]
    fn another_bucket_or_another_requests_keys_are_refused() {
        let none = thumbnails(&[]);
        for (bucket, key) in [
            ("elsewhere", "images/r1/0.png"),
            (BUCKET, "images/r2/0.png"),
            (BUCKET, "images/r1"),
            (BUCKET, "prompts/secret.txt"),
            (BUCKET, "results/r1.json"),
        ] {
            let message = problem(&request("r1"), &generation(vec![image(bucket, key)]), &none);
            assert!(
                message.contains(&format!(
                    "the image s3://{bucket}/{key} is not under s3://out/images/r1/"
                )),
                "{message}"
            );
        }
        let message = problem(
            &request("r1"),
            &generation(vec![]),
            &thumbnails(&["thumbnails/r1/0-32.jpg", "images/r9/0.png"]),
        );
        assert!(
            message.ends_with("the thumbnail key images/r9/0.png is not under thumbnails/r1/"),
            "{message}"
        );
    }

    #[test]
    fn an_output_location_that_is_not_the_requests_is_refused() {
        let none = generation(vec![]);
        let no_thumbnails = thumbnails(&[]);
        let mut foreign = request("r1");
        foreign.output.bucket = "elsewhere".into();
        let mut other_manifest = request("r1");
        other_manifest.output.manifest_key = "results/r2.json".into();
        for request in [foreign, other_manifest] {
            let message = problem(&request, &none, &no_thumbnails);
            assert!(
                message.contains(
                    "but this request's is s3://out/ with images/r1/, thumbnails/r1/ and results/r1.json"
                ),
                "{message}"
            );
        }
    }

    #[test]
    fn a_request_id_that_could_leave_its_prefix_is_refused() {
        for id in ["../r1", "r1/../../prompts", "", "r 1"] {
            let message = problem(&request(id), &generation(vec![]), &thumbnails(&[]));
            assert!(message.contains("cannot name output keys"), "{message}");
        }
    }

    #[test]
    fn every_problem_is_listed() {
        let message = problem(
            &request("r1"),
            &generation(vec![image("a", "images/r1/0.png"), image(BUCKET, "x")]),
            &thumbnails(&["y"]),
        );
        assert_eq!(message.matches(" is not under ").count(), 3, "{message}");
    }
}
