//! Lanczos3 downscaling with `fast_image_resize` (SIMD, single thread), reusing
//! the resizer's internal buffers and one destination buffer across sizes.

use fast_image_resize::images::{Image, ImageRef};
use fast_image_resize::{FilterType, PixelType, ResizeAlg, ResizeOptions, Resizer};

use super::ThumbnailError;
use super::pixels::{Layout, Pixels, PixelsRef};

fn pixel_type(layout: Layout) -> PixelType {
    match layout {
        Layout::Gray => PixelType::U8,
        Layout::GrayAlpha => PixelType::U8x2,
        Layout::Rgb => PixelType::U8x3,
        Layout::Rgba => PixelType::U8x4,
    }
}

fn resize_error(error: impl std::fmt::Display) -> ThumbnailError {
    ThumbnailError::Encode(format!("resizing failed: {error}"))
}

/// Resizes one source to several sizes in turn; each result stays valid until
/// the next call.
#[derive(Debug)]
pub(crate) struct ThumbnailResizer {
    resizer: Resizer,
    options: ResizeOptions,
    destination: Vec<u8>,
}

impl ThumbnailResizer {
    pub(crate) fn new() -> Self {
        Self {
            resizer: Resizer::new(),
            // Alpha is premultiplied during the resize (the default), so
            // transparent pixels do not bleed their colour into the edges.
            options: ResizeOptions::new().resize_alg(ResizeAlg::Convolution(FilterType::Lanczos3)),
            destination: Vec::new(),
        }
    }

    /// `source` resized to `width` x `height` with Lanczos3, or `source` itself
    /// when it already has those dimensions.
    pub(crate) fn resize<'a>(
        &'a mut self,
        source: &'a Pixels,
        width: u32,
        height: u32,
    ) -> Result<PixelsRef<'a>, ThumbnailError> {
        if (width, height) == (source.width, source.height) {
            return Ok(source.as_ref());
        }
        let pixel_type = pixel_type(source.layout);
        let len = width as usize * height as usize * source.layout.channels();
        self.destination.clear();
        self.destination.resize(len, 0);

        let src = ImageRef::new(source.width, source.height, &source.data, pixel_type)
            .map_err(resize_error)?;
        let mut dst = Image::from_slice_u8(width, height, &mut self.destination, pixel_type)
            .map_err(resize_error)?;
        self.resizer
            .resize(&src, &mut dst, &self.options)
            .map_err(resize_error)?;
        Ok(PixelsRef {
            width,
            height,
            layout: source.layout,
            data: &self.destination,
        })
    }
}
