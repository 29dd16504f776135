//! The Train panel: train model A and model B on the same data, seed and settings, and watch
//! their train and validation curves on one chart. The tools module draws it when the page
//! loads that module on demand (`src/app/tools_host.rs` says how the two talk); the training
//! itself runs in a worker (`src/app/train_protocol.rs`), a few batches per message, so the
//! page never freezes and Stop takes effect between batches.

use std::cell::RefCell;
use std::fmt::Write as _;
use std::rc::Rc;

use serde_json::Value;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{Event, HtmlInputElement, HtmlSelectElement, MessageEvent, Worker};
use yew::prelude::*;

use crate::app::train_protocol::{
    DataSource, RunStatus, Settings, TrainReply, TrainRequest, WireArray, PREFIX,
};
use crate::codec::model_json;
use crate::engine::model::analyze;
use crate::engine::teach::with_flatten_before;
use crate::engine::train::data::{self, BUILTIN};

const CSS: &str = include_str!("train_panel.css");

/// Draw the panel (open now when `open`) into a new element at the end of `<body>`, with
/// its styles; it opens again on each `flatland-train-open` event.
pub fn mount(open: bool) {
    crate::app::panel_root::add_style(CSS);
    if let Some(root) = crate::app::panel_root::root("train-root") {
        yew::Renderer::<TrainPanel>::with_root_and_props(root, TrainProps { open }).render();
    }
}

#[derive(Properties, PartialEq)]
struct TrainProps {
    /// Open at first (the Train button loaded the module).
    open: bool,
}

/// Models A and B as the page handed them over.
#[derive(Debug, Clone, PartialEq)]
struct Pair {
    a: Value,
    b: Value,
    b_label: String,
    /// A's input shape, for the data.
    input: Vec<usize>,
}

/// B when the compare view has none: A with its global pooling replaced by Flatten (the
/// pooled per-position Dense against Flatten), else A with a Flatten before its first
/// per-position Dense, else a copy of A.
fn default_b(a: &crate::engine::Model) -> (Value, String) {
    use crate::engine::layers::reshaping::Flatten;
    use crate::engine::LayerSpec;
    let pooling = a.layers.iter().position(|l| {
        matches!(
            l.spec,
            LayerSpec::GlobalAveragePooling1D(_) | LayerSpec::GlobalMaxPooling1D(_)
        )
    });
    if let Some(i) = pooling {
        let mut b = a.clone();
        let name = b.fresh_name("flatten");
        let old = std::mem::replace(
            &mut b.layers[i],
            crate::engine::Layer::new(name, LayerSpec::Flatten(Flatten {})),
        );
        return (
            model_json::to_value(&b),
            format!("B: A with Flatten instead of {}", old.name),
        );
    }
    let an = analyze(a);
    let per_position = a.layers.iter().enumerate().find(|(i, l)| {
        matches!(l.spec, LayerSpec::Dense(_))
            && an
                .layers
                .get(*i)
                .and_then(|r| r.input.as_ref())
                .is_some_and(|s| s.dims().len() > 1)
    });
    match per_position {
        Some((i, l)) => (
            model_json::to_value(&with_flatten_before(a, i)),
            format!("B: A with Flatten before {}", l.name),
        ),
        None => (model_json::to_value(a), "B: a copy of A".to_string()),
    }
}

/// The page's models, from the link in the address bar (the page rewrites it on every
/// change): A, and B as the compare view's preset partner or [`default_b`]. Without a link,
/// the seed model.
fn read_pair() -> Pair {
    let hash = gloo::utils::window().location().hash().unwrap_or_default();
    let (a, compare) = match crate::app::share::open_link(&hash) {
        Some(Ok(crate::app::state::Action::OpenLink { model, compare, .. })) => (model, compare),
        _ => (crate::engine::Model::seed(), None),
    };
    let partner = compare
        .as_deref()
        .and_then(crate::codec::presets::preset)
        .and_then(|p| p.compare_with);
    let (b, b_label) = match partner {
        Some(b) => {
            let label = format!("B: preset {}", b.name);
            (model_json::to_value(&b), label)
        }
        None => default_b(&a),
    };
    Pair {
        a: model_json::to_value(&a),
        b,
        b_label,
        input: a.input_shape,
    }
}

/// The JS that hands `values` and `label` to the page's module (its `wasm-bindgen` exports
/// are `window.wasmBindings`; see `src/bin/flatland-web/main.rs`).
const TO_PAGE: &str =
    "const f=window.wasmBindings&&window.wasmBindings.trained_weights;if(f)f(v,l)";

/// The page's side of the training worker: one worker, one request in flight.
struct Ctl {
    worker: Option<Worker>,
    ready: bool,
    queued: Vec<String>,
    /// Keep stepping after each reply.
    running: bool,
    /// Batches per step, adapted so one step takes about [`STEP_MS`].
    batches: usize,
    sent_at: f64,
    /// Which runs train (their weights can be asked for), from the last status.
    ok: Vec<bool>,
    /// The sample "Try a sample" shows.
    sample: usize,
    /// The page's address-bar fragment when training started: A's trained weights go to the
    /// page's views only while it still shows that model.
    hash: String,
    /// A's finished epochs, from the last status.
    epochs: usize,
    on_reply: Callback<TrainReply>,
}

const STEP_MS: f64 = 60.0;

fn now() -> f64 {
    gloo::utils::window().performance().map_or(0.0, |p| p.now())
}

