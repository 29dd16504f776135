//! Keras Python code import: **parse, never execute**.
//!
//! A small tokenizer and recursive-descent parser for the subset of Python people paste when
//! they share a Keras model (`Sequential()` + `model.add(...)`, the list form, the functional
//! `keras.Input` → `layer(x)` → `keras.Model(...)` chain), and an evaluator that only knows
//! literals, simple variables and arithmetic. Layers become Keras config JSON and are built
//! with [`LayerSpec::from_config`]. Anything it cannot read becomes a warning with a line and
//! column, and, inside a model, an error layer at that position so the rest still shows.
//!
//! Keras 3 behaviour is followed where it matters (see `KERAS_RULES.md`): Keras 1/2 arguments
//! (`init=`, `border_mode=`, `Dense(output_dim=)`, `Dropout(p=)`, ...) make the layer an error
//! layer; `Conv2D(32, 3, 3)` reads the third argument as strides; `Embedding(input_length=)`
//! is ignored by Keras 3, so it is only used as the input length when nothing else gives one.

use std::collections::HashMap;
use std::fmt;

use serde_json::{Map, Number, Value};

use super::CodecError;
use crate::engine::layers::args::canonical_class;
use crate::engine::layers::Unknown;
use crate::engine::{Layer, LayerSpec, Model};

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

// ---------------------------------------------------------------------------------------
// Keras knowledge shared with the exporter
// ---------------------------------------------------------------------------------------

/// Keras 3 constructor parameters that may be given positionally, in order.
pub fn positional_params(class: &str) -> &'static [&'static str] {
    match canonical_class(class) {
        "Dense" => &["units", "activation", "use_bias"],
        "Conv1D" | "Conv2D" => &[
            "filters",
            "kernel_size",
            "strides",
            "padding",
            "data_format",
            "dilation_rate",
            "groups",
            "activation",
            "use_bias",
        ],
        "Conv1DTranspose" | "Conv2DTranspose" => &[
            "filters",
            "kernel_size",
            "strides",
            "padding",
            "output_padding",
            "data_format",
            "dilation_rate",
            "activation",
            "use_bias",
        ],
        "DepthwiseConv2D" => &[
            "kernel_size",
            "strides",
            "padding",
            "depth_multiplier",
            "data_format",
            "dilation_rate",
            "activation",
            "use_bias",
        ],
        "SeparableConv2D" => &[
            "filters",
            "kernel_size",
            "strides",
            "padding",
            "data_format",
            "dilation_rate",
            "depth_multiplier",
            "activation",
            "use_bias",
        ],
        "MaxPooling1D" | "MaxPooling2D" | "AveragePooling1D" | "AveragePooling2D" => {
            &["pool_size", "strides", "padding", "data_format"]
        }
        "GlobalAveragePooling1D"
        | "GlobalAveragePooling2D"
        | "GlobalMaxPooling1D"
        | "GlobalMaxPooling2D" => &["data_format", "keepdims"],
        "BatchNormalization" => &["axis", "momentum", "epsilon", "center", "scale"],
        "LayerNormalization" => &["axis", "epsilon", "center", "scale", "rms_scaling"],
        "UnitNormalization" => &["axis"],
        "GroupNormalization" => &[
            "groups",
            "axis",
            "epsilon",
            "center",
            "scale",
            "beta_initializer",
            "gamma_initializer",
            "beta_regularizer",
            "gamma_regularizer",
            "beta_constraint",
            "gamma_constraint",
        ],
        "SimpleRNN" => &["units", "activation", "use_bias"],
        "LSTM" | "GRU" => &["units", "activation", "recurrent_activation", "use_bias"],
        "Embedding" => &["input_dim", "output_dim"],
        "Rescaling" => &["scale", "offset"],
        "Flatten" => &["data_format"],
        "Reshape" => &["target_shape"],
        "Permute" => &["dims"],
        "RepeatVector" => &["n"],
        "ZeroPadding1D" => &["padding"],
        "ZeroPadding2D" => &["padding", "data_format"],
        "Cropping1D" => &["cropping"],
        "Cropping2D" => &["cropping", "data_format"],
        "UpSampling1D" => &["size"],
        "UpSampling2D" => &["size", "data_format", "interpolation"],
        "Dropout" | "AlphaDropout" => &["rate", "noise_shape", "seed"],
        "SpatialDropout1D" | "SpatialDropout2D" | "GaussianDropout" => &["rate", "seed"],
        "GaussianNoise" => &["stddev", "seed"],
        "Activation" => &["activation"],
        "ReLU" => &["max_value", "negative_slope", "threshold"],
        "LeakyReLU" => &["negative_slope"],
        "PReLU" => &[
            "alpha_initializer",
            "alpha_regularizer",
            "alpha_constraint",
            "shared_axes",
        ],
        "ELU" => &["alpha"],
        "Softmax" => &["axis"],
        "InputLayer" => &["shape", "batch_size", "dtype", "sparse", "batch_shape"],
        _ => &[],
    }
}

/// Arguments Keras 3 requires (a call without them raises `TypeError`).
pub fn required_args(class: &str) -> &'static [&'static str] {
    match canonical_class(class) {
        "Dense" | "SimpleRNN" | "LSTM" | "GRU" => &["units"],
        "Conv1D" | "Conv2D" | "Conv1DTranspose" | "Conv2DTranspose" | "SeparableConv2D" => {
            &["filters", "kernel_size"]
        }
        "DepthwiseConv2D" => &["kernel_size"],
        "Embedding" => &["input_dim", "output_dim"],
        "Rescaling" => &["scale"],
        "Reshape" => &["target_shape"],
        "Permute" => &["dims"],
        "RepeatVector" => &["n"],
        "Dropout" | "SpatialDropout1D" | "SpatialDropout2D" | "GaussianDropout"
        | "AlphaDropout" => &["rate"],
        "GaussianNoise" => &["stddev"],
        "Activation" => &["activation"],
        _ => &[],
    }
}

/// The config Keras 3 uses when an argument is not given. Flatland's own defaults are UI
/// defaults for required arguments (e.g. `Dense.units = 16`) and, for transposed
/// convolutions, differ from Keras (`strides=1, padding="valid"` in Keras).
pub fn keras_default_config(class: &str) -> Option<Value> {
    let canonical = canonical_class(class);
    let mut cfg = LayerSpec::default_of(canonical)?.to_config();
    if let Value::Object(o) = &mut cfg {
        match canonical {
            "Conv1DTranspose" => {
                o.insert("strides".into(), Value::Array(vec![Value::from(1)]));
                o.insert("padding".into(), Value::from("valid"));
            }
            "Conv2DTranspose" => {
                o.insert(
                    "strides".into(),
                    Value::Array(vec![Value::from(1), Value::from(1)]),
                );
                o.insert("padding".into(), Value::from("valid"));
            }
            _ => {}
        }
    }
    Some(cfg)
}

/// Keras 1/2 arguments that Keras 3 refuses, with what to write instead.
fn removed_arg(class: &str, arg: &str) -> Option<&'static str> {
    Some(match (class, arg) {
        (_, "init") => "use `kernel_initializer=`",
        (_, "border_mode") => "use `padding=`",
        (_, "dim_ordering") => "use `data_format=` (channels_last is the default)",
        ("Dense", "output_dim") => "use `units=`",
        ("SimpleRNN" | "LSTM" | "GRU", "output_dim") => "use `units=`",
        (
            "Dropout" | "SpatialDropout1D" | "SpatialDropout2D" | "GaussianDropout"
            | "AlphaDropout",
            "p",
        ) => "use `rate=`",
        (_, "nb_filter") => "use `filters=`",
        (_, "nb_row" | "nb_col") => "use `kernel_size=`",
        (_, "subsample" | "subsample_length") => "use `strides=`",
        (_, "filter_length") => "use `kernel_size=`",
        (_, "pool_length") => "use `pool_size=`",
        (_, "W_regularizer") => "use `kernel_regularizer=`",
        (_, "b_regularizer") => "use `bias_regularizer=`",
        (_, "W_constraint") => "use `kernel_constraint=`",
        (_, "b_constraint") => "use `bias_constraint=`",
        (_, "inner_init") => "use `recurrent_initializer=`",
        (_, "inner_activation") => "use `recurrent_activation=`",
        (_, "forget_bias_init") => "use `unit_forget_bias=`",
        (_, "dropout_W") => "use `dropout=`",
        (_, "dropout_U") => "use `recurrent_dropout=`",
        (_, "consume_less") => "remove it",
        ("BatchNormalization", "mode") => "remove it",
        ("Dense", "bias") => "use `use_bias=`",
        (c, "input_length") if c != "Embedding" => {
            "remove it (give the input shape with `keras.Input`)"
        }
        _ => return None,
    })
}

/// Renamed arguments Keras 3 still accepts.
fn arg_alias(class: &str, arg: &str) -> Option<&'static str> {
    match (class, arg) {
        ("LeakyReLU", "alpha") => Some("negative_slope"),
        _ => None,
    }
}

fn is_catalogue(class: &str) -> bool {
    LayerSpec::default_of(canonical_class(class)).is_some()
}

/// Snake-case prefix for a class name outside the catalogue (`Bidirectional` → `bidirectional`).
fn snake(class: &str) -> String {
    let mut out = String::new();
    for (i, ch) in class.chars().enumerate() {
        if ch.is_uppercase() {
            if i > 0 {
                out.push('_');
            }
            out.extend(ch.to_lowercase());
        } else {
            out.push(ch);
        }
    }
    if out.is_empty() {
        "layer".into()
    } else {
        out
    }
}

fn prefix_of(class: &str) -> String {
    LayerSpec::default_of(canonical_class(class))
        .map_or_else(|| snake(class), |s| s.prefix().to_string())
}

// ---------------------------------------------------------------------------------------
// Tokenizer
// ---------------------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Name(String),
    Int(i64),
    Float(f64),
    Str(String),
    Op(&'static str),
    Error(String),
}

#[derive(Debug, Clone, PartialEq)]
struct Token {
    tok: Tok,
    line: usize,
    col: usize,
}

#[derive(Debug, Clone)]
struct LogicalLine {
    indent: usize,
    tokens: Vec<Token>,
}

const OPS: &[&str] = &[
    "**=", "//=", ">>=", "<<=", "...", "**", "//", "==", "!=", "<=", ">=", "->", "+=", "-=", "*=",
    "/=", "%=", "&=", "|=", "^=", "@=", ":=", "<<", ">>", "(", ")", "[", "]", "{", "}", ",", ":",
    ".", ";", "=", "+", "-", "*", "/", "%", "@", "<", ">", "&", "|", "^", "~", "!",
];

/// Longest input accepted, in characters (a pasted script is far smaller).
const MAX_SOURCE: usize = 1 << 20;

