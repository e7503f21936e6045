//! Structural equality and hashing of runtime values (LANGUAGE.md §3).
//!
//! Equality is type-sensitive (`1`, `1.0` and `#t` all differ), compares
//! lists element by element, dicts entry by entry *in order*, sets as sets
//! (order ignored), structs by type and fields, and functions by identity.
//! Everything here is iterative, so values nested arbitrarily deep compare
//! and hash in constant native stack space.
//!
//! `Key` (a dict key or set member) gets `Eq`/`Hash` from here; `key`
//! checks that a value is hashable (string, integer, float, complex,
//! boolean, symbol, or a struct whose fields all are) before it becomes one.
//! As keys, `0.0` and `-0.0` are the same (as in Python), and so are two
//! NaNs (so that `Eq` stays reflexive).

use crate::error::{RtError, RtResult};
use crate::value::{Key, SetObj, Value};
use std::hash::{Hash, Hasher};
use std::rc::Rc;

/// Structural, type-sensitive equality of two values.
#[inline(never)]
pub fn equal(a: &Value, b: &Value) -> bool {
    let mut work: Vec<(&Value, &Value)> = Vec::new();
    let (mut a, mut b) = (a, b);
    loop {
        if !shallow_equal(a, b, &mut work) {
            return false;
        }
        match work.pop() {
            Some((x, y)) => {
                a = x;
                b = y;
            }
            None => return true,
        }
    }
}

/// Compares `a` and `b` at the top level; the pairs of children that must
/// also be equal are pushed onto `work`.
fn shallow_equal<'a>(a: &'a Value, b: &'a Value, work: &mut Vec<(&'a Value, &'a Value)>) -> bool {
    match (a, b) {
        (Value::None, Value::None) => true,
        (Value::Bool(x), Value::Bool(y)) => x == y,
        (Value::Int(x), Value::Int(y)) => x == y,
        (Value::BigInt(x), Value::BigInt(y)) => x == y,
        (Value::Float(x), Value::Float(y)) => x == y,
        (Value::Complex(x), Value::Complex(y)) => x.re == y.re && x.im == y.im,
        (Value::Str(x), Value::Str(y)) => Rc::ptr_eq(x, y) || x.text == y.text,
        (Value::Symbol(x), Value::Symbol(y)) => Rc::ptr_eq(x, y) || x.text == y.text,
        (Value::List(s1, l1), Value::List(s2, l2)) => {
            let (s1, s2) = (*s1 as usize, *s2 as usize);
            if Rc::ptr_eq(l1, l2) && s1 == s2 {
                return true;
            }
            if l1.len().saturating_sub(s1) != l2.len().saturating_sub(s2) {
                return false;
            }
            for (x, y) in l1
                .range(s1.min(l1.len())..)
                .zip(l2.range(s2.min(l2.len())..))
            {
                if !leaf_or_defer(x, y, work) {
                    return false;
                }
            }
            true
        }
        (Value::Dict(d1), Value::Dict(d2)) => {
            if Rc::ptr_eq(d1, d2) {
                return true;
            }
            if d1.len() != d2.len() {
                return false;
            }
            for ((k1, v1), (k2, v2)) in d1.iter().zip(d2.iter()) {
                if !leaf_or_defer(&k1.0, &k2.0, work) || !leaf_or_defer(v1, v2, work) {
                    return false;
                }
            }
            true
        }
        (Value::Set(s1), Value::Set(s2)) => {
            // Members are hashable (no lists, dicts or sets inside), so the
            // lookups below never recurse through another set comparison.
            Rc::ptr_eq(s1, s2) || (s1.len() == s2.len() && s1.iter().all(|k| s2.contains(k)))
        }
        (Value::Struct(x), Value::Struct(y)) => {
            if Rc::ptr_eq(x, y) {
                return true;
            }
            if x.ty != y.ty || x.fields.len() != y.fields.len() {
                return false;
            }
            for (p, q) in x.fields.iter().zip(y.fields.iter()) {
                if !leaf_or_defer(p, q, work) {
                    return false;
                }
            }
            true
        }
        (Value::Closure(f, e), Value::Closure(g, h)) => f == g && Rc::ptr_eq(e, h),
        (Value::Builtin(x), Value::Builtin(y)) => x == y,
        (Value::StructType(x), Value::StructType(y)) => x == y,
        _ => false,
    }
}

/// Compares two children now if that is cheap, else defers them to `work`.
#[inline]
fn leaf_or_defer<'a>(a: &'a Value, b: &'a Value, work: &mut Vec<(&'a Value, &'a Value)>) -> bool {
    match (a, b) {
        (Value::List(..), Value::List(..))
        | (Value::Dict(_), Value::Dict(_))
        | (Value::Struct(_), Value::Struct(_)) => {
            work.push((a, b));
            true
        }
        _ => {
            let mut none = Vec::new();
            shallow_equal(a, b, &mut none)
        }
    }
}

