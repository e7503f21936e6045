//! Bytecode emission: allocated CFGs → `menai_bytecode::Module`.
//!
//! Blocks are laid out in reverse postorder; a jump to the next block is
//! omitted, and a branch whose `then` block follows falls through on true.
//! Primitives with a typed opcode use it; other native primitives become
//! `callb` over their operand window; `list`/`dict`/`set` become `make*`.
//! Constants are deduplicated per function; small integers, booleans,
//! `#none` and `()` are immediate loads. A self tail call is a jump back to
//! instruction 0 (arguments already in place after the parameter moves).
//! A call (or tail call) of a `sibling` or capture-free `closure` value
//! with exactly the callee's parameter count is a known call, `callf` /
//! `tailcallf` on the same argument window (see [`known_calls`]).
//! Each instruction gets the source location of the CFG instruction it
//! came from (moves take the location of the instruction they serve).
//! A typed opcode whose operand types `types` proves gets the
//! TYPES_PROVEN flag; once the module is built, any flag the bytecode
//! validator's own type analysis cannot prove is dropped again, so the
//! output always validates.
//!
//! With `immediates` (-O2), `integer+ - < <= > >= = !=` with one operand a
//! constant that fits in 16 bits use the immediate forms (`addik`…`neik`,
//! see [`imm_form`]); a constant all of whose uses became immediates is
//! not loaded at all.

use crate::cfg::{Block, CapSrc, CfgProgram, Function, Inst, InstKind, Terminator};
use crate::lines::LineIndex;
use crate::regalloc::{self, Allocation, Lowered};
use crate::types;
use crate::OptError;
use menai_bytecode::module::{
    self, CaptureFrom, ClosureSite, Constant, Module, SrcLoc, StructTypeDef, MAX_CONSTANT_DEPTH,
};
use menai_bytecode::val_type::ValType;
use menai_bytecode::{Builtin, CondOrigin, CondTest, Instr, Op};
use menai_compiler::ir::{Const, Span};
use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

/// The typed opcode implementing a primitive, if there is one.
pub fn typed_op(op: Builtin) -> Option<Op> {
    use Builtin as B;
    Some(match op {
        B::IntegerAdd => Op::AddInt,
        B::IntegerSub => Op::SubInt,
        B::IntegerMul => Op::MulInt,
        B::IntegerLt => Op::LtInt,
        B::IntegerLe => Op::LeInt,
        B::IntegerGt => Op::GtInt,
        B::IntegerGe => Op::GeInt,
        B::IntegerEq => Op::EqInt,
        B::IntegerNe => Op::NeInt,
        B::FloatAdd => Op::AddFloat,
        B::FloatSub => Op::SubFloat,
        B::FloatMul => Op::MulFloat,
        B::FloatDiv => Op::DivFloat,
        B::FloatLt => Op::LtFloat,
        B::FloatLe => Op::LeFloat,
        B::FloatGt => Op::GtFloat,
        B::FloatGe => Op::GeFloat,
        B::FloatEq => Op::EqFloat,
        B::FloatNe => Op::NeFloat,
        B::ListFirst => Op::ListFirst,
        B::ListRest => Op::ListRest,
        B::ListNullP => Op::ListNull,
        B::ListPrepend => Op::ListPrepend,
        B::ListRef => Op::ListRef,
        B::SetMemberP => Op::SetMember,
        B::BooleanNot => Op::Not,
        _ => return None,
    })
}

/// The immediate form of primitive `op` applied to `args`, as `(opcode,
/// register operand, immediate)`, when one operand is a constant that
/// `small` gives as an `i16`: either side for `integer+`, `=` and `!=`;
/// the right side for `integer-`; for an order comparison the right side,
/// or the left side with the comparison flipped when `may_flip` (the
/// caller allows it only where the other operand is proven an integer, so
/// no type error could name the flipped operation).
pub fn imm_form(
    op: Builtin,
    args: &[crate::cfg::Value],
    small: impl Fn(crate::cfg::Value) -> Option<i16>,
    may_flip: bool,
) -> Option<(Op, crate::cfg::Value, i16)> {
    use Builtin as B;
    let [x, y] = *args else { return None };
    let (right, flipped, commutes) = match op {
        B::IntegerAdd => (Op::AddIntK, Op::AddIntK, true),
        B::IntegerEq => (Op::EqIntK, Op::EqIntK, true),
        B::IntegerNe => (Op::NeIntK, Op::NeIntK, true),
        B::IntegerSub => (Op::SubIntK, Op::SubIntK, false),
        B::IntegerLt => (Op::LtIntK, Op::GtIntK, false),
        B::IntegerLe => (Op::LeIntK, Op::GeIntK, false),
        B::IntegerGt => (Op::GtIntK, Op::LtIntK, false),
        B::IntegerGe => (Op::GeIntK, Op::LeIntK, false),
        _ => return None,
    };
    if let Some(k) = small(y) {
        return Some((right, x, k));
    }
    let left_ok = commutes || (may_flip && op != B::IntegerSub);
    match small(x) {
        Some(k) if left_ok => Some((flipped, y, k)),
        _ => None,
    }
}

