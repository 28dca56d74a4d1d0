//! The thumbnails' formats: their names (as `THUMBNAIL_FORMATS` and the manifest write them), file
//! extensions and MIME types, in one place for the function that encodes them
//! (generate-thumbnails) and the console that shows them in a `<picture>`.

use std::fmt;
use std::str::FromStr;

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
    /// AVIF (AV1 by rav1e); keeps alpha.
    Avif,
}

/// A format name or list that cannot be read; says what was wrong and what is accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct FormatError(String);

impl ThumbnailFormat {
    /// Every format.
    pub const ALL: [Self; 4] = [Self::Jpeg, Self::Png, Self::WebP, Self::Avif];

    /// The name `THUMBNAIL_FORMATS` and the manifest use (`jpeg`, `png`, `webp`, `avif`).
    pub fn name(self) -> &'static str {
        match self {
            Self::Jpeg => "jpeg",
            Self::Png => "png",
            Self::WebP => "webp",
            Self::Avif => "avif",
        }
    }

    /// File extension without the dot.
    pub fn extension(self) -> &'static str {
        match self {
            Self::Jpeg => "jpg",
            Self::Png => "png",
            Self::WebP => "webp",
            Self::Avif => "avif",
        }
    }

    /// MIME type, for the stored object's `Content-Type` and a `<source type>`.
    pub fn content_type(self) -> &'static str {
        match self {
            Self::Jpeg => "image/jpeg",
            Self::Png => "image/png",
            Self::WebP => "image/webp",
            Self::Avif => "image/avif",
        }
    }

    /// Whether every browser shows it: the `<img>` under a `<picture>`'s newer sources.
    pub fn every_browser_shows(self) -> bool {
        matches!(self, Self::Jpeg | Self::Png)
    }

    /// The formats of a comma-separated list such as `avif,webp,jpeg`, in its order: the value of
    /// `THUMBNAIL_FORMATS`, and of `THUMBNAIL_FORMAT`, which is a list of one. Every unknown name
    /// and every repeated format is reported at once; an empty list is refused.
    pub fn parse_list(list: &str) -> Result<Vec<Self>, FormatError> {
        let mut formats = Vec::new();
        let mut problems = Vec::new();
        for name in list.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            match name.parse::<Self>() {
                Ok(format) if formats.contains(&format) => {
                    problems.push(format!("{format} is listed twice"));
                }
                Ok(format) => formats.push(format),
                Err(FormatError(problem)) => problems.push(problem),
            }
        }
        if formats.is_empty() && problems.is_empty() {
            problems.push("no thumbnail format is listed".into());
        }
        if problems.is_empty() {
            Ok(formats)
        } else {
            Err(FormatError(problems.join("; ")))
        }
    }
}

impl fmt::Display for ThumbnailFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for ThumbnailFormat {
    type Err = FormatError;

    /// Accepts `jpeg`, `jpg`, `png`, `webp` and `avif`, in any case.
    fn from_str(name: &str) -> Result<Self, Self::Err> {
        match name.trim().to_ascii_lowercase().as_str() {
            "jpeg" | "jpg" => Ok(Self::Jpeg),
            "png" => Ok(Self::Png),
            "webp" => Ok(Self::WebP),
            "avif" => Ok(Self::Avif),
            _ => Err(FormatError(format!(
                "unknown thumbnail format {name:?}: expected one of jpeg, jpg, png, webp, avif"
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::ThumbnailFormat::{self, Avif, Jpeg, Png, WebP};

    fn problem<T: std::fmt::Debug>(result: Result<T, super::FormatError>) -> String {
        result.unwrap_err().to_string()
    }

    #[test]
    fn parses_format_names_case_insensitively_and_names_round_trip() {
        for (name, format) in [
            ("jpeg", Jpeg),
            ("JPG", Jpeg),
            ("Png", Png),
            ("WEBP", WebP),
            ("avif", Avif),
        ] {
            assert_eq!(name.parse::<ThumbnailFormat>(), Ok(format));
        }
        for format in ThumbnailFormat::ALL {
            assert_eq!(format.to_string().parse::<ThumbnailFormat>(), Ok(format));
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
    fn extensions_content_types_and_what_every_browser_shows() {
        assert_eq!(Jpeg.extension(), "jpg");
        assert_eq!(Png.content_type(), "image/png");
        assert_eq!(WebP.extension(), "webp");
        assert_eq!(WebP.content_type(), "image/webp");
        assert_eq!(Jpeg.content_type(), "image/jpeg");
        assert_eq!(Avif.extension(), "avif");
        assert_eq!(Avif.content_type(), "image/avif");
        let shown: Vec<_> = ThumbnailFormat::ALL
            .into_iter()
            .filter(|f| f.every_browser_shows())
            .collect();
        assert_eq!(shown, [Jpeg, Png]);
    }
}
