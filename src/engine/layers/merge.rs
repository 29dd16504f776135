//! Merge layers: `Add`, `Subtract`, `Multiply`, `Average`, `Maximum`, `Minimum` (one
//! elementwise rule with Keras's broadcasting), `Concatenate(axis)` and `Dot(axes,
//! normalize)`. Rules read from `keras/src/layers/merging/*.py`.

use ndarray::{ArrayD, Axis, IxDyn, Zip};
use serde_json::Value;

use super::multi::{cfg, py_index, py_mod, MultiRules};
use super::Explanation;
use crate::engine::error::Problem;
use crate::engine::graph::problem::{dims_text, Arity, GraphProblem};
use crate::engine::shape::{checked_product, Shape};
use crate::engine::train::grad::{unbroadcast, MultiGrad, MultiGrads};

/// The elementwise merge operations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MergeOp {
    Add,
    Subtract,
    Multiply,
    Average,
    Maximum,
    Minimum,
}

impl MergeOp {
    pub fn class_name(self) -> &'static str {
        match self {
            MergeOp::Add => "Add",
            MergeOp::Subtract => "Subtract",
            MergeOp::Multiply => "Multiply",
            MergeOp::Average => "Average",
            MergeOp::Maximum => "Maximum",
            MergeOp::Minimum => "Minimum",
        }
    }
    fn apply(self, a: f32, b: f32) -> f32 {
        match self {
            MergeOp::Add | MergeOp::Average => a + b,
            MergeOp::Subtract => a - b,
            MergeOp::Multiply => a * b,
            MergeOp::Maximum => a.max(b),
            MergeOp::Minimum => a.min(b),
        }
    }
    fn symbol(self) -> &'static str {
        match self {
            MergeOp::Add => "+",
            MergeOp::Subtract => "−",
            MergeOp::Multiply => "×",
            MergeOp::Average => "mean of",
            MergeOp::Maximum => "max of",
            MergeOp::Minimum => "min of",
        }
    }
}

/// `keras.layers.Add()` and its siblings: no weights, one elementwise rule.
///
/// # Shapes
/// Aligned from the last axis, each pair of sizes must be equal or one of them 1 (the
/// output takes the other); a shorter shape is padded in front (`(4, 8)` with `(8,)` →
/// `(None, 4, 8)`).
#[derive(Debug, Clone, PartialEq)]
pub struct Elementwise {
    pub op: MergeOp,
}

/// Keras's `_compute_elemwise_op_output_shape` on non-batch dims.
///
/// # Errors
/// [`GraphProblem::Broadcast`] when a pair of sizes differ and neither is 1.
pub fn broadcast_dims(a: &[usize], b: &[usize]) -> Result<Vec<usize>, GraphProblem> {
    if a.len() < b.len() {
        return broadcast_dims(b, a);
    }
    let lead = a.len() - b.len();
    let mut out = a[..lead].to_vec();
    for (&i, &j) in a[lead..].iter().zip(b) {
        out.push(match (i, j) {
            (1, j) => j,
            (i, 1) => i,
            (i, j) if i == j => i,
            _ => {
                return Err(GraphProblem::Broadcast {
                    a: a.to_vec(),
                    b: b.to_vec(),
                })
            }
        });
    }
    Ok(out)
}

/// The batch shape `x` broadcasts to: Keras expands a lower-rank input at axis 1 until the
/// ranks agree, then the sizes broadcast.
fn expanded(x: &ArrayD<f32>, ndim: usize) -> Result<ArrayD<f32>, GraphProblem> {
    let mut shape = x.shape().to_vec();
    if shape.is_empty() {
        return Err(GraphProblem::config(
            "inputs",
            "a merge input has no batch axis",
        ));
    }
    while shape.len() < ndim {
        shape.insert(1, 1);
    }
    x.as_standard_layout()
        .into_owned()
        .into_shape_with_order(IxDyn(&shape))
        .map_err(|_| GraphProblem::config("inputs", "could not expand an input"))
}

