//! Source decoding: recognise the format from magic bytes, check the pixel
//! count from the header, then decode to 8-bit [`Pixels`].

use std::io::Cursor;

use image::codecs::jpeg::JpegDecoder;
use image::codecs::webp::WebPDecoder;
use image::{DynamicImage, ImageDecoder};

use super::ThumbnailError;
use super::pixels::{Layout, Pixels};
use super::png_fast;

const PNG_SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";
const JPEG_SIGNATURE: &[u8] = &[0xFF, 0xD8, 0xFF];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SourceFormat {
    Png,
    Jpeg,
    WebP,
}

fn sniff(bytes: &[u8]) -> Option<SourceFormat> {
    if bytes.starts_with(PNG_SIGNATURE) {
        Some(SourceFormat::Png)
    } else if bytes.starts_with(JPEG_SIGNATURE) {
        Some(SourceFormat::Jpeg)
    } else if bytes.len() >= 12 && bytes.starts_with(b"RIFF") && &bytes[8..12] == b"WEBP" {
        Some(SourceFormat::WebP)
    } else {
        None
    }
}

/// Describes data that is not a supported image, for the error message.
fn describe_unsupported(bytes: &[u8]) -> String {
    const KNOWN: &[(&[u8], &str)] = &[
        (b"GIF87a", "a GIF image"),
        (b"GIF89a", "a GIF image"),
        (b"BM", "a BMP image"),
        (b"II*\0", "a TIFF image"),
        (b"MM\0*", "a TIFF image"),
        (b"\0\0\0\x0cjP  ", "a JPEG 2000 image"),
        (b"%PDF", "a PDF document"),
        (b"\x1f\x8b", "gzip data"),
        (b"PK\x03\x04", "a ZIP archive"),
    ];
    if bytes.is_empty() {
        return "the source is empty (0 bytes)".into();
    }
    if let Some((_, name)) = KNOWN.iter().find(|(magic, _)| bytes.starts_with(magic)) {
        return format!("unsupported format: the source is {name}; expected PNG, JPEG or WebP");
    }
    if bytes.len() >= 12 && &bytes[4..8] == b"ftyp" {
        return "unsupported format: the source is an ISO-BMFF file (AVIF/HEIC/MP4); expected PNG, JPEG or WebP".into();
    }
    let head = &bytes[..bytes.len().min(16)];
    let hex: Vec<String> = head.iter().map(|byte| format!("{byte:02x}")).collect();
    let kind = match std::str::from_utf8(&bytes[..bytes.len().min(512)]) {
        Ok(text) if text.chars().all(|c| !c.is_control() || c.is_whitespace()) => "text",
        _ => "unrecognised binary data",
    };
    format!(
        "not a PNG, JPEG or WebP image: the source ({} bytes) looks like {kind} starting with {} ({:?})",
        bytes.len(),
        hex.join(" "),
        String::from_utf8_lossy(head)
    )
}

fn check_pixel_limit(width: u32, height: u32, limit: u64) -> Result<(), ThumbnailError> {
    let pixels = u64::from(width) * u64::from(height);
    if pixels > limit {
        return Err(ThumbnailError::TooLarge {
            width,
            height,
            pixels,
            limit,
        });
    }
    if pixels == 0 {
        return Err(ThumbnailError::Decode(format!(
            "the image header announces an empty {width}x{height} image"
        )));
    }
    Ok(())
}

/// Decodes `bytes` (PNG, JPEG or WebP) to 8-bit pixels, rejecting images of
/// more than `max_pixels` pixels before decoding them.
pub(crate) fn decode(bytes: &[u8], max_pixels: u64) -> Result<Pixels, ThumbnailError> {
    match sniff(bytes) {
        Some(SourceFormat::Png) => match png_fast::decode(bytes, max_pixels) {
            Some(pixels) => Ok(pixels),
            None => decode_png(bytes, max_pixels),
        },
        Some(SourceFormat::Jpeg) => {
            let decoder = JpegDecoder::new(Cursor::new(bytes)).map_err(image_error("JPEG"))?;
            decode_with_image_crate(decoder, "JPEG", max_pixels)
        }
        Some(SourceFormat::WebP) => {
            let decoder = WebPDecoder::new(Cursor::new(bytes)).map_err(image_error("WebP"))?;
            decode_with_image_crate(decoder, "WebP", max_pixels)
        }
        None => Err(ThumbnailError::Decode(describe_unsupported(bytes))),
    }
}

fn png_error(error: png::DecodingError) -> ThumbnailError {
    ThumbnailError::Decode(format!("invalid PNG: {error}"))
}

