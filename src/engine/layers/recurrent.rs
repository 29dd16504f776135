//! Recurrent layers: `SimpleRNN`, `LSTM` (gates i, f, c, o), `GRU` (gates z, r, h; both
//! `reset_after` modes). Input `(None, T, F)`; output `(None, T, units)` with
//! `return_sequences`, else `(None, units)`.

use ndarray::{s, Array1, Array2, Array3, ArrayD, Axis, Ix2, Ix3};
use serde::{Deserialize, Serialize};

use super::activation::Activation;
use super::code::{KerasArgs, KerasTable, LayerCode, Torch};
use super::{Explanation, Init, LayerRules, WeightSpec};
use crate::engine::error::{Problem, RankNeed};
use crate::engine::gemm::gemm;
use crate::engine::rng::Rng;
use crate::engine::shape::{checked_product, checked_sum, Shape};
use crate::engine::train::grad::{Grads, LayerGrad, Trace};

/// Settings shared by all three recurrent layers.
fn check_common(
    units: usize,
    return_state: bool,
    stateful: bool,
    input: &Shape,
) -> Result<(usize, usize), Problem> {
    if units == 0 {
        return Err(Problem::config(
            "units",
            "must be a positive integer, got 0",
        ));
    }
    if return_state {
        return Err(Problem::config(
            "return_state",
            "returns several tensors, which a Sequential stack cannot pass on",
        ));
    }
    if stateful {
        return Err(Problem::config(
            "stateful",
            "stateful RNNs need a fixed batch size; Flatland models have a None batch",
        ));
    }
    match input.dims() {
        [t, f] => Ok((*t, *f)),
        _ => Err(Problem::rank(
            RankNeed::exactly(3, "(batch, timesteps, features)"),
            input,
        )),
    }
}

fn rnn_out(t: usize, units: usize, seq: bool) -> Shape {
    Shape::new(if seq { vec![t, units] } else { vec![units] })
}

fn mat(w: &ArrayD<f32>, what: &'static str) -> Result<Array2<f32>, Problem> {
    w.clone()
        .into_dimensionality::<Ix2>()
        .map_err(|_| Problem::WeightRank {
            weight: what,
            rank: 2,
            got: w.shape().to_vec(),
        })
}

fn vec1(w: &ArrayD<f32>) -> Array1<f32> {
    Array1::from_iter(w.iter().copied())
}

/// Run `step` over time; returns (B, T, U) sequence or (B, U) last state.
fn run<F>(
    x: &ArrayD<f32>,
    units: usize,
    go_backwards: bool,
    seq: bool,
    mut step: F,
) -> Result<ArrayD<f32>, Problem>
where
    F: FnMut(&Array2<f32>, &mut Array2<f32>),
{
    let x3 = x
        .clone()
        .into_dimensionality::<Ix3>()
        .map_err(|_| Problem::layout("recurrent input must be (batch, time, features)"))?;
    let (b, t, _) = x3.dim();
    let mut h = Array2::<f32>::zeros((b, units));
    let mut outs = Array3::<f32>::zeros((b, t, units));
    for k in 0..t {
        let ti = if go_backwards { t - 1 - k } else { k };
        let xt = x3.slice(s![.., ti, ..]).to_owned();
        step(&xt, &mut h);
        outs.slice_mut(s![.., k, ..]).assign(&h);
    }
    Ok(if seq { outs.into_dyn() } else { h.into_dyn() })
}

fn act2(a: Activation, m: &mut Array2<f32>) {
    let mut d = std::mem::take(m).into_dyn();
    a.apply(&mut d);
    *m = d.into_dimensionality::<Ix2>().unwrap_or_default();
}

/// `gates × units`, checked: `units` comes straight from the config and may be any u64
/// (fuzz: `gru_units_near_u64_max`).
fn gate_width(gates: usize, units: usize) -> Result<usize, Problem> {
    gates
        .checked_mul(units)
        .ok_or(Problem::Overflow { what: "gate width" })
}

fn weight_macs(t: usize, f: usize, units: usize, gates: usize) -> Result<u64, Problem> {
    let g = gate_width(gates, units)? as u64;
    let per = checked_sum(
        [
            checked_product([f as u64, g], "multiply-adds")?,
            checked_product([units as u64, g], "multiply-adds")?,
        ],
        "multiply-adds",
    )?;
    checked_product([t as u64, per], "multiply-adds")
}

