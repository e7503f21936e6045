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
    CapSrc, CfgProgram, ClosureUses, FuncId, Function, Inst, InstKind, Terminator, Value,
};
use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

pub const DOC: &str = "pass the captures of closures that are only called as extra arguments";

/// How a function uses one of its values.
#[derive(Clone, Copy, Default)]
struct Usage {
    /// Uses as the callee of `call`/`tailcall`.
    calls: u32,
    /// The argument count of those calls, if they all agree.
    arity: Option<usize>,
    /// Any other use (an argument, a capture, an operand), or calls with
    /// different argument counts.
    other: bool,
}

impl Usage {
    fn call(&mut self, n: usize) {
        if self.calls > 0 && self.arity != Some(n) {
            self.other = true;
        }
        self.calls += 1;
        self.arity = Some(n);
    }

    /// Whether the value is only ever called, with `n` arguments.
    fn only_called_with(&self, n: usize) -> bool {
        self.calls > 0 && !self.other && self.arity == Some(n)
    }
}

/// How `f` uses each of its values (indexed by value number), in one scan.
fn usages(f: &Function) -> Vec<Usage> {
    let mut u = vec![Usage::default(); f.num_values as usize];
    let other = |u: &mut [Usage], v: Value| {
        if let Some(x) = u.get_mut(v.0 as usize) {
            x.other = true;
        }
    };
    // A call (or tail call) uses its callee as a callee, its arguments otherwise.
    let call = |u: &mut [Usage], func: Value, args: &[Value]| {
        if let Some(x) = u.get_mut(func.0 as usize) {
            x.call(args.len());
        }
        for &a in args {
            other(u, a);
        }
    };
    for b in f.blocks() {
        for &i in &f.block(b).insts {
            match &f.inst(i).kind {
                InstKind::Call { func, args } => call(&mut u, *func, args),
                kind => {
                    for v in kind.uses() {
                        other(&mut u, v);
                    }
                }
            }
        }
        match &f.block(b).term {
            Terminator::TailCall { func, args } => call(&mut u, *func, args),
            term => {
                for v in term.uses() {
                    other(&mut u, v);
                }
            }
        }
    }
    u
}

