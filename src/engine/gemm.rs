//! The f32 matrix product of the forward pass (im2col convolutions, transposed convolutions,
//! Dense): [`gemm`]`(a, b)` = `a · b`.
//!
//! Natively it is ndarray's `dot`: matrixmultiply picks AVX2/FMA kernels at run time. In
//! wasm32, matrixmultiply has no SIMD kernel and runs its scalar fallback, so there the
//! product is this module's tiled kernel instead:
//! - B is packed once into panels of [`NR`] = 8 columns (zero-padded at the right edge), each
//!   panel `k` rows of two 4-lane vectors, read front to back;
//! - A is read in place, [`MR`] = 4 rows at a time (a short last block repeats its last row
//!   and drops those results): packing it would copy as much as the im2col itself;
//! - the 4×8 micro-kernel keeps its tile in 8 vector accumulators and does, per `k`, 2 B
//!   loads, 4 A broadcasts and 8 multiply-adds (`f32x4_mul` + `f32x4_add`: base simd128 has
//!   no fused multiply-add, and relaxed-simd is not assumed). Panels are the outer loop, so
//!   one panel (`k`·32 bytes, 9 KB for the MNIST CNN's second convolution) stays in L1 while
//!   the A blocks stream past it.
//!
//! The kernel is written once over a 4-lane type ([`Quad`]): `v128` with `+simd128`, `[f32; 4]`
//! otherwise (the portable scalar fallback, also what the native unit tests check the tiling
//! and edges with). The tile is unrolled by hand: the web profile builds this crate at
//! `opt-level = "z"`, which does not unroll loops, so an accumulator array would live in
//! memory. The sums run over `k` in order, as the naive product does, so results differ
//! from ndarray's only by rounding (each output is one dot product in f32).

use ndarray::{Array2, ArrayView2};

/// Rows of A per micro-tile.
const MR: usize = 4;
/// Columns of B per micro-tile (two 4-lane vectors).
const NR: usize = 8;

/// `a · b` for `a` (m × k) and `b` (k × n): ndarray's `dot` off wasm32, the tiled kernel of
/// this module in wasm32 (SIMD with `+simd128`).
///
/// The callers check that `a.ncols() == b.nrows()`; on a mismatch the result is all zeros
/// (m × n) rather than a panic.
pub fn gemm(a: ArrayView2<'_, f32>, b: ArrayView2<'_, f32>) -> Array2<f32> {
    gemm_bias_relu(a, b, None, false)
}

/// [`gemm`] followed by `+ bias` on every row and, with `relu`, `max(·, 0)` (0 for NaN, as
/// `f32::max` gives): in wasm32 both ride along with the tile stores instead of taking
/// another pass over the output. A bias shorter than `n` counts as 0 past its end.
pub fn gemm_bias_relu(
    a: ArrayView2<'_, f32>,
    b: ArrayView2<'_, f32>,
    bias: Option<&[f32]>,
    relu: bool,
) -> Array2<f32> {
    if a.ncols() != b.nrows() {
        return Array2::zeros((a.nrows(), b.ncols()));
    }
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    {
        tiled::<core::arch::wasm32::v128>(a, b, bias, relu)
    }
    #[cfg(all(target_arch = "wasm32", not(target_feature = "simd128")))]
    {
        tiled::<[f32; 4]>(a, b, bias, relu)
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        let mut y = a.dot(&b);
        if let Some(bias) = bias {
            for mut row in y.rows_mut() {
                for (o, &bb) in row.iter_mut().zip(bias) {
                    *o += bb;
                }
            }
        }
        if relu {
            y.mapv_inplace(|v| v.max(0.0));
        }
        y
    }
}

/// Four f32 lanes: a wasm `v128` or a plain array.
trait Quad: Copy {
    const ZERO: Self;
    fn new(v: [f32; 4]) -> Self;
    fn splat(x: f32) -> Self;
    /// `acc + a · b`, lane by lane.
    fn mul_add(acc: Self, a: Self, b: Self) -> Self;
    fn add(a: Self, b: Self) -> Self;
    /// `max(·, 0)` lane by lane, 0 for NaN.
    fn relu(self) -> Self;
    fn lanes(self) -> [f32; 4];
}