/// `op(a, b)` with broadcasting over the batch shapes.
fn combine(
    a: &ArrayD<f32>,
    b: &ArrayD<f32>,
    f: impl Fn(f32, f32) -> f32,
) -> Result<ArrayD<f32>, GraphProblem> {
    let ndim = a.ndim().max(b.ndim());
    let (a, b) = (expanded(a, ndim)?, expanded(b, ndim)?);
    let mut shape = Vec::with_capacity(ndim);
    for (&i, &j) in a.shape().iter().zip(b.shape()) {
        shape.push(match (i, j) {
            (1, j) => j,
            (i, 1) => i,
            (i, j) if i == j => i,
            _ => {
                return Err(GraphProblem::Broadcast {
                    a: a.shape()[1..].to_vec(),
                    b: b.shape()[1..].to_vec(),
                })
            }
        });
    }
    let too = || GraphProblem::config("inputs", "shapes do not broadcast");
    let av = a.broadcast(IxDyn(&shape)).ok_or_else(too)?;
    let bv = b.broadcast(IxDyn(&shape)).ok_or_else(too)?;
    let mut out = ArrayD::<f32>::zeros(IxDyn(&shape));
    Zip::from(&mut out)
        .and(&av)
        .and(&bv)
        .for_each(|o, &x, &y| *o = f(x, y));
    Ok(out)
}

impl MultiRules for Elementwise {
    fn arity(&self) -> Arity {
        if self.op == MergeOp::Subtract {
            Arity::Exactly(2)
        } else {
            Arity::AtLeast(1)
        }
    }
    fn output_shape(&self, inputs: &[Shape]) -> Result<Shape, GraphProblem> {
        let (first, rest) = inputs.split_first().ok_or(GraphProblem::Arity {
            expected: self.arity(),
            got: 0,
        })?;
        let mut out = first.dims().to_vec();
        for s in rest {
            out = broadcast_dims(&out, s.dims())?;
        }
        if !self.arity().fits(inputs.len()) {
            return Err(GraphProblem::Arity {
                expected: self.arity(),
                got: inputs.len(),
            });
        }
        Ok(Shape::new(out))
    }
    fn forward(
        &self,
        xs: &[&ArrayD<f32>],
        _w: &[ArrayD<f32>],
    ) -> Result<ArrayD<f32>, GraphProblem> {
        let (first, rest) = xs.split_first().ok_or(GraphProblem::Arity {
            expected: self.arity(),
            got: 0,
        })?;
        let mut out = (*first).clone();
        for x in rest {
            out = combine(&out, x, |a, b| self.op.apply(a, b))?;
        }
        if self.op == MergeOp::Average {
            let n = xs.len() as f32;
            out.mapv_inplace(|v| v / n);
        }
        Ok(out)
    }
    fn explain(&self, inputs: &[Shape], output: &Shape) -> Explanation {
        let shapes: Vec<String> = inputs.iter().map(ToString::to_string).collect();
        let e = Explanation::new(format!(
            "{} works element by element, so its inputs must have the same shape (sizes of 1 stretch): {} {} → {output}. It has no weights.",
            self.op.class_name(),
            self.op.symbol(),
            shapes.join(", "),
        ));
        if inputs.windows(2).any(|w| w[0] != w[1]) {
            e.step("Shapes are compared from the last axis: a size of 1 is repeated to match the other, and a shorter shape gains leading axes.")
        } else {
            e.step("A residual connection adds a block's input to its output: both must have the same shape, or a projection (a 1×1 Conv or Dense) makes them agree.")
        }
    }
}

/// `g` times `f(a, b)` element by element, `a` and `b` broadcast to `g`'s shape.
fn scaled(
    g: &ArrayD<f32>,
    a: &ArrayD<f32>,
    b: &ArrayD<f32>,
    f: impl Fn(f32, f32) -> f32,
) -> Result<ArrayD<f32>, Problem> {
    let ndim = g.ndim();
    let as_problem = |e: GraphProblem| Problem::Value {
        message: e.to_string(),
    };
    let (a, b) = (
        expanded(a, ndim).map_err(as_problem)?,
        expanded(b, ndim).map_err(as_problem)?,
    );
    let too = || Problem::layout("merge inputs do not broadcast to the gradient");
    let av = a.broadcast(g.raw_dim()).ok_or_else(too)?;
    let bv = b.broadcast(g.raw_dim()).ok_or_else(too)?;
    let mut out = g.clone();
    Zip::from(&mut out)
        .and(&av)
        .and(&bv)
        .for_each(|o, &x, &y| *o *= f(x, y));
    Ok(out)
}

