//! The one "after the next frame" scheduler: a callback runs in a task queued by the next
//! animation frame, so the frame that shows an edit paints first (the autosave, the address
//! bar and the teaching visuals all follow an edit this way).

use std::cell::RefCell;
use std::rc::Rc;

use gloo::render::{request_animation_frame, AnimationFrame};
use gloo::timers::callback::Timeout;

/// A callback waiting for the next frame to be painted. Dropping it cancels the callback if
/// it has not run: the animation frame, and with it the last holder of the task.
pub struct AfterFrame {
    _frame: AnimationFrame,
    _task: Rc<RefCell<Option<Timeout>>>,
}

impl AfterFrame {
    /// Run `f` after the next frame: an animation frame, then a 0 ms task (the browser
    /// paints between the two).
    pub fn new(f: impl FnOnce() + 'static) -> AfterFrame {
        let task: Rc<RefCell<Option<Timeout>>> = Rc::new(RefCell::new(None));
        let slot = task.clone();
        let frame = request_animation_frame(move |_| {
            *slot.borrow_mut() = Some(Timeout::new(0, f));
        });
        AfterFrame {
            _frame: frame,
            _task: task,
        }
    }
}
