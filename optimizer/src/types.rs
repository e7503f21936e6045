//! Forward type analysis over one function's SSA CFG, and the choice of
//! the typed instructions whose operand types are proven (they get the
//! bytecode's TYPES_PROVEN flag, so the VM may skip their tag checks).
//!
//! **Lattice** ([`Ty`]): `Top` (no information yet: optimistic) above the
//! proven types of `menai_bytecode::val_type::ValType` (integer,
//! float, boolean, list), above `Unknown`. Meet of two different types is
//! `Unknown`. Other passes (SCCP) may reuse [`Ty`] and [`analyse`].
//!
//! **Value types.** Constants have their type; a primitive with a fixed
//! result type (the validator's `builtin_result_type`: `integer+`,
//! comparisons and predicates, list builders…) has it; a copy has its
//! source's type; a block parameter is the meet of the arguments every
//! incoming jump passes (the entry's parameters are `Unknown`, except a rest
//! parameter, which is a list); everything else (calls, captures, `first`…)
//! is `Unknown`. Iterated to a fixed point in reverse postorder.
//!
//! **Checks.** A typed primitive that completed has checked its operands:
//! after `(integer+ v w)`, `v` and `w` are integers at every point that the
//! check dominates (SSA values never change). Likewise, in the `then`
//! block of a branch on `(integer? x)` (and `float?`, `boolean?`, `list?`)
//! entered only from that branch, and the blocks it dominates, `x` is an
//! integer. [`TypeInfo::proven`] combines these facts.
//!
//! **Soundness.** A value's type holds on every execution (each rule is a
//! property of the operation's result when it returns); a check fact holds
//! because every path to a dominated point went through the check. The
//! bytecode validator re-proves every flag independently on registers (T1);
//! `emit` also drops any flag its analysis cannot prove, so an imprecision
//! of either side costs speed, never validity.

use crate::cfg::{Block, DomOrder, Function, Inst, InstKind, Terminator, Value};
use crate::emit::typed_op;
use menai_bytecode::val_type::ValType;
use menai_bytecode::validate::types::{builtin_result_type, op_operand_type, predicate_type};
use menai_bytecode::Builtin;
use menai_compiler::ir::Const;
use rustc_hash::FxHashMap as HashMap;

/// The abstract type of an SSA value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ty {
    /// No information yet (optimistic start; also unreachable values).
    Top,
    Is(ValType),
    Unknown,
}

impl Ty {
    /// The lattice meet (join of control-flow paths).
    pub fn meet(self, other: Ty) -> Ty {
        match (self, other) {
            (Ty::Top, x) | (x, Ty::Top) => x,
            (x, y) if x == y => x,
            _ => Ty::Unknown,
        }
    }

    fn of(t: Option<ValType>) -> Ty {
        t.map_or(Ty::Unknown, Ty::Is)
    }
}

/// The type of a constant.
pub fn const_type(c: &Const) -> Ty {
    Ty::of(match c {
        Const::Int(_) | Const::BigInt(_) => Some(ValType::Int),
        Const::Float(_) => Some(ValType::Float),
        Const::Bool(_) => Some(ValType::Bool),
        Const::EmptyList | Const::List(_) => Some(ValType::List),
        _ => None,
    })
}

/// The type an instruction's result has, given its operands' types.
pub fn inst_type(kind: &InstKind, ty: impl Fn(Value) -> Ty) -> Ty {
    match kind {
        InstKind::Copy(v) => ty(*v),
        InstKind::Const(c) => const_type(c),
        InstKind::Prim { op, .. } => Ty::of(builtin_result_type(*op)),
        _ => Ty::Unknown,
    }
}

/// The type a primitive checks its operands against, when it compiles to a
/// typed opcode that can carry TYPES_PROVEN.
pub fn checked_operand_type(op: Builtin) -> Option<ValType> {
    typed_op(op).and_then(op_operand_type)
}

/// The result of [`analyse`].
pub struct TypeInfo {
    /// Type of each value (indexed by `Value.0`).
    pub types: Vec<Ty>,
    /// Checks of each value: (block, position in the block, checked type);
    /// the fact holds after that instruction.
    /// (`None`: from the start of the block, for a type predicate's true edge.)
    checks: HashMap<Value, Vec<(Block, Option<usize>, ValType)>>,
    doms: DomOrder,
}

impl TypeInfo {
    /// The type of `v`.
    pub fn ty(&self, v: Value) -> Ty {
        self.types.get(v.0 as usize).copied().unwrap_or(Ty::Unknown)
    }

