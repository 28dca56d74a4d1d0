//! PNG row unfiltering (the five filter types of the PNG spec, section 9) for
//! 8-bit samples with 1 to 4 bytes per pixel.
//!
//! Each row is reconstructed in place from its filtered bytes and the row
//! above it (all zeros for the first row). The loops work on one whole pixel
//! (`[u8; BPP]`) at a time so that the channels of a pixel are computed side
//! by side; only the left-to-right dependency between pixels is sequential.

/// A PNG filter type byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RowFilter {
    None,
    Sub,
    Up,
    Average,
    Paeth,
}

impl RowFilter {
    /// The filter for a row's leading type byte; `None` for an invalid byte.
    pub(crate) fn from_byte(byte: u8) -> Option<Self> {
        Some(match byte {
            0 => Self::None,
            1 => Self::Sub,
            2 => Self::Up,
            3 => Self::Average,
            4 => Self::Paeth,
            _ => return None,
        })
    }
}

/// Reconstructs `current` in place. `previous` is the reconstructed row above
/// (same length, all zeros for the first row); `bpp` is 1 to 4 bytes per pixel
/// and divides the row length.
pub(crate) fn unfilter(filter: RowFilter, bpp: usize, previous: &[u8], current: &mut [u8]) {
    debug_assert_eq!(previous.len(), current.len());
    match bpp {
        1 => unfilter_one::<1>(filter, previous, current),
        2 => unfilter_one::<2>(filter, previous, current),
        3 => unfilter_one::<3>(filter, previous, current),
        _ => unfilter_one::<4>(filter, previous, current),
    }
}

/// Reconstructs two consecutive rows, `first` (below `previous`) and `second`
/// (below `first`), in place. Every filter but None and Up is a chain from
/// pixel to pixel along the row, and one chain leaves the CPU waiting on each
/// step; the second row is therefore worked one pixel behind the first (its
/// pixel needs the reconstructed pixels above and above-left), so the two
/// chains run side by side.
pub(crate) fn unfilter_pair(
    filters: [RowFilter; 2],
    bpp: usize,
    previous: &[u8],
    first: &mut [u8],
    second: &mut [u8],
) {
    debug_assert!(previous.len() == first.len() && first.len() == second.len());
    match bpp {
        1 => unfilter_two::<1>(filters, previous, first, second),
        2 => unfilter_two::<2>(filters, previous, first, second),
        3 => unfilter_two::<3>(filters, previous, first, second),
        _ => unfilter_two::<4>(filters, previous, first, second),
    }
}

// The filters that chain from pixel to pixel, as const parameters so that
// each loop is compiled for its filter (no per-pixel dispatch).
pub(crate) const SUB: u8 = 1;
pub(crate) const AVERAGE: u8 = 3;
pub(crate) const PAETH: u8 = 4;

/// One row's reconstruction state for filter `F`: the reconstructed pixels to
/// the left and above-left of the next pixel.
#[derive(Clone, Copy)]
struct Chain<const BPP: usize, const F: u8> {
    left: [u8; BPP],
    above_left: [u8; BPP],
}

impl<const BPP: usize, const F: u8> Chain<BPP, F> {
    fn new() -> Self {
        Self {
            left: [0; BPP],
            above_left: [0; BPP],
        }
    }

    /// Reconstructs the next pixel of the row from its filtered bytes and the
    /// reconstructed pixel above it.
    #[inline(always)]
    fn step(&mut self, pixel: &mut [u8; BPP], above: &[u8; BPP]) {
        let mut out = *pixel;
        for i in 0..BPP {
            let (left, up) = (self.left[i], above[i]);
            let predicted = match F {
                SUB => left,
                // `<= 255`: the mean of two bytes.
                AVERAGE => ((u16::from(left) + u16::from(up)) >> 1) as u8,
                _ => paeth(
                    i16::from(left),
                    i16::from(up),
                    i16::from(self.above_left[i]),
                ),
            };
            out[i] = out[i].wrapping_add(predicted);
        }
        *pixel = out;
        self.left = out;
        if F == PAETH {
            self.above_left = *above;
        }
    }
}

fn pixels<const BPP: usize>(row: &[u8]) -> &[[u8; BPP]] {
    row.as_chunks::<BPP>().0
}

