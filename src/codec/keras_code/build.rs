//! Builder: layer calls to Keras config JSON and [`Layer`]s, and a collected model to a
//! [`Model`] with its input shape.

use std::collections::{HashMap, HashSet};

use serde_json::{Map, Number, Value};

use super::eval::{shape_hint, truthy, Entry, KwArg, LayerCall, SeqModel, ShapeHint, Val};
use super::tables::{
    arg_alias, is_catalogue, keras_default_config, positional_params, prefix_of, removed_arg,
    required_args,
};
use super::CodeWarning;
use crate::codec::{CodecError, InputShapeError};
use crate::engine::layers::args::canonical_class;
use crate::engine::layers::code::KerasArgs;
#[cfg(not(target_arch = "wasm32"))]
use crate::engine::layers::multi::MultiSpec;
use crate::engine::layers::Unknown;
use crate::engine::{Layer, LayerSpec, Model};

/// JSON for a layer argument. Undefined names are refused (see [`to_json_loose`]).
fn to_json(v: &Val) -> Option<Value> {
    to_json_with(v, false)
}

/// Like [`to_json`], but dotted names become their last segment (for display configs).
fn to_json_loose(v: &Val) -> Option<Value> {
    to_json_with(v, true)
}

fn to_json_with(v: &Val, loose: bool) -> Option<Value> {
    let rec = |x: &Val| to_json_with(x, loose);
    Some(match v {
        Val::None => Value::Null,
        Val::Bool(b) => Value::Bool(*b),
        Val::Int(i) => Value::from(*i),
        Val::Float(f) => Value::Number(Number::from_f64(*f)?),
        Val::Str(s) => Value::String(s.clone()),
        Val::Tuple(x) | Val::List(x) => {
            Value::Array(x.iter().map(rec).collect::<Option<Vec<_>>>()?)
        }
        Val::Dict(pairs) => {
            let mut m = Map::new();
            for (k, v) in pairs {
                let Val::Str(k) = k else { return None };
                m.insert(k.clone(), rec(v)?);
            }
            Value::Object(m)
        }
        Val::Path(p) if loose => Value::String(p.rsplit('.').next().unwrap_or(p).to_string()),
        _ => return None,
    })
}

/// The first undefined name inside a value, if any.
fn undefined_name(v: &Val) -> Option<String> {
    match v {
        Val::Path(p) => Some(p.clone()),
        Val::Tuple(x) | Val::List(x) => x.iter().find_map(undefined_name),
        _ => None,
    }
}

/// Keras-style fresh names (`dense`, `dense_1`, ...), like [`Model::fresh_name`] but in
/// constant time per name for long models.
#[derive(Default)]
struct Namer {
    taken: HashSet<String>,
    next: HashMap<String, usize>,
}

impl Namer {
    fn take(&mut self, name: &str) {
        self.taken.insert(name.to_string());
    }
    fn fresh(&mut self, prefix: &str) -> String {
        if !self.taken.contains(prefix) {
            self.take(prefix);
            return prefix.to_string();
        }
        let mut i = self.next.get(prefix).copied().unwrap_or(1);
        loop {
            let n = format!("{prefix}_{i}");
            i += 1;
            if !self.taken.contains(&n) {
                self.next.insert(prefix.to_string(), i);
                self.take(&n);
                return n;
            }
        }
    }
}

/// A layer built from a call, plus any input shape it gives.
struct Built {
    layer: Option<Layer>,
    input: Option<ShapeHint>,
    input_length: Option<ShapeHint>,
}

fn error_layer(class: &str, config: Map<String, Value>, reason: String) -> LayerSpec {
    LayerSpec::Unknown(Unknown {
        class_name: canonical_class(class).to_string(),
        config: Value::Object(config),
        reason,
    })
}

/// A layer call being read into a Keras config: the config so far, the input shapes it
/// gives, and the problems that make it an error layer.
struct LayerArgs<'w> {
    /// Canonical class name.
    class: String,
    /// A class Flatland knows (its arguments are checked); others are kept as written.
    known: bool,
    defaults: Option<Value>,
    /// The config keys Keras 3 knows for the class.
    fields: Vec<String>,
    config: Map<String, Value>,
    name: Option<String>,
    input: Option<ShapeHint>,
    input_length: Option<ShapeHint>,
    problems: Vec<String>,
    warnings: &'w mut Vec<CodeWarning>,
}