fn tokenize(src: &str) -> Vec<LogicalLine> {
    let chars: Vec<char> = src.chars().take(MAX_SOURCE).collect();
    let n = chars.len();
    let mut lines = Vec::new();
    let mut cur: Vec<Token> = Vec::new();
    let mut cur_indent = 0usize;
    let mut depth = 0usize;
    let (mut i, mut line, mut col) = (0usize, 1usize, 1usize);
    let mut at_line_start = true;
    let mut indent_width = 0usize;

    let flush = |cur: &mut Vec<Token>, lines: &mut Vec<LogicalLine>, indent: usize| {
        if !cur.is_empty() {
            lines.push(LogicalLine {
                indent,
                tokens: std::mem::take(cur),
            });
        }
    };

    while i < n {
        let c = chars[i];
        if c == '\n' || c == '\r' {
            if c == '\r' && chars.get(i + 1) == Some(&'\n') {
                i += 1;
            }
            i += 1;
            line += 1;
            col = 1;
            if depth == 0 {
                flush(&mut cur, &mut lines, cur_indent);
                at_line_start = true;
                indent_width = 0;
            }
            continue;
        }
        if c == ' ' || c == '\t' || c == '\x0c' {
            if at_line_start {
                indent_width = if c == '\t' {
                    (indent_width / 8 + 1) * 8
                } else {
                    indent_width + 1
                };
            }
            i += 1;
            col += 1;
            continue;
        }
        if c == '#' {
            while i < n && chars[i] != '\n' && chars[i] != '\r' {
                i += 1;
                col += 1;
            }
            continue;
        }
        if c == '\\' {
            // Explicit line joining.
            let mut j = i + 1;
            while j < n && (chars[j] == ' ' || chars[j] == '\t') {
                j += 1;
            }
            if j >= n || chars[j] == '\n' || chars[j] == '\r' {
                if j < n && chars[j] == '\r' && chars.get(j + 1) == Some(&'\n') {
                    j += 1;
                }
                i = j + 1;
                line += 1;
                col = 1;
                continue;
            }
            cur.push(Token {
                tok: Tok::Error("unexpected backslash".into()),
                line,
                col,
            });
            i += 1;
            col += 1;
            continue;
        }
        if cur.is_empty() && depth == 0 {
            cur_indent = if at_line_start {
                indent_width
            } else {
                cur_indent
            };
        }
        at_line_start = false;
        let (tline, tcol) = (line, col);

        // String literal (with an optional prefix such as r, b, f, rb).
        let mut p = i;
        while p < n
            && p - i < 2
            && matches!(chars[p], 'r' | 'R' | 'b' | 'B' | 'u' | 'U' | 'f' | 'F')
        {
            p += 1;
        }
        if p < n && (chars[p] == '\'' || chars[p] == '"') {
            let raw = chars[i..p].iter().any(|c| matches!(c, 'r' | 'R'));
            let q = chars[p];
            let triple = p + 2 < n && chars[p + 1] == q && chars[p + 2] == q;
            let mut j = p + if triple { 3 } else { 1 };
            let mut s = String::new();
            let mut closed = false;
            let (mut l2, mut c2) = (line, col + (j - i));
            while j < n {
                let ch = chars[j];
                if triple {
                    if ch == q && j + 2 < n && chars[j + 1] == q && chars[j + 2] == q {
                        j += 3;
                        c2 += 3;
                        closed = true;
                        break;
                    }
                } else if ch == q {
                    j += 1;
                    c2 += 1;
                    closed = true;
                    break;
                } else if ch == '\n' || ch == '\r' {
                    break;
                }
                if ch == '\\' && j + 1 < n {
                    let nx = chars[j + 1];
                    if raw {
                        s.push(ch);
                        s.push(nx);
                    } else {
                        match nx {
                            'n' => s.push('\n'),
                            't' => s.push('\t'),
                            'r' => s.push('\r'),
                            '0' => s.push('\0'),
                            '\n' => {}
                            other => s.push(other),
                        }
                    }
                    if nx == '\n' {
                        l2 += 1;
                        c2 = 1;
                    } else {
                        c2 += 2;
                    }
                    j += 2;
                    continue;
                }
                if ch == '\n' {
                    l2 += 1;
                    c2 = 1;
                } else {
                    c2 += 1;
                }
                s.push(ch);
                j += 1;
            }
            if closed {
                cur.push(Token {
                    tok: Tok::Str(s),
                    line: tline,
                    col: tcol,
                });
            } else {
                cur.push(Token {
                    tok: Tok::Error("unterminated string".into()),
                    line: tline,
                    col: tcol,
                });
            }
            i = j;
            line = l2;
            col = c2;
            continue;
        }

        if c.is_alphabetic() || c == '_' {
            let mut j = i;
            while j < n && (chars[j].is_alphanumeric() || chars[j] == '_') {
                j += 1;
            }
            let word: String = chars[i..j].iter().collect();
            col += j - i;
            i = j;
            cur.push(Token {
                tok: Tok::Name(word),
                line: tline,
                col: tcol,
            });
            continue;
        }

        if c.is_ascii_digit() || (c == '.' && chars.get(i + 1).is_some_and(char::is_ascii_digit)) {
            let mut j = i;
            let hex =
                c == '0' && matches!(chars.get(i + 1), Some('x' | 'X' | 'o' | 'O' | 'b' | 'B'));
            while j < n {
                let d = chars[j];
                let exp_sign =
                    !hex && (d == '+' || d == '-') && j > i && matches!(chars[j - 1], 'e' | 'E');
                if d.is_ascii_alphanumeric() || d == '_' || d == '.' || exp_sign {
                    j += 1;
                } else {
                    break;
                }
            }
            let text: String = chars[i..j].iter().filter(|&&d| d != '_').collect();
            col += j - i;
            i = j;
            cur.push(Token {
                tok: number(&text),
                line: tline,
                col: tcol,
            });
            continue;
        }

        let rest: String = chars[i..n.min(i + 3)].iter().collect();
        if let Some(op) = OPS.iter().find(|op| rest.starts_with(**op)) {
            match *op {
                "(" | "[" | "{" => depth += 1,
                ")" | "]" | "}" => depth = depth.saturating_sub(1),
                _ => {}
            }
            let len = op.chars().count();
            i += len;
            col += len;
            if *op == ";" && depth == 0 {
                flush(&mut cur, &mut lines, cur_indent);
                continue;
            }
            cur.push(Token {
                tok: Tok::Op(op),
                line: tline,
                col: tcol,
            });
            continue;
        }
        cur.push(Token {
            tok: Tok::Error(format!("unexpected character `{c}`")),
            line: tline,
            col: tcol,
        });
        i += 1;
        col += 1;
    }
    flush(&mut cur, &mut lines, cur_indent);
    lines
}

fn number(text: &str) -> Tok {
    let lower = text.to_ascii_lowercase();
    let radix = if lower.starts_with("0x") {
        16
    } else if lower.starts_with("0o") {
        8
    } else if lower.starts_with("0b") {
        2
    } else {
        10
    };
    if radix != 10 {
        return lower
            .get(2..)
            .and_then(|d| i64::from_str_radix(d, radix).ok())
            .map_or_else(|| Tok::Error(format!("bad number `{text}`")), Tok::Int);
    }
    if lower.ends_with('j') {
        return Tok::Error(format!("complex number `{text}`"));
    }
    if lower.contains(['.', 'e']) {
        return lower
            .parse::<f64>()
            .map_or_else(|_| Tok::Error(format!("bad number `{text}`")), Tok::Float);
    }
    match lower.parse::<i64>() {
        Ok(v) => Tok::Int(v),
        Err(_) => lower
            .parse::<f64>()
            .map_or_else(|_| Tok::Error(format!("bad number `{text}`")), Tok::Float),
    }
}

// ---------------------------------------------------------------------------------------
// Parser
// ---------------------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq)]
struct Expr {
    kind: EK,
    line: usize,
    col: usize,
}

