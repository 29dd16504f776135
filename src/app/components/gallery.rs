//! The examples gallery: every built-in preset (Seeds, then Classics) with its title,
//! description and total parameters, and the built-in exercises. Each card is a real link
//! to its share link (open in a new tab works); a plain click opens it here (undoable).

use yew::prelude::*;

use crate::app::share::{exercise_fragment, gallery, preset_fragment};
use crate::app::state::Action;
use crate::codec::exercise::{exercises, Exercise};
use crate::codec::presets::Preset;
use crate::engine::analyze;
use crate::engine::summary::commas;

#[derive(Properties, PartialEq)]
pub struct GalleryProps {
    pub dispatch: Callback<Action>,
    /// Called after a card was opened (closes the dialog).
    pub on_done: Callback<()>,
}

struct Card {
    preset: Preset,
    total: u64,
    partner_total: Option<u64>,
    href: String,
}

struct Data {
    groups: Vec<(&'static str, Vec<Card>)>,
    exercises: Vec<(Exercise, String)>,
}

/// A plain left click opens the card here; modified clicks keep the browser's behaviour
/// (new tab, new window).
fn plain(e: &MouseEvent) -> bool {
    e.button() == 0 && !(e.ctrl_key() || e.meta_key() || e.shift_key() || e.alt_key())
}

#[function_component(Gallery)]
pub fn gallery_view(props: &GalleryProps) -> Html {
    let data = use_memo((), |()| Data {
        groups: gallery()
            .into_iter()
            .map(|(g, items)| {
                let cards = items
                    .into_iter()
                    .map(|(preset, total)| Card {
                        partner_total: preset.compare_with.as_ref().map(|m| analyze(m).total()),
                        href: preset_fragment(&preset),
                        preset,
                        total,
                    })
                    .collect();
                (g, cards)
            })
            .collect(),
        exercises: exercises()
            .into_iter()
            .map(|ex| {
                let href = exercise_fragment(&ex);
                (ex, href)
            })
            .collect(),
    });

    let open = |action: Action| {
        let dispatch = props.dispatch.clone();
        let done = props.on_done.clone();
        Callback::from(move |e: MouseEvent| {
            if plain(&e) {
                e.prevent_default();
                dispatch.emit(action.clone());
                done.emit(());
            }
        })
    };

    html! {
        <div class="gallery" data-testid="presets">
            { for data.groups.iter().map(|(group, cards)| html! {
                <section class="gallery-group" aria-label={*group}>
                    <h3 class="gallery-head">{*group}</h3>
                    <ul class="gallery-grid">
                        { for cards.iter().map(|c| {
                            let p = &c.preset;
                            html! {
                                <li>
                                    <a class="gallery-card" href={c.href.clone()} data-testid={format!("preset-{}", p.id)}
                                        onclick={open(Action::OpenPreset(p.id.to_string()))}>
                                        <span class="gallery-title">{p.title}</span>
                                        <span class="gallery-desc">{p.description}</span>
                                        <span class="gallery-foot">
                                            <span class="gallery-total" data-testid="preset-total">{format!("{} params", commas(c.total))}</span>
                                            { match c.partner_total {
                                                Some(t) => html! { <span class="gallery-compare">{format!("compare: {} with the variant", commas(t))}</span> },
                                                None => html! {},
                                            } }
                                        </span>
                                    </a>
                                </li>
                            }
                        }) }
                    </ul>
                </section>
            }) }
            <section class="gallery-group" aria-label="Exercises">
                <h3 class="gallery-head">{"Exercises"}</h3>
                <ul class="gallery-grid">
                    { for data.exercises.iter().enumerate().map(|(n, (ex, href))| html! {
                        <li>
                            <a class="gallery-card gallery-exercise" href={href.clone()} data-testid={format!("exercise-{n}")}
                                onclick={open(Action::OpenExercise(ex.clone()))}>
                                <span class="gallery-title">{&ex.title}</span>
                                <span class="gallery-desc">{&ex.instructions}</span>
                                <span class="gallery-foot"><span class="gallery-total">{"Exercise with a live checklist"}</span></span>
                            </a>
                        </li>
                    }) }
                </ul>
            </section>
        </div>
    }
}
