//! The Menai virtual machine: loads and validates `.bc` modules and runs them.

pub mod alloc;
pub mod builtins;
pub mod equality;
pub mod error;
pub mod interp;
mod interp_ops;
pub mod loader;
pub mod numfmt;
pub mod print;
pub mod render;
pub mod value;

pub use error::RtError;
pub use interp::{RunOptions, Stats};
pub use loader::{load, LoadError};
pub use render::render_error;

pub use menai_bytecode::validate::ValidModule;
use value::Value;

/// Runs a validated module (see [`load`]) and returns its result value.
pub fn run(module: &ValidModule, opts: &RunOptions) -> Result<(Value, Stats), RtError> {
    interp::run(module, opts)
}

/// Runs a validated module and returns its result printed as LANGUAGE.md §9 says.
pub fn run_to_string(module: &ValidModule, opts: &RunOptions) -> Result<(String, Stats), RtError> {
    let (v, stats) = interp::run(module, opts)?;
    Ok((print::print_value(&v, module), stats))
}
