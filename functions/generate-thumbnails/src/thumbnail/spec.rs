//! What to produce: sizes, output formats and each format's quality. `THUMBNAIL_QUALITY` is parsed
//! here and nowhere else; the format names and lists of `THUMBNAIL_FORMATS`/`THUMBNAIL_FORMAT`, by
//! [`ThumbnailFormat`] in the domain crate.

use std::fmt;
use std::str::FromStr;

use super::ThumbnailError;

/// Largest thumbnail side accepted in a spec.
pub const MAX_THUMBNAIL_SIZE: u32 = 4096;
/// Accepted qualities, for every lossy format.
pub const QUALITY_RANGE: std::ops::RangeInclusive<u8> = 1..=100;

/// The formats' names, extensions and MIME types live in the domain crate, which the console
/// shares.
pub use imagegen_core::thumbnail_format::ThumbnailFormat;

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
    use ThumbnailFormat::{Jpeg, Png, WebP};

    fn problem(result: Result<impl fmt::Debug, ThumbnailError>) -> String {
        match result {
            Err(ThumbnailError::InvalidSpec(message)) => message,
            other => panic!("expected InvalidSpec, got {other:?}"),
        }
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
