//! The Menai virtual machine: loads and validates `.bc` modules and runs them.

pub mod builtins;
pub mod equality;
pub mod error;
pub mod numfmt;
pub mod print;
pub mod value;
