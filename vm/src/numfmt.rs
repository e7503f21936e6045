//! Number formatting exactly as the reference (Python) prints numbers:
//! float `repr`, `float->string` (shortest C `%g`), complex printing and
//! `complex->string`.
//!
//! Every function here is total: any `f64` (including infinities, NaN and
//! `-0.0`) has a rendering, and nothing panics.

use num_bigint::BigInt;

/// The shortest round-trip decimal digits of a finite, nonzero-or-zero `x`
/// (sign ignored) and its decimal exponent: `x = 0.d1d2d3... * 10^decpt`.
/// Zero gives (`"0"`, 1).
fn shortest_digits(x: f64) -> (String, i32) {
    // `{:e}` prints the shortest round-trip digits, e.g. `1.2345e16`, `5e-324`,
    // but when two strings of that length round-trip it may not pick the one
    // nearest to `x` (ties included), as Python does. The correctly rounded
    // string of the same length (ties to even) is the nearest; use it when
    // it also reads back to `x`.
    let a = x.abs();
    let s = format!("{:e}", a);
    let (digits, decpt) = split_sci(&s);
    let exact = format!("{:.*e}", digits.len() - 1, a);
    if exact.parse::<f64>().ok() == Some(a) {
        return split_sci(&exact);
    }
    (digits, decpt)
}

/// Splits a Rust `{:e}`-style rendering (`d.ddde±x`) into digits and the
/// decimal-point position (`decpt`, as in C's `dtoa`).
fn split_sci(s: &str) -> (String, i32) {
    let (mant, exp) = match s.split_once('e') {
        Some(parts) => parts,
        None => (s, "0"),
    };
    let exp: i32 = exp.parse().unwrap_or(0);
    let digits: String = mant.chars().filter(|c| c.is_ascii_digit()).collect();
    let trimmed = digits.trim_end_matches('0');
    if trimmed.is_empty() {
        return ("0".to_string(), 1);
    }
    (trimmed.to_string(), exp + 1)
}

/// Python `repr(x)` of a float: `0.1`, `1e+16`, `1e-05`, `inf`, `-0.0`.
pub fn float_repr(x: f64) -> String {
    if x.is_nan() {
        return "nan".to_string();
    }
    if x.is_infinite() {
        return if x > 0.0 {
            "inf".to_string()
        } else {
            "-inf".to_string()
        };
    }
    let (digits, decpt) = shortest_digits(x);
    let mut out = String::new();
    if x.is_sign_negative() {
        out.push('-');
    }
    if x != 0.0 && !(-4 < decpt && decpt <= 16) {
        // Scientific: d[.ddd]e±XX
        out.push_str(&digits[..1]);
        if digits.len() > 1 {
            out.push('.');
            out.push_str(&digits[1..]);
        }
        push_exponent(&mut out, decpt - 1);
    } else if decpt <= 0 {
        out.push_str("0.");
        for _ in 0..(-decpt) {
            out.push('0');
        }
        out.push_str(&digits);
    } else {
        let d = decpt as usize;
        if digits.len() <= d {
            out.push_str(&digits);
            for _ in digits.len()..d {
                out.push('0');
            }
            out.push_str(".0");
        } else {
            out.push_str(&digits[..d]);
            out.push('.');
            out.push_str(&digits[d..]);
        }
    }
    out
}

/// Appends a C-style exponent: `e+05`, `e-10`, `e+308` (at least two digits).
fn push_exponent(out: &mut String, e: i32) {
    out.push('e');
    out.push(if e < 0 { '-' } else { '+' });
    let a = e.unsigned_abs();
    if a < 10 {
        out.push('0');
    }
    out.push_str(&a.to_string());
}

