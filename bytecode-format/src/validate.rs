//! The bytecode validator: every module passes [`validate`] before the VM
//! runs it, and the VM relies on the invariants below to skip checks in its
//! hot loop. A module that fails is rejected with the function, the pc and
//! the reason; it is never executed. The validator never panics and bounds
//! its own memory use (a function too large to analyse is rejected).
//!
//! # Invariants of a valid module
//!
//! Module:
//! - M1. There is at least one function and `entry < functions.len()`.
//! - M2. The entry function has no parameters, no rest parameter and
//!   `num_captures == 0`.
//! - M3. `file_hashes` is empty or has one hash per file.
//!
//! Every function `f` (`n = f.num_registers`, which is ≤ 65535 by type):
//! - F1. `f.num_arg_registers() <= n` (parameters, then the rest list).
//! - F2. `code` is non-empty and at most [`MAX_CODE_LEN`] instructions; the
//!   analyses' work (register reads plus closure captures over all
//!   instructions, at most [`MAX_READS`]) and memory (basic blocks × register
//!   words) are bounded, and a larger function is refused as too large.
//! - F3. `locs.len() == code.len()`; every `SrcLoc::file` (of `f.loc` and of
//!   every entry of `locs`) is `< files.len()` or `NO_FILE`. Every
//!   `cond_origins` entry names a `jmpf`/`jmpt`, by strictly increasing pc.
//! - F4. Constants: a `BigInt` is a canonical decimal string (optional `-`,
//!   digits, no leading zero) whose value is outside the `i64` range; a
//!   `StructType(t)` (also nested inside `List`s) has `t < struct_types.len()`.
//! - F5. Closure sites: `function < functions.len()`; the site's capture count
//!   equals that function's `num_captures`; a `Reg(r)` capture has `r < n`;
//!   an `Env(e)` capture has `e < f.num_captures`. Hence every environment
//!   built by `closure` has exactly the length its function expects.
//!
//! Every instruction, driven by the operand shapes of `Op::operands()`:
//! - I1. `Unused` fields are zero (in the ABx format, field C is part of Bx).
//! - I2. Single registers (`RegR`, `RegW`) are `< n`. Register *ranges* read
//!   by multi-register instructions (the field that starts one is
//!   `Op::range_field()`) satisfy `start + len <= n` (an empty range
//!   may start at `n`): `call A B C` / `tailcall A B` read `R[A..=A+B]`;
//!   `callf A B C` / `tailcallf A B` read `R[A .. A+params(B)]`;
//!   `callb A B C` reads `R[C .. C+prim_arity(B)]`; `makelist`/`makedict`/
//!   `makeset A B C` read `R[B .. B+C]`; `makestruct A B C` reads
//!   `R[C .. C+fields(B)]`; `closure A Bx` reads the `Reg` captures of site Bx.
//! - I3. `Const` < `constants.len()`; `raiseunbound`'s constant is a `Str`
//!   or a `Symbol` (the unbound name).
//! - I4. `Jump` targets (Bx) are `< code.len()`.
//! - I5. `Builtin` fields are known builtin codes of `Native` builtins
//!   (`Prelude` builtins are Menai code and never reach the VM); `callb`'s
//!   builtin also has `prim_arity > 0`.
//! - I6. `Func` < `functions.len()`; `Site` < `closure_sites.len()`;
//!   `StructType` < `struct_types.len()`; `Capture` < `f.num_captures`.
//! - I7. `loadbool` B ∈ {0, 1}; `makedict` C is even.
//! - I8. `sibling A B`: function B has the same `num_captures` as `f`.
//!   `callf`/`tailcallf A B`: function B has no rest parameter, and its
//!   `num_captures` is 0 or the same as `f`'s.
//! - I9. Last-use `flags`: only bits for registers actually read are set
//!   (the order of reads is [`RegisterReads`]' order); a register flagged
//!   as the last use is not read again by a later operand of the same
//!   instruction, and is dead afterwards on every path (no path reads it
//!   before it is written again).
//!
//! Control flow and dataflow (over reachable instructions only; unreachable
//! code must still satisfy I1–I9):
//! - C1. No path falls off the end: the last instruction reachable on a path
//!   is `return`, `tailcall`, `tailcallf`, `tailapply`, `jmp` or a `raise*`.
//! - C2. Every register is written before it is read on every path. On
//!   entry, the argument registers `0 .. num_arg_registers()` are written.
//!   `call A B C` leaves every register `>= A+1` unwritten except `C`
//!   (the callee's window started at `R[A+1]`); `callf A B C` leaves every
//!   register `>= A` unwritten except `C`. `apply`/`tailapply` clobber
//!   nothing in the caller's window (the VM places their arguments above it).
//! - C3. Where the closure read by `closureref A B C` is known on every path
//!   (a `closure`, `sibling` or `closureref` put it in `R[C]`, possibly
//!   through `move`s), it is a closure and its function has the same
//!   `num_captures` as function B. (When it is not known the VM checks at
//!   run time that `R[C]` is a closure whose environment length is function
//!   B's `num_captures`.)
//!
//! Types (see [`types`]):
//! - T1. `flags` bit 7 (`Instr::TYPES_PROVEN`) is set only on typed opcodes
//!   (`Op::has_type_proof`), and on every reachable one the operand types
//!   the opcode checks are proven on every path by a forward dataflow over
//!   the registers (a lattice of integer / float / boolean / list / unknown,
//!   paths joined by meet, registers clobbered by `call` and call results
//!   unknown). The VM may then skip those tag checks (`first`/`rest` still
//!   check for the empty list; integer opcodes still tell small from big
//!   integers).
//!
//! What is *not* established (the VM checks at run time): value types
//! (except as T1 proves them), argument counts of calls, and the environment size for `closureref` on
//! an unknown closure.
//!
//! # The soundness rule
//!
//! A fact the VM uses to skip a check (the operand types of T1, the
//! register bounds of I2, the jump targets of I4, the deadness of I9) must
//! hold on **every path** into the instruction that relies on it. The
//! analyses are therefore dataflow over basic blocks whose leaders are every
//! jump target, every instruction after a jump, call or exit, and pc 0;
//! facts meet at block entries. A fact read off a neighbouring instruction
//! (a type predicate refining the branch after it, see `types`) counts only
//! when both instructions are in one block: a jump that is itself a jump
//! target can be reached without running the instruction before it in the
//! code. `tests/types_proven.rs` holds one crafted module per way of
//! breaking this rule.
//!
//! # Lints
//!
//! A call whose callee is known on every path (a `closure`, `sibling`,
//! `closureref`, `loadbuiltin`, or `loadk` of a struct type put it in the
//! register, possibly through `move`s) with an argument count the callee
//! cannot accept is *not* invalid: the language makes it a runtime error
//! (`(let ((f (lambda (a b) a))) (f 1))` must fail with `call: expected 2
//! arguments, got 1` when, and only if, it runs). [`lint`] reports such
//! calls without rejecting the module.

