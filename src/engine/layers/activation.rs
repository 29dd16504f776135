//! Activation functions (Keras 3 `keras.activations`) and the activation layers:
//! `Activation`, `ReLU`, `LeakyReLU`, `PReLU`, `ELU`, `Softmax`. All keep the shape.

use ndarray::{ArrayD, Axis, Zip};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

use super::code::{py_float, KerasArgs, KerasTable, LayerCode, Torch};
use super::{first_weight, Explanation, Init, LayerRules, WeightSpec};
use crate::engine::error::Problem;
use crate::engine::shape::Shape;
use crate::engine::train::grad::{check_same_shape, Grads, Trace};

macro_rules! activations {
    ($( $v:ident = $s:literal $(| $alias:literal)* ;)*) => {
        /// Every Keras 3 activation string.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
        pub enum Activation {
            #[default]
            $( $v, )*
        }
        impl Activation {
            pub const ALL: &'static [Activation] = &[$(Activation::$v),*];
            /// Canonical Keras name.
            pub fn name(self) -> &'static str {
                match self { $( Activation::$v => $s, )* }
            }
            /// Parse a Keras activation string, including aliases.
            pub fn parse(s: &str) -> Option<Activation> {
                match s {
                    $( $s $(| $alias)* => Some(Activation::$v), )*
                    _ => None,
                }
            }
        }
    };
}

activations! {
    Linear = "linear" | "None";
    Relu = "relu";
    Relu6 = "relu6";
    Sigmoid = "sigmoid";
    HardSigmoid = "hard_sigmoid";
    Tanh = "tanh";
    Softmax = "softmax";
    LogSoftmax = "log_softmax";
    Softplus = "softplus";
    Softsign = "softsign";
    Elu = "elu";
    Selu = "selu";
    Gelu = "gelu";
    Silu = "silu" | "swish";
    HardSilu = "hard_silu" | "hard_swish";
    Mish = "mish";
    Exponential = "exponential";
    LeakyRelu = "leaky_relu";
}

impl Serialize for Activation {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

impl<'de> Deserialize<'de> for Activation {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = Value::deserialize(d)?;
        let name = match &v {
            Value::Null => return Ok(Activation::Linear),
            Value::String(s) => s.clone(),
            // Keras serialises some activations as {"class_name": "function", "config": "relu"}
            Value::Object(o) => match (o.get("config"), o.get("class_name")) {
                (Some(Value::String(s)), _) => s.clone(),
                (_, Some(Value::String(s))) => s.clone(),
                _ => String::new(),
            },
            _ => String::new(),
        };
        Activation::parse(&name)
            .ok_or_else(|| serde::de::Error::custom(format!("unknown activation `{name}`")))
    }
}

const SELU_ALPHA: f32 = 1.673_263_2;
const SELU_SCALE: f32 = 1.050_701;

fn sigmoid(x: f32) -> f32 {
    if x >= 0.0 {
        1.0 / (1.0 + (-x).exp())
    } else {
        let e = x.exp();
        e / (1.0 + e)
    }
}

fn softplus(x: f32) -> f32 {
    // log(1 + e^x), stable for large |x|
    if x > 20.0 {
        x
    } else if x < -20.0 {
        x.exp()
    } else {
        x.exp().ln_1p()
    }
}

/// Error function (Abramowitz–Stegun 7.1.26 refined to ~1e-7, computed in f64).
fn erf(x: f64) -> f64 {
    // W. J. Cody-style rational approximation via erfc for |x| large is overkill here;
    // use the high-accuracy series/continued fraction split.
    let ax = x.abs();
    let r = if ax < 2.5 {
        // Taylor series: erf(x) = 2/sqrt(pi) * sum (-1)^n x^(2n+1) / (n! (2n+1))
        let mut sum = ax;
        let mut term = ax;
        let x2 = ax * ax;
        let mut n = 0.0;
        while term.abs() > 1e-17 * sum.abs() && n < 200.0 {
            n += 1.0;
            term *= -x2 / n;
            sum += term / (2.0 * n + 1.0);
        }
        sum * std::f64::consts::FRAC_2_SQRT_PI
    } else {
        // continued fraction for erfc
        let x2 = ax * ax;
        let mut f = 0.0;
        let mut k = 60.0;
        while k > 0.0 {
            f = (k / 2.0) / (ax + f);
            k -= 1.0;
        }
        let erfc = (-x2).exp() / (ax + f) / std::f64::consts::PI.sqrt();
        1.0 - erfc
    };
    if x < 0.0 {
        -r
    } else {
        r
    }
}

