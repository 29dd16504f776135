//! Forward pass through a model in inference mode: weight initialisation (Keras defaults
//! from a seeded RNG), weight loading in `get_weights()` order, and a size guard that refuses
//! work a browser tab could not finish.

use ndarray::{Array2, ArrayD, IxDyn};

use super::error::{LayerError, Problem};
use super::layers::{Init, WeightSpec};
use super::model::{Analysis, Model, Status};
use super::rng::Rng;

/// Per-layer weights, in Keras `get_weights()` order.
pub type Weights = Vec<Vec<ArrayD<f32>>>;

/// Bounds on forward work. Defaults: 16 M elements per tensor (64 MB of f32) and
/// 2·10⁹ multiply-adds for the whole batch.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Limits {
    pub max_elements: u64,
    pub max_macs: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_elements: 16 * 1024 * 1024,
            max_macs: 2_000_000_000,
        }
    }
}

fn glorot(rng: &mut Rng, shape: &[usize]) -> ArrayD<f32> {
    let (fan_in, fan_out) = match shape {
        [] => (1, 1),
        [n] => (*n, *n),
        [a, b] => (*a, *b),
        _ => {
            let rf: usize = shape[..shape.len() - 2].iter().product();
            (shape[shape.len() - 2] * rf, shape[shape.len() - 1] * rf)
        }
    };
    let limit = (6.0 / (fan_in + fan_out).max(1) as f64).sqrt() as f32;
    ArrayD::from_shape_simple_fn(IxDyn(shape), || rng.uniform(-limit, limit))
}

/// Keras `Orthogonal`: QR of a normal matrix, sign-corrected (modified Gram–Schmidt).
fn orthogonal(rng: &mut Rng, shape: &[usize]) -> ArrayD<f32> {
    let cols = shape.last().copied().unwrap_or(1);
    let rows: usize = shape.iter().rev().skip(1).product::<usize>().max(1);
    let (r, c) = (rows.max(cols), rows.min(cols));
    let mut a = Array2::<f64>::from_shape_simple_fn((r, c), || rng.normal());
    for j in 0..c {
        for k in 0..j {
            let dot: f64 = (0..r).map(|i| a[[i, j]] * a[[i, k]]).sum();
            for i in 0..r {
                a[[i, j]] -= dot * a[[i, k]];
            }
        }
        let norm: f64 = (0..r)
            .map(|i| a[[i, j]] * a[[i, j]])
            .sum::<f64>()
            .sqrt()
            .max(1e-12);
        for i in 0..r {
            a[[i, j]] /= norm;
        }
    }
    let q = if rows < cols {
        a.t().as_standard_layout().into_owned()
    } else {
        a
    };
    let q = q.mapv(|v| v as f32);
    q.into_shape_with_order(IxDyn(shape))
        .unwrap_or_else(|_| ArrayD::zeros(IxDyn(shape)))
}

pub(crate) fn init_one(rng: &mut Rng, w: &WeightSpec) -> ArrayD<f32> {
    match w.init {
        Init::Zeros => ArrayD::zeros(IxDyn(&w.shape)),
        Init::Ones => ArrayD::ones(IxDyn(&w.shape)),
        Init::Uniform(lo, hi) => {
            ArrayD::from_shape_simple_fn(IxDyn(&w.shape), || rng.uniform(lo, hi))
        }
        Init::GlorotUniform => glorot(rng, &w.shape),
        Init::Orthogonal => orthogonal(rng, &w.shape),
    }
}

/// Size of a tensor shape for the size guard. Zero-length axes count as 1: ndarray panics on
/// a shape whose non-zero axes overflow `isize` even when the tensor is empty, so an empty
/// tensor with a huge axis must not pass the guard (fuzz: `empty_axis_huge_transpose_stride`).
pub(crate) fn guarded_size(shape: &[usize]) -> u64 {
    shape
        .iter()
        .map(|&d| d.max(1) as u64)
        .fold(1u64, u64::saturating_mul)
}

fn guard_weights(a: &Analysis, limits: Limits) -> Result<(), LayerError> {
    for (index, l) in a.layers.iter().enumerate() {
        guard_layer_weights(a, index, &l.weights, limits)?;
    }
    Ok(())
}

