//! The validation rules: every problem with a request, in words a person understands.

use crate::model::{self, KnownModel, Lifecycle, Limits, ModelFamily, SizeRule};
use crate::types::{ModelRef, OutputFormat, PromptOptions, Quality};

use super::Rules;
use super::text::{self, TextProblem};

/// Everything wrong with a request (never empty when returned as an error).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejections(pub Vec<String>);

impl std::fmt::Display for Rejections {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0.join("; "))
    }
}

/// The validated settings of a request (before ids and output keys are attached).
#[derive(Debug, Clone, PartialEq)]
pub struct Validated {
    pub prompt: String,
    pub negative_prompt: Option<String>,
    pub model: ModelRef,
    pub width: u32,
    pub height: u32,
    pub number_of_images: u32,
    pub seed: Option<u64>,
    pub cfg_scale: Option<f64>,
    pub quality: Option<Quality>,
    pub output_format: Option<OutputFormat>,
    /// What the user should know that does not stop the request, as sentences.
    pub warnings: Vec<String>,
}

/// Check the options against the settings and the model family's limits.
pub fn validate(options: PromptOptions, config: &Rules) -> Result<Validated, Rejections> {
    let mut problems = Vec::new();

    let model_id = options
        .model
        .as_deref()
        .map(str::trim)
        .unwrap_or(&config.default_model_id)
        .to_owned();
    let mut warnings = Vec::new();
    let family = if !config.allowed_model_ids.contains(&model_id) {
        problems.push(format!(
            "model {model_id:?} is not enabled here; use one of: {}",
            config.allowed_model_ids.join(", ")
        ));
        None
    } else {
        warnings.extend(legacy_warning(&model_id, config));
        ModelFamily::from_model_id(&model_id)
    };
    // Without a known model, check the rest against the default model's limits.
    let family = family
        .or_else(|| ModelFamily::from_model_id(&config.default_model_id))
        .unwrap_or(ModelFamily::Stability);
    let limits = family.limits();

    let prompt = check_text(
        "prompt",
        &options.prompt,
        limits.max_prompt_chars,
        &mut problems,
    );
    if let Some(p) = &prompt {
        if p.is_empty() {
            problems.push("the prompt is empty: describe the image you want".to_owned());
        } else if let Some(term) = text::blocked_term(p, &config.blocklist) {
            problems.push(format!("the prompt contains the blocked term {term:?}"));
        }
    }
    let negative_prompt = options
        .negative_prompt
        .as_deref()
        .and_then(|n| {
            check_text(
                "negativePrompt",
                n,
                limits.max_negative_chars,
                &mut problems,
            )
        })
        .filter(|n| !n.is_empty());

    let (width, height) = check_size(
        options.width,
        options.height,
        family,
        &limits,
        &mut problems,
    );

    let number_of_images = options.number_of_images.unwrap_or(1);
    if !(1..=limits.max_images).contains(&number_of_images) {
        problems.push(if limits.max_images == 1 {
            format!(
                "numberOfImages must be 1 for {} models, got {number_of_images}",
                family.label()
            )
        } else {
            format!(
                "numberOfImages must be between 1 and {}, got {number_of_images}",
                limits.max_images
            )
        });
    }

    if let Some(seed) = options.seed.filter(|&s| s > limits.max_seed) {
        problems.push(format!(
            "seed must be between 0 and {} for {} models, got {seed}",
            limits.max_seed,
            family.label()
        ));
    }

    let cfg_scale = match (limits.cfg_scale, options.cfg_scale) {
        (None, Some(_)) => {
            problems.push(format!("{} models do not take cfgScale", family.label()));
            None
        }
        (None, None) => None,
        (Some((_, _, default)), None) => Some(default),
        (Some((min, max, _)), Some(value)) => {
            if !(min..=max).contains(&value) {
                problems.push(format!(
                    "cfgScale must be between {min} and {max}, got {value}"
                ));
            }
            Some(value)
        }
    };

    let quality = match (limits.supports_quality, options.quality) {
        (false, Some(_)) => {
            problems.push(format!("{} models do not take quality", family.label()));
            None
        }
        (false, None) => None,
        (true, q) => Some(q.unwrap_or_default()),
    };

    let output_format = match (limits.output_formats, options.output_format) {
        ([], Some(_)) => {
            problems.push(format!(
                "{} models do not take outputFormat (they always return PNG)",
                family.label()
            ));
            None
        }
        ([], None) => None,
        (formats, Some(format)) if !formats.contains(&format) => {
            let listed: Vec<&str> = formats.iter().map(|f| f.as_str()).collect();
            problems.push(format!(
                "outputFormat must be one of {} for {} models, got {}",
                listed.join(", "),
                family.label(),
                format.as_str()
            ));
            None
        }
        (_, format) => Some(format.unwrap_or_default()),
    };

    if !problems.is_empty() {
        return Err(Rejections(problems));
    }
    Ok(Validated {
        prompt: prompt.unwrap_or_default(),
        negative_prompt,
        model: ModelRef {
            id: model_id,
            family,
        },
        width,
        height,
        number_of_images,
        seed: options.seed,
        cfg_scale,
        quality,
        output_format,
        warnings,
    })
}

