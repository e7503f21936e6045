//! The interpreter's internal form of a function's code, made once per run
//! from a validated module ([`translate`]).
//!
//! It is the file's instructions one for one (same pcs, so the line table
//! and the instruction counts stay exact), with these changes:
//!
//! - **Relative jumps.** A jump's Bx is its target minus the pc after the
//!   jump, so the loop jumps without knowing where the code starts.
//! - **Known-call environments.** The flags of `callf`/`tailcallf` say
//!   whether the callee runs in the current environment or the empty one
//!   ([`XInstr::EMPTY_ENV`]), decided once from the two capture counts.
//! - **Hot builtins.** `callb` of `list-ref`, `list-length`, `integer%`,
//!   `integer/`, `integer-min`/`-max`, `struct-get-imm` and the type
//!   predicates becomes an internal opcode with the common case inline
//!   (the builtin itself stays the slow path).
//! - **Proven forms.** A typed opcode flagged TYPES_PROVEN (which the
//!   validator proved on every path, invariant T1) becomes its unchecked
//!   form (`AddFloatP`…).
//! - **Fused sequences** (only when instructions are not being counted,
//!   and only where no jump or return lands inside the sequence): the first
//!   instruction of `loadint Rk i; addi/subi Ra Rb Rk` (Rk dead after),
//!   `<int compare> Ra Rb Rc; jmpf Ra T` (and `jmpt` as the inverse
//!   compare when Ra dies at the jump), `loadint Rk i; <int compare> Ra Rb
//!   Rk; jmpf Ra T`, `<int compare with immediate>; jmpf` and `<float
//!   compare>; jmpf/jmpt` becomes one
//!   instruction that does the whole sequence and skips the rest (which
//!   stay in place: the handler reads the jump from them). Where the
//!   compare's register dies at the jump and owns no heap value before
//!   it, the fused form does not write it ([`XInstr::RESULT_UNUSED`]).
//! - **Release points** ([`owned_registers`]): where a frame ends or a call
//!   starts, the registers that may still own a heap value are known
//!   statically; a `return` with none becomes plain `Return`, one with
//!   some becomes `ReturnSweep` naming a list of exactly those registers,
//!   and calls and tail calls that must clean registers above their
//!   arguments become their `...Sweep` forms.
//!
//! The release discipline the analysis assumes, which every handler in
//! the loop keeps: **a register read with its last-use flag holds no heap
//! value once the instruction completes** (it was moved out or released),
//! and a callee leaves its whole window free of heap values when it
//! returns. With the invariant that the stack above the running window
//! holds no heap values, a return never has to scan the window.

use crate::error::RtResult;
use crate::value::Value;
use menai_bytecode::builtin_types;
use menai_bytecode::effects::register_effects;
use menai_bytecode::module::Constant;
use menai_bytecode::opcodes::Flow;
use menai_bytecode::validate::ValidModule;
use menai_bytecode::{Builtin, Function, Instr, Op};

macro_rules! define_xops {
    ($($plain:ident)*) => {
        /// An internal opcode: every file opcode (generated from the opcode
        /// table), then the internal forms.
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        #[repr(u8)]
        pub enum XOp {
            $($plain,)*
            // R[a] := R[b] + c as i16 (the `addi`/`subi` follows).
            AddIntImm,
            SubIntImm,
            // R[a] := R[b] <op> R[c]; if not R[a], jump as the `jmpf` that follows.
            LtIntJf, LeIntJf, GtIntJf, GeIntJf, EqIntJf, NeIntJf,
            // R[a] := R[b] <op> (c as i16); if not R[a], jump (the compare
            // and the `jmpf` follow the `loadint` this replaces).
            LtIntImmJf, LeIntImmJf, GtIntImmJf, GeIntImmJf, EqIntImmJf, NeIntImmJf,
            // A file `ltik`…`neik` followed by a `jmpf` on its result.
            LtIntKJf, LeIntKJf, GtIntKJf, GeIntKJf, EqIntKJf, NeIntKJf,
            // R[a] := R[b] <op> R[c] on floats; jump as the `jmpf` (`Jf`)
            // or `jmpt` (`Jt`) that follows when the result is false
            // (true). `P`: operand types proven (no tag check).
            LtFloatJf, LeFloatJf, GtFloatJf, GeFloatJf, EqFloatJf, NeFloatJf,
            LtFloatJt, LeFloatJt, GtFloatJt, GeFloatJt, EqFloatJt, NeFloatJt,
            LtFloatPJf, LeFloatPJf, GtFloatPJf, GeFloatPJf, EqFloatPJf, NeFloatPJf,
            LtFloatPJt, LeFloatPJt, GtFloatPJt, GeFloatPJt, EqFloatPJt, NeFloatPJt,
            // `nullp A B` and the `jmpf`/`jmpt` on A that follows (`P`:
            // R[B] proven a list).
            NullJf, NullJt, NullPJf, NullPJt,
            // Typed opcodes whose operand types are proven: no tag checks.
            AddFloatP, SubFloatP, MulFloatP, LtFloatP, LeFloatP, GtFloatP, GeFloatP,
            EqFloatP, NeFloatP, ListNullP, NotP,
            // `return A` that first releases the registers of sweep list Bx.
            ReturnSweep,
            // `tailcall A B` / `tailcallf A B` that release the registers of
            // sweep list C before the arguments move (or, with C =
            // WHOLE_WINDOW, the window above the arguments after).
            TailCallSweep,
            TailCallFSweep,
            // `call` / `callf` that first release every register of the
            // window above the arguments.
            CallSweep,
            CallFSweep,
            // `callb A B C` of a hot builtin (B its code), with a fast path
            // inline and the builtin itself as the slow path.
            ListRefB,
            ListLengthB,
            IntModB,
            IntDivB,
            IntMinB,
            IntMaxB,
            StructGetImmB,
            StructGetB,
            StructTypePB,
            SetMemberB,
            DictGetB,
            DictSetB,
            // `callb` of a type predicate: R[A] := whether R[C]'s
            // discriminant is in the set B (`value::predicate_tags`).
            TypeTestB,
        }

        impl XOp {
            fn from_op(op: Op) -> XOp {
                match op {
                    $(Op::$plain => XOp::$plain,)*
                }
            }
        }
    };
}

