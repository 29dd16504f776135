//! Graph models as share links and as Keras 3 Functional JSON.
//!
//! A graph link is `#g1.` + base64url(deflate(JSON)) of a compact form: `{"n": name,
//! "i": [[input, shape, batch?], …], "l": [[class, name, config, [inbound names], op?], …],
//! "o": [output names]}` where `config` holds only what differs from the kind's defaults (a
//! nested model's is `{"g": <compact graph>}`). Chain links (`#m1.`, `link.rs`) are unchanged
//! and still open. [`to_keras_json`] writes the Keras 3 `to_json()` form the Functional reader
//! reads, so links decode through the same door as files.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde_json::{json, Map, Value};

use super::keras_graph::{from_config, GraphReadError};
use crate::engine::graph::{Graph, Op, Source};
use crate::engine::LayerSpec;

/// The tag of graph links.
pub const TAG: &str = "g1.";

/// A layer's config: a chain kind's Keras config, a graph-only kind's, or a nested model.
fn config_of(op: &Op) -> Value {
    match op {
        Op::Single(spec) => spec.to_config(),
        Op::Multi(m) => m.rules().to_config(),
        Op::Nested { graph, .. } => json!({"g": compact(graph)}),
        Op::Invalid { .. } => json!({}),
    }
}

/// Only what differs from the kind's defaults.
fn slim(op: &Op) -> Value {
    let cfg = config_of(op);
    let def = match op {
        Op::Single(spec) => LayerSpec::default_of(spec.class_name()).map(|d| d.to_config()),
        _ => None,
    };
    match (cfg, def) {
        (Value::Object(c), Some(Value::Object(d))) => Value::Object(
            c.into_iter()
                .filter(|(k, v)| d.get(k) != Some(v))
                .collect::<Map<_, _>>(),
        ),
        (c, _) => c,
    }
}

/// The compact JSON of a graph (see the module docs).
pub fn compact(g: &Graph) -> Value {
    let name = |s: Source| g.source_name(s).to_string();
    let inputs: Vec<Value> = g
        .inputs
        .iter()
        .map(|i| match i.batch {
            Some(b) => json!([i.name, i.shape, b]),
            None => json!([i.name, i.shape]),
        })
        .collect();
    let layers: Vec<Value> = g
        .layers
        .iter()
        .map(|l| {
            let ins: Vec<String> = l.inbound.iter().map(|&s| name(s)).collect();
            let mut row = vec![
                json!(l.op.class_name()),
                json!(l.name),
                slim(&l.op),
                json!(ins),
            ];
            if l.operation {
                row.push(json!(1));
            }
            Value::Array(row)
        })
        .collect();
    let outs: Vec<String> = g.outputs.iter().map(|&s| name(s)).collect();
    json!({"n": g.name, "i": inputs, "l": layers, "o": outs})
}

fn tensor(name: &str) -> Value {
    json!({"class_name": "__keras_tensor__", "config": {"keras_history": [name, 0, 0]}})
}

