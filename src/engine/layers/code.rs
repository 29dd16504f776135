//! How a layer kind is written as code: what Keras 3's constructor accepts (the doors of the
//! Keras code importer and the Keras exporter) and its `PyTorch` translation.
//!
//! Each layer kind implements [`LayerCode`] in its own family file, next to its spec and shape
//! rule; [`LayerSpec::code`](super::LayerSpec::code) reaches it. The importer, the exporters
//! and the field editor ask these descriptors instead of matching on class names. The trait
//! is separate from [`LayerRules`](super::LayerRules) so that the page's first module, which
//! never writes code, does not link any of it (only the tools worker does).

use serde_json::{Map, Value};

use super::args::Padding;
use super::window::Window;

/// How Keras 3's constructor takes one layer kind's arguments.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct KerasArgs {
    /// Constructor parameters that may be given positionally, in order.
    pub positional: &'static [&'static str],
    /// Arguments Keras requires: a call or a config without them raises `TypeError`.
    pub required: &'static [&'static str],
    /// Renamed arguments Keras 3 still accepts, `(old, new)`.
    pub aliases: &'static [(&'static str, &'static str)],
    /// Keras 1/2 arguments Keras 3 refuses for this kind, `(argument, what to write instead)`,
    /// besides the ones every kind refuses ([`removed_arg`]).
    pub removed: &'static [(&'static str, &'static str)],
    /// Arguments of the every-kind list that this kind still accepts (Embedding's
    /// `input_length`, which Keras 3 ignores).
    pub accepted_legacy: &'static [&'static str],
    /// Positional arguments Keras 3 reads differently from Keras 1, `(index, what Keras 1
    /// read there)`: `Conv2D(32, 3, 3)`'s third argument is now `strides`.
    pub keras1_positional: &'static [(usize, &'static str)],
    /// The activation this layer stands for when passed as `activation=layers.ReLU()`.
    pub as_activation: Option<&'static str>,
}

impl KerasArgs {
    /// A kind with no positional or required arguments.
    pub const NONE: KerasArgs = KerasArgs {
        positional: &[],
        required: &[],
        aliases: &[],
        removed: &[],
        accepted_legacy: &[],
        keras1_positional: &[],
        as_activation: None,
    };

    /// Only positional parameters.
    pub const fn positional(positional: &'static [&'static str]) -> KerasArgs {
        KerasArgs {
            positional,
            ..KerasArgs::NONE
        }
    }

    /// Positional parameters, of which `required` are required.
    pub const fn with_required(
        positional: &'static [&'static str],
        required: &'static [&'static str],
    ) -> KerasArgs {
        KerasArgs {
            positional,
            required,
            ..KerasArgs::NONE
        }
    }

    /// The new name of a renamed argument.
    pub fn alias(&self, arg: &str) -> Option<&'static str> {
        self.aliases
            .iter()
            .find(|(a, _)| *a == arg)
            .map(|(_, n)| *n)
    }
}

/// Keras 1/2 arguments that Keras 3 refuses in every layer kind, with what to write instead.
const REMOVED_ANYWHERE: &[(&str, &str)] = &[
    ("init", "use `kernel_initializer=`"),
    ("border_mode", "use `padding=`"),
    (
        "dim_ordering",
        "use `data_format=` (channels_last is the default)",
    ),
    ("nb_filter", "use `filters=`"),
    ("nb_row", "use `kernel_size=`"),
    ("nb_col", "use `kernel_size=`"),
    ("subsample", "use `strides=`"),
    ("subsample_length", "use `strides=`"),
    ("filter_length", "use `kernel_size=`"),
    ("pool_length", "use `pool_size=`"),
    ("W_regularizer", "use `kernel_regularizer=`"),
    ("b_regularizer", "use `bias_regularizer=`"),
    ("W_constraint", "use `kernel_constraint=`"),
    ("b_constraint", "use `bias_constraint=`"),
    ("inner_init", "use `recurrent_initializer=`"),
    ("inner_activation", "use `recurrent_activation=`"),
    ("forget_bias_init", "use `unit_forget_bias=`"),
    ("dropout_W", "use `dropout=`"),
    ("dropout_U", "use `recurrent_dropout=`"),
    ("consume_less", "remove it"),
    (
        "input_length",
        "remove it (give the input shape with `keras.Input`)",
    ),
];

/// Why Keras 3 refuses `arg` for a kind with these arguments, and what to write instead.
pub fn removed_arg(args: &KerasArgs, arg: &str) -> Option<&'static str> {
    if let Some((_, fix)) = args.removed.iter().find(|(a, _)| *a == arg) {
        return Some(fix);
    }
    if args.accepted_legacy.contains(&arg) {
        return None;
    }
    REMOVED_ANYWHERE
        .iter()
        .find(|(a, _)| *a == arg)
        .map(|(_, fix)| *fix)
}

/// How Keras 3's constructor takes a layer kind's arguments, as a constant: the page reads
/// single fields of it (a kind's required arguments, its renamed ones) at compile time, so
/// it links neither the rest of the table nor the PyTorch translations.
pub trait KerasTable {
    const ARGS: KerasArgs = KerasArgs::NONE;
}