impl Activation {
    /// Elementwise value (not for `softmax/log_softmax`, which need an axis).
    pub fn scalar(self, x: f32) -> f32 {
        match self {
            Activation::Linear | Activation::Softmax | Activation::LogSoftmax => x,
            Activation::Relu => x.max(0.0),
            Activation::Relu6 => x.clamp(0.0, 6.0),
            Activation::Sigmoid => sigmoid(x),
            Activation::HardSigmoid => ((x + 3.0).clamp(0.0, 6.0)) / 6.0,
            Activation::Tanh => x.tanh(),
            Activation::Softplus => softplus(x),
            Activation::Softsign => x / (1.0 + x.abs()),
            Activation::Elu => elu(x, 1.0),
            Activation::Selu => {
                if x > 0.0 {
                    SELU_SCALE * x
                } else {
                    SELU_SCALE * SELU_ALPHA * x.exp_m1()
                }
            }
            Activation::Gelu => {
                let xf = f64::from(x);
                (0.5 * xf * (1.0 + erf(xf / std::f64::consts::SQRT_2))) as f32
            }
            Activation::Silu => x * sigmoid(x),
            Activation::HardSilu => x * ((x + 3.0).clamp(0.0, 6.0)) / 6.0,
            Activation::Mish => x * softplus(x).tanh(),
            Activation::Exponential => x.exp(),
            Activation::LeakyRelu => {
                if x >= 0.0 {
                    x
                } else {
                    0.2 * x
                }
            }
        }
    }

    /// Apply to a tensor (softmax variants along the last axis).
    pub fn apply(self, x: &mut ArrayD<f32>) {
        match self {
            Activation::Linear => {}
            Activation::Softmax => softmax_last(x, false),
            Activation::LogSoftmax => softmax_last(x, true),
            Activation::Relu => x.mapv_inplace(|v| v.max(0.0)),
            Activation::Tanh => x.mapv_inplace(f32::tanh),
            Activation::Sigmoid => x.mapv_inplace(sigmoid),
            a => x.mapv_inplace(|v| a.scalar(v)),
        }
    }
}

pub fn elu(x: f32, alpha: f32) -> f32 {
    if x > 0.0 {
        x
    } else {
        alpha * x.exp_m1()
    }
}

/// Numerically stable softmax (or log-softmax) along `axis`.
pub fn softmax_axis(x: &mut ArrayD<f32>, axis: usize, log: bool) {
    if x.ndim() == 0 || axis >= x.ndim() {
        return;
    }
    for mut lane in x.lanes_mut(Axis(axis)) {
        let m = lane.iter().fold(f32::NEG_INFINITY, |a, &b| a.max(b));
        let m = if m.is_finite() { m } else { 0.0 };
        let sum: f32 = lane.iter().map(|&v| (v - m).exp()).sum();
        if log {
            let ls = sum.ln();
            lane.mapv_inplace(|v| v - m - ls);
        } else {
            lane.mapv_inplace(|v| (v - m).exp() / sum);
        }
    }
}

fn softmax_last(x: &mut ArrayD<f32>, log: bool) {
    let axis = x.ndim().saturating_sub(1);
    softmax_axis(x, axis, log);
}

fn same_shape(kind: &str, input: &Shape) -> Explanation {
    Explanation::new(format!(
        "{kind} works element by element, so the shape does not change."
    ))
    .step(format!("output = input = {input}"))
}

