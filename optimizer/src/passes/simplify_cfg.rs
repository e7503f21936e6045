//! CFG simplification.
//!
//! - A block ending in a jump to a block that has no other predecessor (and
//!   is not the entry) absorbs it: the target's parameters become the jump
//!   arguments, its instructions and terminator move over. Sound because
//!   control always flows from one to the other.
//! - Unreachable blocks are removed.
//! - Boolean branches: `branch c, t, e` where `t` and `e` hold only
//!   constants and end alike (both `return`, or both jump to the same
//!   block), differing only where `t` has `#t` and `e` has `#f` (or the
//!   reverse), becomes that return or jump with `c` (or `boolean-not c`) in
//!   those places. Only done when `c` is known to be a boolean (a boolean
//!   constant, or a primitive whose every result is a boolean), so the
//!   branch's "condition must be a boolean" error cannot be lost; then
//!   `if c then #t else #f` is `c`.
//! - Jump threading: a jump (or a branch edge) to a block that has no
//!   instructions and only jumps on (its parameters used by nothing else)
//!   goes straight to the final target, with
//!   the empty block's parameters replaced by the arguments (a branch is
//!   only retargeted to a block without parameters, and never so that both
//!   of its edges reach the same block). Sound because the empty block
//!   computes nothing; values it passes on are defined above it, so they
//!   dominate the new jump too. Chains of empty blocks that loop are left.
//!
//! - Branch threading: a jump passing a boolean constant to an empty block
//!   that only branches on it goes straight to the branch's target (see
//!   [`thread_known_branches`]).
//!
//! Branches are otherwise left alone even when both sides agree: the
//! condition must still be checked to be a boolean at run time (`sccp`
//! turns branches on constant booleans into jumps).

use super::sccp::same_const;
use super::Changed;
use crate::cfg::{Block, Function, InstKind, Terminator, Value};
use menai_bytecode::builtin_types::{result_type, Type};
use menai_bytecode::Builtin;
use menai_compiler::ir::Const;
use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

pub const DOC: &str = "merge straight-line blocks, turn branches producing #t/#f into the \
     condition, thread jumps through empty blocks, drop unreachable blocks";

/// Whether `v` is a boolean whenever it exists.
fn known_boolean(f: &Function, defs: &HashMap<Value, crate::cfg::Inst>, v: Value) -> bool {
    match defs.get(&v).map(|&i| &f.inst(i).kind) {
        Some(InstKind::Const(Const::Bool(_))) => true,
        Some(InstKind::Prim { op, .. }) => result_type(*op) == Some(Type::Boolean),
        _ => false,
    }
}

/// An arm of a boolean branch: a block holding only constants.
fn const_arm(f: &Function, b: Block) -> Option<(HashSet<Value>, Terminator)> {
    let data = f.block(b);
    if !data.params.is_empty() {
        return None;
    }
    let mut defined = HashSet::default();
    for &i in &data.insts {
        let d = f.inst(i);
        if !matches!(d.kind, InstKind::Const(_)) {
            return None;
        }
        defined.insert(d.result);
    }
    match &data.term {
        Terminator::Return(_) | Terminator::Jump { .. } => Some((defined, data.term.clone())),
        _ => None,
    }
}

/// What to pass where the arms pass `a` (then) and `b` (else).
enum Merged {
    Same(Value),
    Cond,
    NotCond,
    Const(Const),
}

fn merge_pair(
    f: &Function,
    defs: &HashMap<Value, crate::cfg::Inst>,
    arm_defs: &HashSet<Value>,
    a: Value,
    b: Value,
) -> Option<Merged> {
    if a == b && !arm_defs.contains(&a) {
        return Some(Merged::Same(a));
    }
    let konst = |v: Value| match defs.get(&v).map(|&i| &f.inst(i).kind) {
        Some(InstKind::Const(c)) => Some(c.clone()),
        _ => None,
    };
    match (konst(a)?, konst(b)?) {
        (Const::Bool(true), Const::Bool(false)) => Some(Merged::Cond),
        (Const::Bool(false), Const::Bool(true)) => Some(Merged::NotCond),
        (x, y) if same_const(&x, &y) => Some(Merged::Const(x)),
        _ => None,
    }
}