/// The size guard on each weight tensor of layer `index`.
fn guard_layer_weights(
    a: &Analysis,
    index: usize,
    weights: &[WeightSpec],
    limits: Limits,
) -> Result<(), LayerError> {
    for w in weights {
        let n = guarded_size(&w.shape);
        if n > limits.max_elements {
            return Err(too_large(
                a,
                index,
                "the number of values in one of its weight tensors",
                n,
                limits.max_elements,
            ));
        }
    }
    Ok(())
}

fn too_large(
    a: &Analysis,
    index: usize,
    what: &'static str,
    amount: u64,
    limit: u64,
) -> LayerError {
    let l = &a.layers[index];
    LayerError {
        index,
        name: l.name.clone(),
        class_name: l.class_name.clone(),
        input: l.input.clone(),
        problem: Problem::TooLarge {
            what,
            amount,
            limit,
            factor: amount as f64 / limit.max(1) as f64,
        },
    }
}

fn invalid(a: &Analysis) -> Option<LayerError> {
    a.layers.iter().find_map(|l| match &l.status {
        Status::Error(e) => Some(e.clone()),
        _ => None,
    })
}

/// Default-initialised weights (Keras initialisers, seeded).
///
/// # Errors
/// The first invalid layer, or the size guard.
pub fn init_weights(a: &Analysis, seed: u64, limits: Limits) -> Result<Weights, LayerError> {
    if let Some(e) = invalid(a) {
        return Err(e);
    }
    guard_weights(a, limits)?;
    let mut rng = Rng::new(seed);
    Ok(a.layers
        .iter()
        .map(|l| l.weights.iter().map(|w| init_one(&mut rng, w)).collect())
        .collect())
}

/// Split a flat `get_weights()` list into per-layer weights, checking every shape.
///
/// # Errors
/// A [`LayerError`] naming the first layer whose weight does not fit, or extra arrays.
pub fn split_weights(a: &Analysis, flat: Vec<ArrayD<f32>>) -> Result<Weights, LayerError> {
    if let Some(e) = invalid(a) {
        return Err(e);
    }
    let total = flat.len();
    let mut it = flat.into_iter();
    let mut out = Vec::with_capacity(a.layers.len());
    let mut used = 0usize;
    for (index, l) in a.layers.iter().enumerate() {
        let mut ws = Vec::with_capacity(l.weights.len());
        for (wi, spec) in l.weights.iter().enumerate() {
            let err = |problem| LayerError {
                index,
                name: l.name.clone(),
                class_name: l.class_name.clone(),
                input: l.input.clone(),
                problem,
            };
            let w = it.next().ok_or_else(|| {
                err(Problem::MissingWeights {
                    expected: used + l.weights.len() - wi
                        + a.layers[index + 1..]
                            .iter()
                            .map(|x| x.weights.len())
                            .sum::<usize>(),
                    got: total - used,
                })
            })?;
            if w.shape() != spec.shape.as_slice() {
                return Err(err(Problem::WeightShape {
                    index: wi,
                    weight: spec.name,
                    expected: spec.shape.clone(),
                    got: w.shape().to_vec(),
                }));
            }
            used += 1;
            ws.push(w);
        }
        out.push(ws);
    }
    let extra = it.count();
    if extra > 0 {
        let index = a.layers.len().saturating_sub(1);
        let name = a.layers.last().map(|l| l.name.clone()).unwrap_or_default();
        return Err(LayerError {
            index,
            name,
            class_name: a
                .layers
                .last()
                .map(|l| l.class_name.clone())
                .unwrap_or_default(),
            input: None,
            problem: Problem::Value {
                message: format!(
                    "the weights file has {extra} more array(s) than the model's {used} weights"
                ),
            },
        });
    }
    Ok(out)
}

