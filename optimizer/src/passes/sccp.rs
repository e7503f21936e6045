//! Sparse conditional constant propagation (Wegman–Zadeck) with known types.
//!
//! Every SSA value gets a lattice element: `Top` (no evidence yet: its
//! definition has not been reached), a constant, a known type (one of
//! LANGUAGE.md §3's types, value unknown), or `Bottom` (anything). The
//! analysis starts with only the entry block executable and propagates
//! along executable CFG edges: a branch whose condition is a known boolean
//! makes only one of its edges executable, and a block parameter is the
//! meet of the arguments passed on the executable edges into its block.
//! Two worklists drive it: newly executable blocks, and values whose
//! element dropped (their uses are re-evaluated).
//!
//! Types come from constants, from the result type of each primitive (a
//! primitive that returns at all returns its documented type: `integer+`
//! an integer, `list-rest` a list, comparisons a boolean…), from closures
//! (functions) and struct construction, and from dominating branches on
//! type predicates: in a block dominated by the `then` edge of
//! `branch (string? x)` the value `x` is a string, and in one dominated by
//! the `else` edge it is not (an edge contributes a fact only when its
//! target has no other predecessor, so the fact holds on every path); and
//! from checked operands: in blocks strictly dominated by the block of
//! `(integer+ x y)` (or `(list-rest l)`…), `x` and `y` are integers (`l` a
//! list), since the operation returned.
//!
//! Rewrites: a value known to be a constant is replaced by that constant
//! (an instruction is turned into `const`, a block parameter's uses read a
//! `const` placed at the start of its block); a branch on a known boolean
//! becomes a jump; a branch on `(boolean-not p)` with `p` a known boolean
//! branches on `p` with its edges swapped; blocks that were never
//! executable are removed.
//!
//! Soundness: a primitive is folded only by [`fold`], which returns a
//! result exactly when the operation cannot fail and the result is certain
//! (LANGUAGE.md §11): division by zero, type errors, integer results
//! outside `i64` and anything not modelled are left to run. Type
//! predicates never fail, so deciding them from a known type removes no
//! error. A value's type is only relied on where the value exists, i.e.
//! after its defining operation succeeded. Branches on non-boolean or
//! unknown conditions keep both edges, so their run-time error stays.

use super::Changed;
use crate::cfg::{Block, DomOrder, Function, Inst, InstData, InstKind, Terminator, Value};
use menai_bytecode::builtin_types::{checked_operands, predicate_type, result_type, Type};
use menai_bytecode::Builtin;
use menai_compiler::ir::Const;
use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};
use std::cmp::Reverse;
use std::collections::BinaryHeap;

pub const DOC: &str = "sparse conditional constant propagation with known types: fold \
     primitives that cannot fail, decide type predicates, prune branches on known booleans";

/// The type of a constant.
pub fn const_type(c: &Const) -> Type {
    match c {
        Const::None => Type::None,
        Const::Bool(_) => Type::Boolean,
        Const::Int(_) | Const::BigInt(_) => Type::Integer,
        Const::Float(_) => Type::Float,
        Const::Complex(..) => Type::Complex,
        Const::Str(_) => Type::String,
        Const::Symbol(_) => Type::Symbol,
        Const::EmptyList | Const::List(_) => Type::List,
        Const::StructType(_) => Type::StructType,
    }
}

/// Identity of constants, floats compared by bits (`0.0` and `-0.0` differ,
/// a NaN equals itself).
pub fn same_const(a: &Const, b: &Const) -> bool {
    match (a, b) {
        (Const::Float(x), Const::Float(y)) => x.to_bits() == y.to_bits(),
        (Const::Complex(a, b), Const::Complex(c, d)) => {
            a.to_bits() == c.to_bits() && b.to_bits() == d.to_bits()
        }
        (Const::List(xs), Const::List(ys)) => {
            xs.len() == ys.len() && xs.iter().zip(ys).all(|(x, y)| same_const(x, y))
        }
        _ => a == b,
    }
}

