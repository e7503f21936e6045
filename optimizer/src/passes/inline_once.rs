//! Inline-once: a function called from exactly one site, whose closure does
//! not escape, is inlined at that site and its closure disappears.
//!
//! A candidate `g` (never the entry function) has, over the whole program,
//! exactly one reference: a `closure g [captures]` instruction in another
//! function `f`, whose result is used exactly once, as the callee of a
//! `call` or `tailcall` with exactly `g`'s parameter count (no rest
//! parameter). `g` must not build siblings (`sibling`) — a letrec member
//! that refers to itself or to its group is never inlined — and its CFG
//! must have no cycle (a self tail call compiled to a loop), so
//! self-recursive functions stay as they are.
//!
//! The rewrite copies `g`'s blocks into `f` with fresh values: `g`'s
//! parameters become the call's arguments and its entry block continues the
//! call block (it has no predecessors: `g`'s CFG is acyclic), `getcap k` becomes the k-th capture of the
//! closure site (a copy of the value, or a `getcap` of `f`'s own
//! environment), and nested closures capturing `g`'s environment capture the
//! same sources. For a non-tail call the block is split at the call: the
//! copy's `return v` jumps to a continuation block whose parameter replaces
//! the call's result, and a tail call inside `g` becomes an ordinary call
//! followed by that jump. For a tail call the copy's returns and tail calls
//! stay as they are. The closure instruction is deleted and `g`'s body is
//! replaced by a stub (it is no longer referenced; its index stays so the
//! module's function numbering does not change).
//!
//! Sound because evaluation order is unchanged: the arguments were already
//! evaluated before the call, the closure creation has no effect, and the
//! body runs exactly where the call ran with the same values; errors keep
//! their spans (instructions keep the span of the source they came from).

use super::Changed;
use crate::cfg::{Block, CapSrc, CfgProgram, Function, Inst, InstKind, Terminator, Value};
use menai_compiler::ir::Const;
use std::collections::HashMap;

pub const DOC: &str = "inline functions called from one site whose closure does not escape";

/// Where a candidate is called: the closure instruction and the call.
struct Site {
    /// The function containing the closure and the call.
    caller: usize,
    callee: usize,
    closure_inst: Inst,
    closure_block: Block,
    captures: Vec<CapSrc>,
    call: CallAt,
}

/// The one use of the closure value.
enum CallAt {
    /// `Call` instruction `inst` in `block`.
    Inst { block: Block, inst: Inst },
    /// The `TailCall` terminator of `block`.
    Tail { block: Block },
}

/// Functions referenced by any closure-building instruction, with how often.
fn reference_counts(p: &CfgProgram) -> Vec<u32> {
    let mut counts = vec![0u32; p.functions.len()];
    for f in &p.functions {
        for b in f.blocks() {
            for &i in &f.block(b).insts {
                let g = match &f.inst(i).kind {
                    InstKind::Closure { func, .. }
                    | InstKind::Sibling(func)
                    | InstKind::ClosureRef { func, .. } => *func,
                    _ => continue,
                };
                if let Some(c) = counts.get_mut(g.0 as usize) {
                    *c += 1;
                }
            }
        }
    }
    counts
}

/// Whether `g` builds siblings (shares its environment with a group).
fn builds_siblings(g: &Function) -> bool {
    g.blocks().into_iter().any(|b| {
        g.block(b)
            .insts
            .iter()
            .any(|&i| matches!(g.inst(i).kind, InstKind::Sibling(_)))
    })
}

/// The first inlinable site of the program, if any.
fn find_site(p: &CfgProgram) -> Option<Site> {
    let refs = reference_counts(p);
    for (fi, f) in p.functions.iter().enumerate() {
        let uses = f.use_counts();
        for b in f.blocks() {
            for &i in &f.block(b).insts {
                let InstKind::Closure { func, captures } = &f.inst(i).kind else {
                    continue;
                };
                let gi = func.0 as usize;
                let Some(g) = p.functions.get(gi) else {
                    continue;
                };
                if gi == fi
                    || *func == p.entry
                    || refs.get(gi) != Some(&1)
                    || g.rest_name.is_some()
                    || captures.len() != g.num_captures as usize
                    || builds_siblings(g)
                    || petgraph::algo::is_cyclic_directed(&g.graph)
                {
                    continue;
                }
                let c = f.inst(i).result;
                if uses.get(c.0 as usize) != Some(&1) {
                    continue;
                }
                if let Some(call) = find_call(f, c, g.param_names.len()) {
                    return Some(Site {
                        caller: fi,
                        callee: gi,
                        closure_inst: i,
                        closure_block: b,
                        captures: captures.clone(),
                        call,
                    });
                }
            }
        }
    }
    None
}