use crate::builtins::{Builtin, Impl};
use crate::effects::{field_value, range_len, register_effects, RegisterReads};
use crate::module::{CaptureFrom, Constant, Function, Module, NO_FILE};
pub use crate::opcodes::Field;
use crate::opcodes::{Instr, Op, Operand};
use std::fmt;

pub mod types;

/// The longest function (in instructions) a module may contain.
pub const MAX_CODE_LEN: usize = 1 << 24;

/// The largest register window (the `u16` field already bounds it).
pub const MAX_REGISTERS: usize = u16::MAX as usize;

/// Most register reads and closure captures (summed over a function's
/// instructions) the analyses visit; a function with more is refused as too
/// large to validate.
pub const MAX_READS: u64 = 1 << 26;

/// Memory budget of one dataflow analysis, in 64-bit words (32 MiB).
const ANALYSIS_BUDGET: usize = 1 << 22;

/// Why a module was rejected, and where.
#[derive(Debug, Clone, PartialEq)]
pub struct ValidationError {
    /// Index of the offending function (`None`: the module as a whole).
    pub function: Option<u32>,
    /// Its name (empty for module-level errors).
    pub name: String,
    /// The offending instruction, if any.
    pub pc: Option<u32>,
    pub reason: Reason,
}

/// The rule a module breaks.
#[derive(Debug, Clone, PartialEq)]
pub enum Reason {
    NoFunctions,
    /// `file_hashes` is neither empty nor one per file.
    FileHashes {
        hashes: usize,
        files: usize,
    },
    EntryOutOfRange {
        entry: u32,
        functions: usize,
    },
    EntryHasParameters,
    EntryHasCaptures {
        captures: u16,
    },
    TooFewRegisters {
        args: usize,
        registers: u16,
    },
    EmptyCode,
    CodeTooLong {
        len: usize,
    },
    LocsLength {
        locs: usize,
        code: usize,
    },
    /// A `cond_origins` entry not on a conditional jump, or out of order.
    BadCondOrigin {
        pc: u32,
    },
    BadFile {
        file: u32,
        files: usize,
    },
    BadBigInt {
        constant: usize,
        text: String,
    },
    ConstantStructType {
        constant: usize,
        index: u32,
        count: usize,
    },
    SiteFunction {
        site: usize,
        function: u32,
        count: usize,
    },
    SiteCaptureCount {
        site: usize,
        function: u32,
        expected: u16,
        found: usize,
    },
    SiteRegister {
        site: usize,
        register: u16,
        registers: u16,
    },
    SiteEnv {
        site: usize,
        slot: u16,
        captures: u16,
    },
    UnusedNotZero {
        field: Field,
        value: u32,
    },
    Register {
        register: u32,
        registers: u16,
    },
    RegisterRange {
        start: u32,
        len: u32,
        registers: u16,
    },
    Constant {
        index: u32,
        count: usize,
    },
    NotAString {
        index: u32,
    },
    Jump {
        target: u32,
        len: usize,
    },
    UnknownBuiltin {
        code: u16,
    },
    PreludeBuiltin {
        name: &'static str,
    },
    NoPrimitive {
        name: &'static str,
    },
    Function {
        index: u32,
        count: usize,
    },
    Site {
        index: u32,
        count: usize,
    },
    StructType {
        index: u32,
        count: usize,
    },
    Capture {
        index: u16,
        captures: u16,
    },
    BadBool {
        value: u16,
    },
    OddDictCount {
        count: u16,
    },
    SiblingCaptures {
        function: u32,
        theirs: u16,
        ours: u16,
    },
    /// `callf`/`tailcallf` of a function whose environment is neither empty
    /// nor of the current function's layout.
    KnownCallCaptures {
        function: u32,
        theirs: u16,
        ours: u16,
    },
    /// `callf`/`tailcallf` of a function with a rest parameter.
    KnownCallRest {
        function: u32,
    },
    FlagBeyondReads {
        bit: u32,
        reads: usize,
    },
    FlagReadAgain {
        register: u32,
    },
    FlagStillLive {
        register: u32,
    },
    FallsOffEnd,
    Uninitialized {
        register: u32,
    },
    Arity {
        callee: String,
        args: u32,
        accepts: String,
    },
    ClosureRefCaptures {
        function: u32,
        theirs: u16,
        source: u32,
        source_captures: u16,
    },
    ClosureRefNotClosure {
        what: String,
    },
    TooManyReads {
        reads: u64,
    },
    TooLargeToValidate {
        blocks: usize,
        registers: u16,
    },
    TypesProvenOnUntyped,
    TypesNotProven {
        register: u32,
        expected: &'static str,
        found: &'static str,
    },
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reason::NoFunctions => write!(f, "module has no functions"),
            Reason::FileHashes { hashes, files } => {
                write!(f, "{hashes} source hashes for {files} files")
            }
            Reason::EntryOutOfRange { entry, functions } => {
                write!(f, "entry function {entry} out of range (module has {functions} functions)")
            }
            Reason::EntryHasParameters => write!(f, "the entry function must take no parameters"),
            Reason::EntryHasCaptures { captures } => {
                write!(f, "the entry function must have no captures (has {captures})")
            }
            Reason::TooFewRegisters { args, registers } => {
                write!(f, "{args} argument registers but only {registers} registers")
            }
            Reason::EmptyCode => write!(f, "function has no code"),
            Reason::CodeTooLong { len } => {
                write!(f, "{len} instructions exceed the limit of {MAX_CODE_LEN}")
            }
            Reason::BadCondOrigin { pc } => write!(
                f,
                "condition origin for pc {pc}: not a conditional jump, or out of order"
            ),
            Reason::LocsLength { locs, code } => {
                write!(f, "line table has {locs} entries for {code} instructions")
            }
            Reason::BadFile { file, files } => {
                write!(f, "source file {file} out of range (module has {files} files)")
            }
            Reason::BadBigInt { constant, text } => write!(
                f,
                "constant {constant}: big integer {text:?} is not a canonical decimal outside the i64 range"
            ),
            Reason::ConstantStructType { constant, index, count } => write!(
                f,
                "constant {constant}: struct type {index} out of range (module has {count} struct types)"
            ),
            Reason::SiteFunction { site, function, count } => write!(
                f,
                "closure site {site}: function {function} out of range (module has {count} functions)"
            ),
            Reason::SiteCaptureCount { site, function, expected, found } => write!(
                f,
                "closure site {site}: function {function} has {expected} captures but the site provides {found}"
            ),
            Reason::SiteRegister { site, register, registers } => write!(
                f,
                "closure site {site}: captured register {register} out of range (function has {registers} registers)"
            ),
            Reason::SiteEnv { site, slot, captures } => write!(
                f,
                "closure site {site}: captured environment slot {slot} out of range (function has {captures} captures)"
            ),
            Reason::UnusedNotZero { field, value } => write!(f, "unused field {field} is {value}, not 0"),
            Reason::Register { register, registers } => {
                write!(f, "register {register} out of range (function has {registers} registers)")
            }
            Reason::RegisterRange { start, len, registers } => write!(
                f,
                "registers {start}..{} out of range (function has {registers} registers)",
                u64::from(*start) + u64::from(*len)
            ),
            Reason::Constant { index, count } => {
                write!(f, "constant {index} out of range (function has {count} constants)")
            }
            Reason::NotAString { index } => {
                write!(f, "constant {index} is not a string or symbol")
            }
            Reason::Jump { target, len } => {
                write!(f, "jump target {target} out of range (function has {len} instructions)")
            }
            Reason::UnknownBuiltin { code } => write!(f, "unknown builtin code {code}"),
            Reason::PreludeBuiltin { name } => {
                write!(f, "builtin '{name}' is a prelude function, not a VM operation")
            }
            Reason::NoPrimitive { name } => write!(f, "builtin '{name}' has no primitive for callb"),
            Reason::Function { index, count } => {
                write!(f, "function {index} out of range (module has {count} functions)")
            }
            Reason::Site { index, count } => {
                write!(f, "closure site {index} out of range (function has {count} closure sites)")
            }
            Reason::StructType { index, count } => {
                write!(f, "struct type {index} out of range (module has {count} struct types)")
            }
            Reason::Capture { index, captures } => {
                write!(f, "capture {index} out of range (function has {captures} captures)")
            }
            Reason::BadBool { value } => write!(f, "loadbool operand {value} is not 0 or 1"),
            Reason::OddDictCount { count } => write!(f, "makedict with an odd register count {count}"),
            Reason::SiblingCaptures { function, theirs, ours } => write!(
                f,
                "sibling function {function} has {theirs} captures but this function has {ours}"
            ),
            Reason::KnownCallCaptures { function, theirs, ours } => write!(
                f,
                "known call of function {function} with {theirs} captures from a function with {ours} (must be 0 or equal)"
            ),
            Reason::KnownCallRest { function } => {
                write!(f, "known call of function {function}, which has a rest parameter")
            }
            Reason::FlagBeyondReads { bit, reads } => {
                write!(f, "last-use flag bit {bit} set but the instruction reads {reads} registers")
            }
            Reason::FlagReadAgain { register } => write!(
                f,
                "register {register} flagged as a last use but read again by the same instruction"
            ),
            Reason::FlagStillLive { register } => {
                write!(f, "register {register} flagged as a last use but read later")
            }
            Reason::FallsOffEnd => write!(f, "execution falls off the end of the code"),
            Reason::Uninitialized { register } => {
                write!(f, "register {register} may be read before it is written")
            }
            Reason::Arity { callee, args, accepts } => {
                write!(f, "call of {callee} with {args} arguments (it accepts {accepts})")
            }
            Reason::ClosureRefCaptures { function, theirs, source, source_captures } => write!(
                f,
                "closureref of function {function} ({theirs} captures) sharing the environment of function {source} ({source_captures} captures)"
            ),
            Reason::ClosureRefNotClosure { what } => write!(f, "closureref source is {what}, not a closure"),
            Reason::TooManyReads { reads } => write!(
                f,
                "function too large to validate ({reads} register reads; the limit is {MAX_READS})"
            ),
            Reason::TooLargeToValidate { blocks, registers } => write!(
                f,
                "function too large to validate ({blocks} basic blocks x {registers} registers)"
            ),
            Reason::TypesProvenOnUntyped => {
                write!(f, "types-proven flag on an instruction that checks no types")
            }
            Reason::TypesNotProven { register, expected, found } => write!(
                f,
                "types-proven flag but register {register} is not proven {expected} (found {found})"
            ),
        }
    }
}

