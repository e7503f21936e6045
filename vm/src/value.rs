//! Runtime values. A `Value` is 16 bytes: integers, floats, booleans and
//! none are immediate; everything else is behind an `Rc`. The language has
//! no mutation, so reference counting is the whole memory manager; a
//! structure whose count is 1 may be updated in place (see `builtins`).
//!
//! Lists are a shared double-ended buffer plus a start offset, so
//! `list-rest` is O(1) without copying, and `list-prepend`/`list-append`
//! are amortized O(1) when the list is unshared.

use compact_str::CompactString;
use indexmap::{IndexMap, IndexSet};
use menai_bytecode::Builtin;
use num_bigint::BigInt;
use std::collections::VecDeque;
use std::rc::Rc;

/// A string with its length in codepoints cached (indexing is by codepoint).
/// The text is a `CompactString`: up to 24 bytes are stored inline, so a
/// short string (a word, a number's digits) is one allocation, the `Rc`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Str {
    pub text: CompactString,
    /// Number of codepoints; equals `text.len()` exactly when the text is ASCII.
    pub chars: usize,
}

impl Str {
    pub fn new(text: impl Into<CompactString>) -> Str {
        let text = text.into();
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

/// Dicts and sets hash with FxHash: fast on the small keys programs use
/// (integers, short strings, symbols); insertion order is kept by the
/// index map, whatever the hash.
pub type KeyHasher = std::hash::BuildHasherDefault<rustc_hash::FxHasher>;
pub type DictObj = IndexMap<Key, Value, KeyHasher>;
pub type SetObj = IndexSet<Key, KeyHasher>;

/// A runtime value.
///
/// Layout: `#[repr(u8)]`, so the first byte is the discriminant, numbered
/// in declaration order. The variants that own nothing on the heap come
/// first, so "holds nothing to release" is one compare of that byte
/// ([`Value::is_heap`]); the interpreter's register writes rely on it.
#[derive(Clone, Debug, Default)]
#[repr(u8)]
pub enum Value {
    // ---- immediates (own nothing): discriminants 0 ..= 5 ----
    #[default]
    None,
    Bool(bool),
    Int(i64),
    Float(f64),
    Builtin(Builtin),
    /// A struct type (index into `Module::struct_types`).
    StructType(u32),
    // ---- heap values (an `Rc` each): discriminants 6 .. ----
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
    Struct(Rc<StructObj>),
}

/// The discriminant of the first heap variant (see [`Value`]).
const FIRST_HEAP_TAG: u8 = 6;

impl Value {
    /// The discriminant byte.
    #[inline(always)]
    pub(crate) fn tag(&self) -> u8 {
        // SAFETY: `Value` is `#[repr(u8)]`: its first byte is the
        // discriminant, an initialized `u8` (the primitive representation
        // of enums with fields, Rust reference "Type layout").
        unsafe { *(self as *const Value as *const u8) }
    }

    /// Whether this value owns a heap object (an `Rc`), so dropping or
    /// overwriting it does work. One compare of the discriminant.
    #[inline(always)]
    pub fn is_heap(&self) -> bool {
        self.tag() >= FIRST_HEAP_TAG
    }

    /// Writes `Value::Int(i)` into `slot` as two scalar stores (the
    /// discriminant byte, then the payload), without dropping what was
    /// there. The interpreter writes its immediate results this way: a
    /// value assembled on the stack and copied in as one 16-byte block
    /// stalls the next 16-byte read of it (no store forwarding).
    ///
    /// # Safety
    /// `slot` is valid for writes and what it holds owns nothing
    /// (`!is_heap()`), so overwriting it leaks nothing.
    #[inline(always)]
    pub unsafe fn write_int(slot: *mut Value, i: i64) {
        let p = slot as *mut u8;
        // SAFETY: `#[repr(u8)]` lays `Int(i64)` out as a `repr(C)` struct
        // `{ tag: u8, i64 }`: the tag at offset 0, the `i64` at offset 8
        // (its alignment); together they are a valid `Value::Int(i)`.
        unsafe {
            p.write(TAG_INT);
            (p.add(8) as *mut i64).write(i);
        }
    }

    /// [`Value::write_int`] for `Value::Float(x)` (payload at offset 8).
    ///
    /// # Safety
    /// As for [`Value::write_int`].
    #[inline(always)]
    pub unsafe fn write_float(slot: *mut Value, x: f64) {
        let p = slot as *mut u8;
        // SAFETY: as in `write_int`: `{ tag: u8, f64 }`, payload at 8.
        unsafe {
            p.write(TAG_FLOAT);
            (p.add(8) as *mut f64).write(x);
        }
    }

    /// [`Value::write_int`] for `Value::Bool(b)` (payload at offset 1).
    ///
    /// # Safety
    /// As for [`Value::write_int`].
    #[inline(always)]
    pub unsafe fn write_bool(slot: *mut Value, b: bool) {
        let p = slot as *mut u8;
        // SAFETY: `{ tag: u8, bool }`: the `bool` at offset 1.
        unsafe {
            p.write(TAG_BOOL);
            p.add(1).write(b as u8);
        }
    }
}

/// The discriminants a type predicate accepts, one bit per discriminant
/// (`1 << tag`), for the predicates of LANGUAGE.md §3's types; `None` for
/// other builtins. (`integer?` is small and big integers; `function?`
/// closures and builtins, not struct types.)
pub fn predicate_tags(b: Builtin) -> Option<u16> {
    const fn bit(tag: u8) -> u16 {
        1 << tag
    }
    Some(match b {
        Builtin::NoneP => bit(0),
        Builtin::BooleanP => bit(TAG_BOOL),
        Builtin::IntegerP => bit(TAG_INT) | bit(6),
        Builtin::FloatP => bit(TAG_FLOAT),
        Builtin::ComplexP => bit(7),
        Builtin::StringP => bit(8),
        Builtin::SymbolP => bit(9),
        Builtin::ListP => bit(10),
        Builtin::DictP => bit(11),
        Builtin::SetP => bit(12),
        Builtin::FunctionP => bit(13) | bit(4),
        Builtin::StructP => bit(14),
        _ => return None,
    })
}

/// Discriminants of the immediates written by [`Value::write_int`] and friends.
const TAG_BOOL: u8 = 1;
const TAG_INT: u8 = 2;
const TAG_FLOAT: u8 = 3;

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

// ---------------------------------------------------------------------------
// Iterative dropping (owned by the data engineer).
//
// Dropping a value releases its children; with the compiler's drop glue a
// list nested 100,000 deep would recurse 100,000 times on the native stack.
// `Value` therefore has a `Drop` that, when it holds the last reference to
// a container with container children that are themselves unshared, moves
// those children into a work list and releases them one at a time. A flat
// container (or one whose children are shared) pays one scan and nothing
// else.
//
// Because `Value` implements `Drop`, its non-`Copy` fields cannot be moved
// out by a `match`; use the `into_*` methods below (or match by reference
// and clone the `Rc`).
// ---------------------------------------------------------------------------

impl Drop for Value {
    #[inline]
    fn drop(&mut self) {
        let last_ref_to_container = match self {
            Value::List(_, rc) => Rc::strong_count(rc) == 1,
            Value::Dict(rc) => Rc::strong_count(rc) == 1,
            Value::Set(rc) => Rc::strong_count(rc) == 1,
            Value::Struct(rc) => Rc::strong_count(rc) == 1,
            Value::Closure(_, rc) => Rc::strong_count(rc) == 1,
            _ => false,
        };
        if last_ref_to_container {
            drop_container(self);
        }
    }
}

/// The slow path of `Value::drop`: `v` is the last reference to a container.
#[inline(never)]
fn drop_container(v: &mut Value) {
    if v.has_unshared_container_child() {
        drop_deep(std::mem::take(v));
    }
}

impl Value {
    /// Whether this value is the last reference to a container one of whose
    /// children is itself the last reference to a non-empty container.
    fn has_unshared_container_child(&self) -> bool {
        match self {
            Value::List(_, rc) => {
                Rc::strong_count(rc) == 1 && rc.iter().any(Value::is_unshared_container)
            }
            Value::Dict(rc) => {
                Rc::strong_count(rc) == 1
                    && rc
                        .iter()
                        .any(|(k, v)| k.0.is_unshared_container() || v.is_unshared_container())
            }
            Value::Set(rc) => {
                Rc::strong_count(rc) == 1 && rc.iter().any(|k| k.0.is_unshared_container())
            }
            Value::Struct(rc) => {
                Rc::strong_count(rc) == 1 && rc.fields.iter().any(Value::is_unshared_container)
            }
            Value::Closure(_, rc) => {
                Rc::strong_count(rc) == 1 && rc.values.iter().any(Value::is_unshared_container)
            }
            _ => false,
        }
    }

    /// Whether this value is the last reference to a non-empty container.
    #[inline]
    fn is_unshared_container(&self) -> bool {
        match self {
            Value::List(_, rc) => Rc::strong_count(rc) == 1 && !rc.is_empty(),
            Value::Dict(rc) => Rc::strong_count(rc) == 1 && !rc.is_empty(),
            Value::Set(rc) => Rc::strong_count(rc) == 1 && !rc.is_empty(),
            Value::Struct(rc) => Rc::strong_count(rc) == 1 && !rc.fields.is_empty(),
            Value::Closure(_, rc) => Rc::strong_count(rc) == 1 && !rc.values.is_empty(),
            _ => false,
        }
    }
}

/// Releases `root` and everything only it holds, without native recursion:
/// each unshared container is emptied before it is freed; a child that
/// itself holds no unshared container is dropped on the spot (its drop is
/// shallow), and only the others wait on the work list, which therefore
/// stays empty (no allocation) for the common two-level values: a struct
/// holding a list of numbers, a list of strings.
#[cold]
fn drop_deep(root: Value) {
    let mut work: Vec<Value> = Vec::new();
    let mut next = Some(root);
    while let Some(mut v) = next.take().or_else(|| work.pop()) {
        let mut child = |c: Value| {
            if c.has_unshared_container_child() {
                work.push(c);
            }
        };
        match &mut v {
            Value::List(_, rc) => {
                if let Some(buf) = Rc::get_mut(rc) {
                    buf.drain(..).for_each(&mut child);
                }
            }
            Value::Dict(rc) => {
                if let Some(map) = Rc::get_mut(rc) {
                    for (k, x) in map.drain(..) {
                        child(k.0);
                        child(x);
                    }
                }
            }
            Value::Set(rc) => {
                if let Some(set) = Rc::get_mut(rc) {
                    set.drain(..).for_each(|k| child(k.0));
                }
            }
            Value::Struct(rc) => {
                if let Some(obj) = Rc::get_mut(rc) {
                    obj.fields
                        .iter_mut()
                        .map(std::mem::take)
                        .for_each(&mut child);
                }
            }
            Value::Closure(_, rc) => {
                if let Some(env) = Rc::get_mut(rc) {
                    env.values
                        .iter_mut()
                        .map(std::mem::take)
                        .for_each(&mut child);
                }
            }
            _ => {}
        }
        // `v` is now empty (or shared, or a leaf): dropping it is shallow.
    }
}

/// Moving the `Rc` payloads out of a `Value` (which implements `Drop`).
impl Value {
    /// `List(start, buf)` as its parts, or the value back.
    pub fn into_list(self) -> Result<(u32, Rc<ListBuf>), Value> {
        match &self {
            Value::List(start, rc) => {
                let start = *start;
                // SAFETY: `rc` is read out exactly once and `self` is then
                // forgotten, so the `Rc` is neither dropped twice nor leaked.
                let rc = unsafe { std::ptr::read(rc) };
                std::mem::forget(self);
                Ok((start, rc))
            }
            _ => Err(self),
        }
    }

    /// `Dict(map)`'s map, or the value back.
    pub fn into_dict(self) -> Result<Rc<DictObj>, Value> {
        match &self {
            Value::Dict(rc) => {
                // SAFETY: as in `into_list`.
                let rc = unsafe { std::ptr::read(rc) };
                std::mem::forget(self);
                Ok(rc)
            }
            _ => Err(self),
        }
    }

    /// `Set(set)`'s set, or the value back.
    pub fn into_set(self) -> Result<Rc<SetObj>, Value> {
        match &self {
            Value::Set(rc) => {
                // SAFETY: as in `into_list`.
                let rc = unsafe { std::ptr::read(rc) };
                std::mem::forget(self);
                Ok(rc)
            }
            _ => Err(self),
        }
    }

    /// `Struct(obj)`'s object, or the value back.
    pub fn into_struct(self) -> Result<Rc<StructObj>, Value> {
        match &self {
            Value::Struct(rc) => {
                // SAFETY: as in `into_list`.
                let rc = unsafe { std::ptr::read(rc) };
                std::mem::forget(self);
                Ok(rc)
            }
            _ => Err(self),
        }
    }

    /// `Str(s)`'s string, or the value back.
    pub fn into_str(self) -> Result<Rc<Str>, Value> {
        match &self {
            Value::Str(rc) => {
                // SAFETY: as in `into_list`.
                let rc = unsafe { std::ptr::read(rc) };
                std::mem::forget(self);
                Ok(rc)
            }
            _ => Err(self),
        }
    }

    /// `BigInt(n)`'s number, or the value back.
    pub fn into_bigint(self) -> Result<Rc<BigInt>, Value> {
        match &self {
            Value::BigInt(rc) => {
                // SAFETY: as in `into_list`.
                let rc = unsafe { std::ptr::read(rc) };
                std::mem::forget(self);
                Ok(rc)
            }
            _ => Err(self),
        }
    }

    /// `Closure(index, env)` as its parts, or the value back.
    pub fn into_closure(self) -> Result<(u32, Rc<Env>), Value> {
        match &self {
            Value::Closure(f, rc) => {
                let f = *f;
                // SAFETY: as in `into_list`.
                let rc = unsafe { std::ptr::read(rc) };
                std::mem::forget(self);
                Ok((f, rc))
            }
            _ => Err(self),
        }
    }
}

#[cfg(test)]
mod layout_tests {
    use super::*;

    /// The one-compare heap test agrees with the variants.
    #[test]
    fn heap_tag_splits_immediates_from_heap_values() {
        let immediates = [
            Value::None,
            Value::Bool(true),
            Value::Int(-1),
            Value::Float(f64::NAN),
            Value::Builtin(Builtin::ListFirst),
            Value::StructType(u32::MAX),
        ];
        for v in &immediates {
            assert!(!v.is_heap(), "{v:?}");
        }
        let heap = [
            Value::BigInt(Rc::new(BigInt::from(1) << 70)),
            Value::Complex(Rc::new(Complex { re: 0.0, im: 1.0 })),
            Value::str("s"),
            Value::Symbol(Rc::new(Str::new("s"))),
            Value::empty_list(),
            Value::Dict(Rc::new(DictObj::default())),
            Value::Set(Rc::new(SetObj::default())),
            Value::Closure(0, Rc::new(Env::default())),
            Value::Struct(Rc::new(StructObj {
                ty: 0,
                fields: Box::new([]),
            })),
        ];
        for v in &heap {
            assert!(v.is_heap(), "{v:?}");
        }
    }

    /// Each predicate's tag set accepts exactly the values its builtin
    /// accepts (the tag numbers follow the declaration order).
    #[test]
    fn predicate_tags_agree_with_the_builtins() {
        use crate::builtins::{call_builtin, Args, Ctx};
        let module = menai_bytecode::Module {
            files: vec![],
            file_hashes: vec![],
            struct_types: vec![],
            functions: vec![],
            entry: 0,
        };
        let ctx = Ctx { module: &module };
        let samples = [
            Value::None,
            Value::Bool(false),
            Value::Int(3),
            Value::Float(1.5),
            Value::Builtin(Builtin::ListFirst),
            Value::StructType(0),
            Value::BigInt(Rc::new(BigInt::from(1) << 80)),
            Value::Complex(Rc::new(Complex { re: 1.0, im: 2.0 })),
            Value::str("s"),
            Value::Symbol(Rc::new(Str::new("s"))),
            Value::empty_list(),
            Value::Dict(Rc::new(DictObj::default())),
            Value::Set(Rc::new(SetObj::default())),
            Value::Closure(0, Rc::new(Env::default())),
            Value::Struct(Rc::new(StructObj {
                ty: 0,
                fields: Box::new([]),
            })),
        ];
        let mut tested = 0;
        for info in menai_bytecode::BUILTINS {
            let Some(mask) = predicate_tags(info.id) else {
                continue;
            };
            tested += 1;
            for v in &samples {
                let mut arg = [v.clone()];
                let want = call_builtin(&ctx, info.id, &mut Args::borrowed(&mut arg));
                let got = mask & (1 << v.tag()) != 0;
                assert!(
                    matches!(want, Ok(Value::Bool(b)) if b == got),
                    "{} of {v:?}",
                    info.name
                );
            }
        }
        assert_eq!(tested, 12);
    }

    /// The scalar writes make exactly the values they name.
    #[test]
    fn scalar_writes_make_the_values() {
        let mut v = Value::None;
        // SAFETY: `v` is a local holding an immediate.
        unsafe { Value::write_int(&mut v, -42) };
        assert!(matches!(v, Value::Int(-42)));
        unsafe { Value::write_float(&mut v, -0.5) };
        assert!(matches!(v, Value::Float(x) if x == -0.5));
        unsafe { Value::write_bool(&mut v, true) };
        assert!(matches!(v, Value::Bool(true)));
        unsafe { Value::write_bool(&mut v, false) };
        assert!(matches!(v, Value::Bool(false)));
        unsafe { Value::write_int(&mut v, i64::MIN) };
        assert!(matches!(v, Value::Int(i64::MIN)));
    }
}
