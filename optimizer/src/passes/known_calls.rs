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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cfg::FuncId;
    use menai_compiler::ir::Span;

    #[test]
    fn calls_of_builtin_values_become_primitives() {
        let sp = Span::default();
        let mut f = Function::new(FuncId(0), "f".into(), vec!["x".into()], None, sp);
        let e = f.entry;
        let x = f.block(e).params[0];
        let p = f.push_inst(e, InstKind::Builtin(Builtin::IntegerP), sp);
        let c = f.push_inst(
            e,
            InstKind::Call {
                func: p,
                args: vec![x],
            },
            sp,
        );
        let g = f.push_inst(e, InstKind::Builtin(Builtin::DictGet), sp);
        // dict-get with 2 arguments is not its 3-operand primitive: stays a call.
        let d = f.push_inst(
            e,
            InstKind::Call {
                func: g,
                args: vec![x, c],
            },
            sp,
        );
        let l = f.push_inst(e, InstKind::Builtin(Builtin::List), sp);
        f.set_term(
            e,
            Terminator::TailCall {
                func: l,
                args: vec![c, d],
            },
            sp,
        );
        assert_eq!(run(&mut f), Changed(2));
        let insts = f.block(e).insts.clone();
        assert_eq!(
            f.inst(insts[1]).kind,
            InstKind::Prim {
                op: Builtin::IntegerP,
                args: vec![x]
            }
        );
        assert!(matches!(f.inst(insts[3]).kind, InstKind::Call { .. }));
        let last = *insts.last().unwrap();
        assert_eq!(
            f.inst(last).kind,
            InstKind::Prim {
                op: Builtin::List,
                args: vec![c, d]
            }
        );
        assert_eq!(f.block(e).term, Terminator::Return(f.inst(last).result));
        assert_eq!(run(&mut f), Changed(0));
        assert!(!is_primitive_call(Builtin::Dict, 3));
        assert!(!is_primitive_call(Builtin::MapList, 2));
        assert!(is_primitive_call(Builtin::IntegerAdd, 2));
        assert!(!is_primitive_call(Builtin::IntegerAdd, 3));
    }
}
