//! The success email: subject, plain-text body and message attributes.

use std::fmt::Write as _;
use std::time::Duration;

use imagegen_core::display::escape_controls_keep_newlines;
use imagegen_core::ports::Message;
use imagegen_core::types::{
    GenerationResult, ImageRequest, StoredImage, StoredThumbnail, ThumbnailsResult,
};

use imagegen_core::notify::failure_email::execution_attribute;
use imagegen_core::notify::human::{human_bytes, human_duration, s3_uri, seconds};
use imagegen_core::notify::subject::subject_with_quote;

/// One object to point at: its presigned HTTPS URL (or why there is none) and its `s3://` URI.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    pub url: Result<String, String>,
    pub s3_uri: String,
}

/// Everything the success email says.
#[derive(Debug, Clone)]
pub struct SuccessEmail<'a> {
    pub execution_name: &'a str,
    pub request: &'a ImageRequest,
    pub generation: &'a GenerationResult,
    pub thumbnails: &'a ThumbnailsResult,
    /// One per `generation.images`, in order.
    pub image_links: Vec<Link>,
    /// One per `thumbnails.thumbnails`, in order.
    pub thumbnail_links: Vec<Link>,
    /// How long the links work.
    pub expiry: Duration,
    /// When they stop working (RFC 3339), if known.
    pub expires_at: Option<String>,
}

impl SuccessEmail<'_> {
    /// `imagegen: your image is ready - "a lighthouse at du..."` (ASCII, at most 100 characters).
    pub fn subject(&self) -> String {
        let head = match self.generation.images.len() {
            1 => "imagegen: your image is ready".to_owned(),
            n => format!("imagegen: your {n} images are ready"),
        };
        subject_with_quote(&head, &self.request.prompt)
    }

    /// The email text, control characters shown escaped (see [`imagegen_core::display`]).
    pub fn body(&self) -> String {
        escape_controls_keep_newlines(&self.raw_body()).into_owned()
    }

    fn raw_body(&self) -> String {
        let request = self.request;
        let images = &self.generation.images;
        let mut out = String::new();
        let _ = writeln!(
            out,
            "{}\n",
            match images.len() {
                1 => "Your image is ready.".to_owned(),
                n => format!("Your {n} images are ready."),
            }
        );
        for warning in &request.warnings {
            let _ = writeln!(out, "Note: {warning}\n");
        }
        let _ = writeln!(out, "Prompt: {}", request.prompt);
        if let Some(negative) = request.negative_prompt.as_deref().filter(|n| !n.is_empty()) {
            let _ = writeln!(out, "Negative prompt: {negative}");
        }
        match &self.generation.fallback_from {
            Some(retired) => {
                let family =
                    imagegen_core::model::ModelFamily::from_model_id(&self.generation.model_id)
                        .map_or("", |f| f.label());
                let _ = writeln!(
                    out,
                    "Model: {} ({family}), a fallback (FALLBACK_MODEL_IDS): Bedrock has retired {retired}, the model asked for",
                    self.generation.model_id,
                );
            }
            None => {
                let _ = writeln!(
                    out,
                    "Model: {} ({})",
                    request.model.id,
                    request.model.family.label()
                );
            }
        }
        let _ = writeln!(out, "Seed: {}", request.seed);
        let _ = writeln!(out, "Size: {}x{}", request.width, request.height);
        let _ = writeln!(out, "Format: {}", request.image_format().label());
        let made = images.len();
        if u32::try_from(made).ok() == Some(request.number_of_images) {
            let _ = writeln!(out, "Count: {made}");
        } else {
            let _ = writeln!(
                out,
                "Count: {made} (asked for {})",
                request.number_of_images
            );
        }
        let _ = writeln!(
            out,
            "Time: {} in the model, {} for the image step, {} for the thumbnails",
            seconds(self.generation.model_millis),
            seconds(self.generation.total_millis),
            seconds(self.thumbnails.total_millis),
        );

        let thumbnails: Vec<(&StoredThumbnail, Option<&Link>)> = self
            .thumbnails
            .thumbnails
            .iter()
            .enumerate()
            .map(|(i, t)| (t, self.thumbnail_links.get(i)))
            .collect();
        for (i, image) in images.iter().enumerate() {
            out.push('\n');
            write_image(&mut out, i, made, image, self.image_links.get(i));
            for (thumbnail, link) in thumbnails.iter().filter(|(t, _)| t.source_key == image.key) {
                write_thumbnail(&mut out, "  ", thumbnail, *link);
            }
        }
        let orphans: Vec<_> = thumbnails
            .iter()
            .filter(|(t, _)| !images.iter().any(|i| i.key == t.source_key))
            .collect();
        if !orphans.is_empty() {
            out.push_str("\nOther thumbnails:\n");
            for (thumbnail, link) in orphans {
                write_thumbnail(&mut out, "  ", thumbnail, *link);
            }
        }

        let output = &request.output;
        let _ = writeln!(
            out,
            "\nManifest: {}",
            s3_uri(&output.bucket, &output.manifest_key)
        );
        let _ = writeln!(out, "Execution: {}", self.execution_name);
        let _ = writeln!(out, "Request id: {}", request.request_id);
        let _ = writeln!(out, "\n{}", self.expiry_line());
        out
    }

    /// When the links stop working, and what works after that.
    pub fn expiry_line(&self) -> String {
        let at = self
            .expires_at
            .as_deref()
            .map(|at| format!(" (at {at})"))
            .unwrap_or_default();
        format!(
            "The https links expire in {}{at}. After that, use the s3:// addresses: they keep \
             working for anyone with access to the bucket (S3 console, or `aws s3 cp <address> .`).",
            human_duration(self.expiry)
        )
    }

    pub fn message(&self) -> Message {
        Message {
            subject: self.subject(),
            body: self.body(),
            attributes: vec![
                ("status".to_owned(), "SUCCEEDED".to_owned()),
                (
                    "execution".to_owned(),
                    execution_attribute(self.execution_name),
                ),
            ],
        }
    }
}

