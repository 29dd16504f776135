//! The training side of a layer kind: [`LayerGrad`], its training-mode forward pass and
//! backward pass, implemented by each kind in its own family file under `engine::layers`
//! (kinds without a backward pass keep the defaults, which refuse with
//! [`Problem::NotTrainable`]); what the forward pass hands to the backward pass
//! ([`Trace`]) and what the backward pass returns ([`Grads`]), with small helpers the
//! family files share. [`crate::engine::LayerSpec::grad`] dispatches to it.

use ndarray::{ArrayD, IxDyn};

use crate::engine::error::Problem;
use crate::engine::rng::Rng;

/// Training for one layer kind. A trait apart from [`crate::engine::LayerRules`] so that
/// code which only runs inference does not link any of it.
pub trait LayerGrad {
    /// Training-mode forward pass (Keras `training=True`): the output, what the backward
    /// pass needs, and new values of non-trainable weights (moving statistics). Random
    /// layers draw from `rng`.
    ///
    /// # Errors
    /// [`Problem::NotTrainable`] for kinds that cannot train yet; otherwise as
    /// [`crate::engine::LayerRules::forward`].
    fn train_forward(
        &self,
        _x: &ArrayD<f32>,
        _weights: &[ArrayD<f32>],
        _rng: &mut Rng,
    ) -> Result<Trace, Problem> {
        Err(Problem::NotTrainable)
    }

    /// Backward pass: from the gradient of the loss with respect to the output, the
    /// gradients with respect to the input and to every weight (zeros for non-trainable
    /// ones), in `get_weights()` order.
    ///
    /// # Errors
    /// [`Problem::NotTrainable`] for kinds that cannot train yet; arrays that do not fit.
    fn backward(
        &self,
        _x: &ArrayD<f32>,
        _weights: &[ArrayD<f32>],
        _trace: &Trace,
        _dy: &ArrayD<f32>,
    ) -> Result<Grads, Problem> {
        Err(Problem::NotTrainable)
    }
}

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

/// Training for a graph-only kind (merges): the inputs are a list. Its training-mode
/// forward pass is its inference pass (no merge kind is random or keeps statistics).
pub trait MultiGrad {
    /// Backward pass: from the gradient with respect to the output, one gradient per input
    /// (each in its input's shape: broadcast axes summed) and one per weight.
    ///
    /// # Errors
    /// [`Problem::NotTrainable`] for kinds that cannot train yet; arrays that do not fit.
    fn backward_multi(
        &self,
        _xs: &[&ArrayD<f32>],
        _weights: &[ArrayD<f32>],
        _dy: &ArrayD<f32>,
    ) -> Result<MultiGrads, Problem> {
        Err(Problem::NotTrainable)
    }
}

/// Gradients of the loss with respect to a graph-only layer's inputs and weights.
#[derive(Debug, Clone, PartialEq)]
pub struct MultiGrads {
    /// One per input, argument order.
    pub dxs: Vec<ArrayD<f32>>,
    /// One per weight, `get_weights()` order.
    pub dw: Vec<ArrayD<f32>>,
}

/// `g` (the gradient of a broadcast result) summed back to `shape`: leading axes Keras
/// inserted at axis 1 and axes of size 1 that were stretched.
///
/// # Errors
/// [`Problem::Reshape`] when `shape` does not broadcast to `g`'s shape.
pub fn unbroadcast(g: &ArrayD<f32>, shape: &[usize]) -> Result<ArrayD<f32>, Problem> {
    let bad = || Problem::Reshape {
        from: g.shape().to_vec(),
        to: shape.to_vec(),
    };
    if shape.is_empty() || shape.len() > g.ndim() {
        return Err(bad());
    }
    // The expanded shape: size-1 axes inserted at axis 1 (Keras's expand_dims rule).
    let mut expanded = shape.to_vec();
    while expanded.len() < g.ndim() {
        expanded.insert(1, 1);
    }
    let mut out = g.clone();
    for (axis, (&want, &have)) in expanded.iter().zip(g.shape()).enumerate() {
        if want == have {
            continue;
        }
        if want != 1 {
            return Err(bad());
        }
        out = out
            .sum_axis(ndarray::Axis(axis))
            .insert_axis(ndarray::Axis(axis));
    }
    reshape_to(&out, shape)
}
