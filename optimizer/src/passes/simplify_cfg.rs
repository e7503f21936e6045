//! CFG simplification.
//!
//! - A block ending in a jump to a block that has no other predecessor (and
//!   is not the entry) absorbs it: the target's parameters become the jump
//!   arguments, its instructions and terminator move over. Sound because
//!   control always flows from one to the other.
//! - Unreachable blocks are removed.
//!
//! Branches are left alone even when both sides agree: the condition must
//! still be checked to be a boolean at run time (`constfold` turns branches
//! on constant booleans into jumps).

use super::Changed;
use crate::cfg::{Function, Terminator};
use std::collections::HashMap;

pub const DOC: &str = "merge straight-line blocks and drop unreachable blocks";

pub fn run(f: &mut Function) -> Changed {
    let mut count = f.remove_unreachable_blocks();
    // Merge chains.
    loop {
        let mut merged = false;
        for a in f.blocks() {
            if !f.contains(a) {
                continue;
            }
            let Terminator::Jump { dest, args } = f.block(a).term.clone() else {
                continue;
            };
            if dest == a || dest == f.entry || !f.contains(dest) || f.preds(dest).len() != 1 {
                continue;
            }
            let data = f.block(dest).clone();
            let map: HashMap<_, _> = data
                .params
                .iter()
                .copied()
                .zip(args.iter().copied())
                .collect();
            f.block_mut(a).insts.extend(data.insts.iter().copied());
            f.set_term(a, data.term.clone(), data.term_span);
            f.graph.remove_node(dest.0);
            f.replace_uses(&map);
            count += 1;
            merged = true;
        }
        if !merged {
            break;
        }
    }
    Changed(count)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cfg::{FuncId, InstKind};
    use menai_bytecode::Builtin;
    use menai_compiler::ir::Span;

    #[test]
    fn merges_a_chain_substituting_parameters() {
        let sp = Span::default();
        let mut f = Function::new(FuncId(0), "f".into(), vec!["x".into()], None, sp);
        let e = f.entry;
        let x = f.block(e).params[0];
        let b1 = f.add_block(sp);
        let p = f.add_param(b1);
        let b2 = f.add_block(sp);
        f.set_term(
            e,
            Terminator::Jump {
                dest: b1,
                args: vec![x],
            },
            sp,
        );
        let s = f.push_inst(
            b1,
            InstKind::Prim {
                op: Builtin::IntegerAdd,
                args: vec![p, p],
            },
            sp,
        );
        f.set_term(
            b1,
            Terminator::Jump {
                dest: b2,
                args: vec![],
            },
            sp,
        );
        f.set_term(b2, Terminator::Return(s), sp);
        assert_eq!(run(&mut f), Changed(2));
        assert_eq!(f.blocks(), vec![e]);
        let i = f.block(e).insts[0];
        assert_eq!(
            f.inst(i).kind,
            InstKind::Prim {
                op: Builtin::IntegerAdd,
                args: vec![x, x]
            }
        );
        assert_eq!(f.block(e).term, Terminator::Return(s));
        assert_eq!(run(&mut f), Changed(0));
    }

    #[test]
    fn keeps_loops_to_the_entry() {
        let sp = Span::default();
        let mut f = Function::new(FuncId(0), "f".into(), vec!["x".into()], None, sp);
        let e = f.entry;
        let x = f.block(e).params[0];
        f.set_term(
            e,
            Terminator::Jump {
                dest: e,
                args: vec![x],
            },
            sp,
        );
        assert_eq!(run(&mut f), Changed(0));
    }
}