fn pixels_mut<const BPP: usize>(row: &mut [u8]) -> &mut [[u8; BPP]] {
    row.as_chunks_mut::<BPP>().0
}

fn unfilter_one<const BPP: usize>(filter: RowFilter, previous: &[u8], current: &mut [u8]) {
    match filter {
        RowFilter::None => {}
        // No chain along the row: byte-wise, vectorised.
        RowFilter::Up => {
            for (value, above) in current.iter_mut().zip(previous) {
                *value = value.wrapping_add(*above);
            }
        }
        RowFilter::Sub => chain_one::<BPP, SUB>(previous, current),
        RowFilter::Average => chain_one::<BPP, AVERAGE>(previous, current),
        RowFilter::Paeth => chain_one::<BPP, PAETH>(previous, current),
    }
}

fn chain_one<const BPP: usize, const F: u8>(previous: &[u8], current: &mut [u8]) {
    let mut chain = Chain::<BPP, F>::new();
    for (pixel, above) in pixels_mut::<BPP>(current)
        .iter_mut()
        .zip(pixels::<BPP>(previous))
    {
        chain.step(pixel, above);
    }
}

fn unfilter_two<const BPP: usize>(
    filters: [RowFilter; 2],
    previous: &[u8],
    first: &mut [u8],
    second: &mut [u8],
) {
    let rows = (previous, first, second);
    match filters {
        [RowFilter::Sub, lower] => chain_two_with::<BPP, SUB>(lower, rows),
        [RowFilter::Average, lower] => chain_two_with::<BPP, AVERAGE>(lower, rows),
        [RowFilter::Paeth, lower] => chain_two_with::<BPP, PAETH>(lower, rows),
        // The first row has no chain: nothing to overlap.
        [upper, lower] => {
            unfilter_one::<BPP>(upper, rows.0, rows.1);
            unfilter_one::<BPP>(lower, rows.1, rows.2);
        }
    }
}

type Rows<'a, 'b, 'c> = (&'a [u8], &'b mut [u8], &'c mut [u8]);

fn chain_two_with<const BPP: usize, const UPPER: u8>(lower: RowFilter, rows: Rows<'_, '_, '_>) {
    match lower {
        RowFilter::Sub => chain_two::<BPP, UPPER, SUB>(rows),
        RowFilter::Average => chain_two::<BPP, UPPER, AVERAGE>(rows),
        RowFilter::Paeth => chain_two::<BPP, UPPER, PAETH>(rows),
        // The second row has no chain: nothing to overlap.
        RowFilter::None | RowFilter::Up => {
            chain_one::<BPP, UPPER>(rows.0, rows.1);
            unfilter_one::<BPP>(lower, rows.1, rows.2);
        }
    }
}

fn chain_two<const BPP: usize, const UPPER: u8, const LOWER: u8>(
    (previous, first, second): Rows<'_, '_, '_>,
) {
    // RGB and RGBA: both rows in one vector.
    if (BPP == 3 || BPP == 4)
        && super::unfilter_simd::unfilter_pair::<BPP, UPPER, LOWER>(previous, first, second)
    {
        return;
    }
    let previous = pixels::<BPP>(previous);
    let first = pixels_mut::<BPP>(first);
    let second = pixels_mut::<BPP>(second);
    let count = first.len().min(second.len()).min(previous.len());
    if count == 0 {
        return;
    }
    let mut upper = Chain::<BPP, UPPER>::new();
    let mut lower = Chain::<BPP, LOWER>::new();
    upper.step(&mut first[0], &previous[0]);
    for i in 1..count {
        upper.step(&mut first[i], &previous[i]);
        lower.step(&mut second[i - 1], &first[i - 1]);
    }
    lower.step(&mut second[count - 1], &first[count - 1]);
}

