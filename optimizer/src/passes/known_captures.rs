//! Known captures: a capture slot that every closure of a function fills
//! with the same rematerializable value — a constant, a builtin, or a
//! capture-free closure of the same function — is rebuilt inside the
//! function (`getcap k` becomes that `const`, `builtin` or `closure g []`),
//! and slots the function no longer reads are dropped from it and from
//! every closure site. A captured helper function thus becomes a
//! capture-free closure where it is called: a known call (`callf`), or an
//! inline-once candidate once its other closure is dead.
//!
//! For functions with a private environment (referenced only by `closure`
//! instructions, building no siblings) unread slots are also dropped.
//! The members of a letrec group share one environment: a slot that every
//! `closure` building an environment of the group fills with the same
//! rematerializable value is rebuilt in every member, and no slot is
//! dropped (the layout is shared).
//!
//! Sound because a capture is an immutable value fixed when the closure is
//! built: if every closure stores the same constant, builtin, or
//! environment-less closure of the same function (which behaves the same
//! wherever it is built), reading the slot gives that value, and building
//! it has no effect. Nothing can observe a slot that is never read.

use super::sccp::same_const;
use super::Changed;
use crate::cfg::{CapSrc, CfgProgram, ClosureUses, FuncId, Function, Inst, InstKind, Value};
use menai_bytecode::Builtin;
use menai_compiler::ir::Const;
use rustc_hash::FxHashMap as HashMap;

pub const DOC: &str = "rebuild captures that every closure fills with the same constant, \
     builtin or capture-free closure inside the function, and drop unread capture slots";

/// A value that can be rebuilt anywhere.
#[derive(Clone, Debug)]
enum Remat {
    Const(Const),
    Builtin(Builtin),
    Closure(FuncId),
}

impl Remat {
    fn same(&self, o: &Remat) -> bool {
        match (self, o) {
            (Remat::Const(a), Remat::Const(b)) => same_const(a, b),
            (Remat::Builtin(a), Remat::Builtin(b)) => a == b,
            (Remat::Closure(a), Remat::Closure(b)) => a == b,
            _ => false,
        }
    }

    fn inst(&self) -> InstKind {
        match self {
            Remat::Const(c) => InstKind::Const(c.clone()),
            Remat::Builtin(b) => InstKind::Builtin(*b),
            Remat::Closure(g) => InstKind::Closure {
                func: *g,
                captures: vec![],
            },
        }
    }
}

/// The rematerializable value `v` of `f` is, if any.
fn remat(f: &Function, defs: &HashMap<Value, Inst>, v: Value) -> Option<Remat> {
    match &f.inst(*defs.get(&v)?).kind {
        InstKind::Const(c) => Some(Remat::Const(c.clone())),
        InstKind::Builtin(b) => Some(Remat::Builtin(*b)),
        InstKind::Closure { func, captures } if captures.is_empty() => Some(Remat::Closure(*func)),
        _ => None,
    }
}

/// Per slot of `h`, the value every one of its closure `sites` stores, if
/// they all agree.
fn known_slots(
    p: &CfgProgram,
    h: &Function,
    sites: &[(usize, Inst)],
    defs: &mut HashMap<usize, HashMap<Value, Inst>>,
) -> Vec<Option<Remat>> {
    let n = h.num_captures as usize;
    let mut known: Vec<Option<Remat>> = vec![None; n];
    for (k, slot) in known.iter_mut().enumerate() {
        let mut agreed: Option<Remat> = None;
        for &(fi, i) in sites {
            let f = &p.functions[fi];
            let InstKind::Closure { captures, .. } = &f.inst(i).kind else {
                return vec![None; n];
            };
            if captures.len() != n {
                return vec![None; n];
            }
            let here = match captures[k] {
                CapSrc::Value(v) => {
                    let d = defs.entry(fi).or_insert_with(|| f.defining_insts());
                    remat(f, d, v)
                }
                CapSrc::Env(_) => None,
            };
            match (&agreed, here) {
                (_, None) => {
                    agreed = None;
                    break;
                }
                (None, Some(r)) => agreed = Some(r),
                (Some(a), Some(r)) if a.same(&r) => {}
                (Some(_), Some(_)) => {
                    agreed = None;
                    break;
                }
            }
        }
        *slot = agreed;
    }
    known
}

/// The slots `h` reads (`getcap k`, or a nested closure capturing `Env(k)`).
fn read_slots(h: &Function) -> Vec<bool> {
    let mut read = vec![false; h.num_captures as usize];
    let mut mark = |k: u16| {
        if let Some(r) = read.get_mut(k as usize) {
            *r = true;
        }
    };
    for b in h.blocks() {
        for &i in &h.block(b).insts {
            match &h.inst(i).kind {
                InstKind::GetCap(k) => mark(*k),
                InstKind::Closure { captures, .. } => {
                    for c in captures {
                        if let CapSrc::Env(k) = c {
                            mark(*k);
                        }
                    }
                }
                _ => {}
            }
        }
    }
    read
}

