//! Where the starting model comes from and where work is kept: a share link in the URL
//! fragment wins, then the autosave in `localStorage` (key [`KEY`], our model JSON), then
//! [`Model::seed`].

use wasm_bindgen::JsValue;
use web_sys::Storage;

use crate::codec::{link, model_json};
use crate::engine::Model;

/// `localStorage` key of the autosaved model.
pub const KEY: &str = "flatland:model";

fn local() -> Option<Storage> {
    gloo::utils::window().local_storage().ok().flatten()
}

/// The autosaved model, if there is a readable one.
pub fn load() -> Option<Model> {
    let text = local()?.get_item(KEY).ok()??;
    let v: serde_json::Value = serde_json::from_str(&text).ok()?;
    model_json::from_value(&v).ok()
}

/// Autosave (best effort: private windows may refuse storage).
pub fn save(model: &Model) {
    if let Some(s) = local() {
        let _ = s.set_item(KEY, &model_json::to_string(model));
    }
}

/// Forget the autosave.
pub fn clear() {
    if let Some(s) = local() {
        let _ = s.remove_item(KEY);
    }
}

/// A model from a share link in the URL fragment. The fragment is then removed, so a reload
/// shows the autosaved work rather than the original link.
fn from_link() -> Option<Result<Model, String>> {
    let win = gloo::utils::window();
    let hash = win.location().hash().ok()?;
    if !hash.starts_with("#m") {
        return None;
    }
    let result = link::decode(&hash)
        .map(|p| p.model)
        .map_err(|e| e.to_string());
    if let Ok(history) = win.history() {
        let loc = win.location();
        let url = format!(
            "{}{}",
            loc.pathname().unwrap_or_default(),
            loc.search().unwrap_or_default()
        );
        let _ = history.replace_state_with_url(&JsValue::NULL, "", Some(&url));
    }
    Some(result)
}

/// The model to start with, and a notice when a link could not be opened.
pub fn initial() -> (Model, Option<String>) {
    match from_link() {
        Some(Ok(m)) => (m, None),
        Some(Err(e)) => (
            load().unwrap_or_else(Model::seed),
            Some(format!("Could not open the link: {e}")),
        ),
        None => (load().unwrap_or_else(Model::seed), None),
    }
}
