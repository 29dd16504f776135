//! Typed errors. A [`Problem`] says what is wrong with one layer given its input; the
//! model driver wraps it in a [`LayerError`] that names the layer, its class and input.

use super::shape::Shape;
use super::summary::commas;
use std::fmt;

/// What a layer rule found wrong. Messages read as the end of a sentence that starts with
/// the layer's class name, e.g. "`Conv2D` needs a 3-D input (height, width, channels) but
/// got (None, 3, 2)".
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum Problem {
    /// Input rank is not what the layer accepts.
    #[error("needs {expected} but got {got}")]
    Rank { expected: RankNeed, got: Shape },
    /// Permute's `dims` do not name every non-batch axis of the input.
    #[error("needs a {}-D input to match dims {dims:?} but got {got}", dims.len() + 1)]
    PermuteRank { dims: Vec<usize>, got: Shape },
    /// A setting is out of its valid range (Keras refuses it at construction).
    #[error("`{field}` {message}")]
    Config {
        field: &'static str,
        message: String,
    },
    /// Reshape's target does not hold exactly the input's values.
    #[error("cannot reshape {input} ({values} values) to {target:?}{}", reshape_why(*values, *known, *with_unknown))]
    ReshapeSize {
        input: Shape,
        /// Values in one sample of the input.
        values: u64,
        target: Vec<i64>,
        /// The product of the target's known (positive) entries.
        known: u64,
        /// The target has a `-1` entry.
        with_unknown: bool,
    },
    /// Cropping removes a whole axis.
    #[error("cropping {before} + {after} = {} leaves nothing of the {axis} axis of size {n}", before.saturating_add(*after))]
    Cropped {
        axis: &'static str,
        before: usize,
        after: usize,
        n: usize,
    },
    /// A grouped convolution's input channels are not a multiple of `groups`.
    #[error("input channels {channels} are not divisible by groups {groups}")]
    GroupsDivide { channels: usize, groups: usize },
    /// A loaded kernel was made for another input size.
    #[error("kernel expects {expected} {what} but input has {got}")]
    KernelFit {
        /// What the kernel's size counts (`features`, `input channels`).
        what: &'static str,
        expected: usize,
        got: usize,
    },
    /// A loaded grouped-convolution kernel does not fit the input channels.
    #[error("kernel {kernel:?} does not fit {channels} input channels in {groups} group(s)")]
    KernelGroups {
        kernel: Vec<usize>,
        channels: usize,
        groups: usize,
    },
    /// A loaded weight array has the wrong number of axes.
    #[error("`{weight}` must be {rank}-D, got shape {got:?}")]
    WeightRank {
        weight: &'static str,
        rank: usize,
        got: Vec<usize>,
    },
    /// A batch could not be laid out as `to` (its element count differs).
    #[error("cannot reshape {from:?} to {to:?}")]
    Reshape { from: Vec<usize>, to: Vec<usize> },
    /// An array was not laid out as the computation needs. Shape inference validates every
    /// input first, so this names an engine invariant, not a user mistake.
    #[error("internal array layout: {what}")]
    Layout { what: &'static str },
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
    #[error("{what} is {}, above the limit of {} ({factor:.1}× too large)", commas(*amount), commas(*limit))]
    TooLarge {
        what: &'static str,
        amount: u64,
        limit: u64,
        factor: f64,
    },
    /// Forward input values not valid for this layer (e.g. embedding index out of range).
    #[error("{message}")]
    Value { message: String },
    /// This layer kind has no backward pass yet, so a model holding it cannot train.
    #[error("training this layer kind is not supported yet")]
    NotTrainable,
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
    /// [`Problem::Layout`].
    pub fn layout(what: &'static str) -> Self {
        Problem::Layout { what }
    }
    /// [`Problem::Rank`].
    pub fn rank(expected: RankNeed, got: &Shape) -> Self {
        Problem::Rank {
            expected,
            got: got.clone(),
        }
    }
}

/// The tail of [`Problem::ReshapeSize`]'s message.
fn reshape_why(values: u64, known: u64, with_unknown: bool) -> String {
    if with_unknown {
        format!(": {values} is not divisible by {known}")
    } else {
        format!(" ({known} values)")
    }
}

/// The input rank a layer needs, counting the batch axis as Keras's messages do, and what
/// its axes mean: "a 3-D input (batch, timesteps, features)".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RankNeed {
    pub rank: usize,
    /// `rank` or more axes (Dense), rather than exactly `rank`.
    pub at_least: bool,
    /// The axes in words, e.g. `(height, width, channels)`.
    pub axes: &'static str,
}

impl RankNeed {
    /// Exactly `rank` axes.
    pub const fn exactly(rank: usize, axes: &'static str) -> Self {
        RankNeed {
            rank,
            at_least: false,
            axes,
        }
    }
    /// `rank` or more axes.
    pub const fn at_least(rank: usize, axes: &'static str) -> Self {
        RankNeed {
            rank,
            at_least: true,
            axes,
        }
    }
}

impl fmt::Display for RankNeed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.at_least {
            write!(
                f,
                "an input with at least {} dimensions {}",
                self.rank, self.axes
            )
        } else {
            write!(f, "a {}-D input {}", self.rank, self.axes)
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
            (
                Problem::Rank { .. } | Problem::PermuteRank { .. } | Problem::Unsupported { .. },
                _,
            )
            | (_, None) => {
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
                RankNeed::exactly(3, "(height, width, channels)"),
                &Shape::new(vec![3, 2]),
            ),
        };
        assert_eq!(
            e.to_string(),
            "Conv2D `conv2d` (layer 1): needs a 3-D input (height, width, channels) but got (None, 3, 2)"
        );
    }
}
