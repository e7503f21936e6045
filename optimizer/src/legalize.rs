//! Legalization just before register allocation: rewrites what the
//! bytecode validator would reject although the program is valid Menai.
//!
//! A call whose callee is statically known (a closure of a known function,
//! a builtin, or a struct type: the validator's rule C3) and whose argument
//! count that callee does not accept is a run-time error in Menai, but the
//! validator rejects such a `call`. The call (and everything after it in its
//! block) is replaced by raising the VM's own arity message
//! (`call: expected 2 arguments, got 3`) at the call's span, so the result
//! is the same error at the same place. Blocks that become unreachable are
//! removed.

use crate::cfg::{CfgProgram, Function, InstKind, Terminator, Value};
use menai_bytecode::builtins::MANY;
use menai_compiler::ir::{Const, Span};
use rustc_hash::FxHashMap as HashMap;

/// The run-time message for a wrong argument count (as the VM words it).
pub fn arity_message(min: usize, max: Option<usize>, got: usize) -> String {
    let plural = |n: usize| if n == 1 { "argument" } else { "arguments" };
    let expected = match max {
        Some(m) if m == min => format!("{min} {}", plural(min)),
        Some(m) => format!("{min} to {m} arguments"),
        None => format!("at least {min} {}", plural(min)),
    };
    format!("call: expected {expected}, got {got}")
}

/// Accepted argument counts: (min, max; `None` = unbounded).
type Sig = (usize, Option<usize>);

/// Accepted argument counts of each function.
fn signatures(p: &CfgProgram) -> Vec<(usize, Option<usize>)> {
    p.functions
        .iter()
        .map(|f| {
            let n = f.param_names.len();
            (n, if f.rest_name.is_some() { None } else { Some(n) })
        })
        .collect()
}

/// Applies the rewrite to every function; returns how many calls changed.
pub fn legalize_program(p: &mut CfgProgram) -> usize {
    let sigs = signatures(p);
    let fields: Vec<usize> = p.structs.iter().map(|s| s.fields.len()).collect();
    p.functions
        .iter_mut()
        .map(|f| legalize_function(f, &sigs, &fields))
        .sum()
}

/// The (min, max) accepted by the callee `v`, when it is statically known.
fn known_callee(
    v: Value,
    defs: &HashMap<Value, crate::cfg::Inst>,
    f: &Function,
    sigs: &[(usize, Option<usize>)],
    fields: &[usize],
) -> Option<(usize, Option<usize>)> {
    let mut v = v;
    for _ in 0..64 {
        let inst = f.inst(*defs.get(&v)?);
        match &inst.kind {
            InstKind::Copy(w) => v = *w,
            InstKind::Closure { func, .. }
            | InstKind::Sibling(func)
            | InstKind::ClosureRef { func, .. } => return sigs.get(func.0 as usize).copied(),
            InstKind::Builtin(b) => {
                let i = b.info();
                let max = if i.max_args == MANY {
                    None
                } else {
                    Some(i.max_args as usize)
                };
                return Some((i.min_args as usize, max));
            }
            InstKind::Const(Const::StructType(t)) => {
                let n = *fields.get(*t as usize)?;
                return Some((n, Some(n)));
            }
            _ => return None,
        }
    }
    None
}

fn rejects((min, max): (usize, Option<usize>), n: usize) -> bool {
    n < min || max.is_some_and(|m| n > m)
}

fn legalize_function(f: &mut Function, sigs: &[(usize, Option<usize>)], fields: &[usize]) -> usize {
    let defs = f.defining_insts();
    let mut count = 0;
    for b in f.blocks() {
        let insts = f.block(b).insts.clone();
        let mut cut: Option<(usize, usize, Sig, Span)> = None;
        for (pos, &i) in insts.iter().enumerate() {
            if let InstKind::Call { func, args } = &f.inst(i).kind {
                if let Some(sig) = known_callee(*func, &defs, f, sigs, fields) {
                    if rejects(sig, args.len()) {
                        cut = Some((pos, args.len(), sig, f.inst(i).span));
                        break;
                    }
                }
            }
        }
        if cut.is_none() {
            if let Terminator::TailCall { func, args } = &f.block(b).term {
                if let Some(sig) = known_callee(*func, &defs, f, sigs, fields) {
                    if rejects(sig, args.len()) {
                        cut = Some((insts.len(), args.len(), sig, f.block(b).term_span));
                    }
                }
            }
        }
        let Some((pos, got, (min, max), span)) = cut else {
            continue;
        };
        f.block_mut(b).insts.truncate(pos);
        let msg = f.push_inst(
            b,
            InstKind::Const(Const::Str(arity_message(min, max, got))),
            span,
        );
        f.set_term(b, Terminator::Raise(msg), span);
        count += 1;
    }
    if count > 0 {
        f.remove_unreachable_blocks();
    }
    count
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cfg::FuncId;
    use menai_bytecode::Builtin;

    #[test]
    fn messages_match_the_vm() {
        assert_eq!(
            arity_message(2, Some(2), 3),
            "call: expected 2 arguments, got 3"
        );
        assert_eq!(
            arity_message(1, Some(1), 0),
            "call: expected 1 argument, got 0"
        );
        assert_eq!(
            arity_message(2, None, 1),
            "call: expected at least 2 arguments, got 1"
        );
        assert_eq!(
            arity_message(1, Some(2), 3),
            "call: expected 1 to 2 arguments, got 3"
        );
    }

    #[test]
    fn known_wrong_arity_call_becomes_a_raise() {
        let sp = Span::default();
        let mut f = Function::new(FuncId(0), "main".into(), vec![], None, sp);
        let e = f.entry;
        let neg = f.push_inst(e, InstKind::Builtin(Builtin::IntegerNeg), sp);
        let one = f.push_inst(e, InstKind::Const(Const::Int(1)), sp);
        let r = f.push_inst(
            e,
            InstKind::Call {
                func: neg,
                args: vec![one, one],
            },
            sp,
        );
        f.set_term(e, Terminator::Return(r), sp);
        let mut p = CfgProgram {
            functions: vec![f],
            entry: FuncId(0),
            structs: vec![],
            files: vec![],
            clones: Vec::new(),
        };
        assert_eq!(legalize_program(&mut p), 1);
        let f = &p.functions[0];
        let Terminator::Raise(m) = f.block(e).term else {
            panic!("{:?}", f.block(e).term)
        };
        let last = *f.block(e).insts.last().unwrap();
        assert_eq!(f.inst(last).result, m);
        assert_eq!(
            f.inst(last).kind,
            InstKind::Const(Const::Str("call: expected 1 argument, got 2".into()))
        );
        // A call it accepts is left alone.
        assert_eq!(legalize_program(&mut p), 0);
    }
}
