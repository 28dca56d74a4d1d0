use imagegen_core::config::{self, ConfigError, Env, vars};

/// GenerateImage's settings.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Config {
    /// `BEDROCK_REGION`: where to call Bedrock (default: the function's own region).
    pub bedrock_region: Option<String>,
}

impl Config {
    pub fn from_env(env: &impl Env) -> Result<Self, ConfigError> {
        let bedrock_region = config::optional(env, vars::BEDROCK_REGION);
        if let Some(region) = &bedrock_region
            && !region
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        {
            return Err(ConfigError(format!(
                "{}={region:?} is not a region name like us-west-2",
                vars::BEDROCK_REGION
            )));
        }
        Ok(Self { bedrock_region })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn region() {
        assert_eq!(Config::from_env(&[("X", "")]).unwrap().bedrock_region, None);
        assert_eq!(
            Config::from_env(&[("BEDROCK_REGION", "us-west-2")])
                .unwrap()
                .bedrock_region
                .as_deref(),
            Some("us-west-2")
        );
        assert!(Config::from_env(&[("BEDROCK_REGION", "US West")]).is_err());
    }
}
