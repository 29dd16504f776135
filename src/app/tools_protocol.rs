//! The page ↔ tools worker protocol: the messages between the page
//! (`src/app/components/code_panel.rs`) and the tools worker (`src/bin/flatland-tools.rs`, the
//! second wasm module, with the Keras code importer and the Keras / PyTorch exporters).
//!
//! Once loaded, the worker posts [`READY`]. Then each [`Request`] crosses as one JSON string
//! ([`Request::to_json`]), and the worker answers each with one [`Reply`] JSON string
//! ([`handle`]), carrying the request's id. A message the worker cannot read gets an error
//! reply ([`ToolsError::Malformed`], with the id when one could be read), never a panic.
//!
//! No web crates here: everything is unit-tested natively.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::codec::export::{to_keras_code, to_pytorch_code};
use crate::codec::keras_code::{parse_keras_code, CodeWarning};
use crate::codec::model_json;
use crate::engine::layers::Unknown;
use crate::engine::{LayerSpec, Model};

/// What the worker posts, as a plain string, once it can take requests.
pub const READY: &str = "ready";

/// A request from the page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Request {
    /// Chosen by the page; the reply carries it back.
    pub id: u32,
    pub op: Op,
}

/// What the page asks the worker for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Op {
    /// Read Keras Python code; answered with [`Answer::Imported`].
    Import { code: String },
    /// Write a model as Keras code; answered with [`Answer::Code`].
    KerasCode { model: WireModel },
    /// Write a model as PyTorch code; answered with [`Answer::Code`].
    PyTorchCode { model: WireModel },
}

/// The worker's reply to one request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reply {
    /// The request's id; `None` when the request was too damaged to carry one.
    pub id: Option<u32>,
    pub outcome: Result<Answer, ToolsError>,
}

/// A successful reply.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Answer {
    /// The model read from the code, and what the importer pointed out.
    Imported {
        model: WireModel,
        warnings: Vec<WireWarning>,
    },
    /// The exported code.
    Code { text: String },
}

/// A model as it crosses: model JSON, plus what model JSON does not keep of the layers that
/// could not be read (their class names and reasons; model JSON keeps only their config).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WireModel {
    /// [`model_json::to_value`] of the model.
    pub model: Value,
    pub unreadable: Vec<UnreadableLayer>,
}

/// A layer the model holds as [`LayerSpec::Unknown`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UnreadableLayer {
    /// Its place in the model's layers.
    pub index: usize,
    pub class_name: String,
    /// Why it could not be read (empty for an unknown class).
    pub reason: String,
}

/// One of the importer's [`CodeWarning`]s.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WireWarning {
    /// 1-based line.
    pub line: usize,
    /// 1-based column (characters).
    pub column: usize,
    pub message: String,
}

/// Why a request got no answer. The page shows its text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum ToolsError {
    /// The importer refused the code: its message for the user.
    #[error("{message}")]
    Refused { message: String },
    /// The model sent for export is not a model.
    #[error("the model could not be read: {message}")]
    BadModel { message: String },
    /// The worker could not read the request.
    #[error("the code tools could not read the request: {message}")]
    Malformed { message: String },
    /// The page could not read the worker's reply (or it answered another question).
    #[error("the code tools sent a reply that could not be read: {message}")]
    BadReply { message: String },
    /// The worker could not be created (page side only).
    #[serde(skip)]
    #[error("the code tools could not be started")]
    NotStarted,
    /// The worker failed to load (page side only).
    #[serde(skip)]
    #[error("the code tools could not be loaded (check the connection and reload)")]
    NotLoaded,
    /// The worker did not say [`READY`] in time (page side only).
    #[serde(skip)]
    #[error("the code tools took too long to load (check the connection and reload)")]
    LoadTimeout,
}

impl From<&CodeWarning> for WireWarning {
    fn from(w: &CodeWarning) -> WireWarning {
        WireWarning {
            line: w.line,
            column: w.column,
            message: w.message.clone(),
        }
    }
}

