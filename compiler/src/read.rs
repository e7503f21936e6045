//! The reader: Menai source text to S-expressions (`sexp`), implementing
//! the lexical rules of LANGUAGE.md §2.
//!
//! Three steps:
//! 1. A chumsky lexer splits the text into raw tokens: `(`, `)`, `'`,
//!    string literals (escapes decoded, bad escapes collected), commas,
//!    invalid control characters, and *atoms* (maximal runs of
//!    non-delimiter characters). Whitespace and `;` comments are skipped.
//!    The lexer is total: every character belongs to some token, so it
//!    never fails; errors travel inside the tokens.
//! 2. Atoms are classified by hand-written functions: numbers with Python's
//!    `int()`/`float()` grammar, complex numbers, based integers, `#` forms,
//!    symbols.
//! 3. An *iterative* stack-based builder assembles lists and `'x` →
//!    `(quote x)`. It is not a chumsky parser on purpose: chumsky recurses
//!    once per nesting level, and the reader must handle 100,000 levels
//!    without depending on the stack size.
//!
//! Invariants: every node carries a byte-offset [`Span`] into `text` for the
//! given file; every error is reported (the reader never stops at the first
//! one) with the span of the offending characters, and diagnostics come out
//! sorted by position (at most [`MAX_ERRORS`] of them, then a count of the
//! rest). When any diagnostic is returned, the datums are a
//! best-effort recovery (invalid atoms are kept as symbols with their raw
//! text) and must not be compiled. Nesting deeper than [`MAX_DEPTH`] is an
//! error; the too-deep datum is skipped.

use crate::diagnostic::Diagnostic;
use crate::ir::Span;
use crate::sexp::{Sexp, SexpKind};
use chumsky::prelude::*;
use num_bigint::BigInt;
use num_traits::Num;

/// The deepest nesting of lists (and quotes) the reader accepts.
pub const MAX_DEPTH: usize = 100_000;

/// How many unclosed `(` get their own diagnostic (the outermost one always
/// does).
const MAX_UNCLOSED_REPORTED: usize = 20;

/// The reader reports at most this many errors (in source order), then
/// one saying how many more there are.
pub const MAX_ERRORS: usize = 100;

/// How many characters of source text a message quotes.
const EXCERPT_CHARS: usize = 32;

/// Reads every datum of `text` (file number `file`), returning them with all
/// lexical and parse errors found.
pub fn read(file: u32, text: &str) -> (Vec<Sexp>, Vec<Diagnostic>) {
    let mut diags = Vec::new();
    if u32::try_from(text.len()).is_err() {
        diags.push(Diagnostic::error(
            Span {
                file,
                start: 0,
                end: 0,
            },
            "source file too large (more than 4 GiB)",
        ));
        return (Vec::new(), diags);
    }
    let (tokens, errs) = lexer().parse(text).into_output_errors();
    // The lexer accepts every input; report anything unexpected rather than panic.
    if !errs.is_empty() {
        diags.push(Diagnostic::error(
            mk_span(file, 0, text.len()),
            "internal error: the lexer rejected this input",
        ));
    }
    let tokens = tokens.unwrap_or_default();
    let mut builder = Builder {
        file,
        text,
        stack: Vec::new(),
        top: Vec::new(),
        diags,
        skip: None,
        last_end: 0,
    };
    for (tok, sp) in tokens {
        builder.token(tok, sp.start, sp.end);
    }
    builder.finish()
}

fn mk_span(file: u32, start: usize, end: usize) -> Span {
    Span {
        file,
        start: u32::try_from(start).unwrap_or(u32::MAX),
        end: u32::try_from(end).unwrap_or(u32::MAX),
    }
}

// ---------------------------------------------------------------------------
// Stage 1: the chumsky lexer.

/// A raw token. Spans are attached alongside, as chumsky byte offsets.
#[derive(Clone, Debug, PartialEq)]
enum Tok<'a> {
    LParen,
    RParen,
    Quote,
    /// A string literal: its decoded value, the errors inside it (bad
    /// escapes, with byte ranges), and whether the closing `"` was found.
    Str {
        value: String,
        errors: Vec<(usize, usize, String)>,
        terminated: bool,
    },
    /// A maximal run of non-delimiter characters.
    Atom(&'a str),
    /// A comma: it ends a token but is itself invalid.
    Comma,
    /// A control character that is not whitespace.
    Control(char),
}

