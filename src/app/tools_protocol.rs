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

use serde::{de, Deserialize, Serialize};
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
    /// Read Keras Python code; answered with [`Outcome::Imported`].
    Import { code: String },
    /// Write a model as Keras code; answered with [`Outcome::Code`].
    KerasCode { model: WireModel },
    /// Write a model as PyTorch code; answered with [`Outcome::Code`].
    PyTorchCode { model: WireModel },
    /// Draw the QR code of a link (the share panel's); answered with [`Outcome::Qr`].
    Qr { text: String },
}

/// The worker's reply to one request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reply {
    /// The request's id; `None` when the request was too damaged to carry one.
    pub id: Option<u32>,
    pub outcome: Outcome,
}

/// What came of a request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Outcome {
    /// The model read from the code, and what the importer pointed out.
    Imported {
        model: WireModel,
        warnings: Vec<WireWarning>,
    },
    /// The exported code.
    Code(String),
    /// A QR code as SVG markup.
    Qr(String),
    /// Why there is no answer.
    Failed(ToolsError),
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

/// What the last import did, as the Code panel shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImportReport {
    /// "the pasted text" or the file name.
    pub source: String,
    /// The imported model's name, layer count and the importer's warnings; or why nothing
    /// was imported.
    pub outcome: Result<Imported, String>,
}

/// A model that was imported: its name, its layer count and what the importer pointed out.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Imported {
    pub name: String,
    pub layers: usize,
    pub warnings: Vec<WireWarning>,
}

/// The Code panel is drawn by the tools module loaded into the page (`src/app/code_dialog.rs`),
/// not by the page's first module. Before the page asks it to open ([`CODE_OPEN_EVENT`]), it
/// puts this, as JSON, in `window[CODE_VIEW_GLOBAL]`: the model on screen and the last
/// import's report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CodeView {
    pub model: WireModel,
    pub report: Option<ImportReport>,
}

/// Text the Code panel hands the page to import ([`IMPORT_EVENT`]'s `detail`, as JSON): the
/// file name when it came from a file, and the text or why the file could not be read. The
/// page imports it as it imports a dropped file, then opens the panel again with the report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImportAsk {
    pub name: Option<String>,
    pub text: Result<String, String>,
}

/// The `window` property that holds the [`CodeView`] JSON.
pub const CODE_VIEW_GLOBAL: &str = "__flatlandCodeView";
/// The event (on `window`) that opens the Code panel, or gives it a new [`CodeView`].
pub const CODE_OPEN_EVENT: &str = "flatland-code-open";
/// The event (a `CustomEvent` on `window`, [`ImportAsk`] JSON as its `detail`) that asks the
/// page to import.
pub const IMPORT_EVENT: &str = "flatland-import";

impl CodeView {
    /// As the page hands it over.
    pub fn to_json(&self) -> String {
        to_json(self)
    }

    /// Read what the page handed over.
    ///
    /// # Errors
    /// [`ToolsError::BadReply`] when `text` is not a [`CodeView`].
    pub fn from_json(text: &str) -> Result<CodeView, ToolsError> {
        from_json(text)
    }
}

impl ImportAsk {
    /// As the panel hands it over.
    pub fn to_json(&self) -> String {
        to_json(self)
    }

    /// Read what the panel handed over.
    ///
    /// # Errors
    /// [`ToolsError::BadReply`] when `text` is not an [`ImportAsk`].
    pub fn from_json(text: &str) -> Result<ImportAsk, ToolsError> {
        from_json(text)
    }
}

