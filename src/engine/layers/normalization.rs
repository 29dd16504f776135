//! Normalisation layers: `BatchNormalization` (moving statistics at inference; gamma/beta
//! trainable, moving mean/variance non-trainable), `LayerNormalization`, `UnitNormalization`.

use ndarray::{Array1, Array2, ArrayD, Axis, Ix1, Ix2, IxDyn, Zip};
use serde::{Deserialize, Serialize};

use super::activation::{axis_dim, de_axis, resolve_axis, same_shape_on_axis, tensor_axis};
use super::code::{py_float, KerasArgs, KerasTable, LayerCode, Torch};
use super::{Explanation, Init, LayerRules, WeightSpec};
use crate::engine::error::Problem;
use crate::engine::shape::Shape;
use crate::engine::train::grad::{check_same_shape, Grads, Trace};

/// Column sums of a `(rows, C)` matrix, rows added in order from zero: the same sums, bit for
/// bit, as ndarray's `sum_axis(Axis(0))`, which adds one row view at a time through its
/// generic arithmetic (most of a `BatchNormalization` step's time with few channels).
fn col_sums(a: ndarray::ArrayView2<'_, f32>) -> Array1<f32> {
    fn add<'a>(out: &mut [f32], row: impl IntoIterator<Item = &'a f32>) {
        for (o, v) in out.iter_mut().zip(row) {
            *o += v;
        }
    }
    let c = a.ncols();
    let mut out = vec![0f32; c];
    match a.as_slice() {
        Some(v) if c > 0 => v.chunks_exact(c).for_each(|row| add(&mut out, row)),
        _ => a.rows().into_iter().for_each(|row| add(&mut out, row)),
    }
    Array1::from(out)
}

/// The size of the normalised axis, 0 when the axis does not fit (for the explanations).
fn axis_size(axis: i64, input: &Shape) -> usize {
    resolve_axis(axis, input).map_or(0, |a| input.dims()[a])
}

/// The learned `gamma` (when `scale`) and `beta` (when `center`) of `c` channels.
fn affine_weights(c: usize, scale: bool, center: bool) -> Vec<WeightSpec> {
    let mut w = Vec::new();
    if scale {
        w.push(WeightSpec::new("gamma", vec![c], Init::Ones));
    }
    if center {
        w.push(WeightSpec::new("beta", vec![c], Init::Zeros));
    }
    w
}

/// `1 / sqrt(mean(t²) + eps)` along `axis` (`n` values), kept as a size-1 axis.
fn inv_root_mean_square(t: &ArrayD<f32>, axis: usize, n: f32, eps: f32) -> ArrayD<f32> {
    let ms = t
        .mapv(|v| v * v)
        .sum_axis(Axis(axis))
        .insert_axis(Axis(axis))
        / n;
    ms.mapv(|v| 1.0 / (v + eps).sqrt())
}

/// Weight `i` shaped to broadcast along `axis`.
fn channel_at(
    w: &[ArrayD<f32>],
    i: usize,
    ndim: usize,
    axis: usize,
) -> Result<ArrayD<f32>, Problem> {
    let wi = w.get(i).ok_or(Problem::MissingWeights {
        expected: i + 1,
        got: w.len(),
    })?;
    channel_view(wi, ndim, axis)
}

fn channel_view(w: &ArrayD<f32>, ndim: usize, axis: usize) -> Result<ArrayD<f32>, Problem> {
    let mut shape = vec![1; ndim];
    shape[axis] = w.len();
    w.as_standard_layout()
        .into_owned()
        .into_shape_with_order(IxDyn(&shape))
        .map_err(|_| Problem::layout("normalisation weight size"))
}

/// `keras.layers.BatchNormalization(axis=-1, momentum=0.99, epsilon=0.001, center=True, scale=True)`.
///
/// # Shapes
/// Any `(None, ...)` → the same shape; gamma, beta, moving mean, moving variance each `(C,)`, C the size of `axis` (the last two not trainable).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct BatchNormalization {
    #[serde(deserialize_with = "de_axis")]
    pub axis: i64,
    pub momentum: f32,
    pub epsilon: f32,
    pub center: bool,
    pub scale: bool,
}

