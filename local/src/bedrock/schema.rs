//! The request schema of each model the offline model answers for, checked the way Bedrock checks it:
//! a malformed request is a `ValidationException` with a JSON-schema style message. These tables are
//! written from the AWS documentation on purpose apart from `imagegen_core::model`, so the fake
//! catches a validator bug.
//!
//! Titan Image Generator v2 and Nova Canvas share the `TEXT_IMAGE` shape; their limits differ per
//! family. The Stability models' pages differ per model, so each has its own entry in
//! [`STABILITY_MODELS`] (Bedrock user guide, "Stability AI models", read for this table):
//!
//! - Stable Image Core 1.1 (`stability.stable-image-core-v1:1`,
//!   <https://docs.aws.amazon.com/bedrock/latest/userguide/model-parameters-diffusion-stable-image-core-text-image-request-response.html>):
//!   text-to-image only; `prompt` (up to 10,000 characters), optional `aspect_ratio` (16:9, 1:1,
//!   21:9, 2:3, 3:2, 4:5, 5:4, 9:16, 9:21; default 1:1), `output_format` (JPEG, PNG; output sides 640
//!   to 1,536 px), `seed` (0 or absent for a random one), `negative_prompt` (up to 10,000). No `mode`.
//! - Stable Image Ultra 1.1 (`stability.stable-image-ultra-v1:1`,
//!   <https://docs.aws.amazon.com/bedrock/latest/userguide/model-parameters-diffusion-stable-ultra-text-image-request-response.html>):
//!   the same fields and formats, plus `mode` whose only value is `text-to-image`, and
//!   image-to-image through `image` (base64 JPEG/PNG/WebP) and `strength` (0 to 1).
//! - Stable Diffusion 3.5 Large (`stability.sd3-5-large-v1:0`,
//!   <https://docs.aws.amazon.com/bedrock/latest/userguide/model-parameters-diffusion-3-5-large.html>):
//!   `mode` `text-to-image` or `image-to-image` (the latter with `image` and `strength`), `seed` 0 to
//!   4294967294, `output_format` `jpeg`, `png` or `webp` (default png), `negative_prompt` up to 10,000.
//!
//! Every one answers `{"seeds": [...], "finish_reasons": [null | "Filter reason: prompt" | ...],
//! "images": [base64]}`. Where the pages disagree with each other or with Stability's own API
//! reference, the stricter reading is kept: a prompt needs at least one character (the tables say 0
//! to 10,000; Stability's API requires a prompt), and seeds stop at 4294967294 for every model (the
//! Core and Ultra pages say 4294967295).

use imagegen_core::model::ModelFamily;
use serde_json::{Map, Value};

/// The format the model answers in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageFormat {
    Png,
    Jpeg,
    WebP,
}

impl ImageFormat {
    /// The format for a Stability `output_format` value.
    fn from_name(name: &str) -> Option<Self> {
        match name {
            "png" => Some(Self::Png),
            "jpeg" => Some(Self::Jpeg),
            "webp" => Some(Self::WebP),
            _ => None,
        }
    }
}

/// A text-to-image job the renderer can draw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageJob {
    pub prompt: String,
    pub negative_prompt: Option<String>,
    pub width: u32,
    pub height: u32,
    pub count: u32,
    /// The seed of the first image; image `i` uses `seed + i`.
    pub seed: u64,
    pub format: ImageFormat,
}

/// What one Stability model's Bedrock page documents.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StabilityModel {
    pub id: &'static str,
    /// The top-level keys the model takes.
    pub keys: &'static [&'static str],
    /// `output_format` values.
    pub output_formats: &'static [&'static str],
    /// `mode` values (only when `keys` has `mode`).
    pub modes: &'static [&'static str],
}

const STABILITY_TEXT_KEYS: &[&str] = &[
    "prompt",
    "negative_prompt",
    "aspect_ratio",
    "seed",
    "output_format",
];
const STABILITY_IMAGE_KEYS: &[&str] = &[
    "prompt",
    "negative_prompt",
    "aspect_ratio",
    "seed",
    "output_format",
    "mode",
    "image",
    "strength",
];

