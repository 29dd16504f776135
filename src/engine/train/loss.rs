//! Keras 3 losses (`keras.losses`, JAX backend) and the `accuracy` metric as Keras resolves
//! it. Every loss reduces the last axis per sample (a mean, or a sum for the
//! cross-entropies) and then takes Keras's default `sum_over_batch_size` reduction: the
//! mean over the remaining elements. Probabilities are clipped to `[1e-7, 1 − 1e-7]`
//! (Keras's `epsilon()`), and the categorical ones are first divided by their sum, exactly
//! as `keras/src/backend/jax/nn.py` does; the gradients follow the same expressions
//! (zero where a clip is active).
//!
//! Targets of another shape than the output go through Keras's
//! `squeeze_or_expand_to_same_rank(y_true, y_pred)` (`keras/src/losses/loss.py`): when the
//! ranks differ by one and the longer has a trailing 1, that axis goes (or, for a rank-1
//! `y_true`, one is added to it). MSE, MAE and Huber then broadcast `y_true - y_pred` as
//! NumPy does (`ops.mean(ops.square(y_true - y_pred), axis=-1)`), and the reduction is the
//! mean over the broadcast result: `y` (N, 1) against an output (N, T, 1) compares every
//! position with its sample's target; `y` (N,) against (N, T, 1) is left at rank 1 and
//! broadcasts to (B, T, B) per batch, every prediction of the batch against every target of
//! the batch (Keras's numbers, batch by batch). The gradient sums over the broadcast axes.
//! The cross-entropies do not broadcast: Keras's `binary_crossentropy` and
//! `categorical_crossentropy` (`keras/src/backend/jax/nn.py`) raise unless target and output
//! have the same shape, the sparse one unless the labels have the output's shape up to its
//! last axis, and Flatland refuses the same targets.

use ndarray::{ArrayD, Axis, IxDyn};

use super::TrainError;

/// Keras's `backend.epsilon()`.
pub const EPSILON: f32 = 1e-7;

/// A Keras loss.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Loss {
    Mse,
    Mae,
    Huber,
    BinaryCrossentropy,
    CategoricalCrossentropy,
    SparseCategoricalCrossentropy,
}

impl Loss {
    /// Every loss, for tests and listings.
    pub const ALL: [Loss; 6] = [
        Loss::Mse,
        Loss::Mae,
        Loss::Huber,
        Loss::BinaryCrossentropy,
        Loss::CategoricalCrossentropy,
        Loss::SparseCategoricalCrossentropy,
    ];

    /// A Keras loss name (`keras.losses.get`'s strings).
    ///
    /// # Errors
    /// [`TrainError::UnknownLoss`].
    pub fn parse(name: &str) -> Result<Loss, TrainError> {
        Ok(match name {
            "mse" | "mean_squared_error" | "MeanSquaredError" => Loss::Mse,
            "mae" | "mean_absolute_error" | "MeanAbsoluteError" => Loss::Mae,
            "huber" | "huber_loss" | "Huber" => Loss::Huber,
            "binary_crossentropy" | "BinaryCrossentropy" => Loss::BinaryCrossentropy,
            "categorical_crossentropy" | "CategoricalCrossentropy" => Loss::CategoricalCrossentropy,
            "sparse_categorical_crossentropy" | "SparseCategoricalCrossentropy" => {
                Loss::SparseCategoricalCrossentropy
            }
            other => return Err(TrainError::UnknownLoss(other.to_string())),
        })
    }

