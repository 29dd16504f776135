//! What a layer's training-mode forward pass hands to its backward pass ([`Trace`]) and what
//! the backward pass returns ([`Grads`]), with small helpers the family files share. The
//! backward passes themselves are [`crate::engine::LayerRules::backward`], one per kind in
//! its own family file; kinds without one refuse with
//! [`crate::engine::Problem::NotTrainable`].

use ndarray::{ArrayD, IxDyn};

use crate::engine::error::Problem;

/// A training-mode forward pass's result.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Trace {
    /// The layer's output.
    pub y: ArrayD<f32>,
    /// Whatever the kind keeps for its backward pass (pre-activations, masks, statistics).
    pub saved: Vec<ArrayD<f32>>,
    /// New values of non-trainable weights, by weight index (moving statistics).
    pub updates: Vec<(usize, ArrayD<f32>)>,
}

impl Trace {
    /// Just the output.
    pub fn plain(y: ArrayD<f32>) -> Self {
        Trace {
            y,
            ..Trace::default()
        }
    }
    /// The output and what the backward pass needs.
    pub fn saving(y: ArrayD<f32>, saved: Vec<ArrayD<f32>>) -> Self {
        Trace {
            y,
            saved,
            updates: Vec::new(),
        }
    }
    /// Saved array `i`.
    ///
    /// # Errors
    /// [`Problem::Layout`] when the forward pass saved fewer arrays.
    pub fn saved(&self, i: usize) -> Result<&ArrayD<f32>, Problem> {
        self.saved
            .get(i)
            .ok_or_else(|| Problem::layout("training trace lacks a saved array"))
    }
}

/// Gradients of the loss with respect to a layer's input and weights.
#[derive(Debug, Clone, PartialEq)]
pub struct Grads {
    pub dx: ArrayD<f32>,
    /// One per weight, `get_weights()` order (zeros for non-trainable weights).
    pub dw: Vec<ArrayD<f32>>,
}

impl Grads {
    /// A layer without weights.
    pub fn input(dx: ArrayD<f32>) -> Self {
        Grads { dx, dw: Vec::new() }
    }
}

/// `dy` laid out in `x`'s shape (Flatten, Reshape and other pure re-layouts).
///
/// # Errors
/// [`Problem::Reshape`] when the element counts differ.
pub fn reshape_to(dy: &ArrayD<f32>, shape: &[usize]) -> Result<ArrayD<f32>, Problem> {
    dy.as_standard_layout()
        .into_owned()
        .into_shape_with_order(IxDyn(shape))
        .map_err(|_| Problem::Reshape {
            from: dy.shape().to_vec(),
            to: shape.to_vec(),
        })
}

/// Check a gradient has the shape of the tensor it belongs to.
///
/// # Errors
/// [`Problem::Reshape`] on a mismatch.
pub fn check_same_shape(dy: &ArrayD<f32>, y: &ArrayD<f32>) -> Result<(), Problem> {
    if dy.shape() == y.shape() {
        Ok(())
    } else {
        Err(Problem::Reshape {
            from: dy.shape().to_vec(),
            to: y.shape().to_vec(),
        })
    }
}
