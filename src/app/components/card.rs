//! One layer card: name and type, key settings, the output shape as the hero number, the
//! parameter count, and the engine's error when the layer is invalid.

use wasm_bindgen::JsCast;
use web_sys::{Element, KeyboardEvent, PointerEvent};
use yew::prelude::*;

use super::dnd::{within, DragApi, DragSource};
use super::group_class;
use crate::app::state::{Action, Sheet};
use crate::engine::summary::commas;
use crate::engine::{LayerId, LayerReport};

/// Where keyboard focus should go.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Focus {
    /// The card at this index, right now.
    Now(usize),
    /// The card at this index (the list when `None`), after the dispatched action renders.
    AfterRender(Option<usize>),
}

#[derive(Properties, PartialEq)]
pub struct CardProps {
    pub id: LayerId,
    /// Position in the stack (shown, and used for keyboard moves).
    pub index: usize,
    pub count: usize,
    pub settings: AttrValue,
    pub report: LayerReport,
    pub selected: bool,
    /// This card is being dragged.
    #[prop_or_default]
    pub dragging: bool,
    /// Being dragged out of the stack: release deletes.
    #[prop_or_default]
    pub deleting: bool,
    /// Show the drop indicator in the gap above this card.
    #[prop_or_default]
    pub drop_before: bool,
    /// An exercise hides parameter counts: the metric says "hidden" instead.
    #[prop_or_default]
    pub hide_params: bool,
    pub dispatch: Callback<Action>,
    pub drag: DragApi,
    /// Ask the stack to move keyboard focus.
    pub focus: Callback<Focus>,
}

/// What the card shows in place of a shape, and the status hook value.
fn shape_text(report: &LayerReport) -> (String, &'static str) {
    (report.shape_text(), report.status.hook())
}

/// Click: select the card (unless the click ends a drag) and focus it.
fn select_on_click(props: &CardProps) -> Callback<MouseEvent> {
    let id = props.id;
    let dispatch = props.dispatch.clone();
    let drag = props.drag.clone();
    Callback::from(move |e: MouseEvent| {
        if drag.swallow_click() {
            return;
        }
        dispatch.emit(Action::Select(Some(id)));
        // Mouse presses do not focus the card (see DragApi::press): focus it so Delete
        // and Alt+arrows work right after a click.
        let card = e
            .target()
            .and_then(|t| t.dyn_into::<Element>().ok())
            .and_then(|el| el.closest("[data-testid='layer-card']").ok().flatten())
            .and_then(|el| el.dyn_into::<web_sys::HtmlElement>().ok());
        if let Some(card) = card {
            let _ = card.focus();
        }
    })
}

/// Keys on the card: Alt+arrows move it, arrows move focus, Delete removes, Enter or Space
/// selects, Escape deselects.
fn on_key(props: &CardProps) -> Callback<KeyboardEvent> {
    let (id, index, count) = (props.id, props.index, props.count);
    let dispatch = props.dispatch.clone();
    let focus = props.focus.clone();
    Callback::from(move |e: KeyboardEvent| {
        // Only keys pressed on the card itself, not on its buttons.
        if within(e.target(), "button, input, select, textarea") {
            return;
        }
        let key = e.key();
        // The card above or below, if there is one.
        let neighbour = || {
            if key == "ArrowUp" {
                index.checked_sub(1)
            } else {
                Some(index + 1).filter(|&t| t < count)
            }
        };
        match key.as_str() {
            "ArrowUp" | "ArrowDown" if e.alt_key() => {
                e.prevent_default();
                if let Some(to) = neighbour() {
                    dispatch.emit(Action::Move { id, to });
                    focus.emit(Focus::AfterRender(Some(to)));
                }
            }
            "ArrowUp" | "ArrowDown" => {
                e.prevent_default();
                if let Some(to) = neighbour() {
                    focus.emit(Focus::Now(to));
                }
            }
            "Delete" | "Backspace" => {
                e.prevent_default();
                dispatch.emit(Action::Delete(id));
                let next = if index + 1 < count {
                    Some(index)
                } else {
                    index.checked_sub(1)
                };
                focus.emit(Focus::AfterRender(next));
            }
            "Enter" | " " => {
                e.prevent_default();
                dispatch.emit(Action::Select(Some(id)));
            }
            "Escape" => dispatch.emit(Action::Select(None)),
            _ => {}
        }
    })
}

/// A button's click that sends `action` without selecting the card.
fn card_button(dispatch: &Callback<Action>, action: Action) -> Callback<MouseEvent> {
    let dispatch = dispatch.clone();
    Callback::from(move |e: MouseEvent| {
        e.stop_propagation();
        dispatch.emit(action.clone());
    })
}

/// On narrow layouts the inspector is below the stack: a way to get there.
fn jump_to_inspector(dispatch: &Callback<Action>) -> Callback<MouseEvent> {
    let dispatch = dispatch.clone();
    Callback::from(move |e: MouseEvent| {
        e.stop_propagation();
        // On a phone the settings open as a sheet; elsewhere the page scrolls to them.
        dispatch.emit(Action::OpenSheet(Sheet::Settings));
        let inspector = e
            .target()
            .and_then(|t| t.dyn_into::<Element>().ok())
            .and_then(|el| el.closest(".app").ok().flatten())
            .and_then(|app| {
                app.query_selector("[data-testid='inspector']")
                    .ok()
                    .flatten()
            });
        if let Some(el) = inspector {
            el.scroll_into_view_with_bool(true);
        }
    })
}