/// Why a request got no answer. The page shows its text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum ToolsError {
    /// The importer refused the code: its message for the user.
    #[error("{0}")]
    Refused(String),
    /// The model sent for export is not a model.
    #[error("the model could not be read: {0}")]
    BadModel(String),
    /// The worker could not read the request.
    #[error("the code tools could not read the request: {0}")]
    Malformed(String),
    /// The page could not read the worker's reply (or it answered another question).
    #[error("the code tools sent a reply that could not be read: {0}")]
    BadReply(String),
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
        let mut m =
            model_json::from_value(&self.model).map_err(|e| ToolsError::BadModel(e.to_string()))?;
        let layers = self.model.get("layers");
        for u in &self.unreadable {
            let config = layers
                .and_then(|ls| ls.get(u.index))
                .and_then(|l| l.get("config"))
                .cloned()
                .unwrap_or_else(|| Value::Object(serde_json::Map::new()));
            let layer = m.layers.get_mut(u.index).ok_or_else(|| {
                ToolsError::BadModel(format!(
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

impl Outcome {
    /// The imported model and the importer's warnings.
    ///
    /// # Errors
    /// The [`Outcome::Failed`] error; [`ToolsError::BadReply`] when this is not an import's
    /// answer or its model cannot be read.
    pub fn into_imported(self) -> Result<(Model, Vec<CodeWarning>), ToolsError> {
        match self {
            Outcome::Imported { model, warnings } => {
                let m = model
                    .to_model()
                    .map_err(|e| ToolsError::BadReply(e.to_string()))?;
                Ok((m, warnings.into_iter().map(CodeWarning::from).collect()))
            }
            Outcome::Code(_) | Outcome::Qr(_) => Err(ToolsError::BadReply(
                "code where a model was expected".into(),
            )),
            Outcome::Failed(e) => Err(e),
        }
    }

    /// The exported code.
    ///
    /// # Errors
    /// The [`Outcome::Failed`] error; [`ToolsError::BadReply`] when this is not an export's
    /// answer.
    pub fn into_code(self) -> Result<String, ToolsError> {
        match self {
            Outcome::Code(text) => Ok(text),
            Outcome::Imported { .. } | Outcome::Qr(_) => Err(ToolsError::BadReply(
                "another answer where code was expected".into(),
            )),
            Outcome::Failed(e) => Err(e),
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
        from_json(text)
    }
}

/// Read one of the protocol's messages ([`ToolsError::BadReply`] when it is not one).
fn from_json<T: de::DeserializeOwned>(text: &str) -> Result<T, ToolsError> {
    let v: Value = serde_json::from_str(text).map_err(|e| ToolsError::BadReply(e.to_string()))?;
    T::deserialize(WireDe(&v)).map_err(|e| ToolsError::BadReply(e.to_string()))
}

/// Do what `op` asks: [`Outcome::Failed`] with [`ToolsError::Refused`] when the importer
/// refuses the code, or [`ToolsError::BadModel`] when the model to export cannot be read.
pub fn run(op: &Op) -> Outcome {
    answer(op).unwrap_or_else(Outcome::Failed)
}

fn answer(op: &Op) -> Result<Outcome, ToolsError> {
    match op {
        Op::Import { code } => {
            let imp = parse_keras_code(code).map_err(|e| ToolsError::Refused(e.to_string()))?;
            Ok(Outcome::Imported {
                model: WireModel::of(&imp.model),
                warnings: imp.warnings.iter().map(WireWarning::from).collect(),
            })
        }
        Op::KerasCode { model } => Ok(Outcome::Code(to_keras_code(&model.to_model()?))),
        Op::PyTorchCode { model } => Ok(Outcome::Code(to_pytorch_code(&model.to_model()?))),
        Op::Qr { text } => crate::codec::qr::qr_svg(text)
            .map(Outcome::Qr)
            .map_err(|e| ToolsError::Refused(e.to_string())),
    }
}

/// The worker's side: read a request, run it, reply. A message that is not a request gets a
/// [`ToolsError::Malformed`] reply, with the message's id when it has a readable one.
pub fn respond(message: &str) -> Reply {
    let malformed = |id: Option<u32>, e: serde_json::Error| Reply {
        id,
        outcome: Outcome::Failed(ToolsError::Malformed(e.to_string())),
    };
    let v: Value = match serde_json::from_str(message) {
        Ok(v) => v,
        Err(e) => return malformed(None, e),
    };
    match Request::deserialize(WireDe(&v)) {
        Ok(req) => Reply {
            id: Some(req.id),
            outcome: run(&req.op),
        },
        Err(e) => {
            let id = v
                .get("id")
                .and_then(Value::as_u64)
                .and_then(|i| u32::try_from(i).ok());
            malformed(id, e)
        }
    }
}

/// [`respond`], as JSON text: what the worker posts back for each message it gets.
pub fn handle(message: &str) -> String {
    respond(message).to_json()
}

/// A parsed message as a serde deserializer for the protocol's types. It reads what
/// `&Value` reads, except that structs are read only from objects (serde also accepts a
/// struct as a list), so the derived sequence visitors are not compiled into the page: the
/// same saving as the layer configs' reader (`engine::layers::parse_config`).
struct WireDe<'a>(&'a Value);

/// serde's "invalid type" error for `v`. Not generic, so compiled once.
#[inline(never)]
fn invalid(v: &Value, exp: &dyn de::Expected) -> serde_json::Error {
    let unexpected = match v {
        Value::Null => de::Unexpected::Unit,
        Value::Bool(b) => de::Unexpected::Bool(*b),
        Value::Number(_) => de::Unexpected::Other("number"),
        Value::String(s) => de::Unexpected::Str(s),
        Value::Array(_) => de::Unexpected::Seq,
        Value::Object(_) => de::Unexpected::Map,
    };
    de::Error::invalid_type(unexpected, exp)
}

/// Scalars are read as `&Value` reads them (the same code the layer configs' reader uses).
macro_rules! forward_to_value {
    ($($method:ident)*) => {$(
        fn $method<V: de::Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
            self.0.$method(visitor)
        }
    )*};
}

impl<'de> de::Deserializer<'de> for WireDe<'de> {
    type Error = serde_json::Error;

    fn deserialize_any<V: de::Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        self.0.deserialize_any(visitor)
    }

    fn deserialize_option<V: de::Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        match self.0 {
            Value::Null => visitor.visit_none(),
            _ => visitor.visit_some(self),
        }
    }

    fn deserialize_struct<V: de::Visitor<'de>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        match self.0 {
            Value::Object(m) => visitor.visit_map(WireMap {
                entries: m.iter(),
                value: None,
            }),
            v => Err(invalid(v, &visitor)),
        }
    }

    fn deserialize_seq<V: de::Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        match self.0 {
            Value::Array(items) => visitor.visit_seq(WireSeq(items.iter())),
            v => Err(invalid(v, &visitor)),
        }
    }

    /// Externally tagged, as serde writes enums: `{"Variant": content}`.
    fn deserialize_enum<V: de::Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        match self.0 {
            Value::Object(m) if m.len() == 1 => match m.iter().next() {
                Some((tag, content)) => visitor.visit_enum(WireEnum(tag, content)),
                None => Err(invalid(self.0, &visitor)),
            },
            v => Err(invalid(v, &visitor)),
        }
    }

    forward_to_value! {
        deserialize_bool deserialize_i8 deserialize_i16 deserialize_i32 deserialize_i64
        deserialize_u8 deserialize_u16 deserialize_u32 deserialize_u64 deserialize_f32
        deserialize_f64 deserialize_char deserialize_str deserialize_string
        deserialize_identifier deserialize_ignored_any
    }

    serde::forward_to_deserialize_any! {
        i128 u128 bytes byte_buf unit unit_struct newtype_struct tuple tuple_struct map
    }
}

