//! The Code panel ("Code and files"): paste Keras Python (or any model JSON) and import it,
//! or open a file (picker here, or drop it anywhere on the page); export the model as Keras
//! or PyTorch code, or download it as model JSON.
//!
//! Not in the page's first module: the Code button loads the tools module into the page
//! (`src/app/tools_host.rs`), and this module draws the panel as a dialog of its own over
//! the page. The two talk through [`crate::app::tools_protocol`]'s [`CodeView`] (the model on
//! screen and the last import's report, handed over on each open and after each import) and
//! [`ImportAsk`] (text to import: the page imports it, as it imports a dropped file, so undo
//! and autosave cover it). The exporters run here, in this module.

use std::cell::RefCell;
use std::rc::Rc;

use gloo::file::callbacks::FileReader;
use wasm_bindgen::JsCast;
use web_sys::js_sys::{encode_uri_component, Function, Reflect};
use web_sys::{CustomEvent, CustomEventInit, Element, HtmlInputElement, HtmlTextAreaElement};
use yew::prelude::*;

use crate::app::components::clipboard::{copy_into, CopyState};
use crate::app::components::dialog::Dialog;
use crate::app::components::tools_worker::{read_file, ImportRequest};
use crate::app::share::file_name;
use crate::app::tools_protocol::{
    CodeView, ImportAsk, ImportReport, Imported, CODE_OPEN_EVENT, CODE_VIEW_GLOBAL, IMPORT_EVENT,
};
use crate::codec::export::{to_keras_code, to_pytorch_code};
use crate::codec::model_json;
use crate::engine::Model;

/// Draw the panel's dialog (open now when `open`) into its own element at the end of
/// `<body>`; it opens again on each [`CODE_OPEN_EVENT`].
pub fn mount(open: bool) {
    crate::app::panel_root::add_style(include_str!("code_dialog.css"));
    if let Some(root) = crate::app::panel_root::root("code-root") {
        yew::Renderer::<CodeDialog>::with_root_and_props(root, CodeDialogProps { open }).render();
    }
}

/// The model and report the page handed over ([`CODE_VIEW_GLOBAL`]), if it can be read.
fn read_view() -> Option<(Rc<Model>, Option<Rc<ImportReport>>)> {
    let text = Reflect::get(&gloo::utils::window(), &CODE_VIEW_GLOBAL.into())
        .ok()?
        .as_string()?;
    let view = CodeView::from_json(&text).ok()?;
    let model = view.model.to_model().ok()?;
    Some((Rc::new(model), view.report.map(Rc::new)))
}

/// Hand text to import to the page ([`IMPORT_EVENT`]).
fn ask_page((name, text): ImportRequest) {
    let init = CustomEventInit::new();
    init.set_detail(&ImportAsk { name, text }.to_json().into());
    if let Ok(e) = CustomEvent::new_with_event_init_dict(IMPORT_EVENT, &init) {
        let _ = gloo::utils::window().dispatch_event(&e);
    }
}

#[derive(Properties, PartialEq)]
pub struct CodeDialogProps {
    /// Open at first (the Code button loaded the module).
    pub open: bool,
}

/// The dialog, open from the page's Code button (or an import) until closed.
#[function_component(CodeDialog)]
pub fn code_dialog(props: &CodeDialogProps) -> Html {
    let open = use_state_eq(|| props.open);
    let view = use_state(read_view);
    {
        let (open, view) = (open.clone(), view.clone());
        use_effect_with((), move |()| {
            let w = gloo::utils::window();
            let show = gloo::events::EventListener::new(&w, CODE_OPEN_EVENT, move |_| {
                view.set(read_view());
                open.set(true);
            });
            move || drop(show)
        });
    }
    let close = {
        let open = open.clone();
        Callback::from(move |()| open.set(false))
    };
    match (&*view, *open) {
        (Some((model, report)), true) => html! {
            <Dialog title="Code and files" testid="code-dialog" on_close={close} class="dialog-wide">
                <CodePanel model={model.clone()} on_import={Callback::from(ask_page)} report={report.clone()} />
            </Dialog>
        },
        _ => html! {},
    }
}

