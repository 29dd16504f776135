//! Typed errors. A [`Problem`] says what is wrong with one layer given its input; the
//! model driver wraps it in a [`LayerError`] that names the layer, its class and input.

use super::shape::Shape;
use std::fmt;

/// What a layer rule found wrong. Messages read as the end of a sentence that starts with
/// the layer's class name, e.g. "Conv2D needs a 3-D input (height, width, channels) but
/// got (None, 3, 2)".
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum Problem {
    /// Input rank is not what the layer accepts.
    #[error("needs {expected} but got {got}")]
    Rank { expected: String, got: Shape },
    /// A setting is out of its valid range (Keras refuses it at construction).
    #[error("`{field}` {message}")]
    Config {
        field: &'static str,
        message: String,
    },
    /// The settings do not fit this input (window larger than input, size mismatch...).
    #[error("{message}")]
    Geometry { message: String },
    /// A "valid" window is longer than its input along one axis: the output length would be
    /// zero or negative, which Keras refuses ([`crate::engine::layers::window::Window`]).
    #[error(
        "{}window {span} is larger than the input {n} (valid padding): the output length would be {would}",
        axis_prefix(*.axis)
    )]
    WindowTooLarge {
        /// The axis name (`steps`, `height`, `width`) when the layer names it.
        axis: Option<&'static str>,
        /// The dilated window span `d·(k − 1) + 1`.
        span: usize,
        /// The input length.
        n: usize,
        /// `⌊(n − span)/s⌋ + 1`, zero or negative.
        would: i128,
    },
    /// Checked arithmetic caught an overflow.
    #[error("{what} overflows 64-bit arithmetic")]
    Overflow { what: &'static str },
    /// A class name Flatland does not know.
    #[error("layer class `{class}` is not supported by Flatland")]
    Unsupported { class: String },
    /// Loaded weights do not fit.
    #[error("weight {index} (`{weight}`) should have shape {expected:?} but has {got:?}")]
    WeightShape {
        index: usize,
        weight: &'static str,
        expected: Vec<usize>,
        got: Vec<usize>,
    },
    /// Fewer weight arrays than the layer needs.
    #[error("needs {expected} weight arrays but only {got} were given")]
    MissingWeights { expected: usize, got: usize },
    /// Forward input does not fit the model.
    #[error("input tensor has shape {got:?} but the model expects (batch, {expected})")]
    InputShape { expected: String, got: Vec<usize> },
    /// The size guard refused the work.
    #[error("{what} is {amount}, above the limit of {limit} ({factor:.1}× too large)")]
    TooLarge {
        what: &'static str,
        amount: u64,
        limit: u64,
        factor: f64,
    },
    /// Forward input values not valid for this layer (e.g. embedding index out of range).
    #[error("{message}")]
    Value { message: String },
}

/// `"height axis: "` for a named axis, nothing otherwise.
fn axis_prefix(axis: Option<&str>) -> String {
    axis.map(|a| format!("{a} axis: ")).unwrap_or_default()
}

impl Problem {
    pub fn config(field: &'static str, message: impl Into<String>) -> Self {
        Problem::Config {
            field,
            message: message.into(),
        }
    }
    pub fn geometry(message: impl Into<String>) -> Self {
        Problem::Geometry {
            message: message.into(),
        }
    }
    pub fn rank(expected: impl Into<String>, got: &Shape) -> Self {
        Problem::Rank {
            expected: expected.into(),
            got: got.clone(),
        }
    }
}

/// A [`Problem`] located at one layer of a model.
#[derive(Debug, Clone, PartialEq)]
pub struct LayerError {
    /// 0-based index among the model's layers (the input is not a layer).
    pub index: usize,
    pub name: String,
    pub class_name: String,
    /// The input shape the layer received, when known.
    pub input: Option<Shape>,
    pub problem: Problem,
}

impl fmt::Display for LayerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} `{}` (layer {}): ",
            self.class_name,
            self.name,
            self.index + 1
        )?;
        match (&self.problem, &self.input) {
            (Problem::Rank { .. } | Problem::Unsupported { .. }, _) | (_, None) => {
                write!(f, "{}", self.problem)
            }
            (p, Some(input)) => write!(f, "{p} (input {input})"),
        }
    }
}

impl std::error::Error for LayerError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_names_layer_shape_and_expectation() {
        let e = LayerError {
            index: 0,
            name: "conv2d".into(),
            class_name: "Conv2D".into(),
            input: Some(Shape::new(vec![3, 2])),
            problem: Problem::rank(
                "a 3-D input (height, width, channels)",
                &Shape::new(vec![3, 2]),
            ),
        };
        assert_eq!(
            e.to_string(),
            "Conv2D `conv2d` (layer 1): needs a 3-D input (height, width, channels) but got (None, 3, 2)"
        );
    }
}