/// In a block ending in a jump, moves each integer `+ - *` or comparison
/// whose operands are proven integers (so it cannot fail and has no
/// effect) and whose result only feeds that jump to just before it,
/// keeping their order. Its operands then die at it rather than at a
/// later reader, so the allocator can give the result an operand's
/// register, which is usually the loop variable's own (`i + 1` after
/// `acc + i` in a self tail loop: no move on the back edge).
fn sink_to_jumps(f: &mut Function) {
    use Builtin as B;
    let proven: HashSet<Inst> = types::proven_insts(f, &types::analyse(f))
        .into_iter()
        .collect();
    let uses = f.use_counts();
    for b in f.blocks() {
        let data = f.block(b);
        let Terminator::Jump { args, .. } = &data.term else {
            continue;
        };
        let in_jump: HashMap<crate::cfg::Value, u32> =
            args.iter().fold(HashMap::default(), |mut m, &v| {
                *m.entry(v).or_default() += 1;
                m
            });
        let movable = |i: Inst| {
            let d = f.inst(i);
            let total_int_op = matches!(
                d.kind,
                InstKind::Prim {
                    op: B::IntegerAdd
                        | B::IntegerSub
                        | B::IntegerMul
                        | B::IntegerLt
                        | B::IntegerLe
                        | B::IntegerGt
                        | B::IntegerGe
                        | B::IntegerEq
                        | B::IntegerNe,
                    ..
                }
            );
            let only_jump = in_jump.get(&d.result).copied().unwrap_or(0)
                == uses.get(d.result.0 as usize).copied().unwrap_or(u32::MAX);
            total_int_op && only_jump && proven.contains(&i)
        };
        let (down, mut keep): (Vec<Inst>, Vec<Inst>) =
            data.insts.iter().copied().partition(|&i| movable(i));
        if down.is_empty() {
            continue;
        }
        keep.extend(down);
        f.block_mut(b).insts = keep;
    }
}

/// The `i16` value of `v` if `defs` says it is an integer constant that fits.
fn small_const(
    f: &Function,
    defs: &HashMap<crate::cfg::Value, Inst>,
    v: crate::cfg::Value,
) -> Option<i16> {
    match &f.inst(*defs.get(&v)?).kind {
        InstKind::Const(Const::Int(n)) => i16::try_from(*n).ok(),
        _ => None,
    }
}

/// Rewrites the typed primitives of `f` that have an immediate form to
/// read only their register operand, and deletes the constants left
/// unused. Returns the immediate opcode and value of each rewritten
/// instruction (emission uses them instead of the register form).
fn use_immediates(f: &mut Function) -> HashMap<Inst, (Op, i16)> {
    let defs = f.defining_insts();
    let proven: HashSet<Inst> = types::proven_insts(f, &types::analyse(f))
        .into_iter()
        .collect();
    let mut out = HashMap::default();
    for b in f.blocks() {
        for i in f.block(b).insts.clone() {
            let InstKind::Prim { op, args } = &f.inst(i).kind else {
                continue;
            };
            let op = *op;
            let sel = imm_form(op, args, |v| small_const(f, &defs, v), proven.contains(&i));
            if let Some((kop, x, k)) = sel {
                f.inst_mut(i).kind = InstKind::Prim { op, args: vec![x] };
                out.insert(i, (kop, k));
            }
        }
    }
    if out.is_empty() {
        return out;
    }
    let uses = f.use_counts();
    for b in f.blocks() {
        let insts = f.block(b).insts.clone();
        let keep: Vec<Inst> = insts
            .into_iter()
            .filter(|&i| {
                let d = f.inst(i);
                let unused = uses.get(d.result.0 as usize).copied().unwrap_or(0) == 0;
                !(unused && matches!(d.kind, InstKind::Const(_)))
            })
            .collect();
        f.block_mut(b).insts = keep;
    }
    out
}

/// How deeply `c` nests lists (0 for an atom, 1 for a list of atoms),
/// counted without recursion.
fn const_depth(c: &Const) -> usize {
    let mut deepest = 0;
    let mut work = vec![(c, 0usize)];
    while let Some((c, d)) = work.pop() {
        if let Const::List(items) = c {
            deepest = deepest.max(d + 1);
            work.extend(items.iter().map(|x| (x, d + 1)));
        }
    }
    deepest
}

/// Converts an IR constant to a constant-pool entry (at most
/// `MAX_CONSTANT_DEPTH` deep: `emit_function` checks first).
pub fn constant(c: &Const) -> Constant {
    match c {
        Const::None => Constant::None,
        Const::Bool(b) => Constant::Bool(*b),
        Const::Int(i) => Constant::Int(*i),
        Const::BigInt(s) => Constant::BigInt(s.clone()),
        Const::Float(x) => Constant::Float(*x),
        Const::Complex(re, im) => Constant::Complex(*re, *im),
        Const::Str(s) => Constant::Str(s.clone()),
        Const::Symbol(s) => Constant::Symbol(s.clone()),
        Const::EmptyList => Constant::EmptyList,
        Const::List(items) => Constant::List(items.iter().map(constant).collect()),
        Const::StructType(t) => Constant::StructType(*t),
    }
}

