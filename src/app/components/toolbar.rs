//! The top bar: brand, undo / redo, reset to the default model, the buttons that open the
//! examples gallery, the code panel and the share panel, the teacher-mode toggle, and the
//! notice line for refused actions.

use wasm_bindgen::JsCast;
use yew::prelude::*;

use crate::app::state::Action;

/// The panels the toolbar opens (as dialogs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Panel {
    Examples,
    Code,
    Share,
    /// The Train panel, drawn by the tools module (`src/app/tools_host.rs`), not a dialog.
    Train,
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
    /// An exercise hides something: turning teacher mode on asks first (a student could
    /// otherwise reveal it with one click).
    #[prop_or_default]
    pub ask_teacher: bool,
    /// Open a panel.
    #[prop_or_default]
    pub on_panel: Callback<Panel>,
}

/// One toolbar button: `icon` is the inner markup of its 20×20 SVG icon (static text of
/// this file). One function for every button, so its markup is compiled once.
#[inline(never)]
#[allow(clippy::too_many_arguments)]
fn tool_button(
    testid: &'static str,
    class: Classes,
    label: &'static str,
    title: &'static str,
    icon: &'static str,
    text: &'static str,
    disabled: bool,
    pressed: Option<bool>,
    onclick: Callback<MouseEvent>,
) -> Html {
    html! {
        <button type="button" {class} data-testid={testid} {disabled}
            aria-pressed={pressed.map(|p| AttrValue::from(p.to_string()))}
            aria-label={label} {title} {onclick}>
            if !icon.is_empty() {
                { Html::from_html_unchecked(AttrValue::from(format!("<svg viewBox=\"0 0 20 20\" aria-hidden=\"true\">{icon}</svg>"))) }
            }
            <span class="btn-text">{text}</span>
        </button>
    }
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
    let btn = || classes!("btn");
    let on_teacher = {
        let d = props.dispatch.clone();
        let (on, ask) = (props.teacher, props.ask_teacher);
        Callback::from(move |_: MouseEvent| {
            let ok = on
                || !ask
                || gloo::utils::window()
                    .confirm_with_message(
                        "Teacher mode shows everything this exercise hides. Open it?",
                    )
                    .unwrap_or(false);
            if ok {
                d.emit(Action::SetTeacher(!on));
            }
        })
    };
    let status = props.notice.clone().map(|n| n.to_string());
    // Skip links focus a region (no `#id` link: the address bar's fragment is the model).
    let skip = |id: &'static str| {
        Callback::from(move |e: MouseEvent| {
            e.prevent_default();
            let el = gloo::utils::document().get_element_by_id(id);
            if let Some(el) = el.and_then(|el| el.dyn_into::<web_sys::HtmlElement>().ok()) {
                el.scroll_into_view();
                let _ = el.focus();
            }
        })
    };
    html! {
        <header class="topbar">
            <nav class="skip-links" aria-label="Skip links">
                <a href="" data-testid="skip-stack" onclick={skip("stack")}>{"Skip to the model"}</a>
                <a href="" onclick={skip("palette")}>{"Skip to the layers"}</a>
                <a href="" onclick={skip("visuals")}>{"Skip to the visuals"}</a>
            </nav>
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
                { tool_button("undo", btn(), "Undo (Ctrl+Z)", "Undo (Ctrl+Z)",
                    r#"<path d="M7 5L3 9l4 4M3.5 9H12a5 5 0 0 1 0 10H9"/>"#, "Undo", !props.can_undo, None, act(Action::Undo)) }
                { tool_button("redo", btn(), "Redo (Ctrl+Shift+Z)", "Redo (Ctrl+Shift+Z)",
                    r#"<path d="M13 5l4 4-4 4M16.5 9H8a5 5 0 0 0 0 10h3"/>"#, "Redo", !props.can_redo, None, act(Action::Redo)) }
                { tool_button("reset", btn(), "Reset to default model", "Reset to the default model (undoable)",
                    "", "Reset", false, None, act(Action::Reset)) }
                <span class="toolbar-sep" aria-hidden="true"></span>
                { tool_button("open-presets", btn(), "Examples: presets and exercises", "Seed questions, classic models and exercises",
                    r#"<rect x="3" y="3" width="6" height="6" rx="1.5"/><rect x="11" y="3" width="6" height="6" rx="1.5"/><rect x="3" y="11" width="6" height="6" rx="1.5"/><rect x="11" y="11" width="6" height="6" rx="1.5"/>"#,
                    "Examples", false, None, open(Panel::Examples)) }
                { tool_button("open-code", btn(), "Code: import and export", "Import Keras code or a model file; export Keras / PyTorch code",
                    r#"<path d="M7 6l-4 4 4 4M13 6l4 4-4 4"/>"#, "Code", false, None, open(Panel::Code)) }
                { tool_button("open-train", btn(), "Train model A and model B", "Train A and B on the same data and compare their curves",
                    r#"<path d="M3 16l4-6 3 3 4-7 3 4"/>"#, "Train", false, None, open(Panel::Train)) }
                { tool_button("exercise-mode", classes!("btn", props.teacher.then_some("btn-on")), "Teacher mode: write an exercise",
                    "Teacher mode: set goals for an exercise and share it",
                    r#"<path d="M2 8l8-4 8 4-8 4zM5 9.5V14c2.5 2 7.5 2 10 0V9.5M18 8v5"/>"#, "Teacher", false, Some(props.teacher),
                    on_teacher) }
                { tool_button("share", classes!("btn", "btn-primary"), "Share: link and QR code", "A link (and QR code) that opens this model",
                    r#"<path d="M8 12l4-4M7 9.5L5 11.5a2.5 2.5 0 0 0 3.5 3.5l2-2M13 10.5l2-2A2.5 2.5 0 0 0 11.5 5l-2 2"/>"#,
                    "Share", false, None, open(Panel::Share)) }
            </nav>
            <p class="notice" role="status" aria-live="polite" data-testid="notice">
                { status.unwrap_or_default() }
            </p>
        </header>
    }
}
