//! The bytecode listing, in the style of `luac -l`: a module header (files,
//! struct types, entry), then per function a header (index, name,
//! parameters, registers, captures, counts, defining location), its
//! constants, its closure sites, and one row per instruction: pc, `[line]`,
//! mnemonic, operands and a `; comment` (constant value, jump target,
//! builtin, function or struct type name, registers flagged as last use).
//!
//! The text is stable (snapshot tests depend on it) and is produced for any
//! module, valid or not: out-of-range indices print as `?`, never panic.
//! Operand notation: `R3` register, `K1` constant, `E0` environment slot,
//! `F2` function, `S0` closure site, `T0` struct type, `#27` builtin code,
//! plain numbers for jump targets, counts and immediates.

use crate::builtins::Builtin;
use crate::effects::register_effects;
use crate::module::{CaptureFrom, CondOrigin, Constant, Function, Module, SrcLoc, NO_FILE};
use crate::opcodes::{Instr, Op, Operand};
use std::fmt::Write;

/// The whole listing of a module.
pub fn disassemble(m: &Module) -> String {
    let mut out = String::new();
    let _ = write_module(&mut out, m);
    out
}

/// The listing of one function of a module (`None` if out of range).
pub fn disassemble_function(m: &Module, index: usize) -> Option<String> {
    let f = m.functions.get(index)?;
    let mut out = String::new();
    let _ = write_function(&mut out, m, index, f);
    Some(out)
}

fn write_module(out: &mut String, m: &Module) -> std::fmt::Result {
    writeln!(
        out,
        "module: {}, {}, {}, entry function F{}",
        plural(m.functions.len(), "function", "functions"),
        plural(m.struct_types.len(), "struct type", "struct types"),
        plural(m.files.len(), "file", "files"),
        m.entry
    )?;
    for (i, file) in m.files.iter().enumerate() {
        writeln!(out, "file {i}: {}", quote(file))?;
    }
    for (i, t) in m.struct_types.iter().enumerate() {
        writeln!(out, "struct type T{i}: {} ({})", t.name, t.fields.join(" "))?;
    }
    for (i, f) in m.functions.iter().enumerate() {
        writeln!(out)?;
        write_function(out, m, i, f)?;
    }
    Ok(())
}

/// `file:line:col`, or `?:line:col` for an unknown or bad file index.
fn location(m: &Module, loc: &SrcLoc) -> String {
    let file = if loc.file == NO_FILE {
        "?"
    } else {
        m.files.get(loc.file as usize).map_or("?", |s| s.as_str())
    };
    format!("{file}:{}:{}", loc.line, loc.col)
}

