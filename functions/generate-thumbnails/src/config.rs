use imagegen_core::config::{self, ConfigError, Env, vars};

use crate::thumbnail::{MAX_SOURCE_PIXELS, ThumbnailSpec};

/// The largest image object read (bytes).
pub const DEFAULT_MAX_SOURCE_BYTES: u64 = 64 * 1024 * 1024;

/// GenerateThumbnails' settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// `THUMBNAIL_SIZES` (default `128,256,512`), `THUMBNAIL_FORMAT` (jpeg|png|webp, default jpeg),
    /// `THUMBNAIL_QUALITY` (1-100, default 80; JPEG only).
    pub spec: ThumbnailSpec,
    /// `MAX_SOURCE_BYTES`: larger image objects are refused before they are read.
    pub max_source_bytes: u64,
    /// `MAX_SOURCE_PIXELS`: larger images are refused from their header, before decoding.
    pub max_source_pixels: u64,
}

impl Config {
    pub fn from_env(env: &impl Env) -> Result<Self, ConfigError> {
        let defaults = ThumbnailSpec::default();
        let sizes = match config::optional(env, vars::THUMBNAIL_SIZES) {
            None => defaults.sizes,
            Some(_) => config::list_or(env, vars::THUMBNAIL_SIZES, &[])
                .iter()
                .map(|s| {
                    s.parse::<u32>().map_err(|_| {
                        ConfigError(format!(
                            "{} has {s:?}, which is not a whole number of pixels",
                            vars::THUMBNAIL_SIZES
                        ))
                    })
                })
                .collect::<Result<Vec<_>, _>>()?,
        };
        let spec = ThumbnailSpec {
            sizes,
            format: config::parsed_or(env, vars::THUMBNAIL_FORMAT, defaults.format)?,
            quality: config::parsed_or(env, vars::THUMBNAIL_QUALITY, defaults.quality)?,
        };
        spec.validate()
            .map_err(|e| ConfigError(format!("THUMBNAIL_*: {e}")))?;
        Ok(Self {
            spec,
            max_source_bytes: config::parsed_or(
                env,
                vars::MAX_SOURCE_BYTES,
                DEFAULT_MAX_SOURCE_BYTES,
            )?,
            max_source_pixels: config::parsed_or(env, vars::MAX_SOURCE_PIXELS, MAX_SOURCE_PIXELS)?,
        })
    }
}

impl Default for Config {
    fn default() -> Self {
        Self {
            spec: ThumbnailSpec::default(),
            max_source_bytes: DEFAULT_MAX_SOURCE_BYTES,
            max_source_pixels: MAX_SOURCE_PIXELS,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::thumbnail::ThumbnailFormat;

    #[test]
    fn defaults_and_overrides() {
        let c = Config::from_env(&[("X", "")]).unwrap();
        assert_eq!(c, Config::default());
        assert_eq!(c.spec.sizes, [128, 256, 512]);
        let c = Config::from_env(&[
            ("THUMBNAIL_SIZES", "64, 1024"),
            ("THUMBNAIL_FORMAT", "WebP"),
            ("THUMBNAIL_QUALITY", "90"),
        ])
        .unwrap();
        assert_eq!(c.spec.sizes, [64, 1024]);
        assert_eq!(c.spec.format, ThumbnailFormat::WebP);
    }

    #[test]
    fn bad_settings_are_named() {
        assert!(
            Config::from_env(&[("THUMBNAIL_SIZES", "128,big")])
                .unwrap_err()
                .0
                .contains("\"big\"")
        );
        assert!(Config::from_env(&[("THUMBNAIL_SIZES", "0")]).is_err());
        assert!(
            Config::from_env(&[("THUMBNAIL_FORMAT", "gif")])
                .unwrap_err()
                .0
                .contains("gif")
        );
        assert!(
            Config::from_env(&[("THUMBNAIL_QUALITY", "300")])
                .unwrap_err()
                .0
                .contains("THUMBNAIL_QUALITY")
        );
        assert!(Config::from_env(&[("THUMBNAIL_QUALITY", "0")]).is_err());
    }
}
