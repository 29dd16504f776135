//! The Yew front end (wasm32 only). `state` holds the pure model of the page; components
//! take data and callbacks.

pub mod visuals;

use yew::prelude::*;

use crate::engine::{analyze, Model};

/// Mount the app into `<body>`.
pub fn start() {
    yew::Renderer::<App>::new().render();
}

#[function_component(App)]
pub fn app() -> Html {
    let model = use_state(Model::seed);
    let analysis = analyze(&model);
    html! {
        <main class="app">
            <h1>{"Flatland"}</h1>
            <ol class="stack">
            { for analysis.layers.iter().map(|l| html! {
                <li data-testid="layer-card" class="layer-card">
                    <span class="name">{format!("{} ({})", l.name, l.class_name)}</span>
                    <span data-testid="output-shape">{l.output.as_ref().map(ToString::to_string).unwrap_or_default()}</span>
                    <span data-testid="param-count">{l.params()}</span>
                </li>
            }) }
            </ol>
            <p>{"Total params: "}<span data-testid="total-params">{analysis.total()}</span></p>
        </main>
    }
}