impl Ctl {
    fn new(on_reply: Callback<TrainReply>) -> Ctl {
        Ctl {
            worker: None,
            ready: false,
            queued: Vec::new(),
            running: false,
            batches: 1,
            sent_at: 0.0,
            ok: Vec::new(),
            sample: 0,
            hash: String::new(),
            epochs: 0,
            on_reply,
        }
    }

    fn post(&mut self, req: &TrainRequest) {
        let text = format!("{PREFIX}{}", serde_json::to_string(req).unwrap_or_default());
        match (&self.worker, self.ready) {
            (Some(w), true) => {
                self.sent_at = now();
                let _ = w.post_message(&text.into());
            }
            _ => self.queued.push(text),
        }
    }

    /// The worker said it is ready: send what waited.
    fn flush(&mut self) {
        self.ready = true;
        if let Some(w) = &self.worker {
            for m in self.queued.drain(..) {
                self.sent_at = now();
                let _ = w.post_message(&m.into());
            }
        }
    }

    /// Model A's trained weights to the page's forward values and heat maps, if the page still
    /// shows A.
    fn to_page(&self, layers: &[Vec<WireArray>]) {
        let hash = gloo::utils::window().location().hash().unwrap_or_default();
        if hash != self.hash {
            return;
        }
        let values: Vec<f32> = layers
            .iter()
            .flatten()
            .flat_map(|a| a.data.iter().copied())
            .collect();
        let n = self.epochs;
        let label = format!("model A, {n} epoch{}", if n == 1 { "" } else { "s" });
        let f = web_sys::js_sys::Function::new_with_args("v,l", TO_PAGE);
        let v = web_sys::js_sys::Float32Array::from(values.as_slice());
        let _ = f.call2(&JsValue::NULL, &v, &label.into());
    }

    /// Ask for the weights of every run that trains.
    fn ask_weights(&mut self) {
        let ok = self.ok.clone();
        for (model, _) in ok.iter().enumerate().filter(|(_, ok)| **ok) {
            self.post(&TrainRequest::Weights { model });
        }
        let sample = self.sample;
        self.post(&TrainRequest::Predict { sample });
    }

    /// A reply came: step on while running.
    fn reply(&mut self, r: &TrainReply) {
        if let TrainReply::Status { runs, .. } = r {
            self.ok = runs.iter().map(|r| r.error.is_none()).collect();
            self.epochs = runs.first().map_or(0, |r| r.epochs_done);
        }
        if let TrainReply::Weights { model: 0, layers } = r {
            self.to_page(layers);
        }
        match r {
            TrainReply::Status { runs, .. } if self.running => {
                if runs.iter().all(|r| r.finished) {
                    self.running = false;
                    self.ask_weights();
                } else {
                    let took = (now() - self.sent_at).max(1.0);
                    let scaled = (self.batches as f64 * STEP_MS / took).clamp(1.0, 4096.0);
                    self.batches = f64::midpoint(self.batches as f64, scaled).ceil() as usize;
                    self.post(&TrainRequest::Step {
                        batches: self.batches,
                    });
                }
            }
            TrainReply::Failed(_) => self.running = false,
            TrainReply::Status { .. }
            | TrainReply::Weights { .. }
            | TrainReply::Prediction { .. } => {}
        }
    }
}

fn start_worker(ctl: &Rc<RefCell<Ctl>>) {
    if ctl.borrow().worker.is_some() {
        return;
    }
    let meta = gloo::utils::document()
        .query_selector("meta[name=flatland-tools]")
        .ok()
        .flatten()
        .and_then(|m| m.get_attribute("content"));
    let Ok(worker) = Worker::new(crate::app::share::tools_loader(meta.as_deref())) else {
        let cb = ctl.borrow().on_reply.clone();
        cb.emit(TrainReply::Failed(
            "the training worker could not be started".into(),
        ));
        return;
    };
    let c = ctl.clone();
    let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |e: MessageEvent| {
        let text = e.data().as_string().unwrap_or_default();
        if text == crate::app::tools_protocol::READY {
            c.borrow_mut().flush();
            return;
        }
        let reply = serde_json::from_str::<TrainReply>(&text).unwrap_or_else(|e| {
            TrainReply::Failed(format!(
                "the training worker sent a reply that could not be read: {e}"
            ))
        });
        c.borrow_mut().reply(&reply);
        let cb = c.borrow().on_reply.clone();
        cb.emit(reply);
    });
    worker.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    // The handler lives as long as the worker, which lives as long as the page.
    on_message.forget();
    ctl.borrow_mut().worker = Some(worker);
}

/// A `data:` link to the weights as an `.npz` file (`get_weights()` order).
fn weights_href(layers: &[Vec<WireArray>]) -> Option<String> {
    use base64::Engine as _;
    let w = crate::app::train_protocol::to_weights(layers).ok()?;
    let bytes = crate::app::train_files::weights_npz(&w).ok()?;
    Some(format!(
        "data:application/octet-stream;base64,{}",
        base64::engine::general_purpose::STANDARD.encode(bytes)
    ))
}

/// The panel's settings, as typed.
#[derive(Debug, Clone, PartialEq)]
struct Form {
    dataset: String,
    samples: String,
    val_pct: String,
    epochs: String,
    batch: String,
    optimizer: String,
    lr: String,
    seed: String,
}

impl Default for Form {
    fn default() -> Self {
        Form {
            dataset: "positions".into(),
            samples: "1000".into(),
            val_pct: "20".into(),
            epochs: "20".into(),
            batch: "32".into(),
            optimizer: "adam".into(),
            lr: "0.01".into(),
            seed: "1".into(),
        }
    }
}

