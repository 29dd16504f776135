//! A/B compare: the current model (A) and a variant (B, kept here) side by side, layers
//! aligned row by row with shapes, parameters and the difference. B starts as a copy of A;
//! "B = A with Flatten before …" and the seed presets change it.

use std::rc::Rc;

use yew::prelude::*;

use crate::engine::model::{analyze, LayerReport};
use crate::engine::teach::{self, signed_thousands, thousands, Preset};
use crate::engine::{Analysis, Model, Status};

#[derive(Properties, PartialEq)]
pub struct CompareProps {
    pub model: Rc<Model>,
    pub analysis: Rc<Analysis>,
    pub on_replace: Callback<Model>,
    /// B from outside (a preset's partner): applied when it or `compare_seq` changes.
    #[prop_or_default]
    pub compare_b: Option<Rc<Model>>,
    #[prop_or_default]
    pub compare_seq: u32,
}

/// B and how it was made.
#[derive(Clone, PartialEq)]
struct Variant {
    model: Rc<Model>,
    label: String,
}

fn total_text(a: &Analysis) -> String {
    if a.valid() {
        thousands(a.total())
    } else {
        "error".into()
    }
}

fn cell(report: Option<&LayerReport>, side: &'static str) -> Html {
    match report {
        None => html! { <div class="vz-cmp-cell vz-cmp-none">{format!("(not in {side})")}</div> },
        Some(r) => {
            let shape = match &r.status {
                Status::Ok => r
                    .output
                    .as_ref()
                    .map(ToString::to_string)
                    .unwrap_or_default(),
                Status::Error(_) => "error".into(),
                Status::NotComputed => "not computed".into(),
            };
            html! {
                <div class={classes!("vz-cmp-cell", (r.status != Status::Ok).then_some("vz-cmp-err"))}>
                    <span class="vz-cmp-name">{&r.name}<span class="vz-cmp-class">{format!(" {}", r.class_name)}</span></span>
                    <span class="vz-cmp-shape">{shape}</span>
                    <span class="vz-cmp-params">{thousands(r.params())}</span>
                </div>
            }
        }
    }
}

/// `scrollIntoView({block: "nearest"})`: scroll only as far as needed.
fn reveal(el: &web_sys::Element) {
    use wasm_bindgen::JsCast;
    use web_sys::js_sys::{Function, Object, Reflect};
    let opts = Object::new();
    let _ = Reflect::set(&opts, &"block".into(), &"nearest".into());
    if let Ok(f) = Reflect::get(el, &"scrollIntoView".into()).and_then(JsCast::dyn_into::<Function>)
    {
        let _ = f.call1(el, &opts);
    }
}

