//! The layer catalogue. One file per layer family holds, for each layer kind, all it knows:
//! its spec (Keras field names and defaults, serde), shape rule, weights (from which
//! parameter counts derive), MACs, forward pass and "why this shape" explanation
//! ([`LayerRules`]), and how it is written as code — the Keras constructor's positional,
//! required, renamed and removed arguments and its `PyTorch` translation
//! ([`code::LayerCode`]). [`LayerSpec`] is the one enum over all of them; nothing outside
//! this folder matches on class names.
//!
//! Adding a layer kind: one new file with the spec struct (`Default`, `Serialize`,
//! `Deserialize`), `impl LayerRules` and `impl LayerCode`, then `pub mod` and one line in
//! `catalogue!` below (see `group_normalization.rs`). The importers, exporters, inspector,
//! palette, property tests and fuzzers pick it up from the catalogue; its Keras fixtures go in
//! their own seeded section of `tools/keras_fixtures.py`.

/// `impl LayerGrad` for a kind (`impl<R: Rank> Kind<R>` for a generic one), from its training-mode forward
/// pass `|layer, x, w, rng| …` and its backward pass `|layer, x, w, trace, dy| …`: the layer,
/// its input, its weights, then the random source or the training pass's trace and the
/// output gradient.
macro_rules! layer_grad {
    ($kind:ident, $train:expr, $backward:expr) => {
        layer_grad!(impl<> $kind, $train, $backward);
    };
    (impl<$($g:ident: $b:path),*> $kind:ty, $train:expr, $backward:expr) => {
        impl<$($g: $b),*> $crate::engine::train::grad::LayerGrad for $kind {
            fn train_forward(
                &self,
                x: &ndarray::ArrayD<f32>,
                w: &[ndarray::ArrayD<f32>],
                rng: &mut $crate::engine::rng::Rng,
            ) -> Result<$crate::engine::train::grad::Trace, $crate::engine::error::Problem> {
                let train: fn(
                    &Self,
                    &ndarray::ArrayD<f32>,
                    &[ndarray::ArrayD<f32>],
                    &mut $crate::engine::rng::Rng,
                ) -> Result<
                    $crate::engine::train::grad::Trace,
                    $crate::engine::error::Problem,
                > = $train;
                train(self, x, w, rng)
            }
            fn backward(
                &self,
                x: &ndarray::ArrayD<f32>,
                w: &[ndarray::ArrayD<f32>],
                t: &$crate::engine::train::grad::Trace,
                dy: &ndarray::ArrayD<f32>,
            ) -> Result<$crate::engine::train::grad::Grads, $crate::engine::error::Problem> {
                let backward: fn(
                    &Self,
                    &ndarray::ArrayD<f32>,
                    &[ndarray::ArrayD<f32>],
                    &$crate::engine::train::grad::Trace,
                    &ndarray::ArrayD<f32>,
                ) -> Result<
                    $crate::engine::train::grad::Grads,
                    $crate::engine::error::Problem,
                > = $backward;
                backward(self, x, w, t, dy)
            }
        }
    };
}

/// [`layer_grad!`] for a kind whose training-mode forward pass is its inference pass (the
/// trace holds just the output): `plain_grad!(Kind, |layer, x, w, t, dy| …)`.
macro_rules! plain_grad {
    ($kind:ident, $backward:expr) => {
        plain_grad!(impl<> $kind, $backward);
    };
    (impl<$($g:ident: $b:path),*> $kind:ty, $backward:expr) => {
        layer_grad!(
            impl<$($g: $b),*> $kind,
            |layer, x, w, _rng| {
                let y = $crate::engine::layers::LayerRules::forward(layer, x, w)?;
                Ok($crate::engine::train::grad::Trace::plain(y))
            },
            $backward
        );
    };
}