impl From<WireWarning> for CodeWarning {
    fn from(w: WireWarning) -> CodeWarning {
        CodeWarning {
            line: w.line,
            column: w.column,
            message: w.message,
        }
    }
}

impl WireModel {
    /// The model as it crosses.
    pub fn of(m: &Model) -> WireModel {
        let unreadable = m
            .layers
            .iter()
            .enumerate()
            .filter_map(|(index, l)| match &l.spec {
                LayerSpec::Unknown(u) => Some(UnreadableLayer {
                    index,
                    class_name: u.class_name.clone(),
                    reason: u.reason.clone(),
                }),
                _ => None,
            })
            .collect();
        WireModel {
            model: model_json::to_value(m),
            unreadable,
        }
    }

    /// The model back.
    ///
    /// # Errors
    /// [`ToolsError::BadModel`] when [`WireModel::model`] is not model JSON, or an
    /// unreadable layer's index is not one of its layers.
    pub fn to_model(&self) -> Result<Model, ToolsError> {
        let bad = |message: String| ToolsError::BadModel { message };
        let mut m = model_json::from_value(&self.model).map_err(|e| bad(e.to_string()))?;
        let layers = self.model.get("layers");
        for u in &self.unreadable {
            let config = layers
                .and_then(|ls| ls.get(u.index))
                .and_then(|l| l.get("config"))
                .cloned()
                .unwrap_or_else(|| Value::Object(serde_json::Map::new()));
            let layer = m.layers.get_mut(u.index).ok_or_else(|| {
                bad(format!(
                    "unreadable layer {} is not one of its layers",
                    u.index
                ))
            })?;
            layer.spec = LayerSpec::Unknown(Unknown {
                class_name: u.class_name.clone(),
                config,
                reason: u.reason.clone(),
            });
        }
        Ok(m)
    }
}

impl Answer {
    /// The imported model and the importer's warnings.
    ///
    /// # Errors
    /// [`ToolsError::BadReply`] when this is not an import's answer or its model cannot be
    /// read.
    pub fn into_imported(self) -> Result<(Model, Vec<CodeWarning>), ToolsError> {
        match self {
            Answer::Imported { model, warnings } => {
                let m = model.to_model().map_err(|e| ToolsError::BadReply {
                    message: e.to_string(),
                })?;
                Ok((m, warnings.into_iter().map(CodeWarning::from).collect()))
            }
            Answer::Code { .. } => Err(ToolsError::BadReply {
                message: "code where a model was expected".into(),
            }),
        }
    }

    /// The exported code.
    ///
    /// # Errors
    /// [`ToolsError::BadReply`] when this is not an export's answer.
    pub fn into_code(self) -> Result<String, ToolsError> {
        match self {
            Answer::Code { text } => Ok(text),
            Answer::Imported { .. } => Err(ToolsError::BadReply {
                message: "a model where code was expected".into(),
            }),
        }
    }
}

/// A message as JSON text. The protocol's types always serialize (no maps with non-string
/// keys); should one ever fail, the text is empty, which the other side reports as malformed.
fn to_json<T: Serialize>(message: &T) -> String {
    serde_json::to_value(message)
        .map(|v| v.to_string())
        .unwrap_or_default()
}

impl Request {
    /// The request as the page posts it.
    pub fn to_json(&self) -> String {
        to_json(self)
    }
}

impl Reply {
    /// The reply as the worker posts it.
    pub fn to_json(&self) -> String {
        to_json(self)
    }

    /// Read a reply the worker posted.
    ///
    /// # Errors
    /// [`ToolsError::BadReply`] when `text` is not a [`Reply`].
    pub fn from_json(text: &str) -> Result<Reply, ToolsError> {
        let bad = |e: serde_json::Error| ToolsError::BadReply {
            message: e.to_string(),
        };
        let v: Value = serde_json::from_str(text).map_err(bad)?;
        serde_json::from_value(v).map_err(bad)
    }
}

