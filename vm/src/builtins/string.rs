//! Native builtins of the string family (codes 120-149). Strings are
//! indexed by Unicode codepoint; `Str::chars` caches the count, so indexing
//! an ASCII string is O(1). Case mapping and conversions follow Python.

use super::misc::{expect_int, expect_str, index_arg, int_value, type_error};
use super::{Args, Ctx};
use crate::error::{RtError, RtResult};
use crate::value::{Complex, Str, Value};
use compact_str::CompactString;
use menai_bytecode::Builtin;
use num_bigint::BigInt;
use std::collections::VecDeque;
use std::rc::Rc;

pub fn call(_ctx: &Ctx, id: Builtin, args: &mut Args) -> RtResult<Value> {
    let op = id.name();
    let v = match id {
        Builtin::StringP => Value::Bool(matches!(args.get(0), Value::Str(_))),
        Builtin::StringEq | Builtin::StringNe => {
            let eq = chain(args, op, |a, b| a == b)?;
            Value::Bool(eq == (id == Builtin::StringEq))
        }
        Builtin::StringLt => Value::Bool(chain(args, op, |a, b| a < b)?),
        Builtin::StringGt => Value::Bool(chain(args, op, |a, b| a > b)?),
        Builtin::StringLe => Value::Bool(chain(args, op, |a, b| a <= b)?),
        Builtin::StringGe => Value::Bool(chain(args, op, |a, b| a >= b)?),
        Builtin::StringConcat => concat(args, op)?,
        Builtin::StringLength => Value::Int(expect_str(args.get(0), op)?.chars as i64),
        Builtin::StringRef => {
            let s = expect_str(args.get(0), op)?;
            let i = index_arg(args.get(1), s.chars, false, op, "string")?;
            let start = byte_offset(s, i);
            let c = s.text[start..].chars().next().unwrap_or('\0');
            Value::Str(Rc::new(Str {
                text: CompactString::from(&*c.encode_utf8(&mut [0; 4])),
                chars: 1,
            }))
        }
        Builtin::StringSlice => {
            let s = expect_str(args.get(0), op)?;
            let start = index_arg(args.get(1), s.chars, true, op, "string")?;
            let end = if args.len() > 2 {
                index_arg(args.get(2), s.chars, true, op, "string")?
            } else {
                s.chars
            };
            if start > end {
                return Err(RtError::new(format!(
                    "{op}: start index {start} is greater than end index {end}"
                )));
            }
            let (b0, b1) = (byte_offset(s, start), byte_offset(s, end));
            Value::Str(Rc::new(Str {
                text: CompactString::from(&s.text[b0..b1]),
                chars: end - start,
            }))
        }
        Builtin::StringUpcase => {
            let s = expect_str(args.get(0), op)?;
            Value::str(s.text.to_uppercase())
        }
        Builtin::StringDowncase => {
            let s = expect_str(args.get(0), op)?;
            Value::str(s.text.to_lowercase())
        }
        Builtin::StringTrim => {
            let s = expect_str(args.get(0), op)?;
            Value::str(s.text.trim_matches(is_trim_char))
        }
        Builtin::StringTrimLeft => {
            let s = expect_str(args.get(0), op)?;
            Value::str(s.text.trim_start_matches(is_trim_char))
        }
        Builtin::StringTrimRight => {
            let s = expect_str(args.get(0), op)?;
            Value::str(s.text.trim_end_matches(is_trim_char))
        }
        Builtin::StringReplace => {
            let s = expect_str(args.get(0), op)?;
            let old = expect_str(args.get(1), op)?;
            let new = expect_str(args.get(2), op)?;
            if new.text.len() > old.text.len() {
                // The result can be far larger than its inputs (a long
                // replacement for every character): ask for its size first.
                let hits = if old.text.is_empty() {
                    s.chars + 1
                } else {
                    s.text.matches(old.text.as_str()).count()
                };
                let growth = hits.saturating_mul(new.text.len() - old.text.len());
                super::room_for(s.text.len().saturating_add(growth), op)?;
            }
            Value::str(s.text.replace(old.text.as_str(), &new.text))
        }
        Builtin::StringPrefixP => {
            let s = expect_str(args.get(0), op)?;
            let p = expect_str(args.get(1), op)?;
            Value::Bool(s.text.starts_with(p.text.as_str()))
        }
        Builtin::StringSuffixP => {
            let s = expect_str(args.get(0), op)?;
            let p = expect_str(args.get(1), op)?;
            Value::Bool(s.text.ends_with(p.text.as_str()))
        }
        Builtin::StringIndex => {
            let s = expect_str(args.get(0), op)?;
            let sub = expect_str(args.get(1), op)?;
            match s.text.find(sub.text.as_str()) {
                Some(b) => {
                    let i = if s.chars == s.text.len() {
                        b
                    } else {
                        s.text[..b].chars().count()
                    };
                    Value::Int(i as i64)
                }
                None => Value::None,
            }
        }
        Builtin::StringToNumber => string_to_number(&expect_str(args.get(0), op)?.text),
        Builtin::StringToInteger => {
            let s = expect_str(args.get(0), op)?;
            let radix = if args.len() > 1 {
                match expect_int(args.get(1), op)? {
                    Some(r @ (2 | 8 | 10 | 16)) => r as u32,
                    _ => return Err(RtError::new(format!("{op}: radix must be 2, 8, 10 or 16"))),
                }
            } else {
                10
            };
            match parse_int_radix(&s.text, radix) {
                Some(n) => int_value(n),
                None => Value::None,
            }
        }
        Builtin::StringToList => {
            let s = expect_str(args.get(0), op)?;
            let delim = if args.len() > 1 {
                Some(expect_str(args.get(1), op)?)
            } else {
                None
            };
            // Each piece is a string value: at least its bytes and a header.
            super::room_for(super::list_bytes(s.text.len()).saturating_mul(4), op)?;
            // Pieces of an ASCII string are ASCII: their length in
            // codepoints is their length in bytes (no count needed).
            let ascii = s.chars == s.text.len();
            let piece = |t: &str| {
                let chars = if ascii { t.len() } else { t.chars().count() };
                Value::Str(Rc::new(Str {
                    text: CompactString::from(t),
                    chars,
                }))
            };
            let items: VecDeque<Value> = match delim {
                // A one-byte delimiter: a byte search (memchr), not a
                // substring search.
                Some(d) if d.text.len() == 1 && d.text.is_ascii() => {
                    let c = d.text.as_bytes()[0] as char;
                    s.text.split(c).map(piece).collect()
                }
                Some(d) if !d.text.is_empty() => s.text.split(d.text.as_str()).map(piece).collect(),
                _ => s
                    .text
                    .chars()
                    .map(|c| {
                        Value::Str(Rc::new(Str {
                            text: CompactString::from(&*c.encode_utf8(&mut [0; 4])),
                            chars: 1,
                        }))
                    })
                    .collect(),
            };
            Value::list_from(items)
        }
        Builtin::StringToCodepoint => {
            let s = expect_str(args.get(0), op)?;
            let mut it = s.text.chars();
            match (it.next(), it.next()) {
                (Some(c), None) => Value::Int(c as i64),
                _ => {
                    return Err(RtError::new(format!(
                        "{op}: expected a string of length 1, got length {}",
                        s.chars
                    )))
                }
            }
        }
        _ => return Err(RtError::new(format!("{op}: not a string builtin"))),
    };
    Ok(v)
}

