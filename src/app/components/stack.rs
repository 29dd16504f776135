//! The stack: the input shape, then one card per layer with a flow arrow between them, the
//! drop indicator while dragging, and the parameter totals.

use std::cell::RefCell;
use std::rc::Rc;

use wasm_bindgen::JsCast;
use web_sys::js_sys::{Function, Object, Reflect};
use web_sys::{Element, HtmlElement};
use yew::prelude::*;

use super::card::{Card, Focus};
use super::dnd::{DragApi, DragSource, DragView};
use super::field::DraftInput;
use super::on_click;
use crate::app::state::{format_shape, parse_shape, Action, Sheet};
use crate::engine::summary::commas;
use crate::engine::{Analysis, LayerId, Model, Shape};

#[derive(Properties, PartialEq)]
pub struct StackProps {
    pub model: Rc<Model>,
    pub analysis: Rc<Analysis>,
    pub selected: Option<LayerId>,
    pub dispatch: Callback<Action>,
    pub drag: DragApi,
    pub drag_view: Option<DragView>,
    /// An exercise hides parameter counts (cards and totals say "hidden").
    #[prop_or_default]
    pub hide_params: bool,
    /// Where the palette adds the next layer ([`crate::app::state::State::insert_at`]).
    #[prop_or_default]
    pub insert_at: Option<usize>,
    /// In an exercise: goals met and goals in all (the sticky line shows them).
    #[prop_or_default]
    pub goals: Option<(usize, usize)>,
}

/// The input card: the input shape (editable) and the batch shape.
fn input_card(model: &Model, dispatch: &Callback<Action>) -> Html {
    let on_input = {
        let dispatch = dispatch.clone();
        Callback::from(move |text: String| -> Result<String, String> {
            let dims = parse_shape(&text)?;
            let canon = format_shape(&dims);
            dispatch.emit(Action::SetInput(dims));
            Ok(canon)
        })
    };

    html! {
        <div class="input-card" data-testid="input-card">
            <div class="input-row">
                <div class="input-label">
                    <span class="card-name">{"Input"}</span>
                    <span class="card-class">{"shape, without the batch axis"}</span>
                </div>
                <DraftInput
                    value={AttrValue::from(format_shape(&model.input_shape))}
                    on_commit={on_input}
                    testid="input-shape"
                    error_testid="input-error"
                    label="Input shape, without the batch axis, e.g. (28, 28, 1)"
                    placeholder={AttrValue::Static("(28, 28, 1)")}
                    class="input-shape-field"
                />
            </div>
            <div class="metric metric-shape">
                <span class="metric-label">{"Batch shape"}</span>
                <span class="shape" data-testid="input-batch-shape">{Shape::new(model.input_shape.clone()).to_string()}</span>
            </div>
        </div>
    }
}

/// The end of the stack: the drop indicator at the end, and what to do (empty, deleting, drop).
fn stack_end(indicator: Option<usize>, count: usize, deleting: bool) -> Html {
    let end_class = classes!(
        "stack-end",
        (indicator == Some(count)).then_some("drop-here"),
        (count == 0).then_some("empty")
    );
    html! {
        <div class={end_class} data-testid="stack-end" tabindex="-1">
            if indicator == Some(count) {
                <div class="drop-indicator" data-testid="drop-indicator" aria-hidden="true"></div>
            }
            if count == 0 {
                <p><span class="on-wide">{"Empty model. Drag a layer here, or focus a layer in the palette and press Enter."}</span><span class="on-phone">{"Empty model. Tap “+ Add layer” below to start."}</span></p>
            } else if deleting {
                <p class="delete-hint">{"Release outside the stack to delete"}</p>
            } else {
                <p>{"Drop layers here"}</p>
            }
        </div>
    }
}

