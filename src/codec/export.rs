//! Code out: a model as runnable Keras 3 Python ([`to_keras_code`]) and as a PyTorch
//! `nn.Sequential` translation ([`to_pytorch_code`]).
//!
//! The Keras code emits only values that differ from Keras's own defaults, but always the
//! required arguments (units, filters, kernel_size, rate, ...) and `pool_size`, and every
//! layer's name, so [`super::keras_code::parse_keras_code`] reads it back to the same model.
//!
//! The PyTorch code is shape-aware: `nn.Linear` and `nn.Conv2d` get their input sizes from
//! the analysed shapes; tensors keep Keras's channels-last layout between layers and are
//! permuted to PyTorch's channels-first layout around convolution/pooling blocks, so
//! `Flatten` sees the same order as in Keras. Where Keras has no direct PyTorch equivalent,
//! a `# NOTE:` comment says so.

use serde_json::Value;

use super::keras_code::{keras_default_config, positional_params, required_args};
use crate::engine::{analyze, LayerSpec, Model};

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

/// A Python float literal; values that are exactly an `f32` print as the shortest `f32`.
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

fn shape_tuple(dims: &[usize]) -> String {
    match dims {
        [one] => format!("({one},)"),
        _ => format!(
            "({})",
            dims.iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

// ---------------------------------------------------------------------------------------
// Keras
// ---------------------------------------------------------------------------------------

/// Arguments of one layer call, as Python source (without the class).
fn keras_args(spec: &LayerSpec, name: &str) -> String {
    let class = spec.class_name();
    let cfg = spec.to_config();
    let defaults = keras_default_config(class).unwrap_or(Value::Null);
    let mut args: Vec<String> = Vec::new();
    let required = required_args(class);
    let mut used: Vec<&str> = Vec::new();
    for p in positional_params(class) {
        if !required.contains(p) {
            break;
        }
        if let Some(v) = cfg.get(*p) {
            args.push(py_value(v));
            used.push(p);
        }
    }
    if let Value::Object(o) = &cfg {
        for (k, v) in o {
            if used.contains(&k.as_str()) {
                continue;
            }
            let always = k == "pool_size" || required.contains(&k.as_str());
            if (always || defaults.get(k) != Some(v)) && is_identifier(k) {
                args.push(format!("{k}={}", py_value(v)));
            }
        }
    }
    args.push(format!("name={}", py_str(name)));
    args.join(", ")
}

/// Runnable Keras 3 Python code for the model.
pub fn to_keras_code(model: &Model) -> String {
    let mut out = String::from(
        "import keras\nfrom keras import layers\n\nmodel = keras.Sequential(\n    [\n",
    );
    out.push_str(&format!(
        "        keras.Input(shape={}),\n",
        shape_tuple(&model.input_shape)
    ));
    for layer in &model.layers {
        match &layer.spec {
            LayerSpec::Unknown(u) => {
                let why = if u.reason.is_empty() {
                    format!("`{}` is not supported by Flatland", u.class_name)
                } else {
                    u.reason.replace('\n', " ")
                };
                out.push_str(&format!(
                    "        # NOTE: Flatland could not read this layer: {why}\n"
                ));
                if is_identifier(&u.class_name) && u.class_name != "Unreadable" {
                    let mut args: Vec<String> = match &u.config {
                        Value::Object(o) => o
                            .iter()
                            .filter(|(k, _)| is_identifier(k) && k.as_str() != "name")
                            .map(|(k, v)| format!("{k}={}", py_value(v)))
                            .collect(),
                        _ => Vec::new(),
                    };
                    args.push(format!("name={}", py_str(&layer.name)));
                    out.push_str(&format!(
                        "        layers.{}({}),\n",
                        u.class_name,
                        args.join(", ")
                    ));
                }
            }
            spec => out.push_str(&format!(
                "        layers.{}({}),\n",
                spec.class_name(),
                keras_args(spec, &layer.name)
            )),
        }
    }
    out.push_str(&format!(
        "    ],\n    name={},\n)\nmodel.summary()\n",
        py_str(&model.name)
    ));
    out
}

// ---------------------------------------------------------------------------------------
// PyTorch
// ---------------------------------------------------------------------------------------

const LAMBDA_HELPER: &str = "class Lambda(nn.Module):
    \"\"\"Wraps a function as a module (nn.Sequential needs modules).\"\"\"

    def __init__(self, fn):
        super().__init__()
        self.fn = fn

    def forward(self, x):
        return self.fn(x)
";

struct Torch {
    items: Vec<String>,
    /// The current tensor is channels-first (PyTorch layout) rather than Keras's.
    cf: bool,
    /// Non-batch rank of the current tensor.
    rank: usize,
    lambda: bool,
}

fn cfg_usize(cfg: &Value, key: &str) -> usize {
    cfg.get(key)
        .and_then(Value::as_u64)
        .and_then(|u| usize::try_from(u).ok())
        .unwrap_or(0)
}

fn cfg_f64(cfg: &Value, key: &str) -> f64 {
    cfg.get(key).and_then(Value::as_f64).unwrap_or(0.0)
}

fn cfg_bool(cfg: &Value, key: &str, default: bool) -> bool {
    cfg.get(key).and_then(Value::as_bool).unwrap_or(default)
}

fn cfg_str<'a>(cfg: &'a Value, key: &str) -> &'a str {
    cfg.get(key).and_then(Value::as_str).unwrap_or("")
}

/// An int-or-tuple config value broadcast to `rank` values.
fn cfg_ints(cfg: &Value, key: &str, rank: usize, default: usize) -> Vec<usize> {
    let v: Vec<usize> = match cfg.get(key) {
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(Value::as_u64)
            .filter_map(|u| usize::try_from(u).ok())
            .collect(),
        Some(Value::Number(n)) => n
            .as_u64()
            .and_then(|u| usize::try_from(u).ok())
            .into_iter()
            .collect(),
        _ => Vec::new(),
    };
    match v.len() {
        0 => vec![default; rank],
        1 => vec![v[0]; rank],
        _ => v,
    }
}

fn int_or_tuple(v: &[usize]) -> String {
    match v {
        [a, rest @ ..] if rest.iter().all(|x| x == a) => a.to_string(),
        _ => shape_tuple(v),
    }
}

/// TensorFlow "same" padding per axis: (before, after).
fn same_pads(n: usize, k: usize, s: usize, d: usize) -> (usize, usize) {
    let s = s.max(1);
    let out = n.div_ceil(s);
    let span = d.saturating_mul(k.saturating_sub(1)).saturating_add(1);
    let total = (out.saturating_sub(1))
        .saturating_mul(s)
        .saturating_add(span)
        .saturating_sub(n);
    (total / 2, total - total / 2)
}

fn perm_text(p: &[usize]) -> String {
    p.iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

impl Torch {
    fn push(&mut self, s: impl Into<String>) {
        self.items.push(s.into());
    }
    fn note(&mut self, s: impl AsRef<str>) {
        self.items.push(format!("# NOTE: {}", s.as_ref()));
    }
    fn lambda(&mut self, body: &str, comment: &str) {
        self.lambda = true;
        if comment.is_empty() {
            self.push(format!("Lambda(lambda x: {body}),"));
        } else {
            self.push(format!("Lambda(lambda x: {body}),  # {comment}"));
        }
    }
    /// Make the current tensor channels-first (for conv/pool layers).
    fn make_channels_first(&mut self) {
        if !self.cf && self.rank >= 2 {
            let mut p = vec![0, self.rank];
            p.extend(1..self.rank);
            self.lambda(
                &format!("x.permute({})", perm_text(&p)),
                "channels last (Keras) → channels first (PyTorch)",
            );
            self.cf = true;
        }
    }
    /// Back to Keras's channels-last layout.
    fn make_channels_last(&mut self) {
        if self.cf && self.rank >= 2 {
            let mut p = vec![0];
            p.extend(2..=self.rank);
            p.push(1);
            self.lambda(
                &format!("x.permute({})", perm_text(&p)),
                "channels first → channels last (Keras layout)",
            );
        }
        self.cf = false;
    }

    /// Activation as modules; `dim` is the channel axis for softmax.
    fn activation(&mut self, name: &str) {
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
                self.push("nn.LeakyReLU(0.2),  # keras.activations.leaky_relu default slope")
            }
            "exponential" => self.lambda("torch.exp(x)", "activation=\"exponential\""),
            other => self.note(format!("activation `{other}` has no PyTorch module here")),
        }
    }

    /// Explicit zero padding for Keras "same" with stride > 1 (TensorFlow pads more at the end).
    /// `inp`: the spatial dims in Keras order.
    fn same_padding(&mut self, inp: &[usize], k: &[usize], s: &[usize], d: &[usize]) -> bool {
        let n = k.len();
        if s.iter().all(|&x| x == 1) {
            return false;
        }
        let spatial = inp;
        let pads: Vec<(usize, usize)> = (0..n)
            .map(|i| same_pads(spatial.get(i).copied().unwrap_or(0), k[i], s[i], d[i]))
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

    fn conv(&mut self, class: &str, cfg: &Value, inp: &[usize]) {
        let r = if class.contains("1D") { 1 } else { 2 };
        let dims = if r == 1 { "1d" } else { "2d" };
        let spatial: Vec<usize> = inp.iter().take(r).copied().collect();
        self.make_channels_first();
        let c_in = inp.last().copied().unwrap_or(0);
        let k = cfg_ints(cfg, "kernel_size", r, 1);
        let s = cfg_ints(cfg, "strides", r, 1);
        let d = cfg_ints(cfg, "dilation_rate", r, 1);
        let padding = cfg_str(cfg, "padding");
        let use_bias = cfg_bool(cfg, "use_bias", true);
        let mut extra = Vec::new();
        if s.iter().any(|&x| x != 1) {
            extra.push(format!("stride={}", int_or_tuple(&s)));
        }
        if d.iter().any(|&x| x != 1) {
            extra.push(format!("dilation={}", int_or_tuple(&d)));
        }
        // Padding before the convolution (spatial dims in Keras order).
        let explicit = padding == "same" && self.same_padding(&spatial, &k, &s, &d);
        if padding == "same" && !explicit {
            extra.push("padding=\"same\"".into());
        }
        if padding == "causal" {
            let left = d[0].saturating_mul(k[0].saturating_sub(1));
            self.push(format!("nn.ConstantPad1d(({left}, 0), 0.0),  # Keras padding=\"causal\": pad the start only"));
        }
        let bias = if use_bias {
            String::new()
        } else {
            ", bias=False".into()
        };
        match class {
            "Conv1D" | "Conv2D" => {
                let filters = cfg_usize(cfg, "filters");
                let groups = cfg_usize(cfg, "groups").max(1);
                if groups != 1 {
                    extra.push(format!("groups={groups}"));
                }
                let extra = if extra.is_empty() {
                    String::new()
                } else {
                    format!(", {}", extra.join(", "))
                };
                self.push(format!(
                    "nn.Conv{dims}({c_in}, {filters}, kernel_size={}{extra}{bias}),",
                    int_or_tuple(&k)
                ));
            }
            "DepthwiseConv2D" => {
                let m = cfg_usize(cfg, "depth_multiplier").max(1);
                let extra = if extra.is_empty() {
                    String::new()
                } else {
                    format!(", {}", extra.join(", "))
                };
                self.push(format!("nn.Conv2d({c_in}, {}, kernel_size={}{extra}, groups={c_in}{bias}),  # depthwise", c_in * m, int_or_tuple(&k)));
            }
            "SeparableConv2D" => {
                let m = cfg_usize(cfg, "depth_multiplier").max(1);
                let filters = cfg_usize(cfg, "filters");
                let extra = if extra.is_empty() {
                    String::new()
                } else {
                    format!(", {}", extra.join(", "))
                };
                self.push(format!("nn.Conv2d({c_in}, {}, kernel_size={}{extra}, groups={c_in}, bias=False),  # depthwise part", c_in * m, int_or_tuple(&k)));
                self.push(format!(
                    "nn.Conv2d({}, {filters}, kernel_size=1{bias}),  # pointwise part",
                    c_in * m
                ));
            }
            _ => {}
        }
        self.activation(cfg_str(cfg, "activation"));
    }

    fn conv_transpose(&mut self, class: &str, cfg: &Value, inp: &[usize]) {
        let r = if class.contains("1D") { 1 } else { 2 };
        let dims = if r == 1 { "1d" } else { "2d" };
        self.make_channels_first();
        let c_in = inp.last().copied().unwrap_or(0);
        let filters = cfg_usize(cfg, "filters");
        let k = cfg_ints(cfg, "kernel_size", r, 1);
        let s = cfg_ints(cfg, "strides", r, 1);
        let d = cfg_ints(cfg, "dilation_rate", r, 1);
        let same = cfg_str(cfg, "padding") == "same";
        let out_pad_cfg = match cfg.get("output_padding") {
            Some(Value::Null) | None => None,
            Some(_) => Some(cfg_ints(cfg, "output_padding", r, 0)),
        };
        let mut pads = Vec::new();
        let mut ops = Vec::new();
        for i in 0..r {
            let kd = d[i].saturating_mul(k[i].saturating_sub(1)) + 1;
            let (p, op) = match (&out_pad_cfg, same) {
                (Some(op), false) => (0, op[i]),
                (Some(op), true) => (kd / 2, op[i]),
                (None, false) => (0, kd.max(s[i]) - kd),
                (None, true) => {
                    if kd >= s[i] {
                        let p = (kd - s[i]).div_ceil(2);
                        (p, 2 * p - (kd - s[i]))
                    } else {
                        (0, s[i] - kd)
                    }
                }
            };
            pads.push(p);
            ops.push(op);
        }
        let mut extra = Vec::new();
        if s.iter().any(|&x| x != 1) {
            extra.push(format!("stride={}", int_or_tuple(&s)));
        }
        if pads.iter().any(|&x| x != 0) {
            extra.push(format!("padding={}", int_or_tuple(&pads)));
        }
        if ops.iter().any(|&x| x != 0) {
            extra.push(format!("output_padding={}", int_or_tuple(&ops)));
        }
        if d.iter().any(|&x| x != 1) {
            extra.push(format!("dilation={}", int_or_tuple(&d)));
        }
        if !cfg_bool(cfg, "use_bias", true) {
            extra.push("bias=False".into());
        }
        if same {
            self.note("Keras 'same' transposed convolution crops asymmetrically; these padding values give the same output size but values may be shifted by one position");
        }
        let extra = if extra.is_empty() {
            String::new()
        } else {
            format!(", {}", extra.join(", "))
        };
        self.push(format!(
            "nn.ConvTranspose{dims}({c_in}, {filters}, kernel_size={}{extra}),",
            int_or_tuple(&k)
        ));
        self.activation(cfg_str(cfg, "activation"));
    }

    fn pool(&mut self, class: &str, cfg: &Value, inp: &[usize]) {
        let r = if class.contains("1D") { 1 } else { 2 };
        let dims = if r == 1 { "1d" } else { "2d" };
        let is_max = class.starts_with("Max");
        let spatial: Vec<usize> = inp.iter().take(r).copied().collect();
        self.make_channels_first();
        let p = cfg_ints(cfg, "pool_size", r, 2);
        let s = match cfg.get("strides") {
            Some(Value::Null) | None => p.clone(),
            _ => cfg_ints(cfg, "strides", r, 1),
        };
        let mut args = vec![format!("kernel_size={}", int_or_tuple(&p))];
        if s != p {
            args.push(format!("stride={}", int_or_tuple(&s)));
        }
        if cfg_str(cfg, "padding") == "same" {
            let pads: Vec<(usize, usize)> = (0..r)
                .map(|i| same_pads(spatial.get(i).copied().unwrap_or(0), p[i], s[i], 1))
                .collect();
            if pads.iter().any(|&(a, b)| a + b > 0) {
                args.push("ceil_mode=True".into());
                if pads.iter().all(|&(a, _)| a == 0) {
                    self.push("# Keras 'same' pooling pads only at the end here: ceil_mode=True gives the same windows");
                } else {
                    self.note("Keras 'same' pooling pads on both sides here; PyTorch has no direct equivalent (ceil_mode=True keeps the output size)");
                }
                if !is_max {
                    args.push("count_include_pad=False".into());
                }
            }
        }
        let kind = if is_max { "MaxPool" } else { "AvgPool" };
        self.push(format!("nn.{kind}{dims}({}),", args.join(", ")));
    }

    fn layer(&mut self, spec: &LayerSpec, inp: &[usize], out: &[usize]) {
        let class = spec.class_name().to_string();
        let cfg = spec.to_config();
        let c = inp.last().copied().unwrap_or(0);
        match class.as_str() {
            "Dense" => {
                self.make_channels_last();
                let units = cfg_usize(&cfg, "units");
                let bias = if cfg_bool(&cfg, "use_bias", true) {
                    ""
                } else {
                    ", bias=False"
                };
                self.push(format!("nn.Linear({c}, {units}{bias}),"));
                self.activation(cfg_str(&cfg, "activation"));
            }
            "Conv1D" | "Conv2D" | "DepthwiseConv2D" | "SeparableConv2D" => {
                self.conv(&class, &cfg, inp)
            }
            "Conv1DTranspose" | "Conv2DTranspose" => self.conv_transpose(&class, &cfg, inp),
            "MaxPooling1D" | "MaxPooling2D" | "AveragePooling1D" | "AveragePooling2D" => {
                self.pool(&class, &cfg, inp)
            }
            "GlobalAveragePooling1D"
            | "GlobalAveragePooling2D"
            | "GlobalMaxPooling1D"
            | "GlobalMaxPooling2D" => {
                self.make_channels_first();
                let dims = if class.contains("1D") { "1d" } else { "2d" };
                let kind = if class.starts_with("GlobalMax") {
                    "AdaptiveMaxPool"
                } else {
                    "AdaptiveAvgPool"
                };
                self.push(format!("nn.{kind}{dims}(1),"));
                if !cfg_bool(&cfg, "keepdims", false) {
                    self.push("nn.Flatten(),");
                    self.cf = false;
                }
            }
            "BatchNormalization" => {
                let axis = cfg.get("axis").and_then(Value::as_i64).unwrap_or(-1);
                if axis != -1 && axis != self.rank as i64 {
                    self.note(format!("BatchNormalization(axis={axis}) normalises a non-channel axis; this translation uses the last axis"));
                }
                let bn = match self.rank {
                    0 | 1 => "BatchNorm1d",
                    2 => {
                        self.make_channels_first();
                        "BatchNorm1d"
                    }
                    3 => {
                        self.make_channels_first();
                        "BatchNorm2d"
                    }
                    _ => {
                        self.make_channels_first();
                        "BatchNorm3d"
                    }
                };
                let m = cfg_f64(&cfg, "momentum");
                let eps = cfg_f64(&cfg, "epsilon");
                self.push(format!(
                    "# PyTorch momentum = 1 - Keras momentum (Keras {})",
                    py_float(m)
                ));
                let center = cfg_bool(&cfg, "center", true);
                let scale = cfg_bool(&cfg, "scale", true);
                let affine = if !center && !scale {
                    ", affine=False"
                } else {
                    ""
                };
                if center != scale {
                    self.note("Keras learns only one of beta/gamma here (center/scale); PyTorch's affine=True learns both");
                }
                self.push(format!(
                    "nn.{bn}({c}, eps={}, momentum={}{affine}),",
                    py_float(eps),
                    py_float(((1.0 - m) * 1e6).round() / 1e6)
                ));
            }
            "LayerNormalization" => {
                self.make_channels_last();
                let eps = py_float(cfg_f64(&cfg, "epsilon"));
                let axis = cfg.get("axis").and_then(Value::as_i64).unwrap_or(-1);
                if axis != -1 && axis != self.rank as i64 {
                    self.note(format!(
                        "LayerNormalization(axis={axis}) is translated over the last axis only"
                    ));
                }
                if cfg_bool(&cfg, "rms_scaling", false) {
                    self.push(format!("nn.RMSNorm({c}, eps={eps}),  # PyTorch >= 2.4"));
                } else {
                    let center = cfg_bool(&cfg, "center", true);
                    let scale = cfg_bool(&cfg, "scale", true);
                    let extra = match (center, scale) {
                        (true, true) => String::new(),
                        (false, true) => ", bias=False".into(),
                        (false, false) => ", elementwise_affine=False".into(),
                        (true, false) => {
                            self.note("Keras learns beta but not gamma here (scale=False); PyTorch LayerNorm learns both");
                            String::new()
                        }
                    };
                    self.push(format!("nn.LayerNorm({c}, eps={eps}{extra}),"));
                }
            }
            "GroupNormalization" => {
                let axis = cfg.get("axis").and_then(Value::as_i64).unwrap_or(-1);
                if axis != -1 && axis != self.rank as i64 {
                    self.note(format!("GroupNormalization(axis={axis}) is translated over the channel (last) axis only"));
                }
                self.make_channels_first();
                let groups = match cfg.get("groups").and_then(Value::as_i64) {
                    Some(-1) | None => c.to_string(),
                    Some(g) => g.to_string(),
                };
                let eps = py_float(cfg_f64(&cfg, "epsilon"));
                let (center, scale) = (
                    cfg_bool(&cfg, "center", true),
                    cfg_bool(&cfg, "scale", true),
                );
                if center != scale {
                    self.note("Keras learns only one of beta/gamma here (center/scale); PyTorch's affine=True learns both");
                }
                let affine = if !center && !scale {
                    ", affine=False"
                } else {
                    ""
                };
                self.push(format!("nn.GroupNorm({groups}, {c}, eps={eps}{affine}),"));
            }
            "UnitNormalization" => {
                self.make_channels_last();
                self.lambda("nn.functional.normalize(x, dim=-1)", "UnitNormalization");
            }
            "SimpleRNN" | "LSTM" | "GRU" => {
                self.make_channels_last();
                let units = cfg_usize(&cfg, "units");
                let module = match class.as_str() {
                    "SimpleRNN" => "RNN",
                    other => other,
                };
                let mut extra = String::new();
                let act = cfg_str(&cfg, "activation");
                if class == "SimpleRNN" && act == "relu" {
                    extra.push_str(", nonlinearity=\"relu\"");
                } else if act != "tanh" {
                    self.note(format!("activation=\"{act}\": PyTorch recurrent layers use tanh (SimpleRNN also relu)"));
                }
                if class != "SimpleRNN" && cfg_str(&cfg, "recurrent_activation") != "sigmoid" {
                    self.note("PyTorch gates always use sigmoid (recurrent_activation)");
                }
                if !cfg_bool(&cfg, "use_bias", true) {
                    extra.push_str(", bias=False");
                }
                match class.as_str() {
                    "LSTM" => self.note(format!("PyTorch LSTM has two bias vectors (b_ih, b_hh): {} more parameters than Keras", 4 * units)),
                    "SimpleRNN" => self.note(format!("PyTorch RNN has two bias vectors (b_ih, b_hh): {} more parameters than Keras", units)),
                    _ => {
                        if !cfg_bool(&cfg, "reset_after", true) {
                            self.note("Keras reset_after=False has no PyTorch equivalent (nn.GRU applies the reset gate after the matmul, like reset_after=True)");
                        }
                    }
                }
                if cfg_bool(&cfg, "go_backwards", false) {
                    self.note("go_backwards=True: flip the sequence (x.flip(1)) before this layer");
                }
                self.push(format!(
                    "nn.{module}({c}, {units}, batch_first=True{extra}),"
                ));
                if cfg_bool(&cfg, "return_sequences", false) {
                    self.push("# return_sequences=True: keep the whole output sequence");
                    self.lambda("x[0]", "(output, state) → output");
                } else {
                    self.push("# return_sequences=False: keep only the last step");
                    self.lambda("x[0][:, -1, :]", "(output, state) → last step");
                }
            }
            "Embedding" => {
                let (i, o) = (cfg_usize(&cfg, "input_dim"), cfg_usize(&cfg, "output_dim"));
                if cfg_bool(&cfg, "mask_zero", false) {
                    self.note("mask_zero=True: PyTorch has no masks; padding_idx=0 only keeps index 0 at zero");
                    self.push(format!("nn.Embedding({i}, {o}, padding_idx=0),"));
                } else {
                    self.push(format!("nn.Embedding({i}, {o}),"));
                }
            }
            "Rescaling" => {
                let (s, o) = (cfg_f64(&cfg, "scale"), cfg_f64(&cfg, "offset"));
                if o == 0.0 {
                    self.lambda(&format!("x * {}", py_float(s)), "Rescaling");
                } else {
                    self.lambda(
                        &format!("x * {} + {}", py_float(s), py_float(o)),
                        "Rescaling",
                    );
                }
            }
            "Identity" => self.push("nn.Identity(),"),
            "Flatten" => {
                self.make_channels_last();
                self.push("nn.Flatten(),");
            }
            "Reshape" => {
                self.make_channels_last();
                let t = out
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(", ");
                self.lambda(&format!("x.reshape(x.shape[0], {t})"), "Reshape");
            }
            "Permute" => {
                self.make_channels_last();
                let dims: Vec<usize> = cfg_ints(&cfg, "dims", 0, 0);
                let mut p = vec![0];
                p.extend(dims);
                self.lambda(
                    &format!("x.permute({})", perm_text(&p)),
                    "Permute (Keras dims are 1-based)",
                );
            }
            "RepeatVector" => {
                self.make_channels_last();
                let n = cfg_usize(&cfg, "n");
                self.lambda(
                    &format!("x.unsqueeze(1).expand(-1, {n}, -1)"),
                    "RepeatVector",
                );
            }
            "ZeroPadding1D" => {
                self.make_channels_first();
                let p = cfg_ints(&cfg, "padding", 2, 0);
                self.push(format!(
                    "nn.ConstantPad1d(({}, {}), 0.0),",
                    p[0],
                    p.get(1).copied().unwrap_or(p[0])
                ));
            }
            "ZeroPadding2D" => {
                self.make_channels_first();
                let p: Vec<usize> = flat_pairs(&cfg, "padding");
                self.push(format!(
                    "nn.ZeroPad2d(({}, {}, {}, {})),",
                    p[2], p[3], p[0], p[1]
                ));
            }
            "Cropping1D" => {
                self.make_channels_first();
                let p = cfg_ints(&cfg, "cropping", 2, 0);
                let n = inp.first().copied().unwrap_or(0);
                self.lambda(
                    &format!(
                        "x[:, :, {}:{}]",
                        p[0],
                        n.saturating_sub(p.get(1).copied().unwrap_or(0))
                    ),
                    "Cropping1D",
                );
            }
            "Cropping2D" => {
                self.make_channels_first();
                let p = flat_pairs(&cfg, "cropping");
                let (h, w) = (
                    inp.first().copied().unwrap_or(0),
                    inp.get(1).copied().unwrap_or(0),
                );
                self.lambda(
                    &format!(
                        "x[:, :, {}:{}, {}:{}]",
                        p[0],
                        h.saturating_sub(p[1]),
                        p[2],
                        w.saturating_sub(p[3])
                    ),
                    "Cropping2D",
                );
            }
            "UpSampling1D" => {
                self.make_channels_first();
                self.push(format!(
                    "nn.Upsample(scale_factor={}, mode=\"nearest\"),",
                    cfg_usize(&cfg, "size")
                ));
            }
            "UpSampling2D" => {
                self.make_channels_first();
                let s = cfg_ints(&cfg, "size", 2, 2);
                let mode = if cfg_str(&cfg, "interpolation") == "bilinear" {
                    "bilinear"
                } else {
                    "nearest"
                };
                self.push(format!(
                    "nn.Upsample(scale_factor=({}, {}), mode=\"{mode}\"),",
                    s[0], s[1]
                ));
            }
            "Dropout" => self.push(format!("nn.Dropout({}),", py_float(cfg_f64(&cfg, "rate")))),
            "SpatialDropout1D" => {
                self.make_channels_first();
                self.push(format!(
                    "nn.Dropout1d({}),",
                    py_float(cfg_f64(&cfg, "rate"))
                ));
            }
            "SpatialDropout2D" => {
                self.make_channels_first();
                self.push(format!(
                    "nn.Dropout2d({}),",
                    py_float(cfg_f64(&cfg, "rate"))
                ));
            }
            "AlphaDropout" => self.push(format!(
                "nn.AlphaDropout({}),",
                py_float(cfg_f64(&cfg, "rate"))
            )),
            "GaussianNoise" | "GaussianDropout" => {
                self.note(format!(
                    "{class} only acts in training and has no nn module; identity at inference"
                ));
                self.push("nn.Identity(),");
            }
            "Activation" => {
                let a = cfg_str(&cfg, "activation").to_string();
                if a == "softmax" || a == "log_softmax" {
                    self.make_channels_last();
                }
                self.activation(&a);
                if a == "linear" {
                    self.push("nn.Identity(),");
                }
            }
            "ReLU" => {
                let slope = cfg_f64(&cfg, "negative_slope");
                let thr = cfg_f64(&cfg, "threshold");
                match (
                    cfg.get("max_value").and_then(Value::as_f64),
                    slope == 0.0,
                    thr == 0.0,
                ) {
                    (None, true, true) => self.push("nn.ReLU(),"),
                    (None, false, true) => self.push(format!("nn.LeakyReLU({}),", py_float(slope))),
                    (Some(6.0), true, true) => self.push("nn.ReLU6(),"),
                    (Some(m), true, true) => {
                        self.push(format!("nn.Hardtanh(0.0, {}),", py_float(m)))
                    }
                    (m, _, _) => {
                        let mut body = format!(
                            "torch.where(x >= {t}, x, {s} * (x - {t}))",
                            t = py_float(thr),
                            s = py_float(slope)
                        );
                        if let Some(m) = m {
                            body = format!("torch.clamp({body}, max={})", py_float(m));
                        }
                        self.lambda(&body, "ReLU with threshold / max_value");
                    }
                }
            }
            "LeakyReLU" => self.push(format!(
                "nn.LeakyReLU({}),",
                py_float(cfg_f64(&cfg, "negative_slope"))
            )),
            "PReLU" => {
                self.make_channels_last();
                let n: usize = inp.iter().product();
                self.note(format!("Keras PReLU learns one alpha per element ({n} values, initialised to 0); nn.PReLU learns one per channel of dim 1"));
                self.push("nn.PReLU(init=0.0),");
            }
            "ELU" => self.push(format!(
                "nn.ELU(alpha={}),",
                py_float(cfg_f64(&cfg, "alpha"))
            )),
            "Softmax" => {
                self.make_channels_last();
                let axis = cfg.get("axis").and_then(Value::as_i64).unwrap_or(-1);
                self.push(format!("nn.Softmax(dim={axis}),"));
            }
            other => self.note(format!("layer `{other}` has no translation")),
        }
    }
}

fn flat_pairs(cfg: &Value, key: &str) -> Vec<usize> {
    let mut out = Vec::new();
    if let Some(Value::Array(a)) = cfg.get(key) {
        for p in a {
            match p {
                Value::Array(q) => out.extend(
                    q.iter()
                        .filter_map(Value::as_u64)
                        .filter_map(|u| usize::try_from(u).ok()),
                ),
                Value::Number(n) => {
                    let v = n
                        .as_u64()
                        .and_then(|u| usize::try_from(u).ok())
                        .unwrap_or(0);
                    out.extend([v, v]);
                }
                _ => {}
            }
        }
    }
    out.resize(4, 0);
    out
}

/// A PyTorch `nn.Sequential` translation of the model, shape-aware, with `# NOTE:` comments
/// where Keras semantics have no direct PyTorch equivalent.
pub fn to_pytorch_code(model: &Model) -> String {
    let analysis = analyze(model);
    let mut t = Torch {
        items: Vec::new(),
        cf: false,
        rank: model.input_shape.len(),
        lambda: false,
    };
    let mut stopped = false;
    for (layer, report) in model.layers.iter().zip(&analysis.layers) {
        t.push(format!("# {} ({})", layer.name, layer.spec.class_name()));
        match (&report.input, &report.output) {
            (Some(i), Some(o)) if !stopped => {
                t.layer(&layer.spec, i.dims(), o.dims());
                t.rank = o.rank();
                if o.rank() < 2 {
                    t.cf = false;
                }
            }
            _ => {
                let why = report.error().map_or_else(
                    || "an earlier layer has an error".to_string(),
                    ToString::to_string,
                );
                t.note(format!("not translated: {why}"));
                stopped = true;
            }
        }
    }
    t.make_channels_last();

    let embedding_first = matches!(
        model.layers.first().map(|l| &l.spec),
        Some(LayerSpec::Embedding(_))
    );
    let mut out = String::from("import torch\nfrom torch import nn\n\n");
    if t.lambda {
        out.push_str(LAMBDA_HELPER);
        out.push_str("\n\n");
    }
    out.push_str(&format!(
        "# PyTorch translation of the Keras model {} (generated by Flatland).\n",
        py_str(&model.name)
    ));
    out.push_str(
        "# Tensors keep Keras's channels-last layout between layers; convolution and pooling\n",
    );
    out.push_str("# blocks are wrapped in permutes to PyTorch's channels-first layout.\n");
    out.push_str("model = nn.Sequential(\n");
    for item in &t.items {
        out.push_str("    ");
        out.push_str(item);
        out.push('\n');
    }
    out.push_str(")\n\n");
    let dims = std::iter::once("1".to_string())
        .chain(model.input_shape.iter().map(ToString::to_string))
        .collect::<Vec<_>>()
        .join(", ");
    if embedding_first {
        out.push_str(&format!(
            "x = torch.zeros({dims}, dtype=torch.long)  # token indices\n"
        ));
    } else {
        out.push_str(&format!("x = torch.zeros({dims})\n"));
    }
    let keras_out = analysis
        .output()
        .map_or_else(|| "invalid model".to_string(), ToString::to_string);
    out.push_str(&format!(
        "print(model(x).shape)  # Keras output shape: {keras_out}\n"
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::keras_code::parse_keras_code;

    #[test]
    fn literals() {
        assert_eq!(py_value(&serde_json::json!([3])), "(3,)");
        assert_eq!(
            py_value(&serde_json::json!([[1, 1], [2, 2]])),
            "((1, 1), (2, 2))"
        );
        assert_eq!(py_value(&serde_json::json!(null)), "None");
        assert_eq!(py_value(&serde_json::json!("a\"b")), "\"a\\\"b\"");
        assert_eq!(py_float(f64::from(0.2f32)), "0.2");
        assert_eq!(py_float(1.0), "1.0");
        assert_eq!(py_float(f64::from(1e-3f32)), "0.001");
    }

    #[test]
    fn seed_keras_code_shape() {
        let code = to_keras_code(&Model::seed());
        assert!(
            code.starts_with(
                "import keras\nfrom keras import layers\n\nmodel = keras.Sequential(\n"
            ),
            "{code}"
        );
        assert!(code.contains("keras.Input(shape=(3, 2)),"));
        assert!(code.contains("layers.Dense(16, name=\"dense\"),"));
        assert!(code.contains("layers.Activation(\"relu\", name=\"activation\"),"));
        assert!(code.contains("name=\"seed\""));
        let back = parse_keras_code(&code).unwrap();
        assert_eq!(back.model, Model::seed());
        assert!(back.warnings.is_empty(), "{:?}", back.warnings);
    }

    #[test]
    fn seed_pytorch() {
        let code = to_pytorch_code(&Model::seed());
        assert!(
            code.starts_with("import torch\nfrom torch import nn\n"),
            "{code}"
        );
        assert!(code.contains("nn.Linear(2, 16),"), "{code}");
        assert!(code.contains("nn.Linear(48, 4),"), "{code}");
        assert!(code.contains("nn.ReLU(),"));
        assert!(code.contains("nn.Flatten(),"));
    }

    #[test]
    fn pytorch_conv_same_stride2_and_lstm() {
        let src = "import keras\nfrom keras import layers\nm = keras.Sequential([keras.Input((9, 9, 3)), layers.Conv2D(4, 3, strides=2, padding='same'), layers.BatchNormalization(), layers.Flatten(), layers.Reshape((25, 4)), layers.LSTM(5)])";
        let m = parse_keras_code(src).unwrap().model;
        let code = to_pytorch_code(&m);
        assert!(
            code.contains("Keras 'same' padding with stride >1 is asymmetric"),
            "{code}"
        );
        assert!(code.contains("nn.ZeroPad2d((1, 1, 1, 1)),"), "{code}");
        assert!(
            code.contains("nn.Conv2d(3, 4, kernel_size=3, stride=2),"),
            "{code}"
        );
        assert!(
            code.contains("nn.BatchNorm2d(4, eps=0.001, momentum=0.01),"),
            "{code}"
        );
        assert!(code.contains("x.permute(0, 3, 1, 2)"), "{code}");
        assert!(code.contains("x.permute(0, 2, 3, 1)"), "{code}");
        assert!(code.contains("nn.LSTM(4, 5, batch_first=True),"), "{code}");
        assert!(code.contains("return_sequences"), "{code}");
        assert!(code.contains("class Lambda(nn.Module):"), "{code}");
    }
}
