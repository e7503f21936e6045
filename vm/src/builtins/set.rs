//! Native builtins of the set family (codes 200-219). A set is an
//! `IndexSet<Key>` in first-insertion order; `set-add`, `set-remove` and
//! `set-union` update in place when the set argument was moved in (last
//! use) and is unshared. Results of intersection and difference keep the
//! first set's order.

use super::misc::type_error;
use super::{Args, Ctx};
use crate::equality::{check_hashable, equal, key, KeyRef};
use crate::error::{RtError, RtResult};
use crate::value::{SetObj, Value};
use menai_bytecode::Builtin;
use std::rc::Rc;

/// Builds a set from the values of a `makeset` instruction or a `set` call.
pub fn make_set(vals: impl IntoIterator<Item = Value>) -> RtResult<Value> {
    let mut set = SetObj::default();
    for v in vals {
        set.insert(key(v, "set")?);
    }
    Ok(Value::Set(Rc::new(set)))
}

pub fn call(_ctx: &Ctx, id: Builtin, args: &mut Args) -> RtResult<Value> {
    let op = id.name();
    let v = match id {
        Builtin::Set => {
            let vals: Vec<Value> = (0..args.len()).map(|i| args.take(i)).collect();
            make_set(vals)?
        }
        Builtin::SetP => Value::Bool(matches!(args.get(0), Value::Set(_))),
        Builtin::SetEq | Builtin::SetNe => {
            let all = args.all();
            let mut eq = true;
            for i in 0..all.len().saturating_sub(1) {
                expect_set(&all[i], op)?;
                expect_set(&all[i + 1], op)?;
                if !equal(&all[i], &all[i + 1]) {
                    eq = false;
                    break;
                }
            }
            Value::Bool(eq == (id == Builtin::SetEq))
        }
        Builtin::SetMemberP => {
            let s = expect_set(args.get(0), op)?;
            let x = args.get(1);
            check_hashable(x, op)?;
            Value::Bool(s.contains(&KeyRef(x)))
        }
        Builtin::SetAdd => {
            expect_set(args.get(0), op)?;
            let k = key(args.take(1), op)?;
            if expect_set(args.get(0), op)?.contains(&k) {
                return Ok(args.take(0));
            }
            let mut rc = owned_set(args.take(0), op)?;
            Rc::make_mut(&mut rc).insert(k);
            Value::Set(rc)
        }
        Builtin::SetRemove => {
            expect_set(args.get(0), op)?;
            let k = key(args.take(1), op)?;
            if !expect_set(args.get(0), op)?.contains(&k) {
                return Ok(args.take(0));
            }
            let mut rc = owned_set(args.take(0), op)?;
            Rc::make_mut(&mut rc).shift_remove(&k);
            Value::Set(rc)
        }
        Builtin::SetLength => Value::Int(expect_set(args.get(0), op)?.len() as i64),
        Builtin::SetUnion => {
            expect_set(args.get(0), op)?;
            expect_set(args.get(1), op)?;
            let second = args.take(1);
            let mut rc = owned_set(args.take(0), op)?;
            let target = Rc::make_mut(&mut rc);
            if let Value::Set(b) = &second {
                for k in b.iter() {
                    target.insert(k.clone());
                }
            }
            Value::Set(rc)
        }
        Builtin::SetIntersection => {
            let a = expect_set(args.get(0), op)?;
            let b = expect_set(args.get(1), op)?;
            Value::Set(Rc::new(
                a.iter().filter(|k| b.contains(*k)).cloned().collect(),
            ))
        }
        Builtin::SetDifference => {
            let a = expect_set(args.get(0), op)?;
            let b = expect_set(args.get(1), op)?;
            Value::Set(Rc::new(
                a.iter().filter(|k| !b.contains(*k)).cloned().collect(),
            ))
        }
        Builtin::SetSubsetP => {
            let a = expect_set(args.get(0), op)?;
            let b = expect_set(args.get(1), op)?;
            Value::Bool(a.len() <= b.len() && a.iter().all(|k| b.contains(k)))
        }
        Builtin::SetToList => {
            let s = expect_set(args.get(0), op)?;
            Value::list_from(s.iter().map(|k| k.0.clone()).collect())
        }
        _ => return Err(RtError::new(format!("{op}: not a set builtin"))),
    };
    Ok(v)
}

fn expect_set<'a>(v: &'a Value, op: &str) -> RtResult<&'a SetObj> {
    match v {
        Value::Set(s) => Ok(s),
        other => Err(type_error(op, "set", other)),
    }
}

/// The set behind a value (shared or not; `Rc::make_mut` copies if shared).
fn owned_set(v: Value, op: &str) -> RtResult<Rc<SetObj>> {
    v.into_set().map_err(|other| type_error(op, "set", &other))
}
