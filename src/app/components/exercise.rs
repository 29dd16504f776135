//! Exercises. The student view shows the instructions and a live checklist of the goals
//! (each met or not, from [`check`]) with a clear success state; the teacher view (teacher
//! mode) edits the goals: target output shape, a parameter budget, layers that must or must
//! not appear, and panels to hide. The exercise travels in the share link.

use std::rc::Rc;

use web_sys::{HtmlInputElement, HtmlSelectElement, HtmlTextAreaElement};
use yew::prelude::*;

use super::field::DraftInput;
use super::on_click;
use crate::app::share::{
    classes_text, parse_classes, parse_count, parse_target_shape, target_shape_text, PANELS,
};
use crate::app::state::Action;
use crate::codec::exercise::{check, Exercise, Goal};
use crate::engine::summary::commas;
use crate::engine::Model;

#[derive(Properties, PartialEq)]
pub struct ExerciseProps {
    pub exercise: Exercise,
    pub model: Rc<Model>,
    /// Total params of the current model (the default budget in the editor).
    pub total: u64,
    pub teacher: bool,
    pub dispatch: Callback<Action>,
    /// Open the share panel.
    pub on_share: Callback<()>,
}

/// The goals, each met or not, and the success state when all are.
fn checklist(goals: &[Goal]) -> Html {
    let met = goals.iter().filter(|g| g.met).count();
    // The first goal ("every layer computes") is always there: with no other, nothing is won.
    let all = met == goals.len() && goals.len() > 1;
    html! {
        <div class="checklist-wrap">
            <ul class="checklist" data-testid="exercise-checklist" aria-label={format!("Goals: {met} of {} met", goals.len())}>
                { for goals.iter().map(|g| html! {
                    <li class={classes!("goal", g.met.then_some("goal-met"))} data-testid="exercise-goal" data-met={g.met.to_string()}>
                        <span class="goal-mark" aria-hidden="true">{ if g.met { "✓" } else { "○" } }</span>
                        <span class="goal-label">{&g.label}</span>
                        <span class="visually-hidden">{ if g.met { " (met)" } else { " (not met yet)" } }</span>
                    </li>
                }) }
            </ul>
            <p class="goal-count" aria-live="polite">{ if goals.len() > 1 {
                format!("{met} of {} goals met", goals.len())
            } else {
                "No goals set yet: add an output shape, a parameter limit or a layer to avoid.".to_string()
            } }</p>
            if all {
                <p class="exercise-success" data-testid="exercise-success" role="status">
                    <span class="success-mark" aria-hidden="true">{"★"}</span>
                    {"All goals met: well done! Share the link to hand in this model."}
                </p>
            }
        </div>
    }
}

/// Replaces the exercise with `e`.
fn set_exercise(dispatch: &Callback<Action>, e: Exercise) {
    dispatch.emit(Action::SetExercise(Some(e)));
}

/// A field's commit: `f` edits a copy of the exercise and returns the text to show, and the
/// copy replaces the exercise; on an error nothing changes.
fn commit(
    ex: &Exercise,
    dispatch: &Callback<Action>,
    f: impl Fn(&mut Exercise, String) -> Result<String, String> + 'static,
) -> Callback<String, Result<String, String>> {
    let (ex, dispatch) = (ex.clone(), dispatch.clone());
    Callback::from(move |t: String| -> Result<String, String> {
        let mut next = ex.clone();
        let shown = f(&mut next, t)?;
        set_exercise(&dispatch, next);
        Ok(shown)
    })
}

/// The student's view: title, instructions and the live checklist.
fn student_view(p: &ExerciseProps, node: &NodeRef, goals: &[Goal]) -> Html {
    let ex = &p.exercise;
    html! {
        <section ref={node.clone()} tabindex="-1" class="exercise panel exercise-student" data-testid="exercise-panel" aria-labelledby="exercise-h">
            <div class="panel-head">
                <h2 id="exercise-h"><span class="exercise-tag">{"Exercise"}</span>{" "}<span class="exercise-title">{&ex.title}</span></h2>
                <div class="panel-tools">
                    if ex.start.is_some() {
                        <button type="button" class="btn btn-quiet" data-testid="exercise-restart" aria-label="Start the exercise over (undoable)"
                            onclick={on_click(&p.dispatch, Action::RestartExercise)}>{"Start over"}</button>
                    }
                    <button type="button" class="btn btn-quiet" data-testid="exercise-leave" aria-label="Leave the exercise"
                        onclick={on_click(&p.dispatch, Action::SetExercise(None))}>{"Leave"}</button>
                </div>
            </div>
            if !ex.instructions.is_empty() {
                <p class="exercise-text" data-testid="exercise-instructions">{&ex.instructions}</p>
            }
            { checklist(goals) }
        </section>
    }
}

