//! The web app's tools worker, built by Trunk as a Web Worker (`data-type="worker"` in
//! index.html): the Keras code importer and the Keras / `PyTorch` exporters, in a second wasm
//! module that the page loads only when a dropped `.py` file or the Share panel's QR code needs it, so
//! the first load does not carry them.
//!
//! Protocol ([`flatland::app::tools_protocol`]; `src/app/components/code_panel.rs` is the
//! page's side): once loaded, the worker posts [`READY`](flatland::app::tools_protocol::READY);
//! each message it gets is a `Request` as a JSON string, and it posts back one `Reply` JSON
//! string for each ([`handle`](flatland::app::tools_protocol::handle)). Anything else gets a
//! `Malformed` error reply. Training requests (prefixed `train:`) go to the training session
//! ([`flatland::app::train_protocol`]).
//!
//! Loaded into the page itself (the Train or Code button, `src/app/tools_host.rs`), the same
//! module draws the Train panel (`src/app/train_panel.rs`, which starts its own worker of this
//! module for the training) and the Code panel (`src/app/code_dialog.rs`) instead. The benchmark hooks for training (`tools_bench/`) ride here
//! too, not in the page's first module.

#[cfg(target_arch = "wasm32")]
#[path = "tools_bench/mod.rs"]
mod tools_bench;

#[cfg(target_arch = "wasm32")]
fn main() {
    use flatland::app::tools_protocol::{handle, READY};
    use flatland::app::train_protocol::{handle as train, PREFIX};
    use wasm_bindgen::prelude::*;
    use wasm_bindgen::JsCast;
    use web_sys::js_sys::global;
    use web_sys::{DedicatedWorkerGlobalScope, MessageEvent};

    // Loaded into the page itself (the Train or Code button, which says which in
    // `__flatlandTools`): draw both panels, that one open.
    if global().has_type::<web_sys::Window>() {
        let first = web_sys::js_sys::Reflect::get(&global(), &"__flatlandTools".into())
            .ok()
            .and_then(|v| v.as_string())
            .unwrap_or_default();
        flatland::app::panel_root::spend_tree_ids();
        flatland::app::train_panel::mount(first == "train");
        flatland::app::code_dialog::mount(first == "code");
        return;
    }
    let scope: DedicatedWorkerGlobalScope = global().unchecked_into();
    let reply_to = scope.clone();
    let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |e: MessageEvent| {
        // Not a string: `handle` reports the empty message as malformed.
        let request = e.data().as_string().unwrap_or_default();
        let reply = match request.strip_prefix(PREFIX) {
            Some(t) => train(t),
            None => handle(&request),
        };
        let _ = reply_to.post_message(&reply.into());
    });
    scope.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    // The handler lives as long as the worker.
    on_message.forget();
    let _ = scope.post_message(&READY.into());
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    eprintln!(
        "flatland-tools is the web app's tools worker: build it with `trunk build --release --offline`."
    );
}