#[derive(Debug, Clone, PartialEq)]
enum EK {
    Name(String),
    Int(i64),
    Float(f64),
    Str(String),
    Bool(bool),
    NoneLit,
    Tuple(Vec<Expr>),
    List(Vec<Expr>),
    Dict(Vec<(Expr, Expr)>),
    Attr(Box<Expr>, String),
    Call(Box<Expr>, Vec<Arg>),
    Sub(Box<Expr>, Box<Expr>),
    Slice(Option<Box<Expr>>, Option<Box<Expr>>, Option<Box<Expr>>),
    Unary(&'static str, Box<Expr>),
    Bin(&'static str, Box<Expr>, Box<Expr>),
    IfExp(Box<Expr>, Box<Expr>, Box<Expr>),
    /// Lambda, comprehension, starred, syntax error inside a list...: not evaluated.
    Opaque(String),
}

#[derive(Debug, Clone, PartialEq)]
enum Arg {
    Pos(Expr),
    Kw(String, Expr, usize, usize),
    Star(Expr),
}

#[derive(Debug, Clone, PartialEq)]
struct SyntaxErr {
    line: usize,
    col: usize,
    msg: String,
}

type PResult<T> = Result<T, SyntaxErr>;

/// Deepest nesting of brackets/unary operators the parser follows.
const MAX_DEPTH: usize = 60;

const KEYWORDS: &[&str] = &[
    "and", "or", "not", "in", "is", "if", "else", "elif", "for", "while", "lambda", "def", "class",
    "return", "import", "from", "as", "with", "try", "except", "finally", "pass", "break",
    "continue", "global", "nonlocal", "del", "assert", "raise", "yield", "await", "async",
];

struct Parser<'a> {
    toks: &'a [Token],
    pos: usize,
    depth: usize,
    /// Errors recovered from inside brackets (the element became `Opaque`).
    recovered: Vec<SyntaxErr>,
}

impl<'a> Parser<'a> {
    fn new(toks: &'a [Token]) -> Self {
        Parser {
            toks,
            pos: 0,
            depth: 0,
            recovered: Vec::new(),
        }
    }

    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos).map(|t| &t.tok)
    }
    fn peek_at(&self, k: usize) -> Option<&Tok> {
        self.toks.get(self.pos + k).map(|t| &t.tok)
    }
    fn here(&self) -> (usize, usize) {
        match self.toks.get(self.pos).or_else(|| self.toks.last()) {
            Some(t) => (t.line, t.col),
            None => (1, 1),
        }
    }
    fn err<T>(&self, msg: impl Into<String>) -> PResult<T> {
        let (line, col) = self.here();
        Err(SyntaxErr {
            line,
            col,
            msg: msg.into(),
        })
    }
    fn is_op(&self, op: &str) -> bool {
        matches!(self.peek(), Some(Tok::Op(o)) if *o == op)
    }
    fn is_kw(&self, kw: &str) -> bool {
        matches!(self.peek(), Some(Tok::Name(n)) if n == kw)
    }
    fn eat_op(&mut self, op: &str) -> bool {
        if self.is_op(op) {
            self.pos += 1;
            true
        } else {
            false
        }
    }
    fn eat_kw(&mut self, kw: &str) -> bool {
        if self.is_kw(kw) {
            self.pos += 1;
            true
        } else {
            false
        }
    }
    fn expect_op(&mut self, op: &str) -> PResult<()> {
        if self.eat_op(op) {
            Ok(())
        } else {
            let found = self
                .peek()
                .map_or_else(|| "the end of the line".to_string(), describe);
            self.err(format!("expected `{op}` but found {found}"))
        }
    }
    fn at_end(&self) -> bool {
        self.pos >= self.toks.len()
    }

    fn enter(&mut self) -> PResult<()> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return self.err("expression nested too deeply");
        }
        Ok(())
    }

    /// Skip to the token after the bracket matching the one just consumed.
    fn skip_to_close(&mut self) {
        let mut d = 1usize;
        while let Some(t) = self.peek() {
            match t {
                Tok::Op("(" | "[" | "{") => d += 1,
                Tok::Op(")" | "]" | "}") => {
                    d -= 1;
                    if d == 0 {
                        self.pos += 1;
                        return;
                    }
                }
                _ => {}
            }
            self.pos += 1;
        }
    }

    /// Skip to the next `,` or closing bracket at this bracket level (error recovery).
    fn skip_element(&mut self) {
        let mut d = 0usize;
        while let Some(t) = self.peek() {
            match t {
                Tok::Op("(" | "[" | "{") => d += 1,
                Tok::Op(")" | "]" | "}") => {
                    if d == 0 {
                        return;
                    }
                    d -= 1;
                }
                Tok::Op(",") if d == 0 => return,
                _ => {}
            }
            self.pos += 1;
        }
    }

    fn expr(&mut self) -> PResult<Expr> {
        self.enter()?;
        let r = self.expr_inner();
        self.depth -= 1;
        r
    }

    fn expr_inner(&mut self) -> PResult<Expr> {
        let (line, col) = self.here();
        if self.eat_kw("lambda") {
            while !self.at_end() && !self.is_op(":") {
                self.pos += 1;
            }
            self.expect_op(":")?;
            self.expr()?;
            return Ok(Expr {
                kind: EK::Opaque("lambda".into()),
                line,
                col,
            });
        }
        if self.eat_kw("yield") || self.eat_kw("await") {
            let _ = self.expr()?;
            return Ok(Expr {
                kind: EK::Opaque("yield".into()),
                line,
                col,
            });
        }
        let body = self.or_test()?;
        if self.eat_op(":=") {
            return self.expr();
        }
        if self.is_kw("if") {
            // Ternary, unless this is a comprehension's `if`.
            let save = self.pos;
            self.pos += 1;
            let cond = self.or_test()?;
            if self.eat_kw("else") {
                let other = self.expr()?;
                return Ok(Expr {
                    kind: EK::IfExp(Box::new(cond), Box::new(body), Box::new(other)),
                    line,
                    col,
                });
            }
            self.pos = save;
        }
        Ok(body)
    }

    fn or_test(&mut self) -> PResult<Expr> {
        let base = self.depth;
        let r = self.or_test_chain();
        self.depth = base;
        r
    }

    fn or_test_chain(&mut self) -> PResult<Expr> {
        let mut left = self.and_test()?;
        while self.is_kw("or") {
            self.pos += 1;
            self.enter()?;
            let right = self.and_test()?;
            left = bin("or", left, right);
        }
        Ok(left)
    }

    fn and_test(&mut self) -> PResult<Expr> {
        let base = self.depth;
        let r = self.and_test_chain();
        self.depth = base;
        r
    }

    fn and_test_chain(&mut self) -> PResult<Expr> {
        let mut left = self.not_test()?;
        while self.is_kw("and") {
            self.pos += 1;
            self.enter()?;
            let right = self.not_test()?;
            left = bin("and", left, right);
        }
        Ok(left)
    }

    fn not_test(&mut self) -> PResult<Expr> {
        let (line, col) = self.here();
        if self.eat_kw("not") {
            self.enter()?;
            let e = self.not_test();
            self.depth -= 1;
            return Ok(Expr {
                kind: EK::Unary("not", Box::new(e?)),
                line,
                col,
            });
        }
        self.comparison()
    }

    fn comparison(&mut self) -> PResult<Expr> {
        let base = self.depth;
        let r = self.comparison_chain();
        self.depth = base;
        r
    }

    fn comparison_chain(&mut self) -> PResult<Expr> {
        let mut left = self.bitor()?;
        loop {
            let op: &'static str = match self.peek() {
                Some(Tok::Op(o @ ("==" | "!=" | "<" | ">" | "<=" | ">="))) => o,
                Some(Tok::Name(n)) if n == "in" => "in",
                Some(Tok::Name(n)) if n == "is" => "is",
                Some(Tok::Name(n))
                    if n == "not" && matches!(self.peek_at(1), Some(Tok::Name(m)) if m == "in") =>
                {
                    self.pos += 1;
                    "not in"
                }
                _ => return Ok(left),
            };
            self.pos += 1;
            let op = if op == "is" && self.eat_kw("not") {
                "is not"
            } else {
                op
            };
            self.enter()?;
            let right = self.bitor()?;
            left = bin(op, left, right);
        }
    }

    fn bitor(&mut self) -> PResult<Expr> {
        let base = self.depth;
        let r = self.bitor_chain();
        self.depth = base;
        r
    }

    fn bitor_chain(&mut self) -> PResult<Expr> {
        let mut left = self.arith()?;
        loop {
            let op: &'static str = match self.peek() {
                Some(Tok::Op(o @ ("|" | "^" | "&" | "<<" | ">>"))) => o,
                _ => return Ok(left),
            };
            self.pos += 1;
            self.enter()?;
            let right = self.arith()?;
            left = bin(op, left, right);
        }
    }

    fn arith(&mut self) -> PResult<Expr> {
        let base = self.depth;
        let r = self.arith_chain();
        self.depth = base;
        r
    }

    fn arith_chain(&mut self) -> PResult<Expr> {
        let mut left = self.term()?;
        loop {
            let op: &'static str = match self.peek() {
                Some(Tok::Op(o @ ("+" | "-"))) => o,
                _ => return Ok(left),
            };
            self.pos += 1;
            self.enter()?;
            let right = self.term()?;
            left = bin(op, left, right);
        }
    }

    fn term(&mut self) -> PResult<Expr> {
        let base = self.depth;
        let r = self.term_chain();
        self.depth = base;
        r
    }

    fn term_chain(&mut self) -> PResult<Expr> {
        let mut left = self.factor()?;
        loop {
            let op: &'static str = match self.peek() {
                Some(Tok::Op(o @ ("*" | "/" | "//" | "%" | "@"))) => o,
                _ => return Ok(left),
            };
            self.pos += 1;
            self.enter()?;
            let right = self.factor()?;
            left = bin(op, left, right);
        }
    }

    fn factor(&mut self) -> PResult<Expr> {
        let (line, col) = self.here();
        let op: Option<&'static str> = match self.peek() {
            Some(Tok::Op(o @ ("-" | "+" | "~"))) => Some(o),
            _ => None,
        };
        if let Some(op) = op {
            self.pos += 1;
            self.enter()?;
            let e = self.factor();
            self.depth -= 1;
            return Ok(Expr {
                kind: EK::Unary(op, Box::new(e?)),
                line,
                col,
            });
        }
        self.power()
    }

    fn power(&mut self) -> PResult<Expr> {
        let base = self.primary()?;
        if self.eat_op("**") {
            self.enter()?;
            let e = self.factor();
            self.depth -= 1;
            return Ok(bin("**", base, e?));
        }
        Ok(base)
    }

    fn primary(&mut self) -> PResult<Expr> {
        let base = self.depth;
        let r = self.primary_chain();
        self.depth = base;
        r
    }

    /// An atom and its trailers; each trailer nests one level deeper.
    fn primary_chain(&mut self) -> PResult<Expr> {
        let mut e = self.atom()?;
        loop {
            if self.eat_op(".") {
                self.enter()?;
                match self.peek().cloned() {
                    Some(Tok::Name(n)) => {
                        self.pos += 1;
                        let (line, col) = (e.line, e.col);
                        e = Expr {
                            kind: EK::Attr(Box::new(e), n),
                            line,
                            col,
                        };
                    }
                    _ => return self.err("expected a name after `.`"),
                }
            } else if self.eat_op("(") {
                self.enter()?;
                let args = self.call_args();
                let (line, col) = (e.line, e.col);
                e = Expr {
                    kind: EK::Call(Box::new(e), args?),
                    line,
                    col,
                };
            } else if self.eat_op("[") {
                self.enter()?;
                let idx = self.subscript();
                let (line, col) = (e.line, e.col);
                e = Expr {
                    kind: EK::Sub(Box::new(e), Box::new(idx?)),
                    line,
                    col,
                };
            } else {
                return Ok(e);
            }
        }
    }

    fn subscript(&mut self) -> PResult<Expr> {
        let (line, col) = self.here();
        let mut items = Vec::new();
        loop {
            if self.is_op("]") {
                break;
            }
            items.push(self.slice_item()?);
            if !self.eat_op(",") {
                break;
            }
        }
        self.expect_op("]")?;
        Ok(if items.len() == 1 {
            items.pop().unwrap_or(Expr {
                kind: EK::NoneLit,
                line,
                col,
            })
        } else {
            Expr {
                kind: EK::Tuple(items),
                line,
                col,
            }
        })
    }

    fn slice_item(&mut self) -> PResult<Expr> {
        let (line, col) = self.here();
        let stop_here = |p: &Self| p.is_op(":") || p.is_op("]") || p.is_op(",");
        let lo = if stop_here(self) {
            None
        } else {
            Some(Box::new(self.expr()?))
        };
        if !self.eat_op(":") {
            return lo
                .map(|b| *b)
                .map_or_else(|| self.err("empty subscript"), Ok);
        }
        let hi = if stop_here(self) {
            None
        } else {
            Some(Box::new(self.expr()?))
        };
        let step = if self.eat_op(":") && !stop_here(self) {
            Some(Box::new(self.expr()?))
        } else {
            None
        };
        Ok(Expr {
            kind: EK::Slice(lo, hi, step),
            line,
            col,
        })
    }

    fn call_args(&mut self) -> PResult<Vec<Arg>> {
        let mut args = Vec::new();
        loop {
            if self.eat_op(")") {
                return Ok(args);
            }
            if self.at_end() {
                return self.err("missing `)`");
            }
            let (start, saved_depth) = (self.pos, self.depth);
            match self.call_arg() {
                Ok(a) => args.push(a),
                Err(e) => {
                    self.pos = start;
                    self.depth = saved_depth;
                    self.skip_element();
                    args.push(Arg::Pos(Expr {
                        kind: EK::Opaque(format!("syntax error: {}", e.msg)),
                        line: e.line,
                        col: e.col,
                    }));
                    self.recovered.push(e);
                }
            }
            if self.is_kw("for") {
                // Generator argument: f(x for x in y).
                self.skip_to_close();
                return Ok(vec![Arg::Pos(Expr {
                    kind: EK::Opaque("generator".into()),
                    line: 0,
                    col: 0,
                })]);
            }
            if !self.eat_op(",") {
                self.expect_op(")")?;
                return Ok(args);
            }
        }
    }

    fn call_arg(&mut self) -> PResult<Arg> {
        if self.eat_op("*") || self.eat_op("**") {
            return Ok(Arg::Star(self.expr()?));
        }
        if let (Some(Tok::Name(n)), Some(Tok::Op("="))) = (self.peek().cloned(), self.peek_at(1)) {
            let (line, col) = self.here();
            self.pos += 2;
            let v = self.expr()?;
            return Ok(Arg::Kw(n, v, line, col));
        }
        Ok(Arg::Pos(self.expr()?))
    }

    /// Elements of a list / tuple / set up to `close`, with error recovery per element.
    fn elements(&mut self, close: &str) -> PResult<(Vec<Expr>, bool)> {
        let mut items = Vec::new();
        let mut trailing_comma = false;
        loop {
            if self.eat_op(close) {
                return Ok((items, trailing_comma));
            }
            if self.at_end() {
                return self.err(format!("missing `{close}`"));
            }
            let (start, saved_depth) = (self.pos, self.depth);
            let item = if self.eat_op("*") {
                self.expr().map(|e| Expr {
                    kind: EK::Opaque("starred".into()),
                    line: e.line,
                    col: e.col,
                })
            } else {
                self.expr()
            };
            match item {
                Ok(e) => items.push(e),
                Err(e) => {
                    self.pos = start;
                    self.depth = saved_depth;
                    self.skip_element();
                    items.push(Expr {
                        kind: EK::Opaque(format!("syntax error: {}", e.msg)),
                        line: e.line,
                        col: e.col,
                    });
                    self.recovered.push(e);
                }
            }
            if self.is_kw("for") {
                self.skip_to_close();
                return Ok((
                    vec![Expr {
                        kind: EK::Opaque("comprehension".into()),
                        line: 0,
                        col: 0,
                    }],
                    false,
                ));
            }
            trailing_comma = self.eat_op(",");
            if !trailing_comma {
                self.expect_op(close)?;
                return Ok((items, false));
            }
        }
    }

    fn atom(&mut self) -> PResult<Expr> {
        let (line, col) = self.here();
        let Some(tok) = self.peek().cloned() else {
            return self.err("unexpected end of the line");
        };
        let mk = |kind| Ok(Expr { kind, line, col });
        match tok {
            Tok::Int(v) => {
                self.pos += 1;
                mk(EK::Int(v))
            }
            Tok::Float(v) => {
                self.pos += 1;
                mk(EK::Float(v))
            }
            Tok::Str(s) => {
                self.pos += 1;
                let mut s = s;
                while let Some(Tok::Str(more)) = self.peek() {
                    s.push_str(more);
                    self.pos += 1;
                }
                mk(EK::Str(s))
            }
            Tok::Error(m) => self.err(m),
            Tok::Name(n) => {
                match n.as_str() {
                    "True" => {
                        self.pos += 1;
                        return mk(EK::Bool(true));
                    }
                    "False" => {
                        self.pos += 1;
                        return mk(EK::Bool(false));
                    }
                    "None" => {
                        self.pos += 1;
                        return mk(EK::NoneLit);
                    }
                    k if KEYWORDS.contains(&k) => {
                        return self.err(format!("unexpected keyword `{k}`"))
                    }
                    _ => {}
                }
                self.pos += 1;
                mk(EK::Name(n))
            }
            Tok::Op("...") => {
                self.pos += 1;
                mk(EK::Opaque("...".into()))
            }
            Tok::Op("(") => {
                self.pos += 1;
                self.enter()?;
                let r = self.elements(")");
                self.depth -= 1;
                let (mut items, trailing) = r?;
                if items.len() == 1 && !trailing {
                    items.pop().map_or_else(|| self.err("empty"), Ok)
                } else {
                    mk(EK::Tuple(items))
                }
            }
            Tok::Op("[") => {
                self.pos += 1;
                self.enter()?;
                let r = self.elements("]");
                self.depth -= 1;
                mk(EK::List(r?.0))
            }
            Tok::Op("{") => {
                self.pos += 1;
                self.enter()?;
                let r = self.dict_or_set();
                self.depth -= 1;
                r.map(|kind| Expr { kind, line, col })
            }
            Tok::Op(o) => self.err(format!("unexpected `{o}`")),
        }
    }

    fn dict_or_set(&mut self) -> PResult<EK> {
        let mut pairs = Vec::new();
        let mut set = Vec::new();
        loop {
            if self.eat_op("}") {
                break;
            }
            if self.at_end() {
                return self.err("missing `}`");
            }
            if self.eat_op("**") {
                self.expr()?;
            } else {
                let k = self.expr()?;
                if self.eat_op(":") {
                    let v = self.expr()?;
                    pairs.push((k, v));
                } else {
                    set.push(k);
                }
            }
            if self.is_kw("for") {
                self.skip_to_close();
                return Ok(EK::Opaque("comprehension".into()));
            }
            if !self.eat_op(",") {
                self.expect_op("}")?;
                break;
            }
        }
        Ok(if set.is_empty() {
            EK::Dict(pairs)
        } else {
            EK::Opaque("set".into())
        })
    }
}

