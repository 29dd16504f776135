//! Model formats: our versioned model JSON, Keras JSON import (Keras 3, Keras 2 / tf.keras,
//! TensorFlow.js), share links, and `NumPy` `.npy` / `.npz` files.

pub mod exercise;
pub mod export;
#[cfg(not(target_arch = "wasm32"))] // graph models: the CLI only for now
pub mod export_graph;
#[cfg(not(target_arch = "wasm32"))] // graph models: the CLI only for now
pub mod graph_link;
pub mod keras;
pub mod keras_code;
#[cfg(not(target_arch = "wasm32"))] // graph models: the CLI only for now
pub mod keras_graph;
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
    Json(JsonError),
    #[error("not a model: {0}")]
    NotAModel(NotAModel),
    #[error("the model's layers do not form a single chain: {0}")]
    NotAChain(ChainBreak),
    #[error("bad input shape: {0}")]
    InputShape(InputShapeError),
    #[error("share link: {0}")]
    Link(LinkError),
    /// `.npy` / `.npz` files are read natively only (the CLI and the tests); the page never
    /// reads them, so its build has no such case.
    #[cfg(not(target_arch = "wasm32"))]
    #[error("NumPy file: {0}")]
    Npy(NpyError),
    #[error("Keras code line {line}, column {column}: {message}")]
    Code {
        line: usize,
        column: usize,
        message: String,
    },
}

/// Where JSON text stops being JSON (`serde_json`'s reason and position).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{reason}{}", at_position(*line, *column))]
pub struct JsonError {
    /// `serde_json`'s reason, without the position.
    pub reason: String,
    /// 1-based line (0 when the error has no position).
    pub line: usize,
    /// 1-based column.
    pub column: usize,
}

fn at_position(line: usize, column: usize) -> String {
    if line == 0 {
        String::new()
    } else {
        format!(" at line {line} column {column}")
    }
}

impl From<serde_json::Error> for JsonError {
    fn from(e: serde_json::Error) -> Self {
        let (line, column) = (e.line(), e.column());
        let text = e.to_string();
        let reason = text
            .strip_suffix(&at_position(line, column))
            .unwrap_or(&text)
            .to_string();
        JsonError {
            reason,
            line,
            column,
        }
    }
}

/// Why a readable text is not a model Flatland knows.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum NotAModel {
    #[error("no \"class_name\": expected a Keras model JSON (Sequential or Functional), a TF.js model.json, or a Flatland model")]
    NoClassName,
    #[error("top-level class `{0}` is not a Sequential or Functional model")]
    TopLevelClass(String),
    /// A model config without its list of layers.
    #[error("{0} has no \"layers\"")]
    NoLayers(&'static str),
    #[error("Sequential config is neither a list nor an object")]
    SequentialConfig,
    #[error("missing \"layers\" list")]
    NoLayerList,
    #[error("flatland-model version {found} is not supported (this Flatland reads up to {max})")]
    Version { found: u64, max: u64 },
    #[error("no Keras model found in the code (expected `Sequential(...)`, `model.add(...)` or `keras.Model(inputs, outputs)`)")]
    NoModelInCode,
}

/// Where a Functional model stops being a chain.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum ChainBreak {
    #[error("{0} input layers (Flatland handles exactly one)")]
    Inputs(usize),
    #[error("layer `{layer}` feeds {count} layers (a chain has exactly one next layer)")]
    Feeds { layer: String, count: usize },
    #[error("layer `{layer}` has several inputs: {inputs:?}")]
    SeveralInputs { layer: String, inputs: Vec<String> },
    /// In Keras code: the call that makes the graph.
    #[error("line {line}, column {column}: {message}")]
    Code {
        line: usize,
        column: usize,
        message: String,
    },
}

