//! How a forward output is compared with Keras's `predict`, shared by the native fixture
//! suite (`tests/keras_fixtures.rs`) and the browser one (`tests/forward_web.rs)`: the same
//! shape, and every value within 1e-5 + 1e-4·|expected|.

use flatland::engine::forward::{forward, Limits, Weights};
use flatland::engine::{Analysis, Model};
use ndarray::ArrayD;

/// Run the model on `x` and say why its last output does not match Keras's `want`, if it
/// does not (a forward error counts as a mismatch).
pub fn forward_mismatch(
    model: &Model,
    a: &Analysis,
    w: &Weights,
    x: ArrayD<f32>,
    want: &ArrayD<f32>,
) -> Option<String> {
    match forward(model, a, w, x, Limits::default()) {
        Ok(outs) => match outs.last() {
            Some(got) => mismatch(got, want),
            None => Some("no output".into()),
        },
        Err(e) => Some(format!("forward error: {e}")),
    }
}

/// Why `got` does not match Keras's `want`, if it does not.
pub fn mismatch(got: &ArrayD<f32>, want: &ArrayD<f32>) -> Option<String> {
    if got.shape() != want.shape() {
        return Some(format!(
            "shape {:?} vs Keras {:?}",
            got.shape(),
            want.shape()
        ));
    }
    let mut worst = 0.0f32;
    let ok = got.iter().zip(want.iter()).all(|(&g, &e)| {
        let d = (g - e).abs();
        worst = worst.max(d);
        d <= 1e-5 + 1e-4 * e.abs()
    });
    (!ok).then(|| format!("max abs err {worst:.3e}"))
}
