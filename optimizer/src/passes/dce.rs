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

// Tests: `optimizer/tests/filetests/dce_*.cfg` (CFG text in, the
// pass's output as a reviewed snapshot).
