//! Code out for graph models: Keras 3 Functional Python that real Keras rebuilds
//! identically ([`to_keras_graph_code`]), and a `PyTorch` `nn.Module` whose `forward`
//! follows the graph ([`to_pytorch_graph_code`]).
//!
//! Each layer is one line `name = layers.Kind(args, name="name")(inputs)`, in topological
//! order, with the arguments the chain exporter writes for chain kinds.

use std::collections::{HashMap, HashSet};

use serde_json::Value;

use super::export::{keras_args, LAMBDA_HELPER};
use crate::engine::graph::{analyze, Graph, GraphAnalysis, Op, Source};
use crate::engine::layers::code::{py_float, py_str, py_value, shape_tuple, Torch};
use crate::engine::layers::merge::{DotAxes, MergeOp, ScalarOp};
use crate::engine::layers::multi::MultiSpec;
use crate::engine::shape::Shape;

const KEYWORDS: &[&str] = &[
    "False", "None", "True", "and", "as", "assert", "async", "await", "break", "class", "continue",
    "def", "del", "elif", "else", "except", "finally", "for", "from", "global", "if", "import",
    "in", "is", "lambda", "nonlocal", "not", "or", "pass", "raise", "return", "try", "while",
    "with", "yield", "keras", "layers", "model", "torch", "nn", "self", "x",
];

/// Python variable names for every input and layer: the Keras name made an identifier,
/// unique.
struct Names {
    inputs: Vec<String>,
    layers: Vec<String>,
}

fn identifier(name: &str) -> String {
    let mut s: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if s.is_empty() || s.starts_with(|c: char| c.is_ascii_digit()) || KEYWORDS.contains(&s.as_str())
    {
        s.insert(0, '_');
    }
    s
}

impl Names {
    fn new(g: &Graph) -> Names {
        let mut taken = HashSet::new();
        let mut fresh = |name: &str| {
            let base = identifier(name);
            let mut v = base.clone();
            let mut i = 1;
            while !taken.insert(v.clone()) {
                v = format!("{base}_{i}");
                i += 1;
            }
            v
        };
        Names {
            inputs: g.inputs.iter().map(|i| fresh(&i.name)).collect(),
            layers: g.layers.iter().map(|l| fresh(&l.name)).collect(),
        }
    }
    fn of(&self, s: Source) -> &str {
        match s {
            Source::Input(i) => self.inputs.get(i).map_or("_", String::as_str),
            Source::Layer(i) => self.layers.get(i).map_or("_", String::as_str),
        }
    }
    fn list(&self, s: &[Source]) -> Vec<&str> {
        s.iter().map(|&x| self.of(x)).collect()
    }
}

fn bracket(v: &[&str]) -> String {
    format!("[{}]", v.join(", "))
}

/// Runnable Keras 3 Functional code for the graph.
pub fn to_keras_graph_code(g: &Graph) -> String {
    let mut out = String::from("import keras\nfrom keras import layers\n");
    if uses(g, &|m| matches!(m, MultiSpec::LayerScale(_))) {
        out.push_str("from keras.src.applications.convnext import LayerScale\n");
    }
    if uses(g, &|m| matches!(m, MultiSpec::CustomScaleLayer(_))) {
        out.push_str("from keras.src.applications.inception_resnet_v2 import CustomScaleLayer\n");
    }
    out.push('\n');
    out.push_str(&body(g, "", "model"));
    out.push_str("model.summary()\n");
    out
}

/// Whether the graph (or a model nested in it) has a kind.
fn uses(g: &Graph, f: &dyn Fn(&MultiSpec) -> bool) -> bool {
    g.layers.iter().any(|l| match &l.op {
        Op::Multi(m) => f(m),
        Op::Nested { graph, .. } => uses(graph, f),
        _ => false,
    })
}

/// `x + 3.0` (or `3.0 - x`) as Python: the same text builds the Keras operation and the
/// `PyTorch` tensor arithmetic.
fn scalar_expr(s: &ScalarOp, x: &str) -> String {
    let c = py_float(s.value);
    if s.scalar_first {
        format!("{c} {} {x}", s.op.symbol())
    } else {
        format!("{x} {} {c}", s.op.symbol())
    }
}

