//! End-to-end tests of `make_thumbnails` on images generated in code.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Cursor;

use image::{DynamicImage, ImageFormat};

use super::*;

mod avif;

use ThumbnailFormat::{Avif, Jpeg, Png, WebP};

/// A deterministic photo-like sample (smooth gradients plus fine detail) for
/// pixel `(x, y)` and channel `c`, scaled to `max`.
fn sample(x: u32, y: u32, c: u32, max: u32) -> u32 {
    let smooth = (x * 3 + y * 2 + c * 40) % 256;
    let detail = ((x * 7) ^ (y * 13) ^ (c * 29)) % 32;
    (smooth * 7 / 8 + detail) * max / 255
}

/// Encodes a generated PNG with the given colour type and bit depth.
fn png_image(width: u32, height: u32, color: png::ColorType, depth: png::BitDepth) -> Vec<u8> {
    let channels = match color {
        png::ColorType::Grayscale | png::ColorType::Indexed => 1,
        png::ColorType::GrayscaleAlpha => 2,
        png::ColorType::Rgb => 3,
        png::ColorType::Rgba => 4,
    };
    let sixteen = depth == png::BitDepth::Sixteen;
    let mut data = Vec::new();
    for y in 0..height {
        for x in 0..width {
            for c in 0..channels {
                let is_alpha =
                    matches!(color, png::ColorType::GrayscaleAlpha | png::ColorType::Rgba)
                        && c == channels - 1;
                let max = if sixteen { 65535 } else { 255 };
                // Left half opaque, right half fully transparent.
                let value = if is_alpha {
                    if x < width / 2 { max } else { 0 }
                } else if color == png::ColorType::Indexed {
                    (x + y) % 4
                } else {
                    sample(x, y, c, max)
                };
                if sixteen {
                    data.extend_from_slice(&(value as u16).to_be_bytes());
                } else {
                    data.push(value as u8);
                }
            }
        }
    }
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, width, height);
    encoder.set_color(color);
    encoder.set_depth(depth);
    if color == png::ColorType::Indexed {
        encoder.set_palette(vec![255, 0, 0, 0, 255, 0, 0, 0, 255, 255, 255, 255]);
    }
    let mut writer = encoder.write_header().unwrap();
    writer.write_image_data(&data).unwrap();
    writer.finish().unwrap();
    out
}

fn rgb_png(width: u32, height: u32) -> Vec<u8> {
    png_image(width, height, png::ColorType::Rgb, png::BitDepth::Eight)
}

fn encode_with_image(bytes: &[u8], format: ImageFormat) -> Vec<u8> {
    let image = image::load_from_memory(bytes).unwrap();
    let mut out = Cursor::new(Vec::new());
    image.write_to(&mut out, format).unwrap();
    out.into_inner()
}

/// Decodes a thumbnail with a decoder that shares no code with its encoder (the `image` crate's
/// zune-jpeg, png and image-webp; libavif's avifdec) and checks its dimensions.
fn decode_output(thumbnail: &Thumbnail) -> DynamicImage {
    let format = match thumbnail.format {
        ThumbnailFormat::Avif => {
            assert_eq!(&thumbnail.bytes[4..12], b"ftypavif");
            let image = avif::decode(&thumbnail.bytes);
            return checked_dimensions(thumbnail, image);
        }
        ThumbnailFormat::Jpeg => ImageFormat::Jpeg,
        ThumbnailFormat::Png => ImageFormat::Png,
        ThumbnailFormat::WebP => ImageFormat::WebP,
    };
    assert_eq!(image::guess_format(&thumbnail.bytes).unwrap(), format);
    let image = image::load_from_memory_with_format(&thumbnail.bytes, format).unwrap();
    checked_dimensions(thumbnail, image)
}

fn checked_dimensions(thumbnail: &Thumbnail, image: DynamicImage) -> DynamicImage {
    assert_eq!(
        (image.width(), image.height()),
        (thumbnail.width, thumbnail.height),
        "encoded dimensions of the {} px thumbnail",
        thumbnail.size
    );
    image
}

fn dims(thumbnails: &[Thumbnail]) -> Vec<(u32, u32, u32)> {
    thumbnails
        .iter()
        .map(|t| (t.size, t.width, t.height))
        .collect()
}

