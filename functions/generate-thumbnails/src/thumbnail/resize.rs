//! Lanczos3 downscaling with `fast_image_resize` (SIMD, single thread), reusing
//! the resizer's internal buffers across sizes.

use fast_image_resize::images::{Image, ImageRef};
use fast_image_resize::{Filter, FilterType, PixelType, ResizeAlg, ResizeOptions, Resizer};

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

/// The Lanczos3 kernel, `sinc(x) * sinc(x / 3)` on `-3 < x < 3`, with one sine
/// instead of two: `sin(pi x) = s (3 - 4 s^2)` where `s = sin(pi x / 3)` (the
/// triple-angle identity). Computing the kernel weights is about a tenth of a
/// resize here and the sines are most of it; the weights equal the library's
/// own Lanczos3 to within floating-point rounding.
fn lanczos3(x: f64) -> f64 {
    use std::f64::consts::PI;
    if x == 0.0 {
        return 1.0;
    }
    if !(-3.0..3.0).contains(&x) {
        return 0.0;
    }
    let third = PI * x / 3.0;
    let s = third.sin();
    // sinc(x) * sinc(x / 3) = sin(pi x) sin(pi x / 3) / (pi x * pi x / 3)
    s * s * (3.0 - 4.0 * s * s) / (3.0 * third * third)
}

fn lanczos3_filter() -> FilterType {
    match Filter::new("Lanczos3 (one sine)", lanczos3, 3.0) {
        Ok(filter) => FilterType::Custom(filter),
        // Unreachable: the support is finite and positive.
        Err(_) => FilterType::Lanczos3,
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
            options: ResizeOptions::new().resize_alg(ResizeAlg::Convolution(lanczos3_filter())),
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    /// The textbook definition, with two sines.
    fn reference(x: f64) -> f64 {
        use std::f64::consts::PI;
        let sinc = |x: f64| {
            if x == 0.0 {
                1.0
            } else {
                (PI * x).sin() / (PI * x)
            }
        };
        if (-3.0..3.0).contains(&x) {
            sinc(x) * sinc(x / 3.0)
        } else {
            0.0
        }
    }

    #[test]
    fn one_sine_lanczos3_equals_the_definition() {
        for step in -3500..=3500 {
            let x = f64::from(step) / 1000.0;
            let (got, want) = (lanczos3(x), reference(x));
            assert!((got - want).abs() < 1e-12, "x={x}: {got} vs {want}");
        }
    }

    #[test]
    fn resizes_exactly_like_the_library_lanczos3() {
        let (width, height) = (301u32, 173u32);
        let data: Vec<u8> = (0..width * height * 3)
            .map(|i| ((i * 37) ^ (i / 7)) as u8)
            .collect();
        let source = PixelsRef {
            width,
            height,
            layout: Layout::Rgb,
            data: &data,
        };
        let mut ours = Vec::new();
        ThumbnailResizer::new()
            .resize(source, 97, 55, &mut ours)
            .unwrap();

        let mut library = vec![0; ours.len()];
        let src = ImageRef::new(width, height, &data, PixelType::U8x3).unwrap();
        let mut dst = Image::from_slice_u8(97, 55, &mut library, PixelType::U8x3).unwrap();
        let options = ResizeOptions::new().resize_alg(ResizeAlg::Convolution(FilterType::Lanczos3));
        Resizer::new().resize(&src, &mut dst, &options).unwrap();
        assert_eq!(ours, library);
    }
}