/// The parameter totals and the MACs ("hidden" in a parameter exercise: MACs give the
/// counts away).
fn totals(
    a: &Analysis,
    hide_params: bool,
    goals: Option<(usize, usize)>,
    dispatch: &Callback<Action>,
) -> Html {
    let count_text = |n: u64| {
        if hide_params {
            "hidden".to_string()
        } else {
            commas(n)
        }
    };
    html! {
        <div class={classes!("totals", hide_params.then_some("params-hidden"))} role="group" aria-label="Parameter totals">
            <dl class="total total-main">
                <dt>{"Total params"}</dt>
                <dd data-testid="total-params">{count_text(a.total())}</dd>
                if !a.valid() && !hide_params {
                    <dd class="total-incomplete" data-testid="total-incomplete" title="The layers with an error, and those after them, are not counted">{"incomplete: a layer has an error"}</dd>
                }
            </dl>
            <dl class="total total-output">
                <dt>{"Output"}</dt>
                <dd data-testid="total-output">{a.output().map_or_else(|| "—".into(), ToString::to_string)}</dd>
            </dl>
            if let Some((met, all)) = goals {
                { goals_line(met, all) }
            }
            <dl class="total total-more">
                <dt>{"Trainable"}</dt>
                <dd data-testid="trainable-params">{count_text(a.trainable)}</dd>
            </dl>
            <dl class="total total-more">
                <dt>{"Non-trainable"}</dt>
                <dd data-testid="non-trainable-params">{count_text(a.non_trainable)}</dd>
            </dl>
            <dl class="total total-more">
                <dt>{"MACs"}</dt>
                <dd data-testid="total-macs">{count_text(a.macs)}</dd>
            </dl>
            <button type="button" class="btn btn-primary add-layer" data-testid="add-layer"
                aria-label="Add a layer (opens the layer list)" onclick={on_click(dispatch, Action::OpenSheet(Sheet::Palette))}>{"+ Add layer"}</button>
        </div>
    }
}

/// The exercise's progress in the sticky line, announced where the student is.
fn goals_line(met: usize, all: usize) -> Html {
    let done = met == all && all > 1;
    html! {
        <dl class={classes!("total", "total-goals", done.then_some("goals-done"))} data-testid="sticky-goals" role="status">
            <dt>{"Goals"}</dt>
            <dd>{ if done { "All met ★".to_string() } else { format!("{met} of {all} met") } }</dd>
        </dl>
    }
}

/// Where the next layer from the palette goes: after card `at` (1-based, as the cards are
/// numbered) with an "add at end" choice, or at the end.
fn insert_marker(model: &Model, at: Option<usize>, dispatch: &Callback<Action>) -> Html {
    let count = model.layers.len();
    let after = at.filter(|&i| i > 0 && i < count);
    let text = match after.and_then(|i| Some((i, model.layers.get(i - 1)?))) {
        Some((i, l)) => format!("New layers go after {i} · {}", l.name),
        None => "New layers go at the end".to_string(),
    };
    html! {
        <li key="insert-marker" class={classes!("insert-marker", after.is_none().then_some("at-end"))} data-testid="insert-marker" aria-live="polite">
            <span class="insert-line" aria-hidden="true"></span>
            <span class="insert-text">{text}</span>
            if after.is_some() {
                <button type="button" class="btn btn-quiet insert-end" data-testid="add-at-end"
                    aria-label="Add new layers at the end instead" onclick={on_click(dispatch, Action::AddAtEnd)}>{"add at end"}</button>
            }
        </li>
    }
}

