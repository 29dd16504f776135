//! Keras model JSON import, auto-detected: Keras 3 `model.to_json()` (and a `.keras` file's
//! `config.json`), Keras 2 / tf.keras JSON (`batch_input_shape`), TensorFlow.js `model.json`
//! (`modelTopology`). Sequential models, and Functional models whose layers form one chain.

use serde_json::Value;

use super::model_json::shape_from;
use super::{ChainBreak, CodecError, InputShapeError, NotAModel};
use crate::engine::layers::args::canonical_class;
use crate::engine::{Layer, LayerSpec, Model};

/// Import any Keras JSON value.
///
/// # Errors
/// Not a Keras model, variable input dimensions, or a Functional graph that is not a chain.
pub fn from_value(v: &Value) -> Result<Model, CodecError> {
    // TF.js: {"modelTopology": {"model_config": {...}} | {...model...}}
    if let Some(topo) = v.get("modelTopology") {
        let inner = topo.get("model_config").unwrap_or(topo);
        return from_value(inner);
    }
    // tf.keras h5-style wrapper {"model_config": ...}
    if let Some(inner) = v.get("model_config") {
        return from_value(inner);
    }
    let class = v.get("class_name").and_then(Value::as_str).unwrap_or("");
    let config = v.get("config").unwrap_or(&Value::Null);
    match class {
        "Sequential" => sequential(config),
        "Functional" | "Model" => functional(config),
        "" => Err(CodecError::NotAModel(NotAModel::NoClassName)),
        other => Err(CodecError::NotAModel(NotAModel::TopLevelClass(
            other.to_string(),
        ))),
    }
}

fn layer_parts(l: &Value) -> (&str, &Value) {
    let class = l.get("class_name").and_then(Value::as_str).unwrap_or("");
    (class, l.get("config").unwrap_or(&Value::Null))
}

/// Input shape from an `InputLayer` config or a first layer's config.
fn input_from_config(c: &Value) -> Option<Result<Vec<usize>, CodecError>> {
    for key in ["batch_shape", "batch_input_shape"] {
        if let Some(s) = c.get(key).and_then(Value::as_array) {
            return Some(shape_from(&Value::Array(
                s.iter().skip(1).cloned().collect(),
            )));
        }
    }
    if let Some(s) = c.get("input_shape").filter(|s| s.is_array()) {
        return Some(shape_from(s));
    }
    if let Some(s) = c.get("shape").filter(|s| s.is_array()) {
        return Some(shape_from(s));
    }
    None
}

fn name_of(l: &Value, c: &Value) -> Option<String> {
    c.get("name")
        .or_else(|| l.get("name"))
        .and_then(Value::as_str)
        .map(str::to_string)
}

fn build(
    model_name: String,
    input: Option<Vec<usize>>,
    layers: &[&Value],
) -> Result<Model, CodecError> {
    let mut input = input;
    let mut model = Model {
        name: model_name,
        input_shape: Vec::new(),
        layers: Vec::new(),
    };
    for l in layers {
        let (class, c) = layer_parts(l);
        if class == "InputLayer" {
            if input.is_none() {
                input = Some(input_from_config(c).unwrap_or({
                    Err(CodecError::InputShape(
                        InputShapeError::InputLayerWithoutShape,
                    ))
                })?);
            }
            continue;
        }
        if input.is_none() {
            if let Some(s) = input_from_config(c) {
                input = Some(s?);
            } else if LayerSpec::default_of(canonical_class(class))
                .is_some_and(|s| s.keras_accepts_legacy("input_length"))
            {
                // Embedding's Keras 2 `input_length` (ignored by Keras 3) as the input length.
                if let Some(n) = c.get("input_length").and_then(Value::as_u64) {
                    input = Some(vec![n as usize]);
                }
            }
        }
        let spec = LayerSpec::from_keras_config(class, c);
        let name = name_of(l, c).unwrap_or_else(|| model.fresh_name(spec.prefix()));
        model.layers.push(Layer::new(name, spec));
    }
    model.input_shape = input.ok_or(CodecError::InputShape(InputShapeError::Missing))?;
    Ok(model)
}

fn sequential(config: &Value) -> Result<Model, CodecError> {
    let (name, layers, build_shape) = match config {
        Value::Array(ls) => (
            "sequential".to_string(),
            ls.iter().collect::<Vec<_>>(),
            None,
        ),
        Value::Object(o) => {
            let ls = o
                .get("layers")
                .and_then(Value::as_array)
                .ok_or(CodecError::NotAModel(NotAModel::NoLayers(
                    "Sequential config",
                )))?;
            let name = o
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or("sequential")
                .to_string();
            let bs = o
                .get("build_input_shape")
                .and_then(Value::as_array)
                .map(|s| Value::Array(s.iter().skip(1).cloned().collect()));
            (name, ls.iter().collect(), bs)
        }
        _ => return Err(CodecError::NotAModel(NotAModel::SequentialConfig)),
    };
    let input = match build_shape {
        Some(s) if !layers.iter().any(|l| layer_parts(l).0 == "InputLayer") => {
            Some(shape_from(&s)?)
        }
        _ => None,
    };
    build(name, input, &layers)
}

