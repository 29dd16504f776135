//! Layer kinds of graph models that the chain catalogue does not hold: the merge layers
//! (`merge.rs`), `MultiHeadAttention` (`attention.rs`), and the preprocessing and
//! application-specific layers `keras.applications` registers (`applications.rs`). Each
//! kind keeps all it knows in its file and implements [`MultiRules`]: the rules of
//! [`super::LayerRules`] over a list of inputs. [`MultiSpec`] is the one enum over them.
//!
//! They live apart from [`super::LayerSpec`] so that the page's first module, which edits
//! chains, links none of them; graph models are read by the CLI (and, on the page, on
//! demand).

use ndarray::ArrayD;
use serde_json::Value;

use super::applications::{CustomScaleLayer, LayerScale, Normalization};
use super::attention::MultiHeadAttention;
use super::merge::{Concatenate, Dot, Elementwise, MergeOp, ScalarOp};
use super::{Explanation, WeightSpec};
use crate::engine::graph::problem::{Arity, GraphProblem};
use crate::engine::shape::Shape;
use crate::engine::train::grad::MultiGrad;

/// The rules of a graph-only layer kind, over its inputs in argument order.
pub trait MultiRules {
    /// How many inputs it takes.
    fn arity(&self) -> Arity;

    /// Output shape for these inputs, or why Keras refuses them.
    ///
    /// # Errors
    /// A [`GraphProblem`] describing the violated expectation.
    fn output_shape(&self, inputs: &[Shape]) -> Result<Shape, GraphProblem>;

    /// Weights in Keras `get_weights()` order.
    ///
    /// # Errors
    /// Settings or inputs that do not fit.
    fn weights(&self, _inputs: &[Shape]) -> Result<Vec<WeightSpec>, GraphProblem> {
        Ok(Vec::new())
    }

    /// Multiply-accumulates per sample.
    ///
    /// # Errors
    /// Overflow.
    fn macs(&self, _inputs: &[Shape], _output: &Shape) -> Result<u64, GraphProblem> {
        Ok(0)
    }

    /// Inference-mode forward pass (axis 0 of every input is the batch).
    ///
    /// # Errors
    /// Weights or inputs that do not fit.
    fn forward(
        &self,
        xs: &[&ArrayD<f32>],
        weights: &[ArrayD<f32>],
    ) -> Result<ArrayD<f32>, GraphProblem>;

    /// Why this output shape, in words and numbers.
    fn explain(&self, inputs: &[Shape], output: &Shape) -> Explanation;

    /// The Keras constructor's arguments that differ from its defaults (and the required
    /// ones), as Python source (`axis=1`), without `name`.
    fn keras_args(&self) -> Vec<String> {
        Vec::new()
    }

    /// The Keras config (its field names), read back by [`MultiSpec::from_config`].
    fn to_config(&self) -> Value {
        Value::Object(serde_json::Map::new())
    }
}

/// Every graph-only layer kind.
#[derive(Debug, Clone, PartialEq)]
pub enum MultiSpec {
    Elementwise(Elementwise),
    Concatenate(Concatenate),
    Dot(Dot),
    MultiHeadAttention(MultiHeadAttention),
    Normalization(Normalization),
    LayerScale(LayerScale),
    CustomScaleLayer(CustomScaleLayer),
    /// `x + 3.0` on a Keras tensor (an operation with a number).
    Scalar(ScalarOp),
}

