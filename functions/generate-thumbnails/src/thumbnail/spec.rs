//! What to produce: sizes, output format and quality.

use std::fmt;
use std::str::FromStr;

use super::ThumbnailError;

/// Largest thumbnail side accepted in a spec.
pub const MAX_THUMBNAIL_SIZE: u32 = 4096;
/// Accepted JPEG qualities.
pub const QUALITY_RANGE: std::ops::RangeInclusive<u8> = 1..=100;

/// Output format of the thumbnails.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum ThumbnailFormat {
    /// Baseline JPEG at [`ThumbnailSpec::quality`]; alpha is composited over white.
    #[default]
    Jpeg,
    /// PNG, fast deflate with adaptive filtering; keeps alpha.
    Png,
    /// Lossless WebP; keeps alpha, ignores `quality`.
    WebP,
}

impl ThumbnailFormat {
    /// Every format.
    pub const ALL: [Self; 3] = [Self::Jpeg, Self::Png, Self::WebP];

    /// File extension without the dot.
    pub fn extension(self) -> &'static str {
        match self {
            Self::Jpeg => "jpg",
            Self::Png => "png",
            Self::WebP => "webp",
        }
    }

    /// MIME type for the `Content-Type` of the stored object.
    pub fn content_type(self) -> &'static str {
        match self {
            Self::Jpeg => "image/jpeg",
            Self::Png => "image/png",
            Self::WebP => "image/webp",
        }
    }
}

impl fmt::Display for ThumbnailFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Jpeg => "jpeg",
            Self::Png => "png",
            Self::WebP => "webp",
        })
    }
}

impl FromStr for ThumbnailFormat {
    type Err = ThumbnailError;

    /// Accepts `jpeg`, `jpg`, `png` and `webp`, in any case.
    fn from_str(name: &str) -> Result<Self, Self::Err> {
        match name.trim().to_ascii_lowercase().as_str() {
            "jpeg" | "jpg" => Ok(Self::Jpeg),
            "png" => Ok(Self::Png),
            "webp" => Ok(Self::WebP),
            _ => Err(ThumbnailError::InvalidSpec(format!(
                "unknown thumbnail format {name:?}: expected one of jpeg, jpg, png, webp"
            ))),
        }
    }
}

/// Which thumbnails to make.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThumbnailSpec {
    /// Longest side of each thumbnail, in pixels, each in `1..=4096`.
    pub sizes: Vec<u32>,
    /// Output format.
    pub format: ThumbnailFormat,
    /// JPEG quality, `1..=100`; validated for every format but only used by JPEG.
    pub quality: u8,
}

impl Default for ThumbnailSpec {
    /// 128, 256 and 512 px JPEGs at quality 80.
    fn default() -> Self {
        Self {
            sizes: vec![128, 256, 512],
            format: ThumbnailFormat::Jpeg,
            quality: 80,
        }
    }
}

impl ThumbnailSpec {
    /// Checks that there is at least one size, that each is in `1..=4096`
    /// and that `quality` is in `1..=100`.
    pub fn validate(&self) -> Result<(), ThumbnailError> {
        if self.sizes.is_empty() {
            return Err(ThumbnailError::InvalidSpec(
                "at least one thumbnail size is required".into(),
            ));
        }
        if let Some(bad) = self
            .sizes
            .iter()
            .find(|&&size| size == 0 || size > MAX_THUMBNAIL_SIZE)
        {
            return Err(ThumbnailError::InvalidSpec(format!(
                "thumbnail size {bad} is outside 1..={MAX_THUMBNAIL_SIZE}"
            )));
        }
        if !QUALITY_RANGE.contains(&self.quality) {
            return Err(ThumbnailError::InvalidSpec(format!(
                "quality {} is outside {}..={}",
                self.quality,
                QUALITY_RANGE.start(),
                QUALITY_RANGE.end()
            )));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_format_names_case_insensitively() {
        for (name, format) in [
            ("jpeg", ThumbnailFormat::Jpeg),
            ("JPG", ThumbnailFormat::Jpeg),
            ("Png", ThumbnailFormat::Png),
            ("WEBP", ThumbnailFormat::WebP),
        ] {
            assert_eq!(name.parse::<ThumbnailFormat>(), Ok(format));
        }
    }

    #[test]
    fn unknown_format_names_the_input_and_the_choices() {
        let Err(ThumbnailError::InvalidSpec(message)) = "gif".parse::<ThumbnailFormat>() else {
            panic!("gif must be rejected");
        };
        assert!(message.contains("\"gif\""), "{message}");
        assert!(message.contains("jpeg, jpg, png, webp"), "{message}");
    }

    #[test]
    fn extensions_and_content_types() {
        assert_eq!(ThumbnailFormat::Jpeg.extension(), "jpg");
        assert_eq!(ThumbnailFormat::Png.content_type(), "image/png");
        assert_eq!(ThumbnailFormat::WebP.extension(), "webp");
        assert_eq!(ThumbnailFormat::WebP.content_type(), "image/webp");
        assert_eq!(ThumbnailFormat::Jpeg.content_type(), "image/jpeg");
    }

    #[test]
    fn default_spec_is_valid() {
        let spec = ThumbnailSpec::default();
        assert_eq!(spec.sizes, [128, 256, 512]);
        assert_eq!(spec.format, ThumbnailFormat::Jpeg);
        assert_eq!(spec.quality, 80);
        assert_eq!(spec.validate(), Ok(()));
    }

    #[test]
    fn rejects_invalid_specs() {
        let invalid = [
            ThumbnailSpec {
                sizes: vec![],
                ..Default::default()
            },
            ThumbnailSpec {
                sizes: vec![128, 0],
                ..Default::default()
            },
            ThumbnailSpec {
                sizes: vec![4097],
                ..Default::default()
            },
            ThumbnailSpec {
                quality: 0,
                ..Default::default()
            },
            ThumbnailSpec {
                quality: 101,
                ..Default::default()
            },
        ];
        for spec in invalid {
            assert!(
                matches!(spec.validate(), Err(ThumbnailError::InvalidSpec(_))),
                "{spec:?} must be rejected"
            );
        }
    }

    #[test]
    fn accepts_boundary_values() {
        let spec = ThumbnailSpec {
            sizes: vec![1, 4096],
            format: ThumbnailFormat::Png,
            quality: 100,
        };
        assert_eq!(spec.validate(), Ok(()));
        let spec = ThumbnailSpec {
            quality: 1,
            ..Default::default()
        };
        assert_eq!(spec.validate(), Ok(()));
    }
}
