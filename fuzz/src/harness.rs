//! The code paths the fuzz targets drive, as plain functions over already-decoded inputs.
//!
//! Shared by the cargo-fuzz targets (`fuzz/fuzz_targets/*.rs`, via the `flatland_fuzz` lib)
//! and by the native regression tests (`tests/fuzz_regressions.rs` includes this file with
//! `#[path]`), so a crashing input found by the fuzzer replays through exactly the same code
//! in `cargo test`. Only `flatland`, `serde_json` and `ndarray` may be used here: they are
//! the root package's dependencies too.
//!
//! Every function returns normally for any input; a panic (including an overflow check or
//! a failed invariant `assert!`) is a bug.

#![allow(dead_code)]

use ndarray::{ArrayD, IxDyn};
use serde_json::Value;

use flatland::codec::{self, keras_code, link, npy};
use flatland::engine::forward::{forward, init_weights, split_weights, Limits};
use flatland::engine::model::explain;
use flatland::engine::summary::summary_text;
use flatland::engine::{analyze, Analysis, Layer, LayerSpec, Model};

/// Size guard for forward passes under fuzzing (small, so every run stays fast).
pub const FUZZ_LIMITS: Limits = Limits {
    max_elements: 1 << 16,
    max_macs: 1 << 24,
};

/// Analysis of an imported model plus everything the UI derives from it: the summary text
/// and the "why this shape" explanation of every layer.
pub fn analyze_all(model: &Model) -> Analysis {
    let a = analyze(model);
    assert_eq!(a.layers.len(), model.layers.len());
    let _ = summary_text(&model.name, &a);
    let _ = a.to_json();
    for i in 0..model.layers.len() {
        let _ = explain(model, &a, i);
    }
    a
}

/// When `forward` succeeds, its outputs must have the shapes `analyze` predicted.
pub fn check_outputs(a: &Analysis, batch: usize, outs: &[ArrayD<f32>]) {
    assert_eq!(outs.len(), a.layers.len(), "one output per layer");
    for (l, y) in a.layers.iter().zip(outs) {
        let mut want = vec![batch];
        want.extend_from_slice(l.output.as_ref().expect("valid layer has a shape").dims());
        assert_eq!(
            y.shape(),
            want.as_slice(),
            "forward output of `{}` ({}) disagrees with the inferred shape",
            l.name,
            l.class_name
        );
    }
}

/// `link_decode`: any text → `link::decode`; a decoded model is analysed.
pub fn link_decode(text: &str) {
    if let Ok(p) = link::decode(text) {
        analyze_all(&p.model);
    }
}

/// `keras_json`: any bytes → `codec::read_model` (auto-detects our JSON, Keras JSON or Keras
/// code); a model that reads is analysed and summarised.
pub fn keras_json(bytes: &[u8]) {
    let Ok(text) = std::str::from_utf8(bytes) else {
        return;
    };
    if let Ok(model) = codec::read_model(text) {
        analyze_all(&model);
    }
}

/// `keras_code`: any text → `parse_keras_code`; an imported model is analysed.
pub fn keras_code(text: &str) {
    if let Ok(imp) = keras_code::parse_keras_code(text) {
        for w in &imp.warnings {
            let _ = w.to_string();
        }
        analyze_all(&imp.model);
    }
}

/// Deterministic input batch for a model input shape, cycling through `values` (or small
/// integers, which also suit `Embedding`, when `values` is empty).
pub fn input_batch(dims: &[usize], batch: usize, values: &[f32]) -> Option<ArrayD<f32>> {
    let mut shape = vec![batch];
    shape.extend_from_slice(dims);
    let n = shape
        .iter()
        .try_fold(1usize, |acc, &d| acc.checked_mul(d))?;
    if n > FUZZ_LIMITS.max_elements as usize {
        return None;
    }
    let data: Vec<f32> = (0..n)
        .map(|i| {
            if values.is_empty() {
                (i % 5) as f32
            } else {
                values[i % values.len()]
            }
        })
        .collect();
    ArrayD::from_shape_vec(IxDyn(&shape), data).ok()
}

/// `engine_spec`: an input shape and `(class name, config)` pairs → `LayerSpec::from_config`
/// → analysis; a valid small model also gets default weights and a forward pass under
/// [`FUZZ_LIMITS`].
pub fn engine_case(
    input_shape: &[usize],
    layers: &[(String, Value)],
    batch: usize,
    values: &[f32],
) {
    let model = spec_model(input_shape, layers);
    let a = analyze_all(&model);
    if !a.valid() || a.total() > FUZZ_LIMITS.max_elements {
        return;
    }
    let Ok(weights) = init_weights(&a, 7, FUZZ_LIMITS) else {
        return;
    };
    let Some(x) = input_batch(input_shape, batch, values) else {
        return;
    };
    if let Ok(outs) = forward(&model, &a, &weights, x, FUZZ_LIMITS) {
        check_outputs(&a, batch, &outs);
    }
}