/// Every function that can be lifted now, with the closure instructions
/// (function index, instruction) that build it.
fn candidates(p: &CfgProgram) -> Vec<(usize, Vec<(usize, Inst)>)> {
    let ClosureUses { sites, shared } = p.closure_uses();
    // Usages only of the functions holding closure sites, each computed once.
    let mut usage: HashMap<usize, Vec<Usage>> = HashMap::default();
    let mut found = Vec::new();
    for (gi, list) in sites.into_iter().enumerate() {
        let g = &p.functions[gi];
        if list.is_empty()
            || shared[gi]
            || g.id == p.entry
            || g.num_captures == 0
            || g.rest_name.is_some()
        {
            continue;
        }
        let n = g.param_names.len();
        let ok = list.iter().all(|&(fi, i)| {
            let f = &p.functions[fi];
            let u = usage.entry(fi).or_insert_with(|| usages(f));
            let c = f.inst(i).result;
            fi != gi && u.get(c.0 as usize).is_some_and(|x| x.only_called_with(n))
        });
        if ok {
            found.push((gi, list));
        }
    }
    found
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

/// Rewrites the closure sites `sites` of `f` and their calls, in two scans
/// of `f`: the closures go (a capture taken from `f`'s own environment
/// becomes a `getcap` in its place), then every call of one of them gets its
/// own capture-free closure right before it (so each has one use, which
/// emission turns into `callf` and drops) and the capture values as
/// leading arguments.
fn lift_sites(f: &mut Function, sites: &HashSet<Inst>) {
    let blocks = f.blocks();
    let mut lifted: HashMap<Value, (FuncId, Vec<Value>)> = HashMap::default();
    for &b in &blocks {
        let old = std::mem::take(&mut f.block_mut(b).insts);
        let mut new = Vec::with_capacity(old.len());
        for i in old {
            let d = f.inst(i).clone();
            let InstKind::Closure { func, captures } = d.kind else {
                new.push(i);
                continue;
            };
            if !sites.contains(&i) {
                new.push(i);
                continue;
            }
            let mut values = Vec::with_capacity(captures.len());
            for c in captures {
                match c {
                    CapSrc::Value(v) => values.push(v),
                    CapSrc::Env(s) => {
                        let (gi, v) = f.new_inst(InstKind::GetCap(s), d.span);
                        new.push(gi);
                        values.push(v);
                    }
                }
            }
            lifted.insert(d.result, (func, values));
        }
        f.block_mut(b).insts = new;
    }
    let fresh = |func| InstKind::Closure {
        func,
        captures: vec![],
    };
    for &b in &blocks {
        let old = std::mem::take(&mut f.block_mut(b).insts);
        let mut new = Vec::with_capacity(old.len());
        for i in old {
            if let InstKind::Call { func: callee, args } = &f.inst(i).kind {
                if let Some((func, values)) = lifted.get(callee) {
                    let mut all = values.clone();
                    all.extend_from_slice(args);
                    let span = f.inst(i).span;
                    let (k_inst, k) = f.new_inst(fresh(*func), span);
                    new.push(k_inst);
                    f.inst_mut(i).kind = InstKind::Call { func: k, args: all };
                }
            }
            new.push(i);
        }
        f.block_mut(b).insts = new;
        if let Terminator::TailCall { func: callee, args } = &f.block(b).term {
            if let Some((func, values)) = lifted.get(callee) {
                let mut all = values.clone();
                all.extend_from_slice(args);
                let span = f.block(b).term_span;
                let k = f.push_inst(b, fresh(*func), span);
                f.set_term(b, Terminator::TailCall { func: k, args: all }, span);
            }
        }
    }
}

/// Lifts every candidate at once: one scan of the program finds them, then
/// each lifted function and each function holding their closures is
/// rewritten once (linear in the program, however many are lifted).
/// Lifting one function cannot spoil another candidate: a candidate's
/// closure values are used only as callees, so no lifted capture is one.
pub fn run(p: &mut CfgProgram, touched: &mut [bool]) -> Changed {
    let found = candidates(p);
    let mut by_func: HashMap<usize, HashSet<Inst>> = HashMap::default();
    for (gi, sites) in &found {
        // The callees first: a site inside a lifted function then sees its
        // `Env` captures already turned into values.
        lift_callee(&mut p.functions[*gi]);
        if let Some(t) = touched.get_mut(*gi) {
            *t = true;
        }
        for &(fi, i) in sites {
            by_func.entry(fi).or_default().insert(i);
        }
    }
    for (fi, sites) in &by_func {
        lift_sites(&mut p.functions[*fi], sites);
        if let Some(t) = touched.get_mut(*fi) {
            *t = true;
        }
    }
    Changed(found.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::parse_program;
    use crate::verify;

    /// `fn1` adds its capture to its argument; `main` builds one closure
    /// of it and calls it twice (or, with `escape`, returns it in a list).
    fn program(escape: bool) -> CfgProgram {
        let tail = if escape {
            "    v7 = prim list v1\n    return v7"
        } else {
            "    v6 = prim list v3, v5\n    return v6"
        };
        let text = format!(
            "function fn0 main() captures 0
block0:
    v0 = const 1
    v1 = closure fn1 [v0]
    v2 = const 10
    v3 = call v1(v2)
    v4 = const 20
    v5 = call v1(v4)
{tail}

function fn1 g(x: v0) captures 1
block0(v0):
    v1 = getcap 0
    v2 = prim integer+ v0, v1
    return v2
"
        );
        parse_program(&text, "test.cfg").expect("valid CFG text")
    }

    #[test]
    fn captures_become_leading_arguments() {
        let mut p = program(false);
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
        let mut p = program(true);
        let mut touched = vec![false; 2];
        assert_eq!(run(&mut p, &mut touched), Changed(0));
        assert_eq!(p.functions[1].num_captures, 1);
    }

    /// Two candidates whose closures are both in `main` are lifted by one
    /// run (the pass batches per program, not one rewrite per scan).
    #[test]
    fn every_candidate_is_lifted_in_one_run() {
        let text = "function fn0 main() captures 0
block0:
    v0 = const 1
    v1 = closure fn1 [v0]
    v2 = const 10
    v3 = call v1(v2)
    v4 = closure fn2 [v0]
    v5 = const 5
    tailcall v4(v5)

function fn1 g(x: v0) captures 1
block0(v0):
    v1 = getcap 0
    v2 = prim integer+ v0, v1
    return v2

function fn2 h(x: v0) captures 1
block0(v0):
    v1 = getcap 0
    v2 = prim integer* v0, v1
    return v2
";
        let mut p = parse_program(text, "test.cfg").expect("valid CFG text");
        let mut touched = vec![false; 3];
        assert_eq!(run(&mut p, &mut touched), Changed(2));
        assert_eq!(touched, vec![true, true, true]);
        verify::verify_program(&p, "lambda-lift").unwrap();
        assert_eq!(p.functions[1].num_captures, 0);
        assert_eq!(p.functions[2].num_captures, 0);
        let main = &p.functions[0];
        match &main.block(main.entry).term {
            Terminator::TailCall { args, .. } => assert_eq!(args, &vec![Value(0), Value(5)]),
            t => panic!("expected a tail call, got {t:?}"),
        }
    }
}
