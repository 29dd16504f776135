//! Regularisation layers: `Dropout`, `SpatialDropout1D/2D`, `GaussianNoise`,
//! `GaussianDropout`, `AlphaDropout`. All are the identity at inference and keep the shape.

use ndarray::ArrayD;
use serde::{Deserialize, Serialize};
use std::marker::PhantomData;

use super::args::Rank;
use super::code::{py_float, KerasArgs, KerasTable, LayerCode, Torch};
use super::{Explanation, LayerRules};
use crate::engine::error::{Problem, RankNeed};
use crate::engine::rng::Rng;
use crate::engine::shape::Shape;
use crate::engine::train::grad::{check_same_shape, Grads, LayerGrad, Trace};

fn rate_ok(rate: f32) -> Result<(), Problem> {
    if (0.0..=1.0).contains(&rate) {
        Ok(())
    } else {
        Err(Problem::config(
            "rate",
            format!("must be between 0 and 1, got {rate}"),
        ))
    }
}

fn identity_explain(kind: &str, input: &Shape) -> Explanation {
    Explanation::new(format!(
        "{kind} only acts while training; at inference it passes values through, so the shape is unchanged and there are no weights."
    ))
    .step(format!("output = input = {input}"))
}

macro_rules! noise_layer {
    ($(#[$doc:meta])* $name:ident, $field:ident, $default:expr, $kind:literal, $check:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
        #[serde(default)]
        pub struct $name {
            pub $field: f32,
            pub seed: Option<u64>,
        }
        impl Default for $name {
            fn default() -> Self {
                $name { $field: $default, seed: None }
            }
        }
        impl LayerRules for $name {
            fn output_shape(&self, input: &Shape) -> Result<Shape, Problem> {
                let check: fn(f32) -> Result<(), Problem> = $check;
                check(self.$field)?;
                Ok(input.clone())
            }
            fn forward(&self, x: &ArrayD<f32>, _w: &[ArrayD<f32>]) -> Result<ArrayD<f32>, Problem> {
                Ok(x.clone())
            }
            fn explain(&self, input: &Shape, _output: &Shape) -> Explanation {
                identity_explain($kind, input)
            }
            fn settings(&self) -> String {
                format!("{} {}", stringify!($field), self.$field)
            }
        }
        impl LayerGrad for $name {
            fn train_forward(&self, x: &ArrayD<f32>, _w: &[ArrayD<f32>], rng: &mut Rng) -> Result<Trace, Problem> {
                let (scale, offset) = Noise::draw(self, x.shape(), rng);
                let mut y = x * &scale;
                if let Some(o) = offset {
                    y += &o;
                }
                Ok(Trace::saving(y, vec![scale]))
            }
            fn backward(&self, x: &ArrayD<f32>, _w: &[ArrayD<f32>], t: &Trace, dy: &ArrayD<f32>) -> Result<Grads, Problem> {
                check_same_shape(dy, x)?;
                Ok(Grads::input(dy * t.saved(0)?))
            }
        }
    };
}

noise_layer!(
    /// `keras.layers.Dropout(rate)`.
    ///
    /// # Shapes
    /// Any `(None, ...)` → the same shape (the identity at inference); no weights.
    Dropout, rate, 0.5, "Dropout", rate_ok
);
noise_layer!(
    /// `keras.layers.GaussianDropout(rate)`.
    ///
    /// # Shapes
    /// Any `(None, ...)` → the same shape (the identity at inference); no weights.
    GaussianDropout, rate, 0.1, "GaussianDropout", rate_ok
);
noise_layer!(
    /// `keras.layers.AlphaDropout(rate)`.
    ///
    /// # Shapes
    /// Any `(None, ...)` → the same shape (the identity at inference); no weights.
    AlphaDropout, rate, 0.1, "AlphaDropout", rate_ok
);
noise_layer!(
    /// `keras.layers.GaussianNoise(stddev)`.
    ///
    /// # Shapes
    /// Any `(None, ...)` → the same shape (the identity at inference); no weights.
    GaussianNoise, stddev, 0.1, "GaussianNoise", |s| {
        if s >= 0.0 {
            Ok(())
        } else {
            Err(Problem::config("stddev", format!("must be >= 0, got {s}")))
        }
    }
);

/// `keras.layers.SpatialDropout1D/2D(rate)`: drops whole channels; needs a 3-D / 4-D input.
///
/// # Shapes
/// `(None, steps, C)` (1D) or `(None, H, W, C)` (2D) → the same shape; no weights.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
#[serde(bound = "")]
pub struct SpatialDropout<R: Rank> {
    #[serde(skip)]
    pub _kind: PhantomData<R>,
    pub rate: f32,
    pub seed: Option<u64>,
}

impl<R: Rank> Default for SpatialDropout<R> {
    fn default() -> Self {
        SpatialDropout {
            _kind: PhantomData,
            rate: 0.5,
            seed: None,
        }
    }
}

impl<R: Rank> LayerRules for SpatialDropout<R> {
    fn output_shape(&self, input: &Shape) -> Result<Shape, Problem> {
        rate_ok(self.rate)?;
        if input.rank() != R::N + 1 {
            let what = if R::N == 1 {
                "(batch, steps, channels)"
            } else {
                "(batch, height, width, channels)"
            };
            return Err(Problem::rank(RankNeed::exactly(R::N + 2, what), input));
        }
        Ok(input.clone())
    }
    fn forward(&self, x: &ArrayD<f32>, _w: &[ArrayD<f32>]) -> Result<ArrayD<f32>, Problem> {
        Ok(x.clone())
    }
    fn explain(&self, input: &Shape, _output: &Shape) -> Explanation {
        let rank = R::N;
        identity_explain(&format!("SpatialDropout{rank}D"), input)
    }
    fn settings(&self) -> String {
        format!("rate {}", self.rate)
    }
}
layer_grad!(
    impl<R: Rank> SpatialDropout<R>,
    |layer, x, _w, rng| {
        let (scale, offset) = Noise::draw(layer, x.shape(), rng);
        let mut y = x * &scale;
        if let Some(o) = offset {
            y += &o;
        }
        Ok(Trace::saving(y, vec![scale]))
    },
    |_, x, _w, t, dy| {
        check_same_shape(dy, x)?;
        Ok(Grads::input(dy * t.saved(0)?))
    }
);

// ---------------------------------------------------------------------------------------
// As code
// ---------------------------------------------------------------------------------------

const RATE_P: &[(&str, &str)] = &[("p", "use `rate=`")];

impl KerasTable for Dropout {
    const ARGS: KerasArgs = KerasArgs {
        removed: RATE_P,
        ..KerasArgs::with_required(&["rate", "noise_shape", "seed"], &["rate"])
    };
}

impl LayerCode for Dropout {
    fn torch(&self, t: &mut Torch, _inp: &[usize], _out: &[usize]) {
        t.push(format!("nn.Dropout({}),", py_float(f64::from(self.rate))));
    }
}

impl KerasTable for AlphaDropout {
    const ARGS: KerasArgs = KerasArgs {
        removed: RATE_P,
        ..KerasArgs::with_required(&["rate", "noise_shape", "seed"], &["rate"])
    };
}

impl LayerCode for AlphaDropout {
    fn torch(&self, t: &mut Torch, _inp: &[usize], _out: &[usize]) {
        t.push(format!(
            "nn.AlphaDropout({}),",
            py_float(f64::from(self.rate))
        ));
    }
}

/// `GaussianNoise` and `GaussianDropout` have no `nn` module: identity at inference.
fn torch_training_only(t: &mut Torch, class: &str) {
    t.note(format!(
        "{class} only acts in training and has no nn module; identity at inference"
    ));
    t.push("nn.Identity(),");
}

impl KerasTable for GaussianDropout {
    const ARGS: KerasArgs = KerasArgs {
        removed: RATE_P,
        ..KerasArgs::with_required(&["rate", "seed"], &["rate"])
    };
}

impl LayerCode for GaussianDropout {
    fn torch(&self, t: &mut Torch, _inp: &[usize], _out: &[usize]) {
        torch_training_only(t, "GaussianDropout");
    }
}

impl KerasTable for GaussianNoise {
    const ARGS: KerasArgs = KerasArgs::with_required(&["stddev", "seed"], &["stddev"]);
}

impl LayerCode for GaussianNoise {
    fn torch(&self, t: &mut Torch, _inp: &[usize], _out: &[usize]) {
        torch_training_only(t, "GaussianNoise");
    }
}

impl<R: Rank> KerasTable for SpatialDropout<R> {
    const ARGS: KerasArgs = KerasArgs {
        removed: RATE_P,
        ..KerasArgs::with_required(&["rate", "seed"], &["rate"])
    };
}

impl<R: Rank> LayerCode for SpatialDropout<R> {
    fn torch(&self, t: &mut Torch, _inp: &[usize], _out: &[usize]) {
        t.make_channels_first();
        t.push(format!(
            "nn.Dropout{}d({}),",
            R::N,
            py_float(f64::from(self.rate))
        ));
    }
}

// ---------------------------------------------------------------------------------------
// Training: the random masks (seeded; Keras's own random streams cannot be reproduced, so
// training runs with these layers match Keras in distribution, not number for number)
// ---------------------------------------------------------------------------------------

/// A regularisation layer in training mode is `y = x·scale + offset` with a random
/// `scale` (and for `GaussianNoise` and `AlphaDropout` an `offset`); the gradient is
/// `dy·scale`.
trait Noise {
    fn draw(&self, shape: &[usize], rng: &mut Rng) -> (ArrayD<f32>, Option<ArrayD<f32>>);
}

/// Keras's `backend.random.dropout`: keep with probability `1 − rate`, scale the kept by
/// `1 / (1 − rate)`. `noise` is the mask's shape (broadcast over the axes of size 1).
fn dropout_mask(shape: &[usize], noise: &[usize], rate: f32, rng: &mut Rng) -> ArrayD<f32> {
    let keep = 1.0 - rate;
    let mask = ArrayD::from_shape_simple_fn(ndarray::IxDyn(noise), || {
        if keep > 0.0 && rng.unit() < f64::from(keep) {
            1.0 / keep
        } else {
            0.0
        }
    });
    mask.broadcast(ndarray::IxDyn(shape))
        .map_or_else(|| ArrayD::zeros(ndarray::IxDyn(shape)), |m| m.to_owned())
}

impl Noise for Dropout {
    fn draw(&self, shape: &[usize], rng: &mut Rng) -> (ArrayD<f32>, Option<ArrayD<f32>>) {
        (dropout_mask(shape, shape, self.rate, rng), None)
    }
}

impl<R: Rank> Noise for SpatialDropout<R> {
    fn draw(&self, shape: &[usize], rng: &mut Rng) -> (ArrayD<f32>, Option<ArrayD<f32>>) {
        // One draw per sample and channel, shared over the spatial axes.
        let mut noise = vec![1; shape.len()];
        if let (Some(b), Some(c)) = (shape.first(), shape.last()) {
            noise[0] = *b;
            if let Some(l) = noise.last_mut() {
                *l = *c;
            }
        }
        (dropout_mask(shape, &noise, self.rate, rng), None)
    }
}

impl Noise for GaussianNoise {
    fn draw(&self, shape: &[usize], rng: &mut Rng) -> (ArrayD<f32>, Option<ArrayD<f32>>) {
        let sd = f64::from(self.stddev);
        let noise =
            ArrayD::from_shape_simple_fn(ndarray::IxDyn(shape), || (rng.normal() * sd) as f32);
        (ArrayD::ones(ndarray::IxDyn(shape)), Some(noise))
    }
}

impl Noise for GaussianDropout {
    fn draw(&self, shape: &[usize], rng: &mut Rng) -> (ArrayD<f32>, Option<ArrayD<f32>>) {
        let rate = f64::from(self.rate.min(0.999_999));
        let sd = (rate / (1.0 - rate)).sqrt();
        let scale = ArrayD::from_shape_simple_fn(ndarray::IxDyn(shape), || {
            (1.0 + rng.normal() * sd) as f32
        });
        (scale, None)
    }
}

impl Noise for AlphaDropout {
    fn draw(&self, shape: &[usize], rng: &mut Rng) -> (ArrayD<f32>, Option<ArrayD<f32>>) {
        // keras.layers.AlphaDropout: x·kept + α'·(1 − kept), then a·x + b.
        let rate = f64::from(self.rate);
        let alpha_p = -1.673_263_242_354_377_3_f64 * 1.050_700_987_355_480_5;
        let a = ((1.0 - rate) * (1.0 + rate * alpha_p * alpha_p)).powf(-0.5);
        let b = -a * alpha_p * rate;
        let kept = ArrayD::from_shape_simple_fn(ndarray::IxDyn(shape), || rng.unit() >= rate);
        let scale = kept.mapv(|k| if k { a as f32 } else { 0.0 });
        let offset = kept.mapv(|k| (if k { b } else { a * alpha_p + b }) as f32);
        (scale, Some(offset))
    }
}
