//! Code and files: paste Keras Python (or any model JSON) and import it, or open a file
//! (picker here, or drop it anywhere on the page); export the model as Keras or PyTorch
//! code, or download it as model JSON.
//!
//! The Keras code importer and the exporters are not in the page's main module: they run in
//! the tools worker (src/bin/flatland-tools.rs), a second wasm module started by the first
//! [`tools`] request (this panel opening, or a `.py` file dropped on the page). The messages
//! are [`crate::app::tools_protocol`]'s.

use std::cell::RefCell;
use std::rc::Rc;

use gloo::file::callbacks::FileReader;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::js_sys::{encode_uri_component, Function, Reflect};
use web_sys::{Element, HtmlInputElement, HtmlTextAreaElement, MessageEvent, Worker};
use yew::prelude::*;

use super::clipboard::{copy_into, CopyState};
use crate::app::share::{file_name, prepare_import, Pending};
use crate::app::tools_protocol::{Op, Outcome, Reply, Request, ToolsError, WireModel, READY};
use crate::codec::keras_code::CodeWarning;
use crate::codec::model_json;
use crate::engine::Model;

/// How long the worker may take to load before its requests fail.
const TOOLS_LOAD_MS: u32 = 30_000;

/// The page's side of the tools worker.
struct Tools {
    worker: Worker,
    ready: bool,
    /// The worker failed (did not load): the next request starts a new one.
    failed: bool,
    next_id: u32,
    /// Requests (as posted: JSON text) waiting for [`READY`].
    queue: Vec<String>,
    pending: Vec<(u32, Callback<Outcome>)>,
    _on_message: Closure<dyn FnMut(MessageEvent)>,
    _on_error: Closure<dyn FnMut(web_sys::Event)>,
    load_timeout: Option<gloo::timers::callback::Timeout>,
}

thread_local! {
    static TOOLS: RefCell<Option<Tools>> = const { RefCell::new(None) };
}

/// Fail every waiting request (the worker did not load) and stop the worker.
fn tools_failed(why: &ToolsError) {
    let waiting = TOOLS.with(|t| {
        let mut t = t.borrow_mut();
        let Some(tools) = t.as_mut() else {
            return Vec::new();
        };
        tools.failed = true;
        tools.worker.terminate();
        tools.queue.clear();
        std::mem::take(&mut tools.pending)
    });
    for (_, cb) in waiting {
        cb.emit(Outcome::Failed(why.clone()));
    }
}

fn tools_message(e: &MessageEvent) {
    let text = e.data().as_string().unwrap_or_default();
    if text == READY {
        TOOLS.with(|t| {
            if let Some(tools) = t.borrow_mut().as_mut() {
                tools.ready = true;
                tools.load_timeout = None;
                for m in tools.queue.drain(..) {
                    let _ = tools.worker.post_message(&m.into());
                }
            }
        });
        return;
    }
    // A reply without a readable id answers no request.
    let Ok(Reply {
        id: Some(id),
        outcome,
    }) = Reply::from_json(&text)
    else {
        return;
    };
    let cb = TOOLS.with(|t| {
        let mut t = t.borrow_mut();
        let tools = t.as_mut()?;
        let i = tools.pending.iter().position(|(p, _)| *p == id)?;
        Some(tools.pending.remove(i).1)
    });
    if let Some(cb) = cb {
        cb.emit(outcome);
    }
}

fn start_tools() -> Option<Tools> {
    // Trunk's `data-loader-shim`, under the name index.html gives (scripts/hash-worker).
    let meta = gloo::utils::document()
        .query_selector("meta[name=\"flatland-tools\"]")
        .ok()
        .flatten()
        .and_then(|m| m.get_attribute("content"));
    let worker = Worker::new(crate::app::share::tools_loader(meta.as_deref())).ok()?;
    let on_message = Closure::<dyn FnMut(MessageEvent)>::new(|e: MessageEvent| tools_message(&e));
    let on_error = Closure::<dyn FnMut(web_sys::Event)>::new(|_: web_sys::Event| {
        tools_failed(&ToolsError::NotLoaded);
    });
    worker.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    worker.set_onerror(Some(on_error.as_ref().unchecked_ref()));
    let timeout = gloo::timers::callback::Timeout::new(TOOLS_LOAD_MS, || {
        tools_failed(&ToolsError::LoadTimeout);
    });
    Some(Tools {
        worker,
        ready: false,
        failed: false,
        next_id: 0,
        queue: Vec::new(),
        pending: Vec::new(),
        _on_message: on_message,
        _on_error: on_error,
        load_timeout: Some(timeout),
    })
}

/// Ask the tools worker (started on first use) to do `op`; `done` gets its answer, or why
/// there is none.
#[allow(clippy::needless_pass_by_value)] // callers hand the callback over
pub fn tools(op: Op, done: Callback<Outcome>) {
    let sent = TOOLS.with(|t| {
        let mut t = t.borrow_mut();
        if t.as_ref().is_none_or(|tools| tools.failed) {
            *t = start_tools();
        }
        let Some(tools) = t.as_mut() else {
            return false;
        };
        tools.next_id = tools.next_id.wrapping_add(1);
        let id = tools.next_id;
        let msg = Request { id, op }.to_json();
        tools.pending.push((id, done.clone()));
        if tools.ready {
            let _ = tools.worker.post_message(&msg.into());
        } else {
            tools.queue.push(msg);
        }
        true
    });
    if !sent {
        done.emit(Outcome::Failed(ToolsError::NotStarted));
    }
}

