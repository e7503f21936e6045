//! Text and Graphviz forms of the CFG.
//!
//! The text form is stable (blocks in reverse postorder, values by number)
//! and meant for snapshots, `--print-after` and the pass file tests;
//! [`crate::parse`] reads it back (print → parse → print is the identity):
//!
//! ```text
//! function fn1 loop(n: v0, acc: v1) captures 0
//! block0(v0, v1):
//!     v2 = const 0
//!     v3 = prim integer=? v0, v2
//!     branch v3, block1, block2
//! ...
//! ```

use crate::cfg::{Block, CapSrc, CfgProgram, Function, InstKind, Terminator};
use crate::verify::{Location, VerifyError};
use menai_bytecode::CondOrigin;
use menai_compiler::ir::Const;
use std::fmt::Write;

/// Menai-like text for a constant.
pub fn const_text(c: &Const) -> String {
    match c {
        Const::None => "#none".into(),
        Const::Bool(true) => "#t".into(),
        Const::Bool(false) => "#f".into(),
        Const::Int(i) => i.to_string(),
        Const::BigInt(s) => s.clone(),
        Const::Float(x) => format!("{x:?}"),
        Const::Complex(re, im) => format!("{re:?}{im:+?}j"),
        Const::Str(s) => format!("{s:?}"),
        Const::Symbol(s) => format!("'{s}"),
        Const::EmptyList => "()".into(),
        Const::List(items) => {
            format!(
                "'({})",
                items
                    .iter()
                    .map(|c| const_text(c).trim_start_matches('\'').to_string())
                    .collect::<Vec<_>>()
                    .join(" ")
            )
        }
        Const::StructType(t) => format!("struct-type#{t}"),
    }
}

