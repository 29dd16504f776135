//! The geometry of one axis of a sliding window (convolution or pooling), computed in one
//! place for the shape rules, the forward passes' padding, the explanations and the window
//! view: output length, padding before and after, the dilated span and the formula text.
//!
//! Keras 3's rules (`compute_conv_output_shape`, `compute_pooling_output_shape`, and
//! TensorFlow's padding for the backend):
//! - `valid`: `out = ⌊(n − d(k−1) − 1)/s⌋ + 1`, refused when that is zero or negative
//!   ([`Problem::WindowTooLarge`]); no padding.
//! - `same`: `out = ⌈n/s⌉`; the total padding `(out − 1)·s + span − n` (at least 0) is split
//!   with the extra cell after: `before = ⌊total/2⌋`.
//! - `causal` (Conv1D): `out = ⌈n/s⌉`; `d(k−1)` cells of padding before, none after.
//!
//! [`Window::transposed`] gives the transposed convolution's output length and cropping.

use std::ops::Range;

use super::args::Padding;
use crate::engine::error::Problem;

/// One axis of a sliding window: input length, kernel (or pool) size, stride, dilation and
/// padding. A stride of 0 counts as 1 (the layers refuse it before it gets here).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// Input length along the axis.
    pub n: usize,
    /// Kernel or pool size.
    pub k: usize,
    /// Stride.
    pub s: usize,
    /// Dilation rate (1 for pooling).
    pub d: usize,
    pub padding: Padding,
}

/// [`Window::geometry`]: where the windows of one axis lie.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WindowGeometry {
    /// The window this was computed for.
    pub window: Window,
    /// Output length: the number of windows.
    pub out: usize,
    /// Padding cells before the input.
    pub pad_before: usize,
    /// Padding cells after the input (only "same" has any).
    pub pad_after: usize,
    /// Dilated span `d·(k − 1) + 1`: padded cells from a window's first tap to its last.
    pub span: usize,
}

/// [`Window::transposed`]: a transposed convolution along one axis.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TransposedGeometry {
    /// The window this was computed for (`n` is the transposed convolution's input length).
    pub window: Window,
    /// Keras's `output_padding` for this axis, when given.
    pub output_padding: Option<usize>,
    /// Output length.
    pub out: usize,
    /// Cells cut from the start of the full scatter (input cell `i`'s tap `a` lands on
    /// output `i·s + a·d − crop_before`).
    pub crop_before: usize,
    /// Dilated span `d·(k − 1) + 1`.
    pub span: usize,
}

/// The dilated span `d·(k − 1) + 1` of a kernel of size `k` (at least 1).
///
/// # Errors
/// [`Problem::Overflow`] when it does not fit in `usize`.
pub fn dilated_span(k: usize, d: usize) -> Result<usize, Problem> {
    k.saturating_sub(1)
        .checked_mul(d)
        .and_then(|x| x.checked_add(1))
        .ok_or(Problem::Overflow {
            what: "dilated kernel",
        })
}

impl Window {
    pub const fn new(n: usize, k: usize, s: usize, d: usize, padding: Padding) -> Self {
        Window {
            n,
            k,
            s,
            d,
            padding,
        }
    }

    /// A pooling window: dilation 1.
    pub const fn pool(n: usize, k: usize, s: usize, padding: Padding) -> Self {
        Window::new(n, k, s, 1, padding)
    }

    /// The stride, at least 1.
    pub fn stride(&self) -> usize {
        self.s.max(1)
    }

    /// The dilated span `d·(k − 1) + 1` ([`dilated_span`]).
    ///
    /// # Errors
    /// [`Problem::Overflow`] when it does not fit in `usize`.
    pub fn span(&self) -> Result<usize, Problem> {
        dilated_span(self.k, self.d)
    }

