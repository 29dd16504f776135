//! The pure side of sharing, presets, exercises and import: what goes into the link in the
//! URL fragment, what a fragment opens, the state the page starts with, reading pasted or
//! dropped model text, and the text ⇄ value helpers of the exercise editor. No yew or
//! web-sys types, so all of it is unit-tested natively.

use serde_json::{json, Value};

use super::state::{parse_shape, Action, State};
use crate::codec::exercise::Exercise;
use crate::codec::keras_code::{parse_keras_code, CodeWarning};
use crate::codec::link::{self, Payload};
use crate::codec::presets::{self, Preset};
use crate::codec::read_model_json;
use crate::engine::layers::args::canonical_class;
use crate::engine::{Model, Shape, CATALOGUE};

/// Panels an exercise can hide while it is being solved: `(id, label)`.
pub const PANELS: &[(&str, &str)] = &[
    (
        "params",
        "Parameter counts (cards, totals, summary, settings)",
    ),
    ("visuals", "Teaching visuals"),
    ("summary", "Summary table"),
];

/// The exercise as it travels in a link: without its starting model (the link's model is
/// the start), to keep links short.
fn exercise_value(ex: &Exercise) -> Value {
    Exercise {
        start: None,
        ..ex.clone()
    }
    .to_value()
}

fn view_value(compare: Option<&str>) -> Option<Value> {
    compare.map(|c| json!({ "c": c }))
}

/// What the link of the page carries: the model, the exercise (when there is one) and the
/// compare preset (when B is a preset's partner).
pub fn payload_of(model: &Model, exercise: Option<&Exercise>, compare: Option<&str>) -> Payload {
    Payload {
        model: model.clone(),
        exercise: exercise.map(exercise_value),
        view: view_value(compare),
    }
}

/// [`payload_of`] the page state.
pub fn payload(state: &State) -> Payload {
    payload_of(
        &state.model,
        state.exercise.as_ref(),
        state.compare_preset(),
    )
}

/// The fragment (`#m1.…`) of the page.
pub fn fragment(state: &State) -> String {
    link::encode(&payload(state))
}

/// The fragment that opens a preset (with its compare view when it has a partner).
pub fn preset_fragment(p: &Preset) -> String {
    link::encode(&Payload {
        model: p.model.clone(),
        exercise: None,
        view: view_value(p.compare_with.is_some().then_some(p.id)),
    })
}

/// The fragment that opens an exercise on its starting model.
pub fn exercise_fragment(ex: &Exercise) -> String {
    link::encode(&Payload {
        model: ex.start.clone().unwrap_or_else(Model::seed),
        exercise: Some(exercise_value(ex)),
        view: None,
    })
}

/// Whether a fragment is meant as a share link (`#m…`). Other fragments are left alone.
pub fn is_link(fragment: &str) -> bool {
    let f = fragment.trim();
    let f = f.rsplit_once('#').map_or(f, |(_, r)| r);
    f.strip_prefix('m')
        .and_then(|r| r.split_once('.'))
        .is_some_and(|(v, _)| !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()))
}

/// The action that opens the link in `fragment`: `None` when there is no link, the reason
/// when it cannot be opened (corrupted, truncated, from a newer version, bad exercise).
pub fn open_link(fragment: &str) -> Option<Result<Action, String>> {
    if !is_link(fragment) {
        return None;
    }
    let opened = link::decode(fragment)
        .and_then(|p| {
            let exercise = p.exercise.as_ref().map(Exercise::from_value).transpose()?;
            let compare = p
                .view
                .as_ref()
                .and_then(|v| v.get("c"))
                .and_then(Value::as_str)
                .map(str::to_string);
            Ok(Action::OpenLink {
                model: p.model,
                exercise,
                compare,
            })
        })
        .map_err(|e| {
            let e = e.to_string();
            e.strip_prefix("share link: ").unwrap_or(&e).to_string()
        });
    Some(opened)
}

/// The message shown when the link in the address bar cannot be opened.
pub fn link_error_text(reason: &str, fallback: &str) -> String {
    format!("This share link could not be opened: {reason}. {fallback}")
}