    /// The canonical Keras name.
    pub fn name(self) -> &'static str {
        match self {
            Loss::Mse => "mean_squared_error",
            Loss::Mae => "mean_absolute_error",
            Loss::Huber => "huber",
            Loss::BinaryCrossentropy => "binary_crossentropy",
            Loss::CategoricalCrossentropy => "categorical_crossentropy",
            Loss::SparseCategoricalCrossentropy => "sparse_categorical_crossentropy",
        }
    }

    /// `y_true` laid out for this loss against predictions of shape `pred` (batch
    /// included): the same shape, or (as Keras's `squeeze_or_expand_to_same_rank`) one
    /// trailing 1 more or less; for MSE, MAE and Huber also any `y` that broadcasts against
    /// the output whatever the batch size (returned as it is: [`Loss::value_and_grad`]
    /// broadcasts each batch as Keras does). For the sparse loss, integer labels of shape
    /// `pred[..-1]` (or with a trailing 1) in `0..classes`.
    ///
    /// # Errors
    /// [`TrainError::Data`] naming the shapes or the bad label, for the targets Keras refuses
    /// too.
    pub fn check_targets(self, pred: &[usize], y: &ArrayD<f32>) -> Result<ArrayD<f32>, TrainError> {
        let (last, lead) = pred
            .split_last()
            .ok_or_else(|| TrainError::Data("the model output has no axes".into()))?;
        let bad = |why: &str| {
            TrainError::Data(format!(
                "y has shape {:?}, which does not fit the model output {:?} for loss {}: {why}",
                y.shape(),
                pred,
                self.name()
            ))
        };
        if self == Loss::SparseCategoricalCrossentropy {
            let fits = y.shape() == lead
                || (y.shape().len() == pred.len()
                    && y.shape()[..lead.len()] == *lead
                    && y.shape().last() == Some(&1));
            if !fits {
                return Err(bad(&format!(
                    "the labels must have the output's shape without its class axis, {lead:?} \
                     (or with a trailing 1), as Keras requires"
                )));
            }
            if let Some(v) = y.iter().find(|v| {
                !(v.is_finite() && v.fract() == 0.0 && **v >= 0.0 && (**v as usize) < *last)
            }) {
                return Err(TrainError::Data(format!(
                    "y holds the label {v}, not a class index in 0..{last} for sparse_categorical_crossentropy"
                )));
            }
            return y
                .clone()
                .into_shape_with_order(IxDyn(lead))
                .map_err(|_| bad("labels layout"));
        }
        if y.iter().any(|v| !v.is_finite()) {
            return Err(TrainError::Data("y holds NaN or infinite values".into()));
        }
        if y.shape() == pred {
            return Ok(y.clone());
        }
        let (ys, ps) = same_rank(y.shape(), pred);
        if ys == ps {
            return y
                .as_standard_layout()
                .into_owned()
                .into_shape_with_order(IxDyn(pred))
                .map_err(|_| bad("layout"));
        }
        if !self.broadcasts() {
            return Err(bad(
                "this loss needs y of the output's shape (Keras does not broadcast it)",
            ));
        }
        broadcast_rows(&ys, &ps).map_err(|why| bad(&why))?;
        Ok(y.clone())
    }

    /// MSE, MAE and Huber broadcast `y_true` against `y_pred`; the cross-entropies do not.
    fn broadcasts(self) -> bool {
        matches!(self, Loss::Mse | Loss::Mae | Loss::Huber)
    }

    /// One element's loss and its derivative with respect to the prediction `pi`.
    fn element(self, pi: f32, ti: f32) -> (f32, f32) {
        let eps = EPSILON;
        let e = pi - ti;
        match self {
            Loss::Mse => (e * e, 2.0 * e),
            Loss::Mae => (
                e.abs(),
                if e > 0.0 {
                    1.0
                } else if e < 0.0 {
                    -1.0
                } else {
                    0.0
                },
            ),
            Loss::Huber => {
                if e.abs() <= 1.0 {
                    (0.5 * e * e, e)
                } else {
                    (e.abs() - 0.5, e.signum())
                }
            }
            _ => {
                let q = pi.clamp(eps, 1.0 - eps);
                let v = -(ti * q.ln() + (1.0 - ti) * (1.0 - q).ln());
                let inside = pi > eps && pi < 1.0 - eps;
                let d = if inside {
                    -ti / q + (1.0 - ti) / (1.0 - q)
                } else {
                    0.0
                };
                (v, d)
            }
        }
    }

    /// Value and gradient when `y` broadcasts against `pred` (MSE, MAE, Huber): the mean of
    /// the element losses over the broadcast shape, the gradient summed back over the axes
    /// `pred` was broadcast along.
    fn broadcast_value_and_grad(
        self,
        pred: &ArrayD<f32>,
        y: &ArrayD<f32>,
    ) -> Result<(f32, ArrayD<f32>), TrainError> {
        let mismatch = |why: String| {
            TrainError::Data(format!(
                "y has shape {:?} but the model output has {:?}: {why}",
                y.shape(),
                pred.shape()
            ))
        };
        let (ys, ps) = same_rank(y.shape(), pred.shape());
        let full = broadcast_shape(&ys, &ps).map_err(mismatch)?;
        let layout = || mismatch("layout".into());
        let y2 = y
            .as_standard_layout()
            .into_owned()
            .into_shape_with_order(IxDyn(&ys))
            .map_err(|_| layout())?;
        let p2 = pred
            .as_standard_layout()
            .into_owned()
            .into_shape_with_order(IxDyn(&ps))
            .map_err(|_| layout())?;
        let yb = y2.broadcast(IxDyn(&full)).ok_or_else(layout)?;
        let pb = p2.broadcast(IxDyn(&full)).ok_or_else(layout)?;
        let c = full.last().copied().unwrap_or(1).max(1);
        let count: usize = full.iter().product();
        let rows = count / c;
        let k = 1.0 / rows.max(1) as f32 / c as f32;
        let mut grad = Vec::with_capacity(count);
        let (mut total, mut row, mut i) = (0f64, 0f32, 0usize);
        for (&pi, &ti) in pb.iter().zip(yb.iter()) {
            let (v, d) = self.element(pi, ti);
            row += v;
            grad.push(d * k);
            i += 1;
            if i == c {
                total += f64::from(row / c as f32);
                (row, i) = (0.0, 0);
            }
        }
        let value = (total / rows.max(1) as f64) as f32;
        let mut g = ArrayD::from_shape_vec(IxDyn(&full), grad).map_err(|_| layout())?;
        // Sum over the axes pred was broadcast along (its shape padded with leading 1s).
        let pad = full.len() - ps.len();
        for axis in 0..full.len() {
            let own = if axis < pad { 1 } else { ps[axis - pad] };
            if own == 1 && full[axis] != 1 {
                g = g.sum_axis(Axis(axis)).insert_axis(Axis(axis));
            }
        }
        let g = g
            .as_standard_layout()
            .into_owned()
            .into_shape_with_order(IxDyn(pred.shape()))
            .map_err(|_| layout())?;
        Ok((value, g))
    }

    /// The loss value (Keras's reduction) and its gradient with respect to `pred`.
    /// `y` is the output of [`Loss::check_targets`].
    ///
    /// # Errors
    /// [`TrainError::Data`] when the shapes do not fit.
    pub fn value_and_grad(
        self,
        pred: &ArrayD<f32>,
        y: &ArrayD<f32>,
    ) -> Result<(f32, ArrayD<f32>), TrainError> {
        let shape = pred.shape().to_vec();
        let Some((&c, lead)) = shape.split_last() else {
            return Err(TrainError::Data("the model output has no axes".into()));
        };
        let sparse = self == Loss::SparseCategoricalCrossentropy;
        if !sparse && y.shape() != shape.as_slice() {
            let (ys, ps) = same_rank(y.shape(), &shape);
            if ys == ps {
                let y = y
                    .as_standard_layout()
                    .into_owned()
                    .into_shape_with_order(IxDyn(&shape))
                    .map_err(|_| TrainError::Data("y layout".into()))?;
                return self.value_and_grad(pred, &y);
            }
            if self.broadcasts() {
                return self.broadcast_value_and_grad(pred, y);
            }
        }
        if (sparse && y.shape() != lead) || (!sparse && y.shape() != shape.as_slice()) {
            return Err(TrainError::Data(format!(
                "y has shape {:?} but the model output has {:?}",
                y.shape(),
                shape
            )));
        }
        let rows: usize = lead.iter().product();
        let p = pred.as_standard_layout();
        let pv = p.as_slice().unwrap_or(&[]);
        let yl = y.as_standard_layout();
        let yv = yl.as_slice().unwrap_or(&[]);
        let mut grad = vec![0f32; pv.len()];
        let mut total = 0f64;
        // d(total / rows) / d(per-sample loss)
        let scale = 1.0 / rows.max(1) as f32;
        let eps = EPSILON;
        for r in 0..rows {
            let pr = &pv[r * c..(r + 1) * c];
            let g = &mut grad[r * c..(r + 1) * c];
            let per = match self {
                Loss::Mse | Loss::Mae | Loss::Huber | Loss::BinaryCrossentropy => {
                    let yr = &yv[r * c..(r + 1) * c];
                    let mut s = 0f32;
                    let k = scale / c as f32;
                    for i in 0..c {
                        let (v, d) = self.element(pr[i], yr[i]);
                        s += v;
                        g[i] = d * k;
                    }
                    s / c as f32
                }
                Loss::CategoricalCrossentropy | Loss::SparseCategoricalCrossentropy => {
                    let onehot: Vec<f32> = if sparse {
                        let label = yv[r] as usize;
                        (0..c).map(|i| if i == label { 1.0 } else { 0.0 }).collect()
                    } else {
                        yv[r * c..(r + 1) * c].to_vec()
                    };
                    let sum: f32 = pr.iter().sum();
                    let mut v = 0f32;
                    // q_j = p_j / S, clipped; L = -Σ t_j log q_j.
                    // dL/dp_i = Σ_j (-t_j / q_j)·[q_j unclipped]·(δ_ij / S − p_j / S²).
                    let mut dq = vec![0f32; c];
                    for j in 0..c {
                        let q = pr[j] / sum;
                        let qc = q.clamp(eps, 1.0 - eps);
                        v -= onehot[j] * qc.ln();
                        if q > eps && q < 1.0 - eps {
                            dq[j] = -onehot[j] / qc;
                        }
                    }
                    let cross: f32 = (0..c).map(|j| dq[j] * pr[j]).sum::<f32>() / (sum * sum);
                    for i in 0..c {
                        g[i] = (dq[i] / sum - cross) * scale;
                    }
                    v
                }
            };
            total += f64::from(per);
        }
        let value = (total / rows.max(1) as f64) as f32;
        let grad = ArrayD::from_shape_vec(IxDyn(&shape), grad)
            .map_err(|_| TrainError::Data("loss gradient layout".into()))?;
        Ok((value, grad))
    }
}

