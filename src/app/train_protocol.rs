//! The Train panel ↔ training worker protocol. The panel (`src/app/train_panel.rs`, run by
//! the tools module when the page loads it on demand) posts a [`TrainRequest`] as JSON text
//! prefixed with [`PREFIX`]; the worker (`src/bin/flatland-tools.rs`) keeps one training
//! [`Session`] and answers each request with one [`TrainReply`] as JSON text.
//!
//! A session trains each of its models (A and B) on the same data, seed and settings, a few
//! batches per [`TrainRequest::Step`], so the panel can draw progress and stop between
//! batches: the page sends the next step only when it has the last reply, and Stop means
//! it sends no more. No web crates here: everything is unit-tested natively.

use std::cell::RefCell;
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::codec::model_json;
use crate::engine::forward::{init_weights, Limits, Weights};
use crate::engine::model::analyze;
use crate::engine::train::data::{self, Dataset, Task};
use crate::engine::train::fit::{Data, FitConfig, Outcome, Trainer};
use crate::engine::train::optim::OptimizerKind;
use crate::engine::train::task::{plan, Target};

/// What starts a training message (the tools worker also takes the Code panel's requests).
pub const PREFIX: &str = "train:";

/// At most this many samples go into one run.
pub const MAX_SAMPLES: usize = 20_000;

/// At most this many multiply-adds in one model's whole run (samples × epochs × about 3 ×
/// the model's MACs per sample, the backward pass counted twice): about ten minutes of one
/// core in the page.
pub const MAX_RUN_MACS: u64 = 2_000_000_000_000;

/// Where the data come from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum DataSource {
    /// One of [`data::BUILTIN`], generated for the model's input shape.
    Builtin { id: String, samples: usize },
    /// A table of numbers (a `.npy` of rows × columns), column by column: x from some
    /// columns, y from one.
    Columns {
        name: String,
        columns: Vec<Vec<f32>>,
        x_cols: Vec<usize>,
        y_col: usize,
        classification: bool,
    },
    /// Arrays `x` and `y` (an `.npz`), samples first.
    Arrays {
        name: String,
        x: WireArray,
        y: WireArray,
    },
    /// A CSV file: x from some columns, y from one.
    Csv {
        name: String,
        text: String,
        x_cols: Vec<usize>,
        y_col: usize,
        classification: bool,
    },
}

/// A training run's settings, the same for both models.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Settings {
    pub epochs: usize,
    pub batch_size: usize,
    /// `sgd`, `adam`, `adamw` or `rmsprop`.
    pub optimizer: String,
    /// `None`: the optimizer's Keras default.
    pub lr: Option<f32>,
    /// Seeds the data, the initial weights and the dropout layers.
    pub seed: u64,
    /// The last part of the data held out for validation, in `[0, 0.9]`.
    pub val_fraction: f64,
}

/// What the panel asks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum TrainRequest {
    /// Start a session: the models as model JSON (A, then B), the data, the settings.
    Start {
        models: Vec<Value>,
        data: DataSource,
        settings: Settings,
    },
    /// Train each model for up to this many more batches.
    Step { batches: usize },
    /// Train on up to this many epochs in all (Resume after the run finished).
    Extend { epochs: usize },
    /// The weights of model `model` now.
    Weights { model: usize },
    /// Each model's output now for validation sample `sample` (training sample when there
    /// is no validation part).
    Predict { sample: usize },
}

/// One model's run as the panel shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunStatus {
    /// The Keras loss it trains with.
    pub loss: String,
    /// How the loss was chosen, when the learner should know (logits).
    pub note: Option<String>,
    /// Why this model does not train (the other one may).
    pub error: Option<String>,
    pub epochs_done: usize,
    pub batch: usize,
    pub batches_per_epoch: usize,
    /// The epoch under way: the mean loss of its batches so far.
    pub running_loss: Option<f64>,
    pub finished: bool,
    /// The loss stopped being finite in this epoch (1-based).
    pub diverged: Option<usize>,
    /// Keras's `History.history`.
    pub history: BTreeMap<String, Vec<f64>>,
}