/// The Paeth predictor: of left `a`, above `b` and above-left `c`, the one
/// closest to `a + b - c`, ties broken in the order a, b, c.
#[inline(always)]
fn paeth(a: i16, b: i16, c: i16) -> u8 {
    let pa = (b - c).abs();
    let pb = (a - c).abs();
    let pc = (a + b - 2 * c).abs();
    let chosen = if pa <= pb && pa <= pc {
        a
    } else if pb <= pc {
        b
    } else {
        c
    };
    // All three candidates are byte values.
    chosen as u8
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The predictor exactly as the PNG specification writes it.
    fn spec_paeth(a: u8, b: u8, c: u8) -> u8 {
        let p = i32::from(a) + i32::from(b) - i32::from(c);
        let (pa, pb, pc) = (
            (p - i32::from(a)).abs(),
            (p - i32::from(b)).abs(),
            (p - i32::from(c)).abs(),
        );
        if pa <= pb && pa <= pc {
            a
        } else if pb <= pc {
            b
        } else {
            c
        }
    }

    #[test]
    fn paeth_matches_the_specification_for_every_input() {
        for a in 0..=255u8 {
            for b in 0..=255u8 {
                for c in (0..=255u8).step_by(3) {
                    assert_eq!(
                        paeth(i16::from(a), i16::from(b), i16::from(c)),
                        spec_paeth(a, b, c),
                        "a={a} b={b} c={c}"
                    );
                }
            }
        }
    }

    #[test]
    fn rejects_unknown_filter_bytes() {
        assert_eq!(RowFilter::from_byte(4), Some(RowFilter::Paeth));
        assert_eq!(RowFilter::from_byte(5), None);
    }

    /// The reference reconstruction of the PNG specification, byte by byte.
    fn reference(filter: RowFilter, bpp: usize, previous: &[u8], current: &mut [u8]) {
        for i in 0..current.len() {
            let a = if i >= bpp { current[i - bpp] } else { 0 };
            let b = previous[i];
            let c = if i >= bpp { previous[i - bpp] } else { 0 };
            let predicted = match filter {
                RowFilter::None => 0,
                RowFilter::Sub => a,
                RowFilter::Up => b,
                RowFilter::Average => ((u16::from(a) + u16::from(b)) / 2) as u8,
                RowFilter::Paeth => spec_paeth(a, b, c),
            };
            current[i] = current[i].wrapping_add(predicted);
        }
    }

    /// A deterministic xorshift byte stream.
    fn noise(mut state: u32) -> impl FnMut() -> u8 {
        move || {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            (state >> 7) as u8
        }
    }

    #[test]
    fn every_filter_and_pixel_size_matches_the_reference() {
        let mut byte = noise(0x1234_5678_u32);
        for bpp in 1..=4 {
            for filter in [
                RowFilter::None,
                RowFilter::Sub,
                RowFilter::Up,
                RowFilter::Average,
                RowFilter::Paeth,
            ] {
                for pixels in [1, 2, 7, 33] {
                    let previous: Vec<u8> = (0..pixels * bpp).map(|_| byte()).collect();
                    let filtered: Vec<u8> = (0..pixels * bpp).map(|_| byte()).collect();
                    let mut expected = filtered.clone();
                    reference(filter, bpp, &previous, &mut expected);
                    let mut actual = filtered.clone();
                    unfilter(filter, bpp, &previous, &mut actual);
                    assert_eq!(actual, expected, "{filter:?} bpp {bpp} pixels {pixels}");
                }
            }
        }
    }

    #[test]
    fn pairs_of_rows_match_the_reference_for_every_filter_combination() {
        let mut byte = noise(0x8765_4321_u32);
        let filters = [
            RowFilter::None,
            RowFilter::Sub,
            RowFilter::Up,
            RowFilter::Average,
            RowFilter::Paeth,
        ];
        for bpp in 1..=4 {
            for upper in filters {
                for lower in filters {
                    for pixels in [1, 2, 3, 4, 9, 33] {
                        let len = pixels * bpp;
                        let previous: Vec<u8> = (0..len).map(|_| byte()).collect();
                        let first: Vec<u8> = (0..len).map(|_| byte()).collect();
                        let second: Vec<u8> = (0..len).map(|_| byte()).collect();
                        let (mut want_first, mut want_second) = (first.clone(), second.clone());
                        reference(upper, bpp, &previous, &mut want_first);
                        reference(lower, bpp, &want_first, &mut want_second);
                        let (mut got_first, mut got_second) = (first, second);
                        unfilter_pair(
                            [upper, lower],
                            bpp,
                            &previous,
                            &mut got_first,
                            &mut got_second,
                        );
                        assert_eq!(
                            (got_first, got_second),
                            (want_first, want_second),
                            "{upper:?}/{lower:?} bpp {bpp} pixels {pixels}"
                        );
                    }
                }
            }
        }
    }
}