/// Sets of at most this many members are scanned for an integer rather
/// than hashed (a scan of a few members costs less than hashing and
/// probing).
const SMALL_SET_SCAN: usize = 8;

/// Whether `set` holds `x`, a flat key ([`is_flat_key`]). An integer in a
/// small set is found by a scan: an integer key equals exactly the integer
/// keys of the same value (a big integer is never in the small range).
#[inline]
pub fn set_contains_flat(set: &SetObj, x: &Value) -> bool {
    if let Value::Int(i) = x {
        if set.len() <= SMALL_SET_SCAN {
            return set.iter().any(|k| matches!(k.0, Value::Int(j) if j == *i));
        }
    }
    set.contains(&KeyRef(x))
}

/// Whether `v` may be a dict key or set member.
pub fn is_hashable(v: &Value) -> bool {
    unhashable_part(v).is_none()
}

/// The first unhashable value inside `v` (itself, or a struct field), if any.
/// Whether `v` is a key whose hashability needs no check: hashable and
/// not a container, so hashing it does not recurse. The interpreter's hot
/// `set-member?`/`dict-get`/`dict-set` paths take only these (a subset of
/// what `unhashable_part` accepts).
#[inline(always)]
pub fn is_flat_key(v: &Value) -> bool {
    matches!(
        v,
        Value::Bool(_) | Value::Int(_) | Value::Float(_) | Value::Str(_) | Value::Symbol(_)
    )
}

fn unhashable_part(v: &Value) -> Option<&Value> {
    match v {
        Value::Str(_)
        | Value::Int(_)
        | Value::BigInt(_)
        | Value::Float(_)
        | Value::Complex(_)
        | Value::Bool(_)
        | Value::Symbol(_) => return None,
        Value::Struct(_) => {}
        other => return Some(other),
    }
    let mut work = vec![v];
    while let Some(v) = work.pop() {
        match v {
            Value::Str(_)
            | Value::Int(_)
            | Value::BigInt(_)
            | Value::Float(_)
            | Value::Complex(_)
            | Value::Bool(_)
            | Value::Symbol(_) => {}
            Value::Struct(s) => work.extend(s.fields.iter()),
            other => return Some(other),
        }
    }
    None
}

/// Makes `v` a key, or fails with `<op>: unhashable type: <type>`.
pub fn key(v: Value, op: &str) -> RtResult<Key> {
    match unhashable_part(&v) {
        None => Ok(Key(v)),
        Some(bad) => Err(RtError::new(format!(
            "{op}: unhashable type: {}",
            bad.type_name()
        ))),
    }
}

/// Checks that a borrowed value is hashable (for lookups that need no key).
pub fn check_hashable(v: &Value, op: &str) -> RtResult<()> {
    match unhashable_part(v) {
        None => Ok(()),
        Some(bad) => Err(RtError::new(format!(
            "{op}: unhashable type: {}",
            bad.type_name()
        ))),
    }
}

/// Key equality: as `equal`, except that floats compare as Python's dict
/// does for distinct objects that are `==`, plus NaN equal to NaN.
#[inline]
fn key_equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        // The common keys first, without the general comparison's set-up.
        (Value::Int(x), Value::Int(y)) => x == y,
        (Value::Str(x), Value::Str(y)) => Rc::ptr_eq(x, y) || x.text == y.text,
        (Value::Float(x), Value::Float(y)) => float_key_eq(*x, *y),
        (Value::Complex(x), Value::Complex(y)) => {
            float_key_eq(x.re, y.re) && float_key_eq(x.im, y.im)
        }
        (Value::Struct(_), Value::Struct(_)) => key_equal_deep(a, b),
        _ => equal(a, b),
    }
}

/// `key_equal` of two structs, iteratively.
#[inline(never)]
fn key_equal_deep(a: &Value, b: &Value) -> bool {
    let mut work = vec![(a, b)];
    while let Some((a, b)) = work.pop() {
        let same = match (a, b) {
            (Value::Float(x), Value::Float(y)) => float_key_eq(*x, *y),
            (Value::Complex(x), Value::Complex(y)) => {
                float_key_eq(x.re, y.re) && float_key_eq(x.im, y.im)
            }
            (Value::Struct(x), Value::Struct(y)) => {
                if Rc::ptr_eq(x, y) {
                    true
                } else if x.ty != y.ty || x.fields.len() != y.fields.len() {
                    false
                } else {
                    work.extend(x.fields.iter().zip(y.fields.iter()));
                    true
                }
            }
            _ => equal(a, b),
        };
        if !same {
            return false;
        }
    }
    true
}

fn float_key_eq(x: f64, y: f64) -> bool {
    x == y || (x.is_nan() && y.is_nan())
}

