//! Exercises: a goal for the learner (output shape, parameter budget, layers to use or
//! avoid), an optional starting model, and panels to hide. An exercise travels in a share
//! link's `exercise` value as compact JSON ([`Exercise::to_value`] / [`Exercise::from_value`]);
//! [`check`] lists the goals and whether a model meets each.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{json, Value};

use super::{CodecError, LinkError};
use crate::engine::layers::args::canonical_class;
use crate::engine::summary::commas;
use crate::engine::{analyze, Analysis, Layer, LayerSpec, Model, Shape};

/// One exercise. Serialised with short keys to keep links small.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Exercise {
    #[serde(rename = "t", default)]
    pub title: String,
    #[serde(rename = "d", default)]
    pub instructions: String,
    /// Output shape without the batch axis, e.g. `[4]` for `(None, 4)`.
    #[serde(rename = "o", default, skip_serializing_if = "Option::is_none")]
    pub target_output_shape: Option<Vec<usize>>,
    #[serde(rename = "max", default, skip_serializing_if = "Option::is_none")]
    pub max_params: Option<u64>,
    /// Fewer than this many parameters (strictly).
    #[serde(rename = "lt", default, skip_serializing_if = "Option::is_none")]
    pub under_params: Option<u64>,
    #[serde(rename = "eq", default, skip_serializing_if = "Option::is_none")]
    pub exact_params: Option<u64>,
    /// Keras class names that must appear.
    #[serde(rename = "inc", default, skip_serializing_if = "Vec::is_empty")]
    pub must_include: Vec<String>,
    /// Keras class names that must not appear.
    #[serde(rename = "exc", default, skip_serializing_if = "Vec::is_empty")]
    pub must_exclude: Vec<String>,
    /// UI panels to hide while solving (ids chosen by the app, e.g. "params").
    #[serde(rename = "hide", default, skip_serializing_if = "Vec::is_empty")]
    pub hide_panels: Vec<String>,
    #[serde(
        rename = "s",
        default,
        skip_serializing_if = "Option::is_none",
        serialize_with = "ser_model",
        deserialize_with = "de_model"
    )]
    pub start: Option<Model>,
}

/// One goal and whether the model meets it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Goal {
    pub label: String,
    pub met: bool,
}

/// Compact model form shared with share links (non-default config values only).
pub use super::link::{compact_model, expand_model};

#[allow(clippy::ref_option)] // serde's `serialize_with` signature
fn ser_model<S: Serializer>(m: &Option<Model>, s: S) -> Result<S::Ok, S::Error> {
    m.as_ref().map(compact_model).serialize(s)
}

fn de_model<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Model>, D::Error> {
    let v = Option::<Value>::deserialize(d)?;
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(v) => expand_model(&v).map(Some).map_err(serde::de::Error::custom),
    }
}

impl Exercise {
    /// Compact JSON for a link payload.
    pub fn to_value(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }

    /// Read an exercise from a link payload value.
    ///
    /// # Errors
    /// [`CodecError::Link`] when the value is not an exercise.
    pub fn from_value(v: &Value) -> Result<Exercise, CodecError> {
        serde_json::from_value(v.clone())
            .map_err(|e| CodecError::Link(LinkError::Exercise(e.to_string())))
    }
}

/// The goals of an exercise and whether `model` meets each. The first goal is always
/// "the model is valid"; size goals are only met by a valid model.
pub fn check(ex: &Exercise, model: &Model) -> Vec<Goal> {
    check_with(ex, model, &analyze(model))
}

/// [`check`] with the model's analysis already done.
pub fn check_with(ex: &Exercise, model: &Model, a: &Analysis) -> Vec<Goal> {
    let valid = a.valid();
    let mut goals = vec![Goal {
        label: "Every layer computes (no errors)".into(),
        met: valid,
    }];
    if let Some(t) = &ex.target_output_shape {
        goals.push(Goal {
            label: format!("Output shape is {}", Shape::new(t.clone())),
            met: a.output().is_some_and(|o| o.dims() == t.as_slice()),
        });
    }
    if let Some(n) = ex.exact_params {
        goals.push(Goal {
            label: format!("Exactly {} parameters", commas(n)),
            met: valid && a.total() == n,
        });
    }
    if let Some(n) = ex.under_params {
        goals.push(Goal {
            label: format!("Fewer than {} parameters", commas(n)),
            met: valid && a.total() < n,
        });
    }
    if let Some(n) = ex.max_params {
        goals.push(Goal {
            label: format!("At most {} parameters", commas(n)),
            met: valid && a.total() <= n,
        });
    }
    let uses = |c: &str| {
        model
            .layers
            .iter()
            .any(|l| canonical_class(l.spec.class_name()) == canonical_class(c))
    };
    for c in &ex.must_include {
        goals.push(Goal {
            label: format!("Uses {c}"),
            met: uses(c),
        });
    }
    for c in &ex.must_exclude {
        goals.push(Goal {
            label: format!("Does not use {c}"),
            met: !uses(c),
        });
    }
    goals
}

