//! Dead code elimination.
//!
//! Deletes instructions whose result is never used and that have no effect
//! and cannot fail (`InstKind::is_removable`: constants, copies, closures,
//! captures, struct construction, total primitives), unused parameters of
//! non-entry blocks (with the matching jump arguments), and blocks that
//! cannot be reached. Calls and primitives that may raise are kept, so
//! every run-time error of the unoptimized program still happens.

use super::Changed;
use crate::cfg::{Function, Terminator};

pub const DOC: &str =
    "delete unused effect-free instructions, unused block parameters and unreachable blocks";

pub fn run(f: &mut Function) -> Changed {
    let mut count = f.remove_unreachable_blocks();
    loop {
        let uses = f.use_counts();
        let unused = |v: crate::cfg::Value| uses.get(v.0 as usize).copied().unwrap_or(0) == 0;
        let mut removed = 0;
        for b in f.blocks() {
            let insts = f.block(b).insts.clone();
            let keep: Vec<_> = insts
                .iter()
                .copied()
                .filter(|&i| {
                    let d = f.inst(i);
                    !(unused(d.result) && d.kind.is_removable())
                })
                .collect();
            removed += insts.len() - keep.len();
            f.block_mut(b).insts = keep;
            if b == f.entry {
                continue;
            }
            let params = f.block(b).params.clone();
            let preds = f.preds(b);
            if !preds
                .iter()
                .all(|&p| matches!(&f.block(p).term, Terminator::Jump { dest, .. } if *dest == b))
            {
                continue;
            }
            for k in (0..params.len()).rev() {
                if !unused(params[k]) {
                    continue;
                }
                f.block_mut(b).params.remove(k);
                for &p in &preds {
                    if let Terminator::Jump { args, .. } = &mut f.block_mut(p).term {
                        if k < args.len() {
                            args.remove(k);
                        }
                    }
                }
                removed += 1;
            }
        }
        if removed == 0 {
            break;
        }
        count += removed;
    }
    Changed(count)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cfg::{FuncId, InstKind};
    use menai_bytecode::Builtin;
    use menai_compiler::ir::{Const, Span};

    #[test]
    fn removes_dead_pure_code_but_keeps_failing_and_calls() {
        let sp = Span::default();
        let mut f = Function::new(FuncId(0), "f".into(), vec!["x".into()], None, sp);
        let e = f.entry;
        let x = f.block(e).params[0];
        let k = f.push_inst(e, InstKind::Const(Const::Int(7)), sp);
        let _pure = f.push_inst(
            e,
            InstKind::Prim {
                op: Builtin::List,
                args: vec![k, x],
            },
            sp,
        );
        let zero = f.push_inst(e, InstKind::Const(Const::Int(0)), sp);
        // Unused, but may fail (division by zero): kept.
        let _div = f.push_inst(
            e,
            InstKind::Prim {
                op: Builtin::IntegerDiv,
                args: vec![x, zero],
            },
            sp,
        );
        let _call = f.push_inst(
            e,
            InstKind::Call {
                func: x,
                args: vec![],
            },
            sp,
        );
        f.set_term(e, Terminator::Return(x), sp);
        // The list goes, then the constant 7 it used (second sweep).
        assert_eq!(run(&mut f), Changed(2));
        assert_eq!(f.block(e).insts.len(), 3);
        assert_eq!(run(&mut f), Changed(0));
    }

    #[test]
    fn removes_unused_block_params_and_their_arguments() {
        let sp = Span::default();
        let mut f = Function::new(FuncId(0), "f".into(), vec!["x".into()], None, sp);
        let e = f.entry;
        let x = f.block(e).params[0];
        let j = f.add_block(sp);
        f.add_param(j);
        let k = f.push_inst(e, InstKind::Const(Const::Int(1)), sp);
        f.set_term(
            e,
            Terminator::Jump {
                dest: j,
                args: vec![k],
            },
            sp,
        );
        f.set_term(j, Terminator::Return(x), sp);
        assert_eq!(run(&mut f), Changed(2));
        assert!(f.block(j).params.is_empty());
        assert!(f.block(e).insts.is_empty());
    }
}
