//! The offline model's schema is written apart from `imagegen_core::model`; these tests check the
//! two agree on everything the pipeline can send, so a request the validator passes is one the fake
//! (and so, we hope, Bedrock) accepts.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use imagegen_core::model::{
    KNOWN_MODELS, KnownModel, ModelFamily, SizeRule, aspect_ratio, request_body,
};
use imagegen_core::types::{ImageRequest, ModelRef, OutputFormat, OutputLocation, Quality};
use imagegen_local::bedrock::schema::{
    ImageFormat, ImageJob, OfflineModel, STABILITY_MODELS, parse_request, stability_size,
};

/// The known models of a family.
fn models(family: ModelFamily) -> impl Iterator<Item = &'static KnownModel> {
    KNOWN_MODELS.iter().filter(move |m| m.family == family)
}

/// A request at every limit the validator allows for the model's family.
fn request(model: &KnownModel, width: u32, height: u32) -> ImageRequest {
    let family = model.family;
    let limits = family.limits();
    ImageRequest {
        request_id: "r".into(),
        prompt: "p".repeat(limits.max_prompt_chars),
        negative_prompt: Some("n".repeat(limits.max_negative_chars)),
        model: ModelRef {
            id: model.id.into(),
            family,
        },
        width,
        height,
        number_of_images: limits.max_images,
        seed: limits.max_seed,
        cfg_scale: limits.cfg_scale.map(|(_, max, _)| max),
        quality: limits.supports_quality.then_some(Quality::Premium),
        output_format: limits.output_formats.first().copied(),
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

fn job(request: &ImageRequest) -> Result<ImageJob, String> {
    let body = request_body(request).to_string();
    parse_request(&request.model.id, body.as_bytes()).map(|(_, job)| job)
}

fn accepts(model: &KnownModel, width: u32, height: u32) -> Result<(u32, u32), String> {
    job(&request(model, width, height)).map(|job| (job.width, job.height))
}

#[test]
fn every_known_model_is_answered_in_its_family_shape() {
    for model in KNOWN_MODELS {
        let offline = OfflineModel::find(model.id)
            .unwrap_or_else(|| panic!("the offline model does not answer for {}", model.id));
        assert_eq!(offline.family(), model.family, "{}", model.id);
    }
    // And every Stability model the offline schema documents is one the pipeline knows.
    for stability in STABILITY_MODELS {
        assert!(
            models(ModelFamily::Stability).any(|m| m.id == stability.id),
            "{}",
            stability.id
        );
    }
}

#[test]
fn every_titan_size_and_limit_is_accepted() {
    let SizeRule::Fixed(sizes) = ModelFamily::Titan.limits().sizes else {
        panic!("Titan has fixed sizes");
    };
    for model in models(ModelFamily::Titan) {
        for &(w, h) in sizes {
            assert_eq!(accepts(model, w, h), Ok((w, h)));
        }
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
    for model in models(ModelFamily::Nova) {
        for (w, h) in [
            (320, 320),
            (2048, 2048),
            (1280, 320),
            (320, 1280),
            (4096, 1024),
            (1024, 4096),
        ] {
            assert_eq!(accepts(model, w, h), Ok((w, h)));
        }
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
        for model in models(ModelFamily::Stability) {
            assert_eq!(
                accepts(model, rw * 100, rh * 100),
                Ok((w, h)),
                "{} {name}",
                model.id
            );
        }
    }
}

#[test]
fn every_output_format_the_validator_allows_is_one_the_model_takes() {
    let mut checked = 0;
    for model in KNOWN_MODELS {
        let formats = model.family.limits().output_formats;
        for &format in formats {
            let asked = ImageRequest {
                output_format: Some(format),
                ..request(model, 1024, 1024)
            };
            let expected = match format {
                OutputFormat::Png => ImageFormat::Png,
                OutputFormat::Jpeg => ImageFormat::Jpeg,
            };
            assert_eq!(
                job(&asked).map(|j| j.format),
                Ok(expected),
                "{} {format:?}",
                model.id
            );
            checked += 1;
        }
        // A family that takes no format answers in PNG, the default.
        if formats.is_empty() {
            assert_eq!(
                job(&request(model, 1024, 1024)).map(|j| j.format),
                Ok(ImageFormat::Png)
            );
        }
    }
    let stability = models(ModelFamily::Stability).count();
    assert!(stability >= 3, "Core, Ultra and SD3.5 Large");
    assert_eq!(checked, stability * OutputFormat::ALL.len());
}