#[test]
fn square_source() {
    let (info, thumbs) = make_thumbnails(&rgb_png(600, 600), &ThumbnailSpec::default()).unwrap();
    assert_eq!(
        info,
        SourceInfo {
            width: 600,
            height: 600
        }
    );
    assert_eq!(
        dims(&thumbs),
        [(128, 128, 128), (256, 256, 256), (512, 512, 512)]
    );
    for thumb in &thumbs {
        decode_output(thumb);
    }
}

#[test]
fn landscape_source() {
    let (_, thumbs) = make_thumbnails(&rgb_png(800, 450), &ThumbnailSpec::default()).unwrap();
    assert_eq!(
        dims(&thumbs),
        [(128, 128, 72), (256, 256, 144), (512, 512, 288)]
    );
}

#[test]
fn portrait_source() {
    let (_, thumbs) = make_thumbnails(&rgb_png(450, 800), &ThumbnailSpec::default()).unwrap();
    assert_eq!(
        dims(&thumbs),
        [(128, 72, 128), (256, 144, 256), (512, 288, 512)]
    );
}

#[test]
fn tiny_source_is_never_upscaled() {
    let (info, thumbs) = make_thumbnails(&rgb_png(64, 48), &ThumbnailSpec::default()).unwrap();
    assert_eq!(
        info,
        SourceInfo {
            width: 64,
            height: 48
        }
    );
    assert_eq!(dims(&thumbs), [(128, 64, 48), (256, 64, 48), (512, 64, 48)]);
    for thumb in &thumbs {
        decode_output(thumb);
    }
}

#[test]
fn source_between_sizes_is_resized_only_where_larger() {
    let (_, thumbs) = make_thumbnails(&rgb_png(300, 200), &ThumbnailSpec::default()).unwrap();
    assert_eq!(
        dims(&thumbs),
        [(128, 128, 85), (256, 256, 171), (512, 300, 200)]
    );
}

#[test]
fn one_pixel_wide_and_one_pixel_high_sources() {
    let (_, thumbs) = make_thumbnails(&rgb_png(1, 1000), &ThumbnailSpec::default()).unwrap();
    assert_eq!(dims(&thumbs), [(128, 1, 128), (256, 1, 256), (512, 1, 512)]);
    for thumb in &thumbs {
        decode_output(thumb);
    }
    let (_, thumbs) = make_thumbnails(&rgb_png(1000, 1), &ThumbnailSpec::default()).unwrap();
    assert_eq!(dims(&thumbs), [(128, 128, 1), (256, 256, 1), (512, 512, 1)]);
}

#[test]
fn every_output_format_decodes_back() {
    let source = rgb_png(640, 480);
    let spec = ThumbnailSpec {
        formats: vec![Avif, WebP, Jpeg, Png],
        ..Default::default()
    };
    let (_, thumbs) = make_thumbnails(&source, &spec).unwrap();
    let made: Vec<_> = thumbs.iter().map(|t| (t.size, t.format)).collect();
    assert_eq!(
        made,
        [128, 256, 512]
            .into_iter()
            .flat_map(|size| spec.formats.iter().map(move |&f| (size, f)))
            .collect::<Vec<_>>(),
        "size by size, each in the order of the formats"
    );
    // The reference: the same Lanczos3 thumbnails, losslessly.
    let lossless: Vec<_> = thumbs
        .iter()
        .filter(|t| t.format == Png)
        .map(|t| decode_output(t).into_rgb8())
        .collect();
    for thumb in &thumbs {
        assert_eq!(
            (thumb.width, thumb.height),
            fit(640, 480, thumb.size),
            "{} {} px",
            thumb.format,
            thumb.size
        );
        let decoded = decode_output(thumb).into_rgb8();
        let reference = &lossless[[128, 256, 512]
            .iter()
            .position(|&s| s == thumb.size)
            .unwrap()];
        let (psnr, _) = psnr_and_max_diff(decoded.as_raw(), reference.as_raw());
        // Each lossy format at its default quality stays near the lossless thumbnail. The
        // sample's fine XOR detail is what lossy codecs drop first (JPEG at 80: 21-26 dB here,
        // the least of the three); a misread file (swapped planes, shifted rows) is far lower.
        assert!(
            psnr > 20.0,
            "{} {} px: PSNR {psnr:.1} dB against the lossless thumbnail",
            thumb.format,
            thumb.size
        );
    }
}

