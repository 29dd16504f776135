//! The Yew front end. [`state`] is the pure model of the page (compiled everywhere, so the
//! reducer is tested natively), [`share`] the pure side of links, presets, exercises and
//! import, and [`tools_protocol`] the messages to and from the tools worker; everything that
//! touches yew or the DOM is wasm32-only.
//!
//! Component tree:
//! ```text
//! App                      store (use_reducer<State>), analysis memo, autosave, the link in
//! │                        the URL fragment (replaceState on every change; hashchange and
//! │                        popstate open links), shortcuts, drag, file drop
//! ├── Toolbar              undo / redo / reset, Examples, Code, Teacher, Share, notices
//! ├── link error banner    a share link that could not be opened (role="alert")
//! ├── Palette              grouped, searchable catalogue (click, Enter or drag to add)
//! ├── main column
//! │   ├── Stack            input shape, cards, drop indicator, totals
//! │   │   └── Card ×n      name, settings, output shape, params, error badge
//! │   └── Summary          Keras-style table, copy as text
//! ├── side column (desktop: its own scroll, so the visuals are on the first screen)
//! │   ├── ExercisePanel    student checklist, or the teacher's goal editor
//! │   ├── Inspector        every Keras setting of the selected layer
//! │   │   └── ConfigField ×k
//! │   └── Visuals          teaching visuals (src/app/visuals)
//! ├── Dialog               Gallery (presets, exercises) | SharePanel (link, QR)
//! └── drag ghost, file-drop overlay
//! ```
//! The Code panel and the Train panel are drawn by the tools module, loaded into the page
//! when first opened ([`tools_host`]).

#[cfg(target_arch = "wasm32")]
pub mod code_dialog;
#[cfg(target_arch = "wasm32")]
pub mod panel_root;
pub mod share;
pub mod state;
#[cfg(target_arch = "wasm32")]
pub mod tools_host;
pub mod tools_protocol;
pub mod train_files;
#[cfg(target_arch = "wasm32")]
pub mod train_panel;
pub mod train_protocol;

