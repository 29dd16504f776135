//! The page's side of the Train panel: the Train button. The panel and the training are not
//! in the page's first module: the button loads the tools module (the same files as the
//! tools worker, `src/bin/flatland-tools.rs`) into the page itself, where it draws the panel
//! (`src/app/train_panel.rs`) and starts its own worker for the training. The panel reads
//! models A and B from the link in the address bar, which the page keeps up to date.

use web_sys::js_sys::Function;
use web_sys::wasm_bindgen::JsValue;

/// Show the panel, or load the module the first time: `m` is the worker loader's name, so
/// the glue and the module are `m` without `_loader.js` plus `.js` / `_bg.wasm`
/// (no-modules glue: it defines `wasm_bindgen`).
const OPEN: &str = "if(window.__flatlandTrain)return dispatchEvent(new Event('flatland-train-open'));window.__flatlandTrain=1;const b=m.slice(0,-10),s=document.createElement('script');s.src=b+'.js';s.onload=()=>wasm_bindgen({module_or_path:b+'_bg.wasm'});document.head.append(s)";

/// Open the Train panel.
pub fn open() {
    let meta = gloo::utils::document()
        .query_selector("meta[name=flatland-tools]")
        .ok()
        .flatten()
        .and_then(|m| m.get_attribute("content"));
    let loader = crate::app::share::tools_loader(meta.as_deref());
    let _ = Function::new_with_args("m", OPEN).call1(&JsValue::NULL, &loader.into());
}
