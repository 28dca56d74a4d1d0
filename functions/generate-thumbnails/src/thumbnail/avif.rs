//! AVIF: AV1 by rav1e, in the AVIF container written by `avif-serialize`, set up the way libavif
//! (and so Pillow) sets up its encoders.
//!
//! Why not `ravif`, which wraps the same two crates: from speed 3 up (and at most qualities from
//! speed 1) it caps rav1e's largest block at 16x16, which on our thumbnails doubled the bytes at
//! the same quantizer, and it offers neither 4:2:0 nor libavif's quality scale. Here rav1e runs its
//! own speed preset, so a picture's smooth areas take 64x64 blocks.
//!
//! - Quality is libavif's scale: `quality` 0-100 is quantizer `(100 - quality) * 63 / 100` of 63,
//!   which rav1e takes as `* 255 / 63` of 255. The same number therefore means the same quantizer
//!   as Pillow's and libavif's `quality` (75 by default in both).
//! - Colour is 8-bit YCbCr, BT.601 matrix, full range, sRGB transfer and BT.709 primaries (what
//!   the AV1 bitstream and the `colr` box both say), chroma subsampled [`CHROMA_420`].
//! - Alpha, when there is some, is a second AV1 image (monochrome, full range) at the same
//!   quantizer, as libavif writes it.
//! - One thread: the function has under one vCPU, and the benchmark pins every peer to one CPU.

use rav1e::color::{
    ChromaSampling, ColorDescription, ColorPrimaries, MatrixCoefficients, PixelRange,
    TransferCharacteristics,
};
use rav1e::config::{Config, EncoderConfig, SpeedSettings};
use rav1e::data::{EncoderStatus, FrameType};

use super::pixels::{Layout, PixelsRef};

/// rav1e's speed preset, 0 (slowest) to 10. On the bench picture presets 7-9 gave the same bytes
/// and score at a given quantizer, 10 a third more bytes; 8 is libavif's default for rav1e too.
pub(crate) const AVIF_SPEED: u8 = 8;

/// Chroma at half resolution both ways (4:2:0), libavif's, Pillow's and sharp's default. At the
/// same quantizer it took ~5% fewer bytes than 4:4:4 for the same SSIMULACRA2 on the bench picture.
const CHROMA_420: bool = true;

/// rav1e's quantizer (0-255) for a libavif `quality` (0-100, clamped).
pub(crate) fn quantizer(quality: u8) -> usize {
    let libavif = (100 - usize::from(quality.min(100))) * 63 / 100;
    libavif * 255 / 63
}

/// Encodes RGB or RGBA `pixels` as an AVIF file; grey must be expanded first.
pub(crate) fn encode(pixels: PixelsRef<'_>, quality: u8) -> Result<Vec<u8>, String> {
    let channels = match pixels.layout {
        Layout::Rgb => 3,
        Layout::Rgba => 4,
        Layout::Gray | Layout::GrayAlpha => return Err("grey must be expanded first".into()),
    };
    let (width, height) = (pixels.width as usize, pixels.height as usize);
    let quantizer = quantizer(quality);
    let planes = YCbCr::from_rgb(pixels.data, channels, width, height);
    let colour = encode_av1(
        &planes.planes(),
        width,
        height,
        quantizer,
        if CHROMA_420 {
            ChromaSampling::Cs420
        } else {
            ChromaSampling::Cs444
        },
        Some(ColorDescription {
            color_primaries: ColorPrimaries::BT709,
            transfer_characteristics: TransferCharacteristics::SRGB,
            matrix_coefficients: MatrixCoefficients::BT601,
        }),
    )?;
    let alpha = if channels == 4 {
        let alpha: Vec<u8> = pixels.data.chunks_exact(4).map(|p| p[3]).collect();
        let plane = Plane {
            data: &alpha,
            stride: width,
        };
        Some(encode_av1(
            &[plane],
            width,
            height,
            quantizer,
            ChromaSampling::Cs400,
            None,
        )?)
    } else {
        None
    };
    let mut container = avif_serialize::Aviffy::new();
    container
        .set_matrix_coefficients(avif_serialize::constants::MatrixCoefficients::Bt601)
        .set_transfer_characteristics(avif_serialize::constants::TransferCharacteristics::Srgb)
        .set_color_primaries(avif_serialize::constants::ColorPrimaries::Bt709)
        .set_full_color_range(true)
        .set_chroma_subsampling((CHROMA_420, CHROMA_420))
        // 8-bit 4:2:0 (and monochrome alpha) is AV1's Main profile (0); 4:4:4 needs High (1).
        .set_seq_profile(u8::from(!CHROMA_420));
    Ok(container.to_vec(&colour, alpha.as_deref(), pixels.width, pixels.height, 8))
}

/// One plane's samples, row by row.
#[derive(Debug, Clone, Copy)]
struct Plane<'a> {
    data: &'a [u8],
    stride: usize,
}

/// The three planes of an image in YCbCr, chroma subsampled or not.
struct YCbCr {
    y: Vec<u8>,
    cb: Vec<u8>,
    cr: Vec<u8>,
    width: usize,
    chroma_width: usize,
}

