//! "Why this shape": the engine's explanation (rule + steps) of the focused layer.

use std::rc::Rc;

use yew::prelude::*;

use crate::engine::model::explain;
use crate::engine::teach::thousands;
use crate::engine::{Analysis, Model, Status};

#[derive(Properties, PartialEq)]
pub struct WhyProps {
    pub model: Rc<Model>,
    pub analysis: Rc<Analysis>,
    pub index: Option<usize>,
    /// An exercise hides parameter counts: no count, formula or multiply-adds.
    #[prop_or_default]
    pub hide_params: bool,
}

#[function_component(WhyPanel)]
pub fn why_panel(p: &WhyProps) -> Html {
    let Some(i) = p.index else {
        return html! {
            <section class="vz-card vz-why" data-testid="why-panel" aria-labelledby="vz-why-h">
                <h2 id="vz-why-h">{"Why this shape?"}</h2>
                <p class="vz-lead">{"Add a layer to see how its output shape is worked out."}</p>
            </section>
        };
    };
    let (Some(layer), Some(report)) = (p.model.layers.get(i), p.analysis.layers.get(i)) else {
        return html! {};
    };
    let e = explain(&p.model, &p.analysis, i).unwrap_or_default();
    let e = if p.hide_params { e.without_params() } else { e };
    let title = match (&report.status, &report.output) {
        (Status::Ok, Some(o)) => format!("Why {o}?"),
        (Status::Error(_), _) => "Why is this an error?".to_string(),
        _ => "Why no shape?".to_string(),
    };
    let io = match (&report.input, &report.output) {
        (Some(a), Some(b)) => format!("{a} → {b}"),
        (Some(a), None) => format!("{a} → ?"),
        _ => String::new(),
    };
    html! {
        <section class={classes!("vz-card", "vz-why", report.error().map(|_| "vz-why-error"))} data-testid="why-panel" aria-labelledby="vz-why-h">
            <h2 id="vz-why-h">{title}</h2>
            <p class="vz-why-layer">
                <b>{&layer.name}</b>{format!(" · {} · {}", layer.spec.class_name(), layer.spec.rules().settings())}
                { if io.is_empty() { html!{} } else { html!{ <span class="vz-why-io">{io}</span> } } }
            </p>
            <p class="vz-rule" data-testid="why-rule">{e.rule.clone()}</p>
            { if e.steps.is_empty() { html!{} } else { html! {
                <ol class="vz-why-steps">
                    { for e.steps.iter().map(|s| html! { <li>{s.clone()}</li> }) }
                </ol>
            } } }
            { if report.status == Status::Ok && !p.hide_params { html! {
                <p class="vz-note">{format!("params {} · multiply-adds per sample {}", thousands(report.params()), thousands(report.macs))}</p>
            } } else { html!{} } }
        </section>
    }
}
