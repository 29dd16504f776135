//! A QR Code encoder (ISO/IEC 18004), no external crate: byte mode, error correction level
//! M (or L when the text only fits at L), versions 1–40, Reed–Solomon over GF(256) with the
//! polynomial 0x11D, all eight masks scored with the standard penalty rules, format and
//! version information. [`qr_svg`] draws the symbol as one compact SVG `<path>` with a
//! quiet zone of 4 modules.
//!
//! Why not the `qrcodegen` crate, measured (`trunk build --release --offline && bash
//! scripts/size-budget dist`, gzip bytes of the cold load / of the main wasm module,
//! 2026-12-01): this encoder 451 672 / 430 547; `qrcodegen` in its place 452 035 /
//! 430 909, +363 / +362 bytes (the swap itself costs 12, the rest is the layout change any
//! new dependency brings). The share panel is on the first page, and the cold load must not
//! grow, so the encoder stays. Its output is pinned and checked: `tests/qr_golden.rs` holds
//! the version, level, mask and module hash of 60 symbols (every preset link, every
//! exercise and its solution, lengths up to the 2 953-byte limit), matches `qrcodegen`'s
//! modules under the same mask, and reads every symbol back with the independent `rqrr`
//! decoder.

use super::{CodecError, LinkError};

/// Error correction level.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ecc {
    /// About 7% recovery.
    L,
    /// About 15% recovery.
    M,
}

impl Ecc {
    /// The two format-information bits.
    fn format_bits(self) -> u32 {
        match self {
            Ecc::L => 1,
            Ecc::M => 0,
        }
    }
    fn index(self) -> usize {
        match self {
            Ecc::L => 0,
            Ecc::M => 1,
        }
    }
}

/// Error-correction codewords per block, by level (L, M) and version (index 0 unused).
const ECC_PER_BLOCK: [[u8; 41]; 2] = [
    [
        0, 7, 10, 15, 20, 26, 18, 20, 24, 30, 18, 20, 24, 26, 30, 22, 24, 28, 30, 28, 28, 28, 28,
        30, 30, 26, 28, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30,
    ],
    [
        0, 10, 16, 26, 18, 24, 16, 18, 22, 22, 26, 30, 22, 22, 24, 24, 28, 28, 26, 26, 26, 26, 28,
        28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28,
    ],
];

/// Number of error-correction blocks, by level (L, M) and version.
const NUM_BLOCKS: [[u8; 41]; 2] = [
    [
        0, 1, 1, 1, 1, 1, 2, 2, 2, 2, 4, 4, 4, 4, 4, 6, 6, 6, 6, 7, 8, 8, 9, 9, 10, 12, 12, 12, 13,
        14, 15, 16, 17, 18, 19, 19, 20, 21, 22, 24, 25,
    ],
    [
        0, 1, 1, 1, 2, 2, 4, 4, 4, 5, 5, 5, 8, 9, 9, 10, 10, 11, 13, 14, 16, 17, 17, 18, 20, 21,
        23, 25, 26, 28, 29, 31, 33, 35, 37, 38, 40, 43, 45, 47, 49,
    ],
];

/// Modules available for data and error correction (after function patterns), in bits.
pub fn raw_data_modules(version: usize) -> usize {
    let v = version;
    let mut result = (16 * v + 128) * v + 64;
    if v >= 2 {
        let num_align = v / 7 + 2;
        result -= (25 * num_align - 10) * num_align - 55;
        if v >= 7 {
            result -= 36;
        }
    }
    result
}

/// Data codewords (bytes) at a version and level.
pub fn data_codewords(version: usize, ecc: Ecc) -> usize {
    let e = ecc.index();
    raw_data_modules(version) / 8
        - usize::from(ECC_PER_BLOCK[e][version]) * usize::from(NUM_BLOCKS[e][version])
}

/// Largest byte-mode payload at a version and level.
pub fn byte_capacity(version: usize, ecc: Ecc) -> usize {
    let count_bits = if version < 10 { 8 } else { 16 };
    (data_codewords(version, ecc) * 8 - 4 - count_bits) / 8
}

// ---------------------------------------------------------------------------------------
// Reed–Solomon over GF(256), primitive polynomial x^8 + x^4 + x^3 + x^2 + 1 (0x11D)
// ---------------------------------------------------------------------------------------

