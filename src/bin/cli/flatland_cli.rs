// The CLI's body, native only: `flatland.rs` includes it (the page's wasm32 lint build
// compiles the bins too, and the graph code is native only).

use std::process::ExitCode;

#[cfg(not(target_arch = "wasm32"))]
use flatland::codec::npy;
use flatland::codec::{self, link};
#[cfg(not(target_arch = "wasm32"))]
use flatland::engine::forward::{init_weights, split_weights, Limits};
use flatland::engine::graph::summary::graph_summary_text;
use flatland::engine::graph::{self, Graph};
use flatland::engine::summary::summary_text;
use flatland::engine::{analyze, Model};

const USAGE: &str = "usage:
  flatland summary [MODEL] [--json]
  flatland forward [MODEL] --input X0.npy [--input X1.npy ...] --output Y0.npy [--output Y1.npy ...]
      [--weights W.npz] [--seed N]
  flatland link MODEL
  flatland link --decode FRAGMENT
  flatland presets [ID [--compare]]
  flatland export MODEL --keras|--pytorch
  flatland train MODEL --data TRAIN.npz --loss LOSS[,LOSS...] --optimizer sgd|adam|adamw|rmsprop
      --epochs N --batch-size B [--lr LR] [--momentum M] [--metrics accuracy|OUTPUT:accuracy,...]
      [--validation VAL.npz] [--weights W.npz] [--seed S] [--shuffle] --history OUT.json
      [--save-weights OUT.npz]
MODEL: Flatland model JSON, Keras 3 / Keras 2 JSON (Sequential or Functional), a TF.js model.json,
  or Keras Python code (.py)";

enum Fail {
    Invalid(String),
    Unreadable(String),
}

fn read_bytes(path: &str) -> Result<Vec<u8>, Fail> {
    std::fs::read(path).map_err(|e| Fail::Unreadable(format!("cannot read {path}: {e}")))
}

fn load_model(path: Option<&str>) -> Result<Model, Fail> {
    let Some(path) = path else {
        return Ok(Model::seed());
    };
    let bytes = read_bytes(path)?;
    let text = String::from_utf8(bytes)
        .map_err(|_| Fail::Unreadable(format!("{path} is not UTF-8 text")))?;
    let is_py = std::path::Path::new(path)
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("py"));
    if is_py {
        // Keras Python code: parsed, never executed; warnings go to stderr.
        let imported = codec::keras_code::parse_keras_code(&text)
            .map_err(|e| Fail::Unreadable(format!("{path}: {e}")))?;
        for w in &imported.warnings {
            eprintln!("{path}:{}:{}: warning: {}", w.line, w.column, w.message);
        }
        return Ok(imported.model);
    }
    codec::read_model(&text).map_err(|e| Fail::Unreadable(format!("{path}: {e}")))
}

/// A model as the CLI reads it: a chain, or a Keras Functional graph.
enum Loaded {
    Chain(Model),
    Graph(Graph),
}

impl Loaded {
    fn graph(self) -> Graph {
        match self {
            Loaded::Chain(m) => Graph::from_chain(&m),
            Loaded::Graph(g) => g,
        }
    }
}

/// [`load_model`], but a Keras Functional file is read as a graph (whatever its shape).
fn load_any(path: Option<&str>) -> Result<Loaded, Fail> {
    if let Some(p) = path.filter(|p| p.to_ascii_lowercase().ends_with(".py")) {
        let bytes = read_bytes(p)?;
        let text = String::from_utf8(bytes)
            .map_err(|_| Fail::Unreadable(format!("{p} is not UTF-8 text")))?;
        if let Some(imported) = codec::keras_code::parse_keras_graph_code(&text)
            .map_err(|e| Fail::Unreadable(format!("{p}: {e}")))?
        {
            for w in &imported.warnings {
                eprintln!("{p}:{}:{}: warning: {}", w.line, w.column, w.message);
            }
            return Ok(Loaded::Graph(imported.graph));
        }
    }
    if let Some(p) = path.filter(|p| !p.to_ascii_lowercase().ends_with(".py")) {
        let bytes = read_bytes(p)?;
        let text = String::from_utf8(bytes)
            .map_err(|_| Fail::Unreadable(format!("{p} is not UTF-8 text")))?;
        match codec::keras_graph::read_graph(&text) {
            Ok(Some(g)) => return Ok(Loaded::Graph(g)),
            Ok(None) | Err(codec::keras_graph::GraphReadError::Json(_)) => {}
            Err(e) => return Err(Fail::Unreadable(format!("{p}: {e}"))),
        }
    }
    load_model(path).map(Loaded::Chain)
}