/// An object's entries, visited as a map.
struct WireMap<'a> {
    entries: serde_json::map::Iter<'a>,
    value: Option<&'a Value>,
}

impl<'de> de::MapAccess<'de> for WireMap<'de> {
    type Error = serde_json::Error;

    fn next_key_seed<K: de::DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Self::Error> {
        let Some((key, value)) = self.entries.next() else {
            return Ok(None);
        };
        self.value = Some(value);
        seed.deserialize(de::value::BorrowedStrDeserializer::new(key))
            .map(Some)
    }

    fn next_value_seed<V: de::DeserializeSeed<'de>>(
        &mut self,
        seed: V,
    ) -> Result<V::Value, Self::Error> {
        match self.value.take() {
            Some(v) => seed.deserialize(WireDe(v)),
            None => Err(de::Error::custom("value is missing")),
        }
    }
}

/// A list's elements.
struct WireSeq<'a>(std::slice::Iter<'a, Value>);

impl<'de> de::SeqAccess<'de> for WireSeq<'de> {
    type Error = serde_json::Error;

    fn next_element_seed<T: de::DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, Self::Error> {
        self.0
            .next()
            .map(|v| seed.deserialize(WireDe(v)))
            .transpose()
    }
}

/// An enum's tag and content.
struct WireEnum<'a>(&'a str, &'a Value);