fn gf_mul(mut x: u8, mut y: u8) -> u8 {
    let mut z: u8 = 0;
    while y != 0 {
        if y & 1 != 0 {
            z ^= x;
        }
        let carry = x & 0x80 != 0;
        x <<= 1;
        if carry {
            x ^= 0x1D;
        }
        y >>= 1;
    }
    z
}

/// Generator polynomial of the given degree, coefficients from the highest power down,
/// without the leading 1: ∏ (x − α^i), i = 0..degree.
pub fn rs_generator(degree: usize) -> Vec<u8> {
    let mut result = vec![0u8; degree];
    if let Some(last) = result.last_mut() {
        *last = 1;
    }
    let mut root: u8 = 1;
    for _ in 0..degree {
        for j in 0..degree {
            result[j] = gf_mul(result[j], root);
            if j + 1 < degree {
                result[j] ^= result[j + 1];
            }
        }
        root = gf_mul(root, 0x02);
    }
    result
}

/// Error-correction codewords of `data` for a generator from [`rs_generator`].
pub fn rs_remainder(data: &[u8], generator: &[u8]) -> Vec<u8> {
    let mut result = vec![0u8; generator.len()];
    for &b in data {
        let factor = b ^ result.first().copied().unwrap_or(0);
        result.rotate_left(1);
        if let Some(last) = result.last_mut() {
            *last = 0;
        }
        for (r, &g) in result.iter_mut().zip(generator) {
            *r ^= gf_mul(g, factor);
        }
    }
    result
}

/// Discrete log table of GF(256) (for tests and the generator-exponent check).
pub fn gf_log(x: u8) -> Option<u8> {
    let mut v: u8 = 1;
    for e in 0..255u16 {
        if v == x {
            return u8::try_from(e).ok();
        }
        v = gf_mul(v, 2);
    }
    None
}

// ---------------------------------------------------------------------------------------
// The symbol
// ---------------------------------------------------------------------------------------

/// A QR Code symbol: `size × size` modules, `true` = dark.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QrCode {
    pub version: usize,
    pub size: usize,
    pub ecc: Ecc,
    pub mask: u8,
    modules: Vec<bool>,
    function: Vec<bool>,
}

impl QrCode {
    /// Module at column `x`, row `y` (false outside the symbol).
    pub fn get(&self, x: usize, y: usize) -> bool {
        x < self.size && y < self.size && self.modules[y * self.size + x]
    }

    /// Whether a module belongs to a function pattern (finder, timing, alignment, format...).
    pub fn is_function(&self, x: usize, y: usize) -> bool {
        x < self.size && y < self.size && self.function[y * self.size + x]
    }

    fn blank(version: usize, ecc: Ecc) -> QrCode {
        let size = version * 4 + 17;
        QrCode {
            version,
            size,
            ecc,
            mask: 0,
            modules: vec![false; size * size],
            function: vec![false; size * size],
        }
    }

    fn set_function(&mut self, x: usize, y: usize, dark: bool) {
        if x < self.size && y < self.size {
            self.modules[y * self.size + x] = dark;
            self.function[y * self.size + x] = true;
        }
    }

    /// Alignment pattern centre coordinates for this version.
    pub fn alignment_positions(version: usize) -> Vec<usize> {
        if version == 1 {
            return Vec::new();
        }
        let size = version * 4 + 17;
        let num_align = version / 7 + 2;
        let step = (version * 8 + num_align * 3 + 5) / (num_align * 4 - 4) * 2;
        let mut result = vec![6; num_align];
        let mut pos = size - 7;
        for i in (1..num_align).rev() {
            result[i] = pos;
            pos = pos.saturating_sub(step);
        }
        result
    }

    fn draw_function_patterns(&mut self) {
        let size = self.size;
        for i in 0..size {
            self.set_function(6, i, i % 2 == 0);
            self.set_function(i, 6, i % 2 == 0);
        }
        for (cx, cy) in [(3, 3), (size - 4, 3), (3, size - 4)] {
            self.draw_finder(cx, cy);
        }
        let align = Self::alignment_positions(self.version);
        let n = align.len();
        for (i, &ax) in align.iter().enumerate() {
            for (j, &ay) in align.iter().enumerate() {
                let corner = (i == 0 && (j == 0 || j + 1 == n)) || (i + 1 == n && j == 0);
                if !corner {
                    for dy in -2i32..=2 {
                        for dx in -2i32..=2 {
                            let dist = dx.abs().max(dy.abs());
                            self.set_function(
                                (ax as i32 + dx) as usize,
                                (ay as i32 + dy) as usize,
                                dist != 1,
                            );
                        }
                    }
                }
            }
        }
        // Reserve the format areas (drawn for real after masking).
        self.draw_format_bits(0);
        self.draw_version();
    }

