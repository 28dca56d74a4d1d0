//! GenerateThumbnails through the real S3 adapter, with the S3 client mocked.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::{Arc, Mutex};

use aws_sdk_s3::operation::get_object::{GetObjectError, GetObjectOutput};
use aws_sdk_s3::operation::put_object::{PutObjectError, PutObjectOutput};
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::error::NoSuchKey;
use aws_smithy_mocks::{Rule, RuleMode, mock, mock_client};
use generate_thumbnails::{Config, handle};
use imagegen_aws::S3Store;
use imagegen_core::PipelineError;
use imagegen_core::types::ThumbnailsResult;
use serde_json::{Value, json};

/// A real RGB PNG with a gradient.
fn png(width: u32, height: u32) -> Vec<u8> {
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, width, height);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header().unwrap();
    let data: Vec<u8> = (0..width * height)
        .flat_map(|i| [(i % width) as u8, (i / width) as u8, 128])
        .collect();
    writer.write_image_data(&data).unwrap();
    writer.finish().unwrap();
    out
}

fn event(images: &[(&str, u32, u32)]) -> Value {
    json!({
        "request": {
            "requestId": "exec-1", "prompt": "p",
            "model": {"id": "amazon.nova-canvas-v1:0", "family": "nova"},
            "width": 1024, "height": 1024, "numberOfImages": images.len(), "seed": 1,
            "output": {"bucket": "out", "imagePrefix": "images/exec-1/",
                       "thumbnailPrefix": "thumbnails/exec-1/", "manifestKey": "results/exec-1.json"}
        },
        "images": images.iter().map(|(key, w, h)| json!({
            "bucket": "out", "key": key, "width": w, "height": h, "bytes": 1, "seed": 1
        })).collect::<Vec<_>>()
    })
}

fn object(key: &'static str, body: Vec<u8>) -> Rule {
    mock!(aws_sdk_s3::Client::get_object)
        .match_requests(move |r| r.key() == Some(key))
        .then_output(move || {
            GetObjectOutput::builder()
                .content_length(body.len() as i64)
                .body(ByteStream::from(body.clone()))
                .build()
        })
}

type Written = Arc<Mutex<Vec<(String, String, Vec<u8>)>>>;

fn puts(written: &Written) -> Rule {
    let written = written.clone();
    mock!(aws_sdk_s3::Client::put_object)
        .match_requests(move |r| {
            let body = r.body().bytes().unwrap_or_default().to_vec();
            written.lock().unwrap().push((
                r.key().unwrap_or_default().to_owned(),
                r.content_type().unwrap_or_default().to_owned(),
                body,
            ));
            true
        })
        .sequence()
        .output(|| PutObjectOutput::builder().build())
        .repeatedly()
        .build()
}

async fn run(rules: &[&Rule], event: Value) -> Result<ThumbnailsResult, PipelineError> {
    run_with(&Config::default(), rules, event).await
}

async fn run_with(
    config: &Config,
    rules: &[&Rule],
    event: Value,
) -> Result<ThumbnailsResult, PipelineError> {
    let store = S3Store::new(mock_client!(aws_sdk_s3, RuleMode::MatchAny, rules));
    handle(config, &store, event).await
}

#[tokio::test]
async fn every_size_in_every_format_with_its_key_and_content_type() {
    let config = Config::from_env(&[("THUMBNAIL_FORMATS", "avif,webp,jpeg")]).unwrap();
    let written = Written::default();
    let get = object("images/exec-1/0.png", png(1024, 768));
    let put = puts(&written);
    let result = run_with(
        &config,
        &[&get, &put],
        event(&[("images/exec-1/0.png", 1024, 768)]),
    )
    .await
    .unwrap();
    let got: Vec<_> = result
        .thumbnails
        .iter()
        .map(|t| (t.key.as_str(), t.format.as_str(), t.width, t.height))
        .collect();
    let mut expected = Vec::new();
    for (size, height) in [(128, 96), (256, 192), (512, 384)] {
        for (format, extension) in [("avif", "avif"), ("webp", "webp"), ("jpeg", "jpg")] {
            expected.push((
                format!("thumbnails/exec-1/0-{size}.{extension}"),
                format,
                size,
                height,
            ));
        }
    }
    let expected: Vec<_> = expected
        .iter()
        .map(|(key, format, w, h)| (key.as_str(), *format, *w, *h))
        .collect();
    assert_eq!(got, expected);
    let written = written.lock().unwrap();
    assert_eq!(written.len(), 9);
    for (key, content_type, body) in written.iter() {
        let thumb = result.thumbnails.iter().find(|t| &t.key == key).unwrap();
        let expected_type = match thumb.format.as_str() {
            "avif" => "image/avif",
            "webp" => "image/webp",
            _ => "image/jpeg",
        };
        assert_eq!(content_type, expected_type, "{key}");
        assert_eq!(thumb.bytes, body.len() as u64, "{key}");
        if thumb.format == "avif" {
            assert_eq!(&body[4..12], b"ftypavif", "{key}");
        } else {
            let decoded = image::load_from_memory(body).unwrap();
            assert_eq!(
                (decoded.width(), decoded.height()),
                (thumb.width, thumb.height),
                "{key}"
            );
        }
    }
}

