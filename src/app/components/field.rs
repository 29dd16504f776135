//! Form controls for the inspector and the input shape.
//!
//! [`DraftInput`] is a text or number input that keeps what the learner typed even when it
//! is not (yet) valid: every keystroke goes to `on_commit`, which either applies it and
//! returns the canonical text of the applied value, or returns the message shown at the
//! field (nothing is applied). When the model changes from elsewhere (undo, drag, reset) the
//! field shows the new value.
//!
//! [`ConfigField`] renders one Keras config field with the control its JSON type calls for.
//! It parses nothing: it dispatches the text, and shows the state's draft and refusal.

use std::cell::RefCell;
use std::rc::Rc;

use serde_json::Value;
use wasm_bindgen::JsCast;
use web_sys::{HtmlInputElement, HtmlSelectElement};
use yew::prelude::*;

use crate::app::state::{value_text, Action, FieldDraft, FieldKind};
use crate::engine::LayerId;

#[derive(Properties, PartialEq)]
pub struct DraftInputProps {
    /// Canonical text of the current model value.
    pub value: AttrValue,
    /// Apply the text: `Ok(canonical text)` when applied, `Err(message)` when refused.
    pub on_commit: Callback<String, Result<String, String>>,
    /// `data-testid` of the input.
    pub testid: AttrValue,
    /// Accessible name.
    pub label: AttrValue,
    #[prop_or(AttrValue::Static("text"))]
    pub input_type: AttrValue,
    #[prop_or_default]
    pub step: Option<AttrValue>,
    #[prop_or_default]
    pub inputmode: Option<AttrValue>,
    #[prop_or_default]
    pub placeholder: Option<AttrValue>,
    #[prop_or_default]
    pub class: Classes,
    /// `data-testid` of the error message.
    #[prop_or(AttrValue::Static("field-error"))]
    pub error_testid: AttrValue,
}

/// An input whose invalid text stays visible with its error, and is not applied.
#[function_component(DraftInput)]
pub fn draft_input(props: &DraftInputProps) -> Html {
    let shown = use_state(|| props.value.to_string());
    let error = use_state(|| None::<String>);
    // Canonical text of our own last applied edit: a prop change equal to it is an echo.
    let applied: Rc<RefCell<Option<String>>> = use_mut_ref(|| None);
    let node = use_node_ref();

    {
        let shown = shown.clone();
        let error = error.clone();
        let applied = applied.clone();
        use_effect_with(props.value.clone(), move |v| {
            let echo = applied.borrow().as_deref() == Some(v.as_str());
            if !echo {
                shown.set(v.to_string());
                error.set(None);
                *applied.borrow_mut() = None;
            }
        });
    }

    let on_text = {
        let shown = shown.clone();
        let error = error.clone();
        let applied = applied.clone();
        let commit = props.on_commit.clone();
        move |e: Event| {
            let Some(input) = e
                .target()
                .and_then(|t| t.dyn_into::<HtmlInputElement>().ok())
            else {
                return;
            };
            let raw = input.value();
            match commit.emit(raw.clone()) {
                Ok(canon) => {
                    *applied.borrow_mut() = Some(canon);
                    error.set(None);
                }
                Err(msg) => error.set(Some(msg)),
            }
            shown.set(raw);
        }
    };
    let oninput = {
        let f = on_text.clone();
        Callback::from(move |e: InputEvent| f(e.into()))
    };
    let onchange = Callback::from(on_text);

    let invalid = error.is_some();
    html! {
        <span class={classes!("draft", props.class.clone())}>
            <input
                ref={node}
                type={props.input_type.clone()}
                class={classes!("input", invalid.then_some("invalid"))}
                data-testid={props.testid.clone()}
                aria-label={props.label.clone()}
                aria-invalid={invalid.to_string()}
                step={props.step.clone()}
                inputmode={props.inputmode.clone()}
                placeholder={props.placeholder.clone()}
                spellcheck="false"
                autocomplete="off"
                value={(*shown).clone()}
                {oninput}
                {onchange}
            />
            if let Some(msg) = &*error {
                <span class="field-error" data-testid={props.error_testid.clone()} role="alert">{msg.clone()}</span>
            }
        </span>
    }
}