fn explain_rnn(
    kind: &str,
    units: usize,
    seq: bool,
    input: &Shape,
    output: &Shape,
    params: String,
) -> Explanation {
    let (t, f) = match input.dims() {
        [t, f] => (*t, *f),
        _ => (0, 0),
    };
    Explanation::new(format!(
        "{kind} reads the {t} timesteps one after another, carrying a state of {units} numbers."
    ))
    .step(if seq {
        format!("return_sequences=True: one output per timestep, {input} → {output}")
    } else {
        format!("return_sequences=False: only the last state, {input} → {output}")
    })
    .step(format!("features per step: {f}"))
    .step(params)
}

/// A recurrent layer: the settings all three kinds share, their checks, shapes, weight
/// layout and time loop. What differs (bias shape, the cell's step, the params formula)
/// lives in each kind's `bias_shape`, `cell` and `params_text`.
macro_rules! rnn_layer {
    ($(#[$doc:meta])* $name:ident = $keras:literal, $gates:literal { $($extra:ident : $ty:ty = $def:expr),* }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
        #[serde(default)]
        pub struct $name {
            pub units: usize,
            pub activation: Activation,
            pub use_bias: bool,
            pub return_sequences: bool,
            pub return_state: bool,
            pub go_backwards: bool,
            pub stateful: bool,
            $(pub $extra: $ty,)*
        }
        impl Default for $name {
            fn default() -> Self {
                $name {
                    units: 32,
                    activation: Activation::Tanh,
                    use_bias: true,
                    return_sequences: false,
                    return_state: false,
                    go_backwards: false,
                    stateful: false,
                    $($extra: $def,)*
                }
            }
        }
        impl LayerRules for $name {
            fn output_shape(&self, input: &Shape) -> Result<Shape, Problem> {
                let (t, _) = check_common(self.units, self.return_state, self.stateful, input)?;
                Ok(rnn_out(t, self.units, self.return_sequences))
            }
            fn weights(&self, input: &Shape) -> Result<Vec<WeightSpec>, Problem> {
                let (_, f) = check_common(self.units, self.return_state, self.stateful, input)?;
                let bias = if self.use_bias {
                    Some(self.bias_shape()?)
                } else {
                    None
                };
                std_weights(f, self.units, $gates, bias)
            }
            fn macs(&self, input: &Shape, _o: &Shape) -> Result<u64, Problem> {
                let (t, f) = check_common(self.units, self.return_state, self.stateful, input)?;
                weight_macs(t, f, self.units, $gates)
            }
            fn forward(&self, x: &ArrayD<f32>, w: &[ArrayD<f32>]) -> Result<ArrayD<f32>, Problem> {
                self.cell(x, rnn_weights(w, self.use_bias)?)
            }
            fn explain(&self, input: &Shape, output: &Shape) -> Explanation {
                let f = input.dims().get(1).copied().unwrap_or(0);
                explain_rnn(
                    $keras,
                    self.units,
                    self.return_sequences,
                    input,
                    output,
                    self.params_text(f),
                )
            }
            fn settings(&self) -> String {
                format!(
                    "{} units{}",
                    self.units,
                    if self.return_sequences {
                        ", sequences"
                    } else {
                        ""
                    }
                )
            }
        }
        impl LayerGrad for $name {
            fn train_forward(&self, x: &ArrayD<f32>, w: &[ArrayD<f32>], _rng: &mut Rng) -> Result<Trace, Problem> {
                Ok(Trace::plain(self.forward(x, w)?))
            }
            fn backward(&self, x: &ArrayD<f32>, w: &[ArrayD<f32>], _t: &Trace, dy: &ArrayD<f32>) -> Result<Grads, Problem> {
                let ws = rnn_weights(w, self.use_bias)?;
                let bp = Bptt::new(x, dy, self.units, self.go_backwards, self.return_sequences)?;
                self.bptt(&bp, ws)
            }
        }
    };
}

rnn_layer!(
    /// `keras.layers.SimpleRNN(units, activation="tanh", return_sequences=False)`.
    ///
    /// # Shapes
    /// `(None, T, F)` → `(None, T, units)` with `return_sequences`, else `(None, units)`; kernel `(F, units)`, recurrent kernel `(units, units)`, bias `(units,)`.
    SimpleRnn = "SimpleRNN", 1 {}
);
rnn_layer!(
    /// `keras.layers.LSTM(units, activation="tanh", recurrent_activation="sigmoid")`.
    ///
    /// # Shapes
    /// `(None, T, F)` → `(None, T, units)` with `return_sequences`, else `(None, units)`; kernel `(F, 4·units)`, recurrent kernel `(units, 4·units)`, bias `(4·units,)`.
    Lstm = "LSTM", 4 { recurrent_activation: Activation = Activation::Sigmoid, unit_forget_bias: bool = true }
);
rnn_layer!(
    /// `keras.layers.GRU(units, reset_after=True)`.
    ///
    /// # Shapes
    /// `(None, T, F)` → `(None, T, units)` with `return_sequences`, else `(None, units)`; kernel `(F, 3·units)`, recurrent kernel `(units, 3·units)`, bias `(2, 3·units)` with `reset_after` (the default), else `(3·units,)`.
    Gru = "GRU", 3 { recurrent_activation: Activation = Activation::Sigmoid, reset_after: bool = true }
);

fn std_weights(
    f: usize,
    units: usize,
    gates: usize,
    bias: Option<Vec<usize>>,
) -> Result<Vec<WeightSpec>, Problem> {
    let g = gate_width(gates, units)?;
    let mut w = vec![
        WeightSpec::new("kernel", vec![f, g], Init::GlorotUniform),
        WeightSpec::new("recurrent_kernel", vec![units, g], Init::Orthogonal),
    ];
    if let Some(b) = bias {
        w.push(WeightSpec::new("bias", b, Init::Zeros));
    }
    Ok(w)
}

/// A recurrent layer's weights, loaded: kernel, recurrent kernel and the raw bias.
struct RnnWeights<'a> {
    k: Array2<f32>,
    r: Array2<f32>,
    bias: Option<&'a ArrayD<f32>>,
}