impl Default for BatchNormalization {
    fn default() -> Self {
        BatchNormalization {
            axis: -1,
            momentum: 0.99,
            epsilon: 1e-3,
            center: true,
            scale: true,
        }
    }
}

impl LayerRules for BatchNormalization {
    fn output_shape(&self, input: &Shape) -> Result<Shape, Problem> {
        same_shape_on_axis(self.axis, input)
    }
    fn weights(&self, input: &Shape) -> Result<Vec<WeightSpec>, Problem> {
        let c = axis_dim(self.axis, input)?;
        let mut w = affine_weights(c, self.scale, self.center);
        w.push(WeightSpec::new("moving_mean", vec![c], Init::Zeros).frozen());
        w.push(WeightSpec::new("moving_variance", vec![c], Init::Ones).frozen());
        Ok(w)
    }
    fn forward(&self, x: &ArrayD<f32>, w: &[ArrayD<f32>]) -> Result<ArrayD<f32>, Problem> {
        let ndim = x.ndim();
        let axis = tensor_axis(self.axis, ndim);
        let need = 2 + usize::from(self.scale) + usize::from(self.center);
        if w.len() < need {
            return Err(Problem::MissingWeights {
                expected: need,
                got: w.len(),
            });
        }
        let mut i = 0;
        let gamma = if self.scale {
            i += 1;
            Some(channel_view(&w[i - 1], ndim, axis)?)
        } else {
            None
        };
        let beta = if self.center {
            i += 1;
            Some(channel_view(&w[i - 1], ndim, axis)?)
        } else {
            None
        };
        let mean = channel_view(&w[i], ndim, axis)?;
        let var = channel_view(&w[i + 1], ndim, axis)?;
        let eps = self.epsilon;
        let inv = var.mapv(|v| 1.0 / (v + eps).sqrt());
        let mut y = (x - &mean) * &inv;
        if let Some(g) = gamma {
            y *= &g;
        }
        if let Some(b) = beta {
            y += &b;
        }
        Ok(y)
    }
    fn explain(&self, input: &Shape, _output: &Shape) -> Explanation {
        let c = axis_size(self.axis, input);
        let tr = c * (usize::from(self.scale) + usize::from(self.center));
        Explanation::new("BatchNormalization normalises each channel with learned scale/shift; the shape is unchanged.")
            .step(format!("{c} channels on axis {}", self.axis))
            .step(format!(
                "trainable: {}{}= {tr}",
                if self.scale { format!("gamma {c} ") } else { String::new() },
                if self.center { format!("+ beta {c} ") } else { String::new() }
            ))
            .step(format!("non-trainable: moving_mean {c} + moving_variance {c} = {}", 2 * c))
    }
    fn settings(&self) -> String {
        format!("axis {}, ε {}", self.axis, self.epsilon)
    }
}
layer_grad!(
    BatchNormalization,
    |layer, x, w, _rng| {
        let p = layer.params(x, w)?;
        let x2 = channel_rows(x, p.axis)?;
        let n = x2.nrows().max(1) as f32;
        // Keras's `ops.moments`: the batch mean and the biased variance.
        let mean = col_sums(x2.view()) / n;
        let centered = &x2 - &mean;
        let var = col_sums((&centered * &centered).view()) / n;
        let eps = layer.epsilon;
        let inv = var.mapv(|v| 1.0 / (v + eps).sqrt());
        let xhat = &centered * &inv;
        let mut y2 = xhat.clone();
        if let Some(g) = &p.gamma {
            y2 *= g;
        }
        if let Some(b) = &p.beta {
            y2 += b;
        }
        let m = layer.momentum;
        let moving = |old: &ArrayD<f32>, batch: &Array1<f32>| -> Result<ArrayD<f32>, Problem> {
            let b = batch
                .clone()
                .into_dyn()
                .into_shape_with_order(old.raw_dim())
                .map_err(|_| Problem::layout("moving statistic size"))?;
            Ok(old * m + &(b * (1.0 - m)))
        };
        let updates = vec![
            (p.first_moving, moving(&w[p.first_moving], &mean)?),
            (p.first_moving + 1, moving(&w[p.first_moving + 1], &var)?),
        ];
        Ok(Trace {
            y: from_channel_rows(y2, x.shape(), p.axis)?,
            saved: vec![xhat.into_dyn(), inv.into_dyn()],
            updates,
        })
    },
    |layer, x, w, t, dy| {
        check_same_shape(dy, x)?;
        let p = layer.params(x, w)?;
        let xhat = t
            .saved(0)?
            .view()
            .into_dimensionality::<Ix2>()
            .map_err(|_| Problem::layout("saved normalised batch"))?;
        let inv = t
            .saved(1)?
            .view()
            .into_dimensionality::<Ix1>()
            .map_err(|_| Problem::layout("saved inverse deviation"))?;
        let dy2 = channel_rows(dy, p.axis)?;
        let n = dy2.nrows().max(1) as f32;
        let dbeta = col_sums(dy2.view());
        let dgamma = col_sums((&dy2 * &xhat).view());
        let dxhat = match &p.gamma {
            Some(g) => &dy2 * g,
            None => dy2,
        };
        let s1 = col_sums(dxhat.view());
        let s2 = col_sums((&dxhat * &xhat).view());
        let dx2 = (&dxhat * n - &s1 - &(&xhat * &s2)) * inv / n;
        let c = inv.len();
        let mut dw = Vec::new();
        if layer.scale {
            dw.push(dgamma.into_dyn());
        }
        if layer.center {
            dw.push(dbeta.into_dyn());
        }
        dw.push(ArrayD::zeros(IxDyn(&[c])));
        dw.push(ArrayD::zeros(IxDyn(&[c])));
        Ok(Grads {
            dx: from_channel_rows(dx2, x.shape(), p.axis)?,
            dw,
        })
    }
);