/// A Keras operation node (`x + y`, `x * 0.5` on Keras tensors) as a Python expression, or
/// `None` when the node is a layer.
fn operation_expr(node: &crate::engine::graph::Node, ins: &[&str]) -> Option<String> {
    if !node.operation {
        return None;
    }
    match (&node.op, ins) {
        (Op::Multi(MultiSpec::Scalar(s)), [x]) => Some(scalar_expr(s, x)),
        (Op::Multi(MultiSpec::Elementwise(e)), [_, _, ..]) => {
            let sym = match e.op {
                MergeOp::Add => "+",
                MergeOp::Subtract => "-",
                MergeOp::Multiply => "*",
                _ => return None,
            };
            Some(ins.join(&format!(" {sym} ")))
        }
        _ => None,
    }
}

fn one(v: &[&str]) -> String {
    match v {
        [x] => (*x).to_string(),
        many => bracket(many),
    }
}

/// The lines that build `g` as the variable `model_var`; every variable name starts with
/// `prefix` (a nested model's code sits inside its parent's).
fn body(g: &Graph, prefix: &str, model_var: &str) -> String {
    let names = Names::new(g);
    let var_of = |v: &str| format!("{prefix}{v}");
    let (order, cyclic) = g.topological();
    let mut out = String::new();
    for (i, input) in g.inputs.iter().enumerate() {
        out.push_str(&format!(
            "{} = keras.Input(shape={}, name={})\n",
            var_of(&names.inputs[i]),
            shape_tuple(&input.shape),
            py_str(&input.name)
        ));
    }
    for &i in order.iter().chain(&cyclic) {
        let node = &g.layers[i];
        let var = var_of(&names.layers[i]);
        let ins: Vec<String> = names
            .list(&node.inbound)
            .iter()
            .map(|v| var_of(v))
            .collect();
        let ins: Vec<&str> = ins.iter().map(String::as_str).collect();
        let name = py_str(&node.name);
        if let Some(expr) = operation_expr(node, &ins) {
            out.push_str(&format!("{var} = {expr}\n"));
            continue;
        }
        let line = match &node.op {
            Op::Single(spec) => format!(
                "{var} = layers.{}({})({})",
                spec.class_name(),
                keras_args(spec, &node.name),
                one(&ins)
            ),
            Op::Multi(m) => {
                let mut args = m.rules().keras_args();
                args.push(format!("name={name}"));
                let call = if m.takes_list() {
                    bracket(&ins)
                } else {
                    ins.join(", ")
                };
                format!(
                    "{var} = {}({})({call})",
                    m.keras_callable(),
                    args.join(", ")
                )
            }
            Op::Nested { class_name, graph } if class_name == "Sequential" => {
                let mut items: Vec<String> = graph
                    .inputs
                    .iter()
                    .map(|i| format!("    keras.Input(shape={}),", shape_tuple(&i.shape)))
                    .collect();
                for l in &graph.layers {
                    if let Op::Single(spec) = &l.op {
                        items.push(format!(
                            "    layers.{}({}),",
                            spec.class_name(),
                            keras_args(spec, &l.name)
                        ));
                    }
                }
                format!(
                    "{var}_model = keras.Sequential([\n{}\n], name={name})\n{var} = {var}_model({})",
                    items.join("\n"),
                    one(&ins)
                )
            }
            Op::Nested { graph, .. } => {
                let inner = body(graph, &format!("{var}__"), &format!("{var}_model"));
                format!("{inner}{var} = {var}_model({})", one(&ins))
            }
            Op::Invalid { class_name, reason } => format!(
                "# NOTE: Flatland could not read layer {name} ({class_name}): {}\n{var} = {}",
                reason.replace('\n', " "),
                ins.first().copied().unwrap_or("None")
            ),
        };
        out.push_str(&line);
        out.push('\n');
    }
    let ins: Vec<String> = names.inputs.iter().map(|v| var_of(v)).collect();
    let ins: Vec<&str> = ins.iter().map(String::as_str).collect();
    let outs: Vec<String> = names.list(&g.outputs).iter().map(|v| var_of(v)).collect();
    let outs: Vec<&str> = outs.iter().map(String::as_str).collect();
    out.push_str(&format!(
        "{model_var} = keras.Model(inputs={}, outputs={}, name={})\n",
        one(&ins),
        one(&outs),
        py_str(&g.name)
    ));
    out
}

