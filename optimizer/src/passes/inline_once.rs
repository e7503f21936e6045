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
//! call block (it has no predecessors: `g`'s CFG is acyclic), `getcap k`
//! becomes the k-th capture of the closure site (that value itself, or a
//! `getcap` of `f`'s own environment), and nested closures capturing `g`'s
//! environment capture the same sources. For a non-tail call the block is
//! split at the call: the copy's `return v` jumps to a continuation block
//! whose parameter is the call's result, and a tail call inside `g` becomes
//! an ordinary call followed by that jump. For a tail call the copy's
//! returns and tail calls stay as they are. The closure instruction is
//! deleted and `g`'s body is replaced by a stub (no longer referenced; its
//! index stays while passes run, and `prune` drops it at the end).
//!
//! Each caller is processed once, with a worklist of its closure
//! instructions and an index of its uses and calls kept up to date as
//! bodies are copied in, so inlining costs the size of what is inlined
//! (a chain of single-use functions inlines in one run).
//!
//! Sound because evaluation order is unchanged: the arguments were already
//! evaluated before the call, the closure creation has no effect, and the
//! body runs exactly where the call ran with the same values; errors keep
//! their spans (instructions keep the span of the source they came from).

use super::Changed;
use crate::cfg::{
    Block, CapSrc, CfgProgram, Function, Inst, InstData, InstKind, Terminator, Value,
};
use menai_compiler::ir::Const;
use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

pub const DOC: &str = "inline functions called from one site whose closure does not escape";

/// Where a closure value is called.
#[derive(Clone, Copy)]
enum CallAt {
    /// A `Call` instruction.
    Inst(Inst),
    /// The `TailCall` terminator of a block.
    Tail(Block),
}

/// An inlinable site: a closure instruction and the one call of its value.
struct Site {
    callee: usize,
    closure_inst: Inst,
    closure: Value,
    captures: Vec<CapSrc>,
    call_block: Block,
    call: CallAt,
    args: Vec<Value>,
}

/// What the caller looks like, kept up to date while inlining into it so
/// that finding and checking a site never rescans the caller: each
/// inlining costs the size of the inlined body.
struct CallerIndex {
    /// Uses of each value (an overcount is harmless: it only prevents
    /// inlining).
    uses: Vec<u32>,
    /// Closure-building instructions by their result.
    closure_def: HashMap<Value, Inst>,
    /// The (last seen) call with each value as its callee.
    call_at: HashMap<Value, CallAt>,
    /// The block of each instruction.
    inst_block: HashMap<Inst, Block>,
}

impl CallerIndex {
    fn new(f: &Function) -> CallerIndex {
        let mut idx = CallerIndex {
            uses: vec![0; f.num_values as usize],
            closure_def: HashMap::default(),
            call_at: HashMap::default(),
            inst_block: HashMap::default(),
        };
        for b in f.blocks() {
            for &i in &f.block(b).insts {
                idx.add_inst(f, i, b);
            }
            idx.add_term(f, b);
        }
        idx
    }

    fn count(&mut self, vs: impl IntoIterator<Item = Value>, up: bool) {
        for v in vs {
            let k = v.0 as usize;
            if k >= self.uses.len() {
                self.uses.resize(k + 1, 0);
            }
            self.uses[k] = if up {
                self.uses[k] + 1
            } else {
                self.uses[k].saturating_sub(1)
            };
        }
    }

    fn add_inst(&mut self, f: &Function, i: Inst, b: Block) {
        let d = f.inst(i);
        self.count(d.kind.uses(), true);
        match &d.kind {
            InstKind::Closure { .. } => {
                self.closure_def.insert(d.result, i);
            }
            InstKind::Call { func, .. } => {
                self.call_at.insert(*func, CallAt::Inst(i));
            }
            _ => {}
        }
        self.inst_block.insert(i, b);
    }

    fn add_term(&mut self, f: &Function, b: Block) {
        let term = &f.block(b).term;
        self.count(term.uses(), true);
        if let Terminator::TailCall { func, .. } = term {
            self.call_at.insert(*func, CallAt::Tail(b));
        }
    }