/// A weight array as it crosses.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WireArray {
    pub shape: Vec<usize>,
    pub data: Vec<f32>,
}

/// The worker's answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum TrainReply {
    /// Where the session stands.
    Status {
        dataset: String,
        train_samples: usize,
        val_samples: usize,
        runs: Vec<RunStatus>,
    },
    /// A model's weights, per layer, `get_weights()` order.
    Weights {
        model: usize,
        layers: Vec<Vec<WireArray>>,
    },
    /// One sample, its target and each model's output (`None`: that model does not train).
    Prediction {
        sample: usize,
        /// Samples there are to choose from.
        of: usize,
        x: WireArray,
        y: Vec<f32>,
        outputs: Vec<Option<WireArray>>,
    },
    /// The request could not be done (bad data, no session).
    Failed(String),
}

/// One model's training.
#[derive(Debug)]
struct Run {
    loss: String,
    note: Option<String>,
    /// The model's own layers (the trainer's model may have one more: the activation).
    layers: usize,
    trainer: Result<Trainer, String>,
}

/// The worker's state: the data and the runs of the current session.
#[derive(Debug, Default)]
pub struct Session {
    dataset: String,
    train_samples: usize,
    val_samples: usize,
    runs: Vec<Run>,
    /// The samples [`TrainRequest::Predict`] picks from: the validation part, else training.
    shown: Option<Data>,
}

fn to_data(d: &Dataset) -> Data {
    Data {
        x: d.x.clone(),
        y: d.y.clone(),
    }
}

fn dataset(source: &DataSource, dims: &[usize], seed: u64) -> Result<Dataset, String> {
    match source {
        DataSource::Builtin { id, samples } => {
            if *samples > MAX_SAMPLES {
                return Err(format!(
                    "{samples} samples is more than the {MAX_SAMPLES} the page trains on"
                ));
            }
            data::builtin(id, dims, *samples, seed).map_err(|e| e.to_string())
        }
        DataSource::Arrays { name, x, y } => {
            let arr = |w: &WireArray| {
                ndarray::ArrayD::from_shape_vec(ndarray::IxDyn(&w.shape), w.data.clone())
                    .map_err(|e| format!("{name}: an array does not fit its shape: {e}"))
            };
            let d = data::from_arrays(name, arr(x)?, arr(y)?, dims)
                .map_err(|e| format!("{name}: {e}"))?;
            let n = d.x.shape().first().copied().unwrap_or(0);
            if n > MAX_SAMPLES {
                return Err(format!(
                    "the file has {n} samples, more than the {MAX_SAMPLES} the page trains on: use fewer"
                ));
            }
            Ok(d)
        }
        DataSource::Columns { .. } | DataSource::Csv { .. } => {
            let (name, columns, x_cols, y_col, classification) = match source {
                DataSource::Columns {
                    name,
                    columns,
                    x_cols,
                    y_col,
                    classification,
                } => (name, columns.clone(), x_cols, y_col, classification),
                DataSource::Csv {
                    name,
                    text,
                    x_cols,
                    y_col,
                    classification,
                } => (
                    name,
                    data::parse_csv(text).map_err(|e| e.to_string())?.columns,
                    x_cols,
                    y_col,
                    classification,
                ),
                _ => return Err("not a table".into()),
            };
            let d = data::from_columns(name, &columns, x_cols, *y_col, *classification, dims)
                .map_err(|e| e.to_string())?;
            let n = d.x.shape().first().copied().unwrap_or(0);
            if n > MAX_SAMPLES {
                return Err(format!(
                    "the file has {n} rows, more than the {MAX_SAMPLES} the page trains on: use fewer rows"
                ));
            }
            Ok(d)
        }
    }
}

