//! Checking that bytes are a JPEG, from its markers up to the frame header (SOFn) that holds the
//! size. Nothing is decoded: GenerateThumbnails decodes the image and reports a damaged one.

use crate::image::{ImageInfo, describe_start};

/// The dimensions of a JPEG, or why the bytes are not one.
pub fn jpeg_info(bytes: &[u8]) -> Result<ImageInfo, String> {
    if !bytes.starts_with(&[0xFF, 0xD8]) {
        return Err(format!("not a JPEG ({})", describe_start(bytes)));
    }
    let truncated = || format!("a truncated JPEG ({} bytes, no frame header)", bytes.len());
    let mut at = 2;
    loop {
        if *bytes.get(at).ok_or_else(truncated)? != 0xFF {
            return Err(format!(
                "a damaged JPEG (no marker at byte {at} of {})",
                bytes.len()
            ));
        }
        // Any number of 0xFF fill bytes may precede a marker.
        while bytes.get(at) == Some(&0xFF) {
            at += 1;
        }
        let marker = *bytes.get(at).ok_or_else(truncated)?;
        at += 1;
        match marker {
            // Markers without a length: TEM, RSTn, a second SOI.
            0x01 | 0xD0..=0xD8 => continue,
            // Scan data or the end, before any frame header.
            0xD9 | 0xDA => return Err("a JPEG without a frame header".to_owned()),
            _ => {}
        }
        let length = bytes
            .get(at..at + 2)
            .map(|b| usize::from(u16::from_be_bytes([b[0], b[1]])))
            .ok_or_else(truncated)?;
        if length < 2 {
            return Err(format!(
                "a damaged JPEG (segment length {length} at byte {at})"
            ));
        }
        // SOF0-SOF15, except DHT (C4), JPG (C8) and DAC (CC) which share the range.
        if (0xC0..=0xCF).contains(&marker) && !matches!(marker, 0xC4 | 0xC8 | 0xCC) {
            let frame = bytes.get(at + 2..at + 7).ok_or_else(truncated)?;
            let height = u32::from(u16::from_be_bytes([frame[1], frame[2]]));
            let width = u32::from(u16::from_be_bytes([frame[3], frame[4]]));
            if width == 0 || height == 0 {
                return Err(format!(
                    "a JPEG with impossible dimensions {width}x{height}"
                ));
            }
            return Ok(ImageInfo { width, height });
        }
        at += length;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// SOI, an APP0 segment, fill bytes, a restart marker, then a baseline frame header.
    fn header(width: u16, height: u16) -> Vec<u8> {
        let mut b = vec![0xFF, 0xD8];
        b.extend_from_slice(&[0xFF, 0xE0, 0x00, 0x06, b'J', b'F', b'I', b'F']);
        b.extend_from_slice(&[0xFF, 0xFF, 0xD0]);
        b.extend_from_slice(&[0xFF, 0xC4, 0x00, 0x03, 0x00]);
        b.extend_from_slice(&[0xFF, 0xC0, 0x00, 0x0B, 0x08]);
        b.extend_from_slice(&height.to_be_bytes());
        b.extend_from_slice(&width.to_be_bytes());
        b.extend_from_slice(&[0x01, 0x01, 0x11, 0x00]);
        b
    }

    #[test]
    fn reads_dimensions_past_other_segments() {
        assert_eq!(
            jpeg_info(&header(1344, 768)),
            Ok(ImageInfo {
                width: 1344,
                height: 768
            })
        );
        // A progressive frame (SOF2) is a frame header too.
        let mut progressive = header(640, 1536);
        let sof = progressive.len() - 11;
        progressive[sof] = 0xC2;
        assert_eq!(
            jpeg_info(&progressive).map(|i| (i.width, i.height)),
            Ok((640, 1536))
        );
    }

    #[test]
    fn refuses_what_is_not_a_usable_jpeg() {
        let png = b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR";
        assert!(
            jpeg_info(png)
                .unwrap_err()
                .starts_with("not a JPEG (starts with [89 50 4e 47")
        );
        assert!(jpeg_info(b"").unwrap_err().contains("0 bytes"));
        let whole = header(8, 8);
        for cut in [2, 5, 12, whole.len() - 5] {
            let err = jpeg_info(&whole[..cut]).unwrap_err();
            assert!(err.contains("truncated"), "{cut}: {err}");
        }
        assert!(
            jpeg_info(&header(0, 8))
                .unwrap_err()
                .contains("impossible dimensions 0x8")
        );
        let scan_first = [0xFF, 0xD8, 0xFF, 0xDA, 0x00, 0x02];
        assert!(
            jpeg_info(&scan_first)
                .unwrap_err()
                .contains("without a frame header")
        );
        let garbage = [0xFF, 0xD8, 0x12, 0x34];
        assert!(
            jpeg_info(&garbage)
                .unwrap_err()
                .contains("no marker at byte 2")
        );
        let zero_length = [0xFF, 0xD8, 0xFF, 0xE1, 0x00, 0x00];
        assert!(
            jpeg_info(&zero_length)
                .unwrap_err()
                .contains("segment length 0")
        );
    }
}
