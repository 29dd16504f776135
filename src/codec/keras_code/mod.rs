//! Keras Python code import: **parse, never execute**.
//!
//! A small tokenizer and recursive-descent parser for the subset of Python people paste when
//! they share a Keras model (`Sequential()` + `model.add(...)`, the list form, the functional
//! `keras.Input` → `layer(x)` → `keras.Model(...)` chain), and an evaluator that only knows
//! literals, simple variables and arithmetic. Layers become Keras config JSON and are built
//! with [`LayerSpec::from_config`](crate::engine::LayerSpec::from_config). Anything it cannot read becomes a warning with a line and
//! column, and, inside a model, an error layer at that position so the rest still shows.
//!
//! Keras 3 behaviour is followed where it matters (see `KERAS_RULES.md`): Keras 1/2 arguments
//! (`init=`, `border_mode=`, `Dense(output_dim=)`, `Dropout(p=)`, ...) make the layer an error
//! layer; `Conv2D(32, 3, 3)` reads the third argument as strides; `Embedding(input_length=)`
//! is ignored by Keras 3, so it is only used as the input length when nothing else gives one.

mod build;
mod eval;
mod lexer;
mod parser;
mod tables;

use std::fmt;

use super::{ChainBreak, CodecError, NotAModel};
use crate::engine::Model;
use build::finish;
use eval::{Entry, Interp, SeqModel, MAX_STEPS, MAX_WORK};
use lexer::tokenize;
use parser::{parse_stmt, Stmt};
pub use tables::{keras_default_config, positional_params, required_args};

/// Something the importer could not read or wants to point out, at a place in the code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeWarning {
    /// 1-based line.
    pub line: usize,
    /// 1-based column (characters).
    pub column: usize,
    pub message: String,
}

impl fmt::Display for CodeWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "line {}, column {}: {}",
            self.line, self.column, self.message
        )
    }
}

/// The result of importing Keras code: the model and what was noticed on the way.
#[derive(Debug, Clone, PartialEq)]
pub struct Imported {
    pub model: Model,
    pub warnings: Vec<CodeWarning>,
}

/// Tokenize, parse and evaluate the code (never executing it): the models, tensors and
/// warnings it makes.
fn run(src: &str) -> Interp {
    let stmts: Vec<Stmt> = tokenize(src)
        .iter()
        .map(|l| parse_stmt(&l.tokens, l.indent))
        .collect();
    let mut it = Interp::new();
    it.exec_block(&stmts);
    it
}

/// Import a Keras model from Python source. The code is parsed, never executed.
///
/// # Errors
/// [`CodecError::NotAModel`] when no model is found; [`CodecError::InputShape`] when the
/// model has no (readable) input shape; [`CodecError::NotAChain`] for functional graphs
/// that are not a single chain.
pub fn parse_keras_code(src: &str) -> Result<Imported, CodecError> {
    let mut it = run(src);
    if it.steps > MAX_STEPS || it.work > MAX_WORK {
        it.warn(
            1,
            1,
            "the code runs too many statements (loops): reading stopped early",
        );
    }
    let chosen = it
        .touched
        .iter()
        .rev()
        .copied()
        .find(|&m| it.models.get(m).is_some_and(|x| !x.entries.is_empty()))
        .or_else(|| it.touched.last().copied());
    let mut warnings = std::mem::take(&mut it.warnings);
    let model = if let Some(m) = chosen.and_then(|m| it.models.get(m)) {
        let others: Vec<&str> = it
            .models
            .iter()
            .filter(|x| !std::ptr::eq(*x, m) && !x.entries.is_empty())
            .map(|x| x.name.as_str())
            .collect();
        if !others.is_empty() {
            warnings.push(CodeWarning {
                line: m.line,
                column: m.col,
                message: format!(
                    "the code builds {} models; Flatland imports the last one, `{}`",
                    others.len() + 1,
                    m.name
                ),
            });
        }
        if let Some(Entry::Bad { line, col, msg }) =
            m.entries.iter().find(|e| matches!(e, Entry::Bad { .. }))
        {
            if m.functional && m.entries.len() == 1 {
                return Err(CodecError::NotAChain(ChainBreak::Code {
                    line: *line,
                    column: *col,
                    message: msg.clone(),
                }));
            }
        }
        finish(m, &mut warnings)?
    } else {
        // A functional chain without keras.Model(...): use the longest tensor chain.
        let best = it
            .tensors
            .iter()
            .enumerate()
            .filter(|(_, t)| t.len > 0)
            .max_by_key(|(_, t)| t.len)
            .map(|(i, t)| (i, t.clone()));
        match best {
            Some((id, t)) => {
                let mut entries = vec![Entry::Input(t.input.clone())];
                entries.extend(it.chain(id).into_iter().map(Entry::Layer));
                let m = SeqModel {
                    name: "functional".into(),
                    entries,
                    build: None,
                    line: t.input.line,
                    col: t.input.col,
                    functional: true,
                };
                warnings.push(CodeWarning {
                    line: t.input.line,
                    column: t.input.col,
                    message: "no `keras.Model(...)` found: Flatland imports the longest chain of layer calls".into(),
                });
                finish(&m, &mut warnings)?
            }
            None => return Err(CodecError::NotAModel(NotAModel::NoModelInCode)),
        }
    };
    warnings.sort_by_key(|w| (w.line, w.column));
    warnings.dedup();
    Ok(Imported { model, warnings })
}

