//! Bedrock image model families: their limits, the request each expects and the response each gives.
//!
//! The model id is a setting; the code supports families, not one id. Titan Image Generator v2 and
//! Nova Canvas share the `TEXT_IMAGE` shape; Stability AI models (Stable Image Core/Ultra, SD 3.5) have
//! their own, and report filtering in `finish_reasons` instead of an error.

use base64::Engine as _;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::types::{ImageRequest, OutputFormat};

/// The model used when neither the request nor the settings name one: Stability AI's Stable Image
/// Core (Titan Image Generator v2 and Nova Canvas have reached end of life on Bedrock).
pub const DEFAULT_MODEL_ID: &str = "stability.stable-image-core-v1:1";

/// Whether Bedrock still offers a model to every account. `imagegen models` prints it, the CLI's and
/// the console's model lists mark it, and validate-prompt warns about a model that is not active.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lifecycle {
    Active,
    /// Past its end of life on Bedrock: accounts with extended access can still call it, so a
    /// request that names it still runs, with a warning.
    Legacy {
        /// When Bedrock ended it, for people ("June 2026").
        end_of_life: &'static str,
    },
    /// Gone from Bedrock: every call is refused (`ResourceNotFoundException`, "This model version
    /// has reached the end of its life"), which GenerateImage names `ModelRetired`. A request that
    /// names it still runs, with a warning, since an account with a private arrangement with the
    /// provider may still call it.
    Retired {
        /// When Bedrock ended it, for people ("June 2026").
        end_of_life: &'static str,
    },
}

impl Lifecycle {
    /// The state's name for people: `active`, `legacy`, `retired`.
    pub fn label(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Legacy { .. } => "legacy",
            Self::Retired { .. } => "retired",
        }
    }

    /// When Bedrock ends (or ended) the model; `None` for an active one.
    pub fn end_of_life(self) -> Option<&'static str> {
        match self {
            Self::Active => None,
            Self::Legacy { end_of_life } | Self::Retired { end_of_life } => Some(end_of_life),
        }
    }
}

impl std::fmt::Display for Lifecycle {
    /// `active`, or `legacy: end of life on Bedrock June 2026` (likewise `retired: ...`).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.end_of_life() {
            None => f.write_str(self.label()),
            Some(date) => write!(f, "{}: end of life on Bedrock {date}", self.label()),
        }
    }
}

/// A Bedrock image model this project knows by id (any id of a supported family works; these are
/// the ones the offline model answers for and the CLI allows by default).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KnownModel {
    pub id: &'static str,
    /// The model's name for people.
    pub name: &'static str,
    pub family: ModelFamily,
    pub lifecycle: Lifecycle,
}

/// The models this project knows by id, current ones first. The one home of their end-of-life
/// dates.
pub const KNOWN_MODELS: &[KnownModel] = &[
    KnownModel {
        id: DEFAULT_MODEL_ID,
        name: "Stable Image Core 1.1",
        family: ModelFamily::Stability,
        lifecycle: Lifecycle::Active,
    },
    KnownModel {
        id: "stability.stable-image-ultra-v1:1",
        name: "Stable Image Ultra 1.1",
        family: ModelFamily::Stability,
        lifecycle: Lifecycle::Active,
    },
    KnownModel {
        id: "stability.sd3-5-large-v1:0",
        name: "Stable Diffusion 3.5 Large",
        family: ModelFamily::Stability,
        lifecycle: Lifecycle::Active,
    },
    KnownModel {
        id: "amazon.nova-canvas-v1:0",
        name: "Amazon Nova Canvas",
        family: ModelFamily::Nova,
        lifecycle: Lifecycle::Legacy {
            end_of_life: "September 2026",
        },
    },
    KnownModel {
        id: "amazon.titan-image-generator-v2:0",
        name: "Amazon Titan Image Generator v2",
        family: ModelFamily::Titan,
        lifecycle: Lifecycle::Legacy {
            end_of_life: "June 2026",
        },
    },
];

