//! The web app's tools worker, built by Trunk as a Web Worker (`data-type="worker"` in
//! index.html): the Keras code importer and the Keras / PyTorch exporters, in a second wasm
//! module that the page loads only when the Code panel or a dropped `.py` file needs it, so
//! the first load does not carry them.
//!
//! Protocol (see `src/app/components/code_panel.rs`, the page's side): once loaded, the worker
//! posts `"ready"`; each request is an array `[id, op, input]` of a number and two strings, and
//! the reply is `[id, ok, text]`, where `text` is [`flatland::app::share::tools_run`]'s result
//! or error.

#[cfg(target_arch = "wasm32")]
fn main() {
    use wasm_bindgen::prelude::*;
    use wasm_bindgen::JsCast;
    use web_sys::js_sys::{global, Array};
    use web_sys::{DedicatedWorkerGlobalScope, MessageEvent};

    let scope: DedicatedWorkerGlobalScope = global().unchecked_into();
    let reply_to = scope.clone();
    let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |e: MessageEvent| {
        let msg = Array::from(&e.data());
        let op = msg.get(1).as_string().unwrap_or_default();
        let input = msg.get(2).as_string().unwrap_or_default();
        let (ok, text) = match flatland::app::share::tools_run(&op, &input) {
            Ok(t) => (true, t),
            Err(t) => (false, t),
        };
        let _ = reply_to.post_message(&Array::of3(&msg.get(0), &ok.into(), &text.into()));
    });
    scope.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    // The handler lives as long as the worker.
    on_message.forget();
    let _ = scope.post_message(&"ready".into());
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    eprintln!(
        "flatland-tools is the web app's tools worker: build it with `trunk build --release --offline`."
    );
}
