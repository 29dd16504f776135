//! Tokenizer: source text to logical lines of tokens (brackets join lines, `;` splits them).

#[derive(Debug, Clone, PartialEq)]
pub(super) enum Tok {
    Name(String),
    Int(i64),
    Float(f64),
    Str(String),
    Op(&'static str),
    Error(String),
}

#[derive(Debug, Clone, PartialEq)]
pub(super) struct Token {
    pub(super) tok: Tok,
    pub(super) line: usize,
    pub(super) col: usize,
}

#[derive(Debug, Clone)]
pub(super) struct LogicalLine {
    pub(super) indent: usize,
    pub(super) tokens: Vec<Token>,
}

const OPS: &[&str] = &[
    "**=", "//=", ">>=", "<<=", "...", "**", "//", "==", "!=", "<=", ">=", "->", "+=", "-=", "*=",
    "/=", "%=", "&=", "|=", "^=", "@=", ":=", "<<", ">>", "(", ")", "[", "]", "{", "}", ",", ":",
    ".", ";", "=", "+", "-", "*", "/", "%", "@", "<", ">", "&", "|", "^", "~", "!",
];

/// Longest input accepted, in characters (a pasted script is far smaller).
const MAX_SOURCE: usize = 1 << 20;

pub(super) fn tokenize(src: &str) -> Vec<LogicalLine> {
    let mut lx = Lexer {
        chars: src.chars().take(MAX_SOURCE).collect(),
        i: 0,
        line: 1,
        col: 1,
        lines: Vec::new(),
        cur: Vec::new(),
        cur_indent: 0,
        depth: 0,
        at_line_start: true,
        indent_width: 0,
    };
    while let Some(&c) = lx.chars.get(lx.i) {
        lx.step(c);
    }
    lx.flush();
    lx.lines
}

/// The tokenizer's state: position in the source and the logical line being collected.
struct Lexer {
    chars: Vec<char>,
    i: usize,
    line: usize,
    col: usize,
    lines: Vec<LogicalLine>,
    cur: Vec<Token>,
    cur_indent: usize,
    /// Bracket depth: inside brackets, newlines do not end the logical line.
    depth: usize,
    at_line_start: bool,
    indent_width: usize,
}

impl Lexer {
    fn flush(&mut self) {
        if !self.cur.is_empty() {
            self.lines.push(LogicalLine {
                indent: self.cur_indent,
                tokens: std::mem::take(&mut self.cur),
            });
        }
    }

    fn push(&mut self, tok: Tok, line: usize, col: usize) {
        self.cur.push(Token { tok, line, col });
    }

    /// Consume what starts with `c`, the character at `self.i`.
    fn step(&mut self, c: char) {
        match c {
            '\n' | '\r' => return self.newline(c),
            ' ' | '\t' | '\x0c' => return self.blank(c),
            '#' => return self.comment(),
            '\\' => return self.backslash(),
            _ => {}
        }
        if self.cur.is_empty() && self.depth == 0 {
            self.cur_indent = if self.at_line_start {
                self.indent_width
            } else {
                self.cur_indent
            };
        }
        self.at_line_start = false;
        if let Some(quote) = self.quote_at() {
            self.string(quote);
        } else if c.is_alphabetic() || c == '_' {
            self.word();
        } else if c.is_ascii_digit()
            || (c == '.' && self.chars.get(self.i + 1).is_some_and(char::is_ascii_digit))
        {
            self.number_literal(c);
        } else {
            self.operator(c);
        }
    }

    fn newline(&mut self, c: char) {
        if c == '\r' && self.chars.get(self.i + 1) == Some(&'\n') {
            self.i += 1;
        }
        self.i += 1;
        self.line += 1;
        self.col = 1;
        if self.depth == 0 {
            self.flush();
            self.at_line_start = true;
            self.indent_width = 0;
        }
    }

    fn blank(&mut self, c: char) {
        if self.at_line_start {
            self.indent_width = if c == '\t' {
                (self.indent_width / 8 + 1) * 8
            } else {
                self.indent_width + 1
            };
        }
        self.i += 1;
        self.col += 1;
    }

    fn comment(&mut self) {
        let n = self.chars.len();
        while self.i < n && self.chars[self.i] != '\n' && self.chars[self.i] != '\r' {
            self.i += 1;
            self.col += 1;
        }
    }

    /// Explicit line joining, or a stray backslash.
    fn backslash(&mut self) {
        let (chars, n) = (&self.chars, self.chars.len());
        let mut j = self.i + 1;
        while j < n && (chars[j] == ' ' || chars[j] == '\t') {
            j += 1;
        }
        if j >= n || chars[j] == '\n' || chars[j] == '\r' {
            if j < n && chars[j] == '\r' && chars.get(j + 1) == Some(&'\n') {
                j += 1;
            }
            self.i = j + 1;
            self.line += 1;
            self.col = 1;
            return;
        }
        self.push(
            Tok::Error("unexpected backslash".into()),
            self.line,
            self.col,
        );
        self.i += 1;
        self.col += 1;
    }