// ---------------------------------------------------------------------------------------
// PyTorch
// ---------------------------------------------------------------------------------------

const MHA_HELPER: &str = "class KerasMultiHeadAttention(nn.Module):
    \"\"\"keras.layers.MultiHeadAttention with Keras's weight shapes (query, key, value and
    output kernels as Keras stores them), attending over the axes between batch and features.\"\"\"

    def __init__(self, dq, dk, dv, heads, key_dim, value_dim, out_shape, use_bias=True):
        super().__init__()
        p = lambda *s: nn.Parameter(torch.zeros(*s))
        self.wq, self.wk, self.wv = p(dq, heads, key_dim), p(dk, heads, key_dim), p(dv, heads, value_dim)
        self.wo = p(heads, value_dim, *out_shape)
        self.use_bias = use_bias
        if use_bias:
            self.bq, self.bk, self.bv = p(heads, key_dim), p(heads, key_dim), p(heads, value_dim)
            self.bo = p(*out_shape)
        for w in [self.wq, self.wk, self.wv, self.wo]:
            nn.init.xavier_uniform_(w.view(w.shape[0], -1))
        self.scale = key_dim ** -0.5

    def forward(self, query, value, key=None):
        key = value if key is None else key
        q = torch.einsum('...d,dhk->...hk', query, self.wq)
        k = torch.einsum('...d,dhk->...hk', key, self.wk)
        v = torch.einsum('...d,dhk->...hk', value, self.wv)
        if self.use_bias:
            q, k, v = q + self.bq, k + self.bk, v + self.bv
        b, h = q.shape[0], q.shape[-2]
        tq, tk = q.shape[1:-2], k.shape[1:-2]
        q = q.reshape(b, -1, h, q.shape[-1]).transpose(1, 2)
        k = k.reshape(b, -1, h, k.shape[-1]).transpose(1, 2)
        v = v.reshape(b, -1, h, v.shape[-1]).transpose(1, 2)
        a = torch.softmax((q * self.scale) @ k.transpose(-1, -2), dim=-1)
        o = (a @ v).transpose(1, 2).reshape(b, *tq, h, v.shape[-1])
        y = torch.einsum('...hv,hvo->...o', o, self.wo.reshape(h, self.wo.shape[1], -1))
        y = y.reshape(b, *tq, *self.wo.shape[2:])
        return y + self.bo if self.use_bias else y
";

/// `Dot`'s batchwise dot product on two channels-last tensors.
const DOT_HELPER: &str = "def batch_dot(a, b, axis_a, axis_b, normalize=False):
    \"\"\"keras.layers.Dot: per sample, sum a and b along one axis each (batch is axis 0).\"\"\"
    if normalize:
        a = nn.functional.normalize(a, dim=axis_a, eps=1e-7)
        b = nn.functional.normalize(b, dim=axis_b, eps=1e-7)
    y = torch.stack([torch.tensordot(x, z, dims=([axis_a - 1], [axis_b - 1])) for x, z in zip(a, b)])
    return y.unsqueeze(-1) if y.dim() == 1 else y
";

