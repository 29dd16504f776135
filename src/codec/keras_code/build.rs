//! Builder: layer calls to Keras config JSON and [`Layer`]s, and a collected model to a
//! [`Model`] with its input shape.

use std::collections::{HashMap, HashSet};

use serde_json::{Map, Number, Value};

use super::eval::{shape_hint, truthy, Entry, LayerCall, SeqModel, ShapeHint, Val};
use super::tables::{
    arg_alias, is_catalogue, keras_default_config, positional_params, prefix_of, removed_arg,
    required_args,
};
use super::CodeWarning;
use crate::codec::CodecError;
use crate::engine::layers::args::canonical_class;
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

fn build_layer(call: &LayerCall, namer: &mut Namer, warnings: &mut Vec<CodeWarning>) -> Built {
    let class = canonical_class(&call.class).to_string();
    let mut warn = |line: usize, col: usize, msg: String| {
        warnings.push(CodeWarning {
            line,
            column: col,
            message: msg,
        })
    };
    let mut out = Built {
        layer: None,
        input: None,
        input_length: None,
    };

    // Positional arguments to names.
    let params = positional_params(&class);
    let mut named: Vec<(String, Val, usize, usize, String)> = Vec::new();
    let mut problems: Vec<String> = Vec::new();
    let known = is_catalogue(&class) || class == "InputLayer";
    for (i, (v, line, col, src)) in call.pos.iter().enumerate() {
        match params.get(i) {
            Some(p) => named.push(((*p).to_string(), v.clone(), *line, *col, src.clone())),
            None if known => {
                let msg = format!(
                    "`{}` takes at most {} positional argument(s); `{src}` is one too many",
                    call.class,
                    params.len()
                );
                warn(*line, *col, msg.clone());
                problems.push(msg);
            }
            None => named.push((format!("arg{i}"), v.clone(), *line, *col, src.clone())),
        }
    }
    if matches!(class.as_str(), "Conv2D")
        && call.pos.len() >= 3
        && matches!(call.pos.get(2).map(|p| &p.0), Some(Val::Int(_)))
    {
        let (s, line, col) = call
            .pos
            .get(2)
            .map_or((String::new(), call.line, call.col), |p| {
                (p.3.clone(), p.1, p.2)
            });
        warn(line, col, format!("`{}(..., {s})`: Keras 3 reads the third argument as `strides={s}` (in Keras 1 it was the kernel width)", call.class));
    }
    named.extend(call.kw.iter().cloned());

    if class == "InputLayer" {
        let hint = named
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
            });
        out.input = Some(hint);
        return out;
    }

    let defaults = keras_default_config(&class);
    let fields: Vec<String> = match &defaults {
        Some(Value::Object(o)) => o.keys().cloned().collect(),
        _ => Vec::new(),
    };
    let mut config = Map::new();
    let mut name: Option<String> = None;
    for (key, v, line, col, src) in &named {
        let key = arg_alias(&class, key).map_or(key.as_str(), |a| a);
        if key == "name" {
            match v {
                Val::Str(s) if !s.is_empty() => name = Some(s.clone()),
                _ => warn(
                    *line,
                    *col,
                    format!("`name={src}` is not a string; using a generated name"),
                ),
            }
            continue;
        }
        if let Some(fix) = removed_arg(&class, key) {
            let msg =
                format!("Keras 3 does not accept `{key}=` in {class} (Keras 1/2 argument): {fix}");
            warn(*line, *col, msg.clone());
            problems.push(msg);
            if let Some(j) = to_json_loose(v) {
                config.insert(key.to_string(), j);
            }
            continue;
        }
        match key {
            "input_shape" => {
                out.input = Some(shape_hint(v, false, *line, *col, src));
                if let Val::Int(_) = v {
                    warn(*line, *col, format!("`input_shape={src}` is a number, not a tuple: Keras raises an error; Flatland reads it as ({src},) — write `({src},)`"));
                }
                continue;
            }
            "input_dim" if class != "Embedding" => {
                out.input = Some(match v {
                    Val::Int(n) if *n >= 0 => ShapeHint {
                        shape: Ok(vec![usize::try_from(*n).unwrap_or(0)]),
                        line: *line,
                        col: *col,
                    },
                    _ => ShapeHint {
                        shape: Err(format!("cannot read `input_dim={src}`: give a number")),
                        line: *line,
                        col: *col,
                    },
                });
                continue;
            }
            "batch_input_shape" | "batch_shape" => {
                out.input = Some(shape_hint(v, true, *line, *col, src));
                continue;
            }
            "input_length" if class == "Embedding" => {
                out.input_length = Some(match v {
                    Val::Int(n) if *n > 0 => ShapeHint {
                        shape: Ok(vec![usize::try_from(*n).unwrap_or(0)]),
                        line: *line,
                        col: *col,
                    },
                    _ => ShapeHint {
                        shape: Err(format!("cannot read `input_length={src}`")),
                        line: *line,
                        col: *col,
                    },
                });
                continue;
            }
            "data_format" => {
                if let Val::Str(s) = v {
                    if s == "channels_first" {
                        let msg = "`data_format=\"channels_first\"`: Flatland follows Keras's default channels_last layout only".to_string();
                        warn(*line, *col, msg.clone());
                        problems.push(msg);
                    }
                }
                continue;
            }
            _ => {}
        }
        if !known {
            if let Some(j) = to_json_loose(v) {
                config.insert(key.to_string(), j);
            }
            continue;
        }
        if !fields.iter().any(|f| f == key) {
            // Initializers, regularizers, constraints, dtype...: no effect on shapes.
            continue;
        }
        let default = defaults.as_ref().and_then(|d| d.get(key));
        let value = match (default, v) {
            (Some(Value::Bool(_)), _) => truthy(v).map(Value::Bool),
            (_, Val::Layer(l)) if key == "activation" => {
                let a = match canonical_class(&l.class) {
                    "ReLU" => Some("relu"),
                    "LeakyReLU" => Some("leaky_relu"),
                    "ELU" => Some("elu"),
                    "Softmax" => Some("softmax"),
                    _ => None,
                };
                if let Some(a) = a {
                    warn(
                        *line,
                        *col,
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
        match value {
            Some(j) => {
                config.insert(key.to_string(), j);
            }
            None => {
                let msg = match undefined_name(v) {
                    Some(n) => format!("cannot read `{key}={src}`: `{n}` is not defined in the code (Flatland reads variables assigned a literal, e.g. `{n} = 10`)"),
                    None => format!("cannot read `{key}={src}`: Flatland reads literal values (numbers, strings, tuples) and simple variables only"),
                };
                warn(*line, *col, msg.clone());
                problems.push(msg);
            }
        }
    }

    let spec = if !known {
        warn(
            call.line,
            call.col,
            format!("layer class `{}` is not supported by Flatland", call.class),
        );
        LayerSpec::from_config(&class, &Value::Object(config))
    } else {
        for r in required_args(&class) {
            if !config.contains_key(*r) && !problems.iter().any(|p| p.contains(&format!("`{r}="))) {
                let msg = format!("{class} is missing its required argument `{r}`");
                warn(call.line, call.col, msg.clone());
                problems.push(msg);
            }
        }
        if let Some(Value::Object(d)) = &defaults {
            // Keras defaults where Flatland's UI defaults differ.
            for (k, v) in d {
                if !config.contains_key(k) && !required_args(&class).contains(&k.as_str()) {
                    config.insert(k.clone(), v.clone());
                }
            }
        }
        if problems.is_empty() {
            let spec = LayerSpec::from_config(&class, &Value::Object(config));
            if let LayerSpec::Unknown(u) = &spec {
                warn(call.line, call.col, u.reason.clone());
            }
            spec
        } else {
            error_layer(&class, config, problems.join("; "))
        }
    };
    let name = match name {
        Some(n) => {
            namer.take(&n);
            n
        }
        None => namer.fresh(&prefix_of(&class)),
    };
    out.layer = Some(Layer::new(name, spec));
    out
}

pub(super) fn finish(m: &SeqModel, warnings: &mut Vec<CodeWarning>) -> Result<Model, CodecError> {
    let mut model = Model {
        name: m.name.clone(),
        input_shape: Vec::new(),
        layers: Vec::new(),
    };
    let mut namer = Namer::default();
    let mut input: Option<ShapeHint> = None;
    let mut first_layer_hint: Option<ShapeHint> = None;
    let mut embedding_length: Option<ShapeHint> = None;
    let mut first_layer_at: Option<(usize, usize)> = None;
    for entry in &m.entries {
        match entry {
            Entry::Input(h) => {
                if model.layers.is_empty() && input.is_none() {
                    input = Some(h.clone());
                } else {
                    warnings.push(CodeWarning {
                        line: h.line,
                        column: h.col,
                        message: "an input after the first layer is ignored".into(),
                    });
                }
            }
            Entry::Layer(call) => {
                let built = build_layer(call, &mut namer, warnings);
                let first = model.layers.is_empty();
                if let Some(h) = built.input {
                    if built.layer.is_none() {
                        // InputLayer
                        if first && input.is_none() {
                            input = Some(h);
                        } else {
                            warnings.push(CodeWarning {
                                line: h.line,
                                column: h.col,
                                message: "an InputLayer after the first layer is ignored".into(),
                            });
                        }
                    } else if first {
                        first_layer_hint = Some(h);
                    } else {
                        warnings.push(CodeWarning {
                            line: h.line,
                            column: h.col,
                            message:
                                "an input shape on a layer other than the first is ignored by Keras"
                                    .into(),
                        });
                    }
                }
                if let Some(h) = built.input_length {
                    if first {
                        embedding_length = Some(h);
                    } else {
                        warnings.push(CodeWarning {
                            line: h.line,
                            column: h.col,
                            message: "`input_length` is ignored by Keras 3".into(),
                        });
                    }
                }
                if let Some(l) = built.layer {
                    if first {
                        first_layer_at = Some((call.line, call.col));
                    }
                    model.layers.push(l);
                }
            }
            Entry::Bad { line, col, msg } => {
                warnings.push(CodeWarning {
                    line: *line,
                    column: *col,
                    message: msg.clone(),
                });
                let name = namer.fresh("error");
                model.layers.push(Layer::new(
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
    let chosen = if input.is_some() {
        if let Some(h) = &embedding_length {
            warnings.push(CodeWarning {
                line: h.line,
                column: h.col,
                message: "`input_length` is ignored by Keras 3 (the model's input shape is given elsewhere)".into(),
            });
        }
        input
    } else if first_layer_hint.is_some() {
        if let Some(h) = &embedding_length {
            warnings.push(CodeWarning {
                line: h.line,
                column: h.col,
                message: "`input_length` is ignored by Keras 3".into(),
            });
        }
        first_layer_hint
    } else if let Some(b) = m.build.clone() {
        Some(b)
    } else if let Some(h) = embedding_length {
        warnings.push(CodeWarning {
            line: h.line,
            column: h.col,
            message: "Keras 3 ignores `input_length`; Flatland uses it as the input length (input shape ({n},)) — in Keras 3 write `keras.Input(shape=({n},))`"
                .replace("{n}", &h.shape.as_ref().ok().and_then(|s| s.first()).map_or_else(|| "?".into(), ToString::to_string)),
        });
        Some(h)
    } else {
        None
    };
    match chosen {
        Some(h) => match h.shape {
            Ok(s) => model.input_shape = s,
            Err(msg) => {
                return Err(CodecError::InputShape(format!(
                    "line {}, column {}: {msg}",
                    h.line, h.col
                )))
            }
        },
        None => {
            let (line, col) = first_layer_at.unwrap_or((m.line, m.col));
            return Err(CodecError::InputShape(format!(
                "line {line}, column {col}: the model has no input shape; add `keras.Input(shape=(...))` as the first layer, `input_shape=(...)` on the first layer, or `model.build((None, ...))`"
            )));
        }
    }
    let _ = m.functional;
    Ok(model)
}
