//! Drag and drop with pointer events, so mouse, pen and touch share one code path (HTML5
//! drag events do not fire for touch).
//!
//! A press on a palette item or a card starts a *pending* session with `pointermove`,
//! `pointerup`, `pointercancel` and `keydown` listeners on the document. Once the pointer has
//! travelled a few pixels the drag becomes active: a ghost follows the pointer (moved
//! directly through its node, without re-rendering), and the drop slot is computed from the
//! card rectangles inside the stack (`slot` = the gap the pointer is nearest to, 0 = before
//! the first card). Only a change of slot re-renders. On release: palette → `Add` at the
//! slot; card → `Move` to the slot, or `Delete` when released outside the stack; Escape
//! cancels. Touch drags start from the grip (which has `touch-action: none`) so swiping
//! elsewhere still scrolls the page.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use gloo::events::{EventListener, EventListenerOptions};
use gloo::timers::callback::Timeout;
use wasm_bindgen::JsCast;
use web_sys::{Element, KeyboardEvent, PointerEvent};
use yew::prelude::*;

use crate::app::state::{drop_target, Action, State};
use crate::engine::LayerId;

/// Pixels the pointer must travel before a press becomes a drag.
const THRESHOLD: f64 = 5.0;
/// Extra margin around the stack that still counts as "inside".
const ZONE_MARGIN: f64 = 28.0;
/// Distance from the viewport edge where dragging scrolls the page.
const EDGE: f64 = 56.0;

/// What is being dragged.
#[derive(Debug, Clone, PartialEq)]
pub enum DragSource {
    /// A new layer of this catalogue class.
    Palette(&'static str),
    /// A layer, and its index when the drag started.
    Card(LayerId, usize),
}

/// What the page shows while dragging.
#[derive(Debug, Clone, PartialEq)]
pub struct DragView {
    pub source: DragSource,
    pub label: String,
    /// Gap the item would drop into (0..=len), `None` when outside the stack.
    pub slot: Option<usize>,
}

impl DragView {
    /// Dragging a card out of the stack deletes it on release.
    pub fn deleting(&self) -> bool {
        matches!(self.source, DragSource::Card(..)) && self.slot.is_none()
    }

    /// Slot where the drop indicator shows (hidden when the drop would change nothing).
    pub fn indicator(&self) -> Option<usize> {
        let slot = self.slot?;
        match self.source {
            DragSource::Card(_, from) => drop_target(from, slot).map(|_| slot),
            DragSource::Palette(_) => Some(slot),
        }
    }
}

struct Session {
    source: DragSource,
    label: String,
    start: (f64, f64),
    pointer_id: i32,
    active: bool,
    slot: Option<usize>,
    listeners: Vec<EventListener>,
}

struct Inner {
    session: RefCell<Option<Session>>,
    /// Set when a drag ends, so the click that follows the release is not an "add".
    swallow: Rc<Cell<bool>>,
    view: UseStateHandle<Option<DragView>>,
    dispatcher: UseReducerDispatcher<State>,
    stack: NodeRef,
    ghost: NodeRef,
}

/// Handle shared by the palette, the stack and the app. Cheap to clone; equal when it is
/// the same controller.
#[derive(Clone)]
pub struct DragApi {
    inner: Rc<Inner>,
}

impl PartialEq for DragApi {
    fn eq(&self, other: &Self) -> bool {
        Rc::ptr_eq(&self.inner, &other.inner)
    }
}

/// The drag controller of one app instance, and the current view (for rendering).
#[hook]
pub fn use_drag(dispatcher: UseReducerDispatcher<State>) -> (DragApi, Option<DragView>) {
    let view = use_state(|| None::<DragView>);
    let api = {
        let view = view.clone();
        use_memo((), move |()| DragApi {
            inner: Rc::new(Inner {
                session: RefCell::new(None),
                swallow: Rc::new(Cell::new(false)),
                view,
                dispatcher,
                stack: NodeRef::default(),
                ghost: NodeRef::default(),
            }),
        })
    };
    {
        // Drop the document listeners if the app unmounts mid-drag.
        let api = (*api).clone();
        use_effect_with((), move |()| {
            move || drop(api.inner.session.borrow_mut().take())
        });
    }
    ((*api).clone(), (*view).clone())
}

fn point(e: &PointerEvent) -> (f64, f64) {
    (f64::from(e.client_x()), f64::from(e.client_y()))
}

/// Whether the event target is, or is inside, an element matching `selector`.
pub fn within(target: Option<web_sys::EventTarget>, selector: &str) -> bool {
    target
        .and_then(|t| t.dyn_into::<Element>().ok())
        .and_then(|el| el.closest(selector).ok().flatten())
        .is_some()
}

impl DragApi {
    /// The element whose area counts as the stack (cards are found inside it).
    pub fn stack_ref(&self) -> NodeRef {
        self.inner.stack.clone()
    }

    /// The ghost that follows the pointer.
    pub fn ghost_ref(&self) -> NodeRef {
        self.inner.ghost.clone()
    }

    /// True once, right after a drag ended (the release's click should be ignored).
    pub fn swallow_click(&self) -> bool {
        self.inner.swallow.replace(false)
    }