fn floor_div(a: i64, b: i64) -> Option<i64> {
    let q = a.checked_div(b)?;
    let r = a.checked_rem(b)?;
    Some(if r != 0 && ((r < 0) != (b < 0)) {
        q - 1
    } else {
        q
    })
}

fn floor_mod(a: i64, b: i64) -> Option<i64> {
    let r = a.checked_rem(b)?;
    Some(if r != 0 && ((r < 0) != (b < 0)) {
        r + b
    } else {
        r
    })
}

/// The longest string `fold` builds (bytes).
pub const MAX_FOLDED_STRING: usize = 4096;

/// The value of `op` applied to constants, when it is certain and no error
/// (anything else is `None` and left to run).
pub fn fold(op: Builtin, args: &[&Const]) -> Option<Const> {
    use Builtin as B;
    use Const as C;
    if let (Some(t), [c]) = (predicate_type(op), args) {
        return Some(C::Bool(const_type(c) == t));
    }
    Some(match (op, args) {
        (B::IntegerAdd, [C::Int(a), C::Int(b)]) => C::Int(a.checked_add(*b)?),
        (B::IntegerSub, [C::Int(a), C::Int(b)]) => C::Int(a.checked_sub(*b)?),
        (B::IntegerMul, [C::Int(a), C::Int(b)]) => C::Int(a.checked_mul(*b)?),
        (B::IntegerDiv, [C::Int(a), C::Int(b)]) if *b != 0 => C::Int(floor_div(*a, *b)?),
        (B::IntegerMod, [C::Int(a), C::Int(b)]) if *b != 0 => C::Int(floor_mod(*a, *b)?),
        (B::IntegerNeg, [C::Int(a)]) => C::Int(a.checked_neg()?),
        (B::IntegerAbs, [C::Int(a)]) => C::Int(a.checked_abs()?),
        (B::IntegerMin, [C::Int(a), C::Int(b)]) => C::Int(*a.min(b)),
        (B::IntegerMax, [C::Int(a), C::Int(b)]) => C::Int(*a.max(b)),
        (B::IntegerBitAnd, [C::Int(a), C::Int(b)]) => C::Int(a & b),
        (B::IntegerBitOr, [C::Int(a), C::Int(b)]) => C::Int(a | b),
        (B::IntegerBitXor, [C::Int(a), C::Int(b)]) => C::Int(a ^ b),
        (B::IntegerBitNot, [C::Int(a)]) => C::Int(!a),
        (B::IntegerLt, [C::Int(a), C::Int(b)]) => C::Bool(a < b),
        (B::IntegerLe, [C::Int(a), C::Int(b)]) => C::Bool(a <= b),
        (B::IntegerGt, [C::Int(a), C::Int(b)]) => C::Bool(a > b),
        (B::IntegerGe, [C::Int(a), C::Int(b)]) => C::Bool(a >= b),
        (B::IntegerEq, [C::Int(a), C::Int(b)]) => C::Bool(a == b),
        (B::IntegerNe, [C::Int(a), C::Int(b)]) => C::Bool(a != b),
        (B::IntegerToFloat, [C::Int(a)]) => C::Float(*a as f64),
        (B::FloatAdd, [C::Float(a), C::Float(b)]) => C::Float(a + b),
        (B::FloatSub, [C::Float(a), C::Float(b)]) => C::Float(a - b),
        (B::FloatMul, [C::Float(a), C::Float(b)]) => C::Float(a * b),
        (B::FloatDiv, [C::Float(a), C::Float(b)]) if *b != 0.0 => C::Float(a / b),
        (B::FloatNeg, [C::Float(a)]) => C::Float(-a),
        (B::FloatAbs, [C::Float(a)]) => C::Float(a.abs()),
        (B::FloatLt, [C::Float(a), C::Float(b)]) => C::Bool(a < b),
        (B::FloatLe, [C::Float(a), C::Float(b)]) => C::Bool(a <= b),
        (B::FloatGt, [C::Float(a), C::Float(b)]) => C::Bool(a > b),
        (B::FloatGe, [C::Float(a), C::Float(b)]) => C::Bool(a >= b),
        (B::FloatEq, [C::Float(a), C::Float(b)]) => C::Bool(a == b),
        (B::FloatNe, [C::Float(a), C::Float(b)]) => C::Bool(a != b),
        (B::BooleanNot, [C::Bool(a)]) => C::Bool(!a),
        (B::BooleanEq, [C::Bool(a), C::Bool(b)]) => C::Bool(a == b),
        (B::BooleanNe, [C::Bool(a), C::Bool(b)]) => C::Bool(a != b),
        (B::StringEq, [C::Str(a), C::Str(b)]) => C::Bool(a == b),
        (B::StringNe, [C::Str(a), C::Str(b)]) => C::Bool(a != b),
        // Rust orders UTF-8 strings by codepoint, as LANGUAGE.md §6 asks.
        (B::StringLt, [C::Str(a), C::Str(b)]) => C::Bool(a < b),
        (B::StringLe, [C::Str(a), C::Str(b)]) => C::Bool(a <= b),
        (B::StringGt, [C::Str(a), C::Str(b)]) => C::Bool(a > b),
        (B::StringGe, [C::Str(a), C::Str(b)]) => C::Bool(a >= b),
        // Bounded: a chain of thousands of concatenations would otherwise
        // build every prefix at compile time (quadratic time and memory);
        // past the bound the run builds the string in place.
        (B::StringConcat, [C::Str(a), C::Str(b)]) if a.len() + b.len() <= MAX_FOLDED_STRING => {
            C::Str(format!("{a}{b}"))
        }
        (B::StringLength, [C::Str(a)]) => C::Int(i64::try_from(a.chars().count()).ok()?),
        (B::SymbolEq, [C::Symbol(a), C::Symbol(b)]) => C::Bool(a == b),
        (B::SymbolNe, [C::Symbol(a), C::Symbol(b)]) => C::Bool(a != b),
        (B::ListNullP, [C::EmptyList]) => C::Bool(true),
        (B::ListNullP, [C::List(items)]) => C::Bool(items.is_empty()),
        (B::ListLength, [C::EmptyList]) => C::Int(0),
        (B::ListLength, [C::List(items)]) => C::Int(i64::try_from(items.len()).ok()?),
        _ => return None,
    })
}

