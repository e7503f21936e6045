//! Known calls: a call whose callee is a builtin value defined in this
//! function (`v = builtin b`) becomes the primitive `b` when the argument
//! count is exactly `b`'s primitive arity (any count for `list` and `set`,
//! an even count for `dict`). A tail call becomes the primitive followed by
//! a return.
//!
//! Sound because calling a native builtin value with an accepted count runs
//! the same operation as its primitive, with the same errors at the same
//! span; counts the primitive does not take (optional arguments, variadic
//! chains) are left as calls.

use super::Changed;
use crate::cfg::{Function, InstKind, Terminator, Value};
use menai_bytecode::builtins::Impl;
use menai_bytecode::Builtin;

pub const DOC: &str = "turn calls of known builtin values into primitive operations";

/// Whether a call of builtin `b` with `n` arguments is exactly its primitive.
pub fn is_primitive_call(b: Builtin, n: usize) -> bool {
    let info = b.info();
    if info.implementation != Impl::Native {
        return false;
    }
    match b {
        Builtin::List | Builtin::Set => true,
        Builtin::Dict => n.is_multiple_of(2),
        _ => info.prim_arity > 0 && n == info.prim_arity as usize,
    }
}

pub fn run(f: &mut Function) -> Changed {
    let defs = f.defining_insts();
    let builtin_of = |f: &Function, v: Value| match defs.get(&v).map(|&i| &f.inst(i).kind) {
        Some(InstKind::Builtin(b)) => Some(*b),
        _ => None,
    };
    let mut count = 0;
    for b in f.blocks() {
        for i in f.block(b).insts.clone() {
            let InstKind::Call { func, args } = &f.inst(i).kind else {
                continue;
            };
            let Some(op) = builtin_of(f, *func) else {
                continue;
            };
            if is_primitive_call(op, args.len()) {
                let args = args.clone();
                f.inst_mut(i).kind = InstKind::Prim { op, args };
                count += 1;
            }
        }
        if let Terminator::TailCall { func, args } = f.block(b).term.clone() {
            let Some(op) = builtin_of(f, func) else {
                continue;
            };
            if is_primitive_call(op, args.len()) {
                let span = f.block(b).term_span;
                let v = f.push_inst(b, InstKind::Prim { op, args }, span);
                f.set_term(b, Terminator::Return(v), span);
                count += 1;
            }
        }
    }
    Changed(count)
}

// Tests of the pass on CFGs: `optimizer/tests/filetests/known_calls_*.cfg`.
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_primitive_call_needs_the_primitive_arity() {
        assert!(!is_primitive_call(Builtin::Dict, 3));
        assert!(!is_primitive_call(Builtin::MapList, 2));
        assert!(is_primitive_call(Builtin::IntegerAdd, 2));
        assert!(!is_primitive_call(Builtin::IntegerAdd, 3));
    }
}