    /// A press on a draggable item. Ignores secondary buttons, presses on the item's own
    /// buttons, and touch presses outside the grip.
    pub fn press(&self, source: DragSource, label: String, e: &PointerEvent) {
        if !e.is_primary() || e.button() != 0 {
            return;
        }
        if matches!(source, DragSource::Card(..))
            && within(e.target(), "button, input, select, textarea, a")
        {
            return;
        }
        if e.pointer_type() == "touch" && !within(e.target(), ".grip") {
            return;
        }
        if e.pointer_type() == "mouse" {
            // No text selection while dragging with a mouse.
            e.prevent_default();
        }
        self.cancel();
        let doc = gloo::utils::document();
        let opts = EventListenerOptions::enable_prevent_default();
        let mut listeners = Vec::with_capacity(4);
        let me = self.clone();
        listeners.push(EventListener::new_with_options(
            &doc,
            "pointermove",
            opts,
            move |ev| {
                if let Some(pe) = ev.dyn_ref::<PointerEvent>() {
                    me.moved(pe);
                }
            },
        ));
        let me = self.clone();
        listeners.push(EventListener::new(&doc, "pointerup", move |ev| {
            if let Some(pe) = ev.dyn_ref::<PointerEvent>() {
                me.released(pe);
            }
        }));
        let me = self.clone();
        listeners.push(EventListener::new(&doc, "pointercancel", move |_| {
            me.cancel();
        }));
        let me = self.clone();
        listeners.push(EventListener::new_with_options(
            &doc,
            "keydown",
            opts,
            move |ev| {
                if ev
                    .dyn_ref::<KeyboardEvent>()
                    .is_some_and(|k| k.key() == "Escape")
                {
                    ev.prevent_default();
                    me.cancel();
                }
            },
        ));
        *self.inner.session.borrow_mut() = Some(Session {
            source,
            label,
            start: point(e),
            pointer_id: e.pointer_id(),
            active: false,
            slot: None,
            listeners,
        });
    }

    fn moved(&self, e: &PointerEvent) {
        let (x, y) = point(e);
        let update = {
            let mut guard = self.inner.session.borrow_mut();
            let Some(s) = guard.as_mut() else { return };
            if s.pointer_id != e.pointer_id() {
                return;
            }
            let started = if s.active {
                false
            } else {
                let (sx, sy) = s.start;
                if (x - sx).hypot(y - sy) < THRESHOLD {
                    return;
                }
                s.active = true;
                true
            };
            e.prevent_default();
            let slot = self.slot_at(x, y);
            let changed = started || slot != s.slot;
            s.slot = slot;
            changed.then(|| DragView {
                source: s.source.clone(),
                label: s.label.clone(),
                slot,
            })
        };
        self.place_ghost(x, y);
        autoscroll(y);
        if let Some(v) = update {
            self.inner.view.set(Some(v));
        }
    }

    fn released(&self, e: &PointerEvent) {
        let Some(s) = self.take_session() else { return };
        if !s.active {
            return;
        }
        let (x, y) = point(e);
        let slot = self.slot_at(x, y);
        let action = match (&s.source, slot) {
            (DragSource::Palette(class), Some(at)) => Some(Action::Add {
                class: (*class).to_string(),
                at: Some(at),
            }),
            (DragSource::Card(id, from), Some(slot)) => {
                drop_target(*from, slot).map(|to| Action::Move { id: *id, to })
            }
            (DragSource::Card(id, _), None) => Some(Action::Delete(*id)),
            (DragSource::Palette(_), None) => None,
        };
        let swallow = self.inner.swallow.clone();
        swallow.set(true);
        Timeout::new(0, move || swallow.set(false)).forget();
        self.inner.view.set(None);
        if let Some(a) = action {
            self.inner.dispatcher.dispatch(a);
        }
    }

    /// Abandon the current press or drag.
    pub fn cancel(&self) {
        if let Some(s) = self.take_session() {
            if s.active {
                self.inner.view.set(None);
            }
        }
    }

    /// Remove the session; its listeners are dropped after the current event finishes.
    fn take_session(&self) -> Option<Session> {
        let mut s = self.inner.session.borrow_mut().take()?;
        let listeners = std::mem::take(&mut s.listeners);
        Timeout::new(0, move || drop(listeners)).forget();
        Some(s)
    }

    fn place_ghost(&self, x: f64, y: f64) {
        if let Some(g) = self.inner.ghost.cast::<Element>() {
            let _ = g.set_attribute("style", &format!("transform: translate3d({x}px, {y}px, 0)"));
        }
    }

    /// Gap under the pointer, from the card rectangles; `None` outside the stack.
    fn slot_at(&self, x: f64, y: f64) -> Option<usize> {
        let stack = self.inner.stack.cast::<Element>()?;
        let zone = stack.get_bounding_client_rect();
        if x < zone.left() - ZONE_MARGIN
            || x > zone.right() + ZONE_MARGIN
            || y < zone.top() - ZONE_MARGIN
            || y > zone.bottom() + ZONE_MARGIN
        {
            return None;
        }
        let cards = stack
            .query_selector_all("[data-testid='layer-card']")
            .ok()?;
        let n = cards.length();
        for i in 0..n {
            let Some(card) = cards.item(i).and_then(|c| c.dyn_into::<Element>().ok()) else {
                continue;
            };
            let r = card.get_bounding_client_rect();
            if y < r.top() + r.height() / 2.0 {
                return usize::try_from(i).ok();
            }
        }
        usize::try_from(n).ok()
    }
}

/// Scroll the page while the pointer is near the top or bottom edge.
fn autoscroll(y: f64) {
    let win = gloo::utils::window();
    let h = win
        .inner_height()
        .ok()
        .and_then(|v| v.as_f64())
        .unwrap_or(0.0);
    if y < EDGE {
        win.scroll_by_with_x_and_y(0.0, -14.0);
    } else if h > 0.0 && y > h - EDGE {
        win.scroll_by_with_x_and_y(0.0, 14.0);
    }
}