impl<'de> de::EnumAccess<'de> for WireEnum<'de> {
    type Error = serde_json::Error;
    type Variant = WireDe<'de>;

    fn variant_seed<V: de::DeserializeSeed<'de>>(
        self,
        seed: V,
    ) -> Result<(V::Value, WireDe<'de>), Self::Error> {
        let tag = seed.deserialize(de::value::BorrowedStrDeserializer::new(self.0))?;
        Ok((tag, WireDe(self.1)))
    }
}

impl<'de> de::VariantAccess<'de> for WireDe<'de> {
    type Error = serde_json::Error;

    fn unit_variant(self) -> Result<(), Self::Error> {
        match self.0 {
            Value::Null => Ok(()),
            v => Err(invalid(v, &"no content")),
        }
    }

    fn newtype_variant_seed<T: de::DeserializeSeed<'de>>(
        self,
        seed: T,
    ) -> Result<T::Value, Self::Error> {
        seed.deserialize(self)
    }

    fn tuple_variant<V: de::Visitor<'de>>(
        self,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        de::Deserializer::deserialize_seq(self, visitor)
    }

    fn struct_variant<V: de::Visitor<'de>>(
        self,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        de::Deserializer::deserialize_struct(self, "", fields, visitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::share::{import_text, prepare_import, Pending};
    use serde_json::json;

    /// The page's side of one exchange: post `op`, get the answer.
    fn ask(op: Op) -> Outcome {
        let req = Request { id: 7, op };
        let text = req.to_json();
        assert_eq!(serde_json::from_str::<Request>(&text).ok(), Some(req));
        let reply = Reply::from_json(&handle(&text)).unwrap();
        assert_eq!(reply.id, Some(7));
        reply.outcome
    }

    fn import(code: &str) -> Result<(Model, Vec<CodeWarning>), String> {
        ask(Op::Import { code: code.into() })
            .into_imported()
            .map_err(|e| e.to_string())
    }

    /// The page and the Code panel (two wasm modules) hand each other these as JSON: they
    /// come back whole, an import error and a file that could not be read included.
    #[test]
    fn code_view_and_import_ask_cross_whole() {
        let (m, warnings) = import_text(Some("x.py"), UNREADABLE).unwrap();
        assert!(!warnings.is_empty());
        let view = CodeView {
            model: WireModel::of(&m),
            report: Some(ImportReport {
                source: "“x.py”".into(),
                outcome: Ok(Imported {
                    name: m.name.clone(),
                    layers: m.layers.len(),
                    warnings: warnings.iter().map(WireWarning::from).collect(),
                }),
            }),
        };
        let back = CodeView::from_json(&view.to_json()).unwrap();
        assert_eq!(back, view);
        assert_eq!(back.model.to_model(), Ok(m));
        let failed = CodeView {
            report: Some(ImportReport {
                source: "the pasted text".into(),
                outcome: Err("line 1: no model".into()),
            }),
            ..view
        };
        assert_eq!(CodeView::from_json(&failed.to_json()).unwrap(), failed);
        for ask in [
            ImportAsk {
                name: None,
                text: Ok("model = 1".into()),
            },
            ImportAsk {
                name: Some("a.keras".into()),
                text: Err("could not read".into()),
            },
        ] {
            assert_eq!(ImportAsk::from_json(&ask.to_json()).unwrap(), ask);
        }
        assert!(matches!(
            ImportAsk::from_json("[1]"),
            Err(ToolsError::BadReply(_))
        ));
        assert!(matches!(
            CodeView::from_json("{"),
            Err(ToolsError::BadReply(_))
        ));
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

    /// The share panel's QR code comes from the worker: the same SVG as the encoder's, and
    /// the encoder's refusal for a link too long for any QR version, through JSON both ways.
    #[test]
    fn qr_codes_cross_as_the_encoder_draws_them() {
        let link = "http://127.0.0.1:8080/#m1.abc";
        let text = Request {
            id: 7,
            op: Op::Qr { text: link.into() },
        }
        .to_json();
        let reply = respond(&text);
        assert_eq!(reply.id, Some(7));
        assert_eq!(
            reply.outcome,
            Outcome::Qr(crate::codec::qr::qr_svg(link).unwrap())
        );
        let long = "x".repeat(5000);
        let Outcome::Failed(ToolsError::Refused(why)) = run(&Op::Qr { text: long.clone() }) else {
            panic!("a 5,000-character link made a QR code");
        };
        assert_eq!(
            why,
            crate::codec::qr::qr_svg(&long).unwrap_err().to_string()
        );
    }

    #[test]
    fn warnings_cross_with_their_places() {
        let src = "model = Sequential()\nmodel.add(Dense(4, input_shape=(3,)))\nmodel.add(Dense(2 +* 3))\n";
        let direct = import_text(Some("x.py"), src).unwrap();
        assert!(!direct.1.is_empty(), "the fixture warns");
        assert_eq!(import(src), Ok(direct.clone()));
        let answer = run(&Op::Import { code: src.into() });
        let Outcome::Imported { warnings, .. } = &answer else {
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
                assert_eq!(keras.into_code(), Ok(to_keras_code(&m)));
                let pytorch = ask(Op::PyTorchCode { model: wire });
                assert_eq!(pytorch.into_code(), Ok(to_pytorch_code(&m)));
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
            Outcome::Failed(ToolsError::Refused(direct.clone()))
        );
        assert_eq!(refused.into_code().unwrap_err().to_string(), direct);
        // A model that is not one.
        let bad = WireModel {
            model: json!({"format": "nope"}),
            unreadable: Vec::new(),
        };
        assert!(matches!(
            ask(Op::KerasCode { model: bad }),
            Outcome::Failed(ToolsError::BadModel(_))
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
            Outcome::Failed(ToolsError::BadModel(_))
        ));
        // Errors cross as themselves.
        for e in [
            ToolsError::Refused("no".into()),
            ToolsError::BadModel("m".into()),
            ToolsError::Malformed("x".into()),
        ] {
            let r = Reply {
                id: Some(3),
                outcome: Outcome::Failed(e),
            };
            assert_eq!(Reply::from_json(&r.to_json()), Ok(r));
        }
    }

    #[test]
    fn malformed_requests_get_error_replies() {
        let malformed = |text: &str| {
            let reply = Reply::from_json(&handle(text)).unwrap();
            assert!(
                matches!(reply.outcome, Outcome::Failed(ToolsError::Malformed(_))),
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
                matches!(Reply::from_json(text), Err(ToolsError::BadReply(_))),
                "{text}"
            );
        }
        let code = Outcome::Code("x".into());
        assert!(matches!(
            code.clone().into_imported(),
            Err(ToolsError::BadReply(_))
        ));
        assert_eq!(code.into_code(), Ok("x".into()));
        let imported = Outcome::Imported {
            model: WireModel::of(&Model::seed()),
            warnings: Vec::new(),
        };
        assert!(matches!(
            imported.clone().into_code(),
            Err(ToolsError::BadReply(_))
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