/// The card's top row: grip, index, name and class, duplicate and delete.
fn card_top(props: &CardProps) -> Html {
    let (r, index, id) = (&props.report, props.index, props.id);
    let on_duplicate = card_button(&props.dispatch, Action::Duplicate(id));
    let on_delete = card_button(&props.dispatch, Action::Delete(id));
    html! {
        <div class="card-top">
            <span class="grip" aria-hidden="true" title="Drag to move; drag out of the stack to delete">{"⠿"}</span>
            <span class="card-index" aria-hidden="true">{index + 1}</span>
            <div class="card-title">
                <span class="card-name" data-testid="layer-name">{r.name.clone()}</span>
                <span class="card-class" data-testid="layer-class">{r.class_name.clone()}</span>
            </div>
            <div class="card-actions">
                <button type="button" class="icon-btn" data-testid="duplicate-layer"
                    aria-label={format!("Duplicate {}", r.name)} title="Duplicate" onclick={on_duplicate}>
                    <svg viewBox="0 0 20 20" aria-hidden="true"><rect x="6.5" y="6.5" width="10" height="10" rx="2"/><path d="M13.5 4.5v-1a1.5 1.5 0 0 0-1.5-1.5h-8a1.5 1.5 0 0 0-1.5 1.5v8a1.5 1.5 0 0 0 1.5 1.5h1"/></svg>
                </button>
                <button type="button" class="icon-btn danger" data-testid="delete-layer"
                    aria-label={format!("Delete {}", r.name)} title="Delete" onclick={on_delete}>
                    <svg viewBox="0 0 20 20" aria-hidden="true"><path d="M5 5l10 10M15 5L5 15"/></svg>
                </button>
            </div>
        </div>
    }
}

/// The output shape (the hero number) and the parameter count.
fn card_metrics(shape: String, params: String, hide_params: bool) -> Html {
    html! {
        <div class="card-metrics">
            <div class="metric metric-shape">
                <span class="metric-label">{"Output shape"}</span>
                <span class="shape" data-testid="output-shape">{shape}</span>
            </div>
            <div class="metric metric-params">
                <span class="metric-label">{"Params"}</span>
                <span class={classes!("params", hide_params.then_some("is-hidden"))} data-testid="param-count">{params}</span>
            </div>
        </div>
    }
}

#[function_component(Card)]
pub fn card(props: &CardProps) -> Html {
    let r = &props.report;
    let index = props.index;
    let (shape, status) = shape_text(r);
    let ok = status == "ok";
    let params = if props.hide_params {
        "hidden".into()
    } else if ok {
        commas(r.params())
    } else {
        "—".into()
    };

    let onclick = select_on_click(props);
    let onpointerdown = {
        let drag = props.drag.clone();
        let id = props.id;
        let label = format!("{} ({})", r.name, r.class_name);
        Callback::from(move |e: PointerEvent| {
            drag.press(DragSource::Card(id, index), label.clone(), &e);
        })
    };
    let onkeydown = on_key(props);
    let aria = format!(
        "Layer {} of {}: {} ({}), output {}, params {}. Alt+arrows move, Delete removes.",
        index + 1,
        props.count,
        r.name,
        r.class_name,
        shape,
        params
    );
    let class = classes!(
        "card",
        group_class(&r.class_name),
        props.selected.then_some("selected"),
        (status == "error").then_some("has-error"),
        (status == "not-computed").then_some("not-computed"),
        props.dragging.then_some("dragging"),
        props.deleting.then_some("deleting"),
    );
    html! {
        <li {class} data-testid="layer-card" data-status={status} data-index={index.to_string()}
            tabindex="0" aria-label={aria} aria-current={props.selected.then_some("true")}
            {onclick} {onpointerdown} {onkeydown}>
            if props.drop_before {
                <div class="drop-indicator" data-testid="drop-indicator" aria-hidden="true"></div>
            }
            { card_top(props) }
            <div class="card-row">
                <div class="card-settings" data-testid="layer-settings">{props.settings.clone()}</div>
                if props.selected {
                    <button type="button" class="btn btn-quiet edit-jump"
                        aria-label={format!("Edit the settings of {}", r.name)} onclick={jump_to_inspector(&props.dispatch)}>
                        <span class="on-wide">{"Settings ↓"}</span><span class="on-phone">{"Settings"}</span>
                    </button>
                }
            </div>
            { card_metrics(shape, params, props.hide_params) }
            if let Some(err) = r.error() {
                <p class="badge badge-error" data-testid="layer-error" role="alert">
                    <span class="badge-icon" aria-hidden="true">{"!"}</span>
                    <span>{err.to_string()}</span>
                </p>
            }
            if status == "not-computed" {
                <p class="badge badge-muted" data-testid="not-computed">{"Not computed: an earlier layer has an error."}</p>
            }
        </li>
    }
}
