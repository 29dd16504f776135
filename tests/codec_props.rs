#![cfg(not(target_arch = "wasm32"))]
//! Codec properties: pasted code and link text never panic; links and exported Keras code
//! round-trip; snippets import with their expected totals; the 50-layer link is short.

use std::path::PathBuf;

use flatland::codec::exercise::{self, Exercise};
use flatland::codec::export::{to_keras_code, to_pytorch_code};
use flatland::codec::keras_code::parse_keras_code;
use flatland::codec::link::{self, Payload};
use flatland::codec::presets::presets;
use flatland::codec::{qr, read_model};
use flatland::engine::{analyze, Layer, LayerSpec, Model};
use proptest::prelude::*;
use serde_json::json;

fn snippets() -> Vec<(String, String)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/snippets");
    let mut out: Vec<(String, String)> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "py"))
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read_to_string(&p).unwrap(),
            )
        })
        .collect();
    out.sort();
    out
}

#[test]
fn every_snippet_imports_with_its_expected_total() {
    let all = snippets();
    assert!(all.len() >= 12, "only {} snippets", all.len());
    for (name, src) in &all {
        let first = src.lines().next().unwrap_or("");
        let expect = first
            .strip_prefix("# expect: ")
            .unwrap_or_else(|| panic!("{name}: first line must be `# expect: ...`"));
        let imported = parse_keras_code(src).unwrap_or_else(|e| panic!("{name}: {e}"));
        let a = analyze(&imported.model);
        if let Some(total) = expect.strip_prefix("total=") {
            let total: u64 = total.trim().parse().unwrap();
            assert!(
                a.valid(),
                "{name}: {:?} {:?}",
                a.first_error().map(ToString::to_string),
                imported.warnings
            );
            assert_eq!(a.total(), total, "{name}");
        } else if let Some(word) = expect.strip_prefix("error=") {
            let e = a.first_error().map(ToString::to_string).unwrap_or_default();
            assert!(e.contains(word.trim()), "{name}: {e}");
            assert!(
                imported
                    .warnings
                    .iter()
                    .any(|w| w.message.contains(word.trim()) && w.line > 1),
                "{name}"
            );
        } else {
            panic!("{name}: unknown expectation {expect}");
        }
        // read_model detects Python too.
        assert_eq!(read_model(src).unwrap(), imported.model, "{name}");
    }
}

fn assert_keras_round_trip(label: &str, m: &Model) {
    let code = to_keras_code(m);
    let back = parse_keras_code(&code).unwrap_or_else(|e| panic!("{label}: {e}\n{code}"));
    assert_eq!(&back.model, m, "{label}\n{code}");
    assert!(back.warnings.is_empty(), "{label}: {:?}", back.warnings);
    assert_eq!(analyze(&back.model).total(), analyze(m).total(), "{label}");
}

#[test]
fn keras_code_round_trips_for_presets_and_snippets() {
    for p in presets() {
        assert_keras_round_trip(p.id, &p.model);
        if let Some(c) = &p.compare_with {
            assert_keras_round_trip(p.id, c);
        }
        let torch = to_pytorch_code(&p.model);
        assert!(
            torch.starts_with("import torch\nfrom torch import nn\n"),
            "{}",
            p.id
        );
        assert!(!torch.contains("not translated"), "{}: {torch}", p.id);
    }
    for (name, src) in snippets() {
        let m = parse_keras_code(&src).unwrap().model;
        if analyze(&m).valid() {
            assert_keras_round_trip(&name, &m);
        }
    }
}

#[test]
fn exercises_travel_in_links() {
    for (ex, sol) in exercise::exercises().into_iter().zip(exercise::solutions()) {
        let link = link::encode(&Payload {
            model: sol.clone(),
            exercise: Some(ex.to_value()),
            view: None,
        });
        let back = link::decode(&link).unwrap();
        let ex2 = Exercise::from_value(back.exercise.as_ref().unwrap()).unwrap();
        assert_eq!(ex2, ex);
        assert!(exercise::solved(&ex2, &back.model));
    }
}