/// Legalizes (see `legalize`), allocates registers for every function and
/// emits the module; `immediates` selects the immediate opcodes (-O2).
pub fn emit_program(p: &CfgProgram, immediates: bool) -> Result<Module, OptError> {
    let mut legal = p.clone();
    crate::legalize::legalize_program(&mut legal);
    let mut imms = Vec::with_capacity(legal.functions.len());
    for f in &mut legal.functions {
        sink_callees(f);
        imms.push(if immediates {
            sink_to_jumps(f);
            use_immediates(f)
        } else {
            HashMap::default()
        });
    }
    let p = &legal;
    let lines = LineIndex::new(&p.files);
    let observes = observes_environment(p);
    let sigs: Vec<Sig> = p
        .functions
        .iter()
        .zip(observes)
        .map(|(g, observes_env)| Sig {
            params: g.param_names.len(),
            rest: g.rest_name.is_some(),
            captures: g.num_captures,
            observes_env,
        })
        .collect();
    let mut functions = Vec::with_capacity(p.functions.len());
    for (f, imm) in p.functions.iter().zip(&imms) {
        let alloc = regalloc::allocate(f)?;
        functions.push(emit_function(f, &alloc, &lines, &sigs, imm, immediates)?);
    }
    let mut module = Module {
        files: p.files.iter().map(|f| f.path.clone()).collect(),
        file_hashes: p
            .files
            .iter()
            .map(|f| module::source_hash(f.text.as_bytes()))
            .collect(),
        struct_types: p
            .structs
            .iter()
            .map(|s| StructTypeDef {
                name: s.name.clone(),
                fields: s.fields.clone(),
            })
            .collect(),
        functions,
        entry: p.entry.0,
    };
    drop_unprovable_type_flags(&mut module);
    Ok(module)
}

/// Clears TYPES_PROVEN where the validator's analysis (invariant T1) does
/// not prove it. Returns how many flags were dropped.
pub fn drop_unprovable_type_flags(module: &mut Module) -> usize {
    let mut dropped = 0;
    for fi in 0..module.functions.len() {
        let f = &module.functions[fi];
        if !f.code.iter().any(|i| i.types_proven()) {
            continue;
        }
        let keep = menai_bytecode::validate::types::provable(module, f).ok();
        let f = &mut module.functions[fi];
        for (pc, ins) in f.code.iter_mut().enumerate() {
            let ok = keep
                .as_ref()
                .is_some_and(|k| k.get(pc).copied().unwrap_or(false));
            if ins.types_proven() && !ok {
                *ins = ins.with_types_proven(false);
                dropped += 1;
            }
        }
    }
    dropped
}

fn limit<T: TryFrom<usize>>(n: usize, what: &str, f: &Function) -> Result<T, OptError> {
    T::try_from(n).map_err(|_| OptError::Limit(format!("{}: too many {what} ({n})", f.name)))
}

struct Emitter<'a> {
    f: &'a Function,
    lines: &'a LineIndex,
    code: Vec<Instr>,
    /// Per instruction: its source location, and for a conditional jump
    /// the form its test comes from.
    meta: Vec<(SrcLoc, CondOrigin)>,
    constants: Vec<Constant>,
    const_index: HashMap<String, usize>,
    sites: Vec<ClosureSite>,
    /// (instruction index, target block) of jumps to patch.
    fixups: Vec<(usize, Block)>,
}

impl Emitter<'_> {
    fn push(&mut self, mut i: Instr, dead: &[bool], span: Span) {
        i.flags = dead
            .iter()
            .take(Instr::LAST_USE_BITS as usize)
            .enumerate()
            .fold(0u8, |acc, (k, &d)| if d { acc | 1 << k } else { acc });
        self.code.push(i);
        self.meta.push((self.lines.srcloc(span), CondOrigin::If));
    }

    /// Pushes a conditional jump whose test comes from `origin`.
    fn push_test(&mut self, i: Instr, dead: &[bool], span: Span, origin: CondOrigin) {
        self.push(i, dead, span);
        if let Some(m) = self.meta.last_mut() {
            m.1 = origin;
        }
    }

    fn moves(&mut self, low: &Lowered, span: Span) {
        for m in &low.moves {
            self.push(Instr::abc(Op::Move, m.dst, m.src, 0), &[m.last_use], span);
        }
    }

    fn constant(&mut self, c: Constant) -> Result<u16, OptError> {
        // Debug output distinguishes every constant (floats by their exact text, -0.0 included).
        let key = match &c {
            Constant::Float(x) => format!("F{:x}", x.to_bits()),
            other => format!("{other:?}"),
        };
        let idx = match self.const_index.get(&key) {
            Some(&i) => i,
            None => {
                self.constants.push(c);
                self.const_index.insert(key, self.constants.len() - 1);
                self.constants.len() - 1
            }
        };
        limit(idx, "constants", self.f)
    }
}

/// Moves each operand-free closure-building instruction (`sibling`, or a
/// `closure` without captures) whose only use is as the callee of a call
/// or tail call to just before that call, so that the register allocator
/// gives it the call window's callee register and emission can drop it
/// for a known call (see [`known_calls`]). Sound: the instruction has no
/// operands and no effect, and still dominates its only use.
fn sink_callees(f: &mut Function) {
    let uses = f.use_counts();
    let defs = f.defining_insts();
    let sinkable = |f: &Function, v: crate::cfg::Value| -> Option<Inst> {
        if uses.get(v.0 as usize) != Some(&1) {
            return None;
        }
        let d = *defs.get(&v)?;
        match &f.inst(d).kind {
            InstKind::Sibling(_) => Some(d),
            InstKind::Closure { captures, .. } if captures.is_empty() => Some(d),
            _ => None,
        }
    };
    let mut moves: Vec<(Inst, Block, Option<Inst>)> = Vec::new();
    for b in f.blocks() {
        for &i in &f.block(b).insts {
            if let InstKind::Call { func, .. } = &f.inst(i).kind {
                if let Some(d) = sinkable(f, *func) {
                    moves.push((d, b, Some(i)));
                }
            }
        }
        if let Terminator::TailCall { func, .. } = &f.block(b).term {
            if let Some(d) = sinkable(f, *func) {
                moves.push((d, b, None));
            }
        }
    }
    for (d, b, at) in moves {
        for blk in f.blocks() {
            f.block_mut(blk).insts.retain(|&i| i != d);
        }
        let insts = &mut f.block_mut(b).insts;
        let pos = match at {
            Some(call) => insts.iter().position(|&i| i == call).unwrap_or(insts.len()),
            None => insts.len(),
        };
        insts.insert(pos, d);
    }
}