/// One piece of a string literal: a character or an escape error.
#[derive(Clone, Debug)]
enum Piece {
    Char(char),
    Bad(usize, usize, String),
}

/// The whitespace set of §2: space, `\t`, `\n`, `\v`, `\f`, `\r`.
pub fn is_whitespace(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\x0b' | '\x0c' | '\r')
}

/// Characters that can appear in an atom: everything except whitespace,
/// delimiters, the comma and control characters.
fn is_atom_char(c: char) -> bool {
    !(is_whitespace(c) || matches!(c, '(' | ')' | '\'' | '"' | ';' | ',') || c.is_control())
}

/// The lexer never fails, so it needs no error details (which would cost
/// time at every failed alternative).
type Extra = extra::Default;

fn lexer<'a>() -> impl Parser<'a, &'a str, Vec<(Tok<'a>, SimpleSpan)>, Extra> {
    let whitespace = any().filter(|c: &char| is_whitespace(*c)).ignored();
    let comment = just(';')
        .then(any().filter(|c: &char| *c != '\n').repeated())
        .ignored();
    let trivia = choice((whitespace, comment)).repeated();

    let hex4 = any()
        .filter(|c: &char| c.is_ascii_hexdigit())
        .repeated()
        .at_most(4)
        .to_slice();
    let escape = just('\\').ignore_then(choice((
        just('"').to('"').map(Ok),
        just('\\').to('\\').map(Ok),
        just('n').to('\n').map(Ok),
        just('t').to('\t').map(Ok),
        just('r').to('\r').map(Ok),
        just('u').ignore_then(hex4).map(|digits: &str| {
            if digits.len() != 4 {
                return Err(format!(
                    "invalid escape '\\u{digits}': \\u needs exactly four hex digits"
                ));
            }
            match u32::from_str_radix(digits, 16)
                .ok()
                .and_then(char::from_u32)
            {
                Some(c) => Ok(c),
                None => Err(format!(
                    "invalid escape '\\u{digits}': U+{} is a surrogate, not a character",
                    digits.to_ascii_uppercase()
                )),
            }
        }),
        any().map(|c: char| Err(format!("invalid escape '\\{c}'"))),
    )));
    let piece = choice((
        escape.map_with(|r: Result<char, String>, e| {
            let sp: SimpleSpan = e.span();
            match r {
                Ok(c) => Piece::Char(c),
                Err(msg) => Piece::Bad(sp.start, sp.end, msg),
            }
        }),
        any()
            .filter(|c: &char| *c != '"' && *c != '\\')
            .map(Piece::Char),
        // A backslash at the very end of the input: the string is
        // unterminated, which is reported; keep the backslash.
        just('\\').to(Piece::Char('\\')),
    ));
    let string = just('"')
        .ignore_then(piece.repeated().collect::<Vec<Piece>>())
        .then(just('"').or_not())
        .map(|(pieces, close)| {
            let mut value = String::new();
            let mut errors = Vec::new();
            for p in pieces {
                match p {
                    Piece::Char(c) => value.push(c),
                    Piece::Bad(s, e, m) => errors.push((s, e, m)),
                }
            }
            Tok::Str {
                value,
                errors,
                terminated: close.is_some(),
            }
        })
        .boxed();

    let token = choice((
        just('(').to(Tok::LParen),
        just(')').to(Tok::RParen),
        just('\'').to(Tok::Quote),
        just(',').to(Tok::Comma),
        string,
        any()
            .filter(|c: &char| is_atom_char(*c))
            .repeated()
            .at_least(1)
            .to_slice()
            .map(Tok::Atom),
        // Every other character is a non-whitespace control character.
        any().map(Tok::Control),
    ))
    .map_with(|t, e| (t, e.span()));

    trivia
        .ignore_then(token.then_ignore(trivia).repeated().collect::<Vec<_>>())
        .then_ignore(end())
}

// ---------------------------------------------------------------------------
// Stage 2: atoms.

