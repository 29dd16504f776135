//! Web entry point built by Trunk (`index.html` names this binary).

#[cfg(target_arch = "wasm32")]
mod bench;

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