#[derive(Properties, PartialEq)]
pub struct ConfigFieldProps {
    pub id: LayerId,
    pub key_name: AttrValue,
    pub kind: FieldKind,
    /// The model's value of the field.
    pub value: Value,
    /// What was last typed here (shown instead of the value) and why it was refused.
    #[prop_or_default]
    pub draft: Option<FieldDraft>,
    pub dispatch: Callback<Action>,
}

/// One Keras config field: checkbox, select, number or tuple text, by JSON type. Every
/// change dispatches the text ([`Action::SetField`]); the reducer parses and validates it
/// and keeps the refusal, shown here.
#[function_component(ConfigField)]
pub fn config_field(props: &ConfigFieldProps) -> Html {
    let key = props.key_name.clone();
    let testid = AttrValue::from(format!("field-{key}"));
    let error = props
        .draft
        .as_ref()
        .and_then(|d| d.error.as_ref())
        .map(ToString::to_string);

    let send = {
        let id = props.id;
        let field = key.to_string();
        let dispatch = props.dispatch.clone();
        move |text: String| {
            dispatch.emit(Action::SetField {
                id,
                field: field.clone(),
                text,
            });
        }
    };

    let label = html! { <span class="field-label"><code>{key.clone()}</code></span> };
    let hint = match &props.kind {
        FieldKind::Tuple => Some("int or tuple, e.g. 3, 3"),
        FieldKind::Optional => Some("empty = None"),
        _ => None,
    };
    let (control, row_error) = match &props.kind {
        FieldKind::Bool => {
            let checked = props.value.as_bool().unwrap_or(false);
            let onchange = Callback::from(move |e: Event| {
                let on = e
                    .target()
                    .and_then(|t| t.dyn_into::<HtmlInputElement>().ok())
                    .is_some_and(|i| i.checked());
                send(on.to_string());
            });
            let control = html! {
                <label class="field field-bool">
                    <input type="checkbox" class="check" data-testid={testid} {checked} {onchange}
                        aria-label={key.clone()} />
                    {label}
                </label>
            };
            (control, error)
        }
        FieldKind::Choice(options) => {
            let current = props.value.as_str().unwrap_or("").to_string();
            let onchange = Callback::from(move |e: Event| {
                if let Some(sel) = e
                    .target()
                    .and_then(|t| t.dyn_into::<HtmlSelectElement>().ok())
                {
                    send(sel.value());
                }
            });
            let control = html! {
                <label class="field">
                    {label}
                    <select class="input select" data-testid={testid} aria-label={key.clone()} {onchange}>
                        { for options.iter().map(|o| html! {
                            <option value={*o} selected={*o == current}>{*o}</option>
                        }) }
                    </select>
                </label>
            };
            (control, error)
        }
        kind => {
            let (input_type, step, inputmode) = match kind {
                FieldKind::Int => ("number", Some("1"), Some("numeric")),
                FieldKind::Float => ("number", Some("any"), Some("decimal")),
                _ => ("text", None, None),
            };
            let placeholder = matches!(kind, FieldKind::Optional).then_some("None");
            let shown = props
                .draft
                .as_ref()
                .map_or_else(|| value_text(&props.value), |d| d.text.clone());
            let on_text = move |e: Event| {
                if let Some(input) = e
                    .target()
                    .and_then(|t| t.dyn_into::<HtmlInputElement>().ok())
                {
                    send(input.value());
                }
            };
            let oninput = {
                let f = on_text.clone();
                Callback::from(move |e: InputEvent| f(e.into()))
            };
            let onchange = Callback::from(on_text);
            let invalid = error.is_some();
            let control = html! {
                <label class="field">
                    {label}
                    <span class="draft">
                        <input
                            type={input_type}
                            class={classes!("input", invalid.then_some("invalid"))}
                            data-testid={testid}
                            aria-label={key.clone()}
                            aria-invalid={invalid.to_string()}
                            {step}
                            {inputmode}
                            {placeholder}
                            spellcheck="false"
                            autocomplete="off"
                            value={shown}
                            {oninput}
                            {onchange}
                        />
                        if let Some(msg) = &error {
                            <span class="field-error" data-testid="field-error" role="alert">{msg.clone()}</span>
                        }
                    </span>
                    if let Some(h) = hint { <span class="field-hint">{h}</span> }
                </label>
            };
            (control, None)
        }
    };
    html! {
        <div class="field-row">
            {control}
            if let Some(msg) = row_error {
                <span class="field-error" data-testid="field-error" role="alert">{msg}</span>
            }
        </div>
    }
}
