//! Loading a `.bc` file: decode the envelope and contents, then validate.
//! Nothing reaches the interpreter unless it passed validation, so the
//! interpreter may rely on the validator's invariants (operand indices in
//! range, jump targets in bounds, registers written before read, ...).

use menai_bytecode::validate::ValidModule;
use menai_bytecode::Module;
use std::fmt;

/// Why a file was rejected.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LoadError {
    /// The envelope or its contents could not be decoded.
    Decode(String),
    /// The module decoded but failed validation.
    Invalid(String),
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LoadError::Decode(e) | LoadError::Invalid(e) => f.write_str(e),
        }
    }
}

impl std::error::Error for LoadError {}

/// Decodes and validates a `.bc` file.
pub fn load(bytes: &[u8]) -> Result<ValidModule, LoadError> {
    let module =
        menai_bytecode::decode_module(bytes).map_err(|e| LoadError::Decode(e.to_string()))?;
    check(module)
}

/// Validates an already decoded module (e.g. one the driver built in memory).
pub fn check(module: Module) -> Result<ValidModule, LoadError> {
    ValidModule::new(module).map_err(|e| LoadError::Invalid(e.to_string()))
}

/// The disassembly listing of a module.
pub fn disassemble(module: &Module) -> String {
    menai_bytecode::disasm::disassemble(module)
}
