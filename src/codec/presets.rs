//! Built-in example models: the seed questions (each with the variant it is compared with)
//! and classic architectures. Every preset is built from Keras config JSON with
//! [`LayerSpec::from_config`], so it reads exactly like an imported model.

use serde_json::{json, Value};

use crate::engine::{Layer, LayerSpec, Model};

/// One preset model, optionally with a second model to compare it with.
#[derive(Debug, Clone, PartialEq)]
pub struct Preset {
    /// Stable id (used in links and tests).
    pub id: &'static str,
    pub title: &'static str,
    /// "Seeds" or "Classics".
    pub group: &'static str,
    pub description: &'static str,
    pub model: Model,
    pub compare_with: Option<Model>,
}

#[allow(clippy::needless_pass_by_value)] // the preset tables pass `json!(..)` literals
fn layer(class: &str, name: &str, config: Value) -> Layer {
    Layer::new(name, LayerSpec::from_config(class, &config))
}

fn model(name: &str, input: &[usize], layers: Vec<Layer>) -> Model {
    Model {
        name: name.into(),
        input_shape: input.to_vec(),
        layers,
    }
}

fn dense(name: &str, units: usize, activation: &str) -> Layer {
    layer(
        "Dense",
        name,
        json!({"units": units, "activation": activation}),
    )
}

fn conv2d(
    name: &str,
    filters: usize,
    kernel: [usize; 2],
    activation: &str,
    padding: &str,
) -> Layer {
    layer(
        "Conv2D",
        name,
        json!({"filters": filters, "kernel_size": kernel, "activation": activation, "padding": padding}),
    )
}

fn flatten(name: &str) -> Layer {
    layer("Flatten", name, json!({}))
}

fn dropout(name: &str, rate: f32) -> Layer {
    layer("Dropout", name, json!({ "rate": rate }))
}

fn max_pool(name: &str) -> Layer {
    layer("MaxPooling2D", name, json!({"pool_size": [2, 2]}))
}

/// A seed question's model: `before`, then Flatten when `with_flatten`, then `after`; the
/// flattened variant's name gets a `_flatten` suffix.
fn seed_model(
    name: &str,
    input: &[usize],
    with_flatten: bool,
    before: Vec<Layer>,
    after: Vec<Layer>,
) -> Model {
    let mut layers = before;
    if with_flatten {
        layers.push(flatten("flatten"));
    }
    layers.extend(after);
    let name = if with_flatten {
        format!("{name}_flatten")
    } else {
        name.to_string()
    };
    model(&name, input, layers)
}

fn seed000(with_flatten: bool) -> Model {
    seed_model(
        "seed000",
        &[20, 10],
        with_flatten,
        vec![dense("dense", 300, "relu")],
        vec![dense("dense_1", 1, "relu")],
    )
}

fn seed001(with_flatten: bool) -> Model {
    seed_model(
        "seed001",
        &[3, 2],
        with_flatten,
        vec![
            dense("dense", 16, "linear"),
            layer("Activation", "activation", json!({"activation": "relu"})),
        ],
        vec![dense("dense_1", 4, "linear")],
    )
}

fn seed004(with_flatten: bool) -> Model {
    seed_model(
        "seed004",
        &[2, 15, 1],
        with_flatten,
        vec![conv2d("conv2d", 32, [2, 1], "relu", "valid")],
        vec![
            dense("dense", 100, "relu"),
            dropout("dropout", 0.2),
            dense("dense_1", 100, "relu"),
            dropout("dropout_1", 0.2),
            dense("dense_2", 2, "softmax"),
        ],
    )
}

fn small_cnn(head_flatten: bool) -> Model {
    let mut layers = vec![
        conv2d("conv2d", 32, [3, 3], "relu", "valid"),
        max_pool("max_pooling2d"),
        conv2d("conv2d_1", 64, [3, 3], "relu", "valid"),
    ];
    layers.push(if head_flatten {
        flatten("flatten")
    } else {
        layer(
            "GlobalAveragePooling2D",
            "global_average_pooling2d",
            json!({}),
        )
    });
    layers.push(dense("dense", 10, "softmax"));
    model(
        if head_flatten {
            "flatten_head"
        } else {
            "gap_head"
        },
        &[32, 32, 3],
        layers,
    )
}

