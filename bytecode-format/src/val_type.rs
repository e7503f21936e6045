//! The value types the bytecode's typed opcodes check and the validator
//! proves (integer, float, boolean, list): a leaf module, read by the
//! opcode table (operand and result types), the validator's type proof,
//! the optimizer's instruction selection and the VM.

use crate::builtin_types::Type;

/// A statically proven value type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ValType {
    Int,
    Float,
    Bool,
    List,
}

impl ValType {
    /// The tracked type that a §3 type is, if any.
    pub fn of(t: Type) -> Option<ValType> {
        match t {
            Type::Integer => Some(ValType::Int),
            Type::Float => Some(ValType::Float),
            Type::Boolean => Some(ValType::Bool),
            Type::List => Some(ValType::List),
            _ => None,
        }
    }

    /// The §3 type name.
    pub fn name(self) -> &'static str {
        self.ty().name()
    }

    /// The §3 type this is.
    pub fn ty(self) -> Type {
        match self {
            ValType::Int => Type::Integer,
            ValType::Float => Type::Float,
            ValType::Bool => Type::Boolean,
            ValType::List => Type::List,
        }
    }
}
