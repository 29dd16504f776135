//! Teaching visuals (placeholder until the visuals work lands): Dense per position vs after
//! Flatten, A/B compare, forward values, "why this shape", convolution window view.

use std::rc::Rc;
use yew::prelude::*;

use crate::engine::{Analysis, Model};

#[derive(Properties, PartialEq, Clone)]
pub struct VisualsProps {
    /// The current model (stack A).
    pub model: Rc<Model>,
    /// `analyze(&model)`.
    pub analysis: Rc<Analysis>,
    /// Selected layer index, if any.
    pub selected: Option<usize>,
    /// Ask the app to select a layer.
    #[prop_or_default]
    pub on_select: Callback<usize>,
    /// Ask the app to replace the model (e.g. a compare preset opens A).
    #[prop_or_default]
    pub on_replace: Callback<Model>,
}

#[function_component(Visuals)]
pub fn visuals(_props: &VisualsProps) -> Html {
    html! {}
}