/// The call using `c` as its callee with `n` arguments (and not as an argument).
fn find_call(f: &Function, c: Value, n: usize) -> Option<CallAt> {
    for b in f.blocks() {
        for &i in &f.block(b).insts {
            if let InstKind::Call { func, args } = &f.inst(i).kind {
                if *func == c && args.len() == n && !args.contains(&c) {
                    return Some(CallAt::Inst { block: b, inst: i });
                }
            }
        }
        if let Terminator::TailCall { func, args } = &f.block(b).term {
            if *func == c && args.len() == n && !args.contains(&c) {
                return Some(CallAt::Tail { block: b });
            }
        }
    }
    None
}

/// A placeholder body for a function that is no longer referenced.
fn stub(g: &Function) -> Function {
    let mut s = Function::new(
        g.id,
        g.name.clone(),
        g.param_names.clone(),
        g.rest_name.clone(),
        g.span,
    );
    s.num_captures = g.num_captures;
    let e = s.entry;
    let v = s.push_inst(e, InstKind::Const(Const::None), g.span);
    s.set_term(e, Terminator::Return(v), g.span);
    s
}

/// Inlines every candidate, one at a time (each inlining can expose more).
pub fn run(p: &mut CfgProgram, touched: &mut [bool]) -> Changed {
    let mut count = 0;
    // Each inlining removes one reference for good, so this terminates;
    // the bound is a belt-and-braces guard.
    let limit = p.functions.len();
    while count < limit {
        let Some(site) = find_site(p) else { break };
        let g = p.functions[site.callee].clone();
        let f = &mut p.functions[site.caller];
        inline(f, &g, &site);
        p.functions[site.callee] = stub(&g);
        for i in [site.caller, site.callee] {
            if let Some(t) = touched.get_mut(i) {
                *t = true;
            }
        }
        count += 1;
    }
    Changed(count)
}