menai_bytecode::for_each_op!(define_xops);

/// One internal instruction: the same fields as a file instruction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(C)]
pub struct XInstr {
    pub op: XOp,
    pub flags: u8,
    pub a: u16,
    pub b: u16,
    pub c: u16,
}

const _: () = assert!(std::mem::size_of::<XInstr>() == 8);

impl XInstr {
    fn plain(i: Instr) -> XInstr {
        XInstr {
            op: XOp::from_op(i.op),
            flags: i.flags,
            a: i.a,
            b: i.b,
            c: i.c,
        }
    }

    /// The 32-bit Bx field (B low, C high).
    #[inline(always)]
    pub fn bx(self) -> u32 {
        self.b as u32 | (self.c as u32) << 16
    }

    /// The Bx field as a signed value (an immediate, or a relative jump).
    #[inline(always)]
    pub fn sbx(self) -> i32 {
        self.bx() as i32
    }

    /// In the flags of a known call (`callf`, `tailcallf` and their sweep
    /// forms): the callee runs in the empty environment (it has no
    /// captures, the caller has some) rather than the current one.
    pub const EMPTY_ENV: u8 = 1;

    /// In the flags of a fused compare-and-branch (`LtIntJf`…,
    /// `LtFloatJf`…, `NullJf`…): its result register dies at the jump and
    /// owns no heap value before the compare, so the handler need not
    /// write the result at all (the register keeps an immediate value,
    /// which is all the release analysis assumes of it). Bit 6 is free
    /// in these forms: their operands use last-use bits 0 and 1 only.
    pub const RESULT_UNUSED: u8 = 1 << 6;

    /// Whether flag bit `i` marks the `i`-th register read as a last use.
    #[inline(always)]
    pub fn is_last_use(self, i: u32) -> bool {
        i < Instr::LAST_USE_BITS && self.flags & (1 << i) != 0
    }
}

/// One function's internal code and what the loop needs of it.
pub struct FnCode {
    /// Its index in the module.
    pub index: u32,
    pub code: Box<[XInstr]>,
    /// The constant pool, converted to values.
    pub consts: Box<[Value]>,
    /// Sweep lists: at index i, a count n then n register numbers.
    pub sweeps: Box<[u16]>,
    pub num_registers: u32,
    pub num_params: u32,
    pub num_captures: u32,
    pub has_rest: bool,
}

/// Translates every function of `m`; fuses hot sequences when `fuse`.
/// Fails once the run is over its memory limit (the constant pools
/// of a hostile file can be large: each constant is checked as it is
/// converted).
pub fn translate(m: &ValidModule, fuse: bool) -> RtResult<Vec<FnCode>> {
    m.functions
        .iter()
        .enumerate()
        .map(|(i, f)| translate_function(m, i as u32, f, fuse))
        .collect()
}

fn translate_function(m: &ValidModule, index: u32, f: &Function, fuse: bool) -> RtResult<FnCode> {
    let mut code: Vec<XInstr> = f.code.iter().map(|&i| XInstr::plain(i)).collect();
    for (pc, (x, ins)) in code.iter_mut().zip(&f.code).enumerate() {
        if ins.op.flow().jumps() {
            // I4: the target is inside the code, so this fits an i32.
            let rel = ins.bx() as i64 - (pc as i64 + 1);
            x.b = rel as i32 as u32 as u16;
            x.c = ((rel as i32 as u32) >> 16) as u16;
        }
        if ins.types_proven() {
            if let Some(p) = proven_form(ins.op) {
                x.op = p;
            }
        }
        if ins.op == Op::CallBuiltin {
            select_builtin(*ins, x);
        }
        if matches!(ins.op, Op::CallF | Op::TailCallF) {
            // Internal flags: the VM reads no last-use flag of a known call
            // (its arguments become the callee's window).
            let callee = m.functions[ins.b as usize].num_captures;
            x.flags = if callee == f.num_captures {
                0
            } else {
                XInstr::EMPTY_ENV
            };
        }
    }
    let owned = owned_registers(m, f);
    let mut sweeps = Vec::new();
    place_sweeps(m, f, owned.as_deref(), &mut code, &mut sweeps);
    if fuse {
        fuse_sequences(f, owned.as_deref(), &mut code);
    }
    let mut consts = Vec::with_capacity(f.constants.len());
    for k in &f.constants {
        consts.push(crate::interp_ops::constant_value(k)?);
        if crate::alloc::over_limit() {
            return Err(crate::interp_ops::memory_error(None));
        }
    }
    Ok(FnCode {
        index,
        code: code.into_boxed_slice(),
        consts: consts.into_boxed_slice(),
        sweeps: sweeps.into_boxed_slice(),
        num_registers: f.num_registers as u32,
        num_params: f.params.len() as u32,
        num_captures: f.num_captures as u32,
        has_rest: f.rest.is_some(),
    })
}

