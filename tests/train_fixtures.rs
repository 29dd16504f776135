#![cfg(not(target_arch = "wasm32"))]
//! Training against real Keras 3: every case of `tools/keras_train_fixtures.py` (committed
//! under tests/fixtures/train/) is trained with [`fit`] from Keras's initial weights and
//! must reproduce Keras's `fit(shuffle=False)`: every History value (losses within 1e-3
//! relative or 1e-5 absolute, accuracies within one sample) and the final weights (1e-3
//! relative or 1e-4 absolute), the tolerances of `../shared/checks/check_train.py`.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use flatland::codec::{self, npy};
use flatland::engine::analyze;
use flatland::engine::forward::{split_weights, Limits};
use flatland::engine::train::fit::{fit, Data, FitConfig, Outcome};
use flatland::engine::train::loss::Loss;
use flatland::engine::train::optim::OptimizerKind;
use serde_json::Value;

fn cases() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/train");
    let mut v: Vec<PathBuf> = fs::read_dir(&dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.is_dir())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

fn data(p: &Path) -> Result<Data, String> {
    let items =
        npy::read_npz(&fs::read(p).map_err(|e| e.to_string())?).map_err(|e| e.to_string())?;
    let get = |k: &str| {
        items
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, a)| a.clone())
            .ok_or_else(|| format!("{} has no {k}", p.display()))
    };
    Ok(Data {
        x: get("x")?,
        y: get("y")?,
    })
}

/// Train one case; the first mismatch with Keras, if any.
fn run(dir: &Path) -> Result<(), String> {
    let args: Value = serde_json::from_str(
        &fs::read_to_string(dir.join("args.json")).map_err(|e| e.to_string())?,
    )
    .map_err(|e| e.to_string())?;
    let expected: BTreeMap<String, Vec<f64>> = serde_json::from_str(
        &fs::read_to_string(dir.join("expected_history.json")).map_err(|e| e.to_string())?,
    )
    .map_err(|e| e.to_string())?;
    let model =
        codec::read_model(&fs::read_to_string(dir.join("model.json")).map_err(|e| e.to_string())?)
            .map_err(|e| e.to_string())?;
    let a = analyze(&model);
    let initial =
        npy::read_weight_list(&fs::read(dir.join("weights.npz")).map_err(|e| e.to_string())?)
            .map_err(|e| e.to_string())?;
    let mut weights = split_weights(&a, initial).map_err(|e| e.to_string())?;
    let train = data(&dir.join("train.npz"))?;
    let val = data(&dir.join("val.npz"))?;
    let momentum = args["momentum"]
        .as_f64()
        .filter(|m| *m != 0.0)
        .map(|m| m as f32);
    let cfg = FitConfig {
        loss: Loss::parse(args["loss"].as_str().unwrap_or("")).map_err(|e| e.to_string())?,
        optimizer: OptimizerKind::parse(args["optimizer"].as_str().unwrap_or(""), momentum)
            .map_err(|e| e.to_string())?,
        lr: args["lr"].as_f64().map(|v| v as f32),
        epochs: args["epochs"].as_u64().unwrap_or(0) as usize,
        batch_size: args["batch_size"].as_u64().unwrap_or(0) as usize,
        accuracy: args["metrics"]
            .as_array()
            .is_some_and(|m| m.iter().any(|v| v == "accuracy")),
        shuffle: false,
        seed: 0,
        limits: Limits::default(),
    };
    let r = fit(&model, &a, &mut weights, &train, Some(&val), &cfg).map_err(|e| e.to_string())?;
    if r.outcome != Outcome::Finished {
        return Err(format!("{:?}", r.outcome));
    }
    let got_keys: Vec<&String> = r.history.keys().collect();
    let want_keys: Vec<&String> = expected.keys().collect();
    if got_keys != want_keys {
        return Err(format!("history keys {got_keys:?}, Keras {want_keys:?}"));
    }
    for (k, want) in &expected {
        let got = &r.history[k];
        let n = if k.starts_with("val_") { &val } else { &train }.x.shape()[0] as f64;
        let ok = got.len() == want.len()
            && got.iter().zip(want).all(|(g, e)| {
                let tol = if k.contains("accuracy") {
                    1.01 / n
                } else {
                    1e-5 + 1e-3 * e.abs()
                };
                (g - e).abs() <= tol
            });
        if !ok {
            return Err(format!("{k}: got {got:?}, Keras {want:?}"));
        }
    }
    let want_w = npy::read_weight_list(
        &fs::read(dir.join("expected_weights.npz")).map_err(|e| e.to_string())?,
    )
    .map_err(|e| e.to_string())?;
    let got_w: Vec<_> = weights.into_iter().flatten().collect();
    if got_w.len() != want_w.len() {
        return Err(format!("{} weights, Keras {}", got_w.len(), want_w.len()));
    }
    for (i, (g, e)) in got_w.iter().zip(&want_w).enumerate() {
        if g.shape() != e.shape() {
            return Err(format!(
                "weight {i}: shape {:?}, Keras {:?}",
                g.shape(),
                e.shape()
            ));
        }
        let worst = g
            .iter()
            .zip(e.iter())
            .map(|(a, b)| {
                (f64::from(*a) - f64::from(*b)).abs() - (1e-4 + 1e-3 * f64::from(*b).abs())
            })
            .fold(f64::NEG_INFINITY, f64::max);
        if worst > 0.0 {
            return Err(format!(
                "weight {i}: off by {worst:.3e} beyond the tolerance"
            ));
        }
    }
    Ok(())
}

#[test]
fn training_matches_keras_fit() {
    let cases = cases();
    assert!(cases.len() >= 40, "only {} training fixtures", cases.len());
    let mut failures = Vec::new();
    for dir in &cases {
        if let Err(e) = run(dir) {
            failures.push(format!(
                "{}: {e}",
                dir.file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default()
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} training fixtures differ from Keras:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}
