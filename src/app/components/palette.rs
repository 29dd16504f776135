//! The palette: every catalogue layer, grouped, searchable. Click or Enter adds the layer
//! (where the stack's insert marker says: after the selected card, or at the end); dragging
//! places it anywhere in the stack. The list is one Tab stop: the arrow keys (and Home /
//! End) move between its buttons. On a phone it is a bottom sheet ("Add layer").

use std::collections::HashSet;

use wasm_bindgen::JsCast;
use web_sys::{HtmlInputElement, PointerEvent};
use yew::prelude::*;

use super::dnd::{DragApi, DragSource};
use super::group_class;
use crate::app::state::{palette_matches, word_parts, Action};
use crate::engine::{Group, CATALOGUE};
use web_sys::HtmlElement;

#[derive(Properties, PartialEq)]
pub struct PaletteProps {
    /// Where a click adds the layer (`None`: at the end).
    pub at: Option<usize>,
    pub dispatch: Callback<Action>,
    pub drag: DragApi,
}

#[function_component(Palette)]
pub fn palette(props: &PaletteProps) -> Html {
    let query = use_state(String::new);
    let collapsed = use_state(|| false);
    let closed_groups = use_state(HashSet::<Group>::new);
    let list = use_node_ref();
    {
        let list = list.clone();
        use_effect(move || first_tab_stop(&list));
    }

    let on_search = {
        let query = query.clone();
        Callback::from(move |e: InputEvent| {
            if let Some(i) = e
                .target()
                .and_then(|t| t.dyn_into::<HtmlInputElement>().ok())
            {
                query.set(i.value());
            }
        })
    };
    let toggle_all = {
        let collapsed = collapsed.clone();
        Callback::from(move |_| collapsed.set(!*collapsed))
    };
    let searching = !query.trim().is_empty();
    // Enter in the search adds the first match (in the palette's order).
    let on_search_key = {
        let query = query.clone();
        let dispatch = props.dispatch.clone();
        let at = props.at;
        Callback::from(move |e: KeyboardEvent| {
            if e.key() != "Enter" || query.trim().is_empty() {
                return;
            }
            let first = Group::ALL.iter().find_map(|&g| {
                CATALOGUE
                    .iter()
                    .find(|k| k.group == g && palette_matches(k.class_name, &query))
            });
            if let Some(k) = first {
                e.prevent_default();
                dispatch.emit(Action::Add {
                    class: k.class_name.to_string(),
                    at,
                });
            }
        })
    };

    let groups = Group::ALL.iter().map(|&group| {
        let kinds: Vec<&'static str> = CATALOGUE
            .iter()
            .filter(|k| k.group == group && palette_matches(k.class_name, &query))
            .map(|k| k.class_name)
            .collect();
        if kinds.is_empty() {
            return html! {};
        }
        // A search opens every group with a match.
        let open = searching || !closed_groups.contains(&group);
        let toggle = {
            let closed_groups = closed_groups.clone();
            Callback::from(move |_| {
                let mut s = (*closed_groups).clone();
                if !s.remove(&group) {
                    s.insert(group);
                }
                closed_groups.set(s);
            })
        };
        let items = kinds.into_iter().map(|class| {
            let at = props.at;
            let onclick = {
                let dispatch = props.dispatch.clone();
                let drag = props.drag.clone();
                Callback::from(move |_: MouseEvent| {
                    if !drag.swallow_click() {
                        dispatch.emit(Action::Add { class: class.to_string(), at });
                    }
                })
            };
            let onpointerdown = {
                let drag = props.drag.clone();
                Callback::from(move |e: PointerEvent| drag.press(DragSource::Palette(class), class.to_string(), &e))
            };
            let where_ = match at {
                Some(i) => format!("after layer {i}"),
                None => "at the end".to_string(),
            };
            html! {
                <li>
                    <button type="button" class={classes!("palette-item", group_class(class))}
                        data-testid="palette-item" data-class={class} tabindex="-1"
                        aria-label={format!("Add {class} {where_}")}
                        title={format!("{class}: click or Enter adds it {where_}; drag to place it")}
                        {onclick} {onpointerdown}>
                        <span class="grip" aria-hidden="true">{"⠿"}</span>
                        <span class="palette-name">{ for word_parts(class).into_iter().enumerate().map(|(i, w)| html! {
                            <>{ if i > 0 { html! { <wbr /> } } else { html! {} } }{w}</>
                        }) }</span>
                    </button>
                </li>
            }
        });
        html! {
            <section class={classes!("palette-group", (!open).then_some("closed"))} data-group={group.label()}>
                <h3 class="group-head">
                    <button type="button" class="group-toggle" tabindex="-1" aria-expanded={open.to_string()}
                        aria-label={format!("{} layers", group.label())} onclick={toggle}>
                        <span class={classes!("group-dot", group_class(kinds_first(group)))} aria-hidden="true"></span>
                        {group.label()}
                        <span class="chevron" aria-hidden="true">{"▾"}</span>
                    </button>
                </h3>
                <ul class="palette-items" hidden={!open}>
                    { for items }
                </ul>
            </section>
        }
    });

    let close_sheet = {
        let d = props.dispatch.clone();
        Callback::from(move |_: MouseEvent| d.emit(Action::CloseSheet))
    };
    html! {
        <aside class={classes!("palette", collapsed.then_some("collapsed"))} id="palette" tabindex="-1" data-testid="palette" aria-label="Layer palette">
            <div class="palette-head">
                <h2>{"Layers"}</h2>
                <button type="button" class="btn sheet-close" data-testid="palette-close"
                    aria-label="Close the layer list" onclick={close_sheet}>{"Close"}</button>
                <button type="button" class="btn btn-quiet palette-toggle" data-testid="palette-toggle"
                    aria-expanded={(!*collapsed).to_string()} aria-label="Show or hide the layer palette"
                    onclick={toggle_all}>
                    { if *collapsed { "Show" } else { "Hide" } }
                </button>
            </div>
            <div class="palette-body">
                <input type="search" class="input search" data-testid="palette-search"
                    placeholder="Search layers…" aria-label="Search layers by name"
                    value={(*query).clone()} oninput={on_search} onkeydown={on_search_key} />
                <p class="palette-hint"><span class="on-mouse">{"Click or press Enter to add · drag to place · ↑↓ to move"}</span><span class="on-touch">{"Tap to add · drag by the grip to place"}</span></p>
                <div class="palette-list" ref={list} role="group" aria-label="Layers to add" onkeydown={Callback::from(|e: KeyboardEvent| rove(&e))}
                    onfocusin={Callback::from(|e: FocusEvent| adopt_focus(&e))}>
                    { for groups }
                </div>
            </div>
        </aside>
    }
}

