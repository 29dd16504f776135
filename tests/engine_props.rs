#![cfg(not(target_arch = "wasm32"))]
//! Property tests: random stacks of catalogue layers with random settings always give a
//! shape or a typed error (never a panic), forward agrees with shape inference, and the
//! basic invariants hold (Flatten / Reshape / Permute keep the element count, Dense params =
//! (in + `use_bias`) × units).

use flatland::engine::forward::{forward, init_weights, Limits};
use flatland::engine::layers::CATALOGUE;
use flatland::engine::{analyze, Layer, LayerSpec, Model, Status};
use ndarray::{ArrayD, Dimension, IxDyn};
use proptest::prelude::*;
use serde_json::Value;

/// Randomise every numeric / bool / list field of a default config.
fn mutate(cfg: &Value, seeds: &[u32]) -> Value {
    let mut i = 0usize;
    let mut next = || {
        let s = seeds[i % seeds.len()];
        i += 1;
        s
    };
    fn walk(v: &Value, next: &mut dyn FnMut() -> u32) -> Value {
        match v {
            Value::Bool(_) => Value::Bool(next() % 2 == 0),
            Value::Number(n) if n.is_f64() => serde_json::json!(f64::from(next() % 100) / 100.0),
            Value::Number(_) => serde_json::json!(next() % 6),
            Value::Array(a) => Value::Array(a.iter().map(|x| walk(x, next)).collect()),
            Value::String(s) if s == "valid" || s == "same" || s == "causal" => {
                Value::String(["valid", "same", "causal"][(next() % 3) as usize].into())
            }
            Value::Object(o) => {
                Value::Object(o.iter().map(|(k, x)| (k.clone(), walk(x, next))).collect())
            }
            other => other.clone(),
        }
    }
    walk(cfg, &mut next)
}

fn random_model(input: Vec<usize>, picks: Vec<(usize, Vec<u32>, bool)>) -> Model {
    let mut m = Model {
        name: "p".into(),
        input_shape: input,
        layers: Vec::new(),
    };
    for (k, seeds, keep_default) in picks {
        let kind = CATALOGUE[k % CATALOGUE.len()];
        let Some(def) = LayerSpec::default_of(kind.class_name) else {
            continue;
        };
        let spec = if keep_default {
            def
        } else {
            LayerSpec::from_config(kind.class_name, &mutate(&def.to_config(), &seeds))
        };
        let name = m.fresh_name(spec.prefix());
        m.layers.push(Layer::new(name, spec));
    }
    m
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 600, .. ProptestConfig::default() })]

    #[test]
    fn random_stacks_never_panic_and_forward_agrees(
        input in prop::collection::vec(1usize..7, 1..4),
        picks in prop::collection::vec((0usize..100, prop::collection::vec(0u32..1000, 1..8), any::<bool>()), 1..6),
    ) {
        let m = random_model(input, picks);
        let a = analyze(&m);
        // Either every layer is Ok, or exactly one error followed by NotComputed.
        let first_err = a.layers.iter().position(|l| l.status != Status::Ok);
        if let Some(i) = first_err {
            prop_assert!(matches!(a.layers[i].status, Status::Error(_)));
            prop_assert!(a.layers[i + 1..].iter().all(|l| l.status == Status::NotComputed));
            prop_assert!(!a.layers[i].error().map(ToString::to_string).unwrap_or_default().is_empty());
        } else {
            let limits = Limits { max_elements: 1 << 16, max_macs: 1 << 24 };
            if let Ok(w) = init_weights(&a, 1, limits) {
                let mut shape = vec![2];
                shape.extend_from_slice(&m.input_shape);
                let x = ArrayD::from_shape_fn(IxDyn(&shape), |i| (i.as_array_view().sum() % 5) as f32);
                if let Ok(outs) = forward(&m, &a, &w, x, limits) {
                    for (o, l) in outs.iter().zip(&a.layers) {
                        let want = l.output.as_ref().map(|s| s.dims().to_vec()).unwrap_or_default();
                        prop_assert_eq!(&o.shape()[1..], want.as_slice(), "layer {}", l.name);
                    }
                }
            }
        }
    }

    #[test]
    fn element_count_is_preserved_by_flatten_reshape_permute(input in prop::collection::vec(1usize..9, 1..4)) {
        let n: usize = input.iter().product();
        let rank = input.len();
        let dims: Vec<Value> = (1..=rank).rev().map(|d| serde_json::json!(d)).collect();
        for (class, cfg) in [
            ("Flatten", serde_json::json!({})),
            ("Reshape", serde_json::json!({"target_shape": [-1]})),
            ("Permute", serde_json::json!({"dims": dims})),
        ] {
            let m = Model { name: "p".into(), input_shape: input.clone(), layers: vec![Layer::new("x", LayerSpec::from_config(class, &cfg))] };
            let a = analyze(&m);
            let out = a.layers[0].output.clone().unwrap();
            prop_assert_eq!(out.dims().iter().product::<usize>(), n, "{}", class);
        }
    }

    #[test]
    fn dense_params_formula(input in prop::collection::vec(1usize..50, 1..4), units in 1usize..300, use_bias in any::<bool>()) {
        let cfg = serde_json::json!({"units": units, "use_bias": use_bias});
        let m = Model { name: "p".into(), input_shape: input.clone(), layers: vec![Layer::new("d", LayerSpec::from_config("Dense", &cfg))] };
        let a = analyze(&m);
        let last = *input.last().unwrap() as u64;
        prop_assert_eq!(a.total(), (last + u64::from(use_bias)) * units as u64);
        let mut want = input.clone();
        *want.last_mut().unwrap() = units;
        prop_assert_eq!(a.layers[0].output.clone().unwrap().dims().to_vec(), want);
    }

    #[test]
    fn arbitrary_json_never_panics(s in ".{0,400}") {
        let _ = flatland::codec::read_model(&s);
    }

    #[test]
    fn arbitrary_configs_never_panic(k in 0usize..100, cfg in prop::collection::hash_map("[a-z_]{1,16}", prop_oneof![
        any::<i64>().prop_map(|v| serde_json::json!(v)),
        any::<bool>().prop_map(|v| serde_json::json!(v)),
        prop::collection::vec(any::<i32>(), 0..4).prop_map(|v| serde_json::json!(v)),
        "[a-z]{0,8}".prop_map(|v| serde_json::json!(v)),
    ], 0..6), input in prop::collection::vec(0usize..20, 0..5)) {
        let kind = CATALOGUE[k % CATALOGUE.len()];
        let cfg = Value::Object(cfg.into_iter().collect());
        let m = Model { name: "p".into(), input_shape: input, layers: vec![Layer::new("x", LayerSpec::from_config(kind.class_name, &cfg))] };
        let a = analyze(&m);
        let _ = flatland::engine::summary::summary_text("p", &a);
    }
}
