//! The pure model of the playground page: [`State`] (the model being built, undo/redo
//! history, selection), the [`Action`]s the UI dispatches, and [`State::apply`], the reducer.
//! No yew or web-sys types here, so the reducer is unit-tested natively; the `Reducible`
//! impl lives in the wasm-only `store` module.
//!
//! Also here: the text ⇄ value helpers the inspector and the input field use (tuple text
//! like `3, 3`, shapes like `(28, 28, 1)`), so their parsing is tested natively too.

use std::rc::Rc;

use serde_json::{Map, Number, Value};

use crate::codec::exercise::Exercise;
use crate::codec::presets;
use crate::engine::layers::activation::Activation;
use crate::engine::teach;
use crate::engine::{Layer, LayerId, LayerSpec, Model};

/// Most undo steps kept; older ones are dropped.
pub const HISTORY_CAP: usize = 200;

/// Consecutive edits with the same key merge into one undo step (typing `128` into a field
/// is one step, not three).
#[derive(Debug, Clone, PartialEq, Eq)]
enum Coalesce {
    Field { id: LayerId, field: String },
    Name(LayerId),
    ModelName,
    Input,
}

/// Everything the page knows besides what is derived from the model.
///
/// Layers are addressed by [`LayerId`]: the state gives every layer that enters it (from a
/// file, a link, a preset, an add or a duplicate) an id never used before in the session,
/// so a selection or an edit follows its layer through moves, and undo/redo bring layers
/// back with the ids they had.
#[derive(Debug, Clone, PartialEq)]
pub struct State {
    /// The model being built.
    pub model: Model,
    /// Earlier models, oldest first (undo pops the last). Shared (`Rc`): every action
    /// copies the state, and a long session's 200 undo steps of a large model must not be
    /// copied with it.
    pub history: Vec<Rc<Model>>,
    /// Undone models, most recently undone last (redo pops the last).
    pub future: Vec<Rc<Model>>,
    /// Selected layer (its settings are in the inspector).
    pub selected: Option<LayerId>,
    /// Why the last action was refused, if it was.
    pub notice: Option<String>,
    /// What the learner typed into inspector fields, with the reason when it was refused
    /// (see [`Action::SetField`]). Forgotten when the model changes from elsewhere (undo,
    /// load, ...) or another layer is selected.
    pub drafts: Vec<FieldDraft>,
    /// The exercise being solved (or written, in teacher mode), if any.
    pub exercise: Option<Exercise>,
    /// Teacher mode: the exercise editor is open and no panel is hidden.
    pub teacher: bool,
    /// The compare view's B; `None` means B is a copy of A.
    pub compare: Option<CompareB>,
    /// Why a share link could not be opened (shown until dismissed).
    pub link_error: Option<String>,
    /// New layers go at the end of the stack, not after the selected card (see
    /// [`State::insert_at`]); selecting a card ends it.
    pub add_at_end: bool,
    /// On a phone: the palette or the selected card's settings open as a bottom sheet.
    pub sheet: Option<Sheet>,
    last_edit: Option<Coalesce>,
    /// The next [`LayerId`] to hand out.
    next_id: u32,
}

/// A bottom sheet of the phone layout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sheet {
    /// The palette ("Add layer"); adding a layer closes it.
    Palette,
    /// The selected card's settings; closed when nothing is selected.
    Settings,
}

/// The compare view's model B (A is [`State::model`]).
#[derive(Debug, Clone, PartialEq)]
pub struct CompareB {
    pub model: Rc<Model>,
    /// How B was made (`preset seed004`, `A with Flatten before dense`).
    pub label: String,
    /// The built-in preset whose partner B is (then the share link names it).
    pub preset: Option<String>,
    /// Counts the times B was opened from outside the compare view (gallery, link): the
    /// view scrolls into sight when it changes. Not a copy of anything.
    pub opened: u32,
}

/// Why the text of a field was not applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FieldError {
    /// The text is not a value of the field's kind (`2.5` for a whole number).
    Parse(String),
    /// The value is of the right kind, but the layer's config refuses it (`units = -3`).
    Config(String),
    /// There is no such field on the layer.
    NoField,
}

impl std::fmt::Display for FieldError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FieldError::Parse(m) | FieldError::Config(m) => f.write_str(m),
            FieldError::NoField => f.write_str("this layer has no such setting"),
        }
    }
}

/// The text last typed into one field of one layer, and why it was refused (if it was).
#[derive(Debug, Clone, PartialEq)]
pub struct FieldDraft {
    pub id: LayerId,
    pub field: String,
    pub text: String,
    pub error: Option<FieldError>,
}

/// Everything the UI can ask for. Callbacks only build these.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Insert a default-configured layer of a catalogue class at `at` (append when `None`).
    Add {
        class: String,
        at: Option<usize>,
    },
    /// Move a layer so that it ends up at index `to` (clamped). The selection stays.
    Move {
        id: LayerId,
        to: usize,
    },
    /// Replace a layer's spec (one undo step).
    Edit {
        id: LayerId,
        spec: LayerSpec,
    },
    /// The learner typed `text` into config field `field` of a layer: parsed for that
    /// field's kind, applied when the layer's config accepts it, otherwise kept as a
    /// [`FieldDraft`] with its [`FieldError`]. Consecutive edits of the same field of the
    /// same layer are one undo step.
    SetField {
        id: LayerId,
        field: String,
        text: String,
    },
    /// Rename a layer (names must be non-empty and unique).
    Rename {
        id: LayerId,
        name: String,
    },
    Delete(LayerId),
    /// Insert a copy (with a fresh name and id) right after the layer, and select it.
    Duplicate(LayerId),
    /// Set the input shape (no batch axis).
    SetInput(Vec<usize>),
    /// Rename the model (Keras's `name=`; the summary's `Model: "…"`).
    RenameModel(String),
    /// New layers go at the end of the stack until a card is selected.
    AddAtEnd,
    /// Replace the model by an empty one with the same input shape (undoable).
    StartEmpty,
    /// Open a bottom sheet (phone layout).
    OpenSheet(Sheet),
    CloseSheet,
    Select(Option<LayerId>),
    Undo,
    Redo,
    /// Back to [`Model::seed`] (undoable). B goes back to a copy of A.
    Reset,
    /// Replace the whole model (undoable). B goes back to a copy of A.
    Load(Model),
    /// Open a built-in preset by id (undoable); a preset with a partner also sets compare B.
    OpenPreset(String),
    /// Start an exercise: its starting model (undoable, when it has one) and its goals.
    /// Leaves teacher mode.
    OpenExercise(Exercise),
    /// Change the exercise (teacher edits) or end it (`None`); the model is untouched.
    SetExercise(Option<Exercise>),
    /// Teacher mode on or off. Turning it on with no exercise starts a blank one.
    SetTeacher(bool),
    /// Back to the exercise's starting model (undoable).
    RestartExercise,
    /// Open a decoded share link: its model (undoable), exercise and compare preset.
    OpenLink {
        model: Model,
        exercise: Option<Exercise>,
        compare: Option<String>,
    },
    /// A share link could not be opened: the model stays, the message says why.
    LinkError(String),
    DismissLinkError,
    /// Compare: B = A with a Flatten right before this (Dense) layer of A.
    CompareFlatten(LayerId),
    /// Compare: B = a copy of A (follows A's edits).
    CompareCopyA,
    /// Compare: open one of the compare view's teaching pairs ([`presets::compare_pairs`], by the
    /// name of its A): A is loaded (undoable), B is its Flatten partner.
    ComparePair(String),
}

impl Action {
    /// Whether the [`FieldDraft`]s survive this action: it leaves every layer's config
    /// and the selection as they were (or is itself a field edit).
    fn keeps_drafts(&self, selected: Option<LayerId>) -> bool {
        match self {
            Action::Move { .. }
            | Action::SetField { .. }
            | Action::Rename { .. }
            | Action::SetInput(_)
            | Action::RenameModel(_)
            | Action::AddAtEnd
            | Action::OpenSheet(_)
            | Action::CloseSheet
            | Action::SetExercise(_)
            | Action::SetTeacher(_)
            | Action::LinkError(_)
            | Action::DismissLinkError
            | Action::CompareFlatten(_)
            | Action::CompareCopyA => true,
            Action::Select(s) => *s == selected,
            _ => false,
        }
    }
}

impl Default for State {
    fn default() -> Self {
        State::new(Model::seed())
    }
}

impl State {
    /// A fresh session on `model`: its layers get ids `0..n`.
    pub fn new(model: Model) -> Self {
        let mut state = State {
            model: Model {
                layers: Vec::new(),
                ..model.clone()
            },
            history: Vec::new(),
            future: Vec::new(),
            selected: None,
            notice: None,
            drafts: Vec::new(),
            exercise: None,
            teacher: false,
            compare: None,
            link_error: None,
            add_at_end: false,
            sheet: None,
            last_edit: None,
            next_id: 0,
        };
        state.model = state.adopt(model);
        state
    }

    /// `model` with a new id for every layer.
    fn adopt(&mut self, mut model: Model) -> Model {
        for layer in &mut model.layers {
            layer.id = self.fresh_id();
        }
        model
    }

    fn fresh_id(&mut self) -> LayerId {
        let id = LayerId(self.next_id);
        self.next_id = self.next_id.wrapping_add(1);
        id
    }

