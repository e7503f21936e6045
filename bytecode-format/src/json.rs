//! A JSON rendering of a module, for tools: files, struct types, the entry
//! function, and per function its name, parameters, counts, constants,
//! closure sites, instructions (mnemonic, raw fields, typed operands,
//! last-use flags and source location) and the origins of conditional jumps
//! that test an `and`/`or` operand or a `match` predicate.
//!
//! Written by hand (no extra dependency): strings are escaped per RFC 8259;
//! integers are JSON numbers (big integers are strings); finite floats are
//! numbers and non-finite ones the strings `"nan"`, `"inf"`, `"-inf"`.
//! Nested constant lists are rendered without recursion. Works on any
//! module, valid or not.

use crate::disasm::{constant_kind, float_text, walk_constant, Walk};
use crate::module::{CaptureFrom, Constant, Function, Module, SrcLoc, NO_FILE};
use crate::opcodes::{Instr, Operand};
use std::fmt::Write;

/// The module as one JSON object (no trailing newline).
pub fn to_json(m: &Module) -> String {
    let mut out = String::new();
    out.push_str("{\"files\":[");
    for (i, f) in m.files.iter().enumerate() {
        comma(&mut out, i);
        string(&mut out, f);
    }
    out.push_str("],\"struct_types\":[");
    for (i, t) in m.struct_types.iter().enumerate() {
        comma(&mut out, i);
        out.push_str("{\"name\":");
        string(&mut out, &t.name);
        out.push_str(",\"fields\":[");
        for (j, field) in t.fields.iter().enumerate() {
            comma(&mut out, j);
            string(&mut out, field);
        }
        out.push_str("]}");
    }
    let _ = write!(out, "],\"entry\":{},\"functions\":[", m.entry);
    for (i, f) in m.functions.iter().enumerate() {
        comma(&mut out, i);
        function(&mut out, i, f);
    }
    out.push_str("]}");
    out
}

fn comma(out: &mut String, i: usize) {
    if i > 0 {
        out.push(',');
    }
}

