//! Teaching visuals: Dense per position vs after Flatten, A/B compare, forward values,
//! "why this shape", and the convolution/pooling window view.
//!
//! Every number shown comes from the engine: shapes and parameters from [`Analysis`], the
//! Dense and window arithmetic from [`crate::engine::teach`], explanations from
//! [`crate::engine::model::explain`], values from [`crate::engine::forward`].

mod compare;
mod dense;
pub mod fmt;
pub mod heat;
pub mod stepper;
mod why;
mod window;

use std::cell::RefCell;
use std::rc::Rc;

use crate::app::frame::AfterFrame;
use ndarray::{ArrayD, Axis};
use yew::prelude::*;

use crate::app::state::{Action, CompareB};
use crate::engine::forward::{forward, init_weights, Limits, Weights};
use crate::engine::teach::{self, thousands};
use crate::engine::{Analysis, LayerSpec, Model, Status};

use compare::CompareView;
use dense::DenseDiagram;
use fmt::Hue;
use heat::HeatMap;
use why::WhyPanel;
use window::WindowView;

#[derive(Properties, PartialEq, Clone)]
pub struct VisualsProps {
    /// The current model (stack A).
    pub model: Rc<Model>,
    /// `analyze(&model)`.
    pub analysis: Rc<Analysis>,
    /// Selected layer index, if any.
    pub selected: Option<usize>,
    /// Ask the app to select a layer.
    #[prop_or_default]
    pub on_select: Callback<usize>,
    /// The compare view's B (`None`: a copy of A), from [`crate::app::state::State`].
    #[prop_or_default]
    pub compare: Option<CompareB>,
    /// The compare view's actions (make B, B = A, open a pair).
    #[prop_or_default]
    pub dispatch: Callback<Action>,
    /// An exercise hides parameter counts: every count, and every figure that gives one
    /// away (formulas, multiply-adds, the A/B totals), is left out.
    #[prop_or_default]
    pub hide_params: bool,
}

/// The example input fed to the forward pass (one sample, no batch axis).
#[derive(Clone, PartialEq, Debug)]
pub enum Example {
    /// Nested-list JSON typed by the user (or the counting default).
    Text(String),
    /// Seeded random values in [−1, 1).
    Random(u64),
}

/// The default example: counting `1, 2, …` for small inputs, seeded random otherwise.
pub fn default_example(dims: &[usize]) -> Example {
    match teach::counting_example(dims) {
        Some(a) => Example::Text(teach::to_nested_text(&a)),
        None => Example::Random(1),
    }
}

/// Weights trained in the Train panel (the tools module), flattened in `get_weights()`
/// order, for the model they were trained on.
#[derive(Debug)]
pub struct Trained {
    pub model: Rc<Model>,
    pub values: Vec<f32>,
    /// What trained them ("model A, 5 epochs").
    pub label: String,
}

/// A [`Trained`] compared by identity.
#[derive(Clone, Debug)]
pub struct TrainedRef(pub Rc<Trained>);

impl PartialEq for TrainedRef {
    fn eq(&self, other: &Self) -> bool {
        Rc::ptr_eq(&self.0, &other.0)
    }
}

/// Trained values and their label.
type TrainedIn = Callback<(Vec<f32>, String)>;

thread_local! {
    static ON_TRAINED: RefCell<Option<TrainedIn>> = const { RefCell::new(None) };
}

/// The Train panel hands over model A's trained weights (the page's model when training
/// started): the forward values and heat maps use them until the model changes or the
/// learner resets the weights.
pub fn set_trained(values: Vec<f32>, label: String) {
    let cb = ON_TRAINED.with(|c| c.borrow().clone());
    if let Some(cb) = cb {
        cb.emit((values, label));
    }
}

/// `w` (seeded, for the shapes) with `values` written over it in order.
fn overwrite(mut w: Weights, values: &[f32]) -> Result<Weights, String> {
    let need: usize = w.iter().flatten().map(ArrayD::len).sum();
    if need != values.len() {
        return Err("the trained weights do not fit this model".into());
    }
    let cells = w.iter_mut().flatten().flat_map(|a| a.iter_mut());
    for (d, v) in cells.zip(values) {
        *d = *v;
    }
    Ok(w)
}

