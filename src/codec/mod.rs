//! Model formats: our versioned model JSON, Keras JSON import (Keras 3, Keras 2 / tf.keras,
//! TensorFlow.js), share links, and NumPy `.npy` / `.npz` files.

pub mod exercise;
pub mod export;
pub mod keras;
pub mod keras_code;
pub mod link;
pub mod model_json;
/// Native only: the web app reads no NumPy files (tests/forward_web.rs compiles the file
/// into itself).
#[cfg(not(target_arch = "wasm32"))]
pub mod npy;
pub mod presets;
pub mod qr;

use thiserror::Error;

/// A file or text that could not be read as a model at all.
#[derive(Debug, Clone, PartialEq, Error)]
#[non_exhaustive]
pub enum CodecError {
    #[error("not valid JSON: {0}")]
    Json(String),
    #[error("not a model: {0}")]
    NotAModel(String),
    #[error("the model's layers do not form a single chain: {0}")]
    NotAChain(String),
    #[error("bad input shape: {0}")]
    InputShape(String),
    #[error("share link: {0}")]
    Link(String),
    #[error("NumPy file: {0}")]
    Npy(String),
    #[error("Keras code line {line}, column {column}: {message}")]
    Code {
        line: usize,
        column: usize,
        message: String,
    },
}

/// Read any supported model text: our JSON, Keras 3 / Keras 2 / TF.js JSON, or Keras Python
/// code (parsed, never executed). Auto-detected.
///
/// # Errors
/// [`CodecError`] when the text is not a model.
pub fn read_model(text: &str) -> Result<crate::engine::Model, CodecError> {
    match read_model_json(text) {
        Err(CodecError::Json(_)) if keras_code::looks_like_python(text) => {
            keras_code::parse_keras_code(text).map(|i| i.model)
        }
        other => other,
    }
}

/// [`read_model`] without the Keras code importer: JSON formats only. The web app's main
/// module uses this, so the importer is left to the on-demand tools worker.
///
/// # Errors
/// [`CodecError`] when the text is not a model.
pub fn read_model_json(text: &str) -> Result<crate::engine::Model, CodecError> {
    let v: serde_json::Value =
        serde_json::from_str(text).map_err(|e| CodecError::Json(e.to_string()))?;
    if model_json::is_ours(&v) {
        model_json::from_value(&v)
    } else {
        keras::from_value(&v)
    }
}
