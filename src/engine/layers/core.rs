//! Core layers: `Dense` (applied independently at every position of a multi-dimensional
//! input), `Identity`, `Embedding`, `Rescaling`.

use ndarray::{ArrayD, ArrayView2, Axis, CowArray, Ix2, IxDyn};
use serde::{Deserialize, Serialize};

use super::activation::Activation;
use super::code::{py_float, KerasArgs, KerasTable, LayerCode, Torch};
use super::{first_weight, Explanation, Init, LayerRules, WeightSpec};
use crate::engine::error::{Problem, RankNeed};
use crate::engine::gemm::gemm;
use crate::engine::shape::{checked_product, Shape};
use crate::engine::train::grad::{check_same_shape, reshape_to, Grads};

/// A Dense kernel as its `(features, units)` matrix.
fn dense_kernel(kernel: &ArrayD<f32>) -> Result<ArrayView2<'_, f32>, Problem> {
    kernel
        .view()
        .into_dimensionality::<Ix2>()
        .map_err(|_| Problem::layout("Dense kernel must be 2-D"))
}

/// `x` as rows of `c` values (every leading axis together), in standard layout.
fn as_rows<'a>(
    x: &'a ArrayD<f32>,
    c: usize,
    what: &'static str,
) -> Result<CowArray<'a, f32, Ix2>, Problem> {
    let rows = x.len() / c.max(1);
    x.as_standard_layout()
        .into_shape_with_order((rows, c))
        .map_err(|_| Problem::layout(what))
}

/// `keras.layers.Dense(units, activation=None, use_bias=True)`.
///
/// # Shapes
/// `(None, ..., C)` → `(None, ..., units)`; kernel `(C, units)`, bias `(units,)`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Dense {
    pub units: usize,
    pub activation: Activation,
    pub use_bias: bool,
}

impl Default for Dense {
    fn default() -> Self {
        Dense {
            units: 16,
            activation: Activation::Linear,
            use_bias: true,
        }
    }
}

/// Positions a Dense layer is applied at (product of all but the last dim), and features.
///
/// # Errors
/// [`Problem::Rank`] for a scalar input, [`Problem::Overflow`] for a huge one.
pub fn positions_and_features(input: &Shape) -> Result<(u64, usize), Problem> {
    let d = input.dims();
    let (last, rest) = d
        .split_last()
        .ok_or_else(|| Problem::rank(RankNeed::at_least(2, "(batch, features)"), input))?;
    Ok((
        checked_product(rest.iter().map(|&x| x as u64), "positions")?,
        *last,
    ))
}

/// Multiply `(N, C)` rows by a `(C, U)` kernel and add a bias, for any leading shape.
///
/// # Errors
/// [`Problem::KernelFit`] when the kernel was made for another input size,
/// [`Problem::Layout`] for a kernel or bias of the wrong rank.
pub fn dense_apply(
    x: &ArrayD<f32>,
    kernel: &ArrayD<f32>,
    bias: Option<&ArrayD<f32>>,
) -> Result<ArrayD<f32>, Problem> {
    let c = *x
        .shape()
        .last()
        .ok_or_else(|| Problem::layout("Dense input has no axes"))?;
    let k = dense_kernel(kernel)?;
    if k.nrows() != c {
        return Err(Problem::KernelFit {
            what: "features",
            expected: k.nrows(),
            got: c,
        });
    }
    let x2 = as_rows(x, c, "Dense input reshape")?;
    let mut y = gemm(x2.view(), k);
    if let Some(b) = bias {
        let b1 = b
            .view()
            .into_shape_with_order(k.ncols())
            .map_err(|_| Problem::layout("Dense bias size"))?;
        y += &b1;
    }
    let mut out_shape = x.shape().to_vec();
    if let Some(l) = out_shape.last_mut() {
        *l = k.ncols();
    }
    y.into_shape_with_order(IxDyn(&out_shape))
        .map_err(|_| Problem::layout("Dense output reshape"))
}