pub fn run(p: &mut CfgProgram, touched: &mut [bool]) -> Changed {
    let n = p.functions.len();
    let ClosureUses { sites, shared } = p.closure_uses();
    let mut defs: HashMap<usize, HashMap<Value, Inst>> = HashMap::default();
    let mut count = 0;
    for hi in 0..n {
        let h = &p.functions[hi];
        if shared[hi] || h.num_captures == 0 || sites[hi].is_empty() {
            continue;
        }
        // A site inside `h` itself would see `h`'s own rewrite.
        if sites[hi].iter().any(|&(fi, _)| fi == hi) {
            continue;
        }
        let known = known_slots(p, h, &sites[hi], &mut defs);
        let h = &mut p.functions[hi];
        let mut changed = 0;
        for b in h.blocks() {
            for i in h.block(b).insts.clone() {
                if let InstKind::GetCap(k) = h.inst(i).kind {
                    if let Some(Some(r)) = known.get(k as usize) {
                        h.inst_mut(i).kind = r.inst();
                        changed += 1;
                    }
                }
            }
        }
        // Drop the slots nothing reads any more, renumbering the rest.
        let read = read_slots(h);
        if read.iter().any(|r| !r) {
            let mut renumber = vec![None; read.len()];
            let mut next = 0u16;
            for (k, &r) in read.iter().enumerate() {
                if r {
                    renumber[k] = Some(next);
                    next += 1;
                }
            }
            let slot = |k: u16| renumber.get(k as usize).copied().flatten().unwrap_or(k);
            for b in h.blocks() {
                for i in h.block(b).insts.clone() {
                    match &mut h.inst_mut(i).kind {
                        InstKind::GetCap(k) => *k = slot(*k),
                        InstKind::Closure { captures, .. } => {
                            for c in captures.iter_mut() {
                                if let CapSrc::Env(k) = c {
                                    *k = slot(*k);
                                }
                            }
                        }
                        _ => {}
                    }
                }
            }
            changed += read.iter().filter(|r| !**r).count();
            h.num_captures = next;
            for &(fi, i) in &sites[hi] {
                if let InstKind::Closure { captures, .. } = &mut p.functions[fi].inst_mut(i).kind {
                    let mut k = 0;
                    captures.retain(|_| {
                        let keep = read.get(k).copied().unwrap_or(true);
                        k += 1;
                        keep
                    });
                }
                if let Some(t) = touched.get_mut(fi) {
                    *t = true;
                }
            }
        }
        if changed > 0 {
            if let Some(t) = touched.get_mut(hi) {
                *t = true;
            }
            count += changed;
        }
    }
    count += shared_groups(p, &sites, &mut defs, touched);
    Changed(count)
}

/// The letrec groups: functions linked by sharing one environment (`f`
/// builds a sibling of `g`, or a `closureref` of `g` from a closure of
/// `h`), as a group number per function (`None`: not in a group, or in
/// one whose environments cannot all be traced to its closure sites).
fn groups(p: &CfgProgram) -> Vec<Option<usize>> {
    let n = p.functions.len();
    let mut parent: Vec<usize> = (0..n).collect();
    fn find(parent: &mut [usize], mut x: usize) -> usize {
        while parent[x] != x {
            parent[x] = parent[parent[x]];
            x = parent[x];
        }
        x
    }
    let union = |parent: &mut Vec<usize>, a: usize, b: usize| {
        if a < n && b < n {
            let (ra, rb) = (find(parent, a), find(parent, b));
            parent[ra] = rb;
        }
    };
    let mut opaque = vec![false; n];
    let mut in_group = vec![false; n];
    for (fi, f) in p.functions.iter().enumerate() {
        let defs = f.defining_insts();
        for b in f.blocks() {
            for &i in &f.block(b).insts {
                match &f.inst(i).kind {
                    InstKind::Sibling(g) => {
                        union(&mut parent, fi, g.0 as usize);
                        in_group[fi] = true;
                        in_group[g.0 as usize] = true;
                    }
                    InstKind::ClosureRef { func, of } => {
                        let g = func.0 as usize;
                        in_group[g.min(n - 1)] = true;
                        match defs.get(of).map(|&d| &f.inst(d).kind) {
                            Some(
                                InstKind::Closure { func: h, .. }
                                | InstKind::Sibling(h)
                                | InstKind::ClosureRef { func: h, .. },
                            ) => union(&mut parent, g, h.0 as usize),
                            // An environment of unknown origin joins the group.
                            _ => opaque[g.min(n - 1)] = true,
                        }
                    }
                    _ => {}
                }
            }
        }
    }
    let roots: Vec<usize> = (0..n).map(|i| find(&mut parent, i)).collect();
    let mut opaque_root = vec![false; n];
    for i in 0..n {
        if opaque[i] {
            opaque_root[roots[i]] = true;
        }
    }
    (0..n)
        .map(|i| (in_group[i] && !opaque_root[roots[i]]).then_some(roots[i]))
        .collect()
}