/// The known model a Bedrock model id names, ignoring a cross-region inference prefix (`us.`, ...).
pub fn known_model(model_id: &str) -> Option<&'static KnownModel> {
    let base = base_id(model_id);
    KNOWN_MODELS.iter().find(|m| m.id == base)
}

/// The known models Bedrock offers to every account ([`Lifecycle::Active`]), current ones first:
/// what a person is pointed to when a model goes away.
pub fn current_models() -> impl Iterator<Item = &'static KnownModel> {
    KNOWN_MODELS
        .iter()
        .filter(|m| m.lifecycle == Lifecycle::Active)
}

/// A geography of Bedrock's system-defined cross-Region inference profiles: the id prefix
/// (`us.stability.stable-image-core-v1:1`) and the start of the names of the Regions a profile of it
/// is called from (empty: any Region, as for `global.`). A profile is invoked in a Region of its own
/// geography and routes to the model in several Regions of it; IAM must allow the profile ARN and
/// the model in each destination Region (Bedrock user guide, "Prerequisites for inference profiles").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProfileGeography {
    /// The id's first dot-separated segment: `us`, `eu`, `apac`, ...
    pub prefix: &'static str,
    /// The Regions a profile of this geography is called from start with this (`us-`).
    pub caller_regions: &'static str,
}

/// Every geography prefix Bedrock's system-defined inference profiles use. The CDK app reads this
/// table from `facts.json` to grant a profile's permissions and to refuse one the configured
/// Bedrock Region cannot call.
pub const PROFILE_GEOGRAPHIES: [ProfileGeography; 7] = [
    ProfileGeography::new("us", "us-"),
    ProfileGeography::new("eu", "eu-"),
    ProfileGeography::new("apac", "ap-"),
    ProfileGeography::new("global", ""),
    ProfileGeography::new("us-gov", "us-gov-"),
    ProfileGeography::new("ca", "ca-"),
    ProfileGeography::new("jp", "ap-northeast-"),
];

impl ProfileGeography {
    const fn new(prefix: &'static str, caller_regions: &'static str) -> Self {
        Self {
            prefix,
            caller_regions,
        }
    }
}

/// The inference-profile geography a model id names (`us.` ...), or `None` for a foundation model id.
pub fn profile_geography(model_id: &str) -> Option<&'static ProfileGeography> {
    let (prefix, _) = model_id.trim().split_once('.')?;
    PROFILE_GEOGRAPHIES.iter().find(|g| g.prefix == prefix)
}

/// A model id without its cross-region inference prefix (`us.`, `eu.`, ...): the foundation model
/// an inference profile routes to, which Bedrock retires (and GetFoundationModel describes).
pub fn base_id(model_id: &str) -> &str {
    let id = model_id.trim();
    match (profile_geography(id), id.split_once('.')) {
        (Some(_), Some((_, rest))) => rest,
        _ => id,
    }
}

/// A family of Bedrock image models that share a request shape and limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ModelFamily {
    /// `amazon.titan-image-generator-*`
    Titan,
    /// `amazon.nova-canvas-*`
    Nova,
    /// `stability.*`
    Stability,
}

