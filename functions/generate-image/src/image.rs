//! Checking that a model's image is in the format the request asked for, and reading its size.

use imagegen_core::types::OutputFormat;

use crate::jpeg::jpeg_info;
use crate::png::png_info;

/// What an image's header says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImageInfo {
    pub width: u32,
    pub height: u32,
}

/// The dimensions of an image in `format`, or why the bytes are not one (a sentence fragment:
/// "not a JPEG (starts with [89 50 4e 47 0d 0a 1a 0a], 24 bytes)").
pub fn image_info(format: OutputFormat, bytes: &[u8]) -> Result<ImageInfo, String> {
    match format {
        OutputFormat::Png => png_info(bytes),
        OutputFormat::Jpeg => jpeg_info(bytes),
    }
}

/// The first bytes in hex and the length, for saying what was received instead.
pub(crate) fn describe_start(bytes: &[u8]) -> String {
    let shown: Vec<String> = bytes.iter().take(8).map(|b| format!("{b:02x}")).collect();
    format!("starts with [{}], {} bytes", shown.join(" "), bytes.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_format_is_checked_as_itself() {
        let png = b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR\0\0\0\x02\0\0\0\x03\x08\x02\0\0\0";
        assert_eq!(
            image_info(OutputFormat::Png, png),
            Ok(ImageInfo {
                width: 2,
                height: 3
            })
        );
        let err = image_info(OutputFormat::Jpeg, png).unwrap_err();
        assert!(
            err.starts_with("not a JPEG (starts with [89 50 4e 47"),
            "{err}"
        );
    }
}
