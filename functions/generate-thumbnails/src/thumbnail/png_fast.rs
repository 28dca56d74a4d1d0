//! The fast path for the PNGs image models return: 8-bit grey, grey+alpha,
//! RGB or RGBA, not interlaced, without a transparency key.
//!
//! Decoding such a PNG is mostly inflating its zlib stream, so this path
//! concatenates the IDAT chunks, inflates them in one call with libdeflate
//! (about 1.5x faster here than the streaming inflater of the `png` crate) and
//! unfilters the rows in place, so the output buffer is the only full-size
//! allocation. Chunk CRCs and the zlib Adler-32 checksum are verified.
//!
//! It never reports an error itself: anything it does not handle, or handles
//! but finds broken, yields `None`, and the caller decodes with the `png` crate,
//! which supports every PNG variant and words the error for a broken file.

use libdeflater::Decompressor;

use super::pixels::{Layout, Pixels};
use super::unfilter::{RowFilter, unfilter, unfilter_pair};

const SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";

/// What the IHDR chunk says, for a PNG this path supports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Header {
    width: u32,
    height: u32,
    layout: Layout,
}

/// Decodes `bytes` when it is a PNG this path supports of at most
/// `max_pixels` pixels; `None` otherwise (see the module documentation).
pub(crate) fn decode(bytes: &[u8], max_pixels: u64) -> Option<Pixels> {
    let (header, idat) = read_chunks(bytes)?;
    if u64::from(header.width) * u64::from(header.height) > max_pixels {
        return None;
    }
    let channels = header.layout.channels();
    let stride = usize::try_from(header.width).ok()?.checked_mul(channels)?;
    let rows = usize::try_from(header.height).ok()?;
    let filtered_len = stride.checked_add(1)?.checked_mul(rows)?;

    let joined;
    let stream = match idat.as_slice() {
        [single] => *single,
        several => {
            joined = several.concat();
            joined.as_slice()
        }
    };
    let mut data = vec![0; filtered_len];
    let inflated = Decompressor::new()
        .zlib_decompress(stream, &mut data)
        .ok()?;
    if inflated != filtered_len {
        return None;
    }
    unfilter_rows(&mut data, stride, channels, rows)?;
    Some(Pixels {
        width: header.width,
        height: header.height,
        layout: header.layout,
        data,
    })
}

/// Turns `rows` filtered rows (a filter byte followed by `stride` bytes each)
/// into packed pixel rows at the start of `data`, which is truncated to them.
/// Rows are reconstructed two at a time (see [`unfilter_pair`]). `None` if a
/// row has an invalid filter byte.
fn unfilter_rows(data: &mut Vec<u8>, stride: usize, bpp: usize, rows: usize) -> Option<()> {
    let zero_row = vec![0; stride];
    let mut row = 0;
    while row < rows {
        let pair = usize::from(row + 1 < rows) + 1;
        let mut filters = [RowFilter::None; 2];
        for (offset, filter) in filters.iter_mut().enumerate().take(pair) {
            let start = (row + offset) * (stride + 1);
            *filter = RowFilter::from_byte(data[start])?;
            // Each row moves down by its index + 1 bytes, into space the rows
            // before it no longer need; the reconstructed rows stay intact.
            data.copy_within(start + 1..start + 1 + stride, (row + offset) * stride);
        }
        let (above, rest) = data.split_at_mut(row * stride);
        let previous = match row {
            0 => zero_row.as_slice(),
            _ => &above[(row - 1) * stride..],
        };
        let (first, rest) = rest.split_at_mut(stride);
        if pair == 2 {
            unfilter_pair(filters, bpp, previous, first, &mut rest[..stride]);
        } else {
            unfilter(filters[0], bpp, previous, first);
        }
        row += pair;
    }
    data.truncate(rows * stride);
    Some(())
}

