#![cfg(not(target_arch = "wasm32"))]
//! Criterion benchmarks (see BENCHMARKS.md):
//! - `analyze/stack100`: shape + params of the 100-layer stack in tests/fixtures/bench/stack100.json
//!   (falls back to a generated 100-layer Dense/Activation/Dropout/BatchNormalization stack);
//! - `forward/seed`: the default model on the seed input;
//! - `forward/mnist_cnn`: 28×28×1 → `Conv2D` 32 3×3 relu → `MaxPooling2D` → `Conv2D` 64 3×3 relu →
//!   `MaxPooling2D` → Flatten → Dense 10 softmax, one image.

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use flatland::codec;
use flatland::engine::forward::{forward, init_weights, Limits};
use flatland::engine::{analyze, Model};
use ndarray::{ArrayD, IxDyn};

fn stack100() -> Model {
    let p = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/bench/stack100.json"
    );
    if let Some(m) = std::fs::read_to_string(p)
        .ok()
        .and_then(|t| codec::read_model(&t).ok())
    {
        return m;
    }
    let kinds = ["Dense", "Activation", "Dropout", "BatchNormalization"];
    let layers: Vec<serde_json::Value> = (0..100)
        .map(|i| {
            let k = kinds[i % 4];
            let cfg = match k {
                "Dense" => serde_json::json!({"units": 32, "activation": "relu"}),
                "Activation" => serde_json::json!({"activation": "tanh"}),
                "Dropout" => serde_json::json!({"rate": 0.1}),
                _ => serde_json::json!({}),
            };
            serde_json::json!({"class_name": k, "name": format!("l{i}"), "config": cfg})
        })
        .collect();
    let v = serde_json::json!({"format": "flatland-model", "version": 1, "name": "stack100", "input_shape": [32], "layers": layers});
    codec::read_model(&v.to_string()).unwrap_or_else(|_| Model::seed())
}

fn mnist_cnn() -> Model {
    let v = serde_json::json!({"format": "flatland-model", "version": 1, "name": "mnist_cnn", "input_shape": [28, 28, 1], "layers": [
        {"class_name": "Conv2D", "name": "c1", "config": {"filters": 32, "kernel_size": [3, 3], "activation": "relu"}},
        {"class_name": "MaxPooling2D", "name": "p1", "config": {"pool_size": [2, 2]}},
        {"class_name": "Conv2D", "name": "c2", "config": {"filters": 64, "kernel_size": [3, 3], "activation": "relu"}},
        {"class_name": "MaxPooling2D", "name": "p2", "config": {"pool_size": [2, 2]}},
        {"class_name": "Flatten", "name": "f", "config": {}},
        {"class_name": "Dense", "name": "d", "config": {"units": 10, "activation": "softmax"}}
    ]});
    codec::read_model(&v.to_string()).unwrap_or_else(|_| Model::seed())
}

fn bench(c: &mut Criterion) {
    let m = stack100();
    assert_eq!(m.layers.len(), 100);
    c.bench_function("analyze/stack100", |b| b.iter(|| analyze(black_box(&m))));

    let seed = Model::seed();
    let a = analyze(&seed);
    let w = init_weights(&a, 0, Limits::default()).unwrap_or_default();
    let x = ArrayD::from_shape_vec(IxDyn(&[1, 3, 2]), vec![1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0])
        .unwrap_or_else(|_| ArrayD::zeros(IxDyn(&[1, 3, 2])));
    c.bench_function("forward/seed", |b| {
        b.iter(|| forward(&seed, &a, &w, black_box(x.clone()), Limits::default()));
    });

    let cnn = mnist_cnn();
    let a = analyze(&cnn);
    assert!(a.valid());
    let w = init_weights(&a, 0, Limits::default()).unwrap_or_default();
    let x = ArrayD::from_shape_fn(IxDyn(&[1, 28, 28, 1]), |i| {
        ((i[1] * 28 + i[2]) % 17) as f32 / 17.0
    });
    c.bench_function("forward/mnist_cnn", |b| {
        b.iter(|| forward(&cnn, &a, &w, black_box(x.clone()), Limits::default()));
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
