//! The top bar: brand, undo / redo, reset to the default model, share link, and the notice
//! line for refused actions.

use std::rc::Rc;

use yew::prelude::*;

use super::clipboard::copy_text;
use crate::app::state::Action;
use crate::codec::link::encode_model;
use crate::engine::Model;

#[derive(Properties, PartialEq)]
pub struct ToolbarProps {
    pub model: Rc<Model>,
    pub can_undo: bool,
    pub can_redo: bool,
    pub notice: Option<AttrValue>,
    pub dispatch: Callback<Action>,
}

#[function_component(Toolbar)]
pub fn toolbar(props: &ToolbarProps) -> Html {
    let shared = use_state(|| None::<String>);
    let act = |a: Action| {
        let d = props.dispatch.clone();
        Callback::from(move |_: MouseEvent| d.emit(a.clone()))
    };
    let on_share = {
        let model = props.model.clone();
        let shared = shared.clone();
        Callback::from(move |_: MouseEvent| {
            let loc = gloo::utils::window().location();
            let base = format!(
                "{}{}{}",
                loc.origin().unwrap_or_default(),
                loc.pathname().unwrap_or_default(),
                loc.search().unwrap_or_default()
            );
            let url = format!("{base}{}", encode_model(&model));
            let shared = shared.clone();
            let shown = url.clone();
            copy_text(
                &url,
                Callback::from(move |ok: bool| {
                    shared.set(Some(if ok {
                        "Link copied ✓".to_string()
                    } else {
                        shown.clone()
                    }));
                }),
            );
        })
    };
    {
        let shared = shared.clone();
        use_effect_with(props.model.clone(), move |_| shared.set(None));
    }
    let status = props
        .notice
        .clone()
        .map(|n| n.to_string())
        .or_else(|| (*shared).clone());
    html! {
        <header class="topbar">
            <div class="brand">
                <svg class="logo" viewBox="0 0 32 32" aria-hidden="true">
                    <rect x="4" y="5" width="24" height="6" rx="2" />
                    <rect x="7" y="13" width="18" height="6" rx="2" />
                    <rect x="11" y="21" width="10" height="6" rx="2" />
                </svg>
                <div>
                    <h1>{"Flatland"}</h1>
                    <p class="tagline">{"Stack Keras layers, watch every shape"}</p>
                </div>
            </div>
            <nav class="toolbar" aria-label="Model actions">
                <button type="button" class="btn" data-testid="undo" disabled={!props.can_undo}
                    aria-label="Undo (Ctrl+Z)" title="Undo (Ctrl+Z)" onclick={act(Action::Undo)}>
                    <svg viewBox="0 0 20 20" aria-hidden="true"><path d="M7 5L3 9l4 4M3.5 9H12a5 5 0 0 1 0 10H9"/></svg>
                    <span class="btn-text">{"Undo"}</span>
                </button>
                <button type="button" class="btn" data-testid="redo" disabled={!props.can_redo}
                    aria-label="Redo (Ctrl+Shift+Z)" title="Redo (Ctrl+Shift+Z)" onclick={act(Action::Redo)}>
                    <svg viewBox="0 0 20 20" aria-hidden="true"><path d="M13 5l4 4-4 4M16.5 9H8a5 5 0 0 0 0 10h3"/></svg>
                    <span class="btn-text">{"Redo"}</span>
                </button>
                <button type="button" class="btn" data-testid="reset"
                    aria-label="Reset to default model" title="Reset to the default model (undoable)" onclick={act(Action::Reset)}>
                    <span class="btn-text">{"Reset"}</span>
                </button>
                <button type="button" class="btn btn-primary" data-testid="share"
                    aria-label="Copy a share link to this model" title="Copy a link that opens this model" onclick={on_share}>
                    <svg viewBox="0 0 20 20" aria-hidden="true"><path d="M8 12l4-4M7 9.5L5 11.5a2.5 2.5 0 0 0 3.5 3.5l2-2M13 10.5l2-2A2.5 2.5 0 0 0 11.5 5l-2 2"/></svg>
                    <span class="btn-text">{"Share"}</span>
                </button>
            </nav>
            <p class="notice" role="status" aria-live="polite" data-testid="notice">
                { status.unwrap_or_default() }
            </p>
        </header>
    }
}
