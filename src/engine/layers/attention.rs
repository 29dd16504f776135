//! `keras.layers.MultiHeadAttention`: query, key and value projections (a Dense applied at
//! every position, one kernel per head), scaled dot-product attention over the attention
//! axes, and an output projection. Rules read from
//! `keras/src/layers/attention/multi_head_attention.py`.

use ndarray::{Array2, Array3, ArrayD, ArrayView2, Axis, IxDyn};
use serde_json::Value;

use super::core::dense_apply;
use super::multi::{cfg, MultiRules};
use super::{Explanation, Init, WeightSpec};
use crate::engine::error::Problem;
use crate::engine::graph::problem::{Arity, GraphProblem};
use crate::engine::shape::{checked_product, checked_sum, Shape};
use crate::engine::train::grad::{check_same_shape, reshape_to, MultiGrad, MultiGrads};

/// `MultiHeadAttention(num_heads, key_dim, value_dim=None, dropout=0.0, use_bias=True,
/// output_shape=None, attention_axes=None)`, called as `mha(query, value[, key])`.
///
/// # Shapes
/// query `(None, T…, Dq)`, value `(None, S…, Dv)`, key `(None, S…, Dk)` (default: value) →
/// `(None, T…, Dq)`, or `(None, T…, *output_shape)`. Weights in `get_weights()` order:
/// query kernel `(Dq, heads, key_dim)` and bias `(heads, key_dim)`, key kernel `(Dk, heads,
/// key_dim)` and bias, value kernel `(Dv, heads, value_dim)` and bias `(heads, value_dim)`,
/// output kernel `(heads, value_dim, *out)` and bias `out`.
#[derive(Debug, Clone, PartialEq)]
pub struct MultiHeadAttention {
    pub num_heads: usize,
    pub key_dim: usize,
    pub value_dim: usize,
    pub use_bias: bool,
    /// Attention dropout rate (training with a non-zero rate is refused).
    pub dropout: f64,
    /// `None`: the query's last size.
    pub output_shape: Option<Vec<usize>>,
    /// Keras axes of the projected `(batch, …, heads, dim)` tensors; `None`: every axis
    /// between batch and the last.
    pub attention_axes: Option<Vec<i64>>,
}

impl MultiHeadAttention {
    /// # Errors
    /// Missing or non-positive `num_heads` / `key_dim`, a bad `value_dim` or
    /// `output_shape`, or `use_gate` (not supported yet).
    pub fn from_config(config: &Value) -> Result<MultiHeadAttention, String> {
        let key_dim = cfg::positive(config, "key_dim", None)?;
        let value_dim = match config.get("value_dim") {
            None | Some(Value::Null) => key_dim,
            Some(_) => cfg::positive(config, "value_dim", None)?,
        };
        if cfg::boolean(config, "use_gate", false)? {
            return Err("`use_gate=True` is not supported by Flatland yet".into());
        }
        let output_shape = cfg::ints(config, "output_shape")?
            .map(|v| {
                v.into_iter()
                    .map(|d| {
                        usize::try_from(d).ok().filter(|&d| d > 0).ok_or_else(|| {
                            format!("`output_shape` sizes must be positive, got {d}")
                        })
                    })
                    .collect::<Result<Vec<_>, _>>()
            })
            .transpose()?
            .filter(|v| !v.is_empty());
        Ok(MultiHeadAttention {
            num_heads: cfg::positive(config, "num_heads", None)?,
            key_dim,
            value_dim,
            use_bias: cfg::boolean(config, "use_bias", true)?,
            dropout: cfg::float(config, "dropout", Some(0.0))?,
            output_shape,
            attention_axes: cfg::ints(config, "attention_axes")?,
        })
    }