/// How a family constrains image size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SizeRule {
    /// Only these `(width, height)` pairs.
    Fixed(&'static [(u32, u32)]),
    /// Each side in `min..=max`, a multiple of `multiple`, at most `max_pixels`, aspect within `max_aspect`:1.
    Range {
        min: u32,
        max: u32,
        multiple: u32,
        max_pixels: u64,
        max_aspect: u32,
    },
    /// The model picks the size from an aspect ratio; the request's width:height must reduce to one of these.
    AspectRatios(&'static [(u32, u32)]),
}

/// The limits of one family.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Limits {
    pub max_prompt_chars: usize,
    pub max_negative_chars: usize,
    pub max_images: u32,
    pub max_seed: u64,
    /// `(min, max, default)`; `None` when the family takes no cfgScale.
    pub cfg_scale: Option<(f64, f64, f64)>,
    pub supports_quality: bool,
    /// The image formats a request may choose; empty when the family takes no format (it returns
    /// PNG).
    pub output_formats: &'static [OutputFormat],
    pub sizes: SizeRule,
    /// The size used when the request gives none.
    pub default_size: (u32, u32),
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

const STABILITY_RATIOS: &[(u32, u32)] = &[
    (1, 1),
    (16, 9),
    (9, 16),
    (21, 9),
    (9, 21),
    (2, 3),
    (3, 2),
    (4, 5),
    (5, 4),
];

impl ModelFamily {
    /// The family of a Bedrock model id, ignoring a cross-region inference prefix (`us.`, `eu.`, ...).
    pub fn from_model_id(model_id: &str) -> Option<Self> {
        let base = base_id(model_id);
        if base.starts_with("amazon.titan-image-generator") {
            Some(Self::Titan)
        } else if base.starts_with("amazon.nova-canvas") {
            Some(Self::Nova)
        } else if base.starts_with("stability.") {
            Some(Self::Stability)
        } else {
            None
        }
    }

    /// A short name for people.
    pub fn label(self) -> &'static str {
        match self {
            Self::Titan => "Amazon Titan Image Generator",
            Self::Nova => "Amazon Nova Canvas",
            Self::Stability => "Stability AI",
        }
    }

    /// The family's limits.
    pub fn limits(self) -> Limits {
        match self {
            Self::Titan => Limits {
                max_prompt_chars: 512,
                max_negative_chars: 512,
                max_images: 5,
                max_seed: 2_147_483_646,
                cfg_scale: Some((1.1, 10.0, 8.0)),
                supports_quality: true,
                output_formats: &[],
                sizes: SizeRule::Fixed(TITAN_SIZES),
                default_size: (1024, 1024),
            },
            Self::Nova => Limits {
                max_prompt_chars: 1024,
                max_negative_chars: 1024,
                max_images: 5,
                max_seed: 858_993_459,
                cfg_scale: Some((1.1, 10.0, 6.5)),
                supports_quality: true,
                output_formats: &[],
                sizes: SizeRule::Range {
                    min: 320,
                    max: 4096,
                    multiple: 16,
                    max_pixels: 4_194_304,
                    max_aspect: 4,
                },
                default_size: (1024, 1024),
            },
            Self::Stability => Limits {
                max_prompt_chars: 10_000,
                max_negative_chars: 10_000,
                max_images: 1,
                max_seed: 4_294_967_294,
                cfg_scale: None,
                supports_quality: false,
                // Core, Ultra and SD3.5 Large all document `jpeg` and `png` (SD3.5 Large also
                // `webp`, which the pipeline does not offer).
                output_formats: &OutputFormat::ALL,
                sizes: SizeRule::AspectRatios(STABILITY_RATIOS),
                default_size: (1024, 1024),
            },
        }
    }
}

/// The Stability `aspect_ratio` for a width and height, if it is (within 3% of) one the models accept.
pub fn aspect_ratio(width: u32, height: u32) -> Option<String> {
    if width == 0 || height == 0 {
        return None;
    }
    // The nearest supported ratio within 3%: the models' own output sizes are not exact
    // (Stability's 21:9 image is 1536x640, which is 12:5).
    let wanted = f64::from(width) / f64::from(height);
    STABILITY_RATIOS
        .iter()
        .map(|&(rw, rh)| {
            (
                rw,
                rh,
                (wanted / (f64::from(rw) / f64::from(rh)) - 1.0).abs(),
            )
        })
        .filter(|&(_, _, off)| off <= 0.03)
        .min_by(|a, b| a.2.total_cmp(&b.2))
        .map(|(w, h, _)| format!("{w}:{h}"))
}

