//! Constant folding.
//!
//! Replaces a primitive whose operands are all constants by its result, and
//! a branch on a constant boolean by a jump to the taken side (the other
//! side becomes unreachable and is removed). Only operations whose result is
//! certain and that cannot fail are folded: integer arithmetic that does
//! not overflow `i64`, comparisons, boolean negation, float arithmetic
//! (IEEE, as at run time) except division by zero, and type predicates of
//! constants. Anything else (a type error, division by zero) is left to
//! raise at run time.

use super::Changed;
use crate::cfg::{Function, InstKind, Terminator};
use menai_bytecode::Builtin;
use menai_compiler::ir::Const;

pub const DOC: &str =
    "fold primitives on constants that cannot fail, and branches on constant booleans";

/// The value of `op` applied to constants, when it is certain and no error.
pub fn fold(op: Builtin, args: &[&Const]) -> Option<Const> {
    use Builtin as B;
    use Const as C;
    Some(match (op, args) {
        (B::IntegerAdd, [C::Int(a), C::Int(b)]) => C::Int(a.checked_add(*b)?),
        (B::IntegerSub, [C::Int(a), C::Int(b)]) => C::Int(a.checked_sub(*b)?),
        (B::IntegerMul, [C::Int(a), C::Int(b)]) => C::Int(a.checked_mul(*b)?),
        (B::IntegerNeg, [C::Int(a)]) => C::Int(a.checked_neg()?),
        (B::IntegerLt, [C::Int(a), C::Int(b)]) => C::Bool(a < b),
        (B::IntegerLe, [C::Int(a), C::Int(b)]) => C::Bool(a <= b),
        (B::IntegerGt, [C::Int(a), C::Int(b)]) => C::Bool(a > b),
        (B::IntegerGe, [C::Int(a), C::Int(b)]) => C::Bool(a >= b),
        (B::IntegerEq, [C::Int(a), C::Int(b)]) => C::Bool(a == b),
        (B::IntegerNe, [C::Int(a), C::Int(b)]) => C::Bool(a != b),
        (B::FloatAdd, [C::Float(a), C::Float(b)]) => C::Float(a + b),
        (B::FloatSub, [C::Float(a), C::Float(b)]) => C::Float(a - b),
        (B::FloatMul, [C::Float(a), C::Float(b)]) => C::Float(a * b),
        (B::FloatDiv, [C::Float(a), C::Float(b)]) if *b != 0.0 => C::Float(a / b),
        (B::FloatLt, [C::Float(a), C::Float(b)]) => C::Bool(a < b),
        (B::FloatLe, [C::Float(a), C::Float(b)]) => C::Bool(a <= b),
        (B::FloatGt, [C::Float(a), C::Float(b)]) => C::Bool(a > b),
        (B::FloatGe, [C::Float(a), C::Float(b)]) => C::Bool(a >= b),
        (B::FloatEq, [C::Float(a), C::Float(b)]) => C::Bool(a == b),
        (B::FloatNe, [C::Float(a), C::Float(b)]) => C::Bool(a != b),
        (B::BooleanNot, [C::Bool(a)]) => C::Bool(!a),
        (B::BooleanEq, [C::Bool(a), C::Bool(b)]) => C::Bool(a == b),
        (B::BooleanNe, [C::Bool(a), C::Bool(b)]) => C::Bool(a != b),
        (B::IntegerP, [c]) => C::Bool(matches!(c, C::Int(_) | C::BigInt(_))),
        (B::FloatP, [c]) => C::Bool(matches!(c, C::Float(_))),
        (B::ComplexP, [c]) => C::Bool(matches!(c, C::Complex(..))),
        (B::StringP, [c]) => C::Bool(matches!(c, C::Str(_))),
        (B::SymbolP, [c]) => C::Bool(matches!(c, C::Symbol(_))),
        (B::BooleanP, [c]) => C::Bool(matches!(c, C::Bool(_))),
        (B::NoneP, [c]) => C::Bool(matches!(c, C::None)),
        (B::ListP, [c]) => C::Bool(matches!(c, C::EmptyList | C::List(_))),
        (B::ListNullP, [C::EmptyList]) => C::Bool(true),
        (B::ListNullP, [C::List(items)]) => C::Bool(items.is_empty()),
        _ => return None,
    })
}