/// The Stability models the offline model answers for (see the module documentation).
pub const STABILITY_MODELS: &[StabilityModel] = &[
    StabilityModel {
        id: "stability.stable-image-core-v1:1",
        keys: STABILITY_TEXT_KEYS,
        output_formats: &["jpeg", "png"],
        modes: &[],
    },
    StabilityModel {
        id: "stability.stable-image-ultra-v1:1",
        keys: STABILITY_IMAGE_KEYS,
        output_formats: &["jpeg", "png"],
        modes: &["text-to-image"],
    },
    StabilityModel {
        id: "stability.sd3-5-large-v1:0",
        keys: STABILITY_IMAGE_KEYS,
        output_formats: &["jpeg", "png", "webp"],
        modes: &["text-to-image", "image-to-image"],
    },
];

/// The Titan and Nova models the offline model answers for.
const TEXT_IMAGE_MODELS: &[(&str, ModelFamily)] = &[
    ("amazon.titan-image-generator-v2:0", ModelFamily::Titan),
    ("amazon.nova-canvas-v1:0", ModelFamily::Nova),
];

/// The model a Bedrock model id names, also through a cross-region inference profile
/// (`us.amazon.nova-canvas-v1:0`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OfflineModel {
    TextImage(ModelFamily),
    Stability(&'static StabilityModel),
}

impl OfflineModel {
    /// The model for an id, or `None` when the offline model does not answer for it.
    pub fn find(model_id: &str) -> Option<Self> {
        let names = |id: &str| {
            model_id == id || model_id.split_once('.').is_some_and(|(_, rest)| rest == id)
        };
        TEXT_IMAGE_MODELS
            .iter()
            .find(|(id, _)| names(id))
            .map(|&(_, family)| Self::TextImage(family))
            .or_else(|| {
                STABILITY_MODELS
                    .iter()
                    .find(|m| names(m.id))
                    .map(Self::Stability)
            })
    }

    /// The family whose request and response shape the model uses.
    pub fn family(self) -> ModelFamily {
        match self {
            Self::TextImage(family) => family,
            Self::Stability(_) => ModelFamily::Stability,
        }
    }
}

const TITAN_SIZES: &[(u32, u32)] = &[
    (1024, 1024),
    (768, 768),
    (512, 512),
    (768, 1152),
    (384, 576),
    (1152, 768),
    (576, 384),
    (768, 1280),
    (384, 640),
    (1280, 768),
    (640, 384),
    (896, 1152),
    (448, 576),
    (1152, 896),
    (576, 448),
    (768, 1408),
    (384, 704),
    (1408, 768),
    (704, 384),
    (640, 1408),
    (320, 704),
    (1408, 640),
    (704, 320),
    (1152, 640),
    (1173, 640),
];

/// Stability aspect ratios and the size each renders at (SD3-class models).
const STABILITY_RATIOS: &[(&str, u32, u32)] = &[
    ("1:1", 1024, 1024),
    ("16:9", 1344, 768),
    ("9:16", 768, 1344),
    ("21:9", 1536, 640),
    ("9:21", 640, 1536),
    ("3:2", 1216, 832),
    ("2:3", 832, 1216),
    ("5:4", 1088, 896),
    ("4:5", 896, 1088),
];

const TEXT_IMAGE_TASKS: &[&str] = &[
    "TEXT_IMAGE",
    "COLOR_GUIDED_GENERATION",
    "IMAGE_VARIATION",
    "INPAINTING",
    "OUTPAINTING",
    "BACKGROUND_REMOVAL",
    "VIRTUAL_TRY_ON",
];
const TEXT_IMAGE_TOP_KEYS: &[&str] = &[
    "taskType",
    "textToImageParams",
    "imageGenerationConfig",
    "colorGuidedGenerationParams",
    "imageVariationParams",
    "inPaintingParams",
    "outPaintingParams",
    "backgroundRemovalParams",
    "virtualTryOnParams",
];
const TITAN_TEXT_KEYS: &[&str] = &[
    "text",
    "negativeText",
    "conditionImage",
    "controlMode",
    "controlStrength",
];
const NOVA_TEXT_KEYS: &[&str] = &[
    "text",
    "negativeText",
    "conditionImage",
    "controlMode",
    "controlStrength",
    "style",
];
const CONFIG_KEYS: &[&str] = &[
    "numberOfImages",
    "height",
    "width",
    "cfgScale",
    "seed",
    "quality",
];
/// The message Bedrock gives for a model id it does not know.
pub const INVALID_MODEL_MESSAGE: &str = "The provided model identifier is invalid.";

