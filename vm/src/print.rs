//! Printing values exactly as LANGUAGE.md §9 prescribes (the program's
//! result format, also used in error messages such as `match`'s).
//!
//! Printing is iterative: containers push a frame with an iterator over
//! their children, so a list nested 100,000 deep prints in constant native
//! stack space.

use crate::numfmt::{complex_repr, float_repr};
use crate::value::{Key, ListBuf, Value};
use menai_bytecode::Module;
use std::fmt::Write;

/// The printed form of a value (the program's result format).
pub fn print_value(v: &Value, module: &Module) -> String {
    let mut out = String::new();
    write_value(&mut out, v, module);
    out
}

/// Appends the printed form of `v` to `out`.
pub fn write_value(out: &mut String, v: &Value, module: &Module) {
    let mut stack: Vec<Frame> = Vec::new();
    open(out, v, module, &mut stack);
    while let Some(frame) = stack.last_mut() {
        let first = frame.first;
        frame.first = false;
        match frame.items.next() {
            Some(Item::Value(child)) => {
                if !first {
                    out.push(' ');
                }
                open(out, child, module, &mut stack);
            }
            Some(Item::Entry(k, x)) => {
                if !first {
                    out.push(' ');
                }
                out.push('(');
                stack.push(Frame {
                    items: Items::Pair([Some(k), Some(x)]),
                    first: true,
                    close: ")",
                });
            }
            None => {
                out.push_str(frame.close);
                stack.pop();
            }
        }
    }
}

/// A container being printed: its remaining children and closing text.
struct Frame<'a> {
    items: Items<'a>,
    /// No child printed yet (no separator before the next one).
    first: bool,
    close: &'static str,
}

enum Item<'a> {
    Value(&'a Value),
    /// A dict entry, printed `(key value)`.
    Entry(&'a Value, &'a Value),
}

enum Items<'a> {
    List(std::collections::vec_deque::Iter<'a, Value>),
    Dict(indexmap::map::Iter<'a, Key, Value>),
    Set(indexmap::set::Iter<'a, Key>),
    Fields(std::slice::Iter<'a, Value>),
    Pair([Option<&'a Value>; 2]),
}

impl<'a> Items<'a> {
    fn next(&mut self) -> Option<Item<'a>> {
        match self {
            Items::List(it) => it.next().map(Item::Value),
            Items::Dict(it) => it.next().map(|(k, v)| Item::Entry(&k.0, v)),
            Items::Set(it) => it.next().map(|k| Item::Value(&k.0)),
            Items::Fields(it) => it.next().map(Item::Value),
            Items::Pair(p) => p[0].take().or_else(|| p[1].take()).map(Item::Value),
        }
    }
}

/// Prints a scalar completely, or a container's opening and pushes its frame.
fn open<'a>(out: &mut String, v: &'a Value, module: &Module, stack: &mut Vec<Frame<'a>>) {
    match v {
        Value::None => out.push_str("#none"),
        Value::Bool(true) => out.push_str("#t"),
        Value::Bool(false) => out.push_str("#f"),
        Value::Int(i) => {
            let _ = write!(out, "{i}");
        }
        Value::BigInt(n) => {
            let _ = write!(out, "{n}");
        }
        Value::Float(x) => out.push_str(&float_repr(*x)),
        Value::Complex(c) => out.push_str(&complex_repr(c.re, c.im)),
        Value::Str(s) => write_string(out, &s.text),
        Value::Symbol(s) => out.push_str(&s.text),
        Value::List(start, buf) => {
            out.push('(');
            stack.push(Frame {
                items: Items::List(list_iter(buf, *start)),
                first: true,
                close: ")",
            });
        }
        Value::Dict(d) => {
            out.push('{');
            stack.push(Frame {
                items: Items::Dict(d.iter()),
                first: true,
                close: "}",
            });
        }
        Value::Set(s) => {
            out.push_str("#{");
            stack.push(Frame {
                items: Items::Set(s.iter()),
                first: true,
                close: "}",
            });
        }
        Value::Closure(f, _) => match module.functions.get(*f as usize) {
            Some(func) => write_lambda(out, &func.params, func.rest.as_deref()),
            None => out.push_str("<lambda>"),
        },
        Value::Builtin(b) => {
            out.push_str("<lambda ");
            out.push_str(b.info().printed);
            out.push('>');
        }
        Value::StructType(t) => match module.struct_types.get(*t as usize) {
            Some(def) => {
                let _ = write!(out, "<struct-type {} ({})>", def.name, def.fields.join(" "));
            }
            None => out.push_str("<struct-type>"),
        },
        Value::Struct(s) => {
            out.push('(');
            match module.struct_types.get(s.ty as usize) {
                Some(def) => out.push_str(&def.name),
                None => out.push_str("struct"),
            }
            stack.push(Frame {
                items: Items::Fields(s.fields.iter()),
                // The name precedes the fields: separate even the first.
                first: false,
                close: ")",
            });
        }
    }
}

/// The elements `buf[start..]` (empty if `start` is past the end).
fn list_iter(buf: &ListBuf, start: u32) -> std::collections::vec_deque::Iter<'_, Value> {
    let start = (start as usize).min(buf.len());
    buf.range(start..)
}

/// `<lambda (x, y)>`, `<lambda (a, b . rest)>`, `<lambda (rest)>`, `<lambda ()>`.
fn write_lambda(out: &mut String, params: &[String], rest: Option<&str>) {
    out.push_str("<lambda (");
    out.push_str(&params.join(", "));
    if let Some(r) = rest {
        if !params.is_empty() {
            out.push_str(" . ");
        }
        out.push_str(r);
    }
    out.push_str(")>");
}

/// A string in double quotes with `"` `\` newline tab CR escaped and other
/// control characters below 32 as `\u00XX`.
pub fn write_string(out: &mut String, s: &str) {
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
}
