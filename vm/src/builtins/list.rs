//! Native builtins of the list family (codes 150-179) and `range` (240).
//!
//! A list is `List(start, Rc<VecDeque>)`, the elements `buf[start..]`.
//! `list-rest` shares the buffer (O(1)); `list-prepend`, `list-append`,
//! `list-concat`, `list-reverse` and `list-remove` update the buffer in
//! place when the argument was moved in (last use) and is unshared,
//! dropping any `start` prefix first.

use super::misc::{expect_bigint, expect_str, index_arg, int_value, type_error};
use super::{Args, Ctx};
use crate::equality::{equal, key};
use crate::error::{RtError, RtResult};
use crate::value::{ListBuf, SetObj, Str, Value};
use compact_str::CompactString;
use menai_bytecode::Builtin;
use num_bigint::BigInt;
use num_traits::{Signed, ToPrimitive, Zero};
use std::collections::VecDeque;
use std::rc::Rc;

/// Builds a list from the values of a `makelist` instruction or a `list` call.
pub fn make_list(vals: impl IntoIterator<Item = Value>) -> RtResult<Value> {
    Ok(Value::list_from(vals.into_iter().collect()))
}

pub fn call(_ctx: &Ctx, id: Builtin, args: &mut Args) -> RtResult<Value> {
    let op = id.name();
    let v = match id {
        Builtin::List => {
            let mut buf = VecDeque::with_capacity(args.len());
            for i in 0..args.len() {
                buf.push_back(args.take(i));
            }
            Value::list_from(buf)
        }
        Builtin::ListP => Value::Bool(matches!(args.get(0), Value::List(..))),
        Builtin::ListEq | Builtin::ListNe => {
            let all = args.all();
            let mut eq = true;
            for i in 0..all.len().saturating_sub(1) {
                expect_list(&all[i], op)?;
                expect_list(&all[i + 1], op)?;
                if !equal(&all[i], &all[i + 1]) {
                    eq = false;
                    break;
                }
            }
            Value::Bool(eq == (id == Builtin::ListEq))
        }
        Builtin::ListPrepend | Builtin::ListAppend => {
            expect_list(args.get(0), op)?;
            let x = args.take(1);
            let mut buf = owned_buf(args.take(0), op, 1)?;
            let b = Rc::make_mut(&mut buf);
            if id == Builtin::ListPrepend {
                b.push_front(x);
            } else {
                b.push_back(x);
            }
            Value::List(0, buf)
        }
        Builtin::ListConcat => {
            for v in args.all() {
                expect_list(v, op)?;
            }
            if args.is_empty() {
                return Ok(Value::empty_list());
            }
            let extra: usize = args.all()[1..].iter().map(list_len).sum();
            super::room_for(super::list_bytes(extra), op)?;
            let mut buf = owned_buf(args.take(0), op, extra)?;
            let b = Rc::make_mut(&mut buf);
            for i in 1..args.len() {
                let part = args.take(i);
                match part.into_list() {
                    Ok((start, mut rc)) => match Rc::get_mut(&mut rc) {
                        Some(other) => {
                            let s = (start as usize).min(other.len());
                            b.extend(other.drain(s..));
                        }
                        None => b.extend(elems(&rc, start).cloned()),
                    },
                    Err(other) => return Err(type_error(op, "list", &other)),
                }
            }
            Value::List(0, buf)
        }
        Builtin::ListReverse => {
            expect_list(args.get(0), op)?;
            let mut buf = owned_buf(args.take(0), op, 0)?;
            let b = Rc::make_mut(&mut buf);
            b.make_contiguous().reverse();
            Value::List(0, buf)
        }
        Builtin::ListFirst => {
            let (start, buf) = expect_list(args.get(0), op)?;
            match elems(buf, start).next() {
                Some(x) => x.clone(),
                None => return Err(empty(op)),
            }
        }
        Builtin::ListLast => {
            let (start, buf) = expect_list(args.get(0), op)?;
            match elems(buf, start).next_back() {
                Some(x) => x.clone(),
                None => return Err(empty(op)),
            }
        }
        Builtin::ListRest => {
            let (start, buf) = expect_list(args.get(0), op)?;
            if elems(buf, start).len() == 0 {
                return Err(empty(op));
            }
            match args.take(0).into_list() {
                Ok((start, mut rc)) => match Rc::get_mut(&mut rc) {
                    Some(b) => {
                        let s = (start as usize).min(b.len());
                        if s > 0 {
                            b.drain(..s);
                        }
                        b.pop_front();
                        Value::List(0, rc)
                    }
                    None => match start.checked_add(1) {
                        Some(s) => Value::List(s, rc),
                        None => Value::list_from(elems(&rc, start).skip(1).cloned().collect()),
                    },
                },
                Err(other) => return Err(type_error(op, "list", &other)),
            }
        }
        Builtin::ListRef => {
            let (start, buf) = expect_list(args.get(0), op)?;
            let len = elems(buf, start).len();
            let i = index_arg(args.get(1), len, false, op, "list")?;
            match buf.get(start as usize + i) {
                Some(x) => x.clone(),
                None => return Err(RtError::new(format!("{op}: index {i} out of range"))),
            }
        }
        Builtin::ListLength => {
            let (start, buf) = expect_list(args.get(0), op)?;
            Value::Int(elems(buf, start).len() as i64)
        }
        Builtin::ListNullP => {
            let (start, buf) = expect_list(args.get(0), op)?;
            Value::Bool(elems(buf, start).len() == 0)
        }
        Builtin::ListMemberP => {
            let (start, buf) = expect_list(args.get(0), op)?;
            let x = args.get(1);
            Value::Bool(elems(buf, start).any(|e| equal(e, x)))
        }
        Builtin::ListIndex => {
            let (start, buf) = expect_list(args.get(0), op)?;
            let x = args.get(1);
            match elems(buf, start).position(|e| equal(e, x)) {
                Some(i) => Value::Int(i as i64),
                None => Value::None,
            }
        }
        Builtin::ListRemove => {
            expect_list(args.get(0), op)?;
            let x = args.take(1);
            let mut buf = owned_buf(args.take(0), op, 0)?;
            let b = Rc::make_mut(&mut buf);
            b.retain(|e| !equal(e, &x));
            Value::List(0, buf)
        }
        Builtin::ListSlice => {
            let (start, buf) = expect_list(args.get(0), op)?;
            let len = elems(buf, start).len();
            let from = index_arg(args.get(1), len, true, op, "list")?;
            let to = if args.len() > 2 {
                index_arg(args.get(2), len, true, op, "list")?
            } else {
                len
            };
            if from > to {
                return Err(RtError::new(format!(
                    "{op}: start index {from} is greater than end index {to}"
                )));
            }
            let shared_start = (start as usize + from).to_u32();
            match shared_start {
                // A suffix shares the buffer.
                Some(s) if to == len => Value::List(s, buf.clone()),
                _ => Value::list_from(
                    elems(buf, start)
                        .skip(from)
                        .take(to - from)
                        .cloned()
                        .collect(),
                ),
            }
        }
        Builtin::ListToString => {
            let (start, buf) = expect_list(args.get(0), op)?;
            let sep = if args.len() > 1 {
                expect_str(args.get(1), op)?.text.as_str()
            } else {
                ""
            };
            // One pass for the types and sizes, one to copy: the result
            // is allocated once, and its length in codepoints is summed,
            // not recounted.
            let (mut bytes, mut chars) = (0usize, 0usize);
            for e in elems(buf, start) {
                let s = expect_str(e, op)?;
                bytes = bytes.saturating_add(s.text.len());
                chars += s.chars;
            }
            let n = elems(buf, start).len();
            let seps = n.saturating_sub(1);
            bytes = bytes.saturating_add(sep.len().saturating_mul(seps));
            super::room_for(bytes, op)?;
            let sep_chars = if seps > 0 { sep.chars().count() } else { 0 };
            // Built as a `String` (cheaper appends); a long one keeps its
            // buffer in the conversion, a short one is copied inline.
            let mut out = String::with_capacity(bytes);
            for (i, e) in elems(buf, start).enumerate() {
                if i > 0 {
                    out.push_str(sep);
                }
                if let Value::Str(s) = e {
                    out.push_str(&s.text);
                }
            }
            Value::Str(Rc::new(Str {
                text: CompactString::from(out),
                chars: chars + sep_chars * seps,
            }))
        }
        Builtin::ListToSet => {
            let (start, buf) = expect_list(args.get(0), op)?;
            let mut set =
                SetObj::with_capacity_and_hasher(elems(buf, start).len(), Default::default());
            for e in elems(buf, start) {
                set.insert(key(e.clone(), op)?);
            }
            Value::Set(Rc::new(set))
        }
        Builtin::Range => range(args, op)?,
        _ => return Err(RtError::new(format!("{op}: not a native list builtin"))),
    };
    Ok(v)
}