fn flag<'a>(args: &'a [String], name: &str) -> Option<&'a str> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .map(String::as_str)
}

fn positional(args: &[String], with_value: &[&str]) -> Vec<String> {
    let mut out = Vec::new();
    let mut skip = false;
    for a in args {
        if skip {
            skip = false;
            continue;
        }
        if with_value.contains(&a.as_str()) {
            skip = true;
        } else if !a.starts_with("--") {
            out.push(a.clone());
        }
    }
    out
}

fn summary(args: &[String]) -> Result<(), Fail> {
    let pos = positional(args, &[]);
    let loaded = load_any(pos.first().map(String::as_str))?;
    let json = args.iter().any(|a| a == "--json");
    if let (false, Loaded::Chain(model)) = (json, &loaded) {
        // A chain's text summary is Keras's Sequential one (no "Connected to").
        let a = analyze(model);
        print!("{}", summary_text(&model.name, &a));
        return a
            .first_error()
            .map_or(Ok(()), |e| Err(Fail::Invalid(e.to_string())));
    }
    let g = loaded.graph();
    let a = graph::analyze(&g);
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&a.to_json(&g)).unwrap_or_default()
        );
    } else {
        print!("{}", graph_summary_text(&g, &a));
    }
    match a.first_error() {
        Some(e) => Err(Fail::Invalid(e.to_string())),
        None => Ok(()),
    }
}

/// The CLI is a native program; `cargo clippy --target wasm32-unknown-unknown --bins` still
/// compiles it, without the (native-only) NumPy reader.
#[cfg(target_arch = "wasm32")]
fn forward_cmd(_args: &[String]) -> Result<(), Fail> {
    Err(Fail::Unreadable("forward needs the native CLI".into()))
}

/// All values of a repeated `--flag VALUE`.
#[cfg(not(target_arch = "wasm32"))]
fn flags<'a>(args: &'a [String], name: &str) -> Vec<&'a str> {
    args.windows(2)
        .filter(|w| w[0] == name)
        .map(|w| w[1].as_str())
        .collect()
}

#[cfg(not(target_arch = "wasm32"))]
fn forward_cmd(args: &[String]) -> Result<(), Fail> {
    use flatland::engine::graph::forward::{forward, init_weights, split_weights};
    let pos = positional(args, &["--input", "--output", "--weights", "--seed"]);
    // Without MODEL, the default (seed) model, as for `summary`.
    let model_path = pos.first().map(String::as_str);
    let inputs = flags(args, "--input");
    let outputs = flags(args, "--output");
    if inputs.is_empty() {
        return Err(Fail::Unreadable("forward needs --input X.npy".into()));
    }
    if outputs.is_empty() {
        return Err(Fail::Unreadable("forward needs --output Y.npy".into()));
    }
    let seed = match flag(args, "--seed") {
        Some(s) => s
            .parse::<u64>()
            .map_err(|_| Fail::Unreadable(format!("--seed {s} is not a number")))?,
        None => 0,
    };
    let g = load_any(model_path)?.graph();
    let a = graph::analyze(&g);
    if let Some(e) = a.first_error() {
        return Err(Fail::Invalid(e.to_string()));
    }
    if outputs.len() != g.outputs.len() {
        return Err(Fail::Unreadable(format!(
            "the model has {} output(s): give one --output each (got {})",
            g.outputs.len(),
            outputs.len()
        )));
    }
    let mut xs = Vec::with_capacity(inputs.len());
    for input in &inputs {
        xs.push(
            npy::read_npy(&read_bytes(input)?)
                .map_err(|e| Fail::Unreadable(format!("{input}: {e}")))?,
        );
    }
    let limits = Limits::default();
    let weights = match flag(args, "--weights") {
        Some(w) => {
            let list = npy::read_weight_list(&read_bytes(w)?)
                .map_err(|e| Fail::Unreadable(format!("{w}: {e}")))?;
            split_weights(&a, list).map_err(|e| Fail::Invalid(format!("{w}: {e}")))?
        }
        None => init_weights(&a, seed, limits).map_err(|e| Fail::Invalid(e.to_string()))?,
    };
    let ys = forward(&g, &a, &weights, &xs, limits).map_err(|e| Fail::Invalid(e.to_string()))?;
    for (y, output) in ys.iter().zip(&outputs) {
        std::fs::write(output, npy::write_npy(y))
            .map_err(|e| Fail::Unreadable(format!("cannot write {output}: {e}")))?;
        let dims: Vec<String> = y.shape().iter().map(ToString::to_string).collect();
        println!("output shape ({}) written to {output}", dims.join(", "));
    }
    Ok(())
}

