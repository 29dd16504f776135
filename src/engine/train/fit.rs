//! Keras's `model.fit` for a Sequential model: batches of `batch_size` in order (the last
//! one partial), or in a seeded shuffled order with `shuffle`; for each batch a
//! training-mode forward pass, the loss and metrics on that forward pass's predictions (so
//! computed before the update, as `keras/src/trainers` does), the backward pass in reverse
//! layer order, one optimizer step over the trainable weights, and the non-trainable
//! updates (`BatchNormalization`'s moving statistics). The epoch's `loss` is the mean of the
//! per-batch losses weighted by batch size (Keras's loss tracker), `accuracy` likewise;
//! `val_loss` / `val_accuracy` come from an inference-mode pass over the validation data in
//! batches of `batch_size` after each epoch. A loss that stops being finite ends the run
//! with the history of the epochs completed before it.
//!
//! A graph model with several outputs ([`FitConfig::heads`]) trains as Keras's
//! `CompileLoss` does: a loss per output, their sum as `loss` (`loss_weights` 1), each
//! output's own loss tracked as `<output>_loss` and its accuracy (when asked for that
//! output) as `<output>_accuracy`, with `val_` twins; the History's keys are Keras's.

use std::collections::BTreeMap;

use ndarray::{ArrayD, IxDyn};

use super::grad::Trace;
use super::loss::{take_rows, Accuracy, Loss};
use super::optim::{Optimizer, OptimizerKind};
use super::TrainError;
use crate::engine::error::{LayerError, Problem};
use crate::engine::forward::{forward, Limits, Weights};
#[cfg(not(target_arch = "wasm32"))]
use crate::engine::graph::{Graph, GraphAnalysis};
use crate::engine::layers::WeightSpec;
use crate::engine::model::{Analysis, Model};
use crate::engine::rng::Rng;

/// Inputs and targets, axis 0 the sample axis.
#[derive(Debug, Clone, PartialEq)]
pub struct Data {
    pub x: ArrayD<f32>,
    pub y: ArrayD<f32>,
}

/// Inputs (one array per model input, model order, axis 0 the sample axis) and targets
/// (one array per model output, model order) for a graph model.
#[derive(Debug, Clone, PartialEq)]
pub struct GraphData {
    pub xs: Vec<ArrayD<f32>>,
    pub ys: Vec<ArrayD<f32>>,
}

impl From<&Data> for GraphData {
    fn from(d: &Data) -> Self {
        GraphData {
            xs: vec![d.x.clone()],
            ys: vec![d.y.clone()],
        }
    }
}

/// What a [`Trainer`] trains: a chain or a graph model, with its analysis.
#[derive(Debug, Clone)]
enum Net {
    Chain(Model, Analysis),
    #[cfg(not(target_arch = "wasm32"))]
    Graph(Graph, GraphAnalysis),
}

impl Net {
    /// Each input's shape without the batch axis.
    fn input_dims(&self) -> Vec<Vec<usize>> {
        match self {
            Net::Chain(_, a) => vec![a.input.dims().to_vec()],
            #[cfg(not(target_arch = "wasm32"))]
            Net::Graph(_, a) => a.inputs.iter().map(|s| s.dims().to_vec()).collect(),
        }
    }

    /// Each output's shape without the batch axis (model order).
    fn output_dims(&self) -> Option<Vec<Vec<usize>>> {
        match self {
            Net::Chain(_, a) => a.output().map(|s| vec![s.dims().to_vec()]),
            #[cfg(not(target_arch = "wasm32"))]
            Net::Graph(g, a) => g
                .outputs
                .iter()
                .map(|&o| a.shape_of(o).map(|s| s.dims().to_vec()))
                .collect(),
        }
    }

    /// Each output's name (Keras's `model.output_names`).
    fn output_names(&self) -> Vec<String> {
        match self {
            Net::Chain(m, _) => vec![m.layers.last().map_or_else(String::new, |l| l.name.clone())],
            #[cfg(not(target_arch = "wasm32"))]
            Net::Graph(g, _) => super::graph_step::output_names(g),
        }
    }

    /// Layer `i`'s weight specs.
    fn weight_specs(&self, i: usize) -> &[WeightSpec] {
        let specs = match self {
            Net::Chain(_, a) => a.layers.get(i).map(|l| l.weights.as_slice()),
            #[cfg(not(target_arch = "wasm32"))]
            Net::Graph(_, a) => a.layers.get(i).map(|l| l.weights.as_slice()),
        };
        specs.unwrap_or_default()
    }