    /// Whether `v` is proven to have type `t` just before the instruction
    /// at position `pos` of block `b`.
    pub fn proven(&self, v: Value, t: ValType, b: Block, pos: usize) -> bool {
        if self.ty(v) == Ty::Is(t) {
            return true;
        }
        let Some(checks) = self.checks.get(&v) else {
            return false;
        };
        checks.iter().any(|&(cb, cpos, ct)| {
            ct == t
                && if cb == b {
                    cpos.is_none_or(|c| c < pos)
                } else {
                    self.doms.dominates(cb, b)
                }
        })
    }
}

/// Runs the analysis on `f`.
pub fn analyse(f: &Function) -> TypeInfo {
    let rpo = f.reverse_postorder();
    let mut types = vec![Ty::Top; f.num_values as usize];
    let set = |types: &mut Vec<Ty>, v: Value, t: Ty| -> bool {
        match types.get_mut(v.0 as usize) {
            Some(slot) if *slot != t => {
                *slot = t;
                true
            }
            _ => false,
        }
    };
    let entry = f.block(f.entry);
    let nparams = f.param_names.len();
    for (i, &p) in entry.params.iter().enumerate() {
        let t = if i == nparams && f.rest_name.is_some() {
            Ty::Is(ValType::List)
        } else {
            Ty::Unknown
        };
        set(&mut types, p, t);
    }
    // Block parameters: meet of incoming jump arguments, recomputed until
    // nothing changes (types only go down the lattice: terminates).
    let mut changed = true;
    let mut rounds = 0;
    while changed && rounds < 100 {
        changed = false;
        rounds += 1;
        let mut incoming: HashMap<Value, Ty> = HashMap::default();
        for &b in &rpo {
            let data = f.block(b);
            for &i in &data.insts {
                let inst = f.inst(i);
                let t = inst_type(&inst.kind, |v| {
                    types.get(v.0 as usize).copied().unwrap_or(Ty::Unknown)
                });
                changed |= set(&mut types, inst.result, t);
            }
            if let Terminator::Jump { dest, args } = &data.term {
                if f.contains(*dest) {
                    for (p, a) in f.block(*dest).params.iter().zip(args) {
                        let t = types.get(a.0 as usize).copied().unwrap_or(Ty::Unknown);
                        let e = incoming.entry(*p).or_insert(Ty::Top);
                        *e = e.meet(t);
                    }
                }
            }
        }
        for (p, t) in incoming {
            if f.block(f.entry).params.contains(&p) {
                // The entry is also entered by the call itself.
                let cur = types.get(p.0 as usize).copied().unwrap_or(Ty::Unknown);
                changed |= set(&mut types, p, cur.meet(t));
            } else {
                changed |= set(&mut types, p, t);
            }
        }
    }
    if changed {
        // No fixed point within the cap (cannot happen: the lattice has
        // height 3): give up soundly.
        types.iter_mut().for_each(|t| *t = Ty::Unknown);
    }
    let mut checks: HashMap<Value, Vec<(Block, Option<usize>, ValType)>> = HashMap::default();
    let defs = f.defining_insts();
    for &b in &rpo {
        for (pos, &i) in f.block(b).insts.iter().enumerate() {
            if let InstKind::Prim { op, args } = &f.inst(i).kind {
                if let Some(t) = checked_operand_type(*op) {
                    for &a in args.iter().take(2) {
                        checks.entry(a).or_default().push((b, Some(pos), t));
                    }
                }
            }
        }
        // `(if (integer? x) A B)`: x is an integer in A when A is entered
        // only from this branch.
        if let Terminator::Branch {
            cond,
            then_dest,
            else_dest,
            ..
        } = &f.block(b).term
        {
            let pred = defs.get(cond).and_then(|&i| match &f.inst(i).kind {
                InstKind::Prim { op, args } if args.len() == 1 => {
                    predicate_type(*op).map(|t| (args[0], t))
                }
                _ => None,
            });
            if let Some((x, t)) = pred {
                if then_dest != else_dest && f.preds(*then_dest) == [b] {
                    checks.entry(x).or_default().push((*then_dest, None, t));
                }
            }
        }
    }
    TypeInfo {
        types,
        checks,
        doms: DomOrder::new(f, &rpo),
    }
}

/// The instructions of `f` that are typed primitives whose operands are
/// all proven of the type they check.
pub fn proven_insts(f: &Function, info: &TypeInfo) -> Vec<Inst> {
    let mut out = Vec::new();
    for b in f.reverse_postorder() {
        for (pos, &i) in f.block(b).insts.iter().enumerate() {
            if let InstKind::Prim { op, args } = &f.inst(i).kind {
                if let Some(t) = checked_operand_type(*op) {
                    if !args.is_empty() && args.iter().all(|&a| info.proven(a, t, b, pos)) {
                        out.push(i);
                    }
                }
            }
        }
    }
    out
}