/// Known captures in shared environments: in a letrec group every
/// environment is built by a `closure` of one of its members (siblings and
/// `closureref`s share it), so a slot that every one of those closures
/// fills with the same rematerializable value holds it in every member;
/// `getcap` of it is rebuilt in place. The layout is shared, so no slot is
/// dropped here.
fn shared_groups(
    p: &mut CfgProgram,
    sites: &[Vec<(usize, Inst)>],
    defs: &mut HashMap<usize, HashMap<Value, Inst>>,
    touched: &mut [bool],
) -> usize {
    let group_of = groups(p);
    let mut members: HashMap<usize, Vec<usize>> = HashMap::default();
    for (fi, g) in group_of.iter().enumerate() {
        if let Some(g) = g {
            members.entry(*g).or_default().push(fi);
        }
    }
    let mut count = 0;
    for (_, list) in members {
        let ncaps = p.functions[list[0]].num_captures;
        if ncaps == 0 || list.iter().any(|&m| p.functions[m].num_captures != ncaps) {
            continue;
        }
        let all_sites: Vec<(usize, Inst)> = list.iter().flat_map(|&m| sites[m].clone()).collect();
        // No environment of the group may be built inside the group (it
        // could copy a slot this rewrite is changing), and one must exist.
        if all_sites.is_empty() || all_sites.iter().any(|(fi, _)| list.contains(fi)) {
            continue;
        }
        let known = known_slots(p, &p.functions[list[0]], &all_sites, defs);
        if known.iter().all(Option::is_none) {
            continue;
        }
        for &m in &list {
            let h = &mut p.functions[m];
            let mut changed = 0;
            for b in h.blocks() {
                for i in h.block(b).insts.clone() {
                    if let InstKind::GetCap(k) = h.inst(i).kind {
                        if let Some(Some(r)) = known.get(k as usize) {
                            h.inst_mut(i).kind = r.inst();
                            changed += 1;
                        }
                    }
                }
            }
            if changed > 0 {
                if let Some(t) = touched.get_mut(m) {
                    *t = true;
                }
                count += changed;
            }
        }
    }
    count
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::parse_program;
    use crate::verify;

    /// `main` builds a closure of `h` (fn2) capturing a capture-free
    /// closure, the constant 7 and a call result (not rematerializable);
    /// `extra` adds more to `main` (before its tail call, which it may
    /// replace).
    fn program(extra: &str) -> CfgProgram {
        let text = format!(
            "function fn0 main() captures 0
block0:
    v0 = closure fn1 []
    v1 = const 7
    v2 = call v0(v1)
    v3 = closure fn2 [v0, v1, v2]
    v4 = const 1
{extra}

function fn1 id(y: v0) captures 0
block0(v0):
    return v0

function fn2 h(z: v0) captures 3
block0(v0):
    v1 = getcap 0
    v2 = getcap 1
    v3 = getcap 2
    v4 = call v1(v2)
    v5 = prim list v4, v3
    return v5
"
        );
        parse_program(&text, "test.cfg").expect("valid CFG text")
    }

    fn kinds(f: &Function) -> Vec<InstKind> {
        let e = f.entry;
        f.block(e)
            .insts
            .iter()
            .map(|&i| f.inst(i).kind.clone())
            .collect()
    }

    #[test]
    fn agreed_captures_are_rebuilt_and_their_slots_dropped() {
        let mut p = program("    tailcall v3(v4)");
        let mut touched = vec![false; 3];
        // Two getcaps rebuilt, two slots dropped.
        assert_eq!(run(&mut p, &mut touched), Changed(4));
        assert_eq!(touched, vec![true, false, true]);
        verify::verify_program(&p, "known-captures").unwrap();
        let h = &p.functions[2];
        assert_eq!(h.num_captures, 1);
        let k = kinds(h);
        assert_eq!(
            k[0],
            InstKind::Closure {
                func: FuncId(1),
                captures: vec![]
            }
        );
        assert_eq!(k[1], InstKind::Const(Const::Int(7)));
        // The call result stays a capture, renumbered to slot 0.
        assert_eq!(k[2], InstKind::GetCap(0));
        let main = &p.functions[0];
        let site = kinds(main)
            .into_iter()
            .find_map(|k| match k {
                InstKind::Closure {
                    func: FuncId(2),
                    captures,
                } => Some(captures),
                _ => None,
            })
            .expect("site");
        assert_eq!(site, vec![CapSrc::Value(Value(2))]);
        assert_eq!(run(&mut p, &mut touched), Changed(0));
    }

    #[test]
    fn sites_that_disagree_keep_the_capture() {
        // A second closure of fn2 storing a different constant in slot 1.
        let mut p = program(
            "    v5 = const 8
    v6 = closure fn2 [v0, v5, v2]
    tailcall v6(v5)",
        );
        let mut touched = vec![false; 3];
        assert_eq!(run(&mut p, &mut touched), Changed(2));
        let h = &p.functions[2];
        assert_eq!(h.num_captures, 2);
        let k = kinds(h);
        assert!(matches!(k[0], InstKind::Closure { .. }));
        assert_eq!(k[1], InstKind::GetCap(0));
        assert_eq!(k[2], InstKind::GetCap(1));
        verify::verify_program(&p, "known-captures").unwrap();
    }
}