impl fmt::Display for ValidationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.function, self.pc) {
            (None, _) => write!(f, "module: {}", self.reason),
            (Some(_), None) => write!(
                f,
                "function '{}': {}",
                self.name.escape_debug(),
                self.reason
            ),
            (Some(_), Some(pc)) => write!(
                f,
                "function '{}' pc {pc}: {}",
                self.name.escape_debug(),
                self.reason
            ),
        }
    }
}

impl std::error::Error for ValidationError {}

/// A failure inside one function: the pc (if any) and the reason.
type Fail = (Option<u32>, Reason);

fn at(pc: usize, reason: Reason) -> Fail {
    (Some(pc as u32), reason)
}

/// Checks every invariant listed in the module documentation.
pub fn validate(m: &Module) -> Result<(), ValidationError> {
    check_module(m, None)
}

/// A module that passed [`validate`]. The only way to make one is
/// [`ValidModule::new`], so code holding one (the VM) may rely on every
/// invariant above without checking it again.
#[derive(Debug, Clone)]
pub struct ValidModule {
    module: Module,
}

impl ValidModule {
    /// Validates `module` and wraps it.
    pub fn new(module: Module) -> Result<ValidModule, ValidationError> {
        validate(&module)?;
        Ok(ValidModule { module })
    }

    /// The module back (no longer known to be valid once changed).
    pub fn into_inner(self) -> Module {
        self.module
    }
}

impl std::ops::Deref for ValidModule {
    type Target = Module;
    fn deref(&self) -> &Module {
        &self.module
    }
}

/// Validates `m`, then returns its lints (see the module documentation):
/// calls of a known callee with an argument count it cannot accept.
pub fn lint(m: &Module) -> Result<Vec<ValidationError>, ValidationError> {
    let mut lints = Vec::new();
    check_module(m, Some(&mut lints))?;
    Ok(lints)
}

fn check_module(
    m: &Module,
    mut lints: Option<&mut Vec<ValidationError>>,
) -> Result<(), ValidationError> {
    let module_err = |reason| ValidationError {
        function: None,
        name: String::new(),
        pc: None,
        reason,
    };
    if m.functions.is_empty() {
        return Err(module_err(Reason::NoFunctions));
    }
    if !m.file_hashes.is_empty() && m.file_hashes.len() != m.files.len() {
        return Err(module_err(Reason::FileHashes {
            hashes: m.file_hashes.len(),
            files: m.files.len(),
        }));
    }
    let Some(entry) = m.functions.get(m.entry as usize) else {
        return Err(module_err(Reason::EntryOutOfRange {
            entry: m.entry,
            functions: m.functions.len(),
        }));
    };
    let entry_err = |reason| ValidationError {
        function: Some(m.entry),
        name: entry.name.clone(),
        pc: None,
        reason,
    };
    if !entry.params.is_empty() || entry.rest.is_some() {
        return Err(entry_err(Reason::EntryHasParameters));
    }
    if entry.num_captures != 0 {
        return Err(entry_err(Reason::EntryHasCaptures {
            captures: entry.num_captures,
        }));
    }
    for (index, f) in m.functions.iter().enumerate() {
        let mut found = Vec::new();
        let sink = if lints.is_some() {
            Some(&mut found)
        } else {
            None
        };
        validate_function(m, f, sink).map_err(|(pc, reason)| ValidationError {
            function: Some(index as u32),
            name: f.name.clone(),
            pc,
            reason,
        })?;
        if let Some(out) = lints.as_deref_mut() {
            out.extend(found.into_iter().map(|(pc, reason)| ValidationError {
                function: Some(index as u32),
                name: f.name.clone(),
                pc,
                reason,
            }));
        }
    }
    Ok(())
}

