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

/// `flatland train` arguments for a Keras fixture directory: its model, data, initial
/// weights and settings (`args.json`: the loss a name or a list, one per output; `metrics` a
/// list, or Keras's dict per output name, given as `--metrics OUT:accuracy,…`).
fn fixture_args(c: &Path, hist: &str, wout: &str) -> Vec<String> {
    let args: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(c.join("args.json")).unwrap()).unwrap();
    let p = |f: &str| c.join(f).to_string_lossy().into_owned();
    let loss = match &args["loss"] {
        serde_json::Value::Array(v) => v
            .iter()
            .map(|l| l.as_str().unwrap())
            .collect::<Vec<_>>()
            .join(","),
        l => l.as_str().unwrap().to_string(),
    };
    let mut cmd = vec![
        p("model.json"),
        "--data".into(),
        p("train.npz"),
        "--validation".into(),
        p("val.npz"),
        "--weights".into(),
        p("weights.npz"),
        "--loss".into(),
        loss,
        "--optimizer".into(),
        args["optimizer"].as_str().unwrap().to_string(),
        "--epochs".into(),
        args["epochs"].to_string(),
        "--batch-size".into(),
        args["batch_size"].to_string(),
        "--history".into(),
        hist.into(),
        "--save-weights".into(),
        wout.into(),
    ];
    if let Some(lr) = args["lr"].as_f64() {
        cmd.extend(["--lr".into(), lr.to_string()]);
    }
    if let Some(m) = args["momentum"].as_f64().filter(|m| *m != 0.0) {
        cmd.extend(["--momentum".into(), m.to_string()]);
    }
    match &args["metrics"] {
        serde_json::Value::Array(m) if !m.is_empty() => {
            cmd.extend(["--metrics".into(), "accuracy".into()]);
        }
        serde_json::Value::Object(m) if !m.is_empty() => {
            let per: Vec<String> = m.keys().map(|k| format!("{k}:accuracy")).collect();
            cmd.extend(["--metrics".into(), per.join(",")]);
        }
        _ => {}
    }
    cmd
}

/// Train fixture `c` with `flatland train`: Keras's History keys (in Keras's order), values
/// (losses within 1e-3 relative, accuracies within one sample) and final weights, in
/// `get_weights()` order.
fn check_cli_against_keras(c: &Path) {
    let name = c.file_name().unwrap().to_string_lossy().into_owned();
    let hist = tmp(&format!("{name}_h.json"))
        .to_string_lossy()
        .into_owned();
    let wout = tmp(&format!("{name}_w.npz")).to_string_lossy().into_owned();
    let (code, err) = run(&refs(&fixture_args(c, &hist, &wout)));
    assert_eq!(code, 0, "{}: {err}", c.display());
    let text = fs::read_to_string(&hist).unwrap();
    let got: std::collections::BTreeMap<String, Vec<f64>> = serde_json::from_str(&text).unwrap();
    let want: std::collections::BTreeMap<String, Vec<f64>> =
        serde_json::from_str(&fs::read_to_string(c.join("expected_history.json")).unwrap())
            .unwrap();
    // The file's own key order is Keras's (sorted, as `pythonify_logs` leaves it).
    let order: serde_json::Map<String, serde_json::Value> = serde_json::from_str(&text).unwrap();
    assert_eq!(
        order.keys().collect::<Vec<_>>(),
        want.keys().collect::<Vec<_>>(),
        "{}",
        c.display()
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
    let keras = npy::read_weight_list(&fs::read(c.join("expected_weights.npz")).unwrap()).unwrap();
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

/// The training fixtures whose directory name starts with `prefix` and contains `part`.
fn fixtures_named(prefix: &str, part: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/train");
    let mut v: Vec<PathBuf> = fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with(prefix))
                && p.to_string_lossy().contains(part)
        })
        .collect();
    v.sort();
    v
}

/// A two-input Functional fixture (`x0`, `x1`): `flatland train` writes Keras's History
/// (losses within 1e-3 relative, accuracies within one sample) and Keras's final weights,
/// in `get_weights()` order.
#[test]
fn trains_a_two_input_graph_as_keras() {
    let v = fixtures_named("tg", "two_in_");
    assert!(!v.is_empty(), "no two-input graph fixture");
    for c in v {
        check_cli_against_keras(&c);
    }
}

/// Every Functional fixture with several outputs (`tm*`: `y0`, `y1`, …; `--loss a,b` or one
/// loss for all; `--metrics OUT:accuracy`): Keras's History keys and values and its final
/// weights.
#[test]
fn trains_multi_output_graphs_as_keras() {
    let v = fixtures_named("tm", "");
    assert!(v.len() >= 12, "only {} multi-output fixtures", v.len());
    for c in v {
        check_cli_against_keras(&c);
    }
}

/// `tm000_trunk_sgd`'s arrays: x, y0 (numbers, (N, 2), output `reg`) and y1 (labels,
/// output `cls`).
fn trunk_arrays(c: &Path) -> (ArrayD<f32>, ArrayD<f32>, ArrayD<f32>) {
    let items = npy::read_npz(&fs::read(c.join("train.npz")).unwrap()).unwrap();
    let get = |k: &str| {
        items
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, a)| a.clone())
            .unwrap()
    };
    (get("x"), get("y0"), get("y1"))
}