impl LayerArgs<'_> {
    fn warn(&mut self, line: usize, col: usize, msg: String) {
        self.warnings.push(CodeWarning {
            line,
            column: col,
            message: msg,
        });
    }

    /// A warning that also makes the layer an error layer.
    fn problem(&mut self, line: usize, col: usize, msg: String) {
        self.warn(line, col, msg.clone());
        self.problems.push(msg);
    }

    /// Positional arguments to names, then the keyword arguments.
    fn named(&mut self, call: &LayerCall) -> Vec<KwArg> {
        let params = positional_params(&self.class);
        let mut named: Vec<KwArg> = Vec::new();
        for (i, (v, line, col, src)) in call.pos.iter().enumerate() {
            match params.get(i) {
                Some(p) => named.push(((*p).to_string(), v.clone(), *line, *col, src.clone())),
                None if self.known => {
                    let msg = format!(
                        "`{}` takes at most {} positional argument(s); `{src}` is one too many",
                        call.class,
                        params.len()
                    );
                    self.problem(*line, *col, msg);
                }
                None => named.push((format!("arg{i}"), v.clone(), *line, *col, src.clone())),
            }
        }
        let args = LayerSpec::keras_args_of(&self.class).unwrap_or(&KerasArgs::NONE);
        for &(i, keras1) in args.keras1_positional {
            if let (Some((Val::Int(_), line, col, s)), Some(param)) =
                (call.pos.get(i), args.positional.get(i))
            {
                self.warn(*line, *col, format!("`{}(..., {s})`: Keras 3 reads the {} argument as `{param}={s}` (in Keras 1 it was {keras1})", call.class, ordinal(i)));
            }
        }
        named.extend(call.kw.iter().cloned());
        named
    }

    /// One named argument into the config (or the name, or an input shape).
    fn read(&mut self, key: &str, v: &Val, line: usize, col: usize, src: &str) {
        let key = arg_alias(&self.class, key).map_or(key, |a| a);
        if key == "name" {
            match v {
                Val::Str(s) if !s.is_empty() => self.name = Some(s.clone()),
                _ => self.warn(
                    line,
                    col,
                    format!("`name={src}` is not a string; using a generated name"),
                ),
            }
            return;
        }
        if let Some(fix) = removed_arg(&self.class, key) {
            let msg = format!(
                "Keras 3 does not accept `{key}=` in {} (Keras 1/2 argument): {fix}",
                self.class
            );
            self.problem(line, col, msg);
            if let Some(j) = to_json_loose(v) {
                self.config.insert(key.to_string(), j);
            }
            return;
        }
        if self.shape_arg(key, v, line, col, src) {
            return;
        }
        if !self.known {
            if let Some(j) = to_json_loose(v) {
                self.config.insert(key.to_string(), j);
            }
            return;
        }
        if !self.fields.iter().any(|f| f == key) {
            // Initializers, regularizers, constraints, dtype...: no effect on shapes.
            return;
        }
        self.value(key, v, line, col, src);
    }

    /// The arguments that give input shapes, and `data_format`; `true` when the argument
    /// is used up.
    fn shape_arg(&mut self, key: &str, v: &Val, line: usize, col: usize, src: &str) -> bool {
        match key {
            "input_shape" => {
                self.input = Some(shape_hint(v, false, line, col, src));
                if let Val::Int(_) = v {
                    self.warn(line, col, format!("`input_shape={src}` is a number, not a tuple: Keras raises an error; Flatland reads it as ({src},) — write `({src},)`"));
                }
                true
            }
            // An input shape, unless the kind has an `input_dim` of its own (Embedding).
            "input_dim" if !self.fields.iter().any(|f| f == "input_dim") => {
                self.input = Some(length_hint(v, 0, line, col, || {
                    format!("cannot read `input_dim={src}`: give a number")
                }));
                true
            }
            "batch_input_shape" | "batch_shape" => {
                self.input = Some(shape_hint(v, true, line, col, src));
                true
            }
            // Keras 2's Embedding(input_length=), ignored by Keras 3: the input length.
            "input_length"
                if LayerSpec::keras_args_of(&self.class)
                    .is_some_and(|a| a.accepted_legacy.contains(&"input_length")) =>
            {
                self.input_length = Some(length_hint(v, 1, line, col, || {
                    format!("cannot read `input_length={src}`")
                }));
                true
            }
            "data_format" => {
                if let Val::Str(s) = v {
                    if s == "channels_first" {
                        let msg = "`data_format=\"channels_first\"`: Flatland follows Keras's default channels_last layout only".to_string();
                        self.problem(line, col, msg);
                    }
                }
                true
            }
            _ => false,
        }
    }

    /// A config value of a known class, read as the type of its Keras default.
    fn value(&mut self, key: &str, v: &Val, line: usize, col: usize, src: &str) {
        let default = self.defaults.as_ref().and_then(|d| d.get(key));
        let value = match (default, v) {
            (Some(Value::Bool(_)), _) => truthy(v).map(Value::Bool),
            (_, Val::Layer(l)) if key == "activation" => {
                let a = activation_of(&l.class);
                if let Some(a) = a {
                    self.warn(
                        line,
                        col,
                        format!("`activation={src}` read as `activation=\"{a}\"`"),
                    );
                }
                a.map(Value::from)
            }
            // `activation=tf.nn.relu`, `activation=keras.activations.softmax`.
            (Some(Value::String(_)), Val::Path(p)) => {
                Some(Value::from(p.rsplit('.').next().unwrap_or(p)))
            }
            _ => to_json(v),
        };
        if let Some(j) = value {
            self.config.insert(key.to_string(), j);
        } else {
            let msg = match undefined_name(v) {
                Some(n) => format!("cannot read `{key}={src}`: `{n}` is not defined in the code (Flatland reads variables assigned a literal, e.g. `{n} = 10`)"),
                None => format!("cannot read `{key}={src}`: Flatland reads literal values (numbers, strings, tuples) and simple variables only"),
            };
            self.problem(line, col, msg);
        }
    }

    /// The layer from the config read, or an error layer saying what went wrong.
    fn spec(mut self, call: &LayerCall) -> LayerSpec {
        let class = self.class.clone();
        #[cfg(not(target_arch = "wasm32"))]
        if !self.known && MultiSpec::from_config(&class, &Value::Null).is_some() {
            // A graph-only kind (Add, Concatenate, MultiHeadAttention, …): read by the graph
            // importer from this config.
            return LayerSpec::from_config(&class, &Value::Object(self.config));
        }
        if !self.known {
            self.warn(
                call.line,
                call.col,
                format!("layer class `{}` is not supported by Flatland", call.class),
            );
            return LayerSpec::from_config(&class, &Value::Object(self.config));
        }
        for r in required_args(&class) {
            if !self.config.contains_key(*r)
                && !self.problems.iter().any(|p| p.contains(&format!("`{r}=")))
            {
                let msg = format!("{class} is missing its required argument `{r}`");
                self.problem(call.line, call.col, msg);
            }
        }
        if let Some(Value::Object(d)) = &self.defaults {
            // Keras defaults where Flatland's UI defaults differ.
            for (k, v) in d {
                if !self.config.contains_key(k) && !required_args(&class).contains(&k.as_str()) {
                    self.config.insert(k.clone(), v.clone());
                }
            }
        }
        if self.problems.is_empty() {
            let spec = LayerSpec::from_config(&class, &Value::Object(self.config));
            if let LayerSpec::Unknown(u) = &spec {
                self.warnings.push(CodeWarning {
                    line: call.line,
                    column: call.col,
                    message: u.reason.clone(),
                });
            }
            spec
        } else {
            error_layer(&class, self.config, self.problems.join("; "))
        }
    }
}