/// `impl MultiGrad` for a kind without weights, from `|layer, xs, dy| …`: the gradient
/// of each input from the layer, its inputs and the output gradient.
macro_rules! merge_grad {
    ($kind:ident, $dxs:expr) => {
        impl MultiGrad for $kind {
            fn backward_multi(
                &self,
                xs: &[&ArrayD<f32>],
                _w: &[ArrayD<f32>],
                dy: &ArrayD<f32>,
            ) -> Result<MultiGrads, Problem> {
                let dxs: fn(
                    &Self,
                    &[&ArrayD<f32>],
                    &ArrayD<f32>,
                ) -> Result<Vec<ArrayD<f32>>, Problem> = $dxs;
                Ok(MultiGrads {
                    dxs: dxs(self, xs, dy)?,
                    dw: Vec::new(),
                })
            }
        }
    };
}

// The forward pass folds left (`op(op(x0, x1), x2)`); the backward pass unfolds it:
// each step's gradient goes to its two operands, summed over the axes each one was
// broadcast along. `Maximum` / `Minimum` send a tie's gradient half to each side, as
// JAX's `max` does.
merge_grad!(Elementwise, |layer, xs, dy| {
    let as_problem = |e: GraphProblem| Problem::Value {
        message: e.to_string(),
    };
    let (first, rest) = xs
        .split_first()
        .ok_or_else(|| Problem::layout("a merge layer needs inputs"))?;
    let mut partial = vec![(*first).clone()];
    for x in rest {
        let prev = partial
            .last()
            .map_or_else(|| (*first).clone(), Clone::clone);
        partial.push(combine(&prev, x, |a, b| layer.op.apply(a, b)).map_err(as_problem)?);
    }
    let mut g = dy.clone();
    if layer.op == MergeOp::Average {
        let n = xs.len() as f32;
        g.mapv_inplace(|v| v / n);
    }
    let mut dxs = vec![ArrayD::<f32>::zeros(IxDyn(&[])); xs.len()];
    for k in (1..xs.len()).rev() {
        let (a, b) = (&partial[k - 1], xs[k]);
        let (ga, gb) = match layer.op {
            MergeOp::Add | MergeOp::Average => (g.clone(), g.clone()),
            MergeOp::Subtract => (g.clone(), g.mapv(|v| -v)),
            MergeOp::Multiply => (scaled(&g, a, b, |_, y| y)?, scaled(&g, a, b, |x, _| x)?),
            MergeOp::Maximum | MergeOp::Minimum => {
                let max = layer.op == MergeOp::Maximum;
                let wins = move |x: f32, y: f32| {
                    if x == y {
                        0.5
                    } else if (x > y) == max {
                        1.0
                    } else {
                        0.0
                    }
                };
                (
                    scaled(&g, a, b, wins)?,
                    scaled(&g, a, b, move |x, y| 1.0 - wins(x, y))?,
                )
            }
        };
        dxs[k] = unbroadcast(&gb, b.shape())?;
        g = unbroadcast(&ga, a.shape())?;
    }
    dxs[0] = unbroadcast(&g, first.shape())?;
    Ok(dxs)
});

// The gradient split back along the axis, each input its own slice.
merge_grad!(Concatenate, |layer, xs, dy| {
    let first = xs
        .first()
        .ok_or_else(|| Problem::layout("Concatenate needs inputs"))?;
    if xs.len() == 1 {
        return Ok(vec![dy.clone()]);
    }
    let i = py_index(layer.axis, first.ndim())
        .ok_or_else(|| Problem::config("axis", format!("{} is out of range", layer.axis)))?;
    let mut at = 0usize;
    let mut dxs = Vec::with_capacity(xs.len());
    for x in xs {
        let size = x.shape().get(i).copied().unwrap_or(0);
        let end = at
            .checked_add(size)
            .filter(|&e| e <= dy.shape().get(i).copied().unwrap_or(0))
            .ok_or_else(|| Problem::layout("the gradient does not fit the inputs"))?;
        dxs.push(
            dy.slice_axis(Axis(i), ndarray::Slice::from(at..end))
                .to_owned(),
        );
        at = end;
    }
    Ok(dxs)
});

