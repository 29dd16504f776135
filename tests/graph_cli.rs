//! The graph side of the CLI contract, on a Keras fixture with two inputs and two outputs
//! (`tests/fixtures/graph/dag_026`): `summary --json` (inputs, outputs, inbound), the text
//! summary's "Connected to", `forward` with repeated `--input` / `--output` against Keras
//! `predict`, `link` / `link --decode`, `export --keras`, and refusals with exit codes.
#![cfg(not(target_arch = "wasm32"))]

use std::path::{Path, PathBuf};
use std::process::Command;

use flatland::codec::npy;
use serde_json::Value;

fn case() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/graph/dag_026")
}

fn run(args: &[&str]) -> (Option<i32>, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_flatland"))
        .args(args)
        .output()
        .expect("the CLI runs");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).to_string(),
        String::from_utf8_lossy(&out.stderr).to_string(),
    )
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap_or_default()
}

#[test]
fn summary_json_has_inputs_outputs_and_inbound() {
    let model = case().join("model.json");
    let (code, out, err) = run(&["summary", path(&model), "--json"]);
    assert_eq!(code, Some(0), "{err}");
    let got: Value = serde_json::from_str(&out).unwrap();
    let exp: Value =
        serde_json::from_str(&std::fs::read_to_string(case().join("expected.json")).unwrap())
            .unwrap();
    assert_eq!(got["inputs"], exp["inputs"]);
    assert_eq!(got["outputs"], exp["outputs"]);
    let names = |v: &Value| -> Vec<(Value, Value)> {
        v["layers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| (l["name"].clone(), l["inbound"].clone()))
            .collect()
    };
    assert_eq!(names(&got), names(&exp));
    let (code, text, _) = run(&["summary", path(&model)]);
    assert_eq!(code, Some(0));
    assert!(text.contains("Connected to"), "{text}");
}

#[test]
fn forward_takes_every_input_and_writes_every_output() {
    let d = case();
    let tmp = std::env::temp_dir().join(format!("flatland-graph-cli-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).unwrap();
    let (y0, y1) = (tmp.join("y0.npy"), tmp.join("y1.npy"));
    let (code, _, err) = run(&[
        "forward",
        path(&d.join("model.json")),
        "--weights",
        path(&d.join("weights.npz")),
        "--input",
        path(&d.join("input_0.npy")),
        "--input",
        path(&d.join("input_1.npy")),
        "--output",
        path(&y0),
        "--output",
        path(&y1),
    ]);
    assert_eq!(code, Some(0), "{err}");
    for (got, want) in [(&y0, "expected_0.npy"), (&y1, "expected_1.npy")] {
        let g = npy::read_npy(&std::fs::read(got).unwrap()).unwrap();
        let w = npy::read_npy(&std::fs::read(d.join(want)).unwrap()).unwrap();
        assert_eq!(g.shape(), w.shape());
        for (a, b) in g.iter().zip(w.iter()) {
            assert!((a - b).abs() <= 1e-5 + 1e-4 * b.abs(), "{a} vs Keras {b}");
        }
    }
    // One --output for a two-output model is a usage error, not a panic.
    let (code, _, err) = run(&[
        "forward",
        path(&d.join("model.json")),
        "--input",
        path(&d.join("input_0.npy")),
        "--input",
        path(&d.join("input_1.npy")),
        "--output",
        path(&y0),
    ]);
    assert_eq!(code, Some(2), "{err}");
    // A missing input names the count.
    let (code, _, err) = run(&[
        "forward",
        path(&d.join("model.json")),
        "--input",
        path(&d.join("input_0.npy")),
        "--output",
        path(&y0),
        "--output",
        path(&y1),
    ]);
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("takes 2 input(s) but 1 were given"), "{err}");
    std::fs::remove_dir_all(&tmp).ok();
}

#[test]
fn links_and_exports_of_a_graph() {
    let model = case().join("model.json");
    let (code, link, err) = run(&["link", path(&model)]);
    assert_eq!(code, Some(0), "{err}");
    assert!(link.starts_with("#g1."), "{link}");
    let (code, json, err) = run(&["link", "--decode", link.trim()]);
    assert_eq!(code, Some(0), "{err}");
    let tmp = std::env::temp_dir().join(format!("flatland-graph-link-{}.json", std::process::id()));
    std::fs::write(&tmp, json).unwrap();
    let (_, a, _) = run(&["summary", path(&model), "--json"]);
    let (_, b, _) = run(&["summary", path(&tmp), "--json"]);
    assert_eq!(a, b, "the decoded link is the same model");
    std::fs::remove_file(&tmp).ok();
    let (code, py, err) = run(&["export", path(&model), "--keras"]);
    assert_eq!(code, Some(0), "{err}");
    assert!(py.contains("keras.Model(inputs=["), "{py}");
    let (code, torch, err) = run(&["export", path(&model), "--pytorch"]);
    assert_eq!(code, Some(0), "{err}");
    assert!(torch.contains("def forward(self, "), "{torch}");
}

#[test]
fn a_graph_keras_refuses_exits_1_naming_the_layer() {
    let bad = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/graph/bad_000");
    let exp: Value =
        serde_json::from_str(&std::fs::read_to_string(bad.join("expected.json")).unwrap()).unwrap();
    let (code, out, err) = run(&["summary", path(&bad.join("model.json")), "--json"]);
    assert_eq!(code, Some(1), "{err}");
    let got: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(got["valid"], Value::Bool(false));
    let name = exp["bad_layer"].as_str().unwrap_or_default();
    assert!(err.contains(&format!("`{name}`")), "{err}");
}
