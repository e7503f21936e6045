//! Tests of the reader (`menai_compiler::read`), the AST dump and the
//! diagnostic renderer: every lexical form of LANGUAGE.md §2, each error
//! case with its exact span, reporting of all errors with recovery,
//! non-ASCII byte offsets, and deep nesting.

use menai_compiler::ast_print::print_ast;
use menai_compiler::diagnostic::{Diagnostic, Severity};
use menai_compiler::ir::{SourceFile, Span};
use menai_compiler::read::{read, MAX_DEPTH};
use menai_compiler::render::{line_col, line_col_with, line_starts, render, render_json};
use menai_compiler::sexp::{Sexp, SexpKind};
use num_bigint::BigInt;

// ---------------------------------------------------------------------------
// Helpers

/// Reads `src`, asserting there are no errors.
fn ok(src: &str) -> Vec<Sexp> {
    let (d, errs) = read(0, src);
    assert!(errs.is_empty(), "unexpected errors for {src:?}: {errs:#?}");
    d
}

/// Reads `src`, asserting it is exactly one datum without errors.
fn one(src: &str) -> Sexp {
    let mut d = ok(src);
    assert_eq!(d.len(), 1, "expected one datum for {src:?}: {d:#?}");
    d.remove(0)
}

fn kind(src: &str) -> SexpKind {
    one(src).kind
}

/// The errors of `src` as (start, end, message).
fn errs(src: &str) -> Vec<(u32, u32, String)> {
    let (_, diags) = read(0, src);
    for d in &diags {
        assert_eq!(d.severity, Severity::Error);
        assert_eq!(d.span.file, 0);
    }
    diags
        .into_iter()
        .map(|d| (d.span.start, d.span.end, d.message))
        .collect()
}

/// Asserts `src` gives exactly one error, at `start..end`, whose message
/// contains `needle`.
fn one_err(src: &str, start: u32, end: u32, needle: &str) {
    let e = errs(src);
    assert_eq!(e.len(), 1, "expected one error for {src:?}: {e:#?}");
    assert_eq!((e[0].0, e[0].1), (start, end), "span for {src:?}: {e:#?}");
    assert!(
        e[0].2.contains(needle),
        "message for {src:?} is {:?}, expected it to contain {needle:?}",
        e[0].2
    );
}

fn int(n: i64) -> SexpKind {
    SexpKind::Int(BigInt::from(n))
}

fn sym(s: &str) -> SexpKind {
    SexpKind::Symbol(s.to_string())
}

fn items(s: &Sexp) -> &[Sexp] {
    match &s.kind {
        SexpKind::List(v) => v,
        k => panic!("expected a list, got {k:?}"),
    }
}

fn kinds(src: &str) -> Vec<SexpKind> {
    ok(src).into_iter().map(|s| s.kind).collect()
}

fn span_of(s: &Sexp) -> (u32, u32) {
    (s.span.start, s.span.end)
}

fn span_of_label(d: &Diagnostic) -> (u32, u32) {
    (d.labels[0].0.start, d.labels[0].0.end)
}

/// Runs `f` on a thread with a 1 GiB stack, as the binaries do.
fn on_big_stack(f: impl FnOnce() + Send + 'static) {
    let h = std::thread::Builder::new()
        .stack_size(1 << 30)
        .spawn(f)
        .expect("spawning the test thread");
    h.join().expect("the test thread panicked");
}

// ---------------------------------------------------------------------------
// Valid forms

#[test]
fn list_with_spans() {
    let d = one("(integer+ 1 2)");
    assert_eq!(span_of(&d), (0, 14));
    let it = items(&d);
    assert_eq!(it.len(), 3);
    assert_eq!(it[0].kind, sym("integer+"));
    assert_eq!(span_of(&it[0]), (1, 9));
    assert_eq!(it[1].kind, int(1));
    assert_eq!(span_of(&it[1]), (10, 11));
    assert_eq!(span_of(&it[2]), (12, 13));
    assert_eq!(kind("()"), SexpKind::List(vec![]));
}

#[test]
fn file_number_is_in_every_span() {
    let (d, e) = read(7, "(a \"b\" 'c)");
    assert!(e.is_empty());
    let mut todo: Vec<&Sexp> = d.iter().collect();
    let mut n = 0;
    while let Some(s) = todo.pop() {
        assert_eq!(s.span.file, 7);
        n += 1;
        if let SexpKind::List(v) = &s.kind {
            todo.extend(v);
        }
    }
    assert_eq!(n, 6);
    let (_, e) = read(3, ")");
    assert_eq!(
        e[0].span,
        Span {
            file: 3,
            start: 0,
            end: 1
        }
    );
}

#[test]
fn whitespace_set() {
    assert_eq!(
        kinds("a b\tc\nd\x0be\x0cf\rg"),
        ["a", "b", "c", "d", "e", "f", "g"].map(sym).to_vec()
    );
    assert_eq!(kinds(""), vec![]);
    assert_eq!(kinds(" \t\n\r\x0b\x0c"), vec![]);
}