impl YCbCr {
    /// BT.601 full range in 16-bit fixed point (the coefficients times 65,536); chroma of a 2x2
    /// block is the rounded mean of its pixels' chroma (edges repeat their last row and column).
    fn from_rgb(data: &[u8], channels: usize, width: usize, height: usize) -> Self {
        let mut y = Vec::with_capacity(width * height);
        let mut cb_full = Vec::with_capacity(width * height);
        let mut cr_full = Vec::with_capacity(width * height);
        for pixel in data.chunks_exact(channels) {
            let [r, g, b] = [pixel[0], pixel[1], pixel[2]].map(i32::from);
            y.push(clamp((19_595 * r + 38_470 * g + 7_471 * b + 32_768) >> 16));
            cb_full.push(clamp(
                ((-11_059 * r - 21_709 * g + 32_768 * b + 32_768) >> 16) + 128,
            ));
            cr_full.push(clamp(
                ((32_768 * r - 27_439 * g - 5_329 * b + 32_768) >> 16) + 128,
            ));
        }
        if !CHROMA_420 {
            return Self {
                y,
                cb: cb_full,
                cr: cr_full,
                width,
                chroma_width: width,
            };
        }
        let (chroma_width, chroma_height) = (width.div_ceil(2), height.div_ceil(2));
        let half = |full: &[u8]| {
            let mut out = Vec::with_capacity(chroma_width * chroma_height);
            for row in 0..chroma_height {
                let (top, bottom) = (2 * row, (2 * row + 1).min(height - 1));
                for column in 0..chroma_width {
                    let (left, right) = (2 * column, (2 * column + 1).min(width - 1));
                    let sum: u32 = [(top, left), (top, right), (bottom, left), (bottom, right)]
                        .iter()
                        .map(|&(r, c)| u32::from(full[r * width + c]))
                        .sum();
                    out.push(u8::try_from((sum + 2) / 4).unwrap_or(u8::MAX));
                }
            }
            out
        };
        Self {
            cb: half(&cb_full),
            cr: half(&cr_full),
            y,
            width,
            chroma_width,
        }
    }

    fn planes(&self) -> [Plane<'_>; 3] {
        [
            Plane {
                data: &self.y,
                stride: self.width,
            },
            Plane {
                data: &self.cb,
                stride: self.chroma_width,
            },
            Plane {
                data: &self.cr,
                stride: self.chroma_width,
            },
        ]
    }
}

fn clamp(value: i32) -> u8 {
    u8::try_from(value.clamp(0, 255)).unwrap_or(u8::MAX)
}

/// One still AV1 picture of `planes` (Y, Cb, Cr; or Y alone for [`ChromaSampling::Cs400`]).
fn encode_av1(
    planes: &[Plane<'_>],
    width: usize,
    height: usize,
    quantizer: usize,
    chroma_sampling: ChromaSampling,
    color_description: Option<ColorDescription>,
) -> Result<Vec<u8>, String> {
    let config = Config::new()
        .with_encoder_config(EncoderConfig {
            width,
            height,
            bit_depth: 8,
            chroma_sampling,
            pixel_range: PixelRange::Full,
            color_description,
            still_picture: true,
            quantizer,
            min_quantizer: u8::try_from(quantizer).unwrap_or(u8::MAX),
            speed_settings: SpeedSettings::from_preset(AVIF_SPEED),
            ..EncoderConfig::default()
        })
        .with_threads(1);
    let mut context = config
        .new_context::<u8>()
        .map_err(|e| format!("rav1e refused the settings: {e}"))?;
    let mut frame = context.new_frame();
    for (target, source) in frame.planes.iter_mut().zip(planes) {
        target.copy_from_raw_u8(source.data, source.stride, 1);
    }
    context
        .send_frame(frame)
        .map_err(|e| format!("rav1e refused the picture: {e}"))?;
    context.flush();
    let mut out = Vec::new();
    loop {
        match context.receive_packet() {
            Ok(packet) if packet.frame_type == FrameType::KEY => {
                out.extend_from_slice(&packet.data)
            }
            Ok(_) | Err(EncoderStatus::NeedMoreData) => {}
            Err(EncoderStatus::LimitReached | EncoderStatus::Encoded) => break,
            Err(e) => return Err(format!("rav1e failed: {e}")),
        }
    }
    if out.is_empty() {
        return Err("rav1e returned no picture".into());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quality_is_libavif_s_scale() {
        // libavif: quantizer = (100 - quality) * 63 / 100 of 63; rav1e's is of 255.
        assert_eq!(quantizer(100), 0);
        assert_eq!(quantizer(75), 15 * 255 / 63);
        assert_eq!(quantizer(60), 25 * 255 / 63);
        assert_eq!(quantizer(0), 255);
    }

    #[test]
    fn grey_and_white_keep_their_values_and_chroma_is_centred() {
        let data = [0, 0, 0, 255, 255, 255, 128, 128, 128, 255, 0, 0];
        let planes = YCbCr::from_rgb(&data, 3, 2, 2);
        assert_eq!(planes.y[..3], [0, 255, 128]);
        // Red: Y 76, Cb 85, Cr 255 (BT.601 full range); its 2x2 block's mean chroma moves with it.
        assert_eq!(planes.y[3], 76);
        assert_eq!(planes.cb, [(128 * 3 + 85 + 2) / 4_u16].map(|v| v as u8));
        assert_eq!(planes.cr, [(128 * 3 + 255 + 2) / 4_u16].map(|v| v as u8));
    }

    #[test]
    fn odd_sizes_repeat_the_last_row_and_column_for_chroma() {
        let data: Vec<u8> = [[200, 10, 10]; 3 * 3].concat();
        let planes = YCbCr::from_rgb(&data, 3, 3, 3);
        assert_eq!((planes.chroma_width, planes.cb.len()), (2, 4));
        assert!(planes.cr.iter().all(|&v| v == planes.cr[0]));
    }
}