/// One forward pass of the model on the example input with seeded weights.
#[derive(Debug)]
pub struct Run {
    /// Batched input `(1, …)`, or why it could not be read.
    pub input: Result<ArrayD<f32>, String>,
    pub weights: Result<Weights, String>,
    /// Every layer's output (batched), or the engine's error.
    pub outputs: Result<Vec<ArrayD<f32>>, String>,
    /// Still waiting for a deferred computation (large models).
    pub pending: bool,
}

impl Run {
    pub fn compute(model: &Model, analysis: &Analysis, example: &Example, seed: u64) -> Run {
        Run::with(model, analysis, example, seed, None)
    }
    /// [`Run::compute`], with `trained` weights instead of seeded ones when given.
    pub fn with(
        model: &Model,
        analysis: &Analysis,
        example: &Example,
        seed: u64,
        trained: Option<&[f32]>,
    ) -> Run {
        let dims = &model.input_shape;
        let input = match example {
            Example::Text(t) => teach::parse_example(t, dims),
            Example::Random(s) => teach::random_example(dims, *s),
        }
        .map(|a| a.insert_axis(Axis(0)));
        let weights = init_weights(analysis, seed, Limits::default()).map_err(|e| e.to_string());
        let weights = match trained {
            Some(v) => weights.and_then(|w| overwrite(w, v)),
            None => weights,
        };
        let outputs = match (&input, &weights) {
            (Err(e), _) => Err(format!("example input: {e}")),
            (_, Err(e)) => Err(e.clone()),
            (Ok(x), Ok(w)) => {
                forward(model, analysis, w, x.clone(), Limits::default()).map_err(|e| e.to_string())
            }
        };
        Run {
            input,
            weights,
            outputs,
            pending: false,
        }
    }
    /// Input of layer `i` (the example for layer 0).
    pub fn layer_input(&self, i: usize) -> Option<&ArrayD<f32>> {
        if i == 0 {
            self.input.as_ref().ok()
        } else {
            self.outputs.as_ref().ok()?.get(i - 1)
        }
    }
    pub fn layer_output(&self, i: usize) -> Option<&ArrayD<f32>> {
        self.outputs.as_ref().ok()?.get(i)
    }
    pub fn layer_weights(&self, i: usize) -> Option<&[ArrayD<f32>]> {
        self.weights.as_ref().ok()?.get(i).map(Vec::as_slice)
    }
}

fn compute(k: &RunKey) -> Run {
    let trained = k.4.as_ref().map(|t| t.0.values.as_slice());
    Run::with(&k.0, &k.1, &k.2, k.3, trained)
}

/// Models with at most this many multiply-adds per sample run on every render; larger ones
/// run once edits pause, so the stack stays responsive.
const SYNC_MACS: u64 = 20_000_000;
/// Pause before a deferred forward pass, in ms.
const DEFER_MS: u32 = 300;

type RunKey = (Rc<Model>, Rc<Analysis>, Example, u64, Option<TrainedRef>);

/// The forward pass for the current model, input and seed: memoised, and deferred for large
/// models (a pending placeholder is returned until it has run).
#[hook]
fn use_run(key: RunKey) -> Rc<Run> {
    let sync = key.1.macs <= SYNC_MACS;
    let now = use_memo((key.clone(), sync), |(k, sync)| {
        sync.then(|| Rc::new(compute(k)))
    });
    let late = use_state(|| None::<(RunKey, Rc<Run>)>);
    {
        let late = late.clone();
        use_effect_with((key.clone(), sync), move |(k, sync)| {
            let timer = (!*sync).then(|| {
                let k = k.clone();
                gloo::timers::callback::Timeout::new(DEFER_MS, move || {
                    let run = Rc::new(compute(&k));
                    late.set(Some((k, run)));
                })
            });
            move || drop(timer)
        });
    }
    let pending = use_memo((), |()| {
        Rc::new(Run {
            input: Err("computing…".into()),
            weights: Err("computing…".into()),
            outputs: Err("Computing values…".into()),
            pending: true,
        })
    });
    match (*now).clone() {
        Some(run) => run,
        None => late
            .as_ref()
            .filter(|(k, _)| *k == key)
            .map_or_else(|| (*pending).clone(), |(_, r)| r.clone()),
    }
}

/// A shared [`Run`] compared by identity (it is memoised).
#[derive(Clone, Debug)]
pub struct RunRef(pub Rc<Run>);

impl PartialEq for RunRef {
    fn eq(&self, other: &Self) -> bool {
        Rc::ptr_eq(&self.0, &other.0)
    }
}