pub mod activation;
#[cfg(not(target_arch = "wasm32"))] // graph-only kinds (see `multi.rs`)
pub mod applications;
pub mod args;
#[cfg(not(target_arch = "wasm32"))] // graph-only kinds (see `multi.rs`)
pub mod attention;
pub mod code;
pub mod conv;
pub mod core;
pub mod group_normalization;
#[cfg(not(target_arch = "wasm32"))] // graph-only kinds (see `multi.rs`)
pub mod merge;
#[cfg(not(target_arch = "wasm32"))] // graph-only kinds (see `multi.rs`)
pub mod multi;
pub mod normalization;
pub mod pooling;
pub mod recurrent;
pub mod regularization;
pub mod reshaping;
pub mod window;

use ndarray::ArrayD;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::error::Problem;
use super::shape::Shape;
use super::train::grad::LayerGrad;
use code::{KerasArgs, KerasTable, LayerCode, Torch};

/// The first weight (the kernel, the table, the slopes), or [`Problem::MissingWeights`].
pub(crate) fn first_weight(w: &[ArrayD<f32>]) -> Result<&ArrayD<f32>, Problem> {
    w.first().ok_or(Problem::MissingWeights {
        expected: 1,
        got: 0,
    })
}

/// How a weight is initialised when no weights are loaded (Keras defaults).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Init {
    GlorotUniform,
    Orthogonal,
    Zeros,
    Ones,
    Uniform(f32, f32),
}

/// One weight array, in Keras `get_weights()` order.
#[derive(Debug, Clone, PartialEq)]
pub struct WeightSpec {
    pub name: &'static str,
    pub shape: Vec<usize>,
    pub trainable: bool,
    pub init: Init,
}

impl WeightSpec {
    pub fn new(name: &'static str, shape: Vec<usize>, init: Init) -> Self {
        WeightSpec {
            name,
            shape,
            trainable: true,
            init,
        }
    }
    #[must_use]
    pub fn frozen(mut self) -> Self {
        self.trainable = false;
        self
    }
}

/// "Why this shape": the rule in words and the arithmetic with the actual numbers,
/// produced by the same code that computes the shape.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct Explanation {
    pub rule: String,
    pub steps: Vec<String>,
}

impl Explanation {
    pub fn new(rule: impl Into<String>) -> Self {
        Explanation {
            rule: rule.into(),
            steps: Vec::new(),
        }
    }
    #[must_use]
    pub fn step(mut self, s: impl Into<String>) -> Self {
        self.steps.push(s.into());
        self
    }
    /// The steps that give the parameter count start with `params` (every kind writes its
    /// count so): the explanation without them, for an exercise that hides the counts.
    #[must_use]
    pub fn without_params(mut self) -> Self {
        self.steps.retain(|s| !s.starts_with("params"));
        self
    }
}

/// The rules every layer kind implements.
pub trait LayerRules {
    /// Output shape for a given input, or the reason Keras would refuse it.
    ///
    /// # Errors
    /// A [`Problem`] describing the violated expectation.
    fn output_shape(&self, input: &Shape) -> Result<Shape, Problem>;

    /// Weights in Keras `get_weights()` order. Parameter counts derive from these.
    ///
    /// # Errors
    /// Overflow or invalid settings.
    fn weights(&self, _input: &Shape) -> Result<Vec<WeightSpec>, Problem> {
        Ok(Vec::new())
    }

    /// Multiply-accumulate count per sample (Dense: in × units per position; conv: output
    /// positions × kernel volume × in/groups × filters). Elementwise layers count 0.
    ///
    /// # Errors
    /// Overflow.
    fn macs(&self, _input: &Shape, _output: &Shape) -> Result<u64, Problem> {
        Ok(0)
    }

    /// Inference-mode forward pass on a batch (axis 0 is the batch).
    ///
    /// # Errors
    /// Weights or input that do not fit.
    fn forward(&self, x: &ArrayD<f32>, weights: &[ArrayD<f32>]) -> Result<ArrayD<f32>, Problem>;

    /// The explanation of the output shape for this input.
    fn explain(&self, input: &Shape, output: &Shape) -> Explanation;

    /// Short key settings for a card, e.g. `16 units, relu`.
    fn settings(&self) -> String;

    /// The inspector shows these fields first, in this order; the rest follow
    /// alphabetically.
    fn field_order(&self) -> &'static [&'static str] {
        FIELD_ORDER
    }
}

