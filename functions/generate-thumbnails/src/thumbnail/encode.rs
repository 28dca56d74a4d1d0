//! Thumbnail encoding: JPEG with `mozjpeg` (libjpeg-turbo SIMD), PNG with the `png` crate's fast
//! deflate and adaptive filtering, lossy WebP with libwebp (the `webp` crate), AVIF with rav1e
//! ([`super::avif`]).

use super::error::libjpeg_message;
use super::pixels::{Layout, PixelsRef};
use super::{ThumbnailError, ThumbnailFormat};

fn encode_error(format: ThumbnailFormat) -> impl Fn(&dyn std::fmt::Display) -> ThumbnailError {
    move |error| ThumbnailError::Encode(format!("{format}: {error}"))
}

/// Encodes thumbnails of one format, reusing a scratch buffer for the alpha-flattening JPEG
/// needs and the grey-to-RGB expansion WebP and AVIF need.
#[derive(Debug)]
pub(crate) struct ThumbnailEncoder {
    format: ThumbnailFormat,
    /// The format's quality (unused for PNG).
    quality: u8,
    scratch: Vec<u8>,
}

impl ThumbnailEncoder {
    pub(crate) fn new(format: ThumbnailFormat, quality: Option<u8>) -> Self {
        Self {
            format,
            quality: quality.unwrap_or(100),
            scratch: Vec::new(),
        }
    }

    pub(crate) fn encode(&mut self, pixels: PixelsRef<'_>) -> Result<Vec<u8>, ThumbnailError> {
        let mut out = Vec::with_capacity(pixels.data.len() / 4 + 1024);
        match self.format {
            ThumbnailFormat::Jpeg => {
                let opaque = if pixels.layout.has_alpha() {
                    flatten_over_white(pixels, &mut self.scratch)
                } else {
                    pixels
                };
                encode_jpeg(opaque, self.quality, &mut out)?;
            }
            ThumbnailFormat::Png => encode_png(pixels, &mut out)?,
            ThumbnailFormat::WebP => {
                let colour = grey_as_rgb(pixels, &mut self.scratch);
                out = encode_webp(colour, self.quality)?;
            }
            ThumbnailFormat::Avif => {
                let colour = grey_as_rgb(pixels, &mut self.scratch);
                out = super::avif::encode(colour, self.quality)
                    .map_err(|e| encode_error(ThumbnailFormat::Avif)(&e))?;
            }
        }
        Ok(out)
    }
}