/// Checks one function; lints go to `lints` when it is given.
fn validate_function(m: &Module, f: &Function, lints: Option<&mut Vec<Fail>>) -> Result<(), Fail> {
    let args = f.num_arg_registers();
    if args > f.num_registers as usize {
        return Err((
            None,
            Reason::TooFewRegisters {
                args,
                registers: f.num_registers,
            },
        ));
    }
    if f.code.is_empty() {
        return Err((None, Reason::EmptyCode));
    }
    if f.code.len() > MAX_CODE_LEN {
        return Err((None, Reason::CodeTooLong { len: f.code.len() }));
    }
    if f.locs.len() != f.code.len() {
        return Err((
            None,
            Reason::LocsLength {
                locs: f.locs.len(),
                code: f.code.len(),
            },
        ));
    }
    let file_ok = |file: u32| file == NO_FILE || (file as usize) < m.files.len();
    if !file_ok(f.loc.file) {
        return Err((
            None,
            Reason::BadFile {
                file: f.loc.file,
                files: m.files.len(),
            },
        ));
    }
    if let Some(pc) = f.locs.iter().position(|l| !file_ok(l.file)) {
        return Err(at(
            pc,
            Reason::BadFile {
                file: f.locs[pc].file,
                files: m.files.len(),
            },
        ));
    }
    let mut prev: Option<u32> = None;
    for t in &f.cond_origins {
        let jump = f.code.get(t.pc as usize).map(|i| i.op);
        if !matches!(jump, Some(Op::JmpFalse | Op::JmpTrue)) || prev.is_some_and(|p| p >= t.pc) {
            return Err((None, Reason::BadCondOrigin { pc: t.pc }));
        }
        prev = Some(t.pc);
    }
    check_constants(m, f)?;
    check_sites(m, f)?;
    for (pc, &ins) in f.code.iter().enumerate() {
        check_instr(m, f, ins).map_err(|r| at(pc, r))?;
    }
    // Bound the work of the analyses, which visit every register read and
    // every capture of a `closure`'s site (counted per instruction: many
    // closures may share a site).
    let reads: u64 = f
        .code
        .iter()
        .map(|&ins| match ins.op {
            Op::Closure => f
                .closure_sites
                .get(ins.bx() as usize)
                .map_or(0, |s| s.captures.len() as u64),
            _ => register_effects(m, f, ins).reads.count() as u64,
        })
        .sum();
    if reads > MAX_READS {
        return Err((None, Reason::TooManyReads { reads }));
    }
    for (pc, &ins) in f.code.iter().enumerate() {
        check_flags(m, f, ins).map_err(|r| at(pc, r))?;
    }
    dataflow(m, f, lints)
}

/// Whether `s` is a canonical big-integer constant: decimal digits with an
/// optional `-`, no leading zero, and outside the `i64` range (F4; the
/// `.mir` check applies the same rule).
pub fn valid_bigint(s: &str) -> bool {
    let digits = s.strip_prefix('-').unwrap_or(s);
    !digits.is_empty()
        && digits.bytes().all(|b| b.is_ascii_digit())
        && !(digits.len() > 1 && digits.starts_with('0'))
        && s.parse::<i64>().is_err()
}

/// F4, iteratively (quoted lists can nest deeply).
fn check_constants(m: &Module, f: &Function) -> Result<(), Fail> {
    for (k, c) in f.constants.iter().enumerate() {
        let mut stack = vec![c];
        while let Some(c) = stack.pop() {
            match c {
                Constant::BigInt(text) if !valid_bigint(text) => {
                    return Err((
                        None,
                        Reason::BadBigInt {
                            constant: k,
                            text: text.clone(),
                        },
                    ));
                }
                Constant::StructType(t) if *t as usize >= m.struct_types.len() => {
                    return Err((
                        None,
                        Reason::ConstantStructType {
                            constant: k,
                            index: *t,
                            count: m.struct_types.len(),
                        },
                    ));
                }
                Constant::List(items) => stack.extend(items.iter()),
                _ => {}
            }
        }
    }
    Ok(())
}

/// F5.
fn check_sites(m: &Module, f: &Function) -> Result<(), Fail> {
    for (site, s) in f.closure_sites.iter().enumerate() {
        let Some(target) = m.functions.get(s.function as usize) else {
            return Err((
                None,
                Reason::SiteFunction {
                    site,
                    function: s.function,
                    count: m.functions.len(),
                },
            ));
        };
        if target.num_captures as usize != s.captures.len() {
            return Err((
                None,
                Reason::SiteCaptureCount {
                    site,
                    function: s.function,
                    expected: target.num_captures,
                    found: s.captures.len(),
                },
            ));
        }
        for cap in &s.captures {
            match *cap {
                CaptureFrom::Reg(r) if r >= f.num_registers => {
                    return Err((
                        None,
                        Reason::SiteRegister {
                            site,
                            register: r,
                            registers: f.num_registers,
                        },
                    ));
                }
                CaptureFrom::Env(e) if e >= f.num_captures => {
                    return Err((
                        None,
                        Reason::SiteEnv {
                            site,
                            slot: e,
                            captures: f.num_captures,
                        },
                    ));
                }
                _ => {}
            }
        }
    }
    Ok(())
}

/// How control leaves an instruction (from the opcode table's flow column):
/// whether it can continue at `pc + 1`, and its jump target.
fn flow(ins: Instr) -> (bool, Option<u32>) {
    let flow = ins.op.flow();
    (flow.falls_through(), flow.jumps().then(|| ins.bx()))
}