    /// Output length and padding (Keras's rules, see the module documentation).
    ///
    /// # Errors
    /// [`Problem::Overflow`] when the span overflows; [`Problem::WindowTooLarge`] when a
    /// "valid" window does not fit in the input (the output length would be ≤ 0).
    pub fn geometry(&self) -> Result<WindowGeometry, Problem> {
        let span = self.span()?;
        let (n, s) = (self.n, self.stride());
        let (out, pad_before, pad_after) = match self.padding {
            Padding::Valid => {
                let Some(room) = n.checked_sub(span) else {
                    return Err(Problem::WindowTooLarge {
                        axis: None,
                        span,
                        n,
                        would: (n as i128 - span as i128).div_euclid(s as i128) + 1,
                    });
                };
                (room / s + 1, 0, 0)
            }
            Padding::Same => {
                let out = n.div_ceil(s);
                // The last window starts at (out − 1)·s ≤ n − 1 and needs `span` cells; no
                // window (empty input) needs no padding.
                let last = out.saturating_sub(1).saturating_mul(s);
                let total = if out == 0 {
                    0
                } else {
                    span.saturating_sub(n.saturating_sub(last))
                };
                (out, total / 2, total - total / 2)
            }
            Padding::Causal => (n.div_ceil(s), span.saturating_sub(1), 0),
        };
        Ok(WindowGeometry {
            window: *self,
            out,
            pad_before,
            pad_after,
            span,
        })
    }

    /// A transposed convolution along this axis (Keras `_get_output_shape_given_tf_padding`
    /// for the length; the cropping of the backend's `conv_transpose`).
    ///
    /// # Errors
    /// [`Problem::Overflow`] when the span or the output length overflows.
    pub fn transposed(&self, output_padding: Option<usize>) -> Result<TransposedGeometry, Problem> {
        let span = self.span()?;
        let (n, s) = (self.n, self.stride());
        let ovf = Problem::Overflow {
            what: "output length",
        };
        let nm1 = n.saturating_sub(1);
        let out = match (self.padding, output_padding) {
            (Padding::Same, None) => n.checked_mul(s),
            (Padding::Same, Some(op)) => nm1
                .checked_mul(s)
                .and_then(|x| x.checked_add(span))
                .and_then(|x| x.checked_add(op))
                .and_then(|x| x.checked_sub(span / 2 * 2)),
            (_, op) => nm1
                .checked_mul(s)
                .and_then(|x| x.checked_add(span))
                .and_then(|x| x.checked_add(op.unwrap_or(span.max(s) - span))),
        }
        .ok_or(ovf)?;
        let left = match self.padding {
            Padding::Same => {
                // u128: a huge stride is valid on an empty input, output 0 × s (fuzz
                // regression: conv_transpose_same_huge_stride_empty_input).
                let (s, ke) = (s as u128, span as u128);
                let pad_len = match output_padding {
                    None => s + ke - 2,
                    Some(o) => ke + ke % 2 - 2 + o as u128,
                };
                (pad_len / 2 + pad_len % 2).min(ke - 1) as usize
            }
            _ => span.saturating_sub(1),
        };
        Ok(TransposedGeometry {
            window: *self,
            output_padding,
            out,
            crop_before: span.saturating_sub(1).saturating_sub(left),
            span,
        })
    }
}

impl WindowGeometry {
    /// One cell under a one-cell window (the row axis of a 1-D layer in the window view).
    pub const UNIT: WindowGeometry = WindowGeometry {
        window: Window::new(1, 1, 1, 1, Padding::Valid),
        out: 1,
        pad_before: 0,
        pad_after: 0,
        span: 1,
    };

    /// `(pad_before, pad_after)`.
    pub fn pads(&self) -> (usize, usize) {
        (self.pad_before, self.pad_after)
    }

    /// Length including padding (saturating).
    pub fn padded_len(&self) -> usize {
        self.pad_before
            .saturating_add(self.window.n)
            .saturating_add(self.pad_after)
    }

    /// Padded coordinate where window `o` starts: `o·s` (saturating).
    pub fn start(&self, o: usize) -> usize {
        o.saturating_mul(self.window.stride())
    }

    /// Padded coordinates of window `o`'s taps: `o·s + t·d` for `t` in `0..k` (saturating).
    pub fn taps(&self, o: usize) -> Vec<usize> {
        let start = self.start(o);
        (0..self.window.k)
            .map(|t| start.saturating_add(t.saturating_mul(self.window.d)))
            .collect()
    }

    /// Whether padded coordinate `p` is padding.
    pub fn is_pad(&self, p: usize) -> bool {
        p < self.pad_before || p - self.pad_before >= self.window.n
    }

    /// Input index of padded coordinate `p` (`None` for padding).
    pub fn source(&self, p: usize) -> Option<usize> {
        (!self.is_pad(p)).then(|| p - self.pad_before)
    }

