//! Forward pass through a graph model in inference mode, in topological order: weights in
//! Keras `get_weights()` order (layer by layer in model order), the size guard of the chain
//! ([`Limits`]), and each layer's output kept only while a later layer still needs it.

use ndarray::ArrayD;

use super::problem::{GraphError, GraphProblem};
use super::{Graph, GraphAnalysis, NodeReport, NodeStatus, Op, Source};
use crate::engine::error::Problem;
use crate::engine::forward::{guarded_size, init_one, Limits, Weights};
use crate::engine::rng::Rng;

fn at(a: &GraphAnalysis, index: usize, problem: GraphProblem) -> GraphError {
    let l = &a.layers[index];
    GraphError {
        index,
        name: l.name.clone(),
        class_name: l.class_name.clone(),
        inputs: l.inputs.clone(),
        problem,
    }
}

fn invalid(a: &GraphAnalysis) -> Option<GraphError> {
    a.first_error().cloned().or_else(|| {
        a.layers
            .iter()
            .position(|l| l.status != NodeStatus::Ok)
            .map(|i| at(a, i, GraphProblem::config("inputs", "not computed")))
    })
}

fn guard_weights(
    a: &GraphAnalysis,
    index: usize,
    l: &NodeReport,
    limits: Limits,
) -> Result<(), GraphError> {
    for w in &l.weights {
        let n = guarded_size(&w.shape);
        if n > limits.max_elements {
            return Err(at(
                a,
                index,
                GraphProblem::TooLarge {
                    what: "the number of values in one of its weight tensors",
                    amount: n,
                    limit: limits.max_elements,
                },
            ));
        }
    }
    Ok(())
}

/// Default-initialised weights (Keras initialisers, seeded), layer by layer in model order.
///
/// # Errors
/// The first invalid layer, or the size guard.
pub fn init_weights(a: &GraphAnalysis, seed: u64, limits: Limits) -> Result<Weights, GraphError> {
    if let Some(e) = invalid(a) {
        return Err(e);
    }
    for (i, l) in a.layers.iter().enumerate() {
        guard_weights(a, i, l, limits)?;
    }
    let mut rng = Rng::new(seed);
    Ok(a.layers
        .iter()
        .map(|l| l.weights.iter().map(|w| init_one(&mut rng, w)).collect())
        .collect())
}

/// Split a flat `get_weights()` list into per-layer weights, checking every shape.
///
/// # Errors
/// The first layer whose weight is missing or has another shape, or extra arrays.
pub fn split_weights(a: &GraphAnalysis, flat: Vec<ArrayD<f32>>) -> Result<Weights, GraphError> {
    if let Some(e) = invalid(a) {
        return Err(e);
    }
    let expected: usize = a.layers.iter().map(|l| l.weights.len()).sum();
    let total = flat.len();
    let mut it = flat.into_iter();
    let mut out = Vec::with_capacity(a.layers.len());
    for (index, l) in a.layers.iter().enumerate() {
        let mut ws = Vec::with_capacity(l.weights.len());
        for (wi, spec) in l.weights.iter().enumerate() {
            let w = it.next().ok_or_else(|| {
                at(
                    a,
                    index,
                    GraphProblem::Layer(Problem::MissingWeights {
                        expected,
                        got: total,
                    }),
                )
            })?;
            // A scalar `count` (Normalization) may come as any 0-D or 1-element array.
            let fits =
                w.shape() == spec.shape.as_slice() || (spec.shape.is_empty() && w.len() == 1);
            if !fits {
                return Err(at(
                    a,
                    index,
                    GraphProblem::Layer(Problem::WeightShape {
                        index: wi,
                        weight: spec.name,
                        expected: spec.shape.clone(),
                        got: w.shape().to_vec(),
                    }),
                ));
            }
            ws.push(w);
        }
        out.push(ws);
    }
    let extra = it.count();
    if extra > 0 {
        let index = a.layers.len().saturating_sub(1);
        return Err(at(
            a,
            index,
            GraphProblem::Layer(Problem::Value {
                message: format!(
                    "the weights file has {extra} more array(s) than the model's {expected} weights"
                ),
            }),
        ));
    }
    Ok(out)
}

/// The size guard for a batch of `batch` samples.
fn guard(a: &GraphAnalysis, batch: u64, limits: Limits) -> Result<(), GraphError> {
    let mut total_macs = 0u64;
    let check = |i: usize, what: &'static str, amount: u64, limit: u64| {
        if amount > limit {
            Err(at(
                a,
                i,
                GraphProblem::TooLarge {
                    what,
                    amount,
                    limit,
                },
            ))
        } else {
            Ok(())
        }
    };
    for &i in &a.order {
        let l = &a.layers[i];
        guard_weights(a, i, l, limits)?;
        let dims = l.output.as_ref().map_or(&[][..], |s| s.dims());
        let elems = guarded_size(dims).saturating_mul(batch.max(1));
        check(
            i,
            "output elements for this batch",
            elems,
            limits.max_elements,
        )?;
        total_macs = total_macs.saturating_add(l.macs.saturating_mul(batch));
        check(
            i,
            "multiply-adds up to this layer",
            total_macs,
            limits.max_macs,
        )?;
    }
    Ok(())
}