/// `keras.layers.Activation`.
///
/// # Shapes
/// Any `(None, ...)` → the same shape; no weights.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct ActivationLayer {
    pub activation: Activation,
}

impl LayerRules for ActivationLayer {
    fn output_shape(&self, input: &Shape) -> Result<Shape, Problem> {
        Ok(input.clone())
    }
    fn forward(&self, x: &ArrayD<f32>, _w: &[ArrayD<f32>]) -> Result<ArrayD<f32>, Problem> {
        let mut y = x.clone();
        self.activation.apply(&mut y);
        Ok(y)
    }
    fn explain(&self, input: &Shape, _output: &Shape) -> Explanation {
        match self.activation {
            Activation::Softmax | Activation::LogSoftmax => Explanation::new(format!(
                "{} normalises along the last axis; the shape does not change and there are no weights.",
                self.activation.name()
            ))
            .step(format!("output = input = {input}")),
            a => same_shape(&format!("Activation `{}`", a.name()), input),
        }
    }
    fn settings(&self) -> String {
        self.activation.name().to_string()
    }
}
plain_grad!(ActivationLayer, |layer, x, _w, t, dy| {
    Ok(Grads::input(layer.activation.backward(x, &t.y, dy)?))
});

/// `keras.layers.ReLU(max_value=None, negative_slope=0.0, threshold=0.0)`.
///
/// # Shapes
/// Any `(None, ...)` → the same shape; no weights.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct Relu {
    pub max_value: Option<f32>,
    pub negative_slope: f32,
    pub threshold: f32,
}

impl LayerRules for Relu {
    fn output_shape(&self, input: &Shape) -> Result<Shape, Problem> {
        if let Some(m) = self.max_value {
            if m < 0.0 {
                return Err(Problem::config(
                    "max_value",
                    format!("must be >= 0, got {m}"),
                ));
            }
        }
        if self.negative_slope < 0.0 {
            return Err(Problem::config(
                "negative_slope",
                format!("must be >= 0, got {}", self.negative_slope),
            ));
        }
        if self.threshold < 0.0 {
            return Err(Problem::config(
                "threshold",
                format!("must be >= 0, got {}", self.threshold),
            ));
        }
        Ok(input.clone())
    }
    fn forward(&self, x: &ArrayD<f32>, _w: &[ArrayD<f32>]) -> Result<ArrayD<f32>, Problem> {
        let (t, ns, mv) = (self.threshold, self.negative_slope, self.max_value);
        Ok(x.mapv(|v| {
            let y = if v >= t { v } else { ns * (v - t) };
            match mv {
                Some(m) if y > m => m,
                _ => y,
            }
        }))
    }
    fn explain(&self, input: &Shape, _output: &Shape) -> Explanation {
        same_shape("ReLU", input)
    }
    fn settings(&self) -> String {
        match self.max_value {
            Some(m) => format!("max {m}"),
            None => "relu".into(),
        }
    }
}
plain_grad!(Relu, |layer, x, _w, _t, dy| {
    let (t, ns, mv) = (layer.threshold, layer.negative_slope, layer.max_value);
    Ok(Grads::input(times_derivative(x, dy, |v| {
        if v >= t {
            match mv {
                Some(m) if v > m => 0.0,
                _ => 1.0,
            }
        } else {
            match mv {
                Some(m) if ns * (v - t) > m => 0.0,
                _ => ns,
            }
        }
    })?))
});

/// `keras.layers.LeakyReLU(negative_slope=0.3)` (Keras 2's `alpha` accepted).
///
/// # Shapes
/// Any `(None, ...)` → the same shape; no weights.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct LeakyRelu {
    #[serde(alias = "alpha")]
    pub negative_slope: f32,
}

impl Default for LeakyRelu {
    fn default() -> Self {
        LeakyRelu {
            negative_slope: 0.3,
        }
    }
}