    /// Where the layer with this id is in the model.
    pub fn index_of(&self, id: LayerId) -> Option<usize> {
        self.model.layers.iter().position(|l| l.id == id)
    }

    /// Index of the selected layer.
    pub fn selected_index(&self) -> Option<usize> {
        self.selected.and_then(|id| self.index_of(id))
    }

    /// Where a layer added from the palette goes: right after the selected card, or at the
    /// end (`None`) when nothing is selected or [`Action::AddAtEnd`] was chosen.
    pub fn insert_at(&self) -> Option<usize> {
        if self.add_at_end {
            return None;
        }
        self.selected_index().map(|i| i + 1)
    }

    /// What was typed into `field` of layer `id`, if it is not just the model's value.
    pub fn draft(&self, id: LayerId, field: &str) -> Option<&FieldDraft> {
        self.drafts.iter().find(|d| d.id == id && d.field == field)
    }

    /// The preset named in the share link: B is that preset's partner.
    pub fn compare_preset(&self) -> Option<&str> {
        self.compare.as_ref().and_then(|c| c.preset.as_deref())
    }

    /// Whether a panel (`"params"`, `"visuals"`, `"summary"`) is hidden by the exercise
    /// being solved. Teacher mode shows everything.
    pub fn hides(&self, panel: &str) -> bool {
        !self.teacher
            && self
                .exercise
                .as_ref()
                .is_some_and(|e| e.hide_panels.iter().any(|p| p == panel))
    }

    /// B = the partner of built-in preset `preset` (if it has one), opened from outside the
    /// compare view; `None` makes B a copy of A.
    fn set_compare(&mut self, preset: Option<String>) {
        let opened = self
            .compare
            .as_ref()
            .map_or(0, |c| c.opened)
            .wrapping_add(1);
        self.compare = preset.and_then(|id| {
            let b = presets::preset(&id)?.compare_with?;
            Some(CompareB {
                label: format!("preset {}", b.name),
                model: Rc::new(b),
                preset: Some(id),
                opened,
            })
        });
    }

    pub fn can_undo(&self) -> bool {
        !self.history.is_empty()
    }

    pub fn can_redo(&self) -> bool {
        !self.future.is_empty()
    }

    /// The reducer as a pure function: a new state after `action`.
    #[must_use]
    pub fn reduce(&self, action: Action) -> State {
        let mut next = self.clone();
        next.apply(action);
        next
    }

    /// Record `model` as the new current model. No-op when nothing changes.
    fn commit(&mut self, model: Model, key: Option<Coalesce>) {
        if model == self.model {
            self.last_edit = key;
            return;
        }
        let merge = key.is_some() && key == self.last_edit && !self.history.is_empty();
        if merge {
            self.model = model;
        } else {
            let old = std::mem::replace(&mut self.model, model);
            self.history.push(Rc::new(old));
            if self.history.len() > HISTORY_CAP {
                let excess = self.history.len() - HISTORY_CAP;
                self.history.drain(..excess);
            }
        }
        self.future.clear();
        self.last_edit = key;
    }

    /// Replace the model with one from outside (new ids), undoably, and select nothing.
    fn open(&mut self, model: Model) {
        let model = self.adopt(model);
        self.commit(model, None);
        self.selected = None;
    }

    /// Apply an action in place.
    pub fn apply(&mut self, action: Action) {
        self.notice = None;
        if !action.keeps_drafts(self.selected) {
            self.drafts.clear();
        }
        let key_before = self.last_edit.take();
        match action {
            a @ (Action::Add { .. }
            | Action::Move { .. }
            | Action::Edit { .. }
            | Action::SetField { .. }
            | Action::Rename { .. }
            | Action::Delete(..)
            | Action::Duplicate(..)
            | Action::SetInput(..)
            | Action::RenameModel(..)
            | Action::AddAtEnd
            | Action::Select(..)) => self.apply_layer(a, key_before),
            a @ (Action::Undo
            | Action::Redo
            | Action::Reset
            | Action::Load(..)
            | Action::StartEmpty
            | Action::OpenPreset(..)) => self.apply_history(a),
            a @ (Action::OpenExercise(..)
            | Action::SetExercise(..)
            | Action::SetTeacher(..)
            | Action::RestartExercise
            | Action::OpenLink { .. }
            | Action::LinkError(..)
            | Action::DismissLinkError) => self.apply_classroom(a, key_before),
            a @ (Action::CompareFlatten(..) | Action::CompareCopyA | Action::ComparePair(..)) => {
                self.apply_compare(a, key_before);
            }
            Action::OpenSheet(sheet) => {
                self.sheet = Some(sheet);
                self.last_edit = key_before;
            }
            Action::CloseSheet => {
                self.sheet = None;
                self.last_edit = key_before;
            }
        }
        if self.sheet == Some(Sheet::Settings) && self.selected.is_none() {
            self.sheet = None;
        }
    }

    /// Actions on the layers of model A: add, move, edit, rename, delete, duplicate, input shape, selection.
    fn apply_layer(&mut self, action: Action, key_before: Option<Coalesce>) {
        let len = self.model.layers.len();
        match action {
            Action::Add { class, at } => {
                let Some(spec) = LayerSpec::default_of(&class) else {
                    self.notice = Some(format!("`{class}` is not in the catalogue"));
                    return;
                };
                let at = at.unwrap_or(len).min(len);
                let mut m = self.model.clone();
                let mut layer = Layer::new(m.fresh_name(spec.prefix()), spec);
                layer.id = self.fresh_id();
                let id = layer.id;
                m.layers.insert(at, layer);
                self.commit(m, None);
                self.selected = Some(id);
                if self.sheet == Some(Sheet::Palette) {
                    self.sheet = None;
                }
            }
            Action::Move { id, to } => {
                let Some(from) = self.index_of(id) else {
                    return;
                };
                let to = to.min(len - 1);
                if from == to {
                    return;
                }
                let mut m = self.model.clone();
                let layer = m.layers.remove(from);
                m.layers.insert(to, layer);
                self.commit(m, None);
            }
            Action::Edit { id, spec } => self.edit(id, spec, None),
            Action::SetField { id, field, text } => {
                self.last_edit = key_before;
                self.set_field(id, field, text);
            }
            Action::Rename { id, name } => {
                let Some(index) = self.index_of(id) else {
                    return;
                };
                if let Err(e) = validate_name(&self.model, index, &name) {
                    self.notice = Some(e);
                    return;
                }
                let mut m = self.model.clone();
                m.layers[index].name = name.trim().to_string();
                self.last_edit = key_before;
                self.commit(m, Some(Coalesce::Name(id)));
            }
            Action::Delete(id) => {
                let Some(index) = self.index_of(id) else {
                    return;
                };
                let mut m = self.model.clone();
                m.layers.remove(index);
                self.commit(m, None);
                if self.selected == Some(id) {
                    self.selected = None;
                }
            }
            Action::Duplicate(id) => {
                let Some(index) = self.index_of(id) else {
                    return;
                };
                let mut m = self.model.clone();
                let mut copy = m.layers[index].clone();
                copy.name = m.fresh_name(copy.spec.prefix());
                copy.id = self.fresh_id();
                let copy_id = copy.id;
                m.layers.insert(index + 1, copy);
                self.commit(m, None);
                self.selected = Some(copy_id);
            }
            Action::SetInput(dims) => {
                if let Err(e) = validate_shape(&dims) {
                    self.notice = Some(e);
                    return;
                }
                let mut m = self.model.clone();
                m.input_shape = dims;
                self.last_edit = key_before;
                self.commit(m, Some(Coalesce::Input));
            }
            Action::RenameModel(name) => {
                if let Err(e) = validate_model_name(&name) {
                    self.notice = Some(e);
                    return;
                }
                let mut m = self.model.clone();
                m.name = name.trim().to_string();
                self.last_edit = key_before;
                self.commit(m, Some(Coalesce::ModelName));
            }
            Action::AddAtEnd => {
                self.add_at_end = true;
                self.last_edit = key_before;
            }
            Action::Select(sel) => {
                self.selected = sel.filter(|&id| self.index_of(id).is_some());
                if self.selected.is_some() {
                    self.add_at_end = false;
                }
                // Selecting does not break an edit run on the same field.
                self.last_edit = key_before;
            }
            _ => {}
        }
    }

    /// Undo and redo, and actions that replace the whole model.
    fn apply_history(&mut self, action: Action) {
        match action {
            Action::Undo => {
                if let Some(prev) = self.history.pop() {
                    let cur = std::mem::replace(&mut self.model, Rc::unwrap_or_clone(prev));
                    self.future.push(Rc::new(cur));
                    self.forget_missing_selection();
                }
            }
            Action::Redo => {
                if let Some(next) = self.future.pop() {
                    let cur = std::mem::replace(&mut self.model, Rc::unwrap_or_clone(next));
                    self.history.push(Rc::new(cur));
                    self.forget_missing_selection();
                }
            }
            Action::Reset => {
                self.open(Model::seed());
                self.compare = None;
            }
            Action::Load(model) => {
                self.open(model);
                self.compare = None;
            }
            Action::StartEmpty => {
                let empty = Model {
                    name: "model".into(),
                    input_shape: self.model.input_shape.clone(),
                    layers: Vec::new(),
                };
                self.open(empty);
                self.compare = None;
            }
            Action::OpenPreset(id) => {
                let Some(p) = presets::preset(&id) else {
                    self.notice = Some(format!("there is no preset `{id}`"));
                    return;
                };
                self.open(p.model);
                self.set_compare(p.compare_with.is_some().then_some(id));
            }
            _ => {}
        }
    }