// The batched product `out[s] = X[s] · Y[s]` (X: `x` with its axis last, `(m, k)`;
// Y: `y` with its axis first, `(k, n)`) runs backward as `dX = dOut · Yᵀ`,
// `dY = Xᵀ · dOut`, moved back to the inputs' layouts; with `normalize`, through the
// L2 normalisation of each input.
merge_grad!(Dot, |layer, xs, dy| {
    let [x0, y0] = xs else {
        return Err(Problem::layout("Dot needs two inputs"));
    };
    let shapes: Vec<Shape> = xs
        .iter()
        .map(|x| Shape::new(x.shape().get(1..).unwrap_or_default().to_vec()))
        .collect();
    let (a, b) = layer.axes_of(&shapes).map_err(graph_to_problem)?;
    let (x, y) = if layer.normalize {
        (l2_normalize(x0, a), l2_normalize(y0, b))
    } else {
        ((*x0).clone(), (*y0).clone())
    };
    let batch = x.shape()[0];
    let k = x.shape()[a];
    let xm = moved(&x, a, x.ndim() - 1);
    let ym = moved(&y, b, 1);
    let (xm_shape, ym_shape) = (xm.shape().to_vec(), ym.shape().to_vec());
    let per = batch.checked_mul(k).filter(|&p| p > 0);
    let m = per.map_or(0, |p| xm.len() / p);
    let n = per.map_or(0, |p| ym.len() / p);
    let bad = || Problem::layout("Dot gradient does not fit its inputs");
    let x3 = xm.into_shape_with_order((batch, m, k)).map_err(|_| bad())?;
    let y3 = ym.into_shape_with_order((batch, k, n)).map_err(|_| bad())?;
    let g3 = dy
        .as_standard_layout()
        .into_owned()
        .into_shape_with_order((batch, m, n))
        .map_err(|_| bad())?;
    let mut dx3 = ndarray::Array3::<f32>::zeros((batch, m, k));
    let mut dy3 = ndarray::Array3::<f32>::zeros((batch, k, n));
    for s in 0..batch {
        let g = g3.index_axis(Axis(0), s);
        dx3.index_axis_mut(Axis(0), s)
            .assign(&g.dot(&y3.index_axis(Axis(0), s).t()));
        dy3.index_axis_mut(Axis(0), s)
            .assign(&x3.index_axis(Axis(0), s).t().dot(&g));
    }
    let dxm = dx3
        .into_dyn()
        .into_shape_with_order(IxDyn(&xm_shape))
        .map_err(|_| bad())?;
    let dym = dy3
        .into_dyn()
        .into_shape_with_order(IxDyn(&ym_shape))
        .map_err(|_| bad())?;
    let mut dx = moved(&dxm, dxm.ndim() - 1, a);
    let mut dyy = moved(&dym, 1, b);
    if layer.normalize {
        dx = l2_normalize_back(x0, &x, &dx, a);
        dyy = l2_normalize_back(y0, &y, &dyy, b);
    }
    Ok(vec![dx, dyy])
});

/// A [`GraphProblem`] as the [`Problem`] a backward pass returns.
fn graph_to_problem(e: GraphProblem) -> Problem {
    match e {
        GraphProblem::Layer(p) => p,
        e => Problem::Value {
            message: e.to_string(),
        },
    }
}

impl MultiGrad for ScalarOp {}

/// `keras.layers.Concatenate(axis=-1)`.
///
/// # Shapes
/// Every input has the same shape except on `axis`, where the sizes add up.
#[derive(Debug, Clone, PartialEq)]
pub struct Concatenate {
    /// Keras counts the batch axis: -1 is the last axis, 1 the first non-batch one.
    pub axis: i64,
}

impl Concatenate {
    /// # Errors
    /// A field of the wrong type.
    pub fn from_config(config: &Value) -> Result<Concatenate, String> {
        Ok(Concatenate {
            axis: cfg::int(config, "axis", Some(-1))?,
        })
    }
}