fn start_run(model: &Value, task: Target, train: &Data, val: Option<&Data>, s: &Settings) -> Run {
    let fail = |e: String| Run {
        loss: String::new(),
        note: None,
        layers: 0,
        trainer: Err(e),
    };
    let m = match model_json::from_value(model) {
        Ok(m) => m,
        Err(e) => return fail(format!("the model could not be read: {e}")),
    };
    let p = match plan(&m, task) {
        Ok(p) => p,
        Err(e) => return fail(e),
    };
    let a = analyze(&p.model);
    let samples = train.x.shape().first().copied().unwrap_or(0) as u64;
    let work = a
        .macs
        .saturating_mul(3)
        .saturating_mul(samples)
        .saturating_mul(s.epochs as u64);
    if work > MAX_RUN_MACS {
        return fail(format!(
            "this run is about {} multiply-adds ({} samples × {} epochs × 3 × {} per sample), more than the {} the page trains: use fewer samples or epochs, or a smaller model",
            crate::engine::teach::thousands(work),
            samples,
            s.epochs,
            crate::engine::teach::thousands(a.macs),
            crate::engine::teach::thousands(MAX_RUN_MACS),
        ));
    }
    let trainer = OptimizerKind::parse(&s.optimizer, None)
        .map_err(|e| e.to_string())
        .and_then(|optimizer| {
            let weights = init_weights(&a, s.seed, Limits::default()).map_err(|e| e.to_string())?;
            let cfg = FitConfig {
                loss: p.loss,
                optimizer,
                lr: s.lr,
                epochs: s.epochs,
                batch_size: s.batch_size,
                accuracy: p.accuracy,
                heads: Vec::new(),
                shuffle: false,
                seed: s.seed,
                limits: Limits::default(),
            };
            Trainer::new(p.model.clone(), a, weights, train, val, cfg).map_err(|e| e.to_string())
        });
    Run {
        loss: p.loss.name().to_string(),
        note: p.note,
        layers: m.layers.len(),
        trainer,
    }
}

impl Session {
    /// Start a new session (the old one ends).
    ///
    /// # Errors
    /// The data cannot be made or read, or the settings are out of range.
    fn start(models: &[Value], source: &DataSource, s: &Settings) -> Result<Session, String> {
        if models.is_empty() || models.len() > 2 {
            return Err(format!(
                "a session trains 1 or 2 models, not {}",
                models.len()
            ));
        }
        if !(0.0..=0.9).contains(&s.val_fraction) {
            return Err(format!(
                "the validation part must be between 0 and 90 %, got {} %",
                s.val_fraction * 100.0
            ));
        }
        if s.epochs == 0 || s.epochs > 10_000 {
            return Err(format!(
                "epochs must be between 1 and 10000, got {}",
                s.epochs
            ));
        }
        if s.lr.is_some_and(|lr| !(lr.is_finite() && lr > 0.0)) {
            return Err("the learning rate must be a number above 0".into());
        }
        // The data follow model A's input shape; B must take the same.
        let dims = model_json::from_value(&models[0])
            .map(|m| m.input_shape)
            .map_err(|e| format!("model A could not be read: {e}"))?;
        let all = dataset(source, &dims, s.seed)?;
        let target = match all.task {
            Task::Classes(k) => Target::Classes(k),
            Task::Regression => Target::Number,
        };
        let (train, val) = if s.val_fraction > 0.0 {
            let (t, v) = data::split(&all, s.val_fraction).map_err(|e| e.to_string())?;
            (t, Some(v))
        } else {
            (all.clone(), None)
        };
        let (tr, va) = (to_data(&train), val.as_ref().map(to_data));
        let runs = models
            .iter()
            .map(|m| start_run(m, target, &tr, va.as_ref(), s))
            .collect();
        let shown = va.clone().or_else(|| Some(tr.clone()));
        Ok(Session {
            shown,
            dataset: all.name.clone(),
            train_samples: tr.x.shape().first().copied().unwrap_or(0),
            val_samples: va
                .as_ref()
                .and_then(|v| v.x.shape().first().copied())
                .unwrap_or(0),
            runs,
        })
    }

