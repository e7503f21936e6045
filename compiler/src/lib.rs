//! The Menai frontend: source text to IR.
//!
//! reader (`read`) → S-expressions (`sexp`) → analysis, checks and
//! desugaring (`analyze`) → IR (`ir`), serialized as `.mir`.

pub mod ast_print;
pub mod diagnostic;
pub mod ir;
pub mod read;
pub mod render;
pub mod sexp;