fn fifty_layer_model() -> Model {
    let mut m = Model {
        name: "fifty".into(),
        input_shape: vec![32, 32, 3],
        layers: Vec::new(),
    };
    let push = |m: &mut Model, class: &str, cfg: serde_json::Value| {
        let spec = LayerSpec::from_config(class, &cfg);
        let name = m.fresh_name(spec.prefix());
        m.layers.push(Layer::new(name, spec));
    };
    for i in 0..6 {
        push(
            &mut m,
            "Conv2D",
            json!({"filters": 16 * (i + 1), "kernel_size": [3, 3], "padding": "same", "activation": "relu"}),
        );
        push(&mut m, "BatchNormalization", json!({}));
        push(&mut m, "Dropout", json!({"rate": 0.1}));
        if i % 2 == 1 {
            push(&mut m, "MaxPooling2D", json!({"pool_size": [2, 2]}));
        }
    }
    push(&mut m, "Flatten", json!({}));
    let mut k = 0;
    while m.layers.len() < 49 {
        match k % 4 {
            0 => push(
                &mut m,
                "Dense",
                json!({"units": 64 - (k % 7) * 4, "activation": "relu"}),
            ),
            1 => push(&mut m, "BatchNormalization", json!({})),
            2 => push(&mut m, "Activation", json!({"activation": "tanh"})),
            _ => push(&mut m, "Dropout", json!({"rate": 0.25})),
        }
        k += 1;
    }
    push(
        &mut m,
        "Dense",
        json!({"units": 10, "activation": "softmax"}),
    );
    m
}

#[test]
fn fifty_layer_link_is_short_and_fits_a_qr_code() {
    let m = fifty_layer_model();
    assert_eq!(m.layers.len(), 50);
    let a = analyze(&m);
    assert!(a.valid(), "{:?}", a.first_error().map(ToString::to_string));
    let frag = link::encode_model(&m);
    let url = format!("https://flatland.example/{frag}");
    println!(
        "50-layer link: fragment {} chars, with a 25-char origin {} chars",
        frag.len(),
        url.len()
    );
    assert!(frag.len() < 2000, "{}", frag.len());
    assert_eq!(link::decode(&frag).unwrap().model, m);
    let code = qr::encode(url.as_bytes()).unwrap();
    println!(
        "50-layer link QR: version {} level {:?}",
        code.version, code.ecc
    );
    let seed = link::encode_model(&Model::seed());
    println!("seed link: {} chars", seed.len());
    for p in presets() {
        println!(
            "preset {} link: {} chars",
            p.id,
            link::encode_model(&p.model).len()
        );
    }
}

// ---------------------------------------------------------------------------------------
// Random models
// ---------------------------------------------------------------------------------------

fn arb_layer() -> impl Strategy<Value = (String, serde_json::Value)> {
    let acts = prop::sample::select(vec!["linear", "relu", "tanh", "sigmoid", "softmax", "gelu"]);
    prop_oneof![
        (1usize..128, acts.clone(), any::<bool>()).prop_map(|(u, a, b)| (
            "Dense".to_string(),
            json!({"units": u, "activation": a, "use_bias": b})
        )),
        (0u32..10).prop_map(|r| ("Dropout".to_string(), json!({"rate": f64::from(r) / 10.0}))),
        acts.prop_map(|a| ("Activation".to_string(), json!({ "activation": a }))),
        (any::<bool>(), any::<bool>()).prop_map(|(c, s)| (
            "BatchNormalization".to_string(),
            json!({"center": c, "scale": s, "momentum": 0.9})
        )),
        Just(("Flatten".to_string(), json!({}))),
        (1usize..4).prop_map(|n| ("RepeatVector".to_string(), json!({ "n": n }))),
        (
            1usize..16,
            1usize..4,
            prop::sample::select(vec!["valid", "same", "causal"])
        )
            .prop_map(|(f, k, p)| (
                "Conv1D".to_string(),
                json!({"filters": f, "kernel_size": k, "padding": p})
            )),
        (
            1usize..16,
            1usize..4,
            1usize..3,
            prop::sample::select(vec!["valid", "same"])
        )
            .prop_map(|(f, k, s, p)| (
                "Conv2D".to_string(),
                json!({"filters": f, "kernel_size": [k, k], "strides": s, "padding": p})
            )),
        (1usize..3).prop_map(|p| ("MaxPooling2D".to_string(), json!({"pool_size": [p, p]}))),
        (1usize..9, any::<bool>()).prop_map(|(u, r)| (
            "LSTM".to_string(),
            json!({"units": u, "return_sequences": r})
        )),
        (1usize..9, any::<bool>())
            .prop_map(|(u, r)| ("GRU".to_string(), json!({"units": u, "reset_after": r}))),
        (0u32..5).prop_map(|s| (
            "LeakyReLU".to_string(),
            json!({"negative_slope": f64::from(s) / 10.0})
        )),
        Just(("GlobalAveragePooling2D".to_string(), json!({}))),
        (1usize..3).prop_map(|s| ("UpSampling2D".to_string(), json!({ "size": [s, s] }))),
        (1usize..3).prop_map(|p| ("ZeroPadding1D".to_string(), json!({ "padding": p }))),
    ]
}

