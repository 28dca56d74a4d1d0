//! The console-style execution input (`{"prompt", "negativePrompt", "width", "height", "seed",
//! "numberOfImages", "model", "outputFormat"}`): built from fields (`imagegen run`'s flags, the
//! console's prompt form), named (`run-...`), and shown shortened.

use imagegen_core::display::escape_controls;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::error::LocalPipelineError;

/// The fields of a console input, each set only when given.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct InputFields {
    pub prompt: Option<String>,
    pub negative: Option<String>,
    /// `WxH`, e.g. `1024x1024`.
    pub size: Option<String>,
    pub seed: Option<u64>,
    pub count: Option<u32>,
    pub model: Option<String>,
    pub format: Option<String>,
}

/// `WxH` as (width, height).
pub fn parse_size(size: &str) -> Result<(u32, u32), LocalPipelineError> {
    let bad = || {
        LocalPipelineError::Input(format!(
            "--size {size:?} is not WIDTHxHEIGHT, e.g. 1024x1024"
        ))
    };
    let (w, h) = size.split_once(['x', 'X']).ok_or_else(bad)?;
    Ok((
        w.trim().parse().map_err(|_| bad())?,
        h.trim().parse().map_err(|_| bad())?,
    ))
}

/// The input JSON: `input` (an `--input` file's object, or empty) with the given `fields` on top.
pub fn build(
    mut input: Map<String, Value>,
    fields: &InputFields,
) -> Result<Value, LocalPipelineError> {
    let mut set = |key: &str, value: Value| {
        input.insert(key.to_owned(), value);
    };
    if let Some(prompt) = &fields.prompt {
        set("prompt", prompt.clone().into());
    }
    if let Some(negative) = &fields.negative {
        set("negativePrompt", negative.clone().into());
    }
    if let Some(size) = &fields.size {
        let (w, h) = parse_size(size)?;
        set("width", w.into());
        set("height", h.into());
    }
    if let Some(seed) = fields.seed {
        set("seed", seed.into());
    }
    if let Some(count) = fields.count {
        set("numberOfImages", count.into());
    }
    if let Some(model) = &fields.model {
        set("model", model.clone().into());
    }
    if let Some(format) = &fields.format {
        set("outputFormat", format.clone().into());
    }
    if !input.contains_key("prompt") {
        return Err(LocalPipelineError::Input(
            "give a prompt: imagegen run \"a lighthouse at dusk\" (or --input FILE)".to_owned(),
        ));
    }
    Ok(Value::Object(input))
}

/// `run-YYYYMMDD-HHMMSS-xxxxxx`: readable, sortable, unique enough for one machine.
pub fn execution_name(input: &Value) -> String {
    let now = chrono::Utc::now();
    let mut sha = Sha256::new();
    sha.update(input.to_string().as_bytes());
    sha.update(now.timestamp_nanos_opt().unwrap_or_default().to_be_bytes());
    sha.update(std::process::id().to_be_bytes());
    let hash = hex::encode(sha.finalize());
    format!("run-{}-{}", now.format("%Y%m%d-%H%M%S"), &hash[..6])
}

/// The prompt of an execution input, shortened: console input, or the uploaded file's key.
pub fn prompt_excerpt(input: &str, max_chars: usize) -> String {
    let value: Value = serde_json::from_str(input).unwrap_or(Value::String(input.to_owned()));
    let text = match &value {
        Value::String(s) => s.clone(),
        v => v["prompt"]
            .as_str()
            .map(str::to_owned)
            .or_else(|| {
                v.pointer("/source/key")
                    .and_then(Value::as_str)
                    .map(|k| format!("(file) {k}"))
            })
            .unwrap_or_else(|| v.to_string()),
    };
    let one_line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let one_line = escape_controls(&one_line).into_owned();
    if one_line.chars().count() > max_chars {
        let cut: String = one_line.chars().take(max_chars.saturating_sub(1)).collect();
        format!("{cut}…")
    } else {
        one_line
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_make_console_input() {
        let fields = InputFields {
            prompt: Some("a lighthouse".into()),
            size: Some("1024x768".into()),
            count: Some(2),
            ..InputFields::default()
        };
        let input = build(Map::new(), &fields).unwrap();
        assert_eq!(
            input,
            serde_json::json!({"prompt": "a lighthouse", "width": 1024, "height": 768, "numberOfImages": 2})
        );
        let jpeg = InputFields {
            prompt: Some("a fox".into()),
            model: Some("stability.stable-image-ultra-v1:1".into()),
            format: Some("jpeg".into()),
            ..InputFields::default()
        };
        assert_eq!(
            build(Map::new(), &jpeg).unwrap(),
            serde_json::json!({"prompt": "a fox", "model": "stability.stable-image-ultra-v1:1", "outputFormat": "jpeg"})
        );
        assert!(build(Map::new(), &InputFields::default()).is_err());
        assert!(parse_size("big").is_err());
        let name = execution_name(&input);
        assert!(name.starts_with("run-") && name.len() == 26, "{name}");
    }

    #[test]
    fn excerpts() {
        assert_eq!(
            prompt_excerpt(r#"{"prompt":"a  lighthouse\nat dusk"}"#, 50),
            "a lighthouse at dusk"
        );
        assert_eq!(prompt_excerpt(r#""just text""#, 4), "jus…");
        assert_eq!(
            prompt_excerpt(r#"{"source":{"bucket":"b","key":"prompts/x.txt"}}"#, 50),
            "(file) prompts/x.txt"
        );
        assert_eq!(
            prompt_excerpt(r#"{"prompt":"a\u0000cat\u001b[2J\u202e"}"#, 50),
            "a\\0cat\\x1b[2J\\u202e"
        );
    }
}
