//! How the Train panel trains a model on a dataset: which Keras loss fits the model's output
//! and the dataset's targets, the way a Keras user would compile it.
//!
//! - Class labels and one output unit: `binary_crossentropy` (2 classes only).
//! - Class labels and `k` output units (`k` at least the number of classes):
//!   `sparse_categorical_crossentropy`.
//! - Numbers: `mean_squared_error`, one output unit.
//!
//! A last layer without the loss's activation (a plain `Dense(4)`) gives logits: Keras users
//! compile it with `from_logits=True`. Flatland trains it as the model followed by the
//! activation (`softmax` or `sigmoid`), which has no weights, so the trained weights are the
//! model's own; this is `from_logits=True` up to Keras's clipping of probabilities to
//! [1e-7, 1 − 1e-7]. The planner says so in its note.

use super::loss::Loss;
use crate::engine::layers::activation::{Activation, ActivationLayer};
use crate::engine::model::{analyze, Layer, Model};
use crate::engine::LayerSpec;

/// What a dataset's targets are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// Integer labels `0..k`, one per sample.
    Classes(usize),
    /// One number per sample.
    Number,
}

/// How one model trains on a dataset.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    /// The model as trained: the model itself, or the model and its output activation.
    pub model: Model,
    pub loss: Loss,
    /// Accuracy is reported (class labels).
    pub accuracy: bool,
    /// What the learner should know about the choice (logits), if anything.
    pub note: Option<String>,
}

/// The activation the model's output goes through last, when its last layer names one.
fn last_activation(model: &Model) -> Option<Activation> {
    match &model.layers.last()?.spec {
        LayerSpec::Dense(d) => Some(d.activation),
        LayerSpec::Activation(a) => Some(a.activation),
        LayerSpec::Softmax(_) => Some(Activation::Softmax),
        _ => None,
    }
}

fn with_activation(model: &Model, activation: Activation) -> Model {
    let mut m = model.clone();
    let name = m.fresh_name("output_activation");
    m.layers.push(Layer::new(
        name,
        LayerSpec::Activation(ActivationLayer { activation }),
    ));
    m
}

