//! Pooling: `MaxPooling1D/2D`, `AveragePooling1D/2D` (strides default to `pool_size`; "same"
//! averages count only real input cells, like Keras), and the global poolings (keepdims).

use ndarray::{Array4, ArrayD, Axis, Ix4, IxDyn};
use serde::{Deserialize, Serialize};
use std::marker::PhantomData;

use super::args::{de_ints, de_opt_ints, expand, positive, Padding, Rank, Reduce};
use super::code::{int_or_tuple, ints, KerasArgs, KerasTable, LayerCode, Torch};
use super::conv::view4;
use super::window::{Window, WindowGeometry};
use super::{Explanation, LayerRules};
use crate::engine::error::{Problem, RankNeed};
use crate::engine::gemm::{add_assign, max_assign};
use crate::engine::shape::Shape;
use crate::engine::train::grad::{reshape_to, Grads};

/// Spatial rank check shared by convolution and pooling.
///
/// # Errors
/// [`Problem::Rank`] when the input is not `(steps, channels)` / `(height, width, channels)`.
pub fn need_spatial(input: &Shape, r: usize) -> Result<(), Problem> {
    if input.rank() == r + 1 {
        Ok(())
    } else if r == 1 {
        Err(Problem::rank(
            RankNeed::exactly(3, "(steps, channels)"),
            input,
        ))
    } else {
        Err(Problem::rank(
            RankNeed::exactly(3, "(height, width, channels)"),
            input,
        ))
    }
}

/// View a `(B, L, C)` or `(B, H, W, C)` tensor as `(B, H, W, C)`.
///
/// # Errors
/// [`Problem::Layout`] for any other rank.
pub fn as_4d(x: &ArrayD<f32>) -> Result<Array4<f32>, Problem> {
    let x = if x.ndim() == 3 {
        x.clone().insert_axis(Axis(1))
    } else {
        x.clone()
    };
    x.into_dimensionality::<Ix4>()
        .map(|a| a.as_standard_layout().into_owned())
        .map_err(|_| Problem::layout("expected a 3-D or 4-D tensor"))
}

/// Back from `(B, 1, L, C)` when the layer is 1-D.
pub fn from_4d(y: Array4<f32>, r: usize) -> ArrayD<f32> {
    let y = y.into_dyn();
    if r == 1 {
        y.index_axis_move(Axis(1), 0)
    } else {
        y
    }
}

/// `keras.layers.{Max,Average}Pooling{1,2}D(pool_size=2, strides=None, padding="valid")`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
#[serde(bound = "")]
pub struct Pool<R: Rank, M: Reduce> {
    #[serde(skip)]
    pub _kind: PhantomData<(R, M)>,
    #[serde(deserialize_with = "de_ints")]
    pub pool_size: Vec<usize>,
    #[serde(deserialize_with = "de_opt_ints")]
    pub strides: Option<Vec<usize>>,
    pub padding: Padding,
}

impl<R: Rank, M: Reduce> Default for Pool<R, M> {
    fn default() -> Self {
        Pool {
            _kind: PhantomData,
            pool_size: vec![2; R::N],
            strides: None,
            padding: Padding::Valid,
        }
    }
}

impl<R: Rank, M: Reduce> Pool<R, M> {
    /// The height and width windows over an `h × w` input: 1-D layers see a (B, 1, L, C)
    /// view, a height-1 window over the height-1 axis.
    fn windows(
        &self,
        p: &[usize],
        s: &[usize],
        h: usize,
        w: usize,
    ) -> Result<(WindowGeometry, WindowGeometry), Problem> {
        let (ph, pw, sh, sw) = if R::N == 1 {
            (1, p[0], 1, s[0])
        } else {
            (p[0], p[1], s[0], s[1])
        };
        Ok((
            Window::pool(h, ph, sh, self.padding).geometry()?,
            Window::pool(w, pw, sw, self.padding).geometry()?,
        ))
    }
    fn geometry(&self) -> Result<(Vec<usize>, Vec<usize>), Problem> {
        let p = expand(&self.pool_size, R::N, "pool_size")?;
        positive(&p, "pool_size")?;
        let s = match &self.strides {
            Some(s) => expand(s, R::N, "strides")?,
            None => p.clone(),
        };
        positive(&s, "strides")?;
        if self.padding == Padding::Causal {
            return Err(Problem::config(
                "padding",
                "must be \"valid\" or \"same\" for pooling",
            ));
        }
        Ok((p, s))
    }
    #[allow(clippy::unused_self)] // named like the other kinds' `kind(&self)`
    fn kind(&self) -> String {
        let rank = R::N;
        format!("{}Pooling{rank}D", if M::MAX { "Max" } else { "Average" })
    }
}

