//! The interpreter: one dispatch loop over a validated module.
//!
//! Machine state:
//! - one growable register stack (`Vec<Value>`); a frame's registers are the
//!   window `stack[base .. base + num_registers]`;
//! - the running function, its pc, base and environment in locals of the
//!   loop; the callers' saved states in a `Vec<Saved>` (never on the Rust
//!   stack, so Menai call depth is bounded by `max_depth`, not by the native
//!   stack).
//!
//! Calling convention (see the brief): `call A B C` evaluates nothing; the
//! arguments already sit in `R[A+1 ..= A+B]`, and the callee's window starts
//! at `R[A+1]`, so a call moves no values. A rest parameter's list is built
//! into callee `R[nparams]`. `tailcall` moves the arguments down to `R0..`
//! and replaces the running function, so tail calls run in constant space.
//! `apply` spreads a list above the caller's window.
//!
//! Invariants the loop keeps: `stack.len() >= base + num_registers` of the
//! running function (the stack only grows during a run); on return the
//! callee's window is cleared (heap values set to `#none`), so dead values
//! are released promptly and unshared structures keep a reference count
//! of 1; a call's result is written after that clearing (`call A B C` may
//! have C inside the callee's window).
//!
//! Unchecked accesses, each with a `SAFETY` comment: the instruction fetch
//! (`check_control_flow`: code non-empty, ends in a non-falling-through
//! instruction, jump targets in range) and register access (`reg_at`:
//! `check_registers`, validator invariant I2). Both checks run in `Vm::new`
//! on every module, so `run` is sound even on a module that skipped the
//! validator; other indices (constants, functions, ranges) stay checked.
//!
//! Code runs in an internal form (`interp_code`) that fuses a few hot
//! sequences. Slow paths live out of line: calls of non-closures, rest
//! parameters and `apply` in `interp/calls.rs`, value construction in
//! `interp/build.rs`, big integers and error messages in `interp_ops`.

use crate::builtins::{call_builtin, Args, Ctx};
use crate::error::{RtError, RtResult};
use crate::interp_code::{mark_proven, translate, XInstr, XOp};
use crate::interp_ops as ops;
use crate::value::{Env, Value};
use menai_bytecode::validate::register_effects;
use menai_bytecode::{Builtin, Function, Module, Op};
use std::rc::Rc;

mod build;
mod calls;

/// Limits and switches for one run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunOptions {
    /// Most nested non-tail calls (frames) allowed.
    pub max_depth: usize,
    /// Most instructions executed, if limited.
    pub max_steps: Option<u64>,
    /// Count instructions (and allocations, when the counting allocator is installed).
    pub stats: bool,
}

/// The default `max_depth`: far above the 100,000 frames LANGUAGE.md §11 requires.
pub const DEFAULT_MAX_DEPTH: usize = 1_000_000;

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            max_depth: DEFAULT_MAX_DEPTH,
            max_steps: None,
            stats: false,
        }
    }
}

/// What a run did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Instructions executed (counted only when stats or a step limit are on).
    pub instructions: u64,
    /// Calls made (closures, builtins and struct constructors called as
    /// values, tail calls included; counted like `instructions`).
    pub calls: u64,
    /// Heap allocations during the run (0 unless the counting allocator is installed).
    pub allocations: u64,
    /// Deepest frame stack reached (counted like `instructions`).
    pub max_depth: u64,
}

/// Whether a value owns no heap object (dropping it is a no-op).
#[inline(always)]
fn is_immediate(v: &Value) -> bool {
    matches!(
        v,
        Value::None
            | Value::Bool(_)
            | Value::Int(_)
            | Value::Float(_)
            | Value::Builtin(_)
            | Value::StructType(_)
    )
}

/// Stores `v` into a register. Overwriting an immediate value skips the
/// (out-of-line) drop glue, which is most of the cost of a register write.
#[inline(always)]
fn put(slot: &mut Value, v: Value) {
    if !is_immediate(slot) {
        release(slot);
    }
    // SAFETY: `slot` is a valid, aligned, exclusive reference, so writing
    // through it is sound; the value overwritten is immediate (checked or
    // just set to `#none` above), so skipping its destructor leaks nothing.
    unsafe { std::ptr::write(slot, v) }
}

/// The parts of the closure in `slot`, if it holds one: moved out (leaving
/// `#none`) when `take`, else cloned. The fields are read in place, which
/// avoids copying the whole value through memory right after it was built.
#[inline(always)]
fn closure_parts(slot: &mut Value, take: bool) -> Option<(u32, Rc<Env>)> {
    let Value::Closure(f, e) = slot else {
        return None;
    };
    let f = *f;
    if !take {
        return Some((f, e.clone()));
    }
    // SAFETY: the `Rc` is read out of the slot once, and the slot is then
    // overwritten without dropping its old contents, so ownership of the
    // `Rc` moves to the caller exactly once (no double drop, no leak).
    let e = unsafe { std::ptr::read(e) };
    // SAFETY: `slot` is a valid, exclusive reference (see above for why the
    // old value must not be dropped).
    unsafe { std::ptr::write(slot, Value::None) };
    Some((f, e))
}

/// Moves `stack[from]` to `stack[to]`. A small integer is copied field-wise
/// (its old slot keeps a stale integer, which owns nothing).
#[inline(always)]
fn move_slot(stack: &mut [Value], from: usize, to: usize) {
    if let Value::Int(i) = stack[from] {
        put(&mut stack[to], Value::Int(i));
    } else {
        let v = std::mem::take(&mut stack[from]);
        put(&mut stack[to], v);
    }
}

