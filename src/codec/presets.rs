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

fn seed000(with_flatten: bool) -> Model {
    let mut layers = vec![dense("dense", 300, "relu")];
    if with_flatten {
        layers.push(flatten("flatten"));
    }
    layers.push(dense("dense_1", 1, "relu"));
    model(
        if with_flatten {
            "seed000_flatten"
        } else {
            "seed000"
        },
        &[20, 10],
        layers,
    )
}

fn seed001(with_flatten: bool) -> Model {
    let mut layers = vec![
        dense("dense", 16, "linear"),
        layer("Activation", "activation", json!({"activation": "relu"})),
    ];
    if with_flatten {
        layers.push(flatten("flatten"));
    }
    layers.push(dense("dense_1", 4, "linear"));
    model(
        if with_flatten {
            "seed001_flatten"
        } else {
            "seed001"
        },
        &[3, 2],
        layers,
    )
}

fn seed004(with_flatten: bool) -> Model {
    let mut layers = vec![conv2d("conv2d", 32, [2, 1], "relu", "valid")];
    if with_flatten {
        layers.push(flatten("flatten"));
    }
    layers.extend([
        dense("dense", 100, "relu"),
        dropout("dropout", 0.2),
        dense("dense_1", 100, "relu"),
        dropout("dropout_1", 0.2),
        dense("dense_2", 2, "softmax"),
    ]);
    model(
        if with_flatten {
            "seed004_flatten"
        } else {
            "seed004"
        },
        &[2, 15, 1],
        layers,
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

/// All presets, seeds first.
pub fn presets() -> Vec<Preset> {
    vec![
        Preset {
            id: "seed000",
            title: "Dense on a (20, 10) input",
            group: "Seeds",
            description: "Dense(300) on a (20, 10) input acts on the last axis only: each of the 20 rows gets its own 300 outputs (3,300 params), and the final Dense(1) gives (None, 20, 1). With Flatten first, Dense(1) sees all 6,000 values.",
            model: seed000(false),
            compare_with: Some(seed000(true)),
        },
        Preset {
            id: "seed001",
            title: "Dense(16) → Activation → Dense(4) on (3, 2)",
            group: "Seeds",
            description: "Without Flatten both Dense layers work per row: (None, 3, 4), 116 params. Flatten before the last Dense makes it see all 48 values at once: (None, 4), 244 params.",
            model: seed001(false),
            compare_with: Some(seed001(true)),
        },
        Preset {
            id: "seed004",
            title: "Conv2D(32, (2, 1)) then Dense on (2, 15, 1)",
            group: "Seeds",
            description: "Conv2D(32, (2, 1)) turns (2, 15, 1) into (1, 15, 32); the Dense layers then act on the 32 channels at each of the 15 positions (13,698 params, output (None, 1, 15, 2)). Flatten first gives one (None, 2) prediction with 58,498 params.",
            model: seed004(false),
            compare_with: Some(seed004(true)),
        },
        Preset {
            id: "flatten_10x64",
            title: "Flatten a (10, 64) input",
            group: "Seeds",
            description: "Flatten multiplies the non-batch dimensions: (None, 10, 64) → (None, 640). No weights.",
            model: model("flatten_10x64", &[10, 64], vec![flatten("flatten")]),
            compare_with: None,
        },
        Preset {
            id: "mnist_mlp",
            title: "MNIST MLP",
            group: "Classics",
            description: "The classic Keras mnist_mlp example: 784 pixels → Dense(512, relu) → Dropout(0.2) → Dense(512, relu) → Dropout(0.2) → Dense(10, softmax).",
            model: model(
                "mnist_mlp",
                &[784],
                vec![
                    dense("dense", 512, "relu"),
                    dropout("dropout", 0.2),
                    dense("dense_1", 512, "relu"),
                    dropout("dropout_1", 0.2),
                    dense("dense_2", 10, "softmax"),
                ],
            ),
            compare_with: None,
        },
        Preset {
            id: "mnist_cnn",
            title: "MNIST CNN",
            group: "Classics",
            description: "28×28×1 → Conv2D(32, 3×3) → MaxPooling2D → Conv2D(64, 3×3) → MaxPooling2D → Flatten → Dense(10): valid convolutions shrink each side by 2, pooling halves it (rounding down).",
            model: model(
                "mnist_cnn",
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
            compare_with: None,
        },
        Preset {
            id: "lenet5",
            title: "LeNet-5",
            group: "Classics",
            description: "LeCun et al. 1998 on 32×32×1: Conv2D(6, 5×5, tanh) → AveragePooling2D → Conv2D(16, 5×5, tanh) → AveragePooling2D → Flatten → Dense(120) → Dense(84) → Dense(10).",
            model: model(
                "lenet5",
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
            compare_with: None,
        },
        Preset {
            id: "vgg_block",
            title: "VGG-style blocks",
            group: "Classics",
            description: "Two VGG blocks on 32×32×3: pairs of 3×3 'same' convolutions keep the size, max pooling halves it; filters double from 64 to 128.",
            model: model(
                "vgg_block",
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
            compare_with: None,
        },
        Preset {
            id: "text_lstm",
            title: "Embedding + LSTM text classifier",
            group: "Classics",
            description: "100 token ids → Embedding(10000, 64) → LSTM(64) → Dense(1, sigmoid). The embedding table holds most of the parameters.",
            model: model(
                "text_lstm",
                &[100],
                vec![
                    layer("Embedding", "embedding", json!({"input_dim": 10000, "output_dim": 64})),
                    layer("LSTM", "lstm", json!({"units": 64})),
                    dense("dense", 1, "sigmoid"),
                ],
            ),
            compare_with: None,
        },
        Preset {
            id: "conv1d_timeseries",
            title: "Conv1D time series",
            group: "Classics",
            description: "128 steps × 9 sensor channels (activity recognition): two Conv1D(64, 3) → Dropout → MaxPooling1D → Flatten → Dense(100) → Dense(6).",
            model: model(
                "conv1d_timeseries",
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
            compare_with: None,
        },
        Preset {
            id: "gap_vs_flatten",
            title: "GlobalAveragePooling vs Flatten head",
            group: "Classics",
            description: "The same convolutional body with two heads: GlobalAveragePooling2D averages each of the 64 channels (Dense sees 64 values), Flatten keeps all 13×13×64 = 10,816 (Dense sees them all).",
            model: small_cnn(false),
            compare_with: Some(small_cnn(true)),
        },
    ]
}

/// One preset by id.
pub fn preset(id: &str) -> Option<Preset> {
    presets().into_iter().find(|p| p.id == id)
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