#[cfg(target_arch = "wasm32")]
fn train_cmd(_args: &[String]) -> Result<(), Fail> {
    Err(Fail::Unreadable("train needs the native CLI".into()))
}

/// A required `--flag VALUE`.
#[cfg(not(target_arch = "wasm32"))]
fn need<'a>(args: &'a [String], name: &str) -> Result<&'a str, Fail> {
    flag(args, name).ok_or_else(|| Fail::Unreadable(format!("train needs {name}\n{USAGE}")))
}

/// A `--flag VALUE` parsed as a number.
#[cfg(not(target_arch = "wasm32"))]
fn number<T: std::str::FromStr>(args: &[String], name: &str) -> Result<Option<T>, Fail> {
    flag(args, name)
        .map(|v| {
            v.parse::<T>()
                .map_err(|_| Fail::Unreadable(format!("{name} {v} is not a valid number")))
        })
        .transpose()
}

/// The inputs and targets of a TRAIN.npz / VAL.npz: `x`, or `x0`, `x1`, … (one per model
/// input); `y`, or `y0`, `y1`, … (one per model output).
#[cfg(not(target_arch = "wasm32"))]
fn read_data(path: &str) -> Result<flatland::engine::train::fit::GraphData, Fail> {
    let items =
        npy::read_npz(&read_bytes(path)?).map_err(|e| Fail::Unreadable(format!("{path}: {e}")))?;
    let get = |k: &str| items.iter().find(|(n, _)| n == k).map(|(_, a)| a.clone());
    let numbered = |p: &str| -> Vec<_> {
        match get(p) {
            Some(a) => vec![a],
            None => (0..).map_while(|i| get(&format!("{p}{i}"))).collect(),
        }
    };
    let xs = numbered("x");
    if xs.is_empty() {
        return Err(Fail::Invalid(format!("{path}: has no array `x`")));
    }
    let ys = numbered("y");
    if ys.is_empty() {
        return Err(Fail::Invalid(format!(
            "{path}: has no array `y` (or y0, y1, … for a model with several outputs)"
        )));
    }
    Ok(flatland::engine::train::fit::GraphData { xs, ys })
}

/// `--loss` and `--metrics` as given, before the model's outputs are known.
#[cfg(not(target_arch = "wasm32"))]
struct Compile {
    /// One loss for every output, or one per output.
    losses: Vec<flatland::engine::train::loss::Loss>,
    /// `--metrics accuracy`: Keras's flat `metrics=["accuracy"]`.
    accuracy: bool,
    /// `--metrics OUT:accuracy`: the outputs named.
    accuracy_for: Vec<String>,
}

#[cfg(not(target_arch = "wasm32"))]
impl Compile {
    /// The run's settings for a model whose outputs are `names` (model order).
    fn config(
        &self,
        base: &flatland::engine::train::fit::FitConfig,
        names: &[String],
    ) -> Result<flatland::engine::train::fit::FitConfig, Fail> {
        use flatland::engine::train::fit::Head;
        let listed = names.join(", ");
        if self.losses.len() > 1 && self.losses.len() != names.len() {
            return Err(Fail::Unreadable(format!(
                "--loss gives {} losses but the model has {} output(s) ({listed}): give one per output, or one for all",
                self.losses.len(),
                names.len()
            )));
        }
        if let Some(bad) = self.accuracy_for.iter().find(|n| !names.contains(n)) {
            return Err(Fail::Unreadable(format!(
                "--metrics {bad}:accuracy: the model has no output `{bad}` (outputs: {listed})"
            )));
        }
        let mut cfg = base.clone();
        if names.len() == 1 {
            cfg.accuracy = self.accuracy || !self.accuracy_for.is_empty();
            return Ok(cfg);
        }
        if self.accuracy {
            return Err(Fail::Unreadable(format!(
                "--metrics accuracy: the model has {} outputs ({listed}) and Keras refuses a flat metrics=[\"accuracy\"] for several outputs: name them, --metrics {}:accuracy",
                names.len(),
                names.first().map_or("", String::as_str)
            )));
        }
        cfg.heads = names
            .iter()
            .enumerate()
            .map(|(k, n)| Head {
                loss: self.losses.get(k).copied().unwrap_or(base.loss),
                accuracy: self.accuracy_for.contains(n),
            })
            .collect();
        Ok(cfg)
    }
}

