//! Native builtins: the integer family (codes 20-49).
//!
//! Integers are arbitrary precision with Python semantics: `Value::Int`
//! when the value fits in an `i64`, `Value::BigInt` otherwise (every result
//! goes through `norm`, so a `BigInt` is never inside the `i64` range).
//! Division and modulo floor (the remainder takes the divisor's sign), bit
//! operations act on the infinite two's complement form, and results never
//! overflow; operations whose result would be absurdly large (over
//! `MAX_RESULT_BITS`) fail cleanly instead of exhausting memory.
//!
//! The `int_*` helpers are the slow paths of the interpreter's typed
//! opcodes: they accept any two values and type-check them.

use super::{Args, Ctx};
use crate::error::{RtError, RtResult};
use crate::value::{Complex, Value};
use menai_bytecode::Builtin;
use num_bigint::{BigInt, Sign};
use num_integer::Integer;
use num_traits::{One, Pow, Signed, ToPrimitive, Zero};
use std::borrow::Cow;
use std::cmp::Ordering;
use std::rc::Rc;

/// Largest result (in bits) of a shift or power: 2^24 bits (2 MiB), about
/// 5 million decimal digits; beyond that the operation is an error.
pub const MAX_RESULT_BITS: u64 = 1 << 24;

/// The canonical value of an integer: `Int` when it fits in an `i64`.
pub fn norm(b: BigInt) -> Value {
    match b.to_i64() {
        Some(i) => Value::Int(i),
        None => Value::BigInt(Rc::new(b)),
    }
}

/// `<name>: expected integer, got <type>`.
pub fn type_error(name: &str, v: &Value) -> RtError {
    RtError::new(format!("{name}: expected integer, got {}", v.type_name()))
}

/// An integer argument as a (possibly borrowed) big integer.
fn big<'a>(name: &str, v: &'a Value) -> RtResult<Cow<'a, BigInt>> {
    match v {
        Value::Int(i) => Ok(Cow::Owned(BigInt::from(*i))),
        Value::BigInt(b) => Ok(Cow::Borrowed(b)),
        _ => Err(type_error(name, v)),
    }
}

fn check(name: &str, v: &Value) -> RtResult<()> {
    match v {
        Value::Int(_) | Value::BigInt(_) => Ok(()),
        _ => Err(type_error(name, v)),
    }
}

fn div_zero(name: &str) -> RtError {
    RtError::new(format!("{name}: division by zero"))
}

fn too_large(name: &str) -> RtError {
    RtError::new(format!("{name}: result too large"))
}

/// `a + b` (named `name` in errors).
fn add(name: &str, a: &Value, b: &Value) -> RtResult<Value> {
    if let (Value::Int(x), Value::Int(y)) = (a, b) {
        if let Some(r) = x.checked_add(*y) {
            return Ok(Value::Int(r));
        }
    }
    Ok(norm(&*big(name, a)? + &*big(name, b)?))
}

fn sub(name: &str, a: &Value, b: &Value) -> RtResult<Value> {
    if let (Value::Int(x), Value::Int(y)) = (a, b) {
        if let Some(r) = x.checked_sub(*y) {
            return Ok(Value::Int(r));
        }
    }
    Ok(norm(&*big(name, a)? - &*big(name, b)?))
}

/// `a * b` (named `name` in errors); a product over `MAX_RESULT_BITS`
/// is an error (repeated squaring would otherwise run for minutes within
/// a handful of steps).
pub(crate) fn mul(name: &str, a: &Value, b: &Value) -> RtResult<Value> {
    if let (Value::Int(x), Value::Int(y)) = (a, b) {
        if let Some(r) = x.checked_mul(*y) {
            return Ok(Value::Int(r));
        }
    }
    let (x, y) = (big(name, a)?, big(name, b)?);
    if x.bits().saturating_add(y.bits()) > MAX_RESULT_BITS {
        return Err(too_large(name));
    }
    Ok(norm(&*x * &*y))
}

