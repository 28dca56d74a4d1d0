//! Checking that bytes are a PNG, from its signature and header chunk.

use crate::image::ImageInfo;

const SIGNATURE: [u8; 8] = [0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a];

/// The dimensions of a PNG, or why the bytes are not one.
pub fn png_info(bytes: &[u8]) -> Result<ImageInfo, String> {
    if bytes.len() < SIGNATURE.len() || bytes[..8] != SIGNATURE {
        return Err(format!(
            "not a PNG ({})",
            crate::image::describe_start(bytes)
        ));
    }
    let header = bytes
        .get(8..24)
        .ok_or_else(|| format!("a truncated PNG ({} bytes)", bytes.len()))?;
    if &header[4..8] != b"IHDR" {
        return Err("a PNG without an IHDR header chunk".to_owned());
    }
    let width = u32::from_be_bytes([header[8], header[9], header[10], header[11]]);
    let height = u32::from_be_bytes([header[12], header[13], header[14], header[15]]);
    if width == 0 || height == 0 {
        return Err(format!("a PNG with impossible dimensions {width}x{height}"));
    }
    Ok(ImageInfo { width, height })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(w: u32, h: u32) -> Vec<u8> {
        let mut b = SIGNATURE.to_vec();
        b.extend_from_slice(&13u32.to_be_bytes());
        b.extend_from_slice(b"IHDR");
        b.extend_from_slice(&w.to_be_bytes());
        b.extend_from_slice(&h.to_be_bytes());
        b.extend_from_slice(&[8, 6, 0, 0, 0]);
        b
    }

    #[test]
    fn reads_dimensions() {
        assert_eq!(
            png_info(&header(1024, 768)),
            Ok(ImageInfo {
                width: 1024,
                height: 768
            })
        );
    }

    #[test]
    fn refuses_non_pngs() {
        assert!(png_info(b"").unwrap_err().contains("not a PNG"));
        assert!(
            png_info(b"\xff\xd8\xff\xe0 jpeg")
                .unwrap_err()
                .contains("ff d8")
        );
        assert!(png_info(&SIGNATURE).unwrap_err().contains("truncated"));
        assert!(png_info(&header(0, 5)).unwrap_err().contains("impossible"));
        let mut wrong = header(1, 1);
        wrong[12..16].copy_from_slice(b"IDAT");
        assert!(png_info(&wrong).unwrap_err().contains("IHDR"));
    }
}