/// The loss and the model to train for `target`; the error says what to change.
///
/// # Errors
/// The model is invalid, or its output does not fit the targets (one prediction per
/// position, too few output units, a regression with several outputs).
pub fn plan(model: &Model, target: Target) -> Result<Plan, String> {
    let a = analyze(model);
    if let Some(e) = a.first_error() {
        return Err(format!("the model has an error: {e}"));
    }
    let out = a
        .output()
        .map(|s| s.dims().to_vec())
        .ok_or_else(|| "the model has no output".to_string())?;
    let shown = format!(
        "(None, {})",
        out.iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    );
    let [units] = out[..] else {
        // One number per position against one number per sample: Keras compares the sample's
        // y with every position's output (it broadcasts y) and averages.
        if target == Target::Number && out.last() == Some(&1) {
            return Ok(Plan {
                model: model.clone(),
                loss: Loss::Mse,
                accuracy: false,
                note: Some(format!(
                    "the output is {shown}, one number per position: as Keras does, each position's number is compared with the sample's y and the loss is their mean"
                )),
            });
        }
        return Err(format!(
            "the model's output is {shown}, one prediction per position; this dataset needs one per sample, (None, k): add Flatten or GlobalAveragePooling1D before the last Dense"
        ));
    };
    let act = last_activation(model);
    let logits = |name: &str, activation: Activation, loss: Loss| {
        Plan {
        model: with_activation(model, activation),
        loss,
        accuracy: true,
        note: Some(format!(
            "the last layer has no {name}: its outputs are trained as logits ({name} + {}, as Keras's from_logits=True)",
            loss.name()
        )),
    }
    };
    match target {
        Target::Classes(k) if units == 1 => {
            if k > 2 {
                return Err(format!(
                    "the model's output is {shown}, one unit, but the dataset has {k} classes: make the last Dense {k} units"
                ));
            }
            Ok(if act == Some(Activation::Sigmoid) {
                Plan {
                    model: model.clone(),
                    loss: Loss::BinaryCrossentropy,
                    accuracy: true,
                    note: None,
                }
            } else {
                logits("sigmoid", Activation::Sigmoid, Loss::BinaryCrossentropy)
            })
        }
        Target::Classes(k) if units < k => Err(format!(
            "the model's output is {shown}, {units} units, but the dataset has {k} classes: make the last Dense {k} units"
        )),
        Target::Classes(_) => Ok(if act == Some(Activation::Softmax) {
            Plan {
                model: model.clone(),
                loss: Loss::SparseCategoricalCrossentropy,
                accuracy: true,
                note: None,
            }
        } else {
            logits(
                "softmax",
                Activation::Softmax,
                Loss::SparseCategoricalCrossentropy,
            )
        }),
        Target::Number if units == 1 => Ok(Plan {
            model: model.clone(),
            loss: Loss::Mse,
            accuracy: false,
            note: None,
        }),
        Target::Number => Err(format!(
            "the model's output is {shown}, but this dataset has one number per sample: make the last Dense 1 unit"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::layers::core::Dense;

    fn dense(units: usize, activation: Activation) -> LayerSpec {
        LayerSpec::Dense(Dense {
            units,
            activation,
            ..Dense::default()
        })
    }

    #[test]
    fn the_seed_model_trains_as_logits_with_softmax() {
        let p = plan(&Model::seed(), Target::Classes(2)).unwrap();
        assert_eq!(p.loss, Loss::SparseCategoricalCrossentropy);
        assert_eq!(p.model.layers.len(), Model::seed().layers.len() + 1);
        assert!(matches!(
            p.model.layers.last().unwrap().spec,
            LayerSpec::Activation(ActivationLayer {
                activation: Activation::Softmax
            })
        ));
        assert!(p.note.unwrap().contains("from_logits"));
        // Too few units for ten classes.
        let e = plan(&Model::seed(), Target::Classes(10)).unwrap_err();
        assert!(e.contains("(None, 4)") && e.contains("10 units"), "{e}");
        assert!(plan(&Model::seed(), Target::Number).is_err());
    }

    #[test]
    fn softmax_and_sigmoid_outputs_train_as_they_are() {
        let mut m = Model::seed();
        m.layers[3].spec = dense(2, Activation::Softmax);
        let p = plan(&m, Target::Classes(2)).unwrap();
        assert_eq!((p.model.clone(), p.note), (m.clone(), None));
        m.layers[3].spec = dense(1, Activation::Sigmoid);
        let p = plan(&m, Target::Classes(2)).unwrap();
        assert_eq!(p.loss, Loss::BinaryCrossentropy);
        assert_eq!(p.model, m);
        assert!(plan(&m, Target::Classes(3)).is_err());
        m.layers[3].spec = dense(1, Activation::Linear);
        let p = plan(&m, Target::Number).unwrap();
        assert_eq!((p.loss, p.accuracy), (Loss::Mse, false));
    }

    #[test]
    fn per_position_outputs_are_refused_with_the_fix() {
        let mut m = Model::seed();
        m.layers.remove(2); // no Flatten: (None, 3, 4)
        let e = plan(&m, Target::Classes(2)).unwrap_err();
        assert!(e.contains("(None, 3, 4)") && e.contains("Flatten"), "{e}");
        // Pooling instead of Flatten trains.
        m.layers.insert(
            2,
            Layer::new(
                "gap",
                LayerSpec::from_config("GlobalAveragePooling1D", &serde_json::json!({})),
            ),
        );
        assert!(plan(&m, Target::Classes(2)).is_ok());
    }

    #[test]
    fn one_number_per_position_trains_on_one_number_per_sample() {
        let mut m = Model::seed();
        m.layers.truncate(1);
        m.layers[0].spec = dense(1, Activation::Relu); // (None, 3, 1)
        let p = plan(&m, Target::Number).unwrap();
        assert_eq!((p.loss, p.model.clone()), (Loss::Mse, m.clone()));
        assert!(p.note.unwrap().contains("(None, 3, 1)"));
        assert!(plan(&m, Target::Classes(2)).is_err());
    }
}
