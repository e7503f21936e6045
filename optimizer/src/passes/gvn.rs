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

// Tests: `optimizer/tests/filetests/gvn_*.cfg` (CFG text in, the
// pass's output as a reviewed snapshot).
