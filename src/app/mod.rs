//! The Yew front end. [`state`] is the pure model of the page (compiled everywhere, so the
//! reducer is tested natively); everything that touches yew or the DOM is wasm32-only.

pub mod state;

#[cfg(target_arch = "wasm32")]
pub mod visuals;