/// Rewrites boolean branches (see the module doc); returns how many.
fn bool_branches(f: &mut Function) -> usize {
    let mut count = 0;
    // Rewrites only add instructions nothing reads yet: one map serves all.
    let defs = f.defining_insts();
    for p in f.blocks() {
        let Terminator::Branch {
            cond,
            then_dest,
            else_dest,
            ..
        } = f.block(p).term.clone()
        else {
            continue;
        };
        if then_dest == else_dest || then_dest == p || else_dest == p {
            continue;
        }
        if !known_boolean(f, &defs, cond) {
            continue;
        }
        let (Some((tdefs, tterm)), Some((edefs, eterm))) =
            (const_arm(f, then_dest), const_arm(f, else_dest))
        else {
            continue;
        };
        let arm_defs: HashSet<Value> = tdefs.union(&edefs).copied().collect();
        let (pairs, jump_dest) = match (&tterm, &eterm) {
            (Terminator::Return(a), Terminator::Return(b)) => (vec![(*a, *b)], None),
            (Terminator::Jump { dest: d1, args: a1 }, Terminator::Jump { dest: d2, args: a2 })
                if d1 == d2 && a1.len() == a2.len() =>
            {
                (
                    a1.iter().copied().zip(a2.iter().copied()).collect(),
                    Some(*d1),
                )
            }
            _ => continue,
        };
        let merged: Option<Vec<Merged>> = pairs
            .iter()
            .map(|&(a, b)| merge_pair(f, &defs, &arm_defs, a, b))
            .collect();
        let Some(merged) = merged else { continue };
        if !merged
            .iter()
            .any(|m| matches!(m, Merged::Cond | Merged::NotCond))
        {
            continue;
        }
        let span = f.block(p).term_span;
        let mut not_cond = None;
        let mut vals = Vec::with_capacity(merged.len());
        for m in merged {
            vals.push(match m {
                Merged::Same(v) => v,
                Merged::Cond => cond,
                Merged::NotCond => *not_cond.get_or_insert_with(|| {
                    f.push_inst(
                        p,
                        InstKind::Prim {
                            op: Builtin::BooleanNot,
                            args: vec![cond],
                        },
                        span,
                    )
                }),
                Merged::Const(c) => f.push_inst(p, InstKind::Const(c), span),
            });
        }
        let term = match jump_dest {
            None => Terminator::Return(vals[0]),
            Some(dest) => Terminator::Jump { dest, args: vals },
        };
        f.set_term(p, term, span);
        count += 1;
    }
    count
}

/// If `b` is an empty block that only jumps on, and its parameters are
/// used nowhere but in that jump, its jump.
fn empty_jump(f: &Function, uses: &[u32], b: Block) -> Option<(Block, Vec<Value>)> {
    let data = f.block(b);
    if b == f.entry || !data.insts.is_empty() {
        return None;
    }
    let Terminator::Jump { dest, args } = &data.term else {
        return None;
    };
    if *dest == b {
        return None;
    }
    if !data.params.is_empty() {
        for p in &data.params {
            let here = args.iter().filter(|a| *a == p).count() as u32;
            if uses.get(p.0 as usize).copied().unwrap_or(0) != here {
                return None;
            }
        }
    }
    Some((*dest, args.clone()))
}

/// Whether following empty jumps from `b` comes back to `b`.
fn empty_cycle(f: &Function, uses: &[u32], b: Block) -> bool {
    let mut seen = HashSet::default();
    let mut cur = b;
    while let Some((next, _)) = empty_jump(f, uses, cur) {
        if next == b {
            return true;
        }
        if !seen.insert(next) {
            return false;
        }
        cur = next;
    }
    false
}