#[derive(Properties, PartialEq)]
pub struct CodePanelProps {
    pub model: Rc<Model>,
    pub on_import: Callback<ImportRequest>,
    pub report: Option<Rc<ImportReport>>,
}

#[derive(Clone, Copy, PartialEq)]
enum Lang {
    Keras,
    PyTorch,
}

/// Select the text of an element (the manual-copy fallback for the export block).
fn select_contents(node: &NodeRef) {
    let Some(el) = node.cast::<Element>() else {
        return;
    };
    let win = gloo::utils::window();
    let method = |obj: &wasm_bindgen::JsValue, name: &str| {
        Reflect::get(obj, &name.into())
            .ok()
            .and_then(|f| f.dyn_into::<Function>().ok())
    };
    let Some(sel) = method(&win, "getSelection").and_then(|f| f.call0(&win).ok()) else {
        return;
    };
    if let Some(f) = method(&sel, "selectAllChildren") {
        let _ = f.call1(&sel, &el);
    }
}

/// What the last import did: the model imported and the importer's warnings, or the error.
fn import_report(r: &ImportReport) -> Html {
    match &r.outcome {
        Ok(Imported {
            name,
            layers,
            warnings,
        }) => html! {
            <div class="import-report import-ok" data-testid="code-imported" role="status">
                <p>{format!("Imported “{name}” from {}: {layers} layer{}. Undo (Ctrl+Z) brings back the previous model.", r.source, if *layers == 1 { "" } else { "s" })}</p>
                if !warnings.is_empty() {
                    <ul class="import-warnings" aria-label="Import warnings">
                        { for warnings.iter().map(|w| html! {
                            <li data-testid="code-warning">
                                <span class="mono warn-at">{format!("line {}:{}", w.line, w.column)}</span>
                                {" "}{&w.message}
                            </li>
                        }) }
                    </ul>
                }
            </div>
        },
        Err(e) => html! {
            <p class="import-report import-error" data-testid="code-error" role="alert">
                {format!("Could not import {}: {e}", r.source)}
                <br/><span class="muted">{"The current model is unchanged."}</span>
            </p>
        },
    }
}

/// A file picked in the file input: read it and import it.
fn file_picked(
    on_import: &Callback<ImportRequest>,
    reader: &Rc<RefCell<Option<FileReader>>>,
) -> Callback<Event> {
    let (cb, reader) = (on_import.clone(), reader.clone());
    Callback::from(move |e: Event| {
        let input: HtmlInputElement = e.target_unchecked_into();
        let Some(file) = input.files().and_then(|f| f.get(0)) else {
            return;
        };
        let cb = cb.clone();
        read_file(
            file,
            &reader,
            Callback::from(move |(name, res): (String, Result<String, String>)| {
                cb.emit((Some(name), res));
            }),
        );
        // Picking the same file again fires `change` again.
        input.set_value("");
    })
}

/// The import half: the code box, Import, the file input and the last import's report.
fn import_section(
    text: &str,
    on_text: Callback<InputEvent>,
    on_import: Callback<MouseEvent>,
    on_file: Callback<Event>,
    report: Option<&ImportReport>,
) -> Html {
    html! {
        <section class="code-import" aria-labelledby="code-import-h">
            <h3 id="code-import-h" class="subhead">{"Import"}</h3>
            <label class="field-label" for="code-input">{"Paste Keras Python (Sequential, model.add or functional) or model JSON (Flatland, Keras 3 / 2, TF.js). The code is read, never run."}</label>
            <textarea id="code-input" class="input code-input" data-testid="code-input" rows="9" spellcheck="false"
                aria-label="Keras code or model JSON to import"
                placeholder={"model = keras.Sequential([\n    keras.Input((28, 28, 1)),\n    layers.Conv2D(32, 3, activation=\"relu\"),\n    layers.Flatten(),\n    layers.Dense(10),\n])"}
                value={text.to_string()} oninput={on_text} />
            <div class="code-actions">
                <button type="button" class="btn btn-primary" data-testid="code-import" aria-label="Import the pasted code" onclick={on_import}>{"Import"}</button>
                <label class="btn file-btn">
                    {"Open a file…"}
                    <input type="file" class="visually-hidden" data-testid="file-input" accept=".json,.py,.txt,.keras"
                        aria-label="Open a model file (.json, .py)" onchange={on_file} />
                </label>
                <span class="muted code-hint">{"or drop a .json / .py file anywhere on the page. A .keras file is a zip: unzip it and pick config.json."}</span>
            </div>
            { report.map(import_report).unwrap_or_default() }
        </section>
    }
}

