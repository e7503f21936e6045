//! The contents of a `.bc` file: functions (register count, parameters,
//! constants, closure sites, code and a line table), struct types and the
//! source file names that locations refer to.
//!
//! Invariants that the validator (`validate`) establishes before the VM runs
//! a module are listed there; nothing here is trusted on its own.

use crate::opcodes::Instr;
use serde::{Deserialize, Serialize};

/// A source location: file index, 1-based line and column (in characters),
/// and the byte span within the file. `file == NO_FILE` means unknown.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct SrcLoc {
    pub file: u32,
    pub line: u32,
    pub col: u32,
    pub start: u32,
    pub end: u32,
}

/// `SrcLoc::file` of a location that is not known.
pub const NO_FILE: u32 = u32::MAX;

impl SrcLoc {
    pub const UNKNOWN: SrcLoc = SrcLoc {
        file: NO_FILE,
        line: 0,
        col: 0,
        start: 0,
        end: 0,
    };
}

/// A constant-pool entry.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Constant {
    None,
    Bool(bool),
    Int(i64),
    /// An integer outside the `i64` range, in decimal.
    BigInt(String),
    Float(f64),
    Complex(f64, f64),
    Str(String),
    Symbol(String),
    EmptyList,
    /// A quoted list of constants (at most `MAX_CONSTANT_DEPTH` deep when decoded).
    List(#[serde(deserialize_with = "deserialize_nested")] Vec<Constant>),
    /// A struct type of the module (index into `Module::struct_types`).
    StructType(u32),
}

/// The deepest nesting of `Constant::List` a decoder accepts: deeper input
/// is rejected with an error instead of overflowing the stack (decoding
/// costs up to ~1 KiB of stack per level in debug builds).
pub const MAX_CONSTANT_DEPTH: usize = 1024;

thread_local! {
    static CONSTANT_DEPTH: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// Decodes the elements of a `Constant::List`, counting nesting depth.
fn deserialize_nested<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<Constant>, D::Error> {
    struct Leave;
    impl Drop for Leave {
        fn drop(&mut self) {
            CONSTANT_DEPTH.with(|c| c.set(c.get().saturating_sub(1)));
        }
    }
    let depth = CONSTANT_DEPTH.with(|c| {
        c.set(c.get() + 1);
        c.get()
    });
    let _leave = Leave;
    if depth > MAX_CONSTANT_DEPTH {
        return Err(serde::de::Error::custom(format!(
            "constant lists nested more than {MAX_CONSTANT_DEPTH} deep"
        )));
    }
    Vec::<Constant>::deserialize(d)
}

/// A struct type declaration.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StructTypeDef {
    pub name: String,
    pub fields: Vec<String>,
}

/// Where a captured value comes from when a closure is built.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum CaptureFrom {
    /// A register of the function building the closure.
    Reg(u16),
    /// A slot of the environment of the function building the closure.
    Env(u16),
}

/// A `closure` instruction's description: which function the closure runs
/// and the values its new environment holds, in order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClosureSite {
    pub function: u32,
    pub captures: Vec<CaptureFrom>,
}

/// One compiled function (a lambda, or the program's top level).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Function {
    /// A readable name (the binding it came from, or `lambda@line:col`).
    pub name: String,
    /// Fixed parameter names; they arrive in registers 0 .. params.len().
    pub params: Vec<String>,
    /// The rest parameter's name; the list of extra arguments arrives in
    /// register `params.len()`.
    pub rest: Option<String>,
    /// Size of the environment this function's closures carry.
    pub num_captures: u16,
    /// Size of the register window (peak of simultaneously live values).
    pub num_registers: u16,
    pub constants: Vec<Constant>,
    pub closure_sites: Vec<ClosureSite>,
    pub code: Vec<Instr>,
    /// Source location of each instruction (same length as `code`).
    pub locs: Vec<SrcLoc>,
    /// The conditional jumps whose test comes from `and`, `or` or a `match`
    /// predicate, by increasing pc (every other one is an `if`): only
    /// consulted to word the error of a non-boolean test.
    pub cond_origins: Vec<CondTest>,
    /// Where the function is defined.
    pub loc: SrcLoc,
}

/// The form a conditional jump's test comes from; a test that is not a
/// boolean raises an error naming it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum CondOrigin {
    #[default]
    If,
    /// An operand of `and` (all but the last are tested).
    And,
    /// An operand of `or`.
    Or,
    /// The result of a `match` predicate pattern `(? pred x)`.
    Match,
}

impl CondOrigin {
    /// The runtime error for a test of type `got`.
    pub fn error(self, got: &str) -> String {
        match self {
            CondOrigin::If => format!("if: condition must be a boolean, got {got}"),
            CondOrigin::And => format!("and: operand must be a boolean, got {got}"),
            CondOrigin::Or => format!("or: operand must be a boolean, got {got}"),
            CondOrigin::Match => format!("match: predicate must return a boolean, got {got}"),
        }
    }

    /// Every origin.
    pub const ALL: [CondOrigin; 4] = [
        CondOrigin::If,
        CondOrigin::And,
        CondOrigin::Or,
        CondOrigin::Match,
    ];

    /// The origin whose [`name`](CondOrigin::name) is `name`.
    pub fn from_name(name: &str) -> Option<CondOrigin> {
        CondOrigin::ALL.into_iter().find(|c| c.name() == name)
    }

    /// The form's name, as the disassembler notes it.
    pub fn name(self) -> &'static str {
        match self {
            CondOrigin::If => "if",
            CondOrigin::And => "and",
            CondOrigin::Or => "or",
            CondOrigin::Match => "match",
        }
    }
}

/// A conditional jump (`jmpf`/`jmpt` at `pc`) whose test is not an `if`'s.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CondTest {
    pub pc: u32,
    pub origin: CondOrigin,
}

impl Function {
    /// Where the test of the conditional jump at `pc` comes from.
    pub fn cond_origin(&self, pc: usize) -> CondOrigin {
        self.cond_origins
            .binary_search_by_key(&pc, |t| t.pc as usize)
            .map_or(CondOrigin::If, |k| self.cond_origins[k].origin)
    }
}

impl Function {
    /// Number of registers holding arguments on entry.
    pub fn num_arg_registers(&self) -> usize {
        self.params.len() + usize::from(self.rest.is_some())
    }
}

/// A whole program in bytecode.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Module {
    /// Source file paths, indexed by `SrcLoc::file`.
    pub files: Vec<String>,
    /// For each of `files`, [`source_hash`] of the text it was compiled
    /// from (or empty: none recorded). A runtime error shows a snippet of a
    /// source file only if the file read back has this hash, so a module
    /// cannot make the VM display (or wait on) a file of its choosing.
    pub file_hashes: Vec<u64>,
    pub struct_types: Vec<StructTypeDef>,
    pub functions: Vec<Function>,
    /// The function run first: no parameters, no captures.
    pub entry: u32,
}

/// The hash of a source text recorded in [`Module::file_hashes`]: 64-bit
/// FNV-1a over its bytes (stable across builds and platforms).
pub fn source_hash(text: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in text {
        h ^= b as u64;
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}