/// Classifies one atom. Returns the datum kind (a symbol with the raw text
/// when invalid) and the errors found, as (start, end, message) with byte
/// offsets relative to the atom.
fn classify_atom(tok: &str) -> (SexpKind, Vec<(usize, usize, String)>) {
    let bytes = tok.as_bytes();
    let bad = |msg: String| (SexpKind::Symbol(tok.to_string()), vec![(0, tok.len(), msg)]);
    let is_base = |b: u8| matches!(b, b'x' | b'X' | b'o' | b'O' | b'b' | b'B' | b'd' | b'D');
    match bytes {
        [b'#', ..] => {
            return match tok {
                "#t" => (SexpKind::Bool(true), Vec::new()),
                "#f" => (SexpKind::Bool(false), Vec::new()),
                "#none" => (SexpKind::None, Vec::new()),
                _ if bytes.len() >= 2 && is_base(bytes[1]) => match read_based(tok, &tok[1..]) {
                    Ok(n) => (SexpKind::Int(n), Vec::new()),
                    Err(m) => bad(m),
                },
                _ => bad(format!(
                    "invalid '#' form '{}' (expected #t, #f, #none or a based number)",
                    shown(tok)
                )),
            };
        }
        [b'-', b'#', c, ..] if is_base(*c) => {
            return match read_based(tok, &tok[2..]) {
                Ok(n) => (SexpKind::Int(-n), Vec::new()),
                Err(m) => bad(m),
            };
        }
        [b'+', b'#', c, ..] if is_base(*c) => {
            return bad(format!(
                "malformed number '{}': a based number cannot start with '+'",
                shown(tok)
            ));
        }
        _ => {}
    }
    if starts_numeric(bytes) {
        return match read_number(tok) {
            Ok(k) => (k, Vec::new()),
            Err(m) => bad(m),
        };
    }
    check_symbol(tok)
}

/// Whether a token is numeric (§2): it starts with a digit, `.` and a
/// digit, or `+`/`-` followed by a digit or by `.` and a digit.
fn starts_numeric(b: &[u8]) -> bool {
    let digit = |i: usize| b.get(i).is_some_and(u8::is_ascii_digit);
    let dot_digit = |i: usize| b.get(i) == Some(&b'.') && digit(i + 1);
    match b.first() {
        Some(b'+' | b'-') => digit(1) || dot_digit(1),
        Some(_) => digit(0) || dot_digit(0),
        None => false,
    }
}

/// Reads the part `s` of a based integer token `tok` after its `#`: a
/// base letter then at least one digit of that base (and nothing else).
fn read_based(tok: &str, s: &str) -> Result<BigInt, String> {
    let malformed = |why: String| format!("malformed number '{}': {why}", shown(tok));
    let mut chars = s.chars();
    let (radix, name) = match chars.next() {
        Some('x' | 'X') => (16, "hexadecimal"),
        Some('o' | 'O') => (8, "octal"),
        Some('b' | 'B') => (2, "binary"),
        Some('d' | 'D') => (10, "decimal"),
        _ => return Err(malformed("unknown base".to_string())),
    };
    let digits = chars.as_str();
    if digits.is_empty() {
        return Err(malformed("no digits after the base prefix".to_string()));
    }
    if let Some(c) = digits.chars().find(|c| !c.is_digit(radix)) {
        return Err(malformed(format!("'{c}' is not a {name} digit")));
    }
    BigInt::from_str_radix(digits, radix).map_err(|e| malformed(e.to_string()))
}

/// Reads a numeric token (not a based one): complex if it ends in `j`/`J`,
/// else a float if it contains `.`, `e` or `E`, else an integer.
fn read_number(tok: &str) -> Result<SexpKind, String> {
    let malformed = || format!("malformed number '{}'", shown(tok));
    if let Some(body) = tok.strip_suffix(['j', 'J']) {
        let b = body.as_bytes();
        let split =
            (1..b.len()).find(|&i| matches!(b[i], b'+' | b'-') && !matches!(b[i - 1], b'e' | b'E'));
        let (re, im) = match split {
            Some(i) => (
                python_float(&body[..i]).ok_or_else(malformed)?,
                python_float(&body[i..]).ok_or_else(malformed)?,
            ),
            None => (0.0, python_float(body).ok_or_else(malformed)?),
        };
        return Ok(SexpKind::Complex(re, im));
    }
    if tok.contains(['.', 'e', 'E']) {
        return python_float(tok).map(SexpKind::Float).ok_or_else(malformed);
    }
    python_int(tok).map(SexpKind::Int).ok_or_else(malformed)
}