/// Names of the layers feeding a Functional layer, in Keras 3 or Keras 2 node format.
fn inbound_names(l: &Value) -> Vec<String> {
    let mut out = Vec::new();
    fn walk(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::Object(o) => {
                if let Some(Value::Array(h)) = o.get("keras_history") {
                    if let Some(Value::String(n)) = h.first() {
                        out.push(n.clone());
                    }
                    return;
                }
                for x in o.values() {
                    walk(x, out);
                }
            }
            Value::Array(a) => {
                // Keras 2 node entry: ["name", node_index, tensor_index, {kwargs}]
                if let (Some(Value::String(n)), Some(Value::Number(_))) = (a.first(), a.get(1)) {
                    out.push(n.clone());
                    return;
                }
                for x in a {
                    walk(x, out);
                }
            }
            _ => {}
        }
    }
    if let Some(nodes) = l.get("inbound_nodes") {
        walk(nodes, &mut out);
    }
    out
}

fn functional(config: &Value) -> Result<Model, CodecError> {
    let layers = config
        .get("layers")
        .and_then(Value::as_array)
        .ok_or(CodecError::NotAModel(NotAModel::NoLayers(
            "Functional config",
        )))?;
    let name = config
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or("functional")
        .to_string();
    let lname = |l: &Value| -> String {
        l.get("name")
            .and_then(Value::as_str)
            .map(str::to_string)
            .or_else(|| name_of(l, layer_parts(l).1))
            .unwrap_or_default()
    };
    let inputs: Vec<&Value> = layers
        .iter()
        .filter(|l| layer_parts(l).0 == "InputLayer")
        .collect();
    if inputs.len() != 1 {
        return Err(CodecError::NotAChain(ChainBreak::Inputs(inputs.len())));
    }
    let mut order: Vec<&Value> = vec![inputs[0]];
    let mut current = lname(inputs[0]);
    let mut remaining: Vec<&Value> = layers
        .iter()
        .filter(|l| layer_parts(l).0 != "InputLayer")
        .collect();
    while !remaining.is_empty() {
        let consumers: Vec<usize> = remaining
            .iter()
            .enumerate()
            .filter(|(_, l)| inbound_names(l).contains(&current))
            .map(|(i, _)| i)
            .collect();
        let [only] = consumers.as_slice() else {
            return Err(CodecError::NotAChain(ChainBreak::Feeds {
                layer: current.clone(),
                count: consumers.len(),
            }));
        };
        let next = remaining.remove(*only);
        let ins = inbound_names(next);
        if ins.iter().any(|n| *n != current) {
            return Err(CodecError::NotAChain(ChainBreak::SeveralInputs {
                layer: lname(next).clone(),
                inputs: ins.iter().map(ToString::to_string).collect(),
            }));
        }
        current = lname(next);
        order.push(next);
    }
    build(name, None, &order)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::analyze;
    use serde_json::json;

    #[test]
    fn keras2_batch_input_shape_on_first_layer() {
        let v = json!({"class_name": "Sequential", "config": {"name": "s", "layers": [
            {"class_name": "Dense", "config": {"name": "d", "units": 4, "batch_input_shape": [null, 3]}}]}});
        let m = from_value(&v).unwrap();
        assert_eq!(m.input_shape, vec![3]);
        assert_eq!(analyze(&m).total(), 16);
    }

    #[test]
    fn unknown_class_is_kept_as_an_error_layer() {
        let v = json!({"class_name": "Sequential", "config": {"layers": [
            {"class_name": "InputLayer", "config": {"batch_shape": [null, 3]}},
            {"class_name": "Frobnicate", "config": {"name": "f"}}]}});
        let m = from_value(&v).unwrap();
        let a = analyze(&m);
        let e = a.first_error().map(ToString::to_string).unwrap_or_default();
        assert!(e.contains("`Frobnicate` is not supported"), "{e}");
    }

    /// Keras's `from_config` raises `TypeError` for a Dense without `units`; Flatland's
    /// own defaults (units 16) must not fill it in silently.
    #[test]
    fn a_missing_required_argument_is_refused_with_its_name() {
        let v = json!({"class_name": "Sequential", "config": {"layers": [
            {"class_name": "InputLayer", "config": {"batch_shape": [null, 3]}},
            {"class_name": "Dense", "config": {"name": "d", "activation": "relu"}},
            {"class_name": "Conv1D", "config": {"name": "c", "padding": "same"}}]}});
        let m = from_value(&v).unwrap();
        let problems: Vec<String> = analyze(&m)
            .layers
            .iter()
            .filter_map(|r| r.error().map(ToString::to_string))
            .collect();
        assert!(
            problems[0].contains("Dense is missing its required argument `units`"),
            "{problems:?}"
        );
        let Some(LayerSpec::Unknown(u)) = m.layers.get(1).map(|l| &l.spec) else {
            panic!("Conv1D without filters must be an error layer");
        };
        assert_eq!(
            u.reason,
            "Conv1D is missing its required arguments `filters`, `kernel_size`"
        );
        // With the argument, the same file reads.
        let v = json!({"class_name": "Sequential", "config": {"layers": [
            {"class_name": "InputLayer", "config": {"batch_shape": [null, 3]}},
            {"class_name": "Dense", "config": {"name": "d", "units": 2}}]}});
        assert_eq!(analyze(&from_value(&v).unwrap()).total(), 8);
    }

    #[test]
    fn none_dimension_is_a_clear_error() {
        let v = json!({"class_name": "Sequential", "config": {"layers": [
            {"class_name": "InputLayer", "config": {"batch_shape": [null, null, 3]}}]}});
        assert!(matches!(from_value(&v), Err(CodecError::InputShape(_))));
    }
}