    fn draw_finder(&mut self, cx: usize, cy: usize) {
        for dy in -4i32..=4 {
            for dx in -4i32..=4 {
                let dist = dx.abs().max(dy.abs());
                let (x, y) = (cx as i32 + dx, cy as i32 + dy);
                if x >= 0 && y >= 0 {
                    self.set_function(x as usize, y as usize, dist != 2 && dist != 4);
                }
            }
        }
    }

    /// The 15 format bits for a level and mask (BCH(15,5), XOR 0x5412).
    pub fn format_bits(ecc: Ecc, mask: u8) -> u32 {
        let data = (ecc.format_bits() << 3) | u32::from(mask);
        let mut rem = data;
        for _ in 0..10 {
            rem = (rem << 1) ^ ((rem >> 9) * 0x537);
        }
        ((data << 10) | rem) ^ 0x5412
    }

    fn draw_format_bits(&mut self, mask: u8) {
        let bits = Self::format_bits(self.ecc, mask);
        let bit = |i: u32| (bits >> i) & 1 != 0;
        let size = self.size;
        for i in 0..=5 {
            self.set_function(8, i, bit(i as u32));
        }
        self.set_function(8, 7, bit(6));
        self.set_function(8, 8, bit(7));
        self.set_function(7, 8, bit(8));
        for i in 9..15 {
            self.set_function(14 - i, 8, bit(i as u32));
        }
        for i in 0..8 {
            self.set_function(size - 1 - i, 8, bit(i as u32));
        }
        for i in 8..15 {
            self.set_function(8, size - 15 + i, bit(i as u32));
        }
        self.set_function(8, size - 8, true);
    }

    /// The 18 version bits (BCH(18,6)) for versions ≥ 7.
    pub fn version_bits(version: usize) -> u32 {
        let v = version as u32;
        let mut rem = v;
        for _ in 0..12 {
            rem = (rem << 1) ^ ((rem >> 11) * 0x1F25);
        }
        (v << 12) | rem
    }

    fn draw_version(&mut self) {
        if self.version < 7 {
            return;
        }
        let bits = Self::version_bits(self.version);
        for i in 0..18 {
            let dark = (bits >> i) & 1 != 0;
            let a = self.size - 11 + i % 3;
            let b = i / 3;
            self.set_function(a, b, dark);
            self.set_function(b, a, dark);
        }
    }

    /// Coordinates of the data modules in placement order (the zigzag).
    fn data_positions(&self) -> Vec<(usize, usize)> {
        let size = self.size;
        let mut out = Vec::new();
        let mut right = size as i32 - 1;
        while right >= 1 {
            if right == 6 {
                right = 5;
            }
            for vert in 0..size {
                for j in 0..2 {
                    let x = (right - j) as usize;
                    let upward = ((right + 1) & 2) == 0;
                    let y = if upward { size - 1 - vert } else { vert };
                    if !self.function[y * size + x] {
                        out.push((x, y));
                    }
                }
            }
            right -= 2;
        }
        out
    }

    fn draw_codewords(&mut self, data: &[u8]) {
        let positions = self.data_positions();
        for (i, (x, y)) in positions.into_iter().enumerate() {
            let dark = data
                .get(i / 8)
                .is_some_and(|b| (b >> (7 - (i % 8))) & 1 != 0);
            self.modules[y * self.size + x] = dark;
        }
    }

    /// Whether mask pattern `mask` inverts the module at (x, y).
    pub fn mask_bit(mask: u8, x: usize, y: usize) -> bool {
        match mask {
            0 => (x + y) % 2 == 0,
            1 => y % 2 == 0,
            2 => x % 3 == 0,
            3 => (x + y) % 3 == 0,
            4 => (x / 3 + y / 2) % 2 == 0,
            5 => (x * y) % 2 + (x * y) % 3 == 0,
            6 => ((x * y) % 2 + (x * y) % 3) % 2 == 0,
            _ => ((x + y) % 2 + (x * y) % 3) % 2 == 0,
        }
    }

