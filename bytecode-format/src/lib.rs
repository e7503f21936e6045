//! The Menai bytecode: the contract between the optimizer (which writes
//! `.bc` files) and the VM (which loads, validates and runs them).
//!
//! - [`opcodes`]: the one opcode table and the instruction word.
//! - [`builtins`]: the one builtin table (also used by the frontend).
//! - [`module`]: functions, constants, closure sites, line tables.
//! - [`envelope`]: the file envelope shared with `.mir` files.
//! - [`val_type`]: the value types typed opcodes check (a leaf).
//! - [`effects`]: the registers each instruction reads, writes, clobbers.
//! - [`validate`]: the checks every file passes before it runs.
//! - [`disasm`]: the `luac -l`-style listing.
//! - [`json`]: a JSON rendering of a module for tools.

pub mod builtin_types;
pub mod builtins;
pub mod disasm;
pub mod effects;
pub mod envelope;
pub mod json;
pub mod module;
pub mod opcodes;
pub mod val_type;
pub mod validate;

pub use builtins::{Builtin, BuiltinInfo, BUILTINS};
pub use module::{
    CaptureFrom, ClosureSite, CondOrigin, CondTest, Constant, Function, Module, SrcLoc,
    StructTypeDef,
};
pub use opcodes::{Instr, Op, Operand};

/// The `.bc` file kind. Bump `version` on any change to `module` or `opcodes`.
pub const BC_KIND: envelope::Kind = envelope::Kind {
    name: "bytecode",
    magic: *b"MENAIBC\0",
    version: 8,
};

/// The producer string written into files by this build.
pub const PRODUCER: &str = concat!("menai ", env!("CARGO_PKG_VERSION"));

/// Encodes a module as a `.bc` file.
pub fn encode_module(module: &Module) -> Result<Vec<u8>, envelope::EnvelopeError> {
    envelope::encode(BC_KIND, PRODUCER, module)
}

/// Decodes a `.bc` file (envelope and contents; not yet validated).
pub fn decode_module(bytes: &[u8]) -> Result<Module, envelope::EnvelopeError> {
    envelope::decode(BC_KIND, bytes)
}