    fn step(
        &self,
        weights: &Weights,
        xs: &[ArrayD<f32>],
        ys: &[ArrayD<f32>],
        losses: &[Loss],
        rng: &mut Rng,
    ) -> Result<MultiStep, TrainError> {
        match (self, xs, ys, losses) {
            (Net::Chain(m, a), [x], [y], &[loss]) => {
                let s = loss_and_grads(m, a, weights, x, y, loss, rng)?;
                Ok(MultiStep {
                    total: s.loss,
                    losses: vec![s.loss],
                    preds: vec![s.pred],
                    grads: s.grads,
                    updates: s.updates,
                })
            }
            (Net::Chain(..), _, _, _) => Err(TrainError::Data(
                "the model takes one input and has one output".into(),
            )),
            #[cfg(not(target_arch = "wasm32"))]
            (Net::Graph(g, a), _, _, _) => {
                super::graph_step::loss_and_grads_multi(g, a, weights, xs, ys, losses, rng)
            }
        }
    }

    /// The first output in inference mode.
    fn predict(
        &self,
        weights: &Weights,
        xs: Vec<ArrayD<f32>>,
        limits: Limits,
    ) -> Result<ArrayD<f32>, TrainError> {
        self.predict_all(weights, xs, limits)?
            .into_iter()
            .next()
            .ok_or_else(|| TrainError::Data("the model has no output".into()))
    }

    /// Every output in inference mode (model order).
    fn predict_all(
        &self,
        weights: &Weights,
        mut xs: Vec<ArrayD<f32>>,
        limits: Limits,
    ) -> Result<Vec<ArrayD<f32>>, TrainError> {
        let none = || TrainError::Data("the model has no output".into());
        match self {
            Net::Chain(m, a) => {
                let x = xs.pop().ok_or_else(none)?;
                let outs = forward(m, a, weights, x.clone(), limits).map_err(TrainError::Layer)?;
                Ok(vec![outs.last().cloned().unwrap_or(x)])
            }
            #[cfg(not(target_arch = "wasm32"))]
            Net::Graph(g, a) => {
                let outs = crate::engine::graph::forward::forward(g, a, weights, &xs, limits)
                    .map_err(|e| match e {
                        crate::engine::graph::forward::ForwardError::Layer(e) => {
                            TrainError::Graph(e)
                        }
                        other => TrainError::Data(other.to_string()),
                    })?;
                if outs.is_empty() {
                    return Err(none());
                }
                Ok(outs)
            }
        }
    }
}

/// One output's loss and whether its accuracy is tracked (Keras's `loss=[…]` entry and
/// `metrics={"<output>": ["accuracy"]}`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Head {
    pub loss: Loss,
    pub accuracy: bool,
}

/// A `fit` call's settings.
#[derive(Debug, Clone, PartialEq)]
pub struct FitConfig {
    /// The loss of every output when [`FitConfig::heads`] is empty (Keras's `loss="mse"`,
    /// which a model with several outputs applies to each).
    pub loss: Loss,
    pub optimizer: OptimizerKind,
    /// `None`: the optimizer's Keras default.
    pub lr: Option<f32>,
    pub epochs: usize,
    pub batch_size: usize,
    /// `metrics=["accuracy"]`: for a model with one output (Keras refuses a flat list for
    /// several; give [`FitConfig::heads`] instead).
    pub accuracy: bool,
    /// Per output (model order) for a graph with several outputs: a loss each and accuracy
    /// where asked (Keras's `loss=[…]`, `metrics={"<output>": ["accuracy"]}`). Empty:
    /// `loss` for every output, `accuracy` for the one output.
    pub heads: Vec<Head>,
    pub shuffle: bool,
    /// Seeds the shuffle and the random layers (Dropout).
    pub seed: u64,
    pub limits: Limits,
}

/// How the run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Finished,
    /// The loss stopped being finite during this epoch (1-based); the history holds the
    /// epochs before it.
    Diverged {
        epoch: usize,
    },
}

/// Keras's `History.history`: `loss`, `accuracy`, `val_loss`, `val_accuracy` as Keras would
/// write them (only the keys Keras writes), one value per epoch; for several outputs also
/// `<output>_loss`, `<output>_accuracy` and their `val_` twins. Keras sorts the keys
/// (`pythonify_logs`), as this map does.
pub type History = BTreeMap<String, Vec<f64>>;

/// A finished (or diverged) run.
#[derive(Debug, Clone, PartialEq)]
pub struct FitResult {
    pub history: History,
    pub outcome: Outcome,
}

/// One training step of a model with one or more outputs.
#[derive(Debug, Clone, PartialEq)]
pub struct MultiStep {
    /// The loss trained on: the sum of [`MultiStep::losses`] (float32, output order).
    pub total: f32,
    /// Each output's loss (Keras's unweighted `<output>_loss`).
    pub losses: Vec<f32>,
    /// Each output's predictions (training mode).
    pub preds: Vec<ArrayD<f32>>,
    /// Per layer, per weight, `get_weights()` order.
    pub grads: Vec<Vec<ArrayD<f32>>>,
    /// Per layer: new values of non-trainable weights.
    pub updates: Vec<Vec<(usize, ArrayD<f32>)>>,
}