/// Grey (and grey+alpha) pixels as RGB (RGBA), for encoders that take only those; others as they are.
fn grey_as_rgb<'a>(pixels: PixelsRef<'a>, scratch: &'a mut Vec<u8>) -> PixelsRef<'a> {
    let layout = match pixels.layout {
        Layout::Rgb | Layout::Rgba => return pixels,
        Layout::Gray => Layout::Rgb,
        Layout::GrayAlpha => Layout::Rgba,
    };
    scratch.clear();
    scratch.reserve(pixels.data.len() * 3);
    for pixel in pixels.data.chunks_exact(pixels.layout.channels()) {
        scratch.extend_from_slice(&[pixel[0]; 3]);
        scratch.extend_from_slice(&pixel[1..]);
    }
    PixelsRef {
        width: pixels.width,
        height: pixels.height,
        layout,
        data: scratch,
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

/// libjpeg's `JPEG_MAX_DIMENSION`.
const JPEG_MAX_SIDE: u32 = 65_500;

/// Baseline JPEG exactly as libjpeg-turbo (and so Pillow) writes it: mozjpeg's
/// `JCP_FASTEST` profile is plain libjpeg v6 behaviour — Annex K quantisation
/// tables scaled by `quality`, standard Huffman tables, no progressive scans,
/// no trellis quantisation. Below quality 90 chroma is subsampled 4:2:0
/// (averaged 2x2), as before.
fn encode_jpeg(
    pixels: PixelsRef<'_>,
    quality: u8,
    out: &mut Vec<u8>,
) -> Result<(), ThumbnailError> {
    let error = encode_error(ThumbnailFormat::Jpeg);
    for side in [pixels.width, pixels.height] {
        if side > JPEG_MAX_SIDE {
            return Err(error(&format!("{side} px is wider than JPEG allows")));
        }
    }
    let color_space = match pixels.layout {
        Layout::Gray => mozjpeg::ColorSpace::JCS_GRAYSCALE,
        Layout::Rgb => mozjpeg::ColorSpace::JCS_RGB,
        Layout::GrayAlpha | Layout::Rgba => return Err(error(&"alpha must be flattened first")),
    };
    let (width, height) = (pixels.width as usize, pixels.height as usize);
    let data = pixels.data;
    let buffer = std::mem::take(out);
    // libjpeg reports errors by unwinding out of the C code; the wrapper's docs
    // ask callers to catch that. The payload is the libjpeg message.
    let result = std::panic::catch_unwind(move || {
        let mut compress = mozjpeg::Compress::new(color_space);
        compress.set_fastest_defaults();
        compress.set_size(width, height);
        compress.set_quality(f32::from(quality));
        if color_space == mozjpeg::ColorSpace::JCS_RGB {
            let chroma = if quality < 90 { (2, 2) } else { (1, 1) };
            compress.set_chroma_sampling_pixel_sizes(chroma, chroma);
        }
        let mut started = compress.start_compress(buffer)?;
        started.write_scanlines(data)?;
        started.finish()
    });
    match result {
        Ok(Ok(encoded)) => {
            *out = encoded;
            Ok(())
        }
        Ok(Err(e)) => Err(error(&e)),
        Err(payload) => Err(error(&libjpeg_message(payload.as_ref()))),
    }
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

/// Lossy WebP at `quality`, libwebp's default method (4) as Pillow and sharp use it; alpha is
/// kept (compressed losslessly, as libwebp does by default).
fn encode_webp(pixels: PixelsRef<'_>, quality: u8) -> Result<Vec<u8>, ThumbnailError> {
    let error = encode_error(ThumbnailFormat::WebP);
    let layout = match pixels.layout {
        Layout::Rgb => webp::PixelLayout::Rgb,
        Layout::Rgba => webp::PixelLayout::Rgba,
        Layout::Gray | Layout::GrayAlpha => return Err(error(&"grey must be expanded first")),
    };
    webp::Encoder::new(pixels.data, layout, pixels.width, pixels.height)
        .encode_simple(false, f32::from(quality))
        .map(|memory| memory.to_vec())
        .map_err(|e| error(&format!("libwebp refused the picture ({e:?})")))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The payload of the first marker segment `marker` in a JPEG stream.
    fn segment(jpeg: &[u8], marker: u8) -> Option<&[u8]> {
        let mut at = 2;
        while at + 4 <= jpeg.len() && jpeg[at] == 0xFF {
            let length = usize::from(u16::from_be_bytes([jpeg[at + 2], jpeg[at + 3]]));
            if jpeg[at + 1] == marker {
                return jpeg.get(at + 4..at + 2 + length);
            }
            at += 2 + length;
        }
        None
    }

    fn encode_rgb(width: u32, height: u32, data: &[u8], quality: u8) -> Vec<u8> {
        let pixels = PixelsRef {
            width,
            height,
            layout: Layout::Rgb,
            data,
        };
        let mut out = Vec::new();
        encode_jpeg(pixels, quality, &mut out).expect("encodes");
        out
    }

    #[test]
    fn jpeg_is_baseline_with_standard_tables_and_420_chroma() {
        let data: Vec<u8> = (0..32 * 16 * 3).map(|i| (i * 7 % 251) as u8).collect();
        let jpeg = encode_rgb(32, 16, &data, 80);
        assert_eq!(&jpeg[..2], [0xFF, 0xD8]);
        assert_eq!(&jpeg[jpeg.len() - 2..], [0xFF, 0xD9]);
        // Baseline (SOF0), not progressive (SOF2).
        let frame = segment(&jpeg, 0xC0).expect("SOF0");
        assert!(segment(&jpeg, 0xC2).is_none());
        assert_eq!(frame[..6], [8, 0, 16, 0, 32, 3]);
        // Y 2x2, Cb and Cr 1x1: 4:2:0.
        assert_eq!([frame[7], frame[10], frame[13]], [0x22, 0x11, 0x11]);
        // Annex K luminance table at quality 80 (libjpeg's scaling), as
        // libjpeg-turbo writes it; mozjpeg's own default tables differ.
        let tables = segment(&jpeg, 0xDB).expect("DQT");
        assert_eq!(tables[..9], [0, 6, 4, 5, 6, 5, 4, 6, 6]);
    }

    #[test]
    fn high_quality_jpeg_keeps_full_chroma() {
        let jpeg = encode_rgb(16, 16, &[90; 16 * 16 * 3], 95);
        let frame = segment(&jpeg, 0xC0).expect("SOF0");
        assert_eq!([frame[7], frame[10], frame[13]], [0x11, 0x11, 0x11]);
    }

    #[test]
    fn grayscale_jpeg_has_one_component() {
        let pixels = PixelsRef {
            width: 9,
            height: 7,
            layout: Layout::Gray,
            data: &[128; 9 * 7],
        };
        let mut out = Vec::new();
        encode_jpeg(pixels, 80, &mut out).expect("encodes");
        let frame = segment(&out, 0xC0).expect("SOF0");
        assert_eq!(frame[..6], [8, 0, 7, 0, 9, 1]);
    }

    #[test]
    fn libjpeg_errors_are_returned_not_panicked() {
        // Too few rows: libjpeg's error exit unwinds, and is caught.
        let pixels = PixelsRef {
            width: 8,
            height: 8,
            layout: Layout::Rgb,
            data: &[0; 8 * 3 * 2],
        };
        let mut out = Vec::new();
        let error = encode_jpeg(pixels, 80, &mut out).expect_err("short input");
        assert!(error.to_string().contains("too few scanlines"), "{error}");
    }

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