/// The inspector's field order for most kinds (Keras constructor order); the rest follow
/// alphabetically. A kind with its own order overrides [`LayerRules::field_order`].
pub const FIELD_ORDER: &[&str] = &[
    "units",
    "filters",
    "input_dim",
    "output_dim",
    "kernel_size",
    "pool_size",
    "size",
    "strides",
    "padding",
    "output_padding",
    "dilation_rate",
    "depth_multiplier",
    "groups",
    "activation",
    "recurrent_activation",
    "use_bias",
    "return_sequences",
    "return_state",
    "target_shape",
    "dims",
    "n",
    "cropping",
    "interpolation",
    "rate",
    "stddev",
    "axis",
];

/// Palette groups.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Group {
    Core,
    Convolution,
    Pooling,
    Normalization,
    Recurrent,
    Reshaping,
    Regularization,
    Activation,
}

impl Group {
    pub const ALL: [Group; 8] = [
        Group::Core,
        Group::Convolution,
        Group::Pooling,
        Group::Normalization,
        Group::Recurrent,
        Group::Reshaping,
        Group::Regularization,
        Group::Activation,
    ];
    pub fn label(self) -> &'static str {
        match self {
            Group::Core => "Core",
            Group::Convolution => "Convolution",
            Group::Pooling => "Pooling",
            Group::Normalization => "Normalization",
            Group::Recurrent => "Recurrent",
            Group::Reshaping => "Reshaping",
            Group::Regularization => "Regularization",
            Group::Activation => "Activation",
        }
    }
}

/// A layer Flatland cannot build: an unknown class, or a config that does not parse.
/// Kept in the model so the rest of the stack still shows; its rules always fail.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Unknown {
    pub class_name: String,
    pub config: Value,
    /// Why it could not be read (empty for an unknown class).
    pub reason: String,
}

impl Unknown {
    fn problem(&self) -> Problem {
        if self.reason.is_empty() {
            Problem::Unsupported {
                class: self.class_name.clone(),
            }
        } else {
            Problem::Config {
                field: "config",
                message: self.reason.clone(),
            }
        }
    }
}

impl LayerRules for Unknown {
    fn output_shape(&self, _input: &Shape) -> Result<Shape, Problem> {
        Err(self.problem())
    }
    fn forward(&self, _x: &ArrayD<f32>, _w: &[ArrayD<f32>]) -> Result<ArrayD<f32>, Problem> {
        Err(self.problem())
    }
    fn explain(&self, _input: &Shape, _output: &Shape) -> Explanation {
        Explanation::new(self.problem().to_string())
    }
    fn settings(&self) -> String {
        "not supported".into()
    }
}

impl LayerGrad for Unknown {}

impl LayerCode for Unknown {
    fn torch(&self, t: &mut Torch, _inp: &[usize], _out: &[usize]) {
        t.note(format!("layer `{}` has no translation", self.class_name));
    }
}

/// One layer kind's settings from a config object. Not inlined: `from_config` would
/// otherwise hold every kind's serde visitor in one function. The config is read through
/// [`ConfigDe`], which reads an object, or a list of the fields in order (serde accepts a
/// struct as a list), through the derived map visitor only, so the sequence visitors are not
/// compiled in: 5 kB gzip less in the web build. `ConfigDe` gives what `serde_json`'s `&Value`
/// gives, errors included (tested for every kind).
#[inline(never)]
fn parse_config<T: serde::de::DeserializeOwned>(
    config: &Value,
    aliases: &'static [(&'static str, &'static str)],
) -> Result<T, serde_json::Error> {
    T::deserialize(ConfigDe(config, aliases))
}

/// A layer config as a serde deserializer (see [`parse_config`]), with the kind's renamed
/// arguments ([`KerasArgs::aliases`]): serde lists them among the field names, but a list
/// config gives the fields only.
struct ConfigDe<'a>(&'a Value, &'static [(&'static str, &'static str)]);