    /// Input indices covered by window `o`'s span (all of them for dilation 1), clipped to
    /// the input: the cells a pooling window reduces. Never walks the window, so a huge
    /// pool size costs nothing (fuzz regression: `max_pooling1d_same_huge_pool`).
    pub fn cells(&self, o: usize) -> Range<usize> {
        let n = self.window.n as i128;
        let start = o as i128 * self.window.stride() as i128 - self.pad_before as i128;
        let lo = start.clamp(0, n);
        let hi = (start + self.span as i128).clamp(lo, n);
        lo as usize..hi as usize
    }

    /// The output length with the numbers, e.g. `⌊(15 − 1)/1⌋ + 1 = 15` (valid) or
    /// `⌈7/2⌉ = 4` (same, causal).
    pub fn formula(&self) -> String {
        let Window { n, k, d, .. } = self.window;
        let (s, out) = (self.window.stride(), self.out);
        match self.window.padding {
            Padding::Valid => {
                let dil = if d > 1 {
                    format!("{d}·({k} − 1) + 1 = {}", self.span)
                } else {
                    format!("{k}")
                };
                format!("⌊({n} − {dil})/{s}⌋ + 1 = {out}")
            }
            Padding::Same | Padding::Causal => format!("⌈{n}/{s}⌉ = {out}"),
        }
    }
}

