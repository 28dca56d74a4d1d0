//! The console-style execution input of `imagegen run` (and `aws start`/`post`): the `--input`
//! file's object with the flags on top ([`imagegen_local_pipeline::input`] builds and names it).

use imagegen_local_pipeline::LocalPipelineError;
use imagegen_local_pipeline::input::{self, InputFields};
use serde_json::{Map, Value};

use crate::args::RunArgs;
use crate::error::CliError;

/// The input JSON: the `--input` file's object (if any) with the flags on top.
pub fn build(args: &RunArgs) -> Result<Value, CliError> {
    let base = match &args.input {
        Some(path) => {
            let text =
                std::fs::read_to_string(path).map_err(|source| LocalPipelineError::ReadFile {
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
    Ok(input::build(base, &fields(args))?)
}

/// The flags of `args` as console input fields.
fn fields(args: &RunArgs) -> InputFields {
    InputFields {
        prompt: args.prompt.clone(),
        negative: args.negative.clone(),
        size: args.size.clone(),
        seed: args.seed,
        count: args.count,
        model: args.model.clone(),
        format: args.format.clone(),
    }
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
        assert!(build(&RunArgs::default()).is_err());
    }
}