/// The internal form of `callb` for the hot builtins (see [`XOp`]).
fn select_builtin(ins: Instr, x: &mut XInstr) {
    let Some(b) = Builtin::from_code(ins.b) else {
        return;
    };
    if let Some(tags) = crate::value::predicate_tags(b) {
        x.op = XOp::TypeTestB;
        x.b = tags;
        return;
    }
    x.op = match b {
        Builtin::ListRef => XOp::ListRefB,
        Builtin::ListLength => XOp::ListLengthB,
        Builtin::IntegerMod => XOp::IntModB,
        Builtin::IntegerDiv => XOp::IntDivB,
        Builtin::IntegerMin => XOp::IntMinB,
        Builtin::IntegerMax => XOp::IntMaxB,
        Builtin::StructGetImm => XOp::StructGetImmB,
        Builtin::StructGet => XOp::StructGetB,
        Builtin::StructTypeP => XOp::StructTypePB,
        Builtin::SetMemberP => XOp::SetMemberB,
        Builtin::DictGet => XOp::DictGetB,
        Builtin::DictSet => XOp::DictSetB,
        _ => return,
    };
}

/// The unchecked form of a typed opcode, for those that have one.
fn proven_form(op: Op) -> Option<XOp> {
    Some(match op {
        Op::AddFloat => XOp::AddFloatP,
        Op::SubFloat => XOp::SubFloatP,
        Op::MulFloat => XOp::MulFloatP,
        Op::LtFloat => XOp::LtFloatP,
        Op::LeFloat => XOp::LeFloatP,
        Op::GtFloat => XOp::GtFloatP,
        Op::GeFloat => XOp::GeFloatP,
        Op::EqFloat => XOp::EqFloatP,
        Op::NeFloat => XOp::NeFloatP,
        Op::ListNull => XOp::ListNullP,
        Op::Not => XOp::NotP,
        _ => return None,
    })
}

// ---------------------------------------------------------------------------
// Release points
// ---------------------------------------------------------------------------

/// A set of registers (one bit each).
#[derive(Clone, PartialEq, Eq)]
struct Regs(Vec<u64>);

impl Regs {
    fn new(n: usize) -> Regs {
        Regs(vec![0; n.div_ceil(64)])
    }
    fn contains(&self, r: u32) -> bool {
        self.0
            .get(r as usize / 64)
            .is_some_and(|w| w & (1 << (r % 64)) != 0)
    }
    fn insert(&mut self, r: u32) {
        if let Some(w) = self.0.get_mut(r as usize / 64) {
            *w |= 1 << (r % 64);
        }
    }
    fn remove(&mut self, r: u32) {
        if let Some(w) = self.0.get_mut(r as usize / 64) {
            *w &= !(1 << (r % 64));
        }
    }
    /// Removes every register in `from..to`.
    fn remove_range(&mut self, from: u32, to: u32) {
        for r in from..to {
            self.remove(r);
        }
    }
    /// Adds `other`; whether anything changed.
    fn union(&mut self, other: &Regs) -> bool {
        let mut changed = false;
        for (a, b) in self.0.iter_mut().zip(&other.0) {
            let n = *a | b;
            changed |= n != *a;
            *a = n;
        }
        changed
    }
    fn iter(&self) -> impl Iterator<Item = u32> + '_ {
        self.0.iter().enumerate().flat_map(|(i, &w)| {
            (0..64)
                .filter(move |b| w & (1 << b) != 0)
                .map(move |b| i as u32 * 64 + b)
        })
    }
    fn any_in(&self, from: u32, to: u32) -> bool {
        (from..to).any(|r| self.contains(r))
    }
}

/// Budget of the analysis, in bitset words (blocks × registers / 64).
const ANALYSIS_WORDS: usize = 1 << 22;

/// Whether a value written by `ins` (not a `move`) can own a heap object.
/// Booleans, floats, small integer immediates, `#none`, builtins and
/// struct types never do; integers in general can (a big integer), as can
/// everything else.
fn writes_heap(f: &Function, ins: Instr) -> bool {
    use menai_bytecode::val_type::ValType;
    match ins.op {
        Op::LoadInt | Op::LoadBool | Op::LoadNone | Op::LoadBuiltin => false,
        Op::LoadK => !matches!(
            f.constants.get(ins.b as usize),
            Some(
                Constant::None
                    | Constant::Bool(_)
                    | Constant::Int(_)
                    | Constant::Float(_)
                    | Constant::StructType(_)
            )
        ),
        Op::CallBuiltin => !matches!(
            Builtin::from_code(ins.b).and_then(builtin_types::result_type),
            Some(builtin_types::Type::Boolean | builtin_types::Type::Float)
        ),
        op => !matches!(op.result_type(), Some(ValType::Bool | ValType::Float)),
    }
}