/// The InvokeModel body for a validated request.
pub fn request_body(request: &ImageRequest) -> Value {
    match request.model.family {
        ModelFamily::Titan | ModelFamily::Nova => {
            let mut text = json!({ "text": request.prompt });
            // Nova rejects an empty negativeText: only send one that has content.
            if let Some(neg) = request.negative_prompt.as_deref().filter(|n| !n.is_empty()) {
                text["negativeText"] = json!(neg);
            }
            let mut config = json!({
                "numberOfImages": request.number_of_images,
                "height": request.height,
                "width": request.width,
                "seed": request.seed,
            });
            if let Some(cfg) = request.cfg_scale {
                config["cfgScale"] = json!(cfg);
            }
            if let Some(quality) = request.quality {
                config["quality"] = json!(quality);
            }
            json!({
                "taskType": "TEXT_IMAGE",
                "textToImageParams": text,
                "imageGenerationConfig": config,
            })
        }
        ModelFamily::Stability => {
            let mut body = json!({
                "prompt": request.prompt,
                "seed": request.seed,
                "output_format": request.image_format().as_str(),
            });
            if let Some(ratio) = aspect_ratio(request.width, request.height) {
                body["aspect_ratio"] = json!(ratio);
            }
            if let Some(neg) = request.negative_prompt.as_deref().filter(|n| !n.is_empty()) {
                body["negative_prompt"] = json!(neg);
            }
            body
        }
    }
}

/// One image decoded from a model response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelImage {
    pub bytes: Vec<u8>,
    /// The seed the model reports for this image, when it reports one.
    pub seed: Option<u64>,
}

/// Why a model response could not be turned into images.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResponseError {
    /// The model's content filter stopped it.
    #[error("{0}")]
    Filtered(String),
    /// The model reported an error in its response body.
    #[error("the model reported an error: {0}")]
    Reported(String),
    /// The response is not the shape the family promises.
    #[error("malformed model response: {0}")]
    Malformed(String),
}

/// Words a content-filter message contains (Titan, Nova and Stability phrasing).
pub fn is_content_filter_message(message: &str) -> bool {
    let m = message.to_ascii_lowercase();
    m.contains("content filter")
        || m.contains("blocked by our content")
        || m.contains("responsible ai")
        || m.contains("filter reason")
}

#[derive(Debug, Deserialize)]
struct RawResponse {
    #[serde(default)]
    images: Option<Vec<Value>>,
    #[serde(default)]
    error: Option<Value>,
    #[serde(default)]
    seeds: Option<Vec<Value>>,
    #[serde(default)]
    finish_reasons: Option<Vec<Value>>,
}

