//! Flatland's own model JSON, versioned:
//! `{"format": "flatland-model", "version": 1, "name": ..., "input_shape": [3, 2],
//!   "layers": [{"class_name": "Dense", "name": "dense", "config": {"units": 16, ...}}]}`.
//! Layer configs use Keras field names, so the same reader serves Keras imports.

use serde_json::{json, Value};

use super::{CodecError, InputShapeError, NotAModel};
use crate::engine::{Layer, LayerSpec, Model};

pub const FORMAT: &str = "flatland-model";
pub const VERSION: u64 = 1;

pub fn is_ours(v: &Value) -> bool {
    v.get("format").and_then(Value::as_str) == Some(FORMAT)
}

/// Serialise a model to our JSON value.
pub fn to_value(m: &Model) -> Value {
    json!({
        "format": FORMAT,
        "version": VERSION,
        "name": m.name,
        "input_shape": m.input_shape,
        "layers": m.layers.iter().map(|l| json!({
            "class_name": l.spec.class_name(),
            "name": l.name,
            "config": l.spec.to_config(),
        })).collect::<Vec<_>>(),
    })
}

/// Pretty JSON text.
pub fn to_string(m: &Model) -> String {
    serde_json::to_string_pretty(&to_value(m)).unwrap_or_default()
}

/// Parse the input shape list (no batch axis).
///
/// # Errors
/// Non-integer or negative dimensions.
pub fn shape_from(v: &Value) -> Result<Vec<usize>, CodecError> {
    let arr = v
        .as_array()
        .ok_or_else(|| CodecError::InputShape(InputShapeError::NotAList(v.to_string())))?;
    arr.iter()
        .map(|d| {
            d.as_u64()
                .and_then(|u| usize::try_from(u).ok())
                .ok_or_else(|| match d {
                    Value::Null => CodecError::InputShape(InputShapeError::Variable),
                    other => {
                        CodecError::InputShape(InputShapeError::BadDimension(other.to_string()))
                    }
                })
        })
        .collect()
}

/// Read our JSON value.
///
/// # Errors
/// Unsupported version or missing fields.
pub fn from_value(v: &Value) -> Result<Model, CodecError> {
    let version = v.get("version").and_then(Value::as_u64).unwrap_or(0);
    if version == 0 || version > VERSION {
        return Err(CodecError::NotAModel(NotAModel::Version {
            found: version,
            max: VERSION,
        }));
    }
    let input_shape = shape_from(v.get("input_shape").unwrap_or(&Value::Null))?;
    let layers = v
        .get("layers")
        .and_then(Value::as_array)
        .ok_or(CodecError::NotAModel(NotAModel::NoLayerList))?;
    let mut model = Model {
        name: v
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or("model")
            .to_string(),
        input_shape,
        layers: Vec::with_capacity(layers.len()),
    };
    for l in layers {
        let class = l.get("class_name").and_then(Value::as_str).unwrap_or("");
        let empty = Value::Object(serde_json::Map::default());
        let spec = LayerSpec::from_config(class, l.get("config").unwrap_or(&empty));
        let name = match l.get("name").and_then(Value::as_str) {
            Some(n) if !n.is_empty() => n.to_string(),
            _ => model.fresh_name(spec.prefix()),
        };
        model.layers.push(Layer::new(name, spec));
    }
    Ok(model)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_seed() {
        let m = Model::seed();
        let text = to_string(&m);
        let back = super::super::read_model(&text).unwrap();
        assert_eq!(back, m);
    }

    #[test]
    fn future_version_is_refused() {
        let v = json!({"format": FORMAT, "version": 99, "input_shape": [1], "layers": []});
        assert!(from_value(&v).is_err());
    }
}
