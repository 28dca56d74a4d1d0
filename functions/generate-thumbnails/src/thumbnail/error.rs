//! The one error type of the thumbnail core.

/// Why thumbnails could not be made.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ThumbnailError {
    /// The source is corrupt, truncated, empty or not an image in a supported
    /// format (PNG, JPEG, WebP).
    #[error("cannot decode source image: {0}")]
    Decode(String),
    /// The header announces more pixels than allowed; nothing was decoded.
    #[error("source image is {width}x{height} ({pixels} px), over the limit of {limit} px")]
    TooLarge {
        width: u32,
        height: u32,
        pixels: u64,
        limit: u64,
    },
    /// A thumbnail could not be encoded.
    #[error("cannot encode thumbnail: {0}")]
    Encode(String),
    /// The [`ThumbnailSpec`](super::ThumbnailSpec) or a format name is invalid.
    #[error("invalid thumbnail spec: {0}")]
    InvalidSpec(String),
}

/// libjpeg's message from the payload of its error exit, which the `mozjpeg` wrapper raises by
/// unwinding out of the C code (callers catch it with `catch_unwind`, as its docs ask).
pub(crate) fn libjpeg_message(payload: &(dyn std::any::Any + Send)) -> &str {
    payload
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| payload.downcast_ref::<&str>().copied())
        .unwrap_or("libjpeg failed")
}