impl MultiRules for Concatenate {
    fn arity(&self) -> Arity {
        Arity::AtLeast(1)
    }
    /// Keras's `build` and `compute_output_shape` (batch axis included): every shape less
    /// `axis` must be the same; an out-of-range axis fails there too.
    fn output_shape(&self, inputs: &[Shape]) -> Result<Shape, GraphProblem> {
        if inputs.is_empty() {
            return Err(GraphProblem::Arity {
                expected: self.arity(),
                got: 0,
            });
        }
        let full: Vec<Vec<Option<usize>>> = inputs.iter().map(Shape::keras_list).collect();
        let mut reduced = Vec::with_capacity(full.len());
        for s in &full {
            let mut r = s.clone();
            // `if len(shape) > self.axis: del shape[self.axis]`
            if (r.len() as i64) > self.axis {
                let i = py_index(self.axis, r.len()).ok_or(GraphProblem::Axis {
                    axis: self.axis,
                    rank: r.len(),
                })?;
                r.remove(i);
            }
            reduced.push(r);
        }
        let same = reduced.windows(2).all(|w| w[0] == w[1]);
        if !same {
            return Err(GraphProblem::Concat {
                shapes: inputs.to_vec(),
                axis: self.axis,
            });
        }
        let mut out = full[0].clone();
        if full.len() > 1 {
            let i = py_index(self.axis, out.len()).ok_or(GraphProblem::Axis {
                axis: self.axis,
                rank: out.len(),
            })?;
            let mut total = Some(0usize);
            for s in &full {
                total = match (total, s.get(i).copied().flatten()) {
                    (Some(t), Some(d)) => t.checked_add(d),
                    _ => None,
                };
            }
            if i == 0 {
                // Along the batch axis (Keras accepts it): the batch stays unknown.
                return Ok(Shape::new(out.into_iter().skip(1).flatten().collect()));
            }
            out[i] = Some(total.ok_or(GraphProblem::Layer(
                crate::engine::error::Problem::Overflow {
                    what: "concatenated size",
                },
            ))?);
        }
        Ok(Shape::new(out.into_iter().skip(1).flatten().collect()))
    }
    fn forward(
        &self,
        xs: &[&ArrayD<f32>],
        _w: &[ArrayD<f32>],
    ) -> Result<ArrayD<f32>, GraphProblem> {
        let first = xs.first().ok_or(GraphProblem::Arity {
            expected: self.arity(),
            got: 0,
        })?;
        if xs.len() == 1 {
            return Ok((*first).clone());
        }
        let i = py_index(self.axis, first.ndim()).ok_or(GraphProblem::Axis {
            axis: self.axis,
            rank: first.ndim(),
        })?;
        let views: Vec<_> = xs.iter().map(|x| x.view()).collect();
        ndarray::concatenate(Axis(i), &views)
            .map_err(|_| GraphProblem::config("axis", "inputs do not concatenate"))
    }
    fn to_config(&self) -> Value {
        serde_json::json!({"axis": self.axis})
    }
    fn keras_args(&self) -> Vec<String> {
        if self.axis == -1 {
            Vec::new()
        } else {
            vec![format!("axis={}", self.axis)]
        }
    }
    fn explain(&self, inputs: &[Shape], output: &Shape) -> Explanation {
        let n = output.ndim();
        let i = py_index(self.axis, n).unwrap_or(n.saturating_sub(1));
        let sizes: Vec<String> = inputs
            .iter()
            .map(|s| {
                i.checked_sub(1)
                    .and_then(|k| s.dims().get(k))
                    .map_or_else(|| "?".into(), ToString::to_string)
            })
            .collect();
        let total = i
            .checked_sub(1)
            .and_then(|k| output.dims().get(k))
            .map_or_else(|| "?".into(), ToString::to_string);
        Explanation::new(format!(
            "Concatenate stacks its inputs along axis {} (batch is axis 0): they must agree on every other axis, and the sizes on that axis add up.",
            self.axis
        ))
        .step(format!("{} = {total} → {output}", sizes.join(" + ")))
    }
}

