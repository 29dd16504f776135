//! Where the starting state comes from and where work is kept: a share link in the URL
//! fragment wins, then the autosave in `localStorage` (key [`KEY`], our model JSON), then
//! [`Model::seed`] (see [`share::initial_state`]). The fragment then stays and tracks the
//! page: every change rewrites it with `history.replaceState` ([`write_fragment`]), so the
//! address bar always holds a link to what is on screen.

use std::cell::RefCell;

use gloo::timers::callback::Timeout;

use super::frame::AfterFrame;
use wasm_bindgen::JsValue;
use web_sys::Storage;

use super::share;
use super::state::State;
use crate::codec::model_json;
use crate::engine::Model;

/// `localStorage` key of the autosaved model.
pub const KEY: &str = "flatland:model";

fn local() -> Option<Storage> {
    gloo::utils::window().local_storage().ok().flatten()
}

/// The autosaved model, if there is a readable one.
pub fn load() -> Option<Model> {
    let text = local()?.get_item(KEY).ok()??;
    let v: serde_json::Value = serde_json::from_str(&text).ok()?;
    model_json::from_value(&v).ok()
}

/// Autosave and the address bar are written after the frame that shows an edit (an
/// animation frame, then a task), not inside it: the edit paints first, and the writes of
/// edits made within one frame are done once. Leaving the page writes at once.
/// Writes waiting for the edits to settle: the model to autosave, the fragment to put in
/// the address bar, and the timer that writes them.
#[derive(Default)]
struct Pending {
    model: Option<Model>,
    /// Makes the fragment (encoding a link is deflate + base64: done once, at write time).
    fragment: Option<Box<dyn FnOnce() -> String>>,
    /// The writes, waiting for the next frame.
    later: Option<AfterFrame>,
    /// `pagehide` / `visibilitychange` listeners that write at once when the page goes.
    listening: bool,
}

thread_local! {
    static PENDING: RefCell<Pending> = RefCell::new(Pending::default());
}

/// Write what is waiting now.
pub fn flush() {
    let (model, fragment) = PENDING.with(|p| {
        let mut p = p.borrow_mut();
        p.later = None;
        (p.model.take(), p.fragment.take())
    });
    if let Some(m) = model {
        save_now(&m);
    }
    if let Some(f) = fragment {
        write_fragment_now(&f());
    }
}

/// Schedule the writes after the next frame, unless they already are; the first call also
/// installs the page-leave flush.
fn settle_later(p: &mut Pending) {
    if p.later.is_none() {
        p.later = Some(AfterFrame::new(flush));
    }
    if !p.listening {
        p.listening = true;
        let win = gloo::utils::window();
        gloo::events::EventListener::new(&win, "pagehide", |_| flush()).forget();
        gloo::events::EventListener::new(&gloo::utils::document(), "visibilitychange", |_| {
            if gloo::utils::document().hidden() {
                flush();
            }
        })
        .forget();
    }
}

/// Autosave, after the frame that shows the edit, or when the page is left.
pub fn save(model: &Model) {
    PENDING.with(|p| {
        let mut p = p.borrow_mut();
        p.model = Some(model.clone());
        settle_later(&mut p);
    });
}

/// Autosave now (best effort: private windows may refuse storage).
fn save_now(model: &Model) {
    if let Some(s) = local() {
        let _ = s.set_item(KEY, &model_json::to_string(model));
    }
}

/// Forget the autosave (and one that is waiting).
pub fn clear() {
    PENDING.with(|p| p.borrow_mut().model = None);
    if let Some(s) = local() {
        let _ = s.remove_item(KEY);
    }
}

/// The URL fragment, with its `#` (empty when there is none).
pub fn fragment() -> String {
    gloo::utils::window().location().hash().unwrap_or_default()
}

/// The page URL without the fragment.
pub fn page_url() -> String {
    let loc = gloo::utils::window().location();
    format!(
        "{}{}{}",
        loc.origin().unwrap_or_default(),
        loc.pathname().unwrap_or_default(),
        loc.search().unwrap_or_default()
    )
}

