//! The reader's output: S-expressions with byte-offset spans. This is the
//! syntax tree that `menaic --emit ast` prints; special forms are
//! recognized from it by the analyzer (`analyze`).

use crate::ir::Span;
use num_bigint::BigInt;

#[derive(Clone, Debug, PartialEq)]
pub struct Sexp {
    pub kind: SexpKind,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum SexpKind {
    Int(BigInt),
    Float(f64),
    Complex(f64, f64),
    Str(String),
    Bool(bool),
    None,
    /// Any symbol, including `.` (dotted lists are recognized later).
    Symbol(String),
    /// `( ... )`. `'x` reads as `(quote x)`, the `quote` symbol spanning the `'`.
    List(Vec<Sexp>),
}