/// Decode an InvokeModel response body into images.
pub fn parse_response(family: ModelFamily, body: &[u8]) -> Result<Vec<ModelImage>, ResponseError> {
    let raw: RawResponse = serde_json::from_slice(body)
        .map_err(|e| ResponseError::Malformed(format!("not the expected JSON object ({e})")))?;
    if let Some(error) = raw.error.as_ref().filter(|e| !e.is_null()) {
        let text = match error {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        return Err(if is_content_filter_message(&text) {
            ResponseError::Filtered(text)
        } else {
            ResponseError::Reported(text)
        });
    }
    if family == ModelFamily::Stability {
        for reason in raw.finish_reasons.iter().flatten() {
            match reason {
                Value::Null => {}
                Value::String(s) if s.eq_ignore_ascii_case("success") => {}
                Value::String(s) => return Err(ResponseError::Filtered(s.clone())),
                other => return Err(ResponseError::Filtered(other.to_string())),
            }
        }
    }
    let images = raw
        .images
        .ok_or_else(|| ResponseError::Malformed("no `images` field".into()))?;
    if images.is_empty() {
        return Err(ResponseError::Malformed("`images` is empty".into()));
    }
    let seeds = raw.seeds.unwrap_or_default();
    images
        .iter()
        .enumerate()
        .map(|(i, image)| {
            let text = image
                .as_str()
                .ok_or_else(|| ResponseError::Malformed(format!("images[{i}] is not a string")))?;
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(text.trim())
                .map_err(|e| {
                    ResponseError::Malformed(format!("images[{i}] is not base64 ({e})"))
                })?;
            Ok(ModelImage {
                bytes,
                seed: seeds.get(i).and_then(Value::as_u64),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::{ModelRef, OutputLocation};

    #[test]
    fn profile_ids_name_their_geography_and_foundation_ids_none() {
        assert_eq!(
            profile_geography("us.stability.stable-image-core-v1:1").map(|g| g.caller_regions),
            Some("us-")
        );
        assert_eq!(
            profile_geography("global.amazon.nova-canvas-v1:0").map(|g| g.prefix),
            Some("global")
        );
        assert_eq!(profile_geography("stability.stable-image-core-v1:1"), None);
        assert_eq!(profile_geography("amazon.nova-canvas-v1:0"), None);
        assert_eq!(
            base_id("apac.amazon.nova-canvas-v1:0"),
            "amazon.nova-canvas-v1:0"
        );
    }

    fn request(family: ModelFamily) -> ImageRequest {
        ImageRequest {
            request_id: "r".into(),
            prompt: "a lighthouse".into(),
            negative_prompt: Some(String::new()),
            model: ModelRef {
                id: "m".into(),
                family,
            },
            width: 1152,
            height: 768,
            number_of_images: 1,
            seed: 7,
            cfg_scale: Some(6.5),
            quality: Some(crate::types::Quality::Standard),
            output_format: None,
            source: None,
            output: OutputLocation {
                bucket: "b".into(),
                image_prefix: "images/r/".into(),
                thumbnail_prefix: "thumbnails/r/".into(),
                manifest_key: "results/r.json".into(),
            },
            warnings: Vec::new(),
        }
    }

    #[test]
    fn families_from_ids() {
        assert_eq!(
            ModelFamily::from_model_id("amazon.titan-image-generator-v2:0"),
            Some(ModelFamily::Titan)
        );
        assert_eq!(
            ModelFamily::from_model_id("amazon.nova-canvas-v1:0"),
            Some(ModelFamily::Nova)
        );
        assert_eq!(
            ModelFamily::from_model_id("us.stability.stable-image-core-v1:1"),
            Some(ModelFamily::Stability)
        );
        assert_eq!(ModelFamily::from_model_id("anthropic.claude"), None);
    }

    #[test]
    fn nova_request_omits_empty_negative_text() {
        let body = request_body(&request(ModelFamily::Nova));
        assert_eq!(body["taskType"], "TEXT_IMAGE");
        assert!(body["textToImageParams"].get("negativeText").is_none());
        assert_eq!(body["imageGenerationConfig"]["width"], 1152);
        assert_eq!(body["imageGenerationConfig"]["quality"], "standard");
    }

    #[test]
    fn stability_request_uses_aspect_ratio() {
        let body = request_body(&request(ModelFamily::Stability));
        assert_eq!(body["aspect_ratio"], "3:2");
        assert_eq!(body["output_format"], "png");
        assert!(body.get("width").is_none());
        let jpeg = ImageRequest {
            output_format: Some(OutputFormat::Jpeg),
            ..request(ModelFamily::Stability)
        };
        assert_eq!(request_body(&jpeg)["output_format"], "jpeg");
    }

    #[test]
    fn known_models_and_their_lifecycle() {
        for id in [
            "stability.stable-image-ultra-v1:1",
            "stability.sd3-5-large-v1:0",
        ] {
            let model = known_model(id).unwrap();
            assert_eq!(
                (model.family, model.lifecycle),
                (ModelFamily::Stability, Lifecycle::Active)
            );
            assert_eq!(ModelFamily::from_model_id(id), Some(model.family));
        }
        assert_eq!(
            known_model("us.amazon.nova-canvas-v1:0").unwrap().lifecycle,
            Lifecycle::Legacy {
                end_of_life: "September 2026"
            }
        );
        assert_eq!(
            known_model("amazon.titan-image-generator-v2:0")
                .unwrap()
                .lifecycle,
            Lifecycle::Legacy {
                end_of_life: "June 2026"
            }
        );
        assert_eq!(known_model("stability.sd3-large-v1:0"), None);
        assert_eq!(
            known_model(DEFAULT_MODEL_ID).unwrap().lifecycle,
            Lifecycle::Active
        );
        for model in KNOWN_MODELS {
            assert_eq!(
                ModelFamily::from_model_id(model.id),
                Some(model.family),
                "{}",
                model.id
            );
            // Only Stability lets a request choose the format.
            assert_eq!(
                model.family.limits().output_formats.is_empty(),
                model.family != ModelFamily::Stability
            );
        }
    }

    #[test]
    fn lifecycles_read_as_words_with_their_dates() {
        assert_eq!(Lifecycle::Active.to_string(), "active");
        assert_eq!(
            Lifecycle::Legacy {
                end_of_life: "June 2026"
            }
            .to_string(),
            "legacy: end of life on Bedrock June 2026"
        );
        let retired = Lifecycle::Retired {
            end_of_life: "September 2026",
        };
        assert_eq!(
            retired.to_string(),
            "retired: end of life on Bedrock September 2026"
        );
        assert_eq!(
            (retired.label(), retired.end_of_life()),
            ("retired", Some("September 2026"))
        );
        assert_eq!(Lifecycle::Active.end_of_life(), None);
    }

    #[test]
    fn the_current_models_are_the_active_known_ones_in_order() {
        let current: Vec<&str> = current_models().map(|m| m.id).collect();
        assert_eq!(
            current,
            [
                DEFAULT_MODEL_ID,
                "stability.stable-image-ultra-v1:1",
                "stability.sd3-5-large-v1:0"
            ]
        );
    }

    #[test]
    fn aspect_ratios() {
        assert_eq!(aspect_ratio(1024, 1024).as_deref(), Some("1:1"));
        assert_eq!(aspect_ratio(1920, 1080).as_deref(), Some("16:9"));
        assert_eq!(aspect_ratio(1536, 640).as_deref(), Some("21:9"));
        assert_eq!(aspect_ratio(640, 1536).as_deref(), Some("9:21"));
        assert_eq!(aspect_ratio(2100, 900).as_deref(), Some("21:9"));
        assert_eq!(aspect_ratio(1000, 300), None);
        assert_eq!(aspect_ratio(1100, 1000), None);
        assert_eq!(aspect_ratio(0, 0), None);
    }

    #[test]
    fn responses() {
        let ok = br#"{"images":["iVBORw0KGgo="],"error":null}"#;
        let images = parse_response(ModelFamily::Titan, ok).unwrap();
        assert_eq!(images[0].bytes[..4], [0x89, b'P', b'N', b'G']);

        let filtered =
            br#"{"images":[],"error":"This request has been blocked by our content filters."}"#;
        assert!(matches!(
            parse_response(ModelFamily::Nova, filtered),
            Err(ResponseError::Filtered(_))
        ));

        let stab = br#"{"images":["aGk="],"seeds":[5],"finish_reasons":["Filter reason: prompt"]}"#;
        assert!(matches!(
            parse_response(ModelFamily::Stability, stab),
            Err(ResponseError::Filtered(r)) if r.contains("prompt")
        ));
        let stab_ok = br#"{"images":["aGk="],"seeds":[5],"finish_reasons":[null]}"#;
        assert_eq!(
            parse_response(ModelFamily::Stability, stab_ok).unwrap()[0].seed,
            Some(5)
        );

        for bad in [
            &b"not json"[..],
            b"{}",
            br#"{"images":[1]}"#,
            br#"{"images":["!!"]}"#,
        ] {
            assert!(matches!(
                parse_response(ModelFamily::Titan, bad),
                Err(ResponseError::Malformed(_))
            ));
        }
    }
}
