//! Writes a deterministic, photo-like RGB PNG for the thumbnail benchmark:
//! smooth gradients and soft shapes with fine-grained sensor-like noise, so it
//! compresses (and decodes) like a real generated photo, not like flat colour.
//!
//! Usage: `bench_source <width> <height> <out.png>`

use std::error::Error;
use std::fs::File;
use std::io::BufWriter;

/// xorshift64*: a tiny deterministic noise source.
struct Noise(u64);

impl Noise {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Roughly triangular noise in -6..=6.
    fn grain(&mut self) -> f32 {
        let bits = self.next();
        ((bits & 0xff) as f32 + ((bits >> 8) & 0xff) as f32) / 510.0 * 12.0 - 6.0
    }
}

fn pixel(x: f32, y: f32, noise: &mut Noise) -> [u8; 3] {
    // Sky-to-ground gradient.
    let mut rgb = [
        90.0 + 120.0 * y,
        140.0 + 60.0 * (1.0 - y),
        200.0 - 150.0 * y,
    ];
    // Soft blobs ("subjects") and ripples ("texture").
    let blobs: [(f32, f32, f32, [f32; 3]); 3] = [
        (0.3, 0.6, 0.18, [180.0, 60.0, 40.0]),
        (0.7, 0.4, 0.12, [40.0, 160.0, 70.0]),
        (0.55, 0.8, 0.22, [90.0, 80.0, 160.0]),
    ];
    for (cx, cy, radius, colour) in blobs {
        let d2 = ((x - cx).powi(2) + (y - cy).powi(2)) / (radius * radius);
        let weight = (-d2 * 2.0).exp();
        for (channel, target) in rgb.iter_mut().zip(colour) {
            *channel = *channel * (1.0 - weight) + target * weight;
        }
    }
    let ripple = 18.0 * ((x * 90.0).sin() * (y * 70.0).cos()) + 10.0 * ((x + y) * 300.0).sin();
    // A hard edge, like a horizon or a building.
    let edge = if y > 0.72 + 0.05 * (x * 12.0).sin() {
        -35.0
    } else {
        0.0
    };
    rgb.map(|channel| (channel + ripple + edge + noise.grain()).clamp(0.0, 255.0) as u8)
}

fn main() -> Result<(), Box<dyn Error>> {
    let args: Vec<String> = std::env::args().collect();
    let [_, width, height, out] = args.as_slice() else {
        return Err("usage: bench_source <width> <height> <out.png>".into());
    };
    let (width, height): (u32, u32) = (width.parse()?, height.parse()?);

    let mut noise = Noise(0x5EED_1234_ABCD_0001);
    let mut data = Vec::with_capacity(width as usize * height as usize * 3);
    for row in 0..height {
        for column in 0..width {
            let (x, y) = (column as f32 / width as f32, row as f32 / height as f32);
            data.extend_from_slice(&pixel(x, y, &mut noise));
        }
    }

    let mut encoder = png::Encoder::new(BufWriter::new(File::create(out)?), width, height);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    // zlib's default level with adaptive filtering, like most PNG writers.
    encoder.set_compression(png::Compression::Balanced);
    encoder.set_filter(png::Filter::Adaptive);
    let mut writer = encoder.write_header()?;
    writer.write_image_data(&data)?;
    writer.finish()?;
    Ok(())
}