/// What a chosen file holds.
#[derive(Debug, Clone, PartialEq)]
enum FileData {
    /// CSV text (the worker parses it again).
    Text(Rc<str>),
    /// A `.npy` table, column by column.
    Columns(Rc<Vec<Vec<f32>>>),
    /// An `.npz` with arrays `x` and `y`.
    Arrays(Rc<(WireArray, WireArray)>),
}

/// A file the learner chose, and (for a table) which column is y.
#[derive(Debug, Clone, PartialEq)]
struct CsvFile {
    name: String,
    source: FileData,
    /// Column names of a table (empty for arrays).
    header: Vec<String>,
    y_col: usize,
    classification: bool,
}

fn whole(text: &str, what: &str, lo: usize, hi: usize) -> Result<usize, String> {
    match text.trim().parse::<usize>() {
        Ok(v) if (lo..=hi).contains(&v) => Ok(v),
        _ => Err(format!("{what} must be a whole number from {lo} to {hi}")),
    }
}

fn request(form: &Form, pair: &Pair, csv: Option<&CsvFile>) -> Result<TrainRequest, String> {
    let val_pct = whole(&form.val_pct, "Validation %", 0, 90)?;
    let lr = match form.lr.trim() {
        "" => None,
        t => Some(
            t.parse::<f32>()
                .ok()
                .filter(|v| v.is_finite() && *v > 0.0)
                .ok_or("the learning rate must be a number above 0, like 0.01")?,
        ),
    };
    let data = match (form.dataset.as_str(), csv) {
        ("file", Some(f)) => {
            let x_cols = (0..f.header.len()).filter(|&i| i != f.y_col).collect();
            let (name, y_col, classification) = (f.name.clone(), f.y_col, f.classification);
            match &f.source {
                FileData::Text(text) => DataSource::Csv {
                    name,
                    text: text.to_string(),
                    x_cols,
                    y_col,
                    classification,
                },
                FileData::Columns(columns) => DataSource::Columns {
                    name,
                    columns: columns.to_vec(),
                    x_cols,
                    y_col,
                    classification,
                },
                FileData::Arrays(xy) => DataSource::Arrays {
                    name,
                    x: xy.0.clone(),
                    y: xy.1.clone(),
                },
            }
        }
        ("file", None) => return Err("choose a file first".into()),
        (id, _) => DataSource::Builtin {
            id: id.to_string(),
            samples: whole(&form.samples, "Samples", 10, 20_000)?,
        },
    };
    Ok(TrainRequest::Start {
        models: vec![pair.a.clone(), pair.b.clone()],
        data,
        settings: Settings {
            epochs: whole(&form.epochs, "Epochs", 1, 1000)?,
            batch_size: whole(&form.batch, "Batch size", 1, 4096)?,
            optimizer: form.optimizer.clone(),
            lr,
            seed: whole(&form.seed, "Seed", 0, 1_000_000_000)? as u64,
            val_fraction: val_pct as f64 / 100.0,
        },
    })
}

/// Last value of a history key, as the panel prints it.
fn last(r: &RunStatus, key: &str) -> Option<f64> {
    r.history.get(key).and_then(|v| v.last().copied())
}

fn fmt(v: Option<f64>) -> String {
    v.map_or_else(|| "–".into(), |v| format!("{v:.4}"))
}

fn pct(v: Option<f64>) -> String {
    v.map_or_else(|| "–".into(), |v| format!("{:.1} %", v * 100.0))
}

/// One chart: a polyline per model and split, epochs across.
fn chart(runs: &[RunStatus], key: &str, title: &str, epochs: usize, unit_range: bool) -> Html {
    let (w, h, pad) = (320.0, 120.0, 4.0);
    let series: Vec<(usize, bool, &Vec<f64>)> = runs
        .iter()
        .enumerate()
        .flat_map(|(i, r)| {
            [(false, key.to_string()), (true, format!("val_{key}"))]
                .into_iter()
                .filter_map(move |(val, k)| r.history.get(&k).map(|v| (i, val, v)))
        })
        .collect();
    if series.is_empty() {
        return html! {};
    }
    let top = if unit_range {
        1.0
    } else {
        series
            .iter()
            .flat_map(|s| s.2.iter().copied())
            .filter(|v| v.is_finite())
            .fold(0.0f64, f64::max)
            .max(1e-6)
            * 1.05
    };
    let span = epochs.max(2) as f64 - 1.0;
    let x = |e: usize| pad + (w - 2.0 * pad) * e as f64 / span;
    let y = |v: f64| h - pad - (h - 2.0 * pad) * (v / top).clamp(0.0, 1.0);
    let lines = series.iter().map(|(i, val, v)| {
        let mut points = String::new();
        for (e, v) in v.iter().enumerate() {
            let _ = write!(points, "{:.1},{:.1} ", x(e), y(*v));
        }
        let class = format!(
            "tr-line tr-{} {}",
            if *i == 0 { "a" } else { "b" },
            if *val { "tr-val" } else { "" }
        );
        html! { <polyline class={class} points={points} /> }
    });
    html! {
        <figure class="tr-chart">
            <figcaption>{title}<span class="tr-top">{format!("top {}", if unit_range { "100 %".into() } else { format!("{top:.3}") })}</span></figcaption>
            <svg viewBox={format!("0 0 {w} {h}")} role="img" aria-label={title.to_string()}>
                <line class="tr-axis" x1="0" y1={h.to_string()} x2={w.to_string()} y2={h.to_string()} />
                { for lines }
            </svg>
        </figure>
    }
}

