//! Native builtins: the float family (codes 50-89).
//!
//! IEEE doubles with Python's semantics where LANGUAGE.md §6 asks for them:
//! `//` and `%` as Python's `float_divmod` (the remainder takes the
//! divisor's sign), `float-floor/ceil/round` as `float(math.floor(x))` etc.
//! (never `-0.0`, round half to even, an error for inf/nan), exact
//! truncation in `float->integer`. Overflow is not an error (`inf`), and
//! the only domain errors are those §6 lists: division or modulo by zero,
//! square root or log of a negative number, a `float-logn` base ≤ 0 or 1.
//!
//! The `float_*` helpers are the slow paths of the interpreter's typed
//! opcodes: they accept any two values and type-check them.

use super::{Args, Ctx};
use crate::error::{RtError, RtResult};
use crate::numfmt;
use crate::value::{Complex, Value};
use menai_bytecode::Builtin;
use num_bigint::BigInt;
use num_traits::FromPrimitive;
use std::rc::Rc;

/// `<name>: expected float, got <type>`.
pub fn type_error(name: &str, v: &Value) -> RtError {
    RtError::new(format!("{name}: expected float, got {}", v.type_name()))
}

fn get(name: &str, v: &Value) -> RtResult<f64> {
    match v {
        Value::Float(x) => Ok(*x),
        _ => Err(type_error(name, v)),
    }
}

fn div_zero(name: &str) -> RtError {
    RtError::new(format!("{name}: division by zero"))
}

fn domain(name: &str) -> RtError {
    RtError::new(format!("{name}: math domain error"))
}

/// `a / b`, an error when `b` is zero (as Python).
pub fn fdiv(name: &str, a: f64, b: f64) -> RtResult<f64> {
    if b == 0.0 {
        return Err(div_zero(name));
    }
    Ok(a / b)
}

/// Python's `float_divmod`: (floor quotient, remainder with the divisor's sign).
pub fn py_divmod(vx: f64, wx: f64) -> (f64, f64) {
    let mut m = vx % wx;
    let mut div = (vx - m) / wx;
    if m != 0.0 {
        if (wx < 0.0) != (m < 0.0) {
            m += wx;
            div -= 1.0;
        }
    } else {
        m = 0f64.copysign(wx);
    }
    let floordiv = if div != 0.0 {
        let mut f = div.floor();
        if div - f > 0.5 {
            f += 1.0;
        }
        f
    } else {
        0f64.copysign(vx / wx)
    };
    (floordiv, m)
}

/// Python's `x % y` for floats (`y` nonzero).
pub fn py_mod(vx: f64, wx: f64) -> f64 {
    let mut m = vx % wx;
    if m != 0.0 {
        if (wx < 0.0) != (m < 0.0) {
            m += wx;
        }
    } else {
        m = 0f64.copysign(wx);
    }
    m
}

/// The exact integer value of a finite double truncated toward zero.
fn trunc_to_int(name: &str, x: f64) -> RtResult<Value> {
    if x.is_nan() {
        return Err(RtError::new(format!(
            "{name}: cannot convert float NaN to integer"
        )));
    }
    if x.is_infinite() {
        return Err(RtError::new(format!(
            "{name}: cannot convert float infinity to integer"
        )));
    }
    let t = x.trunc();
    if t.abs() < 9.0e18 {
        return Ok(Value::Int(t as i64));
    }
    match BigInt::from_f64(t) {
        Some(b) => Ok(super::integer::norm(b)),
        None => Err(RtError::new(format!(
            "{name}: cannot convert {x} to integer"
        ))),
    }
}

/// `float(math.floor(x))` and friends: the rounded value, never `-0.0`;
/// an error for inf and nan (Python cannot make an integer of them).
fn round_with(name: &str, x: f64, f: fn(f64) -> f64) -> RtResult<f64> {
    if x.is_nan() {
        return Err(RtError::new(format!(
            "{name}: cannot convert float NaN to integer"
        )));
    }
    if x.is_infinite() {
        return Err(RtError::new(format!(
            "{name}: cannot convert float infinity to integer"
        )));
    }
    Ok(f(x) + 0.0)
}

