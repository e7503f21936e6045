//! The opcode table: the single list from which the instruction enum,
//! decoding, mnemonics and the disassembler are all derived, and with them
//! the per-opcode facts the validator and the VM read: operand shapes, how
//! control leaves an instruction ([`Flow`]), which field starts a register
//! range, and the operand and result types of typed opcodes.
//!
//! Every instruction is one 64-bit word:
//!
//! ```text
//!  63        48 47        32 31        16 15     8 7      0
//! +------------+------------+------------+--------+--------+
//! |     C      |     B      |     A      | flags  | opcode |
//! +------------+------------+------------+--------+--------+
//!               \_________ Bx = B | C << 16 (32 bits) ____/  (ABx format)
//! ```
//!
//! ```text
//!  flags:   7            6 .. 0
//!        +-------------+-----------------------------+
//!        | TYPES_PROVEN | last-use bits (reads 0..6) |
//!        +-------------+-----------------------------+
//! ```
//!
//! `flags` bit *i* (0 ≤ i ≤ 6) set means: the *i*-th register this
//! instruction reads is dead afterwards, so the VM may move the value out
//! instead of cloning it (this is what keeps reference counts at 1 in
//! accumulator loops). Reads beyond the 7th never carry a last-use flag.
//!
//! Bit 7 ([`Instr::TYPES_PROVEN`]) may only be set on a typed opcode (see
//! [`Op::has_type_proof`]): it asserts that the operand types the opcode
//! checks ([`Op::operand_type`]) are proven statically (integers for
//! `addi`…`nei` and `addik`…`neik`, floats for `addf`…`nef`, a list for
//! `first`/`rest`/`nullp`, a boolean for `not`).
//! The validator proves it on every path or rejects the module, so the VM
//! may skip the tag checks (`first`/`rest` still check for the empty list).
//!
//! Codes are explicit and never reused: reordering the table never changes
//! the file format.

use crate::val_type::ValType;
use serde::{Deserialize, Serialize};

/// What an operand field means; the validator checks each against it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Operand {
    /// Field unused (must be zero).
    Unused,
    /// A register that is written.
    RegW,
    /// A register that is read.
    RegR,
    /// An index into the function's constant pool.
    Const,
    /// A 32-bit jump target (an instruction index of the same function); ABx only.
    Jump,
    /// A signed 32-bit immediate integer; ABx only.
    Imm32,
    /// A small unsigned immediate (a boolean 0/1, a count, a capture index…).
    Imm,
    /// A signed 16-bit immediate integer (the field read as `i16`); any value is valid.
    Imm16,
    /// A builtin id (see `builtins`).
    Builtin,
    /// A function index into the module.
    Func,
    /// A closure-site index of the current function; ABx only.
    Site,
    /// A struct type index into the module.
    StructType,
    /// An index into the current closure's environment.
    Capture,
}

/// How control leaves an instruction (the table's flow column).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flow {
    /// Continues at the next instruction.
    Next,
    /// A call that continues at the next instruction once the callee
    /// returns (the next pc is a return address).
    Call,
    /// Always jumps to its target (Bx).
    Goto,
    /// Jumps to its target (Bx) or continues at the next instruction.
    Branch,
    /// Leaves the function: a return, a tail call or a raise.
    Exit,
}

impl Flow {
    /// Whether control can continue at the next instruction (for a call,
    /// once the callee returns).
    pub fn falls_through(self) -> bool {
        matches!(self, Flow::Next | Flow::Call | Flow::Branch)
    }

    /// Whether control can go to the instruction's jump target (Bx).
    pub fn jumps(self) -> bool {
        matches!(self, Flow::Goto | Flow::Branch)
    }
}

/// An instruction field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    A,
    B,
    C,
}

impl std::fmt::Display for Field {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Field::A => "A",
            Field::B => "B",
            Field::C => "C",
        })
    }
}