/// The kernel, recurrent kernel and (with `use_bias`) bias.
fn rnn_weights(w: &[ArrayD<f32>], use_bias: bool) -> Result<RnnWeights<'_>, Problem> {
    let n = 2 + usize::from(use_bias);
    let k = mat(get(w, 0, n)?, "kernel")?;
    let r = mat(get(w, 1, n)?, "recurrent_kernel")?;
    let bias = if use_bias { Some(get(w, 2, n)?) } else { None };
    Ok(RnnWeights { k, r, bias })
}

fn get(w: &[ArrayD<f32>], i: usize, n: usize) -> Result<&ArrayD<f32>, Problem> {
    w.get(i).ok_or(Problem::MissingWeights {
        expected: n,
        got: w.len(),
    })
}

/// ` + u` when the layer has a bias, for the params formulas.
fn plus_bias(use_bias: bool, u: usize) -> String {
    if use_bias {
        format!(" + {u}")
    } else {
        String::new()
    }
}

impl SimpleRnn {
    #[allow(clippy::unnecessary_wraps)] // the shared rnn_layer! macro calls LSTM's and GRU's too
    fn bias_shape(&self) -> Result<Vec<usize>, Problem> {
        Ok(vec![self.units])
    }
    fn cell(&self, x: &ArrayD<f32>, w: RnnWeights<'_>) -> Result<ArrayD<f32>, Problem> {
        let RnnWeights { k, r, bias } = w;
        let b = bias.map(vec1);
        let a = self.activation;
        run(
            x,
            self.units,
            self.go_backwards,
            self.return_sequences,
            |xt, h| {
                let mut z = gemm(xt.view(), k.view()) + gemm(h.view(), r.view());
                if let Some(b) = &b {
                    z += b;
                }
                act2(a, &mut z);
                *h = z;
            },
        )
    }
    fn params_text(&self, f: usize) -> String {
        let u = self.units;
        format!(
            "params = {u}·{f} + {u}·{u}{} = {}",
            plus_bias(self.use_bias, u),
            u * f + u * u + if self.use_bias { u } else { 0 }
        )
    }
}

impl Lstm {
    fn bias_shape(&self) -> Result<Vec<usize>, Problem> {
        Ok(vec![gate_width(4, self.units)?])
    }
    fn cell(&self, x: &ArrayD<f32>, w: RnnWeights<'_>) -> Result<ArrayD<f32>, Problem> {
        let RnnWeights { k, r, bias } = w;
        let b = bias.map(vec1);
        let (a, ra, u) = (self.activation, self.recurrent_activation, self.units);
        let bsz = x.shape().first().copied().unwrap_or(0);
        let mut c = Array2::<f32>::zeros((bsz, u));
        run(x, u, self.go_backwards, self.return_sequences, |xt, h| {
            let mut z = gemm(xt.view(), k.view()) + gemm(h.view(), r.view());
            if let Some(b) = &b {
                z += b;
            }
            let mut i = z.slice(s![.., 0..u]).to_owned();
            let mut f = z.slice(s![.., u..2 * u]).to_owned();
            let mut g = z.slice(s![.., 2 * u..3 * u]).to_owned();
            let mut o = z.slice(s![.., 3 * u..4 * u]).to_owned();
            act2(ra, &mut i);
            act2(ra, &mut f);
            act2(a, &mut g);
            act2(ra, &mut o);
            c = &f * &c + &i * &g;
            let mut ac = c.clone();
            act2(a, &mut ac);
            *h = &o * &ac;
        })
    }
    fn params_text(&self, f: usize) -> String {
        let u = self.units;
        let b = if self.use_bias { u } else { 0 };
        format!(
            "params = 4 gates × ({u}·({f} + {u}){}) = {}",
            plus_bias(self.use_bias, u),
            4 * (u * (f + u) + b)
        )
    }
}