    fn apply_mask(&mut self, mask: u8) {
        for y in 0..self.size {
            for x in 0..self.size {
                if !self.function[y * self.size + x] && Self::mask_bit(mask, x, y) {
                    self.modules[y * self.size + x] ^= true;
                }
            }
        }
    }

    /// Penalty score of the current symbol (rules N1–N4 of the standard).
    pub fn penalty(&self) -> u64 {
        let size = self.size;
        let mut score = 0u64;
        let line = |get: &dyn Fn(usize) -> bool| -> u64 {
            let mut s = 0u64;
            let mut run = 1usize;
            for i in 1..size {
                if get(i) == get(i - 1) {
                    run += 1;
                } else {
                    if run >= 5 {
                        s += 3 + (run as u64 - 5);
                    }
                    run = 1;
                }
            }
            if run >= 5 {
                s += 3 + (run as u64 - 5);
            }
            // Finder-like 1:1:3:1:1 with four light modules on one side.
            const A: [bool; 11] = [
                true, false, true, true, true, false, true, false, false, false, false,
            ];
            const B: [bool; 11] = [
                false, false, false, false, true, false, true, true, true, false, true,
            ];
            if size >= 11 {
                for i in 0..=size - 11 {
                    let m = |p: &[bool; 11]| (0..11).all(|k| get(i + k) == p[k]);
                    if m(&A) {
                        s += 40;
                    }
                    if m(&B) {
                        s += 40;
                    }
                }
            }
            s
        };
        for y in 0..size {
            score += line(&|x| self.modules[y * size + x]);
        }
        for x in 0..size {
            score += line(&|y| self.modules[y * size + x]);
        }
        for y in 0..size - 1 {
            for x in 0..size - 1 {
                let c = self.modules[y * size + x];
                if c == self.modules[y * size + x + 1]
                    && c == self.modules[(y + 1) * size + x]
                    && c == self.modules[(y + 1) * size + x + 1]
                {
                    score += 3;
                }
            }
        }
        let dark = self.modules.iter().filter(|&&m| m).count() as u64;
        let total = (size * size) as u64;
        let k = (dark * 20)
            .abs_diff(total * 10)
            .div_ceil(total)
            .saturating_sub(1);
        score + k * 10
    }
}

/// The final codeword sequence (data and EC, interleaved) for a payload.
fn codewords(data: &[u8], version: usize, ecc: Ecc) -> Vec<u8> {
    let capacity = data_codewords(version, ecc);
    let mut bits: Vec<bool> = Vec::with_capacity(capacity * 8);
    let mut push = |value: u32, n: usize| {
        for i in (0..n).rev() {
            bits.push((value >> i) & 1 != 0);
        }
    };
    push(0b0100, 4);
    push(data.len() as u32, if version < 10 { 8 } else { 16 });
    for &b in data {
        push(u32::from(b), 8);
    }
    let terminator = (capacity * 8).saturating_sub(bits.len()).min(4);
    bits.extend(std::iter::repeat_n(false, terminator));
    while bits.len() % 8 != 0 {
        bits.push(false);
    }
    let mut bytes: Vec<u8> = bits
        .chunks(8)
        .map(|c| c.iter().fold(0u8, |acc, &b| (acc << 1) | u8::from(b)))
        .collect();
    let mut pad = [0xEC, 0x11].into_iter().cycle();
    while bytes.len() < capacity {
        bytes.push(pad.next().unwrap_or(0xEC));
    }

    let e = ecc.index();
    let num_blocks = usize::from(NUM_BLOCKS[e][version]);
    let ecc_len = usize::from(ECC_PER_BLOCK[e][version]);
    let raw = raw_data_modules(version) / 8;
    let num_short = num_blocks - raw % num_blocks;
    let short_len = raw / num_blocks - ecc_len;
    let generator = rs_generator(ecc_len);
    let mut blocks: Vec<(Vec<u8>, Vec<u8>)> = Vec::with_capacity(num_blocks);
    let mut k = 0;
    for i in 0..num_blocks {
        let len = short_len + usize::from(i >= num_short);
        let d = bytes
            .get(k..k + len)
            .map(<[u8]>::to_vec)
            .unwrap_or_default();
        k += len;
        let ec = rs_remainder(&d, &generator);
        blocks.push((d, ec));
    }
    let mut out = Vec::with_capacity(raw);
    for i in 0..=short_len {
        for (d, _) in &blocks {
            if let Some(&b) = d.get(i) {
                out.push(b);
            }
        }
    }
    for i in 0..ecc_len {
        for (_, ec) in &blocks {
            if let Some(&b) = ec.get(i) {
                out.push(b);
            }
        }
    }
    out
}