/// The parameter goal: none, fewer than, at most or exactly a number (the current total to
/// start with).
fn budget_field(ex: &Exercise, total: u64, dispatch: &Callback<Action>) -> Html {
    let budget = ex.exact_params.or(ex.max_params).or(ex.under_params);
    let kind = if ex.exact_params.is_some() {
        "exact"
    } else if ex.max_params.is_some() {
        "max"
    } else if ex.under_params.is_some() {
        "lt"
    } else {
        "none"
    };
    let on_kind = {
        let ex = ex.clone();
        let dispatch = dispatch.clone();
        Callback::from(move |e: Event| {
            let el: HtmlSelectElement = e.target_unchecked_into();
            let n = Some(budget.unwrap_or(total));
            let k = el.value();
            set_exercise(
                &dispatch,
                Exercise {
                    max_params: n.filter(|_| k == "max"),
                    exact_params: n.filter(|_| k == "exact"),
                    under_params: n.filter(|_| k == "lt"),
                    ..ex.clone()
                },
            );
        })
    };
    let on_budget = commit(ex, dispatch, |next, t| {
        let n = parse_count(&t)?.ok_or("give a number of parameters, e.g. 50,000")?;
        for goal in [
            &mut next.exact_params,
            &mut next.max_params,
            &mut next.under_params,
        ] {
            if goal.is_some() {
                *goal = Some(n);
            }
        }
        Ok(commas(n))
    });
    let option = |value: &'static str, label: &'static str| {
        html! { <option {value} selected={kind == value}>{label}</option> }
    };
    html! {
        <div class="field">
            <span class="field-label">{"Total parameters"}</span>
            <div class="budget">
                <select class="input select" data-testid="exercise-params-kind" aria-label="Parameter goal" onchange={on_kind}>
                    { option("none", "any number") }
                    { option("lt", "fewer than") }
                    { option("max", "at most") }
                    { option("exact", "exactly") }
                </select>
                if budget.is_some() {
                    <DraftInput value={AttrValue::from(budget.map(commas).unwrap_or_default())} on_commit={on_budget}
                        testid="exercise-params" label="Number of parameters" inputmode={AttrValue::Static("numeric")}
                        error_testid="exercise-error" />
                }
            </div>
        </div>
    }
}

/// The panels to hide from students, one checkbox each.
fn hide_panels_field(ex: &Exercise, dispatch: &Callback<Action>) -> Html {
    let hide_toggle = |id: &'static str| {
        let ex = ex.clone();
        let dispatch = dispatch.clone();
        Callback::from(move |e: Event| {
            let el: HtmlInputElement = e.target_unchecked_into();
            let mut next = ex.clone();
            next.hide_panels.retain(|p| p != id);
            if el.checked() {
                next.hide_panels.push(id.to_string());
            }
            set_exercise(&dispatch, next);
        })
    };
    html! {
        <fieldset class="field field-wide hide-panels">
            <legend class="field-label">{"Hide from students"}</legend>
            { for PANELS.iter().map(|(id, label)| html! {
                <label class="field-bool">
                    <input type="checkbox" class="check" data-testid={format!("exercise-hide-{id}")} aria-label={format!("Hide {label}")}
                        checked={ex.hide_panels.iter().any(|p| p == id)} onchange={hide_toggle(id)} />
                    <span>{*label}</span>
                </label>
            }) }
            <p class="field-hint">{"The teaching visuals explain parameter counts too: hide them as well for a parameter puzzle."}</p>
        </fieldset>
    }
}

