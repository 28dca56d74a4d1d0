//! The decoded source: 8-bit interleaved samples in one of four layouts.

/// Channel layout of 8-bit interleaved pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Layout {
    Gray,
    GrayAlpha,
    Rgb,
    Rgba,
}

impl Layout {
    pub(crate) fn channels(self) -> usize {
        match self {
            Self::Gray => 1,
            Self::GrayAlpha => 2,
            Self::Rgb => 3,
            Self::Rgba => 4,
        }
    }

    pub(crate) fn has_alpha(self) -> bool {
        matches!(self, Self::GrayAlpha | Self::Rgba)
    }

    /// The same colour channels without alpha.
    pub(crate) fn without_alpha(self) -> Self {
        match self {
            Self::Gray | Self::GrayAlpha => Self::Gray,
            Self::Rgb | Self::Rgba => Self::Rgb,
        }
    }
}

/// A borrowed view of pixels, e.g. a resized thumbnail before encoding.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PixelsRef<'a> {
    pub(crate) width: u32,
    pub(crate) height: u32,
    pub(crate) layout: Layout,
    pub(crate) data: &'a [u8],
}

/// An owned decoded image; `data.len() == width * height * layout.channels()`.
#[derive(Debug, Clone)]
pub(crate) struct Pixels {
    pub(crate) width: u32,
    pub(crate) height: u32,
    pub(crate) layout: Layout,
    pub(crate) data: Vec<u8>,
}

impl Pixels {
    pub(crate) fn as_ref(&self) -> PixelsRef<'_> {
        PixelsRef {
            width: self.width,
            height: self.height,
            layout: self.layout,
            data: &self.data,
        }
    }

    /// Drops the alpha channel in place when every pixel is fully opaque, so
    /// that resizing and encoding handle fewer channels and need no
    /// premultiplication.
    pub(crate) fn without_opaque_alpha(mut self) -> Self {
        if !self.layout.has_alpha() {
            return self;
        }
        let channels = self.layout.channels();
        let opaque = self
            .data
            .chunks_exact(channels)
            .all(|pixel| pixel[channels - 1] == u8::MAX);
        if !opaque {
            return self;
        }
        let colour = channels - 1;
        let pixel_count = self.data.len() / channels;
        for pixel in 0..pixel_count {
            self.data
                .copy_within(pixel * channels..pixel * channels + colour, pixel * colour);
        }
        self.data.truncate(pixel_count * colour);
        self.data.shrink_to_fit();
        self.layout = self.layout.without_alpha();
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drops_alpha_only_when_fully_opaque() {
        let opaque = Pixels {
            width: 2,
            height: 1,
            layout: Layout::Rgba,
            data: vec![1, 2, 3, 255, 4, 5, 6, 255],
        }
        .without_opaque_alpha();
        assert_eq!(opaque.layout, Layout::Rgb);
        assert_eq!(opaque.data, [1, 2, 3, 4, 5, 6]);

        let translucent = Pixels {
            width: 2,
            height: 1,
            layout: Layout::GrayAlpha,
            data: vec![9, 255, 8, 254],
        }
        .without_opaque_alpha();
        assert_eq!(translucent.layout, Layout::GrayAlpha);
        assert_eq!(translucent.data, [9, 255, 8, 254]);
    }
}