/// A one-dimensional input shape from a number of at least `min`, else `err()`.
fn length_hint(
    v: &Val,
    min: i64,
    line: usize,
    col: usize,
    err: impl FnOnce() -> String,
) -> ShapeHint {
    let shape = match v {
        Val::Int(n) if *n >= min => Ok(vec![usize::try_from(*n).unwrap_or(0)]),
        _ => Err(err()),
    };
    ShapeHint { shape, line, col }
}

/// The activation an activation layer passed as `activation=` stands for.
fn activation_of(class: &str) -> Option<&'static str> {
    LayerSpec::keras_args_of(class).and_then(|a| a.as_activation)
}

/// `first`, `second`, … for a 0-based argument index.
fn ordinal(i: usize) -> String {
    match i {
        0 => "first".into(),
        1 => "second".into(),
        2 => "third".into(),
        3 => "fourth".into(),
        n => format!("{}th", n + 1),
    }
}

/// The input shape an `InputLayer(...)` gives.
fn input_layer_shape(call: &LayerCall, named: &[KwArg]) -> ShapeHint {
    named
        .iter()
        .find(|n| n.0 == "shape" || n.0 == "input_shape")
        .map(|n| shape_hint(&n.1, false, n.2, n.3, &n.4))
        .or_else(|| {
            named
                .iter()
                .find(|n| n.0 == "batch_shape" || n.0 == "batch_input_shape")
                .map(|n| shape_hint(&n.1, true, n.2, n.3, &n.4))
        })
        .unwrap_or(ShapeHint {
            shape: Err("`InputLayer` without a shape".into()),
            line: call.line,
            col: call.col,
        })
}

