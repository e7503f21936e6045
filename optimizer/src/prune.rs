//! Dropping unreferenced functions, after the passes. Passes keep every
//! function's index stable while they run (inline-once leaves an inlined
//! callee behind as a stub nothing refers to); once they are done, every
//! function that cannot be reached from the entry through `closure`,
//! `sibling` or `closureref` instructions is removed and the others are
//! renumbered in their original order, so the module carries only code
//! that can run.
//!
//! Sound because a function can only run through a closure built by one of
//! those instructions, and renumbering rewrites every reference.

use crate::cfg::{CfgProgram, FuncId, InstKind};

/// Removes the functions unreachable from the entry; returns how many.
pub fn remove_unreferenced(p: &mut CfgProgram) -> usize {
    let n = p.functions.len();
    let mut live = vec![false; n];
    let mut stack = vec![p.entry.0 as usize];
    while let Some(fi) = stack.pop() {
        if fi >= n || live[fi] {
            continue;
        }
        live[fi] = true;
        let f = &p.functions[fi];
        for b in f.blocks() {
            for &i in &f.block(b).insts {
                if let InstKind::Closure { func, .. }
                | InstKind::Sibling(func)
                | InstKind::ClosureRef { func, .. } = &f.inst(i).kind
                {
                    stack.push(func.0 as usize);
                }
            }
        }
    }
    let removed = live.iter().filter(|l| !**l).count();
    // The passes are done: their record of clones is no longer needed.
    p.clones.clear();
    if removed == 0 {
        return 0;
    }
    let mut new_id = vec![0u32; n];
    let mut next = 0u32;
    for (old, &l) in live.iter().enumerate() {
        if l {
            new_id[old] = next;
            next += 1;
        }
    }
    let remap = |g: FuncId| FuncId(new_id.get(g.0 as usize).copied().unwrap_or(g.0));
    let functions = std::mem::take(&mut p.functions);
    for (old, mut f) in functions.into_iter().enumerate() {
        if !live[old] {
            continue;
        }
        f.id = remap(f.id);
        for b in f.blocks() {
            for i in f.block(b).insts.clone() {
                match &mut f.inst_mut(i).kind {
                    InstKind::Closure { func, .. }
                    | InstKind::Sibling(func)
                    | InstKind::ClosureRef { func, .. } => *func = remap(*func),
                    _ => {}
                }
            }
        }
        p.functions.push(f);
    }
    p.entry = remap(p.entry);
    removed
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cfg::{Function, Terminator};
    use menai_compiler::ir::{Const, Span};

    /// main (fn0) builds fn2; fn1 is a stub nobody references; fn2 builds
    /// fn3 as a sibling.
    #[test]
    fn unreachable_functions_go_and_references_are_renumbered() {
        let sp = Span::default();
        let mut fns = Vec::new();
        for k in 0..4u32 {
            let mut f = Function::new(FuncId(k), format!("f{k}"), vec![], None, sp);
            let e = f.entry;
            let v = match k {
                0 => f.push_inst(
                    e,
                    InstKind::Closure {
                        func: FuncId(2),
                        captures: vec![],
                    },
                    sp,
                ),
                2 => f.push_inst(e, InstKind::Sibling(FuncId(3)), sp),
                _ => f.push_inst(e, InstKind::Const(Const::None), sp),
            };
            f.set_term(e, Terminator::Return(v), sp);
            fns.push(f);
        }
        let mut p = CfgProgram {
            functions: fns,
            entry: FuncId(0),
            structs: vec![],
            files: vec![],
            clones: Vec::new(),
        };
        assert_eq!(remove_unreferenced(&mut p), 1);
        let names: Vec<&str> = p.functions.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, vec!["f0", "f2", "f3"]);
        let ids: Vec<u32> = p.functions.iter().map(|f| f.id.0).collect();
        assert_eq!(ids, vec![0, 1, 2]);
        let first = |f: &Function| f.inst(f.block(f.entry).insts[0]).kind.clone();
        assert_eq!(
            first(&p.functions[0]),
            InstKind::Closure {
                func: FuncId(1),
                captures: vec![]
            }
        );
        assert_eq!(first(&p.functions[1]), InstKind::Sibling(FuncId(2)));
        assert_eq!(remove_unreferenced(&mut p), 0);
    }
}
