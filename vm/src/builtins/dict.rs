//! Native builtins of the dict family (codes 180-199). A dict is an
//! `IndexMap<Key, Value>`: insertion order is kept, updating a key keeps its
//! position, and `dict-set`/`dict-remove`/`dict-merge` update in place when
//! the dict argument was moved in (last use) and is unshared.

use super::misc::type_error;
use super::{Args, Ctx};
use crate::equality::{check_hashable, equal, key, KeyRef};
use crate::error::{RtError, RtResult};
use crate::value::{DictObj, Value};
use menai_bytecode::Builtin;
use std::rc::Rc;

/// Builds a dict from alternating keys and values (a `makedict`
/// instruction or a `dict` call). A repeated key keeps its first position
/// and takes the last value.
pub fn make_dict(vals: impl IntoIterator<Item = Value>) -> RtResult<Value> {
    let mut map = DictObj::default();
    let mut it = vals.into_iter();
    while let Some(k) = it.next() {
        let Some(v) = it.next() else {
            return Err(RtError::new(
                "dict: expected an even number of arguments (key value pairs)",
            ));
        };
        map.insert(key(k, "dict")?, v);
    }
    Ok(Value::Dict(Rc::new(map)))
}

pub fn call(_ctx: &Ctx, id: Builtin, args: &mut Args) -> RtResult<Value> {
    let op = id.name();
    let v = match id {
        Builtin::Dict => {
            let n = args.len();
            if !n.is_multiple_of(2) {
                return Err(RtError::new(format!(
                    "{op}: expected an even number of arguments, got {n}"
                )));
            }
            let vals: Vec<Value> = (0..n).map(|i| args.take(i)).collect();
            make_dict(vals)?
        }
        Builtin::DictP => Value::Bool(matches!(args.get(0), Value::Dict(_))),
        Builtin::DictEq | Builtin::DictNe => {
            let all = args.all();
            let mut eq = true;
            for i in 0..all.len().saturating_sub(1) {
                expect_dict(&all[i], op)?;
                expect_dict(&all[i + 1], op)?;
                if !equal(&all[i], &all[i + 1]) {
                    eq = false;
                    break;
                }
            }
            Value::Bool(eq == (id == Builtin::DictEq))
        }
        Builtin::DictGet => {
            let d = expect_dict(args.get(0), op)?;
            let k = args.get(1);
            check_hashable(k, op)?;
            match d.get(&KeyRef(k)) {
                Some(v) => v.clone(),
                None if args.len() > 2 => args.take(2),
                None => Value::None,
            }
        }
        Builtin::DictSet => {
            expect_dict(args.get(0), op)?;
            let k = key(args.take(1), op)?;
            let v = args.take(2);
            let mut rc = owned_dict(args.take(0), op)?;
            Rc::make_mut(&mut rc).insert(k, v);
            Value::Dict(rc)
        }
        Builtin::DictRemove => {
            expect_dict(args.get(0), op)?;
            let k = key(args.take(1), op)?;
            if !expect_dict(args.get(0), op)?.contains_key(&k) {
                return Ok(args.take(0));
            }
            let mut rc = owned_dict(args.take(0), op)?;
            Rc::make_mut(&mut rc).shift_remove(&k);
            Value::Dict(rc)
        }
        Builtin::DictHasP => {
            let d = expect_dict(args.get(0), op)?;
            let k = args.get(1);
            check_hashable(k, op)?;
            Value::Bool(d.contains_key(&KeyRef(k)))
        }
        Builtin::DictKeys => {
            let d = expect_dict(args.get(0), op)?;
            Value::list_from(d.keys().map(|k| k.0.clone()).collect())
        }
        Builtin::DictValues => {
            let d = expect_dict(args.get(0), op)?;
            Value::list_from(d.values().cloned().collect())
        }
        Builtin::DictLength => Value::Int(expect_dict(args.get(0), op)?.len() as i64),
        Builtin::DictMerge => {
            expect_dict(args.get(0), op)?;
            expect_dict(args.get(1), op)?;
            let second = args.take(1);
            let mut rc = owned_dict(args.take(0), op)?;
            match second.into_dict() {
                Ok(mut other) => {
                    let target = Rc::make_mut(&mut rc);
                    match Rc::get_mut(&mut other) {
                        Some(o) => {
                            for (k, v) in o.drain(..) {
                                target.insert(k, v);
                            }
                        }
                        None => {
                            for (k, v) in other.iter() {
                                target.insert(k.clone(), v.clone());
                            }
                        }
                    }
                }
                Err(other) => return Err(type_error(op, "dict", &other)),
            }
            Value::Dict(rc)
        }
        _ => return Err(RtError::new(format!("{op}: not a dict builtin"))),
    };
    Ok(v)
}

fn expect_dict<'a>(v: &'a Value, op: &str) -> RtResult<&'a DictObj> {
    match v {
        Value::Dict(d) => Ok(d),
        other => Err(type_error(op, "dict", other)),
    }
}

/// The dict behind a value (shared or not; `Rc::make_mut` copies if shared).
fn owned_dict(v: Value, op: &str) -> RtResult<Rc<DictObj>> {
    v.into_dict()
        .map_err(|other| type_error(op, "dict", &other))
}