impl MultiSpec {
    /// The kind for a Keras class name and config; `None` when the class is not one of
    /// these (a chain kind, or unknown). A config that does not fit is `Some(Err(reason))`.
    pub fn from_config(class_name: &str, config: &Value) -> Option<Result<MultiSpec, String>> {
        let op = match class_name {
            "Add" => Some(MergeOp::Add),
            "Subtract" => Some(MergeOp::Subtract),
            "Multiply" => Some(MergeOp::Multiply),
            "Average" => Some(MergeOp::Average),
            "Maximum" => Some(MergeOp::Maximum),
            "Minimum" => Some(MergeOp::Minimum),
            _ => None,
        };
        if let Some(op) = op {
            return Some(Ok(MultiSpec::Elementwise(Elementwise { op })));
        }
        Some(match class_name {
            "Concatenate" => Concatenate::from_config(config).map(MultiSpec::Concatenate),
            "Dot" => Dot::from_config(config).map(MultiSpec::Dot),
            "MultiHeadAttention" => {
                MultiHeadAttention::from_config(config).map(MultiSpec::MultiHeadAttention)
            }
            "Normalization" => Normalization::from_config(config).map(MultiSpec::Normalization),
            "LayerScale" => LayerScale::from_config(config).map(MultiSpec::LayerScale),
            "CustomScaleLayer" => {
                CustomScaleLayer::from_config(config).map(MultiSpec::CustomScaleLayer)
            }
            _ => return None,
        })
    }

    /// The constructor's parameters in positional order (for Keras code import).
    pub fn positional(class_name: &str) -> &'static [&'static str] {
        match class_name {
            "Concatenate" => &["axis"],
            "Dot" => &["axes", "normalize"],
            "MultiHeadAttention" => &[
                "num_heads",
                "key_dim",
                "value_dim",
                "dropout",
                "use_bias",
                "output_shape",
                "attention_axes",
            ],
            "Normalization" => &["axis", "mean", "variance", "invert"],
            "LayerScale" => &["init_values", "projection_dim"],
            "CustomScaleLayer" => &["scale"],
            _ => &[],
        }
    }

    /// Keras class name.
    pub fn class_name(&self) -> &'static str {
        match self {
            MultiSpec::Elementwise(e) => e.op.class_name(),
            MultiSpec::Concatenate(_) => "Concatenate",
            MultiSpec::Dot(_) => "Dot",
            MultiSpec::MultiHeadAttention(_) => "MultiHeadAttention",
            MultiSpec::Normalization(_) => "Normalization",
            MultiSpec::LayerScale(_) => "LayerScale",
            MultiSpec::CustomScaleLayer(_) => "CustomScaleLayer",
            MultiSpec::Scalar(s) => s.op.class_name(),
        }
    }

    /// The Python callable that builds this kind (`layers.Add`; the application layers are
    /// not exported by `keras.layers`).
    pub fn keras_callable(&self) -> &'static str {
        match self {
            MultiSpec::LayerScale(_) => "LayerScale",
            MultiSpec::CustomScaleLayer(_) | MultiSpec::Scalar(_) => "CustomScaleLayer",
            MultiSpec::Elementwise(e) => match e.op {
                super::merge::MergeOp::Add => "layers.Add",
                super::merge::MergeOp::Subtract => "layers.Subtract",
                super::merge::MergeOp::Multiply => "layers.Multiply",
                super::merge::MergeOp::Average => "layers.Average",
                super::merge::MergeOp::Maximum => "layers.Maximum",
                super::merge::MergeOp::Minimum => "layers.Minimum",
            },
            MultiSpec::Concatenate(_) => "layers.Concatenate",
            MultiSpec::Dot(_) => "layers.Dot",
            MultiSpec::MultiHeadAttention(_) => "layers.MultiHeadAttention",
            MultiSpec::Normalization(_) => "layers.Normalization",
        }
    }

    /// Whether Keras calls this kind on a list (`Add()([a, b])`) rather than on separate
    /// arguments (`MultiHeadAttention()(query, value)`) or one tensor.
    pub fn takes_list(&self) -> bool {
        matches!(
            self,
            MultiSpec::Elementwise(_)
                | MultiSpec::Concatenate(_)
                | MultiSpec::Dot(_)
                | MultiSpec::CustomScaleLayer(_)
        )
    }

    /// The training side of this kind.
    pub fn grad(&self) -> &dyn MultiGrad {
        match self {
            MultiSpec::Elementwise(s) => s,
            MultiSpec::Concatenate(s) => s,
            MultiSpec::Dot(s) => s,
            MultiSpec::Scalar(s) => s,
            MultiSpec::MultiHeadAttention(s) => s,
            MultiSpec::Normalization(s) => s,
            MultiSpec::LayerScale(s) => s,
            MultiSpec::CustomScaleLayer(s) => s,
        }
    }

    /// The rules of this kind.
    pub fn rules(&self) -> &dyn MultiRules {
        match self {
            MultiSpec::Elementwise(s) => s,
            MultiSpec::Concatenate(s) => s,
            MultiSpec::Dot(s) => s,
            MultiSpec::MultiHeadAttention(s) => s,
            MultiSpec::Normalization(s) => s,
            MultiSpec::LayerScale(s) => s,
            MultiSpec::CustomScaleLayer(s) => s,
            MultiSpec::Scalar(s) => s,
        }
    }
}

