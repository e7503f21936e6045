//! Inline-small: a call of a tiny function is replaced by a copy of its
//! body, at every call site (inline-once handles functions called once).
//!
//! A candidate `g` is a function of the user's program (not of the
//! prelude, whose errors must keep pointing at the user's call) without a
//! rest parameter or captures, whose CFG is one block of at most
//! [`MAX_BODY`] instructions — constants, copies, builtin values,
//! primitives and struct constructions, nothing that calls, builds a
//! closure or reads an environment — ending in `return`. A call
//! `v = call c(args)` (or a tail call) in another function, where `c` is
//! defined by `closure g []` and the argument count is `g`'s, becomes the
//! copied instructions (parameters replaced by the arguments, fresh
//! results) followed by `v = copy r`, `r` the copy of the returned value (a
//! tail call becomes `return r`). The closure is left to dce.
//!
//! Sound because the arguments were already evaluated, the copied body
//! runs exactly where the call ran on the same values and cannot call
//! back, and every copied instruction keeps its span, so an error it
//! raises names the same operation at the same place in `g`.

use super::Changed;
use crate::cfg::{CfgProgram, FuncId, Function, Inst, InstKind, Terminator, Value};
use menai_compiler::ir::Span;
use rustc_hash::FxHashMap as HashMap;

pub const DOC: &str = "replace calls of tiny capture-free single-block functions by their body";

/// The most instructions an inlined body may have.
pub const MAX_BODY: usize = 8;

/// The body of an inlinable function.
struct Body {
    params: Vec<Value>,
    insts: Vec<(InstKind, Span, Value)>,
    ret: Value,
}

/// `g`'s body, when it can be inlined anywhere (see the module doc).
fn inlinable(g: &Function, prelude_file: Option<u32>) -> Option<Body> {
    if g.rest_name.is_some() || g.num_captures != 0 || Some(g.span.file) == prelude_file {
        return None;
    }
    if g.blocks().len() != 1 {
        return None;
    }
    let entry = g.block(g.entry);
    let Terminator::Return(ret) = entry.term else {
        return None;
    };
    if entry.insts.len() > MAX_BODY {
        return None;
    }
    let mut insts = Vec::with_capacity(entry.insts.len());
    for &i in &entry.insts {
        let d = g.inst(i);
        let plain = matches!(
            d.kind,
            InstKind::Const(_)
                | InstKind::Copy(_)
                | InstKind::Builtin(_)
                | InstKind::Prim { .. }
                | InstKind::MakeStruct { .. }
        );
        if !plain {
            return None;
        }
        insts.push((d.kind.clone(), d.span, d.result));
    }
    Some(Body {
        params: entry.params.clone(),
        insts,
        ret,
    })
}

/// The function a callee value is a capture-free closure of.
fn closure_of(f: &Function, defs: &HashMap<Value, Inst>, callee: Value) -> Option<FuncId> {
    match &f.inst(*defs.get(&callee)?).kind {
        InstKind::Closure { func, captures } if captures.is_empty() => Some(*func),
        _ => None,
    }
}

/// Copies `body` into `f` with its parameters bound to `args`; returns the
/// new instructions (to place in order) and the copy of the returned value.
fn copy_body(f: &mut Function, body: &Body, args: &[Value]) -> (Vec<Inst>, Value) {
    let mut map: HashMap<Value, Value> = body
        .params
        .iter()
        .copied()
        .zip(args.iter().copied())
        .collect();
    let mut placed = Vec::with_capacity(body.insts.len());
    for (kind, span, result) in &body.insts {
        let mut kind = kind.clone();
        kind.map_uses(|v| map.get(&v).copied().unwrap_or(v));
        let (inst, value) = f.new_inst(kind, *span);
        map.insert(*result, value);
        placed.push(inst);
    }
    let ret = map.get(&body.ret).copied().unwrap_or(body.ret);
    (placed, ret)
}

pub fn run(p: &mut CfgProgram, touched: &mut [bool]) -> Changed {
    let prelude_file = p
        .files
        .iter()
        .position(|f| f.path == menai_compiler::analyze::prelude::PRELUDE_PATH)
        .and_then(|i| u32::try_from(i).ok());
    let bodies: Vec<Option<Body>> = p
        .functions
        .iter()
        .map(|g| inlinable(g, prelude_file))
        .collect();
    if bodies.iter().all(Option::is_none) {
        return Changed(0);
    }
    let mut count = 0;
    for (fi, f) in p.functions.iter_mut().enumerate() {
        let defs = f.defining_insts();
        let body_for = |f: &Function, callee: Value, n: usize| {
            let g = closure_of(f, &defs, callee)?;
            let body = bodies.get(g.0 as usize)?.as_ref()?;
            (g.0 as usize != fi && body.params.len() == n).then_some(body)
        };
        let before = count;
        for b in f.blocks() {
            let insts = f.block(b).insts.clone();
            let mut out = Vec::with_capacity(insts.len());
            for i in insts {
                let inlined = match &f.inst(i).kind {
                    InstKind::Call { func, args } => {
                        body_for(f, *func, args.len()).map(|body| (body, args.clone()))
                    }
                    _ => None,
                };
                if let Some((body, args)) = inlined {
                    let (placed, ret) = copy_body(f, body, &args);
                    out.extend(placed);
                    f.inst_mut(i).kind = InstKind::Copy(ret);
                    count += 1;
                }
                out.push(i);
            }
            f.block_mut(b).insts = out;
            let tail = match &f.block(b).term {
                Terminator::TailCall { func, args } => {
                    body_for(f, *func, args.len()).map(|body| (body, args.clone()))
                }
                _ => None,
            };
            if let Some((body, args)) = tail {
                let (placed, ret) = copy_body(f, body, &args);
                f.block_mut(b).insts.extend(placed);
                let span = f.block(b).term_span;
                f.set_term(b, Terminator::Return(ret), span);
                count += 1;
            }
        }
        if count > before {
            if let Some(t) = touched.get_mut(fi) {
                *t = true;
            }
        }
    }
    Changed(count)
}