fn list(vs: &[crate::cfg::Value]) -> String {
    vs.iter()
        .map(|v| v.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// One instruction's text (without the result).
pub fn inst_text(kind: &InstKind) -> String {
    match kind {
        InstKind::Copy(v) => format!("copy {v}"),
        InstKind::Const(c) => format!("const {}", const_text(c)),
        InstKind::Builtin(b) => format!("builtin {}", b.name()),
        InstKind::GetCap(s) => format!("getcap {s}"),
        InstKind::Closure { func, captures } => {
            let caps: Vec<String> = captures
                .iter()
                .map(|c| match c {
                    CapSrc::Value(v) => v.to_string(),
                    CapSrc::Env(s) => format!("env{s}"),
                })
                .collect();
            format!("closure {func} [{}]", caps.join(", "))
        }
        InstKind::Sibling(func) => format!("sibling {func}"),
        InstKind::ClosureRef { func, of } => format!("closureref {func} of {of}"),
        InstKind::Prim { op, args } if args.is_empty() => format!("prim {}", op.name()),
        InstKind::Prim { op, args } => format!("prim {} {}", op.name(), list(args)),
        InstKind::MakeStruct { ty, args } if args.is_empty() => format!("makestruct #{ty}"),
        InstKind::MakeStruct { ty, args } => format!("makestruct #{ty} {}", list(args)),
        InstKind::Call { func, args } => format!("call {func}({})", list(args)),
        InstKind::Apply { func, list } => format!("apply {func}, {list}"),
    }
}

/// A terminator's text.
pub fn term_text(t: &Terminator) -> String {
    match t {
        Terminator::Unterminated => "<unterminated>".into(),
        Terminator::Jump { dest, args } if args.is_empty() => format!("jump {dest}"),
        Terminator::Jump { dest, args } => format!("jump {dest}({})", list(args)),
        Terminator::Branch {
            cond,
            then_dest,
            else_dest,
            origin: CondOrigin::If,
        } => format!("branch {cond}, {then_dest}, {else_dest}"),
        Terminator::Branch {
            cond,
            then_dest,
            else_dest,
            origin,
        } => format!(
            "branch {cond}, {then_dest}, {else_dest} ({})",
            origin.name()
        ),
        Terminator::Return(v) => format!("return {v}"),
        Terminator::TailCall { func, args } => format!("tailcall {func}({})", list(args)),
        Terminator::TailApply { func, list } => format!("tailapply {func}, {list}"),
        Terminator::Raise(v) => format!("raise {v}"),
        Terminator::RaiseUnbound(name) => format!("raise-unbound {name:?}"),
        Terminator::RaiseNoMatch(v) => format!("raise-nomatch {v}"),
    }
}

fn block_header(f: &Function, b: Block) -> String {
    let params = &f.block(b).params;
    if params.is_empty() {
        format!("{b}:")
    } else {
        format!("{b}({}):", list(params))
    }
}

/// The text form of one function. Blocks unreachable from the entry are
/// listed last, marked as such.
pub fn function_text(f: &Function) -> String {
    function_text_with_errors(f, &[])
}

/// The text form with verifier errors printed inline, each under the
/// block header, instruction or terminator it is about.
pub fn function_text_with_errors(f: &Function, errors: &[VerifyError]) -> String {
    let note = |s: &mut String, loc: &Location| {
        for e in errors.iter().filter(|e| &e.location == loc) {
            let _ = writeln!(s, "    ; error: {}", e.message);
        }
    };
    let mut s = String::new();
    let entry_params = &f.block(f.entry).params;
    let mut names: Vec<String> = f
        .param_names
        .iter()
        .zip(entry_params)
        .map(|(n, v)| format!("{n}: {v}"))
        .collect();
    if let (Some(r), Some(v)) = (&f.rest_name, entry_params.get(f.param_names.len())) {
        names.push(format!(". {r}: {v}"));
    }
    let _ = writeln!(
        s,
        "function {} {}({}) captures {}",
        f.id,
        f.name,
        names.join(", "),
        f.num_captures
    );
    note(&mut s, &Location::Function);
    let mut order = f.reverse_postorder();
    let unreachable: Vec<Block> = f
        .blocks()
        .into_iter()
        .filter(|b| !order.contains(b))
        .collect();
    order.extend(unreachable.iter().copied());
    for b in order {
        let data = f.block(b);
        let mark = if unreachable.contains(&b) {
            "    ; unreachable"
        } else {
            ""
        };
        let _ = writeln!(s, "{}{mark}", block_header(f, b));
        note(&mut s, &Location::Block(b));
        for &i in &data.insts {
            let inst = f.inst(i);
            let _ = writeln!(s, "    {} = {}", inst.result, inst_text(&inst.kind));
            note(&mut s, &Location::Inst(b, i));
        }
        let _ = writeln!(s, "    {}", term_text(&data.term));
        note(&mut s, &Location::Term(b));
    }
    s
}

/// The text form of every function (optionally only those named
/// `filter`). The whole program starts with its struct declarations
/// (`struct #0 Point(x, y)`), so that [`crate::parse`] can read it back.
pub fn program_text(p: &CfgProgram, filter: Option<&str>) -> String {
    let functions = p
        .functions
        .iter()
        .filter(|f| filter.is_none_or(|n| f.name == n))
        .map(function_text)
        .collect::<Vec<_>>()
        .join("\n");
    if filter.is_some() || p.structs.is_empty() {
        return functions;
    }
    let mut s = String::new();
    for (i, d) in p.structs.iter().enumerate() {
        let _ = writeln!(s, "struct #{i} {}({})", d.name, d.fields.join(", "));
    }
    s.push('\n');
    s + &functions
}

fn dot_escape(s: &str) -> String {
    let mut out = String::new();
    for ch in s.chars() {
        match ch {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\l"),
            c => out.push(c),
        }
    }
    out
}

/// A Graphviz digraph of one function: one box node per block.
pub fn function_dot(f: &Function) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "digraph \"{}\" {{", dot_escape(&f.name));
    let _ = writeln!(s, "    node [shape=box, fontname=\"monospace\"];");
    for b in f.reverse_postorder() {
        let data = f.block(b);
        let mut label = block_header(f, b);
        label.push('\n');
        for &i in &data.insts {
            let inst = f.inst(i);
            let _ = writeln!(label, "  {} = {}", inst.result, inst_text(&inst.kind));
        }
        let _ = writeln!(label, "  {}", term_text(&data.term));
        let _ = writeln!(s, "    {b} [label=\"{}\"];", dot_escape(&label));
        match &data.term {
            Terminator::Branch {
                then_dest,
                else_dest,
                ..
            } => {
                let _ = writeln!(s, "    {b} -> {then_dest} [label=\"T\"];");
                let _ = writeln!(s, "    {b} -> {else_dest} [label=\"F\"];");
            }
            t => {
                for d in t.successors() {
                    let _ = writeln!(s, "    {b} -> {d};");
                }
            }
        }
    }
    s.push_str("}\n");
    s
}

/// File names (`cfg.NAME.dot`) and contents for every function; names are
/// made safe for file systems and unique (a repeated name gets `.N`).
pub fn program_dot_files(p: &CfgProgram, filter: Option<&str>) -> Vec<(String, String)> {
    let mut seen = std::collections::HashMap::<String, usize>::new();
    let mut out = Vec::new();
    for f in &p.functions {
        if filter.is_some_and(|n| f.name != n) {
            continue;
        }
        let safe: String = f
            .name
            .chars()
            .map(|c| {
                if c.is_alphanumeric() || "-_@:+".contains(c) {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        let count = seen.entry(safe.clone()).or_insert(0);
        *count += 1;
        let name = if *count == 1 {
            format!("cfg.{safe}.dot")
        } else {
            format!("cfg.{safe}.{count}.dot")
        };
        out.push((name, function_dot(f)));
    }
    out
}