#[tokio::test]
async fn three_thumbnails_per_image_with_kept_aspect() {
    let written = Written::default();
    let get0 = object("images/exec-1/0.png", png(1024, 768));
    let get1 = object("images/exec-1/1.png", png(300, 200));
    let put = puts(&written);
    let result = run(
        &[&get0, &get1, &put],
        event(&[
            ("images/exec-1/0.png", 1024, 768),
            ("images/exec-1/1.png", 300, 200),
        ]),
    )
    .await
    .unwrap();
    let got: Vec<_> = result
        .thumbnails
        .iter()
        .map(|t| (t.key.as_str(), t.width, t.height))
        .collect();
    assert_eq!(
        got,
        [
            ("thumbnails/exec-1/0-128.jpg", 128, 96),
            ("thumbnails/exec-1/0-256.jpg", 256, 192),
            ("thumbnails/exec-1/0-512.jpg", 512, 384),
            // Never upscaled: the 300x200 source stays 300x200 at 512.
            ("thumbnails/exec-1/1-128.jpg", 128, 85),
            ("thumbnails/exec-1/1-256.jpg", 256, 171),
            ("thumbnails/exec-1/1-512.jpg", 300, 200),
        ]
    );
    let written = written.lock().unwrap();
    assert_eq!(written.len(), 6);
    for (key, content_type, body) in written.iter() {
        assert_eq!(content_type, "image/jpeg", "{key}");
        let thumb = result.thumbnails.iter().find(|t| &t.key == key).unwrap();
        let decoded = image::load_from_memory(body).unwrap();
        assert_eq!(
            (decoded.width(), decoded.height()),
            (thumb.width, thumb.height),
            "{key}"
        );
        assert_eq!(thumb.bytes, body.len() as u64);
    }
}

/// A real JPEG with the same gradient.
fn jpeg(width: u32, height: u32) -> Vec<u8> {
    let data: Vec<u8> = (0..width * height)
        .flat_map(|i| [(i % width) as u8, (i / width) as u8, 128])
        .collect();
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 90)
        .encode(&data, width, height, image::ExtendedColorType::Rgb8)
        .unwrap();
    out
}

#[tokio::test]
async fn jpeg_sources_from_a_stability_jpeg_request() {
    let written = Written::default();
    let get = object("images/exec-1/0.jpg", jpeg(1344, 768));
    let put = puts(&written);
    let result = run(&[&get, &put], event(&[("images/exec-1/0.jpg", 1344, 768)]))
        .await
        .unwrap();
    let got: Vec<_> = result
        .thumbnails
        .iter()
        .map(|t| (t.source_key.as_str(), t.key.as_str(), t.width, t.height))
        .collect();
    assert_eq!(
        got,
        [
            (
                "images/exec-1/0.jpg",
                "thumbnails/exec-1/0-128.jpg",
                128,
                73
            ),
            (
                "images/exec-1/0.jpg",
                "thumbnails/exec-1/0-256.jpg",
                256,
                146
            ),
            (
                "images/exec-1/0.jpg",
                "thumbnails/exec-1/0-512.jpg",
                512,
                293
            ),
        ]
    );
    for (key, _, body) in written.lock().unwrap().iter() {
        let decoded = image::load_from_memory(body).unwrap();
        let thumb = result.thumbnails.iter().find(|t| &t.key == key).unwrap();
        assert_eq!(
            (decoded.width(), decoded.height()),
            (thumb.width, thumb.height)
        );
    }
}

#[tokio::test]
async fn a_corrupt_object_is_image_invalid() {
    let written = Written::default();
    let get = object("images/exec-1/0.png", b"this is not an image".to_vec());
    let put = puts(&written);
    let err = run(&[&get, &put], event(&[("images/exec-1/0.png", 8, 8)]))
        .await
        .unwrap_err();
    assert_eq!(err.name(), "ImageInvalid");
    assert!(
        err.to_string().contains("s3://out/images/exec-1/0.png"),
        "{err}"
    );
    assert!(written.lock().unwrap().is_empty());
}

#[tokio::test]
async fn a_missing_object_is_image_invalid() {
    let get = mock!(aws_sdk_s3::Client::get_object)
        .then_error(|| GetObjectError::NoSuchKey(NoSuchKey::builder().build()));
    let err = run(&[&get], event(&[("images/exec-1/0.png", 8, 8)]))
        .await
        .unwrap_err();
    assert_eq!(err.name(), "ImageInvalid");
    assert!(err.to_string().contains("does not exist"));
}

#[tokio::test]
async fn a_failed_write_is_a_storage_error() {
    let get = object("images/exec-1/0.png", png(64, 64));
    let put =
        mock!(aws_sdk_s3::Client::put_object).then_error(|| PutObjectError::unhandled("boom"));
    let err = run(&[&get, &put], event(&[("images/exec-1/0.png", 64, 64)]))
        .await
        .unwrap_err();
    assert_eq!(err.name(), "StorageError");
}

#[tokio::test]
async fn malformed_events_are_invalid_events() {
    for bad in [
        json!(null),
        json!({"images": []}),
        json!({"request": {}, "images": [1]}),
    ] {
        assert_eq!(run(&[], bad).await.unwrap_err().name(), "InvalidEvent");
    }
}