fn binary(name: &str, a: &Value, b: &Value) -> RtResult<(f64, f64)> {
    Ok((get(name, a)?, get(name, b)?))
}

/// `float+` of two values.
pub fn float_add(a: &Value, b: &Value) -> RtResult<Value> {
    let (x, y) = binary("float+", a, b)?;
    Ok(Value::Float(x + y))
}

/// `float-` of two values.
pub fn float_sub(a: &Value, b: &Value) -> RtResult<Value> {
    let (x, y) = binary("float-", a, b)?;
    Ok(Value::Float(x - y))
}

/// `float*` of two values.
pub fn float_mul(a: &Value, b: &Value) -> RtResult<Value> {
    let (x, y) = binary("float*", a, b)?;
    Ok(Value::Float(x * y))
}

/// `float/` of two values.
pub fn float_div(a: &Value, b: &Value) -> RtResult<Value> {
    let (x, y) = binary("float/", a, b)?;
    Ok(Value::Float(fdiv("float/", x, y)?))
}

/// `float=?` of two values.
pub fn float_eq(a: &Value, b: &Value) -> RtResult<bool> {
    let (x, y) = binary("float=?", a, b)?;
    Ok(x == y)
}

/// `float!=?` of two values.
pub fn float_ne(a: &Value, b: &Value) -> RtResult<bool> {
    let (x, y) = binary("float!=?", a, b)?;
    Ok(x != y)
}

/// `float<?` of two values.
pub fn float_lt(a: &Value, b: &Value) -> RtResult<bool> {
    let (x, y) = binary("float<?", a, b)?;
    Ok(x < y)
}

/// `float>?` of two values.
pub fn float_gt(a: &Value, b: &Value) -> RtResult<bool> {
    let (x, y) = binary("float>?", a, b)?;
    Ok(x > y)
}

/// `float<=?` of two values.
pub fn float_le(a: &Value, b: &Value) -> RtResult<bool> {
    let (x, y) = binary("float<=?", a, b)?;
    Ok(x <= y)
}

/// `float>=?` of two values.
pub fn float_ge(a: &Value, b: &Value) -> RtResult<bool> {
    let (x, y) = binary("float>=?", a, b)?;
    Ok(x >= y)
}

/// `math.log(x)` with §6's rules: negative is an error, zero is `-inf`.
fn log_checked(name: &str, x: f64, f: fn(f64) -> f64) -> RtResult<f64> {
    if x < 0.0 {
        return Err(domain(name));
    }
    Ok(f(x))
}

fn logn(name: &str, x: f64, base: f64) -> RtResult<f64> {
    if x < 0.0 || base <= 0.0 || base == 1.0 {
        return Err(domain(name));
    }
    Ok(x.ln() / base.ln())
}

/// A comparison chain over floats: the first false adjacent pair gives `false`.
fn chain(name: &str, args: &Args, ok: fn(f64, f64) -> bool) -> RtResult<bool> {
    let vals = args.all();
    if vals.len() == 1 {
        get(name, &vals[0])?;
    }
    for w in vals.windows(2) {
        if !ok(get(name, &w[0])?, get(name, &w[1])?) {
            return Ok(false);
        }
    }
    Ok(true)
}

/// Type-checks every argument, then folds them left with `f`.
fn fold(
    name: &str,
    args: &Args,
    unit: f64,
    f: fn(&str, f64, f64) -> RtResult<f64>,
) -> RtResult<f64> {
    let mut xs = Vec::with_capacity(args.len());
    for v in args.all() {
        xs.push(get(name, v)?);
    }
    let Some((first, rest)) = xs.split_first() else {
        return Ok(unit);
    };
    let mut acc = *first;
    for &x in rest {
        acc = f(name, acc, x)?;
    }
    Ok(acc)
}

