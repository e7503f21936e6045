//! The interpreter: one dispatch loop over a validated module.
//!
//! Machine state:
//! - one growable register stack (`Vec<Value>`); a frame's registers are the
//!   window `stack[base .. base + num_registers]`;
//! - in locals of the loop (so they live in machine registers): the
//!   instruction pointer `ip`, the window pointer `regs`, the running
//!   function, its constants and environment; the callers in a
//!   `Vec<Frame>` (never on the Rust stack, so Menai call depth is bounded
//!   by `max_depth`, not by the native stack).
//!
//! Calling convention: `call A B C` moves nothing; the arguments already
//! sit in `R[A+1 ..= A+B]`, and the callee's window starts at `R[A+1]`. A
//! rest parameter's list is built into callee `R[nparams]`. `tailcall`
//! moves the arguments down to `R0..` and replaces the running function,
//! so tail calls run in constant space. `apply` spreads a list above the
//! caller's window. A known call (`callf`) that keeps the environment
//! saves nothing but the return point.
//!
//! Values die where they die (see `code`): a handler releases every
//! register it reads with a last-use flag, a callee leaves its window free
//! of heap values, and the stack above the running window never holds one.
//! So a return releases only the registers its sweep list names (usually
//! none), and unshared structures keep a reference count of 1.
//!
//! Unchecked accesses, each with a `SAFETY` comment naming the invariant of
//! `menai_bytecode::validate` it relies on (the loop only runs a
//! [`ValidModule`]): registers (I2, and `stack.len() >= base +
//! num_registers` on every frame entry), constants (I3), jump targets (I4
//! and C1), functions and captures (I6 and the environment-length
//! invariant of F5/I8/C3), proven operand types (T1).
//!
//! Slow paths live out of line: calls of non-closures, rest parameters and
//! `apply` in `calls.rs`, value construction in `build.rs`, big integers and
//! error messages in `interp_ops`.

use crate::builtins::{call_builtin, Args, Ctx};
use crate::error::{RtError, RtResult};
use crate::interp_ops as ops;
use crate::profile::Profile;
use crate::value::{Env, Value};
use code::{FnCode, XInstr, XOp};
use menai_bytecode::validate::ValidModule;
use menai_bytecode::Builtin;
use std::rc::Rc;

mod build;
mod calls;
pub(crate) mod code;

/// Limits and switches for one run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunOptions {
    /// Most nested non-tail calls (frames) allowed.
    pub max_depth: usize,
    /// Most instructions executed, if limited.
    pub max_steps: Option<u64>,
    /// Count instructions (and allocations, when the counting allocator is installed).
    pub stats: bool,
    /// Build a profile of the run (see `crate::profile`).
    pub profile: bool,
    /// Most bytes of values the run may hold (`None`: half the memory
    /// available at the start, `alloc::default_memory_limit`).
    pub max_memory: Option<u64>,
}

/// The default `max_depth`: far above the 100,000 frames LANGUAGE.md §11 requires.
pub const DEFAULT_MAX_DEPTH: usize = 1_000_000;

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            max_depth: DEFAULT_MAX_DEPTH,
            max_steps: None,
            stats: false,
            profile: false,
            max_memory: None,
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

/// Stores `v` into a register. Overwriting an immediate value skips the
/// (out-of-line) drop glue, which is most of the cost of a register write;
/// a heap value is dropped after the store (see [`put_scalar`]).
#[inline(always)]
fn put(slot: &mut Value, v: Value) {
    // SAFETY: `slot` is valid and exclusive, and `put_scalar` hands it over
    // owning nothing, so writing without dropping leaks nothing.
    put_scalar(slot, |p| unsafe { std::ptr::write(p, v) })
}

/// Writes an immediate value into a register with `write` (scalar stores
/// into a slot that owns nothing). A heap value the register held is moved
/// out first and dropped after the write, out of line: nothing of the new
/// value is live across the call, so the handler keeps it in registers.
#[inline(always)]
fn put_scalar(slot: &mut Value, write: impl FnOnce(*mut Value)) {
    if slot.is_heap() {
        // SAFETY: the old value is read out once and the slot overwritten
        // by `write` without dropping it, so `old` owns it exactly once.
        let old = unsafe { std::ptr::read(slot) };
        write(slot);
        drop_value(old);
    } else {
        write(slot);
    }
}

/// Drops a value (out of line: the drop glue is large and rarely needed
/// on the paths that call this).
#[inline(never)]
fn drop_value(v: Value) {
    drop(v);
}

/// Sets a register holding a heap value to `#none` (dropping the value).
#[inline(never)]
fn release(v: &mut Value) {
    *v = Value::None;
}

/// Releases a register's value if it owns a heap object.
#[inline(always)]
fn clean(slot: &mut Value) {
    if slot.is_heap() {
        release(slot);
    }
}

/// The parts of the closure in `slot`, if it holds one: moved out (leaving
/// `#none`) when `take`, else cloned.
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

/// Moves `stack[from]` to `stack[to]` (a small integer is copied as
/// scalars: its old slot keeps a stale integer, which owns nothing).
#[inline(always)]
fn move_slot(stack: &mut [Value], from: usize, to: usize) {
    if let Value::Int(i) = stack[from] {
        // SAFETY: `put_scalar` hands over a valid slot that owns nothing.
        put_scalar(&mut stack[to], |slot| unsafe { Value::write_int(slot, i) })
    } else {
        let v = std::mem::take(&mut stack[from]);
        put(&mut stack[to], v);
    }
}

/// A suspended caller.
struct Frame {
    /// Where the caller resumes.
    ret_ip: *const XInstr,
    /// The caller's window start.
    base: u32,
    /// Absolute stack index of the caller register that receives the result.
    ret: u32,
    /// The caller's function.
    func: u32,
    /// The caller's environment, when the callee runs in another one
    /// (`None`: the callee runs in the caller's; a tail call that switches
    /// it stores it here first).
    env: Option<Rc<Env>>,
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
    module: &'m ValidModule,
    /// The functions' internal code (moved into the loop while it runs).
    fns: Vec<FnCode>,
    stack: Vec<Value>,
    frames: Vec<Frame>,
    max_depth: usize,
    max_steps: u64,
    stats: Stats,
    /// The environment of capture-free functions entered by a known call
    /// from a function with captures, and of the entry function.
    empty_env: Rc<Env>,
    /// The empty list `loadnil` shares.
    empty_list: Value,
    /// The call tree being recorded (`--profile`; counting loop only).
    profile: Option<Profile>,
}

/// Runs `module` to its result.
pub fn run(module: &ValidModule, opts: &RunOptions) -> Result<(Value, Stats), RtError> {
    let (result, stats, _) = run_profiled(module, opts);
    result.map(|v| (v, stats))
}

/// Runs `module`; also returns the profile when `opts.profile` asks for
/// one (whether the run ended in a value or an error).
pub fn run_profiled(
    module: &ValidModule,
    opts: &RunOptions,
) -> (RtResult<Value>, Stats, Option<Profile>) {
    let count = opts.stats || opts.max_steps.is_some() || opts.profile;
    // Fusing is off when instructions are counted, so counts stay exact.
    let mut vm = match Vm::new(module, opts, !count) {
        Ok(vm) => vm,
        Err(e) => return (Err(e), Stats::default(), None),
    };
    if opts.profile {
        vm.profile = Some(Profile::new());
    }
    let counting = opts.stats && crate::alloc::installed();
    let before = if counting { crate::alloc::count() } else { 0 };
    let result = if count {
        vm.execute::<true>()
    } else {
        vm.execute::<false>()
    };
    if counting {
        vm.stats.allocations = crate::alloc::count().saturating_sub(before);
    }
    if let Some(p) = vm.profile.as_mut() {
        p.finish();
    }
    // Release the machine's registers here, before the result travels on.
    vm.stack.clear();
    vm.frames.clear();
    (result, vm.stats, vm.profile.take())
}

