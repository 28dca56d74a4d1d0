//! What to produce: sizes, output formats and each format's quality. The names and lists of
//! `THUMBNAIL_FORMATS`/`THUMBNAIL_FORMAT` and `THUMBNAIL_QUALITY` are parsed here and nowhere else.

use std::fmt;
use std::str::FromStr;

use super::ThumbnailError;

/// Largest thumbnail side accepted in a spec.
pub const MAX_THUMBNAIL_SIZE: u32 = 4096;
/// Accepted qualities, for every lossy format.
pub const QUALITY_RANGE: std::ops::RangeInclusive<u8> = 1..=100;

/// Output format of the thumbnails.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum ThumbnailFormat {
    /// Baseline JPEG (libjpeg-turbo through mozjpeg); alpha is composited over white.
    #[default]
    Jpeg,
    /// PNG, fast deflate with adaptive filtering; lossless, keeps alpha.
    Png,
    /// Lossy WebP (libwebp); keeps alpha.
    WebP,
    /// AVIF (AV1 by rav1e, see `avif.rs`); keeps alpha.
    Avif,
}

impl ThumbnailFormat {
    /// Every format.
    pub const ALL: [Self; 4] = [Self::Jpeg, Self::Png, Self::WebP, Self::Avif];

    /// File extension without the dot.
    pub fn extension(self) -> &'static str {
        match self {
            Self::Jpeg => "jpg",
            Self::Png => "png",
            Self::WebP => "webp",
            Self::Avif => "avif",
        }
    }

    /// MIME type for the `Content-Type` of the stored object.
    pub fn content_type(self) -> &'static str {
        match self {
            Self::Jpeg => "image/jpeg",
            Self::Png => "image/png",
            Self::WebP => "image/webp",
            Self::Avif => "image/avif",
        }
    }

    /// The formats of a comma-separated list such as `avif,webp,jpeg`, in its order: the value of
    /// `THUMBNAIL_FORMATS`, and of `THUMBNAIL_FORMAT`, which is a list of one. Every unknown name
    /// and every repeated format is reported at once; an empty list is refused.
    pub fn parse_list(list: &str) -> Result<Vec<Self>, ThumbnailError> {
        let mut formats = Vec::new();
        let mut problems = Vec::new();
        for name in list.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            match name.parse::<Self>() {
                Ok(format) if formats.contains(&format) => {
                    problems.push(format!("{format} is listed twice"));
                }
                Ok(format) => formats.push(format),
                Err(ThumbnailError::InvalidSpec(problem)) => problems.push(problem),
                Err(other) => problems.push(other.to_string()),
            }
        }
        if formats.is_empty() && problems.is_empty() {
            problems.push("no thumbnail format is listed".into());
        }
        if problems.is_empty() {
            Ok(formats)
        } else {
            Err(ThumbnailError::InvalidSpec(problems.join("; ")))
        }
    }
}

impl fmt::Display for ThumbnailFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Jpeg => "jpeg",
            Self::Png => "png",
            Self::WebP => "webp",
            Self::Avif => "avif",
        })
    }
}

impl FromStr for ThumbnailFormat {
    type Err = ThumbnailError;

    /// Accepts `jpeg`, `jpg`, `png`, `webp` and `avif`, in any case.
    fn from_str(name: &str) -> Result<Self, Self::Err> {
        match name.trim().to_ascii_lowercase().as_str() {
            "jpeg" | "jpg" => Ok(Self::Jpeg),
            "png" => Ok(Self::Png),
            "webp" => Ok(Self::WebP),
            "avif" => Ok(Self::Avif),
            _ => Err(ThumbnailError::InvalidSpec(format!(
                "unknown thumbnail format {name:?}: expected one of jpeg, jpg, png, webp, avif"
            ))),
        }
    }
}

/// The quality of each lossy format, each in `1..=100` (PNG is lossless and has none).
///
/// The scales are the encoders' own and do not match, so each format has its own default. On the
/// bench picture (`bench/extra/formats.md`, SSIMULACRA2 against a Lanczos3 reference) JPEG at 80
/// scores 87 in 55 KB and lossy WebP at 80 scores 79 in 33 KB (both libjpeg's and libwebp's
/// scales, as in Pillow). AVIF takes libavif's scale (see `avif.rs`), whose default of 75 is
/// Pillow's too: 89 in 18 KB.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Qualities {
    pub jpeg: u8,
    pub webp: u8,
    pub avif: u8,
}