macro_rules! opcodes {
    // One cell of the table.
    (@field -) => { None };
    (@field $f:ident) => { Some(Field::$f) };
    (@ty -) => { None };
    (@ty $t:ident) => { Some(ValType::$t) };
    (@frame Exact) => { true };
    (@frame Opaque) => { false };
    ($( $variant:ident = $code:literal, $mnemonic:literal, [$a:ident, $b:ident, $c:ident],
        $flow:ident, $range:tt, $operand:tt -> $result:tt, $frame:ident, $doc:literal; )*) => {
        /// An opcode. The discriminant is the code stored in files.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        #[repr(u8)]
        pub enum Op {
            $( #[doc = $doc] $variant = $code, )*
        }

        impl Op {
            /// Every opcode, in table order.
            pub const ALL: &'static [Op] = &[$(Op::$variant),*];

            /// Decodes a code read from a file.
            pub fn from_code(code: u8) -> Option<Op> {
                match code {
                    $( $code => Some(Op::$variant), )*
                    _ => None,
                }
            }

            /// The lower-case mnemonic used by the disassembler.
            pub fn mnemonic(self) -> &'static str {
                match self { $( Op::$variant => $mnemonic, )* }
            }

            /// The operand shapes of fields A, B and C. A shape of
            /// `Jump`, `Imm32` or `Site` in B means the ABx format (B and C together).
            pub fn operands(self) -> [Operand; 3] {
                match self { $( Op::$variant => [Operand::$a, Operand::$b, Operand::$c], )* }
            }

            /// How control leaves this instruction.
            pub fn flow(self) -> Flow {
                match self { $( Op::$variant => Flow::$flow, )* }
            }

            /// The field (if any) holding the first register of the range of
            /// registers this multi-register instruction reads; the range's
            /// length is the instruction's own (see `validate`, invariant I2).
            pub fn range_field(self) -> Option<Field> {
                match self { $( Op::$variant => opcodes!(@field $range), )* }
            }

            /// The type this typed opcode checks of every register it reads
            /// (its `RegR` fields), which TYPES_PROVEN asserts is proven
            /// (`None`: the opcode cannot carry TYPES_PROVEN).
            pub fn operand_type(self) -> Option<ValType> {
                match self { $( Op::$variant => opcodes!(@ty $operand), )* }
            }

            /// The type of the register this opcode writes, whenever it
            /// completes, when the opcode alone fixes it (`None`: it depends
            /// on the operands, or is not one of [`ValType`]).
            pub fn result_type(self) -> Option<ValType> {
                match self { $( Op::$variant => opcodes!(@ty $result), )* }
            }

            /// Whether its write and clobber as `effects::register_effects`
            /// lists them are all this opcode does to its frame's registers, as
            /// far as the type analysis (`validate::types`) may assume
            /// (`Opaque` rows: the analysis forgets every register's type).
            pub fn frame_effects_known(self) -> bool {
                match self { $( Op::$variant => opcodes!(@frame $frame), )* }
            }

            /// A one-line meaning in register notation.
            pub fn doc(self) -> &'static str {
                match self { $( Op::$variant => $doc, )* }
            }

            /// Whether the TYPES_PROVEN flag (bit 7) is meaningful on this
            /// opcode: the typed opcodes that check their operands' tags
            /// (those with an [`operand_type`](Op::operand_type)).
            pub fn has_type_proof(self) -> bool {
                self.operand_type().is_some()
            }

            /// Whether B's shape makes this an ABx instruction (B and C form Bx).
            pub fn is_abx(self) -> bool {
                matches!(
                    self.operands()[1],
                    Operand::Jump | Operand::Imm32 | Operand::Site
                )
            }
        }

        opcodes!(@export ($) $($variant)*);
    };
    // `for_each_op!(m)` expands to `m! { Nop Move LoadK ... }`: every
    // opcode's variant name, in table order, so another crate (the VM's
    // internal instruction set) is generated from this one table. (`$d`
    // is a literal `$` for the inner macro's own metavariables.)
    (@export ($d:tt) $($variant:ident)*) => {
        /// Calls macro `m` with the variant names of every opcode, in table
        /// order: `for_each_op!(m)` expands to `m! { Nop Move LoadK ... }`.
        #[macro_export]
        macro_rules! for_each_op {
            ($d m:ident) => { $d m! { $($variant)* } };
        }
    };
}