    fn status(&self) -> TrainReply {
        let runs = self
            .runs
            .iter()
            .map(|r| match &r.trainer {
                Ok(t) => {
                    let p = t.progress();
                    RunStatus {
                        loss: r.loss.clone(),
                        note: r.note.clone(),
                        error: None,
                        epochs_done: p.epochs_done,
                        batch: p.batch,
                        batches_per_epoch: p.batches_per_epoch,
                        running_loss: p.running_loss,
                        finished: p.outcome.is_some(),
                        diverged: match p.outcome {
                            Some(Outcome::Diverged { epoch }) => Some(epoch),
                            _ => None,
                        },
                        history: t.history().clone(),
                    }
                }
                Err(e) => RunStatus {
                    loss: r.loss.clone(),
                    note: r.note.clone(),
                    error: Some(e.clone()),
                    epochs_done: 0,
                    batch: 0,
                    batches_per_epoch: 0,
                    running_loss: None,
                    finished: true,
                    diverged: None,
                    history: BTreeMap::new(),
                },
            })
            .collect();
        TrainReply::Status {
            dataset: self.dataset.clone(),
            train_samples: self.train_samples,
            val_samples: self.val_samples,
            runs,
        }
    }

    fn step(&mut self, batches: usize) {
        for r in &mut self.runs {
            if let Ok(t) = &mut r.trainer {
                if let Err(e) = t.step(batches) {
                    r.trainer = Err(e.to_string());
                }
            }
        }
    }

    fn weights(&self, model: usize) -> Result<TrainReply, String> {
        let r = self
            .runs
            .get(model)
            .ok_or_else(|| format!("there is no model {model}"))?;
        let t = r.trainer.as_ref().map_err(Clone::clone)?;
        let w: &Weights = t.weights();
        let layers = w
            .iter()
            .take(r.layers)
            .map(|ws| {
                ws.iter()
                    .map(|a| WireArray {
                        shape: a.shape().to_vec(),
                        data: a.iter().copied().collect(),
                    })
                    .collect()
            })
            .collect();
        Ok(TrainReply::Weights { model, layers })
    }

    fn predict(&self, sample: usize) -> Result<TrainReply, String> {
        let d = self
            .shown
            .as_ref()
            .ok_or("there is no training session yet")?;
        let of = d.x.shape().first().copied().unwrap_or(0);
        if sample >= of {
            return Err(format!("there are {of} samples, not {}", sample + 1));
        }
        let wire = |a: &ndarray::ArrayD<f32>| WireArray {
            shape: a.shape().to_vec(),
            data: a.iter().copied().collect(),
        };
        let x =
            d.x.slice_axis(ndarray::Axis(0), (sample..=sample).into())
                .to_owned();
        let outputs = self
            .runs
            .iter()
            .map(|r| {
                let t = r.trainer.as_ref().ok()?;
                t.predict(x.clone())
                    .ok()
                    .map(|y| wire(&y.index_axis_move(ndarray::Axis(0), 0)))
            })
            .collect();
        Ok(TrainReply::Prediction {
            sample,
            of,
            x: wire(&x.index_axis_move(ndarray::Axis(0), 0)),
            y: d.y
                .index_axis(ndarray::Axis(0), sample)
                .iter()
                .copied()
                .collect(),
            outputs,
        })
    }

    /// Answer one request.
    pub fn answer(&mut self, req: TrainRequest) -> TrainReply {
        let result = match req {
            TrainRequest::Start {
                models,
                data,
                settings,
            } => Session::start(&models, &data, &settings).map(|s| {
                *self = s;
                self.status()
            }),
            TrainRequest::Step { batches } => {
                self.step(batches.clamp(1, 100_000));
                Ok(self.status())
            }
            TrainRequest::Extend { epochs } => {
                for r in &mut self.runs {
                    if let Ok(t) = &mut r.trainer {
                        t.extend_to(epochs.min(10_000));
                    }
                }
                Ok(self.status())
            }
            TrainRequest::Weights { model } => self.weights(model),
            TrainRequest::Predict { sample } => self.predict(sample),
        };
        result.unwrap_or_else(TrainReply::Failed)
    }
}