/// The state to start with: the link in the fragment, else the autosaved model, else
/// [`Model::seed`]. A link that cannot be opened falls back and says why.
pub fn initial_state(fragment: &str, saved: Option<Model>) -> State {
    let had_saved = saved.is_some();
    let mut state = State::new(saved.unwrap_or_else(Model::seed));
    match open_link(fragment) {
        None => {}
        Some(Ok(action)) => {
            state.apply(action);
            // Undo goes back to the autosaved work, if there was any.
            if !had_saved {
                state.history.clear();
            }
        }
        Some(Err(reason)) => {
            let fallback = if had_saved {
                "Showing your autosaved model instead."
            } else {
                "Showing the default model instead."
            };
            state.link_error = Some(link_error_text(&reason, fallback));
        }
    }
    state
}

/// Model text pasted or dropped by the user, after the checks that need no importer.
#[derive(Debug, Clone, PartialEq)]
pub enum Pending {
    /// A JSON model, read.
    Ready(Model),
    /// Keras Python, still to be parsed (by [`parse_keras_code`], which the web app runs in
    /// the on-demand tools worker: see [`super::tools_protocol`]).
    Code(String),
}

/// The part of [`import_text`] the web app's main module runs itself: refuse binary files
/// and empty text, read JSON models; Keras code is handed back as [`Pending::Code`].
///
/// # Errors
/// A message for the user.
#[allow(clippy::case_sensitive_file_extension_comparisons)] // `lower` is lowercased first
pub fn prepare_import(name: Option<&str>, text: &str) -> Result<Pending, String> {
    let lower = name.map(str::to_ascii_lowercase).unwrap_or_default();
    if lower.ends_with(".keras") || lower.ends_with(".zip") || text.starts_with("PK\u{3}\u{4}") {
        return Err(
            "A .keras file is a zip archive: unzip it and open the config.json inside.".into(),
        );
    }
    if lower.ends_with(".h5") || lower.ends_with(".hdf5") {
        return Err(
            "HDF5 (.h5) files cannot be read here: in Python, save model.to_json() to a .json file and open that."
                .into(),
        );
    }
    let t = text.trim();
    if t.is_empty() {
        return Err("Nothing to import: paste Keras code or a model JSON first.".into());
    }
    if t.starts_with('{') || t.starts_with('[') || lower.ends_with(".json") {
        return read_model_json(t)
            .map(Pending::Ready)
            .map_err(|e| e.to_string());
    }
    Ok(Pending::Code(text.to_string()))
}

/// Read model text pasted or dropped by the user: our model JSON, Keras 3 / Keras 2 /
/// TF.js JSON, or Keras Python (parsed, never run), with the importer's warnings.
/// `name` is the file name, when the text came from a file.
///
/// # Errors
/// A message for the user.
pub fn import_text(name: Option<&str>, text: &str) -> Result<(Model, Vec<CodeWarning>), String> {
    match prepare_import(name, text)? {
        Pending::Ready(m) => Ok((m, Vec::new())),
        Pending::Code(code) => parse_keras_code(&code)
            .map(|i| (i.model, i.warnings))
            .map_err(|e| e.to_string()),
    }
}

// ---------------------------------------------------------------------------------------
// The tools worker's side of the page (src/bin/flatland-tools.rs): the Keras code importer
// and the Keras / PyTorch exporters live in a second wasm module, loaded when the Code panel
// or a dropped .py file first needs them. The messages are in super::tools_protocol.
// ---------------------------------------------------------------------------------------

/// The worker's loader when `index.html` names none (or names something else).
pub const TOOLS_LOADER: &str = "flatland-tools_loader.js";

/// The tools worker's loader, relative to the page: the content-hashed name that
/// scripts/hash-worker wrote into `<meta name="flatland-tools">`, when it is one of ours
/// (`flatland-tools[-<hex>]_loader.js`: a plain file name, so a tampered page cannot point the
/// worker elsewhere), else [`TOOLS_LOADER`].
pub fn tools_loader(meta: Option<&str>) -> &str {
    match meta {
        Some(m)
            if m.strip_prefix("flatland-tools")
                .and_then(|r| r.strip_suffix("_loader.js"))
                .is_some_and(|h| {
                    h.is_empty()
                        || h.strip_prefix('-').is_some_and(|h| {
                            !h.is_empty() && h.bytes().all(|b| b.is_ascii_hexdigit())
                        })
                }) =>
        {
            m
        }
        _ => TOOLS_LOADER,
    }
}

/// File name for a downloaded model: the model name, made safe.
pub fn file_name(model: &Model, ext: &str) -> String {
    let base: String = model
        .name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let base = if base.is_empty() {
        "model".into()
    } else {
        base
    };
    format!("{base}.{ext}")
}

