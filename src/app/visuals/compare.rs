//! A/B compare: the current model (A) and a variant (B, kept in the page state) side by
//! side, layers aligned row by row with shapes, parameters and the difference. B starts as
//! a copy of A; "B = A with Flatten before …" and the seed pairs change it (actions).

use std::rc::Rc;

use yew::prelude::*;

use crate::app::state::{Action, CompareB};
use crate::codec::presets;
use crate::engine::model::{analyze, LayerReport};
use crate::engine::teach::{self, signed_thousands, thousands};
use crate::engine::{Analysis, Model, Status};

#[derive(Properties, PartialEq)]
pub struct CompareProps {
    /// A: the playground's model.
    pub model: Rc<Model>,
    pub analysis: Rc<Analysis>,
    /// B (`None`: a copy of A), kept in the page state.
    #[prop_or_default]
    pub compare: Option<CompareB>,
    /// Make B, B = A and the pairs dispatch here.
    #[prop_or_default]
    pub dispatch: Callback<Action>,
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
            let shape = r.shape_text();
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

/// One aligned row: A's layer, the parameter difference, B's layer.
fn compare_row(r: &teach::CompareRow, a_analysis: &Analysis, b_analysis: &Analysis) -> Html {
    let ra = r.a.and_then(|i| a_analysis.layers.get(i));
    let rb = r.b.and_then(|i| b_analysis.layers.get(i));
    let same = match (ra, rb) {
        (Some(x), Some(y)) => {
            x.output == y.output && x.params() == y.params() && x.status == y.status
        }
        _ => false,
    };
    let d = teach::diff(
        ra.map_or(0, LayerReport::params),
        rb.map_or(0, LayerReport::params),
    );
    html! {
        <div class={classes!("vz-cmp-row", (!same).then_some("vz-cmp-changed"))} role="row" data-testid="compare-row">
            <div role="cell">{cell(ra, "A")}</div>
            <div role="cell" class={classes!("vz-cmp-delta", (d > 0).then_some("vz-up"), (d < 0).then_some("vz-down"))}>
                { if d == 0 { String::new() } else { signed_thousands(d) } }
            </div>
            <div role="cell">{cell(rb, "B")}</div>
        </div>
    }
}

/// A compare preset's button: `text` names the pair and its totals.
fn preset_button(id: &str, text: &str, dispatch: &Callback<Action>) -> Html {
    let name = id.to_string();
    let dispatch = dispatch.clone();
    let testid = format!("compare-preset-{name}");
    let label = text.to_string();
    html! {
        <button type="button" class="vz-btn vz-preset" data-testid={testid} onclick={Callback::from(move |_| {
            dispatch.emit(Action::ComparePair(name.clone()));
        })}>{label}</button>
    }
}

#[function_component(CompareView)]
pub fn compare_view(p: &CompareProps) -> Html {
    let choice = use_state_eq(|| None::<usize>);
    let node = use_node_ref();
    // B opened from outside (the gallery, a link) scrolls into view, after the first render.
    {
        let node = node.clone();
        let first = use_mut_ref(|| true);
        let opened = p
            .compare
            .as_ref()
            .filter(|c| c.preset.is_some())
            .map(|c| c.opened);
        use_effect_with(opened, move |opened| {
            let was_first = std::mem::replace(&mut *first.borrow_mut(), false);
            if opened.is_some() && !was_first {
                if let Some(el) = node.cast::<web_sys::Element>() {
                    crate::app::components::reveal_and_focus(&el);
                }
            }
        });
    }

    let a_model = p.model.clone();
    let a_analysis = p.analysis.clone();
    let (b_model, b_label) = match &p.compare {
        Some(c) => (c.model.clone(), c.label.clone()),
        None => (a_model.clone(), "a copy of A".to_string()),
    };
    let b_analysis = use_memo(b_model.clone(), |m| analyze(m));
    let presets = use_memo((), |()| {
        presets::compare_pairs()
            .into_iter()
            .map(|pr| {
                let ta = analyze(&pr.model).total();
                let tb = pr.compare_with.as_ref().map_or(0, |b| analyze(b).total());
                let text = format!(
                    "{}: {} vs {}",
                    pr.short_label(),
                    thousands(ta),
                    thousands(tb)
                );
                (pr.id, text)
            })
            .collect::<Vec<(&'static str, String)>>()
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
        let dispatch = p.dispatch.clone();
        let id = chosen.and_then(|i| a_model.layers.get(i)).map(|l| l.id);
        Callback::from(move |_| {
            if let Some(id) = id {
                dispatch.emit(Action::CompareFlatten(id));
            }
        })
    };
    let on_reset = {
        let dispatch = p.dispatch.clone();
        Callback::from(move |_| dispatch.emit(Action::CompareCopyA))
    };

    let rows = teach::align(&a_model, &b_model);
    let (ta, tb) = (a_analysis.total(), b_analysis.total());
    let both_valid = a_analysis.valid() && b_analysis.valid();

    html! {
        <section ref={node} tabindex="-1" class="vz-card vz-compare" data-testid="compare-view" aria-labelledby="vz-compare-h">
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
                { for presets.iter().map(|(id, text)| preset_button(id, text, &p.dispatch)) }
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
                { for rows.iter().map(|r| compare_row(r, &a_analysis, &b_analysis)) }
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