/// Keras's `squeeze_or_expand_to_same_rank(y_true, y_pred)` on shapes: when the ranks differ
/// by one and the longer one ends in 1, that axis is squeezed, except that a rank-1 `y_true`
/// gets a trailing 1 instead.
fn same_rank(y: &[usize], p: &[usize]) -> (Vec<usize>, Vec<usize>) {
    let (mut y, mut p) = (y.to_vec(), p.to_vec());
    if y.len() == p.len() + 1 && y.last() == Some(&1) {
        y.pop();
    } else if p.len() == y.len() + 1 && p.last() == Some(&1) {
        if y.len() == 1 {
            y.push(1);
        } else {
            p.pop();
        }
    }
    (y, p)
}

/// NumPy's broadcast of two shapes (aligned on the right).
fn broadcast_shape(a: &[usize], b: &[usize]) -> Result<Vec<usize>, String> {
    let n = a.len().max(b.len());
    let at = |s: &[usize], i: usize| (i + s.len()).checked_sub(n).map_or(1, |j| s[j]);
    (0..n)
        .map(|i| match (at(a, i), at(b, i)) {
            (x, y) if x == y || y == 1 => Ok(x),
            (1, y) => Ok(y),
            _ => Err(format!("the shapes {a:?} and {b:?} do not broadcast")),
        })
        .collect()
}