/// I1–I8 for one instruction.
fn check_instr(m: &Module, f: &Function, ins: Instr) -> Result<(), Reason> {
    let regs = f.num_registers;
    let shapes = ins.op.operands();
    let abx = ins.op.is_abx();
    let range = ins.op.range_field();
    for (shape, field) in shapes.iter().zip([Field::A, Field::B, Field::C]) {
        if abx && field == Field::C {
            continue; // the high half of Bx, checked with B
        }
        let v = field_value(ins, field);
        let wide = if abx && field == Field::B {
            ins.bx()
        } else {
            v as u32
        };
        match shape {
            Operand::Unused if v != 0 => {
                return Err(Reason::UnusedNotZero {
                    field,
                    value: v as u32,
                })
            }
            Operand::RegR | Operand::RegW if range != Some(field) && v >= regs => {
                return Err(Reason::Register {
                    register: v as u32,
                    registers: regs,
                });
            }
            Operand::Const if v as usize >= f.constants.len() => {
                return Err(Reason::Constant {
                    index: v as u32,
                    count: f.constants.len(),
                });
            }
            Operand::Jump if wide as usize >= f.code.len() => {
                return Err(Reason::Jump {
                    target: wide,
                    len: f.code.len(),
                });
            }
            Operand::Builtin => {
                let b = Builtin::from_code(v).ok_or(Reason::UnknownBuiltin { code: v })?;
                let info = b.info();
                if info.implementation != Impl::Native {
                    return Err(Reason::PreludeBuiltin { name: info.name });
                }
                if ins.op == Op::CallBuiltin && info.prim_arity == 0 {
                    return Err(Reason::NoPrimitive { name: info.name });
                }
            }
            Operand::Func if v as usize >= m.functions.len() => {
                return Err(Reason::Function {
                    index: v as u32,
                    count: m.functions.len(),
                });
            }
            Operand::Site if wide as usize >= f.closure_sites.len() => {
                return Err(Reason::Site {
                    index: wide,
                    count: f.closure_sites.len(),
                });
            }
            Operand::StructType if v as usize >= m.struct_types.len() => {
                return Err(Reason::StructType {
                    index: v as u32,
                    count: m.struct_types.len(),
                });
            }
            Operand::Capture if v >= f.num_captures => {
                return Err(Reason::Capture {
                    index: v,
                    captures: f.num_captures,
                });
            }
            _ => {}
        }
    }
    if let Some(field) = range {
        let start = field_value(ins, field) as u32;
        // The builtin and struct type were checked above, so the length is known.
        let len = range_len(m, ins).unwrap_or(0);
        if u64::from(start) + u64::from(len) > u64::from(regs) {
            return Err(match ins.op {
                Op::Call | Op::TailCall if start >= regs as u32 => Reason::Register {
                    register: start,
                    registers: regs,
                },
                _ => Reason::RegisterRange {
                    start,
                    len,
                    registers: regs,
                },
            });
        }
    }
    match ins.op {
        Op::LoadBool if ins.b > 1 => return Err(Reason::BadBool { value: ins.b }),
        Op::MakeDict if !ins.c.is_multiple_of(2) => {
            return Err(Reason::OddDictCount { count: ins.c })
        }
        Op::CallF | Op::TailCallF => {
            // The function index was checked above.
            if let Some(g) = m.functions.get(ins.b as usize) {
                if g.rest.is_some() {
                    return Err(Reason::KnownCallRest {
                        function: ins.b as u32,
                    });
                }
                if g.num_captures != 0 && g.num_captures != f.num_captures {
                    return Err(Reason::KnownCallCaptures {
                        function: ins.b as u32,
                        theirs: g.num_captures,
                        ours: f.num_captures,
                    });
                }
            }
        }
        Op::Sibling => {
            let theirs = m
                .functions
                .get(ins.b as usize)
                .map_or(0, |g| g.num_captures);
            if theirs != f.num_captures {
                return Err(Reason::SiblingCaptures {
                    function: ins.b as u32,
                    theirs,
                    ours: f.num_captures,
                });
            }
        }
        Op::RaiseUnbound
            if !matches!(
                f.constants.get(ins.b as usize),
                Some(Constant::Str(_) | Constant::Symbol(_))
            ) =>
        {
            return Err(Reason::NotAString {
                index: ins.b as u32,
            });
        }
        _ => {}
    }
    Ok(())
}

/// The static part of I9 for one instruction (run once the total number of
/// reads is known to be bounded).
fn check_flags(m: &Module, f: &Function, ins: Instr) -> Result<(), Reason> {
    if ins.types_proven() && !ins.op.has_type_proof() {
        return Err(Reason::TypesProvenOnUntyped);
    }
    if ins.flags & !Instr::TYPES_PROVEN != 0 {
        let effects = register_effects(m, f, ins);
        let reads = effects.reads.count();
        for bit in 0..Instr::LAST_USE_BITS {
            if ins.flags & (1 << bit) != 0 && bit as usize >= reads {
                return Err(Reason::FlagBeyondReads { bit, reads });
            }
        }
        // A flagged register must not be read by a later operand.
        let mut flagged: Vec<(usize, u32)> = Vec::new();
        effects
            .reads
            .try_for_each::<()>(|i, r| {
                if i >= Instr::LAST_USE_BITS as usize {
                    return Err(()); // only the first 7 reads have flags: stop early
                }
                if ins.is_last_use(i as u32) {
                    flagged.push((i, r));
                }
                Ok(())
            })
            .ok();
        if flagged.is_empty() || matches!(effects.reads, RegisterReads::Range { .. }) {
            return Ok(()); // a range reads distinct registers
        }
        effects.reads.try_for_each(|j, r| {
            match flagged.iter().find(|&&(i, fr)| fr == r && j > i) {
                Some(_) => Err(Reason::FlagReadAgain { register: r }),
                None => Ok(()),
            }
        })?;
    }
    Ok(())
}

/// A fixed-size set of registers.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Bits(Vec<u64>);

impl Bits {
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
    /// Removes every register `>= from`.
    fn remove_from(&mut self, from: u32) {
        let first = from as usize / 64;
        for (i, w) in self.0.iter_mut().enumerate().skip(first) {
            if i == first {
                *w &= (1u64 << (from % 64)).wrapping_sub(1);
            } else {
                *w = 0;
            }
        }
    }
}

/// Basic blocks of one function.
struct Cfg {
    /// `[start, end)` of each block, in code order.
    blocks: Vec<(usize, usize)>,
    succs: Vec<Vec<usize>>,
    /// Reachable blocks in reverse postorder from block 0.
    rpo: Vec<usize>,
}