#[cfg(target_arch = "wasm32")]
pub mod components;
#[cfg(target_arch = "wasm32")]
pub mod frame;
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
    use std::cell::RefCell;
    use std::rc::Rc;

    use gloo::events::{EventListener, EventListenerOptions};
    use gloo::file::callbacks::FileReader;
    use wasm_bindgen::JsCast;
    use web_sys::{DragEvent, KeyboardEvent};
    use yew::prelude::*;

    use super::components::dialog::Dialog;
    use super::components::dnd::{use_drag, DragApi, DragView};
    use super::components::exercise::ExercisePanel;
    use super::components::gallery::Gallery;
    use super::components::inspector::Inspector;
    use super::components::palette::Palette;
    use super::components::share_panel::SharePanel;
    use super::components::stack::Stack;
    use super::components::summary::Summary;
    use super::components::toolbar::{Panel, Toolbar};
    use super::components::tools_worker::{import as import_code, read_file, ImportRequest};
    use super::share;
    use super::state::{Action, Sheet, State};
    use super::storage;
    use super::tools_host;
    use super::tools_protocol::{ImportReport, Imported, WireWarning};
    use super::visuals::Visuals;
    use crate::codec::exercise::Exercise;
    use crate::codec::link;
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

    /// What the page's link holds: the model, the exercise and the compare preset.
    type LinkState = (Rc<Model>, Option<Exercise>, Option<String>);

    /// The `#m1.…` fragment of a [`LinkState`].
    fn encode_link((m, ex, c): &LinkState) -> String {
        link::encode(&share::payload_of(m, ex.as_ref(), c.as_deref()))
    }

    /// Ctrl+Z undo, Ctrl+Shift+Z / Ctrl+Y redo (⌘ on macOS).
    fn shortcut(e: &KeyboardEvent) -> Option<Action> {
        if !(e.ctrl_key() || e.meta_key()) || e.alt_key() {
            return None;
        }
        match e.key().to_ascii_lowercase().as_str() {
            "z" if e.shift_key() => Some(Action::Redo),
            "z" => Some(Action::Undo),
            "y" => Some(Action::Redo),
            _ => None,
        }
    }

    /// Whether a drag carries files (not text or a link).
    fn has_files(e: &DragEvent) -> bool {
        e.data_transfer()
            .is_some_and(|dt| dt.types().includes(&"Files".into(), 0))
    }

    /// A link pasted into this tab, or Back / Forward to one, opens it. `latest` is the link
    /// to what is on screen.
    #[hook]
    fn use_link_navigation(dispatch: Callback<Action>, latest: Rc<RefCell<LinkState>>) {
        use_effect_with((), move |()| {
            let on_nav: Rc<dyn Fn(&Event)> = Rc::new(move |_: &Event| {
                let hash = storage::adopt_fragment();
                let ours = encode_link(&latest.borrow());
                // Our own link (e.g. put back after an error, or the second of the
                // popstate + hashchange pair): nothing new to open.
                if hash == ours {
                    return;
                }
                match share::open_link(&hash) {
                    Some(Ok(action)) => dispatch.emit(action),
                    Some(Err(reason)) => {
                        dispatch.emit(Action::LinkError(share::link_error_text(
                            &reason,
                            "The model on screen is unchanged.",
                        )));
                        storage::write_fragment(&ours);
                    }
                    // Not a link (e.g. an emptied fragment): put ours back.
                    None => storage::write_fragment(&ours),
                }
            });
            let win = gloo::utils::window();
            let a = {
                let f = on_nav.clone();
                EventListener::new(&win, "hashchange", move |e| f(e))
            };
            let b = EventListener::new(&win, "popstate", move |e| on_nav(e));
            move || drop((a, b))
        });
    }

    /// Undo / redo shortcuts anywhere on the page; Escape closes an open bottom sheet (a
    /// phone's palette or settings) unless something inside handled it (a dialog, a drag).
    #[hook]
    fn use_undo_shortcuts(dispatch: Callback<Action>, sheet_open: bool) {
        use_effect_with(sheet_open, move |&sheet_open| {
            let opts = EventListenerOptions::enable_prevent_default();
            let listener = EventListener::new_with_options(
                &gloo::utils::document(),
                "keydown",
                opts,
                move |e| {
                    if sheet_open
                        && !e.default_prevented()
                        && e.dyn_ref::<KeyboardEvent>()
                            .is_some_and(|k| k.key() == "Escape")
                    {
                        dispatch.emit(Action::CloseSheet);
                        return;
                    }
                    // Free text (search, example tensors in the visuals, the panels'
                    // fields) keeps its own undo.
                    let own_undo = e
                        .target()
                        .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
                        .and_then(|el| {
                            el.closest(
                                "textarea, input[type=search], .visuals-area, .dialog input, .exercise input",
                            )
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

    /// Files dropped anywhere on the page are imported. True while files are dragged over it.
    #[hook]
    fn use_file_drop(on_import: Callback<ImportRequest>) -> bool {
        let file_drag = use_state_eq(|| false);
        {
            let file_drag = file_drag.clone();
            let reader: Rc<RefCell<Option<FileReader>>> = use_mut_ref(|| None);
            use_effect_with((), move |()| {
                let doc = gloo::utils::document();
                let opts = EventListenerOptions::enable_prevent_default();
                let over = {
                    let file_drag = file_drag.clone();
                    EventListener::new_with_options(&doc, "dragover", opts, move |e| {
                        if e.dyn_ref::<DragEvent>().is_some_and(has_files) {
                            e.prevent_default();
                            file_drag.set(true);
                        }
                    })
                };
                let leave = {
                    let file_drag = file_drag.clone();
                    EventListener::new(&doc, "dragleave", move |e| {
                        let left_window = e
                            .dyn_ref::<web_sys::MouseEvent>()
                            .is_some_and(|m| m.related_target().is_none());
                        if left_window {
                            file_drag.set(false);
                        }
                    })
                };
                let drop_files = EventListener::new_with_options(&doc, "drop", opts, move |e| {
                    let Some(de) = e.dyn_ref::<DragEvent>() else {
                        return;
                    };
                    if !has_files(de) {
                        return;
                    }
                    e.prevent_default();
                    file_drag.set(false);
                    let file = de
                        .data_transfer()
                        .and_then(|dt| dt.files())
                        .and_then(|f| f.get(0));
                    if let Some(file) = file {
                        let on_import = on_import.clone();
                        read_file(
                            file,
                            &reader,
                            Callback::from(move |(name, res): (String, Result<String, String>)| {
                                on_import.emit((Some(name), res));
                            }),
                        );
                    }
                });
                move || drop((over, leave, drop_files))
            });
        }
        *file_drag
    }

    /// Imports a model file or Keras code: loads the model, keeps the report (in `report`)
    /// and opens the Code panel to show it (with the model on screen, `latest`, when
    /// nothing was imported).
    fn import_callback(
        dispatch: &Callback<Action>,
        report: &Rc<RefCell<Option<ImportReport>>>,
        latest: &Rc<RefCell<LinkState>>,
    ) -> Callback<ImportRequest> {
        let (dispatch, report, latest) = (dispatch.clone(), report.clone(), latest.clone());
        Callback::from(move |(name, text): ImportRequest| {
            let source = name
                .as_ref()
                .map_or_else(|| "the pasted text".to_string(), |n| format!("“{n}”"));
            let (dispatch, report, latest) = (dispatch.clone(), report.clone(), latest.clone());
            // Keras code is read by the tools worker: the outcome may come later.
            let done = Callback::from(move |outcome: Result<(Model, Vec<_>), String>| {
                let (outcome, shown) = match outcome {
                    Ok((m, warnings)) => {
                        let imported = Imported {
                            name: m.name.clone(),
                            layers: m.layers.len(),
                            warnings: warnings.iter().map(WireWarning::from).collect(),
                        };
                        let shown = Rc::new(m.clone());
                        dispatch.emit(Action::Load(m));
                        (Ok(imported), shown)
                    }
                    // The model stays as it is.
                    Err(e) => (Err(e), latest.borrow().0.clone()),
                };
                let r = ImportReport {
                    source: source.clone(),
                    outcome,
                };
                tools_host::open_code(&shown, Some(&r));
                *report.borrow_mut() = Some(r);
            });
            import_code(name.as_deref(), text, done);
        })
    }

    /// The open panel's dialog (Share or Examples), if any. `link` is what is on screen.
    fn dialog(
        panel: Option<Panel>,
        close: &Callback<()>,
        link: &LinkState,
        dispatch: &Callback<Action>,
    ) -> Html {
        match panel {
            None | Some(Panel::Train | Panel::Code) => html! {},
            Some(Panel::Share) => html! {
                <Dialog title="Share" testid="share-dialog" on_close={close.clone()} class="dialog-share">
                    <SharePanel url={AttrValue::from(format!("{}{}", storage::page_url(), encode_link(link)))}
                        exercise={link.1.is_some()} />
                </Dialog>
            },
            Some(Panel::Examples) => html! {
                <Dialog title="Examples" testid="presets-dialog" on_close={close.clone()} class="dialog-wide">
                    <Gallery dispatch={dispatch.clone()} on_done={close.clone()} />
                </Dialog>
            },
        }
    }

    /// The banner for a share link that could not be opened.
    fn link_error_banner(message: &str, dispatch: &Callback<Action>, node: &NodeRef) -> Html {
        let dismiss = {
            let d = dispatch.clone();
            Callback::from(move |_: MouseEvent| d.emit(Action::DismissLinkError))
        };
        html! {
            <div class="link-error" role="alert" data-testid="link-error" tabindex="-1" ref={node.clone()}>
                <span class="badge-icon" aria-hidden="true">{"!"}</span>
                <p>{message.to_string()}</p>
                <button type="button" class="btn btn-quiet" data-testid="link-error-dismiss"
                    aria-label="Dismiss the link message" onclick={dismiss}>{"Dismiss"}</button>
            </div>
        }
    }

    /// The drag ghost under the pointer and the overlay shown while files are dragged over the page.
    fn drag_overlays(drag: &DragApi, view: Option<&DragView>, file_drag: bool) -> Html {
        let deleting = view.is_some_and(DragView::deleting);
        let ghost_label = view.map(|v| v.label.clone()).unwrap_or_default();
        html! {
            <>
                <div ref={drag.ghost_ref()} aria-hidden="true"
                    class={classes!("drag-ghost", view.is_some().then_some("active"), deleting.then_some("deleting"))}>
                    <span class="ghost-label">{ghost_label}</span>
                    if deleting { <span class="ghost-hint">{"release to delete"}</span> }
                </div>
                if file_drag {
                    <div class="file-drop" aria-hidden="true">
                        <p>{"Drop a model file to open it"}<br/><span>{".json (Flatland, Keras, TF.js) or .py (Keras code)"}</span></p>
                    </div>
                }
            </>
        }
    }

    /// The exercise's goals met and goals in all (for the sticky line), if in an exercise.
    #[hook]
    fn use_goals(
        exercise: Option<Exercise>,
        model: Rc<Model>,
        analysis: Rc<Analysis>,
    ) -> Option<(usize, usize)> {
        *use_memo((exercise, model, analysis), |(ex, m, a)| {
            ex.as_ref().map(|ex| {
                let g = crate::codec::exercise::check_with(ex, m, a);
                (g.iter().filter(|g| g.met).count(), g.len())
            })
        })
    }

    /// A node that scrolls into view and takes focus when `shown` becomes true.
    #[hook]
    fn use_reveal_when(shown: bool) -> NodeRef {
        let node = use_node_ref();
        {
            let node = node.clone();
            use_effect_with(shown, move |shown| {
                if let (true, Some(el)) = (*shown, node.cast::<web_sys::Element>()) {
                    super::components::reveal_and_focus(&el);
                }
            });
        }
        node
    }

    /// The selected layer's settings: in the side column, or a bottom sheet on a phone.
    fn settings_sheet(
        store: &State,
        model: &Rc<Model>,
        analysis: &Rc<Analysis>,
        dispatch: &Callback<Action>,
    ) -> Html {
        let close = {
            let d = dispatch.clone();
            Callback::from(move |_: MouseEvent| d.emit(Action::CloseSheet))
        };
        html! {
            <div class="settings-sheet" data-testid="settings-sheet">
                <div class="sheet-head">
                    <span>{"Settings"}</span>
                    <button type="button" class="btn" data-testid="settings-close" aria-label="Close the settings"
                        onclick={close}>{"Done"}</button>
                </div>
                <Inspector
                    model={model.clone()}
                    analysis={analysis.clone()}
                    selected={store.selected}
                    drafts={store.drafts.clone()}
                    dispatch={dispatch.clone()}
                    hide_params={store.hides("params")}
                />
            </div>
        }
    }

    #[function_component(App)]
    pub fn app() -> Html {
        let store = use_reducer(storage::initial);
        let dispatcher = store.dispatcher();
        let dispatch = {
            let d = dispatcher.clone();
            (*use_memo((), move |()| Callback::from(move |a: Action| d.dispatch(a)))).clone()
        };

        // Recompute through the engine whenever the model changes.
        let derived = use_memo(store.model.clone(), |m| {
            (Rc::new(m.clone()), Rc::new(recompute(m)))
        });
        let model = derived.0.clone();
        let analysis = derived.1.clone();

        // Autosave.
        use_effect_with(model.clone(), |m| storage::save(m));

        // The address bar holds the link to what is on screen: rewritten (no new history
        // entry) whenever the model, the exercise or the compare preset changes, once edits
        // settle. The link is encoded (deflate) then, not on every edit.
        let link_state: LinkState = (
            model.clone(),
            store.exercise.clone(),
            store.compare_preset().map(str::to_string),
        );
        let latest_link: Rc<RefCell<LinkState>> = use_mut_ref(|| link_state.clone());
        latest_link.borrow_mut().clone_from(&link_state);
        use_effect_with(link_state.clone(), |l| {
            let l = l.clone();
            storage::write_fragment_with(move || encode_link(&l));
        });
        use_link_navigation(dispatch.clone(), latest_link.clone());
        use_undo_shortcuts(dispatch.clone(), store.sheet.is_some());

        // Panels (dialogs) and importing.
        let panel = use_state_eq(|| None::<Panel>);
        let import_report = use_mut_ref(|| None::<ImportReport>);
        let on_panel = {
            let (panel, model, report) = (panel.clone(), model.clone(), import_report.clone());
            Callback::from(move |p: Panel| match p {
                Panel::Train => tools_host::open_train(),
                Panel::Code => tools_host::open_code(&model, report.borrow().as_ref()),
                _ => panel.set(Some(p)),
            })
        };
        let close_panel = {
            let panel = panel.clone();
            Callback::from(move |()| panel.set(None))
        };
        let on_import = import_callback(&dispatch, &import_report, &latest_link);
        tools_host::use_import_asks(on_import.clone());
        let file_drag = use_file_drop(on_import.clone());

        let (drag, drag_view) = use_drag(dispatcher);
        // The visuals pick layers by index: select the layer that is there.
        let on_select = {
            let d = dispatch.clone();
            (*use_memo(model.clone(), move |m| {
                let ids: Vec<_> = m.layers.iter().map(|l| l.id).collect();
                Callback::from(move |i: usize| {
                    if let Some(&id) = ids.get(i) {
                        d.emit(Action::Select(Some(id)));
                    }
                })
            }))
            .clone()
        };
        let selected_index = store.selected_index();

        let goals = use_goals(store.exercise.clone(), model.clone(), analysis.clone());
        let link_error_node = use_reveal_when(store.link_error.is_some());
        let hide_params = store.hides("params");
        let hide_visuals = store.hides("visuals");
        let hide_summary = store.hides("summary");
        let on_share = {
            let panel = panel.clone();
            Callback::from(move |()| panel.set(Some(Panel::Share)))
        };
        let sheet_class = store.sheet.map(|s| match s {
            Sheet::Palette => "sheet-palette",
            Sheet::Settings => "sheet-settings",
        });
        let close_sheet = {
            let d = dispatch.clone();
            Callback::from(move |_: MouseEvent| d.emit(Action::CloseSheet))
        };
        let open_dialog = dialog(*panel, &close_panel, &link_state, &dispatch);

        html! {
            <div class={classes!("app", drag_view.is_some().then_some("is-dragging"), sheet_class)}>
                <Toolbar
                    can_undo={store.can_undo()}
                    can_redo={store.can_redo()}
                    notice={store.notice.clone().map(AttrValue::from)}
                    dispatch={dispatch.clone()}
                    teacher={store.teacher}
                    ask_teacher={store.exercise.as_ref().is_some_and(|e| !e.hide_panels.is_empty())}
                    {on_panel}
                />
                if let Some(message) = &store.link_error {
                    { link_error_banner(message, &dispatch, &link_error_node) }
                }
                <main class={classes!("layout", store.exercise.is_some().then_some("has-exercise"))}>
                    <Palette at={store.insert_at()} dispatch={dispatch.clone()} drag={drag.clone()} />
                    <div class="main-col">
                        <Stack
                            model={model.clone()}
                            analysis={analysis.clone()}
                            selected={store.selected}
                            dispatch={dispatch.clone()}
                            drag={drag.clone()}
                            drag_view={drag_view.clone()}
                            {hide_params}
                            insert_at={store.insert_at()}
                            {goals}
                        />
                        if !hide_summary {
                            <Summary model_name={AttrValue::from(model.name.clone())} analysis={analysis.clone()} dispatch={dispatch.clone()} {hide_params} />
                        }
                    </div>
                    <div class="side">
                        if let Some(ex) = &store.exercise {
                            <ExercisePanel
                                exercise={ex.clone()}
                                model={model.clone()}
                                total={analysis.total()}
                                teacher={store.teacher}
                                dispatch={dispatch.clone()}
                                {on_share}
                            />
                        }
                        { settings_sheet(&store, &model, &analysis, &dispatch) }
                        if hide_visuals {
                            <p class="panel hidden-note" data-testid="visuals-hidden">{"The teaching visuals are hidden for this exercise."}</p>
                        } else {
                            <section class="visuals-area" aria-label="Visuals">
                                <Visuals
                                    model={model.clone()}
                                    analysis={analysis.clone()}
                                    selected={selected_index}
                                    {on_select}
                                    compare={store.compare.clone()}
                                    dispatch={dispatch.clone()}
                                    {hide_params}
                                />
                            </section>
                        }
                    </div>
                </main>
                if store.sheet.is_some() {
                    <button type="button" class="sheet-backdrop" aria-label="Close" tabindex="-1" onclick={close_sheet}></button>
                }
                { open_dialog }
                { drag_overlays(&drag, drag_view.as_ref(), file_drag) }
            </div>
        }
    }
}