fn bin(op: &'static str, l: Expr, r: Expr) -> Expr {
    let (line, col) = (l.line, l.col);
    Expr {
        kind: EK::Bin(op, Box::new(l), Box::new(r)),
        line,
        col,
    }
}

fn describe(t: &Tok) -> String {
    match t {
        Tok::Name(n) => format!("`{n}`"),
        Tok::Int(v) => format!("`{v}`"),
        Tok::Float(v) => format!("`{v}`"),
        Tok::Str(_) => "a string".into(),
        Tok::Op(o) => format!("`{o}`"),
        Tok::Error(m) => m.clone(),
    }
}

/// Python-ish source text of an expression, for messages.
fn text(e: &Expr) -> String {
    fn list(items: &[Expr]) -> String {
        items.iter().map(text).collect::<Vec<_>>().join(", ")
    }
    match &e.kind {
        EK::Name(n) => n.clone(),
        EK::Int(v) => v.to_string(),
        EK::Float(v) => format!("{v:?}"),
        EK::Str(s) => format!("{s:?}"),
        EK::Bool(b) => if *b { "True" } else { "False" }.into(),
        EK::NoneLit => "None".into(),
        EK::Tuple(items) if items.len() == 1 => format!("({},)", list(items)),
        EK::Tuple(items) => format!("({})", list(items)),
        EK::List(items) => format!("[{}]", list(items)),
        EK::Dict(_) => "{...}".into(),
        EK::Attr(b, n) => format!("{}.{n}", text(b)),
        EK::Call(f, args) => {
            let a: Vec<String> = args
                .iter()
                .map(|a| match a {
                    Arg::Pos(e) => text(e),
                    Arg::Kw(k, e, _, _) => format!("{k}={}", text(e)),
                    Arg::Star(e) => format!("*{}", text(e)),
                })
                .collect();
            format!("{}({})", text(f), a.join(", "))
        }
        EK::Sub(b, i) => format!("{}[{}]", text(b), text(i)),
        EK::Slice(a, b, c) => {
            let t = |x: &Option<Box<Expr>>| x.as_ref().map(|e| text(e)).unwrap_or_default();
            if c.is_some() {
                format!("{}:{}:{}", t(a), t(b), t(c))
            } else {
                format!("{}:{}", t(a), t(b))
            }
        }
        EK::Unary(op, x) => {
            if *op == "not" {
                format!("not {}", text(x))
            } else {
                format!("{op}{}", text(x))
            }
        }
        EK::Bin(op, l, r) => format!("{} {op} {}", text(l), text(r)),
        EK::IfExp(c, a, b) => format!("{} if {} else {}", text(a), text(c), text(b)),
        EK::Opaque(s) => s.clone(),
    }
}

// ---------------------------------------------------------------------------------------
// Statements
// ---------------------------------------------------------------------------------------

#[derive(Debug, Clone)]
enum Head {
    For(Expr, Expr),
    If(Expr),
    Elif(Expr),
    Else,
    Def(Vec<(String, Option<Expr>)>),
    /// Body executed once (`with`, `try`).
    Run,
    /// Body skipped (`class`, `while`, `except`, `finally`).
    Skip,
}

#[derive(Debug, Clone)]
enum StmtKind {
    Expr(Expr),
    Assign(Vec<Expr>, Expr),
    AugAssign(Expr, &'static str, Expr),
    Header(Head, Option<Box<Stmt>>),
    Ignore,
    Bad(SyntaxErr),
}

#[derive(Debug, Clone)]
struct Stmt {
    indent: usize,
    kind: StmtKind,
    /// Recovered syntax errors inside brackets.
    recovered: Vec<SyntaxErr>,
    /// Whether the line mentions models or layers (decides if a syntax error is reported).
    relevant: bool,
    /// Line and column of the first token.
    pos: Option<(usize, usize)>,
}

fn relevant(tokens: &[Token]) -> bool {
    tokens.iter().any(|t| match &t.tok {
        Tok::Name(n) => {
            matches!(
                n.as_str(),
                "add" | "Sequential" | "Input" | "InputLayer" | "layers" | "Model" | "build"
            ) || is_catalogue(n)
        }
        _ => false,
    })
}

fn parse_stmt(tokens: &[Token], indent: usize) -> Stmt {
    let mut p = Parser::new(tokens);
    let kind = match stmt_kind(&mut p) {
        Ok(k) => k,
        Err(e) => StmtKind::Bad(e),
    };
    Stmt {
        indent,
        kind,
        recovered: p.recovered,
        relevant: relevant(tokens),
        pos: tokens.first().map(|t| (t.line, t.col)),
    }
}

fn stmt_kind(p: &mut Parser<'_>) -> PResult<StmtKind> {
    let Some(Tok::Name(first)) = p.peek().cloned() else {
        return simple_stmt(p);
    };
    match first.as_str() {
        "import" | "from" | "pass" | "break" | "continue" | "global" | "nonlocal" | "del"
        | "assert" | "raise" | "print" => Ok(StmtKind::Ignore),
        "return" => {
            p.pos += 1;
            if p.at_end() {
                Ok(StmtKind::Ignore)
            } else {
                Ok(StmtKind::Expr(p.expr()?))
            }
        }
        "async" => {
            p.pos += 1;
            stmt_kind(p)
        }
        "for" => {
            p.pos += 1;
            let target = target_list(p)?;
            if !p.eat_kw("in") {
                return p.err("expected `in`");
            }
            let iter = tuple_or_expr(p)?;
            header(p, Head::For(target, iter))
        }
        "if" | "elif" | "while" => {
            p.pos += 1;
            let cond = p.expr()?;
            let head = match first.as_str() {
                "if" => Head::If(cond),
                "elif" => Head::Elif(cond),
                _ => Head::Skip,
            };
            header(p, head)
        }
        "else" => {
            p.pos += 1;
            header(p, Head::Else)
        }
        "try" | "finally" => {
            p.pos += 1;
            header(
                p,
                if first == "try" {
                    Head::Run
                } else {
                    Head::Skip
                },
            )
        }
        "except" | "class" | "with" => {
            // Skip to the header's colon at bracket depth 0.
            let mut d = 0usize;
            while let Some(t) = p.peek() {
                match t {
                    Tok::Op("(" | "[" | "{") => d += 1,
                    Tok::Op(")" | "]" | "}") => d = d.saturating_sub(1),
                    Tok::Op(":") if d == 0 => break,
                    _ => {}
                }
                p.pos += 1;
            }
            header(
                p,
                if first == "with" {
                    Head::Run
                } else {
                    Head::Skip
                },
            )
        }
        "def" => {
            p.pos += 1;
            let mut params = Vec::new();
            if let Some(Tok::Name(_)) = p.peek() {
                p.pos += 1;
            }
            p.expect_op("(")?;
            loop {
                if p.eat_op(")") {
                    break;
                }
                if p.at_end() {
                    return p.err("missing `)`");
                }
                let _ = p.eat_op("*") || p.eat_op("**") || p.eat_op("/");
                if let Some(Tok::Name(n)) = p.peek().cloned() {
                    p.pos += 1;
                    if p.eat_op(":") {
                        p.expr()?;
                    }
                    let default = if p.eat_op("=") { Some(p.expr()?) } else { None };
                    params.push((n, default));
                }
                if !p.eat_op(",") {
                    p.expect_op(")")?;
                    break;
                }
            }
            if p.eat_op("->") {
                p.expr()?;
            }
            header(p, Head::Def(params))
        }
        _ => simple_stmt(p),
    }
}

fn header(p: &mut Parser<'_>, head: Head) -> PResult<StmtKind> {
    p.expect_op(":")?;
    let compound = matches!(p.peek(), Some(Tok::Name(n)) if matches!(n.as_str(), "for" | "if" | "elif" | "else" | "while" | "def" | "class" | "with" | "try" | "except" | "finally" | "async"));
    if compound {
        return p.err("a compound statement cannot follow `:` on the same line");
    }
    let inline = if p.at_end() {
        None
    } else {
        let rest = &p.toks[p.pos..];
        let indent = rest.first().map_or(0, |t| t.col);
        let s = parse_stmt(rest, indent);
        p.pos = p.toks.len();
        Some(Box::new(s))
    };
    Ok(StmtKind::Header(head, inline))
}

fn target_list(p: &mut Parser<'_>) -> PResult<Expr> {
    let (line, col) = p.here();
    let mut items = vec![p.bitor()?];
    while p.eat_op(",") {
        if p.is_kw("in") {
            break;
        }
        items.push(p.bitor()?);
    }
    Ok(if items.len() == 1 {
        items.pop().unwrap_or(Expr {
            kind: EK::NoneLit,
            line,
            col,
        })
    } else {
        Expr {
            kind: EK::Tuple(items),
            line,
            col,
        }
    })
}

/// `a, b` without brackets is a tuple.
fn tuple_or_expr(p: &mut Parser<'_>) -> PResult<Expr> {
    let (line, col) = p.here();
    let first = p.expr()?;
    if !p.is_op(",") {
        return Ok(first);
    }
    let mut items = vec![first];
    while p.eat_op(",") {
        if p.at_end() || p.is_op("=") || p.is_op(":") {
            break;
        }
        items.push(p.expr()?);
    }
    Ok(Expr {
        kind: EK::Tuple(items),
        line,
        col,
    })
}

fn simple_stmt(p: &mut Parser<'_>) -> PResult<StmtKind> {
    if p.eat_op("@") {
        return Ok(StmtKind::Ignore);
    }
    let mut parts = vec![tuple_or_expr(p)?];
    // Annotated assignment `x: int = 3`.
    if p.eat_op(":") {
        p.expr()?;
        if !p.eat_op("=") {
            return Ok(StmtKind::Ignore);
        }
        parts.push(tuple_or_expr(p)?);
    }
    let aug: Option<&'static str> = match p.peek() {
        Some(Tok::Op(
            o @ ("+=" | "-=" | "*=" | "/=" | "//=" | "%=" | "**=" | "&=" | "|=" | "^=" | "@="
            | ">>=" | "<<="),
        )) => Some(o),
        _ => None,
    };
    if let Some(op) = aug {
        p.pos += 1;
        let value = tuple_or_expr(p)?;
        if !p.at_end() {
            return p.err("unexpected text after the statement");
        }
        let target = parts.pop().map_or_else(|| p.err("missing target"), Ok)?;
        return Ok(StmtKind::AugAssign(target, op.trim_end_matches('='), value));
    }
    while p.eat_op("=") {
        parts.push(tuple_or_expr(p)?);
    }
    if !p.at_end() {
        let found = p.peek().map_or_else(String::new, describe);
        return p.err(format!("unexpected {found}"));
    }
    let value = parts.pop().map_or_else(|| p.err("empty statement"), Ok)?;
    if parts.is_empty() {
        Ok(StmtKind::Expr(value))
    } else {
        Ok(StmtKind::Assign(parts, value))
    }
}

// ---------------------------------------------------------------------------------------
// Evaluation
// ---------------------------------------------------------------------------------------

/// A Python value as far as the importer understands it.
#[derive(Debug, Clone, PartialEq)]
enum Val {
    None,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Tuple(Vec<Val>),
    List(Vec<Val>),
    Dict(Vec<(Val, Val)>),
    /// A dotted name that is not a known variable (module, function, class).
    Path(String),
    Layer(Box<LayerCall>),
    Tensor(usize),
    Model(usize),
    /// Something not evaluated; the text says what, for messages.
    Opaque(String),
}

/// A layer constructor call: class and arguments as written.
#[derive(Debug, Clone, PartialEq)]
struct LayerCall {
    /// Class name as written (last dotted segment).
    class: String,
    line: usize,
    col: usize,
    pos: Vec<(Val, usize, usize, String)>,
    kw: Vec<(String, Val, usize, usize, String)>,
}

/// A shape given somewhere, or why it could not be read.
#[derive(Debug, Clone, PartialEq)]
struct ShapeHint {
    shape: Result<Vec<usize>, String>,
    line: usize,
    col: usize,
}

#[derive(Debug, Clone, PartialEq)]
enum Entry {
    Layer(LayerCall),
    Input(ShapeHint),
    /// Something that is not a layer, kept as an error layer.
    Bad {
        line: usize,
        col: usize,
        msg: String,
    },
}

#[derive(Debug, Clone, PartialEq)]
struct SeqModel {
    name: String,
    entries: Vec<Entry>,
    build: Option<ShapeHint>,
    line: usize,
    col: usize,
    /// Functional model: the chain was already resolved from tensors.
    functional: bool,
}

