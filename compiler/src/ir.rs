//! The IR: the contract between `menaic` and `menai-opt`, stored in `.mir`
//! files.
//!
//! A desugared, alpha-renamed tree in A-normal form:
//! - every binder (`VarId`) is bound exactly once in the whole program;
//! - operands of calls, primitives, `if` conditions and so on are atoms
//!   (variables, constants, builtin references), so evaluation order is the
//!   order of the enclosing `Let`s;
//! - every lambda lists its free variables;
//! - every expression carries the span of the source it came from.
//!
//! Any change to these types bumps `MIR_KIND.version`.

use menai_bytecode::{Builtin, CondOrigin};
use serde::{Deserialize, Serialize};

/// A byte range in a source file of the program (`file` indexes `Program::files`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Span {
    pub file: u32,
    pub start: u32,
    pub end: u32,
}

/// A unique binder; indexes `Program::vars`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct VarId(pub u32);

/// A source file of the program (the main file and every imported module).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceFile {
    pub path: String,
    pub text: String,
}

/// What is known about a binder.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VarInfo {
    /// The source name (before renaming); generated temporaries start with `%`.
    pub name: String,
    pub span: Span,
}

/// A struct type declared somewhere in the program.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StructDecl {
    pub name: String,
    pub fields: Vec<String>,
    pub span: Span,
}

/// A whole program: the top-level expression plus its tables.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Program {
    pub files: Vec<SourceFile>,
    pub vars: Vec<VarInfo>,
    pub structs: Vec<StructDecl>,
    pub body: Expr,
}

/// A compile-time constant.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Const {
    None,
    Bool(bool),
    Int(i64),
    /// An integer outside the `i64` range, in decimal.
    BigInt(String),
    Float(f64),
    Complex(f64, f64),
    Str(String),
    Symbol(String),
    EmptyList,
    /// A quoted list.
    List(Vec<Const>),
    /// A struct type (index into `Program::structs`).
    StructType(u32),
}

/// An operand: evaluating it cannot fail and has no effect.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Atom {
    Var(VarId),
    Const(Const),
    /// A builtin used as a value. `Prelude` builtins never appear here: the
    /// frontend binds them to prelude lambdas.
    Builtin(Builtin),
}

/// A lambda: parameters, an optional rest parameter, its free variables
/// (in a fixed order: this is the closure's environment layout) and body.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Lambda {
    /// A readable name: the binding it is bound to, else `lambda`.
    pub name: String,
    pub params: Vec<VarId>,
    pub rest: Option<VarId>,
    pub free: Vec<VarId>,
    pub body: Box<Expr>,
    pub span: Span,
}

/// Why a `Raise` raises.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum RaiseKind {
    /// `(error msg)`: the atom must evaluate to a string.
    Error(Atom),
    /// An unbound name was evaluated.
    Unbound(String),
    /// No `match` clause matched the atom's value.
    NoMatch(Atom),
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum ExprKind {
    Atom(Atom),
    /// `let var = value in body`; `value` is not itself a `Let`/`Letrec`.
    Let {
        var: VarId,
        value: Box<Expr>,
        body: Box<Expr>,
    },
    /// Mutually recursive lambdas (one strongly connected group).
    Letrec {
        bindings: Vec<(VarId, Lambda)>,
        body: Box<Expr>,
    },
    Lambda(Lambda),
    /// `cond` must be a boolean at run time (else a runtime error naming
    /// `origin`: the form the test comes from).
    If {
        cond: Atom,
        then_branch: Box<Expr>,
        else_branch: Box<Expr>,
        origin: CondOrigin,
    },
    /// Call of a function value (closure, builtin value, struct type…).
    Call {
        func: Atom,
        args: Vec<Atom>,
    },
    /// `(apply func list)`.
    Apply {
        func: Atom,
        list: Atom,
    },
    /// A primitive operation: a `Native` builtin with exactly its primitive
    /// arity, or `List`/`Dict`/`Set` with any count (`Dict`: even).
    Prim {
        op: Builtin,
        args: Vec<Atom>,
    },
    /// Construct an instance of struct type `ty` (args = one per field).
    MakeStruct {
        ty: u32,
        args: Vec<Atom>,
    },
    Raise(RaiseKind),
}

impl Expr {
    pub fn new(kind: ExprKind, span: Span) -> Expr {
        Expr { kind, span }
    }
}

/// The `.mir` file kind.
pub const MIR_KIND: menai_bytecode::envelope::Kind = menai_bytecode::envelope::Kind {
    name: "MIR",
    magic: menai_bytecode::envelope::MIR_MAGIC,
    version: 2,
};

/// Encodes a program as a `.mir` file.
pub fn encode_program(p: &Program) -> Result<Vec<u8>, menai_bytecode::envelope::EnvelopeError> {
    menai_bytecode::envelope::encode(MIR_KIND, menai_bytecode::PRODUCER, p)
}

/// Decodes a `.mir` file.
pub fn decode_program(bytes: &[u8]) -> Result<Program, menai_bytecode::envelope::EnvelopeError> {
    menai_bytecode::envelope::decode(MIR_KIND, bytes)
}
