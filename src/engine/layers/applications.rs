//! The preprocessing and application-specific layers `keras.applications` models contain:
//! `Normalization` (`EfficientNet`, `ConvNeXt`), `ConvNeXt`'s `LayerScale`,
//! `InceptionResNetV2`'s `CustomScaleLayer`. Graph models only (see `multi.rs`).

use ndarray::{ArrayD, Axis, IxDyn, Zip};
use serde_json::Value;

use super::merge::broadcast_dims;
use super::multi::{cfg, only, py_index, MultiRules};
use super::{Explanation, Init, WeightSpec};
use crate::engine::error::Problem;
use crate::engine::graph::problem::{Arity, GraphProblem};
use crate::engine::shape::Shape;
use crate::engine::train::grad::{check_same_shape, MultiGrad, MultiGrads};

/// `keras.layers.Normalization(axis=-1, mean=None, variance=None, invert=False)`:
/// `(x − mean) / max(√variance, 1e-7)` per kept axis.
///
/// # Shapes
/// Output = input. Without `mean`/`variance` in the config it holds them as weights
/// (`mean`, `variance` of the kept axes' sizes, and a scalar `count`), all non-trainable.
#[derive(Debug, Clone, PartialEq)]
pub struct Normalization {
    /// Kept axes (batch counted, Keras's `axis`).
    pub axis: Vec<i64>,
    /// Given mean and variance (flattened), or `None` for weights.
    pub given: Option<(Vec<f32>, Vec<f32>)>,
    pub invert: bool,
}

fn floats(v: &Value) -> Option<Vec<f32>> {
    match v {
        Value::Number(n) => n.as_f64().map(|x| vec![x as f32]),
        Value::Array(a) => a
            .iter()
            .map(floats)
            .collect::<Option<Vec<_>>>()
            .map(|v| v.concat()),
        _ => None,
    }
}

impl Normalization {
    /// # Errors
    /// A field of the wrong type, or only one of `mean` and `variance`.
    pub fn from_config(config: &Value) -> Result<Normalization, String> {
        let axis = cfg::ints(config, "axis")?.unwrap_or_else(|| vec![-1]);
        let get = |k: &str| match config.get(k) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => floats(v)
                .map(Some)
                .ok_or_else(|| format!("`{k}` must be a number or a list of numbers")),
        };
        let given = match (get("mean")?, get("variance")?) {
            (Some(m), Some(v)) => Some((m, v)),
            (None, None) => None,
            _ => return Err("`mean` and `variance` must be given together".into()),
        };
        Ok(Normalization {
            axis,
            given,
            invert: cfg::boolean(config, "invert", false)?,
        })
    }

    /// Kept axes (batch counted, sorted) for an input of this shape.
    fn kept(&self, input: &Shape) -> Result<Vec<usize>, GraphProblem> {
        let n = input.ndim();
        let mut kept = Vec::new();
        for &a in &self.axis {
            let i = py_index(a, n)
                .filter(|&i| i > 0)
                .ok_or(GraphProblem::Axis { axis: a, rank: n })?;
            if !kept.contains(&i) {
                kept.push(i);
            }
        }
        crate::engine::small_sort::sort(&mut kept);
        Ok(kept)
    }

    /// Mean and variance broadcast to `(1, …)` over the batch shape of `x`.
    fn stats(
        &self,
        x: &ArrayD<f32>,
        w: &[ArrayD<f32>],
    ) -> Result<(ArrayD<f32>, ArrayD<f32>), GraphProblem> {
        let input = Shape::new(x.shape().get(1..).unwrap_or_default().to_vec());
        let kept = self.kept(&input)?;
        let bshape: Vec<usize> = (0..x.ndim())
            .map(|d| if kept.contains(&d) { x.shape()[d] } else { 1 })
            .collect();
        let kept_n: usize = kept.iter().map(|&d| x.shape()[d]).product();
        let shaped = |v: &[f32]| -> Result<ArrayD<f32>, GraphProblem> {
            let full = if v.len() == 1 {
                vec![v[0]; kept_n]
            } else {
                v.to_vec()
            };
            ArrayD::from_shape_vec(IxDyn(&bshape), full).map_err(|_| {
                GraphProblem::config("mean", format!("does not fit the kept axes of {input}"))
            })
        };
        match (&self.given, w) {
            (Some((m, v)), _) => Ok((shaped(m)?, shaped(v)?)),
            (None, [m, v, ..]) => Ok((
                shaped(&m.iter().copied().collect::<Vec<_>>())?,
                shaped(&v.iter().copied().collect::<Vec<_>>())?,
            )),
            _ => Err(GraphProblem::Layer(
                crate::engine::error::Problem::MissingWeights {
                    expected: 3,
                    got: w.len(),
                },
            )),
        }
    }
}

