//! The pure engine: no web crates. Layer catalogue, shapes, shape inference, parameter and
//! MAC counting, forward pass (ndarray), typed errors and the Keras-style summary.

pub mod error;
pub mod forward;
pub mod gemm;
/// Graph (Functional) models: native only for now (the CLI); the page edits chains, and its
/// first module must not change for code it does not run.
#[cfg(not(target_arch = "wasm32"))]
pub mod graph;
pub mod layers;
pub mod model;
pub mod rng;
pub mod shape;
pub mod small_sort;
pub mod summary;
pub mod teach;
pub mod train;

pub use error::{LayerError, Problem};
pub use layers::{Explanation, Group, LayerRules, LayerSpec, WeightSpec, CATALOGUE};
pub use model::{analyze, shape_or_status, Analysis, Layer, LayerId, LayerReport, Model, Status};
pub use shape::Shape;