fn write_image(
    out: &mut String,
    index: usize,
    count: usize,
    image: &StoredImage,
    link: Option<&Link>,
) {
    let _ = writeln!(
        out,
        "Image {} of {count}: {}x{}, seed {}, {}",
        index + 1,
        image.width,
        image.height,
        image.seed,
        human_bytes(image.bytes)
    );
    write_link(out, "  ", link, &image.bucket, &image.key);
}

fn write_thumbnail(
    out: &mut String,
    indent: &str,
    thumbnail: &StoredThumbnail,
    link: Option<&Link>,
) {
    let _ = writeln!(
        out,
        "{indent}Thumbnail {} px ({}x{} {}, {}):",
        thumbnail.size,
        thumbnail.width,
        thumbnail.height,
        thumbnail.format,
        human_bytes(thumbnail.bytes)
    );
    let deeper = format!("{indent}  ");
    match link {
        Some(link) => write_link_lines(out, &deeper, link),
        None => {
            let _ = writeln!(out, "{deeper}S3:   (unknown bucket) {}", thumbnail.key);
        }
    }
}

fn write_link(out: &mut String, indent: &str, link: Option<&Link>, bucket: &str, key: &str) {
    match link {
        Some(link) => write_link_lines(out, indent, link),
        None => {
            let _ = writeln!(out, "{indent}S3:   {}", s3_uri(bucket, key));
        }
    }
}

fn write_link_lines(out: &mut String, indent: &str, link: &Link) {
    match &link.url {
        Ok(url) => {
            let _ = writeln!(out, "{indent}Link: {url}");
        }
        Err(reason) => {
            let _ = writeln!(out, "{indent}Link: (not available: {reason})");
        }
    }
    let _ = writeln!(out, "{indent}S3:   {}", link.s3_uri);
}

#[cfg(test)]
mod tests {
    use super::*;
    use imagegen_core::model::ModelFamily;
    use imagegen_core::types::{ModelRef, OutputLocation};

    fn request() -> ImageRequest {
        ImageRequest {
            request_id: "r1".into(),
            prompt: "a cat".into(),
            negative_prompt: Some(String::new()),
            model: ModelRef {
                id: "amazon.titan-image-generator-v2:0".into(),
                family: ModelFamily::Titan,
            },
            width: 512,
            height: 512,
            number_of_images: 1,
            seed: 7,
            cfg_scale: None,
            quality: None,
            output_format: None,
            source: None,
            output: OutputLocation {
                bucket: "b".into(),
                image_prefix: "images/r1/".into(),
                thumbnail_prefix: "thumbnails/r1/".into(),
                manifest_key: "results/r1.json".into(),
            },
            warnings: Vec::new(),
        }
    }