/// A GRU's input-side and recurrent-side biases (the latter only with `reset_after`).
type GruBiases = (Option<Array1<f32>>, Option<Array1<f32>>);

impl Gru {
    /// The input and recurrent biases: the two rows of a `(2, 3·units)` bias with
    /// `reset_after`, else the one bias on the input side.
    fn biases(&self, bias: Option<&ArrayD<f32>>) -> Result<GruBiases, Problem> {
        Ok(match bias {
            Some(b) if self.reset_after => {
                let b2 = mat(b, "bias")?;
                (
                    Some(b2.index_axis(Axis(0), 0).to_owned()),
                    Some(b2.index_axis(Axis(0), 1).to_owned()),
                )
            }
            Some(b) => (Some(vec1(b)), None),
            None => (None, None),
        })
    }
}

impl Gru {
    fn bias_shape(&self) -> Result<Vec<usize>, Problem> {
        let u3 = gate_width(3, self.units)?;
        Ok(if self.reset_after {
            vec![2, u3]
        } else {
            vec![u3]
        })
    }
    fn cell(&self, x: &ArrayD<f32>, w: RnnWeights<'_>) -> Result<ArrayD<f32>, Problem> {
        let RnnWeights { k, r, bias } = w;
        let u = self.units;
        let (bi, br) = self.biases(bias)?;
        let (a, ra, reset_after) = (self.activation, self.recurrent_activation, self.reset_after);
        run(x, u, self.go_backwards, self.return_sequences, |xt, h| {
            let mut xz = gemm(xt.view(), k.view());
            if let Some(b) = &bi {
                xz += b;
            }
            let (x_z, x_r, x_h) = (
                xz.slice(s![.., 0..u]).to_owned(),
                xz.slice(s![.., u..2 * u]).to_owned(),
                xz.slice(s![.., 2 * u..3 * u]).to_owned(),
            );
            let (mut z, mut rr, mut hh);
            if reset_after {
                let mut inner = gemm(h.view(), r.view());
                if let Some(b) = &br {
                    inner += b;
                }
                z = &x_z + &inner.slice(s![.., 0..u]);
                rr = &x_r + &inner.slice(s![.., u..2 * u]);
                act2(ra, &mut z);
                act2(ra, &mut rr);
                hh = &x_h + &(&rr * &inner.slice(s![.., 2 * u..3 * u]));
            } else {
                z = &x_z + &gemm(h.view(), r.slice(s![.., 0..u]));
                rr = &x_r + &gemm(h.view(), r.slice(s![.., u..2 * u]));
                act2(ra, &mut z);
                act2(ra, &mut rr);
                hh = &x_h + &gemm((&rr * &*h).view(), r.slice(s![.., 2 * u..3 * u]));
            }
            act2(a, &mut hh);
            *h = &z * &*h + &(1.0 - &z) * &hh;
        })
    }
    fn params_text(&self, f: usize) -> String {
        let u = self.units;
        let nb = if !self.use_bias {
            0
        } else if self.reset_after {
            2
        } else {
            1
        };
        format!(
            "params = 3 gates × {u}·({f} + {u} + {nb}) = {} (reset_after={} gives {nb} bias vector(s))",
            3 * u * (f + u + nb),
            if self.reset_after { "True" } else { "False" }
        )
    }
}

// ---------------------------------------------------------------------------------------
// As code
// ---------------------------------------------------------------------------------------

const UNITS_NOT_OUTPUT_DIM: &[(&str, &str)] = &[("output_dim", "use `units=`")];

/// What differs between the three recurrent kinds in `PyTorch`.
struct TorchRnn<'a> {
    module: &'static str,
    units: usize,
    activation: Activation,
    /// `None` for `SimpleRNN` (no gates).
    recurrent_activation: Option<Activation>,
    use_bias: bool,
    go_backwards: bool,
    return_sequences: bool,
    /// The note on how `PyTorch`'s biases or gates differ.
    bias_note: Option<&'a str>,
}