/// Up to 8 numbers of an array, rounded.
fn numbers(v: &[f32]) -> String {
    let mut t: Vec<String> = v.iter().take(8).map(|x| format!("{x:.3}")).collect();
    if v.len() > 8 {
        t.push(format!("… ({} values)", v.len()));
    }
    format!("[{}]", t.join(", "))
}

/// "Try a sample": one held-out sample through both trained models.
fn sample_view(p: &TrainReply, ctl: &Rc<RefCell<Ctl>>, running: bool) -> Html {
    let TrainReply::Prediction {
        sample,
        of,
        x,
        y,
        outputs,
    } = p
    else {
        return html! {};
    };
    let go = |to: usize| {
        let ctl = ctl.clone();
        Callback::from(move |_: MouseEvent| {
            let mut c = ctl.borrow_mut();
            c.sample = to;
            c.post(&TrainRequest::Predict { sample: to });
        })
    };
    let argmax = |v: &[f32]| {
        (v.len() > 1).then(|| {
            v.iter()
                .enumerate()
                .fold((0, f32::MIN), |b, (i, &x)| if x > b.1 { (i, x) } else { b })
                .0
        })
    };
    let row = |i: usize, o: &Option<WireArray>| {
        let tag = ["a", "b"][i.min(1)];
        let text = o.as_ref().map_or_else(
            || "does not train".to_string(),
            |w| match argmax(&w.data) {
                Some(c) if w.shape.len() == 1 => format!("{} → class {c}", numbers(&w.data)),
                _ => numbers(&w.data),
            },
        );
        html! { <li><span class={format!("tr-key tr-{tag}")}></span><b>{["A", "B"][i.min(1)]}</b>{" "}<code data-testid={format!("train-predict-{tag}")}>{text}</code></li> }
    };
    html! {
        <div class="tr-sample" data-testid="train-sample">
            <h3 class="tr-sub">{"Try a sample (held out) with the trained weights"}</h3>
            <p class="tr-nav">
                <button type="button" class="btn btn-quiet" aria-label="Previous sample" disabled={running || *sample == 0} onclick={go(sample.saturating_sub(1))}>{"‹"}</button>
                <span>{format!("sample {} of {of}", sample + 1)}</span>
                <button type="button" class="btn btn-quiet" aria-label="Next sample" disabled={running || sample + 1 >= *of} onclick={go(sample + 1)}>{"›"}</button>
            </p>
            <p class="tr-hint">{"x = "}<code>{numbers(&x.data)}</code>{" · y = "}<code data-testid="train-predict-y">{numbers(y)}</code></p>
            <ul class="tr-preds">{ for outputs.iter().enumerate().take(2).map(|(i, o)| row(i, o)) }</ul>
        </div>
    }
}

/// The two models' numbers and the chart.
fn results(status: &TrainReply, epochs: usize, labels: [&str; 2]) -> Html {
    let TrainReply::Status {
        dataset,
        train_samples,
        val_samples,
        runs,
    } = status
    else {
        return html! {};
    };
    let done = runs
        .iter()
        .filter(|r| r.error.is_none())
        .map(|r| r.epochs_done)
        .min()
        .unwrap_or(0);
    let progress = runs.iter().find(|r| r.error.is_none()).map_or(0.0, |r| {
        let total = (epochs.max(r.epochs_done) * r.batches_per_epoch).max(1);
        (r.epochs_done * r.batches_per_epoch + r.batch) as f64 / total as f64
    });
    let row = |i: usize, r: &RunStatus| {
        let tag = if i == 0 { "a" } else { "b" };
        html! {
            <tr class={format!("tr-row-{tag}")}>
                <th scope="row"><span class={format!("tr-key tr-{tag}")}></span>{labels[i].to_string()}</th>
                if let Some(e) = &r.error {
                    <td colspan="4" class="tr-error" data-testid={format!("train-error-{tag}")}>{e.clone()}</td>
                } else {
                    <td data-testid={format!("train-loss-{tag}")}>{fmt(last(r, "loss"))}</td>
                    <td data-testid={format!("train-val-loss-{tag}")}>{fmt(last(r, "val_loss"))}</td>
                    <td data-testid={format!("train-acc-{tag}")}>{pct(last(r, "accuracy"))}</td>
                    <td data-testid={format!("train-val-acc-{tag}")}>{pct(last(r, "val_accuracy"))}</td>
                }
            </tr>
        }
    };
    let notes: Vec<String> = runs
        .iter()
        .zip(["A", "B"])
        .filter_map(|(r, n)| r.note.as_ref().map(|t| format!("{n}: {t}")))
        .collect();
    let diverged: Vec<String> = runs
        .iter()
        .zip(["A", "B"])
        .filter_map(|(r, n)| r.diverged.map(|e| format!("{n} diverged in epoch {e} (its loss stopped being finite): lower the learning rate")))
        .collect();
    html! {
        <div class="tr-results">
            <p class="tr-data">{format!("{dataset}: {train_samples} training samples, {val_samples} for validation")}</p>
            <div class="tr-progress" role="progressbar" aria-valuemin="0" aria-valuemax="100"
                aria-valuenow={format!("{:.0}", progress * 100.0)} data-testid="train-progress">
                <span style={format!("width:{:.1}%", progress * 100.0)}></span>
            </div>
            <p class="tr-epoch">{"Epochs finished: "}<b data-testid="train-epoch">{done}</b>{format!(" of {}", epochs.max(done))}
                if let Some(r) = runs.iter().find(|r| r.error.is_none() && r.batch > 0) {
                    {format!(" · epoch {}: batch ", r.epochs_done + 1)}<b data-testid="train-batch-done">{r.batch}</b>{format!(" of {}", r.batches_per_epoch)}
                }
            </p>
            <table class="tr-table">
                <thead><tr><th></th><th>{"loss"}</th><th>{"val loss"}</th><th>{"accuracy"}</th><th>{"val accuracy"}</th></tr></thead>
                <tbody>{ for runs.iter().enumerate().take(2).map(|(i, r)| row(i, r)) }</tbody>
            </table>
            <div class="tr-charts" data-testid="train-chart">
                { chart(runs, "loss", "Loss per epoch", epochs.max(done), false) }
                { chart(runs, "accuracy", "Accuracy per epoch", epochs.max(done), true) }
                <p class="tr-legend"><span class="tr-key tr-a"></span>{"A "}<span class="tr-key tr-b"></span>{"B · solid: training, dashed: validation"}</p>
            </div>
            { for notes.iter().chain(&diverged).map(|n| html! { <p class="tr-note">{n.clone()}</p> }) }
        </div>
    }
}

