//! Step-through state shared by the Dense diagram and the window view: a position that
//! wraps, Prev/Next buttons and an auto-play toggle driven by a timer.

use std::rc::Rc;

use gloo::timers::callback::Interval;
use yew::prelude::*;

/// The current step.
#[derive(Default, PartialEq, Debug)]
pub struct Step {
    pub pos: usize,
}

/// Moves through `n` steps, wrapping.
pub enum StepAction {
    Next(usize),
    Prev(usize),
    Set(usize),
}

impl Reducible for Step {
    type Action = StepAction;
    fn reduce(self: Rc<Self>, action: StepAction) -> Rc<Self> {
        let pos = match action {
            StepAction::Next(n) => (self.pos + 1) % n.max(1),
            StepAction::Prev(n) => {
                let n = n.max(1);
                (self.pos % n + n - 1) % n
            }
            StepAction::Set(i) => i,
        };
        Rc::new(Step { pos })
    }
}

/// A stepper: position (clamped to `count`), playing flag and the controls' callbacks.
pub struct Stepper {
    pub pos: usize,
    pub playing: bool,
    pub next: Callback<MouseEvent>,
    pub prev: Callback<MouseEvent>,
    pub toggle: Callback<MouseEvent>,
}

/// Step state over `count` steps with a timer while playing.
#[hook]
pub fn use_stepper(count: usize) -> Stepper {
    let step = use_reducer(Step::default);
    let playing = use_state(|| false);
    let dispatcher = step.dispatcher();
    {
        let dispatcher = dispatcher.clone();
        use_effect_with((*playing, count), move |&(playing, count)| {
            let timer = (playing && count > 1)
                .then(|| Interval::new(1200, move || dispatcher.dispatch(StepAction::Next(count))));
            move || drop(timer)
        });
    }
    let next = {
        let d = dispatcher.clone();
        let playing = playing.clone();
        Callback::from(move |_| {
            playing.set(false);
            d.dispatch(StepAction::Next(count));
        })
    };
    let prev = {
        let d = dispatcher;
        let playing = playing.clone();
        Callback::from(move |_| {
            playing.set(false);
            d.dispatch(StepAction::Prev(count));
        })
    };
    let toggle = {
        let playing = playing.clone();
        Callback::from(move |_| playing.set(!*playing))
    };
    Stepper {
        pos: if count == 0 { 0 } else { step.pos % count },
        playing: *playing,
        next,
        prev,
        toggle,
    }
}

/// Prev / Next / Play buttons with a live status line.
#[derive(Properties, PartialEq)]
pub struct ControlsProps {
    pub label: AttrValue,
    pub status: AttrValue,
    pub playing: bool,
    pub disabled: bool,
    pub prev: Callback<MouseEvent>,
    pub next: Callback<MouseEvent>,
    pub toggle: Callback<MouseEvent>,
    #[prop_or_default]
    pub testid: AttrValue,
}

#[function_component(StepControls)]
pub fn step_controls(p: &ControlsProps) -> Html {
    let tid = |s: &str| format!("{}-{s}", p.testid);
    html! {
        <div class="vz-steps" role="group" aria-label={p.label.clone()}>
            <button type="button" class="vz-btn" data-testid={tid("prev")} onclick={p.prev.clone()} disabled={p.disabled} aria-label="Previous step">{"◀ Prev"}</button>
            <button type="button" class="vz-btn" data-testid={tid("next")} onclick={p.next.clone()} disabled={p.disabled} aria-label="Next step">{"Next ▶"}</button>
            <button type="button" class="vz-btn vz-play" data-testid={tid("play")} onclick={p.toggle.clone()} disabled={p.disabled} aria-pressed={p.playing.to_string()}>
                { if p.playing { "❚❚ Pause" } else { "▷ Auto-play" } }
            </button>
            <span class="vz-step-status" aria-live="polite">{p.status.clone()}</span>
        </div>
    }
}