/// Parse a target output shape: `(None, 4)`, `(4,)`, `None, 3, 16` or empty (no target).
/// Returns the dims without the batch axis.
///
/// # Errors
/// A message for the field.
pub fn parse_target_shape(text: &str) -> Result<Option<Vec<usize>>, String> {
    let t = text.trim();
    let inner = t
        .strip_prefix('(')
        .and_then(|r| r.strip_suffix(')'))
        .unwrap_or(t)
        .trim();
    if inner.is_empty() {
        return Ok(None);
    }
    let rest = inner
        .strip_prefix("None")
        .map_or(inner, |r| r.trim_start().trim_start_matches(',').trim());
    if rest.is_empty() {
        return Err("give at least one dimension after None, e.g. (None, 4)".into());
    }
    parse_shape(rest).map(Some)
}

/// `[4]` → `(None, 4)`; no target → empty.
pub fn target_shape_text(dims: Option<&[usize]>) -> String {
    dims.map(|d| Shape::new(d.to_vec()).to_string())
        .unwrap_or_default()
}

/// Parse Keras class names separated by commas or spaces (`Dense, Conv2D`), checked
/// against the catalogue (case and aliases forgiven; written back canonically).
///
/// # Errors
/// A message naming the unknown class.
pub fn parse_classes(text: &str) -> Result<Vec<String>, String> {
    let mut out: Vec<String> = Vec::new();
    for word in text
        .split(|c: char| c == ',' || c.is_whitespace())
        .filter(|w| !w.is_empty())
    {
        let word = word.trim_start_matches("layers.");
        let canon = canonical_class(word);
        let found = CATALOGUE.iter().find(|k| {
            k.class_name.eq_ignore_ascii_case(word) || k.class_name.eq_ignore_ascii_case(canon)
        });
        match found {
            Some(k) => {
                if !out.iter().any(|c| c == k.class_name) {
                    out.push(k.class_name.to_string());
                }
            }
            None => return Err(format!("`{word}` is not a layer in the palette")),
        }
    }
    Ok(out)
}

/// Class names as the editor shows them.
pub fn classes_text(classes: &[String]) -> String {
    classes.join(", ")
}

/// Parse a parameter budget: empty means none; commas, `_` and spaces are ignored.
///
/// # Errors
/// A message for the field.
pub fn parse_count(text: &str) -> Result<Option<u64>, String> {
    let t: String = text
        .chars()
        .filter(|c| !matches!(c, ',' | '_' | ' '))
        .collect();
    if t.is_empty() {
        return Ok(None);
    }
    t.parse::<u64>()
        .map(Some)
        .map_err(|_| format!("`{}` is not a whole number", text.trim()))
}

