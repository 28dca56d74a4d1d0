//! The offline model's schema is written apart from `imagegen_core::model`; these tests check the
//! two agree on everything the pipeline can send, so a request the validator passes is one the fake
//! (and so, we hope, Bedrock) accepts.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use imagegen_core::model::{ModelFamily, SizeRule, aspect_ratio, request_body};
use imagegen_core::types::{ImageRequest, ModelRef, OutputLocation, Quality};
use imagegen_local::bedrock::schema::{parse_request, stability_size};

fn request(family: ModelFamily, width: u32, height: u32) -> ImageRequest {
    let limits = family.limits();
    ImageRequest {
        request_id: "r".into(),
        prompt: "p".repeat(limits.max_prompt_chars),
        negative_prompt: Some("n".repeat(limits.max_negative_chars)),
        model: ModelRef {
            id: "m".into(),
            family,
        },
        width,
        height,
        number_of_images: limits.max_images,
        seed: limits.max_seed,
        cfg_scale: limits.cfg_scale.map(|(_, max, _)| max),
        quality: limits.supports_quality.then_some(Quality::Premium),
        output_format: None,
        source: None,
        output: OutputLocation {
            bucket: "b".into(),
            image_prefix: "i/".into(),
            thumbnail_prefix: "t/".into(),
            manifest_key: "r.json".into(),
        },
        warnings: Vec::new(),
    }
}

fn accepts(family: ModelFamily, width: u32, height: u32) -> Result<(u32, u32), String> {
    let body = request_body(&request(family, width, height)).to_string();
    parse_request(family, body.as_bytes()).map(|job| (job.width, job.height))
}

#[test]
fn every_titan_size_and_limit_is_accepted() {
    let SizeRule::Fixed(sizes) = ModelFamily::Titan.limits().sizes else {
        panic!("Titan has fixed sizes");
    };
    for &(w, h) in sizes {
        assert_eq!(accepts(ModelFamily::Titan, w, h), Ok((w, h)));
    }
}

#[test]
fn nova_range_edges_are_accepted() {
    let SizeRule::Range {
        min,
        max,
        multiple,
        max_pixels,
        max_aspect,
    } = ModelFamily::Nova.limits().sizes
    else {
        panic!("Nova has a size range");
    };
    assert_eq!(
        (min, max, multiple, max_pixels, max_aspect),
        (320, 4096, 16, 4_194_304, 4)
    );
    for (w, h) in [
        (320, 320),
        (2048, 2048),
        (1280, 320),
        (320, 1280),
        (4096, 1024),
        (1024, 4096),
    ] {
        assert_eq!(accepts(ModelFamily::Nova, w, h), Ok((w, h)));
    }
}

#[test]
fn every_stability_ratio_renders_at_that_ratio() {
    let SizeRule::AspectRatios(ratios) = ModelFamily::Stability.limits().sizes else {
        panic!("Stability has aspect ratios");
    };
    for &(rw, rh) in ratios {
        let name = format!("{rw}:{rh}");
        let (w, h) = stability_size(&name).unwrap_or_else(|| panic!("fake lacks {name}"));
        let want = f64::from(rw) / f64::from(rh);
        let got = f64::from(w) / f64::from(h);
        assert!((got / want - 1.0).abs() < 0.1, "{name}: {w}x{h}");
        // What the pipeline sends for that shape.
        assert_eq!(
            aspect_ratio(rw * 100, rh * 100).as_deref(),
            Some(name.as_str())
        );
        assert_eq!(
            accepts(ModelFamily::Stability, rw * 100, rh * 100),
            Ok((w, h)),
            "{name}"
        );
    }
}
