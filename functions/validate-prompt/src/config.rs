use imagegen_core::config::{self, ConfigError, Env, vars};
use imagegen_core::keys;
use imagegen_core::request::Rules;

/// ValidatePrompt's settings.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// `OUTPUT_BUCKET`: where images, thumbnails and the manifest are written, and the only bucket
    /// prompt files are read from.
    pub output_bucket: String,
    /// `PROMPT_PREFIX` (default `prompts/`): prompt files are read only from under it.
    pub prompt_prefix: String,
    /// What a request must satisfy.
    pub rules: Rules,
}

impl Config {
    pub fn from_env(env: &impl Env) -> Result<Self, ConfigError> {
        let output_bucket = config::required(env, vars::OUTPUT_BUCKET)?;
        Ok(Self {
            output_bucket,
            prompt_prefix: config::optional(env, vars::PROMPT_PREFIX)
                .unwrap_or_else(|| keys::PROMPT_PREFIX.to_owned()),
            rules: Rules::from_env(env)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults() {
        let c = Config::from_env(&[("OUTPUT_BUCKET", "b")]).unwrap();
        assert_eq!(c.prompt_prefix, "prompts/");
        assert_eq!(c.rules, Rules::from_env(&[("OUTPUT_BUCKET", "b")]).unwrap());
    }

    #[test]
    fn errors_name_the_setting() {
        assert!(
            Config::from_env(&[("X", "y")])
                .unwrap_err()
                .0
                .contains("OUTPUT_BUCKET")
        );
        let bad_model = [("OUTPUT_BUCKET", "b"), ("DEFAULT_MODEL_ID", "openai.dalle")];
        assert!(
            Config::from_env(&bad_model)
                .unwrap_err()
                .0
                .contains("openai.dalle")
        );
    }
}