/// A labelled text field of the form.
fn text_field(label: &str, testid: &str, value: &str, on: Callback<String>) -> Html {
    let oninput = Callback::from(move |e: InputEvent| {
        if let Some(i) = e.target_dyn_into::<HtmlInputElement>() {
            on.emit(i.value());
        }
    });
    html! {
        <label class="tr-field">{label.to_string()}
            <input type="text" inputmode="decimal" data-testid={testid.to_string()} value={value.to_string()} {oninput} />
        </label>
    }
}

fn select_value(e: &Event) -> Option<String> {
    e.target_dyn_into::<HtmlSelectElement>().map(|s| s.value())
}

/// Read a chosen CSV file: its columns, y the last one.
fn read_csv(name: String, text: String) -> Result<CsvFile, String> {
    let csv = data::parse_csv(&text).map_err(|e| format!("{name}: {e}"))?;
    let mut f = table(name, csv.header, csv.columns)?;
    f.source = FileData::Text(text.into());
    Ok(f)
}

/// Read a chosen `.npy` (a table: rows × columns) or `.npz` (arrays `x` and `y`, or one table).
fn read_numpy(name: String, bytes: &[u8]) -> Result<CsvFile, String> {
    use crate::app::train_files::{read_npy, read_npz};
    let wire = |a: &ndarray::ArrayD<f32>| WireArray {
        shape: a.shape().to_vec(),
        data: a.iter().copied().collect(),
    };
    let one = if name.to_ascii_lowercase().ends_with(".npz") {
        let arrays = read_npz(bytes).map_err(|e| format!("{name}: {e}"))?;
        let get = |k: &str| arrays.iter().find(|p| p.0 == k).map(|p| &p.1);
        if let (Some(x), Some(y)) = (get("x"), get("y")) {
            return Ok(CsvFile {
                header: Vec::new(),
                y_col: 0,
                classification: false,
                source: FileData::Arrays(Rc::new((wire(x), wire(y)))),
                name,
            });
        }
        match &arrays[..] {
            [(_, a)] => a.clone(),
            _ => {
                return Err(format!(
                    "{name}: an .npz needs arrays named x and y (np.savez(path, x=x, y=y)), or one table"
                ))
            }
        }
    } else {
        read_npy(bytes).map_err(|e| format!("{name}: {e}"))?
    };
    let &[_, k] = one.shape() else {
        return Err(format!(
            "{name}: a single array is read as a table of rows × columns, not shape {:?}; for x and y arrays use np.savez(path, x=x, y=y)",
            one.shape()
        ));
    };
    let columns: Vec<Vec<f32>> = (0..k)
        .map(|c| {
            one.index_axis(ndarray::Axis(1), c)
                .iter()
                .copied()
                .collect()
        })
        .collect();
    let header = (1..=k).map(|c| format!("column {c}")).collect();
    let mut f = table(name, header, columns.clone())?;
    f.source = FileData::Columns(Rc::new(columns));
    Ok(f)
}

/// A table's file: y the last column, class labels when it holds only whole numbers.
fn table(name: String, header: Vec<String>, columns: Vec<Vec<f32>>) -> Result<CsvFile, String> {
    let csv = data::Csv { header, columns };
    if csv.header.len() < 2 {
        return Err(format!(
            "{name}: a CSV needs at least two columns (x and y)"
        ));
    }
    let y_col = csv.header.len() - 1;
    let classification = csv.columns.get(y_col).is_some_and(|c| {
        c.iter()
            .all(|v| v.fract() == 0.0 && *v >= 0.0 && *v <= 1000.0)
    });
    Ok(CsvFile {
        name,
        source: FileData::Text(Rc::from("")),
        header: csv.header,
        y_col,
        classification,
    })
}