fn build_cfg(f: &Function) -> Result<Cfg, Fail> {
    let n = f.code.len();
    let mut leader = vec![false; n];
    leader[0] = true; // n >= 1 (F2)
    for (pc, &ins) in f.code.iter().enumerate() {
        let (through, jump) = flow(ins);
        if let Some(t) = jump {
            if let Some(l) = leader.get_mut(t as usize) {
                *l = true;
            }
        }
        if (jump.is_some() || !through) && pc + 1 < n {
            leader[pc + 1] = true;
        }
    }
    let mut block_of = vec![0usize; n];
    let mut blocks: Vec<(usize, usize)> = Vec::new();
    for pc in 0..n {
        if leader[pc] {
            if let Some(last) = blocks.last_mut() {
                last.1 = pc;
            }
            blocks.push((pc, n));
        }
        block_of[pc] = blocks.len() - 1;
    }
    let mut succs = Vec::with_capacity(blocks.len());
    for &(_, end) in &blocks {
        let last = end - 1;
        let (through, jump) = flow(f.code[last]);
        let mut s = Vec::with_capacity(2);
        if through && last + 1 < n {
            s.push(block_of[last + 1]);
        }
        if let Some(t) = jump {
            // jump targets are in range (I4)
            if let Some(&b) = block_of.get(t as usize) {
                if !s.contains(&b) {
                    s.push(b);
                }
            }
        }
        succs.push(s);
    }
    // Iterative DFS from block 0 for reachability and postorder.
    let nb = blocks.len();
    let mut reachable = vec![false; nb];
    let mut post = Vec::with_capacity(nb);
    let mut stack: Vec<(usize, usize)> = vec![(0, 0)];
    reachable[0] = true;
    while let Some(top) = stack.last_mut() {
        let (b, i) = *top;
        if let Some(&s) = succs[b].get(i) {
            top.1 += 1;
            if !reachable[s] {
                reachable[s] = true;
                stack.push((s, 0));
            }
        } else {
            post.push(b);
            stack.pop();
        }
    }
    post.reverse();
    // C1: a reachable block ending in an instruction that continues at pc+1 == n.
    for &b in &post {
        let last = blocks[b].1 - 1;
        if flow(f.code[last]).0 && last + 1 == n {
            return Err(at(last, Reason::FallsOffEnd));
        }
    }
    Ok(Cfg {
        blocks,
        succs,
        rpo: post,
    })
}

/// C1–C3 and the liveness part of I9 (and the arity lints).
fn dataflow(m: &Module, f: &Function, lints: Option<&mut Vec<Fail>>) -> Result<(), Fail> {
    let cfg = build_cfg(f)?;
    let nb = cfg.blocks.len();
    let words = (f.num_registers as usize).div_ceil(64);
    if nb.saturating_mul(words) > ANALYSIS_BUDGET {
        return Err((
            None,
            Reason::TooLargeToValidate {
                blocks: nb,
                registers: f.num_registers,
            },
        ));
    }
    check_initialized(m, f, &cfg, words)?;
    if f.code.iter().any(|i| i.flags & !Instr::TYPES_PROVEN != 0) {
        check_last_uses(m, f, &cfg, words)?;
    }
    if f.code.iter().any(|i| i.types_proven()) {
        check_budget(f, &cfg, 1)?;
        types::check_types_proven(m, f, &cfg)?;
    }
    check_callees(m, f, &cfg, lints)
}

/// Refuses an analysis of `bytes` bytes per register and block beyond the
/// memory budget.
fn check_budget(f: &Function, cfg: &Cfg, bytes: usize) -> Result<(), Fail> {
    let nb = cfg.blocks.len();
    let need = nb
        .saturating_mul(f.num_registers as usize)
        .saturating_mul(bytes);
    if need > ANALYSIS_BUDGET.saturating_mul(8) {
        return Err((
            None,
            Reason::TooLargeToValidate {
                blocks: nb,
                registers: f.num_registers,
            },
        ));
    }
    Ok(())
}

/// C2: forward "must be written" analysis; meet is intersection.
fn check_initialized(m: &Module, f: &Function, cfg: &Cfg, words: usize) -> Result<(), Fail> {
    let nb = cfg.blocks.len();
    let mut ins_state: Vec<Bits> = vec![Bits(vec![u64::MAX; words]); nb];
    let mut entry = Bits(vec![0; words]);
    for r in 0..f.num_arg_registers() {
        entry.insert(r as u32);
    }
    ins_state[0] = entry;
    let transfer = |state: &mut Bits, ins: Instr, check: bool| -> Result<(), Reason> {
        let e = register_effects(m, f, ins);
        if check {
            e.reads.try_for_each(|_, r| {
                if state.contains(r) {
                    Ok(())
                } else {
                    Err(Reason::Uninitialized { register: r })
                }
            })?;
        }
        if let Some(c) = e.clobber_from {
            state.remove_from(c);
        }
        if let Some(w) = e.write {
            state.insert(w as u32);
        }
        Ok(())
    };
    let mut queued = vec![false; nb];
    let mut work: Vec<usize> = cfg.rpo.iter().rev().copied().collect();
    for &b in &work {
        queued[b] = true;
    }
    while let Some(b) = work.pop() {
        queued[b] = false;
        let mut state = ins_state[b].clone();
        let (start, end) = cfg.blocks[b];
        for &ins in &f.code[start..end] {
            let _ = transfer(&mut state, ins, false);
        }
        for &s in &cfg.succs[b] {
            let mut changed = false;
            for (a, o) in ins_state[s].0.iter_mut().zip(&state.0) {
                let new = *a & o;
                changed |= new != *a;
                *a = new;
            }
            if changed && !queued[s] {
                queued[s] = true;
                work.push(s);
            }
        }
    }
    for &b in &cfg.rpo {
        let mut state = ins_state[b].clone();
        let (start, end) = cfg.blocks[b];
        for (pc, &ins) in f.code[start..end].iter().enumerate() {
            transfer(&mut state, ins, true).map_err(|r| at(start + pc, r))?;
        }
    }
    Ok(())
}

/// I9 (liveness part): backward liveness; a flagged read must be dead
/// after the instruction unless the instruction itself overwrites it.
fn check_last_uses(m: &Module, f: &Function, cfg: &Cfg, words: usize) -> Result<(), Fail> {
    let nb = cfg.blocks.len();
    let empty = Bits(vec![0; words]);
    let mut live_in: Vec<Bits> = vec![empty.clone(); nb];
    let back = |state: &mut Bits, ins: Instr| {
        let e = register_effects(m, f, ins);
        if let Some(w) = e.write {
            state.remove(w as u32);
        }
        if let Some(c) = e.clobber_from {
            state.remove_from(c);
        }
        let _ = e.reads.try_for_each::<()>(|_, r| {
            state.insert(r);
            Ok(())
        });
    };
    let live_out = |live_in: &[Bits], b: usize| {
        let mut out = empty.clone();
        for &s in &cfg.succs[b] {
            for (o, i) in out.0.iter_mut().zip(&live_in[s].0) {
                *o |= i;
            }
        }
        out
    };
    // Round-robin in postorder until nothing changes (liveness only grows).
    let mut changed = true;
    while changed {
        changed = false;
        for &b in cfg.rpo.iter().rev() {
            let mut state = live_out(&live_in, b);
            let (start, end) = cfg.blocks[b];
            for &ins in f.code[start..end].iter().rev() {
                back(&mut state, ins);
            }
            if state != live_in[b] {
                live_in[b] = state;
                changed = true;
            }
        }
    }
    for &b in &cfg.rpo {
        let mut state = live_out(&live_in, b);
        let (start, end) = cfg.blocks[b];
        for pc in (start..end).rev() {
            let ins = f.code[pc];
            if ins.flags != 0 {
                let e = register_effects(m, f, ins);
                e.reads
                    .try_for_each(|i, r| {
                        let overwritten = e.write.map(u32::from) == Some(r)
                            || e.clobber_from.is_some_and(|c| r >= c);
                        if ins.is_last_use(i as u32) && state.contains(r) && !overwritten {
                            Err(Reason::FlagStillLive { register: r })
                        } else {
                            Ok(())
                        }
                    })
                    .map_err(|r| at(pc, r))?;
            }
            back(&mut state, ins);
        }
    }
    Ok(())
}