/// Do what `op` asks.
///
/// # Errors
/// [`ToolsError::Refused`] when the importer refuses the code, [`ToolsError::BadModel`] when
/// the model to export cannot be read.
pub fn run(op: &Op) -> Result<Answer, ToolsError> {
    match op {
        Op::Import { code } => {
            let imp = parse_keras_code(code).map_err(|e| ToolsError::Refused {
                message: e.to_string(),
            })?;
            Ok(Answer::Imported {
                model: WireModel::of(&imp.model),
                warnings: imp.warnings.iter().map(WireWarning::from).collect(),
            })
        }
        Op::KerasCode { model } => Ok(Answer::Code {
            text: to_keras_code(&model.to_model()?),
        }),
        Op::PyTorchCode { model } => Ok(Answer::Code {
            text: to_pytorch_code(&model.to_model()?),
        }),
    }
}

/// The worker's side: read a request, run it, reply. A message that is not a request gets a
/// [`ToolsError::Malformed`] reply, with the message's id when it has a readable one.
pub fn respond(message: &str) -> Reply {
    let malformed = |id: Option<u32>, e: serde_json::Error| Reply {
        id,
        outcome: Err(ToolsError::Malformed {
            message: e.to_string(),
        }),
    };
    let v: Value = match serde_json::from_str(message) {
        Ok(v) => v,
        Err(e) => return malformed(None, e),
    };
    let id = v
        .get("id")
        .and_then(Value::as_u64)
        .and_then(|i| u32::try_from(i).ok());
    match serde_json::from_value::<Request>(v) {
        Ok(req) => Reply {
            id: Some(req.id),
            outcome: run(&req.op),
        },
        Err(e) => malformed(id, e),
    }
}