/// What a known call needs to know of its callee.
#[derive(Clone, Copy, Debug)]
struct Sig {
    params: usize,
    rest: bool,
    captures: u16,
    /// Whether the identity of the environment it runs in can become
    /// visible (see [`observes_environment`]).
    observes_env: bool,
}

/// Per function: whether running it can make the identity of its
/// environment visible — it builds a `sibling` whose value is used other
/// than as the callee of a call (stored, returned, compared, captured),
/// or it builds a `sibling` of a function that does. A closure's identity
/// is its function and its environment (`function=?`), so such a function
/// must run in the environment of the closure it was called through: a
/// known call of a capture-free `closure` value (which runs the callee in
/// the caller's or an empty environment, not the closure's fresh one) is
/// only used for callees that do not observe it.
fn observes_environment(p: &CfgProgram) -> Vec<bool> {
    let n = p.functions.len();
    let mut observes = vec![false; n];
    // callers[g]: the functions that build a `sibling` of g.
    let mut callers: Vec<Vec<usize>> = vec![Vec::new(); n];
    for (fi, f) in p.functions.iter().enumerate() {
        let mut siblings: HashSet<crate::cfg::Value> = HashSet::default();
        for b in f.blocks() {
            for &i in &f.block(b).insts {
                if let InstKind::Sibling(g) = f.inst(i).kind {
                    siblings.insert(f.inst(i).result);
                    if let Some(c) = callers.get_mut(g.0 as usize) {
                        c.push(fi);
                    }
                }
            }
        }
        if siblings.is_empty() {
            continue;
        }
        // A use of a sibling value anywhere but as a callee.
        let escapes = |uses: Vec<crate::cfg::Value>, callee: Option<crate::cfg::Value>| {
            let mut skipped = false;
            uses.into_iter().any(|v| {
                if !skipped && Some(v) == callee {
                    skipped = true;
                    return false;
                }
                siblings.contains(&v)
            })
        };
        observes[fi] = f.blocks().into_iter().any(|b| {
            let data = f.block(b);
            data.insts.iter().any(|&i| {
                let kind = &f.inst(i).kind;
                let callee = match kind {
                    InstKind::Call { func, .. } => Some(*func),
                    _ => None,
                };
                escapes(kind.uses(), callee)
            }) || {
                let callee = match &data.term {
                    Terminator::TailCall { func, .. } => Some(*func),
                    _ => None,
                };
                escapes(data.term.uses(), callee)
            }
        });
    }
    let mut work: Vec<usize> = (0..n).filter(|&g| observes[g]).collect();
    while let Some(g) = work.pop() {
        for &c in &callers[g] {
            if !observes[c] {
                observes[c] = true;
                work.push(c);
            }
        }
    }
    observes
}

/// Known calls (`callf`/`tailcallf`): the callee of each call or tail call
/// whose closure value is a `sibling` (environment: the current one) or a
/// capture-free `closure` of a function without captures that does not
/// observe its environment (environment: the current or an empty one),
/// called with exactly its parameter count and no rest parameter —
/// the bytecode validator's rule. Returns the function index per call
/// (instruction, or block for a tail call) and the closure-building
/// instructions that need not be emitted: those whose value is used only
/// by that call and already sits in the call window's callee register
/// (`callf` reads the arguments only, so nothing reads it).
fn known_calls(
    f: &Function,
    alloc: &Allocation,
    sigs: &[Sig],
) -> (HashMap<Inst, u16>, HashMap<Block, u16>, HashSet<Inst>) {
    let defs = f.defining_insts();
    let uses = f.use_counts();
    let known = |v: crate::cfg::Value, nargs: usize| -> Option<u16> {
        let d = defs.get(&v)?;
        let (g, current) = match &f.inst(*d).kind {
            InstKind::Sibling(g) => (*g, true),
            InstKind::Closure { func, captures } if captures.is_empty() => (*func, false),
            _ => return None,
        };
        let s = sigs.get(g.0 as usize)?;
        // `callf` runs the callee in the current environment when its
        // capture count is this function's, else in an empty one: exactly
        // right for a sibling (it shares the current environment), and for
        // a fresh capture-free closure only when the callee cannot observe
        // which environment it got.
        let env_ok = if current {
            s.captures == f.num_captures
        } else {
            s.captures == 0 && !s.observes_env
        };
        if !env_ok || s.rest || s.params != nargs {
            return None;
        }
        u16::try_from(g.0).ok()
    };
    let mut calls = HashMap::default();
    let mut tails = HashMap::default();
    let mut skip = HashSet::default();
    let mut consider = |v: crate::cfg::Value, window: Option<u16>| {
        if uses.get(v.0 as usize) == Some(&1) && window.is_some() && alloc.reg(v).ok() == window {
            if let Some(&d) = defs.get(&v) {
                skip.insert(d);
            }
        }
    };
    for b in f.blocks() {
        for &i in &f.block(b).insts {
            if let InstKind::Call { func, args } = &f.inst(i).kind {
                if let Some(g) = known(*func, args.len()) {
                    calls.insert(i, g);
                    consider(*func, alloc.insts.get(&i).map(|l| l.window));
                }
            }
        }
        if let Terminator::TailCall { func, args } = &f.block(b).term {
            if let Some(g) = known(*func, args.len()) {
                tails.insert(b, g);
                consider(*func, alloc.terms.get(&b).map(|l| l.window));
            }
        }
    }
    (calls, tails, skip)
}