    /// Exercises, teacher mode and share links.
    fn apply_classroom(&mut self, action: Action, key_before: Option<Coalesce>) {
        match action {
            Action::OpenExercise(mut ex) => {
                if let Some(start) = &ex.start {
                    self.open(start.clone());
                    self.compare = None;
                } else {
                    ex.start = Some(self.model.clone());
                }
                self.exercise = Some(ex);
                self.teacher = false;
            }
            Action::SetExercise(ex) => {
                self.exercise = ex;
                if self.exercise.is_none() {
                    self.teacher = false;
                }
                self.last_edit = key_before;
            }
            Action::SetTeacher(on) => {
                if on && self.exercise.is_none() {
                    self.exercise = Some(Exercise {
                        title: "Exercise".into(),
                        start: Some(self.model.clone()),
                        ..Exercise::default()
                    });
                }
                if !on && self.teacher {
                    // The model on the stack is where students start.
                    let start = self.model.clone();
                    if let Some(ex) = &mut self.exercise {
                        ex.start = Some(start);
                    }
                }
                self.teacher = on;
                // Teacher mode tried and left without writing anything: no exercise.
                if !on && self.exercise.as_ref().is_some_and(is_blank) {
                    self.exercise = None;
                }
                self.last_edit = key_before;
            }
            Action::RestartExercise => {
                if let Some(start) = self.exercise.as_ref().and_then(|e| e.start.clone()) {
                    self.open(start);
                }
            }
            Action::OpenLink {
                model,
                exercise,
                compare,
            } => {
                self.open(model);
                self.exercise = exercise.map(|mut ex| {
                    ex.start.get_or_insert_with(|| self.model.clone());
                    ex
                });
                if self.exercise.is_none() {
                    self.teacher = false;
                }
                let compare = compare
                    .filter(|c| presets::preset(c).is_some_and(|p| p.compare_with.is_some()));
                match compare {
                    // Already showing that pair: leave compare B as it is.
                    Some(c) if self.compare_preset() == Some(c.as_str()) => {}
                    other => self.set_compare(other),
                }
                self.link_error = None;
            }
            Action::LinkError(message) => {
                self.link_error = Some(message);
                self.last_edit = key_before;
            }
            Action::DismissLinkError => {
                self.link_error = None;
                self.last_edit = key_before;
            }
            _ => {}
        }
    }

    /// The compare view's model B.
    fn apply_compare(&mut self, action: Action, key_before: Option<Coalesce>) {
        match action {
            Action::CompareFlatten(id) => {
                self.last_edit = key_before;
                let Some(index) = self.index_of(id) else {
                    return;
                };
                let name = self.model.layers[index].name.clone();
                let opened = self.compare.as_ref().map_or(0, |c| c.opened);
                self.compare = Some(CompareB {
                    model: Rc::new(teach::with_flatten_before(&self.model, index)),
                    label: format!("A with Flatten before {name}"),
                    preset: None,
                    opened,
                });
            }
            Action::CompareCopyA => {
                self.last_edit = key_before;
                self.compare = None;
            }
            Action::ComparePair(name) => {
                let Some((pair, b)) = presets::compare_pairs()
                    .into_iter()
                    .find(|p| p.id == name)
                    .and_then(|p| p.compare_with.clone().map(|b| (p, b)))
                else {
                    self.notice = Some(format!("there is no compare pair `{name}`"));
                    return;
                };
                let opened = self.compare.as_ref().map_or(0, |c| c.opened);
                let label = format!("{} with Flatten", pair.short_label());
                self.open(pair.model);
                self.compare = Some(CompareB {
                    model: Rc::new(b),
                    label,
                    preset: None,
                    opened,
                });
            }
            _ => {}
        }
    }

    /// After undo/redo: a selected layer that is not in the model any more is unselected.
    fn forget_missing_selection(&mut self) {
        if self.selected_index().is_none() {
            self.selected = None;
        }
    }

    fn edit(&mut self, id: LayerId, spec: LayerSpec, key: Option<Coalesce>) {
        let Some(index) = self.index_of(id) else {
            return;
        };
        if let LayerSpec::Unknown(u) = &spec {
            if !u.reason.is_empty() {
                self.notice = Some(u.reason.clone());
                self.last_edit = None;
                return;
            }
        }
        if self.model.layers[index].spec == spec {
            return;
        }
        let mut m = self.model.clone();
        m.layers[index].spec = spec;
        self.commit(m, key);
    }

    /// [`Action::SetField`]: parse, rebuild the spec, apply it or keep the refusal.
    fn set_field(&mut self, id: LayerId, field: String, text: String) {
        let Some(index) = self.index_of(id) else {
            return;
        };
        let spec = &self.model.layers[index].spec;
        let built = match spec.to_config().get(&field) {
            None => Err(FieldError::NoField),
            Some(current) => {
                let kind = field_kind(spec.class_name(), &field, current);
                parse_field(&kind, &text)
                    .map_err(FieldError::Parse)
                    .and_then(|v| with_field(spec, &field, v).map_err(FieldError::Config))
            }
        };
        let error = built.as_ref().err().cloned();
        self.drafts.retain(|d| !(d.id == id && d.field == field));
        self.drafts.push(FieldDraft {
            id,
            field: field.clone(),
            text,
            error,
        });
        if let Ok(new) = built {
            self.edit(id, new, Some(Coalesce::Field { id, field }));
        }
    }
}

/// An exercise with nothing set (what teacher mode starts with).
fn is_blank(ex: &Exercise) -> bool {
    Exercise {
        start: None,
        title: String::new(),
        ..ex.clone()
    } == Exercise::default()
        && (ex.title.is_empty() || ex.title == "Exercise")
}

/// The final index of a layer dragged from `from` and dropped in gap `slot` (0 = before the
/// first layer, `len` = after the last), or `None` when it would not move.
pub fn drop_target(from: usize, slot: usize) -> Option<usize> {
    let to = if slot > from { slot - 1 } else { slot };
    (to != from).then_some(to)
}

/// A layer name must be non-empty and not used by another layer.
///
/// # Errors
/// A message for the field.
pub fn validate_name(model: &Model, index: usize, name: &str) -> Result<(), String> {
    let name = name.trim();
    if name.is_empty() {
        return Err("a layer needs a name".into());
    }
    if name.chars().any(|c| c == '/' || c.is_control()) {
        return Err("names cannot contain `/`".into());
    }
    if model
        .layers
        .iter()
        .enumerate()
        .any(|(i, l)| i != index && l.name == name)
    {
        return Err(format!(
            "`{name}` is already used: layer names must be unique"
        ));
    }
    Ok(())
}

/// Longest model name accepted (it travels in every link).
const MAX_MODEL_NAME: usize = 60;

/// Whether `name` can be the model's name: not empty, no `/` or control characters, at
/// most [`MAX_MODEL_NAME`] characters.
///
/// # Errors
/// Why the name is refused, with an example of a good one.
pub fn validate_model_name(name: &str) -> Result<(), String> {
    let name = name.trim();
    if name.is_empty() {
        return Err("the model needs a name, e.g. mnist_cnn".into());
    }
    if name.chars().any(|c| c == '/' || c.is_control()) {
        return Err("names cannot contain `/`".into());
    }
    let n = name.chars().count();
    if n > MAX_MODEL_NAME {
        return Err(format!(
            "the name is {n} characters long: at most {MAX_MODEL_NAME}, e.g. mnist_cnn"
        ));
    }
    Ok(())
}

fn validate_shape(dims: &[usize]) -> Result<(), String> {
    if dims.is_empty() {
        return Err("the input needs at least one dimension".into());
    }
    if dims.contains(&0) {
        return Err("every dimension must be at least 1".into());
    }
    Ok(())
}

pub use crate::engine::shape::tuple_text as format_shape;

/// Parse an input shape typed by the learner: `(3, 2)`, `3, 2`, `[28, 28, 1]`, `(784,)`,
/// `28 28 1`. No batch axis.
///
/// # Errors
/// A message for the field.
pub fn parse_shape(text: &str) -> Result<Vec<usize>, String> {
    let t = text.trim();
    let inner = t
        .strip_prefix('(')
        .and_then(|r| r.strip_suffix(')'))
        .or_else(|| t.strip_prefix('[').and_then(|r| r.strip_suffix(']')))
        .unwrap_or(t);
    if inner.contains(['(', ')', '[', ']']) {
        return Err("write the shape as a flat tuple, e.g. (28, 28, 1)".into());
    }
    let dims: Vec<usize> = inner
        .split(|c: char| c == ',' || c.is_whitespace())
        .filter(|s| !s.is_empty())
        .map(|s| match s {
            "None" | "none" => Err(
                "leave out the batch axis: Flatland needs every input dimension to be a number"
                    .to_string(),
            ),
            _ => s.parse::<usize>().map_err(|_| dim_error(s)),
        })
        .collect::<Result<_, _>>()?;
    validate_shape(&dims)?;
    Ok(dims)
}