fn build_layer(call: &LayerCall, namer: &mut Namer, warnings: &mut Vec<CodeWarning>) -> Built {
    let class = canonical_class(&call.class).to_string();
    let known = is_catalogue(&class) || class == "InputLayer";
    let defaults = keras_default_config(&class);
    let fields: Vec<String> = match &defaults {
        Some(Value::Object(o)) => o.keys().cloned().collect(),
        _ => Vec::new(),
    };
    let mut args = LayerArgs {
        class,
        known,
        defaults,
        fields,
        config: Map::new(),
        name: None,
        input: None,
        input_length: None,
        problems: Vec::new(),
        warnings,
    };
    let named = args.named(call);
    if args.class == "InputLayer" {
        return Built {
            layer: None,
            input: Some(input_layer_shape(call, &named)),
            input_length: None,
        };
    }
    for (key, v, line, col, src) in &named {
        args.read(key, v, *line, *col, src);
    }
    let (input, input_length) = (args.input.take(), args.input_length.take());
    let (name, prefix) = (args.name.take(), prefix_of(&args.class));
    let spec = args.spec(call);
    let name = match name {
        Some(n) => {
            namer.take(&n);
            n
        }
        None => namer.fresh(&prefix),
    };
    Built {
        layer: Some(Layer::new(name, spec)),
        input,
        input_length,
    }
}

/// A warning at the place a shape was given.
fn note(warnings: &mut Vec<CodeWarning>, h: &ShapeHint, message: impl Into<String>) {
    warnings.push(CodeWarning {
        line: h.line,
        column: h.col,
        message: message.into(),
    });
}

/// A model being put together from a collected model's entries, with the input shapes
/// seen on the way.
struct Assembly<'w> {
    model: Model,
    namer: Namer,
    /// From `Input(...)` or `InputLayer(...)` before the first layer.
    input: Option<ShapeHint>,
    /// From `input_shape=` (or the like) on the first layer.
    first_layer_hint: Option<ShapeHint>,
    /// From `Embedding(input_length=)` on the first layer.
    embedding_length: Option<ShapeHint>,
    first_layer_at: Option<(usize, usize)>,
    warnings: &'w mut Vec<CodeWarning>,
}