/// One training step's numbers, before the optimizer applies them.
#[derive(Debug, Clone, PartialEq)]
pub struct StepGrads {
    pub loss: f32,
    pub pred: ArrayD<f32>,
    /// Per layer, per weight, `get_weights()` order.
    pub grads: Vec<Vec<ArrayD<f32>>>,
    /// Per layer: new values of non-trainable weights.
    pub updates: Vec<Vec<(usize, ArrayD<f32>)>>,
}

fn layer_error(model: &Model, a: &Analysis, index: usize, problem: Problem) -> TrainError {
    let (name, class) = model
        .layers
        .get(index)
        .map(|l| (l.name.clone(), l.spec.class_name().to_string()))
        .unwrap_or_default();
    if problem == Problem::NotTrainable {
        return TrainError::NotSupported { index, name, class };
    }
    TrainError::Layer(LayerError {
        index,
        name,
        class_name: class,
        input: a.layers.get(index).and_then(|l| l.input.clone()),
        problem,
    })
}

/// Every layer kind in the model can train: the first one that cannot, as an error.
///
/// # Errors
/// [`TrainError::NotSupported`] naming the layer.
pub fn check_trainable(model: &Model, a: &Analysis) -> Result<(), TrainError> {
    for (index, (layer, report)) in model.layers.iter().zip(&a.layers).enumerate() {
        let dims = report
            .input
            .as_ref()
            .map(|s| s.dims().to_vec())
            .unwrap_or_default();
        let mut shape = vec![1usize];
        shape.extend(dims);
        let x = ArrayD::<f32>::zeros(IxDyn(&shape));
        let w: Vec<ArrayD<f32>> = report
            .weights
            .iter()
            .map(|s| ArrayD::zeros(IxDyn(&s.shape)))
            .collect();
        let mut rng = Rng::new(0);
        if let Err(Problem::NotTrainable) = layer.spec.grad().train_forward(&x, &w, &mut rng) {
            return Err(layer_error(model, a, index, Problem::NotTrainable));
        }
    }
    Ok(())
}

/// Training-mode forward, loss and backward pass on one batch. `y` is the loss's target
/// layout ([`Loss::check_targets`]).
///
/// # Errors
/// A layer that cannot train or whose arrays do not fit; targets that do not fit.
pub fn loss_and_grads(
    model: &Model,
    a: &Analysis,
    weights: &Weights,
    x: &ArrayD<f32>,
    y: &ArrayD<f32>,
    loss: Loss,
    rng: &mut Rng,
) -> Result<StepGrads, TrainError> {
    let mut traces: Vec<Trace> = Vec::with_capacity(model.layers.len());
    for (index, layer) in model.layers.iter().enumerate() {
        let input = traces.last().map_or(x, |t| &t.y);
        let w = weights.get(index).map_or(&[][..], Vec::as_slice);
        let t = layer
            .spec
            .grad()
            .train_forward(input, w, rng)
            .map_err(|p| layer_error(model, a, index, p))?;
        traces.push(t);
    }
    let pred = traces.last().map_or_else(|| x.clone(), |t| t.y.clone());
    let (value, mut dy) = loss.value_and_grad(&pred, y)?;
    let mut grads = vec![Vec::new(); model.layers.len()];
    for index in (0..model.layers.len()).rev() {
        let input = if index == 0 { x } else { &traces[index - 1].y };
        let w = weights.get(index).map_or(&[][..], Vec::as_slice);
        let g = model.layers[index]
            .spec
            .grad()
            .backward(input, w, &traces[index], &dy)
            .map_err(|p| layer_error(model, a, index, p))?;
        grads[index] = g.dw;
        dy = g.dx;
    }
    let updates = traces.into_iter().map(|t| t.updates).collect();
    Ok(StepGrads {
        loss: value,
        pred,
        grads,
        updates,
    })
}

/// The size guard for one batch: per-layer output elements and the batch's multiply-adds.
fn guard(model: &Model, a: &Analysis, batch: usize, limits: Limits) -> Result<(), TrainError> {
    let batch = batch as u64;
    let mut macs = 0u64;
    for (index, l) in a.layers.iter().enumerate() {
        let out: u64 = l.output.as_ref().map_or(1, |s| {
            s.dims()
                .iter()
                .map(|&d| d.max(1) as u64)
                .fold(1, u64::saturating_mul)
        });
        let elems = out.saturating_mul(batch);
        // The backward pass runs about twice the forward work.
        macs = macs.saturating_add(l.macs.saturating_mul(batch).saturating_mul(3));
        let too = |what: &'static str, amount: u64, limit: u64| {
            layer_error(
                model,
                a,
                index,
                Problem::TooLarge {
                    what,
                    amount,
                    limit,
                    factor: amount as f64 / limit.max(1) as f64,
                },
            )
        };
        if elems > limits.max_elements {
            return Err(too(
                "output elements for this batch",
                elems,
                limits.max_elements,
            ));
        }
        if macs > limits.max_macs {
            return Err(too(
                "training multiply-adds per batch",
                macs,
                limits.max_macs,
            ));
        }
    }
    Ok(())
}

