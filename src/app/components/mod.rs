//! Leaf components: each takes data and `Callback` props and builds [`Action`]s; none of
//! them owns model state.
//!
//! [`Action`]: crate::app::state::Action

pub mod card;
pub mod clipboard;
pub mod code_panel;
pub mod dialog;
pub mod dnd;
pub mod exercise;
pub mod field;
pub mod gallery;
pub mod inspector;
pub mod palette;
pub mod share_panel;
pub mod stack;
pub mod summary;
pub mod toolbar;

use crate::engine::{Group, LayerSpec};

/// CSS class carrying a layer class's group colour, e.g. `g-convolution`.
pub fn group_class(class_name: &str) -> &'static str {
    match LayerSpec::group_of(class_name) {
        Some(Group::Core) => "g-core",
        Some(Group::Convolution) => "g-convolution",
        Some(Group::Pooling) => "g-pooling",
        Some(Group::Normalization) => "g-normalization",
        Some(Group::Recurrent) => "g-recurrent",
        Some(Group::Reshaping) => "g-reshaping",
        Some(Group::Regularization) => "g-regularization",
        Some(Group::Activation) => "g-activation",
        None => "g-unknown",
    }
}