/// Why `s` is not a dimension, in the learner's terms, with an example of a valid shape.
fn dim_error(s: &str) -> String {
    format!("`{s}` is not a size: write whole numbers of at least 1, e.g. (3, 2)")
}

/// A refusal of `key`'s value by the layer's config reader, in the learner's terms: serde's
/// "invalid value: integer `-2`, expected usize" becomes "units cannot be negative (-3); for
/// example 16", with the field's current value as the example of a valid one.
fn field_message(spec: &LayerSpec, key: &str, reason: String) -> String {
    let Some(n) = reason
        .strip_prefix("invalid value: integer `")
        .and_then(|r| r.split('`').next())
    else {
        return reason;
    };
    let what = if n.starts_with('-') {
        "cannot be negative"
    } else {
        "is too large"
    };
    let n = n
        .parse::<u64>()
        .map_or_else(|_| n.to_string(), crate::engine::teach::thousands);
    format!("{key} {what} ({n}); for example {}", field_text(spec, key))
}

/// How the inspector edits one Keras config field.
#[derive(Debug, Clone, PartialEq)]
pub enum FieldKind {
    Bool,
    /// Whole number (may be negative, e.g. `axis = -1`).
    Int,
    Float,
    /// One of a fixed set of strings.
    Choice(Vec<&'static str>),
    /// Int or tuple of ints (possibly nested), written as `3, 3` or `(1, 1), (2, 2)`.
    Tuple,
    /// May be `None`: empty text means `None`, otherwise a number or a tuple.
    Optional,
    Text,
}

const PADDINGS: &[&str] = &["valid", "same", "causal"];
const INTERPOLATIONS: &[&str] = &["nearest", "bilinear"];

/// The field's control, decided from the catalogue default (so it does not change while the
/// learner edits, e.g. when an optional value goes from `None` to a number).
pub fn field_kind(class: &str, key: &str, current: &Value) -> FieldKind {
    let default = LayerSpec::default_of(class)
        .map(|s| s.to_config())
        .and_then(|c| c.get(key).cloned());
    let basis = default.as_ref().unwrap_or(current);
    match (key, basis) {
        (_, Value::Bool(_)) => FieldKind::Bool,
        ("padding", Value::String(_)) => FieldKind::Choice(PADDINGS.to_vec()),
        ("interpolation", Value::String(_)) => FieldKind::Choice(INTERPOLATIONS.to_vec()),
        ("activation" | "recurrent_activation", Value::String(_)) => {
            FieldKind::Choice(Activation::ALL.iter().map(|a| a.name()).collect())
        }
        (_, Value::String(_)) => FieldKind::Text,
        (_, Value::Number(n)) if n.is_f64() => FieldKind::Float,
        (_, Value::Number(_)) => FieldKind::Int,
        (_, Value::Array(_)) => FieldKind::Tuple,
        _ => FieldKind::Optional,
    }
}

/// The editable fields of a spec: `(key, kind, value)` in a sensible order.
pub fn fields(spec: &LayerSpec) -> Vec<(String, FieldKind, Value)> {
    let Value::Object(cfg) = spec.to_config() else {
        return Vec::new();
    };
    let class = spec.class_name().to_string();
    let mut out: Vec<(String, FieldKind, Value)> = cfg
        .into_iter()
        .map(|(k, v)| (field_kind(&class, &k, &v), k, v))
        .map(|(kind, k, v)| (k, kind, v))
        .collect();
    let order = spec.rules().field_order();
    let rank = |k: &str| order.iter().position(|o| *o == k).unwrap_or(order.len());
    crate::engine::small_sort::sort_by(&mut out, |a, b| (rank(&a.0), &a.0) < (rank(&b.0), &b.0));
    out
}

/// A number as the learner wants to read it: f32 config values print short (`0.001`, not
/// `0.0010000000474974513`).
fn number_text(n: &Number) -> String {
    if let Some(i) = n.as_i64() {
        i.to_string()
    } else if let Some(u) = n.as_u64() {
        u.to_string()
    } else {
        let f = n.as_f64().unwrap_or(0.0);
        if f.abs() < f64::from(f32::MAX) {
            (f as f32).to_string()
        } else {
            f.to_string()
        }
    }
}

fn tuple_text(v: &Value, top: bool) -> String {
    match v {
        Value::Array(items) => {
            let inner = items
                .iter()
                .map(|x| tuple_text(x, false))
                .collect::<Vec<_>>()
                .join(", ");
            if top {
                inner
            } else {
                format!("({inner})")
            }
        }
        Value::Number(n) => number_text(n),
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Bool(b) => b.to_string(),
        Value::Object(_) => v.to_string(),
    }
}

/// The text shown in a field for a config value: `3, 3`, `(1, 1), (2, 2)`, `0.5`, empty for
/// `None`.
pub fn value_text(v: &Value) -> String {
    tuple_text(v, true)
}

fn parse_number(s: &str) -> Result<Value, String> {
    let s = s.trim();
    if let Ok(i) = s.parse::<i64>() {
        return Ok(Value::from(i));
    }
    match s.parse::<f64>() {
        Ok(f) if f.is_finite() => Ok(Value::from(f)),
        _ => Err(format!("`{s}` is not a number")),
    }
}

/// Parse a comma-separated sequence of numbers and parenthesised groups.
fn parse_items(
    chars: &[char],
    pos: &mut usize,
    closing: Option<char>,
) -> Result<Vec<Value>, String> {
    let mut items = Vec::new();
    let mut token = String::new();
    let mut expect_item = true;
    let flush = |token: &mut String, items: &mut Vec<Value>| -> Result<(), String> {
        if !token.trim().is_empty() {
            items.push(parse_number(token)?);
        }
        token.clear();
        Ok(())
    };
    while *pos < chars.len() {
        let c = chars[*pos];
        *pos += 1;
        match c {
            '(' | '[' => {
                if !token.trim().is_empty() || !expect_item {
                    return Err("missing a comma before `(`".into());
                }
                let close = if c == '(' { ')' } else { ']' };
                let group = parse_items(chars, pos, Some(close))?;
                items.push(Value::Array(group));
                expect_item = false;
            }
            ')' | ']' => {
                flush(&mut token, &mut items)?;
                return match closing {
                    Some(want) if want == c => Ok(items),
                    _ => Err(format!("unexpected `{c}`")),
                };
            }
            ',' => {
                if token.trim().is_empty() && expect_item {
                    return Err("an empty value between commas".into());
                }
                flush(&mut token, &mut items)?;
                expect_item = true;
            }
            _ => {
                if !expect_item && !c.is_whitespace() {
                    return Err("missing a comma after `)`".into());
                }
                token.push(c);
            }
        }
    }
    if let Some(want) = closing {
        return Err(format!("missing `{want}`"));
    }
    flush(&mut token, &mut items)?;
    Ok(items)
}

/// Parse tuple text: `3` → `[3]`, `3, 3` → `[3, 3]`, `(3, 3)` → `[3, 3]`,
/// `(1, 1), (2, 2)` or `((1, 1), (2, 2))` → `[[1, 1], [2, 2]]`.
///
/// # Errors
/// A message for the field.
pub fn parse_tuple(text: &str) -> Result<Value, String> {
    let chars: Vec<char> = text.chars().collect();
    let mut pos = 0;
    let mut items = parse_items(&chars, &mut pos, None)?;
    if items.is_empty() {
        return Err("enter at least one number, e.g. 3 or 3, 3".into());
    }
    if let [Value::Array(_)] = items.as_slice() {
        if let Some(Value::Array(inner)) = items.pop() {
            items = inner;
        }
    }
    if items.is_empty() {
        return Err("enter at least one number, e.g. 3 or 3, 3".into());
    }
    Ok(Value::Array(items))
}

/// Parse the text of a field of the given kind into a config value.
///
/// # Errors
/// A message for the field.
pub fn parse_field(kind: &FieldKind, text: &str) -> Result<Value, String> {
    let t = text.trim();
    match kind {
        FieldKind::Bool => match t {
            "true" | "True" => Ok(Value::Bool(true)),
            "false" | "False" => Ok(Value::Bool(false)),
            _ => Err("expected true or false".into()),
        },
        FieldKind::Int => {
            if t.is_empty() {
                return Err("enter a whole number".into());
            }
            t.parse::<i64>()
                .map(Value::from)
                .map_err(|_| format!("`{t}` is not a whole number"))
        }
        FieldKind::Float => {
            if t.is_empty() {
                return Err("enter a number".into());
            }
            parse_number(t)
        }
        FieldKind::Choice(options) => {
            if options.contains(&t) {
                Ok(Value::String(t.to_string()))
            } else {
                Err(format!("expected one of {}", options.join(", ")))
            }
        }
        FieldKind::Tuple => parse_tuple(t),
        FieldKind::Optional => {
            if t.is_empty() || t == "None" {
                Ok(Value::Null)
            } else if t.contains([',', '(', '[']) {
                parse_tuple(t)
            } else {
                parse_number(t)
            }
        }
        FieldKind::Text => Ok(Value::String(t.to_string())),
    }
}

/// Rebuild `spec` with config field `key` set to `value`, through
/// [`LayerSpec::from_config`]. Engine-level problems (a kernel larger than the input) are not
/// errors here: they show on the card, as Keras would raise them when building.
///
/// # Errors
/// The reason the config does not parse (shown at the field; the edit is not applied).
pub fn with_field(spec: &LayerSpec, key: &str, value: Value) -> Result<LayerSpec, String> {
    let mut cfg = match spec.to_config() {
        Value::Object(m) => m,
        _ => Map::new(),
    };
    cfg.insert(key.to_string(), value);
    let class = spec.class_name().to_string();
    match LayerSpec::from_config(&class, &Value::Object(cfg)) {
        LayerSpec::Unknown(u) if !u.reason.is_empty() => {
            let prefix = format!("invalid {class} config: ");
            let reason = u.reason.strip_prefix(&prefix).unwrap_or(&u.reason);
            Err(field_message(spec, key, reason.to_string()))
        }
        other => Ok(other),
    }
}

/// Text shown in a field after a successful edit of `key` (so the field can tell its own
/// edits from outside changes such as undo).
pub fn field_text(spec: &LayerSpec, key: &str) -> String {
    spec.to_config()
        .get(key)
        .map(value_text)
        .unwrap_or_default()
}

/// Whether a catalogue class matches the search text (case-insensitive, ignoring spaces,
/// `_` and `-`, so "max pool" finds `MaxPooling2D`).
pub fn palette_matches(class: &str, query: &str) -> bool {
    let norm = |s: &str| {
        s.chars()
            // ASCII letters and digits, and any other character as it is (class names are
            // ASCII: ASCII-only case folding keeps Unicode's case tables out of the page).
            .filter(|c| !c.is_ascii() || c.is_ascii_alphanumeric())
            .collect::<String>()
            .to_ascii_lowercase()
    };
    let q = norm(query);
    q.is_empty() || norm(class).contains(&q)
}

/// Split a class name where a narrow screen may wrap it: `Conv1DTranspose` →
/// `Conv1D`, `Transpose`.
pub fn word_parts(class: &str) -> Vec<&str> {
    let chars: Vec<(usize, char)> = class.char_indices().collect();
    let mut parts = Vec::new();
    let mut start = 0;
    for w in chars.windows(2) {
        let ((i, c), (_, next)) = (w[0], w[1]);
        // A capitalised word starts here, and the part before it is not tiny.
        if c.is_ascii_uppercase() && next.is_ascii_lowercase() && i >= start + 3 {
            parts.push(&class[start..i]);
            start = i;
        }
    }
    parts.push(&class[start..]);
    parts
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::analyze;
    use serde_json::json;

    fn shapes(s: &State) -> Vec<String> {
        analyze(&s.model)
            .layers
            .iter()
            .map(|l| {
                l.output
                    .as_ref()
                    .map(ToString::to_string)
                    .unwrap_or_default()
            })
            .collect()
    }

    fn names(s: &State) -> Vec<&str> {
        s.model.layers.iter().map(|l| l.name.as_str()).collect()
    }

    #[test]
    fn insert_point_follows_the_selection_until_add_at_end() {
        let s = State::default();
        assert_eq!(s.insert_at(), None, "nothing selected: at the end");
        let second = s.model.layers[1].id;
        let s = s.reduce(Action::Select(Some(second)));
        assert_eq!(s.insert_at(), Some(2));
        let s = s.reduce(Action::AddAtEnd);
        assert_eq!(s.insert_at(), None);
        assert_eq!(s.selected, Some(second), "the selection stays");
        let n = s.model.layers.len();
        let s = s.reduce(Action::Add {
            class: "Dropout".into(),
            at: s.insert_at(),
        });
        assert_eq!(s.model.layers[n].spec.class_name(), "Dropout");
        assert_eq!(s.insert_at(), None, "still at the end after adding there");
        let s = s.reduce(Action::Select(Some(second)));
        assert_eq!(
            s.insert_at(),
            Some(2),
            "selecting a card moves the point back"
        );
    }

    #[test]
    fn sheets_close_when_their_job_is_done() {
        let s = State::default().reduce(Action::OpenSheet(Sheet::Palette));
        assert_eq!(s.sheet, Some(Sheet::Palette));
        let s = s.reduce(Action::Add {
            class: "Dense".into(),
            at: None,
        });
        assert_eq!(s.sheet, None, "adding closes the palette sheet");
        let s = s.reduce(Action::OpenSheet(Sheet::Settings));
        assert_eq!(s.sheet, Some(Sheet::Settings), "the new layer is selected");
        let last = s.model.layers.last().unwrap().id;
        assert_eq!(s.reduce(Action::CloseSheet).sheet, None);
        assert_eq!(
            s.reduce(Action::Delete(last)).sheet,
            None,
            "nothing left to set"
        );
        assert_eq!(
            State::default()
                .reduce(Action::OpenSheet(Sheet::Settings))
                .sheet,
            None,
            "no selection, no settings sheet"
        );
    }

    #[test]
    fn rename_model_is_checked_and_undoable() {
        let s = State::default().reduce(Action::RenameModel("  mnist_cnn ".into()));
        assert_eq!(s.model.name, "mnist_cnn");
        assert_eq!(s.reduce(Action::Undo).model.name, "seed");
        for bad in ["", "   ", "a/b", &"x".repeat(61)] {
            let r = s.reduce(Action::RenameModel(bad.to_string()));
            assert_eq!(r.model.name, "mnist_cnn", "{bad:?} refused");
            assert!(r.notice.is_some());
        }
        // Typing a name is one undo step.
        let t = State::default()
            .reduce(Action::RenameModel("m".into()))
            .reduce(Action::RenameModel("mn".into()));
        assert_eq!(t.reduce(Action::Undo).model.name, "seed");
    }

    #[test]
    fn start_empty_keeps_the_input_shape_and_is_undoable() {
        let s = State::default()
            .reduce(Action::SetInput(vec![28, 28, 1]))
            .reduce(Action::StartEmpty);
        assert!(s.model.layers.is_empty());
        assert_eq!(s.model.input_shape, vec![28, 28, 1]);
        assert_eq!(s.model.name, "model");
        assert_eq!(s.reduce(Action::Undo).model.layers.len(), 4);
    }

    fn dense(units: usize) -> LayerSpec {
        with_field(
            &LayerSpec::default_of("Dense").unwrap(),
            "units",
            json!(units),
        )
        .unwrap()
    }

    /// Id of the layer at `i`.
    fn id(s: &State, i: usize) -> LayerId {
        s.model.layers[i].id
    }

    fn ids(s: &State) -> Vec<LayerId> {
        s.model.layers.iter().map(|l| l.id).collect()
    }

    fn set_field(s: &State, i: usize, field: &str, text: &str) -> State {
        s.reduce(Action::SetField {
            id: id(s, i),
            field: field.into(),
            text: text.into(),
        })
    }

    #[test]
    fn ids_are_fresh_and_never_reused() {
        let s = State::default();
        assert_eq!(ids(&s), [LayerId(0), LayerId(1), LayerId(2), LayerId(3)]);
        let s = s
            .reduce(Action::Delete(LayerId(3)))
            .reduce(Action::Add {
                class: "Dense".into(),
                at: None,
            })
            .reduce(Action::Duplicate(LayerId(0)));
        assert_eq!(
            ids(&s),
            [LayerId(0), LayerId(5), LayerId(1), LayerId(2), LayerId(4)]
        );
        // A loaded model's layers get new ids, even when it is the same model again.
        let l = s.reduce(Action::Reset);
        assert_eq!(ids(&l), [LayerId(6), LayerId(7), LayerId(8), LayerId(9)]);
        // Undo brings the layers back with their ids.
        assert_eq!(ids(&l.reduce(Action::Undo)), ids(&s));
        // Equal models whatever the ids.
        assert_eq!(l.model, Model::seed());
    }

    #[test]
    fn add_appends_with_keras_names_and_selects() {
        let s = State::default().reduce(Action::Add {
            class: "Dense".into(),
            at: None,
        });
        assert_eq!(
            names(&s),
            ["dense", "activation", "flatten", "dense_1", "dense_2"]
        );
        assert_eq!(s.selected, Some(id(&s, 4)));
        assert_eq!(s.selected_index(), Some(4));
        assert!(s.can_undo());
        let s = s.reduce(Action::Add {
            class: "Conv2D".into(),
            at: Some(1),
        });
        assert_eq!(names(&s)[1], "conv2d");
        assert_eq!(s.selected, Some(id(&s, 1)));
        let s2 = s.reduce(Action::Add {
            class: "Nope".into(),
            at: None,
        });
        assert_eq!(s2.model, s.model);
        assert!(s2.notice.is_some());
    }

    #[test]
    fn move_reorders_and_selection_stays_on_the_layer() {
        let s0 = State::default();
        let dense = id(&s0, 0);
        let s = s0.reduce(Action::Select(Some(dense)));
        let s = s.reduce(Action::Move { id: dense, to: 2 });
        assert_eq!(names(&s), ["activation", "flatten", "dense", "dense_1"]);
        assert_eq!(s.selected, Some(dense));
        assert_eq!(s.selected_index(), Some(2));
        let last = id(&s, 3);
        let s = s.reduce(Action::Select(Some(last))).reduce(Action::Move {
            id: id(&s, 0),
            to: 3,
        });
        assert_eq!(names(&s), ["flatten", "dense", "dense_1", "activation"]);
        assert_eq!(s.selected, Some(last));
        assert_eq!(s.selected_index(), Some(2));
        // Past the end clamps; unknown ids and no-op moves do nothing.
        let end = s.reduce(Action::Move {
            id: id(&s, 0),
            to: 99,
        });
        assert_eq!(names(&end)[3], "flatten");
        let same = s.reduce(Action::Move {
            id: LayerId(99),
            to: 0,
        });
        assert_eq!(same.model, s.model);
        assert_eq!(same.history.len(), s.history.len());
        let still = s.reduce(Action::Move {
            id: id(&s, 1),
            to: 1,
        });
        assert_eq!(still.history.len(), s.history.len());
        // Undo puts the layer back; it is still selected.
        let u = s.reduce(Action::Undo);
        assert_eq!(u.selected, Some(last));
        assert_eq!(u.selected_index(), Some(3));
    }

    #[test]
    fn drop_target_table() {
        // (from, slot) -> to
        assert_eq!(drop_target(1, 0), Some(0));
        assert_eq!(drop_target(1, 1), None);
        assert_eq!(drop_target(1, 2), None);
        assert_eq!(drop_target(1, 3), Some(2));
        assert_eq!(drop_target(0, 4), Some(3));
    }

    #[test]
    fn set_field_updates_shapes_below() {
        let s = set_field(&State::default(), 0, "units", "32");
        assert_eq!(
            shapes(&s),
            ["(None, 3, 32)", "(None, 3, 32)", "(None, 96)", "(None, 4)"]
        );
        assert_eq!(analyze(&s.model).total(), 3 * 32 + 97 * 4);
        let d = s.draft(id(&s, 0), "units").cloned();
        assert_eq!(d.map(|d| (d.text, d.error)), Some(("32".into(), None)));
        // Tuple and choice fields parse by their kind.
        let c = State::default().reduce(Action::Add {
            class: "Conv2D".into(),
            at: None,
        });
        let c = set_field(&c, 4, "kernel_size", "(5, 5)");
        let c = set_field(&c, 4, "padding", "same");
        let cfg = c.model.layers[4].spec.to_config();
        assert_eq!(cfg["kernel_size"], json!([5, 5]));
        assert_eq!(cfg["padding"], json!("same"));
        assert_eq!(
            c.draft(id(&c, 4), "kernel_size").map(|d| d.text.as_str()),
            Some("(5, 5)"),
            "the field keeps the text as typed"
        );
        let b = set_field(&State::default(), 0, "use_bias", "false");
        assert_eq!(b.model.layers[0].spec.to_config()["use_bias"], json!(false));
    }

    /// Refusals read as the learner's terms, with an example of a valid value: no serde or
    /// Rust type names, numbers with thousands separators.
    #[test]
    fn refusals_are_in_the_learners_terms() {
        let s = State::default();
        let dense = id(&s, 0);
        let msg = |text: &str| {
            set_field(&s, 0, "units", text)
                .draft(dense, "units")
                .and_then(|d| d.error.clone())
                .map(|e| e.to_string())
                .unwrap_or_default()
        };
        let neg = msg("-3");
        assert!(
            neg.starts_with("units cannot be negative (-3)") && neg.ends_with("for example 16"),
            "{neg}"
        );
        let huge = msg("100000000000000000000");
        assert!(!huge.contains("usize") && !huge.contains("i64"), "{huge}");
        for bad in ["(3, -2)", "(3, 2.5)", "(3, 99999999999999999999999)"] {
            let e = parse_shape(bad).unwrap_err();
            assert!(
                !e.contains("usize") && e.contains("e.g. (3, 2)"),
                "{bad}: {e}"
            );
        }
        assert!(parse_shape("(3, -2)").unwrap_err().contains("at least 1"));
        let big = field_message(
            &s.model.layers[0].spec,
            "units",
            "invalid value: integer `1000000000000`, expected usize".into(),
        );
        assert_eq!(
            big,
            "units is too large (1,000,000,000,000); for example 16"
        );
    }

    #[test]
    fn set_field_refusals_are_typed_and_kept_at_the_field() {
        let s = State::default();
        let dense = id(&s, 0);
        let bad = set_field(&s, 0, "units", "2.5");
        assert_eq!(bad.model, s.model);
        assert!(!bad.can_undo());
        let d = bad.draft(dense, "units").cloned().unwrap();
        assert_eq!(d.text, "2.5");
        assert_eq!(
            d.error,
            Some(FieldError::Parse("`2.5` is not a whole number".into()))
        );
        // Parses as a whole number, but Dense refuses it.
        let neg = set_field(&bad, 0, "units", "-3");
        assert_eq!(neg.model, s.model);
        let e = neg.draft(dense, "units").and_then(|d| d.error.clone());
        assert!(
            matches!(&e, Some(FieldError::Config(m)) if !m.starts_with("invalid Dense")),
            "{e:?}"
        );
        assert_eq!(neg.drafts.len(), 1, "one draft per field");
        let none = set_field(&s, 0, "nope", "1");
        assert_eq!(
            none.draft(dense, "nope").and_then(|d| d.error.clone()),
            Some(FieldError::NoField)
        );
        // A good value replaces the refusal; moving the layer keeps the draft; undo,
        // selecting another layer or a reset forget it.
        let ok = set_field(&neg, 0, "units", "8");
        assert_eq!(ok.draft(dense, "units").and_then(|d| d.error.clone()), None);
        let moved = neg.reduce(Action::Move { id: dense, to: 3 });
        assert!(moved.draft(dense, "units").is_some());
        assert!(ok.reduce(Action::Undo).drafts.is_empty());
        assert!(neg
            .reduce(Action::Select(Some(id(&s, 3))))
            .drafts
            .is_empty());
        assert!(neg.reduce(Action::Reset).drafts.is_empty());
        // Unknown layers are ignored.
        let gone = s.reduce(Action::SetField {
            id: LayerId(77),
            field: "units".into(),
            text: "3".into(),
        });
        assert_eq!(gone, s);
    }

    #[test]
    fn same_field_edits_coalesce_into_one_undo_step() {
        let s = State::default();
        let s = set_field(&s, 0, "units", "3");
        let s = set_field(&s, 0, "units", "32");
        assert_eq!(s.history.len(), 1);
        // A refused keystroke in between does not break the run.
        let s = set_field(&s, 0, "units", "32x");
        let s = set_field(&s, 0, "units", "33");
        assert_eq!(s.history.len(), 1);
        let other = set_field(&s, 3, "units", "8");
        assert_eq!(other.history.len(), 2);
        // The run follows the layer, not its index.
        let moved = s.reduce(Action::Move {
            id: id(&s, 0),
            to: 2,
        });
        let back = set_field(&moved, 2, "units", "34");
        assert_eq!(back.history.len(), 3);
        let undone = s.reduce(Action::Undo);
        assert_eq!(undone.model, Model::seed());
        // A plain Edit never merges.
        let e = State::default()
            .reduce(Action::Edit {
                id: LayerId(0),
                spec: dense(3),
            })
            .reduce(Action::Edit {
                id: LayerId(0),
                spec: dense(4),
            });
        assert_eq!(e.history.len(), 2);
    }

    #[test]
    fn invalid_edit_is_rejected() {
        let bad = LayerSpec::from_config("Dense", &json!({"units": "many"}));
        assert!(matches!(bad, LayerSpec::Unknown(_)));
        let s = State::default().reduce(Action::Edit {
            id: LayerId(0),
            spec: bad,
        });
        assert_eq!(s.model, Model::seed());
        assert!(!s.can_undo());
        assert!(s
            .notice
            .as_deref()
            .unwrap_or("")
            .contains("invalid Dense config"));
        // with_field reports the same problem for the field, without the prefix.
        let e = with_field(&dense(16), "units", json!(-3)).unwrap_err();
        assert!(!e.starts_with("invalid Dense config"), "{e}");
        // Engine-level invalidity is applied (the card shows the error, like Keras).
        let s = State::default().reduce(Action::Add {
            class: "Conv1D".into(),
            at: Some(0),
        });
        let s = set_field(&s, 0, "kernel_size", "9");
        assert_eq!(
            s.draft(id(&s, 0), "kernel_size")
                .and_then(|d| d.error.clone()),
            None
        );
        let a = analyze(&s.model);
        assert!(a.layers[0].error().is_some());
        assert!(a.layers[1..]
            .iter()
            .all(|l| l.status == crate::engine::Status::NotComputed));
    }

    #[test]
    fn delete_and_duplicate() {
        let s0 = State::default();
        let last = id(&s0, 3);
        let s = s0
            .reduce(Action::Select(Some(last)))
            .reduce(Action::Delete(id(&s0, 1)));
        assert_eq!(names(&s), ["dense", "flatten", "dense_1"]);
        assert_eq!(s.selected, Some(last));
        let s = s.reduce(Action::Delete(last));
        assert_eq!(s.selected, None);
        let first = id(&s, 0);
        let s = s.reduce(Action::Duplicate(first));
        assert_eq!(names(&s), ["dense", "dense_1", "flatten"]);
        assert_eq!(s.model.layers[1].spec, s.model.layers[0].spec);
        assert_ne!(id(&s, 1), first);
        assert_eq!(s.selected, Some(id(&s, 1)));
        let n = s.reduce(Action::Delete(LayerId(77)));
        assert_eq!(n.model, s.model);
        assert_eq!(n.history.len(), s.history.len());
        let n = s.reduce(Action::Duplicate(LayerId(77)));
        assert_eq!(n.history.len(), s.history.len());
    }

    #[test]
    fn undo_redo_round_trip() {
        let s0 = State::default();
        let s1 = s0.reduce(Action::Delete(id(&s0, 0)));
        let s2 = s1.reduce(Action::Add {
            class: "Dropout".into(),
            at: None,
        });
        let u1 = s2.reduce(Action::Undo);
        assert_eq!(u1.model, s1.model);
        let u0 = u1.reduce(Action::Undo);
        assert_eq!(u0.model, s0.model);
        assert_eq!(
            ids(&u0),
            ids(&s0),
            "undo brings the deleted layer back with its id"
        );
        assert!(!u0.can_undo());
        assert_eq!(u0.reduce(Action::Undo).model, s0.model);
        let r = u0.reduce(Action::Redo).reduce(Action::Redo);
        assert_eq!(r.model, s2.model);
        assert_eq!(ids(&r), ids(&s2));
        assert!(!r.can_redo());
        // A new edit after undo drops the redo branch.
        let b = u1.reduce(Action::Duplicate(id(&u1, 0)));
        assert!(!b.can_redo());
        // Undoing the add of the selected layer unselects it; a layer still there stays
        // selected through undo and redo.
        assert_eq!(s2.selected, Some(id(&s2, 3)));
        assert_eq!(s2.reduce(Action::Undo).selected, None);
        let kept = s2.reduce(Action::Select(Some(id(&s2, 1))));
        let kept = kept.reduce(Action::Undo).reduce(Action::Undo);
        assert_eq!(kept.selected, Some(id(&s2, 1)));
        assert_eq!(kept.selected_index(), Some(2));
        assert_eq!(kept.reduce(Action::Redo).selected_index(), Some(1));
    }

    #[test]
    fn reset_and_load_are_undoable() {
        let s = State::default()
            .reduce(Action::Delete(LayerId(0)))
            .reduce(Action::Delete(LayerId(1)))
            .reduce(Action::Reset);
        assert_eq!(s.model, Model::seed());
        assert_eq!(s.reduce(Action::Undo).model.layers.len(), 2);
        let m = Model {
            name: "m".into(),
            input_shape: vec![4],
            layers: vec![],
        };
        let l = s.reduce(Action::Load(m.clone()));
        assert_eq!(l.model, m);
        assert_eq!(l.reduce(Action::Undo).model, Model::seed());
    }

    #[test]
    fn history_is_capped() {
        let mut s = State::default();
        for i in 0..(HISTORY_CAP + 50) {
            s.apply(Action::Edit {
                id: LayerId(0),
                spec: dense(i % 7 + 1 + (i / 7) * 7),
            });
        }
        assert_eq!(s.history.len(), HISTORY_CAP);
        let mut undos = 0;
        while s.can_undo() {
            s.apply(Action::Undo);
            undos += 1;
        }
        assert_eq!(undos, HISTORY_CAP);
        assert_ne!(s.model, Model::seed());
    }

    #[test]
    fn rename_validates() {
        let s = State::default().reduce(Action::Rename {
            id: LayerId(0),
            name: "hidden".into(),
        });
        assert_eq!(names(&s)[0], "hidden");
        let d = s.reduce(Action::Rename {
            id: LayerId(0),
            name: "flatten".into(),
        });
        assert_eq!(d.model, s.model);
        assert!(d.notice.is_some());
        assert!(validate_name(&s.model, 0, "  ").is_err());
        assert!(validate_name(&s.model, 0, "hidden").is_ok());
        let two = s.reduce(Action::Rename {
            id: LayerId(0),
            name: "hidden2".into(),
        });
        assert_eq!(two.history.len(), 1, "typing a name is one undo step");
    }

    #[test]
    fn set_input_and_shape_text() {
        let s = State::default().reduce(Action::SetInput(vec![5, 2]));
        assert_eq!(shapes(&s)[2], "(None, 80)");
        let bad = s.reduce(Action::SetInput(vec![0, 2]));
        assert_eq!(bad.model, s.model);
        for (text, want) in [
            ("(3, 2)", vec![3, 2]),
            ("28, 28, 1", vec![28, 28, 1]),
            ("[784]", vec![784]),
            ("(784,)", vec![784]),
            (" 4 5 ", vec![4, 5]),
        ] {
            assert_eq!(parse_shape(text), Ok(want), "{text}");
        }
        for text in ["", "()", "(3, x)", "(None, 3)", "(0, 2)", "((3, 2))", "-1"] {
            assert!(parse_shape(text).is_err(), "{text}");
        }
        assert_eq!(format_shape(&[3, 2]), "(3, 2)");
        assert_eq!(format_shape(&[784]), "(784,)");
        assert_eq!(parse_shape(&format_shape(&[784])), Ok(vec![784]));
    }

    #[test]
    fn tuple_text_round_trips() {
        let table = [
            ("3", json!([3])),
            ("3, 3", json!([3, 3])),
            ("(3, 3)", json!([3, 3])),
            ("[2,2]", json!([2, 2])),
            ("(1, 2), (3, 4)", json!([[1, 2], [3, 4]])),
            ("((1, 2), (3, 4))", json!([[1, 2], [3, 4]])),
            ("-1", json!([-1])),
            ("2, -1", json!([2, -1])),
        ];
        for (text, want) in table {
            assert_eq!(parse_tuple(text), Ok(want.clone()), "{text}");
            assert_eq!(parse_tuple(&value_text(&want)), Ok(want), "{text}");
        }
        for bad in ["", "3,,3", "(3, 3", "3)", "a", "(1)(2)", "3 (4)"] {
            assert!(parse_tuple(bad).is_err(), "{bad}");
        }
        assert_eq!(value_text(&json!([[1, 1], [1, 1]])), "(1, 1), (1, 1)");
        assert_eq!(value_text(&json!(0.0010000000474974513)), "0.001");
        assert_eq!(value_text(&json!(null)), "");
    }

    #[test]
    fn field_kinds_cover_the_catalogue() {
        for k in crate::engine::CATALOGUE {
            let spec = LayerSpec::default_of(k.class_name).unwrap();
            for (key, kind, value) in fields(&spec) {
                // Every default value survives text → value → spec.
                let text = match &kind {
                    FieldKind::Bool => value.to_string(),
                    _ => value_text(&value),
                };
                let parsed = parse_field(&kind, &text)
                    .unwrap_or_else(|e| panic!("{} {key}: {e}", k.class_name));
                let rebuilt = with_field(&spec, &key, parsed)
                    .unwrap_or_else(|e| panic!("{} {key}: {e}", k.class_name));
                assert_eq!(rebuilt, spec, "{} {key}", k.class_name);
            }
        }
        let conv = LayerSpec::default_of("Conv2D").unwrap();
        let kinds: Vec<(String, FieldKind)> = fields(&conv)
            .into_iter()
            .map(|(k, kind, _)| (k, kind))
            .collect();
        assert_eq!(kinds[0], ("filters".into(), FieldKind::Int));
        assert_eq!(kinds[1], ("kernel_size".into(), FieldKind::Tuple));
        assert!(matches!(&kinds[3].1, FieldKind::Choice(o) if o == &["valid", "same", "causal"]));
        let pool = LayerSpec::default_of("MaxPooling2D").unwrap();
        assert_eq!(
            field_kind("MaxPooling2D", "strides", &json!([2, 2])),
            FieldKind::Optional
        );
        assert_eq!(parse_field(&FieldKind::Optional, ""), Ok(Value::Null));
        assert_eq!(parse_field(&FieldKind::Optional, "1, 1"), Ok(json!([1, 1])));
        assert_eq!(parse_field(&FieldKind::Optional, "42"), Ok(json!(42)));
        let strided = with_field(&pool, "strides", json!([1, 1])).unwrap();
        assert_eq!(field_text(&strided, "strides"), "1, 1");
        assert!(parse_field(&FieldKind::Int, "2.5").is_err());
        assert!(parse_field(&FieldKind::Int, "").is_err());
        assert_eq!(parse_field(&FieldKind::Float, "0.25"), Ok(json!(0.25)));
    }

    #[test]
    fn class_names_wrap_between_words() {
        assert_eq!(word_parts("Conv1DTranspose"), ["Conv1D", "Transpose"]);
        assert_eq!(
            word_parts("GlobalAveragePooling2D"),
            ["Global", "Average", "Pooling2D"]
        );
        assert_eq!(word_parts("PReLU"), ["PReLU"]);
        assert_eq!(word_parts("LeakyReLU"), ["Leaky", "ReLU"]);
        assert_eq!(word_parts("Dense"), ["Dense"]);
    }

    #[test]
    fn open_preset_loads_undoably_and_sets_compare_b() {
        let s = State::default().reduce(Action::OpenPreset("seed004".into()));
        assert_eq!(s.model.name, "seed004");
        assert_eq!(analyze(&s.model).total(), 13_698);
        let c = s.compare.clone().unwrap();
        assert_eq!(c.preset.as_deref(), Some("seed004"));
        assert_eq!(s.compare_preset(), Some("seed004"));
        assert_eq!(analyze(&c.model).total(), 58_498);
        assert_eq!(c.label, "preset seed004_flatten");
        assert_eq!(s.reduce(Action::Undo).model, Model::seed());
        // Opening the same preset again re-opens B (the view scrolls to it again).
        let again = s.reduce(Action::OpenPreset("seed004".into()));
        assert!(again.compare.as_ref().unwrap().opened > c.opened);
        // No partner: no compare. Unknown ids are refused.
        let plain = s.reduce(Action::OpenPreset("mnist_mlp".into()));
        assert_eq!(plain.compare, None);
        let bad = s.reduce(Action::OpenPreset("nope".into()));
        assert_eq!(bad.model, s.model);
        assert!(bad.notice.is_some());
        // Other loads forget the preset pair.
        assert_eq!(s.reduce(Action::Reset).compare, None);
        assert_eq!(s.reduce(Action::Load(Model::seed())).compare, None);
        // Edits keep it (A changes, B stays the partner).
        assert!(s.reduce(Action::Delete(id(&s, 1))).compare.is_some());
    }

    #[test]
    fn compare_b_actions() {
        let s = State::default();
        assert_eq!(s.compare, None, "B starts as a copy of A");
        let dense_1 = id(&s, 3);
        let f = s.reduce(Action::CompareFlatten(dense_1));
        let b = f.compare.clone().unwrap();
        assert_eq!(b.label, "A with Flatten before dense_1");
        assert_eq!(b.preset, None);
        assert_eq!(b.model.layers.len(), 5);
        assert_eq!(
            analyze(&b.model).total(),
            244,
            "dense_1 is already after a Flatten"
        );
        let f0 = s.reduce(Action::CompareFlatten(id(&s, 0)));
        assert_eq!(analyze(&f0.compare.unwrap().model).total(), 180);
        // Not a model edit: nothing to undo; edits of A keep B.
        assert!(!f.can_undo());
        let edited = set_field(&f, 0, "units", "8");
        assert_eq!(edited.compare, f.compare);
        assert_eq!(f.reduce(Action::CompareFlatten(LayerId(42))), f);
        // B = A.
        assert_eq!(f.reduce(Action::CompareCopyA).compare, None);
        // A teaching pair: A is loaded (undoably), B is its partner.
        let p = f.reduce(Action::ComparePair("seed004".into()));
        assert_eq!(analyze(&p.model).total(), 13_698);
        let b = p.compare.clone().unwrap();
        assert_eq!(analyze(&b.model).total(), 58_498);
        assert_eq!(
            p.compare_preset(),
            None,
            "the compare view's pairs are not in links"
        );
        assert_eq!(p.reduce(Action::Undo).model, Model::seed());
        let p0 = p.reduce(Action::ComparePair("seed000".into()));
        assert_eq!(analyze(&p0.model).total(), 3_601);
        assert_eq!(analyze(&p0.compare.unwrap().model).total(), 9_301);
        let bad = p.reduce(Action::ComparePair("nope".into()));
        assert_eq!(bad.model, p.model);
        assert!(bad.notice.is_some());
    }

    #[test]
    fn reset_and_load_clear_b() {
        for s in [
            State::default().reduce(Action::OpenPreset("seed004".into())),
            State::default().reduce(Action::ComparePair("seed000".into())),
            State::default().reduce(Action::CompareFlatten(LayerId(0))),
        ] {
            assert!(s.compare.is_some());
            assert_eq!(s.reduce(Action::Reset).compare, None);
            assert_eq!(s.reduce(Action::Load(Model::seed())).compare, None);
        }
    }

    #[test]
    fn exercises_open_restart_and_end() {
        let ex = crate::codec::exercise::exercises()[0].clone();
        let s = State::default()
            .reduce(Action::SetTeacher(true))
            .reduce(Action::OpenExercise(ex.clone()));
        assert!(!s.teacher, "opening an exercise leaves teacher mode");
        assert_eq!(Some(&s.model), ex.start.as_ref());
        assert_eq!(s.exercise.as_ref(), Some(&ex));
        assert_eq!(s.reduce(Action::Undo).model, Model::seed());
        // Solve it: Flatten before the last Dense.
        let solved = s.reduce(Action::Add {
            class: "Flatten".into(),
            at: Some(2),
        });
        assert!(crate::codec::exercise::solved(&ex, &solved.model));
        let restarted = solved.reduce(Action::RestartExercise);
        assert_eq!(Some(&restarted.model), ex.start.as_ref());
        assert!(restarted.can_undo(), "restarting is undoable");
        let ended = solved.reduce(Action::SetExercise(None));
        assert_eq!(ended.exercise, None);
        assert_eq!(ended.model, solved.model);
        // Without a start model, the current model becomes the start.
        let bare = crate::codec::exercise::Exercise {
            start: None,
            ..ex.clone()
        };
        let s = State::default().reduce(Action::OpenExercise(bare));
        assert_eq!(s.model, Model::seed());
        assert_eq!(s.exercise.unwrap().start, Some(Model::seed()));
    }

    #[test]
    fn teacher_mode_and_hidden_panels() {
        let s = State::default().reduce(Action::SetTeacher(true));
        assert!(s.teacher);
        let ex = s.exercise.clone().unwrap();
        assert_eq!(ex.start, Some(Model::seed()));
        assert!(!s.can_undo(), "teacher mode is not a model edit");
        let hiding = crate::codec::exercise::Exercise {
            hide_panels: vec!["params".into(), "summary".into()],
            ..ex
        };
        let s = s.reduce(Action::SetExercise(Some(hiding)));
        assert!(!s.hides("params"), "the teacher sees everything");
        let student = s
            .reduce(Action::Delete(LayerId(0)))
            .reduce(Action::SetTeacher(false));
        assert_eq!(
            student.exercise.as_ref().and_then(|e| e.start.as_ref()),
            Some(&student.model),
            "leaving teacher mode makes the stack the start"
        );
        assert!(student.hides("params") && student.hides("summary"));
        assert!(!student.hides("visuals"));
        assert!(
            student.exercise.is_some(),
            "leaving teacher mode keeps the exercise"
        );
        let ended = student.reduce(Action::SetExercise(None));
        assert!(!ended.hides("params"));
        let t = s.reduce(Action::SetExercise(None));
        assert!(!t.teacher, "no exercise, no teacher mode");
        // Trying teacher mode without writing anything leaves no exercise behind.
        let tried = State::default()
            .reduce(Action::SetTeacher(true))
            .reduce(Action::SetTeacher(false));
        assert_eq!(tried.exercise, None);
    }

    #[test]
    fn open_link_replaces_model_exercise_and_compare() {
        let ex = crate::codec::exercise::exercises()[1].clone();
        let link_model = ex.start.clone().unwrap();
        let s = State::default()
            .reduce(Action::Select(Some(LayerId(1))))
            .reduce(Action::LinkError("old".into()))
            .reduce(Action::OpenLink {
                model: link_model.clone(),
                exercise: Some(crate::codec::exercise::Exercise {
                    start: None,
                    ..ex.clone()
                }),
                compare: Some("seed004".into()),
            });
        assert_eq!(s.model, link_model);
        assert_eq!(s.selected, None);
        assert_eq!(s.link_error, None);
        assert_eq!(s.exercise.as_ref().unwrap().start, Some(link_model.clone()));
        let opened = s.compare.as_ref().unwrap().opened;
        assert_eq!(s.reduce(Action::Undo).model, Model::seed());
        // The same link again (hashchange + popstate): nothing new to undo, B untouched.
        let again = s.reduce(Action::OpenLink {
            model: link_model.clone(),
            exercise: None,
            compare: Some("seed004".into()),
        });
        assert_eq!(again.history.len(), s.history.len());
        assert_eq!(again.compare.as_ref().unwrap().opened, opened);
        assert_eq!(again.exercise, None, "a link without an exercise ends it");
        // Unknown or partnerless compare presets are ignored.
        let odd = s.reduce(Action::OpenLink {
            model: Model::seed(),
            exercise: None,
            compare: Some("mnist_mlp".into()),
        });
        assert_eq!(odd.compare, None);
    }

    #[test]
    fn link_errors_keep_the_model_and_can_be_dismissed() {
        let s = State::default()
            .reduce(Action::Delete(LayerId(0)))
            .reduce(Action::LinkError("corrupted".into()));
        assert_eq!(s.link_error.as_deref(), Some("corrupted"));
        assert_eq!(s.model.layers.len(), 3);
        assert_eq!(s.history.len(), 1);
        let s = s.reduce(Action::DismissLinkError);
        assert_eq!(s.link_error, None);
        assert_eq!(s.model.layers.len(), 3);
    }

    #[test]
    fn search_is_forgiving() {
        assert!(palette_matches("MaxPooling2D", "max pool"));
        assert!(palette_matches("Conv2DTranspose", "conv2d"));
        assert!(!palette_matches("Dense", "conv"));
        assert!(palette_matches("Dense", ""));
    }
}