impl LayerRules for LeakyRelu {
    fn output_shape(&self, input: &Shape) -> Result<Shape, Problem> {
        if self.negative_slope < 0.0 {
            return Err(Problem::config(
                "negative_slope",
                format!("must be >= 0, got {}", self.negative_slope),
            ));
        }
        Ok(input.clone())
    }
    fn forward(&self, x: &ArrayD<f32>, _w: &[ArrayD<f32>]) -> Result<ArrayD<f32>, Problem> {
        let a = self.negative_slope;
        Ok(x.mapv(|v| if v >= 0.0 { v } else { a * v }))
    }
    fn explain(&self, input: &Shape, _output: &Shape) -> Explanation {
        same_shape("LeakyReLU", input)
    }
    fn settings(&self) -> String {
        format!("slope {}", self.negative_slope)
    }
}
plain_grad!(LeakyRelu, |layer, x, _w, _t, dy| {
    let a = layer.negative_slope;
    Ok(Grads::input(times_derivative(x, dy, |v| {
        if v >= 0.0 {
            1.0
        } else {
            a
        }
    })?))
});

/// `keras.layers.PReLU(shared_axes=None)`: a learned slope per element (alpha has the input
/// shape without batch, with shared axes set to 1).
///
/// # Shapes
/// `(None, d1, ..., dn)` → the same shape; alpha `(d1, ..., dn)` with each shared axis 1.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct PRelu {
    #[serde(deserialize_with = "super::args::de_opt_ints")]
    pub shared_axes: Option<Vec<usize>>,
}

impl PRelu {
    fn alpha_shape(&self, input: &Shape) -> Result<Vec<usize>, Problem> {
        let mut s = input.dims().to_vec();
        for &a in self.shared_axes.iter().flatten() {
            if a == 0 || a > s.len() {
                return Err(Problem::config(
                    "shared_axes",
                    format!("axis {a} is not a non-batch axis of {input}"),
                ));
            }
            s[a - 1] = 1;
        }
        Ok(s)
    }
}

impl LayerRules for PRelu {
    fn output_shape(&self, input: &Shape) -> Result<Shape, Problem> {
        self.alpha_shape(input)?;
        Ok(input.clone())
    }
    fn weights(&self, input: &Shape) -> Result<Vec<WeightSpec>, Problem> {
        Ok(vec![WeightSpec::new(
            "alpha",
            self.alpha_shape(input)?,
            Init::Zeros,
        )])
    }
    fn forward(&self, x: &ArrayD<f32>, w: &[ArrayD<f32>]) -> Result<ArrayD<f32>, Problem> {
        let alpha = first_weight(w)?;
        let mut shape = vec![1];
        shape.extend_from_slice(alpha.shape());
        let alpha = alpha
            .view()
            .into_shape_with_order(ndarray::IxDyn(&shape))
            .map_err(|_| Problem::layout("PReLU alpha has the wrong size"))?;
        let alpha = alpha
            .broadcast(x.raw_dim())
            .ok_or_else(|| Problem::layout("PReLU alpha does not broadcast to the input"))?;
        let mut y = x.clone();
        Zip::from(&mut y).and(&alpha).for_each(|v, &a| {
            if *v < 0.0 {
                *v *= a;
            }
        });
        Ok(y)
    }
    fn explain(&self, input: &Shape, _output: &Shape) -> Explanation {
        let a = self.alpha_shape(input).unwrap_or_default();
        same_shape("PReLU", input).step(format!(
            "alpha has shape {:?}: {} learned slopes",
            a,
            a.iter().product::<usize>()
        ))
    }
    fn settings(&self) -> String {
        match &self.shared_axes {
            Some(a) => format!("shared axes {a:?}"),
            None => "per-element slope".into(),
        }
    }
}
plain_grad!(PRelu, |_, x, w, _t, dy| {
    check_same_shape(dy, x)?;
    let alpha = first_weight(w)?;
    let mut shape = vec![1];
    shape.extend_from_slice(alpha.shape());
    let a4 = alpha
        .view()
        .into_shape_with_order(ndarray::IxDyn(&shape))
        .map_err(|_| Problem::layout("PReLU alpha has the wrong size"))?;
    let ab = a4
        .broadcast(x.raw_dim())
        .ok_or_else(|| Problem::layout("PReLU alpha does not broadcast to the input"))?;
    let mut dx = dy.clone();
    let mut full = ArrayD::<f32>::zeros(x.raw_dim());
    Zip::from(&mut dx)
        .and(&mut full)
        .and(x)
        .and(&ab)
        .for_each(|d, f, &v, &a| {
            if v < 0.0 {
                *f = *d * v;
                *d *= a;
            }
        });
    // Sum the per-element slope gradients over the batch and the shared axes.
    let mut da = full.sum_axis(Axis(0));
    for (ax, &n) in alpha.shape().iter().enumerate() {
        if n == 1 && da.shape()[ax] != 1 {
            da = da.sum_axis(Axis(ax)).insert_axis(Axis(ax));
        }
    }
    Ok(Grads { dx, dw: vec![da] })
});