/// Python's `min`/`max`: keeps the first value unless a later one is
/// strictly smaller (larger); NaN comparisons are false.
fn min_max(name: &str, args: &Args, is_min: bool) -> RtResult<f64> {
    let mut xs = Vec::with_capacity(args.len());
    for v in args.all() {
        xs.push(get(name, v)?);
    }
    let Some((first, rest)) = xs.split_first() else {
        return Err(RtError::new(format!(
            "{name}: expected at least 1 argument"
        )));
    };
    let mut best = *first;
    for &x in rest {
        if (is_min && x < best) || (!is_min && x > best) {
            best = x;
        }
    }
    Ok(best)
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

fn one(args: &Args, name: &str) -> RtResult<f64> {
    get(name, arg(args, name, 0)?)
}

fn two(args: &Args, name: &str) -> RtResult<(f64, f64)> {
    let a = arg(args, name, 0)?;
    let b = arg(args, name, 1)?;
    Ok((get(name, a)?, get(name, b)?))
}

/// Runs a float-family builtin on already-evaluated arguments.
pub fn call(_ctx: &Ctx, id: Builtin, args: &mut Args) -> RtResult<Value> {
    let name = id.name();
    use Builtin as B;
    let f = |x: f64| Ok(Value::Float(x));
    match id {
        B::FloatP => Ok(Value::Bool(matches!(arg(args, name, 0)?, Value::Float(_)))),
        B::FloatEq => Ok(Value::Bool(chain(name, args, |a, b| a == b)?)),
        B::FloatNe => Ok(Value::Bool(!chain(name, args, |a, b| a == b)?)),
        B::FloatLt => Ok(Value::Bool(chain(name, args, |a, b| a < b)?)),
        B::FloatGt => Ok(Value::Bool(chain(name, args, |a, b| a > b)?)),
        B::FloatLe => Ok(Value::Bool(chain(name, args, |a, b| a <= b)?)),
        B::FloatGe => Ok(Value::Bool(chain(name, args, |a, b| a >= b)?)),
        B::FloatAdd => f(fold(name, args, 0.0, |_, a, b| Ok(a + b))?),
        B::FloatSub => f(fold(name, args, 0.0, |_, a, b| Ok(a - b))?),
        B::FloatMul => f(fold(name, args, 1.0, |_, a, b| Ok(a * b))?),
        B::FloatDiv => f(fold(name, args, 1.0, fdiv)?),
        B::FloatFloorDiv => {
            let (a, b) = two(args, name)?;
            if b == 0.0 {
                return Err(div_zero(name));
            }
            f(py_divmod(a, b).0)
        }
        B::FloatMod => {
            let (a, b) = two(args, name)?;
            if b == 0.0 {
                return Err(div_zero(name));
            }
            f(py_mod(a, b))
        }
        B::FloatNeg => f(-one(args, name)?),
        B::FloatAbs => f(one(args, name)?.abs()),
        B::FloatMin => f(min_max(name, args, true)?),
        B::FloatMax => f(min_max(name, args, false)?),
        B::FloatFloor => f(round_with(name, one(args, name)?, f64::floor)?),
        B::FloatCeil => f(round_with(name, one(args, name)?, f64::ceil)?),
        B::FloatRound => f(round_with(name, one(args, name)?, f64::round_ties_even)?),
        B::FloatExp => f(one(args, name)?.exp()),
        B::FloatExpn => f(fold(name, args, 1.0, |_, a, b| Ok(a.powf(b)))?),
        B::FloatLog => f(log_checked(name, one(args, name)?, f64::ln)?),
        B::FloatLog2 => f(log_checked(name, one(args, name)?, f64::log2)?),
        B::FloatLog10 => f(log_checked(name, one(args, name)?, f64::log10)?),
        B::FloatLogn => {
            let (x, base) = two(args, name)?;
            f(logn(name, x, base)?)
        }
        B::FloatSqrt => {
            let x = one(args, name)?;
            if x < 0.0 {
                return Err(domain(name));
            }
            f(x.sqrt())
        }
        B::FloatSin => f(one(args, name)?.sin()),
        B::FloatCos => f(one(args, name)?.cos()),
        B::FloatTan => f(one(args, name)?.tan()),
        B::FloatToInteger => trunc_to_int(name, one(args, name)?),
        B::FloatToComplex => {
            let re = one(args, name)?;
            let im = if args.len() > 1 {
                get(name, args.get(1))?
            } else {
                0.0
            };
            Ok(Value::Complex(Rc::new(Complex { re, im })))
        }
        B::FloatToString => Ok(Value::str(numfmt::float_to_string(one(args, name)?))),
        _ => Err(RtError::new(format!("{name}: not a float builtin"))),
    }
}
