//! Slow paths of the interpreter, kept out of the dispatch loop: constant
//! conversion, big-integer fallbacks of the typed integer opcodes, and the
//! construction of runtime error messages (each names its operation, as
//! LANGUAGE.md §10 requires).

use crate::builtins::{call_builtin, Args, Ctx};
use crate::error::{RtError, RtResult};
use crate::value::{ListBuf, Str, Value};
use menai_bytecode::{Builtin, CondOrigin, Constant, Module};
use num_bigint::BigInt;
use num_traits::ToPrimitive;
use std::rc::Rc;

/// The runtime value of a constant-pool entry.
pub fn constant_value(k: &Constant) -> RtResult<Value> {
    Ok(match k {
        Constant::None => Value::None,
        Constant::Bool(b) => Value::Bool(*b),
        Constant::Int(i) => Value::Int(*i),
        Constant::BigInt(digits) => {
            let big: BigInt = crate::decimal::parse_decimal(digits)
                .ok_or_else(|| RtError::new(format!("invalid integer constant {digits:?}")))?;
            normalize(big)
        }
        Constant::Float(x) => Value::Float(*x),
        Constant::Complex(re, im) => {
            Value::Complex(Rc::new(crate::value::Complex { re: *re, im: *im }))
        }
        Constant::Str(s) => Value::Str(Rc::new(Str::new(s.clone()))),
        Constant::Symbol(s) => Value::Symbol(Rc::new(Str::new(s.clone()))),
        Constant::EmptyList => Value::empty_list(),
        Constant::List(items) => {
            let mut buf = ListBuf::with_capacity(items.len());
            for item in items {
                buf.push_back(constant_value(item)?);
            }
            Value::list_from(buf)
        }
        Constant::StructType(t) => Value::StructType(*t),
    })
}

/// A big integer as a value: `Int` when it fits in `i64`.
pub fn normalize(big: BigInt) -> Value {
    match big.to_i64() {
        Some(i) => Value::Int(i),
        None => Value::BigInt(Rc::new(big)),
    }
}

fn to_big(v: &Value) -> Option<BigInt> {
    match v {
        Value::Int(i) => Some(BigInt::from(*i)),
        Value::BigInt(b) => Some((**b).clone()),
        _ => None,
    }
}

/// The slow path of a typed integer opcode: operands that are not both
/// small integers, or a result that overflowed `i64`.
#[cold]
#[inline(never)]
pub fn int_slow(ctx: &Ctx, id: Builtin, a: &Value, b: &Value) -> RtResult<Value> {
    let name = id.name();
    let (x, y) = match (to_big(a), to_big(b)) {
        (Some(x), Some(y)) => (x, y),
        (None, _) => return Err(type_error(name, "integer", a)),
        (_, None) => return Err(type_error(name, "integer", b)),
    };
    Ok(match id {
        Builtin::IntegerAdd => normalize(x + y),
        Builtin::IntegerSub => normalize(x - y),
        Builtin::IntegerMul => return crate::builtins::integer::mul(name, a, b),
        Builtin::IntegerLt => Value::Bool(x < y),
        Builtin::IntegerLe => Value::Bool(x <= y),
        Builtin::IntegerGt => Value::Bool(x > y),
        Builtin::IntegerGe => Value::Bool(x >= y),
        Builtin::IntegerEq => Value::Bool(x == y),
        Builtin::IntegerNe => Value::Bool(x != y),
        other => {
            let mut pair = [a.clone(), b.clone()];
            return call_builtin(ctx, other, &mut Args::owned(&mut pair));
        }
    })
}

/// `OP: expected TYPE, got ACTUAL`.
#[cold]
pub fn type_error(op: &str, expected: &str, got: &Value) -> RtError {
    RtError::new(format!(
        "{op}: expected {expected}, got {}",
        got.type_name()
    ))
}

/// A typed float opcode whose operands are not both floats.
#[cold]
pub fn float_type_error(op: &str, a: &Value, b: &Value) -> RtError {
    let bad = if matches!(a, Value::Float(_)) { b } else { a };
    type_error(op, "float", bad)
}

/// `float/` failing: a non-float operand or a zero divisor.
#[cold]
pub fn float_div_error(a: &Value, b: &Value) -> RtError {
    match (a, b) {
        (Value::Float(_), Value::Float(_)) => RtError::new("float/: division by zero"),
        _ => float_type_error("float/", a, b),
    }
}

/// `list-first` / `list-rest` on an empty list or a non-list.
#[cold]
pub fn list_error(op: &str, v: &Value) -> RtError {
    match v {
        Value::List(..) => RtError::new(format!("{op}: empty list")),
        other => type_error(op, "list", other),
    }
}

/// A conditional jump (at `pc` of function `fi`) on a non-boolean: the
/// message names the form the test comes from (`if`, `and`, `or`, `match`).
#[cold]
pub fn condition_error(module: &Module, fi: u32, pc: usize, v: &Value) -> RtError {
    let origin = module
        .functions
        .get(fi as usize)
        .map_or(CondOrigin::If, |f| f.cond_origin(pc));
    RtError::new(origin.error(v.type_name()))
}

/// A wrong argument count: `call: expected 2 arguments, got 3`.
#[cold]
pub fn arity_error(min: usize, max: Option<usize>, got: usize) -> RtError {
    let plural = |n: usize| if n == 1 { "argument" } else { "arguments" };
    let expected = match max {
        Some(m) if m == min => format!("{min} {}", plural(min)),
        Some(m) => format!("{min} to {m} arguments"),
        None => format!("at least {min} {}", plural(min)),
    };
    RtError::new(format!("call: expected {expected}, got {got}"))
}

/// A builtin loaded as a value.
pub fn builtin_value(code: u16) -> RtResult<Value> {
    Builtin::from_code(code)
        .map(Value::Builtin)
        .ok_or_else(|| RtError::new(format!("invalid builtin code {code}")))
}

/// An environment slot out of range (impossible after validation).
#[cold]
pub fn bad_capture() -> RtError {
    RtError::new("invalid capture index")
}

/// `(error msg)`.
#[cold]
pub fn raise(v: &Value) -> RtError {
    match v {
        Value::Str(s) => RtError::new(s.text.clone()),
        other => type_error("error", "string", other),
    }
}

/// A reference to a name bound nowhere.
#[cold]
pub fn raise_unbound(k: Option<&Value>) -> RtError {
    match k {
        Some(Value::Str(s)) | Some(Value::Symbol(s)) => {
            RtError::new(format!("unbound name '{}'", s.text))
        }
        _ => RtError::new("unbound name"),
    }
}

/// A `match` whose clauses all failed.
#[cold]
pub fn raise_no_match(v: &Value, module: &Module) -> RtError {
    RtError::new(format!(
        "match: no clause matched {}",
        crate::print::print_value(v, module)
    ))
}

/// The run holds (or `op` would build) more than its memory limit allows.
#[cold]
pub fn memory_error(op: Option<&str>) -> RtError {
    let what = op.map(|o| format!("{o}: ")).unwrap_or_default();
    RtError::new(format!(
        "{what}memory limit exceeded (--max-memory sets the limit)"
    ))
}
