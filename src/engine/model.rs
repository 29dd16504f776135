//! A model is an input shape and a chain of layers. [`analyze`] runs shape inference and
//! parameter/MAC counting through the chain: the first invalid layer gets a typed error and
//! every layer after it is `NotComputed`.

use serde::Serialize;

use super::error::{LayerError, Problem};
use super::layers::{Explanation, LayerSpec, WeightSpec};
use super::shape::{checked_product, checked_sum, Shape};

/// Which layer this is, for the page: stable while the layer is moved, edited or renamed,
/// and never reused within a session (the page's state allocates them, see
/// `app::state::State`). Ids are not part of the model's meaning: no serialized format
/// (model JSON, share links, Keras or `PyTorch` export, CLI output) carries them, and models
/// (and layers) compare equal whatever their ids. A layer made by [`Layer::new`] or read
/// from a file has the default id until the page adopts it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct LayerId(pub u32);

/// One named layer.
#[derive(Debug, Clone)]
pub struct Layer {
    /// In-memory identity only (ignored by `==` and by every codec).
    pub id: LayerId,
    pub name: String,
    pub spec: LayerSpec,
}

/// Equality is by content: the id is ignored.
impl PartialEq for Layer {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name && self.spec == other.spec
    }
}

impl Layer {
    pub fn new(name: impl Into<String>, spec: LayerSpec) -> Self {
        Layer {
            id: LayerId::default(),
            name: name.into(),
            spec,
        }
    }
}

/// A Sequential-style model.
#[derive(Debug, Clone, PartialEq)]
pub struct Model {
    pub name: String,
    /// Input shape without the batch axis.
    pub input_shape: Vec<usize>,
    pub layers: Vec<Layer>,
}

impl Model {
    /// The seed model: Input (3, 2) → Dense(16) → Activation('relu') → Flatten → Dense(4).
    pub fn seed() -> Model {
        use super::layers::activation::{Activation, ActivationLayer};
        use super::layers::core::Dense;
        use super::layers::reshaping::Flatten;
        Model {
            name: "seed".into(),
            input_shape: vec![3, 2],
            layers: vec![
                Layer::new(
                    "dense",
                    LayerSpec::Dense(Dense {
                        units: 16,
                        ..Dense::default()
                    }),
                ),
                Layer::new(
                    "activation",
                    LayerSpec::Activation(ActivationLayer {
                        activation: Activation::Relu,
                    }),
                ),
                Layer::new("flatten", LayerSpec::Flatten(Flatten {})),
                Layer::new(
                    "dense_1",
                    LayerSpec::Dense(Dense {
                        units: 4,
                        ..Dense::default()
                    }),
                ),
            ],
        }
    }

    /// A fresh Keras-style name for a new layer of this kind (`dense`, `dense_1`, ...).
    pub fn fresh_name(&self, prefix: &str) -> String {
        let taken = |n: &str| self.layers.iter().any(|l| l.name == n);
        if !taken(prefix) {
            return prefix.to_string();
        }
        #[allow(clippy::maybe_infinite_iter)] // a model has finitely many names: one is free
        (1..)
            .map(|i| format!("{prefix}_{i}"))
            .find(|n| !taken(n))
            .unwrap_or_else(|| prefix.to_string())
    }
}

/// Where a layer stands after analysis.
#[derive(Debug, Clone, PartialEq)]
pub enum Status {
    Ok,
    Error(LayerError),
    /// An earlier layer failed, so this one has no input shape.
    NotComputed,
}

impl Status {
    /// The status as a page hook value: `ok`, `error` or `not-computed`.
    pub fn hook(&self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Error(_) => "error",
            Status::NotComputed => "not-computed",
        }
    }
}

/// The text shown where a layer's output shape would be: the shape, or `error` (this layer
/// failed) or `not computed` (an earlier one did). The one place the summary, the cards, the
/// inspector and the compare view take it from.
pub fn shape_or_status(shape: Option<&Shape>, status: &Status) -> String {
    match (shape, status) {
        (Some(s), _) => s.to_string(),
        (None, Status::Error(_)) => "error".into(),
        (None, _) => "not computed".into(),
    }
}

/// Everything known about one layer after analysis.
#[derive(Debug, Clone, PartialEq)]
pub struct LayerReport {
    pub name: String,
    pub class_name: String,
    pub input: Option<Shape>,
    pub output: Option<Shape>,
    pub weights: Vec<WeightSpec>,
    pub trainable: u64,
    pub non_trainable: u64,
    pub macs: u64,
    /// f32 bytes of the output per sample.
    pub output_bytes: u64,
    pub status: Status,
}