/// A lattice element: `Top` above constants, above known types, above `Bottom`.
#[derive(Clone, Debug, PartialEq)]
pub enum Lat {
    Top,
    Const(Const),
    Typed(Type),
    Bottom,
}

impl Lat {
    fn ty(&self) -> Option<Type> {
        match self {
            Lat::Const(c) => Some(const_type(c)),
            Lat::Typed(t) => Some(*t),
            Lat::Top | Lat::Bottom => None,
        }
    }

    fn of_type(t: Option<Type>) -> Lat {
        t.map_or(Lat::Bottom, Lat::Typed)
    }

    /// The greatest lower bound.
    pub fn meet(&self, o: &Lat) -> Lat {
        match (self, o) {
            (Lat::Top, x) | (x, Lat::Top) => x.clone(),
            (Lat::Bottom, _) | (_, Lat::Bottom) => Lat::Bottom,
            (Lat::Const(a), Lat::Const(b)) if same_const(a, b) => self.clone(),
            _ => match (self.ty(), o.ty()) {
                (Some(a), Some(b)) if a == b => Lat::Typed(a),
                _ => Lat::Bottom,
            },
        }
    }

    /// Whether `self` is the same element as `o` (constants by identity).
    fn same(&self, o: &Lat) -> bool {
        match (self, o) {
            (Lat::Const(a), Lat::Const(b)) => same_const(a, b),
            _ => self == o,
        }
    }
}

