//! Shared pieces of Flatland's fuzz targets: the harness (also replayed by
//! `tests/fuzz_regressions.rs`), the structured `engine_spec` input and the embedded forward
//! fixtures.

use arbitrary::{Arbitrary, Result, Unstructured};
use serde_json::{Map, Number, Value};

use flatland::engine::{LayerSpec, CATALOGUE};

pub mod harness;

include!(concat!(env!("OUT_DIR"), "/forward_fixtures.rs"));

/// Keras class aliases and a few names Flatland does not know, next to the catalogue.
const EXTRA_CLASSES: &[&str] = &[
    "Convolution2D",
    "Deconv2D",
    "MaxPool2D",
    "GlobalAvgPool1D",
    "InputLayer",
    "Frobnicate",
    "",
];

/// Strings Keras configs use, so string fields hit their valid values often.
const WORDS: &[&str] = &[
    "relu",
    "linear",
    "softmax",
    "tanh",
    "sigmoid",
    "gelu",
    "swish",
    "silu",
    "elu",
    "selu",
    "log_softmax",
    "leaky_relu",
    "relu6",
    "hard_sigmoid",
    "hard_silu",
    "hard_swish",
    "mish",
    "exponential",
    "softplus",
    "softsign",
    "valid",
    "same",
    "causal",
    "full",
    "channels_last",
    "channels_first",
    "nearest",
    "bilinear",
    "bicubic",
    "area",
    "zeros",
    "ones",
    "glorot_uniform",
    "orthogonal",
    "None",
    "",
];

/// Config keys seen in Keras layer configs (besides each class's own defaults).
const KEYS: &[&str] = &[
    "units",
    "filters",
    "kernel_size",
    "strides",
    "padding",
    "dilation_rate",
    "groups",
    "output_padding",
    "depth_multiplier",
    "pool_size",
    "size",
    "cropping",
    "target_shape",
    "dims",
    "n",
    "input_dim",
    "output_dim",
    "mask_zero",
    "activation",
    "recurrent_activation",
    "use_bias",
    "return_sequences",
    "return_state",
    "go_backwards",
    "reset_after",
    "keepdims",
    "axis",
    "epsilon",
    "center",
    "scale",
    "offset",
    "momentum",
    "rate",
    "stddev",
    "alpha",
    "max_value",
    "negative_slope",
    "threshold",
    "shared_axes",
    "data_format",
    "interpolation",
    "input_length",
    "name",
    "dtype",
    "trainable",
];

fn interesting_int(u: &mut Unstructured) -> Result<Value> {
    const I: &[i64] = &[
        0,
        1,
        2,
        3,
        -1,
        -2,
        255,
        65_536,
        1 << 31,
        1 << 32,
        1 << 53,
        1_000_000_000_000_000,
        i64::MAX,
        i64::MIN,
    ];
    Ok(match u.int_in_range(0..=2u8)? {
        0 => Value::from(*u.choose(I)?),
        1 => Value::from(u64::MAX - u64::from(u.int_in_range(0..=2u8)?)),
        _ => Value::from(u64::MAX / 2 + 1),
    })
}

/// An arbitrary JSON value, biased towards what layer configs contain.
pub fn arb_value(u: &mut Unstructured, depth: u8) -> Result<Value> {
    let top = if depth == 0 { 7 } else { 9 };
    Ok(match u.int_in_range(0..=top)? {
        0 => Value::Null,
        1 => Value::Bool(u.arbitrary()?),
        2 => Value::from(u.int_in_range(0..=9u64)?),
        3 => Value::from(u.int_in_range(-3..=40i64)?),
        4 => interesting_int(u)?,
        5 => {
            let f: f64 = u.arbitrary()?;
            Number::from_f64(f).map_or(Value::Null, Value::Number)
        }
        6 => Value::from(*u.choose(WORDS)?),
        7 => {
            let s: &str = u.arbitrary()?;
            Value::from(s.chars().take(12).collect::<String>())
        }
        8 => {
            let n = u.int_in_range(0..=4usize)?;
            Value::Array(
                (0..n)
                    .map(|_| arb_value(u, depth - 1))
                    .collect::<Result<_>>()?,
            )
        }
        _ => {
            // An object (initializer dicts, dtype policies, nested configs).
            let n = u.int_in_range(0..=3usize)?;
            let mut m = Map::new();
            for _ in 0..n {
                m.insert((*u.choose(KEYS)?).to_string(), arb_value(u, depth - 1)?);
            }
            Value::Object(m)
        }
    })
}