#[derive(Debug, Clone, PartialEq)]
struct Tensor {
    /// The input the chain starts from.
    input: ShapeHint,
    origin: usize,
    /// The tensor this one was computed from (`None` for an input).
    parent: Option<usize>,
    /// The layer applied to the parent.
    layer: Option<LayerCall>,
    broken: Option<(usize, usize, String)>,
    /// Layers from the input to here.
    len: usize,
}

/// Most statements executed (loops included) before giving up.
const MAX_STEPS: usize = 100_000;
/// Longest sequence or string the evaluator builds.
const MAX_SEQ: usize = 10_000;

struct Interp {
    /// Variables with their size in nodes.
    vars: HashMap<String, (Val, usize)>,
    /// Evaluation work done (nodes evaluated or copied), bounded by [`MAX_WORK`].
    work: usize,
    models: Vec<SeqModel>,
    tensors: Vec<Tensor>,
    /// Model indices in order of last change.
    touched: Vec<usize>,
    warnings: Vec<CodeWarning>,
    steps: usize,
    /// Nesting of blocks being executed.
    nesting: usize,
}

/// Most evaluation work (nodes evaluated or copied from variables) before giving up.
const MAX_WORK: usize = 2_000_000;
/// Deepest block nesting executed (deeper bodies are skipped).
const MAX_NESTING: usize = 40;
/// Largest value (in nodes) a variable may hold, and its deepest nesting.
const MAX_VALUE_NODES: usize = 20_000;
const MAX_VALUE_DEPTH: usize = 24;

/// Nodes in a value, counting at most `budget`; `None` when over budget or too deep.
fn weight(v: &Val, depth: usize, budget: &mut usize) -> Option<()> {
    if depth > MAX_VALUE_DEPTH || *budget == 0 {
        return None;
    }
    *budget -= 1;
    match v {
        Val::Tuple(x) | Val::List(x) => x.iter().try_for_each(|i| weight(i, depth + 1, budget)),
        Val::Dict(x) => x.iter().try_for_each(|(k, i)| {
            weight(k, depth + 1, budget)?;
            weight(i, depth + 1, budget)
        }),
        Val::Layer(l) => {
            l.pos
                .iter()
                .try_for_each(|p| weight(&p.0, depth + 1, budget))?;
            l.kw.iter()
                .try_for_each(|p| weight(&p.1, depth + 1, budget))
        }
        _ => Some(()),
    }
}

fn seq_of(v: &Val) -> Option<&[Val]> {
    match v {
        Val::Tuple(x) | Val::List(x) => Some(x),
        _ => None,
    }
}

fn truthy(v: &Val) -> Option<bool> {
    match v {
        Val::None => Some(false),
        Val::Bool(b) => Some(*b),
        Val::Int(i) => Some(*i != 0),
        Val::Float(f) => Some(*f != 0.0),
        Val::Str(s) => Some(!s.is_empty()),
        Val::Tuple(x) | Val::List(x) => Some(!x.is_empty()),
        Val::Dict(x) => Some(!x.is_empty()),
        _ => None,
    }
}

fn num(v: &Val) -> Option<f64> {
    match v {
        Val::Int(i) => Some(*i as f64),
        Val::Float(f) => Some(*f),
        Val::Bool(b) => Some(f64::from(u8::from(*b))),
        _ => None,
    }
}

fn float_val(f: f64) -> Val {
    if f.is_finite() {
        Val::Float(f)
    } else {
        Val::Opaque("a non-finite number".into())
    }
}

fn arith(op: &str, a: &Val, b: &Val) -> Option<Val> {
    use Val::{Int, List, Str, Tuple};
    Some(match (op, a, b) {
        ("+", Int(x), Int(y)) => x
            .checked_add(*y)
            .map_or_else(|| float_val(*x as f64 + *y as f64), Int),
        ("-", Int(x), Int(y)) => x
            .checked_sub(*y)
            .map_or_else(|| float_val(*x as f64 - *y as f64), Int),
        ("*", Int(x), Int(y)) => x
            .checked_mul(*y)
            .map_or_else(|| float_val(*x as f64 * *y as f64), Int),
        ("//", Int(x), Int(y)) if *y != 0 => Int(x.checked_div_euclid(*y)?),
        ("%", Int(x), Int(y)) if *y != 0 => Int(x.checked_rem_euclid(*y)?),
        ("**", Int(x), Int(y)) if *y >= 0 => {
            match u32::try_from(*y).ok().and_then(|e| x.checked_pow(e)) {
                Some(v) => Int(v),
                None => float_val((*x as f64).powf(*y as f64)),
            }
        }
        ("+", Tuple(x), Tuple(y)) if x.len() + y.len() <= MAX_SEQ => {
            Tuple(x.iter().chain(y).cloned().collect())
        }
        ("+", List(x), List(y)) if x.len() + y.len() <= MAX_SEQ => {
            List(x.iter().chain(y).cloned().collect())
        }
        ("+", Str(x), Str(y)) if x.len() + y.len() <= MAX_SEQ * 10 => Str(format!("{x}{y}")),
        ("*", Tuple(x) | List(x), Int(k)) | ("*", Int(k), Tuple(x) | List(x)) => {
            let k = usize::try_from(*k).unwrap_or(0);
            let mut budget = MAX_VALUE_NODES;
            let seq = if matches!(a, Int(_)) { b } else { a };
            weight(seq, 0, &mut budget)?;
            let per = MAX_VALUE_NODES - budget;
            if x.len().saturating_mul(k) > MAX_SEQ || per.saturating_mul(k) > MAX_VALUE_NODES {
                return None;
            }
            let items: Vec<Val> = (0..k).flat_map(|_| x.iter().cloned()).collect();
            if matches!(a, List(_)) || matches!(b, List(_)) {
                List(items)
            } else {
                Tuple(items)
            }
        }
        _ => {
            let (x, y) = (num(a)?, num(b)?);
            match op {
                "+" => float_val(x + y),
                "-" => float_val(x - y),
                "*" => float_val(x * y),
                "/" if y != 0.0 => float_val(x / y),
                "//" if y != 0.0 => float_val((x / y).floor()),
                "%" if y != 0.0 => float_val(x.rem_euclid(y)),
                "**" => float_val(x.powf(y)),
                "<" => Val::Bool(x < y),
                ">" => Val::Bool(x > y),
                "<=" => Val::Bool(x <= y),
                ">=" => Val::Bool(x >= y),
                _ => return None,
            }
        }
    })
}

fn index(seq: &[Val], i: i64) -> Option<Val> {
    let n = i64::try_from(seq.len()).ok()?;
    let j = if i < 0 { i + n } else { i };
    usize::try_from(j).ok().and_then(|j| seq.get(j)).cloned()
}

fn slice_of(seq: &[Val], lo: Option<i64>, hi: Option<i64>) -> Vec<Val> {
    let n = seq.len() as i64;
    let fix = |v: i64| if v < 0 { (v + n).max(0) } else { v.min(n) };
    let a = lo.map_or(0, fix);
    let b = hi.map_or(n, fix);
    if a >= b {
        Vec::new()
    } else {
        seq[a as usize..b as usize].to_vec()
    }
}

impl Interp {
    fn new() -> Self {
        Interp {
            vars: HashMap::new(),
            work: 0,
            models: Vec::new(),
            tensors: Vec::new(),
            touched: Vec::new(),
            warnings: Vec::new(),
            steps: 0,
            nesting: 0,
        }
    }

    fn warn(&mut self, line: usize, col: usize, msg: impl Into<String>) {
        self.warnings.push(CodeWarning {
            line,
            column: col,
            message: msg.into(),
        });
    }

    fn touch(&mut self, m: usize) {
        self.touched.retain(|&x| x != m);
        self.touched.push(m);
    }

    fn eval(&mut self, e: &Expr) -> Val {
        self.work = self.work.saturating_add(1);
        if self.work > MAX_WORK {
            return Val::Opaque(text(e));
        }
        match &e.kind {
            EK::Int(v) => Val::Int(*v),
            EK::Float(v) => Val::Float(*v),
            EK::Str(s) => Val::Str(s.clone()),
            EK::Bool(b) => Val::Bool(*b),
            EK::NoneLit => Val::None,
            EK::Name(n) => match self.vars.get(n) {
                Some((v, w)) => {
                    let v = v.clone();
                    self.work = self.work.saturating_add(*w);
                    v
                }
                None => Val::Path(n.clone()),
            },
            EK::Tuple(items) => Val::Tuple(items.iter().map(|x| self.eval(x)).collect()),
            EK::List(items) => Val::List(items.iter().map(|x| self.eval(x)).collect()),
            EK::Dict(pairs) => Val::Dict(
                pairs
                    .iter()
                    .map(|(k, v)| (self.eval(k), self.eval(v)))
                    .collect(),
            ),
            EK::Attr(base, name) => match self.eval(base) {
                Val::Path(p) => Val::Path(format!("{p}.{name}")),
                _ => Val::Opaque(text(e)),
            },
            EK::Call(f, args) => self.call(e, f, args),
            EK::Sub(base, idx) => {
                let b = self.eval(base);
                let r = match (&b, &idx.kind) {
                    (Val::Tuple(s) | Val::List(s), EK::Slice(lo, hi, None)) => {
                        let mut bound = |x: &Option<Box<Expr>>| match x {
                            None => Some(None),
                            Some(x) => match self.eval(x) {
                                Val::Int(i) => Some(Some(i)),
                                _ => None,
                            },
                        };
                        match (bound(lo), bound(hi)) {
                            (Some(l), Some(h)) => {
                                let items = slice_of(s, l, h);
                                Some(if matches!(b, Val::List(_)) {
                                    Val::List(items)
                                } else {
                                    Val::Tuple(items)
                                })
                            }
                            _ => None,
                        }
                    }
                    (Val::Tuple(s) | Val::List(s), _) => match self.eval(idx) {
                        Val::Int(i) => index(s, i),
                        _ => None,
                    },
                    (Val::Dict(pairs), _) => {
                        let k = self.eval(idx);
                        pairs
                            .iter()
                            .find(|(kk, _)| *kk == k)
                            .map(|(_, v)| v.clone())
                    }
                    _ => None,
                };
                r.unwrap_or_else(|| Val::Opaque(text(e)))
            }
            EK::Slice(..) | EK::Opaque(_) => Val::Opaque(text(e)),
            EK::Unary(op, x) => {
                let v = self.eval(x);
                match (*op, &v) {
                    ("-", Val::Int(i)) => i
                        .checked_neg()
                        .map_or_else(|| float_val(-(*i as f64)), Val::Int),
                    ("-", Val::Float(f)) => Val::Float(-f),
                    ("+", Val::Int(_) | Val::Float(_)) => v,
                    ("not", _) => {
                        truthy(&v).map_or_else(|| Val::Opaque(text(e)), |b| Val::Bool(!b))
                    }
                    _ => Val::Opaque(text(e)),
                }
            }
            EK::Bin(op, l, r) => {
                let (a, b) = (self.eval(l), self.eval(r));
                match *op {
                    "and" | "or" => match truthy(&a) {
                        Some(t) => {
                            if (*op == "and") == t {
                                b
                            } else {
                                a
                            }
                        }
                        None => Val::Opaque(text(e)),
                    },
                    "==" => Val::Bool(a == b),
                    "!=" => Val::Bool(a != b),
                    "is" | "is not" if a == Val::None || b == Val::None => {
                        Val::Bool((a == b) == (*op == "is"))
                    }
                    _ => arith(op, &a, &b).unwrap_or_else(|| Val::Opaque(text(e))),
                }
            }
            EK::IfExp(c, a, b) => match truthy(&self.eval(c)) {
                Some(true) => self.eval(a),
                Some(false) => self.eval(b),
                None => Val::Opaque(text(e)),
            },
        }
    }

