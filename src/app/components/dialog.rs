//! A modal dialog over the page: a labelled `role="dialog"` box on a backdrop. It takes
//! focus when it opens and gives it back when it closes; Escape, the close button and a
//! click on the backdrop close it; Tab stays inside.

use wasm_bindgen::JsCast;
use web_sys::{Element, HtmlElement, KeyboardEvent};
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct DialogProps {
    pub title: AttrValue,
    /// `data-testid` of the dialog box.
    pub testid: AttrValue,
    pub on_close: Callback<()>,
    #[prop_or_default]
    pub class: Classes,
    #[prop_or_default]
    pub children: Html,
}

const FOCUSABLE: &str = "button:not([disabled]), [href], input:not([disabled]), select:not([disabled]), textarea:not([disabled]), [tabindex]:not([tabindex='-1'])";

fn focusables(root: &Element) -> Vec<HtmlElement> {
    let Ok(list) = root.query_selector_all(FOCUSABLE) else {
        return Vec::new();
    };
    (0..list.length())
        .filter_map(|i| list.item(i))
        .filter_map(|n| n.dyn_into::<HtmlElement>().ok())
        .filter(|e| e.offset_parent().is_some())
        .collect()
}

#[function_component(Dialog)]
pub fn dialog(props: &DialogProps) -> Html {
    let node = use_node_ref();
    // Whether the current press started on the backdrop (a text selection dragged out of
    // the box must not close it).
    let press_on_backdrop = use_mut_ref(|| false);

    {
        let node = node.clone();
        use_effect_with((), move |()| {
            let before = gloo::utils::document().active_element();
            if let Some(el) = node.cast::<HtmlElement>() {
                let _ = el.focus();
            }
            move || {
                if let Some(el) = before.and_then(|e| e.dyn_into::<HtmlElement>().ok()) {
                    let _ = el.focus();
                }
            }
        });
    }

    let close = {
        let cb = props.on_close.clone();
        Callback::from(move |_: MouseEvent| cb.emit(()))
    };
    let onkeydown = {
        let cb = props.on_close.clone();
        let node = node.clone();
        Callback::from(move |e: KeyboardEvent| match e.key().as_str() {
            "Escape" => {
                e.prevent_default();
                e.stop_propagation();
                cb.emit(());
            }
            "Tab" => {
                let Some(root) = node.cast::<Element>() else {
                    return;
                };
                let items = focusables(&root);
                let (Some(first), Some(last)) = (items.first(), items.last()) else {
                    return;
                };
                let active = gloo::utils::document().active_element();
                let at = |el: &HtmlElement| active.as_ref() == Some(el.as_ref());
                if e.shift_key() && (at(first) || active.as_ref() == Some(&root)) {
                    e.prevent_default();
                    let _ = last.focus();
                } else if !e.shift_key() && at(last) {
                    e.prevent_default();
                    let _ = first.focus();
                }
            }
            _ => {}
        })
    };
    let onmousedown = {
        let press = press_on_backdrop.clone();
        Callback::from(move |e: MouseEvent| {
            *press.borrow_mut() = e.target() == e.current_target();
        })
    };
    let onclick = {
        let press = press_on_backdrop.clone();
        let cb = props.on_close.clone();
        Callback::from(move |e: MouseEvent| {
            if e.target() == e.current_target() && *press.borrow() {
                cb.emit(());
            }
            *press.borrow_mut() = false;
        })
    };
    let title_id = format!("{}-title", props.testid);
    html! {
        <div class="dialog-backdrop" {onmousedown} {onclick}>
            <div ref={node} class={classes!("dialog", props.class.clone())} role="dialog" aria-modal="true"
                aria-labelledby={title_id.clone()} data-testid={props.testid.clone()} tabindex="-1" {onkeydown}>
                <header class="dialog-head">
                    <h2 id={title_id}>{props.title.clone()}</h2>
                    <button type="button" class="icon-btn" data-testid="dialog-close" aria-label="Close" title="Close (Esc)" onclick={close}>
                        <svg viewBox="0 0 20 20" aria-hidden="true"><path d="M5 5l10 10M15 5L5 15"/></svg>
                    </button>
                </header>
                <div class="dialog-body">
                    { props.children.clone() }
                </div>
            </div>
        </div>
    }
}