thread_local! {
    /// The fragment the address bar held when we last looked or wrote: the page's at start,
    /// ours after a write, a navigation's once its handler has read it ([`adopt_fragment`]).
    static KNOWN: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Read the fragment a navigation (a pasted link, Back / Forward) put in the address bar,
/// and accept it: writes after this may replace it (until then they may not), and the
/// writes still waiting are dropped, as they are of the state before the navigation. The
/// caller opens the link, whose state then writes its own, or writes one itself.
pub fn adopt_fragment() -> String {
    let hash = fragment();
    KNOWN.with(|k| *k.borrow_mut() = Some(hash.clone()));
    PENDING.with(|p| p.borrow_mut().fragment = None);
    WRITER.with(|w| w.borrow_mut().waiting = None);
    hash
}

/// Put `fragment` in the address bar now (no new history entry, no `hashchange`), unless
/// the address bar changed since we last knew it: a link was pasted or Back pressed after
/// this write was queued, and its `hashchange` / `popstate` has not been handled yet.
/// Writing then would replace the link before the page opened it; the handler decides.
fn replace_fragment(fragment: &str) {
    let win = gloo::utils::window();
    let loc = win.location();
    let current = loc.hash().unwrap_or_default();
    let moved = KNOWN.with(|k| k.borrow().as_ref().is_some_and(|known| *known != current));
    if moved {
        return;
    }
    if current == fragment {
        return;
    }
    if let Ok(history) = win.history() {
        let url = format!(
            "{}{}{}",
            loc.pathname().unwrap_or_default(),
            loc.search().unwrap_or_default(),
            fragment
        );
        // Keep whatever state the entry has (none of ours).
        let state = history.state().unwrap_or(JsValue::NULL);
        let _ = history.replace_state_with_url(&state, "", Some(&url));
    }
    // What the address bar holds now: ours, or (the write refused, or the URL normalised)
    // whatever it does hold, so a failed write cannot block the ones after it.
    KNOWN.with(|k| *k.borrow_mut() = Some(loc.hash().unwrap_or_default()));
}

/// Browsers refuse `replaceState` floods (Safari: 100 per 30 s, Chrome: 200 per 10 s). A
/// token bucket keeps us well below: bursts of [`BURST`] writes, then [`PER_SECOND`]; a
/// write over the budget waits, and only the latest waiting one is kept.
const BURST: f64 = 40.0;
const PER_SECOND: f64 = 2.0;

struct Writer {
    tokens: f64,
    at: f64,
    /// The latest fragment over the budget, written when the timer fires.
    waiting: Option<String>,
    timer_set: bool,
}

thread_local! {
    static WRITER: RefCell<Writer> = const {
        RefCell::new(Writer {
            tokens: BURST,
            at: 0.0,
            waiting: None,
            timer_set: false,
        })
    };
}

fn now_ms() -> f64 {
    gloo::utils::window().performance().map_or(0.0, |p| p.now())
}

/// Put `fragment` (`#…`) in the address bar without a new history entry and without a
/// `hashchange` event, after the frame that shows the edit. No-op when it is already there.
pub fn write_fragment(fragment: &str) {
    let fragment = fragment.to_string();
    write_fragment_with(move || fragment);
}

/// [`write_fragment`] of what `make` returns, called only when the write happens (a newer
/// write before then replaces it uncalled).
pub fn write_fragment_with(make: impl FnOnce() -> String + 'static) {
    PENDING.with(|p| {
        let mut p = p.borrow_mut();
        p.fragment = Some(Box::new(make));
        settle_later(&mut p);
    });
}

/// [`write_fragment`] now or, past the rate limit, shortly.
fn write_fragment_now(fragment: &str) {
    let wait_ms = WRITER.with(|w| {
        let mut w = w.borrow_mut();
        let now = now_ms();
        w.tokens = (w.tokens + (now - w.at).max(0.0) / 1000.0 * PER_SECOND).min(BURST);
        w.at = now;
        if w.tokens >= 1.0 {
            w.tokens -= 1.0;
            w.waiting = None;
            return None;
        }
        w.waiting = Some(fragment.to_string());
        if w.timer_set {
            return Some(None);
        }
        w.timer_set = true;
        Some(Some(((1.0 - w.tokens) / PER_SECOND * 1000.0).ceil()))
    });
    match wait_ms {
        None => replace_fragment(fragment),
        Some(None) => {}
        Some(Some(ms)) => {
            // Fires once; nothing to cancel (a newer fragment just replaces `waiting`).
            Timeout::new(ms as u32, || {
                let text = WRITER.with(|w| {
                    let mut w = w.borrow_mut();
                    w.timer_set = false;
                    w.waiting.take()
                });
                if let Some(text) = text {
                    write_fragment_now(&text);
                }
            })
            .forget();
        }
    }
}

/// The state to start with: the link in the address bar, else the autosave, else the seed.
pub fn initial() -> State {
    share::initial_state(&adopt_fragment(), load())
}