    /// query, value, key (key defaults to value).
    fn parts<'a>(
        &self,
        inputs: &'a [Shape],
    ) -> Result<(&'a Shape, &'a Shape, &'a Shape), GraphProblem> {
        match inputs {
            [q, v] => Ok((q, v, v)),
            [q, v, k] => Ok((q, v, k)),
            _ => Err(GraphProblem::Arity {
                expected: self.arity(),
                got: inputs.len(),
            }),
        }
    }

    fn out_dims(&self, query: &Shape) -> Vec<usize> {
        self.output_shape
            .clone()
            .unwrap_or_else(|| query.last().into_iter().collect())
    }

    /// The attention axes among the projected tensor's axes `1..rank-2` (batch 0, heads
    /// `rank-2`, features `rank-1`), as Keras's `_build_attention` resolves them.
    fn axes(&self, rank: usize) -> Result<Vec<usize>, GraphProblem> {
        let Some(given) = &self.attention_axes else {
            return Ok((1..rank.saturating_sub(2)).collect());
        };
        let mut out = Vec::with_capacity(given.len());
        for &a in given {
            let r = if a >= 0 { a } else { rank as i64 - 1 + a };
            match usize::try_from(r) {
                Ok(r) if (1..rank.saturating_sub(2)).contains(&r) && !out.contains(&r) => {
                    out.push(r);
                }
                _ => {
                    return Err(GraphProblem::config(
                        "attention_axes",
                        format!("axis {a} is not an attention axis of a rank-{rank} projection"),
                    ))
                }
            }
        }
        crate::engine::small_sort::sort(&mut out);
        Ok(out)
    }
}

/// A projection's kernel and bias (`None` without `use_bias`).
type Projection<'w> = (&'w ArrayD<f32>, Option<&'w ArrayD<f32>>);

/// What the forward pass computes before the output projection, which the backward pass
/// recomputes.
struct Context<'a> {
    /// query, value, key (the value when only two inputs are given).
    inputs: [&'a ArrayD<f32>; 3],
    /// query, key, value and output projections, `get_weights()` order.
    weights: [Projection<'a>; 4],
    /// The projected query, key and value, `(batch, …, heads, dim)`.
    projected: [ArrayD<f32>; 3],
    axes: Vec<usize>,
    scale: f32,
    /// The attention's result, `(batch, …q, heads, value_dim)`.
    ctx: ArrayD<f32>,
}

impl MultiHeadAttention {
    /// The forward pass up to the output projection.
    fn context<'a>(
        &self,
        xs: &[&'a ArrayD<f32>],
        w: &'a [ArrayD<f32>],
    ) -> Result<Context<'a>, GraphProblem> {
        let (q, v, k) = match xs {
            [q, v] => (*q, *v, *v),
            [q, v, k] => (*q, *v, *k),
            _ => {
                return Err(GraphProblem::Arity {
                    expected: self.arity(),
                    got: xs.len(),
                })
            }
        };
        let per = if self.use_bias { 2 } else { 1 };
        if w.len() != 4 * per {
            return Err(GraphProblem::Layer(Problem::MissingWeights {
                expected: 4 * per,
                got: w.len(),
            }));
        }
        let proj = |i: usize| (&w[i * per], w.get(i * per + 1).filter(|_| self.use_bias));
        let weights = [proj(0), proj(1), proj(2), proj(3)];
        let (h, kd, vd) = (self.num_heads, self.key_dim, self.value_dim);
        let qp = project(q, weights[0].0, weights[0].1, h, kd)?;
        let kp = project(k, weights[1].0, weights[1].1, h, kd)?;
        let vp = project(v, weights[2].0, weights[2].1, h, vd)?;
        if qp.ndim() != kp.ndim() || kp.ndim() != vp.ndim() {
            return Err(GraphProblem::config(
                "inputs",
                "query, key and value must have the same rank to attend",
            ));
        }
        let axes = self.axes(qp.ndim())?;
        let scale = 1.0 / (kd as f32).sqrt();
        let ctx = attend(&qp, &kp, &vp, &axes, scale)?;
        Ok(Context {
            inputs: [q, v, k],
            weights,
            projected: [qp, kp, vp],
            axes,
            scale,
            ctx,
        })
    }
}

fn last(s: &Shape) -> Result<usize, GraphProblem> {
    s.last().ok_or_else(|| {
        GraphProblem::config(
            "inputs",
            format!("an input of shape {s} has no feature axis"),
        )
    })
}

fn positions(s: &Shape) -> u64 {
    s.dims()
        .split_last()
        .map_or(1, |(_, r)| r.iter().map(|&d| d as u64).product())
}