/// The expected dimensions, computed here rather than by `geometry.rs`.
fn fit(width: u32, height: u32, size: u32) -> (u32, u32) {
    let longest = width.max(height);
    if longest <= size {
        return (width, height);
    }
    let scale = |side: u32| {
        ((f64::from(side) * f64::from(size) / f64::from(longest)).round() as u32).max(1)
    };
    (scale(width), scale(height))
}

#[test]
fn resized_colours_match_the_source() {
    // A flat colour must stay that colour through Lanczos3 and every encoder and decoder.
    let mut source = Vec::new();
    let flat = image::RgbImage::from_pixel(400, 300, image::Rgb([200, 120, 40]));
    DynamicImage::ImageRgb8(flat)
        .write_to(&mut Cursor::new(&mut source), ImageFormat::Png)
        .unwrap();
    let spec = ThumbnailSpec {
        formats: ThumbnailFormat::ALL.to_vec(),
        ..Default::default()
    };
    let (_, thumbs) = make_thumbnails(&source, &spec).unwrap();
    for thumb in &thumbs {
        let decoded = decode_output(thumb).into_rgb8();
        let centre = decoded
            .get_pixel(decoded.width() / 2, decoded.height() / 2)
            .0;
        for (got, want) in centre.iter().zip([200u8, 120, 40]) {
            assert!(got.abs_diff(want) <= 4, "{} {centre:?}", thumb.format);
        }
    }
}

#[test]
fn quality_changes_the_size_of_each_lossy_format() {
    let source = rgb_png(512, 512);
    let size_at = |quality| {
        let spec = ThumbnailSpec {
            sizes: vec![256],
            formats: vec![Jpeg, WebP, Avif],
            quality: Qualities {
                jpeg: quality,
                webp: quality,
                avif: quality,
            },
        };
        let (_, thumbs) = make_thumbnails(&source, &spec).unwrap();
        thumbs.iter().map(|t| t.bytes.len()).collect::<Vec<_>>()
    };
    let (low, high) = (size_at(30), size_at(95));
    for (format, (low, high)) in [Jpeg, WebP, Avif].iter().zip(low.iter().zip(&high)) {
        assert!(low < high, "{format}: {low} bytes at 30, {high} at 95");
    }
}

#[test]
fn rgba_source_is_flattened_over_white_for_jpeg_and_keeps_alpha_otherwise() {
    let source = png_image(400, 200, png::ColorType::Rgba, png::BitDepth::Eight);
    let spec = ThumbnailSpec {
        sizes: vec![128],
        ..Default::default()
    };
    let (_, thumbs) = make_thumbnails(&source, &spec).unwrap();
    let jpeg = decode_output(&thumbs[0]).into_rgb8();
    // The right half is fully transparent, so it becomes white.
    let right = jpeg.get_pixel(120, 32).0;
    assert!(right.iter().all(|&v| v >= 250), "{right:?}");

    for format in [Png, WebP, Avif] {
        let spec = ThumbnailSpec {
            sizes: vec![128],
            formats: vec![format],
            ..Default::default()
        };
        let (_, thumbs) = make_thumbnails(&source, &spec).unwrap();
        let decoded = decode_output(&thumbs[0]);
        assert!(decoded.color().has_alpha(), "{format} keeps alpha");
        let rgba = decoded.into_rgba8();
        assert_eq!(rgba.get_pixel(120, 32).0[3], 0, "{format}");
        assert_eq!(rgba.get_pixel(8, 32).0[3], 255, "{format}");
    }
}

#[test]
fn grayscale_sources() {
    for (color, depth) in [
        (png::ColorType::Grayscale, png::BitDepth::Eight),
        (png::ColorType::Grayscale, png::BitDepth::Sixteen),
        (png::ColorType::GrayscaleAlpha, png::BitDepth::Eight),
    ] {
        let source = png_image(300, 300, color, depth);
        for format in ThumbnailFormat::ALL {
            let spec = ThumbnailSpec {
                formats: vec![format],
                ..Default::default()
            };
            let (info, thumbs) = make_thumbnails(&source, &spec).unwrap();
            assert_eq!(
                info,
                SourceInfo {
                    width: 300,
                    height: 300
                }
            );
            assert_eq!(
                dims(&thumbs),
                [(128, 128, 128), (256, 256, 256), (512, 300, 300)]
            );
            for thumb in &thumbs {
                let decoded = decode_output(thumb);
                if matches!(format, WebP | Avif) {
                    // Neither stores a grey mode: equal channels, give or take the rounding
                    // of the decoder's YCbCr conversion.
                    let grey = decoded
                        .into_rgb8()
                        .pixels()
                        .all(|p| p[0].abs_diff(p[1]) <= 2 && p[1].abs_diff(p[2]) <= 2);
                    assert!(grey, "{color:?} {depth:?} -> {format} stays grey");
                } else {
                    assert!(
                        !decoded.color().has_color(),
                        "{color:?} {depth:?} -> {format} stays grey"
                    );
                }
            }
        }
    }
}