/// Python's digit part: digits, single underscores allowed between digits.
/// Returns the index just past it (equal to `i` when there is none).
fn digitpart(b: &[u8], mut i: usize) -> usize {
    let start = i;
    while i < b.len() {
        // A digit, or an underscore between a digit and a digit.
        let underscore = b[i] == b'_' && i > start && b.get(i + 1).is_some_and(u8::is_ascii_digit);
        if b[i].is_ascii_digit() || underscore {
            i += 1;
        } else {
            break;
        }
    }
    i
}

/// Python's `int()` on a string (base 10): optional sign, then digits with
/// single underscores between them. Leading zeros are allowed.
pub fn python_int(s: &str) -> Option<BigInt> {
    let b = s.as_bytes();
    let (neg, i) = match b.first() {
        Some(b'-') => (true, 1),
        Some(b'+') => (false, 1),
        _ => (false, 0),
    };
    let end = digitpart(b, i);
    if end == i || end != b.len() {
        return None;
    }
    let digits: String = s[i..].chars().filter(|c| *c != '_').collect();
    let n = BigInt::from_str_radix(&digits, 10).ok()?;
    Some(if neg { -n } else { n })
}

/// Python's `float()` on a string: optional sign, then `inf`, `infinity`
/// or `nan` (any case), or a decimal with optional fraction and exponent,
/// underscores allowed between digits. Correctly rounded; overflow gives
/// an infinity.
pub fn python_float(s: &str) -> Option<f64> {
    let b = s.as_bytes();
    let (neg, i) = match b.first() {
        Some(b'-') => (true, 1),
        Some(b'+') => (false, 1),
        _ => (false, 0),
    };
    let rest = &s[i..];
    let special = rest.to_ascii_lowercase();
    let mag = if special == "inf" || special == "infinity" {
        f64::INFINITY
    } else if special == "nan" {
        f64::NAN
    } else {
        let int_end = digitpart(b, i);
        let mut j = int_end;
        let mut frac_digits = 0;
        if b.get(j) == Some(&b'.') {
            let f_end = digitpart(b, j + 1);
            frac_digits = f_end - (j + 1);
            j = f_end;
        }
        if int_end == i && frac_digits == 0 {
            return None;
        }
        if matches!(b.get(j), Some(b'e' | b'E')) {
            let mut k = j + 1;
            if matches!(b.get(k), Some(b'+' | b'-')) {
                k += 1;
            }
            let e_end = digitpart(b, k);
            if e_end == k {
                return None;
            }
            j = e_end;
        }
        if j != b.len() {
            return None;
        }
        let cleaned: String = rest.chars().filter(|c| *c != '_').collect();
        cleaned.parse::<f64>().ok()?
    };
    Some(if neg { -mag } else { mag })
}

/// Characters (besides letters) a symbol may start with.
fn is_symbol_start(c: char) -> bool {
    c.is_ascii_alphabetic()
        || matches!(
            c,
            '*' | '/'
                | '%'
                | '<'
                | '>'
                | '='
                | '!'
                | '&'
                | '|'
                | '^'
                | '~'
                | '_'
                | '?'
                | '$'
                | '+'
                | '-'
                | '.'
        )
        || (!c.is_ascii() && c.is_alphabetic())
}

/// Characters a symbol may continue with.
fn is_symbol_continue(c: char) -> bool {
    c.is_alphanumeric()
        || matches!(
            c,
            '-' | '+'
                | '*'
                | '/'
                | '%'
                | '<'
                | '>'
                | '='
                | '!'
                | '&'
                | '|'
                | '^'
                | '~'
                | '?'
                | '_'
                | '.'
                | '$'
        )
}