impl Quad for [f32; 4] {
    const ZERO: Self = [0.0; 4];
    #[inline(always)]
    fn new(v: [f32; 4]) -> Self {
        v
    }
    #[inline(always)]
    fn splat(x: f32) -> Self {
        [x; 4]
    }
    #[inline(always)]
    fn mul_add(acc: Self, a: Self, b: Self) -> Self {
        [
            acc[0] + a[0] * b[0],
            acc[1] + a[1] * b[1],
            acc[2] + a[2] * b[2],
            acc[3] + a[3] * b[3],
        ]
    }
    #[inline(always)]
    fn add(a: Self, b: Self) -> Self {
        [a[0] + b[0], a[1] + b[1], a[2] + b[2], a[3] + b[3]]
    }
    #[inline(always)]
    fn relu(self) -> Self {
        self.map(|v| v.max(0.0))
    }
    #[inline(always)]
    fn lanes(self) -> [f32; 4] {
        self
    }
}

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
impl Quad for core::arch::wasm32::v128 {
    const ZERO: Self = core::arch::wasm32::f32x4(0.0, 0.0, 0.0, 0.0);
    #[inline(always)]
    fn new(v: [f32; 4]) -> Self {
        core::arch::wasm32::f32x4(v[0], v[1], v[2], v[3])
    }
    #[inline(always)]
    fn splat(x: f32) -> Self {
        core::arch::wasm32::f32x4_splat(x)
    }
    #[inline(always)]
    fn mul_add(acc: Self, a: Self, b: Self) -> Self {
        use core::arch::wasm32::{f32x4_add, f32x4_mul};
        f32x4_add(acc, f32x4_mul(a, b))
    }
    #[inline(always)]
    fn add(a: Self, b: Self) -> Self {
        core::arch::wasm32::f32x4_add(a, b)
    }
    #[inline(always)]
    fn relu(self) -> Self {
        // pmax(0, v) = if 0 < v { v } else { 0 }: NaN gives 0, as f32::max(v, 0.0) does.
        core::arch::wasm32::f32x4_pmax(Self::ZERO, self)
    }
    #[inline(always)]
    fn lanes(self) -> [f32; 4] {
        use core::arch::wasm32::f32x4_extract_lane;
        [
            f32x4_extract_lane::<0>(self),
            f32x4_extract_lane::<1>(self),
            f32x4_extract_lane::<2>(self),
            f32x4_extract_lane::<3>(self),
        ]
    }
}

/// `dst[i] = max(dst[i], src[i])` over the common length, as `f32::max` (a NaN in `src` is
/// skipped) while `dst` holds no NaN, which pooling guarantees by starting from −∞. Four lanes
/// at a time in wasm32: pooling's channel loop is not vectorised at the web build's
/// `opt-level = "z"`, and there safe chunk iterators are not inlined either.
#[inline]
pub fn max_assign(dst: &mut [f32], src: &[f32]) {
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    {
        simd_assign(
            dst,
            src,
            |a, b| core::arch::wasm32::f32x4_pmax(a, b),
            f32::max,
        );
    }
    #[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
    {
        for (d, &s) in dst.iter_mut().zip(src) {
            *d = d.max(s);
        }
    }
}

/// `dst[i] += src[i]` over the common length (four lanes at a time in wasm32).
#[inline]
pub fn add_assign(dst: &mut [f32], src: &[f32]) {
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    {
        simd_assign(
            dst,
            src,
            |a, b| core::arch::wasm32::f32x4_add(a, b),
            |a, b| a + b,
        );
    }
    #[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
    {
        for (d, &s) in dst.iter_mut().zip(src) {
            *d += s;
        }
    }
}

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
#[inline(always)]
#[allow(clippy::cast_ptr_alignment)] // v128_load / v128_store take unaligned pointers
fn simd_assign(
    dst: &mut [f32],
    src: &[f32],
    quad: impl Fn(core::arch::wasm32::v128, core::arch::wasm32::v128) -> core::arch::wasm32::v128,
    one: impl Fn(f32, f32) -> f32,
) {
    use core::arch::wasm32::{v128, v128_load, v128_store};
    let len = dst.len().min(src.len());
    let mut i = 0;
    while i + 4 <= len {
        // SAFETY: i + 4 <= len ≤ dst.len() and ≤ src.len(), so the 16 bytes at element i of
        // each slice are in bounds; v128_load / v128_store need no alignment. `dst` is a
        // unique borrow, so the store aliases nothing else.
        unsafe {
            let d = dst.as_mut_ptr().add(i).cast::<v128>();
            let s = src.as_ptr().add(i).cast::<v128>();
            v128_store(d, quad(v128_load(d), v128_load(s)));
        }
        i += 4;
    }
    for (d, &s) in dst.iter_mut().zip(src).skip(i) {
        *d = one(*d, s);
    }
}

