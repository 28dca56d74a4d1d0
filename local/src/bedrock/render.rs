//! Deterministic, cheap, pleasant pictures: a sky-and-sea scene whose palette, sun, clouds and waves
//! come from a hash of the prompt and the seed. Same prompt, seed and size: same bytes.

use std::f32::consts::TAU;

use super::schema::ImageFormat;

/// Why a picture could not be encoded.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error("PNG encoding failed: {0}")]
    Png(#[from] png::EncodingError),
    #[error("{0} encoding failed: {1}")]
    Image(&'static str, image::ImageError),
}

/// FNV-1a over the bytes of `s`.
pub fn hash_str(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// A small deterministic generator (SplitMix64).
struct Rng(u64);

impl Rng {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `lo..hi`.
    fn range(&mut self, lo: f32, hi: f32) -> f32 {
        let unit = (self.next_u64() >> 40) as f32 / (1u64 << 24) as f32;
        lo + (hi - lo) * unit
    }
}

type Rgb = [f32; 3];

fn hsl(h: f32, s: f32, l: f32) -> Rgb {
    let h = h.rem_euclid(1.0) * 6.0;
    let c = (1.0 - (2.0 * l - 1.0).abs()) * s;
    let x = c * (1.0 - (h % 2.0 - 1.0).abs());
    let m = l - c / 2.0;
    let (r, g, b) = match h as u32 {
        0 => (c, x, 0.0),
        1 => (x, c, 0.0),
        2 => (0.0, c, x),
        3 => (0.0, x, c),
        4 => (x, 0.0, c),
        _ => (c, 0.0, x),
    };
    [r + m, g + m, b + m]
}

fn mix(a: Rgb, b: Rgb, t: f32) -> Rgb {
    [
        a[0] + (b[0] - a[0]) * t,
        a[1] + (b[1] - a[1]) * t,
        a[2] + (b[2] - a[2]) * t,
    ]
}

struct Cloud {
    cx: f32,
    cy: f32,
    inv_rx2: f32,
    inv_ry2: f32,
    alpha: f32,
}

/// The scene's parameters, all drawn from the prompt and seed.
struct Scene {
    sky_top: Rgb,
    sky_horizon: Rgb,
    sea_far: Rgb,
    sea_near: Rgb,
    sun: Rgb,
    cloud: Rgb,
    horizon: f32,
    sun_x: f32,
    sun_y: f32,
    sun_r: f32,
    clouds: Vec<Cloud>,
    wave_freq: f32,
    wave_phase: f32,
}

impl Scene {
    fn new(prompt: &str, seed: u64, width: f32, height: f32) -> Self {
        let mut rng = Rng(hash_str(prompt) ^ seed.wrapping_mul(0x9e37_79b9_7f4a_7c15));
        // Pleasant skies only: a sunset, a blue day or a violet dusk.
        const HUES: [(f32, f32); 3] = [(-0.04, 0.1), (0.53, 0.64), (0.7, 0.88)];
        let (lo, hi) = HUES[(rng.next_u64() % 3) as usize];
        let hue = rng.range(lo, hi);
        // The sea leans towards blue-green whatever the sky.
        let sea_hue = hue * 0.4 + 0.57 * 0.6;
        let warm = rng.range(0.02, 0.12);
        let horizon = height * rng.range(0.52, 0.68);
        let short = width.min(height);
        let sun_r = short * rng.range(0.05, 0.11);
        let clouds = (0..3 + rng.next_u64() % 4)
            .map(|_| {
                let rx = width * rng.range(0.08, 0.22);
                let ry = rx * rng.range(0.18, 0.35);
                Cloud {
                    cx: rng.range(0.0, width),
                    cy: rng.range(0.08, 0.8) * horizon,
                    inv_rx2: 1.0 / (rx * rx),
                    inv_ry2: 1.0 / (ry * ry),
                    alpha: rng.range(0.18, 0.45),
                }
            })
            .collect();
        Self {
            sky_top: hsl(hue, rng.range(0.45, 0.7), rng.range(0.18, 0.32)),
            sky_horizon: hsl(hue + warm, rng.range(0.6, 0.85), rng.range(0.66, 0.8)),
            sea_far: hsl(
                sea_hue + warm * 0.5,
                rng.range(0.35, 0.55),
                rng.range(0.5, 0.62),
            ),
            sea_near: hsl(sea_hue - 0.03, rng.range(0.45, 0.65), rng.range(0.12, 0.2)),
            sun: hsl(hue + warm + 0.06, 0.95, rng.range(0.8, 0.9)),
            cloud: hsl(hue + warm, 0.3, 0.93),
            horizon,
            sun_x: width * rng.range(0.2, 0.8),
            sun_y: horizon - sun_r * rng.range(0.3, 2.5),
            sun_r,
            clouds,
            wave_freq: rng.range(5.0, 11.0),
            wave_phase: rng.range(0.0, TAU),
        }
    }
}

/// The RGB8 pixels of the scene for `prompt` and `seed`.
pub fn render_rgb(prompt: &str, seed: u64, width: u32, height: u32) -> Vec<u8> {
    let (w, h) = (width as usize, height as usize);
    let (wf, hf) = (width as f32, height as f32);
    let scene = Scene::new(prompt, seed, wf, hf);
    let mut pixels = vec![0u8; w * h * 3];
    // Per-column terms, computed once.
    let vignette_x: Vec<f32> = (0..w)
        .map(|x| {
            let d = (x as f32 + 0.5) / wf * 2.0 - 1.0;
            d * d
        })
        .collect();
    let sun_r2 = scene.sun_r * scene.sun_r;
    let glow_r2 = sun_r2 * 6.0;
    let edge = scene.sun_r * 0.08;
    for (y, row) in pixels.chunks_exact_mut(w * 3).enumerate() {
        let yf = y as f32 + 0.5;
        let dy = yf / hf * 2.0 - 1.0;
        let vignette_y = dy * dy;
        if yf < scene.horizon {
            sky_row(
                &scene,
                row,
                yf,
                &vignette_x,
                vignette_y,
                sun_r2,
                glow_r2,
                edge,
            );
        } else {
            sea_row(&scene, row, yf, hf, wf, &vignette_x, vignette_y);
        }
    }
    pixels
}

#[allow(clippy::too_many_arguments)]
fn sky_row(
    s: &Scene,
    row: &mut [u8],
    yf: f32,
    vignette_x: &[f32],
    vignette_y: f32,
    sun_r2: f32,
    glow_r2: f32,
    edge: f32,
) {
    let t = (yf / s.horizon).powf(1.6);
    let base = mix(s.sky_top, s.sky_horizon, t);
    let dy = yf - s.sun_y;
    let dy2 = dy * dy;
    let clouds: Vec<(&Cloud, f32)> = s
        .clouds
        .iter()
        .filter_map(|c| {
            let q = (yf - c.cy) * (yf - c.cy) * c.inv_ry2;
            (q < 1.0).then_some((c, q))
        })
        .collect();
    for (x, px) in row.chunks_exact_mut(3).enumerate() {
        let xf = x as f32 + 0.5;
        let dx = xf - s.sun_x;
        let d2 = dx * dx + dy2;
        let glow = glow_r2 / (d2 + glow_r2) * 0.55;
        let mut c = mix(base, s.sun, glow);
        // A soft-edged disk: 1 inside, 0 beyond the edge band (no square root needed).
        let disk = ((sun_r2 + edge * s.sun_r - d2) / (2.0 * edge * s.sun_r)).clamp(0.0, 1.0);
        if disk > 0.0 {
            c = mix(c, s.sun, disk);
        }
        for (cloud, qy) in &clouds {
            let q = (xf - cloud.cx) * (xf - cloud.cx) * cloud.inv_rx2 + qy;
            if q < 1.0 {
                let a = (1.0 - q) * (1.0 - q) * cloud.alpha;
                c = mix(c, s.cloud, a);
            }
        }
        put(px, c, 1.0 - 0.28 * (vignette_x[x] + vignette_y));
    }
}

fn sea_row(
    s: &Scene,
    row: &mut [u8],
    yf: f32,
    hf: f32,
    wf: f32,
    vignette_x: &[f32],
    vignette_y: f32,
) {
    // 0 at the horizon, 1 at the bottom edge.
    let depth = ((yf - s.horizon) / (hf - s.horizon)).clamp(0.0, 1.0);
    let base = mix(s.sea_far, s.sea_near, depth.sqrt());
    // Waves get wider and further apart towards the viewer.
    let persp = 1.0 / (0.08 + depth);
    let row_phase = s.wave_phase + persp * 2.3;
    let band = (row_phase * 1.7).sin() * 0.5 + 0.5;
    let freq = s.wave_freq / wf * TAU * (0.4 + persp * 0.15);
    let reflect_w = s.sun_r * (0.8 + depth * 3.0);
    let inv_reflect_w2 = 1.0 / (reflect_w * reflect_w);
    let highlight = mix(s.sun, s.sky_horizon, 0.3);
    for (x, px) in row.chunks_exact_mut(3).enumerate() {
        let xf = x as f32 + 0.5;
        let wave = (xf * freq + row_phase).sin();
        let shade = 1.0 + 0.07 * wave * (0.4 + band);
        let dx = xf - s.sun_x;
        let q = dx * dx * inv_reflect_w2;
        let mut c = [base[0] * shade, base[1] * shade, base[2] * shade];
        if q < 4.0 {
            let sparkle = (1.0 - q * 0.25) * (0.5 + 0.5 * wave) * 0.55 * (1.0 - depth * 0.6);
            c = mix(c, highlight, sparkle.max(0.0));
        }
        put(px, c, 1.0 - 0.28 * (vignette_x[x] + vignette_y));
    }
}

fn put(px: &mut [u8], c: Rgb, light: f32) {
    for (out, v) in px.iter_mut().zip(c) {
        *out = (v * light * 255.0 + 0.5).clamp(0.0, 255.0) as u8;
    }
}

/// Encode RGB8 pixels as a PNG (fast compression).
pub fn encode_png(pixels: &[u8], width: u32, height: u32) -> Result<Vec<u8>, RenderError> {
    let mut out = Vec::with_capacity(pixels.len() / 4);
    let mut encoder = png::Encoder::new(&mut out, width, height);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    encoder.set_compression(png::Compression::Fast);
    let mut writer = encoder.write_header()?;
    writer.write_image_data(pixels)?;
    writer.finish()?;
    Ok(out)
}

/// Encode RGB8 pixels in `format` (JPEG at quality 90 like a model's output; WebP lossless, the
/// only WebP the `image` crate writes).
pub fn encode(
    pixels: &[u8],
    width: u32,
    height: u32,
    format: ImageFormat,
) -> Result<Vec<u8>, RenderError> {
    let mut out = Vec::with_capacity(pixels.len() / 8);
    let rgb = image::ExtendedColorType::Rgb8;
    match format {
        ImageFormat::Png => return encode_png(pixels, width, height),
        ImageFormat::Jpeg => image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 90)
            .encode(pixels, width, height, rgb)
            .map_err(|e| RenderError::Image("JPEG", e))?,
        ImageFormat::WebP => image::codecs::webp::WebPEncoder::new_lossless(&mut out)
            .encode(pixels, width, height, rgb)
            .map_err(|e| RenderError::Image("WebP", e))?,
    }
    Ok(out)
}

/// The PNG for `prompt` and `seed` at `width`x`height`.
pub fn render_png(
    prompt: &str,
    seed: u64,
    width: u32,
    height: u32,
) -> Result<Vec<u8>, RenderError> {
    encode_png(&render_rgb(prompt, seed, width, height), width, height)
}

/// The picture for `prompt` and `seed` at `width`x`height`, in `format`.
pub fn render_image(
    prompt: &str,
    seed: u64,
    width: u32,
    height: u32,
    format: ImageFormat,
) -> Result<Vec<u8>, RenderError> {
    encode(
        &render_rgb(prompt, seed, width, height),
        width,
        height,
        format,
    )
}

/// A black picture, as a filtered Stability response carries.
pub fn blank(width: u32, height: u32, format: ImageFormat) -> Result<Vec<u8>, RenderError> {
    encode(
        &vec![0u8; width as usize * height as usize * 3],
        width,
        height,
        format,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic_and_seed_sensitive() {
        let a = render_rgb("a lighthouse at dusk", 7, 64, 48);
        assert_eq!(a, render_rgb("a lighthouse at dusk", 7, 64, 48));
        assert_ne!(a, render_rgb("a lighthouse at dusk", 8, 64, 48));
        assert_ne!(a, render_rgb("a lighthouse at dawn", 7, 64, 48));
        assert_eq!(a.len(), 64 * 48 * 3);
    }

    #[test]
    fn png_signature() {
        let png = render_png("x", 1, 16, 16).unwrap();
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    }

    #[test]
    fn each_format_decodes_to_the_size_asked_for() {
        for (format, expected) in [
            (ImageFormat::Png, image::ImageFormat::Png),
            (ImageFormat::Jpeg, image::ImageFormat::Jpeg),
            (ImageFormat::WebP, image::ImageFormat::WebP),
        ] {
            for bytes in [
                render_image("x", 1, 40, 24, format).unwrap(),
                blank(40, 24, format).unwrap(),
            ] {
                assert_eq!(image::guess_format(&bytes).unwrap(), expected);
                let decoded = image::load_from_memory(&bytes).unwrap();
                assert_eq!((decoded.width(), decoded.height()), (40, 24), "{format:?}");
            }
        }
        assert_eq!(
            render_image("x", 1, 16, 16, ImageFormat::Png).unwrap(),
            render_png("x", 1, 16, 16).unwrap()
        );
    }
}
