#![cfg(not(target_arch = "wasm32"))]
//! `flatland train` as other tools call it: a Keras fixture trains and writes Keras's
//! History keys and the weights; bad data, bad usage and a diverging run each end with the
//! documented exit code and one line on stderr, never a panic.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use flatland::codec::npy;
use ndarray::{ArrayD, IxDyn};

/// A training fixture with sparse labels (accuracy) and a validation set.
fn case() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/train");
    let mut v: Vec<PathBuf> = fs::read_dir(&dir)
        .map(|rd| rd.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    v.sort();
    v.into_iter()
        .find(|p| p.to_string_lossy().contains("perpos_flatten_sparse"))
        .unwrap_or(dir)
}

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("flatland-train-cli-{}", std::process::id()));
    fs::create_dir_all(&d).unwrap();
    d.join(name)
}

fn run(args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_flatland"))
        .arg("train")
        .args(args)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!err.contains("panicked"), "{err}");
    (out.status.code().unwrap_or(-1), err)
}

fn base(c: &Path, data: &str, history: &str) -> Vec<String> {
    let p = |f: &str| c.join(f).to_string_lossy().into_owned();
    vec![
        p("model.json"),
        "--data".into(),
        data.into(),
        "--weights".into(),
        p("weights.npz"),
        "--loss".into(),
        "sparse_categorical_crossentropy".into(),
        "--optimizer".into(),
        "adam".into(),
        "--epochs".into(),
        "2".into(),
        "--batch-size".into(),
        "8".into(),
        "--metrics".into(),
        "accuracy".into(),
        "--history".into(),
        history.into(),
    ]
}

fn with(mut v: Vec<String>, extra: &[&str]) -> Vec<String> {
    v.extend(extra.iter().map(ToString::to_string));
    v
}

fn refs(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

fn write_data(name: &str, x: &ArrayD<f32>, y: Option<&ArrayD<f32>>) -> String {
    let mut items = vec![("x".to_string(), x)];
    if let Some(y) = y {
        items.push(("y".to_string(), y));
    }
    let p = tmp(name);
    fs::write(&p, npy::write_npz_named(&items).unwrap()).unwrap();
    p.to_string_lossy().into_owned()
}

#[test]
fn trains_and_refuses_bad_input() {
    let c = case();
    let data = c.join("train.npz").to_string_lossy().into_owned();
    let val = c.join("val.npz").to_string_lossy().into_owned();
    let hist = tmp("h.json").to_string_lossy().into_owned();
    let wout = tmp("w.npz").to_string_lossy().into_owned();

    let ok = with(
        base(&c, &data, &hist),
        &["--validation", &val, "--save-weights", &wout],
    );
    let (code, err) = run(&refs(&ok));
    assert_eq!(code, 0, "{err}");
    let h: serde_json::Value = serde_json::from_str(&fs::read_to_string(&hist).unwrap()).unwrap();
    let mut keys: Vec<&String> = h.as_object().unwrap().keys().collect();
    keys.sort();
    assert_eq!(keys, ["accuracy", "loss", "val_accuracy", "val_loss"]);
    let trained = npy::read_weight_list(&fs::read(&wout).unwrap()).unwrap();
    let initial = npy::read_weight_list(&fs::read(c.join("weights.npz")).unwrap()).unwrap();
    assert_eq!(trained.len(), initial.len());
    assert_ne!(trained, initial);

    let items = npy::read_npz(&fs::read(&data).unwrap()).unwrap();
    let x = items
        .iter()
        .find(|(n, _)| n == "x")
        .map(|(_, a)| a.clone())
        .unwrap();
    let y = items
        .iter()
        .find(|(n, _)| n == "y")
        .map(|(_, a)| a.clone())
        .unwrap();
    let n = x.shape()[0];
    let mut x_nan = x.clone();
    if let Some(v) = x_nan.iter_mut().next() {
        *v = f32::NAN;
    }
    let short_y = y
        .slice_axis(ndarray::Axis(0), ndarray::Slice::from(0..n - 1))
        .to_owned();
    let bad_label = y.mapv(|v| v + 10.0);
    let wrong_x = ArrayD::<f32>::zeros(IxDyn(&[n, 7]));
    let cases: Vec<(&str, String, i32, &str)> = vec![
        ("nan", write_data("nan.npz", &x_nan, Some(&y)), 1, "NaN"),
        (
            "short",
            write_data("short.npz", &x, Some(&short_y)),
            1,
            "samples",
        ),
        (
            "label",
            write_data("label.npz", &x, Some(&bad_label)),
            1,
            "label",
        ),
        ("no_y", write_data("noy.npz", &x, None), 1, "no array `y`"),
        (
            "shape",
            write_data("shape.npz", &wrong_x, Some(&y)),
            1,
            "expects",
        ),
    ];
    for (what, path, want, msg) in cases {
        let (code, err) = run(&refs(&base(&c, &path, &hist)));
        assert_eq!(code, want, "{what}: {err}");
        assert!(
            err.contains(msg) && err.lines().count() == 1,
            "{what}: {err}"
        );
    }
    let usage: Vec<(Vec<String>, &str)> = vec![
        (with(base(&c, &data, &hist), &["--lr", "-1"]), "--lr"),
        (
            base(&c, &data, &hist)
                .into_iter()
                .map(|a| if a == "8" { "0".into() } else { a })
                .collect(),
            "--batch-size",
        ),
        (
            base(&c, &data, &hist)
                .into_iter()
                .map(|a| if a == "adam" { "lion".into() } else { a })
                .collect(),
            "unknown optimizer",
        ),
        (
            base(&c, &data, &hist)
                .into_iter()
                .map(|a| {
                    if a == "sparse_categorical_crossentropy" {
                        "hinge".into()
                    } else {
                        a
                    }
                })
                .collect(),
            "unknown loss",
        ),
        (base(&c, &data, &hist)[..15].to_vec(), "--history"),
        (
            with(base(&c, &data, &hist), &["--metrics", "auc"]),
            "unknown metric",
        ),
    ];
    for (args, msg) in usage {
        let (code, err) = run(&refs(&args));
        assert_eq!(code, 2, "{msg}: {err}");
        assert!(err.contains(msg), "{msg}: {err}");
    }
    // Weights made for another model.
    let other = fs::read_dir(c.parent().unwrap())
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| p.to_string_lossy().contains("conv2d"))
        .unwrap();
    let mut args = base(&c, &data, &hist);
    args[4] = other.join("weights.npz").to_string_lossy().into_owned();
    let (code, err) = run(&refs(&args));
    assert_eq!(code, 1, "{err}");

    // A learning rate that blows the loss up: the history so far, exit 1, the epoch named.
    let _ = fs::remove_file(&hist);
    let mut args = base(&c, &data, &hist);
    args[8] = "sgd".into();
    let args = with(args, &["--lr", "1e30"]);
    let (code, err) = run(&refs(&args));
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("diverged at epoch"), "{err}");
    assert!(Path::new(&hist).exists());
}