impl<R: Rank, M: Reduce> LayerRules for Pool<R, M> {
    fn output_shape(&self, input: &Shape) -> Result<Shape, Problem> {
        let (p, s) = self.geometry()?;
        need_spatial(input, R::N)?;
        let d = input.dims();
        let mut out = (0..R::N)
            .map(|i| {
                Window::pool(d[i], p[i], s[i], self.padding)
                    .geometry()
                    .map(|g| g.out)
            })
            .collect::<Result<Vec<_>, _>>()?;
        out.push(d[R::N]);
        Ok(Shape::new(out))
    }
    fn forward(&self, x: &ArrayD<f32>, _w: &[ArrayD<f32>]) -> Result<ArrayD<f32>, Problem> {
        let (p, s) = self.geometry()?;
        let x4 = view4(x)?;
        let (b, h, w, c) = x4.dim();
        let (gh, gw) = self.windows(&p, &s, h, w)?;
        let (oh, ow) = (gh.out, gw.out);
        let mut y = Array4::<f32>::zeros((b, oh, ow, c));
        let x4 = x4.as_standard_layout();
        let xv = x4
            .as_slice()
            .ok_or_else(|| Problem::layout("input is not contiguous"))?;
        let yv = y
            .as_slice_mut()
            .ok_or_else(|| Problem::layout("output is not contiguous"))?;
        for bi in 0..b {
            for oi in 0..oh {
                for oj in 0..ow {
                    let at = ((bi * oh + oi) * ow + oj) * c;
                    let acc = &mut yv[at..at + c];
                    acc.fill(if M::MAX { f32::NEG_INFINITY } else { 0.0 });
                    let mut n = 0u32;
                    // Visit only the window cells inside the input: "same" padding accepts
                    // any pool_size, and walking a pool_size of 10^12 cell by cell hung
                    // (fuzz regression: max_pooling1d_same_huge_pool).
                    for i in gh.cells(oi) {
                        for j in gw.cells(oj) {
                            let src = ((bi * h + i) * w + j) * c;
                            if M::MAX {
                                max_assign(acc, &xv[src..src + c]);
                            } else {
                                add_assign(acc, &xv[src..src + c]);
                            }
                            n += 1;
                        }
                    }
                    if !M::MAX {
                        for o in acc.iter_mut() {
                            *o = if n > 0 { *o / n as f32 } else { 0.0 };
                        }
                    }
                }
            }
        }
        Ok(from_4d(y, R::N))
    }
    fn explain(&self, input: &Shape, output: &Shape) -> Explanation {
        let Ok((p, s)) = self.geometry() else {
            return Explanation::new("invalid pooling settings");
        };
        let mut e = Explanation::new(format!(
            "{} slides a {} window with stride {} over each spatial axis ({} padding); channels are unchanged; no weights.",
            self.kind(),
            p.iter().map(ToString::to_string).collect::<Vec<_>>().join("×"),
            s.iter().map(ToString::to_string).collect::<Vec<_>>().join("×"),
            self.padding.as_str()
        ));
        let names = if R::N == 1 {
            vec!["steps"]
        } else {
            vec!["height", "width"]
        };
        for (i, g) in input.dims().iter().take(R::N).enumerate() {
            if let Ok(g) = Window::pool(*g, p[i], s[i], self.padding).geometry() {
                e = e.step(format!("{}: out = {}", names[i], g.formula()));
            }
        }
        e.step(format!("{input} → {output}"))
    }
    fn settings(&self) -> String {
        format!("pool {:?}, {}", self.pool_size, self.padding.as_str())
    }
}
plain_grad!(
    impl<R: Rank, M: Reduce> Pool<R, M>,
    |layer, x, _w, _t, dy| {
        let (p, s) = layer.geometry()?;
        let x4 = view4(x)?;
        let (b, h, w, c) = x4.dim();
        let (gh, gw) = layer.windows(&p, &s, h, w)?;
        let (oh, ow) = (gh.out, gw.out);
        let dy4 = view4(dy)?;
        if dy4.dim() != (b, oh, ow, c) {
            return Err(Problem::layout("pooling gradient has the wrong shape"));
        }
        let mut dx = Array4::<f32>::zeros((b, h, w, c));
        for bi in 0..b {
            for oi in 0..oh {
                for oj in 0..ow {
                    let cells: Vec<(usize, usize)> = gh
                        .cells(oi)
                        .flat_map(|i| gw.cells(oj).map(move |j| (i, j)))
                        .collect();
                    for ch in 0..c {
                        let g = dy4[[bi, oi, oj, ch]];
                        if M::MAX {
                            // The first largest cell takes the gradient.
                            let mut best: Option<(usize, usize)> = None;
                            for &(i, j) in &cells {
                                if best.is_none_or(|(bi2, bj)| {
                                    x4[[bi, i, j, ch]] > x4[[bi, bi2, bj, ch]]
                                }) {
                                    best = Some((i, j));
                                }
                            }
                            if let Some((i, j)) = best {
                                dx[[bi, i, j, ch]] += g;
                            }
                        } else if !cells.is_empty() {
                            let share = g / cells.len() as f32;
                            for &(i, j) in &cells {
                                dx[[bi, i, j, ch]] += share;
                            }
                        }
                    }
                }
            }
        }
        Ok(Grads::input(reshape_to(&dx.into_dyn(), x.shape())?))
    }
);

