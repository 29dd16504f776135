//! Keras knowledge shared with the exporter: positional parameters, required arguments,
//! Keras 3 defaults, removed Keras 1/2 arguments and aliases, and layer-name prefixes.

use serde_json::Value;

use crate::engine::layers::args::canonical_class;
use crate::engine::LayerSpec;

/// Keras 3 constructor parameters that may be given positionally, in order.
pub fn positional_params(class: &str) -> &'static [&'static str] {
    match canonical_class(class) {
        "Dense" => &["units", "activation", "use_bias"],
        "Conv1D" | "Conv2D" => &[
            "filters",
            "kernel_size",
            "strides",
            "padding",
            "data_format",
            "dilation_rate",
            "groups",
            "activation",
            "use_bias",
        ],
        "Conv1DTranspose" | "Conv2DTranspose" => &[
            "filters",
            "kernel_size",
            "strides",
            "padding",
            "output_padding",
            "data_format",
            "dilation_rate",
            "activation",
            "use_bias",
        ],
        "DepthwiseConv2D" => &[
            "kernel_size",
            "strides",
            "padding",
            "depth_multiplier",
            "data_format",
            "dilation_rate",
            "activation",
            "use_bias",
        ],
        "SeparableConv2D" => &[
            "filters",
            "kernel_size",
            "strides",
            "padding",
            "data_format",
            "dilation_rate",
            "depth_multiplier",
            "activation",
            "use_bias",
        ],
        "MaxPooling1D" | "MaxPooling2D" | "AveragePooling1D" | "AveragePooling2D" => {
            &["pool_size", "strides", "padding", "data_format"]
        }
        "GlobalAveragePooling1D"
        | "GlobalAveragePooling2D"
        | "GlobalMaxPooling1D"
        | "GlobalMaxPooling2D" => &["data_format", "keepdims"],
        "BatchNormalization" => &["axis", "momentum", "epsilon", "center", "scale"],
        "LayerNormalization" => &["axis", "epsilon", "center", "scale", "rms_scaling"],
        "UnitNormalization" => &["axis"],
        "SimpleRNN" => &["units", "activation", "use_bias"],
        "LSTM" | "GRU" => &["units", "activation", "recurrent_activation", "use_bias"],
        "Embedding" => &["input_dim", "output_dim"],
        "Rescaling" => &["scale", "offset"],
        "Flatten" => &["data_format"],
        "Reshape" => &["target_shape"],
        "Permute" => &["dims"],
        "RepeatVector" => &["n"],
        "ZeroPadding1D" => &["padding"],
        "ZeroPadding2D" => &["padding", "data_format"],
        "Cropping1D" => &["cropping"],
        "Cropping2D" => &["cropping", "data_format"],
        "UpSampling1D" => &["size"],
        "UpSampling2D" => &["size", "data_format", "interpolation"],
        "Dropout" | "AlphaDropout" => &["rate", "noise_shape", "seed"],
        "SpatialDropout1D" | "SpatialDropout2D" | "GaussianDropout" => &["rate", "seed"],
        "GaussianNoise" => &["stddev", "seed"],
        "Activation" => &["activation"],
        "ReLU" => &["max_value", "negative_slope", "threshold"],
        "LeakyReLU" => &["negative_slope"],
        "PReLU" => &[
            "alpha_initializer",
            "alpha_regularizer",
            "alpha_constraint",
            "shared_axes",
        ],
        "ELU" => &["alpha"],
        "Softmax" => &["axis"],
        "InputLayer" => &["shape", "batch_size", "dtype", "sparse", "batch_shape"],
        _ => &[],
    }
}

/// Arguments Keras 3 requires (a call without them raises `TypeError`).
pub fn required_args(class: &str) -> &'static [&'static str] {
    match canonical_class(class) {
        "Dense" | "SimpleRNN" | "LSTM" | "GRU" => &["units"],
        "Conv1D" | "Conv2D" | "Conv1DTranspose" | "Conv2DTranspose" | "SeparableConv2D" => {
            &["filters", "kernel_size"]
        }
        "DepthwiseConv2D" => &["kernel_size"],
        "Embedding" => &["input_dim", "output_dim"],
        "Rescaling" => &["scale"],
        "Reshape" => &["target_shape"],
        "Permute" => &["dims"],
        "RepeatVector" => &["n"],
        "Dropout" | "SpatialDropout1D" | "SpatialDropout2D" | "GaussianDropout"
        | "AlphaDropout" => &["rate"],
        "GaussianNoise" => &["stddev"],
        "Activation" => &["activation"],
        _ => &[],
    }
}