fn write_named(name: &str, items: &[(&str, &ArrayD<f32>)]) -> String {
    let owned: Vec<(String, &ArrayD<f32>)> =
        items.iter().map(|(k, a)| ((*k).to_string(), *a)).collect();
    let p = tmp(name);
    fs::write(&p, npy::write_npz_named(&owned).unwrap()).unwrap();
    p.to_string_lossy().into_owned()
}

/// A model with two outputs (`reg`, `cls`): missing or misshapen targets exit 1, a wrong
/// count of losses, an unknown output name and Keras's refused flat `--metrics accuracy`
/// exit 2, each with one line on stderr; accuracy for both outputs and for a one-output
/// model named by its output work.
#[test]
fn multi_output_input_is_checked() {
    let c = fixtures_named("tm000", "trunk").remove(0);
    let hist = tmp("mo_h.json").to_string_lossy().into_owned();
    let wout = tmp("mo_w.npz").to_string_lossy().into_owned();
    let good = fixture_args(&c, &hist, &wout);
    let (x, y0, y1) = trunk_arrays(&c);
    let n = x.shape()[0];
    let swap = |i: usize, v: &str| {
        let mut a = good.clone();
        a[i] = v.into();
        a
    };
    let bad_label = y1.mapv(|v| v + 7.0);
    let labels_as_numbers = ArrayD::<f32>::zeros(IxDyn(&[n]));
    let data_cases: Vec<(&str, String, &str)> = vec![
        (
            "missing y1",
            write_named("mo_y0.npz", &[("x", &x), ("y0", &y0)]),
            "give y0, y1",
        ),
        (
            "one y",
            write_named("mo_y.npz", &[("x", &x), ("y", &y0)]),
            "2 output(s)",
        ),
        (
            "y0 shape",
            write_named(
                "mo_shape.npz",
                &[("x", &x), ("y0", &labels_as_numbers), ("y1", &y1)],
            ),
            "y0 (output `reg`)",
        ),
        (
            "y1 label",
            write_named(
                "mo_label.npz",
                &[("x", &x), ("y0", &y0), ("y1", &bad_label)],
            ),
            "label",
        ),
    ];
    for (what, path, msg) in data_cases {
        let (code, err) = run(&refs(&swap(2, &path)));
        assert_eq!(code, 1, "{what}: {err}");
        assert!(
            err.contains(msg) && err.lines().count() == 1,
            "{what}: {err}"
        );
    }
    let metrics_at = good.iter().position(|a| a == "--metrics").unwrap() + 1;
    let usage: Vec<(&str, Vec<String>, &str)> = vec![
        ("three losses", swap(8, "mse,mse,mse"), "3 losses"),
        ("unknown loss", swap(8, "mse,hinge"), "unknown loss"),
        (
            "unknown output",
            swap(metrics_at, "dense:accuracy"),
            "no output `dense`",
        ),
        (
            "flat accuracy",
            swap(metrics_at, "accuracy"),
            "Keras refuses",
        ),
        (
            "unknown metric",
            swap(metrics_at, "cls:auc"),
            "unknown metric",
        ),
    ];
    for (what, args, msg) in usage {
        let (code, err) = run(&refs(&args));
        assert_eq!(code, 2, "{what}: {err}");
        assert!(
            err.contains(msg) && err.lines().count() == 1,
            "{what}: {err}"
        );
    }
    // Accuracy on both outputs (Keras resolves the regression head's from the shapes).
    let (code, err) = run(&refs(&swap(metrics_at, "reg:accuracy,cls:accuracy")));
    assert_eq!(code, 0, "{err}");
    let h: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(&fs::read_to_string(&hist).unwrap()).unwrap();
    let keys: Vec<&String> = h.keys().collect();
    assert_eq!(
        keys,
        [
            "cls_accuracy",
            "cls_loss",
            "loss",
            "reg_accuracy",
            "reg_loss",
            "val_cls_accuracy",
            "val_cls_loss",
            "val_loss",
            "val_reg_accuracy",
            "val_reg_loss"
        ]
    );
    // A chain takes one loss; a one-output model may name its output for accuracy (Keras's
    // `metrics={"<output>": ["accuracy"]}` writes `accuracy`).
    let chain = case();
    let data = chain.join("train.npz").to_string_lossy().into_owned();
    let mut two = base(&chain, &data, &hist);
    two[6] = "sparse_categorical_crossentropy,mse".into();
    let (code, err) = run(&refs(&two));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("2 losses"), "{err}");
    let model: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(chain.join("model.json")).unwrap()).unwrap();
    let last = model["config"]["layers"]
        .as_array()
        .and_then(|l| l.last())
        .and_then(|l| l["config"]["name"].as_str())
        .unwrap()
        .to_string();
    let mut named = base(&chain, &data, &hist);
    named[14] = format!("{last}:accuracy");
    let (code, err) = run(&refs(&named));
    assert_eq!(code, 0, "{err}");
    let h: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(&fs::read_to_string(&hist).unwrap()).unwrap();
    assert_eq!(h.keys().collect::<Vec<_>>(), ["accuracy", "loss"]);
}
