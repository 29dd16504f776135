#![cfg(not(target_arch = "wasm32"))]
//! Criterion benchmarks (see BENCHMARKS.md):
//! - `analyze/stack100`: shape + params of the 100-layer stack in tests/fixtures/bench/stack100.json
//!   (falls back to a generated 100-layer Dense/Activation/Dropout/BatchNormalization stack);
//! - `forward/seed`: the default model on the seed input;
//! - `forward/mnist_cnn`: 28×28×1 → `Conv2D` 32 3×3 relu → `MaxPooling2D` → `Conv2D` 64 3×3 relu →
//!   `MaxPooling2D` → Flatten → Dense 10 softmax, one image;
//! - `graph/resnet50_analyze`: shape, params and MACs of Keras's `ResNet50` (177 layers), read
//!   once from `tests/fixtures/graph/app_resnet50` (Keras's own `to_json()`);
//! - `graph/resnet50_read_analyze`: the same with reading the 0.4 MB JSON;
//! - `graph/chain20000_read_analyze`: a 20,000-layer Functional chain, read and analysed;
//! - `train/seed_epoch`: one epoch of the default model (128 samples, batch 32: 4 Adam steps,
//!   MSE), as `Trainer::step` runs it;
//! - `train/mnist_cnn_step`: one training step of the MNIST CNN (`tests/fixtures/bench/mnist_cnn.json`)
//!   on a batch of 32 images: training-mode forward, categorical cross-entropy, backward, Adam;
//! - `train/mnist_cnn_grads`: the same without the optimizer (`loss_and_grads`), and
//!   `train/mnist_cnn_forward32`: an inference forward pass of the same batch, for scale.

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use flatland::codec;
use flatland::codec::keras_graph::read_graph;
use flatland::engine::forward::{forward, init_weights, Limits};
use flatland::engine::graph;
use flatland::engine::rng::Rng;
use flatland::engine::train::fit::{loss_and_grads, Data, FitConfig, Trainer};
use flatland::engine::train::loss::Loss;
use flatland::engine::train::optim::OptimizerKind;
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

/// Keras 3 `to_json()` text of a Functional chain of `n` ReLU layers on a (4,) input.
fn chain_json(n: usize) -> String {
    let t = |from: &str| serde_json::json!({"class_name": "__keras_tensor__", "config": {"keras_history": [from, 0, 0]}});
    let mut layers = vec![serde_json::json!({"class_name": "InputLayer", "name": "x",
        "config": {"batch_shape": [null, 4], "name": "x"}, "inbound_nodes": []})];
    let mut prev = "x".to_string();
    for i in 0..n {
        let name = format!("re_lu_{i}");
        layers.push(
            serde_json::json!({"class_name": "ReLU", "name": name, "config": {"name": name},
            "inbound_nodes": [{"args": [t(&prev)], "kwargs": {}}]}),
        );
        prev = name;
    }
    serde_json::json!({"class_name": "Functional", "config": {"name": "chain", "layers": layers,
        "input_layers": [["x", 0, 0]], "output_layers": [[prev, 0, 0]]}})
    .to_string()
}

fn bench_graphs(c: &mut Criterion) {
    let p = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/graph/app_resnet50/model.json"
    );
    if let Ok(text) = std::fs::read_to_string(p) {
        if let Ok(Some(g)) = read_graph(&text) {
            assert!(graph::analyze(&g).valid());
            c.bench_function("graph/resnet50_analyze", |b| {
                b.iter(|| graph::analyze(black_box(&g)));
            });
            c.bench_function("graph/resnet50_read_analyze", |b| {
                b.iter(|| read_graph(black_box(&text)).map(|g| g.map(|g| graph::analyze(&g))));
            });
        }
    }
    let text = chain_json(20_000);
    let mut group = c.benchmark_group("graph");
    group.sample_size(10);
    group.bench_function("chain20000_read_analyze", |b| {
        b.iter(|| read_graph(black_box(&text)).map(|g| g.map(|g| graph::analyze(&g))));
    });
    group.finish();
}