/// `keras.layers.Dot(axes, normalize=False)`: the batchwise dot product of two inputs.
#[derive(Debug, Clone, PartialEq)]
pub struct Dot {
    /// One axis for both inputs, or one each (batch axis counted).
    pub axes: DotAxes,
    pub normalize: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DotAxes {
    Same(i64),
    Pair(i64, i64),
}

impl Dot {
    /// # Errors
    /// `axes` missing or not an int or a pair.
    pub fn from_config(config: &Value) -> Result<Dot, String> {
        let axes = match config.get("axes") {
            Some(Value::Array(a)) if a.len() == 2 => match (a[0].as_i64(), a[1].as_i64()) {
                (Some(x), Some(y)) => DotAxes::Pair(x, y),
                _ => {
                    return Err(format!(
                        "`axes` must hold two integers, got {}",
                        Value::Array(a.clone())
                    ))
                }
            },
            Some(v) => DotAxes::Same(
                v.as_i64()
                    .ok_or_else(|| format!("`axes` must be an integer or a pair, got {v}"))?,
            ),
            None => return Err("`axes` is required".into()),
        };
        Ok(Dot {
            axes,
            normalize: cfg::boolean(config, "normalize", false)?,
        })
    }

    /// The two axes (batch counted) as Keras resolves them for inputs of these ranks
    /// (batch included); `None` when one is out of range.
    fn resolve(&self, n1: usize, n2: usize) -> Option<(usize, usize)> {
        match self.axes {
            DotAxes::Same(a) if a < 0 => Some((py_mod(a, n1), py_mod(a, n2))),
            DotAxes::Same(a) => Some((py_index(a, n1)?, py_index(a, n2)?)),
            DotAxes::Pair(a, b) => Some((py_index(a, n1)?, py_index(b, n2)?)),
        }
    }

