//! Keras knowledge shared with the exporter: positional parameters, required arguments,
//! Keras 3 defaults, removed Keras 1/2 arguments and aliases — each read from the layer
//! kind's own descriptor ([`LayerSpec::keras_args_of`]) — and layer-name prefixes.

use serde_json::Value;

use crate::engine::layers::args::canonical_class;
use crate::engine::layers::code;
use crate::engine::LayerSpec;

/// Keras 3 constructor parameters that may be given positionally, in order (the layer
/// kind's [`KerasArgs`](code::KerasArgs); `InputLayer` is not a catalogue kind).
pub fn positional_params(class: &str) -> &'static [&'static str] {
    match LayerSpec::keras_args_of(class) {
        Some(args) => args.positional,
        None if class == "InputLayer" => &["shape", "batch_size", "dtype", "sparse", "batch_shape"],
        #[cfg(not(target_arch = "wasm32"))]
        None => crate::engine::layers::multi::MultiSpec::positional(class),
        #[cfg(target_arch = "wasm32")]
        None => &[],
    }
}

/// Arguments Keras 3 requires (a call without them raises `TypeError`).
pub fn required_args(class: &str) -> &'static [&'static str] {
    LayerSpec::keras_args_of(class).map_or(&[], |a| a.required)
}

/// The config Keras 3 uses when an argument is not given.
pub fn keras_default_config(class: &str) -> Option<Value> {
    LayerSpec::keras_default_config(class)
}

/// Keras 1/2 arguments that Keras 3 refuses, with what to write instead.
pub(super) fn removed_arg(class: &str, arg: &str) -> Option<&'static str> {
    code::removed_arg(
        LayerSpec::keras_args_of(class).unwrap_or(&code::KerasArgs::NONE),
        arg,
    )
}

/// Renamed arguments Keras 3 still accepts.
pub(super) fn arg_alias(class: &str, arg: &str) -> Option<&'static str> {
    LayerSpec::keras_args_of(class).and_then(|a| a.alias(arg))
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