/// A comparison chain over string arguments: the first false adjacent pair
/// gives `false` without checking the types of the arguments after it.
fn chain(args: &Args, op: &str, cmp: impl Fn(&str, &str) -> bool) -> RtResult<bool> {
    let all = args.all();
    for i in 0..all.len().saturating_sub(1) {
        let a = expect_str(&all[i], op)?;
        let b = expect_str(&all[i + 1], op)?;
        if !cmp(&a.text, &b.text) {
            return Ok(false);
        }
    }
    Ok(true)
}

/// `string-concat`: appends in place to the first string when it is unshared.
fn concat(args: &mut Args, op: &str) -> RtResult<Value> {
    for v in args.all() {
        expect_str(v, op)?;
    }
    if args.is_empty() {
        return Ok(Value::str(""));
    }
    let extra: usize = args.all()[1..]
        .iter()
        .map(|v| match v {
            Value::Str(s) => s.text.len(),
            _ => 0,
        })
        .sum();
    let first_len = match args.get(0) {
        Value::Str(s) => s.text.len(),
        _ => 0,
    };
    // The result may be a new copy next to the old strings.
    super::room_for(first_len.saturating_add(extra), op)?;
    let first = args.take(0);
    let mut rc = match first.into_str() {
        Ok(rc) => rc,
        Err(other) => return Err(type_error(op, "string", &other)),
    };
    if extra == 0 {
        return Ok(Value::Str(rc));
    }
    let parts = || {
        args.all()[1..].iter().filter_map(|v| match v {
            Value::Str(t) => Some(t),
            _ => None,
        })
    };
    match Rc::get_mut(&mut rc) {
        // An unshared first string grows in place (amortized appends).
        Some(s) => {
            for t in parts() {
                s.text.push_str(&t.text);
                s.chars += t.chars;
            }
            Ok(Value::Str(rc))
        }
        // A new string: built as a `String` (cheaper appends), converted
        // once (a long one keeps its buffer, a short one goes inline).
        None => {
            let mut text = String::with_capacity(rc.text.len() + extra);
            text.push_str(&rc.text);
            let mut chars = rc.chars;
            for t in parts() {
                text.push_str(&t.text);
                chars += t.chars;
            }
            Ok(Value::Str(Rc::new(Str {
                text: CompactString::from(text),
                chars,
            })))
        }
    }
}