/// `stack[i]` without a bounds check.
///
/// # Safety
/// `i < stack.len()`. The interpreter calls it with `i = base + r` where `r`
/// is a register operand (a `RegR`/`RegW` field, or a register of a range
/// or capture list) of an instruction of the running function, so
/// `r < num_registers` (validator invariant I2, re-checked for every
/// instruction by `check_registers` in `Vm::new`), and `base` is the running
/// frame's base, for which `stack.len() >= base + num_registers` (every
/// frame entry calls `ensure`, and the stack never shrinks during a run).
#[inline(always)]
unsafe fn reg_at(stack: &[Value], i: usize) -> &Value {
    debug_assert!(i < stack.len());
    // SAFETY: guaranteed by the caller (see above).
    unsafe { stack.get_unchecked(i) }
}

/// `&mut stack[i]` without a bounds check.
///
/// # Safety
/// As for [`reg_at`].
#[inline(always)]
unsafe fn reg_at_mut(stack: &mut [Value], i: usize) -> &mut Value {
    debug_assert!(i < stack.len());
    // SAFETY: guaranteed by the caller (see `reg_at`).
    unsafe { stack.get_unchecked_mut(i) }
}

/// Checks that every register an instruction of `f` names is inside its
/// window (validator invariant I2), which `reg_at` relies on.
fn check_registers(m: &Module, f: &Function) -> Result<(), String> {
    let n = f.num_registers as u32;
    if (f.num_arg_registers() as u32) > n {
        return Err("more parameters than registers".into());
    }
    for (pc, &ins) in f.code.iter().enumerate() {
        let fx = register_effects(m, f, ins);
        let bad = |r: u32| format!("pc {pc}: register R{r} outside a window of {n}");
        fx.reads
            .try_for_each(|_, r| if r < n { Ok(()) } else { Err(bad(r)) })?;
        if let Some(w) = fx.write {
            if w as u32 >= n {
                return Err(bad(w as u32));
            }
        }
        // Fields that name registers in ways `register_effects` does not
        // list as single reads (the callee of `call`/`tailcall` is part of
        // its range; checked here explicitly all the same).
        if matches!(ins.op, Op::Call | Op::TailCall) && ins.a as u32 >= n {
            return Err(bad(ins.a as u32));
        }
    }
    Ok(())
}

/// Sets a register holding a heap value to `#none`.
#[inline(never)]
fn release(v: &mut Value) {
    *v = Value::None;
}

/// A suspended caller. Slots of `Vm::frames` are reused across calls and
/// written field by field (no temporary struct is built per call).
#[derive(Default)]
struct Saved {
    func: u32,
    pc: u32,
    base: usize,
    /// Absolute stack index of the caller register that receives the result.
    ret: usize,
    /// The caller's environment; `None` while the slot is not in use.
    env: Option<Rc<Env>>,
}

/// The facts the unchecked instruction fetch relies on (also established by
/// the validator; checked again here so `run` is sound on any module).
fn check_control_flow(f: &Function) -> Result<(), String> {
    let len = f.code.len();
    match f.code.last() {
        None => return Err("empty code".into()),
        Some(last) => {
            if last.op.flow().falls_through() {
                return Err("code falls off its end".into());
            }
        }
    }
    for (pc, ins) in f.code.iter().enumerate() {
        if ins.op.flow().jumps() && ins.bx() as usize >= len {
            return Err(format!("pc {pc}: jump target {} out of range", ins.bx()));
        }
    }
    Ok(())
}

/// Register-stack size beyond which no further call is made (512 MiB of
/// values): deep recursion in functions with large windows ends with a
/// clean error instead of exhausting memory.
const MAX_STACK_VALUES: usize = 1 << 25;

/// The file name the compiler gives its prelude (see `menai_compiler`'s `prelude.menai`).
const PRELUDE_FILE: &str = "<prelude>";

/// Registers added at a time when the stack grows.
const STACK_CHUNK: usize = 4096;

/// The interpreter state for one run of one module.
pub struct Vm<'m> {
    module: &'m Module,
    /// Constant pools, converted to values once per run.
    consts: Vec<Vec<Value>>,
    stack: Vec<Value>,
    frames: Vec<Saved>,
    max_depth: usize,
    max_steps: u64,
    stats: Stats,
}

/// Runs `module` (which must have passed validation) to its result.
pub fn run(module: &Module, opts: &RunOptions) -> Result<(Value, Stats), RtError> {
    let mut vm = Vm::new(module, opts)?;
    let count = opts.stats || opts.max_steps.is_some();
    // Fusing is off when instructions are counted, so counts stay exact.
    let xcode: Vec<Vec<XInstr>> = module
        .functions
        .iter()
        .map(|f| {
            let mut x = translate(f, !count);
            mark_proven(module, f, &mut x);
            x
        })
        .collect();
    let counting = opts.stats && crate::alloc_count::installed();
    let before = if counting {
        crate::alloc_count::count()
    } else {
        0
    };
    let result = if count {
        vm.execute::<true>(&xcode)
    } else {
        vm.execute::<false>(&xcode)
    };
    if counting {
        vm.stats.allocations = crate::alloc_count::count().saturating_sub(before);
    }
    // Release the machine's registers here, before the result travels on.
    vm.stack.clear();
    vm.frames.clear();
    result.map(|v| (v, vm.stats))
}