/// One output's targets for the loss and for accuracy, checked against the model.
#[derive(Debug, Clone)]
struct Target {
    loss: Loss,
    y_loss: ArrayD<f32>,
    y_acc: Option<(Accuracy, ArrayD<f32>)>,
}

/// Inputs and every output's targets, checked against the model.
#[derive(Debug, Clone)]
struct Prepared {
    xs: Vec<ArrayD<f32>>,
    targets: Vec<Target>,
}

/// Each output's loss and accuracy setting, model order.
///
/// # Errors
/// [`TrainError::Setting`]: not one head per output; flat accuracy for several outputs
/// (Keras refuses `metrics=["accuracy"]` there); two outputs of one name.
fn heads(cfg: &FitConfig, names: &[String]) -> Result<Vec<Head>, TrainError> {
    let listed = names.join(", ");
    let repeated = names
        .iter()
        .enumerate()
        .find_map(|(i, n)| Some((names[..i].iter().position(|m| m == n)?, i, n)));
    if let Some((j, i, n)) = repeated {
        return Err(TrainError::setting(
            "outputs",
            format!(
                "{j} and {i} share the name `{n}`: their History keys would collide (Keras writes one `{n}_loss` for both)"
            ),
        ));
    }
    if cfg.heads.is_empty() {
        if cfg.accuracy && names.len() > 1 {
            return Err(TrainError::setting(
                "metrics",
                format!(
                    "[\"accuracy\"] is refused by Keras for a model with {} outputs ({listed}): ask for accuracy per output ({{\"<output>\": [\"accuracy\"]}})",
                    names.len()
                ),
            ));
        }
        let head = Head {
            loss: cfg.loss,
            accuracy: cfg.accuracy,
        };
        return Ok(vec![head; names.len()]);
    }
    if cfg.heads.len() != names.len() {
        return Err(TrainError::setting(
            "losses",
            format!(
                "must be one per output: the model has {} output(s) ({listed}) but {} were given",
                names.len(),
                cfg.heads.len()
            ),
        ));
    }
    Ok(cfg.heads.clone())
}

/// `y` for one output, `y{k}` for several.
fn y_label(k: usize, outputs: usize) -> String {
    if outputs == 1 {
        "y".to_string()
    } else {
        format!("y{k}")
    }
}

