//! AVIF files are read back with libavif's `avifdec` (Debian's and Ubuntu's `libavif-bin`; it
//! decodes AV1 with libdav1d), which shares no code with the encoder (rav1e).
//! `scripts/install-tools.sh avif` installs it; without it these tests fail and say so.

use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

use image::DynamicImage;

/// Decodes an AVIF file to RGB or RGBA through `avifdec` and a PNG, or panics saying why.
pub(super) fn decode(bytes: &[u8]) -> DynamicImage {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let stem = std::env::temp_dir().join(format!(
        "generate-thumbnails-test-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    let (avif, png) = (stem.with_extension("avif"), stem.with_extension("png"));
    std::fs::write(&avif, bytes).unwrap();
    let run = Command::new("avifdec").arg(&avif).arg(&png).output();
    let _ = std::fs::remove_file(&avif);
    let output = run.unwrap_or_else(|e| {
        panic!("cannot run avifdec ({e}): install it with `bash scripts/install-tools.sh avif`")
    });
    let decoded = std::fs::read(&png);
    let _ = std::fs::remove_file(&png);
    assert!(
        output.status.success(),
        "avifdec refused the file: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    image::load_from_memory_with_format(&decoded.unwrap(), image::ImageFormat::Png).unwrap()
}