    /// Where the opening quote is, when a string literal (with an optional prefix such as
    /// r, b, f, rb) starts here.
    fn quote_at(&self) -> Option<usize> {
        let (i, n) = (self.i, self.chars.len());
        let mut p = i;
        while p < n
            && p - i < 2
            && matches!(self.chars[p], 'r' | 'R' | 'b' | 'B' | 'u' | 'U' | 'f' | 'F')
        {
            p += 1;
        }
        (p < n && (self.chars[p] == '\'' || self.chars[p] == '"')).then_some(p)
    }

    /// A string literal from `self.i` whose opening quote is at `quote`.
    fn string(&mut self, quote: usize) {
        let (tline, tcol) = (self.line, self.col);
        let n = self.chars.len();
        let raw = self.chars[self.i..quote]
            .iter()
            .any(|c| matches!(c, 'r' | 'R'));
        let q = self.chars[quote];
        let triple = quote + 2 < n && self.chars[quote + 1] == q && self.chars[quote + 2] == q;
        let start = quote + if triple { 3 } else { 1 };
        self.col += start - self.i;
        self.i = start;
        let mut s = String::new();
        let tok = if self.string_body(q, triple, raw, &mut s) {
            Tok::Str(s)
        } else {
            Tok::Error("unterminated string".into())
        };
        self.push(tok, tline, tcol);
    }

    /// A string's characters up to and including the closing quote; `false` when the
    /// string is not closed.
    fn string_body(&mut self, q: char, triple: bool, raw: bool, s: &mut String) -> bool {
        let n = self.chars.len();
        while self.i < n {
            let j = self.i;
            let ch = self.chars[j];
            if triple {
                if ch == q && j + 2 < n && self.chars[j + 1] == q && self.chars[j + 2] == q {
                    self.i += 3;
                    self.col += 3;
                    return true;
                }
            } else if ch == q {
                self.i += 1;
                self.col += 1;
                return true;
            } else if ch == '\n' || ch == '\r' {
                return false;
            }
            if ch == '\\' && j + 1 < n {
                self.escape(self.chars[j + 1], raw, s);
                continue;
            }
            if ch == '\n' {
                self.line += 1;
                self.col = 1;
            } else {
                self.col += 1;
            }
            s.push(ch);
            self.i += 1;
        }
        false
    }

    /// A backslash followed by `nx` inside a string.
    fn escape(&mut self, nx: char, raw: bool, s: &mut String) {
        if raw {
            s.push('\\');
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
            self.line += 1;
            self.col = 1;
        } else {
            self.col += 2;
        }
        self.i += 2;
    }

    fn word(&mut self) {
        let (tline, tcol) = (self.line, self.col);
        let (i, n) = (self.i, self.chars.len());
        let mut j = i;
        while j < n && (self.chars[j].is_alphanumeric() || self.chars[j] == '_') {
            j += 1;
        }
        let word: String = self.chars[i..j].iter().collect();
        self.col += j - i;
        self.i = j;
        self.push(Tok::Name(word), tline, tcol);
    }

    fn number_literal(&mut self, c: char) {
        let (tline, tcol) = (self.line, self.col);
        let (i, n, chars) = (self.i, self.chars.len(), &self.chars);
        let mut j = i;
        let hex = c == '0' && matches!(chars.get(i + 1), Some('x' | 'X' | 'o' | 'O' | 'b' | 'B'));
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
        self.col += j - i;
        self.i = j;
        self.push(number(&text), tline, tcol);
    }

    /// An operator or bracket (`;` ends the logical line), or an unexpected character.
    fn operator(&mut self, c: char) {
        let (tline, tcol) = (self.line, self.col);
        let (i, n) = (self.i, self.chars.len());
        let rest: String = self.chars[i..n.min(i + 3)].iter().collect();
        let Some(&op) = OPS.iter().find(|op| rest.starts_with(**op)) else {
            self.push(
                Tok::Error(format!("unexpected character `{c}`")),
                tline,
                tcol,
            );
            self.i += 1;
            self.col += 1;
            return;
        };
        match op {
            "(" | "[" | "{" => self.depth += 1,
            ")" | "]" | "}" => self.depth = self.depth.saturating_sub(1),
            _ => {}
        }
        let len = op.chars().count();
        self.i += len;
        self.col += len;
        if op == ";" && self.depth == 0 {
            self.flush();
            return;
        }
        self.push(Tok::Op(op), tline, tcol);
    }
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
