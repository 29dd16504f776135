//! One training step of a graph model (Keras Functional): the training-mode forward pass in
//! topological order (each layer kind's [`crate::engine::train::grad::LayerGrad`] step, as
//! the chain uses, or a merge's inference pass), a loss on each output, and the backward
//! pass in reverse order, summing the gradients of a tensor read by several layers. A model
//! with several outputs trains on the sum of their losses (Keras's `CompileLoss`,
//! `loss_weights` 1): each output's gradient starts from its own loss, and an output that
//! also feeds other layers adds what they send back. A chain is the graph
//! [`crate::engine::graph::Graph::from_chain`].

use ndarray::{ArrayD, IxDyn};

use super::fit::{MultiStep, StepGrads};
use super::grad::{MultiGrads, Trace};
use super::loss::Loss;
use super::TrainError;
use crate::engine::error::Problem;
use crate::engine::graph::problem::{GraphError, GraphProblem};
use crate::engine::graph::{Graph, GraphAnalysis, Op, Source};
use crate::engine::rng::Rng;

fn at(a: &GraphAnalysis, index: usize, problem: GraphProblem) -> TrainError {
    let l = a.layers.get(index);
    if problem == GraphProblem::Layer(Problem::NotTrainable) {
        return TrainError::NotSupported {
            index,
            name: l.map(|l| l.name.clone()).unwrap_or_default(),
            class: l.map(|l| l.class_name.clone()).unwrap_or_default(),
        };
    }
    TrainError::Graph(GraphError {
        index,
        name: l.map(|l| l.name.clone()).unwrap_or_default(),
        class_name: l.map(|l| l.class_name.clone()).unwrap_or_default(),
        inputs: l.map(|l| l.inputs.clone()).unwrap_or_default(),
        problem,
    })
}

/// The model's outputs (at least one).
///
/// # Errors
/// [`TrainError::Data`] for a model without outputs.
fn outputs(g: &Graph) -> Result<&[Source], TrainError> {
    if g.outputs.is_empty() {
        return Err(TrainError::Data("the model has no output".into()));
    }
    Ok(&g.outputs)
}

/// Each output's name as Keras's `model.output_names` gives it: the name of the layer (or
/// input) that produces it.
pub fn output_names(g: &Graph) -> Vec<String> {
    g.outputs
        .iter()
        .map(|&s| match s {
            Source::Input(k) => g.inputs.get(k).map(|i| i.name.clone()),
            Source::Layer(k) => g.layers.get(k).map(|l| l.name.clone()),
        })
        .map(Option::unwrap_or_default)
        .collect()
}

/// One training-mode layer on its inputs.
fn layer_forward(
    g: &Graph,
    a: &GraphAnalysis,
    i: usize,
    xs: &[&ArrayD<f32>],
    w: &[ArrayD<f32>],
    rng: &mut Rng,
) -> Result<Trace, TrainError> {
    match (&g.layers[i].op, xs) {
        (Op::Single(spec), [x]) => spec
            .grad()
            .train_forward(x, w, rng)
            .map_err(|p| at(a, i, GraphProblem::Layer(p))),
        (Op::Multi(m), _) => m
            .rules()
            .forward(xs, w)
            .map(Trace::plain)
            .map_err(|p| at(a, i, p)),
        (Op::Single(_), _) => Err(at(
            a,
            i,
            GraphProblem::Arity {
                expected: crate::engine::graph::problem::Arity::Exactly(1),
                got: xs.len(),
            },
        )),
        (Op::Nested { .. } | Op::Invalid { .. }, _) => {
            Err(at(a, i, GraphProblem::Layer(Problem::NotTrainable)))
        }
    }
}

