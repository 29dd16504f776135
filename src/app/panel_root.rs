//! Where the tools module, loaded into the page (`src/app/tools_host.rs`), draws its panels:
//! each in an element of its own at the end of `<body>`, outside the page's Yew app.

use web_sys::{Element, Event};
use yew::prelude::*;

/// The events that stop at a panel's root, so that the page's own listeners on the document
/// (undo keys, drag and drop of cards) do not see the panel's.
const STOPPED: [&str; 24] = [
    "click",
    "dblclick",
    "input",
    "change",
    "keydown",
    "keyup",
    "keypress",
    "pointerdown",
    "pointerup",
    "pointermove",
    "pointerover",
    "pointerout",
    "mousedown",
    "mouseup",
    "mouseover",
    "mouseout",
    "touchstart",
    "touchend",
    "focusin",
    "focusout",
    "submit",
    "contextmenu",
    "wheel",
    "dragstart",
];

/// Add the panel's styles (`css`) to the page's `<head>`.
pub fn add_style(css: &str) {
    if let Ok(style) = gloo::utils::document().create_element("style") {
        style.set_text_content(Some(css));
        let _ = gloo::utils::head().append_child(&style);
    }
}

/// A new element `<div id={id}>` at the end of `<body>`, for a panel's app.
pub fn root(id: &str) -> Option<Element> {
    let root = gloo::utils::document().create_element("div").ok()?;
    root.set_id(id);
    for name in STOPPED {
        gloo::events::EventListener::new(&root, name, Event::stop_propagation).forget();
    }
    gloo::utils::body().append_child(&root).ok()?;
    Some(root)
}

/// Yew brands each app's root with a tree id counted from 1 in each wasm module, and an
/// event goes to the app whose id its closest branded element has. The page's app is tree 1
/// in its module; so that the page's app never takes a panel's events for its own, this
/// module spends ids 1 to 3 on empty apps in detached elements first. Call it once, before
/// the first panel is drawn.
pub fn spend_tree_ids() {
    for _ in 0..3 {
        if let Ok(spare) = gloo::utils::document().create_element("div") {
            let _ = yew::Renderer::<Nothing>::with_root(spare).render();
        }
    }
}

#[function_component(Nothing)]
fn nothing() -> Html {
    html! {}
}