/// Check a request body for `model_id` and turn it into a job, or explain (as Bedrock would) why
/// not.
pub fn parse_request(model_id: &str, body: &[u8]) -> Result<(OfflineModel, ImageJob), String> {
    let model = OfflineModel::find(model_id).ok_or_else(|| INVALID_MODEL_MESSAGE.to_owned())?;
    let value: Value = serde_json::from_slice(body).map_err(|e| {
        format!("Malformed input request: the body is not valid JSON ({e}), please reformat your input and try again.")
    })?;
    let Value::Object(root) = value else {
        return Err(malformed(
            "#",
            &format!("expected type: JSONObject, found: {}", type_name(&value)),
        ));
    };
    let job = match model {
        OfflineModel::TextImage(family) => parse_text_image(family, &root),
        OfflineModel::Stability(stability) => parse_stability(stability, &root),
    }?;
    Ok((model, job))
}

/// The size a Stability aspect ratio renders at.
pub fn stability_size(aspect_ratio: &str) -> Option<(u32, u32)> {
    STABILITY_RATIOS
        .iter()
        .find(|(r, _, _)| *r == aspect_ratio)
        .map(|&(_, w, h)| (w, h))
}

fn malformed(path: &str, detail: &str) -> String {
    format!("Malformed input request: {path}: {detail}, please reformat your input and try again.")
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "Null",
        Value::Bool(_) => "Boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "Integer",
        Value::Number(_) => "BigDecimal",
        Value::String(_) => "String",
        Value::Array(_) => "JSONArray",
        Value::Object(_) => "JSONObject",
    }
}

fn check_keys(path: &str, object: &Map<String, Value>, allowed: &[&str]) -> Result<(), String> {
    let extra: Vec<&str> = object
        .keys()
        .map(String::as_str)
        .filter(|k| !allowed.contains(k))
        .collect();
    match extra.as_slice() {
        [] => Ok(()),
        [one] => Err(malformed(
            path,
            &format!("extraneous key [{one}] is not permitted"),
        )),
        many => Err(malformed(
            path,
            &format!("extraneous keys [{}] are not permitted", many.join(", ")),
        )),
    }
}

fn object<'a>(path: &str, value: &'a Value) -> Result<&'a Map<String, Value>, String> {
    value.as_object().ok_or_else(|| {
        malformed(
            path,
            &format!("expected type: JSONObject, found: {}", type_name(value)),
        )
    })
}

/// An optional string with a length range in characters.
fn string(
    path: &str,
    value: Option<&Value>,
    min: usize,
    max: usize,
) -> Result<Option<String>, String> {
    let Some(value) = value else { return Ok(None) };
    let Value::String(s) = value else {
        return Err(malformed(
            path,
            &format!("expected type: String, found: {}", type_name(value)),
        ));
    };
    let len = s.chars().count();
    if len < min {
        return Err(malformed(
            path,
            &format!("expected minLength: {min}, actual: {len}"),
        ));
    }
    if len > max {
        return Err(malformed(
            path,
            &format!("expected maxLength: {max}, actual: {len}"),
        ));
    }
    Ok(Some(s.clone()))
}