/// `keras.layers.ELU(alpha=1.0)`.
///
/// # Shapes
/// Any `(None, ...)` → the same shape; no weights.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Elu {
    pub alpha: f32,
}

impl Default for Elu {
    fn default() -> Self {
        Elu { alpha: 1.0 }
    }
}

impl LayerRules for Elu {
    fn output_shape(&self, input: &Shape) -> Result<Shape, Problem> {
        Ok(input.clone())
    }
    fn forward(&self, x: &ArrayD<f32>, _w: &[ArrayD<f32>]) -> Result<ArrayD<f32>, Problem> {
        let a = self.alpha;
        Ok(x.mapv(|v| elu(v, a)))
    }
    fn explain(&self, input: &Shape, _output: &Shape) -> Explanation {
        same_shape("ELU", input)
    }
    fn settings(&self) -> String {
        format!("alpha {}", self.alpha)
    }
}
plain_grad!(Elu, |layer, x, _w, _t, dy| {
    let a = layer.alpha;
    Ok(Grads::input(times_derivative(x, dy, |v| {
        if v > 0.0 {
            1.0
        } else {
            a * v.exp()
        }
    })?))
});

/// `keras.layers.Softmax(axis=-1)`.
///
/// # Shapes
/// Any `(None, ...)` → the same shape (normalised along `axis`); no weights.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Softmax {
    #[serde(deserialize_with = "de_axis")]
    pub axis: i64,
}

impl Default for Softmax {
    fn default() -> Self {
        Softmax { axis: -1 }
    }
}

/// An axis that may be written as an int or a one-element list.
///
/// # Errors
/// The deserializer's error for anything else.
pub fn de_axis<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    let v = Value::deserialize(d)?;
    let one = match &v {
        Value::Array(a) if a.len() == 1 => a[0].clone(),
        other => other.clone(),
    };
    one.as_i64()
        .ok_or_else(|| serde::de::Error::custom(format!("expected an axis, got {v}")))
}

/// Resolve a Keras axis (negative counts from the end, batch is axis 0) to an index into
/// the non-batch dims.
///
/// # Errors
/// [`Problem::Config`] when out of range or the batch axis.
pub fn resolve_axis(axis: i64, input: &Shape) -> Result<usize, Problem> {
    let ndim = input.ndim() as i64;
    let a = if axis < 0 { axis + ndim } else { axis };
    if a <= 0 || a >= ndim {
        return Err(Problem::config(
            "axis",
            format!("{axis} is out of range for input {input}"),
        ));
    }
    Ok((a - 1) as usize)
}

/// The input shape unchanged, once `axis` is known to fit it.
///
/// # Errors
/// As [`resolve_axis`].
pub(super) fn same_shape_on_axis(axis: i64, input: &Shape) -> Result<Shape, Problem> {
    resolve_axis(axis, input)?;
    Ok(input.clone())
}

