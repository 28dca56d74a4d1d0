//! The console-style execution input of `imagegen run`, and its execution name.

use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::args::RunArgs;
use crate::error::CliError;

/// `WxH` as (width, height).
pub fn parse_size(size: &str) -> Result<(u32, u32), CliError> {
    let bad = || {
        CliError::Usage(format!(
            "--size {size:?} is not WIDTHxHEIGHT, e.g. 1024x1024"
        ))
    };
    let (w, h) = size.split_once(['x', 'X']).ok_or_else(bad)?;
    Ok((
        w.trim().parse().map_err(|_| bad())?,
        h.trim().parse().map_err(|_| bad())?,
    ))
}

/// The input JSON: the `--input` file's object (if any) with the flags on top.
pub fn build(args: &RunArgs) -> Result<Value, CliError> {
    let mut input = match &args.input {
        Some(path) => {
            let text = std::fs::read_to_string(path).map_err(|source| CliError::ReadFile {
                path: path.clone(),
                source,
            })?;
            match serde_json::from_str::<Value>(&text) {
                Ok(Value::Object(map)) => map,
                Ok(Value::String(prompt)) => {
                    Map::from_iter([("prompt".to_owned(), Value::String(prompt))])
                }
                Ok(_) => {
                    return Err(CliError::Usage(format!(
                        "{} must hold a JSON object like {{\"prompt\": \"a lighthouse at dusk\"}}",
                        path.display()
                    )));
                }
                Err(e) => {
                    return Err(CliError::Usage(format!(
                        "{} is not JSON: {e}",
                        path.display()
                    )));
                }
            }
        }
        None => Map::new(),
    };
    let mut set = |key: &str, value: Value| {
        input.insert(key.to_owned(), value);
    };
    if let Some(prompt) = &args.prompt {
        set("prompt", prompt.clone().into());
    }
    if let Some(negative) = &args.negative {
        set("negativePrompt", negative.clone().into());
    }
    if let Some(size) = &args.size {
        let (w, h) = parse_size(size)?;
        set("width", w.into());
        set("height", h.into());
    }
    if let Some(seed) = args.seed {
        set("seed", seed.into());
    }
    if let Some(count) = args.count {
        set("numberOfImages", count.into());
    }
    if let Some(model) = &args.model {
        set("model", model.clone().into());
    }
    if let Some(format) = &args.format {
        set("outputFormat", format.clone().into());
    }
    if !input.contains_key("prompt") {
        return Err(CliError::Usage(
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_make_console_input() {
        let args = RunArgs {
            prompt: Some("a lighthouse".into()),
            size: Some("1024x768".into()),
            count: Some(2),
            ..RunArgs::default()
        };
        let input = build(&args).unwrap();
        assert_eq!(
            input,
            serde_json::json!({"prompt": "a lighthouse", "width": 1024, "height": 768, "numberOfImages": 2})
        );
        let jpeg = RunArgs {
            prompt: Some("a fox".into()),
            model: Some("stability.stable-image-ultra-v1:1".into()),
            format: Some("jpeg".into()),
            ..RunArgs::default()
        };
        assert_eq!(
            build(&jpeg).unwrap(),
            serde_json::json!({"prompt": "a fox", "model": "stability.stable-image-ultra-v1:1", "outputFormat": "jpeg"})
        );
        assert!(build(&RunArgs::default()).is_err());
        assert!(parse_size("big").is_err());
        let name = execution_name(&input);
        assert!(name.starts_with("run-") && name.len() == 26, "{name}");
    }
}