/// Encode bytes at the smallest version that fits, level M (L if only L fits).
///
/// # Errors
/// [`CodecError::Link`] when the text is longer than a version-40 symbol holds.
pub fn encode(data: &[u8]) -> Result<QrCode, CodecError> {
    let pick = [Ecc::M, Ecc::L].into_iter().find_map(|ecc| {
        (1..=40)
            .find(|&v| byte_capacity(v, ecc) >= data.len())
            .map(|v| (v, ecc))
    });
    let Some((version, ecc)) = pick else {
        return Err(CodecError::Link(LinkError::TooLongForQr {
            bytes: data.len(),
            max: byte_capacity(40, Ecc::L),
        }));
    };
    Ok(encode_at(data, version, ecc))
}

/// Encode at a given version and level (the data must fit), choosing the best mask.
pub fn encode_at(data: &[u8], version: usize, ecc: Ecc) -> QrCode {
    let mut qr = QrCode::blank(version, ecc);
    qr.draw_function_patterns();
    qr.draw_codewords(&codewords(data, version, ecc));
    let mut best: Option<(u64, u8)> = None;
    for mask in 0..8u8 {
        qr.apply_mask(mask);
        qr.draw_format_bits(mask);
        let p = qr.penalty();
        if best.is_none_or(|(bp, _)| p < bp) {
            best = Some((p, mask));
        }
        qr.apply_mask(mask);
    }
    let mask = best.map_or(0, |(_, m)| m);
    qr.apply_mask(mask);
    qr.draw_format_bits(mask);
    qr.mask = mask;
    qr
}

/// The symbol as a compact SVG: one `<path>` of unit squares, quiet zone 4, black on white.
pub fn to_svg(qr: &QrCode) -> String {
    let border = 4;
    let dim = qr.size + 2 * border;
    let mut path = String::new();
    for y in 0..qr.size {
        let mut x = 0;
        while x < qr.size {
            if qr.get(x, y) {
                let start = x;
                while x < qr.size && qr.get(x, y) {
                    x += 1;
                }
                path.push_str(&format!(
                    "M{},{}h{}v1h-{}z",
                    start + border,
                    y + border,
                    x - start,
                    x - start
                ));
            } else {
                x += 1;
            }
        }
    }
    format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {dim} {dim}\" shape-rendering=\"crispEdges\"><rect width=\"100%\" height=\"100%\" fill=\"#fff\"/><path fill=\"#000\" d=\"{path}\"/></svg>"
    )
}

