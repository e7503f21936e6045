//! Printing values exactly as LANGUAGE.md §9 (stub; to be written).

use crate::value::Value;
use menai_bytecode::Module;

/// The printed form of a value (the program's result format).
pub fn print_value(v: &Value, _module: &Module) -> String {
    format!("{v:?}")
}