/// Checks a non-numeric, non-`#` atom as a symbol: each run of invalid
/// characters is one error.
fn check_symbol(tok: &str) -> (SexpKind, Vec<(usize, usize, String)>) {
    let mut errors: Vec<(usize, usize, String)> = Vec::new();
    let mut run: Option<(usize, usize)> = None;
    let flush = |run: &mut Option<(usize, usize)>, errors: &mut Vec<(usize, usize, String)>| {
        if let Some((s, e)) = run.take() {
            let bad = &tok[s..e];
            let what = if bad.chars().count() == 1 {
                format!("invalid character {}", describe_char(bad))
            } else {
                format!("invalid characters {}", describe_char(bad))
            };
            if e - s == tok.len() {
                errors.push((s, e, what));
            } else {
                errors.push((s, e, format!("{what} in symbol '{}'", shown(tok))));
            }
        }
    };
    for (i, c) in tok.char_indices() {
        let ok = if i == 0 {
            is_symbol_start(c)
        } else {
            is_symbol_continue(c)
        };
        if ok {
            flush(&mut run, &mut errors);
        } else {
            let end = i + c.len_utf8();
            run = Some(match run {
                Some((s, _)) => (s, end),
                None => (i, end),
            });
        }
    }
    flush(&mut run, &mut errors);
    (SexpKind::Symbol(tok.to_string()), errors)
}

/// At most [`EXCERPT_CHARS`] characters of `s` (then `…`), for messages.
fn shown(s: &str) -> String {
    let mut chars = s.chars();
    let mut out: String = chars.by_ref().take(EXCERPT_CHARS).collect();
    if chars.next().is_some() {
        out.push('…');
    }
    out
}

/// Quotes text for a message, naming invisible characters by code point.
fn describe_char(s: &str) -> String {
    let s = &shown(s);
    if s.chars()
        .all(|c| !c.is_control() && !c.is_whitespace() && c != '\u{feff}')
    {
        format!("'{s}'")
    } else {
        let names: Vec<String> = s.chars().map(|c| format!("U+{:04X}", c as u32)).collect();
        names.join(" ")
    }
}

// ---------------------------------------------------------------------------
// Stage 3: building the tree, iteratively.

enum Frame {
    /// An open `(`: its start offset and the items read so far.
    List { start: usize, items: Vec<Sexp> },
    /// A `'` waiting for its datum: the quote's span.
    Quote { start: usize, end: usize },
}

/// Skipping a datum that nests too deeply: the number of `(` still open
/// inside the skipped part.
struct Skip {
    parens: usize,
}

struct Builder<'a> {
    file: u32,
    text: &'a str,
    stack: Vec<Frame>,
    top: Vec<Sexp>,
    diags: Vec<Diagnostic>,
    skip: Option<Skip>,
    /// End of the last token seen (for the span of unclosed lists).
    last_end: usize,
}