/// What every layer kind says about itself as code (with its [`KerasTable`]).
pub trait LayerCode {
    /// Keras's own defaults where Flatland's differ, written into this kind's default config
    /// (Flatland's defaults are UI defaults, e.g. `Dense.units = 16`, and for transposed
    /// convolutions a stride of 2).
    fn keras_defaults(&self, _config: &mut Map<String, Value>) {}

    /// The `PyTorch` translation: modules pushed onto `t`. `inp` and `out` are the Keras
    /// shapes of this layer's input and output, without the batch.
    fn torch(&self, t: &mut Torch, inp: &[usize], out: &[usize]);
}

// ---------------------------------------------------------------------------------------
// Python literals
// ---------------------------------------------------------------------------------------

/// A Python string literal (double quotes).
pub fn py_str(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\x{:02x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A Python float literal: f32 config values print short (`0.1`, not `0.10000000149011612`).
pub fn py_float(f: f64) -> String {
    if !f.is_finite() {
        return if f.is_nan() {
            "float(\"nan\")".into()
        } else if f > 0.0 {
            "float(\"inf\")".into()
        } else {
            "-float(\"inf\")".into()
        };
    }
    let narrow = f as f32;
    let s = if f64::from(narrow) == f {
        format!("{narrow}")
    } else {
        format!("{f}")
    };
    if s.contains(['.', 'e', 'E']) {
        s
    } else {
        format!("{s}.0")
    }
}

/// A JSON value as a Python literal: lists become tuples, `null` → `None`.
pub fn py_value(v: &Value) -> String {
    match v {
        Value::Null => "None".into(),
        Value::Bool(b) => if *b { "True" } else { "False" }.into(),
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                i.to_string()
            } else if let Some(u) = n.as_u64() {
                u.to_string()
            } else {
                py_float(n.as_f64().unwrap_or(0.0))
            }
        }
        Value::String(s) => py_str(s),
        Value::Array(items) => match items.as_slice() {
            [one] => format!("({},)", py_value(one)),
            _ => format!(
                "({})",
                items.iter().map(py_value).collect::<Vec<_>>().join(", ")
            ),
        },
        Value::Object(o) => format!(
            "{{{}}}",
            o.iter()
                .map(|(k, v)| format!("{}: {}", py_str(k), py_value(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// A Python tuple of dims: `(3,)`, `(28, 28, 1)`.
pub fn shape_tuple(dims: &[usize]) -> String {
    match dims {
        [] => "()".into(),
        [one] => format!("({one},)"),
        _ => format!("({})", join(dims, ", ")),
    }
}

/// One int when every value is the same, else a tuple.
pub fn int_or_tuple(v: &[usize]) -> String {
    match v {
        [a, rest @ ..] if rest.iter().all(|x| x == a) => a.to_string(),
        _ => shape_tuple(v),
    }
}

fn join(v: &[usize], sep: &str) -> String {
    v.iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(sep)
}

/// An int-or-tuple setting broadcast to `rank` values (`default` when empty).
pub fn ints(v: &[usize], rank: usize, default: usize) -> Vec<usize> {
    match v {
        [] => vec![default; rank],
        [one] => vec![*one; rank],
        _ => v.to_vec(),
    }
}

// ---------------------------------------------------------------------------------------
// The PyTorch writer
// ---------------------------------------------------------------------------------------

/// The `nn.Sequential` being written: its items and the layout of the current tensor.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Torch {
    /// Lines inside `nn.Sequential(...)`.
    pub items: Vec<String>,
    /// The current tensor is channels-first (`PyTorch` layout) rather than Keras's.
    pub cf: bool,
    /// Non-batch rank of the current tensor.
    pub rank: usize,
    /// A `Lambda` module was used (the helper class must be written).
    pub lambda: bool,
}

impl Torch {
    /// A writer for a model whose input has this non-batch rank.
    pub fn new(rank: usize) -> Torch {
        Torch {
            rank,
            ..Torch::default()
        }
    }
    /// One item.
    pub fn push(&mut self, s: impl Into<String>) {
        self.items.push(s.into());
    }
    /// A `# NOTE:` comment.
    pub fn note(&mut self, s: impl AsRef<str>) {
        self.items.push(format!("# NOTE: {}", s.as_ref()));
    }
    /// A `Lambda(lambda x: body)` module.
    pub fn lambda(&mut self, body: &str, comment: &str) {
        self.lambda = true;
        if comment.is_empty() {
            self.push(format!("Lambda(lambda x: {body}),"));
        } else {
            self.push(format!("Lambda(lambda x: {body}),  # {comment}"));
        }
    }
    /// Make the current tensor channels-first (for conv/pool layers).
    pub fn make_channels_first(&mut self) {
        if !self.cf && self.rank >= 2 {
            let mut p = vec![0, self.rank];
            p.extend(1..self.rank);
            self.lambda(
                &format!("x.permute({})", join(&p, ", ")),
                "channels last (Keras) → channels first (PyTorch)",
            );
            self.cf = true;
        }
    }
    /// Back to Keras's channels-last layout.
    pub fn make_channels_last(&mut self) {
        if self.cf && self.rank >= 2 {
            let mut p = vec![0];
            p.extend(2..=self.rank);
            p.push(1);
            self.lambda(
                &format!("x.permute({})", join(&p, ", ")),
                "channels first → channels last (Keras layout)",
            );
        }
        self.cf = false;
    }
    /// A permute of Keras axes (`p` without the batch, 1-based as Keras's `Permute`).
    pub fn permute(&mut self, dims: &[usize], comment: &str) {
        let mut p = vec![0];
        p.extend(dims);
        self.lambda(&format!("x.permute({})", join(&p, ", ")), comment);
    }

    /// Activation as modules; `dim` is the channel axis for softmax.
    pub fn activation(&mut self, name: &str) {
        let dim = if self.cf { "1" } else { "-1" };
        match name {
            "linear" | "" => {}
            "relu" => self.push("nn.ReLU(),"),
            "relu6" => self.push("nn.ReLU6(),"),
            "sigmoid" => self.push("nn.Sigmoid(),"),
            "hard_sigmoid" => self.push("nn.Hardsigmoid(),"),
            "tanh" => self.push("nn.Tanh(),"),
            "softmax" => self.push(format!("nn.Softmax(dim={dim}),")),
            "log_softmax" => self.push(format!("nn.LogSoftmax(dim={dim}),")),
            "softplus" => self.push("nn.Softplus(),"),
            "softsign" => self.push("nn.Softsign(),"),
            "elu" => self.push("nn.ELU(),"),
            "selu" => self.push("nn.SELU(),"),
            "gelu" => self.push("nn.GELU(),"),
            "silu" | "swish" => self.push("nn.SiLU(),"),
            "hard_silu" | "hard_swish" => self.push("nn.Hardswish(),"),
            "mish" => self.push("nn.Mish(),"),
            "leaky_relu" => {
                self.push("nn.LeakyReLU(0.2),  # keras.activations.leaky_relu default slope");
            }
            "exponential" => self.lambda("torch.exp(x)", "activation=\"exponential\""),
            other => self.note(format!("activation `{other}` has no PyTorch module here")),
        }
    }

    /// Explicit zero padding for Keras "same" with stride > 1 (TensorFlow pads more at the
    /// end); `false` when no explicit padding is needed. `inp`: the spatial dims in Keras
    /// order.
    pub fn same_padding(&mut self, inp: &[usize], k: &[usize], s: &[usize], d: &[usize]) -> bool {
        if s.iter().all(|&x| x == 1) {
            return false;
        }
        let pads: Vec<(usize, usize)> = (0..k.len())
            .map(|i| {
                let n = inp.get(i).copied().unwrap_or(0);
                let (s, d) = (
                    s.get(i).copied().unwrap_or(1),
                    d.get(i).copied().unwrap_or(1),
                );
                Window::new(n, k[i], s, d, Padding::Same)
                    .geometry()
                    .map_or((0, 0), |g| g.pads())
            })
            .collect();
        self.push(
            "# Keras 'same' padding with stride >1 is asymmetric; no direct PyTorch equivalent:",
        );
        self.push("# the explicit zero padding below reproduces TensorFlow's (extra row/column at the end).");
        match pads.as_slice() {
            [(a, b)] => self.push(format!("nn.ConstantPad1d(({a}, {b}), 0.0),")),
            [(t, b), (l, r)] => self.push(format!("nn.ZeroPad2d(({l}, {r}, {t}, {b})),")),
            _ => {}
        }
        true
    }
}

/// `, a, b` for a non-empty list of extra arguments, else nothing.
pub fn extra_args(extra: &[String]) -> String {
    if extra.is_empty() {
        String::new()
    } else {
        format!(", {}", extra.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals() {
        assert_eq!(py_float(0.1_f32.into()), "0.1");
        assert_eq!(py_float(2.0), "2.0");
        assert_eq!(py_float(f64::NAN), "float(\"nan\")");
        assert_eq!(shape_tuple(&[3]), "(3,)");
        assert_eq!(int_or_tuple(&[2, 2]), "2");
        assert_eq!(int_or_tuple(&[2, 3]), "(2, 3)");
        assert_eq!(ints(&[3], 2, 1), [3, 3]);
        assert_eq!(ints(&[], 2, 1), [1, 1]);
    }

    #[test]
    fn removed_args_follow_the_kind() {
        let plain = KerasArgs::NONE;
        assert_eq!(
            removed_arg(&plain, "init"),
            Some("use `kernel_initializer=`")
        );
        assert!(removed_arg(&plain, "input_length").is_some());
        let embedding = KerasArgs {
            accepted_legacy: &["input_length"],
            ..KerasArgs::NONE
        };
        assert_eq!(removed_arg(&embedding, "input_length"), None);
        let dense = KerasArgs {
            removed: &[("output_dim", "use `units=`")],
            ..KerasArgs::NONE
        };
        assert_eq!(removed_arg(&dense, "output_dim"), Some("use `units=`"));
        assert_eq!(removed_arg(&plain, "output_dim"), None);
    }
}
