//! The inspector: every Keras setting of the selected layer, one control per config field
//! (see [`crate::app::state::fields`]), the layer name, and the weights it creates.

use std::rc::Rc;

use yew::prelude::*;

use super::field::{ConfigField, DraftInput};
use super::group_class;
use crate::app::state::{validate_name, Action, FieldDraft};
use crate::engine::summary::commas;
use crate::engine::{shape_or_status, Analysis, LayerId, Model, Status};

#[derive(Properties, PartialEq)]
pub struct InspectorProps {
    pub model: Rc<Model>,
    pub analysis: Rc<Analysis>,
    pub selected: Option<LayerId>,
    /// What was typed into the selected layer's fields (see [`FieldDraft`]).
    #[prop_or_default]
    pub drafts: Vec<FieldDraft>,
    pub dispatch: Callback<Action>,
    /// An exercise hides parameter counts (the weights list shows shapes only).
    #[prop_or_default]
    pub hide_params: bool,
}

#[function_component(Inspector)]
pub fn inspector(props: &InspectorProps) -> Html {
    let hide = props.hide_params;
    let index = props
        .selected
        .and_then(|id| props.model.layers.iter().position(|l| l.id == id));
    let empty = index.is_none();
    let body = match index
        .and_then(|i| Some((i, props.model.layers.get(i)?, props.analysis.layers.get(i)?)))
    {
        None => html! {
            <div class="inspector-empty">
                <p>{"Select a layer to edit its settings."}</p>
                <p class="muted inspector-tip">{"Tip: Tab to a card, Enter selects it, Alt+↑/↓ moves it, Delete removes it. Ctrl+Z undoes."}</p>
            </div>
        },
        Some((index, layer, report)) => {
            let class = layer.spec.class_name().to_string();
            let id = layer.id;
            let rename = {
                let dispatch = props.dispatch.clone();
                let model = props.model.clone();
                Callback::from(move |text: String| -> Result<String, String> {
                    validate_name(&model, index, &text)?;
                    let name = text.trim().to_string();
                    dispatch.emit(Action::Rename {
                        id,
                        name: name.clone(),
                    });
                    Ok(name)
                })
            };
            let fields = crate::app::state::fields(&layer.spec);
            let controls = fields.into_iter().map(|(key, kind, value)| {
                let draft = props
                    .drafts
                    .iter()
                    .find(|d| d.id == id && d.field == key)
                    .cloned();
                let vkey = format!("{}:{class}:{key}", id.0);
                html! {
                    <ConfigField
                        key={vkey}
                        {id}
                        {draft}
                        key_name={AttrValue::from(key)}
                        {kind}
                        {value}
                        dispatch={props.dispatch.clone()}
                    />
                }
            });
            let in_text = shape_or_status(report.input.as_ref(), &Status::NotComputed);
            let out_text = report.shape_text();
            let weights = report.weights.iter().map(|w| {
                let dims = crate::app::state::format_shape(&w.shape);
                let n = w.shape.iter().fold(1u64, |acc, &d| acc.saturating_mul(d as u64));
                html! {
                    <li>
                        <code>{w.name}</code>
                        <span class="mono">{dims}</span>
                        if !hide {
                            <span class="mono muted">{format!("{} params{}", commas(n), if w.trainable { "" } else { ", frozen" })}</span>
                        }
                    </li>
                }
            });
            let on_dup = {
                let d = props.dispatch.clone();
                Callback::from(move |_| d.emit(Action::Duplicate(id)))
            };
            let on_del = {
                let d = props.dispatch.clone();
                Callback::from(move |_| d.emit(Action::Delete(id)))
            };
            let on_close = {
                let d = props.dispatch.clone();
                Callback::from(move |_| d.emit(Action::Select(None)))
            };
            html! {
                <div class="inspector-body" key={format!("{}:{class}", id.0)}>
                    <div class={classes!("inspector-title", group_class(&class))}>
                        <span class="card-index">{index + 1}</span>
                        <div class="card-title">
                            <span class="card-name">{layer.name.clone()}</span>
                            <span class="card-class">{format!("keras.layers.{class}")}</span>
                        </div>
                        <button type="button" class="icon-btn" aria-label="Close settings" title="Close" onclick={on_close}>
                            <svg viewBox="0 0 20 20" aria-hidden="true"><path d="M5 5l10 10M15 5L5 15"/></svg>
                        </button>
                    </div>
                    <p class="flowline">
                        <span class="mono" data-testid="inspector-input">{in_text}</span>
                        <span class="arrow" aria-hidden="true">{"→"}</span>
                        <span class="mono strong" data-testid="inspector-output">{out_text}</span>
                    </p>
                    <div class="fields">
                        <div class="field-row">
                            <label class="field">
                                <span class="field-label"><code>{"name"}</code></span>
                                <DraftInput
                                    key={format!("name:{}", id.0)}
                                    value={AttrValue::from(layer.name.clone())}
                                    on_commit={rename}
                                    testid="field-name"
                                    label="Layer name"
                                />
                            </label>
                        </div>
                        { for controls }
                    </div>
                    if let Some(e) = report.error() {
                        <p class="badge badge-error" role="status">{e.problem.to_string()}</p>
                    }
                    <h3 class="subhead">{"Weights"}</h3>
                    if report.weights.is_empty() {
                        <p class="muted">{ if report.output.is_some() { "No weights: this layer has 0 parameters." } else { "Not built: fix the error above first." } }</p>
                    } else {
                        <ul class="weights" data-testid="inspector-weights">{ for weights }</ul>
                    }
                    <div class="inspector-actions">
                        <button type="button" class="btn" onclick={on_dup} aria-label={format!("Duplicate {}", layer.name)}>{"Duplicate"}</button>
                        <button type="button" class="btn btn-danger" onclick={on_del} aria-label={format!("Delete {}", layer.name)}>{"Delete"}</button>
                    </div>
                </div>
            }
        }
    };
    html! {
        <aside class={classes!("inspector", empty.then_some("is-empty"))} data-testid="inspector" aria-label="Layer settings">
            <h2>{"Settings"}</h2>
            {body}
        </aside>
    }
}