/// `keras.layers.LayerNormalization(axis=-1, epsilon=0.001, center=True, scale=True)`.
///
/// # Shapes
/// Any `(None, ...)` → the same shape; gamma and beta `(C,)`, C the size of `axis`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct LayerNormalization {
    #[serde(deserialize_with = "de_axis")]
    pub axis: i64,
    pub epsilon: f32,
    pub center: bool,
    pub scale: bool,
    pub rms_scaling: bool,
}

impl Default for LayerNormalization {
    fn default() -> Self {
        LayerNormalization {
            axis: -1,
            epsilon: 1e-3,
            center: true,
            scale: true,
            rms_scaling: false,
        }
    }
}

impl LayerRules for LayerNormalization {
    fn output_shape(&self, input: &Shape) -> Result<Shape, Problem> {
        same_shape_on_axis(self.axis, input)
    }
    fn weights(&self, input: &Shape) -> Result<Vec<WeightSpec>, Problem> {
        let c = axis_dim(self.axis, input)?;
        Ok(affine_weights(
            c,
            self.scale,
            self.center && !self.rms_scaling,
        ))
    }
    fn forward(&self, x: &ArrayD<f32>, w: &[ArrayD<f32>]) -> Result<ArrayD<f32>, Problem> {
        let ndim = x.ndim();
        let axis = tensor_axis(self.axis, ndim);
        let n = x.shape()[axis] as f32;
        let mean = x.sum_axis(Axis(axis)).insert_axis(Axis(axis)) / n;
        let eps = self.epsilon;
        let mut y = if self.rms_scaling {
            // Keras's `rms_scaling` divides by the standard deviation (the centred
            // variance, `ops.var`), but does not subtract the mean.
            x * &inv_root_mean_square(&(x - &mean), axis, n, eps)
        } else {
            let centered = x - &mean;
            let inv = inv_root_mean_square(&centered, axis, n, eps);
            centered * &inv
        };
        let mut i = 0;
        if self.scale {
            y *= &channel_at(w, i, ndim, axis)?;
            i += 1;
        }
        if self.center && !self.rms_scaling {
            y += &channel_at(w, i, ndim, axis)?;
        }
        Ok(y)
    }
    fn explain(&self, input: &Shape, _output: &Shape) -> Explanation {
        let c = axis_size(self.axis, input);
        Explanation::new("LayerNormalization normalises each sample over the feature axis; the shape is unchanged.")
            .step(format!(
                "params = {}gamma {c}{} (all trainable)",
                "",
                if self.center { format!(" + beta {c}") } else { String::new() }
            ))
    }
    fn settings(&self) -> String {
        format!("axis {}", self.axis)
    }
}

