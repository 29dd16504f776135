//! The Yew front end. [`state`] is the pure model of the page (compiled everywhere, so the
//! reducer is tested natively); everything that touches yew or the DOM is wasm32-only.
//!
//! Component tree:
//! ```text
//! App                      store (use_reducer<State>), analysis memo, autosave, shortcuts, drag
//! ├── Toolbar              undo / redo / reset / share, notices
//! ├── Palette              grouped, searchable catalogue (click, Enter or drag to add)
//! ├── Stack                input shape, cards, drop indicator, totals
//! │   └── Card ×n          name, settings, output shape, params, error badge
//! ├── Inspector            every Keras setting of the selected layer
//! │   └── ConfigField ×k   checkbox / select / number / tuple text (DraftInput)
//! ├── Visuals              teaching visuals (src/app/visuals)
//! ├── Summary              Keras-style table, copy as text
//! └── drag ghost
//! ```

pub mod state;

#[cfg(target_arch = "wasm32")]
pub mod bench;
#[cfg(target_arch = "wasm32")]
pub mod components;
#[cfg(target_arch = "wasm32")]
pub mod storage;
#[cfg(target_arch = "wasm32")]
mod store;
#[cfg(target_arch = "wasm32")]
pub mod visuals;

#[cfg(target_arch = "wasm32")]
pub use web::{recompute, start, App};

#[cfg(target_arch = "wasm32")]
mod web {
    use std::rc::Rc;

    use gloo::events::{EventListener, EventListenerOptions};
    use wasm_bindgen::JsCast;
    use web_sys::KeyboardEvent;
    use yew::prelude::*;

    use super::components::dnd::{use_drag, DragView};
    use super::components::inspector::Inspector;
    use super::components::palette::Palette;
    use super::components::stack::Stack;
    use super::components::summary::Summary;
    use super::components::toolbar::Toolbar;
    use super::state::{Action, State};
    use super::storage;
    use super::visuals::Visuals;
    use crate::engine::{analyze, Analysis, Model};

    /// Mount the app into `<body>`.
    pub fn start() {
        yew::Renderer::<App>::new().render();
    }

    /// Run the engine on the model, between `flatland:recompute:start` / `:end` performance
    /// marks and a `flatland:recompute` measure.
    pub fn recompute(model: &Model) -> Analysis {
        let perf = gloo::utils::window().performance();
        if let Some(p) = &perf {
            let _ = p.mark("flatland:recompute:start");
        }
        let analysis = analyze(model);
        if let Some(p) = &perf {
            let _ = p.mark("flatland:recompute:end");
            let _ = p.measure_with_start_mark_and_end_mark(
                "flatland:recompute",
                "flatland:recompute:start",
                "flatland:recompute:end",
            );
        }
        analysis
    }

    /// Ctrl+Z undo, Ctrl+Shift+Z / Ctrl+Y redo (⌘ on macOS).
    fn shortcut(e: &KeyboardEvent) -> Option<Action> {
        if !(e.ctrl_key() || e.meta_key()) || e.alt_key() {
            return None;
        }
        match e.key().to_lowercase().as_str() {
            "z" if e.shift_key() => Some(Action::Redo),
            "z" => Some(Action::Undo),
            "y" => Some(Action::Redo),
            _ => None,
        }
    }

    #[function_component(App)]
    pub fn app() -> Html {
        let store = use_reducer(|| {
            let (model, notice) = storage::initial();
            let mut s = State::new(model);
            s.notice = notice;
            s
        });
        let dispatcher = store.dispatcher();
        let dispatch = {
            let d = dispatcher.clone();
            (*use_memo((), move |_| Callback::from(move |a: Action| d.dispatch(a)))).clone()
        };

        // Recompute through the engine whenever the model changes.
        let derived = use_memo(store.model.clone(), |m| {
            (Rc::new(m.clone()), Rc::new(recompute(m)))
        });
        let model = derived.0.clone();
        let analysis = derived.1.clone();

        // Autosave.
        use_effect_with(model.clone(), |m| storage::save(m));

        // Undo / redo shortcuts anywhere on the page.
        {
            let dispatch = dispatch.clone();
            use_effect_with((), move |_| {
                let opts = EventListenerOptions::enable_prevent_default();
                let listener = EventListener::new_with_options(
                    &gloo::utils::document(),
                    "keydown",
                    opts,
                    move |e| {
                        // Free text (search, example tensors in the visuals) keeps its own undo.
                        let own_undo = e
                            .target()
                            .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
                            .and_then(|el| {
                                el.closest("textarea, input[type=search], .visuals-area")
                                    .ok()
                                    .flatten()
                            })
                            .is_some();
                        if own_undo {
                            return;
                        }
                        if let Some(action) = e.dyn_ref::<KeyboardEvent>().and_then(shortcut) {
                            e.prevent_default();
                            dispatch.emit(action);
                        }
                    },
                );
                move || drop(listener)
            });
        }

        let (drag, drag_view) = use_drag(dispatcher);
        let on_select = {
            let d = dispatch.clone();
            Callback::from(move |i: usize| d.emit(Action::Select(Some(i))))
        };
        let on_replace = {
            let d = dispatch.clone();
            Callback::from(move |m: Model| d.emit(Action::Load(m)))
        };
        let deleting = drag_view.as_ref().is_some_and(DragView::deleting);
        let ghost_label = drag_view
            .as_ref()
            .map(|v| v.label.clone())
            .unwrap_or_default();

        html! {
            <div class={classes!("app", drag_view.is_some().then_some("is-dragging"))}>
                <Toolbar
                    model={model.clone()}
                    can_undo={store.can_undo()}
                    can_redo={store.can_redo()}
                    notice={store.notice.clone().map(AttrValue::from)}
                    dispatch={dispatch.clone()}
                />
                <main class="layout">
                    <Palette selected={store.selected} dispatch={dispatch.clone()} drag={drag.clone()} />
                    <Stack
                        model={model.clone()}
                        analysis={analysis.clone()}
                        selected={store.selected}
                        dispatch={dispatch.clone()}
                        drag={drag.clone()}
                        drag_view={drag_view.clone()}
                    />
                    <Inspector
                        model={model.clone()}
                        analysis={analysis.clone()}
                        selected={store.selected}
                        dispatch={dispatch.clone()}
                    />
                    <section class="visuals-area" aria-label="Visuals">
                        <Visuals
                            model={model.clone()}
                            analysis={analysis.clone()}
                            selected={store.selected}
                            {on_select}
                            {on_replace}
                        />
                    </section>
                    <Summary model_name={AttrValue::from(model.name.clone())} analysis={analysis.clone()} />
                </main>
                <div ref={drag.ghost_ref()} aria-hidden="true"
                    class={classes!("drag-ghost", drag_view.is_some().then_some("active"), deleting.then_some("deleting"))}>
                    <span class="ghost-label">{ghost_label}</span>
                    if deleting { <span class="ghost-hint">{"release to delete"}</span> }
                </div>
            </div>
        }
    }
}