/// The config Keras 3 uses when an argument is not given. Flatland's own defaults are UI
/// defaults for required arguments (e.g. `Dense.units = 16`) and, for transposed
/// convolutions, differ from Keras (`strides=1, padding="valid"` in Keras).
pub fn keras_default_config(class: &str) -> Option<Value> {
    let canonical = canonical_class(class);
    let mut cfg = LayerSpec::default_of(canonical)?.to_config();
    if let Value::Object(o) = &mut cfg {
        match canonical {
            "Conv1DTranspose" => {
                o.insert("strides".into(), Value::Array(vec![Value::from(1)]));
                o.insert("padding".into(), Value::from("valid"));
            }
            "Conv2DTranspose" => {
                o.insert(
                    "strides".into(),
                    Value::Array(vec![Value::from(1), Value::from(1)]),
                );
                o.insert("padding".into(), Value::from("valid"));
            }
            _ => {}
        }
    }
    Some(cfg)
}

/// Keras 1/2 arguments that Keras 3 refuses, with what to write instead.
pub(super) fn removed_arg(class: &str, arg: &str) -> Option<&'static str> {
    Some(match (class, arg) {
        (_, "init") => "use `kernel_initializer=`",
        (_, "border_mode") => "use `padding=`",
        (_, "dim_ordering") => "use `data_format=` (channels_last is the default)",
        ("Dense", "output_dim") => "use `units=`",
        ("SimpleRNN" | "LSTM" | "GRU", "output_dim") => "use `units=`",
        (
            "Dropout" | "SpatialDropout1D" | "SpatialDropout2D" | "GaussianDropout"
            | "AlphaDropout",
            "p",
        ) => "use `rate=`",
        (_, "nb_filter") => "use `filters=`",
        (_, "nb_row" | "nb_col") => "use `kernel_size=`",
        (_, "subsample" | "subsample_length") => "use `strides=`",
        (_, "filter_length") => "use `kernel_size=`",
        (_, "pool_length") => "use `pool_size=`",
        (_, "W_regularizer") => "use `kernel_regularizer=`",
        (_, "b_regularizer") => "use `bias_regularizer=`",
        (_, "W_constraint") => "use `kernel_constraint=`",
        (_, "b_constraint") => "use `bias_constraint=`",
        (_, "inner_init") => "use `recurrent_initializer=`",
        (_, "inner_activation") => "use `recurrent_activation=`",
        (_, "forget_bias_init") => "use `unit_forget_bias=`",
        (_, "dropout_W") => "use `dropout=`",
        (_, "dropout_U") => "use `recurrent_dropout=`",
        (_, "consume_less") => "remove it",
        ("BatchNormalization", "mode") => "remove it",
        ("Dense", "bias") => "use `use_bias=`",
        (c, "input_length") if c != "Embedding" => {
            "remove it (give the input shape with `keras.Input`)"
        }
        _ => return None,
    })
}

/// Renamed arguments Keras 3 still accepts.
pub(super) fn arg_alias(class: &str, arg: &str) -> Option<&'static str> {
    match (class, arg) {
        ("LeakyReLU", "alpha") => Some("negative_slope"),
        _ => None,
    }
}

pub(super) fn is_catalogue(class: &str) -> bool {
    LayerSpec::default_of(canonical_class(class)).is_some()
}

/// Snake-case prefix for a class name outside the catalogue (`Bidirectional` → `bidirectional`).
fn snake(class: &str) -> String {
    let mut out = String::new();
    for (i, ch) in class.chars().enumerate() {
        if ch.is_uppercase() {
            if i > 0 {
                out.push('_');
            }
            out.extend(ch.to_lowercase());
        } else {
            out.push(ch);
        }
    }
    if out.is_empty() {
        "layer".into()
    } else {
        out
    }
}

pub(super) fn prefix_of(class: &str) -> String {
    LayerSpec::default_of(canonical_class(class))
        .map_or_else(|| snake(class), |s| s.prefix().to_string())
}