/// Whether `y` (after [`same_rank`]) broadcasts against the output for every batch size:
/// each axis 0 (the samples) may meet only the other's samples axis, a 1, or nothing.
fn broadcast_rows(y: &[usize], p: &[usize]) -> Result<(), String> {
    let n = y.len().max(p.len());
    // Per aligned axis: Some(size), or None for a samples axis.
    let axis = |s: &[usize], i: usize| match (i + s.len()).checked_sub(n) {
        None => Some(1),
        Some(0) => None,
        Some(j) => Some(s[j]),
    };
    for i in 0..n {
        match (axis(y, i), axis(p, i)) {
            (None, None | Some(1)) | (Some(1), None) => {}
            (None, Some(k)) | (Some(k), None) => {
                return Err(format!(
                    "broadcasting them pairs the samples axis with an axis of size {k}, which \
                     Keras refuses for every batch size but {k}"
                ))
            }
            (Some(a), Some(b)) if a == b || a == 1 || b == 1 => {}
            (Some(a), Some(b)) => {
                return Err(format!("axes of sizes {a} and {b} do not broadcast"));
            }
        }
    }
    Ok(())
}

/// Which accuracy Keras's `"accuracy"` becomes (`compile_utils.get_metric`): binary when the
/// output's last axis is 1, sparse categorical when `y` has fewer axes than the output (or
/// a trailing 1 against several classes), categorical otherwise.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Accuracy {
    Binary,
    Sparse,
    Categorical,
}