#[cfg(not(target_arch = "wasm32"))]
/// A graph model read from Keras code, and what was noticed on the way.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportedGraph {
    pub graph: crate::engine::graph::Graph,
    pub warnings: Vec<CodeWarning>,
}

#[cfg(not(target_arch = "wasm32"))]
/// Import a Keras Functional model from Python source as a graph: `x = layers.Dense(16)(inp)`,
/// `layers.Add()([x, s])`, `layers.MultiHeadAttention(...)(q, v)`, `keras.Model(inputs=[...],
/// outputs=[...])`. Parsed, never executed. `Ok(None)` when the code's model is Sequential
/// (read it with [`parse_keras_code`]).
///
/// # Errors
/// [`CodecError::InputShape`] for an input without a readable shape; [`CodecError::Code`]
/// for a layer object called twice (shared layers are not supported).
pub fn parse_keras_graph_code(src: &str) -> Result<Option<ImportedGraph>, CodecError> {
    let it = run(src);
    let chosen = it
        .touched
        .iter()
        .rev()
        .copied()
        .find(|&m| it.models.get(m).is_some_and(|x| !x.entries.is_empty()));
    let Some(call) = chosen.and_then(|m| it.graphs.iter().rev().find(|g| g.model == m)) else {
        return Ok(None);
    };
    let mut warnings = Vec::new();
    let graph = build::finish_graph(&it, call, &mut warnings)?;
    warnings.sort_by_key(|w| (w.line, w.column));
    warnings.dedup();
    Ok(Some(ImportedGraph { graph, warnings }))
}

