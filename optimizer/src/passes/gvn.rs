//! Global value numbering over the dominator tree: a primitive operation
//! identical to one that dominates it (same operator, same operands after
//! earlier replacements) is removed and its uses read the dominating
//! result.
//!
//! Sound because every primitive is a pure, deterministic function of its
//! operands: when the dominating instance ran, it either raised (and control
//! never reaches the second) or produced the value the second would
//! produce. So even operations that can fail are merged; the error, if any,
//! is raised by the first, exactly where it was raised before.
//!
//! Constants, builtins and captures are not merged: each is one cheap load
//! that emission can place straight where it is needed (often as an
//! immediate operand), and sharing one register between distant uses only
//! lengthens its live range.

use super::Changed;
use crate::cfg::{Function, Inst, InstKind, Value};
use menai_bytecode::Builtin;
use rustc_hash::FxHashMap as HashMap;

pub const DOC: &str = "remove primitive operations computed again below an identical one";

pub fn run(f: &mut Function) -> Changed {
    let children = f.dominator_children(&f.reverse_postorder());
    let mut table: HashMap<(Builtin, Vec<Value>), Value> = HashMap::default();
    let mut replace: HashMap<Value, Value> = HashMap::default();
    let mut redundant: Vec<Inst> = Vec::new();
    // Scoped table: on leaving a block, forget what it added.
    enum Step {
        Enter(crate::cfg::Block),
        Leave(Vec<(Builtin, Vec<Value>)>),
    }
    let mut stack = vec![Step::Enter(f.entry)];
    while let Some(step) = stack.pop() {
        let b = match step {
            Step::Enter(b) => b,
            Step::Leave(added) => {
                for k in added {
                    table.remove(&k);
                }
                continue;
            }
        };
        let mut added = Vec::new();
        for &i in &f.block(b).insts {
            let d = f.inst(i);
            let InstKind::Prim { op, args } = &d.kind else {
                continue;
            };
            let args: Vec<Value> = args
                .iter()
                .map(|a| replace.get(a).copied().unwrap_or(*a))
                .collect();
            let key = (*op, args);
            match table.get(&key) {
                Some(&v) => {
                    replace.insert(d.result, v);
                    redundant.push(i);
                }
                None => {
                    table.insert(key.clone(), d.result);
                    added.push(key);
                }
            }
        }
        stack.push(Step::Leave(added));
        for &c in children[b.index()].iter().rev() {
            stack.push(Step::Enter(c));
        }
    }
    if redundant.is_empty() {
        return Changed(0);
    }
    let gone: rustc_hash::FxHashSet<Inst> = redundant.iter().copied().collect();
    for b in f.blocks() {
        f.block_mut(b).insts.retain(|i| !gone.contains(i));
    }
    f.replace_uses(&replace);
    Changed(redundant.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cfg::{FuncId, Terminator};
    use menai_compiler::ir::Span;

    fn prim(f: &mut Function, b: crate::cfg::Block, op: Builtin, args: Vec<Value>) -> Value {
        f.push_inst(b, InstKind::Prim { op, args }, Span::default())
    }

    /// f(x, y): a = x / y; branch on (a < x) to t: b = x / y; c = b + a
    /// (a dominates b: b goes, even though division can fail); else: the
    /// same division on another path is kept apart from t's.
    #[test]
    fn a_dominated_duplicate_goes_and_siblings_stay_apart() {
        let sp = Span::default();
        let mut f = Function::new(
            FuncId(0),
            "f".into(),
            vec!["x".into(), "y".into()],
            None,
            sp,
        );
        let e = f.entry;
        let (x, y) = (f.block(e).params[0], f.block(e).params[1]);
        let a = prim(&mut f, e, Builtin::IntegerDiv, vec![x, y]);
        let c = prim(&mut f, e, Builtin::IntegerLt, vec![a, x]);
        let t = f.add_block(sp);
        let el = f.add_block(sp);
        f.set_term(
            e,
            Terminator::Branch {
                cond: c,
                then_dest: t,
                else_dest: el,
                origin: menai_bytecode::CondOrigin::If,
            },
            sp,
        );
        let b = prim(&mut f, t, Builtin::IntegerDiv, vec![x, y]);
        let s = prim(&mut f, t, Builtin::IntegerAdd, vec![b, a]);
        f.set_term(t, Terminator::Return(s), sp);
        // In `el`: x + a twice (the second goes), and nothing from `t`.
        let p = prim(&mut f, el, Builtin::IntegerAdd, vec![a, a]);
        let q = prim(&mut f, el, Builtin::IntegerAdd, vec![a, a]);
        let r = prim(&mut f, el, Builtin::IntegerMul, vec![p, q]);
        f.set_term(el, Terminator::Return(r), sp);

        assert_eq!(run(&mut f), Changed(2));
        crate::verify::verify_function(
            &f,
            crate::verify::ProgramInfo {
                captures: &[0],
                struct_fields: &[],
            },
        )
        .unwrap();
        let ops = |b| {
            f.block(b)
                .insts
                .iter()
                .map(|&i| f.inst(i).kind.clone())
                .collect::<Vec<_>>()
        };
        assert_eq!(
            ops(t),
            vec![InstKind::Prim {
                op: Builtin::IntegerAdd,
                args: vec![a, a]
            }]
        );
        assert_eq!(
            ops(el),
            vec![
                InstKind::Prim {
                    op: Builtin::IntegerAdd,
                    args: vec![a, a]
                },
                InstKind::Prim {
                    op: Builtin::IntegerMul,
                    args: vec![p, p]
                }
            ]
        );
        assert_eq!(run(&mut f), Changed(0));
    }
}