/// The `forward` expression of a graph-only kind; registers its module in `init`.
fn torch_multi(
    m: &MultiSpec,
    var: &str,
    ins: &[&str],
    a: &GraphAnalysis,
    i: usize,
    init: &mut Vec<String>,
    helpers: &mut HashSet<&'static str>,
) -> String {
    let fold = |op: &str| ins.join(&format!(" {op} "));
    let shapes = &a.layers[i].inputs;
    match m {
        MultiSpec::Elementwise(e) => match e.op {
            MergeOp::Add => fold("+"),
            MergeOp::Subtract => fold("-"),
            MergeOp::Multiply => fold("*"),
            MergeOp::Average => format!("({}) / {}", fold("+"), ins.len()),
            MergeOp::Maximum | MergeOp::Minimum => {
                let f = if e.op == MergeOp::Maximum {
                    "torch.maximum"
                } else {
                    "torch.minimum"
                };
                let mut it = ins.iter();
                let first = it.next().map_or("None".to_string(), |s| (*s).to_string());
                it.fold(first, |acc, x| format!("{f}({acc}, {x})"))
            }
        },
        MultiSpec::Concatenate(c) => format!("torch.cat({}, dim={})", bracket(ins), c.axis),
        MultiSpec::Dot(d) => {
            helpers.insert(DOT_HELPER);
            let (x, y) = match d.axes {
                DotAxes::Same(x) => (x, x),
                DotAxes::Pair(x, y) => (x, y),
            };
            let norm = if d.normalize { ", normalize=True" } else { "" };
            format!("batch_dot({}, {x}, {y}{norm})", ins.join(", "))
        }
        MultiSpec::MultiHeadAttention(h) => {
            helpers.insert(MHA_HELPER);
            let last = |k: usize| shapes.get(k).and_then(Shape::last).unwrap_or(0);
            let dk = if shapes.len() > 2 { last(2) } else { last(1) };
            let out = h.output_shape.clone().unwrap_or_else(|| vec![last(0)]);
            init.push(format!(
                "self.{var} = KerasMultiHeadAttention({}, {dk}, {}, {}, {}, {}, {}, use_bias={})",
                last(0),
                last(1),
                h.num_heads,
                h.key_dim,
                h.value_dim,
                shape_tuple(&out),
                if h.use_bias { "True" } else { "False" }
            ));
            format!("self.{var}({})", ins.join(", "))
        }
        MultiSpec::Normalization(n) => {
            let w = &a.layers[i].weights;
            let shape = w.first().map(|w| w.shape.clone()).unwrap_or_default();
            let list = |v: &[f32]| {
                py_value(&Value::from(
                    v.iter().map(|x| f64::from(*x)).collect::<Vec<_>>(),
                ))
            };
            let (mean, variance) = if let Some((m, v)) = &n.given {
                (
                    format!("torch.tensor({})", list(m)),
                    format!("torch.tensor({})", list(v)),
                )
            } else {
                (
                    format!("torch.zeros{}", shape_tuple(&shape)),
                    format!("torch.ones{}", shape_tuple(&shape)),
                )
            };
            init.push(format!("self.register_buffer('{var}_mean', {mean})"));
            init.push(format!("self.register_buffer('{var}_var', {variance})"));
            format!(
                "({x} - self.{var}_mean) / torch.clamp(self.{var}_var.sqrt(), min=1e-7)  # keras.layers.Normalization",
                x = ins.first().copied().unwrap_or("None")
            )
        }
        MultiSpec::LayerScale(s) => {
            init.push(format!(
                "self.{var} = nn.Parameter(torch.full(({},), {}))  # LayerScale gamma",
                s.projection_dim, s.init_values
            ));
            format!("{} * self.{var}", ins.first().copied().unwrap_or("None"))
        }
        MultiSpec::Scalar(s) => scalar_expr(s, ins.first().copied().unwrap_or("None")),
        MultiSpec::CustomScaleLayer(s) => format!(
            "{} + {} * {}",
            ins.first().copied().unwrap_or("None"),
            ins.get(1).copied().unwrap_or("None"),
            s.scale
        ),
    }
}