/// `keras.layers.UnitNormalization(axis=-1)`: scales each vector to unit L2 norm.
///
/// # Shapes
/// Any `(None, ...)` → the same shape; no weights.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct UnitNormalization {
    #[serde(deserialize_with = "de_axis")]
    pub axis: i64,
}

impl Default for UnitNormalization {
    fn default() -> Self {
        UnitNormalization { axis: -1 }
    }
}

impl LayerRules for UnitNormalization {
    fn output_shape(&self, input: &Shape) -> Result<Shape, Problem> {
        same_shape_on_axis(self.axis, input)
    }
    fn forward(&self, x: &ArrayD<f32>, _w: &[ArrayD<f32>]) -> Result<ArrayD<f32>, Problem> {
        let ndim = x.ndim();
        let axis = tensor_axis(self.axis, ndim);
        let ss = x
            .mapv(|v| v * v)
            .sum_axis(Axis(axis))
            .insert_axis(Axis(axis));
        let inv = ss.mapv(|v| (1.0 / v.sqrt()).min(1e12));
        let mut y = x.clone();
        Zip::from(&mut y)
            .and_broadcast(&inv)
            .for_each(|v, &i| *v *= i);
        Ok(y)
    }
    fn explain(&self, input: &Shape, _output: &Shape) -> Explanation {
        Explanation::new("UnitNormalization divides each vector by its L2 norm; the shape is unchanged, no weights.")
            .step(format!("output = input = {input}"))
    }
    fn settings(&self) -> String {
        format!("axis {}", self.axis)
    }
}

// ---------------------------------------------------------------------------------------
// As code
// ---------------------------------------------------------------------------------------

impl KerasTable for BatchNormalization {
    const ARGS: KerasArgs = KerasArgs {
        removed: &[("mode", "remove it")],
        ..KerasArgs::positional(&["axis", "momentum", "epsilon", "center", "scale"])
    };
}

impl LayerCode for BatchNormalization {
    fn torch(&self, t: &mut Torch, inp: &[usize], _out: &[usize]) {
        let axis = self.axis;
        if axis != -1 && i64::try_from(t.rank).ok() != Some(axis) {
            t.note(format!("BatchNormalization(axis={axis}) normalises a non-channel axis; this translation uses the last axis"));
        }
        let bn = match t.rank {
            0 | 1 => "BatchNorm1d",
            2 => "BatchNorm1d",
            3 => "BatchNorm2d",
            _ => "BatchNorm3d",
        };
        if t.rank >= 2 {
            t.make_channels_first();
        }
        let c = inp.last().copied().unwrap_or(0);
        let m = f64::from(self.momentum);
        let eps = f64::from(self.epsilon);
        t.push(format!(
            "# PyTorch momentum = 1 - Keras momentum (Keras {})",
            py_float(m)
        ));
        let affine = if !self.center && !self.scale {
            ", affine=False"
        } else {
            ""
        };
        if self.center != self.scale {
            t.note("Keras learns only one of beta/gamma here (center/scale); PyTorch's affine=True learns both");
        }
        t.push(format!(
            "nn.{bn}({c}, eps={}, momentum={}{affine}),",
            py_float(eps),
            py_float(((1.0 - m) * 1e6).round() / 1e6)
        ));
    }
}

