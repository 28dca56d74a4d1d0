//! Lanczos3 downscaling with `fast_image_resize` (SIMD, single thread), reusing
//! the resizer's internal buffers across sizes.

use fast_image_resize::images::{Image, ImageRef};
use fast_image_resize::{FilterType, PixelType, ResizeAlg, ResizeOptions, Resizer};

use super::ThumbnailError;
use super::pixels::{Layout, PixelsRef};

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

/// One `fast_image_resize` resizer, kept for all the sizes of one source.
#[derive(Debug)]
pub(crate) struct ThumbnailResizer {
    resizer: Resizer,
    options: ResizeOptions,
}

impl ThumbnailResizer {
    pub(crate) fn new() -> Self {
        Self {
            resizer: Resizer::new(),
            // Alpha is premultiplied during the resize (the default), so
            // transparent pixels do not bleed their colour into the edges.
            options: ResizeOptions::new().resize_alg(ResizeAlg::Convolution(FilterType::Lanczos3)),
        }
    }

    /// Resizes the whole of `source` to `width` x `height` with Lanczos3 into
    /// `destination` (cleared and resized to fit).
    pub(crate) fn resize(
        &mut self,
        source: PixelsRef<'_>,
        width: u32,
        height: u32,
        destination: &mut Vec<u8>,
    ) -> Result<(), ThumbnailError> {
        let pixel_type = pixel_type(source.layout);
        destination.clear();
        destination.resize(
            width as usize * height as usize * source.layout.channels(),
            0,
        );
        let src = ImageRef::new(source.width, source.height, source.data, pixel_type)
            .map_err(resize_error)?;
        let mut dst =
            Image::from_slice_u8(width, height, destination, pixel_type).map_err(resize_error)?;
        self.resizer
            .resize(&src, &mut dst, &self.options)
            .map_err(resize_error)
    }
}