impl LayerReport {
    /// The output shape, or `error` / `not computed` ([`shape_or_status`]).
    pub fn shape_text(&self) -> String {
        shape_or_status(self.output.as_ref(), &self.status)
    }
    pub fn params(&self) -> u64 {
        self.trainable.saturating_add(self.non_trainable)
    }
    pub fn error(&self) -> Option<&LayerError> {
        match &self.status {
            Status::Error(e) => Some(e),
            _ => None,
        }
    }
}

/// The result of analysing a model.
#[derive(Debug, Clone, PartialEq)]
pub struct Analysis {
    pub input: Shape,
    pub layers: Vec<LayerReport>,
    pub trainable: u64,
    pub non_trainable: u64,
    pub macs: u64,
}

impl Analysis {
    pub fn total(&self) -> u64 {
        self.trainable.saturating_add(self.non_trainable)
    }
    pub fn valid(&self) -> bool {
        self.layers.iter().all(|l| l.status == Status::Ok)
    }
    pub fn first_error(&self) -> Option<&LayerError> {
        self.layers.iter().find_map(LayerReport::error)
    }
    /// Output shape of the whole model, when valid.
    pub fn output(&self) -> Option<&Shape> {
        if self.valid() {
            self.layers
                .last()
                .and_then(|l| l.output.as_ref())
                .or(Some(&self.input))
        } else {
            None
        }
    }
}

struct Counted {
    output: Shape,
    weights: Vec<WeightSpec>,
    trainable: u64,
    non_trainable: u64,
    macs: u64,
    output_bytes: u64,
}

fn count_layer(spec: &LayerSpec, input: &Shape) -> Result<Counted, Problem> {
    let rules = spec.rules();
    let output = rules.output_shape(input)?;
    let weights = rules.weights(input)?;
    let mut trainable = 0u64;
    let mut non_trainable = 0u64;
    for w in &weights {
        let n = checked_product(w.shape.iter().map(|&d| d as u64), "parameter count")?;
        let slot = if w.trainable {
            &mut trainable
        } else {
            &mut non_trainable
        };
        *slot = slot.checked_add(n).ok_or(Problem::Overflow {
            what: "parameter count",
        })?;
    }
    let macs = rules.macs(input, &output)?;
    let output_bytes = checked_product([output.elements()?, 4], "output size")?;
    Ok(Counted {
        output,
        weights,
        trainable,
        non_trainable,
        macs,
        output_bytes,
    })
}

impl LayerReport {
    /// The report of a layer that has no output: nothing counted, `status` says why.
    fn without_output(
        name: &str,
        class_name: String,
        input: Option<Shape>,
        status: Status,
    ) -> LayerReport {
        LayerReport {
            name: name.to_string(),
            class_name,
            input,
            output: None,
            weights: Vec::new(),
            trainable: 0,
            non_trainable: 0,
            macs: 0,
            output_bytes: 0,
            status,
        }
    }
}

/// Shape inference and counting through the whole chain.
pub fn analyze(model: &Model) -> Analysis {
    let input = Shape::new(model.input_shape.clone());
    let mut current = Some(input.clone());
    let mut layers = Vec::with_capacity(model.layers.len());
    for (index, layer) in model.layers.iter().enumerate() {
        let class_name = layer.spec.class_name().to_string();
        let report = match current.take() {
            None => LayerReport::without_output(&layer.name, class_name, None, Status::NotComputed),
            Some(inp) => match count_layer(&layer.spec, &inp) {
                Ok(c) => {
                    current = Some(c.output.clone());
                    LayerReport {
                        name: layer.name.clone(),
                        class_name,
                        input: Some(inp),
                        output: Some(c.output),
                        weights: c.weights,
                        trainable: c.trainable,
                        non_trainable: c.non_trainable,
                        macs: c.macs,
                        output_bytes: c.output_bytes,
                        status: Status::Ok,
                    }
                }
                Err(problem) => LayerReport::without_output(
                    &layer.name,
                    class_name.clone(),
                    Some(inp.clone()),
                    Status::Error(LayerError {
                        index,
                        name: layer.name.clone(),
                        class_name,
                        input: Some(inp),
                        problem,
                    }),
                ),
            },
        };
        layers.push(report);
    }
    let sum =
        |f: fn(&LayerReport) -> u64| checked_sum(layers.iter().map(f), "total").unwrap_or(u64::MAX);
    Analysis {
        trainable: sum(|l| l.trainable),
        non_trainable: sum(|l| l.non_trainable),
        macs: sum(|l| l.macs),
        input,
        layers,
    }
}