/// PNG through the `png` crate, for every PNG the fast path declines
/// (`png_fast`: palette, 16-bit, interlaced, keyed or broken files): palette, low bit depths and 16-bit
/// samples are normalised to 8 bits per channel while decoding, so the output
/// buffer is the only full-size allocation.
fn decode_png(bytes: &[u8], max_pixels: u64) -> Result<Pixels, ThumbnailError> {
    let mut decoder = png::Decoder::new(Cursor::new(bytes));
    decoder.set_transformations(png::Transformations::normalize_to_color8());
    decoder.set_ignore_text_chunk(true);
    let header = decoder.read_header_info().map_err(png_error)?;
    check_pixel_limit(header.width, header.height, max_pixels)?;

    let mut reader = decoder.read_info().map_err(png_error)?;
    let size = reader
        .output_buffer_size()
        .ok_or_else(|| ThumbnailError::Decode("PNG frame size overflows memory".into()))?;
    let mut data = vec![0; size];
    let frame = reader.next_frame(&mut data).map_err(png_error)?;
    let layout = match (frame.color_type, frame.bit_depth) {
        (png::ColorType::Grayscale, png::BitDepth::Eight) => Layout::Gray,
        (png::ColorType::GrayscaleAlpha, png::BitDepth::Eight) => Layout::GrayAlpha,
        (png::ColorType::Rgb, png::BitDepth::Eight) => Layout::Rgb,
        (png::ColorType::Rgba, png::BitDepth::Eight) => Layout::Rgba,
        (color, depth) => {
            return Err(ThumbnailError::Decode(format!(
                "PNG decoded to unexpected {color:?} at {depth:?}"
            )));
        }
    };
    let packed_line = frame.width as usize * layout.channels();
    if frame.line_size != packed_line {
        return Err(ThumbnailError::Decode(format!(
            "PNG rows are {} bytes, expected {packed_line}",
            frame.line_size
        )));
    }
    data.truncate(packed_line * frame.height as usize);
    Ok(Pixels {
        width: frame.width,
        height: frame.height,
        layout,
        data,
    })
}

fn image_error(format: &'static str) -> impl Fn(image::ImageError) -> ThumbnailError {
    move |error| ThumbnailError::Decode(format!("invalid {format}: {error}"))
}

/// JPEG and WebP through the `image` crate; EXIF orientation is applied.
fn decode_with_image_crate(
    mut decoder: impl ImageDecoder,
    format: &'static str,
    max_pixels: u64,
) -> Result<Pixels, ThumbnailError> {
    let (width, height) = decoder.dimensions();
    check_pixel_limit(width, height, max_pixels)?;
    let orientation = decoder.orientation().map_err(image_error(format))?;
    let mut image = DynamicImage::from_decoder(decoder).map_err(image_error(format))?;
    image.apply_orientation(orientation);

    let (width, height) = (image.width(), image.height());
    let (layout, data) = match image {
        DynamicImage::ImageLuma8(buffer) => (Layout::Gray, buffer.into_raw()),
        DynamicImage::ImageLumaA8(buffer) => (Layout::GrayAlpha, buffer.into_raw()),
        DynamicImage::ImageRgb8(buffer) => (Layout::Rgb, buffer.into_raw()),
        DynamicImage::ImageRgba8(buffer) => (Layout::Rgba, buffer.into_raw()),
        other if other.color().has_alpha() => (Layout::Rgba, other.into_rgba8().into_raw()),
        other => (Layout::Rgb, other.into_rgb8().into_raw()),
    };
    Ok(Pixels {
        width,
        height,
        layout,
        data,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffs_magic_bytes() {
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\nrest"), Some(SourceFormat::Png));
        assert_eq!(sniff(&[0xFF, 0xD8, 0xFF, 0xE0]), Some(SourceFormat::Jpeg));
        assert_eq!(sniff(b"RIFF\0\0\0\0WEBPVP8 "), Some(SourceFormat::WebP));
        assert_eq!(sniff(b"RIFF\0\0\0\0WAVE"), None);
        assert_eq!(sniff(b""), None);
    }

    #[test]
    fn describes_what_it_saw() {
        assert!(describe_unsupported(b"").contains("empty"));
        assert!(describe_unsupported(b"GIF89a....").contains("GIF"));
        let text = describe_unsupported(b"<html>not found</html>");
        assert!(text.contains("text") && text.contains("<html>"), "{text}");
        let binary = describe_unsupported(&[0, 1, 2, 3, 250]);
        assert!(
            binary.contains("binary") && binary.contains("00 01 02 03 fa"),
            "{binary}"
        );
    }
}
