#![cfg(not(target_arch = "wasm32"))]
//! Training against real Keras 3: every case of `tools/keras_train_fixtures.py` (committed
//! under tests/fixtures/train/) is trained with [`fit`] from Keras's initial weights and
//! must reproduce Keras's `fit(shuffle=False)`: every History value (losses within 1e-3
//! relative or 1e-5 absolute, accuracies within one sample) and every final weight (1e-3
//! relative or 1e-4 absolute), the tolerances of `../shared/checks/check_train.py`. No case
//! is skipped and no tolerance is widened per case.
//!
//! tests/fixtures/train/refusals/ holds targets Keras's `fit` raises on (its message in
//! `expected_error.txt`): Flatland must refuse each one before training, with a data error.
//!
//! Graph (Keras Functional) cases (`tg*`, inputs `x0`, `x1`, … for several) train with
//! [`fit_graph`] and are checked the same way: merges, residual blocks, `Dot`,
//! `MultiHeadAttention` (self- and cross-attention, a separate key, a transformer block),
//! `Normalization`.
//!
//! Graphs with several outputs (`tm*`: `y0`, `y1`, … in model output order; `args.json`
//! gives the loss as one name for all or a list, one per output, and `metrics` as Keras's
//! dict `{"<output>": ["accuracy"]}`) train with [`FitConfig::heads`]; their History holds
//! `loss`, `<output>_loss`, `<output>_accuracy` and the `val_` twins, checked the same way.
//!
//! Run with `--nocapture` to see what was checked: runs, History values, weights, and how
//! often each loss, optimizer setting and layer class was met.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use flatland::codec::{self, npy};
use flatland::engine::analyze;
use flatland::engine::forward::{split_weights, Limits};
use flatland::engine::graph::{self, Graph};
use flatland::engine::model::Model;
use flatland::engine::train::fit::{fit, fit_graph, Data, FitConfig, GraphData, Head, Outcome};
use flatland::engine::train::graph_step;
use flatland::engine::train::loss::Loss;
use flatland::engine::train::optim::OptimizerKind;
use flatland::engine::train::TrainError;
use serde_json::Value;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/train")
}

/// The case directories (those with an `args.json`) under `dir`, sorted.
fn cases(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.join("args.json").is_file())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

