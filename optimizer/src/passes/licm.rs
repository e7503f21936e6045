//! Loop-invariant code motion for self tail loops.
//!
//! `build` gives a function whose self tail calls became jumps the shape
//! `entry(params) -> header(loop variables)`, with the loop's back edges
//! jumping to `header`. This pass moves the operand-free, effect-free,
//! infallible instructions of the loop (`const`, `getcap`, `sibling`,
//! `builtin`) from the blocks that can reach a back edge into the entry
//! block, so they run once instead of on every iteration (those only
//! used as jump arguments or in operand windows stay: hoisted, their load
//! would just become a move; nor do small integer constants that emission
//! turns into immediates at -O2, see `emit::imm_form`). Sound because such an instruction yields the same value wherever it runs in the
//! function and cannot fail; the entry block dominates the whole function,
//! so every former use is still dominated. (Closures are not hoisted: each
//! evaluation of a lambda makes a new closure.)

use super::Changed;
use crate::cfg::{Block, Function, InstKind, Terminator, Value};
use crate::emit::{imm_form, typed_op};
use menai_compiler::ir::Const;
use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

pub const DOC: &str = "hoist constants, captures and sibling closures out of self tail loops";

fn hoistable(kind: &InstKind) -> bool {
    matches!(
        kind,
        InstKind::Const(_) | InstKind::GetCap(_) | InstKind::Sibling(_) | InstKind::Builtin(_)
    )
}

pub fn run(f: &mut Function) -> Changed {
    let entry = f.entry;
    let Terminator::Jump { dest: header, .. } = f.block(entry).term.clone() else {
        return Changed(0);
    };
    if header == entry {
        return Changed(0);
    }
    let latches: Vec<Block> = f
        .preds(header)
        .into_iter()
        .filter(|&b| b != entry)
        .collect();
    if latches.is_empty() {
        return Changed(0);
    }
    // The loop: the header plus every block that reaches a latch without passing the header.
    let mut body: HashSet<Block> = HashSet::from_iter([header]);
    let mut stack = latches;
    while let Some(b) = stack.pop() {
        if b == entry || !body.insert(b) {
            continue;
        }
        stack.extend(f.preds(b));
    }
    // Values read in place by some instruction or terminator. A value that
    // only feeds jumps or operand windows (calls, callb, make*) would be
    // moved there anyway: hoisted, its load would just become a move.
    // A small integer constant that an integer primitive will take as an
    // immediate (`emit::imm_form`) is not read in place by it: once every
    // use is an immediate, emission drops the constant, so hoisting it would
    // only add a load to the entry.
    let small: HashMap<Value, i16> = f
        .blocks()
        .into_iter()
        .flat_map(|b| f.block(b).insts.clone())
        .filter_map(|i| match &f.inst(i).kind {
            InstKind::Const(Const::Int(n)) => i16::try_from(*n).ok().map(|k| (f.inst(i).result, k)),
            _ => None,
        })
        .collect();
    let mut operand: HashSet<Value> = HashSet::default();
    for b in f.blocks() {
        for &i in &f.block(b).insts {
            let kind = &f.inst(i).kind;
            if let InstKind::Prim { op, args } = kind {
                if let Some((_, x, _)) = imm_form(*op, args, |v| small.get(&v).copied(), false) {
                    operand.insert(x);
                    continue;
                }
            }
            let in_place = match kind {
                InstKind::Prim { op, .. } => typed_op(*op).is_some(),
                InstKind::Call { .. } | InstKind::MakeStruct { .. } => false,
                _ => true,
            };
            if in_place {
                operand.extend(kind.uses());
            }
        }
        if !matches!(
            f.block(b).term,
            Terminator::Jump { .. } | Terminator::TailCall { .. }
        ) {
            operand.extend(f.block(b).term.uses());
        }
    }
    let mut hoisted = Vec::new();
    for b in f.reverse_postorder() {
        if !body.contains(&b) {
            continue;
        }
        let insts = f.block(b).insts.clone();
        let (up, keep): (Vec<_>, Vec<_>) = insts
            .into_iter()
            .partition(|&i| hoistable(&f.inst(i).kind) && operand.contains(&f.inst(i).result));
        if !up.is_empty() {
            f.block_mut(b).insts = keep;
            hoisted.extend(up);
        }
    }
    let n = hoisted.len();
    f.block_mut(entry).insts.extend(hoisted);
    Changed(n)
}

// Tests: `optimizer/tests/filetests/licm_*.cfg` (CFG text in, the
// pass's output as a reviewed snapshot).
