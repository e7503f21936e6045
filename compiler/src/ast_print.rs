//! A stable, indented text dump of the reader's S-expressions, used by
//! `menaic --emit ast` and by snapshot tests.
//!
//! One node per line, children indented by two spaces under their list:
//! `List @0..15`, `Symbol integer+ @1..9`, `Int 1 @10..11`,
//! `Float 1.5 @..`, `Complex 1.0+2.0j @..`, `Str "a\n" @..`, `Bool #t @..`,
//! `None @..`. Spans are byte offsets `@start..end` (the file number is
//! omitted). Floats use Rust's shortest round-trip form (`inf`, `NaN`,
//! `1e16`); strings escape `"`, `\`, newline, tab, CR and other control
//! characters below 32 (`\u00XX`). Indentation is capped at
//! [`MAX_INDENT`] levels; deeper nodes are marked `[depth N]`. The walk is
//! iterative, so arbitrarily deep trees print without recursion.

use crate::sexp::{Sexp, SexpKind};
use std::fmt::Write;

/// Indentation stops growing at this depth (so the dump of a deep tree
/// stays linear in size); deeper lines start with `[depth N] `.
pub const MAX_INDENT: usize = 100;

/// Prints the datums, one tree after another.
pub fn print_ast(datums: &[Sexp]) -> String {
    let mut out = String::new();
    // (node, depth), visited in pre-order.
    let mut stack: Vec<(&Sexp, usize)> = datums.iter().rev().map(|d| (d, 0)).collect();
    while let Some((node, depth)) = stack.pop() {
        for _ in 0..depth.min(MAX_INDENT) {
            out.push_str("  ");
        }
        if depth > MAX_INDENT {
            let _ = write!(out, "[depth {depth}] ");
        }
        out.push_str(&node_line(node));
        let _ = writeln!(out, " @{}..{}", node.span.start, node.span.end);
        if let SexpKind::List(items) = &node.kind {
            stack.extend(items.iter().rev().map(|c| (c, depth + 1)));
        }
    }
    out
}

/// The kind and value of one node (without its span or children).
fn node_line(node: &Sexp) -> String {
    match &node.kind {
        SexpKind::Int(n) => format!("Int {n}"),
        SexpKind::Float(x) => format!("Float {x:?}"),
        SexpKind::Complex(re, im) => {
            let sign = if im.is_sign_negative() { '-' } else { '+' };
            format!("Complex {re:?}{sign}{:?}j", im.abs())
        }
        SexpKind::Str(s) => format!("Str {}", quote(s)),
        SexpKind::Bool(b) => format!("Bool {}", if *b { "#t" } else { "#f" }),
        SexpKind::None => "None".to_string(),
        SexpKind::Symbol(s) => format!("Symbol {s}"),
        SexpKind::List(_) => "List".to_string(),
    }
}

/// A string in double quotes with Menai's escapes.
fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 32 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}