/// Presets in gallery order with their totals: `(group, [(preset, total)])`.
pub fn gallery() -> Vec<(&'static str, Vec<(Preset, u64)>)> {
    let mut groups: Vec<(&'static str, Vec<(Preset, u64)>)> = Vec::new();
    for p in presets::presets() {
        let total = crate::engine::analyze(&p.model).total();
        match groups.iter_mut().find(|(g, _)| *g == p.group) {
            Some((_, items)) => items.push((p, total)),
            None => groups.push((p.group, vec![(p, total)])),
        }
    }
    groups
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::exercise::{check, exercises};
    use crate::codec::model_json;
    use crate::engine::analyze;

    #[test]
    fn fragment_round_trips_model_exercise_and_compare() {
        let mut s = State::default().reduce(Action::OpenPreset("seed004".into()));
        let ex = exercises()[1].clone();
        s.apply(Action::SetExercise(Some(ex.clone())));
        let frag = fragment(&s);
        assert!(frag.starts_with("#m1."));
        let Some(Ok(Action::OpenLink {
            model,
            exercise,
            compare,
        })) = open_link(&frag)
        else {
            panic!("link does not open");
        };
        assert_eq!(model, s.model);
        assert_eq!(compare.as_deref(), Some("seed004"));
        let back = exercise.unwrap();
        assert_eq!(back.start, None, "the start model is not sent twice");
        assert_eq!(back.title, ex.title);
        assert_eq!(back.max_params, ex.max_params);
        // A whole URL works as well as the fragment.
        assert!(matches!(
            open_link(&format!("https://x.test/app/{frag}")),
            Some(Ok(_))
        ));
    }

    #[test]
    fn the_seed_link_is_short() {
        let s = State::default();
        let frag = fragment(&s);
        assert!(frag.len() < 200, "{} chars: {frag}", frag.len());
    }

    #[test]
    fn broken_links_are_errors_and_other_fragments_are_ignored() {
        let good = fragment(&State::default());
        let truncated = &good[..good.len() / 2];
        for bad in ["#m1.garbage", truncated, "#m9.x", "#m1.", "#m1.AAAA"] {
            match open_link(bad) {
                Some(Err(reason)) => assert!(!reason.is_empty(), "{bad}"),
                other => panic!("{bad}: {other:?}"),
            }
        }
        assert!(open_link("#m9.x").unwrap().unwrap_err().contains("newer"));
        for none in ["", "#", "#section-2", "#top", "#main", "#m.x"] {
            assert!(open_link(none).is_none(), "{none}");
        }
    }

    #[test]
    fn tools_loader_takes_only_our_hashed_names() {
        assert_eq!(
            tools_loader(Some("flatland-tools-0123456789abcdef_loader.js")),
            "flatland-tools-0123456789abcdef_loader.js"
        );
        assert_eq!(tools_loader(Some("flatland-tools_loader.js")), TOOLS_LOADER);
        for bad in [
            "",
            "https://evil.example/flatland-tools-00_loader.js",
            "flatland-tools-_loader.js",
            "flatland-tools-xyz_loader.js",
            "../flatland-tools-00_loader.js",
            "flatland-tools-00/x_loader.js",
            "flatland-tools-00_loader.js?x",
        ] {
            assert_eq!(tools_loader(Some(bad)), TOOLS_LOADER, "{bad}");
        }
        assert_eq!(tools_loader(None), TOOLS_LOADER);
    }

    #[test]
    fn initial_state_prefers_the_link_then_the_autosave() {
        let mut saved = Model::seed();
        saved.input_shape = vec![5, 2];
        let p = presets::preset("mnist_mlp").unwrap();
        let frag = preset_fragment(&p);

        let s = initial_state(&frag, Some(saved.clone()));
        assert_eq!(s.model, p.model);
        assert!(s.link_error.is_none());
        assert_eq!(
            s.reduce(Action::Undo).model,
            saved,
            "undo returns to the autosave"
        );
        let s = initial_state(&frag, None);
        assert!(!s.can_undo());

        let s = initial_state("", Some(saved.clone()));
        assert_eq!(s.model, saved);
        let s = initial_state("#m1.garbage", Some(saved.clone()));
        assert_eq!(s.model, saved);
        let e = s.link_error.unwrap();
        assert!(
            e.contains("could not be opened") && e.contains("autosaved"),
            "{e}"
        );
        let s = initial_state("#m9.x", None);
        assert_eq!(s.model, Model::seed());
        assert!(s.link_error.unwrap().contains("default model"));
    }

    #[test]
    fn a_link_with_a_damaged_exercise_is_an_error() {
        let frag = link::encode(&Payload {
            model: Model::seed(),
            exercise: Some(json!({"s": {"i": "x"}})),
            view: None,
        });
        assert!(matches!(open_link(&frag), Some(Err(_))));
    }

    #[test]
    fn exercise_links_open_as_the_student_sees_them() {
        for ex in exercises() {
            let s = initial_state(&exercise_fragment(&ex), None);
            let got = s.exercise.clone().unwrap();
            assert_eq!(Some(&s.model), ex.start.as_ref());
            assert_eq!(got.start.as_ref(), ex.start.as_ref(), "start = link model");
            assert!(!s.teacher);
            assert!(!check(&got, &s.model).iter().all(|g| g.met));
        }
    }

    #[test]
    fn preset_links_carry_the_compare_view() {
        for p in presets::presets() {
            let s = initial_state(&preset_fragment(&p), None);
            assert_eq!(s.model, p.model, "{}", p.id);
            assert_eq!(
                s.compare_preset(),
                p.compare_with.as_ref().map(|_| p.id),
                "{}",
                p.id
            );
        }
    }

    #[test]
    fn import_reads_code_and_json_and_explains_the_rest() {
        let src = "from keras.models import Sequential\nfrom keras.layers import Conv2D, Dense, Dropout\nmodel = Sequential()\nmodel.add(Conv2D(32, (2, 1), activation='relu', input_shape=(2, 15, 1)))\nmodel.add(Dense(100, activation='relu'))\nmodel.add(Dropout(0.2))\nmodel.add(Dense(100, activation='relu'))\nmodel.add(Dropout(0.2))\nmodel.add(Dense(2, activation='softmax'))\n";
        let (m, _) = import_text(None, src).unwrap();
        assert_eq!(analyze(&m).total(), 13_698);
        let json = crate::codec::model_json::to_string(&Model::seed());
        let (m, w) = import_text(Some("seed.json"), &json).unwrap();
        assert_eq!(m, Model::seed());
        assert!(w.is_empty());
        // Warnings come with a place.
        let (_, w) = import_text(
            Some("x.py"),
            "model = keras.Sequential([keras.Input((4,)), layers.Dense(2, kernel_regularizer=mystery())])\n",
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert!(w.iter().all(|w| w.line >= 1 && w.column >= 1), "{w:?}");
        for (name, text, want) in [
            (Some("model.keras"), "PK\u{3}\u{4}...", "unzip"),
            (None, "PK\u{3}\u{4}...", "unzip"),
            (Some("w.h5"), "\u{fffd}HDF", "HDF5"),
            (None, "   ", "Nothing to import"),
            (None, "{\"nope\": 1", "JSON"),
            (None, "print('hello')", "no Keras model"),
            (None, "model = Sequential()\nmodel.add(Dense(4)", "input"),
        ] {
            let e = import_text(name, text).unwrap_err();
            assert!(e.contains(want), "{name:?}: {e}");
        }
    }

    #[test]
    fn exercise_editor_text() {
        assert_eq!(parse_target_shape("(None, 4)"), Ok(Some(vec![4])));
        assert_eq!(parse_target_shape("(4,)"), Ok(Some(vec![4])));
        assert_eq!(parse_target_shape("None, 3, 16"), Ok(Some(vec![3, 16])));
        assert_eq!(parse_target_shape(" "), Ok(None));
        assert_eq!(parse_target_shape("()"), Ok(None));
        assert!(parse_target_shape("(None,)").is_err());
        assert!(parse_target_shape("(None, x)").is_err());
        assert_eq!(target_shape_text(Some(&[1, 15, 2])), "(None, 1, 15, 2)");
        assert_eq!(target_shape_text(None), "");
        assert_eq!(
            parse_target_shape(&target_shape_text(Some(&[4]))),
            Ok(Some(vec![4]))
        );

        assert_eq!(
            parse_classes("dense, Conv2D conv2d  MaxPool2D"),
            Ok(vec!["Dense".into(), "Conv2D".into(), "MaxPooling2D".into()])
        );
        assert_eq!(parse_classes(""), Ok(vec![]));
        assert!(parse_classes("Dense, Transformer")
            .unwrap_err()
            .contains("Transformer"));
        assert_eq!(
            classes_text(&["Dense".into(), "Flatten".into()]),
            "Dense, Flatten"
        );

        assert_eq!(parse_count("15,000"), Ok(Some(15_000)));
        assert_eq!(parse_count(""), Ok(None));
        assert!(parse_count("-3").is_err());
        assert!(parse_count("lots").is_err());
    }

    #[test]
    fn gallery_groups_seeds_then_classics() {
        let g = gallery();
        assert_eq!(
            g.iter().map(|(name, _)| *name).collect::<Vec<_>>(),
            ["Seeds", "Classics"]
        );
        let n: usize = g.iter().map(|(_, items)| items.len()).sum();
        assert_eq!(n, presets::presets().len());
        let seed004 = g[0].1.iter().find(|(p, _)| p.id == "seed004").unwrap();
        assert_eq!(seed004.1, 13_698);
    }

    #[test]
    fn file_names_are_safe() {
        let mut m = Model::seed();
        assert_eq!(file_name(&m, "json"), "seed.json");
        m.name = "my model/v2".into();
        assert_eq!(file_name(&m, "py"), "my_model_v2.py");
        m.name = String::new();
        assert_eq!(file_name(&m, "json"), "model.json");
    }

    /// JSON models are read on the page; Keras code waits for the tools worker (its
    /// exchanges are tested in `super::tools_protocol`).
    #[test]
    fn prepare_import_reads_json_and_hands_code_on() {
        assert!(matches!(
            prepare_import(Some("m.json"), &model_json::to_string(&Model::seed())),
            Ok(Pending::Ready(m)) if m == Model::seed()
        ));
        assert!(matches!(
            prepare_import(
                Some("m.py"),
                "model = keras.Sequential([keras.Input((4,)), layers.Dense(2)])\n"
            ),
            Ok(Pending::Code(_))
        ));
    }
}