/// The data and settings part of the panel.
fn form_view(
    form: &UseStateHandle<Form>,
    csv: &UseStateHandle<Option<CsvFile>>,
    message: &UseStateHandle<Option<String>>,
    holder: &Rc<RefCell<Option<gloo::file::callbacks::FileReader>>>,
    input: &[usize],
) -> Html {
    let set = |f: fn(&mut Form, String)| {
        let form = form.clone();
        Callback::from(move |v: String| {
            let mut next = (*form).clone();
            f(&mut next, v);
            form.set(next);
        })
    };
    let on_file = {
        let (csv, form, message, holder) =
            (csv.clone(), form.clone(), message.clone(), holder.clone());
        Callback::from(move |e: Event| {
            let Some(file) = e
                .target_dyn_into::<HtmlInputElement>()
                .and_then(|i| i.files())
                .and_then(|f| f.get(0))
            else {
                return;
            };
            if file.size() > 20_000_000.0 {
                message.set(Some(format!(
                    "{} is larger than 20 MB: use fewer rows",
                    file.name()
                )));
                return;
            }
            let name = file.name();
            let (csv, form, message, keep) =
                (csv.clone(), form.clone(), message.clone(), holder.clone());
            let numpy = [".npy", ".npz"]
                .iter()
                .any(|e| name.to_ascii_lowercase().ends_with(e));
            let reader =
                gloo::file::callbacks::read_as_bytes(&gloo::file::File::from(file), move |res| {
                    match res
                        .map_err(|e| format!("could not read {name} ({e})"))
                        .and_then(|b| {
                            if numpy {
                                read_numpy(name, &b)
                            } else {
                                String::from_utf8(b)
                                    .map_err(|_| format!("{name} is not a text (CSV) file"))
                                    .and_then(|t| read_csv(name, t))
                            }
                        }) {
                        Ok(f) => {
                            csv.set(Some(f));
                            let mut next = (*form).clone();
                            next.dataset = "file".into();
                            form.set(next);
                            message.set(None);
                        }
                        Err(e) => message.set(Some(e)),
                    }
                    keep.borrow_mut().take();
                });
            *holder.borrow_mut() = Some(reader);
        })
    };
    let on_y = {
        let csv = csv.clone();
        Callback::from(move |e: Event| {
            if let (Some(v), Some(f)) = (
                select_value(&e).and_then(|v| v.parse::<usize>().ok()),
                &*csv,
            ) {
                let mut next = f.clone();
                next.y_col = v;
                csv.set(Some(next));
            }
        })
    };
    let on_kind = {
        let csv = csv.clone();
        Callback::from(move |e: Event| {
            if let (Some(v), Some(f)) = (select_value(&e), &*csv) {
                let mut next = f.clone();
                next.classification = v == "classes";
                csv.set(Some(next));
            }
        })
    };
    let on_dataset = set(|f, v| f.dataset = v);
    let on_dataset = Callback::from(move |e: Event| {
        if let Some(v) = select_value(&e) {
            on_dataset.emit(v);
        }
    });
    let on_optimizer = set(|f, v| f.optimizer = v);
    let on_optimizer = Callback::from(move |e: Event| {
        if let Some(v) = select_value(&e) {
            on_optimizer.emit(v);
        }
    });
    let descr = BUILTIN.iter().find(|d| d.0 == form.dataset).map(|d| d.2);
    html! {
        <>
        <h3 class="tr-sub">{"Data and settings"}</h3>
        <div class="tr-form">
                <label class="tr-field tr-wide">{"Data"}
                    <select data-testid="train-dataset" onchange={on_dataset}>
                        { for BUILTIN.iter().map(|(id, label, _)| html! { <option value={id.to_string()} selected={form.dataset == *id}>{label.to_string()}</option> }) }
                        if let Some(f) = &**csv { <option value="file" selected={form.dataset == "file"}>{format!("Your file: {}", f.name)}</option> }
                    </select>
                </label>
                if let Some(d) = descr { <p class="tr-hint tr-wide">{d}</p> }
                <label class="tr-field tr-wide">{"Your own data: CSV or .npy (one row per sample), or .npz with arrays x and y"}
                    <input type="file" accept=".csv,.tsv,.txt,.npy,.npz,text/csv" data-testid="train-file" onchange={on_file} />
                </label>
                if let (Some(CsvFile { source: FileData::Arrays(xy), .. }), true) = (&**csv, form.dataset == "file") {
                    <p class="tr-hint tr-wide" data-testid="train-arrays">{format!("x {:?}, y {:?} (A's input is {:?})", xy.0.shape, xy.1.shape, input)}</p>
                } else if let (Some(f), true) = (&**csv, form.dataset == "file") {
                    <label class="tr-field">{"y column"}
                        <select data-testid="train-y-col" onchange={on_y}>
                            { for f.header.iter().enumerate().map(|(i, h)| html! { <option value={i.to_string()} selected={i == f.y_col}>{h.clone()}</option> }) }
                        </select>
                    </label>
                    <label class="tr-field">{"y is"}
                        <select data-testid="train-y-kind" onchange={on_kind}>
                            <option value="classes" selected={f.classification}>{"class labels"}</option>
                            <option value="numbers" selected={!f.classification}>{"numbers"}</option>
                        </select>
                    </label>
                    <p class="tr-hint tr-wide">{format!("x: the other {} columns, laid out as A's input {:?}", f.header.len() - 1, input)}</p>
                } else {
                    { text_field("Samples", "train-samples", &form.samples, set(|f, v| f.samples = v)) }
                }
                { text_field("Validation %", "train-val", &form.val_pct, set(|f, v| f.val_pct = v)) }
                { text_field("Epochs", "train-epochs", &form.epochs, set(|f, v| f.epochs = v)) }
                { text_field("Batch size", "train-batch", &form.batch, set(|f, v| f.batch = v)) }
                <label class="tr-field">{"Optimizer"}
                    <select data-testid="train-optimizer" onchange={on_optimizer}>
                        { for ["adam", "sgd", "rmsprop", "adamw"].iter().map(|o| html! { <option value={o.to_string()} selected={form.optimizer == *o}>{o.to_string()}</option> }) }
                    </select>
                </label>
                { text_field("Learning rate", "train-lr", &form.lr, set(|f, v| f.lr = v)) }
                { text_field("Seed", "train-seed", &form.seed, set(|f, v| f.seed = v)) }
            </div>
        </>
    }
}