impl Default for Qualities {
    fn default() -> Self {
        Self {
            jpeg: 80,
            webp: 80,
            avif: 75,
        }
    }
}

impl Qualities {
    /// The quality `format` is encoded at; `None` for PNG.
    pub fn of(&self, format: ThumbnailFormat) -> Option<u8> {
        match format {
            ThumbnailFormat::Jpeg => Some(self.jpeg),
            ThumbnailFormat::Png => None,
            ThumbnailFormat::WebP => Some(self.webp),
            ThumbnailFormat::Avif => Some(self.avif),
        }
    }

    fn slot(&mut self, format: ThumbnailFormat) -> Option<&mut u8> {
        match format {
            ThumbnailFormat::Jpeg => Some(&mut self.jpeg),
            ThumbnailFormat::Png => None,
            ThumbnailFormat::WebP => Some(&mut self.webp),
            ThumbnailFormat::Avif => Some(&mut self.avif),
        }
    }
}

impl fmt::Display for Qualities {
    /// The form [`FromStr`] reads: `jpeg:80,webp:80,avif:75`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "jpeg:{},webp:{},avif:{}",
            self.jpeg, self.webp, self.avif
        )
    }
}

impl FromStr for Qualities {
    type Err = ThumbnailError;

    /// `THUMBNAIL_QUALITY`: a bare number is JPEG's quality (what the variable has always meant, so
    /// a deployment that sets `80` keeps the other formats at their defaults); `FORMAT:QUALITY`
    /// pairs (`webp:75,avif:55`, a bare number among them allowed for JPEG) set each format, and
    /// formats left out keep their defaults. Every problem is reported at once.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let mut qualities = Self::default();
        let mut problems = Vec::new();
        for item in text.split(',').map(str::trim).filter(|i| !i.is_empty()) {
            let (format, number) = match item.split_once(':') {
                None => (Ok(ThumbnailFormat::Jpeg), item),
                Some((name, number)) => (name.parse::<ThumbnailFormat>(), number.trim()),
            };
            let format = match format {
                Ok(format) => format,
                Err(e) => {
                    problems.push(e.to_string());
                    continue;
                }
            };
            let Some(slot) = qualities.slot(format) else {
                problems.push(format!("{format} is lossless and takes no quality"));
                continue;
            };
            match number.parse::<u8>() {
                Ok(q) if QUALITY_RANGE.contains(&q) => *slot = q,
                _ => problems.push(format!(
                    "{format} quality {number:?} is not a whole number in {}..={}",
                    QUALITY_RANGE.start(),
                    QUALITY_RANGE.end()
                )),
            }
        }
        if problems.is_empty() {
            Ok(qualities)
        } else {
            Err(ThumbnailError::InvalidSpec(problems.join("; ")))
        }
    }
}

/// Which thumbnails to make: every size in every format.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThumbnailSpec {
    /// Longest side of each thumbnail, in pixels, each in `1..=4096`.
    pub sizes: Vec<u32>,
    /// Output formats, at least one, none twice.
    pub formats: Vec<ThumbnailFormat>,
    /// Each lossy format's quality.
    pub quality: Qualities,
}

impl Default for ThumbnailSpec {
    /// 128, 256 and 512 px JPEGs at quality 80.
    fn default() -> Self {
        Self {
            sizes: vec![128, 256, 512],
            formats: vec![ThumbnailFormat::Jpeg],
            quality: Qualities::default(),
        }
    }
}