#[test]
fn sixteen_bit_sources_are_reduced_to_eight_bits() {
    for color in [png::ColorType::Rgb, png::ColorType::Rgba] {
        let source = png_image(320, 240, color, png::BitDepth::Sixteen);
        let spec = ThumbnailSpec {
            formats: vec![Png],
            ..Default::default()
        };
        let (_, thumbs) = make_thumbnails(&source, &spec).unwrap();
        assert_eq!(
            dims(&thumbs),
            [(128, 128, 96), (256, 256, 192), (512, 320, 240)]
        );
        for thumb in &thumbs {
            let decoded = decode_output(thumb);
            assert_eq!(
                decoded.color().bytes_per_pixel() / decoded.color().channel_count(),
                1
            );
        }
    }
}

#[test]
fn palette_source() {
    let source = png_image(200, 100, png::ColorType::Indexed, png::BitDepth::Eight);
    let (_, thumbs) = make_thumbnails(&source, &ThumbnailSpec::default()).unwrap();
    assert_eq!(
        dims(&thumbs),
        [(128, 128, 64), (256, 200, 100), (512, 200, 100)]
    );
}

#[test]
fn jpeg_and_webp_sources() {
    let png = rgb_png(500, 250);
    for format in [ImageFormat::Jpeg, ImageFormat::WebP] {
        let source = encode_with_image(&png, format);
        let (info, thumbs) = make_thumbnails(&source, &ThumbnailSpec::default()).unwrap();
        assert_eq!(
            info,
            SourceInfo {
                width: 500,
                height: 250
            },
            "{format:?}"
        );
        assert_eq!(
            dims(&thumbs),
            [(128, 128, 64), (256, 256, 128), (512, 500, 250)]
        );
        for thumb in &thumbs {
            decode_output(thumb);
        }
    }
}

fn assert_decode_error(source: &[u8], expected: &str) {
    match make_thumbnails(source, &ThumbnailSpec::default()) {
        Err(ThumbnailError::Decode(message)) => {
            assert!(
                message.contains(expected),
                "{message:?} should mention {expected:?}"
            )
        }
        other => panic!("expected a Decode error mentioning {expected:?}, got {other:?}"),
    }
}

#[test]
fn empty_text_and_unknown_sources_are_decode_errors() {
    assert_decode_error(b"", "empty");
    assert_decode_error(b"<Error><Code>NoSuchKey</Code></Error>", "text");
    assert_decode_error(b"GIF89a\x01\x00\x01\x00", "GIF");
    assert_decode_error(&[0x00, 0x13, 0x37, 0xff, 0x80], "00 13 37 ff 80");
}

#[test]
fn truncated_and_corrupt_sources_are_decode_errors() {
    let png = rgb_png(256, 256);
    assert_decode_error(&png[..8], "PNG");
    assert_decode_error(&png[..png.len() / 2], "PNG");
    let mut corrupt = png.clone();
    let middle = corrupt.len() / 2;
    for byte in &mut corrupt[middle..middle + 64] {
        *byte ^= 0x5a;
    }
    assert_decode_error(&corrupt, "PNG");

    let jpeg = encode_with_image(&png, ImageFormat::Jpeg);
    assert_decode_error(&jpeg[..3], "JPEG");
    let webp = encode_with_image(&png, ImageFormat::WebP);
    assert_decode_error(&webp[..16], "WebP");
    assert_decode_error(&webp[..webp.len() / 2], "WebP");
}