/// Byte offset of codepoint `i` (or the end of the text) in `s`.
fn byte_offset(s: &Str, i: usize) -> usize {
    if s.chars == s.text.len() {
        return i.min(s.text.len());
    }
    s.text
        .char_indices()
        .nth(i)
        .map(|(b, _)| b)
        .unwrap_or(s.text.len())
}

/// The characters `string-trim` removes.
fn is_trim_char(c: char) -> bool {
    matches!(
        c,
        '\u{9}'..='\u{d}'
            | ' '
            | '\u{85}'
            | '\u{a0}'
            | '\u{1680}'
            | '\u{2000}'..='\u{200a}'
            | '\u{2028}'
            | '\u{2029}'
            | '\u{202f}'
            | '\u{205f}'
            | '\u{3000}'
            | '\u{feff}'
    )
}

/// `string->number`: an integer, float or complex, or `#none`.
pub fn string_to_number(s: &str) -> Value {
    if !s.is_ascii() {
        return Value::None;
    }
    let t = s.trim_start_matches([' ', '\t', '\n', '\x0b', '\x0c', '\r']);
    if t.is_empty() {
        return Value::None;
    }
    let digits = t.strip_prefix(['+', '-']).unwrap_or(t);
    if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
        let neg = t.starts_with('-');
        return match crate::decimal::parse_decimal(digits) {
            Some(n) => int_value(if neg { -n } else { n }),
            None => Value::None,
        };
    }
    if t.ends_with(['j', 'J']) {
        return match parse_complex(t) {
            Some((re, im)) => Value::Complex(Rc::new(Complex { re, im })),
            None => Value::None,
        };
    }
    match strtod_full(t) {
        Some(x) => Value::Float(x),
        None => Value::None,
    }
}