/// B (k × n) as panels of [`NR`] columns: panel `p`, row `kk` is the two vectors at
/// `(p·k + kk)·2`. Columns past `n` are zero.
fn pack_b<Q: Quad>(bv: &[f32], k: usize, n: usize) -> Vec<Q> {
    let panels = n.div_ceil(NR);
    let mut out = vec![Q::ZERO; panels * k * 2];
    for (p, panel) in out.chunks_exact_mut(2 * k).enumerate() {
        let j0 = p * NR;
        for (dst, row) in panel.chunks_exact_mut(2).zip(bv.chunks_exact(n)) {
            let [lo, hi] = dst else {
                continue;
            };
            if let Some(c) = row.get(j0..j0 + NR) {
                *lo = Q::new([c[0], c[1], c[2], c[3]]);
                *hi = Q::new([c[4], c[5], c[6], c[7]]);
            } else {
                let mut v = [0.0f32; NR];
                for (d, &x) in v.iter_mut().zip(row.iter().skip(j0)) {
                    *d = x;
                }
                *lo = Q::new([v[0], v[1], v[2], v[3]]);
                *hi = Q::new([v[4], v[5], v[6], v[7]]);
            }
        }
    }
    out
}

/// One 4×8 tile: rows `a` of A (each `k` long; past A's last row the block repeats that row
/// and the caller drops those results), `bp` a packed B panel (k·2 vectors). Returns the
/// tile's rows as (left, right) vector pairs.
#[inline(always)]
fn tile<Q: Quad>(a: [&[f32]; MR], bp: &[Q]) -> [[Q; 2]; MR] {
    let mut c = [[Q::ZERO; 2]; MR];
    let [r0, r1, r2, r3] = a;
    let steps = bp.chunks_exact(2).zip(r0).zip(r1).zip(r2).zip(r3);
    for ((((b, &x0), &x1), &x2), &x3) in steps {
        let (b0, b1) = (b[0], b[1]);
        // A fixed 4-row loop over a local array: unrolled, the accumulators stay in registers.
        for (row, x) in c.iter_mut().zip([x0, x1, x2, x3]) {
            let ax = Q::splat(x);
            row[0] = Q::mul_add(row[0], ax, b0);
            row[1] = Q::mul_add(row[1], ax, b1);
        }
    }
    c
}