/// Each input checked against the model: its shape, its sample count (`n`), finite values;
/// one target array per output, each with `n` samples.
fn check_inputs(net: &Net, d: &GraphData, what: &str) -> Result<usize, TrainError> {
    let wants = net.input_dims();
    if d.xs.len() != wants.len() {
        return Err(TrainError::Data(format!(
            "{what}: the model takes {} input(s) but the data hold {} (x0, x1, …)",
            wants.len(),
            d.xs.len()
        )));
    }
    let n =
        d.xs.first()
            .and_then(|x| x.shape().first().copied())
            .unwrap_or(0);
    for (k, (x, want)) in d.xs.iter().zip(&wants).enumerate() {
        let label = if wants.len() == 1 {
            "x".to_string()
        } else {
            format!("x{k}")
        };
        if x.ndim() != want.len() + 1 || x.shape()[1..] != **want {
            return Err(TrainError::Data(format!(
                "{what}: {label} has shape {:?} but the model expects (samples, {})",
                x.shape(),
                want.iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
        if x.shape()[0] != n {
            return Err(TrainError::Data(format!(
                "{what}: x0 has {n} samples but {label} has {}",
                x.shape()[0]
            )));
        }
        if x.iter().any(|v| !v.is_finite()) {
            return Err(TrainError::Data(format!(
                "{what}: {label} holds NaN or infinite values"
            )));
        }
    }
    if n == 0 {
        return Err(TrainError::Data(format!("{what}: x holds no samples")));
    }
    let names = net.output_names();
    if d.ys.len() != names.len() {
        return Err(TrainError::Data(format!(
            "{what}: the model has {} output(s) ({}) but the data hold {} target array(s): give {}",
            names.len(),
            names.join(", "),
            d.ys.len(),
            (0..names.len())
                .map(|k| y_label(k, names.len()))
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    for (k, y) in d.ys.iter().enumerate() {
        if y.shape().first() != Some(&n) {
            return Err(TrainError::Data(format!(
                "{what}: x has {n} samples but {} has {}",
                y_label(k, d.ys.len()),
                y.shape().first().copied().unwrap_or(0)
            )));
        }
    }
    Ok(n)
}

/// One output's targets: the loss's layout and accuracy's.
fn prepare_target(head: Head, pred: &[usize], y: &ArrayD<f32>) -> Result<Target, String> {
    let y_loss = head
        .loss
        .check_targets(pred, y)
        .map_err(|e| e.to_string())?;
    let y_acc = if head.accuracy {
        let kind = Accuracy::resolve(y.shape(), pred);
        let shape: Vec<usize> = match kind {
            Accuracy::Binary | Accuracy::Categorical => pred.to_vec(),
            Accuracy::Sparse => pred[..pred.len() - 1].to_vec(),
        };
        let y = y
            .as_standard_layout()
            .into_owned()
            .into_shape_with_order(IxDyn(&shape))
            .map_err(|_| {
                format!(
                    "y has shape {:?}, which does not fit the model output {:?} for accuracy",
                    y.shape(),
                    pred
                )
            })?;
        Some((kind, y))
    } else {
        None
    };
    Ok(Target {
        loss: head.loss,
        y_loss,
        y_acc,
    })
}

fn prepare(net: &Net, d: &GraphData, cfg: &FitConfig, what: &str) -> Result<Prepared, TrainError> {
    let names = net.output_names();
    let heads = heads(cfg, &names)?;
    let n = check_inputs(net, d, what)?;
    let outs = net
        .output_dims()
        .ok_or_else(|| TrainError::Data("the model is not valid".into()))?;
    let mut targets = Vec::with_capacity(outs.len());
    for (k, ((out, y), head)) in outs.iter().zip(&d.ys).zip(heads).enumerate() {
        let mut pred = vec![n];
        pred.extend_from_slice(out);
        let t = prepare_target(head, &pred, y).map_err(|e| {
            TrainError::Data(if outs.len() == 1 {
                format!("{what}: {e}")
            } else {
                format!("{what}: y{k} (output `{}`): {e}", names[k])
            })
        })?;
        targets.push(t);
    }
    Ok(Prepared {
        xs: d.xs.clone(),
        targets,
    })
}

impl Prepared {
    fn samples(&self) -> usize {
        self.xs.first().map_or(0, |x| x.shape()[0])
    }
    /// Every input's rows `chunk`.
    fn batch(&self, chunk: &[usize]) -> Vec<ArrayD<f32>> {
        self.xs.iter().map(|x| take_rows(x, chunk)).collect()
    }
    /// Every output's loss targets, rows `chunk`.
    fn y_batch(&self, chunk: &[usize]) -> Vec<ArrayD<f32>> {
        self.targets
            .iter()
            .map(|t| take_rows(&t.y_loss, chunk))
            .collect()
    }
    fn losses(&self) -> Vec<Loss> {
        self.targets.iter().map(|t| t.loss).collect()
    }
}

/// An epoch's (or an evaluation's) running sums, weighted by batch size: the total loss,
/// each output's loss and each output's accuracy (Keras's `Mean` trackers).
#[derive(Debug, Clone, Default, PartialEq)]
struct Sums {
    loss: f64,
    losses: Vec<f64>,
    accs: Vec<f64>,
    seen: usize,
}

impl Sums {
    fn new(outputs: usize) -> Sums {
        Sums {
            losses: vec![0.0; outputs],
            accs: vec![0.0; outputs],
            ..Sums::default()
        }
    }

    /// One batch of `b` samples: its total loss, each output's loss and predictions.
    fn add(
        &mut self,
        p: &Prepared,
        chunk: &[usize],
        total: f32,
        losses: &[f32],
        preds: &[ArrayD<f32>],
    ) -> Result<(), TrainError> {
        let b = chunk.len() as f64;
        self.loss += f64::from(total) * b;
        self.seen += chunk.len();
        for (k, t) in p.targets.iter().enumerate() {
            if let (Some(s), Some(&l)) = (self.losses.get_mut(k), losses.get(k)) {
                *s += f64::from(l) * b;
            }
            if let (Some((kind, y)), Some(pred), Some(s)) =
                (&t.y_acc, preds.get(k), self.accs.get_mut(k))
            {
                *s += kind.batch(pred, &take_rows(y, chunk))?.0;
            }
        }
        Ok(())
    }

    /// Keras's logs: `loss`, and for several outputs `<output>_loss`; `accuracy` or
    /// `<output>_accuracy` where asked; each key with `prefix` (`val_`).
    fn logs(&self, p: &Prepared, names: &[String], n: f64, prefix: &str) -> Vec<(String, f64)> {
        let several = p.targets.len() > 1;
        let mut out = vec![(format!("{prefix}loss"), self.loss / n)];
        for (k, t) in p.targets.iter().enumerate() {
            let name = names.get(k).map_or("", String::as_str);
            if several {
                out.push((format!("{prefix}{name}_loss"), self.losses[k] / n));
            }
            if t.y_acc.is_some() {
                let key = if several {
                    format!("{prefix}{name}_accuracy")
                } else {
                    format!("{prefix}accuracy")
                };
                out.push((key, self.accs[k] / n));
            }
        }
        out
    }
}

/// Mean losses (and accuracies) in inference mode, in batches, as Keras's `evaluate`.
fn evaluate(
    net: &Net,
    weights: &Weights,
    p: &Prepared,
    cfg: &FitConfig,
) -> Result<Sums, TrainError> {
    let n = p.samples();
    let idx: Vec<usize> = (0..n).collect();
    let mut sums = Sums::new(p.targets.len());
    for chunk in idx.chunks(cfg.batch_size) {
        let preds = net.predict_all(weights, p.batch(chunk), cfg.limits)?;
        let mut losses = Vec::with_capacity(preds.len());
        let mut total = 0f32;
        for (k, (pred, t)) in preds.iter().zip(&p.targets).enumerate() {
            let (v, _) = t.loss.value_and_grad(pred, &take_rows(&t.y_loss, chunk))?;
            total = if k == 0 { v } else { total + v };
            losses.push(v);
        }
        sums.add(p, chunk, total, &losses, &preds)?;
    }
    Ok(sums)
}

/// Where a [`Trainer`] stands after a [`Trainer::step`].
#[derive(Debug, Clone, PartialEq)]
pub struct Progress {
    /// Epochs finished (their numbers are in the history).
    pub epochs_done: usize,
    /// Batches done in the epoch under way (0 between epochs).
    pub batch: usize,
    /// Batches in one epoch.
    pub batches_per_epoch: usize,
    /// The epoch under way so far: the mean loss of its batches (Keras's progress-bar value).
    pub running_loss: Option<f64>,
    /// `None` while epochs remain.
    pub outcome: Option<Outcome>,
}

/// Keras's `model.fit`, one batch at a time: [`Trainer::step`] runs some batches and returns,
/// so a caller (the page's worker) can report progress and stop between batches. [`fit`]
/// is `step` until the run ends. The trainer owns the model, its analysis, the weights and
/// the optimizer's state.
#[derive(Debug, Clone)]
pub struct Trainer {
    net: Net,
    weights: Weights,
    cfg: FitConfig,
    opt: Optimizer,
    tr: Prepared,
    va: Option<Prepared>,
    rng: Rng,
    order: Vec<usize>,
    epochs_done: usize,
    batch: usize,
    /// The epoch under way.
    sums: Sums,
    /// Each output's name, for the History keys.
    names: Vec<String>,
    history: History,
    outcome: Option<Outcome>,
}

impl Trainer {
    /// Check the settings, the model and the data, ready to train `weights`.
    ///
    /// # Errors
    /// Settings out of range, data that do not fit, a layer that cannot train, the size guard.
    pub fn new(
        model: Model,
        a: Analysis,
        weights: Weights,
        train: &Data,
        val: Option<&Data>,
        cfg: FitConfig,
    ) -> Result<Trainer, TrainError> {
        if let Some(e) = a.first_error() {
            return Err(TrainError::Layer(e.clone()));
        }
        check_batch_size(&cfg)?;
        let opt = Optimizer::new(cfg.optimizer, cfg.lr)?;
        check_trainable(&model, &a)?;
        let net = Net::Chain(model, a);
        let tr = prepare(&net, &train.into(), &cfg, "training data")?;
        let va = val
            .map(|v| prepare(&net, &v.into(), &cfg, "validation data"))
            .transpose()?;
        #[cfg_attr(
            target_arch = "wasm32",
            allow(irrefutable_let_patterns) // a chain: graphs are native only
        )]
        if let Net::Chain(model, a) = &net {
            guard(model, a, cfg.batch_size.min(tr.samples()), cfg.limits)?;
        }
        Ok(Self::ready(net, weights, cfg, opt, tr, va))
    }

    #[cfg(not(target_arch = "wasm32"))]
    /// [`Trainer::new`] for a graph model (Keras Functional): one array per input and one
    /// per output (with [`FitConfig::heads`] for several outputs); weights layer by layer
    /// in model order (Keras `get_weights()`).
    ///
    /// # Errors
    /// As [`Trainer::new`]; heads that do not fit the outputs; a layer kind without a
    /// backward pass.
    pub fn new_graph(
        g: Graph,
        a: GraphAnalysis,
        weights: Weights,
        train: &GraphData,
        val: Option<&GraphData>,
        cfg: FitConfig,
    ) -> Result<Trainer, TrainError> {
        if let Some(e) = a.first_error() {
            return Err(TrainError::Graph(e.clone()));
        }
        check_batch_size(&cfg)?;
        let opt = Optimizer::new(cfg.optimizer, cfg.lr)?;
        super::graph_step::check_trainable(&g, &a)?;
        let net = Net::Graph(g, a);
        let tr = prepare(&net, train, &cfg, "training data")?;
        let va = val
            .map(|v| prepare(&net, v, &cfg, "validation data"))
            .transpose()?;
        // The size guard of the inference pass, on one batch.
        let probe: Vec<usize> = (0..cfg.batch_size.min(tr.samples())).collect();
        net.predict(&weights, tr.batch(&probe), cfg.limits)?;
        Ok(Self::ready(net, weights, cfg, opt, tr, va))
    }

    fn ready(
        net: Net,
        weights: Weights,
        cfg: FitConfig,
        opt: Optimizer,
        tr: Prepared,
        va: Option<Prepared>,
    ) -> Trainer {
        let n = tr.samples();
        let outcome = (cfg.epochs == 0).then_some(Outcome::Finished);
        Trainer {
            rng: Rng::new(cfg.seed),
            order: (0..n).collect(),
            sums: Sums::new(tr.targets.len()),
            names: net.output_names(),
            net,
            weights,
            cfg,
            opt,
            tr,
            va,
            epochs_done: 0,
            batch: 0,
            history: History::new(),
            outcome,
        }
    }

    /// The weights now, `get_weights()` order per layer.
    pub fn weights(&self) -> &Weights {
        &self.weights
    }

    /// The history of the finished epochs.
    pub fn history(&self) -> &History {
        &self.history
    }

    /// The run's settings.
    pub fn config(&self) -> &FitConfig {
        &self.cfg
    }

    /// Train on, up to `epochs` in all (Resume after the run finished). A diverged run stays
    /// diverged.
    pub fn extend_to(&mut self, epochs: usize) {
        self.cfg.epochs = epochs;
        if self.outcome == Some(Outcome::Finished) && self.epochs_done < epochs {
            self.outcome = None;
        }
    }

    /// Batches in one epoch.
    pub fn batches_per_epoch(&self) -> usize {
        self.order.len().div_ceil(self.cfg.batch_size)
    }

    /// Where the run stands.
    pub fn progress(&self) -> Progress {
        Progress {
            epochs_done: self.epochs_done,
            batch: self.batch,
            batches_per_epoch: self.batches_per_epoch(),
            running_loss: (self.sums.seen > 0).then(|| self.sums.loss / self.sums.seen as f64),
            outcome: self.outcome,
        }
    }

    /// Run up to `batches` batches (ending early when the run ends); epochs end, with their
    /// validation pass, as they are reached.
    ///
    /// # Errors
    /// A layer or loss that fails on the data (the run cannot go on).
    pub fn step(&mut self, batches: usize) -> Result<Progress, TrainError> {
        let mut left = batches;
        while left > 0 && self.outcome.is_none() {
            if self.batch == 0 {
                self.start_epoch();
            }
            let bs = self.cfg.batch_size;
            let from = self.batch * bs;
            let chunk: Vec<usize> = self.order[from..(from + bs).min(self.order.len())].to_vec();
            if !self.train_batch(&chunk)? {
                self.outcome = Some(Outcome::Diverged {
                    epoch: self.epochs_done + 1,
                });
                break;
            }
            self.batch += 1;
            left -= 1;
            if self.batch == self.batches_per_epoch() {
                self.end_epoch()?;
            }
        }
        Ok(self.progress())
    }

    fn start_epoch(&mut self) {
        if self.cfg.shuffle {
            let n = self.order.len();
            for i in (1..n).rev() {
                let j = (self.rng.next_u64() % (i as u64 + 1)) as usize;
                self.order.swap(i, j);
            }
        }
        self.sums = Sums::new(self.tr.targets.len());
    }

    /// One batch: loss before the update, then the update. `false`: the loss is not finite.
    fn train_batch(&mut self, chunk: &[usize]) -> Result<bool, TrainError> {
        let net = &self.net;
        let xb = self.tr.batch(chunk);
        let yb = self.tr.y_batch(chunk);
        let step = net.step(&self.weights, &xb, &yb, &self.tr.losses(), &mut self.rng)?;
        if !step.total.is_finite() {
            return Ok(false);
        }
        self.sums
            .add(&self.tr, chunk, step.total, &step.losses, &step.preds)?;
        let mut vars = Vec::new();
        let mut grads = Vec::new();
        for (i, (ws, gs)) in self.weights.iter_mut().zip(&step.grads).enumerate() {
            for ((w, g), spec) in ws.iter_mut().zip(gs).zip(net.weight_specs(i)) {
                if spec.trainable {
                    vars.push(w);
                    grads.push(g);
                }
            }
        }
        self.opt.step(&mut vars, &grads)?;
        for (ws, ups) in self.weights.iter_mut().zip(step.updates) {
            for (i, u) in ups {
                if let Some(w) = ws.get_mut(i) {
                    *w = u;
                }
            }
        }
        Ok(true)
    }

    fn end_epoch(&mut self) -> Result<(), TrainError> {
        let n = self.order.len() as f64;
        let epoch_loss = self.sums.loss / n;
        let val_logs = match &self.va {
            Some(p) => {
                let sums = evaluate(&self.net, &self.weights, p, &self.cfg)?;
                sums.logs(p, &self.names, p.samples() as f64, "val_")
            }
            None => Vec::new(),
        };
        let diverged = !epoch_loss.is_finite()
            || val_logs.first().is_some_and(|(_, l)| !l.is_finite())
            || self
                .weights
                .iter()
                .flatten()
                .any(|w| w.iter().any(|v| !v.is_finite()));
        self.batch = 0;
        if diverged {
            self.outcome = Some(Outcome::Diverged {
                epoch: self.epochs_done + 1,
            });
            return Ok(());
        }
        // Keras's `epoch_logs.update(val_logs)`: a validation key replaces a training key of
        // the same name (an output called `val` has a training `val_loss`).
        let mut logs: BTreeMap<String, f64> = self
            .sums
            .logs(&self.tr, &self.names, n, "")
            .into_iter()
            .collect();
        logs.extend(val_logs);
        for (k, v) in logs {
            self.history.entry(k).or_default().push(v);
        }
        self.epochs_done += 1;
        if self.epochs_done >= self.cfg.epochs {
            self.outcome = Some(Outcome::Finished);
        }
        Ok(())
    }

    /// The model's output for `x` (batch axis first) in inference mode, with the current
    /// weights.
    ///
    /// # Errors
    /// `x` does not fit the model.
    pub fn predict(&self, x: ArrayD<f32>) -> Result<ArrayD<f32>, TrainError> {
        self.net.predict(&self.weights, vec![x], self.cfg.limits)
    }

    /// Inference-mode loss (and accuracy) of the current weights on `data`, for a model
    /// with one output.
    ///
    /// # Errors
    /// Data that do not fit the model.
    pub fn evaluate(&self, data: &Data) -> Result<(f64, Option<f64>), TrainError> {
        let p = prepare(&self.net, &data.into(), &self.cfg, "data")?;
        let sums = evaluate(&self.net, &self.weights, &p, &self.cfg)?;
        let n = p.samples() as f64;
        let acc = p
            .targets
            .first()
            .and_then(|t| t.y_acc.as_ref())
            .and_then(|_| sums.accs.first())
            .map(|a| a / n);
        Ok((sums.loss / n, acc))
    }
}

fn check_batch_size(cfg: &FitConfig) -> Result<(), TrainError> {
    if cfg.batch_size == 0 {
        return Err(TrainError::setting(
            "--batch-size",
            "must be at least 1, got 0",
        ));
    }
    Ok(())
}

/// Run a trainer to the end; `weights` get the final values.
fn run(mut t: Trainer, weights: &mut Weights) -> Result<FitResult, TrainError> {
    let result = loop {
        match t.step(usize::MAX) {
            Ok(Progress {
                outcome: Some(outcome),
                ..
            }) => break Ok(outcome),
            Ok(_) => {}
            Err(e) => break Err(e),
        }
    };
    *weights = t.weights;
    Ok(FitResult {
        history: t.history,
        outcome: result?,
    })
}

#[cfg(not(target_arch = "wasm32"))]
/// [`fit`] for a graph model (Keras Functional; several outputs with [`FitConfig::heads`]).
///
/// # Errors
/// As [`Trainer::new_graph`].
pub fn fit_graph(
    g: &Graph,
    a: &GraphAnalysis,
    weights: &mut Weights,
    train: &GraphData,
    val: Option<&GraphData>,
    cfg: &FitConfig,
) -> Result<FitResult, TrainError> {
    let t = Trainer::new_graph(
        g.clone(),
        a.clone(),
        weights.clone(),
        train,
        val,
        cfg.clone(),
    )?;
    run(t, weights)
}

/// Train `weights` in place, as Keras's `model.fit(x, y, batch_size, epochs,
/// validation_data, shuffle)`.
///
/// # Errors
/// Settings out of range, data that do not fit, a layer that cannot train, the size guard.
pub fn fit(
    model: &Model,
    a: &Analysis,
    weights: &mut Weights,
    train: &Data,
    val: Option<&Data>,
    cfg: &FitConfig,
) -> Result<FitResult, TrainError> {
    let t = Trainer::new(
        model.clone(),
        a.clone(),
        weights.clone(),
        train,
        val,
        cfg.clone(),
    )?;
    run(t, weights)
}
