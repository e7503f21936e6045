//! What an instruction does to the registers of its frame: the registers
//! it reads (in the order its last-use flag bits refer to), the one it
//! writes, and those a call clobbers. Derived from the opcode table's
//! operand shapes; read by the validator, the disassembler (last-use
//! notes) and the VM's release analysis. Depends only on the opcode table
//! and the module types, so none of those readers needs the validator for
//! it.

use crate::builtins::Builtin;
use crate::module::{CaptureFrom, Function, Module};
use crate::opcodes::{Field, Instr, Op, Operand};

/// The value of instruction field `field`.
pub(crate) fn field_value(ins: Instr, field: Field) -> u16 {
    match field {
        Field::A => ins.a,
        Field::B => ins.b,
        Field::C => ins.c,
    }
}

/// The registers an instruction reads, in the order its last-use flag bits
/// refer to: the `RegR` fields in A, B, C order; for a multi-register
/// instruction, its range in increasing order; for `closure`, the `Reg`
/// captures of its site in site order.
#[derive(Clone, Copy, Debug)]
pub enum RegisterReads<'a> {
    Fixed { regs: [u16; 3], len: usize },
    Range { start: u32, len: u32 },
    Site(&'a [CaptureFrom]),
}

impl RegisterReads<'_> {
    /// How many registers are read (with repetitions).
    pub fn count(&self) -> usize {
        match self {
            RegisterReads::Fixed { len, .. } => *len,
            RegisterReads::Range { len, .. } => *len as usize,
            RegisterReads::Site(caps) => caps
                .iter()
                .filter(|c| matches!(c, CaptureFrom::Reg(_)))
                .count(),
        }
    }

    /// Calls `visit(i, register)` for the i-th register read, in order.
    pub fn try_for_each<E>(
        &self,
        mut visit: impl FnMut(usize, u32) -> Result<(), E>,
    ) -> Result<(), E> {
        match self {
            RegisterReads::Fixed { regs, len } => {
                for (i, &r) in regs.iter().take(*len).enumerate() {
                    visit(i, r as u32)?;
                }
            }
            RegisterReads::Range { start, len } => {
                for i in 0..*len {
                    visit(i as usize, start + i)?;
                }
            }
            RegisterReads::Site(caps) => {
                let regs = caps.iter().filter_map(|c| match c {
                    CaptureFrom::Reg(r) => Some(*r as u32),
                    CaptureFrom::Env(_) => None,
                });
                for (i, r) in regs.enumerate() {
                    visit(i, r)?;
                }
            }
        }
        Ok(())
    }
}

/// What an instruction does to the registers of its frame.
#[derive(Clone, Copy, Debug)]
pub struct RegisterEffects<'a> {
    pub reads: RegisterReads<'a>,
    /// The register written, if any.
    pub write: Option<u16>,
    /// Every register at or above this one is clobbered (`call`).
    pub clobber_from: Option<u32>,
}

/// The register effects of `ins` in function `f` of module `m`. Indices that
/// are out of range (in a module that has not been validated) give empty
/// reads rather than a panic.
pub fn register_effects<'a>(m: &'a Module, f: &'a Function, ins: Instr) -> RegisterEffects<'a> {
    let shapes = ins.op.operands();
    let fields = [Field::A, Field::B, Field::C];
    let range = ins.op.range_field();
    let reads = match ins.op {
        Op::Closure => RegisterReads::Site(
            f.closure_sites
                .get(ins.bx() as usize)
                .map(|s| s.captures.as_slice())
                .unwrap_or(&[]),
        ),
        _ => match range {
            Some(field) => RegisterReads::Range {
                start: field_value(ins, field) as u32,
                len: range_len(m, ins).unwrap_or(0),
            },
            None => {
                let mut regs = [0u16; 3];
                let mut len = 0;
                for (shape, field) in shapes.iter().zip(fields) {
                    if *shape == Operand::RegR {
                        regs[len] = field_value(ins, field);
                        len += 1;
                    }
                }
                RegisterReads::Fixed { regs, len }
            }
        },
    };
    let write = shapes
        .iter()
        .zip(fields)
        .find(|(s, _)| **s == Operand::RegW)
        .map(|(_, field)| field_value(ins, field));
    let clobber_from = match ins.op {
        Op::Call => Some(ins.a as u32 + 1),
        Op::CallF => Some(ins.a as u32),
        _ => None,
    };
    RegisterEffects {
        reads,
        write,
        clobber_from,
    }
}

/// The length of the register range a multi-register instruction reads
/// (`None` if it refers to an unknown builtin or struct type).
pub(crate) fn range_len(m: &Module, ins: Instr) -> Option<u32> {
    match ins.op {
        Op::Call | Op::TailCall => Some(ins.b as u32 + 1),
        Op::CallF | Op::TailCallF => m
            .functions
            .get(ins.b as usize)
            .map(|g| g.params.len().min(u32::MAX as usize) as u32),
        Op::CallBuiltin => Builtin::from_code(ins.b).map(|b| b.info().prim_arity as u32),
        Op::MakeList | Op::MakeDict | Op::MakeSet => Some(ins.c as u32),
        Op::MakeStruct => m
            .struct_types
            .get(ins.b as usize)
            .map(|t| t.fields.len().min(u32::MAX as usize) as u32),
        _ => Some(0),
    }
}
