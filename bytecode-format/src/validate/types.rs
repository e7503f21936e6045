//! The type-proof part of the validator (invariant T1 of the parent
//! module): a forward dataflow over the registers of one function with a
//! small type lattice, proving the operand types of every instruction that
//! carries the TYPES_PROVEN flag (bit 7 of `Instr::flags`).
//!
//! Lattice per register: top (not reached yet) above the four proven
//! types [`ValType`], above `Unknown`; the join of two paths is their meet
//! (equal types stay, different ones become `Unknown`). Transfer:
//! - an opcode with a result type in the opcode table ([`op_result_type`])
//!   gives its result that type: `loadint` → integer, `loadbool` → boolean,
//!   `loadnil`/`prepend`/`makelist` → list, a typed opcode → its result
//!   type; `loadk` of an integer, float, boolean or list constant
//!   ([`constant_type`]) and `callb` of a builtin with a known result type
//!   ([`builtin_result_type`]) likewise; `move` copies the source's type;
//! - once a checking instruction completes, the registers it checked hold
//!   the checked type (`addi R2 R0 R1` proves R0 and R1 integers after it,
//!   `jmpt`/`jmpf` prove their condition boolean);
//! - on the edge where a type predicate held (`callb Rc integer? Rx`
//!   right before `jmpt`/`jmpf Rc`, `Rc != Rx`), `Rx` has that type;
//! - every other write, and every register a `call` clobbers, is `Unknown`
//!   (an opcode whose frame effects the opcode table marks `Opaque`, see
//!   `Op::frame_effects_known`, makes every register `Unknown`);
//!   arguments are `Unknown` on entry, except a rest parameter (a list).
//!
//! "Integer" means the language's integer type (a small or a big integer):
//! the VM still distinguishes the two representations; what is proven is
//! only that the tag check of the typed opcode cannot fail.

use super::{Cfg, Fail, Reason};
use crate::builtin_types;
use crate::builtins::Builtin;
use crate::effects::register_effects;
use crate::module::{Constant, Function, Module};
use crate::opcodes::{Instr, Op, Operand};
use crate::val_type::ValType;

/// The type a typed opcode requires of every register it reads (`None`:
/// the opcode cannot carry TYPES_PROVEN); the opcode table's
/// [`Op::operand_type`].
pub fn op_operand_type(op: Op) -> Option<ValType> {
    op.operand_type()
}

/// The type of the result of an opcode that completed, when the opcode
/// alone fixes it (typed opcodes, `loadint`, `loadbool`, `loadnil`,
/// `prepend`, `makelist`); the opcode table's [`Op::result_type`].
pub fn op_result_type(op: Op) -> Option<ValType> {
    op.result_type()
}

/// The type of a builtin's result whenever it returns, when it is one of
/// [`ValType`] (from the one builtin type table, `builtin_types`).
pub fn builtin_result_type(b: Builtin) -> Option<ValType> {
    builtin_types::result_type(b).and_then(ValType::of)
}

/// The type a type predicate tests for (`integer?` → integer…), when it is
/// one of [`ValType`].
pub fn predicate_type(b: Builtin) -> Option<ValType> {
    builtin_types::predicate_type(b).and_then(ValType::of)
}

/// For a block `[start, end)` ending in `callb Rc <type predicate> Rx;
/// jmpt/jmpf Rc T` (`Rc != Rx`): the successor pc reached when the predicate
/// holds, `x` and its type.
///
/// Both instructions must lie in the block. A jump that is itself a jump
/// target starts its own block, and control can reach it without running
/// the test before it in the code, so that test proves nothing there (the
/// soundness rule at the top of the validator: a fact used to skip a check
/// must hold on every path into the instruction).
fn predicate_edge(code: &[Instr], start: usize, end: usize) -> Option<(usize, u16, ValType)> {
    let test_pc = end.checked_sub(2)?;
    if test_pc < start {
        return None;
    }
    let jump = *code.get(end - 1)?;
    let test = *code.get(test_pc)?;
    if test.op != Op::CallBuiltin || test.a != jump.a || test.a == test.c {
        return None;
    }
    let t = predicate_type(Builtin::from_code(test.b)?)?;
    let target = jump.bx() as usize;
    let true_pc = match jump.op {
        Op::JmpTrue => target,
        Op::JmpFalse => end,
        _ => return None,
    };
    // Both edges to one block: nothing is known on entry to it.
    (target != end).then_some((true_pc, test.c, t))
}