impl LayerRules for Dense {
    fn output_shape(&self, input: &Shape) -> Result<Shape, Problem> {
        if self.units == 0 {
            return Err(Problem::config(
                "units",
                "must be a positive integer, got 0",
            ));
        }
        positions_and_features(input)?;
        Ok(input.with_last(self.units))
    }
    fn weights(&self, input: &Shape) -> Result<Vec<WeightSpec>, Problem> {
        let (_, c) = positions_and_features(input)?;
        let mut w = vec![WeightSpec::new(
            "kernel",
            vec![c, self.units],
            Init::GlorotUniform,
        )];
        if self.use_bias {
            w.push(WeightSpec::new("bias", vec![self.units], Init::Zeros));
        }
        Ok(w)
    }
    fn macs(&self, input: &Shape, _output: &Shape) -> Result<u64, Problem> {
        let (p, c) = positions_and_features(input)?;
        checked_product([p, c as u64, self.units as u64], "multiply-adds")
    }
    fn forward(&self, x: &ArrayD<f32>, w: &[ArrayD<f32>]) -> Result<ArrayD<f32>, Problem> {
        let kernel = first_weight(w)?;
        let mut y = dense_apply(x, kernel, if self.use_bias { w.get(1) } else { None })?;
        self.activation.apply(&mut y);
        Ok(y)
    }
    fn explain(&self, input: &Shape, output: &Shape) -> Explanation {
        let Ok((p, c)) = positions_and_features(input) else {
            return Explanation::new("Dense needs at least one feature axis.");
        };
        let b = u64::from(self.use_bias);
        let params = (c as u64 + b) * self.units as u64;
        let mut e = Explanation::new(
            "Dense acts on the last axis only: the same kernel (features × units) is applied at every other position.",
        )
        .step(format!("last axis {c} → {} units, so {input} → {output}", self.units));
        if p > 1 {
            e = e.step(format!(
                "{p} positions share one kernel; add Flatten first to get one vector of {} features",
                p * c as u64
            ));
        }
        let bias = if self.use_bias { " + 1" } else { "" };
        e.step(format!("params = ({c}{bias}) × {} = {params}", self.units))
    }
    fn settings(&self) -> String {
        let mut s = format!("{} units", self.units);
        if self.activation != Activation::Linear {
            s.push_str(&format!(", {}", self.activation.name()));
        }
        if !self.use_bias {
            s.push_str(", no bias");
        }
        s
    }
}
layer_grad!(
    Dense,
    |layer, x, w, _rng| {
        let kernel = first_weight(w)?;
        let z = dense_apply(x, kernel, if layer.use_bias { w.get(1) } else { None })?;
        Ok(layer.activation.trace(z))
    },
    |layer, x, w, t, dy| {
        let kernel = first_weight(w)?;
        let k = dense_kernel(kernel)?;
        let dz = layer.activation.backward(t.saved(0)?, &t.y, dy)?;
        let (c, u) = k.dim();
        let x2 = as_rows(x, c, "Dense input reshape")?;
        let dz2 = as_rows(&dz, u, "Dense gradient reshape")?;
        let dk = x2.t().dot(&dz2).into_dyn();
        let dx = reshape_to(&dz2.dot(&k.t()).into_dyn(), x.shape())?;
        let mut dw = vec![dk];
        if layer.use_bias {
            dw.push(dz2.sum_axis(Axis(0)).into_dyn());
        }
        Ok(Grads { dx, dw })
    }
);

/// `keras.layers.Identity()`.
///
/// # Shapes
/// Any `(None, ...)` → the same shape; no weights.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Identity {}

impl LayerRules for Identity {
    fn output_shape(&self, input: &Shape) -> Result<Shape, Problem> {
        Ok(input.clone())
    }
    fn forward(&self, x: &ArrayD<f32>, _w: &[ArrayD<f32>]) -> Result<ArrayD<f32>, Problem> {
        Ok(x.clone())
    }
    fn explain(&self, input: &Shape, _output: &Shape) -> Explanation {
        Explanation::new("Identity passes its input through unchanged.")
            .step(format!("output = input = {input}"))
    }
    fn settings(&self) -> String {
        "pass-through".into()
    }
}
plain_grad!(Identity, |_, x, _w, _t, dy| {
    check_same_shape(dy, x)?;
    Ok(Grads::input(dy.clone()))
});