/// The list's buttons (group toggles and layers) that are on screen, in order.
fn list_buttons(from: &web_sys::Element) -> Vec<HtmlElement> {
    let Some(list) = from.closest(".palette-list").ok().flatten() else {
        return Vec::new();
    };
    let Ok(all) =
        list.query_selector_all(".group-toggle, .palette-items:not([hidden]) .palette-item")
    else {
        return Vec::new();
    };
    (0..all.length())
        .filter_map(|i| all.item(i)?.dyn_into::<HtmlElement>().ok())
        .collect()
}

/// Roving tab stop: the focused button is the list's one Tab stop (`tabindex="0"`).
fn adopt_focus(e: &FocusEvent) {
    let Some(el) = e.target().and_then(|t| t.dyn_into::<HtmlElement>().ok()) else {
        return;
    };
    for b in list_buttons(&el) {
        b.set_tab_index(if b == el { 0 } else { -1 });
    }
}

/// Arrow keys, Home and End move the focus inside the list.
fn rove(e: &KeyboardEvent) {
    let Some(el) = e.target().and_then(|t| t.dyn_into::<HtmlElement>().ok()) else {
        return;
    };
    let buttons = list_buttons(&el);
    let Some(i) = buttons.iter().position(|b| *b == el) else {
        return;
    };
    let last = buttons.len() - 1;
    let to = match e.key().as_str() {
        "ArrowDown" | "ArrowRight" => (i + 1).min(last),
        "ArrowUp" | "ArrowLeft" => i.saturating_sub(1),
        "Home" => 0,
        "End" => last,
        _ => return,
    };
    e.prevent_default();
    if let Some(b) = buttons.get(to) {
        let _ = b.focus();
    }
}

/// Make the first button of the list its Tab stop when none is (after a render).
fn first_tab_stop(list: &NodeRef) {
    let Some(el) = list.cast::<web_sys::Element>() else {
        return;
    };
    let Ok(Some(first)) = el.query_selector(".group-toggle") else {
        return;
    };
    let has_stop = el.query_selector("[tabindex='0']").ok().flatten().is_some();
    if let (false, Ok(first)) = (has_stop, first.dyn_into::<HtmlElement>()) {
        first.set_tab_index(0);
    }
}

/// A class of the group (for its colour dot).
fn kinds_first(group: Group) -> &'static str {
    CATALOGUE
        .iter()
        .find(|k| k.group == group)
        .map_or("", |k| k.class_name)
}