/// A preset compared with a variant: `build(false)` is the model, `build(true)` the one
/// it is compared with.
fn compared(
    group: &'static str,
    id: &'static str,
    title: &'static str,
    description: &'static str,
    build: fn(bool) -> Model,
) -> Preset {
    Preset {
        id,
        title,
        group,
        description,
        model: build(false),
        compare_with: Some(build(true)),
    }
}

/// A preset with nothing to compare it with; its model is named after its id.
fn single(
    group: &'static str,
    id: &'static str,
    title: &'static str,
    description: &'static str,
    input: &[usize],
    layers: Vec<Layer>,
) -> Preset {
    Preset {
        id,
        title,
        group,
        description,
        model: model(id, input, layers),
        compare_with: None,
    }
}

/// All presets, seeds first.
pub fn presets() -> Vec<Preset> {
    let mut all = seeds();
    all.extend(classics());
    all
}

/// The seed questions ("Seeds").
fn seeds() -> Vec<Preset> {
    let group = "Seeds";
    vec![
        compared(
            group,
            "seed000",
            "Dense on a (20, 10) input",
            "Dense(300) on a (20, 10) input acts on the last axis only: each of the 20 rows gets its own 300 outputs (3,300 params), and the final Dense(1) gives (None, 20, 1). With Flatten first, Dense(1) sees all 6,000 values.",
            seed000,
        ),
        compared(
            group,
            "seed001",
            "Dense(16) → Activation → Dense(4) on (3, 2)",
            "Without Flatten both Dense layers work per row: (None, 3, 4), 116 params. Flatten before the last Dense makes it see all 48 values at once: (None, 4), 244 params.",
            seed001,
        ),
        compared(
            group,
            "seed004",
            "Conv2D(32, (2, 1)) then Dense on (2, 15, 1)",
            "Conv2D(32, (2, 1)) turns (2, 15, 1) into (1, 15, 32); the Dense layers then act on the 32 channels at each of the 15 positions (13,698 params, output (None, 1, 15, 2)). Flatten first gives one (None, 2) prediction with 58,498 params.",
            seed004,
        ),
        single(
            group,
            "flatten_10x64",
            "Flatten a (10, 64) input",
            "Flatten multiplies the non-batch dimensions: (None, 10, 64) → (None, 640). No weights.",
            &[10, 64],
            vec![flatten("flatten")],
        ),
    ]
}