/// What a forward pass could not start with: an input that does not fit the model.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ForwardError {
    #[error("{0}")]
    Layer(GraphError),
    #[error("the model takes {expected} input(s) but {got} were given")]
    InputCount { expected: usize, got: usize },
    #[error(
        "input {index} (`{name}`) has shape {got:?} but the model expects (batch, {expected})"
    )]
    InputShape {
        index: usize,
        name: String,
        expected: String,
        got: Vec<usize>,
    },
    #[error("the inputs have different batch sizes {0:?}")]
    Batch(Vec<usize>),
}

impl From<GraphError> for ForwardError {
    fn from(e: GraphError) -> Self {
        ForwardError::Layer(e)
    }
}

/// Run the graph on a batch of each input (model order). Returns the model's outputs in
/// model order.
///
/// # Errors
/// Invalid model, inputs that do not fit, the size guard, or weights that do not fit.
pub fn forward(
    g: &Graph,
    a: &GraphAnalysis,
    weights: &Weights,
    inputs: &[ArrayD<f32>],
    limits: Limits,
) -> Result<Vec<ArrayD<f32>>, ForwardError> {
    if let Some(e) = invalid(a) {
        return Err(e.into());
    }
    if inputs.len() != g.inputs.len() {
        return Err(ForwardError::InputCount {
            expected: g.inputs.len(),
            got: inputs.len(),
        });
    }
    for (index, (x, spec)) in inputs.iter().zip(&g.inputs).enumerate() {
        if x.ndim() != spec.shape.len() + 1 || x.shape()[1..] != *spec.shape {
            return Err(ForwardError::InputShape {
                index,
                name: spec.name.clone(),
                expected: spec
                    .shape
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(", "),
                got: x.shape().to_vec(),
            });
        }
    }
    let batches: Vec<usize> = inputs.iter().map(|x| x.shape()[0]).collect();
    if batches.windows(2).any(|w| w[0] != w[1]) {
        return Err(ForwardError::Batch(batches));
    }
    let batch = batches.first().copied().unwrap_or(1) as u64;
    guard(a, batch, limits)?;
    // How many more times each layer's output is read (model outputs count once).
    let mut uses = vec![0usize; g.layers.len()];
    for l in &g.layers {
        for s in &l.inbound {
            if let Source::Layer(j) = *s {
                uses[j] += 1;
            }
        }
    }
    for s in &g.outputs {
        if let Source::Layer(j) = *s {
            uses[j] += 1;
        }
    }
    let mut values: Vec<Option<ArrayD<f32>>> = vec![None; g.layers.len()];
    for &i in &a.order {
        let node = &g.layers[i];
        let w = weights.get(i).map_or(&[][..], Vec::as_slice);
        let y = {
            let mut xs: Vec<&ArrayD<f32>> = Vec::with_capacity(node.inbound.len());
            for &s in &node.inbound {
                let v = match s {
                    Source::Input(k) => inputs.get(k),
                    Source::Layer(k) => values.get(k).and_then(Option::as_ref),
                };
                xs.push(v.ok_or_else(|| at(a, i, GraphProblem::config("inputs", "missing")))?);
            }
            match (&node.op, xs.as_slice()) {
                (Op::Single(spec), [x]) => spec
                    .rules()
                    .forward(x, w)
                    .map_err(|p| at(a, i, GraphProblem::Layer(p)))?,
                (Op::Multi(m), _) => m.rules().forward(&xs, w).map_err(|p| at(a, i, p))?,
                (Op::Single(_), _) => {
                    return Err(at(
                        a,
                        i,
                        GraphProblem::Arity {
                            expected: super::problem::Arity::Exactly(1),
                            got: xs.len(),
                        },
                    )
                    .into())
                }
                (Op::Nested { graph, .. }, _) => {
                    let shapes = &a.layers[i].inputs;
                    let (inner, ia) = super::nested(graph, shapes).map_err(|p| at(a, i, p))?;
                    let iw = split_weights(&ia, w.to_vec()).map_err(|e| {
                        at(
                            a,
                            i,
                            GraphProblem::Unreadable(format!("inside the nested model: {e}")),
                        )
                    })?;
                    let owned: Vec<ArrayD<f32>> = xs.iter().map(|x| (*x).clone()).collect();
                    let mut ys = forward(&inner, &ia, &iw, &owned, limits).map_err(|e| {
                        at(
                            a,
                            i,
                            GraphProblem::Unreadable(format!("inside the nested model: {e}")),
                        )
                    })?;
                    if ys.is_empty() {
                        return Err(at(a, i, GraphProblem::Unreadable("no output".into())).into());
                    }
                    ys.swap_remove(0)
                }
                (Op::Invalid { reason, .. }, _) => {
                    return Err(at(a, i, GraphProblem::Unreadable(reason.clone())).into())
                }
            }
        };
        for &s in &node.inbound {
            if let Source::Layer(j) = s {
                uses[j] = uses[j].saturating_sub(1);
                if uses[j] == 0 {
                    values[j] = None;
                }
            }
        }
        values[i] = Some(y);
    }
    g.outputs
        .iter()
        .map(|&s| {
            let v = match s {
                Source::Input(k) => inputs.get(k).cloned(),
                Source::Layer(k) => values.get(k).cloned().flatten(),
            };
            v.ok_or(ForwardError::InputCount {
                expected: g.inputs.len(),
                got: inputs.len(),
            })
        })
        .collect()
}