/// The bits hashed for a float key: `-0.0` as `0.0`, every NaN alike.
fn float_key_bits(x: f64) -> u64 {
    if x == 0.0 {
        0
    } else if x.is_nan() {
        f64::NAN.to_bits()
    } else {
        x.to_bits()
    }
}

impl PartialEq for Key {
    fn eq(&self, other: &Key) -> bool {
        key_equal(&self.0, &other.0)
    }
}

impl Eq for Key {}

impl Hash for Key {
    fn hash<H: Hasher>(&self, state: &mut H) {
        hash_value(&self.0, state);
    }
}

/// A borrowed value used to look a key up without cloning it (it must be
/// hashable: check with `check_hashable` first).
pub struct KeyRef<'a>(pub &'a Value);

impl Hash for KeyRef<'_> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        hash_value(self.0, state);
    }
}

impl indexmap::Equivalent<Key> for KeyRef<'_> {
    fn equivalent(&self, key: &Key) -> bool {
        key_equal(self.0, &key.0)
    }
}

/// Hashes a key value consistently with `key_equal` (iterative for structs).
/// A small integer key is hashed as its bits alone (one round of the
/// hasher): keys of different types never compare equal, so their hashes
/// need not be kept apart, and integers are the commonest keys.
#[inline]
fn hash_value<H: Hasher>(v: &Value, state: &mut H) {
    match v {
        Value::Int(i) => state.write_u64(*i as u64),
        Value::Struct(_) => hash_struct(v, state),
        _ => hash_one(v, state),
    }
}

/// `hash_value` of a struct: its type, field count and fields, in order
/// (out of line: the work list would weigh on the common keys' path).
#[inline(never)]
fn hash_struct<H: Hasher>(v: &Value, state: &mut H) {
    let mut work = vec![v];
    while let Some(v) = work.pop() {
        hash_one(v, state);
        if let Value::Struct(s) = v {
            work.extend(s.fields.iter().rev());
        }
    }
}

/// Hashes one value; a struct contributes its type and field count only
/// (its fields are hashed by the caller).
fn hash_one<H: Hasher>(v: &Value, state: &mut H) {
    match v {
        Value::None => 0u8.hash(state),
        Value::Bool(b) => {
            1u8.hash(state);
            b.hash(state);
        }
        Value::Int(i) => {
            2u8.hash(state);
            i.hash(state);
        }
        Value::BigInt(n) => {
            3u8.hash(state);
            n.hash(state);
        }
        Value::Float(x) => {
            4u8.hash(state);
            float_key_bits(*x).hash(state);
        }
        Value::Complex(c) => {
            5u8.hash(state);
            float_key_bits(c.re).hash(state);
            float_key_bits(c.im).hash(state);
        }
        Value::Str(s) => {
            6u8.hash(state);
            s.text.hash(state);
        }
        Value::Symbol(s) => {
            7u8.hash(state);
            s.text.hash(state);
        }
        Value::Struct(s) => {
            8u8.hash(state);
            s.ty.hash(state);
            s.fields.len().hash(state);
        }
        // Not hashable: never inside a `Key` made by `key`; hash the type
        // only, which is consistent with any equality.
        other => {
            9u8.hash(state);
            other.type_name().hash(state);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use num_bigint::BigInt;

    fn set_of(values: impl IntoIterator<Item = Value>) -> SetObj {
        values
            .into_iter()
            .map(|v| key(v, "test").expect("hashable"))
            .collect()
    }

    /// The scan of a small set and the hashed lookup of a larger one agree
    /// with `key_equal`: an integer finds only an equal integer (not a
    /// float, a big integer or a string).
    #[test]
    fn set_lookup_by_scan_and_by_hash_agree() {
        let others = || {
            [
                Value::Float(4.0),
                Value::BigInt(Rc::new(BigInt::from(1) << 70)),
                Value::str("4"),
            ]
        };
        let small = set_of([1, 2, 3].map(Value::Int).into_iter().chain(others()));
        let large = set_of((1..=3).chain(10..20).map(Value::Int).chain(others()));
        assert!(small.len() <= SMALL_SET_SCAN && large.len() > SMALL_SET_SCAN);
        for set in [&small, &large] {
            for i in [1, 2, 3] {
                assert!(set_contains_flat(set, &Value::Int(i)));
            }
            assert!(!set_contains_flat(set, &Value::Int(4)));
            assert!(!set_contains_flat(set, &Value::Int(0)));
            assert!(set_contains_flat(set, &Value::Float(4.0)));
            assert!(set_contains_flat(set, &Value::str("4")));
            assert!(!set_contains_flat(set, &Value::Float(1.0)));
        }
        assert!(set_contains_flat(&large, &Value::Int(15)));
    }
}