/// `keras.layers.Rescaling(scale, offset=0.0)`: `x * scale + offset`.
///
/// # Shapes
/// Any `(None, ...)` → the same shape; no weights.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Rescaling {
    pub scale: f32,
    pub offset: f32,
}

impl Default for Rescaling {
    fn default() -> Self {
        Rescaling {
            scale: 1.0 / 255.0,
            offset: 0.0,
        }
    }
}

impl LayerRules for Rescaling {
    fn output_shape(&self, input: &Shape) -> Result<Shape, Problem> {
        Ok(input.clone())
    }
    fn forward(&self, x: &ArrayD<f32>, _w: &[ArrayD<f32>]) -> Result<ArrayD<f32>, Problem> {
        let (s, o) = (self.scale, self.offset);
        Ok(x.mapv(|v| v * s + o))
    }
    fn explain(&self, input: &Shape, _output: &Shape) -> Explanation {
        Explanation::new("Rescaling computes x × scale + offset element by element; no weights.")
            .step(format!("output = input = {input}"))
    }
    fn settings(&self) -> String {
        format!("× {} + {}", self.scale, self.offset)
    }
}
plain_grad!(Rescaling, |layer, x, _w, _t, dy| {
    check_same_shape(dy, x)?;
    Ok(Grads::input(dy * layer.scale))
});

/// `keras.layers.Embedding(input_dim, output_dim)`: integer indices → vectors.
///
/// # Shapes
/// `(None, ...)` → `(None, ..., output_dim)`; embeddings `(input_dim, output_dim)`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Embedding {
    pub input_dim: usize,
    pub output_dim: usize,
    pub mask_zero: bool,
}

impl Default for Embedding {
    fn default() -> Self {
        Embedding {
            input_dim: 1000,
            output_dim: 64,
            mask_zero: false,
        }
    }
}

impl LayerRules for Embedding {
    fn output_shape(&self, input: &Shape) -> Result<Shape, Problem> {
        if self.input_dim == 0 {
            return Err(Problem::config(
                "input_dim",
                "must be a positive integer, got 0",
            ));
        }
        if self.output_dim == 0 {
            return Err(Problem::config(
                "output_dim",
                "must be a positive integer, got 0",
            ));
        }
        let mut d = input.dims().to_vec();
        d.push(self.output_dim);
        Ok(Shape::new(d))
    }
    fn weights(&self, _input: &Shape) -> Result<Vec<WeightSpec>, Problem> {
        Ok(vec![WeightSpec::new(
            "embeddings",
            vec![self.input_dim, self.output_dim],
            Init::Uniform(-0.05, 0.05),
        )])
    }
    fn forward(&self, x: &ArrayD<f32>, w: &[ArrayD<f32>]) -> Result<ArrayD<f32>, Problem> {
        let table = first_weight(w)?;
        let table = table
            .view()
            .into_dimensionality::<Ix2>()
            .map_err(|_| Problem::layout("embeddings must be 2-D"))?;
        let mut shape = x.shape().to_vec();
        shape.push(self.output_dim);
        let mut out = ArrayD::<f32>::zeros(IxDyn(&shape));
        let n = x.len();
        let xs = x.as_standard_layout();
        let flat_out = out
            .view_mut()
            .into_shape_with_order((n, self.output_dim))
            .map_err(|_| Problem::layout("Embedding output reshape"))?;
        let mut flat_out = flat_out;
        for (i, &v) in xs.iter().enumerate() {
            // Keras casts float indices to int32 (truncation toward zero).
            let idx = v as i64;
            if v.is_nan() || idx < 0 || idx as usize >= table.nrows() {
                return Err(Problem::Value {
                    message: format!("index {v} is outside the vocabulary 0..{}", table.nrows()),
                });
            }
            flat_out.row_mut(i).assign(&table.row(idx as usize));
        }
        let _ = Axis(0);
        Ok(out)
    }
    fn explain(&self, input: &Shape, output: &Shape) -> Explanation {
        Explanation::new(
            "Embedding replaces every integer index with a learned vector of output_dim numbers.",
        )
        .step(format!("{input} + ({},) → {output}", self.output_dim))
        .step(format!(
            "params = input_dim × output_dim = {} × {} = {}",
            self.input_dim,
            self.output_dim,
            self.input_dim as u128 * self.output_dim as u128
        ))
    }
    fn settings(&self) -> String {
        format!("{} → {}", self.input_dim, self.output_dim)
    }
}