/// What a register is known to hold, for C3.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Known {
    /// Not yet reached by the analysis (the top of the lattice).
    Top,
    Unknown,
    Function(u32),
    Builtin(Builtin),
    StructType(u32),
}

impl Known {
    fn meet(self, other: Known) -> Known {
        match (self, other) {
            (Known::Top, x) | (x, Known::Top) => x,
            (x, y) if x == y => x,
            _ => Known::Unknown,
        }
    }
}

/// C3 and the arity lints: forward "known callee" analysis over the
/// registers that matter (sources of `closureref`, callees of `call`/
/// `tailcall` when linting, and the sources of `move`s into them). Skipped
/// if it would exceed the memory budget.
fn check_callees(
    m: &Module,
    f: &Function,
    cfg: &Cfg,
    mut lints: Option<&mut Vec<Fail>>,
) -> Result<(), Fail> {
    const NONE: u32 = u32::MAX;
    let mut slot = vec![NONE; f.num_registers as usize];
    let mut tracked = 0u32;
    let track = |slot: &mut Vec<u32>, tracked: &mut u32, r: u16| -> bool {
        match slot.get_mut(r as usize) {
            Some(s) if *s == NONE => {
                *s = *tracked;
                *tracked += 1;
                true
            }
            _ => false,
        }
    };
    for ins in &f.code {
        match ins.op {
            Op::Call | Op::TailCall if lints.is_some() => {
                track(&mut slot, &mut tracked, ins.a);
            }
            Op::ClosureRef => {
                track(&mut slot, &mut tracked, ins.c);
            }
            _ => {}
        }
    }
    if tracked == 0 {
        return Ok(());
    }
    // Close under `move A B` with A tracked (a worklist: linear time).
    let mut sources: Vec<Vec<u16>> = vec![Vec::new(); f.num_registers as usize];
    for ins in &f.code {
        if ins.op == Op::Move {
            if let Some(list) = sources.get_mut(ins.a as usize) {
                list.push(ins.b);
            }
        }
    }
    let mut work: Vec<usize> = (0..slot.len()).filter(|&r| slot[r] != NONE).collect();
    while let Some(r) = work.pop() {
        for &b in sources.get(r).map_or(&[][..], |v| v.as_slice()) {
            if track(&mut slot, &mut tracked, b) {
                work.push(b as usize);
            }
        }
    }
    let width = tracked as usize;
    let nb = cfg.blocks.len();
    if nb.saturating_mul(width) > ANALYSIS_BUDGET {
        // Not needed for safety (the VM checks closureref at run time, and
        // arities are lints): skip rather than reject.
        return Ok(());
    }
    let get = |state: &[Known], r: u32| -> Known {
        match slot.get(r as usize) {
            Some(&s) if s != NONE => state.get(s as usize).copied().unwrap_or(Known::Unknown),
            _ => Known::Unknown,
        }
    };
    let transfer = |state: &mut [Known], ins: Instr| {
        let e = register_effects(m, f, ins);
        let value = match ins.op {
            Op::Closure => f
                .closure_sites
                .get(ins.bx() as usize)
                .map_or(Known::Unknown, |s| Known::Function(s.function)),
            Op::Sibling | Op::ClosureRef => Known::Function(ins.b as u32),
            Op::LoadBuiltin => Builtin::from_code(ins.b).map_or(Known::Unknown, Known::Builtin),
            Op::LoadK => match f.constants.get(ins.b as usize) {
                Some(Constant::StructType(t)) => Known::StructType(*t),
                _ => Known::Unknown,
            },
            Op::Move => get(state, ins.b as u32),
            _ => Known::Unknown,
        };
        if let Some(c) = e.clobber_from {
            for &s in slot.iter().skip(c as usize) {
                if let Some(k) = state.get_mut(s as usize) {
                    *k = Known::Unknown;
                }
            }
        }
        if let Some(w) = e.write {
            if let Some(&s) = slot.get(w as usize) {
                if let Some(k) = state.get_mut(s as usize) {
                    *k = value;
                }
            }
        }
    };
    let mut ins_state: Vec<Vec<Known>> = vec![vec![Known::Top; width]; nb];
    ins_state[0] = vec![Known::Unknown; width];
    let mut queued = vec![false; nb];
    let mut work: Vec<usize> = cfg.rpo.iter().rev().copied().collect();
    for &b in &work {
        queued[b] = true;
    }
    while let Some(b) = work.pop() {
        queued[b] = false;
        let mut state = ins_state[b].clone();
        let (start, end) = cfg.blocks[b];
        for &ins in &f.code[start..end] {
            transfer(&mut state, ins);
        }
        for &s in &cfg.succs[b] {
            let mut changed = false;
            for (a, &o) in ins_state[s].iter_mut().zip(&state) {
                let new = a.meet(o);
                changed |= new != *a;
                *a = new;
            }
            if changed && !queued[s] {
                queued[s] = true;
                work.push(s);
            }
        }
    }
    for &b in &cfg.rpo {
        let mut state = ins_state[b].clone();
        let (start, end) = cfg.blocks[b];
        for pc in start..end {
            let ins = f.code[pc];
            match ins.op {
                Op::Call | Op::TailCall => {
                    if let Some(out) = lints.as_deref_mut() {
                        if let Err(r) = check_arity(m, get(&state, ins.a as u32), ins.b as u32) {
                            out.push(at(pc, r));
                        }
                    }
                }
                Op::ClosureRef => {
                    check_closureref(m, get(&state, ins.c as u32), ins.b as u32)
                        .map_err(|r| at(pc, r))?;
                }
                _ => {}
            }
            transfer(&mut state, ins);
        }
    }
    Ok(())
}