/// One input's data as the chain path takes them.
#[cfg(not(target_arch = "wasm32"))]
fn one_input(
    path: &str,
    d: flatland::engine::train::fit::GraphData,
) -> Result<flatland::engine::train::fit::Data, Fail> {
    let n = d.xs.len();
    let x = d.xs.into_iter().next().filter(|_| n == 1).ok_or_else(|| {
        Fail::Invalid(format!(
            "{path}: holds {n} inputs (x0, x1, …) but the model takes one"
        ))
    })?;
    let k = d.ys.len();
    let y = d.ys.into_iter().next().filter(|_| k == 1).ok_or_else(|| {
        Fail::Invalid(format!(
            "{path}: holds {k} target arrays (y0, y1, …) but the model has one output"
        ))
    })?;
    Ok(flatland::engine::train::fit::Data { x, y })
}

/// Train a chain or a graph: the history's result, the final weights (`get_weights()`
/// order per layer) and the model's number of outputs.
#[cfg(not(target_arch = "wasm32"))]
fn train_any(
    args: &[String],
    model_path: &str,
    data_path: &str,
    compile: &Compile,
    base: &flatland::engine::train::fit::FitConfig,
) -> Result<
    (
        Result<flatland::engine::train::fit::FitResult, flatland::engine::train::TrainError>,
        flatland::engine::forward::Weights,
        usize,
    ),
    Fail,
> {
    use flatland::engine::graph::forward as gf;
    use flatland::engine::train::fit::{fit, fit_graph};
    let read_weights = |w: &str| {
        npy::read_weight_list(&read_bytes(w)?).map_err(|e| Fail::Unreadable(format!("{w}: {e}")))
    };
    let val_path = flag(args, "--validation");
    let data = || -> Result<_, Fail> {
        Ok((read_data(data_path)?, val_path.map(read_data).transpose()?))
    };
    match load_any(Some(model_path))? {
        Loaded::Chain(model) => {
            let a = analyze(&model);
            if let Some(e) = a.first_error() {
                return Err(Fail::Invalid(e.to_string()));
            }
            let names = vec![model
                .layers
                .last()
                .map_or_else(String::new, |l| l.name.clone())];
            let cfg = &compile.config(base, &names)?;
            let mut weights = match flag(args, "--weights") {
                Some(w) => split_weights(&a, read_weights(w)?)
                    .map_err(|e| Fail::Invalid(format!("{w}: {e}")))?,
                None => init_weights(&a, cfg.seed, cfg.limits)
                    .map_err(|e| Fail::Invalid(e.to_string()))?,
            };
            let (train, val) = data()?;
            let train = one_input(data_path, train)?;
            let val = match (val_path, val) {
                (Some(p), Some(v)) => Some(one_input(p, v)?),
                _ => None,
            };
            let r = fit(&model, &a, &mut weights, &train, val.as_ref(), cfg);
            Ok((r, weights, 1))
        }
        Loaded::Graph(g) => {
            let a = graph::analyze(&g);
            if let Some(e) = a.first_error() {
                return Err(Fail::Invalid(e.to_string()));
            }
            let names = flatland::engine::train::graph_step::output_names(&g);
            let cfg = &compile.config(base, &names)?;
            let mut weights = match flag(args, "--weights") {
                Some(w) => gf::split_weights(&a, read_weights(w)?)
                    .map_err(|e| Fail::Invalid(format!("{w}: {e}")))?,
                None => gf::init_weights(&a, cfg.seed, cfg.limits)
                    .map_err(|e| Fail::Invalid(e.to_string()))?,
            };
            let (train, val) = data()?;
            let r = fit_graph(&g, &a, &mut weights, &train, val.as_ref(), cfg);
            Ok((r, weights, names.len()))
        }
    }
}