/// The model of an `engine_spec` case: each `(class, config)` through
/// `LayerSpec::from_config` (also touching `to_config` and `settings`).
pub fn spec_model(input_shape: &[usize], layers: &[(String, Value)]) -> Model {
    let mut model = Model {
        name: "fuzz".into(),
        input_shape: input_shape.to_vec(),
        layers: Vec::new(),
    };
    for (class, config) in layers {
        let spec = LayerSpec::from_config(class, config);
        let _ = spec.to_config();
        let _ = spec.rules().settings();
        let name = model.fresh_name(spec.prefix());
        model.layers.push(Layer::new(name, spec));
    }
    model
}

/// [`engine_case`] from the JSON form `engine_spec` prints for a case (`cargo fuzz fmt
/// engine_spec ARTIFACT`): `{"input_shape": [..], "layers": [[class, config], ..],
/// "batch": n, "values_bits": [f32 bit patterns]}`.
pub fn engine_case_json(text: &str) {
    let (input_shape, layers, batch, values) = parse_case(text);
    engine_case(&input_shape, &layers, batch, &values);
}

/// An `engine_spec` case's parts, decoded from its JSON form.
pub type Case = (Vec<usize>, Vec<(String, Value)>, usize, Vec<f32>);

/// Decode the JSON form of an `engine_spec` case (see [`engine_case_json`]).
pub fn parse_case(text: &str) -> Case {
    let v: Value = serde_json::from_str(text).expect("case JSON");
    let input_shape: Vec<usize> = serde_json::from_value(v["input_shape"].clone()).expect("shape");
    let layers: Vec<(String, Value)> = serde_json::from_value(v["layers"].clone()).expect("layers");
    let batch = v["batch"].as_u64().expect("batch") as usize;
    let values: Vec<f32> = v["values_bits"]
        .as_array()
        .expect("values_bits")
        .iter()
        .map(|b| f32::from_bits(b.as_u64().expect("bits") as u32))
        .collect();
    (input_shape, layers, batch, values)
}

/// How `forward_weights` uses its payload bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WeightsMode {
    /// The payload is an `.npz` weight list (`read_weight_list` → `split_weights`).
    Npz,
    /// The payload is one `.npy` array, given as the whole weight list.
    NpyWeight,
    /// The payload is an `.npy` input batch, run with default weights.
    NpyInput,
}

impl WeightsMode {
    pub fn from_byte(b: u8) -> WeightsMode {
        match b % 3 {
            0 => WeightsMode::Npz,
            1 => WeightsMode::NpyWeight,
            _ => WeightsMode::NpyInput,
        }
    }
}

/// `forward_weights`: a valid fixture model (its JSON and its `input.npy`) and arbitrary
/// bytes read as weights or input. Must end in `Ok` with the right shapes or a typed error.
pub fn forward_weights(model_json: &str, input_npy: &[u8], mode: WeightsMode, payload: &[u8]) {
    let model = codec::read_model(model_json).expect("fixture model reads");
    let a = analyze(&model);
    assert!(a.valid(), "fixture model is valid");
    let fixture_x = npy::read_npy(input_npy).expect("fixture input reads");
    let (weights, x) = match mode {
        WeightsMode::Npz => {
            let Ok(list) = npy::read_weight_list(payload) else {
                return;
            };
            let Ok(w) = split_weights(&a, list) else {
                return;
            };
            (w, fixture_x)
        }
        WeightsMode::NpyWeight => {
            let Ok(arr) = npy::read_npy(payload) else {
                return;
            };
            let Ok(w) = split_weights(&a, vec![arr]) else {
                return;
            };
            (w, fixture_x)
        }
        WeightsMode::NpyInput => {
            let Ok(x) = npy::read_npy(payload) else {
                return;
            };
            let Ok(w) = init_weights(&a, 0, FUZZ_LIMITS) else {
                return;
            };
            (w, x)
        }
    };
    let batch = x.shape().first().copied().unwrap_or(0);
    if let Ok(outs) = forward(&model, &a, &weights, x, FUZZ_LIMITS) {
        check_outputs(&a, batch, &outs);
    }
}