/// The seed question's "apply both, choose best": seed 000's pair (3,601 vs 9,301 params)
/// on a small noisy regression, where the larger model learns the noise.
fn apply_both(form: &UseStateHandle<Form>, pair: &UseStateHandle<Pair>) -> Callback<MouseEvent> {
    let (form, pair) = (form.clone(), pair.clone());
    Callback::from(move |_: MouseEvent| {
        if let Some(p) = crate::codec::presets::preset("seed000") {
            let _ = gloo::utils::window()
                .location()
                .set_hash(&crate::app::share::preset_fragment(&p));
        }
        form.set(Form {
            dataset: "noisy_sum".into(),
            samples: "300".into(),
            val_pct: "40".into(),
            epochs: "60".into(),
            batch: "32".into(),
            optimizer: "adam".into(),
            lr: "0.001".into(),
            seed: "1".into(),
        });
        pair.set(read_pair());
    })
}

/// Resume: step on, first adding `epochs` more when the run had finished.
fn resume(
    ctl: &Rc<RefCell<Ctl>>,
    running: &UseStateHandle<bool>,
    status: &UseStateHandle<Option<Rc<TrainReply>>>,
    epochs: usize,
) -> Callback<MouseEvent> {
    let (ctl, running, status) = (ctl.clone(), running.clone(), status.clone());
    Callback::from(move |_: MouseEvent| {
        let Some(s) = &*status else { return };
        let TrainReply::Status { runs, .. } = &**s else {
            return;
        };
        let mut c = ctl.borrow_mut();
        if runs.iter().all(|r| r.finished) {
            let done = runs.iter().map(|r| r.epochs_done).max().unwrap_or(0);
            c.post(&TrainRequest::Extend {
                epochs: done + epochs.max(1),
            });
        }
        c.running = true;
        let batches = c.batches;
        c.post(&TrainRequest::Step { batches });
        running.set(true);
    })
}

/// The digits pair: A reads each of the 8 rows with one per-position Dense and averages the
/// rows (so it cannot tell which row is where); B (its default partner) flattens instead.
fn digits_rows_model() -> crate::engine::Model {
    use crate::engine::{Layer, LayerSpec};
    use serde_json::json;
    let layer = |name: &str, class: &str, config: Value| {
        Layer::new(name, LayerSpec::from_config(class, &config))
    };
    crate::engine::Model {
        name: "digits_rows".into(),
        input_shape: vec![8, 8],
        layers: vec![
            layer("dense", "Dense", json!({"units": 32, "activation": "relu"})),
            layer(
                "global_average_pooling1d",
                "GlobalAveragePooling1D",
                json!({}),
            ),
            layer(
                "dense_1",
                "Dense",
                json!({"units": 10, "activation": "softmax"}),
            ),
        ],
    }
}

/// Open the digits pair on the page and pick the digits.
fn digits_pair(form: &UseStateHandle<Form>, pair: &UseStateHandle<Pair>) -> Callback<MouseEvent> {
    let (form, pair) = (form.clone(), pair.clone());
    Callback::from(move |_: MouseEvent| {
        let payload = crate::app::share::payload_of(&digits_rows_model(), None, None);
        let _ = gloo::utils::window()
            .location()
            .set_hash(&crate::codec::link::encode(&payload));
        form.set(Form {
            dataset: "digits".into(),
            samples: "1797".into(),
            val_pct: "20".into(),
            epochs: "15".into(),
            batch: "32".into(),
            optimizer: "adam".into(),
            lr: "0.01".into(),
            seed: "1".into(),
        });
        pair.set(read_pair());
    })
}