/// The warning for a model past its end of life on Bedrock. Not a rejection: accounts with
/// extended access can still call it, and Bedrock itself refuses the others clearly.
fn legacy_warning(model_id: &str, config: &Rules) -> Option<String> {
    lifecycle_warning(model_id, model::known_model(model_id)?, config)
}

/// The warning for `known`, the model `model_id` names, unless it is active.
fn lifecycle_warning(model_id: &str, known: &KnownModel, config: &Rules) -> Option<String> {
    let mut warning = match known.lifecycle {
        Lifecycle::Active => return None,
        Lifecycle::Legacy { end_of_life } => format!(
            "{model_id} ({}) is a legacy model: it reached end of life on Bedrock in {end_of_life} \
             and works only for accounts with extended access",
            known.name
        ),
        Lifecycle::Retired { end_of_life } => format!(
            "{model_id} ({}) is retired: it reached end of life on Bedrock in {end_of_life}, and \
             Bedrock refuses it unless the account has a private arrangement with the provider",
            known.name
        ),
    };
    let current: Vec<&str> = config
        .allowed_model_ids
        .iter()
        .filter(|id| model::known_model(id).is_some_and(|m| m.lifecycle == Lifecycle::Active))
        .map(String::as_str)
        .collect();
    if !current.is_empty() {
        warning.push_str(&format!("; current models here: {}", current.join(", ")));
    }
    warning.push('.');
    Some(warning)
}

/// Normalise a text field and check its length in characters.
fn check_text(
    field: &str,
    raw: &str,
    max_chars: usize,
    problems: &mut Vec<String>,
) -> Option<String> {
    match text::normalise(raw) {
        Err(TextProblem::ControlCharacter { code, position }) => {
            problems.push(format!(
                "the {field} contains a control character (U+{code:04X}) at character {position}"
            ));
            None
        }
        Ok(text) => {
            let chars = text.chars().count();
            if chars > max_chars {
                problems.push(format!(
                    "the {field} is {chars} characters long; this model takes at most {max_chars}"
                ));
            }
            Some(text)
        }
    }
}