/// A complex token as in LANGUAGE.md §2 (`1+2j`, `-2.5j`, `1e-3-4E+2J`).
pub fn parse_complex(t: &str) -> Option<(f64, f64)> {
    let body = &t[..t.len() - 1];
    let bytes = body.as_bytes();
    let split = (1..bytes.len())
        .find(|&i| (bytes[i] == b'+' || bytes[i] == b'-') && !matches!(bytes[i - 1], b'e' | b'E'));
    match split {
        Some(i) => Some((python_float(&body[..i])?, python_float(&body[i..])?)),
        None => Some((0.0, python_float(body)?)),
    }
}

/// Python's `float()` of an ASCII token with no surrounding whitespace.
pub fn python_float(s: &str) -> Option<f64> {
    if s.is_empty() || !s.is_ascii() {
        return None;
    }
    let unsigned = s.strip_prefix(['+', '-']).unwrap_or(s);
    let lower = unsigned.to_ascii_lowercase();
    if matches!(lower.as_str(), "inf" | "infinity" | "nan") {
        return s.parse::<f64>().ok();
    }
    // Underscores only between two digits.
    let b = unsigned.as_bytes();
    for (i, &c) in b.iter().enumerate() {
        if c == b'_'
            && !(i > 0 && b[i - 1].is_ascii_digit() && b.get(i + 1).is_some_and(u8::is_ascii_digit))
        {
            return None;
        }
    }
    let cleaned: String = s.chars().filter(|&c| c != '_').collect();
    if !is_decimal_float(cleaned.strip_prefix(['+', '-']).unwrap_or(&cleaned)) {
        return None;
    }
    cleaned.parse::<f64>().ok()
}

/// `digits[.digits][e[sign]digits]` or `.digits[...]` with at least one
/// mantissa digit (the grammar Python and C accept for decimal floats).
fn is_decimal_float(s: &str) -> bool {
    decimal_float_len(s) == Some(s.len())
}

/// Length of the longest decimal-float prefix of `s` (unsigned), as `strtod` reads it.
fn decimal_float_len(s: &str) -> Option<usize> {
    let b = s.as_bytes();
    let mut i = 0;
    let mut mant = 0;
    while i < b.len() && b[i].is_ascii_digit() {
        i += 1;
        mant += 1;
    }
    if i < b.len() && b[i] == b'.' {
        i += 1;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
            mant += 1;
        }
    }
    if mant == 0 {
        return None;
    }
    if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        let mut j = i + 1;
        if j < b.len() && (b[j] == b'+' || b[j] == b'-') {
            j += 1;
        }
        let ds = j;
        while j < b.len() && b[j].is_ascii_digit() {
            j += 1;
        }
        if j > ds {
            i = j;
        }
    }
    Some(i)
}

/// C `strtod` of the whole of `t` (after leading whitespace): `None` if it
/// reads nothing or leaves anything unread.
pub fn strtod_full(t: &str) -> Option<f64> {
    let (neg, body) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    let lower = body.to_ascii_lowercase();
    let x = if lower == "inf" || lower == "infinity" {
        f64::INFINITY
    } else if lower == "nan"
        || (lower.starts_with("nan(")
            && lower.ends_with(')')
            && lower[4..lower.len() - 1]
                .bytes()
                .all(|c| c.is_ascii_alphanumeric() || c == b'_'))
    {
        f64::NAN
    } else if lower.starts_with("0x") && lower.len() > 2 {
        parse_hex_float(&lower[2..])?
    } else {
        if decimal_float_len(body)? != body.len() {
            return None;
        }
        body.parse::<f64>().ok()?
    };
    Some(if neg { -x } else { x })
}