    fn axes_of(&self, inputs: &[Shape]) -> Result<(usize, usize), GraphProblem> {
        let [x, y] = inputs else {
            return Err(GraphProblem::Arity {
                expected: Arity::Exactly(2),
                got: inputs.len(),
            });
        };
        let bad = |axis| GraphProblem::Axis {
            axis,
            rank: x.ndim().min(y.ndim()),
        };
        let (a, b) = self
            .resolve(x.ndim(), y.ndim())
            .ok_or(bad(match self.axes {
                DotAxes::Same(a) | DotAxes::Pair(a, _) => a,
            }))?;
        if a == 0 || b == 0 {
            // Keras builds this model (its shape rule pops the batch axis) but its
            // `batch_dot` refuses axis 0 when run; Flatland refuses it up front.
            return Err(GraphProblem::config(
                "axes",
                "cannot take the dot product over the batch axis (axis 0): Keras's batch_dot refuses it",
            ));
        }
        let (da, db) = (x.dims()[a - 1], y.dims()[b - 1]);
        if da != db {
            return Err(GraphProblem::DotAxes {
                shapes: [x.clone(), y.clone()],
                a_axis: a,
                b_axis: b,
                a: da,
                b: db,
            });
        }
        Ok((a, b))
    }
}

/// L2-normalise along `axis` as `keras.ops.normalize` does: `x · min(rsqrt(Σx²), 1/ε)`.
fn l2_normalize(x: &ArrayD<f32>, axis: usize) -> ArrayD<f32> {
    let ss = x.map_axis(Axis(axis), |lane| lane.iter().map(|v| v * v).sum::<f32>());
    let inv = ss.mapv(|s| (1.0 / s.sqrt()).min(1.0 / 1e-7));
    let inv = inv.insert_axis(Axis(axis));
    let mut out = x.clone();
    Zip::from(&mut out)
        .and_broadcast(&inv)
        .for_each(|o, &i| *o *= i);
    out
}

/// The backward pass of [`l2_normalize`]: `x` the input, `xn` its output, `g` the gradient
/// with respect to `xn`. Where the norm is above ε, `dx = (g − xn·Σ(g·xn)) / ‖x‖`; where it
/// is clamped, the scale is the constant `1/ε`.
fn l2_normalize_back(
    x: &ArrayD<f32>,
    xn: &ArrayD<f32>,
    g: &ArrayD<f32>,
    axis: usize,
) -> ArrayD<f32> {
    let ss = x.map_axis(Axis(axis), |lane| lane.iter().map(|v| v * v).sum::<f32>());
    let dots = ndarray::Zip::from(g.lanes(Axis(axis)))
        .and(xn.lanes(Axis(axis)))
        .map_collect(|a, b| a.iter().zip(b.iter()).map(|(p, q)| p * q).sum::<f32>());
    let ss = ss.insert_axis(Axis(axis));
    let dots = dots.insert_axis(Axis(axis));
    let mut out = g.clone();
    Zip::from(&mut out)
        .and(xn)
        .and_broadcast(&ss)
        .and_broadcast(&dots)
        .for_each(|o, &n, &s, &d| {
            let r = 1.0 / s.sqrt();
            *o = if r < 1.0 / 1e-7 {
                (*o - n * d) * r
            } else {
                *o / 1e-7
            };
        });
    out
}

/// Move `axis` to position `to` (keeping the others in order).
fn moved(x: &ArrayD<f32>, axis: usize, to: usize) -> ArrayD<f32> {
    let mut order: Vec<usize> = (0..x.ndim()).filter(|&i| i != axis).collect();
    order.insert(to, axis);
    x.view()
        .permuted_axes(IxDyn(&order))
        .as_standard_layout()
        .into_owned()
}

impl MultiRules for Dot {
    fn arity(&self) -> Arity {
        Arity::Exactly(2)
    }
    fn output_shape(&self, inputs: &[Shape]) -> Result<Shape, GraphProblem> {
        let (a, b) = self.axes_of(inputs)?;
        let mut out: Vec<usize> = inputs[0].dims().to_vec();
        out.remove(a - 1);
        let mut rest = inputs[1].dims().to_vec();
        rest.remove(b - 1);
        out.extend(rest);
        if out.is_empty() {
            out.push(1);
        }
        Ok(Shape::new(out))
    }
    fn macs(&self, inputs: &[Shape], output: &Shape) -> Result<u64, GraphProblem> {
        let (a, _) = self.axes_of(inputs)?;
        let k = inputs[0].dims()[a - 1] as u64;
        Ok(checked_product([output.elements()?, k], "multiply-adds")?)
    }
    fn forward(
        &self,
        xs: &[&ArrayD<f32>],
        _w: &[ArrayD<f32>],
    ) -> Result<ArrayD<f32>, GraphProblem> {
        let shapes: Vec<Shape> = xs
            .iter()
            .map(|x| Shape::new(x.shape().get(1..).unwrap_or_default().to_vec()))
            .collect();
        let (a, b) = self.axes_of(&shapes)?;
        let out_shape = self.output_shape(&shapes)?;
        let (mut x, mut y) = ((*xs[0]).clone(), (*xs[1]).clone());
        if self.normalize {
            x = l2_normalize(&x, a);
            y = l2_normalize(&y, b);
        }
        let batch = x.shape()[0];
        let k = x.shape()[a];
        let x = moved(&x, a, x.ndim() - 1);
        let y = moved(&y, b, 1);
        let m = x.len() / (batch * k).max(1);
        let n = y.len() / (batch * k).max(1);
        let x3 = x
            .into_shape_with_order((batch, m, k))
            .map_err(|_| GraphProblem::config("axes", "reshape"))?;
        let y3 = y
            .into_shape_with_order((batch, k, n))
            .map_err(|_| GraphProblem::config("axes", "reshape"))?;
        let mut out = ndarray::Array3::<f32>::zeros((batch, m, n));
        for s in 0..batch {
            let r = x3.index_axis(Axis(0), s).dot(&y3.index_axis(Axis(0), s));
            out.index_axis_mut(Axis(0), s).assign(&r);
        }
        let mut dims = vec![batch];
        dims.extend_from_slice(out_shape.dims());
        out.into_shape_with_order(IxDyn(&dims))
            .map_err(|_| GraphProblem::config("axes", "output reshape"))
    }
    fn to_config(&self) -> Value {
        let axes = match self.axes {
            DotAxes::Same(x) => serde_json::json!(x),
            DotAxes::Pair(x, y) => serde_json::json!([x, y]),
        };
        serde_json::json!({"axes": axes, "normalize": self.normalize})
    }
    fn keras_args(&self) -> Vec<String> {
        let mut a = vec![match self.axes {
            DotAxes::Same(x) => format!("axes={x}"),
            DotAxes::Pair(x, y) => format!("axes=({x}, {y})"),
        }];
        if self.normalize {
            a.push("normalize=True".into());
        }
        a
    }
    fn explain(&self, inputs: &[Shape], output: &Shape) -> Explanation {
        let axes = self.axes_of(inputs).ok();
        let e = Explanation::new(format!(
            "Dot multiplies matching entries of its two inputs along one axis each and sums them (per sample){}.",
            if self.normalize { ", after scaling both to unit length (cosine similarity)" } else { "" }
        ));
        match (axes, inputs) {
            (Some((a, b)), [x, y]) => e.step(format!(
                "axis {a} of {x} with axis {b} of {y}: both size {}; the remaining axes {} and {} give {output}",
                x.dims()[a - 1],
                dims_text(&drop(x.dims(), a - 1)),
                dims_text(&drop(y.dims(), b - 1)),
            )),
            _ => e,
        }
    }
}

fn drop(d: &[usize], i: usize) -> Vec<usize> {
    let mut v = d.to_vec();
    if i < v.len() {
        v.remove(i);
    }
    v
}

/// A Keras operation between a tensor and a number (`x + 3.0`, `x * (1 / 6)` on Keras
/// tensors: the `Add` / `Multiply` / … of `keras.src.ops`, as `MobileNetV3`'s hard sigmoid
/// writes them). Shape unchanged, no weights.
#[derive(Debug, Clone, PartialEq)]
pub struct ScalarOp {
    pub op: ScalarKind,
    pub value: f64,
    /// `3.0 - x` rather than `x - 3.0`.
    pub scalar_first: bool,
}

/// The arithmetic of a [`ScalarOp`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScalarKind {
    Add,
    Subtract,
    Multiply,
    Divide,
}

