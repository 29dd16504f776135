//! Keras-style `model.summary()` table (plus a MACs column), with "Copy as text" copying
//! exactly what `flatland summary` prints.

use std::rc::Rc;

use yew::prelude::*;

use super::clipboard::{copy_into, select_all, CopyState};
use super::field::DraftInput;
use crate::app::state::{validate_model_name, Action};
use crate::engine::summary::{commas, readable_memory_size, summary_text};
use crate::engine::{Analysis, LayerReport, Status};

#[derive(Properties, PartialEq)]
pub struct SummaryProps {
    pub model_name: AttrValue,
    pub analysis: Rc<Analysis>,
    /// Renames the model (the caption's name field).
    pub dispatch: Callback<Action>,
    /// An exercise hides parameter counts: the Param # column and totals say "hidden".
    #[prop_or_default]
    pub hide_params: bool,
}

#[derive(Properties, PartialEq)]
struct RowProps {
    report: LayerReport,
    hide: bool,
}

/// One table row: a component, so rows whose layer did not change skip rendering.
#[function_component(SummaryRow)]
fn summary_row(p: &RowProps) -> Html {
    let l = &p.report;
    let cls = match (&l.status, &l.output) {
        (_, Some(_)) => None,
        (Status::Error(_), None) => Some("row-error"),
        _ => Some("row-muted"),
    };
    let shape = l.shape_text();
    let (params, macs) = if p.hide {
        ("hidden".to_string(), "hidden".to_string())
    } else {
        (commas(l.params()), commas(l.macs))
    };
    html! {
        <tr class={classes!(cls)} data-testid="summary-row">
            <td><span class="mono">{l.name.clone()}</span>{" "}<span class="muted">{format!("({})", l.class_name)}</span></td>
            <td class="mono" data-testid="summary-shape">{shape}</td>
            <td class="num" data-testid="summary-params">{params}</td>
            <td class="num muted">{macs}</td>
        </tr>
    }
}

#[function_component(Summary)]
pub fn summary(props: &SummaryProps) -> Html {
    let copy_state = use_state(|| CopyState::Idle);
    let area = use_node_ref();
    let a = &props.analysis;
    // The text is built when it is needed (copying, or the fallback box), not per edit.
    let text_of = {
        let name = props.model_name.clone();
        let a = props.analysis.clone();
        move || summary_text(&name, &a)
    };

    {
        // Select the fallback text once it is on screen.
        let area = area.clone();
        use_effect_with(*copy_state == CopyState::Manual, move |manual| {
            if *manual {
                select_all(&area);
            }
        });
    }
    {
        // A changed model makes an old "Copied" stale.
        let copy_state = copy_state.clone();
        use_effect_with(
            (props.model_name.clone(), props.analysis.clone()),
            move |_| copy_state.set(CopyState::Idle),
        );
    }

    let on_copy = {
        let copy_state = copy_state.clone();
        let text_of = text_of.clone();
        Callback::from(move |_: MouseEvent| {
            copy_into(&text_of(), copy_state.clone(), || {});
        })
    };

    let on_name = {
        let d = props.dispatch.clone();
        Callback::from(move |t: String| -> Result<String, String> {
            validate_model_name(&t)?;
            let t = t.trim().to_string();
            d.emit(Action::RenameModel(t.clone()));
            Ok(t)
        })
    };
    let hide = props.hide_params;
    let rows = a.layers.iter().map(|l| {
        html! { <SummaryRow report={l.clone()} {hide} /> }
    });
    let mem = |n: u64| {
        if hide {
            "hidden".to_string()
        } else {
            format!(
                "{} ({})",
                commas(n),
                readable_memory_size(n.saturating_mul(4))
            )
        }
    };
    html! {
        <section class="summary panel" aria-label="Model summary">
            <div class="panel-head">
                <h2>{"Summary"}</h2>
                <div class="panel-tools">
                    <span class="copy-status" role="status" aria-live="polite">
                        { match *copy_state {
                            CopyState::Copied => "Copied ✓",
                            CopyState::Manual => "Press Ctrl+C to copy",
                            CopyState::Idle => "",
                        } }
                    </span>
                    if !hide {
                        <button type="button" class="btn" data-testid="copy-summary"
                            aria-label="Copy the summary as text" onclick={on_copy}>{"Copy as text"}</button>
                    }
                </div>
            </div>
            <div class="table-wrap">
                <table class="summary-table" data-testid="summary-table">
                    <caption>
                        <label class="model-name">{"Model: "}
                            <DraftInput value={props.model_name.clone()} on_commit={on_name} testid="model-name"
                                label="Model name (Keras's name=)" class="model-name-field" error_testid="model-name-error" />
                        </label>
                    </caption>
                    <thead>
                        <tr>
                            <th scope="col">{"Layer (type)"}</th>
                            <th scope="col">{"Output Shape"}</th>
                            <th scope="col" class="num">{"Param #"}</th>
                            <th scope="col" class="num">{"MACs"}</th>
                        </tr>
                    </thead>
                    <tbody>{ for rows }</tbody>
                </table>
            </div>
            <dl class="summary-totals">
                <div><dt>{"Total params:"}</dt><dd data-testid="summary-total">{mem(a.total())}</dd></div>
                <div><dt>{"Trainable params:"}</dt><dd data-testid="summary-trainable">{mem(a.trainable)}</dd></div>
                <div><dt>{"Non-trainable params:"}</dt><dd data-testid="summary-non-trainable">{mem(a.non_trainable)}</dd></div>
                <div><dt>{"Total MACs:"}</dt><dd>{if props.hide_params { "hidden".to_string() } else { commas(a.macs) }}</dd></div>
            </dl>
            if *copy_state == CopyState::Manual {
                <textarea ref={area} class="summary-text mono" data-testid="summary-text" readonly=true
                    aria-label="Summary as text, selected for copying" rows="12" value={text_of()} />
            }
        </section>
    }
}
