//! The top bar: brand, undo / redo, reset to the default model, the buttons that open the
//! examples gallery, the code panel and the share panel, the teacher-mode toggle, and the
//! notice line for refused actions.

use yew::prelude::*;

use crate::app::state::Action;

/// The panels the toolbar opens (as dialogs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Panel {
    Examples,
    Code,
    Share,
}

#[derive(Properties, PartialEq)]
pub struct ToolbarProps {
    pub can_undo: bool,
    pub can_redo: bool,
    pub notice: Option<AttrValue>,
    pub dispatch: Callback<Action>,
    /// Teacher mode is on.
    #[prop_or_default]
    pub teacher: bool,
    /// Open a panel.
    #[prop_or_default]
    pub on_panel: Callback<Panel>,
}

#[function_component(Toolbar)]
pub fn toolbar(props: &ToolbarProps) -> Html {
    let act = |a: Action| {
        let d = props.dispatch.clone();
        Callback::from(move |_: MouseEvent| d.emit(a.clone()))
    };
    let open = |panel: Panel| {
        let cb = props.on_panel.clone();
        Callback::from(move |_: MouseEvent| cb.emit(panel))
    };
    let status = props.notice.clone().map(|n| n.to_string());
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
                <span class="toolbar-sep" aria-hidden="true"></span>
                <button type="button" class="btn" data-testid="open-presets"
                    aria-label="Examples: presets and exercises" title="Seed questions, classic models and exercises" onclick={open(Panel::Examples)}>
                    <svg viewBox="0 0 20 20" aria-hidden="true"><rect x="3" y="3" width="6" height="6" rx="1.5"/><rect x="11" y="3" width="6" height="6" rx="1.5"/><rect x="3" y="11" width="6" height="6" rx="1.5"/><rect x="11" y="11" width="6" height="6" rx="1.5"/></svg>
                    <span class="btn-text">{"Examples"}</span>
                </button>
                <button type="button" class="btn" data-testid="open-code"
                    aria-label="Code: import and export" title="Import Keras code or a model file; export Keras / PyTorch code" onclick={open(Panel::Code)}>
                    <svg viewBox="0 0 20 20" aria-hidden="true"><path d="M7 6l-4 4 4 4M13 6l4 4-4 4"/></svg>
                    <span class="btn-text">{"Code"}</span>
                </button>
                <button type="button" class={classes!("btn", props.teacher.then_some("btn-on"))} data-testid="exercise-mode"
                    aria-pressed={props.teacher.to_string()} aria-label="Teacher mode: write an exercise"
                    title="Teacher mode: set goals for an exercise and share it" onclick={act(Action::SetTeacher(!props.teacher))}>
                    <svg viewBox="0 0 20 20" aria-hidden="true"><path d="M2 8l8-4 8 4-8 4zM5 9.5V14c2.5 2 7.5 2 10 0V9.5M18 8v5"/></svg>
                    <span class="btn-text">{"Teacher"}</span>
                </button>
                <button type="button" class="btn btn-primary" data-testid="share"
                    aria-label="Share: link and QR code" title="A link (and QR code) that opens this model" onclick={open(Panel::Share)}>
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