#[function_component(Stack)]
pub fn stack(props: &StackProps) -> Html {
    let list = use_node_ref();
    let pending_focus: Rc<RefCell<Option<usize>>> = use_mut_ref(|| None);

    // After a keyboard move/delete, put focus back on the right card.
    {
        let list = list.clone();
        let pending = pending_focus.clone();
        use_effect(move || {
            if let Some(i) = pending.borrow_mut().take() {
                focus_card(&list, i);
            }
        });
    }
    // Keep the selected card on screen (e.g. one just added from the palette).
    let selected_index = props
        .selected
        .and_then(|id| props.model.layers.iter().position(|l| l.id == id));
    {
        let list = list.clone();
        use_effect_with(
            (selected_index, props.model.layers.len()),
            move |(sel, _)| {
                if let Some(i) = *sel {
                    reveal_card(&list, i);
                }
            },
        );
    }
    // One callback for the component's life (the ref and cell are stable): cards whose
    // report did not change skip rendering.
    let focus = {
        let pending = pending_focus.clone();
        let list = list.clone();
        (*use_memo((), move |()| {
            Callback::from(move |f: Focus| match f {
                Focus::Now(i) => focus_card(&list, i),
                // An empty list focuses itself (see focus_card).
                Focus::AfterRender(i) => *pending.borrow_mut() = Some(i.unwrap_or(0)),
            })
        }))
        .clone()
    };

    let view = props.drag_view.as_ref();
    let indicator = view.and_then(DragView::indicator);
    let dragged = view.and_then(|v| match v.source {
        DragSource::Card(id, _) => Some(id),
        DragSource::Palette(_) => None,
    });
    let deleting = view.is_some_and(DragView::deleting);
    let count = props.model.layers.len();
    // The marker goes before card `at` (or after the last card).
    let marker_at = props.insert_at.filter(|&i| i < count).unwrap_or(count);

    let cards = props
        .model
        .layers
        .iter()
        .zip(props.analysis.layers.iter())
        .enumerate()
        .flat_map(|(i, (layer, report))| {
            let marker = (i == marker_at && view.is_none())
                .then(|| insert_marker(&props.model, props.insert_at, &props.dispatch));
            let card = html! {
                <Card
                    key={layer.id.0}
                    id={layer.id}
                    index={i}
                    {count}
                    settings={AttrValue::from(layer.spec.rules().settings())}
                    report={report.clone()}
                    selected={props.selected == Some(layer.id)}
                    dragging={dragged == Some(layer.id)}
                    deleting={deleting && dragged == Some(layer.id)}
                    drop_before={indicator == Some(i)}
                    hide_params={props.hide_params}
                    dispatch={props.dispatch.clone()}
                    drag={props.drag.clone()}
                    focus={focus.clone()}
                />
            };
            marker.into_iter().chain(std::iter::once(card))
        });

    let section_class = classes!(
        "stack-panel",
        view.is_some().then_some("drag-active"),
        deleting.then_some("drag-deleting")
    );
    html! {
        <section class={section_class} aria-label="Model stack" ref={props.drag.stack_ref()}>
            { input_card(&props.model, &props.dispatch) }
            <ol class="stack" id="stack" ref={list} tabindex="-1" aria-label="Layers, top to bottom">
                { for cards }
                if marker_at == count && count > 0 && view.is_none() {
                    { insert_marker(&props.model, props.insert_at, &props.dispatch) }
                }
            </ol>
            { stack_end(indicator, count, deleting) }
            { totals(&props.analysis, props.hide_params, props.goals, &props.dispatch) }
        </section>
    }
}

/// Focus the `i`-th card (or the last one) in the list.
fn focus_card(list: &NodeRef, i: usize) {
    let Some(ol) = list.cast::<Element>() else {
        return;
    };
    let Ok(cards) = ol.query_selector_all("[data-testid='layer-card']") else {
        return;
    };
    let n = cards.length();
    if n == 0 {
        // Nothing left to focus in the list: the drop zone says what to do next.
        let end = ol
            .parent_element()
            .and_then(|p| p.query_selector("[data-testid='stack-end']").ok().flatten())
            .and_then(|e| e.dyn_into::<HtmlElement>().ok());
        if let Some(el) = end {
            let _ = el.focus();
        }
        return;
    }
    let idx = u32::try_from(i).unwrap_or(u32::MAX).min(n - 1);
    if let Some(el) = cards
        .item(idx)
        .and_then(|c| c.dyn_into::<HtmlElement>().ok())
    {
        let _ = el.focus();
    }
}

/// Scroll the `i`-th card into view if it is not (`scrollIntoView({block: "nearest"})`).
fn reveal_card(list: &NodeRef, i: usize) {
    let Some(ol) = list.cast::<Element>() else {
        return;
    };
    let Ok(cards) = ol.query_selector_all("[data-testid='layer-card']") else {
        return;
    };
    let Some(card) = u32::try_from(i).ok().and_then(|i| cards.item(i)) else {
        return;
    };
    let opts = Object::new();
    let _ = Reflect::set(&opts, &"block".into(), &"nearest".into());
    let _ = Reflect::set(&opts, &"behavior".into(), &"smooth".into());
    if let Ok(f) =
        Reflect::get(&card, &"scrollIntoView".into()).and_then(JsCast::dyn_into::<Function>)
    {
        let _ = f.call1(&card, &opts);
    }
}
