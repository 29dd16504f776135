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
