//! Lambda lifting of non-escaping closures: a function `g` with captures
//! whose closures are only ever called (every reference to `g` in the
//! program is a `closure g [captures]` whose result is used only as the
//! callee of `call`/`tailcall` with exactly `g`'s parameter count) takes
//! its captures as extra leading parameters instead, and no environment is
//! built: the site's closure is removed, each call gets its own
//! capture-free `closure g []` right before it (which emission turns into
//! a known call, `callf`, and drops) and passes the capture values first.
//!
//! Excluded: functions with a rest parameter, functions that build
//! siblings or are referenced by `sibling`/`closureref` (letrec groups
//! share one environment), and the entry function.
//!
//! Sound because a capture is an immutable value fixed when the closure is
//! built; passing the same value as an argument at each call (the closure
//! site dominates its calls) gives the body the same values, and building
//! a closure has no effect.

use super::Changed;
use crate::cfg::{
    Block, CapSrc, CfgProgram, Function, Inst, InstData, InstKind, Terminator, Value,
};
use std::collections::HashMap;

pub const DOC: &str = "pass the captures of closures that are only called as extra arguments";

/// One closure site of the candidate.
struct Site {
    func: usize,
    block: Block,
    inst: Inst,
}

/// Whether `c` is used only as the callee of calls with `n` arguments.
fn only_called(f: &Function, c: Value, n: usize) -> bool {
    let mut calls = 0;
    for b in f.blocks() {
        for &i in &f.block(b).insts {
            let kind = &f.inst(i).kind;
            match kind {
                InstKind::Call { func, args } if *func == c => {
                    if args.len() != n || args.contains(&c) {
                        return false;
                    }
                    calls += 1;
                }
                _ if kind.uses().contains(&c) => return false,
                _ => {}
            }
        }
        let term = &f.block(b).term;
        match term {
            Terminator::TailCall { func, args } if *func == c => {
                if args.len() != n || args.contains(&c) {
                    return false;
                }
                calls += 1;
            }
            _ if term.uses().contains(&c) => return false,
            _ => {}
        }
    }
    calls > 0
}

/// The sites of the first candidate, if any.
fn find(p: &CfgProgram) -> Option<(usize, Vec<Site>)> {
    let mut sites: HashMap<usize, Vec<Site>> = HashMap::new();
    let mut excluded = vec![false; p.functions.len()];
    for (fi, f) in p.functions.iter().enumerate() {
        for b in f.blocks() {
            for &i in &f.block(b).insts {
                match &f.inst(i).kind {
                    InstKind::Closure { func, .. } => {
                        sites.entry(func.0 as usize).or_default().push(Site {
                            func: fi,
                            block: b,
                            inst: i,
                        })
                    }
                    InstKind::Sibling(g) | InstKind::ClosureRef { func: g, .. } => {
                        if let Some(x) = excluded.get_mut(g.0 as usize) {
                            *x = true;
                        }
                        // A function building siblings shares its environment.
                        if let Some(x) = excluded.get_mut(fi) {
                            *x = true;
                        }
                    }
                    _ => {}
                }
            }
        }
    }
    let mut candidates: Vec<usize> = sites.keys().copied().collect();
    candidates.sort_unstable();
    for gi in candidates {
        let Some(g) = p.functions.get(gi) else {
            continue;
        };
        if excluded.get(gi) != Some(&false)
            || g.id == p.entry
            || g.num_captures == 0
            || g.rest_name.is_some()
        {
            continue;
        }
        let list = sites.remove(&gi).unwrap_or_default();
        let n = g.param_names.len();
        let ok = list.iter().all(|s| {
            let f = &p.functions[s.func];
            s.func != gi && only_called(f, f.inst(s.inst).result, n)
        });
        if ok {
            return Some((gi, list));
        }
    }
    None
}

/// Inserts a new instruction into block `b` before position `pos`.
fn insert_inst(
    f: &mut Function,
    b: Block,
    pos: usize,
    kind: InstKind,
    span: menai_compiler::ir::Span,
) -> Value {
    let result = f.new_value();
    let inst = Inst(f.insts.len() as u32);
    f.insts.push(InstData { kind, result, span });
    let insts = &mut f.block_mut(b).insts;
    let pos = pos.min(insts.len());
    insts.insert(pos, inst);
    result
}

/// Lifts `g`'s captures into parameters.
fn lift_callee(g: &mut Function) {
    let k = g.num_captures as usize;
    let caps: Vec<Value> = (0..k).map(|_| g.new_value()).collect();
    let entry = g.entry;
    let mut params = caps.clone();
    params.extend(g.block(entry).params.iter().copied());
    g.block_mut(entry).params = params;
    let mut names: Vec<String> = (0..k).map(|j| format!("%cap{j}")).collect();
    names.append(&mut g.param_names);
    g.param_names = names;
    g.num_captures = 0;
    for b in g.blocks() {
        for i in g.block(b).insts.clone() {
            let kind = &mut g.inst_mut(i).kind;
            match kind {
                InstKind::GetCap(j) => {
                    if let Some(&v) = caps.get(*j as usize) {
                        *kind = InstKind::Copy(v);
                    }
                }
                InstKind::Closure { captures, .. } => {
                    for c in captures.iter_mut() {
                        if let CapSrc::Env(j) = *c {
                            if let Some(&v) = caps.get(j as usize) {
                                *c = CapSrc::Value(v);
                            }
                        }
                    }
                }
                _ => {}
            }
        }
        // A jump back to the entry passes the (unchanged) captures too.
        if let Terminator::Jump { dest, args } = g.block(b).term.clone() {
            if dest == entry {
                let mut all = caps.clone();
                all.extend(args);
                let span = g.block(b).term_span;
                g.set_term(b, Terminator::Jump { dest, args: all }, span);
            }
        }
    }
}