/// The type of a constant-pool entry, when it is one of [`ValType`].
pub fn constant_type(k: &Constant) -> Option<ValType> {
    match k {
        Constant::Int(_) | Constant::BigInt(_) => Some(ValType::Int),
        Constant::Float(_) => Some(ValType::Float),
        Constant::Bool(_) => Some(ValType::Bool),
        Constant::EmptyList | Constant::List(_) => Some(ValType::List),
        _ => None,
    }
}

/// One register's abstract value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
/// (A block's state not reached yet, the top of the lattice, is an empty vector.)
enum Ty {
    Is(ValType),
    Unknown,
}

impl Ty {
    fn meet(self, other: Ty) -> Ty {
        match (self, other) {
            (x, y) if x == y => x,
            _ => Ty::Unknown,
        }
    }
    fn of(t: Option<ValType>) -> Ty {
        t.map_or(Ty::Unknown, Ty::Is)
    }
}

/// The registers whose type `ins` checks (and hence proves once it
/// completes), with the type: the operands (`RegR` fields) of typed opcodes
/// and the condition of a conditional jump.
fn checked(ins: Instr) -> Option<([u16; 2], usize, ValType)> {
    if matches!(ins.op, Op::JmpTrue | Op::JmpFalse) {
        return Some(([ins.a, 0], 1, ValType::Bool));
    }
    let t = ins.op.operand_type()?;
    let mut regs = [0u16; 2];
    let mut n = 0;
    for (shape, r) in ins.op.operands().iter().zip([ins.a, ins.b, ins.c]) {
        if *shape == Operand::RegR {
            if let Some(slot) = regs.get_mut(n) {
                *slot = r;
                n += 1;
            }
        }
    }
    Some((regs, n, t))
}

fn transfer(m: &Module, f: &Function, state: &mut [Ty], ins: Instr) {
    let e = register_effects(m, f, ins);
    let value = match ins.op {
        Op::Move => state.get(ins.b as usize).copied().unwrap_or(Ty::Unknown),
        Op::LoadK => Ty::of(f.constants.get(ins.b as usize).and_then(constant_type)),
        Op::CallBuiltin => Ty::of(Builtin::from_code(ins.b).and_then(builtin_result_type)),
        op => Ty::of(op.result_type()),
    };
    if let Some((regs, n, t)) = checked(ins) {
        for &r in regs.iter().take(n) {
            if let Some(s) = state.get_mut(r as usize) {
                *s = Ty::Is(t);
            }
        }
    }
    if let Some(c) = e.clobber_from {
        for s in state.iter_mut().skip(c as usize) {
            *s = Ty::Unknown;
        }
    }
    if !ins.op.frame_effects_known() {
        // An opcode this analysis does not know (`Opaque` in the opcode
        // table, e.g. a new kind of call): assume it may clobber any register.
        state.iter_mut().for_each(|s| *s = Ty::Unknown);
    }
    if let Some(w) = e.write {
        if let Some(s) = state.get_mut(w as usize) {
            *s = value;
        }
    }
}

/// Checks `ins`'s operand types in `state` (called only for flagged
/// instructions).
fn prove(state: &[Ty], ins: Instr) -> Result<(), Reason> {
    let Some((regs, n, t)) = checked(ins).filter(|_| ins.op.has_type_proof()) else {
        return Err(Reason::TypesProvenOnUntyped);
    };
    for &r in regs.iter().take(n) {
        match state.get(r as usize).copied().unwrap_or(Ty::Unknown) {
            Ty::Is(found) if found == t => {}
            other => {
                return Err(Reason::TypesNotProven {
                    register: r as u32,
                    expected: t.name(),
                    found: match other {
                        Ty::Is(found) => found.name(),
                        _ => "unknown",
                    },
                })
            }
        }
    }
    Ok(())
}