impl TransposedGeometry {
    /// The output length with the numbers, e.g. `(5 − 1) × 2 + 3 + 0 = 11`.
    pub fn formula(&self) -> String {
        let (n, s, kd, out) = (self.window.n, self.window.stride(), self.span, self.out);
        match (self.window.padding, self.output_padding) {
            (Padding::Same, None) => format!("{n} × {s} = {out}"),
            (Padding::Same, Some(op)) => {
                format!("({n} − 1) × {s} + {kd} − 2·⌊{kd}/2⌋ + {op} = {out}")
            }
            (_, op) => {
                let op = op.unwrap_or(kd.max(s) - kd);
                format!("({n} − 1) × {s} + {kd} + {op} = {out}")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn out(n: usize, k: usize, s: usize, d: usize, p: Padding) -> Result<usize, Problem> {
        Window::new(n, k, s, d, p).geometry().map(|g| g.out)
    }

    #[test]
    fn window_table() {
        // (n, k, s, d, padding) -> out
        let table = [
            (15, 1, 1, 1, Padding::Valid, 15),
            (2, 2, 1, 1, Padding::Valid, 1),
            (28, 3, 1, 1, Padding::Valid, 26),
            (26, 2, 2, 1, Padding::Valid, 13),
            (10, 3, 1, 2, Padding::Valid, 6),
            (7, 3, 2, 1, Padding::Same, 4),
            (7, 3, 1, 1, Padding::Causal, 7),
        ];
        for (n, k, s, d, p, o) in table {
            assert_eq!(out(n, k, s, d, p), Ok(o), "{n} {k} {s} {d} {p:?}");
        }
        assert!(out(1, 3, 1, 1, Padding::Valid).is_err());
        // Keras refuses a zero-length output too.
        assert_eq!(
            out(2, 3, 1, 1, Padding::Valid),
            Err(Problem::WindowTooLarge {
                axis: None,
                span: 3,
                n: 2,
                would: 0
            })
        );
        assert_eq!(
            out(2, 3, 1, 1, Padding::Valid).map_err(|e| e.to_string()),
            Err(
                "window 3 is larger than the input 2 (valid padding): the output length would be 0"
                    .to_string()
            )
        );
        assert_eq!(
            out(usize::MAX, 2, 1, usize::MAX, Padding::Same),
            Err(Problem::Overflow {
                what: "dilated kernel"
            })
        );
    }

    #[test]
    fn pads_and_span() {
        let g = Window::new(5, 2, 2, 1, Padding::Same).geometry();
        assert_eq!(g.map(|g| (g.out, g.pads(), g.span)), Ok((3, (0, 1), 2)));
        let g = Window::new(7, 3, 1, 1, Padding::Same).geometry();
        assert_eq!(g.map(|g| g.pads()), Ok((1, 1)));
        let g = Window::new(7, 3, 1, 2, Padding::Causal).geometry();
        assert_eq!(g.map(|g| (g.out, g.pads(), g.span)), Ok((7, (4, 0), 5)));
        let g = Window::new(10, 3, 1, 2, Padding::Valid).geometry();
        assert_eq!(g.map(|g| (g.pads(), g.padded_len())), Ok(((0, 0), 10)));
    }

    #[test]
    fn formula_shows_numbers() {
        let f = |n, k, s, d, p| Window::new(n, k, s, d, p).geometry().map(|g| g.formula());
        assert_eq!(
            f(15, 1, 1, 1, Padding::Valid),
            Ok("⌊(15 − 1)/1⌋ + 1 = 15".to_string())
        );
        assert_eq!(
            f(10, 3, 1, 2, Padding::Valid),
            Ok("⌊(10 − 2·(3 − 1) + 1 = 5)/1⌋ + 1 = 6".to_string())
        );
        assert_eq!(f(7, 3, 2, 1, Padding::Same), Ok("⌈7/2⌉ = 4".to_string()));
    }

    #[test]
    fn pool_cells_clip_to_the_input() {
        let g = Window::pool(5, 2, 2, Padding::Same).geometry();
        assert_eq!(
            g.map(|g| (0..g.out).map(|o| g.cells(o)).collect::<Vec<_>>()),
            Ok(vec![0..2, 2..4, 4..5])
        );
        let g = Window::pool(4, usize::MAX, 1, Padding::Same).geometry();
        assert_eq!(g.map(|g| g.cells(3)), Ok(0..4));
    }

    #[test]
    fn transpose_table() {
        let t = |n, k, s, d, p, op| Window::new(n, k, s, d, p).transposed(op).map(|t| t.out);
        assert_eq!(t(5, 3, 2, 1, Padding::Valid, None), Ok(11));
        assert_eq!(t(5, 3, 2, 1, Padding::Same, None), Ok(10));
        assert_eq!(t(5, 3, 1, 1, Padding::Valid, None), Ok(7));
        assert_eq!(t(5, 3, 2, 1, Padding::Valid, Some(1)), Ok(12));
        let g = Window::new(5, 3, 2, 1, Padding::Same).transposed(None);
        assert_eq!(
            g.map(|g| (g.crop_before, g.formula())),
            Ok((0, "5 × 2 = 10".to_string()))
        );
        let g = Window::new(5, 3, 2, 1, Padding::Valid).transposed(None);
        assert_eq!(
            g.map(|g| (g.crop_before, g.formula())),
            Ok((0, "(5 − 1) × 2 + 3 + 0 = 11".to_string()))
        );
        let g = Window::new(5, 4, 1, 1, Padding::Same).transposed(Some(0));
        assert_eq!(
            g.map(|g| (g.out, g.crop_before, g.formula())),
            Ok((4, 2, "(5 − 1) × 1 + 4 − 2·⌊4/2⌋ + 0 = 4".to_string()))
        );
    }

    /// The `PyTorch` exporter's TensorFlow "same" padding (`Torch::same_padding` in layers/code.rs,
    /// it prints as `nn.ConstantPad1d((before, after), 0.0)` for a strided "same"
    /// Conv1D): [`Window::geometry`] gives the same pads, so the exporter can call it instead.
    #[test]
    fn same_pads_match_the_exporter() {
        use crate::codec::export::to_pytorch_code;
        use crate::engine::layers::args::R1;
        use crate::engine::layers::conv::Conv;
        use crate::engine::{Layer, LayerSpec, Model};
        let mut checked = 0;
        for n in 1..=20 {
            for k in 1..=7 {
                for s in 2..=5 {
                    let conv = Conv::<R1> {
                        filters: 1,
                        kernel_size: vec![k],
                        strides: vec![s],
                        padding: Padding::Same,
                        ..Conv::default()
                    };
                    let m = Model {
                        name: "m".into(),
                        input_shape: vec![n, 1],
                        layers: vec![Layer::new("conv1d", LayerSpec::Conv1D(conv))],
                    };
                    let code = to_pytorch_code(&m);
                    let exported = code
                        .lines()
                        .find_map(|l| l.trim().strip_prefix("nn.ConstantPad1d(("))
                        .and_then(|l| l.split_once("), 0.0)"))
                        .and_then(|(pads, _)| pads.split_once(", "))
                        .and_then(|(a, b)| Some((a.parse::<usize>().ok()?, b.parse().ok()?)));
                    let g = Window::new(n, k, s, 1, Padding::Same).geometry();
                    assert_eq!(
                        g.map(|g| Some(g.pads())),
                        Ok(exported),
                        "n {n} k {k} s {s}\n{code}"
                    );
                    checked += 1;
                }
            }
        }
        assert_eq!(checked, 20 * 7 * 4);
    }
}