impl MultiRules for MultiHeadAttention {
    fn arity(&self) -> Arity {
        Arity::Between(2, 3)
    }
    fn output_shape(&self, inputs: &[Shape]) -> Result<Shape, GraphProblem> {
        let (q, v, k) = self.parts(inputs)?;
        let (vd, kd) = (v.dims(), k.dims());
        if vd.split_last().map(|x| x.1) != kd.split_last().map(|x| x.1) {
            return Err(GraphProblem::KeyValue {
                value: v.clone(),
                key: k.clone(),
            });
        }
        last(q)?;
        last(v)?;
        last(k)?;
        let mut out = q.dims()[..q.rank() - 1].to_vec();
        out.extend(self.out_dims(q));
        Ok(Shape::new(out))
    }
    fn weights(&self, inputs: &[Shape]) -> Result<Vec<WeightSpec>, GraphProblem> {
        let (q, v, k) = self.parts(inputs)?;
        let (h, kd, vd) = (self.num_heads, self.key_dim, self.value_dim);
        let mut w = Vec::with_capacity(8);
        for (name, bias, dim, size) in [
            ("query/kernel", "query/bias", last(q)?, kd),
            ("key/kernel", "key/bias", last(k)?, kd),
            ("value/kernel", "value/bias", last(v)?, vd),
        ] {
            w.push(WeightSpec::new(
                name,
                vec![dim, h, size],
                Init::GlorotUniform,
            ));
            if self.use_bias {
                w.push(WeightSpec::new(bias, vec![h, size], Init::Zeros));
            }
        }
        let out = self.out_dims(q);
        let mut ok = vec![h, vd];
        ok.extend(&out);
        w.push(WeightSpec::new(
            "attention_output/kernel",
            ok,
            Init::GlorotUniform,
        ));
        if self.use_bias {
            w.push(WeightSpec::new("attention_output/bias", out, Init::Zeros));
        }
        for spec in &w {
            checked_product(spec.shape.iter().map(|&d| d as u64), "parameter count")?;
        }
        Ok(w)
    }
    fn macs(&self, inputs: &[Shape], _output: &Shape) -> Result<u64, GraphProblem> {
        let (q, v, k) = self.parts(inputs)?;
        let (h, kd, vd) = (
            self.num_heads as u64,
            self.key_dim as u64,
            self.value_dim as u64,
        );
        let (tq, tk) = (positions(q), positions(k));
        let out: u64 = self.out_dims(q).iter().map(|&d| d as u64).product();
        let p = |xs: [u64; 4]| checked_product(xs, "multiply-adds");
        Ok(checked_sum(
            [
                p([tq, last(q)? as u64, h, kd])?,
                p([tk, last(k)? as u64, h, kd])?,
                p([tk, last(v)? as u64, h, vd])?,
                p([tq, tk, h, kd])?,
                p([tq, tk, h, vd])?,
                p([tq, h, vd, out])?,
            ],
            "multiply-adds",
        )?)
    }
    fn forward(&self, xs: &[&ArrayD<f32>], w: &[ArrayD<f32>]) -> Result<ArrayD<f32>, GraphProblem> {
        let c = self.context(xs, w)?;
        let (h, vd) = (self.num_heads, self.value_dim);
        // Output projection: (…, heads, value_dim) · (heads·value_dim, out).
        let rank = c.ctx.ndim();
        let lead: Vec<usize> = c.ctx.shape()[..rank - 2].to_vec();
        let mut flat = lead.clone();
        flat.push(h * vd);
        let ctx = c
            .ctx
            .as_standard_layout()
            .into_owned()
            .into_shape_with_order(IxDyn(&flat))
            .map_err(|_| GraphProblem::config("inputs", "attention output reshape"))?;
        let (ok, ob) = c.weights[3];
        let out_n = ok.len() / (h * vd).max(1);
        let k2 = ok
            .as_standard_layout()
            .into_owned()
            .into_shape_with_order(IxDyn(&[h * vd, out_n]))
            .map_err(|_| GraphProblem::config("weights", "output kernel does not fit"))?;
        let b2 = match ob {
            Some(b) => Some(
                b.as_standard_layout()
                    .into_owned()
                    .into_shape_with_order(IxDyn(&[out_n]))
                    .map_err(|_| GraphProblem::config("weights", "output bias does not fit"))?,
            ),
            None => None,
        };
        let y = dense_apply(&ctx, &k2, b2.as_ref())?;
        let mut dims = lead;
        dims.extend(ok.shape()[2..].iter().copied());
        y.into_shape_with_order(IxDyn(&dims))
            .map_err(|_| GraphProblem::config("output_shape", "output reshape"))
    }
    fn to_config(&self) -> Value {
        serde_json::json!({
            "num_heads": self.num_heads,
            "key_dim": self.key_dim,
            "value_dim": self.value_dim,
            "use_bias": self.use_bias,
            "output_shape": self.output_shape,
            "attention_axes": self.attention_axes,
        })
    }
    fn keras_args(&self) -> Vec<String> {
        let list = |v: &[i64]| match v {
            [one] => format!("({one},)"),
            _ => format!(
                "({})",
                v.iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        };
        let mut a = vec![
            format!("num_heads={}", self.num_heads),
            format!("key_dim={}", self.key_dim),
        ];
        if self.value_dim != self.key_dim {
            a.push(format!("value_dim={}", self.value_dim));
        }
        if !self.use_bias {
            a.push("use_bias=False".into());
        }
        if let Some(o) = &self.output_shape {
            let o: Vec<i64> = o.iter().map(|&d| d as i64).collect();
            a.push(format!("output_shape={}", list(&o)));
        }
        if let Some(ax) = &self.attention_axes {
            a.push(format!("attention_axes={}", list(ax)));
        }
        a
    }
    fn explain(&self, inputs: &[Shape], output: &Shape) -> Explanation {
        let Ok((q, v, k)) = self.parts(inputs) else {
            return Explanation::new("MultiHeadAttention takes query and value (and a key).");
        };
        let (h, kd, vd) = (self.num_heads, self.key_dim, self.value_dim);
        let (dq, dk, dv) = (
            q.last().unwrap_or(0),
            k.last().unwrap_or(0),
            v.last().unwrap_or(0),
        );
        let out: usize = self.out_dims(q).iter().product();
        let b = usize::from(self.use_bias);
        let params = |din: usize, dout: usize| (din + b) * h * dout;
        Explanation::new(format!(
            "MultiHeadAttention is Dense applied at every position, three times: the query, key and value projections each use one kernel at every position (like Dense on a multi-dimensional input), split into {h} head(s). Each query position then takes a softmax-weighted mix of the value positions, and a last Dense per position maps the heads back: {q} → {output}."
        ))
        .step(format!(
            "query: Dense per position {dq} → {h}×{kd}: ({dq}{}) × {h} × {kd} = {}",
            if b == 1 { " + 1" } else { "" },
            params(dq, kd)
        ))
        .step(format!(
            "key: {dk} → {h}×{kd}: {}; value: {dv} → {h}×{vd}: {}",
            params(dk, kd),
            params(dv, vd)
        ))
        .step(format!(
            "output: {h}×{vd} → {out}: {h} × {vd} × {out}{} = {}",
            if b == 1 { format!(" + {out}") } else { String::new() },
            h * vd * out + b * out
        ))
        .step(format!(
            "scores: softmax(query · key / √{kd}) over the attended positions of {k}"
        ))
    }
}

/// A [`GraphProblem`] as the [`Problem`] a backward pass returns.
fn problem(e: GraphProblem) -> Problem {
    match e {
        GraphProblem::Layer(p) => p,
        e => Problem::Value {
            message: e.to_string(),
        },
    }
}

/// `x` as `(rows, cols)`, `cols` its last size.
fn rows(x: &ArrayD<f32>, cols: usize) -> Result<Array2<f32>, Problem> {
    let n = x.len().checked_div(cols).unwrap_or(0);
    x.as_standard_layout()
        .into_owned()
        .into_shape_with_order((n, cols))
        .map_err(|_| Problem::layout("attention gradient reshape"))
}

/// A Dense at every position backward: `y = x·K + b` with `K` the kernel flattened to
/// `(D, units)` and `dz` the gradient of `y`. Returns `dx`, `dK` (in the kernel's shape)
/// and `db` (in `bias`'s shape, when there is one).
fn dense_back(
    x: &ArrayD<f32>,
    kernel: &ArrayD<f32>,
    bias: Option<&ArrayD<f32>>,
    dz: &ArrayD<f32>,
) -> Result<(ArrayD<f32>, Vec<ArrayD<f32>>), Problem> {
    let d = x
        .shape()
        .last()
        .copied()
        .ok_or_else(|| Problem::layout("attention input has no axes"))?;
    let units = kernel.len().checked_div(d).unwrap_or(0);
    let x2 = rows(x, d)?;
    let k2 = rows(kernel, units)?;
    let dz2 = rows(dz, units)?;
    if x2.nrows() != dz2.nrows() || k2.nrows() != d {
        return Err(Problem::layout("attention gradient does not fit"));
    }
    let dx = reshape_to(&dz2.dot(&k2.t()).into_dyn(), x.shape())?;
    let mut dw = vec![reshape_to(&x2.t().dot(&dz2).into_dyn(), kernel.shape())?];
    if let Some(b) = bias {
        dw.push(reshape_to(&dz2.sum_axis(Axis(0)).into_dyn(), b.shape())?);
    }
    Ok((dx, dw))
}

impl MultiGrad for MultiHeadAttention {
    /// The forward pass recomputed up to the attention's result, then backward through the
    /// output projection, the attention ([`attend_back`]) and the three input projections.
    /// With two inputs the key is the value, so the value's gradient sums both paths. A
    /// layer with attention dropout refuses (its random mask is not reproduced).
    fn backward_multi(
        &self,
        xs: &[&ArrayD<f32>],
        w: &[ArrayD<f32>],
        dy: &ArrayD<f32>,
    ) -> Result<MultiGrads, Problem> {
        if self.dropout != 0.0 {
            return Err(Problem::NotTrainable);
        }
        let c = self.context(xs, w).map_err(problem)?;
        let [q, v, k] = c.inputs;
        let [qp, kp, vp] = &c.projected;
        // The output projection reads the heads and their values as one axis.
        let mut flat = c.ctx.shape().to_vec();
        let hv = flat
            .split_off(flat.len().saturating_sub(2))
            .iter()
            .product();
        flat.push(hv);
        let ctx = reshape_to(&c.ctx, &flat)?;
        let (dctx, dw_out) = dense_back(&ctx, c.weights[3].0, c.weights[3].1, dy)?;
        let dctx = reshape_to(&dctx, c.ctx.shape())?;
        let [dqp, dkp, dvp] = attend_back(qp, kp, vp, &c.axes, c.scale, &dctx).map_err(problem)?;
        let (dq, mut dw) = dense_back(q, c.weights[0].0, c.weights[0].1, &dqp)?;
        let (dk, dw_k) = dense_back(k, c.weights[1].0, c.weights[1].1, &dkp)?;
        let (dv, dw_v) = dense_back(v, c.weights[2].0, c.weights[2].1, &dvp)?;
        dw.extend(dw_k);
        dw.extend(dw_v);
        dw.extend(dw_out);
        let dxs = if xs.len() == 2 {
            check_same_shape(&dk, &dv)?;
            vec![dq, dv + &dk]
        } else {
            vec![dq, dv, dk]
        };
        Ok(MultiGrads { dxs, dw })
    }
}

/// `x · kernel(D, heads, size) + bias(heads, size)` at every position → `(…, heads, size)`.
fn project(
    x: &ArrayD<f32>,
    kernel: &ArrayD<f32>,
    bias: Option<&ArrayD<f32>>,
    heads: usize,
    size: usize,
) -> Result<ArrayD<f32>, GraphProblem> {
    let d = kernel.shape().first().copied().unwrap_or(0);
    let bad = || GraphProblem::config("weights", "a projection kernel does not fit");
    let k2 = kernel
        .as_standard_layout()
        .into_owned()
        .into_shape_with_order(IxDyn(&[d, heads * size]))
        .map_err(|_| bad())?;
    let b1 = match bias {
        Some(b) => Some(
            b.as_standard_layout()
                .into_owned()
                .into_shape_with_order(IxDyn(&[heads * size]))
                .map_err(|_| bad())?,
        ),
        None => None,
    };
    let y = dense_apply(x, &k2, b1.as_ref())?;
    let mut dims = x.shape()[..x.ndim() - 1].to_vec();
    dims.extend([heads, size]);
    y.into_shape_with_order(IxDyn(&dims)).map_err(|_| bad())
}

/// The axis order [`attend`] works in (batch, batch-like…, heads, attention…, features) for
/// projected tensors of this rank, and how many leading axes of it form the groups.
fn attention_order(rank: usize, axes: &[usize]) -> (Vec<usize>, usize) {
    let head = rank.saturating_sub(2);
    let batch_like: Vec<usize> = (1..head).filter(|a| !axes.contains(a)).collect();
    let mut order = vec![0];
    order.extend(&batch_like);
    order.push(head);
    order.extend(axes);
    order.push(rank.saturating_sub(1));
    (order, batch_like.len() + 2)
}

/// `x` in `order`, as `(groups, positions, features)`, and its permuted shape.
fn group(
    x: &ArrayD<f32>,
    order: &[usize],
    lead: usize,
) -> Result<(Array3<f32>, Vec<usize>), GraphProblem> {
    let bad = || GraphProblem::config("inputs", "attention reshape");
    if order.len() != x.ndim() || lead >= x.ndim() {
        return Err(bad());
    }
    let p = x.view().permuted_axes(IxDyn(order));
    let shape = p.shape().to_vec();
    let rank = shape.len();
    let g: usize = shape[..lead].iter().product();
    let t: usize = shape[lead..rank - 1].iter().product();
    let f = shape[rank - 1];
    let a = p
        .as_standard_layout()
        .into_owned()
        .into_shape_with_order((g, t, f))
        .map_err(|_| bad())?;
    Ok((a, shape))
}

/// [`group`] undone: `a` laid out as the permuted shape `shape` (its last size replaced by
/// `a`'s), then back in the original axis order.
fn ungroup(
    a: Array3<f32>,
    mut shape: Vec<usize>,
    order: &[usize],
) -> Result<ArrayD<f32>, GraphProblem> {
    if let Some(last) = shape.last_mut() {
        *last = a.shape()[2];
    }
    let o = a
        .into_dyn()
        .into_shape_with_order(IxDyn(&shape))
        .map_err(|_| GraphProblem::config("inputs", "attention output reshape"))?;
    let mut inverse = vec![0; order.len()];
    for (i, &a) in order.iter().enumerate() {
        inverse[a] = i;
    }
    Ok(o.permuted_axes(IxDyn(&inverse))
        .as_standard_layout()
        .into_owned())
}

/// A tensor grouped for attention and its permuted shape.
type Grouped = (Array3<f32>, Vec<usize>);

/// The projected query, key and value grouped for attention; refused when they do not agree
/// on their batch, head or attended axes.
fn group_all(
    q: &ArrayD<f32>,
    k: &ArrayD<f32>,
    v: &ArrayD<f32>,
    axes: &[usize],
) -> Result<(Vec<usize>, Grouped, Grouped, Grouped), GraphProblem> {
    let (order, lead) = attention_order(q.ndim(), axes);
    let (q3, q_shape) = group(q, &order, lead)?;
    let (k3, k_shape) = group(k, &order, lead)?;
    let (v3, v_shape) = group(v, &order, lead)?;
    if q3.shape()[0] != k3.shape()[0]
        || k3.shape()[..2] != v3.shape()[..2]
        || q_shape[..lead] != k_shape[..lead]
    {
        return Err(GraphProblem::config(
            "inputs",
            "query, key and value do not agree on their batch, head or attended axes",
        ));
    }
    Ok((order, (q3, q_shape), (k3, k_shape), (v3, v_shape)))
}

/// The attention weights of one group: `softmax(q·scale · kᵀ)` over the key positions, and
/// the scaled query.
fn probabilities(
    q: ArrayView2<'_, f32>,
    k: ArrayView2<'_, f32>,
    scale: f32,
) -> (Array2<f32>, Array2<f32>) {
    let qs = q.mapv(|x| x * scale);
    let mut s: Array2<f32> = qs.dot(&k.t());
    for mut row in s.rows_mut() {
        let m = row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        row.mapv_inplace(|x| (x - m).exp());
        let sum: f32 = row.sum();
        row.mapv_inplace(|x| x / sum);
    }
    (s, qs)
}

/// Scaled dot-product attention of projected `(batch, …, heads, dim)` tensors over `axes`
/// (the other middle axes are batch-like). Returns `(batch, …q, heads, value_dim)`.
fn attend(
    q: &ArrayD<f32>,
    k: &ArrayD<f32>,
    v: &ArrayD<f32>,
    axes: &[usize],
    scale: f32,
) -> Result<ArrayD<f32>, GraphProblem> {
    let (order, (q3, q_shape), (k3, _), (v3, _)) = group_all(q, k, v, axes)?;
    let (g, tq, _) = q3.dim();
    let vdim = v3.shape()[2];
    let mut out = Array3::<f32>::zeros((g, tq, vdim));
    for i in 0..g {
        let (p, _) = probabilities(q3.index_axis(Axis(0), i), k3.index_axis(Axis(0), i), scale);
        out.index_axis_mut(Axis(0), i)
            .assign(&p.dot(&v3.index_axis(Axis(0), i)));
    }
    ungroup(out, q_shape, &order)
}

/// [`attend`] backward: from the gradient of its output, the gradients of the projected
/// query, key and value. Per group, with `P = softmax(S)`, `S = q·scale · kᵀ`, `O = P·v`:
/// `dv = Pᵀ·dO`, `dP = dO·vᵀ`, `dS = P ⊙ (dP − Σ_row dP ⊙ P)`, `dq = scale · dS·k`,
/// `dk = dSᵀ · q·scale`.
fn attend_back(
    q: &ArrayD<f32>,
    k: &ArrayD<f32>,
    v: &ArrayD<f32>,
    axes: &[usize],
    scale: f32,
    dout: &ArrayD<f32>,
) -> Result<[ArrayD<f32>; 3], GraphProblem> {
    let (order, (q3, q_shape), (k3, k_shape), (v3, v_shape)) = group_all(q, k, v, axes)?;
    let (d3, _) = group(dout, &order, attention_order(q.ndim(), axes).1)?;
    let (g, tq, kdim) = q3.dim();
    if d3.dim() != (g, tq, v3.shape()[2]) {
        return Err(GraphProblem::config(
            "inputs",
            "the attention gradient does not fit",
        ));
    }
    let (mut dq, mut dk, mut dv) = (
        Array3::<f32>::zeros((g, tq, kdim)),
        Array3::<f32>::zeros(k3.raw_dim()),
        Array3::<f32>::zeros(v3.raw_dim()),
    );
    for i in 0..g {
        let (ki, vi, di) = (
            k3.index_axis(Axis(0), i),
            v3.index_axis(Axis(0), i),
            d3.index_axis(Axis(0), i),
        );
        let (p, qs) = probabilities(q3.index_axis(Axis(0), i), ki, scale);
        dv.index_axis_mut(Axis(0), i).assign(&p.t().dot(&di));
        let mut ds = di.dot(&vi.t());
        for (mut row, prow) in ds.rows_mut().into_iter().zip(p.rows()) {
            let dot: f32 = row.iter().zip(prow.iter()).map(|(a, b)| a * b).sum();
            row.zip_mut_with(&prow, |d, &pv| *d = pv * (*d - dot));
        }
        dq.index_axis_mut(Axis(0), i)
            .assign(&ds.dot(&ki).mapv(|x| x * scale));
        dk.index_axis_mut(Axis(0), i).assign(&ds.t().dot(&qs));
    }
    Ok([
        ungroup(dq, q_shape, &order)?,
        ungroup(dk, k_shape, &order)?,
        ungroup(dv, v_shape, &order)?,
    ])
}