/// The printed parameter list, as the language prints lambdas: `(a, b . rest)`.
pub fn parameter_list(f: &Function) -> String {
    let mut s = f.params.join(", ");
    if let Some(rest) = &f.rest {
        if !s.is_empty() {
            s.push_str(" . ");
        }
        s.push_str(rest);
    }
    format!("({s})")
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

fn function_name(m: &Module, index: u32) -> String {
    match m.functions.get(index as usize) {
        Some(f) => format!("F{index} '{}'", f.name),
        None => format!("F{index} ?"),
    }
}

fn struct_name(m: &Module, index: u32) -> String {
    match m.struct_types.get(index as usize) {
        Some(t) => format!("T{index} '{}'", t.name),
        None => format!("T{index} ?"),
    }
}

fn write_function(out: &mut String, m: &Module, index: usize, f: &Function) -> std::fmt::Result {
    let entry = if index == m.entry as usize {
        " (entry)"
    } else {
        ""
    };
    writeln!(
        out,
        "function F{index} '{}'{entry} <{}>",
        f.name,
        location(m, &f.loc)
    )?;
    writeln!(
        out,
        "  params {}{}, {}, {}, {}, {}, {}",
        parameter_list(f),
        if f.rest.is_some() { " variadic" } else { "" },
        plural(f.num_registers as usize, "register", "registers"),
        plural(f.num_captures as usize, "capture", "captures"),
        plural(f.constants.len(), "constant", "constants"),
        plural(f.closure_sites.len(), "closure site", "closure sites"),
        plural(f.code.len(), "instruction", "instructions"),
    )?;
    if !f.constants.is_empty() {
        writeln!(out, "  constants:")?;
        for (k, c) in f.constants.iter().enumerate() {
            writeln!(
                out,
                "    K{k:<4} {:<11} {}",
                constant_kind(c),
                constant_text(m, c)
            )?;
        }
    }
    if !f.closure_sites.is_empty() {
        writeln!(out, "  closure sites:")?;
        for (i, s) in f.closure_sites.iter().enumerate() {
            writeln!(
                out,
                "    S{i:<4} {} captures [{}]",
                function_name(m, s.function),
                captures_text(&s.captures)
            )?;
        }
    }
    writeln!(out, "  code:")?;
    for (pc, &ins) in f.code.iter().enumerate() {
        let line = f
            .locs
            .get(pc)
            .map_or_else(|| "?".to_string(), |l| l.line.to_string());
        let operands = operands_text(ins);
        let mut comment = comment(m, f, ins);
        let origin = f.cond_origin(pc);
        if matches!(ins.op, Op::JmpFalse | Op::JmpTrue) && origin != CondOrigin::If {
            comment.push_str(&format!("; tests {}", origin.name()));
        }
        let row = format!("    {pc:<5} [{line}]");
        let row = format!("{row:<16}{:<12} {operands}", ins.op.mnemonic());
        if comment.is_empty() {
            writeln!(out, "{}", row.trim_end())?;
        } else {
            writeln!(out, "{row:<44} ; {comment}")?;
        }
    }
    Ok(())
}

fn captures_text(caps: &[CaptureFrom]) -> String {
    caps.iter()
        .map(|c| match c {
            CaptureFrom::Reg(r) => format!("R{r}"),
            CaptureFrom::Env(e) => format!("E{e}"),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The operands of an instruction in the notation of this module.
pub fn operands_text(ins: Instr) -> String {
    let shapes = ins.op.operands();
    let abx = ins.op.is_abx();
    let mut parts = Vec::with_capacity(3);
    for (i, shape) in shapes.iter().enumerate() {
        let v = [ins.a, ins.b, ins.c][i];
        if abx && i == 2 {
            break;
        }
        let wide = if abx && i == 1 { ins.bx() } else { v as u32 };
        let text = match shape {
            Operand::Unused => continue,
            Operand::RegW | Operand::RegR => format!("R{v}"),
            Operand::Const => format!("K{v}"),
            Operand::Jump => format!("{wide}"),
            Operand::Imm32 => format!("{}", ins.sbx()),
            Operand::Imm => format!("{v}"),
            Operand::Imm16 => format!("{}", v as i16),
            Operand::Builtin => format!("#{v}"),
            Operand::Func => format!("F{v}"),
            Operand::Site => format!("S{wide}"),
            Operand::StructType => format!("T{v}"),
            Operand::Capture => format!("E{v}"),
        };
        parts.push(text);
    }
    parts.join(" ")
}

fn builtin_name(code: u16) -> String {
    Builtin::from_code(code).map_or_else(|| "?".to_string(), |b| b.name().to_string())
}

fn comment(m: &Module, f: &Function, ins: Instr) -> String {
    let konst = |k: u16| {
        f.constants
            .get(k as usize)
            .map_or_else(|| "?".to_string(), |c| constant_text(m, c))
    };
    let mut parts: Vec<String> = Vec::new();
    match ins.op {
        Op::LoadK | Op::RaiseUnbound => parts.push(konst(ins.b)),
        Op::LoadBool => parts.push(if ins.b != 0 { "#t" } else { "#f" }.to_string()),
        Op::LoadBuiltin => parts.push(builtin_name(ins.b)),
        Op::CallBuiltin => {
            let n = Builtin::from_code(ins.b).map_or(0, |b| b.info().prim_arity as u32);
            parts.push(format!(
                "{}({})",
                builtin_name(ins.b),
                reg_span(ins.c as u32, n)
            ));
        }
        Op::Closure => match f.closure_sites.get(ins.bx() as usize) {
            Some(s) => parts.push(format!(
                "{} [{}]",
                function_name(m, s.function),
                captures_text(&s.captures)
            )),
            None => parts.push("?".to_string()),
        },
        Op::Sibling | Op::ClosureRef => parts.push(function_name(m, ins.b as u32)),
        Op::Jmp | Op::JmpTrue | Op::JmpFalse => parts.push(format!("to {}", ins.bx())),
        Op::Call => parts.push(format!(
            "R{} := R{}({})",
            ins.c,
            ins.a,
            reg_span(ins.a as u32 + 1, ins.b as u32)
        )),
        Op::TailCall => parts.push(format!(
            "return R{}({})",
            ins.a,
            reg_span(ins.a as u32 + 1, ins.b as u32)
        )),
        Op::CallF | Op::TailCallF => {
            let n = m
                .functions
                .get(ins.b as usize)
                .map_or(0, |g| g.params.len() as u32);
            let call = format!(
                "{}({})",
                function_name(m, ins.b as u32),
                reg_span(ins.a as u32, n)
            );
            parts.push(if ins.op == Op::CallF {
                format!("R{} := {call}", ins.c)
            } else {
                format!("return {call}")
            })
        }
        Op::MakeList | Op::MakeDict | Op::MakeSet => {
            let kind = match ins.op {
                Op::MakeList => "list",
                Op::MakeDict => "dict",
                _ => "set",
            };
            parts.push(format!("{kind}({})", reg_span(ins.b as u32, ins.c as u32)))
        }
        Op::MakeStruct => {
            let n = m
                .struct_types
                .get(ins.b as usize)
                .map_or(0, |t| t.fields.len() as u32);
            parts.push(format!(
                "{}({})",
                struct_name(m, ins.b as u32),
                reg_span(ins.c as u32, n)
            ));
        }
        _ => {}
    }
    if ins.flags & !Instr::TYPES_PROVEN != 0 {
        let mut dead = Vec::new();
        let _ = register_effects(m, f, ins)
            .reads
            .try_for_each::<()>(|i, r| {
                if i >= Instr::LAST_USE_BITS as usize {
                    return Err(());
                }
                if ins.is_last_use(i as u32) {
                    dead.push(format!("R{r}"));
                }
                Ok(())
            });
        parts.push(format!("last use {}", dead.join(" ")));
    }
    if ins.types_proven() {
        parts.push("types proven".to_string());
    }
    parts.join("; ")
}

/// `R3..R5` for the `n` registers from `start` (`R3` for one, empty for none).
fn reg_span(start: u32, n: u32) -> String {
    match n {
        0 => String::new(),
        1 => format!("R{start}"),
        _ => format!("R{start}..R{}", u64::from(start) + u64::from(n) - 1),
    }
}

/// The type of a constant, as the language names it.
pub fn constant_kind(c: &Constant) -> &'static str {
    match c {
        Constant::None => "none",
        Constant::Bool(_) => "boolean",
        Constant::Int(_) | Constant::BigInt(_) => "integer",
        Constant::Float(_) => "float",
        Constant::Complex(..) => "complex",
        Constant::Str(_) => "string",
        Constant::Symbol(_) => "symbol",
        Constant::EmptyList | Constant::List(_) => "list",
        Constant::StructType(_) => "struct-type",
    }
}

/// A float as Rust's shortest round-trip form (`1.0`, `0.1`, `1e16`),
/// with `nan`, `inf` and `-inf` spelled as the language prints them.
pub fn float_text(x: f64) -> String {
    if x.is_nan() {
        "nan".to_string()
    } else if x.is_infinite() {
        if x > 0.0 { "inf" } else { "-inf" }.to_string()
    } else {
        format!("{x:?}")
    }
}

/// A string in double quotes with the language's escapes.
pub fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for ch in s.chars() {
        match ch {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 32 => {
                let _ = write!(out, "\\u{:04X}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// One step of walking a constant without recursion (lists can be deep).
pub(crate) enum Walk<'a> {
    Atom(&'a Constant),
    Open,
    /// Between two elements of a list.
    Separator,
    Close,
}

/// Calls `visit` for each step of a depth-first walk of `c`, iteratively.
pub(crate) fn walk_constant<'a>(c: &'a Constant, mut visit: impl FnMut(Walk<'a>)) {
    // Each frame: the remaining elements of an open list, and whether one
    // element has been visited already (to place separators).
    let mut stack: Vec<(std::slice::Iter<'a, Constant>, bool)> = Vec::new();
    let mut next: Option<&'a Constant> = Some(c);
    loop {
        if let Some(c) = next.take() {
            match c {
                Constant::List(items) => {
                    visit(Walk::Open);
                    stack.push((items.iter(), false));
                }
                _ => visit(Walk::Atom(c)),
            }
        }
        let Some((items, started)) = stack.last_mut() else {
            break;
        };
        match items.next() {
            Some(item) => {
                if *started {
                    visit(Walk::Separator);
                }
                *started = true;
                next = Some(item);
            }
            None => {
                stack.pop();
                visit(Walk::Close);
            }
        }
    }
}

/// A constant as source-like text: `42`, `"hi"`, `'sym`, `(1 (2 3))`,
/// `<struct-type point>`.
pub fn constant_text(m: &Module, c: &Constant) -> String {
    let mut out = String::new();
    if matches!(
        c,
        Constant::Symbol(_) | Constant::List(_) | Constant::EmptyList
    ) {
        out.push('\'');
    }
    walk_constant(c, |step| match step {
        Walk::Open => out.push('('),
        Walk::Close => out.push(')'),
        Walk::Separator => out.push(' '),
        Walk::Atom(a) => out.push_str(&atom_text(m, a)),
    });
    out
}

fn atom_text(m: &Module, c: &Constant) -> String {
    match c {
        Constant::None => "#none".to_string(),
        Constant::Bool(b) => if *b { "#t" } else { "#f" }.to_string(),
        Constant::Int(i) => i.to_string(),
        Constant::BigInt(s) => s.clone(),
        Constant::Float(x) => float_text(*x),
        Constant::Complex(re, im) => {
            let im_text = float_text(*im);
            let sign = if im_text.starts_with('-') { "" } else { "+" };
            format!("{}{sign}{im_text}j", float_text(*re))
        }
        Constant::Str(s) => quote(s),
        Constant::Symbol(s) => s.clone(),
        Constant::EmptyList => "()".to_string(),
        Constant::StructType(t) => format!("<struct-type {}>", struct_name(m, *t)),
        Constant::List(_) => String::new(), // handled by the walk
    }
}

/// The listing of the function a validation error is about, with the error
/// printed under the offending instruction (or under the header when it has
/// no pc); for a module-level error, just the error.
pub fn disassemble_with_error(m: &Module, err: &crate::validate::ValidationError) -> String {
    let Some(text) = err
        .function
        .and_then(|f| disassemble_function(m, f as usize))
    else {
        return format!("error: {err}\n");
    };
    let marker = format!("  ^^^ error: {}", err.reason);
    let mut out = String::with_capacity(text.len() + marker.len() + 1);
    let mut placed = false;
    for (i, line) in text.lines().enumerate() {
        out.push_str(line);
        out.push('\n');
        let here = match err.pc {
            None => i == 0,
            Some(pc) => {
                line.strip_prefix("    ")
                    .and_then(|rest| rest.split(' ').next())
                    == Some(&pc.to_string())
                    && line.contains(" [")
            }
        };
        if here && !placed {
            out.push_str(&marker);
            out.push('\n');
            placed = true;
        }
    }
    if !placed {
        out.push_str(&marker);
        out.push('\n');
    }
    out
}
