//! `keras.layers.MultiHeadAttention`: query, key and value projections (a Dense applied at
//! every position, one kernel per head), scaled dot-product attention over the attention
//! axes, and an output projection. Rules read from
//! `keras/src/layers/attention/multi_head_attention.py`.

use ndarray::{Array2, ArrayD, Axis, IxDyn};
use serde_json::Value;

use super::core::dense_apply;
use super::multi::{cfg, MultiRules};
use super::{Explanation, Init, WeightSpec};
use crate::engine::graph::problem::{Arity, GraphProblem};
use crate::engine::shape::{checked_product, checked_sum, Shape};

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
            return Err(GraphProblem::Layer(
                crate::engine::error::Problem::MissingWeights {
                    expected: 4 * per,
                    got: w.len(),
                },
            ));
        }
        let weight = |i: usize| &w[i * per];
        let bias = |i: usize| {
            if self.use_bias {
                Some(&w[i * per + 1])
            } else {
                None
            }
        };
        let (h, kd, vd) = (self.num_heads, self.key_dim, self.value_dim);
        let qp = project(q, weight(0), bias(0), h, kd)?;
        let kp = project(k, weight(1), bias(1), h, kd)?;
        let vp = project(v, weight(2), bias(2), h, vd)?;
        if qp.ndim() != kp.ndim() || kp.ndim() != vp.ndim() {
            return Err(GraphProblem::config(
                "inputs",
                "query, key and value must have the same rank to attend",
            ));
        }
        let rank = qp.ndim();
        let axes = self.axes(rank)?;
        let mut ctx = attend(&qp, &kp, &vp, &axes, 1.0 / (kd as f32).sqrt())?;
        // Output projection: (…, heads, value_dim) · (heads·value_dim, out).
        let lead: Vec<usize> = ctx.shape()[..rank - 2].to_vec();
        let mut flat = lead.clone();
        flat.push(h * vd);
        ctx = ctx
            .as_standard_layout()
            .into_owned()
            .into_shape_with_order(IxDyn(&flat))
            .map_err(|_| GraphProblem::config("inputs", "attention output reshape"))?;
        let ok = weight(3);
        let out_n = ok.len() / (h * vd).max(1);
        let k2 = ok
            .as_standard_layout()
            .into_owned()
            .into_shape_with_order(IxDyn(&[h * vd, out_n]))
            .map_err(|_| GraphProblem::config("weights", "output kernel does not fit"))?;
        let b2 = match bias(3) {
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

/// Scaled dot-product attention of projected `(batch, …, heads, dim)` tensors over `axes`
/// (the other middle axes are batch-like). Returns `(batch, …q, heads, value_dim)`.
fn attend(
    q: &ArrayD<f32>,
    k: &ArrayD<f32>,
    v: &ArrayD<f32>,
    axes: &[usize],
    scale: f32,
) -> Result<ArrayD<f32>, GraphProblem> {
    let rank = q.ndim();
    let head = rank - 2;
    let batch_like: Vec<usize> = (1..head).filter(|a| !axes.contains(a)).collect();
    // Order: batch, batch-like…, heads, attention…, features.
    let mut order = vec![0];
    order.extend(&batch_like);
    order.push(head);
    order.extend(axes);
    order.push(rank - 1);
    let group = |x: &ArrayD<f32>| -> Result<(ndarray::Array3<f32>, Vec<usize>), GraphProblem> {
        let p = x.view().permuted_axes(IxDyn(&order));
        let shape = p.shape().to_vec();
        let g: usize = shape[..=batch_like.len() + 1].iter().product();
        let t: usize = shape[batch_like.len() + 2..rank - 1].iter().product();
        let f = shape[rank - 1];
        let a = p
            .as_standard_layout()
            .into_owned()
            .into_shape_with_order((g, t, f))
            .map_err(|_| GraphProblem::config("inputs", "attention reshape"))?;
        Ok((a, shape))
    };
    let (q3, q_shape) = group(q)?;
    let (k3, k_shape) = group(k)?;
    let (v3, _) = group(v)?;
    if q3.shape()[0] != k3.shape()[0]
        || k3.shape()[..2] != v3.shape()[..2]
        || q_shape[..=batch_like.len() + 1] != k_shape[..=batch_like.len() + 1]
    {
        return Err(GraphProblem::config(
            "inputs",
            "query, key and value do not agree on their batch, head or attended axes",
        ));
    }
    let (g, tq, _) = q3.dim();
    let vdim = v3.shape()[2];
    let mut out = ndarray::Array3::<f32>::zeros((g, tq, vdim));
    for i in 0..g {
        let qs = q3.index_axis(Axis(0), i).mapv(|x| x * scale);
        let mut s: Array2<f32> = qs.dot(&k3.index_axis(Axis(0), i).t());
        for mut row in s.rows_mut() {
            let m = row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
            row.mapv_inplace(|x| (x - m).exp());
            let sum: f32 = row.sum();
            row.mapv_inplace(|x| x / sum);
        }
        out.index_axis_mut(Axis(0), i)
            .assign(&s.dot(&v3.index_axis(Axis(0), i)));
    }
    // Back to (batch, batch-like…, heads, attention…, value_dim), then the original order.
    let mut grouped = q_shape;
    *grouped.last_mut().unwrap_or(&mut 0) = vdim;
    let o = out
        .into_dyn()
        .into_shape_with_order(IxDyn(&grouped))
        .map_err(|_| GraphProblem::config("inputs", "attention output reshape"))?;
    let mut inverse = vec![0; rank];
    for (i, &a) in order.iter().enumerate() {
        inverse[a] = i;
    }
    Ok(o.permuted_axes(IxDyn(&inverse))
        .as_standard_layout()
        .into_owned())
}