// ---------------------------------------------------------------------------------------
// As code
// ---------------------------------------------------------------------------------------

impl KerasTable for Dense {
    const ARGS: KerasArgs = KerasArgs {
        removed: &[("output_dim", "use `units=`"), ("bias", "use `use_bias=`")],
        ..KerasArgs::with_required(&["units", "activation", "use_bias"], &["units"])
    };
}

impl LayerCode for Dense {
    fn torch(&self, t: &mut Torch, inp: &[usize], _out: &[usize]) {
        t.make_channels_last();
        let c = inp.last().copied().unwrap_or(0);
        let bias = if self.use_bias { "" } else { ", bias=False" };
        t.push(format!("nn.Linear({c}, {}{bias}),", self.units));
        t.activation(self.activation.name());
    }
}

impl KerasTable for Identity {}

impl LayerCode for Identity {
    fn torch(&self, t: &mut Torch, _inp: &[usize], _out: &[usize]) {
        t.push("nn.Identity(),");
    }
}

impl KerasTable for Rescaling {
    const ARGS: KerasArgs = KerasArgs::with_required(&["scale", "offset"], &["scale"]);
}

impl LayerCode for Rescaling {
    fn torch(&self, t: &mut Torch, _inp: &[usize], _out: &[usize]) {
        let (s, o) = (f64::from(self.scale), f64::from(self.offset));
        if o == 0.0 {
            t.lambda(&format!("x * {}", py_float(s)), "Rescaling");
        } else {
            t.lambda(
                &format!("x * {} + {}", py_float(s), py_float(o)),
                "Rescaling",
            );
        }
    }
}

impl KerasTable for Embedding {
    const ARGS: KerasArgs = KerasArgs {
        accepted_legacy: &["input_length"],
        ..KerasArgs::with_required(&["input_dim", "output_dim"], &["input_dim", "output_dim"])
    };
}

impl LayerCode for Embedding {
    fn torch(&self, t: &mut Torch, _inp: &[usize], _out: &[usize]) {
        let (i, o) = (self.input_dim, self.output_dim);
        if self.mask_zero {
            t.note(
                "mask_zero=True: PyTorch has no masks; padding_idx=0 only keeps index 0 at zero",
            );
            t.push(format!("nn.Embedding({i}, {o}, padding_idx=0),"));
        } else {
            t.push(format!("nn.Embedding({i}, {o}),"));
        }
    }
}

// ---------------------------------------------------------------------------------------
// Training: kinds without a backward pass yet
// ---------------------------------------------------------------------------------------

// The table's gradient: each looked-up row gathers its output gradient. The indices get
// none (Keras casts them to integers).
plain_grad!(Embedding, |_, x, w, _t, dy| {
    let table = first_weight(w)?;
    let (rows, dim) = match table.shape() {
        [r, d] => (*r, *d),
        _ => return Err(Problem::layout("embeddings must be 2-D")),
    };
    let n = x.len();
    let dys = dy.as_standard_layout();
    let d2 = dys
        .view()
        .into_shape_with_order((n, dim))
        .map_err(|_| Problem::layout("Embedding gradient reshape"))?;
    let mut dt = ndarray::Array2::<f32>::zeros((rows, dim));
    for (i, &v) in x.as_standard_layout().iter().enumerate() {
        let idx = v as i64;
        if v.is_nan() || idx < 0 || idx as usize >= rows {
            return Err(Problem::Value {
                message: format!("index {v} is outside the vocabulary 0..{rows}"),
            });
        }
        let mut row = dt.row_mut(idx as usize);
        row += &d2.row(i);
    }
    Ok(Grads {
        dx: ArrayD::zeros(x.raw_dim()),
        dw: vec![dt.into_dyn()],
    })
});