/// A list argument as (start, buffer).
fn expect_list<'a>(v: &'a Value, op: &str) -> RtResult<(u32, &'a Rc<ListBuf>)> {
    match v {
        Value::List(start, buf) => Ok((*start, buf)),
        other => Err(type_error(op, "list", other)),
    }
}

fn list_len(v: &Value) -> usize {
    match v {
        Value::List(start, buf) => elems(buf, *start).len(),
        _ => 0,
    }
}

/// The elements `buf[start..]`.
fn elems(buf: &ListBuf, start: u32) -> std::collections::vec_deque::Iter<'_, Value> {
    buf.range((start as usize).min(buf.len())..)
}

fn empty(op: &str) -> RtError {
    RtError::new(format!("{op}: empty list"))
}

/// The list's elements in a buffer this call may mutate, starting at 0:
/// the list's own buffer when it is unshared (prefix dropped), else a copy
/// with room for `extra` more elements. The result is unshared, so
/// `Rc::make_mut` on it never clones.
fn owned_buf(v: Value, op: &str, extra: usize) -> RtResult<Rc<ListBuf>> {
    match v.into_list() {
        Ok((start, mut rc)) => {
            if let Some(b) = Rc::get_mut(&mut rc) {
                let s = (start as usize).min(b.len());
                if s > 0 {
                    b.drain(..s);
                }
                return Ok(rc);
            }
            let items = elems(&rc, start);
            let mut copy = VecDeque::new();
            copy.try_reserve(items.len() + extra)
                .map_err(|_| RtError::new(format!("{op}: out of memory")))?;
            copy.extend(items.cloned());
            Ok(Rc::new(copy))
        }
        Err(other) => Err(type_error(op, "list", &other)),
    }
}