/// The registers that may own a heap value before each instruction
/// (`None`: unreachable, or the function is too large to analyse).
///
/// Forward dataflow, "may" (union at joins). On entry the argument
/// registers may own values and the others hold none (the stack above a
/// caller's argument window is clean). A write adds its register unless
/// the value is immediate; a read flagged as a last use removes its
/// register (the handler releases it); a `call`/`callf` removes its
/// window (the callee cleans it before returning) and adds its result.
fn owned_registers(m: &ValidModule, f: &Function) -> Option<Vec<Option<Regs>>> {
    let n = f.code.len();
    let nregs = f.num_registers as usize;
    // Blocks: leaders are 0, jump targets, and what follows a jump or exit.
    let mut leader = vec![false; n + 1];
    leader[0] = true;
    for (pc, ins) in f.code.iter().enumerate() {
        let flow = ins.op.flow();
        if flow.jumps() {
            leader[ins.bx() as usize] = true;
        }
        if matches!(flow, Flow::Goto | Flow::Branch | Flow::Exit) {
            leader[pc + 1] = true;
        }
    }
    let starts: Vec<usize> = (0..n).filter(|&pc| leader[pc]).collect();
    if starts.len().saturating_mul(nregs.div_ceil(64)) > ANALYSIS_WORDS {
        return None;
    }
    let mut block_of = vec![0usize; n];
    for (b, &s) in starts.iter().enumerate() {
        let end = starts.get(b + 1).copied().unwrap_or(n);
        block_of[s..end].fill(b);
    }
    let mut entry: Vec<Option<Regs>> = vec![None; starts.len()];
    let mut first = Regs::new(nregs);
    for r in 0..f.num_arg_registers() as u32 {
        first.insert(r);
    }
    entry[0] = Some(first);
    let mut work = vec![0usize];
    let mut queued = vec![false; starts.len()];
    queued[0] = true;
    let step = |state: &mut Regs, ins: Instr| transfer(m, f, state, ins);
    while let Some(b) = work.pop() {
        queued[b] = false;
        let Some(mut state) = entry[b].clone() else {
            continue;
        };
        let end = starts.get(b + 1).copied().unwrap_or(n);
        let mut pc = starts[b];
        while pc < end {
            step(&mut state, f.code[pc]);
            pc += 1;
        }
        let last = f.code[end - 1];
        let flow = last.op.flow();
        let mut succs = Vec::with_capacity(2);
        if flow.falls_through() && end < n {
            succs.push(block_of[end]);
        }
        if flow.jumps() {
            succs.push(block_of[last.bx() as usize]);
        }
        for s in succs {
            let changed = match &mut entry[s] {
                Some(e) => e.union(&state),
                slot @ None => {
                    *slot = Some(state.clone());
                    true
                }
            };
            if changed && !queued[s] {
                queued[s] = true;
                work.push(s);
            }
        }
    }
    let mut out = vec![None; n];
    for (b, &s) in starts.iter().enumerate() {
        let Some(mut state) = entry[b].clone() else {
            continue;
        };
        let end = starts.get(b + 1).copied().unwrap_or(n);
        for (slot, &ins) in out[s..end].iter_mut().zip(&f.code[s..end]) {
            *slot = Some(state.clone());
            step(&mut state, ins);
        }
    }
    Some(out)
}

/// The effect of one instruction on the set of registers that may own a
/// heap value (see [`owned_registers`]).
fn transfer(m: &ValidModule, f: &Function, state: &mut Regs, ins: Instr) {
    let e = register_effects(m, f, ins);
    let source_owned = ins.op == Op::Move && state.contains(ins.b as u32);
    match ins.op {
        // The callee (flag 0) is moved out or stays; the arguments become
        // the callee's window, which it cleans before returning.
        Op::Call => {
            if ins.is_last_use(0) {
                state.remove(ins.a as u32);
            }
            state.remove_range(ins.a as u32 + 1, f.num_registers as u32);
        }
        Op::CallF => state.remove_range(ins.a as u32, f.num_registers as u32),
        _ => {
            let _ = e.reads.try_for_each::<()>(|i, r| {
                if ins.is_last_use(i as u32) {
                    state.remove(r);
                }
                Ok(())
            });
        }
    }
    if let Some(w) = e.write {
        let heap = if ins.op == Op::Move {
            source_owned
        } else {
            writes_heap(f, ins)
        };
        if heap {
            state.insert(w as u32);
        } else {
            state.remove(w as u32);
        }
    }
}