#[test]
fn never_panics_on_mangled_inputs() {
    let png = rgb_png(96, 64);
    let sources = [
        png.clone(),
        encode_with_image(&png, ImageFormat::Jpeg),
        encode_with_image(&png, ImageFormat::WebP),
    ];
    // A small xorshift generator keeps the "fuzzing" deterministic.
    let mut state = 0x9e37_79b9_7f4a_7c15_u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let spec = ThumbnailSpec {
        sizes: vec![32, 4096],
        ..Default::default()
    };
    for source in &sources {
        for _ in 0..60 {
            let mut mangled = source.clone();
            mangled.truncate((next() % (source.len() as u64 + 1)) as usize);
            for _ in 0..(next() % 4) {
                if !mangled.is_empty() {
                    let at = (next() % mangled.len() as u64) as usize;
                    mangled[at] = next() as u8;
                }
            }
            // Any outcome but a panic is fine.
            let _ = make_thumbnails(&mangled, &spec);
        }
    }
    for len in [1, 7, 100, 5000] {
        let random: Vec<u8> = (0..len).map(|_| next() as u8).collect();
        assert!(matches!(
            make_thumbnails(&random, &spec),
            Err(ThumbnailError::Decode(_))
        ));
    }
}

/// A PNG that is only a signature and an IHDR chunk announcing `width` x `height`.
fn png_header_only(width: u32, height: u32) -> Vec<u8> {
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, width, height);
    encoder.set_color(png::ColorType::Rgb);
    drop(encoder.write_header().unwrap());
    out
}

#[test]
fn oversized_sources_are_rejected_before_decoding() {
    let bomb = png_header_only(10_000, 10_000);
    assert!(bomb.len() < 100, "only a header: {} bytes", bomb.len());
    assert_eq!(
        make_thumbnails(&bomb, &ThumbnailSpec::default()),
        Err(ThumbnailError::TooLarge {
            width: 10_000,
            height: 10_000,
            pixels: 100_000_000,
            limit: MAX_SOURCE_PIXELS,
        })
    );
    // Exactly at the limit passes the guard (and then fails on the missing data).
    let at_limit = png_header_only(8192, 8192);
    assert!(matches!(
        make_thumbnails(&at_limit, &ThumbnailSpec::default()),
        Err(ThumbnailError::Decode(_))
    ));
}

#[test]
fn invalid_spec_is_reported_before_decoding() {
    let spec = ThumbnailSpec {
        sizes: vec![],
        ..Default::default()
    };
    assert!(matches!(
        make_thumbnails(b"garbage", &spec),
        Err(ThumbnailError::InvalidSpec(_))
    ));
    let spec = ThumbnailSpec {
        quality: Qualities {
            avif: 0,
            ..Default::default()
        },
        ..Default::default()
    };
    assert!(matches!(
        make_thumbnails(&rgb_png(8, 8), &spec),
        Err(ThumbnailError::InvalidSpec(_))
    ));
}

fn psnr_and_max_diff(a: &[u8], b: &[u8]) -> (f64, u8) {
    assert_eq!(a.len(), b.len());
    let squared: f64 = a
        .iter()
        .zip(b)
        .map(|(x, y)| (f64::from(*x) - f64::from(*y)).powi(2))
        .sum();
    let max = a
        .iter()
        .zip(b)
        .map(|(x, y)| x.abs_diff(*y))
        .max()
        .unwrap_or(0);
    let mse = squared / a.len() as f64;
    (10.0 * (255.0 * 255.0 / mse.max(1e-12)).log10(), max)
}

#[test]
fn cascaded_resizes_match_direct_resizes() {
    // The quality claim behind plan.rs: Lanczos3 512 -> 256 -> 128 stays within
    // a couple of levels of Lanczos3 from the source, for RGB and (premultiplied) RGBA.
    for color in [png::ColorType::Rgb, png::ColorType::Rgba] {
        let (_, source) = decode::decode(
            &png_image(1024, 768, color, png::BitDepth::Eight),
            MAX_SOURCE_PIXELS,
            512,
        )
        .unwrap();
        let mut resizer = resize::ThumbnailResizer::new();
        let (mut larger, mut direct, mut cascaded) = (Vec::new(), Vec::new(), Vec::new());
        resizer
            .resize(source.as_ref(), 512, 384, &mut larger)
            .unwrap();
        for (w, h) in [(256, 192), (128, 96)] {
            resizer.resize(source.as_ref(), w, h, &mut direct).unwrap();
            let from = pixels::PixelsRef {
                width: 512,
                height: 384,
                layout: source.layout,
                data: &larger,
            };
            resizer.resize(from, w, h, &mut cascaded).unwrap();
            // Colour under (near-)zero alpha is invisible; compare what is seen.
            let visible = |pixels: &[u8]| -> Vec<u8> {
                if !source.layout.has_alpha() {
                    return pixels.to_vec();
                }
                pixels
                    .chunks_exact(4)
                    .flat_map(|p| {
                        let a = u16::from(p[3]);
                        let pre = |c: u8| ((u16::from(c) * a + 127) / 255) as u8;
                        [pre(p[0]), pre(p[1]), pre(p[2]), p[3]]
                    })
                    .collect()
            };
            let (psnr, max) = psnr_and_max_diff(&visible(&direct), &visible(&cascaded));
            assert!(
                psnr > 45.0 && max <= 4,
                "{color:?} {w}x{h}: PSNR {psnr:.1} dB, max diff {max}"
            );
        }
    }
}