impl Assembly<'_> {
    fn entry(&mut self, entry: &Entry) {
        match entry {
            Entry::Input(h) => {
                if self.model.layers.is_empty() && self.input.is_none() {
                    self.input = Some(h.clone());
                } else {
                    note(
                        self.warnings,
                        h,
                        "an input after the first layer is ignored",
                    );
                }
            }
            Entry::Layer(call) => self.layer(call),
            Entry::Bad { line, col, msg } => {
                self.warnings.push(CodeWarning {
                    line: *line,
                    column: *col,
                    message: msg.clone(),
                });
                let name = self.namer.fresh("error");
                self.model.layers.push(Layer::new(
                    name,
                    LayerSpec::Unknown(Unknown {
                        class_name: "Unreadable".into(),
                        config: Value::Object(Map::new()),
                        reason: format!("line {line}, column {col}: {msg}"),
                    }),
                ));
            }
        }
    }

    fn layer(&mut self, call: &LayerCall) {
        let built = build_layer(call, &mut self.namer, self.warnings);
        let first = self.model.layers.is_empty();
        if let Some(h) = built.input {
            if built.layer.is_none() {
                // InputLayer
                if first && self.input.is_none() {
                    self.input = Some(h);
                } else {
                    note(
                        self.warnings,
                        &h,
                        "an InputLayer after the first layer is ignored",
                    );
                }
            } else if first {
                self.first_layer_hint = Some(h);
            } else {
                note(
                    self.warnings,
                    &h,
                    "an input shape on a layer other than the first is ignored by Keras",
                );
            }
        }
        if let Some(h) = built.input_length {
            if first {
                self.embedding_length = Some(h);
            } else {
                note(self.warnings, &h, "`input_length` is ignored by Keras 3");
            }
        }
        if let Some(l) = built.layer {
            if first {
                self.first_layer_at = Some((call.line, call.col));
            }
            self.model.layers.push(l);
        }
    }

    /// The model's input shape: an input, else the first layer's, else `build(...)`'s,
    /// else an Embedding's `input_length`.
    fn chosen_input(&mut self, build: Option<ShapeHint>) -> Option<ShapeHint> {
        if self.input.is_some() {
            if let Some(h) = &self.embedding_length {
                note(self.warnings, h, "`input_length` is ignored by Keras 3 (the model's input shape is given elsewhere)");
            }
            self.input.take()
        } else if self.first_layer_hint.is_some() {
            if let Some(h) = &self.embedding_length {
                note(self.warnings, h, "`input_length` is ignored by Keras 3");
            }
            self.first_layer_hint.take()
        } else if let Some(b) = build {
            Some(b)
        } else if let Some(h) = self.embedding_length.take() {
            let n = h
                .shape
                .as_ref()
                .ok()
                .and_then(|s| s.first())
                .map_or_else(|| "?".into(), ToString::to_string);
            note(self.warnings, &h, "Keras 3 ignores `input_length`; Flatland uses it as the input length (input shape ({n},)) — in Keras 3 write `keras.Input(shape=({n},))`".replace("{n}", &n));
            Some(h)
        } else {
            None
        }
    }
}

pub(super) fn finish(m: &SeqModel, warnings: &mut Vec<CodeWarning>) -> Result<Model, CodecError> {
    let mut a = Assembly {
        model: Model {
            name: m.name.clone(),
            input_shape: Vec::new(),
            layers: Vec::new(),
        },
        namer: Namer::default(),
        input: None,
        first_layer_hint: None,
        embedding_length: None,
        first_layer_at: None,
        warnings,
    };
    for entry in &m.entries {
        a.entry(entry);
    }
    if let Some(h) = a.chosen_input(m.build.clone()) {
        match h.shape {
            Ok(s) => a.model.input_shape = s,
            Err(msg) => {
                return Err(CodecError::InputShape(InputShapeError::Code {
                    line: h.line,
                    column: h.col,
                    message: msg,
                }))
            }
        }
    } else {
        let (line, col) = a.first_layer_at.unwrap_or((m.line, m.col));
        return Err(CodecError::InputShape(InputShapeError::MissingInCode {
            line,
            column: col,
        }));
    }
    let _ = m.functional;
    Ok(a.model)
}