fn emit_function(
    f: &Function,
    alloc: &Allocation,
    lines: &LineIndex,
    sigs: &[Sig],
    imm: &HashMap<Inst, (Op, i16)>,
    rotate: bool,
) -> Result<module::Function, OptError> {
    let mut e = Emitter {
        f,
        lines,
        code: Vec::new(),
        meta: Vec::new(),
        constants: Vec::new(),
        const_index: HashMap::default(),
        sites: Vec::new(),
        fixups: Vec::new(),
    };
    let empty = Lowered::default();
    let (known_call, known_tail, skip) = known_calls(f, alloc, sigs);
    let proven: HashSet<Inst> = types::proven_insts(f, &types::analyse(f))
        .into_iter()
        .collect();
    let mut block_pc: HashMap<Block, usize> = HashMap::default();
    for (pos, &b) in alloc.order.iter().enumerate() {
        block_pc.insert(b, e.code.len());
        let data = f.block(b);
        for &i in &data.insts {
            let inst = f.inst(i);
            let low = alloc.insts.get(&i).unwrap_or(&empty);
            let span = inst.span;
            e.moves(low, span);
            if skip.contains(&i) {
                continue;
            }
            let dst = alloc.reg(inst.result)?;
            let dead = &low.read_dead;
            let r = |v| alloc.reg(v);
            let instr = match &inst.kind {
                InstKind::Copy(v) => {
                    let s = r(*v)?;
                    if s == dst {
                        continue;
                    }
                    Instr::abc(Op::Move, dst, s, 0)
                }
                InstKind::Const(c) => match c {
                    Const::Int(n) if i32::try_from(*n).is_ok() => {
                        Instr::abx(Op::LoadInt, dst, *n as i32 as u32)
                    }
                    Const::Bool(b) => Instr::abc(Op::LoadBool, dst, u16::from(*b), 0),
                    Const::None => Instr::abc(Op::LoadNone, dst, 0, 0),
                    Const::EmptyList => Instr::abc(Op::LoadNil, dst, 0, 0),
                    other => {
                        let depth = const_depth(other);
                        if depth > MAX_CONSTANT_DEPTH {
                            let (line, col) = e.lines.line_col(span);
                            return Err(OptError::Limit(format!(
                                "{}: quoted data at line {line}, column {col} is nested \
                                 {depth} deep; a .bc file holds at most \
                                 {MAX_CONSTANT_DEPTH} levels",
                                f.name
                            )));
                        }
                        let k = e.constant(constant(other))?;
                        Instr::abc(Op::LoadK, dst, k, 0)
                    }
                },
                InstKind::Builtin(b) => Instr::abc(Op::LoadBuiltin, dst, *b as u16, 0),
                InstKind::GetCap(s) => Instr::abc(Op::GetCap, dst, *s, 0),
                InstKind::Closure { func, captures } => {
                    let caps = captures
                        .iter()
                        .map(|c| match c {
                            CapSrc::Value(v) => r(*v).map(CaptureFrom::Reg),
                            CapSrc::Env(s) => Ok(CaptureFrom::Env(*s)),
                        })
                        .collect::<Result<Vec<_>, _>>()?;
                    e.sites.push(ClosureSite {
                        function: func.0,
                        captures: caps,
                    });
                    Instr::abx(Op::Closure, dst, (e.sites.len() - 1) as u32)
                }
                InstKind::Sibling(func) => {
                    Instr::abc(Op::Sibling, dst, limit(func.0 as usize, "functions", f)?, 0)
                }
                InstKind::ClosureRef { func, of } => Instr::abc(
                    Op::ClosureRef,
                    dst,
                    limit(func.0 as usize, "functions", f)?,
                    r(*of)?,
                ),
                InstKind::Prim { op, args } => match (typed_op(*op), imm.get(&i)) {
                    (Some(_), Some(&(kop, k))) => {
                        let a = r(args.first().copied().ok_or_else(|| bad_arity(f, *op))?)?;
                        Instr::abc(kop, dst, a, k as u16)
                    }
                    (Some(top), None) => {
                        let a = r(args.first().copied().ok_or_else(|| bad_arity(f, *op))?)?;
                        let c = match args.get(1) {
                            Some(v) => r(*v)?,
                            None => 0,
                        };
                        Instr::abc(top, dst, a, c)
                    }
                    (None, _) => {
                        let n: u16 = limit(args.len(), "operands", f)?;
                        match op {
                            Builtin::List => Instr::abc(Op::MakeList, dst, low.window, n),
                            Builtin::Dict => Instr::abc(Op::MakeDict, dst, low.window, n),
                            Builtin::Set => Instr::abc(Op::MakeSet, dst, low.window, n),
                            _ => Instr::abc(Op::CallBuiltin, dst, *op as u16, low.window),
                        }
                    }
                },
                InstKind::MakeStruct { ty, .. } => Instr::abc(
                    Op::MakeStruct,
                    dst,
                    limit(*ty as usize, "struct types", f)?,
                    low.window,
                ),
                InstKind::Call { .. } if known_call.contains_key(&i) => {
                    let g = known_call.get(&i).copied().unwrap_or(0);
                    let a = limit(low.window as usize + 1, "registers", f)?;
                    e.push(
                        Instr::abc(Op::CallF, a, g, dst),
                        dead.get(1..).unwrap_or(&[]),
                        span,
                    );
                    continue;
                }
                InstKind::Call { args, .. } => Instr::abc(
                    Op::Call,
                    low.window,
                    limit(args.len(), "arguments", f)?,
                    dst,
                ),
                InstKind::Apply { func, list } => Instr::abc(Op::Apply, dst, r(*func)?, r(*list)?),
            };
            e.push(instr, dead, span);
            if instr.op.has_type_proof() && proven.contains(&i) {
                if let Some(last) = e.code.last_mut() {
                    *last = last.with_types_proven(true);
                }
            }
        }
        let low = alloc.terms.get(&b).unwrap_or(&empty);
        let span = data.term_span;
        e.moves(low, span);
        let dead = &low.read_dead;
        let next = alloc.order.get(pos + 1).copied();
        match &data.term {
            Terminator::Unterminated => {
                return Err(OptError::Internal(format!(
                    "{}: {b} has no terminator",
                    f.name
                )));
            }
            Terminator::Jump { dest, .. } => {
                if Some(*dest) != next {
                    e.fixups.push((e.code.len(), *dest));
                    e.push(Instr::abx(Op::Jmp, 0, 0), &[], span);
                }
            }
            Terminator::Branch {
                cond,
                then_dest,
                else_dest,
                origin,
            } => {
                let c = alloc.reg(*cond)?;
                let o = *origin;
                if Some(*then_dest) == next {
                    e.fixups.push((e.code.len(), *else_dest));
                    e.push_test(Instr::abx(Op::JmpFalse, c, 0), dead, span, o);
                } else if Some(*else_dest) == next {
                    e.fixups.push((e.code.len(), *then_dest));
                    e.push_test(Instr::abx(Op::JmpTrue, c, 0), dead, span, o);
                } else {
                    e.fixups.push((e.code.len(), *else_dest));
                    e.push_test(Instr::abx(Op::JmpFalse, c, 0), &[], span, o);
                    e.fixups.push((e.code.len(), *then_dest));
                    e.push(Instr::abx(Op::Jmp, 0, 0), &[], span);
                }
            }
            Terminator::Return(v) => {
                e.push(Instr::abc(Op::Return, alloc.reg(*v)?, 0, 0), dead, span)
            }
            Terminator::TailCall { .. } if known_tail.contains_key(&b) => {
                let g = known_tail.get(&b).copied().unwrap_or(0);
                let a = limit(low.window as usize + 1, "registers", f)?;
                e.push(
                    Instr::abc(Op::TailCallF, a, g, 0),
                    dead.get(1..).unwrap_or(&[]),
                    span,
                )
            }
            Terminator::TailCall { args, .. } => {
                let n = limit(args.len(), "arguments", f)?;
                e.push(Instr::abc(Op::TailCall, low.window, n, 0), dead, span)
            }
            Terminator::TailApply { func, list } => e.push(
                Instr::abc(Op::TailApply, alloc.reg(*func)?, alloc.reg(*list)?, 0),
                dead,
                span,
            ),
            Terminator::Raise(v) => e.push(Instr::abc(Op::Raise, alloc.reg(*v)?, 0, 0), dead, span),
            Terminator::RaiseUnbound(name) => {
                let k = e.constant(Constant::Str(name.clone()))?;
                e.push(Instr::abc(Op::RaiseUnbound, 0, k, 0), &[], span)
            }
            Terminator::RaiseNoMatch(v) => e.push(
                Instr::abc(Op::RaiseNoMatch, alloc.reg(*v)?, 0, 0),
                dead,
                span,
            ),
        }
    }
    for (at, target) in std::mem::take(&mut e.fixups) {
        let pc = block_pc
            .get(&target)
            .copied()
            .ok_or_else(|| OptError::Internal(format!("{}: jump to unplaced {target}", f.name)))?;
        let pc: u32 = limit(pc, "instructions", f)?;
        if let Some(ins) = e.code.get_mut(at) {
            let flags = ins.flags;
            *ins = Instr {
                flags,
                ..Instr::abx(ins.op, ins.a, pc)
            };
        }
    }
    if rotate {
        rotate_loops(&mut e.code, &mut e.meta, (SrcLoc::UNKNOWN, CondOrigin::If));
        skip_jumps_over_jumps(&mut e.code, &mut e.meta);
    }
    let lines = e.lines;
    let cond_origins = e
        .meta
        .iter()
        .zip(&e.code)
        .enumerate()
        .filter(|(_, (m, ins))| {
            m.1 != CondOrigin::If && matches!(ins.op, Op::JmpFalse | Op::JmpTrue)
        })
        .map(|(pc, (m, _))| CondTest {
            pc: pc as u32,
            origin: m.1,
        })
        .collect();
    Ok(module::Function {
        name: f.name.clone(),
        params: f.param_names.clone(),
        rest: f.rest_name.clone(),
        num_captures: f.num_captures,
        num_registers: alloc.num_registers,
        constants: e.constants,
        closure_sites: e.sites,
        code: e.code,
        locs: e.meta.iter().map(|m| m.0).collect(),
        cond_origins,
        loc: lines.srcloc(f.span),
    })
}