/// A trainer that never runs out of epochs: Adam (Keras's defaults), no shuffle, no
/// validation.
fn trainer(m: Model, data: &Data, loss: Loss, batch_size: usize) -> Trainer {
    let a = analyze(&m);
    assert!(a.valid());
    let w = init_weights(&a, 0, Limits::default()).unwrap_or_default();
    let cfg = FitConfig {
        loss,
        optimizer: OptimizerKind::Adam,
        lr: None,
        epochs: usize::MAX,
        batch_size,
        accuracy: false,
        heads: Vec::new(),
        shuffle: false,
        seed: 0,
        limits: Limits::default(),
    };
    Trainer::new(m, a, w, data, None, cfg).unwrap_or_else(|e| panic!("trainer: {e}"))
}

/// `n` seeded values in [0, 1).
fn values(n: usize, seed: u64) -> Vec<f32> {
    let mut r = Rng::new(seed);
    (0..n)
        .map(|_| (r.next_u64() >> 40) as f32 / (1u64 << 24) as f32)
        .collect()
}

/// `n` one-hot rows of `classes` (sample i has class i mod classes).
fn one_hot(n: usize, classes: usize) -> Vec<f32> {
    let mut y = vec![0f32; n * classes];
    for i in 0..n {
        y[i * classes + i % classes] = 1.0;
    }
    y
}

fn bench_train(c: &mut Criterion) {
    let mut group = c.benchmark_group("train");
    let arr = |shape: &[usize], v: Vec<f32>| {
        ArrayD::from_shape_vec(IxDyn(shape), v).unwrap_or_else(|e| panic!("{e}"))
    };

    // The default model, 128 samples of (3, 2), 4 outputs, MSE: one epoch = 4 batches of 32.
    let seed = Data {
        x: arr(&[128, 3, 2], values(128 * 6, 1)),
        y: arr(&[128, 4], values(128 * 4, 2)),
    };
    let mut t = trainer(Model::seed(), &seed, Loss::Mse, 32);
    let per_epoch = t.batches_per_epoch();
    assert_eq!(per_epoch, 4);
    group.bench_function("seed_epoch", |b| {
        b.iter(|| {
            let p = t.step(black_box(per_epoch));
            assert!(matches!(p, Ok(ref p) if p.outcome.is_none()));
        });
    });

    // The MNIST CNN, one batch of 32 28×28×1 images, one-hot labels.
    let cnn = stack_from("mnist_cnn.json").unwrap_or_else(mnist_cnn);
    let images = Data {
        x: arr(&[32, 28, 28, 1], values(32 * 784, 3)),
        y: arr(&[32, 10], one_hot(32, 10)),
    };
    let mut t = trainer(cnn.clone(), &images, Loss::CategoricalCrossentropy, 32);
    group.bench_function("mnist_cnn_step", |b| {
        b.iter(|| {
            let p = t.step(black_box(1));
            assert!(matches!(p, Ok(ref p) if p.outcome.is_none()));
        });
    });
    let a = analyze(&cnn);
    let w = init_weights(&a, 0, Limits::default()).unwrap_or_default();
    let mut rng = Rng::new(0);
    group.bench_function("mnist_cnn_grads", |b| {
        b.iter(|| {
            loss_and_grads(
                &cnn,
                &a,
                &w,
                black_box(&images.x),
                &images.y,
                Loss::CategoricalCrossentropy,
                &mut rng,
            )
            .map(|g| g.loss)
        });
    });
    group.bench_function("mnist_cnn_forward32", |b| {
        b.iter(|| forward(&cnn, &a, &w, black_box(images.x.clone()), Limits::default()));
    });
    group.finish();
}

/// A model of tests/fixtures/bench (Keras JSON), when it is there and valid.
fn stack_from(file: &str) -> Option<Model> {
    let p = format!("{}/tests/fixtures/bench/{file}", env!("CARGO_MANIFEST_DIR"));
    let m = codec::read_model(&std::fs::read_to_string(p).ok()?).ok()?;
    analyze(&m).valid().then_some(m)
}

criterion_group!(benches, bench, bench_graphs, bench_train);
criterion_main!(benches);
