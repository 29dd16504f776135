//! Training benchmark hooks for `bench/` (wasm only; BENCHMARKS.md, "Training"). They live
//! in the on-demand tools module (`src/bin/flatland-tools.rs` includes this file), which
//! carries the training code, so the page's first module does not grow. The bench page loads
//! the tools module's no-modules glue with a `<script>` and calls these as
//! `wasm_bindgen.bench_train_*`. (This file sits in a folder of its own: a `.rs` file right in
//! `src/bin/` would be a binary target of its own for Cargo.)
//!
//! The model is passed in as Flatland model JSON (`"format": "flatland-model"`; read with
//! [`model_json`] alone, which the tools module has anyway: the Keras JSON reader would add
//! ~7 kB gzip to it), the batch as
//! flat row-major arrays: `x` is `batch` samples of the model's input, `y` the targets of the
//! loss (one-hot for `categorical_crossentropy`). Invalid input gives `NaN` / an empty
//! result rather than an exception, as `src/bin/flatland-web/bench.rs` does.
//!
//! Timings use `performance.now()` (5 µs resolution on the cross-origin-isolated bench page);
//! calls are timed in batches of at least 2 ms and the median per-call time is returned, in
//! milliseconds.

use ndarray::{ArrayD, IxDyn};
use wasm_bindgen::prelude::*;

use flatland::codec::model_json;
use flatland::engine::forward::{init_weights, Limits};
use flatland::engine::train::fit::{Data, FitConfig, Progress, Trainer};
use flatland::engine::train::loss::Loss;
use flatland::engine::train::optim::OptimizerKind;
use flatland::engine::{analyze, Model};

/// Copies of the batch in the trainer's data: one step is one batch, and an epoch (whose end
/// checks every weight and writes the history) ends every this many steps.
const COPIES: usize = 8;

/// A model from Flatland model JSON text.
fn read(text: &str) -> Option<Model> {
    let v: serde_json::Value = serde_json::from_str(text).ok()?;
    model_json::from_value(&v).ok()
}

mod timing;
use timing::per_call;

/// A trainer on `copies` copies of the batch (`x`, `y`), batch size `batch`, the loss named
/// `loss` (Keras's names), Adam with Keras's defaults (lr 0.001), no shuffle, no
/// validation, weights seeded by `seed`, after its first step (and that step's progress).
fn trainer(
    model_text: &str,
    seed: u32,
    x: &[f32],
    y: &[f32],
    batch: usize,
    loss: &str,
    copies: usize,
) -> Option<(Trainer, Progress)> {
    let m = read(model_text)?;
    let a = analyze(&m);
    if !a.valid() || batch == 0 {
        return None;
    }
    let w = init_weights(&a, u64::from(seed), Limits::default()).ok()?;
    let mut xd = vec![batch * copies];
    xd.extend_from_slice(a.input.dims());
    let mut yd = vec![batch * copies];
    let ylen = y.len() / batch;
    if ylen * batch != y.len() {
        return None;
    }
    if ylen != 1 {
        yd.push(ylen);
    }
    let rep = |v: &[f32]| v.iter().copied().cycle().take(v.len() * copies).collect();
    let data = Data {
        x: ArrayD::from_shape_vec(IxDyn(&xd), rep(x)).ok()?,
        y: ArrayD::from_shape_vec(IxDyn(&yd), rep(y)).ok()?,
    };
    let cfg = FitConfig {
        loss: Loss::parse(loss).ok()?,
        optimizer: OptimizerKind::Adam,
        lr: None,
        epochs: usize::MAX,
        batch_size: batch,
        accuracy: false,
        heads: Vec::new(),
        shuffle: false,
        seed: u64::from(seed),
        limits: Limits::default(),
    };
    let mut t = Trainer::new(m, a, w, &data, None, cfg).ok()?;
    let p = t.step(1).ok()?;
    Some((t, p))
}

/// Median ms of one training step (training-mode forward, loss, backward, Adam update: one
/// `Trainer::step(1)`, what the Train panel's worker runs per batch) on the batch of `batch`
/// samples `x` with targets `y`; `NaN` for a model, batch or loss that does not fit.
#[wasm_bindgen]
pub fn bench_train_step(
    model_text: &str,
    seed: u32,
    x: &[f32],
    y: &[f32],
    batch: u32,
    loss: &str,
    samples: u32,
) -> f64 {
    let Some((mut t, _)) = trainer(model_text, seed, x, y, batch as usize, loss, COPIES) else {
        return f64::NAN;
    };
    let mut failed = false;
    let ms = per_call(samples, || {
        failed |= !matches!(t.step(1), Ok(p) if p.outcome.is_none());
    });
    if failed {
        f64::NAN
    } else {
        ms
    }
}

/// One training step from the seeded weights: `[loss, every weight after the update…]`
/// (Keras `get_weights()` order, row-major), to check another library's step against;
/// empty when [`bench_train_step`] would give `NaN`.
#[wasm_bindgen]
pub fn bench_train_once(
    model_text: &str,
    seed: u32,
    x: &[f32],
    y: &[f32],
    batch: u32,
    loss: &str,
) -> Vec<f32> {
    let Some((t, p)) = trainer(model_text, seed, x, y, batch as usize, loss, 1) else {
        return Vec::new();
    };
    // The one batch is the whole epoch: its loss is in the history.
    let loss = t
        .history()
        .get("loss")
        .and_then(|h| h.first().copied())
        .or(p.running_loss)
        .unwrap_or(f64::NAN) as f32;
    std::iter::once(loss)
        .chain(t.weights().iter().flatten().flat_map(|w| w.iter().copied()))
        .collect()
}

/// The initial weights [`bench_train_once`] and [`bench_train_step`] start from (seeded by
/// `seed`), in Keras `get_weights()` order, concatenated row-major; empty for an invalid model.
#[wasm_bindgen]
pub fn bench_train_weights(model_text: &str, seed: u32) -> Vec<f32> {
    let Some(m) = read(model_text) else {
        return Vec::new();
    };
    let a = analyze(&m);
    if !a.valid() {
        return Vec::new();
    }
    init_weights(&a, u64::from(seed), Limits::default())
        .map(|w| w.iter().flatten().flat_map(|t| t.iter().copied()).collect())
        .unwrap_or_default()
}