/// `(field, value)` pairs, visited as a map.
struct ConfigMap<'a> {
    entries: std::vec::IntoIter<(&'a str, &'a Value)>,
    value: Option<&'a Value>,
}

impl<'de> serde::de::MapAccess<'de> for ConfigMap<'de> {
    type Error = serde_json::Error;

    fn next_key_seed<K: serde::de::DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, serde_json::Error> {
        let Some((key, value)) = self.entries.next() else {
            return Ok(None);
        };
        self.value = Some(value);
        seed.deserialize(serde::de::value::BorrowedStrDeserializer::new(key))
            .map(Some)
    }

    fn next_value_seed<V: serde::de::DeserializeSeed<'de>>(
        &mut self,
        seed: V,
    ) -> Result<V::Value, serde_json::Error> {
        match self.value.take() {
            Some(v) => seed.deserialize(v),
            None => Err(serde::de::Error::custom("value is missing")),
        }
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.entries.len())
    }
}

impl<'a> ConfigDe<'a> {
    /// The `(field, value)` pairs of an object, or of a list (the fields in order), and the
    /// number of list elements left over; `None` for other values. Not generic, so compiled
    /// once rather than for every kind.
    #[inline(never)]
    fn entries(
        &self,
        fields: &'static [&'static str],
    ) -> Option<(Vec<(&'a str, &'a Value)>, usize)> {
        match self.0 {
            Value::Object(map) => Some((map.iter().map(|(k, v)| (k.as_str(), v)).collect(), 0)),
            Value::Array(items) => {
                let names = fields
                    .iter()
                    .filter(|f| !self.1.iter().any(|(alias, _)| alias == *f));
                let entries: Vec<_> = names.zip(items).map(|(f, v)| (*f, v)).collect();
                let left_over = items.len() - entries.len();
                Some((entries, left_over))
            }
            _ => None,
        }
    }

    /// `serde_json`'s "invalid type" error for a config that is neither an object nor a list.
    fn invalid(&self, exp: &dyn serde::de::Expected) -> serde_json::Error {
        use serde::de::{Error as _, Unexpected};
        let unexpected = match self.0 {
            Value::Null => Unexpected::Unit,
            Value::Bool(b) => Unexpected::Bool(*b),
            Value::Number(n) => match (n.as_u64(), n.as_i64()) {
                (Some(u), _) => Unexpected::Unsigned(u),
                (None, Some(i)) => Unexpected::Signed(i),
                _ => Unexpected::Float(n.as_f64().unwrap_or(f64::NAN)),
            },
            Value::String(s) => Unexpected::Str(s),
            Value::Array(_) => Unexpected::Seq,
            Value::Object(_) => Unexpected::Map,
        };
        serde_json::Error::invalid_type(unexpected, exp)
    }
}

impl<'de> serde::de::Deserializer<'de> for ConfigDe<'de> {
    type Error = serde_json::Error;

    fn deserialize_struct<V: serde::de::Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, serde_json::Error> {
        let Some((entries, left_over)) = self.entries(fields) else {
            return Err(self.invalid(&visitor));
        };
        let n = entries.len();
        let v = visitor.visit_map(ConfigMap {
            entries: entries.into_iter(),
            value: None,
        })?;
        match left_over {
            0 => Ok(v),
            // As serde_json: list elements left over.
            _ => Err(serde::de::Error::invalid_length(
                n + left_over,
                &"fewer elements in array",
            )),
        }
    }

    fn deserialize_any<V: serde::de::Visitor<'de>>(
        self,
        visitor: V,
    ) -> Result<V::Value, serde_json::Error> {
        match self.0 {
            Value::Object(_) => self.deserialize_struct("", &[], visitor),
            _ => Err(self.invalid(&visitor)),
        }
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option unit unit_struct newtype_struct seq tuple tuple_struct map enum
        identifier ignored_any
    }
}

