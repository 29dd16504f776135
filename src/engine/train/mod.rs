//! Training, Keras-exact: losses ([`loss`]), optimizers ([`optim`]), the per-layer backward
//! passes' common types ([`grad`]; each kind's own backward pass lives in its family file
//! under `engine::layers`, as [`crate::engine::LayerRules::backward`]) and Keras's
//! `model.fit` loop ([`fit`]).
//!
//! Pure Rust, no web crates: the CLI's `flatland train` and (later) the page's worker both
//! call [`fit::fit`].

pub mod data;
pub mod fit;
pub mod grad;
#[cfg(not(target_arch = "wasm32"))]
pub mod graph_step;
pub mod loss;
pub mod optim;
pub mod task;

use super::error::LayerError;
#[cfg(not(target_arch = "wasm32"))]
use super::graph::problem::GraphError;

/// Why a training run could not start or go on.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum TrainError {
    /// A loss name Flatland does not know.
    #[error("unknown loss `{0}` (mse, mae, huber, binary_crossentropy, categorical_crossentropy, sparse_categorical_crossentropy)")]
    UnknownLoss(String),
    /// An optimizer name Flatland does not know.
    #[error("unknown optimizer `{0}` (sgd, adam, adamw, rmsprop)")]
    UnknownOptimizer(String),
    /// A metric other than accuracy.
    #[error("unknown metric `{0}` (accuracy)")]
    UnknownMetric(String),
    /// A training setting out of range (batch size 0, negative learning rate, …).
    #[error("{what} {message}")]
    Setting { what: &'static str, message: String },
    /// Training or validation data that do not fit the model or the loss.
    #[error("{0}")]
    Data(String),
    /// A layer kind without a backward pass.
    #[error("training {class} (`{name}`, layer {}) is not supported yet", index + 1)]
    NotSupported {
        index: usize,
        name: String,
        class: String,
    },
    /// A layer failed (invalid model, weights that do not fit, size guard).
    #[error("{0}")]
    Layer(LayerError),
    /// A layer of a graph model failed.
    #[cfg(not(target_arch = "wasm32"))]
    #[error("{0}")]
    Graph(GraphError),
}

impl TrainError {
    /// [`TrainError::Setting`].
    pub fn setting(what: &'static str, message: impl Into<String>) -> Self {
        TrainError::Setting {
            what,
            message: message.into(),
        }
    }
}