/// A two-input Functional fixture (`x0`, `x1`): `flatland train` writes Keras's History
/// (losses within 1e-3 relative, accuracies within one sample) and Keras's final weights,
/// in `get_weights()` order.
#[test]
fn trains_a_two_input_graph_as_keras() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/train");
    let mut v: Vec<PathBuf> = fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.to_string_lossy().contains("two_in_"))
        .collect();
    v.sort();
    assert!(!v.is_empty(), "no two-input graph fixture");
    for c in v {
        let args: serde_json::Value =
            serde_json::from_str(&fs::read_to_string(c.join("args.json")).unwrap()).unwrap();
        let p = |f: &str| c.join(f).to_string_lossy().into_owned();
        let hist = tmp("graph_h.json").to_string_lossy().into_owned();
        let wout = tmp("graph_w.npz").to_string_lossy().into_owned();
        let s = |k: &str| args[k].as_str().unwrap().to_string();
        let mut cmd = vec![
            p("model.json"),
            "--data".into(),
            p("train.npz"),
            "--validation".into(),
            p("val.npz"),
            "--weights".into(),
            p("weights.npz"),
            "--loss".into(),
            s("loss"),
            "--optimizer".into(),
            s("optimizer"),
            "--epochs".into(),
            args["epochs"].to_string(),
            "--batch-size".into(),
            args["batch_size"].to_string(),
            "--history".into(),
            hist.clone(),
            "--save-weights".into(),
            wout.clone(),
        ];
        if let Some(lr) = args["lr"].as_f64() {
            cmd.extend(["--lr".into(), lr.to_string()]);
        }
        if let Some(m) = args["momentum"].as_f64().filter(|m| *m != 0.0) {
            cmd.extend(["--momentum".into(), m.to_string()]);
        }
        if args["metrics"].as_array().is_some_and(|m| !m.is_empty()) {
            cmd.extend(["--metrics".into(), "accuracy".into()]);
        }
        let (code, err) = run(&refs(&cmd));
        assert_eq!(code, 0, "{}: {err}", c.display());
        let got: std::collections::BTreeMap<String, Vec<f64>> =
            serde_json::from_str(&fs::read_to_string(&hist).unwrap()).unwrap();
        let want: std::collections::BTreeMap<String, Vec<f64>> =
            serde_json::from_str(&fs::read_to_string(c.join("expected_history.json")).unwrap())
                .unwrap();
        assert_eq!(
            got.keys().collect::<Vec<_>>(),
            want.keys().collect::<Vec<_>>()
        );
        for (k, w) in &want {
            let n = if k.starts_with("val_") { 16.0 } else { 40.0 };
            for (g, e) in got[k].iter().zip(w) {
                let tol = if k.contains("accuracy") {
                    1.01 / n
                } else {
                    1e-5 + 1e-3 * e.abs()
                };
                assert!(
                    (g - e).abs() <= tol,
                    "{}: {k} {g} vs Keras {e}",
                    c.display()
                );
            }
        }
        let trained = npy::read_weight_list(&fs::read(&wout).unwrap()).unwrap();
        let keras =
            npy::read_weight_list(&fs::read(c.join("expected_weights.npz")).unwrap()).unwrap();
        assert_eq!(trained.len(), keras.len());
        for (t, k) in trained.iter().zip(&keras) {
            assert_eq!(t.shape(), k.shape());
            for (a, b) in t.iter().zip(k) {
                assert!(
                    (a - b).abs() <= 1e-4 + 1e-3 * b.abs(),
                    "{}: {a} vs {b}",
                    c.display()
                );
            }
        }
    }
}