#[test]
fn thumbnails_are_returned_in_spec_order() {
    let spec = ThumbnailSpec {
        sizes: vec![64, 512, 128, 300],
        ..Default::default()
    };
    let (_, thumbs) = make_thumbnails(&rgb_png(1024, 512), &spec).unwrap();
    assert_eq!(
        dims(&thumbs),
        [
            (64, 64, 32),
            (512, 512, 256),
            (128, 128, 64),
            (300, 300, 150)
        ]
    );
    for thumb in &thumbs {
        decode_output(thumb);
    }
}

#[test]
fn a_lower_pixel_limit_can_be_chosen() {
    let source = rgb_png(300, 200);
    let spec = ThumbnailSpec::default();
    assert!(make_thumbnails_with_limit(&source, &spec, 60_000).is_ok());
    assert_eq!(
        make_thumbnails_with_limit(&source, &spec, 59_999),
        Err(ThumbnailError::TooLarge {
            width: 300,
            height: 200,
            pixels: 60_000,
            limit: 59_999
        })
    );
}

/// A baseline JPEG of `rgb_png(width, height)` at quality 95, by mozjpeg.
fn rgb_jpeg(width: u32, height: u32) -> Vec<u8> {
    let (_, pixels) = decode::decode(&rgb_png(width, height), MAX_SOURCE_PIXELS, 4096).unwrap();
    encode::ThumbnailEncoder::new(Jpeg, Some(95))
        .encode(pixels.as_ref())
        .unwrap()
}

#[test]
fn jpeg_scale_keeps_twice_the_largest_thumbnail() {
    assert_eq!(decode::jpeg_scale(1024, 512), 8);
    assert_eq!(decode::jpeg_scale(1024, 256), 4);
    assert_eq!(decode::jpeg_scale(1024, 128), 2);
    assert_eq!(decode::jpeg_scale(1024, 64), 1);
    assert_eq!(decode::jpeg_scale(1024, 8), 1);
    // ceil(1000 * 5 / 8) = 625 >= 600.
    assert_eq!(decode::jpeg_scale(1000, 300), 5);
    assert_eq!(decode::jpeg_scale(100, 4096), 8);
}

#[test]
fn a_jpeg_source_is_decoded_at_the_size_its_thumbnails_need() {
    let jpeg = rgb_jpeg(1024, 1024);
    let (info, scaled) = decode::decode(&jpeg, MAX_SOURCE_PIXELS, 256).unwrap();
    assert_eq!((info.width, info.height), (1024, 1024));
    assert_eq!((scaled.width, scaled.height), (512, 512), "decoded at 4/8");
    let (_, full) = decode::decode(&jpeg, MAX_SOURCE_PIXELS, 512).unwrap();
    assert_eq!(
        (full.width, full.height),
        (1024, 1024),
        "512 px needs it all"
    );

    // The 256 px thumbnail from the 512 px decode matches the one from the full decode.
    let mut resizer = resize::ThumbnailResizer::new();
    let (mut from_scaled, mut from_full) = (Vec::new(), Vec::new());
    resizer
        .resize(scaled.as_ref(), 256, 256, &mut from_scaled)
        .unwrap();
    resizer
        .resize(full.as_ref(), 256, 256, &mut from_full)
        .unwrap();
    let (psnr, _) = psnr_and_max_diff(&from_scaled, &from_full);
    assert!(psnr > 40.0, "PSNR {psnr:.1} dB against a full-size decode");

    let spec = ThumbnailSpec {
        sizes: vec![256, 64],
        ..Default::default()
    };
    let (info, thumbs) = make_thumbnails(&jpeg, &spec).unwrap();
    assert_eq!((info.width, info.height), (1024, 1024));
    assert_eq!(dims(&thumbs), [(256, 256, 256), (64, 64, 64)]);
    // Stored as JPEG, it is as close to the full-decode thumbnail as that one's own JPEG is.
    let stored = decode_output(&thumbs[0]).into_rgb8();
    let (psnr, _) = psnr_and_max_diff(stored.as_raw(), &from_full);
    let full_jpeg = encode::ThumbnailEncoder::new(Jpeg, Some(80))
        .encode(pixels::PixelsRef {
            width: 256,
            height: 256,
            layout: full.layout,
            data: &from_full,
        })
        .unwrap();
    let full_jpeg = image::load_from_memory(&full_jpeg).unwrap().into_rgb8();
    let (full_psnr, _) = psnr_and_max_diff(full_jpeg.as_raw(), &from_full);
    assert!(
        psnr > full_psnr - 0.5,
        "PSNR {psnr:.2} dB from the scaled decode, {full_psnr:.2} dB from the full one"
    );
}