/// Keras 3 `to_json()`-style Functional JSON from the compact form.
fn keras_from_compact(c: &Value) -> Value {
    let arr = |v: Option<&Value>| v.and_then(Value::as_array).cloned().unwrap_or_default();
    let mut layers = Vec::new();
    let mut input_names = Vec::new();
    for i in arr(c.get("i")) {
        let name = i.get(0).cloned().unwrap_or(Value::Null);
        let mut shape = vec![i.get(2).cloned().unwrap_or(Value::Null)];
        shape.extend(arr(i.get(1)));
        input_names.push(json!([name, 0, 0]));
        layers.push(json!({"class_name": "InputLayer", "name": name,
            "config": {"name": name, "batch_shape": shape}, "inbound_nodes": []}));
    }
    for l in arr(c.get("l")) {
        let class = l.get(0).and_then(Value::as_str).unwrap_or("");
        let name = l.get(1).cloned().unwrap_or(Value::Null);
        let ins: Vec<Value> = arr(l.get(3))
            .iter()
            .map(|n| tensor(n.as_str().unwrap_or("")))
            .collect();
        let list_call = matches!(
            class,
            "Add"
                | "Subtract"
                | "Multiply"
                | "Average"
                | "Maximum"
                | "Minimum"
                | "Concatenate"
                | "Dot"
                | "CustomScaleLayer"
        );
        let scalar = l
            .get(2)
            .and_then(|c| c.get("value"))
            .filter(|_| l.get(4).is_some());
        let args = match scalar {
            // An operation with a number: `x + 3.0` is `args: [x, 3.0]` (or `[3.0, x]`).
            Some(v) => {
                let first = l.get(2).and_then(|c| c.get("scalar_first")) == Some(&json!(true));
                let t = ins.first().cloned().unwrap_or(Value::Null);
                if first {
                    json!([v, t])
                } else {
                    json!([t, v])
                }
            }
            None if list_call && l.get(4).is_none() => json!([ins]),
            None => Value::Array(ins),
        };
        let mut cfg = match class {
            _ if l.get(2).and_then(|x| x.get("g")).is_some() => {
                let inner =
                    keras_from_compact(l.get(2).and_then(|x| x.get("g")).unwrap_or(&Value::Null));
                inner.get("config").cloned().unwrap_or(Value::Null)
            }
            _ => {
                let mut base =
                    LayerSpec::default_of(class).map_or_else(|| json!({}), |d| d.to_config());
                if let (Value::Object(b), Some(Value::Object(over))) = (&mut base, l.get(2)) {
                    for (k, v) in over {
                        b.insert(k.clone(), v.clone());
                    }
                }
                base
            }
        };
        if let Value::Object(o) = &mut cfg {
            o.insert("name".into(), name.clone());
        }
        let mut layer = json!({"class_name": class, "name": name, "config": cfg,
            "inbound_nodes": [{"args": args, "kwargs": {}}]});
        if l.get(4).is_some() {
            layer["module"] = json!("keras.src.ops.numpy");
        }
        layers.push(layer);
    }
    let outs: Vec<Value> = arr(c.get("o")).iter().map(|n| json!([n, 0, 0])).collect();
    json!({"class_name": "Functional", "config": {
        "name": c.get("n").cloned().unwrap_or(json!("functional")),
        "layers": layers, "input_layers": input_names, "output_layers": outs}})
}

/// The graph as Keras 3 Functional JSON (what `to_json()` writes, without initializers and
/// build configs): read back by [`super::keras_graph::read_graph`].
pub fn to_keras_json(g: &Graph) -> Value {
    keras_from_compact(&compact(g))
}

/// Why a graph link could not be opened.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GraphLinkError {
    #[error("not a graph link (it should start with #{TAG})")]
    NotALink,
    #[error("the link is damaged (not base64, or cut short)")]
    Damaged,
    #[error("the link is longer than 1 MB")]
    TooLong,
    #[error("the link's model: {0}")]
    Model(GraphReadError),
}

/// The share link of a graph model.
pub fn encode_graph(g: &Graph) -> String {
    let text = serde_json::to_vec(&compact(g)).unwrap_or_default();
    let packed = miniz_oxide::deflate::compress_to_vec(&text, 9);
    format!("#{TAG}{}", URL_SAFE_NO_PAD.encode(packed))
}

/// Whether a fragment (or a whole URL) is a graph link.
pub fn is_graph_link(fragment: &str) -> bool {
    let f = fragment.trim();
    f.rsplit_once('#').map_or(f, |(_, r)| r).starts_with(TAG)
}

/// Open a graph link.
///
/// # Errors
/// [`GraphLinkError`] when it is not a graph link, damaged, or its model does not read.
pub fn decode_graph(fragment: &str) -> Result<Graph, GraphLinkError> {
    let f = fragment.trim();
    let f = f.rsplit_once('#').map_or(f, |(_, r)| r);
    let data = f.strip_prefix(TAG).ok_or(GraphLinkError::NotALink)?;
    if data.len() > 1 << 20 {
        return Err(GraphLinkError::TooLong);
    }
    let packed = URL_SAFE_NO_PAD
        .decode(data.trim_end_matches('='))
        .map_err(|_| GraphLinkError::Damaged)?;
    let text = miniz_oxide::inflate::decompress_to_vec_with_limit(&packed, 16 << 20)
        .map_err(|_| GraphLinkError::Damaged)?;
    let v: Value = serde_json::from_slice(&text).map_err(|_| GraphLinkError::Damaged)?;
    let k = keras_from_compact(&v);
    from_config(k.get("config").unwrap_or(&Value::Null)).map_err(GraphLinkError::Model)
}