/// Heuristic used by [`super::read_model`]: does this text look like Keras Python code?
pub fn looks_like_python(text: &str) -> bool {
    let t = text.trim_start();
    if t.starts_with('{') || t.starts_with('[') {
        return false;
    }
    t.contains("Sequential") || t.contains("layers.") || t.contains("Input(")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{analyze, LayerSpec};

    fn total(src: &str) -> u64 {
        let imp = parse_keras_code(src).unwrap();
        let a = analyze(&imp.model);
        assert!(
            a.valid(),
            "{:?} {:?}",
            a.first_error().map(ToString::to_string),
            imp.warnings
        );
        a.total()
    }

    #[test]
    fn seed000_add_style() {
        let src = "from keras.models import Sequential\nfrom keras.layers import Dense\nmodel = Sequential(); model.add(Dense(300, input_shape=(20, 10), activation='relu')); model.add(Dense(1, activation='relu'))";
        assert_eq!(total(src), 3601);
    }

    #[test]
    fn list_form_and_functional() {
        assert_eq!(total("import keras\nm = keras.Sequential([keras.Input(shape=(3, 2)), keras.layers.Dense(16), keras.layers.Flatten(), keras.layers.Dense(4)])"), 244);
        let f = "inputs = keras.Input(shape=(3, 2))\nx = layers.Dense(16)(inputs)\nx = layers.Flatten()(x)\noutputs = layers.Dense(4)(x)\nmodel = keras.Model(inputs=inputs, outputs=outputs, name='f')";
        let imp = parse_keras_code(f).unwrap();
        assert_eq!(imp.model.name, "f");
        assert_eq!(analyze(&imp.model).total(), 244);
    }

    #[test]
    fn positional_strides_and_variables() {
        let src = "n = 8\nshape = (28, 28, 1)\nmodel = Sequential([Conv2D(n, 3, 3, input_shape=shape), Flatten(), Dense(n * 2)])";
        let imp = parse_keras_code(src).unwrap();
        let a = analyze(&imp.model);
        // (28-3)/3+1 = 9 → 9·9·8 = 648
        assert_eq!(
            a.layers[0].output.as_ref().map(|s| s.dims().to_vec()),
            Some(vec![9, 9, 8])
        );
        assert!(imp.warnings.iter().any(|w| w.message.contains("strides=3")));
    }

    #[test]
    fn removed_args_make_error_layers() {
        let src = "model = Sequential()\nmodel.add(Dense(64, input_dim=8, init='uniform'))\nmodel.add(Dropout(p=0.5))";
        let imp = parse_keras_code(src).unwrap();
        let a = analyze(&imp.model);
        let e = a.first_error().map(ToString::to_string).unwrap_or_default();
        assert!(e.contains("init="), "{e}");
        let w = imp
            .warnings
            .iter()
            .find(|w| w.message.contains("`init=`"))
            .unwrap();
        assert_eq!((w.line, w.column), (2, 34));
        assert!(
            matches!(&imp.model.layers[1].spec, LayerSpec::Unknown(u) if u.reason.contains("`p=`"))
        );
    }

    #[test]
    fn no_input_shape_is_an_error() {
        let r = parse_keras_code("model = Sequential([Dense(3), Dense(4)])");
        assert!(matches!(r, Err(CodecError::InputShape(_))), "{r:?}");
        assert_eq!(
            total("model = Sequential([Dense(3), Dense(4)])\nmodel.build(input_shape=(None, 784))"),
            784 * 3 + 3 + 16
        );
    }

    #[test]
    fn embedding_input_length() {
        let imp = parse_keras_code("model = Sequential()\nmodel.add(Embedding(1000, 64, input_length=10))\nmodel.add(LSTM(32))").unwrap();
        assert_eq!(imp.model.input_shape, vec![10]);
        assert!(imp
            .warnings
            .iter()
            .any(|w| w.message.contains("input_length")));
    }

    #[test]
    fn undefined_names_and_channels_first_are_reported() {
        let src = "model = Sequential()\nmodel.add(Dense(num_classes, input_shape=(4,), activation=tf.nn.relu))\nmodel.add(Conv2D(8, 3, data_format='channels_first'))";
        let imp = parse_keras_code(src).unwrap();
        assert!(
            imp.warnings
                .iter()
                .any(|w| w.line == 2 && w.message.contains("`num_classes` is not defined")),
            "{:?}",
            imp.warnings
        );
        assert!(
            imp.warnings
                .iter()
                .any(|w| w.line == 3 && w.message.contains("channels_last")),
            "{:?}",
            imp.warnings
        );
        assert!(matches!(&imp.model.layers[0].spec, LayerSpec::Unknown(_)));
        let ok = parse_keras_code("num_classes = 3\nm = Sequential([Dense(num_classes, input_shape=(4,), activation=tf.nn.relu)])").unwrap();
        assert_eq!(ok.model.layers[0].spec.to_config()["activation"], "relu");
        assert!(ok.warnings.is_empty(), "{:?}", ok.warnings);
    }

    #[test]
    fn several_models_import_the_last() {
        let src = "g = Sequential([Input((4,)), Dense(2)])\nd = Sequential([Input((2,)), Dense(1)], name='disc')";
        let imp = parse_keras_code(src).unwrap();
        assert_eq!(imp.model.name, "disc");
        assert!(imp
            .warnings
            .iter()
            .any(|w| w.message.contains("builds 2 models")));
    }

    #[test]
    #[allow(clippy::format_collect)] // test inputs
    fn garbage_never_panics() {
        for s in [
            "",
            "(((((",
            "model.add(",
            "Sequential([",
            "x = [1, 2",
            "'''",
            "def f(:",
            "\\",
            "a = (1,)*100000000000",
            "for i in range(10**12): model.add(Dense(1))",
        ] {
            let _ = parse_keras_code(s);
        }
        let deep = "(".repeat(100_000);
        let _ = parse_keras_code(&deep);
        let stress = [
            format!("x = {}1", "1+".repeat(100_000)),
            format!("x = a{}", ".b".repeat(100_000)),
            format!("x = f{}", "()".repeat(100_000)),
            format!("x = a{}", "[0]".repeat(100_000)),
            format!("x = {}", "not ".repeat(100_000)),
            format!("x = 2{}", "**2".repeat(100_000)),
            "x = 1\nfor i in range(10000):\n    x = [x, x]\n".to_string(),
            "x = (1,)\nfor i in range(10000):\n    x = x * 2\n".to_string(),
            "x = Input((3,))\nfor i in range(10000):\n    x = Dense(1)(x)\nm = Model(inputs=x, outputs=x)".to_string(),
            "a = Sequential()\nb = Sequential([Dense(1)])\nfor i in range(10000):\n    a.add(b)\n    b.add(a)\n".to_string(),
            (0..5000).map(|i| format!("{}if x:\n", " ".repeat(i))).collect::<String>(),
            "if a: if b: if c: model.add(Dense(1))".repeat(10_000),
            "for i in range(10000):\n for j in range(10000):\n  for k in range(10000):\n   m.add(Dense(1))\n".to_string(),
        ];
        for s in &stress {
            let _ = parse_keras_code(s);
        }
        let chain = "x = inputs = Input((4,))\nfor i in range(300):\n    x = Dense(2)(x)\nm = Model(inputs, x)";
        assert_eq!(parse_keras_code(chain).unwrap().model.layers.len(), 300);
        let deep = format!("x = {}", "-".repeat(100_000));
        let _ = parse_keras_code(&deep);
    }

    #[test]
    fn loops_and_defaults() {
        let src = "def build(units=(64, 32), n_in=10):\n    model = Sequential()\n    model.add(Input((n_in,)))\n    for u in units:\n        model.add(Dense(u, activation='relu'))\n    model.add(Dense(1))\n    return model\n";
        assert_eq!(total(src), 10 * 64 + 64 + 64 * 32 + 32 + 33);
    }
}
