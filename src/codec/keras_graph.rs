//! Keras Functional JSON as a [`Graph`]: Keras 3 `model.to_json()` (`inbound_nodes` with
//! `keras_history`), Keras 2 / tf.keras JSON (`[name, node, tensor, kwargs]` entries) and
//! TF.js `model.json` of the same models. Linear in layers + edges (one name map).
//!
//! Used by the CLI and the tools worker; the page's first module reads chains only
//! (`keras.rs`).

use std::collections::HashMap;

use serde_json::Value;
use thiserror::Error;

use super::model_json::shape_from;
use crate::engine::graph::{Graph, GraphInput, Node, Op, Source};
use crate::engine::layers::args::canonical_class;
use crate::engine::layers::merge::{ScalarKind, ScalarOp};
use crate::engine::layers::multi::MultiSpec;
use crate::engine::LayerSpec;

/// Why a Functional file could not be read as a graph. Each names the layer.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum GraphReadError {
    #[error("not valid JSON: {0}")]
    Json(String),
    #[error("the Functional config has no `layers` list")]
    NoLayers,
    #[error("two layers are named `{0}`: Keras names are unique within a model")]
    DuplicateName(String),
    #[error("layer `{layer}` takes its input from `{from}`, which is not a layer of this model")]
    Dangling { layer: String, from: String },
    #[error("layer `{layer}` reads output {tensor} of `{from}`, which has one output")]
    TensorIndex {
        layer: String,
        from: String,
        tensor: u64,
    },
    #[error("layer `{layer}` is called {calls} times (a shared layer); Flatland reads each layer called once")]
    Shared { layer: String, calls: usize },
    #[error("layer `{layer}` has no inputs")]
    NoInbound { layer: String },
    #[error("input `{name}`: {reason}")]
    Input { name: String, reason: String },
    #[error("the model has no inputs (no InputLayer)")]
    NoInputs,
    #[error("the model's {what} `{name}` is not a layer of it")]
    Endpoint { what: &'static str, name: String },
    #[error("the model has no outputs")]
    NoOutputs,
    #[error("models nested more than {0} deep inside each other")]
    TooDeep(usize),
    #[error("nested model `{layer}`: {reason}")]
    Nested { layer: String, reason: String },
}

/// The Functional model inside a Keras JSON value, unwrapping the TF.js and h5 wrappers;
/// `None` for a Sequential model or anything else.
fn functional_config(v: &Value) -> Option<&Value> {
    if let Some(topo) = v.get("modelTopology") {
        return functional_config(topo.get("model_config").unwrap_or(topo));
    }
    if let Some(inner) = v.get("model_config") {
        return functional_config(inner);
    }
    match v.get("class_name").and_then(Value::as_str) {
        Some("Functional" | "Model") => v.get("config"),
        _ => None,
    }
}

/// Read text as a Functional graph; `Ok(None)` when it is JSON but not a Functional model
/// (read it as a chain instead).
///
/// # Errors
/// [`GraphReadError`] naming the layer whose connections cannot be read.
pub fn read_graph(text: &str) -> Result<Option<Graph>, GraphReadError> {
    let v: Value = serde_json::from_str(text).map_err(|e| GraphReadError::Json(e.to_string()))?;
    match functional_config(&v) {
        Some(config) => from_config(config).map(Some),
        None => Ok(None),
    }
}

/// One inbound reference: `(layer name, node index, tensor index)`.
type Ref = (String, u64, u64);

fn history(v: &Value) -> Option<Ref> {
    let h = v.get("config")?.get("keras_history")?.as_array()?;
    Some((
        h.first()?.as_str()?.to_string(),
        h.get(1).and_then(Value::as_u64).unwrap_or(0),
        h.get(2).and_then(Value::as_u64).unwrap_or(0),
    ))
}

/// A Keras 2 entry `[name, node, tensor, kwargs?]`.
fn entry(v: &Value) -> Option<Ref> {
    let a = v.as_array()?;
    Some((
        a.first()?.as_str()?.to_string(),
        a.get(1)?.as_u64()?,
        a.get(2).and_then(Value::as_u64).unwrap_or(0),
    ))
}