macro_rules! catalogue {
    ($( $variant:ident($ty:ty) = $class:literal, $group:ident, $prefix:literal; )*) => {
        /// Every layer kind Flatland knows, with its Keras settings.
        #[derive(Debug, Clone, PartialEq)]
        pub enum LayerSpec {
            $( $variant($ty), )*
            /// Unknown class or unreadable config (always an error at this layer).
            Unknown(Unknown),
        }

        /// One catalogue entry: Keras class name, palette group, default name prefix.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub struct Kind {
            pub class_name: &'static str,
            pub group: Group,
            pub prefix: &'static str,
        }

        /// The whole catalogue in palette order.
        pub const CATALOGUE: &[Kind] = &[
            $( Kind { class_name: $class, group: Group::$group, prefix: $prefix }, )*
        ];

        impl LayerSpec {
            /// Keras class name.
            pub fn class_name(&self) -> &str {
                match self {
                    $( LayerSpec::$variant(_) => $class, )*
                    LayerSpec::Unknown(u) => &u.class_name,
                }
            }

            /// The rules of this layer kind.
            pub fn rules(&self) -> &dyn LayerRules {
                match self {
                    $( LayerSpec::$variant(s) => s, )*
                    LayerSpec::Unknown(u) => u,
                }
            }

            /// This kind's training-mode forward and backward passes. A trait of its own,
            /// reached only from here: code that never trains (the page's main module) never
            /// names it, so none of it is linked there.
            pub fn grad(&self) -> &dyn LayerGrad {
                match self {
                    $( LayerSpec::$variant(s) => s, )*
                    LayerSpec::Unknown(u) => u,
                }
            }

            /// Default-configured layer of a catalogue class (Keras class name).
            pub fn default_of(class_name: &str) -> Option<LayerSpec> {
                match class_name {
                    $( $class => Some(LayerSpec::$variant(<$ty>::default())), )*
                    _ => None,
                }
            }

            /// Build from a Keras class name and config object. Unknown classes and
            /// configs that do not parse become [`LayerSpec::Unknown`]: the model is still
            /// readable, and the layer reports the problem.
            pub fn from_config(class_name: &str, config: &Value) -> LayerSpec {
                let canonical = args::canonical_class(class_name);
                let parsed: Option<Result<LayerSpec, serde_json::Error>> = match canonical {
                    $( $class => Some(parse_config::<$ty>(config, <$ty as KerasTable>::ARGS.aliases).map(LayerSpec::$variant)), )*
                    _ => None,
                };
                match parsed {
                    Some(Ok(spec)) => spec,
                    Some(Err(e)) => LayerSpec::Unknown(Unknown {
                        class_name: canonical.to_string(),
                        config: config.clone(),
                        reason: format!("invalid {canonical} config: {e}"),
                    }),
                    None => LayerSpec::Unknown(Unknown {
                        class_name: class_name.to_string(),
                        config: config.clone(),
                        reason: String::new(),
                    }),
                }
            }

            /// [`LayerSpec::from_config`] through `serde_json`'s own deserializer, which
            /// [`ConfigDe`] must match.
            #[cfg(test)]
            fn from_config_serde_json(class_name: &str, config: &Value) -> Option<Result<LayerSpec, String>> {
                match args::canonical_class(class_name) {
                    $( $class => Some(serde_json::from_value::<$ty>(config.clone()).map(LayerSpec::$variant).map_err(|e| e.to_string())), )*
                    _ => None,
                }
            }

            /// Keras-style config object (Keras field names).
            pub fn to_config(&self) -> Value {
                match self {
                    $( LayerSpec::$variant(s) => serde_json::to_value(s).unwrap_or(Value::Null), )*
                    LayerSpec::Unknown(u) => u.config.clone(),
                }
            }

            /// How Keras 3's constructor takes this kind's arguments. Dispatched statically,
            /// not through [`LayerSpec::code`]: the page's first module reads these tables
            /// (Keras file import) and must not link the PyTorch translations.
            pub fn keras_args(&self) -> &'static KerasArgs {
                match self {
                    $( LayerSpec::$variant(_) => &<$ty as KerasTable>::ARGS, )*
                    LayerSpec::Unknown(_) => &KerasArgs::NONE,
                }
            }

            /// The arguments Keras requires for this kind (one field of its table).
            pub fn keras_required(&self) -> &'static [&'static str] {
                match self {
                    $( LayerSpec::$variant(_) => <$ty as KerasTable>::ARGS.required, )*
                    LayerSpec::Unknown(_) => &[],
                }
            }

            /// Whether this kind still accepts a Keras 1/2 argument Keras 3 refuses elsewhere.
            pub fn keras_accepts_legacy(&self, arg: &str) -> bool {
                let accepted: &[&str] = match self {
                    $( LayerSpec::$variant(_) => <$ty as KerasTable>::ARGS.accepted_legacy, )*
                    LayerSpec::Unknown(_) => &[],
                };
                accepted.contains(&arg)
            }

            /// How Keras 3's constructor takes a catalogue class's arguments (canonical
            /// class name); `None` outside the catalogue.
            fn keras_args_of_class(class_name: &str) -> Option<&'static KerasArgs> {
                match class_name {
                    $( $class => Some(&<$ty as KerasTable>::ARGS), )*
                    _ => None,
                }
            }

            /// This kind as code: its Keras constructor arguments and PyTorch translation
            /// (the tools worker's exporters).
            pub fn code(&self) -> &dyn LayerCode {
                match self {
                    $( LayerSpec::$variant(s) => s, )*
                    LayerSpec::Unknown(u) => u,
                }
            }

            /// Default name prefix, e.g. `dense` or `conv2d`.
            pub fn prefix(&self) -> &'static str {
                match self {
                    $( LayerSpec::$variant(_) => $prefix, )*
                    LayerSpec::Unknown(_) => "layer",
                }
            }
        }
    };
}