/// A recurrent kind's [`TorchRnn`] from its shared fields.
macro_rules! torch_rnn_of {
    ($layer:expr, $module:literal, $recurrent:expr, $note:expr) => {
        TorchRnn {
            module: $module,
            units: $layer.units,
            activation: $layer.activation,
            recurrent_activation: $recurrent,
            use_bias: $layer.use_bias,
            go_backwards: $layer.go_backwards,
            return_sequences: $layer.return_sequences,
            bias_note: $note,
        }
    };
}

fn torch_rnn(t: &mut Torch, inp: &[usize], r: &TorchRnn<'_>) {
    t.make_channels_last();
    let c = inp.last().copied().unwrap_or(0);
    let mut extra = String::new();
    let act = r.activation.name();
    if r.recurrent_activation.is_none() && r.activation == Activation::Relu {
        extra.push_str(", nonlinearity=\"relu\"");
    } else if r.activation != Activation::Tanh {
        t.note(format!(
            "activation=\"{act}\": PyTorch recurrent layers use tanh (SimpleRNN also relu)"
        ));
    }
    if matches!(r.recurrent_activation, Some(a) if a != Activation::Sigmoid) {
        t.note("PyTorch gates always use sigmoid (recurrent_activation)");
    }
    if !r.use_bias {
        extra.push_str(", bias=False");
    }
    if let Some(note) = r.bias_note {
        t.note(note);
    }
    if r.go_backwards {
        t.note("go_backwards=True: flip the sequence (x.flip(1)) before this layer");
    }
    t.push(format!(
        "nn.{}({c}, {}, batch_first=True{extra}),",
        r.module, r.units
    ));
    if r.return_sequences {
        t.push("# return_sequences=True: keep the whole output sequence");
        t.lambda("x[0]", "(output, state) → output");
    } else {
        t.push("# return_sequences=False: keep only the last step");
        t.lambda("x[0][:, -1, :]", "(output, state) → last step");
    }
}

impl KerasTable for SimpleRnn {
    const ARGS: KerasArgs = KerasArgs {
        removed: UNITS_NOT_OUTPUT_DIM,
        ..KerasArgs::with_required(&["units", "activation", "use_bias"], &["units"])
    };
}

impl LayerCode for SimpleRnn {
    fn torch(&self, t: &mut Torch, inp: &[usize], _out: &[usize]) {
        let note = format!(
            "PyTorch RNN has two bias vectors (b_ih, b_hh): {} more parameters than Keras",
            self.units
        );
        let r = torch_rnn_of!(self, "RNN", None, Some(&note));
        torch_rnn(t, inp, &r);
    }
}

const GATED_ARGS: KerasArgs = KerasArgs {
    removed: UNITS_NOT_OUTPUT_DIM,
    ..KerasArgs::with_required(
        &["units", "activation", "recurrent_activation", "use_bias"],
        &["units"],
    )
};

impl KerasTable for Lstm {
    const ARGS: KerasArgs = GATED_ARGS;
}

impl LayerCode for Lstm {
    fn torch(&self, t: &mut Torch, inp: &[usize], _out: &[usize]) {
        let note = format!(
            "PyTorch LSTM has two bias vectors (b_ih, b_hh): {} more parameters than Keras",
            4 * self.units
        );
        let r = torch_rnn_of!(self, "LSTM", Some(self.recurrent_activation), Some(&note));
        torch_rnn(t, inp, &r);
    }
}

impl KerasTable for Gru {
    const ARGS: KerasArgs = GATED_ARGS;
}

impl LayerCode for Gru {
    fn torch(&self, t: &mut Torch, inp: &[usize], _out: &[usize]) {
        let note = (!self.reset_after).then_some("Keras reset_after=False has no PyTorch equivalent (nn.GRU applies the reset gate after the matmul, like reset_after=True)");
        let r = torch_rnn_of!(self, "GRU", Some(self.recurrent_activation), note);
        torch_rnn(t, inp, &r);
    }
}

// ---------------------------------------------------------------------------------------
// Training: backpropagation through time
// ---------------------------------------------------------------------------------------

/// What every recurrent backward pass needs: the input as `(B, T, F)`, the output gradient
/// at each processing step, and the time index each step reads.
struct Bptt {
    x: Array3<f32>,
    /// `(B, T, U)`: the output gradient at processing step `k` (only the last step when
    /// the layer returns its last state).
    dh_out: Array3<f32>,
    go_backwards: bool,
}