/// The size of `input` along a Keras `axis`.
///
/// # Errors
/// As [`resolve_axis`].
pub(super) fn axis_dim(axis: i64, input: &Shape) -> Result<usize, Problem> {
    Ok(input.dims()[resolve_axis(axis, input)?])
}

/// A Keras axis as an index into the whole tensor (batch included); the shape checks have
/// already refused an out-of-range one.
pub(super) fn tensor_axis(axis: i64, ndim: usize) -> usize {
    (if axis < 0 { axis + ndim as i64 } else { axis }).max(0) as usize
}

impl LayerRules for Softmax {
    fn output_shape(&self, input: &Shape) -> Result<Shape, Problem> {
        same_shape_on_axis(self.axis, input)
    }
    fn forward(&self, x: &ArrayD<f32>, _w: &[ArrayD<f32>]) -> Result<ArrayD<f32>, Problem> {
        let mut y = x.clone();
        softmax_axis(&mut y, tensor_axis(self.axis, x.ndim()), false);
        Ok(y)
    }
    fn explain(&self, input: &Shape, _output: &Shape) -> Explanation {
        same_shape("Softmax", input)
    }
    fn settings(&self) -> String {
        format!("axis {}", self.axis)
    }
}
plain_grad!(Softmax, |layer, x, _w, t, dy| {
    check_same_shape(dy, &t.y)?;
    Ok(Grads::input(softmax_backward(
        &t.y,
        dy,
        tensor_axis(layer.axis, x.ndim()),
        false,
    )))
});

// ---------------------------------------------------------------------------------------
// As code
// ---------------------------------------------------------------------------------------

impl KerasTable for ActivationLayer {
    const ARGS: KerasArgs = KerasArgs::with_required(&["activation"], &["activation"]);
}

impl LayerCode for ActivationLayer {
    fn torch(&self, t: &mut Torch, _inp: &[usize], _out: &[usize]) {
        let a = self.activation;
        if matches!(a, Activation::Softmax | Activation::LogSoftmax) {
            t.make_channels_last();
        }
        t.activation(a.name());
        if a == Activation::Linear {
            t.push("nn.Identity(),");
        }
    }
}

impl KerasTable for Relu {
    const ARGS: KerasArgs = KerasArgs {
        as_activation: Some("relu"),
        ..KerasArgs::positional(&["max_value", "negative_slope", "threshold"])
    };
}

impl LayerCode for Relu {
    fn torch(&self, t: &mut Torch, _inp: &[usize], _out: &[usize]) {
        let slope = f64::from(self.negative_slope);
        let thr = f64::from(self.threshold);
        match (self.max_value.map(f64::from), slope == 0.0, thr == 0.0) {
            (None, true, true) => t.push("nn.ReLU(),"),
            (None, false, true) => t.push(format!("nn.LeakyReLU({}),", py_float(slope))),
            (Some(6.0), true, true) => t.push("nn.ReLU6(),"),
            (Some(m), true, true) => t.push(format!("nn.Hardtanh(0.0, {}),", py_float(m))),
            (m, _, _) => {
                let mut body = format!(
                    "torch.where(x >= {t}, x, {s} * (x - {t}))",
                    t = py_float(thr),
                    s = py_float(slope)
                );
                if let Some(m) = m {
                    body = format!("torch.clamp({body}, max={})", py_float(m));
                }
                t.lambda(&body, "ReLU with threshold / max_value");
            }
        }
    }
}

impl KerasTable for LeakyRelu {
    const ARGS: KerasArgs = KerasArgs {
        aliases: &[("alpha", "negative_slope")],
        as_activation: Some("leaky_relu"),
        ..KerasArgs::positional(&["negative_slope"])
    };
}

impl LayerCode for LeakyRelu {
    fn torch(&self, t: &mut Torch, _inp: &[usize], _out: &[usize]) {
        t.push(format!(
            "nn.LeakyReLU({}),",
            py_float(f64::from(self.negative_slope))
        ));
    }
}