/// Config helpers shared by the graph-only kinds (hand-read: their configs mix ints, lists
/// and nulls in ways serde's derive would only reject).
pub(crate) mod cfg {
    use serde_json::Value;

    /// An integer field; `default` when absent or null.
    pub fn int(config: &Value, key: &str, default: Option<i64>) -> Result<i64, String> {
        match config.get(key) {
            None | Some(Value::Null) => default.ok_or_else(|| format!("`{key}` is required")),
            Some(v) => v
                .as_i64()
                .ok_or_else(|| format!("`{key}` must be an integer, got {v}")),
        }
    }

    /// A positive integer field.
    pub fn positive(config: &Value, key: &str, default: Option<i64>) -> Result<usize, String> {
        let n = int(config, key, default)?;
        usize::try_from(n)
            .ok()
            .filter(|&n| n > 0)
            .ok_or_else(|| format!("`{key}` must be a positive integer, got {n}"))
    }

    pub fn boolean(config: &Value, key: &str, default: bool) -> Result<bool, String> {
        match config.get(key) {
            None | Some(Value::Null) => Ok(default),
            Some(v) => v
                .as_bool()
                .ok_or_else(|| format!("`{key}` must be true or false, got {v}")),
        }
    }

    pub fn float(config: &Value, key: &str, default: Option<f64>) -> Result<f64, String> {
        match config.get(key) {
            None | Some(Value::Null) => default.ok_or_else(|| format!("`{key}` is required")),
            Some(v) => v
                .as_f64()
                .ok_or_else(|| format!("`{key}` must be a number, got {v}")),
        }
    }

    /// An int or a list of ints (`None` when absent or null).
    pub fn ints(config: &Value, key: &str) -> Result<Option<Vec<i64>>, String> {
        match config.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Array(a)) => a
                .iter()
                .map(|v| {
                    v.as_i64()
                        .ok_or_else(|| format!("`{key}` must hold integers, got {v}"))
                })
                .collect::<Result<Vec<_>, _>>()
                .map(Some),
            Some(v) => v
                .as_i64()
                .map(|n| Some(vec![n]))
                .ok_or_else(|| format!("`{key}` must be an integer or a list, got {v}")),
        }
    }
}

/// Python's `i % n` for a list index (`n > 0`): always in `0..n`.
pub(crate) fn py_mod(i: i64, n: usize) -> usize {
    let n = n.max(1) as i64;
    (((i % n) + n) % n) as usize
}

/// Python's `list[i]` index rule: negative counts from the end; `None` when out of range.
pub(crate) fn py_index(i: i64, n: usize) -> Option<usize> {
    let j = if i < 0 { i + n as i64 } else { i };
    usize::try_from(j).ok().filter(|&j| j < n)
}

/// The one input of a one-input kind.
pub(crate) fn only(inputs: &[Shape]) -> Result<&Shape, GraphProblem> {
    match inputs {
        [one] => Ok(one),
        _ => Err(GraphProblem::Arity {
            expected: Arity::Exactly(1),
            got: inputs.len(),
        }),
    }
}