// Columns: variant = code, mnemonic, operand shapes of A, B and C, flow
// (`Flow`), the field starting the register range read (`-`: none), the
// operand type the opcode checks -> the type of its result (`ValType`; `-`:
// none), whether its frame effects are known to the type analysis (`Exact`:
// `effects::register_effects` lists all it does to its frame's registers;
// `callf` clobbers only from its window R[A] up) or not (`Opaque`, for an
// instruction not yet reviewed: the analysis then forgets every register's
// type after it), meaning.
opcodes! {
    // ---- moves and loads ----
    Nop          = 0,  "nop",          [Unused, Unused, Unused], Next,   -, - -> -,         Exact,  "do nothing";
    Move         = 1,  "move",         [RegW, RegR, Unused],     Next,   -, - -> -,         Exact,  "R[A] := R[B]";
    LoadK        = 2,  "loadk",        [RegW, Const, Unused],    Next,   -, - -> -,         Exact,  "R[A] := K[B]";
    LoadInt      = 3,  "loadint",      [RegW, Imm32, Unused],    Next,   -, - -> Int,       Exact,  "R[A] := integer(sBx)";
    LoadBool     = 4,  "loadbool",     [RegW, Imm, Unused],      Next,   -, - -> Bool,      Exact,  "R[A] := (B != 0)";
    LoadNone     = 5,  "loadnone",     [RegW, Unused, Unused],   Next,   -, - -> -,         Exact,  "R[A] := #none";
    LoadNil      = 6,  "loadnil",      [RegW, Unused, Unused],   Next,   -, - -> List,      Exact,  "R[A] := ()";
    LoadBuiltin  = 7,  "loadbuiltin",  [RegW, Builtin, Unused],  Next,   -, - -> -,         Exact,  "R[A] := builtin B as a value";
    GetCap       = 8,  "getcap",       [RegW, Capture, Unused],  Next,   -, - -> -,         Exact,  "R[A] := Env[B]";
    Closure      = 9,  "closure",      [RegW, Site, Unused],     Next,   -, - -> -,         Exact,  "R[A] := new closure from closure site Bx (fresh environment)";
    Sibling      = 10, "sibling",      [RegW, Func, Unused],     Next,   -, - -> -,         Exact,  "R[A] := closure of function B sharing the current environment";
    ClosureRef   = 11, "closureref",   [RegW, Func, RegR],       Next,   -, - -> -,         Exact,  "R[A] := closure of function B sharing the environment of closure R[C]";

    // ---- control ----
    Jmp          = 16, "jmp",          [Unused, Jump, Unused],   Goto,   -, - -> -,         Exact,  "pc := Bx";
    JmpTrue      = 17, "jmpt",         [RegR, Jump, Unused],     Branch, -, - -> -,         Exact,  "if R[A] (must be boolean) then pc := Bx";
    JmpFalse     = 18, "jmpf",         [RegR, Jump, Unused],     Branch, -, - -> -,         Exact,  "if not R[A] (must be boolean) then pc := Bx";
    Call         = 19, "call",         [RegR, Imm, RegW],        Call,   A, - -> -,         Exact,  "R[C] := R[A](R[A+1] .. R[A+B]); the callee's window starts at R[A+1]";
    TailCall     = 20, "tailcall",     [RegR, Imm, Unused],      Exit,   A, - -> -,         Exact,  "return R[A](R[A+1] .. R[A+B])";
    CallBuiltin  = 21, "callb",        [RegW, Builtin, RegR],    Next,   C, - -> -,         Exact,  "R[A] := builtin B(R[C] .. R[C+n-1]), n = the builtin's primitive arity";
    Return       = 22, "return",       [RegR, Unused, Unused],   Exit,   -, - -> -,         Exact,  "return R[A]";
    Apply        = 23, "apply",        [RegW, RegR, RegR],       Call,   -, - -> -,         Exact,  "R[A] := R[B](elements of list R[C])";
    TailApply    = 24, "tailapply",    [RegR, RegR, Unused],     Exit,   -, - -> -,         Exact,  "return R[A](elements of list R[B])";
    Raise        = 25, "raise",        [RegR, Unused, Unused],   Exit,   -, - -> -,         Exact,  "raise a runtime error whose message is the string R[A]";
    RaiseUnbound = 26, "raiseunbound", [Unused, Const, Unused],  Exit,   -, - -> -,         Exact,  "raise 'unbound name' for the name in string K[B]";
    RaiseNoMatch = 27, "raisenomatch", [RegR, Unused, Unused],   Exit,   -, - -> -,         Exact,  "raise 'no match clause matched' for value R[A]";
    CallF        = 28, "callf",        [RegR, Func, RegW],       Call,   A, - -> -,         Exact,  "R[C] := function B(R[A] .. R[A+n-1]), n = its param count; the callee's window starts at R[A]; its environment is the current one if B's capture count equals this function's, else empty (B has none)";
    TailCallF    = 29, "tailcallf",    [RegR, Func, Unused],     Exit,   A, - -> -,         Exact,  "return function B(R[A] .. R[A+n-1]), n = its param count; environment as for callf";

    // ---- constructors ----
    MakeList     = 32, "makelist",     [RegW, RegR, Imm],        Next,   B, - -> List,      Exact,  "R[A] := list(R[B] .. R[B+C-1])";
    MakeDict     = 33, "makedict",     [RegW, RegR, Imm],        Next,   B, - -> -,         Exact,  "R[A] := dict(R[B] .. R[B+C-1]) (C even: key, value, ...)";
    MakeSet      = 34, "makeset",      [RegW, RegR, Imm],        Next,   B, - -> -,         Exact,  "R[A] := set(R[B] .. R[B+C-1])";
    MakeStruct   = 35, "makestruct",   [RegW, StructType, RegR], Next,   C, - -> -,         Exact,  "R[A] := instance of struct type B from R[C] .. R[C+n-1], n = its field count";

    // ---- typed integer operations (check both tags; overflow promotes) ----
    AddInt       = 40, "addi",         [RegW, RegR, RegR],       Next,   -, Int -> Int,     Exact,  "R[A] := R[B] integer+ R[C]";
    SubInt       = 41, "subi",         [RegW, RegR, RegR],       Next,   -, Int -> Int,     Exact,  "R[A] := R[B] integer- R[C]";
    MulInt       = 42, "muli",         [RegW, RegR, RegR],       Next,   -, Int -> Int,     Exact,  "R[A] := R[B] integer* R[C]";
    LtInt        = 43, "lti",          [RegW, RegR, RegR],       Next,   -, Int -> Bool,    Exact,  "R[A] := R[B] integer<? R[C]";
    LeInt        = 44, "lei",          [RegW, RegR, RegR],       Next,   -, Int -> Bool,    Exact,  "R[A] := R[B] integer<=? R[C]";
    GtInt        = 45, "gti",          [RegW, RegR, RegR],       Next,   -, Int -> Bool,    Exact,  "R[A] := R[B] integer>? R[C]";
    GeInt        = 46, "gei",          [RegW, RegR, RegR],       Next,   -, Int -> Bool,    Exact,  "R[A] := R[B] integer>=? R[C]";
    EqInt        = 47, "eqi",          [RegW, RegR, RegR],       Next,   -, Int -> Bool,    Exact,  "R[A] := R[B] integer=? R[C]";
    NeInt        = 48, "nei",          [RegW, RegR, RegR],       Next,   -, Int -> Bool,    Exact,  "R[A] := R[B] integer!=? R[C]";

    // ---- typed integer operations with a signed 16-bit immediate sC ----
    AddIntK      = 80, "addik",        [RegW, RegR, Imm16],      Next,   -, Int -> Int,     Exact,  "R[A] := R[B] integer+ sC";
    SubIntK      = 81, "subik",        [RegW, RegR, Imm16],      Next,   -, Int -> Int,     Exact,  "R[A] := R[B] integer- sC";
    LtIntK       = 82, "ltik",         [RegW, RegR, Imm16],      Next,   -, Int -> Bool,    Exact,  "R[A] := R[B] integer<? sC";
    LeIntK       = 83, "leik",         [RegW, RegR, Imm16],      Next,   -, Int -> Bool,    Exact,  "R[A] := R[B] integer<=? sC";
    GtIntK       = 84, "gtik",         [RegW, RegR, Imm16],      Next,   -, Int -> Bool,    Exact,  "R[A] := R[B] integer>? sC";
    GeIntK       = 85, "geik",         [RegW, RegR, Imm16],      Next,   -, Int -> Bool,    Exact,  "R[A] := R[B] integer>=? sC";
    EqIntK       = 86, "eqik",         [RegW, RegR, Imm16],      Next,   -, Int -> Bool,    Exact,  "R[A] := R[B] integer=? sC";
    NeIntK       = 87, "neik",         [RegW, RegR, Imm16],      Next,   -, Int -> Bool,    Exact,  "R[A] := R[B] integer!=? sC";

    // ---- typed float operations (check both tags) ----
    AddFloat     = 56, "addf",         [RegW, RegR, RegR],       Next,   -, Float -> Float, Exact,  "R[A] := R[B] float+ R[C]";
    SubFloat     = 57, "subf",         [RegW, RegR, RegR],       Next,   -, Float -> Float, Exact,  "R[A] := R[B] float- R[C]";
    MulFloat     = 58, "mulf",         [RegW, RegR, RegR],       Next,   -, Float -> Float, Exact,  "R[A] := R[B] float* R[C]";
    DivFloat     = 59, "divf",         [RegW, RegR, RegR],       Next,   -, Float -> Float, Exact,  "R[A] := R[B] float/ R[C] (error on zero divisor)";
    LtFloat      = 60, "ltf",          [RegW, RegR, RegR],       Next,   -, Float -> Bool,  Exact,  "R[A] := R[B] float<? R[C]";
    LeFloat      = 61, "lef",          [RegW, RegR, RegR],       Next,   -, Float -> Bool,  Exact,  "R[A] := R[B] float<=? R[C]";
    GtFloat      = 62, "gtf",          [RegW, RegR, RegR],       Next,   -, Float -> Bool,  Exact,  "R[A] := R[B] float>? R[C]";
    GeFloat      = 63, "gef",          [RegW, RegR, RegR],       Next,   -, Float -> Bool,  Exact,  "R[A] := R[B] float>=? R[C]";
    EqFloat      = 64, "eqf",          [RegW, RegR, RegR],       Next,   -, Float -> Bool,  Exact,  "R[A] := R[B] float=? R[C]";
    NeFloat      = 65, "nef",          [RegW, RegR, RegR],       Next,   -, Float -> Bool,  Exact,  "R[A] := R[B] float!=? R[C]";

    // ---- hot list and boolean operations ----
    ListFirst    = 72, "first",        [RegW, RegR, Unused],     Next,   -, List -> -,      Exact,  "R[A] := list-first R[B]";
    ListRest     = 73, "rest",         [RegW, RegR, Unused],     Next,   -, List -> List,   Exact,  "R[A] := list-rest R[B]";
    ListNull     = 74, "nullp",        [RegW, RegR, Unused],     Next,   -, List -> Bool,   Exact,  "R[A] := list-null? R[B]";
    ListPrepend  = 75, "prepend",      [RegW, RegR, RegR],       Next,   -, - -> List,      Exact,  "R[A] := list-prepend R[B] R[C]";
    Not          = 76, "not",          [RegW, RegR, Unused],     Next,   -, Bool -> Bool,   Exact,  "R[A] := boolean-not R[B]";
    ListRef      = 77, "listref",      [RegW, RegR, RegR],       Next,   -, - -> -,         Exact,  "R[A] := list-ref R[B] R[C]";
    SetMember    = 78, "setmember",    [RegW, RegR, RegR],       Next,   -, - -> Bool,      Exact,  "R[A] := set-member? R[B] R[C]";
}