/// Import pasted or dropped text (see [`crate::app::share::import_text`]): JSON here,
/// Keras code in the tools worker. `done` may be called before this returns.
pub fn import(
    name: Option<&str>,
    text: Result<String, String>,
    done: Callback<Result<(Model, Vec<CodeWarning>), String>>,
) {
    match text.and_then(|t| prepare_import(name, &t)) {
        Ok(Pending::Code(code)) => tools(
            Op::Import { code },
            Callback::from(move |reply: Outcome| {
                done.emit(reply.into_imported().map_err(|e| e.to_string()));
            }),
        ),
        Ok(Pending::Ready(m)) => done.emit(Ok((m, Vec::new()))),
        Err(e) => done.emit(Err(e)),
    }
}

/// What the last import did.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportReport {
    /// "pasted code" or the file name.
    pub source: String,
    /// The imported model's name and layer count, and the importer's warnings; or why
    /// nothing was imported.
    pub outcome: Result<(String, usize, Vec<CodeWarning>), String>,
}

/// Text to import: the file name (when from a file) and the text, or why the file could
/// not be read.
pub type ImportRequest = (Option<String>, Result<String, String>);

/// Largest file read (model JSON and code are small; this stops a stray video).
const MAX_FILE_BYTES: f64 = 16.0 * 1024.0 * 1024.0;

/// Read a file as text and hand it to `done` (`Err` with a message when it cannot be
/// read). `holder` keeps the reader alive until it finishes.
pub fn read_file(
    file: web_sys::File,
    holder: &Rc<RefCell<Option<FileReader>>>,
    done: Callback<(String, Result<String, String>)>,
) {
    let name = file.name();
    if file.size() > MAX_FILE_BYTES {
        done.emit((
            name,
            Err("the file is too large to be a model description".into()),
        ));
        return;
    }
    let lower = name.to_lowercase();
    if [".keras", ".zip", ".h5", ".hdf5"]
        .iter()
        .any(|e| lower.ends_with(e))
    {
        // Binary: the importer explains what to do from the name alone.
        done.emit((name, Ok(String::new())));
        return;
    }
    let blob = gloo::file::File::from(file);
    let keep = holder.clone();
    let reader = gloo::file::callbacks::read_as_text(&blob, move |res| {
        done.emit((
            name,
            res.map_err(|e| format!("could not read the file ({e})")),
        ));
        keep.borrow_mut().take();
    });
    *holder.borrow_mut() = Some(reader);
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
        Ok((name, layers, warnings)) => html! {
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

#[function_component(CodePanel)]
pub fn code_panel(props: &CodePanelProps) -> Html {
    let text = use_state(String::new);
    let lang = use_state_eq(|| Lang::Keras);
    let copy_state = use_state_eq(|| CopyState::Idle);
    let reader: Rc<RefCell<Option<FileReader>>> = use_mut_ref(|| None);
    let export_node = use_node_ref();

    // The exported code, from the tools worker: the last reply (replies come in request
    // order), `None` until the first.
    let code = use_state_eq(|| None::<Rc<str>>);
    {
        let code = code.clone();
        use_effect_with((props.model.clone(), *lang), move |(m, l)| {
            let model = WireModel::of(m);
            let op = match l {
                Lang::Keras => Op::KerasCode { model },
                Lang::PyTorch => Op::PyTorchCode { model },
            };
            tools(
                op,
                Callback::from(move |reply: Outcome| {
                    let text = reply
                        .into_code()
                        .unwrap_or_else(|e| format!("# Could not export: {e}"));
                    code.set(Some(text.into()));
                }),
            );
        });
    }
    {
        let copy_state = copy_state.clone();
        use_effect_with((*code).clone(), move |_| copy_state.set(CopyState::Idle));
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
            let Some(code) = (*code).clone() else {
                return;
            };
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
                <pre class="code-export" data-testid="code-export" ref={export_node} tabindex="0" aria-label="Exported code"><code>{ (*code).as_deref().unwrap_or("Loading the exporter…") }</code></pre>
                <div class="code-actions">
                    <button type="button" class="btn" data-testid="export-copy" aria-label="Copy the exported code" onclick={on_copy}>{"Copy code"}</button>
                    <a class="btn" data-testid="download-json" href={(*json_href).clone()} download={file_name(&props.model, "json")}>{"Download model JSON"}</a>
                    <span class="copy-status" role="status" aria-live="polite">
                        { match *copy_state {
                            CopyState::Copied => "Copied ✓",
                            CopyState::Manual => "Selected: press Ctrl+C (⌘C) to copy",
                            CopyState::Idle => "",
                        } }
                    </span>
                </div>
            </section>
        </div>
    }
}