impl Bptt {
    fn new(
        x: &ArrayD<f32>,
        dy: &ArrayD<f32>,
        units: usize,
        go_backwards: bool,
        seq: bool,
    ) -> Result<Bptt, Problem> {
        let x = x
            .clone()
            .into_dimensionality::<Ix3>()
            .map_err(|_| Problem::layout("recurrent input must be (batch, time, features)"))?;
        let (b, t, _) = x.dim();
        let dh_out = if seq {
            dy.clone()
                .into_dimensionality::<Ix3>()
                .map_err(|_| Problem::layout("recurrent gradient must be (batch, time, units)"))?
        } else {
            let last = dy
                .clone()
                .into_dimensionality::<Ix2>()
                .map_err(|_| Problem::layout("recurrent gradient must be (batch, units)"))?;
            let mut d = Array3::<f32>::zeros((b, t, units));
            if t > 0 {
                d.slice_mut(s![.., t - 1, ..]).assign(&last);
            }
            d
        };
        if dh_out.dim() != (b, t, units) {
            return Err(Problem::layout("recurrent gradient has the wrong shape"));
        }
        Ok(Bptt {
            x,
            dh_out,
            go_backwards,
        })
    }
    fn steps(&self) -> usize {
        self.x.dim().1
    }
    /// The time index processing step `k` reads.
    fn time(&self, k: usize) -> usize {
        if self.go_backwards {
            self.steps() - 1 - k
        } else {
            k
        }
    }
    fn xt(&self, k: usize) -> Array2<f32> {
        self.x.slice(s![.., self.time(k), ..]).to_owned()
    }
    fn dout(&self, k: usize) -> Array2<f32> {
        self.dh_out.slice(s![.., k, ..]).to_owned()
    }
}

/// `d` through activation `a` at pre-activation `pre` (output `out`).
fn dact(
    a: Activation,
    pre: &Array2<f32>,
    out: &Array2<f32>,
    d: &Array2<f32>,
) -> Result<Array2<f32>, Problem> {
    a.backward(
        &pre.clone().into_dyn(),
        &out.clone().into_dyn(),
        &d.clone().into_dyn(),
    )?
    .into_dimensionality::<Ix2>()
    .map_err(|_| Problem::layout("activation gradient rank"))
}

fn applied(a: Activation, pre: &Array2<f32>) -> Array2<f32> {
    activated(a, pre.clone())
}

/// [`applied`] on an array of its own (no copy).
fn activated(a: Activation, mut m: Array2<f32>) -> Array2<f32> {
    act2(a, &mut m);
    m
}

/// The gradients of kernel, recurrent kernel and bias (shaped like `bias`), and the input
/// gradient, once accumulated.
struct Acc {
    dk: Array2<f32>,
    dr: Array2<f32>,
    /// Input-side and (GRU `reset_after`) recurrent-side bias gradients.
    db: Array1<f32>,
    db_r: Array1<f32>,
    dx: Array3<f32>,
}

impl Acc {
    fn new(x: &Array3<f32>, k: &Array2<f32>, r: &Array2<f32>) -> Acc {
        Acc {
            dk: Array2::zeros(k.raw_dim()),
            dr: Array2::zeros(r.raw_dim()),
            db: Array1::zeros(k.ncols()),
            db_r: Array1::zeros(r.ncols()),
            dx: Array3::zeros(x.raw_dim()),
        }
    }
    /// Input-side contributions of one step's pre-activation gradient `dz`.
    fn input_side(
        &mut self,
        bp: &Bptt,
        step: usize,
        xt: &Array2<f32>,
        dz: &Array2<f32>,
        k: &Array2<f32>,
    ) {
        self.dk += &xt.t().dot(dz);
        self.db += &dz.sum_axis(Axis(0));
        let ti = bp.time(step);
        let dxt = dz.dot(&k.t());
        self.dx.slice_mut(s![.., ti, ..]).assign(&dxt);
    }
    /// One step back through `z = x·K + h_prev·R (+ b)`: every contribution of the
    /// pre-activation gradient `dz`; returns the gradient with respect to `h_prev`.
    fn step(
        &mut self,
        bp: &Bptt,
        step: usize,
        h_prev: &Array2<f32>,
        dz: &Array2<f32>,
        (k, r): (&Array2<f32>, &Array2<f32>),
    ) -> Array2<f32> {
        self.dr += &h_prev.t().dot(dz);
        self.input_side(bp, step, &bp.xt(step), dz, k);
        dz.dot(&r.t())
    }
    fn finish(self, bias: Option<&ArrayD<f32>>, two_biases: bool) -> Result<Grads, Problem> {
        let mut dw = vec![self.dk.into_dyn(), self.dr.into_dyn()];
        if let Some(b) = bias {
            let db = if two_biases {
                ndarray::stack(Axis(0), &[self.db.view(), self.db_r.view()])
                    .map_err(|_| Problem::layout("GRU bias gradient"))?
                    .into_dyn()
            } else {
                self.db.into_dyn()
            };
            if db.shape() != b.shape() {
                return Err(Problem::layout("recurrent bias gradient shape"));
            }
            dw.push(db);
        }
        Ok(Grads {
            dx: self.dx.into_dyn(),
            dw,
        })
    }
}