/// The panel: import above, export below.
#[function_component(CodePanel)]
pub fn code_panel(props: &CodePanelProps) -> Html {
    let text = use_state(String::new);
    let lang = use_state_eq(|| Lang::Keras);
    let copy_state = use_state_eq(|| CopyState::Idle);
    let reader: Rc<RefCell<Option<FileReader>>> = use_mut_ref(|| None);
    let export_node = use_node_ref();

    let code = use_memo((props.model.clone(), *lang), |(m, l)| match l {
        Lang::Keras => Rc::<str>::from(to_keras_code(m)),
        Lang::PyTorch => Rc::<str>::from(to_pytorch_code(m)),
    });
    {
        let copy_state = copy_state.clone();
        use_effect_with(code.clone(), move |_| copy_state.set(CopyState::Idle));
    }
    let json_href = use_memo(props.model.clone(), |m| {
        let json = model_json::to_string(m);
        format!(
            "data:application/json;charset=utf-8,{}",
            String::from(encode_uri_component(&json))
        )
    });

    let on_text = {
        let text = text.clone();
        Callback::from(move |e: InputEvent| {
            let el: HtmlTextAreaElement = e.target_unchecked_into();
            text.set(el.value());
        })
    };
    let on_import = {
        let text = text.clone();
        let cb = props.on_import.clone();
        Callback::from(move |_: MouseEvent| cb.emit((None, Ok((*text).clone()))))
    };
    let on_file = file_picked(&props.on_import, &reader);
    let pick = |l: Lang| {
        let lang = lang.clone();
        Callback::from(move |_: MouseEvent| lang.set(l))
    };
    let on_copy = {
        let copy_state = copy_state.clone();
        let code = code.clone();
        let node = export_node.clone();
        Callback::from(move |_: MouseEvent| {
            let node = node.clone();
            copy_into(&code, copy_state.clone(), move || select_contents(&node));
        })
    };

    let lang_tab = |l: Lang, label: &'static str, testid: &'static str| {
        let on = *lang == l;
        html! {
            <button type="button" class={classes!("tab", on.then_some("tab-on"))} role="tab" aria-selected={on.to_string()}
                data-testid={testid} aria-label={format!("Export as {label}")} onclick={pick(l)}>{label}</button>
        }
    };

    html! {
        <div class="code-panel" data-testid="code-panel">
            { import_section(&text, on_text, on_import, on_file, props.report.as_deref()) }
            <section class="code-export-sec" aria-labelledby="code-export-h">
                <div class="panel-head">
                    <h3 id="code-export-h" class="subhead">{"Export"}</h3>
                    <div class="tabs" role="tablist" aria-label="Export language">
                        { lang_tab(Lang::Keras, "Keras", "export-keras") }
                        { lang_tab(Lang::PyTorch, "PyTorch", "export-pytorch") }
                    </div>
                </div>
                <pre class="code-export" data-testid="code-export" ref={export_node} tabindex="0" aria-label="Exported code"><code>{ &**code }</code></pre>
                <div class="code-actions">
                    <button type="button" class="btn" data-testid="export-copy" aria-label="Copy the exported code" onclick={on_copy}>{"Copy code"}</button>
                    <a class="btn" data-testid="download-json" href={(*json_href).clone()} download={file_name(&props.model, "json")}>{"Download model JSON"}</a>
                    { copy_state.status() }
                </div>
            </section>
        </div>
    }
}