/// Floor division (Python `//`).
fn floordiv(name: &str, a: &Value, b: &Value) -> RtResult<Value> {
    if let (Value::Int(x), Value::Int(y)) = (a, b) {
        if *y == 0 {
            return Err(div_zero(name));
        }
        if !(*x == i64::MIN && *y == -1) {
            return Ok(Value::Int(x.div_floor(y)));
        }
    }
    let (x, y) = (big(name, a)?, big(name, b)?);
    if y.is_zero() {
        return Err(div_zero(name));
    }
    Ok(norm(x.div_floor(&y)))
}

/// Modulo with the divisor's sign (Python `%`).
fn modulo(name: &str, a: &Value, b: &Value) -> RtResult<Value> {
    if let (Value::Int(x), Value::Int(y)) = (a, b) {
        if *y == 0 {
            return Err(div_zero(name));
        }
        if *y == -1 {
            return Ok(Value::Int(0));
        }
        return Ok(Value::Int(x.mod_floor(y)));
    }
    let (x, y) = (big(name, a)?, big(name, b)?);
    if y.is_zero() {
        return Err(div_zero(name));
    }
    Ok(norm(x.mod_floor(&y)))
}

/// Orders two integers (named `name` in errors).
fn compare(name: &str, a: &Value, b: &Value) -> RtResult<Ordering> {
    match (a, b) {
        (Value::Int(x), Value::Int(y)) => Ok(x.cmp(y)),
        _ => Ok(big(name, a)?.cmp(&big(name, b)?)),
    }
}

/// `integer+` of two values.
pub fn int_add(a: &Value, b: &Value) -> RtResult<Value> {
    add("integer+", a, b)
}

/// `integer-` of two values.
pub fn int_sub(a: &Value, b: &Value) -> RtResult<Value> {
    sub("integer-", a, b)
}

/// `integer*` of two values.
pub fn int_mul(a: &Value, b: &Value) -> RtResult<Value> {
    mul("integer*", a, b)
}

/// `integer/` of two values (floor division).
pub fn int_div(a: &Value, b: &Value) -> RtResult<Value> {
    floordiv("integer/", a, b)
}

/// `integer%` of two values.
pub fn int_mod(a: &Value, b: &Value) -> RtResult<Value> {
    modulo("integer%", a, b)
}

/// `integer=?` of two values.
pub fn int_eq(a: &Value, b: &Value) -> RtResult<bool> {
    Ok(compare("integer=?", a, b)? == Ordering::Equal)
}

/// `integer!=?` of two values.
pub fn int_ne(a: &Value, b: &Value) -> RtResult<bool> {
    Ok(compare("integer!=?", a, b)? != Ordering::Equal)
}

/// `integer<?` of two values.
pub fn int_lt(a: &Value, b: &Value) -> RtResult<bool> {
    Ok(compare("integer<?", a, b)? == Ordering::Less)
}

/// `integer>?` of two values.
pub fn int_gt(a: &Value, b: &Value) -> RtResult<bool> {
    Ok(compare("integer>?", a, b)? == Ordering::Greater)
}

/// `integer<=?` of two values.
pub fn int_le(a: &Value, b: &Value) -> RtResult<bool> {
    Ok(compare("integer<=?", a, b)? != Ordering::Greater)
}

/// `integer>=?` of two values.
pub fn int_ge(a: &Value, b: &Value) -> RtResult<bool> {
    Ok(compare("integer>=?", a, b)? != Ordering::Less)
}

/// `integer-neg`.
pub fn int_neg(a: &Value) -> RtResult<Value> {
    match a {
        Value::Int(x) => match x.checked_neg() {
            Some(r) => Ok(Value::Int(r)),
            None => Ok(norm(-BigInt::from(*x))),
        },
        Value::BigInt(b) => Ok(norm(-&**b)),
        _ => Err(type_error("integer-neg", a)),
    }
}

fn abs(a: &Value) -> RtResult<Value> {
    match a {
        Value::Int(x) => match x.checked_abs() {
            Some(r) => Ok(Value::Int(r)),
            None => Ok(norm(BigInt::from(*x).abs())),
        },
        Value::BigInt(b) => Ok(norm(b.abs())),
        _ => Err(type_error("integer-abs", a)),
    }
}