    /// The inlinable site built by closure instruction `i` of `f`, if any.
    fn site(&self, p: &CfgProgram, fi: usize, i: Inst, refs: &[u32]) -> Option<Site> {
        let f = &p.functions[fi];
        // Still in the caller (not inlined away already).
        self.inst_block.get(&i)?;
        let InstKind::Closure { func, captures } = &f.inst(i).kind else {
            return None;
        };
        let gi = func.0 as usize;
        let g = p.functions.get(gi)?;
        let c = f.inst(i).result;
        if gi == fi
            || *func == p.entry
            || refs.get(gi) != Some(&1)
            || g.rest_name.is_some()
            || captures.len() != g.num_captures as usize
            || self.uses.get(c.0 as usize) != Some(&1)
        {
            return None;
        }
        let call = *self.call_at.get(&c)?;
        let (call_block, callee, args) = match call {
            CallAt::Inst(ci) => {
                let InstKind::Call { func, args } = &f.inst(ci).kind else {
                    return None;
                };
                (*self.inst_block.get(&ci)?, *func, args)
            }
            CallAt::Tail(b) => {
                let Terminator::TailCall { func, args } = &f.block(b).term else {
                    return None;
                };
                (b, *func, args)
            }
        };
        if callee != c || args.len() != g.param_names.len() || args.contains(&c) {
            return None;
        }
        if builds_siblings(g) || petgraph::algo::is_cyclic_directed(&g.graph) {
            return None;
        }
        Some(Site {
            callee: gi,
            closure_inst: i,
            closure: c,
            captures: captures.clone(),
            call_block,
            call,
            args: args.clone(),
        })
    }
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

/// Inlines every candidate. Each caller is processed once with a worklist
/// of its closure instructions: an inlined body brings new closures (and
/// may make a captured closure's value a direct callee), which join the
/// worklist, so chains of single-use functions inline in one run.
pub fn run(p: &mut CfgProgram, touched: &mut [bool]) -> Changed {
    // Reference counts stay exact without recounting: an inlined body
    // keeps the closures it had (moved into the caller), and the callee
    // is replaced by a stub that has none.
    let mut refs = reference_counts(p);
    let mut count = 0;
    for fi in 0..p.functions.len() {
        if !p.functions[fi].blocks().into_iter().any(|b| {
            let f = &p.functions[fi];
            f.block(b)
                .insts
                .iter()
                .any(|&i| matches!(f.inst(i).kind, InstKind::Closure { .. }))
        }) {
            continue;
        }
        let mut idx = CallerIndex::new(&p.functions[fi]);
        // Popped last-first: within a block, the last call is inlined (and
        // its block split) first, so each split moves only the short tail
        // after its call (first-first moved the whole rest of the block
        // every time: quadratic for many calls in one block).
        let mut work: Vec<Inst> = {
            let f = &p.functions[fi];
            f.blocks()
                .into_iter()
                .flat_map(|b| f.block(b).insts.clone())
                .filter(|i| idx.closure_def.contains_key(&f.inst(*i).result))
                .collect()
        };
        let mut unreachable = false;
        // Inlined closures' instructions, taken out of their blocks once at
        // the end (one at a time would rescan a block per inlining).
        let mut dead: HashSet<Inst> = HashSet::default();
        while let Some(i) = work.pop() {
            let Some(site) = idx.site(p, fi, i, &refs) else {
                continue;
            };
            let gi = site.callee;
            let placeholder = stub(&p.functions[gi]);
            let g = std::mem::replace(&mut p.functions[gi], placeholder);
            let f = &mut p.functions[fi];
            // The closure and the call go away.
            let captured: Vec<Value> = site
                .captures
                .iter()
                .filter_map(|c| match c {
                    CapSrc::Value(v) => Some(*v),
                    CapSrc::Env(_) => None,
                })
                .collect();
            idx.count(captured.iter().copied(), false);
            idx.count(
                std::iter::once(site.closure).chain(site.args.iter().copied()),
                false,
            );
            idx.closure_def.remove(&site.closure);
            idx.inst_block.remove(&site.closure_inst);
            dead.insert(site.closure_inst);
            if let CallAt::Inst(ci) = site.call {
                idx.inst_block.remove(&ci);
            }
            let out = inline(f, &g, &site);
            if let Some((cont, moved)) = &out.cont {
                for &m in moved {
                    idx.inst_block.insert(m, *cont);
                }
                if let Terminator::TailCall { func, .. } = &f.block(*cont).term {
                    idx.call_at.insert(*func, CallAt::Tail(*cont));
                }
                unreachable |= f.preds(*cont).is_empty();
            }
            for &(ni, nb) in &out.new_insts {
                idx.add_inst(f, ni, nb);
                if matches!(f.inst(ni).kind, InstKind::Closure { .. }) {
                    work.push(ni);
                }
            }
            for &nb in &out.new_terms {
                idx.add_term(f, nb);
            }
            // A closure that was captured may now be called directly.
            for v in captured {
                if let Some(&d) = idx.closure_def.get(&v) {
                    work.push(d);
                }
            }
            refs[gi] = 0;
            for t in [fi, gi] {
                if let Some(t) = touched.get_mut(t) {
                    *t = true;
                }
            }
            count += 1;
        }
        if !dead.is_empty() {
            let f = &mut p.functions[fi];
            for b in f.blocks() {
                f.block_mut(b).insts.retain(|i| !dead.contains(i));
            }
        }
        // A body that never returns (it always raises) leaves the
        // continuation unreachable.
        if unreachable {
            p.functions[fi].remove_unreachable_blocks();
        }
    }
    Changed(count)
}

/// What an inlining added to the caller.
struct Inlined {
    /// New instructions and their blocks.
    new_insts: Vec<(Inst, Block)>,
    /// Blocks with a new terminator (the call block and the body's copies).
    new_terms: Vec<Block>,
    /// For a non-tail call: the continuation block and the instructions
    /// moved into it from after the call.
    cont: Option<(Block, Vec<Inst>)>,
}

/// Copies `g` into `f` at `site`.
fn inline(f: &mut Function, g: &Function, site: &Site) -> Inlined {
    let mut out = Inlined {
        new_insts: vec![],
        new_terms: vec![],
        cont: None,
    };
    let call_block = site.call_block;
    let cont = match site.call {
        CallAt::Inst(inst) => {
            // Split the block after the call; the call's result becomes the
            // continuation's parameter.
            let result = f.inst(inst).result;
            let span = f.inst(inst).span;
            // Searched from the end and split there: calls are inlined
            // last-first, so this costs the short tail after the call.
            let insts = &mut f.block_mut(call_block).insts;
            let pos = insts
                .iter()
                .rposition(|&i| i == inst)
                .unwrap_or(insts.len());
            let after: Vec<Inst> = insts.split_off((pos + 1).min(insts.len()));
            insts.truncate(pos);
            let old_term = f.block(call_block).term.clone();
            let term_span = f.block(call_block).term_span;
            let cont = f.add_block(span);
            f.block_mut(cont).params = vec![result];
            f.block_mut(cont).insts = after.clone();
            f.set_term(cont, old_term, term_span);
            out.cont = Some((cont, after));
            Some(cont)
        }
        CallAt::Tail(_) => None,
    };

    // Fresh blocks and values for g's.
    // g's entry has no predecessors (its CFG is acyclic), so its copy is
    // the call block itself, with g's parameters standing for the arguments.
    let mut blocks: HashMap<Block, Block> = HashMap::default();
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
        .zip(site.args.iter().copied())
        .collect();
    // A capture that is a value of `f` stands for that value directly (no
    // copy), so a closure captured by `g` and called in it becomes a
    // direct callee in `f`.
    for b in g.blocks() {
        for &i in &g.block(b).insts {
            if let InstKind::GetCap(k) = g.inst(i).kind {
                if let Some(CapSrc::Value(v)) = site.captures.get(k as usize) {
                    vals.insert(g.inst(i).result, *v);
                }
            }
        }
    }
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
            let kind = match d.kind.clone() {
                InstKind::GetCap(k) => match site.captures.get(k as usize) {
                    Some(CapSrc::Value(_)) => continue,
                    Some(CapSrc::Env(s)) => InstKind::GetCap(*s),
                    None => InstKind::GetCap(k),
                },
                InstKind::Closure { func, captures } => InstKind::Closure {
                    func,
                    captures: captures
                        .into_iter()
                        .map(|c| match c {
                            CapSrc::Env(k) => site.captures.get(k as usize).copied().unwrap_or(c),
                            CapSrc::Value(v) => CapSrc::Value(val(f, v)),
                        })
                        .collect(),
                },
                mut other => {
                    other.map_uses(|v| val(f, v));
                    other
                }
            };
            let result = val(f, d.result);
            let new = Inst(f.insts.len() as u32);
            f.insts.push(InstData {
                kind,
                result,
                span: d.span,
            });
            f.block_mut(nb).insts.push(new);
            out.new_insts.push((new, nb));
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
                    origin,
                },
                _,
            ) => Terminator::Branch {
                cond,
                then_dest: blocks.get(&then_dest).copied().unwrap_or(then_dest),
                else_dest: blocks.get(&else_dest).copied().unwrap_or(else_dest),
                origin,
            },
            (Terminator::Return(v), Some(cont)) => Terminator::Jump {
                dest: cont,
                args: vec![v],
            },
            (Terminator::TailCall { func, args }, Some(cont)) => {
                let (ci, r) = f.new_inst(InstKind::Call { func, args }, tspan);
                f.block_mut(nb).insts.push(ci);
                out.new_insts.push((ci, nb));
                Terminator::Jump {
                    dest: cont,
                    args: vec![r],
                }
            }
            (Terminator::TailApply { func, list }, Some(cont)) => {
                let (ci, r) = f.new_inst(InstKind::Apply { func, list }, tspan);
                f.block_mut(nb).insts.push(ci);
                out.new_insts.push((ci, nb));
                Terminator::Jump {
                    dest: cont,
                    args: vec![r],
                }
            }
            (t, _) => t,
        };
        f.set_term(nb, term, tspan);
        out.new_terms.push(nb);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cfg::FuncId;
    use crate::parse::parse_program;
    use crate::verify;

    fn parse(text: &str) -> CfgProgram {
        parse_program(text, "test.cfg").expect("valid CFG text")
    }

    /// `main` builds one closure of `g` (fn1, which adds its capture to
    /// its argument) and calls it once: `call` is the call and what
    /// follows, `body` the end of `g`'s block (after `v2 = x + k`).
    fn program(call: &str, body: &str, more: &str) -> CfgProgram {
        parse(&format!(
            "function fn0 main() captures 0
block0:
    v0 = const 1
    v1 = closure fn1 [v0]
    v2 = const 41
{call}

function fn1 g(x: v0) captures 1
block0(v0):
    v1 = getcap 0
    v2 = prim integer+ v0, v1
{body}
{more}"
        ))
    }

    const CALL: &str = "    v3 = call v1(v2)\n    v4 = prim list v3\n    return v4";
    const TAIL_CALL: &str = "    tailcall v1(v2)";
    const RETURN: &str = "    return v2";

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
        for call in [CALL, TAIL_CALL] {
            let mut p = program(call, RETURN, "");
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
            // The capture is the value captured at the site, read directly.
            assert!(
                k.iter()
                    .any(|s| s.starts_with("Prim { op: IntegerAdd, args: [Value(")
                        && s.contains("Value(0)]")),
                "{k:?}"
            );
            assert!(!k.iter().any(|s| s.starts_with("Copy")), "{k:?}");
            // Nothing left to inline.
            assert_eq!(run(&mut p, &mut touched), Changed(0));
        }
    }

    #[test]
    fn an_escaping_closure_is_not_inlined() {
        // The closure is also returned in a list: it escapes.
        let call = "    v3 = call v1(v2)\n    v4 = prim list v1\n    return v4";
        let mut p = program(call, RETURN, "");
        let mut touched = vec![false; 2];
        assert_eq!(run(&mut p, &mut touched), Changed(0));
        assert_eq!(touched, vec![false, false]);
    }

    #[test]
    fn a_body_that_always_raises_leaves_no_continuation() {
        let mut p = program(CALL, "    raise v2", "");
        let mut touched = vec![false; 2];
        assert_eq!(run(&mut p, &mut touched), Changed(1));
        verify::verify_program(&p, "inline-once").unwrap();
        let main = &p.functions[0];
        assert_eq!(main.blocks().len(), 1);
        assert!(matches!(main.block(main.entry).term, Terminator::Raise(_)));
    }

    #[test]
    fn nested_closures_capture_the_sites_sources() {
        // g builds a closure of fn2 capturing g's env slot 0, and returns it.
        let mut p = program(
            CALL,
            "    v3 = closure fn2 [env0]\n    return v3",
            "
function fn2 h() captures 1
block0:
    v0 = getcap 0
    return v0
",
        );
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

    /// A chain: main builds h = closure fn1 [] and g = closure fn2 [h] and
    /// calls g; fn2 calls its capture. Inlining fn2 makes h a direct callee
    /// in main, so one run inlines both.
    #[test]
    fn a_chain_of_single_use_closures_inlines_in_one_run() {
        let mut p = parse(
            "function fn0 main() captures 0
block0:
    v0 = closure fn1 []
    v1 = closure fn2 [v0]
    v2 = const 41
    v3 = call v1(v2)
    return v3

function fn1 h(x: v0) captures 0
block0(v0):
    v1 = const 1
    v2 = prim integer+ v0, v1
    return v2

function fn2 g(y: v0) captures 1
block0(v0):
    v1 = getcap 0
    tailcall v1(v0)
",
        );
        let mut touched = vec![false; 3];
        assert_eq!(run(&mut p, &mut touched), Changed(2));
        assert_eq!(touched, vec![true, true, true]);
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
    }
}