impl ScalarKind {
    /// The Keras operation class (`keras.src.ops.numpy`).
    pub fn class_name(self) -> &'static str {
        match self {
            ScalarKind::Add => "Add",
            ScalarKind::Subtract => "Subtract",
            ScalarKind::Multiply => "Multiply",
            ScalarKind::Divide => "TrueDivide",
        }
    }
    /// The class's kind, if it is one.
    pub fn of(class: &str) -> Option<ScalarKind> {
        Some(match class {
            "Add" => ScalarKind::Add,
            "Subtract" => ScalarKind::Subtract,
            "Multiply" => ScalarKind::Multiply,
            "TrueDivide" | "Divide" => ScalarKind::Divide,
            _ => return None,
        })
    }
    /// The Python operator.
    pub fn symbol(self) -> &'static str {
        match self {
            ScalarKind::Add => "+",
            ScalarKind::Subtract => "-",
            ScalarKind::Multiply => "*",
            ScalarKind::Divide => "/",
        }
    }
}

impl MultiRules for ScalarOp {
    fn arity(&self) -> Arity {
        Arity::Exactly(1)
    }
    fn output_shape(&self, inputs: &[Shape]) -> Result<Shape, GraphProblem> {
        super::multi::only(inputs).cloned()
    }
    fn forward(
        &self,
        xs: &[&ArrayD<f32>],
        _w: &[ArrayD<f32>],
    ) -> Result<ArrayD<f32>, GraphProblem> {
        let [x] = xs else {
            return Err(GraphProblem::Arity {
                expected: self.arity(),
                got: xs.len(),
            });
        };
        let c = self.value as f32;
        let f = |v: f32| {
            let (a, b) = if self.scalar_first { (c, v) } else { (v, c) };
            match self.op {
                ScalarKind::Add => a + b,
                ScalarKind::Subtract => a - b,
                ScalarKind::Multiply => a * b,
                ScalarKind::Divide => a / b,
            }
        };
        Ok(x.mapv(f))
    }
    fn to_config(&self) -> Value {
        serde_json::json!({"value": self.value, "scalar_first": self.scalar_first})
    }
    fn explain(&self, _inputs: &[Shape], output: &Shape) -> Explanation {
        Explanation::new(format!(
            "Arithmetic with a number ({} {}) on every entry: the shape stays {output}, no weights.",
            self.op.symbol(),
            super::code::py_float(self.value)
        ))
    }
}
