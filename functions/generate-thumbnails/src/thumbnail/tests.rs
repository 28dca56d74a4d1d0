//! End-to-end tests of `make_thumbnails` on images generated in code.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Cursor;

use image::{DynamicImage, ImageFormat};

use super::*;

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

fn decode_output(thumbnail: &Thumbnail, format: ImageFormat) -> DynamicImage {
    assert_eq!(image::guess_format(&thumbnail.bytes).unwrap(), format);
    let image = image::load_from_memory_with_format(&thumbnail.bytes, format).unwrap();
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
        decode_output(thumb, ImageFormat::Jpeg);
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
        decode_output(thumb, ImageFormat::Jpeg);
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
        decode_output(thumb, ImageFormat::Jpeg);
    }
    let (_, thumbs) = make_thumbnails(&rgb_png(1000, 1), &ThumbnailSpec::default()).unwrap();
    assert_eq!(dims(&thumbs), [(128, 128, 1), (256, 256, 1), (512, 512, 1)]);
}

#[test]
fn every_output_format_decodes_back() {
    let source = rgb_png(640, 480);
    for (format, image_format) in [
        (ThumbnailFormat::Jpeg, ImageFormat::Jpeg),
        (ThumbnailFormat::Png, ImageFormat::Png),
        (ThumbnailFormat::WebP, ImageFormat::WebP),
    ] {
        let spec = ThumbnailSpec {
            format,
            ..Default::default()
        };
        let (_, thumbs) = make_thumbnails(&source, &spec).unwrap();
        assert_eq!(
            dims(&thumbs),
            [(128, 128, 96), (256, 256, 192), (512, 512, 384)]
        );
        for thumb in &thumbs {
            decode_output(thumb, image_format);
        }
    }
}

#[test]
fn resized_colours_match_the_source() {
    // A flat colour must stay that colour through Lanczos3 and JPEG.
    let mut source = Vec::new();
    let flat = image::RgbImage::from_pixel(400, 300, image::Rgb([200, 120, 40]));
    DynamicImage::ImageRgb8(flat)
        .write_to(&mut Cursor::new(&mut source), ImageFormat::Png)
        .unwrap();
    let (_, thumbs) = make_thumbnails(&source, &ThumbnailSpec::default()).unwrap();
    let thumb = decode_output(&thumbs[0], ImageFormat::Jpeg).into_rgb8();
    let centre = thumb.get_pixel(thumb.width() / 2, thumb.height() / 2).0;
    for (got, want) in centre.iter().zip([200u8, 120, 40]) {
        assert!(got.abs_diff(want) <= 4, "{centre:?}");
    }
}

#[test]
fn quality_changes_jpeg_size() {
    let source = rgb_png(512, 512);
    let size_at = |quality| {
        let spec = ThumbnailSpec {
            sizes: vec![256],
            quality,
            ..Default::default()
        };
        make_thumbnails(&source, &spec).unwrap().1[0].bytes.len()
    };
    assert!(size_at(30) < size_at(95));
}

#[test]
fn rgba_source_is_flattened_over_white_for_jpeg_and_keeps_alpha_otherwise() {
    let source = png_image(400, 200, png::ColorType::Rgba, png::BitDepth::Eight);
    let spec = ThumbnailSpec {
        sizes: vec![128],
        ..Default::default()
    };
    let (_, thumbs) = make_thumbnails(&source, &spec).unwrap();
    let jpeg = decode_output(&thumbs[0], ImageFormat::Jpeg).into_rgb8();
    // The right half is fully transparent, so it becomes white.
    let right = jpeg.get_pixel(120, 32).0;
    assert!(right.iter().all(|&v| v >= 250), "{right:?}");

    for (format, image_format) in [
        (ThumbnailFormat::Png, ImageFormat::Png),
        (ThumbnailFormat::WebP, ImageFormat::WebP),
    ] {
        let spec = ThumbnailSpec {
            sizes: vec![128],
            format,
            ..Default::default()
        };
        let (_, thumbs) = make_thumbnails(&source, &spec).unwrap();
        let decoded = decode_output(&thumbs[0], image_format);
        assert!(decoded.color().has_alpha(), "{format} keeps alpha");
        let rgba = decoded.into_rgba8();
        assert_eq!(rgba.get_pixel(120, 32).0[3], 0);
        assert_eq!(rgba.get_pixel(8, 32).0[3], 255);
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
        for (format, image_format) in [
            (ThumbnailFormat::Jpeg, ImageFormat::Jpeg),
            (ThumbnailFormat::Png, ImageFormat::Png),
            (ThumbnailFormat::WebP, ImageFormat::WebP),
        ] {
            let spec = ThumbnailSpec {
                format,
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
                let decoded = decode_output(thumb, image_format);
                if format == ThumbnailFormat::WebP {
                    // WebP stores no grey mode: lossless RGB with equal channels.
                    let grey = decoded
                        .into_rgb8()
                        .pixels()
                        .all(|p| p[0] == p[1] && p[1] == p[2]);
                    assert!(grey, "{color:?} {depth:?} -> webp stays grey");
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
            format: ThumbnailFormat::Png,
            ..Default::default()
        };
        let (_, thumbs) = make_thumbnails(&source, &spec).unwrap();
        assert_eq!(
            dims(&thumbs),
            [(128, 128, 96), (256, 256, 192), (512, 320, 240)]
        );
        for thumb in &thumbs {
            let decoded = decode_output(thumb, ImageFormat::Png);
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
            decode_output(thumb, ImageFormat::Jpeg);
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
        quality: 0,
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
        let source = decode::decode(
            &png_image(1024, 768, color, png::BitDepth::Eight),
            MAX_SOURCE_PIXELS,
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
        decode_output(thumb, ImageFormat::Jpeg);
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
