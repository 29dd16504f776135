//! Code out: a model as runnable Keras 3 Python ([`to_keras_code`]) and as a `PyTorch`
//! `nn.Sequential` translation ([`to_pytorch_code`]).
//!
//! The Keras code emits only values that differ from Keras's own defaults, but always the
//! required arguments (units, filters, `kernel_size`, rate, ...) and `pool_size`, and every
//! layer's name, so [`super::keras_code::parse_keras_code`] reads it back to the same model.
//!
//! The `PyTorch` code is shape-aware: `nn.Linear` and `nn.Conv2d` get their input sizes from
//! the analysed shapes; tensors keep Keras's channels-last layout between layers and are
//! permuted to `PyTorch`'s channels-first layout around convolution/pooling blocks, so
//! `Flatten` sees the same order as in Keras. Where Keras has no direct `PyTorch` equivalent,
//! a `# NOTE:` comment says so.

use serde_json::Value;

use super::keras_code::{keras_default_config, positional_params, required_args};
use crate::engine::{analyze, LayerSpec, Model};

pub use crate::engine::layers::code::{py_float, py_str, py_value};
use crate::engine::layers::code::{shape_tuple, Torch};

fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

// ---------------------------------------------------------------------------------------
// Keras
// ---------------------------------------------------------------------------------------

/// Arguments of one layer call, as Python source (without the class).
pub(crate) fn keras_args(spec: &LayerSpec, name: &str) -> String {
    let class = spec.class_name();
    let cfg = spec.to_config();
    let defaults = keras_default_config(class).unwrap_or(Value::Null);
    let mut args: Vec<String> = Vec::new();
    let required = required_args(class);
    let mut used: Vec<&str> = Vec::new();
    for p in positional_params(class) {
        if !required.contains(p) {
            break;
        }
        if let Some(v) = cfg.get(*p) {
            args.push(py_value(v));
            used.push(p);
        }
    }
    if let Value::Object(o) = &cfg {
        for (k, v) in o {
            if used.contains(&k.as_str()) {
                continue;
            }
            let always = k == "pool_size" || required.contains(&k.as_str());
            if (always || defaults.get(k) != Some(v)) && is_identifier(k) {
                args.push(format!("{k}={}", py_value(v)));
            }
        }
    }
    args.push(format!("name={}", py_str(name)));
    args.join(", ")
}

/// Runnable Keras 3 Python code for the model.
pub fn to_keras_code(model: &Model) -> String {
    let mut out = String::from(
        "import keras\nfrom keras import layers\n\nmodel = keras.Sequential(\n    [\n",
    );
    out.push_str(&format!(
        "        keras.Input(shape={}),\n",
        shape_tuple(&model.input_shape)
    ));
    for layer in &model.layers {
        match &layer.spec {
            LayerSpec::Unknown(u) => {
                let why = if u.reason.is_empty() {
                    format!("`{}` is not supported by Flatland", u.class_name)
                } else {
                    u.reason.replace('\n', " ")
                };
                out.push_str(&format!(
                    "        # NOTE: Flatland could not read this layer: {why}\n"
                ));
                if is_identifier(&u.class_name) && u.class_name != "Unreadable" {
                    let mut args: Vec<String> = match &u.config {
                        Value::Object(o) => o
                            .iter()
                            .filter(|(k, _)| is_identifier(k) && k.as_str() != "name")
                            .map(|(k, v)| format!("{k}={}", py_value(v)))
                            .collect(),
                        _ => Vec::new(),
                    };
                    args.push(format!("name={}", py_str(&layer.name)));
                    out.push_str(&format!(
                        "        layers.{}({}),\n",
                        u.class_name,
                        args.join(", ")
                    ));
                }
            }
            spec => out.push_str(&format!(
                "        layers.{}({}),\n",
                spec.class_name(),
                keras_args(spec, &layer.name)
            )),
        }
    }
    out.push_str(&format!(
        "    ],\n    name={},\n)\nmodel.summary()\n",
        py_str(&model.name)
    ));
    out
}

// ---------------------------------------------------------------------------------------
// PyTorch
// ---------------------------------------------------------------------------------------

pub(crate) const LAMBDA_HELPER: &str = "class Lambda(nn.Module):
    \"\"\"Wraps a function as a module (nn.Sequential needs modules).\"\"\"

    def __init__(self, fn):
        super().__init__()
        self.fn = fn

    def forward(self, x):
        return self.fn(x)
";