/// `n` if it lies in `min..=max`, else Bedrock's wording of the violated bound.
fn in_range<T: PartialOrd + std::fmt::Display>(
    path: &str,
    n: T,
    min: T,
    max: T,
) -> Result<T, String> {
    if n < min {
        Err(malformed(
            path,
            &format!("{n} is not greater or equal to {min}"),
        ))
    } else if n > max {
        Err(malformed(
            path,
            &format!("{n} is not less or equal to {max}"),
        ))
    } else {
        Ok(n)
    }
}

/// An optional integer in `min..=max`.
fn integer(path: &str, value: Option<&Value>, min: u64, max: u64) -> Result<Option<u64>, String> {
    let Some(value) = value else { return Ok(None) };
    let n = match value {
        Value::Number(n) if n.is_u64() => n.as_u64().unwrap_or_default(),
        Value::Number(n) if n.is_i64() => {
            return Err(malformed(
                path,
                &format!("{n} is not greater or equal to {min}"),
            ));
        }
        other => {
            return Err(malformed(
                path,
                &format!("expected type: Integer, found: {}", type_name(other)),
            ));
        }
    };
    in_range(path, n, min, max).map(Some)
}

fn number(path: &str, value: Option<&Value>, min: f64, max: f64) -> Result<Option<f64>, String> {
    let Some(value) = value else { return Ok(None) };
    let Some(n) = value.as_f64() else {
        return Err(malformed(
            path,
            &format!("expected type: Number, found: {}", type_name(value)),
        ));
    };
    in_range(path, n, min, max).map(Some)
}

fn one_of(path: &str, value: Option<&Value>, allowed: &[&str]) -> Result<Option<String>, String> {
    let Some(s) = string(path, value, 0, usize::MAX)? else {
        return Ok(None);
    };
    if allowed.contains(&s.as_str()) {
        Ok(Some(s))
    } else {
        Err(malformed(path, &format!("{s} is not a valid enum value")))
    }
}

fn to_u32(n: u64) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

fn parse_text_image(family: ModelFamily, root: &Map<String, Value>) -> Result<ImageJob, String> {
    check_keys("#", root, TEXT_IMAGE_TOP_KEYS)?;
    let Some(task) = one_of("#/taskType", root.get("taskType"), TEXT_IMAGE_TASKS)? else {
        return Err(malformed("#", "required key [taskType] not found"));
    };
    if task != "TEXT_IMAGE" {
        return Err(format!(
            "taskType {task} is valid but not supported by the offline image model; only TEXT_IMAGE is."
        ));
    }
    let Some(params) = root.get("textToImageParams") else {
        return Err(malformed("#", "required key [textToImageParams] not found"));
    };
    let params = object("#/textToImageParams", params)?;
    let (text_keys, max_text) = match family {
        ModelFamily::Titan => (TITAN_TEXT_KEYS, 512),
        _ => (NOVA_TEXT_KEYS, 1024),
    };
    check_keys("#/textToImageParams", params, text_keys)?;
    let Some(prompt) = string("#/textToImageParams/text", params.get("text"), 1, max_text)? else {
        return Err(malformed(
            "#/textToImageParams",
            "required key [text] not found",
        ));
    };
    let negative_prompt = string(
        "#/textToImageParams/negativeText",
        params.get("negativeText"),
        1,
        max_text,
    )?;

    let empty = Map::new();
    let config = match root.get("imageGenerationConfig") {
        Some(v) => object("#/imageGenerationConfig", v)?,
        None => &empty,
    };
    check_keys("#/imageGenerationConfig", config, CONFIG_KEYS)?;
    let count = integer(
        "#/imageGenerationConfig/numberOfImages",
        config.get("numberOfImages"),
        1,
        5,
    )?
    .unwrap_or(1);
    let (max_seed, default_seed) = match family {
        ModelFamily::Titan => (2_147_483_646, 42),
        _ => (858_993_459, 12),
    };
    let seed = integer(
        "#/imageGenerationConfig/seed",
        config.get("seed"),
        0,
        max_seed,
    )?
    .unwrap_or(default_seed);
    number(
        "#/imageGenerationConfig/cfgScale",
        config.get("cfgScale"),
        1.1,
        10.0,
    )?;
    one_of(
        "#/imageGenerationConfig/quality",
        config.get("quality"),
        &["standard", "premium"],
    )?;
    let width = integer(
        "#/imageGenerationConfig/width",
        config.get("width"),
        0,
        u64::MAX,
    )?;
    let height = integer(
        "#/imageGenerationConfig/height",
        config.get("height"),
        0,
        u64::MAX,
    )?;
    let (width, height) = (width.map_or(1024, to_u32), height.map_or(1024, to_u32));
    match family {
        ModelFamily::Titan => check_titan_size(width, height)?,
        _ => check_nova_size(width, height)?,
    }
    Ok(ImageJob {
        prompt,
        negative_prompt,
        width,
        height,
        count: to_u32(count),
        seed,
        format: ImageFormat::Png,
    })
}