/// Walks the chunks up to the end of the image data, checking each CRC, and
/// returns the header and the IDAT payloads in order.
fn read_chunks(bytes: &[u8]) -> Option<(Header, Vec<&[u8]>)> {
    let mut rest = bytes.strip_prefix(SIGNATURE)?;
    let mut header = None;
    let mut idat = Vec::new();
    loop {
        let (kind, data, after) = split_chunk(rest)?;
        rest = after;
        match &kind {
            b"IHDR" if header.is_none() => header = Some(parse_header(data)?),
            // Before the header, or a second header.
            b"IHDR" => return None,
            _ if header.is_none() => return None,
            b"IDAT" => idat.push(data),
            // The image data ends with the first chunk after the IDATs.
            _ if !idat.is_empty() => break,
            // A transparency key becomes an alpha channel: the `png` crate's job.
            b"tRNS" => return None,
            // A suggested palette for a truecolour image changes nothing.
            b"PLTE" => {}
            // An unknown critical chunk (upper-case first letter).
            [first, ..] if first.is_ascii_uppercase() => return None,
            _ => {}
        }
    }
    Some((header?, idat))
}

/// Splits the first chunk off `bytes`: its type, its data and what follows,
/// or `None` if it is truncated or its CRC does not match.
fn split_chunk(bytes: &[u8]) -> Option<([u8; 4], &[u8], &[u8])> {
    let length = usize::try_from(u32::from_be_bytes(bytes.get(..4)?.try_into().ok()?)).ok()?;
    let data_end = length.checked_add(8)?;
    let typed_data = bytes.get(4..data_end)?;
    let crc = u32::from_be_bytes(bytes.get(data_end..data_end + 4)?.try_into().ok()?);
    if crc32fast::hash(typed_data) != crc {
        return None;
    }
    let kind = typed_data.get(..4)?.try_into().ok()?;
    Some((kind, &typed_data[4..], &bytes[data_end + 4..]))
}