/// Why a model's input shape cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum InputShapeError {
    #[error("expected a list, got {0}")]
    NotAList(String),
    #[error("a variable (None) dimension: Flatland needs every input dimension to be a number")]
    Variable,
    #[error("dimension {0} is not a non-negative integer")]
    BadDimension(String),
    #[error("InputLayer without a shape")]
    InputLayerWithoutShape,
    #[error("the model has no input shape (no InputLayer, batch_input_shape or input_shape): Flatland needs one")]
    Missing,
    /// In Keras code: the shape argument that could not be read.
    #[error("line {line}, column {column}: {message}")]
    Code {
        line: usize,
        column: usize,
        message: String,
    },
    /// In Keras code: no layer gives a shape.
    #[error("line {line}, column {column}: the model has no input shape; add `keras.Input(shape=(...))` as the first layer, `input_shape=(...)` on the first layer, or `model.build((None, ...))`")]
    MissingInCode { line: usize, column: usize },
}

/// Why a share link (or its QR code) cannot be read or made.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum LinkError {
    #[error("this link was made by a newer Flatland (format m{0}); this version reads m1")]
    Newer(u32),
    #[error("this is not a Flatland model link")]
    NotALink,
    #[error("the link is too long")]
    TooLong,
    #[error("the link is corrupted (not base64url)")]
    NotBase64,
    #[error("the link is truncated or corrupted")]
    Truncated,
    #[error("the link's content is damaged")]
    Content,
    /// The model inside the link, and what is wrong with it.
    #[error("the link's model is damaged ({0})")]
    Model(String),
    #[error("the link's exercise is damaged ({0})")]
    Exercise(String),
    #[error("{bytes} bytes do not fit in a QR code (at most {max} at level L)")]
    TooLongForQr { bytes: usize, max: usize },
}

/// Why a `.npy` / `.npz` file cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum NpyError {
    #[error("not a .npy file (bad magic)")]
    BadMagic,
    #[error("truncated header")]
    TruncatedHeader,
    #[error("format version {0} is not supported")]
    Version(u8),
    /// The header dict does not parse (the parser's message, on one line).
    #[error("bad header: {0}")]
    Header(String),
    #[error("float16 arrays are not supported; save as float32")]
    Float16,
    #[error("dtype {0} is not supported")]
    Dtype(String),
    #[error("shape overflows")]
    ShapeOverflow,
    #[error("data is truncated")]
    Truncated,
    /// The data does not fit the header (the reader's message, on one line).
    #[error("{0}")]
    Data(String),
    /// Not a zip archive, or a zip feature the reader lacks.
    #[error("not a usable .npz (zip) file: {0}")]
    Zip(String),
    #[error("member {0} is larger than 2 GiB")]
    MemberTooLarge(String),
    /// A member that could not be read from the archive.
    #[error("member {name}: {reason}")]
    MemberRead { name: String, reason: String },
    /// A member that is not a readable `.npy`.
    #[error("{name}: {problem}")]
    Member {
        name: String,
        problem: Box<NpyError>,
    },
    /// The `.npz` writer failing (it writes to memory, so only on an internal error).
    #[error("cannot write .npz: {0}")]
    Write(String),
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
        serde_json::from_str(text).map_err(|e| CodecError::Json(e.into()))?;
    if model_json::is_ours(&v) {
        model_json::from_value(&v)
    } else {
        keras::from_value(&v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The typed JSON error keeps `serde_json`'s reason and position, and prints as it does.
    #[test]
    fn json_errors_keep_serde_json_s_text_and_position() {
        for text in ["{", "[1, 2", "{\"a\" 1}", "", "nul"] {
            let e = serde_json::from_str::<serde_json::Value>(text).unwrap_err();
            let want = e.to_string();
            let typed = JsonError::from(e);
            assert_eq!(typed.to_string(), want, "{text:?}");
            assert!(
                typed.line >= 1 && !typed.reason.contains(" at line "),
                "{typed:?}"
            );
        }
        let r = read_model_json("{\"class_name\": \"Sequential\", \"config\": 3}");
        assert_eq!(r, Err(CodecError::NotAModel(NotAModel::SequentialConfig)));
    }
}