/// [`respond`], as JSON text: what the worker posts back for each message it gets.
pub fn handle(message: &str) -> String {
    respond(message).to_json()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::share::{import_text, prepare_import, Pending};
    use serde_json::json;

    /// The page's side of one exchange: post `op`, get the answer.
    fn ask(op: Op) -> Result<Answer, ToolsError> {
        let req = Request { id: 7, op };
        let text = req.to_json();
        assert_eq!(serde_json::from_str::<Request>(&text).ok(), Some(req));
        let reply = Reply::from_json(&handle(&text)).unwrap();
        assert_eq!(reply.id, Some(7));
        reply.outcome
    }

    fn import(code: &str) -> Result<(Model, Vec<CodeWarning>), String> {
        ask(Op::Import { code: code.into() })
            .and_then(Answer::into_imported)
            .map_err(|e| e.to_string())
    }

    const UNREADABLE: &str = "model = keras.Sequential([keras.Input((4,)), layers.Dense(2, kernel_regularizer=mystery()), layers.Frobnicate(3), layers.Dense(units=-1)])\n";

    #[test]
    fn a_model_with_unreadable_layers_crosses_whole() {
        let (m, _) = import_text(Some("x.py"), UNREADABLE).unwrap();
        let unknown: Vec<&Unknown> = m
            .layers
            .iter()
            .filter_map(|l| match &l.spec {
                LayerSpec::Unknown(u) => Some(u),
                _ => None,
            })
            .collect();
        assert!(unknown.iter().any(|u| !u.reason.is_empty()), "{unknown:?}");
        assert!(unknown.iter().any(|u| u.class_name == "Frobnicate"));

        let wire = WireModel::of(&m);
        assert_eq!(wire.unreadable.len(), unknown.len());
        assert_eq!(wire.to_model(), Ok(m.clone()));
        // Named fields on the wire.
        let v = serde_json::to_value(&wire).unwrap();
        let first = &v["unreadable"][0];
        assert!(first["index"].is_u64() && first["class_name"].is_string());
        assert!(first["reason"].is_string());
        let text = Request {
            id: 1,
            op: Op::KerasCode {
                model: wire.clone(),
            },
        }
        .to_json();
        let back: Request = serde_json::from_str(&text).unwrap();
        assert_eq!(back.op, Op::KerasCode { model: wire });

        assert_eq!(import(UNREADABLE), import_text(Some("x.py"), UNREADABLE));
    }

    #[test]
    fn warnings_cross_with_their_places() {
        let src = "model = Sequential()\nmodel.add(Dense(4, input_shape=(3,)))\nmodel.add(Dense(2 +* 3))\n";
        let direct = import_text(Some("x.py"), src).unwrap();
        assert!(!direct.1.is_empty(), "the fixture warns");
        assert_eq!(import(src), Ok(direct.clone()));
        let answer = run(&Op::Import { code: src.into() }).unwrap();
        let Answer::Imported { warnings, .. } = &answer else {
            panic!("not an import: {answer:?}");
        };
        let v = serde_json::to_value(&warnings[0]).unwrap();
        assert_eq!(
            v,
            json!({
                "line": direct.1[0].line,
                "column": direct.1[0].column,
                "message": direct.1[0].message,
            })
        );
    }

    /// What the web app gets through the tools worker equals what the native importer and
    /// exporters give: every snippet fixture, plus error layers (whose reasons model JSON
    /// does not keep) and the importer's errors.
    #[test]
    fn the_tools_worker_wire_is_lossless() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/snippets");
        let mut n = 0;
        let mut with_errors = 0;
        let mut srcs: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .filter_map(|e| {
                let p = e.unwrap().path();
                (p.extension()? == "py").then(|| std::fs::read_to_string(p).unwrap())
            })
            .collect();
        srcs.push(UNREADABLE.into());
        srcs.push("model = Sequential()\nmodel.add(Dense(4, input_shape=(3,)))\nmodel.add(Dense(2 +* 3))\n".into());
        for src in &srcs {
            let direct = import_text(Some("x.py"), src);
            let Ok(Pending::Code(code)) = prepare_import(Some("x.py"), src) else {
                panic!("not code: {src}");
            };
            assert_eq!(import(&code), direct, "{src}");
            if let Ok((m, _)) = direct {
                n += 1;
                with_errors += usize::from(
                    m.layers
                        .iter()
                        .any(|l| matches!(&l.spec, LayerSpec::Unknown(u) if !u.reason.is_empty())),
                );
                let wire = WireModel::of(&m);
                assert_eq!(wire.to_model(), Ok(m.clone()));
                let keras = ask(Op::KerasCode {
                    model: wire.clone(),
                });
                assert_eq!(keras.and_then(Answer::into_code), Ok(to_keras_code(&m)));
                let pytorch = ask(Op::PyTorchCode { model: wire });
                assert_eq!(pytorch.and_then(Answer::into_code), Ok(to_pytorch_code(&m)));
            }
        }
        assert!(
            n >= 15 && with_errors >= 1,
            "{n} models, {with_errors} with error layers"
        );
    }

    #[test]
    fn refusals_are_typed_errors_with_the_importers_message() {
        let refused = ask(Op::Import {
            code: "print('hello')".into(),
        });
        let direct = import_text(Some("x.py"), "print('hello')").unwrap_err();
        assert_eq!(
            refused,
            Err(ToolsError::Refused {
                message: direct.clone()
            })
        );
        assert_eq!(refused.unwrap_err().to_string(), direct);
        // A model that is not one.
        let bad = WireModel {
            model: json!({"format": "nope"}),
            unreadable: Vec::new(),
        };
        assert!(matches!(
            ask(Op::KerasCode { model: bad }),
            Err(ToolsError::BadModel { .. })
        ));
        let mut out_of_range = WireModel::of(&Model::seed());
        out_of_range.unreadable.push(UnreadableLayer {
            index: 99,
            class_name: "X".into(),
            reason: String::new(),
        });
        assert!(matches!(
            ask(Op::PyTorchCode {
                model: out_of_range
            }),
            Err(ToolsError::BadModel { .. })
        ));
        // Errors cross as themselves.
        for e in [
            ToolsError::Refused {
                message: "no".into(),
            },
            ToolsError::BadModel {
                message: "m".into(),
            },
            ToolsError::Malformed {
                message: "x".into(),
            },
        ] {
            let r = Reply {
                id: Some(3),
                outcome: Err(e),
            };
            assert_eq!(Reply::from_json(&r.to_json()), Ok(r));
        }
    }

    #[test]
    fn malformed_requests_get_error_replies() {
        let malformed = |text: &str| {
            let reply = Reply::from_json(&handle(text)).unwrap();
            assert!(
                matches!(reply.outcome, Err(ToolsError::Malformed { .. })),
                "{text}: {reply:?}"
            );
            reply.id
        };
        assert_eq!(malformed(""), None);
        assert_eq!(malformed("{"), None);
        assert_eq!(malformed("[1, \"import\", \"x\"]"), None);
        assert_eq!(malformed("\"ready\""), None);
        assert_eq!(malformed("{\"op\": {\"Import\": {\"code\": \"\"}}}"), None);
        assert_eq!(
            malformed("{\"id\": -1, \"op\": {\"Import\": {\"code\": \"\"}}}"),
            None
        );
        assert_eq!(
            malformed("{\"id\": 4294967296, \"op\": {\"Import\": {\"code\": \"\"}}}"),
            None
        );
        // The id is kept when it can be read, so the page can fail that request.
        assert_eq!(malformed("{\"id\": 5}"), Some(5));
        assert_eq!(malformed("{\"id\": 5, \"op\": \"Import\"}"), Some(5));
        assert_eq!(
            malformed("{\"id\": 5, \"op\": {\"Frobnicate\": {}}}"),
            Some(5)
        );
        assert_eq!(
            malformed("{\"id\": 5, \"op\": {\"Import\": {\"code\": 3}}}"),
            Some(5)
        );
        assert_eq!(
            malformed("{\"id\": 5, \"op\": {\"KerasCode\": {\"model\": {\"model\": {}}}}}"),
            Some(5)
        );
        let bad_index = json!({"id": 6, "op": {"PyTorchCode": {"model": {
            "model": model_json::to_value(&Model::seed()),
            "unreadable": [{"index": "one", "class_name": "X", "reason": ""}],
        }}}});
        assert_eq!(malformed(&bad_index.to_string()), Some(6));
    }

    #[test]
    fn the_page_reports_replies_it_cannot_read() {
        for text in [
            "",
            "ready",
            "[1, true, \"x\"]",
            "{\"id\": 1}",
            "{\"id\": 1, \"outcome\": 3}",
        ] {
            assert!(
                matches!(Reply::from_json(text), Err(ToolsError::BadReply { .. })),
                "{text}"
            );
        }
        let code = Answer::Code { text: "x".into() };
        assert!(matches!(
            code.clone().into_imported(),
            Err(ToolsError::BadReply { .. })
        ));
        assert_eq!(code.into_code(), Ok("x".into()));
        let imported = Answer::Imported {
            model: WireModel::of(&Model::seed()),
            warnings: Vec::new(),
        };
        assert!(matches!(
            imported.clone().into_code(),
            Err(ToolsError::BadReply { .. })
        ));
        assert_eq!(imported.into_imported(), Ok((Model::seed(), Vec::new())));
        // The page's own failures say what they always said.
        assert_eq!(
            ToolsError::NotLoaded.to_string(),
            "the code tools could not be loaded (check the connection and reload)"
        );
        assert_eq!(
            ToolsError::LoadTimeout.to_string(),
            "the code tools took too long to load (check the connection and reload)"
        );
        assert_eq!(
            ToolsError::NotStarted.to_string(),
            "the code tools could not be started"
        );
    }
}
