//! Thumbnail encoding: JPEG with `jpeg-encoder` (SIMD), PNG with the `png`
//! crate's fast deflate and adaptive filtering, lossless WebP with `image`.

use image::codecs::webp::WebPEncoder;
use image::{ExtendedColorType, ImageEncoder};

use super::pixels::{Layout, PixelsRef};
use super::{ThumbnailError, ThumbnailFormat};

fn encode_error(format: ThumbnailFormat) -> impl Fn(&dyn std::fmt::Display) -> ThumbnailError {
    move |error| ThumbnailError::Encode(format!("{format}: {error}"))
}

/// Encodes thumbnails of one format, reusing a scratch buffer for the
/// alpha-flattening JPEG needs.
#[derive(Debug)]
pub(crate) struct ThumbnailEncoder {
    format: ThumbnailFormat,
    quality: u8,
    flattened: Vec<u8>,
}

impl ThumbnailEncoder {
    pub(crate) fn new(format: ThumbnailFormat, quality: u8) -> Self {
        Self {
            format,
            quality,
            flattened: Vec::new(),
        }
    }

    pub(crate) fn encode(&mut self, pixels: PixelsRef<'_>) -> Result<Vec<u8>, ThumbnailError> {
        let mut out = Vec::with_capacity(pixels.data.len() / 4 + 1024);
        match self.format {
            ThumbnailFormat::Jpeg => {
                let opaque = if pixels.layout.has_alpha() {
                    flatten_over_white(pixels, &mut self.flattened)
                } else {
                    pixels
                };
                encode_jpeg(opaque, self.quality, &mut out)?;
            }
            ThumbnailFormat::Png => encode_png(pixels, &mut out)?,
            ThumbnailFormat::WebP => encode_webp(pixels, &mut out)?,
        }
        Ok(out)
    }
}

/// Composites straight-alpha pixels over an opaque white background.
fn flatten_over_white<'a>(pixels: PixelsRef<'_>, scratch: &'a mut Vec<u8>) -> PixelsRef<'a> {
    let channels = pixels.layout.channels();
    let colour = channels - 1;
    scratch.clear();
    scratch.reserve(pixels.data.len() / channels * colour);
    for pixel in pixels.data.chunks_exact(channels) {
        let alpha = u32::from(pixel[colour]);
        for &value in &pixel[..colour] {
            let blended = (u32::from(value) * alpha + 255 * (255 - alpha) + 127) / 255;
            // `blended <= 255` because it is a convex combination of two bytes.
            scratch.push(u8::try_from(blended).unwrap_or(u8::MAX));
        }
    }
    PixelsRef {
        width: pixels.width,
        height: pixels.height,
        layout: pixels.layout.without_alpha(),
        data: scratch,
    }
}

fn encode_jpeg(
    pixels: PixelsRef<'_>,
    quality: u8,
    out: &mut Vec<u8>,
) -> Result<(), ThumbnailError> {
    let error = encode_error(ThumbnailFormat::Jpeg);
    let side = |value: u32| {
        u16::try_from(value).map_err(|_| error(&format!("{value} px is wider than JPEG allows")))
    };
    let (width, height) = (side(pixels.width)?, side(pixels.height)?);
    let color = match pixels.layout {
        Layout::Gray => jpeg_encoder::ColorType::Luma,
        Layout::Rgb => jpeg_encoder::ColorType::Rgb,
        Layout::GrayAlpha | Layout::Rgba => return Err(error(&"alpha must be flattened first")),
    };
    let mut encoder = jpeg_encoder::Encoder::new(out, quality);
    // Below quality 90 chroma is subsampled 4:2:0; average each 2x2 block like
    // libjpeg does instead of taking its top-left pixel, which aliases.
    encoder.set_chroma_subsampling_method(jpeg_encoder::ChromaSubsamplingMethod::Average);
    encoder
        .encode(pixels.data, width, height, color)
        .map_err(|e| error(&e))
}

fn encode_png(pixels: PixelsRef<'_>, out: &mut Vec<u8>) -> Result<(), ThumbnailError> {
    let error = encode_error(ThumbnailFormat::Png);
    let mut encoder = png::Encoder::new(out, pixels.width, pixels.height);
    encoder.set_color(match pixels.layout {
        Layout::Gray => png::ColorType::Grayscale,
        Layout::GrayAlpha => png::ColorType::GrayscaleAlpha,
        Layout::Rgb => png::ColorType::Rgb,
        Layout::Rgba => png::ColorType::Rgba,
    });
    encoder.set_depth(png::BitDepth::Eight);
    encoder.set_compression(png::Compression::Fast);
    encoder.set_filter(png::Filter::Adaptive);
    let mut writer = encoder.write_header().map_err(|e| error(&e))?;
    writer
        .write_image_data(pixels.data)
        .map_err(|e| error(&e))?;
    writer.finish().map_err(|e| error(&e))
}

fn encode_webp(pixels: PixelsRef<'_>, out: &mut Vec<u8>) -> Result<(), ThumbnailError> {
    let color = match pixels.layout {
        Layout::Gray => ExtendedColorType::L8,
        Layout::GrayAlpha => ExtendedColorType::La8,
        Layout::Rgb => ExtendedColorType::Rgb8,
        Layout::Rgba => ExtendedColorType::Rgba8,
    };
    WebPEncoder::new_lossless(out)
        .write_image(pixels.data, pixels.width, pixels.height, color)
        .map_err(|e| encode_error(ThumbnailFormat::WebP)(&e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flattening_blends_towards_white() {
        let rgba = [200, 100, 0, 255, 0, 0, 0, 0, 0, 0, 0, 128];
        let source = PixelsRef {
            width: 3,
            height: 1,
            layout: Layout::Rgba,
            data: &rgba,
        };
        let mut scratch = Vec::new();
        let flat = flatten_over_white(source, &mut scratch);
        assert_eq!(flat.layout, Layout::Rgb);
        assert_eq!(flat.data, [200, 100, 0, 255, 255, 255, 127, 127, 127]);
    }
}