use activation::{ActivationLayer, Elu, LeakyRelu, PRelu, Relu, Softmax};
use args::{AvgOp, MaxOp, R1, R2};
use conv::{Conv, ConvTranspose, DepthwiseConv2D, SeparableConv2D};
use core::{Dense, Embedding, Identity, Rescaling};
use normalization::{BatchNormalization, LayerNormalization, UnitNormalization};
use pooling::{GlobalPool, Pool};
use recurrent::{Gru, Lstm, SimpleRnn};
use regularization::{AlphaDropout, Dropout, GaussianDropout, GaussianNoise, SpatialDropout};
use reshaping::{
    Cropping1D, Cropping2D, Flatten, Permute, RepeatVector, Reshape, UpSampling1D, UpSampling2D,
    ZeroPadding1D, ZeroPadding2D,
};

catalogue! {
    Dense(Dense) = "Dense", Core, "dense";
    Identity(Identity) = "Identity", Core, "identity";
    Embedding(Embedding) = "Embedding", Core, "embedding";
    Rescaling(Rescaling) = "Rescaling", Core, "rescaling";
    Conv1D(Conv<R1>) = "Conv1D", Convolution, "conv1d";
    Conv2D(Conv<R2>) = "Conv2D", Convolution, "conv2d";
    Conv1DTranspose(ConvTranspose<R1>) = "Conv1DTranspose", Convolution, "conv1d_transpose";
    Conv2DTranspose(ConvTranspose<R2>) = "Conv2DTranspose", Convolution, "conv2d_transpose";
    DepthwiseConv2D(DepthwiseConv2D) = "DepthwiseConv2D", Convolution, "depthwise_conv2d";
    SeparableConv2D(SeparableConv2D) = "SeparableConv2D", Convolution, "separable_conv2d";
    MaxPooling1D(Pool<R1, MaxOp>) = "MaxPooling1D", Pooling, "max_pooling1d";
    MaxPooling2D(Pool<R2, MaxOp>) = "MaxPooling2D", Pooling, "max_pooling2d";
    AveragePooling1D(Pool<R1, AvgOp>) = "AveragePooling1D", Pooling, "average_pooling1d";
    AveragePooling2D(Pool<R2, AvgOp>) = "AveragePooling2D", Pooling, "average_pooling2d";
    GlobalAveragePooling1D(GlobalPool<R1, AvgOp>) = "GlobalAveragePooling1D", Pooling, "global_average_pooling1d";
    GlobalAveragePooling2D(GlobalPool<R2, AvgOp>) = "GlobalAveragePooling2D", Pooling, "global_average_pooling2d";
    GlobalMaxPooling1D(GlobalPool<R1, MaxOp>) = "GlobalMaxPooling1D", Pooling, "global_max_pooling1d";
    GlobalMaxPooling2D(GlobalPool<R2, MaxOp>) = "GlobalMaxPooling2D", Pooling, "global_max_pooling2d";
    BatchNormalization(BatchNormalization) = "BatchNormalization", Normalization, "batch_normalization";
    LayerNormalization(LayerNormalization) = "LayerNormalization", Normalization, "layer_normalization";
    UnitNormalization(UnitNormalization) = "UnitNormalization", Normalization, "unit_normalization";
    GroupNormalization(group_normalization::GroupNormalization) = "GroupNormalization", Normalization, "group_normalization";
    SimpleRNN(SimpleRnn) = "SimpleRNN", Recurrent, "simple_rnn";
    LSTM(Lstm) = "LSTM", Recurrent, "lstm";
    GRU(Gru) = "GRU", Recurrent, "gru";
    Flatten(Flatten) = "Flatten", Reshaping, "flatten";
    Reshape(Reshape) = "Reshape", Reshaping, "reshape";
    Permute(Permute) = "Permute", Reshaping, "permute";
    RepeatVector(RepeatVector) = "RepeatVector", Reshaping, "repeat_vector";
    ZeroPadding1D(ZeroPadding1D) = "ZeroPadding1D", Reshaping, "zero_padding1d";
    ZeroPadding2D(ZeroPadding2D) = "ZeroPadding2D", Reshaping, "zero_padding2d";
    UpSampling1D(UpSampling1D) = "UpSampling1D", Reshaping, "up_sampling1d";
    UpSampling2D(UpSampling2D) = "UpSampling2D", Reshaping, "up_sampling2d";
    Cropping1D(Cropping1D) = "Cropping1D", Reshaping, "cropping1d";
    Cropping2D(Cropping2D) = "Cropping2D", Reshaping, "cropping2d";
    Dropout(Dropout) = "Dropout", Regularization, "dropout";
    SpatialDropout1D(SpatialDropout<R1>) = "SpatialDropout1D", Regularization, "spatial_dropout1d";
    SpatialDropout2D(SpatialDropout<R2>) = "SpatialDropout2D", Regularization, "spatial_dropout2d";
    GaussianNoise(GaussianNoise) = "GaussianNoise", Regularization, "gaussian_noise";
    GaussianDropout(GaussianDropout) = "GaussianDropout", Regularization, "gaussian_dropout";
    AlphaDropout(AlphaDropout) = "AlphaDropout", Regularization, "alpha_dropout";
    Activation(ActivationLayer) = "Activation", Activation, "activation";
    ReLU(Relu) = "ReLU", Activation, "re_lu";
    LeakyReLU(LeakyRelu) = "LeakyReLU", Activation, "leaky_re_lu";
    PReLU(PRelu) = "PReLU", Activation, "p_re_lu";
    ELU(Elu) = "ELU", Activation, "elu";
    Softmax(Softmax) = "Softmax", Activation, "softmax";
}