/// Whether every goal is met.
pub fn solved(ex: &Exercise, model: &Model) -> bool {
    check(ex, model).iter().all(|g| g.met)
}

fn seed001_start() -> Model {
    super::presets::preset("seed001").map_or_else(Model::seed, |p| p.model)
}

fn seed004_start() -> Model {
    super::presets::preset("seed004").map_or_else(Model::seed, |p| p.model)
}

/// The built-in exercises, based on the seed questions.
pub fn exercises() -> Vec<Exercise> {
    vec![
        Exercise {
            title: "One vector for Dense".into(),
            instructions: "Dense only looks at the last axis, so this model gives a (None, 3, 4) output with 116 params. Make the last Dense see the whole (3, 2) input as one vector: reach (None, 4) with exactly 244 parameters.".into(),
            target_output_shape: Some(vec![4]),
            max_params: None,
            under_params: None,
            exact_params: Some(244),
            must_include: vec!["Dense".into()],
            must_exclude: Vec::new(),
            hide_panels: Vec::new(),
            start: Some(seed001_start()),
        },
        Exercise {
            title: "Seed 004 on a budget".into(),
            instructions: "Get from (2, 15, 1) to one prediction of 2 classes, (None, 2), with at most 15,000 parameters, using Conv2D then Dense layers. Flatten works but costs 58,498 parameters: find a cheaper way.".into(),
            target_output_shape: Some(vec![2]),
            max_params: Some(15_000),
            under_params: None,
            exact_params: None,
            must_include: vec!["Conv2D".into(), "Dense".into()],
            must_exclude: Vec::new(),
            hide_panels: Vec::new(),
            start: Some(seed004_start()),
        },
    ]
}

/// Reference solutions of [`exercises`], in the same order.
pub fn solutions() -> Vec<Model> {
    let first = super::presets::preset("seed001")
        .and_then(|p| p.compare_with)
        .unwrap_or_else(Model::seed);
    let mut second = seed004_start();
    second.name = "seed004_gap".into();
    second.layers.insert(
        1,
        Layer::new(
            "global_average_pooling2d",
            LayerSpec::from_config("GlobalAveragePooling2D", &json!({})),
        ),
    );
    vec![first, second]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reference_solutions_meet_every_goal_and_starts_do_not() {
        for (ex, sol) in exercises().iter().zip(solutions()) {
            let goals = check(ex, &sol);
            assert!(goals.iter().all(|g| g.met), "{}: {goals:?}", ex.title);
            let start = ex.start.clone().unwrap();
            assert!(!solved(ex, &start), "{}", ex.title);
        }
        // The Flatten answer to the second exercise is over budget.
        let flat = crate::codec::presets::preset("seed004")
            .and_then(|p| p.compare_with)
            .unwrap();
        let goals = check(&exercises()[1], &flat);
        assert_eq!(
            goals
                .iter()
                .filter(|g| !g.met)
                .map(|g| g.label.as_str())
                .collect::<Vec<_>>(),
            vec!["At most 15,000 parameters"]
        );
    }

    #[test]
    fn labels() {
        let goals = check(&exercises()[0], &seed001_start());
        let labels: Vec<&str> = goals.iter().map(|g| g.label.as_str()).collect();
        assert_eq!(
            labels,
            vec![
                "Every layer computes (no errors)",
                "Output shape is (None, 4)",
                "Exactly 244 parameters",
                "Uses Dense"
            ]
        );
        assert_eq!(
            goals.iter().map(|g| g.met).collect::<Vec<_>>(),
            vec![true, false, false, true]
        );
    }

    #[test]
    fn fewer_than_is_strict() {
        let seed = Model::seed();
        let total = analyze(&seed).total();
        let goal = |n: u64| {
            let ex = Exercise {
                under_params: Some(n),
                ..Exercise::default()
            };
            let goals = check(&ex, &seed);
            (goals[1].label.clone(), goals[1].met)
        };
        assert!(!goal(total).1, "{total} is not fewer than {total}");
        assert!(goal(total + 1).1);
        assert_eq!(goal(50_000).0, "Fewer than 50,000 parameters");
        let ex = Exercise {
            under_params: Some(50_000),
            ..Exercise::default()
        };
        assert_eq!(ex.to_value(), json!({"t": "", "d": "", "lt": 50_000}));
        assert_eq!(Exercise::from_value(&ex.to_value()).unwrap(), ex);
    }

    #[test]
    fn json_round_trip_and_link() {
        for ex in exercises() {
            let v = ex.to_value();
            assert_eq!(Exercise::from_value(&v).unwrap(), ex);
            let link = crate::codec::link::encode(&crate::codec::link::Payload {
                model: ex.start.clone().unwrap(),
                exercise: Some(v),
                view: None,
            });
            let back = crate::codec::link::decode(&link).unwrap();
            assert_eq!(Exercise::from_value(&back.exercise.unwrap()).unwrap(), ex);
        }
        assert!(Exercise::from_value(&json!({"s": {"i": "x"}})).is_err());
        assert_eq!(
            Exercise::from_value(&json!({})).unwrap(),
            Exercise::default()
        );
    }
}