/// The "why this shape" explanation of layer `index`, from the same rules as the shape.
pub fn explain(model: &Model, analysis: &Analysis, index: usize) -> Option<Explanation> {
    let layer = model.layers.get(index)?;
    let report = analysis.layers.get(index)?;
    match (&report.input, &report.output) {
        (Some(i), Some(o)) => Some(layer.spec.rules().explain(i, o)),
        (Some(_), None) => report.error().map(|e| Explanation::new(e.to_string())),
        _ => Some(Explanation::new(
            "Not computed: an earlier layer has an error.",
        )),
    }
}

/// Serializable view for JSON output (`flatland summary --json`).
#[derive(Debug, Clone, Serialize)]
pub struct JsonLayer {
    pub name: String,
    pub class_name: String,
    pub output_shape: Option<Vec<Option<usize>>>,
    pub params: u64,
    pub trainable_params: u64,
    pub non_trainable_params: u64,
    pub macs: u64,
    pub output_bytes: u64,
    pub error: Option<String>,
}

/// The `flatland summary --json` object.
#[derive(Debug, Clone, Serialize)]
pub struct JsonSummary {
    pub valid: bool,
    pub input_shape: Vec<Option<usize>>,
    pub layers: Vec<JsonLayer>,
    pub total_params: u64,
    pub trainable_params: u64,
    pub non_trainable_params: u64,
    pub total_macs: u64,
}

impl Analysis {
    pub fn to_json(&self) -> JsonSummary {
        JsonSummary {
            valid: self.valid(),
            input_shape: self.input.keras_list(),
            layers: self
                .layers
                .iter()
                .map(|l| JsonLayer {
                    name: l.name.clone(),
                    class_name: l.class_name.clone(),
                    output_shape: l.output.as_ref().map(Shape::keras_list),
                    params: l.params(),
                    trainable_params: l.trainable,
                    non_trainable_params: l.non_trainable,
                    macs: l.macs,
                    output_bytes: l.output_bytes,
                    error: match &l.status {
                        Status::Ok => None,
                        Status::Error(e) => Some(e.to_string()),
                        Status::NotComputed => {
                            Some("not computed: an earlier layer has an error".into())
                        }
                    },
                })
                .collect(),
            total_params: self.total(),
            trainable_params: self.trainable,
            non_trainable_params: self.non_trainable,
            total_macs: self.macs,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seed_model_rows() {
        let a = analyze(&Model::seed());
        let rows: Vec<(String, u64)> = a
            .layers
            .iter()
            .map(|l| {
                (
                    l.output
                        .as_ref()
                        .map(ToString::to_string)
                        .unwrap_or_default(),
                    l.params(),
                )
            })
            .collect();
        assert_eq!(
            rows,
            vec![
                ("(None, 3, 16)".to_string(), 48),
                ("(None, 3, 16)".to_string(), 0),
                ("(None, 48)".to_string(), 0),
                ("(None, 4)".to_string(), 196),
            ]
        );
        assert_eq!(a.total(), 244);
        assert_eq!(a.layers[0].macs, 3 * 2 * 16);
    }

    #[test]
    fn ids_do_not_change_equality() {
        let mut m = Model::seed();
        for (i, l) in m.layers.iter_mut().enumerate() {
            l.id = LayerId(u32::try_from(i).unwrap_or(0) + 7);
        }
        assert_eq!(m, Model::seed());
        m.layers[0].name = "other".into();
        assert_ne!(m, Model::seed());
    }

    #[test]
    fn error_stops_the_chain() {
        use crate::engine::layers::conv::Conv;
        let mut m = Model::seed();
        m.layers
            .insert(1, Layer::new("conv2d", LayerSpec::Conv2D(Conv::default())));
        let a = analyze(&m);
        assert_eq!(a.layers[0].status, Status::Ok);
        let e = a.layers[1]
            .error()
            .map(ToString::to_string)
            .unwrap_or_default();
        assert!(
            e.contains("needs a 3-D input (height, width, channels) but got (None, 3, 16)"),
            "{e}"
        );
        assert!(a.layers[2..]
            .iter()
            .all(|l| l.status == Status::NotComputed));
    }

    #[test]
    fn overflow_is_an_error_not_a_wrap() {
        use crate::engine::layers::core::Dense;
        let m = Model {
            name: "big".into(),
            input_shape: vec![usize::MAX / 2],
            layers: vec![Layer::new(
                "d",
                LayerSpec::Dense(Dense {
                    units: usize::MAX / 2,
                    ..Dense::default()
                }),
            )],
        };
        let a = analyze(&m);
        assert!(matches!(
            a.layers[0].error().map(|e| &e.problem),
            Some(Problem::Overflow { .. })
        ));
    }
}
