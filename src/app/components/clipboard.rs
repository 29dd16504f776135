//! Copy text to the clipboard with `navigator.clipboard.writeText`, reporting whether it
//! worked so the caller can fall back to a selected textarea.

use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsValue;
use web_sys::js_sys::Reflect;
use yew::Callback;

/// Copy `text`; `done` gets `true` when the browser accepted it, `false` otherwise (no
/// clipboard API, permission refused, not a secure context).
pub fn copy_text(text: &str, done: Callback<bool>) {
    let nav = gloo::utils::window().navigator();
    let has_api = Reflect::get(&nav, &JsValue::from_str("clipboard"))
        .is_ok_and(|c| !c.is_undefined() && !c.is_null());
    if !has_api {
        done.emit(false);
        return;
    }
    let promise = nav.clipboard().write_text(text);
    let ok = {
        let done = done.clone();
        Closure::once(move |_: JsValue| done.emit(true))
    };
    let err = Closure::once(move |_: JsValue| done.emit(false));
    let _ = promise.then2(&ok, &err);
    // The promise owns the callbacks from here on; they run at most once.
    ok.forget();
    err.forget();
}

/// Where a Copy button stands: not pressed yet, copied, or refused by the clipboard (the text
/// is then shown selected for Ctrl+C).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CopyState {
    Idle,
    Copied,
    Manual,
}

impl CopyState {
    /// The polite status line that says what the last copy did.
    pub fn status(self) -> yew::Html {
        let text = match self {
            CopyState::Copied => "Copied ✓",
            CopyState::Manual => "Selected: press Ctrl+C (⌘C) to copy",
            CopyState::Idle => "",
        };
        yew::html! { <span class="copy-status" role="status" aria-live="polite">{text}</span> }
    }
}

/// Copy `text` and record the result in `state`; when the clipboard refuses, run `fallback`
/// (select the text for a manual copy) first.
pub fn copy_into(text: &str, state: yew::UseStateHandle<CopyState>, fallback: impl Fn() + 'static) {
    copy_text(
        text,
        Callback::from(move |ok: bool| {
            if ok {
                state.set(CopyState::Copied);
            } else {
                fallback();
                state.set(CopyState::Manual);
            }
        }),
    );
}

/// Select all the text of a textarea (the manual-copy fallback).
pub fn select_all(node: &yew::NodeRef) {
    if let Some(t) = node.cast::<web_sys::HtmlTextAreaElement>() {
        let _ = t.focus();
        t.select();
    }
}