    fn call(&mut self, whole: &Expr, f: &Expr, args: &[Arg]) -> Val {
        // Methods on a model: add, build; anything else is ignored.
        if let EK::Attr(base, method) = &f.kind {
            if let Val::Model(m) = self.eval(base) {
                match method.as_str() {
                    "add" => {
                        let v = args.iter().find_map(|a| match a {
                            Arg::Pos(e) => Some(e),
                            Arg::Kw(k, e, _, _) if k == "layer" => Some(e),
                            _ => None,
                        });
                        match v {
                            Some(e) => {
                                let val = self.eval(e);
                                self.add_to(m, val, e);
                            }
                            None => self.warn(whole.line, whole.col, "`add()` without a layer"),
                        }
                    }
                    "build" => {
                        let v = args.iter().find_map(|a| match a {
                            Arg::Pos(e) | Arg::Kw(_, e, _, _) => Some(e),
                            Arg::Star(_) => None,
                        });
                        if let Some(e) = v {
                            let val = self.eval(e);
                            let hint = shape_hint(&val, true, e.line, e.col, &text(e));
                            if let Some(model) = self.models.get_mut(m) {
                                model.build = Some(hint);
                            }
                            self.touch(m);
                        }
                    }
                    _ => {}
                }
                return Val::None;
            }
        }
        let callee = self.eval(f);
        let mut pos = Vec::new();
        let mut kw = Vec::new();
        for a in args {
            match a {
                Arg::Pos(e) => {
                    let v = self.eval(e);
                    pos.push((v, e.line, e.col, text(e)));
                }
                Arg::Kw(k, e, line, col) => {
                    let v = self.eval(e);
                    kw.push((k.clone(), v, *line, *col, text(e)));
                }
                Arg::Star(e) => pos.push((
                    Val::Opaque(format!("*{}", text(e))),
                    e.line,
                    e.col,
                    format!("*{}", text(e)),
                )),
            }
        }
        match callee {
            Val::Path(path) => {
                let last = path.rsplit('.').next().unwrap_or(&path).to_string();
                self.call_path(whole, &path, &last, pos, kw)
            }
            Val::Layer(layer) => self.apply_layer(*layer, pos.first().map(|p| &p.0), whole),
            Val::Model(m) => {
                let name = self
                    .models
                    .get(m)
                    .map(|x| x.name.clone())
                    .unwrap_or_default();
                self.warn(
                    whole.line,
                    whole.col,
                    format!(
                        "calling the model `{name}` on a tensor (a nested model) is not supported"
                    ),
                );
                Val::Opaque(text(whole))
            }
            _ => Val::Opaque(text(whole)),
        }
    }

    fn kwarg(
        kw: &[(String, Val, usize, usize, String)],
        key: &str,
    ) -> Option<(Val, usize, usize, String)> {
        kw.iter()
            .find(|k| k.0 == key)
            .map(|k| (k.1.clone(), k.2, k.3, k.4.clone()))
    }

    fn call_path(
        &mut self,
        whole: &Expr,
        path: &str,
        last: &str,
        pos: Vec<(Val, usize, usize, String)>,
        kw: Vec<(String, Val, usize, usize, String)>,
    ) -> Val {
        let (line, col) = (whole.line, whole.col);
        match last {
            "Sequential" => {
                let name = match Self::kwarg(&kw, "name").map(|k| k.0) {
                    Some(Val::Str(s)) => s,
                    _ => "sequential".to_string(),
                };
                let idx = self.models.len();
                self.models.push(SeqModel {
                    name,
                    entries: Vec::new(),
                    build: None,
                    line,
                    col,
                    functional: false,
                });
                self.touch(idx);
                let layers = pos
                    .into_iter()
                    .next()
                    .or_else(|| Self::kwarg(&kw, "layers"));
                if let Some((v, l, c, t)) = layers {
                    match v {
                        Val::List(items) | Val::Tuple(items) => {
                            for it in items {
                                let e = Expr {
                                    kind: EK::Opaque(String::new()),
                                    line: l,
                                    col: c,
                                };
                                self.add_to(idx, it, &e);
                            }
                        }
                        Val::None => {}
                        _ => self.warn(
                            l,
                            c,
                            format!("`Sequential({t})`: expected a list of layers"),
                        ),
                    }
                }
                Val::Model(idx)
            }
            "Model" | "Functional"
                if path == last || path.contains("keras") || path.starts_with("models.") =>
            {
                self.functional_model(whole, pos, kw)
            }
            "Input" => {
                let shape = pos.first().cloned().or_else(|| Self::kwarg(&kw, "shape"));
                let hint = match shape {
                    Some((v, l, c, t)) => shape_hint(&v, false, l, c, &t),
                    None => match Self::kwarg(&kw, "batch_shape") {
                        Some((v, l, c, t)) => shape_hint(&v, true, l, c, &t),
                        None => ShapeHint {
                            shape: Err("`Input()` without `shape=`".into()),
                            line,
                            col,
                        },
                    },
                };
                let id = self.tensors.len();
                self.tensors.push(Tensor {
                    input: hint,
                    origin: id,
                    parent: None,
                    layer: None,
                    broken: None,
                    len: 0,
                });
                Val::Tensor(id)
            }
            "range" => {
                let ints: Vec<i64> = pos
                    .iter()
                    .filter_map(|p| if let Val::Int(i) = p.0 { Some(i) } else { None })
                    .collect();
                if ints.len() != pos.len() || ints.is_empty() {
                    return Val::Opaque(text(whole));
                }
                let (a, b, s) = match ints.as_slice() {
                    [b] => (0, *b, 1),
                    [a, b] => (*a, *b, 1),
                    [a, b, s, ..] => (*a, *b, *s),
                    [] => return Val::Opaque(text(whole)),
                };
                if s == 0 {
                    return Val::Opaque(text(whole));
                }
                let count = if s > 0 {
                    (b.saturating_sub(a)).max(0) / s
                } else {
                    (a.saturating_sub(b)).max(0) / -s
                };
                if count > MAX_SEQ as i64 {
                    return Val::Opaque(text(whole));
                }
                let mut out = Vec::new();
                let mut v = a;
                while (s > 0 && v < b) || (s < 0 && v > b) {
                    out.push(Val::Int(v));
                    v = match v.checked_add(s) {
                        Some(x) => x,
                        None => break,
                    };
                }
                Val::List(out)
            }
            "len" => match pos.first().and_then(|p| seq_of(&p.0)) {
                Some(s) => Val::Int(s.len() as i64),
                None => Val::Opaque(text(whole)),
            },
            "int" => match pos.first().map(|p| &p.0) {
                Some(Val::Int(i)) => Val::Int(*i),
                Some(Val::Float(f)) if f.is_finite() && f.abs() < 9e15 => {
                    Val::Int(f.trunc() as i64)
                }
                Some(Val::Str(s)) => s
                    .trim()
                    .parse()
                    .map_or_else(|_| Val::Opaque(text(whole)), Val::Int),
                _ => Val::Opaque(text(whole)),
            },
            "float" => match pos.first().and_then(|p| num(&p.0)) {
                Some(f) => Val::Float(f),
                None => Val::Opaque(text(whole)),
            },
            "tuple" | "list" => match pos.first().and_then(|p| seq_of(&p.0)) {
                Some(s) => {
                    if last == "tuple" {
                        Val::Tuple(s.to_vec())
                    } else {
                        Val::List(s.to_vec())
                    }
                }
                None => Val::Opaque(text(whole)),
            },
            "max" | "min" | "abs" => {
                let nums: Vec<&Val> = match pos.as_slice() {
                    [(v, ..)] => seq_of(v)
                        .map(|s| s.iter().collect())
                        .unwrap_or_else(|| vec![v]),
                    many => many.iter().map(|p| &p.0).collect(),
                };
                let mut best: Option<Val> = None;
                for v in nums {
                    let (Some(x), Some(cur)) = (num(v), Some(best.as_ref().and_then(num))) else {
                        return Val::Opaque(text(whole));
                    };
                    let take = match (last, cur) {
                        ("abs", _) => true,
                        (_, None) => true,
                        ("max", Some(c)) => x > c,
                        (_, Some(c)) => x < c,
                    };
                    if take {
                        best = Some(v.clone());
                    }
                }
                match (last, best) {
                    ("abs", Some(Val::Int(i))) => i
                        .checked_abs()
                        .map_or_else(|| Val::Opaque(text(whole)), Val::Int),
                    ("abs", Some(Val::Float(f))) => Val::Float(f.abs()),
                    ("abs", _) => Val::Opaque(text(whole)),
                    (_, Some(v)) => v,
                    (_, None) => Val::Opaque(text(whole)),
                }
            }
            _ if last.chars().next().is_some_and(char::is_uppercase) => {
                Val::Layer(Box::new(LayerCall {
                    class: last.to_string(),
                    line,
                    col,
                    pos,
                    kw,
                }))
            }
            _ => Val::Opaque(text(whole)),
        }
    }

    /// The layers from a tensor's input to the tensor, in order.
    fn chain(&self, t: usize) -> Vec<LayerCall> {
        let mut out = Vec::new();
        let mut cur = Some(t);
        while let Some(i) = cur {
            let Some(node) = self.tensors.get(i) else {
                break;
            };
            if let Some(l) = &node.layer {
                out.push(l.clone());
            }
            cur = node.parent.filter(|&p| p < i);
        }
        out.reverse();
        out
    }

    /// `layer(x)` in the functional style.
    fn apply_layer(&mut self, layer: LayerCall, arg: Option<&Val>, whole: &Expr) -> Val {
        match arg {
            Some(Val::Tensor(t)) => {
                let Some(src) = self.tensors.get(*t).cloned() else {
                    return Val::Opaque(text(whole));
                };
                let next = Tensor {
                    input: src.input,
                    origin: src.origin,
                    parent: Some(*t),
                    layer: Some(layer),
                    broken: src.broken,
                    len: src.len + 1,
                };
                let id = self.tensors.len();
                self.tensors.push(next);
                Val::Tensor(id)
            }
            Some(Val::List(ts) | Val::Tuple(ts))
                if ts.iter().all(|t| matches!(t, Val::Tensor(_))) && !ts.is_empty() =>
            {
                let first = match ts.first() {
                    Some(Val::Tensor(t)) => self.tensors.get(*t).map(|x| (*t, x.clone())),
                    _ => None,
                };
                let Some((first_id, first)) = first else {
                    return Val::Opaque(text(whole));
                };
                let mut next = Tensor {
                    parent: Some(first_id),
                    layer: None,
                    ..first
                };
                let msg = format!(
                    "`{}` takes {} inputs: Flatland models are a single chain of layers",
                    layer.class,
                    ts.len()
                );
                self.warn(whole.line, whole.col, msg.clone());
                next.broken = Some((whole.line, whole.col, msg));
                let id = self.tensors.len();
                self.tensors.push(next);
                Val::Tensor(id)
            }
            _ => Val::Opaque(text(whole)),
        }
    }

    fn functional_model(
        &mut self,
        whole: &Expr,
        pos: Vec<(Val, usize, usize, String)>,
        kw: Vec<(String, Val, usize, usize, String)>,
    ) -> Val {
        let (line, col) = (whole.line, whole.col);
        let inputs = Self::kwarg(&kw, "inputs").or_else(|| pos.first().cloned());
        let outputs = Self::kwarg(&kw, "outputs").or_else(|| pos.get(1).cloned());
        let name = match Self::kwarg(&kw, "name").map(|k| k.0) {
            Some(Val::Str(s)) => s,
            _ => "functional".to_string(),
        };
        let one = |v: &Val| -> Result<usize, String> {
            match v {
                Val::Tensor(t) => Ok(*t),
                Val::List(x) | Val::Tuple(x) if x.len() == 1 => match x.first() {
                    Some(Val::Tensor(t)) => Ok(*t),
                    _ => Err("is not a tensor made by keras.Input or a layer call".into()),
                },
                Val::List(x) | Val::Tuple(x) => Err(format!(
                    "has {} tensors: Flatland models have one input and one output",
                    x.len()
                )),
                _ => Err("is not a tensor made by keras.Input or a layer call".into()),
            }
        };
        let mut entries = Vec::new();
        let bad = |msg: String| Entry::Bad { line, col, msg };
        match (inputs, outputs) {
            (Some(i), Some(o)) => match (one(&i.0), one(&o.0)) {
                (Ok(ti), Ok(to)) => {
                    match (self.tensors.get(ti).cloned(), self.tensors.get(to).cloned()) {
                        (Some(tin), Some(tout)) => {
                            if tin.origin != tout.origin || tin.len != 0 {
                                entries.push(bad("the model's outputs do not come from its inputs through one chain of layers".into()));
                            } else {
                                entries.push(Entry::Input(tout.input.clone()));
                                for l in self.chain(to) {
                                    entries.push(Entry::Layer(l));
                                }
                                if let Some((bl, bc, msg)) = tout.broken {
                                    entries.push(Entry::Bad {
                                        line: bl,
                                        col: bc,
                                        msg,
                                    });
                                }
                            }
                        }
                        _ => entries.push(bad("unknown tensors".into())),
                    }
                }
                (Err(m), _) => entries.push(bad(format!("`inputs={}` {m}", i.3))),
                (_, Err(m)) => entries.push(bad(format!("`outputs={}` {m}", o.3))),
            },
            _ => entries.push(bad("`Model(...)` needs `inputs=` and `outputs=`".into())),
        }
        let idx = self.models.len();
        self.models.push(SeqModel {
            name,
            entries,
            build: None,
            line,
            col,
            functional: true,
        });
        self.touch(idx);
        Val::Model(idx)
    }