#[test]
fn delimiters_end_tokens() {
    // `(list 1'a)` is (list 1 (quote a)).
    let d = one("(list 1'a)");
    let it = items(&d);
    assert_eq!(it.len(), 3);
    assert_eq!(it[1].kind, int(1));
    assert_eq!(span_of(&it[1]), (6, 7));
    let q = items(&it[2]);
    assert_eq!(q[0].kind, sym("quote"));
    assert_eq!(span_of(&q[0]), (7, 8));
    assert_eq!(q[1].kind, sym("a"));
    assert_eq!(span_of(&it[2]), (7, 9));
    // `(list "a""b")` has two strings.
    let d = one("(list \"a\"\"b\")");
    let it = items(&d);
    assert_eq!(it.len(), 3);
    assert_eq!(it[1].kind, SexpKind::Str("a".into()));
    assert_eq!(it[2].kind, SexpKind::Str("b".into()));
    assert_eq!(span_of(&it[2]), (9, 12));
    // A comment and parens end tokens too.
    assert_eq!(kinds("a;c\nb"), vec![sym("a"), sym("b")]);
    assert_eq!(
        kinds("x(y)z"),
        vec![
            sym("x"),
            SexpKind::List(vec![Sexp {
                kind: sym("y"),
                span: Span {
                    file: 0,
                    start: 2,
                    end: 3
                }
            }]),
            sym("z")
        ]
    );
    assert_eq!(kinds("1\"s\""), vec![int(1), SexpKind::Str("s".into())]);
}

#[test]
fn comma_ends_a_token_and_is_invalid() {
    let (d, e) = read(0, "(a,b)");
    assert_eq!(items(&d[0]).len(), 2);
    assert_eq!(items(&d[0])[0].kind, sym("a"));
    assert_eq!(items(&d[0])[1].kind, sym("b"));
    assert_eq!(e.len(), 1);
    assert_eq!((e[0].span.start, e[0].span.end), (2, 3));
    assert_eq!(e[0].message, "invalid character ',' in 'a,b'");
    one_err(" , ", 1, 2, "invalid character ','");
}

#[test]
fn decimal_integers() {
    for (src, n) in [
        ("0", 0),
        ("42", 42),
        ("-42", -42),
        ("+42", 42),
        ("007", 7),
        ("-007", -7),
        ("1_000", 1000),
        ("1_2_3", 123),
        ("-0", 0),
    ] {
        assert_eq!(kind(src), int(n), "{src}");
    }
    let big = "123456789012345678901234567890123456789012345678901234567890";
    assert_eq!(kind(big), SexpKind::Int(big.parse::<BigInt>().unwrap()));
    // 2^64 - 1 and beyond: no overflow.
    assert_eq!(
        kind("18446744073709551615"),
        SexpKind::Int("18446744073709551615".parse::<BigInt>().unwrap())
    );
}

#[test]
fn floats() {
    for (src, x) in [
        ("1.5", 1.5),
        (".5", 0.5),
        ("+.5", 0.5),
        ("-.5", -0.5),
        ("5.", 5.0),
        ("-5.", -5.0),
        ("1e3", 1000.0),
        ("1E3", 1000.0),
        ("1e+3", 1000.0),
        ("2.5e-3", 0.0025),
        ("1_0.0_1", 10.01),
        ("1e1_0", 1e10),
        ("0.1", 0.1),
        ("1e400", f64::INFINITY),
        ("-1e400", f64::NEG_INFINITY),
        ("1e-400", 0.0),
        ("007.5", 7.5),
    ] {
        assert_eq!(kind(src), SexpKind::Float(x), "{src}");
    }
    match kind("-0.0") {
        SexpKind::Float(x) => assert!(x == 0.0 && x.is_sign_negative()),
        k => panic!("{k:?}"),
    }
    // Correct rounding.
    assert_eq!(kind("0.30000000000000004"), SexpKind::Float(0.1 + 0.2));
}

#[test]
fn complex_numbers() {
    for (src, re, im) in [
        ("5j", 0.0, 5.0),
        ("5J", 0.0, 5.0),
        ("-2.5j", 0.0, -2.5),
        ("+2j", 0.0, 2.0),
        ("1+2j", 1.0, 2.0),
        ("1-2J", 1.0, -2.0),
        ("-1-1j", -1.0, -1.0),
        ("1.5+.5j", 1.5, 0.5),
        ("1e5j", 0.0, 1e5),
        ("1e+5j", 0.0, 1e5),
        ("1e5+2e-3j", 1e5, 0.002),
        ("1E-5-2E+3j", 1e-5, -2000.0),
        ("1+infj", 1.0, f64::INFINITY),
        ("1_0+2_0j", 10.0, 20.0),
        ("0j", 0.0, 0.0),
    ] {
        assert_eq!(kind(src), SexpKind::Complex(re, im), "{src}");
    }
}

#[test]
fn based_integers() {
    for (src, n) in [
        ("#xff", 255),
        ("#xFF", 255),
        ("#XfF", 255),
        ("-#xff", -255),
        ("#o17", 15),
        ("#O17", 15),
        ("#b101", 5),
        ("#B101", 5),
        ("-#b101", -5),
        ("#d99", 99),
        ("#D099", 99),
        ("#x0", 0),
    ] {
        assert_eq!(kind(src), int(n), "{src}");
    }
    assert_eq!(
        kind("#xffffffffffffffffffffffff"),
        SexpKind::Int(BigInt::parse_bytes(b"ffffffffffffffffffffffff", 16).unwrap())
    );
}

#[test]
fn booleans_and_none() {
    assert_eq!(kind("#t"), SexpKind::Bool(true));
    assert_eq!(kind("#f"), SexpKind::Bool(false));
    assert_eq!(kind("#none"), SexpKind::None);
    assert_eq!(
        kinds("#t #f(#none)"),
        vec![
            SexpKind::Bool(true),
            SexpKind::Bool(false),
            SexpKind::List(vec![Sexp {
                kind: SexpKind::None,
                span: Span {
                    file: 0,
                    start: 6,
                    end: 11
                }
            }])
        ]
    );
    // `#t#f` is one token, and not a valid one.
    one_err("#t#f", 0, 4, "invalid '#' form");
}

