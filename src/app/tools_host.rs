//! The page's side of the panels the tools module draws: the Train panel and the Code panel
//! are not in the page's first module. Their buttons load the tools module (the same files
//! as the tools worker, `src/bin/flatland-tools.rs`) into the page itself, where it draws the
//! panel (`src/app/train_panel.rs`, `src/app/code_dialog.rs`); later presses send it an
//! open event. The Train panel reads models A and B from the link in the address bar, which
//! the page keeps up to date; the Code panel gets the model and the last import's report as
//! a [`CodeView`], and hands text to import back ([`ImportAsk`], see [`use_import_asks`]).

use gloo::events::EventListener;
use wasm_bindgen::JsCast;
use web_sys::js_sys::{Function, Reflect};
use web_sys::wasm_bindgen::JsValue;
use yew::prelude::*;

use crate::app::components::tools_worker::ImportRequest;
use crate::app::tools_protocol::{
    CodeView, ImportAsk, ImportReport, WireModel, CODE_VIEW_GLOBAL, IMPORT_EVENT,
};
use crate::engine::Model;

/// Open panel `w` ("train" or "code"), or load the module the first time (it reads
/// `__flatlandTools` to know which panel to open; a module that fails to load may be asked
/// again): `m` is the worker loader's name, so the glue and the module are `m` without
/// `_loader.js` plus `.js` / `_bg.wasm` (no-modules glue: it defines `wasm_bindgen`).
const OPEN: &str = "if(window.__flatlandTools)return dispatchEvent(new Event('flatland-'+w+'-open'));window.__flatlandTools=w;const b=m.slice(0,-10),s=document.createElement('script');s.src=b+'.js';s.onload=()=>wasm_bindgen({module_or_path:b+'_bg.wasm'}).catch(()=>{window.__flatlandTools=0});s.onerror=()=>{window.__flatlandTools=0};document.head.append(s)";

/// Open the tools module's panel `which` ("train" or "code").
fn open(which: &str) {
    let meta = gloo::utils::document()
        .query_selector("meta[name=flatland-tools]")
        .ok()
        .flatten()
        .and_then(|m| m.get_attribute("content"));
    let loader = crate::app::share::tools_loader(meta.as_deref());
    let _ =
        Function::new_with_args("m,w", OPEN).call2(&JsValue::NULL, &loader.into(), &which.into());
}

/// Open the Train panel.
pub fn open_train() {
    open("train");
}

/// Open the Code panel on `model` with the last import's `report`, or hand it these when it
/// is open.
pub fn open_code(model: &Model, report: Option<&ImportReport>) {
    let view = CodeView {
        model: WireModel::of(model),
        report: report.cloned(),
    };
    let _ = Reflect::set(
        &gloo::utils::window(),
        &CODE_VIEW_GLOBAL.into(),
        &view.to_json().into(),
    );
    open("code");
}

/// Import what the Code panel hands over ([`IMPORT_EVENT`]) with `on_import`, as long as
/// the component lives. `on_import` is the first render's.
#[hook]
pub fn use_import_asks(on_import: Callback<ImportRequest>) {
    use_effect_with((), move |()| {
        let listener = EventListener::new(&gloo::utils::window(), IMPORT_EVENT, move |e| {
            let ask = e
                .dyn_ref::<web_sys::CustomEvent>()
                .and_then(|c| c.detail().as_string())
                .and_then(|t| ImportAsk::from_json(&t).ok());
            if let Some(ImportAsk { name, text }) = ask {
                on_import.emit((name, text));
            }
        });
        move || drop(listener)
    });
}