    fn add_to(&mut self, m: usize, val: Val, at: &Expr) {
        let entry = match val {
            Val::Layer(l) => Entry::Layer(*l),
            Val::Tensor(t) => match self.tensors.get(t) {
                Some(tensor) if tensor.len == 0 => Entry::Input(tensor.input.clone()),
                _ => Entry::Bad {
                    line: at.line,
                    col: at.col,
                    msg: "adding a layer output (a tensor) to a Sequential model".into(),
                },
            },
            Val::Model(inner) if inner != m => {
                let room =
                    MAX_SEQ.saturating_sub(self.models.get(m).map_or(0, |x| x.entries.len()));
                let entries = self
                    .models
                    .get(inner)
                    .filter(|x| x.entries.len() <= room)
                    .map(|x| x.entries.clone())
                    .unwrap_or_default();
                let (line, col) = self
                    .models
                    .get(inner)
                    .map_or((at.line, at.col), |x| (x.line, x.col));
                self.warn(
                    line,
                    col,
                    "a model inside a Sequential model: Flatland reads its layers in place",
                );
                if let Some(model) = self.models.get_mut(m) {
                    if model.entries.len() + entries.len() <= MAX_SEQ {
                        model.entries.extend(entries);
                    }
                }
                self.touch(m);
                return;
            }
            other => {
                let what = match &other {
                    Val::Opaque(t) if t.starts_with("syntax error") => t.clone(),
                    Val::Opaque(t) | Val::Path(t) => {
                        format!("`{t}` is not a layer Flatland can read")
                    }
                    _ => "this is not a layer".into(),
                };
                let (line, col) = if at.line == 0 {
                    (1, 1)
                } else {
                    (at.line, at.col)
                };
                Entry::Bad {
                    line,
                    col,
                    msg: what,
                }
            }
        };
        if let Some(model) = self.models.get_mut(m) {
            if model.entries.len() < MAX_SEQ {
                model.entries.push(entry);
            }
        }
        self.touch(m);
    }

    fn bind(&mut self, target: &Expr, val: Val) {
        match &target.kind {
            EK::Name(n) => {
                let mut budget = MAX_VALUE_NODES;
                let entry = match weight(&val, 0, &mut budget) {
                    Some(()) => (val, MAX_VALUE_NODES - budget),
                    None => (Val::Opaque(format!("{n} (too large a value)")), 1),
                };
                self.vars.insert(n.clone(), entry);
            }
            EK::Tuple(ts) | EK::List(ts) => match seq_of(&val) {
                Some(vs) if vs.len() == ts.len() => {
                    let vs = vs.to_vec();
                    for (t, v) in ts.iter().zip(vs) {
                        self.bind(t, v);
                    }
                }
                _ => {
                    for t in ts {
                        self.bind(t, Val::Opaque(text(t)));
                    }
                }
            },
            _ => {}
        }
    }

    fn exec_block(&mut self, stmts: &[Stmt]) {
        if self.nesting >= MAX_NESTING {
            if let Some(s) = stmts.first() {
                if let Some((line, col)) = s.pos {
                    self.warn(line, col, "blocks nested too deeply: skipped");
                }
            }
            return;
        }
        self.nesting += 1;
        self.exec_stmts(stmts);
        self.nesting -= 1;
    }

    fn exec_stmts(&mut self, stmts: &[Stmt]) {
        let mut i = 0;
        let mut if_taken: Option<bool> = None;
        while i < stmts.len() {
            self.steps += 1;
            if self.steps > MAX_STEPS || self.work > MAX_WORK {
                return;
            }
            let s = &stmts[i];
            let mut end = i + 1;
            if let StmtKind::Header(..) = s.kind {
                while end < stmts.len() && stmts[end].indent > s.indent {
                    end += 1;
                }
            }
            let body_owned: Vec<Stmt>;
            let body: &[Stmt] = match &s.kind {
                StmtKind::Header(_, Some(inline)) => {
                    body_owned = vec![(**inline).clone()];
                    &body_owned
                }
                _ => &stmts[i + 1..end],
            };
            self.exec_stmt(s, body, &mut if_taken);
            i = end;
        }
    }