/// Replaces each `jmp T` whose target is a typed test (an integer or float
/// comparison, `nullp`, `not`) followed
/// by a `jmpf`/`jmpt` on its result by a copy of those two instructions
/// and a `jmp T+2` (loop rotation: a loop's back edge then tests the
/// condition itself, saving the `jmp` whenever the branch is taken).
/// Sound: a `jmp` changes no register, so the copies run in exactly the
/// state `T` would (same last-use flags, same jump targets); the type
/// flags proven at `T` hold on each of its incoming paths.
/// `meta` is per-instruction data (source location…) that moves and is
/// copied along with its instruction; `unknown` fills any gap.
fn rotate_loops<T: Copy>(code: &mut Vec<Instr>, meta: &mut Vec<T>, unknown: T) {
    // A typed test (the opcode table's typed columns): it writes a boolean
    // from operands of one checked type.
    let is_cmp = |op: Op| op.operand_type().is_some() && op.result_type() == Some(ValType::Bool);
    let rotatable = |i: &Instr| -> Option<usize> {
        if i.op != Op::Jmp {
            return None;
        }
        let t = i.bx() as usize;
        let (cmp, br) = (code.get(t)?, code.get(t + 1)?);
        let ok = is_cmp(cmp.op)
            && matches!(br.op, Op::JmpFalse | Op::JmpTrue)
            && br.a == cmp.a
            && t + 2 < code.len();
        ok.then_some(t)
    };
    let targets: Vec<Option<usize>> = code.iter().map(rotatable).collect();
    if targets.iter().all(Option::is_none) {
        return;
    }
    // new_pc[old]: where old instruction `old` lands (each rotated `jmp`
    // grows by two instructions).
    let mut new_pc = Vec::with_capacity(code.len() + 1);
    let mut at = 0u32;
    for t in &targets {
        new_pc.push(at);
        at += if t.is_some() { 3 } else { 1 };
    }
    new_pc.push(at);
    let reloc = |ins: Instr| -> Instr {
        if matches!(ins.op, Op::Jmp | Op::JmpTrue | Op::JmpFalse) {
            let t = new_pc.get(ins.bx() as usize).copied().unwrap_or(0);
            Instr {
                flags: ins.flags,
                ..Instr::abx(ins.op, ins.a, t)
            }
        } else {
            ins
        }
    };
    let mut out = Vec::with_capacity(at as usize);
    let mut out_meta = Vec::with_capacity(at as usize);
    for (pc, (&ins, t)) in code.iter().zip(&targets).enumerate() {
        let loc = meta.get(pc).copied().unwrap_or(unknown);
        match *t {
            Some(t) => {
                for k in [t, t + 1] {
                    out.push(reloc(code[k]));
                    out_meta.push(meta.get(k).copied().unwrap_or(loc));
                }
                out.push(reloc(Instr::abx(Op::Jmp, 0, (t + 2) as u32)));
                out_meta.push(loc);
            }
            None => {
                out.push(reloc(ins));
                out_meta.push(loc);
            }
        }
    }
    *code = out;
    *meta = out_meta;
}