#[function_component(TrainPanel)]
fn train_panel(props: &TrainProps) -> Html {
    let open = use_state_eq(|| props.open);
    let pair = use_state(read_pair);
    // Re-read the page's models when the learner comes to the panel.
    let refresh = {
        let pair = pair.clone();
        Callback::from(move |_: PointerEvent| pair.set(read_pair()))
    };
    let form = use_state(Form::default);
    let csv = use_state(|| None::<CsvFile>);
    let status = use_state(|| None::<Rc<TrainReply>>);
    let message = use_state(|| None::<String>);
    let running = use_state_eq(|| false);
    let trained_for = use_state(|| None::<Value>);
    let file_reader = use_mut_ref(|| None::<gloo::file::callbacks::FileReader>);
    let prediction = use_state(|| None::<Rc<TrainReply>>);
    let href_a = use_state(|| None::<String>);
    let href_b = use_state(|| None::<String>);
    let ctl = {
        let (href_a, href_b, prediction) = (href_a.clone(), href_b.clone(), prediction.clone());
        let status = status.clone();
        let message = message.clone();
        let running = running.clone();
        use_mut_ref(move || {
            Ctl::new(Callback::from(move |r: TrainReply| match r {
                p @ TrainReply::Prediction { .. } => prediction.set(Some(Rc::new(p))),
                TrainReply::Weights { model, layers } => {
                    let href = weights_href(&layers);
                    if model == 0 {
                        href_a.set(href);
                    } else {
                        href_b.set(href);
                    }
                }
                TrainReply::Failed(e) => {
                    running.set(false);
                    message.set(Some(e));
                }
                s @ TrainReply::Status { .. } => {
                    if let TrainReply::Status { runs, .. } = &s {
                        if runs.iter().all(|r| r.finished) {
                            running.set(false);
                        }
                    }
                    status.set(Some(Rc::new(s)));
                }
            }))
        })
    };
    // The page's models and open requests.
    {
        let pair = pair.clone();
        let open = open.clone();
        use_effect_with((), move |()| {
            let w = gloo::utils::window();
            let show = gloo::events::EventListener::new(&w, "flatland-train-open", move |_| {
                pair.set(read_pair());
                open.set(true);
            });
            move || drop(show)
        });
    }
    let on_start = {
        let (ctl, form, pair, csv, message, running, trained_for) = (
            ctl.clone(),
            form.clone(),
            pair.clone(),
            csv.clone(),
            message.clone(),
            running.clone(),
            trained_for.clone(),
        );
        Callback::from(move |_: MouseEvent| {
            // The models on the page now.
            let p = read_pair();
            pair.set(p.clone());
            match request(&form, &p, csv.as_ref()) {
                Ok(req) => {
                    message.set(None);
                    trained_for.set(Some(p.a.clone()));
                    start_worker(&ctl);
                    let mut c = ctl.borrow_mut();
                    c.running = true;
                    c.batches = 1;
                    c.sample = 0;
                    c.hash = gloo::utils::window().location().hash().unwrap_or_default();
                    c.post(&req);
                    running.set(true);
                }
                Err(e) => message.set(Some(e)),
            }
        })
    };
    let on_stop = {
        let (ctl, running) = (ctl.clone(), running.clone());
        Callback::from(move |_: MouseEvent| {
            let mut c = ctl.borrow_mut();
            if c.running {
                c.running = false;
                c.ask_weights();
            }
            running.set(false);
        })
    };
    let epochs = form.epochs.trim().parse::<usize>().unwrap_or(0);
    let on_resume = resume(&ctl, &running, &status, epochs);
    let on_apply_both = apply_both(&form, &pair);
    let on_digits = digits_pair(&form, &pair);
    let close = {
        let open = open.clone();
        Callback::from(move |_: MouseEvent| open.set(false))
    };
    if !*open {
        return html! {};
    }
    let b_label = pair.b_label.clone();
    let stale = trained_for.as_ref().is_some_and(|t| *t != pair.a);
    html! {
        <section class="tr-panel" role="dialog" aria-label="Train A and B" data-testid="train-panel" onpointerenter={refresh}>
            <header class="tr-head">
                <h2>{"Train A and B"}</h2>
                <button type="button" class="btn btn-quiet" aria-label="Close the Train panel" data-testid="train-close" onclick={close}>{"×"}</button>
            </header>
            <p class="tr-lead">
                <button type="button" class="btn btn-quiet tr-preset" data-testid="train-apply-both" onclick={on_apply_both}
                    title="Opens seed 000's two models (3,601 and 9,301 parameters) on a small noisy task">{"Apply both, choose best"}</button>
                <button type="button" class="btn btn-quiet tr-preset" data-testid="train-digits-pair" onclick={on_digits}
                    title="Handwritten digits: a Dense per row then averaging, against Flatten">{"Digits: rows or Flatten?"}</button>{"A: the model on the page. "}{b_label.clone()}{". Same data, seed and settings; pick the one whose validation curve is best."}</p>
            <div class="tr-actions">
                <button type="button" class="btn btn-primary" data-testid="train-start" onclick={on_start} disabled={*running}>{"Start"}</button>
                <button type="button" class="btn" data-testid="train-stop" onclick={on_stop} disabled={!*running}>{"Stop"}</button>
                <button type="button" class="btn" data-testid="train-resume" onclick={on_resume} disabled={*running || status.is_none()}>{"Resume"}</button>
            </div>
            if let Some(m) = &*message { <p class="tr-error" role="alert" data-testid="train-message">{m.clone()}</p> }
            if stale { <p class="tr-note">{"The model on the page changed since this run: Start again to train it."}</p> }
            if let Some(s) = &*status { { results(s, epochs, ["A", "B"]) } }
            if let Some(p) = &*prediction { { sample_view(p, &ctl, *running) } }
            if href_a.is_some() || href_b.is_some() {
                <p class="tr-files">
                    if let Some(h) = &*href_a { <a class="btn btn-quiet" data-testid="train-download-a" href={h.clone()} download="model_a_weights.npz">{"A's weights (.npz)"}</a> }
                    if let Some(h) = &*href_b { <a class="btn btn-quiet" data-testid="train-download-b" href={h.clone()} download="model_b_weights.npz">{"B's weights (.npz)"}</a> }
                    <span class="tr-hint">{"In Keras, on the model the Code panel exports: "}<code>{"w = np.load(\"model_a_weights.npz\"); model.set_weights([w[f\"arr_{i}\"] for i in range(len(w.files))])"}</code></span>
                </p>
            }
            { form_view(&form, &csv, &message, &file_reader, &pair.input) }
        </section>
    }
}
