//! The page's side of the tools worker, and reading files to import.
//!
//! The Keras code importer, the exporters and the QR encoder are not in the page's main
//! module: they run in the tools worker (src/bin/flatland-tools.rs), a second wasm module
//! started by the first [`tools`] request (a `.py` file dropped on the page, or the Share
//! panel's QR code). The messages are [`crate::app::tools_protocol`]'s. The Code panel
//! itself is drawn by the same module loaded into the page (`src/app/code_dialog.rs`).

use std::cell::RefCell;
use std::rc::Rc;

use gloo::file::callbacks::FileReader;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{MessageEvent, Worker};
use yew::prelude::*;

use crate::app::share::{prepare_import, Pending};
use crate::app::tools_protocol::{Op, Outcome, Reply, Request, ToolsError, READY};
use crate::codec::keras_code::CodeWarning;
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
    let lower = name.to_ascii_lowercase();
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