/// Replaces each `jmpf R L; jmp T` whose `L` is the instruction after the
/// `jmp` (a branch whose fall-through side only jumps on, as a loop's
/// back edge does) by `jmpt R T`, and `jmpt R L; jmp T` by `jmpf R T`,
/// when nothing else jumps to the `jmp`; the `jmp` is deleted and every
/// jump target renumbered. Sound: both forms go to `T` exactly when the
/// other goes to `L`, test the same register with the same last-use flag
/// and the same error origin (`meta` stays with the test).
fn skip_jumps_over_jumps<T: Copy>(code: &mut Vec<Instr>, meta: &mut Vec<T>) {
    let is_jump = |op: Op| matches!(op, Op::Jmp | Op::JmpTrue | Op::JmpFalse);
    let mut landing = vec![false; code.len() + 1];
    for i in code.iter().filter(|i| is_jump(i.op)) {
        if let Some(l) = landing.get_mut(i.bx() as usize) {
            *l = true;
        }
    }
    let skippable = |pc: usize| -> bool {
        let (Some(test), Some(jmp)) = (code.get(pc), code.get(pc + 1)) else {
            return false;
        };
        matches!(test.op, Op::JmpTrue | Op::JmpFalse)
            && test.bx() as usize == pc + 2
            && jmp.op == Op::Jmp
            && !landing[pc + 1]
    };
    let skip: Vec<bool> = (0..code.len()).map(skippable).collect();
    if !skip.contains(&true) {
        return;
    }
    // new_pc[old]: where old instruction `old` lands (a deleted `jmp`
    // maps to its successor; nothing jumps to it).
    let mut new_pc = Vec::with_capacity(code.len() + 1);
    let mut at = 0u32;
    for pc in 0..code.len() {
        new_pc.push(at);
        if !(pc > 0 && skip[pc - 1]) {
            at += 1;
        }
    }
    new_pc.push(at);
    let retarget = |ins: Instr, target: u32| Instr {
        flags: ins.flags,
        ..Instr::abx(ins.op, ins.a, new_pc[target as usize])
    };
    let mut out = Vec::with_capacity(at as usize);
    let mut out_meta = Vec::with_capacity(at as usize);
    for (pc, &ins) in code.iter().enumerate() {
        if pc > 0 && skip[pc - 1] {
            continue;
        }
        let ins = if skip[pc] {
            let inverse = if ins.op == Op::JmpTrue {
                Op::JmpFalse
            } else {
                Op::JmpTrue
            };
            retarget(Instr { op: inverse, ..ins }, code[pc + 1].bx())
        } else if is_jump(ins.op) {
            retarget(ins, ins.bx())
        } else {
            ins
        };
        out.push(ins);
        if let Some(&m) = meta.get(pc) {
            out_meta.push(m);
        }
    }
    *code = out;
    *meta = out_meta;
}

