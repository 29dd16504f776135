//! Flatland: a Keras-exact layer playground. Three rooms:
//! - [`engine`]: pure Rust shapes, params, forward pass and explanations;
//! - [`codec`]: model formats (our JSON, share links, Keras JSON, NumPy files);
//! - `app` (wasm32 only): the Yew front end.

pub mod codec;
pub mod engine;

#[cfg(target_arch = "wasm32")]
pub mod app;
