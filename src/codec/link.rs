//! Share links: the model (and optional exercise / view) in the URL fragment as
//! `#m1.` + base64url(deflate(compact JSON)). Compact JSON drops config values equal to the
//! layer kind's defaults. Older versions keep decoding; newer ones get a clear error.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde_json::{json, Map, Value};

use super::model_json;
use super::{CodecError, LinkError};
use crate::engine::{LayerSpec, Model};

/// Current link version tag.
pub const TAG: &str = "m1.";

/// What a link carries besides the model.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Payload {
    pub model: Model,
    /// Exercise settings (opaque to the codec), if any.
    pub exercise: Option<Value>,
    /// View settings (selected layer, open panels), if any.
    pub view: Option<Value>,
}

impl Default for Model {
    fn default() -> Self {
        Model::seed()
    }
}

/// Compact model: `{"n": name, "i": input, "l": [[class, name, {non-default config}]]}`.
pub fn compact_model(m: &Model) -> Value {
    let layers: Vec<Value> = m
        .layers
        .iter()
        .map(|l| {
            let cfg = l.spec.to_config();
            let def = LayerSpec::default_of(l.spec.class_name()).map(|d| d.to_config());
            // Inserted one by one: collecting into the map (a BTreeMap) would sort, and
            // bring a sort routine into the page's wasm (see engine::small_sort).
            let slim: Map<String, Value> = match (&cfg, def) {
                (Value::Object(c), Some(Value::Object(d))) => {
                    let mut slim = Map::new();
                    for (k, v) in c.iter().filter(|(k, v)| d.get(*k) != Some(*v)) {
                        slim.insert(k.clone(), v.clone());
                    }
                    slim
                }
                (Value::Object(c), _) => c.clone(),
                _ => Map::new(),
            };
            json!([l.spec.class_name(), l.name, slim])
        })
        .collect();
    json!({"n": m.name, "i": m.input_shape, "l": layers})
}

/// Read [`compact_model`] output (missing config values take the layer kind's defaults).
///
/// # Errors
/// [`CodecError::Link`] when the value is not a compact model.
pub fn expand_model(v: &Value) -> Result<Model, CodecError> {
    let bad = |m: &str| CodecError::Link(LinkError::Model(m.to_string()));
    let layers = v
        .get("l")
        .and_then(Value::as_array)
        .ok_or_else(|| bad("no layers"))?;
    let full: Vec<Value> = layers
        .iter()
        .map(|l| {
            let class = l.get(0).and_then(Value::as_str).unwrap_or("");
            let mut cfg = LayerSpec::default_of(class).map(|d| d.to_config()).unwrap_or(json!({}));
            if let (Value::Object(c), Some(Value::Object(over))) = (&mut cfg, l.get(2)) {
                for (k, v) in over {
                    c.insert(k.clone(), v.clone());
                }
            }
            json!({"class_name": class, "name": l.get(1).cloned().unwrap_or(Value::Null), "config": cfg})
        })
        .collect();
    model_json::from_value(&json!({
        "format": model_json::FORMAT, "version": 1,
        "name": v.get("n").cloned().unwrap_or(json!("model")),
        "input_shape": v.get("i").cloned().unwrap_or(Value::Null),
        "layers": full,
    }))
}

/// Encode a payload as a fragment (starting with `#`).
pub fn encode(p: &Payload) -> String {
    let mut obj = json!({"m": compact_model(&p.model)});
    if let Some(x) = &p.exercise {
        obj["x"] = x.clone();
    }
    if let Some(v) = &p.view {
        obj["v"] = v.clone();
    }
    let text = serde_json::to_vec(&obj).unwrap_or_default();
    let packed = miniz_oxide::deflate::compress_to_vec(&text, 9);
    format!("#{TAG}{}", URL_SAFE_NO_PAD.encode(packed))
}

/// Encode just a model.
pub fn encode_model(m: &Model) -> String {
    encode(&Payload {
        model: m.clone(),
        exercise: None,
        view: None,
    })
}

/// Decode a fragment (with or without `#`, or a whole URL).
///
/// # Errors
/// [`CodecError::Link`] for corrupted, truncated or future-version links.
pub fn decode(fragment: &str) -> Result<Payload, CodecError> {
    let f = fragment.trim();
    let f = f.rsplit_once('#').map_or(f, |(_, r)| r);
    let Some(data) = f.strip_prefix(TAG) else {
        if let Some((tag, _)) = f.split_once('.') {
            if let Some(n) = tag.strip_prefix('m').and_then(|n| n.parse::<u32>().ok()) {
                return Err(CodecError::Link(LinkError::Newer(n)));
            }
        }
        return Err(CodecError::Link(LinkError::NotALink));
    };
    if data.len() > 1 << 20 {
        return Err(CodecError::Link(LinkError::TooLong));
    }
    let packed = URL_SAFE_NO_PAD
        .decode(data.trim_end_matches('='))
        .map_err(|_| CodecError::Link(LinkError::NotBase64))?;
    let text = miniz_oxide::inflate::decompress_to_vec_with_limit(&packed, 4 << 20)
        .map_err(|_| CodecError::Link(LinkError::Truncated))?;
    let v: Value =
        serde_json::from_slice(&text).map_err(|_| CodecError::Link(LinkError::Content))?;
    let model = expand_model(v.get("m").unwrap_or(&Value::Null))?;
    Ok(Payload {
        model,
        exercise: v.get("x").cloned(),
        view: v.get("v").cloned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_garbage() {
        let m = Model::seed();
        let link = encode_model(&m);
        assert!(link.starts_with("#m1."));
        assert_eq!(decode(&link).unwrap().model, m);
        assert!(decode("#m1.AAAA").is_err());
        assert!(decode(&link[..link.len() / 2]).is_err());
        assert!(decode("#m9.xyz").unwrap_err().to_string().contains("newer"));
        assert!(decode("").is_err());
    }
}