/// `(range start end [step])`: integers from start toward end, exclusive.
fn range(args: &Args, op: &str) -> RtResult<Value> {
    let int = |v: &Value| expect_bigint(v, op);
    let small = |v: &Value| match v {
        Value::Int(i) => Some(*i),
        _ => None,
    };
    let start_v = args.get(0);
    let end_v = args.get(1);
    let step_v = if args.len() > 2 {
        Some(args.get(2))
    } else {
        None
    };
    // Type-check everything first.
    int(start_v)?;
    int(end_v)?;
    if let Some(s) = step_v {
        if int(s)?.is_zero() {
            return Err(RtError::new(format!("{op}: step must not be zero")));
        }
    }
    let too_many = || RtError::new(format!("{op}: too many elements"));
    let fast = (small(start_v), small(end_v), step_v.map_or(Some(1), small));
    if let (Some(a), Some(b), Some(s)) = fast {
        let (a, b, s) = (a as i128, b as i128, s as i128);
        let count = if s > 0 {
            if b > a {
                (b - a + s - 1) / s
            } else {
                0
            }
        } else if a > b {
            (a - b + (-s) - 1) / (-s)
        } else {
            0
        };
        let count = usize::try_from(count).map_err(|_| too_many())?;
        super::room_for(super::list_bytes(count), op)?;
        let mut buf = VecDeque::new();
        buf.try_reserve(count).map_err(|_| too_many())?;
        let mut x = a;
        for _ in 0..count {
            // In i64 range: between start and end inclusive.
            buf.push_back(Value::Int(x as i64));
            x += s;
        }
        return Ok(Value::list_from(buf));
    }
    let (a, b) = (int(start_v)?, int(end_v)?);
    let s = match step_v {
        Some(v) => int(v)?,
        None => BigInt::from(1),
    };
    let span = if s.is_positive() { &b - &a } else { &a - &b };
    let count = if span.is_positive() {
        let st = s.abs();
        (span + &st - 1u32) / st
    } else {
        BigInt::zero()
    };
    let count = count.to_usize().ok_or_else(too_many)?;
    super::room_for(super::list_bytes(count), op)?;
    let mut buf = VecDeque::new();
    buf.try_reserve(count).map_err(|_| too_many())?;
    let mut x = a;
    for _ in 0..count {
        buf.push_back(int_value(x.clone()));
        x += &s;
    }
    Ok(Value::list_from(buf))
}
