//! Two-row unfiltering for 3 and 4 bytes per pixel in one 128-bit vector
//! (`wide`: SSE2 on x86_64, NEON on aarch64, both baseline).
//!
//! The upper row's pixel `i` occupies lanes 0-3 and the lower row's pixel
//! `i - 1` lanes 4-7, as 16-bit values (lane 3 and 7 are padding for RGB). Each
//! step reconstructs both pixels with one set of vector operations. What the
//! lower pixel needs from above is the upper row's pixel `i - 1`, which is the
//! previous step's result, so it is taken from the register rather than read
//! back from memory (that round trip would be on the critical path).

use wide::{i16x8, u8x16};

use super::unfilter::{AVERAGE, SUB};

/// Four bytes of `row` from `at` as a little-endian word (0 past the end;
/// callers only read where four bytes exist).
#[inline(always)]
fn word(row: &[u8], at: usize) -> u32 {
    row.get(at..)
        .and_then(<[u8]>::first_chunk::<4>)
        .map_or(0, |bytes| u32::from_le_bytes(*bytes))
}

/// The `BPP` bytes of the last pixel of `row` (at `at`), zero-padded to a word.
#[inline(always)]
fn last_word<const BPP: usize>(row: &[u8], at: usize) -> u32 {
    let mut bytes = [0; 4];
    if let Some(pixel) = row.get(at..at + BPP) {
        bytes[..BPP].copy_from_slice(pixel);
    }
    u32::from_le_bytes(bytes)
}

/// Lanes 0-3 from the bytes of `low`, lanes 4-7 from the bytes of `high`.
#[inline(always)]
fn lanes(low: u32, high: u32) -> i16x8 {
    let mut bytes = [0; 16];
    bytes[..8].copy_from_slice(&(u64::from(low) | (u64::from(high) << 32)).to_le_bytes());
    i16x8::from_u8x16_low(u8x16::from(bytes))
}

/// The prediction of filter `F` (1 Sub, 3 Average, 4 Paeth) in every lane.
#[inline(always)]
fn predict<const F: u8>(left: i16x8, up: i16x8, up_left: i16x8) -> i16x8 {
    match F {
        SUB => left,
        AVERAGE => (left + up) >> 1,
        _ => {
            let pa = (up - up_left).abs();
            let pb = (left - up_left).abs();
            let pc = (left + up - up_left - up_left).abs();
            let pick_left = pa.simd_le(pb) & pa.simd_le(pc);
            let pick_up = pb.simd_le(pc);
            pick_left.bitselect(left, pick_up.bitselect(up, up_left))
        }
    }
}

/// The reconstruction state of both rows: the last reconstructed pixels
/// (left of the next ones) and the pixels above them (above-left).
struct Pair<const UPPER: u8, const LOWER: u8> {
    left: i16x8,
    up_left: i16x8,
}

impl<const UPPER: u8, const LOWER: u8> Pair<UPPER, LOWER> {
    /// Reconstructs one pixel of each row from their filtered bytes and the
    /// upper row's pixel above; returns the 8 result bytes (upper row first).
    #[inline(always)]
    fn step(&mut self, filtered: i16x8, above_upper: u32) -> [u8; 8] {
        // The lower row's "above" is the upper row's previous pixel.
        let above: [i64; 2] = bytemuck::cast(lanes(above_upper, 0));
        let previous: [i64; 2] = bytemuck::cast(self.left);
        let up: i16x8 = bytemuck::cast([above[0], previous[0]]);
        let predicted = if UPPER == LOWER {
            predict::<UPPER>(self.left, up, self.up_left)
        } else {
            let upper_lanes = i16x8::from([-1, -1, -1, -1, 0, 0, 0, 0]);
            upper_lanes.bitselect(
                predict::<UPPER>(self.left, up, self.up_left),
                predict::<LOWER>(self.left, up, self.up_left),
            )
        };
        let reconstructed = (filtered + predicted) & i16x8::splat(0xFF);
        self.left = reconstructed;
        self.up_left = up;
        let bytes = u8x16::narrow_i16x8(reconstructed, reconstructed).to_array();
        let mut out = [0; 8];
        out.copy_from_slice(&bytes[..8]);
        out
    }
}

/// Reconstructs `first` (below `previous`) and `second` (below `first`) in
/// place, with filters `UPPER` and `LOWER` (Sub, Average or Paeth). Rows of
/// fewer than 3 pixels return `false` untouched: the caller handles them.
pub(crate) fn unfilter_pair<const BPP: usize, const UPPER: u8, const LOWER: u8>(
    previous: &[u8],
    first: &mut [u8],
    second: &mut [u8],
) -> bool {
    let pixels = first.len() / BPP;
    if pixels < 3 || previous.len() != first.len() || second.len() != first.len() {
        return false;
    }
    let mut pair = Pair::<UPPER, LOWER> {
        left: i16x8::ZERO,
        up_left: i16x8::ZERO,
    };
    // The upper row's first pixel alone (the lower row's lanes stay zero,
    // which is what its first pixel needs on its left).
    let out = pair.step(lanes(word(first, 0), 0), word(previous, 0));
    first[..BPP].copy_from_slice(&out[..BPP]);
    // Both rows; four-byte reads stay inside the rows up to the last pixel.
    for i in 1..pixels - 1 {
        let (upper, lower) = (i * BPP, (i - 1) * BPP);
        let filtered = lanes(word(first, upper), word(second, lower));
        let out = pair.step(filtered, word(previous, upper));
        first[upper..upper + BPP].copy_from_slice(&out[..BPP]);
        second[lower..lower + BPP].copy_from_slice(&out[4..4 + BPP]);
    }
    let (upper, lower) = ((pixels - 1) * BPP, (pixels - 2) * BPP);
    let filtered = lanes(last_word::<BPP>(first, upper), word(second, lower));
    let out = pair.step(filtered, last_word::<BPP>(previous, upper));
    first[upper..upper + BPP].copy_from_slice(&out[..BPP]);
    second[lower..lower + BPP].copy_from_slice(&out[4..4 + BPP]);
    // The lower row's last pixel alone.
    let out = pair.step(lanes(0, last_word::<BPP>(second, upper)), 0);
    second[upper..upper + BPP].copy_from_slice(&out[4..4 + BPP]);
    true
}
