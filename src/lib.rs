//! Flatland: a Keras-exact layer playground. Three rooms:
//! - [`engine`]: pure Rust shapes, params, forward pass and explanations;
//! - [`codec`]: model formats (our JSON, share links, Keras JSON, `NumPy` files);
//! - [`app`]: the Yew front end (its pure `state` module compiles everywhere; the
//!   components are wasm32 only).

pub mod codec;
pub mod engine;

pub mod app;