/// The teacher's editor: the goals, a live check on the current model, preview and share.
fn teacher_view(p: &ExerciseProps, node: &NodeRef, goals: &[Goal]) -> Html {
    let ex = &p.exercise;
    let share = {
        let cb = p.on_share.clone();
        Callback::from(move |_: MouseEvent| cb.emit(()))
    };
    let on_title = commit(ex, &p.dispatch, |next, t| {
        next.title.clone_from(&t);
        Ok(t)
    });
    let on_text = {
        let ex = ex.clone();
        let dispatch = p.dispatch.clone();
        Callback::from(move |e: InputEvent| {
            let el: HtmlTextAreaElement = e.target_unchecked_into();
            set_exercise(
                &dispatch,
                Exercise {
                    instructions: el.value(),
                    ..ex.clone()
                },
            );
        })
    };
    let on_target = commit(ex, &p.dispatch, |next, t| {
        let dims = parse_target_shape(&t)?;
        let canon = target_shape_text(dims.as_deref());
        next.target_output_shape = dims;
        Ok(canon)
    });
    let classes_field = |include: bool| {
        commit(ex, &p.dispatch, move |next, t| {
            let list = parse_classes(&t)?;
            let canon = classes_text(&list);
            if include {
                next.must_include = list;
            } else {
                next.must_exclude = list;
            }
            Ok(canon)
        })
    };

    html! {
        <section ref={node.clone()} tabindex="-1" class="exercise panel exercise-teacher" data-testid="exercise-editor" aria-labelledby="exercise-h">
            <div class="panel-head">
                <h2 id="exercise-h"><span class="exercise-tag">{"Teacher"}</span>{" Write an exercise"}</h2>
                <div class="panel-tools">
                    <button type="button" class="btn btn-primary" data-testid="exercise-share" aria-label="Share the exercise link" onclick={share}>{"Share link"}</button>
                    <button type="button" class="btn btn-quiet" data-testid="exercise-remove" aria-label="Remove the exercise"
                        onclick={on_click(&p.dispatch, Action::SetExercise(None))}>{"Remove"}</button>
                </div>
            </div>
            <p class="panel-lead">
                {"The model on the stack is where students start. Set the goals, then share the link: students see the instructions and a live checklist. "}
                <button type="button" class="btn btn-quiet btn-inline" data-testid="exercise-empty" aria-label="Start from an empty model (keeps the input shape; undoable)"
                    onclick={on_click(&p.dispatch, Action::StartEmpty)}>{"Start from an empty model"}</button>
            </p>
            <div class="exercise-form">
                <label class="field">
                    <span class="field-label">{"Title"}</span>
                    <DraftInput value={AttrValue::from(ex.title.clone())} on_commit={on_title} testid="exercise-title"
                        label="Exercise title" error_testid="exercise-error" />
                </label>
                <label class="field field-wide">
                    <span class="field-label">{"Instructions"}</span>
                    <textarea class="input exercise-instructions-input" data-testid="exercise-instructions-input" rows="3"
                        aria-label="Instructions for the students" value={ex.instructions.clone()} oninput={on_text} />
                </label>
                <label class="field">
                    <span class="field-label">{"Target output shape"}</span>
                    <DraftInput value={AttrValue::from(target_shape_text(ex.target_output_shape.as_deref()))} on_commit={on_target}
                        testid="exercise-target" label="Target output shape, e.g. (None, 4); empty for none"
                        placeholder={AttrValue::Static("(None, 4)")} error_testid="exercise-error" />
                </label>
                { budget_field(ex, p.total, &p.dispatch) }
                <label class="field">
                    <span class="field-label">{"Layers that must appear"}</span>
                    <DraftInput value={AttrValue::from(classes_text(&ex.must_include))} on_commit={classes_field(true)}
                        testid="exercise-include" label="Layer classes that must appear, comma separated"
                        placeholder={AttrValue::Static("Dense, Conv2D")} error_testid="exercise-error" />
                </label>
                <label class="field">
                    <span class="field-label">{"Layers that must not appear"}</span>
                    <DraftInput value={AttrValue::from(classes_text(&ex.must_exclude))} on_commit={classes_field(false)}
                        testid="exercise-exclude" label="Layer classes that must not appear, comma separated"
                        placeholder={AttrValue::Static("Flatten")} error_testid="exercise-error" />
                </label>
                { hide_panels_field(ex, &p.dispatch) }
            </div>
            <h3 class="subhead">{"Live check on the current model"}</h3>
            { checklist(goals) }
            <div class="exercise-actions">
                <button type="button" class="btn" data-testid="exercise-preview" aria-label="Preview as a student (leave teacher mode)"
                    onclick={on_click(&p.dispatch, Action::SetTeacher(false))}>{"Preview as student"}</button>
            </div>
        </section>
    }
}

#[function_component(ExercisePanel)]
pub fn exercise_panel(p: &ExerciseProps) -> Html {
    let node = use_node_ref();
    {
        // Opened (an exercise, a link, the Teacher button) or switched between the student
        // and teacher views: into view, with focus, wherever the column was scrolled.
        let node = node.clone();
        use_effect_with((p.teacher, p.exercise.start.clone()), move |_| {
            if let Some(el) = node.cast::<web_sys::Element>() {
                super::reveal_and_focus(&el);
            }
        });
    }
    let goals = use_memo((p.exercise.clone(), p.model.clone()), |(e, m)| check(e, m));
    if p.teacher {
        teacher_view(p, &node, &goals)
    } else {
        student_view(p, &node, &goals)
    }
}
