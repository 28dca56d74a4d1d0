//! The request schema of each model family, checked the way Bedrock checks it: a malformed request is
//! a `ValidationException` with a JSON-schema style message. These tables are written from the AWS
//! documentation on purpose apart from `imagegen_core::model`, so the fake catches a validator bug.

use imagegen_core::model::ModelFamily;
use serde_json::{Map, Value};

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
const STABILITY_KEYS: &[&str] = &[
    "prompt",
    "negative_prompt",
    "aspect_ratio",
    "seed",
    "output_format",
    "mode",
    "image",
    "strength",
    "style_preset",
    "cfg_scale",
];

/// Check a request body for `family` and turn it into a job, or explain (as Bedrock would) why not.
pub fn parse_request(family: ModelFamily, body: &[u8]) -> Result<ImageJob, String> {
    let value: Value = serde_json::from_slice(body).map_err(|e| {
        format!("Malformed input request: the body is not valid JSON ({e}), please reformat your input and try again.")
    })?;
    let Value::Object(root) = value else {
        return Err(malformed(
            "#",
            &format!("expected type: JSONObject, found: {}", type_name(&value)),
        ));
    };
    match family {
        ModelFamily::Titan | ModelFamily::Nova => parse_text_image(family, &root),
        ModelFamily::Stability => parse_stability(&root),
    }
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

fn parse_stability(root: &Map<String, Value>) -> Result<ImageJob, String> {
    check_keys("#", root, STABILITY_KEYS)?;
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
        &["jpeg", "png", "webp"],
    )?;
    if let Some(format) = format.filter(|f| f != "png") {
        return Err(format!(
            "output_format {format} is valid but the offline image model only renders png."
        ));
    }
    let mode = one_of(
        "#/mode",
        root.get("mode"),
        &["text-to-image", "image-to-image"],
    )?;
    if mode.as_deref() == Some("image-to-image") {
        return Err(
            "mode image-to-image is valid but not supported by the offline image model.".into(),
        );
    }
    number("#/strength", root.get("strength"), 0.0, 1.0)?;
    number("#/cfg_scale", root.get("cfg_scale"), 1.0, 10.0)?;
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
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(family: ModelFamily, v: Value) -> Result<ImageJob, String> {
        parse_request(family, v.to_string().as_bytes())
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
            parse_request(ModelFamily::Titan, b"{")
                .unwrap_err()
                .contains("not valid JSON")
        );
    }
}