impl KerasTable for LayerNormalization {
    const ARGS: KerasArgs =
        KerasArgs::positional(&["axis", "epsilon", "center", "scale", "rms_scaling"]);
}

impl LayerCode for LayerNormalization {
    fn torch(&self, t: &mut Torch, inp: &[usize], _out: &[usize]) {
        t.make_channels_last();
        let c = inp.last().copied().unwrap_or(0);
        let eps = py_float(f64::from(self.epsilon));
        let axis = self.axis;
        if axis != -1 && i64::try_from(t.rank).ok() != Some(axis) {
            t.note(format!(
                "LayerNormalization(axis={axis}) is translated over the last axis only"
            ));
        }
        if self.rms_scaling {
            t.push(format!("nn.RMSNorm({c}, eps={eps}),  # PyTorch >= 2.4"));
            return;
        }
        let extra = match (self.center, self.scale) {
            (true, true) => "",
            (false, true) => ", bias=False",
            (false, false) => ", elementwise_affine=False",
            (true, false) => {
                t.note("Keras learns beta but not gamma here (scale=False); PyTorch LayerNorm learns both");
                ""
            }
        };
        t.push(format!("nn.LayerNorm({c}, eps={eps}{extra}),"));
    }
}

impl KerasTable for UnitNormalization {
    const ARGS: KerasArgs = KerasArgs::positional(&["axis"]);
}

impl LayerCode for UnitNormalization {
    fn torch(&self, t: &mut Torch, _inp: &[usize], _out: &[usize]) {
        t.make_channels_last();
        t.lambda("nn.functional.normalize(x, dim=-1)", "UnitNormalization");
    }
}

// ---------------------------------------------------------------------------------------
// Training: BatchNormalization with batch statistics
// ---------------------------------------------------------------------------------------

/// `BatchNormalization`'s weights for a batch.
struct BnParams {
    axis: usize,
    gamma: Option<Array1<f32>>,
    beta: Option<Array1<f32>>,
    /// Index of `moving_mean` among the weights (`moving_variance` follows).
    first_moving: usize,
}

impl BatchNormalization {
    fn params(&self, x: &ArrayD<f32>, w: &[ArrayD<f32>]) -> Result<BnParams, Problem> {
        let axis = tensor_axis(self.axis, x.ndim());
        let need = 2 + usize::from(self.scale) + usize::from(self.center);
        if w.len() < need || axis >= x.ndim() {
            return Err(Problem::MissingWeights {
                expected: need,
                got: w.len(),
            });
        }
        let c = x.shape()[axis];
        let vector = |a: &ArrayD<f32>| -> Result<Array1<f32>, Problem> {
            if a.len() == c {
                Ok(Array1::from_iter(a.iter().copied()))
            } else {
                Err(Problem::layout("normalisation weight size"))
            }
        };
        let mut i = 0;
        let gamma = if self.scale {
            i += 1;
            Some(vector(&w[i - 1])?)
        } else {
            None
        };
        let beta = if self.center {
            i += 1;
            Some(vector(&w[i - 1])?)
        } else {
            None
        };
        Ok(BnParams {
            axis,
            gamma,
            beta,
            first_moving: i,
        })
    }
}

/// The axes of `x` with `axis` moved last, as rows of channels `(n, c)`.
fn channel_rows(x: &ArrayD<f32>, axis: usize) -> Result<Array2<f32>, Problem> {
    let perm: Vec<usize> = (0..x.ndim()).filter(|&a| a != axis).chain([axis]).collect();
    let c = x.shape().get(axis).copied().unwrap_or(1);
    let n = x.len() / c.max(1);
    x.view()
        .permuted_axes(IxDyn(&perm))
        .as_standard_layout()
        .into_owned()
        .into_shape_with_order((n, c))
        .map_err(|_| Problem::layout("channel rows"))
}

