//! Share links made by earlier versions keep opening the same model, and the current version
//! still writes the same link text. `tests/fixtures/links/golden.json` was written by the
//! version before the layer redesign (commit 079c83e) from the models below; regenerate it
//! only on a deliberate link format change (`GOLDEN_LINKS_WRITE=path cargo test --test
//! golden_links`), never to make this test pass.

use flatland::codec::{link, presets};
use flatland::engine::{Layer, LayerSpec, Model, CATALOGUE};
use serde_json::{json, Value};

/// The models: every preset (and the model it is compared with) and, for every catalogue
/// kind, its default and a few non-default settings.
fn cases() -> Vec<(String, Model)> {
    let mut out = Vec::new();
    for p in presets::presets() {
        out.push((p.id.to_string(), p.model.clone()));
        if let Some(b) = p.compare_with {
            out.push((format!("{}_b", p.id), b));
        }
    }
    let variants = [
        json!({}),
        json!({"units": 7, "filters": 5, "kernel_size": [2, 2], "strides": 2, "padding": "same", "activation": "relu"}),
        json!({"rate": 0.25, "use_bias": false, "axis": 1, "pool_size": 3, "return_sequences": true}),
        json!({"negative_slope": 0.1, "alpha": 0.5, "dims": [2, 1], "target_shape": [-1, 2], "n": 3, "size": 3}),
    ];
    for k in CATALOGUE {
        for (i, v) in variants.iter().enumerate() {
            let spec = LayerSpec::from_config(k.class_name, v);
            let m = Model {
                name: format!("golden_{i}"),
                input_shape: vec![6, 5, 4],
                layers: vec![
                    Layer::new(spec.prefix(), spec),
                    Layer::new(
                        "dense_1",
                        LayerSpec::from_config("Dense", &json!({"units": 2})),
                    ),
                ],
            };
            out.push((format!("{}_{i}", k.class_name), m));
        }
    }
    out
}

fn golden() -> Vec<(String, String)> {
    let text = std::fs::read_to_string("tests/fixtures/links/golden.json").unwrap();
    let v: Value = serde_json::from_str(&text).unwrap();
    v.as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["case"].as_str().unwrap().to_string(),
                e["link"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn links_of_the_earlier_version_open_the_same_model_and_are_written_the_same() {
    let cases = cases();
    if let Ok(path) = std::env::var("GOLDEN_LINKS_WRITE") {
        let v: Vec<Value> = cases
            .iter()
            .map(|(c, m)| json!({"case": c, "link": link::encode_model(m)}))
            .collect();
        std::fs::write(path, serde_json::to_string_pretty(&v).unwrap() + "\n").unwrap();
        return;
    }
    let golden = golden();
    assert!(golden.len() >= 190, "{} golden links", golden.len());
    let mut checked = 0;
    for (case, fragment) in &golden {
        let Some((_, model)) = cases.iter().find(|(c, _)| c == case) else {
            panic!("golden case {case} is no longer built");
        };
        let decoded = link::decode(fragment).unwrap_or_else(|e| panic!("{case}: {e}"));
        assert_eq!(
            &decoded.model, model,
            "{case}: the old link opens another model"
        );
        assert_eq!(
            &link::encode_model(model),
            fragment,
            "{case}: the link text changed"
        );
        checked += 1;
    }
    assert_eq!(checked, golden.len());
}