fn check_arity(m: &Module, callee: Known, args: u32) -> Result<(), Reason> {
    let n = args as usize;
    let (ok, callee, accepts) = match callee {
        Known::Function(i) => {
            let Some(g) = m.functions.get(i as usize) else {
                return Ok(());
            };
            let p = g.params.len();
            let ok = if g.rest.is_some() { n >= p } else { n == p };
            let accepts = if g.rest.is_some() {
                format!("at least {p}")
            } else {
                p.to_string()
            };
            (
                ok,
                format!("function {i} '{}'", g.name.escape_debug()),
                accepts,
            )
        }
        Known::Builtin(b) => {
            let info = b.info();
            let accepts = if info.max_args == crate::builtins::MANY {
                format!("at least {}", info.min_args)
            } else if info.min_args == info.max_args {
                info.min_args.to_string()
            } else {
                format!("{} to {}", info.min_args, info.max_args)
            };
            (info.accepts(n), format!("builtin '{}'", info.name), accepts)
        }
        Known::StructType(t) => {
            let Some(st) = m.struct_types.get(t as usize) else {
                return Ok(());
            };
            (
                n == st.fields.len(),
                format!("struct type '{}'", st.name.escape_debug()),
                st.fields.len().to_string(),
            )
        }
        Known::Top | Known::Unknown => return Ok(()),
    };
    if ok {
        Ok(())
    } else {
        Err(Reason::Arity {
            callee,
            args,
            accepts,
        })
    }
}

fn check_closureref(m: &Module, source: Known, target: u32) -> Result<(), Reason> {
    let theirs = m
        .functions
        .get(target as usize)
        .map_or(0, |g| g.num_captures);
    match source {
        Known::Function(s) => {
            let source_captures = m.functions.get(s as usize).map_or(0, |g| g.num_captures);
            if source_captures == theirs {
                Ok(())
            } else {
                Err(Reason::ClosureRefCaptures {
                    function: target,
                    theirs,
                    source: s,
                    source_captures,
                })
            }
        }
        Known::Builtin(b) => Err(Reason::ClosureRefNotClosure {
            what: format!("builtin '{}'", b.name()),
        }),
        Known::StructType(t) => Err(Reason::ClosureRefNotClosure {
            what: format!("struct type {t}"),
        }),
        Known::Top | Known::Unknown => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The opcode table's columns agree with each other and with what the
    /// validator assumes of them.
    #[test]
    fn opcode_table_columns_agree() {
        for &op in Op::ALL {
            let shapes = op.operands();
            let writes = shapes.iter().filter(|s| **s == Operand::RegW).count();
            let reads = shapes.iter().filter(|s| **s == Operand::RegR).count();
            assert!(writes <= 1, "{op:?} writes {writes} registers");
            if let Some(field) = op.range_field() {
                let i = match field {
                    Field::A => 0,
                    Field::B => 1,
                    Field::C => 2,
                };
                assert_eq!(
                    shapes[i],
                    Operand::RegR,
                    "{op:?}: range field must be a read"
                );
            }
            if op.is_abx() {
                assert_eq!(shapes[2], Operand::Unused, "{op:?}: C is Bx's high half");
            }
            for (i, s) in shapes.iter().enumerate() {
                if matches!(s, Operand::Jump | Operand::Imm32 | Operand::Site) {
                    assert_eq!(i, 1, "{op:?}: wide operand outside B");
                }
            }
            let (through, jump) = flow(Instr::abc(op, 0, 0, 0));
            assert_eq!(jump.is_some(), shapes[1] == Operand::Jump, "{op:?}");
            // Terminators are exactly the returns, tail calls and raises.
            let m = op.mnemonic();
            let exits = m == "return" || m.starts_with("tail") || m.starts_with("raise");
            assert_eq!(!through && jump.is_none(), exits, "{op:?}");
            if op.flow() == crate::opcodes::Flow::Call {
                assert_eq!(writes, 1, "{op:?}: a call that returns writes its result");
            }
            if op.has_type_proof() {
                // `types::checked` holds up to two registers, all single reads.
                assert!((1..=2).contains(&reads), "{op:?} reads {reads} registers");
                assert!(op.range_field().is_none() && through && jump.is_none());
            }
        }
    }

    #[test]
    fn read_order_is_the_flag_order() {
        let m = Module {
            files: vec![],
            file_hashes: vec![],
            struct_types: vec![],
            functions: vec![],
            entry: 0,
        };
        let f = Function {
            name: "f".into(),
            params: vec![],
            rest: None,
            num_captures: 1,
            num_registers: 8,
            constants: vec![],
            closure_sites: vec![crate::module::ClosureSite {
                function: 0,
                captures: vec![
                    CaptureFrom::Reg(5),
                    CaptureFrom::Env(0),
                    CaptureFrom::Reg(2),
                ],
            }],
            code: vec![],
            locs: vec![],
            cond_origins: vec![],
            loc: crate::module::SrcLoc::UNKNOWN,
        };
        let reads = |ins: Instr| {
            let mut v = Vec::new();
            let _ = register_effects(&m, &f, ins)
                .reads
                .try_for_each::<()>(|i, r| {
                    v.push((i, r));
                    Ok(())
                });
            v
        };
        assert_eq!(reads(Instr::abc(Op::Apply, 0, 3, 4)), vec![(0, 3), (1, 4)]);
        assert_eq!(
            reads(Instr::abc(Op::TailApply, 6, 1, 0)),
            vec![(0, 6), (1, 1)]
        );
        assert_eq!(
            reads(Instr::abc(Op::Call, 2, 2, 0)),
            vec![(0, 2), (1, 3), (2, 4)]
        );
        assert_eq!(reads(Instr::abx(Op::Closure, 0, 0)), vec![(0, 5), (1, 2)]);
        assert_eq!(reads(Instr::abc(Op::ClosureRef, 0, 0, 7)), vec![(0, 7)]);
        assert_eq!(
            reads(Instr::abc(Op::MakeList, 0, 4, 2)),
            vec![(0, 4), (1, 5)]
        );
        assert_eq!(reads(Instr::abx(Op::JmpTrue, 3, 9)), vec![(0, 3)]);
        let e = register_effects(&m, &f, Instr::abc(Op::Call, 2, 2, 6));
        assert_eq!((e.write, e.clobber_from), (Some(6), Some(3)));
    }

    #[test]
    fn bitset_removes_from_a_register_on() {
        let mut b = Bits(vec![u64::MAX; 2]);
        b.remove_from(70);
        assert!(b.contains(69) && !b.contains(70) && !b.contains(127));
        b.remove_from(0);
        assert!(!b.contains(0));
        let mut b = Bits(vec![u64::MAX; 2]);
        b.remove_from(64);
        assert!(b.contains(63) && !b.contains(64));
        b.remove_from(500); // past the end: no effect
        assert!(b.contains(63));
    }
}
