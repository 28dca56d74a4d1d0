//! The pure thumbnail core: decode an image once, resize it to each requested
//! longest side with Lanczos3 and encode every result in every requested format.
//!
//! Nothing here touches AWS, the network or async code; the Lambda handler feeds
//! it the S3 object's bytes and uploads what it returns.
//!
//! Behaviour worth knowing:
//! - **Input formats**: PNG (what Bedrock produces by default, on the fast
//!   path), JPEG (what a Stability model returns when a request asks for it)
//!   and WebP, recognised from their magic bytes, never from a file name. Anything else is a
//!   [`ThumbnailError::Decode`] naming what was seen.
//! - **JPEG sources** are decoded by libjpeg-turbo scaled in the DCT domain
//!   (`n/8`) when the largest thumbnail is at most half of the scaled size: a
//!   1024 px JPEG for thumbnails up to 256 px is decoded at 512 px. The
//!   thumbnails' geometry is still that of the full-size source.
//! - **Decompression bombs**: the pixel count is read from the header and checked
//!   against [`MAX_SOURCE_PIXELS`] *before* any pixel is decoded
//!   ([`ThumbnailError::TooLarge`]).
//! - **Pixel formats**: 8- and 16-bit, grey, grey+alpha, RGB, RGBA and palette
//!   PNGs are all accepted; 16-bit samples are reduced to 8 bits. An alpha
//!   channel that is fully opaque is dropped before resizing.
//! - **Geometry**: the longest side of each thumbnail equals the requested size,
//!   the other side keeps the aspect ratio (rounded, at least 1 px).
//! - **Never upscales**: a source whose longest side is already at most the
//!   requested size yields a thumbnail at the source's own dimensions
//!   (re-encoded in the requested format). Such duplicates are not merged.
//! - **Resampling**: Lanczos3, alpha-aware (premultiplied) when the image has
//!   transparency. Sizes are made largest first; a size at most half of the
//!   previous one is resized from that thumbnail rather than from the source
//!   (same geometry, within 2 levels of a direct resize; see `plan.rs`).
//!   Each size is resized once and encoded in every format.
//! - **JPEG and transparency**: JPEG has no alpha, so translucent pixels are
//!   composited over white. PNG, WebP and AVIF keep the alpha channel.
//! - **Lossy formats**: JPEG, WebP (libwebp) and AVIF (rav1e) each at its own
//!   quality ([`Qualities`]); PNG is lossless.

mod avif;
mod decode;
mod encode;
mod error;
mod geometry;
mod pixels;
mod plan;
mod png_fast;
mod resize;
mod spec;
mod unfilter;
mod unfilter_simd;

pub use error::ThumbnailError;
pub use spec::{MAX_THUMBNAIL_SIZE, QUALITY_RANGE, Qualities, ThumbnailFormat, ThumbnailSpec};

/// Largest source accepted, in pixels (64 Mpx, e.g. 8192 x 8192).
pub const MAX_SOURCE_PIXELS: u64 = 64 * 1024 * 1024;

/// Dimensions of the decoded source image.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SourceInfo {
    pub width: u32,
    pub height: u32,
}

/// One encoded thumbnail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Thumbnail {
    /// The requested longest side (from [`ThumbnailSpec::sizes`]).
    pub size: u32,
    /// Actual width; smaller than `size` for portrait or small sources.
    pub width: u32,
    /// Actual height; smaller than `size` for landscape or small sources.
    pub height: u32,
    /// The format of `bytes`, one of [`ThumbnailSpec::formats`].
    pub format: ThumbnailFormat,
    /// The encoded image.
    pub bytes: Vec<u8>,
}

/// Decodes `source` once and returns its dimensions and one thumbnail per entry
/// of `spec.sizes` and of `spec.formats`: size by size in the order of
/// `spec.sizes`, each in the order of `spec.formats`. Sources over [`MAX_SOURCE_PIXELS`] are
/// rejected before decoding.
pub fn make_thumbnails(
    source: &[u8],
    spec: &ThumbnailSpec,
) -> Result<(SourceInfo, Vec<Thumbnail>), ThumbnailError> {
    make_thumbnails_with_limit(source, spec, MAX_SOURCE_PIXELS)
}

/// [`make_thumbnails`] with another pixel limit, e.g. one derived from the
/// function's memory size. The peak is roughly 2 x width x height x channels
/// (3 for RGB, 1 for grey), 3 x for translucent images (4 channels,
/// premultiplied into a copy), plus the source bytes: about 26 MB for a
/// 2048 x 2048 RGB PNG, ~400 MB for RGB at the default 64 Mpx limit.
pub fn make_thumbnails_with_limit(
    source: &[u8],
    spec: &ThumbnailSpec,
    max_source_pixels: u64,
) -> Result<(SourceInfo, Vec<Thumbnail>), ThumbnailError> {
    spec.validate()?;
    let largest = spec.sizes.iter().copied().max().unwrap_or(0);
    let (info, image) = decode::decode(source, max_source_pixels, largest)?;
    let image = image.without_opaque_alpha();

    let mut resizer = resize::ThumbnailResizer::new();
    let mut encoders: Vec<_> = spec
        .formats
        .iter()
        .map(|&format| encode::ThumbnailEncoder::new(format, spec.quality.of(format)))
        .collect();
    // The last resized thumbnail (a possible origin for the next) and the
    // buffer the next one is resized into; swapped after each resize.
    let mut previous: Vec<u8> = Vec::new();
    let mut previous_dims = (0, 0);
    let mut current: Vec<u8> = Vec::new();
    let mut made: Vec<Vec<Thumbnail>> = vec![Vec::new(); spec.sizes.len()];

    // The plan is made on the source's full-size dimensions; a scaled JPEG decode
    // is resized like the source (it covers the same extent), even to the size
    // of the source itself, which `jpeg_scale` never lets happen.
    let decoded_at_full_size = (image.width, image.height) == (info.width, info.height);
    for step in plan::plan(info.width, info.height, &spec.sizes) {
        let pixels = if step.origin == plan::Origin::Source && decoded_at_full_size {
            image.as_ref()
        } else {
            let from = if step.origin == plan::Origin::ResizePrevious {
                pixels::PixelsRef {
                    width: previous_dims.0,
                    height: previous_dims.1,
                    layout: image.layout,
                    data: &previous,
                }
            } else {
                image.as_ref()
            };
            resizer.resize(from, step.width, step.height, &mut current)?;
            std::mem::swap(&mut previous, &mut current);
            previous_dims = (step.width, step.height);
            pixels::PixelsRef {
                width: step.width,
                height: step.height,
                layout: image.layout,
                data: &previous,
            }
        };
        for (encoder, &format) in encoders.iter_mut().zip(&spec.formats) {
            made[step.spec_index].push(Thumbnail {
                size: step.size,
                width: step.width,
                height: step.height,
                format,
                bytes: encoder.encode(pixels)?,
            });
        }
    }
    let thumbnails = made.into_iter().flatten().collect();
    Ok((info, thumbnails))
}

#[cfg(test)]
mod tests;
