//! The palette: every catalogue layer, grouped, searchable. Click or Enter adds the layer
//! (after the selected card, or at the end); dragging places it anywhere in the stack.

use std::collections::HashSet;

use wasm_bindgen::JsCast;
use web_sys::{HtmlInputElement, PointerEvent};
use yew::prelude::*;

use super::dnd::{DragApi, DragSource};
use super::group_class;
use crate::app::state::{palette_matches, word_parts, Action};
use crate::engine::{Group, CATALOGUE};

#[derive(Properties, PartialEq)]
pub struct PaletteProps {
    pub selected: Option<usize>,
    pub dispatch: Callback<Action>,
    pub drag: DragApi,
}

#[function_component(Palette)]
pub fn palette(props: &PaletteProps) -> Html {
    let query = use_state(String::new);
    let collapsed = use_state(|| false);
    let closed_groups = use_state(HashSet::<Group>::new);

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
        let at = props.selected.map(|s| s + 1);
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
            let at = props.selected.map(|s| s + 1);
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
                        data-testid="palette-item" data-class={class}
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
                    <button type="button" class="group-toggle" aria-expanded={open.to_string()}
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

    html! {
        <aside class={classes!("palette", collapsed.then_some("collapsed"))} id="palette" tabindex="-1" data-testid="palette" aria-label="Layer palette">
            <div class="palette-head">
                <h2>{"Layers"}</h2>
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
                <p class="palette-hint"><span class="on-mouse">{"Click or press Enter to add · drag to place"}</span><span class="on-touch">{"Tap to add · drag by the grip to place"}</span></p>
                { for groups }
            </div>
        </aside>
    }
}

/// A class of the group (for its colour dot).
fn kinds_first(group: Group) -> &'static str {
    CATALOGUE
        .iter()
        .find(|k| k.group == group)
        .map_or("", |k| k.class_name)
}