impl<'m> Vm<'m> {
    /// Prepares a run: translates the code and converts the constant pools.
    fn new(module: &'m ValidModule, opts: &RunOptions, fuse: bool) -> RtResult<Vm<'m>> {
        let limit = opts
            .max_memory
            .unwrap_or_else(crate::alloc::default_memory_limit);
        crate::alloc::set_limit(limit);
        Ok(Vm {
            module,
            fns: code::translate(module, fuse)?,
            stack: Vec::new(),
            frames: Vec::new(),
            max_depth: opts.max_depth,
            max_steps: opts.max_steps.unwrap_or(u64::MAX),
            stats: Stats::default(),
            empty_env: Rc::new(Env::default()),
            empty_list: Value::empty_list(),
            profile: None,
        })
    }

    /// The pc of the instruction before `ip` in `f`.
    fn pc_before(f: &FnCode, ip: *const XInstr) -> usize {
        let start = f.code.as_ptr();
        (ip as usize - start as usize) / std::mem::size_of::<XInstr>() - 1
    }

    /// Attaches the location of the instruction before `ip` in function
    /// `fi` (of `fns`) to an error that has none. An error inside a prelude
    /// function (the higher-order builtins written in Menai) is attributed
    /// to the innermost suspended call from user code, so it points at the
    /// user's `(map-list ...)`.
    #[cold]
    #[inline(never)]
    fn locate(&self, fns: &[FnCode], mut e: RtError, fi: u32, ip: *const XInstr) -> RtError {
        if e.loc.is_some() {
            return e;
        }
        let module: &menai_bytecode::Module = self.module;
        let loc_of = |fi: u32, pc: usize| {
            module
                .functions
                .get(fi as usize)
                .and_then(|f| f.locs.get(pc))
                .copied()
        };
        let in_prelude = |loc: &Option<menai_bytecode::SrcLoc>| {
            loc.and_then(|l| module.files.get(l.file as usize))
                .is_some_and(|f| f == PRELUDE_FILE)
        };
        e.loc = loc_of(fi, Self::pc_before(&fns[fi as usize], ip));
        if in_prelude(&e.loc) {
            let caller = self
                .frames
                .iter()
                .rev()
                .map(|s| loc_of(s.func, Self::pc_before(&fns[s.func as usize], s.ret_ip)))
                .find(|l| !in_prelude(l));
            if let Some(l) = caller {
                e.loc = l;
            }
        }
        e
    }

    /// Makes `stack.len() >= needed`, or fails when the stack would pass
    /// its limit.
    #[inline(always)]
    fn ensure(&mut self, needed: usize) -> RtResult<()> {
        if self.stack.len() < needed {
            self.grow(needed)?;
        }
        Ok(())
    }

    /// Makes room for more frames (the depth limit is checked by the caller).
    #[cold]
    #[inline(never)]
    fn grow_frames(&mut self) {
        let more = self.frames.capacity().clamp(64, 1 << 16);
        self.frames.reserve(more);
    }

    #[cold]
    #[inline(never)]
    fn grow(&mut self, needed: usize) -> RtResult<()> {
        if needed > MAX_STACK_VALUES {
            return Err(RtError::new(format!(
                "register stack exhausted: {needed} values needed, at most {MAX_STACK_VALUES} \
                 (call depth {}; a call spreading a very long list with apply needs one per element)",
                self.frames.len()
            )));
        }
        let len = needed
            .max(self.stack.len() + self.stack.len() / 2)
            .clamp(STACK_CHUNK, MAX_STACK_VALUES.max(needed));
        self.stack.resize(len, Value::None);
        Ok(())
    }

    /// Releases the heap values in `stack[from..to]`.
    fn clear(&mut self, from: usize, to: usize) {
        let to = to.min(self.stack.len());
        if from < to {
            self.stack[from..to].iter_mut().for_each(clean);
        }
    }

    /// The window pointer of a frame at `base`.
    #[inline(always)]
    fn regs_at(&mut self, base: usize) -> *mut Value {
        debug_assert!(base <= self.stack.len());
        // SAFETY: `base <= stack.len()` (every frame entry makes the stack
        // cover its window), so the offset stays inside the allocation.
        unsafe { self.stack.as_mut_ptr().add(base) }
    }

    /// Runs the entry function to completion. `COUNT` enables the
    /// instruction counter (for stats and the step limit).
    fn execute<const COUNT: bool>(&mut self) -> RtResult<Value> {
        // The code is borrowed by the loop while `self` stays mutable.
        let fns = std::mem::take(&mut self.fns);
        let result = self.run_loop::<COUNT>(&fns);
        self.fns = fns;
        result
    }

    fn run_loop<const COUNT: bool>(&mut self, fns: &[FnCode]) -> RtResult<Value> {
        let module: &'m ValidModule = self.module;
        let ctx = Ctx { module };
        // The running function, its window and where it is.
        let mut cur: &FnCode = &fns[module.entry as usize];
        let mut ip: *const XInstr = cur.code.as_ptr();
        let mut env: Rc<Env> = self.empty_env.clone();
        let mut steps: u64 = 0;
        self.ensure(cur.num_registers as usize)?;
        let mut regs: *mut Value = self.regs_at(0);
        if let Some(p) = self.profile.as_mut() {
            p.enter(module.entry);
        }

        // Evaluates a fallible expression; on error, attaches the location
        // of the current instruction and leaves the loop.
        macro_rules! tri {
            ($e:expr) => {
                match $e {
                    Ok(v) => v,
                    Err(e) => {
                        self.stats.instructions = steps;
                        return Err(self.locate(fns, e, cur.index, ip));
                    }
                }
            };
        }
        // Register `$r` of the running function.
        macro_rules! reg {
            ($r:expr) => {
                // SAFETY: `$r` is a register operand of an instruction of
                // the running function, so `$r < num_registers` (validator
                // I2), and the stack covers `base .. base + num_registers`
                // (every frame entry calls `ensure`; the stack never
                // shrinks during a run, and `regs` is refreshed whenever it
                // may have moved).
                unsafe {
                    debug_assert!(
                        base!() + ($r as usize) < self.stack.len(),
                        "register outside the stack"
                    );
                    &mut *regs.add($r as usize)
                }
            };
        }
        // Writes register `$r`.
        macro_rules! set {
            ($r:expr, $v:expr) => {{
                let v = $v;
                put(reg!($r), v)
            }};
        }
        // Writes an immediate result into register `$r` as scalar stores:
        // `set_scalar!(Int, r, i)`, `(Float, r, x)`, `(Bool, r, b)`.
        macro_rules! set_scalar {
            (Int, $r:expr, $v:expr) => {{
                let v: i64 = $v;
                // SAFETY: `put_scalar` hands over a register that owns
                // nothing (see `reg!` for why it is valid).
                put_scalar(reg!($r), |slot| unsafe { Value::write_int(slot, v) })
            }};
            (Float, $r:expr, $v:expr) => {{
                let v: f64 = $v;
                // SAFETY: as for `Int`.
                put_scalar(reg!($r), |slot| unsafe { Value::write_float(slot, v) })
            }};
            (Bool, $r:expr, $v:expr) => {{
                let v: bool = $v;
                // SAFETY: as for `Int`.
                put_scalar(reg!($r), |slot| unsafe { Value::write_bool(slot, v) })
            }};
        }
        // Reads register `$r`, moving it out when flag bit `$bit` marks it dead.
        macro_rules! read {
            ($ins:expr, $bit:expr, $r:expr) => {
                if $ins.is_last_use($bit) {
                    std::mem::take(reg!($r))
                } else {
                    reg!($r).clone()
                }
            };
        }
        // Releases register `$r` if flag bit `$bit` marks it dead.
        macro_rules! release_dead {
            ($ins:expr, $bit:expr, $r:expr) => {
                if $ins.is_last_use($bit) {
                    clean(reg!($r));
                }
            };
        }
        // The running window's start, as a stack index.
        macro_rules! base {
            () => {
                (regs as usize - self.stack.as_ptr() as usize) / std::mem::size_of::<Value>()
            };
        }
        // Keeps `regs` right across a call that may move the stack: the
        // window's index before, its pointer after.
        macro_rules! keep_regs {
            ($e:expr) => {{
                let base = base!();
                let r = $e;
                regs = self.regs_at(base);
                r
            }};
        }
        // `callb $ins`: the builtin named by its field B, through the
        // builtin table (also the slow path of the hot-builtin forms).
        macro_rules! builtin_call {
            ($ins:expr) => {{
                let v = keep_regs!(self.call_builtin_op(&ctx, $ins, base!()));
                let v = tri!(v);
                check_memory!();
                set!($ins.a, v);
            }};
        }
        // Fails the run once it holds more memory than its limit (checked
        // at every call, backward jump and allocating slow path: no
        // unbounded computation passes none of them).
        macro_rules! check_memory {
            () => {
                if crate::alloc::over_limit() {
                    tri!(Err(ops::memory_error(None)));
                }
            };
        }
        // Tells the profiler (counting loop only) about a call event.
        macro_rules! profile {
            ($method:ident $(, $arg:expr)?) => {
                if COUNT {
                    if let Some(p) = self.profile.as_mut() {
                        p.$method($($arg)?);
                    }
                }
            };
        }
        // Switches to function `$f` at absolute stack index `$newbase`.
        macro_rules! enter {
            ($f:expr, $newbase:expr) => {{
                check_memory!();
                profile!(enter, $f as u32);
                // SAFETY: `$f` is a function index the validator checked
                // (I6, F5), or read from a closure, which holds one.
                cur = unsafe { fns.get_unchecked($f as usize) };
                ip = cur.code.as_ptr();
                let base: usize = $newbase;
                tri!(self.ensure(base + cur.num_registers as usize));
                regs = self.regs_at(base);
            }};
        }
        // Saves the running function as a caller whose result goes to its
        // register `$ret`; `$env` is the caller's environment to restore
        // (`None`: the callee keeps it).
        macro_rules! push_frame {
            ($ret:expr, $env:expr) => {{
                let depth = self.frames.len();
                if depth >= self.max_depth {
                    tri!(Err(self.depth_error()));
                }
                if depth == self.frames.capacity() {
                    self.grow_frames();
                }
                let base = base!();
                // SAFETY: `depth < capacity` (just ensured), so the slot is
                // inside the allocation; it is past `len`, so nothing is
                // overwritten; each field is written before `set_len`
                // makes the frame visible.
                unsafe {
                    let f = self.frames.as_mut_ptr().add(depth);
                    std::ptr::addr_of_mut!((*f).ret_ip).write(ip);
                    std::ptr::addr_of_mut!((*f).base).write(base as u32);
                    std::ptr::addr_of_mut!((*f).ret).write((base + $ret as usize) as u32);
                    std::ptr::addr_of_mut!((*f).func).write(cur.index);
                    std::ptr::addr_of_mut!((*f).env).write($env);
                    self.frames.set_len(depth + 1);
                }
                if COUNT && depth as u64 >= self.stats.max_depth {
                    self.stats.max_depth = depth as u64 + 1;
                }
                profile!(call);
            }};
        }
        // Returns from the running function (its window is clean): a
        // value (`$v`), or a small integer written as scalars (`Int, $i`).
        macro_rules! do_return {
            (@pop $top:expr, |$slot:ident| $write:expr) => {{
                profile!(ret);
                let depth = self.frames.len();
                if depth == 0 {
                    self.stats.instructions = steps;
                    return Ok($top);
                }
                // SAFETY: `depth - 1 < len`: the top frame, initialized;
                // `set_len` first forgets it, and each field is read once
                // (the environment moved out by `ptr::read`), so nothing
                // is dropped twice.
                let (ret, saved) = unsafe {
                    self.frames.set_len(depth - 1);
                    let f = self.frames.as_ptr().add(depth - 1);
                    ip = (*f).ret_ip;
                    // A frame's `func` is the index of a function of this
                    // module (`FnCode::index`).
                    cur = fns.get_unchecked((*f).func as usize);
                    regs = self.regs_at((*f).base as usize);
                    ((*f).ret, std::ptr::read(std::ptr::addr_of!((*f).env)))
                };
                if let Some(e) = saved {
                    env = e;
                }
                // SAFETY: `ret` is a register of the caller's window (I2),
                // which the stack still covers.
                let $slot = unsafe { self.stack.get_unchecked_mut(ret as usize) };
                $write
            }};
            (Int, $i:expr) => {{
                let i: i64 = $i;
                // SAFETY: `put_scalar` hands over a register that owns nothing.
                do_return!(@pop Value::Int(i), |slot| {
                    put_scalar(slot, |p| unsafe { Value::write_int(p, i) })
                })
            }};
            ($v:expr) => {{
                let v: Value = $v;
                do_return!(@pop v, |slot| put(slot, v))
            }};
        }
        // Releases the registers of sweep list `$id` of the running function.
        macro_rules! sweep_list {
            ($id:expr) => {{
                let sweeps = &cur.sweeps;
                let id = $id as usize;
                let n = sweeps[id] as usize;
                for &r in &sweeps[id + 1..id + 1 + n] {
                    clean(reg!(r));
                }
            }};
        }
        // Replaces the environment in a tail call. The suspended caller
        // whose known call kept the environment (its frame saved none)
        // expects this one back: it is saved into that frame first.
        macro_rules! switch_env {
            ($new:expr) => {{
                let new: Rc<Env> = $new;
                let old = std::mem::replace(&mut env, new);
                if let Some(top) = self.frames.last_mut() {
                    if top.env.is_none() {
                        top.env = Some(old);
                    }
                }
            }};
        }
        // The environment a known call `$ins` runs its callee in: the
        // current one, or the empty one (`XInstr::EMPTY_ENV`). Returns the
        // caller's environment to save (`None`: unchanged).
        macro_rules! known_env {
            ($ins:expr) => {{
                if $ins.flags & XInstr::EMPTY_ENV == 0 {
                    None
                } else {
                    Some(std::mem::replace(&mut env, self.empty_env.clone()))
                }
            }};
        }
        // A typed integer comparison: inline on two small integers, else the builtin.
        macro_rules! int_cmp {
            ($ins:ident, $id:expr, $op:tt) => {{
                if let (Value::Int(x), Value::Int(y)) = (&*reg!($ins.b), &*reg!($ins.c)) {
                    let r = x $op y;
                    set_scalar!(Bool, $ins.a, r);
                } else {
                    let v = tri!(ops::int_slow(&ctx, $id, reg!($ins.b), reg!($ins.c)));
                    release_dead!($ins, 0, $ins.b);
                    release_dead!($ins, 1, $ins.c);
                    set!($ins.a, v);
                }
            }};
        }
        // A typed integer operation: inline on two small integers whose
        // result fits (`$checked`: `checked_add`…), else the builtin (big
        // integers, overflow, type errors).
        macro_rules! int_arith {
            ($ins:ident, $id:expr, $checked:ident) => {{
                if let (Value::Int(x), Value::Int(y)) = (&*reg!($ins.b), &*reg!($ins.c)) {
                    if let Some(z) = x.$checked(*y) {
                        set_scalar!(Int, $ins.a, z);
                        continue;
                    }
                }
                let v = tri!(ops::int_slow(&ctx, $id, reg!($ins.b), reg!($ins.c)));
                release_dead!($ins, 0, $ins.b);
                release_dead!($ins, 1, $ins.c);
                set!($ins.a, v);
            }};
        }
        // An integer operation of R[B] and the immediate sC (`addik`…, and
        // the fused forms): `$fast` on a small integer (`None`: overflow),
        // else the builtin.
        macro_rules! int_imm {
            ($ins:ident, $id:expr, $kind:ident, |$x:ident, $y:ident| $fast:expr) => {{
                let $y: i64 = $ins.c as i16 as i64;
                if let Value::Int($x) = *reg!($ins.b) {
                    if let Some(v) = $fast {
                        set_scalar!($kind, $ins.a, v);
                        continue;
                    }
                }
                let v = tri!(ops::int_slow(&ctx, $id, reg!($ins.b), &Value::Int($y)));
                release_dead!($ins, 0, $ins.b);
                set!($ins.a, v);
            }};
        }
        // Skips `$n` instructions (the rest of a fused sequence).
        macro_rules! skip {
            ($n:expr) => {
                // SAFETY: the skipped instructions are the rest of a fused
                // sequence, all inside this function's code (see `code`).
                ip = unsafe { ip.add($n) }
            };
        }
        // An integer compare of R[B] with R[C] (`reg`) or the immediate sC
        // (`imm`) whose result goes to R[A], followed by a `jmpf R[A]` at
        // `ip + $skip`: jumps to its target when false.
        // Writes the boolean result of a fused compare-and-branch, unless
        // nothing reads it and its register holds no heap value
        // (`XInstr::RESULT_UNUSED`, decided in `code`).
        macro_rules! set_branch_result {
            ($ins:ident, $r:expr) => {{
                if $ins.flags & XInstr::RESULT_UNUSED == 0 {
                    set_scalar!(Bool, $ins.a, $r);
                }
            }};
        }
        macro_rules! cmp_branch {
            ($ins:ident, $id:expr, $op:tt, $skip:expr, reg) => {{
                // Past the compare first, so an error is located there.
                skip!($skip);
                let r = if let (Value::Int(x), Value::Int(y)) = (&*reg!($ins.b), &*reg!($ins.c)) {
                    x $op y
                } else {
                    let v = tri!(ops::int_slow(&ctx, $id, reg!($ins.b), reg!($ins.c)));
                    release_dead!($ins, 0, $ins.b);
                    release_dead!($ins, 1, $ins.c);
                    matches!(v, Value::Bool(true))
                };
                cmp_branch!(@jump $ins, r)
            }};
            ($ins:ident, $id:expr, $op:tt, $skip:expr, imm) => {{
                skip!($skip);
                let y = $ins.c as i16 as i64;
                let r = if let Value::Int(x) = *reg!($ins.b) {
                    x $op y
                } else {
                    let v = tri!(ops::int_slow(&ctx, $id, reg!($ins.b), &Value::Int(y)));
                    release_dead!($ins, 0, $ins.b);
                    matches!(v, Value::Bool(true))
                };
                cmp_branch!(@jump $ins, r)
            }};
            (@jump $ins:ident, $r:expr) => {{
                let r: bool = $r;
                set_branch_result!($ins, r);
                // SAFETY: the `jmpf` at `ip` is an instruction of this
                // function (the fused sequence is whole, see `code`).
                let jump = unsafe { *ip };
                skip!(1);
                if !r {
                    // SAFETY: the `jmpf`'s target is in this function (I4).
                    ip = unsafe { ip.offset(jump.sbx() as isize) };
                }
            }};
        }
        // A fused float compare and conditional jump (see `code`): jumps
        // when the result equals `$sense`. `checked` reports a non-float
        // operand at the compare; `proven` relies on T1.
        // `nullp` fused with the conditional jump after it (on `$sense`).
        macro_rules! null_branch {
            ($ins:ident, $sense:literal, $check:ident) => {{
                let r = match &*reg!($ins.b) {
                    Value::List(start, buf) => *start as usize >= buf.len(),
                    other => null_branch!(@mismatch $check, other),
                };
                release_dead!($ins, 0, $ins.b);
                set_branch_result!($ins, r);
                // SAFETY: the conditional jump follows in this function
                // (the fused pair is whole, see `code`).
                let jump = unsafe { *ip };
                skip!(1);
                if r == $sense {
                    // SAFETY: the jump's target is in this function (I4).
                    ip = unsafe { ip.offset(jump.sbx() as isize) };
                }
            }};
            (@mismatch checked, $other:ident) => {
                tri!(Err(ops::type_error("list-null?", "list", $other)))
            };
            (@mismatch proven, $other:ident) => {{
                let _ = $other;
                // SAFETY: as for `float_op_proven!`: T1 proves R[B] a list.
                unsafe { std::hint::unreachable_unchecked() }
            }};
        }
        macro_rules! float_branch {
            ($ins:ident, $name:literal, $op:tt, $sense:literal, $check:ident) => {{
                let (x, y) = match (&*reg!($ins.b), &*reg!($ins.c)) {
                    (Value::Float(x), Value::Float(y)) => (*x, *y),
                    _ => float_branch!(@mismatch $check, $ins, $name),
                };
                let r = x $op y;
                set_branch_result!($ins, r);
                // SAFETY: the conditional jump follows in this function
                // (the fused pair is whole, see `code`).
                let jump = unsafe { *ip };
                skip!(1);
                if r == $sense {
                    // SAFETY: the jump's target is in this function (I4).
                    ip = unsafe { ip.offset(jump.sbx() as isize) };
                }
            }};
            (@mismatch checked, $ins:ident, $name:literal) => {
                tri!(Err(ops::float_type_error($name, reg!($ins.b), reg!($ins.c))))
            };
            (@mismatch proven, $ins:ident, $name:literal) => {
                // SAFETY: this form is made only for an instruction flagged
                // TYPES_PROVEN, whose operands the validator proved floats
                // on every path (T1).
                unsafe { std::hint::unreachable_unchecked() }
            };
        }
        // A typed float operation: both operands must be floats; the
        // result is a `$kind` (`Float` or `Bool`).
        macro_rules! float_op {
            ($ins:ident, $name:literal, $kind:ident, |$x:ident, $y:ident| $e:expr) => {{
                if let (Value::Float($x), Value::Float($y)) = (&*reg!($ins.b), &*reg!($ins.c)) {
                    let ($x, $y) = (*$x, *$y);
                    set_scalar!($kind, $ins.a, $e);
                } else {
                    tri!(Err(ops::float_type_error(
                        $name,
                        reg!($ins.b),
                        reg!($ins.c)
                    )));
                }
            }};
        }
        // A typed float opcode whose operands are proven floats.
        macro_rules! float_op_proven {
            ($ins:ident, $kind:ident, |$x:ident, $y:ident| $e:expr) => {{
                let (Value::Float($x), Value::Float($y)) = (&*reg!($ins.b), &*reg!($ins.c)) else {
                    // SAFETY: this form is made only for an instruction
                    // flagged TYPES_PROVEN, and the validator proved both
                    // operands floats on every path to it (T1).
                    unsafe { std::hint::unreachable_unchecked() }
                };
                let ($x, $y) = (*$x, *$y);
                set_scalar!($kind, $ins.a, $e);
            }};
        }

        loop {
            // SAFETY: `ip` points into the running function's code: it
            // starts at its first instruction, follows an instruction that
            // falls through (never the last one reachable, C1), is a jump
            // target (I4: in range), or a saved return address (after a
            // call, which falls through).
            // (A reference: each handler loads just the fields it uses.)
            let ins: &XInstr = unsafe { &*ip };
            // SAFETY: as above; one past the current instruction is still
            // inside the allocation (or its end).
            ip = unsafe { ip.add(1) };
            if COUNT {
                profile!(tick);
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
                    if let Value::Int(i) = *reg!(ins.b) {
                        set_scalar!(Int, ins.a, i);
                    } else {
                        let v = read!(ins, 0, ins.b);
                        set!(ins.a, v);
                    }
                }
                XOp::LoadK => {
                    // SAFETY: `b < constants.len()` (I3), the length of this
                    // function's converted pool.
                    let k = unsafe { cur.consts.get_unchecked(ins.b as usize) };
                    set!(ins.a, k.clone());
                }
                XOp::LoadInt => set_scalar!(Int, ins.a, ins.sbx() as i64),
                XOp::LoadBool => set_scalar!(Bool, ins.a, ins.b != 0),
                XOp::LoadNone => set!(ins.a, Value::None),
                XOp::LoadNil => set!(ins.a, self.empty_list.clone()),
                XOp::LoadBuiltin => {
                    let v = tri!(ops::builtin_value(ins.b));
                    set!(ins.a, v);
                }
                XOp::GetCap => {
                    debug_assert!((ins.b as usize) < env.values.len());
                    // SAFETY: `b < num_captures` of the running function
                    // (I6), and its environment has exactly that many
                    // values: every closure is built with its function's
                    // capture count (F5), shares an environment of the same
                    // count (I8, C3 or the `closureref` check), or is entered
                    // by a known call in the current environment of the
                    // same count or the empty one for a capture-free callee.
                    let v = unsafe { env.values.get_unchecked(ins.b as usize) }.clone();
                    set!(ins.a, v);
                }
                XOp::Closure => {
                    let v = tri!(self.make_closure(ins, cur.index, base!(), &env));
                    set!(ins.a, v);
                }
                XOp::Sibling => set!(ins.a, Value::Closure(ins.b as u32, env.clone())),
                XOp::ClosureRef => {
                    let want = fns[ins.b as usize].num_captures as usize;
                    let v = match &*reg!(ins.c) {
                        Value::Closure(_, e) if e.values.len() == want => {
                            Value::Closure(ins.b as u32, e.clone())
                        }
                        other => tri!(Err(ops::type_error("closureref", "function", other))),
                    };
                    release_dead!(ins, 0, ins.c);
                    set!(ins.a, v);
                }

                // ---- control ----
                // SAFETY (all jumps): the target is inside this function's
                // code (I4), and the offset was made relative to `ip` by
                // `code::translate`.
                XOp::Jmp => {
                    check_memory!();
                    ip = unsafe { ip.offset(ins.sbx() as isize) }
                }
                XOp::JmpTrue => match *reg!(ins.a) {
                    Value::Bool(true) => ip = unsafe { ip.offset(ins.sbx() as isize) },
                    Value::Bool(false) => {}
                    ref other => {
                        let pc = Self::pc_before(cur, ip);
                        tri!(Err(ops::condition_error(module, cur.index, pc, other)))
                    }
                },
                XOp::JmpFalse => match *reg!(ins.a) {
                    Value::Bool(false) => ip = unsafe { ip.offset(ins.sbx() as isize) },
                    Value::Bool(true) => {}
                    ref other => {
                        let pc = Self::pc_before(cur, ip);
                        tri!(Err(ops::condition_error(module, cur.index, pc, other)))
                    }
                },
                XOp::Call | XOp::CallSweep => {
                    if COUNT {
                        self.stats.calls += 1;
                    }
                    if ins.op == XOp::CallSweep {
                        let from = base!() + ins.a as usize + ins.b as usize + 1;
                        self.clear(from, base!() + cur.num_registers as usize);
                    }
                    let at = base!() + ins.a as usize + 1;
                    let nargs = ins.b as usize;
                    // The callee register is overwritten by the result when
                    // C == A, so the closure can be moved out of it.
                    let taken = ins.c == ins.a || ins.is_last_use(0);
                    match closure_parts(reg!(ins.a), taken) {
                        Some((callee, cenv)) => {
                            tri!(keep_regs!(self.bind_args(&fns[callee as usize], at, nargs)));
                            let caller_env = std::mem::replace(&mut env, cenv);
                            push_frame!(ins.c, Some(caller_env));
                            enter!(callee, at);
                        }
                        None => {
                            let other = reg!(ins.a).clone();
                            let v = tri!(keep_regs!(self.call_other(&other, at, nargs)));
                            release_dead!(ins, 0, ins.a);
                            set!(ins.c, v);
                        }
                    }
                }
                XOp::TailCall | XOp::TailCallSweep => {
                    if COUNT {
                        self.stats.calls += 1;
                    }
                    let nargs = ins.b as usize;
                    if ins.op == XOp::TailCallSweep && ins.c != code::WHOLE_WINDOW {
                        sweep_list!(ins.c);
                    }
                    let callee = match closure_parts(reg!(ins.a), true) {
                        Some(parts) => Ok(parts),
                        None => Err(std::mem::take(reg!(ins.a))),
                    };
                    let base = base!();
                    let from = base + ins.a as usize + 1;
                    for i in 0..nargs {
                        move_slot(&mut self.stack, from + i, base + i);
                    }
                    if ins.op == XOp::TailCallSweep && ins.c == code::WHOLE_WINDOW {
                        self.clear(base!() + nargs, base!() + cur.num_registers as usize);
                    }
                    match callee {
                        Ok((cf, cenv)) => {
                            tri!(keep_regs!(self.bind_args(
                                &fns[cf as usize],
                                base!(),
                                nargs
                            )));
                            switch_env!(cenv);
                            enter!(cf, base!());
                        }
                        Err(other) => {
                            let v = self.call_other(&other, base!(), nargs);
                            do_return!(tri!(v));
                        }
                    }
                }
                XOp::CallF | XOp::CallFSweep => {
                    if COUNT {
                        self.stats.calls += 1;
                    }
                    // A known callee: the validator proved the index (I6),
                    // the arity (no rest parameter, arguments in
                    // R[A .. A+n-1], I2/I8) and the environment layout.
                    let callee = ins.b as u32;
                    if ins.op == XOp::CallFSweep {
                        let n = fns[callee as usize].num_params as usize;
                        self.clear(
                            base!() + ins.a as usize + n,
                            base!() + cur.num_registers as usize,
                        );
                    }
                    let saved = known_env!(ins);
                    push_frame!(ins.c, saved);
                    enter!(callee, base!() + ins.a as usize);
                }
                XOp::TailCallF | XOp::TailCallFSweep => {
                    if COUNT {
                        self.stats.calls += 1;
                    }
                    let callee = ins.b as u32;
                    // SAFETY: a checked function index (I6).
                    let n = unsafe { fns.get_unchecked(callee as usize) }.num_params as usize;
                    if ins.op == XOp::TailCallFSweep && ins.c != code::WHOLE_WINDOW {
                        sweep_list!(ins.c);
                    }
                    let base = base!();
                    let from = base + ins.a as usize;
                    if from != base {
                        for i in 0..n {
                            move_slot(&mut self.stack, from + i, base + i);
                        }
                    }
                    if ins.op == XOp::TailCallFSweep && ins.c == code::WHOLE_WINDOW {
                        self.clear(base!() + n, base!() + cur.num_registers as usize);
                    }
                    // The running frame is replaced: the environment is
                    // switched only when the capture counts differ.
                    if ins.flags & XInstr::EMPTY_ENV != 0 {
                        switch_env!(self.empty_env.clone());
                    }
                    enter!(callee, base!());
                }
                XOp::CallBuiltin => builtin_call!(ins),

                // ---- hot builtins (see `code`): R[C], R[C+1] are the
                // arguments; anything but the common case takes the
                // builtin itself ----
                XOp::ListRefB => {
                    if let (Value::List(start, buf), Value::Int(i)) =
                        (&*reg!(ins.c), &*reg!(ins.c + 1))
                    {
                        let at = (*start as usize).wrapping_add(*i as usize);
                        if *i >= 0 && at < buf.len() {
                            let v = buf[at].clone();
                            release_dead!(ins, 0, ins.c);
                            set!(ins.a, v);
                            continue;
                        }
                    }
                    builtin_call!(ins)
                }
                XOp::SetMemberB => {
                    if let Value::Set(set) = &*reg!(ins.c) {
                        let x = &*reg!(ins.c + 1);
                        if crate::equality::is_flat_key(x) {
                            let found = crate::equality::set_contains_flat(set, x);
                            release_dead!(ins, 0, ins.c);
                            release_dead!(ins, 1, ins.c + 1);
                            set_scalar!(Bool, ins.a, found);
                            continue;
                        }
                    }
                    builtin_call!(ins)
                }
                XOp::DictGetB => {
                    // R[c+2] is the default (`None` when the call gave none).
                    if let Value::Dict(d) = &*reg!(ins.c) {
                        let k = &*reg!(ins.c + 1);
                        if crate::equality::is_flat_key(k) {
                            let v = match d.get(&crate::equality::KeyRef(k)) {
                                Some(v) => v.clone(),
                                None => reg!(ins.c + 2).clone(),
                            };
                            release_dead!(ins, 0, ins.c);
                            release_dead!(ins, 1, ins.c + 1);
                            release_dead!(ins, 2, ins.c + 2);
                            set!(ins.a, v);
                            continue;
                        }
                    }
                    builtin_call!(ins)
                }
                XOp::DictSetB => {
                    // An unshared dict moved in (last use) is updated in
                    // place, as the builtin would, without its call chain.
                    if ins.is_last_use(0) && crate::equality::is_flat_key(&*reg!(ins.c + 1)) {
                        if let Value::Dict(d) = &mut *reg!(ins.c) {
                            if let Some(map) = Rc::get_mut(d) {
                                let arg = |bit: u32, r: u16| {
                                    if ins.is_last_use(bit) {
                                        std::mem::take(&mut *reg!(r))
                                    } else {
                                        reg!(r).clone()
                                    }
                                };
                                let (k, v) = (arg(1, ins.c + 1), arg(2, ins.c + 2));
                                map.insert(crate::value::Key(k), v);
                                let dict = std::mem::take(&mut *reg!(ins.c));
                                set!(ins.a, dict);
                                continue;
                            }
                        }
                    }
                    builtin_call!(ins)
                }
                XOp::ListLengthB => {
                    if let Value::List(start, buf) = &*reg!(ins.c) {
                        let n = buf.len().saturating_sub(*start as usize) as i64;
                        release_dead!(ins, 0, ins.c);
                        set_scalar!(Int, ins.a, n);
                        continue;
                    }
                    builtin_call!(ins)
                }
                XOp::IntModB => {
                    if let (&Value::Int(x), &Value::Int(y)) = (&*reg!(ins.c), &*reg!(ins.c + 1)) {
                        if y > 0 {
                            set_scalar!(Int, ins.a, x.rem_euclid(y));
                            continue;
                        }
                    }
                    builtin_call!(ins)
                }
                XOp::IntDivB => {
                    if let (&Value::Int(x), &Value::Int(y)) = (&*reg!(ins.c), &*reg!(ins.c + 1)) {
                        if y > 0 {
                            set_scalar!(Int, ins.a, x.div_euclid(y));
                            continue;
                        }
                    }
                    builtin_call!(ins)
                }
                XOp::IntMinB | XOp::IntMaxB => {
                    if let (&Value::Int(x), &Value::Int(y)) = (&*reg!(ins.c), &*reg!(ins.c + 1)) {
                        let r = if ins.op == XOp::IntMinB {
                            x.min(y)
                        } else {
                            x.max(y)
                        };
                        set_scalar!(Int, ins.a, r);
                        continue;
                    }
                    builtin_call!(ins)
                }
                XOp::StructGetImmB => {
                    if let (Value::Struct(s), Value::Int(i)) = (&*reg!(ins.c), &*reg!(ins.c + 1)) {
                        if let Some(v) = usize::try_from(*i).ok().and_then(|i| s.fields.get(i)) {
                            let v = v.clone();
                            release_dead!(ins, 0, ins.c);
                            set!(ins.a, v);
                            continue;
                        }
                    }
                    builtin_call!(ins)
                }
                XOp::StructGetB => {
                    // `(struct-get s 'field)`: the field found by name in
                    // the struct's type (the builtin reports the errors).
                    if let (Value::Struct(s), Value::Symbol(name)) =
                        (&*reg!(ins.c), &*reg!(ins.c + 1))
                    {
                        let field = module
                            .struct_types
                            .get(s.ty as usize)
                            .and_then(|def| def.fields.iter().position(|f| *f == name.text))
                            .and_then(|i| s.fields.get(i));
                        if let Some(v) = field {
                            let v = v.clone();
                            release_dead!(ins, 0, ins.c);
                            release_dead!(ins, 1, ins.c + 1);
                            set!(ins.a, v);
                            continue;
                        }
                    }
                    builtin_call!(ins)
                }
                XOp::StructTypePB => {
                    // `(struct-type? T x)`: whether x is an instance of T.
                    if let Value::StructType(t) = *reg!(ins.c) {
                        let r = matches!(&*reg!(ins.c + 1), Value::Struct(s) if s.ty == t);
                        release_dead!(ins, 1, ins.c + 1);
                        set_scalar!(Bool, ins.a, r);
                        continue;
                    }
                    builtin_call!(ins)
                }
                XOp::TypeTestB => {
                    let r = ins.b & (1 << reg!(ins.c).tag()) != 0;
                    release_dead!(ins, 0, ins.c);
                    set_scalar!(Bool, ins.a, r);
                }
                XOp::Return => {
                    if let Value::Int(i) = *reg!(ins.a) {
                        do_return!(Int, i);
                    } else {
                        let v = std::mem::take(reg!(ins.a));
                        do_return!(v);
                    }
                }
                XOp::ReturnSweep => {
                    let v = std::mem::take(reg!(ins.a));
                    sweep_list!(ins.bx());
                    do_return!(v);
                }
                XOp::Apply => {
                    if COUNT {
                        self.stats.calls += 1;
                    }
                    let callee = read!(ins, 0, ins.b);
                    let list = read!(ins, 1, ins.c);
                    let at = base!() + cur.num_registers as usize;
                    let nargs = tri!(keep_regs!(self.spread(list, at)));
                    match callee.into_closure() {
                        Ok((cf, cenv)) => {
                            tri!(keep_regs!(self.bind_args(&fns[cf as usize], at, nargs)));
                            let caller_env = std::mem::replace(&mut env, cenv);
                            push_frame!(ins.a, Some(caller_env));
                            enter!(cf, at);
                        }
                        Err(other) => {
                            let v = tri!(keep_regs!(self.call_other(&other, at, nargs)));
                            set!(ins.a, v);
                        }
                    }
                }
                XOp::TailApply => {
                    if COUNT {
                        self.stats.calls += 1;
                    }
                    let callee = std::mem::take(reg!(ins.a));
                    let list = std::mem::take(reg!(ins.b));
                    self.clear(base!(), base!() + cur.num_registers as usize);
                    let nargs = tri!(keep_regs!(self.spread(list, base!())));
                    match callee.into_closure() {
                        Ok((cf, cenv)) => {
                            tri!(keep_regs!(self.bind_args(
                                &fns[cf as usize],
                                base!(),
                                nargs
                            )));
                            switch_env!(cenv);
                            enter!(cf, base!());
                        }
                        Err(other) => {
                            let v = self.call_other(&other, base!(), nargs);
                            do_return!(tri!(v));
                        }
                    }
                }
                XOp::Raise => tri!(Err(ops::raise(reg!(ins.a)))),
                XOp::RaiseUnbound => {
                    tri!(Err(ops::raise_unbound(cur.consts.get(ins.b as usize))))
                }
                XOp::RaiseNoMatch => tri!(Err(ops::raise_no_match(reg!(ins.a), module))),

                // ---- constructors ----
                XOp::MakeList => {
                    check_memory!();
                    let v = self.make_list(ins, base!());
                    set!(ins.a, v);
                }
                XOp::MakeDict | XOp::MakeSet => {
                    let id = if ins.op == XOp::MakeDict {
                        Builtin::Dict
                    } else {
                        Builtin::Set
                    };
                    let at = base!() + ins.b as usize;
                    let window = &mut self.stack[at..at + ins.c as usize];
                    let r = call_builtin(&ctx, id, &mut Args::with_flags(window, ins.flags));
                    build::release_flagged(window, ins.flags);
                    let v = tri!(r);
                    set!(ins.a, v);
                }
                XOp::MakeStruct => {
                    let v = tri!(self.make_struct(ins, base!()));
                    set!(ins.a, v);
                }

                // ---- fused sequences (see `code`) ----
                XOp::AddIntImm => {
                    skip!(1);
                    int_imm!(ins, Builtin::IntegerAdd, Int, |x, y| x.checked_add(y))
                }
                XOp::SubIntImm => {
                    skip!(1);
                    int_imm!(ins, Builtin::IntegerSub, Int, |x, y| x.checked_sub(y))
                }
                XOp::LtIntJf => cmp_branch!(ins, Builtin::IntegerLt, <, 0, reg),
                XOp::LeIntJf => cmp_branch!(ins, Builtin::IntegerLe, <=, 0, reg),
                XOp::GtIntJf => cmp_branch!(ins, Builtin::IntegerGt, >, 0, reg),
                XOp::GeIntJf => cmp_branch!(ins, Builtin::IntegerGe, >=, 0, reg),
                XOp::EqIntJf => cmp_branch!(ins, Builtin::IntegerEq, ==, 0, reg),
                XOp::NeIntJf => cmp_branch!(ins, Builtin::IntegerNe, !=, 0, reg),
                XOp::LtIntImmJf => cmp_branch!(ins, Builtin::IntegerLt, <, 1, imm),
                XOp::LeIntImmJf => cmp_branch!(ins, Builtin::IntegerLe, <=, 1, imm),
                XOp::GtIntImmJf => cmp_branch!(ins, Builtin::IntegerGt, >, 1, imm),
                XOp::GeIntImmJf => cmp_branch!(ins, Builtin::IntegerGe, >=, 1, imm),
                XOp::EqIntImmJf => cmp_branch!(ins, Builtin::IntegerEq, ==, 1, imm),
                XOp::NeIntImmJf => cmp_branch!(ins, Builtin::IntegerNe, !=, 1, imm),
                XOp::LtIntKJf => cmp_branch!(ins, Builtin::IntegerLt, <, 0, imm),
                XOp::LeIntKJf => cmp_branch!(ins, Builtin::IntegerLe, <=, 0, imm),
                XOp::GtIntKJf => cmp_branch!(ins, Builtin::IntegerGt, >, 0, imm),
                XOp::GeIntKJf => cmp_branch!(ins, Builtin::IntegerGe, >=, 0, imm),
                XOp::EqIntKJf => cmp_branch!(ins, Builtin::IntegerEq, ==, 0, imm),
                XOp::NeIntKJf => cmp_branch!(ins, Builtin::IntegerNe, !=, 0, imm),

                XOp::LtFloatJf => float_branch!(ins, "float<?", <, false, checked),
                XOp::LeFloatJf => float_branch!(ins, "float<=?", <=, false, checked),
                XOp::GtFloatJf => float_branch!(ins, "float>?", >, false, checked),
                XOp::GeFloatJf => float_branch!(ins, "float>=?", >=, false, checked),
                XOp::EqFloatJf => float_branch!(ins, "float=?", ==, false, checked),
                XOp::NeFloatJf => float_branch!(ins, "float!=?", !=, false, checked),
                XOp::LtFloatJt => float_branch!(ins, "float<?", <, true, checked),
                XOp::LeFloatJt => float_branch!(ins, "float<=?", <=, true, checked),
                XOp::GtFloatJt => float_branch!(ins, "float>?", >, true, checked),
                XOp::GeFloatJt => float_branch!(ins, "float>=?", >=, true, checked),
                XOp::EqFloatJt => float_branch!(ins, "float=?", ==, true, checked),
                XOp::NeFloatJt => float_branch!(ins, "float!=?", !=, true, checked),
                XOp::LtFloatPJf => float_branch!(ins, "float<?", <, false, proven),
                XOp::LeFloatPJf => float_branch!(ins, "float<=?", <=, false, proven),
                XOp::GtFloatPJf => float_branch!(ins, "float>?", >, false, proven),
                XOp::GeFloatPJf => float_branch!(ins, "float>=?", >=, false, proven),
                XOp::EqFloatPJf => float_branch!(ins, "float=?", ==, false, proven),
                XOp::NeFloatPJf => float_branch!(ins, "float!=?", !=, false, proven),
                XOp::NullJf => null_branch!(ins, false, checked),
                XOp::NullJt => null_branch!(ins, true, checked),
                XOp::NullPJf => null_branch!(ins, false, proven),
                XOp::NullPJt => null_branch!(ins, true, proven),
                XOp::LtFloatPJt => float_branch!(ins, "float<?", <, true, proven),
                XOp::LeFloatPJt => float_branch!(ins, "float<=?", <=, true, proven),
                XOp::GtFloatPJt => float_branch!(ins, "float>?", >, true, proven),
                XOp::GeFloatPJt => float_branch!(ins, "float>=?", >=, true, proven),
                XOp::EqFloatPJt => float_branch!(ins, "float=?", ==, true, proven),
                XOp::NeFloatPJt => float_branch!(ins, "float!=?", !=, true, proven),

                // ---- typed integer operations with an immediate ----
                XOp::AddIntK => {
                    int_imm!(ins, Builtin::IntegerAdd, Int, |x, y| x.checked_add(y))
                }
                XOp::SubIntK => {
                    int_imm!(ins, Builtin::IntegerSub, Int, |x, y| x.checked_sub(y))
                }
                XOp::LtIntK => int_imm!(ins, Builtin::IntegerLt, Bool, |x, y| Some(x < y)),
                XOp::LeIntK => int_imm!(ins, Builtin::IntegerLe, Bool, |x, y| Some(x <= y)),
                XOp::GtIntK => int_imm!(ins, Builtin::IntegerGt, Bool, |x, y| Some(x > y)),
                XOp::GeIntK => int_imm!(ins, Builtin::IntegerGe, Bool, |x, y| Some(x >= y)),
                XOp::EqIntK => int_imm!(ins, Builtin::IntegerEq, Bool, |x, y| Some(x == y)),
                XOp::NeIntK => int_imm!(ins, Builtin::IntegerNe, Bool, |x, y| Some(x != y)),

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
                XOp::AddFloat => float_op!(ins, "float+", Float, |x, y| x + y),
                XOp::SubFloat => float_op!(ins, "float-", Float, |x, y| x - y),
                XOp::MulFloat => float_op!(ins, "float*", Float, |x, y| x * y),
                XOp::DivFloat => {
                    if let (Value::Float(x), Value::Float(y)) = (&*reg!(ins.b), &*reg!(ins.c)) {
                        if *y != 0.0 {
                            let q = x / y;
                            set_scalar!(Float, ins.a, q);
                            continue;
                        }
                    }
                    tri!(Err(ops::float_div_error(reg!(ins.b), reg!(ins.c))));
                }
                XOp::LtFloat => float_op!(ins, "float<?", Bool, |x, y| x < y),
                XOp::LeFloat => float_op!(ins, "float<=?", Bool, |x, y| x <= y),
                XOp::GtFloat => float_op!(ins, "float>?", Bool, |x, y| x > y),
                XOp::GeFloat => float_op!(ins, "float>=?", Bool, |x, y| x >= y),
                XOp::EqFloat => float_op!(ins, "float=?", Bool, |x, y| x == y),
                XOp::NeFloat => float_op!(ins, "float!=?", Bool, |x, y| x != y),
                XOp::AddFloatP => float_op_proven!(ins, Float, |x, y| x + y),
                XOp::SubFloatP => float_op_proven!(ins, Float, |x, y| x - y),
                XOp::MulFloatP => float_op_proven!(ins, Float, |x, y| x * y),
                XOp::LtFloatP => float_op_proven!(ins, Bool, |x, y| x < y),
                XOp::LeFloatP => float_op_proven!(ins, Bool, |x, y| x <= y),
                XOp::GtFloatP => float_op_proven!(ins, Bool, |x, y| x > y),
                XOp::GeFloatP => float_op_proven!(ins, Bool, |x, y| x >= y),
                XOp::EqFloatP => float_op_proven!(ins, Bool, |x, y| x == y),
                XOp::NeFloatP => float_op_proven!(ins, Bool, |x, y| x != y),

                // ---- hot list and boolean operations ----
                XOp::ListFirst => {
                    let v = match &*reg!(ins.b) {
                        Value::List(start, buf) if (*start as usize) < buf.len() => {
                            buf[*start as usize].clone()
                        }
                        other => tri!(Err(ops::list_error("list-first", other))),
                    };
                    release_dead!(ins, 0, ins.b);
                    set!(ins.a, v);
                }
                XOp::ListRef => {
                    if let (Value::List(start, buf), Value::Int(i)) = (&*reg!(ins.b), &*reg!(ins.c))
                    {
                        let at = (*start as usize).wrapping_add(*i as usize);
                        if *i >= 0 && at < buf.len() {
                            let v = buf[at].clone();
                            release_dead!(ins, 0, ins.b);
                            set!(ins.a, v);
                            continue;
                        }
                    }
                    let mut pair = [read!(ins, 0, ins.b), read!(ins, 1, ins.c)];
                    let v = tri!(call_builtin(
                        &ctx,
                        Builtin::ListRef,
                        &mut Args::owned(&mut pair)
                    ));
                    set!(ins.a, v);
                }
                XOp::SetMember => {
                    if let Value::Set(set) = &*reg!(ins.b) {
                        let x = &*reg!(ins.c);
                        if crate::equality::is_flat_key(x) {
                            let found = crate::equality::set_contains_flat(set, x);
                            release_dead!(ins, 0, ins.b);
                            release_dead!(ins, 1, ins.c);
                            set_scalar!(Bool, ins.a, found);
                            continue;
                        }
                    }
                    let mut pair = [read!(ins, 0, ins.b), read!(ins, 1, ins.c)];
                    let v = tri!(call_builtin(
                        &ctx,
                        Builtin::SetMemberP,
                        &mut Args::owned(&mut pair)
                    ));
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
                    let r = match &*reg!(ins.b) {
                        Value::List(start, buf) => *start as usize >= buf.len(),
                        other => tri!(Err(ops::type_error("list-null?", "list", other))),
                    };
                    release_dead!(ins, 0, ins.b);
                    set_scalar!(Bool, ins.a, r);
                }
                XOp::ListNullP => {
                    let Value::List(start, buf) = &*reg!(ins.b) else {
                        // SAFETY: as for `float_op_proven!`: T1 proves R[B] a list.
                        unsafe { std::hint::unreachable_unchecked() }
                    };
                    let r = *start as usize >= buf.len();
                    release_dead!(ins, 0, ins.b);
                    set_scalar!(Bool, ins.a, r);
                }
                XOp::ListPrepend => {
                    let list = read!(ins, 0, ins.b);
                    let x = read!(ins, 1, ins.c);
                    // An unshared list starting at its buffer's front (the
                    // accumulator of a loop) grows in place.
                    let list = match list.into_list() {
                        Ok((0, mut buf)) => match Rc::get_mut(&mut buf) {
                            Some(items) => {
                                items.push_front(x);
                                set!(ins.a, Value::List(0, buf));
                                continue;
                            }
                            None => Value::List(0, buf),
                        },
                        Ok((start, buf)) => Value::List(start, buf),
                        Err(other) => other,
                    };
                    let mut pair = [list, x];
                    let v = tri!(call_builtin(
                        &ctx,
                        Builtin::ListPrepend,
                        &mut Args::owned(&mut pair)
                    ));
                    set!(ins.a, v);
                }
                XOp::Not => {
                    let r = match &*reg!(ins.b) {
                        Value::Bool(b) => !b,
                        other => tri!(Err(ops::type_error("boolean-not", "boolean", other))),
                    };
                    set_scalar!(Bool, ins.a, r);
                }
                XOp::NotP => {
                    let Value::Bool(b) = *reg!(ins.b) else {
                        // SAFETY: as for `float_op_proven!`: T1 proves R[B] a boolean.
                        unsafe { std::hint::unreachable_unchecked() }
                    };
                    set_scalar!(Bool, ins.a, !b);
                }
            }
        }
    }
}