/// Tensors in a Keras 3 `args` value, in order (nested lists flattened).
fn walk3(v: &Value, out: &mut Vec<Ref>) {
    match v {
        Value::Object(o)
            if o.get("class_name").and_then(Value::as_str) == Some("__keras_tensor__") =>
        {
            if let Some(r) = history(v) {
                out.push(r);
            }
        }
        Value::Array(a) => a.iter().for_each(|x| walk3(x, out)),
        _ => {}
    }
}

/// The inbound tensors of a layer's (only) node, in argument order: positional ones,
/// then `MultiHeadAttention`'s `query`, `value`, `key` given by keyword.
fn inbound_refs(node: &Value, attention: bool) -> Vec<Ref> {
    let mut out = Vec::new();
    let kw_names: &[&str] = if attention {
        &["query", "value", "key"]
    } else {
        &[]
    };
    if let Some(args) = node.get("args") {
        // Keras 3: {"args": [...], "kwargs": {...}}
        walk3(args, &mut out);
        if let Some(kw) = node.get("kwargs") {
            for k in kw_names {
                if let Some(v) = kw.get(*k) {
                    walk3(v, &mut out);
                }
            }
        }
        return out;
    }
    // Keras 2 / TF.js: [[name, node, tensor, kwargs], ...]
    if let Some(list) = node.as_array() {
        for e in list {
            if let Some(r) = entry(e) {
                out.push(r);
                if let Some(kw) = e.as_array().and_then(|a| a.get(3)) {
                    for k in kw_names {
                        if let Some(r) = kw.get(*k).and_then(entry) {
                            out.push(r);
                        }
                    }
                }
            }
        }
    }
    out
}

/// Whether a merge's call passed a list (`Add()([a, b])`: Keras 3 `args: [[t, …]]`) or
/// several tensors (`x + y` on Keras tensors is the `Add` operation `args: [x, y]`), not
/// one tensor. Keras 2 nodes always list their inputs.
fn called_on_list(node: &Value) -> bool {
    match node.get("args").and_then(Value::as_array) {
        Some(args) => args.len() > 1 || args.first().is_some_and(Value::is_array),
        None => true,
    }
}

/// The number of an operation between a tensor and a number (`x + 3.0`: Keras 3 `args:
/// [tensor, 3.0]`), and whether it comes first.
fn scalar_arg(node: &Value) -> Option<(f64, bool)> {
    let args = node.get("args")?.as_array()?;
    match args.as_slice() {
        [t, Value::Number(n)] if t.is_object() => Some((n.as_f64()?, false)),
        [Value::Number(n), t] if t.is_object() => Some((n.as_f64()?, true)),
        _ => None,
    }
}

/// Why a merge called on one tensor is refused (Keras: "A merge layer should be called on a
/// list of inputs").
pub(crate) fn not_a_list(class: &str) -> String {
    format!("must be called on a list of tensors (`{class}()([a, b])`), not on one tensor")
}

/// `[name, 0, 0]` or a list of them.
fn endpoints(v: Option<&Value>) -> Vec<String> {
    match v {
        Some(Value::Array(a)) if a.first().is_some_and(Value::is_string) => a
            .first()
            .and_then(Value::as_str)
            .map(str::to_string)
            .into_iter()
            .collect(),
        Some(Value::Array(a)) => a.iter().filter_map(|e| entry(e).map(|r| r.0)).collect(),
        _ => Vec::new(),
    }
}

