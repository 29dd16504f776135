//! The share panel: the full link (the same one the address bar holds), a Copy button
//! (clipboard, or the text selected for Ctrl+C), its length, and a QR code drawn large
//! enough to scan from a projected screen. The QR encoder is not in the page's first
//! module: the tools worker draws the code (`Op::Qr`) the first time the panel opens.

use web_sys::HtmlInputElement;
use yew::prelude::*;

use super::clipboard::{copy_into, CopyState};
use super::tools_worker::tools;
use crate::app::tools_protocol::{Op, Outcome};

#[derive(Properties, PartialEq)]
pub struct SharePanelProps {
    /// The complete link: page URL and fragment.
    pub url: AttrValue,
    /// Whether the link carries an exercise.
    #[prop_or_default]
    pub exercise: bool,
}

/// Select the whole link for a manual copy.
fn select(node: &NodeRef) {
    if let Some(input) = node.cast::<HtmlInputElement>() {
        let _ = input.focus();
        input.select();
    }
}

#[function_component(SharePanel)]
pub fn share_panel(props: &SharePanelProps) -> Html {
    let copy_state = use_state_eq(|| CopyState::Idle);
    let big = use_state_eq(|| false);
    let input = use_node_ref();
    // `None` while the tools worker draws it.
    let qr = use_state(|| None::<Result<AttrValue, String>>);
    {
        let copy_state = copy_state.clone();
        let qr = qr.clone();
        use_effect_with(props.url.clone(), move |url| {
            copy_state.set(CopyState::Idle);
            qr.set(None);
            let text = url.to_string();
            tools(
                Op::Qr { text },
                Callback::from(move |o: Outcome| {
                    qr.set(Some(match o {
                        Outcome::Qr(svg) => Ok(svg.into()),
                        Outcome::Failed(e) => Err(e.to_string()),
                        _ => Err("the code tools answered another question".into()),
                    }));
                }),
            );
        });
    }

    let on_copy = {
        let copy_state = copy_state.clone();
        let url = props.url.clone();
        let input = input.clone();
        Callback::from(move |_: MouseEvent| {
            let input = input.clone();
            copy_into(&url, copy_state.clone(), move || select(&input));
        })
    };
    let on_focus = {
        let input = input.clone();
        Callback::from(move |_: FocusEvent| select(&input))
    };
    let on_big = {
        let big = big.clone();
        Callback::from(move |_: MouseEvent| big.set(!*big))
    };
    let chars = props.url.chars().count();
    let fragment_chars = props
        .url
        .split_once('#')
        .map_or(0, |(_, f)| f.chars().count() + 1);

    html! {
        <div class={classes!("share-panel", big.then_some("share-big"))}>
            <p class="panel-lead">
                { if props.exercise {
                    "This link opens the model and the exercise. The address bar always holds the same link."
                } else {
                    "This link opens exactly this model. The address bar always holds the same link."
                } }
            </p>
            <div class="share-row">
                <input ref={input} class="input share-link" data-testid="share-link" readonly=true
                    aria-label="Share link" value={props.url.clone()} onfocus={on_focus} />
                <button type="button" class="btn btn-primary" data-testid="share-copy"
                    aria-label="Copy the link" onclick={on_copy}>{"Copy"}</button>
            </div>
            <p class="share-meta">
                <span data-testid="share-length">{format!("{chars} characters")}</span>
                <span class="muted">{format!(" (the model part after # is {fragment_chars})")}</span>
                { copy_state.status() }
            </p>
            { match &*qr {
                None => html! { <p class="muted" data-testid="share-qr-pending" aria-live="polite">{"Drawing the QR code…"}</p> },
                Some(Ok(svg)) => html! {
                    <figure class="share-qr-wrap">
                        <div class="share-qr" data-testid="share-qr" role="img" aria-label="QR code of the share link">
                            { Html::from_html_unchecked(svg.clone()) }
                        </div>
                        <figcaption>
                            <span class="muted">{ if props.exercise { "Scan to open this exercise on a phone." } else { "Scan to open this model on a phone." } }</span>
                            <button type="button" class="btn btn-quiet" data-testid="share-qr-big" aria-pressed={big.to_string()}
                                aria-label={if *big { "Smaller QR code" } else { "Larger QR code for projecting" }} onclick={on_big}>
                                { if *big { "Smaller" } else { "Larger, for projecting" } }
                            </button>
                        </figcaption>
                    </figure>
                },
                Some(Err(e)) => html! { <p class="muted" data-testid="share-qr-error">{format!("No QR code: {e}. Copy the link instead.")}</p> },
            } }
        </div>
    }
}