/// Copies `g` into `f` at `site`.
fn inline(f: &mut Function, g: &Function, site: &Site) {
    // Remove the closure instruction.
    f.block_mut(site.closure_block)
        .insts
        .retain(|&i| i != site.closure_inst);

    let (call_block, args, cont) = match site.call {
        CallAt::Inst { block, inst } => {
            let data = f.inst(inst).clone();
            let InstKind::Call { args, .. } = data.kind else {
                return;
            };
            // Split the block after the call.
            let insts = f.block(block).insts.clone();
            let pos = insts.iter().position(|&i| i == inst).unwrap_or(insts.len());
            let after: Vec<Inst> = insts.get(pos + 1..).unwrap_or(&[]).to_vec();
            let old_term = f.block(block).term.clone();
            let term_span = f.block(block).term_span;
            let cont = f.add_block(data.span);
            let param = f.add_param(cont);
            f.block_mut(cont).insts = after;
            f.block_mut(block).insts.truncate(pos);
            f.set_term(cont, old_term, term_span);
            let mut map = HashMap::new();
            map.insert(data.result, param);
            f.replace_uses(&map);
            (block, args, Some(cont))
        }
        CallAt::Tail { block } => {
            let Terminator::TailCall { args, .. } = f.block(block).term.clone() else {
                return;
            };
            (block, args, None)
        }
    };

    // Fresh blocks and values for g's.
    // g's entry has no predecessors (its CFG is acyclic), so its copy is
    // the call block itself, with g's parameters standing for the arguments.
    let mut blocks: HashMap<Block, Block> = HashMap::new();
    for b in g.blocks() {
        let nb = if b == g.entry {
            call_block
        } else {
            f.add_block(g.block(b).term_span)
        };
        blocks.insert(b, nb);
    }
    let mut vals: HashMap<Value, Value> = g
        .block(g.entry)
        .params
        .iter()
        .copied()
        .zip(args.iter().copied())
        .collect();
    let mut val = |f: &mut Function, v: Value| *vals.entry(v).or_insert_with(|| f.new_value());
    for b in g.blocks() {
        if b == g.entry {
            continue;
        }
        let nb = blocks[&b];
        let params: Vec<Value> = g.block(b).params.iter().map(|&v| val(f, v)).collect();
        f.block_mut(nb).params = params;
    }
    for b in g.blocks() {
        let nb = blocks[&b];
        for &i in &g.block(b).insts {
            let d = g.inst(i);
            let mut kind = d.kind.clone();
            kind.map_uses(|v| val(f, v));
            let kind = match kind {
                InstKind::GetCap(k) => match site.captures.get(k as usize) {
                    Some(CapSrc::Value(v)) => InstKind::Copy(*v),
                    Some(CapSrc::Env(s)) => InstKind::GetCap(*s),
                    None => InstKind::GetCap(k),
                },
                InstKind::Closure { func, captures } => InstKind::Closure {
                    func,
                    captures: captures
                        .into_iter()
                        .map(|c| match c {
                            CapSrc::Env(k) => site.captures.get(k as usize).copied().unwrap_or(c),
                            other => other,
                        })
                        .collect(),
                },
                other => other,
            };
            let result = val(f, d.result);
            let new = Inst(f.insts.len() as u32);
            f.insts.push(crate::cfg::InstData {
                kind,
                result,
                span: d.span,
            });
            f.block_mut(nb).insts.push(new);
        }
        let tspan = g.block(b).term_span;
        let mut term = g.block(b).term.clone();
        term.map_uses(|v| val(f, v));
        let term = match (term, cont) {
            (Terminator::Jump { dest, args }, _) => Terminator::Jump {
                dest: blocks.get(&dest).copied().unwrap_or(dest),
                args,
            },
            (
                Terminator::Branch {
                    cond,
                    then_dest,
                    else_dest,
                },
                _,
            ) => Terminator::Branch {
                cond,
                then_dest: blocks.get(&then_dest).copied().unwrap_or(then_dest),
                else_dest: blocks.get(&else_dest).copied().unwrap_or(else_dest),
            },
            (Terminator::Return(v), Some(cont)) => Terminator::Jump {
                dest: cont,
                args: vec![v],
            },
            (Terminator::TailCall { func, args }, Some(cont)) => {
                let r = f.push_inst(nb, InstKind::Call { func, args }, tspan);
                Terminator::Jump {
                    dest: cont,
                    args: vec![r],
                }
            }
            (Terminator::TailApply { func, list }, Some(cont)) => {
                let r = f.push_inst(nb, InstKind::Apply { func, list }, tspan);
                Terminator::Jump {
                    dest: cont,
                    args: vec![r],
                }
            }
            (t, _) => t,
        };
        f.set_term(nb, term, tspan);
    }
    // A body that never returns (it always raises) leaves the
    // continuation unreachable.
    f.remove_unreachable_blocks();
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cfg::FuncId;
    use crate::verify;
    use menai_bytecode::Builtin;
    use menai_compiler::ir::Span;

    /// main: c = closure fn1 [v_k]; r = call c(41); return r
    /// fn1(x): k = getcap 0; y = integer+ x k; return y
    fn program(tail: bool) -> CfgProgram {
        let sp = Span::default();
        let mut main = Function::new(FuncId(0), "main".into(), vec![], None, sp);
        let e = main.entry;
        let k = main.push_inst(e, InstKind::Const(Const::Int(1)), sp);
        let c = main.push_inst(
            e,
            InstKind::Closure {
                func: FuncId(1),
                captures: vec![CapSrc::Value(k)],
            },
            sp,
        );
        let a = main.push_inst(e, InstKind::Const(Const::Int(41)), sp);
        if tail {
            main.set_term(
                e,
                Terminator::TailCall {
                    func: c,
                    args: vec![a],
                },
                sp,
            );
        } else {
            let r = main.push_inst(
                e,
                InstKind::Call {
                    func: c,
                    args: vec![a],
                },
                sp,
            );
            let l = main.push_inst(
                e,
                InstKind::Prim {
                    op: Builtin::List,
                    args: vec![r],
                },
                sp,
            );
            main.set_term(e, Terminator::Return(l), sp);
        }
        let mut g = Function::new(FuncId(1), "g".into(), vec!["x".into()], None, sp);
        g.num_captures = 1;
        let ge = g.entry;
        let x = g.block(ge).params[0];
        let kk = g.push_inst(ge, InstKind::GetCap(0), sp);
        let y = g.push_inst(
            ge,
            InstKind::Prim {
                op: Builtin::IntegerAdd,
                args: vec![x, kk],
            },
            sp,
        );
        g.set_term(ge, Terminator::Return(y), sp);
        CfgProgram {
            functions: vec![main, g],
            entry: FuncId(0),
            structs: vec![],
            files: vec![],
        }
    }

    fn kinds(f: &Function) -> Vec<String> {
        let mut out = vec![];
        for b in f.reverse_postorder() {
            for &i in &f.block(b).insts {
                out.push(format!("{:?}", f.inst(i).kind));
            }
            out.push(format!("{:?}", f.block(b).term).chars().take(8).collect());
        }
        out
    }

    #[test]
    fn a_closure_called_once_is_inlined() {
        for tail in [false, true] {
            let mut p = program(tail);
            let mut touched = vec![false; 2];
            assert_eq!(run(&mut p, &mut touched), Changed(1));
            assert_eq!(touched, vec![true, true]);
            verify::verify_program(&p, "inline-once").unwrap();
            let k = kinds(&p.functions[0]);
            assert!(
                !k.iter()
                    .any(|s| s.starts_with("Closure") || s.starts_with("Call")),
                "{k:?}"
            );
            assert!(
                k.iter().any(|s| s.starts_with("Prim { op: IntegerAdd")),
                "{k:?}"
            );
            // The capture became a copy of the value captured at the site.
            assert!(k.iter().any(|s| s.starts_with("Copy(Value(0))")), "{k:?}");
            // Nothing left to inline.
            assert_eq!(run(&mut p, &mut touched), Changed(0));
        }
    }

    #[test]
    fn an_escaping_closure_is_not_inlined() {
        let mut p = program(false);
        // Also pass the closure as an argument: it escapes.
        let f = &mut p.functions[0];
        let e = f.entry;
        let c = Value(1);
        let l = f.push_inst(
            e,
            InstKind::Prim {
                op: Builtin::List,
                args: vec![c],
            },
            Span::default(),
        );
        f.set_term(e, Terminator::Return(l), Span::default());
        let mut touched = vec![false; 2];
        assert_eq!(run(&mut p, &mut touched), Changed(0));
        assert_eq!(touched, vec![false, false]);
    }

    #[test]
    fn a_body_that_always_raises_leaves_no_continuation() {
        let mut p = program(false);
        // g now raises instead of returning.
        let g = &mut p.functions[1];
        let ge = g.entry;
        let y = Value(2);
        g.set_term(ge, Terminator::Raise(y), Span::default());
        let mut touched = vec![false; 2];
        assert_eq!(run(&mut p, &mut touched), Changed(1));
        verify::verify_program(&p, "inline-once").unwrap();
        let main = &p.functions[0];
        assert_eq!(main.blocks().len(), 1);
        assert!(matches!(main.block(main.entry).term, Terminator::Raise(_)));
    }

    #[test]
    fn nested_closures_capture_the_sites_sources() {
        let mut p = program(false);
        let sp = Span::default();
        // g builds a closure of fn2 capturing g's env slot 0, and returns it.
        let g = &mut p.functions[1];
        let ge = g.entry;
        let inner = g.push_inst(
            ge,
            InstKind::Closure {
                func: FuncId(2),
                captures: vec![CapSrc::Env(0)],
            },
            sp,
        );
        g.set_term(ge, Terminator::Return(inner), sp);
        let mut h = Function::new(FuncId(2), "h".into(), vec![], None, sp);
        h.num_captures = 1;
        let he = h.entry;
        let k = h.push_inst(he, InstKind::GetCap(0), sp);
        h.set_term(he, Terminator::Return(k), sp);
        p.functions.push(h);
        let mut touched = vec![false; 3];
        assert_eq!(run(&mut p, &mut touched), Changed(1));
        verify::verify_program(&p, "inline-once").unwrap();
        let main = &p.functions[0];
        let captures: Vec<Vec<CapSrc>> = main
            .blocks()
            .into_iter()
            .flat_map(|b| main.block(b).insts.clone())
            .filter_map(|i| match &main.inst(i).kind {
                InstKind::Closure { func, captures } if *func == FuncId(2) => {
                    Some(captures.clone())
                }
                _ => None,
            })
            .collect();
        // main's v0 (the constant 1) was g's capture 0.
        assert_eq!(captures, vec![vec![CapSrc::Value(Value(0))]]);
    }
}