impl Accuracy {
    /// Keras's resolution from the shapes of the raw `y` and of the output.
    pub fn resolve(y_shape: &[usize], pred_shape: &[usize]) -> Accuracy {
        let p_last = pred_shape.last().copied().unwrap_or(0);
        let y_last = y_shape.last().copied().unwrap_or(0);
        if p_last == 1 {
            Accuracy::Binary
        } else if y_shape.len() < pred_shape.len() || (y_last == 1 && p_last > 1) {
            Accuracy::Sparse
        } else {
            Accuracy::Categorical
        }
    }

    /// Sum over the batch of each sample's accuracy (the mean of its matches), and the
    /// number of samples. `y` is the raw target batch.
    ///
    /// # Errors
    /// [`TrainError::Data`] when `y` does not fit the output.
    pub fn batch(self, pred: &ArrayD<f32>, y: &ArrayD<f32>) -> Result<(f64, usize), TrainError> {
        let b = pred.shape().first().copied().unwrap_or(0);
        let c = pred.shape().last().copied().unwrap_or(1).max(1);
        let p = pred.as_standard_layout();
        let pv = p.as_slice().unwrap_or(&[]);
        let yl = y.as_standard_layout();
        let yv = yl.as_slice().unwrap_or(&[]);
        let per_sample = |total: usize| total / b.max(1);
        let argmax = |row: &[f32]| {
            row.iter()
                .enumerate()
                .fold((0usize, f32::NEG_INFINITY), |(bi, bv), (i, &v)| {
                    if v > bv {
                        (i, v)
                    } else {
                        (bi, bv)
                    }
                })
                .0
        };
        let mismatch = || {
            TrainError::Data(format!(
                "y has shape {:?}, which does not fit the model output {:?} for accuracy",
                y.shape(),
                pred.shape()
            ))
        };
        let mut sum = 0f64;
        match self {
            Accuracy::Binary => {
                if yv.len() != pv.len() {
                    return Err(mismatch());
                }
                let n = per_sample(pv.len()).max(1);
                for s in 0..b {
                    let hits = (0..n)
                        .filter(|&i| {
                            let k = s * n + i;
                            let guess = if pv[k] > 0.5 { 1.0 } else { 0.0 };
                            yv[k] == guess
                        })
                        .count();
                    sum += hits as f64 / n as f64;
                }
            }
            Accuracy::Sparse | Accuracy::Categorical => {
                let rows = pv.len() / c;
                let n = per_sample(rows).max(1);
                let want = |r: usize| -> Result<f32, TrainError> {
                    match self {
                        Accuracy::Sparse => yv.get(r).copied().ok_or_else(mismatch),
                        _ => yv
                            .get(r * c..(r + 1) * c)
                            .map(|row| argmax(row) as f32)
                            .ok_or_else(mismatch),
                    }
                };
                if (self == Accuracy::Sparse && yv.len() != rows)
                    || (self == Accuracy::Categorical && yv.len() != pv.len())
                {
                    return Err(mismatch());
                }
                for s in 0..b {
                    let mut hits = 0usize;
                    for i in 0..n {
                        let r = s * n + i;
                        if argmax(&pv[r * c..(r + 1) * c]) as f32 == want(r)? {
                            hits += 1;
                        }
                    }
                    sum += hits as f64 / n as f64;
                }
            }
        }
        Ok((sum, b))
    }
}

