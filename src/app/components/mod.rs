//! Leaf components: each takes data and `Callback` props and builds [`Action`]s; none of
//! them owns model state.
//!
//! [`Action`]: crate::app::state::Action

pub mod card;
pub mod clipboard;
pub mod dialog;
pub mod dnd;
pub mod exercise;
pub mod field;
pub mod gallery;
pub mod inspector;
pub mod palette;
pub mod share_panel;
pub mod stack;
pub mod summary;
pub mod toolbar;
pub mod tools_worker;

use crate::engine::{Group, LayerSpec};

/// A click that sends `a`.
#[cfg(target_arch = "wasm32")]
pub fn on_click(
    dispatch: &yew::Callback<crate::app::state::Action>,
    a: crate::app::state::Action,
) -> yew::Callback<web_sys::MouseEvent> {
    let d = dispatch.clone();
    yew::Callback::from(move |_: web_sys::MouseEvent| d.emit(a.clone()))
}

/// Bring something that just opened into view and give it focus: `scrollIntoView` (the
/// nearest edge, so a panel already in view does not jump) and `focus({preventScroll})` on
/// the element (which needs a `tabindex`).
#[cfg(target_arch = "wasm32")]
pub fn reveal_and_focus(el: &web_sys::Element) {
    use wasm_bindgen::JsCast;
    use web_sys::js_sys::{Function, Object, Reflect};
    let opts = Object::new();
    let _ = Reflect::set(&opts, &"block".into(), &"nearest".into());
    let call = |name: &str, arg: &Object| {
        if let Ok(f) = Reflect::get(el, &name.into()).and_then(JsCast::dyn_into::<Function>) {
            let _ = f.call1(el, arg);
        }
    };
    call("scrollIntoView", &opts);
    let focus_opts = Object::new();
    let _ = Reflect::set(&focus_opts, &"preventScroll".into(), &true.into());
    call("focus", &focus_opts);
}

/// CSS class carrying a layer class's group colour, e.g. `g-convolution`.
pub fn group_class(class_name: &str) -> &'static str {
    match LayerSpec::group_of(class_name) {
        Some(Group::Core) => "g-core",
        Some(Group::Convolution) => "g-convolution",
        Some(Group::Pooling) => "g-pooling",
        Some(Group::Normalization) => "g-normalization",
        Some(Group::Recurrent) => "g-recurrent",
        Some(Group::Reshaping) => "g-reshaping",
        Some(Group::Regularization) => "g-regularization",
        Some(Group::Activation) => "g-activation",
        None => "g-unknown",
    }
}