/// A type fact about a value: it has (`holds`) or has not type `ty` in
/// block `at` and every block `at` dominates (`strict`: only those `at`
/// strictly dominates, for a check made by an instruction inside `at`).
#[derive(Clone, Copy, Debug)]
struct Fact {
    at: Block,
    strict: bool,
    ty: Type,
    holds: bool,
}

/// Type facts per value (indexed by value number), each list capped at
/// [`MAX_FACTS`] (a fact only adds precision, so dropping one is sound),
/// answered with O(1) dominance tests.
struct Facts {
    by_value: Vec<Vec<Fact>>,
    dom: DomOrder,
}

impl Facts {
    /// The first fact about `v` holding in block `b` that `want` accepts.
    fn find(&self, v: Value, b: Block, want: impl Fn(&Fact) -> bool) -> Option<Fact> {
        self.by_value
            .get(v.0 as usize)?
            .iter()
            .find(|fa| want(fa) && (!fa.strict || fa.at != b) && self.dom.dominates(fa.at, b))
            .copied()
    }

    /// Records `fa` about `v` unless a fact already known covers it.
    fn add(&mut self, v: Value, fa: Fact) {
        let same = |e: &Fact| e.ty == fa.ty && e.holds == fa.holds;
        let covered = self.find(v, fa.at, same).is_some()
            || self.by_value.get(v.0 as usize).is_some_and(|l| {
                l.iter()
                    .any(|e| same(e) && e.at == fa.at && e.strict <= fa.strict)
            });
        if let Some(l) = self.by_value.get_mut(v.0 as usize) {
            if !covered && l.len() < MAX_FACTS {
                l.push(fa);
            }
        }
    }
}

#[derive(Clone, Copy, Debug)]
enum Site {
    Inst(Block, Inst),
    Term(Block),
}

struct Sccp<'a> {
    f: &'a Function,
    lat: Vec<Lat>,
    /// Executable blocks, indexed by block number.
    exec_blocks: Vec<bool>,
    exec_edges: HashSet<(Block, Block)>,
    facts: Facts,
    /// (Indexed by value number, like `param_uses`.)
    uses: Vec<Vec<Site>>,
    /// Blocks whose parameters read each value through a jump.
    param_uses: Vec<Vec<Block>>,
    /// Blocks to visit, first in reverse postorder (both arms before their
    /// join: a join's parameters, and what reads them, are then evaluated
    /// once with all incoming edges known, not once per arm).
    block_work: BinaryHeap<Reverse<(u32, Block)>>,
    /// Each block's reverse-postorder number.
    rpo_index: Vec<u32>,
    value_work: Vec<Value>,
}