pub fn run(f: &mut Function) -> Changed {
    let mut count = 0;
    let defs = f.defining_insts();
    let const_of = |f: &Function, v| match defs.get(&v).map(|&i| &f.inst(i).kind) {
        Some(InstKind::Const(c)) => Some(c.clone()),
        _ => None,
    };
    for b in f.blocks() {
        for i in f.block(b).insts.clone() {
            let InstKind::Prim { op, args } = &f.inst(i).kind else {
                continue;
            };
            let consts: Option<Vec<Const>> = args.iter().map(|&a| const_of(f, a)).collect();
            let Some(consts) = consts else { continue };
            let refs: Vec<&Const> = consts.iter().collect();
            if let Some(c) = fold(*op, &refs) {
                f.inst_mut(i).kind = InstKind::Const(c);
                count += 1;
            }
        }
    }
    // Branches on constants; recompute definitions (folding made new constants).
    let defs = f.defining_insts();
    for b in f.blocks() {
        if let Terminator::Branch {
            cond,
            then_dest,
            else_dest,
        } = f.block(b).term.clone()
        {
            let known = match defs.get(&cond).map(|&i| &f.inst(i).kind) {
                Some(InstKind::Const(Const::Bool(v))) => Some(*v),
                _ => None,
            };
            if let Some(v) = known {
                let span = f.block(b).term_span;
                let dest = if v { then_dest } else { else_dest };
                f.set_term(b, Terminator::Jump { dest, args: vec![] }, span);
                count += 1;
            }
        }
    }
    if count > 0 {
        f.remove_unreachable_blocks();
    }
    Changed(count)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cfg::FuncId;
    use menai_compiler::ir::Span;

    #[test]
    fn folds_what_cannot_fail_only() {
        use Builtin as B;
        use Const as C;
        assert_eq!(
            fold(B::IntegerAdd, &[&C::Int(3), &C::Int(4)]),
            Some(C::Int(7))
        );
        assert_eq!(fold(B::IntegerAdd, &[&C::Int(i64::MAX), &C::Int(1)]), None);
        assert_eq!(fold(B::IntegerDiv, &[&C::Int(1), &C::Int(0)]), None);
        assert_eq!(
            fold(B::IntegerAdd, &[&C::Int(1), &C::Str("a".into())]),
            None
        );
        assert_eq!(fold(B::FloatDiv, &[&C::Float(1.0), &C::Float(0.0)]), None);
        assert_eq!(
            fold(B::FloatDiv, &[&C::Float(1.0), &C::Float(4.0)]),
            Some(C::Float(0.25))
        );
        assert_eq!(
            fold(B::IntegerLt, &[&C::Int(1), &C::Int(2)]),
            Some(C::Bool(true))
        );
        assert_eq!(fold(B::BooleanNot, &[&C::Int(1)]), None);
        assert_eq!(
            fold(B::IntegerP, &[&C::BigInt("99999999999999999999".into())]),
            Some(C::Bool(true))
        );
    }

    #[test]
    fn folds_a_branch_and_drops_the_dead_side() {
        let sp = Span::default();
        let mut f = Function::new(FuncId(0), "f".into(), vec![], None, sp);
        let e = f.entry;
        let a = f.push_inst(e, InstKind::Const(Const::Int(1)), sp);
        let b = f.push_inst(e, InstKind::Const(Const::Int(2)), sp);
        let c = f.push_inst(
            e,
            InstKind::Prim {
                op: Builtin::IntegerLt,
                args: vec![a, b],
            },
            sp,
        );
        let (t, el) = (f.add_block(sp), f.add_block(sp));
        f.set_term(
            e,
            Terminator::Branch {
                cond: c,
                then_dest: t,
                else_dest: el,
            },
            sp,
        );
        f.set_term(t, Terminator::Return(a), sp);
        f.set_term(el, Terminator::Return(b), sp);
        assert_eq!(run(&mut f), Changed(2));
        assert!(!f.contains(el));
        assert_eq!(
            f.block(e).term,
            Terminator::Jump {
                dest: t,
                args: vec![]
            }
        );
        assert_eq!(run(&mut f), Changed(0));
    }
}