impl SimpleRnn {
    fn bptt(&self, bp: &Bptt, w: RnnWeights<'_>) -> Result<Grads, Problem> {
        let RnnWeights { k, r, bias } = w;
        let b = bias.map(vec1);
        let (bsz, t, _) = bp.x.dim();
        let u = self.units;
        let a = self.activation;
        // Forward again, keeping each step's pre-activation and state.
        let mut hs = vec![Array2::<f32>::zeros((bsz, u))];
        let mut zs = Vec::with_capacity(t);
        for step in 0..t {
            let mut z = bp.xt(step).dot(&k) + hs[step].dot(&r);
            if let Some(b) = &b {
                z += b;
            }
            hs.push(applied(a, &z));
            zs.push(z);
        }
        let mut acc = Acc::new(&bp.x, &k, &r);
        let mut dh_next = Array2::<f32>::zeros((bsz, u));
        for step in (0..t).rev() {
            let dh = bp.dout(step) + &dh_next;
            let dz = dact(a, &zs[step], &hs[step + 1], &dh)?;
            dh_next = acc.step(bp, step, &hs[step], &dz, (&k, &r));
        }
        acc.finish(bias, false)
    }
}

impl Lstm {
    fn bptt(&self, bp: &Bptt, w: RnnWeights<'_>) -> Result<Grads, Problem> {
        let RnnWeights { k, r, bias } = w;
        let b = bias.map(vec1);
        let (bsz, t, _) = bp.x.dim();
        let u = self.units;
        let (a, ra) = (self.activation, self.recurrent_activation);
        let mut hs = vec![Array2::<f32>::zeros((bsz, u))];
        let mut cs = vec![Array2::<f32>::zeros((bsz, u))];
        // Per step: pre-activations z (B, 4U) and the gate values i, f, g, o.
        let mut zs = Vec::with_capacity(t);
        let mut gates = Vec::with_capacity(t);
        // activation(c) per step, kept for the backward pass.
        let mut acs = Vec::with_capacity(t);
        for step in 0..t {
            let mut z = bp.xt(step).dot(&k) + hs[step].dot(&r);
            if let Some(b) = &b {
                z += b;
            }
            let i = activated(ra, z.slice(s![.., 0..u]).to_owned());
            let f = activated(ra, z.slice(s![.., u..2 * u]).to_owned());
            let g = activated(a, z.slice(s![.., 2 * u..3 * u]).to_owned());
            let o = activated(ra, z.slice(s![.., 3 * u..4 * u]).to_owned());
            let c = &f * &cs[step] + &i * &g;
            let ac = applied(a, &c);
            let h = &o * &ac;
            cs.push(c);
            acs.push(ac);
            hs.push(h);
            zs.push(z);
            gates.push([i, f, g, o]);
        }
        let mut acc = Acc::new(&bp.x, &k, &r);
        let mut dh_next = Array2::<f32>::zeros((bsz, u));
        let mut dc_next = Array2::<f32>::zeros((bsz, u));
        for step in (0..t).rev() {
            let [i, f, g, o] = &gates[step];
            let z = &zs[step];
            let (c, ac) = (&cs[step + 1], &acs[step]);
            let dh = bp.dout(step) + &dh_next;
            let d_o = &dh * ac;
            let dc = &dc_next + &dact(a, c, ac, &(&dh * o))?;
            let di = &dc * g;
            let dg = &dc * i;
            let df = &dc * &cs[step];
            dc_next = &dc * f;
            let mut dz = Array2::<f32>::zeros((bsz, 4 * u));
            let parts = [(ra, i, di), (ra, f, df), (a, g, dg), (ra, o, d_o)];
            for (gi, (act, out, d)) in parts.iter().enumerate() {
                let pre = z.slice(s![.., gi * u..(gi + 1) * u]).to_owned();
                dz.slice_mut(s![.., gi * u..(gi + 1) * u])
                    .assign(&dact(*act, &pre, out, d)?);
            }
            dh_next = acc.step(bp, step, &hs[step], &dz, (&k, &r));
        }
        acc.finish(bias, false)
    }
}