/// `integer-expn`: exact power with a non-negative exponent.
fn expn(name: &str, a: &Value, b: &Value) -> RtResult<Value> {
    let base = big(name, a)?;
    let e = big(name, b)?;
    if e.is_negative() {
        return Err(RtError::new(format!("{name}: negative exponent")));
    }
    if e.is_zero() {
        return Ok(Value::Int(1));
    }
    if base.is_zero() || base.is_one() {
        return Ok(norm(base.into_owned()));
    }
    if *base == BigInt::from(-1) {
        return Ok(Value::Int(if e.is_even() { 1 } else { -1 }));
    }
    let e = match e.to_u64() {
        Some(e) => e,
        None => return Err(too_large(name)),
    };
    // |base| >= 2 here, so the result has at least (bits - 1) * e + 1 bits.
    let bits = base.bits();
    if (bits - 1).saturating_mul(e) > MAX_RESULT_BITS || e > MAX_RESULT_BITS {
        return Err(too_large(name));
    }
    if let (Value::Int(x), Ok(e32)) = (a, u32::try_from(e)) {
        if let Some(r) = x.checked_pow(e32) {
            return Ok(Value::Int(r));
        }
    }
    Ok(norm(Pow::pow(&*base, e)))
}

fn shift_count(name: &str, b: &Value) -> RtResult<Option<u64>> {
    let n = big(name, b)?;
    if n.is_negative() {
        return Err(RtError::new(format!("{name}: negative shift count")));
    }
    Ok(n.to_u64())
}

fn shift_left(name: &str, a: &Value, b: &Value) -> RtResult<Value> {
    let count = shift_count(name, b)?;
    let x = big(name, a)?;
    if x.is_zero() {
        return Ok(Value::Int(0));
    }
    let count = match count {
        Some(c) if c.saturating_add(x.bits()) <= MAX_RESULT_BITS => c,
        _ => return Err(too_large(name)),
    };
    if let Value::Int(v) = a {
        if count < 63 {
            let r = v.wrapping_shl(count as u32);
            if r >> count == *v {
                return Ok(Value::Int(r));
            }
        }
    }
    Ok(norm(&*x << count))
}

fn shift_right(name: &str, a: &Value, b: &Value) -> RtResult<Value> {
    let count = shift_count(name, b)?;
    let x = big(name, a)?;
    let count = match count {
        Some(c) if c < x.bits() => c,
        // Shifting out every bit leaves 0 or -1 (floor).
        _ => return Ok(Value::Int(if x.is_negative() { -1 } else { 0 })),
    };
    if let Value::Int(v) = a {
        return Ok(Value::Int(v >> count));
    }
    Ok(norm(&*x >> count))
}

#[derive(Clone, Copy)]
enum BitOp {
    Or,
    And,
    Xor,
}

fn bitop(name: &str, op: BitOp, a: &Value, b: &Value) -> RtResult<Value> {
    if let (Value::Int(x), Value::Int(y)) = (a, b) {
        return Ok(Value::Int(match op {
            BitOp::Or => x | y,
            BitOp::And => x & y,
            BitOp::Xor => x ^ y,
        }));
    }
    let (x, y) = (big(name, a)?, big(name, b)?);
    Ok(norm(match op {
        BitOp::Or => &*x | &*y,
        BitOp::And => &*x & &*y,
        BitOp::Xor => &*x ^ &*y,
    }))
}

fn bit_not(a: &Value) -> RtResult<Value> {
    match a {
        Value::Int(x) => Ok(Value::Int(!x)),
        Value::BigInt(b) => Ok(norm(-&**b - 1)),
        _ => Err(type_error("integer-bit-not", a)),
    }
}