    #[test]
    fn missing_links_and_stray_thumbnails_are_still_listed() {
        let request = request();
        let generation = GenerationResult {
            model_id: request.model.id.clone(),
            pool: None,
            fallback_from: None,
            images: vec![StoredImage {
                bucket: "b".into(),
                key: "images/r1/0.png".into(),
                width: 512,
                height: 512,
                bytes: 900,
                seed: 7,
            }],
            model_millis: 1500,
            total_millis: 1600,
        };
        let thumbnails = ThumbnailsResult {
            thumbnails: vec![StoredThumbnail {
                source_key: "images/elsewhere.png".into(),
                key: "thumbnails/r1/x-64.webp".into(),
                size: 64,
                width: 64,
                height: 64,
                format: "webp".into(),
                bytes: 2048,
            }],
            total_millis: 20,
        };
        let email = SuccessEmail {
            execution_name: "e1",
            request: &request,
            generation: &generation,
            thumbnails: &thumbnails,
            image_links: vec![Link {
                url: Err("credentials expired".into()),
                s3_uri: "s3://b/images/r1/0.png".into(),
            }],
            thumbnail_links: vec![Link {
                url: Ok("https://example/t".into()),
                s3_uri: "s3://b/thumbnails/r1/x-64.webp".into(),
            }],
            expiry: Duration::from_secs(5400),
            expires_at: None,
        };
        let body = email.body();
        assert!(body.starts_with("Your image is ready.\n"), "{body}");
        assert!(!body.contains("Note:"), "no warnings, no notes: {body}");
        assert!(body.contains("Format: PNG\n"), "{body}");
        assert!(
            !body.contains("Negative prompt"),
            "empty is left out: {body}"
        );
        assert!(
            body.contains(
                "Model: amazon.titan-image-generator-v2:0 (Amazon Titan Image Generator)"
            )
        );
        assert!(
            body.contains("Image 1 of 1: 512x512, seed 7, 900 bytes"),
            "{body}"
        );
        assert!(
            body.contains(
                "  Link: (not available: credentials expired)\n  S3:   s3://b/images/r1/0.png"
            ),
            "{body}"
        );
        assert!(body.contains("Other thumbnails:\n  Thumbnail 64 px (64x64 webp, 2 KB):\n    Link: https://example/t\n    S3:   s3://b/thumbnails/r1/x-64.webp"), "{body}");
        assert!(
            body.contains("The https links expire in 1 hour 30 minutes. After that"),
            "{body}"
        );
        let fallback = GenerationResult {
            model_id: "stability.stable-image-ultra-v1:1".into(),
            fallback_from: Some(request.model.id.clone()),
            ..generation.clone()
        };
        let body = SuccessEmail {
            generation: &fallback,
            ..email.clone()
        }
        .body();
        assert!(
            body.contains("Model: stability.stable-image-ultra-v1:1 (Stability AI), a fallback (FALLBACK_MODEL_IDS): Bedrock has retired amazon.titan-image-generator-v2:0, the model asked for"),
            "{body}"
        );
        assert_eq!(email.subject(), "imagegen: your image is ready - \"a cat\"");
        assert_eq!(
            email.message().attributes,
            [
                ("status".to_owned(), "SUCCEEDED".to_owned()),
                ("execution".to_owned(), "e1".to_owned())
            ]
        );

        let warned = ImageRequest {
            warnings: vec!["First thing.".into(), "Second thing.".into()],
            output_format: Some(imagegen_core::types::OutputFormat::Jpeg),
            ..request.clone()
        };
        let body = SuccessEmail {
            request: &warned,
            ..email
        }
        .body();
        assert!(
            body.starts_with(
                "Your image is ready.\n\nNote: First thing.\n\nNote: Second thing.\n\nPrompt: a cat\n"
            ),
            "{body}"
        );
        assert!(body.contains("Format: JPEG\n"), "{body}");
    }
}