/// C's `%.{p}g` of a finite `x` (1 ≤ p ≤ 17), with glibc's exact rounding.
fn format_g(x: f64, p: usize) -> String {
    // `{:.N e}` is exactly rounded (ties to even on exact ties, as glibc).
    let s = format!("{:.*e}", p - 1, x.abs());
    let (mant, exp) = match s.split_once('e') {
        Some(parts) => parts,
        None => (s.as_str(), "0"),
    };
    let x_exp: i32 = exp.parse().unwrap_or(0);
    let digits: String = mant.chars().filter(|c| c.is_ascii_digit()).collect();
    let mut out = String::new();
    if x.is_sign_negative() {
        out.push('-');
    }
    if x_exp < -4 || x_exp >= p as i32 {
        let rest = digits[1..].trim_end_matches('0');
        out.push_str(&digits[..1]);
        if !rest.is_empty() {
            out.push('.');
            out.push_str(rest);
        }
        push_exponent(&mut out, x_exp);
    } else {
        // Positional with p - 1 - x_exp decimals, trailing zeros removed.
        let mut body = String::new();
        if x_exp < 0 {
            body.push_str("0.");
            for _ in 0..(-x_exp - 1) {
                body.push('0');
            }
            body.push_str(&digits);
        } else {
            let d = x_exp as usize + 1;
            body.push_str(&digits[..d.min(digits.len())]);
            for _ in digits.len()..d {
                body.push('0');
            }
            if digits.len() > d {
                body.push('.');
                body.push_str(&digits[d..]);
            }
        }
        if body.contains('.') {
            let t = body.trim_end_matches('0').trim_end_matches('.');
            body = t.to_string();
        }
        out.push_str(&body);
    }
    out
}

/// The shortest `%.{p}g` (p in 1..=17) of a finite `x` that reads back to `x`.
fn shortest_g(x: f64) -> String {
    for p in 1..=17 {
        let s = format_g(x, p);
        if s.parse::<f64>().ok() == Some(x) {
            return s;
        }
    }
    format_g(x, 17)
}

/// `float->string`: the shortest C `%.{p}g` rendering that reads back, plus `.0` if needed.
pub fn float_to_string(x: f64) -> String {
    if x.is_nan() {
        return "nan".to_string();
    }
    if x.is_infinite() {
        return if x > 0.0 {
            "inf".to_string()
        } else {
            "-inf".to_string()
        };
    }
    let mut s = shortest_g(x);
    if !s.contains('.') && !s.contains('e') {
        s.push_str(".0");
    }
    s
}

/// Whether `x` is finite and has no fractional part.
fn is_integral(x: f64) -> bool {
    x.is_finite() && x.trunc() == x
}

/// The exact decimal value of an integral double (any magnitude).
fn integral_to_string(x: f64) -> String {
    if x.abs() < 9.0e15 {
        // Exactly representable as i64; `-0.0` becomes `0`.
        return (x as i64).to_string();
    }
    match num_bigint_from_f64(x) {
        Some(b) => b.to_string(),
        None => float_repr(x),
    }
}

/// The exact integer value of an integral finite double.
fn num_bigint_from_f64(x: f64) -> Option<BigInt> {
    use num_traits::FromPrimitive;
    BigInt::from_f64(x)
}

/// One part of a printed complex number: exact integer when integral, else `repr`.
fn complex_part_repr(x: f64) -> String {
    if is_integral(x) {
        integral_to_string(x)
    } else {
        float_repr(x)
    }
}

/// One part of `complex->string`: an integer when integral and within i64, else `float->string`.
fn complex_part_string(x: f64) -> String {
    // [-2^63, 2^63): exactly the integral doubles that fit in an i64.
    const TWO_63: f64 = 9_223_372_036_854_775_808.0;
    if is_integral(x) && (-TWO_63..TWO_63).contains(&x) {
        (x as i64).to_string()
    } else {
        float_to_string(x)
    }
}

/// Joins real and imaginary parts: imaginary only when the real part is
/// zero, else real then the signed imaginary part (NaN and `-0.0` always
/// with `+`, as the reference prints them: `1+0j` for an imaginary `-0.0`).
fn join_complex(re: f64, im: f64, part: fn(f64) -> String) -> String {
    if re == 0.0 {
        return format!("{}j", part(im));
    }
    let mut out = part(re);
    if im.is_nan() {
        out.push_str("+nan");
    } else if im < 0.0 {
        out.push('-');
        out.push_str(&part(-im));
    } else {
        out.push('+');
        out.push_str(&part(im));
    }
    out.push('j');
    out
}

/// Printed form of a complex number (LANGUAGE.md §9): `3+4j`, `5j`, `0+0j`, `1.5-2j`.
pub fn complex_repr(re: f64, im: f64) -> String {
    if re == 0.0 && im == 0.0 {
        return "0+0j".to_string();
    }
    join_complex(re, im, complex_part_repr)
}

/// `complex->string` (LANGUAGE.md §6): like the printed form, but parts use
/// `float->string` unless integral within i64, and zero is `0j`.
pub fn complex_to_string(re: f64, im: f64) -> String {
    if re == 0.0 && im == 0.0 {
        return "0j".to_string();
    }
    join_complex(re, im, complex_part_string)
}

/// Decimal rendering of a big integer.
pub fn bigint_to_string(n: &BigInt) -> String {
    n.to_string()
}