#[test]
fn strings_and_escapes() {
    let s = |x: &str| SexpKind::Str(x.to_string());
    assert_eq!(kind(r#""""#), s(""));
    assert_eq!(kind(r#""hello""#), s("hello"));
    assert_eq!(kind(r#""a\"b""#), s("a\"b"));
    assert_eq!(kind(r#""a\\b""#), s("a\\b"));
    assert_eq!(kind(r#""\n\t\r""#), s("\n\t\r"));
    assert_eq!(kind(r#""\u00e9\u03BB""#), s("éλ"));
    assert_eq!(kind(r#""\u12345""#), s("\u{1234}5"));
    // Raw newlines, NUL and other control characters stand for themselves.
    assert_eq!(kind("\"a\nb\""), s("a\nb"));
    assert_eq!(kind("\"\0\x01\x7f\u{85}\""), s("\0\x01\x7f\u{85}"));
    // Delimiters and `;` inside strings are ordinary characters.
    assert_eq!(kind("\"(a ;b) 'c,\""), s("(a ;b) 'c,"));
    assert_eq!(kind("\"straße λ\""), s("straße λ"));
}

#[test]
fn symbols() {
    for name in [
        "a",
        "Abc",
        "integer+",
        "list->string",
        "null?",
        "*",
        "/",
        "%",
        "<=",
        ">",
        "=",
        "!=",
        "&",
        "|x|",
        "^",
        "~",
        "_",
        "?",
        "$integer+",
        "+",
        "-",
        ".",
        "...",
        ".a",
        "+a",
        "-a",
        "-.",
        "+.",
        "--1",
        "-.a",
        "λ",
        "λx.y",
        "straße",
        "日本",
        "a1",
        "x²",
        "a-b+c*d/e%f<g>h=i!j&k|l^m~n?o_p.q$r",
        "j",
        "inf",
        "nan",
    ] {
        assert_eq!(kind(name), sym(name), "{name}");
    }
}

#[test]
fn quote() {
    let d = one("'x");
    assert_eq!(span_of(&d), (0, 2));
    let it = items(&d);
    assert_eq!(it.len(), 2);
    assert_eq!(it[0].kind, sym("quote"));
    assert_eq!(span_of(&it[0]), (0, 1));
    assert_eq!(it[1].kind, sym("x"));
    assert_eq!(span_of(&it[1]), (1, 2));
    // Nested quotes and quoted lists, with whitespace after the quote.
    let d = one("'' (a b)");
    assert_eq!(span_of(&d), (0, 8));
    let inner = &items(&d)[1];
    assert_eq!(span_of(inner), (1, 8));
    assert_eq!(items(inner)[0].kind, sym("quote"));
    assert_eq!(span_of(&items(inner)[0]), (1, 2));
    assert_eq!(span_of(&items(inner)[1]), (3, 8));
}

#[test]
fn comments() {
    assert_eq!(kinds("; only a comment"), vec![]);
    assert_eq!(kinds("1 ; one\n2;two"), vec![int(1), int(2)]);
    // Comments may contain any character, including control characters.
    assert_eq!(kinds("; \x01 \0 @ , \" ( λ\n3"), vec![int(3)]);
    let d = one("(a ; )\n b)");
    assert_eq!(items(&d).len(), 2);
}

#[test]
fn several_datums() {
    assert_eq!(kinds("1 2 3").len(), 3);
}

// ---------------------------------------------------------------------------
// Errors: each with its exact span

#[test]
fn malformed_numbers() {
    for (src, start, end) in [
        ("1x", 0, 2),
        ("12abc", 0, 5),
        ("1__0", 0, 4),
        ("1_", 0, 2),
        ("1_.5", 0, 4),
        ("1._5", 0, 4),
        ("1.2.3", 0, 5),
        ("1e", 0, 2),
        ("1e+", 0, 3),
        ("0x10", 0, 4),
        ("-1-", 0, 3),
        ("1+2", 0, 3),
        ("1+j", 0, 3),
        ("1j+2", 0, 4),
        ("1+2jj", 0, 5),
        ("1+-2j", 0, 5),
        ("(a 1λ)", 3, 6),
    ] {
        one_err(src, start, end, "malformed number");
    }
}

#[test]
fn malformed_based_numbers() {
    for (src, needle) in [
        ("#x", "no digits"),
        ("-#x", "no digits"),
        ("#xg", "'g' is not a hexadecimal digit"),
        ("#b102", "'2' is not a binary digit"),
        ("#o8", "'8' is not a octal digit"),
        ("#d1a", "'a' is not a decimal digit"),
        ("#x-1", "'-' is not a hexadecimal digit"),
        ("#x+1", "'+' is not a hexadecimal digit"),
        ("#x_1", "'_' is not a hexadecimal digit"),
        ("#x1_0", "'_' is not a hexadecimal digit"),
        ("#x1.0", "'.' is not a hexadecimal digit"),
        ("+#xff", "cannot start with '+'"),
    ] {
        let n = src.len() as u32;
        one_err(src, 0, n, needle);
    }
}

#[test]
fn bad_hash_forms() {
    for src in [
        "#T", "#F", "#true", "#false", "#1", "#", "#nonee", "#tf", "#n",
    ] {
        one_err(src, 0, src.len() as u32, "invalid '#' form");
    }
    one_err("(a #)", 3, 4, "invalid '#' form");
}

#[test]
fn invalid_symbol_characters() {
    for (src, start, end, what) in [
        ("foo@bar", 3, 4, "'@'"),
        ("a:b", 1, 2, "':'"),
        ("a→b", 1, 4, "'→'"),
        ("x[0", 1, 2, "'['"),
        ("{a", 0, 1, "'{'"),
        ("a`b", 1, 2, "'`'"),
        ("a\\b", 1, 2, "'\\'"),
        ("@", 0, 1, "'@'"),
        ("a#b", 1, 2, "'#'"),
        ("-#t", 1, 2, "'#'"),
        ("a@@b", 1, 3, "'@@'"),
        ("a\u{a0}b", 1, 3, "U+00A0"),
        ("\u{2003}", 0, 3, "U+2003"),
    ] {
        one_err(src, start, end, what);
    }
    // Separate runs of bad characters are separate errors.
    let e = errs("a@b:c");
    assert_eq!(e.len(), 2);
    assert_eq!((e[0].0, e[0].1), (1, 2));
    assert_eq!((e[1].0, e[1].1), (3, 4));
}

#[test]
fn invalid_control_characters() {
    one_err("\x01", 0, 1, "invalid control character U+0001");
    one_err("(a\x7fb)", 2, 3, "invalid control character U+007F");
    one_err("(a \0)", 3, 4, "invalid control character U+0000");
    one_err("\u{85}", 0, 2, "invalid control character U+0085");
    // It ends the token around it: `a` and `b` are both read.
    let (d, e) = read(0, "(a\x1bb)");
    assert_eq!(e.len(), 1);
    assert_eq!(items(&d[0]).len(), 2);
}

#[test]
fn bad_escapes() {
    one_err(r#""a\qb""#, 2, 4, "invalid escape '\\q'");
    one_err(r#""\x41""#, 1, 3, "invalid escape '\\x'");
    one_err(r#""\U0001F600""#, 1, 3, "invalid escape '\\U'");
    one_err(r#""\'""#, 1, 3, "invalid escape");
    one_err(r#""\λ""#, 1, 4, "invalid escape '\\λ'");
    one_err(
        r#""\u12""#,
        1,
        5,
        "invalid escape '\\u12': \\u needs exactly four hex digits",
    );
    one_err(r#""\u""#, 1, 3, "exactly four hex digits");
    one_err(r#""\u12g4""#, 1, 5, "exactly four hex digits");
    one_err(r#""\ud800""#, 1, 7, "surrogate");
    // Every bad escape of a string is reported, and the string is still read.
    let (d, e) = read(0, r#""\q\w ok \e""#);
    assert_eq!(e.len(), 3);
    assert_eq!(
        e.iter()
            .map(|d| (d.span.start, d.span.end))
            .collect::<Vec<_>>(),
        vec![(1, 3), (3, 5), (9, 11)]
    );
    assert_eq!(d[0].kind, SexpKind::Str(" ok ".into()));
}

#[test]
fn unterminated_strings() {
    one_err("\"abc", 0, 1, "unterminated string");
    let (d, e) = read(0, "(a \"b c)\n");
    // The list is unclosed too: the string ate the ')'.
    assert_eq!(e.len(), 2);
    assert_eq!(e[0].message, "unclosed '(' (the list starting `(a \"b c)`)");
    assert_eq!(items(&d[0])[1].kind, SexpKind::Str("b c)\n".into()));
    // A backslash at the very end.
    one_err("\"abc\\", 0, 1, "unterminated string");
    // An escaped quote does not end the string.
    one_err(r#""abc\""#, 0, 1, "unterminated string");
}

#[test]
fn unbalanced_parens() {
    one_err(")", 0, 1, "unexpected ')'");
    one_err("(a))", 3, 4, "unexpected ')'");
    one_err("(a", 0, 1, "unclosed '('");
    // Every unclosed '(' is reported; the datum is still produced.
    let (d, e) = read(0, "(a (b (c)");
    assert_eq!(e.len(), 2);
    assert_eq!((e[0].span.start, e[1].span.start), (0, 3));
    assert!(e.iter().all(|d| d.message.starts_with("unclosed '('")));
    assert_eq!(e[0].message, "unclosed '(' (the list starting `(a (b (c)`)");
    assert_eq!(e[1].message, "unclosed '(' (the list starting `(b (c)`)");
    assert_eq!(d.len(), 1);
    assert_eq!(span_of(&d[0]), (0, 9));
    assert_eq!(items(&d[0]).len(), 2);
    // A secondary label points at the end of the input.
    assert_eq!(
        e[0].labels[0].0,
        Span {
            file: 0,
            start: 9,
            end: 9
        }
    );
    // Long or multi-line lists are cut short.
    let (_, e) = read(0, "(abcdefghijklmnopqrstuvwxyz0123456789 x");
    assert_eq!(
        e[0].message,
        "unclosed '(' (the list starting `(abcdefghijklmnopqrstuvwxyz01234…`)"
    );
    let (_, e) = read(0, "(a\n b");
    assert_eq!(e[0].message, "unclosed '(' (the list starting `(a…`)");
}

#[test]
fn many_unclosed_parens_are_summarized() {
    let src = "(".repeat(1000);
    let (d, e) = read(0, &src);
    assert_eq!(d.len(), 1);
    assert_eq!(e.len(), 21);
    assert_eq!(e[0].span.start, 0);
    assert!(e[0].notes[0].contains("1000 '(' are unclosed"));
    assert_eq!(e[20].span.start, 999);
}

#[test]
fn unexpected_close_names_the_previous_datum() {
    let (_, e) = read(0, "(integer+ 1 2))");
    assert_eq!(e.len(), 1);
    assert_eq!(
        e[0].message,
        "unexpected ')' with no matching '(' (after `(integer+ 1 2)`)"
    );
    assert_eq!((e[0].span.start, e[0].span.end), (14, 15));
    assert_eq!(span_of_label(&e[0]), (13, 14));
}

/// The lexical cases of `testsuite/spec/errors.cases`: each message must
/// contain the expected text on its own (without the rendered snippet).
#[test]
fn spec_error_messages() {
    for (src, needle) in [
        ("(integer+ 1 2", "integer+"),
        ("(integer+ 1 2))", "integer+"),
        ("\"unterminated", "unterminated"),
        ("(list \"a\\qb\")", "\\q"),
        ("(list #true)", "#true"),
        ("(list #T)", "#T"),
        ("(list 1,2)", "1,2"),
        ("(list a@b)", "a@b"),
        ("(list #x)", "#x"),
        ("(list +#x10)", "+#x10"),
        ("(list \"\\u12\")", "\\u12"),
        ("(list 1+j)", "1+j"),
        (")", ")"),
    ] {
        let e = errs(src);
        assert_eq!(e.len(), 1, "{src}: {e:?}");
        assert!(e[0].2.contains(needle), "{src}: {:?}", e[0].2);
    }
}

/// Every error message of the reader, for review: input, span, message.
#[test]
fn error_catalog() {
    let cases = [
        ")",
        "(integer+ 1 2))",
        "(a (b",
        "'",
        "(a ')",
        "\"abc",
        "\"a\\qb\"",
        "\"\\u12\"",
        "\"\\ud800\"",
        "(list 1,2)",
        ",",
        "a\x01b",
        "foo@bar",
        "@",
        "a\u{a0}b",
        "#true",
        "#",
        "#x",
        "#b102",
        "+#x10",
        "1x",
        "1+j",
        "1__0",
    ];
    let mut out = String::new();
    for src in cases {
        out.push_str(&format!("{src:?}\n"));
        for (s, e, m) in errs(src) {
            out.push_str(&format!("  {s}..{e} {m}\n"));
        }
    }
    insta::assert_snapshot!(out);
}

#[test]
fn quote_without_datum() {
    one_err("'", 0, 1, "nothing to quote");
    one_err("(a ')", 3, 4, "nothing to quote");
    let (d, e) = read(0, "(a '')");
    assert_eq!(e.len(), 2);
    assert_eq!(items(&d[0]).len(), 1);
}

#[test]
fn all_errors_are_reported_in_order() {
    let src = "(foo@bar \"a\\qb\" 1x2 #true , \x01 ) )\n\"unterminated λ";
    let e = errs(src);
    let spans: Vec<(u32, u32)> = e.iter().map(|x| (x.0, x.1)).collect();
    assert_eq!(
        spans,
        vec![
            (4, 5),   // @
            (11, 13), // \q
            (16, 19), // 1x2
            (20, 25), // #true
            (26, 27), // ,
            (28, 29), // \x01
            (32, 33), // extra )
            (34, 35), // unterminated string
        ],
        "{e:#?}"
    );
    // Reading goes on after errors: the valid datums are all there.
    let (d, _) = read(0, "(a @ b) (c ,) 'd");
    assert_eq!(d.len(), 3);
    assert_eq!(items(&d[0]).len(), 3);
    assert_eq!(items(&d[1]).len(), 1);
}

#[test]
fn non_ascii_spans() {
    let src = "(λ \"straße\" x ñ)";
    let d = one(src);
    let it = items(&d);
    assert_eq!(span_of(&d), (0, src.len() as u32));
    assert_eq!(span_of(&it[0]), (1, 3));
    assert_eq!(&src[1..3], "λ");
    assert_eq!(span_of(&it[1]), (4, 13));
    assert_eq!(&src[4..13], "\"straße\"");
    assert_eq!(span_of(&it[2]), (14, 15));
    assert_eq!(span_of(&it[3]), (16, 18));
    // Errors after non-ASCII text point at the right bytes.
    let src = "\"straße\" λ@ ,";
    let e = errs(src);
    assert_eq!(e.len(), 2);
    assert_eq!(&src[e[0].0 as usize..e[0].1 as usize], "@");
    assert_eq!(&src[e[1].0 as usize..e[1].1 as usize], ",");
}

// ---------------------------------------------------------------------------
// Deep nesting

fn nested(depth: usize, inner: &str) -> String {
    let mut s = "(".repeat(depth);
    s.push_str(inner);
    s.push_str(&")".repeat(depth));
    s
}

/// The depth of the chain of lists following the last child (which is the
/// quoted datum for `(quote x)`).
fn depth_of(mut s: &Sexp) -> usize {
    let mut n = 0;
    while let SexpKind::List(v) = &s.kind {
        n += 1;
        match v.last() {
            Some(c) => s = c,
            None => break,
        }
    }
    n
}

#[test]
fn deep_nesting_reads() {
    on_big_stack(|| {
        for depth in [10_000, MAX_DEPTH] {
            let src = nested(depth, "x");
            let d = one(&src);
            assert_eq!(depth_of(&d), depth);
            assert_eq!(span_of(&d), (0, src.len() as u32));
            // The dump is iterative too.
            let dump = print_ast(std::slice::from_ref(&d));
            assert_eq!(dump.lines().count(), depth + 1);
            let last = dump.lines().last().unwrap_or_default();
            assert_eq!(
                last.trim_start(),
                format!("[depth {depth}] Symbol x @{depth}..{}", depth + 1)
            );
            assert!(dump.lines().all(|l| l.len() < 300));
        }
        // Deep quotes.
        let src = format!("{}x", "'".repeat(10_000));
        assert_eq!(depth_of(&one(&src)), 10_000);
    });
}

#[test]
fn too_deep_is_a_clean_error() {
    on_big_stack(|| {
        let src = format!("{} 42", nested(MAX_DEPTH + 50_000, "x"));
        let (d, e) = read(0, &src);
        assert_eq!(e.len(), 1, "{:?}", &e[..e.len().min(3)]);
        assert_eq!(e[0].span.start as usize, MAX_DEPTH);
        assert!(e[0].message.contains("nesting too deep"));
        // The too-deep datum is skipped; the rest is read.
        assert_eq!(d.len(), 2);
        assert_eq!(depth_of(&d[0]), MAX_DEPTH);
        assert_eq!(d[1].kind, int(42));
        // Unclosed and far too deep: still clean, with bounded diagnostics.
        let (_, e) = read(0, &"(".repeat(1_000_000));
        assert!(e.len() <= 23, "{}", e.len());
        assert!(e.iter().any(|d| d.message.contains("nesting too deep")));
        // Too deep through quotes.
        let (_, e) = read(0, &format!("{}x", "'".repeat(MAX_DEPTH + 10)));
        assert_eq!(e.len(), 1);
        assert!(e[0].message.contains("nesting too deep"));
    });
}

// ---------------------------------------------------------------------------
// AST dump

#[test]
fn ast_dump() {
    let src = "(define (f x) (integer+ x 1)) '(1.5 -2j \"a\\n\\u0001\" #t #f #none) #xff 1e400";
    insta::assert_snapshot!(print_ast(&ok(src)));
}

// ---------------------------------------------------------------------------
// Rendering

fn file(path: &str, text: &str) -> SourceFile {
    SourceFile {
        path: path.to_string(),
        text: text.to_string(),
    }
}

#[test]
fn render_reader_errors() {
    let src = "(let ((s \"straße\\q\"))\n  (λ@ s) , 1x)\n)";
    let (_, e) = read(0, src);
    assert_eq!(e.len(), 5);
    let out = render(&e, &[file("demo.menai", src)], false);
    insta::assert_snapshot!(out);
}

#[test]
fn render_labels_notes_warnings_and_non_ascii_columns() {
    let src = "(straße λ ñ)";
    let s = |a: usize, b: usize| Span {
        file: 0,
        start: a as u32,
        end: b as u32,
    };
    let (ñ, λ) = (src.find('ñ').unwrap(), src.find('λ').unwrap());
    let d = Diagnostic::warning(s(ñ, ñ + 2), "unused ñ")
        .with_label(s(λ, λ + 2), "λ here")
        .with_note("a note");
    let out = render(&[d], &[file("w.menai", src)], false);
    assert!(out.contains("Warning: unused ñ"), "{out}");
    // Column 11 in characters (byte 12).
    assert!(out.contains("w.menai:1:11"), "{out}");
    assert!(
        out.contains("λ here") && out.contains("Note: a note"),
        "{out}"
    );
    insta::assert_snapshot!(out);
    // Colour adds ANSI escapes.
    let d = Diagnostic::error(s(1, 3), "boom");
    assert!(render(&[d], &[file("w.menai", src)], true).contains('\x1b'));
}

#[test]
fn render_as_json_lines() {
    let src = "(a\n \"λ\\q\" ,)";
    let (_, mut e) = read(0, src);
    e.push(
        Diagnostic::warning(
            Span {
                file: 5,
                start: 1,
                end: 2,
            },
            "w \"q\"\n",
        )
        .with_label(
            Span {
                file: 0,
                start: 0,
                end: 1,
            },
            "here",
        )
        .with_note("n\t1"),
    );
    insta::assert_snapshot!(render_json(&e, &[file("dir/a.menai", src)]));
}

#[test]
fn render_never_panics_on_bad_spans() {
    let src = "λλ\nb";
    let f = [file("x.menai", src)];
    for (file, start, end) in [
        (0, 1, 1),
        (0, 3, 2),
        (0, 100, 200),
        (0, 0, 0),
        (0, 5, 5),
        (9, 0, 4),
    ] {
        let d = Diagnostic::error(Span { file, start, end }, "m");
        let out = render(&[d], &f, false);
        assert!(out.contains("m"), "{out}");
    }
    let out = render(
        &[Diagnostic::error(
            Span {
                file: 0,
                start: 0,
                end: 1,
            },
            "none",
        )],
        &[],
        false,
    );
    assert!(out.contains("none"), "{out}");
    assert_eq!(render(&[], &f, false), "");
}

#[test]
fn render_long_lines_compactly() {
    let src = format!("(list {} @ {} λ,λ)\n(b", "x ".repeat(300), "y ".repeat(300));
    let (_, e) = read(0, &src);
    assert_eq!(e.len(), 3);
    let out = render(&e, &[file("p", &src)], false);
    // The long line is not printed whole.
    assert!(out.len() < 2000, "{}", out.len());
    insta::assert_snapshot!(out);
    // A huge single-line input with many errors renders quickly and small.
    let src = "a,".repeat(500_000);
    let (_, e) = read(0, &src);
    assert_eq!(e.len(), 101);
    assert!(e[100].message.contains("too many errors: 499900 more"));
    let out = render(&e, &[file("p", &src)], false);
    assert!(out.len() < 100_000, "{}", out.len());
}

/// A direct implementation of the line/column rule, to check the real one.
fn naive_line_col(text: &str, byte: u32) -> (u32, u32) {
    let (mut line, mut col) = (1, 1);
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if i + c.len_utf8() > byte as usize {
            break;
        }
        let crlf = c == '\r' && chars.peek().is_some_and(|(_, n)| *n == '\n');
        if "\n\r\x0b\x0c\u{85}\u{2028}\u{2029}".contains(c) && !crlf {
            line += 1;
            col = 1;
        } else {
            col += 1;
        }
    }
    (line, col)
}

#[test]
fn line_col_counts_characters() {
    let src = "ab\nλx\n\nstraße z";
    assert_eq!(line_col(src, 0), (1, 1));
    assert_eq!(line_col(src, 1), (1, 2));
    assert_eq!(line_col(src, 2), (1, 3)); // the newline itself
    assert_eq!(line_col(src, 3), (2, 1)); // λ
    assert_eq!(line_col(src, 5), (2, 2)); // x, after the 2-byte λ
    assert_eq!(line_col(src, 4), (2, 1)); // inside λ: its column
    assert_eq!(line_col(src, 7), (3, 1));
    let z = src.find('z').unwrap() as u32;
    assert_eq!(line_col(src, z), (4, 8));
    assert_eq!(line_col(src, 10_000), (4, 9)); // past the end
    assert_eq!(line_col("", 0), (1, 1));
    // CRLF is one break; a lone CR, \v and \f break lines as in ariadne.
    assert_eq!(line_col("a\r\nb", 3), (2, 1));
    assert_eq!(line_col("a\r\nb", 2), (1, 3));
    assert_eq!(line_col("a\rb\x0cc", 2), (2, 1));
    assert_eq!(line_col("a\rb\x0cc", 4), (3, 1));
    let src = "x\r\n\r\n  λ@";
    let (_, e) = read(0, src);
    let at = line_col(src, e[0].span.start);
    assert_eq!(at, (3, 4));
    let out = render(&e, &[file("crlf.menai", src)], false);
    assert!(out.contains("crlf.menai:3:4"), "{out}");
    // The precomputed form agrees at every offset.
    for text in [
        "ab\nλx\n\nstraße z",
        "a\r\nb\rc\x0bd\u{2028}e\u{85}",
        "",
        "\n\n",
    ] {
        let starts = line_starts(text);
        for b in 0..=text.len() as u32 + 2 {
            let want = naive_line_col(text, b);
            assert_eq!(line_col_with(text, &starts, b), want, "{text:?} {b}");
            assert_eq!(line_col(text, b), want, "{text:?} {b}");
        }
    }
    assert_eq!(line_starts("a\r\nb\rc"), vec![0, 3, 5]);
}

// ---------------------------------------------------------------------------
// Randomized checks: invariants on arbitrary input, and print → read
// round trips of random trees.

/// A small deterministic PRNG (xorshift64*), so failures reproduce.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// The structure of a datum without spans (recursive: for shallow trees).
fn shape(s: &Sexp) -> String {
    match &s.kind {
        SexpKind::List(v) => {
            let inner: Vec<String> = v.iter().map(shape).collect();
            format!("({})", inner.join(" "))
        }
        SexpKind::Float(x) => format!("F{:?}", x.to_bits()),
        SexpKind::Complex(a, b) => format!("C{:?}/{:?}", a.to_bits(), b.to_bits()),
        k => format!("{k:?}"),
    }
}

/// Checks that every span is inside `text`, on character boundaries, and
/// that children lie within their parents.
fn check_spans(text: &str, datums: &[Sexp]) {
    let ok_span = |sp: Span| {
        let (s, e) = (sp.start as usize, sp.end as usize);
        s <= e && e <= text.len() && text.is_char_boundary(s) && text.is_char_boundary(e)
    };
    let mut todo: Vec<&Sexp> = datums.iter().collect();
    while let Some(d) = todo.pop() {
        assert!(ok_span(d.span), "bad span {:?} in {text:?}", d.span);
        if let SexpKind::List(v) = &d.kind {
            for c in v {
                assert!(
                    c.span.start >= d.span.start && c.span.end <= d.span.end,
                    "child {:?} outside parent {:?} in {text:?}",
                    c.span,
                    d.span
                );
                todo.push(c);
            }
        }
    }
}

#[test]
fn random_input_keeps_invariants() {
    let pieces = [
        "(", ")", "'", "\"", "\\", ";", "\n", " ", ",", "#", "x", "1", ".", "+", "-", "e", "j",
        "λ", "ß", "\0", "\x01", "@", "u", "0", "f", "t", "none", "\t", "_", "😀", "\u{a0}", "#x",
        "ff", "\\u00e9", "\\n", "\r", "\x0b", "→", "5", "E", "inf", "#b", "1_0",
    ];
    let mut rng = Rng(0x1234_5678_9abc_def1);
    let files_for = |t: &str| vec![file("f.menai", t)];
    for _ in 0..20_000 {
        let n = rng.below(40);
        let text: String = (0..n).map(|_| pieces[rng.below(pieces.len())]).collect();
        let (d, e) = read(0, &text);
        check_spans(&text, &d);
        for w in e.windows(2) {
            assert!(w[0].span.start <= w[1].span.start, "unsorted in {text:?}");
        }
        for x in &e {
            let (s, en) = (x.span.start as usize, x.span.end as usize);
            assert!(s <= en && en <= text.len(), "{x:?} in {text:?}");
            assert!(text.is_char_boundary(s) && text.is_char_boundary(en));
            assert!(!x.message.is_empty());
        }
        if e.is_empty() {
            // Each datum's own text reads back as the same datum.
            for datum in &d {
                let sub = &text[datum.span.start as usize..datum.span.end as usize];
                let again = one(sub);
                assert_eq!(shape(&again), shape(datum), "{text:?}");
            }
        } else {
            let out = render(&e, &files_for(&text), false);
            assert!(out.contains("Error"), "{out}");
        }
        let _ = print_ast(&d);
    }
}

/// Prints a float so that Menai reads it back exactly (finite or infinite).
fn float_src(x: f64) -> String {
    if x == f64::INFINITY {
        "1e400".to_string()
    } else if x == f64::NEG_INFINITY {
        "-1e400".to_string()
    } else {
        format!("{x:?}")
    }
}

/// Prints a datum as Menai source (test-only, recursive).
fn to_src(k: &SexpKind, rng: &mut Rng) -> String {
    match k {
        SexpKind::Int(n) => match rng.below(3) {
            0 if *n >= BigInt::from(0) => format!("#x{}", n.to_str_radix(16)),
            1 if *n < BigInt::from(0) => format!("-#b{}", (-n).to_str_radix(2)),
            _ => n.to_string(),
        },
        SexpKind::Float(x) => float_src(*x),
        SexpKind::Complex(re, im) => {
            let im_s = float_src(*im);
            let sign = if im_s.starts_with('-') { "" } else { "+" };
            format!("{}{sign}{im_s}j", float_src(*re))
        }
        SexpKind::Str(s) => {
            let mut out = String::from("\"");
            for c in s.chars() {
                match c {
                    '"' => out.push_str("\\\""),
                    '\\' => out.push_str("\\\\"),
                    '\n' if rng.below(2) == 0 => out.push_str("\\n"),
                    c if (c as u32) < 32 && rng.below(2) == 0 => {
                        out.push_str(&format!("\\u{:04X}", c as u32))
                    }
                    c => out.push(c),
                }
            }
            out.push('"');
            out
        }
        SexpKind::Bool(b) => (if *b { "#t" } else { "#f" }).to_string(),
        SexpKind::None => "#none".to_string(),
        SexpKind::Symbol(s) => s.clone(),
        SexpKind::List(v) => {
            let seps = [" ", "\n", " ;c\n", "\t "];
            let inner: Vec<String> = v.iter().map(|c| to_src(&c.kind, rng)).collect();
            format!("({})", inner.join(seps[rng.below(seps.len())]))
        }
    }
}

fn random_kind(rng: &mut Rng, depth: usize) -> SexpKind {
    let floats = [
        0.0,
        -0.0,
        1.5,
        -2.25,
        0.1,
        1e16,
        1.2345678912345678e-300,
        5e-324,
        f64::MAX,
        f64::INFINITY,
        -1e-7,
    ];
    let syms = [
        "a",
        "λ",
        "+",
        "-",
        "...",
        ".",
        "x->y",
        "$integer+",
        "straße",
        "null?",
        "a.b",
    ];
    let chars = [
        'a', 'λ', '"', '\\', '\n', '\0', '\x1f', ' ', ';', '(', ')', '\'', 'ß', '😀',
    ];
    match rng.below(if depth == 0 { 7 } else { 9 }) {
        0 => {
            let digits = rng.below(40) + 1;
            let s: String = (0..digits)
                .map(|_| char::from(b'0' + rng.below(10) as u8))
                .collect();
            let n: BigInt = s.parse().unwrap_or_default();
            SexpKind::Int(if rng.below(2) == 0 { -n } else { n })
        }
        1 => {
            // Any bit pattern but NaN (which has no literal of its own).
            let x = f64::from_bits(rng.next());
            SexpKind::Float(if x.is_nan() { 1.0 } else { x })
        }
        2 => SexpKind::Float(floats[rng.below(floats.len())]),
        3 => SexpKind::Complex(
            floats[rng.below(floats.len())],
            floats[rng.below(floats.len())],
        ),
        4 => SexpKind::Str(
            (0..rng.below(8))
                .map(|_| chars[rng.below(chars.len())])
                .collect(),
        ),
        5 => SexpKind::Symbol(syms[rng.below(syms.len())].to_string()),
        6 => [SexpKind::Bool(true), SexpKind::Bool(false), SexpKind::None][rng.below(3)].clone(),
        _ => SexpKind::List(
            (0..rng.below(5))
                .map(|_| Sexp {
                    kind: random_kind(rng, depth - 1),
                    span: Span::default(),
                })
                .collect(),
        ),
    }
}

#[test]
fn random_trees_round_trip() {
    let mut rng = Rng(0xdead_beef_cafe_f00d);
    for _ in 0..5_000 {
        let expected = Sexp {
            kind: random_kind(&mut rng, 4),
            span: Span::default(),
        };
        let src = to_src(&expected.kind, &mut rng);
        let got = one(&src);
        check_spans(&src, std::slice::from_ref(&got));
        assert_eq!(shape(&got), shape(&expected), "source: {src:?}");
    }
}

// ---------------------------------------------------------------------------
// The shared spec cases

/// Every case of `testsuite/spec/*.cases` reads without reader errors,
/// unless it expects a compile error (`=?`); when the reader does reject a
/// case, one of its messages contains the expected text by itself.
#[test]
fn spec_cases_read() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../testsuite/spec");
    let entries = std::fs::read_dir(&dir).expect("testsuite/spec exists");
    let mut total = 0;
    let mut problems = Vec::new();
    for entry in entries {
        let path = entry.expect("a directory entry").path();
        if path.extension().is_none_or(|e| e != "cases") {
            continue;
        }
        let text = std::fs::read_to_string(&path).expect("a readable .cases file");
        for block in text.split("\n\n") {
            let lines: Vec<&str> = block
                .lines()
                .filter(|l| !l.starts_with(';') && !l.trim().is_empty())
                .collect();
            let Some((expect, src_lines)) = lines.split_last() else {
                continue;
            };
            if src_lines.is_empty() {
                continue;
            }
            total += 1;
            let src = src_lines.join("\n");
            let (_, e) = read(0, &src);
            if e.is_empty() {
                continue;
            }
            let messages: Vec<&str> = e.iter().map(|d| d.message.as_str()).collect();
            match expect.strip_prefix("=?") {
                Some(needle) if messages.iter().any(|m| m.contains(needle.trim())) => {}
                _ => problems.push(format!(
                    "{}: {src:?} {expect}: {messages:?}",
                    path.display()
                )),
            }
        }
    }
    assert!(total > 100, "only {total} cases found in {}", dir.display());
    assert!(problems.is_empty(), "{problems:#?}");
}
