//! The Flatland CLI.
//!
//! ```text
//! flatland summary [MODEL] [--json]
//! flatland forward MODEL --input X0.npy [--input X1.npy ...] --output Y0.npy [--output Y1.npy ...]
//!     [--weights W.npz] [--seed N]
//! flatland link MODEL | flatland link --decode FRAGMENT
//! flatland export MODEL --keras|--pytorch
//! flatland train MODEL --data TRAIN.npz --loss LOSS[,LOSS...] --optimizer sgd|adam|adamw|rmsprop
//!     --epochs N --batch-size B [--lr LR] [--momentum M] [--metrics accuracy|OUTPUT:accuracy,...]
//!     [--validation VAL.npz] [--weights W.npz] [--seed S] [--shuffle] --history OUT.json
//!     [--save-weights OUT.npz]
//! ```
//! Exit codes: 0 ok; 1 invalid model / weights / input; 2 unreadable file or bad usage.

#[cfg(not(target_arch = "wasm32"))]
include!("cli/flatland_cli.rs");

/// The CLI is a native program; `cargo clippy --target wasm32-unknown-unknown --bins` still
/// compiles this file.
#[cfg(target_arch = "wasm32")]
fn main() {}