impl Builder<'_> {
    fn span(&self, start: usize, end: usize) -> Span {
        mk_span(self.file, start, end)
    }

    /// The source text of `start..end` for a message: up to its first
    /// line break, at most [`EXCERPT_CHARS`] characters, with `…` when cut.
    fn excerpt(&self, start: usize, end: usize) -> String {
        let text = self.text.get(start..end).unwrap_or("");
        let mut out = String::new();
        let mut chars = text.chars();
        for c in chars.by_ref().take(EXCERPT_CHARS) {
            if c == '\n' || c == '\r' {
                break;
            }
            out.push(c);
        }
        let full = out.len();
        let out_trimmed = out.trim_end().to_string();
        if full < text.trim_end().len() {
            return out_trimmed + "…";
        }
        out_trimmed
    }

    /// The run of non-delimiter characters and commas around `start..end`
    /// (how a comma looks to the person who wrote it: `1,2`), at most
    /// [`EXCERPT_CHARS`] characters on each side.
    fn around(&self, start: usize, end: usize) -> &str {
        let part = |c: char| is_atom_char(c) || c == ',';
        let before = self.text.get(..start).unwrap_or("");
        let after = self.text.get(end..).unwrap_or("");
        let mut s = start;
        for (i, c) in before.char_indices().rev().take(EXCERPT_CHARS) {
            if !part(c) {
                break;
            }
            s = i;
        }
        let mut e = end;
        for (i, c) in after.char_indices().take(EXCERPT_CHARS) {
            if !part(c) {
                break;
            }
            e = end + i + c.len_utf8();
        }
        self.text.get(s..e).unwrap_or(",")
    }

    fn error(&mut self, start: usize, end: usize, msg: impl Into<String>) {
        let d = Diagnostic::error(self.span(start, end), msg);
        self.diags.push(d);
    }

    fn token(&mut self, tok: Tok<'_>, start: usize, end: usize) {
        self.last_end = end;
        if let Some(skip) = &mut self.skip {
            match tok {
                Tok::LParen => skip.parens += 1,
                Tok::RParen if skip.parens == 0 => {
                    // Closes an enclosing list: the skipped quotes had no datum.
                    self.end_skip();
                    self.close(start, end);
                }
                Tok::RParen => {
                    skip.parens -= 1;
                    if skip.parens == 0 {
                        self.end_skip();
                    }
                }
                Tok::Quote | Tok::Comma | Tok::Control(_) => {}
                Tok::Str { .. } | Tok::Atom(_) => {
                    if skip.parens == 0 {
                        self.end_skip();
                    }
                }
            }
            return;
        }
        match tok {
            Tok::LParen | Tok::Quote if self.stack.len() >= MAX_DEPTH => {
                self.error(
                    start,
                    end,
                    format!(
                        "nesting too deep (more than {MAX_DEPTH} levels); this datum is skipped"
                    ),
                );
                self.skip = Some(Skip {
                    parens: usize::from(tok == Tok::LParen),
                });
            }
            Tok::LParen => self.stack.push(Frame::List {
                start,
                items: Vec::new(),
            }),
            Tok::Quote => self.stack.push(Frame::Quote { start, end }),
            Tok::RParen => self.close(start, end),
            Tok::Comma => {
                let around = self.around(start, end);
                let msg = if around == "," {
                    "invalid character ','".to_string()
                } else {
                    format!("invalid character ',' in '{around}'")
                };
                self.error(start, end, msg);
            }
            Tok::Control(c) => self.error(
                start,
                end,
                format!("invalid control character U+{:04X}", c as u32),
            ),
            Tok::Str {
                value,
                errors,
                terminated,
            } => {
                for (s, e, m) in errors {
                    self.error(s, e, m);
                }
                if !terminated {
                    let d = Diagnostic::error(self.span(start, start + 1), "unterminated string")
                        .with_note(
                            "the string runs to the end of the input; \
                             strings end with an unescaped '\"'",
                        );
                    self.diags.push(d);
                }
                let node = Sexp {
                    kind: SexpKind::Str(value),
                    span: self.span(start, end),
                };
                self.deliver(node);
            }
            Tok::Atom(text) => {
                let (kind, errors) = classify_atom(text);
                for (s, e, m) in errors {
                    self.error(start + s, start + e, m);
                }
                let node = Sexp {
                    kind,
                    span: self.span(start, end),
                };
                self.deliver(node);
            }
        }
    }

    /// Ends skipping a too-deep datum. The quotes waiting for it are
    /// dropped silently: the too-deep error already covers them.
    fn end_skip(&mut self) {
        self.skip = None;
        while let Some(Frame::Quote { .. }) = self.stack.last() {
            self.stack.pop();
        }
    }

    /// Drops quotes waiting on top of the stack, reporting each as empty.
    fn drop_pending_quotes(&mut self) {
        while let Some(Frame::Quote { start, end }) = self.stack.last() {
            let (s, e) = (*start, *end);
            self.stack.pop();
            self.error(
                s,
                e,
                "nothing to quote: a quote (') must be followed by a datum",
            );
        }
    }

    /// Handles a `)` at `start..end`.
    fn close(&mut self, start: usize, end: usize) {
        self.drop_pending_quotes();
        match self.stack.pop() {
            Some(Frame::List { start: open, items }) => {
                let node = Sexp {
                    kind: SexpKind::List(items),
                    span: self.span(open, end),
                };
                self.deliver(node);
            }
            Some(frame @ Frame::Quote { .. }) => {
                // Unreachable: pending quotes were just dropped. Put it back.
                self.stack.push(frame);
                self.error(start, end, "unexpected ')'");
            }
            None => {
                let mut d =
                    Diagnostic::error(self.span(start, end), "unexpected ')' with no matching '('");
                if let Some(prev) = self.top.last() {
                    let (ps, pe) = (prev.span.start as usize, prev.span.end as usize);
                    d.message = format!(
                        "unexpected ')' with no matching '(' (after `{}`)",
                        self.excerpt(ps, pe)
                    );
                    let last = self.span(pe.saturating_sub(1).max(ps), pe);
                    d = d.with_label(last, "the datum before it ends here");
                }
                self.diags.push(d);
            }
        }
    }

    /// Gives a finished datum to the innermost open quote or list.
    fn deliver(&mut self, mut node: Sexp) {
        while let Some(Frame::Quote { start, end }) = self.stack.last() {
            let (qs, qe) = (*start, *end);
            self.stack.pop();
            let quote = Sexp {
                kind: SexpKind::Symbol("quote".to_string()),
                span: self.span(qs, qe),
            };
            let span = Span {
                file: self.file,
                start: mk_span(self.file, qs, qs).start,
                end: node.span.end,
            };
            node = Sexp {
                kind: SexpKind::List(vec![quote, node]),
                span,
            };
        }
        match self.stack.last_mut() {
            Some(Frame::List { items, .. }) => items.push(node),
            _ => self.top.push(node),
        }
    }

    fn finish(mut self) -> (Vec<Sexp>, Vec<Diagnostic>) {
        let unclosed = self
            .stack
            .iter()
            .filter(|f| matches!(f, Frame::List { .. }))
            .count();
        let mut seen = 0;
        loop {
            self.drop_pending_quotes();
            match self.stack.pop() {
                Some(Frame::List { start, items }) => {
                    // Every unclosed '(' is reported (innermost first) up to
                    // a limit; the outermost always is, with the total.
                    seen += 1;
                    let outermost = seen == unclosed;
                    if seen <= MAX_UNCLOSED_REPORTED || outermost {
                        let msg = format!(
                            "unclosed '(' (the list starting `{}`)",
                            self.excerpt(start, self.text.len())
                        );
                        let mut d = Diagnostic::error(self.span(start, start + 1), msg).with_label(
                            self.span(self.text.len(), self.text.len()),
                            "the input ends here",
                        );
                        if outermost && unclosed > MAX_UNCLOSED_REPORTED {
                            d = d.with_note(format!(
                                "{unclosed} '(' are unclosed; only the innermost \
                                 {MAX_UNCLOSED_REPORTED} and the outermost are shown"
                            ));
                        }
                        self.diags.push(d);
                    }
                    let end = self.last_end.max(start + 1);
                    let node = Sexp {
                        kind: SexpKind::List(items),
                        span: self.span(start, end),
                    };
                    self.deliver(node);
                }
                Some(Frame::Quote { .. }) => {}
                None => break,
            }
        }
        self.diags.sort_by_key(|d| (d.span.start, d.span.end));
        if self.diags.len() > MAX_ERRORS {
            let more = self.diags.len() - MAX_ERRORS;
            let at = self.diags[MAX_ERRORS].span;
            self.diags.truncate(MAX_ERRORS);
            self.diags.push(Diagnostic::error(
                at,
                format!("too many errors: {more} more not shown"),
            ));
        }
        (self.top, self.diags)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_float_grammar() {
        assert_eq!(python_float("1_000.5"), Some(1000.5));
        assert_eq!(python_float(".5"), Some(0.5));
        assert_eq!(python_float("5."), Some(5.0));
        assert_eq!(python_float("+.5"), Some(0.5));
        assert_eq!(python_float("1e400"), Some(f64::INFINITY));
        assert_eq!(python_float("-InFiNiTy"), Some(f64::NEG_INFINITY));
        assert!(python_float("nan").is_some_and(f64::is_nan));
        assert_eq!(python_float("1e1_0"), Some(1e10));
        for bad in [
            "", ".", "+", "1__0", "_1", "1_", "1_.5", "1._5", "1e", "1e+", "e5", "1.5.2", "0x10",
            "in",
        ] {
            assert_eq!(python_float(bad), None, "{bad}");
        }
    }

    #[test]
    fn python_int_grammar() {
        assert_eq!(python_int("007"), Some(BigInt::from(7)));
        assert_eq!(python_int("+42"), Some(BigInt::from(42)));
        assert_eq!(python_int("-1_000"), Some(BigInt::from(-1000)));
        for bad in ["", "-", "1__0", "_1", "1_", "12a"] {
            assert_eq!(python_int(bad), None, "{bad}");
        }
    }
}