impl LayerSpec {
    /// Palette group of a catalogue class.
    pub fn group_of(class_name: &str) -> Option<Group> {
        CATALOGUE
            .iter()
            .find(|k| k.class_name == class_name)
            .map(|k| k.group)
    }

    /// How Keras 3's constructor takes a catalogue class's arguments (Keras's other names
    /// for a class, `MaxPool2D`, `Convolution2D`, …, resolved); `None` outside the catalogue.
    pub fn keras_args_of(class_name: &str) -> Option<&'static KerasArgs> {
        LayerSpec::keras_args_of_class(args::canonical_class(class_name))
    }

    /// The config Keras 3 uses for a catalogue class when an argument is not given.
    pub fn keras_default_config(class_name: &str) -> Option<Value> {
        let spec = LayerSpec::default_of(args::canonical_class(class_name))?;
        let mut cfg = spec.to_config();
        if let Value::Object(o) = &mut cfg {
            spec.code().keras_defaults(o);
        }
        Some(cfg)
    }

    /// The required arguments of a catalogue class that `config` lacks. (Through
    /// [`LayerSpec::default_of`], which the page links anyway, rather than
    /// [`LayerSpec::keras_args_of`]'s own table of class names.)
    pub fn missing_required(class_name: &str, config: &Value) -> Vec<&'static str> {
        let required = LayerSpec::default_of(args::canonical_class(class_name))
            .map_or(&[][..], |s| s.keras_required());
        required
            .iter()
            .filter(|r| config.get(**r).is_none())
            .copied()
            .collect()
    }

    /// Build from a layer config written by Keras (a Keras 3 / 2 or TF.js file): as
    /// [`LayerSpec::from_config`], but a config without an argument Keras requires is refused
    /// as Keras's `from_config` refuses it (`Dense` without `units`), naming the argument.
    pub fn from_keras_config(class_name: &str, config: &Value) -> LayerSpec {
        let missing = LayerSpec::missing_required(class_name, config);
        if missing.is_empty() {
            return LayerSpec::from_config(class_name, config);
        }
        let class = args::canonical_class(class_name);
        let list = missing
            .iter()
            .map(|m| format!("`{m}`"))
            .collect::<Vec<_>>()
            .join(", ");
        let its = if missing.len() == 1 {
            "its required argument"
        } else {
            "its required arguments"
        };
        LayerSpec::Unknown(Unknown {
            class_name: class.to_string(),
            config: config.clone(),
            reason: format!("{class} is missing {its} {list}"),
        })
    }
}

