//! Source decoding: recognise the format from magic bytes, check the pixel
//! count from the header, then decode to 8-bit [`Pixels`]. JPEG is decoded by
//! libjpeg-turbo (mozjpeg), scaled in the DCT domain when the thumbnails are
//! small enough (`jpeg_scale`).

use std::io::Cursor;

use image::codecs::jpeg::JpegDecoder;
use image::codecs::webp::WebPDecoder;
use image::metadata::Orientation;
use image::{DynamicImage, ImageBuffer, ImageDecoder};

use super::SourceInfo;
use super::ThumbnailError;
use super::error::libjpeg_message;
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
/// more than `max_pixels` pixels before decoding them. Returns the source's
/// dimensions (after EXIF orientation) and its pixels, which a JPEG may have at
/// a reduced size when no thumbnail is larger than `largest` px (see
/// [`jpeg_scale`]); the pixels always cover the whole source.
pub(crate) fn decode(
    bytes: &[u8],
    max_pixels: u64,
    largest: u32,
) -> Result<(SourceInfo, Pixels), ThumbnailError> {
    let pixels = match sniff(bytes) {
        Some(SourceFormat::Png) => match png_fast::decode(bytes, max_pixels) {
            Some(pixels) => pixels,
            None => decode_png(bytes, max_pixels)?,
        },
        Some(SourceFormat::Jpeg) => return decode_jpeg(bytes, max_pixels, largest),
        Some(SourceFormat::WebP) => {
            let decoder = WebPDecoder::new(Cursor::new(bytes)).map_err(image_error("WebP"))?;
            decode_with_image_crate(decoder, "WebP", max_pixels)?
        }
        None => return Err(ThumbnailError::Decode(describe_unsupported(bytes))),
    };
    let info = SourceInfo {
        width: pixels.width,
        height: pixels.height,
    };
    Ok((info, pixels))
}

/// A scaled JPEG decode keeps at least this many decoded pixels per thumbnail
/// pixel along the longest side, so Lanczos3 still has a full 2x reduction to
/// work with and the result matches a full-size decode (PSNR > 40 dB in the
/// tests). libjpeg's reduced IDCT is a good low-pass filter, but it alone (a
/// 1:1 margin) aliases fine detail visibly.
const SCALED_DECODE_MARGIN: u64 = 2;

/// The numerator `n` of libjpeg-turbo's `n/8` DCT-domain scaling for a source
/// whose longest side is `longest` and thumbnails of at most `largest` px: the
/// smallest that keeps [`SCALED_DECODE_MARGIN`] (8, a full-size decode, when
/// none does). libjpeg rounds a scaled side up: `ceil(side * n / 8)`.
pub(crate) fn jpeg_scale(longest: u32, largest: u32) -> u8 {
    (1..8u8)
        .find(|&n| {
            (u64::from(longest) * u64::from(n)).div_ceil(8)
                >= SCALED_DECODE_MARGIN * u64::from(largest)
        })
        .unwrap_or(8)
}

fn jpeg_error(message: &dyn std::fmt::Display) -> ThumbnailError {
    ThumbnailError::Decode(format!("invalid JPEG: {message}"))
}