#[cfg(not(target_arch = "wasm32"))]
fn train_cmd(args: &[String]) -> Result<(), Fail> {
    use flatland::engine::train::fit::{FitConfig, Outcome};
    use flatland::engine::train::loss::Loss;
    use flatland::engine::train::optim::OptimizerKind;
    use flatland::engine::train::TrainError;
    let with_value = [
        "--data",
        "--loss",
        "--optimizer",
        "--epochs",
        "--batch-size",
        "--lr",
        "--momentum",
        "--metrics",
        "--validation",
        "--weights",
        "--seed",
        "--history",
        "--save-weights",
    ];
    let pos = positional(args, &with_value);
    let model_path = pos
        .first()
        .ok_or_else(|| Fail::Unreadable(format!("train needs MODEL\n{USAGE}")))?;
    let train_err = |e: TrainError| match e {
        TrainError::UnknownLoss(_)
        | TrainError::UnknownOptimizer(_)
        | TrainError::UnknownMetric(_)
        | TrainError::Setting { .. } => Fail::Unreadable(e.to_string()),
        _ => Fail::Invalid(e.to_string()),
    };
    let data_path = need(args, "--data")?;
    let losses = need(args, "--loss")?
        .split(',')
        .map(|l| Loss::parse(l.trim()).map_err(train_err))
        .collect::<Result<Vec<_>, _>>()?;
    let momentum = number::<f32>(args, "--momentum")?;
    let optimizer =
        OptimizerKind::parse(need(args, "--optimizer")?, momentum).map_err(train_err)?;
    let epochs = number::<usize>(args, "--epochs")?
        .ok_or_else(|| Fail::Unreadable(format!("train needs --epochs\n{USAGE}")))?;
    let batch_size = number::<usize>(args, "--batch-size")?
        .ok_or_else(|| Fail::Unreadable(format!("train needs --batch-size\n{USAGE}")))?;
    let lr = number::<f32>(args, "--lr")?;
    let seed = number::<u64>(args, "--seed")?.unwrap_or(0);
    let history_path = need(args, "--history")?;
    let mut compile = Compile {
        losses,
        accuracy: false,
        accuracy_for: Vec::new(),
    };
    for (i, a) in args.iter().enumerate() {
        if a == "--metrics" {
            let m = args
                .get(i + 1)
                .ok_or_else(|| Fail::Unreadable("--metrics needs a value".into()))?;
            for name in m.split(',').filter(|n| !n.is_empty()) {
                match name.rsplit_once(':') {
                    None if matches!(name, "accuracy" | "acc") => compile.accuracy = true,
                    Some((out, "accuracy" | "acc")) if !out.is_empty() => {
                        compile.accuracy_for.push(out.to_string());
                    }
                    _ => return Err(train_err(TrainError::UnknownMetric(name.into()))),
                }
            }
        }
    }
    let limits = Limits::default();
    let cfg = FitConfig {
        loss: compile.losses.first().copied().unwrap_or(Loss::Mse),
        optimizer,
        lr,
        epochs,
        batch_size,
        accuracy: false,
        heads: Vec::new(),
        shuffle: args.iter().any(|a| a == "--shuffle"),
        seed,
        limits,
    };
    let (r, weights, outputs) = train_any(args, model_path, data_path, &compile, &cfg)?;
    let r = r.map_err(train_err)?;
    let json = serde_json::to_string(&r.history)
        .map_err(|e| Fail::Invalid(format!("cannot write the history: {e}")))?;
    std::fs::write(history_path, json)
        .map_err(|e| Fail::Unreadable(format!("cannot write {history_path}: {e}")))?;
    if let Outcome::Diverged { epoch } = r.outcome {
        return Err(Fail::Invalid(format!(
            "training diverged at epoch {epoch}: the loss is no longer finite (history of the {} epoch(s) before it written to {history_path})",
            epoch - 1
        )));
    }
    if let Some(out) = flag(args, "--save-weights") {
        let flat: Vec<_> = weights.into_iter().flatten().collect();
        let bytes = npy::write_npz(&flat).map_err(|e| Fail::Invalid(e.to_string()))?;
        std::fs::write(out, bytes)
            .map_err(|e| Fail::Unreadable(format!("cannot write {out}: {e}")))?;
    }
    let last = |k: &str| {
        r.history
            .get(k)
            .and_then(|v| v.last())
            .map(|v| format!(" {k} {v:.4}"))
            .unwrap_or_default()
    };
    if outputs > 1 {
        // Several outputs: every key of the History, in its order.
        let all: String = r.history.keys().map(|k| last(k)).collect();
        println!("trained {epochs} epoch(s):{all}");
    } else {
        println!(
            "trained {epochs} epoch(s):{}{}{}{}",
            last("loss"),
            last("accuracy"),
            last("val_loss"),
            last("val_accuracy")
        );
    }
    Ok(())
}