/// Back from [`channel_rows`] to a tensor of `shape`.
fn from_channel_rows(r: Array2<f32>, shape: &[usize], axis: usize) -> Result<ArrayD<f32>, Problem> {
    let perm: Vec<usize> = (0..shape.len())
        .filter(|&a| a != axis)
        .chain([axis])
        .collect();
    let moved: Vec<usize> = perm.iter().map(|&a| shape[a]).collect();
    let mut inverse = vec![0; perm.len()];
    for (i, &a) in perm.iter().enumerate() {
        inverse[a] = i;
    }
    Ok(r.into_shape_with_order(IxDyn(&moved))
        .map_err(|_| Problem::layout("channel rows"))?
        .permuted_axes(IxDyn(&inverse))
        .as_standard_layout()
        .into_owned())
}

// ---------------------------------------------------------------------------------------
// Training: kinds without a backward pass yet
// ---------------------------------------------------------------------------------------

plain_grad!(LayerNormalization, |layer, x, w, _t, dy| {
    check_same_shape(dy, x)?;
    let ndim = x.ndim();
    let axis = tensor_axis(layer.axis, ndim);
    let n = x.shape()[axis] as f32;
    let eps = layer.epsilon;
    let sum_axis = |a: &ArrayD<f32>| a.sum_axis(Axis(axis)).insert_axis(Axis(axis));
    // Over every axis but `axis`: the per-channel sums for gamma and beta.
    let per_channel = |a: &ArrayD<f32>| -> ArrayD<f32> {
        let c = a.shape()[axis];
        let mut s = ndarray::Array1::<f32>::zeros(c);
        for lane in a.lanes(Axis(axis)) {
            s += &lane;
        }
        s.into_dyn()
    };
    let centered = x - &(sum_axis(x) / n);
    let inv = inv_root_mean_square(&centered, axis, n, eps);
    let base = if layer.rms_scaling {
        x.clone()
    } else {
        centered.clone()
    };
    let xhat = &base * &inv;
    let mut i = 0;
    let mut dw = Vec::new();
    let dxhat = if layer.scale {
        let g = channel_at(w, i, ndim, axis)?;
        i += 1;
        dw.push(per_channel(&(dy * &xhat)));
        dy * &g
    } else {
        dy.clone()
    };
    if layer.center && !layer.rms_scaling {
        channel_at(w, i, ndim, axis)?;
        dw.push(per_channel(dy));
    }
    let dx = if layer.rms_scaling {
        // y = x·r, r = (var x + ε)^(−1/2): dx = r·dŷ − r³·(x − μ)·mean(dŷ·x).
        let m = sum_axis(&(&dxhat * x)) / n;
        &dxhat * &inv - &(&centered * &(&inv * &inv * &inv) * &m)
    } else {
        let s1 = sum_axis(&dxhat);
        let s2 = sum_axis(&(&dxhat * &xhat));
        (&dxhat * n - &s1 - &(&xhat * &s2)) * &inv / n
    };
    Ok(Grads { dx, dw })
});

plain_grad!(UnitNormalization, |layer, x, _w, _t, dy| {
    check_same_shape(dy, x)?;
    let axis = tensor_axis(layer.axis, x.ndim());
    let ss = x
        .mapv(|v| v * v)
        .sum_axis(Axis(axis))
        .insert_axis(Axis(axis));
    let dot = (dy * x).sum_axis(Axis(axis)).insert_axis(Axis(axis));
    // y = x / ‖x‖ (the 1e12 cap is constant): dx = dy/‖x‖ − x·(dy·x)/‖x‖³.
    let mut dx = dy.clone();
    Zip::from(&mut dx)
        .and(x)
        .and_broadcast(&ss)
        .and_broadcast(&dot)
        .for_each(|d, &v, &ss, &dot| {
            let inv = 1.0 / ss.sqrt();
            *d = if inv > 1e12 {
                *d * 1e12
            } else {
                *d * inv - v * dot * inv * inv * inv
            };
        });
    Ok(Grads::input(dx))
});