/// The tiled product (B packed, A read in place, 4×8 register tiles).
#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
fn tiled<Q: Quad>(
    a: ArrayView2<'_, f32>,
    b: ArrayView2<'_, f32>,
    bias: Option<&[f32]>,
    relu: bool,
) -> Array2<f32> {
    let (m, k) = a.dim();
    let n = b.ncols();
    if m == 0 || n == 0 || k == 0 || k != b.nrows() {
        return Array2::zeros((m, n));
    }
    let (a_std, b_std) = (a.as_standard_layout(), b.as_standard_layout());
    let (Some(av), Some(bv)) = (a_std.as_slice(), b_std.as_slice()) else {
        return Array2::zeros((m, n));
    };
    let bp = pack_b::<Q>(bv, k, n);
    let rows: Vec<&[f32]> = av.chunks_exact(k).collect();
    let mut out = vec![0.0f32; m * n];
    for (p, panel) in bp.chunks_exact(2 * k).enumerate() {
        let j0 = p * NR;
        let w = (n - j0).min(NR);
        let bias_at = |j: usize| bias.and_then(|b| b.get(j0 + j)).copied().unwrap_or(0.0);
        let bias_l = Q::new([bias_at(0), bias_at(1), bias_at(2), bias_at(3)]);
        let bias_h = Q::new([bias_at(4), bias_at(5), bias_at(6), bias_at(7)]);
        for (ib, block) in rows.chunks(MR).enumerate() {
            let last = block.len() - 1;
            let pick = |r: usize| block[r.min(last)];
            let c = tile::<Q>([pick(0), pick(1), pick(2), pick(3)], panel);
            let i0 = ib * MR;
            for (r, [mut left, mut right]) in c.into_iter().enumerate().take(block.len()) {
                if bias.is_some() {
                    left = Q::add(left, bias_l);
                    right = Q::add(right, bias_h);
                }
                if relu {
                    left = left.relu();
                    right = right.relu();
                }
                let (l, h) = (left.lanes(), right.lanes());
                let at = (i0 + r) * n + j0;
                match out.get_mut(at..at + NR) {
                    Some(dst) if w == NR => {
                        dst[..4].copy_from_slice(&l);
                        dst[4..].copy_from_slice(&h);
                    }
                    _ => {
                        let v = [l[0], l[1], l[2], l[3], h[0], h[1], h[2], h[3]];
                        out[at..at + w].copy_from_slice(&v[..w]);
                    }
                }
            }
        }
    }
    Array2::from_shape_vec((m, n), out).unwrap_or_else(|_| Array2::zeros((m, n)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::rng::Rng;

    fn naive(a: &Array2<f32>, b: &Array2<f32>) -> Array2<f32> {
        let (m, k) = a.dim();
        let n = b.ncols();
        Array2::from_shape_fn((m, n), |(i, j)| {
            (0..k)
                .map(|t| f64::from(a[[i, t]]) * f64::from(b[[t, j]]))
                .sum::<f64>() as f32
        })
    }

    fn random(rng: &mut Rng, r: usize, c: usize) -> Array2<f32> {
        Array2::from_shape_simple_fn((r, c), || rng.uniform(-1.0, 1.0))
    }

    #[test]
    fn scalar_tiles_match_naive_on_odd_sizes() {
        let mut rng = Rng::new(7);
        for &(m, k, n) in &[
            (1, 1, 1),
            (3, 5, 7),
            (4, 8, 8),
            (5, 9, 9),
            (33, 17, 65),
            (121, 288, 64),
            (1, 1600, 10),
            (2, 3, 0),
            (0, 3, 2),
            (3, 0, 2),
        ] {
            let a = random(&mut rng, m, k);
            let b = random(&mut rng, k, n);
            let want = naive(&a, &b);
            let got = tiled::<[f32; 4]>(a.view(), b.view(), None, false);
            assert_eq!(got.dim(), (m, n));
            for (g, w) in got.iter().zip(want.iter()) {
                assert!(
                    (g - w).abs() <= 1e-5 + 1e-5 * w.abs(),
                    "{m}×{k}·{k}×{n}: {g} vs {w}"
                );
            }
            let dot = gemm(a.view(), b.view());
            assert_eq!(dot.dim(), (m, n));
        }
    }

    #[test]
    fn strided_views_and_mismatch() {
        let mut rng = Rng::new(8);
        let a = random(&mut rng, 6, 10);
        let b = random(&mut rng, 10, 12);
        // Transposed and sliced operands are not in standard layout.
        let at = a.t().to_owned();
        let got = tiled::<[f32; 4]>(at.t(), b.slice(ndarray::s![.., 1..10]), None, false);
        let want = naive(&a, &b.slice(ndarray::s![.., 1..10]).to_owned());
        for (g, w) in got.iter().zip(want.iter()) {
            assert!((g - w).abs() <= 1e-5);
        }
        assert_eq!(gemm(a.view(), a.view()), Array2::<f32>::zeros((6, 10)));
    }

    #[test]
    fn bias_and_relu_epilogue() {
        let mut rng = Rng::new(9);
        for &(m, k, n) in &[(1, 1, 1), (5, 7, 9), (13, 20, 16), (4, 3, 11)] {
            let a = random(&mut rng, m, k);
            let b = random(&mut rng, k, n);
            // One entry short: the last column gets no bias.
            let bias: Vec<f32> = (0..n.saturating_sub(1))
                .map(|_| rng.uniform(-1.0, 1.0))
                .collect();
            let plain = naive(&a, &b);
            for relu in [false, true] {
                let want = Array2::from_shape_fn((m, n), |(i, j)| {
                    let v = plain[[i, j]] + bias.get(j).copied().unwrap_or(0.0);
                    if relu {
                        v.max(0.0)
                    } else {
                        v
                    }
                });
                let scalar = tiled::<[f32; 4]>(a.view(), b.view(), Some(&bias), relu);
                let native = gemm_bias_relu(a.view(), b.view(), Some(&bias), relu);
                for ((s, d), w) in scalar.iter().zip(native.iter()).zip(want.iter()) {
                    assert!(
                        (s - w).abs() <= 1e-5 && (d - w).abs() <= 1e-5,
                        "{s} {d} {w}"
                    );
                }
            }
        }
        let nan = Array2::from_elem((1, 1), f32::NAN);
        let one = Array2::from_elem((1, 1), 1.0f32);
        assert_eq!(
            tiled::<[f32; 4]>(nan.view(), one.view(), None, true)[[0, 0]],
            0.0
        );
        assert_eq!(
            gemm_bias_relu(nan.view(), one.view(), None, true)[[0, 0]],
            0.0
        );
    }

    #[test]
    fn lane_helpers() {
        let mut d: Vec<f32> = vec![f32::NEG_INFINITY; 7];
        let s = [1.0, f32::NAN, -2.0, 3.0, 0.5, f32::NAN, 9.0, 100.0];
        max_assign(&mut d, &s);
        assert_eq!(
            d,
            [
                1.0,
                f32::NEG_INFINITY,
                -2.0,
                3.0,
                0.5,
                f32::NEG_INFINITY,
                9.0
            ]
        );
        add_assign(&mut d, &[1.0; 7]);
        assert_eq!(d[0], 2.0);
        assert_eq!(d[6], 10.0);
    }
}