/// A QR code of `text` (UTF-8 bytes) as SVG.
///
/// # Errors
/// [`CodecError::Link`] when the text is too long for a QR code.
pub fn qr_svg(text: &str) -> Result<String, CodecError> {
    encode(text.as_bytes()).map(|q| to_svg(&q))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generator_for_10_ec_codewords_matches_the_spec() {
        // ISO/IEC 18004 Annex A: g(x) for 10 EC codewords, α exponents from x^10 down.
        let g = rs_generator(10);
        let exps: Vec<u8> = std::iter::once(0)
            .chain(g.iter().map(|&c| gf_log(c).unwrap()))
            .collect();
        assert_eq!(exps, vec![0, 251, 67, 46, 61, 118, 70, 64, 94, 32, 45]);
    }

    #[test]
    fn rs_matches_the_spec_examples() {
        // ISO/IEC 18004 Annex I: "01234567", version 1-M.
        let data = [
            16, 32, 12, 86, 97, 128, 236, 17, 236, 17, 236, 17, 236, 17, 236, 17,
        ];
        assert_eq!(
            rs_remainder(&data, &rs_generator(10)),
            vec![165, 36, 212, 193, 237, 54, 199, 135, 44, 85]
        );
        // "HELLO WORLD", version 1-M.
        let data = [
            32, 91, 11, 120, 209, 114, 220, 77, 67, 64, 236, 17, 236, 17, 236, 17,
        ];
        assert_eq!(
            rs_remainder(&data, &rs_generator(10)),
            vec![196, 35, 39, 119, 235, 215, 231, 226, 93, 23]
        );
    }

    #[test]
    fn capacities_match_the_spec_tables() {
        let m = [
            (1, 14),
            (2, 26),
            (3, 42),
            (4, 62),
            (5, 84),
            (6, 106),
            (7, 122),
            (8, 152),
            (9, 180),
            (10, 213),
            (40, 2331),
        ];
        for (v, c) in m {
            assert_eq!(byte_capacity(v, Ecc::M), c, "version {v}-M");
        }
        let l = [
            (1, 17),
            (2, 32),
            (3, 53),
            (4, 78),
            (5, 106),
            (6, 134),
            (7, 154),
            (8, 192),
            (9, 230),
            (10, 271),
            (40, 2953),
        ];
        for (v, c) in l {
            assert_eq!(byte_capacity(v, Ecc::L), c, "version {v}-L");
        }
    }

    #[test]
    fn format_and_version_bits_match_the_spec() {
        // Table C.1: M, mask 0 → 101010000010010; L, mask 0 → 111011111000100.
        assert_eq!(QrCode::format_bits(Ecc::M, 0), 0b101010000010010);
        assert_eq!(QrCode::format_bits(Ecc::L, 0), 0b111011111000100);
        assert_eq!(QrCode::format_bits(Ecc::M, 5), 0b100000011001110);
        // Table D.1: version 7 → 000111110010010100.
        assert_eq!(QrCode::version_bits(7), 0b000111110010010100);
        assert_eq!(QrCode::version_bits(40), 0b101000110001101001);
    }

    #[test]
    fn alignment_positions_match_the_spec() {
        assert_eq!(QrCode::alignment_positions(2), vec![6, 18]);
        assert_eq!(QrCode::alignment_positions(7), vec![6, 22, 38]);
        assert_eq!(
            QrCode::alignment_positions(32),
            vec![6, 34, 60, 86, 112, 138]
        );
        assert_eq!(
            QrCode::alignment_positions(40),
            vec![6, 30, 58, 86, 114, 142, 170]
        );
    }
}

#[cfg(test)]
mod decode_tests {
    use super::*;

    /// A tiny independent reader: format bits, unmasking, de-interleaving, RS syndromes,
    /// byte-mode parsing.
    fn decode(qr: &QrCode) -> Result<Vec<u8>, String> {
        let size = qr.size;
        let version = (size - 17) / 4;
        // Format bits, first copy.
        let mut bits = 0u32;
        let coords: Vec<(usize, usize)> = (0..=5)
            .map(|i| (8, i))
            .chain([(8, 7), (8, 8), (7, 8)])
            .chain((9..15).map(|i| (14 - i, 8)))
            .collect();
        for (i, (x, y)) in coords.into_iter().enumerate() {
            if qr.get(x, y) {
                bits |= 1 << i;
            }
        }
        let (ecc, mask) = [Ecc::L, Ecc::M]
            .into_iter()
            .flat_map(|e| (0..8u8).map(move |m| (e, m)))
            .find(|&(e, m)| QrCode::format_bits(e, m) == bits)
            .ok_or("format bits do not decode")?;
        // Second copy must agree.
        let mut bits2 = 0u32;
        for i in 0..8 {
            if qr.get(size - 1 - i, 8) {
                bits2 |= 1 << i;
            }
        }
        for i in 8..15 {
            if qr.get(8, size - 15 + i) {
                bits2 |= 1 << i;
            }
        }
        if bits2 != bits {
            return Err("format copies differ".into());
        }
        let mut reference = QrCode::blank(version, ecc);
        reference.draw_function_patterns();
        // Function patterns must be identical (finders, timing, alignment, version).
        for y in 0..size {
            for x in 0..size {
                let fmt_area =
                    (x == 8 || y == 8) && (x < 9 || y < 9 || x >= size - 8 || y >= size - 8);
                if reference.is_function(x, y) && !fmt_area && reference.get(x, y) != qr.get(x, y) {
                    return Err(format!("function module ({x}, {y}) differs"));
                }
            }
        }
        let positions = reference.data_positions();
        let mut raw = vec![0u8; positions.len() / 8];
        for (i, &(x, y)) in positions.iter().enumerate().take(raw.len() * 8) {
            if qr.get(x, y) ^ QrCode::mask_bit(mask, x, y) {
                raw[i / 8] |= 1 << (7 - i % 8);
            }
        }
        let e = ecc.index();
        let nb = usize::from(NUM_BLOCKS[e][version]);
        let ecl = usize::from(ECC_PER_BLOCK[e][version]);
        let total = raw_data_modules(version) / 8;
        let num_short = nb - total % nb;
        let short_len = total / nb - ecl;
        let lens: Vec<usize> = (0..nb)
            .map(|i| short_len + usize::from(i >= num_short))
            .collect();
        let mut blocks: Vec<Vec<u8>> = vec![Vec::new(); nb];
        let mut k = 0;
        for i in 0..=short_len {
            for (b, &len) in lens.iter().enumerate() {
                if i < len {
                    blocks[b].push(raw[k]);
                    k += 1;
                }
            }
        }
        for _ in 0..ecl {
            for block in &mut blocks {
                block.push(raw[k]);
                k += 1;
            }
        }
        let mut data = Vec::new();
        for (b, block) in blocks.iter().enumerate() {
            // Syndromes: the codeword polynomial vanishes at α^0..α^(ecl-1).
            let mut alpha = 1u8;
            for _ in 0..ecl {
                let s = block.iter().fold(0u8, |acc, &c| gf_mul(acc, alpha) ^ c);
                if s != 0 {
                    return Err(format!("block {b} has a non-zero syndrome"));
                }
                alpha = gf_mul(alpha, 2);
            }
            data.extend_from_slice(&block[..lens[b]]);
        }
        let bit = |i: usize| (data[i / 8] >> (7 - i % 8)) & 1;
        let read = |from: usize, n: usize| {
            (from..from + n).fold(0usize, |acc, i| (acc << 1) | usize::from(bit(i)))
        };
        if read(0, 4) != 0b0100 {
            return Err("not byte mode".into());
        }
        let cb = if version < 10 { 8 } else { 16 };
        let len = read(4, cb);
        Ok((0..len).map(|i| read(4 + cb + 8 * i, 8) as u8).collect())
    }