/// One decoded instruction. Encodes to and from a single `u64` in files.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(into = "u64", try_from = "u64")]
pub struct Instr {
    pub op: Op,
    pub flags: u8,
    pub a: u16,
    pub b: u16,
    pub c: u16,
}

impl Instr {
    /// An ABC-format instruction with no flags.
    pub fn abc(op: Op, a: u16, b: u16, c: u16) -> Instr {
        Instr {
            op,
            flags: 0,
            a,
            b,
            c,
        }
    }

    /// An ABx-format instruction: `bx` is split over B (low) and C (high).
    pub fn abx(op: Op, a: u16, bx: u32) -> Instr {
        Instr {
            op,
            flags: 0,
            a,
            b: bx as u16,
            c: (bx >> 16) as u16,
        }
    }

    /// The 32-bit Bx field (B low, C high).
    #[inline(always)]
    pub fn bx(self) -> u32 {
        self.b as u32 | (self.c as u32) << 16
    }

    /// The Bx field as a signed immediate.
    #[inline(always)]
    pub fn sbx(self) -> i32 {
        self.bx() as i32
    }

    /// The C field as a signed 16-bit immediate (`Imm16` operands).
    #[inline(always)]
    pub fn sc(self) -> i16 {
        self.c as i16
    }

    /// Flag bit 7: the operand types this typed opcode checks are proven
    /// (see the module documentation and the validator's invariant T1).
    pub const TYPES_PROVEN: u8 = 1 << 7;