/// Classic architectures ("Classics").
fn classics() -> Vec<Preset> {
    let group = "Classics";
    vec![
        single(
            group,
            "mnist_mlp",
            "MNIST MLP",
            "The classic Keras mnist_mlp example: 784 pixels → Dense(512, relu) → Dropout(0.2) → Dense(512, relu) → Dropout(0.2) → Dense(10, softmax).",
            &[784],
            vec![
                dense("dense", 512, "relu"),
                dropout("dropout", 0.2),
                dense("dense_1", 512, "relu"),
                dropout("dropout_1", 0.2),
                dense("dense_2", 10, "softmax"),
            ],
        ),
        single(
            group,
            "mnist_cnn",
            "MNIST CNN",
            "28×28×1 → Conv2D(32, 3×3) → MaxPooling2D → Conv2D(64, 3×3) → MaxPooling2D → Flatten → Dense(10): valid convolutions shrink each side by 2, pooling halves it (rounding down).",
            &[28, 28, 1],
            vec![
                conv2d("conv2d", 32, [3, 3], "relu", "valid"),
                max_pool("max_pooling2d"),
                conv2d("conv2d_1", 64, [3, 3], "relu", "valid"),
                max_pool("max_pooling2d_1"),
                flatten("flatten"),
                dense("dense", 10, "softmax"),
            ],
        ),
        single(
            group,
            "lenet5",
            "LeNet-5",
            "LeCun et al. 1998 on 32×32×1: Conv2D(6, 5×5, tanh) → AveragePooling2D → Conv2D(16, 5×5, tanh) → AveragePooling2D → Flatten → Dense(120) → Dense(84) → Dense(10).",
            &[32, 32, 1],
            vec![
                conv2d("conv2d", 6, [5, 5], "tanh", "valid"),
                layer("AveragePooling2D", "average_pooling2d", json!({"pool_size": [2, 2]})),
                conv2d("conv2d_1", 16, [5, 5], "tanh", "valid"),
                layer("AveragePooling2D", "average_pooling2d_1", json!({"pool_size": [2, 2]})),
                flatten("flatten"),
                dense("dense", 120, "tanh"),
                dense("dense_1", 84, "tanh"),
                dense("dense_2", 10, "softmax"),
            ],
        ),
        single(
            group,
            "vgg_block",
            "VGG-style blocks",
            "Two VGG blocks on 32×32×3: pairs of 3×3 'same' convolutions keep the size, max pooling halves it; filters double from 64 to 128.",
            &[32, 32, 3],
            vec![
                conv2d("block1_conv1", 64, [3, 3], "relu", "same"),
                conv2d("block1_conv2", 64, [3, 3], "relu", "same"),
                max_pool("block1_pool"),
                conv2d("block2_conv1", 128, [3, 3], "relu", "same"),
                conv2d("block2_conv2", 128, [3, 3], "relu", "same"),
                max_pool("block2_pool"),
                flatten("flatten"),
                dense("predictions", 10, "softmax"),
            ],
        ),
        single(
            group,
            "text_lstm",
            "Embedding + LSTM text classifier",
            "100 token ids → Embedding(10000, 64) → LSTM(64) → Dense(1, sigmoid). The embedding table holds most of the parameters.",
            &[100],
            vec![
                layer("Embedding", "embedding", json!({"input_dim": 10000, "output_dim": 64})),
                layer("LSTM", "lstm", json!({"units": 64})),
                dense("dense", 1, "sigmoid"),
            ],
        ),
        single(
            group,
            "conv1d_timeseries",
            "Conv1D time series",
            "128 steps × 9 sensor channels (activity recognition): two Conv1D(64, 3) → Dropout → MaxPooling1D → Flatten → Dense(100) → Dense(6).",
            &[128, 9],
            vec![
                layer("Conv1D", "conv1d", json!({"filters": 64, "kernel_size": 3, "activation": "relu"})),
                layer("Conv1D", "conv1d_1", json!({"filters": 64, "kernel_size": 3, "activation": "relu"})),
                dropout("dropout", 0.5),
                layer("MaxPooling1D", "max_pooling1d", json!({"pool_size": 2})),
                flatten("flatten"),
                dense("dense", 100, "relu"),
                dense("dense_1", 6, "softmax"),
            ],
        ),
        compared(
            group,
            "gap_vs_flatten",
            "GlobalAveragePooling vs Flatten head",
            "The same convolutional body with two heads: GlobalAveragePooling2D averages each of the 64 channels (Dense sees 64 values), Flatten keeps all 13×13×64 = 10,816 (Dense sees them all).",
            small_cnn,
        ),
    ]
}

/// One preset by id.
pub fn preset(id: &str) -> Option<Preset> {
    presets().into_iter().find(|p| p.id == id)
}

/// The compare view's teaching pairs: the seed questions, whose model and compared model
/// differ by one Flatten (A opens in the playground, B is A with the Flatten).
pub fn compare_pairs() -> Vec<Preset> {
    seeds()
        .into_iter()
        .filter(|p| p.compare_with.is_some())
        .collect()
}