fn parse_header(data: &[u8]) -> Option<Header> {
    let fields: &[u8; 13] = data.try_into().ok()?;
    let width = u32::from_be_bytes(fields[0..4].try_into().ok()?);
    let height = u32::from_be_bytes(fields[4..8].try_into().ok()?);
    let [bit_depth, color_type, compression, filter_method, interlace] =
        [fields[8], fields[9], fields[10], fields[11], fields[12]];
    let layout = match color_type {
        0 => Layout::Gray,
        2 => Layout::Rgb,
        4 => Layout::GrayAlpha,
        6 => Layout::Rgba,
        // Palette images, or invalid colour types.
        _ => return None,
    };
    let supported = bit_depth == 8 && compression == 0 && filter_method == 0 && interlace == 0;
    (supported && width > 0 && height > 0).then_some(Header {
        width,
        height,
        layout,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use std::io::Cursor;

    use super::*;

    /// Noisy photo-like samples, so every filter type gets real work.
    fn samples(width: u32, height: u32, channels: usize) -> Vec<u8> {
        let mut state = 0x9E37_79B9_u32;
        let mut out = Vec::new();
        for y in 0..height {
            for x in 0..width {
                for c in 0..channels {
                    state ^= state << 13;
                    state ^= state >> 17;
                    state ^= state << 5;
                    let smooth = (x * 3 + y * 2) as usize + c * 50;
                    out.push((smooth + (state % 9) as usize) as u8);
                }
            }
        }
        out
    }

    fn encode(
        width: u32,
        height: u32,
        color: png::ColorType,
        filter: png::Filter,
        chunk_size: Option<usize>,
    ) -> (Vec<u8>, Vec<u8>) {
        let channels = color.samples();
        let pixels = samples(width, height, channels);
        let mut out = Vec::new();
        {
            let mut encoder = png::Encoder::new(&mut out, width, height);
            encoder.set_color(color);
            encoder.set_depth(png::BitDepth::Eight);
            encoder.set_filter(filter);
            let mut writer = encoder.write_header().unwrap();
            match chunk_size {
                Some(size) => {
                    let mut stream = writer.stream_writer_with_size(size).unwrap();
                    std::io::Write::write_all(&mut stream, &pixels).unwrap();
                    stream.finish().unwrap();
                }
                None => writer.write_image_data(&pixels).unwrap(),
            }
        }
        (out, pixels)
    }

    /// The `png` crate's decode of the same file, for comparison.
    fn png_crate_decode(bytes: &[u8]) -> Vec<u8> {
        let mut reader = png::Decoder::new(Cursor::new(bytes)).read_info().unwrap();
        let mut data = vec![0; reader.output_buffer_size().unwrap()];
        let frame = reader.next_frame(&mut data).unwrap();
        data.truncate(frame.buffer_size());
        data
    }

    #[test]
    fn decodes_every_supported_colour_type_and_filter_like_the_png_crate() {
        let colours = [
            (png::ColorType::Grayscale, Layout::Gray),
            (png::ColorType::GrayscaleAlpha, Layout::GrayAlpha),
            (png::ColorType::Rgb, Layout::Rgb),
            (png::ColorType::Rgba, Layout::Rgba),
        ];
        let filters = [
            png::Filter::NoFilter,
            png::Filter::Sub,
            png::Filter::Up,
            png::Filter::Avg,
            png::Filter::Paeth,
            png::Filter::Adaptive,
        ];
        for (color, layout) in colours {
            for filter in filters {
                for (width, height) in [(1, 1), (5, 3), (37, 19)] {
                    let (bytes, pixels) = encode(width, height, color, filter, None);
                    let decoded = decode(&bytes, u64::MAX)
                        .unwrap_or_else(|| panic!("{color:?} {filter:?} {width}x{height}"));
                    assert_eq!((decoded.width, decoded.height), (width, height));
                    assert_eq!(decoded.layout, layout);
                    assert_eq!(
                        decoded.data, pixels,
                        "{color:?} {filter:?} {width}x{height}"
                    );
                    assert_eq!(decoded.data, png_crate_decode(&bytes));
                }
            }
        }
    }

    #[test]
    fn decodes_files_written_by_another_encoder_like_the_png_crate() {
        // Pillow (zlib levels 0, 1, 6 and 9, adaptive filtering); see the fixtures' README.
        let fixtures: [(&[u8], Layout); 4] = [
            (
                include_bytes!("../../tests/fixtures/pillow/rgb-level6.png"),
                Layout::Rgb,
            ),
            (
                include_bytes!("../../tests/fixtures/pillow/rgba-level9.png"),
                Layout::Rgba,
            ),
            (
                include_bytes!("../../tests/fixtures/pillow/gray-level1.png"),
                Layout::Gray,
            ),
            (
                include_bytes!("../../tests/fixtures/pillow/gray-alpha-stored.png"),
                Layout::GrayAlpha,
            ),
        ];
        for (bytes, layout) in fixtures {
            let decoded = decode(bytes, u64::MAX).expect("takes the fast path");
            assert_eq!(
                (decoded.width, decoded.height, decoded.layout),
                (64, 48, layout)
            );
            assert_eq!(decoded.data, png_crate_decode(bytes), "{layout:?}");
        }
    }

    #[test]
    fn joins_image_data_split_over_many_chunks() {
        let (bytes, pixels) = encode(64, 48, png::ColorType::Rgb, png::Filter::Adaptive, Some(97));
        let idat_chunks = bytes.windows(4).filter(|window| window == b"IDAT").count();
        assert!(idat_chunks > 10, "only {idat_chunks} IDAT chunks");
        assert_eq!(decode(&bytes, u64::MAX).unwrap().data, pixels);
    }

    #[test]
    fn declines_what_the_png_crate_should_handle() {
        let (rgb, _) = encode(8, 8, png::ColorType::Rgb, png::Filter::Paeth, None);
        // Over the pixel limit: the caller reports it before decoding.
        assert!(decode(&rgb, 63).is_none());
        assert!(decode(&rgb, 64).is_some());

        // Palette, 16-bit and interlaced images.
        let mut palette = Vec::new();
        let mut encoder = png::Encoder::new(&mut palette, 2, 1);
        encoder.set_color(png::ColorType::Indexed);
        encoder.set_palette(vec![0, 0, 0, 255, 255, 255]);
        let mut writer = encoder.write_header().unwrap();
        writer.write_image_data(&[0, 1]).unwrap();
        drop(writer);
        assert!(decode(&palette, u64::MAX).is_none());

        let mut sixteen = Vec::new();
        let mut encoder = png::Encoder::new(&mut sixteen, 1, 1);
        encoder.set_color(png::ColorType::Grayscale);
        encoder.set_depth(png::BitDepth::Sixteen);
        let mut writer = encoder.write_header().unwrap();
        writer.write_image_data(&[1, 2]).unwrap();
        drop(writer);
        assert!(decode(&sixteen, u64::MAX).is_none());

        let mut interlaced = rgb.clone();
        interlaced[8 + 8 + 12] = 1;
        fix_crc(&mut interlaced, 8);
        assert!(decode(&interlaced, u64::MAX).is_none());

        // A transparency key.
        let mut keyed = Vec::new();
        let mut encoder = png::Encoder::new(&mut keyed, 1, 1);
        encoder.set_color(png::ColorType::Rgb);
        encoder.set_trns(vec![0, 0, 0, 0, 0, 0]);
        let mut writer = encoder.write_header().unwrap();
        writer.write_image_data(&[0, 0, 0]).unwrap();
        drop(writer);
        assert!(decode(&keyed, u64::MAX).is_none());
    }

    /// Recomputes the CRC of the chunk starting at `offset`.
    fn fix_crc(bytes: &mut [u8], offset: usize) {
        let length = u32::from_be_bytes(bytes[offset..offset + 4].try_into().unwrap()) as usize;
        let crc = crc32fast::hash(&bytes[offset + 4..offset + 8 + length]);
        bytes[offset + 8 + length..offset + 12 + length].copy_from_slice(&crc.to_be_bytes());
    }

    #[test]
    fn declines_broken_files_so_the_png_crate_can_name_the_problem() {
        let (bytes, _) = encode(16, 16, png::ColorType::Rgb, png::Filter::Adaptive, None);
        assert!(decode(&bytes, u64::MAX).is_some());

        // Truncated anywhere.
        for cut in [0, 7, 8, 20, 33, 40, bytes.len() - 13, bytes.len() - 1] {
            assert!(decode(&bytes[..cut], u64::MAX).is_none(), "cut at {cut}");
        }
        // A flipped bit in the image data fails the chunk CRC.
        let mut flipped = bytes.clone();
        flipped[8 + 25 + 10] ^= 0x10;
        assert!(decode(&flipped, u64::MAX).is_none());

        // The same flip with a recomputed CRC fails inside the zlib stream
        // (its Adler-32 or its structure).
        fix_crc(&mut flipped, 8 + 25);
        assert!(decode(&flipped, u64::MAX).is_none());

        // An invalid filter type byte.
        let pixels = samples(4, 2, 3);
        let mut raw = Vec::new();
        for row in pixels.chunks(12) {
            raw.push(7);
            raw.extend_from_slice(row);
        }
        let stream = libdeflater::Compressor::new(libdeflater::CompressionLvl::default());
        let mut stream = stream;
        let mut zlib = vec![0; stream.zlib_compress_bound(raw.len())];
        let size = stream.zlib_compress(&raw, &mut zlib).unwrap();
        zlib.truncate(size);
        let mut file = SIGNATURE.to_vec();
        push_chunk(&mut file, b"IHDR", &[0, 0, 0, 4, 0, 0, 0, 2, 8, 2, 0, 0, 0]);
        push_chunk(&mut file, b"IDAT", &zlib);
        push_chunk(&mut file, b"IEND", &[]);
        assert!(decode(&file, u64::MAX).is_none());
        // The same rows with filter type 0 decode.
        for row in 0..2 {
            raw[row * 13] = 0;
        }
        let size = stream.zlib_compress(&raw, &mut zlib).unwrap();
        let mut file = SIGNATURE.to_vec();
        push_chunk(&mut file, b"IHDR", &[0, 0, 0, 4, 0, 0, 0, 2, 8, 2, 0, 0, 0]);
        push_chunk(&mut file, b"IDAT", &zlib[..size]);
        push_chunk(&mut file, b"IEND", &[]);
        assert_eq!(decode(&file, u64::MAX).unwrap().data, pixels);
    }

    fn push_chunk(file: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
        file.extend_from_slice(&(data.len() as u32).to_be_bytes());
        let start = file.len();
        file.extend_from_slice(kind);
        file.extend_from_slice(data);
        let crc = crc32fast::hash(&file[start..]);
        file.extend_from_slice(&crc.to_be_bytes());
    }
}