#[function_component(CompareView)]
pub fn compare_view(p: &CompareProps) -> Html {
    // A preset's A shows here at once, until the app's model changes.
    let a_override = use_state_eq(|| None::<Rc<Model>>);
    {
        let a_override = a_override.clone();
        use_effect_with(p.model.clone(), move |_| a_override.set(None));
    }
    let b_state = use_state_eq(|| {
        p.compare_b.as_ref().map(|b| Variant {
            model: b.clone(),
            label: format!("preset {}", b.name),
        })
    });
    let choice = use_state_eq(|| None::<usize>);
    let node = use_node_ref();
    // A B from outside replaces ours; after the first render it also scrolls into view.
    {
        let b_state = b_state.clone();
        let node = node.clone();
        let first = use_mut_ref(|| true);
        use_effect_with((p.compare_b.clone(), p.compare_seq), move |(b, _)| {
            let was_first = std::mem::replace(&mut *first.borrow_mut(), false);
            if let Some(b) = b {
                b_state.set(Some(Variant {
                    model: b.clone(),
                    label: format!("preset {}", b.name),
                }));
                if !was_first {
                    if let Some(el) = node.cast::<web_sys::Element>() {
                        reveal(&el);
                    }
                }
            }
        });
    }

    let a_model = (*a_override).clone().unwrap_or_else(|| p.model.clone());
    let a_analysis = use_memo(
        (a_model.clone(), p.analysis.clone(), a_override.is_some()),
        |(m, a, own)| {
            if *own {
                Rc::new(analyze(m))
            } else {
                a.clone()
            }
        },
    );
    let a_analysis: Rc<Analysis> = (*a_analysis).clone();
    let (b_model, b_label) = match &*b_state {
        Some(v) => (v.model.clone(), v.label.clone()),
        None => (a_model.clone(), "a copy of A".to_string()),
    };
    let b_analysis = use_memo(b_model.clone(), |m| analyze(m));
    let presets = use_memo((), |_| {
        teach::presets()
            .into_iter()
            .map(|pr| {
                let (ta, tb) = (analyze(&pr.a).total(), analyze(&pr.b).total());
                let text = format!("{}: {} vs {}", pr.label, thousands(ta), thousands(tb));
                (pr, text)
            })
            .collect::<Vec<(Preset, String)>>()
    });

    let dense = teach::dense_indices(&a_model);
    let default_choice = dense
        .iter()
        .copied()
        .find(|&i| teach::dense_story(&a_model, &a_analysis, i).is_some_and(|s| !s.already_flat()))
        .or_else(|| dense.first().copied());
    let chosen = (*choice).filter(|i| dense.contains(i)).or(default_choice);

    let on_choice = {
        let choice = choice.clone();
        Callback::from(move |e: Event| {
            let el: web_sys::HtmlSelectElement = e.target_unchecked_into();
            choice.set(el.value().parse::<usize>().ok());
        })
    };
    let on_flatten = {
        let b_state = b_state.clone();
        let a_model = a_model.clone();
        Callback::from(move |_| {
            if let Some(i) = chosen {
                let name = a_model
                    .layers
                    .get(i)
                    .map(|l| l.name.clone())
                    .unwrap_or_default();
                b_state.set(Some(Variant {
                    model: Rc::new(teach::with_flatten_before(&a_model, i)),
                    label: format!("A with Flatten before {name}"),
                }));
            }
        })
    };
    let on_reset = {
        let b_state = b_state.clone();
        Callback::from(move |_| b_state.set(None))
    };

    let rows = teach::align(&a_model, &b_model);
    let (ta, tb) = (a_analysis.total(), b_analysis.total());
    let both_valid = a_analysis.valid() && b_analysis.valid();

    html! {
        <section ref={node} class="vz-card vz-compare" data-testid="compare-view" aria-labelledby="vz-compare-h">
            <h2 id="vz-compare-h">{"A/B compare"}</h2>
            <p class="vz-lead">{"Two stacks side by side, layer by layer. A is the model in the playground; B is yours to change here."}</p>
            <div class="vz-row vz-compare-actions">
                <label class="vz-pick">{"B = A with Flatten before "}
                    <select data-testid="compare-dense-select" onchange={on_choice} disabled={dense.is_empty()} aria-label="Dense layer to put a Flatten before">
                        { for dense.iter().map(|&i| html! {
                            <option value={i.to_string()} selected={Some(i) == chosen}>{a_model.layers[i].name.clone()}</option>
                        }) }
                    </select>
                </label>
                <button type="button" class="vz-btn vz-primary" data-testid="compare-flatten" onclick={on_flatten} disabled={chosen.is_none()}>{"Make B"}</button>
                <button type="button" class="vz-btn" data-testid="compare-reset" onclick={on_reset}>{"B = A"}</button>
            </div>
            <div class="vz-row vz-presets" role="group" aria-label="Compare presets">
                <span class="vz-note">{"Presets:"}</span>
                { for presets.iter().map(|(pr, text)| {
                    let pr = pr.clone();
                    let a_override = a_override.clone();
                    let b_state = b_state.clone();
                    let on_replace = p.on_replace.clone();
                    let testid = format!("compare-preset-{}", pr.a.name);
                    let label = text.clone();
                    html! {
                        <button type="button" class="vz-btn vz-preset" data-testid={testid} onclick={Callback::from(move |_| {
                            let a = Rc::new(pr.a.clone());
                            a_override.set(Some(a));
                            b_state.set(Some(Variant { model: Rc::new(pr.b.clone()), label: format!("{} with Flatten", pr.label) }));
                            on_replace.emit(pr.a.clone());
                        })}>{label}</button>
                    }
                }) }
            </div>
            <div class="vz-cmp" role="table" aria-label="Layers of A and B">
                <div class="vz-cmp-row vz-cmp-head" role="row">
                    <div role="columnheader" class="vz-cmp-h vz-cmp-ha"><b>{"A"}</b>{format!(" · {}", a_model.name)}</div>
                    <div role="columnheader" class="vz-cmp-h vz-cmp-hd">{"Δ params"}</div>
                    <div role="columnheader" class="vz-cmp-h vz-cmp-hb"><b>{"B"}</b>{format!(" · {b_label}")}</div>
                </div>
                <div class="vz-cmp-row vz-cmp-input" role="row">
                    <div role="cell" class="vz-cmp-cell"><span class="vz-cmp-name">{"input"}</span><span class="vz-cmp-shape">{a_analysis.input.to_string()}</span></div>
                    <div role="cell" class="vz-cmp-delta"></div>
                    <div role="cell" class="vz-cmp-cell"><span class="vz-cmp-name">{"input"}</span><span class="vz-cmp-shape">{b_analysis.input.to_string()}</span></div>
                </div>
                { for rows.iter().map(|r| {
                    let ra = r.a.and_then(|i| a_analysis.layers.get(i));
                    let rb = r.b.and_then(|i| b_analysis.layers.get(i));
                    let same = match (ra, rb) {
                        (Some(x), Some(y)) => x.output == y.output && x.params() == y.params() && x.status == y.status,
                        _ => false,
                    };
                    let d = teach::diff(ra.map(LayerReport::params).unwrap_or(0), rb.map(LayerReport::params).unwrap_or(0));
                    html! {
                        <div class={classes!("vz-cmp-row", (!same).then_some("vz-cmp-changed"))} role="row" data-testid="compare-row">
                            <div role="cell">{cell(ra, "A")}</div>
                            <div role="cell" class={classes!("vz-cmp-delta", (d > 0).then_some("vz-up"), (d < 0).then_some("vz-down"))}>
                                { if d == 0 { String::new() } else { signed_thousands(d) } }
                            </div>
                            <div role="cell">{cell(rb, "B")}</div>
                        </div>
                    }
                }) }
                <div class="vz-cmp-row vz-cmp-total" role="row">
                    <div role="cell" class="vz-cmp-cell">{"Total params "}<span class="vz-total" data-testid="compare-total-a">{total_text(&a_analysis)}</span></div>
                    <div role="cell" class={classes!("vz-cmp-delta", "vz-total-d", (both_valid && tb > ta).then_some("vz-up"), (both_valid && tb < ta).then_some("vz-down"))} data-testid="compare-diff">
                        { if both_valid { signed_thousands(teach::diff(ta, tb)) } else { String::new() } }
                    </div>
                    <div role="cell" class="vz-cmp-cell">{"Total params "}<span class="vz-total" data-testid="compare-total-b">{total_text(&b_analysis)}</span></div>
                </div>
            </div>
            { b_analysis.first_error().map(|e| html!{ <p class="vz-error" role="alert">{format!("B: {e}")}</p> }).unwrap_or_default() }
        </section>
    }
}
