//! Recursive-descent parser: tokens to expressions ([`Expr`]) and statements ([`Stmt`]),
//! with error recovery inside brackets.

use super::lexer::{Tok, Token};
use super::tables::is_catalogue;

#[derive(Debug, Clone, PartialEq)]
pub(super) struct Expr {
    pub(super) kind: EK,
    pub(super) line: usize,
    pub(super) col: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub(super) enum EK {
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
pub(super) enum Arg {
    Pos(Expr),
    Kw(String, Expr, usize, usize),
    Star(Expr),
}

#[derive(Debug, Clone, PartialEq)]
pub(super) struct SyntaxErr {
    pub(super) line: usize,
    pub(super) col: usize,
    pub(super) msg: String,
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

    /// Error recovery inside brackets: back to `start`, skip the element, and keep the error
    /// (the element becomes `Opaque`).
    fn recover(&mut self, start: usize, saved_depth: usize, e: SyntaxErr) -> Expr {
        self.pos = start;
        self.depth = saved_depth;
        self.skip_element();
        let opaque = Expr {
            kind: EK::Opaque(format!("syntax error: {}", e.msg)),
            line: e.line,
            col: e.col,
        };
        self.recovered.push(e);
        opaque
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

    /// A left-associative chain `next (op next)*`, where `op_here` says which operator (if
    /// any) is at the current token. Each operator nests one level deeper, but only while
    /// the chain is parsed.
    fn chain(
        &mut self,
        op_here: impl Fn(&Self) -> Option<&'static str>,
        next: impl Fn(&mut Self) -> PResult<Expr>,
    ) -> PResult<Expr> {
        let base = self.depth;
        let r = self.chain_from(op_here, next);
        self.depth = base;
        r
    }

    fn chain_from(
        &mut self,
        op_here: impl Fn(&Self) -> Option<&'static str>,
        next: impl Fn(&mut Self) -> PResult<Expr>,
    ) -> PResult<Expr> {
        let mut left = next(self)?;
        while let Some(op) = op_here(self) {
            self.pos += 1;
            self.enter()?;
            let right = next(self)?;
            left = bin(op, left, right);
        }
        Ok(left)
    }

    /// The operator at the current token, if it is one of `ops`.
    fn op_in(&self, ops: &[&'static str]) -> Option<&'static str> {
        match self.peek() {
            Some(Tok::Op(o)) if ops.contains(o) => Some(o),
            _ => None,
        }
    }

    fn or_test(&mut self) -> PResult<Expr> {
        self.chain(|p| p.is_kw("or").then_some("or"), Self::and_test)
    }

    fn and_test(&mut self) -> PResult<Expr> {
        self.chain(|p| p.is_kw("and").then_some("and"), Self::not_test)
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
        self.chain(|p| p.op_in(&["|", "^", "&", "<<", ">>"]), Self::arith)
    }

    fn arith(&mut self) -> PResult<Expr> {
        self.chain(|p| p.op_in(&["+", "-"]), Self::term)
    }

    fn term(&mut self) -> PResult<Expr> {
        self.chain(|p| p.op_in(&["*", "/", "//", "%", "@"]), Self::factor)
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
        Ok(one_or_tuple(items, line, col))
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
                Err(e) => args.push(Arg::Pos(self.recover(start, saved_depth, e))),
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
                Err(e) => items.push(self.recover(start, saved_depth, e)),
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

/// One expression as itself, several (or none) as a tuple.
fn one_or_tuple(mut items: Vec<Expr>, line: usize, col: usize) -> Expr {
    if items.len() == 1 {
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
pub(super) fn text(e: &Expr) -> String {
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
pub(super) enum Head {
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
pub(super) enum StmtKind {
    Expr(Expr),
    Assign(Vec<Expr>, Expr),
    AugAssign(Expr, &'static str, Expr),
    Header(Head, Option<Box<Stmt>>),
    Ignore,
    Bad(SyntaxErr),
}

#[derive(Debug, Clone)]
pub(super) struct Stmt {
    pub(super) indent: usize,
    pub(super) kind: StmtKind,
    /// Recovered syntax errors inside brackets.
    pub(super) recovered: Vec<SyntaxErr>,
    /// Whether the line mentions models or layers (decides if a syntax error is reported).
    pub(super) relevant: bool,
    /// Line and column of the first token.
    pub(super) pos: Option<(usize, usize)>,
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

pub(super) fn parse_stmt(tokens: &[Token], indent: usize) -> Stmt {
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
            skip_to_colon(p);
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
            let params = def_params(p)?;
            header(p, Head::Def(params))
        }
        _ => simple_stmt(p),
    }
}

/// Skip to the header's colon at bracket depth 0.
fn skip_to_colon(p: &mut Parser<'_>) {
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
}

/// `def`'s name and parameters (with their defaults), up to the header's colon.
fn def_params(p: &mut Parser<'_>) -> PResult<Vec<(String, Option<Expr>)>> {
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
    Ok(params)
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
    Ok(one_or_tuple(items, line, col))
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
