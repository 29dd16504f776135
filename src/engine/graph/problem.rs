//! Typed errors of graph models: what a layer with several inputs refuses ([`GraphProblem`])
//! and where ([`GraphError`]). Kept apart from [`Problem`] so the page's chain-only first
//! module links none of it.

use std::fmt;

use thiserror::Error;

use crate::engine::error::Problem;
use crate::engine::shape::Shape;

/// Non-batch dims as Keras prints them in its merge errors: `(16, 16, 8)`.
pub fn dims_text(d: &[usize]) -> String {
    match d {
        [one] => format!("({one},)"),
        _ => format!(
            "({})",
            d.iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

fn shapes_text(shapes: &[Shape]) -> String {
    shapes
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// How many inputs a kind takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arity {
    Exactly(usize),
    AtLeast(usize),
    /// `MultiHeadAttention`: query and value, and an optional key.
    Between(usize, usize),
}

impl fmt::Display for Arity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = |n: usize| if n == 1 { "" } else { "s" };
        match *self {
            Arity::Exactly(n) => write!(f, "exactly {n} input{}", s(n)),
            Arity::AtLeast(n) => write!(f, "at least {n} input{}", s(n)),
            Arity::Between(a, b) => write!(f, "{a} to {b} inputs"),
        }
    }
}

impl Arity {
    /// Whether `n` inputs fit.
    pub fn fits(self, n: usize) -> bool {
        match self {
            Arity::Exactly(k) => n == k,
            Arity::AtLeast(k) => n >= k,
            Arity::Between(a, b) => (a..=b).contains(&n),
        }
    }
}

/// Why a layer of a graph model has no output.
#[derive(Debug, Clone, PartialEq, Error)]
#[non_exhaustive]
pub enum GraphProblem {
    /// What a one-input layer kind refuses (the chain's rules).
    #[error("{0}")]
    Layer(Problem),
    #[error("takes {expected} but is called on {got}")]
    Arity { expected: Arity, got: usize },
    /// Keras's elementwise merge rule: aligned from the last axis, each pair of sizes must be
    /// equal or one of them 1.
    #[error("inputs have incompatible shapes {} and {}: from the last axis on, each pair of sizes must be equal or one of them 1", dims_text(a), dims_text(b))]
    Broadcast { a: Vec<usize>, b: Vec<usize> },
    #[error(
        "inputs {} must match except on the concatenation axis {axis}",
        shapes_text(shapes)
    )]
    Concat { shapes: Vec<Shape>, axis: i64 },
    #[error("axis {axis} is out of range for an input of rank {rank} (batch included)")]
    Axis { axis: i64, rank: usize },
    #[error("the dot axes do not match: size {a} (axis {a_axis} of {}) ≠ size {b} (axis {b_axis} of {})", shapes[0], shapes[1])]
    DotAxes {
        shapes: [Shape; 2],
        a_axis: usize,
        b_axis: usize,
        a: usize,
        b: usize,
    },
    #[error("value {value} and key {key} must agree on every axis but the last")]
    KeyValue { value: Shape, key: Shape },
    /// Any other refusal with its reason, e.g. an attention setting.
    #[error("`{field}` {message}")]
    Config {
        field: &'static str,
        message: String,
    },
    /// A layer that could not be read, with the reason.
    #[error("{0}")]
    Unreadable(String),
    #[error("cannot merge tensors with different batch sizes {batches:?}")]
    Batch { batches: Vec<usize> },
    #[error("is part of a cycle: {}", path.join(" → "))]
    Cycle { path: Vec<String> },
    #[error("{what} is {}, above the limit of {}", crate::engine::summary::commas(*amount), crate::engine::summary::commas(*limit))]
    TooLarge {
        what: &'static str,
        amount: u64,
        limit: u64,
    },
}

impl From<Problem> for GraphProblem {
    fn from(p: Problem) -> Self {
        GraphProblem::Layer(p)
    }
}

impl GraphProblem {
    pub fn config(field: &'static str, message: impl Into<String>) -> Self {
        GraphProblem::Config {
            field,
            message: message.into(),
        }
    }
}

/// A [`GraphProblem`] at one layer of a graph model.
#[derive(Debug, Clone, PartialEq)]
pub struct GraphError {
    /// Index among the graph's layers (model order; inputs are not layers).
    pub index: usize,
    pub name: String,
    pub class_name: String,
    /// The shapes the layer received, in argument order.
    pub inputs: Vec<Shape>,
    pub problem: GraphProblem,
}

impl fmt::Display for GraphError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} `{}` (layer {}): {}",
            self.class_name,
            self.name,
            self.index + 1,
            self.problem
        )?;
        let shown = matches!(
            self.problem,
            GraphProblem::Broadcast { .. }
                | GraphProblem::Concat { .. }
                | GraphProblem::DotAxes { .. }
                | GraphProblem::KeyValue { .. }
                | GraphProblem::Cycle { .. }
                | GraphProblem::Layer(
                    Problem::Rank { .. }
                        | Problem::PermuteRank { .. }
                        | Problem::Unsupported { .. }
                )
        );
        match self.inputs.as_slice() {
            _ if shown => Ok(()),
            [] => Ok(()),
            [one] => write!(f, " (input {one})"),
            many => write!(f, " (inputs {})", shapes_text(many)),
        }
    }
}

impl std::error::Error for GraphError {}