#[test]
fn a_scaled_jpeg_decode_keeps_the_source_geometry() {
    // 1000x333 at 2/8 decodes to 250x84 (libjpeg rounds up); the thumbnail is still
    // fitted to the full-size source: 100x33, not 100x34.
    let jpeg = rgb_jpeg(1000, 333);
    let (_, scaled) = decode::decode(&jpeg, MAX_SOURCE_PIXELS, 100).unwrap();
    assert_eq!((scaled.width, scaled.height), (250, 84));
    let spec = ThumbnailSpec {
        sizes: vec![100],
        ..Default::default()
    };
    let (_, thumbs) = make_thumbnails(&jpeg, &spec).unwrap();
    assert_eq!(dims(&thumbs), [(100, 100, 33)]);
    assert_eq!(fit(1000, 333, 100), (100, 33));
}

/// `jpeg` with an EXIF APP1 segment carrying `orientation` right after SOI.
fn with_exif_orientation(jpeg: &[u8], orientation: u8) -> Vec<u8> {
    let mut exif = b"Exif\0\0MM\0\x2a\0\0\0\x08\0\x01".to_vec();
    exif.extend_from_slice(&[0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, orientation, 0, 0]);
    exif.extend_from_slice(&[0, 0, 0, 0]);
    let length = u16::try_from(exif.len() + 2).unwrap().to_be_bytes();
    let mut out = jpeg[..2].to_vec();
    out.extend_from_slice(&[0xFF, 0xE1, length[0], length[1]]);
    out.extend_from_slice(&exif);
    out.extend_from_slice(&jpeg[2..]);
    out
}

#[test]
fn exif_orientation_of_a_jpeg_source_is_applied() {
    let jpeg = with_exif_orientation(&rgb_jpeg(400, 200), 6);
    for sizes in [vec![100], vec![300]] {
        let spec = ThumbnailSpec {
            sizes: sizes.clone(),
            ..Default::default()
        };
        let (info, thumbs) = make_thumbnails(&jpeg, &spec).unwrap();
        assert_eq!((info.width, info.height), (200, 400), "{sizes:?}");
        let size = sizes[0];
        assert_eq!(dims(&thumbs), [(size, size / 2, size)], "portrait");
        decode_output(&thumbs[0]);
    }
}

#[test]
fn an_oversized_jpeg_is_rejected_from_its_header() {
    let mut jpeg = rgb_jpeg(64, 48);
    // SOF0: FF C0, length (2), precision (1), height (2), width (2).
    let sof = jpeg.windows(2).position(|w| w == [0xFF, 0xC0]).unwrap();
    jpeg[sof + 5..sof + 9].copy_from_slice(&[0x27, 0x10, 0x27, 0x10]);
    assert_eq!(
        make_thumbnails(&jpeg, &ThumbnailSpec::default()),
        Err(ThumbnailError::TooLarge {
            width: 10_000,
            height: 10_000,
            pixels: 100_000_000,
            limit: MAX_SOURCE_PIXELS,
        })
    );
}

#[test]
fn a_corrupt_jpeg_is_a_decode_error() {
    let jpeg = rgb_jpeg(64, 48);
    assert_decode_error(&jpeg[..jpeg.len() / 3], "JPEG");
    let mut broken = jpeg.clone();
    let sof = broken.windows(2).position(|w| w == [0xFF, 0xC0]).unwrap();
    broken[sof + 9] = 7; // seven components
    assert_decode_error(&broken, "JPEG");
}