/// Chooses the release form of every return, tail call and call of `f`
/// (see the module documentation), appending sweep lists to `sweeps`.
fn place_sweeps(
    m: &ValidModule,
    f: &Function,
    owned: Option<&[Option<Regs>]>,
    code: &mut [XInstr],
    sweeps: &mut Vec<u16>,
) {
    let nregs = f.num_registers as u32;
    let Some(owned) = owned else {
        // Too large to analyse: every exit and call cleans its whole window.
        for (x, ins) in code.iter_mut().zip(&f.code) {
            x.op = match ins.op {
                Op::Return => {
                    let all: Vec<u16> = (0..nregs).map(|r| r as u16).collect();
                    let Some(id) = push_list(sweeps, &all) else {
                        continue;
                    };
                    x.b = id as u16;
                    x.c = (id >> 16) as u16;
                    XOp::ReturnSweep
                }
                Op::Call => XOp::CallSweep,
                Op::CallF => XOp::CallFSweep,
                _ => continue,
            };
        }
        full_tail_sweeps(f, code);
        return;
    };
    for (pc, ins) in f.code.iter().enumerate() {
        let Some(state) = &owned[pc] else { continue };
        let x = &mut code[pc];
        match ins.op {
            Op::Return => {
                let list: Vec<u16> = state
                    .iter()
                    .filter(|&r| r != ins.a as u32)
                    .map(|r| r as u16)
                    .collect();
                if let (false, Some(id)) = (list.is_empty(), push_list(sweeps, &list)) {
                    x.op = XOp::ReturnSweep;
                    x.b = id as u16;
                    x.c = (id >> 16) as u16;
                }
            }
            Op::TailCall | Op::TailCallF => {
                // Swept before the arguments move down: every register that
                // may own a value except the callee and the arguments
                // (which are moved).
                let (lo, hi) = if ins.op == Op::TailCall {
                    (ins.a as u32, ins.a as u32 + ins.b as u32)
                } else {
                    let n = m.functions[ins.b as usize].params.len() as u32;
                    (ins.a as u32, (ins.a as u32 + n).saturating_sub(1))
                };
                let list: Vec<u16> = state
                    .iter()
                    .filter(|&r| !(lo..=hi).contains(&r))
                    .map(|r| r as u16)
                    .collect();
                if !list.is_empty() {
                    let id = push_list(sweeps, &list).and_then(|id| u16::try_from(id).ok());
                    set_tail_sweep(x, id.unwrap_or(WHOLE_WINDOW));
                }
            }
            Op::Call if state.any_in(ins.a as u32 + ins.b as u32 + 1, nregs) => {
                x.op = XOp::CallSweep;
            }
            Op::CallF
                if state.any_in(
                    ins.a as u32 + m.functions[ins.b as usize].params.len() as u32,
                    nregs,
                ) =>
            {
                x.op = XOp::CallFSweep;
            }
            _ => {}
        }
    }
}

/// Field C of a sweeping tail call that cleans, once the arguments are in
/// place, every register of its window above them (instead of a list).
pub const WHOLE_WINDOW: u16 = u16::MAX;

/// Every tail call of `f` sweeps its whole window above the arguments.
fn full_tail_sweeps(f: &Function, code: &mut [XInstr]) {
    for (x, ins) in code.iter_mut().zip(&f.code) {
        if matches!(ins.op, Op::TailCall | Op::TailCallF) {
            set_tail_sweep(x, WHOLE_WINDOW);
        }
    }
}

/// Makes a tail call sweep list `id` (or [`WHOLE_WINDOW`]) of field C.
fn set_tail_sweep(x: &mut XInstr, id: u16) {
    x.op = match x.op {
        XOp::TailCall => XOp::TailCallSweep,
        XOp::TailCallF => XOp::TailCallFSweep,
        other => other,
    };
    x.c = id;
}

/// Appends a sweep list; returns its index.
fn push_list(sweeps: &mut Vec<u16>, list: &[u16]) -> Option<u32> {
    let id = u32::try_from(sweeps.len()).ok()?;
    sweeps.push(u16::try_from(list.len()).ok()?);
    sweeps.extend_from_slice(list);
    Some(id)
}

// ---------------------------------------------------------------------------
// Fusion
// ---------------------------------------------------------------------------

/// The compare-and-branch opcodes for an integer comparison (register, immediate).
fn cmp_jf(op: Op) -> Option<(XOp, XOp)> {
    Some(match op {
        Op::LtInt => (XOp::LtIntJf, XOp::LtIntImmJf),
        Op::LeInt => (XOp::LeIntJf, XOp::LeIntImmJf),
        Op::GtInt => (XOp::GtIntJf, XOp::GtIntImmJf),
        Op::GeInt => (XOp::GeIntJf, XOp::GeIntImmJf),
        Op::EqInt => (XOp::EqIntJf, XOp::EqIntImmJf),
        Op::NeInt => (XOp::NeIntJf, XOp::NeIntImmJf),
        _ => return None,
    })
}

/// The compare-and-branch opcode for an integer comparison with an immediate.
fn cmp_k_jf(op: Op) -> Option<XOp> {
    Some(match op {
        Op::LtIntK => XOp::LtIntKJf,
        Op::LeIntK => XOp::LeIntKJf,
        Op::GtIntK => XOp::GtIntKJf,
        Op::GeIntK => XOp::GeIntKJf,
        Op::EqIntK => XOp::EqIntKJf,
        Op::NeIntK => XOp::NeIntKJf,
        _ => return None,
    })
}

