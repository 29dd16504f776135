#![cfg(not(target_arch = "wasm32"))]
//! Keras code in and out, checked against real Keras 3 (fixtures from
//! `tools/keras_code_fixtures.py`):
//! - every pasted snippet that Keras itself can run gives Keras's shapes and counts when
//!   imported by our parser (and the Keras-1 one that Keras refuses is refused by us);
//! - the Keras code we export for every preset is exactly the code Keras ran, and Keras's
//!   summary of it equals our analysis, layer by layer (names included).

use std::fs;
use std::path::Path;

use flatland::codec::{export, keras_code, presets};
use flatland::engine::{analyze, Analysis};
use serde_json::Value;

/// (name, class, output shape, trainable, non-trainable) of one summary row.
type Row = (String, String, Vec<Option<u64>>, u64, u64);

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn rows(a: &Analysis, with_names: bool) -> Vec<Row> {
    a.layers
        .iter()
        .map(|l| {
            (
                if with_names {
                    l.name.clone()
                } else {
                    String::new()
                },
                l.class_name.clone(),
                l.output
                    .as_ref()
                    .map(|s| s.keras_list().iter().map(|d| d.map(|x| x as u64)).collect())
                    .unwrap_or_default(),
                l.trainable,
                l.non_trainable,
            )
        })
        .collect()
}

fn keras_rows(exp: &Value, with_names: bool) -> Vec<Row> {
    exp["layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                if with_names {
                    l["name"].as_str().unwrap().to_string()
                } else {
                    String::new()
                },
                l["class_name"].as_str().unwrap().to_string(),
                l["output_shape"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(Value::as_u64)
                    .collect(),
                l["trainable_params"].as_u64().unwrap(),
                l["non_trainable_params"].as_u64().unwrap(),
            )
        })
        .collect()
}

#[test]
fn snippets_match_keras() {
    let dir = root().join("tests/fixtures/snippets");
    let mut checked = 0;
    let mut names: Vec<_> = fs::read_dir(&dir)
        .unwrap()
        .filter_map(std::result::Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "py"))
        .collect();
    names.sort();
    for py in names {
        let exp: Value =
            serde_json::from_str(&fs::read_to_string(py.with_extension("expected.json")).unwrap())
                .unwrap();
        let src = fs::read_to_string(&py).unwrap();
        let name = py.file_name().unwrap().to_string_lossy().to_string();
        let err = exp["keras_error"].as_str().unwrap_or("");
        if exp["valid"] == Value::Bool(true) {
            let imported =
                keras_code::parse_keras_code(&src).unwrap_or_else(|e| panic!("{name}: {e}"));
            let a = analyze(&imported.model);
            assert_eq!(rows(&a, false), keras_rows(&exp, false), "{name}");
            assert_eq!(Some(a.total()), exp["total_params"].as_u64(), "{name}");
            checked += 1;
        } else if err.contains("Unrecognized keyword arguments") {
            // Keras refuses the code; so do we (an error layer, or an import error).
            let refused =
                keras_code::parse_keras_code(&src).map_or(true, |i| !analyze(&i.model).valid());
            assert!(refused, "{name}: Keras refuses it ({err}) but we accept it");
            checked += 1;
        }
        // Other Keras failures are the snippet's own environment (data files, training
        // variables, Keras 3 ignoring `input_length`): the importer's own tests cover them.
    }
    assert!(
        checked >= 12,
        "only {checked} snippets checked against Keras"
    );
}

#[test]
fn exported_keras_code_is_what_keras_ran_and_matches() {
    let dir = root().join("tests/fixtures/export");
    let mut n = 0;
    for p in presets::presets() {
        for (tag, model) in [
            (p.id.to_string(), Some(p.model.clone())),
            (format!("{}_compare", p.id), p.compare_with.clone()),
        ] {
            let Some(model) = model else { continue };
            let code = export::to_keras_code(&model);
            let committed = fs::read_to_string(dir.join(format!("{tag}.py")))
                .unwrap_or_else(|_| panic!("no committed export for {tag}"));
            assert_eq!(
                code, committed,
                "{tag}: exported code changed; rerun tools/keras_code_fixtures.py"
            );
            let exp: Value = serde_json::from_str(
                &fs::read_to_string(dir.join(format!("{tag}.expected.json"))).unwrap(),
            )
            .unwrap();
            assert_eq!(
                exp["valid"],
                Value::Bool(true),
                "{tag}: Keras could not run our export: {}",
                exp["keras_error"]
            );
            let a = analyze(&model);
            assert_eq!(rows(&a, true), keras_rows(&exp, true), "{tag}");
            assert_eq!(Some(a.total()), exp["total_params"].as_u64(), "{tag}");
            n += 1;
        }
    }
    assert!(n >= 14, "{n}");
}