fn check_titan_size(width: u32, height: u32) -> Result<(), String> {
    if TITAN_SIZES.contains(&(width, height)) {
        Ok(())
    } else {
        Err(malformed(
            "#/imageGenerationConfig",
            &format!("{width}x{height} is not a supported image size for this model"),
        ))
    }
}

fn check_nova_size(width: u32, height: u32) -> Result<(), String> {
    for (side, n) in [("width", width), ("height", height)] {
        let path = format!("#/imageGenerationConfig/{side}");
        if n < 320 {
            return Err(malformed(
                &path,
                &format!("{n} is not greater or equal to 320"),
            ));
        }
        if n > 4096 {
            return Err(malformed(
                &path,
                &format!("{n} is not less or equal to 4096"),
            ));
        }
        if n % 16 != 0 {
            return Err(malformed(&path, &format!("{n} is not a multiple of 16")));
        }
    }
    let pixels = u64::from(width) * u64::from(height);
    if pixels > 4_194_304 {
        return Err(format!(
            "The total pixel count of the image ({width}x{height} = {pixels}) must be at most 4194304."
        ));
    }
    let (long, short) = (width.max(height), width.min(height));
    if long > short * 4 {
        return Err(format!(
            "The aspect ratio of the image ({width}x{height}) must be between 1:4 and 4:1."
        ));
    }
    Ok(())
}