impl MultiRules for Normalization {
    fn arity(&self) -> Arity {
        Arity::Exactly(1)
    }
    fn output_shape(&self, inputs: &[Shape]) -> Result<Shape, GraphProblem> {
        let input = only(inputs)?;
        self.kept(input)?;
        Ok(input.clone())
    }
    fn weights(&self, inputs: &[Shape]) -> Result<Vec<WeightSpec>, GraphProblem> {
        if self.given.is_some() {
            return Ok(Vec::new());
        }
        let input = only(inputs)?;
        let shape: Vec<usize> = self
            .kept(input)?
            .iter()
            .map(|&d| input.dims()[d - 1])
            .collect();
        Ok(vec![
            WeightSpec::new("mean", shape.clone(), Init::Zeros).frozen(),
            WeightSpec::new("variance", shape, Init::Ones).frozen(),
            WeightSpec::new("count", Vec::new(), Init::Zeros).frozen(),
        ])
    }
    fn forward(&self, xs: &[&ArrayD<f32>], w: &[ArrayD<f32>]) -> Result<ArrayD<f32>, GraphProblem> {
        let [x] = xs else {
            return Err(GraphProblem::Arity {
                expected: self.arity(),
                got: xs.len(),
            });
        };
        let (mean, var) = self.stats(x, w)?;
        let mut out = (*x).clone();
        let invert = self.invert;
        Zip::from(&mut out)
            .and_broadcast(&mean)
            .and_broadcast(&var)
            .for_each(|o, &m, &v| {
                let s = v.sqrt().max(1e-7);
                *o = if invert { m + *o * s } else { (*o - m) / s };
            });
        Ok(out)
    }
    fn to_config(&self) -> Value {
        let (mean, variance) = match &self.given {
            Some((m, v)) => (serde_json::json!(m), serde_json::json!(v)),
            None => (Value::Null, Value::Null),
        };
        serde_json::json!({"axis": self.axis, "mean": mean, "variance": variance, "invert": self.invert})
    }
    fn keras_args(&self) -> Vec<String> {
        let list = |v: &[f32]| {
            format!(
                "[{}]",
                v.iter()
                    .map(|x| super::code::py_float(x.to_string().parse().unwrap_or(f64::from(*x))))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        };
        let mut a = Vec::new();
        if self.axis != [-1] {
            a.push(match self.axis.as_slice() {
                [one] => format!("axis={one}"),
                many => format!(
                    "axis=({},)",
                    many.iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            });
        }
        if let Some((m, v)) = &self.given {
            a.push(format!("mean={}", list(m)));
            a.push(format!("variance={}", list(v)));
        }
        if self.invert {
            a.push("invert=True".into());
        }
        a
    }
    fn explain(&self, inputs: &[Shape], output: &Shape) -> Explanation {
        let _ = inputs;
        Explanation::new(format!(
            "Normalization shifts and scales each feature with a fixed mean and variance: (x − mean) / √variance. The shape does not change: {output}."
        ))
    }
}

impl MultiGrad for Normalization {
    /// A fixed affine map per kept axis: the gradient scaled by `1 / max(√variance, 1e-7)`
    /// (by that scale itself with `invert`); its weights (mean, variance, count) are not
    /// trainable, so their gradients are zeros.
    fn backward_multi(
        &self,
        xs: &[&ArrayD<f32>],
        w: &[ArrayD<f32>],
        dy: &ArrayD<f32>,
    ) -> Result<MultiGrads, Problem> {
        let [x] = xs else {
            return Err(Problem::layout("Normalization takes one input"));
        };
        check_same_shape(dy, x)?;
        let (_, var) = self.stats(x, w).map_err(layer_problem)?;
        let mut dx = dy.clone();
        let invert = self.invert;
        Zip::from(&mut dx).and_broadcast(&var).for_each(|g, &v| {
            let s = v.sqrt().max(1e-7);
            *g = if invert { *g * s } else { *g / s };
        });
        Ok(MultiGrads {
            dxs: vec![dx],
            dw: w.iter().map(|a| ArrayD::zeros(a.raw_dim())).collect(),
        })
    }
}

/// `f(a, b)` elementwise over `NumPy`'s broadcast of the two whole arrays (batch axis
/// included; shapes aligned from the last axis), as Keras's `a * b` / `a + b` in `call`.
///
/// # Errors
/// [`GraphProblem::Broadcast`] when the shapes do not broadcast.
fn zip_broadcast(
    a: &ArrayD<f32>,
    b: &ArrayD<f32>,
    f: impl Fn(f32, f32) -> f32,
) -> Result<ArrayD<f32>, GraphProblem> {
    let shape = broadcast_dims(a.shape(), b.shape())?;
    let (Some(av), Some(bv)) = (a.broadcast(IxDyn(&shape)), b.broadcast(IxDyn(&shape))) else {
        return Err(GraphProblem::Broadcast {
            a: a.shape().to_vec(),
            b: b.shape().to_vec(),
        });
    };
    Ok(Zip::from(&av).and(&bv).map_collect(|&x, &y| f(x, y)))
}

/// `g` (the gradient of a broadcast result) summed back to `shape` by `NumPy`'s rule:
/// leading axes, and axes of size 1 in `shape` that were stretched.
///
/// # Errors
/// [`Problem::Reshape`] when `shape` does not broadcast to `g`'s shape.
fn sum_to(g: &ArrayD<f32>, shape: &[usize]) -> Result<ArrayD<f32>, Problem> {
    let bad = || Problem::Reshape {
        from: g.shape().to_vec(),
        to: shape.to_vec(),
    };
    if shape.len() > g.ndim() {
        return Err(bad());
    }
    let mut out = g.clone();
    while out.ndim() > shape.len() {
        out = out.sum_axis(Axis(0));
    }
    for (axis, &want) in shape.iter().enumerate() {
        let have = out.shape()[axis];
        if want == have {
            continue;
        }
        if want != 1 {
            return Err(bad());
        }
        out = out.sum_axis(Axis(axis)).insert_axis(Axis(axis));
    }
    Ok(out)
}

/// A graph problem met in a backward pass, as the training side's [`Problem`].
fn layer_problem(e: GraphProblem) -> Problem {
    match e {
        GraphProblem::Layer(p) => p,
        e => Problem::Value {
            message: e.to_string(),
        },
    }
}

/// `ConvNeXt`'s `LayerScale(init_values, projection_dim)`: `x · gamma`, one trainable
/// scale per channel.
#[derive(Debug, Clone, PartialEq)]
pub struct LayerScale {
    pub init_values: f64,
    pub projection_dim: usize,
}

impl LayerScale {
    /// # Errors
    /// A missing or non-positive `projection_dim`.
    pub fn from_config(config: &Value) -> Result<LayerScale, String> {
        Ok(LayerScale {
            init_values: cfg::float(config, "init_values", Some(1e-6))?,
            projection_dim: cfg::positive(config, "projection_dim", None)?,
        })
    }
}

impl MultiRules for LayerScale {
    fn arity(&self) -> Arity {
        Arity::Exactly(1)
    }
    fn output_shape(&self, inputs: &[Shape]) -> Result<Shape, GraphProblem> {
        let input = only(inputs)?;
        broadcast_dims(input.dims(), &[self.projection_dim]).map(Shape::new)
    }
    fn weights(&self, _inputs: &[Shape]) -> Result<Vec<WeightSpec>, GraphProblem> {
        let v = self.init_values as f32;
        Ok(vec![WeightSpec::new(
            "gamma",
            vec![self.projection_dim],
            Init::Uniform(v, v),
        )])
    }
    fn forward(&self, xs: &[&ArrayD<f32>], w: &[ArrayD<f32>]) -> Result<ArrayD<f32>, GraphProblem> {
        let ([x], [gamma]) = (xs, w) else {
            return Err(GraphProblem::config(
                "weights",
                "LayerScale takes one input and `gamma`",
            ));
        };
        // A 1-channel input broadcasts against `gamma`, as Keras's `inputs * gamma` does.
        zip_broadcast(x, gamma, |v, g| v * g)
    }
    fn to_config(&self) -> Value {
        serde_json::json!({"init_values": self.init_values, "projection_dim": self.projection_dim})
    }
    fn keras_args(&self) -> Vec<String> {
        vec![
            format!("init_values={}", super::code::py_float(self.init_values)),
            format!("projection_dim={}", self.projection_dim),
        ]
    }
    fn explain(&self, _inputs: &[Shape], output: &Shape) -> Explanation {
        Explanation::new(format!(
            "LayerScale multiplies each of the {} channels by its own learned scale: {} parameters, shape unchanged {output}.",
            self.projection_dim, self.projection_dim
        ))
    }
}

/// `InceptionResNetV2`'s `CustomScaleLayer(scale)`: `inputs[0] + inputs[1] · scale`.
#[derive(Debug, Clone, PartialEq)]
pub struct CustomScaleLayer {
    pub scale: f64,
}

impl CustomScaleLayer {
    /// # Errors
    /// A missing `scale`.
    pub fn from_config(config: &Value) -> Result<CustomScaleLayer, String> {
        Ok(CustomScaleLayer {
            scale: cfg::float(config, "scale", None)?,
        })
    }
}

impl MultiRules for CustomScaleLayer {
    fn arity(&self) -> Arity {
        Arity::Exactly(2)
    }
    fn output_shape(&self, inputs: &[Shape]) -> Result<Shape, GraphProblem> {
        let [a, b] = inputs else {
            return Err(GraphProblem::Arity {
                expected: self.arity(),
                got: inputs.len(),
            });
        };
        broadcast_dims(a.dims(), b.dims()).map(Shape::new)
    }
    fn forward(
        &self,
        xs: &[&ArrayD<f32>],
        _w: &[ArrayD<f32>],
    ) -> Result<ArrayD<f32>, GraphProblem> {
        let [a, b] = xs else {
            return Err(GraphProblem::Arity {
                expected: self.arity(),
                got: xs.len(),
            });
        };
        // Same rank (the shape rule broadcasts the non-batch dims from the last axis, which
        // for arrays of different ranks would align the batch axis with another).
        if a.ndim() != b.ndim() {
            return Err(GraphProblem::Broadcast {
                a: a.shape().to_vec(),
                b: b.shape().to_vec(),
            });
        }
        let s = self.scale as f32;
        zip_broadcast(a, b, |x, y| x + y * s)
    }
    fn to_config(&self) -> Value {
        serde_json::json!({"scale": self.scale})
    }
    fn keras_args(&self) -> Vec<String> {
        vec![format!("scale={}", super::code::py_float(self.scale))]
    }
    fn explain(&self, _inputs: &[Shape], output: &Shape) -> Explanation {
        Explanation::new(format!(
            "CustomScaleLayer adds a scaled residual: shortcut + {} × branch. Both must have the same shape: {output}.",
            self.scale
        ))
    }
}

impl MultiGrad for LayerScale {
    /// `y = x · gamma`: `dx = dy · gamma` and `dgamma = Σ dy · x`, each summed back over
    /// the axes it was broadcast along.
    fn backward_multi(
        &self,
        xs: &[&ArrayD<f32>],
        w: &[ArrayD<f32>],
        dy: &ArrayD<f32>,
    ) -> Result<MultiGrads, Problem> {
        let ([x], [gamma]) = (xs, w) else {
            return Err(Problem::layout("LayerScale takes one input and `gamma`"));
        };
        let dx = zip_broadcast(dy, gamma, |g, v| g * v).map_err(layer_problem)?;
        let dgamma = zip_broadcast(dy, x, |g, v| g * v).map_err(layer_problem)?;
        Ok(MultiGrads {
            dxs: vec![sum_to(&dx, x.shape())?],
            dw: vec![sum_to(&dgamma, gamma.shape())?],
        })
    }
}

impl MultiGrad for CustomScaleLayer {
    /// `y = a + b · scale`: `da = dy`, `db = dy · scale`, each summed back over the axes
    /// it was broadcast along.
    fn backward_multi(
        &self,
        xs: &[&ArrayD<f32>],
        _w: &[ArrayD<f32>],
        dy: &ArrayD<f32>,
    ) -> Result<MultiGrads, Problem> {
        let [a, b] = xs else {
            return Err(Problem::layout("CustomScaleLayer takes two inputs"));
        };
        let s = self.scale as f32;
        Ok(MultiGrads {
            dxs: vec![
                sum_to(dy, a.shape())?,
                sum_to(&dy.mapv(|g| g * s), b.shape())?,
            ],
            dw: Vec::new(),
        })
    }
}