#[cfg(not(target_arch = "wasm32"))]
/// A graph model from a `keras.Model(inputs=..., outputs=...)` call: every tensor the
/// outputs depend on, in the order the code made them (so each layer comes after its
/// inputs).
///
/// # Errors
/// An input without a readable shape; a layer object called twice (a shared layer).
pub(super) fn finish_graph(
    it: &super::eval::Interp,
    call: &super::eval::GraphCall,
    warnings: &mut Vec<CodeWarning>,
) -> Result<crate::engine::graph::Graph, CodecError> {
    use crate::engine::graph::{Graph, GraphInput, Node, Op, Source};
    let name = it
        .models
        .get(call.model)
        .map_or_else(|| "functional".to_string(), |m| m.name.clone());
    // Every tensor the outputs reach, through the layers that made them.
    let mut needed = vec![false; it.tensors.len()];
    let mut stack: Vec<usize> = call.outputs.clone();
    stack.extend(&call.inputs);
    while let Some(t) = stack.pop() {
        if t >= needed.len() || needed[t] {
            continue;
        }
        needed[t] = true;
        if let Some((_, ins)) = it.tensors[t].made_by() {
            stack.extend(ins);
        }
    }
    let mut namer = Namer::default();
    let mut source: HashMap<usize, Source> = HashMap::new();
    let mut inputs = Vec::new();
    let mut layers: Vec<Node> = Vec::new();
    let mut calls_seen: HashSet<usize> = HashSet::new();
    // Input names first, so layer names never take them.
    for (t, tensor) in it.tensors.iter().enumerate() {
        if needed[t] && tensor.made_by().is_none() {
            if let Some(n) = &tensor.input_name {
                namer.take(n);
            }
        }
    }
    for (t, tensor) in it.tensors.iter().enumerate() {
        if !needed[t] {
            continue;
        }
        match tensor.made_by() {
            None => {
                let shape = tensor.input.shape.clone().map_err(|message| {
                    CodecError::InputShape(InputShapeError::Code {
                        line: tensor.input.line,
                        column: tensor.input.col,
                        message,
                    })
                })?;
                let name = tensor
                    .input_name
                    .clone()
                    .unwrap_or_else(|| namer.fresh("input_layer"));
                source.insert(t, Source::Input(inputs.len()));
                inputs.push(GraphInput {
                    name,
                    shape,
                    batch: None,
                });
            }
            Some((lc, ins)) if tensor.arith.is_some() => {
                use crate::engine::layers::merge::{Elementwise, MergeOp, ScalarKind, ScalarOp};
                let Some((kind, constant)) = tensor.arith else {
                    continue;
                };
                let op = match (constant, kind) {
                    (Some((value, scalar_first)), _) => MultiSpec::Scalar(ScalarOp {
                        op: match kind {
                            '-' => ScalarKind::Subtract,
                            '*' => ScalarKind::Multiply,
                            '/' => ScalarKind::Divide,
                            _ => ScalarKind::Add,
                        },
                        value,
                        scalar_first,
                    }),
                    (None, '-') => MultiSpec::Elementwise(Elementwise {
                        op: MergeOp::Subtract,
                    }),
                    (None, '*') => MultiSpec::Elementwise(Elementwise {
                        op: MergeOp::Multiply,
                    }),
                    (None, _) => MultiSpec::Elementwise(Elementwise { op: MergeOp::Add }),
                };
                let inbound = ins.iter().filter_map(|i| source.get(i).copied()).collect();
                source.insert(t, Source::Layer(layers.len()));
                layers.push(Node {
                    name: namer.fresh(&prefix_of(&lc.class)),
                    op: Op::Multi(op),
                    inbound,
                    operation: true,
                });
            }
            Some((lc, ins)) => {
                if !calls_seen.insert(lc.serial) {
                    return Err(CodecError::Code {
                        line: lc.line,
                        column: lc.col,
                        message: format!(
                            "this `{}` is called on more than one input (a shared layer): Flatland reads each layer called once",
                            lc.class
                        ),
                    });
                }
                let class = canonical_class(&lc.class).to_string();
                let built = build_layer(lc, &mut namer, warnings);
                let Some(layer) = built.layer else {
                    continue;
                };
                let op = match (&layer.spec, MultiSpec::from_config(&class, &Value::Null)) {
                    (LayerSpec::Unknown(u), Some(_)) => {
                        match MultiSpec::from_config(&class, &u.config) {
                            Some(Ok(m)) => Op::Multi(m),
                            Some(Err(reason)) => Op::Invalid {
                                class_name: class.clone(),
                                reason: format!("invalid {class} config: {reason}"),
                            },
                            None => Op::Single(layer.spec.clone()),
                        }
                    }
                    _ => Op::Single(layer.spec.clone()),
                };
                // A merge called on one tensor, not a list (`Add()(x)`).
                let op = match op {
                    Op::Multi(m) if m.takes_list() && tensor.multi.is_none() => Op::Invalid {
                        class_name: m.class_name().to_string(),
                        reason: crate::codec::keras_graph::not_a_list(m.class_name()),
                    },
                    op => op,
                };
                let inbound = ins.iter().filter_map(|i| source.get(i).copied()).collect();
                source.insert(t, Source::Layer(layers.len()));
                layers.push(Node {
                    name: layer.name,
                    op,
                    inbound,
                    operation: false,
                });
            }
        }
    }
    let ends = |ts: &[usize]| -> Vec<Source> {
        ts.iter().filter_map(|t| source.get(t).copied()).collect()
    };
    let g = Graph {
        name,
        inputs,
        layers,
        outputs: ends(&call.outputs),
    };
    // Keras lists a Functional model's layers by depth, not in the order the code made them.
    Ok(g.reordered(&g.keras_layer_order()))
}
