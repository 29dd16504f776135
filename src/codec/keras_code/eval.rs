//! Evaluator: runs the statements over Python-ish values ([`Val`]), collecting models,
//! layer calls and tensors; every loop and value is bounded.

use std::collections::HashMap;

use super::parser::{text, Arg, Expr, Head, Stmt, StmtKind, EK};
use super::CodeWarning;

/// A Python value as far as the importer understands it.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Val {
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
pub(super) struct LayerCall {
    /// Which constructor call made it (one per evaluation, loops included): a layer
    /// object applied twice is a shared layer.
    pub(super) serial: usize,
    /// Class name as written (last dotted segment).
    pub(super) class: String,
    pub(super) line: usize,
    pub(super) col: usize,
    pub(super) pos: Vec<PosArg>,
    pub(super) kw: Vec<KwArg>,
}

/// A positional argument: its value, line, column and source text.
type PosArg = (Val, usize, usize, String);
/// A keyword argument: its name, value, line, column and source text.
pub(super) type KwArg = (String, Val, usize, usize, String);

/// A shape given somewhere, or why it could not be read.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct ShapeHint {
    pub(super) shape: Result<Vec<usize>, String>,
    pub(super) line: usize,
    pub(super) col: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub(super) enum Entry {
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
pub(super) struct SeqModel {
    pub(super) name: String,
    pub(super) entries: Vec<Entry>,
    pub(super) build: Option<ShapeHint>,
    pub(super) line: usize,
    pub(super) col: usize,
    /// Functional model: the chain was already resolved from tensors.
    pub(super) functional: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub(super) struct Tensor {
    /// The input the chain starts from.
    pub(super) input: ShapeHint,
    origin: usize,
    /// The tensor this one was computed from (`None` for an input).
    parent: Option<usize>,
    /// The layer applied to the parent.
    layer: Option<LayerCall>,
    broken: Option<(usize, usize, String)>,
    /// Layers from the input to here.
    pub(super) len: usize,
    /// A layer called on several tensors (a merge's list, attention's query and value):
    /// the call and its inputs in argument order. Read by the graph importer only; the
    /// chain importer sees `broken`.
    pub(super) multi: Option<(LayerCall, Vec<usize>)>,
    /// `keras.Input(name=...)`.
    pub(super) input_name: Option<String>,
    /// Arithmetic on Keras tensors (`x + y`, `x * 0.5`): a Keras operation, not a layer;
    /// its number and whether the number comes first.
    pub(super) arith: Option<(char, Option<(f64, bool)>)>,
}

impl Tensor {
    /// The call that made this tensor and its inputs; `None` for a model input.
    #[cfg(not(target_arch = "wasm32"))]
    pub(super) fn made_by(&self) -> Option<(&LayerCall, Vec<usize>)> {
        match (&self.multi, &self.layer, self.parent) {
            (Some((call, ins)), _, _) => Some((call, ins.clone())),
            (None, Some(call), Some(p)) => Some((call, vec![p])),
            _ => None,
        }
    }
}

/// A `keras.Model(inputs=..., outputs=...)` call: its tensors, for the graph importer.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct GraphCall {
    /// The model it made (index into `Interp::models`).
    pub(super) model: usize,
    pub(super) inputs: Vec<usize>,
    pub(super) outputs: Vec<usize>,
}

/// Most statements executed (loops included) before giving up.
pub(super) const MAX_STEPS: usize = 100_000;
/// Longest sequence or string the evaluator builds.
const MAX_SEQ: usize = 10_000;

pub(super) struct Interp {
    /// Variables with their size in nodes.
    vars: HashMap<String, (Val, usize)>,
    /// Evaluation work done (nodes evaluated or copied), bounded by [`MAX_WORK`].
    pub(super) work: usize,
    pub(super) models: Vec<SeqModel>,
    pub(super) tensors: Vec<Tensor>,
    pub(super) graphs: Vec<GraphCall>,
    /// Layer constructor calls evaluated so far.
    layer_calls: usize,
    /// Model indices in order of last change.
    pub(super) touched: Vec<usize>,
    pub(super) warnings: Vec<CodeWarning>,
    pub(super) steps: usize,
    /// Nesting of blocks being executed.
    nesting: usize,
}

/// Most evaluation work (nodes evaluated or copied from variables) before giving up.
pub(super) const MAX_WORK: usize = 2_000_000;
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

pub(super) fn truthy(v: &Val) -> Option<bool> {
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
    pub(super) fn new() -> Self {
        Interp {
            vars: HashMap::new(),
            work: 0,
            models: Vec::new(),
            tensors: Vec::new(),
            graphs: Vec::new(),
            layer_calls: 0,
            touched: Vec::new(),
            warnings: Vec::new(),
            steps: 0,
            nesting: 0,
        }
    }

    pub(super) fn warn(&mut self, line: usize, col: usize, msg: impl Into<String>) {
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
            EK::Sub(base, idx) => self.subscript(e, base, idx),
            EK::Slice(..) | EK::Opaque(_) => Val::Opaque(text(e)),
            EK::Unary(op, x) => self.unary(e, op, x),
            EK::Bin(op, l, r) => self.binary(e, op, l, r),
            EK::IfExp(c, a, b) => match truthy(&self.eval(c)) {
                Some(true) => self.eval(a),
                Some(false) => self.eval(b),
                None => Val::Opaque(text(e)),
            },
        }
    }

    /// `base[idx]`: an index or slice of a tuple or list, or a dict lookup.
    fn subscript(&mut self, e: &Expr, base: &Expr, idx: &Expr) -> Val {
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

    fn unary(&mut self, e: &Expr, op: &str, x: &Expr) -> Val {
        let v = self.eval(x);
        match (op, &v) {
            ("-", Val::Int(i)) => i
                .checked_neg()
                .map_or_else(|| float_val(-(*i as f64)), Val::Int),
            ("-", Val::Float(f)) => Val::Float(-f),
            ("+", Val::Int(_) | Val::Float(_)) => v,
            ("not", _) => truthy(&v).map_or_else(|| Val::Opaque(text(e)), |b| Val::Bool(!b)),
            _ => Val::Opaque(text(e)),
        }
    }

    fn binary(&mut self, e: &Expr, op: &str, l: &Expr, r: &Expr) -> Val {
        let (a, b) = (self.eval(l), self.eval(r));
        match op {
            "and" | "or" => match truthy(&a) {
                Some(t) => {
                    if (op == "and") == t {
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
                Val::Bool((a == b) == (op == "is"))
            }
            _ if matches!(a, Val::Tensor(_)) || matches!(b, Val::Tensor(_)) => {
                self.tensor_arith(e, op, &a, &b)
            }
            _ => arith(op, &a, &b).unwrap_or_else(|| Val::Opaque(text(e))),
        }
    }

    /// `x + y`, `x * 0.5`, `3.0 - x` on Keras tensors: a Keras operation node.
    fn tensor_arith(&mut self, e: &Expr, op: &str, a: &Val, b: &Val) -> Val {
        let (kind, class) = match op {
            "+" => ('+', "Add"),
            "-" => ('-', "Subtract"),
            "*" => ('*', "Multiply"),
            "/" => ('/', "TrueDivide"),
            _ => return Val::Opaque(text(e)),
        };
        let number = |v: &Val| match v {
            Val::Int(i) => Some(*i as f64),
            Val::Float(f) => Some(*f),
            _ => None,
        };
        let (parents, constant) = match (a, b) {
            (Val::Tensor(x), Val::Tensor(y)) if kind != '/' => (vec![*x, *y], None),
            (Val::Tensor(x), other) => match number(other) {
                Some(c) => (vec![*x], Some((c, false))),
                None => return Val::Opaque(text(e)),
            },
            (other, Val::Tensor(y)) => match number(other) {
                Some(c) => (vec![*y], Some((c, true))),
                None => return Val::Opaque(text(e)),
            },
            _ => return Val::Opaque(text(e)),
        };
        let Some(first) = self.tensors.get(parents[0]).cloned() else {
            return Val::Opaque(text(e));
        };
        self.layer_calls += 1;
        let call = LayerCall {
            serial: self.layer_calls,
            class: class.to_string(),
            line: e.line,
            col: e.col,
            pos: Vec::new(),
            kw: Vec::new(),
        };
        let msg =
            "arithmetic on layer outputs: Flatland models are a single chain of layers".to_string();
        let next = Tensor {
            parent: Some(parents[0]),
            layer: None,
            broken: Some((e.line, e.col, msg)),
            multi: Some((call, parents)),
            input_name: None,
            arith: Some((kind, constant)),
            ..first
        };
        let id = self.tensors.len();
        self.tensors.push(next);
        Val::Tensor(id)
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
            Val::Layer(layer) => self.apply_layer(*layer, &pos, &kw, whole),
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

    fn kwarg(kw: &[KwArg], key: &str) -> Option<PosArg> {
        kw.iter()
            .find(|k| k.0 == key)
            .map(|k| (k.1.clone(), k.2, k.3, k.4.clone()))
    }

    fn call_path(
        &mut self,
        whole: &Expr,
        path: &str,
        last: &str,
        pos: Vec<PosArg>,
        kw: Vec<KwArg>,
    ) -> Val {
        let (line, col) = (whole.line, whole.col);
        match last {
            "Sequential" => self.sequential(whole, pos, &kw),
            "Model" | "Functional"
                if path == last || path.contains("keras") || path.starts_with("models.") =>
            {
                self.functional_model(whole, &pos, &kw)
            }
            "Input" => self.input(whole, &pos, &kw),
            "range" => range(&pos).unwrap_or_else(|| Val::Opaque(text(whole))),
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
                extreme(last, &pos).unwrap_or_else(|| Val::Opaque(text(whole)))
            }
            // `layers.add([a, b])`, `layers.concatenate([a, b], axis=1)`: the functional
            // forms of the merge layers.
            "add" | "subtract" | "multiply" | "average" | "maximum" | "minimum" | "concatenate"
            | "dot"
                if matches!(
                    pos.first().map(|p| &p.0),
                    Some(Val::List(_) | Val::Tuple(_))
                ) =>
            {
                let mut class = last.to_string();
                class[..1].make_ascii_uppercase();
                self.layer_calls += 1;
                let (inputs, rest) = pos.split_at(1);
                let mut kw = kw;
                // `dot(inputs, axes)`: the second positional is `axes`.
                if let (Some(a), "dot") = (rest.first(), last) {
                    kw.push(("axes".into(), a.0.clone(), a.1, a.2, a.3.clone()));
                }
                let layer = LayerCall {
                    serial: self.layer_calls,
                    class,
                    line,
                    col,
                    pos: Vec::new(),
                    kw: kw.clone(),
                };
                self.apply_layer(layer, inputs, &[], whole)
            }
            _ if last.chars().next().is_some_and(char::is_uppercase) => {
                self.layer_calls += 1;
                Val::Layer(Box::new(LayerCall {
                    serial: self.layer_calls,
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

    /// `Sequential(...)`, with its layers when given.
    fn sequential(&mut self, whole: &Expr, pos: Vec<PosArg>, kw: &[KwArg]) -> Val {
        let (line, col) = (whole.line, whole.col);
        let name = match Self::kwarg(kw, "name").map(|k| k.0) {
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
        let layers = pos.into_iter().next().or_else(|| Self::kwarg(kw, "layers"));
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

    /// `Input(shape)`: a new tensor, the start of a chain.
    fn input(&mut self, whole: &Expr, pos: &[PosArg], kw: &[KwArg]) -> Val {
        let (line, col) = (whole.line, whole.col);
        let shape = pos.first().cloned().or_else(|| Self::kwarg(kw, "shape"));
        let hint = match shape {
            Some((v, l, c, t)) => shape_hint(&v, false, l, c, &t),
            None => match Self::kwarg(kw, "batch_shape") {
                Some((v, l, c, t)) => shape_hint(&v, true, l, c, &t),
                None => ShapeHint {
                    shape: Err("`Input()` without `shape=`".into()),
                    line,
                    col,
                },
            },
        };
        let input_name = match Self::kwarg(kw, "name").map(|k| k.0) {
            Some(Val::Str(s)) => Some(s),
            _ => None,
        };
        let id = self.tensors.len();
        self.tensors.push(Tensor {
            input: hint,
            origin: id,
            parent: None,
            layer: None,
            broken: None,
            len: 0,
            multi: None,
            input_name,
            arith: None,
        });
        Val::Tensor(id)
    }

    /// The layers from a tensor's input to the tensor, in order.
    pub(super) fn chain(&self, t: usize) -> Vec<LayerCall> {
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

    /// `layer(x)` in the functional style; `layer([a, b])` and `layer(q, v)` (or
    /// `query=`, `value=`, `key=`) call it on several tensors.
    fn apply_layer(&mut self, layer: LayerCall, pos: &[PosArg], kw: &[KwArg], whole: &Expr) -> Val {
        let tensor = |v: &Val| match v {
            Val::Tensor(t) => Some(*t),
            _ => None,
        };
        let mut many: Vec<usize> = Vec::new();
        match pos.first().map(|p| &p.0) {
            Some(Val::List(ts) | Val::Tuple(ts)) if !ts.is_empty() => {
                match ts.iter().map(tensor).collect::<Option<Vec<_>>>() {
                    Some(v) => many = v,
                    None => return Val::Opaque(text(whole)),
                }
            }
            Some(Val::Tensor(_)) => {
                many = pos.iter().map_while(|p| tensor(&p.0)).collect();
            }
            _ => {}
        }
        for k in ["query", "value", "key"] {
            if let Some(t) = Self::kwarg(kw, k).and_then(|v| tensor(&v.0)) {
                many.push(t);
            }
        }
        let list = matches!(
            pos.first().map(|p| &p.0),
            Some(Val::List(_) | Val::Tuple(_))
        );
        match many.as_slice() {
            [] => Val::Opaque(text(whole)),
            [t] if !list => {
                let t = *t;
                let Some(src) = self.tensors.get(t).cloned() else {
                    return Val::Opaque(text(whole));
                };
                let next = Tensor {
                    input: src.input,
                    origin: src.origin,
                    parent: Some(t),
                    layer: Some(layer),
                    broken: src.broken,
                    len: src.len + 1,
                    multi: None,
                    input_name: None,
                    arith: None,
                };
                let id = self.tensors.len();
                self.tensors.push(next);
                Val::Tensor(id)
            }
            ts => {
                let first_id = ts[0];
                let Some(first) = self.tensors.get(first_id).cloned() else {
                    return Val::Opaque(text(whole));
                };
                let msg = format!(
                    "`{}` takes {} inputs: Flatland models are a single chain of layers",
                    layer.class,
                    ts.len()
                );
                let next = Tensor {
                    parent: Some(first_id),
                    layer: None,
                    broken: Some((whole.line, whole.col, msg)),
                    multi: Some((layer, ts.to_vec())),
                    input_name: None,
                    arith: None,
                    ..first
                };
                let id = self.tensors.len();
                self.tensors.push(next);
                Val::Tensor(id)
            }
        }
    }

    fn functional_model(&mut self, whole: &Expr, pos: &[PosArg], kw: &[KwArg]) -> Val {
        let (line, col) = (whole.line, whole.col);
        let inputs = Self::kwarg(kw, "inputs").or_else(|| pos.first().cloned());
        let outputs = Self::kwarg(kw, "outputs").or_else(|| pos.get(1).cloned());
        let name = match Self::kwarg(kw, "name").map(|k| k.0) {
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
        let tensors = |v: Option<&PosArg>| -> Option<Vec<usize>> {
            match v.map(|x| &x.0) {
                Some(Val::Tensor(t)) => Some(vec![*t]),
                Some(Val::List(x) | Val::Tuple(x)) if !x.is_empty() => x
                    .iter()
                    .map(|v| match v {
                        Val::Tensor(t) => Some(*t),
                        _ => None,
                    })
                    .collect(),
                _ => None,
            }
        };
        if let (Some(ins), Some(outs)) = (
            tensors(
                Self::kwarg(kw, "inputs")
                    .or_else(|| pos.first().cloned())
                    .as_ref(),
            ),
            tensors(
                Self::kwarg(kw, "outputs")
                    .or_else(|| pos.get(1).cloned())
                    .as_ref(),
            ),
        ) {
            self.graphs.push(GraphCall {
                model: idx,
                inputs: ins,
                outputs: outs,
            });
        }
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

    pub(super) fn exec_block(&mut self, stmts: &[Stmt]) {
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
            StmtKind::Header(head, _) => self.exec_header(head, body, if_taken),
        }
    }

    /// A compound statement's header (`for`, `if`, `def`...) with its body.
    fn exec_header(&mut self, head: &Head, body: &[Stmt], if_taken: &mut Option<bool>) {
        match head {
            Head::For(target, iter) => self.exec_for(target, iter, body),
            Head::If(c) | Head::Elif(c) => self.exec_if(c, body, if_taken),
            Head::Else => {
                if *if_taken == Some(false) {
                    self.exec_block(body);
                }
                *if_taken = None;
            }
            Head::Def(params) => self.exec_def(params, body),
            Head::Run => self.exec_block(body),
            Head::Skip => {}
        }
    }

    fn exec_for(&mut self, target: &Expr, iter: &Expr, body: &[Stmt]) {
        let v = self.eval(iter);
        if let Some(items) = seq_of(&v) {
            for it in items.iter().cloned() {
                if self.steps > MAX_STEPS || self.work > MAX_WORK {
                    break;
                }
                self.bind(target, it);
                self.exec_block(body);
            }
        } else {
            if body.iter().any(|b| b.relevant) {
                self.warn(
                    iter.line,
                    iter.col,
                    format!(
                        "cannot evaluate the loop over `{}`: its body is read once",
                        text(iter)
                    ),
                );
            }
            self.bind(target, Val::Opaque(text(target)));
            self.exec_block(body);
        }
    }

    /// `if`/`elif`: the body runs unless an earlier branch was taken or the condition is false.
    fn exec_if(&mut self, c: &Expr, body: &[Stmt], if_taken: &mut Option<bool>) {
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
                    self.warn(
                        c.line,
                        c.col,
                        format!(
                            "cannot evaluate the condition `{}`: Flatland reads this branch",
                            text(c)
                        ),
                    );
                }
                *if_taken = Some(true);
                self.exec_block(body);
            }
        }
    }

    /// `def f(a=1, ...)`: the parameters become variables and the body is read once.
    fn exec_def(&mut self, params: &[(String, Option<Expr>)], body: &[Stmt]) {
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
}

/// `range(...)` of integers, up to [`MAX_SEQ`] of them.
fn range(pos: &[PosArg]) -> Option<Val> {
    let ints: Vec<i64> = pos
        .iter()
        .filter_map(|p| if let Val::Int(i) = p.0 { Some(i) } else { None })
        .collect();
    if ints.len() != pos.len() || ints.is_empty() {
        return None;
    }
    let (a, b, s) = match ints.as_slice() {
        [b] => (0, *b, 1),
        [a, b] => (*a, *b, 1),
        [a, b, s, ..] => (*a, *b, *s),
        [] => return None,
    };
    if s == 0 {
        return None;
    }
    let count = if s > 0 {
        (b.saturating_sub(a)).max(0) / s
    } else {
        (a.saturating_sub(b)).max(0) / -s
    };
    if count > MAX_SEQ as i64 {
        return None;
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
    Some(Val::List(out))
}

/// `max`, `min` or `abs` (`last`) of numbers, or of one sequence of numbers.
fn extreme(last: &str, pos: &[PosArg]) -> Option<Val> {
    let nums: Vec<&Val> = match pos {
        [(v, ..)] => seq_of(v).map_or_else(|| vec![v], |s| s.iter().collect()),
        many => many.iter().map(|p| &p.0).collect(),
    };
    let mut best: Option<Val> = None;
    for v in nums {
        let (Some(x), Some(cur)) = (num(v), Some(best.as_ref().and_then(num))) else {
            return None;
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
        ("abs", Some(Val::Int(i))) => i.checked_abs().map(Val::Int),
        ("abs", Some(Val::Float(f))) => Some(Val::Float(f.abs())),
        ("abs", _) => None,
        (_, best) => best,
    }
}

/// Read a shape value. `batch`: the first entry is the batch axis (dropped).
pub(super) fn shape_hint(v: &Val, batch: bool, line: usize, col: usize, src: &str) -> ShapeHint {
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
