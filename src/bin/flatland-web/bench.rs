//! Benchmark hooks for `bench/` (wasm only; see BENCHMARKS.md). They live in the web entry
//! point, not the library, so only the page's module exports them (the tools worker, which
//! links the library too, stayed 70 kB gzip larger while they were there). Trunk's loader exposes every
//! `#[wasm_bindgen]` export as `window.wasmBindings`, so the browser benchmark calls these from
//! the release build itself. They are built in only with the cargo feature `bench-hooks`
//! (`bench/run` passes `--features bench-hooks` to Trunk): the shipped page's cold load is
//! 4 kB gzip smaller without them, and the engine code they time is the same.
//!
//! The model is passed in as text (any JSON format [`read_model`] reads) rather than compiled in with
//! `include_str!`: the benchmark server serves `tests/fixtures/bench/*.json`, and the fixtures
//! (63 KB) stay out of the production bundle, which is over its size budget already.
//!
//! Invalid input gives `NaN` / an empty result rather than an exception: `Result` returns
//! cost about 1 KB of glue each in the shipped module.
//!
//! Timings use `performance.now()`, whose resolution is 5 µs on a cross-origin-isolated page
//! (100 µs otherwise). Calls are timed in batches long enough (≥ 2 ms) for that not to matter,
//! and the median per-call time over the batches is returned, in milliseconds.

use ndarray::{ArrayD, IxDyn};
use wasm_bindgen::prelude::*;

use flatland::codec::read_model_json as read_model;
use flatland::engine::forward::{forward, init_weights, Limits, Weights};
use flatland::engine::{analyze, Analysis, Model};

#[path = "../tools_bench/timing.rs"]
mod timing;
use timing::per_call;

/// A valid model read from `text`, with its analysis.
fn model(text: &str) -> Option<(Model, Analysis)> {
    let m = read_model(text).ok()?;
    let a = analyze(&m);
    a.valid().then_some((m, a))
}

/// Model, analysis, weights seeded by `seed` and a batch of one `input`.
fn setup(text: &str, seed: u32, input: &[f32]) -> Option<(Model, Analysis, Weights, ArrayD<f32>)> {
    let (m, a) = model(text)?;
    let w = init_weights(&a, u64::from(seed), Limits::default()).ok()?;
    let mut dims = vec![1];
    dims.extend_from_slice(a.input.dims());
    let x = ArrayD::from_shape_vec(IxDyn(&dims), input.to_vec()).ok()?;
    Some((m, a, w, x))
}

/// `true` when this build was compiled with WebAssembly SIMD (`+simd128`).
#[wasm_bindgen]
pub fn bench_simd() -> bool {
    cfg!(target_feature = "simd128")
}

/// Median ms of one recompute (`analyze`: shapes + params of every layer, what the app runs on
/// each edit) of the model in `model_text`; `NaN` for an unreadable or invalid model.
#[wasm_bindgen]
pub fn bench_analyze(model_text: &str, samples: u32) -> f64 {
    let Some((m, _)) = model(model_text) else {
        return f64::NAN;
    };
    per_call(samples, || {
        std::hint::black_box(analyze(std::hint::black_box(&m)));
    })
}

/// Median ms to read the model text (JSON parse + import) and analyze it; `NaN` for an
/// unreadable or invalid model.
#[wasm_bindgen]
pub fn bench_read_analyze(model_text: &str, samples: u32) -> f64 {
    if model(model_text).is_none() {
        return f64::NAN;
    }
    per_call(samples, || {
        if let Ok(m) = read_model(std::hint::black_box(model_text)) {
            std::hint::black_box(analyze(&m));
        }
    })
}

/// Median ms of one forward pass of a batch of one `input` (row-major, no batch axis) through
/// the model with default weights seeded by `seed`; `NaN` for an unreadable or invalid model
/// or an input of the wrong size.
#[wasm_bindgen]
pub fn bench_forward(model_text: &str, seed: u32, input: &[f32], samples: u32) -> f64 {
    let Some((m, a, w, x)) = setup(model_text, seed, input) else {
        return f64::NAN;
    };
    if forward(&m, &a, &w, x.clone(), Limits::default()).is_err() {
        return f64::NAN;
    }
    per_call(samples, || {
        std::hint::black_box(forward(&m, &a, &w, x.clone(), Limits::default()).ok());
    })
}

/// The model's output for a batch of one `input`, flattened (to check that other libraries
/// agree); empty when [`bench_forward`] would give `NaN`.
#[wasm_bindgen]
pub fn bench_forward_output(model_text: &str, seed: u32, input: &[f32]) -> Vec<f32> {
    setup(model_text, seed, input)
        .and_then(|(m, a, w, x)| forward(&m, &a, &w, x, Limits::default()).ok())
        .and_then(|outs| outs.last().map(|y| y.iter().copied().collect()))
        .unwrap_or_default()
}

/// Every weight of the model seeded by `seed`, in Keras `get_weights()` order, concatenated
/// (row-major). Empty for an invalid model. (The shapes are Keras's, so a TF.js copy of the
/// model splits it by its own `getWeights()` shapes.)
#[wasm_bindgen]
pub fn bench_weights(model_text: &str, seed: u32) -> Vec<f32> {
    model(model_text)
        .and_then(|(_, a)| init_weights(&a, u64::from(seed), Limits::default()).ok())
        .map(|w| w.iter().flatten().flat_map(|t| t.iter().copied()).collect())
        .unwrap_or_default()
}