thread_local! {
    static SESSION: RefCell<Session> = RefCell::new(Session::default());
}

/// The worker's side: one request (JSON text, without [`PREFIX`]) in, one reply out.
pub fn handle(message: &str) -> String {
    let reply = match serde_json::from_str::<TrainRequest>(message) {
        Ok(req) => SESSION.with(|s| s.borrow_mut().answer(req)),
        Err(e) => TrainReply::Failed(format!(
            "the training worker could not read the request: {e}"
        )),
    };
    serde_json::to_string(&reply).unwrap_or_default()
}

/// A reply's model weights as the engine keeps them.
///
/// # Errors
/// An array whose data do not fill its shape.
pub fn to_weights(layers: &[Vec<WireArray>]) -> Result<Weights, String> {
    layers
        .iter()
        .map(|ws| {
            ws.iter()
                .map(|w| {
                    ndarray::ArrayD::from_shape_vec(ndarray::IxDyn(&w.shape), w.data.clone())
                        .map_err(|e| format!("a weight array does not fit its shape: {e}"))
                })
                .collect()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::Model;

    fn settings(epochs: usize) -> Settings {
        Settings {
            epochs,
            batch_size: 32,
            optimizer: "adam".into(),
            lr: Some(0.01),
            seed: 7,
            val_fraction: 0.2,
        }
    }

    fn start(models: Vec<Value>, source: DataSource, s: Settings) -> (Session, TrainReply) {
        let mut session = Session::default();
        let r = session.answer(TrainRequest::Start {
            models,
            data: source,
            settings: s,
        });
        (session, r)
    }

    fn positions(samples: usize) -> DataSource {
        DataSource::Builtin {
            id: "positions".into(),
            samples,
        }
    }

    #[test]
    fn stepping_is_fit_batch_by_batch() {
        let seed = model_json::to_value(&Model::seed());
        let (mut s, r) = start(vec![seed.clone(), seed], positions(200), settings(3));
        let TrainReply::Status {
            train_samples,
            val_samples,
            runs,
            ..
        } = r
        else {
            panic!("{r:?}")
        };
        assert_eq!((train_samples, val_samples), (160, 40));
        assert_eq!(runs[0].batches_per_epoch, 5);
        assert!(runs[0].note.as_deref().unwrap().contains("softmax"));
        // One batch at a time: progress inside the epoch, then epochs.
        let TrainReply::Status { runs, .. } = s.answer(TrainRequest::Step { batches: 2 }) else {
            panic!()
        };
        assert_eq!((runs[0].epochs_done, runs[0].batch), (0, 2));
        assert!(runs[0].running_loss.is_some());
        let mut last = None;
        for _ in 0..20 {
            let TrainReply::Status { runs, .. } = s.answer(TrainRequest::Step { batches: 1 })
            else {
                panic!()
            };
            last = Some(runs);
        }
        let runs = last.unwrap();
        assert!(runs.iter().all(|r| r.finished && r.epochs_done == 3));
        // The same model, data and seed: the same history, which is fit's.
        assert_eq!(runs[0].history, runs[1].history);
        assert_eq!(runs[0].history["val_accuracy"].len(), 3);
        let TrainReply::Weights { layers, .. } = s.answer(TrainRequest::Weights { model: 0 })
        else {
            panic!()
        };
        // The model's own 4 layers (the softmax added for training is not one of them).
        assert_eq!(layers.len(), 4);
        assert_eq!(to_weights(&layers).unwrap()[0][0].shape(), &[2, 16]);
        // A validation sample through both trained models: softmax outputs (the added
        // activation), the sample's own label.
        let TrainReply::Prediction {
            of, x, y, outputs, ..
        } = s.answer(TrainRequest::Predict { sample: 3 })
        else {
            panic!()
        };
        assert_eq!((of, x.shape.clone(), y.len()), (40, vec![3, 2], 1));
        let p = outputs[0].as_ref().unwrap();
        assert_eq!(p.shape, vec![4]);
        assert!((p.data.iter().sum::<f32>() - 1.0).abs() < 1e-5);
        assert!(matches!(
            s.answer(TrainRequest::Predict { sample: 40 }),
            TrainReply::Failed(_)
        ));
        // Resume: more epochs.
        s.answer(TrainRequest::Extend { epochs: 4 });
        let TrainReply::Status { runs, .. } = s.answer(TrainRequest::Step { batches: 100 }) else {
            panic!()
        };
        assert_eq!(runs[0].epochs_done, 4);
    }

    #[test]
    fn a_model_that_does_not_fit_fails_alone() {
        let mut per_position = Model::seed();
        per_position.layers.remove(2);
        let (_, r) = start(
            vec![
                model_json::to_value(&Model::seed()),
                model_json::to_value(&per_position),
            ],
            positions(100),
            settings(1),
        );
        let TrainReply::Status { runs, .. } = r else {
            panic!("{r:?}")
        };
        assert!(runs[0].error.is_none());
        assert!(runs[1].error.as_deref().unwrap().contains("Flatten"));
    }

    #[test]
    fn bad_requests_are_replies_not_panics() {
        for bad in ["", "{", "null", r#"{"Step":{"batches":"x"}}"#] {
            let r: TrainReply = serde_json::from_str(&handle(bad)).unwrap();
            assert!(matches!(r, TrainReply::Failed(_)), "{bad}: {r:?}");
        }
        let seed = model_json::to_value(&Model::seed());
        let (_, r) = start(vec![], positions(10), settings(1));
        assert!(matches!(r, TrainReply::Failed(_)));
        let (_, r) = start(vec![seed.clone()], positions(MAX_SAMPLES + 1), settings(1));
        assert!(matches!(r, TrainReply::Failed(e) if e.contains("samples")));
        let mut s = settings(1);
        s.lr = Some(-1.0);
        let (_, r) = start(vec![seed.clone()], positions(10), s);
        assert!(matches!(r, TrainReply::Failed(e) if e.contains("learning rate")));
        let mut s = settings(1);
        s.optimizer = "lion".into();
        let (_, r) = start(vec![seed], positions(50), s);
        let TrainReply::Status { runs, .. } = r else {
            panic!()
        };
        assert!(runs[0].error.as_deref().unwrap().contains("lion"));
        // A run too big for the page names the product and what to shrink: seed 000 with
        // Flatten (about 66,000 MACs per sample) on 20,000 samples for 1,000 epochs.
        let p = crate::codec::presets::preset("seed000").unwrap();
        let mut s = settings(1000);
        s.val_fraction = 0.0;
        let big = DataSource::Builtin {
            id: "noisy_sum".into(),
            samples: 20_000,
        };
        let (_, r) = start(vec![model_json::to_value(&p.compare_with.unwrap())], big, s);
        let TrainReply::Status { runs, .. } = r else {
            panic!("{r:?}")
        };
        let e = runs[0].error.as_deref().unwrap_or_default();
        assert!(
            e.contains("multiply-adds")
                && e.contains("20000 samples × 1000 epochs")
                && e.contains("fewer samples"),
            "{e}"
        );
        // No session yet: weights of nothing.
        let r = Session::default().answer(TrainRequest::Weights { model: 0 });
        assert!(matches!(r, TrainReply::Failed(_)));
    }

    #[test]
    fn apply_both_choose_best_the_larger_model_learns_the_noise() {
        let p = crate::codec::presets::preset("seed000").unwrap();
        let models = vec![
            model_json::to_value(&p.model),
            model_json::to_value(&p.compare_with.unwrap()),
        ];
        let source = DataSource::Builtin {
            id: "noisy_sum".into(),
            samples: 300,
        };
        let s = Settings {
            epochs: 60,
            batch_size: 32,
            optimizer: "adam".into(),
            lr: Some(0.001),
            seed: 1,
            val_fraction: 0.4,
        };
        let (mut session, r) = start(models, source, s);
        assert!(matches!(r, TrainReply::Status { .. }), "{r:?}");
        let TrainReply::Status { runs, .. } =
            session.answer(TrainRequest::Step { batches: 10_000 })
        else {
            panic!()
        };
        let (a, b) = (&runs[0], &runs[1]);
        assert!(a.error.is_none() && b.error.is_none(), "{runs:?}");
        assert!(a.note.as_deref().unwrap().contains("per position"));
        let last = |r: &RunStatus, k: &str| *r.history[k].last().unwrap();
        // B (9,301 params) fits its training part far better than it does new data.
        let gap = |r: &RunStatus| last(r, "val_loss") - last(r, "loss");
        assert!(last(b, "loss") < last(a, "loss"), "{runs:?}");
        assert!(gap(b) > 2.0 * gap(a).max(0.0) && gap(b) > 0.1, "{runs:?}");
    }

    #[test]
    fn arrays_and_tables_train() {
        let ds = data::builtin("positions", &[3, 2], 100, 5).unwrap();
        let wire = |a: &ndarray::ArrayD<f32>| WireArray {
            shape: a.shape().to_vec(),
            data: a.iter().copied().collect(),
        };
        let seed = model_json::to_value(&Model::seed());
        let arrays = DataSource::Arrays {
            name: "mine.npz".into(),
            x: wire(&ds.x),
            y: wire(&ds.y),
        };
        let (_, r) = start(vec![seed.clone()], arrays, settings(1));
        assert!(
            matches!(
                r,
                TrainReply::Status {
                    train_samples: 80,
                    ..
                }
            ),
            "{r:?}"
        );
        // The same samples as a table: 6 x columns and the label.
        let mut columns: Vec<Vec<f32>> = (0..6)
            .map(|c| {
                (0..100)
                    .map(|i| ds.x.as_slice().unwrap()[i * 6 + c])
                    .collect()
            })
            .collect();
        columns.push(ds.y.iter().copied().collect());
        let table = DataSource::Columns {
            name: "mine.npy".into(),
            columns,
            x_cols: (0..6).collect(),
            y_col: 6,
            classification: true,
        };
        let (_, r) = start(vec![seed.clone()], table, settings(1));
        assert!(
            matches!(
                r,
                TrainReply::Status {
                    train_samples: 80,
                    ..
                }
            ),
            "{r:?}"
        );
        // x that does not fit A's input names both shapes.
        let bad = DataSource::Arrays {
            name: "bad.npz".into(),
            x: WireArray {
                shape: vec![4, 5],
                data: vec![0.0; 20],
            },
            y: WireArray {
                shape: vec![4],
                data: vec![0.0; 4],
            },
        };
        let (_, r) = start(vec![seed], bad, settings(1));
        assert!(
            matches!(&r, TrainReply::Failed(e) if e.starts_with("bad.npz")),
            "{r:?}"
        );
    }

    #[test]
    fn csv_data_train() {
        let mut text = String::from("a,b,c,d,e,f,label\n");
        let mut rng = crate::engine::rng::Rng::new(3);
        for _ in 0..60 {
            let v: Vec<f32> = (0..6).map(|_| rng.uniform(-1.0, 1.0)).collect();
            let label = u8::from(v[0] + v[1] > v[4] + v[5]);
            let row: Vec<String> = v.iter().map(ToString::to_string).collect();
            text.push_str(&format!("{},{label}\n", row.join(",")));
        }
        let source = DataSource::Csv {
            name: "mine.csv".into(),
            text,
            x_cols: (0..6).collect(),
            y_col: 6,
            classification: true,
        };
        let seed = model_json::to_value(&Model::seed());
        let (mut s, r) = start(vec![seed], source, settings(2));
        assert!(
            matches!(
                r,
                TrainReply::Status {
                    train_samples: 48,
                    ..
                }
            ),
            "{r:?}"
        );
        let TrainReply::Status { runs, .. } = s.answer(TrainRequest::Step { batches: 10 }) else {
            panic!()
        };
        assert_eq!(runs[0].history["loss"].len(), 2);
    }
}