    /// How many reads can carry a last-use flag (bits 0..6).
    pub const LAST_USE_BITS: u32 = 7;

    /// Whether the `i`-th register read by this instruction is its last use.
    #[inline(always)]
    pub fn is_last_use(self, i: u32) -> bool {
        i < Self::LAST_USE_BITS && self.flags & (1 << i) != 0
    }

    /// Whether the TYPES_PROVEN flag (bit 7) is set.
    #[inline(always)]
    pub fn types_proven(self) -> bool {
        self.flags & Self::TYPES_PROVEN != 0
    }

    /// This instruction with TYPES_PROVEN set or cleared.
    pub fn with_types_proven(self, proven: bool) -> Instr {
        let flags = if proven {
            self.flags | Self::TYPES_PROVEN
        } else {
            self.flags & !Self::TYPES_PROVEN
        };
        Instr { flags, ..self }
    }
}

impl From<Instr> for u64 {
    fn from(i: Instr) -> u64 {
        i.op as u64
            | (i.flags as u64) << 8
            | (i.a as u64) << 16
            | (i.b as u64) << 32
            | (i.c as u64) << 48
    }
}

/// The error for a word whose opcode byte is not in the table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownOpcode(pub u8);

impl std::fmt::Display for UnknownOpcode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "unknown opcode {}", self.0)
    }
}

impl TryFrom<u64> for Instr {
    type Error = UnknownOpcode;
    fn try_from(w: u64) -> Result<Instr, UnknownOpcode> {
        let code = w as u8;
        let op = Op::from_code(code).ok_or(UnknownOpcode(code))?;
        Ok(Instr {
            op,
            flags: (w >> 8) as u8,
            a: (w >> 16) as u16,
            b: (w >> 32) as u16,
            c: (w >> 48) as u16,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_and_round_trip() {
        let mut seen = std::collections::HashSet::new();
        for &op in Op::ALL {
            assert!(seen.insert(op as u8), "duplicate code for {op:?}");
            assert_eq!(Op::from_code(op as u8), Some(op));
        }
    }

    #[test]
    fn instr_word_round_trip() {
        let i = Instr {
            op: Op::Call,
            flags: 0b101,
            a: 7,
            b: 65535,
            c: 12,
        };
        assert_eq!(Instr::try_from(u64::from(i)), Ok(i));
        let j = Instr::abx(Op::LoadInt, 3, (-5i32) as u32);
        assert_eq!(j.sbx(), -5);
        assert_eq!(Instr::try_from(0xffu64), Err(UnknownOpcode(0xff)));
    }
}