/// A `PyTorch` `nn.Sequential` translation of the model, shape-aware, with `# NOTE:` comments
/// where Keras semantics have no direct `PyTorch` equivalent.
pub fn to_pytorch_code(model: &Model) -> String {
    let analysis = analyze(model);
    let mut t = Torch::new(model.input_shape.len());
    let mut stopped = false;
    for (layer, report) in model.layers.iter().zip(&analysis.layers) {
        t.push(format!("# {} ({})", layer.name, layer.spec.class_name()));
        match (&report.input, &report.output) {
            (Some(i), Some(o)) if !stopped => {
                layer.spec.code().torch(&mut t, i.dims(), o.dims());
                t.rank = o.rank();
                if o.rank() < 2 {
                    t.cf = false;
                }
            }
            _ => {
                let why = report.error().map_or_else(
                    || "an earlier layer has an error".to_string(),
                    ToString::to_string,
                );
                t.note(format!("not translated: {why}"));
                stopped = true;
            }
        }
    }
    t.make_channels_last();

    let embedding_first = matches!(
        model.layers.first().map(|l| &l.spec),
        Some(LayerSpec::Embedding(_))
    );
    let mut out = String::from("import torch\nfrom torch import nn\n\n");
    if t.lambda {
        out.push_str(LAMBDA_HELPER);
        out.push_str("\n\n");
    }
    out.push_str(&format!(
        "# PyTorch translation of the Keras model {} (generated by Flatland).\n",
        py_str(&model.name)
    ));
    out.push_str(
        "# Tensors keep Keras's channels-last layout between layers; convolution and pooling\n",
    );
    out.push_str("# blocks are wrapped in permutes to PyTorch's channels-first layout.\n");
    out.push_str("model = nn.Sequential(\n");
    for item in &t.items {
        out.push_str("    ");
        out.push_str(item);
        out.push('\n');
    }
    out.push_str(")\n\n");
    let dims = std::iter::once("1".to_string())
        .chain(model.input_shape.iter().map(ToString::to_string))
        .collect::<Vec<_>>()
        .join(", ");
    if embedding_first {
        out.push_str(&format!(
            "x = torch.zeros({dims}, dtype=torch.long)  # token indices\n"
        ));
    } else {
        out.push_str(&format!("x = torch.zeros({dims})\n"));
    }
    let keras_out = analysis
        .output()
        .map_or_else(|| "invalid model".to_string(), ToString::to_string);
    out.push_str(&format!(
        "print(model(x).shape)  # Keras output shape: {keras_out}\n"
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::keras_code::parse_keras_code;

    #[test]
    fn literals() {
        assert_eq!(py_value(&serde_json::json!([3])), "(3,)");
        assert_eq!(
            py_value(&serde_json::json!([[1, 1], [2, 2]])),
            "((1, 1), (2, 2))"
        );
        assert_eq!(py_value(&serde_json::json!(null)), "None");
        assert_eq!(py_value(&serde_json::json!("a\"b")), "\"a\\\"b\"");
        assert_eq!(py_float(f64::from(0.2f32)), "0.2");
        assert_eq!(py_float(1.0), "1.0");
        assert_eq!(py_float(f64::from(1e-3f32)), "0.001");
    }

    #[test]
    fn seed_keras_code_shape() {
        let code = to_keras_code(&Model::seed());
        assert!(
            code.starts_with(
                "import keras\nfrom keras import layers\n\nmodel = keras.Sequential(\n"
            ),
            "{code}"
        );
        assert!(code.contains("keras.Input(shape=(3, 2)),"));
        assert!(code.contains("layers.Dense(16, name=\"dense\"),"));
        assert!(code.contains("layers.Activation(\"relu\", name=\"activation\"),"));
        assert!(code.contains("name=\"seed\""));
        let back = parse_keras_code(&code).unwrap();
        assert_eq!(back.model, Model::seed());
        assert!(back.warnings.is_empty(), "{:?}", back.warnings);
    }

    #[test]
    fn seed_pytorch() {
        let code = to_pytorch_code(&Model::seed());
        assert!(
            code.starts_with("import torch\nfrom torch import nn\n"),
            "{code}"
        );
        assert!(code.contains("nn.Linear(2, 16),"), "{code}");
        assert!(code.contains("nn.Linear(48, 4),"), "{code}");
        assert!(code.contains("nn.ReLU(),"));
        assert!(code.contains("nn.Flatten(),"));
    }

    #[test]
    fn pytorch_conv_same_stride2_and_lstm() {
        let src = "import keras\nfrom keras import layers\nm = keras.Sequential([keras.Input((9, 9, 3)), layers.Conv2D(4, 3, strides=2, padding='same'), layers.BatchNormalization(), layers.Flatten(), layers.Reshape((25, 4)), layers.LSTM(5)])";
        let m = parse_keras_code(src).unwrap().model;
        let code = to_pytorch_code(&m);
        assert!(
            code.contains("Keras 'same' padding with stride >1 is asymmetric"),
            "{code}"
        );
        assert!(code.contains("nn.ZeroPad2d((1, 1, 1, 1)),"), "{code}");
        assert!(
            code.contains("nn.Conv2d(3, 4, kernel_size=3, stride=2),"),
            "{code}"
        );
        assert!(
            code.contains("nn.BatchNorm2d(4, eps=0.001, momentum=0.01),"),
            "{code}"
        );
        assert!(code.contains("x.permute(0, 3, 1, 2)"), "{code}");
        assert!(code.contains("x.permute(0, 2, 3, 1)"), "{code}");
        assert!(code.contains("nn.LSTM(4, 5, batch_first=True),"), "{code}");
        assert!(code.contains("return_sequences"), "{code}");
        assert!(code.contains("class Lambda(nn.Module):"), "{code}");
    }
}