impl ThumbnailSpec {
    /// Checks that there is at least one size, that each is in `1..=4096`, that there is at
    /// least one format and none twice, and that each quality is in `1..=100`.
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
        if self.formats.is_empty() {
            return Err(ThumbnailError::InvalidSpec(
                "at least one thumbnail format is required".into(),
            ));
        }
        for (i, format) in self.formats.iter().enumerate() {
            if self.formats[..i].contains(format) {
                return Err(ThumbnailError::InvalidSpec(format!(
                    "{format} is listed twice"
                )));
            }
        }
        for format in ThumbnailFormat::ALL {
            if let Some(quality) = self.quality.of(format)
                && !QUALITY_RANGE.contains(&quality)
            {
                return Err(ThumbnailError::InvalidSpec(format!(
                    "{format} quality {quality} is outside {}..={}",
                    QUALITY_RANGE.start(),
                    QUALITY_RANGE.end()
                )));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ThumbnailFormat::{Avif, Jpeg, Png, WebP};

    fn problem(result: Result<impl fmt::Debug, ThumbnailError>) -> String {
        match result {
            Err(ThumbnailError::InvalidSpec(message)) => message,
            other => panic!("expected InvalidSpec, got {other:?}"),
        }
    }

    #[test]
    fn parses_format_names_case_insensitively() {
        for (name, format) in [
            ("jpeg", Jpeg),
            ("JPG", Jpeg),
            ("Png", Png),
            ("WEBP", WebP),
            ("avif", Avif),
        ] {
            assert_eq!(name.parse::<ThumbnailFormat>(), Ok(format));
        }
    }

    #[test]
    fn unknown_format_names_the_input_and_the_choices() {
        let message = problem("gif".parse::<ThumbnailFormat>());
        assert!(message.contains("\"gif\""), "{message}");
        assert!(message.contains("jpeg, jpg, png, webp, avif"), "{message}");
    }

    #[test]
    fn format_lists_keep_their_order() {
        assert_eq!(
            ThumbnailFormat::parse_list("avif, webp,JPEG"),
            Ok(vec![Avif, WebP, Jpeg])
        );
        // `THUMBNAIL_FORMAT`'s single name is a list of one.
        assert_eq!(ThumbnailFormat::parse_list("png"), Ok(vec![Png]));
    }

    #[test]
    fn format_lists_report_every_problem() {
        let message = problem(ThumbnailFormat::parse_list("avif,gif,jpg,jpeg,heic"));
        assert!(message.contains("\"gif\""), "{message}");
        assert!(message.contains("\"heic\""), "{message}");
        assert!(message.contains("jpeg is listed twice"), "{message}");
        assert!(problem(ThumbnailFormat::parse_list(" , ")).contains("no thumbnail format"));
    }

    #[test]
    fn extensions_and_content_types() {
        assert_eq!(Jpeg.extension(), "jpg");
        assert_eq!(Png.content_type(), "image/png");
        assert_eq!(WebP.extension(), "webp");
        assert_eq!(WebP.content_type(), "image/webp");
        assert_eq!(Jpeg.content_type(), "image/jpeg");
        assert_eq!(Avif.extension(), "avif");
        assert_eq!(Avif.content_type(), "image/avif");
    }

    #[test]
    fn a_bare_quality_is_jpeg_and_pairs_set_each_format() {
        let defaults = Qualities::default();
        assert_eq!(
            "90".parse::<Qualities>(),
            Ok(Qualities {
                jpeg: 90,
                ..defaults
            })
        );
        assert_eq!(
            "webp:70, AVIF:50".parse::<Qualities>(),
            Ok(Qualities {
                webp: 70,
                avif: 50,
                ..defaults
            })
        );
        assert_eq!(
            "85,avif:45".parse::<Qualities>(),
            Ok(Qualities {
                jpeg: 85,
                webp: 80,
                avif: 45
            })
        );
        // What Display writes reads back.
        assert_eq!(defaults.to_string().parse::<Qualities>(), Ok(defaults));
    }

    #[test]
    fn bad_qualities_report_every_problem() {
        let message = problem("0,png:50,webp:high,gif:3,avif:101".parse::<Qualities>());
        for part in [
            "jpeg quality \"0\"",
            "png is lossless",
            "webp quality \"high\"",
            "\"gif\"",
            "avif quality \"101\"",
        ] {
            assert!(message.contains(part), "{part}: {message}");
        }
    }

    #[test]
    fn default_spec_is_valid() {
        let spec = ThumbnailSpec::default();
        assert_eq!(spec.sizes, [128, 256, 512]);
        assert_eq!(spec.formats, [Jpeg]);
        assert_eq!(spec.quality.of(Jpeg), Some(80));
        assert_eq!(spec.quality.of(Png), None);
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
                formats: vec![],
                ..Default::default()
            },
            ThumbnailSpec {
                formats: vec![WebP, Jpeg, WebP],
                ..Default::default()
            },
            ThumbnailSpec {
                quality: Qualities {
                    jpeg: 0,
                    ..Default::default()
                },
                ..Default::default()
            },
            ThumbnailSpec {
                quality: Qualities {
                    avif: 101,
                    ..Default::default()
                },
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
            formats: ThumbnailFormat::ALL.to_vec(),
            quality: Qualities {
                jpeg: 100,
                webp: 1,
                avif: 100,
            },
        };
        assert_eq!(spec.validate(), Ok(()));
    }
}