/// One layer's backward pass: a gradient per input and per weight.
fn layer_backward(
    g: &Graph,
    a: &GraphAnalysis,
    i: usize,
    xs: &[&ArrayD<f32>],
    w: &[ArrayD<f32>],
    trace: &Trace,
    dy: &ArrayD<f32>,
) -> Result<MultiGrads, TrainError> {
    let err = |p: Problem| at(a, i, GraphProblem::Layer(p));
    match (&g.layers[i].op, xs) {
        (Op::Single(spec), [x]) => {
            let gr = spec.grad().backward(x, w, trace, dy).map_err(err)?;
            Ok(MultiGrads {
                dxs: vec![gr.dx],
                dw: gr.dw,
            })
        }
        (Op::Multi(m), _) => m.grad().backward_multi(xs, w, dy).map_err(err),
        _ => Err(err(Problem::NotTrainable)),
    }
}

fn value<'v>(
    inputs: &'v [ArrayD<f32>],
    traces: &'v [Option<Trace>],
    s: Source,
) -> Option<&'v ArrayD<f32>> {
    match s {
        Source::Input(k) => inputs.get(k),
        Source::Layer(k) => traces.get(k).and_then(Option::as_ref).map(|t| &t.y),
    }
}

/// Every layer kind in the graph can train: the first one that cannot, as an error.
///
/// # Errors
/// [`TrainError::NotSupported`] naming the layer; a model without outputs.
pub fn check_trainable(g: &Graph, a: &GraphAnalysis) -> Result<(), TrainError> {
    outputs(g)?;
    for &i in &a.order {
        let report = &a.layers[i];
        let xs: Vec<ArrayD<f32>> = report
            .inputs
            .iter()
            .map(|s| {
                let mut shape = vec![1usize];
                shape.extend(s.dims());
                ArrayD::zeros(IxDyn(&shape))
            })
            .collect();
        let refs: Vec<&ArrayD<f32>> = xs.iter().collect();
        let w: Vec<ArrayD<f32>> = report
            .weights
            .iter()
            .map(|s| ArrayD::zeros(IxDyn(&s.shape)))
            .collect();
        let t = layer_forward(g, a, i, &refs, &w, &mut Rng::new(0));
        if let Err(e @ TrainError::NotSupported { .. }) = t {
            return Err(e);
        }
        if let Op::Multi(m) = &g.layers[i].op {
            if let Ok(t) = t {
                let back = m.grad().backward_multi(&refs, &w, &t.y);
                if back == Err(Problem::NotTrainable) {
                    return Err(at(a, i, GraphProblem::Layer(Problem::NotTrainable)));
                }
            }
        }
    }
    Ok(())
}

/// `acc += g` (or `acc = g` the first time).
fn accumulate(acc: &mut Option<ArrayD<f32>>, g: ArrayD<f32>) -> Result<(), Problem> {
    match acc {
        Some(a) if a.shape() == g.shape() => {
            *a += &g;
            Ok(())
        }
        Some(a) => Err(Problem::Reshape {
            from: g.shape().to_vec(),
            to: a.shape().to_vec(),
        }),
        None => {
            *acc = Some(g);
            Ok(())
        }
    }
}

/// Training-mode forward, loss and backward pass on one batch of every input, for a model
/// with one output ([`loss_and_grads_multi`] with one target).
///
/// # Errors
/// A layer that cannot train or whose arrays do not fit; targets that do not fit; a model
/// with several outputs.
pub fn loss_and_grads(
    g: &Graph,
    a: &GraphAnalysis,
    weights: &[Vec<ArrayD<f32>>],
    inputs: &[ArrayD<f32>],
    y: &ArrayD<f32>,
    loss: Loss,
    rng: &mut Rng,
) -> Result<StepGrads, TrainError> {
    let step = loss_and_grads_multi(g, a, weights, inputs, std::slice::from_ref(y), &[loss], rng)?;
    let pred = step
        .preds
        .into_iter()
        .next()
        .ok_or_else(|| TrainError::Data("the model has no output".into()))?;
    Ok(StepGrads {
        loss: step.total,
        pred,
        grads: step.grads,
        updates: step.updates,
    })
}

