use imagegen_core::config::{self, ConfigError, Env, vars};

use crate::thumbnail::{MAX_SOURCE_PIXELS, ThumbnailFormat, ThumbnailSpec};

/// The largest image object read (bytes).
pub const DEFAULT_MAX_SOURCE_BYTES: u64 = 64 * 1024 * 1024;

/// GenerateThumbnails' settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// `THUMBNAIL_SIZES` (default `128,256,512`), `THUMBNAIL_FORMATS` or `THUMBNAIL_FORMAT`
    /// (default `jpeg`), `THUMBNAIL_QUALITY` (default `jpeg:80,webp:80,avif:75`).
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
        // `THUMBNAIL_FORMAT` is the one-format spelling from before `THUMBNAIL_FORMATS`; both
        // set is refused rather than one silently winning.
        let formats = match (
            config::optional(env, vars::THUMBNAIL_FORMATS),
            config::optional(env, vars::THUMBNAIL_FORMAT),
        ) {
            (Some(_), Some(_)) => {
                return Err(ConfigError(format!(
                    "{} and {} are both set; set only {0}",
                    vars::THUMBNAIL_FORMATS,
                    vars::THUMBNAIL_FORMAT
                )));
            }
            (Some(list), None) => parse_formats(vars::THUMBNAIL_FORMATS, &list)?,
            (None, Some(list)) => parse_formats(vars::THUMBNAIL_FORMAT, &list)?,
            (None, None) => defaults.formats,
        };
        let spec = ThumbnailSpec {
            sizes,
            formats,
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

fn parse_formats(name: &str, list: &str) -> Result<Vec<ThumbnailFormat>, ConfigError> {
    ThumbnailFormat::parse_list(list).map_err(|e| ConfigError(format!("{name}={list:?}: {e}")))
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
    use crate::thumbnail::Qualities;

    #[test]
    fn defaults_and_overrides() {
        let c = Config::from_env(&[("X", "")]).unwrap();
        assert_eq!(c, Config::default());
        assert_eq!(c.spec.sizes, [128, 256, 512]);
        assert_eq!(c.spec.formats, [ThumbnailFormat::Jpeg]);
        let c = Config::from_env(&[
            ("THUMBNAIL_SIZES", "64, 1024"),
            ("THUMBNAIL_FORMAT", "WebP"),
            ("THUMBNAIL_QUALITY", "90"),
        ])
        .unwrap();
        assert_eq!(c.spec.sizes, [64, 1024]);
        assert_eq!(c.spec.formats, [ThumbnailFormat::WebP]);
        assert_eq!(c.spec.quality.jpeg, 90);
    }

    #[test]
    fn several_formats_with_their_qualities() {
        let c = Config::from_env(&[
            ("THUMBNAIL_FORMATS", "avif,webp,jpeg"),
            ("THUMBNAIL_QUALITY", "webp:70,avif:50"),
        ])
        .unwrap();
        assert_eq!(
            c.spec.formats,
            [
                ThumbnailFormat::Avif,
                ThumbnailFormat::WebP,
                ThumbnailFormat::Jpeg
            ]
        );
        assert_eq!(
            c.spec.quality,
            Qualities {
                jpeg: 80,
                webp: 70,
                avif: 50
            }
        );
    }

    #[test]
    fn bad_settings_are_named() {
        let problem = |env: &[(&str, &str); 1]| Config::from_env(env).unwrap_err().0;
        assert!(problem(&[("THUMBNAIL_SIZES", "128,big")]).contains("\"big\""));
        assert!(Config::from_env(&[("THUMBNAIL_SIZES", "0")]).is_err());
        assert!(problem(&[("THUMBNAIL_FORMAT", "gif")]).contains("gif"));
        let message = problem(&[("THUMBNAIL_FORMATS", "avif,gif,avif")]);
        assert!(
            message.starts_with("THUMBNAIL_FORMATS=")
                && message.contains("\"gif\"")
                && message.contains("avif is listed twice"),
            "{message}"
        );
        assert!(problem(&[("THUMBNAIL_QUALITY", "300")]).contains("THUMBNAIL_QUALITY"));
        assert!(problem(&[("THUMBNAIL_QUALITY", "avif:0")]).contains("avif quality"));
        assert!(Config::from_env(&[("THUMBNAIL_QUALITY", "0")]).is_err());
    }

    #[test]
    fn both_format_variables_are_refused() {
        let error = Config::from_env(&[
            ("THUMBNAIL_FORMATS", "avif,jpeg"),
            ("THUMBNAIL_FORMAT", "jpeg"),
        ])
        .unwrap_err();
        assert!(error.0.contains("both set"), "{error}");
    }
}