impl<'a> Sccp<'a> {
    fn new(f: &'a Function) -> Sccp<'a> {
        let nv = f.num_values as usize;
        let mut uses: Vec<Vec<Site>> = vec![Vec::new(); nv];
        let mut param_uses: Vec<Vec<Block>> = vec![Vec::new(); nv];
        for b in f.blocks() {
            let data = f.block(b);
            for &i in &data.insts {
                for v in f.inst(i).kind.uses() {
                    if let Some(u) = uses.get_mut(v.0 as usize) {
                        u.push(Site::Inst(b, i));
                    }
                }
            }
            for v in data.term.uses() {
                if let Some(u) = uses.get_mut(v.0 as usize) {
                    u.push(Site::Term(b));
                }
            }
            if let Terminator::Jump { dest, args } = &data.term {
                for &a in args {
                    if let Some(u) = param_uses.get_mut(a.0 as usize) {
                        u.push(*dest);
                    }
                }
            }
        }
        let rpo = f.reverse_postorder();
        let mut rpo_index = vec![u32::MAX; f.block_bound()];
        for (k, b) in rpo.iter().enumerate() {
            rpo_index[b.index()] = k as u32;
        }
        let facts = facts_of(f, &rpo);
        let mut s = Sccp {
            f,
            lat: vec![Lat::Top; f.num_values as usize],
            exec_blocks: vec![false; f.block_bound()],
            exec_edges: HashSet::default(),
            facts,
            uses,
            param_uses,
            block_work: BinaryHeap::new(),
            rpo_index,
            value_work: vec![],
        };
        // Parameters are anything, except a rest parameter: always a list.
        let params = &f.block(f.entry).params;
        for (k, &p) in params.iter().enumerate() {
            let rest = f.rest_name.is_some() && k + 1 == params.len();
            s.set(
                p,
                if rest {
                    Lat::Typed(Type::List)
                } else {
                    Lat::Bottom
                },
            );
        }
        s.exec_blocks[f.entry.index()] = true;
        s.schedule(f.entry);
        s
    }

    fn schedule(&mut self, b: Block) {
        let k = self.rpo_index.get(b.index()).copied().unwrap_or(u32::MAX);
        self.block_work.push(Reverse((k, b)));
    }

    fn executable(&self, b: Block) -> bool {
        self.exec_blocks.get(b.index()).copied().unwrap_or(false)
    }

    fn get(&self, v: Value) -> Lat {
        self.lat.get(v.0 as usize).cloned().unwrap_or(Lat::Bottom)
    }

    /// Lowers `v` to `new` (met with its current element, so it only
    /// descends), queueing its uses when it changed.
    fn set(&mut self, v: Value, new: Lat) {
        let Some(slot) = self.lat.get_mut(v.0 as usize) else {
            return;
        };
        let lowered = slot.meet(&new);
        if !lowered.same(slot) {
            *slot = lowered;
            self.value_work.push(v);
        }
    }

    /// `v`'s element as seen in block `b`, refined by `b`'s positive facts.
    fn get_in(&self, v: Value, b: Block) -> Lat {
        let l = self.get(v);
        if matches!(l, Lat::Bottom) {
            if let Some(fact) = self.fact(v, b, true) {
                return Lat::Typed(fact);
            }
        }
        l
    }

    fn fact(&self, v: Value, b: Block, holds: bool) -> Option<Type> {
        self.facts
            .find(v, b, |fa| fa.holds == holds)
            .map(|fa| fa.ty)
    }

    fn excluded(&self, v: Value, b: Block, t: Type) -> bool {
        self.facts
            .find(v, b, |fa| !fa.holds && fa.ty == t)
            .is_some()
    }

    fn run(&mut self) {
        loop {
            if let Some(Reverse((_, b))) = self.block_work.pop() {
                self.visit_block(b);
            } else if let Some(v) = self.value_work.pop() {
                let k = v.0 as usize;
                // Taken out while evaluating (evaluation never changes uses).
                let sites = self.uses.get_mut(k).map(std::mem::take).unwrap_or_default();
                for &site in &sites {
                    match site {
                        Site::Inst(b, i) if self.executable(b) => self.eval_inst(b, i),
                        Site::Term(b) if self.executable(b) => self.eval_term(b),
                        _ => {}
                    }
                }
                if let Some(slot) = self.uses.get_mut(k) {
                    *slot = sites;
                }
                let blocks = self
                    .param_uses
                    .get_mut(k)
                    .map(std::mem::take)
                    .unwrap_or_default();
                for &b in &blocks {
                    if self.executable(b) {
                        self.eval_params(b);
                    }
                }
                if let Some(slot) = self.param_uses.get_mut(k) {
                    *slot = blocks;
                }
            } else {
                break;
            }
        }
    }

    fn visit_block(&mut self, b: Block) {
        self.eval_params(b);
        for &i in &self.f.block(b).insts {
            self.eval_inst(b, i);
        }
        self.eval_term(b);
    }

    fn eval_params(&mut self, b: Block) {
        if b == self.f.entry {
            return;
        }
        let params = self.f.block(b).params.clone();
        for (k, &p) in params.iter().enumerate() {
            let mut acc = Lat::Top;
            for pred in self.f.preds(b) {
                if !self.exec_edges.contains(&(pred, b)) {
                    continue;
                }
                if let Terminator::Jump { dest, args } = &self.f.block(pred).term {
                    if *dest == b {
                        // The argument as the jumping block sees it (a
                        // type test dominating the jump refines it).
                        let a = args.get(k).map_or(Lat::Bottom, |&a| self.get_in(a, pred));
                        acc = acc.meet(&a);
                    }
                }
            }
            self.set(p, acc);
        }
    }

    fn eval_inst(&mut self, b: Block, i: Inst) {
        let InstData { kind, result, .. } = self.f.inst(i);
        // A primitive already at the lowest element it can produce stays
        // there: skip evaluating it again (re-reading every operand of a
        // wide `list` each time one operand changes was quadratic).
        if let InstKind::Prim { op, .. } = kind {
            if self.get(*result).same(&Lat::of_type(result_type(*op))) {
                return;
            }
        }
        let new = match kind {
            InstKind::Copy(v) => self.get_in(*v, b),
            InstKind::Const(c) => Lat::Const(c.clone()),
            InstKind::Closure { .. } | InstKind::Sibling(_) | InstKind::ClosureRef { .. } => {
                Lat::Typed(Type::Function)
            }
            InstKind::MakeStruct { .. } => Lat::Typed(Type::Struct),
            InstKind::Prim { op, args } => self.eval_prim(b, *op, args),
            InstKind::Builtin(_)
            | InstKind::GetCap(_)
            | InstKind::Call { .. }
            | InstKind::Apply { .. } => Lat::Bottom,
        };
        self.set(*result, new);
    }

    fn eval_prim(&self, b: Block, op: Builtin, args: &[Value]) -> Lat {
        // Refined types only matter to type predicates (folding needs constants).
        let pred = predicate_type(op);
        let lats: Vec<Lat> = args
            .iter()
            .map(|&a| match pred {
                Some(_) => self.get_in(a, b),
                None => self.get(a),
            })
            .collect();
        if lats.iter().any(|l| matches!(l, Lat::Top)) {
            return Lat::Top;
        }
        if let (Some(t), [l], [a]) = (pred, lats.as_slice(), args) {
            return match l.ty() {
                Some(u) => Lat::Const(Const::Bool(u == t)),
                None if self.excluded(*a, b, t) => Lat::Const(Const::Bool(false)),
                None => Lat::Typed(Type::Boolean),
            };
        }
        let consts: Option<Vec<&Const>> = lats
            .iter()
            .map(|l| match l {
                Lat::Const(c) => Some(c),
                _ => None,
            })
            .collect();
        if let Some(c) = consts.and_then(|cs| fold(op, &cs)) {
            return Lat::Const(c);
        }
        Lat::of_type(result_type(op))
    }

    fn mark_edge(&mut self, from: Block, to: Block) {
        if !self.exec_edges.insert((from, to)) {
            return;
        }
        if !self.executable(to) {
            self.exec_blocks[to.index()] = true;
            self.schedule(to);
        } else {
            self.eval_params(to);
        }
    }

    fn eval_term(&mut self, b: Block) {
        match self.f.block(b).term.clone() {
            Terminator::Jump { dest, .. } => {
                if self.exec_edges.contains(&(b, dest)) {
                    self.eval_params(dest);
                } else {
                    self.mark_edge(b, dest);
                }
            }
            Terminator::Branch {
                cond,
                then_dest,
                else_dest,
                ..
            } => match self.get(cond) {
                Lat::Top => {}
                Lat::Const(Const::Bool(true)) => self.mark_edge(b, then_dest),
                Lat::Const(Const::Bool(false)) => self.mark_edge(b, else_dest),
                _ => {
                    self.mark_edge(b, then_dest);
                    self.mark_edge(b, else_dest);
                }
            },
            _ => {}
        }
    }
}

/// The most facts kept per value (a value checked in many branches that
/// do not dominate each other would otherwise make lookups quadratic).
const MAX_FACTS: usize = 32;

/// The type facts of `f`: the operands a primitive checked have the
/// checked types below it (in the blocks its block strictly dominates;
/// SSA values never change, and their definitions dominate the check), and
/// the operand of a type predicate has (or has not) the type in the block
/// entered only from the predicate's true (false) edge. Registered in
/// reverse postorder, so a fact dominated by an equal one is skipped.
fn facts_of(f: &Function, rpo: &[Block]) -> Facts {
    let defs = f.defining_insts();
    let mut facts = Facts {
        by_value: vec![Vec::new(); f.num_values as usize],
        dom: DomOrder::new(f, rpo),
    };
    for &b in rpo {
        let preds = f.preds(b);
        if let [p] = preds.as_slice() {
            if let Terminator::Branch {
                cond,
                then_dest,
                else_dest,
                ..
            } = &f.block(*p).term
            {
                let pred = defs.get(cond).map(|&i| &f.inst(i).kind);
                if let (Some(InstKind::Prim { op, args }), true) = (pred, then_dest != else_dest) {
                    if let (Some(ty), [x]) = (predicate_type(*op), args.as_slice()) {
                        let fa = Fact {
                            at: b,
                            strict: false,
                            ty,
                            holds: *then_dest == b,
                        };
                        facts.add(*x, fa);
                    }
                }
            }
        }
        for &i in &f.block(b).insts {
            if let InstKind::Prim { op, args } = &f.inst(i).kind {
                for (&value, &ty) in args.iter().zip(checked_operands(*op)) {
                    let fa = Fact {
                        at: b,
                        strict: true,
                        ty,
                        holds: true,
                    };
                    facts.add(value, fa);
                }
            }
        }
    }
    facts
}

/// Inserts `v = const c` at the start of block `b`.
fn prepend_const(f: &mut Function, b: Block, c: Const) -> Value {
    let span = f.block(b).term_span;
    let span = f.block(b).insts.first().map_or(span, |&i| f.inst(i).span);
    let result = f.new_value();
    let inst = Inst(f.insts.len() as u32);
    f.insts.push(InstData {
        kind: InstKind::Const(c),
        result,
        span,
    });
    f.block_mut(b).insts.insert(0, inst);
    result
}

/// The `p` of `cond = (boolean-not p)` when `p` is known to be a boolean.
fn negated_boolean(
    f: &Function,
    defs: &HashMap<Value, Inst>,
    lat: &[Lat],
    cond: Value,
) -> Option<Value> {
    let i = *defs.get(&cond)?;
    let InstKind::Prim {
        op: Builtin::BooleanNot,
        args,
    } = &f.inst(i).kind
    else {
        return None;
    };
    let p = *args.first()?;
    (lat.get(p.0 as usize)?.ty() == Some(Type::Boolean)).then_some(p)
}

pub fn run(f: &mut Function) -> Changed {
    let (lat, exec) = {
        let mut s = Sccp::new(f);
        s.run();
        (s.lat, s.exec_blocks)
    };
    let known = |v: Value| match lat.get(v.0 as usize) {
        Some(Lat::Const(c)) => Some(c.clone()),
        _ => None,
    };
    let mut count = 0;
    let uses = f.use_counts();
    let defs = f.defining_insts();
    let mut replace = HashMap::default();
    for b in f.blocks() {
        if !exec.get(b.index()).copied().unwrap_or(false) {
            continue;
        }
        if b != f.entry {
            for p in f.block(b).params.clone() {
                if uses.get(p.0 as usize).copied().unwrap_or(0) == 0 {
                    continue;
                }
                if let Some(c) = known(p) {
                    let v = prepend_const(f, b, c);
                    replace.insert(p, v);
                    count += 1;
                }
            }
        }
        for i in f.block(b).insts.clone() {
            let d = f.inst(i);
            if matches!(d.kind, InstKind::Const(_)) {
                continue;
            }
            if let Some(c) = known(d.result) {
                f.inst_mut(i).kind = InstKind::Const(c);
                count += 1;
            }
        }
        if let Terminator::Branch {
            cond,
            then_dest,
            else_dest,
            origin,
        } = f.block(b).term.clone()
        {
            if let Some(Const::Bool(v)) = known(cond) {
                let span = f.block(b).term_span;
                let dest = if v { then_dest } else { else_dest };
                f.set_term(b, Terminator::Jump { dest, args: vec![] }, span);
                count += 1;
            } else if let Some(p) = negated_boolean(f, &defs, &lat, cond) {
                // `branch (boolean-not p), t, e` on a boolean `p` is
                // `branch p, e, t`: the `not` cannot fail, and when the
                // branch was its only use it becomes a copy for dce.
                let span = f.block(b).term_span;
                let term = Terminator::Branch {
                    cond: p,
                    then_dest: else_dest,
                    else_dest: then_dest,
                    origin,
                };
                f.set_term(b, term, span);
                if uses.get(cond.0 as usize) == Some(&1) {
                    if let Some(&i) = defs.get(&cond) {
                        f.inst_mut(i).kind = InstKind::Copy(p);
                    }
                }
                count += 1;
            }
        }
    }
    f.replace_uses(&replace);
    if count > 0 {
        f.remove_unreachable_blocks();
    }
    Changed(count)
}

#[cfg(test)]
mod tests {
    //! The pass's behaviour on whole CFGs is tested as text, in
    //! `optimizer/tests/filetests/sccp_*.cfg`; here are the lattice and
    //! the folding table.
    use super::*;

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
        assert_eq!(fold(B::IntegerMod, &[&C::Int(1), &C::Int(0)]), None);
        assert_eq!(fold(B::IntegerDiv, &[&C::Int(i64::MIN), &C::Int(-1)]), None);
        assert_eq!(
            fold(B::IntegerDiv, &[&C::Int(-7), &C::Int(2)]),
            Some(C::Int(-4))
        );
        assert_eq!(
            fold(B::IntegerMod, &[&C::Int(-7), &C::Int(2)]),
            Some(C::Int(1))
        );
        assert_eq!(
            fold(B::IntegerMod, &[&C::Int(7), &C::Int(-2)]),
            Some(C::Int(-1))
        );
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
        assert_eq!(
            fold(B::StringLength, &[&C::Str("straße".into())]),
            Some(C::Int(6))
        );
        assert_eq!(fold(B::ListLength, &[&C::Int(1)]), None);
    }

    #[test]
    fn meet_keeps_types_and_tells_signed_zeros_apart() {
        let z = Lat::Const(Const::Float(0.0));
        let nz = Lat::Const(Const::Float(-0.0));
        assert_eq!(z.meet(&nz), Lat::Typed(Type::Float));
        assert_eq!(z.meet(&Lat::Top), z);
        assert_eq!(
            z.meet(&Lat::Const(Const::Int(0))),
            Lat::Bottom,
            "different types"
        );
        assert_eq!(Lat::Typed(Type::List).meet(&Lat::Bottom), Lat::Bottom);
    }

    #[test]
    fn string_folding_is_bounded() {
        let half = Const::Str("x".repeat(MAX_FOLDED_STRING / 2));
        let whole = fold(Builtin::StringConcat, &[&half, &half]);
        assert_eq!(whole, Some(Const::Str("x".repeat(MAX_FOLDED_STRING))));
        let over = Const::Str("x".repeat(MAX_FOLDED_STRING / 2 + 1));
        assert_eq!(fold(Builtin::StringConcat, &[&half, &over]), None);
    }
}