/// Appends `s` as a JSON string literal.
pub fn string(out: &mut String, s: &str) {
    out.push('"');
    for ch in s.chars() {
        match ch {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

fn loc(out: &mut String, l: &SrcLoc) {
    if l.file == NO_FILE {
        out.push_str("{\"file\":null");
    } else {
        let _ = write!(out, "{{\"file\":{}", l.file);
    }
    let _ = write!(
        out,
        ",\"line\":{},\"col\":{},\"start\":{},\"end\":{}}}",
        l.line, l.col, l.start, l.end
    );
}

fn float(out: &mut String, x: f64) {
    if x.is_finite() {
        out.push_str(&float_text(x));
    } else {
        string(out, &float_text(x));
    }
}

fn function(out: &mut String, index: usize, f: &Function) {
    let _ = write!(out, "{{\"index\":{index},\"name\":");
    string(out, &f.name);
    out.push_str(",\"params\":[");
    for (i, p) in f.params.iter().enumerate() {
        comma(out, i);
        string(out, p);
    }
    out.push_str("],\"rest\":");
    match &f.rest {
        Some(r) => string(out, r),
        None => out.push_str("null"),
    }
    let _ = write!(
        out,
        ",\"num_captures\":{},\"num_registers\":{},\"loc\":",
        f.num_captures, f.num_registers
    );
    loc(out, &f.loc);
    out.push_str(",\"constants\":[");
    for (i, c) in f.constants.iter().enumerate() {
        comma(out, i);
        constant(out, c);
    }
    out.push_str("],\"closure_sites\":[");
    for (i, s) in f.closure_sites.iter().enumerate() {
        comma(out, i);
        let _ = write!(out, "{{\"function\":{},\"captures\":[", s.function);
        for (j, c) in s.captures.iter().enumerate() {
            comma(out, j);
            let _ = match c {
                CaptureFrom::Reg(r) => write!(out, "{{\"register\":{r}}}"),
                CaptureFrom::Env(e) => write!(out, "{{\"env\":{e}}}"),
            };
        }
        out.push_str("]}");
    }
    out.push_str("],\"code\":[");
    for (pc, &ins) in f.code.iter().enumerate() {
        comma(out, pc);
        instruction(out, pc, ins, f.locs.get(pc));
    }
    out.push_str("],\"cond_origins\":[");
    for (i, t) in f.cond_origins.iter().enumerate() {
        comma(out, i);
        let _ = write!(
            out,
            "{{\"pc\":{},\"origin\":\"{}\"}}",
            t.pc,
            t.origin.name()
        );
    }
    out.push_str("]}");
}

fn instruction(out: &mut String, pc: usize, ins: Instr, l: Option<&SrcLoc>) {
    let _ = write!(
        out,
        "{{\"pc\":{pc},\"op\":\"{}\",\"a\":{},\"b\":{},\"c\":{},\"flags\":{},\"operands\":[",
        ins.op.mnemonic(),
        ins.a,
        ins.b,
        ins.c,
        ins.flags
    );
    let shapes = ins.op.operands();
    let abx = ins.op.is_abx();
    let mut n = 0;
    for (i, shape) in shapes.iter().enumerate() {
        if abx && i == 2 {
            break;
        }
        let v = [ins.a, ins.b, ins.c][i] as i64;
        let (kind, value) = match shape {
            Operand::Unused => continue,
            Operand::RegW => ("register_written", v),
            Operand::RegR => ("register_read", v),
            Operand::Const => ("constant", v),
            Operand::Jump => ("jump", ins.bx() as i64),
            Operand::Imm32 => ("immediate", ins.sbx() as i64),
            Operand::Imm => ("count", v),
            Operand::Imm16 => ("immediate", ins.c as i16 as i64),
            Operand::Builtin => ("builtin", v),
            Operand::Func => ("function", v),
            Operand::Site => ("closure_site", ins.bx() as i64),
            Operand::StructType => ("struct_type", v),
            Operand::Capture => ("capture", v),
        };
        comma(out, n);
        n += 1;
        let _ = write!(out, "{{\"kind\":\"{kind}\",\"value\":{value}}}");
    }
    out.push_str("],\"loc\":");
    match l {
        Some(l) => loc(out, l),
        None => out.push_str("null"),
    }
    out.push('}');
}

/// `{"type":"integer","value":42}`; lists nest as `{"type":"list","items":[...]}`.
fn constant(out: &mut String, c: &Constant) {
    walk_constant(c, |step| match step {
        Walk::Open => out.push_str("{\"type\":\"list\",\"items\":["),
        Walk::Close => out.push_str("]}"),
        Walk::Separator => out.push(','),
        Walk::Atom(a) => {
            let _ = write!(out, "{{\"type\":\"{}\"", constant_kind(a));
            match a {
                Constant::None | Constant::EmptyList | Constant::List(_) => {}
                Constant::Bool(b) => {
                    let _ = write!(out, ",\"value\":{b}");
                }
                Constant::Int(i) => {
                    let _ = write!(out, ",\"value\":{i}");
                }
                Constant::BigInt(s) => {
                    out.push_str(",\"value\":");
                    string(out, s);
                }
                Constant::Float(x) => {
                    out.push_str(",\"value\":");
                    float(out, *x);
                }
                Constant::Complex(re, im) => {
                    out.push_str(",\"re\":");
                    float(out, *re);
                    out.push_str(",\"im\":");
                    float(out, *im);
                }
                Constant::Str(s) | Constant::Symbol(s) => {
                    out.push_str(",\"value\":");
                    string(out, s);
                }
                Constant::StructType(t) => {
                    let _ = write!(out, ",\"value\":{t}");
                }
            }
            if matches!(a, Constant::EmptyList) {
                out.push_str(",\"items\":[]");
            }
            out.push('}');
        }
    });
}