fn arb_model() -> impl Strategy<Value = Model> {
    (
        prop::collection::vec(1usize..12, 1..4),
        prop::collection::vec(arb_layer(), 0..12),
        "[a-z_]{1,12}",
    )
        .prop_map(|(input, layers, name)| {
            let mut m = Model {
                name,
                input_shape: input,
                layers: Vec::new(),
            };
            for (class, cfg) in layers {
                let spec = LayerSpec::from_config(&class, &cfg);
                let n = m.fresh_name(spec.prefix());
                m.layers.push(Layer::new(n, spec));
            }
            m
        })
}

fn valid_links() -> Vec<String> {
    let mut v: Vec<String> = presets()
        .iter()
        .map(|p| link::encode_model(&p.model))
        .collect();
    v.push(link::encode_model(&fifty_layer_model()));
    v
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn link_round_trip(m in arb_model()) {
        let frag = link::encode_model(&m);
        prop_assert_eq!(link::decode(&frag).unwrap().model, m);
    }

    #[test]
    fn keras_code_round_trip_for_valid_random_models(m in arb_model()) {
        let _ = to_pytorch_code(&m);
        if analyze(&m).valid() {
            let code = to_keras_code(&m);
            let back = parse_keras_code(&code).unwrap();
            prop_assert_eq!(back.model, m, "{}", code);
        }
    }

    #[test]
    fn link_text_never_panics(s in "\\PC{0,300}") {
        let _ = link::decode(&s);
        let _ = link::decode(&format!("#m1.{s}"));
    }

    #[test]
    fn damaged_links_never_panic(i in 0usize..12, cut in 0usize..4000, flip in 0usize..4000, bit in 0u8..8) {
        let links = valid_links();
        let l = &links[i % links.len()];
        let _ = link::decode(&l[..cut.min(l.len())]);
        let mut bytes = l.clone().into_bytes();
        let at = flip % bytes.len();
        bytes[at] ^= 1 << bit;
        if let Ok(s) = String::from_utf8(bytes) {
            let _ = link::decode(&s);
        }
    }

    #[test]
    fn random_code_never_panics(s in "[a-zA-Z0-9_()\\[\\]{}.,=:;'\"#\\\\ \t\n+*/<>!@%-]{0,300}") {
        let _ = parse_keras_code(&s);
        let _ = read_model(&s);
    }

    #[test]
    fn arbitrary_unicode_never_panics(s in "\\PC{0,200}") {
        let _ = parse_keras_code(&s);
    }

    #[test]
    fn mutated_snippets_never_panic(i in 0usize..64, edits in prop::collection::vec((0usize..4000, 0u8..3, "[\\PC\n\t]"), 1..8)) {
        let all = snippets();
        let mut chars: Vec<char> = all[i % all.len()].1.chars().collect();
        for (pos, op, piece) in edits {
            let at = pos % (chars.len() + 1);
            match op {
                0 => { chars.splice(at..at, piece.chars()); }
                1 => { if at < chars.len() { chars.remove(at); } }
                _ => { chars.truncate(at); }
            }
        }
        let s: String = chars.into_iter().collect();
        if let Ok(imported) = parse_keras_code(&s) {
            let _ = analyze(&imported.model);
            let _ = to_keras_code(&imported.model);
            let _ = to_pytorch_code(&imported.model);
        }
    }

    #[test]
    fn qr_never_panics(s in "\\PC{0,400}") {
        let svg = qr::qr_svg(&s).unwrap();
        prop_assert!(svg.starts_with("<svg"));
    }
}