fn layer_name(l: &Value) -> String {
    l.get("name")
        .or_else(|| l.get("config").and_then(|c| c.get("name")))
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

fn input_shape(name: &str, c: &Value) -> Result<Vec<usize>, GraphReadError> {
    let err = |reason: String| GraphReadError::Input {
        name: name.to_string(),
        reason,
    };
    let dims = ["batch_shape", "batch_input_shape"]
        .iter()
        .find_map(|k| c.get(*k).and_then(Value::as_array))
        .map(|s| Value::Array(s.iter().skip(1).cloned().collect()))
        .or_else(|| c.get("shape").filter(|s| s.is_array()).cloned())
        .ok_or_else(|| err("has no shape".into()))?;
    shape_from(&dims).map_err(|e| err(e.to_string()))
}

/// Deepest nesting of models inside models that is read.
const MAX_DEPTH: usize = 32;

/// The operation of a non-input layer (a nested model read `depth` levels down).
fn op_of(l: &Value, class: &str, config: &Value, depth: usize) -> Result<Op, GraphReadError> {
    let nested = |graph: Result<Graph, GraphReadError>| -> Result<Op, GraphReadError> {
        Ok(Op::Nested {
            class_name: canonical_class(class).to_string(),
            graph: Box::new(graph?),
        })
    };
    match class {
        "Functional" | "Model" => {
            if depth >= MAX_DEPTH {
                return Err(GraphReadError::TooDeep(MAX_DEPTH));
            }
            return nested(from_config_at(config, depth + 1));
        }
        "Sequential" => {
            if depth >= MAX_DEPTH {
                return Err(GraphReadError::TooDeep(MAX_DEPTH));
            }
            let chain = super::keras::from_value(
                &serde_json::json!({"class_name": "Sequential", "config": config}),
            )
            .map_err(|e| GraphReadError::Nested {
                layer: layer_name(l),
                reason: e.to_string(),
            })?;
            return nested(Ok(Graph::from_chain(&chain)));
        }
        _ => {}
    }
    Ok(op_kind(class, config))
}

/// The operation of a layer kind (not a nested model).
fn op_kind(class: &str, config: &Value) -> Op {
    let class = canonical_class(class);
    if let Some(m) = MultiSpec::from_config(class, config) {
        return match m {
            Ok(m) => Op::Multi(m),
            Err(reason) => Op::Invalid {
                class_name: class.to_string(),
                reason: format!("invalid {class} config: {reason}"),
            },
        };
    }
    Op::Single(LayerSpec::from_keras_config(class, config))
}

/// Build the graph from a Functional `config`.
///
/// # Errors
/// [`GraphReadError`] naming the layer whose connections cannot be read.
pub fn from_config(config: &Value) -> Result<Graph, GraphReadError> {
    from_config_at(config, 0)
}

fn input_of(name: &str, c: &Value) -> Result<GraphInput, GraphReadError> {
    Ok(GraphInput {
        shape: input_shape(name, c)?,
        batch: ["batch_shape", "batch_input_shape"]
            .iter()
            .find_map(|k| c.get(*k).and_then(Value::as_array))
            .and_then(|s| s.first())
            .and_then(Value::as_u64)
            .map(|b| b as usize),
        name: name.to_string(),
    })
}

/// A non-input layer, with the references to its inputs still by name.
fn node_of(
    l: &Value,
    name: &str,
    class: &str,
    depth: usize,
) -> Result<(Node, Vec<Ref>), GraphReadError> {
    let c = l.get("config").unwrap_or(&Value::Null);
    let calls = l.get("inbound_nodes").and_then(Value::as_array);
    let calls = calls.map_or(&[][..], Vec::as_slice);
    if calls.len() > 1 {
        return Err(GraphReadError::Shared {
            layer: name.to_string(),
            calls: calls.len(),
        });
    }
    let mut op = op_of(l, class, c, depth)?;
    let attention = matches!(op, Op::Multi(MultiSpec::MultiHeadAttention(_)));
    if let (Op::Multi(m), Some(first)) = (&op, calls.first()) {
        if m.takes_list() && !called_on_list(first) {
            op = Op::Invalid {
                class_name: m.class_name().to_string(),
                reason: not_a_list(m.class_name()),
            };
        }
    }
    let operation = l
        .get("module")
        .and_then(Value::as_str)
        .is_some_and(|m| m.starts_with("keras.src.ops"));
    if let (true, Some((value, scalar_first)), Some(kind)) = (
        operation,
        calls.first().and_then(scalar_arg),
        ScalarKind::of(class),
    ) {
        op = Op::Multi(MultiSpec::Scalar(ScalarOp {
            op: kind,
            value,
            scalar_first,
        }));
    }
    let refs = calls
        .first()
        .map(|n| inbound_refs(n, attention))
        .unwrap_or_default();
    if refs.is_empty() {
        return Err(GraphReadError::NoInbound {
            layer: name.to_string(),
        });
    }
    let node = Node {
        name: name.to_string(),
        op,
        inbound: Vec::new(),
        operation,
    };
    Ok((node, refs))
}

/// Resolve a layer's references to its inputs.
fn connect(
    mut node: Node,
    refs: Vec<Ref>,
    by_name: &HashMap<String, Source>,
) -> Result<Node, GraphReadError> {
    for (from, node_index, tensor) in refs {
        let Some(&s) = by_name.get(&from) else {
            return Err(GraphReadError::Dangling {
                layer: node.name,
                from,
            });
        };
        if node_index > 0 {
            return Err(GraphReadError::Shared {
                layer: from,
                calls: node_index as usize + 1,
            });
        }
        if tensor > 0 {
            return Err(GraphReadError::TensorIndex {
                layer: node.name,
                from,
                tensor,
            });
        }
        node.inbound.push(s);
    }
    Ok(node)
}

/// Put the inputs in `input_layers` order (the model's), when it lists every input.
fn in_declared_order(mut g: Graph, declared: &[Source]) -> Graph {
    let order: Vec<usize> = declared
        .iter()
        .filter_map(|s| match s {
            Source::Input(i) => Some(*i),
            Source::Layer(_) => None,
        })
        .collect();
    if order.len() != g.inputs.len() || declared.len() != g.inputs.len() {
        return g;
    }
    let remap: HashMap<usize, usize> = order
        .iter()
        .enumerate()
        .map(|(new, &old)| (old, new))
        .collect();
    let fix = |s: &mut Source| {
        if let Source::Input(i) = s {
            *i = remap.get(i).copied().unwrap_or(*i);
        }
    };
    for n in &mut g.layers {
        n.inbound.iter_mut().for_each(fix);
    }
    g.outputs.iter_mut().for_each(fix);
    g.inputs = order.iter().map(|&old| g.inputs[old].clone()).collect();
    g
}

fn from_config_at(config: &Value, depth: usize) -> Result<Graph, GraphReadError> {
    let layers = config
        .get("layers")
        .and_then(Value::as_array)
        .ok_or(GraphReadError::NoLayers)?;
    let mut by_name: HashMap<String, Source> = HashMap::with_capacity(layers.len());
    let mut inputs = Vec::new();
    let mut nodes: Vec<(Node, Vec<Ref>)> = Vec::with_capacity(layers.len());
    for l in layers {
        let name = layer_name(l);
        let class = l.get("class_name").and_then(Value::as_str).unwrap_or("");
        let source = if class == "InputLayer" {
            inputs.push(input_of(&name, l.get("config").unwrap_or(&Value::Null))?);
            Source::Input(inputs.len() - 1)
        } else {
            nodes.push(node_of(l, &name, class, depth)?);
            Source::Layer(nodes.len() - 1)
        };
        if by_name.insert(name.clone(), source).is_some() {
            return Err(GraphReadError::DuplicateName(name));
        }
    }
    if inputs.is_empty() {
        return Err(GraphReadError::NoInputs);
    }
    let layers = nodes
        .into_iter()
        .map(|(node, refs)| connect(node, refs, &by_name))
        .collect::<Result<Vec<_>, _>>()?;
    let resolve = |what: &'static str, names: Vec<String>| -> Result<Vec<Source>, GraphReadError> {
        names
            .into_iter()
            .map(|n| {
                by_name
                    .get(&n)
                    .copied()
                    .ok_or(GraphReadError::Endpoint { what, name: n })
            })
            .collect()
    };
    let declared = resolve("input", endpoints(config.get("input_layers")))?;
    let outputs = resolve("output", endpoints(config.get("output_layers")))?;
    if outputs.is_empty() {
        return Err(GraphReadError::NoOutputs);
    }
    let g = Graph {
        name: model_name(config),
        inputs,
        layers,
        outputs,
    };
    Ok(in_declared_order(g, &declared))
}

fn model_name(config: &Value) -> String {
    config
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or("functional")
        .to_string()
}