/// JPEG through libjpeg-turbo (mozjpeg's copy, the one that also encodes):
/// grey and YCbCr/RGB files, scaled by [`jpeg_scale`]; CMYK and YCCK files,
/// which libjpeg cannot turn into RGB, through the `image` crate at full size.
/// EXIF orientation is applied either way.
fn decode_jpeg(
    bytes: &[u8],
    max_pixels: u64,
    largest: u32,
) -> Result<(SourceInfo, Pixels), ThumbnailError> {
    use mozjpeg::{ColorSpace, Decompress, Marker};

    check_jpeg_complete(bytes)?;

    // libjpeg reports errors by unwinding out of the C code (the wrapper's
    // documented way); the payload is libjpeg's message.
    let decoded = std::panic::catch_unwind(|| -> Result<Option<_>, ThumbnailError> {
        let mut decompress = Decompress::builder()
            .with_markers(&[Marker::APP(1)])
            .from_mem(bytes)
            .map_err(|e| jpeg_error(&e))?;
        let (width, height) = decompress.size();
        let (width, height) = (
            u32::try_from(width).unwrap_or(u32::MAX),
            u32::try_from(height).unwrap_or(u32::MAX),
        );
        check_pixel_limit(width, height, max_pixels)?;
        let orientation = decompress
            .markers()
            .find_map(|m| {
                m.data
                    .strip_prefix(b"Exif\0\0")
                    .and_then(Orientation::from_exif_chunk)
            })
            .unwrap_or(Orientation::NoTransforms);
        let (layout, started) = match decompress.color_space() {
            ColorSpace::JCS_GRAYSCALE => {
                decompress.scale(jpeg_scale(width.max(height), largest));
                (Layout::Gray, decompress.grayscale())
            }
            ColorSpace::JCS_YCbCr | ColorSpace::JCS_RGB => {
                decompress.scale(jpeg_scale(width.max(height), largest));
                (Layout::Rgb, decompress.rgb())
            }
            _ => return Ok(None),
        };
        let mut started = started.map_err(|e| jpeg_error(&e))?;
        let (out_width, out_height) = (started.width(), started.height());
        let data: Vec<u8> = started.read_scanlines().map_err(|e| jpeg_error(&e))?;
        started.finish().map_err(|e| jpeg_error(&e))?;
        let pixels = Pixels {
            width: u32::try_from(out_width).unwrap_or(u32::MAX),
            height: u32::try_from(out_height).unwrap_or(u32::MAX),
            layout,
            data,
        };
        if pixels.data.len() != out_width * out_height * layout.channels() {
            return Err(jpeg_error(&"libjpeg returned fewer rows than announced"));
        }
        Ok(Some((width, height, orientation, pixels)))
    });
    let decoded = match decoded {
        Ok(result) => result?,
        Err(payload) => return Err(jpeg_error(&libjpeg_message(payload.as_ref()))),
    };
    let Some((width, height, orientation, pixels)) = decoded else {
        let decoder = JpegDecoder::new(Cursor::new(bytes)).map_err(image_error("JPEG"))?;
        let pixels = decode_with_image_crate(decoder, "JPEG", max_pixels)?;
        let info = SourceInfo {
            width: pixels.width,
            height: pixels.height,
        };
        return Ok((info, pixels));
    };
    let turned = matches!(
        orientation,
        Orientation::Rotate90
            | Orientation::Rotate270
            | Orientation::Rotate90FlipH
            | Orientation::Rotate270FlipH
    );
    let (width, height) = if turned {
        (height, width)
    } else {
        (width, height)
    };
    let pixels = apply_orientation(pixels, orientation)?;
    Ok((SourceInfo { width, height }, pixels))
}

/// Refuses a JPEG cut short. libjpeg only warns about a file that ends early
/// and fills the missing rows with grey, so a truncated object would become
/// grey thumbnails. The end-of-image marker must follow the last start-of-scan
/// (entropy-coded data never holds `FF D9`, and an EXIF thumbnail's own markers
/// come before the image's scans); bytes after it are allowed.
fn check_jpeg_complete(bytes: &[u8]) -> Result<(), ThumbnailError> {
    let last_scan = bytes.windows(2).rposition(|w| w == [0xFF, 0xDA]);
    let complete = last_scan.is_some_and(|at| bytes[at..].windows(2).any(|w| w == [0xFF, 0xD9]));
    if complete {
        Ok(())
    } else {
        Err(jpeg_error(
            &"the file ends before its end-of-image marker (truncated)",
        ))
    }
}

/// `pixels` turned as EXIF `orientation` says (through the `image` crate, which
/// does the same for the sources it decodes).
fn apply_orientation(pixels: Pixels, orientation: Orientation) -> Result<Pixels, ThumbnailError> {
    if orientation == Orientation::NoTransforms {
        return Ok(pixels);
    }
    let Pixels {
        width,
        height,
        layout,
        data,
    } = pixels;
    let image = match layout {
        Layout::Gray => ImageBuffer::from_raw(width, height, data).map(DynamicImage::ImageLuma8),
        Layout::Rgb => ImageBuffer::from_raw(width, height, data).map(DynamicImage::ImageRgb8),
        Layout::GrayAlpha | Layout::Rgba => None,
    };
    let mut image = image.ok_or_else(|| {
        ThumbnailError::Decode("decoded JPEG pixels do not fill the image".into())
    })?;
    image.apply_orientation(orientation);
    let (width, height) = (image.width(), image.height());
    Ok(Pixels {
        width,
        height,
        layout,
        data: image.into_bytes(),
    })
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
