//! Native builtins of the misc family (codes 0-19): functions (identity
//! and arity reflection), symbols, none and booleans. Also the small
//! argument-checking helpers shared by the data families (strings, lists,
//! dicts, sets, structs).

use super::{Args, Ctx};
use crate::error::{RtError, RtResult};
use crate::value::{Str, Value};
use menai_bytecode::Builtin;
use num_bigint::BigInt;
use num_traits::ToPrimitive;
use std::rc::Rc;

pub fn call(ctx: &Ctx, id: Builtin, args: &mut Args) -> RtResult<Value> {
    let op = id.name();
    let v = match id {
        Builtin::FunctionP => Value::Bool(is_function(args.get(0))),
        Builtin::FunctionEq | Builtin::FunctionNe => {
            let a = args.get(0);
            let b = args.get(1);
            expect_function(a, op)?;
            expect_function(b, op)?;
            let same = match (a, b) {
                (Value::Closure(f, e), Value::Closure(g, h)) => f == g && Rc::ptr_eq(e, h),
                (Value::Builtin(x), Value::Builtin(y)) => x == y,
                _ => false,
            };
            Value::Bool(same == (id == Builtin::FunctionEq))
        }
        Builtin::FunctionMinArity => {
            let (min, _) = arity(ctx, args.get(0), op)?;
            Value::Int(min as i64)
        }
        Builtin::FunctionVariadicP => {
            let (_, variadic) = arity(ctx, args.get(0), op)?;
            Value::Bool(variadic)
        }
        Builtin::FunctionAcceptsP => {
            let (min, variadic) = arity(ctx, args.get(0), op)?;
            let ok = match args.get(1) {
                Value::Int(n) => {
                    *n >= 0 && (*n as u64 == min as u64 || (variadic && *n as u64 >= min as u64))
                }
                // Far outside any arity: only a variadic function accepts it.
                Value::BigInt(n) => variadic && n.sign() == num_bigint::Sign::Plus,
                other => return Err(type_error(op, "integer", other)),
            };
            Value::Bool(ok)
        }
        Builtin::SymbolP => Value::Bool(matches!(args.get(0), Value::Symbol(_))),
        Builtin::SymbolEq | Builtin::SymbolNe => {
            let a = expect_symbol(args.get(0), op)?;
            let b = expect_symbol(args.get(1), op)?;
            Value::Bool((a.text == b.text) == (id == Builtin::SymbolEq))
        }
        Builtin::SymbolToString => {
            let s = expect_symbol(args.get(0), op)?;
            Value::Str(Rc::new(s.clone()))
        }
        Builtin::NoneP => Value::Bool(matches!(args.get(0), Value::None)),
        Builtin::BooleanP => Value::Bool(matches!(args.get(0), Value::Bool(_))),
        Builtin::BooleanEq | Builtin::BooleanNe => {
            let all = args.all();
            let mut eq = true;
            for i in 0..all.len().saturating_sub(1) {
                let a = expect_bool(&all[i], op)?;
                let b = expect_bool(&all[i + 1], op)?;
                if a != b {
                    eq = false;
                    break;
                }
            }
            Value::Bool(eq == (id == Builtin::BooleanEq))
        }
        Builtin::BooleanNot => Value::Bool(!expect_bool(args.get(0), op)?),
        _ => return Err(RtError::new(format!("{op}: not a misc builtin"))),
    };
    Ok(v)
}

/// Whether `v` is a function (a closure or a builtin; struct types are not).
pub(super) fn is_function(v: &Value) -> bool {
    matches!(v, Value::Closure(..) | Value::Builtin(_))
}

fn expect_function(v: &Value, op: &str) -> RtResult<()> {
    if is_function(v) {
        Ok(())
    } else {
        Err(type_error(op, "function", v))
    }
}

/// Reflected (minimum arity, variadic) of a function value (LANGUAGE.md §6).
fn arity(ctx: &Ctx, f: &Value, op: &str) -> RtResult<(usize, bool)> {
    match f {
        Value::Builtin(b) => {
            let info = b.info();
            Ok((info.reflected_min_arity(), info.reflected_variadic()))
        }
        Value::Closure(i, _) => match ctx.module.functions.get(*i as usize) {
            Some(func) => Ok((func.params.len(), func.rest.is_some())),
            None => Err(RtError::new(format!("{op}: invalid function index {i}"))),
        },
        other => Err(type_error(op, "function", other)),
    }
}

// ---- helpers shared by the data families ----

/// `<op>: expected <what>, got <type>`.
pub(super) fn type_error(op: &str, what: &str, got: &Value) -> RtError {
    RtError::new(format!("{op}: expected {what}, got {}", got.type_name()))
}

pub(super) fn expect_bool(v: &Value, op: &str) -> RtResult<bool> {
    match v {
        Value::Bool(b) => Ok(*b),
        other => Err(type_error(op, "boolean", other)),
    }
}

pub(super) fn expect_symbol<'a>(v: &'a Value, op: &str) -> RtResult<&'a Str> {
    match v {
        Value::Symbol(s) => Ok(s),
        other => Err(type_error(op, "symbol", other)),
    }
}

pub(super) fn expect_str<'a>(v: &'a Value, op: &str) -> RtResult<&'a Str> {
    match v {
        Value::Str(s) => Ok(s),
        other => Err(type_error(op, "string", other)),
    }
}

/// An integer argument as `i64`; `None` for a big integer (out of any range).
pub(super) fn expect_int(v: &Value, op: &str) -> RtResult<Option<i64>> {
    match v {
        Value::Int(i) => Ok(Some(*i)),
        Value::BigInt(_) => Ok(None),
        other => Err(type_error(op, "integer", other)),
    }
}

/// An integer argument as a `BigInt`.
pub(super) fn expect_bigint(v: &Value, op: &str) -> RtResult<BigInt> {
    match v {
        Value::Int(i) => Ok(BigInt::from(*i)),
        Value::BigInt(n) => Ok((**n).clone()),
        other => Err(type_error(op, "integer", other)),
    }
}

/// A normalized integer value: `Int` when it fits in `i64`.
pub(super) fn int_value(n: BigInt) -> Value {
    match n.to_i64() {
        Some(i) => Value::Int(i),
        None => Value::BigInt(Rc::new(n)),
    }
}

/// An index argument checked against `0..len` (or `0..=len` when
/// `inclusive`): `<op>: index 5 out of range for <kind> of length 3`.
pub(super) fn index_arg(
    v: &Value,
    len: usize,
    inclusive: bool,
    op: &str,
    kind: &str,
) -> RtResult<usize> {
    let bad = |shown: String| {
        RtError::new(format!(
            "{op}: index {shown} out of range for {kind} of length {len}"
        ))
    };
    match v {
        Value::Int(i) => {
            let ok =
                *i >= 0 && ((*i as u64) < len as u64 || (inclusive && *i as u64 == len as u64));
            if ok {
                Ok(*i as usize)
            } else {
                Err(bad(i.to_string()))
            }
        }
        Value::BigInt(n) => Err(bad(n.to_string())),
        other => Err(type_error(op, "integer", other)),
    }
}