    #[test]
    fn encoded_symbols_decode_back() {
        let long_link = format!(
            "https://example.org/flatland/#m1.{}",
            "AbCdEfGh0123_-".repeat(140)
        );
        for text in [
            "",
            "a",
            "HELLO WORLD",
            "https://flatland.example/#m1.eJyrVkrOz0nNS1eyUlAqS8wpTVWqBQA",
            &long_link,
        ] {
            let qr = encode(text.as_bytes()).unwrap();
            assert_eq!(
                decode(&qr).unwrap(),
                text.as_bytes(),
                "version {}",
                qr.version
            );
        }
        assert!(long_link.len() > 1990);
        let qr = encode(long_link.as_bytes()).unwrap();
        assert!(qr.version <= 40 && qr.ecc == Ecc::M);
        for v in [1, 2, 6, 7, 14, 25, 40] {
            for ecc in [Ecc::L, Ecc::M] {
                let data: Vec<u8> = (0..byte_capacity(v, ecc))
                    .map(|i| (i * 7 + v) as u8)
                    .collect();
                let qr = encode_at(&data, v, ecc);
                assert_eq!(decode(&qr).unwrap(), data, "{v} {ecc:?}");
            }
        }
    }

    #[test]
    fn finders_and_svg() {
        let qr = encode(b"flatland").unwrap();
        assert_eq!(qr.version, 1);
        assert_eq!(qr.size, 21);
        // Finder pattern rows: 1111111 / 1000001 / 1011101.
        let row = |y: usize, x0: usize| {
            (x0..x0 + 7)
                .map(|x| if qr.get(x, y) { '1' } else { '0' })
                .collect::<String>()
        };
        for x0 in [0, 14] {
            assert_eq!(row(0, x0), "1111111");
            assert_eq!(row(1, x0), "1000001");
            assert_eq!(row(2, x0), "1011101");
            assert_eq!(row(6, x0), "1111111");
        }
        assert_eq!(row(14, 0), "1111111");
        assert!(qr.get(8, 13), "dark module");
        let svg = qr_svg("flatland").unwrap();
        assert!(
            svg.starts_with("<svg")
                && svg.matches("<path").count() == 1
                && svg.contains("viewBox=\"0 0 29 29\"")
        );
        assert!(qr_svg(&"x".repeat(3000)).is_err());
    }
}