/// `keras.layers.Global{Average,Max}Pooling{1,2}D(keepdims=False)`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(default)]
#[serde(bound = "")]
pub struct GlobalPool<R: Rank, M: Reduce> {
    #[serde(skip)]
    pub _kind: PhantomData<(R, M)>,
    pub keepdims: bool,
}

impl<R: Rank, M: Reduce> LayerRules for GlobalPool<R, M> {
    fn output_shape(&self, input: &Shape) -> Result<Shape, Problem> {
        need_spatial(input, R::N)?;
        let c = input.dims()[R::N];
        Ok(Shape::new(if self.keepdims {
            let mut v = vec![1; R::N];
            v.push(c);
            v
        } else {
            vec![c]
        }))
    }
    fn forward(&self, x: &ArrayD<f32>, _w: &[ArrayD<f32>]) -> Result<ArrayD<f32>, Problem> {
        let x4 = as_4d(x)?;
        let (b, h, w, c) = x4.dim();
        let mut y = ndarray::Array2::<f32>::zeros((b, c));
        for bi in 0..b {
            for ch in 0..c {
                let v = x4.slice(ndarray::s![bi, .., .., ch]);
                y[[bi, ch]] = if M::MAX {
                    v.iter().fold(f32::NEG_INFINITY, |a, &b| a.max(b))
                } else {
                    v.sum() / (h * w).max(1) as f32
                };
            }
        }
        let mut shape = vec![b];
        if self.keepdims {
            shape.extend(std::iter::repeat_n(1, R::N));
        }
        shape.push(c);
        y.into_shape_with_order(IxDyn(&shape))
            .map_err(|_| Problem::layout("global pooling reshape"))
    }
    fn explain(&self, input: &Shape, output: &Shape) -> Explanation {
        let rank = R::N;
        Explanation::new(format!(
            "Global{}Pooling{rank}D takes the {} over all spatial positions of each channel, leaving one number per channel{}.",
            if M::MAX { "Max" } else { "Average" },
            if M::MAX { "maximum" } else { "mean" },
            if self.keepdims { " (keepdims keeps the spatial axes as 1s)" } else { "" }
        ))
        .step(format!("{input} → {output}"))
    }
    fn settings(&self) -> String {
        if self.keepdims {
            "keepdims".into()
        } else {
            "per channel".into()
        }
    }
}
plain_grad!(
    impl<R: Rank, M: Reduce> GlobalPool<R, M>,
    |_, x, _w, _t, dy| {
        let b = x.shape().first().copied().unwrap_or(0);
        let c = x.shape().last().copied().unwrap_or(1).max(1);
        let cells = x.len() / (b * c).max(1);
        let dy2 = reshape_to(dy, &[b, c])?;
        let dys = dy2
            .as_slice()
            .ok_or_else(|| Problem::layout("gradient is not contiguous"))?;
        let xs = x.as_standard_layout();
        let xv = xs
            .as_slice()
            .ok_or_else(|| Problem::layout("input is not contiguous"))?;
        let mut dx = vec![0f32; x.len()];
        for bi in 0..b {
            let g = &dys[bi * c..(bi + 1) * c];
            let base = bi * cells * c;
            if M::MAX {
                // The first largest cell of each channel takes the gradient.
                for (ch, &gv) in g.iter().enumerate() {
                    let mut best = base + ch;
                    for p in 1..cells {
                        let k = base + p * c + ch;
                        if xv[k] > xv[best] {
                            best = k;
                        }
                    }
                    if cells > 0 {
                        dx[best] += gv;
                    }
                }
            } else {
                let n = cells.max(1) as f32;
                for p in 0..cells {
                    let row = &mut dx[base + p * c..base + (p + 1) * c];
                    for (d, &gv) in row.iter_mut().zip(g) {
                        *d = gv / n;
                    }
                }
            }
        }
        let dx = ArrayD::from_shape_vec(x.raw_dim(), dx)
            .map_err(|_| Problem::layout("pooling gradient shape"))?;
        Ok(Grads::input(dx))
    }
);

