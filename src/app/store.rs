//! `yew::Reducible` for the pure [`State`]: the one place yew meets the reducer.

use std::rc::Rc;

use yew::Reducible;

use super::state::{Action, State};

impl Reducible for State {
    type Action = Action;

    fn reduce(self: Rc<Self>, action: Action) -> Rc<Self> {
        let mut next = Rc::unwrap_or_clone(self);
        next.apply(action);
        Rc::new(next)
    }
}