fn link_cmd(args: &[String]) -> Result<(), Fail> {
    if let Some(fragment) = flag(args, "--decode").filter(|f| codec::graph_link::is_graph_link(f)) {
        let g =
            codec::graph_link::decode_graph(fragment).map_err(|e| Fail::Invalid(e.to_string()))?;
        let v = codec::graph_link::to_keras_json(&g);
        println!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
        return Ok(());
    }
    if let Some(fragment) = flag(args, "--decode") {
        let p = link::decode(fragment).map_err(|e| Fail::Invalid(e.to_string()))?;
        println!("{}", codec::model_json::to_string(&p.model));
        return Ok(());
    }
    let pos = positional(args, &[]);
    let path = pos
        .first()
        .ok_or_else(|| Fail::Unreadable(format!("link needs MODEL\n{USAGE}")))?;
    match load_any(Some(path))? {
        Loaded::Chain(model) => println!("{}", link::encode_model(&model)),
        // A Functional file that is a chain keeps the chain link (the page opens it).
        Loaded::Graph(g) => match load_model(Some(path)) {
            Ok(model) => println!("{}", link::encode_model(&model)),
            Err(_) => println!("{}", codec::graph_link::encode_graph(&g)),
        },
    }
    Ok(())
}

fn export_cmd(args: &[String]) -> Result<(), Fail> {
    let pos = positional(args, &[]);
    let path = pos
        .first()
        .ok_or_else(|| Fail::Unreadable(format!("export needs MODEL\n{USAGE}")))?;
    let pytorch = args.iter().any(|a| a == "--pytorch");
    if !pytorch && !args.iter().any(|a| a == "--keras") {
        return Err(Fail::Unreadable(format!(
            "export needs --keras or --pytorch\n{USAGE}"
        )));
    }
    let model = match load_any(Some(path))? {
        Loaded::Chain(model) => model,
        Loaded::Graph(g) => {
            let code = if pytorch {
                codec::export_graph::to_pytorch_graph_code(&g)
            } else {
                codec::export_graph::to_keras_graph_code(&g)
            };
            print!("{code}");
            return graph::analyze(&g)
                .first_error()
                .map_or(Ok(()), |e| Err(Fail::Invalid(e.to_string())));
        }
    };
    let code = if pytorch {
        codec::export::to_pytorch_code(&model)
    } else {
        codec::export::to_keras_code(&model)
    };
    print!("{code}");
    match analyze(&model).first_error() {
        Some(e) => Err(Fail::Invalid(e.to_string())),
        None => Ok(()),
    }
}

/// `flatland presets` lists the gallery; `flatland presets ID [--compare]` prints that preset's
/// model (or its compare partner) as Flatland model JSON.
fn presets_cmd(args: &[String]) -> Result<(), Fail> {
    let pos = positional(args, &[]);
    let Some(id) = pos.first() else {
        for p in codec::presets::presets() {
            let total = analyze(&p.model).total();
            let pair = p
                .compare_with
                .as_ref()
                .map(|m| format!(" (compare: {})", analyze(m).total()))
                .unwrap_or_default();
            println!(
                "{:<20} {:<9} {total:>12} params{pair}  {}",
                p.id, p.group, p.title
            );
        }
        return Ok(());
    };
    let p = codec::presets::preset(id)
        .ok_or_else(|| Fail::Unreadable(format!("no preset `{id}` (run `flatland presets`)")))?;
    let model = if args.iter().any(|a| a == "--compare") {
        p.compare_with
            .ok_or_else(|| Fail::Unreadable(format!("preset `{id}` has no compare model")))?
    } else {
        p.model
    };
    println!("{}", codec::model_json::to_string(&model));
    Ok(())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let rest = args.get(1..).unwrap_or(&[]);
    let r = match args.first().map(String::as_str) {
        Some("summary") => summary(rest),
        Some("forward") => forward_cmd(rest),
        Some("link") => link_cmd(rest),
        Some("export") => export_cmd(rest),
        Some("presets") => presets_cmd(rest),
        Some("train") => train_cmd(rest),
        Some("--help" | "-h" | "help") => {
            println!("{USAGE}");
            Ok(())
        }
        _ => Err(Fail::Unreadable(USAGE.to_string())),
    };
    match r {
        Ok(()) => ExitCode::SUCCESS,
        Err(Fail::Invalid(m)) => {
            eprintln!("flatland: {m}");
            ExitCode::from(1)
        }
        Err(Fail::Unreadable(m)) => {
            eprintln!("flatland: {}", m.lines().next().unwrap_or(""));
            for l in m.lines().skip(1) {
                eprintln!("{l}");
            }
            ExitCode::from(2)
        }
    }
}