thread_local! {
    /// Visuals updates scheduled and not yet applied (or cancelled), page-wide.
    static WAITING: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// Whether every scheduled visuals update has been applied: the visuals show the current
/// props (once Yew's render, queued right after, has run). For tests and tools that must
/// wait for the visuals rather than sleep.
pub fn settled() -> bool {
    WAITING.with(|w| w.get() == 0)
}

/// One scheduled update, counted in [`WAITING`] until applied or cancelled.
#[derive(Clone)]
struct Waiting(Rc<std::cell::Cell<bool>>);

impl Waiting {
    fn new() -> Waiting {
        WAITING.with(|w| w.set(w.get() + 1));
        Waiting(Rc::new(std::cell::Cell::new(false)))
    }
    fn done(&self) {
        if !self.0.replace(true) {
            WAITING.with(|w| w.set(w.get().saturating_sub(1)));
        }
    }
}

/// The teaching visuals, one frame behind the stack: an edit first paints the cards,
/// inspector and totals; the visuals follow in a task after that frame (edits made within
/// one frame are applied together). So does the first render: the page's first paint shows
/// the stack without waiting for the visuals.
#[function_component(Visuals)]
pub fn visuals(props: &VisualsProps) -> Html {
    let shown = use_state(|| None::<VisualsProps>);
    // A deferred update is timed from its start to its effects having run (canvases drawn):
    // the `flatland:visuals` performance measure.
    let timing = use_mut_ref(|| false);
    {
        let timing = timing.clone();
        use_effect(move || {
            if std::mem::take(&mut *timing.borrow_mut()) {
                if let Some(perf) = gloo::utils::window().performance() {
                    let _ = perf.mark("flatland:visuals:end");
                    let _ = perf.measure_with_start_mark_and_end_mark(
                        "flatland:visuals",
                        "flatland:visuals:start",
                        "flatland:visuals:end",
                    );
                }
            }
        });
    }
    {
        let shown = shown.clone();
        use_effect_with(props.clone(), move |p| {
            let waiting = Waiting::new();
            let later = (shown.as_ref() != Some(p)).then(|| {
                let p = p.clone();
                let waiting = waiting.clone();
                AfterFrame::new(move || {
                    if let Some(perf) = gloo::utils::window().performance() {
                        let _ = perf.mark("flatland:visuals:start");
                        *timing.borrow_mut() = true;
                    }
                    shown.set(Some(p));
                    waiting.done();
                })
            });
            if later.is_none() {
                waiting.done();
            }
            move || {
                drop(later);
                waiting.done();
            }
        });
    }
    match (*shown).clone() {
        Some(p) => html! { <VisualsNow ..p /> },
        None => {
            html! { <div class="vz vz-loading" aria-busy="true" aria-label="Teaching visuals"></div> }
        }
    }
}

/// The trained weights that apply to `model` (set by [`set_trained`]), and the state to
/// reset them.
#[hook]
fn use_trained(model: &Rc<Model>) -> (Option<TrainedRef>, UseStateHandle<Option<TrainedRef>>) {
    let trained = use_state(|| None::<TrainedRef>);
    let current = use_mut_ref(|| model.clone());
    *current.borrow_mut() = model.clone();
    {
        let trained = trained.clone();
        use_effect_with((), move |()| {
            let cb = Callback::from(move |(values, label): (Vec<f32>, String)| {
                let model = current.borrow().clone();
                trained.set(Some(TrainedRef(Rc::new(Trained {
                    model,
                    values,
                    label,
                }))));
            });
            ON_TRAINED.with(|c| *c.borrow_mut() = Some(cb));
            || ON_TRAINED.with(|c| *c.borrow_mut() = None)
        });
    }
    let on = (*trained).clone().filter(|t| *t.0.model == **model);
    (on, trained)
}

#[function_component(VisualsNow)]
fn visuals_now(props: &VisualsProps) -> Html {
    let model = props.model.clone();
    let analysis = props.analysis.clone();
    let n = model.layers.len();

    // Focus: a layer picked here wins until the app's selection changes.
    let local = use_state_eq(|| None::<usize>);
    {
        let local = local.clone();
        use_effect_with(props.selected, move |_| local.set(None));
    }
    let focus = (*local)
        .or(props.selected)
        .filter(|&i| i < n)
        .or((n > 0).then_some(0));
    let dense_idx = focus
        .filter(|&i| matches!(model.layers[i].spec, LayerSpec::Dense(_)))
        .or_else(|| teach::dense_indices(&model).first().copied());
    let window_idx = focus
        .filter(|&i| teach::has_window(&model.layers[i].spec))
        .or_else(|| model.layers.iter().position(|l| teach::has_window(&l.spec)));
    let pick = {
        let local = local.clone();
        let on_select = props.on_select.clone();
        Callback::from(move |i: usize| {
            local.set(Some(i));
            on_select.emit(i);
        })
    };

    // Forward values: example input and weight seed.
    let example_state = use_state_eq(|| {
        (
            model.input_shape.clone(),
            default_example(&model.input_shape),
        )
    });
    let example = if example_state.0 == model.input_shape {
        example_state.1.clone()
    } else {
        default_example(&model.input_shape)
    };
    let seed = use_state_eq(|| 1u64);
    let trained = use_trained(&model);
    let run = RunRef(use_run((
        model.clone(),
        analysis.clone(),
        example.clone(),
        *seed,
        trained.0.clone(),
    )));
    let set_example = {
        let example_state = example_state.clone();
        let dims = model.input_shape.clone();
        Callback::from(move |e: Example| example_state.set((dims.clone(), e)))
    };

    let dense_story = dense_idx
        .and_then(|i| teach::dense_story(&model, &analysis, i))
        .map(Rc::new);
    let window_story = window_idx
        .and_then(|i| teach::window_story(&model, &analysis, i))
        .map(Rc::new);
    let picker_query = use_state(String::new);
    let layer_names = use_memo(model.clone(), |m| {
        m.layers
            .iter()
            .map(|l| (l.name.clone(), l.spec.class_name().to_string()))
            .collect::<Vec<_>>()
    });
    let dense_choices: Vec<(usize, String)> = teach::dense_indices(&model)
        .into_iter()
        .map(|i| (i, model.layers[i].name.clone()))
        .collect();

    html! {
        <div class="vz" id="visuals" tabindex="-1" aria-label="Teaching visuals">
            { explain_picker(&layer_names, focus, &pick, &picker_query) }
            { match &dense_story {
                Some(story) => html! {
                    <DenseDiagram story={story.clone()} model={model.clone()} run={run.clone()} example={example.clone()} seed={*seed} hide_params={props.hide_params}
                        choices={dense_choices.clone()} on_pick={pick.clone()} />
                },
                None => html! {},
            } }
            <WhyPanel model={model.clone()} analysis={analysis.clone()} index={focus} hide_params={props.hide_params} />
            { match &window_story {
                Some(story) => html! { <WindowView story={story.clone()} run={run.clone()} /> },
                None => html! {},
            } }
            <ForwardValues model={model.clone()} analysis={analysis.clone()} run={run.clone()} example={example.clone()}
                seed={*seed} on_example={set_example} trained={trained.0.map(|t| AttrValue::from(t.0.label.clone()))}
                on_seed={{ let (seed, reset) = (seed.clone(), trained.1.clone()); Callback::from(move |s: u64| { reset.set(None); seed.set(s) }) }}
                focus={focus} />
            if props.hide_params {
                <p class="vz-card vz-note" data-testid="compare-hidden">{"The A/B compare is hidden: it shows parameter counts, which this exercise hides."}</p>
            } else {
                <CompareView model={model.clone()} analysis={analysis.clone()} compare={props.compare.clone()}
                    dispatch={props.dispatch.clone()} />
            }
        </div>
    }
}

#[derive(Properties, PartialEq)]
struct ForwardProps {
    model: Rc<Model>,
    analysis: Rc<Analysis>,
    run: RunRef,
    example: Example,
    seed: u64,
    /// Trained weights in use (their label), instead of the seed's.
    trained: Option<AttrValue>,
    on_example: Callback<Example>,
    /// New seeded weights (also drops trained ones).
    on_seed: Callback<u64>,
    focus: Option<usize>,
}

/// Largest input written into the editor as text.
const TEXT_MAX: u64 = 600;

#[function_component(ForwardValues)]
fn forward_values(p: &ForwardProps) -> Html {
    let run = &p.run.0;
    let dims = &p.model.input_shape;
    let elements = crate::engine::Shape::new(dims.clone())
        .elements()
        .unwrap_or(u64::MAX);
    let text = match &p.example {
        Example::Text(t) => Some(t.clone()),
        Example::Random(_) if elements <= TEXT_MAX => run
            .input
            .as_ref()
            .ok()
            .map(|x| teach::to_nested_text(&x.index_axis(Axis(0), 0).to_owned())),
        Example::Random(_) => None,
    };
    let on_input = {
        let cb = p.on_example.clone();
        Callback::from(move |e: InputEvent| {
            let el: web_sys::HtmlInputElement = e.target_unchecked_into();
            cb.emit(Example::Text(el.value()));
        })
    };
    let random_seed = match &p.example {
        Example::Random(s) => s + 1,
        Example::Text(_) => 1,
    };
    let on_random = {
        let cb = p.on_example.clone();
        Callback::from(move |_| cb.emit(Example::Random(random_seed)))
    };
    let counting = teach::counting_example(dims).map(|a| teach::to_nested_text(&a));
    let on_counting = {
        let cb = p.on_example.clone();
        let counting = counting.clone();
        Callback::from(move |_| {
            if let Some(t) = &counting {
                cb.emit(Example::Text(t.clone()));
            }
        })
    };
    let on_weights = {
        let cb = p.on_seed.clone();
        let s = p.seed;
        Callback::from(move |_| cb.emit(s.wrapping_add(1)))
    };
    let on_reset = {
        let cb = p.on_seed.clone();
        let s = p.seed;
        Callback::from(move |_| cb.emit(s))
    };
    let shape_text = crate::engine::Shape::new(dims.clone()).to_string();
    html! {
        <section class="vz-card vz-forward" aria-labelledby="vz-forward-h">
            <h2 id="vz-forward-h">{"Forward values"}</h2>
            <p class="vz-lead">{"One example goes through every layer (inference mode). Hover or focus a cell to read its value."}</p>
            <div class="vz-forward-controls">
                <label class="vz-input-label" for="vz-example">{format!("Example input, one sample of {shape_text} (nested list)")}</label>
                { match &text {
                    Some(t) => html! {
                        <textarea id="vz-example" data-testid="example-input" class="vz-example" spellcheck="false" rows="3"
                            value={t.clone()} oninput={on_input} />
                    },
                    None => html! {
                        <p id="vz-example" class="vz-note">{match &p.example {
                            Example::Random(s) => format!("{} random values in [−1, 1) (seed {s}): too many to edit as text", thousands(elements)),
                            Example::Text(_) => String::new(),
                        }}</p>
                    },
                } }
                <div class="vz-row">
                    { if counting.is_some() { html! { <button type="button" class="vz-btn" onclick={on_counting}>{"Counting 1, 2, 3…"}</button> } } else { html!{} } }
                    <button type="button" class="vz-btn" data-testid="random-input" onclick={on_random}>{"Random input"}</button>
                    <button type="button" class="vz-btn vz-primary" data-testid="new-weights" onclick={on_weights}>{"New weights"}</button>
                    { match &p.trained {
                        Some(t) => html! { <>
                            <span class="vz-note vz-trained" data-testid="weights-trained">{format!("trained weights: {t}")}</span>
                            <button type="button" class="vz-btn" data-testid="reset-weights" onclick={on_reset}>{"Reset weights"}</button>
                        </> },
                        None => html! { <span class="vz-note">{format!("weights seed {}", p.seed)}</span> },
                    } }
                </div>
            </div>
            { match &run.outputs {
                Err(e) if run.pending => html! { <p class="vz-note" aria-live="polite">{e.clone()}</p> },
                Err(e) => html! { <p class="vz-error" role="alert" data-testid="forward-error">{e.clone()}</p> },
                Ok(outs) => html! {
                    <div class="vz-tensors">
                        { match run.input.as_ref().ok().and_then(teach::first_item_grid) {
                            Some(g) => html! {
                                <figure class="vz-tensor vz-tensor-input" data-testid="input-view">
                                    <figcaption><b>{"input"}</b>{format!(" {shape_text}")}</figcaption>
                                    <HeatMap grid={Rc::new(g)} hue={Hue::Input} label="input" />
                                </figure>
                            },
                            None => html! {},
                        } }
                        { for outs.iter().enumerate().map(|(i, y)| {
                            let report = &p.analysis.layers[i.min(p.analysis.layers.len().saturating_sub(1))];
                            let shape = report.output.as_ref().map(ToString::to_string).unwrap_or_default();
                            let name = p.model.layers.get(i).map(|l| l.name.clone()).unwrap_or_default();
                            let focused = p.focus == Some(i);
                            html! {
                                <figure class={classes!("vz-tensor", focused.then_some("vz-on"))} data-testid="tensor-view">
                                    <figcaption><b>{&name}</b>{format!(" {} → {shape}", report.class_name)}</figcaption>
                                    { match teach::first_item_grid(y) {
                                        Some(g) => html! { <HeatMap grid={Rc::new(g)} hue={Hue::Output} label={format!("{name} output")} /> },
                                        None => html! { <p class="vz-note">{"no values"}</p> },
                                    } }
                                </figure>
                            }
                        }) }
                    </div>
                },
            } }
            { if p.analysis.layers.iter().any(|l| l.status != Status::Ok) {
                html! { <p class="vz-note">{"Values appear once every layer has a valid shape."}</p> }
            } else { html!{} } }
        </section>
    }
}

/// Most layers shown as chips; a longer model gets a search box and a list instead.
const MAX_CHIPS: usize = 8;

/// The layer the visuals explain: one chip per layer for a small model, a searchable list
/// for a larger one (VGG16's 22 chips, or 61, were a wall). `layers` are each layer's name
/// and class; `query` is the search box's text.
fn explain_picker(
    layers: &Rc<Vec<(String, String)>>,
    focus: Option<usize>,
    on_pick: &Callback<usize>,
    query: &UseStateHandle<String>,
) -> Html {
    if layers.len() <= MAX_CHIPS {
        return html! {
            <nav class="vz-focus" aria-label="Layer to explain">
                <span class="vz-focus-label">{"Explain layer:"}</span>
                { for layers.iter().enumerate().map(|(i, (name, class))| {
                    let pick = on_pick.clone();
                    let on = focus == Some(i);
                    html! {
                        <button type="button" class={classes!("vz-chip", on.then_some("vz-on"))} aria-pressed={on.to_string()}
                            onclick={Callback::from(move |_| pick.emit(i))}>
                            <span class="vz-chip-name">{name}</span>
                            <span class="vz-chip-class">{class}</span>
                        </button>
                    }
                }) }
            </nav>
        };
    }
    let q = query.trim().to_ascii_lowercase();
    let hit = |i: usize| {
        let (name, class) = &layers[i];
        q.is_empty()
            || name.to_ascii_lowercase().contains(&q)
            || class.to_ascii_lowercase().contains(&q)
    };
    let matches = (0..layers.len()).filter(|&i| hit(i)).count();
    // The layer explained now stays in the list, so the list shows what is explained.
    let shown: Vec<usize> = (0..layers.len())
        .filter(|&i| hit(i) || focus == Some(i))
        .collect();
    let on_query = {
        let query = query.clone();
        let (pick, layers) = (on_pick.clone(), layers.clone());
        Callback::from(move |e: InputEvent| {
            let el: web_sys::HtmlInputElement = e.target_unchecked_into();
            let text = el.value();
            // One match (or the first, on a fresh search): explain it at once.
            let q = text.trim().to_ascii_lowercase();
            let first = layers.iter().position(|(n, c)| {
                !q.is_empty()
                    && (n.to_ascii_lowercase().contains(&q) || c.to_ascii_lowercase().contains(&q))
            });
            if let Some(i) = first {
                pick.emit(i);
            }
            query.set(text);
        })
    };
    let on_select = {
        let pick = on_pick.clone();
        Callback::from(move |e: Event| {
            let el: web_sys::HtmlSelectElement = e.target_unchecked_into();
            if let Ok(i) = el.value().parse::<usize>() {
                pick.emit(i);
            }
        })
    };
    html! {
        <nav class="vz-focus vz-picker" aria-label="Layer to explain">
            <label class="vz-focus-label" for="vz-explain-select">{format!("Explain layer ({} layers):", layers.len())}</label>
            <input type="search" class="vz-input" data-testid="explain-search" placeholder="Find by name or type…"
                aria-label="Find a layer to explain by name or type" value={(**query).clone()} oninput={on_query} />
            <select id="vz-explain-select" class="vz-input" data-testid="explain-select" onchange={on_select}>
                if focus.is_none() {
                    <option value="" selected=true>{"Pick a layer"}</option>
                }
                { for shown.iter().map(|&i| {
                    let (name, class) = &layers[i];
                    html! { <option value={i.to_string()} selected={focus == Some(i)}>{format!("{} · {name} ({class})", i + 1)}</option> }
                }) }
            </select>
            <span class="vz-note" aria-live="polite">{ match (q.is_empty(), matches) {
                (true, _) => String::new(),
                (false, 1) => "1 match".to_string(),
                (false, n) => format!("{n} matches"),
            } }</span>
        </nav>
    }
}
