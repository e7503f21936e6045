//! Runtime values. A `Value` is 16 bytes: integers, floats, booleans and
//! none are immediate; everything else is behind an `Rc`. The language has
//! no mutation, so reference counting is the whole memory manager; a
//! structure whose count is 1 may be updated in place (see `builtins`).
//!
//! Lists are a shared double-ended buffer plus a start offset, so
//! `list-rest` is O(1) without copying, and `list-prepend`/`list-append`
//! are amortized O(1) when the list is unshared.

use indexmap::{IndexMap, IndexSet};
use menai_bytecode::Builtin;
use num_bigint::BigInt;
use std::collections::VecDeque;
use std::rc::Rc;

/// A string with its length in codepoints cached (indexing is by codepoint).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Str {
    pub text: String,
    /// Number of codepoints; equals `text.len()` exactly when the text is ASCII.
    pub chars: usize,
}

impl Str {
    pub fn new(text: String) -> Str {
        let chars = text.chars().count();
        Str { text, chars }
    }
}

/// A complex number (both parts floats).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Complex {
    pub re: f64,
    pub im: f64,
}

/// The buffer behind a list value; a list is `buf[start..]`.
pub type ListBuf = VecDeque<Value>;

/// A closure's environment: the captured values, in the layout the
/// function's `GetCap` indices expect. One environment is shared by every
/// member of a recursive group, so no closure is stored inside its own
/// environment and reference counting never sees a cycle.
#[derive(Debug, Default)]
pub struct Env {
    pub values: Box<[Value]>,
}

/// A struct instance.
#[derive(Clone, Debug)]
pub struct StructObj {
    /// Index into `Module::struct_types`.
    pub ty: u32,
    pub fields: Box<[Value]>,
}

/// A dict or set key: a value that is hashable (string, integer, float,
/// complex, boolean, symbol, or a struct of hashable fields). Equality is
/// structural and type-sensitive (`1`, `1.0` and `#t` are distinct keys).
#[derive(Clone, Debug)]
pub struct Key(pub Value);

pub type DictObj = IndexMap<Key, Value>;
pub type SetObj = IndexSet<Key>;

#[derive(Clone, Debug, Default)]
pub enum Value {
    #[default]
    None,
    Bool(bool),
    Int(i64),
    Float(f64),
    /// Always outside the `i64` range (results are normalized).
    BigInt(Rc<BigInt>),
    Complex(Rc<Complex>),
    Str(Rc<Str>),
    /// A symbol, by name.
    Symbol(Rc<Str>),
    /// `List(start, buf)`: the elements `buf[start..]`.
    List(u32, Rc<ListBuf>),
    Dict(Rc<DictObj>),
    Set(Rc<SetObj>),
    /// `Closure(function index, environment)`.
    Closure(u32, Rc<Env>),
    Builtin(Builtin),
    /// A struct type (index into `Module::struct_types`).
    StructType(u32),
    Struct(Rc<StructObj>),
}

const _: () = assert!(std::mem::size_of::<Value>() <= 16);

impl Value {
    /// The type name used in error messages and by LANGUAGE.md §3.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::None => "none",
            Value::Bool(_) => "boolean",
            Value::Int(_) | Value::BigInt(_) => "integer",
            Value::Float(_) => "float",
            Value::Complex(_) => "complex",
            Value::Str(_) => "string",
            Value::Symbol(_) => "symbol",
            Value::List(..) => "list",
            Value::Dict(_) => "dict",
            Value::Set(_) => "set",
            Value::Closure(..) | Value::Builtin(_) => "function",
            Value::StructType(_) => "struct-type",
            Value::Struct(_) => "struct",
        }
    }

    pub fn str(text: impl Into<String>) -> Value {
        Value::Str(Rc::new(Str::new(text.into())))
    }

    pub fn empty_list() -> Value {
        Value::List(0, Rc::new(VecDeque::new()))
    }

    pub fn list_from(items: ListBuf) -> Value {
        Value::List(0, Rc::new(items))
    }
}