fn parse_stability(model: &StabilityModel, root: &Map<String, Value>) -> Result<ImageJob, String> {
    check_keys("#", root, model.keys)?;
    let Some(prompt) = string("#/prompt", root.get("prompt"), 1, 10_000)? else {
        return Err(malformed("#", "required key [prompt] not found"));
    };
    let negative_prompt = string("#/negative_prompt", root.get("negative_prompt"), 0, 10_000)?
        .filter(|n| !n.is_empty());
    let ratios: Vec<&str> = STABILITY_RATIOS.iter().map(|(r, _, _)| *r).collect();
    let ratio = one_of("#/aspect_ratio", root.get("aspect_ratio"), &ratios)?;
    let (width, height) = ratio
        .as_deref()
        .and_then(stability_size)
        .unwrap_or((1024, 1024));
    let seed = integer("#/seed", root.get("seed"), 0, 4_294_967_294)?.unwrap_or(0);
    let format = one_of(
        "#/output_format",
        root.get("output_format"),
        model.output_formats,
    )?
    .as_deref()
    .and_then(ImageFormat::from_name)
    .unwrap_or(ImageFormat::Png);
    let mode = one_of("#/mode", root.get("mode"), model.modes)?;
    number("#/strength", root.get("strength"), 0.0, 1.0)?;
    if mode.as_deref() == Some("image-to-image") || root.contains_key("image") {
        return Err(format!(
            "image-to-image is valid for {} but not supported by the offline image model.",
            model.id
        ));
    }
    // Stability draws a random seed for 0; the fake derives one from the prompt to stay deterministic.
    let seed = if seed == 0 {
        crate::bedrock::render::hash_str(&prompt) % 4_294_967_294 + 1
    } else {
        seed
    };
    Ok(ImageJob {
        prompt,
        negative_prompt,
        width,
        height,
        count: 1,
        seed,
        format,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const CORE: &str = "stability.stable-image-core-v1:1";
    const ULTRA: &str = "stability.stable-image-ultra-v1:1";
    const SD35: &str = "stability.sd3-5-large-v1:0";

    /// A request to the family's model (Stability: Stable Image Core).
    fn parse(family: ModelFamily, v: Value) -> Result<ImageJob, String> {
        let model = match family {
            ModelFamily::Titan => "amazon.titan-image-generator-v2:0",
            ModelFamily::Nova => "amazon.nova-canvas-v1:0",
            ModelFamily::Stability => CORE,
        };
        parse_model(model, v)
    }

    fn parse_model(model: &str, v: Value) -> Result<ImageJob, String> {
        parse_request(model, v.to_string().as_bytes()).map(|(_, job)| job)
    }

    #[test]
    fn models_by_id() {
        assert_eq!(
            OfflineModel::find("us.amazon.nova-canvas-v1:0").map(OfflineModel::family),
            Some(ModelFamily::Nova)
        );
        for id in [CORE, ULTRA, SD35] {
            let found = OfflineModel::find(id);
            assert!(
                matches!(found, Some(OfflineModel::Stability(m)) if m.id == id),
                "{id}"
            );
            assert_eq!(
                OfflineModel::find(&format!("eu.{id}")).map(OfflineModel::family),
                Some(ModelFamily::Stability)
            );
        }
        for unknown in [
            "stability.sd3-large-v1:0",
            "amazon.titan-image-generator-v1",
            "x",
        ] {
            assert_eq!(
                parse_model(unknown, json!({"prompt": "p"})).unwrap_err(),
                INVALID_MODEL_MESSAGE
            );
        }
    }

    #[test]
    fn output_formats_per_model() {
        let format = |model, f: &str| {
            parse_model(model, json!({"prompt": "p", "output_format": f})).map(|j| j.format)
        };
        for model in [CORE, ULTRA, SD35] {
            assert_eq!(format(model, "png"), Ok(ImageFormat::Png));
            assert_eq!(format(model, "jpeg"), Ok(ImageFormat::Jpeg));
            assert_eq!(
                parse_model(model, json!({"prompt": "p"})).map(|j| j.format),
                Ok(ImageFormat::Png),
                "PNG is the default"
            );
            let err = format(model, "gif").unwrap_err();
            assert!(
                err.contains("#/output_format: gif is not a valid enum value"),
                "{err}"
            );
        }
        assert_eq!(format(SD35, "webp"), Ok(ImageFormat::WebP));
        for model in [CORE, ULTRA] {
            let err = format(model, "webp").unwrap_err();
            assert!(
                err.contains("webp is not a valid enum value"),
                "{model}: {err}"
            );
        }
    }

    #[test]
    fn modes_per_model() {
        let mode = |model, m: &str| parse_model(model, json!({"prompt": "p", "mode": m}));
        let err = mode(CORE, "text-to-image").unwrap_err();
        assert!(err.contains("extraneous key [mode]"), "{err}");
        assert!(mode(ULTRA, "text-to-image").is_ok());
        let err = mode(ULTRA, "image-to-image").unwrap_err();
        assert!(
            err.contains("image-to-image is not a valid enum value"),
            "{err}"
        );
        assert!(mode(SD35, "text-to-image").is_ok());
        let err = mode(SD35, "image-to-image").unwrap_err();
        assert!(
            err.contains("not supported by the offline image model"),
            "{err}"
        );
        let with_image = json!({"prompt": "p", "image": "aGk=", "strength": 0.5});
        let err = parse_model(ULTRA, with_image.clone()).unwrap_err();
        assert!(
            err.contains("not supported by the offline image model"),
            "{err}"
        );
        let err = parse_model(CORE, with_image).unwrap_err();
        assert!(err.contains("extraneous key"), "{err}");
        let err = parse_model(SD35, json!({"prompt": "p", "strength": 1.5})).unwrap_err();
        assert!(
            err.contains("#/strength: 1.5 is not less or equal to 1"),
            "{err}"
        );
        // Parameters of other APIs are not Bedrock's.
        for model in [CORE, ULTRA, SD35] {
            for key in ["cfg_scale", "style_preset", "width"] {
                let err = parse_model(model, json!({"prompt": "p", key: 1})).unwrap_err();
                assert!(
                    err.contains(&format!("extraneous key [{key}]")),
                    "{model}: {err}"
                );
            }
        }
    }

    #[test]
    fn stability_sizes_are_within_the_documented_sides() {
        for (ratio, w, h) in STABILITY_RATIOS {
            assert!(
                (640..=1536).contains(w) && (640..=1536).contains(h),
                "{ratio}"
            );
        }
    }

    #[test]
    fn titan_defaults_and_limits() {
        let job = parse(
            ModelFamily::Titan,
            json!({"taskType":"TEXT_IMAGE","textToImageParams":{"text":"a cat"}}),
        )
        .unwrap();
        assert_eq!(
            (job.width, job.height, job.count, job.seed),
            (1024, 1024, 1, 42)
        );

        let err = parse(
            ModelFamily::Titan,
            json!({"taskType":"TEXT_IMAGE","textToImageParams":{"text":"a"},
                   "imageGenerationConfig":{"width":1000,"height":1000}}),
        )
        .unwrap_err();
        assert!(err.contains("1000x1000"), "{err}");

        let err = parse(
            ModelFamily::Titan,
            json!({"taskType":"TEXT_IMAGE","textToImageParams":{"text":"x".repeat(513)}}),
        )
        .unwrap_err();
        assert!(err.contains("maxLength: 512"), "{err}");
    }

    #[test]
    fn nova_sizes() {
        let ok = |w: u32, h: u32| {
            parse(
                ModelFamily::Nova,
                json!({"taskType":"TEXT_IMAGE","textToImageParams":{"text":"a"},
                       "imageGenerationConfig":{"width":w,"height":h}}),
            )
        };
        assert!(ok(1280, 720).is_ok());
        assert!(ok(1000, 720).unwrap_err().contains("multiple of 16"));
        assert!(ok(4096, 4096).unwrap_err().contains("4194304"));
        assert!(ok(1600, 320).unwrap_err().contains("1:4"));
        assert!(ok(304, 320).unwrap_err().contains("320"));
    }

    #[test]
    fn stability_sizes_and_seed() {
        let job = parse(
            ModelFamily::Stability,
            json!({"prompt":"p","aspect_ratio":"16:9","seed":5,"output_format":"png"}),
        )
        .unwrap();
        assert_eq!((job.width, job.height, job.seed), (1344, 768, 5));
        let zero = parse(ModelFamily::Stability, json!({"prompt":"p"})).unwrap();
        assert!(zero.seed > 0);
        let err = parse(
            ModelFamily::Stability,
            json!({"prompt":"p","aspect_ratio":"7:3"}),
        )
        .unwrap_err();
        assert!(err.contains("not a valid enum value"), "{err}");
    }

    #[test]
    fn schema_errors_read_like_bedrock() {
        let err = parse(
            ModelFamily::Nova,
            json!({"taskType":"TEXT_IMAGE","textToImageParams":{"text":"a","sed":1}}),
        )
        .unwrap_err();
        assert_eq!(
            err,
            "Malformed input request: #/textToImageParams: extraneous key [sed] is not permitted, please reformat your input and try again."
        );
        let err = parse(
            ModelFamily::Nova,
            json!({"taskType":"TEXT_IMAGE","textToImageParams":{}}),
        )
        .unwrap_err();
        assert!(err.contains("required key [text] not found"), "{err}");
        let err = parse(
            ModelFamily::Nova,
            json!({"taskType":"TEXT_IMAGE","textToImageParams":{"text":"a"},
                   "imageGenerationConfig":{"seed":"7"}}),
        )
        .unwrap_err();
        assert!(
            err.contains("expected type: Integer, found: String"),
            "{err}"
        );
        assert!(
            parse_request("amazon.titan-image-generator-v2:0", b"{")
                .unwrap_err()
                .contains("not valid JSON")
        );
    }
}