// ---------------------------------------------------------------------------------------
// As code
// ---------------------------------------------------------------------------------------

impl<R: Rank, M: Reduce> KerasTable for Pool<R, M> {
    const ARGS: KerasArgs =
        KerasArgs::positional(&["pool_size", "strides", "padding", "data_format"]);
}

impl<R: Rank, M: Reduce> LayerCode for Pool<R, M> {
    fn torch(&self, t: &mut Torch, inp: &[usize], _out: &[usize]) {
        let r = R::N;
        let spatial: Vec<usize> = inp.iter().take(r).copied().collect();
        t.make_channels_first();
        let p = ints(&self.pool_size, r, 2);
        let s = match &self.strides {
            None => p.clone(),
            Some(v) => ints(v, r, 1),
        };
        let mut args = vec![format!("kernel_size={}", int_or_tuple(&p))];
        if s != p {
            args.push(format!("stride={}", int_or_tuple(&s)));
        }
        if self.padding == Padding::Same {
            let pads: Vec<(usize, usize)> = (0..r)
                .map(|i| {
                    Window::pool(
                        spatial.get(i).copied().unwrap_or(0),
                        p[i],
                        s[i],
                        Padding::Same,
                    )
                    .geometry()
                    .map_or((0, 0), |g| g.pads())
                })
                .collect();
            if pads.iter().any(|&(a, b)| a + b > 0) {
                args.push("ceil_mode=True".into());
                if pads.iter().all(|&(a, _)| a == 0) {
                    t.push("# Keras 'same' pooling pads only at the end here: ceil_mode=True gives the same windows");
                } else {
                    t.note("Keras 'same' pooling pads on both sides here; PyTorch has no direct equivalent (ceil_mode=True keeps the output size)");
                }
                if !M::MAX {
                    args.push("count_include_pad=False".into());
                }
            }
        }
        let kind = if M::MAX { "MaxPool" } else { "AvgPool" };
        t.push(format!("nn.{kind}{r}d({}),", args.join(", ")));
    }
}

impl<R: Rank, M: Reduce> KerasTable for GlobalPool<R, M> {
    const ARGS: KerasArgs = KerasArgs::positional(&["data_format", "keepdims"]);
}

impl<R: Rank, M: Reduce> LayerCode for GlobalPool<R, M> {
    fn torch(&self, t: &mut Torch, _inp: &[usize], _out: &[usize]) {
        t.make_channels_first();
        let kind = if M::MAX {
            "AdaptiveMaxPool"
        } else {
            "AdaptiveAvgPool"
        };
        t.push(format!("nn.{kind}{}d(1),", R::N));
        if !self.keepdims {
            t.push("nn.Flatten(),");
            t.cf = false;
        }
    }
}