/// The nearest double to an integer (ties to even), as Python's `float(n)`.
pub fn int_to_f64(name: &str, v: &Value) -> RtResult<f64> {
    match v {
        Value::Int(i) => Ok(*i as f64),
        Value::BigInt(b) => {
            let bits = b.bits();
            if bits <= 64 {
                // Only magnitudes in [2^63, 2^64) get here.
                let m = b.magnitude().to_u64().unwrap_or(u64::MAX);
                let f = m as f64;
                return Ok(if b.sign() == Sign::Minus { -f } else { f });
            }
            if bits > 1024 {
                return Err(RtError::new(format!(
                    "{name}: integer too large to convert to float"
                )));
            }
            let shift = bits - 64;
            let mag = b.magnitude();
            let top = (mag >> shift).to_u64().unwrap_or(u64::MAX);
            // Fold the discarded bits into a sticky bit so that the single
            // rounding of u64 -> f64 rounds the whole value correctly.
            let sticky = mag.trailing_zeros().is_some_and(|tz| tz < shift);
            let m = top | u64::from(sticky);
            let f = (m as f64) * 2f64.powi(shift as i32);
            if f.is_infinite() {
                return Err(RtError::new(format!(
                    "{name}: integer too large to convert to float"
                )));
            }
            Ok(if b.sign() == Sign::Minus { -f } else { f })
        }
        _ => Err(type_error(name, v)),
    }
}

fn to_string_radix(n: &Value, radix: Option<&Value>) -> RtResult<Value> {
    const NAME: &str = "integer->string";
    let radix = match radix {
        None => 10,
        Some(Value::Int(r @ (2 | 8 | 10 | 16))) => *r as u32,
        Some(Value::Int(_) | Value::BigInt(_)) => {
            return Err(RtError::new(format!(
                "{NAME}: radix must be 2, 8, 10 or 16"
            )));
        }
        Some(other) => return Err(type_error(NAME, other)),
    };
    let s = match n {
        Value::Int(i) if radix == 10 => i.to_string(),
        Value::Int(i) => BigInt::from(*i).to_str_radix(radix),
        Value::BigInt(b) => b.to_str_radix(radix),
        _ => return Err(type_error(NAME, n)),
    };
    Ok(Value::str(s))
}

fn codepoint_to_string(n: &Value) -> RtResult<Value> {
    const NAME: &str = "integer-codepoint->string";
    check(NAME, n)?;
    let c = match n {
        Value::Int(i) => u32::try_from(*i).ok().and_then(char::from_u32),
        _ => None,
    };
    match c {
        Some(c) => Ok(Value::str(c.to_string())),
        None => Err(RtError::new(format!(
            "{NAME}: invalid code point {}",
            show(n)
        ))),
    }
}

fn show(v: &Value) -> String {
    match v {
        Value::Int(i) => i.to_string(),
        Value::BigInt(b) => b.to_string(),
        _ => v.type_name().to_string(),
    }
}

/// A comparison chain: adjacent pairs left to right; the first false pair
/// gives `false` without looking at later arguments.
fn chain(name: &str, args: &Args, ok: fn(Ordering) -> bool) -> RtResult<bool> {
    let vals = args.all();
    if vals.len() == 1 {
        check(name, &vals[0])?;
    }
    for w in vals.windows(2) {
        if !ok(compare(name, &w[0], &w[1])?) {
            return Ok(false);
        }
    }
    Ok(true)
}

/// Type-checks every argument, then folds them left with `f`.
fn fold(
    name: &str,
    args: &Args,
    unit: i64,
    f: fn(&str, &Value, &Value) -> RtResult<Value>,
) -> RtResult<Value> {
    let vals = args.all();
    for v in vals {
        check(name, v)?;
    }
    let Some((first, rest)) = vals.split_first() else {
        return Ok(Value::Int(unit));
    };
    let mut acc = first.clone();
    for v in rest {
        acc = f(name, &acc, v)?;
    }
    Ok(acc)
}

fn min_max(name: &str, args: &Args, want: Ordering) -> RtResult<Value> {
    let vals = args.all();
    for v in vals {
        check(name, v)?;
    }
    let Some((first, rest)) = vals.split_first() else {
        return Err(RtError::new(format!(
            "{name}: expected at least 1 argument"
        )));
    };
    let mut best = first;
    for v in rest {
        if compare(name, v, best)? == want {
            best = v;
        }
    }
    Ok(best.clone())
}