impl Preset {
    /// A short name for buttons: `Seed 004` for a seed question, else the title.
    pub fn short_label(&self) -> String {
        match self.id.strip_prefix("seed") {
            Some(n) if !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) => {
                format!("Seed {n}")
            }
            _ => self.title.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::analyze;

    /// Totals verified with `flatland summary` (via the exported Keras code) and by hand.
    const TOTALS: &[(&str, u64, Option<u64>)] = &[
        ("seed000", 3_601, Some(9_301)),
        ("seed001", 116, Some(244)),
        ("seed004", 13_698, Some(58_498)),
        ("flatten_10x64", 0, None),
        ("mnist_mlp", 669_706, None),
        ("mnist_cnn", 34_826, None),
        ("lenet5", 61_706, None),
        ("vgg_block", 342_090, None),
        ("text_lstm", 673_089, None),
        ("conv1d_timeseries", 411_650, None),
        ("gap_vs_flatten", 20_042, Some(127_562)),
    ];

    /// An exercise that hides parameter counts drops the explanation steps that start with
    /// `params`: every layer with weights states its count in such a step, and no other
    /// step does (the step text is the engine's, read here for every preset layer).
    #[test]
    fn hidden_counts_leave_no_count_in_the_explanations() {
        let mut checked = 0;
        for p in presets() {
            let a = analyze(&p.model);
            for (i, r) in a.layers.iter().enumerate() {
                let e = crate::engine::model::explain(&p.model, &a, i).unwrap();
                let count = r.params();
                if count > 0 {
                    let said = e.steps.iter().filter(|s| s.starts_with("params")).count();
                    assert!(
                        said > 0,
                        "{} layer {i}: no params step in {:?}",
                        p.id,
                        e.steps
                    );
                    checked += 1;
                }
                let hidden = e.clone().without_params();
                assert!(hidden.steps.iter().all(|s| !s.starts_with("params")));
                assert_eq!(
                    hidden.steps.len() + e.steps.iter().filter(|s| s.starts_with("params")).count(),
                    e.steps.len()
                );
                if count >= 100 {
                    let n = count.to_string();
                    assert!(
                        hidden
                            .steps
                            .iter()
                            .chain([&hidden.rule])
                            .all(|s| !s.contains(&n)),
                        "{} layer {i}: {n} still in {hidden:?}",
                        p.id
                    );
                }
            }
        }
        assert!(checked > 20, "{checked} layers with weights");
    }

    #[test]
    fn every_preset_is_valid_with_pinned_totals() {
        let all = presets();
        assert_eq!(all.len(), TOTALS.len());
        for (p, (id, total, other)) in all.iter().zip(TOTALS) {
            assert_eq!(p.id, *id);
            let a = analyze(&p.model);
            assert!(
                a.valid(),
                "{id}: {:?}",
                a.first_error().map(ToString::to_string)
            );
            assert_eq!(a.total(), *total, "{id}");
            let b = p.compare_with.as_ref().map(|m| {
                let b = analyze(m);
                assert!(b.valid(), "{id} compare");
                b.total()
            });
            assert_eq!(b, *other, "{id} compare");
        }
    }

    /// The seed pairs are the models Keras answered for (tests/fixtures/summary): every
    /// layer's name, class, output shape and params.
    #[test]
    fn compare_pairs_match_the_keras_fixtures() {
        let fixture = |name: &str| {
            let path = format!(
                "{}/tests/fixtures/summary/{name}/model.json",
                env!("CARGO_MANIFEST_DIR")
            );
            crate::codec::read_model(&std::fs::read_to_string(path).unwrap()).unwrap()
        };
        let keras = [
            ("seed000", "seed000_noflatten", "seed000_flatten"),
            ("seed001", "seed001_noflatten", "seed001_flatten"),
            ("seed004", "seed004_model2", "seed004_model1"),
        ];
        let pairs = compare_pairs();
        assert_eq!(pairs.len(), keras.len());
        let rows = |m: &Model| {
            analyze(m)
                .layers
                .iter()
                .map(|l| {
                    (
                        l.name.clone(),
                        l.class_name.clone(),
                        l.output.clone(),
                        l.params(),
                    )
                })
                .collect::<Vec<_>>()
        };
        for (p, (id, a, b)) in pairs.iter().zip(keras) {
            assert_eq!(p.id, id);
            assert_eq!(rows(&p.model), rows(&fixture(a)), "{id} A");
            assert_eq!(
                rows(p.compare_with.as_ref().unwrap()),
                rows(&fixture(b)),
                "{id} B"
            );
        }
        assert_eq!(pairs[2].short_label(), "Seed 004");
    }

    #[test]
    fn flatten_10x64_output() {
        let p = preset("flatten_10x64").unwrap();
        assert_eq!(
            analyze(&p.model).output().map(ToString::to_string),
            Some("(None, 640)".to_string())
        );
        let s = preset("seed004").unwrap();
        assert_eq!(
            analyze(&s.model).output().map(ToString::to_string),
            Some("(None, 1, 15, 2)".to_string())
        );
    }
}