impl Gru {
    fn bptt(&self, bp: &Bptt, w: RnnWeights<'_>) -> Result<Grads, Problem> {
        let RnnWeights { k, r, bias } = w;
        let u = self.units;
        let (bi, br) = self.biases(bias)?;
        let (a, ra, reset_after) = (self.activation, self.recurrent_activation, self.reset_after);
        let (bsz, t, _) = bp.x.dim();
        let cols = |m: &Array2<f32>, g: usize| m.slice(s![.., g * u..(g + 1) * u]).to_owned();
        let rk = |g: usize| r.slice(s![.., g * u..(g + 1) * u]).to_owned();
        struct Step {
            /// Pre-activations of z, r, hh; gate values z, r, hh; the recurrent inner term
            /// of hh (`reset_after`) or `r·h_prev`.
            pre: [Array2<f32>; 3],
            val: [Array2<f32>; 3],
            inner_h: Array2<f32>,
        }
        let mut hs = vec![Array2::<f32>::zeros((bsz, u))];
        let mut steps = Vec::with_capacity(t);
        for step in 0..t {
            let hp = &hs[step];
            let mut xz = bp.xt(step).dot(&k);
            if let Some(b) = &bi {
                xz += b;
            }
            let (pz, pr, inner_h) = if reset_after {
                let mut inner = hp.dot(&r);
                if let Some(b) = &br {
                    inner += b;
                }
                (
                    cols(&xz, 0) + cols(&inner, 0),
                    cols(&xz, 1) + cols(&inner, 1),
                    cols(&inner, 2),
                )
            } else {
                (
                    cols(&xz, 0) + hp.dot(&rk(0)),
                    cols(&xz, 1) + hp.dot(&rk(1)),
                    Array2::zeros((bsz, u)),
                )
            };
            let zg = applied(ra, &pz);
            let rg = applied(ra, &pr);
            let (ph, inner_h) = if reset_after {
                (cols(&xz, 2) + &rg * &inner_h, inner_h)
            } else {
                let rh = &rg * hp;
                (cols(&xz, 2) + rh.dot(&rk(2)), rh)
            };
            let hh = applied(a, &ph);
            let h = &zg * hp + &(1.0 - &zg) * &hh;
            hs.push(h);
            steps.push(Step {
                pre: [pz, pr, ph],
                val: [zg, rg, hh],
                inner_h,
            });
        }
        let mut acc = Acc::new(&bp.x, &k, &r);
        let mut dh_next = Array2::<f32>::zeros((bsz, u));
        for step in (0..t).rev() {
            let st = &steps[step];
            let hp = &hs[step];
            let [zg, rg, hh] = &st.val;
            let dh = bp.dout(step) + &dh_next;
            let dzg = &dh * &(hp - hh);
            let dhh = &dh * &(1.0 - zg);
            let mut dh_prev = &dh * zg;
            let dph = dact(a, &st.pre[2], hh, &dhh)?;
            let mut dxz = Array2::<f32>::zeros((bsz, 3 * u));
            let mut dinner = Array2::<f32>::zeros((bsz, 3 * u));
            let drg;
            if reset_after {
                drg = &dph * &st.inner_h;
                dinner.slice_mut(s![.., 2 * u..3 * u]).assign(&(&dph * rg));
            } else {
                // hh_pre = x_h + (r·h_prev)·R_h
                let drh = dph.dot(&rk(2).t());
                let mut dr_h = acc.dr.slice_mut(s![.., 2 * u..3 * u]);
                dr_h += &st.inner_h.t().dot(&dph);
                drg = &drh * hp;
                dh_prev += &(&drh * rg);
            }
            let dpz = dact(ra, &st.pre[0], zg, &dzg)?;
            let dpr = dact(ra, &st.pre[1], rg, &drg)?;
            dxz.slice_mut(s![.., 0..u]).assign(&dpz);
            dxz.slice_mut(s![.., u..2 * u]).assign(&dpr);
            dxz.slice_mut(s![.., 2 * u..3 * u]).assign(&dph);
            if reset_after {
                dinner.slice_mut(s![.., 0..u]).assign(&dpz);
                dinner.slice_mut(s![.., u..2 * u]).assign(&dpr);
                acc.dr += &hp.t().dot(&dinner);
                acc.db_r += &dinner.sum_axis(Axis(0));
                dh_prev += &dinner.dot(&r.t());
            } else {
                let mut dr_z = acc.dr.slice_mut(s![.., 0..u]);
                dr_z += &hp.t().dot(&dpz);
                let mut dr_r = acc.dr.slice_mut(s![.., u..2 * u]);
                dr_r += &hp.t().dot(&dpr);
                dh_prev += &(dpz.dot(&rk(0).t()) + dpr.dot(&rk(1).t()));
            }
            dh_next = dh_prev;
            acc.input_side(bp, step, &bp.xt(step), &dxz, &k);
        }
        acc.finish(bias, reset_after)
    }
}