/// A value shaped like `template` (a default config value): numbers stay numbers (small,
/// or the extremes), strings come from [`WORDS`], lists keep about their length. Configs
/// stay mostly readable, so the shape rules and forward passes behind them get exercised.
pub fn arb_like(u: &mut Unstructured, template: &Value) -> Result<Value> {
    Ok(match template {
        Value::Number(_) => match u.int_in_range(0..=3u8)? {
            0 | 1 => Value::from(u.int_in_range(0..=9u64)?),
            2 => Value::from(u.int_in_range(-3..=40i64)?),
            _ => interesting_int(u)?,
        },
        Value::Bool(_) => Value::Bool(u.arbitrary()?),
        Value::String(_) => Value::from(*u.choose(WORDS)?),
        Value::Array(items) if !items.is_empty() => {
            let n = match u.int_in_range(0..=5u8)? {
                0 => items.len() - 1,
                1 => items.len() + 1,
                _ => items.len(),
            };
            Value::Array(
                (0..n)
                    .map(|i| arb_like(u, &items[i % items.len()]))
                    .collect::<Result<_>>()?,
            )
        }
        _ => arb_value(u, 1)?,
    })
}

/// One layer of an `engine_spec` case: a class and its config.
#[derive(Debug, Clone, PartialEq)]
pub struct SpecLayer {
    pub class_name: String,
    pub config: Value,
}

impl<'a> Arbitrary<'a> for SpecLayer {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        let i = u.int_in_range(0..=CATALOGUE.len() + EXTRA_CLASSES.len() - 1)?;
        let class_name = match CATALOGUE.get(i) {
            Some(k) => k.class_name.to_string(),
            None => EXTRA_CLASSES[i - CATALOGUE.len()].to_string(),
        };
        let default = LayerSpec::default_of(&class_name)
            .map(|s| s.to_config())
            .unwrap_or_else(|| Value::Object(Map::new()));
        let mut config = match u.int_in_range(0..=7u8)? {
            0..=5 => default.clone(),
            6 => Value::Object(Map::new()),
            _ => arb_value(u, 2)?,
        };
        let own_keys: Vec<String> = default
            .as_object()
            .map(|o| o.keys().cloned().collect())
            .unwrap_or_default();
        let edits = u.int_in_range(0..=4u8)?;
        for _ in 0..edits {
            let key = if !own_keys.is_empty() && u.ratio(3, 4)? {
                u.choose(&own_keys)?.clone()
            } else {
                (*u.choose(KEYS)?).to_string()
            };
            let v = match default.get(&key) {
                Some(t) if u.ratio(3, 4)? => arb_like(u, t)?,
                _ => arb_value(u, 2)?,
            };
            if let Value::Object(o) = &mut config {
                o.insert(key, v);
            }
        }
        Ok(SpecLayer { class_name, config })
    }
}

/// The structured `engine_spec` input: a small input shape, a few layers, a batch size and
/// input values. Its `Debug` form is the JSON [`harness::engine_case_json`] replays.
#[derive(Clone, PartialEq)]
pub struct SpecCase {
    pub input_shape: Vec<usize>,
    pub layers: Vec<SpecLayer>,
    pub batch: usize,
    pub values: Vec<f32>,
}

impl<'a> Arbitrary<'a> for SpecCase {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        let rank = u.int_in_range(0..=4usize)?;
        let input_shape = (0..rank)
            .map(|_| {
                Ok(if u.ratio(1, 16)? {
                    0
                } else {
                    u.int_in_range(1..=12usize)?
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let n = u.int_in_range(1..=6usize)?;
        let layers = (0..n)
            .map(|_| SpecLayer::arbitrary(u))
            .collect::<Result<Vec<_>>>()?;
        let batch = u.int_in_range(1..=2usize)?;
        let nv = u.int_in_range(0..=6usize)?;
        let values = (0..nv)
            .map(|_| u.arbitrary::<f32>())
            .collect::<Result<Vec<_>>>()?;
        Ok(SpecCase {
            input_shape,
            layers,
            batch,
            values,
        })
    }
}

impl SpecCase {
    /// The JSON form of the case (see [`harness::engine_case_json`]).
    pub fn to_json(&self) -> Value {
        serde_json::json!({
            "input_shape": self.input_shape,
            "layers": self.layers.iter().map(|l| serde_json::json!([l.class_name, l.config])).collect::<Vec<_>>(),
            "batch": self.batch,
            "values_bits": self.values.iter().map(|f| f.to_bits()).collect::<Vec<_>>(),
        })
    }

    /// Run the case through the shared harness.
    pub fn run(&self) {
        let layers: Vec<(String, Value)> = self
            .layers
            .iter()
            .map(|l| (l.class_name.clone(), l.config.clone()))
            .collect();
        harness::engine_case(&self.input_shape, &layers, self.batch, &self.values);
    }
}

impl std::fmt::Debug for SpecCase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.to_json())
    }
}