#[cfg(test)]
mod config_de_tests {
    use super::*;
    use serde_json::json;

    /// `from_config` reads every kind's config as `serde_json` does: objects, lists of fields
    /// (serde's struct-as-list form, which the fuzzer found), and the wrong types, with the
    /// same values and the same error messages.
    #[test]
    fn config_de_matches_serde_json() {
        let pool = [
            json!(16),
            json!(2),
            json!(null),
            json!("relu"),
            json!(true),
            json!([3, 3]),
            json!(0.5),
            json!(-1),
            json!("same"),
            json!(18446744073709551614u64),
        ];
        let mut configs = vec![
            json!(null),
            json!(3),
            json!(-3),
            json!(1.5),
            json!("x"),
            json!(true),
            json!({}),
            json!({"units": "x"}),
            json!({"units": 4, "mystery": [1, {"a": 2}]}),
            json!({"alpha": 0.1}),
            json!({"alpha": 0.1, "negative_slope": 0.2}),
            json!({"kernel_size": [2, 2], "strides": 2, "padding": "same"}),
            json!({"rate": 2.0, "target_shape": [2, -1]}),
        ];
        for len in 0..10 {
            for start in 0..pool.len() {
                configs.push(Value::Array(
                    (0..len)
                        .map(|i| pool[(start + i * 3) % pool.len()].clone())
                        .collect(),
                ));
            }
        }
        for kind in CATALOGUE {
            let mut own = configs.clone();
            let Some(default) = LayerSpec::default_of(kind.class_name) else {
                panic!("{}", kind.class_name)
            };
            let cfg = default.to_config();
            if let Value::Object(m) = &cfg {
                own.push(Value::Array(m.values().cloned().collect()));
                for (k, _) in m {
                    for v in &pool {
                        own.push(json!({ k.clone(): v.clone() }));
                    }
                }
            }
            own.push(cfg);
            for config in &own {
                let want = LayerSpec::from_config_serde_json(kind.class_name, config);
                let got = match LayerSpec::from_config(kind.class_name, config) {
                    LayerSpec::Unknown(u) => Err(u.reason),
                    spec => Ok(spec),
                };
                let want =
                    want.map(|w| w.map_err(|e| format!("invalid {} config: {e}", kind.class_name)));
                assert_eq!(Some(got), want, "{} {config}", kind.class_name);
            }
        }
    }
}