/// The integer comparison with the opposite result (`<` and `>=`, ...):
/// `cmp; jmpt` is `inverse cmp; jmpf` when the compare's register is dead
/// after the jump (integers have no NaN).
fn inverse_int_compare(op: Op) -> Option<Op> {
    Some(match op {
        Op::LtInt => Op::GeInt,
        Op::GeInt => Op::LtInt,
        Op::LeInt => Op::GtInt,
        Op::GtInt => Op::LeInt,
        Op::EqInt => Op::NeInt,
        Op::NeInt => Op::EqInt,
        Op::LtIntK => Op::GeIntK,
        Op::GeIntK => Op::LtIntK,
        Op::LeIntK => Op::GtIntK,
        Op::GtIntK => Op::LeIntK,
        Op::EqIntK => Op::NeIntK,
        Op::NeIntK => Op::EqIntK,
        _ => return None,
    })
}

/// The fused test-and-branch opcode of a float comparison or `nullp`: by
/// test, whether the branch is a `jmpt`, and whether the operand types
/// are proven.
fn test_branch(op: Op, on_true: bool, proven: bool) -> Option<XOp> {
    use XOp::*;
    let row = match op {
        Op::ListNull => [NullJf, NullJt, NullPJf, NullPJt],
        Op::LtFloat => [LtFloatJf, LtFloatJt, LtFloatPJf, LtFloatPJt],
        Op::LeFloat => [LeFloatJf, LeFloatJt, LeFloatPJf, LeFloatPJt],
        Op::GtFloat => [GtFloatJf, GtFloatJt, GtFloatPJf, GtFloatPJt],
        Op::GeFloat => [GeFloatJf, GeFloatJt, GeFloatPJf, GeFloatPJt],
        Op::EqFloat => [EqFloatJf, EqFloatJt, EqFloatPJf, EqFloatPJt],
        Op::NeFloat => [NeFloatJf, NeFloatJt, NeFloatPJf, NeFloatPJt],
        _ => return None,
    };
    Some(row[usize::from(on_true) + 2 * usize::from(proven)])
}

/// `loadint Rk i` whose immediate fits in 16 bits, as `(k, i)`.
fn small_loadint(i: Instr) -> Option<(u16, i16)> {
    if i.op != Op::LoadInt {
        return None;
    }
    i16::try_from(i.sbx()).ok().map(|v| (i.a, v))
}