impl<'m> Vm<'m> {
    /// Prepares a run: converts the constant pools.
    pub fn new(module: &'m Module, opts: &RunOptions) -> RtResult<Vm<'m>> {
        for (i, f) in module.functions.iter().enumerate() {
            check_control_flow(f)
                .and_then(|()| check_registers(module, f))
                .map_err(|e| RtError::new(format!("invalid module: function {i}: {e}")))?;
        }
        let mut consts = Vec::with_capacity(module.functions.len());
        for f in &module.functions {
            let mut pool = Vec::with_capacity(f.constants.len());
            for k in &f.constants {
                pool.push(ops::constant_value(k)?);
            }
            consts.push(pool);
        }
        Ok(Vm {
            module,
            consts,
            stack: Vec::new(),
            frames: Vec::new(),
            max_depth: opts.max_depth,
            max_steps: opts.max_steps.unwrap_or(u64::MAX),
            stats: Stats::default(),
        })
    }

    /// Attaches the location of instruction `pc` of function `fi` to an error
    /// that has none. An error inside a prelude function (the higher-order
    /// builtins written in Menai) is attributed to the innermost suspended
    /// call from user code, so it points at the user's `(map-list ...)`.
    #[cold]
    #[inline(never)]
    fn locate(&self, mut e: RtError, fi: u32, pc: usize, depth: usize) -> RtError {
        if e.loc.is_some() {
            return e;
        }
        let loc_of = |fi: u32, pc: usize| {
            self.module
                .functions
                .get(fi as usize)
                .and_then(|f| f.locs.get(pc))
                .copied()
        };
        let in_prelude = |loc: &Option<menai_bytecode::SrcLoc>| {
            loc.and_then(|l| self.module.files.get(l.file as usize))
                .is_some_and(|f| f == PRELUDE_FILE)
        };
        e.loc = loc_of(fi, pc);
        if in_prelude(&e.loc) {
            // Each suspended frame's pc is the instruction after its call.
            let caller = self
                .frames
                .get(..depth)
                .unwrap_or_default()
                .iter()
                .rev()
                .map(|s| loc_of(s.func, (s.pc as usize).saturating_sub(1)))
                .find(|l| !in_prelude(l));
            if let Some(l) = caller {
                e.loc = l;
            }
        }
        e
    }

    /// Makes `stack.len() >= needed`.
    #[inline(always)]
    fn ensure(&mut self, needed: usize) {
        if self.stack.len() < needed {
            self.grow(needed);
        }
    }

    #[cold]
    #[inline(never)]
    fn grow(&mut self, needed: usize) {
        let len = needed
            .max(self.stack.len() + self.stack.len() / 2)
            .max(STACK_CHUNK);
        self.stack.resize(len, Value::None);
    }

    /// Releases the heap values in `stack[from..to]` (sets them to `#none`);
    /// immediate values hold nothing and are left in place.
    #[inline(always)]
    fn clear(&mut self, from: usize, to: usize) {
        let to = to.min(self.stack.len());
        if from < to {
            for v in &mut self.stack[from..to] {
                if !is_immediate(v) {
                    release(v);
                }
            }
        }
    }

    /// Runs the entry function to completion. `COUNT` enables the
    /// instruction counter (for stats and the step limit).
    fn execute<const COUNT: bool>(&mut self, xcode: &[Vec<XInstr>]) -> RtResult<Value> {
        let module = self.module;
        let ctx = Ctx { module };
        let mut fi = module.entry;
        let mut func: &'m Function = match module.functions.get(fi as usize) {
            Some(f) => f,
            None => return Err(RtError::new("invalid module: no entry function")),
        };
        let mut code: &[XInstr] = match xcode.get(fi as usize) {
            Some(c) => c,
            None => return Err(RtError::new("invalid module: no entry function")),
        };
        let mut pc: usize = 0;
        let mut base: usize = 0;
        let mut env: Rc<Env> = Rc::new(Env::default());
        // The environment of a known call of a function without captures.
        let empty_env: Rc<Env> = Rc::new(Env::default());
        let mut steps: u64 = 0;
        // Number of suspended callers (in use slots of `self.frames`).
        let mut depth: usize = 0;
        self.ensure(func.num_registers as usize);

        // Evaluates a fallible expression; on error, attaches the location
        // of the current instruction and leaves the loop.
        macro_rules! tri {
            ($e:expr) => {
                match $e {
                    Ok(v) => v,
                    Err(e) => {
                        self.stats.instructions = steps;
                        return Err(self.locate(e, fi, pc - 1, depth));
                    }
                }
            };
        }
        // Register `$r` of the running function, as a place to read.
        macro_rules! reg {
            ($r:expr) => {
                // SAFETY: see `reg_at`: `$r` is a register operand of the
                // running function's instruction and `base` its window.
                (*unsafe { reg_at(&self.stack, base + $r as usize) })
            };
        }
        // Register `$r` of the running function, as `&mut Value`.
        macro_rules! reg_mut {
            ($r:expr) => {
                // SAFETY: as for `reg!`.
                unsafe { reg_at_mut(&mut self.stack, base + $r as usize) }
            };
        }
        // Writes register `$r`.
        macro_rules! set {
            ($r:expr, $v:expr) => {{
                let v = $v;
                put(reg_mut!($r), v)
            }};
        }
        // Stores a value built by a constructor expression `$v` (of already
        // computed parts, not reading `$slot`) into `$slot`. The old value is
        // released first, so the new one is stored straight into the slot
        // without a temporary.
        macro_rules! set_new {
            ($slot:expr, $v:expr) => {{
                let slot: &mut Value = $slot;
                if !is_immediate(slot) {
                    release(slot);
                }
                // SAFETY: `slot` is a valid, exclusive reference; the value it
                // holds is immediate (checked, or just set to `#none`), so
                // overwriting it without running its destructor leaks nothing.
                unsafe { std::ptr::write(slot, $v) }
            }};
        }
        // `set_new!` on register `$r`.
        macro_rules! set_imm {
            ($r:expr, $v:expr) => {{
                let slot = reg_mut!($r);
                set_new!(slot, $v);
            }};
        }
        // Reads register `$r`, moving it out when flag bit `$bit` marks it dead.
        macro_rules! read {
            ($ins:expr, $bit:expr, $r:expr) => {
                if $ins.is_last_use($bit) {
                    std::mem::take(reg_mut!($r))
                } else {
                    reg!($r).clone()
                }
            };
        }
        // Switches to function `$f` at `$newbase` with environment `$env`.
        macro_rules! enter {
            ($f:expr, $fidx:expr, $newbase:expr, $env:expr) => {{
                fi = $fidx;
                func = $f;
                code = &xcode[fi as usize];
                pc = 0;
                base = $newbase;
                env = $env;
                self.ensure(base + func.num_registers as usize);
            }};
        }
        // Saves the running function as a caller whose result goes to
        // absolute stack index `$ret`, and switches to environment `$cenv`.
        macro_rules! push_frame {
            ($ret:expr, $cenv:expr) => {{
                if depth >= self.max_depth || self.stack.len() > MAX_STACK_VALUES {
                    tri!(Err(self.depth_error(depth)));
                }
                if depth == self.frames.len() {
                    self.frames.push(Saved::default());
                }
                let caller_env = std::mem::replace(&mut env, $cenv);
                let s = &mut self.frames[depth];
                s.func = fi;
                s.pc = pc as u32;
                s.base = base;
                s.ret = $ret;
                s.env = Some(caller_env);
                depth += 1;
                if COUNT && depth as u64 > self.stats.max_depth {
                    self.stats.max_depth = depth as u64;
                }
            }};
        }
        // Returns `$v` from the running function.
        macro_rules! do_return {
            ($v:expr) => {{
                let v = $v;
                if depth == 0 {
                    self.clear(base, base + func.num_registers as usize);
                    self.stats.instructions = steps;
                    return Ok(v);
                }
                // The result register may lie inside the callee's window
                // (`call A B C` with C > A), which `pop_frame` clears: write
                // the result after clearing.
                let ret = self.frames[depth - 1].ret;
                pop_frame!();
                put(&mut self.stack[ret], v);
            }};
        }
        // Returns register `$r` from the running function.
        macro_rules! return_reg {
            ($r:expr) => {{
                if depth == 0 {
                    let v = std::mem::take(reg_mut!($r));
                    do_return!(v);
                } else {
                    // The result register may lie inside the callee's
                    // window (`call A B C` with C > A), which `pop_frame`
                    // clears: write the result after clearing.
                    let ret = self.frames[depth - 1].ret;
                    if let Value::Int(i) = reg!($r) {
                        // Copied field-wise: no store-forwarding stall.
                        pop_frame!();
                        let slot = &mut self.stack[ret];
                        set_new!(slot, Value::Int(i));
                    } else {
                        let v = std::mem::take(reg_mut!($r));
                        pop_frame!();
                        put(&mut self.stack[ret], v);
                    }
                }
            }};
        }
        // Clears the running function's window and resumes its caller
        // (`depth > 0`).
        macro_rules! pop_frame {
            () => {{
                self.clear(base, base + func.num_registers as usize);
                depth -= 1;
                let s = &mut self.frames[depth];
                fi = s.func;
                pc = s.pc as usize;
                base = s.base;
                if let Some(e) = s.env.take() {
                    env = e;
                }
                func = &module.functions[fi as usize];
                code = &xcode[fi as usize];
            }};
        }
        // A typed integer comparison: inline on two small integers, else the builtin.
        macro_rules! int_cmp {
            ($ins:ident, $id:expr, $op:tt) => {{
                if let (Value::Int(x), Value::Int(y)) = (&reg!($ins.b), &reg!($ins.c)) {
                    let r = x $op y;
                    set_imm!($ins.a, Value::Bool(r));
                } else {
                    let v = tri!(ops::int_slow(&ctx, $id, &reg!($ins.b), &reg!($ins.c)));
                    set!($ins.a, v);
                }
            }};
        }
        // A typed integer operation: inline on two small integers whose
        // result fits (`$checked`: `checked_add`…), else the builtin (big
        // integers, overflow, type errors).
        macro_rules! int_arith {
            ($ins:ident, $id:expr, $checked:ident) => {{
                if let (Value::Int(x), Value::Int(y)) = (&reg!($ins.b), &reg!($ins.c)) {
                    if let Some(z) = x.$checked(*y) {
                        set_imm!($ins.a, Value::Int(z));
                        continue;
                    }
                }
                let v = tri!(ops::int_slow(&ctx, $id, &reg!($ins.b), &reg!($ins.c)));
                set!($ins.a, v);
            }};
        }
        // A typed float operation: both operands must be floats.
        macro_rules! float_op {
            ($ins:ident, $name:literal, |$x:ident, $y:ident| $e:expr) => {{
                if let (Value::Float($x), Value::Float($y)) = (&reg!($ins.b), &reg!($ins.c)) {
                    let ($x, $y) = (*$x, *$y);
                    set_imm!($ins.a, $e);
                } else {
                    tri!(Err(ops::float_type_error(
                        $name,
                        &reg!($ins.b),
                        &reg!($ins.c)
                    )));
                }
            }};
        }

        // A typed float opcode whose operands are proven floats.
        macro_rules! float_op_proven {
            ($ins:ident, |$x:ident, $y:ident| $e:expr) => {{
                let (Value::Float($x), Value::Float($y)) = (&reg!($ins.b), &reg!($ins.c)) else {
                    // SAFETY: `mark_proven` produces this opcode only where
                    // the validator's type analysis (invariant T1,
                    // `validate::types::provable`) proves both operands
                    // floats on every path to this instruction.
                    unsafe { std::hint::unreachable_unchecked() }
                };
                let ($x, $y) = (*$x, *$y);
                set_imm!($ins.a, $e);
            }};
        }

        // A fused integer compare and `jmpf` on its result (the `jmpf`
        // follows at `pc`; see `interp_code`).
        macro_rules! cmp_jf {
            ($ins:ident, $id:expr, $op:tt) => {{
                let r = if let (Value::Int(x), Value::Int(y)) = (&reg!($ins.b), &reg!($ins.c)) {
                    x $op y
                } else {
                    let v = tri!(ops::int_slow(&ctx, $id, &reg!($ins.b), &reg!($ins.c)));
                    matches!(v, Value::Bool(true))
                };
                set_imm!($ins.a, Value::Bool(r));
                pc = if r { pc + 1 } else { code[pc].bx() as usize };
            }};
        }
        // A fused `loadint`, integer compare with it, and `jmpf` (the compare
        // follows at `pc`, the `jmpf` after it).
        macro_rules! cmp_imm_jf {
            ($ins:ident, $id:expr, $op:tt) => {{
                pc += 1;
                let y = $ins.c as i16 as i64;
                let r = if let Value::Int(x) = reg!($ins.b) {
                    x $op y
                } else {
                    let v = tri!(ops::int_slow(&ctx, $id, &reg!($ins.b), &Value::Int(y)));
                    matches!(v, Value::Bool(true))
                };
                set_imm!($ins.a, Value::Bool(r));
                pc = if r { pc + 1 } else { code[pc].bx() as usize };
            }};
        }
        // A fused `ltik`…`neik` and `jmpf` on its result (the `jmpf`
        // follows at `pc`).
        macro_rules! cmp_k_jf {
            ($ins:ident, $id:expr, $op:tt) => {{
                let y = $ins.c as i16 as i64;
                let r = if let Value::Int(x) = reg!($ins.b) {
                    x $op y
                } else {
                    let v = tri!(ops::int_slow(&ctx, $id, &reg!($ins.b), &Value::Int(y)));
                    matches!(v, Value::Bool(true))
                };
                set_imm!($ins.a, Value::Bool(r));
                pc = if r { pc + 1 } else { code[pc].bx() as usize };
            }};
        }
        // An integer comparison with the immediate sC (`ltik`…`neik`).
        macro_rules! int_cmp_k {
            ($ins:ident, $id:expr, $op:tt) => {{
                let y = $ins.c as i16 as i64;
                if let Value::Int(x) = reg!($ins.b) {
                    let r = x $op y;
                    set_imm!($ins.a, Value::Bool(r));
                } else {
                    let v = tri!(ops::int_slow(&ctx, $id, &reg!($ins.b), &Value::Int(y)));
                    set!($ins.a, v);
                }
            }};
        }
        // `addik`/`subik`: integer arithmetic with the immediate sC.
        macro_rules! arith_k {
            ($ins:ident, $id:expr, $method:ident) => {{
                let y = $ins.c as i16 as i64;
                if let Value::Int(x) = reg!($ins.b) {
                    if let Some(z) = x.$method(y) {
                        set_imm!($ins.a, Value::Int(z));
                        continue;
                    }
                }
                let v = tri!(ops::int_slow(&ctx, $id, &reg!($ins.b), &Value::Int(y)));
                set!($ins.a, v);
            }};
        }
        // A fused `loadint` and `addi`/`subi` of it (the arithmetic follows).
        macro_rules! arith_imm {
            ($ins:ident, $id:expr, $method:ident) => {{
                pc += 1;
                let y = $ins.c as i16 as i64;
                if let Value::Int(x) = reg!($ins.b) {
                    if let Some(z) = x.$method(y) {
                        set_imm!($ins.a, Value::Int(z));
                        continue;
                    }
                }
                let v = tri!(ops::int_slow(&ctx, $id, &reg!($ins.b), &Value::Int(y)));
                set!($ins.a, v);
            }};
        }

        loop {
            // SAFETY: `Vm::new` checked that every function's code is
            // non-empty, ends with an instruction that does not fall through
            // (`return`, `tailcall`, `tailapply`, `jmp`, `raise*`) and jumps
            // only to indices below its length. `pc` is therefore always in
            // range: it starts at 0, is a jump target, follows an instruction
            // that falls through (so is not the last), or is a saved return
            // address (after a `call`/`apply`, which fall through).
            let ins = unsafe { *code.get_unchecked(pc) };
            pc += 1;
            if COUNT {
                steps += 1;
                if steps > self.max_steps {
                    tri!(Err(RtError::new(format!(
                        "step limit exceeded (limit {})",
                        self.max_steps
                    ))));
                }
            }
            match ins.op {
                XOp::Nop => {}
                XOp::Move => {
                    if let Value::Int(i) = reg!(ins.b) {
                        set_imm!(ins.a, Value::Int(i));
                    } else {
                        let v = read!(ins, 0, ins.b);
                        set!(ins.a, v);
                    }
                }
                XOp::LoadK => {
                    set!(ins.a, self.consts[fi as usize][ins.b as usize].clone());
                }
                XOp::LoadInt => set_imm!(ins.a, Value::Int(ins.sbx() as i64)),
                XOp::LoadBool => set_imm!(ins.a, Value::Bool(ins.b != 0)),
                XOp::LoadNone => set_imm!(ins.a, Value::None),
                XOp::LoadNil => set!(ins.a, Value::empty_list()),
                XOp::LoadBuiltin => {
                    let v = tri!(ops::builtin_value(ins.b));
                    set!(ins.a, v);
                }
                XOp::GetCap => {
                    let v = tri!(env
                        .values
                        .get(ins.b as usize)
                        .cloned()
                        .ok_or_else(ops::bad_capture));
                    set!(ins.a, v);
                }
                XOp::Closure => {
                    let v = tri!(self.make_closure(ins, func, ins.bx(), base, &env));
                    set!(ins.a, v);
                }
                XOp::Sibling => {
                    let e = env.clone();
                    set_imm!(ins.a, Value::Closure(ins.b as u32, e));
                }
                XOp::ClosureRef => {
                    let v = match &reg!(ins.c) {
                        Value::Closure(_, e)
                            if module
                                .functions
                                .get(ins.b as usize)
                                .map(|f| f.num_captures as usize)
                                == Some(e.values.len()) =>
                        {
                            Value::Closure(ins.b as u32, e.clone())
                        }
                        other => tri!(Err(ops::type_error("closureref", "function", other))),
                    };
                    set!(ins.a, v);
                }

                // ---- control ----
                XOp::Jmp => pc = ins.bx() as usize,
                XOp::JmpTrue => match reg!(ins.a) {
                    Value::Bool(true) => pc = ins.bx() as usize,
                    Value::Bool(false) => {}
                    ref other => tri!(Err(ops::condition_error(module, fi, pc - 1, other))),
                },
                XOp::JmpFalse => match reg!(ins.a) {
                    Value::Bool(false) => pc = ins.bx() as usize,
                    Value::Bool(true) => {}
                    ref other => tri!(Err(ops::condition_error(module, fi, pc - 1, other))),
                },
                XOp::Call => {
                    if COUNT {
                        self.stats.calls += 1;
                    }
                    let at = base + ins.a as usize + 1;
                    let nargs = ins.b as usize;
                    // The callee register is overwritten by the result when
                    // C == A, so the closure can be moved out of it.
                    let taken = ins.c == ins.a || ins.is_last_use(0);
                    match closure_parts(reg_mut!(ins.a), taken) {
                        Some((callee, cenv)) => {
                            let f = &module.functions[callee as usize];
                            tri!(self.bind_args(f, at, nargs));
                            push_frame!(base + ins.c as usize, cenv);
                            enter!(f, callee, at, env);
                        }
                        None => {
                            let other = reg!(ins.a).clone();
                            let v = tri!(self.call_other(&other, at, nargs));
                            set!(ins.c, v);
                        }
                    }
                }
                XOp::TailCall => {
                    if COUNT {
                        self.stats.calls += 1;
                    }
                    let nargs = ins.b as usize;
                    let callee = match closure_parts(reg_mut!(ins.a), true) {
                        Some(parts) => Ok(parts),
                        None => Err(std::mem::take(reg_mut!(ins.a))),
                    };
                    let from = base + ins.a as usize + 1;
                    for i in 0..nargs {
                        move_slot(&mut self.stack, from + i, base + i);
                    }
                    self.clear(base + nargs, base + func.num_registers as usize);
                    match callee {
                        Ok((cf, cenv)) => {
                            let f = &module.functions[cf as usize];
                            tri!(self.bind_args(f, base, nargs));
                            enter!(f, cf, base, cenv);
                        }
                        Err(other) => {
                            let v = tri!(self.call_other(&other, base, nargs));
                            do_return!(v);
                        }
                    }
                }
                XOp::CallF => {
                    if COUNT {
                        self.stats.calls += 1;
                    }
                    // A known callee: no closure to load or check; the
                    // validator proved the index, the arity (no rest
                    // parameter, arguments in R[A..A+n-1]) and the
                    // environment layout (none, or the current one).
                    let Some(f) = module.functions.get(ins.b as usize) else {
                        tri!(Err(RtError::new(
                            "invalid module: callf of an unknown function"
                        )))
                    };
                    // The opcode's rule: the current environment when the
                    // capture counts agree (a sibling, whose identity is
                    // that environment), else an empty one.
                    let cenv = if f.num_captures == func.num_captures {
                        env.clone()
                    } else {
                        empty_env.clone()
                    };
                    push_frame!(base + ins.c as usize, cenv);
                    enter!(f, ins.b as u32, base + ins.a as usize, env);
                }
                XOp::TailCallF => {
                    if COUNT {
                        self.stats.calls += 1;
                    }
                    let Some(f) = module.functions.get(ins.b as usize) else {
                        tri!(Err(RtError::new(
                            "invalid module: tailcallf of an unknown function"
                        )))
                    };
                    let n = f.params.len();
                    let from = base + ins.a as usize;
                    if from != base {
                        for i in 0..n {
                            move_slot(&mut self.stack, from + i, base + i);
                        }
                    }
                    self.clear(base + n, base + func.num_registers as usize);
                    // The opcode's rule: the current environment when the
                    // capture counts agree (a sibling, whose identity is
                    // that environment), else an empty one.
                    let cenv = if f.num_captures == func.num_captures {
                        env.clone()
                    } else {
                        empty_env.clone()
                    };
                    enter!(f, ins.b as u32, base, cenv);
                }
                XOp::CallBuiltin => {
                    let v = tri!(self.call_builtin_op(&ctx, ins, base));
                    set!(ins.a, v);
                }
                XOp::Return => return_reg!(ins.a),
                XOp::Apply => {
                    if COUNT {
                        self.stats.calls += 1;
                    }
                    let callee = read!(ins, 0, ins.b);
                    let list = read!(ins, 1, ins.c);
                    let at = base + func.num_registers as usize;
                    let nargs = tri!(self.spread(list, at));
                    match callee.into_closure() {
                        Ok((cf, cenv)) => {
                            let f = &module.functions[cf as usize];
                            tri!(self.bind_args(f, at, nargs));
                            push_frame!(base + ins.a as usize, cenv);
                            enter!(f, cf, at, env);
                        }
                        Err(other) => {
                            let v = tri!(self.call_other(&other, at, nargs));
                            set!(ins.a, v);
                        }
                    }
                }
                XOp::TailApply => {
                    if COUNT {
                        self.stats.calls += 1;
                    }
                    let callee = std::mem::take(reg_mut!(ins.a));
                    let list = std::mem::take(reg_mut!(ins.b));
                    self.clear(base, base + func.num_registers as usize);
                    let nargs = tri!(self.spread(list, base));
                    match callee.into_closure() {
                        Ok((cf, cenv)) => {
                            let f = &module.functions[cf as usize];
                            tri!(self.bind_args(f, base, nargs));
                            enter!(f, cf, base, cenv);
                        }
                        Err(other) => {
                            let v = tri!(self.call_other(&other, base, nargs));
                            do_return!(v);
                        }
                    }
                }
                XOp::Raise => tri!(Err(ops::raise(&reg!(ins.a)))),
                XOp::RaiseUnbound => {
                    tri!(Err(ops::raise_unbound(
                        self.consts[fi as usize].get(ins.b as usize)
                    )))
                }
                XOp::RaiseNoMatch => tri!(Err(ops::raise_no_match(&reg!(ins.a), module))),

                // ---- constructors ----
                XOp::MakeList => {
                    let v = self.make_list(ins, base);
                    set!(ins.a, v);
                }
                XOp::MakeDict | XOp::MakeSet => {
                    let id = if ins.op == XOp::MakeDict {
                        Builtin::Dict
                    } else {
                        Builtin::Set
                    };
                    let at = base + ins.b as usize;
                    let r = call_builtin(
                        &ctx,
                        id,
                        &mut Args::with_flags(&mut self.stack[at..at + ins.c as usize], ins.flags),
                    );
                    let v = tri!(r);
                    set!(ins.a, v);
                }
                XOp::MakeStruct => {
                    let v = tri!(self.make_struct(ins, base));
                    set!(ins.a, v);
                }

                // ---- fused sequences (see `interp_code`) ----
                XOp::AddIntImm => arith_imm!(ins, Builtin::IntegerAdd, checked_add),
                XOp::SubIntImm => arith_imm!(ins, Builtin::IntegerSub, checked_sub),
                XOp::LtIntJf => cmp_jf!(ins, Builtin::IntegerLt, <),
                XOp::LeIntJf => cmp_jf!(ins, Builtin::IntegerLe, <=),
                XOp::GtIntJf => cmp_jf!(ins, Builtin::IntegerGt, >),
                XOp::GeIntJf => cmp_jf!(ins, Builtin::IntegerGe, >=),
                XOp::EqIntJf => cmp_jf!(ins, Builtin::IntegerEq, ==),
                XOp::NeIntJf => cmp_jf!(ins, Builtin::IntegerNe, !=),
                XOp::LtIntImmJf => cmp_imm_jf!(ins, Builtin::IntegerLt, <),
                XOp::LeIntImmJf => cmp_imm_jf!(ins, Builtin::IntegerLe, <=),
                XOp::GtIntImmJf => cmp_imm_jf!(ins, Builtin::IntegerGt, >),
                XOp::GeIntImmJf => cmp_imm_jf!(ins, Builtin::IntegerGe, >=),
                XOp::EqIntImmJf => cmp_imm_jf!(ins, Builtin::IntegerEq, ==),
                XOp::NeIntImmJf => cmp_imm_jf!(ins, Builtin::IntegerNe, !=),
                XOp::LtIntKJf => cmp_k_jf!(ins, Builtin::IntegerLt, <),
                XOp::LeIntKJf => cmp_k_jf!(ins, Builtin::IntegerLe, <=),
                XOp::GtIntKJf => cmp_k_jf!(ins, Builtin::IntegerGt, >),
                XOp::GeIntKJf => cmp_k_jf!(ins, Builtin::IntegerGe, >=),
                XOp::EqIntKJf => cmp_k_jf!(ins, Builtin::IntegerEq, ==),
                XOp::NeIntKJf => cmp_k_jf!(ins, Builtin::IntegerNe, !=),

                // ---- typed integer operations with an immediate ----
                XOp::AddIntK => arith_k!(ins, Builtin::IntegerAdd, checked_add),
                XOp::SubIntK => arith_k!(ins, Builtin::IntegerSub, checked_sub),
                XOp::LtIntK => int_cmp_k!(ins, Builtin::IntegerLt, <),
                XOp::LeIntK => int_cmp_k!(ins, Builtin::IntegerLe, <=),
                XOp::GtIntK => int_cmp_k!(ins, Builtin::IntegerGt, >),
                XOp::GeIntK => int_cmp_k!(ins, Builtin::IntegerGe, >=),
                XOp::EqIntK => int_cmp_k!(ins, Builtin::IntegerEq, ==),
                XOp::NeIntK => int_cmp_k!(ins, Builtin::IntegerNe, !=),

                // ---- typed integer operations ----
                XOp::AddInt => int_arith!(ins, Builtin::IntegerAdd, checked_add),
                XOp::SubInt => int_arith!(ins, Builtin::IntegerSub, checked_sub),
                XOp::MulInt => int_arith!(ins, Builtin::IntegerMul, checked_mul),
                XOp::LtInt => int_cmp!(ins, Builtin::IntegerLt, <),
                XOp::LeInt => int_cmp!(ins, Builtin::IntegerLe, <=),
                XOp::GtInt => int_cmp!(ins, Builtin::IntegerGt, >),
                XOp::GeInt => int_cmp!(ins, Builtin::IntegerGe, >=),
                XOp::EqInt => int_cmp!(ins, Builtin::IntegerEq, ==),
                XOp::NeInt => int_cmp!(ins, Builtin::IntegerNe, !=),

                // ---- typed float operations ----
                XOp::AddFloat => float_op!(ins, "float+", |x, y| Value::Float(x + y)),
                XOp::SubFloat => float_op!(ins, "float-", |x, y| Value::Float(x - y)),
                XOp::MulFloat => float_op!(ins, "float*", |x, y| Value::Float(x * y)),
                XOp::DivFloat => {
                    if let (Value::Float(x), Value::Float(y)) = (&reg!(ins.b), &reg!(ins.c)) {
                        if *y != 0.0 {
                            set!(ins.a, Value::Float(x / y));
                            continue;
                        }
                    }
                    tri!(Err(ops::float_div_error(&reg!(ins.b), &reg!(ins.c))));
                }
                XOp::LtFloat => float_op!(ins, "float<?", |x, y| Value::Bool(x < y)),
                XOp::LeFloat => float_op!(ins, "float<=?", |x, y| Value::Bool(x <= y)),
                XOp::GtFloat => float_op!(ins, "float>?", |x, y| Value::Bool(x > y)),
                XOp::GeFloat => float_op!(ins, "float>=?", |x, y| Value::Bool(x >= y)),
                XOp::EqFloat => float_op!(ins, "float=?", |x, y| Value::Bool(x == y)),
                XOp::NeFloat => float_op!(ins, "float!=?", |x, y| Value::Bool(x != y)),

                // ---- hot list and boolean operations ----
                XOp::ListFirst => {
                    let v = match &reg!(ins.b) {
                        Value::List(start, buf) if (*start as usize) < buf.len() => {
                            buf[*start as usize].clone()
                        }
                        other => tri!(Err(ops::list_error("list-first", other))),
                    };
                    set!(ins.a, v);
                }
                XOp::ListRest => {
                    let v = match read!(ins, 0, ins.b).into_list() {
                        Ok((start, buf)) if (start as usize) < buf.len() => {
                            Value::List(start + 1, buf)
                        }
                        Ok((start, buf)) => {
                            tri!(Err(ops::list_error("list-rest", &Value::List(start, buf))))
                        }
                        Err(other) => tri!(Err(ops::list_error("list-rest", &other))),
                    };
                    set!(ins.a, v);
                }
                XOp::ListNull => {
                    let r = match &reg!(ins.b) {
                        Value::List(start, buf) => *start as usize >= buf.len(),
                        other => tri!(Err(ops::type_error("list-null?", "list", other))),
                    };
                    set_imm!(ins.a, Value::Bool(r));
                }
                XOp::ListPrepend => {
                    let mut pair = [read!(ins, 0, ins.b), read!(ins, 1, ins.c)];
                    let v = tri!(call_builtin(
                        &ctx,
                        Builtin::ListPrepend,
                        &mut Args::owned(&mut pair)
                    ));
                    set!(ins.a, v);
                }
                XOp::AddFloatP => float_op_proven!(ins, |x, y| Value::Float(x + y)),
                XOp::SubFloatP => float_op_proven!(ins, |x, y| Value::Float(x - y)),
                XOp::MulFloatP => float_op_proven!(ins, |x, y| Value::Float(x * y)),
                XOp::LtFloatP => float_op_proven!(ins, |x, y| Value::Bool(x < y)),
                XOp::LeFloatP => float_op_proven!(ins, |x, y| Value::Bool(x <= y)),
                XOp::GtFloatP => float_op_proven!(ins, |x, y| Value::Bool(x > y)),
                XOp::GeFloatP => float_op_proven!(ins, |x, y| Value::Bool(x >= y)),
                XOp::EqFloatP => float_op_proven!(ins, |x, y| Value::Bool(x == y)),
                XOp::NeFloatP => float_op_proven!(ins, |x, y| Value::Bool(x != y)),
                XOp::ListNullP => {
                    let Value::List(start, buf) = &reg!(ins.b) else {
                        // SAFETY: as for `float_op_proven!`: T1 proves R[B] a list.
                        unsafe { std::hint::unreachable_unchecked() }
                    };
                    let r = *start as usize >= buf.len();
                    set_imm!(ins.a, Value::Bool(r));
                }
                XOp::NotP => {
                    let Value::Bool(b) = reg!(ins.b) else {
                        // SAFETY: as for `float_op_proven!`: T1 proves R[B] a boolean.
                        unsafe { std::hint::unreachable_unchecked() }
                    };
                    set_imm!(ins.a, Value::Bool(!b));
                }
                XOp::Not => {
                    let r = match &reg!(ins.b) {
                        Value::Bool(b) => !b,
                        other => tri!(Err(ops::type_error("boolean-not", "boolean", other))),
                    };
                    set_imm!(ins.a, Value::Bool(r));
                }
            }
        }
    }
}