impl KerasTable for PRelu {
    const ARGS: KerasArgs = KerasArgs::positional(&[
        "alpha_initializer",
        "alpha_regularizer",
        "alpha_constraint",
        "shared_axes",
    ]);
}

impl LayerCode for PRelu {
    fn torch(&self, t: &mut Torch, inp: &[usize], _out: &[usize]) {
        t.make_channels_last();
        let n: usize = inp.iter().product();
        t.note(format!("Keras PReLU learns one alpha per element ({n} values, initialised to 0); nn.PReLU learns one per channel of dim 1"));
        t.push("nn.PReLU(init=0.0),");
    }
}

impl KerasTable for Elu {
    const ARGS: KerasArgs = KerasArgs {
        as_activation: Some("elu"),
        ..KerasArgs::positional(&["alpha"])
    };
}

impl LayerCode for Elu {
    fn torch(&self, t: &mut Torch, _inp: &[usize], _out: &[usize]) {
        t.push(format!(
            "nn.ELU(alpha={}),",
            py_float(f64::from(self.alpha))
        ));
    }
}

impl KerasTable for Softmax {
    const ARGS: KerasArgs = KerasArgs {
        as_activation: Some("softmax"),
        ..KerasArgs::positional(&["axis"])
    };
}

impl LayerCode for Softmax {
    fn torch(&self, t: &mut Torch, _inp: &[usize], _out: &[usize]) {
        t.make_channels_last();
        t.push(format!("nn.Softmax(dim={}),", self.axis));
    }
}

// ---------------------------------------------------------------------------------------
// Training: gradients through the activations
// ---------------------------------------------------------------------------------------

impl Activation {
    /// The training-mode trace of this activation over the pre-activations `z`: the
    /// output, keeping `z` for the backward pass.
    pub(crate) fn trace(self, z: ArrayD<f32>) -> Trace {
        let mut y = z.clone();
        self.apply(&mut y);
        Trace::saving(y, vec![z])
    }
    /// `d activation(x) / dx` at `x` (`y` = activation(x)), for the elementwise
    /// activations (softmax variants go through [`softmax_backward`]).
    pub fn derivative(self, x: f32, y: f32) -> f32 {
        let step = |c: bool| if c { 1.0 } else { 0.0 };
        match self {
            Activation::Linear | Activation::Softmax | Activation::LogSoftmax => 1.0,
            Activation::Relu => step(x > 0.0),
            Activation::Relu6 => step(x > 0.0 && x < 6.0),
            Activation::Sigmoid => y * (1.0 - y),
            Activation::HardSigmoid => step(x > -3.0 && x < 3.0) / 6.0,
            Activation::Tanh => 1.0 - y * y,
            Activation::Softplus => sigmoid(x),
            Activation::Softsign => 1.0 / ((1.0 + x.abs()) * (1.0 + x.abs())),
            Activation::Elu => {
                if x > 0.0 {
                    1.0
                } else {
                    x.exp()
                }
            }
            Activation::Selu => {
                if x > 0.0 {
                    SELU_SCALE
                } else {
                    SELU_SCALE * SELU_ALPHA * x.exp()
                }
            }
            Activation::Gelu => {
                let xf = f64::from(x);
                let cdf = 0.5 * (1.0 + erf(xf / std::f64::consts::SQRT_2));
                let pdf = (-0.5 * xf * xf).exp() / (2.0 * std::f64::consts::PI).sqrt();
                (cdf + xf * pdf) as f32
            }
            Activation::Silu => {
                let s = sigmoid(x);
                s + x * s * (1.0 - s)
            }
            Activation::HardSilu => {
                ((x + 3.0).clamp(0.0, 6.0) + x * step(x > -3.0 && x < 3.0)) / 6.0
            }
            Activation::Mish => {
                let sp = softplus(x);
                let t = sp.tanh();
                t + x * (1.0 - t * t) * sigmoid(x)
            }
            Activation::Exponential => y,
            Activation::LeakyRelu => {
                if x >= 0.0 {
                    1.0
                } else {
                    0.2
                }
            }
        }
    }