fn arg<'a>(args: &'a Args, name: &str, i: usize) -> RtResult<&'a Value> {
    if i < args.len() {
        Ok(args.get(i))
    } else {
        Err(RtError::new(format!(
            "{name}: expected more arguments, got {}",
            args.len()
        )))
    }
}

/// Runs an integer-family builtin on already-evaluated arguments.
pub fn call(_ctx: &Ctx, id: Builtin, args: &mut Args) -> RtResult<Value> {
    let name = id.name();
    use Builtin as B;
    Ok(match id {
        B::IntegerP => Value::Bool(matches!(
            arg(args, name, 0)?,
            Value::Int(_) | Value::BigInt(_)
        )),
        B::IntegerEq => Value::Bool(chain(name, args, |o| o == Ordering::Equal)?),
        B::IntegerNe => Value::Bool(!chain(name, args, |o| o == Ordering::Equal)?),
        B::IntegerLt => Value::Bool(chain(name, args, |o| o == Ordering::Less)?),
        B::IntegerGt => Value::Bool(chain(name, args, |o| o == Ordering::Greater)?),
        B::IntegerLe => Value::Bool(chain(name, args, |o| o != Ordering::Greater)?),
        B::IntegerGe => Value::Bool(chain(name, args, |o| o != Ordering::Less)?),
        B::IntegerAdd => fold(name, args, 0, add)?,
        B::IntegerSub => fold(name, args, 0, sub)?,
        B::IntegerMul => fold(name, args, 1, mul)?,
        B::IntegerDiv => fold(name, args, 1, floordiv)?,
        B::IntegerMod => {
            let (a, b) = (arg(args, name, 0)?, arg(args, name, 1)?);
            check(name, a)?;
            check(name, b)?;
            modulo(name, a, b)?
        }
        B::IntegerNeg => int_neg(arg(args, name, 0)?)?,
        B::IntegerAbs => abs(arg(args, name, 0)?)?,
        B::IntegerExpn => expn(name, arg(args, name, 0)?, arg(args, name, 1)?)?,
        B::IntegerMin => min_max(name, args, Ordering::Less)?,
        B::IntegerMax => min_max(name, args, Ordering::Greater)?,
        B::IntegerBitOr => fold(name, args, 0, |n, a, b| bitop(n, BitOp::Or, a, b))?,
        B::IntegerBitAnd => fold(name, args, -1, |n, a, b| bitop(n, BitOp::And, a, b))?,
        B::IntegerBitXor => fold(name, args, 0, |n, a, b| bitop(n, BitOp::Xor, a, b))?,
        B::IntegerBitNot => bit_not(arg(args, name, 0)?)?,
        B::IntegerShiftLeft => {
            let (a, b) = (arg(args, name, 0)?, arg(args, name, 1)?);
            check(name, a)?;
            shift_left(name, a, b)?
        }
        B::IntegerShiftRight => {
            let (a, b) = (arg(args, name, 0)?, arg(args, name, 1)?);
            check(name, a)?;
            shift_right(name, a, b)?
        }
        B::IntegerToFloat => Value::Float(int_to_f64(name, arg(args, name, 0)?)?),
        B::IntegerToComplex => {
            let re = arg(args, name, 0)?;
            check(name, re)?;
            let im = if args.len() > 1 {
                int_to_f64(name, args.get(1))?
            } else {
                0.0
            };
            let re = int_to_f64(name, re)?;
            Value::Complex(Rc::new(Complex { re, im }))
        }
        B::IntegerToString => {
            let n = arg(args, name, 0)?;
            check(name, n)?;
            to_string_radix(
                n,
                if args.len() > 1 {
                    Some(args.get(1))
                } else {
                    None
                },
            )?
        }
        B::IntegerCodepointToString => codepoint_to_string(arg(args, name, 0)?)?,
        _ => return Err(RtError::new(format!("{name}: not an integer builtin"))),
    })
}
