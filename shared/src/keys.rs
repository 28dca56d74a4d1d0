//! The S3 key layout. Outputs never land under the prompt prefix, so they cannot trigger the pipeline.

/// Where prompt files are uploaded.
pub const PROMPT_PREFIX: &str = "prompts/";

/// `images/{requestId}/` — the generated PNGs.
pub fn image_prefix(request_id: &str) -> String {
    format!("images/{request_id}/")
}

/// `images/{requestId}/{n}.png`
pub fn image_key(request_id: &str, index: usize) -> String {
    format!("{}{index}.png", image_prefix(request_id))
}

/// `thumbnails/{requestId}/`
pub fn thumbnail_prefix(request_id: &str) -> String {
    format!("thumbnails/{request_id}/")
}

/// `thumbnails/{requestId}/{n}-{size}.{ext}`
pub fn thumbnail_key(request_id: &str, index: usize, size: u32, extension: &str) -> String {
    format!("{}{index}-{size}.{extension}", thumbnail_prefix(request_id))
}

/// `results/{requestId}.json` — the manifest of what was made.
pub fn manifest_key(request_id: &str) -> String {
    format!("results/{request_id}.json")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout() {
        assert_eq!(image_key("r1", 0), "images/r1/0.png");
        assert_eq!(
            thumbnail_key("r1", 2, 256, "jpg"),
            "thumbnails/r1/2-256.jpg"
        );
        assert_eq!(manifest_key("r1"), "results/r1.json");
        for key in [
            image_key("r", 0),
            thumbnail_key("r", 0, 1, "png"),
            manifest_key("r"),
        ] {
            assert!(!key.starts_with(PROMPT_PREFIX));
        }
    }
}
