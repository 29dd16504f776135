//! Web entry point built by Trunk (`index.html` names this binary).

#[cfg(all(target_arch = "wasm32", feature = "bench-hooks"))]
mod bench;

/// The Train panel (the tools module, loaded into this page) hands over model A's trained
/// weights, flattened in `get_weights()` order: `window.wasmBindings.trained_weights(…)`.
#[cfg(target_arch = "wasm32")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn trained_weights(values: Vec<f32>, label: String) {
    flatland::app::visuals::set_trained(values, label);
}

#[cfg(target_arch = "wasm32")]
fn main() {
    flatland::app::start();
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    eprintln!(
        "flatland-web is the browser entry point: build it with `trunk build --release --offline`."
    );
}