/// A `PyTorch` `nn.Module` translation of the graph: one submodule per chain layer (the
/// chain exporter's translation, channels-last between layers), merges as tensor
/// operations, and `forward` in the graph's topological order.
pub fn to_pytorch_graph_code(g: &Graph) -> String {
    let a = analyze(g);
    let names = Names::new(g);
    let mut init: Vec<String> = Vec::new();
    let mut body: Vec<String> = Vec::new();
    let mut helpers: HashSet<&'static str> = HashSet::new();
    let mut lambda = false;
    let mut notes: HashMap<usize, String> = HashMap::new();
    for &i in &a.order {
        let node = &g.layers[i];
        let r = &a.layers[i];
        let var = names.layers[i].clone();
        let ins = names.list(&node.inbound);
        body.push(format!("# {} ({})", node.name, r.class_name));
        let Some(out) = r.output.as_ref() else {
            let why = r.error().map_or_else(
                || "a layer it depends on has an error".to_string(),
                ToString::to_string,
            );
            body.push(format!("# NOTE: not translated: {why}"));
            notes.insert(i, why);
            continue;
        };
        let expr = match &node.op {
            Op::Single(spec) => {
                let input = r
                    .inputs
                    .first()
                    .map(|s| s.dims().to_vec())
                    .unwrap_or_default();
                let mut t = Torch::new(input.len());
                spec.code().torch(&mut t, &input, out.dims());
                t.rank = out.rank();
                if out.rank() < 2 {
                    t.cf = false;
                }
                t.make_channels_last();
                lambda |= t.lambda;
                let items: Vec<&String> = t.items.iter().filter(|s| !s.starts_with('#')).collect();
                for n in t.items.iter().filter(|s| s.starts_with('#')) {
                    body.push(n.clone());
                }
                if items.is_empty() {
                    ins.first().copied().unwrap_or("None").to_string()
                } else {
                    let lines: Vec<String> =
                        items.iter().map(|s| format!("            {s}")).collect();
                    init.push(format!(
                        "self.{var} = nn.Sequential(\n{}\n        )",
                        lines.join("\n")
                    ));
                    format!("self.{var}({})", ins.first().copied().unwrap_or("None"))
                }
            }
            Op::Multi(m) => torch_multi(m, &var, &ins, &a, i, &mut init, &mut helpers),
            Op::Nested { .. } => {
                body.push(
                    "# NOTE: a nested model is not translated yet: it passes its input through"
                        .into(),
                );
                ins.first().copied().unwrap_or("None").to_string()
            }
            Op::Invalid { .. } => "None".into(),
        };
        body.push(format!("{var} = {expr}"));
    }
    let mut out = String::from("import torch\nfrom torch import nn\n\n");
    if lambda {
        out.push_str(LAMBDA_HELPER);
        out.push_str("\n\n");
    }
    for h in [DOT_HELPER, MHA_HELPER] {
        if helpers.contains(h) {
            out.push_str(h);
            out.push_str("\n\n");
        }
    }
    out.push_str(&format!(
        "# PyTorch translation of the Keras Functional model {} (generated by Flatland).\n",
        py_str(&g.name)
    ));
    out.push_str("# Tensors keep Keras's channels-last layout between layers.\n");
    out.push_str("class Model(nn.Module):\n    def __init__(self):\n        super().__init__()\n");
    for l in &init {
        out.push_str(&format!("        {l}\n"));
    }
    if init.is_empty() {
        out.push_str("        pass\n");
    }
    let ins: Vec<&str> = names.inputs.iter().map(String::as_str).collect();
    out.push_str(&format!("\n    def forward(self, {}):\n", ins.join(", ")));
    for l in &body {
        out.push_str(&format!("        {l}\n"));
    }
    let outs = names.list(&g.outputs);
    out.push_str(&format!("        return {}\n\n", outs.join(", ")));
    out.push_str("model = Model()\n");
    let xs: Vec<String> = g
        .inputs
        .iter()
        .enumerate()
        .map(|(k, i)| {
            let dims = std::iter::once("1".to_string())
                .chain(i.shape.iter().map(ToString::to_string))
                .collect::<Vec<_>>()
                .join(", ");
            let integer = g.layers.iter().any(|l| {
                matches!(&l.op, Op::Single(s) if s.class_name() == "Embedding")
                    && l.inbound.contains(&Source::Input(k))
            });
            if integer {
                format!("torch.zeros({dims}, dtype=torch.long)")
            } else {
                format!("torch.zeros({dims})")
            }
        })
        .collect();
    let keras: Vec<String> = g
        .outputs
        .iter()
        .map(|&s| {
            a.shape_of(s)
                .map_or_else(|| "invalid".into(), ToString::to_string)
        })
        .collect();
    out.push_str(&format!("y = model({})\n", xs.join(", ")));
    out.push_str(&format!(
        "print([t.shape for t in (y if isinstance(y, tuple) else (y,))])  # Keras: {}\n",
        keras.join(", ")
    ));
    if !notes.is_empty() {
        out.push_str(&format!(
            "# NOTE: {} layer(s) not translated (see the comments above)\n",
            notes.len()
        ));
    }
    out
}