/// Replaces the first instruction of each hot sequence by a fused one. A
/// fused `loadint Rk` does not write Rk, so it is fused only where Rk owns
/// no heap value before it (`owned`), keeping the release analysis exact.
fn fuse_sequences(f: &Function, owned: Option<&[Option<Regs>]>, out: &mut [XInstr]) {
    let code = &f.code;
    // Indices where control may arrive other than by falling through.
    let mut landing = vec![false; code.len() + 1];
    landing[0] = true;
    for (pc, i) in code.iter().enumerate() {
        match i.op.flow() {
            Flow::Goto | Flow::Branch => landing[i.bx() as usize] = true,
            Flow::Call => landing[pc + 1] = true,
            Flow::Next | Flow::Exit => {}
        }
    }
    let at = |pc: usize| code.get(pc).copied();
    // Whether register `r` owns no heap value before instruction `pc`.
    let clean_before = |pc: usize, r: u16| {
        owned
            .and_then(|o| o.get(pc))
            .and_then(Option::as_ref)
            .is_some_and(|state| !state.contains(r as u32))
    };
    // The flags of a fused compare at `pc` (its own flags) whose result
    // the conditional jump `jump` reads: [`XInstr::RESULT_UNUSED`] added
    // when that result dies at the jump and its register is clean.
    // (The validator already rejects bit 6 on a compare, I9: it is
    // cleared here all the same.)
    let branch_flags = |pc: usize, cmp: Instr, jump: Instr| {
        let flags = cmp.flags & !XInstr::RESULT_UNUSED;
        if jump.is_last_use(0) && clean_before(pc, cmp.a) {
            flags | XInstr::RESULT_UNUSED
        } else {
            flags
        }
    };
    for pc in 0..code.len() {
        let (Some(first), Some(second)) = (at(pc), at(pc + 1)) else {
            continue;
        };
        if landing[pc + 1] {
            continue;
        }
        let jmpf_on = |i: Instr, r: u16| i.op == Op::JmpFalse && i.a == r;
        // `cmp; jmpt` on an integer compare whose register dies at the
        // jump: the inverse compare and `jmpf` (the register gets the
        // inverse result, which nothing reads).
        let jmpt_dead_on = |i: Instr, r: u16| i.op == Op::JmpTrue && i.a == r && i.is_last_use(0);
        let int_cmp = if jmpf_on(second, first.a) {
            Some(first.op)
        } else if jmpt_dead_on(second, first.a) {
            inverse_int_compare(first.op)
        } else {
            None
        };
        if let Some(cmp) = int_cmp {
            if let Some(jf) = cmp_k_jf(cmp).or_else(|| cmp_jf(cmp).map(|(jf, _)| jf)) {
                out[pc].op = jf;
                out[pc].flags = branch_flags(pc, first, second);
                continue;
            }
        }
        if matches!(second.op, Op::JmpFalse | Op::JmpTrue) && second.a == first.a {
            let on_true = second.op == Op::JmpTrue;
            if let Some(op) = test_branch(first.op, on_true, first.types_proven()) {
                out[pc].op = op;
                out[pc].flags = branch_flags(pc, first, second);
                continue;
            }
        }
        let Some((k, imm)) = small_loadint(first) else {
            continue;
        };
        if !clean_before(pc, k) {
            continue;
        }
        // The immediate's register must be the right operand, not the left
        // one, and dead afterwards (flag bit 1 = R[c]).
        if !(second.c == k && second.b != k && second.is_last_use(1)) {
            continue;
        }
        let fused = |op: XOp| XInstr {
            op,
            flags: second.flags,
            a: second.a,
            b: second.b,
            c: imm as u16,
        };
        match second.op {
            Op::AddInt => out[pc] = fused(XOp::AddIntImm),
            Op::SubInt => out[pc] = fused(XOp::SubIntImm),
            _ => {
                if let (Some((_, jf_imm)), Some(third)) = (cmp_jf(second.op), at(pc + 2)) {
                    if jmpf_on(third, second.a) && !landing[pc + 2] {
                        out[pc] = fused(jf_imm);
                        out[pc].flags = branch_flags(pc + 1, second, third);
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use menai_bytecode::{Module, SrcLoc};

    fn function(params: usize, nregs: u16, code: Vec<Instr>) -> Function {
        Function {
            name: "f".into(),
            params: (0..params).map(|i| format!("p{i}")).collect(),
            rest: None,
            num_captures: 0,
            num_registers: nregs,
            constants: vec![],
            closure_sites: vec![],
            locs: vec![SrcLoc::UNKNOWN; code.len()],
            cond_origins: vec![],
            code,
            loc: SrcLoc::UNKNOWN,
        }
    }

    /// Translates `f` as the entry function's only callee (`main` calls it).
    fn translated(f: Function, fuse: bool) -> FnCode {
        let args = f.params.len() as u16;
        let mut main_code: Vec<Instr> = (0..args).map(|r| Instr::abx(Op::LoadInt, r, 1)).collect();
        main_code.push(Instr::abc(Op::CallF, 0, 1, 0));
        main_code.push(Instr::abc(Op::Return, 0, 0, 0));
        let main = function(0, args.max(1), main_code);
        let m = ValidModule::new(Module {
            files: vec![],
            file_hashes: vec![],
            struct_types: vec![],
            functions: vec![main, f],
            entry: 0,
        })
        .expect("valid test module");
        translate(&m, fuse).expect("translates").remove(1)
    }

    fn last(mut i: Instr, flags: u8) -> Instr {
        i.flags = flags;
        i
    }

    #[test]
    fn fuses_only_safe_sequences() {
        let code = vec![
            Instr::abx(Op::LoadInt, 1, 2),
            last(Instr::abc(Op::LtInt, 1, 0, 1), 0b10),
            Instr::abx(Op::JmpFalse, 1, 4),
            Instr::abc(Op::Return, 0, 0, 0),
            Instr::abx(Op::LoadInt, 1, 1),
            last(Instr::abc(Op::SubInt, 2, 0, 1), 0b10),
            // not fused: the immediate register stays live
            Instr::abx(Op::LoadInt, 1, 1),
            Instr::abc(Op::SubInt, 2, 0, 1),
            Instr::abc(Op::Return, 2, 0, 0),
        ];
        let x = translated(function(1, 3, code.clone()), true).code;
        assert_eq!(x[0].op, XOp::LtIntImmJf);
        assert_eq!((x[0].a, x[0].b, x[0].c), (1, 0, 2));
        assert_eq!(x[1].op, XOp::LtIntJf);
        assert_eq!(x[4].op, XOp::SubIntImm);
        assert_eq!((x[4].a, x[4].b, x[4].c), (2, 0, 1));
        assert_eq!(x[6].op, XOp::LoadInt);
        let plain = translated(function(1, 3, code), false).code;
        assert!(plain
            .iter()
            .all(|i| !matches!(i.op, XOp::LtIntImmJf | XOp::LtIntJf | XOp::SubIntImm)));
    }

    /// A fused compare-and-branch skips writing its result only when the
    /// result dies at the jump and its register owns no heap value before
    /// the compare.
    #[test]
    fn fused_branch_result_unused_only_when_dead_and_clean() {
        use Op::*;
        let unused = |i: XInstr| i.flags & XInstr::RESULT_UNUSED != 0;
        let code = vec![
            // R1 is clean on entry (only the argument R0 may own a value).
            Instr::abc(LtInt, 1, 0, 0),
            last(Instr::abx(JmpFalse, 1, 2), 1),
            // R1 stays live after the jump: written.
            Instr::abc(LtInt, 1, 0, 0),
            Instr::abx(JmpFalse, 1, 4),
            // R2 may own the argument's value (a big integer, say): written.
            Instr::abc(Move, 2, 0, 0),
            Instr::abc(LtInt, 2, 0, 0),
            last(Instr::abx(JmpFalse, 2, 7), 1),
            Instr::abc(Return, 1, 0, 0),
        ];
        let x = translated(function(1, 3, code), true).code;
        assert_eq!(x[0].op, XOp::LtIntJf);
        assert!(unused(x[0]));
        assert_eq!(x[2].op, XOp::LtIntJf);
        assert!(!unused(x[2]));
        assert_eq!(x[5].op, XOp::LtIntJf);
        assert!(!unused(x[5]));
    }

    /// `cmp; jmpt` on integers becomes the inverse compare and `jmpf` when
    /// the compare's register dies at the jump (else nothing is fused);
    /// float compares fuse with either jump, proven or not.
    #[test]
    fn fuses_jmpt_and_float_compares() {
        use Op::*;
        let code = vec![
            Instr::abc(LtInt, 1, 0, 0),
            last(Instr::abx(JmpTrue, 1, 6), 1),
            Instr::abc(LtIntK, 1, 0, 3),
            Instr::abx(JmpTrue, 1, 6), // R1 stays live: not fused
            Instr::abc(Move, 1, 1, 0),
            Instr::abc(Return, 1, 0, 0),
            Instr::abc(Return, 0, 0, 0),
        ];
        let x = translated(function(1, 2, code), true).code;
        assert_eq!(x[0].op, XOp::GeIntJf);
        assert_eq!(x[2].op, XOp::LtIntK);
        let code = vec![
            Instr::abc(LoadNone, 0, 0, 0),
            Instr::abc(LtFloat, 1, 0, 0),
            Instr::abx(JmpFalse, 1, 5),
            Instr::abc(GeFloat, 1, 0, 0).with_types_proven(true),
            Instr::abx(JmpTrue, 1, 5),
            Instr::abc(Return, 1, 0, 0),
        ];
        let mut f = function(0, 2, code);
        f.code[0] = Instr::abx(LoadK, 0, 0);
        f.constants = vec![Constant::Float(1.0)];
        let x = translated(f, true).code;
        assert_eq!(x[1].op, XOp::LtFloatJf);
        assert_eq!(x[3].op, XOp::GeFloatPJt);
        // `nullp` with either jump, checked or proven.
        let code = vec![
            Instr::abc(LoadNil, 0, 0, 0),
            Instr::abc(ListNull, 1, 0, 0),
            Instr::abx(JmpFalse, 1, 5),
            Instr::abc(ListNull, 1, 0, 0).with_types_proven(true),
            Instr::abx(JmpTrue, 1, 5),
            Instr::abc(Return, 1, 0, 0),
        ];
        let x = translated(function(0, 2, code), true).code;
        assert_eq!(x[1].op, XOp::NullJf);
        assert_eq!(x[3].op, XOp::NullPJt);
    }

    #[test]
    fn does_not_fuse_across_a_landing_point() {
        let code = vec![
            Instr::abx(Op::LoadInt, 1, 1),
            last(Instr::abc(Op::SubInt, 0, 0, 1), 0b10),
            Instr::abc(Op::LtIntK, 1, 0, 0),
            Instr::abx(Op::JmpFalse, 1, 1),
            Instr::abc(Op::Return, 0, 0, 0),
        ];
        let x = translated(function(1, 2, code), true).code;
        // pc 1 is a jump target: `loadint; subi` is not one sequence.
        assert_eq!(x[0].op, XOp::LoadInt);
        assert_eq!(x[2].op, XOp::LtIntKJf);
    }

    #[test]
    fn jumps_are_relative_to_the_next_instruction() {
        let code = vec![
            Instr::abx(Op::Jmp, 0, 2),
            Instr::abc(Op::Return, 0, 0, 0),
            Instr::abx(Op::Jmp, 0, 1),
        ];
        let x = translated(function(1, 1, code), false).code;
        assert_eq!(x[0].sbx(), 1);
        assert_eq!(x[2].sbx(), -2);
    }

    /// Where a frame ends, only registers that may still own a heap value
    /// are swept: none in fib (every value dies at a flagged read or is an
    /// immediate), the parameter when one path never reads it.
    #[test]
    fn returns_sweep_exactly_the_registers_that_may_own_values() {
        use Op::*;
        let fib = vec![
            Instr::abc(LtIntK, 1, 0, 2),
            last(Instr::abx(JmpFalse, 1, 3), 1),
            last(Instr::abc(Return, 0, 0, 0), 1),
            Instr::abc(SubIntK, 2, 0, 1),
            Instr::abc(CallF, 2, 1, 1),
            last(Instr::abc(SubIntK, 3, 0, 2), 1),
            Instr::abc(CallF, 3, 1, 0),
            last(Instr::abc(AddInt, 0, 1, 0), 0b11),
            last(Instr::abc(Return, 0, 0, 0), 1),
        ];
        let x = translated(function(1, 4, fib), false);
        assert_eq!(x.code[2].op, XOp::Return);
        assert_eq!(x.code[8].op, XOp::Return);
        assert!(matches!(x.code[4].op, XOp::CallF) && matches!(x.code[6].op, XOp::CallF));
        // (lambda (xs acc) (if (list-null? acc) xs acc)) with xs read only
        // on one path: the other return sweeps it.
        let f = vec![
            Instr::abc(ListNull, 2, 1, 0),
            last(Instr::abx(JmpFalse, 2, 3), 1),
            last(Instr::abc(Return, 0, 0, 0), 1),
            last(Instr::abc(Return, 1, 0, 0), 1),
        ];
        let x = translated(function(2, 3, f), false);
        assert_eq!(x.code[2].op, XOp::ReturnSweep);
        assert_eq!(x.code[3].op, XOp::ReturnSweep);
        let list = |i: usize| {
            let id = x.code[i].bx() as usize;
            x.sweeps[id + 1..id + 1 + x.sweeps[id] as usize].to_vec()
        };
        assert_eq!(list(2), vec![1]);
        assert_eq!(list(3), vec![0]);
    }
}