    fn exec_stmt(&mut self, s: &Stmt, body: &[Stmt], if_taken: &mut Option<bool>) {
        if s.relevant {
            for e in &s.recovered {
                self.warn(e.line, e.col, format!("syntax error: {}", e.msg));
            }
        }
        let keep_if = matches!(&s.kind, StmtKind::Header(Head::Elif(_) | Head::Else, _));
        if !keep_if {
            *if_taken = None;
        }
        match &s.kind {
            StmtKind::Ignore => {}
            StmtKind::Bad(e) => {
                if s.relevant {
                    self.warn(
                        e.line,
                        e.col,
                        format!("syntax error: {} (line skipped)", e.msg),
                    );
                }
            }
            StmtKind::Expr(e) => {
                self.eval(e);
            }
            StmtKind::Assign(targets, value) => {
                let v = self.eval(value);
                for t in targets {
                    self.bind(t, v.clone());
                }
            }
            StmtKind::AugAssign(target, op, value) => {
                let cur = self.eval(target);
                let v = self.eval(value);
                let r = arith(op, &cur, &v).unwrap_or_else(|| Val::Opaque(text(target)));
                self.bind(target, r);
            }
            StmtKind::Header(head, _) => {
                match head {
                    Head::For(target, iter) => {
                        let v = self.eval(iter);
                        match seq_of(&v) {
                            Some(items) => {
                                for it in items.iter().cloned() {
                                    if self.steps > MAX_STEPS || self.work > MAX_WORK {
                                        break;
                                    }
                                    self.bind(target, it);
                                    self.exec_block(body);
                                }
                            }
                            None => {
                                if body.iter().any(|b| b.relevant) {
                                    self.warn(iter.line, iter.col, format!("cannot evaluate the loop over `{}`: its body is read once", text(iter)));
                                }
                                self.bind(target, Val::Opaque(text(target)));
                                self.exec_block(body);
                            }
                        }
                    }
                    Head::If(c) | Head::Elif(c) => {
                        if *if_taken == Some(true) {
                            return;
                        }
                        match truthy(&self.eval(c)) {
                            Some(true) => {
                                *if_taken = Some(true);
                                self.exec_block(body);
                            }
                            Some(false) => *if_taken = Some(false),
                            None => {
                                if body.iter().any(|b| b.relevant) {
                                    self.warn(c.line, c.col, format!("cannot evaluate the condition `{}`: Flatland reads this branch", text(c)));
                                }
                                *if_taken = Some(true);
                                self.exec_block(body);
                            }
                        }
                    }
                    Head::Else => {
                        if *if_taken == Some(false) {
                            self.exec_block(body);
                        }
                        *if_taken = None;
                    }
                    Head::Def(params) => {
                        for (name, default) in params {
                            let v = match default {
                                Some(d) => self.eval(d),
                                None => Val::Opaque(name.clone()),
                            };
                            self.bind(
                                &Expr {
                                    kind: EK::Name(name.clone()),
                                    line: 0,
                                    col: 0,
                                },
                                v,
                            );
                        }
                        self.exec_block(body);
                    }
                    Head::Run => self.exec_block(body),
                    Head::Skip => {}
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// Values to Keras config
// ---------------------------------------------------------------------------------------

/// JSON for a layer argument. Undefined names are refused (see [`to_json_loose`]).
fn to_json(v: &Val) -> Option<Value> {
    to_json_with(v, false)
}

/// Like [`to_json`], but dotted names become their last segment (for display configs).
fn to_json_loose(v: &Val) -> Option<Value> {
    to_json_with(v, true)
}

fn to_json_with(v: &Val, loose: bool) -> Option<Value> {
    let rec = |x: &Val| to_json_with(x, loose);
    Some(match v {
        Val::None => Value::Null,
        Val::Bool(b) => Value::Bool(*b),
        Val::Int(i) => Value::from(*i),
        Val::Float(f) => Value::Number(Number::from_f64(*f)?),
        Val::Str(s) => Value::String(s.clone()),
        Val::Tuple(x) | Val::List(x) => {
            Value::Array(x.iter().map(rec).collect::<Option<Vec<_>>>()?)
        }
        Val::Dict(pairs) => {
            let mut m = Map::new();
            for (k, v) in pairs {
                let Val::Str(k) = k else { return None };
                m.insert(k.clone(), rec(v)?);
            }
            Value::Object(m)
        }
        Val::Path(p) if loose => Value::String(p.rsplit('.').next().unwrap_or(p).to_string()),
        _ => return None,
    })
}

/// The first undefined name inside a value, if any.
fn undefined_name(v: &Val) -> Option<String> {
    match v {
        Val::Path(p) => Some(p.clone()),
        Val::Tuple(x) | Val::List(x) => x.iter().find_map(undefined_name),
        _ => None,
    }
}

/// Read a shape value. `batch`: the first entry is the batch axis (dropped).
fn shape_hint(v: &Val, batch: bool, line: usize, col: usize, src: &str) -> ShapeHint {
    let shape = match v {
        Val::Int(n) if !batch => usize::try_from(*n)
            .map(|n| vec![n])
            .map_err(|_| format!("`{src}` is not a valid shape")),
        Val::Tuple(items) | Val::List(items) => {
            let items = if batch {
                items.get(1..).unwrap_or(&[])
            } else {
                items.as_slice()
            };
            items
                .iter()
                .map(|d| match d {
                    Val::Int(n) if *n >= 0 => usize::try_from(*n).map_err(|_| format!("dimension {n} is too large")),
                    Val::None => Err(format!("`{src}` has a variable (None) dimension: Flatland needs every input dimension to be a number")),
                    _ => Err(format!("`{src}` has a dimension that is not a non-negative integer")),
                })
                .collect()
        }
        _ => Err(format!(
            "cannot read the shape `{src}`: give it as a tuple of numbers, e.g. `(28, 28, 1)`"
        )),
    };
    ShapeHint { shape, line, col }
}

/// Keras-style fresh names (`dense`, `dense_1`, ...), like [`Model::fresh_name`] but in
/// constant time per name for long models.
#[derive(Default)]
struct Namer {
    taken: std::collections::HashSet<String>,
    next: HashMap<String, usize>,
}

impl Namer {
    fn take(&mut self, name: &str) {
        self.taken.insert(name.to_string());
    }
    fn fresh(&mut self, prefix: &str) -> String {
        if !self.taken.contains(prefix) {
            self.take(prefix);
            return prefix.to_string();
        }
        let mut i = self.next.get(prefix).copied().unwrap_or(1);
        loop {
            let n = format!("{prefix}_{i}");
            i += 1;
            if !self.taken.contains(&n) {
                self.next.insert(prefix.to_string(), i);
                self.take(&n);
                return n;
            }
        }
    }
}

/// A layer built from a call, plus any input shape it gives.
struct Built {
    layer: Option<Layer>,
    input: Option<ShapeHint>,
    input_length: Option<ShapeHint>,
}

fn error_layer(class: &str, config: Map<String, Value>, reason: String) -> LayerSpec {
    LayerSpec::Unknown(Unknown {
        class_name: canonical_class(class).to_string(),
        config: Value::Object(config),
        reason,
    })
}

fn build_layer(call: &LayerCall, namer: &mut Namer, warnings: &mut Vec<CodeWarning>) -> Built {
    let class = canonical_class(&call.class).to_string();
    let mut warn = |line: usize, col: usize, msg: String| {
        warnings.push(CodeWarning {
            line,
            column: col,
            message: msg,
        })
    };
    let mut out = Built {
        layer: None,
        input: None,
        input_length: None,
    };

    // Positional arguments to names.
    let params = positional_params(&class);
    let mut named: Vec<(String, Val, usize, usize, String)> = Vec::new();
    let mut problems: Vec<String> = Vec::new();
    let known = is_catalogue(&class) || class == "InputLayer";
    for (i, (v, line, col, src)) in call.pos.iter().enumerate() {
        match params.get(i) {
            Some(p) => named.push(((*p).to_string(), v.clone(), *line, *col, src.clone())),
            None if known => {
                let msg = format!(
                    "`{}` takes at most {} positional argument(s); `{src}` is one too many",
                    call.class,
                    params.len()
                );
                warn(*line, *col, msg.clone());
                problems.push(msg);
            }
            None => named.push((format!("arg{i}"), v.clone(), *line, *col, src.clone())),
        }
    }
    if matches!(class.as_str(), "Conv2D")
        && call.pos.len() >= 3
        && matches!(call.pos.get(2).map(|p| &p.0), Some(Val::Int(_)))
    {
        let (s, line, col) = call
            .pos
            .get(2)
            .map_or((String::new(), call.line, call.col), |p| {
                (p.3.clone(), p.1, p.2)
            });
        warn(line, col, format!("`{}(..., {s})`: Keras 3 reads the third argument as `strides={s}` (in Keras 1 it was the kernel width)", call.class));
    }
    named.extend(call.kw.iter().cloned());

    if class == "InputLayer" {
        let hint = named
            .iter()
            .find(|n| n.0 == "shape" || n.0 == "input_shape")
            .map(|n| shape_hint(&n.1, false, n.2, n.3, &n.4))
            .or_else(|| {
                named
                    .iter()
                    .find(|n| n.0 == "batch_shape" || n.0 == "batch_input_shape")
                    .map(|n| shape_hint(&n.1, true, n.2, n.3, &n.4))
            })
            .unwrap_or(ShapeHint {
                shape: Err("`InputLayer` without a shape".into()),
                line: call.line,
                col: call.col,
            });
        out.input = Some(hint);
        return out;
    }

    let defaults = keras_default_config(&class);
    let fields: Vec<String> = match &defaults {
        Some(Value::Object(o)) => o.keys().cloned().collect(),
        _ => Vec::new(),
    };
    let mut config = Map::new();
    let mut name: Option<String> = None;
    for (key, v, line, col, src) in &named {
        let key = arg_alias(&class, key).map_or(key.as_str(), |a| a);
        if key == "name" {
            match v {
                Val::Str(s) if !s.is_empty() => name = Some(s.clone()),
                _ => warn(
                    *line,
                    *col,
                    format!("`name={src}` is not a string; using a generated name"),
                ),
            }
            continue;
        }
        if let Some(fix) = removed_arg(&class, key) {
            let msg =
                format!("Keras 3 does not accept `{key}=` in {class} (Keras 1/2 argument): {fix}");
            warn(*line, *col, msg.clone());
            problems.push(msg);
            if let Some(j) = to_json_loose(v) {
                config.insert(key.to_string(), j);
            }
            continue;
        }
        match key {
            "input_shape" => {
                out.input = Some(shape_hint(v, false, *line, *col, src));
                if let Val::Int(_) = v {
                    warn(*line, *col, format!("`input_shape={src}` is a number, not a tuple: Keras raises an error; Flatland reads it as ({src},) — write `({src},)`"));
                }
                continue;
            }
            "input_dim" if class != "Embedding" => {
                out.input = Some(match v {
                    Val::Int(n) if *n >= 0 => ShapeHint {
                        shape: Ok(vec![usize::try_from(*n).unwrap_or(0)]),
                        line: *line,
                        col: *col,
                    },
                    _ => ShapeHint {
                        shape: Err(format!("cannot read `input_dim={src}`: give a number")),
                        line: *line,
                        col: *col,
                    },
                });
                continue;
            }
            "batch_input_shape" | "batch_shape" => {
                out.input = Some(shape_hint(v, true, *line, *col, src));
                continue;
            }
            "input_length" if class == "Embedding" => {
                out.input_length = Some(match v {
                    Val::Int(n) if *n > 0 => ShapeHint {
                        shape: Ok(vec![usize::try_from(*n).unwrap_or(0)]),
                        line: *line,
                        col: *col,
                    },
                    _ => ShapeHint {
                        shape: Err(format!("cannot read `input_length={src}`")),
                        line: *line,
                        col: *col,
                    },
                });
                continue;
            }
            "data_format" => {
                if let Val::Str(s) = v {
                    if s == "channels_first" {
                        let msg = "`data_format=\"channels_first\"`: Flatland follows Keras's default channels_last layout only".to_string();
                        warn(*line, *col, msg.clone());
                        problems.push(msg);
                    }
                }
                continue;
            }
            _ => {}
        }
        if !known {
            if let Some(j) = to_json_loose(v) {
                config.insert(key.to_string(), j);
            }
            continue;
        }
        if !fields.iter().any(|f| f == key) {
            // Initializers, regularizers, constraints, dtype...: no effect on shapes.
            continue;
        }
        let default = defaults.as_ref().and_then(|d| d.get(key));
        let value = match (default, v) {
            (Some(Value::Bool(_)), _) => truthy(v).map(Value::Bool),
            (_, Val::Layer(l)) if key == "activation" => {
                let a = match canonical_class(&l.class) {
                    "ReLU" => Some("relu"),
                    "LeakyReLU" => Some("leaky_relu"),
                    "ELU" => Some("elu"),
                    "Softmax" => Some("softmax"),
                    _ => None,
                };
                if let Some(a) = a {
                    warn(
                        *line,
                        *col,
                        format!("`activation={src}` read as `activation=\"{a}\"`"),
                    );
                }
                a.map(Value::from)
            }
            // `activation=tf.nn.relu`, `activation=keras.activations.softmax`.
            (Some(Value::String(_)), Val::Path(p)) => {
                Some(Value::from(p.rsplit('.').next().unwrap_or(p)))
            }
            _ => to_json(v),
        };
        match value {
            Some(j) => {
                config.insert(key.to_string(), j);
            }
            None => {
                let msg = match undefined_name(v) {
                    Some(n) => format!("cannot read `{key}={src}`: `{n}` is not defined in the code (Flatland reads variables assigned a literal, e.g. `{n} = 10`)"),
                    None => format!("cannot read `{key}={src}`: Flatland reads literal values (numbers, strings, tuples) and simple variables only"),
                };
                warn(*line, *col, msg.clone());
                problems.push(msg);
            }
        }
    }

    let spec = if !known {
        warn(
            call.line,
            call.col,
            format!("layer class `{}` is not supported by Flatland", call.class),
        );
        LayerSpec::from_config(&class, &Value::Object(config))
    } else {
        for r in required_args(&class) {
            if !config.contains_key(*r) && !problems.iter().any(|p| p.contains(&format!("`{r}="))) {
                let msg = format!("{class} is missing its required argument `{r}`");
                warn(call.line, call.col, msg.clone());
                problems.push(msg);
            }
        }
        if let Some(Value::Object(d)) = &defaults {
            // Keras defaults where Flatland's UI defaults differ.
            for (k, v) in d {
                if !config.contains_key(k) && !required_args(&class).contains(&k.as_str()) {
                    config.insert(k.clone(), v.clone());
                }
            }
        }
        if problems.is_empty() {
            let spec = LayerSpec::from_config(&class, &Value::Object(config));
            if let LayerSpec::Unknown(u) = &spec {
                warn(call.line, call.col, u.reason.clone());
            }
            spec
        } else {
            error_layer(&class, config, problems.join("; "))
        }
    };
    let name = match name {
        Some(n) => {
            namer.take(&n);
            n
        }
        None => namer.fresh(&prefix_of(&class)),
    };
    out.layer = Some(Layer::new(name, spec));
    out
}

// ---------------------------------------------------------------------------------------
// Putting it together
// ---------------------------------------------------------------------------------------

fn finish(m: &SeqModel, warnings: &mut Vec<CodeWarning>) -> Result<Model, CodecError> {
    let mut model = Model {
        name: m.name.clone(),
        input_shape: Vec::new(),
        layers: Vec::new(),
    };
    let mut namer = Namer::default();
    let mut input: Option<ShapeHint> = None;
    let mut first_layer_hint: Option<ShapeHint> = None;
    let mut embedding_length: Option<ShapeHint> = None;
    let mut first_layer_at: Option<(usize, usize)> = None;
    for entry in &m.entries {
        match entry {
            Entry::Input(h) => {
                if model.layers.is_empty() && input.is_none() {
                    input = Some(h.clone());
                } else {
                    warnings.push(CodeWarning {
                        line: h.line,
                        column: h.col,
                        message: "an input after the first layer is ignored".into(),
                    });
                }
            }
            Entry::Layer(call) => {
                let built = build_layer(call, &mut namer, warnings);
                let first = model.layers.is_empty();
                if let Some(h) = built.input {
                    if built.layer.is_none() {
                        // InputLayer
                        if first && input.is_none() {
                            input = Some(h);
                        } else {
                            warnings.push(CodeWarning {
                                line: h.line,
                                column: h.col,
                                message: "an InputLayer after the first layer is ignored".into(),
                            });
                        }
                    } else if first {
                        first_layer_hint = Some(h);
                    } else {
                        warnings.push(CodeWarning {
                            line: h.line,
                            column: h.col,
                            message:
                                "an input shape on a layer other than the first is ignored by Keras"
                                    .into(),
                        });
                    }
                }
                if let Some(h) = built.input_length {
                    if first {
                        embedding_length = Some(h);
                    } else {
                        warnings.push(CodeWarning {
                            line: h.line,
                            column: h.col,
                            message: "`input_length` is ignored by Keras 3".into(),
                        });
                    }
                }
                if let Some(l) = built.layer {
                    if first {
                        first_layer_at = Some((call.line, call.col));
                    }
                    model.layers.push(l);
                }
            }
            Entry::Bad { line, col, msg } => {
                warnings.push(CodeWarning {
                    line: *line,
                    column: *col,
                    message: msg.clone(),
                });
                let name = namer.fresh("error");
                model.layers.push(Layer::new(
                    name,
                    LayerSpec::Unknown(Unknown {
                        class_name: "Unreadable".into(),
                        config: Value::Object(Map::new()),
                        reason: format!("line {line}, column {col}: {msg}"),
                    }),
                ));
            }
        }
    }
    let chosen = if input.is_some() {
        if let Some(h) = &embedding_length {
            warnings.push(CodeWarning {
                line: h.line,
                column: h.col,
                message: "`input_length` is ignored by Keras 3 (the model's input shape is given elsewhere)".into(),
            });
        }
        input
    } else if first_layer_hint.is_some() {
        if let Some(h) = &embedding_length {
            warnings.push(CodeWarning {
                line: h.line,
                column: h.col,
                message: "`input_length` is ignored by Keras 3".into(),
            });
        }
        first_layer_hint
    } else if let Some(b) = m.build.clone() {
        Some(b)
    } else if let Some(h) = embedding_length {
        warnings.push(CodeWarning {
            line: h.line,
            column: h.col,
            message: "Keras 3 ignores `input_length`; Flatland uses it as the input length (input shape ({n},)) — in Keras 3 write `keras.Input(shape=({n},))`"
                .replace("{n}", &h.shape.as_ref().ok().and_then(|s| s.first()).map_or_else(|| "?".into(), ToString::to_string)),
        });
        Some(h)
    } else {
        None
    };
    match chosen {
        Some(h) => match h.shape {
            Ok(s) => model.input_shape = s,
            Err(msg) => {
                return Err(CodecError::InputShape(format!(
                    "line {}, column {}: {msg}",
                    h.line, h.col
                )))
            }
        },
        None => {
            let (line, col) = first_layer_at.unwrap_or((m.line, m.col));
            return Err(CodecError::InputShape(format!(
                "line {line}, column {col}: the model has no input shape; add `keras.Input(shape=(...))` as the first layer, `input_shape=(...)` on the first layer, or `model.build((None, ...))`"
            )));
        }
    }
    let _ = m.functional;
    Ok(model)
}

/// Import a Keras model from Python source. The code is parsed, never executed.
///
/// # Errors
/// [`CodecError::NotAModel`] when no model is found; [`CodecError::InputShape`] when the
/// model has no (readable) input shape; [`CodecError::NotAChain`] for functional graphs
/// that are not a single chain.
pub fn parse_keras_code(src: &str) -> Result<Imported, CodecError> {
    let lines = tokenize(src);
    let stmts: Vec<Stmt> = lines
        .iter()
        .map(|l| parse_stmt(&l.tokens, l.indent))
        .collect();
    let mut it = Interp::new();
    it.exec_block(&stmts);
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
    let model = match chosen.and_then(|m| it.models.get(m)) {
        Some(m) => {
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
                    return Err(CodecError::NotAChain(format!(
                        "line {line}, column {col}: {msg}"
                    )));
                }
            }
            finish(m, &mut warnings)?
        }
        None => {
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
                None => {
                    return Err(CodecError::NotAModel(
                        "no Keras model found in the code (expected `Sequential(...)`, `model.add(...)` or `keras.Model(inputs, outputs)`)".into(),
                    ))
                }
            }
        }
    };
    warnings.sort_by_key(|w| (w.line, w.column));
    warnings.dedup();
    Ok(Imported { model, warnings })
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
    use crate::engine::analyze;

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