/// Threads jumps and branch edges through empty blocks; returns how many.
fn thread_jumps(f: &mut Function) -> usize {
    let mut count = 0;
    // Kept exact as jumps are rewritten (threading moves uses of empty
    // blocks' parameters), without recounting the whole function.
    let mut uses = f.use_counts();
    for p in f.blocks() {
        let term = f.block(p).term.clone();
        let span = f.block(p).term_span;
        match term {
            Terminator::Jump { dest, args } => {
                let Some((d, bargs)) = empty_jump(f, &uses, dest) else {
                    continue;
                };
                if empty_cycle(f, &uses, dest) {
                    continue;
                }
                let params = f.block(dest).params.clone();
                let map: HashMap<Value, Value> = params.into_iter().zip(args).collect();
                let args: Vec<Value> = bargs
                    .iter()
                    .map(|v| map.get(v).copied().unwrap_or(*v))
                    .collect();
                for v in map.values() {
                    if let Some(c) = uses.get_mut(v.0 as usize) {
                        *c = c.saturating_sub(1);
                    }
                }
                for v in &args {
                    if let Some(c) = uses.get_mut(v.0 as usize) {
                        *c += 1;
                    }
                }
                f.set_term(p, Terminator::Jump { dest: d, args }, span);
                count += 1;
            }
            Terminator::Branch {
                cond,
                then_dest,
                else_dest,
                origin,
            } => {
                let target = |f: &Function, b: Block| match empty_jump(f, &uses, b) {
                    Some((d, a)) if a.is_empty() && f.block(d).params.is_empty() => {
                        if empty_cycle(f, &uses, b) {
                            b
                        } else {
                            d
                        }
                    }
                    _ => b,
                };
                let (t, e) = (target(f, then_dest), target(f, else_dest));
                if (t, e) == (then_dest, else_dest) || t == e {
                    continue;
                }
                let term = Terminator::Branch {
                    cond,
                    then_dest: t,
                    else_dest: e,
                    origin,
                };
                f.set_term(p, term, span);
                count += 1;
            }
            _ => {}
        }
    }
    count
}

/// Branch threading: a jump to a block that has no instructions, one
/// parameter and only branches on it (`b(p): branch p, t, e`), passing a
/// boolean constant, goes straight to `t` or `e` (which take no
/// parameters). Sound because the branch would take that edge (the value
/// is a boolean, so its check cannot fail), and the parameter is used by
/// nothing else, so nothing past the branch misses it. The `or`/`and`
/// chains of the front end produce exactly this: `#t` into a join block
/// that tests it again.
fn thread_known_branches(f: &mut Function) -> usize {
    let defs = f.defining_insts();
    let known_bool = |f: &Function, v: Value| match defs.get(&v).map(|&i| &f.inst(i).kind) {
        Some(InstKind::Const(Const::Bool(b))) => Some(*b),
        _ => None,
    };
    let uses = f.use_counts();
    let mut count = 0;
    for b in f.blocks() {
        let Terminator::Jump { dest, args } = f.block(b).term.clone() else {
            continue;
        };
        let target = f.block(dest);
        let Terminator::Branch {
            cond,
            then_dest,
            else_dest,
            ..
        } = target.term
        else {
            continue;
        };
        let threadable = dest != f.entry
            && target.insts.is_empty()
            && target.params == [cond]
            && uses.get(cond.0 as usize) == Some(&1)
            && args.len() == 1;
        if !threadable {
            continue;
        }
        let Some(value) = known_bool(f, args[0]) else {
            continue;
        };
        let next = if value { then_dest } else { else_dest };
        if !f.block(next).params.is_empty() {
            continue;
        }
        let span = f.block(b).term_span;
        f.set_term(
            b,
            Terminator::Jump {
                dest: next,
                args: vec![],
            },
            span,
        );
        count += 1;
    }
    count
}

pub fn run(f: &mut Function) -> Changed {
    let mut count = f.remove_unreachable_blocks();
    let rewritten = bool_branches(f) + thread_jumps(f) + thread_known_branches(f);
    if rewritten > 0 {
        f.remove_unreachable_blocks();
    }
    count += rewritten;
    // Merge chains: each block absorbs its single-predecessor successor
    // as long as it has one, so one sweep merges every chain. The merged
    // blocks' parameters are replaced by their jumps' arguments once, at
    // the end (merge decisions never look at value identities).
    let mut map: HashMap<Value, Value> = HashMap::default();
    for a in f.blocks() {
        while f.contains(a) {
            let Terminator::Jump { dest, args } = f.block(a).term.clone() else {
                break;
            };
            if dest == a || dest == f.entry || !f.contains(dest) || f.preds(dest).len() != 1 {
                break;
            }
            let data = f.block(dest).clone();
            map.extend(data.params.iter().copied().zip(args.iter().copied()));
            f.block_mut(a).insts.extend(data.insts.iter().copied());
            f.set_term(a, data.term.clone(), data.term_span);
            f.graph.remove_node(dest.0);
            count += 1;
        }
    }
    f.replace_uses(&map);
    Changed(count)
}

// Tests: `optimizer/tests/filetests/simplify_cfg_*.cfg` (CFG text in, the
// pass's output as a reviewed snapshot).