/// Runs the analysis; calls `visit(pc, state before pc)` for every
/// reachable instruction in reverse postorder of blocks. The memory bound
/// (`blocks × registers` bytes) is checked by the caller.
fn analyse(
    m: &Module,
    f: &Function,
    cfg: &Cfg,
    mut visit: impl FnMut(usize, &[Ty], Instr) -> Result<(), Fail>,
) -> Result<(), Fail> {
    let nb = cfg.blocks.len();
    let n = f.num_registers as usize;
    let mut ins_state: Vec<Vec<Ty>> = vec![Vec::new(); nb];
    if let Some(s) = ins_state.get_mut(0) {
        *s = vec![Ty::Unknown; n];
        if f.rest.is_some() {
            // The VM builds the rest parameter's list (calling convention).
            if let Some(r) = s.get_mut(f.params.len()) {
                *r = Ty::Is(ValType::List);
            }
        }
    }
    let mut queued = vec![false; nb];
    let mut work: Vec<usize> = cfg.rpo.iter().rev().copied().collect();
    for &b in &work {
        queued[b] = true;
    }
    while let Some(b) = work.pop() {
        queued[b] = false;
        if ins_state[b].is_empty() {
            continue; // not reached yet
        }
        let mut state = ins_state[b].clone();
        let (start, end) = cfg.blocks[b];
        for &ins in &f.code[start..end] {
            transfer(m, f, &mut state, ins);
        }
        let refine = predicate_edge(&f.code, start, end);
        for &s in &cfg.succs[b] {
            let mut state = state.clone();
            if let Some((true_pc, x, t)) = refine {
                if cfg.blocks[s].0 == true_pc {
                    if let Some(r) = state.get_mut(x as usize) {
                        *r = Ty::Is(t);
                    }
                }
            }
            let target = &mut ins_state[s];
            let changed = if target.is_empty() {
                *target = state;
                true
            } else {
                let mut changed = false;
                for (a, &o) in target.iter_mut().zip(&state) {
                    let new = a.meet(o);
                    changed |= new != *a;
                    *a = new;
                }
                changed
            };
            if changed && !queued[s] {
                queued[s] = true;
                work.push(s);
            }
        }
    }
    for &b in &cfg.rpo {
        if ins_state[b].is_empty() {
            continue;
        }
        let mut state = ins_state[b].clone();
        let (start, end) = cfg.blocks[b];
        for pc in start..end {
            let ins = f.code[pc];
            visit(pc, &state, ins)?;
            transfer(m, f, &mut state, ins);
        }
    }
    Ok(())
}

/// T1: every reachable instruction flagged TYPES_PROVEN has its operand
/// types proven on every path.
pub(super) fn check_types_proven(m: &Module, f: &Function, cfg: &Cfg) -> Result<(), Fail> {
    analyse(m, f, cfg, |pc, state, ins| {
        if ins.types_proven() {
            prove(state, ins).map_err(|r| super::at(pc, r))
        } else {
            Ok(())
        }
    })
}

/// For each instruction of `f`: whether it is a typed opcode whose operand
/// types this analysis proves (so setting TYPES_PROVEN on it validates).
/// `f` must belong to `m`, and `m` should be otherwise valid; an error is
/// returned for a function the validator would refuse as too large.
pub fn provable(m: &Module, f: &Function) -> Result<Vec<bool>, super::ValidationError> {
    let err = |(pc, reason): Fail| super::ValidationError {
        function: None,
        name: f.name.clone(),
        pc,
        reason,
    };
    let cfg = super::build_cfg(f).map_err(err)?;
    super::check_budget(f, &cfg, 1).map_err(err)?;
    let mut out = vec![false; f.code.len()];
    analyse(m, f, &cfg, |pc, state, ins| {
        if ins.op.has_type_proof() && prove(state, ins).is_ok() {
            out[pc] = true;
        }
        Ok(())
    })
    .map_err(err)?;
    Ok(out)
}