fn bad_arity(f: &Function, op: Builtin) -> OptError {
    OptError::Internal(format!(
        "{}: primitive {} without operands",
        f.name,
        op.name()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rotation_copies_the_test_and_relocates_every_jump() {
        let mut code = vec![
            Instr::abx(Op::Jmp, 0, 2),        // 0: forward jump to the test
            Instr::abc(Op::AddIntK, 0, 0, 1), // 1: body
            Instr::abc(Op::LtIntK, 1, 0, 9),  // 2: test
            Instr::abx(Op::JmpTrue, 1, 1),    // 3: loop
            Instr::abc(Op::Return, 0, 0, 0),  // 4
        ];
        code[3].flags = 1;
        let mut locs: Vec<SrcLoc> = (0..5)
            .map(|k| SrcLoc {
                line: k,
                ..SrcLoc::UNKNOWN
            })
            .collect();
        rotate_loops(&mut code, &mut locs, SrcLoc::UNKNOWN);
        let ops: Vec<Op> = code.iter().map(|i| i.op).collect();
        assert_eq!(
            ops,
            vec![
                Op::LtIntK,
                Op::JmpTrue,
                Op::Jmp,
                Op::AddIntK,
                Op::LtIntK,
                Op::JmpTrue,
                Op::Return
            ]
        );
        // Targets: the body moved from 1 to 3, old pc 4 (after the test) to 6.
        assert_eq!((code[1].bx(), code[2].bx(), code[5].bx()), (3, 6, 3));
        assert_eq!((code[1].flags, code[5].flags), (1, 1));
        let lines: Vec<u32> = locs.iter().map(|l| l.line).collect();
        assert_eq!(lines, vec![2, 3, 0, 1, 2, 3, 4]);
        // Nothing to rotate: unchanged.
        let plain = vec![Instr::abx(Op::Jmp, 0, 1), Instr::abc(Op::Return, 0, 0, 0)];
        let mut same = plain.clone();
        rotate_loops(&mut same, &mut vec![SrcLoc::UNKNOWN; 2], SrcLoc::UNKNOWN);
        assert_eq!(same, plain);
    }

    /// Every typed test rotates (`nullp`, a float compare), an untyped
    /// boolean writer does not (`loadbool`).
    #[test]
    fn rotation_covers_every_typed_test() {
        for (test, rotates) in [
            (Instr::abc(Op::ListNull, 1, 0, 0), true),
            (Instr::abc(Op::LtFloat, 1, 0, 0), true),
            (Instr::abx(Op::LoadBool, 1, 1), false),
        ] {
            let mut code = vec![
                test,                            // 0: loop head
                Instr::abx(Op::JmpTrue, 1, 3),   // 1: exit
                Instr::abx(Op::Jmp, 0, 0),       // 2: back edge
                Instr::abc(Op::Return, 0, 0, 0), // 3
            ];
            rotate_loops(&mut code, &mut vec![SrcLoc::UNKNOWN; 4], SrcLoc::UNKNOWN);
            assert_eq!(code.len() == 6, rotates, "{:?}", test.op);
            if rotates {
                assert_eq!(
                    (code[2].op, code[3].op, code[4].op),
                    (test.op, Op::JmpTrue, Op::Jmp)
                );
                assert_eq!((code[3].bx(), code[4].bx()), (5, 2));
            }
        }
    }

    #[test]
    fn a_test_over_a_jump_becomes_the_inverse_test() {
        let mut code = vec![
            Instr::abc(Op::AddIntK, 0, 0, 1), // 0: loop head
            Instr::abx(Op::JmpFalse, 1, 3),   // 1: over the jump
            Instr::abx(Op::Jmp, 0, 0),        // 2: back edge
            Instr::abc(Op::Return, 0, 0, 0),  // 3
            Instr::abx(Op::JmpTrue, 1, 6),    // 4: over a jump that is a target
            Instr::abx(Op::Jmp, 0, 3),        // 5
            Instr::abx(Op::Jmp, 0, 5),        // 6
        ];
        code[1].flags = 1;
        let mut lines: Vec<u32> = (0..7).collect();
        skip_jumps_over_jumps(&mut code, &mut lines);
        let ops: Vec<Op> = code.iter().map(|i| i.op).collect();
        assert_eq!(
            ops,
            vec![
                Op::AddIntK,
                Op::JmpTrue,
                Op::Return,
                Op::JmpTrue,
                Op::Jmp,
                Op::Jmp
            ]
        );
        assert_eq!((code[1].bx(), code[1].flags, code[1].a), (0, 1, 1));
        // Renumbered: old 6 is now 5, old 3 is 2, old 5 is 4.
        assert_eq!((code[3].bx(), code[4].bx(), code[5].bx()), (5, 2, 4));
        assert_eq!(lines, vec![0, 1, 3, 4, 5, 6]);
    }
}