/// Rewrites one closure site and its calls.
fn lift_site(f: &mut Function, site: &Site) {
    let d = f.inst(site.inst).clone();
    let InstKind::Closure { func, captures } = d.kind else {
        return;
    };
    let mut values = Vec::with_capacity(captures.len());
    for c in &captures {
        match *c {
            CapSrc::Value(v) => values.push(v),
            CapSrc::Env(s) => {
                let pos = f
                    .block(site.block)
                    .insts
                    .iter()
                    .position(|&i| i == site.inst)
                    .unwrap_or(0);
                values.push(insert_inst(f, site.block, pos, InstKind::GetCap(s), d.span));
            }
        }
    }
    // Each call gets its own capture-free closure right before it (so each
    // has one use, which emission turns into `callf` and drops); the
    // original closure goes away.
    f.block_mut(site.block).insts.retain(|&i| i != site.inst);
    let c = d.result;
    let fresh = || InstKind::Closure {
        func,
        captures: vec![],
    };
    for b in f.blocks() {
        for i in f.block(b).insts.clone() {
            let InstKind::Call { func: callee, args } = f.inst(i).kind.clone() else {
                continue;
            };
            if callee != c {
                continue;
            }
            let pos = f.block(b).insts.iter().position(|&x| x == i).unwrap_or(0);
            let span = f.inst(i).span;
            let k = insert_inst(f, b, pos, fresh(), span);
            let mut all = values.clone();
            all.extend(args);
            f.inst_mut(i).kind = InstKind::Call { func: k, args: all };
        }
        if let Terminator::TailCall { func: callee, args } = f.block(b).term.clone() {
            if callee == c {
                let span = f.block(b).term_span;
                let k = f.push_inst(b, fresh(), span);
                let mut all = values.clone();
                all.extend(args);
                f.set_term(b, Terminator::TailCall { func: k, args: all }, span);
            }
        }
    }
}

pub fn run(p: &mut CfgProgram, touched: &mut [bool]) -> Changed {
    let mut count = 0;
    let limit = p.functions.len();
    while count < limit {
        let Some((gi, sites)) = find(p) else { break };
        lift_callee(&mut p.functions[gi]);
        if let Some(t) = touched.get_mut(gi) {
            *t = true;
        }
        for s in &sites {
            lift_site(&mut p.functions[s.func], s);
            if let Some(t) = touched.get_mut(s.func) {
                *t = true;
            }
        }
        count += 1;
    }
    Changed(count)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cfg::FuncId;
    use crate::verify;
    use menai_bytecode::Builtin;
    use menai_compiler::ir::{Const, Span};

    /// main: k = 1; c = closure fn1 [k]; a = c(10); b = c(20); return list(a, b)
    /// fn1(x): y = getcap 0; return x + y
    fn program() -> CfgProgram {
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
        let mut results = vec![];
        for n in [10, 20] {
            let a = main.push_inst(e, InstKind::Const(Const::Int(n)), sp);
            results.push(main.push_inst(
                e,
                InstKind::Call {
                    func: c,
                    args: vec![a],
                },
                sp,
            ));
        }
        let l = main.push_inst(
            e,
            InstKind::Prim {
                op: Builtin::List,
                args: results,
            },
            sp,
        );
        main.set_term(e, Terminator::Return(l), sp);
        let mut g = Function::new(FuncId(1), "g".into(), vec!["x".into()], None, sp);
        g.num_captures = 1;
        let ge = g.entry;
        let x = g.block(ge).params[0];
        let y = g.push_inst(ge, InstKind::GetCap(0), sp);
        let s = g.push_inst(
            ge,
            InstKind::Prim {
                op: Builtin::IntegerAdd,
                args: vec![x, y],
            },
            sp,
        );
        g.set_term(ge, Terminator::Return(s), sp);
        CfgProgram {
            functions: vec![main, g],
            entry: FuncId(0),
            structs: vec![],
            files: vec![],
        }
    }

    #[test]
    fn captures_become_leading_arguments() {
        let mut p = program();
        let mut touched = vec![false; 2];
        assert_eq!(run(&mut p, &mut touched), Changed(1));
        assert_eq!(touched, vec![true, true]);
        verify::verify_program(&p, "lambda-lift").unwrap();
        let g = &p.functions[1];
        assert_eq!(g.num_captures, 0);
        assert_eq!(g.param_names, vec!["%cap0".to_string(), "x".to_string()]);
        let main = &p.functions[0];
        let mut calls = 0;
        for &i in &main.block(main.entry).insts {
            match &main.inst(i).kind {
                InstKind::Closure { captures, .. } => assert!(captures.is_empty()),
                InstKind::Call { args, .. } => {
                    // The capture (v0, the constant 1) comes first.
                    assert_eq!(args[0], Value(0));
                    assert_eq!(args.len(), 2);
                    calls += 1;
                }
                _ => {}
            }
        }
        assert_eq!(calls, 2);
        // Nothing left to lift.
        assert_eq!(run(&mut p, &mut touched), Changed(0));
    }

    #[test]
    fn an_escaping_closure_is_not_lifted() {
        let mut p = program();
        let f = &mut p.functions[0];
        let e = f.entry;
        let l = f.push_inst(
            e,
            InstKind::Prim {
                op: Builtin::List,
                args: vec![Value(1)],
            },
            Span::default(),
        );
        f.set_term(e, Terminator::Return(l), Span::default());
        let mut touched = vec![false; 2];
        assert_eq!(run(&mut p, &mut touched), Changed(0));
        assert_eq!(p.functions[1].num_captures, 1);
    }
}