/// Rows of `a` (axis 0) at `idx`, as a new array: ndarray's `select`, with the rows of a
/// contiguous array copied as slices (`select` on a dynamic-rank array concatenates one row
/// view at a time: 8 % of a small CNN's training step).
pub fn take_rows(a: &ArrayD<f32>, idx: &[usize]) -> ArrayD<f32> {
    let (Some(v), Some((_, rest))) = (a.as_slice(), a.shape().split_first()) else {
        return a.select(Axis(0), idx);
    };
    let row: usize = rest.iter().product();
    let mut out = Vec::with_capacity(idx.len() * row);
    for &i in idx {
        match v.get(i * row..(i + 1) * row) {
            Some(r) => out.extend_from_slice(r),
            None => return a.select(Axis(0), idx),
        }
    }
    let mut shape = a.shape().to_vec();
    shape[0] = idx.len();
    ArrayD::from_shape_vec(IxDyn(&shape), out).unwrap_or_else(|_| a.select(Axis(0), idx))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::rng::Rng;

    fn random(rng: &mut Rng, shape: &[usize], lo: f32, hi: f32) -> ArrayD<f32> {
        ArrayD::from_shape_simple_fn(IxDyn(shape), || rng.uniform(lo, hi))
    }

    /// Each loss's gradient against central finite differences of its value.
    #[test]
    fn loss_gradients_match_finite_differences() {
        let mut rng = Rng::new(5);
        for loss in Loss::ALL {
            for _ in 0..5 {
                let shape = [3usize, 4];
                let mut pred = random(&mut rng, &shape, 0.05, 0.9);
                if matches!(
                    loss,
                    Loss::CategoricalCrossentropy | Loss::SparseCategoricalCrossentropy
                ) {
                    let s = pred.sum_axis(Axis(1)).insert_axis(Axis(1));
                    pred = &pred / &s;
                }
                let y = match loss {
                    Loss::SparseCategoricalCrossentropy => {
                        ArrayD::from_shape_simple_fn(IxDyn(&[3]), || {
                            (rng.unit() * 4.0).floor() as f32
                        })
                    }
                    Loss::BinaryCrossentropy => random(&mut rng, &shape, 0.0, 1.0).mapv(f32::round),
                    Loss::CategoricalCrossentropy => {
                        let mut y = ArrayD::zeros(IxDyn(&shape));
                        for r in 0..3 {
                            y[[r, (rng.unit() * 4.0) as usize % 4]] = 1.0;
                        }
                        y
                    }
                    _ => random(&mut rng, &shape, -1.0, 2.0),
                };
                let (_, g) = loss.value_and_grad(&pred, &y).unwrap();
                let h = 1e-3f32;
                for i in 0..pred.len() {
                    let mut a = pred.clone();
                    let mut b = pred.clone();
                    a.as_slice_mut().unwrap()[i] += h;
                    b.as_slice_mut().unwrap()[i] -= h;
                    let fa = f64::from(loss.value_and_grad(&a, &y).unwrap().0);
                    let fb = f64::from(loss.value_and_grad(&b, &y).unwrap().0);
                    let num = (fa - fb) / (2.0 * f64::from(h));
                    let got = f64::from(g.as_slice().unwrap()[i]);
                    assert!(
                        (num - got).abs() <= 2e-3 + 2e-2 * num.abs(),
                        "{loss:?} {i}: {got} vs {num}"
                    );
                }
            }
        }
    }

    #[test]
    fn bad_targets_are_data_errors() {
        let y = ArrayD::from_shape_vec(IxDyn(&[2]), vec![0.0, 3.0]).unwrap();
        let e = Loss::SparseCategoricalCrossentropy.check_targets(&[2, 3], &y);
        assert!(matches!(e, Err(TrainError::Data(_))), "{e:?}");
        let y = ArrayD::zeros(IxDyn(&[2, 4]));
        assert!(Loss::Mse.check_targets(&[2, 3], &y).is_err());
        assert!(Loss::parse("nope").is_err());
    }

    /// Keras's broadcasting: y (B, 1) and y (B,) against an output (B, T, 1), values as the
    /// broadcast mean and gradients against finite differences.
    #[test]
    fn broadcast_targets_follow_keras() {
        let mut rng = Rng::new(9);
        let pred = random(&mut rng, &[3, 4, 1], -1.0, 1.0);
        let y1 = random(&mut rng, &[3, 1], -1.0, 1.0);
        let y0 = y1.clone().into_shape_with_order(IxDyn(&[3])).unwrap();
        for loss in [Loss::Mse, Loss::Mae, Loss::Huber] {
            for y in [&y1, &y0] {
                assert_eq!(&loss.check_targets(&[3, 4, 1], y).unwrap(), y);
                let (v, g) = loss.value_and_grad(&pred, y).unwrap();
                assert_eq!(g.shape(), pred.shape());
                // y (3, 1): position t of sample n against y[n]; y (3,): against every y[m].
                let mut want = 0f64;
                let pairs = if y.ndim() == 2 { 1 } else { 3 };
                for n in 0..3 {
                    for t in 0..4 {
                        for m in 0..pairs {
                            let target = if pairs == 1 { y1[[n, 0]] } else { y1[[m, 0]] };
                            want += f64::from(loss.element(pred[[n, t, 0]], target).0);
                        }
                    }
                }
                want /= (12 * pairs) as f64;
                assert!(
                    (f64::from(v) - want).abs() < 1e-5,
                    "{loss:?} {:?}",
                    y.shape()
                );
                let h = 1e-3f32;
                for i in 0..pred.len() {
                    let mut a = pred.clone();
                    let mut b = pred.clone();
                    a.as_slice_mut().unwrap()[i] += h;
                    b.as_slice_mut().unwrap()[i] -= h;
                    let fa = f64::from(loss.value_and_grad(&a, y).unwrap().0);
                    let fb = f64::from(loss.value_and_grad(&b, y).unwrap().0);
                    let num = (fa - fb) / (2.0 * f64::from(h));
                    let got = f64::from(g.as_slice().unwrap()[i]);
                    assert!((num - got).abs() <= 1e-3 + 1e-2 * num.abs(), "{loss:?} {i}");
                }
            }
        }
        // The trailing 1 either side is only a layout.
        let y = ArrayD::zeros(IxDyn(&[3, 4]));
        assert_eq!(
            Loss::Mse.check_targets(&[3, 4, 1], &y).unwrap().shape(),
            &[3, 4, 1]
        );
        let y = ArrayD::zeros(IxDyn(&[3, 4, 1]));
        assert_eq!(
            Loss::Mae.check_targets(&[3, 4], &y).unwrap().shape(),
            &[3, 4]
        );
    }

    /// The targets Keras refuses (its messages in tests/fixtures/train/refusals).
    #[test]
    fn targets_keras_refuses_are_refused() {
        let labels = ArrayD::zeros(IxDyn(&[6]));
        let e = Loss::SparseCategoricalCrossentropy
            .check_targets(&[6, 3, 4], &labels)
            .unwrap_err()
            .to_string();
        assert!(e.contains("[6]") && e.contains("[6, 3]"), "{e}");
        let labels = ArrayD::zeros(IxDyn(&[6, 1]));
        assert!(Loss::SparseCategoricalCrossentropy
            .check_targets(&[6, 3, 4], &labels)
            .is_err());
        for y in [ArrayD::zeros(IxDyn(&[6, 1])), ArrayD::zeros(IxDyn(&[6]))] {
            let e = Loss::BinaryCrossentropy
                .check_targets(&[6, 20, 1], &y)
                .unwrap_err()
                .to_string();
            assert!(e.contains("does not broadcast"), "{e}");
        }
        let y = ArrayD::zeros(IxDyn(&[6, 3]));
        assert!(Loss::CategoricalCrossentropy
            .check_targets(&[6, 5, 3], &y)
            .is_err());
        // The samples axis against a feature axis: Keras fails for most batch sizes.
        let y = ArrayD::zeros(IxDyn(&[6]));
        let e = Loss::Mse
            .check_targets(&[6, 3], &y)
            .unwrap_err()
            .to_string();
        assert!(e.contains("samples axis"), "{e}");
        let y = ArrayD::zeros(IxDyn(&[6, 1]));
        assert!(Loss::Mse.check_targets(&[6, 4, 4, 1], &y).is_err());
    }

    #[test]
    fn accuracy_resolution_follows_shapes() {
        assert_eq!(Accuracy::resolve(&[8, 1], &[8, 1]), Accuracy::Binary);
        assert_eq!(Accuracy::resolve(&[8], &[8, 3]), Accuracy::Sparse);
        assert_eq!(Accuracy::resolve(&[8, 1], &[8, 3]), Accuracy::Sparse);
        assert_eq!(Accuracy::resolve(&[8, 3], &[8, 3]), Accuracy::Categorical);
    }
}