/// Training-mode forward pass: every layer's trace, evaluation order.
fn forward_traces(
    g: &Graph,
    a: &GraphAnalysis,
    weights: &[Vec<ArrayD<f32>>],
    inputs: &[ArrayD<f32>],
    rng: &mut Rng,
) -> Result<Vec<Option<Trace>>, TrainError> {
    let mut traces: Vec<Option<Trace>> = vec![None; g.layers.len()];
    let missing = |i| at(a, i, GraphProblem::config("inputs", "missing"));
    for &i in &a.order {
        let w = weights.get(i).map_or(&[][..], Vec::as_slice);
        let xs: Vec<&ArrayD<f32>> = g.layers[i]
            .inbound
            .iter()
            .map(|&s| value(inputs, &traces, s).ok_or_else(|| missing(i)))
            .collect::<Result<_, _>>()?;
        let t = layer_forward(g, a, i, &xs, w, rng)?;
        traces[i] = Some(t);
    }
    Ok(traces)
}

/// Training-mode forward pass, a loss per output (`ys` and `losses` in model output order),
/// and the backward pass of their sum.
///
/// # Errors
/// A layer that cannot train or whose arrays do not fit; targets that do not fit; not one
/// target and one loss per output.
pub fn loss_and_grads_multi(
    g: &Graph,
    a: &GraphAnalysis,
    weights: &[Vec<ArrayD<f32>>],
    inputs: &[ArrayD<f32>],
    ys: &[ArrayD<f32>],
    losses: &[Loss],
    rng: &mut Rng,
) -> Result<MultiStep, TrainError> {
    let outs = outputs(g)?;
    if ys.len() != outs.len() || losses.len() != outs.len() {
        return Err(TrainError::Data(format!(
            "the model has {} output(s) but the step has {} target(s) and {} loss(es)",
            outs.len(),
            ys.len(),
            losses.len()
        )));
    }
    let n = g.layers.len();
    let traces = forward_traces(g, a, weights, inputs, rng)?;
    let missing = |i| at(a, i, GraphProblem::config("inputs", "missing"));
    let mut dvals: Vec<Option<ArrayD<f32>>> = vec![None; n];
    let (mut total, mut values, mut preds) = (0f32, Vec::new(), Vec::new());
    for ((&out, y), loss) in outs.iter().zip(ys).zip(losses) {
        let pred = value(inputs, &traces, out)
            .cloned()
            .ok_or_else(|| TrainError::Data("the model's output was not computed".into()))?;
        let (v, dy) = loss.value_and_grad(&pred, y)?;
        if let Source::Layer(o) = out {
            accumulate(&mut dvals[o], dy).map_err(|p| at(a, o, GraphProblem::Layer(p)))?;
        }
        // Keras: `sum(loss_values)`, float32 in output order (one output: its loss).
        total = if values.is_empty() { v } else { total + v };
        values.push(v);
        preds.push(pred);
    }
    let mut grads: Vec<Vec<ArrayD<f32>>> = a
        .layers
        .iter()
        .map(|l| {
            l.weights
                .iter()
                .map(|s| ArrayD::zeros(IxDyn(&s.shape)))
                .collect()
        })
        .collect();
    for &i in a.order.iter().rev() {
        // A layer no output depends on gets no gradient.
        let Some(dy) = dvals[i].take() else { continue };
        let w = weights.get(i).map_or(&[][..], Vec::as_slice);
        let trace = traces[i].as_ref().ok_or_else(|| missing(i))?;
        let xs: Vec<&ArrayD<f32>> = g.layers[i]
            .inbound
            .iter()
            .map(|&s| value(inputs, &traces, s).ok_or_else(|| missing(i)))
            .collect::<Result<_, _>>()?;
        let MultiGrads { dxs, dw } = layer_backward(g, a, i, &xs, w, trace, &dy)?;
        grads[i] = dw;
        for (&s, dx) in g.layers[i].inbound.iter().zip(dxs) {
            if let Source::Layer(j) = s {
                accumulate(&mut dvals[j], dx).map_err(|p| at(a, i, GraphProblem::Layer(p)))?;
            }
        }
    }
    let updates = traces
        .into_iter()
        .map(|t| t.map(|t| t.updates).unwrap_or_default())
        .collect();
    Ok(MultiStep {
        total,
        losses: values,
        preds,
        grads,
        updates,
    })
}