/// The part of a C hex float after `0x`: hex digits with an optional point,
/// then an optional binary exponent `p[sign]digits`. Rounded to nearest.
fn parse_hex_float(s: &str) -> Option<f64> {
    let b = s.as_bytes();
    let mut i = 0;
    let mut mant: u64 = 0;
    let mut sticky = false;
    let mut exp: i64 = 0;
    let mut ndigits = 0;
    let mut seen_point = false;
    while i < b.len() {
        let c = b[i];
        if c == b'.' && !seen_point {
            seen_point = true;
            i += 1;
            continue;
        }
        let d = match (c as char).to_digit(16) {
            Some(d) => d as u64,
            None => break,
        };
        ndigits += 1;
        if mant >> 60 == 0 {
            mant = (mant << 4) | d;
            if seen_point {
                exp -= 4;
            }
        } else {
            sticky |= d != 0;
            if !seen_point {
                exp += 4;
            }
        }
        i += 1;
    }
    if ndigits == 0 {
        return None;
    }
    if i < b.len() && b[i] == b'p' {
        let mut j = i + 1;
        let neg = j < b.len() && b[j] == b'-';
        if j < b.len() && (b[j] == b'+' || b[j] == b'-') {
            j += 1;
        }
        let ds = j;
        let mut e: i64 = 0;
        while j < b.len() && b[j].is_ascii_digit() {
            e = (e * 10 + (b[j] - b'0') as i64).min(1 << 20);
            j += 1;
        }
        if j > ds {
            exp += if neg { -e } else { e };
            i = j;
        }
    }
    if i != b.len() {
        return None;
    }
    if sticky {
        mant |= 1;
    }
    if mant == 0 {
        return Some(0.0);
    }
    // Normalize so the value is exactly representable before scaling when
    // possible: shift the mantissa down to 53 bits with round-half-even.
    let bits = 64 - mant.leading_zeros() as i64;
    let mut m = mant;
    let mut e2 = exp;
    // Target precision: 53 bits, fewer if the result is subnormal.
    let top = bits + exp; // value in [2^(top-1), 2^top)
    let min_exp = -1074; // exponent of the smallest subnormal bit
    let mut keep = 53;
    if top - 53 < min_exp {
        keep = (top - min_exp).max(0);
    }
    if bits > keep {
        let drop = bits - keep;
        if drop >= 64 {
            return Some(0.0);
        }
        let half = 1u64 << (drop - 1);
        let rem = m & ((1u64 << drop) - 1);
        m >>= drop;
        e2 += drop;
        if rem > half || (rem == half && m & 1 == 1) {
            m += 1;
        }
    }
    // m has at most 54 bits: exact in f64; scale by 2^e2 in safe steps.
    let mut x = m as f64;
    while e2 > 0 {
        let step = e2.min(1000);
        x *= 2f64.powi(step as i32);
        e2 -= step;
    }
    while e2 < 0 {
        let step = (-e2).min(1000);
        x /= 2f64.powi(step as i32);
        e2 += step;
    }
    Some(x)
}

/// Python's `int(s, radix)` for radix 2, 8, 10 or 16: surrounding
/// whitespace, a sign, the radix's `0x`/`0o`/`0b` prefix and single
/// underscores between digits are allowed.
pub fn parse_int_radix(s: &str, radix: u32) -> Option<BigInt> {
    let t = s.trim_matches(is_trim_char);
    let (neg, body) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    let prefix = match radix {
        16 => Some("0x"),
        8 => Some("0o"),
        2 => Some("0b"),
        _ => None,
    };
    let (digits, prefixed) = match prefix {
        Some(p) if body.len() >= 2 && body[..2].eq_ignore_ascii_case(p) => (&body[2..], true),
        _ => (body, false),
    };
    let digits = if prefixed {
        digits.strip_prefix('_').unwrap_or(digits)
    } else {
        digits
    };
    let b = digits.as_bytes();
    if b.is_empty() {
        return None;
    }
    let mut clean = Vec::with_capacity(b.len());
    for (i, &c) in b.iter().enumerate() {
        if c == b'_' {
            if i == 0 || i + 1 == b.len() || b[i - 1] == b'_' {
                return None;
            }
            continue;
        }
        if !(c as char).is_digit(radix) {
            return None;
        }
        clean.push(c);
    }
    let n = BigInt::parse_bytes(&clean, radix)?;
    Some(if neg { -n } else { n })
}