fn name(dir: &Path) -> String {
    dir.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// `x` (or `x0`, `x1`, …) and `y` (or `y0`, `y1`, …).
fn data(p: &Path) -> Result<GraphData, String> {
    let items =
        npy::read_npz(&fs::read(p).map_err(|e| e.to_string())?).map_err(|e| e.to_string())?;
    let find = |k: &str| items.iter().find(|(n, _)| n == k).map(|(_, a)| a.clone());
    let numbered = |prefix: &str| match find(prefix) {
        Some(a) => vec![a],
        None => (0..)
            .map_while(|i| find(&format!("{prefix}{i}")))
            .collect::<Vec<_>>(),
    };
    let (xs, ys) = (numbered("x"), numbered("y"));
    if xs.is_empty() || ys.is_empty() {
        return Err(format!("{} has no x or no y", p.display()));
    }
    Ok(GraphData { xs, ys })
}

/// A one-input case's data as the chain path takes them.
fn chain_data(d: &GraphData) -> Data {
    Data {
        x: d.xs[0].clone(),
        y: d.ys[0].clone(),
    }
}

/// `args.json`'s loss and metrics for the outputs `names`: a loss for all or one each, and
/// `metrics` as a list (one output) or Keras's dict per output name.
fn heads(args: &Value, names: &[String]) -> Result<(Loss, bool, Vec<Head>), String> {
    let parse = |v: &Value| Loss::parse(v.as_str().unwrap_or("")).map_err(|e| e.to_string());
    let losses: Vec<Loss> = match &args["loss"] {
        Value::Array(v) => v.iter().map(parse).collect::<Result<_, _>>()?,
        v => vec![parse(v)?],
    };
    let flat_acc = args["metrics"]
        .as_array()
        .is_some_and(|m| m.iter().any(|v| v == "accuracy"));
    if names.len() == 1 {
        return Ok((losses[0], flat_acc, Vec::new()));
    }
    let per = |n: &String| {
        args["metrics"][n.as_str()]
            .as_array()
            .is_some_and(|m| m.iter().any(|v| v == "accuracy"))
    };
    let heads = names
        .iter()
        .enumerate()
        .map(|(k, n)| Head {
            loss: losses.get(k).copied().unwrap_or(losses[0]),
            accuracy: per(n),
        })
        .collect();
    Ok((losses[0], false, heads))
}

/// A case's model: a Sequential chain, or a Functional graph.
enum Net {
    Chain(Model),
    Graph(Graph),
}

impl Net {
    fn classes(&self) -> Vec<String> {
        match self {
            Net::Chain(m) => m
                .layers
                .iter()
                .map(|l| l.spec.class_name().to_string())
                .collect(),
            Net::Graph(g) => g
                .layers
                .iter()
                .map(|l| l.op.class_name().to_string())
                .collect(),
        }
    }
}

fn read_json(p: &Path) -> Result<Value, String> {
    serde_json::from_str(&fs::read_to_string(p).map_err(|e| e.to_string())?)
        .map_err(|e| format!("{}: {e}", p.display()))
}

/// A case's inputs: the model, its initial weights, the data and the settings.
struct Case {
    model: Net,
    weights: flatland::engine::forward::Weights,
    train: GraphData,
    val: GraphData,
    cfg: FitConfig,
    /// The optimizer as the script names its setting (`sgd`, `sgd+momentum`, ...).
    optimizer: String,
    /// `args.json` names one loss (a string) for a model with several outputs.
    one_loss: bool,
}

fn load(dir: &Path) -> Result<Case, String> {
    let args = read_json(&dir.join("args.json"))?;
    let text = fs::read_to_string(dir.join("model.json")).map_err(|e| e.to_string())?;
    let initial =
        npy::read_weight_list(&fs::read(dir.join("weights.npz")).map_err(|e| e.to_string())?)
            .map_err(|e| e.to_string())?;
    let functional = read_json(&dir.join("model.json"))?["class_name"] == "Functional";
    let (model, weights) = if functional {
        let g = codec::keras_graph::read_graph(&text)
            .map_err(|e| e.to_string())?
            .ok_or("model.json is not a graph")?;
        let a = graph::analyze(&g);
        let w = graph::forward::split_weights(&a, initial).map_err(|e| e.to_string())?;
        (Net::Graph(g), w)
    } else {
        let model = codec::read_model(&text).map_err(|e| e.to_string())?;
        let w = split_weights(&analyze(&model), initial).map_err(|e| e.to_string())?;
        (Net::Chain(model), w)
    };
    let momentum = args["momentum"]
        .as_f64()
        .filter(|m| *m != 0.0)
        .map(|m| m as f32);
    let opt_name = args["optimizer"].as_str().unwrap_or("");
    let names = match &model {
        Net::Graph(g) => graph_step::output_names(g),
        Net::Chain(_) => vec![String::new()],
    };
    if let Some(want) = args["outputs"].as_array() {
        if want
            .iter()
            .map(|v| v.as_str().unwrap_or(""))
            .ne(names.iter().map(String::as_str))
        {
            return Err(format!("output names {names:?}, Keras {want:?}"));
        }
    }
    let (loss, accuracy, heads) = heads(&args, &names)?;
    let cfg = FitConfig {
        loss,
        optimizer: OptimizerKind::parse(opt_name, momentum).map_err(|e| e.to_string())?,
        lr: args["lr"].as_f64().map(|v| v as f32),
        epochs: args["epochs"].as_u64().unwrap_or(0) as usize,
        batch_size: args["batch_size"].as_u64().unwrap_or(0) as usize,
        accuracy,
        heads,
        shuffle: false,
        seed: 0,
        limits: Limits::default(),
    };
    Ok(Case {
        model,
        weights,
        train: data(&dir.join("train.npz"))?,
        val: data(&dir.join("val.npz"))?,
        cfg,
        optimizer: match momentum {
            Some(_) => format!("{opt_name}+momentum"),
            None => opt_name.to_string(),
        },
        one_loss: args["loss"].is_string() && names.len() > 1,
    })
}

/// What one case checked.
#[derive(Default)]
struct Checked {
    history_values: usize,
    weight_arrays: usize,
    weight_values: usize,
    partial_last_batch: bool,
}

/// Train one case; the first mismatch with Keras, if any.
fn run(dir: &Path, case: Case) -> Result<Checked, String> {
    let expected: BTreeMap<String, Vec<f64>> =
        serde_json::from_value(read_json(&dir.join("expected_history.json"))?)
            .map_err(|e| e.to_string())?;
    let Case {
        model,
        mut weights,
        train,
        val,
        cfg,
        ..
    } = case;
    let r = match &model {
        Net::Chain(m) => fit(
            m,
            &analyze(m),
            &mut weights,
            &chain_data(&train),
            Some(&chain_data(&val)),
            &cfg,
        ),
        Net::Graph(g) => fit_graph(
            g,
            &graph::analyze(g),
            &mut weights,
            &train,
            Some(&val),
            &cfg,
        ),
    }
    .map_err(|e| e.to_string())?;
    if r.outcome != Outcome::Finished {
        return Err(format!("{:?}", r.outcome));
    }
    let got_keys: Vec<&String> = r.history.keys().collect();
    let want_keys: Vec<&String> = expected.keys().collect();
    if got_keys != want_keys {
        return Err(format!("history keys {got_keys:?}, Keras {want_keys:?}"));
    }
    let mut checked = Checked {
        partial_last_batch: train.ys[0].shape()[0] % cfg.batch_size != 0,
        ..Checked::default()
    };
    for (k, want) in &expected {
        let got = &r.history[k];
        let n = if k.starts_with("val_") { &val } else { &train }.ys[0].shape()[0] as f64;
        let ok = got.len() == want.len()
            && got.iter().zip(want).all(|(g, e)| {
                let tol = if k.contains("accuracy") {
                    1.01 / n
                } else {
                    1e-5 + 1e-3 * e.abs()
                };
                (g - e).abs() <= tol
            });
        if !ok {
            return Err(format!("{k}: got {got:?}, Keras {want:?}"));
        }
        checked.history_values += want.len();
    }
    let want_w = npy::read_weight_list(
        &fs::read(dir.join("expected_weights.npz")).map_err(|e| e.to_string())?,
    )
    .map_err(|e| e.to_string())?;
    let got_w: Vec<_> = weights.into_iter().flatten().collect();
    if got_w.len() != want_w.len() {
        return Err(format!("{} weights, Keras {}", got_w.len(), want_w.len()));
    }
    for (i, (g, e)) in got_w.iter().zip(&want_w).enumerate() {
        if g.shape() != e.shape() {
            return Err(format!(
                "weight {i}: shape {:?}, Keras {:?}",
                g.shape(),
                e.shape()
            ));
        }
        let worst = g
            .iter()
            .zip(e.iter())
            .map(|(a, b)| {
                (f64::from(*a) - f64::from(*b)).abs() - (1e-4 + 1e-3 * f64::from(*b).abs())
            })
            .fold(f64::NEG_INFINITY, f64::max);
        if worst > 0.0 {
            return Err(format!(
                "weight {i}: off by {worst:.3e} beyond the tolerance"
            ));
        }
        checked.weight_arrays += 1;
        checked.weight_values += e.len();
    }
    Ok(checked)
}

/// What the multi-output fixtures cover.
#[derive(Default)]
struct MultiCounts {
    runs: usize,
    passed: usize,
    three: usize,
    two_inputs: usize,
    feeding: usize,
    with_acc: usize,
    one_loss: usize,
}

impl MultiCounts {
    fn count(&mut self, case: &Case) {
        self.runs += 1;
        self.three += usize::from(case.cfg.heads.len() > 2);
        self.two_inputs += usize::from(case.train.xs.len() > 1);
        self.with_acc += usize::from(case.cfg.heads.iter().any(|h| h.accuracy));
        self.one_loss += usize::from(case.one_loss);
        if let Net::Graph(g) = &case.model {
            let feeds = g
                .outputs
                .iter()
                .any(|o| g.layers.iter().any(|l| l.inbound.contains(o)));
            self.feeding += usize::from(feeds);
        }
    }
}

fn bump(m: &mut BTreeMap<String, usize>, k: &str) {
    *m.entry(k.to_string()).or_default() += 1;
}

fn table(m: &BTreeMap<String, usize>) -> String {
    m.iter()
        .map(|(k, v)| format!("{k} {v}"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[test]
fn training_matches_keras_fit() {
    let cases = cases(&fixtures());
    let mut failures = Vec::new();
    let (mut losses, mut optimizers, mut classes) =
        (BTreeMap::new(), BTreeMap::new(), BTreeMap::new());
    let (mut history, mut arrays, mut values, mut partial, mut with_acc, mut broadcast) =
        (0, 0, 0, 0, 0, 0);
    let (mut graphs, mut graphs_passed, mut two_inputs, mut three_inputs) = (0, 0, 0, 0);
    let mut multi = MultiCounts::default();
    for dir in &cases {
        let case = match load(dir) {
            Ok(c) => c,
            Err(e) => {
                failures.push(format!("{}: {e}", name(dir)));
                continue;
            }
        };
        bump(&mut losses, case.cfg.loss.name());
        bump(&mut optimizers, &case.optimizer);
        let mut seen = case.model.classes();
        seen.sort_unstable();
        seen.dedup();
        for c in seen {
            bump(&mut classes, &c);
        }
        with_acc += usize::from(case.cfg.accuracy || case.cfg.heads.iter().any(|h| h.accuracy));
        let several = case.cfg.heads.len() > 1;
        if several {
            multi.count(&case);
        }
        let is_graph = matches!(case.model, Net::Graph(_));
        graphs += usize::from(is_graph);
        two_inputs += usize::from(case.train.xs.len() > 1);
        three_inputs += usize::from(case.train.xs.len() > 2);
        if let Net::Chain(m) = &case.model {
            // Targets with fewer numbers per sample than the output (not labels): broadcast.
            let per_output: usize = analyze(m).output().map_or(0, |s| s.dims().iter().product());
            let per_target = case.train.ys[0].len() / case.train.ys[0].shape()[0].max(1);
            broadcast += usize::from(
                case.cfg.loss != Loss::SparseCategoricalCrossentropy && per_target != per_output,
            );
        }
        match run(dir, case) {
            Ok(c) => {
                graphs_passed += usize::from(is_graph);
                multi.passed += usize::from(several);
                history += c.history_values;
                arrays += c.weight_arrays;
                values += c.weight_values;
                partial += usize::from(c.partial_last_batch);
            }
            Err(e) => failures.push(format!("{}: {e}", name(dir))),
        }
    }
    println!(
        "checked {} Keras training runs: {history} History values, {arrays} final weight arrays \
         ({values} values); {partial} with a partial last batch, {with_acc} with accuracy, \
         {broadcast} with targets Keras broadcasts against the output",
        cases.len()
    );
    println!(
        "graph (Functional) runs: {graphs_passed} of {graphs} match, {two_inputs} with two or \
         more inputs, {three_inputs} with three"
    );
    println!(
        "several outputs: {} of {} match, {} with three outputs, {} with two inputs, {} with an \
         output feeding another layer, {} with accuracy on an output, {} with one loss for all",
        multi.passed,
        multi.runs,
        multi.three,
        multi.two_inputs,
        multi.feeding,
        multi.with_acc,
        multi.one_loss
    );
    println!("losses: {}", table(&losses));
    println!("optimizers: {}", table(&optimizers));
    println!("layer classes (runs): {}", table(&classes));
    assert!(
        failures.is_empty(),
        "{} of {} training fixtures differ from Keras:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
    assert!(cases.len() >= 300, "only {} training fixtures", cases.len());
    assert_eq!(losses.len(), Loss::ALL.len(), "{losses:?}");
    for opt in [
        "sgd",
        "sgd+momentum",
        "adam",
        "adamw",
        "rmsprop",
        "rmsprop+momentum",
    ] {
        assert!(optimizers.contains_key(opt), "no run with {opt}");
    }
    assert!(broadcast >= 8, "{broadcast} broadcasting runs");
    assert!(graphs >= 46, "only {graphs} graph fixtures");
    assert!(
        two_inputs >= 10,
        "only {two_inputs} fixtures with several inputs"
    );
    assert!(
        three_inputs >= 2,
        "only {three_inputs} three-input fixtures"
    );
    assert!(
        multi.runs >= 12,
        "only {} multi-output fixtures",
        multi.runs
    );
    for (what, got) in [
        ("three outputs", multi.three),
        ("two inputs", multi.two_inputs),
        ("an output feeding another layer", multi.feeding),
        ("accuracy on an output", multi.with_acc),
        ("one loss for all outputs", multi.one_loss),
    ] {
        assert!(got >= 1, "no multi-output fixture with {what}");
    }
    for merge in [
        "Add",
        "Concatenate",
        "Multiply",
        "Subtract",
        "Average",
        "Maximum",
        "Minimum",
    ] {
        assert!(classes.contains_key(merge), "no run with {merge}");
    }
    for (class, runs) in [
        ("Dot", 6),
        ("MultiHeadAttention", 10),
        ("Normalization", 4),
        ("LayerNormalization", 2),
    ] {
        let got = classes.get(class).copied().unwrap_or(0);
        assert!(got >= runs, "{got} runs with {class}, expected {runs}");
    }
}

/// The targets Keras's `fit` refuses: Flatland refuses them too, as data errors, before any
/// training.
#[test]
fn targets_keras_refuses_are_refused() {
    let cases = cases(&fixtures().join("refusals"));
    let mut failures = Vec::new();
    for dir in &cases {
        let keras = fs::read_to_string(dir.join("expected_error.txt")).unwrap_or_default();
        let outcome = load(dir).and_then(|c| {
            let Net::Chain(m) = &c.model else {
                return Err("a refusal fixture is a Sequential model".into());
            };
            let a = analyze(m);
            let mut w = c.weights;
            let (train, val) = (chain_data(&c.train), chain_data(&c.val));
            match fit(m, &a, &mut w, &train, Some(&val), &c.cfg) {
                Err(TrainError::Data(msg)) => Ok(msg),
                Err(e) => Err(format!("refused, but not as a data error: {e}")),
                Ok(r) => Err(format!(
                    "trained ({:?}); Keras: {}",
                    r.outcome,
                    keras.trim()
                )),
            }
        });
        match outcome {
            Ok(msg) => println!(
                "{}: Flatland: {msg}\n    Keras: {}",
                name(dir),
                keras.trim()
            ),
            Err(e) => failures.push(format!("{}: {e}", name(dir))),
        }
    }
    println!("checked {} refusals", cases.len());
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(cases.len() >= 7, "only {} refusal fixtures", cases.len());
}

/// A model with several outputs: one loss for all (heads left empty) trains as the same loss
/// given per output; Keras's refused flat accuracy, a wrong count of heads and a missing
/// target array are refused before training.
#[test]
fn multi_output_settings_are_checked() {
    let dir = cases(&fixtures())
        .into_iter()
        .find(|d| name(d).starts_with("tm") && name(d).contains("depth"))
        .expect("a tm*_depth fixture");
    let case = load(&dir).unwrap();
    let Net::Graph(g) = &case.model else {
        panic!("tm fixtures are graphs")
    };
    let a = graph::analyze(g);
    let train = |cfg: &FitConfig, data: &GraphData| {
        let mut w = case.weights.clone();
        fit_graph(g, &a, &mut w, data, Some(&case.val), cfg).map(|r| (r, w))
    };
    let explicit = FitConfig {
        heads: vec![
            Head {
                loss: Loss::Mse,
                accuracy: false,
            };
            2
        ],
        ..case.cfg.clone()
    };
    let one_for_all = FitConfig {
        loss: Loss::Mse,
        accuracy: false,
        heads: Vec::new(),
        ..case.cfg.clone()
    };
    let (r1, w1) = train(&explicit, &case.train).unwrap();
    let (r2, w2) = train(&one_for_all, &case.train).unwrap();
    assert_eq!((r1, w1), (r2, w2));

    let flat_acc = FitConfig {
        accuracy: true,
        ..one_for_all.clone()
    };
    let e = train(&flat_acc, &case.train).unwrap_err();
    assert!(
        matches!(&e, TrainError::Setting { .. }) && e.to_string().contains("refused by Keras"),
        "{e}"
    );
    let three = FitConfig {
        heads: vec![explicit.heads[0]; 3],
        ..explicit.clone()
    };
    let e = train(&three, &case.train).unwrap_err();
    assert!(
        matches!(&e, TrainError::Setting { .. }) && e.to_string().contains("2 output(s)"),
        "{e}"
    );
    let missing = GraphData {
        xs: case.train.xs.clone(),
        ys: case.train.ys[..1].to_vec(),
    };
    let e = train(&explicit, &missing).unwrap_err();
    assert!(
        matches!(&e, TrainError::Data(m) if m.contains("give y0, y1")),
        "{e}"
    );
    // One layer given twice as an output: Keras's History keys would collide.
    let mut twice = g.clone();
    twice.outputs = vec![g.outputs[0]; 2];
    let mut w = case.weights.clone();
    let e = fit_graph(
        &twice,
        &graph::analyze(&twice),
        &mut w,
        &case.train,
        None,
        &explicit,
    )
    .unwrap_err();
    assert!(
        matches!(&e, TrainError::Setting { .. }) && e.to_string().contains("share the name"),
        "{e}"
    );
}
