//! Where the starting state comes from and where work is kept: a share link in the URL
//! fragment wins, then the autosave in `localStorage` (key [`KEY`], our model JSON), then
//! [`Model::seed`] (see [`share::initial_state`]). The fragment then stays and tracks the
//! page: every change rewrites it with `history.replaceState` ([`write_fragment`]), so the
//! address bar always holds a link to what is on screen.

use wasm_bindgen::JsValue;
use web_sys::Storage;

use super::share;
use super::state::State;
use crate::codec::model_json;
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

/// The URL fragment, with its `#` (empty when there is none).
pub fn fragment() -> String {
    gloo::utils::window().location().hash().unwrap_or_default()
}

/// The page URL without the fragment.
pub fn page_url() -> String {
    let loc = gloo::utils::window().location();
    format!(
        "{}{}{}",
        loc.origin().unwrap_or_default(),
        loc.pathname().unwrap_or_default(),
        loc.search().unwrap_or_default()
    )
}

/// Put `fragment` (`#…`, or empty to drop it) in the address bar without a new history
/// entry and without a `hashchange` event. No-op when it is already there.
pub fn write_fragment(fragment: &str) {
    let win = gloo::utils::window();
    let loc = win.location();
    if loc.hash().unwrap_or_default() == fragment {
        return;
    }
    if let Ok(history) = win.history() {
        let url = format!(
            "{}{}{}",
            loc.pathname().unwrap_or_default(),
            loc.search().unwrap_or_default(),
            fragment
        );
        // Keep whatever state the entry has (none of ours).
        let state = history.state().unwrap_or(JsValue::NULL);
        let _ = history.replace_state_with_url(&state, "", Some(&url));
    }
}

/// The state to start with: the link in the address bar, else the autosave, else the seed.
pub fn initial() -> State {
    share::initial_state(&fragment(), load())
}