    /// The gradient with respect to the pre-activation `z`, from `y = activation(z)` and
    /// the gradient `dy` with respect to `y` (softmax variants along the last axis).
    ///
    /// # Errors
    /// [`Problem::Reshape`] when the shapes differ.
    pub fn backward(
        self,
        z: &ArrayD<f32>,
        y: &ArrayD<f32>,
        dy: &ArrayD<f32>,
    ) -> Result<ArrayD<f32>, Problem> {
        check_same_shape(dy, y)?;
        check_same_shape(z, y)?;
        let last = y.ndim().saturating_sub(1);
        Ok(match self {
            Activation::Linear => dy.clone(),
            Activation::Softmax => softmax_backward(y, dy, last, false),
            Activation::LogSoftmax => softmax_backward(y, dy, last, true),
            a => {
                let mut dz = dy.as_standard_layout().into_owned();
                match (z.as_slice(), y.as_slice(), dz.as_slice_mut()) {
                    (Some(zs), Some(ys), Some(ds)) => {
                        for ((d, &x), &y) in ds.iter_mut().zip(zs).zip(ys) {
                            *d *= a.derivative(x, y);
                        }
                    }
                    _ => Zip::from(&mut dz)
                        .and(z)
                        .and(y)
                        .for_each(|d, &x, &y| *d *= a.derivative(x, y)),
                }
                dz
            }
        })
    }
}

/// The gradient through softmax (or log-softmax) along `axis`, from its output `y`:
/// `y·(dy − Σ dy·y)`, or for log-softmax `dy − softmax·Σ dy`.
pub fn softmax_backward(y: &ArrayD<f32>, dy: &ArrayD<f32>, axis: usize, log: bool) -> ArrayD<f32> {
    let mut dz = dy.clone();
    if axis >= y.ndim() {
        return dz;
    }
    for (mut d, yl) in dz
        .lanes_mut(Axis(axis))
        .into_iter()
        .zip(y.lanes(Axis(axis)))
    {
        if log {
            let s: f32 = d.sum();
            Zip::from(&mut d)
                .and(&yl)
                .for_each(|d, &y| *d -= y.exp() * s);
        } else {
            let s: f32 = d.iter().zip(yl.iter()).map(|(a, b)| a * b).sum();
            Zip::from(&mut d)
                .and(&yl)
                .for_each(|d, &y| *d = y * (*d - s));
        }
    }
    dz
}

/// `dy` times an elementwise derivative of the input.
fn times_derivative(
    x: &ArrayD<f32>,
    dy: &ArrayD<f32>,
    f: impl Fn(f32) -> f32,
) -> Result<ArrayD<f32>, Problem> {
    check_same_shape(dy, x)?;
    let mut dx = dy.clone();
    Zip::from(&mut dx).and(x).for_each(|d, &v| *d *= f(v));
    Ok(dx)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for &a in Activation::ALL {
            assert_eq!(Activation::parse(a.name()), Some(a));
        }
        assert_eq!(Activation::parse("swish"), Some(Activation::Silu));
        assert_eq!(Activation::parse("nope"), None);
    }

    #[test]
    fn erf_is_accurate() {
        for (x, e) in [
            (0.5, 0.520_499_877_8),
            (1.0, 0.842_700_792_9),
            (3.0, 0.999_977_909_5),
            (-2.0, -0.995_322_265_0),
        ] {
            assert!((erf(x) - e).abs() < 1e-8, "{x}");
        }
    }

    #[test]
    fn softmax_is_stable() {
        let mut x = ndarray::arr2(&[[1000.0f32, 1001.0], [-1e30, 0.0]]).into_dyn();
        softmax_axis(&mut x, 1, false);
        assert!(x.iter().all(|v| v.is_finite()));
        assert!((x[[0, 1]] - 0.731_058_6).abs() < 1e-6);
    }
}