/// Run the model on a batch `x` (axis 0 = batch). Returns every layer's output.
///
/// # Errors
/// Invalid model, input that does not fit, size guard, or weights that do not fit.
pub fn forward(
    model: &Model,
    a: &Analysis,
    weights: &Weights,
    x: ArrayD<f32>,
    limits: Limits,
) -> Result<Vec<ArrayD<f32>>, LayerError> {
    if let Some(e) = invalid(a) {
        return Err(e);
    }
    let first = |problem| LayerError {
        index: 0,
        name: model
            .layers
            .first()
            .map_or_else(|| "input".into(), |l| l.name.clone()),
        class_name: model
            .layers
            .first()
            .map_or_else(|| "InputLayer".into(), |l| l.spec.class_name().to_string()),
        input: Some(a.input.clone()),
        problem,
    };
    if x.ndim() != a.input.ndim() || x.shape()[1..] != *a.input.dims() {
        return Err(first(Problem::InputShape {
            expected: a
                .input
                .dims()
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", "),
            got: x.shape().to_vec(),
        }));
    }
    let batch = x.shape()[0] as u64;
    let mut total_macs = 0u64;
    for (index, l) in a.layers.iter().enumerate() {
        guard_layer_weights(a, index, &l.weights, limits)?;
        let out_dims = l.output.as_ref().map_or(&[][..], |s| s.dims());
        let elems = guarded_size(out_dims).saturating_mul(batch.max(1));
        if elems > limits.max_elements {
            return Err(too_large(
                a,
                index,
                "output elements for this batch",
                elems,
                limits.max_elements,
            ));
        }
        total_macs = total_macs.saturating_add(l.macs.saturating_mul(batch));
        if total_macs > limits.max_macs {
            return Err(too_large(
                a,
                index,
                "multiply-adds up to this layer",
                total_macs,
                limits.max_macs,
            ));
        }
    }
    let mut outs = Vec::with_capacity(model.layers.len());
    let mut cur = x;
    for (index, layer) in model.layers.iter().enumerate() {
        let w = weights.get(index).map_or(&[][..], Vec::as_slice);
        let y = layer
            .spec
            .rules()
            .forward(&cur, w)
            .map_err(|problem| LayerError {
                index,
                name: layer.name.clone(),
                class_name: layer.spec.class_name().to_string(),
                input: a.layers[index].input.clone(),
                problem,
            })?;
        outs.push(y.clone());
        cur = y;
    }
    Ok(outs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::model::analyze;

    #[test]
    fn seed_forward_shapes_and_shared_kernel() {
        let m = Model::seed();
        let a = analyze(&m);
        let w = init_weights(&a, 1, Limits::default()).unwrap();
        let x = ndarray::Array::from_shape_vec((1, 3, 2), vec![1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0])
            .unwrap()
            .into_dyn();
        let outs = forward(&m, &a, &w, x, Limits::default()).unwrap();
        assert_eq!(outs[0].shape(), &[1, 3, 16]);
        assert_eq!(outs[3].shape(), &[1, 4]);
        // Row 1 of Dense's output is the same kernel applied to [3, 4].
        let k = &w[0][0];
        let expect: f32 = 3.0 * k[[0, 5]] + 4.0 * k[[1, 5]];
        assert!((outs[0][[0, 1, 5]] - expect).abs() < 1e-6);
    }

    #[test]
    fn orthogonal_is_orthogonal() {
        let mut r = Rng::new(3);
        let q = orthogonal(&mut r, &[4, 12]);
        let q2 = q.into_dimensionality::<ndarray::Ix2>().unwrap();
        let g = q2.dot(&q2.t());
        for i in 0..4 {
            for j in 0..4 {
                let e = if i == j { 1.0 } else { 0.0 };
                assert!((g[[i, j]] - e).abs() < 1e-5);
            }
        }
    }

    #[test]
    fn size_guard_refuses() {
        let m = Model::seed();
        let a = analyze(&m);
        let w = init_weights(&a, 1, Limits::default()).unwrap();
        let x = ArrayD::<f32>::zeros(IxDyn(&[4, 3, 2]));
        let lim = Limits {
            max_elements: 100,
            max_macs: 1 << 40,
        };
        let e = forward(&m, &a, &w, x, lim).unwrap_err();
        assert!(e.to_string().contains("above the limit"), "{e}");
        assert_eq!(e.index, 0);
    }
}
