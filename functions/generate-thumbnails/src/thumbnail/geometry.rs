//! Thumbnail dimensions: fit the longest side, keep the aspect ratio, never upscale.

/// Dimensions of a thumbnail of a `width` x `height` source whose longest side
/// is `size`. The short side is rounded to the nearest pixel and is at least 1.
/// A source that already fits is returned unchanged (no upscaling).
pub(crate) fn fit_longest_side(width: u32, height: u32, size: u32) -> (u32, u32) {
    let longest = width.max(height);
    if longest <= size {
        return (width, height);
    }
    let scale = |side: u32| -> u32 {
        let scaled =
            (u64::from(side) * u64::from(size) * 2 + u64::from(longest)) / (2 * u64::from(longest));
        // `scaled <= size`, which is a u32.
        u32::try_from(scaled).unwrap_or(size).max(1)
    };
    if width >= height {
        (size, scale(height))
    } else {
        (scale(width), size)
    }
}

#[cfg(test)]
mod tests {
    use super::fit_longest_side;

    #[test]
    fn square_landscape_portrait() {
        assert_eq!(fit_longest_side(1024, 1024, 256), (256, 256));
        assert_eq!(fit_longest_side(1920, 1080, 128), (128, 72));
        assert_eq!(fit_longest_side(1080, 1920, 128), (72, 128));
    }

    #[test]
    fn rounds_to_nearest_pixel() {
        // 1000 x 333 -> 128 x 42.624 -> 43
        assert_eq!(fit_longest_side(1000, 333, 128), (128, 43));
        // 1000 x 331 -> 128 x 42.368 -> 42
        assert_eq!(fit_longest_side(1000, 331, 128), (128, 42));
    }

    #[test]
    fn short_side_is_at_least_one_pixel() {
        assert_eq!(fit_longest_side(1, 5000, 128), (1, 128));
        assert_eq!(fit_longest_side(5000, 1, 128), (128, 1));
    }

    #[test]
    fn never_upscales() {
        assert_eq!(fit_longest_side(100, 50, 128), (100, 50));
        assert_eq!(fit_longest_side(128, 128, 128), (128, 128));
    }
}