fn check_size(
    width: Option<u32>,
    height: Option<u32>,
    family: ModelFamily,
    limits: &Limits,
    problems: &mut Vec<String>,
) -> (u32, u32) {
    let (width, height) = match (width, height) {
        (None, None) => return limits.default_size,
        (Some(w), Some(h)) => (w, h),
        (Some(side), None) | (None, Some(side)) => {
            problems.push(format!(
                "give both width and height (only one was given: {side})"
            ));
            return limits.default_size;
        }
    };
    match limits.sizes {
        SizeRule::Fixed(sizes) => {
            if !sizes.contains(&(width, height)) {
                let listed: Vec<String> = sizes.iter().map(|(w, h)| format!("{w}x{h}")).collect();
                problems.push(format!(
                    "{width}x{height} is not a size {} supports; use one of {}",
                    family.label(),
                    listed.join(", ")
                ));
            }
        }
        SizeRule::Range {
            min,
            max,
            multiple,
            max_pixels,
            max_aspect,
        } => {
            for (name, side) in [("width", width), ("height", height)] {
                if !(min..=max).contains(&side) || side % multiple != 0 {
                    problems.push(format!(
                        "{name} must be between {min} and {max} and a multiple of {multiple}, got {side}"
                    ));
                }
            }
            let pixels = u64::from(width) * u64::from(height);
            if pixels > max_pixels {
                problems.push(format!(
                    "{width}x{height} is {pixels} pixels; at most {max_pixels} are allowed"
                ));
            }
            let (long, short) = (width.max(height), width.min(height).max(1));
            if long > short.saturating_mul(max_aspect) {
                problems.push(format!(
                    "{width}x{height} is too elongated: the aspect ratio must be within {max_aspect}:1"
                ));
            }
        }
        SizeRule::AspectRatios(ratios) => {
            if model::aspect_ratio(width, height).is_none() {
                let listed: Vec<String> = ratios.iter().map(|(w, h)| format!("{w}:{h}")).collect();
                problems.push(format!(
                    "{width}x{height} is not an aspect ratio {} supports; use one of {} (the model picks the pixel size)",
                    family.label(),
                    listed.join(", ")
                ));
            }
        }
    }
    (width, height)
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOVA: &str = "amazon.nova-canvas-v1:0";
    const TITAN: &str = "amazon.titan-image-generator-v2:0";
    const SD: &str = "stability.stable-image-core-v1:1";
    const ULTRA: &str = "stability.stable-image-ultra-v1:1";
    const SD35: &str = "stability.sd3-5-large-v1:0";

    fn config() -> Rules {
        Rules {
            default_model_id: SD.into(),
            allowed_model_ids: vec![
                SD.into(),
                ULTRA.into(),
                SD35.into(),
                NOVA.into(),
                TITAN.into(),
            ],
            max_prompt_file_bytes: 16384,
            blocklist: vec!["gore".into()],
        }
    }

    fn opts(prompt: &str) -> PromptOptions {
        PromptOptions {
            prompt: prompt.into(),
            ..PromptOptions::default()
        }
    }

    fn with_model(model: &str) -> PromptOptions {
        PromptOptions {
            model: Some(model.into()),
            ..opts("a lighthouse at dusk")
        }
    }

    fn rejected(o: PromptOptions) -> String {
        validate(o, &config()).unwrap_err().to_string()
    }

    #[test]
    fn defaults_for_a_bare_prompt() {
        let v = validate(opts("  a   lighthouse\nat dusk "), &config()).unwrap();
        assert_eq!(v.prompt, "a lighthouse at dusk");
        assert_eq!(v.model.id, SD);
        assert_eq!(v.model.family, ModelFamily::Stability);
        assert_eq!((v.width, v.height), (1024, 1024));
        assert_eq!(v.number_of_images, 1);
        assert_eq!(v.cfg_scale, None);
        assert_eq!(v.quality, None);
        assert_eq!(v.output_format, Some(OutputFormat::Png));
        assert!(v.warnings.is_empty());
    }

    #[test]
    fn nova_defaults() {
        let v = validate(with_model(NOVA), &config()).unwrap();
        assert_eq!(v.cfg_scale, Some(6.5));
        assert_eq!(v.quality, Some(Quality::Standard));
    }

    #[test]
    fn empty_and_blank_prompts() {
        assert!(rejected(opts("")).contains("prompt is empty"));
        assert!(rejected(opts(" \n\t ")).contains("prompt is empty"));
    }

    #[test]
    fn too_long_for_the_model() {
        let long = "a".repeat(513);
        let titan = PromptOptions {
            prompt: long.clone(),
            ..with_model(TITAN)
        };
        assert!(rejected(titan).contains("513 characters long; this model takes at most 512"));
        let nova = PromptOptions {
            prompt: long,
            ..with_model(NOVA)
        };
        assert!(validate(nova, &config()).is_ok());
        // Characters, not bytes.
        let accents = PromptOptions {
            prompt: "é".repeat(512),
            ..with_model(TITAN)
        };
        assert!(validate(accents, &config()).is_ok());
    }

    #[test]
    fn control_characters() {
        assert!(rejected(opts("bell\u{7}")).contains("control character (U+0007) at character 5"));
        let neg = PromptOptions {
            negative_prompt: Some("x\u{1b}".into()),
            ..opts("fine")
        };
        assert!(rejected(neg).contains("negativePrompt contains a control character"));
    }

    #[test]
    fn blocklist() {
        assert!(rejected(opts("lots of GORE")).contains("blocked term \"gore\""));
        assert!(validate(opts("a gorge"), &config()).is_ok());
    }

    #[test]
    fn negative_prompt_is_normalised_and_empty_dropped() {
        let o = PromptOptions {
            negative_prompt: Some("  ".into()),
            ..with_model(NOVA)
        };
        assert_eq!(validate(o, &config()).unwrap().negative_prompt, None);
        let o = PromptOptions {
            negative_prompt: Some(" blurry \n text ".into()),
            ..with_model(NOVA)
        };
        assert_eq!(
            validate(o, &config()).unwrap().negative_prompt.as_deref(),
            Some("blurry text")
        );
        let o = PromptOptions {
            negative_prompt: Some("n".repeat(1025)),
            ..with_model(NOVA)
        };
        assert!(rejected(o).contains("negativePrompt is 1025 characters"));
    }

    #[test]
    fn model_must_be_enabled() {
        let o = with_model("amazon.titan-image-generator-v1");
        assert!(rejected(o).contains("is not enabled here"));
    }

    fn sized(model: &str, w: u32, h: u32) -> PromptOptions {
        PromptOptions {
            width: Some(w),
            height: Some(h),
            ..with_model(model)
        }
    }

    #[test]
    fn titan_sizes_are_a_fixed_list() {
        assert!(validate(sized(TITAN, 1152, 768), &config()).is_ok());
        assert!(validate(sized(TITAN, 384, 576), &config()).is_ok());
        assert!(rejected(sized(TITAN, 1000, 1000)).contains("1000x1000 is not a size"));
    }

    #[test]
    fn nova_sizes_are_a_range() {
        assert!(validate(sized(NOVA, 1280, 720), &config()).is_ok());
        assert!(
            rejected(sized(NOVA, 1000, 1024))
                .contains("width must be between 320 and 4096 and a multiple of 16")
        );
        assert!(rejected(sized(NOVA, 304, 320)).contains("width must be"));
        assert!(rejected(sized(NOVA, 4096, 4096)).contains("pixels"));
        assert!(rejected(sized(NOVA, 2048, 320)).contains("aspect ratio"));
    }

    #[test]
    fn stability_sizes_are_aspect_ratios() {
        assert!(validate(sized(SD, 1920, 1080), &config()).is_ok());
        assert!(rejected(sized(SD, 1000, 300)).contains("not an aspect ratio"));
    }

    #[test]
    fn both_sides_or_neither() {
        let o = PromptOptions {
            width: Some(512),
            ..with_model(NOVA)
        };
        assert!(rejected(o).contains("give both width and height"));
    }

    #[test]
    fn image_count() {
        let o = |n| PromptOptions {
            number_of_images: Some(n),
            ..with_model(NOVA)
        };
        assert!(validate(o(5), &config()).is_ok());
        assert!(rejected(o(0)).contains("between 1 and 5, got 0"));
        assert!(rejected(o(6)).contains("got 6"));
        let sd = PromptOptions {
            number_of_images: Some(2),
            ..with_model(SD)
        };
        assert!(rejected(sd).contains("must be 1 for Stability AI"));
    }

    #[test]
    fn seed_ranges() {
        let o = |model, seed| PromptOptions {
            seed: Some(seed),
            ..with_model(model)
        };
        assert!(validate(o(NOVA, 858_993_459), &config()).is_ok());
        assert!(rejected(o(NOVA, 858_993_460)).contains("seed must be between 0 and 858993459"));
        assert!(validate(o(TITAN, 2_147_483_646), &config()).is_ok());
        assert!(rejected(o(TITAN, 2_147_483_647)).contains("seed"));
        assert!(validate(o(SD, 4_294_967_294), &config()).is_ok());
    }

    #[test]
    fn cfg_scale_ranges() {
        let o = |model, cfg| PromptOptions {
            cfg_scale: Some(cfg),
            ..with_model(model)
        };
        assert!(validate(o(TITAN, 10.0), &config()).is_ok());
        assert!(rejected(o(TITAN, 1.0)).contains("cfgScale must be between 1.1 and 10"));
        assert!(rejected(o(NOVA, 10.5)).contains("cfgScale"));
        assert!(rejected(o(SD, 5.0)).contains("do not take cfgScale"));
    }

    #[test]
    fn quality_only_where_supported() {
        let o = |model| PromptOptions {
            quality: Some(Quality::Premium),
            ..with_model(model)
        };
        assert_eq!(
            validate(o(NOVA), &config()).unwrap().quality,
            Some(Quality::Premium)
        );
        assert!(rejected(o(SD)).contains("do not take quality"));
    }

    #[test]
    fn every_problem_is_reported_at_once() {
        let o = PromptOptions {
            prompt: String::new(),
            seed: Some(u64::MAX),
            number_of_images: Some(9),
            ..with_model(NOVA)
        };
        let Rejections(problems) = validate(o, &config()).unwrap_err();
        assert_eq!(problems.len(), 3, "{problems:?}");
        let o = PromptOptions {
            prompt: String::new(),
            quality: Some(Quality::Premium),
            output_format: Some(OutputFormat::Jpeg),
            cfg_scale: Some(5.0),
            ..with_model(ULTRA)
        };
        let Rejections(problems) = validate(o, &config()).unwrap_err();
        assert_eq!(problems.len(), 3, "{problems:?}");
        let o = PromptOptions {
            output_format: Some(OutputFormat::Png),
            cfg_scale: Some(99.0),
            ..with_model(TITAN)
        };
        let Rejections(problems) = validate(o, &config()).unwrap_err();
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(
            problems[1].contains("do not take outputFormat"),
            "{problems:?}"
        );
    }

    #[test]
    fn output_format_only_where_the_model_documents_it() {
        let o = |model, format| PromptOptions {
            output_format: format,
            ..with_model(model)
        };
        for model in [SD, ULTRA, SD35] {
            for format in OutputFormat::ALL {
                let v = validate(o(model, Some(format)), &config()).unwrap();
                assert_eq!(v.output_format, Some(format), "{model}");
            }
            let v = validate(o(model, None), &config()).unwrap();
            assert_eq!(
                v.output_format,
                Some(OutputFormat::Png),
                "PNG stays the default"
            );
        }
        for model in [NOVA, TITAN] {
            assert_eq!(
                validate(o(model, None), &config()).unwrap().output_format,
                None
            );
            for format in OutputFormat::ALL {
                let reason = rejected(o(model, Some(format)));
                assert!(
                    reason.contains("models do not take outputFormat (they always return PNG)"),
                    "{reason}"
                );
            }
        }
    }

    #[test]
    fn legacy_models_run_with_a_warning() {
        let titan = validate(with_model(TITAN), &config()).unwrap();
        assert_eq!(
            titan.warnings,
            [format!(
                "{TITAN} (Amazon Titan Image Generator v2) is a legacy model: it reached end of \
                 life on Bedrock in June 2026 and works only for accounts with extended access; \
                 current models here: {SD}, {ULTRA}, {SD35}."
            )]
        );
        let nova = validate(with_model(NOVA), &config()).unwrap();
        assert_eq!(nova.warnings.len(), 1);
        assert!(
            nova.warnings[0].contains("end of life on Bedrock in September 2026"),
            "{:?}",
            nova.warnings
        );
        for model in [SD, ULTRA, SD35] {
            assert!(
                validate(with_model(model), &config())
                    .unwrap()
                    .warnings
                    .is_empty()
            );
        }
        // A cross-region id is the same model; with no current model enabled, none is suggested.
        let only_legacy = Rules {
            default_model_id: "us.amazon.nova-canvas-v1:0".into(),
            allowed_model_ids: vec!["us.amazon.nova-canvas-v1:0".into()],
            ..config()
        };
        let v = validate(opts("a lighthouse"), &only_legacy).unwrap();
        assert_eq!(
            v.warnings,
            [
                "us.amazon.nova-canvas-v1:0 (Amazon Nova Canvas) is a legacy model: it reached end of \
              life on Bedrock in September 2026 and works only for accounts with extended access."
            ]
        );
        // A rejected request carries its problems, not the warning.
        let bad = PromptOptions {
            prompt: String::new(),
            ..with_model(TITAN)
        };
        assert!(!rejected(bad).contains("legacy"));
    }

    #[test]
    fn a_retired_model_is_warned_about_as_retired() {
        let retired = KnownModel {
            lifecycle: Lifecycle::Retired {
                end_of_life: "June 2026",
            },
            ..*model::known_model(TITAN).unwrap()
        };
        assert_eq!(
            lifecycle_warning(TITAN, &retired, &config()).as_deref(),
            Some(
                format!(
                    "{TITAN} (Amazon Titan Image Generator v2) is retired: it reached end of life \
                     on Bedrock in June 2026, and Bedrock refuses it unless the account has a \
                     private arrangement with the provider; current models here: {SD}, {ULTRA}, \
                     {SD35}."
                )
                .as_str()
            )
        );
        let active = model::known_model(SD).unwrap();
        assert_eq!(lifecycle_warning(SD, active, &config()), None);
    }
}
